/*
 * quant.c — linear quantization: QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear and QLinearMatMul.
 *
 *   QuantizeLinear     y = saturate(rint(x / scale) + zero_point)
 *   DequantizeLinear   y = (x - zero_point) * scale
 *
 * Granularity follows the scale's shape: one value (per tensor), a 1-D
 * tensor of x.dims[axis] values (per axis, opset >= 13), or, with
 * block_size > 0 (opset >= 21), a tensor of x's rank whose `axis` dim is
 * ceil(x.dims[axis] / block_size) (blocked).  All three reduce to viewing x
 * as (O, A, In) around `axis` and picking the scale for (o, a, in); see
 * qt_grid.
 *
 * Quantized types: uint8, int8, uint16, int16, int4/uint4, int2/uint2 (and
 * int32 as a DequantizeLinear input), and the float8 formats and float4e2m1,
 * whose y = cast(x / scale + zp) rounds as Cast does ('saturate' attribute,
 * see src/core/narrow.c).  Rounding is half to even (rint in the
 * default rounding mode).  The division x / scale runs in the scale's
 * precision (float16 scales round the quotient to float16), as the spec asks.
 * float32 <-> 8-bit per-tensor/per-axis, the QDQ-model case, runs through
 * vectorizable loops (qt_fast).  QLinearMatMul accumulates exactly in int32
 * (nt_igemm_s16) and requantizes with a multiplier formed in the scales'
 * precision.
 */
#include "ops/kernel.h"
#include "ops/gemm_util.h"
#include "ops/igemm.h"
#include "ops/conv_geom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- element access */

/* The sub-byte integers, one per byte in memory (int4/int2 sign-extended). */
static bool qt_int_ok_narrow(nt_dtype dt)
{
    return dt == NT_DTYPE_INT4 || dt == NT_DTYPE_UINT4 || dt == NT_DTYPE_INT2 || dt == NT_DTYPE_UINT2;
}

/* Element i of a numeric tensor as a double (the dtypes this file accepts). */
static inline double qt_get(const nt_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case NT_DTYPE_FLOAT: return ((const float *)t->data)[i];
    case NT_DTYPE_DOUBLE: return ((const double *)t->data)[i];
    case NT_DTYPE_FLOAT16: return nt_half_to_float(((const uint16_t *)t->data)[i]);
    case NT_DTYPE_BFLOAT16: return nt_bf16_to_float(((const uint16_t *)t->data)[i]);
    case NT_DTYPE_UINT8: return ((const uint8_t *)t->data)[i];
    case NT_DTYPE_INT8: return ((const int8_t *)t->data)[i];
    case NT_DTYPE_UINT16: return ((const uint16_t *)t->data)[i];
    case NT_DTYPE_INT16: return ((const int16_t *)t->data)[i];
    case NT_DTYPE_INT32: return ((const int32_t *)t->data)[i];
    default:
        if (nt_dtype_is_narrow(t->dtype))
            return nt_narrow_to_float(t->dtype, ((const uint8_t *)t->data)[i]);
        return NAN;
    }
}

/* The float8 formats and float4e2m1: quantized by a cast, not by rint and
 * saturation to an integer range (float8e8m0 is a scale type, not one of them). */
static bool qt_float_q(nt_dtype dt)
{
    return nt_dtype_is_narrow(dt) && !qt_int_ok_narrow(dt) && dt != NT_DTYPE_FLOAT8E8M0;
}

/* Whether dt is an integer type this file quantizes to. */
static bool qt_int_ok(nt_dtype dt)
{
    return dt == NT_DTYPE_UINT8 || dt == NT_DTYPE_INT8 || dt == NT_DTYPE_UINT16 || dt == NT_DTYPE_INT16 ||
           qt_int_ok_narrow(dt);
}

static bool qt_scale_ok(nt_dtype dt)
{
    return dt == NT_DTYPE_FLOAT || dt == NT_DTYPE_FLOAT16 || dt == NT_DTYPE_BFLOAT16;
}

/* Saturation range of an integer type. */
static void qt_range(nt_dtype dt, double *lo, double *hi)
{
    switch (dt) {
    case NT_DTYPE_UINT8: *lo = 0, *hi = 255; break;
    case NT_DTYPE_INT8: *lo = -128, *hi = 127; break;
    case NT_DTYPE_UINT16: *lo = 0, *hi = 65535; break;
    case NT_DTYPE_INT16: *lo = -32768, *hi = 32767; break;
    case NT_DTYPE_INT4: *lo = -8, *hi = 7; break;
    case NT_DTYPE_UINT4: *lo = 0, *hi = 15; break;
    case NT_DTYPE_INT2: *lo = -2, *hi = 1; break;
    case NT_DTYPE_UINT2: *lo = 0, *hi = 3; break;
    default: *lo = -2147483648.0, *hi = 2147483647.0; break;
    }
}

/* Stores the already rounded and saturated integer v at y[i]. */
static inline void qt_put_int(nt_tensor *y, int64_t i, double v)
{
    switch (y->dtype) {
    case NT_DTYPE_UINT8: ((uint8_t *)y->data)[i] = (uint8_t)v; break;
    case NT_DTYPE_INT8: ((int8_t *)y->data)[i] = (int8_t)v; break;
    case NT_DTYPE_UINT16: ((uint16_t *)y->data)[i] = (uint16_t)v; break;
    case NT_DTYPE_INT16: ((int16_t *)y->data)[i] = (int16_t)v; break;
    case NT_DTYPE_INT4: case NT_DTYPE_INT2: ((int8_t *)y->data)[i] = (int8_t)v; break;
    case NT_DTYPE_UINT4: case NT_DTYPE_UINT2: ((uint8_t *)y->data)[i] = (uint8_t)v; break;
    default: break;
    }
}


/* Stores v at y[i] for a float output type (rounded to that type). */
static inline void qt_put_float(nt_tensor *y, int64_t i, float v)
{
    switch (y->dtype) {
    case NT_DTYPE_FLOAT: ((float *)y->data)[i] = v; break;
    case NT_DTYPE_FLOAT16: ((uint16_t *)y->data)[i] = nt_float_to_half(v); break;
    case NT_DTYPE_BFLOAT16: ((uint16_t *)y->data)[i] = nt_float_to_bf16(v); break;
    default: break;
    }
}

/* v rounded to the precision of a float dtype (float16/bfloat16 round-trip). */
static inline float qt_round_to(nt_dtype dt, float v)
{
    if (dt == NT_DTYPE_FLOAT16)
        return nt_half_to_float(nt_float_to_half(v));
    if (dt == NT_DTYPE_BFLOAT16)
        return nt_bf16_to_float(nt_float_to_bf16(v));
    return v;
}

/* saturate(rint(q) + zp) into [lo, hi]; NaN maps to 0 as a cast would not
 * be defined for it. */
static inline double qt_sat(double q, double zp, double lo, double hi)
{
    double v = nearbyint(q) + zp;
    if (isnan(v))
        return 0;
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Stores the quantized value of q (x / scale, not yet rounded) at y[i]:
 * saturate(rint(q) + zp) for integers, cast(q + zp) for float8/float4. */
static inline void qt_put_q(nt_tensor *y, int64_t i, float q, double zp, double lo, double hi, bool saturate)
{
    if (qt_float_q(y->dtype))
        ((uint8_t *)y->data)[i] = nt_float_to_narrow(y->dtype, q + (float)zp, saturate, 'n');
    else
        qt_put_int(y, i, qt_sat(q, zp, lo, hi));
}

/* ---------------------------------------------------------------- granularity */

/* How x's elements map to scale / zero-point elements. */
typedef struct qt_grid {
    int64_t O, A, In;    /* x viewed as (O, A, In) around axis */
    int64_t SA;          /* scale's extent along axis: 1 (per tensor), A (per axis) or ceil(A/bs) */
    int64_t bs;          /* elements of A per scale entry: A (per tensor), 1 (per axis), block_size */
    bool per_tensor;     /* one scale */
    bool per_axis;       /* a 1-D scale indexed by a */
} qt_grid;

/* Scale index of x element (o, a, in). */
static inline int64_t qt_sidx(const qt_grid *g, int64_t o, int64_t a, int64_t in)
{
    if (g->per_tensor)
        return 0;
    if (g->per_axis)
        return a;
    return (o * g->SA + a / g->bs) * g->In + in;
}

/* Validates scale (and zero point) against x for axis/block_size and fills
 * the grid.  Per-axis scales are 1-D; blocked ones have x's rank. */
static nt_status qt_make_grid(const nt_kernel_ctx *ctx, const nt_tensor *x, const nt_tensor *scale,
                              const nt_tensor *zp, int64_t axis, int64_t bs, qt_grid *g)
{
    memset(g, 0, sizeof *g);
    if (zp) {
        bool same = zp->ndim == scale->ndim || nt_tensor_numel(zp) == nt_tensor_numel(scale);
        for (int d = 0; same && d < zp->ndim && zp->ndim == scale->ndim; d++)
            same = zp->dims[d] == scale->dims[d];
        if (!same)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "zero point and scale shapes differ");
    }
    int r = x->ndim;
    if (bs <= 0 && nt_tensor_numel(scale) == 1 && scale->ndim <= 1) {
        g->per_tensor = true;
        g->O = 1, g->A = nt_tensor_numel(x), g->In = 1, g->SA = 1, g->bs = g->A > 0 ? g->A : 1;
        return NT_OK;
    }
    if (axis < 0)
        axis += r;
    if (axis < 0 || axis >= r)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)axis, r);
    g->O = 1, g->In = 1;
    for (int d = 0; d < axis; d++)
        g->O *= x->dims[d];
    for (int d = (int)axis + 1; d < r; d++)
        g->In *= x->dims[d];
    g->A = x->dims[axis];
    if (bs <= 0) {
        if (scale->ndim != 1 || scale->dims[0] != g->A)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "per-axis scale must be 1-D of %lld values", (long long)g->A);
        g->SA = g->A, g->bs = 1, g->per_axis = true;
        return NT_OK;
    }
    if (scale->ndim != r)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "blocked scale must have rank %d", r);
    for (int d = 0; d < r; d++) {
        int64_t want = d == axis ? (x->dims[d] + bs - 1) / bs : x->dims[d];
        if (scale->dims[d] != want)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "blocked scale dim %d is %lld, expected %lld", d,
                                (long long)scale->dims[d], (long long)want);
    }
    g->SA = scale->dims[axis], g->bs = bs;
    return NT_OK;
}

/* Whether shape inference can check the grid now (all shapes known). */
static bool qt_known(const nt_kernel_ctx *ctx)
{
    return !ctx->static_mode || !nt_ctx_shapes_unknown(ctx);
}

/* ---------------------------------------------------------------- fast runs */

/* The common QDQ case — float32 data and scale, 8-bit integers, one scale
 * for a contiguous run of elements — as tight loops the compiler can
 * vectorize; the generic element-wise paths handle everything else.
 *   quantize:   y[0..n) = saturate(rint(x / s) + zp)   (NaN -> 0, as qt_sat)
 *   dequantize: y[0..n) = (x - zp) * s */
#define QT_RUNS(T, SUF, LO, HI)                                                          \
    static void qt_quant_run_##SUF(const float *x, T *y, int64_t n, float s, float zp)  \
    {                                                                                    \
        for (int64_t i = 0; i < n; i++) {                                                \
            float v = nearbyintf(x[i] / s) + zp;                                         \
            v = v != v ? 0.0f : (v < (LO) ? (LO) : (v > (HI) ? (HI) : v));               \
            y[i] = (T)v;                                                                 \
        }                                                                                \
    }                                                                                    \
    static void qt_dequant_run_##SUF(const T *x, float *y, int64_t n, float s, int32_t zp) \
    {                                                                                    \
        for (int64_t i = 0; i < n; i++)                                                  \
            y[i] = (float)((int32_t)x[i] - zp) * s;                                      \
    }

QT_RUNS(uint8_t, u8, 0.0f, 255.0f)
QT_RUNS(int8_t, s8, -128.0f, 127.0f)

/* Whether the fast runs apply: float32 data and scale, 8-bit integers,
 * per-tensor or per-axis granularity. */
static bool qt_fast_ok(const qt_grid *g, nt_dtype ft, nt_dtype st, nt_dtype it)
{
    return ft == NT_DTYPE_FLOAT && st == NT_DTYPE_FLOAT && (it == NT_DTYPE_UINT8 || it == NT_DTYPE_INT8) &&
           (g->per_tensor || g->per_axis);
}

/* Runs of (offset, length, scale index) over the grid: one run per tensor,
 * or one per (o, a) for per-axis scales.  Calls the fast kernels. */
static void qt_fast(const qt_grid *g, bool quantize, const nt_tensor *x, const nt_tensor *scale,
                    const nt_tensor *zp, nt_tensor *y)
{
    int64_t nruns = g->per_tensor ? 1 : g->O * g->A;
    int64_t len = g->per_tensor ? g->A * g->O * g->In : g->In;
    bool u8 = (quantize ? y->dtype : x->dtype) == NT_DTYPE_UINT8;
    const float *sv = scale->data;
    for (int64_t r = 0; r < nruns; r++) {
        int64_t k = g->per_tensor ? 0 : r % g->A, off = r * len;
        float s = sv[k];
        double z = zp ? qt_get(zp, k) : 0.0;
        if (quantize) {
            const float *xs = (const float *)x->data + off;
            if (u8)
                qt_quant_run_u8(xs, (uint8_t *)y->data + off, len, s, (float)z);
            else
                qt_quant_run_s8(xs, (int8_t *)y->data + off, len, s, (float)z);
        } else {
            float *ys = (float *)y->data + off;
            if (u8)
                qt_dequant_run_u8((const uint8_t *)x->data + off, ys, len, s, (int32_t)z);
            else
                qt_dequant_run_s8((const int8_t *)x->data + off, ys, len, s, (int32_t)z);
        }
    }
}

/* ---------------------------------------------------------------- QuantizeLinear */

/* The axis attribute (default 1) and, from opset 21, block_size (default 0). */
static void qt_axis_block(const nt_kernel_ctx *ctx, int64_t *axis, int64_t *bs)
{
    *axis = ctx->opset >= 13 ? nt_node_attr_int(ctx->node, "axis", 1) : 1;
    *bs = ctx->opset >= 21 ? nt_node_attr_int(ctx->node, "block_size", 0) : 0;
}

/* y (x's shape) has the zero point's type, else output_dtype (opset 21),
 * else uint8. */
static nt_status quantize_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0), *scale = nt_ctx_in(ctx, 1), *zp = nt_ctx_in(ctx, 2);
    if (!x || !scale)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "x and y_scale are required");
    nt_dtype xt = x->dtype;
    if (xt != NT_DTYPE_FLOAT && xt != NT_DTYPE_DOUBLE && xt != NT_DTYPE_FLOAT16 && xt != NT_DTYPE_BFLOAT16 &&
        xt != NT_DTYPE_INT32)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "x dtype %s not supported", nt_dtype_name(xt));
    if (!qt_scale_ok(scale->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "y_scale dtype %s not supported", nt_dtype_name(scale->dtype));
    int64_t odt = ctx->opset >= 21 ? nt_node_attr_int(ctx->node, "output_dtype", 0) : 0;
    nt_dtype yt = zp ? zp->dtype : (odt ? (nt_dtype)odt : NT_DTYPE_UINT8);
    if (zp && odt && odt != (int64_t)zp->dtype)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "output_dtype %lld differs from the zero point's %s", (long long)odt,
                            nt_dtype_name(zp->dtype));
    if (!qt_int_ok(yt) && !qt_float_q(yt))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "quantizing to %s is not supported",
                            (odt > 0 && odt < NT_DTYPE_COUNT) || zp ? nt_dtype_name(yt) : "an unknown type");
    int64_t prec = nt_node_attr_int(ctx->node, "precision", 0);
    if (prec != 0 && prec != (int64_t)scale->dtype)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "precision %lld differing from the scale's type", (long long)prec);
    if (x->ndim >= 0 && qt_known(ctx)) {
        int64_t axis, bs;
        qt_axis_block(ctx, &axis, &bs);
        qt_grid g;
        nt_status s = qt_make_grid(ctx, x, scale, zp, axis, bs, &g);
        if (s != NT_OK)
            return s;
    }
    return nt_ctx_set_output(ctx, 0, yt, x->ndim, x->dims);
}

/* y (O, A, In) = saturate(rint(x / scale[grid]) + zp[grid]). */
static nt_status quantize_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *scale = ctx->in[1], *zp = nt_ctx_in(ctx, 2);
    nt_tensor *y = ctx->out[0];
    int64_t axis, bs;
    qt_axis_block(ctx, &axis, &bs);
    qt_grid g;
    nt_status s = qt_make_grid(ctx, x, scale, zp, axis, bs, &g);
    if (s != NT_OK)
        return s;
    if (qt_fast_ok(&g, x->dtype, scale->dtype, y->dtype)) {
        qt_fast(&g, true, x, scale, zp, y);
        return NT_OK;
    }
    double lo, hi;
    qt_range(y->dtype, &lo, &hi);
    bool saturate = nt_node_attr_int(ctx->node, "saturate", 1) != 0;
    nt_dtype st = scale->dtype;
    int64_t i = 0;
    for (int64_t o = 0; o < g.O; o++)
        for (int64_t a = 0; a < g.A; a++)
            for (int64_t in = 0; in < g.In; in++, i++) {
                int64_t k = qt_sidx(&g, o, a, in);
                /* the division runs in the scale's precision */
                float q = qt_round_to(st, (float)qt_get(x, i) / (float)qt_get(scale, k));
                qt_put_q(y, i, q, zp ? qt_get(zp, k) : 0.0, lo, hi, saturate);
            }
    return NT_OK;
}

/* ---------------------------------------------------------------- DequantizeLinear */

/* y has x's shape and the scale's type (or output_dtype, opset >= 23). */
static nt_status dequantize_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0), *scale = nt_ctx_in(ctx, 1), *zp = nt_ctx_in(ctx, 2);
    if (!x || !scale)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "x and x_scale are required");
    if (!qt_int_ok(x->dtype) && !qt_float_q(x->dtype) && x->dtype != NT_DTYPE_INT32)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "x dtype %s not supported", nt_dtype_name(x->dtype));
    if (!qt_scale_ok(scale->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "x_scale dtype %s not supported", nt_dtype_name(scale->dtype));
    if (zp && zp->dtype != x->dtype)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "zero point dtype %s differs from x's %s", nt_dtype_name(zp->dtype),
                            nt_dtype_name(x->dtype));
    int64_t odt = ctx->opset >= 23 ? nt_node_attr_int(ctx->node, "output_dtype", 0) : 0;
    nt_dtype yt = odt ? (nt_dtype)odt : scale->dtype;
    if (!qt_scale_ok(yt))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "output_dtype %lld not supported", (long long)odt);
    if (x->ndim >= 0 && qt_known(ctx)) {
        int64_t axis, bs;
        qt_axis_block(ctx, &axis, &bs);
        qt_grid g;
        nt_status s = qt_make_grid(ctx, x, scale, zp, axis, bs, &g);
        if (s != NT_OK)
            return s;
    }
    return nt_ctx_set_output(ctx, 0, yt, x->ndim, x->dims);
}

/* y (O, A, In) = (x - zp[grid]) * scale[grid], the product in float then
 * rounded to y's type. */
static nt_status dequantize_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *scale = ctx->in[1], *zp = nt_ctx_in(ctx, 2);
    nt_tensor *y = ctx->out[0];
    int64_t axis, bs;
    qt_axis_block(ctx, &axis, &bs);
    qt_grid g;
    nt_status s = qt_make_grid(ctx, x, scale, zp, axis, bs, &g);
    if (s != NT_OK)
        return s;
    if (qt_fast_ok(&g, y->dtype, scale->dtype, x->dtype)) {
        qt_fast(&g, false, x, scale, zp, y);
        return NT_OK;
    }
    int64_t i = 0;
    for (int64_t o = 0; o < g.O; o++)
        for (int64_t a = 0; a < g.A; a++)
            for (int64_t in = 0; in < g.In; in++, i++) {
                int64_t k = qt_sidx(&g, o, a, in);
                double v = qt_get(x, i) - (zp ? qt_get(zp, k) : 0.0); /* exact in double */
                qt_put_float(y, i, (float)v * (float)qt_get(scale, k));
            }
    return NT_OK;
}

/* ---------------------------------------------------------------- DynamicQuantizeLinear */

/* y uint8 of x's shape, y_scale and y_zero_point scalars; x float32. */
static nt_status dynq_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "missing input");
    if (x->dtype != NT_DTYPE_FLOAT)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "x dtype %s not supported", nt_dtype_name(x->dtype));
    nt_status s = nt_ctx_set_output(ctx, 0, NT_DTYPE_UINT8, x->ndim, x->dims);
    if (s == NT_OK)
        s = nt_ctx_set_output(ctx, 1, NT_DTYPE_FLOAT, 0, NULL);
    if (s == NT_OK)
        s = nt_ctx_set_output(ctx, 2, NT_DTYPE_UINT8, 0, NULL);
    return s;
}

/* *mn = min(*mn, x[i]) and *mx = max(*mx, x[i]) over x, NaNs skipped: 16
 * running minima and maxima (so the loop vectorizes, compiled per CPU),
 * then folded; the same result as one running pair in any order. */
NT_CLONES NT_VECTORIZE static void dynq_range(const float *restrict x, int64_t n, float *mn, float *mx)
{
    float lo[16], hi[16];
    for (int l = 0; l < 16; l++)
        lo[l] = *mn, hi[l] = *mx;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) {
            lo[l] = x[i + l] < lo[l] ? x[i + l] : lo[l];
            hi[l] = x[i + l] > hi[l] ? x[i + l] : hi[l];
        }
    for (; i < n; i++) {
        lo[0] = x[i] < lo[0] ? x[i] : lo[0];
        hi[0] = x[i] > hi[0] ? x[i] : hi[0];
    }
    for (int l = 0; l < 16; l++) {
        *mn = lo[l] < *mn ? lo[l] : *mn;
        *mx = hi[l] > *mx ? hi[l] : *mx;
    }
}

/* y = saturate(rint(x / scale) + zp) onto [0, 255], NaN to 0: qt_sat's
 * values in float (rounding a float to an integer is exact in float, and
 * adding zp <= 255 only rounds beyond 2^24, which saturates either way). */
NT_CLONES NT_VECTORIZE static void dynq_quantize(const float *restrict x, int64_t n, float scale, float zp,
                                                 uint8_t *restrict y)
{
    for (int64_t i = 0; i < n; i++) {
        float v = nearbyintf(x[i] / scale) + zp;
        v = v > 0.0f ? v : 0.0f; /* NaN too */
        v = v < 255.0f ? v : 255.0f;
        y[i] = (uint8_t)(int32_t)v;
    }
}

/* The range [min(0, min x), max(0, max x)] maps onto [0, 255]:
 * scale = (max - min) / 255, zp = saturate(rint(-min / scale)),
 * y = saturate(rint(x / scale) + zp), all in float32 as the spec's
 * reference computes them. */
static nt_status dynq_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = nt_ctx_out(ctx, 0), *ys = nt_ctx_out(ctx, 1), *yz = nt_ctx_out(ctx, 2);
    const float *xv = x->data;
    int64_t n = nt_tensor_numel(x);
    float mn = 0, mx = 0;
    dynq_range(xv, n, &mn, &mx);
    float scale = (mx - mn) / 255.0f;
    /* an all-zero input has scale 0: every value quantizes to zp 0 */
    float zp = scale > 0 ? (float)qt_sat(-mn / scale, 0, 0, 255) : 0.0f;
    if (y && scale > 0)
        dynq_quantize(xv, n, scale, zp, y->data);
    else if (y)
        memset(y->data, (int)zp, (size_t)n);
    if (ys)
        *(float *)ys->data = scale;
    if (yz)
        *(uint8_t *)yz->data = (uint8_t)zp;
    return NT_OK;
}

/* ---------------------------------------------------------------- QLinearMatMul */

/* Batch-broadcast matmul geometry (numpy rules, 1-D operands promoted). */
typedef struct qmm_geom {
    int64_t M, K, N;
    int nb;                          /* batch rank */
    int64_t bdims[NT_MAX_DIMS];      /* broadcast batch dims */
    int64_t astr[NT_MAX_DIMS], bstr[NT_MAX_DIMS]; /* batch strides in matrices (0 = broadcast) */
    int ndim;
    int64_t dims[NT_MAX_DIMS];       /* output shape */
} qmm_geom;

static nt_status qmm_shape(const nt_kernel_ctx *ctx, const nt_tensor *a, const nt_tensor *b, qmm_geom *g)
{
    int ra = a->ndim, rb = b->ndim;
    if (ra < 1 || rb < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "matmul operands must have rank >= 1");
    g->M = ra >= 2 ? a->dims[ra - 2] : 1;
    g->K = a->dims[ra - 1];
    int64_t kb = rb >= 2 ? b->dims[rb - 2] : b->dims[0];
    g->N = rb >= 2 ? b->dims[rb - 1] : 1;
    if (g->K != kb && g->K >= 0 && kb >= 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inner dimensions differ: %lld vs %lld", (long long)g->K,
                            (long long)kb);
    int na = ra > 2 ? ra - 2 : 0, nbb = rb > 2 ? rb - 2 : 0;
    nt_status s = nt_broadcast_shape(na, a->dims, nbb, b->dims, &g->nb, g->bdims);
    if (s != NT_OK)
        return nt_ctx_error(ctx, s, "batch dimensions do not broadcast");
    /* strides in whole matrices, right-aligned */
    int64_t sa = 1, sb = 1;
    for (int d = g->nb - 1; d >= 0; d--) {
        int ia = d - (g->nb - na), ib = d - (g->nb - nbb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        g->astr[d] = da == 1 ? 0 : sa;
        g->bstr[d] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    g->ndim = 0;
    for (int d = 0; d < g->nb; d++)
        g->dims[g->ndim++] = g->bdims[d];
    if (ra >= 2)
        g->dims[g->ndim++] = g->M;
    if (rb >= 2)
        g->dims[g->ndim++] = g->N;
    return NT_OK;
}

/* Inputs: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale,
 * y_zero_point.  y has y_zero_point's type and matmul's shape. */
static nt_status qmm_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = nt_ctx_in(ctx, 0), *b = nt_ctx_in(ctx, 3), *yzp = nt_ctx_in(ctx, 7);
    const nt_tensor *as = nt_ctx_in(ctx, 1), *bs = nt_ctx_in(ctx, 4), *ys = nt_ctx_in(ctx, 6);
    if (!a || !b || !as || !bs || !ys)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "a, b and the three scales are required");
    for (int i = 0; i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (!t)
            continue;
        bool ok = (i == 1 || i == 4 || i == 6) ? qt_scale_ok(t->dtype)
                                               : (t->dtype == NT_DTYPE_UINT8 || t->dtype == NT_DTYPE_INT8);
        if (!ok)
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input %d dtype %s not supported", i,
                                nt_dtype_name(t->dtype));
    }
    if (nt_ctx_in(ctx, 2) && nt_ctx_in(ctx, 2)->dtype != a->dtype)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "a_zero_point dtype differs from a's");
    if (nt_ctx_in(ctx, 5) && nt_ctx_in(ctx, 5)->dtype != b->dtype)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "b_zero_point dtype differs from b's");
    if (as->dtype != bs->dtype || as->dtype != ys->dtype)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "scales of different dtypes");
    nt_dtype yt = yzp ? yzp->dtype : a->dtype;
    if (a->ndim < 0 || b->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = yt;
        return NT_OK;
    }
    qmm_geom g;
    nt_status s = qmm_shape(ctx, a, b, &g);
    if (s != NT_OK)
        return s;
    if (qt_known(ctx)) {
        /* scales/zero points: one value, or per row of a (M) / per column of b (N) */
        const nt_tensor *az = nt_ctx_in(ctx, 2), *bz = nt_ctx_in(ctx, 5);
        int64_t na = nt_tensor_numel(as), nb = nt_tensor_numel(bs), ny = nt_tensor_numel(ys);
        bool ok = (na == 1 || na == g.M) && (nb == 1 || nb == g.N) && (ny == 1 || ny == g.M);
        ok = ok && (!az || nt_tensor_numel(az) == na) && (!bz || nt_tensor_numel(bz) == nb);
        ok = ok && (!yzp || nt_tensor_numel(yzp) == ny);
        if (!ok)
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "scale/zero-point granularity not supported");
    }
    return nt_ctx_set_output(ctx, 0, yt, g.ndim, g.dims);
}

/* y[m, n] = saturate(rint(acc[m, n] * (a_scale * b_scale / y_scale)) + y_zp)
 * with acc the exact int32 sum over k of (a - a_zp)(b - b_zp), computed by
 * one integer GEMM per batch entry (the bytes as they are with VNNI, else
 * both operands shifted to int16); the
 * multiplier is formed in the scales' precision, as the reference does. */
static nt_status qmm_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = ctx->in[0], *as = ctx->in[1], *az = nt_ctx_in(ctx, 2);
    const nt_tensor *b = ctx->in[3], *bs = ctx->in[4], *bz = nt_ctx_in(ctx, 5);
    const nt_tensor *ys = ctx->in[6], *yz = nt_ctx_in(ctx, 7);
    nt_tensor *y = ctx->out[0];
    qmm_geom g;
    nt_status s = qmm_shape(ctx, a, b, &g);
    if (s != NT_OK)
        return s;
    int64_t M = g.M, K = g.K, N = g.N;
    /* scratch: a16 (M, K), b16 (K, N), acc (M, N) */
    size_t na16 = (size_t)(M * K), nb16 = (size_t)(K * N), nacc = (size_t)(M * N);
    char *buf = nt_malloc((na16 + nb16) * sizeof(int16_t) + nacc * sizeof(int32_t) + 16);
    if (!buf)
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "out of memory");
    int32_t *acc = (int32_t *)(void *)buf;
    int16_t *a16 = (int16_t *)(void *)(buf + nacc * sizeof(int32_t));
    int16_t *b16 = a16 + na16;
    double lo, hi;
    qt_range(y->dtype, &lo, &hi);
    nt_dtype st = as->dtype;
    int64_t nas = nt_tensor_numel(as), nbs = nt_tensor_numel(bs), nys = nt_tensor_numel(ys);
    int64_t naz = az ? nt_tensor_numel(az) : 0, nbz = bz ? nt_tensor_numel(bz) : 0;
    bool a_signed = a->dtype == NT_DTYPE_INT8, b_signed = b->dtype == NT_DTYPE_INT8;
    size_t es = 1; /* uint8 / int8 elements */
    int64_t batches = 1;
    for (int d = 0; d < g.nb; d++)
        batches *= g.bdims[d];
    /* zero points per row of a and per column of b, for nt_igemm_q8 */
    int32_t *zp_a = nt_malloc((size_t)(M + N + 1) * sizeof *zp_a), *zp_b = zp_a ? zp_a + M : NULL;
    for (int64_t m = 0; zp_a && m < M; m++)
        zp_a[m] = az ? (int32_t)qt_get(az, naz == 1 ? 0 : m) : 0;
    for (int64_t n = 0; zp_b && n < N; n++)
        zp_b[n] = bz ? (int32_t)qt_get(bz, nbz <= 1 ? 0 : n) : 0;
    for (int64_t bi = 0; bi < batches; bi++) {
        /* matrix offsets of this batch entry in a and b */
        int64_t oa = 0, ob = 0, rem = bi;
        for (int d = g.nb - 1; d >= 0; d--) {
            int64_t c = rem % g.bdims[d];
            rem /= g.bdims[d];
            oa += c * g.astr[d];
            ob += c * g.bstr[d];
        }
        const char *pa = (const char *)a->data + (size_t)(oa * M * K) * es;
        const char *pb = (const char *)b->data + (size_t)(ob * K * N) * es;
        bool q8_done = false;
        if (nt_igemm_q8_ok() && zp_a && zp_b) { /* the bytes as they are (VNNI) */
            nt_igemm_q8_a qa = {(const uint8_t *)pa, K, a_signed, zp_a};
            nt_igemm_q8_b qb = {.p = (const uint8_t *)pb, .ld = N, .is_signed = b_signed, .zp = zp_b,
                                .zp_per_column = true};
            q8_done = nt_igemm_q8(ctx->exec, M, N, K, &qa, &qb, acc, N);
        }
        for (int64_t m = 0; m < M && !q8_done; m++) /* per-row zero points of a */
            nt_shift_u8_s8(pa + (size_t)(m * K) * es, a_signed,
                           az ? (int32_t)qt_get(az, naz == 1 ? 0 : m) : 0, a16 + m * K, K);
        if (!q8_done && nbz <= 1) {
            nt_shift_u8_s8(pb, b_signed, bz ? (int32_t)qt_get(bz, 0) : 0, b16, K * N);
        } else if (!q8_done) { /* per-column zero points of b */
            for (int64_t k = 0; k < K; k++)
                for (int64_t n = 0; n < N; n++) {
                    int32_t v = b_signed ? ((const int8_t *)pb)[k * N + n] : ((const uint8_t *)pb)[k * N + n];
                    b16[k * N + n] = (int16_t)(v - (int32_t)qt_get(bz, n));
                }
        }
        nt_igemm_b bm = {.p = b16, .ld = N};
        if (!q8_done)
            nt_igemm_s16(ctx->exec, M, N, K, a16, K, &bm, acc, N);
        for (int64_t m = 0; m < M; m++) {
            double yzp = yz ? qt_get(yz, nys == 1 ? 0 : m) : 0.0;
            float asv = (float)qt_get(as, nas == 1 ? 0 : m), ysv = (float)qt_get(ys, nys == 1 ? 0 : m);
            for (int64_t n = 0; n < N; n++) {
                float mult = qt_round_to(st, qt_round_to(st, asv * (float)qt_get(bs, nbs == 1 ? 0 : n)) / ysv);
                /* float32 product of the int32 sum, as ONNX Runtime requantizes */
                float v = (float)acc[m * N + n] * mult;
                qt_put_int(y, (bi * M + m) * N + n, isnan(v) ? lo : qt_sat(v, yzp, lo, hi));
            }
        }
    }
    free(zp_a);
    free(buf);
    return NT_OK;
}

/* QuantizeLinear: 10 per tensor; 13 axis; 19 float16/bfloat16 scales and
 * saturate (float8, declined); 21 block_size, output_dtype, 16-bit types;
 * 23 more (declined) types.  DequantizeLinear likewise, 23 output_dtype. */
const nt_op_def nt_ops_quant[] = {
    {"QuantizeLinear", "", 10, NULL, NULL, quantize_infer, quantize_compute},
    {"QuantizeLinear", "", 13, NULL, NULL, quantize_infer, quantize_compute},
    {"QuantizeLinear", "", 19, NULL, NULL, quantize_infer, quantize_compute},
    {"QuantizeLinear", "", 21, NULL, NULL, quantize_infer, quantize_compute},
    {"QuantizeLinear", "", 23, NULL, NULL, quantize_infer, quantize_compute},
    {"DequantizeLinear", "", 10, NULL, NULL, dequantize_infer, dequantize_compute},
    {"DequantizeLinear", "", 13, NULL, NULL, dequantize_infer, dequantize_compute},
    {"DequantizeLinear", "", 19, NULL, NULL, dequantize_infer, dequantize_compute},
    {"DequantizeLinear", "", 21, NULL, NULL, dequantize_infer, dequantize_compute},
    {"DequantizeLinear", "", 23, NULL, NULL, dequantize_infer, dequantize_compute},
    {"DynamicQuantizeLinear", "", 11, NULL, NULL, dynq_infer, dynq_compute},
    {"QLinearMatMul", "", 10, NULL, NULL, qmm_infer, qmm_compute},
    {"QLinearMatMul", "", 21, NULL, NULL, qmm_infer, qmm_compute},
};
const size_t nt_ops_quant_count = NT_ARRAY_LEN(nt_ops_quant);
