/*
 * softmax.c — Softmax, LogSoftmax and Hardmax.
 *
 * Two axis semantics exist in ONNX:
 *   opset < 13: the input is coerced to 2-D at `axis` (default 1): rows are
 *               dims[:axis], the normalized "row" is everything from axis on.
 *   opset >= 13: the op normalizes along the single dimension `axis`
 *               (default -1); all other dimensions are independent.
 * Both reduce to one layout, x viewed as (O, N, I): O independent outer
 * blocks, N the normalized length, I the inner stride (I == 1 for the
 * coerced form and for the last axis, the common cases, which run
 * contiguous rows; I > 1 keeps per-inner running vectors so memory is still
 * walked contiguously).
 *
 * Numerics: the maximum is subtracted before exp (no overflow), the sum of
 * exponentials is accumulated in double.  float16/bfloat16 are computed
 * through float32 buffers.
 *
 * float32 Softmax along contiguous rows, what attention spends its time in,
 * runs at memory speed: one pass for the maximum, one for exp (ew_math.h's,
 * vectorized) and the sum, one to scale, each over fixed-width lanes whose
 * partial sums (double) are added in a fixed order at the end: the same
 * bits whichever of the AVX-512, AVX2 or baseline clones runs.
 */
#include "ops/kernel.h"
#include "ops/reduce_util.h"
#include "ops/elementwise_common.h"
#include "ops/ew_math.h"
#include "ops/softmax.h"

#include <math.h>
#include <string.h>

typedef enum { SM_SOFTMAX, SM_LOG, SM_HARD } sm_kind;

typedef struct sm_job {
    sm_kind kind;
    int64_t O, N, I;
    const void *x;
    void *y;
    bool dbl;          /* double data, else float */
    nt_status status;  /* NT_NOMEM from a worker's scratch allocation */
} sm_job;

/* One contiguous row of n values: y = softmax/logsoftmax/hardmax(x). */
#define SM_ROW(T, SUF, EXP)                                                     \
    static void sm_row_##SUF(sm_kind kind, const T *x, T *y, int64_t n)          \
    {                                                                            \
        T mx = x[0];                                                             \
        int64_t arg = 0;                                                         \
        for (int64_t i = 1; i < n; i++)                                          \
            if (x[i] > mx) {                                                     \
                mx = x[i];                                                       \
                arg = i;                                                         \
            }                                                                    \
        if (kind == SM_HARD) {                                                   \
            for (int64_t i = 0; i < n; i++)                                      \
                y[i] = (T)(i == arg);                                            \
            return;                                                              \
        }                                                                        \
        double sum = 0;                                                          \
        if (kind == SM_SOFTMAX) {                                                \
            for (int64_t i = 0; i < n; i++) {                                    \
                T e = EXP(x[i] - mx);                                            \
                y[i] = e;                                                        \
                sum += e;                                                        \
            }                                                                    \
            T inv = (T)(1.0 / sum);                                              \
            for (int64_t i = 0; i < n; i++)                                      \
                y[i] *= inv;                                                     \
        } else {                                                                 \
            for (int64_t i = 0; i < n; i++)                                      \
                sum += EXP(x[i] - mx);                                           \
            T off = (T)((double)mx + log(sum));                                  \
            for (int64_t i = 0; i < n; i++)                                      \
                y[i] = x[i] - off;                                               \
        }                                                                        \
    }                                                                            \
    /* One (N, I) block with I > 1: normalize each of the I columns. */         \
    static bool sm_block_##SUF(sm_kind kind, const T *x, T *y, int64_t n, int64_t inner) \
    {                                                                            \
        double *mx = nt_malloc((size_t)inner * 2 * sizeof(double));              \
        if (!mx)                                                                 \
            return false;                                                        \
        double *sum = mx + inner;                                                \
        int64_t *arg = (int64_t *)(void *)sum; /* Hardmax reuses sum's space */  \
        for (int64_t i = 0; i < inner; i++) {                                    \
            mx[i] = x[i];                                                        \
            sum[i] = 0;                                                          \
        }                                                                        \
        for (int64_t k = 1; k < n; k++)                                          \
            for (int64_t i = 0; i < inner; i++)                                  \
                if (x[k * inner + i] > mx[i]) {                                  \
                    mx[i] = x[k * inner + i];                                    \
                    if (kind == SM_HARD)                                         \
                        arg[i] = k;                                              \
                }                                                                \
        if (kind == SM_HARD) {                                                   \
            for (int64_t k = 0; k < n; k++)                                      \
                for (int64_t i = 0; i < inner; i++)                              \
                    y[k * inner + i] = (T)(arg[i] == k);                         \
            free(mx);                                                            \
            return true;                                                         \
        }                                                                        \
        for (int64_t k = 0; k < n; k++)                                          \
            for (int64_t i = 0; i < inner; i++) {                                \
                T e = EXP(x[k * inner + i] - (T)mx[i]);                          \
                if (kind == SM_SOFTMAX)                                          \
                    y[k * inner + i] = e;                                        \
                sum[i] += e;                                                     \
            }                                                                    \
        if (kind == SM_SOFTMAX) {                                                \
            for (int64_t i = 0; i < inner; i++)                                  \
                sum[i] = 1.0 / sum[i];                                           \
            for (int64_t k = 0; k < n; k++)                                      \
                for (int64_t i = 0; i < inner; i++)                              \
                    y[k * inner + i] = (T)(y[k * inner + i] * sum[i]);           \
        } else {                                                                 \
            for (int64_t i = 0; i < inner; i++)                                  \
                sum[i] = mx[i] + log(sum[i]);                                    \
            for (int64_t k = 0; k < n; k++)                                      \
                for (int64_t i = 0; i < inner; i++)                              \
                    y[k * inner + i] = (T)(x[k * inner + i] - sum[i]);           \
        }                                                                        \
        free(mx);                                                                \
        return true;                                                             \
    }

SM_ROW(float, f32, expf)
SM_ROW(double, f64, exp)

/* Lanes of the float32 Softmax row: 16 floats, one AVX-512 register. */
/* -O2's "very cheap" vectorizer cost model declines loops that widen float
 * to double; the dynamic model takes them (same operations, same bits). */
#if defined(__GNUC__) && !defined(__clang__)
#define SM_VECTORIZE NT_EW_NO_TRAP
#else
#define SM_VECTORIZE
#endif
#define SM_LANES 16

/* softmax of one contiguous float32 row of n values into y. */
SM_VECTORIZE NT_EW_ATTR_FLOAT void nt_softmax_row_f32(const float *x, float *y, int64_t n)
{
    float m[SM_LANES];
    for (int j = 0; j < SM_LANES; j++)
        m[j] = -INFINITY;
    int64_t i = 0;
    for (; i + SM_LANES <= n; i += SM_LANES)
        for (int j = 0; j < SM_LANES; j++)
            m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    float mx = -INFINITY;
    for (int j = 0; j < SM_LANES; j++)
        mx = m[j] > mx ? m[j] : mx;
    for (; i < n; i++)
        mx = x[i] > mx ? x[i] : mx;
    /* A NaN anywhere makes its exp, the sum and so every output NaN, as
     * in the scalar loop; +inf gives inf - inf = NaN the same way. */
    double acc[SM_LANES] = {0};
    for (i = 0; i + SM_LANES <= n; i += SM_LANES)
        for (int j = 0; j < SM_LANES; j++) {
            float e = nt_ew_expf(x[i + j] - mx);
            y[i + j] = e;
            acc[j] += e;
        }
    double tail = 0;
    for (; i < n; i++) {
        float e = nt_ew_expf(x[i] - mx);
        y[i] = e;
        tail += e;
    }
    for (int w = SM_LANES / 2; w >= 1; w /= 2) /* pairwise, a fixed order */
        for (int j = 0; j < w; j++)
            acc[j] += acc[j + w];
    float inv = (float)(1.0 / (acc[0] + tail));
    for (i = 0; i + SM_LANES <= n; i += SM_LANES)
        for (int j = 0; j < SM_LANES; j++)
            y[i + j] *= inv;
    for (; i < n; i++)
        y[i] *= inv;
}

/* nt_parallel_for body: blocks [b, e) of the (O, N, I) view. */
static void sm_range(void *arg, int64_t b, int64_t e)
{
    sm_job *j = arg;
    size_t es = j->dbl ? sizeof(double) : sizeof(float);
    for (int64_t o = b; o < e; o++) {
        const char *x = (const char *)j->x + (size_t)(o * j->N * j->I) * es;
        char *y = (char *)j->y + (size_t)(o * j->N * j->I) * es;
        if (j->I == 1) {
            if (j->dbl)
                sm_row_f64(j->kind, (const double *)x, (double *)y, j->N);
            else if (j->kind == SM_SOFTMAX)
                nt_softmax_row_f32((const float *)x, (float *)y, j->N);
            else
                sm_row_f32(j->kind, (const float *)x, (float *)y, j->N);
        } else {
            bool ok = j->dbl ? sm_block_f64(j->kind, (const double *)x, (double *)y, j->N, j->I)
                             : sm_block_f32(j->kind, (const float *)x, (float *)y, j->N, j->I);
            if (!ok)
                j->status = NT_ERR_NOMEM;
        }
    }
}

/* Validates the axis and computes the (O, N, I) view for this opset. */
static nt_status sm_layout(const nt_kernel_ctx *ctx, const nt_tensor *x, int64_t *O, int64_t *N, int64_t *I)
{
    bool coerce = ctx->opset < 13;
    int64_t axis = nt_node_attr_int(ctx->node, "axis", coerce ? 1 : -1);
    int r = x->ndim, a;
    if (r == 0) {
        /* a scalar normalizes to itself; only axis 0 / -1 make sense */
        if (axis != 0 && axis != -1)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range for a scalar", (long long)axis);
        *O = *N = *I = 1;
        return NT_OK;
    }
    if (coerce) {
        /* coerced form: axis may equal the rank (rows of length 1) */
        if (axis < 0)
            axis += r;
        if (axis < 0 || axis > r)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)axis, r);
        *O = nt_red_prod(x->dims, 0, (int)axis);
        *N = nt_red_prod(x->dims, (int)axis, r);
        *I = 1;
        return NT_OK;
    }
    if (!nt_red_axis(axis, r, &a))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)axis, r);
    *O = nt_red_prod(x->dims, 0, a);
    *N = x->dims[a];
    *I = nt_red_prod(x->dims, a + 1, r);
    return NT_OK;
}

/* y has x's dtype and shape; float types only. */
static nt_status sm_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "missing input");
    if (!nt_red_float_ok(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s not supported", nt_dtype_name(x->dtype));
    if (x->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    if (!nt_ctx_shapes_unknown(ctx)) {
        int64_t O, N, I;
        nt_status s = sm_layout(ctx, x, &O, &N, &I);
        if (s != NT_OK)
            return s;
    }
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

static nt_status sm_compute(nt_kernel_ctx *ctx, sm_kind kind)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t O, N, I, n = nt_tensor_numel(x);
    nt_status s = sm_layout(ctx, x, &O, &N, &I);
    if (s != NT_OK || n == 0)
        return s;
    sm_job j = {kind, O, N, I, x->data, y->data, x->dtype == NT_DTYPE_DOUBLE, NT_OK};
    float *xf = NULL, *yf = NULL;
    if (x->dtype == NT_DTYPE_FLOAT16 || x->dtype == NT_DTYPE_BFLOAT16) {
        xf = nt_red_to_f32(x, n);
        yf = nt_malloc((size_t)n * sizeof(float));
        if (!xf || !yf) {
            free(xf);
            free(yf);
            return NT_ERR_NOMEM;
        }
        j.x = xf;
        j.y = yf;
    }
    nt_parallel_for(ctx->exec, O, NT_MAX(1, 8192 / NT_MAX(1, N * I)), sm_range, &j);
    if (yf)
        nt_red_from_f32(y->dtype, yf, y->data, n);
    free(xf);
    free(yf);
    if (j.status != NT_OK)
        return nt_ctx_error(ctx, j.status, "out of memory");
    return NT_OK;
}

static nt_status softmax_compute(nt_kernel_ctx *ctx) { return sm_compute(ctx, SM_SOFTMAX); }
static nt_status logsoftmax_compute(nt_kernel_ctx *ctx) { return sm_compute(ctx, SM_LOG); }
static nt_status hardmax_compute(nt_kernel_ctx *ctx) { return sm_compute(ctx, SM_HARD); }

/* since 1: coerced 2-D at axis (default 1); since 13: single axis (default -1). */
const nt_op_def nt_ops_softmax[] = {
    {"Softmax", "", 1, NULL, NULL, sm_infer, softmax_compute},
    {"Softmax", "", 13, NULL, NULL, sm_infer, softmax_compute},
    {"LogSoftmax", "", 1, NULL, NULL, sm_infer, logsoftmax_compute},
    {"LogSoftmax", "", 13, NULL, NULL, sm_infer, logsoftmax_compute},
    {"Hardmax", "", 1, NULL, NULL, sm_infer, hardmax_compute},
    {"Hardmax", "", 13, NULL, NULL, sm_infer, hardmax_compute},
};
const size_t nt_ops_softmax_count = NT_ARRAY_LEN(nt_ops_softmax);
