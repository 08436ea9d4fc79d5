/*
 * conv_tapwise.h — 2-D convolution as one GEMM per kernel tap over the
 * outputs that tap reads the input for (conv_tapwise.c): the path for
 * dilated convolutions on small maps, where most im2col products read
 * padding.
 */
#ifndef NT_CONV_TAPWISE_H
#define NT_CONV_TAPWISE_H

#include "ops/sgemm.h"

/* Per-tap packed weights, kept in a node's state while W is the same
 * constant (as the other packed weights, conv.c). */
typedef struct nt_conv_tapwise {
    nt_sgemm_pa *pk;         /* G * K entries, (group, tap) */
    int64_t n, Mg, Cg;
    float *wtap;             /* staging for one tap's (Mg, Cg) matrix */
    const void *src;
    bool is_const;
    int isa;
} nt_conv_tapwise;

/* Whether the tap-wise path pays for the 2-D window w: at most half of the
 * im2col GEMM's products read the input. */
bool nt_conv_tapwise_pays(const nt_window *w);

/* Y (N, M, out) = bias + sum over taps of W_tap · X through window w (2-D),
 * G groups, on our sgemm kernels (the caller checked nt_sgemm_isa_get()).
 * tmp is scratch for one tap's products; w_const says W is a constant of
 * the session (its packing is then kept in t). */
nt_status nt_conv_tapwise_f32(nt_exec *exec, nt_conv_tapwise *t, nt_scratch *tmp, bool w_const, const nt_window *w,
                              int64_t N, int64_t C, int64_t M, int64_t G, const float *x, const float *wt,
                              const float *bias, float *y);
void nt_conv_tapwise_free(nt_conv_tapwise *t);

#endif /* NT_CONV_TAPWISE_H */
