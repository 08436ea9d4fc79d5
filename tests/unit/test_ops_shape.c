/*
 * test_ops_shape.c — unit tests of the "shape" operator family, calling the
 * kernels through nt_op_find with hand-built nodes (no executor).  Covers
 * version-dependent forms (attribute vs input), static inference with
 * unknown data, dtype-generic movement (int8 .. complex128), the transpose
 * fast paths against a naive reference, and error statuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops/kernel.h"

/* ---------------------------------------------------------------- helpers */

/* op_harness.h runs a kernel through the registry as the executor does
 * (oh_run_node: infer and compute, or static infer only). */
#include "op_harness.h"

static void expect_f32(const nt_tensor *t, int n, const float *v)
{
    assert_int_equal(nt_tensor_numel(t), n);
    for (int i = 0; i < n; i++)
        assert_true(((const float *)t->data)[i] == v[i]);
}

static void expect_i64(const nt_tensor *t, int n, const int64_t *v)
{
    assert_int_equal(nt_tensor_numel(t), n);
    for (int i = 0; i < n; i++)
        assert_int_equal(((const int64_t *)t->data)[i], v[i]);
}

/* ---------------------------------------------------------------- tests */

static void test_shape_size(void **st)
{
    (void)st;
    int64_t d[4] = {2, 3, 4, 5};
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 4, d, NULL), *o[1];
    nt_attr at[2] = {attr_int("start", 1), attr_int("end", -1)};
    assert_int_equal(oh_run_node("Shape", 15, at, 2, 1, &x, 1, o, false), NT_OK);
    expect_i64(o[0], 2, (int64_t[]){3, 4});
    free_all(1, o);
    /* before opset 15 start/end do not exist */
    assert_int_equal(oh_run_node("Shape", 13, at, 2, 1, &x, 1, o, false), NT_OK);
    expect_i64(o[0], 4, d);
    free_all(1, o);
    assert_int_equal(oh_run_node("Size", 13, NULL, 0, 1, &x, 1, o, false), NT_OK);
    assert_int_equal(o[0]->ndim, 0);
    assert_int_equal(((int64_t *)o[0]->data)[0], 120);
    free_all(1, o);
    nt_tensor_free(x);
}

static void test_reshape(void **st)
{
    (void)st;
    int64_t d[3] = {2, 3, 4};
    nt_tensor *x = mk(NT_DTYPE_INT8, 3, d, NULL), *o[1];
    for (int i = 0; i < 24; i++)
        ((int8_t *)x->data)[i] = (int8_t)i;
    nt_tensor *in[2] = {x, mki64(3, (int64_t[]){0, -1, 2})};
    assert_int_equal(oh_run_node("Reshape", 14, NULL, 0, 2, in, 1, o, false), NT_OK);
    expect_shape(o[0], 3, (int64_t[]){2, 6, 2});
    assert_memory_equal(o[0]->data, x->data, 24);
    free_all(1, o);
    nt_tensor_free(in[1]);
    /* allowzero: 0 is a real zero dim, and 24 elements do not fit */
    nt_attr az = attr_int("allowzero", 1);
    in[1] = mki64(2, (int64_t[]){0, 24});
    assert_int_equal(oh_run_node("Reshape", 14, &az, 1, 2, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    nt_tensor_free(in[1]);
    /* two -1 are an error; a mismatch is an error */
    in[1] = mki64(2, (int64_t[]){-1, -1});
    assert_int_equal(oh_run_node("Reshape", 13, NULL, 0, 2, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    nt_tensor_free(in[1]);
    in[1] = mki64(2, (int64_t[]){5, 5});
    assert_int_equal(oh_run_node("Reshape", 13, NULL, 0, 2, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    /* static mode, shape data unknown: rank unknown, dtype kept */
    void *keep = in[1]->data;
    in[1]->data = NULL;
    assert_int_equal(oh_run_node("Reshape", 13, NULL, 0, 2, in, 1, o, true), NT_OK);
    assert_int_equal(o[0]->ndim, -1);
    assert_int_equal(o[0]->dtype, NT_DTYPE_INT8);
    free_all(1, o);
    in[1]->data = keep;
    nt_tensor_free(in[1]);
    /* static mode with an unknown input dim and -1 */
    x->dims[0] = -1;
    in[1] = mki64(2, (int64_t[]){-1, 12});
    assert_int_equal(oh_run_node("Reshape", 13, NULL, 0, 2, in, 1, o, true), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){-1, 12});
    free_all(1, o);
    x->dims[0] = 2;
    free_all(2, in);
}

static void test_string_declined(void **st)
{
    (void)st;
    int64_t d[1] = {2};
    nt_tensor *x = calloc(1, sizeof *x), *o[1];
    x->dtype = NT_DTYPE_STRING;
    x->ndim = 1;
    x->dims[0] = 2;
    nt_tensor *in[2] = {x, mki64(1, d)};
    assert_int_equal(oh_run_node("Reshape", 13, NULL, 0, 2, in, 1, o, true), NT_ERR_UNSUPPORTED);
    free_all(1, o);
    assert_int_equal(oh_run_node("Transpose", 13, NULL, 0, 1, in, 1, o, false), NT_ERR_UNSUPPORTED);
    free_all(1, o);
    free_all(2, in);
}

static void test_flatten_squeeze_unsqueeze(void **st)
{
    (void)st;
    int64_t d[4] = {2, 1, 3, 1};
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 4, d, NULL), *o[1];
    nt_attr ax = attr_int("axis", -2);
    assert_int_equal(oh_run_node("Flatten", 13, &ax, 1, 1, &x, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){2, 3});
    free_all(1, o);
    /* Squeeze without axes drops every 1 */
    assert_int_equal(oh_run_node("Squeeze", 13, NULL, 0, 1, &x, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){2, 3});
    free_all(1, o);
    /* opset 11: axes attribute; opset 13: axes input */
    int64_t ax1[1] = {-1};
    nt_attr axes = attr_ints("axes", 1, ax1);
    assert_int_equal(oh_run_node("Squeeze", 11, &axes, 1, 1, &x, 1, o, false), NT_OK);
    expect_shape(o[0], 3, (int64_t[]){2, 1, 3});
    free_all(1, o);
    nt_tensor *in[2] = {x, mki64(1, (int64_t[]){0})};
    assert_int_equal(oh_run_node("Squeeze", 13, NULL, 0, 2, in, 1, o, false), NT_ERR_SHAPE); /* dim 0 is 2 */
    free_all(1, o);
    nt_tensor_free(in[1]);
    in[1] = mki64(2, (int64_t[]){0, -1});
    assert_int_equal(oh_run_node("Unsqueeze", 13, NULL, 0, 2, in, 1, o, false), NT_OK);
    expect_shape(o[0], 6, (int64_t[]){1, 2, 1, 3, 1, 1});
    free_all(1, o);
    nt_tensor_free(in[1]);
    in[1] = mki64(2, (int64_t[]){1, 1});
    assert_int_equal(oh_run_node("Unsqueeze", 13, NULL, 0, 2, in, 1, o, false), NT_ERR_SHAPE); /* repeated */
    free_all(1, o);
    free_all(2, in);
}

/* Naive transpose for checking the fast paths. */
static void naive_transpose(const nt_tensor *x, const int *perm, void *dst)
{
    int r = x->ndim;
    size_t es = nt_dtype_size(x->dtype);
    int64_t st[NT_MAX_DIMS], od[NT_MAX_DIMS], idx[NT_MAX_DIMS] = {0};
    int64_t s = 1;
    for (int d = r - 1; d >= 0; d--) {
        st[d] = s;
        s *= x->dims[d];
    }
    for (int d = 0; d < r; d++)
        od[d] = x->dims[perm[d]];
    int64_t n = nt_tensor_numel(x);
    for (int64_t i = 0; i < n; i++) {
        int64_t src = 0;
        for (int d = 0; d < r; d++)
            src += idx[d] * st[perm[d]];
        memcpy((char *)dst + i * (int64_t)es, (const char *)x->data + src * (int64_t)es, es);
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < od[d])
                break;
            idx[d] = 0;
        }
    }
}

static void check_transpose(nt_dtype dt, int r, const int64_t *dims, const int64_t *perm64)
{
    nt_tensor *x = mk(dt, r, dims, NULL), *o[1];
    size_t nb = nt_tensor_nbytes(x);
    for (size_t i = 0; i < nb; i++)
        ((unsigned char *)x->data)[i] = (unsigned char)(i * 7 + 3);
    nt_attr p = attr_ints("perm", r, perm64);
    assert_int_equal(oh_run_node("Transpose", 13, &p, 1, 1, &x, 1, o, false), NT_OK);
    int perm[NT_MAX_DIMS];
    for (int d = 0; d < r; d++)
        perm[d] = (int)perm64[d];
    void *want = malloc(nb ? nb : 1);
    naive_transpose(x, perm, want);
    assert_memory_equal(o[0]->data, want, nb);
    for (int d = 0; d < r; d++)
        assert_int_equal(o[0]->dims[d], dims[perm[d]]);
    free(want);
    free_all(1, o);
    nt_tensor_free(x);
}

static void test_transpose(void **st)
{
    (void)st;
    check_transpose(NT_DTYPE_FLOAT, 2, (int64_t[]){37, 53}, (int64_t[]){1, 0});
    check_transpose(NT_DTYPE_FLOAT, 4, (int64_t[]){2, 5, 7, 9}, (int64_t[]){0, 2, 3, 1}); /* NCHW->NHWC */
    check_transpose(NT_DTYPE_FLOAT, 4, (int64_t[]){2, 7, 9, 5}, (int64_t[]){0, 3, 1, 2}); /* NHWC->NCHW */
    check_transpose(NT_DTYPE_INT8, 3, (int64_t[]){3, 4, 5}, (int64_t[]){2, 0, 1});
    check_transpose(NT_DTYPE_DOUBLE, 4, (int64_t[]){2, 3, 4, 5}, (int64_t[]){3, 1, 0, 2});
    check_transpose(NT_DTYPE_COMPLEX128, 3, (int64_t[]){3, 1, 4}, (int64_t[]){2, 1, 0});
    check_transpose(NT_DTYPE_FLOAT16, 5, (int64_t[]){2, 1, 3, 1, 4}, (int64_t[]){4, 3, 2, 1, 0});
    check_transpose(NT_DTYPE_FLOAT, 3, (int64_t[]){4, 0, 3}, (int64_t[]){2, 1, 0});
    /* not a permutation */
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 2, (int64_t[]){2, 2}, NULL), *o[1];
    nt_attr p = attr_ints("perm", 2, (int64_t[]){0, 0});
    assert_int_equal(oh_run_node("Transpose", 13, &p, 1, 1, &x, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    nt_tensor_free(x);
}

static void test_concat_split(void **st)
{
    (void)st;
    nt_tensor *in[2] = {mk(NT_DTYPE_INT64, 2, (int64_t[]){2, 1}, (int64_t[]){1, 2}),
                        mk(NT_DTYPE_INT64, 2, (int64_t[]){2, 2}, (int64_t[]){3, 4, 5, 6})};
    nt_tensor *o[4];
    nt_attr ax = attr_int("axis", -1);
    assert_int_equal(oh_run_node("Concat", 13, &ax, 1, 2, in, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){2, 3});
    expect_i64(o[0], 6, (int64_t[]){1, 3, 4, 2, 5, 6});
    /* split it back: opset 13 split input */
    nt_tensor *sin[2] = {o[0], mki64(2, (int64_t[]){1, 2})};
    nt_tensor *so[3];
    assert_int_equal(oh_run_node("Split", 13, &ax, 1, 2, sin, 2, so, false), NT_OK);
    expect_i64(so[0], 2, (int64_t[]){1, 2});
    expect_i64(so[1], 4, (int64_t[]){3, 4, 5, 6});
    free_all(2, so);
    nt_tensor_free(sin[1]);
    /* opset 18 num_outputs, uneven: 7 -> 3,3,1 */
    nt_tensor *v = mk(NT_DTYPE_FLOAT, 1, (int64_t[]){7}, (float[]){1, 2, 3, 4, 5, 6, 7});
    nt_attr no = attr_int("num_outputs", 3);
    assert_int_equal(oh_run_node("Split", 18, &no, 1, 1, &v, 3, so, false), NT_OK);
    expect_f32(so[0], 3, (float[]){1, 2, 3});
    expect_f32(so[1], 3, (float[]){4, 5, 6});
    expect_f32(so[2], 1, (float[]){7});
    free_all(3, so);
    /* opset 13 uneven without split: error */
    assert_int_equal(oh_run_node("Split", 13, NULL, 0, 1, &v, 3, so, false), NT_ERR_SHAPE);
    free_all(3, so);
    /* mismatched concat dims */
    nt_tensor *bad[2] = {in[0], mk(NT_DTYPE_INT64, 2, (int64_t[]){3, 1}, NULL)};
    nt_attr ax0 = attr_int("axis", 1);
    assert_int_equal(oh_run_node("Concat", 13, &ax0, 1, 2, bad, 1, o + 1, false), NT_ERR_SHAPE);
    free_all(1, o + 1);
    nt_tensor_free(bad[1]);
    nt_tensor_free(v);
    free_all(1, o);
    free_all(2, in);
}

static void test_slice(void **st)
{
    (void)st;
    float xv[20];
    for (int i = 0; i < 20; i++)
        xv[i] = (float)i;
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 2, (int64_t[]){4, 5}, xv), *o[1];
    /* x[3:0:-2, -1:-100:-3] -> rows 3,1; cols 4,1 */
    nt_tensor *in[5] = {x, mki64(2, (int64_t[]){3, -1}), mki64(2, (int64_t[]){0, -100}), mki64(2, (int64_t[]){0, 1}),
                        mki64(2, (int64_t[]){-2, -3})};
    assert_int_equal(oh_run_node("Slice", 13, NULL, 0, 5, in, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){2, 2});
    expect_f32(o[0], 4, (float[]){19, 16, 9, 6});
    free_all(1, o);
    /* clamped out-of-range ends, default axes/steps */
    nt_tensor *in2[3] = {x, mki64(1, (int64_t[]){1}), mki64(1, (int64_t[]){INT64_MAX})};
    assert_int_equal(oh_run_node("Slice", 13, NULL, 0, 3, in2, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){3, 5});
    assert_true(((float *)o[0]->data)[0] == 5);
    free_all(1, o);
    /* opset 1: attributes */
    nt_attr at[3] = {attr_ints("starts", 1, (int64_t[]){2}), attr_ints("ends", 1, (int64_t[]){4}),
                     attr_ints("axes", 1, (int64_t[]){1})};
    assert_int_equal(oh_run_node("Slice", 1, at, 3, 1, &x, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){4, 2});
    assert_true(((float *)o[0]->data)[1] == 3);
    free_all(1, o);
    /* step 0 is an error */
    nt_tensor_free(in[4]);
    in[4] = mki64(2, (int64_t[]){1, 0});
    assert_int_equal(oh_run_node("Slice", 13, NULL, 0, 5, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    nt_tensor_free(in2[1]);
    nt_tensor_free(in2[2]);
    free_all(5, in);
}

static void test_pad_modes(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6}), *o[1];
    nt_attr mode;
    nt_tensor *in[2] = {x, mki64(4, (int64_t[]){1, 2, 1, 2})};
    mode = attr_str("mode", "reflect");
    assert_int_equal(oh_run_node("Pad", 13, &mode, 1, 2, in, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){4, 7});
    expect_f32(o[0], 28, (float[]){6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1, 6, 5, 4, 5, 6, 5, 4, 3, 2, 1, 2, 3, 2, 1});
    free_all(1, o);
    nt_tensor_free(in[1]);
    in[1] = mki64(4, (int64_t[]){0, 1, 1, 0});
    mode = attr_str("mode", "edge");
    assert_int_equal(oh_run_node("Pad", 13, &mode, 1, 2, in, 1, o, false), NT_OK);
    expect_f32(o[0], 12, (float[]){1, 1, 2, 3, 4, 4, 5, 6, 4, 4, 5, 6});
    free_all(1, o);
    nt_tensor_free(in[1]);
    in[1] = mki64(4, (int64_t[]){1, 0, 0, 2});
    mode = attr_str("mode", "wrap");
    assert_int_equal(oh_run_node("Pad", 19, &mode, 1, 2, in, 1, o, false), NT_OK);
    expect_f32(o[0], 15, (float[]){4, 5, 6, 4, 5, 1, 2, 3, 1, 2, 4, 5, 6, 4, 5});
    free_all(1, o);
    nt_tensor_free(in[1]);
    /* constant with value, negative pad crops, axes input (opset 18) */
    nt_tensor *in3[4] = {x, mki64(2, (int64_t[]){-1, 1}), mk(NT_DTYPE_FLOAT, 0, NULL, (float[]){9}),
                         mki64(1, (int64_t[]){1})};
    assert_int_equal(oh_run_node("Pad", 18, NULL, 0, 4, in3, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){2, 3});
    expect_f32(o[0], 6, (float[]){2, 3, 9, 5, 6, 9});
    free_all(1, o);
    /* reflect of an empty axis is an error, not a crash */
    nt_tensor *e = mk(NT_DTYPE_FLOAT, 2, (int64_t[]){0, 3}, NULL);
    nt_tensor *in4[2] = {e, mki64(4, (int64_t[]){1, 0, 1, 0})};
    mode = attr_str("mode", "reflect");
    assert_int_equal(oh_run_node("Pad", 13, &mode, 1, 2, in4, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    free_all(2, in4);
    for (int i = 1; i < 4; i++)
        nt_tensor_free(in3[i]);
    nt_tensor_free(x);
}

static void test_tile_expand(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_INT32, 2, (int64_t[]){2, 1}, (int32_t[]){1, 2}), *o[1];
    nt_tensor *in[2] = {x, mki64(2, (int64_t[]){2, 3})};
    assert_int_equal(oh_run_node("Tile", 13, NULL, 0, 2, in, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){4, 3});
    int32_t want[12] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2};
    assert_memory_equal(o[0]->data, want, sizeof want);
    free_all(1, o);
    nt_tensor_free(in[1]);
    in[1] = mki64(3, (int64_t[]){2, 1, 3});
    assert_int_equal(oh_run_node("Expand", 13, NULL, 0, 2, in, 1, o, false), NT_OK);
    expect_shape(o[0], 3, (int64_t[]){2, 2, 3});
    int32_t want2[12] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2};
    assert_memory_equal(o[0]->data, want2, sizeof want2);
    free_all(1, o);
    nt_tensor_free(in[1]);
    in[1] = mki64(2, (int64_t[]){3, 3});
    assert_int_equal(oh_run_node("Expand", 13, NULL, 0, 2, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    free_all(2, in);
}

static void test_constants(void **st)
{
    (void)st;
    nt_tensor *o[2];
    nt_attr a = attr_ints("value_ints", 3, (int64_t[]){4, 5, 6});
    assert_int_equal(oh_run_node("Constant", 13, &a, 1, 0, NULL, 1, o, false), NT_OK);
    expect_i64(o[0], 3, (int64_t[]){4, 5, 6});
    free_all(1, o);
    nt_attr s = attr_str("value_string", "hi");
    assert_int_equal(oh_run_node("Constant", 13, &s, 1, 0, NULL, 1, o, true), NT_ERR_UNSUPPORTED);
    free_all(1, o);
    /* ConstantOfShape with an int32 value */
    nt_tensor *v = mk(NT_DTYPE_INT32, 1, (int64_t[]){1}, (int32_t[]){7});
    nt_attr va;
    memset(&va, 0, sizeof va);
    va.name = "value";
    va.type = NT_ATTR_TENSOR;
    va.t = v;
    nt_tensor *shp = mki64(2, (int64_t[]){2, 2});
    assert_int_equal(oh_run_node("ConstantOfShape", 13, &va, 1, 1, &shp, 1, o, false), NT_OK);
    assert_int_equal(o[0]->dtype, NT_DTYPE_INT32);
    int32_t want[4] = {7, 7, 7, 7};
    assert_memory_equal(o[0]->data, want, sizeof want);
    free_all(1, o);
    nt_tensor_free(v);
    nt_tensor_free(shp);
    /* Range: int64 negative delta, float */
    nt_tensor *r[3] = {mk(NT_DTYPE_INT64, 0, NULL, (int64_t[]){10}), mk(NT_DTYPE_INT64, 0, NULL, (int64_t[]){3}),
                       mk(NT_DTYPE_INT64, 0, NULL, (int64_t[]){-3})};
    assert_int_equal(oh_run_node("Range", 11, NULL, 0, 3, r, 1, o, false), NT_OK);
    expect_i64(o[0], 3, (int64_t[]){10, 7, 4});
    free_all(1, o);
    free_all(3, r);
    nt_tensor *rf[3] = {mk(NT_DTYPE_FLOAT, 0, NULL, (float[]){1}), mk(NT_DTYPE_FLOAT, 0, NULL, (float[]){2}),
                        mk(NT_DTYPE_FLOAT, 0, NULL, (float[]){0.25f})};
    assert_int_equal(oh_run_node("Range", 11, NULL, 0, 3, rf, 1, o, false), NT_OK);
    expect_f32(o[0], 4, (float[]){1, 1.25f, 1.5f, 1.75f});
    free_all(1, o);
    /* zero delta is an error */
    ((float *)rf[2]->data)[0] = 0;
    assert_int_equal(oh_run_node("Range", 11, NULL, 0, 3, rf, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    free_all(3, rf);
}

static void test_eyelike_trilu_dropout(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_INT32, 2, (int64_t[]){3, 4}, (int32_t[]){1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}), *o[2];
    nt_attr at[2] = {attr_int("k", 1), attr_int("dtype", NT_DTYPE_DOUBLE)};
    assert_int_equal(oh_run_node("EyeLike", 9, at, 2, 1, &x, 1, o, false), NT_OK);
    assert_int_equal(o[0]->dtype, NT_DTYPE_DOUBLE);
    double *e = o[0]->data;
    assert_true(e[1] == 1 && e[6] == 1 && e[11] == 1 && e[0] == 0 && e[5] == 0);
    free_all(1, o);
    /* lower triangle with k = -1 */
    nt_tensor *in[2] = {x, mki64(1, (int64_t[]){-1})};
    nt_attr up = attr_int("upper", 0);
    assert_int_equal(oh_run_node("Trilu", 14, &up, 1, 2, in, 1, o, false), NT_OK);
    int32_t want[12] = {0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0};
    assert_memory_equal(o[0]->data, want, sizeof want);
    free_all(1, o);
    nt_tensor_free(in[1]);
    /* Dropout in inference: identity and an all-true bool mask */
    nt_tensor *f = mk(NT_DTYPE_FLOAT, 1, (int64_t[]){3}, (float[]){1, 2, 3});
    assert_int_equal(oh_run_node("Dropout", 13, NULL, 0, 1, &f, 2, o, false), NT_OK);
    expect_f32(o[0], 3, (float[]){1, 2, 3});
    assert_int_equal(o[1]->dtype, NT_DTYPE_BOOL);
    assert_memory_equal(o[1]->data, ((uint8_t[]){1, 1, 1}), 3);
    free_all(2, o);
    /* training mode with a non-zero ratio is declined, with ratio 0 it runs */
    nt_tensor *din[3] = {f, mk(NT_DTYPE_FLOAT, 0, NULL, (float[]){0.5f}), mk(NT_DTYPE_BOOL, 0, NULL, (uint8_t[]){1})};
    assert_int_equal(oh_run_node("Dropout", 13, NULL, 0, 3, din, 2, o, false), NT_ERR_UNSUPPORTED);
    free_all(2, o);
    ((float *)din[1]->data)[0] = 0;
    assert_int_equal(oh_run_node("Dropout", 13, NULL, 0, 3, din, 2, o, false), NT_OK);
    expect_f32(o[0], 3, (float[]){1, 2, 3});
    free_all(2, o);
    free_all(3, din);
    nt_tensor_free(x);
}

static void test_depth_space(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 4, (int64_t[]){1, 8, 2, 2}, NULL), *o[1], *back[1];
    for (int i = 0; i < 32; i++)
        ((float *)x->data)[i] = (float)i;
    nt_attr at[2] = {attr_int("blocksize", 2), attr_str("mode", "CRD")};
    assert_int_equal(oh_run_node("DepthToSpace", 13, at, 2, 1, &x, 1, o, false), NT_OK);
    expect_shape(o[0], 4, (int64_t[]){1, 2, 4, 4});
    int crd[32] = {0, 4, 1, 5, 8, 12, 9, 13, 2, 6, 3, 7, 10, 14, 11, 15,
                   16, 20, 17, 21, 24, 28, 25, 29, 18, 22, 19, 23, 26, 30, 27, 31};
    for (int i = 0; i < 32; i++)
        assert_true(((float *)o[0]->data)[i] == (float)crd[i]);
    free_all(1, o);
    /* DCR DepthToSpace then SpaceToDepth is the identity */
    assert_int_equal(oh_run_node("DepthToSpace", 13, at, 1, 1, &x, 1, o, false), NT_OK);
    assert_int_equal(oh_run_node("SpaceToDepth", 13, at, 1, 1, o, 1, back, false), NT_OK);
    assert_memory_equal(back[0]->data, x->data, 32 * sizeof(float));
    free_all(1, back);
    free_all(1, o);
    nt_tensor_free(x);
}

/* Shape data describing more elements than fit in 64 bits must be an
 * error, not a small wrapped-around allocation. */
static void test_huge_shapes(void **st)
{
    (void)st;
    nt_tensor *o[1];
    nt_tensor *shp = mki64(3, (int64_t[]){INT64_C(1) << 33, INT64_C(1) << 33, 4});
    assert_int_equal(oh_run_node("ConstantOfShape", 13, NULL, 0, 1, &shp, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 1, (int64_t[]){1}, (float[]){1});
    nt_tensor *in[2] = {x, shp};
    assert_int_equal(oh_run_node("Expand", 13, NULL, 0, 2, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    nt_tensor *rep = mki64(1, (int64_t[]){INT64_MAX});
    nt_tensor *x2 = mk(NT_DTYPE_FLOAT, 1, (int64_t[]){2}, (float[]){1, 2});
    nt_tensor *tin[2] = {x2, rep};
    assert_int_equal(oh_run_node("Tile", 13, NULL, 0, 2, tin, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    /* a node without its output is refused instead of dereferenced */
    nt_node node;
    memset(&node, 0, sizeof node);
    node.name = "n";
    node.op_type = "Identity";
    node.domain = "";
    nt_tensor *none = NULL;
    nt_kernel_ctx ctx = {&node, 13, 1, 1, &x, &none, NULL, false, NULL, NULL};
    assert_int_equal(nt_op_find("Identity", "", 13)->infer(&ctx), NT_ERR_SHAPE);
    free_all(2, tin);
    free_all(2, in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_size),
        cmocka_unit_test(test_reshape),
        cmocka_unit_test(test_string_declined),
        cmocka_unit_test(test_flatten_squeeze_unsqueeze),
        cmocka_unit_test(test_transpose),
        cmocka_unit_test(test_concat_split),
        cmocka_unit_test(test_slice),
        cmocka_unit_test(test_pad_modes),
        cmocka_unit_test(test_tile_expand),
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_eyelike_trilu_dropout),
        cmocka_unit_test(test_depth_space),
        cmocka_unit_test(test_huge_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
