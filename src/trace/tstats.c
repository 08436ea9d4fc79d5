/*
 * tstats.c — value statistics and the fixed-bucket histogram (tstats.h).
 *
 * The float32 path, the hot one, is in tstats_f32.c; this file has the
 * generic path (any dtype, through double), the buckets and the output.
 */
#include "trace/tstats.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nt_status nt_tstats_init(nt_tstats *s, bool with_hist)
{
    memset(s, 0, sizeof *s);
    s->min = NAN;
    s->max = NAN;
    s->with_hist = with_hist; /* the span is allocated when counts come */
    return NT_OK;
}

void nt_tstats_deinit(nt_tstats *s)
{
    free(s->hist);
    s->hist = NULL;
    s->hist_n = 0;
}

int64_t nt_tstats_hist_stride(const nt_tstats *s, int64_t n)
{
    if (!s->sample_hist || n < 2 * (int64_t)NT_HIST_SAMPLE_MIN)
        return 1;
    return n / NT_HIST_SAMPLE_MIN;
}

int64_t nt_tstats_hist_count(const nt_tstats *s, int b)
{
    return s->hist && b >= s->hist_lo && b < s->hist_lo + s->hist_n ? s->hist[b - s->hist_lo] : 0;
}

int64_t nt_tstats_hist_total(const nt_tstats *s)
{
    int64_t t = 0;
    for (int k = 0; k < s->hist_n; k++)
        t += s->hist[k];
    return t;
}

/* Widens the stored span to cover [lo, hi]; false if out of memory. */
static bool hist_cover(nt_tstats *s, int lo, int hi)
{
    if (s->hist && lo >= s->hist_lo && hi < s->hist_lo + s->hist_n)
        return true;
    int nlo = s->hist ? (lo < s->hist_lo ? lo : s->hist_lo) : lo;
    int nhi = s->hist ? (hi > s->hist_lo + s->hist_n - 1 ? hi : s->hist_lo + s->hist_n - 1) : hi;
    int64_t *h = nt_calloc((size_t)(nhi - nlo + 1), sizeof *h);
    if (!h)
        return false;
    if (s->hist)
        memcpy(h + (s->hist_lo - nlo), s->hist, (size_t)s->hist_n * sizeof *h);
    free(s->hist);
    s->hist = h;
    s->hist_lo = nlo;
    s->hist_n = nhi - nlo + 1;
    return true;
}

void nt_tstats_hist_take(nt_tstats *s, int64_t *full, int lo, int hi)
{
    if (lo < 0)
        lo = 0;
    if (hi >= NT_HIST_BUCKETS)
        hi = NT_HIST_BUCKETS - 1;
    while (lo <= hi && full[lo] == 0) /* the span actually counted */
        lo++;
    while (hi >= lo && full[hi] == 0)
        hi--;
    if (lo > hi)
        return;
    if (!s->with_hist || !hist_cover(s, lo, hi)) {
        s->hist_nomem = s->hist_nomem || s->with_hist;
        memset(full + lo, 0, (size_t)(hi - lo + 1) * sizeof *full);
        return;
    }
    int64_t *h = s->hist + (lo - s->hist_lo);
    for (int b = lo; b <= hi; b++) {
        h[b - lo] += full[b];
        full[b] = 0;
    }
}

static _Thread_local int64_t thread_hist[NT_HIST_BUCKETS];

int64_t *nt_tstats_thread_hist(void) { return thread_hist; }

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

void nt_tstats_add(nt_tstats *s, const nt_tensor *t) { nt_tstats_add_threads(s, t, NULL); }

void nt_tstats_add_threads(nt_tstats *s, const nt_tensor *t, nt_exec *exec)
{
    if (nt_value_is_container(t)) {
        /* a sequence or optional: the statistics of all its elements together */
        const nt_seq *q = nt_value_seq(t);
        for (int i = 0; q && i < q->n; i++)
            nt_tstats_add_threads(s, q->items[i], exec);
        return;
    }
    if (t->dtype == NT_DTYPE_STRING)
        return;
    int64_t n = nt_tensor_numel(t);
    if (n <= 0 || !t->data)
        return;
    int64_t stride = nt_tstats_hist_stride(s, n);
    if (stride > s->hist_stride)
        s->hist_stride = stride;
    if (t->dtype == NT_DTYPE_FLOAT) {
        nt_tstats_add_f32(s, t->data, n, exec);
        return;
    }
    int64_t *h = s->with_hist ? thread_hist : NULL;
    int hlo = NT_HIST_BUCKETS, hhi = -1;
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
        if (h && (stride == 1 || i % stride == 0)) { /* by index, as in the float32 scan */
            int b = bucket_of(v);
            h[b]++;
            hlo = b < hlo ? b : hlo;
            hhi = b > hhi ? b : hhi;
        }
    }
    if (h)
        nt_tstats_hist_take(s, h, hlo, hhi);
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
    if (from->hist_stride > into->hist_stride)
        into->hist_stride = from->hist_stride;
    into->hist_nomem = into->hist_nomem || from->hist_nomem;
    if (into->with_hist && from->hist) {
        for (int k = 0; k < from->hist_n; k++)
            thread_hist[from->hist_lo + k] += from->hist[k];
        nt_tstats_hist_take(into, thread_hist, from->hist_lo, from->hist_lo + from->hist_n - 1);
    }
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

/* The JSON text of every bucket's edges (lo at 2b, hi at 2b+1), made once:
 * formatting them per node was most of the cost of writing stats.jsonl. */
static char edge_store[2 * NT_HIST_BUCKETS][32];
static const char *edge_ptrs[2 * NT_HIST_BUCKETS];
static pthread_once_t edge_once = PTHREAD_ONCE_INIT;

static void edge_init(void)
{
    for (int k = 0; k < NT_HIST_BUCKETS; k++) {
        double e[2];
        nt_tstats_bucket_edges(k, &e[0], &e[1]);
        for (int j = 0; j < 2; j++) {
            nt_buf t;
            nt_buf_init(&t);
            nt_buf_json_double(&t, e[j]);
            snprintf(edge_store[2 * k + j], sizeof edge_store[0], "%s", t.data && !t.failed ? t.data : "null");
            nt_buf_deinit(&t);
            edge_ptrs[2 * k + j] = edge_store[2 * k + j];
        }
    }
}

static const char *const *edge_texts(void)
{
    pthread_once(&edge_once, edge_init);
    return edge_ptrs;
}

/* Decimal text of v (printf costs several times more, per count). */
static void put_i64(nt_buf *b, int64_t v)
{
    char d[24], *p = d + sizeof d;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    nt_buf_append(b, p, (size_t)(d + sizeof d - p));
}

void nt_tstats_json(const nt_tstats *s, nt_buf *b)
{
    nt_buf_puts(b, "\"count\": ");
    put_i64(b, s->count);
    nt_buf_puts(b, ", \"min\": ");
    nt_buf_json_double(b, s->finite ? s->min : NAN);
    nt_buf_puts(b, ", \"max\": ");
    nt_buf_json_double(b, s->finite ? s->max : NAN);
    nt_buf_puts(b, ", \"mean\": ");
    nt_buf_json_double(b, nt_tstats_mean(s));
    nt_buf_puts(b, ", \"std\": ");
    nt_buf_json_double(b, nt_tstats_std(s));
    static const char *const names[] = {", \"nan\": ", ", \"pinf\": ", ", \"ninf\": ", ", \"inf\": ",
                                        ", \"zeros\": "};
    int64_t counts[] = {s->nan, s->pinf, s->ninf, s->pinf + s->ninf, s->zeros};
    for (int k = 0; k < 5; k++) {
        nt_buf_puts(b, names[k]);
        put_i64(b, counts[k]);
    }
    nt_buf_puts(b, ", \"zero_fraction\": ");
    nt_buf_json_double(b, s->count ? (double)s->zeros / (double)s->count : NAN);
    nt_buf_puts(b, ", \"negatives\": ");
    put_i64(b, s->negatives);
    if (!s->with_hist)
        return;
    nt_buf_puts(b, ", \"hist_stride\": ");
    put_i64(b, s->hist_stride > 1 ? s->hist_stride : 1);
    int lo = -1, hi = -1;
    for (int k = 0; k < s->hist_n; k++)
        if (s->hist[k]) {
            if (lo < 0)
                lo = k;
            hi = k;
        }
    nt_buf_puts(b, ", \"histogram\": {\"edges\": [");
    const char *const *text = edge_texts();
    for (int k = lo; lo >= 0 && k <= hi; k++) {
        int bk = s->hist_lo + k;
        if (k == lo) {
            nt_buf_puts(b, text[2 * bk]);
            nt_buf_puts(b, ", ");
        }
        nt_buf_puts(b, text[2 * bk + 1]);
        if (k < hi)
            nt_buf_puts(b, ", ");
    }
    nt_buf_puts(b, "], \"counts\": [");
    for (int k = lo; lo >= 0 && k <= hi; k++) {
        if (k > lo)
            nt_buf_puts(b, ", ");
        put_i64(b, s->hist[k]);
    }
    nt_buf_puts(b, "]}");
}
