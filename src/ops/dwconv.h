/*
 * dwconv.h — depthwise convolution planes: 3x3 of stride 1 or 2 without
 * dilation, the MobileNet case (dwconv.c), and any other 2-D window
 * (dwconv_any.c), both vectorized along output rows.
 */
#ifndef NT_DWCONV_H
#define NT_DWCONV_H

#include "ops/conv_geom.h"

/* Whether nt_dwconv3x3_plane handles the 2-D window w. */
bool nt_dwconv3x3_applies(const nt_window *w);

/* One channel: y (OH, OW) = bias + sum of the 3x3 filter k over x (IH, IW)
 * through w.  Per output: bias first, then for each valid filter row in
 * order the three taps left to right, each as a multiply then an add, as
 * the generic direct loop in conv.c does; taps in the padding are skipped,
 * except on small "same" stride-1 planes, which add them as w*0 (the same
 * sums unless a weight is NaN or infinite, when the border gets NaN). */
void nt_dwconv3x3_plane(const float *x, const float *k, float bias, float *y, const nt_window *w);

/* Most taps (KH*KW) nt_dwconv_plane takes; bigger windows use im2col. */
#define NT_DWCONV_MAX_TAPS 1024

/* Whether nt_dwconv_plane handles the 2-D window w. */
bool nt_dwconv_applies(const nt_window *w);
/* Floats of scratch nt_dwconv_plane needs for w (0: reads x in place). */
size_t nt_dwconv_scratch_floats(const nt_window *w);

/* One channel: y (OH, OW) = bias + sum over the filter k (KH, KW) of x
 * (IH, IW) through w.  Per output: bias, then for kh then kw ascending a
 * multiply then an add; taps in the padding add w*0 (the same sums unless
 * a weight is NaN or infinite: then NaN, as on the GEMM paths).  scratch
 * holds nt_dwconv_scratch_floats(w) floats; when copied_from == x the
 * scratch already holds x's padded copy from the previous call (depthwise
 * multipliers reuse one input plane). */
void nt_dwconv_plane(const float *x, const float *k, float bias, float *y, const nt_window *w, float *scratch,
                     const float *copied_from);

#endif /* NT_DWCONV_H */
