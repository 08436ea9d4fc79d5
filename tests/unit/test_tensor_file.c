/*
 * test_tensor_file.c — the TensorProto encoder (byte-exact against what
 * onnx.numpy_helper.from_array(...).SerializeToString() produces), .pb tensor
 * files, and nt_tensor_load / nt_tensor_save choosing the format by suffix.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "onnx/writer.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_tmpdir.h"

static void assert_hex(const nt_buf *b, const char *hex)
{
    char got[512];
    size_t k = 0;
    for (size_t i = 0; i < b->len && k + 3 < sizeof got; i++)
        k += (size_t)snprintf(got + k, sizeof got - k, "%02x", (uint8_t)b->data[i]);
    got[k] = '\0';
    assert_string_equal(got, hex);
}

/* Expected bytes come from onnx 1.12: numpy_helper.from_array(a, name).SerializeToString(). */
static void test_encode_matches_onnx(void **state)
{
    (void)state;
    nt_buf b;
    nt_tensor *t;

    const int64_t d2[] = {2};
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, d2, &t), NT_OK);
    ((float *)t->data)[0] = 1.0f;
    ((float *)t->data)[1] = 2.0f;
    nt_buf_init(&b);
    assert_int_equal(nt_onnx_encode_tensor(&b, 0, t, "x"), NT_OK);
    assert_hex(&b, "080210014201784a080000803f00000040");
    nt_buf_deinit(&b);
    nt_tensor_free(t);

    /* 0-d int64, no name */
    assert_int_equal(nt_tensor_new(NT_DTYPE_INT64, 0, NULL, &t), NT_OK);
    ((int64_t *)t->data)[0] = 5;
    nt_buf_init(&b);
    assert_int_equal(nt_onnx_encode_tensor(&b, 0, t, NULL), NT_OK);
    assert_hex(&b, "10074a080500000000000000");
    nt_buf_deinit(&b);
    nt_tensor_free(t);

    /* zero-size bool: raw_data present and empty */
    const int64_t d03[] = {0, 3};
    assert_int_equal(nt_tensor_new(NT_DTYPE_BOOL, 2, d03, &t), NT_OK);
    nt_buf_init(&b);
    assert_int_equal(nt_onnx_encode_tensor(&b, 0, t, "e"), NT_OK);
    assert_hex(&b, "0800080310094201654a00");
    nt_buf_deinit(&b);

    /* as a nested field (GraphProto.initializer = 5): tag, length, message */
    nt_buf_init(&b);
    assert_int_equal(nt_onnx_encode_tensor(&b, 5, t, "e"), NT_OK);
    assert_hex(&b, "2a0b0800080310094201654a00");
    nt_buf_deinit(&b);
    nt_tensor_free(t);
}

static void test_encode_dtypes(void **state)
{
    (void)state;
    /* every fixed-width dtype goes to raw_data, sub-byte types packed */
    for (int d = 1; d < NT_DTYPE_COUNT; d++) {
        const int64_t dims[] = {3};
        nt_tensor t = {.dtype = (nt_dtype)d, .ndim = 1, .dims = {3}};
        uint8_t data[64];
        for (int i = 0; i < 64; i++)
            data[i] = (uint8_t)(i * 7 + 1);
        t.data = data;
        t.capacity = sizeof data;
        nt_buf b;
        nt_buf_init(&b);
        nt_status s = nt_onnx_encode_tensor(&b, 0, &t, "v");
        if (d == NT_DTYPE_STRING) {
            assert_int_equal(s, NT_ERR_UNSUPPORTED);
            assert_non_null(strstr(nt_last_error(), "STRING"));
        } else {
            assert_int_equal(s, NT_OK);
            size_t nbytes = nt_dtype_packed_bytes((nt_dtype)d, 3);
            /* 08 03 | 10 dtype | 42 01 76 | 4a len data */
            assert_int_equal(b.len, 2 + 2 + 3 + 2 + nbytes);
            assert_int_equal((uint8_t)b.data[3], d);
            assert_int_equal((uint8_t)b.data[8], nbytes);
            if (nt_dtype_bits((nt_dtype)d) >= 8) {
                assert_memory_equal(b.data + 9, data, nbytes);
            } else {
                uint8_t packed[8];
                nt_narrow_pack((nt_dtype)d, data, 3, packed);
                assert_memory_equal(b.data + 9, packed, nbytes);
            }
        }
        nt_buf_deinit(&b);
        (void)dims;
    }
    nt_tensor t = {.dtype = NT_DTYPE_UNDEFINED, .ndim = 0};
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_onnx_encode_tensor(&b, 0, &t, "u"), NT_ERR_UNSUPPORTED);
    t.dtype = NT_DTYPE_FLOAT;
    t.ndim = 1;
    t.dims[0] = -1;
    assert_int_equal(nt_onnx_encode_tensor(&b, 0, &t, "u"), NT_ERR_INVALID_ARG);
    t.dims[0] = 4;
    assert_int_equal(nt_onnx_encode_tensor(&b, 0, &t, "u"), NT_ERR_INVALID_ARG); /* no data */
    assert_int_equal(nt_onnx_encode_tensor(&b, 0, NULL, "u"), NT_ERR_INVALID_ARG);
    nt_buf_deinit(&b);
}

static void test_pb_save_bytes(void **state)
{
    (void)state;
    nt_tensor *t;
    const int64_t d2[] = {2};
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, d2, &t), NT_OK);
    ((float *)t->data)[0] = 1.0f;
    ((float *)t->data)[1] = 2.0f;
    assert_int_equal(nt_pb_tensor_save(tmp_path("x.pb"), t, "x"), NT_OK);
    char *data;
    size_t len;
    assert_int_equal(nt_read_file(tmp_path("x.pb"), &data, &len), NT_OK);
    assert_int_equal(len, 17);
    assert_memory_equal(data, "\x08\x02\x10\x01\x42\x01\x78\x4a\x08\x00\x00\x80\x3f\x00\x00\x00\x40", 17);
    free(data);
    /* refusals name the file */
    t->dtype = NT_DTYPE_STRING;
    assert_int_equal(nt_pb_tensor_save(tmp_path("s.pb"), t, "s"), NT_ERR_UNSUPPORTED);
    assert_non_null(strstr(nt_last_error(), "s.pb"));
    assert_int_not_equal(access(tmp_path("s.pb"), F_OK), 0);
    t->dtype = NT_DTYPE_FLOAT;
    assert_int_equal(nt_pb_tensor_save("/nonexistent-dir/x.pb", t, "x"), NT_ERR_IO);
    nt_tensor_free(t);
}

static void fill(nt_tensor *t)
{
    uint8_t *p = t->data;
    for (size_t i = 0; i < nt_tensor_nbytes(t); i++)
        p[i] = (uint8_t)(i * 13 + 5);
    if (t->dtype == NT_DTYPE_BOOL)
        for (size_t i = 0; i < nt_tensor_nbytes(t); i++)
            p[i] &= 1;
    /* sub-byte types hold one canonical value per byte in memory */
    if (nt_dtype_bits(t->dtype) < 8)
        for (size_t i = 0; i < nt_tensor_nbytes(t); i++)
            p[i] = t->dtype == NT_DTYPE_FLOAT4E2M1 ? (uint8_t)(p[i] & 0xf) : nt_int_to_narrow(t->dtype, p[i]);
}

/* nt_tensor_save then nt_tensor_load gives back the same tensor, for both
 * formats and every dtype each can hold. */
static void test_dispatch_roundtrip(void **state)
{
    (void)state;
    const int64_t dims[] = {2, 3, 2};
    const char *suffixes[] = {".npy", ".pb", ".NPY", ".Pb"};
    for (size_t k = 0; k < NT_ARRAY_LEN(suffixes); k++)
        for (int d = 1; d < NT_DTYPE_COUNT; d++) {
            bool is_npy = suffixes[k][1] == 'n' || suffixes[k][1] == 'N';
            nt_dtype dt = (nt_dtype)d;
            if (dt == NT_DTYPE_STRING)
                continue;
            bool npy_ok = dt != NT_DTYPE_BFLOAT16;
            nt_tensor *t, *u = NULL;
            assert_int_equal(nt_tensor_new(dt, 3, dims, &t), NT_OK);
            fill(t);
            char name[64];
            snprintf(name, sizeof name, "t_%s%s", nt_dtype_name(dt), suffixes[k]);
            nt_status s = nt_tensor_save(tmp_path(name), t);
            if (is_npy && !npy_ok) {
                assert_int_equal(s, NT_ERR_UNSUPPORTED);
                nt_tensor_free(t);
                continue;
            }
            assert_int_equal(s, NT_OK);
            s = nt_tensor_load(tmp_path(name), &u);
            if (s != NT_OK)
                fail_msg("%s: %s", name, nt_last_error());
            if (is_npy && nt_dtype_is_narrow(dt)) {
                /* written widened (int8, uint8 or float32): test_narrow.c checks values */
                assert_true(u->dtype == NT_DTYPE_INT8 || u->dtype == NT_DTYPE_UINT8 || u->dtype == NT_DTYPE_FLOAT);
                nt_tensor_free(u);
                nt_tensor_free(t);
                continue;
            }
            assert_int_equal(u->dtype, dt);
            assert_int_equal(u->ndim, 3);
            for (int i = 0; i < 3; i++)
                assert_int_equal(u->dims[i], dims[i]);
            assert_int_equal(nt_tensor_nbytes(u), nt_tensor_nbytes(t));
            assert_memory_equal(u->data, t->data, nt_tensor_nbytes(t));
            nt_tensor_free(u);
            nt_tensor_free(t);
        }
}

static void test_dispatch_unknown(void **state)
{
    (void)state;
    nt_tensor *t, *u = (nt_tensor *)1;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 0, NULL, &t), NT_OK);
    const char *bad[] = {"x.txt", "x", "x.npz", "npy", ".npy.bak", "x.onnx"};
    for (size_t i = 0; i < NT_ARRAY_LEN(bad); i++) {
        assert_int_equal(nt_tensor_save(bad[i], t), NT_ERR_INVALID_ARG);
        assert_non_null(strstr(nt_last_error(), bad[i]));
        assert_non_null(strstr(nt_last_error(), ".npy"));
        assert_int_equal(nt_tensor_load(bad[i], &u), NT_ERR_INVALID_ARG);
        assert_null(u);
        assert_non_null(strstr(nt_last_error(), "unknown tensor file type"));
    }
    assert_int_equal(nt_tensor_save("", t), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_tensor_save(NULL, t), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_tensor_load(NULL, &u), NT_ERR_INVALID_ARG);
    /* a missing file is an I/O error naming it, in either format */
    assert_int_equal(nt_tensor_load(tmp_path("missing.npy"), &u), NT_ERR_IO);
    assert_non_null(strstr(nt_last_error(), "missing.npy"));
    assert_int_equal(nt_tensor_load(tmp_path("missing.pb"), &u), NT_ERR_IO);
    assert_non_null(strstr(nt_last_error(), "missing.pb"));
    nt_tensor_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_matches_onnx), cmocka_unit_test(test_encode_dtypes),
        cmocka_unit_test(test_pb_save_bytes),       cmocka_unit_test(test_dispatch_roundtrip),
        cmocka_unit_test(test_dispatch_unknown),
    };
    return cmocka_run_group_tests(tests, tmpdir_setup, tmpdir_remove);
}
