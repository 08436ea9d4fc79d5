/*
 * test_pb.c — the protobuf wire reader: every wire type, varint edge cases
 * (10-byte maximum, overflow, truncation), lengths past the end, refused
 * groups, nesting depth, packed and unpacked repeated fields, and the
 * TensorProto decoder behind .pb tensor files (every typed field, raw data,
 * size mismatches, overflowing dims).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "onnx/onnx_tensor.h"
#include "onnx/pb.h"
#include "onnx/pbw.h"

static void test_varint(void **state)
{
    (void)state;
    nt_buf b;
    nt_buf_init(&b);
    uint64_t vals[] = {0, 1, 127, 128, 300, 0xffffffffu, UINT64_MAX, (uint64_t)-1 >> 1};
    for (size_t i = 0; i < NT_ARRAY_LEN(vals); i++)
        nt_pbw_varint(&b, vals[i]);
    const uint8_t *p = (const uint8_t *)b.data, *end = p + b.len;
    for (size_t i = 0; i < NT_ARRAY_LEN(vals); i++) {
        uint64_t v;
        assert_int_equal(nt_pb_read_varint(&p, end, &v), NT_OK);
        assert_true(v == vals[i]);
    }
    assert_ptr_equal(p, end);
    nt_buf_deinit(&b);

    /* 11 continuation bytes: too long. */
    uint8_t longv[11];
    memset(longv, 0x80, sizeof longv);
    p = longv;
    uint64_t v;
    assert_int_equal(nt_pb_read_varint(&p, longv + 11, &v), NT_ERR_PARSE);
    /* 10th byte > 1 overflows 64 bits. */
    uint8_t ovf[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    p = ovf;
    assert_int_equal(nt_pb_read_varint(&p, ovf + 10, &v), NT_ERR_PARSE);
    /* Truncated. */
    uint8_t tr[2] = {0x80, 0x80};
    p = tr;
    assert_int_equal(nt_pb_read_varint(&p, tr + 2, &v), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "truncated"));
}

static void test_wire_types(void **state)
{
    (void)state;
    nt_buf b;
    nt_buf_init(&b);
    nt_pbw_uint(&b, 1, 150);
    nt_pbw_fixed64(&b, 2, 0x0102030405060708ull);
    nt_pbw_string(&b, 3, "hello");
    nt_pbw_float(&b, 4, 1.5f);
    nt_pbw_double(&b, 5, -2.25);
    nt_pbw_uint(&b, 536870911u, 7); /* the largest field number */
    nt_pb c = nt_pb_init(b.data, b.len);
    nt_pb_field f;
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_int_equal(f.num, 1);
    assert_int_equal(f.wire, NT_PB_VARINT);
    assert_int_equal(f.v, 150);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_int_equal(f.wire, NT_PB_FIXED64);
    assert_true(f.v == 0x0102030405060708ull);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_int_equal(f.wire, NT_PB_LEN);
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.data, "hello", 5);
    uint64_t iv;
    assert_int_equal(nt_pb_field_int(&f, &iv), NT_ERR_PARSE);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    float fl;
    assert_int_equal(nt_pb_field_float(&f, &fl), NT_OK);
    assert_true(fl == 1.5f);
    double d;
    assert_int_equal(nt_pb_field_double(&f, &d), NT_ERR_PARSE);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_int_equal(nt_pb_field_double(&f, &d), NT_OK);
    assert_true(d == -2.25);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_int_equal(f.num, 536870911u);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_true(f.end);
    nt_buf_deinit(&b);
}

static void test_bad_fields(void **state)
{
    (void)state;
    nt_pb_field f;
    /* Length 1000 with 2 bytes left. */
    uint8_t len_past[] = {0x0a, 0xe8, 0x07, 'a', 'b'};
    nt_pb c = nt_pb_init(len_past, sizeof len_past);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "length 1000 exceeds the 2 bytes left"));
    /* A huge 64-bit length. */
    uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    c = nt_pb_init(huge, sizeof huge);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    /* Groups: start (3) and end (4). */
    uint8_t group[] = {0x0b, 0x0c};
    c = nt_pb_init(group, 1);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "group"));
    c = nt_pb_init(group + 1, 1);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    /* Wire types 6 and 7. */
    uint8_t w6[] = {0x0e}, w7[] = {0x0f};
    c = nt_pb_init(w6, 1);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    c = nt_pb_init(w7, 1);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    /* Field number 0. */
    uint8_t zero[] = {0x00, 0x01};
    c = nt_pb_init(zero, 2);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    /* Truncated fixed32 / fixed64 / varint value. */
    uint8_t f32[] = {0x0d, 1, 2}, f64[] = {0x09, 1, 2, 3, 4, 5, 6, 7}, vi[] = {0x08, 0x80};
    c = nt_pb_init(f32, sizeof f32);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    c = nt_pb_init(f64, sizeof f64);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    c = nt_pb_init(vi, sizeof vi);
    assert_int_equal(nt_pb_next(&c, &f), NT_ERR_PARSE);
    /* Empty message: immediately at its end. */
    c = nt_pb_init(NULL, 0);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_true(f.end);
}

static void test_depth(void **state)
{
    (void)state;
    uint8_t msg[] = {0x0a, 0x00};
    nt_pb c = nt_pb_init(msg, sizeof msg), sub;
    nt_pb_field f;
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    c.depth = NT_PB_MAX_DEPTH - 1;
    assert_int_equal(nt_pb_sub(&c, &f, &sub), NT_OK);
    assert_int_equal(sub.depth, NT_PB_MAX_DEPTH);
    assert_int_equal(nt_pb_sub(&sub, &f, &c), NT_ERR_PARSE);
    /* A varint field is not a message. */
    uint8_t v[] = {0x08, 0x01};
    c = nt_pb_init(v, 2);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_int_equal(nt_pb_sub(&c, &f, &sub), NT_ERR_PARSE);
}

static void test_packed_and_unpacked(void **state)
{
    (void)state;
    nt_buf b;
    nt_buf_init(&b);
    /* ints [1, -2, 300] packed, then 7 and 8 unpacked. */
    nt_buf p;
    nt_buf_init(&p);
    nt_pbw_varint(&p, 1);
    nt_pbw_varint(&p, (uint64_t)-2);
    nt_pbw_varint(&p, 300);
    nt_pbw_bytes(&b, 8, p.data, p.len);
    nt_pbw_uint(&b, 8, 7);
    nt_pbw_uint(&b, 8, 8);
    nt_buf_deinit(&p);
    nt_pb c = nt_pb_init(b.data, b.len);
    nt_pb_field f;
    size_t count = 0;
    int64_t got[5];
    size_t k = 0;
    while (nt_pb_next(&c, &f) == NT_OK && !f.end) {
        assert_int_equal(nt_pb_count_elems(&f, NT_PB_VARINT, &count), NT_OK);
        size_t pos = 0;
        uint64_t v;
        while (nt_pb_elem_iter(&f, NT_PB_VARINT, &pos, &v))
            got[k++] = (int64_t)v;
    }
    assert_int_equal(count, 5);
    assert_int_equal(k, 5);
    assert_true(got[0] == 1 && got[1] == -2 && got[2] == 300 && got[3] == 7 && got[4] == 8);
    nt_buf_deinit(&b);

    /* Packed floats must be a multiple of 4 bytes. */
    uint8_t bad[] = {0x3a, 0x03, 0, 0, 0};
    c = nt_pb_init(bad, sizeof bad);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    count = 0;
    assert_int_equal(nt_pb_count_elems(&f, NT_PB_FIXED32, &count), NT_ERR_PARSE);
    /* A packed varint list ending mid-value. */
    uint8_t badv[] = {0x42, 0x02, 0x01, 0x80};
    c = nt_pb_init(badv, sizeof badv);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_int_equal(nt_pb_count_elems(&f, NT_PB_VARINT, &count), NT_ERR_PARSE);
    /* Wrong wire type for a repeated fixed32. */
    uint8_t badw[] = {0x38, 0x01};
    c = nt_pb_init(badw, sizeof badw);
    assert_int_equal(nt_pb_next(&c, &f), NT_OK);
    assert_int_equal(nt_pb_count_elems(&f, NT_PB_FIXED32, &count), NT_ERR_PARSE);
}

/* ---- TensorProto files */

static void tensor_header(nt_buf *b, int ndim, const int64_t *dims, int dtype, const char *name)
{
    for (int i = 0; i < ndim; i++)
        nt_pbw_uint(b, NT_TP_DIMS, (uint64_t)dims[i]);
    nt_pbw_uint(b, NT_TP_DATA_TYPE, (uint64_t)dtype);
    if (name)
        nt_pbw_string(b, NT_TP_NAME, name);
}

static void test_tensor_typed(void **state)
{
    (void)state;
    int64_t dims[2] = {2, 2};
    nt_buf b;
    nt_tensor *t;
    char *name;

    /* float_data, unpacked. */
    nt_buf_init(&b);
    tensor_header(&b, 2, dims, NT_DTYPE_FLOAT, "w");
    for (int i = 0; i < 4; i++)
        nt_pbw_float(&b, NT_TP_FLOAT_DATA, (float)i + 0.5f);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, "w.pb", &t, &name), NT_OK);
    assert_string_equal(name, "w");
    assert_int_equal(t->dtype, NT_DTYPE_FLOAT);
    assert_int_equal(t->ndim, 2);
    assert_true(t->flags & NT_TENSOR_OWNS_DATA);
    assert_true(((float *)t->data)[3] == 3.5f);
    nt_tensor_free(t);
    free(name);
    nt_buf_deinit(&b);

    /* int32_data carries int8 (negative), float16 bits, bool; packed. */
    struct { int dtype; int64_t vals[4]; size_t es; } cases[] = {
        {NT_DTYPE_INT8, {-1, 2, -128, 127}, 1},
        {NT_DTYPE_FLOAT16, {0x3c00, 0xc000, 0, 0x7c00}, 2},
        {NT_DTYPE_BOOL, {1, 0, 1, 1}, 1},
        {NT_DTYPE_INT16, {-300, 300, 0, -1}, 2},
        {NT_DTYPE_INT32, {-70000, 70000, 0, -1}, 4},
        {NT_DTYPE_BFLOAT16, {0x3f80, 0, 0, 0xbf80}, 2},
        {NT_DTYPE_FLOAT8E4M3FN, {0x38, 0, 0x7e, 0xb8}, 1},
    };
    for (size_t c = 0; c < NT_ARRAY_LEN(cases); c++) {
        nt_buf_init(&b);
        tensor_header(&b, 2, dims, cases[c].dtype, NULL);
        nt_buf p;
        nt_buf_init(&p);
        for (int i = 0; i < 4; i++)
            nt_pbw_varint(&p, (uint64_t)cases[c].vals[i]);
        nt_pbw_bytes(&b, NT_TP_INT32_DATA, p.data, p.len);
        nt_buf_deinit(&p);
        assert_int_equal(nt_pb_tensor_parse(b.data, b.len, "x.pb", &t, &name), NT_OK);
        assert_string_equal(name, "");
        for (int i = 0; i < 4; i++) {
            int64_t want = cases[c].vals[i], got = 0;
            memcpy(&got, (uint8_t *)t->data + i * cases[c].es, cases[c].es);
            uint64_t mask = cases[c].es == 8 ? UINT64_MAX : ((uint64_t)1 << (8 * cases[c].es)) - 1;
            assert_true(((uint64_t)got & mask) == ((uint64_t)want & mask));
        }
        nt_tensor_free(t);
        free(name);
        nt_buf_deinit(&b);
    }

    /* int64_data, double_data, uint64_data (uint32), string_data. */
    nt_buf_init(&b);
    tensor_header(&b, 1, dims, NT_DTYPE_INT64, NULL);
    nt_pbw_uint(&b, NT_TP_INT64_DATA, (uint64_t)-5);
    nt_pbw_uint(&b, NT_TP_INT64_DATA, 1ull << 40);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, NULL, &t, NULL), NT_OK);
    assert_true(((int64_t *)t->data)[0] == -5 && ((int64_t *)t->data)[1] == (1ll << 40));
    nt_tensor_free(t);
    nt_buf_deinit(&b);

    nt_buf_init(&b);
    tensor_header(&b, 1, dims, NT_DTYPE_DOUBLE, NULL);
    nt_pbw_double(&b, NT_TP_DOUBLE_DATA, 0.25);
    nt_pbw_double(&b, NT_TP_DOUBLE_DATA, -1e300);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, NULL, &t, NULL), NT_OK);
    assert_true(((double *)t->data)[1] == -1e300);
    nt_tensor_free(t);
    nt_buf_deinit(&b);

    nt_buf_init(&b);
    tensor_header(&b, 1, dims, NT_DTYPE_UINT32, NULL);
    nt_pbw_uint(&b, NT_TP_UINT64_DATA, 0xfffffffful);
    nt_pbw_uint(&b, NT_TP_UINT64_DATA, 3);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, NULL, &t, NULL), NT_OK);
    assert_true(((uint32_t *)t->data)[0] == 0xffffffffu && ((uint32_t *)t->data)[1] == 3);
    nt_tensor_free(t);
    nt_buf_deinit(&b);

    nt_buf_init(&b);
    tensor_header(&b, 1, dims, NT_DTYPE_STRING, NULL);
    nt_pbw_string(&b, NT_TP_STRING_DATA, "abc");
    nt_pbw_string(&b, NT_TP_STRING_DATA, "");
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, NULL, &t, NULL), NT_OK);
    assert_string_equal(((const char **)t->data)[0], "abc");
    assert_string_equal(((const char **)t->data)[1], "");
    nt_tensor_free(t);
    nt_buf_deinit(&b);

    /* Scalar (no dims) and an empty tensor. */
    nt_buf_init(&b);
    tensor_header(&b, 0, NULL, NT_DTYPE_FLOAT, NULL);
    nt_pbw_float(&b, NT_TP_FLOAT_DATA, 9.0f);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, NULL, &t, NULL), NT_OK);
    assert_int_equal(t->ndim, 0);
    assert_true(*(float *)t->data == 9.0f);
    nt_tensor_free(t);
    nt_buf_deinit(&b);
    int64_t zero[2] = {0, 3};
    nt_buf_init(&b);
    tensor_header(&b, 2, zero, NT_DTYPE_FLOAT, NULL);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, NULL, &t, NULL), NT_OK);
    assert_int_equal(nt_tensor_numel(t), 0);
    nt_tensor_free(t);
    nt_buf_deinit(&b);
}

static void test_tensor_raw_and_errors(void **state)
{
    (void)state;
    int64_t dims[2] = {2, 3};
    float vals[6] = {1, 2, 3, 4, 5, 6};
    nt_buf b;
    nt_tensor *t;

    nt_buf_init(&b);
    tensor_header(&b, 2, dims, NT_DTYPE_FLOAT, "x");
    nt_pbw_bytes(&b, NT_TP_RAW_DATA, vals, sizeof vals);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, "x.pb", &t, NULL), NT_OK);
    assert_memory_equal(t->data, vals, sizeof vals);
    assert_true(t->flags & NT_TENSOR_OWNS_DATA);
    nt_tensor_free(t);
    /* Truncated at every length: never a crash, always PARSE. */
    for (size_t n = 0; n < b.len; n++) {
        nt_status s = nt_pb_tensor_parse(b.data, n, "x.pb", &t, NULL);
        assert_int_not_equal(s, NT_OK);
        assert_null(t);
    }
    nt_buf_deinit(&b);

    /* raw_data one byte short. */
    nt_buf_init(&b);
    tensor_header(&b, 2, dims, NT_DTYPE_FLOAT, "x");
    nt_pbw_bytes(&b, NT_TP_RAW_DATA, vals, sizeof vals - 1);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, "x.pb", &t, NULL), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "x.pb"));
    assert_non_null(strstr(nt_last_error(), "raw_data holds 23 bytes, the shape needs 24"));
    nt_buf_deinit(&b);

    /* Dims whose product overflows. */
    int64_t big[3] = {1ll << 40, 1ll << 40, 1ll << 40};
    nt_buf_init(&b);
    tensor_header(&b, 3, big, NT_DTYPE_FLOAT, "x");
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, "x.pb", &t, NULL), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "overflow"));
    nt_buf_deinit(&b);
    /* Huge but not overflowing: no absurd allocation, just a size mismatch. */
    int64_t huge[2] = {1ll << 30, 1ll << 20};
    nt_buf_init(&b);
    tensor_header(&b, 2, huge, NT_DTYPE_FLOAT, "x");
    nt_pbw_float(&b, NT_TP_FLOAT_DATA, 1.0f);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, "x.pb", &t, NULL), NT_ERR_PARSE);
    nt_buf_deinit(&b);
    /* Negative dim. */
    int64_t neg[1] = {-2};
    nt_buf_init(&b);
    tensor_header(&b, 1, neg, NT_DTYPE_FLOAT, "x");
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, "x.pb", &t, NULL), NT_ERR_PARSE);
    nt_buf_deinit(&b);
    /* Wrong typed field for the dtype, and a bad dtype. */
    nt_buf_init(&b);
    tensor_header(&b, 1, dims, NT_DTYPE_FLOAT, "x");
    nt_pbw_uint(&b, NT_TP_INT64_DATA, 1);
    nt_pbw_uint(&b, NT_TP_INT64_DATA, 1);
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, "x.pb", &t, NULL), NT_ERR_PARSE);
    assert_non_null(strstr(nt_last_error(), "int64_data"));
    nt_buf_deinit(&b);
    nt_buf_init(&b);
    tensor_header(&b, 1, dims, 99, "x");
    assert_int_equal(nt_pb_tensor_parse(b.data, b.len, "x.pb", &t, NULL), NT_ERR_PARSE);
    nt_buf_deinit(&b);
    /* Rank over NT_MAX_DIMS. */
    int64_t ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    nt_buf_init(&b);
    tensor_header(&b, 9, ones, NT_DTYPE_FLOAT, "x");
    assert_int_not_equal(nt_pb_tensor_parse(b.data, b.len, "x.pb", &t, NULL), NT_OK);
    nt_buf_deinit(&b);
    /* Empty and non-protobuf input. */
    assert_int_equal(nt_pb_tensor_parse("", 0, "e.pb", &t, NULL), NT_ERR_PARSE);
    assert_int_equal(nt_pb_tensor_parse("hello world, not a tensor", 25, "t.pb", &t, NULL), NT_ERR_PARSE);
    /* A missing file is an I/O error. */
    assert_int_equal(nt_pb_tensor_load("/nonexistent/dir/x.pb", &t, NULL), NT_ERR_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint),
        cmocka_unit_test(test_wire_types),
        cmocka_unit_test(test_bad_fields),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_packed_and_unpacked),
        cmocka_unit_test(test_tensor_typed),
        cmocka_unit_test(test_tensor_raw_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
