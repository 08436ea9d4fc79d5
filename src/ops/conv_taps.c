/*
 * conv_taps.c — the taps of a convolution window that can read the input.
 *
 * A tap (a kernel position) whose input position falls in the padding for
 * every output only ever multiplies zeros.  Dilated 3x3 convolutions on
 * small maps are mostly such taps: DeepLabV3's ASPP runs dilations 12, 24
 * and 36 on 16x16 maps, where at 24 and 36 only the centre tap reads the
 * map and the convolution is really a 1x1 one.  Along each axis the taps
 * that read the input form one run (a tap's input positions move right as
 * the tap index grows), so the live taps are a sub-box of the kernel: the
 * window narrowed to it, with its pads shifted, gives the same outputs with
 * fewer terms.  The dropped terms are all w*0, so the sums are the same
 * unless a weight is NaN or infinite (then the full window gives NaN).
 */
#include "ops/conv_geom.h"

#include <string.h>

/* Whether tap k of axis i reads the input for some output. */
static bool tap_live(const nt_window *w, int i, int64_t k)
{
    const int64_t S = w->stride[i], c = k * w->dil[i] - w->pad_begin[i];
    const int64_t o = c < 0 ? (-c + S - 1) / S : 0; /* first output at or right of position 0 */
    return o < w->out[i] && o * S + c < w->in[i];
}

bool nt_window_live_taps(const nt_window *w, nt_window *live, int64_t *k0)
{
    bool narrowed = false;
    *live = *w;
    for (int i = 0; i < w->nsp; i++) {
        int64_t a = 0, b = w->kernel[i];
        while (a < b && !tap_live(w, i, a))
            a++;
        while (b > a && !tap_live(w, i, b - 1))
            b--;
        if (a == b) /* no tap reads anything (outputs are the bias): keep tap 0 */
            a = 0, b = 1;
        k0[i] = a;
        if (a == 0 && b == w->kernel[i])
            continue;
        narrowed = true;
        live->kernel[i] = b - a;
        live->pad_begin[i] = w->pad_begin[i] - a * w->dil[i];
        /* the pad that keeps the output size: in + pb + pe = (out-1)*S + span */
        live->pad_end[i] = (w->out[i] - 1) * w->stride[i] + (b - a - 1) * w->dil[i] + 1 - w->in[i] - live->pad_begin[i];
        if (live->kernel[i] == 1)
            live->dil[i] = 1;
    }
    return narrowed;
}

void nt_kernel_slice_f32(const float *wt, int64_t MC, const nt_window *full, const nt_window *live,
                         const int64_t *k0, float *wr)
{
    const int nsp = full->nsp;
    const int64_t K = nt_window_kernel_size(full), KL = nt_window_kernel_size(live);
    for (int64_t q = 0; q < KL; q++) {
        /* q's coordinates in the live box, then its index in the full kernel */
        int64_t rest = q, idx = 0, pos[NT_MAX_SPATIAL];
        for (int i = nsp - 1; i >= 0; i--) {
            pos[i] = rest % live->kernel[i] + k0[i];
            rest /= live->kernel[i];
        }
        for (int i = 0; i < nsp; i++)
            idx = idx * full->kernel[i] + pos[i];
        for (int64_t mc = 0; mc < MC; mc++)
            wr[mc * KL + q] = wt[mc * K + idx];
    }
}
