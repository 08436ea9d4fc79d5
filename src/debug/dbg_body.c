/*
 * dbg_body.c — nodes inside If/Loop/Scan bodies for the debugger.
 *
 * Body nodes are named as doctor and the stats tracer name them: by their
 * node name in the model (they have no "#N": positions number the top
 * graph's execution order only).  The index built here lists every body
 * node at every depth with the node that owns its body and the attribute
 * (then_branch, else_branch, body) that holds it, so `break` can accept a
 * body node's name before the run ever reaches it.  While the run is
 * paused, d->levels[0..depth] say which node runs at each depth; the
 * descriptions below turn that into "in body of node #3 'loop' (Loop),
 * iteration 2" lines.
 */
#include "debug/dbg_internal.h"

#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is refused by the loader; the bound keeps the
 * recursion finite whatever the graph. */
#define DBG_MAX_DEPTH 64

static nt_status add_entry(nt_debugger *d, int *cap, dbg_body_node e)
{
    if (d->n_body == *cap) {
        int ncap = *cap ? 2 * *cap : 64;
        dbg_body_node *v = nt_realloc(d->body, (size_t)ncap * sizeof *v);
        if (!v)
            return NT_ERR_NOMEM;
        d->body = v;
        *cap = ncap;
    }
    d->body[d->n_body++] = e;
    return NT_OK;
}

static nt_status index_graph(nt_debugger *d, int *cap, const nt_graph *g, int depth)
{
    if (depth > DBG_MAX_DEPTH)
        return NT_OK;
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *owner = &g->nodes[i];
        for (int a = 0; a < owner->n_attr; a++) {
            const nt_attr *at = &owner->attrs[a];
            int n = at->type == NT_ATTR_GRAPH ? 1 : at->type == NT_ATTR_GRAPHS ? at->n : 0;
            for (int k = 0; k < n; k++) {
                const nt_graph *body = at->type == NT_ATTR_GRAPH ? at->g : at->graphs[k];
                if (!body)
                    continue;
                for (int j = 0; j < body->n_nodes; j++) {
                    nt_status st = add_entry(d, cap, (dbg_body_node){body, &body->nodes[j], owner, at->name, depth + 1});
                    if (st != NT_OK)
                        return st;
                }
                nt_status st = index_graph(d, cap, body, depth + 1);
                if (st != NT_OK)
                    return st;
            }
        }
    }
    return NT_OK;
}

nt_status nt_dbg_body_index(nt_debugger *d)
{
    int cap = 0;
    return index_graph(d, &cap, d->graph, 0);
}

const dbg_body_node *nt_dbg_body_find(const nt_debugger *d, const char *name)
{
    for (int i = 0; i < d->n_body; i++)
        if (strcmp(d->body[i].node->name, name) == 0)
            return &d->body[i];
    return NULL;
}

const dbg_body_node *nt_dbg_body_of(const nt_debugger *d, const nt_node *n)
{
    for (int i = 0; i < d->n_body; i++)
        if (d->body[i].node == n)
            return &d->body[i];
    return NULL;
}

/* "#3 'name' (Op)" for a top-level node, "'name' (Op)" for a body node. */
static void describe_owner(const nt_debugger *d, const nt_node *owner, nt_buf *b)
{
    int idx = (int)(owner - d->graph->nodes);
    if (idx >= 0 && idx < d->graph->n_nodes && d->pos_of[idx] >= 0)
        nt_dbg_describe_node(d, d->pos_of[idx], b);
    else
        nt_buf_printf(b, "'%s' (%s)", owner->name, owner->op_type);
}

void nt_dbg_describe_body(const nt_debugger *d, const dbg_body_node *e, nt_buf *b)
{
    nt_buf_printf(b, "in %s of node ", e->attr ? e->attr : "a body");
    describe_owner(d, e->owner, b);
}

const nt_node *nt_dbg_current_node(const nt_debugger *d)
{
    if (d->depth > 0 && d->levels && d->levels[d->depth].node)
        return d->levels[d->depth].node;
    return nt_dbg_node_at(d, d->pos);
}

const nt_graph *nt_dbg_current_graph(const nt_debugger *d)
{
    if (d->state == DBG_PAUSED && d->depth > 0 && d->levels && d->levels[d->depth].graph)
        return d->levels[d->depth].graph;
    return d->graph;
}

/* The attribute of owner that holds body, or "body". */
static const char *attr_of(const nt_node *owner, const nt_graph *body)
{
    for (int a = 0; a < owner->n_attr; a++) {
        const nt_attr *at = &owner->attrs[a];
        if (at->type == NT_ATTR_GRAPH && at->g == body)
            return at->name;
        for (int k = 0; at->type == NT_ATTR_GRAPHS && k < at->n; k++)
            if (at->graphs[k] == body)
                return at->name;
    }
    return "body";
}

void nt_dbg_describe_here(const nt_debugger *d, nt_buf *b)
{
    if (d->depth == 0 || !d->levels) {
        nt_dbg_describe_node(d, d->pos, b);
        return;
    }
    const dbg_level *L = &d->levels[d->depth];
    nt_buf_printf(b, "'%s' (%s) [%d of %d] in %s of ", L->node->name, L->node->op_type, L->pos + 1, L->n_order,
                  attr_of(d->levels[d->depth - 1].node, L->graph));
    describe_owner(d, d->levels[d->depth - 1].node, b);
    if (strcmp(d->levels[d->depth - 1].node->op_type, "If") != 0)
        nt_buf_printf(b, ", iteration %d", L->iteration);
}

void nt_dbg_describe_nesting(const nt_debugger *d, nt_buf *b)
{
    for (int k = d->depth; k > 0 && d->levels; k--) {
        const dbg_level *L = &d->levels[k];
        const nt_node *owner = d->levels[k - 1].node;
        nt_buf_printf(b, "  #%d  %s of node ", d->depth - k + 1, attr_of(owner, L->graph));
        describe_owner(d, owner, b);
        if (strcmp(owner->op_type, "If") != 0)
            nt_buf_printf(b, ", iteration %d", L->iteration);
        if (k > 1)
            nt_buf_printf(b, " (node %d of %d of its graph)", d->levels[k - 1].pos + 1, d->levels[k - 1].n_order);
        nt_buf_putc(b, '\n');
    }
}
