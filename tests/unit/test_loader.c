/*
 * test_loader.c — the ONNX model loader, on models built here byte by byte
 * with the wire encoder (pbw.h): values and their kinds, symbolic shapes,
 * zero-copy initializers, IR3-style initializers listed as inputs, every
 * attribute type, subgraphs with outer-scope capture two levels deep,
 * external data (and escaping locations refused), error messages that name
 * the file, node and attribute, truncation at every offset, and the whole
 * ONNX node-test corpus (models and .pb tensors) when it is present.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/ir.h"
#include "onnx/onnx_tensor.h"
#include "onnx/pbw.h"

/* ---------------------------------------------------------------- model building */

/* ValueInfoProto as field `field`: tensor type with dims (-1 + name = symbolic,
 * -1 without name = unknown); ndim -1 writes no shape. */
static void put_value(nt_buf *b, uint32_t field, const char *name, int dtype, int ndim, const int64_t *dims,
                      const char *const *names)
{
    size_t vi = nt_pbw_begin(b, field);
    nt_pbw_string(b, 1, name);
    size_t ty = nt_pbw_begin(b, 2);
    size_t tt = nt_pbw_begin(b, 1);
    nt_pbw_uint(b, 1, (uint64_t)dtype);
    if (ndim >= 0) {
        size_t sh = nt_pbw_begin(b, 2);
        for (int i = 0; i < ndim; i++) {
            size_t d = nt_pbw_begin(b, 1);
            if (dims[i] >= 0)
                nt_pbw_uint(b, 1, (uint64_t)dims[i]);
            else if (names && names[i])
                nt_pbw_string(b, 2, names[i]);
            nt_pbw_end(b, d);
        }
        nt_pbw_end(b, sh);
    }
    nt_pbw_end(b, tt);
    nt_pbw_end(b, ty);
    nt_pbw_end(b, vi);
}

static void put_raw_tensor(nt_buf *b, uint32_t field, const char *name, int dtype, int ndim,
                           const int64_t *dims, const void *data, size_t n)
{
    size_t t = nt_pbw_begin(b, field);
    for (int i = 0; i < ndim; i++)
        nt_pbw_uint(b, 1, (uint64_t)dims[i]);
    nt_pbw_uint(b, 2, (uint64_t)dtype);
    nt_pbw_string(b, 8, name);
    nt_pbw_bytes(b, 9, data, n);
    nt_pbw_end(b, t);
}

/* Starts a NodeProto; attributes may follow; close with nt_pbw_end. */
static size_t begin_node(nt_buf *b, const char *op, const char *name, int n_in, const char *const *in,
                         int n_out, const char *const *out)
{
    size_t n = nt_pbw_begin(b, 1);
    for (int i = 0; i < n_in; i++)
        nt_pbw_string(b, 1, in[i]);
    for (int i = 0; i < n_out; i++)
        nt_pbw_string(b, 2, out[i]);
    if (name)
        nt_pbw_string(b, 3, name);
    nt_pbw_string(b, 4, op);
    return n;
}

static void put_opset(nt_buf *b, const char *domain, int64_t v)
{
    size_t o = nt_pbw_begin(b, 8);
    nt_pbw_string(b, 1, domain);
    nt_pbw_uint(b, 2, (uint64_t)v);
    nt_pbw_end(b, o);
}

/* ModelProto header; returns the graph's mark (close with finish_model). */
static size_t begin_model(nt_buf *b, int64_t ir)
{
    nt_buf_init(b);
    nt_pbw_uint(b, 1, (uint64_t)ir);
    nt_pbw_string(b, 2, "test");
    nt_pbw_string(b, 3, "0.1");
    put_opset(b, "", 13);
    put_opset(b, "com.example", 2);
    size_t g = nt_pbw_begin(b, 7);
    nt_pbw_string(b, 2, "main");
    return g;
}

static void finish_model(nt_buf *b, size_t g)
{
    nt_pbw_end(b, g);
    assert_false(b->failed);
}

static nt_model *load_ok(const nt_buf *b)
{
    nt_model *m = NULL;
    nt_status s = nt_model_load_buffer(b->data, b->len, "t.onnx", &m);
    if (s != NT_OK)
        fail_msg("load failed: %s", nt_last_error());
    return m;
}

static void load_fails(const nt_buf *b, nt_status want, const char *needle)
{
    nt_model *m = NULL;
    nt_status s = nt_model_load_buffer(b->data, b->len, "t.onnx", &m);
    assert_null(m);
    if (s != want || (needle && !strstr(nt_last_error(), needle)))
        fail_msg("expected status %d with '%s', got %d: %s", want, needle ? needle : "", s, nt_last_error());
    assert_non_null(strstr(nt_last_error(), "t.onnx"));
}

static int find(const nt_graph *g, const char *name)
{
    int i = nt_graph_find_value(g, name);
    if (i < 0)
        fail_msg("value '%s' missing", name);
    return i;
}

/* ---------------------------------------------------------------- tests */

/* X[N,3] @ W[3,2] (+ omitted optional input) -> Y; an unnamed Relu; a node
 * in domain "ai.onnx". */
static void build_basic(nt_buf *b, int64_t ir, bool inits_as_inputs)
{
    size_t g = begin_model(b, ir);
    static const float w[6] = {1, 2, 3, 4, 5, 6};
    int64_t wd[2] = {3, 2};
    int64_t xd[2] = {-1, 3};
    const char *xn[2] = {"N", NULL};
    const char *in1[] = {"X", "W", ""}, *out1[] = {"H"};
    size_t n = begin_node(b, "MatMul", "mm", 3, in1, 1, out1);
    nt_pbw_end(b, n);
    const char *in2[] = {"H"}, *out2[] = {"Y"};
    n = begin_node(b, "Relu", NULL, 1, in2, 1, out2);
    nt_pbw_string(b, 7, "ai.onnx");
    nt_pbw_end(b, n);
    put_raw_tensor(b, 5, "W", NT_DTYPE_FLOAT, 2, wd, w, sizeof w);
    put_value(b, 11, "X", NT_DTYPE_FLOAT, 2, xd, xn);
    if (inits_as_inputs)
        put_value(b, 11, "W", NT_DTYPE_FLOAT, 2, wd, NULL);
    int64_t yd[2] = {-1, -1};
    const char *yn[2] = {"N", NULL};
    put_value(b, 12, "Y", NT_DTYPE_FLOAT, 2, yd, yn);
    put_value(b, 13, "H", NT_DTYPE_FLOAT, -1, NULL, NULL);
    finish_model(b, g);
}

static void test_basic(void **state)
{
    (void)state;
    nt_buf b;
    build_basic(&b, 8, false);
    nt_model *m = load_ok(&b);
    assert_int_equal(m->ir_version, 8);
    assert_string_equal(m->producer_name, "test");
    assert_int_equal(m->n_opsets, 2);
    assert_int_equal(nt_model_opset(m, ""), 13);
    assert_int_equal(nt_model_opset(m, "com.example"), 2);
    assert_string_equal(nt_model_path(m), "t.onnx");
    const nt_graph *g = m->graph;
    assert_string_equal(g->name, "main");
    assert_null(g->parent);
    assert_int_equal(g->n_nodes, 2);
    assert_int_equal(nt_model_node_count(m), 2);
    assert_string_equal(g->nodes[0].name, "mm");
    assert_string_equal(g->nodes[1].name, "Relu_1");
    assert_string_equal(g->nodes[1].domain, "");
    assert_int_equal(g->nodes[0].n_in, 3);
    assert_int_equal(g->nodes[0].in[2], -1);
    int x = find(g, "X"), w = find(g, "W"), h = find(g, "H"), y = find(g, "Y");
    assert_int_equal(g->n_values, 4);
    assert_int_equal(g->values[x].kind, NT_VALUE_INPUT);
    assert_int_equal(g->values[w].kind, NT_VALUE_INITIALIZER);
    assert_int_equal(g->values[h].kind, NT_VALUE_INTERMEDIATE);
    assert_int_equal(g->values[h].producer, 0);
    assert_int_equal(g->values[y].producer, 1);
    assert_true(g->values[y].is_graph_output);
    assert_int_equal(g->values[h].ndim, -1);
    assert_int_equal(g->values[h].type_kind, NT_TYPE_TENSOR);
    /* Zero copy: the weight points into the buffer. */
    const nt_tensor *t = g->values[w].init;
    assert_non_null(t);
    assert_false(t->flags & NT_TENSOR_OWNS_DATA);
    assert_true((const char *)t->data > b.data && (const char *)t->data < b.data + b.len);
    float w5; /* raw data in a protobuf may sit at any alignment */
    memcpy(&w5, (const char *)t->data + 5 * sizeof(float), sizeof w5);
    assert_true(w5 == 6.0f);
    assert_int_equal(g->n_inits, 1);
    assert_int_equal(g->inits[0], w);
    /* Public accessors. */
    assert_int_equal(nt_model_input_count(m), 1);
    assert_int_equal(nt_model_output_count(m), 1);
    nt_value_info vi;
    assert_int_equal(nt_model_input_info(m, 0, &vi), NT_OK);
    assert_string_equal(vi.name, "X");
    assert_int_equal(vi.dtype, NT_DTYPE_FLOAT);
    assert_int_equal(vi.ndim, 2);
    assert_int_equal(vi.dims[0], -1);
    assert_string_equal(vi.dim_names[0], "N");
    assert_int_equal(vi.dims[1], 3);
    assert_null(vi.dim_names[1]);
    assert_int_equal(nt_model_output_info(m, 0, &vi), NT_OK);
    assert_null(vi.dim_names[1]);
    assert_int_equal(vi.dims[1], -1);
    assert_int_equal(nt_model_input_info(m, 1, &vi), NT_ERR_INVALID_ARG);
    nt_model_free(m);

    /* Every truncation fails cleanly. */
    for (size_t n = 0; n < b.len; n++) {
        nt_model *mm = NULL;
        assert_int_not_equal(nt_model_load_buffer(b.data, n, "t.onnx", &mm), NT_OK);
        assert_null(mm);
        assert_non_null(strstr(nt_last_error(), "t.onnx"));
    }
    nt_buf_deinit(&b);
    nt_model_free(NULL);
}

static void test_ir3_initializers_as_inputs(void **state)
{
    (void)state;
    nt_buf b;
    build_basic(&b, 3, true);
    nt_model *m = load_ok(&b);
    const nt_graph *g = m->graph;
    int w = find(g, "W");
    assert_int_equal(g->n_inputs, 1);
    assert_int_equal(g->inputs[0], find(g, "X"));
    assert_int_equal(g->values[w].kind, NT_VALUE_INITIALIZER);
    assert_true(g->values[w].is_graph_input);
    assert_int_equal(nt_model_input_count(m), 1);
    nt_model_free(m);
    nt_buf_deinit(&b);
}

static void put_attr_header(nt_buf *b, const char *name, int type)
{
    nt_pbw_string(b, 1, name);
    if (type)
        nt_pbw_uint(b, 20, (uint64_t)type);
}

static void test_attributes(void **state)
{
    (void)state;
    nt_buf b;
    size_t g = begin_model(&b, 8);
    put_value(&b, 11, "X", NT_DTYPE_FLOAT, 1, (int64_t[]){4}, NULL);
    const char *in[] = {"X"}, *out[] = {"Y"};
    size_t n = begin_node(&b, "Custom", "c", 1, in, 1, out);
    nt_pbw_string(&b, 7, "com.example");
    size_t a;
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "f", 1); nt_pbw_float(&b, 2, 0.5f); nt_pbw_end(&b, a);
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "i", 2); nt_pbw_uint(&b, 3, (uint64_t)-7); nt_pbw_end(&b, a);
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "s", 3); nt_pbw_string(&b, 4, "hi"); nt_pbw_end(&b, a);
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "t", 4);
    {
        size_t t = nt_pbw_begin(&b, 5);
        nt_pbw_uint(&b, 1, 2);
        nt_pbw_uint(&b, 2, NT_DTYPE_FLOAT);
        nt_pbw_float(&b, 4, 1.25f);
        nt_pbw_float(&b, 4, -2.0f);
        nt_pbw_end(&b, t);
    }
    nt_pbw_end(&b, a);
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "fs", 6);
    {
        float fv[3] = {1, 2, 3};
        nt_pbw_bytes(&b, 7, fv, sizeof fv);   /* packed */
    }
    nt_pbw_end(&b, a);
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "is", 7);
    nt_pbw_uint(&b, 8, 10); nt_pbw_uint(&b, 8, (uint64_t)-20); /* unpacked */
    nt_pbw_end(&b, a);
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "ss", 8);
    nt_pbw_string(&b, 9, "a"); nt_pbw_string(&b, 9, "bc");
    nt_pbw_end(&b, a);
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "ts", 9);
    put_raw_tensor(&b, 10, "t0", NT_DTYPE_INT64, 1, (int64_t[]){1}, (int64_t[]){42}, 8);
    nt_pbw_end(&b, a);
    /* No type field (IR 1 style): inferred from the field in use. */
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "untyped", 0); nt_pbw_uint(&b, 3, 5); nt_pbw_end(&b, a);
    /* Type protos and a sparse tensor are kept as types. */
    a = nt_pbw_begin(&b, 5); put_attr_header(&b, "tp", 13);
    { size_t tp = nt_pbw_begin(&b, 14); nt_pbw_end(&b, tp); }
    nt_pbw_end(&b, a);
    nt_pbw_end(&b, n);
    put_value(&b, 12, "Y", NT_DTYPE_FLOAT, 1, (int64_t[]){4}, NULL);
    finish_model(&b, g);

    nt_model *m = load_ok(&b);
    const nt_node *node = &m->graph->nodes[0];
    assert_string_equal(node->domain, "com.example");
    assert_int_equal(node->n_attr, 10);
    assert_true(nt_node_attr_float(node, "f", 0) == 0.5f);
    assert_int_equal(nt_node_attr_int(node, "i", 0), -7);
    assert_string_equal(nt_node_attr_string(node, "s", ""), "hi");
    const nt_attr *at = nt_node_attr(node, "t");
    assert_int_equal(at->type, NT_ATTR_TENSOR);
    assert_int_equal(at->t->dims[0], 2);
    assert_true(((float *)at->t->data)[1] == -2.0f);
    const float *fs;
    assert_int_equal(nt_node_attr_floats(node, "fs", &fs), 3);
    assert_true(fs[2] == 3.0f);
    const int64_t *is;
    assert_int_equal(nt_node_attr_ints(node, "is", &is), 2);
    assert_int_equal(is[1], -20);
    at = nt_node_attr(node, "ss");
    assert_int_equal(at->n, 2);
    assert_string_equal(at->strings[1], "bc");
    at = nt_node_attr(node, "ts");
    assert_int_equal(at->n, 1);
    int64_t t0;
    memcpy(&t0, at->tensors[0]->data, sizeof t0);
    assert_int_equal(t0, 42);
    at = nt_node_attr(node, "untyped");
    assert_int_equal(at->type, NT_ATTR_INT);
    assert_int_equal(at->i, 5);
    assert_int_equal(nt_node_attr(node, "tp")->type, NT_ATTR_TYPE_PROTO);
    nt_model_free(m);
    nt_buf_deinit(&b);
}

/*
 * top: inputs cond, X; initializer B.  If(cond):
 *   then: Identity node "inner" with a GRAPH attribute whose graph computes
 *         Add(X, B) -> Z (X and B captured two levels up); then outputs Add(X,X).
 *   else: outputs X directly (captured as a graph output).
 */
static void test_subgraphs(void **state)
{
    (void)state;
    nt_buf b;
    size_t g = begin_model(&b, 8);
    put_value(&b, 11, "cond", NT_DTYPE_BOOL, 0, NULL, NULL);
    put_value(&b, 11, "X", NT_DTYPE_FLOAT, 1, (int64_t[]){2}, NULL);
    float bv[2] = {1, 2};
    put_raw_tensor(&b, 5, "B", NT_DTYPE_FLOAT, 1, (int64_t[]){2}, bv, sizeof bv);
    const char *in[] = {"cond"}, *out[] = {"R"};
    size_t n = begin_node(&b, "If", "if0", 1, in, 1, out);
    size_t a = nt_pbw_begin(&b, 5);
    put_attr_header(&b, "then_branch", 5);
    {
        size_t tg = nt_pbw_begin(&b, 6);
        nt_pbw_string(&b, 2, "then");
        const char *iin[] = {}, *iout[] = {"Q"};
        size_t nn = begin_node(&b, "Loopish", "inner", 0, iin, 1, iout);
        size_t aa = nt_pbw_begin(&b, 5);
        put_attr_header(&b, "body", 5);
        {
            size_t ig = nt_pbw_begin(&b, 6);
            const char *ain[] = {"X", "B"}, *aout[] = {"Z"};
            size_t an = begin_node(&b, "Add", NULL, 2, ain, 1, aout);
            nt_pbw_end(&b, an);
            put_value(&b, 12, "Z", NT_DTYPE_FLOAT, 1, (int64_t[]){2}, NULL);
            nt_pbw_end(&b, ig);
        }
        nt_pbw_end(&b, aa);
        nt_pbw_end(&b, nn);
        const char *ain[] = {"X", "X"}, *aout[] = {"T"};
        size_t an = begin_node(&b, "Add", NULL, 2, ain, 1, aout);
        nt_pbw_end(&b, an);
        put_value(&b, 12, "T", NT_DTYPE_FLOAT, 1, (int64_t[]){2}, NULL);
        nt_pbw_end(&b, tg);
    }
    nt_pbw_end(&b, a);
    a = nt_pbw_begin(&b, 5);
    put_attr_header(&b, "else_branch", 5);
    {
        size_t eg = nt_pbw_begin(&b, 6);
        put_value(&b, 12, "X", NT_DTYPE_FLOAT, 1, (int64_t[]){2}, NULL);
        nt_pbw_end(&b, eg);
    }
    nt_pbw_end(&b, a);
    nt_pbw_end(&b, n);
    put_value(&b, 12, "R", NT_DTYPE_FLOAT, 1, (int64_t[]){2}, NULL);
    finish_model(&b, g);

    nt_model *m = load_ok(&b);
    const nt_graph *top = m->graph;
    assert_int_equal(m->n_subgraphs, 3);
    const nt_graph *then_g = nt_node_attr(&top->nodes[0], "then_branch")->g;
    const nt_graph *else_g = nt_node_attr(&top->nodes[0], "else_branch")->g;
    assert_ptr_equal(then_g->parent, top);
    assert_ptr_equal(else_g->parent, top);
    assert_string_equal(then_g->name, "then");
    const nt_graph *inner = nt_node_attr(&then_g->nodes[0], "body")->g;
    assert_ptr_equal(inner->parent, then_g);
    /* inner: X and B are OUTER, resolved in then_g, which captures them from top. */
    int ix = find(inner, "X"), ib = find(inner, "B");
    assert_int_equal(inner->values[ix].kind, NT_VALUE_OUTER);
    assert_int_equal(inner->values[ib].kind, NT_VALUE_OUTER);
    assert_int_equal(inner->n_outer, 2);
    int tx = inner->values[ix].outer_index, tb = inner->values[ib].outer_index;
    assert_string_equal(then_g->values[tx].name, "X");
    assert_string_equal(then_g->values[tb].name, "B");
    assert_int_equal(then_g->values[tx].kind, NT_VALUE_OUTER);
    assert_int_equal(then_g->values[tb].kind, NT_VALUE_OUTER);
    assert_int_equal(then_g->n_outer, 2);
    assert_int_equal(then_g->values[tx].outer_index, find(top, "X"));
    assert_int_equal(then_g->values[tb].outer_index, find(top, "B"));
    assert_int_equal(find(inner, "Z"), inner->outputs[0]);
    assert_int_equal(inner->values[find(inner, "Z")].producer, 0);
    /* else: its output X is captured. */
    int ex = find(else_g, "X");
    assert_int_equal(else_g->values[ex].kind, NT_VALUE_OUTER);
    assert_int_equal(else_g->values[ex].outer_index, find(top, "X"));
    assert_int_equal(top->n_outer, 0);
    nt_model_free(m);
    nt_buf_deinit(&b);
}

static void test_errors(void **state)
{
    (void)state;
    nt_buf b;
    /* An attribute whose ints claim 4e9 bytes. */
    size_t g = begin_model(&b, 8);
    put_value(&b, 11, "X", NT_DTYPE_FLOAT, 1, (int64_t[]){4}, NULL);
    const char *in[] = {"X"}, *out[] = {"Y"};
    size_t n = begin_node(&b, "Relu", "r0", 1, in, 1, out);
    nt_pbw_end(&b, n);
    const char *in2[] = {"Y"}, *out2[] = {"Z"};
    n = begin_node(&b, "Conv", "conv1", 1, in2, 1, out2);
    size_t a = nt_pbw_begin(&b, 5);
    put_attr_header(&b, "pads", 7);
    nt_pbw_tag(&b, 8, NT_PB_LEN);
    nt_pbw_varint(&b, 4000000000u);
    nt_pbw_end(&b, a);
    nt_pbw_end(&b, n);
    put_value(&b, 12, "Z", NT_DTYPE_FLOAT, 1, (int64_t[]){4}, NULL);
    finish_model(&b, g);
    load_fails(&b, NT_ERR_PARSE,
               "t.onnx: graph.node[1] (name 'conv1').attribute[0] 'pads': field 8: length 4000000000 exceeds the 0 bytes left");
    nt_buf_deinit(&b);

    /* No graph; empty; text. */
    nt_buf_init(&b);
    nt_pbw_uint(&b, 1, 8);
    load_fails(&b, NT_ERR_PARSE, "not an ONNX model (no graph)");
    nt_buf_deinit(&b);
    nt_model *m = NULL;
    assert_int_equal(nt_model_load_buffer("", 0, "t.onnx", &m), NT_ERR_PARSE);
    const char *text = "This is not an ONNX model.\n";
    assert_int_equal(nt_model_load_buffer(text, strlen(text), "t.onnx", &m), NT_ERR_PARSE);
    assert_null(m);

    /* A node input nobody defines. */
    g = begin_model(&b, 8);
    const char *in3[] = {"nowhere"}, *out3[] = {"Y"};
    n = begin_node(&b, "Relu", "r", 1, in3, 1, out3);
    nt_pbw_end(&b, n);
    put_value(&b, 12, "Y", NT_DTYPE_FLOAT, 1, (int64_t[]){4}, NULL);
    finish_model(&b, g);
    load_fails(&b, NT_ERR_PARSE, "uses 'nowhere'");
    nt_buf_deinit(&b);

    /* Two producers of one value. */
    g = begin_model(&b, 8);
    put_value(&b, 11, "X", NT_DTYPE_FLOAT, 1, (int64_t[]){4}, NULL);
    n = begin_node(&b, "Relu", "a", 1, in, 1, out);
    nt_pbw_end(&b, n);
    n = begin_node(&b, "Relu", "b", 1, in, 1, out);
    nt_pbw_end(&b, n);
    finish_model(&b, g);
    load_fails(&b, NT_ERR_PARSE, "graph.node[1] (name 'b'): output[0] 'Y' is also an output of node[0]");
    nt_buf_deinit(&b);

    /* Raw data of the wrong size names the initializer. */
    g = begin_model(&b, 8);
    float w[3] = {0};
    put_raw_tensor(&b, 5, "weight", NT_DTYPE_FLOAT, 1, (int64_t[]){4}, w, sizeof w);
    finish_model(&b, g);
    load_fails(&b, NT_ERR_PARSE, "graph.initializer[0] 'weight': raw_data holds 12 bytes, the shape needs 16");
    nt_buf_deinit(&b);

    /* Overflowing dims. */
    g = begin_model(&b, 8);
    put_raw_tensor(&b, 5, "big", NT_DTYPE_FLOAT, 3, (int64_t[]){1ll << 40, 1ll << 40, 1ll << 40}, w, 4);
    finish_model(&b, g);
    load_fails(&b, NT_ERR_PARSE, "overflow");
    nt_buf_deinit(&b);

    /* sparse_initializer is declined. */
    g = begin_model(&b, 8);
    a = nt_pbw_begin(&b, 15);
    nt_pbw_end(&b, a);
    finish_model(&b, g);
    load_fails(&b, NT_ERR_UNSUPPORTED, "sparse_initializer");
    nt_buf_deinit(&b);

    /* Subgraphs nested 70 deep. */
    nt_buf_init(&b);
    nt_pbw_uint(&b, 1, 8);
    size_t marks[256];
    int k = 0;
    marks[k++] = nt_pbw_begin(&b, 7);
    for (int d = 0; d < 70; d++) {
        marks[k++] = begin_node(&b, "If", NULL, 0, NULL, 0, NULL);
        marks[k++] = nt_pbw_begin(&b, 5);
        put_attr_header(&b, "g", 5);
        marks[k++] = nt_pbw_begin(&b, 6);
    }
    while (k > 0)
        nt_pbw_end(&b, marks[--k]);
    load_fails(&b, NT_ERR_PARSE, "nested deeper");
    nt_buf_deinit(&b);
}

/* ---------------------------------------------------------------- external data */

static char tmpdir[256];

static void write_file(const char *dir, const char *name, const void *data, size_t n)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* A model with one external initializer at `loc` (offset 8, 4 floats). */
static void build_external(nt_buf *b, const char *loc, const char *offset)
{
    size_t g = begin_model(b, 8);
    size_t t = nt_pbw_begin(b, 5);
    nt_pbw_uint(b, 1, 4);
    nt_pbw_uint(b, 2, NT_DTYPE_FLOAT);
    nt_pbw_string(b, 8, "ext_w");
    const char *kv[][2] = {{"location", loc}, {"offset", offset}, {"length", "16"}, {"checksum", "x"}};
    for (size_t i = 0; i < 4; i++) {
        size_t e = nt_pbw_begin(b, 13);
        nt_pbw_string(b, 1, kv[i][0]);
        nt_pbw_string(b, 2, kv[i][1]);
        nt_pbw_end(b, e);
    }
    nt_pbw_uint(b, 14, 1);
    nt_pbw_end(b, t);
    const char *in[] = {"ext_w"}, *out[] = {"Y"};
    size_t n = begin_node(b, "Relu", NULL, 1, in, 1, out);
    nt_pbw_end(b, n);
    put_value(b, 12, "Y", NT_DTYPE_FLOAT, 1, (int64_t[]){4}, NULL);
    finish_model(b, g);
}

static nt_status load_external(const char *loc, const char *offset, nt_model **m)
{
    nt_buf b;
    build_external(&b, loc, offset);
    char path[512];
    snprintf(path, sizeof path, "%s/sub/model.onnx", tmpdir);
    assert_int_equal(nt_write_file(path, b.data, b.len), NT_OK);
    nt_buf_deinit(&b);
    return nt_model_load(path, m);
}

static void test_external_data(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nt_test_loader_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    char sub[300];
    snprintf(sub, sizeof sub, "%s/sub", tmpdir);
    assert_int_equal(mkdir(sub, 0755), 0);
    float data[6] = {-1, 1, 2, 3, 4, -1};
    write_file(sub, "weights.bin", data, sizeof data);
    write_file(tmpdir, "outside.bin", data, sizeof data);
    char target[400], link[400];
    snprintf(target, sizeof target, "%s/outside.bin", tmpdir);
    snprintf(link, sizeof link, "%s/escape.bin", sub);
    assert_int_equal(symlink(target, link), 0);

    nt_model *m = NULL;
    assert_int_equal(load_external("weights.bin", "4", &m), NT_OK);
    int v = find(m->graph, "ext_w");
    const nt_tensor *t = m->graph->values[v].init;
    assert_false(t->flags & NT_TENSOR_OWNS_DATA);
    assert_true(((const float *)t->data)[0] == 1.0f && ((const float *)t->data)[3] == 4.0f);
    assert_non_null(m->ext);
    nt_model_free(m);
    /* "./" prefix is fine. */
    assert_int_equal(load_external("./weights.bin", "0", &m), NT_OK);
    nt_model_free(m);

    assert_int_equal(load_external("../outside.bin", "0", &m), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "ext_w"));
    assert_non_null(strstr(nt_last_error(), "model.onnx"));
    assert_int_equal(load_external(target, "0", &m), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "absolute"));
    assert_int_equal(load_external("escape.bin", "0", &m), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "outside the model's folder"));
    assert_int_equal(load_external("weights.bin", "12", &m), NT_ERR_PARSE);   /* past the end */
    assert_int_equal(load_external("weights.bin", "x1", &m), NT_ERR_PARSE);   /* not a number */
    assert_int_equal(load_external("missing.bin", "0", &m), NT_ERR_IO);
    assert_null(m);

    /* From a buffer there is no folder: declined, not crashed. */
    nt_buf b;
    build_external(&b, "weights.bin", "0");
    assert_int_equal(nt_model_load_buffer(b.data, b.len, "buf", &m), NT_ERR_UNSUPPORTED);
    nt_buf_deinit(&b);

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void test_file_errors(void **state)
{
    (void)state;
    nt_model *m = NULL;
    assert_int_equal(nt_model_load("/nonexistent/model.onnx", &m), NT_ERR_IO);
    assert_non_null(strstr(nt_last_error(), "/nonexistent/model.onnx"));
    assert_int_equal(nt_model_load("/tmp", &m), NT_ERR_IO);
    char path[] = "/tmp/nt_test_empty_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nt_model_load(path, &m), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "empty"));
    unlink(path);
    assert_null(m);
}

/* ---------------------------------------------------------------- corpus */

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

static void test_corpus(void **state)
{
    (void)state;
    const char *corpus = getenv("NT_CORPUS");
    if (!corpus)
        corpus = "../shared/onnx-node-tests";
    DIR *d = opendir(corpus);
    if (!d) {
        print_message("skipped: corpus not found at %s\n", corpus);
        skip();
    }
    int models = 0, model_fail = 0, tensors = 0, tensor_fail = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s/model.onnx", corpus, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0)
            continue;
        nt_model *m = NULL;
        models++;
        if (nt_model_load(path, &m) != NT_OK) {
            model_fail++;
            print_message("FAIL %s\n", nt_last_error());
        }
        nt_model_free(m);
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", corpus, e->d_name);
        DIR *cd = opendir(dir);
        struct dirent *ce;
        while (cd && (ce = readdir(cd))) {
            if (strncmp(ce->d_name, "test_data_set_", 14) != 0)
                continue;
            char sdir[1400];
            snprintf(sdir, sizeof sdir, "%s/%s", dir, ce->d_name);
            DIR *sd = opendir(sdir);
            struct dirent *se;
            while (sd && (se = readdir(sd))) {
                if (!has_suffix(se->d_name, ".pb"))
                    continue;
                char tpath[1800];
                snprintf(tpath, sizeof tpath, "%s/%s", sdir, se->d_name);
                nt_tensor *t = NULL;
                char *name = NULL;
                tensors++;
                nt_status s = nt_pb_tensor_load(tpath, &t, &name);
                /* Sequence/optional/map test data are not TensorProtos. */
                if (s != NT_OK) {
                    tensor_fail++;
                    if (tensor_fail <= 20)
                        print_message("pb: %s\n", nt_last_error());
                }
                nt_tensor_free(t);
                free(name);
            }
            if (sd)
                closedir(sd);
        }
        if (cd)
            closedir(cd);
    }
    closedir(d);
    print_message("corpus: %d models loaded, %d failed; %d .pb tensors parsed, %d not TensorProtos or failed\n",
                  models - model_fail, model_fail, tensors - tensor_fail, tensor_fail);
    assert_true(models > 0);
    assert_int_equal(model_fail, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_ir3_initializers_as_inputs),
        cmocka_unit_test(test_attributes),
        cmocka_unit_test(test_subgraphs),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_external_data),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
