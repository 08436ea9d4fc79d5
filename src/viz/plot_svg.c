/*
 * plot_svg.c — line plots as SVG (see plot_svg.h).  Layout: a plot area
 * with margins for tick labels, the title above, the legend in the top
 * right corner of the plot area, markers drawn over the series.
 */
#include "viz/plot_svg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nt_svg_escape(nt_buf *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': nt_buf_puts(out, "&lt;"); break;
        case '>': nt_buf_puts(out, "&gt;"); break;
        case '&': nt_buf_puts(out, "&amp;"); break;
        case '"': nt_buf_puts(out, "&quot;"); break;
        default: nt_buf_putc(out, *s);
        }
    }
}

/* A "nice" tick spacing (1, 2 or 5 times a power of ten) giving about
 * `target` intervals over span. */
static double nice_step(double span, int target)
{
    if (!(span > 0))
        return 1.0;
    double raw = span / target, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/* Tick label: integers plainly, small or huge values in %g. */
static void tick_label(char *buf, size_t len, double v, double step)
{
    if (fabs(v) < step * 1e-9)
        v = 0;
    if (fabs(v) >= 1e6 || (fabs(v) < 1e-3 && v != 0))
        snprintf(buf, len, "%.3g", v);
    else if (step >= 1 && fabs(v - round(v)) < 1e-9)
        snprintf(buf, len, "%.0f", v);
    else {
        int digits = (int)NT_MAX(0.0, -floor(log10(step)));
        snprintf(buf, len, "%.*f", digits > 6 ? 6 : digits, v);
    }
}

typedef struct frame {
    double x0, x1, y0, y1;        /* data range */
    double left, top, pw, ph;     /* plot area in pixels */
    bool log_y;
} frame;

static double fy(const frame *f, double y)
{
    double t = f->log_y ? (log10(y) - f->y0) / (f->y1 - f->y0) : (y - f->y0) / (f->y1 - f->y0);
    return f->top + f->ph * (1 - t);
}

static double fx(const frame *f, double x) { return f->left + f->pw * (x - f->x0) / (f->x1 - f->x0); }

static bool usable(const frame *f, double y) { return isfinite(y) && (!f->log_y || y > 0); }

/* One polyline per finite run of the series; long series are reduced to
 * the min and max of each pixel column (in order of appearance). */
static void draw_series(nt_buf *b, const frame *f, const nt_plot_series *s)
{
    nt_buf_printf(b, "<g fill=\"none\" stroke=\"%s\" stroke-width=\"%.2f\" stroke-opacity=\"%.2f\"%s>\n",
                  s->color ? s->color : "#1f77b4", s->width > 0 ? s->width : 1.5, s->opacity > 0 ? s->opacity : 1.0,
                  s->dashed ? " stroke-dasharray=\"5,4\"" : "");
    bool open = false;
    int64_t col = INT64_MIN;
    double cmin = 0, cmax = 0;
    int64_t imin = 0, imax = 0;
    bool reduce = s->n > (int64_t)(4 * f->pw);
    for (int64_t i = 0; i <= s->n; i++) {
        bool ok = i < s->n && usable(f, s->y[i]) && isfinite(s->x[i]);
        int64_t c = ok ? (int64_t)floor(fx(f, s->x[i])) : INT64_MIN;
        /* flush the pending column when it ends */
        if (reduce && col != INT64_MIN && (!ok || c != col)) {
            int64_t a = imin < imax ? imin : imax, z = imin < imax ? imax : imin;
            nt_buf_printf(b, " %.2f,%.2f", fx(f, s->x[a]), fy(f, s->y[a]));
            if (z != a)
                nt_buf_printf(b, " %.2f,%.2f", fx(f, s->x[z]), fy(f, s->y[z]));
            col = INT64_MIN;
        }
        if (!ok) {
            if (open)
                nt_buf_puts(b, "\"/>\n");
            open = false;
            continue;
        }
        if (!open) {
            nt_buf_puts(b, "<polyline points=\"");
            open = true;
        }
        if (!reduce) {
            nt_buf_printf(b, " %.2f,%.2f", fx(f, s->x[i]), fy(f, s->y[i]));
        } else if (col == INT64_MIN) {
            col = c;
            cmin = cmax = s->y[i];
            imin = imax = i;
        } else {
            if (s->y[i] < cmin) {
                cmin = s->y[i];
                imin = i;
            }
            if (s->y[i] > cmax) {
                cmax = s->y[i];
                imax = i;
            }
        }
    }
    nt_buf_puts(b, "</g>\n");
}

nt_status nt_plot_svg(const nt_plot *p, nt_buf *out)
{
    int W = p->width > 0 ? p->width : 720, H = p->height > 0 ? p->height : 360;
    frame f = {INFINITY, -INFINITY, INFINITY, -INFINITY, 70, 34, W - 90, H - 80, p->log_y};
    for (int k = 0; k < p->n_series; k++) {
        const nt_plot_series *s = &p->series[k];
        for (int64_t i = 0; i < s->n; i++) {
            if (!usable(&f, s->y[i]) || !isfinite(s->x[i]))
                continue;
            double y = p->log_y ? log10(s->y[i]) : s->y[i];
            f.x0 = NT_MIN(f.x0, s->x[i]);
            f.x1 = NT_MAX(f.x1, s->x[i]);
            f.y0 = NT_MIN(f.y0, y);
            f.y1 = NT_MAX(f.y1, y);
        }
    }
    if (!(f.x0 <= f.x1))
        return nt_error(NT_ERR_INVALID_ARG, "plot '%s': no finite points", p->title ? p->title : "");
    for (int k = 0; k < p->n_markers; k++)
        if (isfinite(p->markers[k].x)) {
            f.x0 = NT_MIN(f.x0, p->markers[k].x);
            f.x1 = NT_MAX(f.x1, p->markers[k].x);
        }
    if (f.x1 == f.x0) {
        f.x0 -= 1;
        f.x1 += 1;
    }
    double pad = (f.y1 - f.y0) * 0.05;
    if (pad == 0)
        pad = f.y1 != 0 ? fabs(f.y1) * 0.1 : 1;
    f.y0 -= pad;
    f.y1 += pad;

    nt_buf *b = out;
    nt_buf_printf(b,
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                  "font-family=\"sans-serif\" font-size=\"11\">\n",
                  W, H, W, H);
    nt_buf_printf(b, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", W, H);
    if (p->title) {
        nt_buf_printf(b, "<text x=\"%d\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">", W / 2);
        nt_svg_escape(b, p->title);
        nt_buf_puts(b, "</text>\n");
    }
    /* grid and ticks */
    char lab[64];
    double xs = nice_step(f.x1 - f.x0, 8);
    nt_buf_puts(b, "<g stroke=\"#e0e0e0\" stroke-width=\"1\">\n");
    for (double x = ceil(f.x0 / xs) * xs; x <= f.x1 + xs * 1e-9; x += xs)
        nt_buf_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", fx(&f, x), f.top, fx(&f, x),
                      f.top + f.ph);
    double ys = nice_step(f.y1 - f.y0, 6);
    if (p->log_y)
        ys = NT_MAX(1.0, round(ys));
    for (double y = ceil(f.y0 / ys) * ys; y <= f.y1 + ys * 1e-9; y += ys) {
        double py = f.top + f.ph * (1 - (y - f.y0) / (f.y1 - f.y0));
        nt_buf_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", f.left, py, f.left + f.pw, py);
    }
    nt_buf_puts(b, "</g>\n<g fill=\"#333333\">\n");
    for (double x = ceil(f.x0 / xs) * xs; x <= f.x1 + xs * 1e-9; x += xs) {
        tick_label(lab, sizeof lab, x, xs);
        nt_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">%s</text>\n", fx(&f, x),
                      f.top + f.ph + 15, lab);
    }
    for (double y = ceil(f.y0 / ys) * ys; y <= f.y1 + ys * 1e-9; y += ys) {
        double py = f.top + f.ph * (1 - (y - f.y0) / (f.y1 - f.y0));
        if (p->log_y)
            snprintf(lab, sizeof lab, "%.3g", pow(10.0, y));
        else
            tick_label(lab, sizeof lab, y, ys);
        nt_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"end\">%s</text>\n", f.left - 6, py + 4, lab);
    }
    if (p->xlabel) {
        nt_buf_printf(b, "<text x=\"%.2f\" y=\"%d\" text-anchor=\"middle\">", f.left + f.pw / 2, H - 8);
        nt_svg_escape(b, p->xlabel);
        nt_buf_puts(b, "</text>\n");
    }
    if (p->ylabel) {
        nt_buf_printf(b, "<text transform=\"translate(14,%.2f) rotate(-90)\" text-anchor=\"middle\">",
                      f.top + f.ph / 2);
        nt_svg_escape(b, p->ylabel);
        nt_buf_puts(b, "</text>\n");
    }
    nt_buf_puts(b, "</g>\n");
    nt_buf_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"#888888\"/>\n",
                  f.left, f.top, f.pw, f.ph);
    for (int k = 0; k < p->n_series; k++)
        draw_series(b, &f, &p->series[k]);
    /* markers */
    for (int k = 0; k < p->n_markers; k++) {
        const nt_plot_marker *m = &p->markers[k];
        const char *color = m->color ? m->color : "#d62728";
        if (!isfinite(m->x))
            continue;
        double px = fx(&f, m->x);
        if (isnan(m->y)) {
            nt_buf_printf(b,
                          "<line class=\"marker\" x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
                          "stroke-width=\"1.5\" stroke-dasharray=\"4,3\"/>\n",
                          px, f.top, px, f.top + f.ph, color);
        } else if (usable(&f, m->y)) {
            nt_buf_printf(b, "<circle class=\"marker\" cx=\"%.2f\" cy=\"%.2f\" r=\"4\" fill=\"%s\"/>\n", px,
                          fy(&f, m->y), color);
        }
        if (m->label) {
            /* labels stack downward so neighbouring markers stay readable */
            bool right = px < f.left + f.pw * 0.7;
            nt_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\" fill=\"%s\" text-anchor=\"%s\">", px + (right ? 4 : -4),
                          f.top + 14 + 13 * (k % 4), color, right ? "start" : "end");
            nt_svg_escape(b, m->label);
            nt_buf_puts(b, "</text>\n");
        }
    }
    /* legend */
    int row = 0;
    for (int k = 0; k < p->n_series; k++) {
        const nt_plot_series *s = &p->series[k];
        if (!s->name)
            continue;
        double ly = f.top + 14 + 15 * row++;
        double lx = f.left + f.pw - 150;
        nt_buf_printf(b,
                      "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
                      lx, ly - 4, lx + 20, ly - 4, s->color ? s->color : "#1f77b4",
                      s->dashed ? " stroke-dasharray=\"5,4\"" : "");
        nt_buf_printf(b, "<text x=\"%.2f\" y=\"%.2f\">", lx + 26, ly);
        nt_svg_escape(b, s->name);
        nt_buf_puts(b, "</text>\n");
    }
    nt_buf_puts(b, "</svg>\n");
    return b->failed ? nt_error(NT_ERR_NOMEM, "out of memory drawing a plot") : NT_OK;
}
