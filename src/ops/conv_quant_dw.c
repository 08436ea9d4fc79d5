/*
 * conv_quant_dw.c — the depthwise quantized convolution (group == C == M,
 * one input channel per output channel) of ConvInteger and QLinearConv,
 * direct: each output plane accumulates its k x k taps in int32, a whole
 * output row at a time, instead of going through the integer GEMM, whose
 * packing costs more than the nine multiply-adds per output a depthwise
 * 3x3 needs (an M = 1 GEMM per channel).  Each input row is shifted by
 * the zero point into int32 once and split into stride phases, so every
 * tap is a contiguous vector multiply-add over an output row (padding
 * columns are zeros in that row, padding rows a zero row: the zero point
 * they stand for adds nothing).
 *
 * Exact like every path of the quantized convolutions: (x - x_zp) and
 * (w - w_zp) lie in [-255, 255], the int32 sums of at most k*k such
 * products cannot overflow (fewer than 2^15 taps, checked below), and
 * integer sums do not depend on their order.
 */
#include "ops/conv_geom.h"
#include "ops/igemm.h"

#include <stdlib.h>
#include <string.h>

typedef struct dw_job {
    const uint8_t *x;        /* (N*C, IH, IW) */
    bool x_signed;
    int32_t xzp;
    const uint8_t *w;        /* (C, KH, KW) */
    bool w_signed;
    const int32_t *wzp;      /* per channel */
    int64_t C;
    const nt_window *win;    /* 2-D */
    int32_t *acc;            /* (N*C, OH, OW) */
    bool failed;             /* a thread found no memory */
} dw_job;

/* acc[o] += wv * xb[o] for o in [0, n): one tap over one output row. */
NT_CLONES NT_VECTORIZE static void tap_row(int32_t *restrict acc, const int32_t *restrict xb, int64_t n, int32_t wv)
{
    for (int64_t o = 0; o < n; o++)
        acc[o] += wv * xb[o];
}

/* The nine taps of a 3x3 window at once: acc[o] = sum_t w[t] * s[t][o]. */
NT_CLONES NT_VECTORIZE static void taps9_row(int32_t *restrict acc, const int32_t *const *s, const int32_t *w,
                                             int64_t n)
{
    const int32_t *restrict s0 = s[0], *restrict s1 = s[1], *restrict s2 = s[2], *restrict s3 = s[3];
    const int32_t *restrict s4 = s[4], *restrict s5 = s[5], *restrict s6 = s[6], *restrict s7 = s[7];
    const int32_t *restrict s8 = s[8];
    const int32_t w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7],
                  w8 = w[8];
    for (int64_t o = 0; o < n; o++)
        acc[o] = w0 * s0[o] + w1 * s1[o] + w2 * s2[o] + w3 * s3[o] + w4 * s4[o] + w5 * s5[o] + w6 * s6[o] +
                 w7 * s7[o] + w8 * s8[o];
}

/* Input row x (IW elements) minus the zero point, placed pad columns to the
 * right in a zero-filled row of WP columns (the padding then adds 0 like
 * the zero point it stands for) and split into SW phases, so that every tap
 * reads a contiguous run: xb[p * PW + i] = padded[p + SW * i]. */
NT_CLONES NT_VECTORIZE static void split_row(const uint8_t *restrict x, bool x_signed, int32_t xzp, int64_t IW,
                                             int64_t pad, int64_t WP, int64_t SW, int64_t PW,
                                             int32_t *restrict xb)
{
    int64_t n = IW < WP - pad ? IW : WP - pad; /* columns no output reads are left out */
    if (n < 0)
        n = 0;
    if (SW == 1) {
        int32_t *restrict d = xb + pad;
        memset(xb, 0, (size_t)pad * sizeof *xb);
        memset(d + n, 0, (size_t)(PW - pad - n) * sizeof *xb);
        if (x_signed)
            for (int64_t i = 0; i < n; i++)
                d[i] = (int32_t)(int8_t)x[i] - xzp;
        else
            for (int64_t i = 0; i < n; i++)
                d[i] = (int32_t)x[i] - xzp;
        return;
    }
    memset(xb, 0, (size_t)(SW * PW) * sizeof *xb);
    /* phase p holds padded columns p, p + SW, ...: input columns p - pad + SW * i */
    for (int64_t p = 0; p < SW; p++) {
        int64_t i0 = p >= pad ? 0 : (pad - p + SW - 1) / SW; /* first i with a real column */
        int64_t c0 = p + SW * i0 - pad;
        int32_t *restrict d = xb + p * PW;
        for (int64_t i = i0, c = c0; c < n; i++, c += SW)
            d[i] = (x_signed ? (int32_t)(int8_t)x[c] : (int32_t)x[c]) - xzp;
    }
}

static void dw_planes(void *arg, int64_t b, int64_t e)
{
    dw_job *j = arg;
    const nt_window *w = j->win;
    const int64_t IH = w->in[0], IW = w->in[1], OH = w->out[0], OW = w->out[1];
    const int64_t KH = w->kernel[0], KW = w->kernel[1], SH = w->stride[0], SW = w->stride[1];
    const int64_t DH = w->dil[0], DW = w->dil[1], PT = w->pad_begin[0], PL = w->pad_begin[1];
    /* padded row width: the last column any output reads, plus one */
    const int64_t WP = (OW - 1) * SW + (KW - 1) * DW + 1, PW = (WP + SW - 1) / SW, RW = SW * PW;
    /* the plane's rows, split (IH rows), then one zero row for padding rows */
    int32_t *rows = nt_malloc((size_t)((IH + 1) * RW) * sizeof *rows);
    const int32_t **src = nt_malloc((size_t)(KH * KW) * sizeof *src);
    int32_t *wv = nt_malloc((size_t)(KH * KW) * sizeof *wv);
    if (!rows || !src || !wv) {
        __atomic_store_n(&j->failed, true, __ATOMIC_RELAXED);
        goto done;
    }
    int32_t *zero = rows + IH * RW;
    memset(zero, 0, (size_t)RW * sizeof *zero);
    for (int64_t pl = b; pl < e; pl++) {
        const int64_t c = pl % j->C;
        const uint8_t *xp = j->x + pl * IH * IW;
        int32_t *ap = j->acc + pl * OH * OW;
        for (int64_t ih = 0; ih < IH; ih++)
            split_row(xp + ih * IW, j->x_signed, j->xzp, IW, PL, WP, SW, PW, rows + ih * RW);
        for (int64_t t = 0; t < KH * KW; t++)
            wv[t] = (j->w_signed ? (int32_t)(int8_t)j->w[c * KH * KW + t] : (int32_t)j->w[c * KH * KW + t]) - j->wzp[c];
        for (int64_t oh = 0; oh < OH; oh++) {
            for (int64_t kh = 0; kh < KH; kh++) {
                const int64_t ih = oh * SH - PT + kh * DH;
                const int32_t *r = ih < 0 || ih >= IH ? zero : rows + ih * RW; /* padding rows add nothing */
                for (int64_t kw = 0; kw < KW; kw++)
                    src[kh * KW + kw] = r + ((kw * DW) % SW) * PW + (kw * DW) / SW;
            }
            int32_t *ar = ap + oh * OW;
            if (KH * KW == 9) {
                taps9_row(ar, src, wv, OW);
                continue;
            }
            memset(ar, 0, (size_t)OW * sizeof *ar);
            for (int64_t t = 0; t < KH * KW; t++)
                tap_row(ar, src[t], OW, wv[t]);
        }
    }
done:
    free(rows);
    free(src);
    free(wv);
}

bool nt_dwconv_q8(nt_exec *exec, const uint8_t *x, bool x_signed, int32_t xzp, const uint8_t *w, bool w_signed,
                  const int32_t *wzp, int64_t N, int64_t C, const nt_window *win, int32_t *acc)
{
    if (win->nsp != 2 || win->kernel[0] * win->kernel[1] >= (1 << 15))
        return false;
    dw_job j = {x, x_signed, xzp, w, w_signed, wzp, C, win, acc, false};
    nt_parallel_for(exec, N * C, 1, dw_planes, &j);
    return !j.failed;
}
