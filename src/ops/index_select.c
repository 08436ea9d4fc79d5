/*
 * index_select.c — NonZero, OneHot, Compress and ReverseSequence.
 *
 * NonZero and Compress have output sizes that depend on the data: at run
 * time infer leaves them with unknown rank and compute allocates them (in
 * static mode the rank is reported with the data-dependent dim unknown).
 */
#include "ops/shape_impl.h"

#include <math.h>
#include <string.h>

/* ---------------------------------------------------------------- NonZero */

/* Whether element i is non-zero.  Floating types compare by value so -0.0
 * counts as zero (and NaN as non-zero); other types by their bytes. */
static bool is_nonzero(nt_dtype t, const char *p, size_t es)
{
    switch (t) {
    case NT_DTYPE_FLOAT:
    case NT_DTYPE_COMPLEX64:
        for (size_t k = 0; k < es; k += 4) {
            float v;
            memcpy(&v, p + k, 4);
            if (v != 0.0f)
                return true;
        }
        return false;
    case NT_DTYPE_DOUBLE:
    case NT_DTYPE_COMPLEX128:
        for (size_t k = 0; k < es; k += 8) {
            double v;
            memcpy(&v, p + k, 8);
            if (v != 0.0)
                return true;
        }
        return false;
    case NT_DTYPE_FLOAT16:
    case NT_DTYPE_BFLOAT16: {
        uint16_t v;
        memcpy(&v, p, 2);
        return (v & 0x7fff) != 0;
    }
    case NT_DTYPE_FLOAT8E4M3FN:
    case NT_DTYPE_FLOAT8E5M2:
        return (*(const unsigned char *)p & 0x7f) != 0;
    default:
        for (size_t k = 0; k < es; k++)
            if (p[k])
                return true;
        return false;
    }
}

/* NonZero: x (rank r) -> int64 (max(r,1), nnz), the coordinates of non-zeros. */
nt_status nt_index_nonzero_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    nt_mv_unknown(ctx, 0, NT_DTYPE_INT64);
    if (ctx->static_mode && x->ndim >= 0) {
        int64_t od[2] = {x->ndim ? x->ndim : 1, -1};
        return nt_mv_set_output(ctx, 0, NT_DTYPE_INT64, 2, od);
    }
    return NT_OK;
}

nt_status nt_index_nonzero_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    size_t es = nt_mv_size(x->dtype);
    int64_t n = nt_tensor_numel(x), nnz = 0;
    const char *p = x->data;
    for (int64_t i = 0; i < n; i++)
        nnz += is_nonzero(x->dtype, p + i * (int64_t)es, es);
    int r = x->ndim ? x->ndim : 1; /* a scalar counts as 1-D, like numpy */
    int64_t od[2] = {r, nnz};
    nt_status st = nt_ctx_alloc_output(ctx, 0, NT_DTYPE_INT64, 2, od);
    if (st != NT_OK)
        return st;
    int64_t *o = ctx->out[0]->data, j = 0;
    int64_t idx[NT_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        if (is_nonzero(x->dtype, p + i * (int64_t)es, es)) {
            for (int d = 0; d < r; d++)
                o[d * nnz + j] = x->ndim ? idx[d] : 0;
            j++;
        }
        for (int d = x->ndim - 1; d >= 0; d--) {
            if (++idx[d] < x->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- OneHot */

/* depth as an integer (any numeric scalar; floats are truncated). */
static nt_status onehot_depth(const nt_kernel_ctx *ctx, int64_t *depth)
{
    const nt_tensor *d = ctx->in[1];
    if (nt_tensor_numel(d) != 1 || !nt_dtype_is_numeric(d->dtype) || !d->data)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "depth must be a numeric scalar");
    double v = nt_tensor_get_f64(d, 0);
    if (d->dtype == NT_DTYPE_INT64)
        v = (double)((const int64_t *)d->data)[0];
    if (!(v >= 1) || v > (double)(1LL << 40))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "depth %g is invalid", v);
    *depth = (int64_t)v;
    return NT_OK;
}

/* OneHot: indices (i_0..i_q-1), depth, values [off, on] ->
 * (i_0.., depth at axis, ..i_q-1) of values' type. */
nt_status nt_index_onehot_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 3);
    if (st != NT_OK)
        return st;
    const nt_tensor *ix = ctx->in[0], *vals = ctx->in[2];
    if ((st = nt_mv_check(ctx, vals->dtype, "values")) != NT_OK)
        return st;
    if (!nt_dtype_is_numeric(ix->dtype) && !(ctx->static_mode && ix->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "indices of type %s are not supported", nt_dtype_name(ix->dtype));
    if (vals->ndim >= 0 && nt_tensor_numel(vals) >= 0 && nt_tensor_numel(vals) != 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "values must hold two elements [off, on]");
    if (ix->ndim < 0) {
        nt_mv_unknown(ctx, 0, vals->dtype);
        return NT_OK;
    }
    int r = ix->ndim + 1, axis;
    if ((st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", -1), r, &axis)) != NT_OK)
        return st;
    int64_t depth = -1;
    if (!nt_ctx_data_unknown(ctx, 1) && (st = onehot_depth(ctx, &depth)) != NT_OK)
        return st;
    int64_t od[NT_MAX_DIMS];
    if (r > NT_MAX_DIMS)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "output rank %d exceeds %d", r, NT_MAX_DIMS);
    for (int d = 0, k = 0; d < r; d++)
        od[d] = d == axis ? depth : ix->dims[k++];
    return nt_mv_set_output(ctx, 0, vals->dtype, r, od);
}

nt_status nt_index_onehot_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *ix = ctx->in[0], *vals = ctx->in[2];
    nt_tensor *y = ctx->out[0];
    int64_t depth;
    int axis;
    nt_status st = onehot_depth(ctx, &depth);
    if (st == NT_OK)
        st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", -1), ix->ndim + 1, &axis);
    if (st != NT_OK)
        return st;
    size_t es = nt_mv_size(vals->dtype);
    const char *off = vals->data, *on = off + es;
    int64_t total = nt_tensor_numel(y), n = nt_tensor_numel(ix);
    for (int64_t i = 0; i < total; i++)
        memcpy((char *)y->data + i * (int64_t)es, off, es);
    int64_t inner = nt_mv_prod(ix->dims, axis, ix->ndim);
    for (int64_t j = 0; j < n; j++) {
        int64_t v;
        if (ix->dtype == NT_DTYPE_INT64) {
            v = ((const int64_t *)ix->data)[j];
        } else {
            double dv = nt_tensor_get_f64(ix, j);
            if (!(dv > -(double)depth - 1 && dv < (double)depth + 1))
                continue; /* NaN or far out of range: all off */
            v = (int64_t)dv;
        }
        if (v < 0 && v >= -depth)
            v += depth;
        if (v < 0 || v >= depth)
            continue;
        int64_t o = j / inner, in = j % inner;
        memcpy((char *)y->data + ((o * depth + v) * inner + in) * (int64_t)es, on, es);
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- Compress */

/* The number of selected slices (true conditions within dim). */
static nt_status compress_count(const nt_kernel_ctx *ctx, int64_t dim, int64_t *count)
{
    const nt_tensor *c = ctx->in[1];
    if (c->dtype != NT_DTYPE_BOOL)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "condition must be bool, got %s", nt_dtype_name(c->dtype));
    if (c->ndim != 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "condition must be 1-D");
    const uint8_t *cv = c->data;
    int64_t n = c->dims[0], k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!cv[i])
            continue;
        if (i >= dim)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "condition selects index %lld beyond size %lld", (long long)i,
                                (long long)dim);
        k++;
    }
    *count = k;
    return NT_OK;
}

/* Compress: input, condition (bool[n]) -> input's slices along axis where
 * condition is true (flattened input when no axis). */
nt_status nt_index_compress_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *c = ctx->in[1];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    if (c->dtype != NT_DTYPE_BOOL && !(ctx->static_mode && c->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "condition must be bool, got %s", nt_dtype_name(c->dtype));
    const nt_attr *a = nt_node_attr(ctx->node, "axis");
    int axis = 0;
    if (a && x->ndim >= 0 && (st = nt_mv_axis(ctx, a->i, x->ndim, &axis)) != NT_OK)
        return st;
    nt_mv_unknown(ctx, 0, x->dtype);
    if (!ctx->static_mode || x->ndim < 0)
        return NT_OK;
    int64_t od[NT_MAX_DIMS], unk = -1;
    if (!a)
        return nt_mv_set_output(ctx, 0, x->dtype, 1, &unk);
    memcpy(od, x->dims, sizeof od);
    od[axis] = -1;
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, od);
}

nt_status nt_index_compress_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *c = ctx->in[1];
    const nt_attr *a = nt_node_attr(ctx->node, "axis");
    int axis = 0;
    nt_status st;
    if (a && (st = nt_mv_axis(ctx, a->i, x->ndim, &axis)) != NT_OK)
        return st;
    int64_t outer = 1, dim, inner = 1;
    if (a) {
        outer = nt_mv_prod(x->dims, 0, axis);
        dim = x->dims[axis];
        inner = nt_mv_prod(x->dims, axis + 1, x->ndim);
    } else {
        dim = nt_tensor_numel(x);
    }
    int64_t k;
    if ((st = compress_count(ctx, dim, &k)) != NT_OK)
        return st;
    int64_t od[NT_MAX_DIMS];
    if (a) {
        memcpy(od, x->dims, sizeof od);
        od[axis] = k;
        st = nt_ctx_alloc_output(ctx, 0, x->dtype, x->ndim, od);
    } else {
        st = nt_ctx_alloc_output(ctx, 0, x->dtype, 1, &k);
    }
    if (st != NT_OK)
        return st;
    int64_t es = (int64_t)nt_mv_size(x->dtype), row = inner * es;
    const uint8_t *cv = c->data;
    int64_t n = c->dims[0] < dim ? c->dims[0] : dim;
    char *o = ctx->out[0]->data;
    if (row == 0)
        return NT_OK;
    for (int64_t b = 0; b < outer; b++)
        for (int64_t i = 0; i < n; i++)
            if (cv[i]) {
                memcpy(o, (const char *)x->data + (b * dim + i) * row, (size_t)row);
                o += row;
            }
    return NT_OK;
}

/* ---------------------------------------------------------------- ReverseSequence */

/* ReverseSequence: x (T, B, ..) or (B, T, ..), sequence_lens (B) -> x with
 * the first sequence_lens[b] time steps of each batch entry reversed. */
nt_status nt_index_reversesequence_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *sl = ctx->in[1];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK || (st = nt_ix_check(ctx, sl, "sequence_lens")) != NT_OK)
        return st;
    int64_t ta = nt_node_attr_int(ctx->node, "time_axis", 0), ba = nt_node_attr_int(ctx->node, "batch_axis", 1);
    if (!((ta == 0 && ba == 1) || (ta == 1 && ba == 0)))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "time_axis/batch_axis must be 0/1 or 1/0");
    if (x->ndim >= 0 && x->ndim < 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must have rank >= 2");
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

nt_status nt_index_reversesequence_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *sl = ctx->in[1];
    nt_tensor *y = ctx->out[0];
    bool time_first = nt_node_attr_int(ctx->node, "time_axis", 0) == 0;
    int64_t steps = x->dims[time_first ? 0 : 1], batch = x->dims[time_first ? 1 : 0];
    if (nt_tensor_numel(sl) != batch)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "sequence_lens has %lld entries for batch %lld",
                            (long long)nt_tensor_numel(sl), (long long)batch);
    for (int64_t b = 0; b < batch; b++) {
        int64_t len = nt_ix_get(sl, b);
        if (len < 0 || len > steps)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "sequence_lens[%lld] = %lld is out of range 0..%lld",
                                (long long)b, (long long)len, (long long)steps);
    }
    int64_t es = (int64_t)nt_mv_size(x->dtype), row = nt_mv_prod(x->dims, 2, x->ndim) * es;
    nt_mv_copy_all(x, y);
    if (row == 0)
        return NT_OK;
    for (int64_t b = 0; b < batch; b++) {
        int64_t len = nt_ix_get(sl, b);
        for (int64_t t = 0; t < len; t++) {
            int64_t src = time_first ? (len - 1 - t) * batch + b : b * steps + (len - 1 - t);
            int64_t dst = time_first ? t * batch + b : b * steps + t;
            memcpy((char *)y->data + dst * row, (const char *)x->data + src * row, (size_t)row);
        }
    }
    return NT_OK;
}
