/*
 * resize.c — Resize (opsets 10, 11, 13, 18, 19) and the deprecated
 * Upsample (7, 9), N-D.
 *
 * The ONNX reference defines Resize as separable 1-D interpolation: for
 * every resized axis, each output coordinate maps to a real input
 * coordinate (the coordinate transformation mode), which selects n
 * neighbouring input indices (edge-clamped) and n weights (nearest: one
 * index; linear: 2 taps; cubic: 4; antialiased downscaling: a footprint
 * widened by 1/scale).  So the kernel
 *   1. builds, per axis, a table of (index, weight) taps for each output
 *      coordinate, following the reference's neighbour choice exactly
 *      (an integer coordinate is treated as ratio 1 of the left pixel);
 *   2. nearest: gathers elements of any dtype directly from the tables;
 *      linear/cubic: runs one 1-D pass per resized axis over x viewed as
 *      (O, L, I), in double, writing (O, L', I) — the inner stride I is
 *      contiguous, so no index decoding happens in the loops.
 * tf_crop_and_resize coordinates outside the input give extrapolation_value
 * (a per-coordinate flag in the table).
 *
 * Version differences handled: Upsample and Resize-10 use asymmetric
 * coordinates and the "simple" nearest rounding of the original
 * implementation (floor when upscaling, ceil when downscaling); 11 added
 * roi/sizes, the coordinate modes, cubic and nearest_mode; 13 made
 * roi/scales optional; 18 added axes, antialias and
 * keep_aspect_ratio_policy; 19 added half_pixel_symmetric.
 */
#include "ops/kernel.h"
#include "ops/reduce_util.h"
#include "ops/resize_impl.h"

#include <math.h>
#include <string.h>

/* Index of s in names[] or -1. */
static int rs_pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Parses and validates the attributes for this op and opset. */
static nt_status rs_parse(const nt_kernel_ctx *ctx, int rank, rs_params *p)
{
    const nt_node *nd = ctx->node;
    memset(p, 0, sizeof *p);
    p->upsample = strcmp(nd->op_type, "Upsample") == 0;
    bool legacy = p->upsample || ctx->opset < 11;
    const char *mode = nt_node_attr_string(nd, "mode", "nearest");
    static const char *const modes[] = {"nearest", "linear", "cubic", "bilinear"};
    int m = rs_pick(mode, modes, 4);
    if (m == 3 && p->upsample)
        m = RS_LINEAR; /* Upsample-1's name for linear */
    if (m < 0 || m == 3 || (legacy && m == RS_CUBIC))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "mode '%s' not supported", mode);
    p->mode = (rs_mode)m;
    if (legacy) {
        p->ctm = CT_ASYMMETRIC;
        p->nearest = NM_SIMPLE;
        p->n_axes = -1;
        return NT_OK;
    }
    static const char *const ctms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                                       "asymmetric", "tf_crop_and_resize", "tf_half_pixel_for_nn"};
    const char *ct = nt_node_attr_string(nd, "coordinate_transformation_mode", "half_pixel");
    int c = rs_pick(ct, ctms, 7);
    if (c < 0 || (c == CT_HALF_PIXEL_SYM && ctx->opset < 19) || (c == CT_TF_HALF_PIXEL_NN && ctx->opset >= 13))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "coordinate_transformation_mode '%s' not supported", ct);
    p->ctm = (rs_ctm)c;
    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    const char *nm = nt_node_attr_string(nd, "nearest_mode", "round_prefer_floor");
    int k = rs_pick(nm, nms, 4);
    if (k < 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "nearest_mode '%s' not supported", nm);
    p->nearest = (rs_nearest)k;
    p->cubic_a = nt_node_attr_float(nd, "cubic_coeff_a", -0.75f);
    p->exclude_outside = nt_node_attr_int(nd, "exclude_outside", 0) != 0;
    p->extrap = nt_node_attr_float(nd, "extrapolation_value", 0.0f);
    p->n_axes = -1;
    if (ctx->opset >= 18) {
        p->antialias = nt_node_attr_int(nd, "antialias", 0) != 0;
        static const char *const pols[] = {"stretch", "not_larger", "not_smaller"};
        const char *pol = nt_node_attr_string(nd, "keep_aspect_ratio_policy", "stretch");
        int q = rs_pick(pol, pols, 3);
        if (q < 0)
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "keep_aspect_ratio_policy '%s' not supported", pol);
        p->policy = (rs_policy)q;
        const int64_t *ax;
        int na = nt_node_attr_ints(nd, "axes", &ax);
        if (ax) {
            if (na > rank)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "%d axes for rank %d", na, rank);
            p->n_axes = na;
            for (int i = 0; i < na; i++) {
                int d;
                if (!nt_red_axis(ax[i], rank, &d))
                    return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range", (long long)ax[i]);
                for (int j = 0; j < i; j++)
                    if (p->axes[j] == d)
                        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %d repeated", d);
                p->axes[i] = d;
            }
        }
    }
    return NT_OK;
}

/* Which input holds what, by op and version. */
typedef struct rs_inputs {
    const nt_tensor *roi, *scales, *sizes;
    int scales_i, sizes_i, roi_i;
} rs_inputs;

static void rs_inputs_get(const nt_kernel_ctx *ctx, const rs_params *p, rs_inputs *in)
{
    memset(in, 0, sizeof *in);
    in->roi_i = in->sizes_i = -1;
    if (p->upsample || ctx->opset < 11) {
        in->scales_i = ctx->opset >= 9 || !p->upsample ? 1 : -1;
    } else {
        in->roi_i = 1;
        in->scales_i = 2;
        in->sizes_i = 3;
    }
    if (in->roi_i >= 0)
        in->roi = nt_ctx_in(ctx, in->roi_i);
    if (in->scales_i >= 0)
        in->scales = nt_ctx_in(ctx, in->scales_i);
    if (in->sizes_i >= 0)
        in->sizes = nt_ctx_in(ctx, in->sizes_i);
    if (in->scales && nt_tensor_numel(in->scales) == 0)
        in->scales = NULL; /* opset 11: an empty scales means "use sizes" */
    if (in->roi && nt_tensor_numel(in->roi) == 0)
        in->roi = NULL;
}

/* Computes the output shape (and scales) from the scales or sizes data. */
/* An output extent computed in double (scales, roi from the model): refused
 * unless finite and in range, so the conversion to int64 is defined. */
static nt_status rs_extent(const nt_kernel_ctx *ctx, double v, int64_t *out)
{
    if (!(v >= 0 && v < 9.2e18))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "output size %g is out of range", v);
    *out = (int64_t)v;
    return NT_OK;
}

static nt_status rs_geometry(const nt_kernel_ctx *ctx, const rs_params *p, const nt_tensor *x, rs_geom *g)
{
    rs_inputs in;
    rs_inputs_get(ctx, p, &in);
    int r = x->ndim;
    g->rank = r;
    int na = p->n_axes >= 0 ? p->n_axes : r;
    bool sizes_given = false;
    int64_t axes[NT_MAX_DIMS];
    for (int i = 0; i < na; i++)
        axes[i] = p->n_axes >= 0 ? p->axes[i] : i;
    for (int d = 0; d < r; d++) {
        g->in[d] = g->out[d] = x->dims[d];
        g->scale[d] = 1;
        g->scale_f[d] = 1;
        g->roi0[d] = 0;
        g->roi1[d] = 1;
    }
    if (in.roi && p->ctm == CT_TF_CROP) {
        if (nt_tensor_numel(in.roi) != 2 * na)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "roi has %lld values, expected %d", (long long)nt_tensor_numel(in.roi),
                                2 * na);
        for (int i = 0; i < na; i++) {
            g->roi0[axes[i]] = nt_tensor_get_f64(in.roi, i);
            g->roi1[axes[i]] = nt_tensor_get_f64(in.roi, na + i);
        }
    }
    if (p->upsample && ctx->opset < 9) {
        const float *sc;
        int n = nt_node_attr_floats(ctx->node, "scales", &sc);
        if (n != r)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "scales attribute has %d values for rank %d", n, r);
        for (int d = 0; d < r; d++) {
            g->scale[d] = sc[d];
            g->scale_f[d] = sc[d];
            nt_status st = rs_extent(ctx, floor((double)g->in[d] * (double)sc[d]), &g->out[d]);
            if (st != NT_OK)
                return st;
        }
    } else if (in.scales) {
        if (nt_tensor_numel(in.scales) != na)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "scales has %lld values, expected %d",
                                (long long)nt_tensor_numel(in.scales), na);
        if (!nt_dtype_is_float(in.scales->dtype))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "scales must be floating point");
        for (int i = 0; i < na; i++) {
            int d = (int)axes[i];
            double s = nt_tensor_get_f64(in.scales, i);
            if (!(s > 0))
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "scale %g must be positive", s);
            g->scale[d] = s;
            g->scale_f[d] = (float)s;
            double roi = p->ctm == CT_TF_CROP ? g->roi1[d] - g->roi0[d] : 1.0;
            nt_status st = rs_extent(ctx, floor((double)g->in[d] * roi * s), &g->out[d]);
            if (st != NT_OK)
                return st;
        }
    } else if (in.sizes) {
        int64_t sz[NT_MAX_DIMS];
        sizes_given = true;
        if (nt_tensor_numel(in.sizes) != na || nt_tensor_read_ints(in.sizes, sz, NT_MAX_DIMS) != na)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "sizes must hold %d integers", na);
        for (int i = 0; i < na; i++) {
            int d = (int)axes[i];
            if (sz[i] < 0)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "negative size %lld", (long long)sz[i]);
            g->out[d] = sz[i];
            g->scale[d] = g->in[d] ? (double)sz[i] / (double)g->in[d] : 1.0;
            g->scale_f[d] = g->in[d] ? (float)sz[i] / (float)g->in[d] : 1.0f;
        }
        if (p->policy != KA_STRETCH) {
            double s = g->scale[axes[0]];
            for (int i = 1; i < na; i++)
                s = p->policy == KA_NOT_LARGER ? fmin(s, g->scale[axes[i]]) : fmax(s, g->scale[axes[i]]);
            for (int i = 0; i < na; i++) {
                int d = (int)axes[i];
                g->scale[d] = s;
                g->scale_f[d] = (float)s;
                nt_status st = rs_extent(ctx, s * (double)g->in[d] + 0.5, &g->out[d]);
                if (st != NT_OK)
                    return st;
            }
        }
    } else {
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "one of scales and sizes must be given");
    }
    for (int d = 0; d < r; d++)
        g->out_f[d] = sizes_given ? (double)g->out[d] : g->scale[d] * (double)g->in[d];
    if (p->upsample)
        for (int d = 0; d < r; d++)
            if (g->scale[d] < 1)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "Upsample scales must be >= 1");
    return NT_OK;
}

/* Y: X's dtype, the resized shape (unknown until scales/sizes are known). */
static nt_status rs_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "missing input X");
    rs_params p;
    nt_status s = rs_parse(ctx, x->ndim < 0 ? NT_MAX_DIMS : x->ndim, &p);
    if (s != NT_OK)
        return s;
    if (x->dtype == NT_DTYPE_STRING || x->dtype == NT_DTYPE_UNDEFINED || x->dtype == NT_DTYPE_INT4 ||
        x->dtype == NT_DTYPE_UINT4 || x->dtype == NT_DTYPE_FLOAT4E2M1 || nt_dtype_size(x->dtype) == 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s not supported", nt_dtype_name(x->dtype));
    if (p.mode != RS_NEAREST && !nt_red_float_ok(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s interpolation of %s not supported",
                            p.mode == RS_LINEAR ? "linear" : "cubic", nt_dtype_name(x->dtype));
    bool unknown = x->ndim < 0 || nt_ctx_shapes_unknown(ctx);
    for (int i = 1; i < ctx->n_in; i++)
        if (nt_ctx_data_unknown(ctx, i))
            unknown = true;
    if (unknown) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    rs_geom g;
    if ((s = rs_geometry(ctx, &p, x, &g)) != NT_OK)
        return s;
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, g.out);
}

/* ------------------------------------------------------------ tap tables */

/* Per axis: for each output coordinate, n taps (indices already clamped to
 * [0, L)) and weights; outside[o] marks tf_crop_and_resize extrapolation. */
typedef struct rs_taps {
    int n;
    int64_t *idx;       /* out_len * n */
    double *w;          /* out_len * n */
    bool *outside;      /* out_len */
    bool identity;      /* output o is input o with weight 1 for every o */
} rs_taps;

static double rs_cubic(double x, double A)
{
    x = fabs(x);
    if (x <= 1)
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    if (x < 2)
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    return 0;
}

/* The input coordinate of output coordinate o on axis d. */
static double rs_coord(const rs_params *p, const rs_geom *g, int d, int64_t o)
{
    double s = g->scale[d], L = (double)g->in[d], of = g->out_f[d];
    int64_t out = g->out[d];
    switch (p->ctm) {
    case CT_HALF_PIXEL: return (o + 0.5) / s - 0.5;
    case CT_HALF_PIXEL_SYM: {
        double adj = (double)out / (s * L), center = L / 2;
        return center * (1 - adj) + (o + 0.5) / s - 0.5;
    }
    case CT_PYTORCH_HALF_PIXEL: return out > 1 ? (o + 0.5) / s - 0.5 : 0;
    case CT_ALIGN_CORNERS: return of != 1 ? (double)o * (L - 1) / (of - 1) : 0;
    case CT_ASYMMETRIC: return o / s;
    case CT_TF_HALF_PIXEL_NN:
        /* tf2onnx writes this mode for TF's half-pixel nearest resize with
         * sizes covering N and C too; an axis kept at scale 1 is not resized
         * in TF (nor in ONNX Runtime), though the formula alone would move
         * every index by +0.5 and round_prefer_ceil would shift it by one. */
        if (s == 1 && out == g->in[d])
            return (double)o;
        return (o + 0.5) / s;
    case CT_TF_CROP:
        if (of != 1)
            return g->roi0[d] * (L - 1) + (double)o * (g->roi1[d] - g->roi0[d]) * (L - 1) / (of - 1);
        return 0.5 * (g->roi0[d] + g->roi1[d]) * (L - 1);
    }
    return 0;
}

/* Fills the tap table of axis d; false on allocation failure. */
static bool rs_taps_build(const rs_params *p, const rs_geom *g, int d, rs_taps *t)
{
    int64_t L = g->in[d], out = g->out[d];
    double s = g->scale[d];
    double sa = p->antialias && s < 1 ? s : 1.0; /* antialias widens the filter when downscaling */
    int n;
    if (p->mode == RS_NEAREST)
        n = 1;
    else if (p->mode == RS_LINEAR)
        n = sa < 1 ? 2 - 2 * (int)(floor(-1 / sa) + 1) : 2;
    else
        n = sa < 1 ? 2 - 2 * (int)(floor(-2 / sa) + 1) : 4;
    t->n = n;
    t->idx = nt_malloc((size_t)NT_MAX(out, 1) * (size_t)n * sizeof(int64_t));
    t->w = nt_malloc((size_t)NT_MAX(out, 1) * (size_t)n * sizeof(double));
    t->outside = nt_calloc((size_t)NT_MAX(out, 1), sizeof(bool));
    if (!t->idx || !t->w || !t->outside)
        return false;
    t->identity = out == L;
    for (int64_t o = 0; o < out; o++) {
        double x = rs_coord(p, g, d, o);
        /* A malicious roi can make x NaN or huge: clamp, so the integer
         * conversions below stay defined (the taps are clamped anyway). */
        if (!(x > -1e15))
            x = x != x ? 0 : -1e15;
        else if (x > 1e15)
            x = 1e15;
        int64_t *ix = t->idx + o * n;
        double *w = t->w + o * n;
        if (p->ctm == CT_TF_CROP && (x < 0 || x > (double)(L - 1))) {
            t->outside[o] = true;
            t->identity = false;
            for (int k = 0; k < n; k++) {
                ix[k] = 0;
                w[k] = 0;
            }
            continue;
        }
        double xf = floor(x), ratio = x - xf;
        int64_t xi = (int64_t)xf;
        if (ratio == 0) { /* the reference treats an integer x as ratio 1 of the left pixel */
            xi -= 1;
            ratio = 1;
        }
        if (p->mode == RS_NEAREST) {
            int64_t k;
            switch (p->nearest) {
            case NM_ROUND_FLOOR: k = xi + (ratio > 0.5); break;
            case NM_ROUND_CEIL: k = xi + (ratio >= 0.5); break;
            case NM_FLOOR: k = ratio == 1 ? xi + 1 : xi; break;
            case NM_CEIL: k = xi + 1; break;
            default: k = s < 1 ? (int64_t)ceil(x) : (int64_t)xf; break;
            }
            ix[0] = k < 0 ? 0 : k >= L ? L - 1 : k;
            w[0] = 1;
            if (ix[0] != o)
                t->identity = false;
            continue;
        }
        /* the n taps nearest to x, kept within the reference's edge padding */
        int64_t pad = (n + 1) / 2, start = xi - n / 2 + 1;
        if (start < -pad)
            start = -pad;
        if (start > L + pad - n)
            start = L + pad - n;
        double sum = 0;
        for (int k = 0; k < n; k++) {
            int64_t i = start + k;
            /* tap position relative to x, by slot as the reference computes it
             * (the window may have been shifted at the edges) */
            double off = (double)(k + 1 - n / 2) - ratio;
            double c;
            if (p->mode == RS_LINEAR)
                c = sa < 1 ? fmax(0.0, 1 - fabs(off * sa)) : (k == 0 ? 1 - ratio : ratio);
            else
                c = rs_cubic(off * sa, p->cubic_a);
            if (p->exclude_outside && (i < 0 || i >= L))
                c = 0;
            w[k] = c;
            sum += c;
            ix[k] = i < 0 ? 0 : i >= L ? L - 1 : i;
        }
        if (sa < 1 || p->exclude_outside)
            for (int k = 0; k < n; k++)
                w[k] /= sum;
        double self = 0;
        for (int k = 0; k < n; k++)
            if (ix[k] == o)
                self += w[k];
            else if (w[k] != 0)
                t->identity = false;
        if (self != 1.0)
            t->identity = false;
    }
    return true;
}

static void rs_taps_free(rs_taps *t)
{
    free(t->idx);
    free(t->w);
    free(t->outside);
}

/* ------------------------------------------------------------ nearest gather */

typedef struct nn_ctx {
    const rs_taps *taps;
    const int64_t *in_stride, *out_dims;
    int rank;
    size_t es;
    const void *fill;   /* extrapolation value in the element type */
} nn_ctx;

/* dst (out_dims[d:]) = src (in dims[d:]) gathered through the tables. */
static char *nn_gather(const nn_ctx *c, int d, const char *src, char *dst)
{
    const rs_taps *t = &c->taps[d];
    int64_t n = c->out_dims[d];
    size_t es = c->es;
    if (d == c->rank - 1) {
        for (int64_t o = 0; o < n; o++) {
            const char *s = t->outside[o] ? c->fill : src + (size_t)t->idx[o] * es;
            switch (es) {
            case 1: dst[o] = *s; break;
            case 2: memcpy(dst + o * 2, s, 2); break;
            case 4: memcpy(dst + o * 4, s, 4); break;
            case 8: memcpy(dst + o * 8, s, 8); break;
            default: memcpy(dst + (size_t)o * es, s, es); break;
            }
        }
        return dst + (size_t)n * es;
    }
    for (int64_t o = 0; o < n; o++) {
        if (t->outside[o]) {
            int64_t m = nt_red_prod(c->out_dims, d + 1, c->rank);
            for (int64_t i = 0; i < m; i++, dst += es)
                memcpy(dst, c->fill, es);
            continue;
        }
        dst = nn_gather(c, d + 1, src + (size_t)(t->idx[o] * c->in_stride[d]) * es, dst);
    }
    return dst;
}

/* ------------------------------------------------------------ linear / cubic passes */

typedef struct pass_job {
    const double *in;
    double *out;
    int64_t L, Lo, I;
    const rs_taps *t;
    double extrap;
} pass_job;

/* out (O, Lo, I) = taps applied along L of in (O, L, I); range over O. */
static void rs_pass_range(void *arg, int64_t b, int64_t e)
{
    const pass_job *j = arg;
    const int n = j->t->n;
    const int64_t I = j->I;
    for (int64_t o = b; o < e; o++) {
        const double *src = j->in + o * j->L * I;
        double *dst = j->out + o * j->Lo * I;
        for (int64_t q = 0; q < j->Lo; q++) {
            double *y = dst + q * I;
            if (j->t->outside[q]) {
                for (int64_t i = 0; i < I; i++)
                    y[i] = j->extrap;
                continue;
            }
            const int64_t *ix = j->t->idx + q * n;
            const double *w = j->t->w + q * n;
            if (I == 1) {
                double acc = 0;
                for (int k = 0; k < n; k++)
                    acc += w[k] * src[ix[k]];
                y[0] = acc;
                continue;
            }
            for (int64_t i = 0; i < I; i++)
                y[i] = 0;
            for (int k = 0; k < n; k++) {
                if (w[k] == 0)
                    continue;
                const double *s = src + ix[k] * I;
                double wk = w[k];
                for (int64_t i = 0; i < I; i++)
                    y[i] += wk * s[i];
            }
        }
    }
}

static nt_status rs_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    rs_params p;
    rs_geom g;
    nt_status s = rs_parse(ctx, x->ndim, &p);
    if (s == NT_OK)
        s = rs_geometry(ctx, &p, x, &g);
    if (s != NT_OK)
        return s;
    int r = x->ndim;
    if (nt_tensor_numel(y) == 0)
        return NT_OK;
    if (nt_tensor_numel(x) == 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "cannot resize an empty input to a non-empty output");
    bool done = false;
    if ((s = nt_resize_ort(ctx, &p, &g, &done)) != NT_OK || done)
        return s;
    rs_taps taps[NT_MAX_DIMS];
    memset(taps, 0, sizeof taps);
    for (int d = 0; d < r; d++)
        if (!rs_taps_build(&p, &g, d, &taps[d])) {
            s = NT_ERR_NOMEM;
            goto done;
        }
    if (p.mode == RS_NEAREST) {
        int64_t st[NT_MAX_DIMS];
        st[r - 1] = 1;
        for (int d = r - 2; d >= 0; d--)
            st[d] = st[d + 1] * x->dims[d + 1];
        nt_tensor fill = {0};
        uint64_t fill_buf[2] = {0, 0};
        fill.dtype = x->dtype;
        fill.ndim = 0;
        fill.data = fill_buf;
        nt_tensor_set_f64(&fill, 0, p.extrap);
        nn_ctx c = {taps, st, g.out, r, nt_dtype_size(x->dtype), fill_buf};
        if (r == 0)
            memcpy(y->data, x->data, c.es);
        else
            nn_gather(&c, 0, x->data, y->data);
        goto done;
    }
    /* linear / cubic: double buffers, one pass per non-identity axis, last axis first */
    int64_t cur[NT_MAX_DIMS];
    memcpy(cur, x->dims, sizeof(int64_t) * (size_t)r);
    int64_t nx = nt_tensor_numel(x);
    double *a = nt_malloc((size_t)nx * sizeof(double)), *b = NULL;
    if (!a) {
        s = NT_ERR_NOMEM;
        goto done;
    }
    for (int64_t i = 0; i < nx; i++)
        a[i] = nt_tensor_get_f64(x, i);
    for (int d = r - 1; d >= 0; d--) {
        if (taps[d].identity)
            continue;
        int64_t O = nt_red_prod(cur, 0, d), I = nt_red_prod(cur, d + 1, r);
        b = nt_malloc((size_t)NT_MAX(O * g.out[d] * I, 1) * sizeof(double));
        if (!b) {
            free(a);
            s = NT_ERR_NOMEM;
            goto done;
        }
        pass_job j = {a, b, cur[d], g.out[d], I, &taps[d], p.extrap};
        nt_parallel_for(ctx->exec, O, NT_MAX(1, 8192 / NT_MAX(1, g.out[d] * I * taps[d].n)), rs_pass_range, &j);
        free(a);
        a = b;
        cur[d] = g.out[d];
    }
    int64_t ny = nt_tensor_numel(y);
    if (y->dtype == NT_DTYPE_FLOAT)
        for (int64_t i = 0; i < ny; i++)
            ((float *)y->data)[i] = (float)a[i];
    else
        for (int64_t i = 0; i < ny; i++)
            nt_tensor_set_f64(y, i, a[i]);
    free(a);
done:
    for (int d = 0; d < r; d++)
        rs_taps_free(&taps[d]);
    return s;
}

const nt_op_def nt_ops_resize[] = {
    {"Upsample", "", 7, NULL, NULL, rs_infer, rs_compute},
    {"Upsample", "", 9, NULL, NULL, rs_infer, rs_compute},
    {"Resize", "", 10, NULL, NULL, rs_infer, rs_compute},
    {"Resize", "", 11, NULL, NULL, rs_infer, rs_compute},
    {"Resize", "", 13, NULL, NULL, rs_infer, rs_compute},
    {"Resize", "", 18, NULL, NULL, rs_infer, rs_compute},
    {"Resize", "", 19, NULL, NULL, rs_infer, rs_compute},
};
const size_t nt_ops_resize_count = NT_ARRAY_LEN(nt_ops_resize);
