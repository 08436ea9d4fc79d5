/*
 * test_png.c — PNG encoding (decoded back with libpng's simplified reader and
 * compared pixel for pixel, every channel count), argument checks, file
 * output, colormaps and heatmaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "viz/png.h"

#include <math.h>
#include <png.h>
#include <unistd.h>

/* Decodes PNG bytes into `channels`-per-pixel 8-bit samples. */
static uint8_t *decode(const void *data, size_t len, int channels, int *h, int *w)
{
    static const png_uint_32 formats[5] = {0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_memory(&img, data, len));
    img.format = formats[channels];
    uint8_t *px = malloc(PNG_IMAGE_SIZE(img));
    assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
    *h = (int)img.height;
    *w = (int)img.width;
    return px;
}

static void test_round_trip_all_channels(void **state)
{
    (void)state;
    for (int c = 1; c <= 4; c++) {
        int h = 7, w = 13;
        uint8_t *px = malloc((size_t)h * w * c);
        for (int i = 0; i < h * w * c; i++)
            px[i] = (uint8_t)(i * 31 + c);
        nt_buf b;
        nt_buf_init(&b);
        nt_buf_puts(&b, "prefix"); /* encoding appends */
        assert_int_equal(nt_png_encode(px, h, w, c, &b), NT_OK);
        assert_memory_equal(b.data, "prefix\x89PNG", 10);
        int dh, dw;
        uint8_t *back = decode(b.data + 6, b.len - 6, c, &dh, &dw);
        assert_int_equal(dh, h);
        assert_int_equal(dw, w);
        assert_memory_equal(back, px, (size_t)h * w * c);
        free(back);
        nt_buf_deinit(&b);
        free(px);
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uint8_t px[12] = {0};
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_png_encode(px, 2, 2, 5, &b), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_png_encode(px, 2, 2, 0, &b), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_png_encode(px, 0, 2, 3, &b), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_png_encode(px, 2, -1, 3, &b), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_png_encode(NULL, 2, 2, 3, &b), NT_ERR_INVALID_ARG);
    assert_int_equal(b.len, 0);
    nt_buf_deinit(&b);
    assert_int_equal(nt_png_write("/nonexistent/dir/x.png", px, 2, 2, 3), NT_ERR_IO);
}

static void test_write_file(void **state)
{
    (void)state;
    char path[] = "/tmp/nt_test_png_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    uint8_t px[3 * 4 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(255 - i);
    assert_int_equal(nt_png_write(path, px, 3, 4, 3), NT_OK);
    char *data;
    size_t len;
    assert_int_equal(nt_read_file(path, &data, &len), NT_OK);
    int h, w;
    uint8_t *back = decode(data, len, 3, &h, &w);
    assert_int_equal(h, 3);
    assert_int_equal(w, 4);
    assert_memory_equal(back, px, sizeof px);
    free(back);
    free(data);
    unlink(path);
}

static void test_colormaps(void **state)
{
    (void)state;
    uint8_t a[3], b[3];
    nt_colormap_rgb(NT_COLORMAP_VIRIDIS, 0, a);
    assert_int_equal(a[0], 0x44);
    assert_int_equal(a[2], 0x54);
    nt_colormap_rgb(NT_COLORMAP_VIRIDIS, 1, a);
    assert_int_equal(a[0], 0xfd);
    assert_int_equal(a[1], 0xe7);
    nt_colormap_rgb(NT_COLORMAP_VIRIDIS, 7, b); /* clamped */
    assert_memory_equal(a, b, 3);
    nt_colormap_rgb(NT_COLORMAP_DIVERGING, 0.5, a);
    assert_int_equal(a[0], 0xf7);
    nt_colormap_rgb(NT_COLORMAP_GRAY, 0.5, a);
    assert_int_equal(a[0], 128);
    /* viridis brightens monotonically (sum of channels) */
    int prev = -1;
    for (int i = 0; i <= 100; i++) {
        nt_colormap_rgb(NT_COLORMAP_VIRIDIS, i / 100.0, a);
        int s = a[0] + a[1] + a[2];
        assert_true(s + 3 >= prev);
        prev = s;
    }
    nt_colormap_rgb(NT_COLORMAP_VIRIDIS, NAN, a);
    nt_colormap_rgb(NT_COLORMAP_VIRIDIS, 0.3, b);
    assert_memory_not_equal(a, b, 3);
}

static void test_heatmap(void **state)
{
    (void)state;
    float m[6] = {0, 1, 2, 3, 4, NAN};
    uint8_t *px;
    int h, w;
    assert_int_equal(nt_heatmap_rgb(m, 2, 3, 0, 0, NT_COLORMAP_VIRIDIS, 4, &px, &h, &w), NT_OK);
    assert_int_equal(h, 8);
    assert_int_equal(w, 12);
    uint8_t lo[3], hi[3], nan[3];
    nt_colormap_rgb(NT_COLORMAP_VIRIDIS, 0, lo);
    nt_colormap_rgb(NT_COLORMAP_VIRIDIS, 1, hi);
    nt_colormap_rgb(NT_COLORMAP_VIRIDIS, NAN, nan);
    assert_memory_equal(px, lo, 3);                                /* (0,0) */
    assert_memory_equal(px + ((size_t)3 * w + 3) * 3, lo, 3);      /* same cell, last pixel */
    assert_memory_equal(px + ((size_t)4 * w + 4) * 3, hi, 3);      /* (1,1) = 4 = max */
    assert_memory_equal(px + ((size_t)5 * w + 11) * 3, nan, 3);    /* (1,2) NaN */
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_png_encode(px, h, w, 3, &b), NT_OK);
    nt_buf_deinit(&b);
    free(px);

    /* explicit range and a constant matrix */
    float k[4] = {5, 5, 5, 5};
    assert_int_equal(nt_heatmap_rgb(k, 2, 2, 0, 10, NT_COLORMAP_GRAY, 1, &px, &h, &w), NT_OK);
    assert_int_equal(px[0], 128);
    free(px);
    assert_int_equal(nt_heatmap_rgb(k, 2, 2, 0, 0, NT_COLORMAP_DIVERGING, 1, &px, &h, &w), NT_OK);
    free(px);
    assert_int_equal(nt_heatmap_rgb(k, 0, 2, 0, 0, NT_COLORMAP_GRAY, 1, &px, &h, &w), NT_ERR_INVALID_ARG);
    assert_null(px);
}

/* The framed heatmap: larger than the bare one, dark text in the margins,
 * a number in each big cell in the colour that reads on it, a colour bar. */
static void test_heatmap_figure(void **state)
{
    (void)state;
    float m[4] = {0.0f, 1.0f, 0.25f, 0.75f};
    double counts[4] = {0, 12, 3, 9};
    const char *names[2] = {"cat", "dog"};
    nt_heatmap_labels lab = {"TITLE", "TRUE", "PREDICTED", names, names, false, false, counts, "SHARE"};
    uint8_t *px = NULL;
    int h = 0, w = 0;
    assert_int_equal(nt_heatmap_figure(m, 2, 2, 0, 1, NT_COLORMAP_VIRIDIS, 64, &lab, &px, &h, &w), NT_OK);
    assert_true(w > 2 * 64 + 40 && h > 2 * 64 + 20);
    /* the left margin (row title and labels) holds dark pixels */
    int dark = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < 40; x++)
            dark += px[((size_t)y * w + x) * 3] < 0x80;
    assert_true(dark > 20);
    /* cell (0,0) is dark (value 0): its number is drawn in white; cell (0,1)
     * is bright (value 1): drawn in near-black */
    int white = 0, black = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = px + ((size_t)y * w + x) * 3;
            white += p[0] == 0xff && p[1] == 0xff && p[2] == 0xff;
            black += p[0] == 0x11 && p[1] == 0x11 && p[2] == 0x11;
        }
    assert_true(white > 0 && black > 0);
    free(px);
    /* numbers that cannot fit their cells are left out, not drawn over neighbours */
    double big[4] = {123456, 1, 2, 3};
    lab.values = big;
    assert_int_equal(nt_heatmap_figure(m, 2, 2, 0, 1, NT_COLORMAP_VIRIDIS, 8, &lab, &px, &h, &w), NT_OK);
    free(px);
    assert_int_equal(nt_heatmap_figure(m, 0, 2, 0, 1, NT_COLORMAP_VIRIDIS, 8, &lab, &px, &h, &w), NT_ERR_INVALID_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heatmap_figure),
        cmocka_unit_test(test_round_trip_all_channels),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_write_file),
        cmocka_unit_test(test_colormaps),
        cmocka_unit_test(test_heatmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
