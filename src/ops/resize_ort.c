/*
 * resize_ort.c — Resize with ONNX Runtime's float32 arithmetic, bit for bit.
 *
 * Quantized models put a DynamicQuantizeLinear after a Resize: one float32
 * ulp of difference there becomes a whole uint8 step.  So for the calls ONNX
 * Runtime's CPU kernel computes deterministically, nntrace reproduces its
 * order of operations (learned from its upsample kernels and checked against
 * its outputs by tests/e2e/resize_check.py):
 *
 *   - coordinates in float32, per axis, once: half_pixel is
 *     ((o + 0.5f) / scale) - 0.5f with the float32 scale (the scales input,
 *     or (float)out / (float)in from sizes); an axis whose scale is exactly
 *     1 maps o to o whatever the mode;
 *   - nearest: that coordinate rounded by the nearest_mode in float32 (ties
 *     of round_prefer_floor detected as x == (int)x + 0.5f), clamped; any
 *     rank and dtype;
 *   - linear over the two inner axes (2-D, N C H W or N H W C) or three
 *     (3-D, N C D H W): the coordinate clamped to [0, L-1], indices i1 =
 *     (int)x, i2 = min(i1 + 1, L-1), weights d1 = |x - i1|, d2 = |x - i2|
 *     (0.5 each when i1 == i2), and each output the sum
 *     dx2*dy2*X11 + dx1*dy2*X21 + dx2*dy1*X12 + dx1*dy1*X22 left to right;
 *   - cubic over the two inner axes: Keys coefficients of the fractional
 *     part in float32, 4 taps clamped to the edge, a row pass with weights
 *     c/sum then a column pass adding r * c / sum.
 *
 * Where ONNX Runtime departs from the ONNX spec nntrace follows the spec:
 * align_corners and tf_crop_and_resize divide by the unfloored output
 * length scale * in when scales were given (ONNX Runtime uses the floored
 * one; the two agree whenever scale * in is whole).  Antialiasing, linear or
 * cubic on other layouts and non-float32 data take resize.c's reference
 * path.  The tables are computed once per call and the row loops only
 * gather and multiply, which is also what makes this path fast.
 */
#include "ops/resize_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ coordinates */

/* The input coordinate of output o on axis d, in float32 as ONNX Runtime
 * computes it. */
static float ort_coord(const rs_params *p, const rs_geom *g, int d, int64_t o)
{
    float x = (float)o, s = g->scale_f[d], li = (float)g->in[d];
    float lo = (float)g->out_f[d]; /* the spec's length for align_corners / crop */
    switch (p->ctm) {
    case CT_HALF_PIXEL: return ((x + 0.5f) / s) - 0.5f;
    case CT_HALF_PIXEL_SYM: {
        float ow = s * li, adj = (float)g->out[d] / ow, center = li / 2;
        float off = center * (1 - adj);
        return off + (x + 0.5f) / s - 0.5f;
    }
    case CT_PYTORCH_HALF_PIXEL: return g->out[d] > 1 ? (x + 0.5f) / s - 0.5f : 0.0f;
    case CT_TF_HALF_PIXEL_NN: return (x + 0.5f) / s;
    case CT_ALIGN_CORNERS: return lo == 1 ? 0.0f : x * (li - 1) / (lo - 1);
    case CT_ASYMMETRIC: return x / s;
    case CT_TF_CROP: {
        float r0 = (float)g->roi0[d], r1 = (float)g->roi1[d];
        if (lo > 1)
            return r0 * (li - 1) + (x * (r1 - r0) * (li - 1)) / (lo - 1);
        return (float)(0.5 * (double)(r0 + r1) * (double)(li - 1));
    }
    }
    return 0.0f;
}

static float axis_coord(const rs_params *p, const rs_geom *g, int d, int64_t o)
{
    return g->scale_f[d] == 1.0f ? (float)o : ort_coord(p, g, d, o);
}

static bool outside(float x, int64_t L)
{
    return x < 0 || x > (float)(L - 1);
}

/* ------------------------------------------------------------ nearest */

static int64_t nearest_index(rs_nearest m, float x, bool down, int64_t L)
{
    /* Out-of-range or NaN coordinates clamp to the same index; bounding
     * them first keeps the float -> integer conversions defined. */
    if (!(x > -2.0f))
        x = x != x ? 0.0f : -2.0f;
    else if (x > (float)L + 1)
        x = (float)L + 1;
    int64_t k;
    switch (m) {
    case NM_SIMPLE: k = down ? (int64_t)ceilf(x) : (int64_t)x; break;
    case NM_ROUND_CEIL: k = (int64_t)roundf(x); break;
    case NM_FLOOR: k = (int64_t)floorf(x); break;
    case NM_CEIL: k = (int64_t)ceilf(x); break;
    default: k = x == (float)(int64_t)x + 0.5f ? (int64_t)floorf(x) : (int64_t)roundf(x); break;
    }
    return k < 0 ? 0 : k >= L ? L - 1 : k;
}

typedef struct nn_job {
    const char *x;
    char *y;
    int rank;
    size_t es;
    const int64_t *out;       /* output dims */
    int64_t *const *map;      /* per axis, per output coordinate: input offset in elements, or -1 */
    const char *fill;         /* extrapolation value in the element type */
} nn_job;

/* Rows [b, e) of the output viewed as (rows, out[rank-1]). */
static void nn_rows(void *arg, int64_t b, int64_t e)
{
    const nn_job *j = arg;
    int r = j->rank;
    int64_t W = j->out[r - 1];
    const int64_t *mw = j->map[r - 1];
    for (int64_t row = b; row < e; row++) {
        int64_t rem = row, base = 0;
        bool fill_all = false;
        for (int d = r - 2; d >= 0; d--) {
            int64_t o = rem % j->out[d];
            rem /= j->out[d];
            if (j->map[d][o] < 0)
                fill_all = true;
            base += j->map[d][o];
        }
        char *dst = j->y + (size_t)(row * W) * j->es;
        for (int64_t o = 0; o < W; o++) {
            const char *src = fill_all || mw[o] < 0 ? j->fill : j->x + (size_t)(base + mw[o]) * j->es;
            switch (j->es) {
            case 1: dst[o] = *src; break;
            case 2: memcpy(dst + 2 * o, src, 2); break;
            case 4: memcpy(dst + 4 * o, src, 4); break;
            case 8: memcpy(dst + 8 * o, src, 8); break;
            default: memcpy(dst + (size_t)o * j->es, src, j->es); break;
            }
        }
    }
}

static nt_status ort_nearest(nt_kernel_ctx *ctx, const rs_params *p, const rs_geom *g)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int r = g->rank;
    size_t es = nt_dtype_size(x->dtype);
    if (r == 0) {
        memcpy(y->data, x->data, es);
        return NT_OK;
    }
    int64_t *map[NT_MAX_DIMS] = {0};
    int64_t stride = 1;
    nt_status s = NT_OK;
    for (int d = r - 1; d >= 0; d--) {
        int64_t L = g->in[d];
        map[d] = nt_malloc((size_t)NT_MAX(g->out[d], 1) * sizeof(int64_t));
        if (!map[d]) {
            s = nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for the index table of axis %d", d);
            goto done;
        }
        for (int64_t o = 0; o < g->out[d]; o++) {
            if (g->scale_f[d] == 1.0f) {
                map[d][o] = (o < L ? o : L - 1) * stride;
                continue;
            }
            float c = ort_coord(p, g, d, o);
            if (p->ctm == CT_TF_CROP && outside(c, L))
                map[d][o] = -1;
            else
                map[d][o] = nearest_index(p->nearest, c, g->scale_f[d] < 1, L) * stride;
        }
        stride *= L;
    }
    uint64_t fill_buf[2] = {0, 0};
    nt_tensor fill = {0};
    fill.dtype = x->dtype;
    fill.ndim = 0;
    fill.data = fill_buf;
    nt_tensor_set_f64(&fill, 0, p->extrap);
    nn_job j = {x->data, y->data, r, es, g->out, map, (const char *)fill_buf};
    int64_t rows = nt_tensor_numel(y) / g->out[r - 1];
    nt_parallel_for(ctx->exec, rows, NT_MAX(1, 16384 / NT_MAX(1, g->out[r - 1])), nn_rows, &j);
done:
    for (int d = 0; d < r; d++)
        free(map[d]);
    return s;
}

/* ------------------------------------------------------------ linear */

/* One axis of linear interpolation: indices and weights per output. */
typedef struct lin_axis {
    int64_t *i1, *i2;
    float *d1, *d2;
    bool *out;          /* tf_crop_and_resize: coordinate outside the input */
} lin_axis;

static void lin_axis_free(lin_axis *a)
{
    free(a->i1);
    free(a->i2);
    free(a->d1);
    free(a->d2);
    free(a->out);
}

static bool lin_axis_build(const rs_params *p, const rs_geom *g, int d, lin_axis *a)
{
    int64_t n = NT_MAX(g->out[d], 1), L = g->in[d];
    a->i1 = nt_malloc((size_t)n * sizeof(int64_t));
    a->i2 = nt_malloc((size_t)n * sizeof(int64_t));
    a->d1 = nt_malloc((size_t)n * sizeof(float));
    a->d2 = nt_malloc((size_t)n * sizeof(float));
    a->out = nt_calloc((size_t)n, sizeof(bool));
    if (!a->i1 || !a->i2 || !a->d1 || !a->d2 || !a->out)
        return false;
    float hi = (float)(L - 1);
    for (int64_t o = 0; o < g->out[d]; o++) {
        float c = axis_coord(p, g, d, o);
        a->out[o] = p->ctm == CT_TF_CROP && outside(c, L);
        /* max(0, min(c, L-1)) with std::min/max's operand order: NaN -> 0 */
        c = hi < c ? hi : c;
        c = 0.0f < c ? c : 0.0f;
        int64_t i1 = (int64_t)c;
        if (i1 > L - 1)
            i1 = L - 1;
        int64_t i2 = i1 + 1 < L - 1 ? i1 + 1 : L - 1;
        a->i1[o] = i1;
        a->i2[o] = i2;
        a->d1[o] = fabsf(c - (float)i1);
        a->d2[o] = fabsf(c - (float)i2);
        if (i1 == i2)
            a->d1[o] = a->d2[o] = 0.5f;
    }
    return true;
}

typedef struct bil_job {
    const float *x;
    float *y;
    int64_t H, W, C, Ho, Wo;  /* C: channels interleaved innermost (NHWC), else 1 */
    const lin_axis *ay, *ax;
    bool crop;
    float fill;
} bil_job;

/* Output rows [b, e) of (planes * Ho) rows, each Wo * C floats. */
static void bil_rows(void *arg, int64_t b, int64_t e)
{
    const bil_job *j = arg;
    int64_t C = j->C, rowlen = j->Wo * C;
    for (int64_t r = b; r < e; r++) {
        int64_t plane = r / j->Ho, oy = r % j->Ho;
        const float *src = j->x + plane * j->H * j->W * C;
        const float *r1 = src + j->ay->i1[oy] * j->W * C, *r2 = src + j->ay->i2[oy] * j->W * C;
        float dy1 = j->ay->d1[oy], dy2 = j->ay->d2[oy];
        float *dst = j->y + r * rowlen;
        bool row_out = j->crop && j->ay->out[oy];
        for (int64_t ox = 0; ox < j->Wo; ox++) {
            float dx1 = j->ax->d1[ox], dx2 = j->ax->d2[ox];
            const float *a1 = r1 + j->ax->i1[ox] * C, *a2 = r1 + j->ax->i2[ox] * C;
            const float *b1 = r2 + j->ax->i1[ox] * C, *b2 = r2 + j->ax->i2[ox] * C;
            float *o = dst + ox * C;
            if (row_out || (j->crop && j->ax->out[ox])) {
                for (int64_t c = 0; c < C; c++)
                    o[c] = j->fill;
                continue;
            }
            for (int64_t c = 0; c < C; c++)
                o[c] = dx2 * dy2 * a1[c] + dx1 * dy2 * a2[c] + dx2 * dy1 * b1[c] + dx1 * dy1 * b2[c];
        }
    }
}

typedef struct tril_job {
    const float *x;
    float *y;
    int64_t D, H, W, Do, Ho, Wo;
    const lin_axis *az, *ay, *ax;
    bool crop;
    float fill;
} tril_job;

/* Output rows [b, e) of (planes * Do * Ho) rows of Wo floats. */
static void tril_rows(void *arg, int64_t b, int64_t e)
{
    const tril_job *j = arg;
    int64_t HW = j->H * j->W;
    for (int64_t r = b; r < e; r++) {
        int64_t oy = r % j->Ho, oz = (r / j->Ho) % j->Do, plane = r / (j->Ho * j->Do);
        const float *src = j->x + plane * j->D * HW;
        int64_t z1 = j->az->i1[oz] * HW, z2 = j->az->i2[oz] * HW;
        int64_t y1 = j->ay->i1[oy] * j->W, y2 = j->ay->i2[oy] * j->W;
        float dz1 = j->az->d1[oz], dz2 = j->az->d2[oz], dy1 = j->ay->d1[oy], dy2 = j->ay->d2[oy];
        float *dst = j->y + r * j->Wo;
        bool row_out = j->crop && (j->az->out[oz] || j->ay->out[oy]);
        for (int64_t ox = 0; ox < j->Wo; ox++) {
            if (row_out || (j->crop && j->ax->out[ox])) {
                dst[ox] = j->fill;
                continue;
            }
            int64_t x1 = j->ax->i1[ox], x2 = j->ax->i2[ox];
            float dx1 = j->ax->d1[ox], dx2 = j->ax->d2[ox];
            dst[ox] = dx2 * dy2 * dz2 * src[z1 + y1 + x1] + dx1 * dy2 * dz2 * src[z1 + y1 + x2] +
                      dx2 * dy1 * dz2 * src[z1 + y2 + x1] + dx1 * dy1 * dz2 * src[z1 + y2 + x2] +
                      dx2 * dy2 * dz1 * src[z2 + y1 + x1] + dx1 * dy2 * dz1 * src[z2 + y1 + x2] +
                      dx2 * dy1 * dz1 * src[z2 + y2 + x1] + dx1 * dy1 * dz1 * src[z2 + y2 + x2];
        }
    }
}

/* Which axes a linear call interpolates, in ONNX Runtime's layouts:
 * *n = 2 (bilinear: h, w, channels-last c) or 3 (trilinear), 0 if none. */
static int linear_layout(const rs_geom *g, int *h, int *w, bool *nhwc)
{
    const float *s = g->scale_f;
    *nhwc = false;
    switch (g->rank) {
    case 2: *h = 0; *w = 1; return 2;
    case 3: return 3;
    case 4:
        if (s[0] == 1 && s[1] == 1) {
            *h = 2;
            *w = 3;
            return 2;
        }
        if (s[0] == 1 && s[3] == 1) {
            *h = 1;
            *w = 2;
            *nhwc = true;
            return 2;
        }
        return 0;
    case 5: return s[0] == 1 && s[1] == 1 ? 3 : 0;
    default: return 0;
    }
}

static nt_status ort_linear(nt_kernel_ctx *ctx, const rs_params *p, const rs_geom *g, int kind, int h, int w,
                            bool nhwc)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    lin_axis ax[3];
    memset(ax, 0, sizeof ax);
    int axes[3];
    int r = g->rank;
    if (kind == 2) {
        axes[0] = h;
        axes[1] = w;
    } else {
        axes[0] = r - 3;
        axes[1] = r - 2;
        axes[2] = r - 1;
    }
    nt_status s = NT_OK;
    for (int k = 0; k < kind; k++)
        if (!lin_axis_build(p, g, axes[k], &ax[k])) {
            s = nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for the interpolation tables");
            goto done;
        }
    bool crop = p->ctm == CT_TF_CROP;
    float fill = (float)p->extrap;
    if (kind == 2) {
        int64_t H = g->in[h], W = g->in[w], Ho = g->out[h], Wo = g->out[w];
        int64_t C = nhwc ? g->in[3] : 1;
        int64_t planes = nt_tensor_numel(y) / (Ho * Wo * C);
        bil_job j = {x->data, y->data, H, W, C, Ho, Wo, &ax[0], &ax[1], crop, fill};
        nt_parallel_for(ctx->exec, planes * Ho, NT_MAX(1, 8192 / NT_MAX(1, Wo * C)), bil_rows, &j);
    } else {
        int64_t D = g->in[r - 3], H = g->in[r - 2], W = g->in[r - 1];
        int64_t Do = g->out[r - 3], Ho = g->out[r - 2], Wo = g->out[r - 1];
        int64_t planes = nt_tensor_numel(y) / (Do * Ho * Wo);
        tril_job j = {x->data, y->data, D, H, W, Do, Ho, Wo, &ax[0], &ax[1], &ax[2], crop, fill};
        nt_parallel_for(ctx->exec, planes * Do * Ho, NT_MAX(1, 8192 / NT_MAX(1, Wo)), tril_rows, &j);
    }
done:
    for (int k = 0; k < 3; k++)
        lin_axis_free(&ax[k]);
    return s;
}

/* ------------------------------------------------------------ cubic */

/* One axis of cubic interpolation: 4 clamped taps, their coefficients
 * (zeroed outside the input under exclude_outside) and their sum. */
typedef struct cub_axis {
    int64_t *idx;   /* 4 per output */
    float *c;       /* 4 per output */
    float *sum;
    bool *out;
} cub_axis;

static void cub_axis_free(cub_axis *a)
{
    free(a->idx);
    free(a->c);
    free(a->sum);
    free(a->out);
}

static bool cub_axis_build(const rs_params *p, const rs_geom *g, int d, cub_axis *a)
{
    int64_t n = NT_MAX(g->out[d], 1), L = g->in[d];
    a->idx = nt_malloc((size_t)n * 4 * sizeof(int64_t));
    a->c = nt_malloc((size_t)n * 4 * sizeof(float));
    a->sum = nt_malloc((size_t)n * sizeof(float));
    a->out = nt_calloc((size_t)n, sizeof(bool));
    if (!a->idx || !a->c || !a->sum || !a->out)
        return false;
    float A = (float)p->cubic_a;
    for (int64_t o = 0; o < g->out[d]; o++) {
        float x = axis_coord(p, g, d, o);
        a->out[o] = p->ctm == CT_TF_CROP && outside(x, L);
        float fl = floorf(x);
        float s = x - fl;
        /* the base index; a NaN or huge coordinate clamps like the taps do */
        int64_t base = fl != fl ? 0 : fl < -4.0f ? -4 : fl > (float)L + 4 ? L + 4 : (int64_t)fl;
        float as = fabsf(s);
        float *c = a->c + o * 4;
        c[0] = ((A * (as + 1) - 5 * A) * (as + 1) + 8 * A) * (as + 1) - 4 * A;
        c[1] = ((A + 2) * as - (A + 3)) * as * as + 1;
        c[2] = ((A + 2) * (1 - as) - (A + 3)) * (1 - as) * (1 - as) + 1;
        c[3] = ((A * (2 - as) - 5 * A) * (2 - as) + 8 * A) * (2 - as) - 4 * A;
        float sum = 1;
        if (p->exclude_outside) {
            sum = 0;
            for (int k = 0; k < 4; k++) {
                int64_t i = base - 1 + k;
                if (i < 0 || i >= L)
                    c[k] = 0.0f;
                sum += c[k];
            }
        }
        a->sum[o] = sum;
        for (int k = 0; k < 4; k++) {
            int64_t i = base - 1 + k;
            a->idx[o * 4 + k] = i < 0 ? 0 : i >= L ? L - 1 : i;
        }
    }
    return true;
}

typedef struct cub_job {
    const float *x;
    float *y, *tmp;           /* tmp: per plane, the row pass (H, Wo) */
    int64_t H, W, Ho, Wo;
    const cub_axis *ay, *ax;
    bool crop;
    float fill;
} cub_job;

/* Planes [b, e): the row pass over every input row, then the column pass.
 * Each row-pass value is the one ONNX Runtime computes (and caches) for its
 * (row, tap window), so computing it once per input row changes no bit. */
static void cub_planes(void *arg, int64_t b, int64_t e)
{
    const cub_job *j = arg;
    for (int64_t plane = b; plane < e; plane++) {
        const float *src = j->x + plane * j->H * j->W;
        float *tmp = j->tmp + plane * j->H * j->Wo;
        for (int64_t iy = 0; iy < j->H; iy++) {
            const float *row = src + iy * j->W;
            float *t = tmp + iy * j->Wo;
            for (int64_t ox = 0; ox < j->Wo; ox++) {
                const int64_t *ix = j->ax->idx + ox * 4;
                const float *w = j->ax->c + ox * 4;   /* already c / sum */
                float rx = 0;
                for (int m = 0; m < 4; m++)
                    rx += w[m] * row[ix[m]];
                t[ox] = rx;
            }
        }
        float *dst = j->y + plane * j->Ho * j->Wo;
        for (int64_t oy = 0; oy < j->Ho; oy++) {
            const int64_t *iy = j->ay->idx + oy * 4;
            const float *cy = j->ay->c + oy * 4;
            float ysum = j->ay->sum[oy];
            const float *t0 = tmp + iy[0] * j->Wo, *t1 = tmp + iy[1] * j->Wo;
            const float *t2 = tmp + iy[2] * j->Wo, *t3 = tmp + iy[3] * j->Wo;
            float *o = dst + oy * j->Wo;
            if (ysum == 1.0f) /* x / 1 is x: the division can go */
                for (int64_t ox = 0; ox < j->Wo; ox++)
                    o[ox] = 0.0f + t0[ox] * cy[0] + t1[ox] * cy[1] + t2[ox] * cy[2] + t3[ox] * cy[3];
            else
                for (int64_t ox = 0; ox < j->Wo; ox++)
                    o[ox] = 0.0f + t0[ox] * cy[0] / ysum + t1[ox] * cy[1] / ysum + t2[ox] * cy[2] / ysum +
                            t3[ox] * cy[3] / ysum;
            if (j->crop)
                for (int64_t ox = 0; ox < j->Wo; ox++)
                    if (j->ay->out[oy] || j->ax->out[ox])
                        o[ox] = j->fill;
        }
    }
}

static nt_status ort_cubic(nt_kernel_ctx *ctx, const rs_params *p, const rs_geom *g)
{
    int r = g->rank;
    cub_axis ay, ax;
    memset(&ay, 0, sizeof ay);
    memset(&ax, 0, sizeof ax);
    int64_t H = g->in[r - 2], W = g->in[r - 1], Ho = g->out[r - 2], Wo = g->out[r - 1];
    int64_t planes = nt_tensor_numel(ctx->out[0]) / (Ho * Wo);
    float *tmp = NULL;
    size_t ntmp;
    nt_status s = NT_OK;
    if (!nt_mul_size((size_t)(planes * H), (size_t)Wo * sizeof(float), &ntmp) ||
        !(tmp = nt_malloc(ntmp)) || !cub_axis_build(p, g, r - 2, &ay) || !cub_axis_build(p, g, r - 1, &ax)) {
        s = nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for the interpolation tables");
    } else {
        /* the row pass multiplies by c / sum: fold the division in once */
        for (int64_t i = 0; i < Wo * 4; i++)
            ax.c[i] = ax.c[i] / ax.sum[i / 4];
        cub_job j = {ctx->in[0]->data, ctx->out[0]->data, tmp, H, W, Ho, Wo, &ay, &ax, p->ctm == CT_TF_CROP,
                     (float)p->extrap};
        nt_parallel_for(ctx->exec, planes, 1, cub_planes, &j);
    }
    free(tmp);
    cub_axis_free(&ay);
    cub_axis_free(&ax);
    return s;
}

/* ------------------------------------------------------------ entry */

nt_status nt_resize_ort(nt_kernel_ctx *ctx, const rs_params *p, const rs_geom *g, bool *done)
{
    *done = false;
    const nt_tensor *x = ctx->in[0];
    if (p->antialias)
        return NT_OK;
    for (int d = 0; d < g->rank; d++)
        if (g->in[d] <= 0 || g->out[d] <= 0)
            return NT_OK;
    nt_status s = NT_OK;
    if (p->mode == RS_NEAREST) {
        s = ort_nearest(ctx, p, g);
        *done = true;
        return s;
    }
    if (x->dtype != NT_DTYPE_FLOAT)
        return NT_OK;
    if (p->mode == RS_LINEAR) {
        int h = 0, w = 0;
        bool nhwc;
        int kind = linear_layout(g, &h, &w, &nhwc);
        if (kind == 0)
            return NT_OK;
        *done = true;
        return ort_linear(ctx, p, g, kind, h, w, nhwc);
    }
    /* cubic: 2-D, or 4-D with N and C kept */
    if (g->rank == 2 || (g->rank == 4 && g->scale_f[0] == 1 && g->scale_f[1] == 1)) {
        *done = true;
        return ort_cubic(ctx, p, g);
    }
    return NT_OK;
}
