/*
 * test_vec.c — core's growable array: push and pop in order, growth across
 * many reallocations, elements of odd sizes, and the memory limit turning an
 * absurd reservation into NT_ERR_NOMEM instead of a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/vec.h"

#include <stdint.h>
#include <string.h>

static void test_push_pop_order(void **state)
{
    nt_vec v;
    nt_vec_init(&v, sizeof(int));
    for (int i = 0; i < 10000; i++)
        assert_int_equal(nt_vec_push(&v, &i), NT_OK);
    assert_int_equal(v.len, 10000);
    assert_true(v.cap >= v.len);
    assert_int_equal(*(int *)nt_vec_at(&v, 1234), 1234);
    for (int i = 9999; i >= 0; i--) {
        int x = -1;
        assert_true(nt_vec_pop(&v, &x));
        assert_int_equal(x, i);
    }
    assert_false(nt_vec_pop(&v, NULL));
    nt_vec_deinit(&v);
    assert_null(v.data);
    assert_int_equal(v.elem, sizeof(int));   /* reusable after deinit */
}

static void test_odd_element_size(void **state)
{
    struct odd { char c[7]; } e;
    nt_vec v;
    nt_vec_init(&v, sizeof e);
    for (int i = 0; i < 100; i++) {
        memset(e.c, 'a' + i % 26, sizeof e.c);
        assert_int_equal(nt_vec_push(&v, &e), NT_OK);
    }
    assert_int_equal(((struct odd *)nt_vec_at(&v, 27))->c[6], 'b');
    nt_vec_deinit(&v);
}

static void test_absurd_reservation_fails_cleanly(void **state)
{
    nt_vec v;
    nt_vec_init(&v, 1 << 20);
    assert_int_equal(nt_vec_reserve(&v, SIZE_MAX / 4), NT_ERR_NOMEM);
    assert_null(v.data);
    assert_int_equal(v.cap, 0);
    nt_vec_deinit(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_push_pop_order),
        cmocka_unit_test(test_odd_element_size),
        cmocka_unit_test(test_absurd_reservation_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
