/*
 * test_doctor.c — the doctor as a library: the NaN origin named before the
 * nodes that only pass NaN on, the element and the inputs that made it, no
 * findings of that kind on finite values, and the static finding of an
 * unused initializer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_units_common.h"
#include "analyze/doctor.h"

static const nt_finding *run_doctor(nt_model *m, const float *x, nt_doctor **d_out, int *n)
{
    nt_session *s = tu_session(m, x);
    nt_doctor_options opt = {1e4, false, 0.5};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nan_origin_first),
        cmocka_unit_test(test_finite_run_has_no_nan_finding),
        cmocka_unit_test(test_unused_initializer_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
