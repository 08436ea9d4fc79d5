/*
 * extra.c — operator family "extra": recent ONNX operators that belong to no
 * older family.  (TensorScatter, also recent, lives in the index family.)
 *
 *   BitCast (26)          reinterpret the bytes as another type of equal width
 *   CumProd (26)          cumulative product along an axis (exclusive/reverse)
 *   RotaryEmbedding (23)  rotary position embedding of (B, H, S, D) or (B, S, H*D)
 *   AffineGrid (20)       sampling grid of a batch of 2-D/3-D affine transforms
 *   SwiGLU (28)           swish(a, alpha) * b
 *
 * CausalConvWithState and LinearAttention live in extra_recurrent.c,
 * TfIdfVectorizer, Binarizer and ArrayFeatureExtractor (ai.onnx.ml) in
 * extra_ml.c; all are listed in this family's table.  Floating kernels
 * compute in float32 (double for double data) and round float16/bfloat16
 * where the ONNX function body rounds, so results match the reference at
 * the storage precision.
 */
#include "ops/attention_util.h"
#include "ops/extra_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ BitCast */

static nt_status bitcast_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs an input");
    int64_t to = nt_node_attr_int(ctx->node, "to", 0);
    if (to <= 0 || to >= NT_DTYPE_COUNT || to == NT_DTYPE_STRING)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "target type %lld is not supported", (long long)to);
    nt_dtype dt = (nt_dtype)to;
    size_t si = nt_dtype_size(x->dtype), so = nt_dtype_size(dt);
    /* Sub-byte types (int4, float4) pack two values per byte: declined. */
    if (si == 0 || so == 0 || x->dtype == NT_DTYPE_STRING || x->dtype == NT_DTYPE_INT4 ||
        x->dtype == NT_DTYPE_UINT4 || x->dtype == NT_DTYPE_FLOAT4E2M1 || dt == NT_DTYPE_INT4 ||
        dt == NT_DTYPE_UINT4 || dt == NT_DTYPE_FLOAT4E2M1)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "bitcast from %s to %s is not supported",
                            nt_dtype_name(x->dtype), nt_dtype_name(dt));
    if (si != so)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s and %s differ in bit width", nt_dtype_name(x->dtype),
                            nt_dtype_name(dt));
    if (x->ndim < 0) {
        ctx->out[0]->dtype = dt;
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, dt, x->ndim, x->dims);
}

static nt_status bitcast_compute(nt_kernel_ctx *ctx)
{
    /* Both little-endian in memory on the machines we run on, as ONNX asks. */
    size_t n = nt_tensor_nbytes(ctx->in[0]);
    if (n)
        memcpy(ctx->out[0]->data, ctx->in[0]->data, n);
    return NT_OK;
}

/* ------------------------------------------------------------------ CumProd */

typedef struct cumprod_attrs {
    bool exclusive, reverse;
} cumprod_attrs;

static nt_status cumprod_prepare(const nt_node *n, int opset, void **state)
{
    cumprod_attrs *a = nt_calloc(1, sizeof *a);
    if (!a)
        return NT_ERR_NOMEM;
    a->exclusive = nt_node_attr_int(n, "exclusive", 0) != 0;
    a->reverse = nt_node_attr_int(n, "reverse", 0) != 0;
    *state = a;
    return NT_OK;
}

static bool cumprod_dtype(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_FLOAT: case NT_DTYPE_DOUBLE: case NT_DTYPE_FLOAT16: case NT_DTYPE_BFLOAT16:
    case NT_DTYPE_INT32: case NT_DTYPE_INT64: case NT_DTYPE_UINT32: case NT_DTYPE_UINT64:
        return true;
    default:
        return false;
    }
}

static nt_status cumprod_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *ax = nt_ctx_in(ctx, 1);
    if (!cumprod_dtype(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(x->dtype));
    if (!ax || (ax->dtype != NT_DTYPE_INT32 && ax->dtype != NT_DTYPE_INT64))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis must be an int32 or int64 scalar");
    if (x->ndim < 0) {
        ctx->out[0]->dtype = x->dtype;
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

/* x viewed as (O, N, I), the product running along N. */
#define CUMPROD_LOOP(T, ACC, LOAD, STORE)                                              \
    static void cumprod_##T(const void *xv, void *yv, int64_t O, int64_t N, int64_t I, \
                            bool excl, bool rev, nt_dtype dt)                          \
    {                                                                                  \
        const T *x = xv;                                                               \
        T *y = yv;                                                                     \
        (void)dt;                                                                      \
        for (int64_t o = 0; o < O; o++)                                                \
            for (int64_t i = 0; i < I; i++) {                                          \
                ACC p = 1;                                                             \
                for (int64_t k = 0; k < N; k++) {                                      \
                    int64_t kk = rev ? N - 1 - k : k;                                  \
                    int64_t at = (o * N + kk) * I + i;                                 \
                    ACC v = LOAD(x[at]);                                               \
                    if (excl) {                                                        \
                        y[at] = STORE(p);                                              \
                        p = p * v;                                                     \
                    } else {                                                           \
                        p = p * v;                                                     \
                        y[at] = STORE(p);                                              \
                    }                                                                  \
                }                                                                      \
            }                                                                          \
    }
#define CP_ID(v) (v)
typedef uint16_t half_bits;
CUMPROD_LOOP(float, float, CP_ID, CP_ID)
CUMPROD_LOOP(double, double, CP_ID, CP_ID)
CUMPROD_LOOP(int32_t, int32_t, CP_ID, CP_ID)
CUMPROD_LOOP(int64_t, int64_t, CP_ID, CP_ID)
CUMPROD_LOOP(uint32_t, uint32_t, CP_ID, CP_ID)
CUMPROD_LOOP(uint64_t, uint64_t, CP_ID, CP_ID)

/* float16 / bfloat16: each partial product is rounded to the storage type,
 * as a product computed in that type would be. */
static void cumprod_half(const nt_tensor *x, nt_tensor *y, int64_t O, int64_t N, int64_t I, bool excl, bool rev)
{
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++) {
            float p = 1;
            for (int64_t k = 0; k < N; k++) {
                int64_t at = (o * N + (rev ? N - 1 - k : k)) * I + i;
                float v = nt_att_get(x, at);
                if (excl) {
                    nt_att_set(y, at, p);
                    p = nt_att_round(x->dtype, p * v);
                } else {
                    p = nt_att_round(x->dtype, p * v);
                    nt_att_set(y, at, p);
                }
            }
        }
}

static nt_status cumprod_compute(nt_kernel_ctx *ctx)
{
    const cumprod_attrs *a = ctx->state;
    const nt_tensor *x = ctx->in[0];
    int64_t axis;
    if (nt_tensor_numel(ctx->in[1]) != 1 || nt_tensor_read_ints(ctx->in[1], &axis, 1) != 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis must hold one integer");
    int r = x->ndim;
    if (axis < -r || axis >= (r ? r : 1))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld is out of range for rank %d", (long long)axis, r);
    if (axis < 0)
        axis += r;
    int64_t O = 1, N = r ? x->dims[axis] : 1, I = 1;
    for (int d = 0; d < axis; d++)
        O *= x->dims[d];
    for (int d = (int)axis + 1; d < r; d++)
        I *= x->dims[d];
    void *y = ctx->out[0]->data;
    switch (x->dtype) {
    case NT_DTYPE_FLOAT: cumprod_float(x->data, y, O, N, I, a->exclusive, a->reverse, x->dtype); break;
    case NT_DTYPE_DOUBLE: cumprod_double(x->data, y, O, N, I, a->exclusive, a->reverse, x->dtype); break;
    case NT_DTYPE_INT32: cumprod_int32_t(x->data, y, O, N, I, a->exclusive, a->reverse, x->dtype); break;
    case NT_DTYPE_INT64: cumprod_int64_t(x->data, y, O, N, I, a->exclusive, a->reverse, x->dtype); break;
    case NT_DTYPE_UINT32: cumprod_uint32_t(x->data, y, O, N, I, a->exclusive, a->reverse, x->dtype); break;
    case NT_DTYPE_UINT64: cumprod_uint64_t(x->data, y, O, N, I, a->exclusive, a->reverse, x->dtype); break;
    default: cumprod_half(x, ctx->out[0], O, N, I, a->exclusive, a->reverse); break;
    }
    return NT_OK;
}

/* ---------------------------------------------------------- RotaryEmbedding */

typedef struct rope_attrs {
    bool interleaved;
    int64_t num_heads, rot_dim;
} rope_attrs;

static nt_status rope_prepare(const nt_node *n, int opset, void **state)
{
    rope_attrs *a = nt_calloc(1, sizeof *a);
    if (!a)
        return NT_ERR_NOMEM;
    a->interleaved = nt_node_attr_int(n, "interleaved", 0) != 0;
    a->num_heads = nt_node_attr_int(n, "num_heads", 0);
    a->rot_dim = nt_node_attr_int(n, "rotary_embedding_dim", 0);
    *state = a;
    return NT_OK;
}

/* The layout: B, S, H, D and the rotated width R (even, <= D). */
typedef struct rope_geom {
    int64_t B, S, H, D, R;
    bool is3;
} rope_geom;

static nt_status rope_geometry(nt_kernel_ctx *ctx, rope_geom *g)
{
    const rope_attrs *a = ctx->state;
    const nt_tensor *x = ctx->in[0], *cc = ctx->in[1], *sc = ctx->in[2], *pos = nt_ctx_in(ctx, 3);
    if (x->ndim == 4) {
        g->B = x->dims[0], g->H = x->dims[1], g->S = x->dims[2], g->D = x->dims[3];
        g->is3 = false;
    } else if (x->ndim == 3) {
        if (a->num_heads <= 0 || x->dims[2] % a->num_heads)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "3-D input needs num_heads dividing its hidden size");
        g->B = x->dims[0], g->S = x->dims[1], g->H = a->num_heads, g->D = x->dims[2] / a->num_heads;
        g->is3 = true;
    } else {
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be 3-D or 4-D");
    }
    g->R = a->rot_dim > 0 ? a->rot_dim : g->D;
    if (g->R > g->D || g->R % 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "rotary_embedding_dim %lld must be even and <= head size %lld",
                            (long long)g->R, (long long)g->D);
    int want = pos ? 2 : 3;
    if (cc->ndim != want || sc->ndim != want)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "cos/sin caches must be %d-D %s position_ids", want,
                            pos ? "with" : "without");
    for (int d = 0; d < want; d++)
        if (cc->dims[d] != sc->dims[d])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "cos and sin caches differ in shape");
    if (cc->dims[want - 1] < g->R / 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "caches have %lld columns, need %lld",
                            (long long)cc->dims[want - 1], (long long)(g->R / 2));
    if (pos) {
        if (pos->ndim != 2 || pos->dims[0] != g->B || pos->dims[1] != g->S)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "position_ids must be (batch, sequence)");
    } else if (cc->dims[0] != g->B || cc->dims[1] != g->S) {
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "caches without position_ids must be (batch, sequence, R/2)");
    }
    return NT_OK;
}

static nt_status rope_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    if (ctx->n_in < 3 || !ctx->in[1] || !ctx->in[2])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs input, cos_cache and sin_cache");
    if (!nt_att_dtype_ok(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(x->dtype));
    if (ctx->in[1]->dtype != x->dtype || ctx->in[2]->dtype != x->dtype)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "caches must have the input's dtype");
    const nt_tensor *pos = nt_ctx_in(ctx, 3);
    if (pos && pos->dtype != NT_DTYPE_INT64)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "position_ids dtype %s is not int64",
                            nt_dtype_name(pos->dtype));
    ctx->out[0]->dtype = x->dtype;
    if (nt_ctx_shapes_unknown(ctx)) {
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    rope_geom g;
    nt_status s = rope_geometry(ctx, &g);
    if (s != NT_OK)
        return s;
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

static nt_status rope_compute(nt_kernel_ctx *ctx)
{
    const rope_attrs *a = ctx->state;
    rope_geom g;
    nt_status s = rope_geometry(ctx, &g);
    if (s != NT_OK)
        return s;
    const nt_tensor *x = ctx->in[0], *cc = ctx->in[1], *sc = ctx->in[2], *pos = nt_ctx_in(ctx, 3);
    nt_tensor *y = ctx->out[0];
    nt_dtype dt = x->dtype;
    int64_t half = g.R / 2, ccols = cc->dims[cc->ndim - 1];
    for (int64_t b = 0; b < g.B; b++)
        for (int64_t si = 0; si < g.S; si++) {
            int64_t row;
            if (pos) {
                row = ((const int64_t *)pos->data)[b * g.S + si];
                if (row < 0 || row >= cc->dims[0])
                    return nt_ctx_error(ctx, NT_ERR_SHAPE, "position id %lld is outside the cache of %lld rows",
                                        (long long)row, (long long)cc->dims[0]);
            } else {
                row = b * g.S + si;
            }
            for (int64_t h = 0; h < g.H; h++) {
                /* x (B, H, S, D) or (B, S, H*D): the element offset of (b, h, s, 0). */
                int64_t base = g.is3 ? ((b * g.S + si) * g.H + h) * g.D : ((b * g.H + h) * g.S + si) * g.D;
                for (int64_t i = 0; i < half; i++) {
                    int64_t i1 = a->interleaved ? 2 * i : i, i2 = a->interleaved ? 2 * i + 1 : i + half;
                    float c = nt_att_get(cc, row * ccols + i), sn = nt_att_get(sc, row * ccols + i);
                    float x1 = nt_att_get(x, base + i1), x2 = nt_att_get(x, base + i2);
                    float re = nt_att_round(dt, c * x1) - nt_att_round(dt, sn * x2);
                    float im = nt_att_round(dt, sn * x1) + nt_att_round(dt, c * x2);
                    nt_att_set(y, base + i1, re);
                    nt_att_set(y, base + i2, im);
                }
                for (int64_t d = g.R; d < g.D; d++)
                    nt_att_set(y, base + d, nt_att_get(x, base + d));
            }
        }
    return NT_OK;
}

/* --------------------------------------------------------------- AffineGrid */

static nt_status agrid_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *th = ctx->in[0], *sz = nt_ctx_in(ctx, 1);
    if (!sz)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs theta and size");
    if (!nt_dtype_is_float(th->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(th->dtype));
    if (sz->dtype != NT_DTYPE_INT64)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "size must be int64");
    ctx->out[0]->dtype = th->dtype;
    if (nt_ctx_shapes_unknown(ctx) || nt_ctx_data_unknown(ctx, 1)) {
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    int64_t s[5];
    int64_t n = nt_tensor_numel(sz);
    if (n != 4 && n != 5)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "size must hold 4 (N, C, H, W) or 5 (N, C, D, H, W) values");
    if (nt_tensor_read_ints(sz, s, 5) != n)
        return NT_ERR_SHAPE;
    int sd = (int)n - 2; /* spatial rank */
    if (th->ndim != 3 || th->dims[0] != s[0] || th->dims[1] != sd || th->dims[2] != sd + 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "theta must be (N, %d, %d)", sd, sd + 1);
    int64_t od[5];
    od[0] = s[0];
    for (int d = 0; d < sd; d++) {
        if (s[2 + d] < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "negative size");
        od[1 + d] = s[2 + d];
    }
    od[1 + sd] = sd;
    return nt_ctx_set_output(ctx, 0, th->dtype, sd + 2, od);
}

static nt_status agrid_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *th = ctx->in[0];
    nt_tensor *out = ctx->out[0];
    bool align = nt_node_attr_int(ctx->node, "align_corners", 0) != 0;
    int sd = out->ndim - 2;
    int64_t N = out->dims[0], sz[3] = {1, 1, 1}; /* (D, H, W), D = 1 in 2-D */
    for (int d = 0; d < sd; d++)
        sz[3 - sd + d] = out->dims[1 + d];
    /* Normalized coordinate of index i of n: start + i * step, as the
     * function body computes it. */
    double start[3], step[3];
    for (int d = 0; d < 3; d++) {
        double n = (double)sz[d];
        step[d] = align ? 2.0 / (n - 1) : 2.0 / n;
        start[d] = align ? -1.0 : -1.0 + 1.0 / n;
    }
    int64_t o = 0;
    for (int64_t b = 0; b < N; b++)
        for (int64_t k = 0; k < sz[0]; k++)
            for (int64_t i = 0; i < sz[1]; i++)
                for (int64_t j = 0; j < sz[2]; j++) {
                    /* base point (x, y[, z], 1): x along W, y along H, z along D */
                    double p[4] = {start[2] + (double)j * step[2], start[1] + (double)i * step[1],
                                   start[0] + (double)k * step[0], 1.0};
                    if (sd == 2)
                        p[2] = 1.0;
                    for (int r = 0; r < sd; r++) {
                        double acc = 0;
                        for (int c = 0; c <= sd; c++)
                            acc += nt_tensor_get_f64(th, (b * sd + r) * (sd + 1) + c) * p[c];
                        nt_tensor_set_f64(out, o++, acc);
                    }
                }
    return NT_OK;
}

/* ------------------------------------------------------------------- SwiGLU */

static nt_status swiglu_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = nt_ctx_in(ctx, 0), *b = nt_ctx_in(ctx, 1);
    if (!a || !b)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs a and b");
    if (!nt_att_dtype_ok(a->dtype) && a->dtype != NT_DTYPE_DOUBLE)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(a->dtype));
    if (b->dtype != a->dtype)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "a and b differ in dtype");
    ctx->out[0]->dtype = a->dtype;
    if (nt_ctx_shapes_unknown(ctx)) {
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    bool same = a->ndim == b->ndim;
    for (int d = 0; same && d < a->ndim; d++)
        same = a->dims[d] == b->dims[d];
    if (!same)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "a and b of different shapes (broadcasting) are not supported");
    return nt_ctx_set_output(ctx, 0, a->dtype, a->ndim, a->dims);
}

static nt_status swiglu_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = ctx->in[0], *b = ctx->in[1];
    nt_tensor *y = ctx->out[0];
    double alpha = nt_node_attr_float(ctx->node, "alpha", 1.0f);
    int64_t n = nt_tensor_numel(a);
    if (a->dtype == NT_DTYPE_DOUBLE) {
        const double *pa = a->data, *pb = b->data;
        double *py = y->data;
        for (int64_t i = 0; i < n; i++)
            py[i] = pa[i] / (1.0 + exp(-alpha * pa[i])) * pb[i];
        return NT_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        float x = nt_att_get(a, i);
        float sw = nt_att_round(a->dtype, (float)((double)x / (1.0 + exp(-alpha * (double)x))));
        nt_att_set(y, i, sw * nt_att_get(b, i));
    }
    return NT_OK;
}

const nt_op_def nt_ops_extra[] = {
    {"BitCast", "", 26, NULL, NULL, bitcast_infer, bitcast_compute},
    {"CumProd", "", 26, cumprod_prepare, free, cumprod_infer, cumprod_compute},
    {"RotaryEmbedding", "", 23, rope_prepare, free, rope_infer, rope_compute},
    {"AffineGrid", "", 20, NULL, NULL, agrid_infer, agrid_compute},
    {"SwiGLU", "", 28, NULL, NULL, swiglu_infer, swiglu_compute},
    {"CausalConvWithState", "", 27, nt_ccws_prepare, free, nt_ccws_infer, nt_ccws_compute},
    {"LinearAttention", "", 27, nt_linatt_prepare, free, nt_linatt_infer, nt_linatt_compute},
    {"TfIdfVectorizer", "", 9, nt_tfidf_prepare, free, nt_tfidf_infer, nt_tfidf_compute},
    {"Binarizer", "ai.onnx.ml", 1, NULL, NULL, nt_binarizer_infer, nt_binarizer_compute},
    {"ArrayFeatureExtractor", "ai.onnx.ml", 1, NULL, NULL, nt_afe_infer, nt_afe_compute},
};
const size_t nt_ops_extra_count = NT_ARRAY_LEN(nt_ops_extra);
