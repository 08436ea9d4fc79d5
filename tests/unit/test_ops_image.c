/*
 * test_ops_image.c — ImageDecoder (src/ops/image.c): a 2x2 BMP (bottom-up,
 * padded rows) and the same picture as binary PNM decode to the same RGB
 * pixels; BGR swaps channels; Grayscale follows Pillow's weights; a cut
 * BMP is an error, and a JPEG stream is declined with its format named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "op_harness.h"

static const uint8_t px[4][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}}; /* row-major RGB */

static nt_tensor *bytes_tensor(const uint8_t *b, int64_t n)
{
    return mk(NT_DTYPE_UINT8, 1, &n, b);
}

static nt_status decode(const uint8_t *b, int64_t n, const char *fmt, nt_tensor **y)
{
    nt_tensor *in[1] = {bytes_tensor(b, n)};
    tnode t;
    tn_init(&t, "ImageDecoder");
    if (fmt)
        a_str(&t, "pixel_format", fmt);
    nt_status s = oh_run(&t, 20, 1, in, 1, y, NULL, NULL);
    nt_tensor_free(in[0]);
    return s;
}

static size_t make_bmp(uint8_t *b)
{
    memset(b, 0, 70);
    size_t row = 8; /* 2 pixels * 3 bytes, padded to 4 */
    b[0] = 'B', b[1] = 'M';
    b[10] = 54;                 /* pixel data offset */
    b[14] = 40;                 /* BITMAPINFOHEADER */
    b[18] = 2, b[22] = 2;       /* width 2, height 2 (bottom-up) */
    b[26] = 1, b[28] = 24;      /* planes, bits per pixel */
    for (int y = 0; y < 2; y++)
        for (int x = 0; x < 2; x++) {
            const uint8_t *p = px[y * 2 + x];
            uint8_t *d = b + 54 + row * (size_t)(1 - y) + (size_t)x * 3;
            d[0] = p[2], d[1] = p[1], d[2] = p[0];
        }
    return 54 + 2 * row;
}

static void test_bmp_pnm_same_pixels(void **state)
{
    (void)state;
    uint8_t bmp[70];
    size_t nb = make_bmp(bmp);
    nt_tensor *y;
    assert_int_equal(decode(bmp, (int64_t)nb, NULL, &y), NT_OK);
    assert_int_equal(y->ndim, 3);
    assert_int_equal(y->dims[0], 2);
    assert_int_equal(y->dims[1], 2);
    assert_int_equal(y->dims[2], 3);
    assert_memory_equal(y->data, px, 12);
    nt_tensor_free(y);

    uint8_t pnm[64];
    int h = snprintf((char *)pnm, sizeof pnm, "P6\n# c\n2 2\n255\n");
    memcpy(pnm + h, px, 12);
    assert_int_equal(decode(pnm, h + 12, NULL, &y), NT_OK);
    assert_memory_equal(y->data, px, 12);
    nt_tensor_free(y);

    assert_int_equal(decode(bmp, (int64_t)nb, "BGR", &y), NT_OK);
    assert_int_equal(((uint8_t *)y->data)[0], 0);
    assert_int_equal(((uint8_t *)y->data)[2], 255);
    nt_tensor_free(y);
    assert_int_equal(decode(bmp, (int64_t)nb, "Grayscale", &y), NT_OK);
    assert_int_equal(y->dims[2], 1);
    assert_int_equal(((uint8_t *)y->data)[0], (255 * 19595 + 0x8000) >> 16);   /* 76 */
    assert_int_equal(((uint8_t *)y->data)[3], (10 * 19595 + 20 * 38470 + 30 * 7471 + 0x8000) >> 16);
    nt_tensor_free(y);
}

static void test_bad_and_declined(void **state)
{
    (void)state;
    uint8_t bmp[70];
    size_t nb = make_bmp(bmp);
    nt_tensor *y;
    assert_int_equal(decode(bmp, (int64_t)nb - 4, NULL, &y), NT_ERR_SHAPE);
    const uint8_t jpeg[8] = {0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F'};
    assert_int_equal(decode(jpeg, 8, NULL, &y), NT_ERR_UNSUPPORTED);
    assert_non_null(strstr(nt_last_error(), "JPEG"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bmp_pnm_same_pixels),
        cmocka_unit_test(test_bad_and_declined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
