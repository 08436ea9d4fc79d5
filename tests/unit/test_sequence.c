/*
 * test_sequence.c — sequence and optional values through the executor:
 * a model that splits a tensor into a sequence, inserts into it, reads its
 * length and concatenates it back runs and gives the exact values; tracers
 * see the sequence as one value described as "sequence<float32>[n]";
 * containers deep-copy and free (an optional holding a sequence, under
 * ASan in CI); a sequence graph input binds and comes back out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "onnx/writer.h"
#include "test_units_common.h"

static nt_tensor *vecf(const float *v, int ndim, const int64_t *dims)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, ndim, dims, &t), NT_OK);
    memcpy(t->data, v, nt_tensor_nbytes(t));
    return t;
}

typedef struct seen {
    int containers;
    char desc[64];
} seen;

static nt_action seen_end(void *u, nt_session *s, const nt_node_view *v)
{
    (void)s;
    seen *k = u;
    for (int i = 0; i < v->n_outputs; i++)
        if (v->outputs[i] && nt_value_is_container(v->outputs[i])) {
            k->containers++;
            nt_tensor_describe(v->outputs[i], k->desc, sizeof k->desc);
        }
    return NT_ACTION_CONTINUE;
}

/* x (2,3) -> SplitToSequence(axis 1) -> 3 items (2,1); insert extra (2,1) at
 * the front; y = ConcatFromSequence(axis 1) (2,4); n = SequenceLength = 4. */
static void test_split_insert_concat(void **state)
{
    (void)state;
    nt_onnx_builder *b = nt_onnx_builder_new(8, 17);
    int64_t xd[2] = {2, 3}, ed[2] = {2, 1}, yd[2] = {2, 4};
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, xd, NULL);
    nt_onnx_builder_add_input(b, "e", NT_DTYPE_FLOAT, 2, ed, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, yd, NULL);
    nt_onnx_builder_add_output(b, "n", NT_DTYPE_INT64, 0, NULL, NULL);
    int64_t zero = 0;
    nt_tensor *pos;
    assert_int_equal(nt_tensor_new(NT_DTYPE_INT64, 0, NULL, &pos), NT_OK);
    memcpy(pos->data, &zero, 8);
    nt_onnx_builder_add_initializer(b, "pos", pos);
    nt_tensor_free(pos);
    const char *i1[] = {"x"}, *o1[] = {"s"}, *i2[] = {"s", "e", "pos"}, *o2[] = {"s2"};
    const char *i3[] = {"s2"}, *o3[] = {"y"}, *o4[] = {"n"};
    nt_onnx_node *sp = nt_onnx_builder_add_node(b, "SplitToSequence", "split", 1, i1, 1, o1);
    nt_onnx_node_attr_int(sp, "axis", 1);
    nt_onnx_builder_add_node(b, "SequenceInsert", "insert", 3, i2, 1, o2);
    nt_onnx_node *cc = nt_onnx_builder_add_node(b, "ConcatFromSequence", "concat", 1, i3, 1, o3);
    nt_onnx_node_attr_int(cc, "axis", 1);
    nt_onnx_builder_add_node(b, "SequenceLength", "len", 1, i3, 1, o4);
    nt_model *m = tu_load_built(b);
    nt_session *s;
    assert_int_equal(nt_session_new(m, NULL, &s), NT_OK);
    seen k = {0};
    nt_tracer tr = {.user = &k, .node_end = seen_end};
    assert_int_equal(nt_session_add_tracer(s, &tr), NT_OK);
    const float xv[6] = {1, 2, 3, 4, 5, 6}, ev[2] = {-1, -2};
    nt_tensor *x = vecf(xv, 2, xd), *e = vecf(ev, 2, ed);
    assert_int_equal(nt_session_set_input(s, "x", x), NT_OK);
    assert_int_equal(nt_session_set_input(s, "e", e), NT_OK);
    assert_int_equal(nt_session_run(s), NT_OK);
    const nt_tensor *y, *n;
    assert_int_equal(nt_session_get_output(s, 0, &y), NT_OK);
    assert_int_equal(nt_session_get_output(s, 1, &n), NT_OK);
    const float want[8] = {-1, 1, 2, 3, -2, 4, 5, 6};
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->dims[1], 4);
    assert_memory_equal(y->data, want, sizeof want);
    assert_int_equal(((const int64_t *)n->data)[0], 4);
    assert_int_equal(k.containers, 2);
    assert_string_equal(k.desc, "sequence<float32>[4]");
    /* a second run frees and rebuilds the sequences */
    assert_int_equal(nt_session_run(s), NT_OK);
    nt_tensor_free(x);
    nt_tensor_free(e);
    nt_session_free(s);
    nt_model_free(m);
}

static void test_nested_copy_free(void **state)
{
    (void)state;
    nt_tensor *seq, *opt, *c;
    assert_int_equal(nt_seq_new(false, NT_DTYPE_FLOAT, &seq), NT_OK);
    for (int i = 0; i < 3; i++) {
        float v = (float)i;
        int64_t d = 1;
        assert_int_equal(nt_seq_append(seq, vecf(&v, 1, &d)), NT_OK);
    }
    assert_int_equal(nt_seq_new(true, NT_DTYPE_FLOAT, &opt), NT_OK);
    assert_int_equal(nt_seq_append(opt, seq), NT_OK);
    /* an optional holds one value */
    nt_tensor *extra;
    assert_int_equal(nt_seq_new(false, NT_DTYPE_FLOAT, &extra), NT_OK);
    assert_int_equal(nt_seq_append(opt, extra), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_tensor_clone(opt, &c), NT_OK);
    nt_tensor_free(opt);
    const nt_seq *q = nt_value_seq(c);
    assert_int_equal(q->n, 1);
    const nt_seq *inner = nt_value_seq(q->items[0]);
    assert_non_null(inner);
    assert_int_equal(inner->n, 3);
    assert_true(((const float *)inner->items[2]->data)[0] == 2.0f);
    assert_int_equal(nt_tensor_nbytes(c), 0);
    nt_tensor_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_insert_concat),
        cmocka_unit_test(test_nested_copy_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
