/*
 * kernel_util.c — helpers every kernel family uses: output shaping in infer,
 * error messages that name the node, integer-tensor reading, broadcasting.
 */
#include "ops/kernel.h"

#include <stdarg.h>
#include <string.h>

bool nt_ctx_shapes_unknown(const nt_kernel_ctx *ctx)
{
    if (!ctx->static_mode)
        return false;
    for (int i = 0; i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (!t)
            continue;
        if (t->ndim < 0)
            return true;
        for (int d = 0; d < t->ndim; d++)
            if (t->dims[d] < 0)
                return true;
    }
    return false;
}

bool nt_ctx_data_unknown(const nt_kernel_ctx *ctx, int i)
{
    return ctx->static_mode && i < ctx->n_in && ctx->in[i] && !ctx->in[i]->data;
}

bool nt_ctx_input_constant(const nt_kernel_ctx *ctx, int i)
{
    if (!ctx->graph || !ctx->node || i >= ctx->node->n_in)
        return false;
    const nt_graph *g = ctx->graph;
    int v = ctx->node->in[i];
    while (v >= 0 && v < g->n_values && g->values[v].kind == NT_VALUE_OUTER && g->parent) {
        v = g->values[v].outer_index;
        g = g->parent;
    }
    if (v < 0 || v >= g->n_values)
        return false;
    const nt_value *val = &g->values[v];
    return val->kind == NT_VALUE_INITIALIZER && !val->is_graph_input;
}

void nt_ctx_outputs_unknown(nt_kernel_ctx *ctx)
{
    for (int i = 0; i < ctx->n_out; i++)
        if (ctx->out[i])
            ctx->out[i]->ndim = -1;
}

nt_status nt_ctx_set_output(nt_kernel_ctx *ctx, int i, nt_dtype dtype, int ndim, const int64_t *dims)
{
    nt_tensor *t = nt_ctx_out(ctx, i);
    if (!t)
        return NT_OK;
    if (ndim > NT_MAX_DIMS)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "output rank %d exceeds the supported %d", ndim,
                            NT_MAX_DIMS);
    t->dtype = dtype;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++)
        t->dims[d] = dims[d];
    return NT_OK;
}

nt_status nt_ctx_alloc_output(nt_kernel_ctx *ctx, int i, nt_dtype dtype, int ndim, const int64_t *dims)
{
    nt_status s = nt_ctx_set_output(ctx, i, dtype, ndim, dims);
    nt_tensor *t = nt_ctx_out(ctx, i);
    if (s != NT_OK || !t)
        return s;
    for (int d = 0; d < ndim; d++)
        if (dims[d] < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "output %d has negative dimension %lld", i,
                                (long long)dims[d]);
    return nt_tensor_reserve(t, nt_tensor_nbytes(t));
}

nt_status nt_ctx_error(const nt_kernel_ctx *ctx, nt_status s, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nt_error(s, "node '%s' (%s): %s", ctx->node->name, ctx->node->op_type, msg);
}

int64_t nt_tensor_read_ints(const nt_tensor *t, int64_t *vals, int64_t max)
{
    int64_t n = nt_tensor_numel(t);
    if (n < 0 || n > max) {
        nt_error(NT_ERR_SHAPE, "expected at most %lld integers, got %lld", (long long)max, (long long)n);
        return -1;
    }
    for (int64_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case NT_DTYPE_INT64: vals[i] = ((const int64_t *)t->data)[i]; break;
        case NT_DTYPE_INT32: vals[i] = ((const int32_t *)t->data)[i]; break;
        case NT_DTYPE_INT16: vals[i] = ((const int16_t *)t->data)[i]; break;
        case NT_DTYPE_INT8: vals[i] = ((const int8_t *)t->data)[i]; break;
        case NT_DTYPE_UINT8: vals[i] = ((const uint8_t *)t->data)[i]; break;
        case NT_DTYPE_UINT16: vals[i] = ((const uint16_t *)t->data)[i]; break;
        case NT_DTYPE_UINT32: vals[i] = ((const uint32_t *)t->data)[i]; break;
        case NT_DTYPE_UINT64: vals[i] = (int64_t)((const uint64_t *)t->data)[i]; break;
        default:
            nt_error(NT_ERR_UNSUPPORTED, "expected an integer tensor, got %s", nt_dtype_name(t->dtype));
            return -1;
        }
    }
    return n;
}

nt_status nt_broadcast_shape(int na, const int64_t *a, int nb, const int64_t *b, int *nout, int64_t *out)
{
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int64_t da = i < n - na ? 1 : a[i - (n - na)];
        int64_t db = i < n - nb ? 1 : b[i - (n - nb)];
        if (da == db || db == 1)
            out[i] = da;
        else if (da == 1)
            out[i] = db;
        else if (da < 0 || db < 0)
            out[i] = -1; /* unknown in static inference */
        else
            return nt_error(NT_ERR_SHAPE, "shapes cannot broadcast: dimension %d is %lld vs %lld", i,
                            (long long)da, (long long)db);
    }
    *nout = n;
    return NT_OK;
}
