/*
 * test_ops_strings.c — STRING tensors and their ops (src/ops/strings.c):
 * deep copies of string tensors, StringSplit without a delimiter and with
 * maxsplit (Python's str.split rules, padding, counts), StringNormalizer's
 * case-insensitive stopwords, RegexFullMatch's RE2-to-POSIX translation
 * (\d, \w inside brackets, lazy quantifiers, full-match anchoring) and its
 * clear decline of constructs POSIX lacks, and Equal with broadcasting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "op_harness.h"

static nt_tensor *mks(int ndim, const int64_t *dims, const char *const *v)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_STRING, ndim, dims, &t), NT_OK);
    assert_int_equal(nt_tensor_set_strings(t, nt_tensor_numel(t), v, NULL), NT_OK);
    return t;
}

static const char *str_at(const nt_tensor *t, int64_t i) { return ((char *const *)t->data)[i]; }

static void test_clone_is_deep(void **state)
{
    (void)state;
    const char *v[] = {"alpha", "", "gamma"};
    int64_t d = 3;
    nt_tensor *t = mks(1, &d, v), *c;
    assert_int_equal(nt_tensor_clone(t, &c), NT_OK);
    ((char **)t->data)[0][0] = 'X';
    nt_tensor_free(t);
    assert_string_equal(str_at(c, 0), "alpha");
    assert_string_equal(str_at(c, 1), "");
    assert_string_equal(str_at(c, 2), "gamma");
    nt_tensor_free(c);
    nt_tensor *e;
    assert_int_equal(nt_tensor_new(NT_DTYPE_STRING, 1, &d, &e), NT_OK);
    assert_string_equal(str_at(e, 2), "");   /* new string tensors hold empty strings */
    nt_tensor_free(e);
}

static void test_split(void **state)
{
    (void)state;
    const char *v[] = {"  a bb   c ", "x"};
    int64_t d = 2;
    nt_tensor *in[1] = {mks(1, &d, v)}, *out[2];
    tnode t;
    tn_init(&t, "StringSplit");
    a_int(&t, "maxsplit", 1);
    assert_int_equal(oh_run(&t, 20, 1, in, 2, out, NULL, NULL), NT_OK);
    assert_int_equal(out[0]->ndim, 2);
    assert_int_equal(out[0]->dims[1], 2);
    assert_string_equal(str_at(out[0], 0), "a");
    assert_string_equal(str_at(out[0], 1), "bb   c");   /* the rest, trailing space dropped */
    assert_string_equal(str_at(out[0], 2), "x");
    assert_string_equal(str_at(out[0], 3), "");        /* padding */
    assert_int_equal(((int64_t *)out[1]->data)[0], 2);
    assert_int_equal(((int64_t *)out[1]->data)[1], 1);
    nt_tensor_free(out[0]);
    nt_tensor_free(out[1]);
    /* with a delimiter, empty pieces are kept */
    tn_init(&t, "StringSplit");
    a_str(&t, "delimiter", ",");
    const char *w[] = {",a,,b", ""};
    nt_tensor_free(in[0]);
    in[0] = mks(1, &d, w);
    assert_int_equal(oh_run(&t, 20, 1, in, 2, out, NULL, NULL), NT_OK);
    assert_int_equal(out[0]->dims[1], 4);
    assert_string_equal(str_at(out[0], 0), "");
    assert_string_equal(str_at(out[0], 3), "b");
    assert_int_equal(((int64_t *)out[1]->data)[1], 1);   /* "".split(",") is [""] */
    nt_tensor_free(out[0]);
    nt_tensor_free(out[1]);
    nt_tensor_free(in[0]);
}

static void test_normalizer(void **state)
{
    (void)state;
    const char *v[] = {"Monday", "tuesday", "MONDAY", "wed"};
    const char *stop[] = {"monday"};
    int64_t d[2] = {1, 4};
    nt_tensor *in[1] = {mks(2, d, v)}, *out[1];
    tnode t;
    tn_init(&t, "StringNormalizer");
    a_str(&t, "case_change_action", "UPPER");
    a_strs(&t, "stopwords", 1, stop);
    assert_int_equal(oh_run(&t, 10, 1, in, 1, out, NULL, NULL), NT_OK);
    assert_int_equal(out[0]->ndim, 2);
    assert_int_equal(out[0]->dims[1], 2);
    assert_string_equal(str_at(out[0], 0), "TUESDAY");
    assert_string_equal(str_at(out[0], 1), "WED");
    nt_tensor_free(out[0]);
    nt_tensor_free(in[0]);
}

static void test_regex(void **state)
{
    (void)state;
    const char *v[] = {"ab-12", "ab_12", "ab-1x", "xab-12"};
    int64_t d = 4;
    nt_tensor *in[1] = {mks(1, &d, v)}, *out[1];
    tnode t;
    tn_init(&t, "RegexFullMatch");
    a_str(&t, "pattern", "[\\w]+?\\-\\d{1,3}");
    assert_int_equal(oh_run(&t, 20, 1, in, 1, out, NULL, NULL), NT_OK);
    const uint8_t want[4] = {1, 0, 0, 1};
    assert_memory_equal(out[0]->data, want, 4);
    nt_tensor_free(out[0]);
    tn_init(&t, "RegexFullMatch");
    a_str(&t, "pattern", "(?i)ab");
    assert_int_equal(oh_run(&t, 20, 1, in, 1, out, NULL, NULL), NT_ERR_UNSUPPORTED);
    assert_non_null(strstr(nt_last_error(), "(?...)"));
    nt_tensor_free(in[0]);
}

static void test_equal_broadcast(void **state)
{
    (void)state;
    const char *a[] = {"x", "y", "x", "z"}, *b[] = {"x", "z"};
    int64_t da[2] = {2, 2}, db = 2;
    nt_tensor *in[2] = {mks(2, da, a), mks(1, &db, b)}, *out[1];
    tnode t;
    tn_init(&t, "Equal");
    assert_int_equal(oh_run(&t, 19, 2, in, 1, out, NULL, NULL), NT_OK);
    assert_int_equal(out[0]->dtype, NT_DTYPE_BOOL);
    const uint8_t want[4] = {1, 0, 1, 1};
    assert_memory_equal(out[0]->data, want, 4);
    nt_tensor_free(out[0]);
    nt_tensor_free(in[0]);
    nt_tensor_free(in[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clone_is_deep),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_normalizer),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_equal_broadcast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
