/*
 * misc.c — operator family "misc": cheap, deterministic operators that fit
 * no other family.  This file holds Det, the window functions (Hann,
 * Hamming, Blackman), MelWeightMatrix and the family table; GridSample and
 * RoiAlign are in misc_grid.c, NonMaxSuppression in misc_nms.c, DFT and
 * STFT in misc_dft.c.
 *
 * Random generators (RandomNormal, Bernoulli, ...) and Optional/Sequence
 * operators are deliberately not registered: the former cannot be checked
 * against references, the latter are not tensors.
 */
#include "ops/misc_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Det */

/* Y (...) from X (..., M, M). */
static nt_status det_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "missing input");
    if (!nt_misc_float_ok(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s not supported", nt_dtype_name(x->dtype));
    if (x->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    int r = x->ndim;
    if (r < 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must have rank >= 2");
    if (x->dims[r - 1] >= 0 && x->dims[r - 2] >= 0 && x->dims[r - 1] != x->dims[r - 2])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "matrices must be square, are %lld x %lld",
                            (long long)x->dims[r - 2], (long long)x->dims[r - 1]);
    return nt_ctx_set_output(ctx, 0, x->dtype, r - 2, x->dims);
}

/* Determinant by LU decomposition with partial pivoting, in double; a
 * (M, M) is destroyed. */
static double det_lu(double *a, int64_t M)
{
    double det = 1;
    for (int64_t k = 0; k < M; k++) {
        int64_t p = k;
        for (int64_t i = k + 1; i < M; i++)
            if (fabs(a[i * M + k]) > fabs(a[p * M + k]))
                p = i;
        if (a[p * M + k] == 0)
            return 0;
        if (p != k) {
            for (int64_t j = 0; j < M; j++) {
                double t = a[k * M + j];
                a[k * M + j] = a[p * M + j];
                a[p * M + j] = t;
            }
            det = -det;
        }
        double piv = a[k * M + k];
        det *= piv;
        for (int64_t i = k + 1; i < M; i++) {
            double f = a[i * M + k] / piv;
            for (int64_t j = k + 1; j < M; j++)
                a[i * M + j] -= f * a[k * M + j];
        }
    }
    return det;
}

static nt_status det_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t M = x->dims[x->ndim - 1], B = nt_tensor_numel(y);
    double *a = nt_malloc((size_t)(M * M > 0 ? M * M : 1) * sizeof(double));
    if (!a)
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "out of memory");
    for (int64_t b = 0; b < B; b++) {
        for (int64_t i = 0; i < M * M; i++)
            a[i] = nt_misc_getf(x, b * M * M + i);
        nt_misc_setf(y, b, det_lu(a, M));
    }
    free(a);
    return NT_OK;
}

/* ---------------------------------------------------------------- windows */

/* Whether dt is a float type this family writes; output_datatype checks. */
static nt_status misc_out_dtype(const nt_kernel_ctx *ctx, nt_dtype *dt)
{
    int64_t v = nt_node_attr_int(ctx->node, "output_datatype", NT_DTYPE_FLOAT);
    if (v <= 0 || v >= NT_DTYPE_COUNT || !nt_misc_float_ok((nt_dtype)v))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "output_datatype %lld not supported", (long long)v);
    *dt = (nt_dtype)v;
    return NT_OK;
}

/* Reads scalar integer input i into *v; false (no error) when its data is
 * unknown at plan time. */
static bool misc_scalar_int(const nt_kernel_ctx *ctx, int i, int64_t *v, nt_status *err)
{
    const nt_tensor *t = nt_ctx_in(ctx, i);
    *err = NT_OK;
    if (!t) {
        *err = nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is required", i);
        return false;
    }
    if (t->dtype != NT_DTYPE_INT32 && t->dtype != NT_DTYPE_INT64) {
        *err = nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input %d dtype %s not supported", i, nt_dtype_name(t->dtype));
        return false;
    }
    if (nt_ctx_data_unknown(ctx, i) || !t->data)
        return false;
    if (nt_tensor_numel(t) != 1) {
        *err = nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d must be a scalar", i);
        return false;
    }
    return nt_tensor_read_ints(t, v, 1) == 1;
}

/* Y (size) of output_datatype. */
static nt_status window_infer(nt_kernel_ctx *ctx)
{
    nt_dtype dt;
    nt_status s = misc_out_dtype(ctx, &dt);
    if (s != NT_OK)
        return s;
    int64_t n = -1;
    if (misc_scalar_int(ctx, 0, &n, &s)) {
        if (n < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "window size %lld is negative", (long long)n);
    } else if (s != NT_OK) {
        return s;
    } else if (!ctx->static_mode) {
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "window size must be an integer scalar");
    }
    return nt_ctx_set_output(ctx, 0, dt, 1, &n);
}

typedef enum { WIN_HANN, WIN_HAMMING, WIN_BLACKMAN } win_kind;

/* y[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size (periodic)
 * or size - 1 (symmetric); a single-sample symmetric window is 1. */
static nt_status window_compute(nt_kernel_ctx *ctx, win_kind kind)
{
    nt_tensor *y = ctx->out[0];
    int64_t size = y->dims[0];
    bool periodic = nt_node_attr_int(ctx->node, "periodic", 1) != 0;
    double a0, a1, a2 = 0;
    switch (kind) {
    case WIN_HANN: a0 = 0.5, a1 = 0.5; break;
    case WIN_HAMMING: a0 = 25.0 / 46.0, a1 = 21.0 / 46.0; break;
    default: a0 = 0.42, a1 = 0.5, a2 = 0.08; break;
    }
    double N = (double)(periodic ? size : size - 1);
    for (int64_t n = 0; n < size; n++) {
        double v = 1.0;
        if (N > 0) {
            double t = 2.0 * M_PI * (double)n / N;
            v = a0 - a1 * cos(t) + a2 * cos(2.0 * t);
        }
        nt_misc_setf(y, n, v);
    }
    return NT_OK;
}

static nt_status hann_compute(nt_kernel_ctx *ctx) { return window_compute(ctx, WIN_HANN); }
static nt_status hamming_compute(nt_kernel_ctx *ctx) { return window_compute(ctx, WIN_HAMMING); }
static nt_status blackman_compute(nt_kernel_ctx *ctx) { return window_compute(ctx, WIN_BLACKMAN); }

/* ---------------------------------------------------------------- MelWeightMatrix */

/* Y (dft_length/2 + 1, num_mel_bins) of output_datatype. */
static nt_status mel_infer(nt_kernel_ctx *ctx)
{
    nt_dtype dt;
    nt_status s = misc_out_dtype(ctx, &dt);
    if (s != NT_OK)
        return s;
    for (int i = 3; i < 5; i++) {
        const nt_tensor *t = nt_ctx_in(ctx, i);
        if (!t)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is required", i);
        if (!nt_misc_float_ok(t->dtype))
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input %d dtype %s not supported", i,
                                nt_dtype_name(t->dtype));
    }
    int64_t bins = -1, dft = -1, sr = -1;
    if (!misc_scalar_int(ctx, 0, &bins, &s) && s != NT_OK)
        return s;
    if (!misc_scalar_int(ctx, 1, &dft, &s) && s != NT_OK)
        return s;
    if (!misc_scalar_int(ctx, 2, &sr, &s) && s != NT_OK)
        return s;
    if ((bins != -1 && bins <= 0) || (dft != -1 && dft <= 0) || (sr != -1 && sr <= 0))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "num_mel_bins, dft_length and sample_rate must be positive");
    int64_t dims[2] = {dft < 0 ? -1 : dft / 2 + 1, bins};
    return nt_ctx_set_output(ctx, 0, dt, 2, dims);
}

/* Triangular filters between mel-spaced edges, following the ONNX
 * reference: num_mel_bins + 2 points evenly spaced in mel (the step is the
 * range over num_mel_bins + 2), mapped back to hertz and to spectrogram bins
 * floor((dft_length + 1) * hz / sample_rate). */
static nt_status mel_compute(nt_kernel_ctx *ctx)
{
    nt_tensor *y = ctx->out[0];
    int64_t bins, dft, sr;
    nt_status s;
    if (!misc_scalar_int(ctx, 0, &bins, &s) || !misc_scalar_int(ctx, 1, &dft, &s) ||
        !misc_scalar_int(ctx, 2, &sr, &s))
        return s != NT_OK ? s : nt_ctx_error(ctx, NT_ERR_SHAPE, "integer scalars expected");
    int64_t nspec = dft / 2 + 1;
    /* the reference forms the mel edges in float32 (scalar inputs) */
    float lo = (float)nt_misc_getf(ctx->in[3], 0), hi = (float)nt_misc_getf(ctx->in[4], 0);
    float lo_mel = 2595.0f * log10f(1.0f + lo / 700.0f), hi_mel = 2595.0f * log10f(1.0f + hi / 700.0f);
    double step = (double)((hi_mel - lo_mel) / (float)(bins + 2));
    int64_t *fb = nt_malloc((size_t)(bins + 2) * sizeof(int64_t));
    if (!fb)
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < bins + 2; i++) {
        double mel = (double)i * step + (double)lo_mel;
        double hz = 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
        fb[i] = (int64_t)floor((double)(dft + 1) * hz / (double)sr);
        if (fb[i] < 0 || fb[i] >= nspec) {
            int64_t v = fb[i];
            free(fb);
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "mel edge %lld falls on bin %lld outside [0, %lld)",
                                (long long)i, (long long)v, (long long)nspec);
        }
    }
    for (int64_t i = 0; i < nspec * bins; i++)
        nt_misc_setf(y, i, 0.0);
    for (int64_t m = 0; m < bins; m++) {
        int64_t l = fb[m], c = fb[m + 1], h = fb[m + 2];
        if (c == l)
            nt_misc_setf(y, c * bins + m, 1.0);
        else
            for (int64_t j = l; j <= c; j++)
                nt_misc_setf(y, j * bins + m, (double)(j - l) / (double)(c - l));
        for (int64_t j = c; j < h; j++)
            nt_misc_setf(y, j * bins + m, (double)(h - j) / (double)(h - c));
    }
    free(fb);
    return NT_OK;
}

/* ---------------------------------------------------------------- table */

/* Since-versions: Det 11 (22 adds bfloat16); windows and MelWeightMatrix 17;
 * GridSample 16 (4-D, bilinear/bicubic), 20 (N-D, linear/cubic), 22
 * (bfloat16); RoiAlign 10, 16 (coordinate_transformation_mode), 22;
 * NonMaxSuppression 10, 11; DFT 17 (axis attribute), 20 (axis input);
 * STFT 17. */
const nt_op_def nt_ops_misc[] = {
    {"Det", "", 11, NULL, NULL, det_infer, det_compute},
    {"Det", "", 22, NULL, NULL, det_infer, det_compute},
    {"HannWindow", "", 17, NULL, NULL, window_infer, hann_compute},
    {"HammingWindow", "", 17, NULL, NULL, window_infer, hamming_compute},
    {"BlackmanWindow", "", 17, NULL, NULL, window_infer, blackman_compute},
    {"MelWeightMatrix", "", 17, NULL, NULL, mel_infer, mel_compute},
    {"GridSample", "", 16, NULL, NULL, nt_gridsample_infer, nt_gridsample_compute},
    {"GridSample", "", 20, NULL, NULL, nt_gridsample_infer, nt_gridsample_compute},
    {"GridSample", "", 22, NULL, NULL, nt_gridsample_infer, nt_gridsample_compute},
    {"RoiAlign", "", 10, NULL, NULL, nt_roialign_infer, nt_roialign_compute},
    {"RoiAlign", "", 16, NULL, NULL, nt_roialign_infer, nt_roialign_compute},
    {"RoiAlign", "", 22, NULL, NULL, nt_roialign_infer, nt_roialign_compute},
    {"NonMaxSuppression", "", 10, NULL, NULL, nt_nms_infer, nt_nms_compute},
    {"NonMaxSuppression", "", 11, NULL, NULL, nt_nms_infer, nt_nms_compute},
    {"DFT", "", 17, NULL, NULL, nt_dft_infer, nt_dft_compute},
    {"DFT", "", 20, NULL, NULL, nt_dft_infer, nt_dft_compute},
    {"STFT", "", 17, NULL, NULL, nt_stft_infer, nt_stft_compute},
};
const size_t nt_ops_misc_count = NT_ARRAY_LEN(nt_ops_misc);
