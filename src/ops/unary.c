/*
 * unary.c — operator family "unary": the element-wise operators of one
 * input (Abs ... Sigmoid, the activations incl. Swish (opset 24), Clip,
 * IsNaN/IsInf, Not, BitwiseNot), plus the table entries of Cast and CastLike (their code is in
 * eltwise_cast.c).
 *
 * Every op is one expression per dtype kind (float-like, signed integer,
 * unsigned integer, bool) in terms of the element x, its compute type CT and
 * the parameters p.  Macros turn each (op, dtype) pair into a loop
 * (see elementwise_common.h) and into an entry of un_table, which infer
 * consults to accept or decline an input dtype.  float16 and bfloat16 are
 * computed in float; float32 in float (the float math functions are chosen
 * by <tgmath.h>); double in double.
 *
 * Shapes: every op maps x (any shape) to y of the same shape; IsNaN and
 * IsInf give bool, the others x's dtype.
 */
#include "ops/elementwise_common.h"
#include "ops/ew_math.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

/* ---- op ids: X(name) */
#define UN_OPS(X)                                                                               \
    X(Abs) X(Neg) X(Exp) X(Log) X(Sqrt) X(Reciprocal) X(Floor) X(Ceil) X(Round) X(Sign) X(Sin)   \
    X(Cos) X(Tan) X(Asin) X(Acos) X(Atan) X(Sinh) X(Cosh) X(Tanh) X(Asinh) X(Acosh) X(Atanh)     \
    X(Erf) X(Relu) X(LeakyRelu) X(Elu) X(Selu) X(Celu) X(Sigmoid) X(HardSigmoid) X(HardSwish)    \
    X(Softplus) X(Softsign) X(Gelu) X(Mish) X(ThresholdedRelu) X(Shrink) X(Clip) X(IsNaN)       \
    X(IsInf) X(Not) X(BitwiseNot) X(Swish)

enum {
#define UN_ENUM(name) UOP_##name,
    UN_OPS(UN_ENUM)
#undef UN_ENUM
    UOP_COUNT
};

static const char *const un_names[UOP_COUNT] = {
#define UN_NAME(name) #name,
    UN_OPS(UN_NAME)
#undef UN_NAME
};

/* no-trapping-math on every loop, so the selects in ew_math.h vectorize */
#define UN_NO_TRAP NT_EW_NO_TRAP

/* ---- helpers the expressions call, chosen by type like <tgmath.h> does */
UN_NO_TRAP static inline float ew_clamp01f(float v) { return v < 0 ? 0.0f : v > 1 ? 1.0f : v; }
UN_NO_TRAP static inline double ew_clamp01d(double v) { return v < 0 ? 0.0 : v > 1 ? 1.0 : v; }
#define EW_CLAMP01(v) _Generic((v), float: ew_clamp01f, default: ew_clamp01d)(v)

/* float: the vectorizable versions of ew_math.h; double: libm */
UN_NO_TRAP static inline double ew_expd(double x) { return exp(x); }
#define EW_EXP(v) _Generic((v), float: nt_ew_expf, default: ew_expd)(v)
UN_NO_TRAP static inline double ew_erfd(double x) { return erf(x); }
#define EW_ERF(v) _Generic((v), float: nt_ew_erff, default: ew_erfd)(v)
UN_NO_TRAP static inline double ew_tanhd(double x) { return tanh(x); }
#define EW_TANH(v) _Generic((v), float: nt_ew_tanhf, default: ew_tanhd)(v)

/* log(1 + e^x) without overflow for large x or loss for very negative x */
UN_NO_TRAP static inline float ew_softplusf(float x) { return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
UN_NO_TRAP static inline double ew_softplusd(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
#define EW_SOFTPLUS(v) _Generic((v), float: ew_softplusf, default: ew_softplusd)(v)
/* Two selects the vectorizer turns into min/max-like blends; NaN stays NaN. */
UN_NO_TRAP static inline float ew_clipf(float x, float lo, float hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}
UN_NO_TRAP static inline double ew_clipd(double x, double lo, double hi)
{
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}
#define EW_CLIP(v, lo, hi) _Generic((v), float: ew_clipf, default: ew_clipd)(v, lo, hi)

/* ---- float-like expressions (CT is float or double).
 * Parameters: alpha, beta, gamma are the ONNX attributes of the same name
 * (Shrink: alpha = lambd, beta = bias); Gelu flag = approximate "tanh";
 * IsInf flag = detect_positive, flag2 = detect_negative; Clip lo/hi. */
#define UF_Abs(CT, x, p) fabs(x)
#define UF_Neg(CT, x, p) (-(x))
#define UF_Exp(CT, x, p) EW_EXP(x)
#define UF_Log(CT, x, p) log(x)
#define UF_Sqrt(CT, x, p) sqrt(x)
#define UF_Reciprocal(CT, x, p) ((CT)1 / (x))
#define UF_Floor(CT, x, p) floor(x)
#define UF_Ceil(CT, x, p) ceil(x)
#define UF_Round(CT, x, p) nearbyint(x) /* half to even in the default rounding mode */
#define UF_Sign(CT, x, p) ((x) > 0 ? (CT)1 : (x) < 0 ? (CT)-1 : (x))
#define UF_Sin(CT, x, p) sin(x)
#define UF_Cos(CT, x, p) cos(x)
#define UF_Tan(CT, x, p) tan(x)
#define UF_Asin(CT, x, p) asin(x)
#define UF_Acos(CT, x, p) acos(x)
#define UF_Atan(CT, x, p) atan(x)
#define UF_Sinh(CT, x, p) sinh(x)
#define UF_Cosh(CT, x, p) cosh(x)
#define UF_Tanh(CT, x, p) EW_TANH(x)
#define UF_Asinh(CT, x, p) asinh(x)
#define UF_Acosh(CT, x, p) acosh(x)
#define UF_Atanh(CT, x, p) atanh(x)
#define UF_Erf(CT, x, p) EW_ERF(x)
#define UF_Relu(CT, x, p) ((x) < 0 ? (CT)0 : (x)) /* NaN stays NaN */
#define UF_LeakyRelu(CT, x, p) ((x) < 0 ? (CT)(p)->alpha * (x) : (x))
#define UF_Elu(CT, x, p) ((x) < 0 ? (CT)(p)->alpha * expm1(x) : (x))
#define UF_Selu(CT, x, p) ((x) <= 0 ? (CT)(p)->gamma * ((CT)(p)->alpha * expm1(x)) : (CT)(p)->gamma * (x))
#define UF_Celu(CT, x, p) ((x) >= 0 ? (x) : (CT)(p)->alpha * expm1((x) / (CT)(p)->alpha))
/* for very negative x, e^-x overflows to inf and the result is 0 (the true
 * value is below the smallest normal float) */
#define UF_Sigmoid(CT, x, p) ((CT)1 / ((CT)1 + EW_EXP(-(x))))
#define UF_HardSigmoid(CT, x, p) EW_CLAMP01((CT)(p)->alpha * (x) + (CT)(p)->beta)
#define UF_HardSwish(CT, x, p) ((x) * EW_CLAMP01((x) / (CT)6 + (CT)0.5))
#define UF_Softplus(CT, x, p) EW_SOFTPLUS(x)
#define UF_Softsign(CT, x, p) ((x) / ((CT)1 + fabs(x)))
#define UF_Gelu(CT, x, p)                                                                           \
    ((p)->flag ? (CT)0.5 * (x) * ((CT)1 + EW_TANH((CT)0.7978845608028654 * ((x) + (CT)0.044715 * (x) * (x) * (x)))) \
               : (CT)0.5 * (x) * ((CT)1 + EW_ERF((x) * (CT)0.7071067811865476)))
#define UF_Mish(CT, x, p) ((x) * tanh(EW_SOFTPLUS(x)))
#define UF_ThresholdedRelu(CT, x, p) ((x) > (CT)(p)->alpha ? (x) : (CT)0)
#define UF_Shrink(CT, x, p) \
    ((x) < -(CT)(p)->alpha ? (x) + (CT)(p)->beta : (x) > (CT)(p)->alpha ? (x) - (CT)(p)->beta : (CT)0)
/* min(max(x, lo), hi); un_compute makes lo <= hi (when lo > hi everything
 * becomes hi, as the spec says, which lo = hi gives) */
#define UF_Clip(CT, x, p) EW_CLIP(x, (CT)(p)->lo, (CT)(p)->hi)
/* x * sigmoid(alpha * x) */
#define UF_Swish(CT, x, p) ((x) * UF_Sigmoid(CT, (CT)(p)->alpha * (x), p))
#define UF_IsNaN(CT, x, p) isnan(x)
#define UF_IsInf(CT, x, p) (isinf(x) && ((x) > 0 ? (p)->flag : (p)->flag2))

/* ---- signed integers: arithmetic that could overflow goes through uint64_t
 * so it wraps (as numpy does) instead of being undefined */
#define US_Abs(CT, x, p) ((x) < 0 ? (CT)(0 - (uint64_t)(x)) : (x))
#define US_Neg(CT, x, p) ((CT)(0 - (uint64_t)(x)))
#define US_Sign(CT, x, p) ((CT)(((x) > 0) - ((x) < 0)))
#define US_Relu(CT, x, p) ((x) < 0 ? (CT)0 : (x))
#define US_Clip(CT, x, p) ((x) < (p)->ilo ? (CT)(p)->ilo : (x) > (p)->ihi ? (CT)(p)->ihi : (x))
/* Shrink on integers: compared and offset in double, then converted back */
#define US_Shrink(CT, x, p)                                                              \
    ((double)(x) < -(double)(p)->alpha ? (CT)((double)(x) + (double)(p)->beta)           \
     : (double)(x) > (double)(p)->alpha ? (CT)((double)(x) - (double)(p)->beta) : (CT)0)
#define US_BitwiseNot(CT, x, p) ((CT)~(x))

/* ---- unsigned integers */
#define UU_Abs(CT, x, p) (x)
#define UU_Sign(CT, x, p) ((CT)((x) != 0))
#define UU_Clip(CT, x, p) ((x) < (p)->ulo ? (CT)(p)->ulo : (x) > (p)->uhi ? (CT)(p)->uhi : (x))
#define UU_Shrink US_Shrink
#define UU_BitwiseNot(CT, x, p) ((CT)~(x))

/* ---- bool */
#define UB_Not(CT, x, p) ((uint8_t)!(x))

/* Which ops exist for which kind. */
#define UN_FLOAT_OPS(X)                                                                           \
    X(Abs) X(Neg) X(Exp) X(Log) X(Sqrt) X(Reciprocal) X(Floor) X(Ceil) X(Round) X(Sign) X(Sin)     \
    X(Cos) X(Tan) X(Asin) X(Acos) X(Atan) X(Sinh) X(Cosh) X(Tanh) X(Asinh) X(Acosh) X(Atanh)       \
    X(Erf) X(Relu) X(LeakyRelu) X(Elu) X(Selu) X(Celu) X(Sigmoid) X(HardSigmoid) X(HardSwish)      \
    X(Softplus) X(Softsign) X(Gelu) X(Mish) X(ThresholdedRelu) X(Shrink) X(Clip) X(Swish)
#define UN_FLOAT_BOOL_OPS(X) X(IsNaN) X(IsInf)
#define UN_SINT_OPS(X) X(Abs) X(Neg) X(Sign) X(Relu) X(Clip) X(Shrink) X(BitwiseNot)
#define UN_UINT_OPS(X) X(Abs) X(Sign) X(Clip) X(Shrink) X(BitwiseNot)
#define UN_BOOL_OPS(X) X(Not)


/* One inner loop: y[i] = SV(expr(LD(x[i]))), over blocks the vectorizer can take.
 * A block is computed into a local array before it is stored, so the loads
 * need no alias check against y (which may be x itself when run in place). */
#define UN_FN(NAME, KIND, SUF, ST, CT, LD, OT, SV)                                                  \
    UN_NO_TRAP NT_EW_ATTR_##SUF static void un_##NAME##_##SUF(void *o_, const void *const *in, const int64_t *step, int64_t n, \
                                  const nt_ew_params *p)                                           \
    {                                                                                              \
        const ST *a = in[0];                                                                       \
        OT *o = o_;                                                                                \
        (void)p;                                                                                   \
        (void)step;                                                                                \
        int64_t i = 0;                                                                             \
        for (; i + NT_EW_BLOCK <= n; i += NT_EW_BLOCK) {                                           \
            OT t[NT_EW_BLOCK];                                                                     \
            for (int j = 0; j < NT_EW_BLOCK; j++) {                                                \
                CT x = LD(a[i + j]);                                                               \
                t[j] = SV(KIND##_##NAME(CT, x, p));                                                \
            }                                                                                      \
            memcpy(o + i, t, sizeof t);                                                            \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            CT x = LD(a[i]);                                                                       \
            o[i] = SV(KIND##_##NAME(CT, x, p));                                                    \
        }                                                                                          \
    }

#define UN_TO_BOOL(v) ((uint8_t)((v) != 0))
#define UN_GEN_F(NAME, SUF, ST, CT, LD, SV) UN_FN(NAME, UF, SUF, ST, CT, LD, ST, SV)
#define UN_GEN_FB(NAME, SUF, ST, CT, LD, SV) UN_FN(NAME, UF, SUF, ST, CT, LD, uint8_t, UN_TO_BOOL)
#define UN_GEN_S(NAME, SUF, ST, CT, LD, SV) UN_FN(NAME, US, SUF, ST, CT, LD, ST, SV)
#define UN_GEN_U(NAME, SUF, ST, CT, LD, SV) UN_FN(NAME, UU, SUF, ST, CT, LD, ST, SV)
#define UN_GEN_B(NAME, SUF, ST, CT, LD, SV) UN_FN(NAME, UB, SUF, ST, CT, LD, ST, SV)

#define UN_FLOATS(NAME) NT_EW_FLOATS(UN_GEN_F, NAME)
#define UN_FLOATS_B(NAME) NT_EW_FLOATS(UN_GEN_FB, NAME)
#define UN_SINTS(NAME) NT_EW_SINTS(UN_GEN_S, NAME)
#define UN_UINTS(NAME) NT_EW_UINTS(UN_GEN_U, NAME)
#define UN_BOOLS(NAME) NT_EW_BOOLS(UN_GEN_B, NAME)

UN_FLOAT_OPS(UN_FLOATS)
UN_FLOAT_BOOL_OPS(UN_FLOATS_B)
UN_SINT_OPS(UN_SINTS)
UN_UINT_OPS(UN_UINTS)
UN_BOOL_OPS(UN_BOOLS)

/* un_table[op][dtype]: the loop, or NULL where the op declines the dtype. */
#define UN_REG(NAME, SUF, ST, CT, LD, SV) [UOP_##NAME][NT_DTYPE_##SUF] = un_##NAME##_##SUF,
#define UN_REG_F(NAME) NT_EW_FLOATS(UN_REG, NAME)
#define UN_REG_S(NAME) NT_EW_SINTS(UN_REG, NAME)
#define UN_REG_U(NAME) NT_EW_UINTS(UN_REG, NAME)
#define UN_REG_B(NAME) NT_EW_BOOLS(UN_REG, NAME)
static const nt_ew_fn un_table[UOP_COUNT][NT_DTYPE_COUNT] = {
    UN_FLOAT_OPS(UN_REG_F) UN_FLOAT_BOOL_OPS(UN_REG_F) UN_SINT_OPS(UN_REG_S) UN_UINT_OPS(UN_REG_U)
    UN_BOOL_OPS(UN_REG_B)
};

/* ---- op callbacks */

typedef struct un_state {
    nt_ew_params par;
    int opset;
} un_state;

/* Parses the node's attributes for its op (found by op_type). */
static nt_status un_prepare(const nt_node *node, int opset, void **state)
{
    *state = NULL;
    int op = -1;
    for (int i = 0; i < UOP_COUNT; i++)
        if (strcmp(node->op_type, un_names[i]) == 0)
            op = i;
    if (op < 0)
        return nt_error(NT_ERR_INTERNAL, "node '%s': %s is not a unary op", node->name, node->op_type);
    un_state *st = nt_calloc(1, sizeof *st);
    if (!st)
        return NT_ERR_NOMEM;
    nt_ew_params *p = &st->par;
    st->opset = opset;
    p->op = op;
    switch (op) {
    case UOP_LeakyRelu: p->alpha = nt_node_attr_float(node, "alpha", 0.01f); break;
    case UOP_Elu: p->alpha = nt_node_attr_float(node, "alpha", 1.0f); break;
    case UOP_Celu: p->alpha = nt_node_attr_float(node, "alpha", 1.0f); break;
    case UOP_ThresholdedRelu: p->alpha = nt_node_attr_float(node, "alpha", 1.0f); break;
    case UOP_Swish: p->alpha = nt_node_attr_float(node, "alpha", 1.0f); break;
    case UOP_Selu:
        p->alpha = nt_node_attr_float(node, "alpha", 1.67326319217681884765625f);
        p->gamma = nt_node_attr_float(node, "gamma", 1.05070102214813232421875f);
        break;
    case UOP_HardSigmoid:
        p->alpha = nt_node_attr_float(node, "alpha", 0.2f);
        p->beta = nt_node_attr_float(node, "beta", 0.5f);
        break;
    case UOP_Shrink:
        p->alpha = nt_node_attr_float(node, "lambd", 0.5f);
        p->beta = nt_node_attr_float(node, "bias", 0.0f);
        break;
    case UOP_Gelu: {
        const char *a = nt_node_attr_string(node, "approximate", "none");
        if (strcmp(a, "tanh") == 0)
            p->flag = 1;
        else if (strcmp(a, "none") != 0) {
            free(st);
            return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (Gelu): approximate='%s' is not 'none' or 'tanh'",
                            node->name, a);
        }
        break;
    }
    case UOP_IsInf:
        p->flag = nt_node_attr_int(node, "detect_positive", 1) != 0;
        p->flag2 = nt_node_attr_int(node, "detect_negative", 1) != 0;
        break;
    case UOP_Clip:
        /* opset < 11: bounds are attributes (defaults: the float range) */
        p->lo = nt_node_attr_float(node, "min", -FLT_MAX);
        p->hi = nt_node_attr_float(node, "max", FLT_MAX);
        break;
    default: break;
    }
    *state = st;
    return NT_OK;
}

static void un_release(void *state) { free(state); }

static nt_dtype un_out_dtype(int op, nt_dtype in)
{
    return op == UOP_IsNaN || op == UOP_IsInf ? NT_DTYPE_BOOL : in;
}

static nt_status un_infer(nt_kernel_ctx *ctx)
{
    const un_state *st = ctx->state;
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_INVALID_ARG, "input 0 is missing");
    int op = st->par.op;
    bool dtype_unknown = ctx->static_mode && x->dtype == NT_DTYPE_UNDEFINED;
    if (!dtype_unknown && ((unsigned)x->dtype >= NT_DTYPE_COUNT || !un_table[op][x->dtype]))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s does not support input dtype %s", un_names[op],
                            nt_dtype_name(x->dtype));
    if (op == UOP_Clip && st->opset >= 11)
        for (int k = 1; k <= 2; k++) {
            const nt_tensor *b = nt_ctx_in(ctx, k);
            if (b && !dtype_unknown && b->dtype != NT_DTYPE_UNDEFINED && b->dtype != x->dtype)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "Clip %s has dtype %s, input has %s", k == 1 ? "min" : "max",
                                    nt_dtype_name(b->dtype), nt_dtype_name(x->dtype));
        }
    return nt_ctx_set_output(ctx, 0, un_out_dtype(op, x->dtype), x->ndim, x->dims);
}

/* Reads Clip bound input k (a scalar of x's dtype) into p; absent or empty
 * leaves the default (no bound). */
static nt_status clip_read_bound(nt_kernel_ctx *ctx, int k, nt_ew_params *p)
{
    const nt_tensor *b = nt_ctx_in(ctx, k);
    if (!b || nt_tensor_numel(b) <= 0)
        return NT_OK;
    if (nt_tensor_numel(b) != 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "Clip %s must be a scalar, has %lld elements",
                            k == 1 ? "min" : "max", (long long)nt_tensor_numel(b));
    double d = nt_tensor_get_f64(b, 0);
    int64_t iv = 0;
    uint64_t uv = 0;
    switch (b->dtype) {
    case NT_DTYPE_INT64: iv = *(const int64_t *)b->data; uv = (uint64_t)iv; break;
    case NT_DTYPE_UINT64: uv = *(const uint64_t *)b->data; iv = (int64_t)uv; break;
    default: iv = (int64_t)d; uv = d > 0 ? (uint64_t)d : 0; break;
    }
    if (k == 1) {
        p->lo = d;
        p->ilo = iv;
        p->ulo = uv;
    } else {
        p->hi = d;
        p->ihi = iv;
        p->uhi = uv;
    }
    return NT_OK;
}

nt_status nt_ew_unary_loop(nt_kernel_ctx *ctx, nt_ew_fn *fn_out, nt_ew_params *par_out)
{
    const un_state *st = ctx->state;
    const nt_tensor *x = ctx->in[0];
    nt_ew_params par = st->par;
    if (par.op == UOP_Clip) {
        if (st->opset >= 11) {
            par.lo = -INFINITY;
            par.hi = INFINITY;
        }
        par.ilo = INT64_MIN;
        par.ihi = INT64_MAX;
        par.ulo = 0;
        par.uhi = UINT64_MAX;
        if (st->opset >= 11) {
            nt_status s = clip_read_bound(ctx, 1, &par);
            if (s == NT_OK)
                s = clip_read_bound(ctx, 2, &par);
            if (s != NT_OK)
                return s;
        }
        /* lo > hi: everything becomes hi */
        par.lo = par.lo > par.hi ? par.hi : par.lo;
        par.ilo = par.ilo > par.ihi ? par.ihi : par.ilo;
        par.ulo = par.ulo > par.uhi ? par.uhi : par.ulo;
    }
    nt_ew_fn fn = (unsigned)x->dtype < NT_DTYPE_COUNT ? un_table[par.op][x->dtype] : NULL;
    if (!fn)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s does not support input dtype %s", un_names[par.op],
                            nt_dtype_name(x->dtype));
    *fn_out = fn;
    *par_out = par;
    return NT_OK;
}

static nt_status un_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = nt_ctx_out(ctx, 0);
    if (!y)
        return NT_OK;
    nt_ew_params par;
    nt_ew_fn fn;
    nt_status s = nt_ew_unary_loop(ctx, &fn, &par);
    if (s != NT_OK)
        return s;
    nt_ew_plan plan;
    const nt_tensor *ins[1] = {x};
    s = nt_ew_plan_init(&plan, 1, ins, y);
    if (s != NT_OK)
        return nt_ctx_error(ctx, s, "%s", nt_last_error());
    const void *ip[1] = {x->data};
    nt_ew_run(ctx->exec, &plan, fn, y->data, ip, &par);
    return NT_OK;
}

bool nt_ew_is_unary(const nt_op_def *op) { return op && op->compute == un_compute; }

/* One entry per since-version where ONNX changed the op (types or
 * semantics); versions before 6 (consumed_inputs) are not registered.  All
 * versions of an op share the callbacks: the dtype table is the union of
 * what the versions allow. */
#define UN_DEF(name, since) {#name, "", since, un_prepare, un_release, un_infer, un_compute}
#define CAST_DEF(name, since, infer) \
    {#name, "", since, nt_ew_cast_prepare, nt_ew_cast_release, infer, nt_ew_cast_compute}

const nt_op_def nt_ops_unary[] = {
    UN_DEF(Abs, 6), UN_DEF(Abs, 13),
    UN_DEF(Neg, 6), UN_DEF(Neg, 13),
    UN_DEF(Exp, 6), UN_DEF(Exp, 13),
    UN_DEF(Log, 6), UN_DEF(Log, 13),
    UN_DEF(Sqrt, 6), UN_DEF(Sqrt, 13),
    UN_DEF(Reciprocal, 6), UN_DEF(Reciprocal, 13),
    UN_DEF(Floor, 6), UN_DEF(Floor, 13),
    UN_DEF(Ceil, 6), UN_DEF(Ceil, 13),
    UN_DEF(Round, 11), UN_DEF(Round, 22),
    UN_DEF(Sign, 9), UN_DEF(Sign, 13),
    UN_DEF(Sin, 7), UN_DEF(Sin, 22),
    UN_DEF(Cos, 7), UN_DEF(Cos, 22),
    UN_DEF(Tan, 7), UN_DEF(Tan, 22),
    UN_DEF(Asin, 7), UN_DEF(Asin, 22),
    UN_DEF(Acos, 7), UN_DEF(Acos, 22),
    UN_DEF(Atan, 7), UN_DEF(Atan, 22),
    UN_DEF(Sinh, 9), UN_DEF(Sinh, 22),
    UN_DEF(Cosh, 9), UN_DEF(Cosh, 22),
    UN_DEF(Asinh, 9), UN_DEF(Asinh, 22),
    UN_DEF(Acosh, 9), UN_DEF(Acosh, 22),
    UN_DEF(Atanh, 9), UN_DEF(Atanh, 22),
    UN_DEF(Tanh, 6), UN_DEF(Tanh, 13),
    UN_DEF(Erf, 9), UN_DEF(Erf, 13),
    UN_DEF(Relu, 6), UN_DEF(Relu, 13), UN_DEF(Relu, 14),
    UN_DEF(LeakyRelu, 6), UN_DEF(LeakyRelu, 16),
    UN_DEF(Elu, 6), UN_DEF(Elu, 22),
    UN_DEF(Selu, 6), UN_DEF(Selu, 22),
    UN_DEF(Celu, 12),
    UN_DEF(Sigmoid, 6), UN_DEF(Sigmoid, 13),
    UN_DEF(HardSigmoid, 6), UN_DEF(HardSigmoid, 22),
    UN_DEF(HardSwish, 14), UN_DEF(HardSwish, 22),
    UN_DEF(Softplus, 1), UN_DEF(Softplus, 22),
    UN_DEF(Softsign, 1), UN_DEF(Softsign, 22),
    UN_DEF(Gelu, 20),
    UN_DEF(Mish, 18), UN_DEF(Mish, 22),
    UN_DEF(ThresholdedRelu, 10), UN_DEF(ThresholdedRelu, 22),
    UN_DEF(Shrink, 9),
    UN_DEF(Clip, 6), UN_DEF(Clip, 11), UN_DEF(Clip, 12), UN_DEF(Clip, 13),
    UN_DEF(IsNaN, 9), UN_DEF(IsNaN, 13), UN_DEF(IsNaN, 20),
    UN_DEF(IsInf, 10), UN_DEF(IsInf, 20),
    UN_DEF(Not, 1),
    UN_DEF(BitwiseNot, 18),
    UN_DEF(Swish, 24),
    CAST_DEF(Cast, 6, nt_ew_cast_infer), CAST_DEF(Cast, 9, nt_ew_cast_infer),
    CAST_DEF(Cast, 13, nt_ew_cast_infer), CAST_DEF(Cast, 19, nt_ew_cast_infer),
    CAST_DEF(Cast, 21, nt_ew_cast_infer), CAST_DEF(Cast, 23, nt_ew_cast_infer),
    CAST_DEF(Cast, 24, nt_ew_cast_infer), CAST_DEF(Cast, 25, nt_ew_cast_infer),
    CAST_DEF(CastLike, 15, nt_ew_castlike_infer), CAST_DEF(CastLike, 19, nt_ew_castlike_infer),
    CAST_DEF(CastLike, 21, nt_ew_castlike_infer), CAST_DEF(CastLike, 23, nt_ew_castlike_infer),
    CAST_DEF(CastLike, 24, nt_ew_castlike_infer), CAST_DEF(CastLike, 25, nt_ew_castlike_infer),
};
const size_t nt_ops_unary_count = NT_ARRAY_LEN(nt_ops_unary);
