/*
 * test_tstats.c — value statistics: exact counts and moments against a naive
 * double-precision reference (float32 fast path and generic dtypes), the
 * fixed-bucket histogram (every value inside its bucket, counts add up),
 * merging, and the node filter used by every tracer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "trace/tracers.h"
#include "trace/tstats.h"
#include "trace/tstats_simd.h"
#include "trace/stats_worker.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static nt_tensor *random_f32(int64_t n, unsigned seed)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, &n, &t), NT_OK);
    float *x = t->data;
    srand(seed);
    for (int64_t i = 0; i < n; i++) {
        int r = rand() % 100;
        x[i] = r < 3 ? NAN : r < 5 ? INFINITY : r < 6 ? -INFINITY : r < 20 ? 0.0f
             : (float)((rand() / (double)RAND_MAX - 0.4) * pow(10, rand() % 12 - 6));
    }
    return t;
}

static void check_against_reference(const nt_tensor *t, const nt_tstats *s)
{
    int64_t n = nt_tensor_numel(t), nan = 0, pinf = 0, ninf = 0, zeros = 0, neg = 0, fin = 0;
    double sum = 0, sq = 0, mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(t, i);
        if (isnan(v)) {
            nan++;
            continue;
        }
        if (isinf(v)) {
            v > 0 ? pinf++ : ninf++;
            neg += v < 0;
            continue;
        }
        fin++;
        zeros += v == 0;
        neg += v < 0;
        sum += v;
        sq += v * v;
        mn = fmin(mn, v);
        mx = fmax(mx, v);
    }
    assert_int_equal(s->count, n);
    assert_int_equal(s->nan, nan);
    assert_int_equal(s->pinf, pinf);
    assert_int_equal(s->ninf, ninf);
    assert_int_equal(s->zeros, zeros);
    assert_int_equal(s->negatives, neg);
    assert_int_equal(s->finite, fin);
    assert_true(s->min == mn && s->max == mx);
    assert_true(fabs(nt_tstats_mean(s) - sum / (double)fin) <= 1e-6 * (fabs(sum / (double)fin) + 1e-12) + 1e-12);
    double var = sq / (double)fin - (sum / (double)fin) * (sum / (double)fin);
    assert_true(fabs(nt_tstats_std(s) - sqrt(var > 0 ? var : 0)) <= 1e-5 * sqrt(var > 0 ? var : 0) + 1e-9);
}

/* Every bucket of a's histogram equals b's. */
static void assert_hist_equal(const nt_tstats *a, const nt_tstats *b)
{
    for (int k = 0; k < NT_HIST_BUCKETS; k++)
        assert_int_equal(nt_tstats_hist_count(a, k), nt_tstats_hist_count(b, k));
}

static void test_f32_against_reference(void **state)
{
    for (unsigned seed = 1; seed <= 5; seed++) {
        nt_tensor *t = random_f32(1000 + seed * 777, seed);
        nt_tstats s;
        assert_int_equal(nt_tstats_init(&s, true), NT_OK);
        nt_tstats_add(&s, t);
        check_against_reference(t, &s);
        /* histogram: counts add up to the finite values, each value in its bucket */
        int64_t total = 0;
        for (int b = 0; b < NT_HIST_BUCKETS; b++)
            total += nt_tstats_hist_count(&s, b);
        assert_int_equal(total, s.finite);
        nt_tstats_deinit(&s);
        nt_tensor_free(t);
    }
}

static void test_generic_dtypes_match_f32(void **state)
{
    nt_tensor *f = random_f32(3000, 9), *d;
    int64_t n = 3000;
    assert_int_equal(nt_tensor_new(NT_DTYPE_DOUBLE, 1, &n, &d), NT_OK);
    for (int64_t i = 0; i < n; i++)
        nt_tensor_set_f64(d, i, nt_tensor_get_f64(f, i));
    nt_tstats a, b;
    nt_tstats_init(&a, true);
    nt_tstats_init(&b, true);
    nt_tstats_add(&a, f);
    nt_tstats_add(&b, d);
    check_against_reference(d, &b);
    assert_int_equal(a.count, b.count);
    assert_true(a.min == b.min && a.max == b.max);
    /* both paths put every value in the same bucket */
    assert_hist_equal(&a, &b);
    nt_tstats_deinit(&a);
    nt_tstats_deinit(&b);
    nt_tensor_free(f);
    nt_tensor_free(d);
}

/* Value i of a test array. */
typedef float (*value_fn)(int64_t i);

/* The float32 path against the double path on the same n values: exact
 * counts against the reference, the same bucket for every value, and the
 * same again after adding the values a second time (a data set). */
static void check_f32_path(int64_t n, value_fn value)
{
    nt_tensor *f, *d;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, &n, &f), NT_OK);
    assert_int_equal(nt_tensor_new(NT_DTYPE_DOUBLE, 1, &n, &d), NT_OK);
    for (int64_t i = 0; i < n; i++) {
        float v = value(i);
        ((float *)f->data)[i] = v;
        nt_tensor_set_f64(d, i, v);
    }
    nt_tstats a, b;
    nt_tstats_init(&a, true);
    nt_tstats_init(&b, true);
    nt_tstats_add(&a, f);
    nt_tstats_add(&b, d);
    check_against_reference(d, &a);
    assert_hist_equal(&a, &b);
    nt_tstats_add(&a, f);
    nt_tstats_add(&b, d);
    assert_int_equal(a.count, 2 * n);
    assert_int_equal(a.finite, b.finite);
    assert_hist_equal(&a, &b);
    nt_tstats_deinit(&a);
    nt_tstats_deinit(&b);
    nt_tensor_free(f);
    nt_tensor_free(d);
}

static float many_magnitudes(int64_t i)
{
    if (i % 97 == 0)
        return 0;
    if (i % 1013 == 0)
        return 1e-42f; /* subnormal */
    return (float)((rand() / (double)RAND_MAX - 0.5) * pow(2, rand() % 200 - 100));
}

/* All-finite data of many magnitudes: every value in the same bucket as
 * the double path puts it. */
static void test_vector_path_matches_scalar(void **state)
{
    srand(11);
    check_f32_path(100003, many_magnitudes);
}

static float with_specials(int64_t i)
{
    static const float specials[] = {0.0f, -0.0f, 1e-42f, -1e-42f, 1e-45f, -1e-45f, NAN, INFINITY, -INFINITY,
                                     3e38f, -3e38f, 1e-30f};
    float v = (float)((rand() / (double)RAND_MAX - 0.5) * pow(2, rand() % 60 - 30));
    return rand() % 5 == 0 ? specials[rand() % (int)NT_ARRAY_LEN(specials)] : v;
}

/* The keyed histogram (large arrays, several pieces) with every special
 * kind of float: ±0 share their keys with the smallest subnormals, NaN and
 * Inf must be left out, and the totals must match the double path. */
static void test_keyed_path_special_values(void **state)
{
    srand(12);
    check_f32_path(3 * 65536 + 12345, with_specials);
}

/* Bitwise equality of two statistics (sums included), histograms too. */
static void assert_tstats_identical(const nt_tstats *a, const nt_tstats *b)
{
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->nan, b->nan);
    assert_int_equal(a->pinf, b->pinf);
    assert_int_equal(a->ninf, b->ninf);
    assert_int_equal(a->zeros, b->zeros);
    assert_int_equal(a->negatives, b->negatives);
    assert_int_equal(a->finite, b->finite);
    assert_int_equal(a->hist_stride, b->hist_stride);
    assert_memory_equal(&a->sum, &b->sum, sizeof a->sum);
    assert_memory_equal(&a->sumsq, &b->sumsq, sizeof a->sumsq);
    assert_memory_equal(&a->min, &b->min, sizeof a->min);
    assert_memory_equal(&a->max, &b->max, sizeof a->max);
    assert_hist_equal(a, b);
}

/* Data for the instruction-set comparison: a ReLU-like half of zeros (both
 * signs), runs of equal values, magnitudes over 60 octaves, subnormals,
 * and, in some arrays, NaN and Inf. */
static void fill_isa_case(float *x, int64_t n, int kind)
{
    for (int64_t i = 0; i < n; i++) {
        float v = (float)((rand() / (double)RAND_MAX - 0.45) * pow(2, rand() % 60 - 30));
        int r = rand() % 16;
        if (kind == 1 && (i / 40) % 3 == 0)
            v = (i / 40) % 2 ? 6.0f : 0.0f; /* runs */
        else if (r == 0)
            v = 0.0f;
        else if (r == 1)
            v = -0.0f;
        else if (r == 2)
            v = v < 0 ? 0.0f : v;
        else if (r == 3 && kind == 2)
            v = (float[]){NAN, INFINITY, -INFINITY, 1e-42f, -1e-42f, 3e38f}[rand() % 6];
        x[i] = v;
    }
}

/* The portable, AVX2 and AVX-512 kernels give the same bits (those this
 * machine has; sums, min, max, counts, histograms), on every size around
 * the block and lane edges, exact and sampled, on one thread and split. */
static void test_instruction_sets_agree(void **state)
{
    static const int64_t sizes[] = {1, 31, 32, 33, 1000, 1023, 1024, 2047, 2048, 2049, 4096 + 17, 65536,
                                    3 * 65536 + 5, 9 * 65536 + 77};
    nt_tstats_isa best = nt_tstats_isa_get(), prev = best;
    float *x = malloc(sizeof(float) * (size_t)sizes[NT_ARRAY_LEN(sizes) - 1]);
    assert_non_null(x);
    for (size_t si = 0; si < NT_ARRAY_LEN(sizes); si++)
        for (int kind = 0; kind < 3; kind++) {
            int64_t n = sizes[si];
            srand((unsigned)(si * 3 + (size_t)kind + 1));
            fill_isa_case(x, n, kind);
            for (int sampled = 0; sampled < 2; sampled++) {
                nt_tstats ref;
                nt_tstats_init(&ref, true);
                ref.sample_hist = sampled;
                nt_tstats_isa_force(NT_TSTATS_ISA_C);
                nt_tstats_add_f32(&ref, x, n, NULL);
                ref.hist_stride = nt_tstats_hist_stride(&ref, n);
                for (int isa = NT_TSTATS_ISA_AVX2; isa <= (int)best; isa++) {
                    nt_tstats s;
                    nt_tstats_init(&s, true);
                    s.sample_hist = sampled;
                    nt_tstats_isa_force((nt_tstats_isa)isa);
                    assert_int_equal(nt_tstats_isa_get(), isa);
                    nt_tstats_add_f32(&s, x, n, NULL);
                    s.hist_stride = nt_tstats_hist_stride(&s, n);
                    assert_tstats_identical(&s, &ref);
                    nt_tstats_deinit(&s);
                }
                nt_tstats_deinit(&ref);
            }
        }
    nt_tstats_isa_force(prev);
    free(x);
}

/* Long runs of one value (a ReLU's zeros, a saturated activation) take the
 * one-add path for 16 equal keys; a run may start or stop anywhere. */
static float runs(int64_t i)
{
    int64_t r = (i / 37) % 4;
    return r == 0 ? 0.0f : r == 1 ? 6.0f : r == 2 ? -0.0f : (float)(i % 11) - 5.0f;
}

static void test_runs_of_equal_values(void **state) { check_f32_path(2 * 65536 + 999, runs); }

/* The background worker gives the same statistics, in submission order,
 * and wait_for returns only once the tensor asked for is done. */
static void test_worker_matches_inline(void **state)
{
    enum { N_T = 40 };
    nt_tensor *ts[N_T];
    nt_tstats bg[3], in[3];
    for (int i = 0; i < 3; i++) {
        nt_tstats_init(&bg[i], true);
        nt_tstats_init(&in[i], true);
    }
    for (int i = 0; i < N_T; i++)
        ts[i] = random_f32(1000 + 3000 * (i % 7), 100 + (unsigned)i);
    nt_stats_worker *w = nt_stats_worker_new();
    assert_non_null(w);
    for (int i = 0; i < N_T; i++) { /* more than the queue holds */
        nt_stats_worker_submit(w, &bg[i % 3], ts[i]);
        nt_tstats_add(&in[i % 3], ts[i]);
    }
    nt_stats_worker_wait_for(w, ts[N_T - 1]);
    nt_stats_worker_drain(w);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(bg[i].count, in[i].count);
        assert_true(bg[i].sum == in[i].sum && bg[i].sumsq == in[i].sumsq);
        assert_true(bg[i].min == in[i].min && bg[i].max == in[i].max);
        assert_hist_equal(&bg[i], &in[i]);
    }
    /* a tensor submitted and waited for is done: free it and go on */
    nt_stats_worker_submit(w, &bg[0], ts[0]);
    nt_stats_worker_wait_for(w, ts[0]);
    assert_int_equal(bg[0].count, in[0].count + nt_tensor_numel(ts[0]));
    nt_stats_worker_free(w);
    for (int i = 0; i < N_T; i++)
        nt_tensor_free(ts[i]);
    for (int i = 0; i < 3; i++) {
        nt_tstats_deinit(&bg[i]);
        nt_tstats_deinit(&in[i]);
    }
}

static void test_bucket_edges_contain_values(void **state)
{
    const double vals[] = {1e-30, 3e-7, 0.1, 0.75, 1.0, 1.2, 5, 1e5, 7e18, 1e30, -1e-30, -0.3, -1, -42, -1e25};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        nt_tensor *t;
        int64_t one = 1;
        assert_int_equal(nt_tensor_new(NT_DTYPE_DOUBLE, 1, &one, &t), NT_OK);
        ((double *)t->data)[0] = vals[i];
        nt_tstats s;
        nt_tstats_init(&s, true);
        nt_tstats_add(&s, t);
        int b = -1;
        for (int k = 0; k < NT_HIST_BUCKETS; k++)
            if (nt_tstats_hist_count(&s, k))
                b = k;
        double lo, hi;
        nt_tstats_bucket_edges(b, &lo, &hi);
        double a = fabs(vals[i]), l = fmin(fabs(lo), fabs(hi)), h = fmax(fabs(lo), fabs(hi));
        assert_true(a >= l && a <= h);
        assert_true((vals[i] < 0) == (hi <= 0 && lo < 0));
        nt_tstats_deinit(&s);
        nt_tensor_free(t);
    }
}

static void test_merge_equals_whole(void **state)
{
    nt_tensor *t = random_f32(5000, 3);
    nt_tensor half = *t;
    half.flags = 0;
    half.dims[0] = 2500;
    nt_tensor rest = half;
    rest.data = (float *)t->data + 2500;
    nt_tstats whole, a, b;
    nt_tstats_init(&whole, true);
    nt_tstats_init(&a, true);
    nt_tstats_init(&b, true);
    nt_tstats_add(&whole, t);
    nt_tstats_add(&a, &half);
    nt_tstats_add(&b, &rest);
    nt_tstats_merge(&a, &b);
    assert_int_equal(a.count, whole.count);
    assert_int_equal(a.nan, whole.nan);
    assert_true(a.min == whole.min && a.max == whole.max);
    assert_hist_equal(&a, &whole);
    nt_buf js;
    nt_buf_init(&js);
    nt_tstats_json(&a, &js);
    assert_non_null(strstr(js.data, "\"histogram\": {\"edges\": ["));
    nt_buf_deinit(&js);
    nt_tstats_deinit(&whole);
    nt_tstats_deinit(&a);
    nt_tstats_deinit(&b);
    nt_tensor_free(t);
}

static void test_node_filter(void **state)
{
    nt_node_filter f = {0};
    assert_true(nt_node_filter_match(&f, "anything", "Conv"));
    nt_node_filter_add(&f, "layer1/*");
    nt_node_filter_add(&f, "op:Relu");
    assert_true(nt_node_filter_match(&f, "layer1/conv", "Conv"));
    assert_true(nt_node_filter_match(&f, "head", "Relu"));
    assert_false(nt_node_filter_match(&f, "layer2/conv", "Conv"));
    /* op types match in any case; names do not */
    assert_true(nt_node_filter_match(&f, "x", "RELU"));
    assert_false(nt_node_filter_match(&f, "Layer1/conv", "Conv"));
}

/* A sampled histogram: every moment and count exactly as the exact run's;
 * the histogram is exactly the histogram of elements 0, k, 2k, ... with
 * k = n / NT_HIST_SAMPLE_MIN, whether float32 or generic, and the stride
 * is recorded.  Small tensors stay exact. */
static void test_sampled_histogram(void **state)
{
    int64_t n = 5 * NT_HIST_SAMPLE_MIN + 12345, k = n / NT_HIST_SAMPLE_MIN;
    nt_tensor *t = random_f32(n, 77), *every, *d;
    int64_t m = (n + k - 1) / k;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, &m, &every), NT_OK);
    assert_int_equal(nt_tensor_new(NT_DTYPE_DOUBLE, 1, &n, &d), NT_OK);
    for (int64_t i = 0; i < n; i++) {
        if (i % k == 0)
            ((float *)every->data)[i / k] = ((float *)t->data)[i];
        nt_tensor_set_f64(d, i, nt_tensor_get_f64(t, i));
    }
    nt_tstats exact, sampled, gen, ref;
    nt_tstats_init(&exact, true);
    nt_tstats_init(&sampled, true);
    nt_tstats_init(&gen, true);
    nt_tstats_init(&ref, true);
    sampled.sample_hist = gen.sample_hist = true;
    nt_tstats_add(&exact, t);
    nt_tstats_add(&sampled, t);
    nt_tstats_add(&gen, d);
    nt_tstats_add(&ref, every);
    assert_int_equal(exact.hist_stride, 1);
    assert_int_equal(sampled.hist_stride, k);
    assert_int_equal(gen.hist_stride, k);
    assert_true(sampled.count == exact.count && sampled.nan == exact.nan && sampled.zeros == exact.zeros);
    assert_true(sampled.sum == exact.sum && sampled.sumsq == exact.sumsq);
    assert_true(sampled.min == exact.min && sampled.max == exact.max);
    assert_hist_equal(&sampled, &ref);
    assert_hist_equal(&gen, &ref);
    assert_true(nt_tstats_hist_total(&sampled) == ref.finite && ref.finite < exact.finite);
    nt_buf js;
    nt_buf_init(&js);
    nt_tstats_json(&sampled, &js);
    char want[64];
    snprintf(want, sizeof want, "\"hist_stride\": %lld", (long long)k);
    assert_non_null(strstr(js.data, want));
    nt_buf_deinit(&js);
    /* below 2 * NT_HIST_SAMPLE_MIN elements: exact even when sampling */
    nt_tstats small;
    nt_tstats_init(&small, true);
    small.sample_hist = true;
    nt_tstats_add(&small, every);
    assert_int_equal(small.hist_stride, 1);
    assert_hist_equal(&small, &ref);
    nt_tstats_deinit(&small);
    nt_tstats_deinit(&exact);
    nt_tstats_deinit(&sampled);
    nt_tstats_deinit(&gen);
    nt_tstats_deinit(&ref);
    nt_tensor_free(t);
    nt_tensor_free(every);
    nt_tensor_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_against_reference),
        cmocka_unit_test(test_generic_dtypes_match_f32),
        cmocka_unit_test(test_vector_path_matches_scalar),
        cmocka_unit_test(test_keyed_path_special_values),
        cmocka_unit_test(test_runs_of_equal_values),
        cmocka_unit_test(test_worker_matches_inline),
        cmocka_unit_test(test_bucket_edges_contain_values),
        cmocka_unit_test(test_merge_equals_whole),
        cmocka_unit_test(test_node_filter),
        cmocka_unit_test(test_sampled_histogram),
        cmocka_unit_test(test_instruction_sets_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
