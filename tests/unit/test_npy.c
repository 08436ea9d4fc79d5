/*
 * test_npy.c — the .npy reader and writer: round trips of every dtype numpy
 * shares with ONNX, byte-exact headers (as np.save writes them), format
 * versions 1.0/2.0/3.0, Fortran order, big-endian data, 0-d and zero-size
 * arrays, and a catalogue of malformed files, each of which must fail with
 * the right status and a message naming the file and the fault.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "onnx/writer.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_tmpdir.h"

/* Builds a .npy file image: prefix for `major`, header text exactly as given
 * (no padding added), then the data bytes. */
static size_t make_npy(uint8_t *out, int major, const char *header, const void *data, size_t n)
{
    size_t hl = strlen(header), k = 0;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (uint8_t)major;
    out[7] = 0;
    k = 8;
    int lb = major == 1 ? 2 : 4;
    for (int i = 0; i < lb; i++)
        out[k++] = (uint8_t)(hl >> (8 * i));
    memcpy(out + k, header, hl);
    k += hl;
    if (n)
        memcpy(out + k, data, n);
    return k + n;
}

/* Fills t with a pattern that exercises sign, fraction and every byte. */
static void fill_pattern(nt_tensor *t)
{
    int64_t n = nt_tensor_numel(t);
    if (t->dtype == NT_DTYPE_COMPLEX64) {
        float *f = t->data;
        for (int64_t i = 0; i < 2 * n; i++)
            f[i] = (float)(i * 1.5 - 3);
        return;
    }
    if (t->dtype == NT_DTYPE_COMPLEX128) {
        double *f = t->data;
        for (int64_t i = 0; i < 2 * n; i++)
            f[i] = i * -2.25 + 1;
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = (double)((i * 37) % 200) - 100;
        if (t->dtype == NT_DTYPE_BOOL)
            v = i % 3 == 0;
        else if (nt_dtype_is_float(t->dtype))
            v *= 0.25;
        else if (t->dtype == NT_DTYPE_UINT8 || t->dtype == NT_DTYPE_UINT16 || t->dtype == NT_DTYPE_UINT32 ||
                 t->dtype == NT_DTYPE_UINT64)
            v += 100;
        nt_tensor_set_f64(t, i, v);
    }
    /* make the widest types use their high bytes too */
    if (t->dtype == NT_DTYPE_INT64 && n > 0)
        ((int64_t *)t->data)[0] = INT64_MIN + 5;
    if (t->dtype == NT_DTYPE_UINT64 && n > 0)
        ((uint64_t *)t->data)[0] = UINT64_MAX - 7;
}

static void assert_same_tensor(const nt_tensor *a, const nt_tensor *b)
{
    assert_int_equal(a->dtype, b->dtype);
    assert_int_equal(a->ndim, b->ndim);
    for (int i = 0; i < a->ndim; i++)
        assert_int_equal(a->dims[i], b->dims[i]);
    assert_int_equal(nt_tensor_nbytes(a), nt_tensor_nbytes(b));
    if (nt_tensor_nbytes(a))
        assert_memory_equal(a->data, b->data, nt_tensor_nbytes(a));
}

static const nt_dtype npy_dtypes[] = {
    NT_DTYPE_BOOL,   NT_DTYPE_INT8,   NT_DTYPE_UINT8,   NT_DTYPE_INT16,   NT_DTYPE_UINT16,
    NT_DTYPE_INT32,  NT_DTYPE_UINT32, NT_DTYPE_INT64,   NT_DTYPE_UINT64,  NT_DTYPE_FLOAT16,
    NT_DTYPE_FLOAT,  NT_DTYPE_DOUBLE, NT_DTYPE_COMPLEX64, NT_DTYPE_COMPLEX128,
};

/* Saves and loads a tensor through a file and through memory. */
static void roundtrip(nt_dtype dtype, int ndim, const int64_t *dims)
{
    nt_tensor *t, *u;
    assert_int_equal(nt_tensor_new(dtype, ndim, dims, &t), NT_OK);
    fill_pattern(t);
    char name[64];
    snprintf(name, sizeof name, "rt_%s_%d.npy", nt_dtype_name(dtype), ndim);
    const char *p = tmp_path(name);
    assert_int_equal(nt_npy_save(p, t), NT_OK);
    assert_int_equal(nt_npy_load(p, &u), NT_OK);
    assert_same_tensor(t, u);
    nt_tensor_free(u);

    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_npy_encode(&b, t, "mem"), NT_OK);
    assert_int_equal((10 + (uint8_t)b.data[8] + 256 * (uint8_t)b.data[9]) % 64, 0); /* data aligned */
    assert_int_equal(b.data[9 + (uint8_t)b.data[8] + 256 * (uint8_t)b.data[9]], '\n');
    assert_int_equal(nt_npy_parse(b.data, b.len, "mem", &u), NT_OK);
    assert_same_tensor(t, u);
    nt_tensor_free(u);
    nt_buf_deinit(&b);
    nt_tensor_free(t);
}

static void test_roundtrip_every_dtype(void **state)
{
    (void)state;
    const int64_t dims[] = {2, 3, 5};
    for (size_t i = 0; i < NT_ARRAY_LEN(npy_dtypes); i++) {
        roundtrip(npy_dtypes[i], 3, dims);
        roundtrip(npy_dtypes[i], 1, dims + 2);
        roundtrip(npy_dtypes[i], 0, NULL);
    }
}

static void test_roundtrip_shapes(void **state)
{
    (void)state;
    const int64_t zero1[] = {0, 3}, zero2[] = {5, 0, 2}, rank8[] = {1, 2, 1, 3, 1, 2, 1, 2};
    const int64_t big[] = {1234567, 1};
    roundtrip(NT_DTYPE_FLOAT, 2, zero1);
    roundtrip(NT_DTYPE_INT64, 3, zero2);
    roundtrip(NT_DTYPE_DOUBLE, 8, rank8);
    roundtrip(NT_DTYPE_UINT8, 2, big);
}

/* The header must be byte for byte what numpy 1.24's np.save writes. */
static void test_header_matches_numpy(void **state)
{
    (void)state;
    static const struct {
        nt_dtype dtype;
        int ndim;
        int64_t dims[3];
        const char *header;
    } cases[] = {
        {NT_DTYPE_FLOAT, 2, {3, 4}, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"},
        {NT_DTYPE_INT8, 0, {0}, "{'descr': '|i1', 'fortran_order': False, 'shape': (), }"},
        {NT_DTYPE_BOOL, 2, {0, 3}, "{'descr': '|b1', 'fortran_order': False, 'shape': (0, 3), }"},
        {NT_DTYPE_COMPLEX128, 1, {7}, "{'descr': '<c16', 'fortran_order': False, 'shape': (7,), }"},
    };
    for (size_t c = 0; c < NT_ARRAY_LEN(cases); c++) {
        nt_tensor *t;
        assert_int_equal(nt_tensor_new(cases[c].dtype, cases[c].ndim, cases[c].dims, &t), NT_OK);
        nt_buf b;
        nt_buf_init(&b);
        assert_int_equal(nt_npy_encode(&b, t, "x.npy"), NT_OK);
        /* expected: prefix, header, growth spaces, pad to 64, '\n' */
        char expect[256];
        size_t hl = strlen(cases[c].header);
        memcpy(expect, cases[c].header, hl);
        if (cases[c].ndim > 0) {
            char d0[24];
            int nd = snprintf(d0, sizeof d0, "%lld", (long long)cases[c].dims[0]);
            for (int i = nd; i < 21; i++)
                expect[hl++] = ' ';
        }
        size_t pad = 64 - (10 + hl + 1) % 64;
        memset(expect + hl, ' ', pad);
        hl += pad;
        expect[hl++] = '\n';
        assert_memory_equal(b.data, "\x93NUMPY\x01\x00", 8);
        assert_int_equal((uint8_t)b.data[8] | (uint8_t)b.data[9] << 8, hl);
        assert_memory_equal(b.data + 10, expect, hl);
        assert_int_equal(b.len, 10 + hl + nt_tensor_nbytes(t));
        nt_buf_deinit(&b);
        nt_tensor_free(t);
    }
    /* the exact bytes numpy wrote for np.zeros((3, 4), np.float32): 128-byte header */
    nt_tensor *t;
    const int64_t d[] = {3, 4};
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 2, d, &t), NT_OK);
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_npy_encode(&b, t, "x.npy"), NT_OK);
    assert_int_equal(b.len, 128 + 48);
    assert_int_equal((uint8_t)b.data[8], 0x76);
    nt_buf_deinit(&b);
    nt_tensor_free(t);
}

static void test_versions(void **state)
{
    (void)state;
    const float v[] = {1.5f, -2.0f, 3.25f};
    const char *hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }   \n";
    uint8_t buf[256];
    for (int major = 1; major <= 3; major++) {
        size_t n = make_npy(buf, major, hdr, v, sizeof v);
        nt_tensor *t;
        assert_int_equal(nt_npy_parse(buf, n, "v.npy", &t), NT_OK);
        assert_int_equal(t->dtype, NT_DTYPE_FLOAT);
        assert_int_equal(t->ndim, 1);
        assert_int_equal(t->dims[0], 3);
        assert_memory_equal(t->data, v, sizeof v);
        nt_tensor_free(t);
    }
    /* double quotes, no spaces, Python 2 longs, no trailing comma */
    const int32_t w[] = {1, 2, 3, 4, 5, 6};
    size_t n = make_npy(buf, 1, "{\"shape\":(2L,3L),\"descr\":\"<i4\",\"fortran_order\":False}", w, sizeof w);
    nt_tensor *t;
    assert_int_equal(nt_npy_parse(buf, n, "v.npy", &t), NT_OK);
    assert_int_equal(t->dtype, NT_DTYPE_INT32);
    assert_int_equal(t->dims[0], 2);
    assert_int_equal(t->dims[1], 3);
    nt_tensor_free(t);
}

static void test_fortran_order(void **state)
{
    (void)state;
    uint8_t buf[512];
    /* 2x3 float32: column-major storage of [[0,1,2],[3,4,5]] */
    const float f[] = {0, 3, 1, 4, 2, 5};
    size_t n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f, sizeof f);
    nt_tensor *t;
    assert_int_equal(nt_npy_parse(buf, n, "f.npy", &t), NT_OK);
    for (int i = 0; i < 6; i++)
        assert_true(((float *)t->data)[i] == (float)i);
    nt_tensor_free(t);

    /* 2x3x4 int16 with value 100i+10j+k at column-major offset i + 2j + 6k */
    int16_t g[24];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                g[i + 2 * j + 6 * k] = (int16_t)(100 * i + 10 * j + k);
    n = make_npy(buf, 1, "{'descr': '<i2', 'fortran_order': True, 'shape': (2, 3, 4), }", g, sizeof g);
    assert_int_equal(nt_npy_parse(buf, n, "f.npy", &t), NT_OK);
    const int16_t *c = t->data;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 4; k++)
                assert_int_equal(c[(i * 3 + j) * 4 + k], 100 * i + 10 * j + k);
    nt_tensor_free(t);

    /* big-endian complex128 in Fortran order: both conversions at once */
    uint8_t h[4 * 16];
    double vals[2][2][2] = {{{1, -1}, {2, -2}}, {{3, -3}, {4, -4}}}; /* [i][j] = (re, im) of a 2x2 */
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            for (int part = 0; part < 2; part++) {
                uint64_t u;
                memcpy(&u, &vals[i][j][part], 8);
                for (int b = 0; b < 8; b++)
                    h[(i + 2 * j) * 16 + part * 8 + b] = (uint8_t)(u >> (8 * (7 - b)));
            }
    n = make_npy(buf, 1, "{'descr': '>c16', 'fortran_order': True, 'shape': (2, 2), }", h, sizeof h);
    assert_int_equal(nt_npy_parse(buf, n, "f.npy", &t), NT_OK);
    assert_int_equal(t->dtype, NT_DTYPE_COMPLEX128);
    assert_memory_equal(t->data, vals, sizeof vals);
    nt_tensor_free(t);

    /* 1-d and 0-d Fortran arrays are the same bytes as C order */
    const uint8_t one[] = {7};
    n = make_npy(buf, 1, "{'descr': '|u1', 'fortran_order': True, 'shape': (), }", one, 1);
    assert_int_equal(nt_npy_parse(buf, n, "f.npy", &t), NT_OK);
    assert_int_equal(t->ndim, 0);
    assert_int_equal(((uint8_t *)t->data)[0], 7);
    nt_tensor_free(t);
}

static void test_big_endian(void **state)
{
    (void)state;
    uint8_t buf[512];
    nt_tensor *t;
    /* >f4 1.0 = 3f800000, -2.5 = c0200000 */
    const uint8_t f4[] = {0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0};
    size_t n = make_npy(buf, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", f4, sizeof f4);
    assert_int_equal(nt_npy_parse(buf, n, "b.npy", &t), NT_OK);
    assert_true(((float *)t->data)[0] == 1.0f && ((float *)t->data)[1] == -2.5f);
    nt_tensor_free(t);
    const uint8_t i2[] = {0x01, 0x02, 0xff, 0xfe};
    n = make_npy(buf, 1, "{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }", i2, sizeof i2);
    assert_int_equal(nt_npy_parse(buf, n, "b.npy", &t), NT_OK);
    assert_int_equal(((int16_t *)t->data)[0], 0x0102);
    assert_int_equal(((int16_t *)t->data)[1], -2);
    nt_tensor_free(t);
    const uint8_t u8[] = {1, 2, 3, 4, 5, 6, 7, 8};
    n = make_npy(buf, 1, "{'descr': '>u8', 'fortran_order': False, 'shape': (), }", u8, sizeof u8);
    assert_int_equal(nt_npy_parse(buf, n, "b.npy", &t), NT_OK);
    assert_true(((uint64_t *)t->data)[0] == 0x0102030405060708ull);
    nt_tensor_free(t);
    /* >c8: each float swapped on its own, real part first */
    const uint8_t c8[] = {0x3f, 0x80, 0, 0, 0x40, 0, 0, 0};
    n = make_npy(buf, 1, "{'descr': '>c8', 'fortran_order': False, 'shape': (1,), }", c8, sizeof c8);
    assert_int_equal(nt_npy_parse(buf, n, "b.npy", &t), NT_OK);
    assert_true(((float *)t->data)[0] == 1.0f && ((float *)t->data)[1] == 2.0f);
    nt_tensor_free(t);
    /* >f2 1.0 = 3c00 */
    const uint8_t f2[] = {0x3c, 0x00};
    n = make_npy(buf, 1, "{'descr': '>f2', 'fortran_order': False, 'shape': (1,), }", f2, sizeof f2);
    assert_int_equal(nt_npy_parse(buf, n, "b.npy", &t), NT_OK);
    assert_int_equal(((uint16_t *)t->data)[0], 0x3c00);
    nt_tensor_free(t);
    /* single-byte types ignore the order mark; bools are normalized to 0/1 */
    const uint8_t b1[] = {0, 2, 255};
    n = make_npy(buf, 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", b1, sizeof b1);
    assert_int_equal(nt_npy_parse(buf, n, "b.npy", &t), NT_OK);
    assert_int_equal(t->dtype, NT_DTYPE_BOOL);
    assert_memory_equal(t->data, "\0\1\1", 3);
    nt_tensor_free(t);
    n = make_npy(buf, 1, "{'descr': '>i1', 'fortran_order': False, 'shape': (3,), }", b1, sizeof b1);
    assert_int_equal(nt_npy_parse(buf, n, "b.npy", &t), NT_OK);
    assert_int_equal(((int8_t *)t->data)[2], -1);
    nt_tensor_free(t);
    /* '=' is native order */
    const int32_t i4 = 123456;
    n = make_npy(buf, 1, "{'descr': '=i4', 'fortran_order': False, 'shape': (), }", &i4, 4);
    assert_int_equal(nt_npy_parse(buf, n, "b.npy", &t), NT_OK);
    assert_int_equal(((int32_t *)t->data)[0], 123456);
    nt_tensor_free(t);
}

/* Parses buf and expects status `want` with every needle in the message. */
static void expect_fail(const uint8_t *buf, size_t n, nt_status want, const char *needle1, const char *needle2)
{
    nt_tensor *t = (nt_tensor *)1;
    nt_status s = nt_npy_parse(buf, n, "x.npy", &t);
    if (s != want || strstr(nt_last_error(), "x.npy") == NULL ||
        (needle1 && !strstr(nt_last_error(), needle1)) || (needle2 && !strstr(nt_last_error(), needle2)))
        fail_msg("status %s, message \"%s\" (wanted %s with \"%s\" \"%s\")", nt_status_name(s), nt_last_error(),
                 nt_status_name(want), needle1 ? needle1 : "", needle2 ? needle2 : "");
    assert_null(t);
}

static void expect_header_fail(const char *header, nt_status want, const char *needle)
{
    uint8_t buf[1024];
    const uint8_t data[64] = {0};
    size_t n = make_npy(buf, 1, header, data, 0);
    expect_fail(buf, n, want, needle, NULL);
    (void)data;
}

static void test_malformed(void **state)
{
    (void)state;
    uint8_t buf[1024];
    expect_fail((const uint8_t *)"", 0, NT_ERR_PARSE, "magic", NULL);
    expect_fail((const uint8_t *)"hello world, not numpy", 22, NT_ERR_PARSE, "magic", NULL);
    expect_fail((const uint8_t *)"\x93NUMPY\x01", 7, NT_ERR_PARSE, "magic", NULL);
    expect_fail((const uint8_t *)"\x93NUMPY\x04\x00\x10\x00", 10, NT_ERR_UNSUPPORTED, "4.0", NULL);
    expect_fail((const uint8_t *)"\x93NUMPY\x01\x01\x10\x00", 10, NT_ERR_UNSUPPORTED, "1.1", NULL);
    expect_fail((const uint8_t *)"\x93NUMPY\x01\x00\x10", 9, NT_ERR_PARSE, "header length", NULL);
    expect_fail((const uint8_t *)"\x93NUMPY\x02\x00\x10\x00\x00", 11, NT_ERR_PARSE, "header length", NULL);
    expect_fail((const uint8_t *)"\x93NUMPY\x01\x00\x10\x00{}", 12, NT_ERR_PARSE, "16 bytes", NULL);

    expect_header_fail("", NT_ERR_PARSE, "'{'");
    expect_header_fail("[1, 2]", NT_ERR_PARSE, "'{'");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False}", NT_ERR_PARSE, "lacks the key 'shape'");
    expect_header_fail("{'shape': (), 'fortran_order': False}", NT_ERR_PARSE, "lacks the key 'descr'");
    expect_header_fail("{'descr': '<f4', 'shape': ()}", NT_ERR_PARSE, "fortran_order");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}", NT_ERR_PARSE,
                       "unexpected key 'extra'");
    expect_header_fail("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", NT_ERR_PARSE,
                       "repeats the key 'descr'");
    expect_header_fail("{'descr': '<f4', 'fortran_order': 0, 'shape': ()}", NT_ERR_PARSE, "True or False");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': ()", NT_ERR_PARSE, "header ends");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': ()} junk", NT_ERR_PARSE, "junk");
    expect_header_fail("{'descr': '<f4, 'fortran_order': False, 'shape': ()}", NT_ERR_PARSE, NULL);
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (3, -1)}", NT_ERR_PARSE, "negative");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (3, x)}", NT_ERR_PARSE, "dimension");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (3 4)}", NT_ERR_PARSE, "shape");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': 3}", NT_ERR_PARSE, "shape tuple");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", NT_ERR_PARSE,
                       "too large");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296)}",
                       NT_ERR_PARSE, "too large");
    expect_header_fail("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904,)}", NT_ERR_PARSE,
                       "too large");
    expect_header_fail("{'descr': 'f', 'fortran_order': False, 'shape': ()}", NT_ERR_UNSUPPORTED, "'f'");
    expect_header_fail("{'descr': '', 'fortran_order': False, 'shape': ()}", NT_ERR_PARSE, "empty dtype");
    expect_header_fail("{'descr': 'a\\'b', 'fortran_order': False, 'shape': ()}", NT_ERR_PARSE, "escapes");

    /* declined types and ranks: UNSUPPORTED naming file and descr */
    expect_header_fail("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", NT_ERR_UNSUPPORTED, "'|O'");
    expect_header_fail("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", NT_ERR_UNSUPPORTED, "dtype=str");
    expect_header_fail("{'descr': '<U0', 'fortran_order': False, 'shape': (2,), }", NT_ERR_PARSE, "zero width");
    expect_header_fail("{'descr': '<U99999999999999999999999', 'fortran_order': False, 'shape': (2,), }",
                       NT_ERR_PARSE, "too large");
    expect_header_fail("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", NT_ERR_PARSE, "24 bytes");
    expect_header_fail("{'descr': '<U4611686018427387903', 'fortran_order': False, 'shape': (5,), }",
                       NT_ERR_PARSE, "too large");
    expect_header_fail("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (2,), }", NT_ERR_UNSUPPORTED,
                       "'<M8[ns]'");
    expect_header_fail("{'descr': '<f16', 'fortran_order': False, 'shape': (2,), }", NT_ERR_UNSUPPORTED, "'<f16'");
    expect_header_fail("{'descr': [('a', '<f4'), ('b', '<i8')], 'fortran_order': False, 'shape': (2,), }",
                       NT_ERR_UNSUPPORTED, "structured");
    expect_header_fail("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
                       NT_ERR_UNSUPPORTED, "more than 8");

    /* the data must be exactly the size the header says */
    float data[12] = {0};
    size_t n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", data, 40);
    expect_fail(buf, n, NT_ERR_PARSE, "x.npy: header says shape (3, 4) = 48 bytes of <f4 but the file has 40",
                NULL);
    n = make_npy(buf, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", data, 16);
    expect_fail(buf, n, NT_ERR_PARSE, "shape (3,) = 12 bytes", "has 16");
    n = make_npy(buf, 3, "{'descr': '<i8', 'fortran_order': False, 'shape': (), }", data, 4);
    expect_fail(buf, n, NT_ERR_PARSE, "shape () = 8 bytes", "has 4");
    /* a header that is not ASCII is quoted safely */
    n = make_npy(buf, 1, "{'descr': '\x01\xff', 'fortran_order': False, 'shape': ()}", data, 0);
    expect_fail(buf, n, NT_ERR_UNSUPPORTED, "'?" "?'", NULL);
}

/* Every prefix of a valid file is refused cleanly (never read past the end). */
static void test_truncated_everywhere(void **state)
{
    (void)state;
    nt_tensor *t;
    const int64_t dims[] = {2, 3};
    assert_int_equal(nt_tensor_new(NT_DTYPE_INT16, 2, dims, &t), NT_OK);
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_npy_encode(&b, t, "x.npy"), NT_OK);
    for (size_t n = 0; n < b.len; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan catches any overread */
        memcpy(copy, b.data, n);
        nt_tensor *u = NULL;
        assert_int_not_equal(nt_npy_parse(copy, n, "x.npy", &u), NT_OK);
        assert_null(u);
        free(copy);
    }
    nt_buf_deinit(&b);
    nt_tensor_free(t);
}

/* nt_npy_load streams files; it must agree with nt_npy_parse on every
 * input, valid or not: same status, same message, same tensor. */
static void test_load_matches_parse(void **state)
{
    (void)state;
    static uint8_t bufs[16][512];
    size_t lens[16], nb = 0;
    const float f6[] = {0, 3, 1, 4, 2, 5};
    const uint8_t be[] = {0x3f, 0x80, 0, 0, 0xc0, 0x20, 0, 0};
    lens[nb] = make_npy(bufs[nb], 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f6, sizeof f6);
    nb++;
    lens[nb] = make_npy(bufs[nb], 2, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be, sizeof be);
    nb++;
    lens[nb] = make_npy(bufs[nb], 3, "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }", be, sizeof be);
    nb++;
    lens[nb] = make_npy(bufs[nb], 1, "{'descr': '|b1', 'fortran_order': False, 'shape': (8,), }", be, sizeof be);
    nb++;
    lens[nb] = make_npy(bufs[nb], 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", f6, 20);
    nb++;
    lens[nb] = make_npy(bufs[nb], 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f6, 8);
    nb++;
    lens[nb] = make_npy(bufs[nb], 1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", f6, 8);
    nb++;
    lens[nb] = make_npy(bufs[nb], 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 5), }", f6, 0);
    nb++;
    lens[nb] = make_npy(bufs[nb], 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (0, 5), }", f6, 0);
    nb++;
    lens[nb] = make_npy(bufs[nb], 1, "{'descr': '<f4', 'fortran_order': False}", f6, 0);
    nb++;
    memcpy(bufs[nb], "\x93NUMPY\x01\x00\xff\x00{}", 12); /* header runs past the end */
    lens[nb++] = 12;
    memcpy(bufs[nb], "\x93NUMPY\x02\x00\x01", 9); /* ends inside the length */
    lens[nb++] = 9;
    memcpy(bufs[nb], "\x93NUM", 5);
    lens[nb++] = 5;
    lens[nb++] = 0;
    for (size_t i = 0; i < nb; i++) {
        char name[32];
        snprintf(name, sizeof name, "lp%zu.npy", i);
        char path[600];
        snprintf(path, sizeof path, "%s", tmp_path(name));
        assert_int_equal(nt_write_file(path, bufs[i], lens[i]), NT_OK);
        nt_tensor *a = NULL, *b = NULL;
        nt_status sa = nt_npy_parse(bufs[i], lens[i], path, &a);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", nt_last_error());
        nt_status sb = nt_npy_load(path, &b);
        if (sa != sb || (sa != NT_OK && strcmp(msg, nt_last_error()) != 0))
            fail_msg("case %zu: parse %s \"%s\", load %s \"%s\"", i, nt_status_name(sa), msg, nt_status_name(sb),
                     nt_last_error());
        if (sa == NT_OK)
            assert_same_tensor(a, b);
        else
            assert_null(b);
        nt_tensor_free(a);
        nt_tensor_free(b);
    }
}

/* A pipe has no size to check against: it is read whole, then parsed. */
static void test_load_pipe(void **state)
{
    (void)state;
    const char *fifo = tmp_path("pipe.npy");
    char path[600];
    snprintf(path, sizeof path, "%s", fifo);
    assert_int_equal(mkfifo(path, 0600), 0);
    uint8_t buf[256];
    const int32_t v[] = {1, 2, 3};
    size_t n = make_npy(buf, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }", v, sizeof v);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *f = fopen(path, "wb");
        size_t w = f ? fwrite(buf, 1, n, f) : 0;
        _exit(f && w == n && fclose(f) == 0 ? 0 : 1);
    }
    nt_tensor *t;
    assert_int_equal(nt_npy_load(path, &t), NT_OK);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(t->dims[0], 3);
    assert_memory_equal(t->data, v, sizeof v);
    nt_tensor_free(t);
    unlink(path);
}

/* UCS-4 code points, little- or big-endian, into buf (4 bytes each). */
static void put_ucs4(uint8_t *buf, const uint32_t *cps, size_t n, bool big)
{
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            buf[4 * i + k] = (uint8_t)(cps[i] >> (8 * (big ? 3 - k : k)));
}

static void assert_strings(const nt_tensor *t, const char *const *want, size_t n)
{
    assert_int_equal(t->dtype, NT_DTYPE_STRING);
    assert_int_equal(nt_tensor_numel(t), (int64_t)n);
    const char *const *got = t->data;
    for (size_t i = 0; i < n; i++)
        assert_string_equal(got[i], want[i]);
}

static void test_strings_read(void **state)
{
    (void)state;
    uint8_t buf[1024], data[256];
    nt_tensor *t;
    /* ['ab', '', 'h\u00e9\u20ac\U0001F600'] as '<U4': trailing NULs are padding */
    const uint32_t cps[12] = {'a', 'b', 0, 0, 0, 0, 0, 0, 'h', 0xe9, 0x20ac, 0x1f600};
    const char *want[] = {"ab", "", "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"};
    for (int big = 0; big < 2; big++) {
        put_ucs4(data, cps, 12, big);
        size_t n = make_npy(buf, 1, big ? "{'descr': '>U4', 'fortran_order': False, 'shape': (3,), }"
                                        : "{'descr': '<U4', 'fortran_order': False, 'shape': (3,), }",
                            data, 48);
        assert_int_equal(nt_npy_parse(buf, n, "s.npy", &t), NT_OK);
        assert_strings(t, want, 3);
        nt_tensor_free(t);
        /* the streaming loader agrees */
        const char *p = tmp_path("s.npy");
        assert_int_equal(nt_write_file(p, buf, n), NT_OK);
        assert_int_equal(nt_npy_load(p, &t), NT_OK);
        assert_strings(t, want, 3);
        nt_tensor_free(t);
    }
    /* Fortran order 2x2: file order is column-major */
    const uint32_t f[4] = {'a', 'c', 'b', 'd'};
    put_ucs4(data, f, 4, false);
    size_t n = make_npy(buf, 1, "{'descr': '<U1', 'fortran_order': True, 'shape': (2, 2), }", data, 16);
    assert_int_equal(nt_npy_parse(buf, n, "s.npy", &t), NT_OK);
    const char *fw[] = {"a", "b", "c", "d"};
    assert_strings(t, fw, 4);
    nt_tensor_free(t);
    /* '|S3' bytes */
    n = make_npy(buf, 1, "{'descr': '|S3', 'fortran_order': False, 'shape': (2,), }", "xyzq\0\0", 6);
    assert_int_equal(nt_npy_parse(buf, n, "s.npy", &t), NT_OK);
    const char *sw[] = {"xyz", "q"};
    assert_strings(t, sw, 2);
    nt_tensor_free(t);
    /* zero elements */
    n = make_npy(buf, 1, "{'descr': '<U1', 'fortran_order': False, 'shape': (0, 3), }", data, 0);
    assert_int_equal(nt_npy_parse(buf, n, "s.npy", &t), NT_OK);
    assert_int_equal(t->dtype, NT_DTYPE_STRING);
    assert_int_equal(nt_tensor_numel(t), 0);
    nt_tensor_free(t);
    /* bad code points: a surrogate, past U+10FFFF, an embedded NUL */
    const uint32_t bad[3][2] = {{'a', 0xd800}, {0x110000, 'b'}, {0, 'c'}};
    const char *needle[3] = {"U+D800", "U+110000", "NUL"};
    for (int i = 0; i < 3; i++) {
        const uint32_t two[4] = {'o', 'k', bad[i][0], bad[i][1]};
        put_ucs4(data, two, 4, false);
        n = make_npy(buf, 1, "{'descr': '<U2', 'fortran_order': False, 'shape': (2,), }", data, 16);
        expect_fail(buf, n, NT_ERR_PARSE, needle[i], "element 1");
    }
    n = make_npy(buf, 1, "{'descr': '|S2', 'fortran_order': False, 'shape': (1,), }", "\xff" "a", 2);
    expect_fail(buf, n, NT_ERR_PARSE, "not UTF-8", "element 0");
}

static void test_strings_write(void **state)
{
    (void)state;
    const char *strs[] = {"", "ab", "h\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "z"};
    const int64_t dims[] = {2, 2};
    nt_tensor *t, *u;
    assert_int_equal(nt_tensor_new(NT_DTYPE_STRING, 2, dims, &t), NT_OK);
    assert_int_equal(nt_tensor_set_strings(t, 4, strs, NULL), NT_OK);
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_npy_encode(&b, t, "w.npy"), NT_OK);
    /* np.save(np.array([['', 'ab'], ['h\u00e9\u20ac\U0001F600', 'z']])) */
    const char *hdr = "{'descr': '<U4', 'fortran_order': False, 'shape': (2, 2), }";
    assert_int_equal(b.len, 128 + 64);
    assert_memory_equal(b.data + 10, hdr, strlen(hdr));
    assert_int_equal(b.data[127], '\n');
    const uint32_t cps[16] = {0, 0, 0, 0, 'a', 'b', 0, 0, 'h', 0xe9, 0x20ac, 0x1f600, 'z', 0, 0, 0};
    uint8_t want[64];
    put_ucs4(want, cps, 16, false);
    assert_memory_equal(b.data + 128, want, 64);
    assert_int_equal(nt_npy_parse(b.data, b.len, "w.npy", &u), NT_OK);
    assert_strings(u, strs, 4);
    nt_tensor_free(u);
    nt_buf_deinit(&b);
    /* all empty (and zero elements): width 1, as numpy gives */
    assert_int_equal(nt_tensor_set_strings(t, 4, NULL, NULL), NT_OK);
    nt_buf_init(&b);
    assert_int_equal(nt_npy_encode(&b, t, "w.npy"), NT_OK);
    assert_non_null(memmem(b.data, b.len, "'<U1'", 5));
    assert_int_equal(b.len, 128 + 16);
    nt_buf_deinit(&b);
    /* text that is not UTF-8 cannot become code points */
    const char *bad[] = {"ok", "\xc3(", "", ""};
    assert_int_equal(nt_tensor_set_strings(t, 4, bad, NULL), NT_OK);
    nt_buf_init(&b);
    assert_int_equal(nt_npy_encode(&b, t, "w.npy"), NT_ERR_UNSUPPORTED);
    assert_non_null(strstr(nt_last_error(), "w.npy"));
    assert_non_null(strstr(nt_last_error(), "element 1"));
    nt_buf_deinit(&b);
    nt_tensor_free(t);
}

static void test_save_refuses(void **state)
{
    (void)state;
    /* (float8/float4/int4/int2 are written widened: test_narrow.c) */
    const nt_dtype bad[] = {NT_DTYPE_BFLOAT16, NT_DTYPE_UNDEFINED};
    const int64_t dims[] = {4};
    for (size_t i = 0; i < NT_ARRAY_LEN(bad); i++) {
        nt_tensor t = {.dtype = bad[i], .ndim = 1, .dims = {4}};
        uint8_t data[16] = {0};
        t.data = data;
        t.capacity = sizeof data;
        const char *p = tmp_path("refused.npy");
        assert_int_equal(nt_npy_save(p, &t), NT_ERR_UNSUPPORTED);
        assert_non_null(strstr(nt_last_error(), "refused.npy"));
        assert_non_null(strstr(nt_last_error(), nt_dtype_name(bad[i])));
        assert_int_not_equal(access(p, F_OK), 0);
    }
    (void)dims;
    /* unknown dims and missing data are caller errors */
    nt_tensor t = {.dtype = NT_DTYPE_FLOAT, .ndim = 2, .dims = {2, -1}};
    assert_int_equal(nt_npy_save(tmp_path("bad.npy"), &t), NT_ERR_INVALID_ARG);
    t.dims[1] = 2;
    assert_int_equal(nt_npy_save(tmp_path("bad.npy"), &t), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_npy_save(tmp_path("bad.npy"), NULL), NT_ERR_INVALID_ARG);
}

static void test_io_errors(void **state)
{
    (void)state;
    nt_tensor *t;
    const int64_t dims[] = {256, 1024};
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 2, dims, &t), NT_OK);
    assert_int_equal(nt_npy_save("/nonexistent-dir/x.npy", t), NT_ERR_IO);
    assert_non_null(strstr(nt_last_error(), "/nonexistent-dir/x.npy"));
    nt_tensor *u = (nt_tensor *)1;
    assert_int_equal(nt_npy_load(tmp_path("missing.npy"), &u), NT_ERR_IO);
    assert_null(u);

    /* A full disk, simulated by a file-size limit: the 1 MiB write fails
     * and neither the file nor its temporary is left behind. */
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    lim = old;
    lim.rlim_cur = 64 * 1024;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    nt_status s = nt_npy_save(tmp_path("full.npy"), t);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(s, NT_ERR_IO);
    assert_non_null(strstr(nt_last_error(), "full.npy"));
    assert_int_not_equal(access(tmp_path("full.npy"), F_OK), 0);
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while ((e = readdir(d)))
        assert_null(strstr(e->d_name, "full.npy"));
    closedir(d);
    nt_tensor_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_every_dtype), cmocka_unit_test(test_roundtrip_shapes),
        cmocka_unit_test(test_header_matches_numpy),  cmocka_unit_test(test_versions),
        cmocka_unit_test(test_fortran_order),         cmocka_unit_test(test_big_endian),
        cmocka_unit_test(test_malformed),             cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_load_matches_parse),    cmocka_unit_test(test_save_refuses),
        cmocka_unit_test(test_load_pipe),             cmocka_unit_test(test_io_errors),
        cmocka_unit_test(test_strings_read),          cmocka_unit_test(test_strings_write),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_remove);
}
