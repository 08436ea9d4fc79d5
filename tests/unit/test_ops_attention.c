/*
 * test_ops_attention.c — attention.c and attention_flex.c through the
 * registry: Attention in 4-D and 3-D layouts against a direct double
 * reference (grouped-query heads, past key/value with present outputs, a
 * float mask plus the causal mask offset by the past length, softcap, every
 * qk_matmul_output mode), fully masked rows giving zeros, opset-24 padding
 * (nonpad_kv_seqlen, short bool masks), float16 storage, shape errors and
 * declines, static inference, and FlexAttention without mods.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "ops/kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- harness: op_harness.h runs a kernel through the registry as the
 * executor does; these wrappers keep this file's call shapes. */

#include "op_harness.h"

/* prepare, infer, allocate, compute.  out[i] get new tensors except where
 * want_out is given and want_out[i] is false (an omitted optional output,
 * left NULL).  Returns the first failing status (outputs freed then). */
static nt_status tn_run_mask(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor **out,
                             const bool *want_out)
{
    return oh_run(t, opset, n_in, in, n_out, out, want_out, NULL);
}

static NT_UNUSED nt_status tn_run(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor **out)
{
    return tn_run_mask(t, opset, n_in, in, n_out, out, NULL);
}

/* Static-mode infer only, one output; y is caller storage. */
static NT_UNUSED nt_status tn_infer_static(tnode *t, int opset, int n_in, nt_tensor **in, nt_tensor *y)
{
    nt_tensor *out[1] = {y};
    return oh_infer_static(t, opset, n_in, in, 1, out);
}

/* ---- reference: q (B, Hq, Sq, Dk), k (B, Hkv, T, Dk), v (B, Hkv, T, Dv),
 * bias (Sq, T) or NULL, causal offset < 0 for none.  qk receives the scores
 * at stage `mode` (0 raw, 1 softcapped, 2 biased, 3 probabilities). */
static void ref_attention(const float *q, const float *k, const float *v, int64_t B, int64_t Hq, int64_t Hkv,
                          int64_t Sq, int64_t T, int64_t Dk, int64_t Dv, double scale, double softcap,
                          const float *bias, int64_t causal_off, int mode, float *y, float *qk)
{
    double s[64];
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < Hq; h++) {
            int64_t kh = h / (Hq / Hkv);
            for (int64_t i = 0; i < Sq; i++) {
                bool all_masked = true;
                for (int64_t j = 0; j < T; j++) {
                    double acc = 0;
                    for (int64_t d = 0; d < Dk; d++)
                        acc += (double)q[((b * Hq + h) * Sq + i) * Dk + d] * k[((b * Hkv + kh) * T + j) * Dk + d];
                    acc *= scale;
                    float *qo = qk ? qk + ((b * Hq + h) * Sq + i) * T + j : NULL;
                    if (qo && mode == 0)
                        *qo = (float)acc;
                    if (softcap != 0)
                        acc = softcap * tanh(acc / softcap);
                    if (qo && mode == 1)
                        *qo = (float)acc;
                    double bv = bias ? bias[i * T + j] : 0;
                    if (causal_off >= 0 && j > i + causal_off)
                        bv = -INFINITY;
                    if (!isinf(bv))
                        all_masked = false;
                    s[j] = acc + bv;
                    if (qo && mode == 2)
                        *qo = (float)s[j];
                }
                double mx = -INFINITY, sum = 0;
                for (int64_t j = 0; j < T; j++)
                    mx = fmax(mx, s[j]);
                for (int64_t j = 0; j < T; j++)
                    sum += exp(s[j] - mx);
                for (int64_t j = 0; j < T; j++) {
                    s[j] = all_masked ? 0 : exp(s[j] - mx) / sum;
                    if (qk && mode == 3)
                        qk[((b * Hq + h) * Sq + i) * T + j] = (float)s[j];
                }
                for (int64_t d = 0; d < Dv; d++) {
                    double acc = 0;
                    for (int64_t j = 0; j < T; j++)
                        acc += s[j] * v[((b * Hkv + kh) * T + j) * Dv + d];
                    y[((b * Hq + h) * Sq + i) * Dv + d] = (float)acc;
                }
            }
        }
}

/* MHA, 4-D, no mask: Y matches the reference. */
static void test_attention_basic(void **st)
{
    (void)st;
    enum { B = 2, H = 2, S = 3, T = 4, D = 4 };
    float q[B * H * S * D], k[B * H * T * D], v[B * H * T * D], want[B * H * S * D];
    fill(q, B * H * S * D, 1), fill(k, B * H * T * D, 2), fill(v, B * H * T * D, 3);
    const int64_t qd[4] = {B, H, S, D}, kd[4] = {B, H, T, D};
    nt_tensor *in[3] = {mkf(4, qd, q), mkf(4, kd, k), mkf(4, kd, v)};
    tnode t;
    tn_init(&t, "Attention");
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 23, 3, in, 1, out), NT_OK);
    expect_shape(out[0], 4, qd);
    ref_attention(q, k, v, B, H, H, S, T, D, D, 0.5, 0, NULL, -1, 0, want, NULL);
    expect_close(out[0]->data, want, B * H * S * D, 1e-5);
    free_all(3, in);
    free_all(1, out);
}

/* GQA (4 query heads on 2 kv heads), past key/value, float mask, causal with
 * the past offset, softcap and an explicit scale; every output present and
 * each qk_matmul_output mode checked. */
static void test_attention_gqa_past_causal_modes(void **st)
{
    (void)st;
    enum { B = 1, Hq = 4, Hkv = 2, S = 2, P = 2, T = 4, D = 3 };
    float q[B * Hq * S * D], k[B * Hkv * S * D], v[B * Hkv * S * D], pk[B * Hkv * P * D], pv[B * Hkv * P * D];
    float mask[S * T], kfull[B * Hkv * T * D], vfull[B * Hkv * T * D];
    fill(q, B * Hq * S * D, 4), fill(k, B * Hkv * S * D, 5), fill(v, B * Hkv * S * D, 6);
    fill(pk, B * Hkv * P * D, 7), fill(pv, B * Hkv * P * D, 8), fill(mask, S * T, 9);
    mask[1] = -INFINITY;
    for (int h = 0; h < Hkv; h++)
        for (int j = 0; j < T; j++)
            for (int d = 0; d < D; d++) {
                kfull[(h * T + j) * D + d] = j < P ? pk[(h * P + j) * D + d] : k[(h * S + j - P) * D + d];
                vfull[(h * T + j) * D + d] = j < P ? pv[(h * P + j) * D + d] : v[(h * S + j - P) * D + d];
            }
    const int64_t qd[4] = {B, Hq, S, D}, kd[4] = {B, Hkv, S, D}, pd[4] = {B, Hkv, P, D}, md[2] = {S, T};
    for (int mode = 0; mode < 4; mode++) {
        nt_tensor *in[6] = {mkf(4, qd, q), mkf(4, kd, k), mkf(4, kd, v), mkf(2, md, mask), mkf(4, pd, pk),
                            mkf(4, pd, pv)};
        tnode t;
        tn_init(&t, "Attention");
        a_int(&t, "is_causal", 1);
        a_float(&t, "scale", 0.3f);
        a_float(&t, "softcap", 1.5f);
        a_int(&t, "qk_matmul_output_mode", mode);
        nt_tensor *out[4];
        assert_int_equal(tn_run(&t, 23, 6, in, 4, out), NT_OK);
        float want[B * Hq * S * D], qk[B * Hq * S * T];
        ref_attention(q, kfull, vfull, B, Hq, Hkv, S, T, D, D, 0.3, 1.5, mask, P, mode, want, qk);
        expect_close(out[0]->data, want, B * Hq * S * D, 1e-5);
        expect_close(out[1]->data, kfull, B * Hkv * T * D, 0);
        expect_close(out[2]->data, vfull, B * Hkv * T * D, 0);
        const int64_t qkd[4] = {B, Hq, S, T};
        expect_shape(out[3], 4, qkd);
        expect_close(out[3]->data, qk, B * Hq * S * T, 1e-5);
        free_all(6, in);
        free_all(4, out);
    }
}

/* 3-D layout (B, S, H*D) in and out, V head size different from K's;
 * equals the 4-D computation on the transposed data. */
static void test_attention_3d(void **st)
{
    (void)st;
    enum { B = 1, H = 2, S = 2, T = 3, Dk = 2, Dv = 3 };
    float q3[B * S * H * Dk], k3[B * T * H * Dk], v3[B * T * H * Dv];
    fill(q3, B * S * H * Dk, 11), fill(k3, B * T * H * Dk, 12), fill(v3, B * T * H * Dv, 13);
    float q4[B * H * S * Dk], k4[B * H * T * Dk], v4[B * H * T * Dv], y4[B * H * S * Dv];
    for (int h = 0; h < H; h++) {
        for (int s = 0; s < S; s++)
            for (int d = 0; d < Dk; d++)
                q4[(h * S + s) * Dk + d] = q3[(s * H + h) * Dk + d];
        for (int s = 0; s < T; s++) {
            for (int d = 0; d < Dk; d++)
                k4[(h * T + s) * Dk + d] = k3[(s * H + h) * Dk + d];
            for (int d = 0; d < Dv; d++)
                v4[(h * T + s) * Dv + d] = v3[(s * H + h) * Dv + d];
        }
    }
    ref_attention(q4, k4, v4, B, H, H, S, T, Dk, Dv, 1.0 / sqrt(Dk), 0, NULL, -1, 0, y4, NULL);
    const int64_t qd[3] = {B, S, H * Dk}, kd[3] = {B, T, H * Dk}, vd[3] = {B, T, H * Dv};
    nt_tensor *in[3] = {mkf(3, qd, q3), mkf(3, kd, k3), mkf(3, vd, v3)};
    tnode t;
    tn_init(&t, "Attention");
    a_int(&t, "q_num_heads", H);
    a_int(&t, "kv_num_heads", H);
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 23, 3, in, 1, out), NT_OK);
    const int64_t yd[3] = {B, S, H * Dv};
    expect_shape(out[0], 3, yd);
    const float *y = out[0]->data;
    for (int h = 0; h < H; h++)
        for (int s = 0; s < S; s++)
            for (int d = 0; d < Dv; d++)
                assert_float_equal(y[(s * H + h) * Dv + d], y4[(h * S + s) * Dv + d], 1e-5);
    free_all(3, in);
    free_all(1, out);
    /* Without the head attributes a 3-D input is a shape error. */
    tn_init(&t, "Attention");
    nt_tensor *in2[3] = {mkf(3, qd, q3), mkf(3, kd, k3), mkf(3, vd, v3)};
    assert_int_equal(tn_run(&t, 23, 3, in2, 1, out), NT_ERR_SHAPE);
    free_all(3, in2);
}

/* A bool mask row of all false gives a zero output row and zero
 * probabilities (mode 3), not NaN. */
static void test_attention_fully_masked_row(void **st)
{
    (void)st;
    enum { S = 2, D = 2 };
    float q[S * D] = {1, 2, 3, 4}, k[S * D] = {1, 0, 0, 1}, v[S * D] = {5, 6, 7, 8};
    uint8_t m[S * S] = {1, 1, 0, 0};
    const int64_t d4[4] = {1, 1, S, D}, md[2] = {S, S};
    nt_tensor *in[4] = {mkf(4, d4, q), mkf(4, d4, k), mkf(4, d4, v), mk(NT_DTYPE_BOOL, 2, md, m)};
    tnode t;
    tn_init(&t, "Attention");
    a_int(&t, "qk_matmul_output_mode", 3);
    nt_tensor *out[4];
    const bool want_out[4] = {true, false, false, true};
    assert_int_equal(tn_run_mask(&t, 23, 4, in, 4, out, want_out), NT_OK);
    const float *y = out[0]->data, *p = out[3]->data;
    assert_false(isnan(y[0]));
    assert_float_equal(y[2], 0, 0);
    assert_float_equal(y[3], 0, 0);
    assert_float_equal(p[2], 0, 0);
    assert_float_equal(p[3], 0, 0);
    assert_float_equal(p[0] + p[1], 1, 1e-6);
    free_all(4, in);
    free_all(4, out);
}

/* Opset 24: nonpad_kv_seqlen masks padded keys per batch, and with is_causal
 * the diagonal is offset by nonpad - Sq; a short bool mask is padded with
 * -inf (masked) columns. */
static void test_attention_nonpad_and_short_mask(void **st)
{
    (void)st;
    enum { B = 2, S = 1, T = 4, D = 2 };
    float q[B * S * D], k[B * T * D], v[B * T * D];
    fill(q, B * S * D, 21), fill(k, B * T * D, 22), fill(v, B * T * D, 23);
    const int64_t qd[4] = {B, 1, S, D}, kd[4] = {B, 1, T, D}, nd[1] = {B};
    const int64_t nonpad[B] = {2, 3};
    nt_tensor *in[7] = {mkf(4, qd, q), mkf(4, kd, k), mkf(4, kd, v), NULL, NULL, NULL,
                        mk(NT_DTYPE_INT64, 1, nd, nonpad)};
    tnode t;
    tn_init(&t, "Attention");
    a_int(&t, "is_causal", 1);
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 24, 7, in, 1, out), NT_OK);
    for (int b = 0; b < B; b++) {
        /* the reference on the first nonpad[b] keys only */
        float want[D];
        ref_attention(q + b * D, k + b * T * D, v + b * T * D, 1, 1, 1, S, nonpad[b], D, D, 1.0 / sqrt(D), 0, NULL,
                      -1, 0, want, NULL);
        expect_close((const float *)out[0]->data + b * D, want, D, 1e-5);
    }
    free_all(7, in);
    free_all(1, out);

    /* A (1, 2) bool mask over T = 4 keys: only the first two can be seen. */
    uint8_t m[2] = {1, 1};
    const int64_t md[2] = {1, 2}, q1[4] = {1, 1, 1, D}, k1[4] = {1, 1, T, D};
    nt_tensor *in2[4] = {mkf(4, q1, q), mkf(4, k1, k), mkf(4, k1, v), mk(NT_DTYPE_BOOL, 2, md, m)};
    tn_init(&t, "Attention");
    assert_int_equal(tn_run(&t, 24, 4, in2, 1, out), NT_OK);
    float want[D];
    ref_attention(q, k, v, 1, 1, 1, 1, 2, D, D, 1.0 / sqrt(D), 0, NULL, -1, 0, want, NULL);
    expect_close(out[0]->data, want, D, 1e-5);
    free_all(1, out);
    /* Opset 23 does not pad: the same mask is a shape error. */
    tn_init(&t, "Attention");
    assert_int_equal(tn_run(&t, 23, 4, in2, 1, out), NT_ERR_SHAPE);
    free_all(4, in2);
}

/* float16 storage: within float16 precision of the float32 result. */
static void test_attention_f16(void **st)
{
    (void)st;
    enum { H = 2, S = 3, D = 4, N = H * S * D };
    float q[N], k[N], v[N], want[N];
    fill(q, N, 31), fill(k, N, 32), fill(v, N, 33);
    uint16_t qh[N], kh[N], vh[N];
    for (int i = 0; i < N; i++) {
        qh[i] = nt_float_to_half(q[i]), kh[i] = nt_float_to_half(k[i]), vh[i] = nt_float_to_half(v[i]);
        q[i] = nt_half_to_float(qh[i]), k[i] = nt_half_to_float(kh[i]), v[i] = nt_half_to_float(vh[i]);
    }
    const int64_t d4[4] = {1, H, S, D};
    nt_tensor *in[3] = {mk(NT_DTYPE_FLOAT16, 4, d4, qh), mk(NT_DTYPE_FLOAT16, 4, d4, kh),
                        mk(NT_DTYPE_FLOAT16, 4, d4, vh)};
    tnode t;
    tn_init(&t, "Attention");
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 23, 3, in, 1, out), NT_OK);
    assert_int_equal(out[0]->dtype, NT_DTYPE_FLOAT16);
    ref_attention(q, k, v, 1, H, H, S, S, D, D, 0.5, 0, NULL, -1, 0, want, NULL);
    float got[N];
    for (int i = 0; i < N; i++)
        got[i] = nt_half_to_float(((const uint16_t *)out[0]->data)[i]);
    expect_close(got, want, N, 3e-3);
    free_all(3, in);
    free_all(1, out);
}

/* Declines and errors: int inputs, heads that do not divide, static
 * inference with unknown dims. */
static void test_attention_errors_and_static(void **st)
{
    (void)st;
    const int64_t qd[4] = {1, 3, 2, 2}, kd[4] = {1, 2, 2, 2};
    nt_tensor *in[3] = {mkf(4, qd, NULL), mkf(4, kd, NULL), mkf(4, kd, NULL)};
    memset(in[0]->data, 0, nt_tensor_nbytes(in[0]));
    memset(in[1]->data, 0, nt_tensor_nbytes(in[1]));
    memset(in[2]->data, 0, nt_tensor_nbytes(in[2]));
    tnode t;
    tn_init(&t, "Attention");
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 23, 3, in, 1, out), NT_ERR_SHAPE); /* 3 heads on 2 */
    free_all(3, in);

    const int64_t id[4] = {1, 1, 2, 2};
    nt_tensor *ii[3] = {mk(NT_DTYPE_INT32, 4, id, NULL), mk(NT_DTYPE_INT32, 4, id, NULL),
                        mk(NT_DTYPE_INT32, 4, id, NULL)};
    nt_tensor y = {0};
    tn_init(&t, "Attention");
    assert_int_equal(tn_infer_static(&t, 23, 3, ii, &y), NT_ERR_UNSUPPORTED);
    free_all(3, ii);

    tn_init(&t, "Attention");
    a_int(&t, "qk_matmul_output_mode", 7);
    nt_tensor *fi[3] = {mkf(4, id, NULL), mkf(4, id, NULL), mkf(4, id, NULL)};
    assert_int_equal(tn_infer_static(&t, 23, 3, fi, &y), NT_ERR_UNSUPPORTED);

    /* unknown sequence length: rank-unknown output, dtype kept */
    fi[0]->dims[2] = -1;
    tn_init(&t, "Attention");
    memset(&y, 0, sizeof y);
    assert_int_equal(tn_infer_static(&t, 23, 3, fi, &y), NT_OK);
    assert_int_equal(y.ndim, -1);
    assert_int_equal(y.dtype, NT_DTYPE_FLOAT);
    fi[0]->dims[2] = 2;
    free_all(3, fi);
}

/* FlexAttention without mods is plain attention with the given scale; GQA. */
static void test_flexattention_plain(void **st)
{
    (void)st;
    enum { Hq = 2, Hkv = 1, L = 2, S = 3, E = 2, Ev = 3 };
    float q[Hq * L * E], k[Hkv * S * E], v[Hkv * S * Ev], want[Hq * L * Ev];
    fill(q, Hq * L * E, 41), fill(k, Hkv * S * E, 42), fill(v, Hkv * S * Ev, 43);
    const int64_t qd[4] = {1, Hq, L, E}, kd[4] = {1, Hkv, S, E}, vd[4] = {1, Hkv, S, Ev};
    nt_tensor *in[3] = {mkf(4, qd, q), mkf(4, kd, k), mkf(4, vd, v)};
    tnode t;
    tn_init(&t, "FlexAttention");
    t.node.domain = "ai.onnx.preview";
    a_float(&t, "scale", 0.25f);
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 1, 3, in, 1, out), NT_OK);
    const int64_t yd[4] = {1, Hq, L, Ev};
    expect_shape(out[0], 4, yd);
    ref_attention(q, k, v, 1, Hq, Hkv, L, S, E, Ev, 0.25, 0, NULL, -1, 0, want, NULL);
    expect_close(out[0]->data, want, Hq * L * Ev, 1e-5);
    free_all(3, in);
    free_all(1, out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_basic),
        cmocka_unit_test(test_attention_gqa_past_causal_modes),
        cmocka_unit_test(test_attention_3d),
        cmocka_unit_test(test_attention_fully_masked_row),
        cmocka_unit_test(test_attention_nonpad_and_short_mask),
        cmocka_unit_test(test_attention_f16),
        cmocka_unit_test(test_attention_errors_and_static),
        cmocka_unit_test(test_flexattention_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
