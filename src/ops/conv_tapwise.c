/*
 * conv_tapwise.c — a 2-D convolution as one GEMM per kernel tap over only
 * the outputs that tap reads the input for.
 *
 * Dilated convolutions on small maps (DeepLabV3's ASPP: 3x3 at dilation 12
 * on 16x16) have taps that are live but read the input for few outputs:
 * at dilation 12 an off-centre tap reaches the map for 4 of 16 rows, so
 * 3/4 of the im2col GEMM multiplies padding.  Here each tap (kh, kw) adds
 * W[:, :, kh, kw] (Mg x Cg) times the input positions it reads, for the
 * rectangle of outputs where it reads inside the map (along each axis the
 * outputs a tap reads in form one run), so the multiply-adds are the useful
 * ones only.  The B operand of each tap is the input seen through a 1x1
 * window with the tap's offset (negative pads), packed by nt_sgemm.
 *
 * Numerics: each output is bias, then per tap in kernel order the rounded
 * tap GEMM result added (a different order from the im2col GEMM's single
 * chain, deterministic for any thread count).  Padding terms are skipped,
 * so a NaN or infinite weight does not spread to outputs whose tap reads
 * padding (it does on the im2col path).
 */
#include "ops/conv_tapwise.h"

#include <stdlib.h>
#include <string.h>

/* Outputs [lo, hi) along axis i for which tap k reads inside the input. */
static void tap_outputs(const nt_window *w, int i, int64_t k, int64_t *lo, int64_t *hi)
{
    const int64_t S = w->stride[i], c = k * w->dil[i] - w->pad_begin[i];
    int64_t a = c < 0 ? (-c + S - 1) / S : 0;
    int64_t b = w->in[i] - 1 - c < 0 ? 0 : (w->in[i] - 1 - c) / S + 1;
    if (b > w->out[i])
        b = w->out[i];
    *lo = a;
    *hi = b > a ? b : a;
}

bool nt_conv_tapwise_pays(const nt_window *w)
{
    if (w->nsp != 2)
        return false;
    const int64_t K = nt_window_kernel_size(w), OUT = nt_window_out_size(w);
    if (K < 2 || OUT == 0)
        return false;
    int64_t useful = 0;
    for (int64_t kh = 0; kh < w->kernel[0]; kh++)
        for (int64_t kw = 0; kw < w->kernel[1]; kw++) {
            int64_t a0, b0, a1, b1;
            tap_outputs(w, 0, kh, &a0, &b0);
            tap_outputs(w, 1, kw, &a1, &b1);
            useful += (b0 - a0) * (b1 - a1);
        }
    /* per tap GEMMs are smaller and re-read the output: worth it when at
     * most half of the im2col products are useful */
    return 2 * useful <= K * OUT;
}

void nt_conv_tapwise_free(nt_conv_tapwise *t)
{
    if (!t)
        return;
    for (int64_t i = 0; i < t->n; i++)
        nt_sgemm_pa_free(&t->pk[i]);
    free(t->pk);
    free(t->wtap);
    t->pk = NULL;
    t->wtap = NULL;
    t->n = 0;
    t->src = NULL;
}

/* Packs W[g][:, :, tap] (Mg x Cg) per group and tap, unless kept. */
static nt_status pack_taps(nt_conv_tapwise *t, nt_sgemm_isa isa, bool w_const, const float *wt, int64_t G,
                           int64_t Mg, int64_t Cg, int64_t K)
{
    if (t->pk && t->src == wt && t->is_const && w_const && t->isa == (int)isa && t->n == G * K && t->Mg == Mg &&
        t->Cg == Cg)
        return NT_OK;
    nt_conv_tapwise_free(t);
    t->pk = nt_calloc((size_t)(G * K), sizeof *t->pk);
    t->wtap = nt_malloc((size_t)(Mg * Cg) * sizeof *t->wtap);
    if (!t->pk || !t->wtap) {
        nt_conv_tapwise_free(t);
        return nt_error(NT_ERR_NOMEM, "no memory for per-tap weights");
    }
    t->n = G * K;
    for (int64_t g = 0; g < G; g++)
        for (int64_t k = 0; k < K; k++) {
            const float *wg = wt + g * Mg * Cg * K;
            for (int64_t m = 0; m < Mg; m++)
                for (int64_t c = 0; c < Cg; c++)
                    t->wtap[m * Cg + c] = wg[(m * Cg + c) * K + k];
            nt_status s = nt_sgemm_pack_a(&t->pk[g * K + k], isa, false, Mg, Cg, t->wtap, Cg);
            if (s != NT_OK) {
                nt_conv_tapwise_free(t);
                return s;
            }
        }
    t->src = wt;
    t->is_const = w_const;
    t->isa = (int)isa;
    t->Mg = Mg;
    t->Cg = Cg;
    return NT_OK;
}

nt_status nt_conv_tapwise_f32(nt_exec *exec, nt_conv_tapwise *t, nt_scratch *tmp, bool w_const, const nt_window *w,
                              int64_t N, int64_t C, int64_t M, int64_t G, const float *x, const float *wt,
                              const float *bias, float *y)
{
    const nt_sgemm_isa isa = nt_sgemm_isa_get();
    const int64_t Cg = C / G, Mg = M / G, K = nt_window_kernel_size(w), KW = w->kernel[1];
    const int64_t OW = w->out[1], OUT = nt_window_out_size(w), IN = nt_window_in_size(w);
    nt_status s = pack_taps(t, isa, w_const, wt, G, Mg, Cg, K);
    if (s != NT_OK)
        return s;
    size_t nbytes;
    float *ct;
    if (!nt_mul_size((size_t)(Mg * OUT), sizeof(float), &nbytes) || !(ct = nt_scratch_get(tmp, nbytes)))
        return nt_error(NT_ERR_NOMEM, "no memory for the per-tap products");
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            const float *xg = x + (n * C + g * Cg) * IN;
            float *yg = y + (n * M + g * Mg) * OUT;
            for (int64_t m = 0; m < Mg; m++) {
                float b = bias ? bias[g * Mg + m] : 0.0f;
                for (int64_t o = 0; o < OUT; o++)
                    yg[m * OUT + o] = b;
            }
            for (int64_t k = 0; k < K; k++) {
                int64_t h0, h1, w0, w1;
                tap_outputs(w, 0, k / KW, &h0, &h1);
                tap_outputs(w, 1, k % KW, &w0, &w1);
                const int64_t rh = h1 - h0, rw = w1 - w0;
                if (rh <= 0 || rw <= 0)
                    continue;
                /* the tap's outputs as a 1x1 window: output (r, c) reads
                 * input ((h0 + r) * SH - PT + kh * DH, ...) */
                nt_window sub = {.nsp = 2, .in = {w->in[0], w->in[1]}, .out = {rh, rw}, .kernel = {1, 1},
                                 .stride = {w->stride[0], w->stride[1]}, .dil = {1, 1}};
                sub.pad_begin[0] = w->pad_begin[0] - (k / KW) * w->dil[0] - h0 * w->stride[0];
                sub.pad_begin[1] = w->pad_begin[1] - (k % KW) * w->dil[1] - w0 * w->stride[1];
                nt_sgemm_b b = {.x = xg, .w = &sub};
                if ((s = nt_sgemm(exec, &t->pk[g * K + k], rh * rw, &b, 1.0f, 0.0f, NULL, ct, rh * rw)) != NT_OK)
                    return s;
                for (int64_t m = 0; m < Mg; m++)
                    for (int64_t r = 0; r < rh; r++) {
                        float *restrict yr = yg + m * OUT + (h0 + r) * OW + w0;
                        const float *restrict cr = ct + m * rh * rw + r * rw;
                        for (int64_t c = 0; c < rw; c++)
                            yr[c] += cr[c];
                    }
            }
        }
    return NT_OK;
}
