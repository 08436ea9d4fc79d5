/*
 * winograd.c — Winograd F(4x4, 3x3) and F(2x2, 3x3) convolution (Lavin &
 * Gray's minimal filtering) for float32 3x3 stride-1 undilated convolutions
 * with one group.  A cost model (tile_for) picks F(4x4), F(2x2) or neither
 * (the direct GEMM) per shape: F(2x2)'s smaller tiles waste less of a small
 * plane's edge and need 16 instead of 36 transformed weights per filter.
 * Below, the F(4x4) case is described;
 * F(2x2) is the same with 4x4 input tiles and 16 transform points.
 *
 * Per image:
 *   1. input transform: every 6x6 input tile d (tiles 4 apart, zero outside
 *      the image) becomes V = B^T d B, 36 values per channel and tile, written
 *      straight into the packed-B layout of the sgemm kernels: V[p] is a
 *      (C, T) operand for transform point p (T tiles);
 *   2. 36 GEMMs: Mo[p] (M, T) = U[p] (M, C) . V[p] (C, T), where U = G g G^T
 *      are the filters transformed once (in double, rounded to float) and
 *      kept packed in the node state;
 *   3. output transform: each 4x4 output tile is A^T Mo A, plus the bias.
 * The 2-D transforms are done separably (columns, then rows) on whole rows
 * of tiles so the loops run over tiles with unit stride and vectorize; the
 * input rows are first split by column phase (x mod 4) so the 6 taps of
 * every tile are contiguous loads too.
 *
 * Cost: 36 multiplications per channel pair and tile for 16 outputs, against
 * 144 directly; the transforms are additions and small-constant scalings.
 * Rounding differs from the direct sum by a few ulps of the largest partial
 * terms, well within the rtol 1e-3 / atol 1e-4 the outputs are held to.
 * NaN and Inf propagate (a NaN input makes its tiles' outputs NaN).
 */
#include "ops/winograd.h"
#include "ops/sgemm.h"

#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#define NP 36           /* transform points of F(4x4): 6 x 6 (F(2x2) uses 16) */
#define MAX_TW 128      /* tiles per row */

struct nt_wino {
    nt_sgemm_pa U[NP];
    int tile;               /* output tile size the filters were transformed for */
    const void *src;
    bool is_const;
    int isa;
    int64_t M, C;
    nt_scratch V, Mo;
};

/* The cost model choosing between F(4x4), F(2x2) and the direct (im2col
 * GEMM) convolution, in nanoseconds of one thread.  Winograd trades GEMM
 * work for transforms and for bigger weights: U holds 36 (F(4x4)) or 16
 * (F(2x2)) values per filter instead of 9, and on a small map, where the
 * GEMMs are narrow, streaming U from memory is what a layer costs (a model's
 * weights outgrow the caches, so every run reads them again).  ResNet-18's
 * 14x14 layers take F(2x2) by this (1.8 -> 1.4 ms in the model on a Xeon
 * where the hot-cache bench preferred F(4x4)) and its 7x7 layers the direct
 * GEMM.  The constants were measured on ResNet-18's, SqueezeNet's and the
 * OCR detector's layers (Xeon, AVX-512): GEMM at ~150 GFLOP/s, ~0.3 ns per
 * im2col value packed, ~0.5 ns per transformed value (in or out), weights
 * at ~12 GB/s. */
#define NS_PER_FLOP (1.0 / 150.0)
#define NS_PER_PACKED 0.3
#define NS_PER_POINT 0.5
#define NS_PER_WEIGHT_BYTE (1.0 / 12.0)

static double direct_cost(int64_t Cg, int64_t Mg, int64_t OH, int64_t OW)
{
    const double taps = (double)Cg * (double)Mg * 9.0, out = (double)(OH * OW);
    return 2.0 * taps * out * NS_PER_FLOP + (double)Cg * 9.0 * out * NS_PER_PACKED +
           taps * sizeof(float) * NS_PER_WEIGHT_BYTE;
}

static double wino_cost(int tile, int64_t Cg, int64_t Mg, int64_t OH, int64_t OW)
{
    const double np = (tile + 2) * (tile + 2), T = (double)(((OH + tile - 1) / tile) * ((OW + tile - 1) / tile));
    const double cm = (double)Cg * (double)Mg;
    return 2.0 * np * cm * T * NS_PER_FLOP + (double)(Cg + Mg) * T * np * NS_PER_POINT +
           np * cm * sizeof(float) * NS_PER_WEIGHT_BYTE;
}

/* Output tile size for the window: 4, 2, or 0 when Winograd does not pay
 * (by the cost model above).  Few tiles make the GEMMs too narrow to run
 * well at all; few channels make the transforms dominate. */
static int tile_for(const nt_window *w, int64_t Cg, int64_t Mg)
{
    const int64_t OH = w->out[0], OW = w->out[1];
    if (Cg < 16 || Mg < 16)
        return 0;
    int best = 0;
    double best_cost = direct_cost(Cg, Mg, OH, OW);
    for (int tile = 4; tile >= 2; tile -= 2) {
        const int64_t TW = (OW + tile - 1) / tile;
        if (((OH + tile - 1) / tile) * TW < 12 || TW > MAX_TW)
            continue;
        const double c = wino_cost(tile, Cg, Mg, OH, OW);
        if (c < best_cost) {
            best = tile;
            best_cost = c;
        }
    }
    return best;
}

/* On unless a test turns it off (sessions choose through
 * nt_session_options.no_winograd, asked by conv.c with nt_exec_winograd). */
static atomic_bool g_wino_on = true;

void nt_wino_enable(bool on)
{
    atomic_store(&g_wino_on, on);
}

bool nt_wino_applies(const nt_window *w, int64_t G, int64_t Cg, int64_t Mg)
{
    if (!atomic_load(&g_wino_on) || w->nsp != 2 || G != 1 || w->kernel[0] != 3 || w->kernel[1] != 3)
        return false;
    if (w->stride[0] != 1 || w->stride[1] != 1 || w->dil[0] != 1 || w->dil[1] != 1)
        return false;
    return tile_for(w, Cg, Mg) != 0 && nt_sgemm_isa_get() != NT_SGEMM_NONE;
}

void nt_wino_free(nt_wino *st)
{
    if (!st)
        return;
    for (int p = 0; p < NP; p++)
        nt_sgemm_pa_free(&st->U[p]);
    nt_scratch_free(&st->V);
    nt_scratch_free(&st->Mo);
    free(st);
}

/* U[p] (M, C) = (G g G^T)[p] for every filter g (3x3) of W (M, C, 3, 3),
 * for output tiles of size tile (4: 6x6 points, 2: 4x4 points). */
static nt_status transform_filters(nt_wino *st, nt_sgemm_isa isa, int tile, int64_t M, int64_t C, const float *wt)
{
    static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};
    static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const int T = tile + 2, np = T * T;
    const double(*G)[3] = tile == 4 ? G4 : G2;
    size_t n;
    if (!nt_mul_size((size_t)(M * C), (size_t)np * sizeof(float), &n))
        return nt_error(NT_ERR_NOMEM, "winograd: %lld x %lld filters are too many", (long long)M, (long long)C);
    float *u = nt_malloc(n);
    if (!u)
        return nt_error(NT_ERR_NOMEM, "winograd: no memory to transform %lld x %lld filters", (long long)M,
                        (long long)C);
    for (int64_t mc = 0; mc < M * C; mc++) {
        const float *g = wt + mc * 9;
        double t[6][3];
        for (int i = 0; i < T; i++)
            for (int k = 0; k < 3; k++)
                t[i][k] = G[i][0] * g[0 * 3 + k] + G[i][1] * g[1 * 3 + k] + G[i][2] * g[2 * 3 + k];
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++)
                u[(size_t)(i * T + j) * (size_t)(M * C) + (size_t)mc] =
                    (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
    }
    nt_status s = NT_OK;
    st->src = NULL;
    st->tile = tile;
    for (int p = 0; p < np && s == NT_OK; p++)
        s = nt_sgemm_pack_a(&st->U[p], isa, false, M, C, u + (size_t)p * (size_t)(M * C), C);
    free(u);
    return s;
}

/* ---- input transform */

typedef struct in_job {
    const float *x;             /* one image (C, IH, IW) */
    const nt_window *w;
    int64_t C, TH, TW, T, Tpad, kc, Vs;
    int nr;
    float *V;
    volatile int failed;
} in_job;

static void scatter_rows(const in_job *j, int64_t c, const float *vrow, int np);

/* B^T applied to the six values d0..d5 (columns of a tile, or rows). */
#define BT_ROWS(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5) \
    do {                                                        \
        o0 = 4.0f * (d0) - 5.0f * (d2) + (d4);                  \
        o1 = -4.0f * ((d1) + (d2)) + ((d3) + (d4));             \
        o2 = 4.0f * ((d1) - (d2)) + ((d4) - (d3));              \
        o3 = 2.0f * ((d3) - (d1)) + ((d4) - (d2));              \
        o4 = 2.0f * ((d1) - (d3)) + ((d4) - (d2));              \
        o5 = 4.0f * (d1) - 5.0f * (d3) + (d5);                  \
    } while (0)

/* The transform loops take each row they read or write as its own
 * restrict pointer: without that gcc must assume the rows (all in one
 * buffer) overlap and leaves the loops scalar. */

/* u_k[o] = (B^T d)[k] for the six rows d_i = r[i*ld + o], o < n. */
static inline __attribute__((always_inline)) void bt_cols(const float *restrict r0, const float *restrict r1,
                                                          const float *restrict r2, const float *restrict r3,
                                                          const float *restrict r4, const float *restrict r5,
                                                          int64_t n, float *restrict u0, float *restrict u1,
                                                          float *restrict u2, float *restrict u3,
                                                          float *restrict u4, float *restrict u5)
{
    for (int64_t o = 0; o < n; o++)
        BT_ROWS(r0[o], r1[o], r2[o], r3[o], r4[o], r5[o], u0[o], u1[o], u2[o], u3[o], u4[o], u5[o]);
}

/* v_j[t] = (d B)[j] for the tiles t < n of one transformed row split in
 * phases p0..p3: tile t reads p0..p3[t] and p0, p1[t+1]. */
static inline __attribute__((always_inline)) void bt_rows(const float *restrict p0, const float *restrict p1,
                                                          const float *restrict p2, const float *restrict p3,
                                                          int64_t n, float *restrict v0, float *restrict v1,
                                                          float *restrict v2, float *restrict v3,
                                                          float *restrict v4, float *restrict v5)
{
    for (int64_t t = 0; t < n; t++)
        BT_ROWS(p0[t], p1[t], p2[t], p3[t], p0[t + 1], p1[t + 1], v0[t], v1[t], v2[t], v3[t], v4[t], v5[t]);
}

/* Channels [c0, c1): split the padded rows by column phase, transform every
 * tile, scatter the 36 rows of T values into the packed V operands. */
NT_CLONES NT_VECTORIZE static void input_range(void *arg, int64_t c0, int64_t c1)
{
    in_job *j = arg;
    const nt_window *w = j->w;
    const int64_t IH = w->in[0], IW = w->in[1], PT = w->pad_begin[0], PL = w->pad_begin[1];
    /* TP >= TW + 1 phases per row, rounded so rows are whole vectors. */
    const int64_t TH = j->TH, TW = j->TW, T = j->T, TP = (TW + 4) / 4 * 4, R = 4 * TH + 2, LW = 4 * TP;
    /* xp: R rows x 4 phases x TP; line: one zero-padded input row; vrow:
     * 36 rows of T; u: the column transform of one tile row (6 x 4 x TP). */
    size_t nf = (size_t)(R * LW + LW + NP * T + 24 * TP);
    float *buf = nt_malloc(nf * sizeof(float));
    if (!buf) {
        j->failed = 1;
        return;
    }
    float *xp = buf, *line = xp + R * LW, *vrow = line + LW, *u = vrow + NP * T;
    for (int64_t c = c0; c < c1; c++) {
        const float *xc = j->x + c * IH * IW;
        for (int64_t r = 0; r < R; r++) {
            float *dst = xp + r * LW;
            const int64_t ih = r - PT;
            if (ih < 0 || ih >= IH) {
                memset(dst, 0, (size_t)LW * sizeof(float));
                continue;
            }
            memset(line, 0, (size_t)LW * sizeof(float));
            const int64_t lo = PL > 0 ? PL : 0, src0 = PL < 0 ? -PL : 0;
            int64_t n = IW - src0 < LW - lo ? IW - src0 : LW - lo;
            if (n > 0)
                memcpy(line + lo, xc + ih * IW + src0, (size_t)n * sizeof(float));
            for (int64_t t = 0; t < TP; t++) {
                dst[t] = line[4 * t];
                dst[TP + t] = line[4 * t + 1];
                dst[2 * TP + t] = line[4 * t + 2];
                dst[3 * TP + t] = line[4 * t + 3];
            }
        }
        for (int64_t th = 0; th < TH; th++) {
            const float *r0 = xp + (4 * th) * LW;
            /* Columns: u[k][f][t] = sum_i BT[k][i] * row(4th+i)[f][t]. */
            bt_cols(r0, r0 + LW, r0 + 2 * LW, r0 + 3 * LW, r0 + 4 * LW, r0 + 5 * LW, LW, u, u + LW, u + 2 * LW,
                    u + 3 * LW, u + 4 * LW, u + 5 * LW);
            /* Rows: the tile at t spans phases 0..3 of t and 0..1 of t+1.
             * (Written to a local row buffer, then copied into the packed
             * operands: writing the 36 far-apart rows of V directly was
             * much slower, the strides alias in the cache.) */
            for (int64_t k = 0; k < 6; k++) {
                const float *uk = u + k * LW;
                float *v = vrow + (k * 6) * T + th * TW;
                bt_rows(uk, uk + TP, uk + 2 * TP, uk + 3 * TP, TW, v, v + T, v + 2 * T, v + 3 * T, v + 4 * T,
                        v + 5 * T);
            }
        }
        scatter_rows(j, c, vrow, NP);
    }
    free(buf);
}

/* Scatters row c of the np transformed rows (vrow, np x T) into the packed
 * V operands (see in_job). */
static void scatter_rows(const in_job *j, int64_t c, const float *vrow, int np)
{
    const int64_t T = j->T, k0 = c / j->kc * j->kc, kl = j->C - k0 < j->kc ? j->C - k0 : j->kc, nr = j->nr;
    for (int p = 0; p < np; p++) {
        float *vp = j->V + (size_t)p * (size_t)j->Vs + k0 * j->Tpad + (c - k0) * nr;
        const float *src = vrow + p * T;
        for (int64_t t0 = 0; t0 < j->Tpad; t0 += nr) {
            float *d = vp + (t0 / nr) * kl * nr;
            int64_t n = T - t0 < nr ? T - t0 : nr;
            if (n > 0)
                memcpy(d, src + t0, (size_t)n * sizeof(float));
            for (int64_t q = n > 0 ? n : 0; q < nr; q++)
                d[q] = 0.0f;
        }
    }
}

/* F(2x2, 3x3) input transform of channels [c0, c1): 4x4 tiles 2 apart,
 * rows split by column parity, V = B^T d B with
 * B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]. */
NT_CLONES NT_VECTORIZE static void input2_range(void *arg, int64_t c0, int64_t c1)
{
    in_job *j = arg;
    const nt_window *w = j->w;
    const int64_t IH = w->in[0], IW = w->in[1], PT = w->pad_begin[0], PL = w->pad_begin[1];
    const int64_t TH = j->TH, TW = j->TW, T = j->T, TP = TW + 1, R = 2 * TH + 2, LW = 2 * TP;
    size_t nf = (size_t)(R * LW + LW + 16 * T + 8 * TP);
    float *buf = nt_malloc(nf * sizeof(float));
    if (!buf) {
        j->failed = 1;
        return;
    }
    float *xp = buf, *line = xp + R * LW, *vrow = line + LW, *u = vrow + 16 * T;
    for (int64_t c = c0; c < c1; c++) {
        const float *xc = j->x + c * IH * IW;
        for (int64_t r = 0; r < R; r++) {
            float *dst = xp + r * LW;
            const int64_t ih = r - PT;
            if (ih < 0 || ih >= IH) {
                memset(dst, 0, (size_t)LW * sizeof(float));
                continue;
            }
            memset(line, 0, (size_t)LW * sizeof(float));
            int64_t n = IW < LW - PL ? IW : LW - PL;
            if (n > 0)
                memcpy(line + PL, xc + ih * IW, (size_t)n * sizeof(float));
            for (int64_t t = 0; t < TP; t++) {
                dst[t] = line[2 * t];
                dst[TP + t] = line[2 * t + 1];
            }
        }
        for (int64_t th = 0; th < TH; th++) {
            const float *r0 = xp + (2 * th) * LW;
            for (int64_t o = 0; o < 2 * TP; o++) {
                float d0 = r0[o], d1 = r0[LW + o], d2 = r0[2 * LW + o], d3 = r0[3 * LW + o];
                u[o] = d0 - d2;
                u[2 * TP + o] = d1 + d2;
                u[4 * TP + o] = d2 - d1;
                u[6 * TP + o] = d1 - d3;
            }
            for (int64_t k = 0; k < 4; k++) {
                const float *uk = u + k * 2 * TP;
                float *v = vrow + (k * 4) * T + th * TW;
                for (int64_t t = 0; t < TW; t++) {
                    float d0 = uk[t], d1 = uk[TP + t], d2 = uk[t + 1], d3 = uk[TP + t + 1];
                    v[t] = d0 - d2;
                    v[T + t] = d1 + d2;
                    v[2 * T + t] = d2 - d1;
                    v[3 * T + t] = d1 - d3;
                }
            }
        }
        scatter_rows(j, c, vrow, 16);
    }
    free(buf);
}

/* ---- GEMMs */

typedef struct gemm_job {
    const nt_wino *st;
    const float *V;
    float *Mo;
    int64_t T, Vs;
    volatile int failed;
} gemm_job;

static void gemm_range(void *arg, int64_t p0, int64_t p1)
{
    gemm_job *j = arg;
    for (int64_t p = p0; p < p1; p++) {
        nt_sgemm_b b = {.p = j->V + p * j->Vs, .packed = true};
        if (nt_sgemm(NULL, &j->st->U[p], j->T, &b, 1.0f, 0.0f, NULL, j->Mo + p * j->st->M * j->T, j->T) != NT_OK)
            j->failed = 1;
    }
}

/* ---- output transform */

typedef struct out_job {
    const float *Mo, *bias;
    float *y;                   /* the band's first output row of channel 0 */
    int64_t M, T, TH, TW, OH, OW;   /* OH: output rows in the band */
    int64_t ystride;            /* floats from one channel to the next (the image's OH * OW) */
    volatile int failed;        /* a worker ran out of memory */
} out_job;

/* A^T applied to m0..m5, giving four values. */
#define AT_ROWS(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3)       \
    do {                                                      \
        float a12 = (m1) + (m2), s12 = (m1) - (m2);           \
        float a34 = (m3) + (m4), s34 = (m3) - (m4);           \
        o0 = (m0) + a12 + a34;                                \
        o1 = s12 + 2.0f * s34;                                \
        o2 = a12 + 4.0f * a34;                                \
        o3 = s12 + 8.0f * s34 + (m5);                         \
    } while (0)

/* s_k[t] = (A^T m)[k] for the six rows m_i, t < n. */
static inline __attribute__((always_inline)) void at_cols(const float *restrict m0, const float *restrict m1,
                                                          const float *restrict m2, const float *restrict m3,
                                                          const float *restrict m4, const float *restrict m5,
                                                          int64_t n, float *restrict s0, float *restrict s1,
                                                          float *restrict s2, float *restrict s3)
{
    for (int64_t t = 0; t < n; t++)
        AT_ROWS(m0[t], m1[t], m2[t], m3[t], m4[t], m5[t], s0[t], s1[t], s2[t], s3[t]);
}

/* o[4t + l] = (m A)[l] for the six rows m_i, t < n. */
static inline __attribute__((always_inline)) void at_rows(const float *restrict m0, const float *restrict m1,
                                                          const float *restrict m2, const float *restrict m3,
                                                          const float *restrict m4, const float *restrict m5,
                                                          int64_t n, float *restrict o)
{
    for (int64_t t = 0; t < n; t++)
        AT_ROWS(m0[t], m1[t], m2[t], m3[t], m4[t], m5[t], o[4 * t], o[4 * t + 1], o[4 * t + 2], o[4 * t + 3]);
}

/* Output channels [m0, m1). */
NT_CLONES NT_VECTORIZE static void output_range(void *arg, int64_t m0, int64_t m1)
{
    out_job *j = arg;
    const int64_t T = j->T, TW = j->TW, OH = j->OH, OW = j->OW, MT = j->M * T;
    /* s: the column transform of every tile (24 rows of T); out: the four
     * output rows of every tile row, interleaved (4 rows of 4T).  Both are
     * flat over all tiles (tile q = th*TW + t), so the loops are long. */
    float *buf = nt_malloc((size_t)(40 * T) * sizeof(float));
    if (!buf) {
        j->failed = 1;
        return;
    }
    float *s = buf, *out = buf + 24 * T;
    for (int64_t m = m0; m < m1; m++) {
        const float bv = j->bias ? j->bias[m] : 0.0f;
        float *ym = j->y + m * j->ystride;
        const float *mo = j->Mo + m * T;
        /* Columns: s[k][jj][q] = sum_i AT[k][i] * Mo[i*6+jj][q]. */
        for (int64_t jj = 0; jj < 6; jj++) {
            const float *r = mo + jj * MT;
            at_cols(r, r + 6 * MT, r + 12 * MT, r + 18 * MT, r + 24 * MT, r + 30 * MT, T, s + jj * T,
                    s + (6 + jj) * T, s + (12 + jj) * T, s + (18 + jj) * T);
        }
        /* Rows: four outputs per tile, out[k][4q + l]. */
        for (int64_t k = 0; k < 4; k++) {
            const float *sk = s + k * 6 * T;
            at_rows(sk, sk + T, sk + 2 * T, sk + 3 * T, sk + 4 * T, sk + 5 * T, T, out + k * 4 * T);
        }
        /* Output row 4th+k is out[k][4*th*TW ..][0, OW). */
        for (int64_t th = 0; th < j->TH; th++)
            for (int64_t k = 0; k < 4 && 4 * th + k < OH; k++) {
                float *yr = ym + (4 * th + k) * OW;
                const float *o = out + k * 4 * T + th * 4 * TW;
                for (int64_t x = 0; x < OW; x++)
                    yr[x] = o[x] + bv;
            }
    }
    free(buf);
}

/* F(2x2, 3x3) output transform of channels [m0, m1): each 2x2 output
 * tile is A^T Mo A + bias with A^T = [1 1 1 0; 0 1 -1 -1]. */
NT_CLONES NT_VECTORIZE static void output2_range(void *arg, int64_t m0, int64_t m1)
{
    const out_job *j = arg;
    const int64_t T = j->T, TW = j->TW, OH = j->OH, OW = j->OW, MT = j->M * T;
    float s[2 * 4 * MAX_TW], out[2 * 2 * MAX_TW];
    for (int64_t m = m0; m < m1; m++) {
        const float bv = j->bias ? j->bias[m] : 0.0f;
        float *ym = j->y + m * j->ystride;
        for (int64_t th = 0; th < j->TH; th++) {
            const float *mo = j->Mo + m * T + th * TW;
            for (int64_t jj = 0; jj < 4; jj++) {
                const float *r = mo + jj * MT;
                for (int64_t t = 0; t < TW; t++) {
                    float a0 = r[t], a1 = r[4 * MT + t], a2 = r[8 * MT + t], a3 = r[12 * MT + t];
                    s[jj * TW + t] = (a0 + a1) + a2;
                    s[(4 + jj) * TW + t] = (a1 - a2) - a3;
                }
            }
            for (int64_t k = 0; k < 2; k++) {
                const float *sk = s + k * 4 * TW;
                float *o = out + k * 2 * TW;
                for (int64_t t = 0; t < TW; t++) {
                    float a0 = sk[t], a1 = sk[TW + t], a2 = sk[2 * TW + t], a3 = sk[3 * TW + t];
                    o[2 * t] = (a0 + a1) + a2;
                    o[2 * t + 1] = (a1 - a2) - a3;
                }
            }
            for (int64_t k = 0; k < 2 && 2 * th + k < OH; k++) {
                float *yr = ym + (2 * th + k) * OW;
                const float *o = out + k * 2 * TW;
                for (int64_t x = 0; x < OW; x++)
                    yr[x] = o[x] + bv;
            }
        }
    }
}

/* Workspace budget per node (V and Mo together) before the image is split
 * into bands; a band is never less than one tile row nor, when the image has
 * them, fewer than BAND_MIN_TILES tiles, so the GEMMs stay wide. */
#define BAND_BYTES ((size_t)8 << 20)
#define BAND_MIN_TILES 256

/* Tile rows per band. */
static int64_t band_rows(nt_sgemm_isa isa, int np, int64_t C, int64_t M, int tile, int64_t OH, int64_t TW)
{
    const int64_t TH = (OH + tile - 1) / tile;
    /* bytes per tile row: V (packed, padded to the kernels' panels) and Mo */
    const double row = (double)np * ((double)nt_sgemm_b_size(isa, C, TW) + (double)(M * TW)) * sizeof(float);
    int64_t rows = (int64_t)((double)BAND_BYTES / row);
    rows = NT_MAX(rows, (BAND_MIN_TILES + TW - 1) / TW);
    return NT_MAX((int64_t)1, NT_MIN(rows, TH));
}

nt_status nt_wino_conv(nt_exec *exec, nt_wino **state, bool w_const, const nt_window *w, int64_t N, int64_t C,
                       int64_t M, const float *x, const float *wt, const float *bias, float *y)
{
    const nt_sgemm_isa isa = nt_sgemm_isa_get();
    if (isa == NT_SGEMM_NONE)
        return nt_error(NT_ERR_UNSUPPORTED, "winograd: no sgemm kernels on this CPU");
    nt_wino *st = *state;
    if (!st) {
        st = *state = nt_calloc(1, sizeof *st);
        if (!st)
            return nt_error(NT_ERR_NOMEM, "winograd: no memory for the state");
    }
    const int tile = tile_for(w, C, M), np = (tile + 2) * (tile + 2);
    if (tile == 0)
        return nt_error(NT_ERR_UNSUPPORTED, "winograd: window not handled");
    if (!(st->src == wt && st->is_const && w_const && st->isa == (int)isa && st->M == M && st->C == C &&
          st->tile == tile)) {
        nt_status s = transform_filters(st, isa, tile, M, C, wt);
        if (s != NT_OK)
            return s;
        st->src = wt;
        st->is_const = w_const;
        st->isa = (int)isa;
        st->M = M;
        st->C = C;
    }
    const int64_t OH = w->out[0], OW = w->out[1], TW = (OW + tile - 1) / tile;
    /* The image is done in bands of tile rows so that the workspaces (V:
     * np x C x T, Mo: np x M x T) are bounded instead of growing with the
     * image: a 16-channel 512x512 map would need 75 MB of them at once.
     * Each tile is transformed, multiplied and transformed back exactly as
     * it would be in one pass, so the results do not depend on the bands. */
    const int64_t band = band_rows(isa, np, C, M, tile, OH, TW);
    int nr;
    int64_t kc;
    nt_sgemm_b_layout(isa, C, &nr, &kc);
    const int64_t Tmax = band * TW, Vmax = (int64_t)nt_sgemm_b_size(isa, C, Tmax);
    /* The session's shared workspace when there is one (one buffer for all
     * the model's convolutions); the node's own otherwise. */
    const size_t vbytes = (size_t)(np * Vmax) * sizeof(float), mbytes = (size_t)(np * M * Tmax) * sizeof(float);
    float *V = nt_exec_workspace(exec, 0, vbytes), *Mo = nt_exec_workspace(exec, 1, mbytes);
    if (!V)
        V = nt_scratch_get(&st->V, vbytes);
    if (!Mo)
        Mo = nt_scratch_get(&st->Mo, mbytes);
    if (!V || !Mo)
        return nt_error(NT_ERR_NOMEM, "winograd: no memory for %lld tiles", (long long)Tmax);
    const int64_t IN = w->in[0] * w->in[1];
    for (int64_t n = 0; n < N; n++)
        for (int64_t r0 = 0; r0 < OH; r0 += band * tile) {
            /* The band as a convolution of its own: output rows [r0, r0 + bh)
             * of the same image, the top padding shifted by r0. */
            nt_window wb = *w;
            const int64_t bh = NT_MIN(band * tile, OH - r0), TH = (bh + tile - 1) / tile, T = TH * TW;
            wb.out[0] = bh;
            wb.pad_begin[0] = w->pad_begin[0] - r0;
            const int64_t Tpad = (T + nr - 1) / nr * nr, Vs = (int64_t)nt_sgemm_b_size(isa, C, T);
            in_job ij = {.x = x + n * C * IN, .w = &wb, .C = C, .TH = TH, .TW = TW, .T = T, .Tpad = Tpad,
                         .kc = kc, .Vs = Vs, .nr = nr, .V = V};
            nt_parallel_for(exec, C, 4, tile == 4 ? input_range : input2_range, &ij);
            gemm_job gj = {.st = st, .V = V, .Mo = Mo, .T = T, .Vs = Vs};
            if (!ij.failed)
                nt_parallel_for(exec, np, 1, gemm_range, &gj);
            if (ij.failed || gj.failed)
                return nt_error(NT_ERR_NOMEM, "winograd: out of memory");
            out_job oj = {.Mo = Mo, .bias = bias, .y = y + n * M * OH * OW + r0 * OW, .M = M, .T = T, .TH = TH,
                          .TW = TW, .OH = bh, .OW = OW, .ystride = OH * OW};
            nt_parallel_for(exec, M, 4, tile == 4 ? output_range : output2_range, &oj);
            if (oj.failed)
                return nt_error(NT_ERR_NOMEM, "winograd: out of memory");
        }
    return NT_OK;
}
