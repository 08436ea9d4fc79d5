/*
 * test_narrow.c — the narrow element types (src/core/narrow.c): float8 in
 * its five formats, float4e2m1, int4/uint4/int2/uint2.  Every code of each
 * float format decodes and re-encodes to itself; rounding to nearest even,
 * subnormals, saturation and overflow to inf/NaN at the format's edges;
 * e8m0's round modes; integer wrapping; packing in ONNX's order (the bytes
 * of the ONNX reference's int4 test data); and a .pb file round trip, which
 * packs on write and unpacks on read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "onnx/writer.h"

static void test_float8_round_trip(void **state)
{
    (void)state;
    const nt_dtype fmts[] = {NT_DTYPE_FLOAT8E4M3FN, NT_DTYPE_FLOAT8E4M3FNUZ, NT_DTYPE_FLOAT8E5M2,
                             NT_DTYPE_FLOAT8E5M2FNUZ};
    for (size_t f = 0; f < 4; f++) {
        int nan_codes = 0;
        for (int c = 0; c < 256; c++) {
            float v = nt_narrow_to_float(fmts[f], (uint8_t)c);
            if (isnan(v)) {
                nan_codes++;
                continue;
            }
            uint8_t back = nt_float_to_narrow(fmts[f], v, false, 'n');
            assert_int_equal(back, c);
        }
        /* E4M3FN: S.1111.111 (2); FNUZ: 0x80 (1); E5M2: S.11111.xx with xx != 0 (6) */
        int want = fmts[f] == NT_DTYPE_FLOAT8E4M3FN ? 2 : fmts[f] == NT_DTYPE_FLOAT8E5M2 ? 6 : 1;
        assert_int_equal(nan_codes, want);
    }
    for (int c = 0; c < 16; c++) {
        float v = nt_narrow_to_float(NT_DTYPE_FLOAT4E2M1, (uint8_t)c);
        assert_int_equal(nt_float_to_narrow(NT_DTYPE_FLOAT4E2M1, v, true, 'n'), c);
    }
}

static void test_float8_edges(void **state)
{
    (void)state;
    const nt_dtype fn = NT_DTYPE_FLOAT8E4M3FN, fnuz = NT_DTYPE_FLOAT8E4M3FNUZ;
    const nt_dtype e5 = NT_DTYPE_FLOAT8E5M2, e5uz = NT_DTYPE_FLOAT8E5M2FNUZ;
    assert_true(nt_narrow_to_float(fn, 0x7e) == 448.0f);
    assert_true(nt_narrow_to_float(fnuz, 0x7f) == 240.0f);
    assert_true(nt_narrow_to_float(e5, 0x7b) == 57344.0f);
    assert_true(isinf(nt_narrow_to_float(e5, 0x7c)));
    /* ties to even: 1.0625 lies between 1.0 (mantissa 000) and 1.125 (001) */
    assert_int_equal(nt_float_to_narrow(fn, 1.0625f, true, 'n'), 0x38);
    assert_int_equal(nt_float_to_narrow(fn, 1.0626f, true, 'n'), 0x39);
    /* 464 ties between 448 (110, even) and 480 (the NaN slot): stays finite */
    assert_int_equal(nt_float_to_narrow(fn, 464.0f, false, 'n'), 0x7e);
    assert_int_equal(nt_float_to_narrow(fn, 465.0f, false, 'n'), 0x7f);   /* NaN */
    assert_int_equal(nt_float_to_narrow(fn, 465.0f, true, 'n'), 0x7e);
    assert_int_equal(nt_float_to_narrow(fn, -INFINITY, true, 'n'), 0xfe);
    assert_int_equal(nt_float_to_narrow(fn, -INFINITY, false, 'n'), 0xff);
    assert_int_equal(nt_float_to_narrow(e5, INFINITY, false, 'n'), 0x7c);
    assert_int_equal(nt_float_to_narrow(e5, 1e6f, false, 'n'), 0x7c);
    assert_int_equal(nt_float_to_narrow(e5, 1e6f, true, 'n'), 0x7b);
    assert_int_equal(nt_float_to_narrow(e5uz, -1e6f, false, 'n'), 0x80);
    /* subnormals: E4M3FN's smallest is 2^-9, half of it ties to 0 */
    assert_int_equal(nt_float_to_narrow(fn, ldexpf(1, -9), true, 'n'), 0x01);
    assert_int_equal(nt_float_to_narrow(fn, ldexpf(1, -10), true, 'n'), 0x00);
    assert_int_equal(nt_float_to_narrow(fn, -ldexpf(1, -10), true, 'n'), 0x80);   /* -0 */
    assert_int_equal(nt_float_to_narrow(fnuz, -ldexpf(1, -12), true, 'n'), 0x00); /* no -0 */
    assert_true(isnan(nt_narrow_to_float(fnuz, 0x80)));
    /* float4: 0.25 ties to 0, 0.75 to 1.0 (even), NaN is 0x8, overflow saturates */
    assert_int_equal(nt_float_to_narrow(NT_DTYPE_FLOAT4E2M1, 0.25f, true, 'n'), 0x0);
    assert_int_equal(nt_float_to_narrow(NT_DTYPE_FLOAT4E2M1, 0.75f, true, 'n'), 0x2);
    assert_int_equal(nt_float_to_narrow(NT_DTYPE_FLOAT4E2M1, NAN, true, 'n'), 0x8);
    assert_int_equal(nt_float_to_narrow(NT_DTYPE_FLOAT4E2M1, -INFINITY, false, 'n'), 0xf);
}

static void test_e8m0(void **state)
{
    (void)state;
    const nt_dtype t = NT_DTYPE_FLOAT8E8M0;
    assert_int_equal(nt_float_to_narrow(t, 1.1f, true, 'u'), 0x80);
    assert_int_equal(nt_float_to_narrow(t, 1.1f, true, 'd'), 0x7f);
    assert_int_equal(nt_float_to_narrow(t, 1.1f, true, 'n'), 0x7f);
    assert_int_equal(nt_float_to_narrow(t, 1.5f, true, 'n'), 0x80);
    assert_int_equal(nt_float_to_narrow(t, 0.125f, true, 'u'), 0x7c);
    assert_int_equal(nt_float_to_narrow(t, INFINITY, true, 'u'), 0xfe);
    assert_int_equal(nt_float_to_narrow(t, INFINITY, false, 'u'), 0xff);
    assert_true(nt_narrow_to_float(t, 0x7f) == 1.0f);
    assert_true(isnan(nt_narrow_to_float(t, 0xff)));
}

static void test_int_wrap_and_pack(void **state)
{
    (void)state;
    assert_int_equal((int8_t)nt_float_to_narrow(NT_DTYPE_INT4, -9.0f, true, 'n'), 7);
    assert_int_equal((int8_t)nt_float_to_narrow(NT_DTYPE_INT4, 8.0f, true, 'n'), -8);
    assert_int_equal((int8_t)nt_float_to_narrow(NT_DTYPE_INT4, -1.9f, true, 'n'), -1);
    assert_int_equal(nt_int_to_narrow(NT_DTYPE_UINT2, -3), 1);
    assert_int_equal((int8_t)nt_int_to_narrow(NT_DTYPE_INT2, 2), -2);
    /* The ONNX reference's Cast(float -> int4) of -9..15 (25 values). */
    uint8_t vals[25], packed[13], back[25];
    for (int i = 0; i < 25; i++)
        vals[i] = nt_int_to_narrow(NT_DTYPE_INT4, i - 9);
    assert_int_equal(nt_dtype_packed_bytes(NT_DTYPE_INT4, 25), 13);
    nt_narrow_pack(NT_DTYPE_INT4, vals, 25, packed);
    const uint8_t want[13] = {0x87, 0xa9, 0xcb, 0xed, 0x0f, 0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed, 0x0f};
    assert_memory_equal(packed, want, 13);
    nt_narrow_unpack(NT_DTYPE_INT4, packed, 25, back);
    assert_memory_equal(back, vals, 25);
    /* uint2: four per byte, low bits first: 1,2,3,0 -> 0x39 */
    uint8_t u2[7] = {1, 2, 3, 0, 1, 2, 3}, p2[2];
    nt_narrow_pack(NT_DTYPE_UINT2, u2, 7, p2);
    assert_int_equal(p2[0], 0x39);
    assert_int_equal(p2[1], 0x39);
}

static void test_pb_round_trip(void **state)
{
    (void)state;
    const nt_dtype types[] = {NT_DTYPE_INT4, NT_DTYPE_UINT4, NT_DTYPE_INT2, NT_DTYPE_UINT2,
                              NT_DTYPE_FLOAT4E2M1, NT_DTYPE_FLOAT8E5M2};
    char path[] = "/tmp/nt_narrow_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (size_t k = 0; k < NT_ARRAY_LEN(types); k++) {
        int64_t dims[2] = {3, 3};
        nt_tensor *t, *u;
        assert_int_equal(nt_tensor_new(types[k], 2, dims, &t), NT_OK);
        for (int i = 0; i < 9; i++)
            nt_tensor_set_f64(t, i, (double)(i % 3) - 1.0);
        assert_int_equal(nt_pb_tensor_save(path, t, "x"), NT_OK);
        assert_int_equal(nt_pb_tensor_load(path, &u, NULL), NT_OK);
        assert_int_equal(u->dtype, types[k]);
        assert_int_equal(nt_tensor_nbytes(u), 9);
        for (int i = 0; i < 9; i++)
            assert_true(nt_tensor_get_f64(u, i) == nt_tensor_get_f64(t, i));
        nt_tensor_free(t);
        nt_tensor_free(u);
    }
    unlink(path);
}

/* numpy has no narrow types: .npy gets int8/uint8 and float32, exactly. */
static void test_npy_widened(void **state)
{
    (void)state;
    int64_t dims[1] = {4};
    nt_tensor *t, *u;
    nt_buf b;
    assert_int_equal(nt_tensor_new(NT_DTYPE_INT4, 1, dims, &t), NT_OK);
    for (int i = 0; i < 4; i++)
        nt_tensor_set_f64(t, i, i * 3 - 8);   /* -8 -5 -2 1 */
    nt_buf_init(&b);
    assert_int_equal(nt_npy_encode(&b, t, "x"), NT_OK);
    assert_int_equal(nt_npy_parse(b.data, b.len, "x", &u), NT_OK);
    assert_int_equal(u->dtype, NT_DTYPE_INT8);
    assert_int_equal(((int8_t *)u->data)[0], -8);
    assert_int_equal(((int8_t *)u->data)[3], 1);
    nt_buf_deinit(&b);
    nt_tensor_free(t);
    nt_tensor_free(u);
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT8E4M3FNUZ, 1, dims, &t), NT_OK);
    const uint8_t codes[4] = {0x00, 0x80, 0x7f, 0xc0};   /* 0, NaN, 240, -1 */
    memcpy(t->data, codes, 4);
    nt_buf_init(&b);
    assert_int_equal(nt_npy_encode(&b, t, "x"), NT_OK);
    assert_int_equal(nt_npy_parse(b.data, b.len, "x", &u), NT_OK);
    assert_int_equal(u->dtype, NT_DTYPE_FLOAT);
    const float *f = u->data;
    assert_true(f[0] == 0.0f && isnan(f[1]) && f[2] == 240.0f && f[3] == -1.0f);
    nt_buf_deinit(&b);
    nt_tensor_free(t);
    nt_tensor_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float8_round_trip),
        cmocka_unit_test(test_float8_edges),
        cmocka_unit_test(test_e8m0),
        cmocka_unit_test(test_int_wrap_and_pack),
        cmocka_unit_test(test_pb_round_trip),
        cmocka_unit_test(test_npy_widened),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
