/*
 * onnx_tensor.c — TensorProto decoding (see onnx_tensor.h) and the ONNX
 * .pb tensor-file reader (nt_pb_tensor_parse / nt_pb_tensor_load).
 *
 * One table says, per dtype, which typed field carries non-raw data and how
 * wide each stored element is; the decoder is then the same loop for every
 * numeric type: take each value of the field and keep its low `width`
 * little-endian bytes (int32_data carries int8/uint16/float16/bool/... as
 * their bit patterns, which is exactly that).
 */
#include "onnx/onnx_tensor.h"

#include <stdlib.h>
#include <string.h>

/* Per dtype: the typed data field and the bytes one stored value fills. */
static const struct {
    uint32_t field;
    int wire;
    unsigned width;
} typed_layout[NT_DTYPE_COUNT] = {
    [NT_DTYPE_FLOAT] = {NT_TP_FLOAT_DATA, NT_PB_FIXED32, 4},
    [NT_DTYPE_UINT8] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_INT8] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_UINT16] = {NT_TP_INT32_DATA, NT_PB_VARINT, 2},
    [NT_DTYPE_INT16] = {NT_TP_INT32_DATA, NT_PB_VARINT, 2},
    [NT_DTYPE_INT32] = {NT_TP_INT32_DATA, NT_PB_VARINT, 4},
    [NT_DTYPE_INT64] = {NT_TP_INT64_DATA, NT_PB_VARINT, 8},
    [NT_DTYPE_STRING] = {NT_TP_STRING_DATA, NT_PB_LEN, 0},
    [NT_DTYPE_BOOL] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_FLOAT16] = {NT_TP_INT32_DATA, NT_PB_VARINT, 2},
    [NT_DTYPE_DOUBLE] = {NT_TP_DOUBLE_DATA, NT_PB_FIXED64, 8},
    [NT_DTYPE_UINT32] = {NT_TP_UINT64_DATA, NT_PB_VARINT, 4},
    [NT_DTYPE_UINT64] = {NT_TP_UINT64_DATA, NT_PB_VARINT, 8},
    [NT_DTYPE_COMPLEX64] = {NT_TP_FLOAT_DATA, NT_PB_FIXED32, 4},
    [NT_DTYPE_COMPLEX128] = {NT_TP_DOUBLE_DATA, NT_PB_FIXED64, 8},
    [NT_DTYPE_BFLOAT16] = {NT_TP_INT32_DATA, NT_PB_VARINT, 2},
    [NT_DTYPE_FLOAT8E4M3FN] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_FLOAT8E4M3FNUZ] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_FLOAT8E5M2] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_FLOAT8E5M2FNUZ] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    /* 4-bit types: int32_data holds the packed bytes, two values each. */
    [NT_DTYPE_UINT4] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_INT4] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_FLOAT4E2M1] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_FLOAT8E8M0] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    /* 2-bit types: int32_data holds the packed bytes, four values each. */
    [NT_DTYPE_UINT2] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
    [NT_DTYPE_INT2] = {NT_TP_INT32_DATA, NT_PB_VARINT, 1},
};

static const char *typed_field_name(uint32_t f)
{
    switch (f) {
    case NT_TP_FLOAT_DATA: return "float_data";
    case NT_TP_INT32_DATA: return "int32_data";
    case NT_TP_STRING_DATA: return "string_data";
    case NT_TP_INT64_DATA: return "int64_data";
    case NT_TP_DOUBLE_DATA: return "double_data";
    case NT_TP_UINT64_DATA: return "uint64_data";
    default: return "?";
    }
}

static int typed_field_wire(uint32_t f)
{
    switch (f) {
    case NT_TP_FLOAT_DATA: return NT_PB_FIXED32;
    case NT_TP_DOUBLE_DATA: return NT_PB_FIXED64;
    case NT_TP_STRING_DATA: return NT_PB_LEN;
    default: return NT_PB_VARINT;
    }
}

/* int4, uint4, float4e2m1, int2, uint2: packed in files, one per byte in memory. */
static bool is_subbyte(int64_t dt)
{
    return dt > NT_DTYPE_UNDEFINED && dt < NT_DTYPE_COUNT && nt_dtype_bits((nt_dtype)dt) < 8 &&
           dt != NT_DTYPE_STRING;
}

/* Parses a whole non-negative decimal number held in a length-bounded string. */
static bool parse_decimal(const uint8_t *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* One external_data StringStringEntryProto {1: key, 2: value}. */
static nt_status scan_ext_entry(const nt_pb *parent, const nt_pb_field *f, nt_tproto *tp)
{
    nt_pb c;
    nt_status s = nt_pb_sub(parent, f, &c);
    if (s != NT_OK)
        return s;
    const uint8_t *key = NULL, *val = NULL;
    size_t key_len = 0, val_len = 0;
    nt_pb_field e;
    while ((s = nt_pb_next(&c, &e)) == NT_OK && !e.end) {
        if (e.wire != NT_PB_LEN)
            continue;
        if (e.num == 1) {
            key = e.data;
            key_len = e.len;
        } else if (e.num == 2) {
            val = e.data;
            val_len = e.len;
        }
    }
    if (s != NT_OK)
        return nt_error_wrap(s, "external_data");
    if (!key)
        return NT_OK;
    if (key_len == 8 && memcmp(key, "location", 8) == 0) {
        tp->ext_location = val ? val : key + key_len;
        tp->ext_location_len = val_len;
    } else if (key_len == 6 && memcmp(key, "offset", 6) == 0) {
        if (!parse_decimal(val, val_len, &tp->ext_offset))
            tp->bad_ext_number = true;
    } else if (key_len == 6 && memcmp(key, "length", 6) == 0) {
        if (!parse_decimal(val, val_len, &tp->ext_length))
            tp->bad_ext_number = true;
        tp->has_ext_length = true;
    }
    return NT_OK;
}

nt_status nt_tproto_scan(const uint8_t *data, size_t len, int depth, nt_tproto *tp)
{
    memset(tp, 0, sizeof *tp);
    tp->msg = data;
    tp->msg_len = len;
    tp->depth = depth;
    nt_pb c = nt_pb_init(data, len);
    c.depth = depth;
    nt_pb_field f;
    nt_status s;
    while ((s = nt_pb_next(&c, &f)) == NT_OK && !f.end) {
        switch (f.num) {
        case NT_TP_DIMS: {
            size_t n = 0;
            if ((s = nt_pb_count_elems(&f, NT_PB_VARINT, &n)) != NT_OK)
                return nt_error_wrap(s, "dims");
            if (n > (size_t)(NT_MAX_DIMS - tp->ndim))
                return nt_error(NT_ERR_UNSUPPORTED, "tensor rank over %d is not supported", NT_MAX_DIMS);
            size_t pos = 0;
            uint64_t v;
            while (nt_pb_elem_iter(&f, NT_PB_VARINT, &pos, &v))
                tp->dims[tp->ndim++] = (int64_t)v;
            break;
        }
        case NT_TP_DATA_TYPE:
            if ((s = nt_pb_field_int(&f, (uint64_t *)&tp->data_type)) != NT_OK)
                return nt_error_wrap(s, "data_type");
            break;
        case NT_TP_SEGMENT:
            tp->has_segment = true;
            break;
        case NT_TP_NAME:
            if (f.wire != NT_PB_LEN)
                return nt_error(NT_ERR_PARSE, "name: not a string");
            tp->name = (const char *)f.data;
            tp->name_len = f.len;
            break;
        case NT_TP_RAW_DATA:
            if (f.wire != NT_PB_LEN)
                return nt_error(NT_ERR_PARSE, "raw_data: not a byte string");
            tp->has_raw = true;
            tp->raw = f.data;
            tp->raw_len = f.len;
            break;
        case NT_TP_FLOAT_DATA:
        case NT_TP_INT32_DATA:
        case NT_TP_STRING_DATA:
        case NT_TP_INT64_DATA:
        case NT_TP_DOUBLE_DATA:
        case NT_TP_UINT64_DATA: {
            size_t n = 0;
            int wire = typed_field_wire(f.num);
            if (wire == NT_PB_LEN) {
                if (f.wire != NT_PB_LEN)
                    return nt_error(NT_ERR_PARSE, "string_data: not a byte string");
                n = 1;
            } else if ((s = nt_pb_count_elems(&f, wire, &n)) != NT_OK) {
                return nt_error_wrap(s, "%s", typed_field_name(f.num));
            }
            if (n == 0)
                break;
            if (tp->typed_field && tp->typed_field != f.num)
                tp->mixed_typed = true;
            tp->typed_field = f.num;
            tp->n_typed += n;
            break;
        }
        case NT_TP_EXTERNAL_DATA:
            if ((s = scan_ext_entry(&c, &f, tp)) != NT_OK)
                return s;
            break;
        case NT_TP_DATA_LOCATION: {
            uint64_t v;
            if ((s = nt_pb_field_int(&f, &v)) != NT_OK)
                return nt_error_wrap(s, "data_location");
            tp->external = v == 1;
            break;
        }
        default:
            break;   /* doc_string, metadata_props, future fields */
        }
    }
    return s;
}

nt_status nt_tproto_numel(const nt_tproto *tp, int64_t *numel, size_t *nbytes)
{
    int64_t n = 1;
    for (int i = 0; i < tp->ndim; i++) {
        int64_t d = tp->dims[i];
        if (d < 0)
            return nt_error(NT_ERR_PARSE, "dims[%d] is negative (%lld)", i, (long long)d);
        if (d > 0 && n > INT64_MAX / d)
            return nt_error(NT_ERR_PARSE, "the product of dims overflows");
        n *= d;
    }
    size_t bytes = 0;
    int64_t dt = tp->data_type;
    if (dt > NT_DTYPE_UNDEFINED && dt < NT_DTYPE_COUNT) {
        if (is_subbyte(dt)) {
            bytes = nt_dtype_packed_bytes((nt_dtype)dt, n);
        } else if (dt != NT_DTYPE_STRING) {
            size_t es = nt_dtype_size((nt_dtype)dt);
            if ((uint64_t)n > SIZE_MAX / es)
                return nt_error(NT_ERR_PARSE, "tensor of %lld elements overflows the address space",
                                (long long)n);
            bytes = (size_t)n * es;
        }
    }
    *numel = n;
    if (nbytes)
        *nbytes = bytes;
    return NT_OK;
}

static void *data_alloc(nt_arena *arena, size_t n)
{
    /* Some kernels read past nothing, but keep zero-size allocations valid. */
    if (n == 0)
        n = 1;
    return arena ? nt_arena_alloc(arena, n) : nt_aligned_alloc(n);
}

/* STRING tensor: one block of n pointers followed by the NUL-terminated bytes. */
static nt_status decode_strings(const nt_tproto *tp, nt_arena *arena, int64_t n, nt_tensor *t)
{
    size_t total = (size_t)n * sizeof(char *);
    nt_pb c = nt_pb_init(tp->msg, tp->msg_len);
    nt_pb_field f;
    while (nt_pb_next(&c, &f) == NT_OK && !f.end)
        if (f.num == NT_TP_STRING_DATA && f.wire == NT_PB_LEN)
            total += f.len + 1;
    char **ptrs = data_alloc(arena, total);
    if (!ptrs)
        return NT_ERR_NOMEM;
    char *bytes = (char *)(ptrs + n);
    int64_t k = 0;
    c = nt_pb_init(tp->msg, tp->msg_len);
    while (nt_pb_next(&c, &f) == NT_OK && !f.end && k < n) {
        if (f.num != NT_TP_STRING_DATA || f.wire != NT_PB_LEN)
            continue;
        memcpy(bytes, f.data, f.len);
        bytes[f.len] = '\0';
        ptrs[k++] = bytes;
        bytes += f.len + 1;
    }
    t->data = ptrs;
    t->capacity = total;
    if (!arena)
        t->flags |= NT_TENSOR_OWNS_DATA;
    return NT_OK;
}

nt_status nt_tproto_decode(const nt_tproto *tp, nt_arena *arena, nt_tensor *t)
{
    memset(t, 0, sizeof *t);
    int64_t dt = tp->data_type;
    if (dt >= NT_DTYPE_COUNT && dt < 64)
        return nt_error(NT_ERR_UNSUPPORTED, "data_type %lld (a newer ONNX type) is not supported", (long long)dt);
    if (dt <= NT_DTYPE_UNDEFINED || dt >= NT_DTYPE_COUNT)
        return nt_error(NT_ERR_PARSE, "data_type %lld is not an ONNX tensor type", (long long)dt);
    if (tp->has_segment)
        return nt_error(NT_ERR_UNSUPPORTED, "segmented tensors are not supported");
    int64_t n;
    size_t nbytes;
    nt_status s = nt_tproto_numel(tp, &n, &nbytes);
    if (s != NT_OK)
        return s;
    t->dtype = (nt_dtype)dt;
    t->ndim = tp->ndim;
    memcpy(t->dims, tp->dims, sizeof tp->dims);
    if (tp->mixed_typed)
        return nt_error(NT_ERR_PARSE, "data in more than one typed field");

    if (dt == NT_DTYPE_STRING) {
        if (tp->has_raw && tp->raw_len)
            return nt_error(NT_ERR_PARSE, "a STRING tensor cannot use raw_data");
        if (tp->typed_field && tp->typed_field != NT_TP_STRING_DATA)
            return nt_error(NT_ERR_PARSE, "a STRING tensor has its data in %s",
                            typed_field_name(tp->typed_field));
        if ((uint64_t)n != tp->n_typed)
            return nt_error(NT_ERR_PARSE, "string_data has %zu values, the shape needs %lld",
                            tp->n_typed, (long long)n);
        return decode_strings(tp, arena, n, t);
    }

    if (tp->has_raw) {
        if (tp->typed_field)
            return nt_error(NT_ERR_PARSE, "both raw_data and %s are set", typed_field_name(tp->typed_field));
        if (tp->raw_len != nbytes)
            return nt_error(NT_ERR_PARSE, "raw_data holds %zu bytes, the shape needs %zu (%lld x %s)",
                            tp->raw_len, nbytes, (long long)n, nt_dtype_name(t->dtype));
        if (is_subbyte(dt)) {
            /* Packed in the file, one element per byte in memory: unpacked copy. */
            uint8_t *dst = data_alloc(arena, (size_t)n);
            if (!dst)
                return NT_ERR_NOMEM;
            nt_narrow_unpack(t->dtype, tp->raw, n, dst);
            t->data = dst;
            t->capacity = (size_t)n;
            if (!arena)
                t->flags |= NT_TENSOR_OWNS_DATA;
            return NT_OK;
        }
        if (arena) {
            /* Borrowed in place: the buffer (a read-only map) outlives the model's graph. */
            t->data = (void *)tp->raw;
            t->capacity = nbytes;
            return NT_OK;
        }
        t->data = data_alloc(NULL, nbytes);
        if (!t->data)
            return NT_ERR_NOMEM;
        if (nbytes)
            memcpy(t->data, tp->raw, nbytes);
        t->capacity = nbytes;
        t->flags |= NT_TENSOR_OWNS_DATA;
        return NT_OK;
    }

    unsigned width = typed_layout[dt].width;
    uint32_t want = typed_layout[dt].field;
    if (tp->typed_field && tp->typed_field != want)
        return nt_error(NT_ERR_PARSE, "a %s tensor has its data in %s (expected %s)",
                        nt_dtype_onnx_name(t->dtype), typed_field_name(tp->typed_field),
                        typed_field_name(want));
    size_t need = nbytes / width;
    if (tp->n_typed != need)
        return nt_error(NT_ERR_PARSE, "%s has %zu values, the shape needs %zu",
                        typed_field_name(want), tp->n_typed, need);
    uint8_t *dst = data_alloc(arena, nbytes);
    if (!dst)
        return NT_ERR_NOMEM;
    size_t k = 0;
    nt_pb c = nt_pb_init(tp->msg, tp->msg_len);
    nt_pb_field f;
    int wire = typed_layout[dt].wire;
    while (nt_pb_next(&c, &f) == NT_OK && !f.end) {
        if (f.num != want)
            continue;
        size_t pos = 0;
        uint64_t v;
        while (k < need && nt_pb_elem_iter(&f, wire, &pos, &v)) {
            /* Low `width` bytes, little-endian: the element's bit pattern. */
            for (unsigned b = 0; b < width; b++)
                dst[k * width + b] = (uint8_t)(v >> (8 * b));
            k++;
        }
    }
    if (is_subbyte(dt)) {
        uint8_t *elems = data_alloc(arena, (size_t)n);
        if (!elems) {
            if (!arena)
                nt_aligned_free(dst);
            return NT_ERR_NOMEM;
        }
        nt_narrow_unpack(t->dtype, dst, n, elems);
        if (!arena)
            nt_aligned_free(dst);
        dst = elems;
        nbytes = (size_t)n;
    }
    t->data = dst;
    t->capacity = nbytes;
    if (!arena)
        t->flags |= NT_TENSOR_OWNS_DATA;
    return NT_OK;
}

/* ---------------------------------------------------------------- .pb files */

nt_status nt_pb_tensor_parse(const void *buf, size_t len, const char *what, nt_tensor **out,
                             char **name)
{
    *out = NULL;
    if (name)
        *name = NULL;
    if (!what)
        what = "<buffer>";
    if (!buf && len)
        return nt_error(NT_ERR_INVALID_ARG, "%s: no buffer", what);
    nt_tproto tp;
    nt_status s = nt_tproto_scan(buf, len, 0, &tp);
    if (s != NT_OK)
        return nt_error_wrap(s, "%s: TensorProto", what);
    if (tp.data_type == NT_DTYPE_UNDEFINED && !tp.has_raw && !tp.typed_field)
        return nt_error(NT_ERR_PARSE, "%s: not an ONNX TensorProto (no data_type)", what);
    if (tp.external)
        return nt_error(NT_ERR_UNSUPPORTED, "%s: tensor '%.*s' keeps its data in an external file, "
                        "which .pb tensor files may not", what, (int)NT_MIN(tp.name_len, 200),
                        tp.name ? tp.name : "");
    nt_tensor *t = nt_calloc(1, sizeof *t);
    if (!t)
        return NT_ERR_NOMEM;
    s = nt_tproto_decode(&tp, NULL, t);
    if (s != NT_OK) {
        nt_tensor_free(t);
        return nt_error_wrap(s, "%s: tensor '%.*s'", what, (int)NT_MIN(tp.name_len, 200),
                             tp.name ? tp.name : "");
    }
    if (name) {
        *name = nt_strndup(tp.name ? tp.name : "", tp.name_len);
        if (!*name) {
            nt_tensor_free(t);
            return NT_ERR_NOMEM;
        }
    }
    *out = t;
    return NT_OK;
}

nt_status nt_pb_tensor_load(const char *path, nt_tensor **out, char **name)
{
    *out = NULL;
    if (name)
        *name = NULL;
    if (!path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_pb_tensor_load: no path");
    char *data;
    size_t len;
    nt_status s = nt_read_file(path, &data, &len);
    if (s != NT_OK)
        return s;
    s = nt_pb_tensor_parse(data, len, path, out, name);
    free(data);
    return s;
}

/* ---------------------------------------------------------------- sequences, optionals */

/* SequenceProto {2: elem_type, 3: tensor_values, 5: sequence_values,
 * 7: optional_values} or OptionalProto {2: elem_type, 3: tensor_value,
 * 5: sequence_value, 7: optional_value}: the same field numbers, so one
 * reader builds either container (elem_type 1 tensor, 3 sequence,
 * 5 optional; sparse tensors and maps are declined). */
static nt_status value_parse(const uint8_t *buf, size_t len, int depth, bool optional, const char *what,
                             nt_tensor **out)
{
    *out = NULL;
    if (depth > 16)
        return nt_error(NT_ERR_PARSE, "%s: sequences nested too deeply", what);
    nt_tensor *c;
    nt_status s = nt_seq_new(optional, NT_DTYPE_UNDEFINED, &c);
    if (s != NT_OK)
        return s;
    nt_pb p = nt_pb_init(buf, len);
    nt_pb_field f;
    while (s == NT_OK && (s = nt_pb_next(&p, &f)) == NT_OK && !f.end) {
        if (f.num == 4 || f.num == 6) {
            s = nt_error(NT_ERR_UNSUPPORTED, "%s: sparse tensors and maps inside a %s are not supported", what,
                         optional ? "optional" : "sequence");
        } else if (f.num == 3 || f.num == 5 || f.num == 7) {
            if (f.wire != NT_PB_LEN) {
                s = nt_error(NT_ERR_PARSE, "%s: field %u is not a message", what, (unsigned)f.num);
                break;
            }
            nt_tensor *item = NULL;
            if (f.num == 3) {
                char *name = NULL;
                s = nt_pb_tensor_parse(f.data, f.len, what, &item, &name);
                free(name);
            } else {
                s = value_parse(f.data, f.len, depth + 1, f.num == 7, what, &item);
            }
            if (s == NT_OK)
                s = nt_seq_append(c, item);
        }
    }
    if (s != NT_OK) {
        nt_tensor_free(c);
        return s;
    }
    *out = c;
    return NT_OK;
}

nt_status nt_pb_value_load(const char *path, bool optional, nt_tensor **out)
{
    *out = NULL;
    if (!path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_pb_value_load: no path");
    char *data;
    size_t len;
    nt_status s = nt_read_file(path, &data, &len);
    if (s != NT_OK)
        return s;
    s = value_parse((const uint8_t *)data, len, 0, optional, path, out);
    free(data);
    return s;
}
