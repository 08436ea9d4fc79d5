/*
 * loss.c — loss operators: NegativeLogLikelihoodLoss and
 * SoftmaxCrossEntropyLoss (with the optional log_prob output).
 *
 * Both gather, for each sample n and spatial position d, the class
 * target[n,d] from a (N, C, d1..dk) input; ignore_index drops positions
 * (they weigh 0 and leave the "mean" denominator).  Accumulated in double.
 */
#include "ops/kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct loss_attrs {
    int reduction;          /* 0 none, 1 sum, 2 mean */
    bool has_ignore;
    int64_t ignore_index;
} loss_attrs;

static nt_status loss_prepare(const nt_node *n, int opset, void **state)
{
    loss_attrs *a = nt_calloc(1, sizeof *a);
    if (!a)
        return NT_ERR_NOMEM;
    const char *r = nt_node_attr_string(n, "reduction", "mean");
    if (strcmp(r, "none") == 0)
        a->reduction = 0;
    else if (strcmp(r, "sum") == 0)
        a->reduction = 1;
    else if (strcmp(r, "mean") == 0)
        a->reduction = 2;
    else {
        free(a);
        return nt_error(NT_ERR_PARSE, "reduction '%s' is not none, sum or mean", r);
    }
    a->has_ignore = nt_node_attr(n, "ignore_index") != NULL;
    a->ignore_index = nt_node_attr_int(n, "ignore_index", 0);
    *state = a;
    return NT_OK;
}

static bool float_type(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_FLOAT16 || t == NT_DTYPE_BFLOAT16;
}

/* x is (N, C, d...), target (N, d...): output shape for reduction none is target's. */
static nt_status loss_infer(nt_kernel_ctx *ctx)
{
    const loss_attrs *a = ctx->state;
    const nt_tensor *x = nt_ctx_in(ctx, 0), *tg = nt_ctx_in(ctx, 1);
    if (!x || !tg)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs an input and a target");
    if (!float_type(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input dtype %s is not supported", nt_dtype_name(x->dtype));
    if (tg->dtype != NT_DTYPE_INT32 && tg->dtype != NT_DTYPE_INT64)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "target dtype %s is not supported", nt_dtype_name(tg->dtype));
    for (int i = 0; i < ctx->n_out; i++)
        if (ctx->out[i])
            ctx->out[i]->dtype = x->dtype;
    if (nt_ctx_shapes_unknown(ctx)) {
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    if (x->ndim < 2 || tg->ndim != x->ndim - 1 || tg->dims[0] != x->dims[0])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be (N, C, ...) and target (N, ...)");
    for (int d = 1; d < tg->ndim; d++)
        if (tg->dims[d] != x->dims[d + 1])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "target dimension %d does not match the input", d);
    nt_status st = a->reduction == 0 ? nt_ctx_set_output(ctx, 0, x->dtype, tg->ndim, tg->dims)
                                     : nt_ctx_set_output(ctx, 0, x->dtype, 0, NULL);
    if (st == NT_OK && ctx->n_out > 1)
        st = nt_ctx_set_output(ctx, 1, x->dtype, x->ndim, x->dims);
    return st;
}

/* logp is (N, C, D) as doubles; writes the loss per the reduction. */
static nt_status nll(nt_kernel_ctx *ctx, const double *logp, int64_t N, int64_t C, int64_t D)
{
    const loss_attrs *a = ctx->state;
    const nt_tensor *tg = ctx->in[1], *w = nt_ctx_in(ctx, 2);
    nt_tensor *out = ctx->out[0];
    if (w && (w->ndim != 1 || w->dims[0] != C))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "weight must have C = %lld elements", (long long)C);
    double total = 0, wsum = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t d = 0; d < D; d++) {
            int64_t i = n * D + d;
            int64_t c = (int64_t)nt_tensor_get_f64(tg, i);
            double l = 0, wc = 0;
            if (!(a->has_ignore && c == a->ignore_index)) {
                if (c < 0 || c >= C)
                    return nt_ctx_error(ctx, NT_ERR_SHAPE, "target %lld at position %lld is outside [0, %lld)",
                                        (long long)c, (long long)i, (long long)C);
                wc = w ? nt_tensor_get_f64(w, c) : 1.0;
                l = -logp[(n * C + c) * D + d] * wc;
            }
            if (a->reduction == 0)
                nt_tensor_set_f64(out, i, l);
            total += l;
            wsum += wc;
        }
    if (a->reduction == 1)
        nt_tensor_set_f64(out, 0, total);
    else if (a->reduction == 2)
        nt_tensor_set_f64(out, 0, wsum != 0 ? total / wsum : (total == 0 ? NAN : total / wsum));
    return NT_OK;
}

static void loss_dims(const nt_tensor *x, int64_t *N, int64_t *C, int64_t *D)
{
    *N = x->dims[0];
    *C = x->dims[1];
    *D = 1;
    for (int d = 2; d < x->ndim; d++)
        *D *= x->dims[d];
}

static nt_status nll_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    int64_t N, C, D;
    loss_dims(x, &N, &C, &D);
    int64_t n = N * C * D;
    double *v = nt_malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v)
        return nt_error(NT_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++)
        v[i] = nt_tensor_get_f64(x, i);
    nt_status st = nll(ctx, v, N, C, D);
    free(v);
    return st;
}

/* log_softmax over axis 1 of (N, C, D), then NLL. */
static nt_status sce_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    int64_t N, C, D;
    loss_dims(x, &N, &C, &D);
    int64_t n = N * C * D;
    double *v = nt_malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v)
        return nt_error(NT_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < n; i++)
        v[i] = nt_tensor_get_f64(x, i);
    for (int64_t b = 0; b < N; b++)
        for (int64_t d = 0; d < D; d++) {
            double mx = -INFINITY, s = 0;
            for (int64_t c = 0; c < C; c++)
                mx = fmax(mx, v[(b * C + c) * D + d]);
            for (int64_t c = 0; c < C; c++)
                s += exp(v[(b * C + c) * D + d] - mx);
            double lse = mx + log(s);
            for (int64_t c = 0; c < C; c++)
                v[(b * C + c) * D + d] -= lse;
        }
    nt_status st = nll(ctx, v, N, C, D);
    nt_tensor *lp = nt_ctx_out(ctx, 1);
    for (int64_t i = 0; st == NT_OK && lp && i < n; i++)
        nt_tensor_set_f64(lp, i, v[i]);
    free(v);
    return st;
}

const nt_op_def nt_ops_loss[] = {
    {"NegativeLogLikelihoodLoss", "", 12, loss_prepare, free, loss_infer, nll_compute},
    {"SoftmaxCrossEntropyLoss", "", 12, loss_prepare, free, loss_infer, sce_compute},
};
const size_t nt_ops_loss_count = NT_ARRAY_LEN(nt_ops_loss);
