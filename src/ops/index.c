/*
 * index.c — operator family "index": ops that read or write a tensor at
 * positions given by another tensor.  This file holds the op table and the
 * gathers (Gather, GatherElements, GatherND); scatters (ScatterElements,
 * ScatterND, TensorScatter) are in index_scatter.c, TopK and Unique in index_sort.c, NonZero, OneHot,
 * Compress and ReverseSequence in index_select.c.
 *
 * Every index read from a tensor is bounds-checked before it is used: a bad
 * (or malicious) model gets NT_ERR_SHAPE naming the index, never an
 * out-of-bounds read.  Negative indices count from the end, as in ONNX.
 */
#include "ops/shape_impl.h"

#include <string.h>

/* Resolves a possibly negative index against dim, or fails naming it. */
static nt_status fix_index(const nt_kernel_ctx *ctx, int64_t v, int64_t dim, int axis, int64_t *out)
{
    int64_t w = v < 0 ? v + dim : v;
    if (w < 0 || w >= dim)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "index %lld is out of range for axis %d of size %lld", (long long)v,
                            axis, (long long)dim);
    *out = w;
    return NT_OK;
}

/* ---------------------------------------------------------------- Gather */

/* Gather: data (d_0..d_r-1), indices (i_0..i_q-1) along axis a ->
 * (d_0..d_a-1, i_0..i_q-1, d_a+1..d_r-1). */
nt_status nt_index_gather_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1];
    if ((st = nt_mv_check(ctx, x->dtype, "data")) != NT_OK || (st = nt_ix_check(ctx, ix, "indices")) != NT_OK)
        return st;
    if (x->ndim < 0 || ix->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    if (x->ndim < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "data must have rank >= 1");
    int axis;
    if ((st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &axis)) != NT_OK)
        return st;
    int r = x->ndim - 1 + ix->ndim;
    if (r > NT_MAX_DIMS)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "output rank %d exceeds %d", r, NT_MAX_DIMS);
    int64_t od[NT_MAX_DIMS];
    int k = 0;
    for (int d = 0; d < axis; d++)
        od[k++] = x->dims[d];
    for (int d = 0; d < ix->ndim; d++)
        od[k++] = ix->dims[d];
    for (int d = axis + 1; d < x->ndim; d++)
        od[k++] = x->dims[d];
    return nt_mv_set_output(ctx, 0, x->dtype, r, od);
}

nt_status nt_index_gather_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1];
    nt_tensor *y = ctx->out[0];
    int axis;
    nt_status st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &axis);
    if (st != NT_OK)
        return st;
    int64_t es = (int64_t)nt_mv_size(x->dtype);
    int64_t outer = nt_mv_prod(x->dims, 0, axis), dim = x->dims[axis];
    int64_t inner = nt_mv_prod(x->dims, axis + 1, x->ndim) * es;
    int64_t n = nt_tensor_numel(ix);
    /* check every index first so a failure leaves nothing half-written */
    for (int64_t j = 0; j < n; j++) {
        int64_t w;
        if ((st = fix_index(ctx, nt_ix_get(ix, j), dim, axis, &w)) != NT_OK)
            return st;
    }
    if (inner == 0)
        return NT_OK;
    const char *src = x->data;
    char *dst = y->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n; j++) {
            int64_t w = nt_ix_get(ix, j);
            if (w < 0)
                w += dim;
            const char *s = src + (o * dim + w) * inner;
            char *t = dst + (o * n + j) * inner;
            if (inner == 4)
                memcpy(t, s, 4);
            else if (inner == 8)
                memcpy(t, s, 8);
            else
                memcpy(t, s, (size_t)inner);
        }
    return NT_OK;
}

/* ---------------------------------------------------------------- GatherElements */

/* GatherElements: data (d), indices (i, same rank) -> (i);
 * out[p] = data[p with p[axis] replaced by indices[p]]. */
nt_status nt_index_gatherelements_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1];
    if ((st = nt_mv_check(ctx, x->dtype, "data")) != NT_OK || (st = nt_ix_check(ctx, ix, "indices")) != NT_OK)
        return st;
    if (x->ndim < 0 || ix->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    if (x->ndim != ix->ndim || x->ndim < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "data (rank %d) and indices (rank %d) need the same rank >= 1",
                            x->ndim, ix->ndim);
    int axis;
    if ((st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &axis)) != NT_OK)
        return st;
    for (int d = 0; d < x->ndim; d++)
        if (d != axis && x->dims[d] >= 0 && ix->dims[d] > x->dims[d])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "indices dim %d (%lld) exceeds data's (%lld)", d,
                                (long long)ix->dims[d], (long long)x->dims[d]);
    return nt_mv_set_output(ctx, 0, x->dtype, ix->ndim, ix->dims);
}

/* Walks every element of shape `dims` in row-major order, giving the
 * element's offset in a tensor of strides `st` (dims may be smaller than
 * that tensor's).  Used by GatherElements and ScatterElements. */
typedef struct ix_walk {
    int r;
    int64_t idx[NT_MAX_DIMS];
} ix_walk;

static inline void ix_walk_next(ix_walk *w, const int64_t *dims, const int64_t *st, int64_t *off)
{
    for (int d = w->r - 1; d >= 0; d--) {
        if (++w->idx[d] < dims[d]) {
            *off += st[d];
            return;
        }
        *off -= (dims[d] - 1) * st[d];
        w->idx[d] = 0;
    }
}

nt_status nt_index_gatherelements_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1];
    nt_tensor *y = ctx->out[0];
    int axis;
    nt_status st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &axis);
    if (st != NT_OK)
        return st;
    int64_t sx[NT_MAX_DIMS];
    nt_mv_strides(x->ndim, x->dims, sx);
    int64_t es = (int64_t)nt_mv_size(x->dtype), n = nt_tensor_numel(ix), dim = x->dims[axis];
    ix_walk w = {x->ndim, {0}};
    int64_t off = 0; /* offset in x of the walk position with the axis coordinate */
    for (int64_t j = 0; j < n; j++) {
        int64_t v = 0;
        if ((st = fix_index(ctx, nt_ix_get(ix, j), dim, axis, &v)) != NT_OK)
            return st;
        int64_t src = off - w.idx[axis] * sx[axis] + v * sx[axis];
        memcpy((char *)y->data + j * es, (const char *)x->data + src * es, (size_t)es);
        ix_walk_next(&w, ix->dims, sx, &off);
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- GatherND */

typedef struct gnd_plan {
    int b, k;                       /* batch dims, index tuple length */
    int64_t batches, tuples;        /* per batch */
    int64_t slice;                  /* elements copied per tuple */
    int64_t batch_stride;           /* elements of data per batch */
} gnd_plan;

static nt_status gathernd_plan(const nt_kernel_ctx *ctx, const nt_tensor *x, const nt_tensor *ix, gnd_plan *p,
                               int *ond, int64_t *od)
{
    int r = x->ndim, q = ix->ndim;
    int64_t b = ctx->opset >= 12 ? nt_node_attr_int(ctx->node, "batch_dims", 0) : 0;
    if (q < 1 || r < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "data and indices need rank >= 1");
    if (b < 0 || b >= q || b >= r)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "batch_dims %lld is invalid for ranks %d and %d", (long long)b, r, q);
    int64_t k = ix->dims[q - 1];
    if (k < 0) {
        *ond = -1;
        return NT_OK;
    }
    if (k < 1 || k > r - b)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "index tuples of length %lld do not fit data rank %d with %lld batch dims",
                            (long long)k, r, (long long)b);
    for (int d = 0; d < b; d++)
        if (x->dims[d] >= 0 && ix->dims[d] >= 0 && x->dims[d] != ix->dims[d])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "batch dim %d differs: %lld vs %lld", d, (long long)x->dims[d],
                                (long long)ix->dims[d]);
    int n = 0;
    for (int d = 0; d < q - 1; d++)
        od[n++] = ix->dims[d];
    for (int d = (int)(b + k); d < r; d++) {
        if (n >= NT_MAX_DIMS)
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "output rank exceeds %d", NT_MAX_DIMS);
        od[n++] = x->dims[d];
    }
    *ond = n;
    p->b = (int)b;
    p->k = (int)k;
    p->batches = nt_mv_prod(x->dims, 0, (int)b);
    p->tuples = nt_mv_prod(ix->dims, (int)b, q - 1);
    p->slice = nt_mv_prod(x->dims, (int)(b + k), r);
    p->batch_stride = nt_mv_prod(x->dims, (int)b, r);
    return NT_OK;
}

/* GatherND: data (d), indices (i_0..i_q-2, k), batch_dims b ->
 * (i_0..i_q-2, d_b+k..d_r-1). */
nt_status nt_index_gathernd_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1];
    if ((st = nt_mv_check(ctx, x->dtype, "data")) != NT_OK)
        return st;
    if (ix->dtype != NT_DTYPE_INT64 && !(ctx->static_mode && ix->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "indices must be int64, got %s", nt_dtype_name(ix->dtype));
    if (x->ndim < 0 || ix->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    gnd_plan p;
    int64_t od[NT_MAX_DIMS];
    int n;
    if ((st = gathernd_plan(ctx, x, ix, &p, &n, od)) != NT_OK)
        return st;
    if (n < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    return nt_mv_set_output(ctx, 0, x->dtype, n, od);
}

nt_status nt_index_gathernd_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *ix = ctx->in[1];
    nt_tensor *y = ctx->out[0];
    gnd_plan p;
    int64_t od[NT_MAX_DIMS], sx[NT_MAX_DIMS];
    int n;
    nt_status st = gathernd_plan(ctx, x, ix, &p, &n, od);
    if (st != NT_OK)
        return st;
    nt_mv_strides(x->ndim, x->dims, sx);
    int64_t es = (int64_t)nt_mv_size(x->dtype);
    const int64_t *iv = ix->data;
    for (int64_t bt = 0; bt < p.batches; bt++)
        for (int64_t t = 0; t < p.tuples; t++) {
            const int64_t *tup = iv + (bt * p.tuples + t) * p.k;
            int64_t off = bt * p.batch_stride;
            for (int i = 0; i < p.k; i++) {
                int64_t v = 0;
                if ((st = fix_index(ctx, tup[i], x->dims[p.b + i], p.b + i, &v)) != NT_OK)
                    return st;
                off += v * sx[p.b + i];
            }
            if (p.slice)
                memcpy((char *)y->data + (bt * p.tuples + t) * p.slice * es, (const char *)x->data + off * es,
                       (size_t)(p.slice * es));
        }
    return NT_OK;
}

/* ---------------------------------------------------------------- the table */

#define OP(name, since, fn) {name, "", since, NULL, NULL, nt_index_##fn##_infer, nt_index_##fn##_compute}

const nt_op_def nt_ops_index[] = {
    OP("Gather", 1, gather),
    OP("Gather", 11, gather),                   /* negative indices */
    OP("Gather", 13, gather),
    OP("GatherElements", 11, gatherelements),
    OP("GatherElements", 13, gatherelements),
    OP("GatherND", 11, gathernd),
    OP("GatherND", 12, gathernd),               /* batch_dims */
    OP("GatherND", 13, gathernd),
    OP("Scatter", 9, scatterelements),          /* deprecated alias of ScatterElements */
    OP("Scatter", 11, scatterelements),
    OP("ScatterElements", 11, scatterelements),
    OP("ScatterElements", 13, scatterelements),
    OP("ScatterElements", 16, scatterelements), /* reduction add, mul */
    OP("ScatterElements", 18, scatterelements), /* reduction max, min */
    OP("ScatterND", 11, scatternd),
    OP("ScatterND", 13, scatternd),
    OP("ScatterND", 16, scatternd),             /* reduction add, mul */
    OP("ScatterND", 18, scatternd),             /* reduction max, min */
    OP("TensorScatter", 24, tensorscatter),     /* KV-cache update */
    OP("TopK", 1, topk),                        /* k attribute */
    OP("TopK", 10, topk),                       /* k input */
    OP("TopK", 11, topk),                       /* largest, sorted */
    OP("NonZero", 9, nonzero),
    OP("NonZero", 13, nonzero),
    OP("OneHot", 9, onehot),
    OP("OneHot", 11, onehot),                   /* negative axis */
    OP("Compress", 9, compress),
    OP("Compress", 11, compress),               /* negative axis */
    OP("Unique", 11, unique),
    OP("ReverseSequence", 10, reversesequence),
};
const size_t nt_ops_index_count = NT_ARRAY_LEN(nt_ops_index);
