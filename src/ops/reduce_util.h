/*
 * reduce_util.h — small helpers shared by the reduction-shaped kernel
 * families (reduce.c, norm.c, softmax.c, resize.c): axis normalization,
 * products of dimension ranges, and whole-buffer conversion between the
 * 16-bit float types and float32, so those families can implement their
 * arithmetic once for float32 (and once for double) and still accept
 * float16/bfloat16 tensors by converting at the edges.
 *
 * Everything is static inline: the header has no object file of its own.
 */
#ifndef NT_REDUCE_UTIL_H
#define NT_REDUCE_UTIL_H

#include "ops/kernel.h"

#include <stdlib.h>

/* Maps a possibly negative axis into [0, rank); false if out of range.
 * (rank 0 accepts only axis 0 or -1 when allow_scalar is set.) */
static inline bool nt_red_axis(int64_t axis, int rank, int *out)
{
    if (axis < 0)
        axis += rank;
    if (axis < 0 || axis >= rank)
        return false;
    *out = (int)axis;
    return true;
}

/* Product of dims[b..e) (1 for an empty range). */
static inline int64_t nt_red_prod(const int64_t *dims, int b, int e)
{
    int64_t p = 1;
    for (int i = b; i < e; i++)
        p *= dims[i];
    return p;
}

/* Whether a floating dtype is one the norm/softmax/resize families compute. */
static inline bool nt_red_float_ok(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_FLOAT16 || t == NT_DTYPE_BFLOAT16;
}

/* A float32 copy of a float/float16/bfloat16 tensor's n elements (malloc'd,
 * caller frees), or NULL with an NT_ERR_NOMEM message. */
static inline float *nt_red_to_f32(const nt_tensor *t, int64_t n)
{
    float *f = nt_malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    if (!f)
        return NULL;
    const uint16_t *h = t->data;
    if (t->dtype == NT_DTYPE_FLOAT16)
        for (int64_t i = 0; i < n; i++)
            f[i] = nt_half_to_float(h[i]);
    else if (t->dtype == NT_DTYPE_BFLOAT16)
        for (int64_t i = 0; i < n; i++)
            f[i] = nt_bf16_to_float(h[i]);
    else
        for (int64_t i = 0; i < n; i++)
            f[i] = ((const float *)t->data)[i];
    return f;
}

/* Stores n float32 values into a float16/bfloat16/float32 buffer of dtype dt. */
static inline void nt_red_from_f32(nt_dtype dt, const float *f, void *dst, int64_t n)
{
    uint16_t *h = dst;
    if (dt == NT_DTYPE_FLOAT16)
        for (int64_t i = 0; i < n; i++)
            h[i] = nt_float_to_half(f[i]);
    else if (dt == NT_DTYPE_BFLOAT16)
        for (int64_t i = 0; i < n; i++)
            h[i] = nt_float_to_bf16(f[i]);
    else
        for (int64_t i = 0; i < n; i++)
            ((float *)dst)[i] = f[i];
}

/* A contiguous float32 view of a floating tensor for the float32 kernels:
 * the tensor's own data when it is float32, else a converted copy stored
 * in *owned (freed by the caller).  NULL on allocation failure. */
static inline const float *nt_red_f32_view(const nt_tensor *t, float **owned)
{
    *owned = NULL;
    if (t->dtype == NT_DTYPE_FLOAT)
        return t->data;
    *owned = nt_red_to_f32(t, nt_tensor_numel(t));
    return *owned;
}

/* A double copy of n elements of any float tensor (for small parameter
 * vectors: scale, bias, running mean...).  malloc'd; NULL on failure or on a
 * non-float dtype (with a message). */
static inline double *nt_red_to_f64(const nt_tensor *t, int64_t n)
{
    if (!nt_red_float_ok(t->dtype)) {
        nt_error(NT_ERR_UNSUPPORTED, "expected a float tensor, got %s", nt_dtype_name(t->dtype));
        return NULL;
    }
    double *d = nt_malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    if (!d)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        d[i] = nt_tensor_get_f64(t, i);
    return d;
}

#endif /* NT_REDUCE_UTIL_H */
