/*
 * tstats_f32.c — the float32 statistics scan, the hot path of the stats
 * tracer (it runs over every node output).
 *
 * One pass over the data, in blocks that stay in L1: the moments are
 * computed in 32 float lanes (partial sums folded into double at every
 * block; the kernels, per instruction set, are in tstats_simd.c), then the
 * same block is histogrammed.  The histogram does
 * not compute buckets per element: the bucket depends only on the sign, the
 * exponent and the top two mantissa bits, i.e. on the 11 top bits, so each
 * element increments a counter indexed by (bits >> 21) and the 2,048
 * counters are mapped to buckets once at the end (visiting only the keys
 * between zero and the largest magnitude, 16 at a time).  Four interleaved
 * counter tables keep equal neighbours from waiting on each other's
 * increments, and a vector of 16 equal keys (runs of zeros after a ReLU,
 * saturated values) is counted with one add.
 *
 * Arrays of a few blocks or more are shared among the session's threads,
 * a run of whole blocks each.  Every block's sums are kept apart; a piece
 * (32 blocks) is summed in block order, then the pieces in order, and the
 * counts are integers, so the result is the same bits whatever the thread
 * count or the instruction set.
 */
#include "trace/tstats.h"
#include "trace/tstats_simd.h"
#include "ops/kernel.h" /* nt_parallel_for */

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
    PIECE = 1 << 16,  /* elements per piece: a unit of the summation order */
    BLOCK = 2048,     /* elements per block: moments then histogram while in L1 */
    KEYS = NT_TSTATS_KEYS,
    TABLE = NT_TSTATS_TABLE,
    KEYED_MIN = 1024, /* below this, bucket each element directly (no table to fold) */
    /* with several session threads, each scans at least this many blocks
     * (a hand-over costs about what scanning a few thousand elements does) */
    PAR_MIN_BLOCKS = 4
};

/* What one thread gathers over its blocks (sums are per block, apart). */
typedef struct scan_acc {
    int64_t nan, pinf, ninf, zeros, neg;
    int64_t folded_zeros; /* of those, already taken out of the keys */
    const float *x;  /* the array scanned */
    int64_t since;   /* its first element counted into the keys since the last fold */
    float mn, mx;    /* over the finite values */
    uint32_t *keys;  /* 4 tables of KEYS counters (thread_keys), or NULL: count into hist directly */
    int64_t *hist;   /* this thread's whole-range counts (nt_tstats_thread_hist), or NULL */
    int64_t keyed;   /* elements counted into keys since the last fold */
    int64_t stride;  /* histogram every stride-th element (by index in the whole array) */
    int64_t skz, skpz; /* sampled zeros (and +0s) counted into keys since the last fold (stride > 1) */
    nt_moments_fn moments; /* the block kernels of this machine (tstats_simd.h) */
    nt_keys_fn count_keys;
} scan_acc;

typedef struct piece_sums {
    double sum, sumsq;
} piece_sums;

/* Each thread's key counters, kept all zero between scans (fold_keys
 * clears what it reads): no allocation and no clearing pass per scan. */
static _Thread_local uint32_t thread_keys[4 * TABLE];

/* Key of a finite magnitude's bits (the sign bit clear). */
static int magnitude_key(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return (int)((u & 0x7fffffffu) >> 21);
}

/* Adds the keys tables of a into hist (finite values only) and clears them.
 * Only the keys the values can have are visited: from zero up to the
 * largest magnitude on each sign (min and max tell), and the Inf/NaN ones
 * (cleared, not counted); empty chunks of keys cost one vector test. */
static void fold_keys(scan_acc *a, int64_t *hist, int64_t upto)
{
    /* the zeros are keys 0 (+0) and 1024 (-0), shared with the smallest
     * subnormals: taken out there, they have their own bucket */
    int64_t zeros = a->zeros - a->folded_zeros, poszeros = -1;
    if (a->stride > 1) { /* only the sampled elements went into the keys */
        zeros = a->skz;
        poszeros = a->skpz;
    }
    hist[NT_HIST_SIDE] += zeros;
    nt_take_fn take = nt_tstats_take_fn();
    uint16_t key[KEYS];
    int64_t count[KEYS];
    int n = 0;
    bool finite = a->mn <= a->mx;
    n += take(a->keys, 0, finite && a->mx > 0 ? magnitude_key(a->mx) : 0, key + n, count + n);
    n += take(a->keys, KEYS / 2 - 4, KEYS / 2 - 1, key + n, count + n); /* +Inf, NaN */
    n += take(a->keys, KEYS / 2, KEYS / 2 + (finite && a->mn < 0 ? magnitude_key(a->mn) : 0), key + n, count + n);
    n += take(a->keys, KEYS - 4, KEYS - 1, key + n, count + n);         /* -Inf, -NaN */
    if (poszeros < 0) {
        /* every element went into the keys: with no tiny subnormal beside
         * them, keys 0 and 1024 hold the +0s and the -0s alone (the scan
         * does not count +0s); else count them again (rare) */
        int64_t k0 = n && key[0] == 0 ? count[0] : 0, k1024 = 0;
        for (int i = 0; i < n; i++)
            k1024 = key[i] == KEYS / 2 ? count[i] : k1024;
        if (k0 + k1024 == zeros) {
            poszeros = k0;
        } else {
            const uint32_t *u = (const uint32_t *)(const void *)a->x;
            poszeros = 0;
            for (int64_t i = a->since; i < upto; i++)
                poszeros += u[i] == 0;
        }
    }
    for (int i = 0; i < n; i++) {
        int64_t c = count[i];
        if (key[i] == 0)
            c -= poszeros;
        else if (key[i] == KEYS / 2)
            c -= zeros - poszeros;
        if (c == 0 || ((key[i] >> 2) & 0xff) == 0xff) /* Inf/NaN: counted apart */
            continue;
        /* a representative of the key; |1 keeps a subnormal key off zero */
        hist[nt_tstats_float_bucket((uint32_t)key[i] << 21 | 1u)] += c;
    }
    a->folded_zeros = a->zeros;
    a->since = upto;
    a->skz = a->skpz = 0;
    a->keyed = 0;
}

/* A block with NaN/Inf, or magnitudes whose squares overflow float: the
 * sums in double over the finite values, the specials counted, min and
 * max over the finite values. */
static void scan_block_slow(scan_acc *a, const float *p, int64_t m, double *bsum, double *bsq)
{
    *bsum = *bsq = 0;
    for (int64_t i = 0; i < m; i++) {
        float v = p[i];
        if (isnan(v)) {
            a->nan++;
        } else if (isinf(v)) {
            *(v > 0 ? &a->pinf : &a->ninf) += 1;
        } else {
            *bsum += v;
            *bsq += (double)v * v;
            a->mn = v < a->mn ? v : a->mn;
            a->mx = v > a->mx ? v : a->mx;
        }
    }
}

/* Buckets the elements of p[0..m) whose index base+i is a multiple of
 * the stride straight into a->hist (small or sampled: no key table). */
static void hist_direct(scan_acc *a, const float *p, int64_t m, int64_t base)
{
    int64_t st = a->stride, i = (st - base % st) % st;
    const uint32_t *u = (const uint32_t *)(const void *)p;
    for (; i < m; i += st)
        if ((u[i] & 0x7f800000u) != 0x7f800000u)
            a->hist[nt_tstats_float_bucket(u[i])]++;
}

/* Scans blocks [b0, b1) of x[0..n); block b's sums go to sums[b - from]. */
static void scan_blocks(scan_acc *a, const float *x, int64_t n, int64_t b0, int64_t b1, piece_sums *sums,
                        int64_t from)
{
    for (int64_t blk = b0; blk < b1; blk++) {
        int64_t i0 = blk * BLOCK;
        int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
        const float *p = x + i0;
        nt_block_moments bm;
        a->moments(p, m, &bm);
        a->zeros += bm.zeros;
        a->neg += bm.neg;
        double bsum = bm.sum, bsq = bm.sumsq;
        /* NaN or Inf make a sum non-finite; a float square past ~1e38
         * (magnitudes past ~1e19) would too: such blocks are redone */
        if (!isfinite(bsum) || !isfinite(bsq) || !(-bm.min <= 1e18f && bm.max <= 1e18f)) {
            scan_block_slow(a, p, m, &bsum, &bsq);
        } else {
            a->mn = bm.min < a->mn ? bm.min : a->mn;
            a->mx = bm.max > a->mx ? bm.max : a->mx;
        }
        sums[blk - from] = (piece_sums){bsum, bsq};
        if (a->keys && a->stride > 1) { /* sampled: every stride-th element, four tables in turn */
            uint32_t *k0 = a->keys;
            const uint32_t *u = (const uint32_t *)(const void *)p;
            int64_t st = a->stride, i = (st - i0 % st) % st, c = 0;
            for (; i < m; i += st, c++) {
                uint32_t w = u[i];
                k0[(c & 3) * TABLE + (w >> 21)]++;
                a->skz += (w & 0x7fffffffu) == 0;
                a->skpz += w == 0;
            }
            a->keyed += c;
        } else if (a->keys) {
            a->count_keys(p, m, a->keys);
            a->keyed += m;
        } else if (a->hist) {
            hist_direct(a, p, m, i0);
        }
        if (a->keys && a->keyed >= ((int64_t)1 << 31)) /* before a 32-bit counter could wrap */
            fold_keys(a, a->hist, i0 + m);
    }
}

typedef struct scan_job {
    const float *x;
    int64_t n;
    int64_t stride;     /* histogram stride */
    nt_tstats *s;
    piece_sums *sums;   /* per block, from block sums_from on */
    int64_t sums_from;
    pthread_mutex_t mu; /* guards s's counts and histogram */
} scan_job;

static void scan_acc_init(scan_acc *a)
{
    memset(a, 0, sizeof *a);
    a->mn = INFINITY;
    a->mx = -INFINITY;
    a->moments = nt_tstats_moments_fn();
    a->count_keys = nt_tstats_keys_fn();
}

/* The bucket of a finite float. */
static int bucket_of_float(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return nt_tstats_float_bucket(u);
}

/* Adds a's counts (its keys already folded into a->hist) into s; the
 * caller holds the lock if several threads share s. */
static void scan_acc_merge(nt_tstats *s, scan_acc *a)
{
    /* buckets are ordered by value: every count lies between min's and max's */
    if (a->hist && a->mn <= a->mx)
        nt_tstats_hist_take(s, a->hist, bucket_of_float(a->mn), bucket_of_float(a->mx));
    s->nan += a->nan;
    s->pinf += a->pinf;
    s->ninf += a->ninf;
    s->zeros += a->zeros;
    s->negatives += a->neg; /* -Inf included, as in the generic path */
    if (a->mn <= a->mx) {   /* some finite value */
        bool first = isnan(s->min); /* no finite value before */
        s->min = first || a->mn < s->min ? a->mn : s->min;
        s->max = first || a->mx > s->max ? a->mx : s->max;
    }
}

/* Blocks [b0, b1) on one thread. */
static void scan_range(void *arg, int64_t b0, int64_t b1)
{
    scan_job *job = arg;
    nt_tstats *s = job->s;
    scan_acc a;
    scan_acc_init(&a);
    int64_t n = (b1 * (int64_t)BLOCK < job->n ? b1 * (int64_t)BLOCK : job->n) - b0 * (int64_t)BLOCK;
    if (s->with_hist) {
        /* counts go to this thread's own array, so no lock while scanning;
         * a key table pays when every element of enough of them is counted */
        a.hist = nt_tstats_thread_hist();
        a.stride = job->stride;
        a.keys = n / a.stride >= KEYED_MIN ? thread_keys : NULL;
    }
    a.x = job->x;
    a.since = b0 * (int64_t)BLOCK;
    scan_blocks(&a, job->x, job->n, b0, b1, job->sums, job->sums_from);
    if (a.keys && a.keyed)
        fold_keys(&a, a.hist, b0 * (int64_t)BLOCK + n);
    pthread_mutex_lock(&job->mu);
    scan_acc_merge(s, &a);
    pthread_mutex_unlock(&job->mu);
}

/* Adds blocks' sums [b0, b1) (whole pieces, and the last one) into s, each
 * piece summed in block order first: the order is fixed by the array's
 * length alone. */
static void add_piece_sums(nt_tstats *s, const piece_sums *sums, int64_t b0, int64_t b1)
{
    for (int64_t p = b0; p < b1; p += PIECE / BLOCK) {
        double sum = 0, sumsq = 0;
        for (int64_t b = p; b < b1 && b < p + PIECE / BLOCK; b++) {
            sum += sums[b - b0].sum;
            sumsq += sums[b - b0].sumsq;
        }
        s->sum += sum;
        s->sumsq += sumsq;
    }
}

void nt_tstats_add_f32(nt_tstats *s, const float *x, int64_t n, nt_exec *exec)
{
    if (n <= 0)
        return;
    enum { LOCAL = 2 * PIECE / BLOCK };
    int64_t blocks = (n + BLOCK - 1) / BLOCK;
    piece_sums local[LOCAL], *sums = blocks <= LOCAL ? local : nt_malloc((size_t)blocks * sizeof *sums);
    scan_job job = {x, n, nt_tstats_hist_stride(s, n), s, sums, 0, PTHREAD_MUTEX_INITIALIZER};
    int64_t specials_before = s->nan + s->pinf + s->ninf;
    if (!sums) { /* no room for every block's sums: two pieces at a time, in order, alone */
        job.sums = local;
        for (int64_t b = 0; b < blocks; b += LOCAL) {
            int64_t e = b + LOCAL < blocks ? b + LOCAL : blocks;
            job.sums_from = b;
            scan_range(&job, b, e);
            add_piece_sums(s, local, b, e);
        }
    } else {
        if (exec && blocks >= 2 * PAR_MIN_BLOCKS && nt_exec_threads(exec) > 1)
            nt_parallel_for(exec, blocks, PAR_MIN_BLOCKS, scan_range, &job);
        else
            scan_range(&job, 0, blocks);
        add_piece_sums(s, sums, 0, blocks);
        if (sums != local)
            free(sums);
    }
    s->count += n;
    s->finite += n - (s->nan + s->pinf + s->ninf - specials_before);
    pthread_mutex_destroy(&job.mu);
}
