/*
 * heatmap_png.c — heatmaps a person can read without the program that drew
 * them: the matrix with axis titles, row and column labels, a colour bar
 * with its range, and (when the cells are big enough) the number in each
 * cell in black or white, whichever reads on that cell's colour.
 *
 * Text is drawn with a 5x7 bitmap font of our own (digits, upper-case
 * letters and a few signs; lower case is drawn upper case), scaled by whole
 * pixels, so the PNGs need no font library and look the same everywhere.
 * Labels that do not fit are cut with a trailing '.', numbers that do not
 * fit their cell are left out rather than spilling over the neighbours.
 */
#include "viz/png.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- font */

/* Rows top to bottom, bit 4 the leftmost pixel. */
typedef struct glyph {
    char c;
    uint8_t rows[7];
} glyph;

static const glyph font[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}}, {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}}, {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}}, {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}}, {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}}, {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}}, {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E}},
    {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E}}, {'D', {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C}},
    {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F}}, {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10}},
    {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F}}, {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11}},
    {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E}}, {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}}, {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F}},
    {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11}}, {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10}},
    {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D}}, {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11}},
    {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E}}, {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E}}, {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A}}, {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04}}, {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C}}, {'-', {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00}}, {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {':', {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}}, {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}}, {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}}, {'=', {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00}},
    {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}}, {' ', {0, 0, 0, 0, 0, 0, 0}},
};

#define GLYPH_W 5
#define GLYPH_H 7
#define ADVANCE 6 /* glyph plus one column of space */

static const glyph *glyph_of(char ch)
{
    char c = (char)toupper((unsigned char)ch);
    for (size_t i = 0; i < NT_ARRAY_LEN(font); i++)
        if (font[i].c == c)
            return &font[i];
    return &font[NT_ARRAY_LEN(font) - 2]; /* '?' */
}

/* An RGB canvas. */
typedef struct canvas {
    uint8_t *px;
    int w, h;
} canvas;

static void put(canvas *cv, int x, int y, const uint8_t rgb[3])
{
    if (x >= 0 && y >= 0 && x < cv->w && y < cv->h)
        memcpy(cv->px + ((size_t)y * cv->w + x) * 3, rgb, 3);
}

static void fill_rect(canvas *cv, int x0, int y0, int w, int h, const uint8_t rgb[3])
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            put(cv, x, y, rgb);
}

static int text_width(const char *s, int scale) { return s[0] ? ((int)strlen(s) * ADVANCE - 1) * scale : 0; }

/* Draws s with its top-left corner at (x, y); vertical text runs bottom to
 * top with its bottom-left corner at (x, y) (rotated a quarter turn left). */
static void draw_text(canvas *cv, int x, int y, const char *s, int scale, const uint8_t rgb[3], bool vertical)
{
    for (int k = 0; s[k]; k++) {
        const glyph *g = glyph_of(s[k]);
        for (int r = 0; r < GLYPH_H; r++)
            for (int c = 0; c < GLYPH_W; c++) {
                if (!(g->rows[r] >> (GLYPH_W - 1 - c) & 1))
                    continue;
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++) {
                        int u = (k * ADVANCE + c) * scale + dx, v = r * scale + dy;
                        if (vertical)
                            put(cv, x + v, y - u, rgb);
                        else
                            put(cv, x + u, y + v, rgb);
                    }
            }
    }
}

/* Copies s into out, cut with a trailing '.' to at most max_w pixels. */
static void fit_text(const char *s, int scale, int max_w, char *out, size_t cap)
{
    snprintf(out, cap, "%s", s ? s : "");
    while (out[0] && text_width(out, scale) > max_w) {
        size_t n = strlen(out);
        if (n <= 1) {
            out[0] = '\0';
            break;
        }
        out[n - 2] = '.';
        out[n - 1] = '\0';
    }
}

/* Black or white, whichever contrasts more with rgb (WCAG luminance). */
static void ink_on(const uint8_t rgb[3], uint8_t ink[3])
{
    double l = 0;
    static const double wgt[3] = {0.2126, 0.7152, 0.0722};
    for (int i = 0; i < 3; i++) {
        double c = rgb[i] / 255.0;
        l += wgt[i] * (c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4));
    }
    memset(ink, l > 0.18 ? 0x11 : 0xff, 3);
}

/* A short, fixed-width rendering of v for a scale or a cell. */
static void fmt_num(double v, char *out, size_t cap)
{
    if (!isfinite(v))
        snprintf(out, cap, isnan(v) ? "NAN" : v > 0 ? "INF" : "-INF");
    else if (v == floor(v) && fabs(v) < 1e6)
        snprintf(out, cap, "%.0f", v);
    else if (fabs(v) >= 1e4 || fabs(v) < 1e-2)
        snprintf(out, cap, "%.2e", v);
    else
        snprintf(out, cap, "%.3g", v);
}

/* ---------------------------------------------------------------- the figure */

nt_status nt_heatmap_figure(const float *m, int rows, int cols, double lo, double hi, nt_colormap map, int cell,
                            const nt_heatmap_labels *lab, uint8_t **pixels, int *height, int *width)
{
    if (!pixels || !height || !width || !lab)
        return nt_error(NT_ERR_INVALID_ARG, "heatmap figure: NULL argument");
    *pixels = NULL;
    uint8_t *hm = NULL;
    int hh, hw;
    nt_status st = nt_heatmap_rgb(m, rows, cols, lo, hi, map, cell, &hm, &hh, &hw);
    if (st != NT_OK)
        return st;
    /* the range nt_heatmap_rgb chose, for the colour bar */
    if (!(lo < hi))
        nt_heatmap_range(m, rows, cols, map, &lo, &hi);
    int s = hw >= 240 || hh >= 240 ? 2 : 1; /* font scale */
    int lh = (GLYPH_H + 3) * s;                /* line height */
    /* label widths: the longest row label, cut to 16 characters */
    int row_w = 0;
    char buf[128];
    bool row_labels = lab->row_labels || lab->row_ticks;
    for (int r = 0; row_labels && r < rows; r++) {
        if (lab->row_labels)
            fit_text(lab->row_labels[r], s, 16 * ADVANCE * s, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "%d", r);
        row_w = NT_MAX(row_w, text_width(buf, s));
    }
    int col_h = lab->col_labels || lab->col_ticks ? lh : 0;
    int left = 6 * s + (lab->row_title ? lh : 0) + row_w + (row_w ? 4 * s : 0);
    int top = 6 * s + (lab->title ? lh + 2 * s : 0) + (lab->col_title ? lh : 0) + col_h;
    char lo_s[32], hi_s[32];
    fmt_num(lo, lo_s, sizeof lo_s);
    fmt_num(hi, hi_s, sizeof hi_s);
    int bar_w = 14 * s, scale_w = NT_MAX(text_width(lo_s, s), text_width(hi_s, s));
    int right = 10 * s + bar_w + 4 * s + scale_w + (lab->scale_title ? lh : 0) + 6 * s;
    int bottom = 8 * s;
    canvas cv = {NULL, left + hw + right, top + hh + bottom};
    size_t n;
    if (!nt_mul_size((size_t)cv.w * 3, (size_t)cv.h, &n) || !(cv.px = nt_malloc(n))) {
        free(hm);
        return NT_ERR_NOMEM;
    }
    memset(cv.px, 0xff, n);
    for (int y = 0; y < hh; y++)
        memcpy(cv.px + ((size_t)(top + y) * cv.w + left) * 3, hm + (size_t)y * hw * 3, (size_t)hw * 3);
    static const uint8_t black[3] = {0x22, 0x22, 0x22}, grey[3] = {0x55, 0x55, 0x55};
    int y = 4 * s;
    if (lab->title) {
        fit_text(lab->title, s, cv.w - 8 * s, buf, sizeof buf);
        draw_text(&cv, 4 * s, y, buf, s, black, false);
        y += lh + 2 * s;
    }
    if (lab->col_title) {
        fit_text(lab->col_title, s, hw, buf, sizeof buf);
        draw_text(&cv, left + (hw - text_width(buf, s)) / 2, y, buf, s, black, false);
        y += lh;
    }
    /* column labels centred over their cells; left out when too wide */
    if (col_h) {
        int step = 1;
        int widest = 0;
        for (int c = 0; c < cols; c++) {
            if (lab->col_labels)
                fit_text(lab->col_labels[c], s, cell - 2 * s > 3 * ADVANCE * s ? cell - 2 * s : 3 * ADVANCE * s, buf,
                         sizeof buf);
            else
                snprintf(buf, sizeof buf, "%d", c);
            widest = NT_MAX(widest, text_width(buf, s));
        }
        while (step * cell < widest + 3 * s && step < cols)
            step *= 2;
        for (int c = 0; c < cols; c += step) {
            if (lab->col_labels)
                fit_text(lab->col_labels[c], s, cell - 2 * s > 3 * ADVANCE * s ? cell - 2 * s : 3 * ADVANCE * s, buf,
                         sizeof buf);
            else
                snprintf(buf, sizeof buf, "%d", c);
            draw_text(&cv, left + c * cell + (cell - text_width(buf, s)) / 2, y, buf, s, grey, false);
        }
    }
    if (lab->row_title) {
        fit_text(lab->row_title, s, hh, buf, sizeof buf);
        draw_text(&cv, 4 * s, top + (hh + text_width(buf, s)) / 2, buf, s, black, true);
    }
    if (row_labels) {
        int step = 1;
        while (step * cell < lh && step < rows)
            step *= 2;
        for (int r = 0; r < rows; r += step) {
            if (lab->row_labels)
                fit_text(lab->row_labels[r], s, 16 * ADVANCE * s, buf, sizeof buf);
            else
                snprintf(buf, sizeof buf, "%d", r);
            draw_text(&cv, left - 4 * s - text_width(buf, s), top + r * cell + (cell - GLYPH_H * s) / 2, buf, s, grey,
                      false);
        }
    }
    /* numbers in the cells, when every one fits */
    if (lab->values) {
        int vs = s;
        int widest = 0;
        for (int i = 0; i < rows * cols; i++) {
            fmt_num(lab->values[i], buf, sizeof buf);
            widest = NT_MAX(widest, text_width(buf, vs));
        }
        if (widest + 4 * vs > cell && vs > 1) {
            vs = 1;
            widest = 0;
            for (int i = 0; i < rows * cols; i++) {
                fmt_num(lab->values[i], buf, sizeof buf);
                widest = NT_MAX(widest, text_width(buf, vs));
            }
        }
        if (widest + 4 * vs <= cell && GLYPH_H * vs + 4 <= cell)
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++) {
                    fmt_num(lab->values[(size_t)r * cols + c], buf, sizeof buf);
                    const uint8_t *bg = hm + ((size_t)(r * cell + cell / 2) * hw + (size_t)c * cell + cell / 2) * 3;
                    uint8_t ink[3];
                    ink_on(bg, ink);
                    draw_text(&cv, left + c * cell + (cell - text_width(buf, vs)) / 2,
                              top + r * cell + (cell - GLYPH_H * vs) / 2, buf, vs, ink, false);
                }
    }
    /* the colour bar: hi at the top, lo at the bottom */
    int bx = left + hw + 10 * s;
    for (int yy = 0; yy < hh; yy++) {
        uint8_t rgb[3];
        nt_colormap_rgb(map, hh > 1 ? 1.0 - (double)yy / (hh - 1) : 0.5, rgb);
        fill_rect(&cv, bx, top + yy, bar_w, 1, rgb);
    }
    draw_text(&cv, bx + bar_w + 4 * s, top, hi_s, s, grey, false);
    draw_text(&cv, bx + bar_w + 4 * s, top + hh - GLYPH_H * s, lo_s, s, grey, false);
    if (lab->scale_title) {
        fit_text(lab->scale_title, s, hh, buf, sizeof buf);
        draw_text(&cv, bx + bar_w + 6 * s + scale_w, top + (hh + text_width(buf, s)) / 2, buf, s, black, true);
    }
    free(hm);
    *pixels = cv.px;
    *height = cv.h;
    *width = cv.w;
    return NT_OK;
}
