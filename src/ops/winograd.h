/*
 * winograd.h — Winograd F(4x4, 3x3) and F(2x2, 3x3) convolution for float32
 * 3x3 stride-1 undilated windows (winograd.c).
 *
 * A convolution Y = W * X over a tile of (m+2)x(m+2) inputs becomes, after
 * transforming filters (G g G^T, once per weight) and input tiles
 * (B^T d B), an element-wise product summed over channels, i.e. one GEMM
 * per transform point (M x C times C x tiles), and an output transform
 * (A^T . A).  Fewer multiplications than the direct sum, at the price of
 * transforms and a slightly different rounding (well inside rtol 1e-3).
 */
#ifndef NT_WINOGRAD_H
#define NT_WINOGRAD_H

#include "ops/conv_geom.h"

typedef struct nt_wino nt_wino;

/* Whether Winograd handles (and is expected to pay for) this 2-D window
 * with G groups of Cg input and Mg output channels. */
bool nt_wino_applies(const nt_window *w, int64_t G, int64_t Cg, int64_t Mg);

/* Y (N,M,OH,OW) = conv(X (N,C,IH,IW), W (M,C,3,3)) + bias (M, or NULL), one
 * group.  *state keeps the transformed filters (reused across calls while
 * w_const says W cannot change and it stays at the same address). */
nt_status nt_wino_conv(nt_exec *exec, nt_wino **state, bool w_const, const nt_window *w, int64_t N, int64_t C,
                       int64_t M, const float *x, const float *wt, const float *bias, float *y);

void nt_wino_free(nt_wino *st);

/* Turns Winograd off (false) or back on for every node of every session
 * (tests); sessions choose with nt_session_options.no_winograd. */
void nt_wino_enable(bool on);

#endif /* NT_WINOGRAD_H */
