/*
 * sgemm_narrow.c — float32 products the packed SGEMM (sgemm.c) serves badly:
 * narrow ones (48 < N <= 64 columns: attention's P·V, a head-sized output) and
 * matrix-vector ones (M < 4 rows: a decode step's every linear layer).
 *
 * Narrow: the packed SGEMM packs A, here the big operand (P of 1500 x 1500
 * against V of 1500 x 64), and its 48-column tiles leave a 16-column rest
 * that runs at a third of the speed.  Here B (K x N) is copied once into a
 * zero-padded K x 64 block and A is read in place: a register tile of MR
 * rows by up to 64 columns walks all of K.  Threads split rows.
 *
 * Matrix-vector: C row = A row · B with B (K x N) row-major streams B once,
 * row by row, into an accumulator block of at most 1024 columns held in L1
 * (k outer), so the read is sequential at memory bandwidth.  Threads split
 * columns, each a contiguous range.
 *
 * Numerics (both): each C element is one chain of FMAs over k = 0 .. K-1 in
 * increasing order starting from zero, then alpha * sum (beta == 0, C not
 * read) or fma(alpha, sum, beta * C).  That does not depend on the thread
 * count, on which rows or columns a call covers (a fused kernel may compute
 * a block of rows and get the same bits as the whole product), or on the
 * instruction set (AVX-512 and AVX2 give the same bits).
 */
#include "ops/gemm_util.h"
#include "ops/sgemm.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

enum { NARROW_NP = 64, NARROW_MR = 6, GEMV_CH = 1024 };

/* One product's operands; a_rs / a_ks step A by a row / by a k. */
typedef struct narrow_job {
    const float *A;
    int64_t a_rs, a_ks;
    const float *B;             /* narrow: packed K x NARROW_NP; gemv: B itself */
    int64_t ldb;
    float *C;
    int64_t ldc, M, N, K;
    float alpha, beta;
    nt_sgemm_isa isa;
} narrow_job;

/* The final value of one element from its sum (see the numerics above). */
static inline float finish(float acc, float alpha, float beta, const float *c)
{
    return beta == 0.0f ? alpha * acc : fmaf(alpha, acc, beta * *c);
}

#if defined(__x86_64__) && defined(__GNUC__)

/* ---- AVX-512: MR rows x 64 columns (4 zmm per row, 24 accumulators). */

#define N5_ROW(r)                                                   \
    do {                                                            \
        __m512 a_ = _mm512_set1_ps(*ar##r);                         \
        c##r##0 = _mm512_fmadd_ps(a_, b0, c##r##0);                 \
        c##r##1 = _mm512_fmadd_ps(a_, b1, c##r##1);                 \
        c##r##2 = _mm512_fmadd_ps(a_, b2, c##r##2);                 \
        c##r##3 = _mm512_fmadd_ps(a_, b3, c##r##3);                 \
        ar##r += aks;                                               \
    } while (0)

#define N5_STV(r, v)                                                                            \
    do {                                                                                        \
        __mmask16 m_ = lane_mask16(n - 16 * (v));                                               \
        if (m_) {                                                                               \
            float *p_ = c + (r) * ldc + 16 * (v);                                               \
            __m512 o_ = beta == 0.0f ? _mm512_mul_ps(va, c##r##v)                               \
                                     : _mm512_fmadd_ps(va, c##r##v,                             \
                                                       _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m_, p_))); \
            _mm512_mask_storeu_ps(p_, m_, o_);                                                  \
        }                                                                                       \
    } while (0)

#define N5_STROW(r)              \
    do {                         \
        if ((r) < mr) {          \
            N5_STV(r, 0);        \
            N5_STV(r, 1);        \
            N5_STV(r, 2);        \
            N5_STV(r, 3);        \
        }                        \
    } while (0)

static inline __attribute__((always_inline)) __mmask16 lane_mask16(int64_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* Rows [i0, i0+mr) of C; rows past mr read row i0 again (not stored). */
__attribute__((target("avx512f"))) static void narrow512_tile(const narrow_job *j, int64_t i0, int mr)
{
    const int64_t aks = j->a_ks, K = j->K, n = j->N, ldc = j->ldc;
    const float *base = j->A + i0 * j->a_rs;
    const float *ar0 = base, *ar1 = mr > 1 ? base + j->a_rs : base, *ar2 = mr > 2 ? base + 2 * j->a_rs : base;
    const float *ar3 = mr > 3 ? base + 3 * j->a_rs : base, *ar4 = mr > 4 ? base + 4 * j->a_rs : base;
    const float *ar5 = mr > 5 ? base + 5 * j->a_rs : base;
    const __m512 z = _mm512_setzero_ps();
    __m512 c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z;
    __m512 c23 = z, c30 = z, c31 = z, c32 = z, c33 = z, c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z;
    __m512 c52 = z, c53 = z;
    const float *b = j->B;
    for (int64_t k = 0; k < K; k++, b += NARROW_NP) {
        const __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), b2 = _mm512_loadu_ps(b + 32);
        const __m512 b3 = _mm512_loadu_ps(b + 48);
        N5_ROW(0);
        N5_ROW(1);
        N5_ROW(2);
        N5_ROW(3);
        N5_ROW(4);
        N5_ROW(5);
    }
    const __m512 va = _mm512_set1_ps(j->alpha), vb = _mm512_set1_ps(j->beta);
    const float beta = j->beta;
    float *c = j->C + i0 * ldc;
    N5_STROW(0);
    N5_STROW(1);
    N5_STROW(2);
    N5_STROW(3);
    N5_STROW(4);
    N5_STROW(5);
}

/* ---- AVX2 + FMA: MR rows x 16 columns (2 ymm per row), column chunks. */

#define N2_ROW(r)                                                   \
    do {                                                            \
        __m256 a_ = _mm256_broadcast_ss(ar##r);                     \
        c##r##0 = _mm256_fmadd_ps(a_, b0, c##r##0);                 \
        c##r##1 = _mm256_fmadd_ps(a_, b1, c##r##1);                 \
        ar##r += aks;                                               \
    } while (0)

#define N2_STROW(r)                                                        \
    do {                                                                   \
        if ((r) < mr) {                                                    \
            float t_[16];                                                  \
            _mm256_storeu_ps(t_, c##r##0);                                 \
            _mm256_storeu_ps(t_ + 8, c##r##1);                             \
            float *p_ = c + (r) * ldc + q;                                 \
            for (int64_t x_ = 0; x_ < w; x_++)                             \
                p_[x_] = finish2(t_[x_], alpha, beta, p_ + x_);            \
        }                                                                  \
    } while (0)

__attribute__((target("avx2,fma"))) static inline float finish2(float acc, float alpha, float beta, const float *c)
{
    return beta == 0.0f ? alpha * acc : fmaf(alpha, acc, beta * *c);
}

__attribute__((target("avx2,fma"))) static void narrow256_tile(const narrow_job *j, int64_t i0, int mr)
{
    const int64_t aks = j->a_ks, K = j->K, ldc = j->ldc;
    const float alpha = j->alpha, beta = j->beta;
    float *c = j->C + i0 * ldc;
    for (int64_t q = 0; q < j->N; q += 16) {
        const int64_t w = j->N - q < 16 ? j->N - q : 16;
        const float *base = j->A + i0 * j->a_rs;
        const float *ar0 = base, *ar1 = mr > 1 ? base + j->a_rs : base, *ar2 = mr > 2 ? base + 2 * j->a_rs : base;
        const float *ar3 = mr > 3 ? base + 3 * j->a_rs : base, *ar4 = mr > 4 ? base + 4 * j->a_rs : base;
        const float *ar5 = mr > 5 ? base + 5 * j->a_rs : base;
        const __m256 z = _mm256_setzero_ps();
        __m256 c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z;
        __m256 c50 = z, c51 = z;
        const float *b = j->B + q;
        for (int64_t k = 0; k < K; k++, b += NARROW_NP) {
            const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
            N2_ROW(0);
            N2_ROW(1);
            N2_ROW(2);
            N2_ROW(3);
            N2_ROW(4);
            N2_ROW(5);
        }
        N2_STROW(0);
        N2_STROW(1);
        N2_STROW(2);
        N2_STROW(3);
        N2_STROW(4);
        N2_STROW(5);
    }
}

/* ---- matrix-vector: acc[0..n) = sum_k a[k] * B[k][j0 + ..] */

__attribute__((target("avx512f"))) static void gemv512(const float *a, int64_t aks, const float *B, int64_t ldb,
                                                       int64_t K, int64_t n, float *acc)
{
    memset(acc, 0, (size_t)n * sizeof *acc);
    for (int64_t k = 0; k < K; k++) {
        const __m512 x = _mm512_set1_ps(a[k * aks]);
        const float *b = B + k * ldb;
        int64_t i = 0;
        for (; i + 64 <= n; i += 64) {
            _mm512_storeu_ps(acc + i, _mm512_fmadd_ps(x, _mm512_loadu_ps(b + i), _mm512_loadu_ps(acc + i)));
            _mm512_storeu_ps(acc + i + 16,
                             _mm512_fmadd_ps(x, _mm512_loadu_ps(b + i + 16), _mm512_loadu_ps(acc + i + 16)));
            _mm512_storeu_ps(acc + i + 32,
                             _mm512_fmadd_ps(x, _mm512_loadu_ps(b + i + 32), _mm512_loadu_ps(acc + i + 32)));
            _mm512_storeu_ps(acc + i + 48,
                             _mm512_fmadd_ps(x, _mm512_loadu_ps(b + i + 48), _mm512_loadu_ps(acc + i + 48)));
        }
        for (; i < n; i += 16) {
            const __mmask16 m = lane_mask16(n - i);
            _mm512_mask_storeu_ps(acc + i, m,
                                  _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m, b + i), _mm512_maskz_loadu_ps(m, acc + i)));
        }
    }
}

__attribute__((target("avx2,fma"))) static void gemv256(const float *a, int64_t aks, const float *B, int64_t ldb,
                                                        int64_t K, int64_t n, float *acc)
{
    memset(acc, 0, (size_t)n * sizeof *acc);
    for (int64_t k = 0; k < K; k++) {
        const float xs = a[k * aks];
        const __m256 x = _mm256_set1_ps(xs);
        const float *b = B + k * ldb;
        int64_t i = 0;
        for (; i + 32 <= n; i += 32) {
            _mm256_storeu_ps(acc + i, _mm256_fmadd_ps(x, _mm256_loadu_ps(b + i), _mm256_loadu_ps(acc + i)));
            _mm256_storeu_ps(acc + i + 8, _mm256_fmadd_ps(x, _mm256_loadu_ps(b + i + 8), _mm256_loadu_ps(acc + i + 8)));
            _mm256_storeu_ps(acc + i + 16,
                             _mm256_fmadd_ps(x, _mm256_loadu_ps(b + i + 16), _mm256_loadu_ps(acc + i + 16)));
            _mm256_storeu_ps(acc + i + 24,
                             _mm256_fmadd_ps(x, _mm256_loadu_ps(b + i + 24), _mm256_loadu_ps(acc + i + 24)));
        }
        for (; i < n; i++)
            acc[i] = fmaf(xs, b[i], acc[i]);
    }
}

#endif /* x86-64 */

static void narrow_range(void *arg, int64_t t0, int64_t t1)
{
    const narrow_job *j = arg;
    for (int64_t t = t0; t < t1; t++) {
        const int64_t i0 = t * NARROW_MR;
        const int mr = (int)(j->M - i0 < NARROW_MR ? j->M - i0 : NARROW_MR);
#if defined(__x86_64__) && defined(__GNUC__)
        if (j->isa == NT_SGEMM_AVX512)
            narrow512_tile(j, i0, mr);
        else
            narrow256_tile(j, i0, mr);
#endif
    }
}

size_t nt_sgemm_narrow_b_size(int64_t K) { return (size_t)K * NARROW_NP; }

void nt_sgemm_narrow_pack_b(bool trans_b, int64_t K, int64_t N, const float *B, int64_t ldb, float *bp)
{
    for (int64_t k = 0; k < K; k++) {
        float *d = bp + k * NARROW_NP;
        for (int64_t x = 0; x < N; x++)
            d[x] = trans_b ? B[x * ldb + k] : B[k * ldb + x];
        for (int64_t x = N; x < NARROW_NP; x++)
            d[x] = 0.0f;
    }
}

bool nt_sgemm_narrow_packed(nt_exec *exec, bool trans_a, int64_t M, int64_t N, int64_t K, float alpha,
                            const float *A, int64_t lda, const float *bp, float beta, float *C, int64_t ldc)
{
    nt_sgemm_isa isa = nt_sgemm_isa_get();
    if (isa == NT_SGEMM_NONE || M <= 0 || N <= 0 || N > NARROW_NP || K <= 0)
        return false;
    narrow_job j = {.A = A, .a_rs = trans_a ? 1 : lda, .a_ks = trans_a ? lda : 1, .B = bp, .ldb = NARROW_NP,
                    .C = C, .ldc = ldc, .M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .isa = isa};
    const int64_t tiles = (M + NARROW_MR - 1) / NARROW_MR;
    /* a tile is MR*N*K*2 flops; chunks of at least ~64k flops each */
    nt_parallel_for(exec, tiles, NT_MAX(1, 65536 / (NARROW_MR * N * K * 2 + 1)), narrow_range, &j);
    return true;
}

bool nt_sgemm_narrow(nt_exec *exec, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    if (nt_sgemm_isa_get() == NT_SGEMM_NONE || M <= 0 || N <= 0 || N > NARROW_NP || K <= 0)
        return false;
    float *bp = nt_tl_buffer(NT_TL_SGEMM_NARROW, nt_sgemm_narrow_b_size(K) * sizeof(float));
    if (!bp)
        return false;
    nt_sgemm_narrow_pack_b(trans_b, K, N, B, ldb, bp);
    return nt_sgemm_narrow_packed(exec, trans_a, M, N, K, alpha, A, lda, bp, beta, C, ldc);
}

static void gemv_range(void *arg, int64_t u0, int64_t u1)
{
    const narrow_job *j = arg;
    float acc[GEMV_CH] __attribute__((aligned(64)));
    const int64_t j1 = u1 * 64 < j->N ? u1 * 64 : j->N;
    for (int64_t i = 0; i < j->M; i++) {
        const float *a = j->A + i * j->a_rs;
        for (int64_t c0 = u0 * 64; c0 < j1; c0 += GEMV_CH) {
            const int64_t n = j1 - c0 < GEMV_CH ? j1 - c0 : GEMV_CH;
#if defined(__x86_64__) && defined(__GNUC__)
            if (j->isa == NT_SGEMM_AVX512)
                gemv512(a, j->a_ks, j->B + c0, j->ldb, j->K, n, acc);
            else
                gemv256(a, j->a_ks, j->B + c0, j->ldb, j->K, n, acc);
#endif
            float *c = j->C + i * j->ldc + c0;
            for (int64_t x = 0; x < n; x++)
                c[x] = finish(acc[x], j->alpha, j->beta, c + x);
        }
    }
}

bool nt_sgemv_rows(nt_exec *exec, bool trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                   int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    nt_sgemm_isa isa = nt_sgemm_isa_get();
    if (isa == NT_SGEMM_NONE || M <= 0 || N <= 0 || K <= 0)
        return false;
    narrow_job j = {.A = A, .a_rs = trans_a ? 1 : lda, .a_ks = trans_a ? lda : 1, .B = B, .ldb = ldb, .C = C,
                    .ldc = ldc, .M = M, .N = N, .K = K, .alpha = alpha, .beta = beta, .isa = isa};
    /* units of 64 columns; a thread's share at least 512 columns */
    nt_parallel_for(exec, (N + 63) / 64, 8, gemv_range, &j);
    return true;
}
