/*
 * index_sort.c — ops that order elements: TopK and Unique.
 *
 * Both sort index arrays with a stable bottom-up merge sort and a typed
 * three-way comparison chosen once per call, so ties keep their original
 * order: TopK returns the smaller index first among equal values, Unique's
 * first-occurrence indices come out naturally.  NaN sorts above every number
 * and equals other NaNs (numpy's unique/sort behaviour).
 */
#include "ops/shape_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- comparisons */

typedef int (*elem_cmp)(const void *a, const void *b);

#define NT_CMP_INT(NAME, T)                          \
    static int NAME(const void *a, const void *b)    \
    {                                                \
        T x, y;                                      \
        memcpy(&x, a, sizeof x);                     \
        memcpy(&y, b, sizeof y);                     \
        return (x > y) - (x < y);                    \
    }
#define NT_CMP_FLT(NAME, T, LOAD)                    \
    static int NAME(const void *a, const void *b)    \
    {                                                \
        T x = LOAD(a), y = LOAD(b);                  \
        int xn = isnan(x) != 0, yn = isnan(y) != 0;  \
        if (xn || yn)                                \
            return xn - yn;                          \
        return (x > y) - (x < y);                    \
    }

static inline float load_f32(const void *p) { float v; memcpy(&v, p, 4); return v; }
static inline double load_f64(const void *p) { double v; memcpy(&v, p, 8); return v; }
static inline float load_f16(const void *p) { uint16_t v; memcpy(&v, p, 2); return nt_half_to_float(v); }
static inline float load_bf16(const void *p) { uint16_t v; memcpy(&v, p, 2); return nt_bf16_to_float(v); }

NT_CMP_INT(cmp_u8, uint8_t)
NT_CMP_INT(cmp_i8, int8_t)
NT_CMP_INT(cmp_u16, uint16_t)
NT_CMP_INT(cmp_i16, int16_t)
NT_CMP_INT(cmp_u32, uint32_t)
NT_CMP_INT(cmp_i32, int32_t)
NT_CMP_INT(cmp_u64, uint64_t)
NT_CMP_INT(cmp_i64, int64_t)
NT_CMP_FLT(cmp_f32, float, load_f32)
NT_CMP_FLT(cmp_f64, double, load_f64)
NT_CMP_FLT(cmp_f16, float, load_f16)
NT_CMP_FLT(cmp_bf16, float, load_bf16)

static elem_cmp comparator(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_BOOL:
    case NT_DTYPE_UINT8: return cmp_u8;
    case NT_DTYPE_INT8: return cmp_i8;
    case NT_DTYPE_UINT16: return cmp_u16;
    case NT_DTYPE_INT16: return cmp_i16;
    case NT_DTYPE_UINT32: return cmp_u32;
    case NT_DTYPE_INT32: return cmp_i32;
    case NT_DTYPE_UINT64: return cmp_u64;
    case NT_DTYPE_INT64: return cmp_i64;
    case NT_DTYPE_FLOAT: return cmp_f32;
    case NT_DTYPE_DOUBLE: return cmp_f64;
    case NT_DTYPE_FLOAT16: return cmp_f16;
    case NT_DTYPE_BFLOAT16: return cmp_bf16;
    default: return NULL;
    }
}

/* Items to sort: item i starts at base + i*stride bytes and has len elements
 * spaced step bytes apart, compared lexicographically (desc flips). */
typedef struct sort_ctx {
    const char *base;
    int64_t stride, step, len;
    size_t es;
    elem_cmp cmp;
    bool desc;
} sort_ctx;

static int item_cmp(const sort_ctx *c, int64_t a, int64_t b)
{
    const char *pa = c->base + a * c->stride, *pb = c->base + b * c->stride;
    for (int64_t i = 0; i < c->len; i++) {
        int r = c->cmp(pa + i * c->step, pb + i * c->step);
        if (r)
            return c->desc ? -r : r;
    }
    return 0;
}

/* Stable bottom-up merge sort of v[0..n) by item_cmp; tmp has n entries. */
static void merge_sort(int64_t *v, int64_t *tmp, int64_t n, const sort_ctx *c)
{
    int64_t *src = v, *dst = tmp;
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = item_cmp(c, src[j], src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        int64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, (size_t)n * sizeof *v);
}

/* ---------------------------------------------------------------- TopK */

/* k from the attribute (opset < 10) or input 1; *known false when the input
 * has no data yet. */
static nt_status topk_k(const nt_kernel_ctx *ctx, int64_t *k, bool *known)
{
    *known = true;
    if (ctx->opset < 10) {
        *k = nt_node_attr_int(ctx->node, "k", -1);
        return NT_OK;
    }
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    if (nt_ctx_data_unknown(ctx, 1)) {
        *known = false;
        return NT_OK;
    }
    int64_t n;
    if ((st = nt_mv_read_ints(ctx, 1, k, 1, &n)) != NT_OK)
        return st;
    if (n != 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "k must hold one value");
    return NT_OK;
}

/* TopK: x (.., n, ..), k -> values (.., k, ..) and int64 indices (.., k, ..). */
nt_status nt_index_topk_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if (!comparator(x->dtype) && !(ctx->static_mode && x->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "type %s is not supported", nt_dtype_name(x->dtype));
    int64_t k;
    bool known;
    if ((st = topk_k(ctx, &k, &known)) != NT_OK)
        return st;
    if (x->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        nt_mv_unknown(ctx, 1, NT_DTYPE_INT64);
        return NT_OK;
    }
    int axis;
    if (x->ndim < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must have rank >= 1");
    if ((st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", -1), x->ndim, &axis)) != NT_OK)
        return st;
    int64_t od[NT_MAX_DIMS];
    memcpy(od, x->dims, sizeof od);
    if (!known) {
        od[axis] = -1;
    } else {
        if (k < 0 || (x->dims[axis] >= 0 && k > x->dims[axis]))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "k = %lld is out of range for axis %d of size %lld", (long long)k,
                                axis, (long long)x->dims[axis]);
        od[axis] = k;
    }
    if ((st = nt_mv_set_output(ctx, 0, x->dtype, x->ndim, od)) != NT_OK)
        return st;
    return nt_mv_set_output(ctx, 1, NT_DTYPE_INT64, x->ndim, od);
}

nt_status nt_index_topk_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *yv = nt_ctx_out(ctx, 0), *yi = nt_ctx_out(ctx, 1);
    int64_t k;
    bool known;
    int axis;
    nt_status st = topk_k(ctx, &k, &known);
    if (st == NT_OK)
        st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", -1), x->ndim, &axis);
    if (st != NT_OK)
        return st;
    int64_t dim = x->dims[axis];
    if (k < 0 || k > dim)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "k = %lld is out of range", (long long)k);
    if (k == 0 || dim == 0)
        return NT_OK;
    bool largest = ctx->opset < 11 || nt_node_attr_int(ctx->node, "largest", 1) != 0;
    size_t es = nt_mv_size(x->dtype);
    int64_t outer = nt_mv_prod(x->dims, 0, axis), inner = nt_mv_prod(x->dims, axis + 1, x->ndim);
    int64_t *idx = nt_malloc((size_t)dim * 2 * sizeof *idx);
    if (!idx)
        return NT_ERR_NOMEM;
    sort_ctx c = {NULL, (int64_t)(inner * (int64_t)es), 0, 1, es, comparator(x->dtype), largest};
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            c.base = (const char *)x->data + ((o * dim) * inner + i) * (int64_t)es;
            for (int64_t j = 0; j < dim; j++)
                idx[j] = j;
            merge_sort(idx, idx + dim, dim, &c);
            for (int64_t j = 0; j < k; j++) {
                int64_t at = (o * k + j) * inner + i;
                if (yv)
                    memcpy((char *)yv->data + at * (int64_t)es, c.base + idx[j] * c.stride, es);
                if (yi)
                    ((int64_t *)yi->data)[at] = idx[j];
            }
        }
    free(idx);
    return NT_OK;
}

/* ---------------------------------------------------------------- Unique */

/* Unique: X -> Y (unique values or slices along axis), indices (first
 * occurrences), inverse_indices (X position -> Y position), counts.
 * Output sizes depend on the data, so compute allocates them. */
nt_status nt_index_unique_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if (!comparator(x->dtype) && !(ctx->static_mode && x->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "type %s is not supported", nt_dtype_name(x->dtype));
    const nt_attr *a = nt_node_attr(ctx->node, "axis");
    int axis = -1;
    if (a && x->ndim >= 0 && (st = nt_mv_axis(ctx, a->i, x->ndim, &axis)) != NT_OK)
        return st;
    nt_mv_unknown(ctx, 0, x->dtype);
    for (int i = 1; i < 4; i++)
        nt_mv_unknown(ctx, i, NT_DTYPE_INT64);
    if (!ctx->static_mode || x->ndim < 0)
        return NT_OK;
    /* static mode: ranks are known, sizes are not */
    int64_t unk = -1, od[NT_MAX_DIMS];
    if (a) {
        memcpy(od, x->dims, sizeof od);
        od[axis] = -1;
        nt_mv_set_output(ctx, 0, x->dtype, x->ndim, od);
    } else {
        nt_mv_set_output(ctx, 0, x->dtype, 1, &unk);
    }
    int64_t ninv = a ? x->dims[axis] : nt_tensor_numel(x);
    nt_mv_set_output(ctx, 1, NT_DTYPE_INT64, 1, &unk);
    nt_mv_set_output(ctx, 2, NT_DTYPE_INT64, 1, &ninv);
    nt_mv_set_output(ctx, 3, NT_DTYPE_INT64, 1, &unk);
    return NT_OK;
}

nt_status nt_index_unique_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    const nt_attr *a = nt_node_attr(ctx->node, "axis");
    bool sorted = nt_node_attr_int(ctx->node, "sorted", 1) != 0;
    int axis = 0;
    nt_status st = NT_OK;
    if (a && (st = nt_mv_axis(ctx, a->i, x->ndim, &axis)) != NT_OK)
        return st;
    size_t es = nt_mv_size(x->dtype);
    int64_t n, outer = 1, inner = 1;
    if (a) {
        n = x->dims[axis];
        outer = nt_mv_prod(x->dims, 0, axis);
        inner = nt_mv_prod(x->dims, axis + 1, x->ndim);
    } else {
        n = nt_tensor_numel(x);
    }
    int64_t len = outer * inner, total = n * len;
    /* items contiguous: (n, outer, inner) */
    char *items = NULL;
    int64_t *perm = NULL, *tmp = NULL, *first = NULL, *count = NULL, *group_of = NULL, *order = NULL, *rank = NULL;
    char *yt = NULL;
    items = nt_malloc((size_t)(total ? total : 1) * es);
    perm = nt_malloc((size_t)(n + 1) * sizeof *perm);
    tmp = nt_malloc((size_t)(n + 1) * sizeof *tmp);
    first = nt_malloc((size_t)(n + 1) * sizeof *first);
    count = nt_malloc((size_t)(n + 1) * sizeof *count);
    group_of = nt_malloc((size_t)(n + 1) * sizeof *group_of);
    order = nt_malloc((size_t)(n + 1) * sizeof *order);
    rank = nt_malloc((size_t)(n + 1) * sizeof *rank);
    if (!items || !perm || !tmp || !first || !count || !group_of || !order || !rank) {
        st = NT_ERR_NOMEM;
        goto done;
    }
    if (total) {
        int64_t v[3] = {outer, n, inner};
        int p3[3] = {1, 0, 2};
        if ((st = nt_mv_transpose(x->data, items, es, 3, v, p3)) != NT_OK)
            goto done;
    }
    sort_ctx c = {items, len * (int64_t)es, (int64_t)es, len, es, comparator(x->dtype), false};
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    merge_sort(perm, tmp, n, &c);
    /* groups of equal items in sorted order; the first of each group (the
     * sort is stable) is its first occurrence */
    int64_t u = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i == 0 || item_cmp(&c, perm[i - 1], perm[i]) != 0) {
            first[u] = perm[i];
            count[u] = 0;
            u++;
        }
        count[u - 1]++;
        group_of[perm[i]] = u - 1;
    }
    /* output order: sorted groups, or groups by first occurrence */
    for (int64_t g = 0; g < u; g++)
        order[g] = g;
    if (!sorted) {
        sort_ctx fc = {(const char *)first, sizeof(int64_t), 0, 1, sizeof(int64_t), comparator(NT_DTYPE_INT64), false};
        merge_sort(order, tmp, u, &fc);
    }
    for (int64_t j = 0; j < u; j++)
        rank[order[j]] = j;

    /* Y: gather the unique items, then move the axis back */
    int64_t yd[NT_MAX_DIMS];
    int yr;
    if (a) {
        memcpy(yd, x->dims, sizeof yd);
        yd[axis] = u;
        yr = x->ndim;
    } else {
        yd[0] = u;
        yr = 1;
    }
    if ((st = nt_ctx_alloc_output(ctx, 0, x->dtype, yr, yd)) != NT_OK)
        goto done;
    nt_tensor *y = nt_ctx_out(ctx, 0);
    if (y && u > 0 && len > 0) {
        yt = nt_malloc((size_t)(u * len) * es);
        if (!yt) {
            st = NT_ERR_NOMEM;
            goto done;
        }
        for (int64_t j = 0; j < u; j++)
            memcpy(yt + j * len * (int64_t)es, items + first[order[j]] * len * (int64_t)es, (size_t)len * es);
        int64_t v[3] = {u, outer, inner};
        int p3[3] = {1, 0, 2};
        if ((st = nt_mv_transpose(yt, y->data, es, 3, v, p3)) != NT_OK)
            goto done;
    }
    if ((st = nt_ctx_alloc_output(ctx, 1, NT_DTYPE_INT64, 1, &u)) != NT_OK ||
        (st = nt_ctx_alloc_output(ctx, 2, NT_DTYPE_INT64, 1, &n)) != NT_OK ||
        (st = nt_ctx_alloc_output(ctx, 3, NT_DTYPE_INT64, 1, &u)) != NT_OK)
        goto done;
    nt_tensor *oi = nt_ctx_out(ctx, 1), *oinv = nt_ctx_out(ctx, 2), *oc = nt_ctx_out(ctx, 3);
    for (int64_t j = 0; j < u; j++) {
        if (oi)
            ((int64_t *)oi->data)[j] = first[order[j]];
        if (oc)
            ((int64_t *)oc->data)[j] = count[order[j]];
    }
    if (oinv)
        for (int64_t i = 0; i < n; i++)
            ((int64_t *)oinv->data)[i] = rank[group_of[i]];
done:
    free(items);
    free(perm);
    free(tmp);
    free(first);
    free(count);
    free(group_of);
    free(order);
    free(rank);
    free(yt);
    return st;
}
