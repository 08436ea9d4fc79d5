/*
 * dbg_print.c — arrays, summaries, statistics and histograms as text for
 * the debugger (dbg_print.h).
 *
 * Arrays print like numpy's repr without the "array(...)": every element
 * right-aligned to the widest one shown, rows wrapped at the line width,
 * and arrays past the threshold cut to their edges with "...".  Printing
 * walks the view twice, once to measure and once to write, so the column
 * width is known before the first element goes out.
 */
#include "debug/dbg_print.h"
#include "trace/tstats.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void nt_dbg_print_opts_default(nt_dbg_print_opts *o)
{
    o->threshold = 1000;
    o->edgeitems = 3;
    o->linewidth = 75;
    o->precision = 6;
}

void nt_dbg_format_element(char *out, size_t len, const nt_tensor *t, int64_t flat, int precision)
{
    switch (t->dtype) {
    case NT_DTYPE_INT64:
        snprintf(out, len, "%" PRId64, ((const int64_t *)t->data)[flat]);
        return;
    case NT_DTYPE_UINT64:
        snprintf(out, len, "%" PRIu64, ((const uint64_t *)t->data)[flat]);
        return;
    case NT_DTYPE_BOOL:
        snprintf(out, len, "%s", ((const uint8_t *)t->data)[flat] ? "True" : "False");
        return;
    default:
        break;
    }
    if (!nt_dtype_is_numeric(t->dtype) || nt_dtype_size(t->dtype) == 0) {
        snprintf(out, len, "?");
        return;
    }
    double v = nt_tensor_get_f64(t, flat);
    if (isnan(v))
        snprintf(out, len, "%g", nt_printable(v));
    else if (nt_dtype_is_float(t->dtype))
        snprintf(out, len, "%.*g", precision, v);
    else
        snprintf(out, len, "%.0f", v);
}

typedef struct array_printer {
    nt_buf *b;
    const nt_tensor *t;
    const nt_dbg_view *v;
    const nt_dbg_print_opts *o;
    bool summarize, measure;
    int width;
} array_printer;

static size_t column(const array_printer *ap)
{
    const char *d = ap->b->data;
    size_t i = ap->b->len;
    while (i > 0 && d[i - 1] != '\n')
        i--;
    return ap->b->len - i;
}

static void put_element(array_printer *ap, int64_t flat)
{
    char s[64];
    nt_dbg_format_element(s, sizeof s, ap->t, flat, ap->o->precision);
    int w = (int)strlen(s);
    if (ap->measure) {
        if (w > ap->width)
            ap->width = w;
        return;
    }
    nt_buf_printf(ap->b, "%*s", ap->width, s);
}

/* The separator before an item (not the first) at depth d: ", " in a row
 * (wrapping when the next item would pass the line width), a newline per
 * remaining axis between sub-arrays. */
static void put_separator(array_printer *ap, int d)
{
    if (ap->measure)
        return;
    if (d == ap->v->ndim - 1) {
        if ((int)column(ap) + 2 + ap->width + 1 > ap->o->linewidth)
            nt_buf_printf(ap->b, ",\n%*s", d + 1, "");
        else
            nt_buf_puts(ap->b, ", ");
        return;
    }
    nt_buf_putc(ap->b, ',');
    for (int k = 0; k < ap->v->ndim - 1 - d; k++)
        nt_buf_putc(ap->b, '\n');
    nt_buf_printf(ap->b, "%*s", d + 1, "");
}

static void put_array(array_printer *ap, int d, int64_t off)
{
    if (d == ap->v->ndim) {
        put_element(ap, off);
        return;
    }
    if (!ap->measure)
        nt_buf_putc(ap->b, '[');
    int64_t n = ap->v->dims[d], edge = ap->o->edgeitems;
    bool cut = ap->summarize && n > 2 * edge;
    for (int64_t i = 0; i < n;) {
        if (i > 0)
            put_separator(ap, d);
        if (cut && i == edge) {
            if (!ap->measure)
                nt_buf_puts(ap->b, "...");
            i = n - edge;
            continue;
        }
        put_array(ap, d + 1, off + i * ap->v->strides[d]);
        i++;
    }
    if (!ap->measure)
        nt_buf_putc(ap->b, ']');
}

void nt_dbg_format_array(nt_buf *b, const nt_tensor *t, const nt_dbg_view *v, const nt_dbg_print_opts *o)
{
    nt_dbg_print_opts def;
    if (!o) {
        nt_dbg_print_opts_default(&def);
        o = &def;
    }
    if (!nt_dtype_is_numeric(t->dtype) || nt_dtype_size(t->dtype) == 0 || !t->data) {
        nt_buf_printf(b, "<%s values are not printable>", nt_dtype_name(t->dtype));
        return;
    }
    array_printer ap = {b, t, v, o, nt_dbg_view_numel(v) > o->threshold, true, 0};
    put_array(&ap, 0, v->offset);
    ap.measure = false;
    put_array(&ap, 0, v->offset);
}

/* Stats without a histogram (cannot fail); empty for non-numeric tensors. */
static void tensor_stats(const nt_tensor *t, nt_tstats *st)
{
    nt_tstats_init(st, false);
    if (nt_dtype_is_numeric(t->dtype) && nt_dtype_size(t->dtype) > 0 && t->data)
        nt_tstats_add(st, t);
}

void nt_dbg_format_summary(nt_buf *b, const nt_tensor *t)
{
    char desc[256];
    nt_tensor_describe(t, desc, sizeof desc);
    nt_buf_puts(b, desc);
    nt_tstats st;
    tensor_stats(t, &st);
    if (st.finite > 0)
        nt_buf_printf(b, " min=%.6g max=%.6g mean=%.6g", st.min, st.max, nt_tstats_mean(&st));
    if (st.nan)
        nt_buf_printf(b, " nan=%" PRId64, st.nan);
    if (st.pinf + st.ninf)
        nt_buf_printf(b, " inf=%" PRId64, st.pinf + st.ninf);
    nt_tstats_deinit(&st);
}

static double percent(int64_t part, int64_t whole)
{
    return whole > 0 ? 100.0 * (double)part / (double)whole : 0.0;
}

nt_status nt_dbg_format_stats(nt_buf *b, const nt_tensor *t)
{
    if (!nt_dtype_is_numeric(t->dtype) || nt_dtype_size(t->dtype) == 0)
        return nt_error(NT_ERR_UNSUPPORTED, "no statistics for a %s tensor", nt_dtype_name(t->dtype));
    char desc[256];
    nt_tensor_describe(t, desc, sizeof desc);
    nt_tstats st;
    tensor_stats(t, &st);
    nt_buf_printf(b, "  %-10s %s\n", "shape", desc);
    nt_buf_printf(b, "  %-10s %" PRId64 "\n", "count", st.count);
    if (st.finite > 0) {
        nt_buf_printf(b, "  %-10s %.9g\n", "min", st.min);
        nt_buf_printf(b, "  %-10s %.9g\n", "max", st.max);
        nt_buf_printf(b, "  %-10s %.9g\n", "mean", nt_tstats_mean(&st));
        nt_buf_printf(b, "  %-10s %.9g\n", "std", nt_tstats_std(&st));
        nt_buf_printf(b, "  %-10s %.9g\n", "absmax", nt_tstats_absmax(&st));
    } else {
        nt_buf_printf(b, "  %-10s (no finite values)\n", "min/max");
    }
    nt_buf_printf(b, "  %-10s %" PRId64 "\n", "nan", st.nan);
    nt_buf_printf(b, "  %-10s %" PRId64 " (+%" PRId64 " -%" PRId64 ")\n", "inf", st.pinf + st.ninf, st.pinf, st.ninf);
    nt_buf_printf(b, "  %-10s %" PRId64 " (%.2f%%)\n", "zeros", st.zeros, percent(st.zeros, st.count));
    nt_buf_printf(b, "  %-10s %" PRId64 " (%.2f%%)\n", "negatives", st.negatives, percent(st.negatives, st.count));
    nt_tstats_deinit(&st);
    return NT_OK;
}

nt_status nt_dbg_format_hist(nt_buf *b, const nt_tensor *t, int bins)
{
    if (bins < 1 || bins > 1000)
        return nt_error(NT_ERR_INVALID_ARG, "histogram bins must be 1 to 1000, not %d", bins);
    if (!nt_dtype_is_numeric(t->dtype) || nt_dtype_size(t->dtype) == 0)
        return nt_error(NT_ERR_UNSUPPORTED, "no histogram for a %s tensor", nt_dtype_name(t->dtype));
    nt_tstats st;
    tensor_stats(t, &st);
    int64_t nan = st.nan, inf = st.pinf + st.ninf, finite = st.finite;
    double lo = st.min, hi = st.max;
    nt_tstats_deinit(&st);
    nt_buf_printf(b, "  %" PRId64 " finite values in %d bins", finite, bins);
    if (nan + inf)
        nt_buf_printf(b, " (not counted: nan=%" PRId64 " inf=%" PRId64 ")", nan, inf);
    nt_buf_putc(b, '\n');
    if (finite == 0)
        return NT_OK;
    if (lo == hi) { /* numpy's choice for a constant array: a unit-wide range */
        lo -= 0.5;
        hi += 0.5;
    }
    int64_t *counts = nt_calloc((size_t)bins, sizeof *counts);
    if (!counts)
        return NT_ERR_NOMEM;
    /* Halves keep hi - lo finite even for ranges spanning +-DBL_MAX. */
    double span = hi * 0.5 - lo * 0.5;
    int64_t n = nt_tensor_numel(t), peak = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(t, i);
        if (!isfinite(v))
            continue;
        int k = (int)((v * 0.5 - lo * 0.5) / span * bins);
        if (k >= bins)
            k = bins - 1;
        if (k < 0)
            k = 0;
        counts[k]++;
    }
    for (int k = 0; k < bins; k++)
        peak = counts[k] > peak ? counts[k] : peak;
    for (int k = 0; k < bins; k++) {
        double f0 = (double)k / bins, f1 = (double)(k + 1) / bins;
        double a = lo * (1 - f0) + hi * f0, z = k == bins - 1 ? hi : lo * (1 - f1) + hi * f1;
        int bar = peak > 0 ? (int)((counts[k] * 40 + peak - 1) / peak) : 0;
        nt_buf_printf(b, "  [%12.6g, %12.6g%c %10" PRId64 "%s", a, z, k == bins - 1 ? ']' : ')', counts[k],
                      bar ? " " : "");
        for (int j = 0; j < bar; j++)
            nt_buf_putc(b, '#');
        nt_buf_putc(b, '\n');
    }
    free(counts);
    return NT_OK;
}
