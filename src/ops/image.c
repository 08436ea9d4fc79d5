/*
 * image.c — ImageDecoder (opset 20): a 1-D uint8 tensor holding an encoded
 * image becomes uint8 pixels (H, W, 3) in RGB or BGR order, or (H, W, 1)
 * for pixel_format "Grayscale".
 *
 * Formats read: PNG (libpng's simplified reader, every PNG colour type and
 * bit depth; an alpha channel is removed the way libpng's simplified
 * reader does), BMP (uncompressed 24- and 32-bit, bottom-up or
 * top-down rows) and binary PNM (P5 grey, P6 colour, maxval up to 255).
 * JPEG, JPEG 2000, TIFF and WebP are declined at run time with the format
 * named (they need decoders nntrace does not link).  Grayscale is computed
 * from RGB as Pillow's "L" conversion does: (R*19595 + G*38470 + B*7471 +
 * 0x8000) >> 16.  Every header field is checked against the bytes present
 * and the memory limit before anything is allocated.
 */
#include "ops/kernel.h"
#include "core/limits.h"

#include <png.h>
#include <stdlib.h>
#include <string.h>

typedef struct img {
    int64_t w, h;
    uint8_t *rgb;    /* h * w * 3, owned */
} img;

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static nt_status img_alloc(img *im, int64_t w, int64_t h)
{
    if (w <= 0 || h <= 0 || w > (1 << 24) || h > (1 << 24) ||
        (uint64_t)w * (uint64_t)h * 3 > nt_limit_memory_bytes())
        return nt_error(NT_ERR_SHAPE, "image of %lld x %lld pixels is empty or over the memory limit", (long long)w,
                        (long long)h);
    im->w = w, im->h = h;
    im->rgb = nt_malloc((size_t)(w * h * 3));
    return im->rgb ? NT_OK : NT_ERR_NOMEM;
}

static nt_status decode_png(const uint8_t *b, size_t n, img *im)
{
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&pi, b, n))
        return nt_error(NT_ERR_SHAPE, "PNG: %s", pi.message);
    pi.format = PNG_FORMAT_RGB;
    nt_status s = img_alloc(im, pi.width, pi.height);
    if (s != NT_OK) {
        png_image_free(&pi);
        return s;
    }
    if (!png_image_finish_read(&pi, NULL, im->rgb, 0, NULL)) {
        free(im->rgb);
        im->rgb = NULL;
        return nt_error(NT_ERR_SHAPE, "PNG: %s", pi.message);
    }
    return NT_OK;
}

static nt_status decode_bmp(const uint8_t *b, size_t n, img *im)
{
    if (n < 54 || le32(b + 14) < 40)
        return nt_error(NT_ERR_SHAPE, "BMP: the header is cut short or not a BITMAPINFOHEADER");
    uint32_t off = le32(b + 10);
    int32_t w = (int32_t)le32(b + 18), h = (int32_t)le32(b + 22);
    unsigned bpp = le16(b + 28), comp = le32(b + 30);
    if ((bpp != 24 && bpp != 32) || (comp != 0 && !(comp == 3 && bpp == 32)))
        return nt_error(NT_ERR_UNSUPPORTED, "BMP with %u bits per pixel and compression %u is not supported "
                        "(uncompressed 24- and 32-bit only)", bpp, comp);
    bool top_down = h < 0;
    int64_t H = top_down ? -(int64_t)h : h;
    nt_status s = img_alloc(im, w, H);
    if (s != NT_OK)
        return s;
    size_t row = ((size_t)w * (bpp / 8) + 3) & ~(size_t)3;
    if (off > n || row * (size_t)H > n - off) {
        free(im->rgb);
        im->rgb = NULL;
        return nt_error(NT_ERR_SHAPE, "BMP: the pixel data is cut short");
    }
    for (int64_t y = 0; y < H; y++) {
        const uint8_t *src = b + off + row * (size_t)(top_down ? y : H - 1 - y);
        uint8_t *dst = im->rgb + (size_t)(y * w * 3);
        for (int64_t x = 0; x < w; x++, src += bpp / 8) {   /* stored B, G, R */
            dst[3 * x] = src[2];
            dst[3 * x + 1] = src[1];
            dst[3 * x + 2] = src[0];
        }
    }
    return NT_OK;
}

/* A PNM header number after whitespace and # comments; -1 if none. */
static int64_t pnm_num(const uint8_t *b, size_t n, size_t *at)
{
    for (;;) {
        while (*at < n && (b[*at] == ' ' || b[*at] == '\t' || b[*at] == '\n' || b[*at] == '\r'))
            (*at)++;
        if (*at < n && b[*at] == '#') {
            while (*at < n && b[*at] != '\n')
                (*at)++;
            continue;
        }
        break;
    }
    int64_t v = -1;
    while (*at < n && b[*at] >= '0' && b[*at] <= '9' && v < (1 << 24))
        v = (v < 0 ? 0 : v * 10) + (b[(*at)++] - '0');
    return v;
}

static nt_status decode_pnm(const uint8_t *b, size_t n, img *im)
{
    bool grey = b[1] == '5';
    size_t at = 2;
    int64_t w = pnm_num(b, n, &at), h = pnm_num(b, n, &at), maxv = pnm_num(b, n, &at);
    if (w <= 0 || h <= 0 || maxv <= 0 || at >= n)
        return nt_error(NT_ERR_SHAPE, "PNM: the header is malformed");
    if (maxv > 255)
        return nt_error(NT_ERR_UNSUPPORTED, "PNM with maxval %lld (16-bit samples) is not supported", (long long)maxv);
    at++;   /* the single whitespace byte before the samples */
    nt_status s = img_alloc(im, w, h);
    if (s != NT_OK)
        return s;
    size_t need = (size_t)(w * h) * (grey ? 1 : 3);
    if (need > n - at) {
        free(im->rgb);
        im->rgb = NULL;
        return nt_error(NT_ERR_SHAPE, "PNM: the pixel data is cut short");
    }
    for (size_t i = 0; i < (size_t)(w * h); i++)
        for (int c = 0; c < 3; c++) {
            unsigned v = b[at + (grey ? i : 3 * i + (size_t)c)];
            im->rgb[3 * i + (size_t)c] = (uint8_t)(maxv == 255 ? v : (v * 255 + (unsigned)maxv / 2) / (unsigned)maxv);
        }
    return NT_OK;
}

static nt_status decode(const nt_kernel_ctx *ctx, const nt_tensor *x, img *im)
{
    memset(im, 0, sizeof *im);
    const uint8_t *b = x->data;
    size_t n = (size_t)nt_tensor_numel(x);
    nt_status s;
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        s = decode_png(b, n, im);
    else if (n >= 2 && b[0] == 'B' && b[1] == 'M')
        s = decode_bmp(b, n, im);
    else if (n >= 3 && b[0] == 'P' && (b[1] == '5' || b[1] == '6'))
        s = decode_pnm(b, n, im);
    else {
        const char *f = n >= 3 && b[0] == 0xff && b[1] == 0xd8 ? "JPEG"
                        : n >= 12 && memcmp(b + 4, "jP  ", 4) == 0 ? "JPEG 2000"
                        : n >= 4 && (memcmp(b, "II*", 3) == 0 || memcmp(b, "MM\0*", 4) == 0) ? "TIFF"
                        : n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0 ? "WebP"
                                                                                            : "an unknown";
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "images in %s format are not decoded (PNG, BMP and binary "
                            "PNM are)", f);
    }
    return s == NT_OK ? NT_OK : nt_ctx_error(ctx, s, "%s", nt_last_error());
}

static int channels(const nt_node *n)
{
    return strcmp(nt_node_attr_string(n, "pixel_format", "RGB"), "Grayscale") == 0 ? 1 : 3;
}

static nt_status image_prepare(const nt_node *n, int opset, void **state)
{
    (void)opset;
    *state = NULL;
    const char *pf = nt_node_attr_string(n, "pixel_format", "RGB");
    if (strcmp(pf, "RGB") != 0 && strcmp(pf, "BGR") != 0 && strcmp(pf, "Grayscale") != 0)
        return nt_error(NT_ERR_PARSE, "node '%s' (ImageDecoder): pixel_format '%s' is not RGB, BGR or Grayscale",
                        n->name, pf);
    return NT_OK;
}

static nt_status image_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "encoded_stream is required");
    if (x->dtype != NT_DTYPE_UINT8 && !(ctx->static_mode && x->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "encoded_stream must be uint8, got %s", nt_dtype_name(x->dtype));
    int64_t dims[3] = {-1, -1, channels(ctx->node)};
    if (ctx->static_mode || !x->data)
        return nt_ctx_set_output(ctx, 0, NT_DTYPE_UINT8, 3, dims);
    img im;
    nt_status s = decode(ctx, x, &im);   /* decoded twice (here for the shape): images are small */
    if (s != NT_OK)
        return s;
    dims[0] = im.h, dims[1] = im.w;
    free(im.rgb);
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_UINT8, 3, dims);
}

static nt_status image_compute(nt_kernel_ctx *ctx)
{
    img im;
    nt_status s = decode(ctx, ctx->in[0], &im);
    if (s != NT_OK)
        return s;
    const char *pf = nt_node_attr_string(ctx->node, "pixel_format", "RGB");
    uint8_t *y = ctx->out[0]->data;
    size_t np = (size_t)(im.w * im.h);
    for (size_t i = 0; i < np; i++) {
        const uint8_t *p = im.rgb + 3 * i;
        if (pf[0] == 'G') {
            y[i] = (uint8_t)((p[0] * 19595u + p[1] * 38470u + p[2] * 7471u + 0x8000u) >> 16);
        } else if (pf[0] == 'B') {
            y[3 * i] = p[2], y[3 * i + 1] = p[1], y[3 * i + 2] = p[0];
        } else {
            y[3 * i] = p[0], y[3 * i + 1] = p[1], y[3 * i + 2] = p[2];
        }
    }
    free(im.rgb);
    return NT_OK;
}

const nt_op_def nt_ops_image[] = {
    {"ImageDecoder", "", 20, image_prepare, NULL, image_infer, image_compute},
};
const size_t nt_ops_image_count = NT_ARRAY_LEN(nt_ops_image);
