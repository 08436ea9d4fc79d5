/*
 * test_ops_eltwise.c — the element-wise kernels (unary.c, binary.c,
 * eltwise_cast.c, eltwise_bcast.c) called through the registry as the
 * executor calls them: nt_op_find, prepare, infer, compute, release.
 *
 * Covers the broadcast paths (same shape, scalar, row, general strided,
 * chunked across threads), integer edge cases (wrap, division by zero,
 * Python-style Mod), NaN handling, float16, Cast's conversion rules,
 * variadic ops, Where, and static-mode inference (unknown rank, declined
 * dtypes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "exec/exec.h"
#include "ops/kernel.h"
#include "ops/ew_math.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers: op_harness.h runs a kernel through the registry as the
 * executor does; run_op and infer_static keep this file's call shapes. */

#include "op_harness.h"

/* Runs op (prepare, infer, compute) on inputs; *out gets a new tensor.
 * Returns the first failing status. */
static nt_status run_op(const char *op, int opset, nt_attr *attrs, int n_attr, int n_in, nt_tensor **in,
                        nt_tensor **out, nt_exec *exec)
{
    tnode t;
    tn_init(&t, op);
    t.node.attrs = attrs;
    t.node.n_attr = n_attr;
    return oh_run(&t, opset, n_in, in, 1, out, NULL, exec);
}

/* Static-mode infer only: returns the status, fills *y's dtype and shape. */
static nt_status infer_static(const char *op, int opset, nt_attr *attrs, int n_attr, int n_in, nt_tensor **in,
                              nt_tensor *y)
{
    tnode t;
    tn_init(&t, op);
    t.node.attrs = attrs;
    t.node.n_attr = n_attr;
    memset(y, 0, sizeof *y);
    y->ndim = -1;
    nt_tensor *outv[1] = {y};
    return oh_infer_static(&t, opset, n_in, in, 1, outv);
}

static void assert_shape(const nt_tensor *t, int ndim, const int64_t *dims)
{
    assert_int_equal(t->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        assert_int_equal(t->dims[d], dims[d]);
}

static void assert_close(double got, double want, double tol)
{
    if (isnan(want)) {
        assert_true(isnan(got));
        return;
    }
    if (fabs(got - want) > tol + 1e-5 * fabs(want)) {
        print_error("got %.9g, want %.9g\n", got, want);
        fail();
    }
}

/* ---- binary float paths */

static void test_add_same_shape(void **unused)
{
    (void)unused;
    enum { N = 37 }; /* two blocks and a tail */
    float a[N], b[N];
    for (int i = 0; i < N; i++) {
        a[i] = (float)i * 0.5f;
        b[i] = 100.0f - (float)i;
    }
    int64_t d[1] = {N};
    nt_tensor *in[2] = {mkf(1, d, a), mkf(1, d, b)}, *y;
    assert_int_equal(run_op("Add", 14, NULL, 0, 2, in, &y, NULL), NT_OK);
    assert_int_equal(y->dtype, NT_DTYPE_FLOAT);
    assert_shape(y, 1, d);
    for (int i = 0; i < N; i++)
        assert_close(((float *)y->data)[i], a[i] + b[i], 0);
    nt_tensor_free(y);
    free_all(2, in);
}

static void test_broadcast_paths(void **unused)
{
    (void)unused;
    /* a [2,1,4] - b [3,1]: general case, out [2,3,4] */
    float a[8], b[3];
    for (int i = 0; i < 8; i++)
        a[i] = (float)(i * 10);
    for (int i = 0; i < 3; i++)
        b[i] = (float)i;
    int64_t da[3] = {2, 1, 4}, db[2] = {3, 1}, dy[3] = {2, 3, 4};
    nt_tensor *in[2] = {mkf(3, da, a), mkf(2, db, b)}, *y;
    assert_int_equal(run_op("Sub", 14, NULL, 0, 2, in, &y, NULL), NT_OK);
    assert_shape(y, 3, dy);
    const float *o = y->data;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                assert_close(o[(i * 3 + j) * 4 + k], a[i * 4 + k] - b[j], 0);
    nt_tensor_free(y);

    /* scalar on the left: 2 / b, b [3,1] */
    float two = 2.0f;
    nt_tensor *in2[2] = {mkf(0, NULL, &two), in[1]};
    assert_int_equal(run_op("Div", 14, NULL, 0, 2, in2, &y, NULL), NT_OK);
    assert_shape(y, 2, db);
    assert_true(isinf(((float *)y->data)[0]));
    assert_close(((float *)y->data)[2], 1.0, 0);
    nt_tensor_free(y);
    nt_tensor_free(in2[0]);

    /* row broadcast: [2,3,4] * [4] */
    float r[4] = {1, -1, 2, 0.5f};
    int64_t dr[1] = {4};
    nt_tensor *big = mkf(3, dy, NULL);
    for (int i = 0; i < 24; i++)
        ((float *)big->data)[i] = (float)i;
    nt_tensor *in3[2] = {big, mkf(1, dr, r)};
    assert_int_equal(run_op("Mul", 14, NULL, 0, 2, in3, &y, NULL), NT_OK);
    for (int i = 0; i < 24; i++)
        assert_close(((float *)y->data)[i], (float)i * r[i % 4], 0);
    nt_tensor_free(y);
    free_all(2, in3);
    free_all(2, in);
}

/* A large broadcast through a two-thread pool: chunks start mid-row. */
static void test_parallel_chunks(void **unused)
{
    (void)unused;
    nt_session *sess = nt_calloc(1, sizeof *sess);
    assert_non_null(sess);
    sess->threads = nt_threads_new(2);
    assert_non_null(sess->threads);
    nt_exec exec = {sess, NULL, 0};
    int64_t da[2] = {333, 517}, db[2] = {333, 1};
    nt_tensor *a = mkf(2, da, NULL), *b = mkf(2, db, NULL), *y;
    for (int64_t i = 0; i < 333 * 517; i++)
        ((float *)a->data)[i] = (float)(i % 1000);
    for (int i = 0; i < 333; i++)
        ((float *)b->data)[i] = (float)i;
    nt_tensor *in[2] = {a, b};
    assert_int_equal(run_op("Add", 14, NULL, 0, 2, in, &y, &exec), NT_OK);
    for (int64_t i = 0; i < 333 * 517; i++)
        if (((float *)y->data)[i] != (float)(i % 1000) + (float)(i / 517))
            fail_msg("element %lld", (long long)i);
    nt_tensor_free(y);
    free_all(2, in);
    nt_threads_free(sess->threads);
    free(sess);
}

static void test_nan_min_max_compare(void **unused)
{
    (void)unused;
    float a[4] = {1, NAN, 3, -0.5f}, b[4] = {2, 0, NAN, -0.5f};
    int64_t d[1] = {4};
    nt_tensor *in[2] = {mkf(1, d, a), mkf(1, d, b)}, *y;
    assert_int_equal(run_op("Max", 13, NULL, 0, 2, in, &y, NULL), NT_OK);
    const float *o = y->data;
    assert_close(o[0], 2, 0);
    assert_true(isnan(o[1]) && isnan(o[2]));
    nt_tensor_free(y);
    assert_int_equal(run_op("Equal", 13, NULL, 0, 2, in, &y, NULL), NT_OK);
    assert_int_equal(y->dtype, NT_DTYPE_BOOL);
    const uint8_t expect_eq[4] = {0, 0, 0, 1};
    assert_memory_equal(y->data, expect_eq, 4);
    nt_tensor_free(y);
    assert_int_equal(run_op("LessOrEqual", 16, NULL, 0, 2, in, &y, NULL), NT_OK);
    const uint8_t expect_le[4] = {1, 0, 0, 1};
    assert_memory_equal(y->data, expect_le, 4);
    nt_tensor_free(y);
    free_all(2, in);
}

/* ---- integers */

static void test_int_edge_cases(void **unused)
{
    (void)unused;
    int32_t a[5] = {INT32_MAX, 7, -7, INT32_MIN, 5}, b[5] = {1, 0, 2, -1, -3};
    int64_t d[1] = {5};
    nt_tensor *in[2] = {mk(NT_DTYPE_INT32, 1, d, a), mk(NT_DTYPE_INT32, 1, d, b)}, *y;
    assert_int_equal(run_op("Add", 14, NULL, 0, 2, in, &y, NULL), NT_OK);
    assert_int_equal(((int32_t *)y->data)[0], INT32_MIN); /* wraps */
    nt_tensor_free(y);
    assert_int_equal(run_op("Div", 14, NULL, 0, 2, in, &y, NULL), NT_OK);
    const int32_t div[5] = {INT32_MAX, 0, -3, INT32_MIN, -1}; /* /0 -> 0, truncation */
    assert_memory_equal(y->data, div, sizeof div);
    nt_tensor_free(y);
    /* Mod fmod=0: Python sign (divisor); fmod=1: C sign (dividend) */
    assert_int_equal(run_op("Mod", 13, NULL, 0, 2, in, &y, NULL), NT_OK);
    const int32_t pymod[5] = {0, 0, 1, 0, -1};
    assert_memory_equal(y->data, pymod, sizeof pymod);
    nt_tensor_free(y);
    nt_attr fm = attr_int("fmod", 1);
    assert_int_equal(run_op("Mod", 13, &fm, 1, 2, in, &y, NULL), NT_OK);
    const int32_t cmod[5] = {0, 0, -1, 0, 2};
    assert_memory_equal(y->data, cmod, sizeof cmod);
    nt_tensor_free(y);
    free_all(2, in);

    /* BitShift on uint8, by the width or more gives 0 */
    uint8_t x[4] = {1, 0x80, 0xff, 3}, s[4] = {3, 1, 8, 0};
    nt_tensor *in2[2] = {mk(NT_DTYPE_UINT8, 1, (int64_t[]){4}, x), mk(NT_DTYPE_UINT8, 1, (int64_t[]){4}, s)};
    nt_attr left = attr_str("direction", "LEFT"), right = attr_str("direction", "RIGHT");
    assert_int_equal(run_op("BitShift", 11, &left, 1, 2, in2, &y, NULL), NT_OK);
    const uint8_t l[4] = {8, 0, 0, 3};
    assert_memory_equal(y->data, l, 4);
    nt_tensor_free(y);
    assert_int_equal(run_op("BitShift", 11, &right, 1, 2, in2, &y, NULL), NT_OK);
    const uint8_t r[4] = {0, 0x40, 0, 3};
    assert_memory_equal(y->data, r, 4);
    nt_tensor_free(y);
    free_all(2, in2);
}

static void test_pow_mixed(void **unused)
{
    (void)unused;
    int32_t base[3] = {2, 3, -2};
    float e[3] = {0.5f, 2.0f, 3.0f};
    int64_t d[1] = {3};
    nt_tensor *in[2] = {mk(NT_DTYPE_INT32, 1, d, base), mkf(1, d, e)}, *y;
    assert_int_equal(run_op("Pow", 15, NULL, 0, 2, in, &y, NULL), NT_OK);
    assert_int_equal(y->dtype, NT_DTYPE_INT32);
    const int32_t want[3] = {1, 9, -8};
    assert_memory_equal(y->data, want, sizeof want);
    nt_tensor_free(y);
    nt_tensor_free(in[1]);
    int64_t ie[3] = {10, 0, -1};
    in[1] = mk(NT_DTYPE_INT64, 1, d, ie);
    assert_int_equal(run_op("Pow", 15, NULL, 0, 2, in, &y, NULL), NT_OK);
    const int32_t want2[3] = {1024, 1, 0};
    assert_memory_equal(y->data, want2, sizeof want2);
    nt_tensor_free(y);
    free_all(2, in);
}

/* ---- variadic, Where, PRelu */

static void test_variadic(void **unused)
{
    (void)unused;
    float a[2] = {1, 2}, b[3] = {10, 20, 30}, c[1] = {100};
    int64_t da[2] = {2, 1}, db[1] = {3}, dc[1] = {1}, dy[2] = {2, 3};
    nt_tensor *in[3] = {mkf(2, da, a), mkf(1, db, b), mkf(1, dc, c)}, *y;
    assert_int_equal(run_op("Sum", 13, NULL, 0, 3, in, &y, NULL), NT_OK);
    assert_shape(y, 2, dy);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            assert_close(((float *)y->data)[i * 3 + j], a[i] + b[j] + c[0], 0);
    nt_tensor_free(y);
    assert_int_equal(run_op("Mean", 13, NULL, 0, 3, in, &y, NULL), NT_OK);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            assert_close(((float *)y->data)[i * 3 + j], (a[i] + b[j] + c[0]) / 3, 1e-6);
    nt_tensor_free(y);
    assert_int_equal(run_op("Min", 13, NULL, 0, 3, in, &y, NULL), NT_OK);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            assert_close(((float *)y->data)[i * 3 + j], a[i], 0);
    nt_tensor_free(y);
    /* one input: a broadcast-free copy */
    assert_int_equal(run_op("Max", 13, NULL, 0, 1, &in[1], &y, NULL), NT_OK);
    assert_memory_equal(y->data, b, sizeof b);
    nt_tensor_free(y);
    free_all(3, in);
}

static void test_where_prelu(void **unused)
{
    (void)unused;
    uint8_t c[2] = {1, 0};
    int64_t x[3] = {1, 2, 3}, yv[1] = {-1};
    int64_t dc[2] = {2, 1}, dx[1] = {3}, dy1[1] = {1}, dy[2] = {2, 3};
    nt_tensor *in[3] = {mk(NT_DTYPE_BOOL, 2, dc, c), mk(NT_DTYPE_INT64, 1, dx, x), mk(NT_DTYPE_INT64, 1, dy1, yv)}, *y;
    assert_int_equal(run_op("Where", 16, NULL, 0, 3, in, &y, NULL), NT_OK);
    assert_shape(y, 2, dy);
    const int64_t want[6] = {1, 2, 3, -1, -1, -1};
    assert_memory_equal(y->data, want, sizeof want);
    nt_tensor_free(y);
    free_all(3, in);

    float xv[4] = {-2, -1, 1, 2}, slope[2] = {0.5f, 0.25f};
    int64_t d22[2] = {2, 2}, d2[1] = {2};
    nt_tensor *pin[2] = {mkf(2, d22, xv), mkf(1, d2, slope)};
    assert_int_equal(run_op("PRelu", 16, NULL, 0, 2, pin, &y, NULL), NT_OK);
    const float pw[4] = {-1.0f, -0.25f, 1, 2};
    assert_memory_equal(y->data, pw, sizeof pw);
    nt_tensor_free(y);
    free_all(2, pin);
}

/* ---- unary */

static void test_unary_float(void **unused)
{
    (void)unused;
    float x[6] = {-1000, -1, -0.5f, 0.5f, 2.5f, 1000};
    int64_t d[1] = {6};
    nt_tensor *in[1] = {mkf(1, d, x)}, *y;
    assert_int_equal(run_op("Sigmoid", 13, NULL, 0, 1, in, &y, NULL), NT_OK);
    for (int i = 0; i < 6; i++)
        assert_close(((float *)y->data)[i], 1.0 / (1.0 + exp(-(double)x[i])), 1e-7);
    nt_tensor_free(y);
    assert_int_equal(run_op("Round", 22, NULL, 0, 1, in, &y, NULL), NT_OK);
    const float rw[6] = {-1000, -1, -0.0f, 0, 2, 1000}; /* half to even */
    for (int i = 0; i < 6; i++)
        assert_close(((float *)y->data)[i], rw[i], 0);
    nt_tensor_free(y);
    assert_int_equal(run_op("Softplus", 22, NULL, 0, 1, in, &y, NULL), NT_OK);
    assert_close(((float *)y->data)[5], 1000, 1e-3); /* no overflow */
    assert_close(((float *)y->data)[0], 0, 1e-30);
    nt_tensor_free(y);
    nt_attr ap = attr_str("approximate", "tanh");
    assert_int_equal(run_op("Gelu", 20, &ap, 1, 1, in, &y, NULL), NT_OK);
    double g = 0.5 * 2.5 * (1 + tanh(sqrt(2 / M_PI) * (2.5 + 0.044715 * 2.5 * 2.5 * 2.5)));
    assert_close(((float *)y->data)[4], g, 1e-6);
    nt_tensor_free(y);
    assert_int_equal(run_op("Gelu", 20, NULL, 0, 1, in, &y, NULL), NT_OK);
    assert_close(((float *)y->data)[4], 0.5 * 2.5 * (1 + erf(2.5 / sqrt(2))), 1e-6);
    nt_tensor_free(y);
    nt_attr al = attr_float("alpha", 0.1f);
    assert_int_equal(run_op("LeakyRelu", 16, &al, 1, 1, in, &y, NULL), NT_OK);
    assert_close(((float *)y->data)[1], -0.1, 1e-7);
    nt_tensor_free(y);
    nt_attr bad = attr_str("approximate", "cubic");
    assert_int_equal(run_op("Gelu", 20, &bad, 1, 1, in, &y, NULL), NT_ERR_UNSUPPORTED);
    free_all(1, in);
}

/* The vectorized float exp behind Exp/Sigmoid/Swish: within ~1 ulp of exp
 * over the float range, and NaN/inf/overflow/underflow as expf. */
static void test_exp_accuracy(void **unused)
{
    (void)unused;
    enum { N = 20000 };
    int64_t d[1] = {N + 6};
    nt_tensor *x = mkf(1, d, NULL), *y;
    float *xv = x->data;
    for (int i = 0; i < N; i++)
        xv[i] = -87.0f + 175.0f * (float)i / N;
    const float special[6] = {NAN, INFINITY, -INFINITY, 100, -100, 0};
    memcpy(xv + N, special, sizeof special);
    assert_int_equal(run_op("Exp", 13, NULL, 0, 1, &x, &y, NULL), NT_OK);
    const float *o = y->data;
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double e = exp((double)xv[i]), rel = fabs(o[i] - e) / e;
        worst = rel > worst ? rel : worst;
    }
    assert_true(worst < 2.4e-7);
    assert_true(isnan(o[N]));
    assert_true(isinf(o[N + 1]) && o[N + 1] > 0);
    assert_true(o[N + 2] == 0 && o[N + 4] == 0);
    assert_true(isinf(o[N + 3]));
    assert_true(o[N + 5] == 1);
    nt_tensor_free(y);
    nt_tensor_free(x);
}

/* The element-wise float loops run as the best clone the CPU has (AVX-512
 * with 512-bit vectors, AVX2, baseline) and must give the bits of the plain
 * scalar expression, whatever the vector width and the position of an
 * element in a block or in the tail.  The reference below is kept scalar. */
#if defined(__GNUC__) && !defined(__clang__)
#define SCALAR_REF __attribute__((noinline, optimize("no-tree-vectorize")))
#else
#define SCALAR_REF __attribute__((noinline))
#endif
static SCALAR_REF float clamp01_ref(float v) { return v < 0 ? 0.0f : v > 1 ? 1.0f : v; }
static SCALAR_REF float unary_ref(int op, float x)
{
    switch (op) {
    case 0: return 1.0f / (1.0f + nt_ew_expf(-x));
    case 1: return nt_ew_tanhf(x);
    case 2: return nt_ew_erff(x);
    case 3: return nt_ew_expf(x);
    case 4: return x * clamp01_ref(x / 6.0f + 0.5f);
    case 5: return clamp01_ref(0.2f * x + 0.5f);
    default: return 0.5f * x * (1.0f + nt_ew_erff(x * 0.7071067811865476f));
    }
}

static void test_unary_vector_bits(void **unused)
{
    (void)unused;
    static const char *const ops[] = {"Sigmoid", "Tanh", "Erf", "Exp", "HardSwish", "HardSigmoid", "Gelu"};
    static const int opsets[] = {13, 13, 13, 13, 14, 6, 20};
    enum { N = 4099 };
    int64_t d[1] = {N};
    nt_tensor *x = mkf(1, d, NULL), *y;
    float *xv = x->data;
    fill(xv, N, 7);
    for (int i = 0; i < N; i++)
        xv[i] *= (i % 3 == 0) ? 100.0f : (i % 3 == 1) ? 8.0f : 1.0f;
    const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 88.7f, -87.3f, 1e-30f, -3.0f, 3.0f};
    memcpy(xv + 100, special, sizeof special);
    memcpy(xv + N - 5, special, 5 * sizeof(float));
    for (int k = 0; k < (int)(sizeof ops / sizeof ops[0]); k++) {
        assert_int_equal(run_op(ops[k], opsets[k], NULL, 0, 1, &x, &y, NULL), NT_OK);
        const float *o = y->data;
        int bad = 0;
        for (int i = 0; i < N; i++) {
            float want = unary_ref(k, xv[i]);
            if (memcmp(&o[i], &want, sizeof want) != 0 && !(isnan(o[i]) && isnan(want)))
                bad++;
        }
        if (bad)
            print_message("%s: %d of %d elements differ from the scalar expression\n", ops[k], bad, N);
        assert_int_equal(bad, 0);
        nt_tensor_free(y);
    }
    nt_tensor_free(x);
}

static void test_clip(void **unused)
{
    (void)unused;
    float x[4] = {-5, 0, 5, NAN}, lo = -1;
    int64_t d[1] = {4};
    nt_tensor *in[3] = {mkf(1, d, x), mkf(0, NULL, &lo), NULL}, *y;
    assert_int_equal(run_op("Clip", 13, NULL, 0, 3, in, &y, NULL), NT_OK); /* max omitted */
    const float *o = y->data;
    assert_close(o[0], -1, 0);
    assert_close(o[2], 5, 0);
    assert_true(isnan(o[3]));
    nt_tensor_free(y);
    /* opset 6: attributes */
    nt_attr at[2] = {attr_float("min", -2), attr_float("max", 2)};
    assert_int_equal(run_op("Clip", 6, at, 2, 1, in, &y, NULL), NT_OK);
    assert_close(((float *)y->data)[0], -2, 0);
    assert_close(((float *)y->data)[2], 2, 0);
    nt_tensor_free(y);
    free_all(2, in);

    int8_t xi[4] = {-128, -3, 3, 127}, hi = 2;
    nt_tensor *iin[3] = {mk(NT_DTYPE_INT8, 1, d, xi), NULL, mk(NT_DTYPE_INT8, 0, NULL, &hi)};
    assert_int_equal(run_op("Clip", 13, NULL, 0, 3, iin, &y, NULL), NT_OK);
    const int8_t iw[4] = {-128, -3, 2, 2};
    assert_memory_equal(y->data, iw, 4);
    nt_tensor_free(y);
    nt_tensor_free(iin[0]);
    nt_tensor_free(iin[2]);
}

static void test_unary_int_bool(void **unused)
{
    (void)unused;
    int32_t x[4] = {INT32_MIN, -3, 0, 4};
    int64_t d[1] = {4};
    nt_tensor *in[1] = {mk(NT_DTYPE_INT32, 1, d, x)}, *y;
    assert_int_equal(run_op("Abs", 13, NULL, 0, 1, in, &y, NULL), NT_OK);
    const int32_t aw[4] = {INT32_MIN, 3, 0, 4};
    assert_memory_equal(y->data, aw, sizeof aw);
    nt_tensor_free(y);
    assert_int_equal(run_op("Sign", 13, NULL, 0, 1, in, &y, NULL), NT_OK);
    const int32_t sw[4] = {-1, -1, 0, 1};
    assert_memory_equal(y->data, sw, sizeof sw);
    nt_tensor_free(y);
    assert_int_equal(run_op("Relu", 14, NULL, 0, 1, in, &y, NULL), NT_OK);
    const int32_t rw[4] = {0, 0, 0, 4};
    assert_memory_equal(y->data, rw, sizeof rw);
    nt_tensor_free(y);
    /* a float-only op declines int32 */
    assert_int_equal(run_op("Exp", 13, NULL, 0, 1, in, &y, NULL), NT_ERR_UNSUPPORTED);
    assert_non_null(strstr(nt_last_error(), "int32"));
    free_all(1, in);

    uint8_t b[3] = {0, 1, 1};
    nt_tensor *bin[1] = {mk(NT_DTYPE_BOOL, 1, (int64_t[]){3}, b)};
    assert_int_equal(run_op("Not", 1, NULL, 0, 1, bin, &y, NULL), NT_OK);
    const uint8_t nw[3] = {1, 0, 0};
    assert_memory_equal(y->data, nw, 3);
    nt_tensor_free(y);
    free_all(1, bin);

    float f[4] = {INFINITY, -INFINITY, NAN, 1};
    nt_tensor *fin[1] = {mkf(1, d, f)};
    nt_attr neg_only = attr_int("detect_positive", 0);
    assert_int_equal(run_op("IsInf", 20, &neg_only, 1, 1, fin, &y, NULL), NT_OK);
    const uint8_t iw[4] = {0, 1, 0, 0};
    assert_memory_equal(y->data, iw, 4);
    nt_tensor_free(y);
    assert_int_equal(run_op("IsNaN", 20, NULL, 0, 1, fin, &y, NULL), NT_OK);
    const uint8_t nn[4] = {0, 0, 1, 0};
    assert_memory_equal(y->data, nn, 4);
    nt_tensor_free(y);
    free_all(1, fin);
}

static void test_float16(void **unused)
{
    (void)unused;
    uint16_t a[3], b[3];
    float av[3] = {1.5f, -2, 65504}, bv[3] = {0.25f, 2, 65504};
    for (int i = 0; i < 3; i++) {
        a[i] = nt_float_to_half(av[i]);
        b[i] = nt_float_to_half(bv[i]);
    }
    int64_t d[1] = {3};
    nt_tensor *in[2] = {mk(NT_DTYPE_FLOAT16, 1, d, a), mk(NT_DTYPE_FLOAT16, 1, d, b)}, *y;
    assert_int_equal(run_op("Add", 14, NULL, 0, 2, in, &y, NULL), NT_OK);
    assert_int_equal(y->dtype, NT_DTYPE_FLOAT16);
    const uint16_t *o = y->data;
    assert_close(nt_half_to_float(o[0]), 1.75, 0);
    assert_close(nt_half_to_float(o[1]), 0, 0);
    assert_true(isinf(nt_half_to_float(o[2]))); /* overflows float16 */
    nt_tensor_free(y);
    assert_int_equal(run_op("Exp", 13, NULL, 0, 1, in, &y, NULL), NT_OK);
    assert_close(nt_half_to_float(((uint16_t *)y->data)[0]), exp(1.5), 5e-3);
    nt_tensor_free(y);
    free_all(2, in);
}

/* ---- Cast */

static void test_cast(void **unused)
{
    (void)unused;
    float x[5] = {1.9f, -1.9f, NAN, 3e10f, -3e10f};
    int64_t d[1] = {5};
    nt_tensor *in[2] = {mkf(1, d, x), NULL}, *y;
    nt_attr to = attr_int("to", NT_DTYPE_INT32);
    assert_int_equal(run_op("Cast", 19, &to, 1, 1, in, &y, NULL), NT_OK);
    const int32_t iw[5] = {1, -1, 0, INT32_MAX, INT32_MIN}; /* truncate, NaN 0, saturate */
    assert_memory_equal(y->data, iw, sizeof iw);
    nt_tensor_free(y);
    to = attr_int("to", NT_DTYPE_BOOL);
    assert_int_equal(run_op("Cast", 19, &to, 1, 1, in, &y, NULL), NT_OK);
    const uint8_t bw[5] = {1, 1, 1, 1, 1};
    assert_memory_equal(y->data, bw, 5);
    nt_tensor_free(y);
    to = attr_int("to", NT_DTYPE_FLOAT16);
    assert_int_equal(run_op("Cast", 13, &to, 1, 1, in, &y, NULL), NT_OK);
    assert_close(nt_half_to_float(((uint16_t *)y->data)[0]), 1.900390625, 0);
    assert_true(isinf(nt_half_to_float(((uint16_t *)y->data)[3])));
    nt_tensor_free(y);
    to = attr_int("to", NT_DTYPE_STRING);
    assert_int_equal(run_op("Cast", 19, &to, 1, 1, in, &y, NULL), NT_ERR_UNSUPPORTED);
    /* float8: round to nearest even, overflow saturates by default, NaN stays NaN */
    to = attr_int("to", NT_DTYPE_FLOAT8E4M3FN);
    assert_int_equal(run_op("Cast", 19, &to, 1, 1, in, &y, NULL), NT_OK);
    const uint8_t f8[3] = {0x3f, 0xbf, 0x7f}; /* 1.875, -1.875, NaN */
    assert_memory_equal(y->data, f8, 3);
    assert_int_equal(((uint8_t *)y->data)[3], 0x7e); /* 448 */
    assert_int_equal(((uint8_t *)y->data)[4], 0xfe);
    nt_tensor_free(y);

    /* CastLike: the target's dtype; integers wrap */
    int16_t big[2] = {300, -1};
    in[1] = in[0];
    in[0] = mk(NT_DTYPE_INT16, 1, (int64_t[]){2}, big);
    nt_tensor *like = mk(NT_DTYPE_UINT8, 1, (int64_t[]){1}, NULL);
    nt_tensor *cin[2] = {in[0], like};
    assert_int_equal(run_op("CastLike", 15, NULL, 0, 2, cin, &y, NULL), NT_OK);
    assert_int_equal(y->dtype, NT_DTYPE_UINT8);
    const uint8_t uw[2] = {44, 255};
    assert_memory_equal(y->data, uw, 2);
    nt_tensor_free(y);
    free_all(2, in);
    nt_tensor_free(like);
}

/* ---- static inference */

static void test_static_infer(void **unused)
{
    (void)unused;
    nt_tensor a = {0}, b = {0}, y;
    a.dtype = NT_DTYPE_FLOAT;
    a.ndim = 2;
    a.dims[0] = -1;
    a.dims[1] = 4;
    b.dtype = NT_DTYPE_FLOAT;
    b.ndim = 1;
    b.dims[0] = 4;
    nt_tensor *in[2] = {&a, &b};
    assert_int_equal(infer_static("Add", 14, NULL, 0, 2, in, &y), NT_OK);
    assert_int_equal(y.dtype, NT_DTYPE_FLOAT);
    assert_int_equal(y.ndim, 2);
    assert_int_equal(y.dims[0], -1);
    assert_int_equal(y.dims[1], 4);
    /* unknown rank: dtype known, rank unknown */
    a.ndim = -1;
    assert_int_equal(infer_static("Less", 13, NULL, 0, 2, in, &y), NT_OK);
    assert_int_equal(y.dtype, NT_DTYPE_BOOL);
    assert_int_equal(y.ndim, -1);
    /* declined dtypes, in static mode too */
    a.ndim = 1;
    a.dims[0] = 4;
    a.dtype = b.dtype = NT_DTYPE_STRING;
    assert_int_equal(infer_static("Add", 14, NULL, 0, 2, in, &y), NT_ERR_UNSUPPORTED);
    assert_non_null(strstr(nt_last_error(), "string"));
    a.dtype = NT_DTYPE_INT64;
    assert_int_equal(infer_static("Sin", 22, NULL, 0, 1, in, &y), NT_ERR_UNSUPPORTED);
    /* mismatched dtypes and shapes */
    b.dtype = NT_DTYPE_FLOAT;
    assert_int_equal(infer_static("Add", 14, NULL, 0, 2, in, &y), NT_ERR_SHAPE);
    a.dtype = NT_DTYPE_FLOAT;
    b.dims[0] = 3;
    assert_int_equal(infer_static("Add", 14, NULL, 0, 2, in, &y), NT_ERR_SHAPE);
    /* Cast from an unknown dtype is not declined */
    a.dtype = NT_DTYPE_UNDEFINED;
    nt_attr to = attr_int("to", NT_DTYPE_INT64);
    assert_int_equal(infer_static("Cast", 13, &to, 1, 1, in, &y), NT_OK);
    assert_int_equal(y.dtype, NT_DTYPE_INT64);
}

static void test_registry_versions(void **unused)
{
    (void)unused;
    assert_null(nt_op_find("Add", "", 6));   /* broadcast attribute era: not registered */
    assert_int_equal(nt_op_find("Add", "", 23)->since, 14);
    assert_int_equal(nt_op_find("Clip", "", 10)->since, 6);
    assert_int_equal(nt_op_find("Clip", "", 11)->since, 11);
    assert_int_equal(nt_op_find("Gelu", "", 23)->since, 20);
    assert_null(nt_op_find("Gelu", "", 19));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_same_shape),
        cmocka_unit_test(test_broadcast_paths),
        cmocka_unit_test(test_parallel_chunks),
        cmocka_unit_test(test_nan_min_max_compare),
        cmocka_unit_test(test_int_edge_cases),
        cmocka_unit_test(test_pow_mixed),
        cmocka_unit_test(test_variadic),
        cmocka_unit_test(test_where_prelu),
        cmocka_unit_test(test_unary_float),
        cmocka_unit_test(test_exp_accuracy),
        cmocka_unit_test(test_unary_vector_bits),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_unary_int_bool),
        cmocka_unit_test(test_float16),
        cmocka_unit_test(test_cast),
        cmocka_unit_test(test_static_infer),
        cmocka_unit_test(test_registry_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
