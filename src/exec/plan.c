/*
 * plan.c — turns a loaded graph into something the run loop can execute
 * without further thought:
 *   - each node gets its kernel (highest since-version <= the model's opset)
 *     and its prepared state; every node nntrace cannot run is collected so
 *     the caller can report them all at once;
 *   - a topological order (the file's order when it is already sorted;
 *     cycles and values nobody produces are refused, naming the node);
 *   - value lifetimes: which values die after which node (implicit uses by
 *     If/Loop/Scan bodies of outer-scope values count as uses);
 *   - static shape inference, with small constant subgraphs (Shape → Gather →
 *     Concat ...) folded so later shapes become known.  Folding only feeds
 *     inference: every node still runs at run time, so tracers see it.
 */
#include "exec/exec.h"
#include "exec/fuse.h"
#include "onnx/onnx_tensor.h"

#include <stdlib.h>
#include <string.h>

/* Folding limit: outputs larger than this are left for run time. */
#define FOLD_MAX_ELEMENTS 65536

static bool op_never_folds(const char *op_type)
{
    static const char *const ops[] = {"If", "Loop", "Scan", "RandomNormal", "RandomUniform",
                                      "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial"};
    for (size_t i = 0; i < NT_ARRAY_LEN(ops); i++)
        if (strcmp(op_type, ops[i]) == 0)
            return true;
    return false;
}

const nt_plan *nt_plan_find_sub(const nt_plan *p, const nt_graph *g)
{
    for (int i = 0; i < p->n_sub; i++)
        if (p->subs[i]->graph == g)
            return p->subs[i];
    return NULL;
}

void nt_plan_free(nt_plan *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_sub; i++)
        nt_plan_free(p->subs[i]);
    free(p->subs);
    nt_fuse_free(p);
    if (p->nodes) {
        for (int i = 0; i < p->graph->n_nodes; i++) {
            nt_plan_node *pn = &p->nodes[i];
            if (pn->op && pn->op->release && pn->state)
                pn->op->release(pn->state);
            free(pn->release);
            free(pn->implicit);
            free(pn->in_names);
            free(pn->out_names);
        }
        free(p->nodes);
    }
    if (p->info) {
        for (int v = 0; v < p->graph->n_values; v++)
            if (p->info[v].flags & NT_TENSOR_OWNS_DATA)
                nt_aligned_free(p->info[v].data);
        free(p->info);
    }
    if (p->inits) {
        for (int v = 0; v < p->graph->n_values; v++)
            if (p->inits[v].flags & NT_TENSOR_OWNS_DATA)
                nt_aligned_free(p->inits[v].data);
        free(p->inits);
    }
    free(p->order);
    free(p);
}

/* Collects the outer-scope values (indices in g) that the subgraphs of node n
 * read, directly or through their own subgraphs. */
static nt_status collect_implicit(const nt_graph *g, const nt_node *n, nt_plan_node *pn)
{
    int cap = 0;
    for (int a = 0; a < n->n_attr; a++) {
        const nt_attr *at = &n->attrs[a];
        int ng = at->type == NT_ATTR_GRAPH ? 1 : at->type == NT_ATTR_GRAPHS ? at->n : 0;
        for (int k = 0; k < ng; k++) {
            const nt_graph *sub = at->type == NT_ATTR_GRAPH ? at->g : at->graphs[k];
            if (!sub)
                continue;
            for (int v = 0; v < sub->n_values; v++) {
                if (sub->values[v].kind != NT_VALUE_OUTER)
                    continue;
                int outer = sub->values[v].outer_index;
                if (outer < 0 || outer >= g->n_values)
                    return nt_error(NT_ERR_PARSE, "node '%s': subgraph value '%s' has no outer definition",
                                    n->name, sub->values[v].name);
                bool seen = false;
                for (int j = 0; j < pn->n_implicit; j++)
                    seen |= pn->implicit[j] == outer;
                if (seen)
                    continue;
                if (pn->n_implicit == cap) {
                    cap = cap ? cap * 2 : 8;
                    int *ni = nt_realloc(pn->implicit, (size_t)cap * sizeof *ni);
                    if (!ni)
                        return nt_error(NT_ERR_NOMEM, "out of memory planning node '%s'", n->name);
                    pn->implicit = ni;
                }
                pn->implicit[pn->n_implicit++] = outer;
            }
        }
    }
    return NT_OK;
}

/* Attributes whose type is the same in every operator of the default
 * domain.  Kernels read them with nt_node_attr_int & co., which fall back to
 * the default on a type mismatch; a model that gives `axis` as a string is
 * malformed, and saying so beats running it with the default axis. */
static const struct {
    const char *name;
    nt_attr_type type;
} fixed_attr_types[] = {
    {"axis", NT_ATTR_INT},           {"keepdims", NT_ATTR_INT},      {"to", NT_ATTR_INT},
    {"group", NT_ATTR_INT},          {"blocksize", NT_ATTR_INT},     {"transA", NT_ATTR_INT},
    {"transB", NT_ATTR_INT},         {"ceil_mode", NT_ATTR_INT},     {"batch_dims", NT_ATTR_INT},
    {"largest", NT_ATTR_INT},        {"sorted", NT_ATTR_INT},        {"hidden_size", NT_ATTR_INT},
    {"num_scan_inputs", NT_ATTR_INT}, {"perm", NT_ATTR_INTS},        {"kernel_shape", NT_ATTR_INTS},
    {"strides", NT_ATTR_INTS},       {"pads", NT_ATTR_INTS},         {"dilations", NT_ATTR_INTS},
    {"epsilon", NT_ATTR_FLOAT},      {"alpha", NT_ATTR_FLOAT},       {"beta", NT_ATTR_FLOAT},
    {"mode", NT_ATTR_STRING},        {"auto_pad", NT_ATTR_STRING},   {"equation", NT_ATTR_STRING},
    {"body", NT_ATTR_GRAPH},         {"then_branch", NT_ATTR_GRAPH}, {"else_branch", NT_ATTR_GRAPH},
};

static const char *attr_type_name(nt_attr_type t)
{
    static const char *const names[] = {"UNDEFINED", "FLOAT",  "INT",     "STRING",        "TENSOR",
                                        "GRAPH",     "FLOATS", "INTS",    "STRINGS",       "TENSORS",
                                        "GRAPHS",    "SPARSE_TENSOR",     "SPARSE_TENSORS", "TYPE_PROTO",
                                        "TYPE_PROTOS"};
    return (unsigned)t < NT_ARRAY_LEN(names) ? names[t] : "unknown";
}

static nt_status check_attr_types(const nt_node *n, const char *what)
{
    if (n->domain[0])
        return NT_OK;
    for (int a = 0; a < n->n_attr; a++)
        for (size_t k = 0; k < NT_ARRAY_LEN(fixed_attr_types); k++)
            if (n->attrs[a].name && strcmp(n->attrs[a].name, fixed_attr_types[k].name) == 0 &&
                n->attrs[a].type != fixed_attr_types[k].type)
                return nt_error(NT_ERR_PARSE, "%s: node '%s' (%s): attribute '%s' is %s, it must be %s", what,
                                n->name, n->op_type, n->attrs[a].name, attr_type_name(n->attrs[a].type),
                                attr_type_name(fixed_attr_types[k].type));
    return NT_OK;
}

static bool value_defined_at_start(const nt_value *v)
{
    return v->kind == NT_VALUE_INPUT || v->kind == NT_VALUE_INITIALIZER || v->kind == NT_VALUE_OUTER ||
           v->is_graph_input;
}

/* Kahn-style ordering that keeps the file's order whenever it is valid. */
static nt_status topo_order(const nt_graph *g, nt_plan *p, const char *what)
{
    bool *avail = nt_calloc((size_t)g->n_values + 1, sizeof *avail);
    bool *done = nt_calloc((size_t)g->n_nodes + 1, sizeof *done);
    p->order = nt_calloc((size_t)g->n_nodes + 1, sizeof *p->order);
    nt_status st = NT_OK;
    if (!avail || !done || !p->order) {
        st = NT_ERR_NOMEM;
        goto out;
    }
    for (int v = 0; v < g->n_values; v++)
        avail[v] = value_defined_at_start(&g->values[v]);
    /* A value that no node produces and that is not an input or initializer
     * can never become available: name it rather than call it a cycle. */
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (v >= 0 && !avail[v] && g->values[v].producer < 0) {
                st = nt_error(NT_ERR_PARSE, "%s: node '%s' (%s) input '%s' is not produced by any node "
                                            "and is not a graph input or initializer",
                              what, n->name, n->op_type, g->values[v].name);
                goto out;
            }
        }
    }
    int emitted = 0;
    while (emitted < g->n_nodes) {
        bool progress = false;
        for (int i = 0; i < g->n_nodes; i++) {
            if (done[i])
                continue;
            const nt_node *n = &g->nodes[i];
            bool ready = true;
            for (int k = 0; k < n->n_in && ready; k++)
                ready = n->in[k] < 0 || avail[n->in[k]];
            for (int k = 0; k < p->nodes[i].n_implicit && ready; k++)
                ready = avail[p->nodes[i].implicit[k]];
            if (!ready)
                continue;
            done[i] = true;
            p->order[emitted++] = i;
            progress = true;
            for (int k = 0; k < n->n_out; k++)
                if (n->out[k] >= 0)
                    avail[n->out[k]] = true;
        }
        if (!progress) {
            for (int i = 0; i < g->n_nodes; i++)
                if (!done[i]) {
                    st = nt_error(NT_ERR_PARSE, "%s: the graph has a cycle: node '%s' (%s) depends on its own "
                                                "output through other nodes",
                                  what, g->nodes[i].name, g->nodes[i].op_type);
                    goto out;
                }
        }
    }
    p->n_order = emitted;
out:
    free(avail);
    free(done);
    return st;
}

/* For each value, the position of its last consumer; the value is released
 * after that node.  Values nobody reads die right after their producer. */
static nt_status plan_lifetimes(const nt_graph *g, nt_plan *p)
{
    int *last = nt_malloc(((size_t)g->n_values + 1) * sizeof *last);
    if (!last)
        return nt_error(NT_ERR_NOMEM, "out of memory planning lifetimes");
    for (int v = 0; v < g->n_values; v++)
        last[v] = -1;
    for (int pos = 0; pos < p->n_order; pos++) {
        const nt_node *n = &g->nodes[p->order[pos]];
        const nt_plan_node *pn = &p->nodes[p->order[pos]];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                last[n->in[k]] = pos;
        for (int k = 0; k < pn->n_implicit; k++)
            last[pn->implicit[k]] = pos;
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] >= 0 && last[n->out[k]] < pos)
                last[n->out[k]] = pos;
    }
    /* Each node's list sized exactly: counted first, then filled in value order. */
    for (int v = 0; v < g->n_values; v++) {
        const nt_value *val = &g->values[v];
        if (last[v] >= 0 && !val->is_graph_output && val->producer >= 0)
            p->nodes[p->order[last[v]]].n_release++;
    }
    for (int pos = 0; pos < p->n_order; pos++) {
        nt_plan_node *pn = &p->nodes[p->order[pos]];
        if (pn->n_release && !(pn->release = nt_malloc((size_t)pn->n_release * sizeof *pn->release))) {
            free(last);
            return nt_error(NT_ERR_NOMEM, "out of memory planning lifetimes");
        }
        pn->n_release = 0;
    }
    for (int v = 0; v < g->n_values; v++) {
        const nt_value *val = &g->values[v];
        if (last[v] >= 0 && !val->is_graph_output && val->producer >= 0) {
            nt_plan_node *pn = &p->nodes[p->order[last[v]]];
            pn->release[pn->n_release++] = v;
        }
    }
    free(last);
    return NT_OK;
}

/* Initializers as kernels may use them: data aligned to the element size.
 * Aligned ones stay in the map (no copy); misaligned ones are copied once,
 * and the map's pages under them are given back, so that a weight is not
 * resident twice (PyTorch exports leave most weights misaligned). */
static nt_status plan_inits(nt_session *s, const nt_graph *g, nt_plan *p)
{
    p->inits = nt_calloc((size_t)g->n_values + 1, sizeof *p->inits);
    if (!p->inits)
        return NT_ERR_NOMEM;
    for (int v = 0; v < g->n_values; v++) {
        const nt_value *val = &g->values[v];
        if (!val->init)
            continue;
        nt_tensor *t = &p->inits[v];
        *t = *val->init;
        t->flags &= ~NT_TENSOR_OWNS_DATA;
        size_t esz = nt_dtype_size(t->dtype);
        size_t nbytes = nt_tensor_nbytes(t);
        if (esz > 1 && t->data && ((uintptr_t)t->data % esz) != 0) {
            void *copy = nt_aligned_alloc(nbytes);
            if (!copy)
                return nt_error(NT_ERR_NOMEM, "out of memory copying initializer '%s'", val->name);
            nt_model_copy_out(s->model, copy, val->init->data, nbytes);
            t->data = copy;
            t->capacity = nbytes;
            t->flags |= NT_TENSOR_OWNS_DATA;
            s->copied_init_bytes += nbytes;
        }
    }
    return NT_OK;
}

static void add_unsupported(nt_buf *b, int *count, const char *fmt, ...) NT_PRINTF(3, 4);
static void add_unsupported(nt_buf *b, int *count, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    nt_buf_printf(b, "\n  %s", line);
    (*count)++;
}

static void static_warning(nt_session *s, const char *fmt, ...) NT_PRINTF(2, 3);
static void static_warning(nt_session *s, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    nt_buf_printf(&s->static_warnings, "%s\n", line);
    s->n_static_warnings++;
}

/* The declared type of a value, with --dim overrides applied to symbolic dims. */
static void declared_info(const nt_session *s, const nt_value *v, nt_tensor *t)
{
    t->dtype = v->dtype;
    t->ndim = v->ndim <= NT_MAX_DIMS ? v->ndim : -1;
    for (int d = 0; d < t->ndim; d++) {
        t->dims[d] = v->dims[d];
        if (t->dims[d] < 0 && v->dim_names && v->dim_names[d])
            for (int k = 0; k < s->opt.n_dim_overrides; k++)
                if (strcmp(s->dim_names[k], v->dim_names[d]) == 0)
                    t->dims[d] = s->dim_values[k];
    }
}

static bool shape_known(const nt_tensor *t)
{
    return t->ndim >= 0 && nt_tensor_numel(t) >= 0;
}

static nt_status infer_node_with(nt_session *s, nt_plan *p, nt_plan_node *pn, nt_buf *unsup, int *n_unsup,
                                 nt_tensor **in, nt_tensor **out, nt_tensor *scratch_out);

/* Static inference (and folding) of one node; never fails the plan except on
 * NT_ERR_UNSUPPORTED (recorded) and out-of-memory. */
static nt_status infer_node(nt_session *s, nt_plan *p, nt_plan_node *pn, nt_buf *unsup, int *n_unsup)
{
    const nt_node *n = pn->node;
    /* Zeroed: a kernel reading past its node's inputs finds NULL, not garbage.
     * Nodes with more inputs or outputs (Concat of hundreds) get heap arrays
     * of their own size, never fewer than the 64 slots a kernel may read. */
    enum { SMALL = 64 };
    nt_tensor *in_small[SMALL] = {0}, *out_small[SMALL] = {0};
    nt_tensor scratch_small[SMALL];
    nt_tensor **in = in_small, **out = out_small, *scratch_out = scratch_small;
    void *big = NULL;
    if (n->n_in > SMALL || n->n_out > SMALL) {
        size_t ni = (size_t)NT_MAX(n->n_in, SMALL), no = (size_t)NT_MAX(n->n_out, SMALL);
        size_t bytes = (ni + no) * sizeof(nt_tensor *) + no * sizeof(nt_tensor);
        big = nt_calloc(1, bytes);
        if (!big)
            return NT_ERR_NOMEM;
        in = big;
        out = in + ni;
        scratch_out = (nt_tensor *)(out + no);
    }
    nt_status st = infer_node_with(s, p, pn, unsup, n_unsup, in, out, scratch_out);
    free(big);
    return st;
}

static nt_status infer_node_with(nt_session *s, nt_plan *p, nt_plan_node *pn, nt_buf *unsup, int *n_unsup,
                                 nt_tensor **in, nt_tensor **out, nt_tensor *scratch_out)
{
    const nt_node *n = pn->node;
    const nt_graph *g = p->graph;
    for (int k = 0; k < n->n_in; k++)
        in[k] = n->in[k] >= 0 ? &p->info[n->in[k]] : NULL;
    for (int k = 0; k < n->n_out; k++) {
        out[k] = n->out[k] >= 0 ? &scratch_out[k] : NULL;
        memset(&scratch_out[k], 0, sizeof scratch_out[k]);
        scratch_out[k].ndim = -1;
    }
    nt_exec exec = {s, NULL, p->depth};
    nt_kernel_ctx ctx = {n, pn->opset, n->n_in, n->n_out, in, out, pn->state, true, &exec, g};
    nt_status st = nt_dispatch_infer_plan(pn, &ctx);
    if (st == NT_ERR_UNSUPPORTED) {
        add_unsupported(unsup, n_unsup, "%s (domain '%s', opset %d) at node '%s': %s", n->op_type,
                        n->domain[0] ? n->domain : "ai.onnx", pn->opset, n->name, nt_last_error());
        return NT_OK;
    }
    if (st == NT_ERR_NOMEM)
        return st;
    if (st != NT_OK) {
        static_warning(s, "node '%s' (%s): %s", n->name, n->op_type, nt_last_error());
        nt_ctx_outputs_unknown(&ctx);
    }
    /* Fold when every input is a known constant and the result is small.
     * Shape and Size need only their input's shape, not its data. */
    bool shape_only = strcmp(n->op_type, "Shape") == 0 || strcmp(n->op_type, "Size") == 0;
    bool foldable = st == NT_OK && !op_never_folds(n->op_type) && pn->op->compute;
    for (int k = 0; k < n->n_in && foldable; k++)
        foldable = !in[k] || ((in[k]->data || shape_only) && shape_known(in[k]));
    int64_t total = 0;
    for (int k = 0; k < n->n_out && foldable; k++) {
        if (!out[k])
            continue;
        /* Sequences and optionals are computed at run time, never kept as
         * plan constants: their items would outlive the plan. */
        foldable = shape_known(out[k]) && nt_dtype_size(out[k]->dtype) > 0 && !nt_value_is_container(out[k]);
        total += foldable ? nt_tensor_numel(out[k]) : 0;
    }
    if (foldable && total <= FOLD_MAX_ELEMENTS) {
        bool ok = true;
        for (int k = 0; k < n->n_out && ok; k++)
            if (out[k])
                ok = nt_tensor_reserve(out[k], nt_tensor_nbytes(out[k])) == NT_OK;
        ctx.static_mode = false;
        if (ok && nt_dispatch_compute(pn, &ctx, pn->half_bridge) == NT_OK) {
            /* folded: keep data */
        } else {
            for (int k = 0; k < n->n_out; k++)
                if (out[k] && (out[k]->flags & NT_TENSOR_OWNS_DATA)) {
                    nt_aligned_free(out[k]->data);
                    out[k]->data = NULL;
                    out[k]->flags &= ~NT_TENSOR_OWNS_DATA;
                }
        }
        nt_error_clear();
    }
    for (int k = 0; k < n->n_out; k++) {
        if (!out[k])
            continue;
        nt_tensor *dst = &p->info[n->out[k]];
        const nt_value *val = &g->values[n->out[k]];
        *dst = *out[k];
        if (dst->dtype == NT_DTYPE_UNDEFINED)
            dst->dtype = val->dtype;
        if (dst->ndim < 0 && val->ndim >= 0 && val->ndim <= NT_MAX_DIMS) {
            nt_tensor decl = {0};
            declared_info(s, val, &decl);
            dst->ndim = decl.ndim;
            memcpy(dst->dims, decl.dims, sizeof dst->dims);
        }
    }
    return NT_OK;
}

/* Marks n's outputs as downstream of a refusal. */
static void mark_refused(const nt_node *n, bool *refused)
{
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0)
            refused[n->out[k]] = true;
}

nt_status nt_plan_build(nt_session *s, const nt_graph *g, nt_plan *parent, int depth, nt_plan **out,
                        nt_buf *unsup, int *n_unsup)
{
    *out = NULL;
    bool *refused = NULL;
    const char *what = s->model->path;
    nt_plan *p = nt_calloc(1, sizeof *p);
    if (!p)
        return NT_ERR_NOMEM;
    p->graph = g;
    p->parent = parent;
    p->depth = depth;
    nt_status st = NT_OK;
    p->nodes = nt_calloc((size_t)g->n_nodes + 1, sizeof *p->nodes);
    p->info = nt_calloc((size_t)g->n_values + 1, sizeof *p->info);
    if (!p->nodes || !p->info) {
        st = NT_ERR_NOMEM;
        goto fail;
    }
    if ((st = plan_inits(s, g, p)) != NT_OK)
        goto fail;

    /* Kernels and prepared state. */
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *n = &g->nodes[i];
        nt_plan_node *pn = &p->nodes[i];
        pn->node = n;
        pn->opset = (int)nt_model_opset(s->model, n->domain);
        pn->in_names = nt_calloc((size_t)n->n_in + 1, sizeof(char *));
        pn->out_names = nt_calloc((size_t)n->n_out + 1, sizeof(char *));
        if (!pn->in_names || !pn->out_names) {
            st = NT_ERR_NOMEM;
            goto fail;
        }
        for (int k = 0; k < n->n_in; k++)
            pn->in_names[k] = n->in[k] >= 0 ? g->values[n->in[k]].name : "";
        for (int k = 0; k < n->n_out; k++)
            pn->out_names[k] = n->out[k] >= 0 ? g->values[n->out[k]].name : "";
        if ((st = collect_implicit(g, n, pn)) != NT_OK || (st = check_attr_types(n, what)) != NT_OK ||
            (st = nt_plan_check_arity(n, pn->opset, what)) != NT_OK)
            goto fail;
        pn->op = nt_op_find(n->op_type, n->domain, pn->opset);
        if (!pn->op) {
            const char *dom = n->domain[0] ? n->domain : "ai.onnx";
            if (pn->opset == 0)
                add_unsupported(unsup, n_unsup, "%s (domain '%s', not imported by the model) at node '%s'",
                                n->op_type, dom, n->name);
            else if (nt_op_known(n->op_type, n->domain))
                add_unsupported(unsup, n_unsup, "%s (domain '%s', opset %d) at node '%s': only newer "
                                                "versions of this operator are implemented",
                                n->op_type, dom, pn->opset, n->name);
            else
                add_unsupported(unsup, n_unsup, "%s (domain '%s', opset %d) at node '%s': operator not "
                                                "implemented", n->op_type, dom, pn->opset, n->name);
            continue;
        }
        if (pn->op->prepare) {
            st = pn->op->prepare(n, pn->opset, &pn->state);
            if (st == NT_ERR_UNSUPPORTED) {
                add_unsupported(unsup, n_unsup, "%s (domain '%s', opset %d) at node '%s': %s", n->op_type,
                                n->domain[0] ? n->domain : "ai.onnx", pn->opset, n->name, nt_last_error());
                pn->op = NULL;
                st = NT_OK;
                continue;
            }
            if (st != NT_OK) {
                nt_error_wrap(st, "%s: node '%s' (%s)", what, n->name, n->op_type);
                goto fail;
            }
        }
    }
    if ((st = topo_order(g, p, what)) != NT_OK)
        goto fail;
    if ((st = plan_lifetimes(g, p)) != NT_OK)
        goto fail;

    /* Static types and shapes of what exists before the first node. */
    for (int v = 0; v < g->n_values; v++) {
        const nt_value *val = &g->values[v];
        nt_tensor *t = &p->info[v];
        t->ndim = -1;
        if (val->type_kind != NT_TYPE_TENSOR && val->type_kind != NT_TYPE_UNKNOWN &&
            val->type_kind != NT_TYPE_SEQUENCE && val->type_kind != NT_TYPE_OPTIONAL &&
            (val->is_graph_input || val->is_graph_output))
            add_unsupported(unsup, n_unsup, "graph %s '%s' is a %s, only tensors are supported",
                            val->is_graph_input ? "input" : "output", val->name,
                            val->type_kind == NT_TYPE_SEQUENCE   ? "sequence"
                            : val->type_kind == NT_TYPE_MAP      ? "map"
                            : val->type_kind == NT_TYPE_OPTIONAL ? "optional"
                                                                 : "sparse tensor");
        if (val->kind == NT_VALUE_INITIALIZER && val->init) {
            *t = p->inits[v];
            t->flags &= ~NT_TENSOR_OWNS_DATA;
            if (val->init->dtype == NT_DTYPE_STRING)
                t->data = NULL;
        } else if (val->kind == NT_VALUE_OUTER && parent) {
            *t = parent->info[val->outer_index];
            t->flags &= ~NT_TENSOR_OWNS_DATA;
            if (t->dtype == NT_DTYPE_UNDEFINED)
                declared_info(s, val, t);
        } else if (val->kind == NT_VALUE_INPUT || val->is_graph_input) {
            declared_info(s, val, t);
        }
        /* Declared sequences and optionals: static inference sees the kind. */
        if (val->type_kind == NT_TYPE_SEQUENCE || val->type_kind == NT_TYPE_OPTIONAL) {
            t->flags |= val->type_kind == NT_TYPE_SEQUENCE ? NT_TENSOR_SEQUENCE : NT_TENSOR_OPTIONAL;
            t->ndim = 0;
            t->data = NULL;
        }
        if (depth > 0 && val->kind == NT_VALUE_INPUT)
            t->data = NULL;
    }
    /* Values downstream of a refused node: nodes reading them are not
     * inferred, so the decline list names only root causes (a Concat the
     * interpreter refuses would otherwise also make every consumer report
     * "dtype undefined").  Outer values a body reads count as inputs. */
    refused = nt_calloc((size_t)g->n_values + 1, sizeof *refused);
    if (!refused) {
        st = NT_ERR_NOMEM;
        goto fail;
    }
    /* Room for every subgraph the nodes carry (an upper bound: a graph
     * shared by two attributes is planned once), allocated once. */
    size_t max_sub = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int a = 0; a < g->nodes[i].n_attr; a++) {
            const nt_attr *at = &g->nodes[i].attrs[a];
            max_sub += at->type == NT_ATTR_GRAPH ? 1 : at->type == NT_ATTR_GRAPHS ? (size_t)at->n : 0;
        }
    if (max_sub && !(p->subs = nt_calloc(max_sub, sizeof *p->subs))) {
        st = nt_error(NT_ERR_NOMEM, "out of memory planning subgraphs");
        goto fail;
    }
    for (int pos = 0; pos < p->n_order; pos++) {
        nt_plan_node *pn = &p->nodes[p->order[pos]];
        const nt_node *n = pn->node;
        bool cascade = false;
        for (int k = 0; k < n->n_in && !cascade; k++)
            cascade = n->in[k] >= 0 && refused[n->in[k]];
        for (int k = 0; k < pn->n_implicit && !cascade; k++)
            cascade = refused[pn->implicit[k]];
        if (cascade) {
            mark_refused(n, refused);
            continue;
        }
        int unsup_before = *n_unsup;
        /* Subgraphs are planned when their node is reached, so they see
         * what the parent knows about the values they capture. */
        for (int a = 0; a < n->n_attr; a++) {
            const nt_attr *at = &n->attrs[a];
            int ng = at->type == NT_ATTR_GRAPH ? 1 : at->type == NT_ATTR_GRAPHS ? at->n : 0;
            for (int k = 0; k < ng; k++) {
                const nt_graph *sub = at->type == NT_ATTR_GRAPH ? at->g : at->graphs[k];
                if (!sub || nt_plan_find_sub(p, sub))
                    continue;
                NT_ASSERT((size_t)p->n_sub < max_sub);
                st = nt_plan_build(s, sub, p, depth + 1, &p->subs[p->n_sub], unsup, n_unsup);
                if (st != NT_OK)
                    goto fail;
                p->n_sub++;
            }
        }
        if (!pn->op || *n_unsup > unsup_before) {
            mark_refused(n, refused);
            continue;
        }
        if ((st = infer_node(s, p, pn, unsup, n_unsup)) != NT_OK)
            goto fail;
        if (*n_unsup > unsup_before)
            mark_refused(n, refused);
    }
    free(refused);
    refused = NULL;
    if (*n_unsup == 0 && (st = nt_fuse_plan(s, p)) != NT_OK)
        goto fail;
    *out = p;
    return NT_OK;
fail:
    free(refused);
    nt_plan_free(p);
    return st;
}
