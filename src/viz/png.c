/*
 * png.c — PNG encoding with libpng and heatmap colormaps (see png.h).
 *
 * libpng reports errors by calling an error callback that must not return;
 * ours records the message and longjmps back into nt_png_encode, so a
 * libpng failure becomes an nt_status and nothing is printed (the default
 * handlers write to stderr).
 */
#include "viz/png.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

typedef struct png_ctx {
    nt_buf *out;
    char msg[256];
} png_ctx;

static void png_on_error(png_structp png, png_const_charp msg)
{
    png_ctx *ctx = png_get_error_ptr(png);
    snprintf(ctx->msg, sizeof ctx->msg, "%s", msg ? msg : "libpng error");
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* warnings are not errors; the library never prints */
}

static void png_on_write(png_structp png, png_bytep data, png_size_t len)
{
    png_ctx *ctx = png_get_io_ptr(png);
    nt_buf_append(ctx->out, data, len);
    if (ctx->out->failed)
        png_error(png, "out of memory");
}

static void png_on_flush(png_structp png) { (void)png; }

nt_status nt_png_encode(const uint8_t *pixels, int height, int width, int channels, nt_buf *out)
{
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                                       PNG_COLOR_TYPE_RGBA};
    if (!pixels || !out)
        return nt_error(NT_ERR_INVALID_ARG, "png: NULL pixels or output buffer");
    if (height <= 0 || width <= 0 || height > 1000000 || width > 1000000)
        return nt_error(NT_ERR_INVALID_ARG, "png: bad image size %dx%d", height, width);
    if (channels < 1 || channels > 4)
        return nt_error(NT_ERR_INVALID_ARG, "png: channels must be 1, 2, 3 or 4 (got %d)", channels);
    size_t stride;
    if (!nt_mul_size((size_t)width, (size_t)channels, &stride))
        return nt_error(NT_ERR_NOMEM, "png: image too large");
    png_bytep *rows = nt_calloc((size_t)height, sizeof *rows);
    if (!rows)
        return NT_ERR_NOMEM;
    for (int y = 0; y < height; y++)
        rows[y] = (png_bytep)(pixels + (size_t)y * stride);

    /* On the heap: the error callback writes into it between setjmp and
     * longjmp, which C only guarantees for objects not local to this frame. */
    png_ctx *ctx = nt_calloc(1, sizeof *ctx);
    if (!ctx) {
        free(rows);
        return NT_ERR_NOMEM;
    }
    ctx->out = out;
    size_t start = out->len;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, ctx, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(png ? &png : NULL, NULL);
        free(rows);
        free(ctx);
        return nt_error(NT_ERR_NOMEM, "png: cannot create libpng writer");
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        nt_status s = out->failed ? NT_ERR_NOMEM : NT_ERR_INTERNAL;
        if (!out->failed)
            out->len = start;
        s = nt_error(s, "png: encoding failed: %s", ctx->msg);
        free(ctx);
        return s;
    }
    png_set_write_fn(png, ctx, png_on_write, png_on_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, color_types[channels],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* Level 6 is zlib's own balance; heatmaps are flat-colored blocks and
     * compress well at any level. */
    png_set_compression_level(png, 6);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    free(ctx);
    return NT_OK;
}

nt_status nt_png_write(const char *path, const uint8_t *pixels, int height, int width, int channels)
{
    nt_buf b;
    nt_buf_init(&b);
    nt_status s = nt_png_encode(pixels, height, width, channels, &b);
    if (s == NT_OK)
        s = nt_write_file(path, b.data, b.len);
    nt_buf_deinit(&b);
    return s;
}

/* Anchor colors of each map, evenly spaced over [0, 1] and linearly
 * interpolated.  The viridis anchors are samples of that published map. */
static const uint8_t viridis_anchors[][3] = {
    {0x44, 0x01, 0x54}, {0x48, 0x28, 0x78}, {0x3e, 0x49, 0x89}, {0x31, 0x68, 0x8e}, {0x26, 0x82, 0x8e},
    {0x1f, 0x9e, 0x89}, {0x35, 0xb7, 0x79}, {0x6e, 0xce, 0x58}, {0xb5, 0xde, 0x2b}, {0xfd, 0xe7, 0x25},
};
static const uint8_t diverging_anchors[][3] = {
    {0x21, 0x66, 0xac}, {0x67, 0xa9, 0xcf}, {0xd1, 0xe5, 0xf0}, {0xf7, 0xf7, 0xf7},
    {0xfd, 0xdb, 0xc7}, {0xef, 0x8a, 0x62}, {0xb2, 0x18, 0x2b},
};
static const uint8_t gray_anchors[][3] = {{0, 0, 0}, {255, 255, 255}};

void nt_colormap_rgb(nt_colormap map, double t, uint8_t rgb[3])
{
    if (isnan(t)) {
        rgb[0] = 0xa0;
        rgb[1] = 0x60;
        rgb[2] = 0xa0;
        return;
    }
    const uint8_t(*a)[3];
    int n;
    switch (map) {
    case NT_COLORMAP_DIVERGING:
        a = diverging_anchors;
        n = (int)NT_ARRAY_LEN(diverging_anchors);
        break;
    case NT_COLORMAP_GRAY:
        a = gray_anchors;
        n = (int)NT_ARRAY_LEN(gray_anchors);
        break;
    default:
        a = viridis_anchors;
        n = (int)NT_ARRAY_LEN(viridis_anchors);
        break;
    }
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double x = t * (n - 1);
    int i = (int)x;
    if (i >= n - 1)
        i = n - 2;
    double f = x - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (uint8_t)lround(a[i][c] + f * (a[i + 1][c] - a[i][c]));
}

void nt_heatmap_range(const float *m, int rows, int cols, nt_colormap map, double *lo, double *hi)
{
    double mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < (size_t)rows * (size_t)cols; i++)
        if (isfinite(m[i])) {
            mn = m[i] < mn ? m[i] : mn;
            mx = m[i] > mx ? m[i] : mx;
        }
    if (mn > mx)
        mn = mx = 0;
    if (map == NT_COLORMAP_DIVERGING) {
        double r = fmax(fabs(mn), fabs(mx));
        mn = -r;
        mx = r;
    }
    if (!(mn < mx)) {
        mn -= 0.5;
        mx += 0.5;
    }
    *lo = mn;
    *hi = mx;
}

nt_status nt_heatmap_rgb(const float *m, int rows, int cols, double lo, double hi, nt_colormap map,
                         int cell, uint8_t **pixels, int *height, int *width)
{
    if (!m || !pixels || !height || !width)
        return nt_error(NT_ERR_INVALID_ARG, "heatmap: NULL argument");
    *pixels = NULL;
    if (rows <= 0 || cols <= 0 || cell <= 0 || cell > 4096)
        return nt_error(NT_ERR_INVALID_ARG, "heatmap: bad size %dx%d cell %d", rows, cols, cell);
    if ((int64_t)rows * cell > 1000000 || (int64_t)cols * cell > 1000000)
        return nt_error(NT_ERR_INVALID_ARG, "heatmap: image would exceed 1000000 pixels a side");
    if (!(lo < hi))
        nt_heatmap_range(m, rows, cols, map, &lo, &hi);
    int h = rows * cell, w = cols * cell;
    size_t n;
    if (!nt_mul_size((size_t)h * 3, (size_t)w, &n))
        return nt_error(NT_ERR_NOMEM, "heatmap: image too large");
    uint8_t *px = nt_malloc(n);
    if (!px)
        return NT_ERR_NOMEM;
    for (int r = 0; r < rows; r++) {
        uint8_t *row0 = px + (size_t)r * cell * w * 3;
        for (int c = 0; c < cols; c++) {
            double v = m[(size_t)r * cols + c];
            uint8_t rgb[3];
            /* +/-Inf clamp to the ends; NaN gets its own color */
            nt_colormap_rgb(map, isnan(v) ? NAN : (v - lo) / (hi - lo), rgb);
            for (int x = 0; x < cell; x++)
                memcpy(row0 + ((size_t)c * cell + x) * 3, rgb, 3);
        }
        for (int y = 1; y < cell; y++)
            memcpy(row0 + (size_t)y * w * 3, row0, (size_t)w * 3);
    }
    *pixels = px;
    *height = h;
    *width = w;
    return NT_OK;
}
