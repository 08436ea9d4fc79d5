/*
 * ew_math.h — float32 exp, erf and tanh written so that gcc vectorizes them
 * (branch-free: every path computed, the result picked by selects), shared
 * by the element-wise kernels (unary.c), Softmax and the recurrent cells so
 * that all of them give the same bits for the same input.
 *
 * The arithmetic is plain IEEE float (ISO C mode does not contract a*b+c
 * into an FMA), so the AVX-512, AVX2 and baseline clones of a loop calling
 * these give the same bits.  Errors, measured against the double libm over
 * the whole float range: exp < 1.5 ulp, erf < 3 ulp, tanh < 2 ulp.  The
 * polynomials were fitted for nntrace (least squares on Chebyshev points,
 * then checked in float arithmetic).
 */
#ifndef NT_EW_MATH_H
#define NT_EW_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* gcc only if-converts (and so vectorizes) the selects when told that
 * comparisons raise no trapping exceptions; nntrace never enables FP traps,
 * so results are the same bits either way.  Callers carry the attribute
 * too: gcc does not inline across different ones. */
#if defined(__GNUC__) && !defined(__clang__)
#define NT_EW_NO_TRAP __attribute__((optimize("no-trapping-math", "vect-cost-model=dynamic")))
#else
#define NT_EW_NO_TRAP
#endif

/* e^x: k = round(x log2 e) by the 1.5*2^23 trick, r = x - k ln2 (ln2 split
 * in two for exactness), e^r by its degree-7 Taylor polynomial (|r| <=
 * ln2/2, truncation error < 1e-8), times 2^k built in two halves so neither
 * overflows.  NaN and +-inf map as expf does; results below ~1e-38 flush to 0. */
NT_EW_NO_TRAP static inline float nt_ew_expf(float x)
{
    float xc = x > 88.7f ? 88.7f : x;
    xc = xc < -87.3f ? -87.3f : xc;
    float kb = xc * 1.44269504088896341f + 12582912.0f;
    float k = kb - 12582912.0f;
    uint32_t kbits;
    memcpy(&kbits, &kb, 4);
    int32_t ki = (int32_t)(kbits - 0x4B400000u);
    float r = xc - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float poly = 1.0f / 5040;
    poly = poly * r + 1.0f / 720;
    poly = poly * r + 1.0f / 120;
    poly = poly * r + 1.0f / 24;
    poly = poly * r + 1.0f / 6;
    poly = poly * r + 0.5f;
    poly = poly * r + 1.0f;
    poly = poly * r + 1.0f;
    int32_t k1 = ki / 2, k2 = ki - k1;
    uint32_t b1 = (uint32_t)(k1 + 127) << 23, b2 = (uint32_t)(k2 + 127) << 23;
    float s1, s2;
    memcpy(&s1, &b1, 4);
    memcpy(&s2, &b2, 4);
    float y = poly * s1 * s2;
    y = x > 88.7f ? INFINITY : y;
    y = x < -87.3f ? 0.0f : y;
    return x != x ? x : y;
}

/* erf: |x| < 1: x * P(x^2), P of degree 7; 1 <= |x| < 3.93: 1 - e^(-x^2) *
 * R(|x| - 2.5), R of degree 11 (erfc(x) e^(x^2) is smooth there); beyond,
 * erf rounds to +-1 in float.  The sign is put back last: erf is odd. */
NT_EW_NO_TRAP static inline float nt_ew_erff(float x)
{
    float a = fabsf(x);
    float t = a * a;
    float p = -9.689741091278847e-06f;
    p = p * t + 0.0001127473806263879f;
    p = p * t + -0.0008485438884235919f;
    p = p * t + 0.005221138708293438f;
    p = p * t + -0.02686547487974167f;
    p = p * t + 0.11283783614635468f;
    p = p * t + -0.37612637877464294f;
    p = p * t + 1.128379225730896f;
    float small = a * p;
    float u = (a < 3.93f ? a : 3.93f) - 2.5f;
    float r = -5.018728188588284e-07f;
    r = r * u + 1.6803282960609067e-06f;
    r = r * u + -3.346225412315107e-06f;
    r = r * u + 1.4292405467131175e-05f;
    r = r * u + -6.0274964198470116e-05f;
    r = r * u + 0.00021310755982995033f;
    r = r * u + -0.0007325652986764908f;
    r = r * u + 0.0024658709298819304f;
    r = r * u + -0.00800186675041914f;
    r = r * u + 0.024938233196735382f;
    r = r * u + -0.07434732466936111f;
    r = r * u + 0.21080635488033295f;
    float big = 1.0f - nt_ew_expf(-t) * r;
    float y = a < 1.0f ? small : big;
    y = a >= 3.93f ? 1.0f : y;
    y = copysignf(y, x);
    return x != x ? x : y;
}

/* tanh: |x| < 0.625: x * Q(x^2), Q of degree 6; beyond, 1 - 2 / (e^(2|x|) + 1)
 * (e^(2|x|) = inf past 44 gives exactly 1).  Odd: the sign is put back last. */
NT_EW_NO_TRAP static inline float nt_ew_tanhf(float x)
{
    float a = fabsf(x);
    float t = a * a;
    float q = 0.002142236102372408f;
    q = q * t + -0.008176164701581001f;
    q = q * t + 0.021699897944927216f;
    q = q * t + -0.05394650623202324f;
    q = q * t + 0.1333320140838623f;
    q = q * t + -0.3333333134651184f;
    q = q * t + 1.0f;
    float small = a * q;
    float big = 1.0f - 2.0f / (nt_ew_expf(2.0f * a) + 1.0f);
    float y = a < 0.625f ? small : big;
    y = copysignf(y, x);
    return x != x ? x : y;
}

#endif /* NT_EW_MATH_H */
