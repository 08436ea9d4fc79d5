/*
 * curves.c — smoothing, noise estimates and the findings of curve analysis
 * (see curves.h for what each finding means).
 *
 * Every decision compares two windowed means of raw values (around the best
 * point, at the end) and asks that their difference be both statistically
 * significant against the curve's robust noise (3 standard errors) and large
 * enough to matter relative to the curve's level or progress.  The first
 * guards against noise, the second against a long, smooth curve whose tiny
 * wiggles are "significant" but irrelevant.
 */
#include "metrics/curves.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *nt_curve_severity_name(nt_curve_severity s)
{
    return s == NT_CURVE_ERROR ? "error" : s == NT_CURVE_WARNING ? "warning" : "info";
}

void nt_curve_findings_init(nt_curve_findings *f) { memset(f, 0, sizeof *f); }

void nt_curve_findings_deinit(nt_curve_findings *f)
{
    free(f->v);
    memset(f, 0, sizeof *f);
}

nt_curve_finding *nt_curve_findings_add(nt_curve_findings *f, const char *kind, nt_curve_severity sev, const char *tag)
{
    if (f->n == f->cap) {
        int cap = f->cap ? 2 * f->cap : 16;
        nt_curve_finding *v = nt_realloc(f->v, (size_t)cap * sizeof *v);
        if (!v)
            return NULL;
        f->v = v;
        f->cap = cap;
    }
    nt_curve_finding *x = &f->v[f->n++];
    memset(x, 0, sizeof *x);
    snprintf(x->kind, sizeof x->kind, "%s", kind);
    snprintf(x->tag, sizeof x->tag, "%s", tag ? tag : "");
    x->severity = sev;
    return x;
}

nt_curve_severity nt_curve_findings_max(const nt_curve_findings *f)
{
    nt_curve_severity m = NT_CURVE_INFO;
    for (int i = 0; i < f->n; i++)
        if (f->v[i].severity > m)
            m = f->v[i].severity;
    return m;
}

/* ---------------------------------------------------------------- smoothing */

int nt_curve_half_window(int64_t n)
{
    int64_t h = n / 20;
    return (int)(h > 25 ? 25 : h);
}

/* k-th smallest of v[0..n) (reorders v): Hoare's selection. */
static double select_kth(double *v, int64_t n, int64_t k)
{
    int64_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                double t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break;
    }
    return v[k];
}

/* Median of v[0..n) (reorders v); the mean of the two middle values for even n. */
static double median_inplace(double *v, int64_t n)
{
    if (n <= 0)
        return NAN;
    double hi = select_kth(v, n, n / 2);
    if (n % 2)
        return hi;
    double lo = select_kth(v, n / 2, n / 2 - 1); /* the lower half is now v[0..n/2) */
    return 0.5 * (lo + hi);
}

nt_status nt_curve_smooth(const double *x, int64_t n, int half, double *out)
{
    if (n <= 0)
        return NT_OK;
    double *win = nt_malloc((size_t)(2 * half + 1) * sizeof *win);
    double *med = nt_malloc((size_t)n * sizeof *med);
    if (!win || !med) {
        free(win);
        free(med);
        return NT_ERR_NOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        /* symmetric window, shrunk at the ends so the ends are not pulled
         * toward the interior */
        int64_t h = NT_MIN((int64_t)half, NT_MIN(i, n - 1 - i));
        int64_t m = 0;
        for (int64_t j = i - h; j <= i + h; j++)
            win[m++] = x[j];
        med[i] = median_inplace(win, m);
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t h = NT_MIN((int64_t)half, NT_MIN(i, n - 1 - i));
        double s = 0;
        for (int64_t j = i - h; j <= i + h; j++)
            s += med[j];
        out[i] = s / (double)(2 * h + 1);
    }
    free(win);
    free(med);
    return NT_OK;
}

double nt_curve_noise(const double *x, int64_t n)
{
    if (n < 3)
        return 0.0;
    double *d = nt_malloc((size_t)(n - 1) * sizeof *d);
    if (!d)
        return 0.0;
    for (int64_t i = 0; i + 1 < n; i++)
        d[i] = x[i + 1] - x[i];
    /* deviations from the median difference, so a steady trend is not noise */
    double *e = nt_malloc((size_t)(n - 1) * sizeof *e);
    if (!e) {
        free(d);
        return 0.0;
    }
    memcpy(e, d, (size_t)(n - 1) * sizeof *e);
    double md = median_inplace(e, n - 1);
    for (int64_t i = 0; i + 1 < n; i++)
        d[i] = fabs(d[i] - md);
    double mad = median_inplace(d, n - 1);
    free(d);
    free(e);
    return 1.4826 * mad / sqrt(2.0);
}

/* ---------------------------------------------------------------- prepared curves */

/* The finite points of a series, with values multiplied by `sign` (-1 turns
 * a higher-is-better score into a lower-is-better curve), smoothed. */
typedef struct prepared {
    int64_t n;
    int64_t *steps;
    double *v, *s;
    int half;
    double sigma;
} prepared;

static void prepared_free(prepared *p)
{
    free(p->steps);
    free(p->v);
    free(p->s);
    memset(p, 0, sizeof *p);
}

static nt_status prepare(const nt_series *x, double sign, prepared *p)
{
    memset(p, 0, sizeof *p);
    size_t cap = (size_t)(x->n > 0 ? x->n : 1);
    p->steps = nt_malloc(cap * sizeof *p->steps);
    p->v = nt_malloc(cap * sizeof *p->v);
    p->s = nt_malloc(cap * sizeof *p->s);
    if (!p->steps || !p->v || !p->s) {
        prepared_free(p);
        return NT_ERR_NOMEM;
    }
    for (int64_t i = 0; i < x->n; i++) {
        if (!isfinite(x->values[i]))
            continue;
        p->steps[p->n] = x->steps[i];
        p->v[p->n++] = sign * x->values[i];
    }
    p->half = nt_curve_half_window(p->n);
    p->sigma = nt_curve_noise(p->v, p->n);
    nt_status st = nt_curve_smooth(p->v, p->n, p->half, p->s);
    if (st != NT_OK)
        prepared_free(p);
    return st;
}

/* Mean of raw values in [a, b] (clamped); *count gets the number used. */
static double mean_range(const prepared *p, int64_t a, int64_t b, int64_t *count)
{
    a = NT_MAX(a, (int64_t)0);
    b = NT_MIN(b, p->n - 1);
    double s = 0;
    for (int64_t i = a; i <= b; i++)
        s += p->v[i];
    *count = b >= a ? b - a + 1 : 0;
    return *count ? s / (double)*count : NAN;
}

static int64_t argmin(const double *v, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] < v[best])
            best = i;
    return best;
}

/* Index of the first point at or after `step` (n if none). */
static int64_t index_at_step(const prepared *p, int64_t step)
{
    int64_t lo = 0, hi = p->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (p->steps[mid] < step)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The rise of a (lower-is-better) curve after its best point: lo is the mean
 * around the smoothed minimum, hi the mean of the last points; se the
 * standard error of their difference.  False if too few points follow the
 * minimum to tell. */
typedef struct rise_info {
    int64_t best;        /* index of the smoothed minimum */
    double lo, hi, se;
    double start;        /* mean of the first points */
} rise_info;

static bool measure_rise(const prepared *p, rise_info *r)
{
    if (p->n < 6)
        return false;
    r->best = argmin(p->s, p->n);
    int64_t after = p->n - 1 - r->best;
    if (after < NT_MAX((int64_t)3, p->n / 10))
        return false;
    int64_t k = NT_MIN(NT_MAX((int64_t)3, (int64_t)p->half + 1), after);
    int64_t c_lo, c_hi, c_st;
    r->lo = mean_range(p, r->best - p->half, r->best + p->half, &c_lo);
    r->hi = mean_range(p, p->n - k, p->n - 1, &c_hi);
    r->start = mean_range(p, 0, k - 1, &c_st);
    r->se = p->sigma * sqrt(1.0 / (double)c_lo + 1.0 / (double)c_hi);
    return true;
}

/* ---------------------------------------------------------------- pairs */

nt_status nt_curve_analyze_pair(const nt_series *train, const nt_series *val, nt_tag_kind kind,
                                nt_curve_findings *out)
{
    if (kind != NT_TAG_LOSS && kind != NT_TAG_SCORE)
        return NT_OK;
    double sign = kind == NT_TAG_SCORE ? -1.0 : 1.0;
    const char *what = kind == NT_TAG_SCORE ? "validation score" : "validation loss";
    prepared t, v;
    nt_status st = prepare(train, sign, &t);
    if (st != NT_OK)
        return st;
    if ((st = prepare(val, sign, &v)) != NT_OK) {
        prepared_free(&t);
        return st;
    }
    if (t.n < 3 || v.n < 3)
        goto done;

    /* -- overfitting: validation worsens after its best while training improves */
    rise_info r;
    if (measure_rise(&v, &r)) {
        double rise = r.hi - r.lo;
        double range = 0;
        for (int64_t i = 0; i < v.n; i++)
            range = NT_MAX(range, fabs(v.s[i] - v.s[r.best]));
        double min_rise = kind == NT_TAG_LOSS ? 0.05 * fabs(r.lo) : 0.01 * NT_MAX(fabs(r.lo), range);
        min_rise = NT_MAX(min_rise, 1e-12);
        bool val_up = rise > 3 * r.se && rise > min_rise && v.s[v.n - 1] - v.s[r.best] > 0.5 * min_rise;
        int64_t onset_step = v.steps[r.best];
        int64_t ta = index_at_step(&t, onset_step);
        if (val_up && ta < t.n - 1) {
            int64_t ce;
            double t_at = t.s[ta], t_end = mean_range(&t, t.n - 1 - 2 * (int64_t)t.half, t.n - 1, &ce);
            double t_se = t.sigma / sqrt((double)(2 * t.half + 1));
            /* overfitting needs training to keep improving after the onset;
             * validation rising while training stalls is a different story */
            bool train_falls = t_at - t_end > NT_MAX(t_se, 0.01 * fabs(t_at));
            nt_curve_finding *f = nt_curve_findings_add(out, train_falls ? "overfitting" : "rising",
                                                        NT_CURVE_WARNING, val->tag);
            if (!f) {
                st = NT_ERR_NOMEM;
                goto done;
            }
            snprintf(f->train_tag, sizeof f->train_tag, "%s", train->tag);
            f->has_step = true;
            f->step = onset_step;
            f->value = sign * rise;
            if (train_falls)
                snprintf(f->detail, sizeof f->detail,
                         "%s (smoothed) %s from %.4g (best, step %lld) to %.4g at the end while %s %s from %.4g to "
                         "%.4g; the best checkpoint is at step %lld",
                         what, kind == NT_TAG_SCORE ? "fell" : "rose", sign * r.lo, (long long)onset_step,
                         sign * r.hi, train->tag, kind == NT_TAG_SCORE ? "rose" : "fell", sign * t_at,
                         sign * t_end, (long long)onset_step);
            else
                snprintf(f->detail, sizeof f->detail,
                         "%s (smoothed) %s from %.4g (best, step %lld) to %.4g at the end while %s did not improve "
                         "(%.4g to %.4g): training has stalled or is unstable",
                         what, kind == NT_TAG_SCORE ? "fell" : "rose", sign * r.lo, (long long)onset_step,
                         sign * r.hi, train->tag, sign * t_at, sign * t_end);
        }
    }

    /* -- generalization gap at the end, over the validation curve's last points */
    {
        int64_t k = NT_MIN(NT_MAX((int64_t)3, (int64_t)v.half + 1), v.n);
        int64_t cv, ct;
        double v_end = mean_range(&v, v.n - k, v.n - 1, &cv);
        int64_t ta = index_at_step(&t, v.steps[v.n - k]);
        if (ta >= t.n)
            ta = NT_MAX((int64_t)0, t.n - k);
        double t_end = mean_range(&t, ta, t.n - 1, &ct);
        double gap = v_end - t_end; /* sign-adjusted: positive = validation worse */
        double se = sqrt(v.sigma * v.sigma / (double)cv + t.sigma * t.sigma / (double)ct);
        double rel = gap / NT_MAX(fabs(t_end), 1e-12);
        bool large = gap > 3 * se && (kind == NT_TAG_LOSS ? rel > 1.0 : rel > 0.1);
        nt_curve_finding *f = nt_curve_findings_add(out, "generalization_gap",
                                                    large ? NT_CURVE_WARNING : NT_CURVE_INFO, val->tag);
        if (!f) {
            st = NT_ERR_NOMEM;
            goto done;
        }
        snprintf(f->train_tag, sizeof f->train_tag, "%s", train->tag);
        f->has_step = true;
        f->step = v.steps[v.n - 1];
        f->value = gap;
        snprintf(f->detail, sizeof f->detail, "at the end %s is %.4g and %s %.4g: gap %.4g (%+.0f%% of training)%s",
                 val->tag, sign * v_end, train->tag, sign * t_end, gap, 100 * rel,
                 large ? (kind == NT_TAG_LOSS ? "; validation loss is more than twice training loss"
                                              : "; validation trails training by more than 10%")
                       : "");
    }
done:
    prepared_free(&t);
    prepared_free(&v);
    return st;
}

/* ---------------------------------------------------------------- single curves */

static nt_status check_nonfinite(const nt_series *s, nt_curve_findings *out)
{
    int64_t first = -1, count = 0;
    for (int64_t i = 0; i < s->n; i++)
        if (!isfinite(s->values[i])) {
            if (first < 0)
                first = i;
            count++;
        }
    if (first < 0)
        return NT_OK;
    nt_curve_finding *f = nt_curve_findings_add(out, "divergence", NT_CURVE_ERROR, s->tag);
    if (!f)
        return NT_ERR_NOMEM;
    f->has_step = true;
    f->step = s->steps[first];
    f->value = s->values[first];
    snprintf(f->detail, sizeof f->detail, "%s became %s at step %lld (%lld of %lld values are not finite)", s->tag,
             isnan(s->values[first]) ? "NaN" : s->values[first] > 0 ? "+Inf" : "-Inf", (long long)s->steps[first],
             (long long)count, (long long)s->n);
    return NT_OK;
}

nt_status nt_curve_analyze_single(const nt_series *s, bool trends, nt_curve_findings *out)
{
    nt_status st = check_nonfinite(s, out);
    if (st != NT_OK || !trends)
        return st;
    prepared p;
    if ((st = prepare(s, 1.0, &p)) != NT_OK)
        return st;
    if (p.n < 6)
        goto done;
    double smin = p.s[0], smax = p.s[0];
    for (int64_t i = 1; i < p.n; i++) {
        smin = NT_MIN(smin, p.s[i]);
        smax = NT_MAX(smax, p.s[i]);
    }
    double progress = smax - smin;
    bool rising = false;

    /* -- divergence / rising after the best point */
    rise_info r;
    if (measure_rise(&p, &r)) {
        double rise = r.hi - r.lo;
        double gained = r.start - r.lo;
        bool sig = rise > 3 * r.se && rise > 0.05 * fabs(r.lo) && rise > 1e-12;
        if (sig && (r.hi > r.start || rise > NT_MAX(fabs(r.lo), 0.5 * gained))) {
            nt_curve_finding *f = nt_curve_findings_add(out, "divergence", NT_CURVE_ERROR, s->tag);
            if (!f) {
                st = NT_ERR_NOMEM;
                goto done;
            }
            f->has_step = true;
            f->step = p.steps[r.best];
            f->value = rise;
            snprintf(f->detail, sizeof f->detail,
                     "%s (smoothed) rose from %.4g (its best, step %lld) to %.4g at the end%s; lower the learning "
                     "rate or clip gradients",
                     s->tag, r.lo, (long long)p.steps[r.best], r.hi,
                     r.hi > r.start ? ", above where it started" : "");
            rising = true;
        } else if (sig && rise > 0.05 * NT_MAX(gained, 0.0)) {
            nt_curve_finding *f = nt_curve_findings_add(out, "rising", NT_CURVE_WARNING, s->tag);
            if (!f) {
                st = NT_ERR_NOMEM;
                goto done;
            }
            f->has_step = true;
            f->step = p.steps[r.best];
            f->value = rise;
            snprintf(f->detail, sizeof f->detail, "%s (smoothed) rose from %.4g (step %lld) to %.4g at the end", s->tag, r.lo,
                     (long long)p.steps[r.best], r.hi);
            rising = true;
        }
    }

    /* -- oscillation: swings large against the progress made */
    double level = 0;
    {
        double *tmp = nt_malloc((size_t)p.n * sizeof *tmp);
        if (!tmp) {
            st = NT_ERR_NOMEM;
            goto done;
        }
        for (int64_t i = 0; i < p.n; i++)
            tmp[i] = fabs(p.s[i]);
        level = median_inplace(tmp, p.n);
        free(tmp);
    }
    double ratio = p.sigma / NT_MAX(NT_MAX(progress, 0.1 * level), 1e-12);
    if (p.n >= 10 && ratio > 0.25) {
        nt_curve_finding *f = nt_curve_findings_add(out, "oscillation", NT_CURVE_WARNING, s->tag);
        if (!f) {
            st = NT_ERR_NOMEM;
            goto done;
        }
        f->value = p.sigma;
        snprintf(f->detail, sizeof f->detail,
                 "%s swings by about %.3g from point to point, %.0f%% of the progress it made (%.3g); the learning "
                 "rate may be too high",
                 s->tag, p.sigma, 100 * ratio, progress);
    }

    /* -- plateau: from some step on, the smoothed curve stays within a band
     *    around its final value */
    if (!rising) {
        /* the final level from the last window of raw points, and only
         * fully smoothed points compared with it: the shrunk windows at the
         * very end are as noisy as raw values */
        int64_t cf;
        double fin = mean_range(&p, p.n - 1 - 2 * (int64_t)p.half, p.n - 1, &cf);
        /* the smoothed noise wanders about sigma/sqrt(window) each way, and
         * its extremes over a long curve reach three times that */
        double band = NT_MAX(0.05 * progress, 6 * p.sigma / sqrt((double)(2 * p.half + 1)));
        band = NT_MAX(band, 1e-9 * fabs(fin));
        int64_t start = p.n - 1 - p.half;
        while (start > 0 && fabs(p.s[start - 1] - fin) <= band)
            start--;
        int64_t len = p.n - start;
        if (len >= NT_MAX((int64_t)5, p.n / 4)) {
            int64_t c;
            double first = mean_range(&p, 0, NT_MAX((int64_t)2, (int64_t)p.half), &c);
            bool stuck = start == 0 || (first > 0 && fin > 0.5 * first);
            nt_curve_finding *f = nt_curve_findings_add(out, "plateau",
                                                        stuck ? NT_CURVE_WARNING : NT_CURVE_INFO, s->tag);
            if (!f) {
                st = NT_ERR_NOMEM;
                goto done;
            }
            f->has_step = true;
            f->step = p.steps[start];
            f->value = fin;
            if (start == 0)
                snprintf(f->detail, sizeof f->detail, "%s never decreased: it stayed near %.4g for all %lld points",
                         s->tag, fin, (long long)p.n);
            else
                snprintf(f->detail, sizeof f->detail, "%s has stayed within %.3g of %.4g since step %lld (%lld of %lld points)%s",
                         s->tag, band, fin, (long long)p.steps[start], (long long)len, (long long)p.n,
                         stuck ? ": it stalled above half its starting value — learning rate, initialization or data?"
                               : "");
        }
    }
done:
    prepared_free(&p);
    return st;
}

/* ---------------------------------------------------------------- sizes */

nt_status nt_curve_check_sizes(double n_train, double n_val, double declared, const char *tag,
                               nt_curve_findings *out)
{
    if (!(n_train >= 0) || !(n_val >= 0) || n_train + n_val <= 0)
        return NT_OK;
    double total = n_train + n_val, frac = n_val / total;
    nt_curve_finding *f = nt_curve_findings_add(out, "data_sizes", NT_CURVE_INFO, tag);
    if (!f)
        return NT_ERR_NOMEM;
    f->value = n_val;
    snprintf(f->detail, sizeof f->detail, "%.0f training and %.0f validation samples (%.1f%% validation)", n_train,
             n_val, 100 * frac);
    if (n_val < 50 || frac < 0.01) {
        f = nt_curve_findings_add(out, "small_validation", NT_CURVE_WARNING, tag);
        if (!f)
            return NT_ERR_NOMEM;
        f->value = n_val;
        /* the standard error of an accuracy near 0.5 on n samples */
        double se = n_val > 0 ? 0.5 / sqrt(n_val) : 1.0;
        snprintf(f->detail, sizeof f->detail,
                 "the validation set has only %.0f samples (%.1f%% of %.0f): validation accuracy moves in steps of "
                 "%.3g and has a standard error up to %.3g, so small changes are noise",
                 n_val, 100 * frac, total, n_val > 0 ? 1.0 / n_val : 1.0, se);
    }
    if (!isnan(declared)) {
        /* allow rounding of the split to whole samples and a little slack */
        double tol = NT_MAX(0.1 * declared, 0.01) + 1.0 / total;
        if (fabs(frac - declared) > tol) {
            f = nt_curve_findings_add(out, "split_mismatch", NT_CURVE_WARNING, tag);
            if (!f)
                return NT_ERR_NOMEM;
            f->value = frac;
            snprintf(f->detail, sizeof f->detail,
                     "the split says %.1f%% validation but the sizes give %.1f%% (%.0f training, %.0f validation): "
                     "is the right data being used for each?",
                     100 * declared, 100 * frac, n_train, n_val);
        }
    }
    return NT_OK;
}
