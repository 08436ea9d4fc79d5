/*
 * tstats.h — exact value statistics of tensors, mergeable across many
 * tensors (a data set): count, min, max, mean, std, NaN, +Inf, -Inf, zeros,
 * negatives, and a histogram.
 *
 * The histogram has fixed, data-independent buckets so it can be merged
 * without knowing the range up front: one bucket for zero, and for each sign
 * four buckets per power of two (edges 2^(e + k/4)), from 2^-64 to 2^64 with
 * one underflow and one overflow bucket per sign.
 *
 * Everything but the histogram is exact.  The histogram is exact too unless
 * sample_hist is set: then a tensor of n elements is histogrammed from
 * every k-th element, k = max(1, n / NT_HIST_SAMPLE_MIN) (so at least
 * NT_HIST_SAMPLE_MIN of them, and tensors below 2 * NT_HIST_SAMPLE_MIN
 * exactly), and hist_stride records the largest k used.  Which elements
 * are taken depends only on n, never on threads or timing.
 *
 * The histogram is stored as the span of buckets that have counts, so a
 * tracer that keeps statistics for 100,000 node outputs keeps 100,000
 * small arrays, not 100,000 full ones.
 */
#ifndef NT_TSTATS_H
#define NT_TSTATS_H

#include "core/core.h"

#define NT_HIST_PER_OCTAVE 4
#define NT_HIST_MIN_EXP (-64)
#define NT_HIST_MAX_EXP 64
/* per sign: underflow + octaves*4 + overflow */
#define NT_HIST_SIDE (2 + (NT_HIST_MAX_EXP - NT_HIST_MIN_EXP) * NT_HIST_PER_OCTAVE)
/* negatives (most negative first), zero, positives */
#define NT_HIST_BUCKETS (2 * NT_HIST_SIDE + 1)
/* Sampled histograms take at least this many elements of each tensor. */
#define NT_HIST_SAMPLE_MIN 65536

typedef struct nt_tstats {
    int64_t count;          /* elements seen (including NaN/Inf) */
    int64_t nan, pinf, ninf, zeros, negatives;
    double min, max;        /* over finite values; NaN if none */
    double sum, sumsq;      /* over finite values */
    int64_t finite;
    /* histogram of finite values: counts of buckets hist_lo .. hist_lo +
     * hist_n - 1 (NULL while empty); read with nt_tstats_hist_count */
    int64_t *hist;
    int hist_lo, hist_n;
    bool with_hist;         /* keep a histogram */
    bool sample_hist;       /* histogram big tensors from a fixed stride */
    bool hist_nomem;        /* the histogram could not grow: it lacks counts */
    int64_t hist_stride;    /* largest stride used (1: every element; 0: nothing seen) */
} nt_tstats;

/* with_hist: keep the histogram (exact unless s->sample_hist is set after). */
nt_status nt_tstats_init(nt_tstats *s, bool with_hist);
void nt_tstats_deinit(nt_tstats *s);
typedef struct nt_exec nt_exec;

/* Adds every element of t (any numeric dtype). */
void nt_tstats_add(nt_tstats *s, const nt_tensor *t);
/* The same, with a large float32 t scanned by exec's session threads (exec
 * may be NULL).  The result does not depend on the thread count. */
void nt_tstats_add_threads(nt_tstats *s, const nt_tensor *t, nt_exec *exec);
/* The float32 scan behind both (tstats_f32.c). */
void nt_tstats_add_f32(nt_tstats *s, const float *x, int64_t n, nt_exec *exec);
/* Histogram bucket of a finite float from its bits: the exponent and the
 * top two mantissa bits give the quarter-octave directly (no log).  Written
 * without branches (random signs would mispredict). */
static inline int nt_tstats_float_bucket(uint32_t u)
{
    uint32_t absu = u & 0x7fffffffu;
    int e = (int)(absu >> 23) - 127; /* |v| in [2^e, 2^(e+1)) for normals */
    int k = 1 + (e - NT_HIST_MIN_EXP) * NT_HIST_PER_OCTAVE + (int)((absu >> 21) & 3);
    k = e < NT_HIST_MIN_EXP ? 0 : k; /* subnormals and tiny values */
    k = e >= NT_HIST_MAX_EXP ? NT_HIST_SIDE - 1 : k;
    int b = (u >> 31) ? NT_HIST_SIDE - 1 - k : NT_HIST_SIDE + 1 + k;
    return absu == 0 ? NT_HIST_SIDE : b;
}
/* The stride a tensor of n elements is histogrammed with (1 = exact). */
int64_t nt_tstats_hist_stride(const nt_tstats *s, int64_t n);
/* Count of histogram bucket b (0 <= b < NT_HIST_BUCKETS). */
int64_t nt_tstats_hist_count(const nt_tstats *s, int b);
/* Sum of the histogram's counts. */
int64_t nt_tstats_hist_total(const nt_tstats *s);
/* Adds full[lo..hi] (a whole-range count array) into s's histogram and
 * clears those entries of full. */
void nt_tstats_hist_take(nt_tstats *s, int64_t *full, int lo, int hi);
/* A thread's whole-range count array, all zero between uses (callers
 * clear what they set, as nt_tstats_hist_take does). */
int64_t *nt_tstats_thread_hist(void);
void nt_tstats_merge(nt_tstats *into, const nt_tstats *from);
double nt_tstats_mean(const nt_tstats *s);
double nt_tstats_std(const nt_tstats *s);          /* population std */
double nt_tstats_absmax(const nt_tstats *s);
/* Edges of histogram bucket b: [lo, hi) for positives, (lo, hi] for
 * negatives (magnitudes [|hi|, |lo|)); the zero bucket is [0, 0]. */
void nt_tstats_bucket_edges(int b, double *lo, double *hi);
/* Appends the stats as JSON object members (no braces):
 * "count": .., "min": .., ..., "hist_stride": k, "histogram": {"edges":
 * [...], "counts": [...]} with only the non-empty span of buckets. */
void nt_tstats_json(const nt_tstats *s, nt_buf *b);

#endif /* NT_TSTATS_H */
