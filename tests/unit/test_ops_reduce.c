/*
 * test_ops_reduce.c — reduce.c (Reduce*, ArgMax/ArgMin, CumSum) through the
 * registry: attribute vs input axes by opset, noop_with_empty_axes, the
 * (O, R, I) fast paths and the transposing fallback (checked against a
 * naive reference), chunked inner vectors across a thread pool, empty-set
 * identities, exact 64-bit integer sums, float16, LogSumExp stability,
 * select_last_index, exclusive/reverse CumSum and static-mode inference.
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

/* ---- naive reference: sum / max over the masked axes, row-major walk */

static void naive_reduce(const float *x, int r, const int64_t *dims, const bool *mask, bool is_max, double *out)
{
    int64_t n = 1, ny = 1;
    for (int d = 0; d < r; d++) {
        n *= dims[d];
        ny *= mask[d] ? 1 : dims[d];
    }
    for (int64_t i = 0; i < ny; i++)
        out[i] = is_max ? -INFINITY : 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t rem = i, k = 0, mul = 1;
        for (int d = r - 1; d >= 0; d--) {
            int64_t c = rem % dims[d];
            rem /= dims[d];
            if (!mask[d]) {
                k += c * mul;
                mul *= dims[d];
            }
        }
        out[k] = is_max ? fmax(out[k], x[i]) : out[k] + x[i];
    }
}

static float *ramp(int64_t n)
{
    float *v = malloc((size_t)n * sizeof(float));
    assert_non_null(v);
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)((i * 37) % 101) * 0.25f - 7.0f;
    return v;
}

/* Every axes subset of a 4-D tensor, Sum and Max, against the naive walk. */
static void test_all_axis_subsets(void **unused)
{
    (void)unused;
    int64_t dims[4] = {3, 4, 5, 6};
    float *v = ramp(360);
    nt_tensor *x = mkf(4, dims, v);
    for (int m = 0; m < 16; m++)
        for (int op = 0; op < 2; op++) {
            int64_t axes[4];
            bool mask[4];
            int na = 0;
            for (int d = 0; d < 4; d++) {
                mask[d] = (m >> d) & 1;
                if (mask[d])
                    axes[na++] = d - (d & 1) * 4; /* mix negative axes in */
            }
            if (na == 0)
                continue;
            tnode t;
            tn_init(&t, op ? "ReduceMax" : "ReduceSum");
            a_int(&t, "keepdims", m & 1);
            nt_tensor *ax = mki64(na, axes);
            nt_tensor *in[2] = {x, ax};
            nt_tensor *y = tn_run1(&t, 18, 2, in, NT_OK);
            double want[360];
            naive_reduce(v, 4, dims, mask, op, want);
            float wf[360];
            int64_t ny = nt_tensor_numel(y);
            for (int64_t i = 0; i < ny; i++)
                wf[i] = (float)want[i];
            expect_close(y->data, wf, ny, 1e-5);
            assert_int_equal(y->ndim, (m & 1) ? 4 : 4 - na);
            nt_tensor_free(y);
            nt_tensor_free(ax);
        }
    nt_tensor_free(x);
    free(v);
}

/* Before opset 13 ReduceSum reads the axes attribute; ReduceMean until 18. */
static void test_axes_attribute_versions(void **unused)
{
    (void)unused;
    int64_t dims[2] = {2, 3}, ax1[1] = {1};
    float v[6] = {1, 2, 3, 4, 5, 6};
    nt_tensor *x = mkf(2, dims, v);
    nt_tensor *in[1] = {x};
    tnode t;
    tn_init(&t, "ReduceSum");
    a_ints(&t, "axes", 1, ax1);
    a_int(&t, "keepdims", 0);
    nt_tensor *y = tn_run1(&t, 11, 1, in, NT_OK);
    float w1[2] = {6, 15};
    expect_shape(y, 1, (int64_t[]){2});
    expect_close(y->data, w1, 2, 0);
    nt_tensor_free(y);

    tn_init(&t, "ReduceMean");
    a_ints(&t, "axes", 1, (int64_t[]){0});
    y = tn_run1(&t, 13, 1, in, NT_OK);
    float w2[3] = {2.5f, 3.5f, 4.5f};
    expect_shape(y, 2, (int64_t[]){1, 3});
    expect_close(y->data, w2, 3, 1e-7);
    nt_tensor_free(y);

    /* opset 13 ReduceSum without the axes input: everything */
    tn_init(&t, "ReduceSum");
    y = tn_run1(&t, 13, 1, in, NT_OK);
    expect_shape(y, 2, (int64_t[]){1, 1});
    assert_true(((float *)y->data)[0] == 21);
    nt_tensor_free(y);
    nt_tensor_free(x);
}

static void test_noop_with_empty_axes(void **unused)
{
    (void)unused;
    int64_t dims[2] = {2, 2};
    float v[4] = {1, -2, 3, 4};
    nt_tensor *x = mkf(2, dims, v), *ax = mk(NT_DTYPE_INT64, 1, (int64_t[]){0}, NULL);
    nt_tensor *in[2] = {x, ax};
    tnode t;
    tn_init(&t, "ReduceMax");
    a_int(&t, "noop_with_empty_axes", 1);
    nt_tensor *y = tn_run1(&t, 18, 2, in, NT_OK);
    expect_shape(y, 2, dims);
    expect_close(y->data, v, 4, 0);
    nt_tensor_free(y);
    tn_init(&t, "ReduceMax");
    y = tn_run1(&t, 18, 2, in, NT_OK);
    expect_shape(y, 2, (int64_t[]){1, 1});
    assert_true(((float *)y->data)[0] == 4);
    nt_tensor_free(y);
    free_all(2, in);
}

/* Reductions over an empty axis give the identities; numel 0 outputs are fine. */
static void test_empty_sets(void **unused)
{
    (void)unused;
    int64_t dims[3] = {2, 0, 3};
    nt_tensor *x = mkf(3, dims, NULL), *ax = mki64(1, (int64_t[]){1});
    nt_tensor *in[2] = {x, ax};
    const char *ops[] = {"ReduceSum", "ReduceProd", "ReduceMax", "ReduceMin", "ReduceLogSumExp", "ReduceMean", "ReduceL2"};
    const float want[] = {0, 1, -INFINITY, INFINITY, -INFINITY, NAN, 0};
    for (int k = 0; k < 7; k++) {
        tnode t;
        tn_init(&t, ops[k]);
        nt_tensor *y = tn_run1(&t, 18, 2, in, NT_OK);
        expect_shape(y, 3, (int64_t[]){2, 1, 3});
        float w[6];
        for (int i = 0; i < 6; i++)
            w[i] = want[k];
        expect_close(y->data, w, 6, 0);
        nt_tensor_free(y);
    }
    nt_tensor *xi = mk(NT_DTYPE_INT32, 3, dims, NULL);
    nt_tensor *in2[2] = {xi, ax};
    tnode t;
    tn_init(&t, "ReduceMax");
    nt_tensor *y = tn_run1(&t, 18, 2, in2, NT_OK);
    for (int i = 0; i < 6; i++)
        assert_int_equal(((int32_t *)y->data)[i], INT32_MIN);
    nt_tensor_free(y);
    free_all(2, in2);
    nt_tensor_free(x);
}

/* int64 sums keep every bit; LogSumExp does not overflow; int LogSumExp declined. */
static void test_integer_and_stability(void **unused)
{
    (void)unused;
    int64_t d1[1] = {3};
    int64_t iv[3] = {(int64_t)1 << 60, 1, 2};
    nt_tensor *xi = mk(NT_DTYPE_INT64, 1, d1, iv);
    nt_tensor *in[1] = {xi};
    tnode t;
    tn_init(&t, "ReduceSum");
    a_int(&t, "keepdims", 0);
    nt_tensor *y = tn_run1(&t, 13, 1, in, NT_OK);
    assert_int_equal(y->ndim, 0);
    assert_true(((int64_t *)y->data)[0] == ((int64_t)1 << 60) + 3);
    nt_tensor_free(y);
    tn_init(&t, "ReduceLogSumExp");
    assert_null(tn_run1(&t, 18, 1, in, NT_ERR_UNSUPPORTED));
    nt_tensor_free(xi);

    float fv[3] = {1000, 1000, 999};
    nt_tensor *xf = mkf(1, d1, fv);
    nt_tensor *in2[1] = {xf};
    tn_init(&t, "ReduceLogSumExp");
    y = tn_run1(&t, 18, 1, in2, NT_OK);
    float w = (float)(1000 + log(2 + exp(-1.0)));
    expect_close(y->data, &w, 1, 1e-6);
    nt_tensor_free(y);
    nt_tensor_free(xf);
}

/* Reduce axis 0 of (3, 1500): the inner vector is chunked and split across 2 threads. */
static void test_outer_axis_chunks_threads(void **unused)
{
    (void)unused;
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    int64_t dims[2] = {3, 1500};
    float *v = ramp(4500);
    nt_tensor *x = mkf(2, dims, v), *ax = mki64(1, (int64_t[]){0}), *y;
    nt_tensor *in[2] = {x, ax};
    tnode t;
    tn_init(&t, "ReduceL1");
    assert_int_equal(tn_run(&t, 18, 2, in, 1, &y, &exec), NT_OK);
    for (int i = 0; i < 1500; i++) {
        float w = fabsf(v[i]) + fabsf(v[1500 + i]) + fabsf(v[3000 + i]);
        expect_close((float *)y->data + i, &w, 1, 1e-6);
    }
    nt_tensor_free(y);
    free_all(2, in);
    free(v);
    pool_free(sess);
}

static void test_float16_double(void **unused)
{
    (void)unused;
    int64_t dims[2] = {2, 2};
    uint16_t h[4];
    float f[4] = {0.5f, 1.5f, 2.0f, -1.0f};
    for (int i = 0; i < 4; i++)
        h[i] = nt_float_to_half(f[i]);
    nt_tensor *x = mk(NT_DTYPE_FLOAT16, 2, dims, h);
    nt_tensor *in[1] = {x};
    tnode t;
    tn_init(&t, "ReduceSumSquare");
    a_ints(&t, "axes", 1, (int64_t[]){1});
    nt_tensor *y = tn_run1(&t, 13, 1, in, NT_OK);
    assert_int_equal(y->dtype, NT_DTYPE_FLOAT16);
    assert_true(nt_half_to_float(((uint16_t *)y->data)[0]) == 2.5f);
    assert_true(nt_half_to_float(((uint16_t *)y->data)[1]) == 5.0f);
    nt_tensor_free(y);
    nt_tensor_free(x);
    double dv[4] = {3, 4, 0, 0};
    x = mk(NT_DTYPE_DOUBLE, 2, dims, dv);
    in[0] = x;
    tn_init(&t, "ReduceL2");
    a_ints(&t, "axes", 1, (int64_t[]){-1});
    a_int(&t, "keepdims", 0);
    y = tn_run1(&t, 13, 1, in, NT_OK);
    assert_true(((double *)y->data)[0] == 5 && ((double *)y->data)[1] == 0);
    nt_tensor_free(y);
    nt_tensor_free(x);
}

static void test_static_infer(void **unused)
{
    (void)unused;
    nt_tensor x = {0}, ax = {0}, y = {0};
    x.dtype = NT_DTYPE_FLOAT;
    x.ndim = 3;
    x.dims[0] = -1;
    x.dims[1] = 4;
    x.dims[2] = 5;
    ax.dtype = NT_DTYPE_INT64;
    ax.ndim = 1;
    ax.dims[0] = 1;
    nt_tensor *in[2] = {&x, &ax};
    tnode t;
    tn_init(&t, "ReduceMean");
    assert_int_equal(tn_infer_static(&t, 18, 2, in, &y), NT_OK);
    assert_int_equal(y.ndim, -1); /* axes data unknown */
    assert_int_equal(y.dtype, NT_DTYPE_FLOAT);
    int64_t a = 2;
    ax.data = &a;
    assert_int_equal(tn_infer_static(&t, 18, 2, in, &y), NT_OK);
    expect_shape(&y, 3, (int64_t[]){-1, 4, 1});
    x.dtype = NT_DTYPE_STRING;
    assert_int_equal(tn_infer_static(&t, 18, 2, in, &y), NT_ERR_UNSUPPORTED);
    x.dtype = NT_DTYPE_BOOL;
    assert_int_equal(tn_infer_static(&t, 18, 2, in, &y), NT_ERR_UNSUPPORTED);
    tn_init(&t, "ReduceMin");
    assert_int_equal(tn_infer_static(&t, 20, 2, in, &y), NT_OK);
}

static void test_argmax_argmin(void **unused)
{
    (void)unused;
    int64_t dims[2] = {2, 4};
    float v[8] = {1, 3, 3, 2, 5, 5, NAN, 0};
    nt_tensor *x = mkf(2, dims, v);
    nt_tensor *in[1] = {x};
    tnode t;
    tn_init(&t, "ArgMax");
    a_int(&t, "axis", -1);
    nt_tensor *y = tn_run1(&t, 13, 1, in, NT_OK);
    expect_shape(y, 2, (int64_t[]){2, 1});
    assert_int_equal(((int64_t *)y->data)[0], 1);
    assert_int_equal(((int64_t *)y->data)[1], 2); /* NaN wins, as numpy */
    nt_tensor_free(y);
    tn_init(&t, "ArgMax");
    a_int(&t, "axis", 1);
    a_int(&t, "select_last_index", 1);
    a_int(&t, "keepdims", 0);
    y = tn_run1(&t, 12, 1, in, NT_OK);
    expect_shape(y, 1, (int64_t[]){2});
    assert_int_equal(((int64_t *)y->data)[0], 2);
    nt_tensor_free(y);
    tn_init(&t, "ArgMin");
    a_int(&t, "keepdims", 0);
    y = tn_run1(&t, 11, 1, in, NT_OK); /* axis 0 (strided) */
    expect_shape(y, 1, (int64_t[]){4});
    int64_t w[4] = {0, 0, 1, 1};
    for (int i = 0; i < 4; i++)
        assert_int_equal(((int64_t *)y->data)[i], w[i]);
    nt_tensor_free(y);
    nt_tensor_free(x);
}

static void test_cumsum(void **unused)
{
    (void)unused;
    int64_t dims[2] = {2, 3};
    int32_t v[6] = {1, 2, 3, 4, 5, 6};
    nt_tensor *x = mk(NT_DTYPE_INT32, 2, dims, v), *ax = mk(NT_DTYPE_INT32, 0, NULL, (int32_t[]){0});
    nt_tensor *in[2] = {x, ax};
    tnode t;
    tn_init(&t, "CumSum");
    a_int(&t, "exclusive", 1);
    a_int(&t, "reverse", 1);
    nt_tensor *y = tn_run1(&t, 14, 2, in, NT_OK);
    int32_t w[6] = {4, 5, 6, 0, 0, 0};
    for (int i = 0; i < 6; i++)
        assert_int_equal(((int32_t *)y->data)[i], w[i]);
    nt_tensor_free(y);
    float fv[6] = {1, 2, 3, 4, 5, 6};
    nt_tensor *xf = mkf(2, dims, fv), *ax1 = mki64(1, (int64_t[]){-1});
    nt_tensor *in2[2] = {xf, ax1};
    tn_init(&t, "CumSum");
    y = tn_run1(&t, 11, 2, in2, NT_OK);
    float wf[6] = {1, 3, 6, 4, 9, 15};
    expect_close(y->data, wf, 6, 0);
    nt_tensor_free(y);
    free_all(2, in);
    free_all(2, in2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_axis_subsets),
        cmocka_unit_test(test_axes_attribute_versions),
        cmocka_unit_test(test_noop_with_empty_axes),
        cmocka_unit_test(test_empty_sets),
        cmocka_unit_test(test_integer_and_stability),
        cmocka_unit_test(test_outer_axis_chunks_threads),
        cmocka_unit_test(test_float16_double),
        cmocka_unit_test(test_static_infer),
        cmocka_unit_test(test_argmax_argmin),
        cmocka_unit_test(test_cumsum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
