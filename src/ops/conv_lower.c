/*
 * conv_lower.c — im2col and col2im for any number of spatial axes, the
 * lowering that turns a convolution into one GEMM per group.
 *
 * The output positions are walked as "runs" along the last spatial axis: for
 * a fixed kernel tap and fixed outer output coordinates, the taps of
 * consecutive outputs along the last axis read input elements stride apart
 * in one input row.  The valid part of that run is computed once (no per-
 * element bounds tests), so with stride 1 the inner loop is a plain copy that
 * gcc vectorizes, and padding costs a short fill at each end.
 */
#include "ops/conv_geom.h"

#include <string.h>

int64_t nt_window_kernel_size(const nt_window *w)
{
    int64_t k = 1;
    for (int i = 0; i < w->nsp; i++)
        k *= w->kernel[i];
    return k;
}

int64_t nt_window_out_size(const nt_window *w)
{
    int64_t k = 1;
    for (int i = 0; i < w->nsp; i++)
        k *= w->out[i];
    return k;
}

int64_t nt_window_in_size(const nt_window *w)
{
    int64_t k = 1;
    for (int i = 0; i < w->nsp; i++)
        k *= w->in[i];
    return k;
}

/* The range [lo, hi) of outputs along the last axis whose tap at offset
 * base + o*stride lands inside [0, n). */
static void valid_run(int64_t base, int64_t stride, int64_t n, int64_t nout, int64_t *lo, int64_t *hi)
{
    int64_t l = base < 0 ? (-base + stride - 1) / stride : 0;
    int64_t h = n - 1 - base < 0 ? 0 : (n - 1 - base) / stride + 1;
    if (h > nout)
        h = nout;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* Decomposes kernel position kidx into per-axis taps (row-major). */
static void kernel_taps(const nt_window *w, int64_t kidx, int64_t *kpos)
{
    for (int d = w->nsp - 1; d >= 0; d--) {
        kpos[d] = kidx % w->kernel[d];
        kidx /= w->kernel[d];
    }
}

/* Offset of the input row (all axes but the last) read by outer output
 * coordinates opos and taps kpos, or -1 when it lies in the padding. */
static int64_t outer_row(const nt_window *w, const int64_t *opos, const int64_t *kpos)
{
    int64_t off = 0;
    for (int d = 0; d < w->nsp - 1; d++) {
        int64_t id = opos[d] * w->stride[d] - w->pad_begin[d] + kpos[d] * w->dil[d];
        if (id < 0 || id >= w->in[d])
            return -1;
        off = off * w->in[d] + id;
    }
    return off;
}

/* Advances the odometer over the outer output axes. */
static void outer_next(const nt_window *w, int64_t *opos)
{
    for (int d = w->nsp - 2; d >= 0; d--) {
        if (++opos[d] < w->out[d])
            return;
        opos[d] = 0;
    }
}

#define NT_DEFINE_IM2COL(NAME, T)                                                                    \
    void NAME(const T *x, const nt_window *w, T *col, int64_t r0, int64_t r1)                       \
    {                                                                                                \
        const int L = w->nsp - 1;                                                                    \
        const int64_t K = nt_window_kernel_size(w), OUT = nt_window_out_size(w);                     \
        const int64_t IN = nt_window_in_size(w), OW = w->out[L], IW = w->in[L], S = w->stride[L];    \
        const int64_t n_outer = OW > 0 ? OUT / OW : 0;                                               \
        for (int64_t r = r0; r < r1; r++) {                                                          \
            int64_t kpos[NT_MAX_SPATIAL], opos[NT_MAX_SPATIAL] = {0};                                \
            kernel_taps(w, r % K, kpos);                                                             \
            const T *xc = x + (r / K) * IN;                                                          \
            T *dst = col + r * OUT;                                                                  \
            int64_t base = kpos[L] * w->dil[L] - w->pad_begin[L], lo, hi;                            \
            valid_run(base, S, IW, OW, &lo, &hi);                                                    \
            for (int64_t o = 0; o < n_outer; o++, dst += OW) {                                       \
                int64_t row = outer_row(w, opos, kpos);                                              \
                outer_next(w, opos);                                                                 \
                if (row < 0) {                                                                       \
                    memset(dst, 0, (size_t)OW * sizeof(T));                                          \
                    continue;                                                                        \
                }                                                                                    \
                const T *src = xc + row * IW;                                                        \
                for (int64_t j = 0; j < lo; j++)                                                     \
                    dst[j] = 0;                                                                      \
                if (S == 1)                                                                          \
                    memcpy(dst + lo, src + (base + lo), (size_t)(hi - lo) * sizeof(T));                       \
                else                                                                                 \
                    for (int64_t j = lo; j < hi; j++)                                                \
                        dst[j] = src[base + j * S];                                                     \
                for (int64_t j = hi; j < OW; j++)                                                    \
                    dst[j] = 0;                                                                      \
            }                                                                                        \
        }                                                                                            \
    }

NT_DEFINE_IM2COL(nt_im2col_f32, float)
NT_DEFINE_IM2COL(nt_im2col_f64, double)
NT_DEFINE_IM2COL(nt_im2col_s16, int16_t)

/* Channels are the unit of work so that parallel callers never add into the
 * same y element from two threads. */
#define NT_DEFINE_COL2IM(NAME, T)                                                                    \
    void NAME(const T *col, const nt_window *w, T *y, int64_t c0, int64_t c1)                       \
    {                                                                                                \
        const int L = w->nsp - 1;                                                                    \
        const int64_t K = nt_window_kernel_size(w), OUT = nt_window_out_size(w);                     \
        const int64_t IN = nt_window_in_size(w), OW = w->out[L], IW = w->in[L], S = w->stride[L];    \
        const int64_t n_outer = OW > 0 ? OUT / OW : 0;                                               \
        for (int64_t r = c0 * K; r < c1 * K; r++) {                                                  \
            int64_t kpos[NT_MAX_SPATIAL], opos[NT_MAX_SPATIAL] = {0};                                \
            kernel_taps(w, r % K, kpos);                                                             \
            T *yc = y + (r / K) * IN;                                                                \
            const T *src = col + r * OUT;                                                            \
            int64_t base = kpos[L] * w->dil[L] - w->pad_begin[L], lo, hi;                            \
            valid_run(base, S, IW, OW, &lo, &hi);                                                    \
            for (int64_t o = 0; o < n_outer; o++, src += OW) {                                       \
                int64_t row = outer_row(w, opos, kpos);                                              \
                outer_next(w, opos);                                                                 \
                if (row < 0)                                                                         \
                    continue;                                                                        \
                T *dst = yc + row * IW;                                                              \
                if (S == 1)                                                                          \
                    for (int64_t j = lo; j < hi; j++)                                                \
                        dst[base + j] += src[j];                                                        \
                else                                                                                 \
                    for (int64_t j = lo; j < hi; j++)                                                \
                        dst[base + j * S] += src[j];                                                    \
            }                                                                                        \
        }                                                                                            \
    }

NT_DEFINE_COL2IM(nt_col2im_f32, float)
NT_DEFINE_COL2IM(nt_col2im_f64, double)
