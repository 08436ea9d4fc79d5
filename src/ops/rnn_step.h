/*
 * rnn_step.h — the per-time-step kernels of RNN, GRU and LSTM (rnn.c):
 * the small-batch recurrent product H x R^T and the cells with their default
 * activations, vectorised.
 *
 * Every kernel gives the same bits on every instruction set and as the
 * scalar formulation it replaces: products are summed over k in increasing
 * order, one multiply and one add per term (never an FMA), and the cell
 * arithmetic is written in the same order as the generic cells in rnn.c.
 */
#ifndef NT_RNN_STEP_H
#define NT_RNN_STEP_H

#include <stdint.h>

/* Largest batch the per-step product runs on nt_rnn_step_product; larger
 * batches use a BLAS call per step. */
#define NT_RNN_SMALL_N 4

/* out[n * ldo + j] = sum_k h[n * K + k] * rt[k * ldr + j]  (+ add[n][j] when
 * j < add_cols) for n < N <= NT_RNN_SMALL_N and j < cols: H (N, K) times R^T
 * stored (K, ldr), with the input projection of the step (add[n], one row
 * pointer per batch entry) added after the sum.  The product is the sum
 * over k in increasing order starting from 0, then add is added once. */
void nt_rnn_step_product(const float *h, int64_t N, int64_t K, const float *rt, int64_t ldr, int64_t cols,
                         const float *const *add, int64_t add_cols, float *out, int64_t ldo);

/* LSTM cell, activations Sigmoid/Tanh/Tanh, no clip, no peepholes, no
 * input_forget: g holds the pre-activations (i, o, f, c), H each, with the
 * input projection and biases already added; c and h (H) are updated. */
void nt_rnn_lstm_cell(const float *g, int64_t H, float *c, float *h);

/* GRU cell with linear_before_reset, activations Sigmoid/Tanh, no clip: g
 * holds z and r pre-activations (input projection added) then H Rh^T
 * without its bias; xwh is the input projection of the h gate (biases
 * folded), rbh its recurrent bias or NULL; h (H) is updated. */
void nt_rnn_gru_lbr_cell(const float *g, const float *xwh, const float *rbh, int64_t H, float *h);

#endif /* NT_RNN_STEP_H */
