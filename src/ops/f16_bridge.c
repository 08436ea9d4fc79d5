/*
 * f16_bridge.c — float16 / bfloat16 through a kernel's float32 path.
 *
 * The kernel's infer and compute run unchanged on a shadow nt_kernel_ctx: a
 * copy of the caller's context whose input array points at tensor headers
 * of our own.  A half input's header says float32 and, in compute, points
 * at a converted temporary; every other input's header borrows the caller's
 * data.  Shadow outputs start unshaped; compute's results are rounded into
 * the caller's outputs.  See f16_bridge.h for the contract.
 */
#include "ops/f16_bridge.h"

#include <stdlib.h>
#include <string.h>

static bool is_half(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT16 || t == NT_DTYPE_BFLOAT16;
}

bool nt_f16_bridge_applies(const nt_kernel_ctx *ctx)
{
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i] && is_half(ctx->in[i]->dtype))
            return true;
    return false;
}

/* ------------------------------------------------------------ conversions */

typedef struct conv_job {
    nt_dtype dt;
    const void *src;
    void *dst;
} conv_job;

/* One direction of the conversion over [b, e), for the dtype's pair of
 * scalar functions; the element loop is shared by both half types. */
#define NT_DEFINE_HALF_RANGE(NAME, SRC_T, DST_T, F16_FN, BF16_FN)           \
    static void NAME(void *arg, int64_t b, int64_t e)                       \
    {                                                                       \
        const conv_job *j = arg;                                            \
        const SRC_T *s = j->src;                                            \
        DST_T *d = j->dst;                                                  \
        if (j->dt == NT_DTYPE_FLOAT16)                                      \
            for (int64_t i = b; i < e; i++)                                 \
                d[i] = F16_FN(s[i]);                                        \
        else                                                                \
            for (int64_t i = b; i < e; i++)                                 \
                d[i] = BF16_FN(s[i]);                                       \
    }
NT_DEFINE_HALF_RANGE(widen_range, uint16_t, float, nt_half_to_float, nt_bf16_to_float)
NT_DEFINE_HALF_RANGE(narrow_range, float, uint16_t, nt_float_to_half, nt_float_to_bf16)

/* Conversions are cheap per element: only split big tensors. */
#define CONV_MIN_CHUNK 65536

void nt_f16_to_f32(nt_exec *exec, nt_dtype dt, const uint16_t *src, float *dst, int64_t n)
{
    conv_job j = {dt, src, dst};
    nt_parallel_for(exec, n, CONV_MIN_CHUNK, widen_range, &j);
}

void nt_f32_to_f16(nt_exec *exec, nt_dtype dt, const float *src, uint16_t *dst, int64_t n)
{
    conv_job j = {dt, src, dst};
    nt_parallel_for(exec, n, CONV_MIN_CHUNK, narrow_range, &j);
}

/* ------------------------------------------------------------ the bridge */

/* The shadow context and the storage behind it. */
typedef struct shadow {
    nt_kernel_ctx ctx;
    nt_tensor *in_hdr, *out_hdr;     /* n_in / n_out headers */
    nt_tensor **in, **out;           /* what ctx.in / ctx.out point at */
} shadow;

static void shadow_free(shadow *sh)
{
    for (int i = 0; sh->in_hdr && i < sh->ctx.n_in; i++)
        if (sh->in_hdr[i].flags & NT_TENSOR_OWNS_DATA)
            nt_aligned_free(sh->in_hdr[i].data);
    for (int i = 0; sh->out_hdr && i < sh->ctx.n_out; i++)
        if (sh->out_hdr[i].flags & NT_TENSOR_OWNS_DATA)
            nt_aligned_free(sh->out_hdr[i].data);
    free(sh->in_hdr);
    free(sh->out_hdr);
    free(sh->in);
    free(sh->out);
}

/* Inputs the spec types float32 whatever the data type (Resize's scales,
 * BatchNormalization's statistics since opset 15...): a float32 tensor there
 * next to half data is a valid model, not a type mix-up. */
static bool float_input_allowed(const nt_node *n, int i)
{
    const char *op = n->op_type;
    if (n->domain[0] != '\0')
        return true;  /* contrib ops type their own inputs (e.g. float32 norms of half data) */
    if (strcmp(op, "Resize") == 0)
        return i == 1 || i == 2;
    if (strcmp(op, "Upsample") == 0)
        return i == 1;
    if (strcmp(op, "BatchNormalization") == 0 || strcmp(op, "LayerNormalization") == 0 ||
        strcmp(op, "GroupNormalization") == 0)
        return i >= 1;
    return false;
}

/* Finds the half dtype of ctx's inputs and checks the mix is allowed. */
static nt_status half_dtype(const nt_kernel_ctx *ctx, nt_dtype *hd)
{
    int first = -1;
    *hd = NT_DTYPE_UNDEFINED;
    for (int i = 0; i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (!t || !is_half(t->dtype))
            continue;
        if (first < 0) {
            first = i;
            *hd = t->dtype;
        } else if (t->dtype != *hd) {
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is %s but input %d is %s", i,
                                nt_dtype_name(t->dtype), first, nt_dtype_name(*hd));
        }
    }
    for (int i = 0; first >= 0 && i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (t && t->dtype == NT_DTYPE_FLOAT && !(ctx->node && float_input_allowed(ctx->node, i)))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is float32 but input %d is %s", i, first,
                                nt_dtype_name(*hd));
    }
    return NT_OK;
}

/* Builds the shadow of ctx.  convert: half inputs get float32 copies of
 * their data; otherwise their data is hidden (NULL). */
static nt_status shadow_init(shadow *sh, const nt_kernel_ctx *ctx, nt_dtype hd, bool convert)
{
    memset(sh, 0, sizeof *sh);
    sh->ctx = *ctx;
    int ni = ctx->n_in > 0 ? ctx->n_in : 1, no = ctx->n_out > 0 ? ctx->n_out : 1;
    sh->in_hdr = nt_calloc((size_t)ni, sizeof *sh->in_hdr);
    sh->out_hdr = nt_calloc((size_t)no, sizeof *sh->out_hdr);
    sh->in = nt_calloc((size_t)ni, sizeof *sh->in);
    sh->out = nt_calloc((size_t)no, sizeof *sh->out);
    sh->ctx.in = sh->in;
    sh->ctx.out = sh->out;
    if (!sh->in_hdr || !sh->out_hdr || !sh->in || !sh->out)
        return NT_ERR_NOMEM;
    for (int i = 0; i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (!t)
            continue;
        nt_tensor *h = &sh->in_hdr[i];
        *h = *t;
        h->flags = 0;   /* borrowed: the caller keeps ownership */
        sh->in[i] = h;
        if (t->dtype != hd)
            continue;
        h->dtype = NT_DTYPE_FLOAT;
        h->data = NULL;
        h->capacity = 0;
        if (!convert || !t->data)
            continue;
        int64_t n = nt_tensor_numel(t);
        if (n < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d has an unknown dimension at run time", i);
        nt_status s = nt_tensor_reserve(h, (size_t)n * sizeof(float));
        if (s != NT_OK)
            return nt_ctx_error(ctx, s, "no memory for a float32 copy of input %d (%lld elements)", i,
                                (long long)n);
        nt_f16_to_f32(ctx->exec, hd, t->data, h->data, n);
    }
    for (int i = 0; i < ctx->n_out; i++) {
        if (!ctx->out[i])
            continue;
        sh->out_hdr[i].ndim = -1;
        sh->out[i] = &sh->out_hdr[i];
    }
    return NT_OK;
}

/* The caller-side dtype of shadow output i: a float32 output becomes the
 * half type, unless the model declares that output float32 (the statistics
 * outputs of LayerNormalization over half data...). */
static nt_dtype outer_dtype(const nt_kernel_ctx *ctx, int i, nt_dtype inner, nt_dtype hd)
{
    if (inner != NT_DTYPE_FLOAT)
        return inner;
    const nt_node *n = ctx->node;
    if (n && ctx->graph && i < n->n_out && n->out[i] >= 0 &&
        ctx->graph->values[n->out[i]].dtype == NT_DTYPE_FLOAT)
        return NT_DTYPE_FLOAT;
    return hd;
}

static bool same_shape(const nt_tensor *a, const nt_tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

/* infer only: shapes from the shadow, dtypes mapped back. */
static nt_status bridge_infer(nt_kernel_ctx *ctx, nt_dtype hd, nt_kernel_fn infer)
{
    shadow sh;
    nt_status s = shadow_init(&sh, ctx, hd, false);
    if (s == NT_OK) {
        /* Half data is hidden, so the inner infer must take the plan-time
         * road that tolerates unknown data. */
        sh.ctx.static_mode = true;
        s = infer(&sh.ctx);
    }
    for (int i = 0; s == NT_OK && i < ctx->n_out; i++) {
        nt_tensor *o = ctx->out[i];
        if (!o)
            continue;
        const nt_tensor *so = &sh.out_hdr[i];
        o->dtype = outer_dtype(ctx, i, so->dtype, hd);
        o->ndim = so->ndim;
        for (int d = 0; d < so->ndim && d < NT_MAX_DIMS; d++) {
            o->dims[d] = so->dims[d];
            /* At run time a dim the plan-time road could not know (it
             * depends on the hidden data) makes the output compute-shaped,
             * as run-time infer contracts require. */
            if (so->dims[d] < 0 && !ctx->static_mode)
                o->ndim = -1;
        }
    }
    shadow_free(&sh);
    return s;
}

/* Gives every shaped shadow output storage before the inner compute. */
static nt_status shadow_alloc_outputs(shadow *sh)
{
    for (int i = 0; i < sh->ctx.n_out; i++) {
        nt_tensor *o = sh->out[i];
        if (!o || o->ndim < 0)
            continue;
        int64_t n = nt_tensor_numel(o);
        size_t esz = nt_dtype_size(o->dtype), nbytes;
        if (n < 0 || (esz == 0 && n > 0))
            return nt_ctx_error(&sh->ctx, NT_ERR_UNSUPPORTED, "output %d (%s) cannot be stored", i,
                                nt_dtype_name(o->dtype));
        if (!nt_mul_size((size_t)n, esz, &nbytes))
            return nt_ctx_error(&sh->ctx, NT_ERR_NOMEM, "output %d is too large", i);
        nt_status s = nt_tensor_reserve(o, nbytes);
        if (s != NT_OK)
            return nt_ctx_error(&sh->ctx, s, "no memory for float32 output %d", i);
    }
    return NT_OK;
}

/* Moves shadow output i into ctx's output i, rounding float32 to hd. */
static nt_status store_output(nt_kernel_ctx *ctx, const nt_tensor *so, int i, nt_dtype hd)
{
    nt_tensor *o = ctx->out[i];
    if (so->ndim < 0)
        return nt_ctx_error(ctx, NT_ERR_INTERNAL, "output %d was not produced by the float32 kernel", i);
    nt_dtype dt = outer_dtype(ctx, i, so->dtype, hd);
    nt_status s = NT_OK;
    if (o->ndim < 0 || !o->data)
        s = nt_ctx_alloc_output(ctx, i, dt, so->ndim, so->dims);
    else if (o->dtype != dt || !same_shape(o, so))
        s = nt_ctx_error(ctx, NT_ERR_INTERNAL, "output %d: infer and compute disagree on its shape or dtype", i);
    if (s != NT_OK)
        return s;
    int64_t n = nt_tensor_numel(so);
    if (n <= 0)
        return NT_OK;
    if (so->dtype == NT_DTYPE_FLOAT && dt != NT_DTYPE_FLOAT)
        nt_f32_to_f16(ctx->exec, hd, so->data, o->data, n);
    else
        memcpy(o->data, so->data, nt_tensor_nbytes(so));
    return NT_OK;
}

static nt_status bridge_compute(nt_kernel_ctx *ctx, nt_dtype hd, nt_kernel_fn infer, nt_kernel_fn compute)
{
    shadow sh;
    nt_status s = shadow_init(&sh, ctx, hd, true);
    if (s == NT_OK) {
        sh.ctx.static_mode = false;
        s = infer(&sh.ctx);
    }
    if (s == NT_OK)
        s = shadow_alloc_outputs(&sh);
    if (s == NT_OK)
        s = compute(&sh.ctx);
    for (int i = 0; s == NT_OK && i < ctx->n_out; i++)
        if (ctx->out[i])
            s = store_output(ctx, &sh.out_hdr[i], i, hd);
    shadow_free(&sh);
    return s;
}

nt_status nt_f16_bridge(nt_kernel_ctx *ctx, nt_kernel_fn infer, nt_kernel_fn compute)
{
    if (!ctx || !infer)
        return nt_error(NT_ERR_INVALID_ARG, "nt_f16_bridge: a context and an infer function are required");
    nt_dtype hd;
    nt_status s = half_dtype(ctx, &hd);
    if (s != NT_OK)
        return s;
    if (hd == NT_DTYPE_UNDEFINED)
        return compute ? compute(ctx) : infer(ctx);
    return compute ? bridge_compute(ctx, hd, infer, compute) : bridge_infer(ctx, hd, infer);
}
