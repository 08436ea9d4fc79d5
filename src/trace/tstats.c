/*
 * tstats.c — value statistics and the fixed-bucket histogram (tstats.h).
 *
 * The float32 path is the hot one (the stats tracer runs it on every node
 * output): it sums in float over short blocks and folds each block into
 * double, which keeps the inner loop vectorizable while the totals stay
 * accurate.  The histogram bucket comes straight from the float's exponent
 * and top two mantissa bits.
 */
#include "trace/tstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

nt_status nt_tstats_init(nt_tstats *s, bool with_hist)
{
    memset(s, 0, sizeof *s);
    s->min = NAN;
    s->max = NAN;
    if (with_hist) {
        s->hist = nt_calloc(NT_HIST_BUCKETS, sizeof *s->hist);
        if (!s->hist)
            return NT_ERR_NOMEM;
    }
    return NT_OK;
}

void nt_tstats_deinit(nt_tstats *s)
{
    free(s->hist);
    s->hist = NULL;
}

void nt_tstats_reset(nt_tstats *s)
{
    int64_t *h = s->hist;
    memset(s, 0, sizeof *s);
    s->min = NAN;
    s->max = NAN;
    s->hist = h;
    if (h)
        memset(h, 0, NT_HIST_BUCKETS * sizeof *h);
}

/* Index among one sign's buckets of |v| > 0 (finite). */
static int side_index(double a)
{
    int e;
    double m = frexp(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    /* a in [2^(e-1), 2^e): quarter-octave from m */
    int q = (int)((m - 0.5) * 2.0 * NT_HIST_PER_OCTAVE);
    if (q >= NT_HIST_PER_OCTAVE)
        q = NT_HIST_PER_OCTAVE - 1;
    int oct = e - 1;
    if (oct < NT_HIST_MIN_EXP)
        return 0;
    if (oct >= NT_HIST_MAX_EXP)
        return NT_HIST_SIDE - 1;
    return 1 + (oct - NT_HIST_MIN_EXP) * NT_HIST_PER_OCTAVE + q;
}

static int bucket_of(double v)
{
    if (v == 0)
        return NT_HIST_SIDE;
    int k = side_index(fabs(v));
    return v > 0 ? NT_HIST_SIDE + 1 + k : NT_HIST_SIDE - 1 - k;
}

void nt_tstats_bucket_edges(int b, double *lo, double *hi)
{
    if (b == NT_HIST_SIDE) {
        *lo = *hi = 0;
        return;
    }
    bool neg = b < NT_HIST_SIDE;
    int k = neg ? NT_HIST_SIDE - 1 - b : b - NT_HIST_SIDE - 1;
    double a, c;
    if (k == 0) {
        a = 0;
        c = ldexp(1.0, NT_HIST_MIN_EXP);
    } else if (k == NT_HIST_SIDE - 1) {
        a = ldexp(1.0, NT_HIST_MAX_EXP);
        c = INFINITY;
    } else {
        int oct = (k - 1) / NT_HIST_PER_OCTAVE + NT_HIST_MIN_EXP;
        int q = (k - 1) % NT_HIST_PER_OCTAVE;
        a = ldexp(1.0 + (double)q / NT_HIST_PER_OCTAVE, oct);
        c = ldexp(1.0 + (double)(q + 1) / NT_HIST_PER_OCTAVE, oct);
    }
    if (neg) {
        *lo = -c;
        *hi = -a;
    } else {
        *lo = a;
        *hi = c;
    }
}

/* Histogram bucket of a finite float from its bits: exponent and the top
 * two mantissa bits give the quarter-octave directly (no log). */
static inline int float_bucket(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    uint32_t absu = u & 0x7fffffffu;
    if (absu == 0)
        return NT_HIST_SIDE;
    int e = (int)(absu >> 23) - 127; /* v in [2^e, 2^(e+1)) for normals */
    int k;
    if ((absu >> 23) == 0 || e < NT_HIST_MIN_EXP)
        k = 0;
    else if (e >= NT_HIST_MAX_EXP)
        k = NT_HIST_SIDE - 1;
    else
        k = 1 + (e - NT_HIST_MIN_EXP) * NT_HIST_PER_OCTAVE + (int)((absu >> 21) & 3);
    return (u >> 31) ? NT_HIST_SIDE - 1 - k : NT_HIST_SIDE + 1 + k;
}

static void add_f32(nt_tstats *s, const float *x, int64_t n)
{
    double mn = s->finite ? s->min : INFINITY, mx = s->finite ? s->max : -INFINITY;
    int64_t specials = 0, zeros = 0, neg = 0;
    enum { BLOCK = 256 };
    for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
        int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
        const float *p = x + i0;
        float bmin = INFINITY, bmax = -INFINITY, bsum = 0, bsq = 0;
        int64_t bspecial = 0, bzero = 0, bneg = 0;
        for (int64_t i = 0; i < m; i++) {
            float v = p[i];
            /* NaN and Inf are excluded from sums by masking them to 0. */
            uint32_t u;
            memcpy(&u, &v, 4);
            int special = (u & 0x7f800000u) == 0x7f800000u;
            float f = special ? 0.0f : v;
            bspecial += special;
            bzero += v == 0.0f;
            bneg += v < 0.0f;
            bsum += f;
            bsq += f * f;
            bmin = f < bmin && !special ? f : bmin;
            bmax = f > bmax && !special ? f : bmax;
        }
        s->sum += bsum;
        s->sumsq += bsq;
        specials += bspecial;
        zeros += bzero;
        neg += bneg;
        if (bmin < mn)
            mn = bmin;
        if (bmax > mx)
            mx = bmax;
        if (bspecial)
            for (int64_t i = 0; i < m; i++) {
                float v = p[i];
                if (isnan(v))
                    s->nan++;
                else if (isinf(v)) {
                    if (v > 0)
                        s->pinf++;
                    else
                        s->ninf++;
                }
            }
        if (s->hist)
            for (int64_t i = 0; i < m; i++) {
                uint32_t u;
                memcpy(&u, &p[i], 4);
                if ((u & 0x7f800000u) != 0x7f800000u)
                    s->hist[float_bucket(p[i])]++;
            }
    }
    s->count += n;
    s->finite += n - specials;
    s->zeros += zeros;
    s->negatives += neg; /* -Inf included, as in the generic path */
    if (s->finite > 0) {
        s->min = mn;
        s->max = mx;
    }
}

void nt_tstats_add(nt_tstats *s, const nt_tensor *t)
{
    int64_t n = nt_tensor_numel(t);
    if (n <= 0 || !t->data)
        return;
    if (t->dtype == NT_DTYPE_FLOAT) {
        add_f32(s, t->data, n);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(t, i);
        s->count++;
        if (isnan(v)) {
            s->nan++;
            continue;
        }
        if (isinf(v)) {
            if (v > 0)
                s->pinf++;
            else {
                s->ninf++;
                s->negatives++;
            }
            continue;
        }
        s->zeros += v == 0;
        s->negatives += v < 0;
        s->sum += v;
        s->sumsq += v * v;
        if (s->finite == 0 || v < s->min)
            s->min = v;
        if (s->finite == 0 || v > s->max)
            s->max = v;
        s->finite++;
        if (s->hist)
            s->hist[bucket_of(v)]++;
    }
}

void nt_tstats_merge(nt_tstats *into, const nt_tstats *from)
{
    if (from->finite) {
        if (into->finite == 0 || from->min < into->min)
            into->min = from->min;
        if (into->finite == 0 || from->max > into->max)
            into->max = from->max;
    }
    into->count += from->count;
    into->nan += from->nan;
    into->pinf += from->pinf;
    into->ninf += from->ninf;
    into->zeros += from->zeros;
    into->negatives += from->negatives;
    into->sum += from->sum;
    into->sumsq += from->sumsq;
    into->finite += from->finite;
    if (into->hist && from->hist)
        for (int b = 0; b < NT_HIST_BUCKETS; b++)
            into->hist[b] += from->hist[b];
}

double nt_tstats_mean(const nt_tstats *s) { return s->finite ? s->sum / (double)s->finite : NAN; }

double nt_tstats_std(const nt_tstats *s)
{
    if (!s->finite)
        return NAN;
    double m = s->sum / (double)s->finite;
    double var = s->sumsq / (double)s->finite - m * m;
    return var > 0 ? sqrt(var) : 0.0;
}

double nt_tstats_absmax(const nt_tstats *s)
{
    if (s->pinf || s->ninf)
        return INFINITY;
    if (!s->finite)
        return NAN;
    return fmax(fabs(s->min), fabs(s->max));
}

void nt_tstats_json(const nt_tstats *s, nt_buf *b)
{
    nt_buf_printf(b, "\"count\": %lld, \"min\": ", (long long)s->count);
    nt_buf_json_double(b, s->finite ? s->min : NAN);
    nt_buf_puts(b, ", \"max\": ");
    nt_buf_json_double(b, s->finite ? s->max : NAN);
    nt_buf_puts(b, ", \"mean\": ");
    nt_buf_json_double(b, nt_tstats_mean(s));
    nt_buf_puts(b, ", \"std\": ");
    nt_buf_json_double(b, nt_tstats_std(s));
    nt_buf_printf(b, ", \"nan\": %lld, \"pinf\": %lld, \"ninf\": %lld, \"inf\": %lld, \"zeros\": %lld, "
                     "\"zero_fraction\": ",
                  (long long)s->nan, (long long)s->pinf, (long long)s->ninf, (long long)(s->pinf + s->ninf),
                  (long long)s->zeros);
    nt_buf_json_double(b, s->count ? (double)s->zeros / (double)s->count : NAN);
    nt_buf_printf(b, ", \"negatives\": %lld", (long long)s->negatives);
    if (!s->hist)
        return;
    int lo = -1, hi = -1;
    for (int k = 0; k < NT_HIST_BUCKETS; k++)
        if (s->hist[k]) {
            if (lo < 0)
                lo = k;
            hi = k;
        }
    nt_buf_puts(b, ", \"histogram\": {\"edges\": [");
    for (int k = lo; lo >= 0 && k <= hi; k++) {
        double e0, e1;
        nt_tstats_bucket_edges(k, &e0, &e1);
        if (k == lo) {
            nt_buf_json_double(b, e0);
            nt_buf_puts(b, ", ");
        }
        nt_buf_json_double(b, e1);
        if (k < hi)
            nt_buf_puts(b, ", ");
    }
    nt_buf_puts(b, "], \"counts\": [");
    for (int k = lo; lo >= 0 && k <= hi; k++)
        nt_buf_printf(b, "%s%lld", k > lo ? ", " : "", (long long)s->hist[k]);
    nt_buf_puts(b, "]}");
}
