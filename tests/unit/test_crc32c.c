/*
 * test_crc32c.c — CRC-32C against the standard check values (RFC 3720
 * appendix B.4 and the "123456789" check), on both the table path and, when
 * the CPU has SSE4.2, the hardware path; chaining; TFRecord masking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "trace/crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

/* Bit-at-a-time reference, straight from the definition. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
    }
    return ~c;
}

static void check_vectors(crc_fn f)
{
    uint8_t buf[32];
    assert_int_equal(f(0, "123456789", 9), 0xE3069283u);
    memset(buf, 0, sizeof buf);
    assert_int_equal(f(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(f(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(f(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(f(0, buf, 32), 0x113FDB5Cu);
    assert_int_equal(f(0, "", 0), 0u);
}

static void test_vectors_sw(void **state)
{
    (void)state;
    check_vectors(nt_crc32c_extend_sw);
}

static void test_vectors_hw(void **state)
{
    (void)state;
    if (!nt_crc32c_hw_available())
        skip();
    check_vectors(nt_crc32c_extend_hw);
}

static void test_vectors_dispatch(void **state)
{
    (void)state;
    check_vectors(nt_crc32c_extend);
    assert_int_equal(nt_crc32c("123456789", 9), 0xE3069283u);
}

/* Every length and alignment up to a few words agrees with the reference,
 * and chaining at every split point gives the same CRC. */
static void test_lengths_alignments_chaining(void **state)
{
    (void)state;
    uint8_t data[200];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof data; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 16);
    }
    for (size_t off = 0; off < 9; off++) {
        for (size_t n = 0; n + off <= 120; n++) {
            uint32_t want = crc_bitwise(data + off, n);
            assert_int_equal(nt_crc32c_extend_sw(0, data + off, n), want);
            if (nt_crc32c_hw_available())
                assert_int_equal(nt_crc32c_extend_hw(0, data + off, n), want);
        }
    }
    uint32_t whole = nt_crc32c(data, sizeof data);
    for (size_t split = 0; split <= sizeof data; split++) {
        uint32_t a = nt_crc32c(data, split);
        assert_int_equal(nt_crc32c_extend(a, data + split, sizeof data - split), whole);
        assert_int_equal(nt_crc32c_extend_sw(nt_crc32c_extend_sw(0, data, split), data + split,
                                             sizeof data - split),
                         whole);
    }
}

static void test_mask(void **state)
{
    (void)state;
    uint32_t c = 0xE3069283u;
    uint32_t m = nt_crc32c_mask(c);
    assert_int_equal(m, (((c >> 15) | (c << 17)) + 0xa282ead8u) & 0xffffffffu);
    assert_int_equal(nt_crc32c_unmask(m), c);
    for (uint32_t v = 0; v < 100000; v += 7)
        assert_int_equal(nt_crc32c_unmask(nt_crc32c_mask(v * 2654435761u)), v * 2654435761u);
    /* TFRecord's masked CRC of an 8-byte zero length */
    uint8_t zero[8] = {0};
    assert_int_equal(nt_crc32c_unmask(nt_crc32c_mask(nt_crc32c(zero, 8))), nt_crc32c(zero, 8));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_sw),
        cmocka_unit_test(test_vectors_hw),
        cmocka_unit_test(test_vectors_dispatch),
        cmocka_unit_test(test_lengths_alignments_chaining),
        cmocka_unit_test(test_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
