/*
 * rnn_step.c — the per-time-step kernels of RNN, GRU and LSTM (see
 * rnn_step.h): what runs T times in a row, on data that fits in L1, for a
 * batch of a few rows, where a BLAS call or a call per gate costs more than
 * the arithmetic.
 *
 * The recurrent product keeps the accumulators of a block of 2 rows by 4
 * registers of columns for the whole k loop (R^T rows are read once per
 * block, not once per batch row).  Its width follows the instruction set:
 * 64 columns per block with AVX-512, 32 with AVX2, 16 with SSE — only the
 * blocking changes, never the order of the arithmetic (a multiply, then an
 * add, never an FMA), so every variant gives the same bits.  The variant
 * follows nt_sgemm_isa_get(), so tests can force each one.
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

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RNN_STEP_X86 1
#include <immintrin.h>
#endif

#define RNN_ALWAYS_INLINE inline __attribute__((always_inline))

/* The product for one instruction set: VT a register of W floats, LD/ST
 * unaligned load/store, MUL/ADD, SET1 a broadcast, ZERO.  block_SUF does R
 * (1 or 2) rows by 4 registers of columns from j; product_SUF walks the
 * rows two at a time and the columns 4 registers, then 1 register, then
 * one column at a time, all summing over k in the same order. */
#define RNN_DEFINE_PRODUCT(SUF, TGT, VT, W, LD, ST, MUL, ADD, SET1, ZERO)                                         \
    TGT static RNN_ALWAYS_INLINE void store_##SUF(VT acc, float *o, const float *add, int64_t c0, int64_t add_cols) \
    {                                                                                                              \
        if (c0 + W <= add_cols) {                                                                                  \
            ST(o, ADD(acc, LD(add + c0)));                                                                         \
            return;                                                                                                \
        }                                                                                                          \
        ST(o, acc);                                                                                                \
        for (int64_t c = c0; c < add_cols; c++) /* a register straddling add_cols */                              \
            o[c - c0] += add[c];                                                                                   \
    }                                                                                                              \
    TGT static RNN_ALWAYS_INLINE void block_##SUF(int R, int NV, const float *h, int64_t K, const float *rt,      \
                                                  int64_t ldr, int64_t j, const float *const *add,                \
                                                  int64_t add_cols, float *out, int64_t ldo)                      \
    {                                                                                                              \
        VT a0 = ZERO, a1 = ZERO, a2 = ZERO, a3 = ZERO, b0 = ZERO, b1 = ZERO, b2 = ZERO, b3 = ZERO;                \
        const float *h1 = h + (R == 2 ? K : 0);                                                                    \
        for (int64_t k = 0; k < K; k++) {                                                                          \
            const float *p = rt + k * ldr + j;                                                                     \
            VT r0 = LD(p), r1 = ZERO, r2 = ZERO, r3 = ZERO;                                                        \
            if (NV == 4)                                                                                           \
                r1 = LD(p + W), r2 = LD(p + 2 * W), r3 = LD(p + 3 * W);                                            \
            VT x = SET1(h[k]);                                                                                     \
            a0 = ADD(a0, MUL(x, r0));                                                                              \
            if (NV == 4)                                                                                           \
                a1 = ADD(a1, MUL(x, r1)), a2 = ADD(a2, MUL(x, r2)), a3 = ADD(a3, MUL(x, r3));                      \
            if (R == 2) {                                                                                          \
                VT y = SET1(h1[k]);                                                                                \
                b0 = ADD(b0, MUL(y, r0));                                                                          \
                if (NV == 4)                                                                                       \
                    b1 = ADD(b1, MUL(y, r1)), b2 = ADD(b2, MUL(y, r2)), b3 = ADD(b3, MUL(y, r3));                  \
            }                                                                                                      \
        }                                                                                                          \
        store_##SUF(a0, out + j, add[0], j, add_cols);                                                             \
        if (NV == 4) {                                                                                             \
            store_##SUF(a1, out + j + W, add[0], j + W, add_cols);                                                 \
            store_##SUF(a2, out + j + 2 * W, add[0], j + 2 * W, add_cols);                                         \
            store_##SUF(a3, out + j + 3 * W, add[0], j + 3 * W, add_cols);                                         \
        }                                                                                                          \
        if (R == 2) {                                                                                              \
            float *o = out + ldo;                                                                                  \
            store_##SUF(b0, o + j, add[1], j, add_cols);                                                           \
            if (NV == 4) {                                                                                         \
                store_##SUF(b1, o + j + W, add[1], j + W, add_cols);                                               \
                store_##SUF(b2, o + j + 2 * W, add[1], j + 2 * W, add_cols);                                       \
                store_##SUF(b3, o + j + 3 * W, add[1], j + 3 * W, add_cols);                                       \
            }                                                                                                      \
        }                                                                                                          \
    }                                                                                                              \
    TGT static RNN_ALWAYS_INLINE void rows_##SUF(int R, const float *h, int64_t K, const float *rt, int64_t ldr,   \
                                                 int64_t cols, const float *const *add, int64_t add_cols,         \
                                                 float *out, int64_t ldo)                                         \
    {                                                                                                              \
        int64_t j = 0;                                                                                             \
        for (; j + 4 * W <= cols; j += 4 * W)                                                                      \
            block_##SUF(R, 4, h, K, rt, ldr, j, add, add_cols, out, ldo);                                          \
        for (; j + W <= cols; j += W)                                                                              \
            block_##SUF(R, 1, h, K, rt, ldr, j, add, add_cols, out, ldo);                                          \
        for (; j < cols; j++)                                                                                      \
            for (int r = 0; r < R; r++) {                                                                          \
                float acc = 0;                                                                                     \
                for (int64_t k = 0; k < K; k++)                                                                    \
                    acc += h[r * K + k] * rt[k * ldr + j];                                                         \
                if (j < add_cols)                                                                                  \
                    acc += add[r][j];                                                                              \
                out[r * ldo + j] = acc;                                                                            \
            }                                                                                                      \
    }                                                                                                              \
    TGT static void product_##SUF(const float *h, int64_t N, int64_t K, const float *rt, int64_t ldr,              \
                                  int64_t cols, const float *const *add, int64_t add_cols, float *out,            \
                                  int64_t ldo)                                                                    \
    {                                                                                                              \
        int64_t n = 0;                                                                                             \
        for (; n + 2 <= N; n += 2)                                                                                 \
            rows_##SUF(2, h + n * K, K, rt, ldr, cols, add + n, add_cols, out + n * ldo, ldo);                     \
        if (n < N)                                                                                                 \
            rows_##SUF(1, h + n * K, K, rt, ldr, cols, add + n, add_cols, out + n * ldo, ldo);                     \
    }

#ifdef RNN_STEP_X86
RNN_DEFINE_PRODUCT(avx512, __attribute__((target("avx512f"))), __m512, 16, _mm512_loadu_ps, _mm512_storeu_ps,
                   _mm512_mul_ps, _mm512_add_ps, _mm512_set1_ps, _mm512_setzero_ps())
RNN_DEFINE_PRODUCT(avx2, __attribute__((target("avx2"))), __m256, 8, _mm256_loadu_ps, _mm256_storeu_ps,
                   _mm256_mul_ps, _mm256_add_ps, _mm256_set1_ps, _mm256_setzero_ps())
RNN_DEFINE_PRODUCT(sse, , __m128, 4, _mm_loadu_ps, _mm_storeu_ps, _mm_mul_ps, _mm_add_ps, _mm_set1_ps,
                   _mm_setzero_ps())
#else
/* one float per "register": the same order of operations in plain C */
#define RNN_F_LD(p) (*(p))
#define RNN_F_ST(p, v) (*(p) = (v))
#define RNN_F_MUL(a, b) ((a) * (b))
#define RNN_F_ADD(a, b) ((a) + (b))
#define RNN_F_SET1(a) (a)
RNN_DEFINE_PRODUCT(c, , float, 1, RNN_F_LD, RNN_F_ST, RNN_F_MUL, RNN_F_ADD, RNN_F_SET1, 0.0f)
#endif

void nt_rnn_step_product(const float *h, int64_t N, int64_t K, const float *rt, int64_t ldr, int64_t cols,
                         const float *const *add, int64_t add_cols, float *out, int64_t ldo)
{
#ifdef RNN_STEP_X86
    nt_sgemm_isa isa = nt_sgemm_isa_get();
    if (isa == NT_SGEMM_AVX512)
        product_avx512(h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
    else if (isa == NT_SGEMM_AVX2)
        product_avx2(h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
    else
        product_sse(h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
#else
    product_c(h, N, K, rt, ldr, cols, add, add_cols, out, ldo);
#endif
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
