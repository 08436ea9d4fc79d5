/*
 * test_strmap.c — core's string map: many keys found again after growing,
 * the first value winning, keys with NUL bytes compared by length, tags
 * telling equal strings apart, absent keys, and the memory limit turning an
 * absurd reservation into NT_ERR_NOMEM instead of a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/strmap.h"

#include <stdio.h>
#include <string.h>

static void test_many_keys_survive_growth(void **state)
{
    static char names[20000][16];
    nt_strmap m;
    nt_strmap_init(&m);
    for (int i = 0; i < 20000; i++) {
        snprintf(names[i], sizeof names[i], "node_%d", i);
        bool added = false;
        assert_int_equal(nt_strmap_put(&m, names[i], i, &added), NT_OK);
        assert_true(added);
    }
    assert_int_equal(m.n, 20000);
    assert_true(m.cap >= 2 * m.n);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(nt_strmap_get(&m, names[i]), i);
    assert_int_equal(nt_strmap_get(&m, "node_20000"), -1);
    assert_int_equal(nt_strmap_get(&m, ""), -1);
    size_t pos = 0, seen = 0;
    while (nt_strmap_next(&m, &pos))
        seen++;
    assert_int_equal(seen, 20000);
    nt_strmap_deinit(&m);
    assert_null(m.slots);
    assert_int_equal(nt_strmap_get(&m, "node_1"), -1);   /* usable after deinit */
}

static void test_first_value_wins(void **state)
{
    nt_strmap m;
    nt_strmap_init(&m);
    bool added = true;
    assert_int_equal(nt_strmap_put(&m, "x", 7, &added), NT_OK);
    assert_true(added);
    char copy[] = "x";   /* equal by content, not by pointer */
    assert_int_equal(nt_strmap_put(&m, copy, 9, &added), NT_OK);
    assert_false(added);
    assert_int_equal(nt_strmap_get(&m, "x"), 7);
    assert_int_equal(m.n, 1);
    nt_strmap_deinit(&m);
}

static void test_lengths_and_tags(void **state)
{
    static const char a[] = "ab\0cd", b[] = "ab\0ce";
    nt_strmap m;
    nt_strmap_init(&m);
    assert_int_equal(nt_strmap_putn(&m, a, 5, 0, 1, NULL), NT_OK);
    assert_int_equal(nt_strmap_putn(&m, b, 5, 0, 2, NULL), NT_OK);
    assert_int_equal(nt_strmap_putn(&m, a, 2, 0, 3, NULL), NT_OK);
    assert_int_equal(nt_strmap_putn(&m, a, 2, 4, 4, NULL), NT_OK);
    assert_int_equal(nt_strmap_getn(&m, a, 5, 0), 1);
    assert_int_equal(nt_strmap_getn(&m, b, 5, 0), 2);
    assert_int_equal(nt_strmap_get(&m, "ab"), 3);
    assert_int_equal(nt_strmap_getn(&m, "ab", 2, 4), 4);
    assert_int_equal(nt_strmap_getn(&m, "ab", 2, 5), -1);
    assert_int_equal(m.n, 4);
    nt_strmap_deinit(&m);
}

static void test_absurd_reservation_fails_cleanly(void **state)
{
    nt_strmap m;
    nt_strmap_init(&m);
    assert_int_equal(nt_strmap_reserve(&m, SIZE_MAX / 8), NT_ERR_NOMEM);
    assert_null(m.slots);
    assert_int_equal(m.cap, 0);
    assert_int_equal(nt_strmap_put(&m, "still", 1, NULL), NT_OK);
    assert_int_equal(nt_strmap_get(&m, "still"), 1);
    nt_strmap_deinit(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_keys_survive_growth),
        cmocka_unit_test(test_first_value_wins),
        cmocka_unit_test(test_lengths_and_tags),
        cmocka_unit_test(test_absurd_reservation_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
