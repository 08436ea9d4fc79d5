/*
 * tstats_simd.c — the block kernels of the float32 statistics scan
 * (tstats_simd.h): portable C, AVX2 and AVX-512, chosen once at run time.
 *
 * The moments cost about as much as the element-wise ops of the model they
 * trace, so the vector versions are written with intrinsics: min and max
 * are single instructions (minps(v, m) is exactly "v < m ? v : m"), counts
 * are a compare and a masked subtract (AVX-512) or a compare and a
 * subtract of the all-ones mask (AVX2).  Generic vector code that is
 * 16 lanes wide compiled for AVX2 came out scalarised (about 40
 * instructions per element under callgrind); these are 1-2.
 *
 * Same bits everywhere (tstats_simd.h): each version keeps the 32 lanes
 * apart, stores them into the same 32-float arrays and leaves the folding
 * in a fixed order to fold_lanes.  No a*b+c is contracted into an FMA
 * (ISO C mode, and the intrinsics say mul then add).
 */
#include "trace/tstats_simd.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NT_TSTATS_X86 1
#endif

enum { LANES = 32, KEYS = NT_TSTATS_KEYS, TABLE = NT_TSTATS_TABLE };

/* What the lane loops leave: per-lane float sums, squares, min and max,
 * and the counts (integers, added in any order). */
typedef struct lane_sums {
    float sum[LANES], sq[LANES], mn[LANES], mx[LANES];
    int64_t zeros, neg;
} lane_sums;

/* Folds the lanes (the fixed order of tstats_simd.h), then the tail
 * p[full..m) in double. */
static void fold_lanes(const lane_sums *L, bool any_lanes, const float *p, int64_t full, int64_t m,
                       nt_block_moments *out)
{
    double sum = 0, sq = 0;
    float mn = INFINITY, mx = -INFINITY;
    int64_t zeros = L->zeros, neg = L->neg;
    if (any_lanes)
        for (int l = 0; l < LANES / 2; l++) {
            sum += (double)L->sum[l];
            sum += (double)L->sum[l + LANES / 2];
            sq += (double)L->sq[l];
            sq += (double)L->sq[l + LANES / 2];
            mn = L->mn[l] < mn ? L->mn[l] : mn;
            mn = L->mn[l + LANES / 2] < mn ? L->mn[l + LANES / 2] : mn;
            mx = L->mx[l] > mx ? L->mx[l] : mx;
            mx = L->mx[l + LANES / 2] > mx ? L->mx[l + LANES / 2] : mx;
        }
    for (int64_t i = full; i < m; i++) {
        float v = p[i];
        zeros += v == 0.0f;
        neg += v < 0.0f;
        sum += v;
        sq += (double)v * v;
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
    }
    *out = (nt_block_moments){sum, sq, mn, mx, zeros, neg};
}

/* ------------------------------------------------------------ portable */

static void moments_c(const float *p, int64_t m, nt_block_moments *out)
{
    lane_sums L;
    for (int l = 0; l < LANES; l++) {
        L.sum[l] = L.sq[l] = 0;
        L.mn[l] = INFINITY;
        L.mx[l] = -INFINITY;
    }
    int64_t zeros = 0, neg = 0;
    int64_t full = m & ~(int64_t)(LANES - 1);
    for (int64_t i = 0; i < full; i += LANES)
        for (int l = 0; l < LANES; l++) {
            float v = p[i + l];
            zeros += v == 0.0f;
            neg += v < 0.0f;
            L.sum[l] += v;
            L.sq[l] += v * v;
            L.mn[l] = v < L.mn[l] ? v : L.mn[l];
            L.mx[l] = v > L.mx[l] ? v : L.mx[l];
        }
    L.zeros = zeros;
    L.neg = neg;
    fold_lanes(&L, full > 0, p, full, m, out);
}

/* Counts in four tables in turn; a run of 16 equal keys (zeros after a
 * ReLU, saturated values) with one add. */
static void keys_c(const float *p, int64_t m, uint32_t *keys)
{
    uint32_t *k0 = keys, *k1 = k0 + TABLE, *k2 = k1 + TABLE, *k3 = k2 + TABLE;
    const uint32_t *u = (const uint32_t *)(const void *)p;
    int64_t i = 0;
    for (; i + 16 <= m; i += 16) {
        uint32_t first = u[i] >> 21, differ = 0;
        for (int l = 1; l < 16; l++)
            differ |= (u[i + l] >> 21) ^ first;
        if (!differ) {
            k0[first] += 16;
            continue;
        }
        for (int l = 0; l < 16; l += 4) {
            k0[u[i + l] >> 21]++;
            k1[u[i + l + 1] >> 21]++;
            k2[u[i + l + 2] >> 21]++;
            k3[u[i + l + 3] >> 21]++;
        }
    }
    for (; i < m; i++)
        k0[u[i] >> 21]++;
}


/* Visits whole chunks of 16 keys, skipping empty ones (most are). */
static int take_c(uint32_t *keys, int from, int to, uint16_t *key_out, int64_t *count_out)
{
    int n = 0;
    for (int c = from & ~15; c <= to; c += 16) {
        uint32_t any = 0;
        for (int l = 0; l < 16; l++)
            any |= keys[c + l] | keys[TABLE + c + l] | keys[2 * TABLE + c + l] | keys[3 * TABLE + c + l];
        if (!any)
            continue;
        for (int key = c; key < c + 16; key++) {
            int64_t t = (int64_t)keys[key] + keys[TABLE + key] + keys[2 * TABLE + key] + keys[3 * TABLE + key];
            keys[key] = keys[TABLE + key] = keys[2 * TABLE + key] = keys[3 * TABLE + key] = 0;
            if (t) {
                key_out[n] = (uint16_t)key;
                count_out[n++] = t;
            }
        }
    }
    return n;
}

#ifdef NT_TSTATS_X86
/* ------------------------------------------------------------ AVX2 */

/* Four registers of 8 lanes: lanes 0-7, 8-15, 16-23, 24-31. */
__attribute__((target("avx2"))) static void moments_avx2(const float *p, int64_t m, nt_block_moments *out)
{
    lane_sums L;
    const __m256 zero = _mm256_setzero_ps();
    __m256 s0 = zero, s1 = zero, s2 = zero, s3 = zero, q0 = zero, q1 = zero, q2 = zero, q3 = zero;
    __m256 n0 = _mm256_set1_ps(INFINITY), n1 = n0, n2 = n0, n3 = n0;
    __m256 x0 = _mm256_set1_ps(-INFINITY), x1 = x0, x2 = x0, x3 = x0;
    __m256i cz = _mm256_setzero_si256(), cn = cz;
    int64_t full = m & ~(int64_t)(LANES - 1);
#define NT_AVX2_LANE(v, s, q, n, x)                                                                              \
    do {                                                                                                         \
        s = _mm256_add_ps(s, v);                                                                                 \
        q = _mm256_add_ps(q, _mm256_mul_ps(v, v));                                                               \
        n = _mm256_min_ps(v, n);                                                                                 \
        x = _mm256_max_ps(v, x);                                                                                 \
        cz = _mm256_sub_epi32(cz, _mm256_castps_si256(_mm256_cmp_ps(v, zero, _CMP_EQ_OQ)));                      \
        cn = _mm256_sub_epi32(cn, _mm256_castps_si256(_mm256_cmp_ps(v, zero, _CMP_LT_OQ)));                      \
    } while (0)
    for (int64_t i = 0; i < full; i += LANES) {
        __m256 v0 = _mm256_loadu_ps(p + i), v1 = _mm256_loadu_ps(p + i + 8);
        __m256 v2 = _mm256_loadu_ps(p + i + 16), v3 = _mm256_loadu_ps(p + i + 24);
        NT_AVX2_LANE(v0, s0, q0, n0, x0);
        NT_AVX2_LANE(v1, s1, q1, n1, x1);
        NT_AVX2_LANE(v2, s2, q2, n2, x2);
        NT_AVX2_LANE(v3, s3, q3, n3, x3);
    }
#undef NT_AVX2_LANE
    _mm256_storeu_ps(L.sum, s0), _mm256_storeu_ps(L.sum + 8, s1);
    _mm256_storeu_ps(L.sum + 16, s2), _mm256_storeu_ps(L.sum + 24, s3);
    _mm256_storeu_ps(L.sq, q0), _mm256_storeu_ps(L.sq + 8, q1);
    _mm256_storeu_ps(L.sq + 16, q2), _mm256_storeu_ps(L.sq + 24, q3);
    _mm256_storeu_ps(L.mn, n0), _mm256_storeu_ps(L.mn + 8, n1);
    _mm256_storeu_ps(L.mn + 16, n2), _mm256_storeu_ps(L.mn + 24, n3);
    _mm256_storeu_ps(L.mx, x0), _mm256_storeu_ps(L.mx + 8, x1);
    _mm256_storeu_ps(L.mx + 16, x2), _mm256_storeu_ps(L.mx + 24, x3);
    int32_t c[2][8];
    _mm256_storeu_si256((__m256i *)(void *)c[0], cz);
    _mm256_storeu_si256((__m256i *)(void *)c[1], cn);
    L.zeros = L.neg = 0;
    for (int l = 0; l < 8; l++) {
        L.zeros += c[0][l];
        L.neg += c[1][l];
    }
    fold_lanes(&L, full > 0, p, full, m, out);
}

__attribute__((target("avx2"))) static void keys_avx2(const float *p, int64_t m, uint32_t *keys)
{
    uint32_t *k0 = keys, *k1 = k0 + TABLE, *k2 = k1 + TABLE, *k3 = k2 + TABLE;
    const uint32_t *u = (const uint32_t *)(const void *)p;
    int64_t i = 0;
    for (; i + 16 <= m; i += 16) {
        __m256i a = _mm256_srli_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(u + i)), 21);
        __m256i b = _mm256_srli_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(u + i + 8)), 21);
        __m256i first = _mm256_broadcastd_epi32(_mm256_castsi256_si128(a));
        __m256i same = _mm256_and_si256(_mm256_cmpeq_epi32(a, first), _mm256_cmpeq_epi32(b, first));
        if (_mm256_movemask_epi8(same) == -1) {
            k0[u[i] >> 21] += 16;
            continue;
        }
        for (int l = 0; l < 16; l += 4) {
            k0[u[i + l] >> 21]++;
            k1[u[i + l + 1] >> 21]++;
            k2[u[i + l + 2] >> 21]++;
            k3[u[i + l + 3] >> 21]++;
        }
    }
    for (; i < m; i++)
        k0[u[i] >> 21]++;
}

__attribute__((target("avx2"))) static int take_avx2(uint32_t *keys, int from, int to, uint16_t *key_out,
                                                    int64_t *count_out)
{
    int n = 0;
    const __m256i z = _mm256_setzero_si256();
    for (int c = from & ~7; c <= to; c += 8) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(keys + c));
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(keys + TABLE + c));
        __m256i d = _mm256_loadu_si256((const __m256i *)(const void *)(keys + 2 * TABLE + c));
        __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)(keys + 3 * TABLE + c));
        __m256i o = _mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(d, e));
        unsigned mask = ~(unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(o, z))) & 0xffu;
        if (!mask)
            continue;
        for (; mask; mask &= mask - 1) {
            int key = c + __builtin_ctz(mask);
            key_out[n] = (uint16_t)key;
            count_out[n++] =
                (int64_t)keys[key] + keys[TABLE + key] + keys[2 * TABLE + key] + keys[3 * TABLE + key];
        }
        _mm256_storeu_si256((__m256i *)(void *)(keys + c), z);
        _mm256_storeu_si256((__m256i *)(void *)(keys + TABLE + c), z);
        _mm256_storeu_si256((__m256i *)(void *)(keys + 2 * TABLE + c), z);
        _mm256_storeu_si256((__m256i *)(void *)(keys + 3 * TABLE + c), z);
    }
    return n;
}

/* ------------------------------------------------------------ AVX-512 */

/* Two registers of 16 lanes: lanes 0-15 and 16-31. */
__attribute__((target("avx512f"))) static void moments_avx512(const float *p, int64_t m, nt_block_moments *out)
{
    lane_sums L;
    const __m512 zero = _mm512_setzero_ps();
    const __m512i one = _mm512_set1_epi32(1);
    __m512 s0 = zero, s1 = zero, q0 = zero, q1 = zero;
    __m512 n0 = _mm512_set1_ps(INFINITY), n1 = n0, x0 = _mm512_set1_ps(-INFINITY), x1 = x0;
    __m512i cz0 = _mm512_setzero_si512(), cz1 = cz0, cn0 = cz0, cn1 = cz0;
    int64_t full = m & ~(int64_t)(LANES - 1);
#define NT_AVX512_LANE(v, s, q, n, x, cz, cn)                                                                \
    do {                                                                                                         \
        s = _mm512_add_ps(s, v);                                                                                 \
        q = _mm512_add_ps(q, _mm512_mul_ps(v, v));                                                               \
        n = _mm512_min_ps(v, n);                                                                                 \
        x = _mm512_max_ps(v, x);                                                                                 \
        cz = _mm512_mask_sub_epi32(cz, _mm512_cmp_ps_mask(v, zero, _CMP_EQ_OQ), cz, one);                        \
        cn = _mm512_mask_sub_epi32(cn, _mm512_cmp_ps_mask(v, zero, _CMP_LT_OQ), cn, one);                        \
    } while (0)
    for (int64_t i = 0; i < full; i += LANES) {
        __m512 v0 = _mm512_loadu_ps(p + i), v1 = _mm512_loadu_ps(p + i + 16);
        NT_AVX512_LANE(v0, s0, q0, n0, x0, cz0, cn0);
        NT_AVX512_LANE(v1, s1, q1, n1, x1, cz1, cn1);
    }
#undef NT_AVX512_LANE
    _mm512_storeu_ps(L.sum, s0), _mm512_storeu_ps(L.sum + 16, s1);
    _mm512_storeu_ps(L.sq, q0), _mm512_storeu_ps(L.sq + 16, q1);
    _mm512_storeu_ps(L.mn, n0), _mm512_storeu_ps(L.mn + 16, n1);
    _mm512_storeu_ps(L.mx, x0), _mm512_storeu_ps(L.mx + 16, x1);
    /* counts went down from 0: minus the number of matches per lane */
    L.zeros = -(int64_t)_mm512_reduce_add_epi32(_mm512_add_epi32(cz0, cz1));
    L.neg = -(int64_t)_mm512_reduce_add_epi32(_mm512_add_epi32(cn0, cn1));
    fold_lanes(&L, full > 0, p, full, m, out);
}

__attribute__((target("avx512f"))) static void keys_avx512(const float *p, int64_t m, uint32_t *keys)
{
    uint32_t *k0 = keys, *k1 = k0 + TABLE, *k2 = k1 + TABLE, *k3 = k2 + TABLE;
    const uint32_t *u = (const uint32_t *)(const void *)p;
    int64_t i = 0;
    for (; i + 16 <= m; i += 16) {
        __m512i k = _mm512_srli_epi32(_mm512_loadu_si512((const void *)(u + i)), 21);
        __m512i first = _mm512_broadcastd_epi32(_mm512_castsi512_si128(k));
        if (_mm512_cmpneq_epi32_mask(k, first) == 0) {
            k0[u[i] >> 21] += 16;
            continue;
        }
        for (int l = 0; l < 16; l += 4) {
            k0[u[i + l] >> 21]++;
            k1[u[i + l + 1] >> 21]++;
            k2[u[i + l + 2] >> 21]++;
            k3[u[i + l + 3] >> 21]++;
        }
    }
    for (; i < m; i++)
        k0[u[i] >> 21]++;
}

/* A chunk of 16 keys: which lanes are nonzero in any table, one mask. */
__attribute__((target("avx512f"))) static int take_avx512(uint32_t *keys, int from, int to, uint16_t *key_out,
                                                          int64_t *count_out)
{
    int n = 0;
    const __m512i z = _mm512_setzero_si512();
    for (int c = from & ~15; c <= to; c += 16) {
        __m512i a = _mm512_loadu_si512((const void *)(keys + c));
        __m512i b = _mm512_loadu_si512((const void *)(keys + TABLE + c));
        __m512i d = _mm512_loadu_si512((const void *)(keys + 2 * TABLE + c));
        __m512i e = _mm512_loadu_si512((const void *)(keys + 3 * TABLE + c));
        unsigned mask = _mm512_test_epi32_mask(_mm512_or_si512(_mm512_or_si512(a, b), _mm512_or_si512(d, e)),
                                               _mm512_set1_epi32(-1));
        if (!mask)
            continue;
        for (; mask; mask &= mask - 1) {
            int key = c + __builtin_ctz(mask);
            key_out[n] = (uint16_t)key;
            count_out[n++] =
                (int64_t)keys[key] + keys[TABLE + key] + keys[2 * TABLE + key] + keys[3 * TABLE + key];
        }
        _mm512_storeu_si512((void *)(keys + c), z);
        _mm512_storeu_si512((void *)(keys + TABLE + c), z);
        _mm512_storeu_si512((void *)(keys + 2 * TABLE + c), z);
        _mm512_storeu_si512((void *)(keys + 3 * TABLE + c), z);
    }
    return n;
}
#endif /* NT_TSTATS_X86 */

/* ------------------------------------------------------------ dispatch */

static atomic_int g_isa;
static pthread_once_t g_isa_once = PTHREAD_ONCE_INIT;

static nt_tstats_isa detect(void)
{
#ifdef NT_TSTATS_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return NT_TSTATS_ISA_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return NT_TSTATS_ISA_AVX2;
#endif
    return NT_TSTATS_ISA_C;
}

static void detect_once(void) { atomic_store(&g_isa, (int)detect()); }

nt_tstats_isa nt_tstats_isa_get(void)
{
    pthread_once(&g_isa_once, detect_once);
    return (nt_tstats_isa)atomic_load(&g_isa);
}

nt_tstats_isa nt_tstats_isa_force(nt_tstats_isa isa)
{
    nt_tstats_isa prev = nt_tstats_isa_get(), best = detect();
    atomic_store(&g_isa, (int)(isa > best ? best : isa));
    return prev;
}

nt_moments_fn nt_tstats_moments_fn(void)
{
    switch (nt_tstats_isa_get()) {
#ifdef NT_TSTATS_X86
    case NT_TSTATS_ISA_AVX512:
        return moments_avx512;
    case NT_TSTATS_ISA_AVX2:
        return moments_avx2;
#endif
    default:
        return moments_c;
    }
}

nt_keys_fn nt_tstats_keys_fn(void)
{
    switch (nt_tstats_isa_get()) {
#ifdef NT_TSTATS_X86
    case NT_TSTATS_ISA_AVX512:
        return keys_avx512;
    case NT_TSTATS_ISA_AVX2:
        return keys_avx2;
#endif
    default:
        return keys_c;
    }
}

nt_take_fn nt_tstats_take_fn(void)
{
    switch (nt_tstats_isa_get()) {
#ifdef NT_TSTATS_X86
    case NT_TSTATS_ISA_AVX512:
        return take_avx512;
    case NT_TSTATS_ISA_AVX2:
        return take_avx2;
#endif
    default:
        return take_c;
    }
}
