/*
 * onnx_tensor.h — ONNX TensorProto decoding, shared by the model loader
 * (initializers, tensor attributes) and the .pb tensor-file reader, plus
 * the loader's external-data maps.
 *
 * Decoding is two steps.  nt_tproto_scan walks the message once and
 * records where everything is (name, dims, data type, which data field,
 * how many values) without copying.  nt_tproto_decode then places the data:
 *
 *   - raw_data is borrowed in place (the tensor points into the caller's
 *     buffer, no NT_TENSOR_OWNS_DATA) when decoding into an arena, or
 *     copied into owned memory for a free-standing tensor;
 *   - typed fields (float_data, int32_data, ...) are always decoded into new
 *     memory (the arena's, or owned), converting to the element layout.
 *
 * STRING tensors hold `const char *` per element (NUL-terminated; the
 * pointers and the bytes live in the same block as the data pointer, so
 * freeing the data frees all).  nt_tensor_nbytes() is 0 for them; capacity
 * holds the block size.
 */
#ifndef NT_ONNX_TENSOR_H
#define NT_ONNX_TENSOR_H

#include "graph/ir.h"
#include "onnx/pb.h"

/* TensorProto field numbers (onnx.proto). */
enum {
    NT_TP_DIMS = 1, NT_TP_DATA_TYPE = 2, NT_TP_SEGMENT = 3, NT_TP_FLOAT_DATA = 4,
    NT_TP_INT32_DATA = 5, NT_TP_STRING_DATA = 6, NT_TP_INT64_DATA = 7, NT_TP_NAME = 8,
    NT_TP_RAW_DATA = 9, NT_TP_DOUBLE_DATA = 10, NT_TP_UINT64_DATA = 11, NT_TP_DOC = 12,
    NT_TP_EXTERNAL_DATA = 13, NT_TP_DATA_LOCATION = 14
};

/* Where a TensorProto's parts are, as found by nt_tproto_scan. */
typedef struct nt_tproto {
    const uint8_t *msg;           /* the whole message (for the second pass) */
    size_t msg_len;
    int depth;
    const char *name;             /* inside the buffer, not NUL-terminated */
    size_t name_len;
    int64_t data_type;
    int ndim;
    int64_t dims[NT_MAX_DIMS];
    bool has_raw;
    const uint8_t *raw;
    size_t raw_len;
    uint32_t typed_field;         /* field number of the typed data seen, 0 if none */
    size_t n_typed;               /* values in that field (all occurrences) */
    bool mixed_typed;             /* values in more than one typed field */
    bool has_segment;
    bool external;                /* data_location == EXTERNAL */
    const uint8_t *ext_location;  /* external_data "location" value */
    size_t ext_location_len;
    uint64_t ext_offset, ext_length;
    bool has_ext_length;
    bool bad_ext_number;          /* offset or length is not a decimal number */
} nt_tproto;

/* Scans a TensorProto message of `depth` nesting.  NT_ERR_PARSE with a
 * message without context on malformed wire data or a rank over
 * NT_MAX_DIMS (UNSUPPORTED). */
nt_status nt_tproto_scan(const uint8_t *data, size_t len, int depth, nt_tproto *tp);

/* Element count of the scanned shape; NT_ERR_PARSE if a dim is negative or
 * the product (or its byte size) overflows. */
nt_status nt_tproto_numel(const nt_tproto *tp, int64_t *numel, size_t *nbytes);

/*
 * Fills *t (dtype, shape, data) from a scanned, non-external TensorProto.
 * arena != NULL: raw data borrowed in place, typed data in the arena.
 * arena == NULL: everything copied into owned 64-byte-aligned memory.
 * Checks that the data size matches the shape exactly.
 */
nt_status nt_tproto_decode(const nt_tproto *tp, nt_arena *arena, nt_tensor *t);

/* ---- external data (extdata.c); maps live in m->ext until nt_model_free. */

/* Points t at the bytes of an EXTERNAL tensor in its file next to the
 * model (mapped once per file, never copied).  NT_ERR_PARSE for absolute
 * paths, "..", symlinks leading outside the model's folder, and ranges past
 * the end of the file; NT_ERR_IO if the file cannot be opened. */
nt_status nt_extdata_resolve(nt_model *m, const nt_tproto *tp, nt_tensor *t);
/* Unmaps everything nt_extdata_resolve mapped. */
void nt_extdata_free(nt_model *m);
/* memcpy(dst, src, n) of bytes of the model (a misaligned weight copied to
 * align it).  When src lies in the model's file maps (the model or its
 * external data), the pages wholly inside the copied range are given back to
 * the kernel as the copy proceeds, so the weight is never resident twice; the
 * bytes stay readable (they fault back in from the file).  A borrowed buffer
 * (nt_model_load_buffer) is only copied.  (mapping.c) */
void nt_model_copy_out(const nt_model *m, void *dst, const void *src, size_t n);
/* True if [p, p+n) lies inside one of the model's external-data maps. */
bool nt_extdata_maps(const nt_model *m, const void *p, size_t n);

#endif /* NT_ONNX_TENSOR_H */
