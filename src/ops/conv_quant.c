/*
 * conv_quant.c — quantized convolutions: ConvInteger (uint8/int8 → int32) and
 * QLinearConv (uint8/int8 in and out, float scales, per-tensor or per-output-
 * channel weight quantization).
 *
 * Both lower to an exact integer computation: operands are shifted by their
 * zero points into int16 (so padding, which must read as the zero point,
 * becomes a plain 0), and multiplied with nt_igemm_s16 (igemm.h) into int32
 * accumulators, the im2col view of 1-D and 2-D windows read straight from
 * the image by the GEMM's packing (3-D ones go through a column buffer);
 * depthwise 2-D convolutions run direct (conv_quant_dw.c).
 * With AVX-512 VNNI the bytes go to nt_igemm_q8 as they are (zero points
 * folded in exactly by row and column sums).  QLinearConv then requantizes each accumulator:
 *   y = saturate(round_half_even(float(acc + B[m]) * (x_scale * w_scale[m] / y_scale)) + y_zero_point)
 * in float32, as ONNX Runtime computes it.
 * Shapes: X is (N,C,in...), W is (M,C/group,k...), Y is (N,M,out...).
 */
#include "ops/conv_geom.h"
#include "ops/igemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

static bool is_q8(nt_dtype t)
{
    return t == NT_DTYPE_UINT8 || t == NT_DTYPE_INT8;
}

/* Reads a zero point: absent → 0; else a scalar or a 1-D tensor of count
 * values (count 1 means per-tensor) with dtype want.  zp receives `count`
 * values (a per-tensor value is repeated). */
static nt_status read_zero_points(const nt_kernel_ctx *ctx, int idx, nt_dtype want, int64_t count, int32_t *zp,
                                  const char *what)
{
    const nt_tensor *t = nt_ctx_in(ctx, idx);
    if (!t) {
        for (int64_t i = 0; i < count; i++)
            zp[i] = 0;
        return NT_OK;
    }
    if (t->dtype != want)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s is %s but its data is %s", what, nt_dtype_name(t->dtype),
                            nt_dtype_name(want));
    int64_t n = nt_tensor_numel(t);
    if (t->ndim > 1 || (n != 1 && n != count))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s must be a scalar or hold %lld values, got %lld", what,
                            (long long)count, (long long)n);
    for (int64_t i = 0; i < count; i++) {
        int64_t k = n == 1 ? 0 : i;
        zp[i] = want == NT_DTYPE_INT8 ? ((const int8_t *)t->data)[k] : ((const uint8_t *)t->data)[k];
    }
    return NT_OK;
}

/* Reads a float scale: a scalar or 1-D tensor of count values (or 1). */
static nt_status read_scales(const nt_kernel_ctx *ctx, int idx, int64_t count, float *sc, const char *what)
{
    const nt_tensor *t = nt_ctx_in(ctx, idx);
    if (!t || t->dtype != NT_DTYPE_FLOAT)
        return nt_ctx_error(ctx, t ? NT_ERR_UNSUPPORTED : NT_ERR_SHAPE, "%s must be a float32 tensor", what);
    int64_t n = nt_tensor_numel(t);
    if (t->ndim > 1 || (n != 1 && n != count))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s must be a scalar or hold %lld values, got %lld", what,
                            (long long)count, (long long)n);
    for (int64_t i = 0; i < count; i++)
        sc[i] = ((const float *)t->data)[n == 1 ? 0 : i];
    return NT_OK;
}

typedef struct im2col_s16_job {
    const int16_t *x;
    const nt_window *w;
    int16_t *col;
} im2col_s16_job;

static void im2col_s16_range(void *arg, int64_t b, int64_t e)
{
    im2col_s16_job *j = arg;
    nt_im2col_s16(j->x, j->w, j->col, b, e);
}

/* Whether input i of the node is a constant of the session: an initializer
 * that is not also a graph input (which a caller could feed). */
static bool input_is_constant(const nt_kernel_ctx *ctx, int i)
{
    if (!ctx->graph || !ctx->node || i >= ctx->node->n_in)
        return false;
    int v = ctx->node->in[i];
    if (v < 0 || v >= ctx->graph->n_values)
        return false;
    const nt_value *val = &ctx->graph->values[v];
    return val->kind == NT_VALUE_INITIALIZER && !val->is_graph_input;
}

void nt_conv_quant_release(nt_conv_state *st)
{
    for (int64_t g = 0; g < st->n_q8pk; g++)
        nt_igemm_q8_packed_free(st->q8pk[g]);
    free(st->q8pk);
    free(st->q8pk_zp);
    st->q8pk = NULL;
    st->q8pk_zp = NULL;
    st->n_q8pk = 0;
    st->q8pk_src = NULL;
}

/* The weights of input wi packed per group for the VNNI GEMM: packed once
 * and kept in the state while W is a constant of the session at the same
 * address with the same zero points (ONNX Runtime prepacks them likewise);
 * else packed for this run.  NULL when memory runs out. */
static nt_igemm_q8_packed *const *q8_weights(const nt_kernel_ctx *ctx, nt_conv_state *st, int wi, const int32_t *wzp,
                                             int64_t G, int64_t Mg, int64_t CK, bool w_signed)
{
    const nt_tensor *W = ctx->in[wi];
    const int64_t M = G * Mg;
    if (st->q8pk && st->q8pk_src == W->data && st->n_q8pk == G && st->q8pk_signed == w_signed &&
        memcmp(st->q8pk_zp, wzp, (size_t)M * sizeof *wzp) == 0)
        return st->q8pk;
    nt_conv_quant_release(st);
    st->q8pk = nt_calloc((size_t)G, sizeof *st->q8pk);
    st->q8pk_zp = nt_malloc((size_t)(M > 0 ? M : 1) * sizeof *wzp);
    if (!st->q8pk || !st->q8pk_zp) {
        nt_conv_quant_release(st);
        return NULL;
    }
    st->n_q8pk = G;
    for (int64_t g = 0; g < G; g++) {
        nt_igemm_q8_a a = {(const uint8_t *)W->data + g * Mg * CK, CK, w_signed, wzp + g * Mg};
        if (!(st->q8pk[g] = nt_igemm_q8_pack(Mg, CK, &a))) {
            nt_conv_quant_release(st);
            return NULL;
        }
    }
    memcpy(st->q8pk_zp, wzp, (size_t)M * sizeof *wzp);
    st->q8pk_signed = w_signed;
    /* a weight that may change between runs is packed again next time */
    st->q8pk_src = input_is_constant(ctx, wi) ? W->data : NULL;
    return st->q8pk;
}

/* acc (N,M,OUT) = conv(X - x_zp, W - w_zp[m]) exactly, in int32.  X at
 * input xi, W at wi; xzp scalar, wzp (M). */
static nt_status conv_int_accumulate(nt_kernel_ctx *ctx, nt_conv_state *st, const nt_conv_shape *cs, int xi,
                                     int wi, int32_t xzp, const int32_t *wzp, int32_t *acc)
{
    const nt_tensor *X = ctx->in[xi], *W = ctx->in[wi];
    const int64_t G = st->group, N = cs->N, C = cs->C, M = cs->M, Cg = C / G, Mg = M / G;
    const nt_window *w = &cs->w;
    const int64_t K = nt_window_kernel_size(w), OUT = nt_window_out_size(w), IN = nt_window_in_size(w);
    const int64_t CK = Cg * K;
    if (N == 0 || M == 0 || OUT == 0)
        return NT_OK;
    /* 1-D and 2-D windows are read through the GEMM's packing; 3-D ones
     * are lowered into a column buffer first. */
    const bool window_view = w->nsp <= 2;
    bool pointwise = true;
    for (int i = 0; i < w->nsp; i++)
        pointwise = pointwise && w->kernel[i] == 1 && w->stride[i] == 1 && w->pad_begin[i] == 0 &&
                    w->pad_end[i] == 0;
    bool w_signed = W->dtype == NT_DTYPE_INT8, x_signed = X->dtype == NT_DTYPE_INT8;
    if (Cg == 1 && Mg == 1 && nt_dwconv_q8(ctx->exec, X->data, x_signed, xzp, W->data, w_signed, wzp, N, C, w, acc))
        return NT_OK; /* depthwise: direct, no GEMM */
    nt_igemm_q8_packed *const *pk = NULL;
    if (nt_igemm_q8_ok() && (window_view || pointwise) && CK > 0 &&
        (pk = q8_weights(ctx, st, wi, wzp, G, Mg, CK, w_signed))) { /* the bytes as they are (VNNI) */
        bool ok = true;
        for (int64_t n = 0; n < N && ok; n++)
            for (int64_t g = 0; g < G && ok; g++) {
                const uint8_t *xg = (const uint8_t *)X->data + (n * C + g * Cg) * IN;
                nt_igemm_q8_b b = {.p = xg, .ld = OUT, .is_signed = x_signed, .zp = &xzp};
                if (!pointwise) {
                    b.x = xg;
                    b.w = w;
                }
                ok = nt_igemm_q8_run(ctx->exec, OUT, pk[g], &b, acc + (n * M + g * Mg) * OUT, OUT);
            }
        if (ok)
            return NT_OK;
    }
    size_t wbytes, xbytes, cbytes;
    if (!nt_mul_size((size_t)(M * CK), sizeof(int16_t), &wbytes) ||
        !nt_mul_size((size_t)(C * IN), sizeof(int16_t), &xbytes) ||
        !nt_mul_size((size_t)(window_view ? 1 : CK), (size_t)OUT * sizeof(int16_t), &cbytes))
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "quantized conv buffers overflow");
    int16_t *wq = nt_scratch_get(&st->wbuf, wbytes);
    int16_t *xq = nt_scratch_get(&st->xbuf, xbytes);
    int16_t *col = nt_scratch_get(&st->col, cbytes);
    if (!wq || !xq || !col)
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for quantized conv buffers");
    for (int64_t m = 0; m < M; m++)
        nt_shift_u8_s8((const uint8_t *)W->data + m * CK, w_signed, wzp[m], wq + m * CK, CK);
    for (int64_t n = 0; n < N; n++) {
        nt_shift_u8_s8((const uint8_t *)X->data + n * C * IN, x_signed, xzp, xq, C * IN);
        for (int64_t g = 0; g < G; g++) {
            const int16_t *xg = xq + g * Cg * IN;
            nt_igemm_b b = {.p = xg, .ld = OUT};
            if (!pointwise && window_view) { /* im2col fused into the GEMM's packing */
                b.x = xg;
                b.w = w;
            } else if (!pointwise) {
                im2col_s16_job j = {xg, w, col};
                nt_parallel_for(ctx->exec, CK, 16, im2col_s16_range, &j);
                b.p = col;
            }
            nt_igemm_s16(ctx->exec, Mg, OUT, CK, wq + g * Mg * CK, CK, &b, acc + (n * M + g * Mg) * OUT, OUT);
        }
    }
    return NT_OK;
}

/* ------------------------------------------------------------ ConvInteger */

nt_status nt_convinteger_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *X = nt_ctx_in(ctx, 0), *W = nt_ctx_in(ctx, 1);
    if (!X || !W)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs x and w are required");
    if ((!is_q8(X->dtype) || !is_q8(W->dtype)) &&
        !(ctx->static_mode && (X->dtype == NT_DTYPE_UNDEFINED || W->dtype == NT_DTYPE_UNDEFINED)))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "x %s and w %s: only uint8/int8 are supported",
                            nt_dtype_name(X->dtype), nt_dtype_name(W->dtype));
    nt_conv_shape cs;
    bool known;
    nt_status s = nt_conv_resolve(ctx, ctx->state, 0, 1, -1, &cs, &known);
    if (s != NT_OK)
        return s;
    if (!known) {
        nt_ctx_set_output(ctx, 0, NT_DTYPE_INT32, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_INT32, cs.ndim, cs.ydims);
}

nt_status nt_convinteger_compute(nt_kernel_ctx *ctx)
{
    nt_conv_shape cs;
    bool known;
    nt_status s = nt_conv_resolve(ctx, ctx->state, 0, 1, -1, &cs, &known);
    if (s != NT_OK)
        return s;
    const nt_tensor *X = ctx->in[0], *W = ctx->in[1];
    int32_t xzp;
    int32_t *wzp = nt_malloc((size_t)(cs.M > 0 ? cs.M : 1) * sizeof *wzp);
    if (!wzp)
        return NT_ERR_NOMEM;
    if ((s = read_zero_points(ctx, 2, X->dtype, 1, &xzp, "x_zero_point")) == NT_OK &&
        (s = read_zero_points(ctx, 3, W->dtype, cs.M, wzp, "w_zero_point")) == NT_OK)
        s = conv_int_accumulate(ctx, ctx->state, &cs, 0, 1, xzp, wzp, ctx->out[0]->data);
    free(wzp);
    return s;
}

/* ------------------------------------------------------------ QLinearConv */

/* Inputs: 0 x, 1 x_scale, 2 x_zero_point, 3 w, 4 w_scale, 5 w_zero_point,
 * 6 y_scale, 7 y_zero_point, 8 B (int32, optional).  Y's dtype is
 * y_zero_point's (x's when absent). */
static nt_dtype qlc_out_dtype(const nt_kernel_ctx *ctx)
{
    const nt_tensor *yzp = nt_ctx_in(ctx, 7);
    return yzp ? yzp->dtype : ctx->in[0]->dtype;
}

nt_status nt_qlinearconv_infer(nt_kernel_ctx *ctx)
{
    if (ctx->n_in < 7 || !ctx->in[0] || !ctx->in[3])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "QLinearConv needs at least 7 inputs");
    const nt_tensor *X = ctx->in[0], *W = ctx->in[3], *B = nt_ctx_in(ctx, 8);
    nt_dtype yt = qlc_out_dtype(ctx);
    if (!(ctx->static_mode && (X->dtype == NT_DTYPE_UNDEFINED || W->dtype == NT_DTYPE_UNDEFINED ||
                               yt == NT_DTYPE_UNDEFINED))) {
        if (!is_q8(X->dtype) || !is_q8(W->dtype) || !is_q8(yt))
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "x %s, w %s, y %s: only uint8/int8 are supported",
                                nt_dtype_name(X->dtype), nt_dtype_name(W->dtype), nt_dtype_name(yt));
        if (B && B->dtype != NT_DTYPE_INT32)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "bias must be int32, got %s", nt_dtype_name(B->dtype));
    }
    nt_conv_shape cs;
    bool known;
    nt_status s = nt_conv_resolve(ctx, ctx->state, 0, 3, 8, &cs, &known);
    if (s != NT_OK)
        return s;
    if (!known) {
        nt_ctx_set_output(ctx, 0, yt, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, yt, cs.ndim, cs.ydims);
}

/* y[i] = saturate(round_half_even(float(a[i] + b) * mult) + yzp), in the
 * float32 arithmetic ONNX Runtime's requantization uses (MLAS converts the
 * int32 sum, which wraps, to float32, multiplies by the float32 multiplier,
 * clamps to the output range shifted by the zero point, rounds half to even
 * and adds the zero point): a double product would round differently in
 * rare elements.  Compiled per CPU so the loop vectorizes. */
#define NT_DEFINE_REQUANT(NAME, T, LO, HI)                                                          \
    NT_CLONES NT_VECTORIZE static void NAME(const int32_t *restrict a, int64_t n, int32_t b, float mult, \
                                            int32_t yzp, T *restrict y)                              \
    {                                                                                                \
        const float lo = (float)((LO) - yzp), hi = (float)((HI) - yzp);                              \
        for (int64_t i = 0; i < n; i++) {                                                            \
            float v = (float)(int32_t)((uint32_t)a[i] + (uint32_t)b) * mult;                         \
            v = v < lo ? lo : v > hi ? hi : v;                                                       \
            y[i] = (T)((int32_t)rintf(v) + yzp);                                                     \
        }                                                                                            \
    }
NT_DEFINE_REQUANT(requant_u8, uint8_t, 0, 255)
NT_DEFINE_REQUANT(requant_s8, int8_t, -128, 127)

#if defined(__x86_64__) && defined(__GNUC__)
/* The same requantization on 16 lanes (AVX-512F), the float32 operations
 * of NT_DEFINE_REQUANT one for one (convert, multiply, clamp, round half to
 * even in the default rounding mode, add the zero point), narrowed with
 * saturation (a no-op after the clamp).  Returns how many leading elements
 * it did; the caller does the rest with the C loop. */
__attribute__((target("avx512f"))) static int64_t requant_avx512(const int32_t *a, int64_t n, int32_t b, float mult,
                                                                 int32_t yzp, bool is_signed, uint8_t *y)
{
    const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
    const __m512i vb = _mm512_set1_epi32(b), vz = _mm512_set1_epi32(yzp);
    const __m512 vm = _mm512_set1_ps(mult), vlo = _mm512_set1_ps((float)(lo - yzp)),
                 vhi = _mm512_set1_ps((float)(hi - yzp));
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_loadu_si512(a + i), vb));
        v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(v, vm), vlo), vhi);
        __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(v), vz);
        _mm_storeu_si128((__m128i *)(void *)(y + i), is_signed ? _mm512_cvtsepi32_epi8(r) : _mm512_cvtusepi32_epi8(r));
    }
    return i;
}
#endif

/* y (n) = requantized a (n) + b, with the fastest loop the CPU has. */
static void requant_row(const int32_t *a, int64_t n, int32_t b, float mult, int32_t yzp, bool is_signed, void *y)
{
    int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (nt_igemm_isa_get() >= NT_IGEMM_AVX512BW)
        done = requant_avx512(a, n, b, mult, yzp, is_signed, y);
#endif
    if (is_signed)
        requant_s8(a + done, n - done, b, mult, yzp, (int8_t *)y + done);
    else
        requant_u8(a + done, n - done, b, mult, yzp, (uint8_t *)y + done);
}

typedef struct requant_job {
    const int32_t *acc;      /* (N*M, OUT) */
    const int32_t *bias;     /* M or NULL */
    const float *wsc;        /* M */
    float xsc, ysc;
    int32_t yzp;
    int64_t M, OUT;
    bool is_signed;
    void *y;
} requant_job;

/* Output rows [q0, q1) (q = n * M + m) requantized. */
static void requant_range(void *arg, int64_t q0, int64_t q1)
{
    const requant_job *j = arg;
    const int32_t lo = j->is_signed ? -128 : 0, hi = j->is_signed ? 127 : 255;
    for (int64_t q = q0; q < q1; q++) {
        const int64_t m = q % j->M;
        /* The multiplier in float32, (x_scale * w_scale) / y_scale, as ONNX Runtime forms it. */
        const float mult = j->xsc * j->wsc[m] / j->ysc;
        const int32_t b = j->bias ? j->bias[m] : 0;
        const int32_t *a = j->acc + q * j->OUT;
        uint8_t *y = (uint8_t *)j->y + q * j->OUT;
        if (isfinite(mult)) {
            requant_row(a, j->OUT, b, mult, j->yzp, j->is_signed, y);
            continue;
        }
        for (int64_t i = 0; i < j->OUT; i++) {
            /* a zero output scale makes the multiplier Inf/NaN: saturate;
             * NaN (0 * Inf) clamps to the low end, as MLAS's max/min do */
            float v = (float)(int32_t)((uint32_t)a[i] + (uint32_t)b) * mult;
            int32_t r = isnan(v) || v < lo - j->yzp ? lo : v > hi - j->yzp ? hi : (int32_t)rintf(v) + j->yzp;
            y[i] = (uint8_t)(int8_t)r;
        }
    }
}

nt_status nt_qlinearconv_compute(nt_kernel_ctx *ctx)
{
    nt_conv_state *st = ctx->state;
    nt_conv_shape cs;
    bool known;
    nt_status s = nt_conv_resolve(ctx, st, 0, 3, 8, &cs, &known);
    if (s != NT_OK)
        return s;
    const nt_tensor *X = ctx->in[0], *W = ctx->in[3], *B = nt_ctx_in(ctx, 8);
    nt_tensor *Y = ctx->out[0];
    const int64_t M = cs.M, OUT = nt_window_out_size(&cs.w), NM = cs.N * M;
    size_t abytes;
    int32_t *acc = NULL, *wzp = nt_malloc((size_t)(M > 0 ? M : 1) * sizeof *wzp);
    float *wsc = nt_malloc((size_t)(M > 0 ? M : 1) * sizeof *wsc);
    float xsc, ysc;
    int32_t xzp, yzp;
    if (!wzp || !wsc) {
        s = NT_ERR_NOMEM;
        goto done;
    }
    if ((s = read_scales(ctx, 1, 1, &xsc, "x_scale")) != NT_OK ||
        (s = read_zero_points(ctx, 2, X->dtype, 1, &xzp, "x_zero_point")) != NT_OK ||
        (s = read_scales(ctx, 4, M, wsc, "w_scale")) != NT_OK ||
        (s = read_zero_points(ctx, 5, W->dtype, M, wzp, "w_zero_point")) != NT_OK ||
        (s = read_scales(ctx, 6, 1, &ysc, "y_scale")) != NT_OK ||
        (s = read_zero_points(ctx, 7, Y->dtype, 1, &yzp, "y_zero_point")) != NT_OK)
        goto done;
    if (!nt_mul_size((size_t)(NM > 0 ? NM : 1), (size_t)OUT * sizeof(int32_t), &abytes) ||
        !(acc = nt_scratch_get(&st->acc, abytes))) {
        s = nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for the int32 accumulators");
        goto done;
    }
    if ((s = conv_int_accumulate(ctx, st, &cs, 0, 3, xzp, wzp, acc)) != NT_OK)
        goto done;
    requant_job j = {acc, B ? B->data : NULL, wsc, xsc, ysc, yzp, M, OUT, Y->dtype == NT_DTYPE_INT8, Y->data};
    nt_parallel_for(ctx->exec, NM, NT_MAX(1, 16384 / NT_MAX(OUT, 1)), requant_range, &j);
done:
    free(wzp);
    free(wsc);
    return s;
}
