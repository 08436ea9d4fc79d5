/*
 * test_units_common.h — helpers shared by the unit tests that build models
 * with the ONNX writer and load them back (session, sequence, doctor,
 * debugger); inline, so a test that uses some of them warns about none.
 */
#ifndef NT_TEST_UNITS_COMMON_H
#define NT_TEST_UNITS_COMMON_H

#include "nntrace.h"
#include "onnx/writer.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Saves the built model to a temp file and loads it (the map outlives the
 * unlinked file). */
static inline nt_model *tu_load_built(nt_onnx_builder *b)
{
    char path[] = "/tmp/nt_test_units_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nt_onnx_builder_save(b, path), NT_OK);
    nt_onnx_builder_free(b);
    nt_model *m = NULL;
    assert_int_equal(nt_model_load(path, &m), NT_OK);
    unlink(path);
    return m;
}

static inline nt_tensor *tu_vec(const float *v, int64_t n)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, &n, &t), NT_OK);
    memcpy(t->data, v, (size_t)n * sizeof(float));
    return t;
}

/* x[4] -> mul = x * 2 -> log = Log(mul) -> relu = Relu(log) -> y.
 * A negative x makes "log" the NaN origin; "relu" passes NaN on. */
static inline nt_model *tu_log_model(void)
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
    const char *log_in[] = {"m"}, *log_out[] = {"l"};
    const char *relu_in[] = {"l"}, *relu_out[] = {"y"};
    nt_onnx_builder_add_node(b, "Mul", "mul", 2, mul_in, 1, mul_out);
    nt_onnx_builder_add_node(b, "Log", "log", 1, log_in, 1, log_out);
    nt_onnx_builder_add_node(b, "Relu", "relu", 1, relu_in, 1, relu_out);
    return tu_load_built(b);
}

static inline nt_session *tu_session(nt_model *m, const float *x)
{
    nt_session *s = NULL;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    nt_tensor *in = tu_vec(x, 4);
    assert_int_equal(nt_session_set_input(s, "x", in), NT_OK);
    nt_tensor_free(in);
    return s;
}

#endif
