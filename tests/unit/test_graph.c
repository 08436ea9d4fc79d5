/*
 * test_graph.c — `nntrace graph` and `nntrace extract` on a small model
 * built with the ONNX writer (Conv with weights, Relu, an If with two
 * bodies that read an outer value): the DOT's elements, folding of weights,
 * clusters, determinism; SVG laid out by Graphviz; the HTML page's parts;
 * the run overlay (stats.jsonl with NaN, diff.json) and its marks; and the
 * extract cut (selection between two nodes, and a written test case that
 * loads back and runs to the captured outputs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "onnx/extract.h"
#include "onnx/writer.h"
#include "viz/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* x[1,1,4,4] -> Conv(w,b) -> Relu -> If(cond){then: Add(r, r)} {else: Neg(r)} -> y
 *                                 \-> Sigmoid -> z */
/* buf receives the encoded file, which the model reads in place: free it
 * after the model. */
static nt_model *make_model(nt_buf *buf)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    const int64_t xd[] = {1, 1, 4, 4}, wd[] = {2, 1, 3, 3}, bd[] = {2};
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 4, xd, NULL);
    nt_onnx_builder_add_input(b, "cond", NT_DTYPE_BOOL, 0, NULL, NULL);
    nt_tensor *w, *bias;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 4, wd, &w), NT_OK);
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, bd, &bias), NT_OK);
    for (int i = 0; i < 18; i++)
        nt_tensor_set_f64(w, i, (i % 5) * 0.1 - 0.2);
    nt_tensor_set_f64(bias, 0, 0.05);
    nt_tensor_set_f64(bias, 1, -0.1);
    nt_onnx_builder_add_initializer(b, "conv.w", w);
    nt_onnx_builder_add_initializer(b, "conv.b", bias);
    nt_tensor_free(w);
    nt_tensor_free(bias);
    const char *cin[] = {"x", "conv.w", "conv.b"}, *cout[] = {"c"};
    nt_onnx_node *conv = nt_onnx_builder_add_node(b, "Conv", "conv", 3, cin, 1, cout);
    const int64_t pads[] = {1, 1, 1, 1};
    nt_onnx_node_attr_ints(conv, "pads", 4, pads);
    const char *rin[] = {"c"}, *rout[] = {"r"};
    nt_onnx_builder_add_node(b, "Relu", "relu", 1, rin, 1, rout);
    const char *sout[] = {"z"};
    nt_onnx_builder_add_node(b, "Sigmoid", "sig", 1, rout, 1, sout);

    nt_onnx_graph *then_g = nt_onnx_graph_new("then_body");
    const char *ain[] = {"r", "r"}, *aout[] = {"t_out"};
    nt_onnx_graph_add_node(then_g, "Add", "then_add", 2, ain, 1, aout);
    nt_onnx_graph_add_output(then_g, "t_out", NT_DTYPE_FLOAT, -1, NULL, NULL);
    nt_onnx_graph *else_g = nt_onnx_graph_new("else_body");
    const char *nout[] = {"e_out"};
    nt_onnx_graph_add_node(else_g, "Neg", "else_neg", 1, rin, 1, nout);
    nt_onnx_graph_add_output(else_g, "e_out", NT_DTYPE_FLOAT, -1, NULL, NULL);
    const char *iin[] = {"cond"}, *iout[] = {"y"};
    nt_onnx_node *ifn = nt_onnx_builder_add_node(b, "If", "branch", 1, iin, 1, iout);
    nt_onnx_node_attr_graph(ifn, "then_branch", then_g);
    nt_onnx_node_attr_graph(ifn, "else_branch", else_g);
    const int64_t yd[] = {1, 2, 4, 4};
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 4, yd, NULL);
    nt_onnx_builder_add_output(b, "z", NT_DTYPE_FLOAT, 4, yd, NULL);
    nt_buf_init(buf);
    assert_int_equal(nt_onnx_builder_encode(b, buf), NT_OK);
    nt_onnx_builder_free(b);
    nt_model *m;
    assert_int_equal(nt_model_load_buffer(buf->data, buf->len, "test.onnx", &m), NT_OK);
    return m;
}

static void test_dot(void **state)
{
    (void)state;
    nt_buf file;
    nt_model *m = make_model(&file);
    nt_graph_options o = {0};
    nt_buf a, b;
    nt_buf_init(&a);
    nt_buf_init(&b);
    assert_int_equal(nt_graph_dot(m, &o, &a), NT_OK);
    assert_int_equal(nt_graph_dot(m, &o, &b), NT_OK);
    assert_string_equal(a.data, b.data);                       /* deterministic */
    assert_non_null(strstr(a.data, "digraph nntrace {"));
    assert_non_null(strstr(a.data, "label=\"Conv\\nconv\\n2 weights, 20 params\""));
    assert_null(strstr(a.data, "conv.w"));                     /* weights are folded */
    assert_non_null(strstr(a.data, "subgraph cluster_0"));
    assert_non_null(strstr(a.data, "subgraph cluster_1"));
    assert_non_null(strstr(a.data, "then_add"));
    assert_non_null(strstr(a.data, "float32[1,1,4,4]"));       /* edge type from the input */
    assert_non_null(strstr(a.data, "style=dashed"));           /* outer value into a body */
    assert_non_null(strstr(a.data, "#8fb8e8"));                /* conv family colour */

    nt_buf svg;
    nt_buf_init(&svg);
    assert_int_equal(nt_graph_svg(a.data, &svg), NT_OK);
    assert_non_null(strstr(svg.data, "<svg"));
    assert_non_null(strstr(svg.data, "<title>n1</title>"));
    assert_non_null(strstr(svg.data, "</svg>"));
    nt_buf_deinit(&svg);

    nt_buf html;
    nt_buf_init(&html);
    assert_int_equal(nt_graph_html(m, &o, "var x = '</script>';", "body{}", &html), NT_OK);
    assert_non_null(strstr(html.data, "<script id=\"nt-data\" type=\"application/json\">"));
    assert_non_null(strstr(html.data, "\"op\": \"If\""));
    assert_non_null(strstr(html.data, "'<\\/script>'"));       /* escaped inside the script */
    assert_null(strstr(html.data, "<?xml"));
    assert_null(strstr(html.data, "http://www.w3.org/Graphics"));  /* no DOCTYPE link */
    nt_buf_deinit(&html);
    nt_buf_deinit(&a);
    nt_buf_deinit(&b);
    nt_model_free(m);
    nt_buf_deinit(&file);
}

static void test_overlay(void **state)
{
    (void)state;
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "/tmp/nt_test_graph_%d", (int)getpid());
    assert_int_equal(nt_mkdirs(dir), NT_OK);
    const char *stats =
        "{\"node\": \"conv\", \"op\": \"Conv\", \"output\": \"c\", \"dtype\": \"float32\", \"shape\": [1, 2, 4, 4], "
        "\"count\": 32, \"min\": -1.5, \"max\": 2, \"std\": 0.5, \"nan\": 0, \"inf\": 0, \"zeros\": 0}\n"
        "{\"node\": \"relu\", \"op\": \"Relu\", \"output\": \"r\", \"dtype\": \"float32\", \"shape\": [1, 2, 4, 4], "
        "\"count\": 32, \"min\": 0, \"max\": 0, \"std\": 0, \"nan\": 0, \"inf\": 0, \"zeros\": 32}\n"
        "{\"node\": \"sig\", \"op\": \"Sigmoid\", \"output\": \"z\", \"dtype\": \"float32\", \"shape\": [1, 2, 4, 4], "
        "\"count\": 32, \"min\": NaN, \"max\": NaN, \"std\": NaN, \"nan\": 32, \"inf\": 0, \"zeros\": 0}\n";
    snprintf(path, sizeof path, "%s/stats.jsonl", dir);
    assert_int_equal(nt_write_file(path, stats, strlen(stats)), NT_OK);
    const char *diff = "{\"first_divergent\": \"sig\", \"nodes\": [{\"node\": \"conv\", \"max_abs\": 0, \"cosine\": 1, "
                       "\"ok\": true}, {\"node\": \"sig\", \"max_abs\": 0.25, \"cosine\": null, \"ok\": false}]}";
    snprintf(path, sizeof path, "%s/diff.json", dir);
    assert_int_equal(nt_write_file(path, diff, strlen(diff)), NT_OK);
    nt_graph_overlay *ov;
    assert_int_equal(nt_graph_overlay_load(dir, NULL, &ov), NT_OK);
    const nt_graph_node_run *r = nt_graph_overlay_node(ov, "conv");
    assert_non_null(r);
    assert_true(r->has_stats && r->min == -1.5 && r->max == 2 && r->absmax == 2 && r->has_diff && r->diff_ok);
    r = nt_graph_overlay_node(ov, "relu");
    assert_true(r->zero_fraction == 1.0 && r->constant);
    r = nt_graph_overlay_node(ov, "sig");
    assert_true(r->nan == 32 && r->has_diff && !r->diff_ok && r->diff_max_abs == 0.25);
    assert_string_equal(nt_graph_overlay_value_type(ov, "c"), "float32[1,2,4,4]");
    assert_null(nt_graph_overlay_node(ov, "missing"));

    nt_buf file;
    nt_model *m = make_model(&file);
    nt_graph_options o = {NT_GRAPH_COLOR_DIFF, ov, NULL, NULL, "t"};
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_graph_dot(m, &o, &b), NT_OK);
    assert_non_null(strstr(b.data, "NaN 32"));
    assert_non_null(strstr(b.data, "dead: all zeros"));
    assert_non_null(strstr(b.data, "err 0.25 DIVERGES"));
    assert_non_null(strstr(b.data, "float32[1,2,4,4]"));   /* the run's shape on the edge */
    b.len = 0;
    o.color = NT_GRAPH_COLOR_ABSMAX;
    assert_int_equal(nt_graph_json(m, &o, &b), NT_OK);
    assert_non_null(strstr(b.data, "\"run\": {\"min\": -1.5"));
    nt_buf_deinit(&b);
    nt_model_free(m);
    nt_buf_deinit(&file);
    nt_graph_overlay_free(ov);
    /* a broken file is a parse error naming it */
    snprintf(path, sizeof path, "%s/profile.json", dir);
    assert_int_equal(nt_write_file(path, "{oops", 5), NT_OK);
    assert_int_equal(nt_graph_overlay_load(dir, NULL, &ov), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "profile.json"));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_extract(void **state)
{
    (void)state;
    nt_buf file;
    nt_model *m = make_model(&file);
    int *sel, n;
    assert_int_equal(nt_extract_select(m->graph, "conv", "branch", &sel, &n), NT_OK);
    assert_int_equal(n, 3);   /* conv, relu, branch: not the sigmoid side branch */
    assert_string_equal(m->graph->nodes[sel[2]].name, "branch");
    free(sel);
    assert_int_equal(nt_extract_select(m->graph, "branch", "conv", &sel, &n), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_extract_select(m->graph, "then_add", NULL, &sel, &n), NT_ERR_NOT_FOUND);
    assert_non_null(strstr(nt_last_error(), "body"));

    /* relu..branch: inputs c and cond; outputs r (sig reads it outside the cut) and y */
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    const int64_t xd[] = {1, 1, 4, 4};
    nt_tensor *x, *c;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 4, xd, &x), NT_OK);
    assert_int_equal(nt_tensor_new(NT_DTYPE_BOOL, 0, NULL, &c), NT_OK);
    for (int i = 0; i < 16; i++)
        nt_tensor_set_f64(x, i, i * 0.1 - 0.5);
    nt_tensor_set_f64(c, 0, 1);
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    assert_int_equal(nt_session_set_input(s, "cond", c), NT_OK);
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/nt_test_extract_%d", (int)getpid());
    nt_extract_result res;
    assert_int_equal(nt_extract(m, s, "relu", "branch", dir, &res), NT_OK);
    assert_int_equal(res.n_nodes, 2);
    assert_int_equal(res.n_inputs, 2);    /* c, cond */
    assert_int_equal(res.n_outputs, 2);   /* r (read by sig outside the cut), y */
    nt_session_free(s);

    /* The repro loads, runs on its inputs and reproduces its outputs. */
    char path[512];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    nt_model *rm;
    assert_int_equal(nt_model_load(path, &rm), NT_OK);
    assert_int_equal(nt_model_input_count(rm), 2);
    assert_int_equal(nt_session_new(rm, NULL, &s), NT_OK);
    for (int k = 0; k < 2; k++) {
        nt_tensor *t;
        char *name;
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, k);
        assert_int_equal(nt_pb_tensor_load(path, &t, &name), NT_OK);
        assert_int_equal(nt_session_set_input(s, name, t), NT_OK);
        nt_tensor_free(t);
        free(name);
    }
    assert_int_equal(nt_session_run(s), NT_OK);
    for (int k = 0; k < 2; k++) {
        nt_tensor *want;
        char *name;
        const nt_tensor *got;
        snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, k);
        assert_int_equal(nt_pb_tensor_load(path, &want, &name), NT_OK);
        assert_int_equal(nt_session_get_output(s, k, &got), NT_OK);
        assert_int_equal(nt_tensor_numel(got), nt_tensor_numel(want));
        for (int64_t i = 0; i < nt_tensor_numel(got); i++)
            assert_true(nt_tensor_get_f64(got, i) == nt_tensor_get_f64(want, i));
        nt_tensor_free(want);
        free(name);
    }
    nt_session_free(s);
    nt_model_free(rm);
    nt_tensor_free(x);
    nt_tensor_free(c);
    nt_model_free(m);
    nt_buf_deinit(&file);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Graphviz and fontconfig keep caches for the process's life that
 * LeakSanitizer reports as leaks; nntrace's own allocations stay checked.
 * (Called by LeakSanitizer when present; unused otherwise.) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libfontconfig.so\nleak:libgvc.so\nleak:libpango\nleak:libcgraph.so\nleak:libgvplugin\n";
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dot),
        cmocka_unit_test(test_overlay),
        cmocka_unit_test(test_extract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
