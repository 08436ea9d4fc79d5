/*
 * misc_grid.c — sampling at computed positions: GridSample and RoiAlign.
 *
 * GridSample (16: 4-D only, modes bilinear/nearest/bicubic; 20: N-D, modes
 * renamed linear/nearest/cubic).  X is (N, C, D1..Dr), grid (N, O1..Or, r)
 * with normalized coordinates in [-1, 1] listed innermost dimension first
 * (x for W, then y for H, then z for D); Y is (N, C, O1..Or).  The
 * semantics follow the ONNX reference (itself PyTorch's):
 *   1. denormalize: align_corners ? (g+1)/2*(d-1) : ((g+1)*d-1)/2
 *   2. nearest rounds here, half to even (the corpus' 3-D expectations
 *      agree; some reference versions round half away from zero in 3-D)
 *   3. a coordinate outside [lo, hi] (align_corners ? [0, d-1] :
 *      [-0.5, d-0.5]) is clamped to [0, d-1] (border) or reflected into
 *      [lo, hi] (reflection)
 *   4. taps: 1 (nearest), 2 (linear) or 4 (cubic, Keys with A = -0.75) per
 *      dimension; a tap outside the input reads 0 (zeros), the clamped
 *      index (border) or the reflected index (reflection).
 * The separable interpolation is evaluated as one weighted sum over the
 * product of the per-dimension taps, computed once per output location and
 * reused for every channel.
 *
 * RoiAlign (10; 16 adds coordinate_transformation_mode, default half_pixel,
 * where opset 10 behaves as output_half_pixel): X (N, C, H, W), rois
 * (R, 4) as [x1, y1, x2, y2], batch_indices (R); Y (R, C, oh, ow).  Each
 * output bin averages (or maxes) sampling_ratio^2 (or an adaptive count of)
 * bilinear samples; max mode takes the largest weighted corner, as the
 * reference and ONNX Runtime do.
 */
#include "ops/misc_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { GS_LINEAR, GS_NEAREST, GS_CUBIC };
enum { GS_ZEROS, GS_BORDER, GS_REFLECTION };

#define GS_MAX_R (NT_MAX_DIMS - 2)

typedef struct gs_attrs {
    int mode, pad;
    bool align;
} gs_attrs;

static nt_status gs_attrs_read(const nt_kernel_ctx *ctx, gs_attrs *a)
{
    const char *mode = nt_node_attr_string(ctx->node, "mode", ctx->opset >= 20 ? "linear" : "bilinear");
    const char *pad = nt_node_attr_string(ctx->node, "padding_mode", "zeros");
    if (strcmp(mode, "bilinear") == 0 || strcmp(mode, "linear") == 0)
        a->mode = GS_LINEAR;
    else if (strcmp(mode, "nearest") == 0)
        a->mode = GS_NEAREST;
    else if (strcmp(mode, "bicubic") == 0 || strcmp(mode, "cubic") == 0)
        a->mode = GS_CUBIC;
    else
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "mode '%s' not supported", mode);
    if (strcmp(pad, "zeros") == 0)
        a->pad = GS_ZEROS;
    else if (strcmp(pad, "border") == 0)
        a->pad = GS_BORDER;
    else if (strcmp(pad, "reflection") == 0)
        a->pad = GS_REFLECTION;
    else
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "padding_mode '%s' not supported", pad);
    a->align = nt_node_attr_int(ctx->node, "align_corners", 0) != 0;
    return NT_OK;
}

/* Y (N, C, O1..Or) from X (N, C, D1..Dr) and grid (N, O1..Or, r). */
nt_status nt_gridsample_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0), *g = nt_ctx_in(ctx, 1);
    if (!x || !g)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X and grid are required");
    if (!nt_misc_float_ok(x->dtype) || !nt_misc_float_ok(g->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtypes %s, %s not supported", nt_dtype_name(x->dtype),
                            nt_dtype_name(g->dtype));
    gs_attrs a;
    nt_status s = gs_attrs_read(ctx, &a);
    if (s != NT_OK)
        return s;
    if (x->ndim < 0 || g->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    int r = x->ndim - 2;
    if (r < 1 || r > GS_MAX_R || g->ndim != x->ndim)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X rank %d and grid rank %d do not fit", x->ndim, g->ndim);
    if (ctx->opset < 20 && r != 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "GridSample before opset 20 takes 4-D input");
    if ((g->dims[r + 1] >= 0 && g->dims[r + 1] != r) || (x->dims[0] >= 0 && g->dims[0] >= 0 && x->dims[0] != g->dims[0]))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "grid must be (N, ..., %d)", r);
    int64_t dims[NT_MAX_DIMS];
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int i = 0; i < r; i++)
        dims[2 + i] = g->dims[1 + i];
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, dims);
}

/* Reflects v into [lo, hi] by folding at the nearer border repeatedly. */
static double gs_reflect(double v, double lo, double hi)
{
    double rng = hi - lo;
    if (rng <= 0)
        return lo;
    if (v < lo) {
        double dx = lo - v;
        int64_t n = (int64_t)(dx / rng);
        double r = dx - (double)n * rng;
        return n % 2 == 0 ? lo + r : hi - r;
    }
    if (v > hi) {
        double dx = v - hi;
        int64_t n = (int64_t)(dx / rng);
        double r = dx - (double)n * rng;
        return n % 2 == 0 ? hi - r : lo + r;
    }
    return v;
}

/* Maps tap index i of a dimension of size d through the padding mode;
 * -1 when the tap reads zero. */
static int64_t gs_tap(int64_t i, int64_t d, int pad, double lo, double hi)
{
    if (i >= 0 && i < d)
        return i;
    if (pad == GS_ZEROS)
        return -1;
    if (pad == GS_BORDER)
        return i < 0 ? 0 : d - 1;
    int64_t k = (int64_t)gs_reflect((double)i, lo, hi);
    return k < 0 ? 0 : (k >= d ? d - 1 : k);
}

/* Keys cubic convolution weights (A = -0.75) for fraction t in [0, 1). */
static void gs_cubic(float t, float w[4])
{
    const float A = -0.75f;
    float t1 = t + 1, u = 1 - t, u1 = 2 - t;
    w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * u - (A + 3)) * u * u + 1;
    w[3] = ((A * u1 - 5 * A) * u1 + 8 * A) * u1 - 4 * A;
}

/* What each nt_parallel_for chunk of GridSample needs. */
typedef struct gs_job {
    const nt_tensor *x, *g;
    nt_tensor *y;
    gs_attrs a;
    int r, ntap;
    int64_t C, in_sp, out_sp, ncomb;
    nt_status status;     /* NT_ERR_NOMEM from a chunk's scratch */
} gs_job;

/* Output locations [b, e) of the flattened (N, O1..Or) index. */
static void gs_range(void *arg, int64_t b, int64_t e)
{
    gs_job *jb = arg;
    const nt_tensor *x = jb->x, *g = jb->g;
    const gs_attrs a = jb->a;
    int r = jb->r, ntap = jb->ntap;
    int64_t C = jb->C, in_sp = jb->in_sp, out_sp = jb->out_sp, ncomb = jb->ncomb;
    int64_t *off = nt_malloc((size_t)ncomb * sizeof(int64_t));
    double *wt = nt_malloc((size_t)ncomb * sizeof(double));
    if (!off || !wt) {
        free(off);
        free(wt);
        jb->status = NT_ERR_NOMEM;
        return;
    }
    for (int64_t no = b; no < e; no++) {
        int64_t n = no / out_sp, o = no % out_sp;
        /* per spatial dim j (outermost first): taps idx[j][t], w[j][t] */
        int64_t idx[GS_MAX_R][4];
        float w[GS_MAX_R][4];
        for (int j = 0; j < r; j++) {
            int64_t d = x->dims[2 + j];
            float gn = (float)nt_misc_getf(g, no * r + (r - 1 - j));
            float v = a.align ? (gn + 1) / 2.0f * (float)(d - 1) : ((gn + 1) * (float)d - 1) / 2.0f;
            double lo = a.align ? 0.0 : -0.5, hi = a.align ? (double)d - 1 : (double)d - 0.5;
            if (a.mode == GS_NEAREST)
                v = nearbyintf(v);
            if (v < lo || v > hi) {
                if (a.pad == GS_BORDER)
                    v = v < 0 ? 0.0f : (v > (float)(d - 1) ? (float)(d - 1) : v);
                else if (a.pad == GS_REFLECTION)
                    v = (float)gs_reflect(v, lo, hi);
            }
            if (a.mode == GS_NEAREST) {
                idx[j][0] = gs_tap((int64_t)v, d, a.pad, lo, hi);
                w[j][0] = 1;
                continue;
            }
            float fl = floorf(v), t = v - fl;
            int64_t i0 = (int64_t)fl;
            if (a.mode == GS_LINEAR) {
                w[j][0] = 1 - t, w[j][1] = t;
                for (int k = 0; k < 2; k++)
                    idx[j][k] = gs_tap(i0 + k, d, a.pad, lo, hi);
            } else {
                gs_cubic(t, w[j]);
                for (int k = 0; k < 4; k++)
                    idx[j][k] = gs_tap(i0 - 1 + k, d, a.pad, lo, hi);
            }
        }
        /* expand the tap product into (offset, weight) pairs; -1 = zero */
        for (int64_t c = 0; c < ncomb; c++) {
            int64_t rem = c, of = 0, stride = 1;
            double ww = 1;
            for (int j = r - 1; j >= 0; j--) {
                int k = (int)(rem % ntap);
                rem /= ntap;
                if (idx[j][k] < 0 || of < 0)
                    of = -1;
                else
                    of += idx[j][k] * stride;
                ww *= w[j][k];
                stride *= x->dims[2 + j];
            }
            off[c] = of;
            wt[c] = ww;
        }
        for (int64_t ch = 0; ch < C; ch++) {
            int64_t base = (n * C + ch) * in_sp;
            double acc = 0;
            for (int64_t c = 0; c < ncomb; c++)
                if (off[c] >= 0)
                    acc += wt[c] * nt_misc_getf(x, base + off[c]);
            nt_misc_setf(jb->y, (n * C + ch) * out_sp + o, acc);
        }
    }
    free(off);
    free(wt);
}

nt_status nt_gridsample_compute(nt_kernel_ctx *ctx)
{
    gs_job jb = {0};
    jb.x = ctx->in[0], jb.g = ctx->in[1], jb.y = ctx->out[0];
    nt_status s = gs_attrs_read(ctx, &jb.a);
    if (s != NT_OK)
        return s;
    jb.r = jb.x->ndim - 2;
    jb.C = jb.x->dims[1];
    jb.in_sp = jb.out_sp = 1;
    for (int i = 0; i < jb.r; i++) {
        jb.in_sp *= jb.x->dims[2 + i];
        jb.out_sp *= jb.y->dims[2 + i];
    }
    jb.ntap = jb.a.mode == GS_NEAREST ? 1 : (jb.a.mode == GS_LINEAR ? 2 : 4);
    jb.ncomb = 1;
    for (int i = 0; i < jb.r; i++)
        jb.ncomb *= jb.ntap;
    int64_t total = jb.x->dims[0] * jb.out_sp;
    if (total > 0 && jb.C > 0)
        nt_parallel_for(ctx->exec, total, NT_MAX(1, 4096 / NT_MAX(1, jb.C * jb.ncomb)), gs_range, &jb);
    if (jb.status != NT_OK)
        return nt_ctx_error(ctx, jb.status, "out of memory");
    return NT_OK;
}

/* ---------------------------------------------------------------- RoiAlign */

/* Y (R, C, output_height, output_width). */
nt_status nt_roialign_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0), *rois = nt_ctx_in(ctx, 1), *bi = nt_ctx_in(ctx, 2);
    if (!x || !rois || !bi)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X, rois and batch_indices are required");
    if (!nt_misc_float_ok(x->dtype) || rois->dtype != x->dtype ||
        (bi->dtype != NT_DTYPE_INT64 && bi->dtype != NT_DTYPE_INT32))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtypes %s, %s, %s not supported", nt_dtype_name(x->dtype),
                            nt_dtype_name(rois->dtype), nt_dtype_name(bi->dtype));
    const char *mode = nt_node_attr_string(ctx->node, "mode", "avg");
    if (strcmp(mode, "avg") != 0 && strcmp(mode, "max") != 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "mode '%s' not supported", mode);
    const char *ctm = nt_node_attr_string(ctx->node, "coordinate_transformation_mode", "half_pixel");
    if (ctx->opset >= 16 && strcmp(ctm, "half_pixel") != 0 && strcmp(ctm, "output_half_pixel") != 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s'", ctm);
    int64_t oh = nt_node_attr_int(ctx->node, "output_height", 1), ow = nt_node_attr_int(ctx->node, "output_width", 1);
    if (oh <= 0 || ow <= 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "output size must be positive");
    if ((x->ndim >= 0 && x->ndim != 4) || (rois->ndim >= 0 && rois->ndim != 2) || (bi->ndim >= 0 && bi->ndim != 1))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "expected X (N, C, H, W), rois (R, 4), batch_indices (R)");
    if (!nt_ctx_shapes_unknown(ctx) && (rois->dims[1] != 4 || rois->dims[0] != bi->dims[0]))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "rois must be (R, 4) with R batch indices");
    int64_t dims[4] = {bi->ndim == 1 ? bi->dims[0] : -1, x->ndim == 4 ? x->dims[1] : -1, oh, ow};
    return nt_ctx_set_output(ctx, 0, x->dtype, 4, dims);
}

/* One bilinear sample: four (position, weight) pairs; all zero outside. */
typedef struct ra_sample {
    int64_t pos[4];
    double w[4];
} ra_sample;

static void ra_sample_at(double y, double x, int64_t H, int64_t W, ra_sample *s)
{
    memset(s, 0, sizeof *s);
    if (y < -1.0 || y > (double)H || x < -1.0 || x > (double)W)
        return;
    if (y <= 0)
        y = 0;
    if (x <= 0)
        x = 0;
    int64_t yl = (int64_t)y, xl = (int64_t)x, yh, xh;
    if (yl >= H - 1) {
        yh = yl = H - 1;
        y = (double)yl;
    } else {
        yh = yl + 1;
    }
    if (xl >= W - 1) {
        xh = xl = W - 1;
        x = (double)xl;
    } else {
        xh = xl + 1;
    }
    double ly = y - (double)yl, lx = x - (double)xl, hy = 1 - ly, hx = 1 - lx;
    s->pos[0] = yl * W + xl, s->w[0] = hy * hx;
    s->pos[1] = yl * W + xh, s->w[1] = hy * lx;
    s->pos[2] = yh * W + xl, s->w[2] = ly * hx;
    s->pos[3] = yh * W + xh, s->w[3] = ly * lx;
}

nt_status nt_roialign_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *rois = ctx->in[1], *bi = ctx->in[2];
    nt_tensor *y = ctx->out[0];
    bool is_max = strcmp(nt_node_attr_string(ctx->node, "mode", "avg"), "max") == 0;
    /* opset 10 had no attribute and behaved as output_half_pixel */
    bool half_pixel = ctx->opset >= 16 && strcmp(nt_node_attr_string(ctx->node, "coordinate_transformation_mode",
                                                                     "half_pixel"), "half_pixel") == 0;
    int64_t sr = nt_node_attr_int(ctx->node, "sampling_ratio", 0);
    double scale = nt_node_attr_float(ctx->node, "spatial_scale", 1.0f);
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t R = y->dims[0], oh = y->dims[2], ow = y->dims[3];
    if ((H <= 0 || W <= 0) && R * C > 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X has an empty spatial extent");
    for (int64_t r = 0; r < R; r++) {
        int64_t b = bi->dtype == NT_DTYPE_INT64 ? ((const int64_t *)bi->data)[r] : ((const int32_t *)bi->data)[r];
        if (b < 0 || b >= N)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "batch index %lld out of range [0, %lld)", (long long)b,
                                (long long)N);
        double off = half_pixel ? 0.5 : 0.0;
        double x0 = nt_misc_getf(rois, r * 4 + 0) * scale - off, y0 = nt_misc_getf(rois, r * 4 + 1) * scale - off;
        double x1 = nt_misc_getf(rois, r * 4 + 2) * scale - off, y1 = nt_misc_getf(rois, r * 4 + 3) * scale - off;
        double rw = x1 - x0, rh = y1 - y0;
        if (!half_pixel) { /* malformed ROIs are forced to 1x1 */
            rw = rw > 1 ? rw : 1;
            rh = rh > 1 ? rh : 1;
        }
        double bh = rh / (double)oh, bw = rw / (double)ow;
        int64_t gh = sr > 0 ? sr : (int64_t)ceil(rh / (double)oh), gw = sr > 0 ? sr : (int64_t)ceil(rw / (double)ow);
        if (gh < 0)
            gh = 0;
        if (gw < 0)
            gw = 0;
        double count = (double)(gh * gw > 1 ? gh * gw : 1);
        for (int64_t ph = 0; ph < oh; ph++)
            for (int64_t pw = 0; pw < ow; pw++) {
                for (int64_t c = 0; c < C; c++) {
                    int64_t base = (b * C + c) * H * W;
                    double acc = 0;
                    bool first = true;
                    for (int64_t iy = 0; iy < gh; iy++) {
                        double yy = y0 + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
                        for (int64_t ix = 0; ix < gw; ix++) {
                            double xx = x0 + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw;
                            ra_sample s;
                            ra_sample_at(yy, xx, H, W, &s);
                            if (!is_max) {
                                for (int k = 0; k < 4; k++)
                                    acc += s.w[k] * nt_misc_getf(x, base + s.pos[k]);
                                continue;
                            }
                            double v = s.w[0] * nt_misc_getf(x, base + s.pos[0]);
                            for (int k = 1; k < 4; k++) {
                                double e = s.w[k] * nt_misc_getf(x, base + s.pos[k]);
                                v = e > v ? e : v;
                            }
                            acc = first || v > acc ? v : acc;
                            first = false;
                        }
                    }
                    nt_misc_setf(y, ((r * C + c) * oh + ph) * ow + pw, is_max ? acc : acc / count);
                }
            }
    }
    return NT_OK;
}
