/*
 * igemm.h — exact integer GEMM for the quantized operators (ConvInteger,
 * QLinearConv, MatMulInteger, QLinearMatMul): C (int32) = A · B on int16
 * operands that already had their zero points subtracted (uint8/int8 minus
 * a zero point lies in [-255, 255], so every pair product sum fits int32
 * and every kernel set gives the same bits: int32 sums wrap the same way
 * in any order).
 *
 * Kernel sets, chosen at run time: AVX-512 VNNI (vpdpwssd), AVX-512BW
 * (vpmaddwd + vpaddd), AVX2 (the same on 8 lanes), plain C.  Blocking (the
 * K block and the column block) comes from the L1 and L2 sizes read at run
 * time.  Columns are split over the session's threads.
 */
#ifndef NT_IGEMM_H
#define NT_IGEMM_H

#include "ops/conv_geom.h"

typedef enum nt_igemm_isa {
    NT_IGEMM_C = 0,
    NT_IGEMM_AVX2,
    NT_IGEMM_AVX512BW,
    NT_IGEMM_AVX512VNNI
} nt_igemm_isa;

/* The kernel set in use: the best the CPU has unless forced. */
nt_igemm_isa nt_igemm_isa_get(void);
/* Forces a kernel set for tests (clamped to what the CPU has); returns the
 * previous one.  Not thread-safe: call it before running sessions. */
nt_igemm_isa nt_igemm_isa_force(nt_igemm_isa isa);

/* Where B (K, N) comes from: a dense row-major int16 matrix (p, ld), or,
 * when w is set, the im2col view of one image group x (C, in...) of 1-D or
 * 2-D window w (row k = (c, kh, kw), column = output position; taps in the
 * padding read 0). */
typedef struct nt_igemm_b {
    const int16_t *p;
    int64_t ld;
    const int16_t *x;
    const nt_window *w;
} nt_igemm_b;

/* C (M, N), row-major with ldc, = A (M, K) row-major with lda times B,
 * exactly (int32 wrap-around).  exec may be NULL (one thread). */
void nt_igemm_s16(nt_exec *exec, int64_t M, int64_t N, int64_t K, const int16_t *A, int64_t lda,
                  const nt_igemm_b *b, int32_t *C, int64_t ldc);

#endif /* NT_IGEMM_H */
