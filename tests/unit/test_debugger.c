/*
 * test_debugger.c — the debugger as a library, driven by command lines the
 * way `nntrace debug -x` drives it: a breakpoint stops before its node,
 * print shows a value computed so far, next steps one node, what-if `set`
 * changes what follows, continue runs to the end, and a bad command returns
 * an error without output.  (`next` stops after the node it ran.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_units_common.h"
#include "debug/debugger.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    nt_model *m;
    nt_session *s;
    nt_debugger *d;
    FILE *out, *err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->m = tu_log_model();
    const float x[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    f->s = tu_session(f->m, x);
    f->out = tmpfile();
    f->err = tmpfile();
    assert_int_equal(nt_debugger_new(f->m, f->s, f->out, f->err, &f->d), NT_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    nt_debugger_free(f->d);
    nt_session_free(f->s);
    nt_model_free(f->m);
    fclose(f->out);
    fclose(f->err);
    free(f);
    return 0;
}

/* Runs one command and returns what it printed (static buffer). */
static const char *cmd(fixture *f, const char *line, nt_status want)
{
    static char text[8192];
    long start = ftell(f->out);
    bool quit = false;
    assert_int_equal(nt_debugger_exec(f->d, line, &quit), want);
    fflush(f->out);
    long end = ftell(f->out);
    size_t n = (size_t)(end - start);
    if (n >= sizeof text)
        n = sizeof text - 1;
    fseek(f->out, start, SEEK_SET);
    n = fread(text, 1, n, f->out);
    text[n] = '\0';
    fseek(f->out, end, SEEK_SET);
    return text;
}

static void test_break_print_next_continue(void **state)
{
    fixture *f = *state;
    cmd(f, "break log", NT_OK);
    const char *o = cmd(f, "run", NT_OK);
    assert_non_null(strstr(o, "log"));                 /* stopped before log */
    o = cmd(f, "print m", NT_OK);                       /* x * 2 is there */
    assert_non_null(strstr(o, "8"));
    assert_non_null(strstr(o, "2"));
    o = cmd(f, "next", NT_OK);                          /* runs log and stops after it */
    assert_non_null(strstr(o, "after node #1 'log'"));
    o = cmd(f, "print l", NT_OK);
    assert_non_null(strstr(o, "0.693"));                /* log(2) */
    cmd(f, "continue", NT_OK);
    const nt_tensor *y;
    assert_int_equal(nt_session_get_output(f->s, 0, &y), NT_OK);
    assert_float_equal(((const float *)y->data)[3], logf(8.0f), 1e-6);
}

static void test_set_changes_what_follows(void **state)
{
    fixture *f = *state;
    cmd(f, "break relu", NT_OK);
    cmd(f, "run", NT_OK);
    cmd(f, "set l[0] = -5", NT_OK);
    cmd(f, "continue", NT_OK);
    const nt_tensor *y;
    assert_int_equal(nt_session_get_output(f->s, 0, &y), NT_OK);
    assert_float_equal(((const float *)y->data)[0], 0.0f, 0);       /* relu(-5) */
    assert_float_equal(((const float *)y->data)[1], logf(4.0f), 1e-6);
}

static void test_bad_commands_fail_quietly(void **state)
{
    fixture *f = *state;
    const char *o = cmd(f, "frobnicate", NT_ERR_INVALID_ARG);
    assert_string_equal(o, "");
    cmd(f, "break no_such_node", NT_ERR_NOT_FOUND);
    assert_true(strlen(nt_last_error()) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_break_print_next_continue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_changes_what_follows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_commands_fail_quietly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
