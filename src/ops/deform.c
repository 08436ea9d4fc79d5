/*
 * deform.c — operator family "deform": DeformConv (opset 19 and 22).
 *
 * Deformable convolution: each kernel tap of each output position reads the
 * input not at its grid position but displaced by a learned offset, with
 * multilinear interpolation (zero outside the image), optionally scaled by a
 * mask (DCNv2), then the taps are combined with the weights as a grouped
 * convolution.  Shapes, for nsp spatial dims (1 to 3):
 *
 *   X      (N, C, in...)                 W (oC, C/group, k...)
 *   offset (N, offset_group*K*nsp, out...)   K = prod(k); per tap the nsp
 *                                            displacements, axis order
 *   B      (oC)                          mask (N, offset_group*K, out...)
 *   Y      (N, oC, out...)   out = floor((in + pad_b + pad_e - ((k-1)*d+1)) / s) + 1
 *
 * Input channel c uses offset group c / (C/offset_group).  Per image and
 * group, the sampled taps fill a column matrix col (C/group*K, tile of out
 * positions) and one dgemm gives Y_g = W_g (oC/group, C/group*K) · col.
 * Everything is computed in double (inputs float16, float or double), so the
 * result is the exact formula up to double rounding; this op is rare and
 * its sampling is irregular, so accuracy beats speed here.
 */
#include "ops/kernel.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEFORM_MAX_SP 3

typedef struct deform_attrs {
    int64_t group, offset_group;
    int n_kernel, n_pads, n_strides, n_dils;
    int64_t kernel[DEFORM_MAX_SP], pads[2 * DEFORM_MAX_SP], strides[DEFORM_MAX_SP], dils[DEFORM_MAX_SP];
} deform_attrs;

/* Copies an INTS attribute of at most max values that are all >= lo. */
static nt_status read_ints(const nt_node *n, const char *name, int max, int64_t lo, int64_t *dst, int *count)
{
    const int64_t *v;
    int k = nt_node_attr_ints(n, name, &v);
    *count = k > 0 ? k : 0;
    if (k > max)
        return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (DeformConv): %s has %d values (at most %d spatial dims)",
                        n->name, name, k, max / (strcmp(name, "pads") ? 1 : 2));
    for (int i = 0; i < k; i++) {
        if (v[i] < lo)
            return nt_error(NT_ERR_PARSE, "node '%s' (DeformConv): %s[%d] = %lld is below %lld", n->name, name, i,
                            (long long)v[i], (long long)lo);
        dst[i] = v[i];
    }
    return NT_OK;
}

static nt_status deform_prepare(const nt_node *node, int opset, void **state)
{
    deform_attrs *a = nt_calloc(1, sizeof *a);
    if (!a)
        return NT_ERR_NOMEM;
    a->group = nt_node_attr_int(node, "group", 1);
    a->offset_group = nt_node_attr_int(node, "offset_group", 1);
    nt_status s = NT_OK;
    if (a->group < 1 || a->offset_group < 1)
        s = nt_error(NT_ERR_PARSE, "node '%s' (DeformConv): group and offset_group must be >= 1", node->name);
    if (s == NT_OK)
        s = read_ints(node, "kernel_shape", DEFORM_MAX_SP, 1, a->kernel, &a->n_kernel);
    if (s == NT_OK)
        s = read_ints(node, "pads", 2 * DEFORM_MAX_SP, 0, a->pads, &a->n_pads);
    if (s == NT_OK)
        s = read_ints(node, "strides", DEFORM_MAX_SP, 1, a->strides, &a->n_strides);
    if (s == NT_OK)
        s = read_ints(node, "dilations", DEFORM_MAX_SP, 1, a->dils, &a->n_dils);
    if (s == NT_OK && a->n_pads % 2)
        s = nt_error(NT_ERR_PARSE, "node '%s' (DeformConv): pads must have an even count", node->name);
    if (s != NT_OK) {
        free(a);
        return s;
    }
    *state = a;
    return NT_OK;
}

/* The resolved geometry of one run. */
typedef struct deform_geom {
    int nsp;
    int64_t N, C, M, G, OG;              /* batch, in/out channels, groups, offset groups */
    int64_t in[DEFORM_MAX_SP], out[DEFORM_MAX_SP], k[DEFORM_MAX_SP];
    int64_t s[DEFORM_MAX_SP], d[DEFORM_MAX_SP], pb[DEFORM_MAX_SP], pe[DEFORM_MAX_SP];
    int64_t K, IN, OUT;                  /* products of k, in, out */
} deform_geom;

static bool float_type(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_FLOAT16;
}

/* Checks that dim d of t (rank known) is want when both are known. */
static bool dim_ok(const nt_tensor *t, int d, int64_t want)
{
    return t->dims[d] < 0 || want < 0 || t->dims[d] == want;
}

/* Resolves and checks shapes.  *known is false when some rank or needed dim
 * is unknown (static mode); then only what is known was checked. */
static nt_status deform_resolve(const nt_kernel_ctx *ctx, deform_geom *g, bool *known)
{
    const deform_attrs *a = ctx->state;
    const nt_tensor *X = nt_ctx_in(ctx, 0), *W = nt_ctx_in(ctx, 1), *O = nt_ctx_in(ctx, 2);
    const nt_tensor *B = nt_ctx_in(ctx, 3), *Mk = nt_ctx_in(ctx, 4);
    memset(g, 0, sizeof *g);
    *known = false;
    if (!X || !W || !O)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs X, W and offset are required");
    if (X->ndim < 0 || W->ndim < 0)
        return NT_OK;
    if (X->ndim < 3 || X->ndim - 2 > DEFORM_MAX_SP)
        return nt_ctx_error(ctx, X->ndim < 3 ? NT_ERR_SHAPE : NT_ERR_UNSUPPORTED,
                            "X has rank %d; 1 to %d spatial dims are supported", X->ndim, DEFORM_MAX_SP);
    if (W->ndim != X->ndim)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "W has rank %d but X has rank %d", W->ndim, X->ndim);
    int nsp = g->nsp = X->ndim - 2;
    if ((a->n_kernel && a->n_kernel != nsp) || (a->n_strides && a->n_strides != nsp) ||
        (a->n_dils && a->n_dils != nsp) || (a->n_pads && a->n_pads != 2 * nsp))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "attribute lengths do not match %d spatial dims", nsp);
    g->N = X->dims[0];
    g->C = X->dims[1];
    g->M = W->dims[0];
    g->G = a->group;
    g->OG = a->offset_group;
    bool all = g->N >= 0 && g->C >= 0 && g->M >= 0;
    if (g->C >= 0 && W->dims[1] >= 0 && g->C != W->dims[1] * g->G)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X has %lld channels but W expects %lld x group %lld",
                            (long long)g->C, (long long)W->dims[1], (long long)g->G);
    if (g->M >= 0 && g->M % g->G)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%lld output channels do not divide into %lld groups",
                            (long long)g->M, (long long)g->G);
    if (g->C >= 0 && g->C % g->OG)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%lld input channels do not divide into %lld offset groups",
                            (long long)g->C, (long long)g->OG);
    g->K = g->IN = g->OUT = 1;
    bool kknown = true;
    for (int i = 0; i < nsp; i++) {
        int64_t k = W->dims[i + 2];
        if (a->n_kernel && k >= 0 && k != a->kernel[i])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "kernel_shape[%d] = %lld but W has %lld", i,
                                (long long)a->kernel[i], (long long)k);
        if (k < 0 && a->n_kernel)
            k = a->kernel[i];
        g->k[i] = k;
        g->s[i] = a->n_strides ? a->strides[i] : 1;
        g->d[i] = a->n_dils ? a->dils[i] : 1;
        g->pb[i] = a->n_pads ? a->pads[i] : 0;
        g->pe[i] = a->n_pads ? a->pads[i + nsp] : 0;
        g->in[i] = X->dims[i + 2];
        if (k < 0)
            kknown = false;
        else
            g->K *= k;
        if (k < 0 || g->in[i] < 0) {
            g->out[i] = -1;
            all = false;
            continue;
        }
        int64_t span = g->in[i] + g->pb[i] + g->pe[i] - ((k - 1) * g->d[i] + 1);
        if (span < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "the dilated kernel (%lld) exceeds the padded input on axis %d",
                                (long long)((k - 1) * g->d[i] + 1), i);
        g->out[i] = span / g->s[i] + 1;
        g->IN *= g->in[i];
        g->OUT *= g->out[i];
    }
    /* offset (N, OG*K*nsp, out...), mask (N, OG*K, out...), B (M). */
    const nt_tensor *chk[2] = {O, Mk};
    for (int t = 0; t < 2; t++) {
        const nt_tensor *T = chk[t];
        if (!T || T->ndim < 0)
            continue;
        const char *what = t ? "mask" : "offset";
        int64_t ch = kknown ? g->OG * g->K * (t ? 1 : nsp) : -1;
        if (T->ndim != X->ndim || !dim_ok(T, 0, g->N) || !dim_ok(T, 1, ch))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s must be (N, %lld, out...) for offset_group %lld", what,
                                (long long)ch, (long long)g->OG);
        for (int i = 0; i < nsp; i++)
            if (!dim_ok(T, i + 2, g->out[i]))
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s spatial dim %d is %lld but the output has %lld", what,
                                    i, (long long)T->dims[i + 2], (long long)g->out[i]);
    }
    if (B && B->ndim >= 0 && (B->ndim != 1 || !dim_ok(B, 0, g->M)))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "bias must be 1-D of size oC = %lld", (long long)g->M);
    *known = all;
    return NT_OK;
}

static nt_status deform_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *X = nt_ctx_in(ctx, 0);
    if (!X)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input X is required");
    nt_dtype dt = X->dtype;
    if (!(dt == NT_DTYPE_UNDEFINED && ctx->static_mode) && !float_type(dt))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported (float16, float32, float64)",
                            nt_dtype_name(dt));
    for (int i = 1; i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (t && t->dtype != dt && !(ctx->static_mode && (t->dtype == NT_DTYPE_UNDEFINED || dt == NT_DTYPE_UNDEFINED)))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is %s but X is %s", i, nt_dtype_name(t->dtype),
                                nt_dtype_name(dt));
    }
    deform_geom g;
    bool known;
    nt_status s = deform_resolve(ctx, &g, &known);
    if (s != NT_OK)
        return s;
    if (g.nsp == 0) {
        nt_ctx_set_output(ctx, 0, dt, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    if (!known && !ctx->static_mode)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input shapes unknown at run time");
    /* Unknown dims (plan time) stay -1 in the output shape. */
    int64_t dims[2 + DEFORM_MAX_SP] = {g.N, g.M};
    for (int i = 0; i < g.nsp; i++)
        dims[i + 2] = g.out[i];
    return nt_ctx_set_output(ctx, 0, dt, g.nsp + 2, dims);
}

/* ------------------------------------------------------------ compute */

/* All of t as doubles (a new buffer; NULL with a message on failure). */
static double *load_f64(const nt_tensor *t)
{
    int64_t n = nt_tensor_numel(t);
    double *v = nt_malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v)
        return NULL;
    switch (t->dtype) {
    case NT_DTYPE_FLOAT:
        for (int64_t i = 0; i < n; i++)
            v[i] = ((const float *)t->data)[i];
        break;
    case NT_DTYPE_DOUBLE: memcpy(v, t->data, (size_t)n * sizeof *v); break;
    default:
        for (int64_t i = 0; i < n; i++)
            v[i] = nt_half_to_float(((const uint16_t *)t->data)[i]);
        break;
    }
    return v;
}

/* Stores n doubles into t's storage in t's dtype. */
static void store_f64(nt_tensor *t, const double *v, int64_t n)
{
    switch (t->dtype) {
    case NT_DTYPE_FLOAT:
        for (int64_t i = 0; i < n; i++)
            ((float *)t->data)[i] = (float)v[i];
        break;
    case NT_DTYPE_DOUBLE: memcpy(t->data, v, (size_t)n * sizeof *v); break;
    default:
        for (int64_t i = 0; i < n; i++)
            ((uint16_t *)t->data)[i] = nt_float_to_half((float)v[i]);
        break;
    }
}

/* Multilinear sample of one (in...) plane at real coordinates pos[nsp];
 * corners outside the plane count as 0. */
static double sample(const double *x, const deform_geom *g, const double *pos)
{
    int64_t lo[DEFORM_MAX_SP];
    double fr[DEFORM_MAX_SP];
    for (int i = 0; i < g->nsp; i++) {
        double f = floor(pos[i]);
        /* Far outside (or NaN): every corner is outside, so 0 (NaN offsets
         * give NaN, as the interpolation formula would). */
        if (!(f > -2.0 && f < (double)g->in[i] + 1.0))
            return isnan(pos[i]) ? pos[i] : 0.0;
        lo[i] = (int64_t)f;
        fr[i] = pos[i] - f;
    }
    double acc = 0;
    for (int corner = 0; corner < (1 << g->nsp); corner++) {
        double w = 1;
        int64_t idx = 0;
        bool inside = true;
        for (int i = 0; i < g->nsp; i++) {
            int up = (corner >> (g->nsp - 1 - i)) & 1;
            int64_t c = lo[i] + up;
            w *= up ? fr[i] : 1.0 - fr[i];
            inside = inside && c >= 0 && c < g->in[i];
            idx = idx * g->in[i] + c;
        }
        if (inside && w != 0)
            acc += w * x[idx];
    }
    return acc;
}

/* Fills rows [b, e) of col (Cg*K, T) for image n, group gi, out positions
 * [p0, p0+T): row c*K+k holds tap k of input channel gi*Cg+c at each position. */
typedef struct col_job {
    const deform_geom *g;
    const double *x, *off, *mask;   /* whole tensors */
    double *col;
    int64_t n, gi, p0, T;
} col_job;

static void col_range(void *arg, int64_t b, int64_t e)
{
    const col_job *j = arg;
    const deform_geom *g = j->g;
    const int nsp = g->nsp;
    const int64_t Cg = g->C / g->G, K = g->K, OUT = g->OUT, cpog = g->C / g->OG;
    for (int64_t r = b; r < e; r++) {
        int64_t c = r / K, k = r % K, ci = j->gi * Cg + c, og = ci / cpog;
        const double *xp = j->x + (j->n * g->C + ci) * g->IN;
        /* Tap k's index along each kernel axis. */
        int64_t kidx[DEFORM_MAX_SP], rem = k;
        for (int i = nsp - 1; i >= 0; i--) {
            kidx[i] = rem % g->k[i];
            rem /= g->k[i];
        }
        const double *offk = j->off + ((j->n * g->OG + og) * K + k) * nsp * OUT;
        const double *mk = j->mask ? j->mask + ((j->n * g->OG + og) * K + k) * OUT : NULL;
        double *row = j->col + r * j->T;
        for (int64_t t = 0; t < j->T; t++) {
            int64_t p = j->p0 + t, prem = p, o[DEFORM_MAX_SP];
            for (int i = nsp - 1; i >= 0; i--) {
                o[i] = prem % g->out[i];
                prem /= g->out[i];
            }
            double pos[DEFORM_MAX_SP];
            for (int i = 0; i < nsp; i++)
                pos[i] = (double)(o[i] * g->s[i] - g->pb[i] + kidx[i] * g->d[i]) + offk[i * OUT + p];
            double v = sample(xp, g, pos);
            row[t] = mk ? v * mk[p] : v;
        }
    }
}

/* Column tiles hold at most this many doubles (32 MB). */
#define DEFORM_COL_BUDGET ((int64_t)1 << 22)

static nt_status deform_compute(nt_kernel_ctx *ctx)
{
    deform_geom g;
    bool known;
    nt_status s = deform_resolve(ctx, &g, &known);
    if (s != NT_OK)
        return s;
    if (!known)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input shapes unknown at run time");
    const nt_tensor *B = nt_ctx_in(ctx, 3), *Mk = nt_ctx_in(ctx, 4);
    nt_tensor *Y = ctx->out[0];
    const int64_t Cg = g.C / g.G, Mg = g.M / g.G, CgK = Cg * g.K, OUT = g.OUT;
    int64_t ny = nt_tensor_numel(Y);
    if (ny == 0)
        return NT_OK;
    if (CgK > INT32_MAX || OUT > INT32_MAX || Mg > INT32_MAX)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "matrix dimension beyond 2^31");
    int64_t T = DEFORM_COL_BUDGET / (CgK > 0 ? CgK : 1);
    T = T < 1 ? 1 : T > OUT ? OUT : T;
    double *x = load_f64(ctx->in[0]), *w = load_f64(ctx->in[1]), *off = load_f64(ctx->in[2]);
    double *bias = B ? load_f64(B) : NULL, *mask = Mk ? load_f64(Mk) : NULL;
    double *y = nt_malloc((size_t)ny * sizeof *y);
    double *col = nt_malloc((size_t)(CgK > 0 ? CgK : 1) * (size_t)T * sizeof *col);
    if (!x || !w || !off || (B && !bias) || (Mk && !mask) || !y || !col) {
        s = nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for DeformConv buffers");
        goto done;
    }
    for (int64_t n = 0; n < g.N; n++)
        for (int64_t gi = 0; gi < g.G; gi++) {
            double *yg = y + (n * g.M + gi * Mg) * OUT;
            for (int64_t m = 0; m < Mg; m++)
                for (int64_t p = 0; p < OUT; p++)
                    yg[m * OUT + p] = bias ? bias[gi * Mg + m] : 0.0;
            for (int64_t p0 = 0; p0 < OUT; p0 += T) {
                int64_t tl = OUT - p0 < T ? OUT - p0 : T;
                col_job j = {&g, x, off, mask, col, n, gi, p0, tl};
                nt_parallel_for(ctx->exec, CgK, 1, col_range, &j);
                /* yg[:, p0:p0+tl] += W_g (Mg, CgK) · col (CgK, tl) */
                if (CgK > 0)
                    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)Mg, (int)tl, (int)CgK, 1.0,
                                w + gi * Mg * CgK, (int)CgK, col, (int)tl, 1.0, yg + p0, (int)OUT);
            }
        }
    store_f64(Y, y, ny);
done:
    free(x);
    free(w);
    free(off);
    free(bias);
    free(mask);
    free(y);
    free(col);
    return s;
}

const nt_op_def nt_ops_deform[] = {
    {"DeformConv", "", 19, deform_prepare, free, deform_infer, deform_compute},
};
const size_t nt_ops_deform_count = NT_ARRAY_LEN(nt_ops_deform);
