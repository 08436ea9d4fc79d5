/*
 * qlinear_ms.c — operator family "qlinear_ms": ONNX Runtime's quantized
 * contrib operators of the com.microsoft domain that its quantizer writes
 * in QOperator-format models and that its own graph rewrite makes of QDQ
 * groups (src/exec/fuse_qdq.c lowers those groups to these kernels):
 *
 *   QLinearAdd                C = A + B on uint8/int8, numpy broadcasting
 *   QLinearGlobalAveragePool  Y[n, c] = mean over the image of X[n, c]
 *   QGemm                     Y = alpha * A' B' (+ int32 C), quantized or float
 *   QLinearMul                C = A * B, numpy broadcasting
 *   QLinearConcat             Y = concat of inputs requantized to Y's scale
 *   QLinearSigmoid, QLinearLeakyRelu   Y = table[X] (256 entries)
 *
 * Each computes what ONNX Runtime's CPU kernels compute, in the same float32
 * operations, so the bits agree (the quantized results are integers: one
 * rounding more or less moves a value a whole step):
 *
 *   QLinearAdd (MLAS, AVX2 kernel): rA = sA / sC, rB = sB / sC (float32),
 *     k = float(zC) - fma(rA, zA, rB * zB); c = rint(fma(a, rA, fma(b, rB, k)))
 *     saturated; when one operand is a single value over the run (a scalar,
 *     or broadcast along the innermost dimension) its term is folded into k
 *     first: k' = fma(b, rB, k), c = rint(fma(a, rA, k')).
 *   QLinearGlobalAveragePool: acc = sum(x) - zX * HW in int32, scale =
 *     sX / (sY * float(HW)), y = saturate(rint(float(acc) * scale) + zY).
 *   QGemm: acc = C + sum_k (a - zA)(b - zB[n]) in int32; scale[n] =
 *     alpha * sA * sB[n], divided by sY when the output is quantized; y =
 *     saturate(rint(float(acc) * scale[n]) + zY), or float(acc) * scale[n].
 */
#include "ops/kernel.h"
#include "ops/gemm_util.h"
#include "ops/igemm.h"
#include "ops/conv_geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_q8(nt_dtype t)
{
    return t == NT_DTYPE_UINT8 || t == NT_DTYPE_INT8;
}

static int32_t q8_at(const nt_tensor *t, int64_t i)
{
    return t->dtype == NT_DTYPE_INT8 ? ((const int8_t *)t->data)[i] : ((const uint8_t *)t->data)[i];
}

/* A scale (float32, one value unless count allows more) at input i. */
static nt_status scale_in(const nt_kernel_ctx *ctx, int i, int64_t count, const char *what)
{
    const nt_tensor *t = nt_ctx_in(ctx, i);
    if (!t)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s is required", what);
    if (t->dtype != NT_DTYPE_FLOAT)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s must be float32, got %s", what, nt_dtype_name(t->dtype));
    int64_t n = nt_tensor_numel(t);
    if (n >= 0 && n != 1 && n != count)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s must hold one value%s, got %lld", what,
                            count > 1 ? " or one per column" : "", (long long)n);
    return NT_OK;
}

/* A zero point at input i (absent: 0) of dtype want, one value unless count allows more. */
static nt_status zp_in(const nt_kernel_ctx *ctx, int i, nt_dtype want, int64_t count, const char *what)
{
    const nt_tensor *t = nt_ctx_in(ctx, i);
    if (!t)
        return NT_OK;
    if (t->dtype != want && want != NT_DTYPE_UNDEFINED)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s is %s, its data %s", what, nt_dtype_name(t->dtype),
                            nt_dtype_name(want));
    int64_t n = nt_tensor_numel(t);
    if (n >= 0 && n != 1 && n != count)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s must hold one value%s, got %lld", what,
                            count > 1 ? " or one per column" : "", (long long)n);
    return NT_OK;
}

static int32_t zp_at(const nt_kernel_ctx *ctx, int i, int64_t k)
{
    const nt_tensor *t = nt_ctx_in(ctx, i);
    return t ? q8_at(t, nt_tensor_numel(t) == 1 ? 0 : k) : 0;
}

static float scale_at(const nt_kernel_ctx *ctx, int i, int64_t k)
{
    const nt_tensor *t = nt_ctx_in(ctx, i);
    return ((const float *)t->data)[nt_tensor_numel(t) == 1 ? 0 : k];
}

/* saturate(rint(v) + zp) the way MLAS's requantization does (clamp in float, then round). */
static inline int32_t requant1(float v, int32_t zp, int32_t lo, int32_t hi)
{
    if (isnan(v) || v < (float)(lo - zp))
        return lo;
    if (v > (float)(hi - zp))
        return hi;
    return (int32_t)rintf(v) + zp;
}

static void put_q8(nt_tensor *y, int64_t i, int32_t v)
{
    if (y->dtype == NT_DTYPE_INT8)
        ((int8_t *)y->data)[i] = (int8_t)v;
    else
        ((uint8_t *)y->data)[i] = (uint8_t)v;
}

/* ------------------------------------------------------------ QLinearAdd */

/* Inputs: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale, C_zero_point. */
static nt_status qladd_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = nt_ctx_in(ctx, 0), *b = nt_ctx_in(ctx, 3);
    if (ctx->n_in < 7 || !a || !b)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s needs A, B and the scales", ctx->node->op_type);
    if (!is_q8(a->dtype) || b->dtype != a->dtype)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "A %s and B %s: uint8 or int8, both the same",
                            nt_dtype_name(a->dtype), nt_dtype_name(b->dtype));
    nt_status s;
    if ((s = scale_in(ctx, 1, 1, "A_scale")) != NT_OK || (s = scale_in(ctx, 4, 1, "B_scale")) != NT_OK ||
        (s = scale_in(ctx, 6, 1, "C_scale")) != NT_OK || (s = zp_in(ctx, 2, a->dtype, 1, "A_zero_point")) != NT_OK ||
        (s = zp_in(ctx, 5, a->dtype, 1, "B_zero_point")) != NT_OK ||
        (s = zp_in(ctx, 7, a->dtype, 1, "C_zero_point")) != NT_OK)
        return s;
    if (a->ndim < 0 || b->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = a->dtype;
        return NT_OK;
    }
    int nd;
    int64_t dims[NT_MAX_DIMS];
    if ((s = nt_broadcast_shape(a->ndim, a->dims, b->ndim, b->dims, &nd, dims)) != NT_OK)
        return nt_ctx_error(ctx, s, "A and B do not broadcast");
    return nt_ctx_set_output(ctx, 0, a->dtype, nd, dims);
}

/* The broadcast of C = op(A, B) as spans: dims merged from the innermost
 * while both operands keep the same pattern (contiguous, or repeated), size-1
 * dims dropped.  size/sa/sb[0] is the innermost span (sa, sb: its element
 * stride in A and B, 1 or 0), the rest the outer dims with strides in
 * elements.  Returns the number of spans' dims (>= 1). */
static int bcast_spans(const nt_tensor *a, const nt_tensor *b, const nt_tensor *c, int64_t *size, int64_t *sa,
                       int64_t *sb)
{
    const int nd = c->ndim;
    int n = 0;
    int64_t stra = 1, strb = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int ia = d - (nd - a->ndim), ib = d - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1, dc = c->dims[d];
        int64_t xa = da == 1 ? 0 : stra, xb = db == 1 ? 0 : strb;
        stra *= da;
        strb *= db;
        if (dc == 1)
            continue;
        if (n > 0 && (xa == 0) == (sa[n - 1] == 0) && (xb == 0) == (sb[n - 1] == 0) &&
            (xa == 0 || xa == sa[n - 1] * size[n - 1]) && (xb == 0 || xb == sb[n - 1] * size[n - 1])) {
            size[n - 1] *= dc; /* merged: the inner stride stays */
            continue;
        }
        size[n] = dc;
        sa[n] = xa;
        sb[n] = xb;
        n++;
    }
    if (n == 0) {
        size[0] = 1;
        sa[0] = sb[0] = 0;
        n = 1;
    }
    return n;
}

/* Calls fn(oa, ob, oc, n) for each innermost span: element offsets in A, B, C. */
typedef void (*span_fn)(void *ctx, int64_t oa, int64_t ob, int64_t oc, int64_t n);
static void bcast_each(const nt_tensor *a, const nt_tensor *b, const nt_tensor *c, span_fn fn, void *fctx,
                       int64_t *ia, int64_t *ib)
{
    int64_t size[NT_MAX_DIMS], sa[NT_MAX_DIMS], sb[NT_MAX_DIMS], idx[NT_MAX_DIMS] = {0};
    const int n = bcast_spans(a, b, c, size, sa, sb);
    const int64_t total = nt_tensor_numel(c), inner = size[0];
    *ia = sa[0] ? 1 : 0;
    *ib = sb[0] ? 1 : 0;
    for (int64_t oc = 0; oc < total; oc += inner) {
        int64_t oa = 0, ob = 0;
        for (int d = 1; d < n; d++) {
            oa += idx[d] * sa[d];
            ob += idx[d] * sb[d];
        }
        fn(fctx, oa, ob, oc, inner);
        for (int d = 1; d < n; d++) {
            if (++idx[d] < size[d])
                break;
            idx[d] = 0;
        }
    }
}

typedef struct qladd_par {
    float ra, rb, k;
    int32_t za, zb, lo, hi;
} qladd_par;

/* The rounding and saturation of MLAS's AVX2 kernel: convert with
 * round-half-even (out of int32 range: the "integer indefinite" INT32_MIN),
 * then saturate to 16 and to 8 bits. */
static inline int32_t qladd_out(float t, int32_t lo, int32_t hi)
{
    int32_t r = (t >= -2147483648.0f && t < 2147483648.0f) ? (int32_t)rintf(t) : INT32_MIN;
    return r < lo ? lo : r > hi ? hi : r;
}

/* The same-shape QLinearAdd, c[i] from a[i] and b[i] as in qladd_compute,
 * compiled with FMA so the loop vectorizes (fmaf is exact either way). */
#define NT_DEFINE_QLADD_SAME(NAME, T)                                                                      \
    static void NAME(const T *restrict a, const T *restrict b, T *restrict c, int64_t n, const qladd_par *p) \
    {                                                                                                       \
        const float ra = p->ra, rb = p->rb, k = p->k;                                                       \
        const int32_t lo = p->lo, hi = p->hi;                                                               \
        for (int64_t i = 0; i < n; i++) {                                                                   \
            float t = fmaf((float)a[i], ra, fmaf((float)b[i], rb, k));                                       \
            int32_t r = (t >= -2147483648.0f && t < 2147483648.0f) ? (int32_t)rintf(t) : INT32_MIN;        \
            c[i] = (T)(r < lo ? lo : r > hi ? hi : r);                                                      \
        }                                                                                                   \
    }
#if defined(__x86_64__) && defined(__GNUC__)
#define QLADD_FMA __attribute__((target("avx2,fma"), optimize("tree-vectorize")))
#else
#define QLADD_FMA
#endif
QLADD_FMA NT_DEFINE_QLADD_SAME(qladd_same_u8_fma, uint8_t)
QLADD_FMA NT_DEFINE_QLADD_SAME(qladd_same_s8_fma, int8_t)
NT_DEFINE_QLADD_SAME(qladd_same_u8, uint8_t)
NT_DEFINE_QLADD_SAME(qladd_same_s8, int8_t)

static bool cpu_has_fma(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

typedef struct qladd_span_ctx {
    const nt_tensor *a, *b;
    nt_tensor *c;
    const qladd_par *p;
    int64_t ia, ib;          /* innermost strides (0: one value over the span) */
} qladd_span_ctx;

/* One span of QLinearAdd: an operand that is one value over the span (a
 * scalar, or repeated along the merged inner dims) takes ONNX Runtime's
 * scalar form, its term folded into the constant first. */
static void qladd_span(void *arg, int64_t oa, int64_t ob, int64_t oc, int64_t n)
{
    const qladd_span_ctx *x = arg;
    const qladd_par *p = x->p;
    if (x->ia == 0 && n > 1) {
        const float k = fmaf((float)q8_at(x->a, oa), p->ra, p->k);
        for (int64_t i = 0; i < n; i++)
            put_q8(x->c, oc + i, qladd_out(fmaf((float)q8_at(x->b, ob + i * x->ib), p->rb, k), p->lo, p->hi));
    } else if (x->ib == 0 && n > 1) {
        const float k = fmaf((float)q8_at(x->b, ob), p->rb, p->k);
        for (int64_t i = 0; i < n; i++)
            put_q8(x->c, oc + i, qladd_out(fmaf((float)q8_at(x->a, oa + i * x->ia), p->ra, k), p->lo, p->hi));
    } else {
        for (int64_t i = 0; i < n; i++) {
            float t = fmaf((float)q8_at(x->b, ob + i * x->ib), p->rb, p->k);
            put_q8(x->c, oc + i, qladd_out(fmaf((float)q8_at(x->a, oa + i * x->ia), p->ra, t), p->lo, p->hi));
        }
    }
}

static nt_status qladd_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = ctx->in[0], *b = ctx->in[3];
    nt_tensor *c = ctx->out[0];
    const float sa = scale_at(ctx, 1, 0), sb = scale_at(ctx, 4, 0), sc = scale_at(ctx, 6, 0);
    qladd_par p;
    p.za = zp_at(ctx, 2, 0);
    p.zb = zp_at(ctx, 5, 0);
    const int32_t zc = zp_at(ctx, 7, 0);
    p.ra = sa / sc;
    p.rb = sb / sc;
    /* the products fused into one multiply-add, as the compiler contracts
     * ONNX Runtime's C++ expression (found against its outputs) */
    p.k = (float)zc - fmaf(p.ra, (float)p.za, p.rb * (float)p.zb);
    p.lo = c->dtype == NT_DTYPE_INT8 ? -128 : 0;
    p.hi = c->dtype == NT_DTYPE_INT8 ? 127 : 255;
    const int64_t na = nt_tensor_numel(a);
    if (na == nt_tensor_numel(b) && na == nt_tensor_numel(c) && na > 1) { /* same shape: one flat loop */
        bool fma = cpu_has_fma();
        if (c->dtype == NT_DTYPE_INT8)
            (fma ? qladd_same_s8_fma : qladd_same_s8)(a->data, b->data, c->data, na, &p);
        else
            (fma ? qladd_same_u8_fma : qladd_same_u8)(a->data, b->data, c->data, na, &p);
        return NT_OK;
    }
    qladd_span_ctx spans = {a, b, c, &p, 0, 0};
    bcast_each(a, b, c, qladd_span, &spans, &spans.ia, &spans.ib);
    return NT_OK;
}

/* ------------------------------------------------------------ QLinearMul */

typedef struct qlmul_ctx {
    const nt_tensor *a, *b;
    nt_tensor *c;
    float r, zc;
    int32_t za, zb, lo, hi;
    int64_t ia, ib;
} qlmul_ctx;

#define QLMUL_ONE(T, AV, BV)                                                                \
    do {                                                                                   \
        const float t = (float)(((int32_t)(AV) - za) * ((int32_t)(BV) - zb)) * r + zc;     \
        int32_t v = (t >= -2147483648.0f && t < 2147483648.0f) ? (int32_t)rintf(t) : INT32_MIN; \
        c[i] = (T)(v < lo ? lo : v > hi ? hi : v);                                         \
    } while (0)
/* One span, its three shapes written out so each loop vectorizes. */
#define NT_DEFINE_QLMUL_SPAN(NAME, T)                                                                        \
    NT_CLONES NT_VECTORIZE static void NAME(const T *restrict a, int64_t ia, const T *restrict b, int64_t ib, \
                                            T *restrict c, int64_t n, const qlmul_ctx *x)                    \
    {                                                                                                         \
        const float r = x->r, zc = x->zc;                                                                     \
        const int32_t za = x->za, zb = x->zb, lo = x->lo, hi = x->hi;                                         \
        if (ia && ib)                                                                                         \
            for (int64_t i = 0; i < n; i++)                                                                   \
                QLMUL_ONE(T, a[i], b[i]);                                                                        \
        else if (ia) {                                                                                        \
            const T bv = b[0];                                                                                \
            for (int64_t i = 0; i < n; i++)                                                                   \
                QLMUL_ONE(T, a[i], bv);                                                                          \
        } else if (ib) {                                                                                      \
            const T av = a[0];                                                                                \
            for (int64_t i = 0; i < n; i++)                                                                   \
                QLMUL_ONE(T, av, b[i]);                                                                          \
        } else                                                                                                \
            for (int64_t i = 0; i < n; i++)                                                                   \
                QLMUL_ONE(T, a[0], b[0]);                                                                        \
    }
NT_DEFINE_QLMUL_SPAN(qlmul_span_u8, uint8_t)
NT_DEFINE_QLMUL_SPAN(qlmul_span_s8, int8_t)

static void qlmul_span(void *arg, int64_t oa, int64_t ob, int64_t oc, int64_t n)
{
    const qlmul_ctx *x = arg;
    if (x->c->dtype == NT_DTYPE_INT8)
        qlmul_span_s8((const int8_t *)x->a->data + oa, x->ia, (const int8_t *)x->b->data + ob, x->ib,
                      (int8_t *)x->c->data + oc, n, x);
    else
        qlmul_span_u8((const uint8_t *)x->a->data + oa, x->ia, (const uint8_t *)x->b->data + ob, x->ib,
                      (uint8_t *)x->c->data + oc, n, x);
}

/* MLAS's x86 kernel: p = (a - zA)(b - zB) in int32, c = rint(float(p) * r +
 * float(zC)) with r = sA * sB / sC, a product and a sum (no fused
 * multiply-add in that SSE2 code; -std=c11 keeps the compiler from
 * contracting ours), saturated.  Same inputs as QLinearAdd. */
static nt_status qlmul_compute(nt_kernel_ctx *ctx)
{
    qlmul_ctx x = {ctx->in[0], ctx->in[3], ctx->out[0], 0, 0, 0, 0, 0, 0, 0, 0};
    x.r = scale_at(ctx, 1, 0) * scale_at(ctx, 4, 0) / scale_at(ctx, 6, 0);
    x.za = zp_at(ctx, 2, 0);
    x.zb = zp_at(ctx, 5, 0);
    x.zc = (float)zp_at(ctx, 7, 0);
    x.lo = x.c->dtype == NT_DTYPE_INT8 ? -128 : 0;
    x.hi = x.c->dtype == NT_DTYPE_INT8 ? 127 : 255;
    bcast_each(x.a, x.b, x.c, qlmul_span, &x, &x.ia, &x.ib);
    return NT_OK;
}

/* ------------------------------------------------------------ QLinearConcat */

/* Inputs: Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input;
 * attribute axis.  An input with Y's scale and zero point is copied; any
 * other goes through a 256-entry table, quantize(float(x - zX) * sX) to Y
 * (ONNX Runtime's lookup table, built with its QuantizeLinear). */
static nt_status qlconcat_infer(nt_kernel_ctx *ctx)
{
    if (ctx->n_in < 5 || (ctx->n_in - 2) % 3 != 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "QLinearConcat needs Y_scale, Y_zero_point and (X, scale, zero point) "
                            "triples, got %d inputs", ctx->n_in);
    const nt_tensor *yz = nt_ctx_in(ctx, 1), *x0 = nt_ctx_in(ctx, 2);
    if (!yz || !x0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "Y_zero_point and the first input are required");
    if (!is_q8(yz->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "Y_zero_point %s: uint8 or int8 only", nt_dtype_name(yz->dtype));
    nt_status s;
    if ((s = scale_in(ctx, 0, 1, "Y_scale")) != NT_OK || (s = zp_in(ctx, 1, yz->dtype, 1, "Y_zero_point")) != NT_OK)
        return s;
    const int n = (ctx->n_in - 2) / 3;
    int64_t dims[NT_MAX_DIMS];
    int nd = -1;
    int64_t axis = nt_node_attr_int(ctx->node, "axis", 0);
    for (int i = 0; i < n; i++) {
        const nt_tensor *x = nt_ctx_in(ctx, 2 + 3 * i);
        if (!x)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is missing", i);
        if (x->dtype != yz->dtype)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is %s, Y %s", i, nt_dtype_name(x->dtype),
                                nt_dtype_name(yz->dtype));
        if ((s = scale_in(ctx, 3 + 3 * i, 1, "X_scale")) != NT_OK ||
            (s = zp_in(ctx, 4 + 3 * i, yz->dtype, 1, "X_zero_point")) != NT_OK)
            return s;
        if (x->ndim < 0) {
            nt_ctx_outputs_unknown(ctx);
            ctx->out[0]->dtype = yz->dtype;
            return NT_OK;
        }
        if (i == 0) {
            nd = x->ndim;
            if (axis < -nd || axis >= nd)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)axis, nd);
            if (axis < 0)
                axis += nd;
            memcpy(dims, x->dims, (size_t)nd * sizeof *dims);
            continue;
        }
        if (x->ndim != nd)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d has rank %d, input 0 %d", i, x->ndim, nd);
        for (int d = 0; d < nd; d++)
            if (d != axis && x->dims[d] != dims[d])
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d differs in dimension %d", i, d);
        dims[axis] += x->dims[axis];
    }
    return nt_ctx_set_output(ctx, 0, yz->dtype, nd, dims);
}

static nt_status qlconcat_compute(nt_kernel_ctx *ctx)
{
    nt_tensor *y = ctx->out[0];
    const int n = (ctx->n_in - 2) / 3, nd = y->ndim;
    int64_t axis = nt_node_attr_int(ctx->node, "axis", 0);
    if (axis < 0)
        axis += nd;
    const float ys = scale_at(ctx, 0, 0);
    const int32_t yz = zp_at(ctx, 1, 0), lo = y->dtype == NT_DTYPE_INT8 ? -128 : 0,
                  hi = y->dtype == NT_DTYPE_INT8 ? 127 : 255;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= y->dims[d];
    for (int d = (int)axis + 1; d < nd; d++)
        inner *= y->dims[d];
    const int64_t yrow = y->dims[axis] * inner;
    int64_t off = 0;
    for (int i = 0; i < n; i++) {
        const nt_tensor *x = ctx->in[2 + 3 * i];
        const float xs = scale_at(ctx, 3 + 3 * i, 0);
        const int32_t xz = zp_at(ctx, 4 + 3 * i, 0);
        const int64_t row = x->dims[axis] * inner;
        uint8_t table[256];
        const bool copy = xs == ys && xz == yz;
        for (int v = 0; v < 256 && !copy; v++) {
            int32_t q = x->dtype == NT_DTYPE_INT8 ? (int32_t)(int8_t)v : v;
            /* quantize(dequantize(v)): x / scale rounded half to even, as QuantizeLinear */
            float f = xs * (float)(q - xz) / ys;
            int32_t r = requant1(f, yz, lo, hi);
            table[v] = (uint8_t)r;
        }
        for (int64_t o = 0; o < outer; o++) {
            const uint8_t *src = (const uint8_t *)x->data + o * row;
            uint8_t *dst = (uint8_t *)y->data + o * yrow + off;
            if (copy)
                memcpy(dst, src, (size_t)row);
            else
                for (int64_t k = 0; k < row; k++)
                    dst[k] = table[src[k]];
        }
        off += row;
    }
    return NT_OK;
}

/* ------------------------------------------------------------ QLinearSigmoid, QLinearLeakyRelu */

/* The logistic function as MLAS evaluates it (its FMA kernels): x clamped
 * to [-18, 18], an odd rational polynomial p(x) / q(x) + 1/2 with the
 * coefficients Eigen published, each step one fused multiply-add, clamped
 * to [0, 1]. */
static float mlas_logistic(float x)
{
    x = x < -18.0f ? -18.0f : x > 18.0f ? 18.0f : x;
    const float x2 = x * x;
    float p = fmaf(x2, 4.37031012579801e-11f, 1.15627324459942e-07f);
    p = fmaf(p, x2, 6.08574864600143e-05f);
    p = fmaf(p, x2, 8.51377133304701e-03f);
    p = fmaf(p, x2, 2.48287947061529e-01f);
    p = p * x;
    float q = fmaf(x2, 6.10247389755681e-13f, 5.76102136993427e-09f);
    q = fmaf(q, x2, 6.29106785017040e-06f);
    q = fmaf(q, x2, 1.70198817374094e-03f);
    q = fmaf(q, x2, 1.16817656904453e-01f);
    q = fmaf(q, x2, 9.93151921023180e-01f);
    float r = p / q + 0.5f;
    return r < 0.0f ? 0.0f : r > 1.0f ? 1.0f : r;
}

/* Inputs: X, X_scale, X_zero_point, Y_scale, Y_zero_point.  Y = table[X],
 * the table (256 entries) quantize(f(dequantize(x))) as ONNX Runtime builds
 * it: float(x - zX) * sX, f, then / sY rounded half to even. */
static nt_status qlut_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (ctx->n_in < 4 || !x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s needs X, X_scale and Y_scale", ctx->node->op_type);
    if (!is_q8(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "X %s: uint8 or int8 only", nt_dtype_name(x->dtype));
    nt_status s;
    if ((s = scale_in(ctx, 1, 1, "X_scale")) != NT_OK || (s = scale_in(ctx, 3, 1, "Y_scale")) != NT_OK ||
        (s = zp_in(ctx, 2, x->dtype, 1, "X_zero_point")) != NT_OK ||
        (s = zp_in(ctx, 4, x->dtype, 1, "Y_zero_point")) != NT_OK)
        return s;
    if (x->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

static nt_status qlut_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    const bool sigmoid = strcmp(ctx->node->op_type, "QLinearSigmoid") == 0;
    const float alpha = nt_node_attr_float(ctx->node, "alpha", 0.01f);
    const float xs = scale_at(ctx, 1, 0), ys = scale_at(ctx, 3, 0);
    const int32_t xz = zp_at(ctx, 2, 0), yz = zp_at(ctx, 4, 0);
    const int32_t lo = y->dtype == NT_DTYPE_INT8 ? -128 : 0, hi = y->dtype == NT_DTYPE_INT8 ? 127 : 255;
    uint8_t table[256];
    for (int v = 0; v < 256; v++) {
        int32_t q = x->dtype == NT_DTYPE_INT8 ? (int32_t)(int8_t)v : v;
        float d = xs * (float)(q - xz);
        float f = sigmoid ? mlas_logistic(d) : (d >= 0.0f ? d : alpha * d);
        table[v] = (uint8_t)requant1(f / ys, yz, lo, hi);
    }
    const uint8_t *src = x->data;
    uint8_t *dst = y->data;
    const int64_t n = nt_tensor_numel(x);
    for (int64_t i = 0; i < n; i++)
        dst[i] = table[src[i]];
    return NT_OK;
}

/* ------------------------------------------------------------ QLinearGlobalAveragePool */

/* Inputs: X, x_scale, x_zero_point, y_scale, y_zero_point; NCHW (channels_last 0). */
static nt_status qlgap_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (ctx->n_in < 4 || !x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "QLinearGlobalAveragePool needs X and the scales");
    if (!is_q8(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "X %s: uint8 or int8 only", nt_dtype_name(x->dtype));
    if (nt_node_attr_int(ctx->node, "channels_last", 0) != 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "channels_last = 1 is not supported");
    nt_status s;
    if ((s = scale_in(ctx, 1, 1, "x_scale")) != NT_OK || (s = scale_in(ctx, 3, 1, "y_scale")) != NT_OK ||
        (s = zp_in(ctx, 2, x->dtype, 1, "x_zero_point")) != NT_OK ||
        (s = zp_in(ctx, 4, x->dtype, 1, "y_zero_point")) != NT_OK)
        return s;
    if (x->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    if (x->ndim < 3)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X must be (N, C, spatial...), got rank %d", x->ndim);
    int64_t dims[NT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        dims[d] = d < 2 ? x->dims[d] : 1;
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, dims);
}

static nt_status qlgap_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    const int64_t NC = x->dims[0] * x->dims[1], HW = NC > 0 ? nt_tensor_numel(x) / NC : 0;
    if (HW >= 0x1000000 || HW <= 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "image of %lld elements: 1 to 2^24 supported", (long long)HW);
    const float scale = scale_at(ctx, 1, 0) / (scale_at(ctx, 3, 0) * (float)HW);
    const int32_t xz = zp_at(ctx, 2, 0), yz = zp_at(ctx, 4, 0);
    const int32_t lo = y->dtype == NT_DTYPE_INT8 ? -128 : 0, hi = y->dtype == NT_DTYPE_INT8 ? 127 : 255;
    for (int64_t q = 0; q < NC; q++) {
        uint32_t acc = (uint32_t)(-xz) * (uint32_t)HW; /* int32 arithmetic that wraps, as MLAS's */
        for (int64_t i = 0; i < HW; i++)
            acc += (uint32_t)q8_at(x, q * HW + i);
        put_q8(y, q, requant1((float)(int32_t)acc * scale, yz, lo, hi));
    }
    return NT_OK;
}

/* ------------------------------------------------------------ QGemm */

/* Inputs: A, a_scale, a_zero_point, B, b_scale, b_zero_point, C, y_scale,
 * y_zero_point.  Y is (M, N): quantized (y_zero_point's type, else A's)
 * with y_scale, float32 without. */
static void qgemm_dims(const nt_kernel_ctx *ctx, int64_t *M, int64_t *K, int64_t *N, int64_t *Kb)
{
    const nt_tensor *a = ctx->in[0], *b = ctx->in[3];
    bool ta = nt_node_attr_int(ctx->node, "transA", 0) != 0, tb = nt_node_attr_int(ctx->node, "transB", 0) != 0;
    *M = ta ? a->dims[1] : a->dims[0];
    *K = ta ? a->dims[0] : a->dims[1];
    *Kb = tb ? b->dims[1] : b->dims[0];
    *N = tb ? b->dims[0] : b->dims[1];
}

static nt_status qgemm_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = nt_ctx_in(ctx, 0), *b = nt_ctx_in(ctx, 3), *c = nt_ctx_in(ctx, 6);
    const nt_tensor *ys = nt_ctx_in(ctx, 7), *yz = nt_ctx_in(ctx, 8);
    if (ctx->n_in < 6 || !a || !b)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "QGemm needs A, B and their scales");
    if (!is_q8(a->dtype) || !is_q8(b->dtype) || (a->dtype == NT_DTYPE_INT8 && b->dtype != NT_DTYPE_INT8))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "A %s, B %s: uint8 A with uint8/int8 B, or int8 both",
                            nt_dtype_name(a->dtype), nt_dtype_name(b->dtype));
    if (c && c->dtype != NT_DTYPE_INT32)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "C must be int32, got %s", nt_dtype_name(c->dtype));
    nt_dtype yt = ys ? (yz ? yz->dtype : a->dtype) : NT_DTYPE_FLOAT;
    if (a->ndim < 0 || b->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = yt;
        return NT_OK;
    }
    if (a->ndim != 2 || b->ndim != 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "A and B must be 2-D, got rank %d and %d", a->ndim, b->ndim);
    int64_t M, K, N, Kb;
    qgemm_dims(ctx, &M, &K, &N, &Kb);
    if (K != Kb)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inner dimensions differ: %lld vs %lld", (long long)K, (long long)Kb);
    nt_status s;
    if ((s = scale_in(ctx, 1, 1, "a_scale")) != NT_OK || (s = scale_in(ctx, 4, N, "b_scale")) != NT_OK ||
        (s = zp_in(ctx, 2, a->dtype, 1, "a_zero_point")) != NT_OK ||
        (s = zp_in(ctx, 5, b->dtype, N, "b_zero_point")) != NT_OK ||
        (ys && (s = scale_in(ctx, 7, 1, "y_scale")) != NT_OK) ||
        (ys && (s = zp_in(ctx, 8, NT_DTYPE_UNDEFINED, 1, "y_zero_point")) != NT_OK))
        return s;
    if (ys && !is_q8(yt))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "y_zero_point %s: uint8 or int8 only", nt_dtype_name(yt));
    if (c) { /* C broadcasts to (M, N) */
        bool ok = c->ndim <= 2;
        for (int d = 0; d < c->ndim && ok; d++) {
            int64_t want = (c->ndim - d == 1) ? N : M;
            ok = c->dims[d] == 1 || c->dims[d] == want;
        }
        if (!ok)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "C does not broadcast to (%lld, %lld)", (long long)M, (long long)N);
    }
    int64_t dims[2] = {M, N};
    return nt_ctx_set_output(ctx, 0, yt, 2, dims);
}

typedef struct qgemm_rows_job {
    const uint8_t *a;        /* (M, K) */
    bool a_signed;
    int32_t za;
    const uint8_t *b;        /* (N, K) */
    bool b_signed;
    const int32_t *zb;       /* per column */
    int64_t M, N, K;
    int32_t *acc;            /* (M, N) */
} qgemm_rows_job;

/* sum_k (a[k] - za)(b[k] - zb) over bytes, in int32. */
NT_CLONES NT_VECTORIZE static int32_t dot_u8(const uint8_t *restrict a, bool as, int32_t za, const uint8_t *restrict b,
                                             bool bs, int32_t zb, int64_t K)
{
    uint32_t s = 0; /* int32 sums that wrap, like the GEMM's accumulators (no overflow UB) */
    if (as && bs)
        for (int64_t k = 0; k < K; k++)
            s += (uint32_t)(((int32_t)(int8_t)a[k] - za) * ((int32_t)(int8_t)b[k] - zb));
    else if (bs)
        for (int64_t k = 0; k < K; k++)
            s += (uint32_t)(((int32_t)a[k] - za) * ((int32_t)(int8_t)b[k] - zb));
    else
        for (int64_t k = 0; k < K; k++)
            s += (uint32_t)(((int32_t)a[k] - za) * ((int32_t)b[k] - zb));
    return (int32_t)s;
}

static void qgemm_rows_range(void *arg, int64_t n0, int64_t n1)
{
    const qgemm_rows_job *j = arg;
    for (int64_t n = n0; n < n1; n++)
        for (int64_t m = 0; m < j->M; m++)
            j->acc[m * j->N + n] =
                dot_u8(j->a + m * j->K, j->a_signed, j->za, j->b + n * j->K, j->b_signed, j->zb[n], j->K);
}

static nt_status qgemm_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = ctx->in[0], *b = ctx->in[3], *c = nt_ctx_in(ctx, 6), *ys = nt_ctx_in(ctx, 7);
    nt_tensor *y = ctx->out[0];
    int64_t M, K, N, Kb;
    qgemm_dims(ctx, &M, &K, &N, &Kb);
    const bool ta = nt_node_attr_int(ctx->node, "transA", 0) != 0, tb = nt_node_attr_int(ctx->node, "transB", 0) != 0;
    const float alpha = nt_node_attr_float(ctx->node, "alpha", 1.0f);
    if (M == 0 || N == 0)
        return NT_OK;
    int32_t *zb = nt_malloc((size_t)N * sizeof *zb);
    size_t nacc = (size_t)(M * N);
    char *buf = zb ? nt_malloc(nacc * sizeof(int32_t) + (size_t)N * sizeof(float) + 16) : NULL;
    if (!buf) {
        free(zb);
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "out of memory");
    }
    int32_t *acc = (int32_t *)(void *)buf;
    float *scale = (float *)(void *)(acc + nacc);
    const int32_t za = zp_at(ctx, 2, 0);
    for (int64_t n = 0; n < N; n++)
        zb[n] = zp_at(ctx, 5, n);
    nt_status st = NT_OK;
    if (!ta && tb && M <= 8) {
        /* a few rows against B stored (N, K), the classifier-head case: dot
         * products straight on the bytes (exact in int32, in any order) */
        qgemm_rows_job j = {a->data, a->dtype == NT_DTYPE_INT8, za, b->data, b->dtype == NT_DTYPE_INT8, zb, M, N, K, acc};
        nt_parallel_for(ctx->exec, N, 64, qgemm_rows_range, &j);
    } else {
        int16_t *a16 = nt_malloc((size_t)(M * K + K * N + 1) * sizeof(int16_t));
        if (!a16) {
            st = nt_ctx_error(ctx, NT_ERR_NOMEM, "out of memory");
            goto done;
        }
        int16_t *b16 = a16 + M * K;
        /* operands minus their zero points, A as (M, K) and B as (K, N) */
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++)
                a16[m * K + k] = (int16_t)(q8_at(a, ta ? k * M + m : m * K + k) - za);
        for (int64_t k = 0; k < K; k++)
            for (int64_t n = 0; n < N; n++)
                b16[k * N + n] = (int16_t)(q8_at(b, tb ? n * K + k : k * N + n) - zb[n]);
        nt_igemm_b bm = {.p = b16, .ld = N};
        nt_igemm_s16(ctx->exec, M, N, K, a16, K, &bm, acc, N);
        free(a16);
    }
    if (c) { /* the int32 bias, broadcast, added in int32 (wrapping, as the GEMM's accumulator) */
        const int32_t *cd = c->data;
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                int64_t ci = c->ndim == 0 ? 0
                             : c->ndim == 1 ? (c->dims[0] == 1 ? 0 : n)
                                            : (c->dims[0] == 1 ? 0 : m) * c->dims[1] + (c->dims[1] == 1 ? 0 : n);
                acc[m * N + n] = (int32_t)((uint32_t)acc[m * N + n] + (uint32_t)cd[ci]);
            }
    }
    const float sa = scale_at(ctx, 1, 0);
    for (int64_t n = 0; n < N; n++) {
        scale[n] = alpha * sa * scale_at(ctx, 4, n);
        if (ys)
            scale[n] /= scale_at(ctx, 7, 0);
    }
    if (ys) {
        const int32_t yz = zp_at(ctx, 8, 0);
        const int32_t lo = y->dtype == NT_DTYPE_INT8 ? -128 : 0, hi = y->dtype == NT_DTYPE_INT8 ? 127 : 255;
        for (int64_t i = 0; i < M * N; i++)
            put_q8(y, i, requant1((float)acc[i] * scale[i % N], yz, lo, hi));
    } else {
        float *yf = y->data;
        for (int64_t i = 0; i < M * N; i++)
            yf[i] = (float)acc[i] * scale[i % N];
    }
done:
    free(zb);
    free(buf);
    return st;
}

const nt_op_def nt_ops_qlinear_ms[] = {
    {"QLinearAdd", "com.microsoft", 1, NULL, NULL, qladd_infer, qladd_compute},
    {"QLinearGlobalAveragePool", "com.microsoft", 1, NULL, NULL, qlgap_infer, qlgap_compute},
    {"QGemm", "com.microsoft", 1, NULL, NULL, qgemm_infer, qgemm_compute},
    {"QLinearMul", "com.microsoft", 1, NULL, NULL, qladd_infer, qlmul_compute},
    {"QLinearConcat", "com.microsoft", 1, NULL, NULL, qlconcat_infer, qlconcat_compute},
    {"QLinearSigmoid", "com.microsoft", 1, NULL, NULL, qlut_infer, qlut_compute},
    {"QLinearLeakyRelu", "com.microsoft", 1, NULL, NULL, qlut_infer, qlut_compute},
};
const size_t nt_ops_qlinear_ms_count = NT_ARRAY_LEN(nt_ops_qlinear_ms);
