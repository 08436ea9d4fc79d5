/*
 * test_fs.c — core's file-name rules: nt_sanitize_name (characters outside
 * [A-Za-z0-9_.-] become '_', cut to the buffer) and nt_value_file, the one
 * rule `run -o`, the dump tracer and `diff` share ("DIR/STEM.npy", the stem
 * cut at 511 bytes so every writer and reader agrees on long names).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/core.h"

#include <string.h>

static void test_sanitize(void **state)
{
    char out[64];
    nt_sanitize_name("/layer.0/Conv:0 x", out, sizeof out);
    assert_string_equal(out, "_layer.0_Conv_0_x");
    nt_sanitize_name("abcdef", out, 4);
    assert_string_equal(out, "abc");
}

static void test_value_file(void **state)
{
    char out[700];
    assert_ptr_equal(nt_value_file("outdir", "/blocks.1/Add_output_0", out, sizeof out), out);
    assert_string_equal(out, "outdir/_blocks.1_Add_output_0.npy");
    nt_value_file(NULL, "a:b", out, sizeof out);
    assert_string_equal(out, "a_b");
    char longname[800];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    nt_value_file(NULL, longname, out, sizeof out);
    assert_int_equal(strlen(out), 511);
    nt_value_file("d", longname, out, sizeof out);
    assert_int_equal(strlen(out), 2 + 511 + 4);
    assert_string_equal(out + strlen(out) - 4, ".npy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sanitize),
        cmocka_unit_test(test_value_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
