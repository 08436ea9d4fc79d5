/*
 * dwconv.h — depthwise 3x3 convolution planes (stride 1 or 2, dilation 1),
 * the MobileNet case, vectorized along output rows (dwconv.c).
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

#endif /* NT_DWCONV_H */
