/*
 * test_ops_control.c — control.c through whole models (Loop and Scan need
 * the executor to run their bodies): a Loop whose trip count is 0 gives scan
 * outputs of shape (0, per-iteration shape) when the body declares that
 * shape statically, as ONNX Runtime does for tf2onnx's while loops, and
 * (0) when the body leaves a dim symbolic; a Loop that runs keeps stacking
 * as before; a Loop body may pass a carried value straight through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nntrace.h"
#include "onnx/writer.h"
#include "test_units_common.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Loop(n, "", x) with x (2, 3): body acc_out = acc_in + 1, scan outputs
 * "static" = acc_out (declared (2, 3)) and "symbolic" = acc_out (declared
 * ("B", 3)); the carried value passes through as body output "keep_in".
 * Graph outputs: acc, keep, static_scan, symbolic_scan.
 */
static nt_model *loop_model(void)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t d2[2] = {2, 3}, dsym[2] = {-1, 3};
    const char *sym_names[2] = {"B", NULL};
    nt_onnx_builder_add_input(b, "n", NT_DTYPE_INT64, 0, NULL, NULL);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, d2, NULL);
    nt_onnx_builder_add_output(b, "acc", NT_DTYPE_FLOAT, 2, d2, NULL);
    nt_onnx_builder_add_output(b, "keep", NT_DTYPE_FLOAT, 2, d2, NULL);
    nt_onnx_builder_add_output(b, "static_scan", NT_DTYPE_FLOAT, -1, NULL, NULL);
    nt_onnx_builder_add_output(b, "symbolic_scan", NT_DTYPE_FLOAT, -1, NULL, NULL);
    nt_tensor *one;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 0, NULL, &one), NT_OK);
    ((float *)one->data)[0] = 1;
    nt_onnx_builder_add_initializer(b, "one", one);
    nt_tensor_free(one);

    nt_onnx_graph *body = nt_onnx_graph_new("body");
    nt_onnx_graph_add_input(body, "i", NT_DTYPE_INT64, 0, NULL, NULL);
    nt_onnx_graph_add_input(body, "cond_in", NT_DTYPE_BOOL, 0, NULL, NULL);
    nt_onnx_graph_add_input(body, "acc_in", NT_DTYPE_FLOAT, 2, d2, NULL);
    nt_onnx_graph_add_input(body, "keep_in", NT_DTYPE_FLOAT, 2, d2, NULL);
    nt_onnx_graph_add_output(body, "cond_in", NT_DTYPE_BOOL, 0, NULL, NULL);
    nt_onnx_graph_add_output(body, "acc_out", NT_DTYPE_FLOAT, 2, d2, NULL);
    nt_onnx_graph_add_output(body, "keep_in", NT_DTYPE_FLOAT, 2, d2, NULL);
    nt_onnx_graph_add_output(body, "s_static", NT_DTYPE_FLOAT, 2, d2, NULL);
    nt_onnx_graph_add_output(body, "s_sym", NT_DTYPE_FLOAT, 2, dsym, sym_names);
    const char *ai[] = {"acc_in", "one"}, *ao[] = {"acc_out"};
    nt_onnx_graph_add_node(body, "Add", "add", 2, ai, 1, ao);
    const char *i1[] = {"acc_out"}, *o1[] = {"s_static"}, *o2[] = {"s_sym"};
    nt_onnx_graph_add_node(body, "Identity", "id1", 1, i1, 1, o1);
    nt_onnx_graph_add_node(body, "Identity", "id2", 1, i1, 1, o2);

    const char *li[] = {"n", "", "x", "x"}, *lo[] = {"acc", "keep", "static_scan", "symbolic_scan"};
    nt_onnx_node *loop = nt_onnx_builder_add_node(b, "Loop", "loop", 4, li, 4, lo);
    nt_onnx_node_attr_graph(loop, "body", body);
    return tu_load_built(b);
}

/* Runs the loop model n times on x = 0..5; outputs borrowed from s. */
static void run_loop(nt_session *s, int64_t n)
{
    int64_t d2[2] = {2, 3};
    nt_tensor *x, *nt;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 2, d2, &x), NT_OK);
    for (int k = 0; k < 6; k++)
        ((float *)x->data)[k] = (float)k;
    assert_int_equal(nt_tensor_new(NT_DTYPE_INT64, 0, NULL, &nt), NT_OK);
    ((int64_t *)nt->data)[0] = n;
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    assert_int_equal(nt_session_set_input(s, "n", nt), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    nt_tensor_free(x);
    nt_tensor_free(nt);
}

static void expect_dims(const nt_tensor *t, int ndim, const int64_t *dims)
{
    assert_int_equal(t->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        assert_int_equal(t->dims[d], dims[d]);
}

static void test_loop_zero_iterations(void **state)
{
    (void)state;
    nt_model *m = loop_model();
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    run_loop(s, 0);
    const nt_tensor *y;
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    expect_dims(y, 2, (int64_t[]){2, 3});
    assert_float_equal(((const float *)y->data)[5], 5, 0);
    assert_int_equal(nt_session_get_output(s, 2, &y), NT_OK);
    expect_dims(y, 3, (int64_t[]){0, 2, 3}); /* declared statically by the body */
    assert_int_equal(y->dtype, NT_DTYPE_FLOAT);
    assert_int_equal(nt_session_get_output(s, 3, &y), NT_OK);
    expect_dims(y, 1, (int64_t[]){0}); /* a symbolic dim: nothing to go by */

    run_loop(s, 3); /* the same session, now iterating */
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    assert_float_equal(((const float *)y->data)[5], 8, 0);
    assert_int_equal(nt_session_get_output(s, 1, &y), NT_OK); /* passed through */
    assert_float_equal(((const float *)y->data)[5], 5, 0);
    assert_int_equal(nt_session_get_output(s, 2, &y), NT_OK);
    expect_dims(y, 3, (int64_t[]){3, 2, 3});
    assert_float_equal(((const float *)y->data)[6 * 2 + 5], 8, 0);
    assert_int_equal(nt_session_get_output(s, 3, &y), NT_OK);
    expect_dims(y, 3, (int64_t[]){3, 2, 3});
    nt_session_free(s);
    nt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_zero_iterations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
