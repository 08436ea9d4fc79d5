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

/* The 32-byte vector helpers below are always inlined into the clones that
 * use them; gcc's note about their (never used) out-of-line ABI is noise. */
#pragma GCC diagnostic ignored "-Wpsabi"

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
 * two mantissa bits give the quarter-octave directly (no log).  Written
 * without branches (random signs would mispredict). */
static inline int float_bucket(uint32_t u)
{
    uint32_t absu = u & 0x7fffffffu;
    int e = (int)(absu >> 23) - 127; /* |v| in [2^e, 2^(e+1)) for normals */
    int k = 1 + (e - NT_HIST_MIN_EXP) * NT_HIST_PER_OCTAVE + (int)((absu >> 21) & 3);
    k = e < NT_HIST_MIN_EXP ? 0 : k; /* subnormals and tiny values */
    k = e >= NT_HIST_MAX_EXP ? NT_HIST_SIDE - 1 : k;
    int b = (u >> 31) ? NT_HIST_SIDE - 1 - k : NT_HIST_SIDE + 1 + k;
    return absu == 0 ? NT_HIST_SIDE : b;
}

/* GCC/clang vector extensions: explicit 8-wide lanes, portable C (no
 * intrinsics), and independent per-lane sums so nothing is reassociated.
 * The hot function is compiled for AVX-512, AVX2 and the baseline and the
 * best is picked at load time; ISO C mode does not contract a*b+c into
 * FMA, so every clone computes the same bits. */
typedef float v4f __attribute__((vector_size(32)));
typedef int32_t v4i __attribute__((vector_size(32)));
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NT_STATS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NT_STATS_CLONES
#endif
#define VL 8

static inline v4f vsel(v4i m, v4f a, v4f b) { return (v4f)(((v4i)a & m) | ((v4i)b & ~m)); }

/* Histogram bucket indices of VL floats (finite or not: callers skip
 * non-finite ones), the vector form of float_bucket. */
static inline v4i vbucket(v4i u)
{
    v4i absu = u & 0x7fffffff;
    v4i e = ((absu >> 23) & 0xff) - 127;
    v4i k = 1 + (e - NT_HIST_MIN_EXP) * NT_HIST_PER_OCTAVE + ((absu >> 21) & 3);
    v4i tiny = e < NT_HIST_MIN_EXP, huge = e >= NT_HIST_MAX_EXP;
    k = (k & ~tiny & ~huge) | ((NT_HIST_SIDE - 1) & huge);
    v4i negative = u < 0;
    v4i b = ((NT_HIST_SIDE - 1 - k) & negative) | ((NT_HIST_SIDE + 1 + k) & ~negative);
    v4i zero = absu == 0;
    return (b & ~zero) | (NT_HIST_SIDE & zero);
}

/* The float32 path, the hot one: two VL-lane accumulators per statistic,
 * each block's float partial sums folded into double.  NaN/Inf are masked
 * to 0 for the moments and counted apart.  Histogram counts go to four
 * interleaved sub-histograms so consecutive equal buckets do not wait on
 * each other's increments. */
NT_STATS_CLONES static void add_f32(nt_tstats *s, const float *x, int64_t n)
{
    double mn = s->finite ? s->min : INFINITY, mx = s->finite ? s->max : -INFINITY;
    int64_t specials = 0, zeros = 0, neg = 0;
    const v4i expmask = (v4i){0} + 0x7f800000;
    /* without scratch memory (small tensors, or calloc failing) blocks
     * count straight into s->hist: slower, same result */
    uint32_t *sub = NULL;
    if (s->hist && n >= 4096 && n < ((int64_t)1 << 31))
        sub = calloc(4 * NT_HIST_BUCKETS, sizeof *sub);
    enum { BLOCK = 512 };
    for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
        int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
        const float *p = x + i0;
        v4f vmin = (v4f){0} + INFINITY, vmax = -vmin;
        v4f vsum0 = {0}, vsum1 = vsum0, vsq0 = vsum0, vsq1 = vsum0;
        v4i vspec = {0}, vzero = vspec, vneg = vspec;
        int64_t full = m & ~(int64_t)(2 * VL - 1);
        for (int64_t i = 0; i < full; i += 2 * VL) {
            v4f a, b;
            memcpy(&a, p + i, sizeof a);
            memcpy(&b, p + i + VL, sizeof b);
            v4i sa = ((v4i)a & expmask) == expmask, sb = ((v4i)b & expmask) == expmask;
            v4f fa = (v4f)((v4i)a & ~sa), fb = (v4f)((v4i)b & ~sb);
            vspec -= sa + sb;
            vzero -= (a == 0) + (b == 0);
            vneg -= (a < 0) + (b < 0);
            vsum0 += fa;
            vsum1 += fb;
            vsq0 += fa * fa;
            vsq1 += fb * fb;
            vmin = vsel(fa < vmin, fa, vmin);
            vmin = vsel(fb < vmin, fb, vmin);
            vmax = vsel(fa > vmax, fa, vmax);
            vmax = vsel(fb > vmax, fb, vmax);
        }
        double bsum = 0, bsq = 0;
        int64_t bspecial = 0;
        for (int l = 0; l < VL; l++) {
            bsum += (double)vsum0[l] + (double)vsum1[l];
            bsq += (double)vsq0[l] + (double)vsq1[l];
            bspecial += vspec[l];
            zeros += vzero[l];
            neg += vneg[l];
        }
        float tmin = INFINITY, tmax = -INFINITY;
        for (int l = 0; l < VL; l++) {
            tmin = vmin[l] < tmin ? vmin[l] : tmin;
            tmax = vmax[l] > tmax ? vmax[l] : tmax;
        }
        for (int64_t i = full; i < m; i++) { /* tail */
            float v = p[i];
            bool special = !isfinite(v);
            float f = special ? 0.0f : v;
            bspecial += special;
            zeros += v == 0.0f;
            neg += v < 0.0f;
            bsum += f;
            bsq += (double)f * f;
            tmin = f < tmin ? f : tmin;
            tmax = f > tmax ? f : tmax;
        }
        if (!isfinite(bsum) || !isfinite(bsq) || fmaxf(-tmin, tmax) > 1e18f) {
            /* squares of magnitudes past ~1e19 overflow float: redo this block in double */
            bsum = bsq = 0;
            for (int64_t i = 0; i < m; i++)
                if (isfinite(p[i])) {
                    bsum += p[i];
                    bsq += (double)p[i] * p[i];
                }
        }
        s->sum += bsum;
        s->sumsq += bsq;
        specials += bspecial;
        if (bspecial) {
            /* the masked zeros must not count as min/max: recompute over finite values */
            for (int64_t i = 0; i < m; i++) {
                float v = p[i];
                if (isnan(v))
                    s->nan++;
                else if (isinf(v))
                    *(v > 0 ? &s->pinf : &s->ninf) += 1;
                else {
                    mn = v < mn ? v : mn;
                    mx = v > mx ? v : mx;
                }
            }
        } else {
            mn = tmin < mn ? tmin : mn;
            mx = tmax > mx ? tmax : mx;
        }
        if (!s->hist)
            continue;
        if (sub && !bspecial && full == m) {
            for (int64_t i = 0; i < m; i += VL) {
                v4i u;
                memcpy(&u, p + i, sizeof u);
                v4i b = vbucket(u);
                for (int l = 0; l < VL; l += 4) {
                    sub[b[l]]++;
                    sub[NT_HIST_BUCKETS + b[l + 1]]++;
                    sub[2 * NT_HIST_BUCKETS + b[l + 2]]++;
                    sub[3 * NT_HIST_BUCKETS + b[l + 3]]++;
                }
            }
        } else {
            for (int64_t i = 0; i < m; i++) {
                uint32_t u;
                memcpy(&u, &p[i], 4);
                if ((u & 0x7f800000u) != 0x7f800000u)
                    s->hist[float_bucket(u)]++;
            }
        }
    }
    if (sub) {
        for (int b = 0; b < NT_HIST_BUCKETS; b++)
            s->hist[b] += (int64_t)sub[b] + sub[NT_HIST_BUCKETS + b] + sub[2 * NT_HIST_BUCKETS + b] +
                          sub[3 * NT_HIST_BUCKETS + b];
        free(sub);
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
