/*
 * tensor.c — the dense tensor value type: shape helpers, owned storage,
 * element access by double for code that must handle every dtype (stats,
 * printing, comparisons), and the NT_TRACE helpers.
 */
#include "core.h"
#include "core/limits.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int64_t nt_tensor_numel(const nt_tensor *t)
{
    if (t->ndim < 0)
        return -1;
    int64_t n = 1;
    bool overflow = false;
    for (int i = 0; i < t->ndim; i++) {
        if (t->dims[i] < 0)
            return -1;
        /* A malicious shape may overflow: saturate so size checks refuse it
         * (a zero dim still makes the tensor empty). */
        if (t->dims[i] > 0 && n > INT64_MAX / t->dims[i])
            overflow = true;
        else
            n *= t->dims[i];
    }
    return n == 0 ? 0 : overflow ? INT64_MAX : n;
}

size_t nt_tensor_nbytes(const nt_tensor *t)
{
    if (nt_value_is_container(t))   /* its items hold the bytes */
        return 0;
    int64_t n = nt_tensor_numel(t);
    if (n <= 0)
        return 0;
    size_t nbytes;
    /* Saturates (allocation then fails) rather than wrapping to a small size. */
    return nt_mul_size((size_t)n, nt_dtype_size(t->dtype), &nbytes) ? nbytes : SIZE_MAX;
}

void nt_tensor_set_shape(nt_tensor *t, int ndim, const int64_t *dims)
{
    NT_ASSERT(ndim <= NT_MAX_DIMS);
    t->ndim = ndim;
    for (int i = 0; i < ndim && i < NT_MAX_DIMS; i++)
        t->dims[i] = dims[i];
}

nt_status nt_tensor_reserve(nt_tensor *t, size_t nbytes)
{
    if ((t->flags & NT_TENSOR_OWNS_DATA) && t->capacity >= nbytes && t->data)
        return NT_OK;
    if (t->flags & NT_TENSOR_OWNS_DATA)
        nt_aligned_free(t->data);
    t->data = nt_aligned_alloc(nbytes);
    if (!t->data) {
        t->capacity = 0;
        t->flags &= ~NT_TENSOR_OWNS_DATA;
        return NT_ERR_NOMEM;
    }
    t->capacity = nbytes;
    t->flags |= NT_TENSOR_OWNS_DATA;
    return NT_OK;
}

nt_status nt_tensor_new(nt_dtype dtype, int ndim, const int64_t *dims, nt_tensor **out)
{
    *out = NULL;
    if (ndim < 0 || ndim > NT_MAX_DIMS)
        return nt_error(NT_ERR_UNSUPPORTED, "tensor rank %d is outside 0..%d", ndim, NT_MAX_DIMS);
    nt_tensor *t = nt_calloc(1, sizeof *t);
    if (!t)
        return NT_ERR_NOMEM;
    t->dtype = dtype;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && n > INT64_MAX / dims[i])) {
            free(t);
            return nt_error(NT_ERR_SHAPE, "invalid tensor dimension %lld", (long long)dims[i]);
        }
        n *= dims[i];
    }
    nt_tensor_set_shape(t, ndim, dims);
    size_t nbytes = nt_tensor_nbytes(t);
    if (n > 0 && nbytes / (size_t)n < nt_dtype_size(dtype) / 2) {
        free(t);
        return nt_error(NT_ERR_NOMEM, "tensor of %lld elements is too large", (long long)n);
    }
    if (nt_tensor_reserve(t, nbytes) != NT_OK) {
        free(t);
        return NT_ERR_NOMEM;
    }
    memset(t->data, 0, nbytes);
    if (dtype == NT_DTYPE_STRING && nt_tensor_set_strings(t, n, NULL, NULL) != NT_OK) {
        nt_tensor_free(t);
        return NT_ERR_NOMEM;
    }
    *out = t;
    return NT_OK;
}

nt_status nt_tensor_set_strings(nt_tensor *t, int64_t n, const char *const *strs, const size_t *lens)
{
    if (n < 0)
        n = 0;
    size_t total;
    if (!nt_mul_size((size_t)n, sizeof(char *), &total))
        return nt_error(NT_ERR_NOMEM, "string tensor of %lld elements is too large", (long long)n);
    total += 1;
    for (int64_t i = 0; i < n; i++) {
        size_t len = lens ? lens[i] : strlen(strs && strs[i] ? strs[i] : "");
        if (len > nt_limit_memory_bytes() - NT_MIN(total, nt_limit_memory_bytes()))
            return nt_error(NT_ERR_NOMEM, "string tensor exceeds the memory limit of %zu bytes "
                            "(NNTRACE_MEMORY_LIMIT)", nt_limit_memory_bytes());
        total += len + 1;
    }
    char **ptrs = nt_aligned_alloc(total);
    if (!ptrs)
        return NT_ERR_NOMEM;
    char *bytes = (char *)(ptrs + n);
    for (int64_t i = 0; i < n; i++) {
        const char *s = strs && strs[i] ? strs[i] : "";
        size_t len = lens ? lens[i] : strlen(s);
        memcpy(bytes, s, len);
        bytes[len] = '\0';
        ptrs[i] = bytes;
        bytes += len + 1;
    }
    *bytes = '\0';
    if (t->flags & NT_TENSOR_OWNS_DATA)
        nt_aligned_free(t->data);
    t->data = ptrs;
    t->capacity = total;
    t->flags |= NT_TENSOR_OWNS_DATA;
    return NT_OK;
}

nt_status nt_tensor_clone(const nt_tensor *src, nt_tensor **out)
{
    if (nt_value_is_container(src)) {
        *out = nt_calloc(1, sizeof **out);
        if (!*out)
            return NT_ERR_NOMEM;
        nt_status s = nt_seq_copy_into(*out, src);
        if (s != NT_OK) {
            free(*out);
            *out = NULL;
        }
        return s;
    }
    if (src->dtype == NT_DTYPE_STRING) {
        nt_status s = nt_tensor_new(src->dtype, src->ndim, src->dims, out);
        if (s == NT_OK && (s = nt_tensor_set_strings(*out, nt_tensor_numel(src), src->data, NULL)) != NT_OK) {
            nt_tensor_free(*out);
            *out = NULL;
        }
        return s;
    }
    nt_status s = nt_tensor_new(src->dtype, src->ndim, src->dims, out);
    if (s == NT_OK && nt_tensor_nbytes(src))
        memcpy((*out)->data, src->data, nt_tensor_nbytes(src));
    return s;
}

void nt_tensor_free(nt_tensor *t)
{
    if (!t)
        return;
    if (nt_value_is_container(t))
        nt_seq_release(t);
    else if (t->flags & NT_TENSOR_OWNS_DATA)
        nt_aligned_free(t->data);
    free(t);
}

void nt_tensor_describe(const nt_tensor *t, char *buf, size_t len)
{
    if (nt_value_is_container(t)) {   /* "sequence<float32>[3]", "optional<float32>[0]" */
        const nt_seq *q = nt_value_seq(t);
        snprintf(buf, len, "%s<%s>[%d]", t->flags & NT_TENSOR_SEQUENCE ? "sequence" : "optional",
                 nt_dtype_name(t->dtype), q ? q->n : 0);
        return;
    }
    size_t off = 0;
    int n = snprintf(buf, len, "%s[", nt_dtype_name(t->dtype));
    if (n < 0 || (size_t)n >= len)
        return;
    off = (size_t)n;
    if (t->ndim < 0) {
        snprintf(buf + off, len - off, "?]");
        return;
    }
    for (int i = 0; i < t->ndim && off < len; i++) {
        if (t->dims[i] < 0)
            n = snprintf(buf + off, len - off, "%s?", i ? "," : "");
        else
            n = snprintf(buf + off, len - off, "%s%lld", i ? "," : "", (long long)t->dims[i]);
        if (n < 0)
            return;
        off += (size_t)n;
    }
    if (off < len)
        snprintf(buf + off, len - off, "]");
}

double nt_tensor_get_f64(const nt_tensor *t, int64_t i)
{
    if (nt_value_is_container(t))
        return NAN;
    const void *d = t->data;
    switch (t->dtype) {
    case NT_DTYPE_FLOAT: return ((const float *)d)[i];
    case NT_DTYPE_DOUBLE: return ((const double *)d)[i];
    case NT_DTYPE_FLOAT16: return nt_half_to_float(((const uint16_t *)d)[i]);
    case NT_DTYPE_BFLOAT16: return nt_bf16_to_float(((const uint16_t *)d)[i]);
    case NT_DTYPE_UINT8: return ((const uint8_t *)d)[i];
    case NT_DTYPE_INT8: return ((const int8_t *)d)[i];
    case NT_DTYPE_UINT16: return ((const uint16_t *)d)[i];
    case NT_DTYPE_INT16: return ((const int16_t *)d)[i];
    case NT_DTYPE_INT32: return ((const int32_t *)d)[i];
    case NT_DTYPE_INT64: return (double)((const int64_t *)d)[i];
    case NT_DTYPE_UINT32: return ((const uint32_t *)d)[i];
    case NT_DTYPE_UINT64: return (double)((const uint64_t *)d)[i];
    case NT_DTYPE_BOOL: return ((const uint8_t *)d)[i] ? 1.0 : 0.0;
    default:
        if (nt_dtype_is_narrow(t->dtype))
            return nt_narrow_to_float(t->dtype, ((const uint8_t *)d)[i]);
        return NAN;
    }
}

void nt_tensor_set_f64(nt_tensor *t, int64_t i, double v)
{
    void *d = t->data;
    switch (t->dtype) {
    case NT_DTYPE_FLOAT: ((float *)d)[i] = (float)v; break;
    case NT_DTYPE_DOUBLE: ((double *)d)[i] = v; break;
    case NT_DTYPE_FLOAT16: ((uint16_t *)d)[i] = nt_float_to_half((float)v); break;
    case NT_DTYPE_BFLOAT16: ((uint16_t *)d)[i] = nt_float_to_bf16((float)v); break;
    case NT_DTYPE_UINT8: ((uint8_t *)d)[i] = (uint8_t)v; break;
    case NT_DTYPE_INT8: ((int8_t *)d)[i] = (int8_t)v; break;
    case NT_DTYPE_UINT16: ((uint16_t *)d)[i] = (uint16_t)v; break;
    case NT_DTYPE_INT16: ((int16_t *)d)[i] = (int16_t)v; break;
    case NT_DTYPE_INT32: ((int32_t *)d)[i] = (int32_t)v; break;
    case NT_DTYPE_INT64: ((int64_t *)d)[i] = (int64_t)v; break;
    case NT_DTYPE_UINT32: ((uint32_t *)d)[i] = (uint32_t)v; break;
    case NT_DTYPE_UINT64: ((uint64_t *)d)[i] = (uint64_t)v; break;
    case NT_DTYPE_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    default:
        if (nt_dtype_is_narrow(t->dtype))
            ((uint8_t *)d)[i] = nt_float_to_narrow(t->dtype, (float)v, true, 'u');
        break;
    }
}

void nt_trace_floats(const char *file, int line, const char *name, const float *v, size_t n)
{
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    size_t nan = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(v[i])) {
            nan++;
            continue;
        }
        sum += v[i];
        mn = v[i] < mn ? v[i] : mn;
        mx = v[i] > mx ? v[i] : mx;
    }
    fprintf(stderr, "[nt] %s:%d %s float32[%zu] min=%.6g max=%.6g mean=%.6g nan=%zu\n", file, line, name,
            n, n > nan ? mn : NAN, n > nan ? mx : NAN, n > nan ? sum / (double)(n - nan) : NAN, nan);
}

void nt_trace_tensor(const char *file, int line, const char *name, const nt_tensor *t)
{
    char desc[128];
    nt_tensor_describe(t, desc, sizeof desc);
    int64_t n = nt_tensor_numel(t);
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    int64_t nan = 0;
    for (int64_t i = 0; i < n; i++) {
        double x = nt_tensor_get_f64(t, i);
        if (isnan(x)) {
            nan++;
            continue;
        }
        sum += x;
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
    }
    fprintf(stderr, "[nt] %s:%d %s %s min=%.6g max=%.6g mean=%.6g nan=%lld\n", file, line, name, desc,
            n > nan ? mn : NAN, n > nan ? mx : NAN, n > nan ? sum / (double)(n - nan) : NAN, (long long)nan);
}
