/*
 * sgemm.h — nntrace's own single-precision GEMM: packed panels and FMA
 * micro-kernels chosen at run time by what the CPU supports.
 *
 *   AVX-512F  8 x 48 register tile (24 zmm accumulators); a block's last
 *             panel of <= 4 columns as 32 x 4 (16 ymm accumulators)
 *   AVX2+FMA  6 x 16 register tile (12 ymm accumulators)
 *   otherwise nothing here runs: callers fall back to OpenBLAS (nt_gemm_f32)
 *
 * A (the weights, for a convolution) is packed once into MR-row panels per
 * K block and can be kept in a node's state; B is packed per call, a block
 * of NC columns at a time, either from a dense row-major matrix or straight
 * from an image through a 2-D convolution window (im2col fused into the
 * packing, so no column buffer is ever written).
 *
 * Numerics: every C element is one chain of FMAs over k in increasing order
 * per K block, blocks added in increasing order; no reassociation depends on
 * the thread count (threads split columns only), so results are identical
 * for any thread count.  NaN and Inf propagate as in plain arithmetic (no
 * term is ever skipped, C is not read when beta == 0).
 */
#ifndef NT_SGEMM_H
#define NT_SGEMM_H

#include "ops/conv_geom.h"

typedef enum nt_sgemm_isa {
    NT_SGEMM_NONE = 0,      /* no kernel of ours: use OpenBLAS */
    NT_SGEMM_AVX2,
    NT_SGEMM_AVX512
} nt_sgemm_isa;

/* The kernel set in use: the best the CPU supports unless forced. */
nt_sgemm_isa nt_sgemm_isa_get(void);
/* Forces a kernel set for tests and benchmarks (clamped to what the CPU
 * supports; NT_SGEMM_NONE disables our kernels).  Returns the previous one.
 * Not thread-safe: call it before running sessions. */
nt_sgemm_isa nt_sgemm_isa_force(nt_sgemm_isa isa);
/* Name of a kernel set ("avx512", "avx2", "blas"). */
const char *nt_sgemm_isa_name(nt_sgemm_isa isa);

/* A packed for one kernel set: M rows padded to MR, K split into blocks. */
typedef struct nt_sgemm_pa {
    float *p;
    size_t cap;             /* floats allocated */
    int64_t M, K;
    nt_sgemm_isa isa;
    const void *src;        /* the A it was packed from (for callers' caches) */
} nt_sgemm_pa;

/* Packs A (M,K) (or, with trans, A stored (K,M)) with leading dimension lda
 * for kernel set isa (not NONE).  Reuses pa's storage.  NT_ERR_NOMEM with a
 * message on allocation failure. */
nt_status nt_sgemm_pack_a(nt_sgemm_pa *pa, nt_sgemm_isa isa, bool trans, int64_t M, int64_t K, const float *A,
                          int64_t lda);
void nt_sgemm_pa_free(nt_sgemm_pa *pa);

/* Where B (K,N) comes from: a dense matrix (p, ld, trans: stored (N,K)), or,
 * when w is set, the im2col view of one image group x (C, IH, IW) through
 * the 2-D window w: row k = (c, kh, kw), column = output position, or, when
 * packed is set, p already in the packed layout (nt_sgemm_b_index). */
typedef struct nt_sgemm_b {
    const float *p;
    int64_t ld;
    bool trans;
    bool packed;
    const float *x;
    const nt_window *w;
} nt_sgemm_b;

/* The packed-B layout of kernel set isa for a (K,N) operand: K splits into
 * blocks of kc rows (the last shorter); in the block starting at k0 (length
 * kl), column panel q (columns q*nr ..) starts at k0*round_up(N,nr) +
 * q*kl*nr and holds kl rows of nr values (zero beyond column N-1). */
void nt_sgemm_b_layout(nt_sgemm_isa isa, int64_t K, int *nr, int64_t *kc);
/* Floats a packed (K,N) B operand takes. */
size_t nt_sgemm_b_size(nt_sgemm_isa isa, int64_t K, int64_t N);

/* C (M,N) = alpha * A·B + beta * C + bias (one value per row, or NULL), A
 * packed, C row-major with ldc.  With beta == 0, C is not read.  Columns are
 * split over exec's threads (exec may be NULL: one thread). */
nt_status nt_sgemm(nt_exec *exec, const nt_sgemm_pa *pa, int64_t N, const nt_sgemm_b *b, float alpha, float beta,
                   const float *bias, float *C, int64_t ldc);

/* A function run on each finished block of C (rows [0, M), columns
 * [j0, j1)), by the thread that computed it while the block is in its
 * cache: a convolution's fused epilogue. */
typedef struct nt_sgemm_epi {
    void (*fn)(void *arg, float *C, int64_t ldc, int64_t M, int64_t j0, int64_t j1);
    void *arg;
} nt_sgemm_epi;

/* nt_sgemm, then epi (may be NULL) on every finished block. */
nt_status nt_sgemm_ex(nt_exec *exec, const nt_sgemm_pa *pa, int64_t N, const nt_sgemm_b *b, float alpha,
                      float beta, const float *bias, float *C, int64_t ldc, const nt_sgemm_epi *epi);

/* Same as nt_gemm_f32 but on our kernels (A packed into a per-thread
 * buffer).  Returns false, having done nothing, when no kernel set is in
 * use or memory runs out: the caller then uses OpenBLAS. */
bool nt_sgemm_dense(nt_exec *exec, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/* Narrow products, 48 < N <= 64 columns (sgemm_narrow.c): B copied once,
 * A read in place, threads split rows.  Matrix-vector-like ones, M < 4
 * rows and B (K,N) not transposed: B streamed once, threads split columns.
 * Each C element is one FMA chain over k = 0 .. K-1 from zero, then
 * alpha * sum or fma(alpha, sum, beta * C): the same bits for any thread
 * count, any block of rows of the same product, AVX-512 or AVX2.  Both
 * return false, having done nothing, when the CPU has neither (or memory
 * runs out): the caller then uses OpenBLAS. */
bool nt_sgemm_narrow(nt_exec *exec, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
bool nt_sgemv_rows(nt_exec *exec, bool trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                   int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/* C (M,N) = alpha * A (M,K) · B^T + beta * C for M < 4 rows and B stored
 * (N,K) (sgemv_t.c): dot products of contiguous rows, B streamed once,
 * threads split columns; the same bits for any thread count, any block of
 * rows, AVX-512 or AVX2 (16 lane chains summed in a fixed tree).  Returns
 * false, having done nothing, without our kernels or when A is transposed
 * with more than one row: the caller then uses OpenBLAS. */
bool nt_sgemv_t(nt_exec *exec, bool trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);

/* B packed once and used by several products (a fused kernel's blocks of
 * rows): the same bits as nt_sgemm_dense / nt_sgemm_narrow on B itself.
 * nt_sgemm_pack_b writes nt_sgemm_b_size(isa, K, N) floats, the narrow one
 * nt_sgemm_narrow_b_size(K) (N <= 64); the products run on this thread and
 * return false (nothing done) when no kernel set is in use. */
void nt_sgemm_pack_b(nt_sgemm_isa isa, bool trans, int64_t K, int64_t N, const float *B, int64_t ldb, float *dst);
bool nt_sgemm_dense_packed_b(bool trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                             int64_t lda, const float *bp, float beta, float *C, int64_t ldc);
size_t nt_sgemm_narrow_b_size(int64_t K);
void nt_sgemm_narrow_pack_b(bool trans_b, int64_t K, int64_t N, const float *B, int64_t ldb, float *bp);
bool nt_sgemm_narrow_packed(nt_exec *exec, bool trans_a, int64_t M, int64_t N, int64_t K, float alpha,
                            const float *A, int64_t lda, const float *bp, float beta, float *C, int64_t ldc);

#endif /* NT_SGEMM_H */
