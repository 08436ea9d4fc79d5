/*
 * misc_dft.c — DFT (17: axis attribute, default 1; 20: axis input, default
 * -2) and STFT (17).
 *
 * DFT input is (..., L at axis, ..., c) with c = 1 (real) or 2 (complex as
 * [re, im]); the transform length N is dft_length or L (the signal is
 * zero-padded or truncated to N).  Output:
 *   forward             (..., N or N/2+1 when onesided, ..., 2)
 *   inverse             (..., N, ..., 2), scaled by 1/N
 *   inverse + onesided  (..., N, ..., 1): the real inverse of a half
 *                       spectrum (numpy's irfft), N defaulting to 2*(L-1).
 * STFT: signal (B, L, c), frame_step, optional window (F) and frame_length;
 * Y (B, frames, F/2+1 when onesided else F, 2) with frames = (L-F)/step + 1,
 * each frame multiplied by the window then transformed.
 *
 * The transforms run in double: direct sums for short lengths, a radix-2
 * FFT for powers of two and Bluestein's algorithm for other lengths (see
 * dft_plan), so audio front ends with n_fft 400 or 512 stay O(N log N).
 */
#include "ops/misc_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- transforms */

/*
 * A transform of one length N, reused for every line of a tensor:
 *   N <= 32          direct sum with an exact twiddle table (k*n mod N)
 *   N a power of 2   iterative radix-2 FFT
 *   otherwise        Bluestein's chirp-z: a circular convolution of length
 *                    M >= 2N-1 (a power of 2) done with two radix-2 FFTs
 * All in double.
 */
typedef struct dft_plan {
    int64_t N, M;          /* transform length; FFT length (radix-2 / Bluestein) */
    int kind;              /* 0 direct, 1 radix-2, 2 Bluestein */
    double *tw;            /* direct: cos, sin of 2 pi j / N (2N); FFT: of 2 pi j / M (M) */
    double *chirp;         /* Bluestein: w_n = e^{-i pi n^2 / N} as (re, im) pairs, N of them */
    double *bf;            /* Bluestein: FFT of the conjugate chirp, (re[M], im[M]) */
    double *work;          /* 4M (or 2N) doubles */
} dft_plan;

static void dft_plan_free(dft_plan *p)
{
    if (!p)
        return;
    free(p->tw);
    free(p->chirp);
    free(p->bf);
    free(p->work);
    free(p);
}

/* In-place radix-2 FFT of (re, im)[M] with e^{sign 2 pi i jk / M}; tw holds
 * cos (M/2) then sin (M/2) of 2 pi j / M. */
static void fft_radix2(double *re, double *im, int64_t M, const double *tw, double sign)
{
    for (int64_t i = 1, j = 0; i < M; i++) { /* bit reversal */
        int64_t bit = M >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            double t = re[i];
            re[i] = re[j], re[j] = t;
            t = im[i];
            im[i] = im[j], im[j] = t;
        }
    }
    for (int64_t len = 2; len <= M; len <<= 1) {
        int64_t half = len >> 1, step = M / len;
        for (int64_t i = 0; i < M; i += len)
            for (int64_t k = 0; k < half; k++) {
                double c = tw[k * step], s = sign * tw[M / 2 + k * step];
                double *ur = re + i + k, *ui = im + i + k, *vr = ur + half, *vi = ui + half;
                double xr = *vr * c - *vi * s, xi = *vr * s + *vi * c;
                *vr = *ur - xr, *vi = *ui - xi;
                *ur += xr, *ui += xi;
            }
    }
}

static dft_plan *dft_plan_new(int64_t N)
{
    dft_plan *p = nt_calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->N = N;
    bool pow2 = N > 0 && (N & (N - 1)) == 0;
    p->kind = N <= 32 ? 0 : (pow2 ? 1 : 2);
    if (p->kind == 0) {
        p->tw = nt_malloc((size_t)(2 * N) * sizeof(double));
        if (!p->tw)
            goto fail;
        for (int64_t j = 0; j < N; j++) {
            double a = 2.0 * M_PI * (double)j / (double)N;
            p->tw[j] = cos(a);
            p->tw[N + j] = sin(a);
        }
        return p;
    }
    p->M = N;
    if (p->kind == 2)
        for (p->M = 1; p->M < 2 * N - 1; p->M <<= 1)
            ;
    int64_t M = p->M;
    p->tw = nt_malloc((size_t)M * sizeof(double));
    p->work = nt_malloc((size_t)(4 * M) * sizeof(double));
    if (!p->tw || !p->work)
        goto fail;
    for (int64_t j = 0; j < M / 2; j++) {
        double a = 2.0 * M_PI * (double)j / (double)M;
        p->tw[j] = cos(a);
        p->tw[M / 2 + j] = sin(a);
    }
    if (p->kind == 2) {
        p->chirp = nt_malloc((size_t)(2 * N) * sizeof(double));
        p->bf = nt_calloc((size_t)(2 * M), sizeof(double));
        if (!p->chirp || !p->bf)
            goto fail;
        for (int64_t n = 0; n < N; n++) {
            /* pi n^2 / N with n^2 reduced mod 2N keeps the angle exact-ish */
            double a = M_PI * (double)((n * n) % (2 * N)) / (double)N;
            p->chirp[2 * n] = cos(a);
            p->chirp[2 * n + 1] = -sin(a);
        }
        double *br = p->bf, *bi = p->bf + M;
        for (int64_t n = 0; n < N; n++) { /* conj(w) at m and M - m */
            br[n] = p->chirp[2 * n], bi[n] = -p->chirp[2 * n + 1];
            if (n > 0)
                br[M - n] = br[n], bi[M - n] = bi[n];
        }
        fft_radix2(br, bi, M, p->tw, -1.0);
    }
    return p;
fail:
    dft_plan_free(p);
    return NULL;
}

/* out[k] = sum_{n<N} in[n] e^{-+2 pi i k n / N} for k < nout, in zero past
 * n_in (truncated past N); forward (-) or inverse (+, unscaled). */
static void dft_run(dft_plan *p, const double *re, const double *im, int64_t n_in, int64_t nout, bool inverse,
                    double *ore, double *oim)
{
    int64_t N = p->N, n_use = n_in < N ? n_in : N;
    double sg = inverse ? 1.0 : -1.0;
    if (p->kind == 0) {
        for (int64_t k = 0; k < nout; k++) {
            double sr = 0, si = 0;
            for (int64_t n = 0; n < n_use; n++) {
                int64_t j = (k * n) % N;
                double c = p->tw[j], s = sg * p->tw[N + j];
                sr += re[n] * c - im[n] * s;
                si += re[n] * s + im[n] * c;
            }
            ore[k] = sr;
            oim[k] = si;
        }
        return;
    }
    int64_t M = p->M;
    double *wr = p->work, *wi = p->work + M;
    memset(wr, 0, (size_t)(2 * M) * sizeof(double));
    if (p->kind == 1) {
        memcpy(wr, re, (size_t)n_use * sizeof(double));
        memcpy(wi, im, (size_t)n_use * sizeof(double));
        fft_radix2(wr, wi, M, p->tw, sg);
        memcpy(ore, wr, (size_t)nout * sizeof(double));
        memcpy(oim, wi, (size_t)nout * sizeof(double));
        return;
    }
    /* Bluestein: the inverse is the forward transform of the conjugate,
     * conjugated back */
    double cj = inverse ? -1.0 : 1.0;
    for (int64_t n = 0; n < n_use; n++) { /* a_n = x_n w_n */
        double xr = re[n], xi = cj * im[n], cr = p->chirp[2 * n], ci = p->chirp[2 * n + 1];
        wr[n] = xr * cr - xi * ci;
        wi[n] = xr * ci + xi * cr;
    }
    fft_radix2(wr, wi, M, p->tw, -1.0);
    const double *br = p->bf, *bi = p->bf + M;
    for (int64_t m = 0; m < M; m++) {
        double xr = wr[m] * br[m] - wi[m] * bi[m], xi = wr[m] * bi[m] + wi[m] * br[m];
        wr[m] = xr, wi[m] = xi;
    }
    fft_radix2(wr, wi, M, p->tw, 1.0);
    double inv = 1.0 / (double)M;
    for (int64_t k = 0; k < nout; k++) { /* X_k = w_k C_k / M */
        double cr = wr[k] * inv, ci = wi[k] * inv, hr = p->chirp[2 * k], hi = p->chirp[2 * k + 1];
        ore[k] = cr * hr - ci * hi;
        oim[k] = cj * (cr * hi + ci * hr);
    }
}

/* Reads an optional scalar integer input; false if absent. */
static bool dft_scalar(const nt_tensor *t, int64_t *v)
{
    if (!t || !t->data || nt_tensor_numel(t) != 1)
        return false;
    return nt_tensor_read_ints(t, v, 1) == 1;
}

/* The DFT's parameters, from attributes, inputs and the input shape. */
typedef struct dft_cfg {
    int axis;
    bool inverse, onesided, irfft;
    int64_t L, N, nout;        /* input length at axis, transform length, output length at axis */
    bool n_known;
} dft_cfg;

static nt_status dft_config(const nt_kernel_ctx *ctx, const nt_tensor *x, dft_cfg *c)
{
    memset(c, 0, sizeof *c);
    int64_t axis = 1;
    if (ctx->opset >= 20) {
        axis = -2;
        const nt_tensor *ax = nt_ctx_in(ctx, 2);
        if (ax && !dft_scalar(ax, &axis)) {
            if (nt_ctx_data_unknown(ctx, 2))
                return NT_ERR_NOT_FOUND; /* caller marks the output unknown */
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis must be an integer scalar");
        }
    } else {
        axis = nt_node_attr_int(ctx->node, "axis", 1);
    }
    int r = x->ndim;
    if (axis < 0)
        axis += r;
    if (r < 2 || axis < 0 || axis > r - 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis out of range for rank %d", r);
    c->axis = (int)axis;
    c->inverse = nt_node_attr_int(ctx->node, "inverse", 0) != 0;
    c->onesided = nt_node_attr_int(ctx->node, "onesided", 0) != 0;
    c->irfft = c->inverse && c->onesided;
    c->L = x->dims[axis];
    const nt_tensor *dl = nt_ctx_in(ctx, 1);
    int64_t n = 0;
    if (dl && !dft_scalar(dl, &n)) {
        if (nt_ctx_data_unknown(ctx, 1))
            return NT_ERR_NOT_FOUND;
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "dft_length must be an integer scalar");
    }
    if (dl) {
        if (n <= 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "dft_length must be positive");
        c->N = n;
    } else if (c->L < 0) {
        c->N = -1;
    } else {
        c->N = c->irfft ? 2 * (c->L - 1) : c->L;
    }
    if (c->N == 0 || (c->irfft && c->N < 0 && c->L >= 0))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "transform length must be positive");
    c->nout = c->N < 0 ? -1 : (c->onesided && !c->inverse ? c->N / 2 + 1 : c->N);
    return NT_OK;
}

nt_status nt_dft_infer(nt_kernel_ctx *ctx)
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
    dft_cfg c;
    nt_status s = dft_config(ctx, x, &c);
    if (s == NT_ERR_NOT_FOUND) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    if (s != NT_OK)
        return s;
    int64_t last = x->dims[x->ndim - 1];
    if (last >= 0 && last != 1 && last != 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "last dimension must be 1 (real) or 2 (complex), is %lld",
                            (long long)last);
    int64_t dims[NT_MAX_DIMS];
    memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->ndim);
    dims[c.axis] = c.nout;
    dims[x->ndim - 1] = c.irfft ? 1 : 2;
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, dims);
}

nt_status nt_dft_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    dft_cfg c;
    nt_status s = dft_config(ctx, x, &c);
    if (s != NT_OK)
        return s;
    int r = x->ndim;
    int64_t O = 1, In = 1, ci = x->dims[r - 1], co = c.irfft ? 1 : 2;
    for (int d = 0; d < c.axis; d++)
        O *= x->dims[d];
    for (int d = c.axis + 1; d < r - 1; d++)
        In *= x->dims[d];
    int64_t N = c.N, L = c.L;
    double *buf = nt_malloc((size_t)(2 * N + 2 * (L > N ? L : N) + 2) * sizeof(double));
    dft_plan *plan = dft_plan_new(N);
    if (!buf || !plan) {
        free(buf);
        dft_plan_free(plan);
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "out of memory");
    }
    int64_t M = L > N ? L : N;
    double *re = buf, *im = buf + M, *ore = buf + 2 * M, *oim = ore + N;
    double scale = c.inverse ? 1.0 / (double)N : 1.0;
    for (int64_t o = 0; o < O; o++)
        for (int64_t in = 0; in < In; in++) {
            for (int64_t l = 0; l < L; l++) {
                int64_t e = ((o * L + l) * In + in) * ci;
                re[l] = nt_misc_getf(x, e);
                im[l] = ci == 2 ? nt_misc_getf(x, e + 1) : 0.0;
            }
            int64_t n_in = L;
            if (c.irfft) {
                /* rebuild the full Hermitian spectrum from bins [0, N/2] */
                int64_t half = N / 2 + 1, have = L < half ? L : half;
                for (int64_t k = have; k < N; k++) {
                    int64_t m = N - k;
                    bool mirror = k >= half && m < have;
                    re[k] = mirror ? re[m] : 0.0;
                    im[k] = mirror ? -im[m] : 0.0;
                }
                n_in = N;
            }
            dft_run(plan, re, im, n_in, c.nout, c.inverse, ore, oim);
            for (int64_t k = 0; k < c.nout; k++) {
                int64_t e = ((o * c.nout + k) * In + in) * co;
                nt_misc_setf(y, e, ore[k] * scale);
                if (co == 2)
                    nt_misc_setf(y, e + 1, oim[k] * scale);
            }
        }
    free(buf);
    dft_plan_free(plan);
    return NT_OK;
}

/* ---------------------------------------------------------------- STFT */

/* Frame length from window (1-D) or frame_length; -1 when not known yet. */
static nt_status stft_frame(const nt_kernel_ctx *ctx, int64_t *fl)
{
    const nt_tensor *win = nt_ctx_in(ctx, 2), *fli = nt_ctx_in(ctx, 3);
    *fl = -1;
    int64_t v;
    if (fli && dft_scalar(fli, &v))
        *fl = v;
    else if (fli && !nt_ctx_data_unknown(ctx, 3))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "frame_length must be an integer scalar");
    if (win) {
        if (win->ndim >= 0 && win->ndim != 1)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "window must be 1-D");
        int64_t w = win->ndim == 1 ? win->dims[0] : -1;
        if (*fl >= 0 && w >= 0 && *fl != w)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "frame_length %lld differs from the window's %lld",
                                (long long)*fl, (long long)w);
        if (w >= 0)
            *fl = w;
    }
    if (!win && !fli)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "either window or frame_length is required");
    return NT_OK;
}

nt_status nt_stft_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0), *step = nt_ctx_in(ctx, 1), *win = nt_ctx_in(ctx, 2);
    if (!x || !step)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "signal and frame_step are required");
    if (!nt_misc_float_ok(x->dtype) || (win && win->dtype != x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s not supported", nt_dtype_name(x->dtype));
    bool onesided = nt_node_attr_int(ctx->node, "onesided", 1) != 0;
    if (x->ndim >= 0 && x->ndim != 3)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "signal must be (batch, length, 1 or 2)");
    if (x->ndim == 3 && x->dims[2] == 2 && onesided)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "onesided needs a real signal");
    int64_t fl, st = -1;
    nt_status s = stft_frame(ctx, &fl);
    if (s != NT_OK)
        return s;
    if (dft_scalar(step, &st) && st <= 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "frame_step must be positive");
    int64_t B = x->ndim == 3 ? x->dims[0] : -1, L = x->ndim == 3 ? x->dims[1] : -1;
    int64_t frames = -1, bins = -1;
    if (fl > 0 && st > 0 && L >= 0) {
        if (fl > L)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "frame length %lld exceeds the signal's %lld", (long long)fl,
                                (long long)L);
        frames = (L - fl) / st + 1;
    }
    if (fl == 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "frame length must be positive");
    if (fl > 0)
        bins = onesided ? fl / 2 + 1 : fl;
    int64_t dims[4] = {B, frames, bins, 2};
    return nt_ctx_set_output(ctx, 0, x->dtype, 4, dims);
}

nt_status nt_stft_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *win = nt_ctx_in(ctx, 2);
    nt_tensor *y = ctx->out[0];
    int64_t fl, st;
    nt_status s = stft_frame(ctx, &fl);
    if (s != NT_OK)
        return s;
    if (!dft_scalar(ctx->in[1], &st))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "frame_step must be an integer scalar");
    int64_t B = x->dims[0], L = x->dims[1], c = x->dims[2], frames = y->dims[1], bins = y->dims[2];
    double *buf = nt_malloc((size_t)(4 * fl + 1) * sizeof(double));
    dft_plan *plan = dft_plan_new(fl);
    if (!buf || !plan) {
        free(buf);
        dft_plan_free(plan);
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "out of memory");
    }
    double *re = buf, *im = buf + fl, *ore = buf + 2 * fl, *oim = buf + 3 * fl;
    for (int64_t b = 0; b < B; b++)
        for (int64_t f = 0; f < frames; f++) {
            for (int64_t n = 0; n < fl; n++) {
                int64_t e = (b * L + f * st + n) * c;
                double w = win ? nt_misc_getf(win, n) : 1.0;
                re[n] = nt_misc_getf(x, e) * w;
                im[n] = c == 2 ? nt_misc_getf(x, e + 1) * w : 0.0;
            }
            dft_run(plan, re, im, fl, bins, false, ore, oim);
            for (int64_t k = 0; k < bins; k++) {
                int64_t e = ((b * frames + f) * bins + k) * 2;
                nt_misc_setf(y, e, ore[k]);
                nt_misc_setf(y, e + 1, oim[k]);
            }
        }
    free(buf);
    dft_plan_free(plan);
    return NT_OK;
}
