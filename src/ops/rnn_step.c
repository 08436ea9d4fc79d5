/*
 * rnn_step.c — the per-time-step kernels of RNN, GRU and LSTM (see
 * rnn_step.h): what runs T times in a row, on data that fits in L1, for a
 * batch of a few rows, where a BLAS call or a call per gate costs more than
 * the arithmetic.
 *
 * The recurrent product keeps the accumulators of a block of rows and
 * columns in registers for the whole k loop (R^T rows are read once per
 * block, not once per batch row).  Its width follows the instruction set:
 * 64 columns per block with AVX-512, 32 with AVX2, 16 otherwise (GCC vector
 * extensions, lowered to zmm, ymm or xmm registers) — only the blocking
 * changes, never the order of the arithmetic, so every variant gives the
 * same bits.  The variant follows nt_sgemm_isa_get(), so tests can force
 * each one.
 *
 * The cells fuse a step's element-wise work into one loop per batch row,
 * compiled per CPU like the element-wise operators (ew_math.h's exp and
 * tanh, the Sigmoid and Tanh operators' own).
 */
#include "ops/rnn_step.h"

#include "ops/elementwise_common.h"
#include "ops/ew_math.h"
#include "ops/sgemm.h"

#include <stdbool.h>

/* 16 floats at any 4-byte alignment (loads and stores of unaligned rows). */
typedef float rnn_v16 __attribute__((vector_size(64), aligned(4), may_alias));

#define RNN_ALWAYS_INLINE inline __attribute__((always_inline))

/* One block: rows [0, R) (R 1 or 2) of h, columns [j, j + 16 * NV) (NV up to
 * 4).  Constant R and NV after inlining let the accumulators live in
 * registers. */
static RNN_ALWAYS_INLINE void product_block(int R, int NV, const float *h, int64_t K, const float *rt, int64_t ldr,
                                            int64_t j, const float *const *add, int64_t add_cols, float *out,
                                            int64_t ldo)
{
    rnn_v16 acc[2][4];
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            acc[r][v] = (rnn_v16){0};
    for (int64_t k = 0; k < K; k++) {
        const float *b = rt + k * ldr + j;
        rnn_v16 bv[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            bv[v] = *(const rnn_v16 *)(b + 16 * v);
#pragma GCC unroll 2
        for (int r = 0; r < R; r++) {
            const float a = h[r * K + k];
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                acc[r][v] += a * bv[v];
        }
    }
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            int64_t c0 = j + 16 * v;
            float *o = out + r * ldo + c0;
            rnn_v16 s = acc[r][v];
            if (c0 + 16 <= add_cols)
                s += *(const rnn_v16 *)(add[r] + c0);
            *(rnn_v16 *)o = s;
            if (c0 + 16 > add_cols) /* a block straddling add_cols (H not a multiple of 16) */
                for (int64_t c = c0; c < add_cols; c++)
                    o[c - c0] += add[r][c];
        }
}

/* Rows [n0, n0 + R) over all columns: blocks of 16 * NV columns, then of 16,
 * then single columns summed in the same order. */
static RNN_ALWAYS_INLINE void product_rows(int R, int NV, const float *h, int64_t K, const float *rt, int64_t ldr,
                                           int64_t cols, const float *const *add, int64_t add_cols, float *out,
                                           int64_t ldo)
{
    int64_t j = 0;
    for (; j + 16 * NV <= cols; j += 16 * NV)
        product_block(R, NV, h, K, rt, ldr, j, add, add_cols, out, ldo);
    if (NV > 1)
        for (; j + 16 <= cols; j += 16)
            product_block(R, 1, h, K, rt, ldr, j, add, add_cols, out, ldo);
    for (; j < cols; j++)
        for (int r = 0; r < R; r++) {
            float acc = 0;
            for (int64_t k = 0; k < K; k++)
                acc += h[r * K + k] * rt[k * ldr + j];
            if (j < add_cols)
                acc += add[r][j];
            out[r * ldo + j] = acc;
        }
}

static RNN_ALWAYS_INLINE void product_all(int NV, const float *h, int64_t N, int64_t K, const float *rt,
                                          int64_t ldr, int64_t cols, const float *const *add, int64_t add_cols,
                                          float *out, int64_t ldo)
{
    int64_t n = 0;
    for (; n + 2 <= N; n += 2)
        product_rows(2, NV, h + n * K, K, rt, ldr, cols, add + n, add_cols, out + n * ldo, ldo);
    if (n < N)
        product_rows(1, NV, h + n * K, K, rt, ldr, cols, add + n, add_cols, out + n * ldo, ldo);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("avx512f"))) static void product_avx512(const float *h, int64_t N, int64_t K, const float *rt,
                                                              int64_t ldr, int64_t cols, const float *const *add,
                                                              int64_t add_cols, float *out, int64_t ldo)
{
    product_all(4, h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
}

__attribute__((target("avx2"))) static void product_avx2(const float *h, int64_t N, int64_t K, const float *rt,
                                                         int64_t ldr, int64_t cols, const float *const *add,
                                                         int64_t add_cols, float *out, int64_t ldo)
{
    product_all(2, h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
}
#endif

static void product_base(const float *h, int64_t N, int64_t K, const float *rt, int64_t ldr, int64_t cols,
                         const float *const *add, int64_t add_cols, float *out, int64_t ldo)
{
    product_all(1, h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
}

void nt_rnn_step_product(const float *h, int64_t N, int64_t K, const float *rt, int64_t ldr, int64_t cols,
                         const float *const *add, int64_t add_cols, float *out, int64_t ldo)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    nt_sgemm_isa isa = nt_sgemm_isa_get();
    if (isa == NT_SGEMM_AVX512) {
        product_avx512(h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
        return;
    }
    if (isa == NT_SGEMM_AVX2) {
        product_avx2(h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
        return;
    }
#endif
    product_base(h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
}

/* ---------------------------------------------------------------- cells */

/* The expressions of rnn.c's generic cells with their default activations,
 * element by element: sigmoid(x) = 1 / (1 + e^-x). */
NT_EW_NO_TRAP static inline float step_sigmoid(float x) { return 1.0f / (1.0f + nt_ew_expf(-x)); }

NT_EW_NO_TRAP NT_EW_ATTR_FLOAT static void lstm_cell(const float *restrict g, int64_t H, float *restrict c,
                                                     float *restrict h)
{
    const float *gi = g, *go = g + H, *gf = g + 2 * H, *gc = g + 3 * H;
    for (int64_t j = 0; j < H; j++) {
        float i = step_sigmoid(gi[j]), f = step_sigmoid(gf[j]), cc = nt_ew_tanhf(gc[j]);
        float cn = f * c[j] + i * cc;
        c[j] = cn;
        h[j] = step_sigmoid(go[j]) * nt_ew_tanhf(cn);
    }
}

void nt_rnn_lstm_cell(const float *g, int64_t H, float *c, float *h) { lstm_cell(g, H, c, h); }

NT_EW_NO_TRAP NT_EW_ATTR_FLOAT static void gru_lbr_cell(const float *restrict g, const float *restrict xwh,
                                                        const float *restrict rbh, int64_t H, float *restrict h)
{
    const float *gz = g, *gr = g + H, *gh = g + 2 * H;
    if (rbh)
        for (int64_t j = 0; j < H; j++) {
            float z = step_sigmoid(gz[j]), r = step_sigmoid(gr[j]);
            float hh = nt_ew_tanhf(xwh[j] + r * (gh[j] + rbh[j]));
            h[j] = (1.0f - z) * hh + z * h[j];
        }
    else
        for (int64_t j = 0; j < H; j++) {
            float z = step_sigmoid(gz[j]), r = step_sigmoid(gr[j]);
            float hh = nt_ew_tanhf(xwh[j] + r * (gh[j] + 0.0f));
            h[j] = (1.0f - z) * hh + z * h[j];
        }
}

void nt_rnn_gru_lbr_cell(const float *g, const float *xwh, const float *rbh, int64_t H, float *h)
{
    gru_lbr_cell(g, xwh, rbh, H, h);
}
