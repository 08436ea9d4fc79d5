/*
 * tensor_write.c — TensorProto encoding: the .pb tensor files of ONNX's test
 * layout (test_data_set_N/input_K.pb), and the tensors inside models
 * (initializers, tensor attributes) written by the model builder.
 *
 * Data always goes into raw_data, little-endian, as the ONNX spec requires of
 * raw_data; that is one path for every fixed-width dtype, including those
 * (bfloat16, float8, packed int4) that the typed *_data fields encode
 * awkwardly.  Fields are written in field-number order, as the reference
 * protobuf serializer does.  Parsing .pb files is onnx_tensor.c's job.
 */
#include "onnx/pbw.h"
#include "onnx/writer.h"

#include <stdlib.h>
#include <string.h>

/* TensorProto field numbers (onnx/onnx.proto). */
enum {
    TENSOR_DIMS = 1,
    TENSOR_DATA_TYPE = 2,
    TENSOR_NAME = 8,
    TENSOR_RAW_DATA = 9
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NT_HOST_BIG_ENDIAN 1
#else
#define NT_HOST_BIG_ENDIAN 0
#endif

/* Whether raw_data can carry dtype: every type with a fixed-width layout. */
static bool raw_encodable(nt_dtype dtype)
{
    switch (dtype) {
    case NT_DTYPE_UNDEFINED:
    case NT_DTYPE_STRING:
        return false;
    default:
        return (int)dtype > 0 && dtype < NT_DTYPE_COUNT;
    }
}

nt_status nt_onnx_encode_tensor(nt_buf *b, uint32_t field, const nt_tensor *t, const char *name)
{
    const char *label = name && *name ? name : "tensor";
    if (!t)
        return nt_error(NT_ERR_INVALID_ARG, "%s: no tensor to encode", label);
    if (!raw_encodable(t->dtype))
        return nt_error(NT_ERR_UNSUPPORTED, "%s: cannot write a %s tensor as a TensorProto", label,
                        nt_dtype_onnx_name(t->dtype));
    if (t->ndim < 0 || t->ndim > NT_MAX_DIMS)
        return nt_error(NT_ERR_INVALID_ARG, "%s: cannot write a tensor of rank %d", label, t->ndim);
    for (int i = 0; i < t->ndim; i++)
        if (t->dims[i] < 0)
            return nt_error(NT_ERR_INVALID_ARG, "%s: cannot write a tensor whose dimension %d is unknown", label, i);
    size_t nbytes = nt_tensor_nbytes(t);
    if (nbytes && !t->data)
        return nt_error(NT_ERR_INVALID_ARG, "%s: tensor has no data", label);

    size_t mark = 0;
    if (field)
        mark = nt_pbw_begin(b, field);
    /* proto2 repeated int64 is not packed: one tag per dim, as onnx writes. */
    for (int i = 0; i < t->ndim; i++)
        nt_pbw_uint(b, TENSOR_DIMS, (uint64_t)t->dims[i]);
    nt_pbw_uint(b, TENSOR_DATA_TYPE, (uint64_t)t->dtype);
    if (name && *name)
        nt_pbw_string(b, TENSOR_NAME, name);
    if (nt_dtype_bits(t->dtype) < 8) {
        /* Sub-byte types: one element per byte in memory, packed in the file. */
        int64_t n = nt_tensor_numel(t);
        nbytes = nt_dtype_packed_bytes(t->dtype, n);
        uint8_t *packed = nt_malloc(nbytes ? nbytes : 1);
        if (!packed)
            return NT_ERR_NOMEM;
        nt_narrow_pack(t->dtype, t->data, n, packed);
        nt_pbw_bytes(b, TENSOR_RAW_DATA, packed, nbytes);
        free(packed);
    } else {
        nt_pbw_bytes(b, TENSOR_RAW_DATA, t->data, nbytes);
    }
    if (NT_HOST_BIG_ENDIAN && nbytes && !b->failed) {
        size_t w = nt_dtype_size(t->dtype);
        if (t->dtype == NT_DTYPE_COMPLEX64 || t->dtype == NT_DTYPE_COMPLEX128)
            w /= 2;
        if (w > 1)
            nt_swap_bytes(b->data + b->len - nbytes, nbytes / w, w);
    }
    if (field)
        nt_pbw_end(b, mark);
    if (b->failed)
        return nt_error(NT_ERR_NOMEM, "%s: out of memory encoding %zu bytes", label, nbytes);
    return NT_OK;
}

nt_status nt_pb_tensor_save(const char *path, const nt_tensor *t, const char *name)
{
    if (!path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_pb_tensor_save: no path");
    nt_buf b;
    nt_buf_init(&b);
    nt_status s = nt_onnx_encode_tensor(&b, 0, t, name);
    if (s != NT_OK)
        s = nt_error_wrap(s, "%s", path);
    else
        s = nt_write_file(path, b.data ? b.data : "", b.len);
    nt_buf_deinit(&b);
    return s;
}
