/*
 * dwconv.c — depthwise 3x3 convolution of one channel plane.
 *
 * Each output row is computed in one pass: the outputs whose three taps all
 * fall inside the input row (the interior) run in a loop with the filter
 * rows unrolled and a constant stride, which gcc vectorizes (and compiles
 * for AVX-512, AVX2 and the baseline, picked at load time); the few edge
 * outputs whose taps reach into the left or right padding run a scalar loop
 * that skips those taps.  Rows of the filter that fall in the top or bottom
 * padding are skipped.  "Same" stride-1 planes run one flat loop over the
 * rows that are wholly inside, and small ones (under 32 wide) over a
 * zero-bordered copy.  The order of operations is the same everywhere (no
 * FMA contraction in ISO C mode), so results do not depend on the CPU; the
 * bordered copy adds w*0 terms, which change nothing unless a weight is
 * NaN or infinite (then the border is NaN, as on the GEMM paths).
 */
#include "ops/dwconv.h"

/* Floats of the padded copy of a small plane (on the stack). */
#define SMALL_PLANE 1600

bool nt_dwconv3x3_applies(const nt_window *w)
{
    return w->nsp == 2 && w->kernel[0] == 3 && w->kernel[1] == 3 && w->dil[0] == 1 && w->dil[1] == 1 &&
           (w->stride[1] == 1 || w->stride[1] == 2) && w->stride[0] >= 1;
}

/* Interior outputs [lo, hi) of one row: nv valid filter rows r[] with
 * weights kr[] (3 each); taps at columns ow*S + off0 + {0,1,2}. */
#define DW_ROW_LOOP(S)                                                                                          \
    do {                                                                                                        \
        if (nv == 3) {                                                                                          \
            const float *restrict a = r[0] + off0, *restrict b = r[1] + off0, *restrict c = r[2] + off0;       \
            for (int64_t o = lo; o < hi; o++) {                                                                 \
                float acc = bias;                                                                               \
                acc = ((acc + k0[0] * a[(S)*o]) + k0[1] * a[(S)*o + 1]) + k0[2] * a[(S)*o + 2];                 \
                acc = ((acc + k1[0] * b[(S)*o]) + k1[1] * b[(S)*o + 1]) + k1[2] * b[(S)*o + 2];                 \
                acc = ((acc + k2[0] * c[(S)*o]) + k2[1] * c[(S)*o + 1]) + k2[2] * c[(S)*o + 2];                 \
                yr[o] = acc;                                                                                    \
            }                                                                                                   \
        } else if (nv == 2) {                                                                                   \
            const float *restrict a = r[0] + off0, *restrict b = r[1] + off0;                                   \
            for (int64_t o = lo; o < hi; o++) {                                                                 \
                float acc = bias;                                                                               \
                acc = ((acc + k0[0] * a[(S)*o]) + k0[1] * a[(S)*o + 1]) + k0[2] * a[(S)*o + 2];                 \
                acc = ((acc + k1[0] * b[(S)*o]) + k1[1] * b[(S)*o + 1]) + k1[2] * b[(S)*o + 2];                 \
                yr[o] = acc;                                                                                    \
            }                                                                                                   \
        } else if (nv == 1) {                                                                                   \
            const float *restrict a = r[0] + off0;                                                              \
            for (int64_t o = lo; o < hi; o++) {                                                                 \
                float acc = bias;                                                                               \
                acc = ((acc + k0[0] * a[(S)*o]) + k0[1] * a[(S)*o + 1]) + k0[2] * a[(S)*o + 2];                 \
                yr[o] = acc;                                                                                    \
            }                                                                                                   \
        } else {                                                                                                \
            for (int64_t o = lo; o < hi; o++)                                                                   \
                yr[o] = bias;                                                                                   \
        }                                                                                                       \
    } while (0)


NT_CLONES NT_VECTORIZE void nt_dwconv3x3_plane(const float *x, const float *k, float bias, float *y,
                                               const nt_window *w)
{
    const int64_t IH = w->in[0], IW = w->in[1], OH = w->out[0], OW = w->out[1];
    const int64_t SH = w->stride[0], SW = w->stride[1], PT = w->pad_begin[0], PL = w->pad_begin[1];
    const int64_t off0 = -PL;
    /* [lo, hi): outputs whose taps ow*SW - PL + {0,1,2} are all in [0, IW). */
    int64_t lo = PL > 0 ? (PL + SW - 1) / SW : 0;
    int64_t hi = IW - 3 + PL < 0 ? 0 : (IW - 3 + PL) / SW + 1;
    if (hi > OW)
        hi = OW;
    if (lo > hi)
        lo = hi;
    /* Small "same" stride-1 planes (14x14, 7x7): a quarter or more of the
     * outputs touch the padding, too many for the scalar edge loop.  The
     * plane is copied into a zero-bordered buffer and every output computed
     * by one flat vectorized loop (the two border columns of each padded
     * row are computed and dropped).  This adds w*0 terms where the edge
     * loop skips taps: the same sums, except that a NaN or infinite weight
     * then makes NaN at the border too, as the GEMM paths do. */
    if (SW == 1 && SH == 1 && PT == 1 && PL == 1 && IH == OH && IW == OW && OW < 32 &&
        (IH + 2) * (IW + 2) <= SMALL_PLANE) {
        const int64_t PW = IW + 2, PH = IH + 2;
        float xp[SMALL_PLANE], yp[SMALL_PLANE];
        for (int64_t i = 0; i < PW; i++)
            xp[i] = xp[(PH - 1) * PW + i] = 0.0f;
        for (int64_t r = 0; r < IH; r++) {
            float *d = xp + (r + 1) * PW;
            d[0] = d[PW - 1] = 0.0f;
            for (int64_t i = 0; i < IW; i++)
                d[i + 1] = x[r * IW + i];
        }
        const float *k0 = k, *k1 = k + 3, *k2 = k + 6;
        for (int64_t p = PW + 1; p < IH * PW + IW + 1; p++) {
            float acc = bias;
            acc = ((acc + k0[0] * xp[p - PW - 1]) + k0[1] * xp[p - PW]) + k0[2] * xp[p - PW + 1];
            acc = ((acc + k1[0] * xp[p - 1]) + k1[1] * xp[p]) + k1[2] * xp[p + 1];
            acc = ((acc + k2[0] * xp[p + PW - 1]) + k2[1] * xp[p + PW]) + k2[2] * xp[p + PW + 1];
            yp[p] = acc;
        }
        for (int64_t r = 0; r < OH; r++)
            for (int64_t i = 0; i < OW; i++)
                y[r * OW + i] = yp[(r + 1) * PW + i + 1];
        return;
    }
    /* "Same" stride-1 planes: the rows whose three filter rows are all
     * inside the image are done as one flat loop over the plane (long enough
     * to vectorize even for 7x7 or 14x14 planes).  Its first and last column
     * read across the row boundary and are redone by the edge loop below. */
    const bool flat = SW == 1 && SH == 1 && PT == 1 && PL == 1 && IH == OH && IW == OW && OH >= 3 && OW >= 3;
    if (flat) {
        const float *k0 = k, *k1 = k + 3, *k2 = k + 6;
        const int64_t W = IW;
        for (int64_t p = W + 1; p < (OH - 1) * W - 1; p++) {
            float acc = bias;
            acc = ((acc + k0[0] * x[p - W - 1]) + k0[1] * x[p - W]) + k0[2] * x[p - W + 1];
            acc = ((acc + k1[0] * x[p - 1]) + k1[1] * x[p]) + k1[2] * x[p + 1];
            acc = ((acc + k2[0] * x[p + W - 1]) + k2[1] * x[p + W]) + k2[2] * x[p + W + 1];
            y[p] = acc;
        }
    }
    for (int64_t oh = 0; oh < OH; oh++) {
        float *yr = y + oh * OW;
        const bool interior_done = flat && oh >= 1 && oh < OH - 1;
        const float *r[3] = {x, x, x}, *kr[3] = {k, k, k};
        int nv = 0;
        for (int64_t kh = 0; kh < 3; kh++) {
            int64_t ih = oh * SH - PT + kh;
            if (ih < 0 || ih >= IH)
                continue;
            r[nv] = x + ih * IW;
            kr[nv] = k + kh * 3;
            nv++;
        }
        const float *k0 = kr[0], *k1 = kr[1], *k2 = kr[2];
        if (interior_done)
            ;
        else if (SW == 1)
            DW_ROW_LOOP(1);
        else
            DW_ROW_LOOP(2);
        /* Edges: taps in the left or right padding are skipped. */
        for (int64_t o = 0; o < OW; o++) {
            if (o == lo)
                o = hi;
            if (o >= OW)
                break;
            const int64_t base = o * SW + off0;
            const int64_t kw0 = base < 0 ? -base : 0, kw1 = IW - base < 3 ? IW - base : 3;
            float acc = bias;
            /* Unrolled by hand: a three-trip loop with run-time bounds is
             * not worth the vectorizer's prologue and epilogue. */
            for (int v = 0; v < nv; v++) {
                const float *rv = r[v], *kv = kr[v];
                if (kw0 <= 0 && kw1 > 0)
                    acc = acc + kv[0] * rv[base];
                if (kw0 <= 1 && kw1 > 1)
                    acc = acc + kv[1] * rv[base + 1];
                if (kw0 <= 2 && kw1 > 2)
                    acc = acc + kv[2] * rv[base + 2];
            }
            yr[o] = acc;
        }
    }
}
