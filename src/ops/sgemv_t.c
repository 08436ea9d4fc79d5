/*
 * sgemv_t.c — float32 products of a few rows by a transposed B: C (M,N) =
 * A (M,K) · B^T with B stored (N,K) and M < 4, as a classifier's Gemm
 * (transB = 1) runs at batch 1.  Every C element is the dot product of an
 * A row with a B row, both contiguous, so B streams once, row after row, at
 * memory speed.  OpenBLAS packed all of B for it first (EfficientNet-B0's
 * and MobileNet-V2's 1280 -> 1000 classifier: 0.83 ms against ONNX
 * Runtime's 0.35).
 *
 * Numerics: an element is 16 FMA chains, lane l over k = l, l + 16, ... in
 * increasing order from zero (k past K adds a zero product), the lanes
 * summed in a fixed tree (l + 8, + 4, + 2, + 1), then alpha * sum (beta ==
 * 0: C not read) or fma(alpha, sum, beta * C).  The AVX2 kernel keeps the
 * 16 lanes in two ymm, so AVX-512 and AVX2 give the same bits; threads
 * split columns and rows are independent, so neither the thread count nor
 * the block of rows a call covers changes them.
 */
#include "ops/gemm_util.h"
#include "ops/sgemm.h"

#include <immintrin.h>
#include <math.h>

enum { DOT_ROWS = 4, COLS_PER_UNIT = 16 };

typedef struct gemv_t_job {
    const float *A, *B;
    int64_t lda, ldb, ldc, M, N, K;
    float *C;
    float alpha, beta;
    nt_sgemm_isa isa;
} gemv_t_job;

/* The fixed lane tree of one element. */
static float lane_sum(const float *l)
{
    float s8[8], s4[4];
    for (int i = 0; i < 8; i++)
        s8[i] = l[i] + l[i + 8];
    for (int i = 0; i < 4; i++)
        s4[i] = s8[i] + s8[i + 4];
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

#if defined(__x86_64__) && defined(__GNUC__)

/* lanes[r][16] for the nb <= DOT_ROWS rows of B at b (ldb apart) against a. */
__attribute__((target("avx512f"))) static void dots512(const float *a, const float *b, int64_t ldb, int nb,
                                                       int64_t K, float lanes[DOT_ROWS][16])
{
    const __m512 z = _mm512_setzero_ps();
    __m512 c0 = z, c1 = z, c2 = z, c3 = z;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        const __m512 av = _mm512_loadu_ps(a + k);
        c0 = _mm512_fmadd_ps(av, _mm512_loadu_ps(b + k), c0);
        if (nb > 1)
            c1 = _mm512_fmadd_ps(av, _mm512_loadu_ps(b + ldb + k), c1);
        if (nb > 2)
            c2 = _mm512_fmadd_ps(av, _mm512_loadu_ps(b + 2 * ldb + k), c2);
        if (nb > 3)
            c3 = _mm512_fmadd_ps(av, _mm512_loadu_ps(b + 3 * ldb + k), c3);
    }
    if (k < K) {
        const __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
        const __m512 av = _mm512_maskz_loadu_ps(m, a + k);
        c0 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, b + k), c0);
        if (nb > 1)
            c1 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, b + ldb + k), c1);
        if (nb > 2)
            c2 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, b + 2 * ldb + k), c2);
        if (nb > 3)
            c3 = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, b + 3 * ldb + k), c3);
    }
    _mm512_storeu_ps(lanes[0], c0);
    _mm512_storeu_ps(lanes[1], c1);
    _mm512_storeu_ps(lanes[2], c2);
    _mm512_storeu_ps(lanes[3], c3);
}

#define D2_FMA(r)                                                                          \
    do {                                                                                   \
        if (nb > (r)) {                                                                    \
            const float *br = b + (r) * ldb + k;                                           \
            l##r = _mm256_fmadd_ps(alo, LOAD(br, mlo), l##r);                              \
            h##r = _mm256_fmadd_ps(ahi, LOAD(br + 8, mhi), h##r);                          \
        }                                                                                  \
    } while (0)

/* The same 16 lanes as dots512, lanes 0-7 and 8-15 in two ymm. */
__attribute__((target("avx2,fma"))) static void dots256(const float *a, const float *b, int64_t ldb, int nb,
                                                        int64_t K, float lanes[DOT_ROWS][16])
{
    const __m256 z = _mm256_setzero_ps();
    __m256 l0 = z, l1 = z, l2 = z, l3 = z, h0 = z, h1 = z, h2 = z, h3 = z;
    int64_t k = 0;
#define LOAD(p, m) _mm256_loadu_ps(p)
    for (; k + 16 <= K; k += 16) {
        const __m256 alo = _mm256_loadu_ps(a + k), ahi = _mm256_loadu_ps(a + k + 8);
        D2_FMA(0);
        D2_FMA(1);
        D2_FMA(2);
        D2_FMA(3);
    }
#undef LOAD
    if (k < K) {
        int32_t mi[16];
        for (int i = 0; i < 16; i++)
            mi[i] = k + i < K ? -1 : 0;
        const __m256i mlo = _mm256_loadu_si256((const __m256i *)mi), mhi = _mm256_loadu_si256((const __m256i *)(mi + 8));
#define LOAD(p, m) _mm256_maskload_ps((p), (m))
        const __m256 alo = LOAD(a + k, mlo), ahi = LOAD(a + k + 8, mhi);
        D2_FMA(0);
        D2_FMA(1);
        D2_FMA(2);
        D2_FMA(3);
#undef LOAD
    }
    const __m256 lo[4] = {l0, l1, l2, l3}, hi[4] = {h0, h1, h2, h3};
    for (int r = 0; r < DOT_ROWS; r++) {
        _mm256_storeu_ps(lanes[r], lo[r]);
        _mm256_storeu_ps(lanes[r] + 8, hi[r]);
    }
}

#endif /* x86-64 */

/* Column units [u0, u1) of COLS_PER_UNIT columns, every row of A. */
static void gemv_t_range(void *arg, int64_t u0, int64_t u1)
{
    const gemv_t_job *j = arg;
    const int64_t j1 = u1 * COLS_PER_UNIT < j->N ? u1 * COLS_PER_UNIT : j->N;
    float lanes[DOT_ROWS][16];
    for (int64_t i = 0; i < j->M; i++) {
        const float *a = j->A + i * j->lda;
        float *c = j->C + i * j->ldc;
        for (int64_t x = u0 * COLS_PER_UNIT; x < j1; x += DOT_ROWS) {
            const int nb = (int)(j1 - x < DOT_ROWS ? j1 - x : DOT_ROWS);
#if defined(__x86_64__) && defined(__GNUC__)
            if (j->isa == NT_SGEMM_AVX512)
                dots512(a, j->B + x * j->ldb, j->ldb, nb, j->K, lanes);
            else
                dots256(a, j->B + x * j->ldb, j->ldb, nb, j->K, lanes);
#endif
            for (int r = 0; r < nb; r++) {
                const float s = lane_sum(lanes[r]);
                c[x + r] = j->beta == 0.0f ? j->alpha * s : fmaf(j->alpha, s, j->beta * c[x + r]);
            }
        }
    }
}

bool nt_sgemv_t(nt_exec *exec, bool trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    nt_sgemm_isa isa = nt_sgemm_isa_get();
    if (isa == NT_SGEMM_NONE || M <= 0 || N <= 0 || K <= 0)
        return false;
    if (trans_a) { /* A stored (K,M): its rows are contiguous only when M == 1 and lda == 1 */
        if (M != 1 || lda != 1)
            return false;
        lda = K;
    }
    gemv_t_job j = {.A = A, .B = B, .lda = lda, .ldb = ldb, .ldc = ldc, .M = M, .N = N, .K = K, .C = C,
                    .alpha = alpha, .beta = beta, .isa = isa};
    /* a thread's share at least ~64k multiply-adds */
    nt_parallel_for(exec, (N + COLS_PER_UNIT - 1) / COLS_PER_UNIT,
                    NT_MAX(1, 65536 / (COLS_PER_UNIT * K * M + 1)), gemv_t_range, &j);
    return true;
}
