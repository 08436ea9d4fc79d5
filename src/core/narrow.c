/*
 * narrow.c — the narrow ONNX element types: the four float8 formats, the
 * exponent-only float8e8m0, float4e2m1, and the sub-byte integers
 * int4/uint4/int2/uint2.
 *
 * In memory each element takes one byte (float8: its code; float4: the
 * 4-bit code in the low bits; int4/int2: the value sign-extended to int8;
 * uint4/uint2: the value), so every op that moves bytes moves them too.
 * Files pack the sub-byte types, low bits first (nt_narrow_pack/unpack).
 *
 * Float formats (e exponent bits, m mantissa bits, bias, largest finite):
 *
 *   E4M3FN    e4 m3 bias 7   448     no inf; NaN = S.1111.111
 *   E4M3FNUZ  e4 m3 bias 8   240     no inf, no -0; NaN = 0x80
 *   E5M2      e5 m2 bias 15  57344   IEEE-like: inf = S.11111.00, NaN above
 *   E5M2FNUZ  e5 m2 bias 16  57344   no inf, no -0; NaN = 0x80
 *   E2M1      e2 m1 bias 1   6       no inf, no NaN (float4)
 *   E8M0      exponent only, 2^(code-127); 0xFF = NaN; no sign, no zero
 *
 * Conversion from float rounds to nearest even at the format's precision
 * (subnormals included), then handles overflow as ONNX Cast specifies:
 * with saturate, anything beyond the largest finite value (infinity too)
 * becomes that value; without, it becomes infinity (E5M2) or NaN (the
 * others).  float4 has neither, so it always saturates; NaN becomes the
 * code 0x8 there, as the ONNX reference does.
 */
#include "core.h"

#include <math.h>
#include <string.h>

typedef struct fp_format {
    int mbits, bias;
    float maxv;
    int sign_shift;         /* 7 for float8, 3 for float4 */
    uint8_t nan;            /* the code NaN becomes */
    uint8_t overflow;       /* the code of +overflow without saturation */
    uint8_t max_code;       /* the code of +maxv */
    bool uz;                /* no negative zero; 0x80 is NaN */
} fp_format;

static const fp_format *fp_format_of(nt_dtype t)
{
    static const fp_format e4m3fn = {3, 7, 448.0f, 7, 0x7f, 0x7f, 0x7e, false};
    static const fp_format e4m3fnuz = {3, 8, 240.0f, 7, 0x80, 0x80, 0x7f, true};
    static const fp_format e5m2 = {2, 15, 57344.0f, 7, 0x7f, 0x7c, 0x7b, false};
    static const fp_format e5m2fnuz = {2, 16, 57344.0f, 7, 0x80, 0x80, 0x7f, true};
    static const fp_format e2m1 = {1, 1, 6.0f, 3, 0x8, 0x7, 0x7, false};
    switch (t) {
    case NT_DTYPE_FLOAT8E4M3FN: return &e4m3fn;
    case NT_DTYPE_FLOAT8E4M3FNUZ: return &e4m3fnuz;
    case NT_DTYPE_FLOAT8E5M2: return &e5m2;
    case NT_DTYPE_FLOAT8E5M2FNUZ: return &e5m2fnuz;
    case NT_DTYPE_FLOAT4E2M1: return &e2m1;
    default: return NULL;
    }
}

static float fp_decode(const fp_format *f, uint8_t code)
{
    int ebits = f->sign_shift - f->mbits;
    uint8_t sign = (uint8_t)((code >> f->sign_shift) & 1);
    unsigned e = (code >> f->mbits) & ((1u << ebits) - 1);
    unsigned m = code & ((1u << f->mbits) - 1);
    if (f->uz && code == 0x80)
        return NAN;
    if (f == fp_format_of(NT_DTYPE_FLOAT8E4M3FN) && (code & 0x7f) == 0x7f)
        return NAN;
    if (f == fp_format_of(NT_DTYPE_FLOAT8E5M2) && e == 31)
        return m ? NAN : (sign ? -INFINITY : INFINITY);
    float v;
    if (e == 0)
        v = ldexpf((float)m, 1 - f->bias - f->mbits);
    else
        v = ldexpf((float)((1u << f->mbits) | m), (int)e - f->bias - f->mbits);
    return sign ? -v : v;
}

static uint8_t fp_encode(const fp_format *f, float x, bool saturate)
{
    if (isnan(x))
        return f->nan;
    uint8_t sign = signbit(x) ? (uint8_t)(1u << f->sign_shift) : 0;
    bool is_f4 = f->sign_shift == 3;
    double a = fabs((double)x);
    if (isinf(a))
        return (saturate || is_f4) ? (uint8_t)(sign | f->max_code)
                                   : (uint8_t)(f->uz ? f->overflow : (sign | f->overflow));
    int emin = 1 - f->bias;
    double r = 0;
    if (a > 0) {
        int ex;
        frexp(a, &ex);
        int e = ex - 1 < emin ? emin : ex - 1;
        double q = ldexp(1.0, e - f->mbits);
        r = rint(a / q) * q;   /* a / q is exact: q is a power of two */
    }
    if (r > f->maxv) {
        if (saturate || is_f4)
            return (uint8_t)(sign | f->max_code);
        return (uint8_t)(f->uz ? f->overflow : (sign | f->overflow));
    }
    if (r == 0)
        return f->uz ? 0 : sign;
    int ex;
    frexp(r, &ex);
    int e = ex - 1;
    unsigned efield, m;
    if (e < emin) {
        efield = 0;
        m = (unsigned)ldexp(r, f->mbits - emin);
    } else {
        efield = (unsigned)(e + f->bias);
        m = (unsigned)ldexp(r, f->mbits - e) - (1u << f->mbits);
    }
    return (uint8_t)(sign | (efield << f->mbits) | m);
}

/* E8M0 from float: the float's exponent field, moved up when the mantissa
 * is not zero (round 'u'p), kept ('d'own), or moved up from half the
 * binade on ('n'earest, ties up). */
static uint8_t e8m0_encode(float x, bool saturate, char round_mode)
{
    if (isnan(x))
        return 0xff;
    uint32_t u;
    memcpy(&u, &x, 4);
    u &= 0x7fffffffu;
    uint32_t e = u >> 23, m = u & 0x7fffffu;
    if (e == 255)
        return saturate ? 0xfe : 0xff;
    if ((round_mode == 'u' && m) || (round_mode == 'n' && m >= 0x400000u))
        e++;
    if (e >= 255)
        return saturate ? 0xfe : 0xff;
    return (uint8_t)e;
}

float nt_narrow_to_float(nt_dtype t, uint8_t code)
{
    switch (t) {
    case NT_DTYPE_INT4: case NT_DTYPE_INT2: return (float)(int8_t)code;
    case NT_DTYPE_UINT4: case NT_DTYPE_UINT2: return (float)code;
    case NT_DTYPE_FLOAT8E8M0: return code == 0xff ? NAN : ldexpf(1.0f, (int)code - 127);
    default: {
        const fp_format *f = fp_format_of(t);
        return f ? fp_decode(f, code) : NAN;
    }
    }
}

uint8_t nt_int_to_narrow(nt_dtype t, int64_t v)
{
    uint64_t u = (uint64_t)v;
    switch (t) {
    case NT_DTYPE_INT4: return (uint8_t)(int8_t)((int8_t)((u & 0xf) << 4) >> 4);
    case NT_DTYPE_UINT4: return (uint8_t)(u & 0xf);
    case NT_DTYPE_INT2: return (uint8_t)(int8_t)((int8_t)((u & 0x3) << 6) >> 6);
    case NT_DTYPE_UINT2: return (uint8_t)(u & 0x3);
    default: return 0;
    }
}

uint8_t nt_float_to_narrow(nt_dtype t, float f, bool saturate, char round_mode)
{
    if (t == NT_DTYPE_FLOAT8E8M0)
        return e8m0_encode(f, saturate, round_mode);
    const fp_format *fmt = fp_format_of(t);
    if (fmt)
        return fp_encode(fmt, f, saturate);
    /* integers: truncate toward zero, then wrap (NaN gives 0) */
    if (f != f)
        return 0;
    double d = trunc((double)f);
    int64_t v = d <= -9.2e18 ? INT64_MIN : d >= 9.2e18 ? INT64_MAX : (int64_t)d;
    return nt_int_to_narrow(t, v);
}

size_t nt_dtype_packed_bytes(nt_dtype t, int64_t n)
{
    if (n <= 0)
        return 0;
    unsigned bits = nt_dtype_bits(t);
    return (size_t)(((uint64_t)n * bits + 7) / 8);
}

void nt_narrow_pack(nt_dtype t, const uint8_t *elems, int64_t n, uint8_t *packed)
{
    unsigned bits = nt_dtype_bits(t);
    if (bits >= 8) {
        memcpy(packed, elems, (size_t)n);
        return;
    }
    unsigned per = 8 / bits, mask = (1u << bits) - 1;
    memset(packed, 0, nt_dtype_packed_bytes(t, n));
    for (int64_t i = 0; i < n; i++)
        packed[i / per] |= (uint8_t)((elems[i] & mask) << ((unsigned)(i % per) * bits));
}

void nt_narrow_unpack(nt_dtype t, const uint8_t *packed, int64_t n, uint8_t *elems)
{
    unsigned bits = nt_dtype_bits(t);
    if (bits >= 8) {
        memcpy(elems, packed, (size_t)n);
        return;
    }
    unsigned per = 8 / bits, mask = (1u << bits) - 1;
    bool is_signed = t == NT_DTYPE_INT4 || t == NT_DTYPE_INT2;
    for (int64_t i = 0; i < n; i++) {
        uint8_t v = (uint8_t)((packed[i / per] >> ((unsigned)(i % per) * bits)) & mask);
        elems[i] = is_signed ? nt_int_to_narrow(t, v) : v;
    }
}
