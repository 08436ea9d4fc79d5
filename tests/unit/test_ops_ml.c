/*
 * test_ops_ml.c — the "ml" family (ai.onnx.ml): LabelEncoder with integer
 * and float keys and values (list and tensor attributes, defaults, NaN
 * keys, repeated keys), its declined string forms; TreeEnsemble on the two
 * ONNX node-test forests re-encoded here, every comparison mode, NaN
 * routing, the four aggregations, and malformed forests (cycles, bad
 * targets, missing member sets, unsupported post_transform).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/kernel.h"

/* ------------------------------------------------------------ helpers */

typedef struct attrs {
    nt_attr a[20];
    nt_tensor *owned[8];
    int n, n_owned;
} attrs;

static void at_int(attrs *at, const char *name, int64_t v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_INT, .i = v};
}

static void at_float(attrs *at, const char *name, float v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_FLOAT, .f = v};
}

static void at_ints(attrs *at, const char *name, int n, const int64_t *v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_INTS, .n = n, .ints = v};
}

static void at_floats(attrs *at, const char *name, int n, const float *v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_FLOATS, .n = n, .floats = v};
}

static void at_strings(attrs *at, const char *name, int n, const char **v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_STRINGS, .n = n, .strings = v};
}

/* A 1-D tensor attribute of dtype dt from doubles. */
static void at_tensor(attrs *at, const char *name, nt_dtype dt, int64_t n, const double *v)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(dt, 1, &n, &t), NT_OK);
    for (int64_t i = 0; i < n; i++)
        nt_tensor_set_f64(t, i, v[i]);
    at->owned[at->n_owned++] = t;
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_TENSOR, .t = t};
}

static void at_free(attrs *at)
{
    for (int i = 0; i < at->n_owned; i++)
        nt_tensor_free(at->owned[i]);
}

static nt_tensor *tensor_of(nt_dtype dt, int ndim, const int64_t *dims, const double *v)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(dt, ndim, dims, &t), NT_OK);
    for (int64_t i = 0; i < nt_tensor_numel(t); i++)
        nt_tensor_set_f64(t, i, v[i]);
    return t;
}

/* Runs an ai.onnx.ml op with one input and one output; *out is NULL on failure. */
static nt_status run_ml(const char *op_type, int opset, const attrs *at, nt_tensor *x, nt_tensor **out)
{
    nt_node node = {.name = "t", .op_type = op_type, .domain = "ai.onnx.ml", .n_in = 1, .n_out = 1,
                    .n_attr = at ? at->n : 0, .attrs = at ? (nt_attr *)at->a : NULL};
    const nt_op_def *op = nt_op_find(op_type, "ai.onnx.ml", opset);
    assert_non_null(op);
    *out = NULL;
    void *state = NULL;
    nt_status s = op->prepare(&node, opset, &state);
    if (s != NT_OK)
        return s;
    nt_tensor shape = {.ndim = -1}, *sp = &shape, *in[1] = {x};
    nt_kernel_ctx ctx = {&node, opset, 1, 1, in, &sp, state, true, NULL, NULL};
    /* Plan time with the data hidden, then run time. */
    nt_tensor hidden = *x;
    hidden.data = NULL;
    nt_tensor *hin[1] = {&hidden};
    ctx.in = hin;
    s = op->infer(&ctx);
    ctx.in = in;
    ctx.static_mode = false;
    if (s == NT_OK)
        s = op->infer(&ctx);
    if (s == NT_OK)
        s = nt_tensor_new(shape.dtype, shape.ndim, shape.dims, out);
    if (s == NT_OK) {
        nt_tensor *op_out[1] = {*out};
        ctx.out = op_out;
        s = op->compute(&ctx);
    }
    op->release(state);
    if (s != NT_OK) {
        nt_tensor_free(*out);
        *out = NULL;
    }
    return s;
}

static void expect_values(const nt_tensor *t, nt_dtype dt, int64_t n, const double *want)
{
    assert_int_equal(t->dtype, dt);
    assert_int_equal(nt_tensor_numel(t), n);
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(t, i);
        if (!(v == want[i] || (isnan(v) && isnan(want[i])) || fabs(v - want[i]) <= 1e-6 * fabs(want[i]))) {
            print_error("element %lld: got %.17g expected %.17g\n", (long long)i, v, want[i]);
            fail();
        }
    }
}

/* ------------------------------------------------------------ LabelEncoder */

static void test_lenc_int_to_float(void **unused)
{
    (void)unused;
    attrs at = {0};
    const int64_t keys[4] = {7, -3, 100, 7};   /* 7 repeated: the last value wins */
    const float vals[4] = {1.5f, 2.5f, 3.5f, 9.0f};
    at_ints(&at, "keys_int64s", 4, keys);
    at_floats(&at, "values_floats", 4, vals);
    at_float(&at, "default_float", 42.0f);
    int64_t d[2] = {2, 3};
    const double x[6] = {7, -3, 5, 100, 0, -3};
    nt_tensor *X = tensor_of(NT_DTYPE_INT64, 2, d, x), *Y;
    assert_int_equal(run_ml("LabelEncoder", 2, &at, X, &Y), NT_OK);
    assert_int_equal(Y->ndim, 2);
    const double want[6] = {9.0, 2.5, 42.0, 3.5, 42.0, 2.5};
    expect_values(Y, NT_DTYPE_FLOAT, 6, want);
    nt_tensor_free(Y);
    /* Without default_float the default is -0.0. */
    at.n--;
    assert_int_equal(run_ml("LabelEncoder", 4, &at, X, &Y), NT_OK);
    assert_true(((float *)Y->data)[2] == 0.0f && signbit(((float *)Y->data)[2]));
    nt_tensor_free(Y);
    nt_tensor_free(X);
}

static void test_lenc_float_to_int(void **unused)
{
    (void)unused;
    attrs at = {0};
    const float keys[4] = {0.5f, NAN, -0.0f, 2.25f};
    const int64_t vals[4] = {10, 20, 30, 40};
    at_floats(&at, "keys_floats", 4, keys);
    at_ints(&at, "values_int64s", 4, vals);
    int64_t d[1] = {6};
    /* Any NaN matches the NaN key; 0.0 equals the -0.0 key by value. */
    const double x[6] = {2.25, NAN, 0.0, 0.5, 1.0, -NAN};
    nt_tensor *X = tensor_of(NT_DTYPE_FLOAT, 1, d, x), *Y;
    assert_int_equal(run_ml("LabelEncoder", 4, &at, X, &Y), NT_OK);
    const double want[6] = {40, 20, 30, 10, -1, 20};
    expect_values(Y, NT_DTYPE_INT64, 6, want);
    nt_tensor_free(Y);
    /* The input type must be the key type. */
    nt_tensor *Xi = tensor_of(NT_DTYPE_INT64, 1, d, want);
    assert_int_equal(run_ml("LabelEncoder", 4, &at, Xi, &Y), NT_ERR_SHAPE);
    nt_tensor_free(Xi);
    nt_tensor_free(X);
}

static void test_lenc_tensors(void **unused)
{
    (void)unused;
    /* int32 keys -> int16 values with a default_tensor. */
    attrs at = {0};
    const double keys[3] = {5, 6, 7}, vals[3] = {-1, 300, 12}, dflt[1] = {99};
    at_tensor(&at, "keys_tensor", NT_DTYPE_INT32, 3, keys);
    at_tensor(&at, "values_tensor", NT_DTYPE_INT16, 3, vals);
    at_tensor(&at, "default_tensor", NT_DTYPE_INT16, 1, dflt);
    int64_t d[1] = {5};
    const double x[5] = {7, 5, 8, 6, 5};
    nt_tensor *X = tensor_of(NT_DTYPE_INT32, 1, d, x), *Y;
    assert_int_equal(run_ml("LabelEncoder", 4, &at, X, &Y), NT_OK);
    const double want[5] = {12, -1, 99, 300, -1};
    expect_values(Y, NT_DTYPE_INT16, 5, want);
    nt_tensor_free(Y);
    at_free(&at);
    /* double keys -> double values; a default of another type is an error. */
    attrs a2 = {0};
    const double k2[2] = {0.1, 0.2}, v2[2] = {1e300, -2.0}, bad[1] = {1};
    at_tensor(&a2, "keys_tensor", NT_DTYPE_DOUBLE, 2, k2);
    at_tensor(&a2, "values_tensor", NT_DTYPE_DOUBLE, 2, v2);
    nt_tensor *Xd = tensor_of(NT_DTYPE_DOUBLE, 1, (int64_t[]){3}, (double[]){0.2, 0.3, 0.1});
    assert_int_equal(run_ml("LabelEncoder", 4, &a2, Xd, &Y), NT_OK);
    const double w2[3] = {-2.0, -0.0, 1e300};
    expect_values(Y, NT_DTYPE_DOUBLE, 3, w2);
    nt_tensor_free(Y);
    at_tensor(&a2, "default_tensor", NT_DTYPE_INT64, 1, bad);
    assert_int_equal(run_ml("LabelEncoder", 4, &a2, Xd, &Y), NT_ERR_PARSE);
    at_free(&a2);
    nt_tensor_free(Xd);
    nt_tensor_free(X);
}

static void test_lenc_declined_and_malformed(void **unused)
{
    (void)unused;
    int64_t d[1] = {2};
    nt_tensor *X = tensor_of(NT_DTYPE_INT64, 1, d, (double[]){1, 2}), *Y;
    const char *names[2] = {"a", "b"};
    const int64_t iv[2] = {1, 2};
    /* string keys: a string X maps through them (unknown keys: default_int64 -1);
     * int64 X does not fit string keys */
    attrs at = {0};
    at_strings(&at, "keys_strings", 2, names);
    at_ints(&at, "values_int64s", 2, iv);
    assert_int_equal(run_ml("LabelEncoder", 4, &at, X, &Y), NT_ERR_SHAPE);
    nt_tensor *Xs;
    const char *xs[2] = {"b", "zz"};
    assert_int_equal(nt_tensor_new(NT_DTYPE_STRING, 1, d, &Xs), NT_OK);
    assert_int_equal(nt_tensor_set_strings(Xs, 2, xs, NULL), NT_OK);
    assert_int_equal(run_ml("LabelEncoder", 4, &at, Xs, &Y), NT_OK);
    assert_int_equal(((int64_t *)Y->data)[0], 2);
    assert_int_equal(((int64_t *)Y->data)[1], -1);
    nt_tensor_free(Y);
    nt_tensor_free(Xs);
    /* string values: an int64 X gives strings, "_Unused" without a key */
    attrs a2 = {0};
    const int64_t k2[2] = {1, 7};
    at_ints(&a2, "keys_int64s", 2, k2);
    at_strings(&a2, "values_strings", 2, names);
    assert_int_equal(run_ml("LabelEncoder", 2, &a2, X, &Y), NT_OK);
    assert_int_equal(Y->dtype, NT_DTYPE_STRING);
    assert_string_equal(((char **)Y->data)[0], "a");
    assert_string_equal(((char **)Y->data)[1], "_Unused");
    nt_tensor_free(Y);
    /* LabelEncoder-1 is string <-> int only. */
    attrs a1 = {0};
    at_strings(&a1, "classes_strings", 2, names);
    assert_int_equal(run_ml("LabelEncoder", 1, &a1, X, &Y), NT_ERR_UNSUPPORTED);
    /* Length mismatch, no keys at all, two kinds of keys. */
    attrs a3 = {0};
    const float fv[1] = {1};
    at_ints(&a3, "keys_int64s", 2, iv);
    at_floats(&a3, "values_floats", 1, fv);
    assert_int_equal(run_ml("LabelEncoder", 2, &a3, X, &Y), NT_ERR_PARSE);
    attrs a4 = {0};
    at_floats(&a4, "values_floats", 1, fv);
    assert_int_equal(run_ml("LabelEncoder", 2, &a4, X, &Y), NT_ERR_PARSE);
    at_ints(&a4, "keys_int64s", 1, iv);
    at_floats(&a4, "keys_floats", 1, fv);
    assert_int_equal(run_ml("LabelEncoder", 2, &a4, X, &Y), NT_ERR_PARSE);
    nt_tensor_free(X);
}

/* ------------------------------------------------------------ TreeEnsemble */

/* The ONNX node test "single_tree": 3 interior nodes, 4 leaves, 2 targets, double. */
static void single_tree_attrs(attrs *at)
{
    static const int64_t feat[3] = {0, 0, 0}, tid[3] = {1, 0, 1}, fid[3] = {2, 2, 3}, tl[3] = {0, 1, 1},
                         fl[3] = {0, 1, 1}, lt[4] = {0, 1, 0, 1}, roots[1] = {0};
    at_ints(at, "nodes_featureids", 3, feat);
    at_ints(at, "nodes_truenodeids", 3, tid);
    at_ints(at, "nodes_falsenodeids", 3, fid);
    at_ints(at, "nodes_trueleafs", 3, tl);
    at_ints(at, "nodes_falseleafs", 3, fl);
    at_ints(at, "leaf_targetids", 4, lt);
    at_ints(at, "tree_roots", 1, roots);
    at_int(at, "n_targets", 2);
    at_int(at, "aggregate_function", 1);
    at_tensor(at, "nodes_modes", NT_DTYPE_UINT8, 3, (double[]){0, 0, 0});
    at_tensor(at, "nodes_splits", NT_DTYPE_DOUBLE, 3, (double[]){3.14, 1.2, 4.2});
    at_tensor(at, "leaf_weights", NT_DTYPE_DOUBLE, 4, (double[]){5.23, 12.12, -12.23, 7.21});
}

static void test_tree_single(void **unused)
{
    (void)unused;
    attrs at = {0};
    single_tree_attrs(&at);
    int64_t d[2] = {3, 2};
    nt_tensor *X = tensor_of(NT_DTYPE_DOUBLE, 2, d, (double[]){1.2, 3.4, -0.12, 1.66, 4.14, 1.77}), *Y;
    assert_int_equal(run_ml("TreeEnsemble", 5, &at, X, &Y), NT_OK);
    assert_int_equal(Y->ndim, 2);
    assert_int_equal(Y->dims[1], 2);
    const double want[6] = {5.23, 0, 5.23, 0, 0, 12.12};
    expect_values(Y, NT_DTYPE_DOUBLE, 6, want);
    nt_tensor_free(Y);
    nt_tensor_free(X);
    /* float16 input gives a float16 output. */
    nt_tensor *Xh = tensor_of(NT_DTYPE_FLOAT16, 2, d, (double[]){1.2, 3.4, -0.12, 1.66, 4.5, 1.77});
    assert_int_equal(run_ml("TreeEnsemble", 5, &at, Xh, &Y), NT_OK);
    assert_int_equal(Y->dtype, NT_DTYPE_FLOAT16);
    assert_true(fabs(nt_tensor_get_f64(Y, 5) - 7.21) < 0.01); /* 4.5 > 4.2: leaf 3 */
    nt_tensor_free(Y);
    nt_tensor_free(Xh);
    at_free(&at);
}

static void test_tree_membership(void **unused)
{
    (void)unused;
    /* The ONNX node test "set_membership": LEQ 11, then two MEMBER nodes. */
    attrs at = {0};
    static const int64_t feat[3] = {0, 0, 0}, tid[3] = {1, 0, 1}, fid[3] = {2, 2, 3}, tl[3] = {0, 1, 1},
                         fl[3] = {1, 0, 1}, lt[4] = {0, 1, 2, 3}, roots[1] = {0};
    at_ints(&at, "nodes_featureids", 3, feat);
    at_ints(&at, "nodes_truenodeids", 3, tid);
    at_ints(&at, "nodes_falsenodeids", 3, fid);
    at_ints(&at, "nodes_trueleafs", 3, tl);
    at_ints(&at, "nodes_falseleafs", 3, fl);
    at_ints(&at, "leaf_targetids", 4, lt);
    at_ints(&at, "tree_roots", 1, roots);
    at_int(&at, "n_targets", 4);
    at_tensor(&at, "nodes_modes", NT_DTYPE_UINT8, 3, (double[]){0, 6, 6});
    at_tensor(&at, "nodes_splits", NT_DTYPE_FLOAT, 3, (double[]){11, 232344, NAN});
    at_tensor(&at, "leaf_weights", NT_DTYPE_FLOAT, 4, (double[]){1, 10, 1000, 100});
    at_tensor(&at, "membership_values", NT_DTYPE_FLOAT, 8, (double[]){1.2, 3.7, 8, 9, NAN, 12, 7, NAN});
    int64_t d[2] = {6, 1};
    nt_tensor *X = tensor_of(NT_DTYPE_FLOAT, 2, d, (double[]){1.2, 3.4, -0.12, NAN, 12, 7}), *Y;
    assert_int_equal(run_ml("TreeEnsemble", 5, &at, X, &Y), NT_OK);
    const double want[24] = {1, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 100, 0, 0, 1000, 0, 0, 0, 1000, 0, 0, 10, 0, 0};
    expect_values(Y, NT_DTYPE_FLOAT, 24, want);
    nt_tensor_free(Y);
    /* A missing NaN terminator is malformed. */
    at.owned[3]->dims[0] = 7;
    assert_int_equal(run_ml("TreeEnsemble", 5, &at, X, &Y), NT_ERR_PARSE);
    nt_tensor_free(X);
    at_free(&at);
}

/* Two stumps on features 0 and 1, each mode in turn, every aggregation. */
static void test_tree_modes_and_aggregates(void **unused)
{
    (void)unused;
    const double split = 0.5;
    for (int mode = 0; mode < 6; mode++)
        for (int agg = 0; agg < 4; agg++)
            for (int track = 0; track < 2; track++) {
                attrs at = {0};
                static const int64_t feat[2] = {0, 1}, tid[2] = {0, 2}, fid[2] = {1, 3}, ones[2] = {1, 1},
                                     lt[4] = {0, 1, 0, 1}, roots[2] = {0, 1};
                const int64_t tr[2] = {track, track};
                at_ints(&at, "nodes_featureids", 2, feat);
                at_ints(&at, "nodes_truenodeids", 2, tid);
                at_ints(&at, "nodes_falsenodeids", 2, fid);
                at_ints(&at, "nodes_trueleafs", 2, ones);
                at_ints(&at, "nodes_falseleafs", 2, ones);
                at_ints(&at, "nodes_missing_value_tracks_true", 2, tr);
                at_ints(&at, "leaf_targetids", 4, lt);
                at_ints(&at, "tree_roots", 2, roots);
                at_int(&at, "n_targets", 3);
                at_int(&at, "aggregate_function", agg);
                at_tensor(&at, "nodes_modes", NT_DTYPE_UINT8, 2, (double[]){mode, mode});
                at_tensor(&at, "nodes_splits", NT_DTYPE_FLOAT, 2, (double[]){split, split});
                const double lw[4] = {1, 2, 4, 8};
                at_tensor(&at, "leaf_weights", NT_DTYPE_FLOAT, 4, lw);
                int64_t d[2] = {4, 2};
                const double x[8] = {0.5, 0.25, 1, NAN, -3, 0.5, NAN, 7};
                nt_tensor *X = tensor_of(NT_DTYPE_FLOAT, 2, d, x), *Y;
                assert_int_equal(run_ml("TreeEnsemble", 5, &at, X, &Y), NT_OK);
                for (int r = 0; r < 4; r++) {
                    double acc[3], init = agg == 2 ? 3.4028234663852886e38 : agg == 3 ? -3.4028234663852886e38 : 0;
                    for (int k = 0; k < 3; k++)
                        acc[k] = init;
                    for (int t = 0; t < 2; t++) {
                        double v = x[r * 2 + t];
                        bool c = mode == 0 ? v <= split : mode == 1 ? v < split : mode == 2 ? v >= split
                                 : mode == 3 ? v > split : mode == 4 ? v == split : v != split;
                        if (isnan(v) && track)
                            c = true;
                        int leaf = t * 2 + (c ? 0 : 1);
                        int k = (int)lt[leaf];
                        double w = lw[leaf];
                        acc[k] = agg == 2 ? fmin(acc[k], w) : agg == 3 ? fmax(acc[k], w) : acc[k] + w;
                    }
                    for (int k = 0; k < 3; k++) {
                        double want = agg == 0 ? acc[k] / 2 : acc[k];
                        double got = nt_tensor_get_f64(Y, r * 3 + k);
                        if (got != (double)(float)want) {
                            print_error("mode %d agg %d track %d row %d target %d: got %g want %g\n", mode, agg, track,
                                        r, k, got, want);
                            fail();
                        }
                    }
                }
                nt_tensor_free(Y);
                nt_tensor_free(X);
                at_free(&at);
            }
}

static void test_tree_malformed(void **unused)
{
    (void)unused;
    int64_t d[2] = {1, 2};
    nt_tensor *X = tensor_of(NT_DTYPE_DOUBLE, 2, d, (double[]){1, 2}), *Y;
    /* post_transform other than NONE is declined. */
    attrs at = {0};
    single_tree_attrs(&at);
    at_int(&at, "post_transform", 1);
    assert_int_equal(run_ml("TreeEnsemble", 5, &at, X, &Y), NT_ERR_UNSUPPORTED);
    at_free(&at);
    /* A leaf target beyond n_targets. */
    attrs a2 = {0};
    single_tree_attrs(&a2);
    a2.a[7].i = 1;   /* n_targets */
    assert_int_equal(run_ml("TreeEnsemble", 5, &a2, X, &Y), NT_ERR_PARSE);
    at_free(&a2);
    /* A cycle: node 1's true branch goes back to node 0. */
    attrs a3 = {0};
    single_tree_attrs(&a3);
    static const int64_t cyc[3] = {1, 0, 1};
    static const int64_t tl[3] = {0, 0, 1};
    a3.a[1] = (nt_attr){.name = "nodes_truenodeids", .type = NT_ATTR_INTS, .n = 3, .ints = cyc};
    a3.a[3] = (nt_attr){.name = "nodes_trueleafs", .type = NT_ATTR_INTS, .n = 3, .ints = tl};
    assert_int_equal(run_ml("TreeEnsemble", 5, &a3, X, &Y), NT_ERR_PARSE);
    at_free(&a3);
    /* A feature beyond X's columns; X of the wrong rank; an integer X. */
    attrs a4 = {0};
    single_tree_attrs(&a4);
    static const int64_t far[3] = {0, 5, 0};
    a4.a[0] = (nt_attr){.name = "nodes_featureids", .type = NT_ATTR_INTS, .n = 3, .ints = far};
    assert_int_equal(run_ml("TreeEnsemble", 5, &a4, X, &Y), NT_ERR_SHAPE);
    at_free(&a4);
    attrs a5 = {0};
    single_tree_attrs(&a5);
    nt_tensor *X1 = tensor_of(NT_DTYPE_DOUBLE, 1, d, (double[]){1}), *Xi = tensor_of(NT_DTYPE_INT64, 2, d, (double[]){1, 2});
    assert_int_equal(run_ml("TreeEnsemble", 5, &a5, X1, &Y), NT_ERR_SHAPE);
    assert_int_equal(run_ml("TreeEnsemble", 5, &a5, Xi, &Y), NT_ERR_UNSUPPORTED);
    at_free(&a5);
    nt_tensor_free(X1);
    nt_tensor_free(Xi);
    nt_tensor_free(X);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lenc_int_to_float),
        cmocka_unit_test(test_lenc_float_to_int),
        cmocka_unit_test(test_lenc_tensors),
        cmocka_unit_test(test_lenc_declined_and_malformed),
        cmocka_unit_test(test_tree_single),
        cmocka_unit_test(test_tree_membership),
        cmocka_unit_test(test_tree_modes_and_aggregates),
        cmocka_unit_test(test_tree_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
