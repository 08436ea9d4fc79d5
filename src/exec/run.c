/*
 * run.c — the run loop: for each node in plan order, hooks.before → infer →
 * allocate → kernel → hooks.after, then release the values that died.
 * Nodes no tracer wants skip every hook (one bit test).  Also runs If/Loop/
 * Scan bodies for the control-flow kernels (nt_exec_subgraph).
 */
#include "exec/exec.h"
#include "exec/fuse.h"
#include "core/limits.h"

#include <stdlib.h>
#include <string.h>

nt_status nt_node_error_wrap(const nt_node *n, nt_status st)
{
    const char *msg = nt_last_error();
    /* A kernel's "invalid argument" (wrong arity, missing input) is a fault
     * of the model, not of the caller: report it as a malformed model. */
    if (st == NT_ERR_INVALID_ARG)
        st = NT_ERR_PARSE;
    /* Kernels using nt_ctx_error already named the node. */
    if (strncmp(msg, "node '", 6) == 0)
        return st;
    return nt_error_wrap(st, "node '%s' (%s)", n->name, n->op_type);
}

nt_status nt_frame_init(nt_frame *f, const nt_plan *plan, nt_frame *parent)
{
    const nt_graph *g = plan->graph;
    memset(f, 0, sizeof *f);
    f->plan = plan;
    f->parent = parent;
    /* Input/output pointer slots for one node at a time: as many as the
     * widest node has (no fixed arity limit), and never fewer than 64, the
     * slots kernels may read past their counts (always NULL there). */
    f->n_io = 64;
    for (int i = 0; i < g->n_nodes; i++)
        f->n_io = NT_MAX(f->n_io, NT_MAX(g->nodes[i].n_in, g->nodes[i].n_out));
    f->vals = nt_calloc((size_t)g->n_values + 1, sizeof *f->vals);
    f->store = nt_calloc((size_t)g->n_values + 1, sizeof *f->store);
    f->io = nt_calloc(2 * (size_t)f->n_io, sizeof *f->io);
    if (!f->vals || !f->store || !f->io) {
        free(f->vals);
        free(f->store);
        free(f->io);
        return NT_ERR_NOMEM;
    }
    for (int v = 0; v < g->n_values; v++) {
        const nt_value *val = &g->values[v];
        if (val->kind == NT_VALUE_INITIALIZER)
            f->vals[v] = &plan->inits[v];
        else if (val->kind == NT_VALUE_OUTER && parent)
            f->vals[v] = parent->vals[val->outer_index];
    }
    return NT_OK;
}

void nt_frame_release_value(nt_session *s, nt_frame *f, int v)
{
    nt_tensor *t = &f->store[v];
    if (f->vals[v] == t) {
        if (s->n_releasing && t->data)
            nt_session_release_to_tracers(s, t);
        if (nt_value_is_container(t))
            nt_seq_release(t);
        else if (t->flags & NT_TENSOR_OWNS_DATA)
            nt_aligned_free(t->data);
        else if (t->data)
            nt_pool_put(s->pool, t->data, t->capacity);
        memset(t, 0, sizeof *t);
        f->vals[v] = NULL;
    } else if (f->vals[v] && f->plan->graph->values[v].producer >= 0) {
        f->vals[v] = NULL; /* an alias of another value's tensor (fuse.h) */
    }
}

void nt_frame_clear(nt_session *s, nt_frame *f)
{
    if (!f->plan)
        return;
    for (int v = 0; v < f->plan->graph->n_values; v++)
        nt_frame_release_value(s, f, v);
}

void nt_frame_deinit(nt_session *s, nt_frame *f)
{
    if (!f->vals)
        return;
    nt_frame_clear(s, f);
    free(f->vals);
    free(f->store);
    free(f->io);
    memset(f, 0, sizeof *f);
}

static nt_action call_node_hooks(nt_session *s, const nt_plan_node *pn, bool end, nt_node_view *view)
{
    nt_action result = NT_ACTION_CONTINUE;
    for (int i = 0; i < s->n_tracers; i++) {
        if (!(pn->traced & (1u << i)))
            continue;
        const nt_tracer *t = &s->tracers[i].t;
        nt_action a = NT_ACTION_CONTINUE;
        if (!end && t->node_begin)
            a = t->node_begin(t->user, s, view);
        else if (end && t->node_end)
            a = t->node_end(t->user, s, view);
        if (a > result)
            result = a;
    }
    return result;
}

/* Gives each present output whose shape infer determined its storage. */
static nt_status alloc_outputs(nt_session *s, const nt_node *n, nt_tensor **out)
{
    for (int k = 0; k < n->n_out; k++) {
        nt_tensor *t = out[k];
        if (!t || t->ndim < 0)
            continue;
        int64_t numel = nt_tensor_numel(t);
        if (numel < 0)
            return nt_error(NT_ERR_SHAPE, "node '%s' (%s): output %d has an unknown dimension at run time",
                            n->name, n->op_type, k);
        if (t->dtype == NT_DTYPE_STRING || nt_value_is_container(t)) {
            /* The kernel stores its strings (nt_tensor_set_strings: owned)
             * or builds its sequence or optional (nt_seq_init). */
            t->data = NULL;
            t->capacity = 0;
            t->flags = 0;
            continue;
        }
        size_t esz = nt_dtype_size(t->dtype);
        if (esz == 0 && numel > 0)
            return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (%s): output dtype %s cannot be stored", n->name,
                            n->op_type, nt_dtype_name(t->dtype));
        size_t nbytes;
        size_t limit = nt_limit_memory_bytes();
        if (!nt_mul_size((size_t)numel, esz, &nbytes) || nbytes > limit)
            return nt_error(NT_ERR_SHAPE, "node '%s' (%s): output %d would need %lld elements, more than the "
                            "memory limit of %zu bytes (NNTRACE_MEMORY_LIMIT)", n->name, n->op_type, k,
                            (long long)numel, limit);
        /* The run's live intermediates together stay under the same limit. */
        if (nbytes > limit - NT_MIN(limit, nt_pool_in_use(s->pool)))
            return nt_error(NT_ERR_NOMEM, "node '%s' (%s): output %d (%zu bytes) would take the run's live "
                            "tensors past the memory limit of %zu bytes (NNTRACE_MEMORY_LIMIT)", n->name,
                            n->op_type, k, nbytes, limit);
        /* A model looping over big tensors is refused after a bounded amount of work. */
        s->run_bytes += nbytes;
        if (s->run_bytes > nt_limit_run_bytes())
            return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (%s): the run has written more than %llu bytes of "
                            "outputs, the interpreter's work limit (NNTRACE_WORK_LIMIT)", n->name, n->op_type,
                            (unsigned long long)nt_limit_run_bytes());
        t->data = nt_pool_get(s->pool, nbytes, &t->capacity);
        if (!t->data)
            return nt_error(NT_ERR_NOMEM, "node '%s' (%s): out of memory for a %zu-byte output", n->name,
                            n->op_type, nbytes);
        t->flags = 0;
    }
    return NT_OK;
}

/* Runs one node without hooks (a member of a fused group that declined a
 * run, so no tracer wants it) and releases the values that die with it. */
static nt_status run_member(nt_session *s, nt_frame *f, nt_exec *exec, const nt_plan_node *pn)
{
    const nt_node *n = pn->node;
    nt_tensor *in[64] = {0}, *out[64] = {0};
    for (int k = 0; k < n->n_in; k++) {
        in[k] = n->in[k] >= 0 ? f->vals[n->in[k]] : NULL;
        if (n->in[k] >= 0 && !in[k])
            return nt_error(NT_ERR_INTERNAL, "node '%s' (%s): input '%s' is not available", n->name, n->op_type,
                            f->plan->graph->values[n->in[k]].name);
    }
    for (int k = 0; k < n->n_out; k++) {
        if (n->out[k] < 0)
            continue;
        nt_frame_release_value(s, f, n->out[k]);
        out[k] = &f->store[n->out[k]];
        out[k]->ndim = -1;
    }
    nt_kernel_ctx ctx = {n, pn->opset, n->n_in, n->n_out, in, out, pn->state, false, exec, f->plan->graph};
    bool bridged;
    nt_status st = nt_dispatch_infer(pn, &ctx, &bridged);
    if (st == NT_OK)
        st = alloc_outputs(s, n, out);
    if (st == NT_OK)
        st = nt_dispatch_compute(pn, &ctx, bridged);
    for (int k = 0; k < n->n_out; k++)
        if (out[k])
            f->vals[n->out[k]] = out[k];
    if (st != NT_OK)
        return nt_node_error_wrap(n, st);
    for (int k = 0; k < n->n_out; k++)
        if (out[k] && out[k]->ndim < 0)
            return nt_error(NT_ERR_INTERNAL, "node '%s' (%s): output %d was not produced", n->name, n->op_type, k);
    return NT_OK;
}

/* Whether a group runs fused in this run: no tracer wants a member and the
 * session does not keep every value (fuse.h). */
static inline bool group_active(const nt_session *s, const nt_fuse_group *g)
{
    return !s->keep_values && (s->n_tracers == 0 || g->traced == 0);
}

/* The root of an inactive lowering group (fuse.h): its output *out (set
 * up by the caller) from the group's kernel, reading the group's inputs.
 * *declined: the kernel declined this run (the root then runs its own). */
static nt_status run_lowered_root(nt_frame *f, nt_session *s, nt_exec *exec, const nt_fuse_group *g,
                                  nt_tensor *out, bool *declined)
{
    const nt_node *n = &g->node;
    nt_tensor *in[NT_FUSE_MAX_IN] = {0}, *o[1] = {out};
    *declined = false;
    for (int k = 0; k < n->n_in; k++) {
        in[k] = n->in[k] >= 0 ? f->vals[n->in[k]] : NULL;
        if (n->in[k] >= 0 && !in[k])
            return nt_error(NT_ERR_INTERNAL, "node '%s' (%s): input '%s' is not available", n->name, n->op_type,
                            f->plan->graph->values[n->in[k]].name);
    }
    nt_kernel_ctx ctx = {n, 0, n->n_in, 1, in, o, g->state, false, exec, f->plan->graph};
    nt_status st = g->pat->infer(&ctx);
    if (st == NT_ERR_UNSUPPORTED) {
        nt_error_clear();
        out->ndim = -1;
        *declined = true;
        return NT_OK;
    }
    if (st == NT_OK)
        st = alloc_outputs(s, n, o);
    if (st == NT_OK)
        st = g->pat->compute(&ctx);
    return st;
}

/* Runs an active group at its root's position: the fused kernel, or the
 * members one by one when it declines this run; then every member's
 * releases (skipped where the members stood). */
static nt_status run_group(nt_session *s, nt_frame *f, nt_exec *exec, const nt_fuse_group *g)
{
    const nt_plan *p = f->plan;
    const nt_node *n = &g->node;
    nt_tensor *in[NT_FUSE_MAX_IN] = {0}, *out[1];
    for (int k = 0; k < n->n_in; k++) {
        in[k] = n->in[k] >= 0 ? f->vals[n->in[k]] : NULL; /* -1: an omitted optional input */
        if (n->in[k] >= 0 && !in[k])
            return nt_error(NT_ERR_INTERNAL, "node '%s' (%s): input '%s' is not available", n->name, n->op_type,
                            p->graph->values[n->in[k]].name);
    }
    int v = n->out[0];
    nt_frame_release_value(s, f, v);
    nt_status st;
    if (!g->pat->compute) {
        f->vals[v] = in[0]; /* alias: released with its input (fuse.c extends that lifetime) */
        st = NT_OK;
    } else {
        out[0] = &f->store[v];
        out[0]->ndim = -1;
        nt_kernel_ctx ctx = {n, 0, n->n_in, 1, in, out, g->state, false, exec, p->graph};
        st = g->pat->infer(&ctx);
        if (st == NT_ERR_UNSUPPORTED) {
            nt_error_clear();
            st = NT_OK;
            for (int m = 0; m < g->n_members && st == NT_OK; m++)
                st = run_member(s, f, exec, &p->nodes[g->members[m]]);
        } else {
            if (st == NT_OK)
                st = alloc_outputs(s, n, out);
            if (st == NT_OK)
                st = g->pat->compute(&ctx);
            f->vals[v] = out[0];
            if (st != NT_OK)
                return nt_node_error_wrap(n, st);
        }
    }
    if (st != NT_OK)
        return st;
    if (!s->keep_values)
        for (int m = 0; m < g->n_members; m++) {
            const nt_plan_node *pn = &p->nodes[g->members[m]];
            for (int k = 0; k < pn->n_release; k++)
                nt_frame_release_value(s, f, pn->release[k]);
        }
    return NT_OK;
}

nt_status nt_frame_run(nt_session *s, nt_frame *f, int from, int *stopped_at)
{
    const nt_plan *p = f->plan;
    const nt_graph *g = p->graph;
    nt_exec exec = {s, f, p->depth};
    /* Zeroed: a kernel reading past its node's inputs finds NULL, not garbage
     * (the frame's slots start zeroed and are cleared past each node's counts). */
    nt_tensor **in = f->io, **out = f->io + f->n_io;
    memset(f->io, 0, 2 * (size_t)f->n_io * sizeof *f->io);   /* stale from an earlier run */
    nt_status st = NT_OK;
    int pos, used_in = 0, used_out = 0;
    for (pos = from; pos < p->n_order; pos++) {
        const nt_plan_node *pn = &p->nodes[p->order[pos]];
        if (pn->group && group_active(s, pn->group)) {
            /* members wait for their root, which runs the whole group */
            if (pn->group_root && (st = run_group(s, f, &exec, pn->group)) != NT_OK)
                return st;
            continue;
        }
        const nt_node *n = pn->node;
        /* Slots past this node's counts hold NULL, not the previous node's tensors. */
        for (int k = n->n_in; k < used_in; k++)
            in[k] = NULL;
        for (int k = n->n_out; k < used_out; k++)
            out[k] = NULL;
        used_in = n->n_in;
        used_out = n->n_out;
        for (int k = 0; k < n->n_in; k++) {
            in[k] = n->in[k] >= 0 ? f->vals[n->in[k]] : NULL;
            if (n->in[k] >= 0 && !in[k])
                return nt_error(NT_ERR_INTERNAL, "node '%s' (%s): input '%s' is not available", n->name,
                                n->op_type, g->values[n->in[k]].name);
        }
        for (int k = 0; k < n->n_out; k++) {
            int v = n->out[k];
            if (v < 0) {
                out[k] = NULL;
                continue;
            }
            nt_frame_release_value(s, f, v); /* a value written twice (Loop bodies re-run) */
            out[k] = &f->store[v];
            out[k]->ndim = -1;
        }
        nt_kernel_ctx ctx = {n, pn->opset, n->n_in, n->n_out, in, out, pn->state, false, &exec, g};
        nt_node_view view;
        bool traced = pn->traced != 0 && s->n_tracers > 0;
        if (traced) {
            view = (nt_node_view){pos, n->name, n->op_type, n->domain, p->depth, n->n_in, n->n_out,
                                  pn->in_names, pn->out_names, in, out, 0.0};
            if (!(s->skip_begin && p->depth == 0 && pos == from)) {
                s->hook_frame = f;
                nt_action a = call_node_hooks(s, pn, false, &view);
                if (a == NT_ACTION_STOP)
                    return nt_error(NT_ERR_STOPPED, "stopped by a tracer before node '%s'", n->name);
                if (a == NT_ACTION_PAUSE && p->depth == 0) {
                    *stopped_at = pos;
                    s->skip_begin = true;
                    return NT_OK;
                }
            }
        }
        if (p->depth == 0)
            s->skip_begin = false;
        bool bridged = false, own = true;
        double t0 = traced ? nt_now_ms() : 0.0;
        if (pn->group && pn->group_root && fuse_pattern_lowers(pn->group->pat)) /* fuse.h: the group's kernel decides */
            st = run_lowered_root(f, s, &exec, pn->group, out[0], &own);
        if (own) {
            st = nt_dispatch_infer(pn, &ctx, &bridged);
            if (st == NT_OK)
                st = alloc_outputs(s, n, out);
            t0 = traced ? nt_now_ms() : 0.0;
            if (st == NT_OK)
                st = nt_dispatch_compute(pn, &ctx, bridged);
        }
        for (int k = 0; k < n->n_out; k++)
            if (out[k])
                f->vals[n->out[k]] = out[k];
        if (st != NT_OK)
            return nt_node_error_wrap(n, st);
        for (int k = 0; k < n->n_out; k++)
            if (out[k] && out[k]->ndim < 0)
                return nt_error(NT_ERR_INTERNAL, "node '%s' (%s): output %d was not produced", n->name,
                                n->op_type, k);
        if (traced) {
            view.elapsed_ms = nt_now_ms() - t0;
            s->hook_frame = f; /* a body run by this node's kernel moved it */
            nt_action a = call_node_hooks(s, pn, true, &view);
            if (a == NT_ACTION_STOP)
                return nt_error(NT_ERR_STOPPED, "stopped by a tracer after node '%s'", n->name);
            if (a == NT_ACTION_PAUSE && p->depth == 0) {
                if (!s->keep_values)
                    for (int k = 0; k < pn->n_release; k++)
                        nt_frame_release_value(s, f, pn->release[k]);
                *stopped_at = pos + 1;
                return NT_OK;
            }
        }
        if (!s->keep_values)
            for (int k = 0; k < pn->n_release; k++)
                nt_frame_release_value(s, f, pn->release[k]);
    }
    *stopped_at = pos;
    return NT_OK;
}

nt_status nt_exec_subgraph(nt_kernel_ctx *ctx, const nt_graph *body, int n_inputs, nt_tensor *const *inputs,
                           int n_outputs, nt_tensor **outputs)
{
    nt_exec *exec = ctx->exec;
    for (int i = 0; i < n_outputs; i++)
        outputs[i] = NULL;
    if (!exec || !exec->sess || !exec->frame)
        return nt_ctx_error(ctx, NT_ERR_INTERNAL, "subgraph run without an executing session");
    const nt_plan *sub = nt_plan_find_sub(exec->frame->plan, body);
    if (!sub)
        return nt_ctx_error(ctx, NT_ERR_INTERNAL, "subgraph '%s' was not planned", body->name ? body->name : "");
    if (n_inputs != body->n_inputs)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "subgraph '%s' takes %d inputs, given %d",
                            body->name ? body->name : "", body->n_inputs, n_inputs);
    if (n_outputs > body->n_outputs)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "subgraph '%s' has %d outputs, %d expected",
                            body->name ? body->name : "", body->n_outputs, n_outputs);
    nt_session *s = exec->sess;
    nt_frame f;
    nt_status st = nt_frame_init(&f, sub, exec->frame);
    if (st != NT_OK)
        return st;
    for (int i = 0; i < n_inputs; i++)
        f.vals[body->inputs[i]] = inputs[i];
    int stopped;
    st = nt_frame_run(s, &f, 0, &stopped);
    for (int i = 0; st == NT_OK && i < n_outputs; i++) {
        const nt_tensor *t = f.vals[body->outputs[i]];
        if (!t) {
            st = nt_ctx_error(ctx, NT_ERR_SHAPE, "subgraph output '%s' was not produced",
                              body->values[body->outputs[i]].name);
            break;
        }
        st = nt_tensor_clone(t, &outputs[i]);
    }
    nt_frame_deinit(s, &f);
    if (st != NT_OK)
        for (int i = 0; i < n_outputs; i++) {
            nt_tensor_free(outputs[i]);
            outputs[i] = NULL;
        }
    return st;
}
