/*
 * sgemm.c — the packed SGEMM driver, its packing routines and the FMA
 * micro-kernels (see sgemm.h for the contract and the numerics).
 *
 * Loop nest (Goto's, with A packed ahead of time):
 *   for each block of NC columns           (split over threads)
 *     for each K block of at most KC_MAX
 *       pack B block (kl x nc) into NR-wide panels   (per-thread buffer, L2)
 *       for each MR-row panel of A           (kl x MR, stays in L1)
 *         for each NR-column panel of B      (streams from L2)
 *           micro-kernel: MR x NR tile of C += A panel . B panel
 * The micro-kernels keep the whole C tile in registers for the K block and
 * touch C once per block; edge tiles use masked (AVX-512) or staged (AVX2)
 * loads and stores so the packed panels can be zero-padded to full width.
 *
 * Each kernel is compiled for its own target with a function attribute; the
 * rest of the project keeps its -march=x86-64-v2 build.
 */
#include "ops/sgemm.h"
#include "ops/igemm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <immintrin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KC_MAX 256

/* ------------------------------------------------------------ dispatch */

/* Detected once (pthread_once); tests may force a lower level. */
static atomic_int g_isa;
static pthread_once_t g_isa_once = PTHREAD_ONCE_INIT;

static nt_sgemm_isa detect(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return NT_SGEMM_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return NT_SGEMM_AVX2;
#endif
    return NT_SGEMM_NONE;
}

static void detect_once(void) { atomic_store(&g_isa, (int)detect()); }

nt_sgemm_isa nt_sgemm_isa_get(void)
{
    pthread_once(&g_isa_once, detect_once);
    return (nt_sgemm_isa)atomic_load(&g_isa);
}

nt_sgemm_isa nt_sgemm_isa_force(nt_sgemm_isa isa)
{
    nt_sgemm_isa prev = nt_sgemm_isa_get(), best = detect();
    atomic_store(&g_isa, (int)(isa > best ? best : isa));
    return prev;
}

const char *nt_sgemm_isa_name(nt_sgemm_isa isa)
{
    return isa == NT_SGEMM_AVX512 ? "avx512" : isa == NT_SGEMM_AVX2 ? "avx2" : "blas";
}

/* ------------------------------------------------------------ micro-kernels
 *
 * kern(kc, a, b, c, ldc, mr, nr, alpha, beta, bias): the MR x NR tile of C
 * at c (row-major, ldc) becomes alpha * sum_k a[k*MR + i] * b[k*NR + j]
 * + beta * C (C unread when beta == 0) + bias[i] (when bias is not NULL),
 * for rows i < mr and columns j < nr.
 */
typedef void (*kern_fn)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr,
                        float alpha, float beta, const float *bias);

#if defined(__x86_64__) && defined(__GNUC__)

/* ---- AVX-512: MR = 8, NR = 48; NV = 1..3 vectors of 16 columns used. */

#define K5_ROW(i)                                                              \
    do {                                                                       \
        __m512 ai = _mm512_set1_ps(a[i]);                                      \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                            \
        if (NV > 1)                                                            \
            c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                        \
        if (NV > 2)                                                            \
            c##i##2 = _mm512_fmadd_ps(ai, b2, c##i##2);                        \
    } while (0)

#define K5_ST(p, m, v, bi)                                                                      \
    do {                                                                                        \
        __m512 r_;                                                                              \
        if (beta == 0.0f) {                                                                     \
            r_ = bias ? _mm512_fmadd_ps(va, (v), (bi)) : _mm512_mul_ps(va, (v));                \
        } else {                                                                                \
            __m512 o_ = _mm512_mul_ps(vb, _mm512_maskz_loadu_ps((m), (p)));                     \
            r_ = _mm512_fmadd_ps(va, (v), bias ? _mm512_add_ps(o_, (bi)) : o_);                 \
        }                                                                                       \
        _mm512_mask_storeu_ps((p), (m), r_);                                                    \
    } while (0)

#define K5_STROW(i)                                \
    do {                                           \
        if (i < mr) {                              \
            float *cr = c + (i) * ldc;             \
            __m512 bi = _mm512_set1_ps(bias ? bias[i] : 0.0f); \
            K5_ST(cr, m0, c##i##0, bi);            \
            if (NV > 1)                            \
                K5_ST(cr + 16, m1, c##i##1, bi);   \
            if (NV > 2)                            \
                K5_ST(cr + 32, m2, c##i##2, bi);   \
        }                                          \
    } while (0)

static inline __attribute__((always_inline)) __mmask16 lane_mask(int n)
{
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

#define NT_DEFINE_K512(NAME, NV_)                                                                           \
    __attribute__((target("avx512f"))) static void NAME(int64_t kc, const float *restrict a,               \
                                                        const float *restrict b, float *c, int64_t ldc,    \
                                                        int mr, int nr, float alpha, float beta,           \
                                                        const float *bias)                                 \
    {                                                                                                       \
        enum { NV = NV_ };                                                                                  \
        const __m512 z = _mm512_setzero_ps();                                                               \
        __m512 c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z;             \
        __m512 c30 = z, c31 = z, c32 = z, c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z;             \
        __m512 c60 = z, c61 = z, c62 = z, c70 = z, c71 = z, c72 = z;                                        \
        for (int64_t k = 0; k < kc; k++, a += 8, b += 48) {                                                 \
            __m512 b0 = _mm512_loadu_ps(b);                                                                 \
            __m512 b1 = NV > 1 ? _mm512_loadu_ps(b + 16) : z;                                               \
            __m512 b2 = NV > 2 ? _mm512_loadu_ps(b + 32) : z;                                               \
            K5_ROW(0);                                                                                      \
            K5_ROW(1);                                                                                      \
            K5_ROW(2);                                                                                      \
            K5_ROW(3);                                                                                      \
            K5_ROW(4);                                                                                      \
            K5_ROW(5);                                                                                      \
            K5_ROW(6);                                                                                      \
            K5_ROW(7);                                                                                      \
        }                                                                                                   \
        const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                                 \
        const __mmask16 m0 = lane_mask(nr), m1 = lane_mask(nr - 16), m2 = lane_mask(nr - 32);               \
        (void)m1;                                                                                           \
        (void)m2;                                                                                           \
        K5_STROW(0);                                                                                        \
        K5_STROW(1);                                                                                        \
        K5_STROW(2);                                                                                        \
        K5_STROW(3);                                                                                        \
        K5_STROW(4);                                                                                        \
        K5_STROW(5);                                                                                        \
        K5_STROW(6);                                                                                        \
        K5_STROW(7);                                                                                        \
    }

NT_DEFINE_K512(k512_1, 1)
NT_DEFINE_K512(k512_2, 2)
NT_DEFINE_K512(k512_3, 3)

static void k512(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int mr, int nr, float alpha,
                 float beta, const float *bias)
{
    if (nr > 32)
        k512_3(kc, a, b, c, ldc, mr, nr, alpha, beta, bias);
    else if (nr > 16)
        k512_2(kc, a, b, c, ldc, mr, nr, alpha, beta, bias);
    else
        k512_1(kc, a, b, c, ldc, mr, nr, alpha, beta, bias);
}

/* ---- AVX-512 set, narrow edge: a column block ending in a panel of at most
 * NARROW_NR columns (N = 49: 48 + 1) would cost a full 8 x 16 tile per 8 rows
 * for one useful column, its FMA chains latency-bound.  Here up to 4 row
 * panels (32 rows) go at once, one ymm of 8 rows per panel and column.
 * Same sums: each C element is still one chain of FMAs over k in increasing
 * order, and the store is K5_ST's formula lane by lane. */
#define NARROW_NR 4

#define KN_FMA(p, j)                                                                         \
    do {                                                                                     \
        if (NP > (p) && nr > (j))                                                            \
            c##p##j = _mm256_fmadd_ps(a##p, _mm256_broadcast_ss(b + (j)), c##p##j);          \
    } while (0)
#define KN_COL(j) KN_FMA(0, j); KN_FMA(1, j); KN_FMA(2, j); KN_FMA(3, j)

/* Column j of row panel p: rows row0 .. row0+7 (those below M) of C. */
static inline __attribute__((always_inline, target("avx2,fma"))) void kn_store(__m256 v, float *c, int64_t ldc,
                                                                              int64_t rows, float alpha,
                                                                              float beta, const float *bias)
{
    float old[8] = {0}, bv[8] = {0}, out[8];
    for (int64_t r = 0; r < rows; r++) {
        if (beta != 0.0f)
            old[r] = c[r * ldc];
        if (bias)
            bv[r] = bias[r];
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), bi = _mm256_loadu_ps(bv);
    __m256 res;
    if (beta == 0.0f) {
        res = bias ? _mm256_fmadd_ps(va, v, bi) : _mm256_mul_ps(va, v);
    } else {
        __m256 o = _mm256_mul_ps(vb, _mm256_loadu_ps(old));
        res = _mm256_fmadd_ps(va, v, bias ? _mm256_add_ps(o, bi) : o);
    }
    _mm256_storeu_ps(out, res);
    for (int64_t r = 0; r < rows; r++)
        c[r * ldc] = out[r];
}

static inline __attribute__((always_inline, target("avx2,fma"))) void
kn_tile(const int NP, int64_t kc, const float *a, int64_t astride, const float *b, int64_t bstride, float *c,
        int64_t ldc, int64_t M, int nr, float alpha, float beta, const float *bias)
{
    const __m256 z = _mm256_setzero_ps();
    __m256 c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
    __m256 c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
    for (int64_t k = 0; k < kc; k++, a += 8, b += bstride) {
        const __m256 a0 = _mm256_loadu_ps(a);
        const __m256 a1 = NP > 1 ? _mm256_loadu_ps(a + astride) : z;
        const __m256 a2 = NP > 2 ? _mm256_loadu_ps(a + 2 * astride) : z;
        const __m256 a3 = NP > 3 ? _mm256_loadu_ps(a + 3 * astride) : z;
        KN_COL(0);
        KN_COL(1);
        KN_COL(2);
        KN_COL(3);
    }
    const __m256 acc[4][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23},
                              {c30, c31, c32, c33}};
    for (int p = 0; p < NP; p++) {
        const int64_t rows = M - 8 * p < 8 ? M - 8 * p : 8;
        for (int j = 0; j < nr; j++)
            kn_store(acc[p][j], c + 8 * p * ldc + j, ldc, rows, alpha, beta, bias ? bias + 8 * p : NULL);
    }
}

/* Rows [0, M) (A packed in 8-row panels of kc values each) times the nr <=
 * NARROW_NR columns of one B panel (NR = 48 wide). */
__attribute__((target("avx2,fma"))) static void k512_narrow(int64_t kc, const float *a, int64_t M, const float *b,
                                                            float *c, int64_t ldc, int nr, float alpha, float beta,
                                                            const float *bias)
{
    const int64_t astride = 8 * kc;
    for (int64_t i0 = 0; i0 < M; i0 += 32) {
        const int64_t rows = M - i0 < 32 ? M - i0 : 32;
        const float *ap = a + (i0 / 8) * astride, *bi = bias ? bias + i0 : NULL;
        float *cp = c + i0 * ldc;
        switch ((rows + 7) / 8) {
        case 4: kn_tile(4, kc, ap, astride, b, 48, cp, ldc, rows, nr, alpha, beta, bi); break;
        case 3: kn_tile(3, kc, ap, astride, b, 48, cp, ldc, rows, nr, alpha, beta, bi); break;
        case 2: kn_tile(2, kc, ap, astride, b, 48, cp, ldc, rows, nr, alpha, beta, bi); break;
        default: kn_tile(1, kc, ap, astride, b, 48, cp, ldc, rows, nr, alpha, beta, bi); break;
        }
    }
}

/* ---- AVX2 + FMA: MR = 6, NR = 16 (two ymm per row). */

#define K2_ROW(i)                                                              \
    do {                                                                       \
        __m256 ai = _mm256_broadcast_ss(a + (i));                              \
        c##i##0 = _mm256_fmadd_ps(ai, b0, c##i##0);                            \
        c##i##1 = _mm256_fmadd_ps(ai, b1, c##i##1);                            \
    } while (0)

/* Row i of the tile: full rows go straight to C, partial ones through a
 * staging row so both use the same formula. */
#define K2_STROW(i)                                                                            \
    do {                                                                                       \
        if (i < mr) {                                                                          \
            float *cr = c + (i) * ldc, t[16];                                                  \
            float *p = nr == 16 ? cr : t;                                                      \
            if (p == t && beta != 0.0f)                                                        \
                for (int j = 0; j < nr; j++)                                                   \
                    t[j] = cr[j];                                                              \
            __m256 r0, r1, bi = _mm256_set1_ps(bias ? bias[i] : 0.0f);                         \
            if (beta != 0.0f) {                                                                \
                __m256 o0 = _mm256_mul_ps(vb, _mm256_loadu_ps(p));                             \
                __m256 o1 = _mm256_mul_ps(vb, _mm256_loadu_ps(p + 8));                         \
                if (bias) {                                                                    \
                    o0 = _mm256_add_ps(o0, bi);                                                \
                    o1 = _mm256_add_ps(o1, bi);                                                \
                }                                                                              \
                r0 = _mm256_fmadd_ps(va, c##i##0, o0);                                         \
                r1 = _mm256_fmadd_ps(va, c##i##1, o1);                                         \
            } else if (bias) {                                                                 \
                r0 = _mm256_fmadd_ps(va, c##i##0, bi);                                         \
                r1 = _mm256_fmadd_ps(va, c##i##1, bi);                                         \
            } else {                                                                           \
                r0 = _mm256_mul_ps(va, c##i##0);                                               \
                r1 = _mm256_mul_ps(va, c##i##1);                                               \
            }                                                                                  \
            _mm256_storeu_ps(p, r0);                                                           \
            _mm256_storeu_ps(p + 8, r1);                                                       \
            if (p == t)                                                                        \
                for (int j = 0; j < nr; j++)                                                   \
                    cr[j] = t[j];                                                              \
        }                                                                                      \
    } while (0)

__attribute__((target("avx2,fma"))) static void k256(int64_t kc, const float *restrict a, const float *restrict b,
                                                     float *c, int64_t ldc, int mr, int nr, float alpha, float beta,
                                                     const float *bias)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t k = 0; k < kc; k++, a += 6, b += 16) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        K2_ROW(0);
        K2_ROW(1);
        K2_ROW(2);
        K2_ROW(3);
        K2_ROW(4);
        K2_ROW(5);
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    K2_STROW(0);
    K2_STROW(1);
    K2_STROW(2);
    K2_STROW(3);
    K2_STROW(4);
    K2_STROW(5);
}

#endif /* x86-64 */

typedef struct kernel_set {
    int mr, nr, nc;         /* tile and column block */
    kern_fn fn;
} kernel_set;

/* Columns per block: a KC_MAX x NC block of packed B fills about half of
 * L2 (read at run time: 2 MB on Sapphire Rapids gives 1008 columns, 1 MB on
 * Zen 4 480), in whole NR panels.  Only the column block comes from the
 * cache sizes: KC_MAX fixes each element's summation order, so results do
 * not change from one machine to another of the same instruction set. */
static int column_block_of_l2(int nr)
{
    long l1, l2;
    nt_igemm_cache_sizes(&l1, &l2);
    long nc = l2 / 2 / (KC_MAX * (long)sizeof(float)) / nr * nr;
    return (int)(nc < 4 * nr ? 4 * nr : nc > 48 * nr ? 48 * nr : nc);
}

static bool kernel_of(nt_sgemm_isa isa, kernel_set *ks)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == NT_SGEMM_AVX512) {
        *ks = (kernel_set){8, 48, column_block_of_l2(48), k512};
        return true;
    }
    if (isa == NT_SGEMM_AVX2) {
        *ks = (kernel_set){6, 16, column_block_of_l2(16), k256};
        return true;
    }
#endif
    (void)isa;
    return false;
}

/* ------------------------------------------------------------ packing */

/* K splits into equal blocks of at most KC_MAX: block length kc (the last
 * one shorter). */
static int64_t k_block(int64_t K)
{
    int64_t nb = (K + KC_MAX - 1) / KC_MAX;
    if (nb < 1)
        nb = 1;
    return (K + nb - 1) / nb;
}

static int64_t round_up(int64_t v, int64_t m)
{
    return (v + m - 1) / m * m;
}

/* Layout: the K block starting at k0 (length kl) lives at k0 * Mp; in it,
 * panel i (rows i*MR ..) at i * MR * kl, as kl groups of MR values. */
nt_status nt_sgemm_pack_a(nt_sgemm_pa *pa, nt_sgemm_isa isa, bool trans, int64_t M, int64_t K, const float *A,
                          int64_t lda)
{
    kernel_set ks;
    if (!kernel_of(isa, &ks))
        return nt_error(NT_ERR_UNSUPPORTED, "sgemm: no kernel set %d", (int)isa);
    const int64_t MR = ks.mr, Mp = round_up(M, MR), kc = k_block(K);
    size_t need;
    if (!nt_mul_size((size_t)Mp, (size_t)(K > 0 ? K : 1), &need) || need > SIZE_MAX / sizeof(float))
        return nt_error(NT_ERR_NOMEM, "sgemm: packed A of %lld x %lld is too large", (long long)M, (long long)K);
    if (pa->cap < need) {
        nt_aligned_free(pa->p);
        pa->cap = 0;
        pa->p = nt_aligned_alloc(need * sizeof(float));
        if (!pa->p)
            return nt_error(NT_ERR_NOMEM, "sgemm: no memory for packed A (%lld x %lld)", (long long)M,
                            (long long)K);
        pa->cap = need;
    }
    pa->M = M;
    pa->K = K;
    pa->isa = isa;
    pa->src = A;
    for (int64_t k0 = 0; k0 < K; k0 += kc) {
        const int64_t kl = K - k0 < kc ? K - k0 : kc;
        for (int64_t i0 = 0; i0 < Mp; i0 += MR) {
            float *d = pa->p + k0 * Mp + i0 * kl;
            for (int64_t r = 0; r < MR; r++) {
                const int64_t row = i0 + r;
                if (row >= M) {
                    for (int64_t k = 0; k < kl; k++)
                        d[k * MR + r] = 0.0f;
                } else if (trans) {
                    for (int64_t k = 0; k < kl; k++)
                        d[k * MR + r] = A[(k0 + k) * lda + row];
                } else {
                    const float *src = A + row * lda + k0;
                    for (int64_t k = 0; k < kl; k++)
                        d[k * MR + r] = src[k];
                }
            }
        }
    }
    return NT_OK;
}

void nt_sgemm_b_layout(nt_sgemm_isa isa, int64_t K, int *nr, int64_t *kc)
{
    kernel_set ks;
    *nr = kernel_of(isa, &ks) ? ks.nr : 1;
    *kc = k_block(K);
}

size_t nt_sgemm_b_size(nt_sgemm_isa isa, int64_t K, int64_t N)
{
    int nr;
    int64_t kc;
    nt_sgemm_b_layout(isa, K, &nr, &kc);
    return (size_t)(K * round_up(N, nr));
}

void nt_sgemm_pa_free(nt_sgemm_pa *pa)
{
    nt_aligned_free(pa->p);
    memset(pa, 0, sizeof *pa);
}

/* Packs rows [k0, k0+kl) and columns [j0, j0+nc) of a dense B into NR-wide
 * panels: panel q at dst + q*kl*NR holds kl rows of NR values (zero beyond
 * the last column). */
static void pack_b_dense(const nt_sgemm_b *b, int64_t k0, int64_t kl, int64_t j0, int64_t nc, int NR, float *dst)
{
    for (int64_t q0 = 0; q0 < nc; q0 += NR) {
        const int64_t w = nc - q0 < NR ? nc - q0 : NR;
        float *d = dst + (q0 / NR) * kl * NR;
        if (!b->trans) {
            const float *src = b->p + k0 * b->ld + j0 + q0;
            for (int64_t k = 0; k < kl; k++, d += NR, src += b->ld) {
                memcpy(d, src, (size_t)w * sizeof(float));
                for (int64_t j = w; j < NR; j++)
                    d[j] = 0.0f;
            }
        } else {
            /* B stored (N,K): each source row is one column of the panel. */
            for (int64_t j = 0; j < NR; j++) {
                if (j >= w) {
                    for (int64_t k = 0; k < kl; k++)
                        d[k * NR + j] = 0.0f;
                    continue;
                }
                const float *src = b->p + (j0 + q0 + j) * b->ld + k0;
                for (int64_t k = 0; k < kl; k++)
                    d[k * NR + j] = src[k];
            }
        }
    }
}

/* Writes the n values of output positions ow .. ow+n-1 along one output row
 * for one tap: xr is the input row (NULL when it lies in the padding), off
 * the tap's column offset, [lo, hi) the outputs whose tap is inside. */
static inline __attribute__((always_inline)) void tap_run(float *restrict d, const float *restrict xr, int64_t ow, int64_t n, int64_t SW,
                                 int64_t off, int64_t lo, int64_t hi)
{
    if (!xr) {
        for (int64_t i = 0; i < n; i++)
            d[i] = 0.0f;
        return;
    }
    int64_t a = ow, e = ow + n, ca = a > lo ? a : lo, ce = e < hi ? e : hi;
    if (ce < ca)
        ce = ca;
    for (int64_t o = a; o < ca && o < e; o++)
        d[o - a] = 0.0f;
    if (SW == 1) {
        const float *s = xr + off;
        for (int64_t o = ca; o < ce; o++)
            d[o - a] = s[o];
    } else if (SW == 2) {
        /* A constant stride lets gcc vectorize with even/odd shuffles. */
        const float *s = xr + off;
        for (int64_t o = ca; o < ce; o++)
            d[o - a] = s[2 * o];
    } else {
        for (int64_t o = ca; o < ce; o++)
            d[o - a] = xr[o * SW + off];
    }
    for (int64_t o = ce > a ? ce : a; o < e; o++)
        d[o - a] = 0.0f;
}

/* The same panels as pack_b_dense for the im2col view of x through a 2-D
 * window: row k = (c, kh, kw), column j = (oh, ow). */
NT_CLONES NT_VECTORIZE static void pack_b_im2col(const nt_sgemm_b *b, int64_t k0, int64_t kl, int64_t j0, int64_t nc, int NR, float *dst)
{
    const nt_window *w = b->w;
    const int64_t IH = w->in[0], IW = w->in[1], OW = w->out[1];
    const int64_t KH = w->kernel[0], KW = w->kernel[1], KK = KH * KW;
    const int64_t SH = w->stride[0], SW = w->stride[1], DH = w->dil[0], DW = w->dil[1];
    const int64_t PT = w->pad_begin[0], PL = w->pad_begin[1];
    const int64_t pstride = kl * NR;
    for (int64_t k = 0; k < kl; k++) {
        const int64_t kk = k0 + k, c = kk / KK, kh = (kk % KK) / KW, kw = kk % KW;
        const float *xc = b->x + c * IH * IW;
        const int64_t off = kw * DW - PL;
        /* Outputs along a row whose tap column lies inside [0, IW). */
        int64_t lo = off < 0 ? (-off + SW - 1) / SW : 0;
        int64_t hi = IW - 1 - off < 0 ? 0 : (IW - 1 - off) / SW + 1;
        if (hi > OW)
            hi = OW;
        if (lo > hi)
            lo = hi;
        float *drow = dst + k * NR;
        int64_t j = j0, end = j0 + nc, oh = j0 / OW, ow = j0 % OW, q = 0, lane = 0;
        while (j < end) {
            int64_t seg = end - j < OW - ow ? end - j : OW - ow;
            const int64_t ih = oh * SH - PT + kh * DH;
            const float *xr = ih >= 0 && ih < IH ? xc + ih * IW : NULL;
            while (seg > 0) {
                int64_t n = seg < NR - lane ? seg : NR - lane;
                tap_run(drow + q * pstride + lane, xr, ow, n, SW, off, lo, hi);
                lane += n;
                if (lane == NR) {
                    lane = 0;
                    q++;
                }
                ow += n;
                seg -= n;
                j += n;
            }
            if (ow == OW) {
                ow = 0;
                oh++;
            }
        }
        if (lane > 0)
            for (int64_t l = lane; l < NR; l++)
                drow[q * pstride + l] = 0.0f;
    }
}

/* ------------------------------------------------------------ driver */

/* A per-thread buffer that grows and is kept for the thread's lifetime
 * (pool threads live as long as their session; the main thread's buffer is
 * reused by every call). */
static float *tl_b_get(size_t n)
{
    return nt_tl_buffer(NT_TL_SGEMM_B, n * sizeof(float));
}

/* Element (k, j) of an unpacked B (packed ones never need the fallback). */
static float b_at(const nt_sgemm_b *b, int64_t k, int64_t j)
{
    if (!b->w)
        return b->trans ? b->p[j * b->ld + k] : b->p[k * b->ld + j];
    const nt_window *w = b->w;
    const int64_t KK = w->kernel[0] * w->kernel[1], c = k / KK, kh = (k % KK) / w->kernel[1];
    const int64_t kw = k % w->kernel[1], oh = j / w->out[1], ow = j % w->out[1];
    const int64_t ih = oh * w->stride[0] - w->pad_begin[0] + kh * w->dil[0];
    const int64_t iw = ow * w->stride[1] - w->pad_begin[1] + kw * w->dil[1];
    if (ih < 0 || ih >= w->in[0] || iw < 0 || iw >= w->in[1])
        return 0.0f;
    return b->x[(c * w->in[0] + ih) * w->in[1] + iw];
}

typedef struct sgemm_job {
    const nt_sgemm_pa *pa;
    const nt_sgemm_b *b;
    kernel_set ks;
    int64_t N, ldc;
    float alpha, beta, *C;
    const float *bias;
    const nt_sgemm_epi *epi;
} sgemm_job;

/* Columns [j0, j1) without a packing buffer (only when memory ran out):
 * the same sums in the same order, one element at a time. */
static void naive_range(const sgemm_job *jb, int64_t j0, int64_t j1)
{
    const nt_sgemm_pa *pa = jb->pa;
    const int64_t M = pa->M, K = pa->K, MR = jb->ks.mr, Mp = round_up(M, MR), kc = k_block(K);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = j0; j < j1; j++) {
            float *c = jb->C + i * jb->ldc + j;
            for (int64_t k0 = 0; k0 < K; k0 += kc) {
                const int64_t kl = K - k0 < kc ? K - k0 : kc;
                const float *ap = pa->p + k0 * Mp + (i / MR) * MR * kl + i % MR;
                float acc = 0.0f;
                for (int64_t k = 0; k < kl; k++)
                    acc = fmaf(ap[k * MR], b_at(jb->b, k0 + k, j), acc);
                const float beta = k0 == 0 ? jb->beta : 1.0f;
                const bool add_bias = k0 == 0 && jb->bias;
                if (beta == 0.0f)
                    *c = add_bias ? fmaf(jb->alpha, acc, jb->bias[i]) : jb->alpha * acc;
                else
                    *c = fmaf(jb->alpha, acc, add_bias ? beta * *c + jb->bias[i] : beta * *c);
            }
        }
}

/* The column block for this call.  Threads take whole blocks, so with the
 * kernel set's block a small N leaves threads idle (N = 384: one block, one
 * busy thread) or uneven (N = 768: 480 + 288).  With more than one thread the
 * blocks are made a multiple of the thread count and equal, in whole NR
 * panels.  Each element's sum is the same whatever the block: the results do
 * not depend on it. */
static int64_t column_block(nt_exec *exec, const kernel_set *ks, int64_t N)
{
    const int64_t T = nt_exec_threads(exec);
    if (T <= 1)
        return ks->nc;
    int64_t blocks = (N + ks->nc - 1) / ks->nc;
    blocks = (blocks + T - 1) / T * T;
    return round_up((N + blocks - 1) / blocks, ks->nr);
}

/* Column blocks [jb0, jb1) of NC columns. */
static void sgemm_range(void *arg, int64_t jb0, int64_t jb1)
{
    sgemm_job *jb = arg;
    const nt_sgemm_pa *pa = jb->pa;
    const int64_t M = pa->M, K = pa->K, MR = jb->ks.mr, NR = jb->ks.nr, NC = jb->ks.nc;
    const int64_t Mp = round_up(M, MR), kc = k_block(K);
    float *buf = jb->b->packed ? NULL : tl_b_get((size_t)(kc * NC));
    if (!buf && !jb->b->packed) {
        naive_range(jb, jb0 * NC, jb1 * NC < jb->N ? jb1 * NC : jb->N);
        if (jb->epi)
            jb->epi->fn(jb->epi->arg, jb->C, jb->ldc, M, jb0 * NC, jb1 * NC < jb->N ? jb1 * NC : jb->N);
        return;
    }
    for (int64_t blk = jb0; blk < jb1; blk++) {
        const int64_t j0 = blk * NC, nc = jb->N - j0 < NC ? jb->N - j0 : NC;
        for (int64_t k0 = 0; k0 < K; k0 += kc) {
            const int64_t kl = K - k0 < kc ? K - k0 : kc;
            const float *bp = buf;
            if (jb->b->packed)
                bp = jb->b->p + k0 * round_up(jb->N, NR) + j0 * kl;
            else if (jb->b->w)
                pack_b_im2col(jb->b, k0, kl, j0, nc, (int)NR, buf);
            else
                pack_b_dense(jb->b, k0, kl, j0, nc, (int)NR, buf);
            const float beta = k0 == 0 ? jb->beta : 1.0f;
            /* a last panel of at most NARROW_NR columns goes to the narrow kernel (AVX-512 set) */
            int64_t qn = nc;
#if defined(__x86_64__) && defined(__GNUC__)
            if (jb->ks.fn == k512 && nc % NR != 0 && nc % NR <= NARROW_NR)
                qn = nc - nc % NR;
#endif
            for (int64_t i0 = 0; i0 < M; i0 += MR) {
                const float *ap = pa->p + k0 * Mp + i0 * kl;
                const int mr = (int)(M - i0 < MR ? M - i0 : MR);
                float *crow = jb->C + i0 * jb->ldc + j0;
                for (int64_t q0 = 0; q0 < qn; q0 += NR) {
                    const int nr = (int)(nc - q0 < NR ? nc - q0 : NR);
                    jb->ks.fn(kl, ap, bp + (q0 / NR) * kl * NR, crow + q0, jb->ldc, mr, nr, jb->alpha, beta,
                              k0 == 0 && jb->bias ? jb->bias + i0 : NULL);
                }
            }
#if defined(__x86_64__) && defined(__GNUC__)
            if (qn < nc)
                k512_narrow(kl, pa->p + k0 * Mp, M, bp + (qn / NR) * kl * NR, jb->C + j0 + qn, jb->ldc,
                            (int)(nc - qn), jb->alpha, beta, k0 == 0 ? jb->bias : NULL);
#endif
        }
        if (jb->epi)
            jb->epi->fn(jb->epi->arg, jb->C, jb->ldc, M, j0, j0 + nc);
    }
}

nt_status nt_sgemm(nt_exec *exec, const nt_sgemm_pa *pa, int64_t N, const nt_sgemm_b *b, float alpha, float beta,
                   const float *bias, float *C, int64_t ldc)
{
    return nt_sgemm_ex(exec, pa, N, b, alpha, beta, bias, C, ldc, NULL);
}

nt_status nt_sgemm_ex(nt_exec *exec, const nt_sgemm_pa *pa, int64_t N, const nt_sgemm_b *b, float alpha,
                      float beta, const float *bias, float *C, int64_t ldc, const nt_sgemm_epi *epi)
{
    sgemm_job jb = {.pa = pa, .b = b, .N = N, .ldc = ldc, .alpha = alpha, .beta = beta, .C = C, .bias = bias,
                    .epi = epi};
    if (!kernel_of(pa->isa, &jb.ks))
        return nt_error(NT_ERR_UNSUPPORTED, "sgemm: A packed for no kernel set");
    if (pa->M <= 0 || N <= 0)
        return NT_OK;
    if (pa->K <= 0) {
        for (int64_t i = 0; i < pa->M; i++)
            for (int64_t j = 0; j < N; j++)
                C[i * ldc + j] = (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]) + (bias ? bias[i] : 0.0f);
        if (epi)
            epi->fn(epi->arg, C, ldc, pa->M, 0, N);
        return NT_OK;
    }
    jb.ks.nc = (int)column_block(exec, &jb.ks, N);
    nt_parallel_for(exec, (N + jb.ks.nc - 1) / jb.ks.nc, 1, sgemm_range, &jb);
    return NT_OK;
}

static _Thread_local nt_sgemm_pa tl_pa;

bool nt_sgemm_dense(nt_exec *exec, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    nt_sgemm_isa isa = nt_sgemm_isa_get();
    if (isa == NT_SGEMM_NONE || M <= 0 || N <= 0 || K <= 0)
        return false;
    if (nt_sgemm_pack_a(&tl_pa, isa, trans_a, M, K, A, lda) != NT_OK)
        return false;
    nt_sgemm_b b = {.p = B, .ld = ldb, .trans = trans_b};
    return nt_sgemm(exec, &tl_pa, N, &b, alpha, beta, NULL, C, ldc) == NT_OK;
}

void nt_sgemm_pack_b(nt_sgemm_isa isa, bool trans, int64_t K, int64_t N, const float *B, int64_t ldb, float *dst)
{
    int nr;
    int64_t kc;
    nt_sgemm_b_layout(isa, K, &nr, &kc);
    const nt_sgemm_b b = {.p = B, .ld = ldb, .trans = trans};
    const int64_t Np = round_up(N, nr);
    for (int64_t k0 = 0; k0 < K; k0 += kc)
        pack_b_dense(&b, k0, K - k0 < kc ? K - k0 : kc, 0, N, nr, dst + k0 * Np);
}

bool nt_sgemm_dense_packed_b(bool trans_a, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                             int64_t lda, const float *bp, float beta, float *C, int64_t ldc)
{
    nt_sgemm_isa isa = nt_sgemm_isa_get();
    kernel_set ks;
    if (isa == NT_SGEMM_NONE || M <= 0 || N <= 0 || K <= 0 || !kernel_of(isa, &ks))
        return false;
    /* A packed into a keyed per-thread buffer: pool workers call this, and
     * their buffers must go when they exit */
    const size_t need = (size_t)round_up(M, ks.mr) * (size_t)K;
    nt_sgemm_pa pa = {.p = nt_tl_buffer(NT_TL_SGEMM_A, need * sizeof(float)), .cap = need};
    if (!pa.p || nt_sgemm_pack_a(&pa, isa, trans_a, M, K, A, lda) != NT_OK)
        return false;
    nt_sgemm_b b = {.p = bp, .packed = true};
    return nt_sgemm(NULL, &pa, N, &b, alpha, beta, NULL, C, ldc) == NT_OK;
}
