/*
 * test_ops_index.c — unit tests of the "index" operator family through
 * nt_op_find with hand-built nodes: gathers and scatters (with negative and
 * out-of-range indices, which must fail with NT_ERR_SHAPE naming the index
 * rather than read or write out of bounds), TopK's stable tie order, NonZero,
 * OneHot, Compress, Unique's four outputs and ReverseSequence.
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

static void test_gather(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 2, (int64_t[]){3, 2}, (float[]){1, 2, 3, 4, 5, 6}), *o[1];
    nt_tensor *in[2] = {x, mk(NT_DTYPE_INT32, 2, (int64_t[]){2, 2}, (int32_t[]){0, -1, 1, 2})};
    assert_int_equal(oh_run_node("Gather", 13, NULL, 0, 2, in, 1, o, false), NT_OK);
    expect_shape(o[0], 3, (int64_t[]){2, 2, 2});
    expect_f32(o[0], 8, (float[]){1, 2, 5, 6, 3, 4, 5, 6});
    free_all(1, o);
    /* axis 1 */
    nt_attr ax = attr_int("axis", 1);
    nt_tensor_free(in[1]);
    in[1] = mki64(1, (int64_t[]){1});
    assert_int_equal(oh_run_node("Gather", 13, &ax, 1, 2, in, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){3, 1});
    expect_f32(o[0], 3, (float[]){2, 4, 6});
    free_all(1, o);
    /* out of range: an error naming the index, never a read */
    nt_tensor_free(in[1]);
    in[1] = mki64(2, (int64_t[]){0, 3});
    assert_int_equal(oh_run_node("Gather", 13, NULL, 0, 2, in, 1, o, false), NT_ERR_SHAPE);
    assert_non_null(strstr(nt_last_error(), "index 3"));
    free_all(1, o);
    ((int64_t *)in[1]->data)[1] = -4;
    assert_int_equal(oh_run_node("Gather", 13, NULL, 0, 2, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    /* float indices are declined */
    nt_tensor *fi = mk(NT_DTYPE_FLOAT, 1, (int64_t[]){1}, (float[]){0});
    nt_tensor *in2[2] = {x, fi};
    assert_int_equal(oh_run_node("Gather", 13, NULL, 0, 2, in2, 1, o, true), NT_ERR_UNSUPPORTED);
    free_all(1, o);
    nt_tensor_free(fi);
    free_all(2, in);
}

static void test_gather_elements_nd(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_INT64, 2, (int64_t[]){2, 2}, (int64_t[]){1, 2, 3, 4}), *o[1];
    nt_tensor *in[2] = {x, mk(NT_DTYPE_INT64, 2, (int64_t[]){2, 2}, (int64_t[]){0, 0, -1, 0})};
    nt_attr ax = attr_int("axis", 1);
    assert_int_equal(oh_run_node("GatherElements", 13, &ax, 1, 2, in, 1, o, false), NT_OK);
    expect_i64(o[0], 4, (int64_t[]){1, 1, 4, 3});
    free_all(1, o);
    ((int64_t *)in[1]->data)[3] = 2;
    assert_int_equal(oh_run_node("GatherElements", 13, &ax, 1, 2, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    nt_tensor_free(in[1]);
    /* GatherND with batch_dims 1: data (2,2,2), indices (2,1,1) */
    nt_tensor *d3 = mk(NT_DTYPE_INT64, 3, (int64_t[]){2, 2, 2}, (int64_t[]){0, 1, 2, 3, 4, 5, 6, 7});
    nt_tensor *in3[2] = {d3, mk(NT_DTYPE_INT64, 3, (int64_t[]){2, 1, 1}, (int64_t[]){1, 0})};
    nt_attr bd = attr_int("batch_dims", 1);
    assert_int_equal(oh_run_node("GatherND", 13, &bd, 1, 2, in3, 1, o, false), NT_OK);
    expect_shape(o[0], 3, (int64_t[]){2, 1, 2});
    expect_i64(o[0], 4, (int64_t[]){2, 3, 4, 5});
    free_all(1, o);
    /* plain GatherND with full tuples, one out of range */
    nt_tensor *ti = mk(NT_DTYPE_INT64, 2, (int64_t[]){2, 3}, (int64_t[]){1, 1, 1, 0, -1, 0});
    nt_tensor *in4[2] = {d3, ti};
    assert_int_equal(oh_run_node("GatherND", 13, NULL, 0, 2, in4, 1, o, false), NT_OK);
    expect_i64(o[0], 2, (int64_t[]){7, 2});
    free_all(1, o);
    ((int64_t *)ti->data)[2] = 2;
    assert_int_equal(oh_run_node("GatherND", 13, NULL, 0, 2, in4, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    nt_tensor_free(ti);
    free_all(2, in3);
    nt_tensor_free(x);
}

static void test_scatter(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 2, (int64_t[]){2, 3}, (float[]){1, 1, 1, 1, 1, 1}), *o[1];
    nt_tensor *in[3] = {x, mki64(2, (int64_t[]){1, 1}), mk(NT_DTYPE_FLOAT, 2, (int64_t[]){1, 2}, (float[]){2, 3})};
    nt_tensor_free(in[1]);
    in[1] = mk(NT_DTYPE_INT64, 2, (int64_t[]){1, 2}, (int64_t[]){1, -2});
    nt_attr at[2] = {attr_int("axis", 1), attr_str("reduction", "add")};
    assert_int_equal(oh_run_node("ScatterElements", 18, at, 2, 3, in, 1, o, false), NT_OK);
    expect_f32(o[0], 6, (float[]){1, 6, 1, 1, 1, 1}); /* duplicates accumulate */
    free_all(1, o);
    at[1] = attr_str("reduction", "none");
    assert_int_equal(oh_run_node("ScatterElements", 18, at, 2, 3, in, 1, o, false), NT_OK);
    expect_f32(o[0], 6, (float[]){1, 3, 1, 1, 1, 1}); /* last write wins */
    free_all(1, o);
    /* reduction max needs opset 18 */
    at[1] = attr_str("reduction", "max");
    assert_int_equal(oh_run_node("ScatterElements", 16, at, 2, 3, in, 1, o, true), NT_ERR_UNSUPPORTED);
    free_all(1, o);
    ((int64_t *)in[1]->data)[0] = 3;
    assert_int_equal(oh_run_node("ScatterElements", 18, at, 1, 3, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    /* Scatter (opset 10) is the same op without reductions */
    ((int64_t *)in[1]->data)[0] = 0;
    assert_int_equal(oh_run_node("Scatter", 10, at, 1, 3, in, 1, o, false), NT_OK);
    expect_f32(o[0], 6, (float[]){2, 3, 1, 1, 1, 1});
    free_all(1, o);
    free_all(3, in);
    /* ScatterND mul on rows */
    nt_tensor *d = mk(NT_DTYPE_INT32, 2, (int64_t[]){3, 2}, (int32_t[]){1, 2, 3, 4, 5, 6});
    nt_tensor *nin[3] = {d, mk(NT_DTYPE_INT64, 2, (int64_t[]){2, 1}, (int64_t[]){2, 2}),
                         mk(NT_DTYPE_INT32, 2, (int64_t[]){2, 2}, (int32_t[]){2, 3, 10, 10})};
    nt_attr red = attr_str("reduction", "mul");
    assert_int_equal(oh_run_node("ScatterND", 18, &red, 1, 3, nin, 1, o, false), NT_OK);
    int32_t want[6] = {1, 2, 3, 4, 100, 180};
    assert_memory_equal(o[0]->data, want, sizeof want);
    free_all(1, o);
    ((int64_t *)nin[1]->data)[1] = -4;
    assert_int_equal(oh_run_node("ScatterND", 18, &red, 1, 3, nin, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    free_all(3, nin);
}

static void test_tensorscatter(void **st)
{
    (void)st;
    /* past (2, 3, 1), update (2, 2, 1): batch 0 writes at 1, batch 1 wraps */
    nt_tensor *in[3] = {mk(NT_DTYPE_INT32, 3, (int64_t[]){2, 3, 1}, (int32_t[]){0, 0, 0, 0, 0, 0}),
                        mk(NT_DTYPE_INT32, 3, (int64_t[]){2, 2, 1}, (int32_t[]){1, 2, 3, 4}),
                        mki64(2, (int64_t[]){1, 2})};
    nt_tensor *o[1];
    nt_attr m = attr_str("mode", "circular");
    assert_int_equal(oh_run_node("TensorScatter", 24, &m, 1, 3, in, 1, o, false), NT_OK);
    int32_t want[6] = {0, 1, 2, 4, 0, 3};
    assert_memory_equal(o[0]->data, want, sizeof want);
    free_all(1, o);
    /* linear mode: 2 + 2 rows do not fit into 3 */
    assert_int_equal(oh_run_node("TensorScatter", 24, NULL, 0, 3, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    free_all(3, in);
}

static void test_topk(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 2, (int64_t[]){2, 4}, (float[]){3, 1, 3, 2, 0, 5, 5, 5}), *o[2];
    nt_tensor *in[2] = {x, mki64(1, (int64_t[]){3})};
    assert_int_equal(oh_run_node("TopK", 11, NULL, 0, 2, in, 2, o, false), NT_OK);
    expect_f32(o[0], 6, (float[]){3, 3, 2, 5, 5, 5});
    expect_i64(o[1], 6, (int64_t[]){0, 2, 3, 1, 2, 3}); /* ties: smaller index first */
    free_all(2, o);
    nt_attr sm = attr_int("largest", 0);
    assert_int_equal(oh_run_node("TopK", 11, &sm, 1, 2, in, 2, o, false), NT_OK);
    expect_f32(o[0], 6, (float[]){1, 2, 3, 0, 5, 5});
    expect_i64(o[1], 6, (int64_t[]){1, 3, 0, 0, 1, 2});
    free_all(2, o);
    /* k larger than the axis */
    ((int64_t *)in[1]->data)[0] = 5;
    assert_int_equal(oh_run_node("TopK", 11, NULL, 0, 2, in, 2, o, false), NT_ERR_SHAPE);
    free_all(2, o);
    nt_tensor_free(in[1]);
    /* opset 1: k attribute; uint64 values beyond double precision */
    nt_tensor *u = mk(NT_DTYPE_UINT64, 1, (int64_t[]){3},
                      (uint64_t[]){UINT64_MAX - 1, UINT64_MAX, UINT64_MAX - 2});
    nt_attr k = attr_int("k", 2);
    assert_int_equal(oh_run_node("TopK", 1, &k, 1, 1, &u, 2, o, false), NT_OK);
    expect_i64(o[1], 2, (int64_t[]){1, 0});
    free_all(2, o);
    nt_tensor_free(u);
    nt_tensor_free(x);
}

static void test_nonzero_onehot_compress(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 2, (int64_t[]){2, 2}, (float[]){1, -0.0f, 0, 2}), *o[1];
    assert_int_equal(oh_run_node("NonZero", 13, NULL, 0, 1, &x, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){2, 2});
    expect_i64(o[0], 4, (int64_t[]){0, 1, 0, 1});
    free_all(1, o);
    assert_int_equal(oh_run_node("NonZero", 13, NULL, 0, 1, &x, 1, o, true), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){2, -1});
    free_all(1, o);
    /* OneHot: negative and out-of-range indices, axis 0 */
    nt_tensor *in[3] = {mki64(3, (int64_t[]){-1, 1, 7}), mk(NT_DTYPE_FLOAT, 0, NULL, (float[]){3}),
                        mk(NT_DTYPE_INT32, 1, (int64_t[]){2}, (int32_t[]){0, 5})};
    nt_attr ax = attr_int("axis", 0);
    assert_int_equal(oh_run_node("OneHot", 11, &ax, 1, 3, in, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){3, 3});
    int32_t want[9] = {0, 0, 0, 0, 5, 0, 5, 0, 0};
    assert_memory_equal(o[0]->data, want, sizeof want);
    free_all(1, o);
    free_all(3, in);
    /* Compress along axis 1, and flattened */
    nt_tensor *c = mk(NT_DTYPE_BOOL, 1, (int64_t[]){2}, (uint8_t[]){0, 1});
    nt_tensor *cin[2] = {x, c};
    nt_attr a1 = attr_int("axis", 1);
    assert_int_equal(oh_run_node("Compress", 11, &a1, 1, 2, cin, 1, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){2, 1});
    expect_f32(o[0], 2, (float[]){-0.0f, 2});
    free_all(1, o);
    assert_int_equal(oh_run_node("Compress", 11, NULL, 0, 2, cin, 1, o, false), NT_OK);
    expect_f32(o[0], 1, (float[]){-0.0f});
    free_all(1, o);
    /* a condition selecting beyond the axis is an error */
    nt_tensor *c3 = mk(NT_DTYPE_BOOL, 1, (int64_t[]){3}, (uint8_t[]){0, 0, 1});
    cin[1] = c3;
    assert_int_equal(oh_run_node("Compress", 11, &a1, 1, 2, cin, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    nt_tensor_free(c3);
    nt_tensor_free(c);
    nt_tensor_free(x);
}

static void test_unique(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_FLOAT, 1, (int64_t[]){6}, (float[]){2, 1, 1, 3, 4, 3}), *o[4];
    assert_int_equal(oh_run_node("Unique", 11, NULL, 0, 1, &x, 4, o, false), NT_OK);
    expect_f32(o[0], 4, (float[]){1, 2, 3, 4});
    expect_i64(o[1], 4, (int64_t[]){1, 0, 3, 4});
    expect_i64(o[2], 6, (int64_t[]){1, 0, 0, 2, 3, 2});
    expect_i64(o[3], 4, (int64_t[]){2, 1, 2, 1});
    free_all(4, o);
    nt_attr ns = attr_int("sorted", 0);
    assert_int_equal(oh_run_node("Unique", 11, &ns, 1, 1, &x, 4, o, false), NT_OK);
    expect_f32(o[0], 4, (float[]){2, 1, 3, 4});
    expect_i64(o[1], 4, (int64_t[]){0, 1, 3, 4});
    expect_i64(o[2], 6, (int64_t[]){0, 1, 1, 2, 3, 2});
    expect_i64(o[3], 4, (int64_t[]){1, 2, 2, 1});
    free_all(4, o);
    nt_tensor_free(x);
    /* along axis 1: columns (1,0) (1,0) (0,1) -> (0,1) (1,0) */
    nt_tensor *m = mk(NT_DTYPE_INT32, 2, (int64_t[]){2, 3}, (int32_t[]){1, 1, 0, 0, 0, 1});
    nt_attr ax = attr_int("axis", 1);
    assert_int_equal(oh_run_node("Unique", 11, &ax, 1, 1, &m, 4, o, false), NT_OK);
    expect_shape(o[0], 2, (int64_t[]){2, 2});
    int32_t want[4] = {0, 1, 1, 0};
    assert_memory_equal(o[0]->data, want, sizeof want);
    expect_i64(o[1], 2, (int64_t[]){2, 0});
    expect_i64(o[2], 3, (int64_t[]){1, 1, 0});
    expect_i64(o[3], 2, (int64_t[]){1, 2});
    free_all(4, o);
    nt_tensor_free(m);
}

static void test_reverse_sequence(void **st)
{
    (void)st;
    nt_tensor *x = mk(NT_DTYPE_INT64, 2, (int64_t[]){2, 4}, (int64_t[]){0, 1, 2, 3, 4, 5, 6, 7}), *o[1];
    nt_tensor *in[2] = {x, mki64(2, (int64_t[]){3, 4})};
    nt_attr at[2] = {attr_int("batch_axis", 0), attr_int("time_axis", 1)};
    assert_int_equal(oh_run_node("ReverseSequence", 10, at, 2, 2, in, 1, o, false), NT_OK);
    expect_i64(o[0], 8, (int64_t[]){2, 1, 0, 3, 7, 6, 5, 4});
    free_all(1, o);
    ((int64_t *)in[1]->data)[1] = 5;
    assert_int_equal(oh_run_node("ReverseSequence", 10, at, 2, 2, in, 1, o, false), NT_ERR_SHAPE);
    free_all(1, o);
    free_all(2, in);
}

int main(void)
{
    (void)a_ints;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather),
        cmocka_unit_test(test_gather_elements_nd),
        cmocka_unit_test(test_scatter),
        cmocka_unit_test(test_tensorscatter),
        cmocka_unit_test(test_topk),
        cmocka_unit_test(test_nonzero_onehot_compress),
        cmocka_unit_test(test_unique),
        cmocka_unit_test(test_reverse_sequence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
