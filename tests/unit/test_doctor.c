/*
 * test_doctor.c — the doctor as a library: the NaN origin named before the
 * nodes that only pass NaN on, the element and the inputs that made it, no
 * findings of that kind on finite values, and the static finding of an
 * unused initializer; nt_doctor_run (the public call behind `doctor`): its
 * JSON and text, a data set run per sample, the tracer detached after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_units_common.h"
#include "analyze/doctor.h"
#include "nntrace/analysis.h"

static const nt_finding *run_doctor(nt_model *m, const float *x, nt_doctor **d_out, int *n)
{
    nt_session *s = tu_session(m, x);
    nt_doctor_options opt = {.explode_threshold = 1e4, .saturation_fraction = 0.5};
    nt_doctor *d = NULL;
    assert_int_equal(nt_doctor_new(m, &opt, &d), NT_OK);
    assert_int_equal(nt_doctor_static(d, nt_session_plan_warnings(s)), NT_OK);
    assert_int_equal(nt_session_add_tracer(s, nt_doctor_tracer(d)), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    const nt_finding *f = NULL;
    assert_int_equal(nt_doctor_finish(d, &f, n), NT_OK);
    assert_int_equal(nt_doctor_runs(d), 1);
    nt_session_free(s);
    *d_out = d;
    return f;
}

static void test_nan_origin_first(void **state)
{
    nt_model *m = tu_log_model();
    const float x[4] = {1.0f, -3.2f, 2.0f, 0.5f};
    nt_doctor *d;
    int n = 0;
    const nt_finding *f = run_doctor(m, x, &d, &n);
    assert_true(n >= 1);
    assert_string_equal(f[0].kind, "nan");
    assert_int_equal(f[0].severity, NT_SEV_ERROR);
    assert_string_equal(f[0].node, "log");
    assert_string_equal(f[0].op, "Log");
    /* the detail names the offending element (-6.4 = -3.2 * 2 went into Log) */
    assert_non_null(strstr(f[0].detail, "-6.4"));
    bool relu_is_origin = false;
    for (int i = 1; i < n; i++)
        if (f[i].node && strcmp(f[i].node, "relu") == 0 && strcmp(f[i].kind, "nan") == 0)
            relu_is_origin = true;
    assert_false(relu_is_origin);   /* relu only propagates */
    nt_doctor_free(d);
    nt_model_free(m);
}

static void test_finite_run_has_no_nan_finding(void **state)
{
    nt_model *m = tu_log_model();
    const float x[4] = {1.0f, 3.2f, 2.0f, 0.5f};
    nt_doctor *d;
    int n = 0;
    const nt_finding *f = run_doctor(m, x, &d, &n);
    for (int i = 0; i < n; i++) {
        assert_string_not_equal(f[i].kind, "nan");
        assert_string_not_equal(f[i].kind, "inf");
        assert_int_not_equal(f[i].severity, NT_SEV_ERROR);
    }
    nt_doctor_free(d);
    nt_model_free(m);
}

static void test_unused_initializer_is_reported(void **state)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t n4 = 4;
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 1, &n4, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 1, &n4, NULL);
    float w[4] = {1, 2, 3, 4};
    nt_tensor *t = tu_vec(w, 4);
    nt_onnx_builder_add_initializer(b, "stale_weight", t);
    nt_tensor_free(t);
    const char *in[] = {"x"}, *out[] = {"y"};
    nt_onnx_builder_add_node(b, "Relu", "relu", 1, in, 1, out);
    nt_model *m = tu_load_built(b);
    nt_doctor *d;
    int n = 0;
    const float x[4] = {1, 2, 3, 4};
    const nt_finding *f = run_doctor(m, x, &d, &n);
    bool found = false;
    for (int i = 0; i < n; i++)
        if (strcmp(f[i].kind, "unused_initializer") == 0 && strstr(f[i].detail, "stale_weight"))
            found = true;
    assert_true(found);
    nt_doctor_free(d);
    nt_model_free(m);
}

/* nt_doctor_run on one bound input: the NaN origin in both renderings. */
static void test_doctor_run_json_and_text(void **state)
{
    nt_model *m = tu_log_model();
    const float x[4] = {1.0f, -3.2f, 2.0f, 0.5f};
    nt_session *s = tu_session(m, x);
    nt_doctor_options o;
    nt_doctor_options_init(&o);
    o.model_path = "log.onnx";
    nt_doctor_result *r = NULL;
    assert_int_equal(nt_doctor_run(m, s, &o, &r), NT_OK);
    assert_int_equal(nt_doctor_result_runs(r), 1);
    assert_true(nt_doctor_result_errors(r) >= 1);
    char *json, *text;
    size_t len;
    assert_int_equal(nt_doctor_result_json(r, &json, &len), NT_OK);
    assert_int_equal(len, strlen(json));
    assert_true(strncmp(json, "{\"findings\": [\n  {\"kind\": \"nan\", \"severity\": \"error\", \"node\": \"log\"", 67) == 0);
    assert_non_null(strstr(json, "], \"runs\": 1}\n"));
    assert_int_equal(nt_doctor_result_text(r, &text, NULL), NT_OK);
    assert_true(strncmp(text, "doctor: log.onnx, 1 run: ", 25) == 0);
    assert_non_null(strstr(text, "\nerrors:\n  [nan] log (Log)"));
    free(json);
    free(text);
    nt_doctor_result_free(r);
    /* the tracer is gone: the session runs on after the result is freed */
    assert_int_equal(nt_session_run(s), NT_OK);
    nt_session_free(s);
    nt_model_free(m);
}

/* A data set: one run per sample, findings over all of them; an input that
 * does not exist is refused. */
static void test_doctor_run_data_set(void **state)
{
    nt_model *m = tu_log_model();
    const float x[4] = {1, 2, 3, 4};
    nt_session *s = tu_session(m, x);
    int64_t dims[2] = {3, 4};
    nt_tensor *data;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 2, dims, &data), NT_OK);
    float *v = data->data;
    for (int i = 0; i < 12; i++)
        v[i] = i == 9 ? -1.0f : 1.0f + (float)i;   /* sample 2 holds a negative: NaN from Log */
    nt_doctor_options o;
    nt_doctor_options_init(&o);
    o.data = data;
    nt_doctor_result *r = NULL;
    assert_int_equal(nt_doctor_run(m, s, &o, &r), NT_OK);
    assert_int_equal(nt_doctor_result_runs(r), 3);
    assert_true(nt_doctor_result_errors(r) >= 1);
    nt_doctor_result_free(r);
    o.data_input = "nope";
    assert_int_equal(nt_doctor_run(m, s, &o, &r), NT_ERR_INVALID_ARG);
    assert_null(r);
    assert_non_null(strstr(nt_last_error(), "nope"));
    nt_tensor_free(data);
    nt_session_free(s);
    nt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nan_origin_first),
        cmocka_unit_test(test_finite_run_has_no_nan_finding),
        cmocka_unit_test(test_unused_initializer_is_reported),
        cmocka_unit_test(test_doctor_run_json_and_text),
        cmocka_unit_test(test_doctor_run_data_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
