/*
 * plot_svg.h — line plots as standalone SVG: several series over a shared x
 * axis (training steps), "nice" ticks, a legend, and markers for findings
 * (a dashed vertical line with a label at a step, or a dot at a point).
 * Used by `nntrace report` for curves with overfitting onsets, divergence
 * and plateaus marked.
 *
 * Output is deterministic (fixed number formatting, series in the given
 * order) so it can be compared in tests.  Non-finite y values break the
 * line; series longer than a few points per pixel are reduced to the
 * minimum and maximum of each pixel column, which draws the same picture.
 */
#ifndef NT_PLOT_SVG_H
#define NT_PLOT_SVG_H

#include "core/core.h"

typedef struct nt_plot_series {
    const char *name;        /* legend text (NULL: not in the legend) */
    int64_t n;
    const double *x;
    const double *y;
    const char *color;       /* any SVG color, e.g. "#1f77b4" */
    double width;            /* stroke width in pixels (0: 1.5) */
    double opacity;          /* 0: 1 */
    bool dashed;
} nt_plot_series;

typedef struct nt_plot_marker {
    double x;
    double y;                /* NaN: a vertical line at x; else a dot at (x, y) */
    const char *label;       /* NULL: none */
    const char *color;       /* NULL: red */
} nt_plot_marker;

typedef struct nt_plot {
    const char *title, *xlabel, *ylabel;
    int width, height;       /* pixels (0: 720 x 360) */
    bool log_y;              /* logarithmic y (only positive values are drawn) */
    int n_series;
    const nt_plot_series *series;
    int n_markers;
    const nt_plot_marker *markers;
} nt_plot;

/* Appends the SVG document to out.  NT_ERR_INVALID_ARG when there is
 * nothing finite to draw. */
nt_status nt_plot_svg(const nt_plot *p, nt_buf *out);

/* Appends s with <, >, &, " escaped for SVG text and attributes. */
void nt_svg_escape(nt_buf *out, const char *s);

#endif /* NT_PLOT_SVG_H */
