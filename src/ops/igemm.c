/*
 * igemm.c — the exact int16 x int16 -> int32 GEMM (see igemm.h): packing,
 * the micro-kernels per kernel set, blocking from the cache sizes, and the
 * threaded driver.
 *
 * Layout.  K is taken in pairs (an odd K gets a zero row), because the
 * vector instructions multiply two adjacent int16 and add both products
 * into one int32 lane.  A is packed into MR-row panels holding, per pair p
 * and row i, the two values a[i][2p], a[i][2p+1] as one 32-bit word (so one
 * broadcast feeds a row).  B is packed per K block into NR-column panels
 * holding, per pair and column, b[2p][j], b[2p+1][j] side by side.  Then
 * for each pair a broadcast A word times a B vector gives, in every lane j,
 * a[i][2p]*b[2p][j] + a[i][2p+1]*b[2p+1][j] (vpmaddwd, or vpdpwssd which
 * also adds it to the accumulator).  Operands lie in [-255, 255]: a pair
 * sum is at most 2*255*255, far from overflow, and int32 accumulation
 * wraps the same in any order, so all kernel sets agree to the bit.
 *
 * Loop nest: columns split into blocks over threads; per block and K block
 * B is packed (per-thread buffer), then every MR x NR tile of C accumulates
 * the block's contribution (stored on the first K block, added after).
 */
#include "ops/igemm.h"

#include <pthread.h>
#include <stdatomic.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MR_MAX 8
#define NR_MAX 32

/* ------------------------------------------------------------ dispatch */

/* Detected once (pthread_once); tests may force a lower level. */
static atomic_int g_isa;
static pthread_once_t g_isa_once = PTHREAD_ONCE_INIT;

static nt_igemm_isa detect(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni"))
        return NT_IGEMM_AVX512VNNI;
    if (__builtin_cpu_supports("avx512bw"))
        return NT_IGEMM_AVX512BW;
    if (__builtin_cpu_supports("avx2"))
        return NT_IGEMM_AVX2;
#endif
    return NT_IGEMM_C;
}

static void detect_once(void) { atomic_store(&g_isa, (int)detect()); }

nt_igemm_isa nt_igemm_isa_get(void)
{
    pthread_once(&g_isa_once, detect_once);
    return (nt_igemm_isa)atomic_load(&g_isa);
}

nt_igemm_isa nt_igemm_isa_force(nt_igemm_isa isa)
{
    nt_igemm_isa prev = nt_igemm_isa_get(), best = detect();
    atomic_store(&g_isa, (int)(isa > best ? best : isa));
    return prev;
}

/* ------------------------------------------------------------ blocking */

/* K pairs per block: an MR x KC panel of A and a KC x NR panel of B fill
 * about half of L1.  Columns per block: a KC x NC block of B fills about
 * half of L2.  Both read once from the system (sysconf), with defaults. */
void nt_igemm_cache_sizes(long *l1_bytes, long *l2_bytes)
{
    static long l1 = -1, l2 = -1;
    if (l1 < 0) {
        long a = sysconf(_SC_LEVEL1_DCACHE_SIZE), b = sysconf(_SC_LEVEL2_CACHE_SIZE);
        l2 = b >= 131072 && b <= (64L << 20) ? b : (1L << 20);
        __atomic_store_n(&l1, a >= 16384 && a <= (1L << 20) ? a : 32768, __ATOMIC_RELEASE);
    }
    *l1_bytes = __atomic_load_n(&l1, __ATOMIC_ACQUIRE);
    *l2_bytes = l2;
}

static void blocking(int mr, int nr, int64_t *kc_pairs, int64_t *nc)
{
    long l1, l2;
    nt_igemm_cache_sizes(&l1, &l2);
    int64_t kc = l1 / 2 / ((mr + nr) * 4); /* 4 bytes per pair */
    kc = kc < 32 ? 32 : kc > 1024 ? 1024 : kc;
    int64_t n = l2 / 2 / (kc * 4);
    n = n / nr * nr;
    *kc_pairs = kc;
    *nc = n < nr * 4 ? nr * 4 : n;
}

/* ------------------------------------------------------------ packing */

/* B row k, columns [j0, j0+n), into t (n values). */
static void b_row(const nt_igemm_b *b, const nt_window *w, int64_t k, int64_t j0, int64_t n, int16_t *t)
{
    if (!w) {
        memcpy(t, b->p + k * b->ld + j0, (size_t)n * sizeof *t);
        return;
    }
    const int64_t IH = w->in[0], IW = w->in[1], OW = w->out[1], KH = w->kernel[0], KW = w->kernel[1];
    const int64_t c = k / (KH * KW), kh = (k / KW) % KH, kw = k % KW, SW = w->stride[1];
    const int64_t off = kw * w->dil[1] - w->pad_begin[1];
    /* outputs ow whose tap column ow*SW + off lies in [0, IW) */
    int64_t lo = off < 0 ? (-off + SW - 1) / SW : 0, hi = IW - 1 - off < 0 ? 0 : (IW - 1 - off) / SW + 1;
    if (hi > OW)
        hi = OW;
    if (lo > hi)
        lo = hi;
    const int16_t *xc = b->x + c * IH * IW;
    int64_t oh = j0 / OW, ow = j0 % OW, done = 0;
    while (done < n) {
        int64_t seg = n - done < OW - ow ? n - done : OW - ow;
        const int64_t ih = oh * w->stride[0] - w->pad_begin[0] + kh * w->dil[0];
        int16_t *d = t + done;
        if (ih < 0 || ih >= IH) {
            memset(d, 0, (size_t)seg * sizeof *d);
        } else {
            /* [ow, ow+seg) = zeros before lo, the row's taps in [lo, hi), zeros after */
            const int16_t *xr = xc + ih * IW + off;
            int64_t a = lo < ow ? ow : lo > ow + seg ? ow + seg : lo;
            int64_t e = hi < a ? a : hi > ow + seg ? ow + seg : hi;
            memset(d, 0, (size_t)(a - ow) * sizeof *d);
            if (SW == 1)
                memcpy(d + (a - ow), xr + a, (size_t)(e - a) * sizeof *d);
            else
                for (int64_t o = a; o < e; o++)
                    d[o - ow] = xr[o * SW];
            memset(d + (e - ow), 0, (size_t)(ow + seg - e) * sizeof *d);
        }
        done += seg;
        ow += seg;
        if (ow == OW) {
            ow = 0;
            oh++;
        }
    }
}

/* Packs B rows [2*p0, 2*(p0+kp)) x columns [j0, j0+nc) into NR panels of
 * kp pairs each (columns past nc zero). t holds 2 * nc int16. */
NT_CLONES NT_VECTORIZE static void pack_b(const nt_igemm_b *b, const nt_window *w, int64_t K, int64_t p0, int64_t kp, int64_t j0,
                   int64_t nc, int nr, int16_t *t, int16_t *dst)
{
    const int64_t panels = (nc + nr - 1) / nr;
    for (int64_t p = 0; p < kp; p++) {
        int64_t k = 2 * (p0 + p);
        int16_t *t0 = t, *t1 = t + nc;
        b_row(b, w, k, j0, nc, t0);
        if (k + 1 < K)
            b_row(b, w, k + 1, j0, nc, t1);
        else
            memset(t1, 0, (size_t)nc * sizeof *t1);
        for (int64_t q = 0; q < panels; q++) {
            int16_t *restrict d = dst + (q * kp + p) * nr * 2;
            int64_t jn = nc - q * nr < nr ? nc - q * nr : nr;
            const int16_t *restrict s0 = t0 + q * nr, *restrict s1 = t1 + q * nr;
            for (int64_t j = 0; j < jn; j++) {
                d[2 * j] = s0[j];
                d[2 * j + 1] = s1[j];
            }
            for (int64_t j = jn; j < nr; j++)
                d[2 * j] = d[2 * j + 1] = 0;
        }
    }
}

/* Packs A (M, K) into MR-row panels: panel r, pair p, row i at
 * ((r * KP + p) * mr + i) as the word (a[i][2p], a[i][2p+1]). */
static void pack_a(const int16_t *A, int64_t lda, int64_t M, int64_t K, int mr, int32_t *dst)
{
    const int64_t KP = (K + 1) / 2, panels = (M + mr - 1) / mr;
    for (int64_t r = 0; r < panels; r++)
        for (int64_t p = 0; p < KP; p++)
            for (int i = 0; i < mr; i++) {
                int64_t row = r * mr + i, k = 2 * p;
                uint16_t lo = 0, hi = 0;
                if (row < M) {
                    lo = (uint16_t)A[row * lda + k];
                    hi = k + 1 < K ? (uint16_t)A[row * lda + k + 1] : 0;
                }
                dst[(r * KP + p) * mr + i] = (int32_t)((uint32_t)lo | (uint32_t)hi << 16);
            }
}

/* ------------------------------------------------------------ micro-kernels
 *
 * kern(kp, a, b, c, ldc, add): the MR x NR tile at c gets (add: plus) the
 * sum over kp pairs of a's words times b's pairs.  Full tiles only: the
 * driver stages edge tiles through a local buffer. */
typedef void (*kern_fn)(int64_t kp, const int32_t *a, const int16_t *b, int32_t *c, int64_t ldc, bool add);

static void kern_c(int64_t kp, const int32_t *a, const int16_t *b, int32_t *c, int64_t ldc, bool add)
{
    enum { MR = 4, NR = 8 };
    uint32_t acc[MR][NR] = {{0}};
    for (int64_t p = 0; p < kp; p++)
        for (int i = 0; i < MR; i++) {
            int32_t w = a[p * MR + i];
            int32_t a0 = (int16_t)(w & 0xFFFF), a1 = (int16_t)((uint32_t)w >> 16);
            for (int j = 0; j < NR; j++)
                acc[i][j] += (uint32_t)(a0 * b[(p * NR + j) * 2] + a1 * b[(p * NR + j) * 2 + 1]);
        }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++)
            c[i * ldc + j] = (int32_t)((add ? (uint32_t)c[i * ldc + j] : 0u) + acc[i][j]);
}

#if defined(__x86_64__) && defined(__GNUC__)

/* AVX-512: MR = 8 rows x NR = 32 columns (16 zmm accumulators). */
#define K512_BODY(MADD)                                                                              \
    __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;    \
    __m512i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00; \
    __m512i c70 = c00, c71 = c00;                                                                    \
    for (int64_t p = 0; p < kp; p++) {                                                               \
        const __m512i b0 = _mm512_loadu_si512(b + p * 64), b1 = _mm512_loadu_si512(b + p * 64 + 32); \
        const int32_t *ap = a + p * 8;                                                               \
        __m512i ai;                                                                                  \
        ai = _mm512_set1_epi32(ap[0]); MADD(c00, ai, b0); MADD(c01, ai, b1);                         \
        ai = _mm512_set1_epi32(ap[1]); MADD(c10, ai, b0); MADD(c11, ai, b1);                         \
        ai = _mm512_set1_epi32(ap[2]); MADD(c20, ai, b0); MADD(c21, ai, b1);                         \
        ai = _mm512_set1_epi32(ap[3]); MADD(c30, ai, b0); MADD(c31, ai, b1);                         \
        ai = _mm512_set1_epi32(ap[4]); MADD(c40, ai, b0); MADD(c41, ai, b1);                         \
        ai = _mm512_set1_epi32(ap[5]); MADD(c50, ai, b0); MADD(c51, ai, b1);                         \
        ai = _mm512_set1_epi32(ap[6]); MADD(c60, ai, b0); MADD(c61, ai, b1);                         \
        ai = _mm512_set1_epi32(ap[7]); MADD(c70, ai, b0); MADD(c71, ai, b1);                         \
    }                                                                                                \
    __m512i rows[8][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},                            \
                          {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};                           \
    for (int i = 0; i < 8; i++)                                                                      \
        for (int v = 0; v < 2; v++) {                                                                \
            int32_t *cp = c + i * ldc + 16 * v;                                                      \
            __m512i r = rows[i][v];                                                                  \
            if (add)                                                                                 \
                r = _mm512_add_epi32(r, _mm512_loadu_si512(cp));                                     \
            _mm512_storeu_si512(cp, r);                                                              \
        }

#define MADD_VNNI(acc, a, b) acc = _mm512_dpwssd_epi32(acc, a, b)
#define MADD_BW(acc, a, b) acc = _mm512_add_epi32(acc, _mm512_madd_epi16(a, b))

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void kern_vnni(int64_t kp, const int32_t *a,
                                                                             const int16_t *b, int32_t *c,
                                                                             int64_t ldc, bool add)
{
    K512_BODY(MADD_VNNI)
}

__attribute__((target("avx512f,avx512bw"))) static void kern_avx512bw(int64_t kp, const int32_t *a, const int16_t *b,
                                                                      int32_t *c, int64_t ldc, bool add)
{
    K512_BODY(MADD_BW)
}

/* AVX2: MR = 6 rows x NR = 16 columns (12 ymm accumulators). */
#define MADD_256(acc, a, b) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a, b))

__attribute__((target("avx2"))) static void kern_avx2(int64_t kp, const int32_t *a, const int16_t *b, int32_t *c,
                                                      int64_t ldc, bool add)
{
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int64_t p = 0; p < kp; p++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + p * 32));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + p * 32 + 16));
        const int32_t *ap = a + p * 6;
        __m256i ai;
        ai = _mm256_set1_epi32(ap[0]); MADD_256(c00, ai, b0); MADD_256(c01, ai, b1);
        ai = _mm256_set1_epi32(ap[1]); MADD_256(c10, ai, b0); MADD_256(c11, ai, b1);
        ai = _mm256_set1_epi32(ap[2]); MADD_256(c20, ai, b0); MADD_256(c21, ai, b1);
        ai = _mm256_set1_epi32(ap[3]); MADD_256(c30, ai, b0); MADD_256(c31, ai, b1);
        ai = _mm256_set1_epi32(ap[4]); MADD_256(c40, ai, b0); MADD_256(c41, ai, b1);
        ai = _mm256_set1_epi32(ap[5]); MADD_256(c50, ai, b0); MADD_256(c51, ai, b1);
    }
    __m256i rows[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    for (int i = 0; i < 6; i++)
        for (int v = 0; v < 2; v++) {
            int32_t *cp = c + i * ldc + 8 * v;
            __m256i r = rows[i][v];
            if (add)
                r = _mm256_add_epi32(r, _mm256_loadu_si256((const __m256i *)cp));
            _mm256_storeu_si256((__m256i *)cp, r);
        }
}

#endif

typedef struct kernel_set {
    kern_fn fn;
    int mr, nr;
} kernel_set;

static kernel_set kernel_set_of(nt_igemm_isa isa)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == NT_IGEMM_AVX512VNNI)
        return (kernel_set){kern_vnni, 8, 32};
    if (isa == NT_IGEMM_AVX512BW)
        return (kernel_set){kern_avx512bw, 8, 32};
    if (isa == NT_IGEMM_AVX2)
        return (kernel_set){kern_avx2, 6, 16};
#endif
    (void)isa;
    return (kernel_set){kern_c, 4, 8};
}

/* ------------------------------------------------------------ driver */

/* Per-thread packed-B buffer, kept for the thread's lifetime. */
static int16_t *tl_get(size_t n)
{
    return nt_tl_buffer(NT_TL_IGEMM_B, n * sizeof(int16_t));
}

typedef struct igemm_job {
    kernel_set ks;
    int64_t M, N, K, KP, kc, nc, lda, ldc;
    const int16_t *A;
    const int32_t *pa;
    const nt_igemm_b *b;
    const nt_window *w;     /* 2-D view of b->w, or NULL */
    int32_t *C;
} igemm_job;

/* Plain loops for one column block (when a buffer cannot be had). */
static void block_plain(const igemm_job *j, int64_t j0, int64_t nc, int16_t *t)
{
    for (int64_t i = 0; i < j->M; i++)
        memset(j->C + i * j->ldc + j0, 0, (size_t)nc * sizeof(int32_t));
    for (int64_t k = 0; k < j->K; k++) {
        b_row(j->b, j->w, k, j0, nc, t);
        for (int64_t i = 0; i < j->M; i++) {
            int32_t av = j->A[i * j->lda + k];
            int32_t *restrict c = j->C + i * j->ldc + j0;
            for (int64_t x = 0; x < nc; x++)
                c[x] = (int32_t)((uint32_t)c[x] + (uint32_t)(av * t[x]));
        }
    }
}

static void igemm_range(void *arg, int64_t bb, int64_t be)
{
    const igemm_job *j = arg;
    const int mr = j->ks.mr, nr = j->ks.nr;
    for (int64_t blk = bb; blk < be; blk++) {
        const int64_t j0 = blk * j->nc, nc = j->N - j0 < j->nc ? j->N - j0 : j->nc;
        const int64_t panels = (nc + nr - 1) / nr, kcap = j->kc < j->KP ? j->kc : j->KP;
        int16_t *buf = tl_get((size_t)(panels * nr * kcap * 2 + 2 * nc));
        if (!buf) {
            int16_t tmp[4096];
            for (int64_t x = j0; x < j0 + nc; x += 2048)
                block_plain(j, x, j0 + nc - x < 2048 ? j0 + nc - x : 2048, tmp);
            continue;
        }
        int16_t *t = buf + panels * nr * kcap * 2;
        for (int64_t p0 = 0; p0 < j->KP; p0 += j->kc) {
            const int64_t kp = j->KP - p0 < j->kc ? j->KP - p0 : j->kc;
            pack_b(j->b, j->w, j->K, p0, kp, j0, nc, nr, t, buf);
            for (int64_t r = 0; r * mr < j->M; r++) {
                const int32_t *a = j->pa + (r * j->KP + p0) * mr;
                const int64_t mrem = j->M - r * mr < mr ? j->M - r * mr : mr;
                for (int64_t q = 0; q < panels; q++) {
                    const int16_t *bq = buf + q * kp * nr * 2;
                    int32_t *c = j->C + r * mr * j->ldc + j0 + q * nr;
                    const int64_t nrem = nc - q * nr < nr ? nc - q * nr : nr;
                    if (mrem == mr && nrem == nr) {
                        j->ks.fn(kp, a, bq, c, j->ldc, p0 > 0);
                        continue;
                    }
                    int32_t tile[MR_MAX * NR_MAX];
                    for (int64_t i = 0; i < mrem; i++)
                        for (int64_t x = 0; x < nrem; x++)
                            tile[i * nr + x] = p0 > 0 ? c[i * j->ldc + x] : 0;
                    j->ks.fn(kp, a, bq, tile, nr, true);
                    for (int64_t i = 0; i < mrem; i++)
                        for (int64_t x = 0; x < nrem; x++)
                            c[i * j->ldc + x] = tile[i * nr + x];
                }
            }
        }
    }
}

void nt_igemm_s16(nt_exec *exec, int64_t M, int64_t N, int64_t K, const int16_t *A, int64_t lda,
                  const nt_igemm_b *b, int32_t *C, int64_t ldc)
{
    if (M <= 0 || N <= 0)
        return;
    igemm_job j = {.ks = kernel_set_of(nt_igemm_isa_get()), .M = M, .N = N, .K = K, .KP = (K + 1) / 2,
                   .lda = lda, .ldc = ldc, .A = A, .b = b, .C = C};
    nt_window w2;
    if (b->w) {
        w2 = *b->w;
        if (w2.nsp == 1) { /* a 1-D window is a 2-D one of height 1 */
            w2 = (nt_window){.nsp = 2, .in = {1, b->w->in[0]}, .out = {1, b->w->out[0]},
                             .kernel = {1, b->w->kernel[0]}, .stride = {1, b->w->stride[0]},
                             .dil = {1, b->w->dil[0]}, .pad_begin = {0, b->w->pad_begin[0]},
                             .pad_end = {0, b->w->pad_end[0]}};
        }
        j.w = &w2;
    }
    if (K <= 0) {
        for (int64_t i = 0; i < M; i++)
            memset(C + i * ldc, 0, (size_t)N * sizeof *C);
        return;
    }
    blocking(j.ks.mr, j.ks.nr, &j.kc, &j.nc);
    /* enough column blocks for every thread */
    const int threads = nt_exec_threads(exec);
    int64_t per = (N + threads - 1) / threads;
    per = (per + j.ks.nr - 1) / j.ks.nr * j.ks.nr;
    if (per < j.nc)
        j.nc = per;
    const int64_t panels = (M + j.ks.mr - 1) / j.ks.mr;
    int32_t *pa = nt_aligned_alloc((size_t)(panels * j.ks.mr * j.KP) * sizeof *pa);
    if (!pa) { /* no memory to pack: the plain loops, one block at a time */
        j.ks = kernel_set_of(NT_IGEMM_C);
        int16_t tmp[2048];
        for (int64_t x = 0; x < N; x += 2048)
            block_plain(&j, x, N - x < 2048 ? N - x : 2048, tmp);
        return;
    }
    pack_a(A, lda, M, K, j.ks.mr, pa);
    j.pa = pa;
    nt_parallel_for(exec, (N + j.nc - 1) / j.nc, 1, igemm_range, &j);
    nt_aligned_free(pa);
}
