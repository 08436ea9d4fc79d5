/*
 * test_ew_math.c — the vectorizable float32 exp, erf and tanh of
 * src/ops/ew_math.h against the double libm: the error bounds the header
 * promises, over a sweep of float bit patterns of both signs (every 251st
 * pattern) plus the special values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "ops/ew_math.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* |got - want| in units of the float spacing at want (denormal results
 * measured against the smallest normal's spacing). */
static double ulp_err(float got, double want)
{
    double w = fabs(want);
    if (w < FLT_MIN)
        w = FLT_MIN;
    int e;
    frexp(w, &e);
    double ulp = ldexp(1.0, e - 24);
    return fabs((double)got - want) / ulp;
}

static float from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static void sweep(float (*fn)(float), double (*ref)(double), double max_ulp, double lo, double hi)
{
    double worst = 0;
    for (uint64_t b = 0; b < 0x100000000ull; b += 251) {
        float x = from_bits((uint32_t)b);
        if (isnan(x) || x < lo || x > hi)
            continue;
        double want = ref(x);
        if (fabs(want) < FLT_MIN || fabs(want) > FLT_MAX)
            continue;
        double e = ulp_err(fn(x), want);
        if (e > worst)
            worst = e;
    }
    assert_true(worst <= max_ulp);
}

static void test_exp(void **state)
{
    (void)state;
    sweep(nt_ew_expf, exp, 1.5, -87.0, 88.5);
    assert_true(isnan(nt_ew_expf(NAN)));
    assert_true(nt_ew_expf(INFINITY) == INFINITY);
    assert_true(nt_ew_expf(-INFINITY) == 0.0f);
    assert_true(nt_ew_expf(100.0f) == INFINITY);
    assert_true(nt_ew_expf(0.0f) == 1.0f);
}

static void test_erf(void **state)
{
    (void)state;
    sweep(nt_ew_erff, erf, 3.0, -INFINITY, INFINITY);
    assert_true(isnan(nt_ew_erff(NAN)));
    assert_true(nt_ew_erff(INFINITY) == 1.0f && nt_ew_erff(-INFINITY) == -1.0f);
    assert_true(nt_ew_erff(0.0f) == 0.0f && signbit(nt_ew_erff(-0.0f)));
}

static void test_tanh(void **state)
{
    (void)state;
    sweep(nt_ew_tanhf, tanh, 2.0, -INFINITY, INFINITY);
    assert_true(isnan(nt_ew_tanhf(NAN)));
    assert_true(nt_ew_tanhf(INFINITY) == 1.0f && nt_ew_tanhf(-INFINITY) == -1.0f);
    assert_true(nt_ew_tanhf(0.0f) == 0.0f && signbit(nt_ew_tanhf(-0.0f)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp),
        cmocka_unit_test(test_erf),
        cmocka_unit_test(test_tanh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
