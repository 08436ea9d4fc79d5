/*
 * make_models.c — fixtures for tests/e2e/debug_check.sh, written with
 * nntrace's own ONNX builder (no Python):
 *
 *   nan.onnx   x[2,3] -> sub (x - 2) -> log -> add (+ sqrt(x)) -> scale (* 2) -> y
 *              With x.npy = [[1,2,3],[4,5,6]], log sees [-1,0,1,2,3,4]: the NaN is
 *              born at node #1 'log' (Log of -1) next to a -inf (Log of 0).
 *   div.onnx   x[2,2] -> zero (x - x) -> div (zero / zero = NaN) -> out (+ x) -> z
 *              the 0/0 NaN is born at node #1 'div'.
 *   reshape.onnx  x[2,3], s int64[2] -> rs (Reshape x to s) -> neg (Neg) -> r
 *              with s.npy = [4,4] the Reshape fails at run time (12 elements
 *              into 16): a run that fails in a kernel, and a what-if on s.
 *   x.npy      [[1,2,3],[4,5,6]] float32
 *   x2.npy     [[1,2],[3,4]] float32
 *   s.npy      [4,4] int64
 *
 * usage: make_models OUTDIR
 */
#include "onnx/writer.h"

#include <stdio.h>
#include <string.h>

static nt_status save_const(nt_onnx_builder *b, const char *name, float v)
{
    nt_tensor *t;
    nt_status st = nt_tensor_new(NT_DTYPE_FLOAT, 0, NULL, &t);
    if (st != NT_OK)
        return st;
    ((float *)t->data)[0] = v;
    st = nt_onnx_builder_add_initializer(b, name, t);
    nt_tensor_free(t);
    return st;
}

static nt_status node(nt_onnx_builder *b, const char *op, const char *name, const char *a, const char *c,
                      const char *out)
{
    const char *in[2] = {a, c};
    return nt_onnx_builder_add_node(b, op, name, c ? 2 : 1, in, 1, &out) ? NT_OK : NT_ERR_INVALID_ARG;
}

static nt_status make_nan(const char *dir)
{
    char path[4096];
    nt_onnx_builder *b = nt_onnx_builder_new(8, 17);
    if (!b)
        return NT_ERR_NOMEM;
    const int64_t dims[] = {2, 3};
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, dims, NULL);
    save_const(b, "two", 2.0f);
    node(b, "Sub", "sub", "x", "two", "/Sub_output_0");
    node(b, "Log", "log", "/Sub_output_0", NULL, "/Log_output_0");
    node(b, "Sqrt", "sqrt", "x", NULL, "/Sqrt_output_0");
    node(b, "Add", "add", "/Log_output_0", "/Sqrt_output_0", "/Add_output_0");
    node(b, "Mul", "scale", "/Add_output_0", "two", "y");
    snprintf(path, sizeof path, "%s/nan.onnx", dir);
    nt_status st = nt_onnx_builder_save(b, path);
    nt_onnx_builder_free(b);
    return st;
}

static nt_status make_div(const char *dir)
{
    char path[4096];
    nt_onnx_builder *b = nt_onnx_builder_new(8, 17);
    if (!b)
        return NT_ERR_NOMEM;
    const int64_t dims[] = {2, 2};
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_output(b, "z", NT_DTYPE_FLOAT, 2, dims, NULL);
    node(b, "Sub", "zero", "x", "x", "/zero_output_0");
    node(b, "Div", "div", "/zero_output_0", "/zero_output_0", "/Div_output_0");
    node(b, "Add", "out", "/Div_output_0", "x", "z");
    snprintf(path, sizeof path, "%s/div.onnx", dir);
    nt_status st = nt_onnx_builder_save(b, path);
    nt_onnx_builder_free(b);
    return st;
}

static nt_status make_reshape(const char *dir)
{
    char path[4096];
    nt_onnx_builder *b = nt_onnx_builder_new(8, 17);
    if (!b)
        return NT_ERR_NOMEM;
    const int64_t dims[] = {2, 3}, sdims[] = {2}, rdims[] = {-1, -1};
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_input(b, "s", NT_DTYPE_INT64, 1, sdims, NULL);
    nt_onnx_builder_add_output(b, "r", NT_DTYPE_FLOAT, 2, rdims, NULL);
    node(b, "Reshape", "rs", "x", "s", "/rs_output_0");
    node(b, "Neg", "neg", "/rs_output_0", NULL, "r");
    snprintf(path, sizeof path, "%s/reshape.onnx", dir);
    nt_status st = nt_onnx_builder_save(b, path);
    nt_onnx_builder_free(b);
    return st;
}

static nt_status save_shape(const char *dir)
{
    char path[4096];
    const int64_t dims[] = {2};
    nt_tensor *t;
    nt_status st = nt_tensor_new(NT_DTYPE_INT64, 1, dims, &t);
    if (st != NT_OK)
        return st;
    ((int64_t *)t->data)[0] = 4;
    ((int64_t *)t->data)[1] = 4;
    snprintf(path, sizeof path, "%s/s.npy", dir);
    st = nt_npy_save(path, t);
    nt_tensor_free(t);
    return st;
}

static nt_status save_array(const char *dir, const char *name, int rows, int cols)
{
    char path[4096];
    const int64_t dims[] = {rows, cols};
    nt_tensor *t;
    nt_status st = nt_tensor_new(NT_DTYPE_FLOAT, 2, dims, &t);
    if (st != NT_OK)
        return st;
    for (int i = 0; i < rows * cols; i++)
        ((float *)t->data)[i] = (float)(i + 1);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    st = nt_npy_save(path, t);
    nt_tensor_free(t);
    return st;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_models OUTDIR\n");
        return 1;
    }
    nt_status st = make_nan(argv[1]);
    if (st == NT_OK)
        st = make_div(argv[1]);
    if (st == NT_OK)
        st = make_reshape(argv[1]);
    if (st == NT_OK)
        st = save_shape(argv[1]);
    if (st == NT_OK)
        st = save_array(argv[1], "x.npy", 2, 3);
    if (st == NT_OK)
        st = save_array(argv[1], "x2.npy", 2, 2);
    if (st != NT_OK) {
        fprintf(stderr, "make_models: %s\n", nt_last_error());
        return 1;
    }
    return 0;
}
