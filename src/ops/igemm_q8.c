/*
 * igemm_q8.c — the quantized GEMM on uint8/int8 operands as they are, with
 * AVX-512 VNNI's vpdpbusd (unsigned byte x signed byte, four products
 * summed into each int32 lane per instruction: twice the work per
 * instruction of the int16 kernels in igemm.c).
 *
 * Exactness.  vpdpbusd wants one operand unsigned and one signed, so A is
 * taken in signed form s (int8 as is, uint8 minus 128) and B in unsigned
 * form u (uint8 as is, int8 plus 128), each with its zero point moved the
 * same way (os_i, ou_j).  Then, in int32 arithmetic that wraps (exact, as
 * every int32 sum is the same modulo 2^32 in any order):
 *   sum_k (a - za_i)(b - zb_j) = sum_k (s - os_i)(u - ou_j)
 *     = sum_k s*u - ou_j * rowsum_i(s) - os_i * colsum_j(u) + K * os_i * ou_j.
 * vpdpbusd itself does not saturate (4 * 255 * 128 fits), so sum s*u is
 * exact.  Padding taps of a convolution read u = ou (true value 0); K is
 * padded to a multiple of 4 with s = u = 0, which add nothing to any sum.
 *
 * Layout and loop nest as in igemm.c, with quads of K instead of pairs: A
 * panels hold per quad and row one 32-bit word of four s bytes; B panels per
 * quad and column four u bytes; the MR x NR = 8 x 32 tile accumulates in 16
 * zmm registers.  The correction is applied once per column block, after
 * its last K block.
 */
#include "ops/igemm.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define MR 8
#define NR 32

bool nt_igemm_q8_ok(void)
{
    return nt_igemm_isa_get() == NT_IGEMM_AVX512VNNI;
}

#if defined(__x86_64__) && defined(__GNUC__)

/* Compiled for AVX-512BW: these run only where VNNI (and so BW) is. */
#define Q8_TARGET __attribute__((target("avx2,avx512f,avx512bw,avx512vnni")))

/* Row k of B in unsigned form, columns [j0, j0 + n), into t. */
Q8_TARGET NT_VECTORIZE static void b_row_u8(const nt_igemm_q8_b *b, const nt_window *w, int64_t k, int64_t j0, int64_t n, uint8_t fill,
                     uint8_t *t)
{
    const uint8_t flip = b->is_signed ? 0x80 : 0;
    if (!w) {
        const uint8_t *src = b->p + k * b->ld + j0;
        for (int64_t i = 0; i < n; i++)
            t[i] = src[i] ^ flip;
        return;
    }
    const int64_t IH = w->in[0], IW = w->in[1], OW = w->out[1], KH = w->kernel[0], KW = w->kernel[1];
    const int64_t c = k / (KH * KW), kh = (k / KW) % KH, kw = k % KW, SW = w->stride[1];
    const int64_t off = kw * w->dil[1] - w->pad_begin[1];
    int64_t lo = off < 0 ? (-off + SW - 1) / SW : 0, hi = IW - 1 - off < 0 ? 0 : (IW - 1 - off) / SW + 1;
    if (hi > OW)
        hi = OW;
    if (lo > hi)
        lo = hi;
    const uint8_t *xc = b->x + c * IH * IW;
    int64_t oh = j0 / OW, ow = j0 % OW, done = 0;
    while (done < n) {
        int64_t seg = n - done < OW - ow ? n - done : OW - ow;
        const int64_t ih = oh * w->stride[0] - w->pad_begin[0] + kh * w->dil[0];
        uint8_t *d = t + done;
        if (ih < 0 || ih >= IH) {
            memset(d, fill, (size_t)seg);
        } else {
            const uint8_t *xr = xc + ih * IW + off;
            int64_t a = lo < ow ? ow : lo > ow + seg ? ow + seg : lo;
            int64_t e = hi < a ? a : hi > ow + seg ? ow + seg : hi;
            memset(d, fill, (size_t)(a - ow));
            if (SW == 1)
                for (int64_t o = a; o < e; o++)
                    d[o - ow] = xr[o] ^ flip;
            else
                for (int64_t o = a; o < e; o++)
                    d[o - ow] = xr[o * SW] ^ flip;
            memset(d + (e - ow), fill, (size_t)(ow + seg - e));
        }
        done += seg;
        ow += seg;
        if (ow == OW) {
            ow = 0;
            oh++;
        }
    }
}

/* Packs quads [q0, q0 + kq) of B, columns [j0, j0 + nc), into NR panels;
 * adds each column's u values to cs (rows past K are 0). t holds 4 * nc
 * bytes. */
Q8_TARGET NT_VECTORIZE static void pack_b_u8(const nt_igemm_q8_b *b, const nt_window *w, int64_t K, int64_t q0,
                                             int64_t kq, int64_t j0, int64_t nc, uint8_t fill, uint8_t *t,
                                             uint8_t *dst, int32_t *cs)
{
    const int64_t panels = (nc + NR - 1) / NR;
    for (int64_t q = 0; q < kq; q++) {
        for (int r = 0; r < 4; r++) {
            int64_t k = 4 * (q0 + q) + r;
            uint8_t *restrict tr = t + r * nc;
            if (k < K) {
                b_row_u8(b, w, k, j0, nc, fill, tr);
            } else {
                memset(tr, 0, (size_t)nc);
            }
        }
        for (int64_t p = 0; p < panels; p++) {
            uint8_t *restrict d = dst + (p * kq + q) * NR * 4;
            const int64_t jn = nc - p * NR < NR ? nc - p * NR : NR;
            if (jn == NR) {
                /* four rows of 32 bytes into 32 groups of four: bytes, then
                 * byte pairs interleaved within 128-bit lanes, lanes put
                 * back in order */
                const uint8_t *s0 = t + p * NR;
                __m256i r0 = _mm256_loadu_si256((const __m256i *)s0);
                __m256i r1 = _mm256_loadu_si256((const __m256i *)(s0 + nc));
                __m256i r2 = _mm256_loadu_si256((const __m256i *)(s0 + 2 * nc));
                __m256i r3 = _mm256_loadu_si256((const __m256i *)(s0 + 3 * nc));
                __m256i a_lo = _mm256_unpacklo_epi8(r0, r1), a_hi = _mm256_unpackhi_epi8(r0, r1);
                __m256i b_lo = _mm256_unpacklo_epi8(r2, r3), b_hi = _mm256_unpackhi_epi8(r2, r3);
                __m256i g0 = _mm256_unpacklo_epi16(a_lo, b_lo), g1 = _mm256_unpackhi_epi16(a_lo, b_lo);
                __m256i g2 = _mm256_unpacklo_epi16(a_hi, b_hi), g3 = _mm256_unpackhi_epi16(a_hi, b_hi);
                _mm256_storeu_si256((__m256i *)d, _mm256_permute2x128_si256(g0, g1, 0x20));
                _mm256_storeu_si256((__m256i *)(d + 32), _mm256_permute2x128_si256(g2, g3, 0x20));
                _mm256_storeu_si256((__m256i *)(d + 64), _mm256_permute2x128_si256(g0, g1, 0x31));
                _mm256_storeu_si256((__m256i *)(d + 96), _mm256_permute2x128_si256(g2, g3, 0x31));
                /* column sums: the four bytes of each column times 1 */
                const __m512i ones = _mm512_set1_epi8(1);
                int32_t *cp = cs + p * NR;
                _mm512_storeu_si512(cp, _mm512_dpbusd_epi32(_mm512_loadu_si512(cp), _mm512_loadu_si512(d), ones));
                _mm512_storeu_si512(cp + 16,
                                    _mm512_dpbusd_epi32(_mm512_loadu_si512(cp + 16), _mm512_loadu_si512(d + 64), ones));
                continue;
            }
            for (int64_t j = 0; j < jn; j++)
                for (int r = 0; r < 4; r++) {
                    d[4 * j + r] = t[r * nc + p * NR + j];
                    cs[p * NR + j] += t[r * nc + p * NR + j];
                }
            memset(d + 4 * jn, 0, (size_t)(4 * (NR - jn)));
        }
    }
}

/* The MR x NR tile at c (ldc) gets (add: plus) sum over kq quads. */
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void kern_dpbusd(int64_t kq, const int32_t *a,
                                                                               const uint8_t *b, int32_t *c,
                                                                               int64_t ldc, bool add)
{
    __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00;
    __m512i c70 = c00, c71 = c00;
    for (int64_t q = 0; q < kq; q++) {
        const __m512i b0 = _mm512_loadu_si512(b + q * 128), b1 = _mm512_loadu_si512(b + q * 128 + 64);
        const int32_t *ap = a + q * 8;
        __m512i ai;
#define DP(i)                                       \
    ai = _mm512_set1_epi32(ap[i]);                  \
    c##i##0 = _mm512_dpbusd_epi32(c##i##0, b0, ai); \
    c##i##1 = _mm512_dpbusd_epi32(c##i##1, b1, ai)
        DP(0);
        DP(1);
        DP(2);
        DP(3);
        DP(4);
        DP(5);
        DP(6);
        DP(7);
#undef DP
    }
    __m512i rows[8][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
                          {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
    for (int i = 0; i < 8; i++)
        for (int v = 0; v < 2; v++) {
            int32_t *cp = c + i * ldc + 16 * v;
            __m512i r = rows[i][v];
            if (add)
                r = _mm512_add_epi32(r, _mm512_loadu_si512(cp));
            _mm512_storeu_si512(cp, r);
        }
}

static uint8_t *tl_get(size_t n)
{
    return nt_tl_buffer(NT_TL_IGEMM_Q8_B, n);
}

typedef struct q8_job {
    int64_t M, N, K, KQ, kc, nc, ldc;
    const int32_t *pa;       /* packed A */
    const int32_t *rs, *os;  /* per row: sum of s, zero point in s form */
    const nt_igemm_q8_b *b;
    const nt_window *w;
    uint8_t fill;            /* u value of a padding tap */
    int32_t *C;
    bool failed;             /* a thread found no memory */
} q8_job;

/* zero point of column j in u form */
static inline int32_t ou_of(const nt_igemm_q8_b *b, int64_t j)
{
    int32_t z = b->zp ? b->zp[b->zp_per_column ? j : 0] : 0;
    return b->is_signed ? z + 128 : z;
}

/* C -= ou_j * rs_i + os_i * cs_j - K * os_i * ou_j over columns [j0, j0 +
 * nc), in wrapping uint32; ou holds nc values of scratch. */
Q8_TARGET NT_VECTORIZE static void correct(const q8_job *j, int64_t j0, int64_t nc, const int32_t *cs,
                                           uint32_t *restrict ou)
{
    for (int64_t x = 0; x < nc; x++)
        ou[x] = (uint32_t)ou_of(j->b, j0 + x);
    for (int64_t i = 0; i < j->M; i++) {
        const uint32_t rs = (uint32_t)j->rs[i], os = (uint32_t)j->os[i], kos = (uint32_t)j->K * os;
        int32_t *restrict c = j->C + i * j->ldc + j0;
        for (int64_t x = 0; x < nc; x++)
            c[x] = (int32_t)((uint32_t)c[x] - ou[x] * rs - os * (uint32_t)cs[x] + kos * ou[x]);
    }
}

static void q8_range(void *arg, int64_t bb, int64_t be)
{
    q8_job *j = arg;
    for (int64_t blk = bb; blk < be; blk++) {
        const int64_t j0 = blk * j->nc, nc = j->N - j0 < j->nc ? j->N - j0 : j->nc;
        const int64_t panels = (nc + NR - 1) / NR, kcap = j->kc < j->KQ ? j->kc : j->KQ;
        const size_t pbytes = (size_t)(panels * NR * kcap * 4), tbytes = (size_t)(4 * nc);
        uint8_t *buf = tl_get(pbytes + tbytes + (size_t)nc * sizeof(int32_t) + 64);
        if (!buf) {
            __atomic_store_n(&j->failed, true, __ATOMIC_RELAXED);
            return;
        }
        uint8_t *t = buf + pbytes;
        int32_t *cs = (int32_t *)(void *)(buf + (pbytes + tbytes + 63) / 64 * 64);
        memset(cs, 0, (size_t)nc * sizeof *cs);
        for (int64_t q0 = 0; q0 < j->KQ; q0 += j->kc) {
            const int64_t kq = j->KQ - q0 < j->kc ? j->KQ - q0 : j->kc;
            pack_b_u8(j->b, j->w, j->K, q0, kq, j0, nc, j->fill, t, buf, cs);
            for (int64_t r = 0; r * MR < j->M; r++) {
                const int32_t *a = j->pa + (r * j->KQ + q0) * MR;
                const int64_t mrem = j->M - r * MR < MR ? j->M - r * MR : MR;
                for (int64_t p = 0; p < panels; p++) {
                    const uint8_t *bq = buf + p * kq * NR * 4;
                    int32_t *c = j->C + r * MR * j->ldc + j0 + p * NR;
                    const int64_t nrem = nc - p * NR < NR ? nc - p * NR : NR;
                    if (mrem == MR && nrem == NR) {
                        kern_dpbusd(kq, a, bq, c, j->ldc, q0 > 0);
                        continue;
                    }
                    int32_t tile[MR * NR];
                    for (int64_t i = 0; i < mrem; i++)
                        for (int64_t x = 0; x < nrem; x++)
                            tile[i * NR + x] = q0 > 0 ? c[i * j->ldc + x] : 0;
                    kern_dpbusd(kq, a, bq, tile, NR, true);
                    for (int64_t i = 0; i < mrem; i++)
                        for (int64_t x = 0; x < nrem; x++)
                            c[i * j->ldc + x] = tile[i * NR + x];
                }
            }
        }
        correct(j, j0, nc, cs, (uint32_t *)(void *)t);

    }
}

struct nt_igemm_q8_packed {
    int64_t M, K, KQ;
    int32_t *pa;             /* MR-row panels of quads of s bytes */
    int32_t *rs, *os;        /* per row: sum of s, zero point in s form */
};

nt_igemm_q8_packed *nt_igemm_q8_pack(int64_t M, int64_t K, const nt_igemm_q8_a *a)
{
    if (!nt_igemm_q8_ok() || M <= 0 || K <= 0)
        return NULL;
    nt_igemm_q8_packed *pk = nt_calloc(1, sizeof *pk);
    const int64_t KQ = (K + 3) / 4, panels = (M + MR - 1) / MR;
    int32_t *pa = pk ? nt_aligned_alloc((size_t)(panels * MR * KQ) * sizeof *pa + (size_t)(2 * M) * sizeof(int32_t))
                     : NULL;
    if (!pa) {
        free(pk);
        return NULL;
    }
    int32_t *rs = pa + panels * MR * KQ, *os = rs + M;
    const uint8_t flip = a->is_signed ? 0 : 0x80;
    for (int64_t i = 0; i < panels * MR; i++) {
        const uint8_t *row = i < M ? a->p + i * a->ld : NULL;
        uint32_t sum = 0;
        for (int64_t q = 0; q < KQ; q++) {
            uint32_t word = 0;
            for (int r = 0; r < 4; r++) {
                int64_t k = 4 * q + r;
                uint8_t s = row && k < K ? (uint8_t)(row[k] ^ flip) : 0;
                sum += (uint32_t)(int32_t)(int8_t)s;
                word |= (uint32_t)s << (8 * r);
            }
            pa[((i / MR) * KQ + q) * MR + i % MR] = (int32_t)word;
        }
        if (i < M) {
            rs[i] = (int32_t)sum;
            os[i] = a->zp ? (a->is_signed ? a->zp[i] : a->zp[i] - 128) : (a->is_signed ? 0 : -128);
        }
    }
    *pk = (nt_igemm_q8_packed){M, K, KQ, pa, rs, os};
    return pk;
}

void nt_igemm_q8_packed_free(nt_igemm_q8_packed *pk)
{
    if (!pk)
        return;
    nt_aligned_free(pk->pa);
    free(pk);
}

bool nt_igemm_q8_run(nt_exec *exec, int64_t N, const nt_igemm_q8_packed *pk, const nt_igemm_q8_b *b, int32_t *C,
                     int64_t ldc)
{
    const int64_t M = pk->M, K = pk->K;
    if (!nt_igemm_q8_ok() || (b->w && b->zp_per_column))
        return false;
    if (N <= 0)
        return true;
    q8_job j = {.M = M, .N = N, .K = K, .KQ = pk->KQ, .ldc = ldc, .b = b, .C = C};
    nt_window w2;
    if (b->w) {
        w2 = *b->w;
        if (w2.nsp == 1)
            w2 = (nt_window){.nsp = 2, .in = {1, b->w->in[0]}, .out = {1, b->w->out[0]}, .kernel = {1, b->w->kernel[0]},
                             .stride = {1, b->w->stride[0]}, .dil = {1, b->w->dil[0]},
                             .pad_begin = {0, b->w->pad_begin[0]}, .pad_end = {0, b->w->pad_end[0]}};
        j.w = &w2;
        j.fill = (uint8_t)ou_of(b, 0);
    }
    /* blocking from the caches: an A and a B micro-panel in half of L1, a B
     * block in half of L2 */
    long l1, l2;
    nt_igemm_cache_sizes(&l1, &l2);
    j.kc = l1 / 2 / ((MR + NR) * 4);
    j.kc = j.kc < 16 ? 16 : j.kc > 512 ? 512 : j.kc;
    j.nc = l2 / 2 / (j.kc * 4) / NR * NR;
    if (j.nc < 4 * NR)
        j.nc = 4 * NR;
    const int threads = nt_exec_threads(exec);
    int64_t per = ((N + threads - 1) / threads + NR - 1) / NR * NR;
    if (per < j.nc)
        j.nc = per;
    j.pa = pk->pa;
    j.rs = pk->rs;
    j.os = pk->os;
    nt_parallel_for(exec, (N + j.nc - 1) / j.nc, 1, q8_range, &j);
    return !j.failed;
}

bool nt_igemm_q8(nt_exec *exec, int64_t M, int64_t N, int64_t K, const nt_igemm_q8_a *a, const nt_igemm_q8_b *b,
                 int32_t *C, int64_t ldc)
{
    if (!nt_igemm_q8_ok() || (b->w && b->zp_per_column))
        return false;
    if (M <= 0 || N <= 0)
        return true;
    if (K <= 0) {
        for (int64_t i = 0; i < M; i++)
            memset(C + i * ldc, 0, (size_t)N * sizeof *C);
        return true;
    }
    nt_igemm_q8_packed *pk = nt_igemm_q8_pack(M, K, a);
    if (!pk)
        return false;
    bool ok = nt_igemm_q8_run(exec, N, pk, b, C, ldc);
    nt_igemm_q8_packed_free(pk);
    return ok;
}

#else

nt_igemm_q8_packed *nt_igemm_q8_pack(int64_t M, int64_t K, const nt_igemm_q8_a *a)
{
    (void)M, (void)K, (void)a;
    return NULL;
}

void nt_igemm_q8_packed_free(nt_igemm_q8_packed *pk) { (void)pk; }

bool nt_igemm_q8_run(nt_exec *exec, int64_t N, const nt_igemm_q8_packed *pk, const nt_igemm_q8_b *b, int32_t *C,
                     int64_t ldc)
{
    (void)exec, (void)N, (void)pk, (void)b, (void)C, (void)ldc;
    return false;
}

bool nt_igemm_q8(nt_exec *exec, int64_t M, int64_t N, int64_t K, const nt_igemm_q8_a *a, const nt_igemm_q8_b *b,
                 int32_t *C, int64_t ldc)
{
    (void)exec, (void)M, (void)N, (void)K, (void)a, (void)b, (void)C, (void)ldc;
    return false;
}

#endif
