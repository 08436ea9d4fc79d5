/*
 * softmax.h — the float32 Softmax row kernel of softmax.c, for the fused
 * row programs (exec/fuse_rows.c), which must give the Softmax node's bits.
 */
#ifndef NT_SOFTMAX_H
#define NT_SOFTMAX_H

#include <stdint.h>

/* y[0..n) = softmax(x[0..n)); y may not overlap x except by being x. */
void nt_softmax_row_f32(const float *x, float *y, int64_t n);

#endif /* NT_SOFTMAX_H */
