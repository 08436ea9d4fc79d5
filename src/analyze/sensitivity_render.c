/*
 * sensitivity_render.c — files a person looks at (see sensitivity.h): maps
 * as PNG heatmaps, blended over the input when it is an image, and sweeps
 * as CSV and an SVG line plot (drawn by viz/plot_svg).
 */
#include "analyze/sensitivity.h"
#include "viz/plot_svg.h"
#include "viz/png.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pixels per map entry: small maps are blown up to about 256 pixels a side,
 * never beyond 32 per entry. */
static int cell_size(int64_t H, int64_t W)
{
    int64_t side = NT_MAX(H, W);
    int64_t c = side > 0 ? 256 / side : 1;
    return (int)NT_MAX((int64_t)1, NT_MIN((int64_t)32, c));
}

nt_status nt_sens_heatmap_png(const char *path, const float *map, int64_t H, int64_t W, bool signed_map)
{
    if (H < 1 || W < 1 || H > 100000 || W > 100000)
        return nt_error(NT_ERR_INVALID_ARG, "heatmap: bad map size %lldx%lld", (long long)H, (long long)W);
    int cell = cell_size(H, W);
    const float *m = map;
    float *strip = NULL;
    int64_t rows = H;
    if (H == 1) {
        /* a 1-D map as a band at least 24 pixels tall */
        rows = NT_MAX((int64_t)1, (24 + cell - 1) / cell);
        if (!(strip = nt_malloc(sizeof(float) * (size_t)(rows * W))))
            return NT_ERR_NOMEM;
        for (int64_t r = 0; r < rows; r++)
            memcpy(strip + r * W, map, sizeof(float) * (size_t)W);
        m = strip;
    }
    uint8_t *px = NULL;
    int h, w;
    /* One colour map per quantity: signed maps (a change of the output,
     * either way) diverge around 0, magnitudes run dark to bright. */
    nt_heatmap_labels lab = {NULL, H == 1 ? NULL : "Y", "X", NULL, NULL, H > 1, true, NULL,
                             signed_map ? "CHANGE OF THE OUTPUT" : "SENSITIVITY"};
    nt_status st = nt_heatmap_figure(m, (int)rows, (int)W, 0, 0, signed_map ? NT_COLORMAP_DIVERGING : NT_COLORMAP_VIRIDIS,
                                     cell, &lab, &px, &h, &w);
    if (st == NT_OK)
        st = nt_png_write(path, px, h, w, 3);
    free(px);
    free(strip);
    return st == NT_OK ? NT_OK : nt_error_wrap(st, "%s", path);
}

nt_status nt_sens_overlay_png(const char *path, const float *map, const nt_layout *l, const double *image,
                              bool signed_map)
{
    if (!nt_layout_is_image(l))
        return nt_error(NT_ERR_INVALID_ARG, "overlay: the input is not an image (1 or 3 channels, H and W > 1)");
    int cell = cell_size(l->H, l->W);
    int64_t h = l->H * cell, w = l->W * cell;
    size_t n;
    if (!nt_mul_size((size_t)h * 3, (size_t)w, &n))
        return nt_error(NT_ERR_NOMEM, "overlay: image too large");
    uint8_t *px = nt_malloc(n);
    if (!px)
        return NT_ERR_NOMEM;
    /* the image's own range, and the map's largest magnitude */
    double lo = INFINITY, hi = -INFINITY, mmax = 0;
    for (int64_t c = 0; c < l->C; c++)
        for (int64_t y = 0; y < l->H; y++)
            for (int64_t x = 0; x < l->W; x++) {
                double v = image[nt_layout_offset(l, c, y, x)];
                if (isfinite(v)) {
                    lo = fmin(lo, v);
                    hi = fmax(hi, v);
                }
            }
    for (int64_t i = 0; i < l->H * l->W; i++)
        if (isfinite(map[i]))
            mmax = fmax(mmax, fabs(map[i]));
    double span = hi > lo ? hi - lo : 1.0;
    for (int64_t y = 0; y < l->H; y++)
        for (int64_t x = 0; x < l->W; x++) {
            double g;
            if (l->C == 3)
                g = 0.299 * image[nt_layout_offset(l, 0, y, x)] + 0.587 * image[nt_layout_offset(l, 1, y, x)] +
                    0.114 * image[nt_layout_offset(l, 2, y, x)];
            else
                g = image[nt_layout_offset(l, 0, y, x)];
            g = isfinite(g) && isfinite(lo) ? (g - lo) / span : 0.5;
            g = fmin(1.0, fmax(0.0, g));
            double v = map[y * l->W + x];
            double t = mmax > 0 && isfinite(v) ? v / mmax : 0.0;
            uint8_t rgb[3];
            /* the map's color, more opaque where the value is larger, so
             * the image shows through where the model does not care */
            nt_colormap_rgb(signed_map ? NT_COLORMAP_DIVERGING : NT_COLORMAP_VIRIDIS,
                            signed_map ? 0.5 + 0.5 * t : t, rgb);
            double a = 0.8 * fabs(t);
            uint8_t out[3];
            for (int k = 0; k < 3; k++)
                out[k] = (uint8_t)lround((1 - a) * 200.0 * g + a * rgb[k]);
            for (int dy = 0; dy < cell; dy++)
                for (int dx = 0; dx < cell; dx++)
                    memcpy(px + (((y * cell + dy) * w) + x * cell + dx) * 3, out, 3);
        }
    nt_status st = nt_png_write(path, px, (int)h, (int)w, 3);
    free(px);
    return st == NT_OK ? NT_OK : nt_error_wrap(st, "%s", path);
}

/* A CSV field: quoted when it holds a comma, quote or line break. */
static void csv_field(nt_buf *b, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        nt_buf_puts(b, s);
        return;
    }
    nt_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            nt_buf_putc(b, '"');
        nt_buf_putc(b, *s);
    }
    nt_buf_putc(b, '"');
}

nt_status nt_sweep_write_csv(const char *path, const nt_sweep_result *r, const char *out_name, int64_t target)
{
    nt_buf b;
    nt_buf_init(&b);
    char name[512];
    nt_buf_puts(&b, "value,target");
    for (int j = 0; j < r->n_out; j++) {
        snprintf(name, sizeof name, "%s[%d]", out_name, j);
        nt_buf_putc(&b, ',');
        csv_field(&b, name);
    }
    nt_buf_putc(&b, '\n');
    for (int k = 0; k < r->n; k++) {
        /* %.9g round-trips float32 values exactly */
        nt_buf_printf(&b, "%.9g,%.9g", r->values[k], r->target[k]);
        for (int j = 0; j < r->n_out; j++)
            nt_buf_printf(&b, ",%.9g", r->outputs[(size_t)k * r->n_out + j]);
        nt_buf_putc(&b, '\n');
    }
    nt_status st = b.failed ? NT_ERR_NOMEM : nt_write_file(path, b.data, b.len);
    nt_buf_deinit(&b);
    (void)target;
    return st;
}

nt_status nt_sweep_write_svg(const char *path, const nt_sweep_result *r, const char *feature_label,
                             const char *out_name, int64_t target)
{
    static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                          "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8"};
    nt_plot_series series[12];
    char names[12][160];
    double *cols = nt_malloc(sizeof(double) * (size_t)r->n * (size_t)(r->n_out > 0 ? r->n_out : 1));
    if (!cols)
        return NT_ERR_NOMEM;
    int ns = 0;
    /* the other recorded outputs, thin and faded, then the target on top */
    for (int j = 0; j < r->n_out && ns < 10; j++) {
        if (j == target)
            continue;
        double *c = cols + (size_t)j * r->n;
        for (int k = 0; k < r->n; k++)
            c[k] = r->outputs[(size_t)k * r->n_out + j];
        snprintf(names[ns], sizeof names[ns], "%s[%d]", out_name, j);
        series[ns] = (nt_plot_series){.name = names[ns], .n = r->n, .x = r->values, .y = c,
                                      .color = palette[(j + 1) % 10], .width = 1.2, .opacity = 0.6};
        ns++;
    }
    snprintf(names[ns], sizeof names[ns], "target %s[%lld]", out_name, (long long)target);
    series[ns] = (nt_plot_series){.name = names[ns], .n = r->n, .x = r->values, .y = r->target,
                                  .color = "#d62728", .width = 2.5};
    ns++;
    nt_plot_marker mk = {.x = r->original, .y = NAN, .label = "input value", .color = "#555555"};
    char title[256];
    snprintf(title, sizeof title, "sweep of input feature %s", feature_label);
    nt_plot plot = {.title = title, .xlabel = "feature value", .ylabel = out_name, .n_series = ns,
                    .series = series, .n_markers = 1, .markers = &mk};
    nt_buf b;
    nt_buf_init(&b);
    nt_status st = nt_plot_svg(&plot, &b);
    if (st == NT_OK)
        st = b.failed ? NT_ERR_NOMEM : nt_write_file(path, b.data, b.len);
    nt_buf_deinit(&b);
    free(cols);
    return st == NT_OK ? NT_OK : nt_error_wrap(st, "%s", path);
}
