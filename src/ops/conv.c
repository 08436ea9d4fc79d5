/*
 * conv.c — operator family "conv": Conv and ConvTranspose (float32, float64),
 * plus the table entries of ConvInteger and QLinearConv (conv_quant.c).
 *
 * Layout is NCHW throughout: X is (N, C, in...), W is (M, C/group, k...).
 * Float32 Conv picks one of these paths per node and run:
 *   - depthwise (one input channel per group, 1-D or 2-D): a direct loop per
 *     channel, parallel over channels; 3x3 windows of stride 1 or 2 go to
 *     dwconv.c, any other window to dwconv_any.c (rows vectorized, kernel
 *     set chosen at run time);
 *   - with our own kernels (sgemm.h: AVX-512 or AVX2+FMA, chosen at run
 *     time) and a 1-D or 2-D window:
 *       3x3 stride 1, one group, >= 16 channels each way, when its cost
 *       model (weights streamed included) says it pays: Winograd
 *       F(4x4,3x3) or F(2x2,3x3) (winograd.c), filters transformed once;
 *       pointwise (1x1, stride 1, no pads): one packed GEMM per image and
 *       group straight on X;
 *       anything else: one packed GEMM whose B panels are packed straight
 *       from the image (im2col fused into the packing, no column buffer);
 *     the weights are packed once and kept while W is a constant of the
 *     session (an initializer that is not a graph input);
 *       dilated windows on small maps where at most half of the products
 *       read the input: one GEMM per tap over the outputs it reads
 *       (conv_tapwise.c);
 *   before either, taps that only ever read padding (dilated 3x3 on small
 *     maps) are cut from the window and the weights (conv_taps.c);
 *   - otherwise (no AVX2, 3-D windows, float64): im2col into a scratch
 *     buffer kept in the node state, then one GEMM per image and group
 *     (OpenBLAS; its own threads); pointwise without the im2col.
 * ConvTranspose is the adjoint: col = W_g^T · X_g, then col2im adds each
 * column back into the output.
 */
#include "ops/conv_geom.h"
#include "ops/conv_tapwise.h"
#include "ops/dwconv.h"
#include "ops/f16_bridge.h"
#include "ops/sgemm.h"
#include "ops/winograd.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ state */

nt_status nt_conv_prepare(const nt_node *node, int opset, void **state)
{
    *state = NULL;
    nt_conv_state *st = nt_calloc(1, sizeof *st);
    if (!st)
        return NT_ERR_NOMEM;
    nt_status s = nt_window_parse(node, false, false, &st->wa);
    if (s != NT_OK)
        goto fail;
    st->group = nt_node_attr_int(node, "group", 1);
    if (st->group < 1) {
        s = nt_error(NT_ERR_PARSE, "node '%s' (%s): group must be >= 1, got %lld", node->name, node->op_type,
                     (long long)st->group);
        goto fail;
    }
    const int64_t *v;
    int n = nt_node_attr_ints(node, "output_padding", &v);
    if (n > NT_MAX_SPATIAL) {
        s = nt_error(NT_ERR_UNSUPPORTED, "node '%s' (%s): output_padding has %d values", node->name,
                     node->op_type, n);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (v[i] < 0) {
            s = nt_error(NT_ERR_PARSE, "node '%s' (%s): output_padding[%d] = %lld is negative", node->name,
                         node->op_type, i, (long long)v[i]);
            goto fail;
        }
        st->out_pad[i] = v[i];
    }
    st->n_out_pad = n > 0 ? n : 0;
    n = nt_node_attr_ints(node, "output_shape", &v);
    if (n > NT_MAX_DIMS) {
        s = nt_error(NT_ERR_UNSUPPORTED, "node '%s' (%s): output_shape has %d values", node->name, node->op_type,
                     n);
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if (v[i] < 0) {
            s = nt_error(NT_ERR_PARSE, "node '%s' (%s): output_shape[%d] = %lld is negative", node->name,
                         node->op_type, i, (long long)v[i]);
            goto fail;
        }
        st->out_shape[i] = v[i];
    }
    st->n_out_shape = n > 0 ? n : 0;
    *state = st;
    return NT_OK;
fail:
    free(st);
    return s;
}

void nt_conv_release(void *state)
{
    nt_conv_state *st = state;
    if (!st)
        return;
    nt_scratch_free(&st->col);
    nt_scratch_free(&st->wbuf);
    nt_scratch_free(&st->xbuf);
    nt_scratch_free(&st->acc);
    nt_scratch_free(&st->slice);
    for (int64_t g = 0; g < st->n_wpk; g++)
        nt_sgemm_pa_free(&st->wpk[g]);
    free(st->wpk);
    nt_wino_free(st->wino);
    nt_conv_tapwise_free(st->tapwise);
    free(st->tapwise);
    nt_conv_quant_release(st);
    free(st);
}

/* ------------------------------------------------------------ shapes */

nt_status nt_conv_resolve(const nt_kernel_ctx *ctx, const nt_conv_state *st, int xi, int wi, int bi,
                          nt_conv_shape *cs, bool *known)
{
    const nt_tensor *X = nt_ctx_in(ctx, xi), *W = nt_ctx_in(ctx, wi), *B = bi >= 0 ? nt_ctx_in(ctx, bi) : NULL;
    memset(cs, 0, sizeof *cs);
    *known = false;
    if (!X || !W)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs X and W are required");
    if (X->ndim < 0 || W->ndim < 0)
        return NT_OK;
    if (X->ndim < 3)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X must have rank >= 3 (N, C, spatial...), got rank %d", X->ndim);
    if (W->ndim != X->ndim)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "W has rank %d but X has rank %d", W->ndim, X->ndim);
    int nsp = X->ndim - 2;
    cs->ndim = X->ndim;
    cs->N = X->dims[0];
    cs->C = X->dims[1];
    cs->M = W->dims[0];
    int64_t kernel[NT_MAX_SPATIAL];
    for (int i = 0; i < nsp; i++) {
        kernel[i] = W->dims[i + 2];
        if (st->wa.n_kernel == nsp && kernel[i] >= 0 && kernel[i] != st->wa.kernel[i])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "kernel_shape[%d] = %lld but W has %lld", i,
                                (long long)st->wa.kernel[i], (long long)kernel[i]);
        if (kernel[i] < 0 && st->wa.n_kernel == nsp)
            kernel[i] = st->wa.kernel[i];
    }
    if (cs->C >= 0 && W->dims[1] >= 0 && cs->C != W->dims[1] * st->group)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X has %lld channels but W expects %lld x group %lld",
                            (long long)cs->C, (long long)W->dims[1], (long long)st->group);
    if (cs->M >= 0 && cs->M % st->group != 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%lld output channels do not divide into %lld groups",
                            (long long)cs->M, (long long)st->group);
    if (B && B->ndim >= 0) {
        if (B->ndim != 1 || (B->dims[0] >= 0 && cs->M >= 0 && B->dims[0] != cs->M))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "bias must be 1-D of size M = %lld", (long long)cs->M);
    }
    nt_status s = nt_window_resolve(ctx, &st->wa, nsp, X->dims + 2, kernel, &cs->w);
    if (s != NT_OK)
        return s;
    cs->ydims[0] = cs->N;
    cs->ydims[1] = cs->M;
    for (int i = 0; i < nsp; i++)
        cs->ydims[i + 2] = cs->w.out[i];
    *known = true;
    return NT_OK;
}

/* Sets output 0 to dtype with the conv output shape (or unknown rank). */
static nt_status conv_set_output(nt_kernel_ctx *ctx, int xi, int wi, int bi, nt_dtype dtype)
{
    nt_conv_shape cs;
    bool known;
    nt_status s = nt_conv_resolve(ctx, ctx->state, xi, wi, bi, &cs, &known);
    if (s != NT_OK)
        return s;
    if (!known) {
        nt_ctx_set_output(ctx, 0, dtype, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, dtype, cs.ndim, cs.ydims);
}

/* Float types Conv and ConvTranspose compute; UNDEFINED passes in static mode. */
static nt_status check_float_inputs(nt_kernel_ctx *ctx, int n, nt_dtype *dt)
{
    const nt_tensor *X = nt_ctx_in(ctx, 0);
    if (!X)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input X is required");
    *dt = X->dtype;
    if (*dt == NT_DTYPE_UNDEFINED && ctx->static_mode)
        return NT_OK;
    if (*dt != NT_DTYPE_FLOAT && *dt != NT_DTYPE_DOUBLE)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported (float32, float64)",
                            nt_dtype_name(*dt));
    for (int i = 1; i < n; i++) {
        const nt_tensor *t = nt_ctx_in(ctx, i);
        if (t && t->dtype != *dt && !(ctx->static_mode && t->dtype == NT_DTYPE_UNDEFINED))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is %s but X is %s", i, nt_dtype_name(t->dtype),
                                nt_dtype_name(*dt));
    }
    return NT_OK;
}

static nt_status conv_infer(nt_kernel_ctx *ctx)
{
    if (nt_f16_bridge_applies(ctx))
        return nt_f16_bridge(ctx, conv_infer, NULL);
    nt_dtype dt;
    nt_status s = check_float_inputs(ctx, 3, &dt);
    if (s != NT_OK)
        return s;
    return conv_set_output(ctx, 0, 1, 2, dt);
}

/* ------------------------------------------------------------ float kernels */

/* 1-D windows become 2-D ones with a height of 1, so the 2-D direct path
 * covers both. */
static nt_window promote_2d(const nt_window *w)
{
    if (w->nsp != 1)
        return *w;
    nt_window p = {0};
    p.nsp = 2;
    p.in[0] = p.out[0] = p.kernel[0] = p.stride[0] = p.dil[0] = 1;
    p.in[1] = w->in[0];
    p.out[1] = w->out[0];
    p.kernel[1] = w->kernel[0];
    p.stride[1] = w->stride[0];
    p.dil[1] = w->dil[0];
    p.pad_begin[1] = w->pad_begin[0];
    p.pad_end[1] = w->pad_end[0];
    return p;
}

static bool is_pointwise(const nt_window *w)
{
    for (int i = 0; i < w->nsp; i++)
        if (w->kernel[i] != 1 || w->stride[i] != 1 || w->pad_begin[i] != 0 || w->pad_end[i] != 0)
            return false;
    return true;
}

typedef struct im2col_job {
    const void *x;
    const nt_window *w;
    void *col;
} im2col_job;

static void im2col_f32_range(void *arg, int64_t b, int64_t e)
{
    im2col_job *j = arg;
    nt_im2col_f32(j->x, j->w, j->col, b, e);
}

static void im2col_f64_range(void *arg, int64_t b, int64_t e)
{
    im2col_job *j = arg;
    nt_im2col_f64(j->x, j->w, j->col, b, e);
}

/* Depthwise: channel q of the N*M output planes reads input plane
 * (n, q_m / (M/group)) with its own (KH,KW) filter.  x plane is (IH,IW),
 * y plane is (OH,OW).  Work is split into one part per thread, each with
 * its own slice of scratch (the padded copy of dwconv_any.c). */
typedef struct dw_job {
    const float *x, *wt, *bias;
    float *y;
    nt_window w;            /* 2-D */
    int64_t C, M, Mg, NM, parts;
    float *scratch;
    size_t scratch_floats;  /* per part */
    const nt_conv_epi *epi; /* fused epilogue, run on each finished plane */
} dw_job;

static void dw_range(void *arg, int64_t b, int64_t e)
{
    const dw_job *j = arg;
    const nt_window *w = &j->w;
    const int64_t IN = w->in[0] * w->in[1], OUT = w->out[0] * w->out[1], KK = w->kernel[0] * w->kernel[1];
    const bool dw3 = nt_dwconv3x3_applies(w);
    for (int64_t part = b; part < e; part++) {
        float *scratch = j->scratch ? j->scratch + part * j->scratch_floats : NULL;
        const float *copied = NULL;
        for (int64_t q = part * j->NM / j->parts; q < (part + 1) * j->NM / j->parts; q++) {
            int64_t n = q / j->M, m = q % j->M, c = m / j->Mg;
            const float *x = j->x + (n * j->C + c) * IN;
            const float *k = j->wt + m * KK;
            float bv = j->bias ? j->bias[m] : 0.0f;
            if (dw3) {
                nt_dwconv3x3_plane(x, k, bv, j->y + q * OUT, w);
            } else {
                nt_dwconv_plane(x, k, bv, j->y + q * OUT, w, scratch, copied);
                copied = x;
            }
            if (j->epi)
                j->epi->apply(j->epi, j->y, q * OUT, OUT);
        }
    }
}

/* Runs the depthwise planes of X into Y (float32, 1-D or 2-D windows). */
static nt_status conv_depthwise_f32(nt_kernel_ctx *ctx, nt_conv_state *st, const nt_conv_shape *cs,
                                    const float *x, const float *wt, const float *bias, float *y)
{
    dw_job j = {x, wt, bias, y, promote_2d(&cs->w), cs->C, cs->M, cs->M / st->group, cs->N * cs->M, 1, NULL, 0,
                st->epi};
    j.parts = nt_exec_threads(ctx->exec);
    if (j.parts > j.NM)
        j.parts = j.NM;
    if (!nt_dwconv3x3_applies(&j.w) && (j.scratch_floats = nt_dwconv_scratch_floats(&j.w)) > 0) {
        /* rounded to whole cache lines so parts do not share one */
        j.scratch_floats = (j.scratch_floats + 15) / 16 * 16;
        size_t nbytes;
        if (!nt_mul_size(j.scratch_floats * sizeof(float), (size_t)j.parts, &nbytes) ||
            !(j.scratch = nt_scratch_get(&st->xbuf, nbytes)))
            return nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for the depthwise padded planes");
    }
    nt_parallel_for(ctx->exec, j.parts, 1, dw_range, &j);
    st->epi_done = st->epi != NULL;
    return NT_OK;
}

/* Fills each of the n rows of length len with bias[r] (0 without bias). */
#define NT_DEFINE_FILL_ROWS(NAME, T)                                        \
    static void NAME(T *y, const T *bias, int64_t n, int64_t len)           \
    {                                                                       \
        for (int64_t r = 0; r < n; r++) {                                   \
            T v = bias ? bias[r] : (T)0;                                    \
            T *row = y + r * len;                                           \
            for (int64_t i = 0; i < len; i++)                               \
                row[i] = v;                                                 \
        }                                                                   \
    }
NT_DEFINE_FILL_ROWS(fill_rows_f32, float)
NT_DEFINE_FILL_ROWS(fill_rows_f64, double)

/* Sizes passed to BLAS must fit an int. */
static nt_status check_blas_size(const nt_kernel_ctx *ctx, int64_t a, int64_t b, int64_t c)
{
    if (a > INT32_MAX || b > INT32_MAX || c > INT32_MAX)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "matrix dimension beyond 2^31 (%lld, %lld, %lld)",
                            (long long)a, (long long)b, (long long)c);
    return NT_OK;
}

/* The forward convolution, generated for float and double (the depthwise
 * direct path is float only).  X (N,C,in...), W (M,Cg,k...), Y (N,M,out...). */
#define NT_DEFINE_CONV(NAME, T, GEMM, FILL, IM2COL_RANGE, HAS_DW)                                             \
    static nt_status NAME(nt_kernel_ctx *ctx, nt_conv_state *st, const nt_conv_shape *cs, const T *x,         \
                          const T *wt, const T *bias, T *y)                                                   \
    {                                                                                                         \
        const int64_t G = st->group, N = cs->N, C = cs->C, M = cs->M, Cg = C / G, Mg = M / G;                 \
        const nt_window *w = &cs->w;                                                                          \
        const int64_t K = nt_window_kernel_size(w), OUT = nt_window_out_size(w), IN = nt_window_in_size(w);   \
        if (N == 0 || M == 0 || OUT == 0)                                                                     \
            return NT_OK;                                                                                     \
        nt_status s = check_blas_size(ctx, Mg, OUT, Cg * K);                                                  \
        if (s != NT_OK)                                                                                       \
            return s;                                                                                         \
        /* a long window over one input channel with few outputs per plane (an                             \
         * STFT as a strided Conv1d: 4 outputs of a 256-tap window) is a GEMM                              \
         * over the filters: the depthwise kernels vectorize along output rows */                          \
        bool stft_like = G == 1 && OUT < 16 && K >= 128;                                                      \
        if (HAS_DW && Cg == 1 && !stft_like && w->nsp <= 2) {                                                 \
            nt_window w2_ = promote_2d(w);                                                                    \
            if (nt_dwconv3x3_applies(&w2_) || nt_dwconv_applies(&w2_))                                        \
                return conv_depthwise_f32(ctx, st, cs, (const float *)x, (const float *)wt,                   \
                                          (const float *)bias, (float *)y);                                   \
        }                                                                                                     \
        bool pointwise = is_pointwise(w);                                                                     \
        T *col = NULL;                                                                                        \
        if (!pointwise) {                                                                                     \
            size_t nbytes;                                                                                    \
            if (!nt_mul_size((size_t)(Cg * K), (size_t)OUT * sizeof(T), &nbytes) ||                           \
                !(col = nt_scratch_get(&st->col, nbytes)))                                                    \
                return nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for a %lld x %lld im2col buffer",           \
                                    (long long)(Cg * K), (long long)OUT);                                     \
        }                                                                                                     \
        for (int64_t n = 0; n < N; n++)                                                                       \
            for (int64_t g = 0; g < G; g++) {                                                                 \
                const T *xg = x + (n * C + g * Cg) * IN;                                                      \
                const T *wg = wt + g * Mg * Cg * K;                                                           \
                T *yg = y + (n * M + g * Mg) * OUT;                                                           \
                if (bias)                                                                                     \
                    FILL(yg, bias + g * Mg, Mg, OUT);                                                         \
                if (pointwise) {                                                                              \
                    GEMM(false, false, Mg, OUT, Cg, 1, wg, Cg, xg, OUT, bias ? 1 : 0, yg, OUT);               \
                } else {                                                                                      \
                    im2col_job j = {xg, w, col};                                                              \
                    nt_parallel_for(ctx->exec, Cg * K, 16, IM2COL_RANGE, &j);                                 \
                    GEMM(false, false, Mg, OUT, Cg * K, 1, wg, Cg * K, col, OUT, bias ? 1 : 0, yg, OUT);      \
                }                                                                                             \
            }                                                                                                 \
        return NT_OK;                                                                                         \
    }

NT_DEFINE_CONV(conv_f32, float, nt_gemm_f32, fill_rows_f32, im2col_f32_range, 1)
NT_DEFINE_CONV(conv_f64, double, nt_gemm_f64, fill_rows_f64, im2col_f64_range, 0)

/* Whether input i of the node is a constant of the session (also through
 * an If/Loop body's capture of the model's weights). */
static bool input_is_constant(const nt_kernel_ctx *ctx, int i) { return nt_ctx_input_constant(ctx, i); }

/* Packs each group's W_g (Mg, Cg*K) for the sgemm kernels, unless the
 * packing kept in the state is still valid. */
static nt_status pack_weights(nt_kernel_ctx *ctx, nt_conv_state *st, nt_sgemm_isa isa, int64_t G, int64_t Mg,
                              int64_t CgK, const float *wt)
{
    if (st->wpk && st->n_wpk == G && st->wpk_const && st->wpk_src == wt && st->wpk_isa == (int)isa)
        return NT_OK;
    if (st->n_wpk != G) {
        for (int64_t g = 0; g < st->n_wpk; g++)
            nt_sgemm_pa_free(&st->wpk[g]);
        free(st->wpk);
        st->n_wpk = 0;
        st->wpk = nt_calloc((size_t)G, sizeof *st->wpk);
        if (!st->wpk)
            return nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for packed weights");
        st->n_wpk = G;
    }
    st->wpk_src = NULL;
    for (int64_t g = 0; g < G; g++) {
        nt_status s = nt_sgemm_pack_a(&st->wpk[g], isa, false, Mg, CgK, wt + g * Mg * CgK, CgK);
        if (s != NT_OK)
            return s;
    }
    st->wpk_src = wt;
    st->wpk_isa = (int)isa;
    st->wpk_const = input_is_constant(ctx, 1);
    return NT_OK;
}

/* The fused epilogue on a finished block of one image group's GEMM output:
 * rows [0, M) of the group are output channels g*Mg.., columns j are
 * positions; flat index of (m, j) is (nm0 + m) * OUT + j. */
typedef struct epi_block {
    const nt_conv_epi *epi;
    float *y;
    int64_t nm0, OUT;
} epi_block;

static void epi_on_block(void *arg, float *C, int64_t ldc, int64_t M, int64_t j0, int64_t j1)
{
    const epi_block *b = arg;
    (void)C;
    (void)ldc;
    for (int64_t m = 0; m < M; m++)
        b->epi->apply(b->epi, b->y, (b->nm0 + m) * b->OUT + j0, j1 - j0);
}

/* Float32 convolution on our own kernels when the CPU has them: 2-D (or
 * 1-D) windows, not depthwise.  3x3 stride-1 windows go to Winograd when it
 * pays; the rest to one packed GEMM per image and group whose B operand is
 * packed straight from the image (no im2col buffer).  *done false means the
 * caller takes the generic path. */
static nt_status conv_f32_fast(nt_kernel_ctx *ctx, nt_conv_state *st, const nt_conv_shape *cs, const float *x,
                               const float *wt, const float *bias, float *y, bool *done)
{
    *done = false;
    const nt_sgemm_isa isa = nt_sgemm_isa_get();
    const int64_t G = st->group, N = cs->N, C = cs->C, M = cs->M, Cg = C / G, Mg = M / G;
    if (isa == NT_SGEMM_NONE || cs->w.nsp > 2 || Cg == 1 || N == 0 || M == 0)
        return NT_OK;
    const nt_window w2 = promote_2d(&cs->w);
    const int64_t K = nt_window_kernel_size(&w2), OUT = nt_window_out_size(&w2), IN = nt_window_in_size(&w2);
    if (OUT == 0)
        return NT_OK;
    if (nt_exec_winograd(ctx->exec) && nt_wino_applies(&w2, G, Cg, Mg)) {
        nt_status s = nt_wino_conv(ctx->exec, &st->wino, input_is_constant(ctx, 1), &w2, N, C, M, x, wt, bias, y);
        if (s != NT_OK)
            return s;
        *done = true;
        return NT_OK;
    }
    if (nt_conv_tapwise_pays(&w2)) {
        if (!st->tapwise && !(st->tapwise = nt_calloc(1, sizeof *st->tapwise)))
            return nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for per-tap weights");
        nt_status s = nt_conv_tapwise_f32(ctx->exec, st->tapwise, &st->col, input_is_constant(ctx, 1), &w2, N, C, M,
                                          G, x, wt, bias, y);
        if (s == NT_OK)
            *done = true;
        return s;
    }
    nt_status s = pack_weights(ctx, st, isa, G, Mg, Cg * K, wt);
    if (s != NT_OK)
        return s;
    const bool pointwise = is_pointwise(&w2);
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            const float *xg = x + (n * C + g * Cg) * IN;
            float *yg = y + (n * M + g * Mg) * OUT;
            nt_sgemm_b b = {0};
            if (pointwise) {
                b.p = xg;
                b.ld = OUT;
            } else {
                b.x = xg;
                b.w = &w2;
            }
            epi_block eb = {st->epi, y, n * M + g * Mg, OUT};
            nt_sgemm_epi se = {epi_on_block, &eb};
            if ((s = nt_sgemm_ex(ctx->exec, &st->wpk[g], OUT, &b, 1.0f, 0.0f, bias ? bias + g * Mg : NULL, yg, OUT,
                                 st->epi ? &se : NULL)) != NT_OK)
                return s;
        }
    st->epi_done = st->epi != NULL;
    *done = true;
    return NT_OK;
}

/* Narrows a grouped or dense convolution to its live taps (conv_taps.c)
 * when some taps only read padding: *cs and *wt then describe the narrowed
 * convolution.  The cut weights are kept while W stays the same constant
 * and the box the same; cutting anew invalidates the packed caches that
 * key on their address. */
static nt_status narrow_to_live_taps(nt_kernel_ctx *ctx, nt_conv_state *st, nt_conv_shape *cs, const float **wt)
{
    nt_window live;
    int64_t k0[NT_MAX_SPATIAL], key[2 * NT_MAX_SPATIAL] = {0};
    if (!nt_window_live_taps(&cs->w, &live, k0))
        return NT_OK;
    for (int i = 0; i < live.nsp; i++) {
        key[2 * i] = k0[i];
        key[2 * i + 1] = live.kernel[i];
    }
    const int64_t MC = cs->M * (cs->C / st->group), KL = nt_window_kernel_size(&live);
    size_t nbytes;
    if (!nt_mul_size((size_t)(MC * KL), sizeof(float), &nbytes))
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "weights too large");
    const void *old = st->slice.p;
    float *wr = nt_scratch_get(&st->slice, nbytes);
    if (!wr)
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for the narrowed weights");
    if (!(wr == old && st->slice_src == *wt && input_is_constant(ctx, 1) &&
          memcmp(st->slice_key, key, sizeof key) == 0)) {
        nt_kernel_slice_f32(*wt, MC, &cs->w, &live, k0, wr);
        st->slice_src = *wt;
        memcpy(st->slice_key, key, sizeof key);
        st->wpk_src = NULL;
        nt_wino_free(st->wino);
        st->wino = NULL;
        if (st->tapwise)
            st->tapwise->src = NULL;
    }
    cs->w = live;
    *wt = wr;
    return NT_OK;
}

nt_status nt_conv_f32(nt_kernel_ctx *ctx, nt_conv_state *st, const nt_conv_shape *cs_in, const float *x,
                      const float *wt, const float *bias, float *y)
{
    nt_conv_shape narrowed = *cs_in;
    const nt_conv_shape *cs = cs_in;
    if (cs->C / st->group > 1 && nt_window_out_size(&cs->w) > 0) {
        nt_status s = narrow_to_live_taps(ctx, st, &narrowed, &wt);
        if (s != NT_OK)
            return s;
        cs = &narrowed;
    }
    bool done;
    nt_status s = conv_f32_fast(ctx, st, cs, x, wt, bias, y, &done);
    if (s != NT_OK || done)
        return s;
    return conv_f32(ctx, st, cs, x, wt, bias, y);
}

static nt_status conv_compute(nt_kernel_ctx *ctx)
{
    if (nt_f16_bridge_applies(ctx))
        return nt_f16_bridge(ctx, conv_infer, conv_compute);
    nt_conv_shape cs;
    bool known;
    nt_status s = nt_conv_resolve(ctx, ctx->state, 0, 1, 2, &cs, &known);
    if (s != NT_OK)
        return s;
    if (!known)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input ranks unknown at run time");
    const nt_tensor *X = ctx->in[0], *W = ctx->in[1], *B = nt_ctx_in(ctx, 2);
    nt_tensor *Y = ctx->out[0];
    if (X->dtype == NT_DTYPE_FLOAT)
        return nt_conv_f32(ctx, ctx->state, &cs, X->data, W->data, B ? B->data : NULL, Y->data);
    return conv_f64(ctx, ctx->state, &cs, X->data, W->data, B ? B->data : NULL, Y->data);
}

/* ------------------------------------------------------------ ConvTranspose */

/* Resolves ConvTranspose: X (N,C,in...), W (C,M/group,k...), Y (N,M,out...).
 * fw is the forward window that maps Y (as its input) to X (as its output):
 * col2im over fw scatters W^T·X into Y. */
static nt_status convt_resolve(const nt_kernel_ctx *ctx, const nt_conv_state *st, nt_conv_shape *cs,
                               bool *known)
{
    const nt_tensor *X = nt_ctx_in(ctx, 0), *W = nt_ctx_in(ctx, 1), *B = nt_ctx_in(ctx, 2);
    const nt_window_attrs *a = &st->wa;
    memset(cs, 0, sizeof *cs);
    *known = false;
    if (!X || !W)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs X and W are required");
    if (X->ndim < 0 || W->ndim < 0)
        return NT_OK;
    if (X->ndim < 3 || W->ndim != X->ndim)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X (rank %d) and W (rank %d) must share a rank >= 3", X->ndim,
                            W->ndim);
    int nsp = X->ndim - 2;
    if ((a->n_kernel && a->n_kernel != nsp) || (a->n_strides && a->n_strides != nsp) ||
        (a->n_dils && a->n_dils != nsp) || (a->n_pads && a->n_pads != 2 * nsp) ||
        (st->n_out_pad && st->n_out_pad != nsp) ||
        (st->n_out_shape && st->n_out_shape != nsp && st->n_out_shape != nsp + 2))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "attribute lengths do not match %d spatial dimensions", nsp);
    cs->ndim = X->ndim;
    cs->N = X->dims[0];
    cs->C = X->dims[1];
    cs->M = W->dims[1] < 0 ? -1 : W->dims[1] * st->group;
    if (cs->C >= 0 && W->dims[0] >= 0 && cs->C != W->dims[0])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X has %lld channels but W has %lld", (long long)cs->C,
                            (long long)W->dims[0]);
    if (cs->C >= 0 && cs->C % st->group != 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%lld input channels do not divide into %lld groups",
                            (long long)cs->C, (long long)st->group);
    if (B && B->ndim >= 0 && (B->ndim != 1 || (B->dims[0] >= 0 && cs->M >= 0 && B->dims[0] != cs->M)))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "bias must be 1-D of size M = %lld", (long long)cs->M);
    nt_window *w = &cs->w;
    w->nsp = nsp;
    for (int i = 0; i < nsp; i++) {
        int64_t k = W->dims[i + 2], x = X->dims[i + 2];
        if (a->n_kernel && k >= 0 && k != a->kernel[i])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "kernel_shape[%d] = %lld but W has %lld", i,
                                (long long)a->kernel[i], (long long)k);
        if (k < 0 && a->n_kernel)
            k = a->kernel[i];
        int64_t s = a->n_strides ? a->strides[i] : 1, d = a->n_dils ? a->dils[i] : 1;
        int64_t op = st->n_out_pad ? st->out_pad[i] : 0;
        w->kernel[i] = k;
        w->stride[i] = s;
        w->dil[i] = d;
        w->out[i] = x;
        if (k < 0 || x < 0) {
            w->in[i] = -1;
            continue;
        }
        int64_t full = s * (x - 1) + op + (k - 1) * d + 1, out, pb, pe;
        if (st->n_out_shape || a->auto_pad == NT_AUTO_PAD_SAME_UPPER || a->auto_pad == NT_AUTO_PAD_SAME_LOWER) {
            out = st->n_out_shape ? st->out_shape[st->n_out_shape - nsp + i] : x * s;
            int64_t total = full - out;
            /* Floor halves so a negative total (output_shape larger than the
             * full result) lands at the end as extra output. */
            if (a->auto_pad == NT_AUTO_PAD_SAME_UPPER) {
                pb = nt_floordiv(total, 2);
                pe = total - pb;
            } else {
                pe = nt_floordiv(total, 2);
                pb = total - pe;
            }
        } else if (a->auto_pad == NT_AUTO_PAD_VALID) {
            pb = pe = 0;
            out = full;
        } else {
            pb = a->n_pads ? a->pads[i] : 0;
            pe = a->n_pads ? a->pads[i + nsp] : 0;
            out = full - pb - pe;
        }
        if (out < 0 || (out == 0 && x > 0))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "output size %lld on spatial axis %d", (long long)out, i);
        w->in[i] = out;
        w->pad_begin[i] = pb;
        w->pad_end[i] = pe;
    }
    cs->ydims[0] = cs->N;
    cs->ydims[1] = cs->M;
    for (int i = 0; i < nsp; i++)
        cs->ydims[i + 2] = w->in[i];
    *known = true;
    return NT_OK;
}

static nt_status convt_infer(nt_kernel_ctx *ctx)
{
    if (nt_f16_bridge_applies(ctx))
        return nt_f16_bridge(ctx, convt_infer, NULL);
    nt_dtype dt;
    nt_status s = check_float_inputs(ctx, 3, &dt);
    if (s != NT_OK)
        return s;
    nt_conv_shape cs;
    bool known;
    if ((s = convt_resolve(ctx, ctx->state, &cs, &known)) != NT_OK)
        return s;
    if (!known) {
        nt_ctx_set_output(ctx, 0, dt, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, dt, cs.ndim, cs.ydims);
}

typedef struct col2im_job {
    const void *col;
    const nt_window *w;
    void *y;
} col2im_job;

static void col2im_f32_range(void *arg, int64_t b, int64_t e)
{
    col2im_job *j = arg;
    nt_col2im_f32(j->col, j->w, j->y, b, e);
}

static void col2im_f64_range(void *arg, int64_t b, int64_t e)
{
    col2im_job *j = arg;
    nt_col2im_f64(j->col, j->w, j->y, b, e);
}

/* X (N,C,in...) with W (C,Mg,k...): per image and group, col (Mg*K, IN) =
 * W_g^T (Mg*K, Cg) · X_g (Cg, IN), then col2im into Y_g (Mg, out...). */
#define NT_DEFINE_CONVT(NAME, T, GEMM, FILL, COL2IM_RANGE)                                                    \
    static nt_status NAME(nt_kernel_ctx *ctx, nt_conv_state *st, const nt_conv_shape *cs, const T *x,         \
                          const T *wt, const T *bias, T *y)                                                   \
    {                                                                                                         \
        const int64_t G = st->group, N = cs->N, C = cs->C, M = cs->M, Cg = C / G, Mg = M / G;                 \
        const nt_window *w = &cs->w;                                                                          \
        const int64_t K = nt_window_kernel_size(w), XIN = nt_window_out_size(w);                              \
        const int64_t YOUT = nt_window_in_size(w);                                                            \
        if (N == 0 || M == 0 || YOUT == 0)                                                                    \
            return NT_OK;                                                                                     \
        nt_status s = check_blas_size(ctx, Mg * K, XIN, Cg);                                                  \
        if (s != NT_OK)                                                                                       \
            return s;                                                                                         \
        size_t nbytes;                                                                                        \
        T *col = NULL;                                                                                        \
        if (!nt_mul_size((size_t)(Mg * K), (size_t)XIN * sizeof(T), &nbytes) ||                               \
            !(col = nt_scratch_get(&st->col, nbytes)))                                                        \
            return nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for a %lld x %lld col2im buffer",               \
                                (long long)(Mg * K), (long long)XIN);                                         \
        for (int64_t n = 0; n < N; n++)                                                                       \
            for (int64_t g = 0; g < G; g++) {                                                                 \
                const T *xg = x + (n * C + g * Cg) * XIN;                                                     \
                const T *wg = wt + g * Cg * Mg * K;                                                           \
                T *yg = y + (n * M + g * Mg) * YOUT;                                                          \
                FILL(yg, bias ? bias + g * Mg : NULL, Mg, YOUT);                                              \
                GEMM(true, false, Mg * K, XIN, Cg, 1, wg, Mg * K, xg, XIN, 0, col, XIN);                      \
                col2im_job j = {col, w, yg};                                                                  \
                nt_parallel_for(ctx->exec, Mg, 1, COL2IM_RANGE, &j);                                          \
            }                                                                                                 \
        return NT_OK;                                                                                         \
    }

NT_DEFINE_CONVT(convt_f32, float, nt_gemm_f32, fill_rows_f32, col2im_f32_range)
NT_DEFINE_CONVT(convt_f64, double, nt_gemm_f64, fill_rows_f64, col2im_f64_range)

static nt_status convt_compute(nt_kernel_ctx *ctx)
{
    if (nt_f16_bridge_applies(ctx))
        return nt_f16_bridge(ctx, convt_infer, convt_compute);
    nt_conv_shape cs;
    bool known;
    nt_status s = convt_resolve(ctx, ctx->state, &cs, &known);
    if (s != NT_OK)
        return s;
    if (!known)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input ranks unknown at run time");
    const nt_tensor *X = ctx->in[0], *W = ctx->in[1], *B = nt_ctx_in(ctx, 2);
    nt_tensor *Y = ctx->out[0];
    if (X->dtype == NT_DTYPE_FLOAT)
        return convt_f32(ctx, ctx->state, &cs, X->data, W->data, B ? B->data : NULL, Y->data);
    return convt_f64(ctx, ctx->state, &cs, X->data, W->data, B ? B->data : NULL, Y->data);
}

/* ------------------------------------------------------------ table */

const nt_op_def nt_ops_conv[] = {
    {"Conv", "", 1, nt_conv_prepare, nt_conv_release, conv_infer, conv_compute},
    {"ConvTranspose", "", 1, nt_conv_prepare, nt_conv_release, convt_infer, convt_compute},
    {"ConvInteger", "", 10, nt_conv_prepare, nt_conv_release, nt_convinteger_infer, nt_convinteger_compute},
    {"QLinearConv", "", 10, nt_conv_prepare, nt_conv_release, nt_qlinearconv_infer, nt_qlinearconv_compute},
};
const size_t nt_ops_conv_count = NT_ARRAY_LEN(nt_ops_conv);
