/*
 * test_ops_quant.c — quant.c through the registry: QuantizeLinear per
 * tensor (half-to-even rounding, saturation, the uint8 default without a
 * zero point), per axis, blocked with output_dtype; DequantizeLinear per
 * axis, int32 without zero point and a float16 scale; DynamicQuantizeLinear
 * on the spec's example; QLinearMatMul on the spec's example and with a
 * broadcast batch; and the declined float8/int4 types.
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

#define OP_HARNESS_LOCAL_CHECKS
#define OP_HARNESS_LOCAL_FREE_ALL
#include "op_harness.h"

/* prepare, infer, allocate, compute.  want[i] says whether output i is
 * requested (NULL = all); out[i] get new tensors or stay NULL.  Returns the
 * first failing status (outputs freed and NULL then). */
static nt_status tn_run(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor **out, const bool *want)
{
    return oh_run(t, opset, n_in, in, n_out, out, want, NULL);
}

/* Static-mode infer only; outputs are caller storage (reset here). */
static NT_UNUSED nt_status tn_infer_static(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor *outs)
{
    nt_tensor *out[4];
    assert_true(n_out <= 4);
    for (int i = 0; i < n_out; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        outs[i].ndim = -1;
        out[i] = &outs[i];
    }
    return oh_infer_static(t, opset, n_in, in, n_out, out);
}

static void free_all(nt_tensor **t, int n)
{
    for (int i = 0; i < n; i++)
        nt_tensor_free(t[i]);
}

/* |got - want| <= atol + rtol |want| elementwise, with the shape checked. */
static NT_UNUSED void expect_close(const nt_tensor *got, int ndim, const int64_t *dims, const float *want, double tol)
{
    assert_non_null(got);
    assert_int_equal(got->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        assert_int_equal(got->dims[d], dims[d]);
    int64_t n = nt_tensor_numel(got);
    for (int64_t i = 0; i < n; i++) {
        double g = nt_tensor_get_f64(got, i), w = want[i];
        if (fabs(g - w) > tol + tol * fabs(w))
            fail_msg("element %lld: got %.9g, want %.9g", (long long)i, g, w);
    }
}


/* Exact comparison of an integer tensor with want. */
static void expect_ints(const nt_tensor *got, nt_dtype dt, int64_t n, const int64_t *want)
{
    assert_non_null(got);
    assert_int_equal(got->dtype, dt);
    assert_int_equal(nt_tensor_numel(got), n);
    for (int64_t i = 0; i < n; i++)
        if (nt_tensor_get_f64(got, i) != (double)want[i])
            fail_msg("element %lld: got %g, want %lld", (long long)i, nt_tensor_get_f64(got, i), (long long)want[i]);
}

static void test_quantize_per_tensor(void **st)
{
    (void)st;
    /* x / 2 = 0, 1.25, 1.75, 2.5, 3.5, -0.5, big, -big; + zp 10 */
    const float x[8] = {0, 2.5f, 3.5f, 5, 7, -1, 1000, -1000};
    const float s[1] = {2};
    const uint8_t zp[1] = {10};
    int64_t dx[1] = {8};
    nt_tensor *in[3] = {mkf(1, dx, x), mkf(0, NULL, s), mk(NT_DTYPE_UINT8, 0, NULL, zp)};
    tnode t;
    tn_init(&t, "QuantizeLinear");
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 13, 3, in, 1, &y, NULL), NT_OK);
    const int64_t want[8] = {10, 11, 12, 12, 14, 10, 255, 0}; /* 2.5 -> 2, 3.5 -> 4, -0.5 -> -0 */
    expect_ints(y, NT_DTYPE_UINT8, 8, want);
    nt_tensor_free(y);
    /* no zero point: uint8 with zp 0 */
    assert_int_equal(tn_run(&t, 13, 2, in, 1, &y, NULL), NT_OK);
    const int64_t want0[8] = {0, 1, 2, 2, 4, 0, 255, 0};
    expect_ints(y, NT_DTYPE_UINT8, 8, want0);
    nt_tensor_free(y);
    free_all(in, 3);

    /* the generic path: float16 x, uint16 y (opset 21) */
    const uint16_t xh[4] = {nt_float_to_half(1.5f), nt_float_to_half(2.5f), nt_float_to_half(-3),
                            nt_float_to_half(60000)};
    const uint16_t z16[1] = {100};
    const float s1[1] = {0.5f};
    int64_t d4[1] = {4};
    nt_tensor *in2[3] = {mk(NT_DTYPE_FLOAT16, 1, d4, xh), mkf(0, NULL, s1), mk(NT_DTYPE_UINT16, 0, NULL, z16)};
    assert_int_equal(tn_run(&t, 21, 3, in2, 1, &y, NULL), NT_OK);
    const int64_t want16[4] = {103, 105, 94, 65535};
    expect_ints(y, NT_DTYPE_UINT16, 4, want16);
    nt_tensor_free(y);
    free_all(in2, 3);
}

static void test_quantize_per_axis_and_blocked(void **st)
{
    (void)st;
    /* x (2, 3), axis 1 scales [1, 2, 4], int8 zps [0, -1, 1] */
    const float x[6] = {1, 2, 4, -200, -3, 600};
    const float s[3] = {1, 2, 4};
    const int8_t zp[3] = {0, -1, 1};
    int64_t dx[2] = {2, 3}, ds[1] = {3};
    nt_tensor *in[3] = {mkf(2, dx, x), mkf(1, ds, s), mk(NT_DTYPE_INT8, 1, ds, zp)};
    tnode t;
    tn_init(&t, "QuantizeLinear");
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 13, 3, in, 1, &y, NULL), NT_OK);
    const int64_t want[6] = {1, 0, 2, -128, -3, 127}; /* -3/2 = -1.5 -> -2, -1 */
    expect_ints(y, NT_DTYPE_INT8, 6, want);
    nt_tensor_free(y);
    free_all(in, 3);

    /* blocked along axis 1, block 2: x (2, 4), scale (2, 2); int16 via output_dtype */
    const float xb[8] = {1, 2, 30, 40, -5, -6, 700, 800};
    const float sb[4] = {1, 10, 0.5f, 100};
    int64_t dxb[2] = {2, 4}, dsb[2] = {2, 2};
    nt_tensor *inb[2] = {mkf(2, dxb, xb), mkf(2, dsb, sb)};
    tnode u;
    tn_init(&u, "QuantizeLinear");
    a_int(&u, "axis", 1);
    a_int(&u, "block_size", 2);
    a_int(&u, "output_dtype", NT_DTYPE_INT16);
    assert_int_equal(tn_run(&u, 21, 2, inb, 1, &y, NULL), NT_OK);
    const int64_t wantb[8] = {1, 2, 3, 4, -10, -12, 7, 8};
    expect_ints(y, NT_DTYPE_INT16, 8, wantb);
    nt_tensor_free(y);
    /* block_size is ignored before opset 21: this scale shape is then invalid */
    assert_int_equal(tn_run(&u, 19, 2, inb, 1, &y, NULL), NT_ERR_SHAPE);
    free_all(inb, 2);
}

static void test_dequantize(void **st)
{
    (void)st;
    /* per axis 0 on (2, 2) uint8 */
    const uint8_t x[4] = {0, 255, 10, 20};
    const float s[2] = {0.5f, 2};
    const uint8_t zp[2] = {128, 10};
    int64_t dx[2] = {2, 2}, ds[1] = {2};
    nt_tensor *in[3] = {mk(NT_DTYPE_UINT8, 2, dx, x), mkf(1, ds, s), mk(NT_DTYPE_UINT8, 1, ds, zp)};
    tnode t;
    tn_init(&t, "DequantizeLinear");
    a_int(&t, "axis", 0);
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 13, 3, in, 1, &y, NULL), NT_OK);
    const float want[4] = {-64, 63.5f, 0, 20};
    expect_close(y, 2, dx, want, 0);
    nt_tensor_free(y);
    free_all(in, 3);

    /* int32 without zero point, float16 scale: output float16 */
    const int32_t xi[3] = {-4, 0, 1000};
    const uint16_t sh[1] = {nt_float_to_half(0.25f)};
    int64_t d3[1] = {3};
    nt_tensor *in2[2] = {mk(NT_DTYPE_INT32, 1, d3, xi), mk(NT_DTYPE_FLOAT16, 0, NULL, sh)};
    assert_int_equal(tn_run(&t, 19, 2, in2, 1, &y, NULL), NT_OK);
    assert_int_equal(y->dtype, NT_DTYPE_FLOAT16);
    const float want2[3] = {-1, 0, 250};
    expect_close(y, 1, d3, want2, 0);
    nt_tensor_free(y);
    free_all(in2, 2);
}

/* The spec's example: x = [0, 2, -3, -2.5, 1.34, 0.5]. */
static void test_dynamic_quantize(void **st)
{
    (void)st;
    const float x[6] = {0, 2, -3, -2.5f, 1.34f, 0.5f};
    int64_t dx[1] = {6};
    nt_tensor *in[1] = {mkf(1, dx, x)};
    tnode t;
    tn_init(&t, "DynamicQuantizeLinear");
    nt_tensor *out[3];
    assert_int_equal(tn_run(&t, 11, 1, in, 3, out, NULL), NT_OK);
    const int64_t want[6] = {153, 255, 0, 26, 221, 179}, wzp[1] = {153};
    expect_ints(out[0], NT_DTYPE_UINT8, 6, want);
    assert_int_equal(out[1]->ndim, 0);
    assert_float_equal(*(float *)out[1]->data, 5.0f / 255.0f, 1e-9);
    expect_ints(out[2], NT_DTYPE_UINT8, 1, wzp);
    free_all(out, 3);
    /* all zeros: scale 0, everything at zero point 0 */
    memset(in[0]->data, 0, sizeof x);
    assert_int_equal(tn_run(&t, 11, 1, in, 3, out, NULL), NT_OK);
    const int64_t zeros[6] = {0};
    expect_ints(out[0], NT_DTYPE_UINT8, 6, zeros);
    free_all(out, 3);
    free_all(in, 1);
}

/* A long x (vector body and tail) with NaN, infinities, exact ties at
 * .5 steps and negative zeros against the spec's formula written out in
 * double: saturate(round_half_even(x / scale) + zp), NaN to 0. */
static void test_dynamic_quantize_long(void **st)
{
    (void)st;
    const int64_t n = 1037;
    float *x = malloc((size_t)n * sizeof *x);
    fill(x, n, 77);
    for (int64_t i = 0; i < n; i += 7)
        x[i] = (float)(i % 41) * 0.25f - 3.0f; /* many exact multiples and ties */
    x[5] = NAN;
    x[100] = -0.0f;
    x[n - 1] = 6.5f;
    x[n - 2] = -4.0f;
    int64_t dx[1] = {n};
    nt_tensor *in[1] = {mkf(1, dx, x)};
    tnode t;
    tn_init(&t, "DynamicQuantizeLinear");
    nt_tensor *out[3];
    assert_int_equal(tn_run(&t, 11, 1, in, 3, out, NULL), NT_OK);
    float mn = 0, mx = 0;
    for (int64_t i = 0; i < n; i++) {
        mn = x[i] < mn ? x[i] : mn;
        mx = x[i] > mx ? x[i] : mx;
    }
    assert_true(mn == -4.0f && mx == 7.0f);
    const float scale = (mx - mn) / 255.0f;
    assert_true(*(float *)out[1]->data == scale);
    const double zp = nearbyint((double)(-mn / scale));
    assert_int_equal(*(uint8_t *)out[2]->data, (int)zp);
    for (int64_t i = 0; i < n; i++) {
        double v = nearbyint((double)(x[i] / scale)) + zp;
        int want = isnan(v) ? 0 : v < 0 ? 0 : v > 255 ? 255 : (int)v;
        if (((uint8_t *)out[0]->data)[i] != want)
            fail_msg("x[%lld] = %g: got %d want %d", (long long)i, x[i], ((uint8_t *)out[0]->data)[i], want);
    }
    free_all(out, 3);
    x[n - 3] = INFINITY; /* the range becomes infinite: scale inf, everything NaN or saturated */
    memcpy(in[0]->data, x, (size_t)n * sizeof *x);
    assert_int_equal(tn_run(&t, 11, 1, in, 3, out, NULL), NT_OK);
    assert_true(isinf(*(float *)out[1]->data));
    free_all(out, 3);
    free_all(in, 1);
    free(x);
}

/* The spec's uint8 example, then the same rows as a (2, 1, 4) batch
 * against a shared b (broadcast). */
static void test_qlinear_matmul(void **st)
{
    (void)st;
    const uint8_t a[8] = {208, 236, 0, 238, 3, 214, 255, 29};
    const uint8_t b[12] = {152, 51, 244, 60, 26, 255, 0, 127, 246, 127, 254, 247};
    const float as[1] = {0.0066f}, bs[1] = {0.00705f}, ys[1] = {0.0107f};
    const uint8_t az[1] = {113}, bz[1] = {114}, yz[1] = {118};
    int64_t da[2] = {2, 4}, db[2] = {4, 3}, d1[1] = {1};
    nt_tensor *in[8] = {mk(NT_DTYPE_UINT8, 2, da, a), mkf(1, d1, as), mk(NT_DTYPE_UINT8, 1, d1, az),
                        mk(NT_DTYPE_UINT8, 2, db, b), mkf(1, d1, bs), mk(NT_DTYPE_UINT8, 1, d1, bz),
                        mkf(1, d1, ys), mk(NT_DTYPE_UINT8, 1, d1, yz)};
    tnode t;
    tn_init(&t, "QLinearMatMul");
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 10, 8, in, 1, &y, NULL), NT_OK);
    const int64_t want[6] = {168, 115, 255, 1, 66, 151};
    expect_ints(y, NT_DTYPE_UINT8, 6, want);
    assert_int_equal(y->ndim, 2);
    nt_tensor_free(y);
    int64_t d3[3] = {2, 1, 4};
    nt_tensor_set_shape(in[0], 3, d3);
    assert_int_equal(tn_run(&t, 21, 8, in, 1, &y, NULL), NT_OK);
    assert_int_equal(y->ndim, 3);
    assert_int_equal(y->dims[0], 2);
    assert_int_equal(y->dims[1], 1);
    assert_int_equal(y->dims[2], 3);
    expect_ints(y, NT_DTYPE_UINT8, 6, want);
    nt_tensor_free(y);
    free_all(in, 8);
}

/* int8 with per-row a and per-column b scales/zero points:
 * a - azp = [[2, 3], [-1, 5]], b - bzp = [[1, 2, 3], [4, 0, -2]],
 * acc = [[14, 4, 0], [19, -2, -13]], column scales [1, 2, 0.5], y zp 3. */
static void test_qlinear_matmul_per_channel(void **st)
{
    (void)st;
    const int8_t a[4] = {3, 4, -2, 4}, az[2] = {1, -1};
    const int8_t b[6] = {1, 3, 5, 4, 1, 0}, bz[3] = {0, 1, 2};
    const float as[2] = {1, 1}, bs[3] = {1, 2, 0.5f}, ys[1] = {1};
    const int8_t yz[1] = {3};
    int64_t d22[2] = {2, 2}, d23[2] = {2, 3}, d2[1] = {2}, d3[1] = {3}, d1[1] = {1};
    nt_tensor *in[8] = {mk(NT_DTYPE_INT8, 2, d22, a), mkf(1, d2, as), mk(NT_DTYPE_INT8, 1, d2, az),
                        mk(NT_DTYPE_INT8, 2, d23, b), mkf(1, d3, bs), mk(NT_DTYPE_INT8, 1, d3, bz),
                        mkf(1, d1, ys), mk(NT_DTYPE_INT8, 1, d1, yz)};
    tnode t;
    tn_init(&t, "QLinearMatMul");
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 10, 8, in, 1, &y, NULL), NT_OK);
    const int64_t want[6] = {17, 11, 3, 22, -1, -3}; /* -13 * 0.5 = -6.5 -> -6 (half to even) + 3 */
    expect_ints(y, NT_DTYPE_INT8, 6, want);
    nt_tensor_free(y);
    free_all(in, 8);
}

/* float8 / int4 zero points give their type; e8m0 (a scale type) and
 * complex inputs are declined, also at plan time. */
static void test_quant_declines(void **st)
{
    (void)st;
    nt_tensor x = {.dtype = NT_DTYPE_FLOAT, .ndim = 1, .dims = {-1}};
    nt_tensor s = {.dtype = NT_DTYPE_FLOAT, .ndim = 0};
    nt_tensor z = {.dtype = NT_DTYPE_FLOAT8E4M3FN, .ndim = 0};
    nt_tensor *in[3] = {&x, &s, &z};
    nt_tensor out[1];
    tnode t;
    tn_init(&t, "QuantizeLinear");
    assert_int_equal(tn_infer_static(&t, 21, 3, in, 1, out), NT_OK);
    assert_int_equal(out[0].dtype, NT_DTYPE_FLOAT8E4M3FN);
    z.dtype = NT_DTYPE_INT4;
    assert_int_equal(tn_infer_static(&t, 21, 3, in, 1, out), NT_OK);
    assert_int_equal(out[0].dtype, NT_DTYPE_INT4);
    z.dtype = NT_DTYPE_FLOAT8E8M0;
    assert_int_equal(tn_infer_static(&t, 21, 3, in, 1, out), NT_ERR_UNSUPPORTED);
    z.dtype = NT_DTYPE_INT8;
    assert_int_equal(tn_infer_static(&t, 21, 3, in, 1, out), NT_OK);
    assert_int_equal(out[0].dtype, NT_DTYPE_INT8);
    assert_int_equal(out[0].dims[0], -1);
    tnode u;
    tn_init(&u, "DequantizeLinear");
    nt_tensor xq = {.dtype = NT_DTYPE_COMPLEX64, .ndim = 1, .dims = {4}};
    nt_tensor *in2[2] = {&xq, &s};
    assert_int_equal(tn_infer_static(&u, 21, 2, in2, 1, out), NT_ERR_UNSUPPORTED);
    xq.dtype = NT_DTYPE_UINT4;
    assert_int_equal(tn_infer_static(&u, 21, 2, in2, 1, out), NT_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantize_per_tensor),
        cmocka_unit_test(test_quantize_per_axis_and_blocked),
        cmocka_unit_test(test_dequantize),
        cmocka_unit_test(test_dynamic_quantize),
        cmocka_unit_test(test_dynamic_quantize_long),
        cmocka_unit_test(test_qlinear_matmul),
        cmocka_unit_test(test_qlinear_matmul_per_channel),
        cmocka_unit_test(test_quant_declines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
