/*
 * extract.c — `nntrace extract`: cut one node (or the nodes between two)
 * out of a model into a standalone ONNX test case (see extract.h).
 *
 * The cut is computed on the top-level graph with an explicit read list
 * per node that includes the values its If/Loop/Scan bodies read from the
 * top graph, so a body's captured values become inputs of the repro too.
 * The repro's inputs and outputs are captured by a small tracer during a
 * normal run (a clone of each wanted tensor, nothing else kept), then the
 * model is written with the ONNX builder: the cut's nodes with all their
 * attributes and bodies, the weights they use as initializers borrowed
 * from the mapped model file.  A value the cut reads that is computed
 * from weights alone (an Identity of a bias, a Constant node's output)
 * is a weight too: it becomes an initializer holding the captured value,
 * not a graph input the repro's user would have to supply.
 */
#include "onnx/extract.h"
#include "onnx/writer.h"
#include "core/vec.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- int vectors */

/* Lists of value indices are nt_vec of int; these read them. */
static inline int *ints(const nt_vec *a) { return a->data; }
static inline int count(const nt_vec *a) { return (int)a->len; }

static bool ivec_push(nt_vec *a, int x) { return nt_vec_push(a, &x) == NT_OK; }

static bool ivec_has(const nt_vec *a, int from, int x)
{
    for (int i = from; i < count(a); i++)
        if (ints(a)[i] == x)
            return true;
    return false;
}

/* ---------------------------------------------------------------- reads */

/* The top-graph value a subgraph value stands for, following OUTER links
 * up; -1 when it is defined by an enclosing body rather than the top graph. */
static int outer_to_top(const nt_graph *sub, int v, const nt_graph *top)
{
    while (sub != top) {
        if (v < 0 || sub->values[v].kind != NT_VALUE_OUTER || !sub->parent)
            return -1;
        v = sub->values[v].outer_index;
        sub = sub->parent;
    }
    return v;
}

/* Appends (deduplicated from `start`) the top-graph values read by the
 * bodies of node n, at any depth. */
static bool add_implicit(const nt_node *n, const nt_graph *top, nt_vec *out, int start)
{
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
                int t = outer_to_top(sub, v, top);
                if (t >= 0 && !ivec_has(out, start, t) && !ivec_push(out, t))
                    return false;
            }
            for (int j = 0; j < sub->n_nodes; j++)
                if (!add_implicit(&sub->nodes[j], top, out, start))
                    return false;
        }
    }
    return true;
}

/* What every top-level node reads (explicit inputs, then body captures), and
 * who reads every value, as CSR arrays. */
typedef struct reads {
    int *off;      /* node i reads val[off[i] .. off[i+1]) */
    int *val;
    int *uoff;     /* value v is read by node[uoff[v] .. uoff[v+1]) */
    int *unode;
} reads;

static void reads_free(reads *r)
{
    free(r->off);
    free(r->val);
    free(r->uoff);
    free(r->unode);
}

static nt_status reads_build(const nt_graph *g, reads *r)
{
    memset(r, 0, sizeof *r);
    nt_vec all;
    nt_vec_init(&all, sizeof(int));
    r->off = nt_calloc((size_t)g->n_nodes + 1, sizeof *r->off);
    r->uoff = nt_calloc((size_t)g->n_values + 1, sizeof *r->uoff);
    if (!r->off || !r->uoff)
        goto nomem;
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *n = &g->nodes[i];
        int start = count(&all);
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && !ivec_has(&all, start, n->in[k]) && !ivec_push(&all, n->in[k]))
                goto nomem;
        if (!add_implicit(n, g, &all, start))
            goto nomem;
        r->off[i + 1] = count(&all);
    }
    r->val = all.data; /* taken over */
    all.data = NULL;
    for (int i = 0; i < r->off[g->n_nodes]; i++)
        r->uoff[r->val[i] + 1]++;
    for (int v = 0; v < g->n_values; v++)
        r->uoff[v + 1] += r->uoff[v];
    r->unode = nt_calloc((size_t)r->uoff[g->n_values] + 1, sizeof *r->unode);
    int *fill = nt_calloc((size_t)g->n_values + 1, sizeof *fill);
    if (!r->unode || !fill) {
        free(fill);
        goto nomem;
    }
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = r->off[i]; k < r->off[i + 1]; k++) {
            int v = r->val[k];
            r->unode[r->uoff[v] + fill[v]++] = i;
        }
    free(fill);
    return NT_OK;
nomem:
    nt_vec_deinit(&all);
    reads_free(r);
    return NT_ERR_NOMEM;
}

/* ---------------------------------------------------------------- selection */

static bool in_subgraph(const nt_graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *n = &g->nodes[i];
        for (int a = 0; a < n->n_attr; a++) {
            const nt_attr *at = &n->attrs[a];
            if (at->type == NT_ATTR_GRAPH && at->g) {
                for (int j = 0; j < at->g->n_nodes; j++)
                    if (strcmp(at->g->nodes[j].name, name) == 0)
                        return true;
                if (in_subgraph(at->g, name))
                    return true;
            }
        }
    }
    return false;
}

static nt_status find_node(const nt_graph *g, const char *name, int *out)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0) {
            *out = i;
            return NT_OK;
        }
    if (in_subgraph(g, name))
        return nt_error(NT_ERR_NOT_FOUND,
                        "node '%s' is inside an If/Loop/Scan body; extract the node that owns the body", name);
    return nt_error(NT_ERR_NOT_FOUND, "no node named '%s' in the model's top-level graph", name);
}

nt_status nt_extract_select(const nt_graph *g, const char *from, const char *to, int **nodes, int *n)
{
    *nodes = NULL;
    *n = 0;
    int a, b = -1;
    nt_status st = find_node(g, from, &a);
    if (st == NT_OK && to)
        st = find_node(g, to, &b);
    if (st != NT_OK)
        return st;
    reads r;
    if ((st = reads_build(g, &r)) != NT_OK)
        return st;
    char *fwd = nt_calloc((size_t)g->n_nodes + 1, 1), *bwd = nt_calloc((size_t)g->n_nodes + 1, 1);
    int *sel = nt_calloc((size_t)g->n_nodes + 1, sizeof *sel);
    if (!fwd || !bwd || !sel) {
        st = NT_ERR_NOMEM;
        goto out;
    }
    fwd[a] = 1;
    if (b >= 0) {
        bwd[b] = 1;
        /* Fixpoints rather than one pass, so a file whose nodes are not in
         * topological order still cuts right. */
        for (bool changed = true; changed;) {
            changed = false;
            for (int i = 0; i < g->n_nodes; i++) {
                const nt_node *nd = &g->nodes[i];
                for (int k = 0; k < nd->n_out && !bwd[i]; k++) {
                    int v = nd->out[k];
                    for (int u = v >= 0 ? r.uoff[v] : 0; v >= 0 && u < r.uoff[v + 1]; u++)
                        if (bwd[r.unode[u]]) {
                            bwd[i] = 1;
                            changed = true;
                            break;
                        }
                }
                if (fwd[i])
                    continue;
                for (int k = r.off[i]; k < r.off[i + 1]; k++) {
                    int p = g->values[r.val[k]].producer;
                    if (p >= 0 && fwd[p]) {
                        fwd[i] = 1;
                        changed = true;
                        break;
                    }
                }
            }
        }
        if (!bwd[a]) {
            st = nt_error(NT_ERR_INVALID_ARG, "node '%s' does not depend on node '%s'%s", to, from,
                          fwd[b] ? "" : " (swap --node and --to?)");
            goto out;
        }
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (i == a || (b >= 0 && fwd[i] && bwd[i]))
            sel[(*n)++] = i;
    *nodes = sel;
    sel = NULL;
out:
    free(fwd);
    free(bwd);
    free(sel);
    reads_free(&r);
    return st;
}

/* ---------------------------------------------------------------- capture */

typedef struct capture {
    int n;
    const char **names;
    nt_tensor **got;
    nt_status err;
} capture;

static void capture_one(capture *c, const char *name, const nt_tensor *t)
{
    if (!t || !name || !name[0])
        return;
    for (int i = 0; i < c->n; i++)
        if (!c->got[i] && strcmp(c->names[i], name) == 0) {
            nt_status st = nt_tensor_clone(t, &c->got[i]);
            if (st != NT_OK && c->err == NT_OK)
                c->err = st;
        }
}

static nt_action capture_begin(void *user, nt_session *s, const nt_node_view *v)
{
    capture *c = user;
    if (v->depth == 0)
        for (int k = 0; k < v->n_inputs; k++)
            capture_one(c, v->input_names[k], v->inputs[k]);
    return c->err == NT_OK ? NT_ACTION_CONTINUE : NT_ACTION_STOP;
}

static nt_action capture_end(void *user, nt_session *s, const nt_node_view *v)
{
    capture *c = user;
    if (v->depth == 0)
        for (int k = 0; k < v->n_outputs; k++)
            capture_one(c, v->output_names[k], v->outputs[k]);
    return c->err == NT_OK ? NT_ACTION_CONTINUE : NT_ACTION_STOP;
}

/* ---------------------------------------------------------------- writing */

static nt_status copy_graph(const nt_graph *src, nt_onnx_graph **out);

static nt_status add_value_decl(nt_onnx_graph *dst, const nt_value *v, bool input)
{
    return (input ? nt_onnx_graph_add_input : nt_onnx_graph_add_output)(
        dst, v->name, v->dtype, v->ndim, v->ndim > 0 ? v->dims : NULL, v->ndim > 0 ? v->dim_names : NULL);
}

/* Appends a copy of node n of graph g (attributes and bodies included). */
static nt_status copy_node(nt_onnx_graph *dst, const nt_graph *g, const nt_node *n)
{
    /* names of any number of inputs and outputs (Concat of hundreds) */
    const char **in = nt_calloc((size_t)n->n_in + (size_t)n->n_out + 1, sizeof *in);
    if (!in)
        return NT_ERR_NOMEM;
    const char **outs = in + n->n_in;
    for (int k = 0; k < n->n_in; k++)
        in[k] = n->in[k] >= 0 ? g->values[n->in[k]].name : "";
    for (int k = 0; k < n->n_out; k++)
        outs[k] = n->out[k] >= 0 ? g->values[n->out[k]].name : "";
    nt_onnx_node *d = nt_onnx_graph_add_node(dst, n->op_type, n->name, n->n_in, in, n->n_out, outs);
    free(in);
    if (!d)
        return NT_ERR_INVALID_ARG;
    nt_status st = n->domain && n->domain[0] ? nt_onnx_node_set_domain(d, n->domain) : NT_OK;
    for (int a = 0; a < n->n_attr && st == NT_OK; a++) {
        const nt_attr *at = &n->attrs[a];
        switch (at->type) {
        case NT_ATTR_FLOAT: st = nt_onnx_node_attr_float(d, at->name, at->f); break;
        case NT_ATTR_INT: st = nt_onnx_node_attr_int(d, at->name, at->i); break;
        case NT_ATTR_STRING: st = nt_onnx_node_attr_string(d, at->name, at->s ? at->s : ""); break;
        case NT_ATTR_TENSOR: st = nt_onnx_node_attr_tensor(d, at->name, at->t); break;
        case NT_ATTR_FLOATS: st = nt_onnx_node_attr_floats(d, at->name, at->n, at->floats); break;
        case NT_ATTR_INTS: st = nt_onnx_node_attr_ints(d, at->name, at->n, at->ints); break;
        case NT_ATTR_STRINGS: st = nt_onnx_node_attr_strings(d, at->name, at->n, at->strings); break;
        case NT_ATTR_GRAPH: {
            nt_onnx_graph *body;
            if ((st = copy_graph(at->g, &body)) == NT_OK)
                st = nt_onnx_node_attr_graph(d, at->name, body);
            break;
        }
        default:
            st = nt_error(NT_ERR_UNSUPPORTED, "node '%s': attribute '%s' of type %d cannot be written yet", n->name,
                          at->name, (int)at->type);
        }
    }
    return st;
}

/* A body graph, copied whole: its inputs, outputs, weights and nodes. */
static nt_status copy_graph(const nt_graph *src, nt_onnx_graph **out)
{
    *out = NULL;
    if (!src)
        return nt_error(NT_ERR_INVALID_ARG, "missing subgraph");
    nt_onnx_graph *g = nt_onnx_graph_new(src->name ? src->name : "body");
    if (!g)
        return NT_ERR_NOMEM;
    nt_status st = NT_OK;
    for (int i = 0; i < src->n_inputs && st == NT_OK; i++)
        st = add_value_decl(g, &src->values[src->inputs[i]], true);
    for (int i = 0; i < src->n_inits && st == NT_OK; i++) {
        const nt_value *v = &src->values[src->inits[i]];
        if (v->init)
            st = nt_onnx_graph_add_initializer_ref(g, v->name, v->init);
    }
    for (int i = 0; i < src->n_nodes && st == NT_OK; i++)
        st = copy_node(g, src, &src->nodes[i]);
    for (int i = 0; i < src->n_outputs && st == NT_OK; i++)
        st = add_value_decl(g, &src->values[src->outputs[i]], false);
    if (st != NT_OK) {
        nt_onnx_graph_free(g);
        return st;
    }
    *out = g;
    return NT_OK;
}

/* Operators whose output is not a function of their inputs. */
static bool nondeterministic(const nt_node *n)
{
    return strncmp(n->op_type, "Random", 6) == 0 || strcmp(n->op_type, "Bernoulli") == 0 ||
           strcmp(n->op_type, "Multinomial") == 0;
}

/* is_const[v]: value v of the top graph depends on initializers alone (the
 * output of a deterministic default-domain node without bodies whose
 * inputs all are).  Passes until nothing changes: one or two on a graph
 * in topological order. */
static char *const_values(const nt_graph *g)
{
    char *c = nt_calloc((size_t)g->n_values + 1, 1);
    if (!c)
        return NULL;
    for (int v = 0; v < g->n_values; v++)
        c[v] = g->values[v].kind == NT_VALUE_INITIALIZER && g->values[v].init;
    for (bool changed = true; changed;) {
        changed = false;
        for (int i = 0; i < g->n_nodes; i++) {
            const nt_node *n = &g->nodes[i];
            if ((n->domain[0] && strcmp(n->domain, "ai.onnx") != 0) || nondeterministic(n) || n->n_out < 1 ||
                n->out[0] < 0 || c[n->out[0]])
                continue;
            bool ok = true;
            for (int a = 0; a < n->n_attr && ok; a++)
                ok = n->attrs[a].type != NT_ATTR_GRAPH && n->attrs[a].type != NT_ATTR_GRAPHS;
            for (int k = 0; k < n->n_in && ok; k++)
                ok = n->in[k] < 0 || c[n->in[k]];
            if (!ok)
                continue;
            for (int k = 0; k < n->n_out; k++)
                if (n->out[k] >= 0)
                    c[n->out[k]] = 1;
            changed = true;
        }
    }
    return c;
}

/* DIR/test_data_set_0/<kind>_<k>.pb for each tensor. */
static nt_status save_set(const char *dir, const char *kind, int n, const int *vals, const nt_graph *g,
                          nt_tensor **ts)
{
    for (int k = 0; k < n; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/test_data_set_0/%s_%d.pb", dir, kind, k);
        nt_status st = nt_pb_tensor_save(path, ts[k], g->values[vals[k]].name);
        if (st != NT_OK)
            return st;
    }
    return NT_OK;
}

nt_status nt_extract(nt_model *m, nt_session *s, const char *from, const char *to, const char *dir,
                     nt_extract_result *res)
{
    const nt_graph *g = m->graph;
    memset(res, 0, sizeof *res);
    int *sel = NULL, n_sel = 0;
    nt_status st = nt_extract_select(g, from, to, &sel, &n_sel);
    if (st != NT_OK)
        return st;
    reads r;
    if ((st = reads_build(g, &r)) != NT_OK) {
        free(sel);
        return st;
    }
    char *in_cut = nt_calloc((size_t)g->n_nodes + 1, 1);
    char *is_const = const_values(g);
    nt_vec inputs, inits, outputs, data_in;
    nt_vec_init(&inputs, sizeof(int));
    nt_vec_init(&inits, sizeof(int));
    nt_vec_init(&outputs, sizeof(int));
    nt_vec_init(&data_in, sizeof(int));
    nt_tensor **data_got = NULL;
    capture cap = {0};
    nt_onnx_builder *b = NULL;
    if (!in_cut || !is_const) {
        st = NT_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < n_sel; i++)
        in_cut[sel[i]] = 1;

    /* Boundary: what the cut reads from outside, and what leaves it. */
    for (int i = 0; i < n_sel && st == NT_OK; i++) {
        int nd = sel[i];
        for (int k = r.off[nd]; k < r.off[nd + 1]; k++) {
            int v = r.val[k];
            const nt_value *val = &g->values[v];
            if (val->producer >= 0 && in_cut[val->producer])
                continue;
            nt_vec *dst = val->kind == NT_VALUE_INITIALIZER && val->init ? &inits : &inputs;
            if (!ivec_has(dst, 0, v) && !ivec_push(dst, v))
                st = NT_ERR_NOMEM;
        }
        const nt_node *n = &g->nodes[nd];
        for (int k = 0; k < n->n_out && st == NT_OK; k++) {
            int v = n->out[k];
            if (v < 0)
                continue;
            bool used_inside = false, used_outside = false;
            for (int u = r.uoff[v]; u < r.uoff[v + 1]; u++) {
                if (in_cut[r.unode[u]])
                    used_inside = true;
                else
                    used_outside = true;
            }
            if ((!used_inside || used_outside || g->values[v].is_graph_output) && !ivec_push(&outputs, v))
                st = NT_ERR_NOMEM;
        }
    }
    if (st != NT_OK)
        goto out;

    /* Capture the boundary tensors during a run. */
    cap.n = count(&inputs) + count(&outputs);
    cap.names = nt_calloc((size_t)cap.n + 1, sizeof *cap.names);
    cap.got = nt_calloc((size_t)cap.n + 1, sizeof *cap.got);
    if (!cap.names || !cap.got) {
        st = NT_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < count(&inputs); i++)
        cap.names[i] = g->values[ints(&inputs)[i]].name;
    for (int i = 0; i < count(&outputs); i++)
        cap.names[count(&inputs) + i] = g->values[ints(&outputs)[i]].name;
    nt_tracer tr = {.user = &cap, .node_begin = capture_begin, .node_end = capture_end};
    if ((st = nt_session_add_tracer(s, &tr)) != NT_OK)
        goto out;
    if ((st = nt_session_run(s)) != NT_OK) {
        if (st == NT_ERR_STOPPED && cap.err != NT_OK)
            st = cap.err;
        goto out;
    }
    for (int i = 0; i < cap.n; i++) {
        if (cap.got[i])
            continue;
        /* a graph input only a body reads never shows in a node view */
        nt_tensor *t;
        if (nt_session_get_value(s, cap.names[i], &t) == NT_OK && (st = nt_tensor_clone(t, &cap.got[i])) != NT_OK)
            goto out;
        if (!cap.got[i]) {
            st = nt_error(NT_ERR_INTERNAL, "value '%s' was not seen during the run", cap.names[i]);
            goto out;
        }
    }

    /* The model. */
    int64_t ir = m->ir_version < 4 ? 4 : m->ir_version;   /* 4+: weights need not be inputs */
    int64_t opset = nt_model_opset(m, "");
    if (!(b = nt_onnx_builder_new(ir, opset > 0 ? opset : 1))) {
        st = NT_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < m->n_opsets; i++)
        if (m->opsets[i].domain[0] && strcmp(m->opsets[i].domain, "ai.onnx") != 0)
            nt_onnx_builder_add_opset(b, m->opsets[i].domain, m->opsets[i].version);
    nt_onnx_graph *mg = nt_onnx_builder_graph(b);
    char gname[300];
    snprintf(gname, sizeof gname, "extract_%s", from);
    nt_onnx_graph_set_name(mg, gname);
    data_got = nt_calloc((size_t)count(&inputs) + 1, sizeof *data_got);
    if (!data_got) {
        st = NT_ERR_NOMEM;
        goto out;
    }
    int n_const = 0;
    for (int i = 0; i < count(&inputs) && st == NT_OK; i++) {
        const nt_tensor *t = cap.got[i];
        const char *name = g->values[ints(&inputs)[i]].name;
        if (is_const[ints(&inputs)[i]]) { /* computed from weights alone: a weight of the repro */
            st = nt_onnx_graph_add_initializer_ref(mg, name, t);
            n_const++;
            continue;
        }
        nt_onnx_graph_add_input(mg, name, t->dtype, t->ndim, t->dims, NULL);
        data_got[count(&data_in)] = cap.got[i];
        if (!ivec_push(&data_in, ints(&inputs)[i]))
            st = NT_ERR_NOMEM;
    }
    for (int i = 0; i < count(&inits); i++)
        nt_onnx_graph_add_initializer_ref(mg, g->values[ints(&inits)[i]].name, g->values[ints(&inits)[i]].init);
    for (int i = 0; i < n_sel && st == NT_OK; i++)
        st = copy_node(mg, g, &g->nodes[sel[i]]);
    for (int i = 0; i < count(&outputs); i++) {
        const nt_tensor *t = cap.got[count(&inputs) + i];
        nt_onnx_graph_add_output(mg, g->values[ints(&outputs)[i]].name, t->dtype, t->ndim, t->dims, NULL);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/test_data_set_0", dir);
    if (st == NT_OK)
        st = nt_mkdirs(path);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    if (st == NT_OK)
        st = nt_onnx_builder_save(b, path);
    if (st == NT_OK)
        st = save_set(dir, "input", count(&data_in), ints(&data_in), g, data_got);
    if (st == NT_OK)
        st = save_set(dir, "output", count(&outputs), ints(&outputs), g, cap.got + count(&inputs));
    if (st == NT_OK) {
        res->n_nodes = n_sel;
        res->n_inputs = count(&data_in);
        res->n_outputs = count(&outputs);
        res->n_initializers = count(&inits) + n_const;
    }
out:
    nt_onnx_builder_free(b);
    for (int i = 0; i < cap.n && cap.got; i++)
        nt_tensor_free(cap.got[i]);
    free(cap.got);
    free(cap.names);
    nt_vec_deinit(&inputs);
    nt_vec_deinit(&data_in);
    free(data_got);
    free(is_const);
    nt_vec_deinit(&inits);
    nt_vec_deinit(&outputs);
    free(in_cut);
    free(sel);
    reads_free(&r);
    return st;
}
