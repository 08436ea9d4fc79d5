/*
 * test_ops_norm.c — softmax.c and norm.c through the registry: the
 * coerced-2-D (opset < 13) and single-axis Softmax forms, LogSoftmax on an
 * outer axis, Hardmax ties, float16, BatchNormalization (spatial = 0 before
 * opset 9, inference, training mode running statistics), LayerNormalization
 * with Mean/InvStdDev and a broadcast scale, RMSNormalization,
 * InstanceNormalization, GroupNormalization 18 vs 21 parameter layouts, LRN,
 * LpNormalization and MeanVarianceNormalization against direct formulas.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "exec/exec.h"
#include "ops/kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- harness: op_harness.h runs a kernel through the registry as the
 * executor does; these wrappers keep this file's call shapes. */

#include "op_harness.h"

/* prepare, infer, allocate, compute; out[i] get new tensors; returns the
 * first failing status (outputs freed and NULL then). */
static nt_status tn_run(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor **out, nt_exec *exec)
{
    return oh_run(t, opset, n_in, in, n_out, out, NULL, exec);
}

/* One output, no thread pool. */
static nt_tensor *tn_run1(tnode *t, int opset, int n_in, nt_tensor **in, nt_status want)
{
    nt_tensor *y = NULL;
    assert_int_equal(tn_run(t, opset, n_in, in, 1, &y, NULL), want);
    return y;
}

/* Static-mode infer only; y is caller storage. */
static NT_UNUSED nt_status tn_infer_static(tnode *t, int opset, int n_in, nt_tensor **in, nt_tensor *y)
{
    nt_tensor *out[1] = {y};
    return oh_infer_static(t, opset, n_in, in, 1, out);
}

/* Softmax of x viewed as (O, N, I), in double. */
static void ref_softmax(const float *x, float *y, int64_t O, int64_t N, int64_t I, bool log_form)
{
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++) {
            double mx = -INFINITY, s = 0;
            for (int64_t k = 0; k < N; k++)
                mx = fmax(mx, x[(o * N + k) * I + i]);
            for (int64_t k = 0; k < N; k++)
                s += exp(x[(o * N + k) * I + i] - mx);
            for (int64_t k = 0; k < N; k++) {
                double v = x[(o * N + k) * I + i] - mx;
                y[(o * N + k) * I + i] = (float)(log_form ? v - log(s) : exp(v) / s);
            }
        }
}

static float *ramp(int64_t n)
{
    float *v = malloc((size_t)n * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)((i * 37) % 101) * 0.05f - 2.0f;
    return v;
}

static void test_softmax_axis_semantics(void **unused)
{
    (void)unused;
    int64_t dims[3] = {2, 3, 4};
    float *v = ramp(24), want[24];
    nt_tensor *x = mkf(3, dims, v);
    nt_tensor *in[1] = {x};
    tnode t;
    /* opset 11, axis 1: rows of 12 */
    tn_init(&t, "Softmax");
    a_int(&t, "axis", 1);
    nt_tensor *y = tn_run1(&t, 11, 1, in, NT_OK);
    ref_softmax(v, want, 2, 12, 1, false);
    expect_close(y->data, want, 24, 1e-6);
    nt_tensor_free(y);
    /* opset 13, axis 1: along dim 1 only (I = 4) */
    y = tn_run1(&t, 13, 1, in, NT_OK);
    ref_softmax(v, want, 2, 3, 4, false);
    expect_close(y->data, want, 24, 1e-6);
    nt_tensor_free(y);
    /* opset 13 default axis -1; LogSoftmax axis 0 */
    tn_init(&t, "Softmax");
    y = tn_run1(&t, 13, 1, in, NT_OK);
    ref_softmax(v, want, 6, 4, 1, false);
    expect_close(y->data, want, 24, 1e-6);
    nt_tensor_free(y);
    tn_init(&t, "LogSoftmax");
    a_int(&t, "axis", 0);
    y = tn_run1(&t, 13, 1, in, NT_OK);
    ref_softmax(v, want, 1, 2, 12, true);
    expect_close(y->data, want, 24, 1e-6);
    nt_tensor_free(y);
    /* opset 1 default axis is 1 (coerced) */
    tn_init(&t, "LogSoftmax");
    y = tn_run1(&t, 1, 1, in, NT_OK);
    ref_softmax(v, want, 2, 12, 1, true);
    expect_close(y->data, want, 24, 1e-6);
    nt_tensor_free(y);
    nt_tensor_free(x);
    free(v);
}

static void test_softmax_large_f16_threads(void **unused)
{
    (void)unused;
    int64_t d[2] = {1, 3};
    float big[3] = {10000, 10001, 10002}, want[3];
    nt_tensor *x = mkf(2, d, big);
    nt_tensor *in[1] = {x};
    tnode t;
    tn_init(&t, "Softmax");
    nt_tensor *y = tn_run1(&t, 13, 1, in, NT_OK);
    float sm[3] = {0, 1, 2};
    ref_softmax(sm, want, 1, 3, 1, false);
    expect_close(y->data, want, 3, 1e-6);
    nt_tensor_free(y);
    nt_tensor_free(x);

    uint16_t h[3];
    for (int i = 0; i < 3; i++)
        h[i] = nt_float_to_half(sm[i]);
    x = mk(NT_DTYPE_FLOAT16, 2, d, h);
    in[0] = x;
    y = tn_run1(&t, 13, 1, in, NT_OK);
    assert_int_equal(y->dtype, NT_DTYPE_FLOAT16);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(nt_half_to_float(((uint16_t *)y->data)[i]) - want[i]) < 1e-3);
    nt_tensor_free(y);
    nt_tensor_free(x);

    /* many rows through a 2-thread pool */
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    int64_t dl[2] = {4000, 7};
    float *v = ramp(28000), *w = malloc(28000 * sizeof(float));
    x = mkf(2, dl, v);
    in[0] = x;
    tn_init(&t, "Softmax");
    assert_int_equal(tn_run(&t, 13, 1, in, 1, &y, &exec), NT_OK);
    ref_softmax(v, w, 4000, 7, 1, false);
    expect_close(y->data, w, 28000, 1e-6);
    nt_tensor_free(y);
    nt_tensor_free(x);
    free(v);
    free(w);
    pool_free(sess);
}

static void test_hardmax(void **unused)
{
    (void)unused;
    int64_t d[2] = {2, 3};
    float v[6] = {1, 3, 3, 2, 0, 2};
    nt_tensor *x = mkf(2, d, v);
    nt_tensor *in[1] = {x};
    tnode t;
    tn_init(&t, "Hardmax");
    nt_tensor *y = tn_run1(&t, 13, 1, in, NT_OK);
    float w[6] = {0, 1, 0, 1, 0, 0};
    expect_close(y->data, w, 6, 0);
    nt_tensor_free(y);
    tn_init(&t, "Hardmax");
    a_int(&t, "axis", 0);
    y = tn_run1(&t, 13, 1, in, NT_OK);
    float w0[6] = {0, 1, 1, 1, 0, 0};
    expect_close(y->data, w0, 6, 0);
    nt_tensor_free(y);
    /* opset 11 axis 0: the whole tensor is one row */
    y = tn_run1(&t, 11, 1, in, NT_OK);
    float wa[6] = {0, 1, 0, 0, 0, 0};
    expect_close(y->data, wa, 6, 0);
    nt_tensor_free(y);
    nt_tensor_free(x);
}

static void test_batchnorm(void **unused)
{
    (void)unused;
    int64_t d[3] = {1, 2, 2};
    float xv[4] = {1, 2, 3, 4};
    nt_tensor *x = mkf(3, d, xv);
    /* opset 7, spatial = 0: parameters per (C, D) element */
    int64_t pd[2] = {2, 2};
    float s[4] = {1, 2, 3, 4}, b[4] = {0, 1, 0, 1}, m[4] = {1, 1, 1, 1}, var[4] = {4, 4, 4, 4};
    nt_tensor *in[5] = {x, mkf(2, pd, s), mkf(2, pd, b), mkf(2, pd, m), mkf(2, pd, var)};
    tnode t;
    tn_init(&t, "BatchNormalization");
    a_int(&t, "spatial", 0);
    a_float(&t, "epsilon", 0);
    nt_tensor *y = tn_run1(&t, 7, 5, in, NT_OK);
    float w[4] = {0, 2.0f, 3, 7};
    expect_close(y->data, w, 4, 1e-6);
    nt_tensor_free(y);
    free_all(4, in + 1);

    /* opset 15, per channel */
    int64_t cd[1] = {2};
    in[1] = mkf(1, cd, (float[]){2, 1});
    in[2] = mkf(1, cd, (float[]){1, 0});
    in[3] = mkf(1, cd, (float[]){1, 3});
    in[4] = mkf(1, cd, (float[]){1, 4});
    tn_init(&t, "BatchNormalization");
    a_float(&t, "epsilon", 0);
    y = tn_run1(&t, 15, 5, in, NT_OK);
    float w2[4] = {1, 3, 0, 0.5f};
    expect_close(y->data, w2, 4, 1e-6);
    nt_tensor_free(y);

    /* training mode: batch statistics, running mean/var with momentum */
    tn_init(&t, "BatchNormalization");
    a_int(&t, "training_mode", 1);
    a_float(&t, "epsilon", 0);
    a_float(&t, "momentum", 0.5f);
    nt_tensor *out[3];
    assert_int_equal(tn_run(&t, 15, 5, in, 3, out, NULL), NT_OK);
    /* channel 0: x {1,2} mean 1.5 var .25; channel 1: {3,4} mean 3.5 var .25 */
    float w3[4] = {2 * -1 + 1, 2 * 1 + 1, -1, 1};
    expect_close(out[0]->data, w3, 4, 1e-6);
    float rm[2] = {1.25f, 3.25f}, rv[2] = {0.625f, 2.125f};
    expect_close(out[1]->data, rm, 2, 1e-6);
    expect_close(out[2]->data, rv, 2, 1e-6);
    free_all(3, out);
    /* old training outputs are declined */
    tn_init(&t, "BatchNormalization");
    assert_int_equal(tn_run(&t, 9, 5, in, 3, out, NULL), NT_ERR_UNSUPPORTED);
    free_all(5, in);
}

static void test_layernorm_rmsnorm(void **unused)
{
    (void)unused;
    int64_t d[2] = {2, 3};
    float xv[6] = {1, 2, 3, 2, 2, 8};
    nt_tensor *x = mkf(2, d, xv), *sc = mkf(1, (int64_t[]){3}, (float[]){1, 2, 3});
    nt_tensor *in[2] = {x, sc};
    tnode t;
    tn_init(&t, "LayerNormalization");
    a_float(&t, "epsilon", 0);
    nt_tensor *out[3];
    assert_int_equal(tn_run(&t, 17, 2, in, 3, out, NULL), NT_OK);
    double is0 = 1 / sqrt(2.0 / 3), is1 = 1 / sqrt(8.0);
    float w[6] = {(float)(-1 * is0), 0, (float)(3 * is0), (float)(-2 * is1), (float)(-4 * is1), (float)(12 * is1)};
    expect_close(out[0]->data, w, 6, 1e-6);
    expect_shape(out[1], 2, (int64_t[]){2, 1});
    float mean[2] = {2, 4}, inv[2] = {(float)is0, (float)is1};
    expect_close(out[1]->data, mean, 2, 1e-6);
    expect_close(out[2]->data, inv, 2, 1e-6);
    free_all(3, out);

    tn_init(&t, "RMSNormalization");
    a_float(&t, "epsilon", 0);
    nt_tensor *y = tn_run1(&t, 23, 2, in, NT_OK);
    double r0 = 1 / sqrt(14.0 / 3), r1 = 1 / sqrt(72.0 / 3);
    float wr[6] = {(float)r0, (float)(4 * r0), (float)(9 * r0), (float)(2 * r1), (float)(4 * r1), (float)(24 * r1)};
    expect_close(y->data, wr, 6, 1e-6);
    nt_tensor_free(y);
    free_all(2, in);
}

/* (1, 4, 2): GroupNorm with 2 groups; opset 18 scales per group, 21 per channel. */
static void test_instance_group_norm(void **unused)
{
    (void)unused;
    int64_t d[3] = {1, 4, 2};
    float xv[8] = {0, 2, 4, 6, 1, 3, 3, 5};
    nt_tensor *x = mkf(3, d, xv);
    tnode t;
    tn_init(&t, "InstanceNormalization");
    a_float(&t, "epsilon", 0);
    nt_tensor *in[3] = {x, mkf(1, (int64_t[]){4}, (float[]){1, 2, 3, 1}), mkf(1, (int64_t[]){4}, (float[]){0, 0, 0, 1})};
    nt_tensor *y = tn_run1(&t, 6, 3, in, NT_OK);
    float wi[8] = {-1, 1, -2, 2, -3, 3, 0, 2};
    expect_close(y->data, wi, 8, 1e-6);
    nt_tensor_free(y);

    /* group 0 = {0,2,4,6}: mean 3, var 5; group 1 = {1,3,3,5}: mean 3, var 2 */
    double a = 1 / sqrt(5.0), c = 1 / sqrt(2.0);
    tn_init(&t, "GroupNormalization");
    a_int(&t, "num_groups", 2);
    a_float(&t, "epsilon", 0);
    y = tn_run1(&t, 21, 3, in, NT_OK);
    float w21[8] = {(float)(-3 * a), (float)(-1 * a), (float)(2 * a), (float)(6 * a),
                    (float)(-6 * c), 0, 1, (float)(2 * c + 1)};
    expect_close(y->data, w21, 8, 1e-6);
    nt_tensor_free(y);
    free_all(2, in + 1);
    in[1] = mkf(1, (int64_t[]){2}, (float[]){2, -1});
    in[2] = mkf(1, (int64_t[]){2}, (float[]){0, 1});
    y = tn_run1(&t, 18, 3, in, NT_OK);
    float w18[8] = {(float)(-6 * a), (float)(-2 * a), (float)(2 * a), (float)(6 * a),
                    (float)(2 * c + 1), 1, 1, (float)(-2 * c + 1)};
    expect_close(y->data, w18, 8, 1e-6);
    nt_tensor_free(y);
    /* per-group parameters at opset 21 are a shape error */
    assert_null(tn_run1(&t, 21, 3, in, NT_ERR_SHAPE));
    free_all(3, in);
}

static void test_lrn_lp_mvn(void **unused)
{
    (void)unused;
    int64_t d[4] = {1, 3, 1, 2};
    float xv[6] = {1, 2, 3, 4, 5, 6};
    nt_tensor *x = mkf(4, d, xv);
    nt_tensor *in[1] = {x};
    tnode t;
    tn_init(&t, "LRN");
    a_int(&t, "size", 2);
    a_float(&t, "alpha", 0.5f);
    a_float(&t, "beta", 1);
    a_float(&t, "bias", 1);
    nt_tensor *y = tn_run1(&t, 13, 1, in, NT_OK);
    /* size 2: window [c, c+1] */
    float w[6];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 2; i++) {
            double ss = 0;
            for (int k = c; k <= c + 1 && k < 3; k++)
                ss += xv[k * 2 + i] * xv[k * 2 + i];
            w[c * 2 + i] = (float)(xv[c * 2 + i] / (1 + 0.25 * ss));
        }
    expect_close(y->data, w, 6, 1e-6);
    nt_tensor_free(y);

    tn_init(&t, "LpNormalization");
    a_int(&t, "axis", 1);
    a_int(&t, "p", 1);
    y = tn_run1(&t, 1, 1, in, NT_OK);
    float wl[6] = {1 / 9.f, 2 / 12.f, 3 / 9.f, 4 / 12.f, 5 / 9.f, 6 / 12.f};
    expect_close(y->data, wl, 6, 1e-6);
    nt_tensor_free(y);
    tn_init(&t, "LpNormalization");
    a_int(&t, "p", 3);
    assert_null(tn_run1(&t, 1, 1, in, NT_ERR_UNSUPPORTED));

    tn_init(&t, "MeanVarianceNormalization");
    y = tn_run1(&t, 13, 1, in, NT_OK);
    /* default axes {0,2,3}: per channel over the 2 values: +-1 */
    float wm[6];
    for (int i = 0; i < 6; i++)
        wm[i] = (float)((i & 1 ? 0.5 : -0.5) / (0.5 + 1e-9));
    expect_close(y->data, wm, 6, 1e-6);
    nt_tensor_free(y);
    nt_tensor_free(x);
}

static void test_norm_static_infer(void **unused)
{
    (void)unused;
    nt_tensor x = {0}, s = {0}, y = {0};
    x.dtype = NT_DTYPE_INT32;
    x.ndim = 2;
    x.dims[0] = -1;
    x.dims[1] = 3;
    s.dtype = NT_DTYPE_FLOAT;
    s.ndim = 1;
    s.dims[0] = 3;
    nt_tensor *in[2] = {&x, &s};
    tnode t;
    tn_init(&t, "LayerNormalization");
    assert_int_equal(tn_infer_static(&t, 17, 2, in, &y), NT_ERR_UNSUPPORTED);
    x.dtype = NT_DTYPE_FLOAT;
    assert_int_equal(tn_infer_static(&t, 17, 2, in, &y), NT_OK);
    expect_shape(&y, 2, (int64_t[]){-1, 3});
    tn_init(&t, "Softmax");
    x.ndim = -1;
    assert_int_equal(tn_infer_static(&t, 13, 1, in, &y), NT_OK);
    assert_int_equal(y.ndim, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_axis_semantics),
        cmocka_unit_test(test_softmax_large_f16_threads),
        cmocka_unit_test(test_hardmax),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_layernorm_rmsnorm),
        cmocka_unit_test(test_instance_group_norm),
        cmocka_unit_test(test_lrn_lp_mvn),
        cmocka_unit_test(test_norm_static_infer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
