/*
 * session.c — the public session API: create (plan), bind inputs, attach
 * tracers, run / pause / resume, read outputs and live values.
 */
#include "exec/exec.h"
#include "core/vec.h"
#include "exec/fuse.h"

#include <stdlib.h>
#include <string.h>


static void session_release_inputs(nt_session *s)
{
    if (!s->bound)
        return;
    for (int v = 0; v < s->model->graph->n_values; v++) {
        nt_tensor_free(s->bound[v]);
        s->bound[v] = NULL;
    }
}

void nt_session_free(nt_session *s)
{
    if (!s)
        return;
    /* nothing is pending once a run returned, and the tracers may be gone */
    s->n_releasing = 0;
    nt_frame_deinit(s, &s->top);
    session_release_inputs(s);
    free(s->bound);
    nt_plan_free(s->plan);
    nt_pool_free(s->pool);
    nt_session_workspace_free(s);
    nt_threads_free(s->threads);
    for (int i = 0; i < s->opt.n_dim_overrides; i++)
        free(s->dim_names[i]);
    free(s->dim_names);
    free(s->dim_values);
    free(s->tracers);
    nt_buf_deinit(&s->static_warnings);
    free(s);
}

nt_status nt_session_new(nt_model *m, const nt_session_options *opt, nt_session **out)
{
    *out = NULL;
    if (!m || !m->graph)
        return nt_error(NT_ERR_INVALID_ARG, "nt_session_new: no model");
    nt_session *s = nt_calloc(1, sizeof *s);
    if (!s)
        return NT_ERR_NOMEM;
    s->model = m;
    nt_buf_init(&s->static_warnings);
    if (opt)
        s->opt = *opt;
    int n_dims = s->opt.n_dim_overrides;
    s->dim_names = nt_calloc((size_t)n_dims + 1, sizeof(char *));
    s->dim_values = nt_calloc((size_t)n_dims + 1, sizeof(int64_t));
    nt_status st = NT_OK;
    if (!s->dim_names || !s->dim_values) {
        st = NT_ERR_NOMEM;
        goto fail;
    }
    for (int i = 0; i < n_dims; i++) {
        s->dim_names[i] = nt_strdup(opt->dim_names[i]);
        s->dim_values[i] = opt->dim_values[i];
        if (!s->dim_names[i]) {
            st = NT_ERR_NOMEM;
            goto fail;
        }
    }
    s->opt.dim_names = NULL;
    s->opt.dim_values = NULL;
    int threads = s->opt.threads > 0 ? s->opt.threads : 1;
    s->pool = nt_pool_new();
    s->threads = nt_threads_new(threads);
    s->bound = nt_calloc((size_t)m->graph->n_values + 1, sizeof *s->bound);
    if (!s->pool || !s->threads || !s->bound) {
        st = NT_ERR_NOMEM;
        goto fail;
    }
    nt_buf unsup;
    nt_buf_init(&unsup);
    int n_unsup = 0;
    st = nt_plan_build(s, m->graph, NULL, 0, &s->plan, &unsup, &n_unsup);
    if (st == NT_OK && n_unsup > 0) {
        st = nt_error(NT_ERR_UNSUPPORTED, "%s: %d node%s cannot be run by nntrace:%s", m->path, n_unsup,
                      n_unsup == 1 ? "" : "s", unsup.data ? unsup.data : "");
    }
    nt_buf_deinit(&unsup);
    if (st != NT_OK)
        goto fail;
    if ((st = nt_frame_init(&s->top, s->plan, NULL)) != NT_OK)
        goto fail;
    *out = s;
    return NT_OK;
fail:
    nt_session_free(s);
    return st;
}

static int find_input(const nt_graph *g, const char *name)
{
    int v = nt_graph_find_value(g, name);
    if (v < 0 || !g->values[v].is_graph_input)
        return -1;
    return v;
}

/* The checks of an input binding; the value index in *v. */
static nt_status check_binding(nt_session *s, const char *name, const nt_tensor *t, int *v_out)
{
    const nt_graph *g = s->model->graph;
    int v = find_input(g, name);
    if (v < 0) {
        nt_buf names;
        nt_buf_init(&names);
        for (int i = 0; i < g->n_inputs; i++)
            nt_buf_printf(&names, "%s'%s'", i ? ", " : "", g->values[g->inputs[i]].name);
        nt_status st = nt_error(NT_ERR_NOT_FOUND, "%s: the model has no input '%s' (inputs: %s)", s->model->path,
                                name, names.data ? names.data : "none");
        nt_buf_deinit(&names);
        return st;
    }
    const nt_tensor *decl = &s->plan->info[v];
    const nt_value *val = &g->values[v];
    unsigned kind = NT_TENSOR_SEQUENCE | NT_TENSOR_OPTIONAL;
    if ((decl->flags & kind) || nt_value_is_container(t)) {
        /* sequences and optionals: the kind must match; elements are checked
         * by the ops that read them */
        if ((decl->flags & kind) != (t->flags & kind) && val->type_kind != NT_TYPE_UNKNOWN)
            return nt_error(NT_ERR_SHAPE, "input '%s': expected a %s, given a %s", name,
                            decl->flags & NT_TENSOR_SEQUENCE ? "sequence" : decl->flags & NT_TENSOR_OPTIONAL ? "optional"
                                                                                                         : "tensor",
                            t->flags & NT_TENSOR_SEQUENCE ? "sequence" : t->flags & NT_TENSOR_OPTIONAL ? "optional"
                                                                                                     : "tensor");
        *v_out = v;
        return NT_OK;
    }
    char want[256], got[256];
    nt_tensor_describe(decl, want, sizeof want);
    nt_tensor_describe(t, got, sizeof got);
    if (decl->dtype != NT_DTYPE_UNDEFINED && decl->dtype != t->dtype)
        return nt_error(NT_ERR_SHAPE, "input '%s': expected dtype %s (%s), given %s", name,
                        nt_dtype_name(decl->dtype), want, got);
    if (decl->ndim >= 0 && val->kind != NT_VALUE_INITIALIZER) {
        bool ok = decl->ndim == t->ndim;
        for (int d = 0; ok && d < t->ndim; d++)
            ok = decl->dims[d] < 0 || decl->dims[d] == t->dims[d];
        if (!ok)
            return nt_error(NT_ERR_SHAPE, "input '%s': expected shape %s, given %s", name, want, got);
    }
    *v_out = v;
    return NT_OK;
}

nt_status nt_session_set_input(nt_session *s, const char *name, const nt_tensor *t)
{
    int v;
    nt_status st = check_binding(s, name, t, &v);
    if (st != NT_OK)
        return st;
    nt_tensor *copy;
    if ((st = nt_tensor_clone(t, &copy)) != NT_OK)
        return st;
    nt_tensor_free(s->bound[v]);
    s->bound[v] = copy;
    return NT_OK;
}

nt_status nt_session_bind_input(nt_session *s, const char *name, const nt_tensor *t)
{
    if (nt_value_is_container(t))   /* containers own their items: never borrowed */
        return nt_session_set_input(s, name, t);
    int v;
    nt_status st = check_binding(s, name, t, &v);
    if (st != NT_OK)
        return st;
    if (!t->data && nt_tensor_nbytes(t) > 0)
        return nt_error(NT_ERR_INVALID_ARG, "input '%s': no data", name);
    /* A struct of our own that borrows the caller's data (no OWNS flag, so
     * nt_tensor_free releases only the struct).  Kernels never write into
     * their inputs, so the caller's memory is only read. */
    nt_tensor *view = nt_malloc(sizeof *view);
    if (!view)
        return NT_ERR_NOMEM;
    *view = *t;
    view->flags &= ~(unsigned)NT_TENSOR_OWNS_DATA;
    nt_tensor_free(s->bound[v]);
    s->bound[v] = view;
    return NT_OK;
}

nt_status nt_session_add_tracer(nt_session *s, const nt_tracer *tracer)
{
    if (s->n_tracers >= 32)
        return nt_error(NT_ERR_INVALID_ARG, "at most 32 tracers can be attached to a session");
    nt_tracer_slot *nt = nt_realloc(s->tracers, ((size_t)s->n_tracers + 1) * sizeof *nt);
    if (!nt)
        return nt_error(NT_ERR_NOMEM, "out of memory attaching a tracer");
    s->tracers = nt;
    s->tracers[s->n_tracers].t = *tracer;
    if (tracer->release)
        s->n_releasing++;
    uint32_t bit = 1u << s->n_tracers;
    s->n_tracers++;
    /* Ask once per node (at every depth) whether the tracer wants it.  The
     * worklist grows on the heap: a model may hold any number of bodies. */
    nt_vec work;
    nt_vec_init(&work, sizeof(nt_plan *));
    nt_status st = nt_vec_push(&work, &s->plan);
    nt_plan *p;
    while (st == NT_OK && nt_vec_pop(&work, &p)) {
        for (int pos = 0; pos < p->n_order; pos++) {
            nt_plan_node *pn = &p->nodes[p->order[pos]];
            const nt_node *n = pn->node;
            nt_node_view view = {pos, n->name, n->op_type, n->domain, p->depth, n->n_in, n->n_out,
                                 pn->in_names, pn->out_names, NULL, NULL, 0.0};
            if (!tracer->wants_node || tracer->wants_node(tracer->user, &view)) {
                pn->traced |= bit;
                if (pn->group) /* a traced member keeps its group unfused (fuse.h) */
                    pn->group->traced |= bit;
            }
        }
        for (int i = 0; i < p->n_sub && st == NT_OK; i++)
            st = nt_vec_push(&work, &p->subs[i]);
    }
    nt_vec_deinit(&work);
    if (st != NT_OK)
        return st;
    return NT_OK;
}

/* Drops bit i from a mask and moves the higher bits down one place (tracer
 * i+1 becomes tracer i). */
static uint32_t drop_bit(uint32_t mask, int i)
{
    uint32_t low = mask & ((1u << i) - 1u);
    return low | ((mask >> (i + 1)) << i);
}

static bool same_tracer(const nt_tracer *a, const nt_tracer *b)
{
    return a->user == b->user && a->wants_node == b->wants_node && a->run_begin == b->run_begin &&
           a->node_begin == b->node_begin && a->node_end == b->node_end && a->run_end == b->run_end &&
           a->release == b->release;
}

nt_status nt_session_remove_tracer(nt_session *s, const nt_tracer *tracer)
{
    if (s->running || s->paused)
        return nt_error(NT_ERR_INVALID_ARG, "a tracer cannot be removed during a run (the session is %s)",
                        s->paused ? "paused" : "running");
    int i = 0;
    while (i < s->n_tracers && !same_tracer(&s->tracers[i].t, tracer))
        i++;
    if (i == s->n_tracers)
        return nt_error(NT_ERR_NOT_FOUND, "the tracer is not attached to this session");
    if (tracer->release)
        s->n_releasing--;
    memmove(&s->tracers[i], &s->tracers[i + 1], (size_t)(s->n_tracers - i - 1) * sizeof *s->tracers);
    s->n_tracers--;
    /* Every cached "wants this node" mask loses the tracer's bit; a group
     * no tracer wants any more fuses again. */
    nt_vec work;
    nt_vec_init(&work, sizeof(nt_plan *));
    nt_status st = nt_vec_push(&work, &s->plan);
    nt_plan *p;
    while (st == NT_OK && nt_vec_pop(&work, &p)) {
        for (int k = 0; k < p->graph->n_nodes; k++)
            p->nodes[k].traced = drop_bit(p->nodes[k].traced, i);
        for (int k = 0; k < p->n_groups; k++)
            p->groups[k]->traced = drop_bit(p->groups[k]->traced, i);
        for (int k = 0; k < p->n_sub && st == NT_OK; k++)
            st = nt_vec_push(&work, &p->subs[k]);
    }
    nt_vec_deinit(&work);
    return st;
}

void nt_session_set_keep_values(nt_session *s, bool keep) { s->keep_values = keep; }

static nt_status check_inputs(nt_session *s)
{
    const nt_graph *g = s->model->graph;
    nt_buf missing;
    nt_buf_init(&missing);
    int n_missing = 0;
    for (int i = 0; i < g->n_inputs; i++) {
        int v = g->inputs[i];
        if (s->bound[v])
            continue;
        char desc[256];
        nt_tensor_describe(&s->plan->info[v], desc, sizeof desc);
        nt_buf_printf(&missing, "\n  %s %s", g->values[v].name, desc);
        n_missing++;
    }
    nt_status st = NT_OK;
    if (n_missing)
        st = nt_error(NT_ERR_NOT_FOUND, "%s: %d input%s not given:%s", s->model->path, n_missing,
                      n_missing == 1 ? "" : "s", missing.data ? missing.data : "");
    nt_buf_deinit(&missing);
    return st;
}

void nt_session_release_to_tracers(nt_session *s, const nt_tensor *t)
{
    for (int i = 0; s->n_releasing && i < s->n_tracers; i++)
        if (s->tracers[i].t.release)
            s->tracers[i].t.release(s->tracers[i].t.user, s, t);
}

static void call_run_end(nt_session *s, nt_status st)
{
    for (int i = 0; i < s->n_tracers; i++)
        if (s->tracers[i].t.run_end)
            s->tracers[i].t.run_end(s->tracers[i].t.user, s, st);
}

nt_status nt_session_run(nt_session *s)
{
    nt_status st;
    int from = s->pc;
    if (!s->paused) {
        if ((st = check_inputs(s)) != NT_OK)
            return st;
        nt_frame_clear(s, &s->top);
        const nt_graph *g = s->model->graph;
        for (int v = 0; v < g->n_values; v++)
            if (s->bound[v])
                s->top.vals[v] = s->bound[v];
            else if (g->values[v].kind == NT_VALUE_INITIALIZER)
                s->top.vals[v] = &s->plan->inits[v];
        nt_pool_reset_peak(s->pool);
        s->run_bytes = 0;
        s->running = true;
        s->skip_begin = false;
        from = 0;
        for (int i = 0; i < s->n_tracers; i++) {
            const nt_tracer *t = &s->tracers[i].t;
            if (t->run_begin && t->run_begin(t->user, s) == NT_ACTION_STOP) {
                s->running = false;
                st = nt_error(NT_ERR_STOPPED, "stopped by a tracer before the run");
                call_run_end(s, st);
                return st;
            }
        }
    }
    s->paused = false;
    int stopped;
    st = nt_frame_run(s, &s->top, from, &stopped);
    nt_session_release_to_tracers(s, NULL); /* the caller may now read or change any value */
    if (st == NT_OK && stopped < s->plan->n_order) {
        s->paused = true;
        s->pc = stopped;
        return NT_OK;
    }
    s->pc = 0;
    s->running = false;
    s->peak_bytes = nt_pool_peak(s->pool);
    call_run_end(s, st);
    return st;
}

bool nt_session_paused(const nt_session *s) { return s->paused; }

nt_status nt_session_get_output(nt_session *s, int i, const nt_tensor **out)
{
    const nt_graph *g = s->model->graph;
    *out = NULL;
    if (i < 0 || i >= g->n_outputs)
        return nt_error(NT_ERR_NOT_FOUND, "output index %d out of range (%d outputs)", i, g->n_outputs);
    const nt_tensor *t = s->top.vals[g->outputs[i]];
    if (!t)
        return nt_error(NT_ERR_NOT_FOUND, "output '%s' has not been computed (run the session first)",
                        g->values[g->outputs[i]].name);
    *out = t;
    return NT_OK;
}

nt_status nt_session_get_value(nt_session *s, const char *name, nt_tensor **out)
{
    const nt_graph *g = s->model->graph;
    *out = NULL;
    int v = nt_graph_find_value(g, name);
    if (v < 0)
        return nt_error(NT_ERR_NOT_FOUND, "no value named '%s' in the model", name);
    if (!s->top.vals[v])
        return nt_error(NT_ERR_NOT_FOUND, "value '%s' is not live now (not computed yet, or freed after its last use)",
                        name);
    *out = s->top.vals[v];
    return NT_OK;
}

size_t nt_session_peak_bytes(const nt_session *s) { return s->peak_bytes; }

const char *nt_session_plan_warnings(const nt_session *s)
{
    return s->static_warnings.data ? s->static_warnings.data : "";
}
