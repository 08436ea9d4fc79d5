/*
 * test_diff.c — the arithmetic and matching of `nntrace diff`: error
 * statistics against hand-computed values (max abs/rel, mean abs, cosine,
 * the tolerance rule, NaN and Inf mismatches, mixed dtypes), per-output
 * tolerance overrides, tensor sets read from an index.json and from a plain
 * .npy directory (matching by value name, sanitized name and node name),
 * the first divergent row, and the JSON report's shape; nt_diff_run (the
 * public call behind `diff`) on two models that differ in one weight.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyze/diff.h"
#include "nntrace/analysis.h"
#include "test_units_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static nt_tensor *vec(nt_dtype dt, int n, const double *v)
{
    int64_t d = n;
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(dt, 1, &d, &t), NT_OK);
    for (int i = 0; i < n; i++)
        nt_tensor_set_f64(t, i, v[i]);
    return t;
}

static void test_stats(void **state)
{
    (void)state;
    const double a[] = {1.0, 2.0, 3.0, 0.0};
    const double b[] = {1.0, 2.5, 2.0, 0.0};
    nt_tensor *ta = vec(NT_DTYPE_FLOAT, 4, a), *tb = vec(NT_DTYPE_FLOAT, 4, b);
    nt_diff_stats s;
    assert_int_equal(nt_diff_tensors(ta, tb, 1e-4, 1e-3, &s), NT_OK);
    assert_int_equal(s.count, 4);
    assert_true(fabs(s.max_abs - 1.0) < 1e-12);
    assert_int_equal(s.worst, 2);
    assert_true(fabs(s.max_rel - 0.5) < 1e-12);          /* |3-2|/2 */
    assert_true(fabs(s.mean_abs - 1.5 / 4) < 1e-12);
    double dot = 1 + 5 + 6, na = sqrt(1 + 4 + 9), nb = sqrt(1 + 6.25 + 4);
    assert_true(fabs(s.cosine - dot / (na * nb)) < 1e-12);
    assert_int_equal(s.n_fail, 2);
    /* SQNR, B the signal: 10 log10(sum b^2 / sum (a-b)^2) = 10 log10(11.25 / 1.25) */
    assert_true(fabs(s.sqnr_db - 10.0 * log10(11.25 / 1.25)) < 1e-12);
    /* a loose tolerance passes everything: |a-b| <= rtol*|b| for rtol 1 */
    assert_int_equal(nt_diff_tensors(ta, tb, 0, 1.0, &s), NT_OK);
    assert_int_equal(s.n_fail, 0);
    /* both zero vectors: cosine 1; one zero: 0 */
    const double z[] = {0, 0, 0, 0};
    nt_tensor *tz = vec(NT_DTYPE_FLOAT, 4, z);
    assert_int_equal(nt_diff_tensors(tz, tz, 0, 0, &s), NT_OK);
    assert_true(s.cosine == 1.0 && s.n_fail == 0);
    assert_true(isinf(s.sqnr_db) && s.sqnr_db > 0);   /* no noise */
    assert_int_equal(nt_diff_tensors(ta, tz, 0, 0, &s), NT_OK);
    assert_true(s.cosine == 0.0 && s.n_fail == 3);
    nt_tensor_free(ta);
    nt_tensor_free(tb);
    nt_tensor_free(tz);
}

static void test_nan_inf_and_dtypes(void **state)
{
    (void)state;
    const double a[] = {NAN, NAN, INFINITY, INFINITY, 1.0};
    const double b[] = {NAN, 1.0, INFINITY, -INFINITY, 1.0};
    nt_tensor *ta = vec(NT_DTYPE_FLOAT, 5, a), *tb = vec(NT_DTYPE_DOUBLE, 5, b);
    nt_diff_stats s;
    assert_int_equal(nt_diff_tensors(ta, tb, 1e-4, 1e-3, &s), NT_OK);
    assert_int_equal(s.nan_mismatch, 1);
    assert_int_equal(s.inf_mismatch, 1);
    assert_int_equal(s.n_fail, 2);
    assert_true(s.max_abs == 0.0);   /* only finite pairs count */
    /* int64 against float16 (converted through double) */
    const double c[] = {1, 2, 3};
    nt_tensor *ti = vec(NT_DTYPE_INT64, 3, c), *th = vec(NT_DTYPE_FLOAT16, 3, c);
    assert_int_equal(nt_diff_tensors(ti, th, 0, 0, &s), NT_OK);
    assert_int_equal(s.n_fail, 0);
    /* counts differ: a shape error; same count, other shape: compared */
    nt_tensor *t3 = vec(NT_DTYPE_FLOAT, 3, c);
    assert_int_equal(nt_diff_tensors(ta, t3, 0, 0, &s), NT_ERR_SHAPE);
    t3->ndim = 2;
    t3->dims[0] = 1;
    t3->dims[1] = 3;
    assert_int_equal(nt_diff_tensors(ti, t3, 0, 0, &s), NT_OK);
    nt_tensor_free(ta);
    nt_tensor_free(tb);
    nt_tensor_free(ti);
    nt_tensor_free(th);
    nt_tensor_free(t3);
}

static void test_tolerance_overrides(void **state)
{
    (void)state;
    nt_diff_options o;
    nt_diff_options_init(&o);
    o.tols[o.n_tols++] = (nt_diff_tol){"logits", 0.5, 0.1};
    o.tols[o.n_tols++] = (nt_diff_tol){"/layer4/*", 1e-2, 1e-2};
    double at, rt;
    nt_diff_options_for(&o, "logits", "/fc/Gemm", &at, &rt);
    assert_true(at == 0.5 && rt == 0.1);
    nt_diff_options_for(&o, "x", "/layer4/conv/Conv", &at, &rt);
    assert_true(at == 1e-2 && rt == 1e-2);
    nt_diff_options_for(&o, "y", "/layer1/conv/Conv", &at, &rt);
    assert_true(at == 1e-4 && rt == 1e-3);
}

/* A scratch directory with a run-style index (A) and a plain .npy dir (B). */
static char tmpdir[256];

static void save(const char *dir, const char *file, int n, const double *v)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    nt_tensor *t = vec(NT_DTYPE_FLOAT, n, v);
    assert_int_equal(nt_npy_save(path, t), NT_OK);
    nt_tensor_free(t);
}

static void make_dirs(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nt_test_diff_%d", (int)getpid());
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/A/tensors", tmpdir);
    snprintf(b, sizeof b, "%s/B", tmpdir);
    assert_int_equal(nt_mkdirs(a), NT_OK);
    assert_int_equal(nt_mkdirs(b), NT_OK);
    const double x[] = {1, 2, 3}, y[] = {4, 5, 6}, z[] = {7, 8, 9}, y2[] = {7, 8, 9.5};
    save(a, "_c_Conv_output_0.npy", 3, x);
    save(a, "_r_Relu_output_0.npy", 3, y);
    save(a, "out.npy", 3, z);
    const char *index =
        "{\"truncated\": false, \"bytes\": 36, \"runs\": 1, \"tensors\": [\n"
        "  {\"node\": \"/c/Conv\", \"op\": \"Conv\", \"index\": 0, \"depth\": 0, \"run\": 0, \"role\": \"output\", "
        "\"output\": \"/c/Conv_output_0\", \"file\": \"_c_Conv_output_0.npy\", \"dtype\": \"float32\", \"shape\": [3]},\n"
        "  {\"node\": \"/c/Conv\", \"op\": \"Conv\", \"index\": 0, \"depth\": 0, \"run\": 0, \"role\": \"input\", "
        "\"output\": \"in\", \"file\": \"in.npy\", \"dtype\": \"float32\", \"shape\": [3]},\n"
        "  {\"node\": \"/r/Relu\", \"op\": \"Relu\", \"index\": 1, \"depth\": 0, \"run\": 0, \"role\": \"output\", "
        "\"output\": \"/r/Relu_output_0\", \"file\": \"_r_Relu_output_0.npy\", \"dtype\": \"float32\", \"shape\": [3]},\n"
        "  {\"node\": \"/fc/Gemm\", \"op\": \"Gemm\", \"index\": 2, \"depth\": 0, \"run\": 0, \"role\": \"output\", "
        "\"output\": \"out\", \"file\": \"out.npy\", \"dtype\": \"float32\", \"shape\": [3]}\n]}\n";
    char path[600];
    snprintf(path, sizeof path, "%s/index.json", a);
    assert_int_equal(nt_write_file(path, index, strlen(index)), NT_OK);
    /* B: the conv by sanitized value name, the relu by node name, the
     * output with a different value, and one extra tensor. */
    save(b, "_c_Conv_output_0.npy", 3, x);
    save(b, "_r_Relu.npy", 3, y);
    save(b, "out.npy", 3, y2);
    save(b, "extra.npy", 3, x);
}

static void remove_dirs(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void test_sets_and_report(void **state)
{
    (void)state;
    make_dirs();
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/A", tmpdir);
    snprintf(b, sizeof b, "%s/B", tmpdir);
    nt_diff_set *sa, *sb;
    assert_int_equal(nt_diff_set_open(a, &sa), NT_OK);
    assert_int_equal(nt_diff_set_open(b, &sb), NT_OK);
    assert_true(nt_diff_set_indexed(sa));
    assert_false(nt_diff_set_indexed(sb));
    assert_int_equal(nt_diff_set_count(sa), 3);   /* the input-role entry is skipped */
    assert_int_equal(nt_diff_set_count(sb), 4);
    bool by_node;
    assert_int_equal(nt_diff_set_find(sa, "/r/Relu_output_0", NULL, 0, &by_node), 1);
    assert_false(by_node);
    assert_int_equal(nt_diff_set_find(sa, "renamed", "/fc/Gemm", 0, &by_node), 2);
    assert_true(by_node);
    assert_int_equal(nt_diff_set_find(sa, "renamed", "nope", 0, &by_node), -1);

    nt_diff_options o;
    nt_diff_options_init(&o);
    nt_diff_report rep;
    nt_diff_report_init(&rep);
    assert_int_equal(nt_diff_sets(sa, sb, &o, &rep), NT_OK);
    assert_int_equal(rep.n, 3);
    assert_int_equal(rep.n_by_node, 1);
    assert_true(rep.rows[0].ok && rep.rows[1].ok && !rep.rows[2].ok);
    assert_int_equal(rep.first_divergent, 2);
    assert_string_equal(rep.rows[2].node, "/fc/Gemm");
    assert_int_equal(rep.n_only_b, 1);
    assert_string_equal(rep.only_b[0], "extra");
    assert_int_equal(nt_diff_report_diverged(&rep), 1);

    nt_buf j;
    nt_buf_init(&j);
    nt_diff_report_json(&rep, &o, &j);
    assert_non_null(strstr(j.data, "\"first_divergent\": \"/fc/Gemm\""));
    assert_non_null(strstr(j.data, "\"ok\": false"));
    assert_non_null(strstr(j.data, "\"only_in_b\": [\"extra\"]"));
    j.len = 0;
    nt_diff_report_text(&rep, &o, true, &j);
    assert_non_null(strstr(j.data, "first divergent node: /fc/Gemm"));
    assert_null(strstr(j.data, "/c/Conv "));     /* only failing rows */
    nt_buf_deinit(&j);
    nt_diff_report_deinit(&rep);

    /* A per-output override lets the output pass. */
    o.tols[o.n_tols++] = (nt_diff_tol){"out", 1.0, 0};
    nt_diff_report_init(&rep);
    assert_int_equal(nt_diff_sets(sa, sb, &o, &rep), NT_OK);
    assert_int_equal(rep.first_divergent, -1);
    nt_diff_report_deinit(&rep);

    /* B driving (A a plain dir, B indexed): rows follow B's order. */
    nt_diff_report_init(&rep);
    o.n_tols = 0;
    assert_int_equal(nt_diff_sets(sb, sa, &o, &rep), NT_OK);
    assert_int_equal(rep.n, 3);
    assert_string_equal(rep.rows[0].node, "/c/Conv");
    assert_int_equal(rep.first_divergent, 2);
    assert_int_equal(rep.n_only_a, 1);
    nt_diff_report_deinit(&rep);

    nt_diff_set_free(sa);
    nt_diff_set_free(sb);
    nt_diff_set *none;
    assert_int_equal(nt_diff_set_open("/nonexistent/dir", &none), NT_ERR_IO);
    remove_dirs();
}

/* x[4] -> Mul(x, k) -> Log -> y, with the weight k given. */
static nt_model *scaled_log_model(float k)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t n = 4;
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 1, &n, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 1, &n, NULL);
    nt_tensor *tk = tu_vec(&k, 1);
    tk->ndim = 0;
    nt_onnx_builder_add_initializer(b, "k", tk);
    nt_tensor_free(tk);
    const char *mul_in[] = {"x", "k"}, *mul_out[] = {"m"}, *log_in[] = {"m"}, *log_out[] = {"y"};
    nt_onnx_builder_add_node(b, "Mul", "mul", 2, mul_in, 1, mul_out);
    nt_onnx_builder_add_node(b, "Log", "log", 1, log_in, 1, log_out);
    char path[] = "/tmp/nt_test_diff_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nt_onnx_builder_save(b, path), NT_OK);
    nt_onnx_builder_free(b);
    nt_model *m = NULL;
    assert_int_equal(nt_model_load(path, &m), NT_OK);
    return m;   /* the file stays for nt_diff_run (unlinked by the test) */
}

/* Two models run on the same feed: the first divergent node is the one
 * reading the changed weight, which is named; a model against itself does
 * not diverge; keep_dir keeps A's dump. */
static void test_diff_run_two_models(void **state)
{
    nt_model *ma = scaled_log_model(2), *mb = scaled_log_model(3);
    const float xv[4] = {1, 2, 3, 4};
    nt_tensor *x = tu_vec(xv, 4);
    const char *names[] = {"x"};
    const nt_tensor *feeds[] = {x};
    char keep[] = "/tmp/nt_test_diff_keep_XXXXXX";
    assert_non_null(mkdtemp(keep));
    nt_diff_options o;
    nt_diff_options_init(&o);
    o.a = nt_model_path(ma);
    o.b = nt_model_path(mb);
    o.n_feeds = 1;
    o.feed_names = names;
    o.feeds = feeds;
    o.keep_dir = keep;
    nt_diff_result *r = NULL;
    assert_int_equal(nt_diff_run(&o, &r), NT_OK);
    assert_true(nt_diff_result_diverged(r) >= 1);
    char *json, *text, *weights;
    assert_int_equal(nt_diff_result_json(r, &json, NULL), NT_OK);
    assert_non_null(strstr(json, "{\"first_divergent\": \"mul\", \"first_divergent_output\": \"m\""));
    assert_int_equal(nt_diff_result_weights(r, &weights, NULL), NT_OK);
    assert_non_null(strstr(weights, "weights that differ between A and B:\n  k: max_abs 1, 1 of 1 elements differ"));
    assert_int_equal(nt_diff_result_text(r, false, &text, NULL), NT_OK);
    assert_true(strncmp(text, weights, strlen(weights)) == 0);   /* the weights come first */
    assert_non_null(strstr(text, "mul"));
    free(json);
    free(text);
    free(weights);
    nt_diff_result_free(r);
    char index[4200];
    snprintf(index, sizeof index, "%s/tensors/index.json", keep);
    assert_int_equal(access(index, F_OK), 0);
    /* A against itself, dumped into a temporary directory */
    o.b = o.a;
    o.keep_dir = NULL;
    assert_int_equal(nt_diff_run(&o, &r), NT_OK);
    assert_int_equal(nt_diff_result_diverged(r), 0);
    assert_int_equal(nt_diff_result_json(r, &json, NULL), NT_OK);
    assert_non_null(strstr(json, "\"first_divergent\": null"));
    free(json);
    nt_diff_result_free(r);
    /* a missing feed is the run's error, naming the model */
    o.n_feeds = 0;
    assert_int_not_equal(nt_diff_run(&o, &r), NT_OK);
    assert_null(r);
    assert_non_null(strstr(nt_last_error(), "input"));
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", keep);
    assert_int_equal(system(cmd), 0);
    unlink(nt_model_path(ma));
    unlink(nt_model_path(mb));
    nt_tensor_free(x);
    nt_model_free(ma);
    nt_model_free(mb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_nan_inf_and_dtypes),
        cmocka_unit_test(test_tolerance_overrides),
        cmocka_unit_test(test_sets_and_report),
        cmocka_unit_test(test_diff_run_two_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
