/*
 * eltwise_cast.c — Cast and CastLike (their table entries are in unary.c):
 * conversion between every pair of the plain numeric dtypes (float32,
 * float64, float16, bfloat16, the signed and unsigned integers, bool).
 *
 * Rules, following numpy's astype where it is defined:
 *   - between integers: wrap modulo 2^bits (C conversion via the 64-bit value);
 *   - integer or bool to float: nearest representable value;
 *   - float to integer: truncation toward zero; NaN gives 0 and values out of
 *     the target's range saturate to its min/max (numpy leaves these
 *     undefined; saturating keeps the result deterministic and avoids C's
 *     undefined behaviour);
 *   - anything to bool: x != 0 (so NaN is true);
 *   - double to float16/bfloat16 rounds through float (a double rounding that
 *     can differ from a direct rounding by one unit in rare ties).
 * The narrow types (float8 in all five formats, float4e2m1, int4/uint4,
 * int2/uint2; see src/core/narrow.c) convert element by element through
 * double (floats) or int64 (integers, bool):
 *   - to a float8/float4: round to nearest even; 'saturate' (default 1)
 *     clamps overflow and infinities to the largest finite value, 0 gives
 *     infinity (E5M2) or NaN; a double source rounds through float first;
 *     float8e8m0 follows 'round_mode' (up, down, nearest);
 *   - to int4/uint4/int2/uint2: integers wrap modulo 2^bits, floats are
 *     truncated toward zero first and then wrap (the ONNX reference's
 *     results: -9.0 to int4 is 7).
 * string and complex are declined with NT_ERR_UNSUPPORTED.
 *
 * Shapes: y has x's shape; Cast: dtype from 'to', CastLike: target_type's.
 */
#include "ops/elementwise_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-dtype storage type, load (to double, int64_t or uint64_t) and store */
#define CV_T_FLOAT float
#define CV_T_DOUBLE double
#define CV_T_FLOAT16 uint16_t
#define CV_T_BFLOAT16 uint16_t
#define CV_T_INT8 int8_t
#define CV_T_INT16 int16_t
#define CV_T_INT32 int32_t
#define CV_T_INT64 int64_t
#define CV_T_UINT8 uint8_t
#define CV_T_UINT16 uint16_t
#define CV_T_UINT32 uint32_t
#define CV_T_UINT64 uint64_t
#define CV_T_BOOL uint8_t

#define CV_LD_FLOAT(x) ((double)(x))
#define CV_LD_DOUBLE(x) (x)
#define CV_LD_FLOAT16(x) ((double)nt_half_to_float(x))
#define CV_LD_BFLOAT16(x) ((double)nt_bf16_to_float(x))
#define CV_LD_INT8(x) ((int64_t)(x))
#define CV_LD_INT16(x) ((int64_t)(x))
#define CV_LD_INT32(x) ((int64_t)(x))
#define CV_LD_INT64(x) ((int64_t)(x))
#define CV_LD_UINT8(x) ((uint64_t)(x))
#define CV_LD_UINT16(x) ((uint64_t)(x))
#define CV_LD_UINT32(x) ((uint64_t)(x))
#define CV_LD_UINT64(x) ((uint64_t)(x))
#define CV_LD_BOOL(x) ((uint64_t)((x) != 0))

/* float to integer: truncate, NaN -> 0, saturate out of range */
#define CV_SAT_FN(T, LO, HI)                       \
    static inline T cv_sat_##T(double d)           \
    {                                              \
        if (d != d)                                \
            return 0;                              \
        if (d <= (double)(LO))                     \
            return (LO);                           \
        if (d >= (double)(HI))                     \
            return (HI);                           \
        return (T)d;                               \
    }
CV_SAT_FN(int8_t, INT8_MIN, INT8_MAX)
CV_SAT_FN(int16_t, INT16_MIN, INT16_MAX)
CV_SAT_FN(int32_t, INT32_MIN, INT32_MAX)
CV_SAT_FN(int64_t, INT64_MIN, INT64_MAX)
CV_SAT_FN(uint8_t, 0, UINT8_MAX)
CV_SAT_FN(uint16_t, 0, UINT16_MAX)
CV_SAT_FN(uint32_t, 0, UINT32_MAX)
CV_SAT_FN(uint64_t, 0, UINT64_MAX)

#define CV_ST_INT(T, v) _Generic((v), double: cv_sat_##T((double)(v)), default: (T)(v))
#define CV_ST_FLOAT(v) ((float)(v))
#define CV_ST_DOUBLE(v) ((double)(v))
#define CV_ST_FLOAT16(v) nt_float_to_half((float)(v))
#define CV_ST_BFLOAT16(v) nt_float_to_bf16((float)(v))
#define CV_ST_INT8(v) CV_ST_INT(int8_t, v)
#define CV_ST_INT16(v) CV_ST_INT(int16_t, v)
#define CV_ST_INT32(v) CV_ST_INT(int32_t, v)
#define CV_ST_INT64(v) CV_ST_INT(int64_t, v)
#define CV_ST_UINT8(v) CV_ST_INT(uint8_t, v)
#define CV_ST_UINT16(v) CV_ST_INT(uint16_t, v)
#define CV_ST_UINT32(v) CV_ST_INT(uint32_t, v)
#define CV_ST_UINT64(v) CV_ST_INT(uint64_t, v)
#define CV_ST_BOOL(v) ((uint8_t)((v) != 0))

/* The same list twice: a macro cannot expand inside its own expansion, and
 * the pairs need a list nested in a list. */
#define CV_TYPES(X, A)                                                                          \
    X(A, FLOAT) X(A, DOUBLE) X(A, FLOAT16) X(A, BFLOAT16) X(A, INT8) X(A, INT16) X(A, INT32)    \
    X(A, INT64) X(A, UINT8) X(A, UINT16) X(A, UINT32) X(A, UINT64) X(A, BOOL)
#define CV_TYPES2(X, A)                                                                         \
    X(A, FLOAT) X(A, DOUBLE) X(A, FLOAT16) X(A, BFLOAT16) X(A, INT8) X(A, INT16) X(A, INT32)    \
    X(A, INT64) X(A, UINT8) X(A, UINT16) X(A, UINT32) X(A, UINT64) X(A, BOOL)

typedef void (*cv_fn)(const void *src, void *dst, int64_t n);

#define CV_FN(S, D)                                                  \
    static void cv_##S##_##D(const void *s_, void *d_, int64_t n)    \
    {                                                                \
        const CV_T_##S *s = s_;                                      \
        CV_T_##D *d = d_;                                            \
        for (int64_t i = 0; i < n; i++)                              \
            d[i] = CV_ST_##D(CV_LD_##S(s[i]));                       \
    }
#define CV_GEN_OUTER(unused, S) CV_TYPES2(CV_FN, S)
CV_TYPES(CV_GEN_OUTER, _)

#define CV_REG(S, D) [NT_DTYPE_##S][NT_DTYPE_##D] = cv_##S##_##D,
#define CV_REG_OUTER(unused, S) CV_TYPES2(CV_REG, S)
static const cv_fn cv_table[NT_DTYPE_COUNT][NT_DTYPE_COUNT] = {CV_TYPES(CV_REG_OUTER, _)};

static bool cv_plain(nt_dtype a) { return (unsigned)a < NT_DTYPE_COUNT && cv_table[a][a]; }

static bool cv_supported(nt_dtype a, nt_dtype b)
{
    if ((unsigned)a >= NT_DTYPE_COUNT || (unsigned)b >= NT_DTYPE_COUNT)
        return false;
    if (cv_table[a][b])
        return true;
    return (cv_plain(a) || nt_dtype_is_narrow(a)) && (cv_plain(b) || nt_dtype_is_narrow(b));
}

static bool cv_int_kind(nt_dtype t)
{
    return nt_dtype_is_int(t) || t == NT_DTYPE_BOOL || t == NT_DTYPE_INT4 || t == NT_DTYPE_UINT4 ||
           t == NT_DTYPE_INT2 || t == NT_DTYPE_UINT2;
}

/* A narrow type on one side (or both): chunks go through an int64 or double
 * buffer, the plain side through the table above.  Not a fast path: the
 * narrow types appear at a model's borders, not in its hot loops. */
static void cv_narrow(nt_dtype st, const void *src, nt_dtype dt, void *dst, int64_t n, bool saturate,
                      char round_mode)
{
    enum { CHUNK = 256 };
    size_t ss = nt_dtype_size(st), ds = nt_dtype_size(dt);
    bool dst_narrow_int = cv_int_kind(dt) && nt_dtype_is_narrow(dt);
    for (int64_t i0 = 0; i0 < n; i0 += CHUNK) {
        int64_t m = NT_MIN(CHUNK, n - i0);
        const uint8_t *sp = (const uint8_t *)src + (size_t)i0 * ss;
        uint8_t *dp = (uint8_t *)dst + (size_t)i0 * ds;
        if (cv_int_kind(st)) {
            int64_t buf[CHUNK];
            if (nt_dtype_is_narrow(st))
                for (int64_t k = 0; k < m; k++)
                    buf[k] = (st == NT_DTYPE_INT4 || st == NT_DTYPE_INT2) ? (int8_t)sp[k] : sp[k];
            else
                cv_table[st][NT_DTYPE_INT64](sp, buf, m);
            if (dst_narrow_int)
                for (int64_t k = 0; k < m; k++)
                    dp[k] = nt_int_to_narrow(dt, buf[k]);
            else if (nt_dtype_is_narrow(dt))
                for (int64_t k = 0; k < m; k++)
                    dp[k] = nt_float_to_narrow(dt, (float)buf[k], saturate, round_mode);
            else
                cv_table[NT_DTYPE_INT64][dt](buf, dp, m);
        } else {
            double buf[CHUNK];
            if (nt_dtype_is_narrow(st))
                for (int64_t k = 0; k < m; k++)
                    buf[k] = nt_narrow_to_float(st, sp[k]);
            else
                cv_table[st][NT_DTYPE_DOUBLE](sp, buf, m);
            if (dst_narrow_int) {
                for (int64_t k = 0; k < m; k++) {
                    double d = trunc(buf[k]);
                    int64_t v = d != d ? 0 : d <= -9.2e18 ? INT64_MIN : d >= 9.2e18 ? INT64_MAX : (int64_t)d;
                    dp[k] = nt_int_to_narrow(dt, v);
                }
            } else if (nt_dtype_is_narrow(dt)) {
                for (int64_t k = 0; k < m; k++)
                    dp[k] = nt_float_to_narrow(dt, (float)buf[k], saturate, round_mode);
            } else {
                cv_table[NT_DTYPE_DOUBLE][dt](buf, dp, m);
            }
        }
    }
}

static nt_status cv_convert(nt_dtype src_type, const void *src, nt_dtype dst_type, void *dst, int64_t n,
                            bool saturate, char round_mode)
{
    if (!cv_supported(src_type, dst_type))
        return nt_error(NT_ERR_UNSUPPORTED, "cast from %s to %s is not supported", nt_dtype_name(src_type),
                        nt_dtype_name(dst_type));
    if (n <= 0)
        return NT_OK;
    if (src_type == dst_type && src_type != NT_DTYPE_BOOL)
        memcpy(dst, src, (size_t)n * nt_dtype_size(src_type));
    else if (cv_table[src_type][dst_type])
        cv_table[src_type][dst_type](src, dst, n);
    else
        cv_narrow(src_type, src, dst_type, dst, n, saturate, round_mode);
    return NT_OK;
}

nt_status nt_ew_convert(nt_dtype src_type, const void *src, nt_dtype dst_type, void *dst, int64_t n)
{
    return cv_convert(src_type, src, dst_type, dst, n, true, 'u');
}

/* ---- op callbacks */

nt_status nt_ew_cast_prepare(const nt_node *node, int opset, void **state)
{
    *state = NULL;
    nt_ew_params *p = nt_calloc(1, sizeof *p);
    if (!p)
        return NT_ERR_NOMEM;
    p->to = NT_DTYPE_UNDEFINED;
    /* flag: 'saturate' (float8 targets); flag2: float8e8m0's 'round_mode' initial. */
    p->flag = nt_node_attr_int(node, "saturate", 1) != 0;
    const char *rm = nt_node_attr_string(node, "round_mode", "up");
    if (strcmp(rm, "up") != 0 && strcmp(rm, "down") != 0 && strcmp(rm, "nearest") != 0) {
        free(p);
        return nt_error(NT_ERR_PARSE, "node '%s' (%s): round_mode '%s' is not up, down or nearest", node->name,
                        node->op_type, rm);
    }
    p->flag2 = rm[0];
    if (strcmp(node->op_type, "Cast") == 0) {
        const nt_attr *a = nt_node_attr(node, "to");
        if (!a || a->type != NT_ATTR_INT) {
            free(p);
            return nt_error(NT_ERR_PARSE, "node '%s' (Cast): attribute 'to' is missing", node->name);
        }
        if (a->i <= 0 || a->i >= NT_DTYPE_COUNT) {
            free(p);
            return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (Cast): target type %lld is not supported", node->name,
                            (long long)a->i);
        }
        p->to = (nt_dtype)a->i;
    }
    *state = p;
    return NT_OK;
}

void nt_ew_cast_release(void *state) { free(state); }

/* Checks the pair and sets y's dtype and shape. */
static nt_status cast_set(nt_kernel_ctx *ctx, nt_dtype to)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_INVALID_ARG, "input 0 is missing");
    bool from_unknown = ctx->static_mode && x->dtype == NT_DTYPE_UNDEFINED;
    if (!cv_supported(from_unknown ? NT_DTYPE_FLOAT : x->dtype, to))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "cast from %s to %s is not supported",
                            from_unknown ? "?" : nt_dtype_name(x->dtype), nt_dtype_name(to));
    return nt_ctx_set_output(ctx, 0, to, x->ndim, x->dims);
}

nt_status nt_ew_cast_infer(nt_kernel_ctx *ctx)
{
    const nt_ew_params *p = ctx->state;
    return cast_set(ctx, p->to);
}

nt_status nt_ew_castlike_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *like = nt_ctx_in(ctx, 1);
    if (!like)
        return nt_ctx_error(ctx, NT_ERR_INVALID_ARG, "input 1 (target_type) is missing");
    if (ctx->static_mode && like->dtype == NT_DTYPE_UNDEFINED) {
        const nt_tensor *x = nt_ctx_in(ctx, 0);
        if (!x)
            return nt_ctx_error(ctx, NT_ERR_INVALID_ARG, "input 0 is missing");
        return nt_ctx_set_output(ctx, 0, NT_DTYPE_UNDEFINED, x->ndim, x->dims);
    }
    return cast_set(ctx, like->dtype);
}

/* Inner loop for nt_ew_run: converts a contiguous run (step is always 1). */
static void cast_run(void *out, const void *const *in, const int64_t *step, int64_t n, const nt_ew_params *p)
{
    (void)step;
    cv_convert(p->from, in[0], p->to, out, n, p->flag != 0, (char)p->flag2);
}

nt_status nt_ew_cast_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = nt_ctx_out(ctx, 0);
    if (!y)
        return NT_OK;
    nt_ew_params par = *(const nt_ew_params *)ctx->state;
    par.from = x->dtype;
    par.to = y->dtype;
    if (!cv_supported(par.from, par.to))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "cast from %s to %s is not supported", nt_dtype_name(par.from),
                            nt_dtype_name(par.to));
    nt_ew_plan plan;
    const nt_tensor *ins[1] = {x};
    nt_status s = nt_ew_plan_init(&plan, 1, ins, y);
    if (s != NT_OK)
        return nt_ctx_error(ctx, s, "%s", nt_last_error());
    const void *ip[1] = {x->data};
    nt_ew_run(ctx->exec, &plan, cast_run, y->data, ip, &par);
    return NT_OK;
}
