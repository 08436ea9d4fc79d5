/*
 * test_curves.c — curve analysis on synthetic curves with known answers:
 * smoothing and noise estimates, tag kinds and train/validation pairing,
 * the overfitting onset found near where it was put (over many noise
 * seeds) and never on healthy curves, divergence (NaN and exploding),
 * plateau, oscillation, data-size checks, and the SVG plot writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/curves.h"
#include "viz/plot_svg.h"

#include <math.h>

#define N 150

static uint64_t rng;

static double uniform(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static double gauss(void)
{
    double u = uniform(), v = uniform();
    return sqrt(-2 * log(u < 1e-300 ? 1e-300 : u)) * cos(6.283185307179586 * v);
}

typedef struct curves {
    int64_t steps[N];
    double train[N], val[N];
} curves;

static nt_series series(const char *tag, const int64_t *steps, const double *v, int64_t n)
{
    return (nt_series){tag, n, steps, v};
}

/* How many findings of a kind, and the step of the first. */
static int count_kind(const nt_curve_findings *f, const char *kind, int64_t *step, nt_curve_severity *sev)
{
    int n = 0;
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->v[i].kind, kind) == 0) {
            if (n++ == 0) {
                if (step)
                    *step = f->v[i].step;
                if (sev)
                    *sev = f->v[i].severity;
            }
        }
    return n;
}

static void test_smoothing_and_noise(void **state)
{
    (void)state;
    double x[41], s[41];
    /* a noiseless V with its minimum at 25 stays there; a spike disappears */
    for (int i = 0; i < 41; i++)
        x[i] = fabs(i - 25.0) * (i < 25 ? 0.05 : 0.02);
    x[10] = 100;
    assert_int_equal(nt_curve_smooth(x, 41, 3, s), NT_OK);
    int best = 0;
    for (int i = 1; i < 41; i++)
        if (s[i] < s[best])
            best = i;
    /* the running mean moves an asymmetric V's minimum by at most a point */
    assert_true(best >= 25 && best <= 26);
    assert_true(s[10] < 2);
    /* noise of sigma 0.1 around a steep trend is measured as about 0.1 */
    rng = 7;
    double y[2000];
    for (int i = 0; i < 2000; i++)
        y[i] = 5 - 0.01 * i + 0.1 * gauss();
    double sig = nt_curve_noise(y, 2000);
    assert_true(sig > 0.09 && sig < 0.11);
    assert_true(nt_curve_noise(y, 2) == 0);
    assert_int_equal(nt_curve_half_window(10), 0);
    assert_int_equal(nt_curve_half_window(200), 10);
    assert_int_equal(nt_curve_half_window(100000), 25);
}

static void test_tags(void **state)
{
    (void)state;
    assert_int_equal(nt_tag_kind_of("loss/train"), NT_TAG_LOSS);
    assert_int_equal(nt_tag_kind_of("epoch_loss"), NT_TAG_LOSS);
    assert_int_equal(nt_tag_kind_of("val_accuracy"), NT_TAG_SCORE);
    assert_int_equal(nt_tag_kind_of("Accuracy/Validation"), NT_TAG_SCORE);
    assert_int_equal(nt_tag_kind_of("lr"), NT_TAG_OTHER);
    assert_int_equal(nt_tag_split_of("loss/valid"), NT_SPLIT_VAL);
    assert_int_equal(nt_tag_split_of("train_loss"), NT_SPLIT_TRAIN);

    const char *yes[][2] = {{"loss/train", "loss/val"},
                            {"train_loss", "val_loss"},
                            {"epoch_loss/training", "epoch_loss/validation"},
                            {"train/epoch_loss", "validation/epoch_loss"},
                            {"train/loss", "eval/loss"},
                            {"loss", "val_loss"},
                            {"accuracy", "val_accuracy"},
                            {"Loss/Train", "Loss/Valid"},
                            {"model-a/loss_train", "model-a/loss_dev"}};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (!nt_tag_is_pair(yes[i][0], yes[i][1]))
            fail_msg("expected a pair: %s / %s", yes[i][0], yes[i][1]);
    }
    const char *no[][2] = {{"loss/val", "loss/train"},    {"loss/train", "accuracy/val"}, {"train_loss", "val_acc"},
                           {"loss/train", "loss/train"},  {"loss_a/train", "loss_b/val"}, {"train_loss", "val/loss"},
                           {"train/loss", "val_loss"},    {"loss", "loss"}};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        if (nt_tag_is_pair(no[i][0], no[i][1]))
            fail_msg("not a pair: %s / %s", no[i][0], no[i][1]);
    }
    assert_int_equal(nt_tag_size_of("data/train_size"), NT_SIZE_TRAIN);
    assert_int_equal(nt_tag_size_of("n_val"), NT_SIZE_VAL);
    assert_int_equal(nt_tag_size_of("nval"), NT_SIZE_VAL);
    assert_int_equal(nt_tag_size_of("num_validation_samples"), NT_SIZE_VAL);
    assert_int_equal(nt_tag_size_of("validation_split"), NT_FRACTION_VAL);
    assert_int_equal(nt_tag_size_of("train_batch_size"), NT_SIZE_NONE);
    assert_int_equal(nt_tag_size_of("val_loss"), NT_SIZE_NONE);
    assert_int_equal(nt_tag_size_of("num_train_steps"), NT_SIZE_NONE);
}

/* Overfitting: validation falls to a minimum at `onset` then rises, training
 * keeps falling; noise sigma on both. */
static void make_overfit(curves *c, int onset, double sigma)
{
    for (int i = 0; i < N; i++) {
        c->steps[i] = (i + 1) * 10; /* steps need not be consecutive */
        double t = i;
        c->train[i] = 2.0 * exp(-t / 25) + 0.05 + sigma * gauss();
        double v = 0.4 + 1.8 * exp(-t / 25);
        double vmin = 0.4 + 1.8 * exp(-(double)onset / 25);
        v = i <= onset ? v : vmin + 0.006 * (t - onset);
        c->val[i] = v + sigma * gauss();
    }
}

static void test_overfitting_onset(void **state)
{
    (void)state;
    int found = 0;
    for (int seed = 1; seed <= 20; seed++) {
        rng = 1000 + (uint64_t)seed;
        curves c;
        int onset = 50 + seed; /* index; the step is 10 * (index + 1) */
        make_overfit(&c, onset, 0.03);
        nt_series t = series("loss/train", c.steps, c.train, N), v = series("loss/val", c.steps, c.val, N);
        nt_curve_findings f;
        nt_curve_findings_init(&f);
        assert_int_equal(nt_curve_analyze_pair(&t, &v, NT_TAG_LOSS, &f), NT_OK);
        int64_t step = -1;
        if (count_kind(&f, "overfitting", &step, NULL) == 1) {
            found++;
            int64_t want = 10 * (onset + 1);
            if (llabs(step - want) > 10 * 12)
                fail_msg("seed %d: onset found at step %lld, put at %lld", seed, (long long)step, (long long)want);
        }
        nt_curve_findings_deinit(&f);
    }
    assert_int_equal(found, 20);
}

/* The set analysis pairs loss/train with loss/val by itself and names the
 * same onset as the pair analysis; a step logged twice keeps its last value. */
static void test_analyze_set(void **state)
{
    (void)state;
    rng = 1007;
    curves c;
    make_overfit(&c, 57, 0.03);
    nt_series s[3] = {series("loss/train", c.steps, c.train, N), series("other", c.steps, c.train, N),
                      series("loss/val", c.steps, c.val, N)};
    nt_curve_pair pairs[3];
    int n_pairs = 0;
    assert_int_equal(nt_curve_find_pairs(s, 3, pairs, &n_pairs), NT_OK);
    assert_int_equal(n_pairs, 1);
    assert_int_equal(pairs[0].train, 0);
    assert_int_equal(pairs[0].val, 2);
    nt_curve_findings a, b;
    nt_curve_findings_init(&a);
    nt_curve_findings_init(&b);
    assert_int_equal(nt_curve_analyze_set(s, 3, pairs, n_pairs, &a), NT_OK);
    assert_int_equal(nt_curve_analyze_pair(&s[0], &s[2], NT_TAG_LOSS, &b), NT_OK);
    int64_t sa = -1, sb = -2;
    assert_int_equal(count_kind(&a, "overfitting", &sa, NULL), 1);
    assert_int_equal(count_kind(&b, "overfitting", &sb, NULL), 1);
    assert_int_equal(sa, sb);
    nt_curve_findings_deinit(&a);
    nt_curve_findings_deinit(&b);

    int64_t steps[5] = {1, 2, 2, 3, 3}, os[5];
    double vals[5] = {10, 20, 21, 30, 31}, ov[5];
    assert_int_equal(nt_series_last_per_step(steps, vals, 5, os, ov), 3);
    assert_true(os[1] == 2 && ov[1] == 21 && os[2] == 3 && ov[2] == 31);
}

static void test_healthy_runs_are_quiet(void **state)
{
    (void)state;
    for (int seed = 1; seed <= 20; seed++) {
        rng = 5000 + (uint64_t)seed;
        curves c;
        for (int i = 0; i < N; i++) {
            c.steps[i] = i;
            c.train[i] = 1.5 * exp(-i / 30.0) + 0.1 + 0.02 * gauss();
            /* validation noisier (fewer samples) and a little above training */
            c.val[i] = 1.5 * exp(-i / 30.0) + 0.15 + 0.05 * gauss();
        }
        nt_series t = series("loss/train", c.steps, c.train, N), v = series("loss/val", c.steps, c.val, N);
        nt_curve_findings f;
        nt_curve_findings_init(&f);
        assert_int_equal(nt_curve_analyze_pair(&t, &v, NT_TAG_LOSS, &f), NT_OK);
        assert_int_equal(nt_curve_analyze_single(&t, true, &f), NT_OK);
        assert_int_equal(nt_curve_analyze_single(&v, false, &f), NT_OK);
        for (int i = 0; i < f.n; i++)
            if (f.v[i].severity != NT_CURVE_INFO)
                fail_msg("seed %d: healthy run gave %s %s: %s", seed, nt_curve_severity_name(f.v[i].severity),
                         f.v[i].kind, f.v[i].detail);
        nt_curve_findings_deinit(&f);
    }
}

static void test_divergence(void **state)
{
    (void)state;
    rng = 42;
    int64_t steps[N];
    double x[N];
    /* NaN from index 70 on */
    for (int i = 0; i < N; i++) {
        steps[i] = i;
        x[i] = i < 70 ? 2 * exp(-i / 20.0) + 0.01 * gauss() : NAN;
    }
    nt_series s = series("loss", steps, x, N);
    nt_curve_findings f;
    nt_curve_findings_init(&f);
    assert_int_equal(nt_curve_analyze_single(&s, true, &f), NT_OK);
    int64_t step = -1;
    nt_curve_severity sev;
    assert_int_equal(count_kind(&f, "divergence", &step, &sev), 1);
    assert_int_equal(step, 70);
    assert_int_equal(sev, NT_CURVE_ERROR);
    assert_int_equal(nt_curve_findings_max(&f), NT_CURVE_ERROR);
    nt_curve_findings_deinit(&f);

    /* falls to its best at 60, then explodes past where it started */
    for (int i = 0; i < N; i++)
        x[i] = (i <= 60 ? 2 * exp(-i / 15.0) : 2 * exp(-60 / 15.0) * exp((i - 60) / 20.0)) + 0.01 * gauss();
    nt_curve_findings_init(&f);
    assert_int_equal(nt_curve_analyze_single(&s, true, &f), NT_OK);
    assert_int_equal(count_kind(&f, "divergence", &step, &sev), 1);
    assert_true(step >= 50 && step <= 70);
    assert_int_equal(count_kind(&f, "plateau", NULL, NULL), 0);
    nt_curve_findings_deinit(&f);

    /* a validation curve (trends off) is only checked for non-finite values */
    nt_curve_findings_init(&f);
    assert_int_equal(nt_curve_analyze_single(&s, false, &f), NT_OK);
    assert_int_equal(f.n, 0);
    nt_curve_findings_deinit(&f);
}

static void test_plateau_and_oscillation(void **state)
{
    (void)state;
    rng = 99;
    int64_t steps[N];
    double x[N];
    /* learns until 40 (2.3 -> 1.8), then stuck: a warning plateau from ~40 */
    for (int i = 0; i < N; i++) {
        steps[i] = i;
        x[i] = (i < 40 ? 2.3 - 0.5 * i / 40.0 : 1.8) + 0.01 * gauss();
    }
    nt_series s = series("train_loss", steps, x, N);
    nt_curve_findings f;
    nt_curve_findings_init(&f);
    assert_int_equal(nt_curve_analyze_single(&s, true, &f), NT_OK);
    int64_t step = -1;
    nt_curve_severity sev;
    assert_int_equal(count_kind(&f, "plateau", &step, &sev), 1);
    assert_int_equal(sev, NT_CURVE_WARNING);
    assert_true(step >= 30 && step <= 50);
    assert_int_equal(count_kind(&f, "oscillation", NULL, NULL), 0);
    assert_int_equal(count_kind(&f, "divergence", NULL, NULL), 0);
    nt_curve_findings_deinit(&f);

    /* flat from the start */
    for (int i = 0; i < N; i++)
        x[i] = 2.302 + 0.002 * gauss();
    nt_curve_findings_init(&f);
    assert_int_equal(nt_curve_analyze_single(&s, true, &f), NT_OK);
    assert_int_equal(count_kind(&f, "plateau", &step, &sev), 1);
    assert_int_equal(step, 0);
    assert_int_equal(sev, NT_CURVE_WARNING);
    nt_curve_findings_deinit(&f);

    /* a too-high learning rate: big alternating swings around a slow decline */
    for (int i = 0; i < N; i++)
        x[i] = 1.0 + 0.5 * exp(-i / 50.0) + (i % 2 ? 0.3 : -0.3) * (1 + 0.3 * uniform());
    nt_curve_findings_init(&f);
    assert_int_equal(nt_curve_analyze_single(&s, true, &f), NT_OK);
    assert_int_equal(count_kind(&f, "oscillation", NULL, &sev), 1);
    assert_int_equal(sev, NT_CURVE_WARNING);
    nt_curve_findings_deinit(&f);
}

static void test_sizes(void **state)
{
    (void)state;
    nt_curve_findings f;
    nt_curve_findings_init(&f);
    assert_int_equal(nt_curve_check_sizes(1000, 20, NAN, "data/val_size", &f), NT_OK);
    assert_int_equal(count_kind(&f, "small_validation", NULL, NULL), 1);
    assert_int_equal(count_kind(&f, "data_sizes", NULL, NULL), 1);
    nt_curve_findings_deinit(&f);
    nt_curve_findings_init(&f);
    assert_int_equal(nt_curve_check_sizes(800, 200, 0.2, "n_val", &f), NT_OK);
    assert_int_equal(nt_curve_findings_max(&f), NT_CURVE_INFO);
    assert_int_equal(nt_curve_check_sizes(950, 50, 0.2, "n_val", &f), NT_OK);
    assert_int_equal(count_kind(&f, "split_mismatch", NULL, NULL), 1);
    nt_curve_findings_deinit(&f);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_svg_plot(void **state)
{
    (void)state;
    double x[10], y[10];
    for (int i = 0; i < 10; i++) {
        x[i] = i * 100;
        y[i] = i == 5 ? NAN : 1.0 / (i + 1);
    }
    nt_plot_series s[1] = {{"loss & <val>", 10, x, y, "#1f77b4", 2, 1, false}};
    nt_plot_marker m[1] = {{300, NAN, "overfitting @ 300", NULL}};
    nt_plot p = {"t", "step", "loss", 0, 0, false, 1, s, 1, m};
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_plot_svg(&p, &b), NT_OK);
    assert_non_null(strstr(b.data, "<svg xmlns"));
    assert_int_equal(count(b.data, "<polyline"), 2); /* the NaN breaks the line */
    assert_int_equal(count(b.data, "class=\"marker\""), 1);
    assert_non_null(strstr(b.data, "loss &amp; &lt;val&gt;"));
    assert_non_null(strstr(b.data, "</svg>\n"));
    /* deterministic */
    nt_buf b2;
    nt_buf_init(&b2);
    assert_int_equal(nt_plot_svg(&p, &b2), NT_OK);
    assert_string_equal(b.data, b2.data);
    nt_buf_deinit(&b2);
    nt_buf_deinit(&b);

    /* a long series is reduced to min/max per pixel column */
    enum { BIG = 100000 };
    double *bx = malloc(BIG * sizeof *bx), *by = malloc(BIG * sizeof *by);
    for (int i = 0; i < BIG; i++) {
        bx[i] = i;
        by[i] = sin(i * 0.001);
    }
    nt_plot_series big[1] = {{"sin", BIG, bx, by, NULL, 0, 0, false}};
    nt_plot p2 = {NULL, NULL, NULL, 0, 0, false, 1, big, 0, NULL};
    nt_buf_init(&b);
    assert_int_equal(nt_plot_svg(&p2, &b), NT_OK);
    assert_true(b.len < 60000);
    nt_buf_deinit(&b);
    free(bx);
    free(by);

    /* nothing finite to draw */
    double nan1[1] = {NAN};
    nt_plot_series e[1] = {{"x", 1, nan1, nan1, NULL, 0, 0, false}};
    nt_plot p3 = {NULL, NULL, NULL, 0, 0, false, 1, e, 0, NULL};
    nt_buf_init(&b);
    assert_int_equal(nt_plot_svg(&p3, &b), NT_ERR_INVALID_ARG);
    nt_buf_deinit(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smoothing_and_noise),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_overfitting_onset),
        cmocka_unit_test(test_analyze_set),
        cmocka_unit_test(test_healthy_runs_are_quiet),
        cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_plateau_and_oscillation),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_svg_plot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
