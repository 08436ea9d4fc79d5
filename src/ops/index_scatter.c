/*
 * index_scatter.c — ScatterElements (and its deprecated alias Scatter),
 * ScatterND and TensorScatter: the output is a copy of data with positions
 * named by indices replaced by (or reduced with) updates.
 *
 * Updates are applied in index order, so with reduction "none" a repeated
 * index keeps the last update (what ONNX's reference does).  Reductions
 * (add, mul from opset 16; max, min from 18) need arithmetic, so they are
 * generated per dtype by a macro; half types reduce through float.
 */
#include "ops/shape_impl.h"

#include <string.h>

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

typedef void (*reduce_fn)(void *dst, const void *src, int64_t n, int red);

/* W is the arithmetic type: unsigned for integers so overflow wraps
 * instead of being undefined. */
#define NT_REDUCE(NAME, T, W)                                                \
    static void NAME(void *dst, const void *src, int64_t n, int red)         \
    {                                                                        \
        T *d = dst;                                                          \
        const T *s = src;                                                    \
        for (int64_t i = 0; i < n; i++)                                      \
            switch (red) {                                                   \
            case RED_ADD: d[i] = (T)((W)d[i] + (W)s[i]); break;              \
            case RED_MUL: d[i] = (T)((W)d[i] * (W)s[i]); break;              \
            case RED_MAX: d[i] = s[i] > d[i] ? s[i] : d[i]; break;           \
            default: d[i] = s[i] < d[i] ? s[i] : d[i]; break;                \
            }                                                                \
    }
NT_REDUCE(red_f32, float, float)
NT_REDUCE(red_f64, double, double)
NT_REDUCE(red_i8, int8_t, uint32_t)
NT_REDUCE(red_u8, uint8_t, uint32_t)
NT_REDUCE(red_i16, int16_t, uint32_t)
NT_REDUCE(red_u16, uint16_t, uint32_t)
NT_REDUCE(red_i32, int32_t, uint32_t)
NT_REDUCE(red_u32, uint32_t, uint32_t)
NT_REDUCE(red_i64, int64_t, uint64_t)
NT_REDUCE(red_u64, uint64_t, uint64_t)

#define NT_REDUCE_HALF(NAME, TO_F, FROM_F)                                  \
    static void NAME(void *dst, const void *src, int64_t n, int red)        \
    {                                                                       \
        uint16_t *d = dst;                                                  \
        const uint16_t *s = src;                                            \
        for (int64_t i = 0; i < n; i++) {                                   \
            float a = TO_F(d[i]), b = TO_F(s[i]);                           \
            float v = red == RED_ADD ? a + b : red == RED_MUL ? a * b       \
                    : red == RED_MAX ? (b > a ? b : a) : (b < a ? b : a);   \
            d[i] = FROM_F(v);                                               \
        }                                                                   \
    }
NT_REDUCE_HALF(red_f16, nt_half_to_float, nt_float_to_half)
NT_REDUCE_HALF(red_bf16, nt_bf16_to_float, nt_float_to_bf16)

static reduce_fn reducer(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_FLOAT: return red_f32;
    case NT_DTYPE_DOUBLE: return red_f64;
    case NT_DTYPE_FLOAT16: return red_f16;
    case NT_DTYPE_BFLOAT16: return red_bf16;
    case NT_DTYPE_INT8: return red_i8;
    case NT_DTYPE_UINT8: return red_u8;
    case NT_DTYPE_INT16: return red_i16;
    case NT_DTYPE_UINT16: return red_u16;
    case NT_DTYPE_INT32: return red_i32;
    case NT_DTYPE_UINT32: return red_u32;
    case NT_DTYPE_INT64: return red_i64;
    case NT_DTYPE_UINT64: return red_u64;
    default: return NULL;
    }
}

/* The reduction attribute, validated against the opset and the dtype. */
static nt_status scatter_reduction(const nt_kernel_ctx *ctx, nt_dtype dt, int *red)
{
    const char *s = ctx->opset >= 16 ? nt_node_attr_string(ctx->node, "reduction", "none") : "none";
    if (strcmp(s, "none") == 0)
        *red = RED_NONE;
    else if (strcmp(s, "add") == 0)
        *red = RED_ADD;
    else if (strcmp(s, "mul") == 0)
        *red = RED_MUL;
    else if (strcmp(s, "max") == 0 && ctx->opset >= 18)
        *red = RED_MAX;
    else if (strcmp(s, "min") == 0 && ctx->opset >= 18)
        *red = RED_MIN;
    else
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "reduction '%s' is not supported at opset %d", s, ctx->opset);
    if (*red != RED_NONE && !reducer(dt) && !(ctx->static_mode && dt == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "reduction '%s' on %s is not supported", s, nt_dtype_name(dt));
    return NT_OK;
}

/* Common checks: data and updates of one movable dtype, integer indices. */
static nt_status scatter_check(nt_kernel_ctx *ctx, int *red)
{
    nt_status st = nt_mv_need(ctx, 3);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1], *u = ctx->in[2];
    if ((st = nt_mv_check(ctx, x->dtype, "data")) != NT_OK || (st = nt_ix_check(ctx, ix, "indices")) != NT_OK)
        return st;
    if (u->dtype != x->dtype && u->dtype != NT_DTYPE_UNDEFINED && x->dtype != NT_DTYPE_UNDEFINED)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "updates are %s, data is %s", nt_dtype_name(u->dtype),
                            nt_dtype_name(x->dtype));
    return scatter_reduction(ctx, x->dtype, red);
}

/* ---------------------------------------------------------------- ScatterElements */

/* ScatterElements: data (d), indices (i), updates (i) -> (d);
 * out[p with p[axis] = indices[p]] = updates[p] (or reduced with it). */
nt_status nt_index_scatterelements_infer(nt_kernel_ctx *ctx)
{
    int red;
    nt_status st = scatter_check(ctx, &red);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1], *u = ctx->in[2];
    if (x->ndim >= 0 && ix->ndim >= 0 && u->ndim >= 0) {
        if (x->ndim != ix->ndim || u->ndim != ix->ndim || x->ndim < 1)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "data, indices and updates need the same rank >= 1");
        int axis;
        if ((st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &axis)) != NT_OK)
            return st;
        for (int d = 0; d < x->ndim; d++) {
            if (ix->dims[d] >= 0 && u->dims[d] >= 0 && ix->dims[d] != u->dims[d])
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "indices and updates differ in dim %d", d);
            if (d != axis && x->dims[d] >= 0 && ix->dims[d] > x->dims[d])
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "indices dim %d (%lld) exceeds data's (%lld)", d,
                                    (long long)ix->dims[d], (long long)x->dims[d]);
        }
    }
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

nt_status nt_index_scatterelements_compute(nt_kernel_ctx *ctx)
{
    int red;
    nt_status st = scatter_check(ctx, &red);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1], *u = ctx->in[2];
    nt_tensor *y = ctx->out[0];
    int axis;
    if ((st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &axis)) != NT_OK)
        return st;
    int64_t sx[NT_MAX_DIMS];
    nt_mv_strides(x->ndim, x->dims, sx);
    int64_t es = (int64_t)nt_mv_size(x->dtype), n = nt_tensor_numel(ix), dim = x->dims[axis];
    /* validate all indices before writing anything */
    for (int64_t j = 0; j < n; j++) {
        int64_t v = nt_ix_get(ix, j);
        if (v < -dim || v >= dim)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "index %lld is out of range for axis %d of size %lld",
                                (long long)v, axis, (long long)dim);
    }
    nt_mv_copy_all(x, y);
    reduce_fn fn = reducer(x->dtype);
    int64_t idx[NT_MAX_DIMS] = {0};
    int64_t off = 0; /* offset in data of the walk position */
    for (int64_t j = 0; j < n; j++) {
        int64_t v = nt_ix_get(ix, j);
        if (v < 0)
            v += dim;
        int64_t dst = off + (v - idx[axis]) * sx[axis];
        char *pd = (char *)y->data + dst * es;
        const char *ps = (const char *)u->data + j * es;
        if (red == RED_NONE)
            memcpy(pd, ps, (size_t)es);
        else
            fn(pd, ps, 1, red);
        for (int d = ix->ndim - 1; d >= 0; d--) {
            if (++idx[d] < ix->dims[d]) {
                off += sx[d];
                break;
            }
            off -= (ix->dims[d] - 1) * sx[d];
            idx[d] = 0;
        }
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- ScatterND */

/* ScatterND: data (d_0..d_r-1), indices (i_0..i_q-2, k), updates
 * (i_0..i_q-2, d_k..d_r-1) -> (d); each index tuple names a slice. */
nt_status nt_index_scatternd_infer(nt_kernel_ctx *ctx)
{
    int red;
    nt_status st = scatter_check(ctx, &red);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1], *u = ctx->in[2];
    if (ix->dtype != NT_DTYPE_INT64 && !(ctx->static_mode && ix->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "indices must be int64, got %s", nt_dtype_name(ix->dtype));
    if (x->ndim >= 0 && ix->ndim >= 0 && u->ndim >= 0) {
        int q = ix->ndim;
        if (q < 1 || x->ndim < 1)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "data and indices need rank >= 1");
        int64_t k = ix->dims[q - 1];
        if (k >= 0) {
            if (k < 1 || k > x->ndim)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "index tuples of length %lld for data rank %d", (long long)k,
                                    x->ndim);
            if (u->ndim != q - 1 + x->ndim - k)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "updates have rank %d, expected %lld", u->ndim,
                                    (long long)(q - 1 + x->ndim - k));
            for (int d = 0; d < u->ndim; d++) {
                int64_t want = d < q - 1 ? ix->dims[d] : x->dims[k + d - (q - 1)];
                if (want >= 0 && u->dims[d] >= 0 && want != u->dims[d])
                    return nt_ctx_error(ctx, NT_ERR_SHAPE, "updates dim %d is %lld, expected %lld", d,
                                        (long long)u->dims[d], (long long)want);
            }
        }
    }
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

nt_status nt_index_scatternd_compute(nt_kernel_ctx *ctx)
{
    int red;
    nt_status st = scatter_check(ctx, &red);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1], *u = ctx->in[2];
    nt_tensor *y = ctx->out[0];
    int q = ix->ndim, k = (int)ix->dims[q - 1];
    int64_t sx[NT_MAX_DIMS];
    nt_mv_strides(x->ndim, x->dims, sx);
    int64_t es = (int64_t)nt_mv_size(x->dtype);
    int64_t tuples = nt_mv_prod(ix->dims, 0, q - 1), slice = nt_mv_prod(x->dims, k, x->ndim);
    const int64_t *iv = ix->data;
    for (int64_t t = 0; t < tuples * k; t++) {
        int d = (int)(t % k);
        if (iv[t] < -x->dims[d] || iv[t] >= x->dims[d])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "index %lld is out of range for axis %d of size %lld",
                                (long long)iv[t], d, (long long)x->dims[d]);
    }
    nt_mv_copy_all(x, y);
    if (slice == 0)
        return NT_OK;
    reduce_fn fn = reducer(x->dtype);
    for (int64_t t = 0; t < tuples; t++) {
        int64_t off = 0;
        for (int d = 0; d < k; d++) {
            int64_t v = iv[t * k + d];
            off += (v < 0 ? v + x->dims[d] : v) * sx[d];
        }
        char *pd = (char *)y->data + off * es;
        const char *ps = (const char *)u->data + t * slice * es;
        if (red == RED_NONE)
            memcpy(pd, ps, (size_t)(slice * es));
        else
            fn(pd, ps, slice, red);
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- TensorScatter */

/* TensorScatter (opset 24, KV-cache update): past (B, .., M, ..), update
 * (B, .., S, ..) along axis (default -2), write_indices (B) ->
 * present = past with update's S rows written from write_indices[b] on
 * (modulo M in "circular" mode). */
static nt_status tscatter_params(const nt_kernel_ctx *ctx, const nt_tensor *x, int *axis, bool *circular)
{
    const char *mode = nt_node_attr_string(ctx->node, "mode", "linear");
    if (strcmp(mode, "linear") != 0 && strcmp(mode, "circular") != 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "mode '%s' is not supported", mode);
    *circular = mode[0] == 'c';
    nt_status st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", -2), x->ndim, axis);
    if (st == NT_OK && *axis == 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis must not be the batch axis");
    return st;
}

nt_status nt_index_tensorscatter_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *u = ctx->in[1], *wi = nt_ctx_in(ctx, 2);
    if ((st = nt_mv_check(ctx, x->dtype, "past_cache")) != NT_OK)
        return st;
    if (u->dtype != x->dtype && u->dtype != NT_DTYPE_UNDEFINED && x->dtype != NT_DTYPE_UNDEFINED)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "update is %s, past_cache is %s", nt_dtype_name(u->dtype),
                            nt_dtype_name(x->dtype));
    if (wi && wi->dtype != NT_DTYPE_INT64 && !(ctx->static_mode && wi->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "write_indices must be int64");
    if (x->ndim >= 0 && u->ndim >= 0) {
        int axis;
        bool circular;
        if ((st = tscatter_params(ctx, x, &axis, &circular)) != NT_OK)
            return st;
        if (u->ndim != x->ndim)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "update has rank %d, past_cache %d", u->ndim, x->ndim);
        for (int d = 0; d < x->ndim; d++) {
            if (x->dims[d] < 0 || u->dims[d] < 0)
                continue;
            if (d == axis ? u->dims[d] > x->dims[d] : u->dims[d] != x->dims[d])
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "update dim %d (%lld) does not fit past_cache (%lld)", d,
                                    (long long)u->dims[d], (long long)x->dims[d]);
        }
    }
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

nt_status nt_index_tensorscatter_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *u = ctx->in[1], *wi = nt_ctx_in(ctx, 2);
    nt_tensor *y = ctx->out[0];
    int axis;
    bool circular;
    nt_status st = tscatter_params(ctx, x, &axis, &circular);
    if (st != NT_OK)
        return st;
    int64_t batch = x->dims[0], maxlen = x->dims[axis], seq = u->dims[axis];
    int64_t es = (int64_t)nt_mv_size(x->dtype);
    int64_t per_batch = nt_mv_prod(x->dims, 1, axis), row = nt_mv_prod(x->dims, axis + 1, x->ndim) * es;
    if (wi && nt_tensor_numel(wi) != batch)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "write_indices has %lld entries for batch %lld",
                            (long long)nt_tensor_numel(wi), (long long)batch);
    for (int64_t b = 0; wi && b < batch; b++) {
        int64_t w = ((const int64_t *)wi->data)[b];
        if (w < 0 || (!circular && w + seq > maxlen) || (circular && w >= maxlen && maxlen > 0))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "write index %lld does not fit %lld rows into %lld", (long long)w,
                                (long long)seq, (long long)maxlen);
    }
    nt_mv_copy_all(x, y);
    if (row == 0 || seq == 0)
        return NT_OK;
    for (int64_t p = 0; p < batch * per_batch; p++) {
        int64_t w = wi ? ((const int64_t *)wi->data)[p / per_batch] : 0;
        for (int64_t s = 0; s < seq; s++) {
            int64_t t = circular ? (w + s) % maxlen : w + s;
            memcpy((char *)y->data + (p * maxlen + t) * row, (const char *)u->data + (p * seq + s) * row, (size_t)row);
        }
    }
    return NT_OK;
}
