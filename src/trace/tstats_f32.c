/*
 * tstats_f32.c — the float32 statistics scan, the hot path of the stats
 * tracer (it runs over every node output).
 *
 * One pass over the data, in blocks that stay in L1: the moments are
 * computed on 16-lane vectors (float partial sums folded into double at
 * every block), then the same block is histogrammed.  The histogram does
 * not compute buckets per element: the bucket depends only on the sign, the
 * exponent and the top two mantissa bits, i.e. on the 11 top bits, so each
 * element increments a counter indexed by (bits >> 21) and the 2,048
 * counters are mapped to buckets once at the end.  Four interleaved counter
 * tables keep equal neighbours from waiting on each other's increments, and
 * a vector of 16 equal keys (runs of zeros after a ReLU, saturated values)
 * is counted with one add.
 *
 * Large arrays are cut into fixed pieces scanned by the session's threads.
 * Each piece's sums are kept apart and added in piece order, and the
 * counts are integers, so the result is the same bits whatever the thread
 * count or the instruction set the scan was compiled for.
 */
#include "trace/tstats.h"
#include "ops/kernel.h" /* nt_parallel_for */

/* The vector helpers are always inlined into the clones that use them;
 * gcc's note about their (never used) out-of-line ABI is noise. */
#pragma GCC diagnostic ignored "-Wpsabi"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum {
    PIECE = 1 << 16,  /* elements per piece: the unit of threading and of summation order */
    BLOCK = 2048,     /* elements per block: moments then histogram while in L1 */
    KEYS = 2048,      /* 11-bit keys: sign, exponent, two mantissa bits */
    KEYED_MIN = 4096, /* below this, bucket each element directly (no table to fold) */
    VL = 16
};

typedef float vf __attribute__((vector_size(VL * 4)));
typedef int32_t vi __attribute__((vector_size(VL * 4)));
typedef uint32_t vu __attribute__((vector_size(VL * 4)));

/* gcc clones the scan for AVX-512, AVX2 and the baseline and picks one at
 * load time.  ISO C mode does not contract a*b+c into FMA and the lanes are
 * summed in a fixed order, so every clone computes the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NT_SCAN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NT_SCAN_CLONES
#endif

static inline vf vsel(vi m, vf a, vf b) { return (vf)(((vi)a & m) | ((vi)b & ~m)); }

/* What one thread gathers over its pieces (sums are per piece, apart). */
typedef struct scan_acc {
    int64_t nan, pinf, ninf, zeros, poszeros, neg;
    int64_t folded_zeros, folded_poszeros; /* of those, already taken out of the keys */
    float mn, mx;
    float amin, amax; /* smallest nonzero and largest finite |x| since the last fold */
    uint32_t *keys;  /* 4 x KEYS counters (thread_keys), or NULL: count into hist directly */
    int64_t *hist;   /* this thread's whole-range counts (nt_tstats_thread_hist), or NULL */
    int64_t keyed;   /* elements counted into keys since the last fold */
    int64_t stride;  /* histogram every stride-th element (by index in the whole array) */
    int64_t skz, skpz; /* sampled zeros (and +0s) counted into keys since the last fold (stride > 1) */
} scan_acc;

typedef struct piece_sums {
    double sum, sumsq;
} piece_sums;

/* Each thread's key counters, kept all zero between scans (fold_keys
 * clears what it reads): no allocation and no clearing pass per scan. */
static _Thread_local uint32_t thread_keys[4 * KEYS];

/* Adds keys [from, to] of the four tables into hist and clears them;
 * `zero` is how many of the key-0 or key-1024 counts are zeros. */
static void fold_range(uint32_t *k, int from, int to, int64_t zero, int64_t *hist)
{
    for (int key = from; key <= to; key++) {
        int64_t n = (int64_t)k[key] + k[KEYS + key] + k[2 * KEYS + key] + k[3 * KEYS + key];
        k[key] = k[KEYS + key] = k[2 * KEYS + key] = k[3 * KEYS + key] = 0;
        if (key == 0 || key == KEYS / 2)
            n -= zero;
        if (n == 0 || ((key >> 2) & 0xff) == 0xff) /* Inf/NaN: counted apart */
            continue;
        /* a representative of the key; |1 keeps a subnormal key off zero */
        hist[nt_tstats_float_bucket((uint32_t)key << 21 | 1u)] += n;
    }
}

/* Adds the keys table of a into hist (finite values only) and clears it.
 * Only the keys the values since the last fold can have are visited: those
 * between the smallest and the largest magnitude, on both signs, the zeros'
 * and the Inf/NaN ones (cleared, not counted). */
static void fold_keys(scan_acc *a, int64_t *hist)
{
    uint32_t *k = a->keys;
    /* the zeros are keys 0 (+0) and 1024 (-0), shared with the smallest
     * subnormals: taken out there, they have their own bucket */
    int64_t zeros = a->zeros - a->folded_zeros, poszeros = a->poszeros - a->folded_poszeros;
    if (a->stride > 1) { /* only the sampled elements went into the keys */
        zeros = a->skz;
        poszeros = a->skpz;
    }
    hist[NT_HIST_SIDE] += zeros;
    fold_range(k, 0, 0, poszeros, hist);
    fold_range(k, KEYS / 2, KEYS / 2, zeros - poszeros, hist);
    if (a->amin <= a->amax) {
        uint32_t lo, hi;
        memcpy(&lo, &a->amin, 4);
        memcpy(&hi, &a->amax, 4);
        lo = lo >> 21 > 1 ? lo >> 21 : 1; /* key 0 is done */
        hi >>= 21;
        fold_range(k, (int)lo, (int)hi, 0, hist);
        fold_range(k, KEYS / 2 + (int)lo, KEYS / 2 + (int)hi, 0, hist);
    }
    fold_range(k, KEYS / 2 - 4, KEYS / 2 - 1, 0, hist); /* +Inf, NaN */
    fold_range(k, KEYS - 4, KEYS - 1, 0, hist);         /* -Inf, -NaN */
    a->folded_zeros = a->zeros;
    a->folded_poszeros = a->poszeros;
    a->skz = a->skpz = 0;
    a->keyed = 0;
    a->amin = INFINITY;
    a->amax = 0;
}

/* One set of per-lane accumulators of the moments.  NaN and Inf are not
 * looked for element by element: they make the block's sums non-finite,
 * and such a block is redone in scalar code (scan_block_slow). */
typedef struct lanes {
    vf min, max, amin, sum, sq;
    vi zero, poszero, neg;
} lanes;

static inline void lanes_init(lanes *L)
{
    L->min = L->amin = (vf){0} + INFINITY;
    L->max = -L->min;
    L->sum = L->sq = (vf){0};
    L->zero = L->poszero = L->neg = (vi){0};
}

static inline void lanes_add(lanes *L, const float *p)
{
    const vf inf = (vf){0} + INFINITY;
    vf v;
    memcpy(&v, p, sizeof v);
    L->zero -= v == 0;
    L->poszero -= (vi)v == 0;
    L->neg -= v < 0; /* -Inf included, NaN not */
    L->sum += v;
    L->sq += v * v;
    L->min = vsel(v < L->min, v, L->min);
    L->max = vsel(v > L->max, v, L->max);
    vf av = (vf)((vi)v & 0x7fffffff);
    av = vsel(av == 0, inf, av); /* the smallest nonzero magnitude */
    L->amin = vsel(av < L->amin, av, L->amin);
}

/* A block with NaN/Inf, or magnitudes whose squares overflow float: the
 * sums in double over the finite values, the specials counted, min, max
 * and magnitudes over the finite values. */
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
            float av = fabsf(v);
            a->amax = av > a->amax ? av : a->amax;
            a->amin = av != 0 && av < a->amin ? av : a->amin;
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

/* x[0..n) is elements base.. of the whole array. */
NT_SCAN_CLONES static void scan_piece(scan_acc *a, const float *x, int64_t n, int64_t base, piece_sums *out)
{
    double sum = 0, sumsq = 0;
    for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
        int64_t m = n - i0 < BLOCK ? n - i0 : BLOCK;
        const float *p = x + i0;
        /* two sets of accumulators, so the compare-and-select chains of
         * min/max overlap instead of waiting on each other */
        lanes A, B;
        lanes_init(&A);
        lanes_init(&B);
        int64_t full = m & ~(int64_t)(2 * VL - 1);
        for (int64_t i = 0; i < full; i += 2 * VL) {
            lanes_add(&A, p + i);
            lanes_add(&B, p + i + VL);
        }
        double bsum = 0, bsq = 0;
        float tmin = INFINITY, tmax = -INFINITY, tamin = INFINITY;
        for (int l = 0; l < VL; l++) {
            bsum += (double)A.sum[l];
            bsum += (double)B.sum[l];
            bsq += (double)A.sq[l];
            bsq += (double)B.sq[l];
            a->zeros += A.zero[l] + B.zero[l];
            a->poszeros += A.poszero[l] + B.poszero[l];
            a->neg += A.neg[l] + B.neg[l];
            tmin = A.min[l] < tmin ? A.min[l] : tmin;
            tmin = B.min[l] < tmin ? B.min[l] : tmin;
            tmax = A.max[l] > tmax ? A.max[l] : tmax;
            tmax = B.max[l] > tmax ? B.max[l] : tmax;
            tamin = A.amin[l] < tamin ? A.amin[l] : tamin;
            tamin = B.amin[l] < tamin ? B.amin[l] : tamin;
        }
        for (int64_t i = full; i < m; i++) { /* tail */
            float v = p[i];
            uint32_t u;
            memcpy(&u, &v, 4);
            a->zeros += v == 0.0f;
            a->poszeros += u == 0;
            a->neg += v < 0.0f;
            bsum += v;
            bsq += (double)v * v;
            tmin = v < tmin ? v : tmin;
            tmax = v > tmax ? v : tmax;
            tamin = v != 0 && fabsf(v) < tamin ? fabsf(v) : tamin;
        }
        /* NaN or Inf make a sum non-finite; a float square past ~1e38
         * (magnitudes past ~1e19) would too: such blocks are redone */
        if (!isfinite(bsum) || !isfinite(bsq) || !(-tmin <= 1e18f && tmax <= 1e18f)) {
            scan_block_slow(a, p, m, &bsum, &bsq);
        } else {
            a->mn = tmin < a->mn ? tmin : a->mn;
            a->mx = tmax > a->mx ? tmax : a->mx;
            a->amin = tamin < a->amin ? tamin : a->amin;
            a->amax = -tmin > a->amax ? -tmin : a->amax;
            a->amax = tmax > a->amax ? tmax : a->amax;
        }
        sum += bsum;
        sumsq += bsq;
        if (a->keys && a->stride > 1) { /* sampled: every stride-th element, four tables in turn */
            uint32_t *k0 = a->keys;
            const uint32_t *u = (const uint32_t *)(const void *)p;
            int64_t st = a->stride, i = (st - (base + i0) % st) % st, c = 0;
            for (; i < m; i += st, c++) {
                uint32_t w = u[i];
                k0[(c & 3) * KEYS + (w >> 21)]++;
                a->skz += (w & 0x7fffffffu) == 0;
                a->skpz += w == 0;
            }
            a->keyed += c;
        } else if (a->keys) {
            uint32_t *k0 = a->keys, *k1 = k0 + KEYS, *k2 = k1 + KEYS, *k3 = k2 + KEYS;
            const uint32_t *u = (const uint32_t *)(const void *)p;
            int64_t i = 0;
            for (; i + VL <= m; i += VL) {
                vu v;
                memcpy(&v, p + i, sizeof v);
                vu key = v >> 21, differ = key ^ key[0];
                uint32_t any = 0;
                for (int l = 0; l < VL; l++)
                    any |= differ[l];
                if (!any) { /* runs of one key (zeros, saturation) are common: one add */
                    k0[key[0]] += VL;
                    continue;
                }
                for (int l = 0; l < VL; l += 4) {
                    k0[u[i + l] >> 21]++;
                    k1[u[i + l + 1] >> 21]++;
                    k2[u[i + l + 2] >> 21]++;
                    k3[u[i + l + 3] >> 21]++;
                }
            }
            for (; i < m; i++)
                k0[u[i] >> 21]++;
            a->keyed += m;
        } else if (a->hist) {
            hist_direct(a, p, m, base + i0);
        }
    }
    out->sum = sum;
    out->sumsq = sumsq;
}

typedef struct scan_job {
    const float *x;
    int64_t n;
    int64_t base;      /* index of x[0] in the whole array (sampling is by that index) */
    int64_t stride;    /* histogram stride */
    nt_tstats *s;
    piece_sums *sums;  /* one per piece */
    pthread_mutex_t mu; /* guards s's counts and histogram */
} scan_job;

static void scan_acc_init(scan_acc *a)
{
    memset(a, 0, sizeof *a);
    a->mn = INFINITY;
    a->mx = -INFINITY;
    a->amin = INFINITY;
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

static void scan_range(void *arg, int64_t p0, int64_t p1)
{
    scan_job *job = arg;
    nt_tstats *s = job->s;
    scan_acc a;
    scan_acc_init(&a);
    int64_t n = (p1 - p0) * (int64_t)PIECE;
    if (p1 * (int64_t)PIECE > job->n)
        n = job->n - p0 * (int64_t)PIECE;
    if (s->with_hist) {
        /* counts go to this thread's own array, so no lock while scanning;
         * a key table pays when every element of enough of them is counted */
        a.hist = nt_tstats_thread_hist();
        a.stride = job->stride;
        a.keys = n / a.stride >= KEYED_MIN ? thread_keys : NULL;
    }
    for (int64_t p = p0; p < p1; p++) {
        int64_t b = p * (int64_t)PIECE;
        int64_t m = job->n - b < PIECE ? job->n - b : PIECE;
        scan_piece(&a, job->x + b, m, job->base + b, &job->sums[p]);
        if (a.keys && a.keyed >= ((int64_t)1 << 31)) /* before a 32-bit counter could wrap */
            fold_keys(&a, a.hist);
    }
    if (a.keys && a.keyed)
        fold_keys(&a, a.hist);
    pthread_mutex_lock(&job->mu);
    scan_acc_merge(s, &a);
    pthread_mutex_unlock(&job->mu);
}

void nt_tstats_add_f32(nt_tstats *s, const float *x, int64_t n, nt_exec *exec)
{
    if (n <= 0)
        return;
    int64_t pieces = (n + PIECE - 1) / PIECE;
    piece_sums one, *sums = pieces == 1 ? &one : nt_malloc((size_t)pieces * sizeof *sums);
    scan_job job = {x, n, 0, nt_tstats_hist_stride(s, n), s, sums, PTHREAD_MUTEX_INITIALIZER};
    int64_t specials_before = s->nan + s->pinf + s->ninf;
    if (!sums) { /* no room for per-piece sums: one piece at a time, in order, alone */
        for (int64_t p = 0; p < pieces; p++) {
            job.x = x + p * (int64_t)PIECE;
            job.base = p * (int64_t)PIECE;
            job.n = n - p * (int64_t)PIECE < PIECE ? n - p * (int64_t)PIECE : PIECE;
            job.sums = &one;
            scan_range(&job, 0, 1);
            s->sum += one.sum;
            s->sumsq += one.sumsq;
        }
    } else {
        if (pieces >= 2 && exec)
            nt_parallel_for(exec, pieces, 1, scan_range, &job);
        else
            scan_range(&job, 0, pieces);
        for (int64_t p = 0; p < pieces; p++) {
            s->sum += sums[p].sum;
            s->sumsq += sums[p].sumsq;
        }
        if (sums != &one)
            free(sums);
    }
    s->count += n;
    s->finite += n - (s->nan + s->pinf + s->ninf - specials_before);
    pthread_mutex_destroy(&job.mu);
}
