/*
 * test_session.c — the session executor: plan order (including unsorted
 * files and cycles), every unsupported node reported at once, input checks,
 * buffer reuse, tracers (wants_node, pause and resume, stop, several at
 * once), keep-values, If bodies that capture outer values, and Loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nntrace.h"
#include "onnx/writer.h"
#include "test_units_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* y = Relu(x * 2) + x, with the nodes stored out of order. */
static nt_model *chain_model(bool reversed)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t n = 4;
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 1, &n, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 1, &n, NULL);
    float two = 2;
    nt_tensor *t2 = tu_vec(&two, 1);
    t2->ndim = 0;
    nt_onnx_builder_add_initializer(b, "two", t2);
    nt_tensor_free(t2);
    const char *mul_in[] = {"x", "two"}, *mul_out[] = {"m"};
    const char *relu_in[] = {"m"}, *relu_out[] = {"r"};
    const char *add_in[] = {"r", "x"}, *add_out[] = {"y"};
    if (reversed) {
        nt_onnx_builder_add_node(b, "Add", "add", 2, add_in, 1, add_out);
        nt_onnx_builder_add_node(b, "Relu", "relu", 1, relu_in, 1, relu_out);
        nt_onnx_builder_add_node(b, "Mul", "mul", 2, mul_in, 1, mul_out);
    } else {
        nt_onnx_builder_add_node(b, "Mul", "mul", 2, mul_in, 1, mul_out);
        nt_onnx_builder_add_node(b, "Relu", "relu", 1, relu_in, 1, relu_out);
        nt_onnx_builder_add_node(b, "Add", "add", 2, add_in, 1, add_out);
    }
    return tu_load_built(b);
}

static void run_chain(nt_model *m)
{
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    float xv[] = {-1, 0.5f, 2, -3};
    nt_tensor *x = tu_vec(xv, 4);
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    const nt_tensor *y;
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    const float want[] = {-1, 1.5f, 6, -3};
    for (int i = 0; i < 4; i++)
        assert_float_equal(((const float *)y->data)[i], want[i], 1e-6);
    /* intermediates were released after their last use */
    nt_tensor *tmp;
    assert_int_equal(nt_session_get_value(s, "m", &tmp), NT_ERR_NOT_FOUND);
    /* a second run reuses buffers and gives the same answer */
    assert_int_equal(nt_session_run(s), NT_OK);
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    assert_float_equal(((const float *)y->data)[2], 6, 1e-6);
    assert_true(nt_session_peak_bytes(s) > 0);
    nt_tensor_free(x);
    nt_session_free(s);
}

static void test_order_sorted_and_reversed(void **state)
{
    nt_model *m = chain_model(false);
    run_chain(m);
    nt_model_free(m);
    m = chain_model(true);
    run_chain(m);
    nt_model_free(m);
}

static void test_cycle_refused(void **state)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t n = 2;
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 1, &n, NULL);
    nt_onnx_builder_add_output(b, "b", NT_DTYPE_FLOAT, 1, &n, NULL);
    const char *a_in[] = {"x", "b"}, *a_out[] = {"a"}, *b_in[] = {"a"}, *b_out[] = {"b"};
    nt_onnx_builder_add_node(b, "Add", "first", 2, a_in, 1, a_out);
    nt_onnx_builder_add_node(b, "Relu", "second", 1, b_in, 1, b_out);
    nt_model *m = tu_load_built(b);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "cycle"));
    nt_model_free(m);
}

static void test_unsupported_listed_together(void **state)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t n = 2;
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 1, &n, NULL);
    nt_onnx_builder_add_output(b, "z", NT_DTYPE_FLOAT, 1, &n, NULL);
    const char *i1[] = {"x"}, *o1[] = {"y"}, *i2[] = {"y"}, *o2[] = {"z"};
    nt_onnx_builder_add_node(b, "FrobnicateA", "fa", 1, i1, 1, o1);
    nt_onnx_node *nb = nt_onnx_builder_add_node(b, "FrobnicateB", "fb", 1, i2, 1, o2);
    nt_onnx_node_set_domain(nb, "com.example");
    nt_onnx_builder_add_opset(b, "com.example", 1);
    nt_model *m = tu_load_built(b);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_ERR_UNSUPPORTED);
    const char *e = nt_last_error();
    assert_non_null(strstr(e, "2 nodes"));
    assert_non_null(strstr(e, "FrobnicateA (domain 'ai.onnx', opset 13) at node 'fa'"));
    assert_non_null(strstr(e, "FrobnicateB (domain 'com.example', opset 1) at node 'fb'"));
    nt_model_free(m);
}

/* A node reading the output of a refused node is not inferred: the list
 * names the root cause only, not "ReduceMax: dtype undefined" after it. */
static void test_decline_lists_root_cause_only(void **state)
{
    (void)state;
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t n = 2;
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 1, &n, NULL);
    nt_onnx_builder_add_output(b, "z", NT_DTYPE_FLOAT, 0, NULL, NULL);
    const char *i1[] = {"x"}, *o1[] = {"y"}, *i2[] = {"y"}, *o2[] = {"z"}, *o3[] = {"w"};
    nt_onnx_builder_add_node(b, "FrobnicateA", "fa", 1, i1, 1, o1);
    nt_onnx_node *r = nt_onnx_builder_add_node(b, "ReduceMax", "rmax", 1, i2, 1, o2);
    nt_onnx_node_attr_int(r, "keepdims", 0);
    nt_onnx_builder_add_node(b, "Relu", "relu", 1, o2, 1, o3);
    nt_model *m = tu_load_built(b);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_ERR_UNSUPPORTED);
    const char *e = nt_last_error();
    assert_non_null(strstr(e, "1 node cannot"));
    assert_non_null(strstr(e, "FrobnicateA (domain 'ai.onnx', opset 13) at node 'fa'"));
    assert_null(strstr(e, "rmax"));
    assert_null(strstr(e, "relu"));
    nt_model_free(m);
}

/* No arity limit: a Concat of 200 inputs (SSDlite has one of 90) plans and runs. */
static void test_concat_200_inputs(void **state)
{
    (void)state;
    enum { N = 200 };
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    char names[N][8];
    const char *ins[N];
    int64_t one = 1, total = N;
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "x%d", i);
        ins[i] = names[i];
        nt_onnx_builder_add_input(b, names[i], NT_DTYPE_FLOAT, 1, &one, NULL);
    }
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 1, &total, NULL);
    const char *outs[] = {"y"};
    nt_onnx_node *c = nt_onnx_builder_add_node(b, "Concat", "cat", N, ins, 1, outs);
    nt_onnx_node_attr_int(c, "axis", 0);
    nt_model *m = tu_load_built(b);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    for (int i = 0; i < N; i++) {
        float v = (float)(i * 3);
        nt_tensor *t = tu_vec(&v, 1);
        assert_int_equal(nt_session_set_input(s, names[i], t), NT_OK);
        nt_tensor_free(t);
    }
    assert_int_equal(nt_session_run(s), NT_OK);
    const nt_tensor *y;
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    assert_int_equal(y->dims[0], N);
    for (int i = 0; i < N; i++)
        assert_true(((const float *)y->data)[i] == (float)(i * 3));
    nt_session_free(s);
    nt_model_free(m);
}

static void test_input_checks(void **state)
{
    nt_model *m = chain_model(false);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    assert_int_equal(nt_session_run(s), NT_ERR_NOT_FOUND); /* x not given */
    assert_non_null(strstr(nt_last_error(), "x float32[4]"));
    float v[] = {1, 2, 3};
    nt_tensor *bad = tu_vec(v, 3);
    assert_int_equal(nt_session_set_input(s, "x", bad), NT_ERR_SHAPE);
    assert_non_null(strstr(nt_last_error(), "expected shape float32[4], given float32[3]"));
    assert_int_equal(nt_session_set_input(s, "nope", bad), NT_ERR_NOT_FOUND);
    nt_tensor_free(bad);
    nt_session_free(s);
    nt_model_free(m);
}

typedef struct rec_tracer {
    int begins, ends, runs_begun, runs_ended;
    char seen[8][32];
    const char *pause_before;   /* node name */
    const char *stop_after;
} rec_tracer;

static bool want_relu_add(void *u, const nt_node_view *v)
{
    return strcmp(v->op_type, "Mul") != 0;
}

static nt_action rec_run_begin(void *u, nt_session *s)
{
    ((rec_tracer *)u)->runs_begun++;
    return NT_ACTION_CONTINUE;
}

static nt_action rec_node_begin(void *u, nt_session *s, const nt_node_view *v)
{
    rec_tracer *r = u;
    r->begins++;
    if (r->pause_before && strcmp(v->name, r->pause_before) == 0)
        return NT_ACTION_PAUSE;
    return NT_ACTION_CONTINUE;
}

static nt_action rec_node_end(void *u, nt_session *s, const nt_node_view *v)
{
    rec_tracer *r = u;
    if (r->ends < 8)
        snprintf(r->seen[r->ends], sizeof r->seen[0], "%s", v->name);
    r->ends++;
    assert_non_null(v->outputs[0]);
    assert_true(v->elapsed_ms >= 0);
    if (r->stop_after && strcmp(v->name, r->stop_after) == 0)
        return NT_ACTION_STOP;
    return NT_ACTION_CONTINUE;
}

static void rec_run_end(void *u, nt_session *s, nt_status st) { ((rec_tracer *)u)->runs_ended++; }

static void test_tracers_pause_resume_stop(void **state)
{
    nt_model *m = chain_model(false);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    nt_session_set_keep_values(s, true);
    float xv[] = {-1, 0.5f, 2, -3};
    nt_tensor *x = tu_vec(xv, 4);
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    rec_tracer a = {0}, all = {0};
    a.pause_before = "add";
    nt_tracer ta = {.user = &a, .wants_node = want_relu_add, .run_begin = rec_run_begin,
        .node_begin = rec_node_begin, .node_end = rec_node_end, .run_end = rec_run_end};
    nt_tracer tall = {.user = &all, .run_begin = rec_run_begin, .node_begin = rec_node_begin,
        .node_end = rec_node_end, .run_end = rec_run_end};
    assert_int_equal(nt_session_add_tracer(s, &ta), NT_OK);
    assert_int_equal(nt_session_add_tracer(s, &tall), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    assert_true(nt_session_paused(s));
    /* paused before "add": mul and relu ran; a saw only relu (it does not want Mul) */
    assert_int_equal(a.ends, 1);
    assert_string_equal(a.seen[0], "relu");
    assert_int_equal(all.ends, 2);
    nt_tensor *m_val;
    assert_int_equal(nt_session_get_value(s, "m", &m_val), NT_OK); /* kept alive */
    /* what-if: patch an intermediate, then continue */
    ((float *)m_val->data)[0] = 100;
    nt_tensor *r_val;
    assert_int_equal(nt_session_get_value(s, "r", &r_val), NT_OK);
    ((float *)r_val->data)[0] = 100;
    assert_int_equal(nt_session_run(s), NT_OK);
    assert_false(nt_session_paused(s));
    const nt_tensor *y;
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    assert_float_equal(((const float *)y->data)[0], 99, 1e-6); /* 100 + (-1) */
    assert_int_equal(a.ends, 2);
    assert_int_equal(a.begins, 2); /* node_begin of "add" is not repeated on resume */
    assert_int_equal(a.runs_begun, 1);
    assert_int_equal(a.runs_ended, 1);
    /* stop */
    a.pause_before = NULL;
    a.stop_after = "relu";
    assert_int_equal(nt_session_run(s), NT_ERR_STOPPED);
    assert_int_equal(a.runs_ended, 2);
    nt_tensor_free(x);
    nt_session_free(s);
    nt_model_free(m);
}

/* A removed tracer is never called again, and the tracers after it keep
 * their choice of nodes (the cached bit masks move down with them). */
static void test_remove_tracer(void **state)
{
    nt_model *m = chain_model(false);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    float xv[] = {-1, 0.5f, 2, -3};
    nt_tensor *x = tu_vec(xv, 4);
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    rec_tracer a = {0}, all = {0};
    nt_tracer ta = {.user = &a, .wants_node = want_relu_add, .node_end = rec_node_end, .run_end = rec_run_end};
    nt_tracer tall = {.user = &all, .node_end = rec_node_end, .run_end = rec_run_end};
    assert_int_equal(nt_session_add_tracer(s, &ta), NT_OK);
    assert_int_equal(nt_session_add_tracer(s, &tall), NT_OK);
    assert_int_equal(nt_session_remove_tracer(s, &ta), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    assert_int_equal(a.ends, 0);
    assert_int_equal(a.runs_ended, 0);
    assert_int_equal(all.ends, 3);   /* mul, relu, add */
    /* ta comes back after tall; tall goes: ta moves to slot 0 and still
     * skips Mul */
    assert_int_equal(nt_session_add_tracer(s, &ta), NT_OK);
    assert_int_equal(nt_session_remove_tracer(s, &tall), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    assert_int_equal(all.ends, 3);
    assert_int_equal(a.ends, 2);
    assert_string_equal(a.seen[0], "relu");
    assert_string_equal(a.seen[1], "add");
    assert_int_equal(nt_session_remove_tracer(s, &ta), NT_OK);
    assert_int_equal(nt_session_remove_tracer(s, &ta), NT_ERR_NOT_FOUND);
    assert_int_equal(nt_session_run(s), NT_OK);
    assert_int_equal(a.ends, 2);
    /* not while a run is paused */
    a.pause_before = "add";
    ta.node_begin = rec_node_begin;
    assert_int_equal(nt_session_add_tracer(s, &ta), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    assert_true(nt_session_paused(s));
    assert_int_equal(nt_session_remove_tracer(s, &ta), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_session_run(s), NT_OK);
    assert_false(nt_session_paused(s));
    assert_int_equal(nt_session_remove_tracer(s, &ta), NT_OK);
    nt_tensor_free(x);
    nt_session_free(s);
    nt_model_free(m);
}

/* A tracer reading outputs after node_end (a background scan) is told
 * before each such tensor is freed, while its data is still there, and
 * once more (NULL) before the run returns. */
typedef struct release_tracer {
    const nt_tensor *seen[8];
    int n_seen, released_seen, released_all;
} release_tracer;

static nt_action rel_node_end(void *u, nt_session *s, const nt_node_view *v)
{
    release_tracer *r = u;
    if (r->n_seen < 8)
        r->seen[r->n_seen++] = v->outputs[0];
    return NT_ACTION_CONTINUE;
}

static void rel_release(void *u, nt_session *s, const nt_tensor *t)
{
    release_tracer *r = u;
    if (!t) {
        r->released_all++;
        return;
    }
    for (int i = 0; i < r->n_seen; i++)
        if (r->seen[i] == t) {
            assert_non_null(t->data); /* told before, not after */
            r->released_seen++;
        }
}

static void test_release_callback(void **state)
{
    nt_model *m = chain_model(false);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    float xv[] = {-1, 0.5f, 2, -3};
    nt_tensor *x = tu_vec(xv, 4);
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    release_tracer r = {0};
    nt_tracer t = {.user = &r, .node_end = rel_node_end, .release = rel_release};
    assert_int_equal(nt_session_add_tracer(s, &t), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    /* m and r die inside the run; y, the output, outlives it */
    assert_int_equal(r.n_seen, 3);
    assert_int_equal(r.released_seen, 2);
    assert_int_equal(r.released_all, 1);
    nt_tensor_free(x);
    nt_session_free(s); /* the tracer is not called from here */
    assert_int_equal(r.released_all, 1);
    nt_model_free(m);
}

/* If with branches that read an outer value computed before the If. */
static void test_if_captures_outer_value(void **state)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t n = 3;
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 1, &n, NULL);
    nt_onnx_builder_add_input(b, "c", NT_DTYPE_BOOL, 0, NULL, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 1, &n, NULL);
    const char *neg_in[] = {"x"}, *neg_out[] = {"nx"};
    nt_onnx_builder_add_node(b, "Neg", "neg", 1, neg_in, 1, neg_out);
    nt_onnx_graph *then_g = nt_onnx_graph_new("then");
    nt_onnx_graph_add_output(then_g, "t", NT_DTYPE_FLOAT, 1, &n, NULL);
    const char *ti[] = {"nx"}, *to[] = {"t"};
    nt_onnx_graph_add_node(then_g, "Abs", "abs", 1, ti, 1, to);
    nt_onnx_graph *else_g = nt_onnx_graph_new("else");
    nt_onnx_graph_add_output(else_g, "e", NT_DTYPE_FLOAT, 1, &n, NULL);
    const char *ei[] = {"nx", "x"}, *eo[] = {"e"};
    nt_onnx_graph_add_node(else_g, "Add", "add", 2, ei, 1, eo);
    const char *if_in[] = {"c"}, *if_out[] = {"y"};
    nt_onnx_node *nif = nt_onnx_builder_add_node(b, "If", "if", 1, if_in, 1, if_out);
    nt_onnx_node_attr_graph(nif, "then_branch", then_g);
    nt_onnx_node_attr_graph(nif, "else_branch", else_g);
    nt_model *m = tu_load_built(b);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    float xv[] = {1, -2, 3};
    nt_tensor *x = tu_vec(xv, 3), *c;
    assert_int_equal(nt_tensor_new(NT_DTYPE_BOOL, 0, NULL, &c), NT_OK);
    ((uint8_t *)c->data)[0] = 1;
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    assert_int_equal(nt_session_set_input(s, "c", c), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    const nt_tensor *y;
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    assert_float_equal(((const float *)y->data)[1], 2, 1e-6);
    ((uint8_t *)c->data)[0] = 0;
    assert_int_equal(nt_session_set_input(s, "c", c), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    assert_float_equal(((const float *)y->data)[1], 0, 1e-6);
    nt_tensor_free(x);
    nt_tensor_free(c);
    nt_session_free(s);
    nt_model_free(m);
}

static void test_threads_deterministic(void **state)
{
    nt_model *m = chain_model(false);
    nt_session_options opt = {0};
    opt.threads = 2;
    nt_session *s;
    assert_int_equal(nt_session_new(m, &opt, &s), NT_OK);
    float xv[] = {-1, 0.5f, 2, -3};
    nt_tensor *x = tu_vec(xv, 4);
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    const nt_tensor *y;
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    assert_float_equal(((const float *)y->data)[1], 1.5f, 1e-6);
    nt_tensor_free(x);
    nt_session_free(s);
    nt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_sorted_and_reversed),
        cmocka_unit_test(test_cycle_refused),
        cmocka_unit_test(test_unsupported_listed_together),
        cmocka_unit_test(test_input_checks),
        cmocka_unit_test(test_tracers_pause_resume_stop),
        cmocka_unit_test(test_release_callback),
        cmocka_unit_test(test_remove_tracer),
        cmocka_unit_test(test_decline_lists_root_cause_only),
        cmocka_unit_test(test_concat_200_inputs),
        cmocka_unit_test(test_if_captures_outer_value),
        cmocka_unit_test(test_threads_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
