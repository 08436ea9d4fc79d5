/*
 * pool.c — operator family "pool": MaxPool (with Indices), AveragePool,
 * LpPool, their Global* forms, MaxRoiPool and MaxUnpool.
 *
 * Layout is NCHW: X is (N, C, in...), Y is (N, C, out...).  Windowed pools
 * run one (n, c) plane per work item, in parallel over the N*C planes.  For
 * each output position the valid kernel range along every axis is computed
 * once, so the loops over taps have no bounds tests, and the last axis (the
 * contiguous one) is the innermost loop.  Lp sums are accumulated in double;
 * float32 averages in float32, in window order, as ONNX Runtime does.
 */
#include "ops/conv_geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum pool_kind { POOL_MAX, POOL_AVG, POOL_LP } pool_kind;

typedef struct pool_state {
    nt_window_attrs wa;
    pool_kind kind;
    bool global;
    bool count_include_pad;
    int64_t storage_order;
    double p;                    /* LpPool */
    int64_t pooled[2];           /* MaxRoiPool */
    float spatial_scale;
} pool_state;

/* ------------------------------------------------------------ prepare */

static nt_status pool_prepare_kind(const nt_node *node, int opset, void **state, pool_kind kind, bool global)
{
    *state = NULL;
    pool_state *st = nt_calloc(1, sizeof *st);
    if (!st)
        return NT_ERR_NOMEM;
    st->kind = kind;
    st->global = global;
    nt_status s = NT_OK;
    if (!global) {
        bool roi = strcmp(node->op_type, "MaxRoiPool") == 0;
        s = nt_window_parse(node, !roi, true, &st->wa);
        if (s != NT_OK)
            goto fail;
    }
    int64_t cip = nt_node_attr_int(node, "count_include_pad", 0);
    st->storage_order = nt_node_attr_int(node, "storage_order", 0);
    if ((cip != 0 && cip != 1) || (st->storage_order != 0 && st->storage_order != 1)) {
        s = nt_error(NT_ERR_PARSE, "node '%s' (%s): count_include_pad and storage_order must be 0 or 1",
                     node->name, node->op_type);
        goto fail;
    }
    st->count_include_pad = cip != 0;
    const nt_attr *pa = nt_node_attr(node, "p");
    st->p = 2.0;
    if (pa)
        st->p = pa->type == NT_ATTR_FLOAT ? (double)pa->f : (double)pa->i;
    if (kind == POOL_LP && !(st->p > 0)) {
        s = nt_error(NT_ERR_PARSE, "node '%s' (%s): p must be positive, got %g", node->name, node->op_type, st->p);
        goto fail;
    }
    const int64_t *ps;
    int np = nt_node_attr_ints(node, "pooled_shape", &ps);
    if (strcmp(node->op_type, "MaxRoiPool") == 0) {
        if (np != 2 || ps[0] < 1 || ps[1] < 1) {
            s = nt_error(NT_ERR_PARSE, "node '%s' (%s): pooled_shape must be two positive ints", node->name,
                         node->op_type);
            goto fail;
        }
        st->pooled[0] = ps[0];
        st->pooled[1] = ps[1];
        st->spatial_scale = nt_node_attr_float(node, "spatial_scale", 1.0f);
    }
    *state = st;
    return NT_OK;
fail:
    free(st);
    return s;
}

static nt_status maxpool_prepare(const nt_node *n, int opset, void **st) { return pool_prepare_kind(n, opset, st, POOL_MAX, false); }
static nt_status avgpool_prepare(const nt_node *n, int opset, void **st) { return pool_prepare_kind(n, opset, st, POOL_AVG, false); }
static nt_status lppool_prepare(const nt_node *n, int opset, void **st) { return pool_prepare_kind(n, opset, st, POOL_LP, false); }
static nt_status gmaxpool_prepare(const nt_node *n, int opset, void **st) { return pool_prepare_kind(n, opset, st, POOL_MAX, true); }
static nt_status gavgpool_prepare(const nt_node *n, int opset, void **st) { return pool_prepare_kind(n, opset, st, POOL_AVG, true); }
static nt_status glppool_prepare(const nt_node *n, int opset, void **st) { return pool_prepare_kind(n, opset, st, POOL_LP, true); }

static void pool_release(void *state)
{
    free(state);
}

/* ------------------------------------------------------------ shapes */

/* dtypes each pool computes: MaxPool also takes 8-bit integers (opset 12). */
static nt_status pool_check_dtype(const nt_kernel_ctx *ctx, nt_dtype t, bool allow_int8)
{
    if (t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || (ctx->static_mode && t == NT_DTYPE_UNDEFINED))
        return NT_OK;
    if (allow_int8 && (t == NT_DTYPE_UINT8 || t == NT_DTYPE_INT8))
        return NT_OK;
    return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(t));
}

/* Resolves the window of a windowed pool on X; *known false if X's rank is unknown. */
static nt_status pool_resolve(const nt_kernel_ctx *ctx, nt_window *w, bool *known)
{
    const pool_state *st = ctx->state;
    const nt_tensor *X = ctx->in[0];
    *known = false;
    if (X->ndim < 0)
        return NT_OK;
    if (X->ndim < 3)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X must have rank >= 3 (N, C, spatial...), got %d", X->ndim);
    if (st->wa.n_kernel != X->ndim - 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "kernel_shape has %d values for %d spatial dimensions",
                            st->wa.n_kernel, X->ndim - 2);
    nt_status s = nt_window_resolve(ctx, &st->wa, X->ndim - 2, X->dims + 2, st->wa.kernel, w);
    *known = s == NT_OK;
    return s;
}

static nt_status pool_infer(nt_kernel_ctx *ctx)
{
    const pool_state *st = ctx->state;
    const nt_tensor *X = nt_ctx_in(ctx, 0);
    if (!X)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input X is required");
    nt_status s = pool_check_dtype(ctx, X->dtype, st->kind == POOL_MAX);
    if (s != NT_OK)
        return s;
    nt_window w;
    bool known;
    if ((s = pool_resolve(ctx, &w, &known)) != NT_OK)
        return s;
    if (!known) {
        nt_ctx_set_output(ctx, 0, X->dtype, 0, NULL);
        nt_ctx_set_output(ctx, 1, NT_DTYPE_INT64, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    int64_t dims[NT_MAX_DIMS];
    dims[0] = X->dims[0];
    dims[1] = X->dims[1];
    for (int i = 0; i < w.nsp; i++)
        dims[i + 2] = w.out[i];
    if ((s = nt_ctx_set_output(ctx, 0, X->dtype, X->ndim, dims)) != NT_OK)
        return s;
    return nt_ctx_set_output(ctx, 1, NT_DTYPE_INT64, X->ndim, dims);
}

/* ------------------------------------------------------------ windowed kernels */

typedef struct pool_job {
    const pool_state *st;
    nt_window w;
    const void *x;
    void *y;
    int64_t *idx;                /* MaxPool Indices or NULL */
    int64_t IN, OUT;
    int64_t cm_stride[NT_MAX_SPATIAL];  /* column-major spatial strides for storage_order 1 */
} pool_job;

/* The valid taps [klo, khi) of an output at window start `start` on an axis
 * of size n with kernel k and dilation d. */
static void tap_range(int64_t start, int64_t k, int64_t d, int64_t n, int64_t *klo, int64_t *khi)
{
    int64_t lo = start < 0 ? (-start + d - 1) / d : 0;
    int64_t hi = n - 1 - start < 0 ? 0 : (n - 1 - start) / d + 1;
    if (hi > k)
        hi = k;
    *klo = lo;
    *khi = hi < lo ? lo : hi;
}

/* Taps of a window counted for count_include_pad: those inside the padded
 * extent [-pad_begin, n + pad_end). */
static int64_t padded_taps(int64_t start, int64_t k, int64_t d, int64_t n, int64_t pb, int64_t pe)
{
    int64_t lo, hi;
    tap_range(start + pb, k, d, n + pb + pe, &lo, &hi);
    return hi - lo;
}

/* One (n, c) plane: x (in...), y (out...).  Generated per element type;
 * ACC is the accumulator for sums, LOWEST the start of a max. */
#define NT_DEFINE_POOL_PLANES(NAME, T, LOWEST, AVG_T)                                                                  \
    static void NAME(void *arg, int64_t b, int64_t e)                                                            \
    {                                                                                                            \
        const pool_job *j = arg;                                                                                 \
        const nt_window *w = &j->w;                                                                              \
        const int nsp = w->nsp, L = nsp - 1;                                                                     \
        const pool_kind kind = j->st->kind;                                                                      \
        const double p = j->st->p;                                                                               \
        int64_t instride[NT_MAX_SPATIAL];                                                                        \
        instride[L] = 1;                                                                                         \
        for (int d = L - 1; d >= 0; d--)                                                                         \
            instride[d] = instride[d + 1] * w->in[d + 1];                                                        \
        for (int64_t q = b; q < e; q++) {                                                                        \
            const T *x = (const T *)j->x + q * j->IN;                                                            \
            T *y = (T *)j->y + q * j->OUT;                                                                       \
            int64_t opos[NT_MAX_SPATIAL] = {0};                                                                  \
            for (int64_t o = 0; o < j->OUT; o++) {                                                               \
                int64_t start[NT_MAX_SPATIAL], klo[NT_MAX_SPATIAL], khi[NT_MAX_SPATIAL], k[NT_MAX_SPATIAL];     \
                int64_t count = 1, padded = 1;                                                                   \
                for (int d = 0; d < nsp; d++) {                                                                  \
                    start[d] = opos[d] * w->stride[d] - w->pad_begin[d];                                         \
                    tap_range(start[d], w->kernel[d], w->dil[d], w->in[d], &klo[d], &khi[d]);                    \
                    count *= khi[d] - klo[d];                                                                    \
                    padded *= padded_taps(start[d], w->kernel[d], w->dil[d], w->in[d], w->pad_begin[d],          \
                                          w->pad_end[d]);                                                        \
                    k[d] = klo[d];                                                                               \
                }                                                                                                \
                T best = LOWEST;                                                                                 \
                int64_t best_at = -1;                                                                            \
                double sum = 0;                                                                                  \
                AVG_T asum = 0;                                                                                  \
                while (count > 0) {                                                                              \
                    int64_t off = 0;                                                                             \
                    for (int d = 0; d < L; d++)                                                                  \
                        off += (start[d] + k[d] * w->dil[d]) * instride[d];                                      \
                    const int64_t base = off + start[L];                                                         \
                    const int64_t dl = w->dil[L];                                                                \
                    if (kind == POOL_MAX) {                                                                      \
                        for (int64_t t = klo[L]; t < khi[L]; t++)                                                \
                            if (x[base + t * dl] > best || best_at < 0) {                                             \
                                best = x[base + t * dl];                                                              \
                                best_at = base + t * dl;                                                         \
                            }                                                                                    \
                    } else if (kind == POOL_AVG) {                                                               \
                        for (int64_t t = klo[L]; t < khi[L]; t++)                                                \
                            asum += (AVG_T)x[base + t * dl];                                                     \
                    } else if (p == 1.0) {                                                                       \
                        for (int64_t t = klo[L]; t < khi[L]; t++)                                                \
                            sum += fabs((double)x[base + t * dl]);                                               \
                    } else if (p == 2.0) {                                                                       \
                        for (int64_t t = klo[L]; t < khi[L]; t++)                                                \
                            sum += (double)x[base + t * dl] * (double)x[base + t * dl];                                    \
                    } else {                                                                                     \
                        for (int64_t t = klo[L]; t < khi[L]; t++)                                                \
                            sum += pow(fabs((double)x[base + t * dl]), p);                                            \
                    }                                                                                            \
                    int d = L - 1;                                                                               \
                    for (; d >= 0; d--) {                                                                        \
                        if (++k[d] < khi[d])                                                                     \
                            break;                                                                               \
                        k[d] = klo[d];                                                                           \
                    }                                                                                            \
                    if (d < 0)                                                                                   \
                        break;                                                                                   \
                }                                                                                                \
                if (kind == POOL_MAX) {                                                                          \
                    y[o] = best;                                                                                 \
                    if (j->idx) {                                                                                \
                        int64_t flat = best_at < 0 ? 0 : best_at;                                                \
                        if (j->st->storage_order == 1 && best_at >= 0) {                                         \
                            flat = 0;                                                                            \
                            for (int d = 0; d < nsp; d++)                                                        \
                                flat += (best_at / instride[d] % w->in[d]) * j->cm_stride[d];                    \
                        }                                                                                        \
                        j->idx[q * j->OUT + o] = q * j->IN + flat;                                               \
                    }                                                                                            \
                } else if (kind == POOL_AVG) {                                                                   \
                    int64_t div = j->st->count_include_pad ? padded : count;                                     \
                    y[o] = (T)(div > 0 ? asum / (AVG_T)div : (AVG_T)0);                                          \
                } else {                                                                                         \
                    y[o] = (T)(p == 1.0 ? sum : p == 2.0 ? sqrt(sum) : pow(sum, 1.0 / p));                       \
                }                                                                                                \
                for (int d = L; d >= 0; d--) {                                                                   \
                    if (++opos[d] < w->out[d])                                                                   \
                        break;                                                                                   \
                    opos[d] = 0;                                                                                 \
                }                                                                                                \
            }                                                                                                    \
        }                                                                                                        \
    }

/* float32 averages sum in float32 in window order and divide by the count in
 * float32, as ONNX Runtime's pooling kernels do, so an AveragePool between two
 * quantize steps gives the same bits (tests/e2e/quant_check.py). */
NT_DEFINE_POOL_PLANES(pool_planes_f32, float, -INFINITY, float)
NT_DEFINE_POOL_PLANES(pool_planes_f64, double, -INFINITY, double)
NT_DEFINE_POOL_PLANES(pool_planes_u8, uint8_t, 0, double)
NT_DEFINE_POOL_PLANES(pool_planes_i8, int8_t, INT8_MIN, double)

/* Fast path for the common case: 2-D, float32, no Indices output, dilation 1,
 * max or average.  Per output row the vertical tap range is computed once;
 * interior columns (window fully inside the row) skip the bound checks.
 * Same arithmetic as the generic path (max, or a float sum in window order
 * divided by the same count), so results are identical. */
static void pool2d_f32(void *arg, int64_t b, int64_t e)
{
    const pool_job *j = arg;
    const nt_window *w = &j->w;
    const int64_t H = w->in[0], W = w->in[1], OH = w->out[0], OW = w->out[1];
    const int64_t kh = w->kernel[0], kw = w->kernel[1], sh = w->stride[0], sw = w->stride[1];
    const int64_t ph = w->pad_begin[0], pw = w->pad_begin[1];
    const bool is_max = j->st->kind == POOL_MAX, inc_pad = j->st->count_include_pad;
    for (int64_t q = b; q < e; q++) {
        const float *x = (const float *)j->x + q * j->IN;
        float *y = (float *)j->y + q * j->OUT;
        for (int64_t oh = 0; oh < OH; oh++) {
            /* dilation 1: the valid taps are a clamp, no division needed */
            int64_t hs = oh * sh - ph;
            int64_t h0 = hs < 0 ? -hs : 0, h1 = NT_MIN(kh, H - hs);
            int64_t hpad = inc_pad ? padded_taps(hs, kh, 1, H, ph, w->pad_end[0]) : 0;
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t ws = ow * sw - pw;
                int64_t w0 = ws < 0 ? -ws : 0, w1 = NT_MIN(kw, W - ws);
                if (is_max) {
                    float best = -INFINITY;
                    bool any = false;
                    for (int64_t th = h0; th < h1; th++) {
                        const float *row = x + (hs + th) * W + ws;
                        for (int64_t tw = w0; tw < w1; tw++) {
                            if (row[tw] > best || !any)
                                best = row[tw];
                            any = true;
                        }
                    }
                    y[oh * OW + ow] = best;
                } else {
                    float sum = 0;
                    for (int64_t th = h0; th < h1; th++) {
                        const float *row = x + (hs + th) * W + ws;
                        for (int64_t tw = w0; tw < w1; tw++)
                            sum += row[tw];
                    }
                    int64_t div = inc_pad ? hpad * padded_taps(ws, kw, 1, W, pw, w->pad_end[1])
                                          : NT_MAX(h1 - h0, 0) * NT_MAX(w1 - w0, 0);
                    y[oh * OW + ow] = div > 0 ? sum / (float)div : 0.0f;
                }
            }
        }
    }
}

/* The first NaN wins, otherwise the larger value (the earlier on ties), so
 * a NaN anywhere in a window reaches the output: a tracer must see it. */
static inline float max_nan(float a, float b)
{
    float m = b > a ? b : a;
    return b != b ? b : m;
}

#define MAXPOOL_ROW_MAX 4096

/* MaxPool fast path (2-D, float32, dilation 1, no Indices, input rows of at
 * most MAXPOOL_ROW_MAX): per output row, the valid input rows of the window
 * are first reduced column by column into one row (a contiguous loop gcc
 * vectorizes), then each output takes the max of its kw columns of it. */
NT_CLONES NT_VECTORIZE static void maxpool2d_f32(void *arg, int64_t b, int64_t e)
{
    const pool_job *j = arg;
    const nt_window *w = &j->w;
    const int64_t H = w->in[0], W = w->in[1], OH = w->out[0], OW = w->out[1];
    const int64_t kh = w->kernel[0], kw = w->kernel[1], sh = w->stride[0], sw = w->stride[1];
    const int64_t ph = w->pad_begin[0], pw = w->pad_begin[1];
    float colmax[MAXPOOL_ROW_MAX];
    for (int64_t q = b; q < e; q++) {
        const float *x = (const float *)j->x + q * j->IN;
        float *y = (float *)j->y + q * j->OUT;
        for (int64_t oh = 0; oh < OH; oh++) {
            int64_t hs = oh * sh - ph;
            int64_t h0 = hs < 0 ? -hs : 0, h1 = NT_MIN(kh, H - hs);
            if (h1 <= h0) {
                for (int64_t ow = 0; ow < OW; ow++)
                    y[oh * OW + ow] = -INFINITY;
                continue;
            }
            const float *r0 = x + (hs + h0) * W;
            for (int64_t i = 0; i < W; i++)
                colmax[i] = r0[i];
            for (int64_t th = h0 + 1; th < h1; th++) {
                const float *restrict r = x + (hs + th) * W;
                /* Two selects gcc turns into max and blend (no branches on
                 * data): a NaN already kept stays, a new NaN is taken. */
                for (int64_t i = 0; i < W; i++) {
                    float a = colmax[i], v = r[i];
                    float m = v > a ? v : a;
                    colmax[i] = v != v ? v : m;
                }
            }
            /* [olo, ohi): windows wholly inside the row; the common 3-wide
             * ones get a loop with constant offsets that vectorizes. */
            int64_t olo = (pw + sw - 1) / sw, ohi = W - kw + pw < 0 ? 0 : (W - kw + pw) / sw + 1;
            ohi = NT_MIN(ohi, OW);
            olo = NT_MIN(olo, ohi);
            float *yr = y + oh * OW;
            if (kw == 3 && sw == 2) {
                for (int64_t ow = olo; ow < ohi; ow++) {
                    const float *c = colmax + 2 * ow - pw;
                    yr[ow] = max_nan(max_nan(c[0], c[1]), c[2]);
                }
            } else if (kw == 3 && sw == 1) {
                for (int64_t ow = olo; ow < ohi; ow++) {
                    const float *c = colmax + ow - pw;
                    yr[ow] = max_nan(max_nan(c[0], c[1]), c[2]);
                }
            } else {
                olo = ohi = 0;
            }
            for (int64_t ow = 0; ow < OW; ow++) {
                if (ow == olo && olo < ohi)
                    ow = ohi;
                if (ow >= OW)
                    break;
                int64_t ws = ow * sw - pw;
                int64_t w0 = ws < 0 ? -ws : 0, w1 = NT_MIN(kw, W - ws);
                float best = -INFINITY;
                if (w0 < w1) {
                    best = colmax[ws + w0];
                    for (int64_t tw = w0 + 1; tw < w1; tw++)
                        best = max_nan(best, colmax[ws + tw]);
                }
                yr[ow] = best;
            }
        }
    }
}

static nt_status pool_compute(nt_kernel_ctx *ctx)
{
    const pool_state *st = ctx->state;
    const nt_tensor *X = ctx->in[0];
    nt_tensor *Y = ctx->out[0], *I = nt_ctx_out(ctx, 1);
    pool_job j = {0};
    bool known;
    nt_status s = pool_resolve(ctx, &j.w, &known);
    if (s != NT_OK)
        return s;
    if (I && st->kind != POOL_MAX)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "only MaxPool has an Indices output");
    j.st = st;
    j.x = X->data;
    j.y = Y->data;
    j.idx = I ? I->data : NULL;
    j.IN = nt_window_in_size(&j.w);
    j.OUT = nt_window_out_size(&j.w);
    int64_t cm = 1;
    for (int d = 0; d < j.w.nsp; d++) {
        j.cm_stride[d] = cm;
        cm *= j.w.in[d];
    }
    int64_t planes = X->dims[0] * X->dims[1];
    if (j.OUT == 0 || planes == 0)
        return NT_OK;
    bool simple2d = X->dtype == NT_DTYPE_FLOAT && j.w.nsp == 2 && !j.idx && j.w.dil[0] == 1 && j.w.dil[1] == 1 &&
                    (st->kind == POOL_MAX || st->kind == POOL_AVG);
    bool fastmax = simple2d && st->kind == POOL_MAX && j.w.in[1] <= MAXPOOL_ROW_MAX;
    nt_range_fn fn = fastmax                       ? maxpool2d_f32
                     : simple2d                    ? pool2d_f32
                     : X->dtype == NT_DTYPE_FLOAT  ? pool_planes_f32
                     : X->dtype == NT_DTYPE_DOUBLE ? pool_planes_f64
                     : X->dtype == NT_DTYPE_UINT8  ? pool_planes_u8
                                                   : pool_planes_i8;
    nt_parallel_for(ctx->exec, planes, 1, fn, &j);
    return NT_OK;
}

/* ------------------------------------------------------------ global pools */

static nt_status global_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *X = nt_ctx_in(ctx, 0);
    if (!X)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input X is required");
    nt_status s = pool_check_dtype(ctx, X->dtype, false);
    if (s != NT_OK)
        return s;
    if (X->ndim < 0) {
        nt_ctx_set_output(ctx, 0, X->dtype, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    if (X->ndim < 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X must have rank >= 2, got %d", X->ndim);
    int64_t dims[NT_MAX_DIMS];
    for (int i = 0; i < X->ndim; i++)
        dims[i] = i < 2 ? X->dims[i] : 1;
    return nt_ctx_set_output(ctx, 0, X->dtype, X->ndim, dims);
}

typedef struct global_job {
    const pool_state *st;
    const void *x;
    void *y;
    int64_t n;                   /* elements per plane */
} global_job;

/* y[q] = reduction of plane q (n elements).  Four partial sums let the
 * compiler keep several accumulators without reassociating (no -ffast-math). */
#define NT_DEFINE_GLOBAL(NAME, T)                                                            \
    static void NAME(void *arg, int64_t b, int64_t e)                                        \
    {                                                                                        \
        const global_job *j = arg;                                                           \
        const double p = j->st->p;                                                           \
        for (int64_t q = b; q < e; q++) {                                                    \
            const T *x = (const T *)j->x + q * j->n;                                         \
            double r;                                                                        \
            if (j->st->kind == POOL_MAX) {                                                   \
                T m = j->n > 0 ? x[0] : (T)0;                                                \
                for (int64_t i = 1; i < j->n; i++)                                           \
                    m = x[i] > m ? x[i] : m;                                                 \
                r = m;                                                                       \
            } else {                                                                         \
                double s[4] = {0, 0, 0, 0};                                                  \
                int64_t i = 0;                                                               \
                if (j->st->kind == POOL_AVG) {                                               \
                    for (; i + 4 <= j->n; i += 4)                                            \
                        for (int u = 0; u < 4; u++)                                          \
                            s[u] += x[i + u];                                                \
                    for (; i < j->n; i++)                                                    \
                        s[0] += x[i];                                                        \
                } else {                                                                     \
                    for (; i < j->n; i++)                                                    \
                        s[0] += p == 2.0 ? (double)x[i] * x[i] : pow(fabs((double)x[i]), p); \
                }                                                                            \
                double sum = (s[0] + s[1]) + (s[2] + s[3]);                                  \
                if (j->st->kind == POOL_AVG)                                                 \
                    r = j->n > 0 ? sum / (double)j->n : NAN;                                 \
                else                                                                         \
                    r = p == 2.0 ? sqrt(sum) : pow(sum, 1.0 / p);                            \
            }                                                                                \
            ((T *)j->y)[q] = (T)r;                                                           \
        }                                                                                    \
    }

NT_DEFINE_GLOBAL(global_f32, float)
NT_DEFINE_GLOBAL(global_f64, double)

static nt_status global_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *X = ctx->in[0];
    global_job j = {ctx->state, X->data, ctx->out[0]->data, 1};
    for (int i = 2; i < X->ndim; i++)
        j.n *= X->dims[i];
    int64_t planes = X->dims[0] * X->dims[1];
    nt_parallel_for(ctx->exec, planes, 1, X->dtype == NT_DTYPE_FLOAT ? global_f32 : global_f64, &j);
    return NT_OK;
}

/* ------------------------------------------------------------ MaxRoiPool */

/* X (N,C,H,W), rois (R,5) rows [batch, x1, y1, x2, y2] in input coordinates
 * before spatial_scale; Y (R,C,PH,PW): the max of each of PH x PW bins. */
static nt_status roipool_infer(nt_kernel_ctx *ctx)
{
    const pool_state *st = ctx->state;
    const nt_tensor *X = nt_ctx_in(ctx, 0), *R = nt_ctx_in(ctx, 1);
    if (!X || !R)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs X and rois are required");
    nt_status s = pool_check_dtype(ctx, X->dtype, false);
    if (s != NT_OK)
        return s;
    if (R->dtype != X->dtype && !(ctx->static_mode && R->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "rois must have X's dtype");
    if (X->ndim < 0 || R->ndim < 0) {
        nt_ctx_set_output(ctx, 0, X->dtype, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    if (X->ndim != 4 || R->ndim != 2 || (R->dims[1] >= 0 && R->dims[1] != 5))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X must be (N,C,H,W) and rois (num_rois, 5)");
    int64_t dims[4] = {R->dims[0], X->dims[1], st->pooled[0], st->pooled[1]};
    return nt_ctx_set_output(ctx, 0, X->dtype, 4, dims);
}

#define NT_DEFINE_ROIPOOL(NAME, T)                                                                               \
    static nt_status NAME(nt_kernel_ctx *ctx)                                                                    \
    {                                                                                                            \
        const pool_state *st = ctx->state;                                                                       \
        const nt_tensor *X = ctx->in[0], *R = ctx->in[1];                                                        \
        const int64_t N = X->dims[0], C = X->dims[1], H = X->dims[2], W = X->dims[3];                            \
        const int64_t PH = st->pooled[0], PW = st->pooled[1];                                                    \
        const T *rois = R->data;                                                                                 \
        T *y = ctx->out[0]->data;                                                                                \
        for (int64_t r = 0; r < R->dims[0]; r++) {                                                               \
            const T *roi = rois + r * 5;                                                                         \
            int64_t n = (int64_t)roi[0];                                                                         \
            if (!(roi[0] >= 0) || n >= N)                                                                        \
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "roi %lld has batch index %g outside [0, %lld)",          \
                                    (long long)r, (double)roi[0], (long long)N);                                 \
            int64_t x1 = (int64_t)round(roi[1] * st->spatial_scale);                                             \
            int64_t y1 = (int64_t)round(roi[2] * st->spatial_scale);                                             \
            int64_t x2 = (int64_t)round(roi[3] * st->spatial_scale);                                             \
            int64_t y2 = (int64_t)round(roi[4] * st->spatial_scale);                                             \
            double bh = (double)NT_MAX(y2 - y1 + 1, 1) / (double)PH;                                             \
            double bw = (double)NT_MAX(x2 - x1 + 1, 1) / (double)PW;                                             \
            for (int64_t c = 0; c < C; c++) {                                                                    \
                const T *xp = (const T *)X->data + (n * C + c) * H * W;                                          \
                T *yp = y + (r * C + c) * PH * PW;                                                               \
                for (int64_t ph = 0; ph < PH; ph++)                                                              \
                    for (int64_t pw = 0; pw < PW; pw++) {                                                        \
                        int64_t hs = NT_MIN(NT_MAX((int64_t)floor(ph * bh) + y1, 0), H);                         \
                        int64_t he = NT_MIN(NT_MAX((int64_t)ceil((ph + 1) * bh) + y1, 0), H);                    \
                        int64_t ws = NT_MIN(NT_MAX((int64_t)floor(pw * bw) + x1, 0), W);                         \
                        int64_t we = NT_MIN(NT_MAX((int64_t)ceil((pw + 1) * bw) + x1, 0), W);                    \
                        T m = -INFINITY;                                                                         \
                        bool any = false;                                                                        \
                        for (int64_t h = hs; h < he; h++)                                                        \
                            for (int64_t w = ws; w < we; w++) {                                                  \
                                if (!any || xp[h * W + w] > m)                                                   \
                                    m = xp[h * W + w];                                                           \
                                any = true;                                                                      \
                            }                                                                                    \
                        yp[ph * PW + pw] = any ? m : (T)0;                                                       \
                    }                                                                                            \
            }                                                                                                    \
        }                                                                                                        \
        return NT_OK;                                                                                            \
    }

NT_DEFINE_ROIPOOL(roipool_f32, float)
NT_DEFINE_ROIPOOL(roipool_f64, double)

static nt_status roipool_compute(nt_kernel_ctx *ctx)
{
    return ctx->in[0]->dtype == NT_DTYPE_FLOAT ? roipool_f32(ctx) : roipool_f64(ctx);
}

/* ------------------------------------------------------------ MaxUnpool */

/* X (N,C,in...) values, I (same shape) flat indices into Y, optional
 * output_shape (input 2, the full shape of Y).  Default Y spatial size is
 * (in-1)*stride + kernel - pad_begin - pad_end.  Y is zero except Y[I] = X. */
static nt_status unpool_shape(const nt_kernel_ctx *ctx, int64_t *dims, bool *known)
{
    const pool_state *st = ctx->state;
    const nt_tensor *X = ctx->in[0], *S = nt_ctx_in(ctx, 2);
    *known = false;
    if (X->ndim < 0)
        return NT_OK;
    int nsp = X->ndim - 2;
    if (nsp < 1 || st->wa.n_kernel != nsp || (st->wa.n_strides && st->wa.n_strides != nsp) ||
        (st->wa.n_pads && st->wa.n_pads != 2 * nsp))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "attributes do not match X of rank %d", X->ndim);
    if (S) {
        if (ctx->static_mode && !S->data)
            return NT_OK;
        int64_t n = nt_tensor_read_ints(S, dims, NT_MAX_DIMS);
        if (n < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "output_shape: %s", nt_last_error());
        if (n != X->ndim)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "output_shape has %lld values for rank %d", (long long)n,
                                X->ndim);
        for (int i = 0; i < X->ndim; i++)
            if (dims[i] < 0)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "output_shape[%d] is negative", i);
    } else {
        dims[0] = X->dims[0];
        dims[1] = X->dims[1];
        for (int i = 0; i < nsp; i++) {
            int64_t x = X->dims[i + 2], s = st->wa.n_strides ? st->wa.strides[i] : 1;
            int64_t pads = st->wa.n_pads ? st->wa.pads[i] + st->wa.pads[i + nsp] : 0;
            dims[i + 2] = x < 0 ? -1 : (x - 1) * s + st->wa.kernel[i] - pads;
            if (x >= 0 && dims[i + 2] < 0)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "negative output size on spatial axis %d", i);
        }
    }
    *known = true;
    return NT_OK;
}

static nt_status unpool_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *X = nt_ctx_in(ctx, 0), *I = nt_ctx_in(ctx, 1);
    if (!X || !I)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs X and I are required");
    nt_status s = pool_check_dtype(ctx, X->dtype, false);
    if (s != NT_OK)
        return s;
    if (I->dtype != NT_DTYPE_INT64 && !(ctx->static_mode && I->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "I must be int64");
    int64_t dims[NT_MAX_DIMS];
    bool known;
    if ((s = unpool_shape(ctx, dims, &known)) != NT_OK)
        return s;
    if (!known) {
        nt_ctx_set_output(ctx, 0, X->dtype, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, X->dtype, X->ndim, dims);
}

/* Indices address the default-size output (what the MaxPool that made them
 * saw); with an explicit output_shape each index is converted to coordinates
 * in the default shape and re-flattened in Y's shape. */
static nt_status unpool_compute(nt_kernel_ctx *ctx)
{
    const pool_state *st = ctx->state;
    const nt_tensor *X = ctx->in[0], *I = ctx->in[1];
    nt_tensor *Y = ctx->out[0];
    int64_t n = nt_tensor_numel(X), ny = nt_tensor_numel(Y);
    if (nt_tensor_numel(I) != n)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "I has %lld elements but X has %lld", (long long)nt_tensor_numel(I),
                            (long long)n);
    int nsp = X->ndim - 2;
    int64_t def[NT_MAX_DIMS], ndef = X->dims[0] * X->dims[1];
    bool same = true;
    def[0] = X->dims[0];
    def[1] = X->dims[1];
    for (int i = 0; i < nsp; i++) {
        int64_t s = st->wa.n_strides ? st->wa.strides[i] : 1;
        int64_t pads = st->wa.n_pads ? st->wa.pads[i] + st->wa.pads[i + nsp] : 0;
        def[i + 2] = (X->dims[i + 2] - 1) * s + st->wa.kernel[i] - pads;
        ndef *= def[i + 2];
    }
    for (int i = 0; i < X->ndim; i++)
        same = same && def[i] == Y->dims[i];
    size_t esz = nt_dtype_size(Y->dtype);
    memset(Y->data, 0, (size_t)ny * esz);
    const int64_t *idx = I->data;
    for (int64_t i = 0; i < n; i++) {
        int64_t at = idx[i];
        if (at < 0 || at >= (same ? ny : ndef))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "index %lld is outside the pooled input's %lld elements",
                                (long long)at, (long long)(same ? ny : ndef));
        if (!same) {
            int64_t coord[NT_MAX_DIMS], rest = at;
            for (int d = X->ndim - 1; d >= 0; d--) {
                coord[d] = rest % def[d];
                rest /= def[d];
            }
            at = 0;
            for (int d = 0; d < X->ndim; d++) {
                if (coord[d] >= Y->dims[d])
                    return nt_ctx_error(ctx, NT_ERR_SHAPE, "index %lld falls outside output_shape", (long long)idx[i]);
                at = at * Y->dims[d] + coord[d];
            }
        }
        memcpy((char *)Y->data + at * (int64_t)esz, (const char *)X->data + i * (int64_t)esz, esz);
    }
    return NT_OK;
}

/* ------------------------------------------------------------ table */

const nt_op_def nt_ops_pool[] = {
    {"MaxPool", "", 1, maxpool_prepare, pool_release, pool_infer, pool_compute},
    {"AveragePool", "", 1, avgpool_prepare, pool_release, pool_infer, pool_compute},
    {"LpPool", "", 1, lppool_prepare, pool_release, pool_infer, pool_compute},
    {"GlobalMaxPool", "", 1, gmaxpool_prepare, pool_release, global_infer, global_compute},
    {"GlobalAveragePool", "", 1, gavgpool_prepare, pool_release, global_infer, global_compute},
    {"GlobalLpPool", "", 1, glppool_prepare, pool_release, global_infer, global_compute},
    {"MaxRoiPool", "", 1, maxpool_prepare, pool_release, roipool_infer, roipool_compute},
    {"MaxUnpool", "", 9, maxpool_prepare, pool_release, unpool_infer, unpool_compute},
};
const size_t nt_ops_pool_count = NT_ARRAY_LEN(nt_ops_pool);
