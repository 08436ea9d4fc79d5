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

/* L1 data and L2 cache sizes in bytes, read once from the system (with
 * defaults when it does not say). */
void nt_igemm_cache_sizes(long *l1_bytes, long *l2_bytes);

/* ---- uint8/int8 operands straight (igemm_q8.c), on AVX-512 VNNI's
 * vpdpbusd: four byte products per lane and instruction.  Each operand is
 * bytes with its zero points; C gets sum_k (a - za_i)(b - zb_j) exactly. */
typedef struct nt_igemm_q8_a {
    const uint8_t *p;        /* (M, K) row-major, lda */
    int64_t ld;
    bool is_signed;          /* int8 (else uint8) */
    const int32_t *zp;       /* one per row */
} nt_igemm_q8_a;

typedef struct nt_igemm_q8_b {
    const uint8_t *p;        /* (K, N) row-major, ldb; or, with w, */
    int64_t ld;
    const uint8_t *x;        /* the im2col view of image x (C, in...) through w (1-D/2-D) */
    const nt_window *w;
    bool is_signed;
    const int32_t *zp;       /* per column, or one value (zp_per_column false) */
    bool zp_per_column;
} nt_igemm_q8_b;

/* Whether nt_igemm_q8 runs (VNNI in use). */
bool nt_igemm_q8_ok(void);
/* C (M, N) with ldc; false (nothing done) when memory runs out or
 * nt_igemm_q8_ok() is false: the caller then uses nt_igemm_s16. */
bool nt_igemm_q8(nt_exec *exec, int64_t M, int64_t N, int64_t K, const nt_igemm_q8_a *a, const nt_igemm_q8_b *b,
                 int32_t *C, int64_t ldc);

/* A packed once and used for many products (constant weights): NULL when
 * nt_igemm_q8_ok() is false or memory runs out.  The packing holds about
 * M * K bytes. */
typedef struct nt_igemm_q8_packed nt_igemm_q8_packed;
nt_igemm_q8_packed *nt_igemm_q8_pack(int64_t M, int64_t K, const nt_igemm_q8_a *a);
void nt_igemm_q8_packed_free(nt_igemm_q8_packed *pk);
/* nt_igemm_q8 with A already packed. */
bool nt_igemm_q8_run(nt_exec *exec, int64_t N, const nt_igemm_q8_packed *pk, const nt_igemm_q8_b *b, int32_t *C,
                     int64_t ldc);

/* ---- the depthwise quantized convolution (conv_quant_dw.c): acc (N, C,
 * OH, OW) int32 = sum over the 2-D window of (x - xzp)(w[c] - wzp[c]),
 * x (N, C, IH, IW) and w (C, 1, KH, KW) uint8/int8.  false (nothing done)
 * for a window it does not take (not 2-D, or too many taps for int32). */
bool nt_dwconv_q8(nt_exec *exec, const uint8_t *x, bool x_signed, int32_t xzp, const uint8_t *w, bool w_signed,
                  const int32_t *wzp, int64_t N, int64_t C, const nt_window *win, int32_t *acc);

#endif /* NT_IGEMM_H */
