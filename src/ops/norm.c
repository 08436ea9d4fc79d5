/*
 * norm.c — normalization operators: BatchNormalization (inference, and
 * training mode with running statistics), LayerNormalization,
 * RMSNormalization, InstanceNormalization, GroupNormalization (opset 18:
 * scale/bias per group; opset 21: per channel), LRN, LpNormalization and
 * MeanVarianceNormalization.
 *
 * Layer/RMS/Instance/Group normalization share one row kernel: x is viewed
 * as (rows, N) where each row is normalized on its own (mean and biased
 * variance in double, two passes), then an affine map whose parameter index
 * is ((row % rmod) * pr + j / seg) covers every variant without a division
 * per element (the row is walked in segments of `seg` elements):
 *   LayerNorm/RMSNorm: per_elem              (scale[j], pre-broadcast to N)
 *   InstanceNorm:      rmod C, pr 1, seg N   (scale[c] per row)
 *   GroupNorm-18:      rmod G, pr 1, seg N   (scale[g] per row)
 *   GroupNorm-21:      rmod G, pr C/G, seg S (scale[c] per channel segment)
 *
 * float16/bfloat16 are computed through float32 buffers; all statistics are
 * accumulated in double.
 */
#include "ops/kernel.h"
#include "ops/reduce_util.h"
#include "ops/elementwise_common.h"
#include "ops/ew_math.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------ shared helpers */

/* Output 0 = x's dtype and shape; float types only. */
static nt_status norm_infer_same(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "missing input X");
    if (!nt_red_float_ok(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s not supported", nt_dtype_name(x->dtype));
    if (x->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

/* Float32 (or double) input/output views for a float kernel: for 16-bit
 * types, converted copies that norm_io_finish writes back and frees. */
typedef struct norm_io {
    const void *x;
    void *y;
    float *xf, *yf;
    bool dbl;
} norm_io;

static nt_status norm_io_begin(norm_io *io, const nt_tensor *x, nt_tensor *y)
{
    memset(io, 0, sizeof *io);
    io->dbl = x->dtype == NT_DTYPE_DOUBLE;
    io->x = x->data;
    io->y = y->data;
    if (x->dtype == NT_DTYPE_FLOAT16 || x->dtype == NT_DTYPE_BFLOAT16) {
        int64_t n = nt_tensor_numel(x);
        io->xf = nt_red_to_f32(x, n);
        io->yf = nt_malloc((size_t)NT_MAX(n, 1) * sizeof(float));
        if (!io->xf || !io->yf) {
            free(io->xf);
            free(io->yf);
            return NT_ERR_NOMEM;
        }
        io->x = io->xf;
        io->y = io->yf;
    }
    return NT_OK;
}

static void norm_io_finish(norm_io *io, nt_tensor *y)
{
    if (io->yf)
        nt_red_from_f32(y->dtype, io->yf, y->data, nt_tensor_numel(y));
    free(io->xf);
    free(io->yf);
}

/*
 * Broadcasts parameter p (unidirectionally) to the shape dims[0..nd) and
 * returns the expanded values as doubles (n = prod dims), or NULL with an
 * error when the shapes do not broadcast.
 */
static double *norm_expand(const nt_kernel_ctx *ctx, const nt_tensor *p, int nd, const int64_t *dims, const char *what)
{
    int64_t n = nt_red_prod(dims, 0, nd);
    if (p->ndim > nd) {
        nt_ctx_error(ctx, NT_ERR_SHAPE, "%s has rank %d, more than the normalized rank %d", what, p->ndim, nd);
        return NULL;
    }
    int64_t pst[NT_MAX_DIMS];  /* p's stride per target dim, 0 where broadcast */
    int64_t s = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int pd = d - (nd - p->ndim);
        if (pd < 0) {
            pst[d] = 0;
            continue;
        }
        if (p->dims[pd] == dims[d])
            pst[d] = s;
        else if (p->dims[pd] == 1)
            pst[d] = 0;
        else {
            nt_ctx_error(ctx, NT_ERR_SHAPE, "%s does not broadcast to the normalized shape", what);
            return NULL;
        }
        s *= p->dims[pd];
    }
    double *src = nt_red_to_f64(p, nt_tensor_numel(p));
    double *out = nt_malloc((size_t)NT_MAX(n, 1) * sizeof(double));
    if (!src || !out) {
        free(src);
        free(out);
        return NULL;
    }
    int64_t idx[NT_MAX_DIMS] = {0}, off = 0;
    for (int64_t i = 0; i < n; i++) {
        out[i] = src[off];
        for (int d = nd - 1; d >= 0; d--) {
            off += pst[d];
            if (++idx[d] < dims[d])
                break;
            off -= pst[d] * dims[d];
            idx[d] = 0;
        }
    }
    free(src);
    return out;
}

/* ------------------------------------------------------------ row normalization */

typedef struct row_job {
    const void *x;
    void *y;
    int64_t rows, N;
    double eps;
    bool rms;                      /* no mean subtraction (RMSNormalization) */
    const double *scale, *bias;    /* bias may be NULL */
    int64_t rmod, pr, seg;         /* parameter index = (row % rmod) * pr + j / seg */
    bool per_elem;                 /* instead: scale[j], bias[j] (LayerNorm, RMSNorm) */
    float *mean_f, *inv_f;         /* optional per-row outputs (LayerNorm) */
    double *mean_d, *inv_d;
    bool dbl;
} row_job;

/* rows [b, e) of x (rows, N): y = (x - mean) / sqrt(var + eps) * scale + bias. */
#define DEF_ROWS(T, SUF)                                                                      \
    static void rows_##SUF(const row_job *j, int64_t b, int64_t e)                            \
    {                                                                                         \
        const int64_t N = j->N;                                                               \
        for (int64_t r = b; r < e; r++) {                                                     \
            const T *x = (const T *)j->x + r * N;                                             \
            T *y = (T *)j->y + r * N;                                                         \
            double mean = 0, ss = 0;                                                          \
            if (!j->rms) {                                                                    \
                for (int64_t i = 0; i < N; i++)                                               \
                    mean += x[i];                                                             \
                mean /= (double)N;                                                            \
            }                                                                                 \
            for (int64_t i = 0; i < N; i++) {                                                 \
                double d = x[i] - mean;                                                       \
                ss += d * d;                                                                  \
            }                                                                                 \
            double inv = 1.0 / sqrt(ss / (double)N + j->eps);                                 \
            if (j->mean_f)                                                                    \
                j->mean_f[r] = (float)mean;                                                   \
            if (j->inv_f)                                                                     \
                j->inv_f[r] = (float)inv;                                                     \
            if (j->mean_d)                                                                    \
                j->mean_d[r] = mean;                                                          \
            if (j->inv_d)                                                                     \
                j->inv_d[r] = inv;                                                            \
            int64_t p = (r % j->rmod) * j->pr;                                                \
            for (int64_t s0 = 0; s0 < N; s0 += j->seg, p++) {                                 \
                int64_t s1 = NT_MIN(N, s0 + j->seg);                                          \
                if (j->per_elem) { /* parameters broadcast to the row */                      \
                    for (int64_t i = 0; i < N; i++)                                           \
                        y[i] = (T)((x[i] - mean) * inv * j->scale[i] + (j->bias ? j->bias[i] : 0)); \
                    break;                                                                    \
                }                                                                             \
                double a = inv * j->scale[p], c = j->bias ? j->bias[p] : 0;                   \
                for (int64_t i = s0; i < s1; i++)                                             \
                    y[i] = (T)((x[i] - mean) * a + c);                                        \
            }                                                                                 \
        }                                                                                     \
    }
DEF_ROWS(float, f32)
DEF_ROWS(double, f64)

/* The float32 rows of LayerNormalization / RMSNormalization with
 * per-element parameters, vectorized: the sums over a row run in
 * ROWS_LANES double lanes folded pairwise in a fixed order (so every CPU
 * clone gives the same bits), the rest is rows_f32's arithmetic. */
#define ROWS_LANES 16
NT_EW_NO_TRAP NT_EW_ATTR_FLOAT static void rows_f32_lanes(const row_job *j, int64_t b, int64_t e)
{
    const int64_t N = j->N;
    for (int64_t r = b; r < e; r++) {
        const float *x = (const float *)j->x + r * N;
        float *y = (float *)j->y + r * N;
        double mean = 0, acc[ROWS_LANES];
        int64_t i;
        if (!j->rms) {
            for (int l = 0; l < ROWS_LANES; l++)
                acc[l] = 0;
            for (i = 0; i + ROWS_LANES <= N; i += ROWS_LANES)
                for (int l = 0; l < ROWS_LANES; l++)
                    acc[l] += x[i + l];
            for (int w = ROWS_LANES / 2; w >= 1; w /= 2)
                for (int l = 0; l < w; l++)
                    acc[l] += acc[l + w];
            mean = acc[0];
            for (; i < N; i++)
                mean += x[i];
            mean /= (double)N;
        }
        for (int l = 0; l < ROWS_LANES; l++)
            acc[l] = 0;
        for (i = 0; i + ROWS_LANES <= N; i += ROWS_LANES)
            for (int l = 0; l < ROWS_LANES; l++) {
                double d = x[i + l] - mean;
                acc[l] += d * d;
            }
        for (int w = ROWS_LANES / 2; w >= 1; w /= 2)
            for (int l = 0; l < w; l++)
                acc[l] += acc[l + w];
        double ss = acc[0];
        for (; i < N; i++) {
            double d = x[i] - mean;
            ss += d * d;
        }
        double inv = 1.0 / sqrt(ss / (double)N + j->eps);
        if (j->mean_f)
            j->mean_f[r] = (float)mean;
        if (j->inv_f)
            j->inv_f[r] = (float)inv;
        if (j->bias)
            for (i = 0; i < N; i++)
                y[i] = (float)((x[i] - mean) * inv * j->scale[i] + j->bias[i]);
        else
            for (i = 0; i < N; i++)
                y[i] = (float)((x[i] - mean) * inv * j->scale[i] + 0);
    }
}

static void rows_range(void *arg, int64_t b, int64_t e)
{
    const row_job *j = arg;
    if (!j->dbl && j->per_elem && !j->mean_d && !j->inv_d)
        rows_f32_lanes(j, b, e);
    else if (j->dbl)
        rows_f64(j, b, e);
    else
        rows_f32(j, b, e);
}

/* Runs a row job over io's buffers; frees nothing. */
static void rows_run(nt_kernel_ctx *ctx, row_job *j, const norm_io *io)
{
    j->x = io->x;
    j->y = io->y;
    j->dbl = io->dbl;
    if (j->rows > 0 && j->N > 0)
        nt_parallel_for(ctx->exec, j->rows, NT_MAX(1, 16384 / j->N), rows_range, j);
}

/* ---- LayerNormalization (17) and RMSNormalization (23) */

static nt_status ln_axis(const nt_kernel_ctx *ctx, int rank, int *axis)
{
    int64_t a = nt_node_attr_int(ctx->node, "axis", -1);
    if (!nt_red_axis(a, rank, axis))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)a, rank);
    return NT_OK;
}

/* Y like X; Mean and InvStdDev (LayerNorm) are X's shape with dims[axis:] = 1. */
static nt_status ln_infer(nt_kernel_ctx *ctx)
{
    nt_status s = norm_infer_same(ctx);
    const nt_tensor *x = ctx->in[0];
    if (s != NT_OK || x->ndim < 0)
        return s;
    const nt_tensor *sc = nt_ctx_in(ctx, 1);
    if (!sc)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "missing Scale");
    int axis;
    if ((s = ln_axis(ctx, x->ndim, &axis)) != NT_OK)
        return s;
    nt_dtype u = x->dtype == NT_DTYPE_DOUBLE ? NT_DTYPE_DOUBLE : NT_DTYPE_FLOAT;
    int64_t sd[NT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        sd[d] = d < axis ? x->dims[d] : 1;
    for (int o = 1; o < 3; o++)
        if ((s = nt_ctx_set_output(ctx, o, u, x->ndim, sd)) != NT_OK)
            return s;
    return NT_OK;
}

static nt_status ln_compute_common(nt_kernel_ctx *ctx, bool rms)
{
    const nt_tensor *x = ctx->in[0], *sc = ctx->in[1], *bi = rms ? NULL : nt_ctx_in(ctx, 2);
    nt_tensor *y = ctx->out[0], *mo = nt_ctx_out(ctx, 1), *io_ = nt_ctx_out(ctx, 2);
    int axis;
    nt_status s = ln_axis(ctx, x->ndim, &axis);
    if (s != NT_OK)
        return s;
    int nd = x->ndim - axis;
    row_job j = {0};
    j.rows = nt_red_prod(x->dims, 0, axis);
    j.N = nt_red_prod(x->dims, axis, x->ndim);
    j.eps = nt_node_attr_float(ctx->node, "epsilon", 1e-5f);
    j.rms = rms;
    j.rmod = 1;
    j.pr = 0;
    j.seg = NT_MAX(j.N, 1);
    j.per_elem = true;
    double *scale = norm_expand(ctx, sc, nd, x->dims + axis, "Scale");
    double *bias = bi ? norm_expand(ctx, bi, nd, x->dims + axis, "B") : NULL;
    if (!scale || (bi && !bias)) {
        free(scale);
        free(bias);
        return nt_error_wrap(NT_ERR_SHAPE, "LayerNormalization parameters");
    }
    j.scale = scale;
    j.bias = bias;
    if (!rms) {
        bool d = x->dtype == NT_DTYPE_DOUBLE;
        if (mo)
            *(d ? (void **)&j.mean_d : (void **)&j.mean_f) = mo->data;
        if (io_)
            *(d ? (void **)&j.inv_d : (void **)&j.inv_f) = io_->data;
    }
    norm_io io;
    if ((s = norm_io_begin(&io, x, y)) == NT_OK) {
        rows_run(ctx, &j, &io);
        norm_io_finish(&io, y);
    }
    free(scale);
    free(bias);
    return s;
}

static nt_status ln_compute(nt_kernel_ctx *ctx) { return ln_compute_common(ctx, false); }
static nt_status rms_compute(nt_kernel_ctx *ctx) { return ln_compute_common(ctx, true); }

/* ---- InstanceNormalization (1, 6) and GroupNormalization (18, 21) */

/* Checks that x is (N, C, ...) and parameter i holds `want` elements. */
static nt_status nc_check_param(const nt_kernel_ctx *ctx, int i, int64_t want, const char *what)
{
    const nt_tensor *p = nt_ctx_in(ctx, i);
    if (!p)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "missing %s", what);
    if (!nt_red_float_ok(p->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s dtype %s not supported", what, nt_dtype_name(p->dtype));
    int64_t n = nt_tensor_numel(p);
    if (n >= 0 && want >= 0 && n != want)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s has %lld elements, expected %lld", what, (long long)n,
                            (long long)want);
    return NT_OK;
}

static nt_status in_infer(nt_kernel_ctx *ctx)
{
    nt_status s = norm_infer_same(ctx);
    const nt_tensor *x = ctx->in[0];
    if (s != NT_OK || x->ndim < 0)
        return s;
    if (x->ndim < 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be (N, C, ...)");
    if ((s = nc_check_param(ctx, 1, x->dims[1], "scale")) != NT_OK)
        return s;
    return nc_check_param(ctx, 2, x->dims[1], "B");
}

static nt_status in_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t C = x->dims[1];
    row_job j = {0};
    j.rows = x->dims[0] * C;
    j.N = nt_red_prod(x->dims, 2, x->ndim);
    j.eps = nt_node_attr_float(ctx->node, "epsilon", 1e-5f);
    j.rmod = C;
    j.pr = 1;
    j.seg = NT_MAX(j.N, 1);
    double *scale = nt_red_to_f64(ctx->in[1], C), *bias = nt_red_to_f64(ctx->in[2], C);
    nt_status s = NT_ERR_NOMEM;
    norm_io io;
    if (scale && bias && (s = norm_io_begin(&io, x, y)) == NT_OK) {
        j.scale = scale;
        j.bias = bias;
        rows_run(ctx, &j, &io);
        norm_io_finish(&io, y);
    }
    free(scale);
    free(bias);
    return s;
}

/* GroupNormalization: scale/bias hold num_groups (opset 18) or C (21) values. */
static nt_status gn_infer(nt_kernel_ctx *ctx)
{
    nt_status s = norm_infer_same(ctx);
    const nt_tensor *x = ctx->in[0];
    if (s != NT_OK || x->ndim < 0)
        return s;
    int64_t G = nt_node_attr_int(ctx->node, "num_groups", 0);
    if (x->ndim < 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be (N, C, ...)");
    if (G <= 0 || (x->dims[1] >= 0 && x->dims[1] % G != 0))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "num_groups %lld does not divide C = %lld", (long long)G,
                            (long long)x->dims[1]);
    int64_t want = ctx->opset >= 21 ? x->dims[1] : G;
    if ((s = nc_check_param(ctx, 1, want, "scale")) != NT_OK)
        return s;
    return nc_check_param(ctx, 2, want, "bias");
}

static nt_status gn_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t C = x->dims[1], G = nt_node_attr_int(ctx->node, "num_groups", 0);
    int64_t S = nt_red_prod(x->dims, 2, x->ndim);
    bool per_channel = ctx->opset >= 21;
    int64_t np = per_channel ? C : G;
    row_job j = {0};
    j.rows = x->dims[0] * G;
    j.N = C / G * S;
    j.eps = nt_node_attr_float(ctx->node, "epsilon", 1e-5f);
    j.rmod = G;
    j.pr = per_channel ? C / G : 1;
    j.seg = per_channel ? S : j.N;
    double *scale = nt_red_to_f64(ctx->in[1], np), *bias = nt_red_to_f64(ctx->in[2], np);
    nt_status s = NT_ERR_NOMEM;
    norm_io io;
    if (scale && bias && (s = norm_io_begin(&io, x, y)) == NT_OK) {
        j.scale = scale;
        j.bias = bias;
        rows_run(ctx, &j, &io);
        norm_io_finish(&io, y);
    }
    free(scale);
    free(bias);
    return s;
}

/* ------------------------------------------------------------ BatchNormalization */

/*
 * Y = (X - mean) / sqrt(var + eps) * scale + B per channel of X (N, C, ...).
 * Before opset 9, spatial = 0 gives parameters of shape (C, D1, ...): then
 * every element of a sample is its own "channel".  training_mode = 1
 * (opset 14+) normalizes with the batch statistics and outputs the running
 * mean/variance, updated with momentum.
 */
static nt_status bn_layout(const nt_kernel_ctx *ctx, const nt_tensor *x, int64_t *C, int64_t *S)
{
    if (x->ndim < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be (N, C, ...)");
    int64_t c = x->ndim > 1 ? x->dims[1] : 1, s = nt_red_prod(x->dims, 2, x->ndim);
    if (ctx->opset < 9 && nt_node_attr_int(ctx->node, "spatial", 1) == 0) {
        c *= s;
        s = 1;
    }
    *C = c;
    *S = s;
    return NT_OK;
}

static bool bn_training(const nt_kernel_ctx *ctx)
{
    return ctx->opset >= 14 && nt_node_attr_int(ctx->node, "training_mode", 0) != 0;
}

static nt_status bn_infer(nt_kernel_ctx *ctx)
{
    nt_status s = norm_infer_same(ctx);
    const nt_tensor *x = ctx->in[0];
    if (s != NT_OK)
        return s;
    if (ctx->opset < 14) {
        /* old training outputs (mean, var, saved_mean, saved_var) */
        for (int i = 1; i < ctx->n_out; i++)
            if (ctx->out[i])
                return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "training outputs before opset 14 are not supported");
    } else if (!bn_training(ctx)) {
        for (int i = 1; i < ctx->n_out; i++)
            if (ctx->out[i])
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "outputs 1-2 exist only with training_mode = 1");
    }
    if (x->ndim < 0)
        return NT_OK;
    if (ctx->n_in < 5)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "BatchNormalization needs 5 inputs");
    int64_t C = -1, S;
    if (!nt_ctx_shapes_unknown(ctx) && (s = bn_layout(ctx, x, &C, &S)) != NT_OK)
        return s;
    const char *names[] = {"scale", "B", "mean", "var"};
    for (int i = 1; i < 5; i++)
        if ((s = nc_check_param(ctx, i, C, names[i - 1])) != NT_OK)
            return s;
    for (int o = 1; o < 3; o++) {
        const nt_tensor *m = ctx->in[2 + o];
        if ((s = nt_ctx_set_output(ctx, o, m->dtype, m->ndim, m->dims)) != NT_OK)
            return s;
    }
    return NT_OK;
}

typedef struct bn_job {
    const void *x;
    void *y;
    int64_t C, S;
    const double *a, *b;   /* y = x * a[c] + b[c] */
    bool dbl;
} bn_job;

#define DEF_BN(T, SUF)                                                          \
    static void bn_apply_##SUF(const bn_job *j, int64_t b, int64_t e)           \
    {                                                                           \
        for (int64_t r = b; r < e; r++) { /* r = n * C + c */                   \
            int64_t c = r % j->C;                                               \
            const T *x = (const T *)j->x + r * j->S;                            \
            T *y = (T *)j->y + r * j->S;                                        \
            double a = j->a[c], bb = j->b[c];                                   \
            for (int64_t i = 0; i < j->S; i++)                                  \
                y[i] = (T)(x[i] * a + bb);                                      \
        }                                                                       \
    }                                                                           \
    /* Per-channel batch mean and biased variance over (N, S). */              \
    static void bn_stats_##SUF(const T *x, int64_t N, int64_t C, int64_t S, double *mean, double *var) \
    {                                                                           \
        for (int64_t c = 0; c < C; c++) {                                       \
            double m = 0, v = 0;                                                \
            for (int64_t n = 0; n < N; n++)                                     \
                for (int64_t i = 0; i < S; i++)                                 \
                    m += x[(n * C + c) * S + i];                                \
            m /= (double)(N * S);                                               \
            for (int64_t n = 0; n < N; n++)                                     \
                for (int64_t i = 0; i < S; i++) {                               \
                    double d = x[(n * C + c) * S + i] - m;                      \
                    v += d * d;                                                 \
                }                                                               \
            mean[c] = m;                                                        \
            var[c] = v / (double)(N * S);                                       \
        }                                                                       \
    }
DEF_BN(float, f32)
DEF_BN(double, f64)

static void bn_range(void *arg, int64_t b, int64_t e)
{
    const bn_job *j = arg;
    if (j->dbl)
        bn_apply_f64(j, b, e);
    else
        bn_apply_f32(j, b, e);
}

static nt_status bn_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t C, S;
    nt_status s = bn_layout(ctx, x, &C, &S);
    if (s != NT_OK)
        return s;
    int64_t N = x->dims[0];
    double eps = nt_node_attr_float(ctx->node, "epsilon", 1e-5f);
    double *p[4] = {0}, *a = nt_malloc((size_t)NT_MAX(C, 1) * 2 * sizeof(double));
    norm_io io;
    bool io_ok = false;
    s = a ? NT_OK : NT_ERR_NOMEM;
    for (int i = 0; i < 4 && s == NT_OK; i++)
        if (!(p[i] = nt_red_to_f64(ctx->in[1 + i], C)))
            s = NT_ERR_NOMEM;
    if (s == NT_OK && (s = norm_io_begin(&io, x, y)) == NT_OK)
        io_ok = true;
    if (s == NT_OK) {
        double *mean = p[2], *var = p[3];
        double *bm = NULL;
        if (bn_training(ctx)) {
            bm = nt_malloc((size_t)NT_MAX(C, 1) * 2 * sizeof(double));
            if (!bm) {
                s = NT_ERR_NOMEM;
                goto done;
            }
            if (io.dbl)
                bn_stats_f64(io.x, N, C, S, bm, bm + C);
            else
                bn_stats_f32(io.x, N, C, S, bm, bm + C);
            double mom = nt_node_attr_float(ctx->node, "momentum", 0.9f);
            nt_tensor *rm = nt_ctx_out(ctx, 1), *rv = nt_ctx_out(ctx, 2);
            for (int64_t c = 0; c < C; c++) {
                if (rm)
                    nt_tensor_set_f64(rm, c, mean[c] * mom + bm[c] * (1 - mom));
                if (rv)
                    nt_tensor_set_f64(rv, c, var[c] * mom + bm[C + c] * (1 - mom));
            }
            mean = bm;
            var = bm + C;
        }
        for (int64_t c = 0; c < C; c++) {
            a[c] = p[0][c] / sqrt(var[c] + eps);
            a[C + c] = p[1][c] - mean[c] * a[c];
        }
        free(bm);
        bn_job j = {io.x, io.y, C, S, a, a + C, io.dbl};
        if (N * C > 0)
            nt_parallel_for(ctx->exec, N * C, NT_MAX(1, 16384 / NT_MAX(1, S)), bn_range, &j);
    }
done:
    if (io_ok)
        norm_io_finish(&io, y);
    for (int i = 0; i < 4; i++)
        free(p[i]);
    free(a);
    return s;
}

/* ------------------------------------------------------------ LRN */

/* y[n,c,...] = x / (bias + alpha/size * sum_{c' in window(c)} x[n,c',...]^2)^beta,
 * window(c) = [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to [0, C). */
typedef struct lrn_job {
    const void *x;
    void *y;
    int64_t C, S;
    int64_t lo, hi;
    double alpha, beta, bias;
    int64_t size;
    bool dbl;
} lrn_job;

#define DEF_LRN(T, SUF)                                                         \
    static void lrn_##SUF(const lrn_job *j, int64_t b, int64_t e)               \
    {                                                                           \
        for (int64_t r = b; r < e; r++) { /* r = n * C + c */                   \
            int64_t c = r % j->C, n0 = r - c;                                   \
            int64_t c0 = NT_MAX(0, c - j->lo), c1 = NT_MIN(j->C - 1, c + j->hi); \
            const T *x = (const T *)j->x;                                       \
            T *y = (T *)j->y + r * j->S;                                        \
            for (int64_t i = 0; i < j->S; i++) {                                \
                double ss = 0;                                                  \
                for (int64_t k = c0; k <= c1; k++) {                            \
                    double v = x[(n0 + k) * j->S + i];                          \
                    ss += v * v;                                                \
                }                                                               \
                double den = pow(j->bias + j->alpha / (double)j->size * ss, j->beta); \
                y[i] = (T)(x[r * j->S + i] / den);                              \
            }                                                                   \
        }                                                                       \
    }
DEF_LRN(float, f32)
DEF_LRN(double, f64)

static void lrn_range(void *arg, int64_t b, int64_t e)
{
    const lrn_job *j = arg;
    if (j->dbl)
        lrn_f64(j, b, e);
    else
        lrn_f32(j, b, e);
}

static nt_status lrn_infer(nt_kernel_ctx *ctx)
{
    nt_status s = norm_infer_same(ctx);
    if (s != NT_OK)
        return s;
    if (nt_node_attr_int(ctx->node, "size", 0) <= 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "size must be positive");
    if (ctx->in[0]->ndim >= 0 && ctx->in[0]->ndim < 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be (N, C, ...)");
    return NT_OK;
}

static nt_status lrn_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t size = nt_node_attr_int(ctx->node, "size", 1);
    lrn_job j = {NULL, NULL, x->dims[1], nt_red_prod(x->dims, 2, x->ndim), (size - 1) / 2, size / 2,
                 nt_node_attr_float(ctx->node, "alpha", 1e-4f), nt_node_attr_float(ctx->node, "beta", 0.75f),
                 nt_node_attr_float(ctx->node, "bias", 1.0f), size, false};
    norm_io io;
    nt_status s = norm_io_begin(&io, x, y);
    if (s != NT_OK)
        return s;
    j.x = io.x;
    j.y = io.y;
    j.dbl = io.dbl;
    int64_t rows = x->dims[0] * j.C;
    if (rows > 0 && j.S > 0)
        nt_parallel_for(ctx->exec, rows, NT_MAX(1, 4096 / NT_MAX(1, j.S * size)), lrn_range, &j);
    norm_io_finish(&io, y);
    return NT_OK;
}

/* ------------------------------------------------------------ LpNormalization */

/* y = x / ||x||_p along axis (p = 1 or 2); x viewed as (O, N, I). */
typedef struct lp_job {
    const void *x;
    void *y;
    int64_t N, I;
    int p;
    bool dbl;
} lp_job;

#define DEF_LP(T, SUF)                                                          \
    static void lp_##SUF(const lp_job *j, int64_t b, int64_t e)                 \
    {                                                                           \
        for (int64_t t = b; t < e; t++) { /* t = o * I + i */                   \
            int64_t o = t / j->I, i = t - o * j->I;                             \
            const T *x = (const T *)j->x + o * j->N * j->I + i;                 \
            T *y = (T *)j->y + o * j->N * j->I + i;                             \
            double s = 0;                                                       \
            for (int64_t k = 0; k < j->N; k++) {                                \
                double v = x[k * j->I];                                         \
                s += j->p == 1 ? fabs(v) : v * v;                               \
            }                                                                   \
            /* an all-zero slice stays zero (the reference's choice), not 0/0 */ \
            double norm = j->p == 1 ? s : sqrt(s);                              \
            for (int64_t k = 0; k < j->N; k++)                                  \
                y[k * j->I] = (T)(norm == 0 ? 0.0 : x[k * j->I] / norm);        \
        }                                                                       \
    }
DEF_LP(float, f32)
DEF_LP(double, f64)

static void lp_range(void *arg, int64_t b, int64_t e)
{
    const lp_job *j = arg;
    if (j->dbl)
        lp_f64(j, b, e);
    else
        lp_f32(j, b, e);
}

static nt_status lp_infer(nt_kernel_ctx *ctx)
{
    nt_status s = norm_infer_same(ctx);
    if (s != NT_OK)
        return s;
    int64_t p = nt_node_attr_int(ctx->node, "p", 2);
    if (p != 1 && p != 2)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "p = %lld (only 1 and 2 are defined)", (long long)p);
    int a;
    const nt_tensor *x = ctx->in[0];
    if (x->ndim >= 0 && !nt_red_axis(nt_node_attr_int(ctx->node, "axis", -1), x->ndim, &a))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis out of range for rank %d", x->ndim);
    return NT_OK;
}

static nt_status lp_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int a;
    if (!nt_red_axis(nt_node_attr_int(ctx->node, "axis", -1), x->ndim, &a))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis out of range for rank %d", x->ndim);
    lp_job j = {NULL, NULL, x->dims[a], nt_red_prod(x->dims, a + 1, x->ndim),
                (int)nt_node_attr_int(ctx->node, "p", 2), false};
    norm_io io;
    nt_status s = norm_io_begin(&io, x, y);
    if (s != NT_OK)
        return s;
    j.x = io.x;
    j.y = io.y;
    j.dbl = io.dbl;
    int64_t lines = nt_red_prod(x->dims, 0, a) * j.I;
    if (lines > 0)
        nt_parallel_for(ctx->exec, lines, NT_MAX(1, 16384 / NT_MAX(1, j.N)), lp_range, &j);
    norm_io_finish(&io, y);
    return NT_OK;
}

/* ------------------------------------------------------------ MeanVarianceNormalization */

/* y = (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9), expectations over `axes`
 * (default {0, 2, 3}).  Rare in practice, so one generic odometer walk
 * accumulates per-kept-index sums, a second applies them. */
static nt_status mvn_axes(const nt_kernel_ctx *ctx, int rank, bool *mask)
{
    static const int64_t dflt[] = {0, 2, 3};
    const int64_t *ax;
    int n = nt_node_attr_ints(ctx->node, "axes", &ax);
    if (!ax) {
        ax = dflt;
        n = 3;
    }
    memset(mask, 0, NT_MAX_DIMS * sizeof(bool));
    for (int i = 0; i < n; i++) {
        int d;
        if (!nt_red_axis(ax[i], rank, &d))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)ax[i], rank);
        mask[d] = true;
    }
    return NT_OK;
}

static nt_status mvn_infer(nt_kernel_ctx *ctx)
{
    nt_status s = norm_infer_same(ctx);
    bool mask[NT_MAX_DIMS];
    if (s != NT_OK || ctx->in[0]->ndim < 0)
        return s;
    return mvn_axes(ctx, ctx->in[0]->ndim, mask);
}

static nt_status mvn_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    bool mask[NT_MAX_DIMS];
    nt_status s = mvn_axes(ctx, x->ndim, mask);
    if (s != NT_OK)
        return s;
    int r = x->ndim;
    int64_t n = nt_tensor_numel(x), ng = 1, cnt = 1, kst[NT_MAX_DIMS];
    for (int d = r - 1; d >= 0; d--) {
        kst[d] = mask[d] ? 0 : ng;
        if (mask[d])
            cnt *= x->dims[d];
        else
            ng *= x->dims[d];
    }
    if (n == 0)
        return NT_OK;
    double *acc = nt_calloc((size_t)ng * 2, sizeof(double));
    if (!acc)
        return NT_ERR_NOMEM;
    for (int pass = 0; pass < 2; pass++) {
        int64_t idx[NT_MAX_DIMS] = {0}, k = 0;
        for (int64_t i = 0; i < n; i++) {
            double v = nt_tensor_get_f64(x, i);
            if (pass == 0) {
                acc[2 * k] += v;
                acc[2 * k + 1] += v * v;
            } else {
                double m = acc[2 * k], sd = acc[2 * k + 1];
                nt_tensor_set_f64(y, i, (v - m) / (sd + 1e-9));
            }
            for (int d = r - 1; d >= 0; d--) {
                k += kst[d];
                if (++idx[d] < x->dims[d])
                    break;
                k -= kst[d] * x->dims[d];
                idx[d] = 0;
            }
        }
        if (pass == 0)
            for (int64_t g = 0; g < ng; g++) {
                double m = acc[2 * g] / (double)cnt, var = acc[2 * g + 1] / (double)cnt - m * m;
                acc[2 * g] = m;
                acc[2 * g + 1] = sqrt(var > 0 ? var : 0);
            }
    }
    free(acc);
    return NT_OK;
}

/* ------------------------------------------------------------ table */

const nt_op_def nt_ops_norm[] = {
    /* BatchNormalization: 6/7 dropped consumed_inputs/is_test, 9 dropped spatial,
     * 14 added training_mode and changed the outputs, 15 split the types. */
    {"BatchNormalization", "", 1, NULL, NULL, bn_infer, bn_compute},
    {"BatchNormalization", "", 9, NULL, NULL, bn_infer, bn_compute},
    {"BatchNormalization", "", 14, NULL, NULL, bn_infer, bn_compute},
    {"BatchNormalization", "", 15, NULL, NULL, bn_infer, bn_compute},
    {"LayerNormalization", "", 17, NULL, NULL, ln_infer, ln_compute},
    {"RMSNormalization", "", 23, NULL, NULL, ln_infer, rms_compute},
    {"InstanceNormalization", "", 1, NULL, NULL, in_infer, in_compute},
    {"GroupNormalization", "", 18, NULL, NULL, gn_infer, gn_compute},
    {"GroupNormalization", "", 21, NULL, NULL, gn_infer, gn_compute},
    {"LRN", "", 1, NULL, NULL, lrn_infer, lrn_compute},
    {"LpNormalization", "", 1, NULL, NULL, lp_infer, lp_compute},
    {"MeanVarianceNormalization", "", 9, NULL, NULL, mvn_infer, mvn_compute},
};
const size_t nt_ops_norm_count = NT_ARRAY_LEN(nt_ops_norm);
