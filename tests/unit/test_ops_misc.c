/*
 * test_ops_misc.c — the misc family through the registry: Det (batched,
 * pivoting, singular), the window functions, MelWeightMatrix shape and
 * triangle peaks, GridSample (identity grid, border/reflection padding,
 * nearest, bicubic on a linear ramp, 5-D), RoiAlign (bilinear samples of a
 * linear ramp, max mode), NonMaxSuppression (the spec's examples:
 * suppression by IoU, center-point boxes, per-class limit), DFT (impulse,
 * rfft/irfft and inverse round trips, opset-20 axis input) and STFT against
 * a direct sum.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "ops/kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- harness: op_harness.h runs a kernel through the registry as the
 * executor does; these wrappers keep this file's call shapes. */

#define OP_HARNESS_LOCAL_CHECKS
#define OP_HARNESS_LOCAL_FREE_ALL
#include "op_harness.h"

/* prepare, infer, allocate, compute.  want[i] says whether output i is
 * requested (NULL = all); out[i] get new tensors or stay NULL.  Returns the
 * first failing status (outputs freed and NULL then). */
static nt_status tn_run(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor **out, const bool *want)
{
    return oh_run(t, opset, n_in, in, n_out, out, want, NULL);
}

/* Static-mode infer only; outputs are caller storage (reset here). */
static NT_UNUSED nt_status tn_infer_static(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor *outs)
{
    nt_tensor *out[4];
    assert_true(n_out <= 4);
    for (int i = 0; i < n_out; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        outs[i].ndim = -1;
        out[i] = &outs[i];
    }
    return oh_infer_static(t, opset, n_in, in, n_out, out);
}

static void free_all(nt_tensor **t, int n)
{
    for (int i = 0; i < n; i++)
        nt_tensor_free(t[i]);
}

/* |got - want| <= atol + rtol |want| elementwise, with the shape checked. */
static NT_UNUSED void expect_close(const nt_tensor *got, int ndim, const int64_t *dims, const float *want, double tol)
{
    assert_non_null(got);
    assert_int_equal(got->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        assert_int_equal(got->dims[d], dims[d]);
    int64_t n = nt_tensor_numel(got);
    for (int64_t i = 0; i < n; i++) {
        double g = nt_tensor_get_f64(got, i), w = want[i];
        if (fabs(g - w) > tol + tol * fabs(w))
            fail_msg("element %lld: got %.9g, want %.9g", (long long)i, g, w);
    }
}

static void test_det(void **st)
{
    (void)st;
    /* a permutation (needs pivoting: a zero first pivot), a tridiagonal
     * matrix and a singular one */
    const float x[3 * 9] = {0, 1, 0, 1, 0, 0, 0, 0, 1,     /* permutation: -1 */
                            2, -1, 0, -1, 2, -1, 0, -1, 2, /* tridiagonal: 4 */
                            1, 2, 3, 2, 4, 6, 7, 8, 9};    /* singular: 0 */
    int64_t dx[3] = {3, 3, 3}, dy[1] = {3};
    nt_tensor *in[1] = {mkf(3, dx, x)};
    tnode t;
    tn_init(&t, "Det");
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 11, 1, in, 1, &y, NULL), NT_OK);
    const float want[3] = {-1, 4, 0};
    expect_close(y, 1, dy, want, 1e-6);
    nt_tensor_free(y);
    free_all(in, 1);
}

static void test_windows(void **st)
{
    (void)st;
    const int64_t n4[1] = {4};
    nt_tensor *in[1] = {mk(NT_DTYPE_INT64, 0, NULL, n4)};
    int64_t d4[1] = {4};
    nt_tensor *y;
    tnode t;
    tn_init(&t, "HannWindow");
    assert_int_equal(tn_run(&t, 17, 1, in, 1, &y, NULL), NT_OK);
    const float hann[4] = {0, 0.5f, 1, 0.5f};
    expect_close(y, 1, d4, hann, 1e-6);
    nt_tensor_free(y);
    /* symmetric Hamming, size 4 (N = 3), as double */
    tn_init(&t, "HammingWindow");
    a_int(&t, "periodic", 0);
    a_int(&t, "output_datatype", NT_DTYPE_DOUBLE);
    assert_int_equal(tn_run(&t, 17, 1, in, 1, &y, NULL), NT_OK);
    assert_int_equal(y->dtype, NT_DTYPE_DOUBLE);
    float ham[4];
    for (int n = 0; n < 4; n++)
        ham[n] = (float)(25.0 / 46 - 21.0 / 46 * cos(2 * M_PI * n / 3));
    expect_close(y, 1, d4, ham, 1e-6);
    nt_tensor_free(y);
    tn_init(&t, "BlackmanWindow");
    assert_int_equal(tn_run(&t, 17, 1, in, 1, &y, NULL), NT_OK);
    const float bl[4] = {0, 0.34f, 1, 0.34f}; /* 0.42 - 0.5cos + 0.08cos2 */
    expect_close(y, 1, d4, bl, 1e-6);
    nt_tensor_free(y);
    /* an int8 output type is declined */
    tn_init(&t, "BlackmanWindow");
    a_int(&t, "output_datatype", NT_DTYPE_INT8);
    assert_int_equal(tn_run(&t, 17, 1, in, 1, &y, NULL), NT_ERR_UNSUPPORTED);
    free_all(in, 1);
}

/* The corpus parameters: 8 mel bins, dft 16, 8192 Hz, 0..4096 Hz give a
 * (9, 8) matrix whose every column is a triangle peaking at 1. */
static void test_mel_weight_matrix(void **st)
{
    (void)st;
    const int32_t bins[1] = {8}, dft[1] = {16}, sr[1] = {8192};
    const float lo[1] = {0}, hi[1] = {4096};
    nt_tensor *in[5] = {mk(NT_DTYPE_INT32, 0, NULL, bins), mk(NT_DTYPE_INT32, 0, NULL, dft),
                        mk(NT_DTYPE_INT32, 0, NULL, sr), mkf(0, NULL, lo), mkf(0, NULL, hi)};
    tnode t;
    tn_init(&t, "MelWeightMatrix");
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 17, 5, in, 1, &y, NULL), NT_OK);
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->dims[0], 9);
    assert_int_equal(y->dims[1], 8);
    for (int m = 0; m < 8; m++) {
        double mx = 0;
        for (int k = 0; k < 9; k++) {
            double v = nt_tensor_get_f64(y, k * 8 + m);
            assert_true(v >= 0 && v <= 1);
            mx = v > mx ? v : mx;
        }
        assert_float_equal(mx, 1.0, 0);
    }
    nt_tensor_free(y);
    free_all(in, 5);
}

/* X (1, 1, 3, 4) = 10*y + x; the align_corners identity grid returns X. */
static void test_gridsample_identity_and_padding(void **st)
{
    (void)st;
    float x[12], grid[24];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) {
            x[i * 4 + j] = (float)(10 * i + j);
            grid[(i * 4 + j) * 2 + 0] = -1 + 2.0f * (float)j / 3; /* x first */
            grid[(i * 4 + j) * 2 + 1] = -1 + 2.0f * (float)i / 2;
        }
    int64_t dx[4] = {1, 1, 3, 4}, dg[4] = {1, 3, 4, 2};
    nt_tensor *in[2] = {mkf(4, dx, x), mkf(4, dg, grid)};
    const char *modes[3] = {"bilinear", "nearest", "bicubic"};
    for (int m = 0; m < 3; m++) {
        tnode t;
        tn_init(&t, "GridSample");
        a_int(&t, "align_corners", 1);
        a_str(&t, "mode", modes[m]);
        nt_tensor *y;
        assert_int_equal(tn_run(&t, 16, 2, in, 1, &y, NULL), NT_OK);
        expect_close(y, 4, dx, x, 1e-5);
        nt_tensor_free(y);
    }
    free_all(in, 2);

    /* two points: g = (-3, -3) lies far outside, g = (2, 0) is pixel
     * (x 1.5, y 0.5) on the 2x2 input [[1, 2], [3, 4]] (align_corners 1).
     *   border:     corner 1; x clamped to 1 -> (2 + 4) / 2 = 3
     *   zeros:      0; taps x = 1 (weight .5) and 2 (zero) -> (2 + 4) / 4
     *   reflection: -1 folds to 1 -> 4; x 1.5 folds to 0.5 -> mean 2.5 */
    const float g2[4] = {-3, -3, 2, 0};
    int64_t dg2[4] = {1, 1, 2, 2}, dy[4] = {1, 1, 1, 2};
    const float xsmall[4] = {1, 2, 3, 4};
    int64_t dxs[4] = {1, 1, 2, 2};
    nt_tensor *in2[2] = {mkf(4, dxs, xsmall), mkf(4, dg2, g2)};
    struct {
        const char *pad;
        float want[2];
    } cases[3] = {{"border", {1, 3}}, {"zeros", {0, 1.5f}}, {"reflection", {4, 2.5f}}};
    for (int c = 0; c < 3; c++) {
        tnode t;
        tn_init(&t, "GridSample");
        a_int(&t, "align_corners", 1);
        a_str(&t, "padding_mode", cases[c].pad);
        nt_tensor *y;
        assert_int_equal(tn_run(&t, 20, 2, in2, 1, &y, NULL), NT_OK);
        expect_close(y, 4, dy, cases[c].want, 1e-6);
        nt_tensor_free(y);
    }
    free_all(in2, 2);
}

/* 5-D (opset 20): sampling the centre of a 2x2x2 cube averages all eight. */
static void test_gridsample_volumetric(void **st)
{
    (void)st;
    const float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, g[3] = {0, 0, 0};
    int64_t dx[5] = {1, 1, 2, 2, 2}, dg[5] = {1, 1, 1, 1, 3}, dy[5] = {1, 1, 1, 1, 1};
    nt_tensor *in[2] = {mkf(5, dx, x), mkf(5, dg, g)};
    tnode t;
    tn_init(&t, "GridSample");
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 20, 2, in, 1, &y, NULL), NT_OK);
    const float want[1] = {4.5f};
    expect_close(y, 5, dy, want, 1e-6);
    nt_tensor_free(y);
    /* before opset 20 only 4-D is accepted */
    assert_int_equal(tn_run(&t, 16, 2, in, 1, &y, NULL), NT_ERR_SHAPE);
    free_all(in, 2);
}

/* X = 10*y + x (8x8): bilinear samples of a linear function are exact, so
 * an avg bin equals the ramp at the bin centre. */
static void test_roialign(void **st)
{
    (void)st;
    float x[64];
    for (int i = 0; i < 64; i++)
        x[i] = (float)(10 * (i / 8) + i % 8);
    const float rois[4] = {1, 2, 5, 6}; /* x1 y1 x2 y2 */
    const int64_t bi[1] = {0};
    int64_t dx[4] = {1, 1, 8, 8}, dr[2] = {1, 4}, db[1] = {1}, dy[4] = {1, 1, 2, 2};
    nt_tensor *in[3] = {mkf(4, dx, x), mkf(2, dr, rois), mk(NT_DTYPE_INT64, 1, db, bi)};
    tnode t;
    tn_init(&t, "RoiAlign");
    a_int(&t, "output_height", 2);
    a_int(&t, "output_width", 2);
    a_int(&t, "sampling_ratio", 2);
    nt_tensor *y;
    /* half_pixel (opset 16 default): roi [0.5, 4.5] x [1.5, 5.5]; bin centres
     * x 1.5, 3.5 and y 2.5, 4.5 */
    assert_int_equal(tn_run(&t, 16, 3, in, 1, &y, NULL), NT_OK);
    const float want[4] = {26.5f, 28.5f, 46.5f, 48.5f};
    expect_close(y, 4, dy, want, 1e-5);
    nt_tensor_free(y);
    /* opset 10 (output_half_pixel): roi [1, 5] x [2, 6]; centres 2, 4 / 3, 5 */
    assert_int_equal(tn_run(&t, 10, 3, in, 1, &y, NULL), NT_OK);
    const float want10[4] = {32, 34, 52, 54};
    expect_close(y, 4, dy, want10, 1e-5);
    nt_tensor_free(y);
    free_all(in, 3);
}

/* The spec's NMS examples. */
static const float nms_boxes[24] = {0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f,
                                    0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101};
static const float nms_scores[6] = {0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f};

static nt_tensor *run_nms(const float *boxes, int64_t max_out, float iou, float score, int cpb)
{
    int64_t db[3] = {1, 6, 4}, ds[3] = {1, 1, 6};
    const int64_t mo[1] = {max_out};
    const float it[1] = {iou}, sc[1] = {score};
    nt_tensor *in[5] = {mkf(3, db, boxes), mkf(3, ds, nms_scores), mk(NT_DTYPE_INT64, 1, (int64_t[]){1}, mo),
                        mkf(1, (int64_t[]){1}, it), mkf(1, (int64_t[]){1}, sc)};
    tnode t;
    tn_init(&t, "NonMaxSuppression");
    if (cpb)
        a_int(&t, "center_point_box", 1);
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 11, 5, in, 1, &y, NULL), NT_OK);
    free_all(in, 5);
    return y;
}

static void expect_sel(const nt_tensor *y, int n, const int64_t *boxes)
{
    assert_int_equal(y->dtype, NT_DTYPE_INT64);
    assert_int_equal(y->ndim, 2);
    assert_int_equal(y->dims[0], n);
    assert_int_equal(y->dims[1], 3);
    const int64_t *v = y->data;
    for (int i = 0; i < n; i++) {
        assert_int_equal(v[i * 3], 0);
        assert_int_equal(v[i * 3 + 1], 0);
        assert_int_equal(v[i * 3 + 2], boxes[i]);
    }
}

static void test_nms(void **st)
{
    (void)st;
    nt_tensor *y = run_nms(nms_boxes, 3, 0.5f, 0.0f, 0);
    expect_sel(y, 3, (const int64_t[]){3, 0, 5});
    nt_tensor_free(y);
    /* score threshold 0.4 drops box 5; limit 2 keeps the first two */
    y = run_nms(nms_boxes, 3, 0.5f, 0.4f, 0);
    expect_sel(y, 2, (const int64_t[]){3, 0});
    nt_tensor_free(y);
    y = run_nms(nms_boxes, 0, 0.5f, 0.0f, 0);
    expect_sel(y, 0, NULL);
    nt_tensor_free(y);
    /* center-point boxes: (xc, yc, w, h) of the same boxes */
    float cb[24];
    for (int i = 0; i < 6; i++) {
        const float *b = nms_boxes + i * 4; /* y1 x1 y2 x2 */
        cb[i * 4 + 0] = (b[1] + b[3]) / 2;
        cb[i * 4 + 1] = (b[0] + b[2]) / 2;
        cb[i * 4 + 2] = b[3] - b[1];
        cb[i * 4 + 3] = b[2] - b[0];
    }
    y = run_nms(cb, 3, 0.5f, 0.0f, 1);
    expect_sel(y, 3, (const int64_t[]){3, 0, 5});
    nt_tensor_free(y);
}

/* DFT of an impulse at n = 1 is e^{-2 pi i k / N}; rfft then irfft returns
 * the signal; forward then inverse (complex) returns it too. */
static void test_dft(void **st)
{
    (void)st;
    const float x[8] = {0, 1, 0, 0, 0, 0, 0, 0};
    int64_t dx[3] = {1, 8, 1};
    nt_tensor *in[1] = {mkf(3, dx, x)};
    tnode t;
    tn_init(&t, "DFT");
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 17, 1, in, 1, &y, NULL), NT_OK);
    float want[16];
    for (int k = 0; k < 8; k++) {
        want[2 * k] = (float)cos(2 * M_PI * k / 8);
        want[2 * k + 1] = (float)-sin(2 * M_PI * k / 8);
    }
    int64_t dy[3] = {1, 8, 2};
    expect_close(y, 3, dy, want, 1e-6);

    /* inverse of that spectrum gives the impulse back (complex form) */
    nt_tensor *in2[1] = {y};
    tnode u;
    tn_init(&u, "DFT");
    a_int(&u, "inverse", 1);
    nt_tensor *z;
    assert_int_equal(tn_run(&u, 17, 1, in2, 1, &z, NULL), NT_OK);
    const float back[16] = {0, 0, 1, 0};
    expect_close(z, 3, dy, back, 1e-6);
    nt_tensor_free(z);
    nt_tensor_free(y);

    /* rfft (opset 20, axis input -2) then irfft */
    const int64_t axis[1] = {-2};
    const float sig[6] = {1, -2, 3.5f, 0.25f, 7, -1};
    int64_t ds[3] = {1, 6, 1};
    nt_tensor *in3[3] = {mkf(3, ds, sig), NULL, mk(NT_DTYPE_INT64, 0, NULL, axis)};
    tnode r;
    tn_init(&r, "DFT");
    a_int(&r, "onesided", 1);
    assert_int_equal(tn_run(&r, 20, 3, in3, 1, &y, NULL), NT_OK);
    assert_int_equal(y->dims[1], 4);
    nt_tensor *in4[3] = {y, NULL, in3[2]};
    tnode ir;
    tn_init(&ir, "DFT");
    a_int(&ir, "onesided", 1);
    a_int(&ir, "inverse", 1);
    assert_int_equal(tn_run(&ir, 20, 3, in4, 1, &z, NULL), NT_OK);
    expect_close(z, 3, ds, sig, 1e-5);
    nt_tensor_free(z);
    nt_tensor_free(y);
    free_all(in3, 3);
    free_all(in, 1);
}

/* Lengths that take the radix-2 (64) and Bluestein (100, 45) paths, both
 * directions on complex input, against a direct double sum. */
static void test_dft_fft_paths(void **st)
{
    (void)st;
    const int64_t lens[3] = {64, 100, 45};
    for (int li = 0; li < 3; li++)
        for (int inv = 0; inv < 2; inv++) {
            int64_t N = lens[li];
            float *x = malloc((size_t)N * 2 * sizeof(float)), *want = malloc((size_t)N * 2 * sizeof(float));
            assert_non_null(x);
            assert_non_null(want);
            for (int64_t n = 0; n < N; n++) {
                x[2 * n] = (float)sin(0.37 * (double)(n * n % 17)) + (float)(n % 5);
                x[2 * n + 1] = (float)cos(1.3 * (double)n) - 0.5f;
            }
            for (int64_t k = 0; k < N; k++) {
                double re = 0, im = 0, sg = inv ? 1 : -1;
                for (int64_t n = 0; n < N; n++) {
                    double a = sg * 2 * M_PI * (double)((k * n) % N) / (double)N;
                    re += x[2 * n] * cos(a) - x[2 * n + 1] * sin(a);
                    im += x[2 * n] * sin(a) + x[2 * n + 1] * cos(a);
                }
                want[2 * k] = (float)(inv ? re / (double)N : re);
                want[2 * k + 1] = (float)(inv ? im / (double)N : im);
            }
            int64_t dx[3] = {1, N, 2};
            nt_tensor *in[1] = {mkf(3, dx, x)};
            tnode t;
            tn_init(&t, "DFT");
            a_int(&t, "inverse", inv);
            nt_tensor *y;
            assert_int_equal(tn_run(&t, 17, 1, in, 1, &y, NULL), NT_OK);
            expect_close(y, 3, dx, want, 1e-5);
            nt_tensor_free(y);
            free_all(in, 1);
            free(x);
            free(want);
        }
}

/* STFT of a 10-sample ramp, frame 4, step 3, Hann window: 3 frames of 3
 * bins, against a direct sum. */
static void test_stft(void **st)
{
    (void)st;
    float x[10], win[4];
    for (int i = 0; i < 10; i++)
        x[i] = (float)(i * i % 7) - 2;
    for (int n = 0; n < 4; n++)
        win[n] = (float)(0.5 - 0.5 * cos(2 * M_PI * n / 4));
    const int64_t step[1] = {3};
    int64_t dx[3] = {1, 10, 1}, dw[1] = {4};
    nt_tensor *in[3] = {mkf(3, dx, x), mk(NT_DTYPE_INT64, 0, NULL, step), mkf(1, dw, win)};
    tnode t;
    tn_init(&t, "STFT");
    nt_tensor *y;
    assert_int_equal(tn_run(&t, 17, 3, in, 1, &y, NULL), NT_OK);
    float want[3 * 3 * 2];
    for (int f = 0; f < 3; f++)
        for (int k = 0; k < 3; k++) {
            double re = 0, im = 0;
            for (int n = 0; n < 4; n++) {
                double v = x[f * 3 + n] * win[n], a = -2 * M_PI * k * n / 4;
                re += v * cos(a);
                im += v * sin(a);
            }
            want[(f * 3 + k) * 2] = (float)re;
            want[(f * 3 + k) * 2 + 1] = (float)im;
        }
    int64_t dy[4] = {1, 3, 3, 2};
    expect_close(y, 4, dy, want, 1e-5);
    nt_tensor_free(y);
    free_all(in, 3);
}

/* Plan-time inference: data-dependent shapes stay unknown, known ones are
 * computed, unsupported dtypes are declined before running. */
static void test_misc_static_infer(void **st)
{
    (void)st;
    nt_tensor out[1];
    /* NonMaxSuppression: (num_selected, 3) is only known after running */
    nt_tensor boxes = {.dtype = NT_DTYPE_FLOAT, .ndim = 3, .dims = {1, 6, 4}};
    nt_tensor scores = {.dtype = NT_DTYPE_FLOAT, .ndim = 3, .dims = {1, 2, 6}};
    nt_tensor *nin[2] = {&boxes, &scores};
    tnode t;
    tn_init(&t, "NonMaxSuppression");
    assert_int_equal(tn_infer_static(&t, 11, 2, nin, 1, out), NT_OK);
    assert_int_equal(out[0].dtype, NT_DTYPE_INT64);
    assert_int_equal(out[0].ndim, -1);
    boxes.dtype = NT_DTYPE_DOUBLE;
    assert_int_equal(tn_infer_static(&t, 11, 2, nin, 1, out), NT_ERR_UNSUPPORTED);

    /* a window whose size is not a constant: rank 1, length unknown */
    nt_tensor size = {.dtype = NT_DTYPE_INT64, .ndim = 0};
    nt_tensor *win[1] = {&size};
    tn_init(&t, "HannWindow");
    assert_int_equal(tn_infer_static(&t, 17, 1, win, 1, out), NT_OK);
    assert_int_equal(out[0].ndim, 1);
    assert_int_equal(out[0].dims[0], -1);

    /* GridSample with an unknown batch and output height */
    nt_tensor x = {.dtype = NT_DTYPE_FLOAT, .ndim = 4, .dims = {-1, 3, 8, 8}};
    nt_tensor g = {.dtype = NT_DTYPE_FLOAT, .ndim = 4, .dims = {-1, -1, 5, 2}};
    nt_tensor *gin[2] = {&x, &g};
    tn_init(&t, "GridSample");
    assert_int_equal(tn_infer_static(&t, 16, 2, gin, 1, out), NT_OK);
    assert_int_equal(out[0].ndim, 4);
    assert_int_equal(out[0].dims[1], 3);
    assert_int_equal(out[0].dims[2], -1);
    assert_int_equal(out[0].dims[3], 5);

    /* DFT (opset 20) whose axis input is not a constant: unknown shape */
    nt_tensor sig = {.dtype = NT_DTYPE_FLOAT, .ndim = 3, .dims = {2, 16, 1}};
    nt_tensor axis = {.dtype = NT_DTYPE_INT64, .ndim = 0};
    nt_tensor *din[3] = {&sig, NULL, &axis};
    tn_init(&t, "DFT");
    assert_int_equal(tn_infer_static(&t, 20, 3, din, 1, out), NT_OK);
    assert_int_equal(out[0].ndim, -1);
    assert_int_equal(out[0].dtype, NT_DTYPE_FLOAT);
    /* ... and with the default axis (-2) the shape is known */
    assert_int_equal(tn_infer_static(&t, 20, 1, din, 1, out), NT_OK);
    assert_int_equal(out[0].ndim, 3);
    assert_int_equal(out[0].dims[1], 16);
    assert_int_equal(out[0].dims[2], 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_det),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_mel_weight_matrix),
        cmocka_unit_test(test_gridsample_identity_and_padding),
        cmocka_unit_test(test_gridsample_volumetric),
        cmocka_unit_test(test_roialign),
        cmocka_unit_test(test_nms),
        cmocka_unit_test(test_dft),
        cmocka_unit_test(test_dft_fft_paths),
        cmocka_unit_test(test_stft),
        cmocka_unit_test(test_misc_static_infer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
