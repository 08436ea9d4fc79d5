/*
 * dbg_slice.c — numpy-style index parsing and strided views (dbg_slice.h).
 *
 * A view is (offset, dims, strides) in elements, so every selection,
 * negative steps included, is a few integers and printing or filling it
 * never copies the tensor.  Element i of a view is found by peeling its
 * row-major coordinates off i, which is slow per element but only ever runs
 * on what a person asked to see or change.
 */
#include "debug/dbg_slice.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ parsing */

static void skip_space(const char **p)
{
    while (isspace((unsigned char)**p))
        (*p)++;
}

/* An optional signed integer; *present false (and *p unchanged) if none. */
static nt_status parse_int(const char *text, const char **p, int64_t *v, bool *present)
{
    skip_space(p);
    *present = false;
    if (!(**p == '-' || **p == '+' || isdigit((unsigned char)**p)))
        return NT_OK;
    char *end;
    errno = 0;
    long long x = strtoll(*p, &end, 10);
    if (end == *p || errno == ERANGE)
        return nt_error(NT_ERR_INVALID_ARG, "index '%s': bad integer at column %d", text, (int)(*p - text) + 1);
    *p = end;
    *v = x;
    *present = true;
    return NT_OK;
}

nt_status nt_dbg_slice_parse(const char *text, nt_dbg_slice *out)
{
    memset(out, 0, sizeof *out);
    const char *p = text;
    skip_space(&p);
    if (*p == '\0')
        return NT_OK;
    if (*p != '[')
        return nt_error(NT_ERR_INVALID_ARG, "index '%s': expected '['", text);
    p++;
    skip_space(&p);
    if (*p == ']') { /* "x[]" is the whole tensor, as a convenience */
        p++;
        skip_space(&p);
        return *p ? nt_error(NT_ERR_INVALID_ARG, "index '%s': unexpected text after ']'", text) : NT_OK;
    }
    bool seen_ellipsis = false;
    for (;;) {
        if (out->n >= NT_DBG_MAX_INDICES)
            return nt_error(NT_ERR_INVALID_ARG, "index '%s': too many indices (at most %d)", text, NT_MAX_DIMS);
        nt_dbg_index *ix = &out->idx[out->n];
        skip_space(&p);
        nt_status st;
        bool present;
        if (strncmp(p, "...", 3) == 0) {
            if (seen_ellipsis)
                return nt_error(NT_ERR_INVALID_ARG, "index '%s': only one '...' is allowed", text);
            seen_ellipsis = true;
            ix->kind = NT_DBG_INDEX_ELLIPSIS;
            p += 3;
        } else {
            if ((st = parse_int(text, &p, &ix->start, &present)) != NT_OK)
                return st;
            skip_space(&p);
            if (*p != ':') {
                if (!present)
                    return nt_error(NT_ERR_INVALID_ARG, "index '%s': expected an integer, a slice or '...' at column %d",
                                    text, (int)(p - text) + 1);
                ix->kind = NT_DBG_INDEX_INT;
            } else {
                ix->kind = NT_DBG_INDEX_RANGE;
                ix->has_start = present;
                ix->step = 1;
                p++;
                if ((st = parse_int(text, &p, &ix->stop, &ix->has_stop)) != NT_OK)
                    return st;
                skip_space(&p);
                if (*p == ':') {
                    p++;
                    if ((st = parse_int(text, &p, &ix->step, &present)) != NT_OK)
                        return st;
                    if (!present)
                        ix->step = 1;
                    else if (ix->step == 0)
                        return nt_error(NT_ERR_INVALID_ARG, "index '%s': slice step cannot be zero", text);
                }
            }
        }
        out->n++;
        skip_space(&p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == ']') {
            p++;
            skip_space(&p);
            if (*p)
                return nt_error(NT_ERR_INVALID_ARG, "index '%s': unexpected text after ']'", text);
            return NT_OK;
        }
        return nt_error(NT_ERR_INVALID_ARG, "index '%s': expected ',' or ']' at column %d", text, (int)(p - text) + 1);
    }
}

bool nt_dbg_slice_is_element(const nt_dbg_slice *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->idx[i].kind != NT_DBG_INDEX_INT)
            return false;
    return true;
}

/* ------------------------------------------------------------ views */

void nt_dbg_view_whole(const nt_tensor *t, nt_dbg_view *out)
{
    memset(out, 0, sizeof *out);
    out->ndim = t->ndim;
    int64_t stride = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        out->dims[d] = t->dims[d];
        out->strides[d] = stride;
        stride *= t->dims[d];
    }
}

/* Python's slice.indices(): clamps start/stop to the axis and counts.
 * *step_out is the step to use for the stride: a step of magnitude n or
 * more selects at most one element, so it is clamped to n, which keeps
 * the count and the stride (step * axis stride) from overflowing on
 * "[::9223372036854775807]" while selecting the same element. */
static int64_t range_length(const nt_dbg_index *ix, int64_t n, int64_t *start_out, int64_t *step_out)
{
    int64_t lim = n > 0 ? n : 1;
    int64_t step = ix->step > lim ? lim : ix->step < -lim ? -lim : ix->step, start, stop;
    *step_out = step;
    if (step > 0) {
        start = ix->has_start ? ix->start : 0;
        stop = ix->has_stop ? ix->stop : n;
        if (start < 0)
            start = start + n < 0 ? 0 : start + n;
        else if (start > n)
            start = n;
        if (stop < 0)
            stop = stop + n < 0 ? 0 : stop + n;
        else if (stop > n)
            stop = n;
        *start_out = start;
        return stop > start ? (stop - start + step - 1) / step : 0;
    }
    start = ix->has_start ? ix->start : n - 1;
    stop = ix->has_stop ? ix->stop : -n - 1;
    if (start < 0)
        start = start + n < 0 ? -1 : start + n;
    else if (start >= n)
        start = n - 1;
    if (stop < 0)
        stop = stop + n < -1 ? -1 : stop + n;
    else if (stop >= n)
        stop = n - 1;
    *start_out = start;
    return start > stop ? (start - stop + (-step) - 1) / (-step) : 0;
}

nt_status nt_dbg_view_make(const nt_tensor *t, const nt_dbg_slice *s, nt_dbg_view *out)
{
    nt_dbg_view whole;
    nt_dbg_view_whole(t, &whole);
    memset(out, 0, sizeof *out);
    int n_axes = 0;
    for (int i = 0; i < s->n; i++)
        if (s->idx[i].kind != NT_DBG_INDEX_ELLIPSIS)
            n_axes++;
    if (n_axes > t->ndim)
        return nt_error(NT_ERR_INVALID_ARG, "too many indices: %d for a tensor of rank %d", n_axes, t->ndim);
    int axis = 0;
    for (int i = 0; i < s->n; i++) {
        const nt_dbg_index *ix = &s->idx[i];
        if (ix->kind == NT_DBG_INDEX_ELLIPSIS) {
            for (int k = 0; k < t->ndim - n_axes; k++, axis++) {
                out->dims[out->ndim] = whole.dims[axis];
                out->strides[out->ndim++] = whole.strides[axis];
            }
            continue;
        }
        int64_t n = whole.dims[axis];
        if (ix->kind == NT_DBG_INDEX_INT) {
            int64_t k = ix->start < 0 ? ix->start + n : ix->start;
            if (k < 0 || k >= n)
                return nt_error(NT_ERR_INVALID_ARG, "index %lld is out of range for axis %d of size %lld",
                                (long long)ix->start, axis, (long long)n);
            out->offset += k * whole.strides[axis];
        } else {
            int64_t start, step;
            int64_t len = range_length(ix, n, &start, &step);
            if (len > 0)
                out->offset += start * whole.strides[axis];
            out->dims[out->ndim] = len;
            out->strides[out->ndim++] = whole.strides[axis] * step;
        }
        axis++;
    }
    for (; axis < t->ndim; axis++) { /* trailing axes not indexed: whole */
        out->dims[out->ndim] = whole.dims[axis];
        out->strides[out->ndim++] = whole.strides[axis];
    }
    return NT_OK;
}

int64_t nt_dbg_view_numel(const nt_dbg_view *v)
{
    int64_t n = 1;
    for (int d = 0; d < v->ndim; d++)
        n *= v->dims[d];
    return n;
}

int64_t nt_dbg_view_flat(const nt_dbg_view *v, int64_t i)
{
    int64_t flat = v->offset;
    for (int d = v->ndim - 1; d >= 0; d--) {
        int64_t n = v->dims[d];
        flat += (i % n) * v->strides[d];
        i /= n;
    }
    return flat;
}

static bool view_is_whole(const nt_tensor *t, const nt_dbg_view *v)
{
    nt_dbg_view w;
    nt_dbg_view_whole(t, &w);
    if (v->ndim != w.ndim || v->offset != 0)
        return false;
    for (int d = 0; d < v->ndim; d++)
        if (v->dims[d] != w.dims[d] || (v->dims[d] > 1 && v->strides[d] != w.strides[d]))
            return false;
    return true;
}

nt_status nt_dbg_view_copy(const nt_tensor *t, const nt_dbg_view *v, nt_tensor **out)
{
    *out = NULL;
    if (view_is_whole(t, v))
        return nt_tensor_clone(t, out);
    size_t esz = nt_dtype_size(t->dtype);
    if (esz == 0)
        return nt_error(NT_ERR_UNSUPPORTED, "cannot slice a %s tensor", nt_dtype_name(t->dtype));
    nt_tensor *r;
    nt_status st = nt_tensor_new(t->dtype, v->ndim, v->dims, &r);
    if (st != NT_OK)
        return st;
    int64_t n = nt_dbg_view_numel(v);
    const char *src = t->data;
    char *dst = r->data;
    for (int64_t i = 0; i < n; i++)
        memcpy(dst + (size_t)i * esz, src + (size_t)nt_dbg_view_flat(v, i) * esz, esz);
    *out = r;
    return NT_OK;
}

/* Whether x can be stored in dtype without being changed out of recognition. */
static nt_status check_fits(nt_dtype dt, double x)
{
    if (nt_dtype_is_float(dt))
        return NT_OK;
    if (!nt_dtype_is_numeric(dt) || nt_dtype_size(dt) == 0)
        return nt_error(NT_ERR_UNSUPPORTED, "cannot set elements of a %s tensor", nt_dtype_name(dt));
    if (!isfinite(x) || x != floor(x))
        return nt_error(NT_ERR_INVALID_ARG, "%g is not an integer (the tensor holds %s)", x, nt_dtype_name(dt));
    double lo, hi; /* inclusive */
    switch (dt) {
    case NT_DTYPE_BOOL: lo = 0, hi = 1; break;
    case NT_DTYPE_UINT8: lo = 0, hi = 255; break;
    case NT_DTYPE_INT8: lo = -128, hi = 127; break;
    case NT_DTYPE_UINT16: lo = 0, hi = 65535; break;
    case NT_DTYPE_INT16: lo = -32768, hi = 32767; break;
    case NT_DTYPE_UINT32: lo = 0, hi = 4294967295.0; break;
    case NT_DTYPE_INT32: lo = -2147483648.0, hi = 2147483647.0; break;
    case NT_DTYPE_UINT64: lo = 0, hi = 18446744073709549568.0; break;        /* largest double < 2^64 */
    case NT_DTYPE_INT64: lo = -9223372036854775808.0, hi = 9223372036854774784.0; break; /* < 2^63 */
    default: return nt_error(NT_ERR_UNSUPPORTED, "cannot set elements of a %s tensor", nt_dtype_name(dt));
    }
    if (x < lo || x > hi)
        return nt_error(NT_ERR_INVALID_ARG, "%g is out of range for %s (%.0f to %.0f)", x, nt_dtype_name(dt), lo, hi);
    return NT_OK;
}

nt_status nt_dbg_view_fill(nt_tensor *t, const nt_dbg_view *v, double x)
{
    nt_status st = check_fits(t->dtype, x);
    if (st != NT_OK)
        return st;
    if (nt_dtype_size(t->dtype) == 0)
        return nt_error(NT_ERR_UNSUPPORTED, "cannot set elements of a %s tensor", nt_dtype_name(t->dtype));
    int64_t n = nt_dbg_view_numel(v);
    for (int64_t i = 0; i < n; i++)
        nt_tensor_set_f64(t, nt_dbg_view_flat(v, i), x);
    return NT_OK;
}
