/*
 * npy_tool.c — a helper for tests/e2e/npy_numpy_check.py, which checks
 * nntrace's tensor files and model writer against numpy and onnx.
 *
 *   npy_tool write DIR       writes DIR/w_<dtype>_<case>.npy and .pb (every
 *                            dtype numpy shares with ONNX, four shapes, a
 *                            value pattern the script recomputes) and
 *                            DIR/model.onnx (a model with an If subgraph)
 *   npy_tool convert IN OUT  nt_tensor_load(IN) then nt_tensor_save(OUT)
 *
 * Exit 0 on success; 2 with "npy_tool: <status>: <message>" on stderr when
 * the library refuses a file.
 */
#include "core/core.h"
#include "onnx/writer.h"

#include <stdlib.h>
#include <string.h>

static int fail(nt_status s)
{
    fprintf(stderr, "npy_tool: %s: %s\n", nt_status_name(s), nt_last_error());
    return 2;
}

/* The value pattern, element i in C order; npy_numpy_check.py's pattern()
 * computes the same. */
static void fill_pattern(nt_tensor *t)
{
    int64_t n = nt_tensor_numel(t);
    for (int64_t i = 0; i < n; i++) {
        double base = (double)((i * 37) % 200);
        if (t->dtype == NT_DTYPE_COMPLEX64) {
            ((float *)t->data)[2 * i] = (float)((base - 100) * 0.25);
            ((float *)t->data)[2 * i + 1] = (float)(i * 0.5);
        } else if (t->dtype == NT_DTYPE_COMPLEX128) {
            ((double *)t->data)[2 * i] = (base - 100) * 0.25;
            ((double *)t->data)[2 * i + 1] = i * 0.5;
        } else if (t->dtype == NT_DTYPE_BOOL) {
            nt_tensor_set_f64(t, i, i % 3 == 0);
        } else if (nt_dtype_is_float(t->dtype)) {
            nt_tensor_set_f64(t, i, (base - 100) * 0.25);
        } else if (t->dtype == NT_DTYPE_UINT8 || t->dtype == NT_DTYPE_UINT16 || t->dtype == NT_DTYPE_UINT32 ||
                   t->dtype == NT_DTYPE_UINT64) {
            nt_tensor_set_f64(t, i, base);
        } else {
            nt_tensor_set_f64(t, i, base - 100);
        }
    }
}

static const nt_dtype dtypes[] = {
    NT_DTYPE_BOOL,  NT_DTYPE_INT8,   NT_DTYPE_UINT8,  NT_DTYPE_INT16,     NT_DTYPE_UINT16,
    NT_DTYPE_INT32, NT_DTYPE_UINT32, NT_DTYPE_INT64,  NT_DTYPE_UINT64,    NT_DTYPE_FLOAT16,
    NT_DTYPE_FLOAT, NT_DTYPE_DOUBLE, NT_DTYPE_COMPLEX64, NT_DTYPE_COMPLEX128,
};

static const struct {
    const char *tag;
    int ndim;
    int64_t dims[3];
} shapes[] = {
    {"234", 3, {2, 3, 4}},
    {"scalar", 0, {0}},
    {"empty", 2, {0, 3}},
    {"vec", 1, {5}},
};

static nt_status write_tensors(const char *dir)
{
    char path[4096];
    for (size_t d = 0; d < NT_ARRAY_LEN(dtypes); d++)
        for (size_t k = 0; k < NT_ARRAY_LEN(shapes); k++) {
            nt_tensor *t;
            nt_status s = nt_tensor_new(dtypes[d], shapes[k].ndim, shapes[k].dims, &t);
            if (s != NT_OK)
                return s;
            fill_pattern(t);
            snprintf(path, sizeof path, "%s/w_%s_%s.npy", dir, nt_dtype_name(dtypes[d]), shapes[k].tag);
            s = nt_npy_save(path, t);
            if (s == NT_OK) {
                snprintf(path, sizeof path, "%s/w_%s_%s.pb", dir, nt_dtype_name(dtypes[d]), shapes[k].tag);
                s = nt_pb_tensor_save(path, t, nt_dtype_name(dtypes[d]));
            }
            nt_tensor_free(t);
            if (s != NT_OK)
                return s;
        }
    return NT_OK;
}

/*
 * model.onnx:  Y = If(cond, then: Relu(lin), else: LeakyRelu(lin, 0.1)),
 * lin = MatMul(X, W) + Constant(B), Z = Transpose(Y, perm [1, 0]);
 * X is float [N, 3] with N symbolic, W an initializer [3, 2].
 */
static nt_status write_model(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    nt_onnx_builder *b = nt_onnx_builder_new(8, 17);
    if (!b)
        return NT_ERR_NOMEM;
    const int64_t xd[] = {-1, 3}, yd[] = {-1, 2}, zd[] = {2, -1};
    const char *xn[] = {"N", NULL}, *zn[] = {NULL, "N"};
    nt_onnx_builder_add_input(b, "cond", NT_DTYPE_BOOL, 0, NULL, NULL);
    nt_onnx_builder_add_input(b, "X", NT_DTYPE_FLOAT, 2, xd, xn);
    nt_onnx_builder_add_output(b, "Y", NT_DTYPE_FLOAT, 2, yd, xn);
    nt_onnx_builder_add_output(b, "Z", NT_DTYPE_FLOAT, 2, zd, zn);

    nt_tensor *w = NULL, *bias = NULL;
    const int64_t wd[] = {3, 2}, bd[] = {2};
    nt_status s = nt_tensor_new(NT_DTYPE_FLOAT, 2, wd, &w);
    if (s == NT_OK)
        s = nt_tensor_new(NT_DTYPE_FLOAT, 1, bd, &bias);
    if (s != NT_OK)
        goto done;
    for (int i = 0; i < 6; i++)
        ((float *)w->data)[i] = 0.5f * (float)i;
    ((float *)bias->data)[0] = -1.0f;
    ((float *)bias->data)[1] = 2.0f;
    nt_onnx_builder_add_initializer(b, "W", w);

    const char *mm_in[] = {"X", "W"}, *mm_out[] = {"XW"};
    nt_onnx_builder_add_node(b, "MatMul", "matmul", 2, mm_in, 1, mm_out);
    const char *c_out[] = {"B"};
    nt_onnx_node *cn = nt_onnx_builder_add_node(b, "Constant", "bias", 0, NULL, 1, c_out);
    nt_onnx_node_attr_tensor(cn, "value", bias);
    const char *add_in[] = {"XW", "B"}, *add_out[] = {"lin"};
    nt_onnx_builder_add_node(b, "Add", "add", 2, add_in, 1, add_out);

    nt_onnx_graph *then_g = nt_onnx_graph_new("then_body"), *else_g = nt_onnx_graph_new("else_body");
    const char *lin[] = {"lin"}, *t_out[] = {"t_y"}, *e_out[] = {"e_y"};
    nt_onnx_graph_add_node(then_g, "Relu", "then_relu", 1, lin, 1, t_out);
    nt_onnx_graph_add_output(then_g, "t_y", NT_DTYPE_FLOAT, 2, yd, xn);
    nt_onnx_node *lr = nt_onnx_graph_add_node(else_g, "LeakyRelu", "else_leaky", 1, lin, 1, e_out);
    nt_onnx_node_attr_float(lr, "alpha", 0.1f);
    nt_onnx_graph_add_output(else_g, "e_y", NT_DTYPE_FLOAT, 2, yd, xn);
    const char *if_in[] = {"cond"}, *if_out[] = {"Y"};
    nt_onnx_node *ifn = nt_onnx_builder_add_node(b, "If", "branch", 1, if_in, 1, if_out);
    nt_onnx_node_attr_graph(ifn, "then_branch", then_g);
    nt_onnx_node_attr_graph(ifn, "else_branch", else_g);

    const int64_t perm[] = {1, 0};
    const char *tr_in[] = {"Y"}, *tr_out[] = {"Z"};
    nt_onnx_node *tr = nt_onnx_builder_add_node(b, "Transpose", "transpose", 1, tr_in, 1, tr_out);
    nt_onnx_node_attr_ints(tr, "perm", 2, perm);

    s = nt_onnx_builder_save(b, path);
done:
    nt_tensor_free(w);
    nt_tensor_free(bias);
    nt_onnx_builder_free(b);
    return s;
}

int main(int argc, char **argv)
{
    nt_status s;
    if (argc == 3 && strcmp(argv[1], "write") == 0) {
        if ((s = nt_mkdirs(argv[2])) != NT_OK || (s = write_tensors(argv[2])) != NT_OK ||
            (s = write_model(argv[2])) != NT_OK)
            return fail(s);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "convert") == 0) {
        nt_tensor *t;
        if ((s = nt_tensor_load(argv[2], &t)) != NT_OK)
            return fail(s);
        s = nt_tensor_save(argv[3], t);
        nt_tensor_free(t);
        return s == NT_OK ? 0 : fail(s);
    }
    fprintf(stderr, "usage: npy_tool write DIR | npy_tool convert IN OUT\n");
    return 1;
}
