/*
 * test_debug_cond.c — the debugger's condition language (src/debug/dbg_cond)
 * and breakpoint table (src/debug/dbg_break): every statistic on tensors
 * with known NaN/Inf/zero content, comparison operators, precedence of &&
 * over ||, parentheses and '!', op:/node: scopes, undefined statistics,
 * syntax errors with their column, nesting limits, and which breakpoint a
 * node's outputs trigger.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "debug/dbg_break.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static nt_tensor *vec(int n, const float *v)
{
    int64_t dims[1] = {n};
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, dims, &t), NT_OK);
    memcpy(t->data, v, (size_t)n * sizeof(float));
    return t;
}

/* Parses and evaluates text on t as an output of op/node; fails the test on
 * a parse error. */
static bool holds(const char *text, const nt_tensor *t, const char *op, const char *node)
{
    nt_dbg_cond *c;
    nt_status st = nt_dbg_cond_parse(text, &c);
    if (st != NT_OK)
        fail_msg("'%s' did not parse: %s", text, nt_last_error());
    nt_dbg_subject s;
    nt_dbg_subject_init(&s, t, op, node);
    bool r = nt_dbg_cond_eval(c, &s);
    nt_dbg_subject_deinit(&s);
    nt_dbg_cond_free(c);
    return r;
}

/* [nan, -inf, 0, 0, 1, -4, 10, inf]: 1 NaN, 2 Inf, finite {0,0,1,-4,10} */
static const float MIXED[] = {NAN, -INFINITY, 0, 0, 1, -4, 10, INFINITY};

static void test_statistics(void **state)
{
    (void)state;
    nt_tensor *t = vec(8, MIXED);
    assert_true(holds("nan == 1", t, "Log", "log"));
    assert_true(holds("inf == 2", t, "Log", "log"));
    assert_true(holds("pinf == 1 && ninf == 1", t, "Log", "log"));
    assert_true(holds("min == -4", t, "Log", "log"));
    assert_true(holds("max == 10", t, "Log", "log"));
    assert_true(holds("absmax == inf", t, "Log", "log")); /* an Inf is the largest magnitude */
    assert_true(holds("mean == 1.4", t, "Log", "log"));          /* (0+0+1-4+10)/5 */
    assert_true(holds("std > 4.62 && std < 4.64", t, NULL, NULL)); /* population std sqrt(21.44) */
    assert_true(holds("zeros == 0.25", t, NULL, NULL));           /* 2 of 8 elements */
    assert_true(holds("negatives == 0.25", t, NULL, NULL));       /* -inf and -4 */
    assert_true(holds("numel == 8", t, NULL, NULL));
    /* every comparison operator, and '=' as '==' */
    assert_true(holds("max > 9", t, NULL, NULL));
    assert_false(holds("max > 10", t, NULL, NULL));
    assert_true(holds("max >= 10", t, NULL, NULL));
    assert_true(holds("max < 11", t, NULL, NULL));
    assert_true(holds("max <= 10", t, NULL, NULL));
    assert_true(holds("max != 3", t, NULL, NULL));
    assert_true(holds("max = 10", t, NULL, NULL));
    assert_true(holds("max >= 1e1 || max<1e-3", t, NULL, NULL)); /* no spaces needed */
    assert_true(holds("min < -3.5e0", t, NULL, NULL));
    /* the public accessor */
    nt_dbg_subject s;
    bool known;
    nt_dbg_subject_init(&s, t, NULL, NULL);
    assert_true(nt_dbg_subject_stat(&s, "max", &known) == 10.0 && known);
    assert_true(isnan(nt_dbg_subject_stat(&s, "median", &known)) && !known);
    nt_dbg_subject_deinit(&s);
    nt_tensor_free(t);
}

static void test_logic(void **state)
{
    (void)state;
    const float v[] = {1, 2, 3};
    nt_tensor *t = vec(3, v);
    /* a bare statistic means != 0 */
    assert_false(holds("nan", t, NULL, NULL));
    assert_true(holds("max", t, NULL, NULL));
    assert_true(holds("!nan", t, NULL, NULL));
    assert_true(holds("! (nan || inf)", t, NULL, NULL));
    /* && binds tighter than ||: true || (false && false) */
    assert_true(holds("max == 3 || nan > 0 && inf > 0", t, NULL, NULL));
    assert_false(holds("(max == 3 || nan > 0) && inf > 0", t, NULL, NULL));
    assert_false(holds("nan > 0 && inf > 0 || min > 5", t, NULL, NULL));
    assert_true(holds("((((max == 3))))", t, NULL, NULL));
    assert_true(holds("!!max", t, NULL, NULL));
    /* scopes */
    assert_true(holds("op:Relu && max == 3", t, "Relu", "r1"));
    assert_false(holds("op:Relu && max == 3", t, "Conv", "c1"));
    assert_true(holds("op:Relu", t, "Relu", "r1"));
    assert_true(holds("node:/a/b.c && min == 1", t, "Relu", "/a/b.c"));
    assert_false(holds("node:/a/b.c", t, "Relu", "/a/b"));
    assert_true(holds("!op:Softmax && max > 2", t, "Relu", "r1"));
    assert_false(holds("op:Relu", t, NULL, NULL)); /* a value no node produced */
    assert_true(holds("(op:Relu)||(op:Conv)", t, "Conv", "x"));
    nt_tensor_free(t);
}

static void test_undefined_and_other_dtypes(void **state)
{
    (void)state;
    const float allnan[] = {NAN, NAN};
    nt_tensor *t = vec(2, allnan);
    /* no finite values: min/max/mean/std undefined, every comparison false */
    assert_false(holds("min < 0", t, NULL, NULL));
    assert_false(holds("min >= 0", t, NULL, NULL));
    assert_false(holds("max != 0", t, NULL, NULL));
    assert_true(holds("!(max > 0)", t, NULL, NULL));
    assert_true(holds("nan == 2 && zeros == 0", t, NULL, NULL));
    nt_tensor_free(t);

    /* integers and bools are tested by value */
    int64_t dims[1] = {4};
    nt_tensor *i;
    assert_int_equal(nt_tensor_new(NT_DTYPE_INT64, 1, dims, &i), NT_OK);
    int64_t *iv = i->data;
    iv[0] = -5, iv[1] = 0, iv[2] = 7, iv[3] = 0;
    assert_true(holds("min == -5 && max == 7 && zeros == 0.5 && nan == 0", i, NULL, NULL));
    nt_tensor_free(i);

    /* an empty tensor: numel 0, nothing else defined */
    int64_t zero[1] = {0};
    nt_tensor *e;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, zero, &e), NT_OK);
    assert_true(holds("numel == 0", e, NULL, NULL));
    assert_false(holds("nan == 0", e, NULL, NULL));
    nt_tensor_free(e);
}

static void expect_error(const char *text, const char *needle)
{
    nt_dbg_cond *c = (nt_dbg_cond *)0x1;
    assert_int_equal(nt_dbg_cond_parse(text, &c), NT_ERR_INVALID_ARG);
    assert_null(c);
    if (!strstr(nt_last_error(), needle))
        fail_msg("error for '%s' was '%s', expected to contain '%s'", text, nt_last_error(), needle);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_error("", "empty condition");
    expect_error("   ", "empty condition");
    expect_error("max >", "expected a number at the end");
    expect_error("max > abc", "expected a number at column 7");
    expect_error("max > 10x", "expected a number");
    expect_error("median > 1", "unknown statistic");
    expect_error("max > 1 &&", "expected a statistic");
    expect_error("max > 1 & nan", "expected '&&', '||' or the end at column 9");
    expect_error("(max > 1", "expected ')'");
    expect_error("max > 1)", "expected '&&', '||' or the end");
    expect_error("op:", "expected an op type after 'op:'");
    expect_error("node: && max", "expected a node name");
    expect_error("max 5", "expected '&&', '||' or the end");
    expect_error("&& max", "expected a statistic");
    expect_error("max > 1e999", "expected a number");
    /* nesting is bounded, not a stack overflow */
    char deep[400];
    memset(deep, '(', 200);
    strcpy(deep + 200, "max");
    expect_error(deep, "nested too deeply");
    memset(deep, '!', 300);
    strcpy(deep + 300, "max");
    expect_error(deep, "nested too deeply");
    /* but reasonable nesting is fine */
    nt_dbg_cond *c;
    assert_int_equal(nt_dbg_cond_parse("((((((((((max > 1))))))))))", &c), NT_OK);
    nt_dbg_cond_free(c);
}

static void test_text_and_uses_stats(void **state)
{
    (void)state;
    nt_dbg_cond *c;
    assert_int_equal(nt_dbg_cond_parse("  nan > 0 ||  inf > 0 \t", &c), NT_OK);
    assert_string_equal(nt_dbg_cond_text(c), "nan > 0 ||  inf > 0");
    assert_true(nt_dbg_cond_uses_stats(c));
    nt_dbg_cond_free(c);
    assert_int_equal(nt_dbg_cond_parse("op:Relu || node:x", &c), NT_OK);
    assert_false(nt_dbg_cond_uses_stats(c));
    nt_dbg_cond_free(c);
    nt_dbg_cond_free(NULL);
}

/* A node view over given outputs, as the session hands to tracers. */
static nt_node_view view_of(const char *name, const char *op, int n, const char *const *names, nt_tensor *const *outs)
{
    nt_node_view v;
    memset(&v, 0, sizeof v);
    v.name = name;
    v.op_type = op;
    v.n_outputs = n;
    v.output_names = names;
    v.outputs = outs;
    return v;
}

static void test_breakpoints(void **state)
{
    (void)state;
    nt_dbg_bps b;
    nt_dbg_bps_init(&b);
    int id;
    nt_dbg_cond *c;
    assert_int_equal(nt_dbg_bps_add(&b, NT_DBG_BP_NODE, false, "log", NULL, &id), NT_OK);
    assert_int_equal(id, 1);
    assert_int_equal(nt_dbg_bps_add(&b, NT_DBG_BP_OP, true, "Relu", NULL, &id), NT_OK);
    assert_int_equal(id, 2);
    assert_int_equal(nt_dbg_cond_parse("nan > 0", &c), NT_OK);
    assert_int_equal(nt_dbg_bps_add(&b, NT_DBG_BP_COND, false, NULL, c, &id), NT_OK);
    assert_int_equal(nt_dbg_cond_parse("max > 5", &c), NT_OK);
    assert_int_equal(nt_dbg_bps_add(&b, NT_DBG_BP_WATCH, false, "w", c, &id), NT_OK);
    assert_int_equal(id, 4);

    /* before a node: by name or op type, lowest id first */
    assert_int_equal(nt_dbg_bps_match_before(&b, "log", "Log")->id, 1);
    assert_int_equal(nt_dbg_bps_match_before(&b, "r", "Relu")->id, 2);
    assert_null(nt_dbg_bps_match_before(&b, "c", "Conv"));
    nt_dbg_bps_find(&b, 1)->enabled = false;
    assert_null(nt_dbg_bps_match_before(&b, "log", "Log"));
    nt_dbg_bps_find(&b, 1)->enabled = true;

    /* after a node: the condition on any output, the watch only on its value */
    const float clean[] = {1, 2}, bad[] = {1, NAN}, big[] = {1, 9};
    nt_tensor *tc = vec(2, clean), *tb = vec(2, bad), *tg = vec(2, big);
    const char *names[] = {"a", "w"};
    nt_tensor *outs[2] = {tc, tb};
    int k;
    nt_node_view v = view_of("n", "Split", 2, names, outs);
    nt_dbg_bp *hit = nt_dbg_bps_match_after(&b, &v, &k);
    assert_non_null(hit);
    assert_int_equal(hit->id, 3);
    assert_int_equal(k, 1);
    outs[1] = tg; /* w = [1, 9]: watch 4 */
    hit = nt_dbg_bps_match_after(&b, &v, &k);
    assert_non_null(hit);
    assert_int_equal(hit->id, 4);
    assert_int_equal(k, 1);
    outs[0] = tg, outs[1] = tc; /* 'a' is big but is not watched */
    assert_null(nt_dbg_bps_match_after(&b, &v, &k));
    assert_int_equal(k, -1);
    assert_int_equal(nt_dbg_bps_match_value(&b, "w", tg)->id, 4);
    assert_null(nt_dbg_bps_match_value(&b, "a", tg));

    /* descriptions and the table */
    nt_buf s;
    nt_buf_init(&s);
    nt_dbg_bp_describe(nt_dbg_bps_find(&b, 2), &s);
    nt_buf_putc(&s, '|');
    nt_dbg_bp_describe(nt_dbg_bps_find(&b, 3), &s);
    nt_buf_putc(&s, '|');
    nt_dbg_bp_describe(nt_dbg_bps_find(&b, 4), &s);
    nt_buf_putc(&s, '\0');
    assert_string_equal(s.data, "Temporary breakpoint 2|Condition 3 (nan > 0)|Watch 4 (w: max > 5)");
    s.len = 0;
    nt_dbg_bps_format(&b, &s);
    nt_buf_putc(&s, '\0');
    assert_non_null(strstr(s.data, "1    break      no    0      node 'log'\n"));
    assert_non_null(strstr(s.data, "2    break      yes   0      op:Relu\n"));
    assert_non_null(strstr(s.data, "3    condition  no    0      if nan > 0\n"));
    assert_non_null(strstr(s.data, "4    watch      no    0      w: max > 5\n"));

    /* deleting: ids are not reused */
    assert_int_equal(nt_dbg_bps_delete(&b, 2), NT_OK);
    assert_int_equal(nt_dbg_bps_delete(&b, 2), NT_ERR_NOT_FOUND);
    assert_non_null(strstr(nt_last_error(), "no breakpoint number 2"));
    assert_int_equal(nt_dbg_bps_add(&b, NT_DBG_BP_OP, false, "Relu", NULL, &id), NT_OK);
    assert_int_equal(id, 5);
    nt_dbg_bps_clear(&b);
    s.len = 0;
    nt_dbg_bps_format(&b, &s);
    nt_buf_putc(&s, '\0');
    assert_string_equal(s.data, "No breakpoints or watchpoints.\n");
    nt_buf_deinit(&s);
    nt_dbg_bps_deinit(&b);
    nt_tensor_free(tc);
    nt_tensor_free(tb);
    nt_tensor_free(tg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_statistics),    cmocka_unit_test(test_logic),
        cmocka_unit_test(test_undefined_and_other_dtypes), cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_text_and_uses_stats), cmocka_unit_test(test_breakpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
