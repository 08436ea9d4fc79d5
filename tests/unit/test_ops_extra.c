/*
 * test_ops_extra.c — extra.c, extra_recurrent.c and extra_ml.c through the
 * registry:
 * BitCast (bits kept, width mismatch refused), CumProd (inclusive,
 * exclusive, reverse, an inner axis, int32), RotaryEmbedding (half-split and
 * interleaved, partial rotary_embedding_dim, position ids, 3-D input),
 * AffineGrid (2-D identity with and without align_corners, 3-D shape),
 * SwiGLU (alpha, float16),
 * CausalConvWithState (state carried across calls equals one long call,
 * silu) and LinearAttention (each update rule against a direct recurrence,
 * state carried across calls, grouped-query heads), TfIdfVectorizer (TF,
 * IDF, TFIDF with skips, batched), Binarizer and ArrayFeatureExtractor.
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

static void test_bitcast(void **st)
{
    (void)st;
    float x[3] = {1.0f, -2.5f, 0.0f};
    const int64_t d[1] = {3};
    nt_tensor *in[1] = {mkf(1, d, x)};
    tnode t;
    tn_init(&t, "BitCast");
    a_int(&t, "to", NT_DTYPE_INT32);
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 26, 1, in, 1, out), NT_OK);
    assert_int_equal(out[0]->dtype, NT_DTYPE_INT32);
    expect_shape(out[0], 1, d);
    assert_memory_equal(out[0]->data, x, sizeof x);
    free_all(1, out);
    tn_init(&t, "BitCast");
    a_int(&t, "to", NT_DTYPE_INT64);
    assert_int_equal(tn_run(&t, 26, 1, in, 1, out), NT_ERR_SHAPE);
    tn_init(&t, "BitCast");
    a_int(&t, "to", NT_DTYPE_STRING);
    assert_int_equal(tn_run(&t, 26, 1, in, 1, out), NT_ERR_UNSUPPORTED);
    free_all(1, in);
}

static void test_cumprod(void **st)
{
    (void)st;
    double x[6] = {1, 2, 3, 4, 5, 6};
    const int64_t d[2] = {2, 3}, sd[1] = {1};
    struct {
        int64_t axis;
        int excl, rev;
        double want[6];
    } cases[] = {
        {1, 0, 0, {1, 2, 6, 4, 20, 120}},
        {1, 1, 0, {1, 1, 2, 1, 4, 20}},
        {1, 0, 1, {6, 6, 3, 120, 30, 6}},
        {1, 1, 1, {6, 3, 1, 30, 6, 1}},
        {0, 0, 0, {1, 2, 3, 4, 10, 18}},
        {-2, 1, 0, {1, 1, 1, 1, 2, 3}},
    };
    for (size_t c = 0; c < NT_ARRAY_LEN(cases); c++) {
        nt_tensor *in[2] = {mk(NT_DTYPE_DOUBLE, 2, d, x), mk(NT_DTYPE_INT64, 0, sd, &cases[c].axis)};
        tnode t;
        tn_init(&t, "CumProd");
        a_int(&t, "exclusive", cases[c].excl);
        a_int(&t, "reverse", cases[c].rev);
        nt_tensor *out[1];
        assert_int_equal(tn_run(&t, 26, 2, in, 1, out), NT_OK);
        assert_memory_equal(out[0]->data, cases[c].want, sizeof x);
        free_all(2, in);
        free_all(1, out);
    }
    int32_t xi[3] = {2, -3, 4}, wi[3] = {2, -6, -24};
    int32_t ax = 0;
    const int64_t d1[1] = {3};
    nt_tensor *in[2] = {mk(NT_DTYPE_INT32, 1, d1, xi), mk(NT_DTYPE_INT32, 0, sd, &ax)};
    tnode t;
    tn_init(&t, "CumProd");
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 26, 2, in, 1, out), NT_OK);
    assert_memory_equal(out[0]->data, wi, sizeof wi);
    free_all(1, out);
    ax = 1; /* out of range for rank 1 */
    memcpy(in[1]->data, &ax, sizeof ax);
    tn_init(&t, "CumProd");
    assert_int_equal(tn_run(&t, 26, 2, in, 1, out), NT_ERR_SHAPE);
    free_all(2, in);
}

/* Reference rotation of one head vector x (D) with cos/sin (R/2). */
static void ref_rope(const float *x, float *y, int D, int R, const float *c, const float *s, bool inter)
{
    memcpy(y, x, (size_t)D * sizeof *x);
    for (int i = 0; i < R / 2; i++) {
        int i1 = inter ? 2 * i : i, i2 = inter ? 2 * i + 1 : i + R / 2;
        y[i1] = c[i] * x[i1] - s[i] * x[i2];
        y[i2] = s[i] * x[i1] + c[i] * x[i2];
    }
}

static void test_rotary(void **st)
{
    (void)st;
    enum { B = 1, H = 2, S = 2, D = 6, R = 4, P = 5 };
    float x[B * H * S * D], cc[P * 3], sc[P * 3];
    fill(x, B * H * S * D, 51), fill(cc, P * 3, 52), fill(sc, P * 3, 53);
    int64_t pos[B * S] = {3, 1};
    const int64_t xd[4] = {B, H, S, D}, cd[2] = {P, 3}, pd[2] = {B, S};
    for (int inter = 0; inter < 2; inter++) {
        nt_tensor *in[4] = {mkf(4, xd, x), mkf(2, cd, cc), mkf(2, cd, sc), mk(NT_DTYPE_INT64, 2, pd, pos)};
        tnode t;
        tn_init(&t, "RotaryEmbedding");
        a_int(&t, "interleaved", inter);
        a_int(&t, "rotary_embedding_dim", R);
        nt_tensor *out[1];
        assert_int_equal(tn_run(&t, 23, 4, in, 1, out), NT_OK);
        for (int h = 0; h < H; h++)
            for (int s = 0; s < S; s++) {
                float want[D];
                ref_rope(x + (h * S + s) * D, want, D, R, cc + pos[s] * 3, sc + pos[s] * 3, inter);
                expect_close((const float *)out[0]->data + (h * S + s) * D, want, D, 1e-6);
            }
        free_all(4, in);
        free_all(1, out);
    }
    /* 3-D input (B, S, H*D), full rotation, caches per (batch, position). */
    float c3[B * S * 3], s3[B * S * 3], x3[B * S * H * D];
    fill(c3, B * S * 3, 54), fill(s3, B * S * 3, 55), fill(x3, B * S * H * D, 56);
    const int64_t x3d[3] = {B, S, H * D}, c3d[3] = {B, S, 3};
    nt_tensor *in[3] = {mkf(3, x3d, x3), mkf(3, c3d, c3), mkf(3, c3d, s3)};
    tnode t;
    tn_init(&t, "RotaryEmbedding");
    a_int(&t, "num_heads", H);
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 23, 3, in, 1, out), NT_OK);
    for (int s = 0; s < S; s++)
        for (int h = 0; h < H; h++) {
            float want[D];
            ref_rope(x3 + (s * H + h) * D, want, D, D, c3 + s * 3, s3 + s * 3, false);
            expect_close((const float *)out[0]->data + (s * H + h) * D, want, D, 1e-6);
        }
    free_all(1, out);
    /* 3-D without num_heads is a shape error. */
    tn_init(&t, "RotaryEmbedding");
    assert_int_equal(tn_run(&t, 23, 3, in, 1, out), NT_ERR_SHAPE);
    free_all(3, in);
}

static void test_affine_grid(void **st)
{
    (void)st;
    float theta[6] = {1, 0, 0, 0, 1, 0}; /* identity */
    const int64_t td[3] = {1, 2, 3}, sd[1] = {4};
    int64_t size[4] = {1, 1, 2, 3}; /* H = 2, W = 3 */
    for (int align = 0; align < 2; align++) {
        nt_tensor *in[2] = {mkf(3, td, theta), mk(NT_DTYPE_INT64, 1, sd, size)};
        tnode t;
        tn_init(&t, "AffineGrid");
        a_int(&t, "align_corners", align);
        nt_tensor *out[1];
        assert_int_equal(tn_run(&t, 20, 2, in, 1, out), NT_OK);
        const int64_t gd[4] = {1, 2, 3, 2};
        expect_shape(out[0], 4, gd);
        const float *g = out[0]->data;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) {
                float wx = align ? -1.0f + j : (2.0f * j + 1) / 3 - 1, wy = align ? -1.0f + 2.0f * i : (2.0f * i + 1) / 2 - 1;
                assert_float_equal(g[(i * 3 + j) * 2], wx, 1e-6);
                assert_float_equal(g[(i * 3 + j) * 2 + 1], wy, 1e-6);
            }
        free_all(2, in);
        free_all(1, out);
    }
    /* 3-D: theta (N, 3, 4), size (N, C, D, H, W) -> (N, D, H, W, 3); a
     * translation moves every point. */
    float th3[12] = {1, 0, 0, 0.5f, 0, 1, 0, 0, 0, 0, 1, -0.25f};
    int64_t s3[5] = {1, 1, 2, 2, 2};
    const int64_t t3d[3] = {1, 3, 4}, s3d[1] = {5};
    nt_tensor *in[2] = {mkf(3, t3d, th3), mk(NT_DTYPE_INT64, 1, s3d, s3)};
    tnode t;
    tn_init(&t, "AffineGrid");
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 20, 2, in, 1, out), NT_OK);
    const int64_t gd[5] = {1, 2, 2, 2, 3};
    expect_shape(out[0], 5, gd);
    const float *g = out[0]->data;
    assert_float_equal(g[0], -0.5f + 0.5f, 1e-6);  /* x at w = 0 */
    assert_float_equal(g[1], -0.5f, 1e-6);         /* y at h = 0 */
    assert_float_equal(g[2], -0.5f - 0.25f, 1e-6); /* z at d = 0 */
    free_all(2, in);
    free_all(1, out);
}

static void test_swiglu(void **st)
{
    (void)st;
    float a[4] = {-2, -0.5f, 0.5f, 3}, b[4] = {1, 2, -1, 0.5f}, want[4];
    for (int i = 0; i < 4; i++)
        want[i] = (float)(a[i] / (1 + exp(-0.7 * a[i])) * b[i]);
    const int64_t d[2] = {2, 2};
    nt_tensor *in[2] = {mkf(2, d, a), mkf(2, d, b)};
    tnode t;
    tn_init(&t, "SwiGLU");
    a_float(&t, "alpha", 0.7f);
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 28, 2, in, 1, out), NT_OK);
    expect_close(out[0]->data, want, 4, 1e-6);
    free_all(2, in);
    free_all(1, out);
    /* float16 with the default alpha = 1 */
    uint16_t ah[4], bh[4];
    for (int i = 0; i < 4; i++) {
        ah[i] = nt_float_to_half(a[i]), bh[i] = nt_float_to_half(b[i]);
        want[i] = (float)(a[i] / (1 + exp(-a[i])) * b[i]);
    }
    nt_tensor *hin[2] = {mk(NT_DTYPE_FLOAT16, 2, d, ah), mk(NT_DTYPE_FLOAT16, 2, d, bh)};
    tn_init(&t, "SwiGLU");
    assert_int_equal(tn_run(&t, 28, 2, hin, 1, out), NT_OK);
    float got[4];
    for (int i = 0; i < 4; i++)
        got[i] = nt_half_to_float(((const uint16_t *)out[0]->data)[i]);
    expect_close(got, want, 4, 2e-3);
    free_all(2, hin);
    free_all(1, out);
}

/* Two calls threading present_state into past_state equal one call on the
 * whole sequence; silu applies to every output. */
static void test_causal_conv_with_state(void **st)
{
    (void)st;
    enum { B = 1, C = 2, L = 6, K = 3, L1 = 4 };
    float x[B * C * L], w[C * K], bias[C] = {0.1f, -0.2f};
    fill(x, B * C * L, 61), fill(w, C * K, 62);
    const int64_t xd[3] = {B, C, L}, wd[3] = {C, 1, K}, bd[1] = {C};
    nt_tensor *in[3] = {mkf(3, xd, x), mkf(3, wd, w), mkf(1, bd, bias)};
    tnode t;
    tn_init(&t, "CausalConvWithState");
    a_str(&t, "activation", "silu");
    nt_tensor *full[2];
    assert_int_equal(tn_run(&t, 27, 3, in, 2, full), NT_OK);
    /* direct reference */
    for (int c = 0; c < C; c++)
        for (int l = 0; l < L; l++) {
            double acc = bias[c];
            for (int k = 0; k < K; k++) {
                int src = l + k - (K - 1);
                acc += src >= 0 ? (double)w[c * K + k] * x[c * L + src] : 0;
            }
            float want = (float)(acc / (1 + exp(-acc)));
            assert_float_equal(((const float *)full[0]->data)[c * L + l], want, 1e-5);
        }
    /* split: first L1 steps, then the rest with the state */
    float xa[C * L1], xb[C * (L - L1)];
    for (int c = 0; c < C; c++) {
        memcpy(xa + c * L1, x + c * L, L1 * sizeof(float));
        memcpy(xb + c * (L - L1), x + c * L + L1, (L - L1) * sizeof(float));
    }
    const int64_t ad[3] = {B, C, L1}, bd2[3] = {B, C, L - L1};
    nt_tensor *ina[3] = {mkf(3, ad, xa), in[1], in[2]};
    nt_tensor *oa[2], *ob[2];
    tn_init(&t, "CausalConvWithState");
    a_str(&t, "activation", "silu");
    assert_int_equal(tn_run(&t, 27, 3, ina, 2, oa), NT_OK);
    const int64_t sd[3] = {B, C, K - 1};
    expect_shape(oa[1], 3, sd);
    nt_tensor *inb[4] = {mkf(3, bd2, xb), in[1], in[2], oa[1]};
    tn_init(&t, "CausalConvWithState");
    a_str(&t, "activation", "silu");
    assert_int_equal(tn_run(&t, 27, 4, inb, 2, ob), NT_OK);
    for (int c = 0; c < C; c++) {
        expect_close((const float *)oa[0]->data + c * L1, (const float *)full[0]->data + c * L, L1, 1e-6);
        expect_close((const float *)ob[0]->data + c * (L - L1), (const float *)full[0]->data + c * L + L1, L - L1,
                     1e-6);
    }
    expect_close(ob[1]->data, full[1]->data, C * (K - 1), 0);
    nt_tensor_free(ina[0]);
    nt_tensor_free(inb[0]);
    free_all(2, oa);
    free_all(2, ob);
    free_all(2, full);
    tn_init(&t, "CausalConvWithState");
    a_str(&t, "activation", "gelu");
    assert_int_equal(tn_run(&t, 27, 3, in, 2, full), NT_ERR_UNSUPPORTED);
    free_all(3, in);
}

/* Direct recurrence for one kv head and one query head sharing it. */
static void ref_linatt(const char *rule, int T, int Dk, int Dv, const float *q, const float *k, const float *v,
                       const float *decay, const float *beta, double scale, double *S, float *y)
{
    for (int t = 0; t < T; t++) {
        const float *kt = k + t * Dk, *vt = v + t * Dv;
        if (!strcmp(rule, "gated") || !strcmp(rule, "gated_delta"))
            for (int i = 0; i < Dk; i++)
                for (int j = 0; j < Dv; j++)
                    S[i * Dv + j] *= exp(decay[t * Dk + i]);
        double w[8];
        for (int j = 0; j < Dv; j++) {
            w[j] = vt[j];
            if (!strcmp(rule, "delta") || !strcmp(rule, "gated_delta")) {
                double r = 0;
                for (int i = 0; i < Dk; i++)
                    r += S[i * Dv + j] * kt[i];
                w[j] = beta[t] * (vt[j] - r);
            }
        }
        for (int i = 0; i < Dk; i++)
            for (int j = 0; j < Dv; j++)
                S[i * Dv + j] += kt[i] * w[j];
        for (int j = 0; j < Dv; j++) {
            double acc = 0;
            for (int i = 0; i < Dk; i++)
                acc += q[t * Dk + i] * S[i * Dv + j];
            y[t * Dv + j] = (float)(scale * acc);
        }
    }
}

static void test_linear_attention(void **st)
{
    (void)st;
    enum { T = 3, Dk = 4, Dv = 3, Hq = 2 };
    const char *rules[] = {"linear", "gated", "delta", "gated_delta"};
    float q[T * Hq * Dk], k[T * Dk], v[T * Dv], decay[T * Dk], beta[T];
    fill(q, T * Hq * Dk, 71), fill(k, T * Dk, 72), fill(v, T * Dv, 73), fill(decay, T * Dk, 74);
    for (int i = 0; i < T; i++)
        beta[i] = 0.3f + 0.2f * (float)i;
    const int64_t qd[3] = {1, T, Hq * Dk}, kd[3] = {1, T, Dk}, vd[3] = {1, T, Dv}, bd[3] = {1, T, 1};
    for (size_t r = 0; r < NT_ARRAY_LEN(rules); r++) {
        nt_tensor *in[6] = {mkf(3, qd, q), mkf(3, kd, k), mkf(3, vd, v), NULL, mkf(3, kd, decay), mkf(3, bd, beta)};
        tnode t;
        tn_init(&t, "LinearAttention");
        a_str(&t, "update_rule", rules[r]);
        a_int(&t, "q_num_heads", Hq);
        a_int(&t, "kv_num_heads", 1);
        nt_tensor *out[2];
        assert_int_equal(tn_run(&t, 27, 6, in, 2, out), NT_OK);
        const int64_t od[3] = {1, T, Hq * Dv}, sd[4] = {1, 1, Dk, Dv};
        expect_shape(out[0], 3, od);
        expect_shape(out[1], 4, sd);
        for (int h = 0; h < Hq; h++) {
            double S[Dk * Dv] = {0};
            float qh[T * Dk], want[T * Dv];
            for (int s = 0; s < T; s++)
                memcpy(qh + s * Dk, q + (s * Hq + h) * Dk, Dk * sizeof(float));
            ref_linatt(rules[r], T, Dk, Dv, qh, k, v, decay, beta, 0.5, S, want);
            for (int s = 0; s < T; s++)
                expect_close((const float *)out[0]->data + (s * Hq + h) * Dv, want + s * Dv, Dv, 1e-5);
            float Sf[Dk * Dv];
            for (int i = 0; i < Dk * Dv; i++)
                Sf[i] = (float)S[i];
            expect_close(out[1]->data, Sf, Dk * Dv, 1e-5);
        }
        /* Continuing from present_state with one more step equals the
         * recurrence over T + 1 steps. */
        float q2[Hq * Dk], k2[Dk], v2[Dv], d2[Dk], b2[1] = {0.6f};
        fill(q2, Hq * Dk, 81), fill(k2, Dk, 82), fill(v2, Dv, 83), fill(d2, Dk, 84);
        const int64_t q1d[3] = {1, 1, Hq * Dk}, k1d[3] = {1, 1, Dk}, v1d[3] = {1, 1, Dv}, b1d[3] = {1, 1, 1};
        nt_tensor *in2[6] = {mkf(3, q1d, q2), mkf(3, k1d, k2), mkf(3, v1d, v2), out[1], mkf(3, k1d, d2),
                             mkf(3, b1d, b2)};
        nt_tensor *out2[2];
        tn_init(&t, "LinearAttention");
        a_str(&t, "update_rule", rules[r]);
        a_int(&t, "q_num_heads", Hq);
        a_int(&t, "kv_num_heads", 1);
        assert_int_equal(tn_run(&t, 27, 6, in2, 2, out2), NT_OK);
        {
            double S[Dk * Dv] = {0};
            float qa[(T + 1) * Dk], ka[(T + 1) * Dk], va[(T + 1) * Dv], da[(T + 1) * Dk], ba[T + 1], ya[(T + 1) * Dv];
            for (int s = 0; s < T; s++)
                memcpy(qa + s * Dk, q + s * Hq * Dk, Dk * sizeof(float));
            memcpy(qa + T * Dk, q2, Dk * sizeof(float));
            memcpy(ka, k, sizeof k), memcpy(ka + T * Dk, k2, sizeof k2);
            memcpy(va, v, sizeof v), memcpy(va + T * Dv, v2, sizeof v2);
            memcpy(da, decay, sizeof decay), memcpy(da + T * Dk, d2, sizeof d2);
            memcpy(ba, beta, sizeof beta), ba[T] = b2[0];
            ref_linatt(rules[r], T + 1, Dk, Dv, qa, ka, va, da, ba, 0.5, S, ya);
            expect_close(out2[0]->data, ya + T * Dv, Dv, 1e-5);
        }
        in2[3] = NULL;
        free_all(6, in2);
        free_all(2, out2);
        free_all(6, in);
        free_all(2, out);
    }
    /* gated without decay is a shape error; an unknown rule is declined. */
    nt_tensor *in[3] = {mkf(3, qd, q), mkf(3, kd, k), mkf(3, vd, v)};
    tnode t;
    tn_init(&t, "LinearAttention");
    a_str(&t, "update_rule", "gated");
    a_int(&t, "q_num_heads", Hq);
    a_int(&t, "kv_num_heads", 1);
    nt_tensor *out[2];
    assert_int_equal(tn_run(&t, 27, 3, in, 2, out), NT_ERR_SHAPE);
    tn_init(&t, "LinearAttention");
    a_str(&t, "update_rule", "mamba");
    assert_int_equal(tn_run(&t, 27, 3, in, 2, out), NT_ERR_UNSUPPORTED);
    free_all(3, in);
}

/* Tokens 1 2 1 2 3; pool unigrams {1, 3}, bigrams {(1, 2), (1, 3)}; with
 * one skip (1, 3) is found two apart, unigrams are counted once. */
static void test_tfidf(void **st)
{
    (void)st;
    const int64_t counts[2] = {0, 2}, pool[6] = {1, 3, 1, 2, 1, 3}, idx[4] = {0, 1, 2, 3};
    const float w[4] = {1, 2, 3, 4};
    const char *modes[3] = {"TF", "IDF", "TFIDF"};
    const float want[3][4] = {{2, 1, 2, 1}, {1, 2, 3, 4}, {2, 2, 6, 4}};
    int32_t x[10] = {1, 2, 1, 2, 3, 3, 3, 3, 0, 0};
    for (int m = 0; m < 3; m++) {
        const int64_t xd[2] = {2, 5};
        nt_tensor *in[1] = {mk(NT_DTYPE_INT32, 2, xd, x)};
        tnode t;
        tn_init(&t, "TfIdfVectorizer");
        a_str(&t, "mode", modes[m]);
        a_int(&t, "min_gram_length", 1);
        a_int(&t, "max_gram_length", 2);
        a_int(&t, "max_skip_count", 1);
        a_ints(&t, "ngram_counts", 2, counts);
        a_ints(&t, "pool_int64s", 6, pool);
        a_ints(&t, "ngram_indexes", 4, idx);
        if (m)
            a_floats(&t, "weights", 4, w);
        nt_tensor *out[1];
        assert_int_equal(tn_run(&t, 9, 1, in, 1, out), NT_OK);
        const int64_t od[2] = {2, 4};
        expect_shape(out[0], 2, od);
        expect_close(out[0]->data, want[m], 4, 0);
        /* second row 3 3 3 0 0: unigram 3 three times, no bigrams */
        const float w2[3][4] = {{0, 3, 0, 0}, {0, 2, 0, 0}, {0, 6, 0, 0}};
        expect_close((const float *)out[0]->data + 4, w2[m], 4, 0);
        free_all(1, in);
        free_all(1, out);
    }
    /* ngram_counts that do not split the pool into whole bigrams */
    const int64_t bad[2] = {0, 3};
    tnode t;
    tn_init(&t, "TfIdfVectorizer");
    a_str(&t, "mode", "TF");
    a_int(&t, "min_gram_length", 1);
    a_int(&t, "max_gram_length", 2);
    a_ints(&t, "ngram_counts", 2, bad);
    a_ints(&t, "pool_int64s", 6, pool);
    a_ints(&t, "ngram_indexes", 4, idx);
    const int64_t xd[1] = {5};
    nt_tensor *in[1] = {mk(NT_DTYPE_INT32, 1, xd, x)};
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 9, 1, in, 1, out), NT_ERR_PARSE);
    free_all(1, in);
}

static void test_ml_binarizer_afe(void **st)
{
    (void)st;
    float x[6] = {0.5f, 1.0f, 1.5f, -2, 3, 1.01f};
    const int64_t d[2] = {2, 3};
    nt_tensor *in[2] = {mkf(2, d, x), NULL};
    tnode t;
    tn_init(&t, "Binarizer");
    t.node.domain = "ai.onnx.ml";
    a_float(&t, "threshold", 1.0f);
    nt_tensor *out[1];
    assert_int_equal(tn_run(&t, 1, 1, in, 1, out), NT_OK);
    const float wb[6] = {0, 0, 1, 0, 1, 1};
    expect_close(out[0]->data, wb, 6, 0);
    free_all(1, out);
    int64_t idx[3] = {2, 0, 2};
    const int64_t id[1] = {3};
    in[1] = mk(NT_DTYPE_INT64, 1, id, idx);
    tn_init(&t, "ArrayFeatureExtractor");
    t.node.domain = "ai.onnx.ml";
    assert_int_equal(tn_run(&t, 1, 2, in, 1, out), NT_OK);
    const int64_t od[2] = {2, 3};
    expect_shape(out[0], 2, od);
    const float wa[6] = {1.5f, 0.5f, 1.5f, 1.01f, -2, 1.01f};
    expect_close(out[0]->data, wa, 6, 0);
    free_all(1, out);
    idx[1] = 3; /* out of range */
    memcpy(in[1]->data, idx, sizeof idx);
    tn_init(&t, "ArrayFeatureExtractor");
    t.node.domain = "ai.onnx.ml";
    assert_int_equal(tn_run(&t, 1, 2, in, 1, out), NT_ERR_SHAPE);
    free_all(2, in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitcast),
        cmocka_unit_test(test_cumprod),
        cmocka_unit_test(test_rotary),
        cmocka_unit_test(test_affine_grid),
        cmocka_unit_test(test_swiglu),
        cmocka_unit_test(test_causal_conv_with_state),
        cmocka_unit_test(test_linear_attention),
        cmocka_unit_test(test_tfidf),
        cmocka_unit_test(test_ml_binarizer_afe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
