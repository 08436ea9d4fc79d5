/*
 * downsample.c — making a long scalar series fit a chart.  (Overfitting
 * onsets are not decided here: /api/overfit calls nt_curve_analyze_set, the
 * rule `nntrace report` uses.)
 *
 * A million-point series cannot go to a browser on every refresh, and a
 * chart a thousand pixels wide cannot show more than a few points per pixel
 * anyway.  Min/max bucketing (every bucket keeps its first, last, lowest and
 * highest point) draws the same envelope as the full series at the chart's
 * resolution, keeps single-step spikes and NaN points visible, and is
 * linear in the points inside the requested window: when the user zooms in,
 * the same call over the narrower window returns full resolution.
 */
#include "serve/serve.h"

#include <math.h>
#include <stdlib.h>

/* First index with x[i] >= v (n if none). */
static size_t lower_bound(const int64_t *x, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First index with x[i] > v (n if none). */
static size_t upper_bound(const int64_t *x, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (x[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

nt_status nt_downsample(const int64_t *x, const double *y, size_t n, int64_t x0, int64_t x1,
                        size_t max_points, nt_ds_result *r)
{
    r->idx = NULL;
    r->n = r->in_range = 0;
    r->reduced = false;
    if (max_points < 1)
        max_points = 1;
    if (n == 0 || x1 < x0)
        return NT_OK;
    size_t lo = lower_bound(x, n, x0), hi = upper_bound(x, n, x1);
    if (hi <= lo)
        return NT_OK;
    size_t m = hi - lo;
    r->in_range = m;
    size_t want = m <= max_points ? m : max_points;
    r->idx = nt_malloc(want * sizeof *r->idx);
    if (!r->idx)
        return NT_ERR_NOMEM;
    if (m <= max_points) {
        for (size_t i = 0; i < m; i++)
            r->idx[i] = lo + i;
        r->n = m;
        return NT_OK;
    }
    r->reduced = true;
    if (max_points < 5) {
        /* Too few for a bucket's five picks: evenly spaced points, the
         * last always included (one point: the latest). */
        for (size_t i = 0; i < max_points; i++)
            r->idx[i] = max_points == 1 ? hi - 1 : lo + (size_t)((double)(m - 1) * (double)i / (double)(max_points - 1) + 0.5);
        r->n = max_points;
        return NT_OK;
    }
    size_t buckets = max_points / 5; /* up to 5 picks each: first, min, max, NaN, last */
    size_t out = 0;
    for (size_t b = 0; b < buckets; b++) {
        size_t s = lo + (size_t)((double)m * (double)b / (double)buckets);
        size_t e = lo + (size_t)((double)m * (double)(b + 1) / (double)buckets);
        if (e > hi)
            e = hi;
        if (e <= s)
            continue;
        size_t imin = s, imax = s, inan = (size_t)-1;
        for (size_t i = s; i < e; i++) {
            double v = y[i];
            if (isnan(v)) {
                if (inan == (size_t)-1)
                    inan = i;
                continue;
            }
            if (isnan(y[imin]) || v < y[imin])
                imin = i;
            if (isnan(y[imax]) || v > y[imax])
                imax = i;
        }
        /* Up to four distinct indices, in ascending order. */
        size_t pick[5] = {s, imin, imax, inan, e - 1};
        int np = 5;
        for (int a = 1; a < np; a++) { /* insertion sort of 5 */
            size_t v = pick[a];
            int k = a - 1;
            while (k >= 0 && pick[k] > v) {
                pick[k + 1] = pick[k];
                k--;
            }
            pick[k + 1] = v;
        }
        for (int a = 0; a < np && out < max_points; a++) {
            if (pick[a] == (size_t)-1 || (out > 0 && r->idx[out - 1] == pick[a]))
                continue;
            r->idx[out++] = pick[a];
        }
    }
    r->n = out;
    return NT_OK;
}
