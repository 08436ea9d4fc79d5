/*
 * test_writer.c — the ONNX model builder: byte-exact output against the
 * reference serializer for a small model, the structure of a model with
 * every attribute kind, initializers and an If node with two subgraph
 * bodies (walked back with the wire reader, pb.h), and the sticky-error
 * contract (a failed add surfaces, with its message, at save time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "onnx/pb.h"
#include "onnx/writer.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void assert_hex(const nt_buf *b, const char *hex)
{
    char got[1024];
    size_t k = 0;
    for (size_t i = 0; i < b->len && k + 3 < sizeof got; i++)
        k += (size_t)snprintf(got + k, sizeof got - k, "%02x", (uint8_t)b->data[i]);
    got[k] = '\0';
    assert_string_equal(got, hex);
}

/* Expected bytes from onnx 1.12's helper.make_model(...).SerializeToString()
 * for the same model (LeakyRelu with alpha=0.5, symbolic batch dim N). */
static void test_bytes_match_onnx(void **state)
{
    (void)state;
    nt_onnx_builder *b = nt_onnx_builder_new(8, 17);
    assert_non_null(b);
    assert_int_equal(nt_onnx_graph_set_name(nt_onnx_builder_graph(b), "g"), NT_OK);
    const int64_t dims[] = {-1, 2};
    const char *names[] = {"N", NULL};
    const char *in[] = {"X"}, *out[] = {"Y"};
    assert_int_equal(nt_onnx_builder_add_input(b, "X", NT_DTYPE_FLOAT, 2, dims, names), NT_OK);
    assert_int_equal(nt_onnx_builder_add_output(b, "Y", NT_DTYPE_FLOAT, 2, dims, names), NT_OK);
    nt_onnx_node *n = nt_onnx_builder_add_node(b, "LeakyRelu", "lr", 1, in, 1, out);
    assert_non_null(n);
    assert_int_equal(nt_onnx_node_attr_float(n, "alpha", 0.5f), NT_OK);
    nt_buf buf;
    nt_buf_init(&buf);
    assert_int_equal(nt_onnx_builder_encode(b, &buf), NT_OK);
    assert_hex(&buf, "080812076e6e74726163651a05302e312e303a570a260a01581201591a026c7222094c65616b7952656c752a0f0a0561"
                     "6c706861150000003fa001011201675a140a0158120f0a0d080112090a0312014e0a02080262140a0159120f0a0d08"
                     "0112090a0312014e0a02080242040a001011");
    nt_buf_deinit(&buf);
    nt_onnx_builder_free(b);
}

/* ---- a tiny structural decoder over pb.h, enough to check what we wrote */

/* Finds the k-th occurrence of field `num` in a message; false if absent. */
static bool find_field(const uint8_t *data, size_t len, uint32_t num, int k, nt_pb_field *out)
{
    nt_pb c = nt_pb_init(data, len);
    nt_pb_field f;
    while (nt_pb_next(&c, &f) == NT_OK && !f.end)
        if (f.num == num && k-- == 0) {
            *out = f;
            return true;
        }
    return false;
}

static int count_field(const uint8_t *data, size_t len, uint32_t num)
{
    nt_pb c = nt_pb_init(data, len);
    nt_pb_field f;
    int n = 0;
    nt_status s;
    while ((s = nt_pb_next(&c, &f)) == NT_OK && !f.end)
        n += f.num == num;
    assert_int_equal(s, NT_OK); /* the whole message parses */
    return n;
}

static void assert_str_field(const uint8_t *data, size_t len, uint32_t num, int k, const char *want)
{
    nt_pb_field f;
    assert_true(find_field(data, len, num, k, &f));
    assert_int_equal(f.wire, NT_PB_LEN);
    assert_int_equal(f.len, strlen(want));
    assert_memory_equal(f.data, want, f.len);
}

static uint64_t int_field(const uint8_t *data, size_t len, uint32_t num, int k)
{
    nt_pb_field f;
    assert_true(find_field(data, len, num, k, &f));
    uint64_t v;
    assert_int_equal(nt_pb_field_int(&f, &v), NT_OK);
    return v;
}

static nt_pb_field sub(const uint8_t *data, size_t len, uint32_t num, int k)
{
    nt_pb_field f;
    assert_true(find_field(data, len, num, k, &f));
    assert_int_equal(f.wire, NT_PB_LEN);
    return f;
}

/* The attribute of a NodeProto named `name`. */
static nt_pb_field node_attr(const nt_pb_field *node, const char *name)
{
    nt_pb_field a;
    for (int k = 0; find_field(node->data, node->len, 5, k, &a); k++) {
        nt_pb_field nm = sub(a.data, a.len, 1, 0);
        if (nm.len == strlen(name) && memcmp(nm.data, name, nm.len) == 0)
            return a;
    }
    fail_msg("attribute %s not found", name);
    return a;
}

static void test_structure(void **state)
{
    (void)state;
    nt_onnx_builder *b = nt_onnx_builder_new(9, 18);
    assert_non_null(b);
    assert_int_equal(nt_onnx_builder_add_opset(b, "com.microsoft", 1), NT_OK);
    assert_int_equal(nt_onnx_builder_add_opset(b, "ai.onnx", 17), NT_OK); /* replaces 18 */
    assert_int_equal(nt_onnx_builder_set_producer(b, "test", "9"), NT_OK);

    const int64_t xd[] = {-1, 3, -1};
    const char *xn[] = {"batch", NULL, NULL};
    assert_int_equal(nt_onnx_builder_add_input(b, "X", NT_DTYPE_FLOAT, 3, xd, xn), NT_OK);
    assert_int_equal(nt_onnx_builder_add_input(b, "R", NT_DTYPE_INT64, -1, NULL, NULL), NT_OK);
    assert_int_equal(nt_onnx_builder_add_output(b, "Y", NT_DTYPE_DOUBLE, 0, NULL, NULL), NT_OK);
    assert_int_equal(nt_onnx_graph_add_value_info(nt_onnx_builder_graph(b), "mid", NT_DTYPE_FLOAT, 1,
                                                  (const int64_t[]){7}, NULL), NT_OK);

    nt_tensor *w;
    const int64_t wd[] = {3, 2};
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 2, wd, &w), NT_OK);
    for (int i = 0; i < 6; i++)
        ((float *)w->data)[i] = (float)i - 2.5f;
    assert_int_equal(nt_onnx_builder_add_initializer(b, "W", w), NT_OK);
    ((float *)w->data)[0] = 99; /* copied: the model keeps -2.5 */
    assert_int_equal(nt_onnx_graph_add_initializer_ref(nt_onnx_builder_graph(b), "Wref", w), NT_OK);

    const char *in[] = {"X", "", "W"}, *out[] = {"mid"};
    nt_onnx_node *n = nt_onnx_builder_add_node(b, "Custom", "c0", 3, in, 1, out);
    assert_non_null(n);
    assert_int_equal(nt_onnx_node_set_domain(n, "com.microsoft"), NT_OK);
    const int64_t ints[] = {1, -2, 3000000000LL};
    const float floats[] = {0.25f, -1.0f};
    const char *strs[] = {"a", "", "ccc"};
    assert_int_equal(nt_onnx_node_attr_int(n, "i", -7), NT_OK);
    assert_int_equal(nt_onnx_node_attr_float(n, "f", 1.5f), NT_OK);
    assert_int_equal(nt_onnx_node_attr_string(n, "s", "hello"), NT_OK);
    assert_int_equal(nt_onnx_node_attr_ints(n, "is", 3, ints), NT_OK);
    assert_int_equal(nt_onnx_node_attr_ints(n, "empty", 0, NULL), NT_OK);
    assert_int_equal(nt_onnx_node_attr_floats(n, "fs", 2, floats), NT_OK);
    assert_int_equal(nt_onnx_node_attr_strings(n, "ss", 3, strs), NT_OK);
    assert_int_equal(nt_onnx_node_attr_tensor(n, "t", w), NT_OK);
    const char *in2[] = {"mid"}, *out2[] = {"Y"};
    assert_non_null(nt_onnx_builder_add_node(b, "Cast", NULL, 1, in2, 1, out2));

    nt_buf buf;
    nt_buf_init(&buf);
    assert_int_equal(nt_onnx_builder_encode(b, &buf), NT_OK);
    const uint8_t *m = (const uint8_t *)buf.data;
    size_t ml = buf.len;
    assert_int_equal(int_field(m, ml, 1, 0), 9);
    assert_str_field(m, ml, 2, 0, "test");
    assert_str_field(m, ml, 3, 0, "9");
    assert_int_equal(count_field(m, ml, 8), 2);
    nt_pb_field op = sub(m, ml, 8, 0);
    assert_str_field(op.data, op.len, 1, 0, "");
    assert_int_equal(int_field(op.data, op.len, 2, 0), 17);
    op = sub(m, ml, 8, 1);
    assert_str_field(op.data, op.len, 1, 0, "com.microsoft");

    nt_pb_field g = sub(m, ml, 7, 0);
    assert_str_field(g.data, g.len, 2, 0, "main_graph");
    assert_int_equal(count_field(g.data, g.len, 1), 2);
    assert_int_equal(count_field(g.data, g.len, 5), 2);
    assert_int_equal(count_field(g.data, g.len, 11), 2);
    assert_int_equal(count_field(g.data, g.len, 12), 1);
    assert_int_equal(count_field(g.data, g.len, 13), 1);

    /* input X: float, dims [batch, 3, ?] */
    nt_pb_field x = sub(g.data, g.len, 11, 0);
    assert_str_field(x.data, x.len, 1, 0, "X");
    nt_pb_field ty = sub(x.data, x.len, 2, 0), tt = sub(ty.data, ty.len, 1, 0);
    assert_int_equal(int_field(tt.data, tt.len, 1, 0), NT_DTYPE_FLOAT);
    nt_pb_field sh = sub(tt.data, tt.len, 2, 0);
    assert_int_equal(count_field(sh.data, sh.len, 1), 3);
    nt_pb_field d0 = sub(sh.data, sh.len, 1, 0), d1 = sub(sh.data, sh.len, 1, 1), d2 = sub(sh.data, sh.len, 1, 2);
    assert_str_field(d0.data, d0.len, 2, 0, "batch");
    assert_int_equal(int_field(d1.data, d1.len, 1, 0), 3);
    assert_int_equal(d2.len, 0); /* unknown: an empty Dimension */
    /* input R: unknown rank = no shape */
    nt_pb_field r = sub(g.data, g.len, 11, 1);
    ty = sub(r.data, r.len, 2, 0);
    tt = sub(ty.data, ty.len, 1, 0);
    assert_int_equal(int_field(tt.data, tt.len, 1, 0), NT_DTYPE_INT64);
    assert_int_equal(count_field(tt.data, tt.len, 2), 0);
    /* output Y: 0-d = an empty shape */
    nt_pb_field y = sub(g.data, g.len, 12, 0);
    ty = sub(y.data, y.len, 2, 0);
    tt = sub(ty.data, ty.len, 1, 0);
    sh = sub(tt.data, tt.len, 2, 0);
    assert_int_equal(sh.len, 0);

    /* initializers: W copied at add time, Wref borrowed (sees the 99) */
    nt_pb_field init = sub(g.data, g.len, 5, 0);
    assert_str_field(init.data, init.len, 8, 0, "W");
    nt_pb_field raw = sub(init.data, init.len, 9, 0);
    assert_int_equal(raw.len, 24);
    float f0;
    memcpy(&f0, raw.data, 4);
    assert_true(f0 == -2.5f);
    init = sub(g.data, g.len, 5, 1);
    assert_str_field(init.data, init.len, 8, 0, "Wref");
    raw = sub(init.data, init.len, 9, 0);
    memcpy(&f0, raw.data, 4);
    assert_true(f0 == 99.0f);

    /* node 0: inputs with an omitted one, domain, every attribute kind */
    nt_pb_field node = sub(g.data, g.len, 1, 0);
    assert_str_field(node.data, node.len, 1, 1, "");
    assert_str_field(node.data, node.len, 3, 0, "c0");
    assert_str_field(node.data, node.len, 4, 0, "Custom");
    assert_str_field(node.data, node.len, 7, 0, "com.microsoft");
    assert_int_equal(count_field(node.data, node.len, 5), 8);
    nt_pb_field a = node_attr(&node, "i");
    assert_int_equal((int64_t)int_field(a.data, a.len, 3, 0), -7);
    assert_int_equal(int_field(a.data, a.len, 20, 0), 2);
    a = node_attr(&node, "f");
    nt_pb_field ff;
    assert_true(find_field(a.data, a.len, 2, 0, &ff));
    float fv;
    assert_int_equal(nt_pb_field_float(&ff, &fv), NT_OK);
    assert_true(fv == 1.5f);
    assert_int_equal(int_field(a.data, a.len, 20, 0), 1);
    a = node_attr(&node, "s");
    assert_str_field(a.data, a.len, 4, 0, "hello");
    assert_int_equal(int_field(a.data, a.len, 20, 0), 3);
    a = node_attr(&node, "is");
    assert_int_equal(count_field(a.data, a.len, 8), 3);
    assert_int_equal((int64_t)int_field(a.data, a.len, 8, 1), -2);
    assert_int_equal((int64_t)int_field(a.data, a.len, 8, 2), 3000000000LL);
    assert_int_equal(int_field(a.data, a.len, 20, 0), 7);
    a = node_attr(&node, "empty");
    assert_int_equal(count_field(a.data, a.len, 8), 0);
    assert_int_equal(int_field(a.data, a.len, 20, 0), 7);
    a = node_attr(&node, "fs");
    assert_int_equal(count_field(a.data, a.len, 7), 2);
    assert_int_equal(int_field(a.data, a.len, 20, 0), 6);
    a = node_attr(&node, "ss");
    assert_str_field(a.data, a.len, 9, 2, "ccc");
    assert_str_field(a.data, a.len, 9, 1, "");
    assert_int_equal(int_field(a.data, a.len, 20, 0), 8);
    a = node_attr(&node, "t");
    nt_pb_field tp = sub(a.data, a.len, 5, 0);
    assert_int_equal(int_field(tp.data, tp.len, 2, 0), NT_DTYPE_FLOAT);
    assert_int_equal(count_field(tp.data, tp.len, 1), 2);
    assert_int_equal(int_field(a.data, a.len, 20, 0), 4);
    /* node 1: no name field, default domain not written */
    node = sub(g.data, g.len, 1, 1);
    assert_int_equal(count_field(node.data, node.len, 3), 0);
    assert_int_equal(count_field(node.data, node.len, 7), 0);

    nt_buf_deinit(&buf);
    nt_tensor_free(w);
    nt_onnx_builder_free(b);
}

/* If with two bodies that read an outer value, nested one level deeper in
 * the else branch (a Loop body inside it). */
static void test_subgraphs(void **state)
{
    (void)state;
    nt_onnx_builder *b = nt_onnx_builder_new(8, 17);
    const int64_t d[] = {2};
    nt_onnx_builder_add_input(b, "cond", NT_DTYPE_BOOL, 0, NULL, NULL);
    nt_onnx_builder_add_input(b, "X", NT_DTYPE_FLOAT, 1, d, NULL);
    nt_onnx_builder_add_output(b, "Y", NT_DTYPE_FLOAT, 1, d, NULL);

    nt_onnx_graph *then_g = nt_onnx_graph_new("then_body");
    nt_onnx_graph *else_g = nt_onnx_graph_new("else_body");
    nt_onnx_graph *inner = nt_onnx_graph_new("inner");
    assert_non_null(then_g);
    const char *x[] = {"X"}, *t_out[] = {"t_y"}, *e_out[] = {"e_y"}, *i_out[] = {"i_y"};
    assert_non_null(nt_onnx_graph_add_node(then_g, "Relu", "then_relu", 1, x, 1, t_out));
    nt_onnx_graph_add_output(then_g, "t_y", NT_DTYPE_FLOAT, 1, d, NULL);
    assert_non_null(nt_onnx_graph_add_node(inner, "Neg", "inner_neg", 1, x, 1, i_out));
    nt_onnx_graph_add_output(inner, "i_y", NT_DTYPE_FLOAT, 1, d, NULL);
    const char *c[] = {"cond"};
    nt_onnx_node *ni = nt_onnx_graph_add_node(else_g, "If", "inner_if", 1, c, 1, e_out);
    assert_int_equal(nt_onnx_node_attr_graph(ni, "then_branch", inner), NT_OK);
    nt_onnx_graph_add_output(else_g, "e_y", NT_DTYPE_FLOAT, 1, d, NULL);

    const char *y[] = {"Y"};
    nt_onnx_node *n = nt_onnx_builder_add_node(b, "If", "top_if", 1, c, 1, y);
    assert_int_equal(nt_onnx_node_attr_graph(n, "then_branch", then_g), NT_OK);
    assert_int_equal(nt_onnx_node_attr_graph(n, "else_branch", else_g), NT_OK);
    /* attaching a graph twice is refused (and does not free it) */
    assert_int_equal(nt_onnx_node_attr_graph(n, "again", then_g), NT_ERR_INVALID_ARG);
    nt_onnx_graph_free(then_g); /* attached: a no-op */

    nt_buf buf;
    nt_buf_init(&buf);
    /* the refused attach is sticky */
    assert_int_equal(nt_onnx_builder_encode(b, &buf), NT_ERR_INVALID_ARG);
    assert_non_null(strstr(nt_last_error(), "already attached"));
    assert_int_equal(buf.len, 0);
    nt_buf_deinit(&buf);
    nt_onnx_builder_free(b);

    /* again without the mistake, and walk the nesting */
    b = nt_onnx_builder_new(8, 17);
    then_g = nt_onnx_graph_new("then_body");
    else_g = nt_onnx_graph_new("else_body");
    nt_onnx_graph_add_node(then_g, "Relu", "then_relu", 1, x, 1, t_out);
    nt_onnx_graph_add_node(else_g, "Neg", "else_neg", 1, x, 1, e_out);
    n = nt_onnx_builder_add_node(b, "If", "top_if", 1, c, 1, y);
    nt_onnx_node_attr_graph(n, "then_branch", then_g);
    nt_onnx_node_attr_graph(n, "else_branch", else_g);
    nt_buf_init(&buf);
    assert_int_equal(nt_onnx_builder_encode(b, &buf), NT_OK);
    nt_pb_field g = sub((const uint8_t *)buf.data, buf.len, 7, 0);
    nt_pb_field node = sub(g.data, g.len, 1, 0);
    nt_pb_field a = node_attr(&node, "else_branch");
    assert_int_equal(int_field(a.data, a.len, 20, 0), 5);
    nt_pb_field body = sub(a.data, a.len, 6, 0);
    assert_str_field(body.data, body.len, 2, 0, "else_body");
    nt_pb_field bn = sub(body.data, body.len, 1, 0);
    assert_str_field(bn.data, bn.len, 4, 0, "Neg");
    nt_buf_deinit(&buf);
    nt_onnx_builder_free(b);

    /* a graph never attached is the caller's to free */
    nt_onnx_graph *lone = nt_onnx_graph_new("lone");
    nt_onnx_graph_add_node(lone, "Relu", NULL, 1, x, 1, t_out);
    nt_onnx_graph_free(lone);
    nt_onnx_graph_free(NULL);
    nt_onnx_builder_free(NULL);
}

static void test_sticky_errors(void **state)
{
    (void)state;
    nt_onnx_builder *b = nt_onnx_builder_new(8, 17);
    const char *x[] = {"X"};
    /* a failed add_node: NULL node, calls on it fail, save reports the first */
    nt_onnx_node *n = nt_onnx_builder_add_node(b, "", "bad", 1, x, 1, x);
    assert_null(n);
    assert_int_equal(nt_onnx_node_attr_int(n, "k", 1), NT_ERR_INVALID_ARG);
    nt_onnx_graph *orphan = nt_onnx_graph_new("orphan");
    assert_int_equal(nt_onnx_node_attr_graph(n, "body", orphan), NT_ERR_INVALID_ARG); /* frees orphan */
    assert_int_equal(nt_onnx_builder_add_input(b, "", NT_DTYPE_FLOAT, 0, NULL, NULL), NT_ERR_INVALID_ARG);
    char path[] = "/tmp/nt_test_writer_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    assert_int_equal(nt_onnx_builder_save(b, path), NT_ERR_INVALID_ARG);
    assert_non_null(strstr(nt_last_error(), "op_type"));
    assert_non_null(strstr(nt_last_error(), path));
    assert_int_not_equal(access(path, F_OK), 0);
    nt_onnx_builder_free(b);

    /* argument checks */
    b = nt_onnx_builder_new(8, 17);
    n = nt_onnx_builder_add_node(b, "Relu", "r", 1, x, 1, x);
    assert_int_equal(nt_onnx_node_attr_int(n, "k", 1), NT_OK);
    assert_int_equal(nt_onnx_node_attr_int(n, "k", 2), NT_ERR_INVALID_ARG);
    assert_non_null(strstr(nt_last_error(), "set twice"));
    nt_onnx_builder_free(b);

    b = nt_onnx_builder_new(8, 17);
    const int64_t bad_dims[] = {3, -5};
    assert_int_equal(nt_onnx_builder_add_input(b, "X", NT_DTYPE_FLOAT, 2, bad_dims, NULL), NT_ERR_INVALID_ARG);
    nt_onnx_builder_free(b);

    b = nt_onnx_builder_new(8, 17);
    assert_int_equal(nt_onnx_builder_add_input(b, "X", NT_DTYPE_FLOAT, 9, NULL, NULL), NT_ERR_INVALID_ARG);
    nt_onnx_builder_free(b);

    b = nt_onnx_builder_new(8, 17);
    nt_tensor s = {.dtype = NT_DTYPE_STRING, .ndim = 0};
    assert_int_equal(nt_onnx_builder_add_initializer(b, "S", &s), NT_ERR_UNSUPPORTED);
    assert_non_null(strstr(nt_last_error(), "initializer S"));
    nt_onnx_builder_free(b);

    b = nt_onnx_builder_new(8, 17);
    assert_int_equal(nt_onnx_builder_add_opset(b, "x", 0), NT_ERR_INVALID_ARG);
    nt_onnx_builder_free(b);

    assert_null(nt_onnx_builder_new(8, 0));
    assert_null(nt_onnx_graph_new(""));
    assert_null(nt_onnx_graph_new(NULL));
}

static void test_save_file(void **state)
{
    (void)state;
    nt_onnx_builder *b = nt_onnx_builder_new(8, 17);
    const char *x[] = {"X"}, *y[] = {"Y"};
    const int64_t d[] = {4};
    nt_onnx_builder_add_input(b, "X", NT_DTYPE_FLOAT, 1, d, NULL);
    nt_onnx_builder_add_output(b, "Y", NT_DTYPE_FLOAT, 1, d, NULL);
    nt_onnx_builder_add_node(b, "Relu", "relu", 1, x, 1, y);
    char path[] = "/tmp/nt_test_writer_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(nt_onnx_builder_save(b, path), NT_OK);
    nt_buf buf;
    nt_buf_init(&buf);
    assert_int_equal(nt_onnx_builder_encode(b, &buf), NT_OK);
    char *data;
    size_t len;
    assert_int_equal(nt_read_file(path, &data, &len), NT_OK);
    assert_int_equal(len, buf.len);
    assert_memory_equal(data, buf.data, len);
    free(data);
    nt_buf_deinit(&buf);
    unlink(path);
    assert_int_equal(nt_onnx_builder_save(b, "/nonexistent-dir/m.onnx"), NT_ERR_IO);
    nt_onnx_builder_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_match_onnx), cmocka_unit_test(test_structure),
        cmocka_unit_test(test_subgraphs),        cmocka_unit_test(test_sticky_errors),
        cmocka_unit_test(test_save_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
