/*
 * test_analyze.c — the model analyzer (analyze/sensitivity.h) on models
 * built here whose answers are known in closed form: a linear model
 * y = x W (gradients are W's columns, sweeps are straight lines, occlusion
 * drops are sums of w_i x_i), also behind Flatten for 2-D occlusion.  Plus
 * layouts, feature coordinates, the generator, error paths and the files
 * written (PNG, CSV, SVG); nt_analyze_run (the public call behind
 * `analyze`): its JSON, text, analysis.json and errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "analyze/sensitivity.h"
#include "nntrace/analysis.h"
#include "onnx/writer.h"
#include "test_units_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- fixtures */

#define NF 8
#define NO 2
/* W[:, 0] = 3 e0 - 2 e5 (+ small weights elsewhere on column 1) */
static const float W[NF][NO] = {{3, 0.5f}, {0, 1}, {0, -1}, {0, 0.25f}, {0, 0}, {-2, 0}, {0, 0}, {0, 0.1f}};

/* y (1,NO) = Flatten(x) W, x of the given shape with numel NF (or 16 for
 * the image model, whose weight is w_img). */
static nt_model *linear_model(int ndim, const int64_t *xdims, const float *w, int64_t nf, int64_t no)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t ydims[2] = {1, no}, wdims[2] = {nf, no};
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, ndim, xdims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, ydims, NULL);
    nt_tensor *wt;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 2, wdims, &wt), NT_OK);
    memcpy(wt->data, w, sizeof(float) * (size_t)(nf * no));
    nt_onnx_builder_add_initializer(b, "W", wt);
    nt_tensor_free(wt);
    const char *fin[] = {"x"}, *fout[] = {"flat"}, *min[] = {"flat", "W"}, *mout[] = {"y"};
    nt_onnx_node *fl = nt_onnx_builder_add_node(b, "Flatten", "flatten", 1, fin, 1, fout);
    nt_onnx_node_attr_int(fl, "axis", 0);
    nt_onnx_builder_add_node(b, "MatMul", "matmul", 2, min, 1, mout);
    return tu_load_built(b);
}

typedef struct fixture {
    nt_model *m;
    nt_session *s;
    nt_tensor *x;
    nt_probe p;
} fixture;

static void fixture_open(fixture *f, int ndim, const int64_t *dims, const float *w, int64_t nf, int64_t no,
                         const float *xv)
{
    memset(f, 0, sizeof *f);
    f->m = linear_model(ndim, dims, w, nf, no);
    assert_int_equal(nt_session_new(f->m, NULL, &f->s), NT_OK);
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, ndim, dims, &f->x), NT_OK);
    memcpy(f->x->data, xv, sizeof(float) * (size_t)nf);
}

static void fixture_close(fixture *f)
{
    nt_probe_deinit(&f->p);
    nt_tensor_free(f->x);
    nt_session_free(f->s);
    nt_model_free(f->m);
}

static const float X8[NF] = {1, 2, -1, 0.5f, 4, 0.25f, -3, 2};

static void open_linear(fixture *f, int64_t target)
{
    int64_t dims[2] = {1, NF};
    fixture_open(f, 2, dims, &W[0][0], NF, NO, X8);
    assert_int_equal(nt_probe_init(&f->p, f->s, "x", f->x, 0, target), NT_OK);
}

/* ---------------------------------------------------------------- layout */

static void test_layout_auto(void **state)
{
    (void)state;
    nt_layout l;
    int64_t nchw[4] = {1, 3, 224, 200}, nhwc[4] = {1, 32, 24, 3}, chw[3] = {2, 5, 6}, hwc[3] = {8, 6, 3};
    assert_int_equal(nt_layout_init(NULL, 4, nchw, &l), NT_OK);
    assert_string_equal(l.spec, "NCHW");
    assert_true(l.C == 3 && l.H == 224 && l.W == 200 && !l.one_d);
    assert_int_equal(nt_layout_offset(&l, 2, 5, 7), 2 * 224 * 200 + 5 * 200 + 7);
    assert_true(nt_layout_is_image(&l));
    assert_int_equal(nt_layout_init("", 4, nhwc, &l), NT_OK);
    assert_string_equal(l.spec, "NHWC");
    assert_true(l.C == 3 && l.H == 32 && l.W == 24);
    assert_int_equal(nt_layout_offset(&l, 1, 2, 3), (2 * 24 + 3) * 3 + 1);
    assert_int_equal(nt_layout_init(NULL, 3, chw, &l), NT_OK);
    assert_string_equal(l.spec, "CHW");
    assert_false(nt_layout_is_image(&l)); /* 2 channels: no picture */
    assert_int_equal(nt_layout_init(NULL, 3, hwc, &l), NT_OK);
    assert_string_equal(l.spec, "HWC");
    int64_t nl[2] = {1, 10}, hw[2] = {5, 7}, L[1] = {9};
    assert_int_equal(nt_layout_init(NULL, 2, nl, &l), NT_OK);
    assert_true(l.one_d && l.H == 1 && l.W == 10 && l.C == 1);
    assert_string_equal(l.spec, "NL");
    assert_int_equal(nt_layout_init(NULL, 2, hw, &l), NT_OK);
    assert_true(!l.one_d && l.H == 5 && l.W == 7);
    assert_int_equal(nt_layout_init(NULL, 1, L, &l), NT_OK);
    assert_true(l.one_d && l.W == 9 && l.ws == 1);
}

static void test_layout_explicit_and_errors(void **state)
{
    (void)state;
    nt_layout l;
    int64_t seq[3] = {1, 12, 4}, batch[4] = {2, 3, 8, 8}, r5[5] = {1, 1, 2, 2, 2};
    assert_int_equal(nt_layout_init("nlc", 3, seq, &l), NT_OK);
    assert_true(l.one_d && l.W == 12 && l.C == 4);
    assert_int_equal(nt_layout_offset(&l, 3, 0, 5), 5 * 4 + 3);
    assert_int_equal(nt_layout_init(NULL, 4, batch, &l), NT_ERR_SHAPE);   /* batch of 2 */
    assert_int_equal(nt_layout_init(NULL, 5, r5, &l), NT_ERR_SHAPE);      /* no default */
    assert_int_equal(nt_layout_init("NCDHW", 5, r5, &l), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_layout_init("NCH", 3, seq, &l), NT_ERR_INVALID_ARG);   /* no W */
    assert_int_equal(nt_layout_init("NHH", 3, seq, &l), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_layout_init("NLW", 3, seq, &l), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_layout_init("NC", 3, seq, &l), NT_ERR_INVALID_ARG);    /* wrong length */
    double v[2 * 3 * 2];
    for (int i = 0; i < 12; i++)
        v[i] = i % 2 ? -i : i;
    int64_t chw[3] = {2, 3, 2};
    float map[6];
    assert_int_equal(nt_layout_init("CHW", 3, chw, &l), NT_OK);
    nt_layout_spatial_sum_abs(&l, v, map);
    for (int i = 0; i < 6; i++)
        assert_float_equal(map[i], fabs(v[i]) + fabs(v[6 + i]), 1e-6);
}

/* ---------------------------------------------------------------- features, rng */

static void test_feature_parse_format(void **state)
{
    (void)state;
    int64_t dims[4] = {1, 3, 4, 5}, f;
    assert_int_equal(nt_feature_parse("17", 4, dims, &f), NT_OK);
    assert_int_equal(f, 17);
    assert_int_equal(nt_feature_parse("0,2,3,4", 4, dims, &f), NT_OK);
    assert_int_equal(f, 2 * 20 + 3 * 5 + 4);
    char buf[64];
    nt_feature_format(f, 4, dims, buf, sizeof buf);
    assert_string_equal(buf, "0,2,3,4");
    assert_int_equal(nt_feature_parse("60", 4, dims, &f), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_feature_parse("0,3,0,0", 4, dims, &f), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_feature_parse("0,1,2", 4, dims, &f), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_feature_parse("-1", 4, dims, &f), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_feature_parse("1,", 4, dims, &f), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_feature_parse("x", 4, dims, &f), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_feature_parse("", 4, dims, &f), NT_ERR_INVALID_ARG);
}

static void test_rng_normal(void **state)
{
    (void)state;
    nt_rng a, b;
    nt_rng_seed(&a, 42);
    nt_rng_seed(&b, 42);
    double sum = 0, sq = 0;
    int n = 40000;
    for (int i = 0; i < n; i++) {
        double v = nt_rng_normal(&a);
        assert_true(v == nt_rng_normal(&b));
        sum += v;
        sq += v * v;
    }
    double mean = sum / n, sd = sqrt(sq / n - mean * mean);
    assert_true(fabs(mean) < 0.03);
    assert_true(fabs(sd - 1) < 0.03);
    nt_rng_seed(&b, 43);
    nt_rng_seed(&a, 42);
    assert_true(nt_rng_normal(&a) != nt_rng_normal(&b));
}

/* ---------------------------------------------------------------- probe */

static void test_probe_target_and_errors(void **state)
{
    (void)state;
    fixture f;
    open_linear(&f, -1);
    /* y0 = 3*1 - 2*0.25 = 2.5; y1 = 0.5 + 2 + 1 + 0.125 + 0.2 = 3.825 */
    assert_true(f.p.target_is_default);
    assert_int_equal(f.p.target, 1);
    assert_int_equal(f.p.base_argmax, 1);
    assert_float_equal(f.p.base_score, 3.825, 1e-5);
    assert_int_equal(f.p.runs, 1);
    nt_probe_deinit(&f.p);
    assert_int_equal(nt_probe_init(&f.p, f.s, "x", f.x, 0, 0), NT_OK);
    assert_false(f.p.target_is_default);
    assert_float_equal(f.p.base_score, 2.5, 1e-5);
    nt_probe_deinit(&f.p);
    assert_int_equal(nt_probe_init(&f.p, f.s, "x", f.x, 0, 2), NT_ERR_INVALID_ARG);
    nt_probe_deinit(&f.p);
    nt_tensor *ix;
    int64_t d[2] = {1, NF};
    assert_int_equal(nt_tensor_new(NT_DTYPE_INT64, 2, d, &ix), NT_OK);
    assert_int_equal(nt_probe_init(&f.p, f.s, "x", ix, 0, -1), NT_ERR_UNSUPPORTED);
    nt_probe_deinit(&f.p);
    nt_tensor_free(ix);
    fixture_close(&f);
}

/* ---------------------------------------------------------------- perturb */

static void test_perturb_exact_gradient(void **state)
{
    (void)state;
    fixture f;
    open_linear(&f, 0);
    nt_perturb_options o = {.n_scales = 2, .scales = {0.01, 0.1}, .trials = 5, .seed = 7};
    nt_perturb_result r;
    assert_int_equal(nt_perturb_run(&f.p, &o, &r), NT_OK);
    assert_true(r.exact);
    assert_int_equal(r.runs, 2 * 5 + 2 * NF);
    for (int i = 0; i < NF; i++)
        assert_float_equal(r.grad[i], W[i][0], 1e-3);
    assert_int_equal(r.order[0], 0);
    assert_int_equal(r.order[1], 5);
    /* noise statistics: linear model, so dtarget = sigma * (3 e0 - 2 e5):
     * std sqrt(13) sigma; larger scales move more */
    assert_true(r.scales[1].mean_abs_dtarget > r.scales[0].mean_abs_dtarget);
    assert_true(r.scales[0].max_abs_dtarget >= r.scales[0].mean_abs_dtarget);
    assert_true(r.scales[1].std_dtarget < 3 * sqrt(13.0) * r.scales[1].sigma);
    assert_int_equal(r.scales[0].flips, 0);   /* y1 - y0 = 1.3 never crossed at these scales */
    double sd = nt_probe_input_std(&f.p);
    assert_float_equal(r.input_std, sd, 1e-12);
    assert_float_equal(r.scales[1].sigma, 0.1 * sd, 1e-12);
    nt_perturb_result r2;
    assert_int_equal(nt_perturb_run(&f.p, &o, &r2), NT_OK);
    assert_true(r2.scales[1].mean_dtarget == r.scales[1].mean_dtarget); /* seeded */
    nt_perturb_result_deinit(&r2);
    nt_perturb_result_deinit(&r);
    fixture_close(&f);
}

static void test_perturb_noise_ranking(void **state)
{
    (void)state;
    fixture f;
    open_linear(&f, 0);
    nt_perturb_options o = {.n_scales = 3, .scales = {0.01, 0.05, 0.1}, .trials = 200, .seed = 1,
                            .ranking = NT_RANKING_NOISE};
    nt_perturb_result r;
    assert_int_equal(nt_perturb_run(&f.p, &o, &r), NT_OK);
    assert_false(r.exact);
    assert_int_equal(r.runs, 600);
    assert_int_equal(r.order[0], 0);
    assert_int_equal(r.order[1], 5);
    assert_float_equal(r.grad[0], 3, 0.6);
    assert_float_equal(r.grad[5], -2, 0.6);
    nt_perturb_result_deinit(&r);
    /* flips: with y1 - y0 = 1.3 and noise far larger, the class flips */
    nt_perturb_options big = {.n_scales = 1, .scales = {5}, .trials = 50, .seed = 3, .ranking = NT_RANKING_NOISE};
    assert_int_equal(nt_perturb_run(&f.p, &big, &r), NT_OK);
    assert_true(r.scales[0].flips > 5 && r.scales[0].flips < 50);
    nt_perturb_result_deinit(&r);
    nt_perturb_options bad = {.n_scales = 1, .scales = {-1}, .trials = 1};
    assert_int_equal(nt_perturb_run(&f.p, &bad, &r), NT_ERR_INVALID_ARG);
    fixture_close(&f);
}

static void test_perturb_constant_input(void **state)
{
    (void)state;
    fixture f;
    float zeros[NF] = {0};
    int64_t dims[2] = {1, NF};
    fixture_open(&f, 2, dims, &W[0][0], NF, NO, zeros);
    assert_int_equal(nt_probe_init(&f.p, f.s, "x", f.x, 0, 0), NT_OK);
    nt_perturb_options o = {.n_scales = 1, .scales = {0.01}, .trials = 3};
    nt_perturb_result r;
    assert_int_equal(nt_perturb_run(&f.p, &o, &r), NT_OK);
    assert_true(r.input_std_fallback);
    assert_float_equal(r.input_std, 1.0, 0);
    assert_float_equal(r.grad[5], -2, 1e-3);
    nt_perturb_result_deinit(&r);
    fixture_close(&f);
}

/* ---------------------------------------------------------------- sweep */

static void test_sweep_line(void **state)
{
    (void)state;
    fixture f;
    open_linear(&f, 0);
    nt_sweep_options o = {.feature = 5, .lo = -1, .hi = 1, .n = 5};
    nt_sweep_result r;
    assert_int_equal(nt_sweep_run(&f.p, &o, &r), NT_OK);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.n_out, 2);
    assert_float_equal(r.original, 0.25, 0);
    for (int k = 0; k < 5; k++) {
        double v = -1 + 0.5 * k;
        assert_float_equal(r.values[k], v, 1e-7);
        assert_float_equal(r.target[k], 3 * 1 - 2 * v, 1e-5);
        assert_float_equal(r.outputs[k * 2 + 0], r.target[k], 0);
        assert_float_equal(r.outputs[k * 2 + 1], 3.825, 1e-5);   /* feature 5 has no weight in y1 */
    }
    /* the probe's input is restored afterwards */
    assert_memory_equal(f.p.work->data, f.x->data, sizeof(float) * NF);
    char dir[] = "/tmp/nt_test_analyze_dir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char csv[256], svg[256];
    snprintf(csv, sizeof csv, "%s/s.csv", dir);
    snprintf(svg, sizeof svg, "%s/s.svg", dir);
    assert_int_equal(nt_sweep_write_csv(csv, &r, "y", 0), NT_OK);
    assert_int_equal(nt_sweep_write_svg(svg, &r, "5 (0,5)", "y", 0), NT_OK);
    char *text;
    size_t len;
    assert_int_equal(nt_read_file(csv, &text, &len), NT_OK);
    assert_true(strncmp(text, "value,target,y[0],y[1]\n-1,5,5,3.82", 34) == 0);
    free(text);
    assert_int_equal(nt_read_file(svg, &text, &len), NT_OK);
    assert_non_null(strstr(text, "<svg"));
    assert_non_null(strstr(text, "input value"));
    free(text);
    unlink(csv);
    unlink(svg);
    rmdir(dir);
    nt_sweep_result_deinit(&r);
    o.feature = NF;
    assert_int_equal(nt_sweep_run(&f.p, &o, &r), NT_ERR_INVALID_ARG);
    fixture_close(&f);
}

/* ---------------------------------------------------------------- occlusion */

static void test_occlusion_1d(void **state)
{
    (void)state;
    fixture f;
    open_linear(&f, 0);
    nt_layout l;
    assert_int_equal(nt_layout_init(NULL, 2, f.x->dims, &l), NT_OK);
    nt_occlusion_options o = {.win_w = 1};
    nt_occlusion_result r;
    assert_int_equal(nt_occlusion_run(&f.p, &l, &o, &r), NT_OK);
    assert_int_equal(r.H, 1);
    assert_int_equal(r.W, NF);
    assert_int_equal(r.windows, NF);
    /* drop at i with baseline 0 = w_i x_i */
    for (int i = 0; i < NF; i++)
        assert_float_equal(r.map[i], W[i][0] * X8[i], 1e-5);
    assert_int_equal(r.best_x, 0);
    assert_float_equal(r.best_drop, 3, 1e-5);
    assert_float_equal(r.worst_drop, -0.5, 1e-5);
    nt_occlusion_result_deinit(&r);
    /* defaults for 8 features: window 1, stride 1 */
    nt_occlusion_options d = {0};
    nt_occlusion_defaults(&l, &d);
    assert_true(d.win_h == 1 && d.win_w == 1 && d.stride_w == 1);
    /* the mean baseline: drop = w_i (x_i - mean) */
    o.baseline = NT_BASELINE_MEAN;
    double mean = 0;
    for (int i = 0; i < NF; i++)
        mean += X8[i] / NF;
    assert_int_equal(nt_occlusion_run(&f.p, &l, &o, &r), NT_OK);
    for (int i = 0; i < NF; i++)
        assert_float_equal(r.map[i], W[i][0] * (X8[i] - mean), 1e-5);
    nt_occlusion_result_deinit(&r);
    o.win_w = NF + 1;
    assert_int_equal(nt_occlusion_run(&f.p, &l, &o, &r), NT_ERR_INVALID_ARG);
    fixture_close(&f);
}

static void test_occlusion_2d_mean_of_windows(void **state)
{
    (void)state;
    /* (1,1,5,5) image, y0 = sum w_ij x_ij; window 2x2, stride 2: starts 0, 2
     * and the edge start 3 in each axis */
    float w[25 * 1], x[25];
    for (int i = 0; i < 25; i++) {
        w[i] = (float)((i * 7) % 5) - 2;
        x[i] = (float)(i % 3) + 0.5f;
    }
    int64_t dims[4] = {1, 1, 5, 5};
    fixture f;
    fixture_open(&f, 4, dims, w, 25, 1, x);
    assert_int_equal(nt_probe_init(&f.p, f.s, "x", f.x, 0, -1), NT_OK);
    assert_int_equal(f.p.target, 0);   /* one-value output */
    nt_layout l;
    assert_int_equal(nt_layout_init(NULL, 4, dims, &l), NT_OK);
    nt_occlusion_options o = {.win_h = 2, .win_w = 2, .stride_h = 2, .stride_w = 2, .baseline_value = 1};
    nt_occlusion_result r;
    assert_int_equal(nt_occlusion_run(&f.p, &l, &o, &r), NT_OK);
    assert_int_equal(r.windows, 9);
    static const int starts[3] = {0, 2, 3};
    double acc[25] = {0};
    int cnt[25] = {0};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double drop = 0;
            for (int y = starts[a]; y < starts[a] + 2; y++)
                for (int xx = starts[b]; xx < starts[b] + 2; xx++)
                    drop += w[y * 5 + xx] * (x[y * 5 + xx] - 1.0);
            for (int y = starts[a]; y < starts[a] + 2; y++)
                for (int xx = starts[b]; xx < starts[b] + 2; xx++) {
                    acc[y * 5 + xx] += drop;
                    cnt[y * 5 + xx]++;
                }
        }
    for (int i = 0; i < 25; i++) {
        assert_true(cnt[i] > 0);
        assert_float_equal(r.map[i], acc[i] / cnt[i], 1e-4);
    }
    assert_memory_equal(f.p.work->data, f.x->data, sizeof x);
    /* the files: heatmap and overlay PNGs */
    char dir[] = "/tmp/nt_test_analyze_dir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p1[256], p2[256];
    snprintf(p1, sizeof p1, "%s/m.png", dir);
    snprintf(p2, sizeof p2, "%s/o.png", dir);
    assert_int_equal(nt_sens_heatmap_png(p1, r.map, r.H, r.W, true), NT_OK);
    assert_int_equal(nt_sens_overlay_png(p2, r.map, &l, f.p.base_f64, true), NT_OK);
    char *data;
    size_t len;
    assert_int_equal(nt_read_file(p2, &data, &len), NT_OK);
    assert_memory_equal(data, "\x89PNG\r\n\x1a\n", 8);
    free(data);
    unlink(p1);
    unlink(p2);
    /* a 1-D map is drawn as a band */
    assert_int_equal(nt_sens_heatmap_png(p1, r.map, 1, 25, false), NT_OK);
    unlink(p1);
    nt_layout one;
    int64_t ld[1] = {25};
    assert_int_equal(nt_layout_init(NULL, 1, ld, &one), NT_OK);
    assert_int_equal(nt_sens_overlay_png(p2, r.map, &one, f.p.base_f64, true), NT_ERR_INVALID_ARG);
    rmdir(dir);
    nt_occlusion_result_deinit(&r);
    fixture_close(&f);
}

/* ---------------------------------------------------------------- nt_analyze_run */

static void test_analyze_run(void **state)
{
    (void)state;
    fixture f;
    int64_t dims[2] = {1, NF};
    fixture_open(&f, 2, dims, &W[0][0], NF, NO, X8);
    assert_int_equal(nt_session_set_input(f.s, "x", f.x), NT_OK);
    char dir[] = "/tmp/nt_test_analyze_run_XXXXXX";
    assert_non_null(mkdtemp(dir));
    nt_analyze_options o;
    nt_analyze_options_init(&o);
    o.method = NT_ANALYZE_SWEEP;
    o.model_path = "lin.onnx";
    o.target = "0";                  /* y0 = 3 x0 - 2 x5; the argmax would be y1 */
    o.feature = "0,5";
    o.has_range = true;
    o.lo = -1;
    o.hi = 1;
    o.points = 5;
    o.out_dir = dir;
    nt_analyze_result *r = NULL;
    assert_int_equal(nt_analyze_run(f.m, f.s, &o, &r), NT_OK);
    char *json, *text, *file;
    size_t len, flen;
    assert_int_equal(nt_analyze_result_json(r, &json, &len), NT_OK);
    assert_true(strncmp(json, "{\"method\": \"sweep\", \"model\": \"lin.onnx\",", 40) == 0);
    assert_non_null(strstr(json, "\"target\": [5, 4, 3, 2, 1]"));
    assert_non_null(strstr(json, "\"files\": {\"csv\": \"sweep.csv\", \"plot_svg\": \"sweep.svg\"}}\n"));
    char path[256];
    snprintf(path, sizeof path, "%s/analysis.json", dir);
    assert_int_equal(nt_read_file(path, &file, &flen), NT_OK);
    assert_int_equal(flen, len);
    assert_memory_equal(file, json, len);
    assert_int_equal(nt_analyze_result_text(r, &text, NULL), NT_OK);
    assert_true(strncmp(text, "analyze sweep: lin.onnx\n", 24) == 0);
    assert_non_null(strstr(text, "  feature 5 (0,5) = 0.25, swept over [-1, 1] in 5 points\n"));
    assert_non_null(strstr(text, "  wrote "));
    free(json);
    free(text);
    free(file);
    nt_analyze_result_free(r);
    /* exact perturbation ranks x0 (weight 3) before x5 (-2) */
    nt_analyze_options_init(&o);
    o.method = NT_ANALYZE_PERTURB;
    o.target = "0";
    o.trials = 3;
    assert_int_equal(nt_analyze_run(f.m, f.s, &o, &r), NT_OK);
    assert_int_equal(nt_analyze_result_json(r, &json, NULL), NT_OK);
    assert_non_null(strstr(json, "\"ranking\": \"exact\""));
    assert_non_null(strstr(json, "\"top\": [\n   {\"index\": 0, \"coords\": [0,0]"));
    assert_non_null(strstr(json, "},\n   {\"index\": 5, \"coords\": [0,5]"));
    free(json);
    nt_analyze_result_free(r);
    /* errors: no such input; a feature out of range */
    o.input = "nope";
    assert_int_equal(nt_analyze_run(f.m, f.s, &o, &r), NT_ERR_INVALID_ARG);
    assert_null(r);
    assert_non_null(strstr(nt_last_error(), "no input named 'nope'"));
    nt_analyze_options_init(&o);
    o.method = NT_ANALYZE_SWEEP;
    o.feature = "8";
    assert_int_equal(nt_analyze_run(f.m, f.s, &o, &r), NT_ERR_INVALID_ARG);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    fixture_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_auto),
        cmocka_unit_test(test_layout_explicit_and_errors),
        cmocka_unit_test(test_feature_parse_format),
        cmocka_unit_test(test_rng_normal),
        cmocka_unit_test(test_probe_target_and_errors),
        cmocka_unit_test(test_perturb_exact_gradient),
        cmocka_unit_test(test_perturb_noise_ranking),
        cmocka_unit_test(test_perturb_constant_input),
        cmocka_unit_test(test_sweep_line),
        cmocka_unit_test(test_occlusion_1d),
        cmocka_unit_test(test_occlusion_2d_mean_of_windows),
        cmocka_unit_test(test_analyze_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
