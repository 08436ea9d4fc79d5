/*
 * control.c — control flow: If, Loop, Scan.  Their bodies are subgraphs run
 * through nt_exec_subgraph, which resolves values captured from the outer
 * scope.  Output shapes depend on what the bodies compute, so infer leaves
 * them unknown (dtypes come from the bodies' declared outputs) and compute
 * allocates them.
 */
#include "ops/kernel.h"
#include "core/limits.h"

#include <stdlib.h>
#include <string.h>

static const nt_graph *attr_graph(const nt_node *n, const char *name)
{
    const nt_attr *a = nt_node_attr(n, name);
    return a && a->type == NT_ATTR_GRAPH ? a->g : NULL;
}

/* Output i of a body as declared (dtype; shape unknown). */
static nt_dtype body_output_dtype(const nt_graph *g, int i)
{
    return i < g->n_outputs ? g->values[g->outputs[i]].dtype : NT_DTYPE_UNDEFINED;
}

/* Moves a body result into a node output (copy of shape and bytes). */
static nt_status emit(nt_kernel_ctx *ctx, int i, const nt_tensor *src)
{
    if (!nt_ctx_out(ctx, i))
        return NT_OK;
    if (nt_value_is_container(src))   /* a sequence or optional: a deep copy */
        return nt_seq_copy_into(ctx->out[i], src);
    nt_status st = nt_ctx_alloc_output(ctx, i, src->dtype, src->ndim, src->dims);
    if (st == NT_OK && nt_tensor_nbytes(src))
        memcpy(ctx->out[i]->data, src->data, nt_tensor_nbytes(src));
    return st;
}

static void free_all(nt_tensor **ts, int n)
{
    for (int i = 0; i < n; i++) {
        nt_tensor_free(ts[i]);
        ts[i] = NULL;
    }
}

static bool scalar_true(const nt_tensor *t)
{
    return nt_tensor_numel(t) >= 1 && nt_tensor_get_f64(t, 0) != 0.0;
}

/* ---------------------------------------------------------------- If */

static nt_status if_prepare(const nt_node *n, int opset, void **state)
{
    if (!attr_graph(n, "then_branch") || !attr_graph(n, "else_branch"))
        return nt_error(NT_ERR_PARSE, "If needs then_branch and else_branch graph attributes");
    return NT_OK;
}

static nt_status if_infer(nt_kernel_ctx *ctx)
{
    const nt_graph *then_g = attr_graph(ctx->node, "then_branch");
    const nt_graph *else_g = attr_graph(ctx->node, "else_branch");
    for (int i = 0; i < ctx->n_out; i++) {
        if (!ctx->out[i])
            continue;
        nt_dtype t = body_output_dtype(then_g, i);
        if (t == NT_DTYPE_UNDEFINED)
            t = body_output_dtype(else_g, i);
        ctx->out[i]->dtype = t;
        ctx->out[i]->ndim = -1;
    }
    return NT_OK;
}

static nt_status if_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *cond = nt_ctx_in(ctx, 0);
    if (!cond || nt_tensor_numel(cond) < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "the condition must be a one-element tensor");
    const nt_graph *body = attr_graph(ctx->node, scalar_true(cond) ? "then_branch" : "else_branch");
    if (body->n_outputs < ctx->n_out)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "branch '%s' has %d outputs, the node %d", body->name,
                            body->n_outputs, ctx->n_out);
    nt_tensor **res = nt_calloc((size_t)ctx->n_out + 1, sizeof *res);
    if (!res)
        return NT_ERR_NOMEM;
    nt_status st = nt_exec_subgraph(ctx, body, 0, NULL, ctx->n_out, res);
    for (int i = 0; st == NT_OK && i < ctx->n_out; i++)
        st = emit(ctx, i, res[i]);
    free_all(res, ctx->n_out);
    free(res);
    return st;
}

/* ---------------------------------------------------------------- stacking helpers */

/* A growing list of per-iteration tensors, stacked at the end along `axis`. */
typedef struct stack_list {
    nt_tensor **items;
    int n, cap;
    size_t bytes;    /* held so far, bounded by the memory limit */
} stack_list;

/* Takes ownership of t (freed here on failure). */
static nt_status stack_push(stack_list *l, nt_tensor *t)
{
    size_t nb = nt_tensor_nbytes(t) + sizeof *t;
    if (l->n == INT32_MAX / 2 || nb > nt_limit_memory_bytes() - NT_MIN(l->bytes, nt_limit_memory_bytes())) {
        nt_tensor_free(t);
        return nt_error(NT_ERR_NOMEM, "scan outputs of %d iterations exceed the memory limit of %zu bytes "
                        "(NNTRACE_MEMORY_LIMIT)", l->n, nt_limit_memory_bytes());
    }
    l->bytes += nb;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        nt_tensor **ni = nt_realloc(l->items, (size_t)cap * sizeof *ni);
        if (!ni) {
            nt_tensor_free(t);
            return nt_error(NT_ERR_NOMEM, "out of memory collecting scan outputs");
        }
        l->items = ni;
        l->cap = cap;
    }
    l->items[l->n++] = t;
    return NT_OK;
}

static void stack_free(stack_list *l)
{
    free_all(l->items, l->n);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* The body's declared output `k` (NULL past the end): dtype and, when the
 * body declares it fully, the shape an empty scan output is given. */
static const nt_value *body_output_decl(const nt_graph *g, int k)
{
    return k < g->n_outputs ? &g->values[g->outputs[k]] : NULL;
}

/* Output i = the items stacked along a new axis `axis` (reversed if asked).
 * Each item is (d0..dk); the output is (d0..d[axis-1], n, d[axis]..dk).
 * With no items (a loop that ran zero times) the per-iteration shape comes
 * from the body's declared output `decl` when every dim of it is static,
 * as ONNX Runtime does (a tf.while_loop that never runs still yields
 * (0, d0..dk)); otherwise the output is 1-D of length 0. */
static nt_status stack_emit(nt_kernel_ctx *ctx, int i, const stack_list *l, int axis, bool reverse,
                            const nt_value *decl)
{
    if (!nt_ctx_out(ctx, i))
        return NT_OK;
    if (l->n == 0) {
        nt_dtype dt = decl && decl->dtype != NT_DTYPE_UNDEFINED ? decl->dtype : NT_DTYPE_FLOAT;
        int64_t edims[NT_MAX_DIMS] = {0};
        int end = 1;
        bool known = decl && decl->ndim >= 0 && decl->ndim < NT_MAX_DIMS;
        for (int d = 0; known && d < decl->ndim; d++)
            known = decl->dims[d] >= 0;
        if (known) {
            int ax = axis < 0 ? axis + decl->ndim + 1 : axis;
            if (ax >= 0 && ax <= decl->ndim) {
                end = 0;
                for (int d = 0; d < decl->ndim; d++) {
                    if (d == ax)
                        edims[end++] = 0;
                    edims[end++] = decl->dims[d];
                }
                if (ax == decl->ndim)
                    edims[end++] = 0;
            }
        }
        return nt_ctx_alloc_output(ctx, i, dt, end, edims);
    }
    const nt_tensor *first = l->items[0];
    if (first->ndim + 1 > NT_MAX_DIMS)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "scan output rank too large");
    if (axis < 0)
        axis += first->ndim + 1;
    if (axis < 0 || axis > first->ndim)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "scan output axis out of range");
    for (int k = 1; k < l->n; k++) {
        const nt_tensor *t = l->items[k];
        bool same = t->dtype == first->dtype && t->ndim == first->ndim;
        for (int d = 0; same && d < t->ndim; d++)
            same = t->dims[d] == first->dims[d];
        if (!same)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "scan output %d changes shape between iterations", i);
    }
    int64_t dims[NT_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < axis; d++)
        dims[nd++] = first->dims[d];
    dims[nd++] = l->n;
    for (int d = axis; d < first->ndim; d++)
        dims[nd++] = first->dims[d];
    nt_status st = nt_ctx_alloc_output(ctx, i, first->dtype, nd, dims);
    if (st != NT_OK)
        return st;
    size_t esz = nt_dtype_size(first->dtype);
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= first->dims[d];
    for (int d = axis; d < first->ndim; d++)
        inner *= first->dims[d];
    size_t run = (size_t)inner * esz;
    char *dst = ctx->out[i]->data;
    for (int k = 0; k < l->n; k++) {
        const char *src = l->items[reverse ? l->n - 1 - k : k]->data;
        for (int64_t o = 0; o < outer; o++)
            memcpy(dst + ((size_t)o * (size_t)l->n + (size_t)k) * run, src + (size_t)o * run, run);
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- Loop */

static nt_status loop_prepare(const nt_node *n, int opset, void **state)
{
    const nt_graph *body = attr_graph(n, "body");
    if (!body)
        return nt_error(NT_ERR_PARSE, "Loop needs a body graph attribute");
    int n_carried = n->n_in - 2;
    if (n_carried < 0 || body->n_inputs != n_carried + 2 || body->n_outputs < n_carried + 1 ||
        n->n_out > body->n_outputs - 1)
        return nt_error(NT_ERR_PARSE, "Loop body has %d inputs and %d outputs, which does not fit %d node inputs "
                                      "and %d outputs",
                        body->n_inputs, body->n_outputs, n->n_in, n->n_out);
    return NT_OK;
}

static nt_status loop_infer(nt_kernel_ctx *ctx)
{
    const nt_graph *body = attr_graph(ctx->node, "body");
    int n_carried = ctx->n_in - 2;
    for (int i = 0; i < ctx->n_out; i++) {
        if (!ctx->out[i])
            continue;
        nt_dtype t = body_output_dtype(body, i + 1);
        if (i < n_carried && ctx->in[i + 2] && t == NT_DTYPE_UNDEFINED)
            t = ctx->in[i + 2]->dtype;
        ctx->out[i]->dtype = t;
        ctx->out[i]->ndim = -1;
    }
    return NT_OK;
}

static nt_status loop_compute(nt_kernel_ctx *ctx)
{
    const nt_graph *body = attr_graph(ctx->node, "body");
    const nt_tensor *max_trip = nt_ctx_in(ctx, 0), *cond_in = nt_ctx_in(ctx, 1);
    int n_carried = ctx->n_in - 2;
    int n_scan = body->n_outputs - 1 - n_carried;
    if (n_carried < 0 || n_scan < 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "the body has %d outputs, fewer than 1 + %d loop-carried values",
                            body->n_outputs, n_carried);
    int64_t trips = INT64_MAX;
    if (max_trip) {
        if (nt_tensor_numel(max_trip) < 1)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "M must hold one value");
        /* Read as an integer: a double round trip of 2^63-1 would overflow. */
        if (nt_tensor_read_ints(max_trip, &trips, 1) != 1)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "M must be one int64 value, not %s with %lld elements",
                                nt_dtype_name(max_trip->dtype), (long long)nt_tensor_numel(max_trip));
    }
    int64_t max_iters = nt_limit_iterations();
    bool cond = cond_in ? scalar_true(cond_in) : true;
    /* Arrays sized by the node (no arity limit): carried values, scan
     * stacks, and one iteration's body inputs and outputs. */
    nt_tensor **carried = nt_calloc((size_t)n_carried + 1, sizeof *carried);
    stack_list *scans = nt_calloc((size_t)n_scan + 1, sizeof *scans);
    nt_tensor **ins = nt_calloc((size_t)n_carried + 2, sizeof *ins);
    nt_tensor **outs = nt_calloc((size_t)body->n_outputs + 1, sizeof *outs);
    nt_tensor *iter = NULL, *cflag = NULL;
    nt_status st = carried && scans && ins && outs ? NT_OK : NT_ERR_NOMEM;
    if (st == NT_OK)
        st = nt_tensor_new(NT_DTYPE_INT64, 0, NULL, &iter);
    if (st == NT_OK)
        st = nt_tensor_new(NT_DTYPE_BOOL, 0, NULL, &cflag);
    for (int k = 0; st == NT_OK && k < n_carried; k++) {
        if (!ctx->in[k + 2])
            st = nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "omitted loop-carried input %d", k);
        else
            st = nt_tensor_clone(ctx->in[k + 2], &carried[k]);
    }
    for (int64_t i = 0; st == NT_OK && i < trips && cond; i++) {
        if (i >= max_iters) {
            st = nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "the loop did not end after %lld iterations, the "
                              "interpreter's limit (NNTRACE_MAX_ITERATIONS)", (long long)max_iters);
            break;
        }
        ((int64_t *)iter->data)[0] = i;
        ((uint8_t *)cflag->data)[0] = cond;
        ins[0] = iter;
        ins[1] = cflag;
        for (int k = 0; k < n_carried; k++)
            ins[k + 2] = carried[k];
        st = nt_exec_subgraph(ctx, body, n_carried + 2, ins, body->n_outputs, outs);
        if (st != NT_OK)
            break;
        cond = scalar_true(outs[0]);
        nt_tensor_free(outs[0]);
        for (int k = 0; k < n_carried; k++) {
            nt_tensor_free(carried[k]);
            carried[k] = outs[k + 1];
        }
        for (int k = 0; k < n_scan; k++)
            if (st == NT_OK)
                st = stack_push(&scans[k], outs[1 + n_carried + k]);
            else
                nt_tensor_free(outs[1 + n_carried + k]);
    }
    for (int k = 0; st == NT_OK && k < n_carried && k < ctx->n_out; k++)
        st = emit(ctx, k, carried[k]);
    for (int k = 0; st == NT_OK && k < n_scan && n_carried + k < ctx->n_out; k++)
        st = stack_emit(ctx, n_carried + k, &scans[k], 0, false, body_output_decl(body, 1 + n_carried + k));
    if (carried)
        free_all(carried, n_carried);
    for (int k = 0; scans && k < n_scan; k++)
        stack_free(&scans[k]);
    free(carried);
    free(scans);
    free(ins);
    free(outs);
    nt_tensor_free(iter);
    nt_tensor_free(cflag);
    return st;
}

/* ---------------------------------------------------------------- Scan (opset 9+) */

typedef struct scan_attrs {
    int n_scan_in;
    const int64_t *in_axes, *in_dirs, *out_axes, *out_dirs;
    int n_in_axes, n_in_dirs, n_out_axes, n_out_dirs;
} scan_attrs;

static void scan_read_attrs(const nt_node *n, scan_attrs *a)
{
    a->n_scan_in = (int)nt_node_attr_int(n, "num_scan_inputs", 0);
    a->n_in_axes = nt_node_attr_ints(n, "scan_input_axes", &a->in_axes);
    a->n_in_dirs = nt_node_attr_ints(n, "scan_input_directions", &a->in_dirs);
    a->n_out_axes = nt_node_attr_ints(n, "scan_output_axes", &a->out_axes);
    a->n_out_dirs = nt_node_attr_ints(n, "scan_output_directions", &a->out_dirs);
}

static nt_status scan_prepare(const nt_node *n, int opset, void **state)
{
    const nt_graph *body = attr_graph(n, "body");
    scan_attrs a;
    scan_read_attrs(n, &a);
    if (!body)
        return nt_error(NT_ERR_PARSE, "Scan needs a body graph attribute");
    if (a.n_scan_in < 1 || a.n_scan_in > n->n_in)
        return nt_error(NT_ERR_PARSE, "num_scan_inputs %d does not fit %d inputs", a.n_scan_in, n->n_in);
    int n_state = n->n_in - a.n_scan_in;
    if (body->n_inputs != n->n_in || body->n_outputs != n->n_out || body->n_outputs < n_state)
        return nt_error(NT_ERR_PARSE, "Scan body has %d inputs and %d outputs, the node %d and %d", body->n_inputs,
                        body->n_outputs, n->n_in, n->n_out);
    return NT_OK;
}

static nt_status scan_infer(nt_kernel_ctx *ctx)
{
    const nt_graph *body = attr_graph(ctx->node, "body");
    for (int i = 0; i < ctx->n_out; i++)
        if (ctx->out[i]) {
            ctx->out[i]->dtype = body_output_dtype(body, i);
            ctx->out[i]->ndim = -1;
        }
    return NT_OK;
}

/* dst = src[..., t, ...] along axis: src is (outer, T, inner). */
static nt_status slice_at(const nt_tensor *src, int axis, int64_t t, nt_tensor **out)
{
    int64_t dims[NT_MAX_DIMS];
    int nd = 0;
    for (int d = 0; d < src->ndim; d++)
        if (d != axis)
            dims[nd++] = src->dims[d];
    nt_status st = nt_tensor_new(src->dtype, nd, dims, out);
    if (st != NT_OK)
        return st;
    size_t esz = nt_dtype_size(src->dtype);
    int64_t outer = 1, inner = 1, T = src->dims[axis];
    for (int d = 0; d < axis; d++)
        outer *= src->dims[d];
    for (int d = axis + 1; d < src->ndim; d++)
        inner *= src->dims[d];
    size_t run = (size_t)inner * esz;
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)(*out)->data + (size_t)o * run, (const char *)src->data + ((size_t)(o * T + t)) * run, run);
    return NT_OK;
}

static nt_status scan_run(nt_kernel_ctx *ctx, const nt_graph *body, const scan_attrs *sa, int *axes,
                          nt_tensor **state, stack_list *scans, nt_tensor **ins, nt_tensor **outs);

static nt_status scan_compute(nt_kernel_ctx *ctx)
{
    const nt_graph *body = attr_graph(ctx->node, "body");
    scan_attrs a;
    scan_read_attrs(ctx->node, &a);
    int n_state = ctx->n_in - a.n_scan_in;
    int n_scan_out = ctx->n_out - n_state;
    if (n_state < 0 || n_scan_out < 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "num_scan_inputs %d does not fit %d inputs and %d outputs",
                            a.n_scan_in, ctx->n_in, ctx->n_out);
    /* Arrays sized by the node (no arity limit); freed at the end. */
    int *axes = nt_calloc((size_t)a.n_scan_in + 1, sizeof *axes);
    nt_tensor **state = nt_calloc((size_t)n_state + 1, sizeof *state);
    stack_list *scans = nt_calloc((size_t)n_scan_out + 1, sizeof *scans);
    nt_tensor **ins = nt_calloc((size_t)ctx->n_in + 1, sizeof *ins);
    nt_tensor **outs = nt_calloc((size_t)ctx->n_out + 1, sizeof *outs);
    nt_status st = axes && state && scans && ins && outs ? scan_run(ctx, body, &a, axes, state, scans, ins, outs)
                                                          : NT_ERR_NOMEM;
    if (state)
        free_all(state, n_state);
    for (int k = 0; scans && k < n_scan_out; k++)
        stack_free(&scans[k]);
    free(axes);
    free(state);
    free(scans);
    free(ins);
    free(outs);
    return st;
}

/* Scan's work over arrays scan_compute sized: state (n_state, owned, freed
 * by the caller), scans (n_scan_out stacks), ins/outs (one step's body I/O). */
static nt_status scan_run(nt_kernel_ctx *ctx, const nt_graph *body, const scan_attrs *sa, int *axes,
                          nt_tensor **state, stack_list *scans, nt_tensor **ins, nt_tensor **outs)
{
    scan_attrs a = *sa;
    int n_state = ctx->n_in - a.n_scan_in;
    int n_scan_out = ctx->n_out - n_state;
    int64_t T = -1;
    for (int k = 0; k < a.n_scan_in; k++) {
        const nt_tensor *x = ctx->in[n_state + k];
        if (!x)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "scan input %d is missing", k);
        int ax = k < a.n_in_axes ? (int)a.in_axes[k] : 0;
        if (ax < 0)
            ax += x->ndim;
        if (ax < 0 || ax >= x->ndim)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "scan_input_axes[%d] out of range for rank %d", k, x->ndim);
        axes[k] = ax;
        if (T >= 0 && x->dims[ax] != T)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "scan inputs have different lengths (%lld vs %lld)",
                                (long long)T, (long long)x->dims[ax]);
        T = x->dims[ax];
    }
    if (T > nt_limit_iterations())
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%lld iterations exceed the interpreter's limit of %lld "
                            "(NNTRACE_MAX_ITERATIONS)", (long long)T, (long long)nt_limit_iterations());
    nt_status st = NT_OK;
    for (int k = 0; st == NT_OK && k < n_state; k++)
        st = ctx->in[k] ? nt_tensor_clone(ctx->in[k], &state[k])
                        : nt_ctx_error(ctx, NT_ERR_SHAPE, "state input %d is missing", k);
    for (int64_t t = 0; st == NT_OK && t < T; t++) {
        for (int k = 0; k < n_state; k++)
            ins[k] = state[k];
        for (int k = 0; st == NT_OK && k < a.n_scan_in; k++) {
            bool rev = k < a.n_in_dirs && a.in_dirs[k] == 1;
            st = slice_at(ctx->in[n_state + k], axes[k], rev ? T - 1 - t : t, &ins[n_state + k]);
        }
        if (st == NT_OK)
            st = nt_exec_subgraph(ctx, body, ctx->n_in, ins, ctx->n_out, outs);
        for (int k = 0; k < a.n_scan_in; k++)
            nt_tensor_free(ins[n_state + k]);
        if (st != NT_OK)
            break;
        for (int k = 0; k < n_state; k++) {
            nt_tensor_free(state[k]);
            state[k] = outs[k];
        }
        for (int k = 0; k < n_scan_out; k++)
            if (st == NT_OK)
                st = stack_push(&scans[k], outs[n_state + k]);
            else
                nt_tensor_free(outs[n_state + k]);
    }
    for (int k = 0; st == NT_OK && k < n_state; k++)
        st = emit(ctx, k, state[k]);
    for (int k = 0; st == NT_OK && k < n_scan_out; k++) {
        int ax = k < a.n_out_axes ? (int)a.out_axes[k] : 0;
        bool rev = k < a.n_out_dirs && a.out_dirs[k] == 1;
        st = stack_emit(ctx, n_state + k, &scans[k], ax, rev, body_output_decl(body, n_state + k));
    }
    return st;
}

const nt_op_def nt_ops_control[] = {
    {"If", "", 1, if_prepare, NULL, if_infer, if_compute},
    {"Loop", "", 1, loop_prepare, NULL, loop_infer, loop_compute},
    {"Scan", "", 9, scan_prepare, NULL, scan_infer, scan_compute},
};
const size_t nt_ops_control_count = NT_ARRAY_LEN(nt_ops_control);
