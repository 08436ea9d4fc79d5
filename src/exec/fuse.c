/*
 * fuse.c — the fusion pass over a built plan: counts the readers of every
 * value, lets each pattern of the table claim groups of nodes, and records
 * the groups on the plan nodes for the run loop.  The contract the patterns
 * keep (same bits, private interiors, tracers see original nodes) is in
 * fuse.h.
 */
#include "exec/fuse.h"
#include "ops/elementwise_common.h"

#include <stdlib.h>
#include <string.h>

/* Tried in this order: the QDQ lowering first (it decides values, and its
 * Conv/MatMul must not become a float group); a Conv takes its element-wise epilogue before the
 * chains see it; attention (MatMul, scale, mask, Softmax, MatMul) before
 * the row programs would take its scale, mask and Softmax; row programs
 * (norms) next, as their element-wise tails
 * would otherwise become chains of their own; a chain absorbs the Casts
 * inside it before the standalone no-op Cast pattern sees them. */
static const nt_fuse_pattern *const patterns[] = {
    &nt_fuse_qdq,
    &nt_fuse_conv_epilogue,
    &nt_fuse_attention,
    &nt_fuse_rows,
    &nt_fuse_chain,
    &nt_fuse_noop_cast,
};

bool fuse_pattern_lowers(const nt_fuse_pattern *pat) { return pat == &nt_fuse_qdq; }

bool fuse_value_private(const nt_plan *p, const int *uses, int v, const int *members, int n_members)
{
    const nt_graph *g = p->graph;
    if (v < 0 || g->values[v].is_graph_output)
        return false;
    int reads = 0;
    for (int m = 0; m < n_members; m++) {
        const nt_node *n = &g->nodes[members[m]];
        for (int k = 0; k < n->n_in; k++)
            reads += n->in[k] == v;
        if (p->nodes[members[m]].n_implicit)
            return false; /* members with subgraphs are never claimed */
    }
    return reads == uses[v];
}

int fuse_pos(const nt_plan *p, int node_index) { return p->pos_of[node_index]; }

bool fuse_node_free(const nt_plan *p, int i)
{
    const nt_plan_node *pn = &p->nodes[i];
    return pn->op && !pn->group && pn->node->domain[0] == '\0' && pn->n_implicit == 0;
}

nt_dtype fuse_dtype(const nt_plan *p, int v) { return v >= 0 ? p->info[v].dtype : NT_DTYPE_UNDEFINED; }

bool fuse_in_list(const int *list, int n, int x)
{
    for (int k = 0; k < n; k++)
        if (list[k] == x)
            return true;
    return false;
}

/* Unary ops whose float loop is a pure function of x (and the attributes). */
static bool unary_fusable(const char *op)
{
    return strcmp(op, "IsNaN") != 0 && strcmp(op, "IsInf") != 0 && strcmp(op, "Not") != 0 &&
           strcmp(op, "BitwiseNot") != 0;
}

static bool binary_fusable(const char *op)
{
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "PRelu", "Sum"};
    for (size_t i = 0; i < NT_ARRAY_LEN(ops); i++)
        if (strcmp(op, ops[i]) == 0)
            return true;
    return false;
}

int fuse_ew_operands(const nt_plan *p, int i)
{
    if (!fuse_node_free(p, i))
        return 0;
    const nt_plan_node *pn = &p->nodes[i];
    const nt_node *n = pn->node;
    if (n->n_out != 1 || n->out[0] < 0 || fuse_dtype(p, n->out[0]) != NT_DTYPE_FLOAT)
        return 0;
    int n_opnd;
    if (strcmp(n->op_type, "Cast") == 0)
        n_opnd = 1;
    else if (nt_ew_is_unary(pn->op) && unary_fusable(n->op_type))
        n_opnd = 1;
    else if (nt_ew_is_binary(pn->op) && binary_fusable(n->op_type) && n->n_in == 2)
        n_opnd = 2;
    else
        return 0;
    if (n->n_in < n_opnd)
        return 0;
    for (int k = 0; k < n_opnd; k++)
        if (n->in[k] < 0 || fuse_dtype(p, n->in[k]) != NT_DTYPE_FLOAT)
            return 0;
    /* Clip's bounds are read as run-time parameters, never data operands */
    for (int k = n_opnd; k < n->n_in; k++)
        if (n->in[k] >= 0 && p->info[n->in[k]].ndim != 0 && p->info[n->in[k]].ndim != 1)
            return 0;
    return n_opnd;
}

int fuse_group_input(const nt_fuse_group *g, int v)
{
    for (int k = 0; k < g->node.n_in; k++)
        if (g->in[k] == v)
            return k;
    return -1;
}

static bool produced_by_member(const nt_graph *gr, const nt_fuse_group *g, int v)
{
    for (int m = 0; m < g->n_members; m++) {
        const nt_node *n = &gr->nodes[g->members[m]];
        for (int k = 0; k < n->n_out; k++)
            if (n->out[k] == v)
                return true;
    }
    return false;
}

nt_status fuse_group_add(nt_plan *p, const nt_fuse_pattern *pat, const int *members, int n_members, void *state,
                         nt_fuse_group **out)
{
    const nt_graph *gr = p->graph;
    if (out)
        *out = NULL;
    if (n_members < 1 || n_members > NT_FUSE_MAX_MEMBERS) {
        if (pat->release && state)
            pat->release(state);
        return NT_OK;
    }
    nt_fuse_group *g = nt_calloc(1, sizeof *g);
    nt_fuse_group **ng = nt_realloc(p->groups, ((size_t)p->n_groups + 1) * sizeof *ng);
    if (!g || !ng) {
        free(g);
        if (ng)
            p->groups = ng;
        if (pat->release && state)
            pat->release(state);
        return nt_error(NT_ERR_NOMEM, "out of memory planning fused nodes");
    }
    p->groups = ng;
    g->pat = pat;
    g->state = state;
    g->n_members = n_members;
    memcpy(g->members, members, (size_t)n_members * sizeof *members);
    /* insertion sort by plan position */
    for (int a = 1; a < n_members; a++)
        for (int b = a; b > 0 && p->pos_of[g->members[b]] < p->pos_of[g->members[b - 1]]; b--) {
            int t = g->members[b];
            g->members[b] = g->members[b - 1];
            g->members[b - 1] = t;
        }
    g->root = g->members[n_members - 1];
    for (int m = 0; m < n_members; m++) {
        const nt_node *n = &gr->nodes[g->members[m]];
        for (int k = 0; k < n->n_in; k++) {
            int v = n->in[k];
            if (v < 0 || produced_by_member(gr, g, v) || fuse_group_input(g, v) >= 0)
                continue;
            if (g->node.n_in == NT_FUSE_MAX_IN) {
                if (pat->release && state)
                    pat->release(state);
                free(g);
                return NT_OK;
            }
            g->in[g->node.n_in++] = v;
        }
    }
    const nt_node *root = &gr->nodes[g->root];
    g->out[0] = root->out[0];
    g->node.name = root->name;
    g->node.op_type = pat->name;
    g->node.domain = "";
    g->node.index = root->index;
    g->node.n_out = 1;
    g->node.in = g->in;
    g->node.out = g->out;
    for (int m = 0; m < n_members; m++) {
        nt_plan_node *pn = &p->nodes[g->members[m]];
        pn->group = g;
        pn->group_root = g->members[m] == g->root;
    }
    p->groups[p->n_groups++] = g;
    if (out)
        *out = g;
    return NT_OK;
}

/* Moves value v's release to plan position `at` when it would happen
 * earlier (nothing for values never released: inputs, initializers). */
static nt_status release_not_before(nt_plan *p, int v, int at)
{
    for (int pos = 0; pos < at; pos++) {
        nt_plan_node *from = &p->nodes[p->order[pos]];
        for (int k = 0; k < from->n_release; k++) {
            if (from->release[k] != v)
                continue;
            nt_plan_node *to = &p->nodes[p->order[at]];
            int *nr = nt_realloc(to->release, ((size_t)to->n_release + 1) * sizeof *nr);
            if (!nr)
                return nt_error(NT_ERR_NOMEM, "out of memory planning fused nodes");
            to->release = nr;
            to->release[to->n_release++] = v;
            from->release[k] = from->release[--from->n_release];
            return NT_OK;
        }
    }
    return NT_OK;
}

/* The group runs at its root's position, so each of its inputs must live
 * until then, even when a node between the members was its last reader;
 * an alias's input must moreover live as long as the alias (its output). */
static nt_status extend_lifetimes(nt_plan *p, const nt_fuse_group *g)
{
    int root_pos = p->pos_of[g->root];
    for (int k = 0; k < g->node.n_in; k++) {
        nt_status st = release_not_before(p, g->in[k], root_pos);
        if (st != NT_OK)
            return st;
    }
    if (g->pat->compute)
        return NT_OK;
    int at_out = -1;
    for (int pos = 0; pos < p->n_order && at_out < 0; pos++) {
        const nt_plan_node *pn = &p->nodes[p->order[pos]];
        for (int k = 0; k < pn->n_release; k++)
            if (pn->release[k] == g->out[0])
                at_out = pos;
    }
    return at_out > root_pos ? release_not_before(p, g->in[0], at_out) : NT_OK;
}

nt_status nt_fuse_plan(nt_session *s, nt_plan *p)
{
    const nt_graph *g = p->graph;
    p->pos_of = nt_calloc((size_t)g->n_nodes + 1, sizeof *p->pos_of);
    if (!p->pos_of)
        return NT_ERR_NOMEM;
    for (int pos = 0; pos < p->n_order; pos++)
        p->pos_of[p->order[pos]] = pos;
    int *uses = nt_calloc((size_t)g->n_values + 1, sizeof *uses);
    if (!uses)
        return NT_ERR_NOMEM;
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0)
                uses[n->in[k]]++;
        for (int k = 0; k < p->nodes[i].n_implicit; k++)
            uses[p->nodes[i].implicit[k]]++;
    }
    nt_status st = NT_OK;
    for (size_t i = 0; i < NT_ARRAY_LEN(patterns) && st == NT_OK; i++) {
        if (s->opt.no_fusion && !fuse_pattern_lowers(patterns[i]))
            continue; /* a lowering decides values and stays */
        int before = p->n_groups;
        st = patterns[i]->match(s, p, uses);
        for (int k = before; k < p->n_groups && st == NT_OK; k++)
            st = extend_lifetimes(p, p->groups[k]);
    }
    free(uses);
    return st;
}

void nt_fuse_free(nt_plan *p)
{
    for (int i = 0; i < p->n_groups; i++) {
        nt_fuse_group *g = p->groups[i];
        if (g->pat->release && g->state)
            g->pat->release(g->state);
        free(g);
    }
    free(p->groups);
    free(p->pos_of);
    p->groups = NULL;
    p->n_groups = 0;
}
