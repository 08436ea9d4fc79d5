/*
 * test_fuse.c — plan-level fusion (src/exec/fuse*.c): which node groups are
 * claimed, that a fused group gives the same bits as its nodes run one by
 * one (nt_session_options.no_fusion), that a tracer wanting a member keeps the group
 * unfused and still sees the node's true values, that values needed outside
 * a group block it, and that a run whose shapes a fused kernel declines
 * falls back to the nodes; Conv epilogues (fuse_conv.c) likewise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nntrace.h"
#include "exec/fuse.h"
#include "onnx/writer.h"
#include "test_units_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void add_scalar(nt_onnx_builder *b, const char *name, float v, int ndim)
{
    int64_t one[4] = {1, 1, 1, 1};
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, ndim, one, &t), NT_OK);
    *(float *)t->data = v;
    assert_int_equal(nt_onnx_builder_add_initializer(b, name, t), NT_OK);
    nt_tensor_free(t);
}

static void node(nt_onnx_builder *b, const char *op, const char *name, const char *a, const char *c,
                 const char *out)
{
    const char *in[2] = {a, c}, *o[1] = {out};
    assert_non_null(nt_onnx_builder_add_node(b, op, name, c ? 2 : 1, in, 1, o));
}

/* Input values with the awkward cases in them: NaN, infinities, zeros of
 * both signs, huge and tiny magnitudes, then a deterministic spread. */
static nt_tensor *test_input(int ndim, const int64_t *dims)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, ndim, dims, &t), NT_OK);
    float *x = t->data;
    int64_t n = nt_tensor_numel(t);
    const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e30f, -1e30f, 1e-40f, 88.0f, -90.0f, 3.0f};
    uint32_t r = 12345;
    for (int64_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = i < (int64_t)NT_ARRAY_LEN(special) ? special[i] : ((float)(r >> 8) / 16777216.0f - 0.5f) * 12.0f;
    }
    return t;
}

typedef struct watch {
    const char *name;  /* node the tracer wants */
    int seen;
    float first;       /* first element of the node's output */
} watch;

static bool watch_wants(void *user, const nt_node_view *v) { return strcmp(v->name, ((watch *)user)->name) == 0; }
static nt_action watch_end(void *user, nt_session *s, const nt_node_view *v)
{
    (void)s;
    watch *w = user;
    w->seen++;
    w->first = ((const float *)v->outputs[0]->data)[0];
    return NT_ACTION_CONTINUE;
}

/* Runs m on x (input "x", plus "b" when given) and returns a copy of output
 * 0; *groups gets the number of fused groups of the top plan. */
static nt_tensor *run(nt_model *m, bool fuse, watch *w, const nt_tensor *x, const nt_tensor *bx, int threads,
                      int *groups)
{
    nt_session_options opt = {0};
    opt.threads = threads;
    opt.no_fusion = !fuse;
    nt_session *s;
    assert_int_equal(nt_session_new(m, &opt, &s), NT_OK);
    if (w) {
        nt_tracer t = {0};
        t.user = w;
        t.wants_node = watch_wants;
        t.node_end = watch_end;
        assert_int_equal(nt_session_add_tracer(s, &t), NT_OK);
    }
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    if (bx)
        assert_int_equal(nt_session_set_input(s, "b", bx), NT_OK);
    nt_status st = nt_session_run(s);
    if (st != NT_OK)
        fprintf(stderr, "%s\n", nt_last_error());
    assert_int_equal(st, NT_OK);
    const nt_tensor *y;
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    nt_tensor *copy;
    assert_int_equal(nt_tensor_clone(y, &copy), NT_OK);
    if (groups)
        *groups = s->plan->n_groups;
    nt_session_free(s);
    return copy;
}

static void assert_same_bits(const nt_tensor *a, const nt_tensor *b)
{
    assert_int_equal(a->ndim, b->ndim);
    for (int d = 0; d < a->ndim; d++)
        assert_int_equal(a->dims[d], b->dims[d]);
    assert_int_equal(nt_tensor_nbytes(a), nt_tensor_nbytes(b));
    assert_memory_equal(a->data, b->data, nt_tensor_nbytes(a));
}

/* Fused (1 and 2 threads) == unfused, and a tracer on `interior` keeps the
 * group unfused with the same result and sees the node. */
static void check_model(nt_model *m, int ndim, const int64_t *dims, int want_groups, const char *interior)
{
    nt_tensor *x = test_input(ndim, dims);
    int g_on = -1, g_off = -1;
    nt_tensor *ref = run(m, false, NULL, x, NULL, 1, &g_off);
    assert_int_equal(g_off, 0);
    for (int threads = 1; threads <= 2; threads++) {
        nt_tensor *y = run(m, true, NULL, x, NULL, threads, &g_on);
        assert_int_equal(g_on, want_groups);
        assert_same_bits(y, ref);
        nt_tensor_free(y);
    }
    if (interior) {
        watch w = {interior, 0, 0};
        nt_tensor *y = run(m, true, &w, x, NULL, 1, NULL);
        assert_int_equal(w.seen, 1);
        assert_same_bits(y, ref);
        nt_tensor_free(y);
        watch w0 = {interior, 0, 0};
        nt_tensor *y0 = run(m, false, &w0, x, NULL, 1, NULL);
        assert_memory_equal(&w.first, &w0.first, sizeof w.first); /* the traced value is the node's own */
        nt_tensor_free(y0);
    }
    nt_tensor_free(ref);
    nt_tensor_free(x);
}

/* GELU as exported from PyTorch: x * 0.5 * (1 + erf(x / sqrt 2)). */
static void test_gelu_erf(void **state)
{
    (void)state;
    int64_t dims[] = {3, 700}; /* several blocks and a tail */
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, dims, NULL);
    add_scalar(b, "sqrt2", 1.4142135f, 0);
    add_scalar(b, "one", 1.0f, 0);
    add_scalar(b, "half", 0.5f, 1);
    node(b, "Div", "div", "x", "sqrt2", "d");
    node(b, "Erf", "erf", "d", NULL, "e");
    node(b, "Add", "add", "e", "one", "a");
    node(b, "Mul", "mul", "x", "a", "m");
    node(b, "Mul", "mul2", "m", "half", "y");
    nt_model *m = tu_load_built(b);
    check_model(m, 2, dims, 1, "erf");
    nt_model_free(m);
}

/* SiLU, a float->float Cast and the tanh GELU in one chain. */
static void test_silu_cast_gelu_tanh(void **state)
{
    (void)state;
    int64_t dims[] = {2, 5, 61};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 3, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 3, dims, NULL);
    add_scalar(b, "three", 3.0f, 0);
    add_scalar(b, "two", 2.0f, 0);
    add_scalar(b, "c", 0.044715f, 0);
    add_scalar(b, "k", 0.7978846f, 0);
    add_scalar(b, "one", 1.0f, 0);
    add_scalar(b, "half", 0.5f, 0);
    node(b, "Sigmoid", "sig", "x", NULL, "s");
    node(b, "Mul", "silu", "x", "s", "h0");
    const char *ci[] = {"h0"}, *co[] = {"h"};
    nt_onnx_node *cast = nt_onnx_builder_add_node(b, "Cast", "cast", 1, ci, 1, co);
    nt_onnx_node_attr_int(cast, "to", NT_DTYPE_FLOAT);
    node(b, "Pow", "cube", "h", "three", "p");
    node(b, "Pow", "square", "h", "two", "p2"); /* Pow(x, 2) runs as x*x: the chain must too */
    node(b, "Add", "sq_add", "p", "p2", "p3");
    node(b, "Mul", "mc", "p3", "c", "q");
    node(b, "Add", "ah", "h", "q", "r");
    node(b, "Mul", "mk", "r", "k", "t0");
    node(b, "Tanh", "tanh", "t0", NULL, "t");
    node(b, "Add", "a1", "t", "one", "u");
    node(b, "Mul", "mh", "h", "u", "v");
    node(b, "Mul", "m5", "v", "half", "y");
    nt_model *m = tu_load_built(b);
    check_model(m, 3, dims, 1, "tanh");
    check_model(m, 3, dims, 1, "cast");
    nt_model_free(m);
}

/* An interior value that is also a graph output, or read by a node outside
 * the chain, splits the chain there. */
static void test_shared_values_block(void **state)
{
    (void)state;
    int64_t dims[] = {4, 33};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_output(b, "s", NT_DTYPE_FLOAT, 2, dims, NULL);
    node(b, "Sigmoid", "sig", "x", NULL, "s");   /* graph output: stays its own node */
    node(b, "Mul", "silu", "x", "s", "h");
    node(b, "Relu", "relu", "h", NULL, "r");
    node(b, "Softmax", "sm", "h", NULL, "z");    /* h is read outside the chain */
    node(b, "Add", "add", "r", "z", "y");
    nt_model *m = tu_load_built(b);
    /* {relu, add} is the only chain: sig and silu's results are needed elsewhere */
    check_model(m, 2, dims, 1, "relu");
    nt_model_free(m);
}

/* A float->float Cast alone: its output is its input's tensor, which must
 * then live until the Cast's readers ran. */
static void test_noop_cast_alias(void **state)
{
    (void)state;
    int64_t dims[] = {3, 40};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, dims, NULL);
    node(b, "Softmax", "sm", "x", NULL, "s");
    const char *ci[] = {"s"}, *co[] = {"c"};
    nt_onnx_node *cast = nt_onnx_builder_add_node(b, "Cast", "cast", 1, ci, 1, co);
    nt_onnx_node_attr_int(cast, "to", NT_DTYPE_FLOAT);
    node(b, "Softmax", "sm2", "c", NULL, "t");
    node(b, "Softmax", "sm3", "t", NULL, "u");
    node(b, "Add", "add", "u", "c", "y");       /* c read after s's own last reader */
    nt_model *m = tu_load_built(b);
    check_model(m, 2, dims, 1, "cast");
    nt_model_free(m);
}

/* Shapes known only at run time: "b" broadcasts as a row, so the chain's
 * kernel declines the run and the nodes run one by one. */
static void test_runtime_decline(void **state)
{
    (void)state;
    int64_t xd[] = {-1, -1}, bd[] = {-1};
    const char *xn[] = {"n", "k"}, *bn[] = {"k"};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, xd, xn);
    nt_onnx_builder_add_input(b, "b", NT_DTYPE_FLOAT, 1, bd, bn);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, xd, xn);
    node(b, "Add", "add", "x", "b", "a");
    node(b, "Tanh", "tanh", "a", NULL, "y");
    nt_model *m = tu_load_built(b);
    int64_t dims[] = {5, 7}, brow[] = {7}, bone[] = {1};
    nt_tensor *x = test_input(2, dims);
    for (int k = 0; k < 2; k++) {
        nt_tensor *bx = test_input(1, k ? bone : brow);
        int g = -1;
        nt_tensor *ref = run(m, false, NULL, x, bx, 1, NULL);
        nt_tensor *y = run(m, true, NULL, x, bx, 1, &g);
        assert_int_equal(g, 1);
        assert_same_bits(y, ref);
        nt_tensor_free(y);
        nt_tensor_free(ref);
        nt_tensor_free(bx);
    }
    nt_tensor_free(x);
    nt_model_free(m);
}

/* A random float initializer of the given shape. */
static void add_weights(nt_onnx_builder *b, const char *name, int ndim, const int64_t *dims, uint32_t seed)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, ndim, dims, &t), NT_OK);
    for (int64_t i = 0; i < nt_tensor_numel(t); i++) {
        seed = seed * 1664525u + 1013904223u;
        ((float *)t->data)[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * 0.4f;
    }
    assert_int_equal(nt_onnx_builder_add_initializer(b, name, t), NT_OK);
    nt_tensor_free(t);
}

static void add_row(nt_onnx_builder *b, const char *name, int64_t n, float base)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, &n, &t), NT_OK);
    for (int64_t i = 0; i < n; i++)
        ((float *)t->data)[i] = base + 0.01f * (float)i;
    assert_int_equal(nt_onnx_builder_add_initializer(b, name, t), NT_OK);
    nt_tensor_free(t);
}

static nt_onnx_node *conv_node(nt_onnx_builder *b, const char *name, const char *x, const char *w, const char *bias,
                               const char *out, int64_t group, int64_t pad)
{
    const char *in[3] = {x, w, bias}, *o[1] = {out};
    nt_onnx_node *n = nt_onnx_builder_add_node(b, "Conv", name, bias ? 3 : 2, in, 1, o);
    const int64_t pads[4] = {pad, pad, pad, pad};
    nt_onnx_node_attr_ints(n, "pads", 4, pads);
    nt_onnx_node_attr_int(n, "group", group);
    return n;
}

/* Conv epilogues (fuse_conv.c): Conv + bias + residual Add + Relu as one
 * group (the GEMM path applies it per column block), a depthwise 5x5 +
 * Clip, a 1x1 Conv + SiLU; same bits as the nodes, and a tracer on the
 * Conv (an interior member) keeps the group unfused and sees the Conv's
 * own output. */
static void test_conv_epilogue(void **state)
{
    (void)state;
    int64_t dims[] = {2, 8, 13, 11}, wd[] = {8, 8, 3, 3}, bd[] = {8}, dwd[] = {8, 1, 5, 5}, pwd[] = {8, 8, 1, 1};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 4, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 4, dims, NULL);
    add_weights(b, "w", 4, wd, 1);
    add_weights(b, "bias", 1, bd, 2);
    add_weights(b, "dw", 4, dwd, 3);
    add_weights(b, "pw", 4, pwd, 4);
    add_scalar(b, "lo", 0.0f, 0);
    add_scalar(b, "hi", 6.0f, 0);
    conv_node(b, "conv", "x", "w", "bias", "c", 1, 1);
    node(b, "Add", "res", "c", "x", "r");
    node(b, "Relu", "relu", "r", NULL, "h");
    conv_node(b, "dwconv", "h", "dw", "bias", "d", 8, 2);
    const char *ci[3] = {"d", "lo", "hi"}, *co[1] = {"e"};
    assert_non_null(nt_onnx_builder_add_node(b, "Clip", "relu6", 3, ci, 1, co));
    conv_node(b, "pwconv", "e", "pw", NULL, "p", 1, 0);
    node(b, "Sigmoid", "sig", "p", NULL, "s");
    node(b, "Mul", "silu", "p", "s", "y");
    nt_model *m = tu_load_built(b);
    check_model(m, 4, dims, 3, "conv");
    check_model(m, 4, dims, 3, "dwconv");
    check_model(m, 4, dims, 3, "sig");
    nt_model_free(m);
}

static void reduce_mean_last(nt_onnx_builder *b, int opset, const char *name, const char *in, const char *out)
{
    if (opset >= 18) {
        const char *i2[] = {in, "axes"}, *o[] = {out};
        assert_non_null(nt_onnx_builder_add_node(b, "ReduceMean", name, 2, i2, 1, o));
    } else {
        const char *i1[] = {in}, *o[] = {out};
        nt_onnx_node *nd = nt_onnx_builder_add_node(b, "ReduceMean", name, 1, i1, 1, o);
        int64_t ax = -1;
        nt_onnx_node_attr_ints(nd, "axes", 1, &ax);
    }
}

/* LayerNorm as opsets before 17 export it, with axes as an attribute (13)
 * and as an input (18): one row program. */
static void test_layernorm_decomposed(void **state)
{
    (void)state;
    for (int opset = 13; opset <= 18; opset += 5) {
        int64_t dims[] = {3, 7, 40};
        nt_onnx_builder *b = nt_onnx_builder_new(8, opset);
        nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 3, dims, NULL);
        nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 3, dims, NULL);
        int64_t one = 1, axv = -1;
        nt_tensor *axes;
        assert_int_equal(nt_tensor_new(NT_DTYPE_INT64, 1, &one, &axes), NT_OK);
        *(int64_t *)axes->data = axv;
        nt_onnx_builder_add_initializer(b, "axes", axes);
        nt_tensor_free(axes);
        add_scalar(b, "two", 2.0f, 0);
        add_scalar(b, "eps", 1e-5f, 0);
        add_row(b, "gamma", 40, 0.5f);
        add_row(b, "beta", 40, -0.2f);
        reduce_mean_last(b, opset, "mean", "x", "mu");
        node(b, "Sub", "sub", "x", "mu", "d");
        node(b, "Pow", "pow", "d", "two", "d2");
        reduce_mean_last(b, opset, "var", "d2", "v");
        node(b, "Add", "addeps", "v", "eps", "ve");
        node(b, "Sqrt", "sqrt", "ve", NULL, "sd");
        node(b, "Div", "div", "d", "sd", "n");
        node(b, "Mul", "scale", "n", "gamma", "g");
        node(b, "Add", "shift", "g", "beta", "y");
        nt_model *m = tu_load_built(b);
        check_model(m, 3, dims, 1, "sqrt");
        check_model(m, 3, dims, 1, "mean");
        nt_model_free(m);
    }
}

/* RMSNorm as PyTorch exports x * rsqrt(mean(x^2) + eps) * w. */
static void test_rmsnorm(void **state)
{
    (void)state;
    int64_t dims[] = {5, 64};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, dims, NULL);
    add_scalar(b, "two", 2.0f, 0);
    add_scalar(b, "eps", 1e-6f, 0);
    add_scalar(b, "one", 1.0f, 0);
    add_row(b, "w", 64, 0.9f);
    node(b, "Pow", "pow", "x", "two", "x2");
    reduce_mean_last(b, 13, "ms", "x2", "m");
    node(b, "Add", "addeps", "m", "eps", "me");
    node(b, "Sqrt", "sqrt", "me", NULL, "r");
    node(b, "Div", "inv", "one", "r", "ir");
    node(b, "Mul", "norm", "x", "ir", "n");
    node(b, "Mul", "scale", "n", "w", "y");
    nt_model *m = tu_load_built(b);
    check_model(m, 2, dims, 1, "inv");
    nt_model_free(m);
}

/* Attention's scale and mask before a Softmax over the last axis: one row
 * program (Softmax's own row kernel on a row computed in L1). */
static void test_scaled_masked_softmax(void **state)
{
    (void)state;
    int64_t dims[] = {2, 3, 50};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 3, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 3, dims, NULL);
    add_scalar(b, "scale", 0.125f, 0);
    add_row(b, "mask", 50, -3.0f);
    node(b, "Mul", "scale", "x", "scale", "s");
    node(b, "Add", "mask", "s", "mask", "a");
    const char *si[] = {"a"}, *so[] = {"y"};
    nt_onnx_node *sm = nt_onnx_builder_add_node(b, "Softmax", "softmax", 1, si, 1, so);
    nt_onnx_node_attr_int(sm, "axis", -1);
    nt_model *m = tu_load_built(b);
    check_model(m, 3, dims, 1, "mask");
    nt_model_free(m);
}

/* A bias row added before GELU: the chain cannot take the broadcast Add,
 * so the whole of it runs as a row program (rows of >= 64 values). */
static void test_bias_gelu(void **state)
{
    (void)state;
    int64_t dims[] = {6, 130};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, dims, NULL);
    add_row(b, "bias", 130, -0.6f);
    add_scalar(b, "sqrt2", 1.4142135f, 0);
    add_scalar(b, "one", 1.0f, 0);
    add_scalar(b, "half", 0.5f, 0);
    node(b, "Add", "bias", "x", "bias", "h");
    node(b, "Div", "div", "h", "sqrt2", "d");
    node(b, "Erf", "erf", "d", NULL, "e");
    node(b, "Add", "add", "e", "one", "a");
    node(b, "Mul", "mul", "h", "a", "m");
    node(b, "Mul", "mul2", "m", "half", "y");
    nt_model *m = tu_load_built(b);
    check_model(m, 2, dims, 1, "bias");
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    assert_int_equal(s->plan->n_groups, 1);
    assert_int_equal(s->plan->groups[0]->n_members, 6);
    assert_string_equal(s->plan->groups[0]->node.op_type, "FusedRowProgram");
    nt_session_free(s);
    nt_model_free(m);
}

/* MatMul -> scale -> mask -> Softmax -> MatMul (fuse_attn.c): one group run
 * by blocks of query rows; same bits as the nodes at 1 and 2 threads, a
 * traced mask Add keeps it unfused.  Q (the input) is (2, 2, S, 16), Kᵀ
 * (2, 2, 16, T) and V (2, 2, T, Dv) initializers; the mask is a row of T
 * values or a full (S, T) matrix.  With T = 40 the products' kernels
 * (OpenBLAS for Q·Kᵀ) would differ by block, so the run is declined and the
 * nodes run one by one: the same bits again. */
static void attention_model(int64_t S, int64_t T, int64_t Dv, bool full_mask, const char *scale_op)
{
    int64_t qd[] = {2, 2, S, 16}, kd[] = {2, 2, 16, T}, vd[] = {2, 2, T, Dv}, yd[] = {2, 2, S, Dv};
    int64_t md[] = {S, T};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 4, qd, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 4, yd, NULL);
    add_weights(b, "kt", 4, kd, 7);
    add_weights(b, "v", 4, vd, 8);
    if (full_mask)
        add_weights(b, "mask", 2, md, 9);
    else
        add_row(b, "mask", T, -0.5f);
    add_scalar(b, "scale", 4.0f, 0);
    node(b, "MatMul", "qk", "x", "kt", "s");
    node(b, scale_op, "scale", "s", "scale", "d");
    node(b, "Add", "mask", "mask", "d", "a"); /* the scores as the second operand */
    const char *si[] = {"a"}, *so[] = {"p"};
    nt_onnx_node *sm = nt_onnx_builder_add_node(b, "Softmax", "softmax", 1, si, 1, so);
    nt_onnx_node_attr_int(sm, "axis", -1);
    node(b, "MatMul", "pv", "p", "v", "y");
    nt_model *m = tu_load_built(b);
    check_model(m, 4, qd, 1, "mask");
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    assert_int_equal(s->plan->groups[0]->n_members, 5);
    assert_string_equal(s->plan->groups[0]->node.op_type, "FusedAttention");
    nt_session_free(s);
    nt_model_free(m);
}

static void test_attention(void **state)
{
    (void)state;
    attention_model(150, 100, 56, false, "Div");
    attention_model(130, 200, 64, true, "Mul");
    attention_model(20, 40, 64, true, "Div");
}

/* The same with the Transposes PyTorch exports around attention taken into
 * the group: Q (2, S, 2, 16) -> (2, 2, S, 16), K (2, T, 2, 16) -> Kᵀ
 * (2, 2, 16, T), V (2, T, 2, 64) -> (2, 2, T, 64), the output back to
 * (2, S, 2, 64); nine members, operands read and written in place. */
static void test_attention_transposes(void **state)
{
    (void)state;
    const int64_t S = 120, T = 150;
    int64_t xd[] = {2, S, 2, 16}, kd[] = {2, T, 2, 16}, vd[] = {2, T, 2, 64}, yd[] = {2, S, 2, 64};
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 4, xd, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 4, yd, NULL);
    add_weights(b, "k", 4, kd, 11);
    add_weights(b, "v", 4, vd, 12);
    add_row(b, "mask", T, -0.5f);
    add_scalar(b, "scale", 4.0f, 0);
    const int64_t p0213[] = {0, 2, 1, 3}, p0231[] = {0, 2, 3, 1};
    struct { const char *name, *in, *out; const int64_t *perm; } tp[] = {
        {"tq", "x", "q", p0213}, {"tk", "k", "kt", p0231}, {"tv", "v", "vh", p0213}};
    for (int i = 0; i < 3; i++) {
        const char *in[1] = {tp[i].in}, *out[1] = {tp[i].out};
        nt_onnx_node_attr_ints(nt_onnx_builder_add_node(b, "Transpose", tp[i].name, 1, in, 1, out), "perm", 4,
                               tp[i].perm);
    }
    node(b, "MatMul", "qk", "q", "kt", "s");
    node(b, "Div", "scale", "s", "scale", "d");
    node(b, "Add", "mask", "d", "mask", "a");
    const char *si[] = {"a"}, *so[] = {"p"};
    nt_onnx_node *sm = nt_onnx_builder_add_node(b, "Softmax", "softmax", 1, si, 1, so);
    nt_onnx_node_attr_int(sm, "axis", -1);
    node(b, "MatMul", "pv", "p", "vh", "o");
    const char *oi[] = {"o"}, *oo[] = {"y"};
    nt_onnx_node_attr_ints(nt_onnx_builder_add_node(b, "Transpose", "ty", 1, oi, 1, oo), "perm", 4, p0213);
    nt_model *m = tu_load_built(b);
    check_model(m, 4, xd, 1, "tk");
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    assert_int_equal(s->plan->groups[0]->n_members, 9);
    assert_string_equal(s->plan->groups[0]->node.op_type, "FusedAttention");
    nt_session_free(s);
    nt_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gelu_erf),
        cmocka_unit_test(test_silu_cast_gelu_tanh),
        cmocka_unit_test(test_shared_values_block),
        cmocka_unit_test(test_noop_cast_alias),
        cmocka_unit_test(test_runtime_decline),
        cmocka_unit_test(test_conv_epilogue),
        cmocka_unit_test(test_layernorm_decomposed),
        cmocka_unit_test(test_rmsnorm),
        cmocka_unit_test(test_scaled_masked_softmax),
        cmocka_unit_test(test_bias_gelu),
        cmocka_unit_test(test_attention),
        cmocka_unit_test(test_attention_transposes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
