/*
 * reduce.c — the Reduce* family (Sum, Mean, Max, Min, Prod, L1, L2, LogSum,
 * LogSumExp, SumSquare), ArgMax/ArgMin and CumSum.
 *
 * Versions: the reduced axes are an attribute before ReduceSum-13 and the
 * other reductions' opset 18, and an optional second input from then on
 * (together with noop_with_empty_axes: an empty axes list is the identity
 * instead of "reduce everything").  Types added in later opsets (int8/uint8,
 * bool for Max/Min) are accepted by every version.
 *
 * Layout: after dropping size-1 dimensions and merging neighbouring
 * dimensions that are all reduced or all kept, the common cases are one
 * reduced block between kept blocks, i.e. x viewed as (O, R, I):
 *   I == 1  contiguous rows of R elements (reduce the innermost axes);
 *   I  > 1  R rows of I contiguous elements per outer block, accumulated
 *           into a vector of I running values (reduce outer axes).
 * Neither loop decodes indices.  Other patterns (e.g. axes {0, 2} of a
 * 3-D tensor) are first transposed into (kept..., reduced...) order.
 *
 * Numerics: floating inputs accumulate in double, integers in 64-bit.
 * Empty reductions yield the identity of the accumulation (0 for sums, 1 for
 * Prod, -inf/+inf or the type's min/max for Max/Min, -inf for LogSum(Exp),
 * NaN for Mean of floats), as the ONNX reference does.
 */
#include "ops/kernel.h"
#include "ops/reduce_util.h"

#include <math.h>
#include <string.h>

typedef enum {
    RK_SUM, RK_MEAN, RK_MAX, RK_MIN, RK_PROD, RK_L1, RK_L2, RK_LOGSUM, RK_LOGSUMEXP, RK_SUMSQUARE
} red_kind;

static const struct {
    const char *name;
    red_kind kind;
    int input_axes_since; /* first opset that takes axes as an input */
} red_ops[] = {
    {"ReduceSum", RK_SUM, 13},         {"ReduceMean", RK_MEAN, 18},     {"ReduceMax", RK_MAX, 18},
    {"ReduceMin", RK_MIN, 18},         {"ReduceProd", RK_PROD, 18},     {"ReduceL1", RK_L1, 18},
    {"ReduceL2", RK_L2, 18},           {"ReduceLogSum", RK_LOGSUM, 18}, {"ReduceLogSumExp", RK_LOGSUMEXP, 18},
    {"ReduceSumSquare", RK_SUMSQUARE, 18},
};

/* Width of the inner-vector chunk for I > 1: a stack buffer of accumulators. */
#define RED_CHUNK 512

typedef struct red_job {
    red_kind kind;
    const void *x;
    void *y;
    int64_t O, R, I;
    int64_t n_chunks;  /* ceil(I / RED_CHUNK) */
} red_job;

/* Saturating double -> int64 (log/sqrt results of integer reductions). */
static inline int64_t red_f2i(double v)
{
    if (v != v)
        return 0;
    if (v >= 9.2233720368547758e18)
        return INT64_MAX;
    if (v <= -9.2233720368547758e18)
        return INT64_MIN;
    return (int64_t)v;
}

/* Integer accumulators wrap on overflow (as two's complement hardware does)
 * instead of being undefined behaviour: a model may sum anything.  Chosen
 * by the accumulator's type, so float reductions stay plain adds. */
static inline int64_t red_wadd_i64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static inline int64_t red_wmul_i64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static inline uint64_t red_add_u64(uint64_t a, uint64_t b) { return a + b; }
static inline uint64_t red_mul_u64(uint64_t a, uint64_t b) { return a * b; }
static inline double red_add_f64(double a, double b) { return a + b; }
static inline double red_mul_f64(double a, double b) { return a * b; }
#define RED_ADD(a, b) _Generic((a), int64_t: red_wadd_i64, uint64_t: red_add_u64, default: red_add_f64)((a), (b))
#define RED_MUL(a, b) _Generic((a), int64_t: red_wmul_i64, uint64_t: red_mul_u64, default: red_mul_f64)((a), (b))

/*
 * DEF_RED(T, SUF, ACC, LOAD, STORE, LOWEST, HIGHEST, FLT)
 *   T        element type in memory
 *   ACC      accumulator (double for floats, int64_t/uint64_t for integers)
 *   LOAD(p)  T -> ACC;  STORE(p, acc_or_double) writes one output
 *   LOWEST / HIGHEST   identities of Max / Min
 *   FLT      1 for floating types (Mean/L2/Log* computed in double)
 *   ABS(v)   absolute value in ACC (identity for unsigned)
 * defines red_range_SUF(job, begin, end) over tasks (o, chunk of I).
 */
#define DEF_RED(T, SUF, ACC, LOAD, STORE, LOWEST, HIGHEST, FLT, ABS)                           \
    static inline ACC red_init_##SUF(red_kind k)                                              \
    {                                                                                         \
        return k == RK_PROD ? (ACC)1 : k == RK_MAX || k == RK_LOGSUMEXP ? LOWEST               \
                                     : k == RK_MIN                      ? HIGHEST              \
                                                                        : (ACC)0;              \
    }                                                                                         \
    static inline ACC red_step_##SUF(red_kind k, ACC a, ACC v)                                \
    {                                                                                         \
        switch (k) {                                                                          \
        case RK_MAX: return (v > a || v != v) ? v : a;                                        \
        case RK_MIN: return (v < a || v != v) ? v : a;                                        \
        case RK_PROD: return RED_MUL(a, v);                                                   \
        case RK_L1: return RED_ADD(a, ABS(v));                                                \
        case RK_L2:                                                                           \
        case RK_SUMSQUARE: return RED_ADD(a, RED_MUL(v, v));                                  \
        default: return RED_ADD(a, v);                                                        \
        }                                                                                     \
    }                                                                                         \
    static inline void red_store_##SUF(red_kind k, T *y, ACC a, ACC mx, int64_t R)            \
    {                                                                                         \
        switch (k) {                                                                          \
        case RK_MEAN:                                                                         \
            if (FLT)                                                                          \
                STORE(y, (double)a / (double)R);                                              \
            else                                                                              \
                STORE(y, R ? a / (ACC)R : (ACC)0);                                            \
            break;                                                                            \
        case RK_L2: STORE(y, sqrt((double)a)); break;                                         \
        case RK_LOGSUM: STORE(y, log((double)a)); break;                                      \
        case RK_LOGSUMEXP:                                                                    \
            if (!FLT || isinf((double)mx))                                                    \
                STORE(y, FLT ? (double)mx : (double)mx + log((double)a));                     \
            else                                                                              \
                STORE(y, (double)mx + log((double)a));                                        \
            break;                                                                            \
        default: STORE(y, a); break;                                                          \
        }                                                                                     \
    }                                                                                         \
    static void red_range_##SUF(void *arg, int64_t tb, int64_t te)                            \
    {                                                                                         \
        const red_job *j = arg;                                                               \
        const T *x = j->x;                                                                    \
        T *y = j->y;                                                                          \
        const int64_t R = j->R, I = j->I;                                                     \
        const red_kind k = j->kind;                                                           \
        const ACC init = red_init_##SUF(k);                                                   \
        if (I == 1) { /* contiguous rows */                                                   \
            for (int64_t o = tb; o < te; o++) {                                               \
                const T *p = x + o * R;                                                       \
                ACC a = init, mx = init;                                                      \
                if (k == RK_LOGSUMEXP) {                                                      \
                    for (int64_t r = 0; r < R; r++)                                           \
                        mx = red_step_##SUF(RK_MAX, mx, LOAD(p[r]));                          \
                    a = 0;                                                                    \
                    if (!FLT || !isinf((double)mx))                                           \
                        for (int64_t r = 0; r < R; r++)                                       \
                            a += (ACC)exp((double)LOAD(p[r]) - (double)mx);                   \
                } else if (k == RK_SUM || k == RK_MEAN || k == RK_LOGSUM) {                   \
                    for (int64_t r = 0; r < R; r++)                                           \
                        a = RED_ADD(a, (ACC)LOAD(p[r]));                                      \
                } else {                                                                      \
                    for (int64_t r = 0; r < R; r++)                                           \
                        a = red_step_##SUF(k, a, LOAD(p[r]));                                 \
                }                                                                             \
                red_store_##SUF(k, y + o, a, mx, R);                                          \
            }                                                                                 \
            return;                                                                           \
        }                                                                                     \
        ACC acc[RED_CHUNK], mxv[RED_CHUNK];                                                   \
        for (int64_t t = tb; t < te; t++) {                                                   \
            int64_t o = t / j->n_chunks, c0 = (t % j->n_chunks) * RED_CHUNK;                  \
            int64_t n = NT_MIN(RED_CHUNK, I - c0);                                            \
            const T *p = x + o * R * I + c0;                                                  \
            T *q = y + o * I + c0;                                                            \
            for (int64_t i = 0; i < n; i++)                                                   \
                acc[i] = mxv[i] = init;                                                       \
            if (k == RK_LOGSUMEXP) {                                                          \
                for (int64_t r = 0; r < R; r++)                                               \
                    for (int64_t i = 0; i < n; i++)                                           \
                        mxv[i] = red_step_##SUF(RK_MAX, mxv[i], LOAD(p[r * I + i]));          \
                for (int64_t i = 0; i < n; i++)                                               \
                    acc[i] = 0;                                                               \
                for (int64_t r = 0; r < R; r++)                                               \
                    for (int64_t i = 0; i < n; i++)                                           \
                        if (!FLT || !isinf((double)mxv[i]))                                   \
                            acc[i] += (ACC)exp((double)LOAD(p[r * I + i]) - (double)mxv[i]);  \
            } else if (k == RK_SUM || k == RK_MEAN || k == RK_LOGSUM) {                       \
                for (int64_t r = 0; r < R; r++)                                               \
                    for (int64_t i = 0; i < n; i++)                                           \
                        acc[i] = RED_ADD(acc[i], (ACC)LOAD(p[r * I + i]));                    \
            } else {                                                                          \
                for (int64_t r = 0; r < R; r++)                                               \
                    for (int64_t i = 0; i < n; i++)                                           \
                        acc[i] = red_step_##SUF(k, acc[i], LOAD(p[r * I + i]));               \
            }                                                                                 \
            for (int64_t i = 0; i < n; i++)                                                   \
                red_store_##SUF(k, q + i, acc[i], mxv[i], R);                                 \
        }                                                                                     \
    }

#define LD_ID(v) (v)
#define RED_ABS_I(v) ((v) < 0 ? (int64_t)(0 - (uint64_t)(v)) : (v))
#define LD_F16(v) ((double)nt_half_to_float(v))
#define LD_BF16(v) ((double)nt_bf16_to_float(v))
#define LD_BOOL(v) ((int64_t)((v) != 0))
#define ST_F32(p, v) (*(p) = (float)(v))
#define ST_F64(p, v) (*(p) = (double)(v))
#define ST_F16(p, v) (*(p) = nt_float_to_half((float)(v)))
#define ST_BF16(p, v) (*(p) = nt_float_to_bf16((float)(v)))
#define ST_I8(p, v) (*(p) = (int8_t)red_f2i((double)(v)))
#define ST_I16(p, v) (*(p) = (int16_t)red_f2i((double)(v)))
#define ST_I32(p, v) (*(p) = (int32_t)red_f2i((double)(v)))
#define ST_U8(p, v) (*(p) = (uint8_t)red_f2i((double)(v)))
#define ST_U16(p, v) (*(p) = (uint16_t)red_f2i((double)(v)))
#define ST_U32(p, v) (*(p) = (uint32_t)red_f2i((double)(v)))
/* 64-bit results are stored directly so large sums keep every bit; double
 * results (log, sqrt: maybe -inf or NaN) saturate like the narrower types. */
static inline int64_t red_id_i64(int64_t v) { return v; }
static inline uint64_t red_id_u64(uint64_t v) { return v; }
static inline uint64_t red_f2u(double v)
{
    return !(v > 0) ? 0 : v >= 1.8446744073709552e19 ? UINT64_MAX : (uint64_t)v;
}
#define ST_I64(p, v) (*(p) = _Generic((v), double: red_f2i, default: red_id_i64)(v))
#define ST_U64(p, v) (*(p) = _Generic((v), double: red_f2u, default: red_id_u64)(v))
#define ST_BOOL(p, v) (*(p) = (uint8_t)((v) != 0))

DEF_RED(float, f32, double, LD_ID, ST_F32, -INFINITY, INFINITY, 1, fabs)
DEF_RED(double, f64, double, LD_ID, ST_F64, -INFINITY, INFINITY, 1, fabs)
DEF_RED(uint16_t, f16, double, LD_F16, ST_F16, -INFINITY, INFINITY, 1, fabs)
DEF_RED(uint16_t, bf16, double, LD_BF16, ST_BF16, -INFINITY, INFINITY, 1, fabs)
DEF_RED(int8_t, i8, int64_t, LD_ID, ST_I8, INT8_MIN, INT8_MAX, 0, RED_ABS_I)
DEF_RED(int16_t, i16, int64_t, LD_ID, ST_I16, INT16_MIN, INT16_MAX, 0, RED_ABS_I)
DEF_RED(int32_t, i32, int64_t, LD_ID, ST_I32, INT32_MIN, INT32_MAX, 0, RED_ABS_I)
DEF_RED(int64_t, i64, int64_t, LD_ID, ST_I64, INT64_MIN, INT64_MAX, 0, RED_ABS_I)
DEF_RED(uint8_t, u8, int64_t, LD_ID, ST_U8, 0, UINT8_MAX, 0, RED_ABS_I)
DEF_RED(uint16_t, u16, int64_t, LD_ID, ST_U16, 0, UINT16_MAX, 0, RED_ABS_I)
DEF_RED(uint32_t, u32, int64_t, LD_ID, ST_U32, 0, UINT32_MAX, 0, RED_ABS_I)
DEF_RED(uint64_t, u64, uint64_t, LD_ID, ST_U64, 0, UINT64_MAX, 0, LD_ID)
DEF_RED(uint8_t, b8, int64_t, LD_BOOL, ST_BOOL, 0, 1, 0, RED_ABS_I)

static nt_range_fn red_fn(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_FLOAT: return red_range_f32;
    case NT_DTYPE_DOUBLE: return red_range_f64;
    case NT_DTYPE_FLOAT16: return red_range_f16;
    case NT_DTYPE_BFLOAT16: return red_range_bf16;
    case NT_DTYPE_INT8: return red_range_i8;
    case NT_DTYPE_INT16: return red_range_i16;
    case NT_DTYPE_INT32: return red_range_i32;
    case NT_DTYPE_INT64: return red_range_i64;
    case NT_DTYPE_UINT8: return red_range_u8;
    case NT_DTYPE_UINT16: return red_range_u16;
    case NT_DTYPE_UINT32: return red_range_u32;
    case NT_DTYPE_UINT64: return red_range_u64;
    case NT_DTYPE_BOOL: return red_range_b8;
    default: return NULL;
    }
}

/* ------------------------------------------------------------ axes & shapes */

typedef struct red_axes {
    bool noop;                 /* empty axes with noop_with_empty_axes: identity */
    bool mask[NT_MAX_DIMS];    /* reduced dimensions */
} red_axes;

static red_kind red_kind_of(const nt_node *n)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(red_ops); i++)
        if (strcmp(n->op_type, red_ops[i].name) == 0)
            return red_ops[i].kind;
    return RK_SUM;
}

static int red_input_since(const nt_node *n)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(red_ops); i++)
        if (strcmp(n->op_type, red_ops[i].name) == 0)
            return red_ops[i].input_axes_since;
    return 13;
}

/* Reads the axes (attribute or input by version) into a mask over x's rank.
 * *unknown is set in static mode when the axes input's data is not known. */
static nt_status red_get_axes(const nt_kernel_ctx *ctx, int rank, red_axes *ax, bool *unknown)
{
    int64_t axes[NT_MAX_DIMS * 2];
    int64_t n = 0;
    bool from_input = ctx->opset >= red_input_since(ctx->node);
    memset(ax, 0, sizeof *ax);
    *unknown = false;
    if (from_input) {
        const nt_tensor *a = nt_ctx_in(ctx, 1);
        if (a) {
            if (nt_ctx_data_unknown(ctx, 1)) {
                *unknown = true;
                return NT_OK;
            }
            n = nt_tensor_read_ints(a, axes, NT_ARRAY_LEN(axes));
            if (n < 0)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "bad axes input");
        }
    } else {
        const int64_t *v;
        n = nt_node_attr_ints(ctx->node, "axes", &v);
        if (n > (int64_t)NT_ARRAY_LEN(axes))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "too many axes (%lld)", (long long)n);
        for (int64_t i = 0; i < n; i++)
            axes[i] = v[i];
    }
    if (n == 0) {
        if (from_input && nt_node_attr_int(ctx->node, "noop_with_empty_axes", 0))
            ax->noop = true;
        else
            for (int d = 0; d < rank; d++)
                ax->mask[d] = true;
        return NT_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        int d;
        if (!nt_red_axis(axes[i], rank, &d))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)axes[i], rank);
        if (ax->mask[d])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld repeated", (long long)axes[i]);
        ax->mask[d] = true;
    }
    return NT_OK;
}

static bool red_dtype_ok(red_kind k, nt_dtype t)
{
    if (t == NT_DTYPE_BOOL)
        return k == RK_MAX || k == RK_MIN;
    /* exp of integers would need a float accumulator: declined, not truncated */
    if (k == RK_LOGSUMEXP && !nt_dtype_is_float(t))
        return false;
    return red_fn(t) != NULL;
}

/* out = data reduced over the axes (kept as 1 with keepdims); same dtype. */
static nt_status red_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    red_kind k = red_kind_of(ctx->node);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "missing data input");
    if (!red_dtype_ok(k, x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s not supported", nt_dtype_name(x->dtype));
    bool keep = nt_node_attr_int(ctx->node, "keepdims", 1) != 0;
    if (x->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    red_axes ax;
    bool unknown;
    nt_status s = red_get_axes(ctx, x->ndim, &ax, &unknown);
    if (s != NT_OK)
        return s;
    if (unknown) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    if (ax.noop)
        return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
    int64_t dims[NT_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++)
        if (!ax.mask[d])
            dims[nd++] = x->dims[d];
        else if (keep)
            dims[nd++] = 1;
    return nt_ctx_set_output(ctx, 0, x->dtype, nd, dims);
}

/*
 * Copies x (rank r, element size es) into dst permuted so that the kept
 * dimensions come first and the reduced ones last: the general layout's
 * fallback.  Walks the destination in order with an odometer over the
 * permuted dims and a running source offset.
 */
static void red_transpose(const void *x, void *dst, size_t es, int r, const int64_t *dims, const bool *mask)
{
    int perm[NT_MAX_DIMS], np = 0;
    int64_t stride[NT_MAX_DIMS], pd[NT_MAX_DIMS], ps[NT_MAX_DIMS], idx[NT_MAX_DIMS] = {0};
    stride[r - 1] = 1;
    for (int d = r - 2; d >= 0; d--)
        stride[d] = stride[d + 1] * dims[d + 1];
    for (int d = 0; d < r; d++)
        if (!mask[d])
            perm[np++] = d;
    for (int d = 0; d < r; d++)
        if (mask[d])
            perm[np++] = d;
    for (int i = 0; i < r; i++) {
        pd[i] = dims[perm[i]];
        ps[i] = stride[perm[i]];
    }
    int64_t n = nt_red_prod(dims, 0, r), off = 0;
    const char *src = x;
    char *out = dst;
    for (int64_t i = 0; i < n; i++) {
        memcpy(out + (size_t)i * es, src + (size_t)off * es, es);
        for (int d = r - 1; d >= 0; d--) {
            off += ps[d];
            if (++idx[d] < pd[d])
                break;
            off -= ps[d] * pd[d];
            idx[d] = 0;
        }
    }
}

static nt_status red_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    red_kind k = red_kind_of(ctx->node);
    red_axes ax;
    bool unknown;
    nt_status s = red_get_axes(ctx, x->ndim, &ax, &unknown);
    if (s != NT_OK)
        return s;
    size_t es = nt_dtype_size(x->dtype);
    int64_t nx = nt_tensor_numel(x), ny = nt_tensor_numel(y);
    if (ax.noop) {
        if (nx > 0)
            memcpy(y->data, x->data, (size_t)nx * es);
        return NT_OK;
    }
    if (ny == 0)
        return NT_OK;

    /* Collapse to (O, R, I): drop size-1 dims, merge runs of equal kind. */
    int64_t gsz[NT_MAX_DIMS];
    bool gred[NT_MAX_DIMS];
    int ng = 0;
    int64_t R = 1;
    for (int d = 0; d < x->ndim; d++) {
        if (ax.mask[d])
            R *= x->dims[d];
        if (x->dims[d] == 1)
            continue;
        if (ng > 0 && gred[ng - 1] == ax.mask[d])
            gsz[ng - 1] *= x->dims[d];
        else {
            gsz[ng] = x->dims[d];
            gred[ng++] = ax.mask[d];
        }
    }
    red_job j = {k, x->data, y->data, ny, R, 1, 1};
    void *tmp = NULL;
    int n_red = 0;
    for (int g = 0; g < ng; g++)
        n_red += gred[g];
    if (R == 0) {
        /* every output reduces an empty set: the rows loop stores identities */
        j.O = ny;
    } else if (n_red == 1) {
        int g = 0;
        while (!gred[g])
            g++;
        j.O = nt_red_prod(gsz, 0, g);
        j.I = nt_red_prod(gsz, g + 1, ng);
    } else if (n_red > 1) {
        tmp = nt_malloc((size_t)nx * es);
        if (!tmp)
            return NT_ERR_NOMEM;
        red_transpose(x->data, tmp, es, ng, gsz, gred);
        j.x = tmp;
    }
    j.n_chunks = (j.I + RED_CHUNK - 1) / RED_CHUNK;
    int64_t tasks = j.I == 1 ? j.O : j.O * j.n_chunks;
    int64_t work = NT_MAX(1, j.R * NT_MIN(j.I, RED_CHUNK));
    nt_parallel_for(ctx->exec, tasks, NT_MAX(1, 32768 / work), red_fn(x->dtype), &j);
    free(tmp);
    return NT_OK;
}

/* ------------------------------------------------------------ ArgMax / ArgMin */

typedef struct arg_job {
    const void *x;
    int64_t *y;
    int64_t O, N, I;
    bool is_min, last;
} arg_job;

/* better(v, b): whether v replaces the running best b.  NaN wins (first NaN
 * kept, as numpy does) so a NaN input is visible in the index. */
#define DEF_ARG(T, SUF, CT, LOAD)                                                             \
    static inline bool arg_better_##SUF(CT v, CT b, bool is_min, bool last)                   \
    {                                                                                         \
        if (b != b)                                                                           \
            return false;                                                                     \
        if (v != v)                                                                           \
            return true;                                                                      \
        if (is_min)                                                                           \
            return last ? v <= b : v < b;                                                     \
        return last ? v >= b : v > b;                                                         \
    }                                                                                         \
    static void arg_range_##SUF(void *arg, int64_t b, int64_t e)                              \
    {                                                                                         \
        const arg_job *j = arg;                                                               \
        const T *x = j->x;                                                                    \
        for (int64_t o = b; o < e; o++) {                                                     \
            const T *p = x + o * j->N * j->I;                                                 \
            int64_t *q = j->y + o * j->I;                                                     \
            for (int64_t i = 0; i < j->I; i++) {                                              \
                CT best = LOAD(p[i]);                                                         \
                int64_t bi = 0;                                                               \
                for (int64_t k = 1; k < j->N; k++) {                                          \
                    CT v = LOAD(p[k * j->I + i]);                                             \
                    if (arg_better_##SUF(v, best, j->is_min, j->last)) {                      \
                        best = v;                                                             \
                        bi = k;                                                               \
                    }                                                                         \
                }                                                                             \
                q[i] = bi;                                                                    \
            }                                                                                 \
        }                                                                                     \
    }

#define LDF_F16(v) nt_half_to_float(v)
#define LDF_BF16(v) nt_bf16_to_float(v)
DEF_ARG(float, f32, float, LD_ID)
DEF_ARG(double, f64, double, LD_ID)
DEF_ARG(uint16_t, f16, float, LDF_F16)
DEF_ARG(uint16_t, bf16, float, LDF_BF16)
DEF_ARG(int8_t, i8, int8_t, LD_ID)
DEF_ARG(int16_t, i16, int16_t, LD_ID)
DEF_ARG(int32_t, i32, int32_t, LD_ID)
DEF_ARG(int64_t, i64, int64_t, LD_ID)
DEF_ARG(uint8_t, u8, uint8_t, LD_ID)
DEF_ARG(uint16_t, u16, uint16_t, LD_ID)
DEF_ARG(uint32_t, u32, uint32_t, LD_ID)
DEF_ARG(uint64_t, u64, uint64_t, LD_ID)

static nt_range_fn arg_fn(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_FLOAT: return arg_range_f32;
    case NT_DTYPE_DOUBLE: return arg_range_f64;
    case NT_DTYPE_FLOAT16: return arg_range_f16;
    case NT_DTYPE_BFLOAT16: return arg_range_bf16;
    case NT_DTYPE_INT8: return arg_range_i8;
    case NT_DTYPE_INT16: return arg_range_i16;
    case NT_DTYPE_INT32: return arg_range_i32;
    case NT_DTYPE_INT64: return arg_range_i64;
    case NT_DTYPE_UINT8: return arg_range_u8;
    case NT_DTYPE_UINT16: return arg_range_u16;
    case NT_DTYPE_UINT32: return arg_range_u32;
    case NT_DTYPE_UINT64: return arg_range_u64;
    default: return NULL;
    }
}

/* reduced (int64) has data's shape with dims[axis] = 1 (keepdims) or removed. */
static nt_status arg_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "missing data input");
    if (!arg_fn(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s not supported", nt_dtype_name(x->dtype));
    if (x->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = NT_DTYPE_INT64;
        return NT_OK;
    }
    int a;
    if (!nt_red_axis(nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &a))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis out of range for rank %d", x->ndim);
    if (x->dims[a] == 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "cannot take the arg-extremum of an empty axis");
    bool keep = nt_node_attr_int(ctx->node, "keepdims", 1) != 0;
    int64_t dims[NT_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < x->ndim; d++)
        if (d != a)
            dims[nd++] = x->dims[d];
        else if (keep)
            dims[nd++] = 1;
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_INT64, nd, dims);
}

static nt_status arg_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    int a;
    if (!nt_red_axis(nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &a))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis out of range for rank %d", x->ndim);
    arg_job j = {x->data, ctx->out[0]->data, nt_red_prod(x->dims, 0, a), x->dims[a],
                 nt_red_prod(x->dims, a + 1, x->ndim), strcmp(ctx->node->op_type, "ArgMin") == 0,
                 nt_node_attr_int(ctx->node, "select_last_index", 0) != 0};
    if (nt_tensor_numel(ctx->out[0]) == 0)
        return NT_OK;
    nt_parallel_for(ctx->exec, j.O, NT_MAX(1, 32768 / NT_MAX(1, j.N * j.I)), arg_fn(x->dtype), &j);
    return NT_OK;
}

/* ------------------------------------------------------------ CumSum */

typedef struct cs_job {
    const void *x;
    void *y;
    int64_t O, N, I;
    bool exclusive, reverse;
} cs_job;

/* y (O, N, I) = running sums of x along N; ACC is double for floats. */
#define DEF_CS(T, SUF, ACC, LOAD, STORE)                                                      \
    static void cs_range_##SUF(void *arg, int64_t b, int64_t e)                               \
    {                                                                                         \
        const cs_job *j = arg;                                                                \
        ACC acc[RED_CHUNK];                                                                   \
        for (int64_t o = b; o < e; o++)                                                       \
            for (int64_t c0 = 0; c0 < j->I; c0 += RED_CHUNK) {                                \
                int64_t n = NT_MIN(RED_CHUNK, j->I - c0);                                     \
                const T *p = (const T *)j->x + o * j->N * j->I + c0;                          \
                T *q = (T *)j->y + o * j->N * j->I + c0;                                      \
                for (int64_t i = 0; i < n; i++)                                               \
                    acc[i] = 0;                                                               \
                for (int64_t s = 0; s < j->N; s++) {                                          \
                    int64_t k = j->reverse ? j->N - 1 - s : s;                                \
                    for (int64_t i = 0; i < n; i++) {                                         \
                        ACC v = LOAD(p[k * j->I + i]);                                        \
                        if (j->exclusive) {                                                   \
                            STORE(&q[k * j->I + i], acc[i]);                                  \
                            acc[i] += v;                                                      \
                        } else {                                                              \
                            acc[i] += v;                                                      \
                            STORE(&q[k * j->I + i], acc[i]);                                  \
                        }                                                                     \
                    }                                                                         \
                }                                                                             \
            }                                                                                 \
    }

#define ST_I32W(p, v) (*(p) = (int32_t)(v))
#define ST_U32W(p, v) (*(p) = (uint32_t)(v))
DEF_CS(float, f32, double, LD_ID, ST_F32)
DEF_CS(double, f64, double, LD_ID, ST_F64)
DEF_CS(uint16_t, f16, double, LD_F16, ST_F16)
DEF_CS(uint16_t, bf16, double, LD_BF16, ST_BF16)
DEF_CS(int32_t, i32, int64_t, LD_ID, ST_I32W)
DEF_CS(int64_t, i64, int64_t, LD_ID, ST_I64)
DEF_CS(uint32_t, u32, uint64_t, LD_ID, ST_U32W)
DEF_CS(uint64_t, u64, uint64_t, LD_ID, ST_U64)

static nt_range_fn cs_fn(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_FLOAT: return cs_range_f32;
    case NT_DTYPE_DOUBLE: return cs_range_f64;
    case NT_DTYPE_FLOAT16: return cs_range_f16;
    case NT_DTYPE_BFLOAT16: return cs_range_bf16;
    case NT_DTYPE_INT32: return cs_range_i32;
    case NT_DTYPE_INT64: return cs_range_i64;
    case NT_DTYPE_UINT32: return cs_range_u32;
    case NT_DTYPE_UINT64: return cs_range_u64;
    default: return NULL;
    }
}

/* y has x's dtype and shape. */
static nt_status cs_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0), *axis = nt_ctx_in(ctx, 1);
    if (!x || !axis)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "CumSum needs x and axis");
    if (!cs_fn(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s not supported", nt_dtype_name(x->dtype));
    if (axis->dtype != NT_DTYPE_INT32 && axis->dtype != NT_DTYPE_INT64)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis must be int32 or int64");
    if (x->ndim < 0) {
        nt_ctx_outputs_unknown(ctx);
        ctx->out[0]->dtype = x->dtype;
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

static nt_status cs_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    int64_t av;
    if (nt_tensor_numel(ctx->in[1]) != 1 || nt_tensor_read_ints(ctx->in[1], &av, 1) != 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis must be a single integer");
    int a;
    if (!nt_red_axis(av, x->ndim, &a))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld out of range for rank %d", (long long)av, x->ndim);
    cs_job j = {x->data, ctx->out[0]->data, nt_red_prod(x->dims, 0, a), x->dims[a],
                nt_red_prod(x->dims, a + 1, x->ndim), nt_node_attr_int(ctx->node, "exclusive", 0) != 0,
                nt_node_attr_int(ctx->node, "reverse", 0) != 0};
    if (nt_tensor_numel(x) == 0)
        return NT_OK;
    nt_parallel_for(ctx->exec, j.O, NT_MAX(1, 32768 / NT_MAX(1, j.N * j.I)), cs_fn(x->dtype), &j);
    return NT_OK;
}

/* ReduceSum takes axes as an input from 13, the others from 18; the entry at
 * the switch version reads the input, the earlier one the attribute
 * (red_get_axes decides from ctx->opset, so both share functions). */
#define RED_ENTRIES(name, since_input)                           \
    {name, "", 1, NULL, NULL, red_infer, red_compute},           \
    {name, "", since_input, NULL, NULL, red_infer, red_compute}

const nt_op_def nt_ops_reduce[] = {
    RED_ENTRIES("ReduceSum", 13),
    RED_ENTRIES("ReduceMean", 18),
    RED_ENTRIES("ReduceMax", 18),
    RED_ENTRIES("ReduceMin", 18),
    RED_ENTRIES("ReduceProd", 18),
    RED_ENTRIES("ReduceL1", 18),
    RED_ENTRIES("ReduceL2", 18),
    RED_ENTRIES("ReduceLogSum", 18),
    RED_ENTRIES("ReduceLogSumExp", 18),
    RED_ENTRIES("ReduceSumSquare", 18),
    /* ArgMax/ArgMin: 11 added negative axes, 12 select_last_index: one behaviour */
    {"ArgMax", "", 1, NULL, NULL, arg_infer, arg_compute},
    {"ArgMin", "", 1, NULL, NULL, arg_infer, arg_compute},
    /* CumSum: 14 only widened the types */
    {"CumSum", "", 11, NULL, NULL, cs_infer, cs_compute},
};
const size_t nt_ops_reduce_count = NT_ARRAY_LEN(nt_ops_reduce);
