/*
 * inspect.c — a small read-only view of the run in progress for tracers
 * that look inside If/Loop/Scan bodies (the debugger): which frame a node
 * hook belongs to, its graph and plan order, and value lookup through the
 * nesting of frames.  Kept apart from run.c so the run loop stays about
 * running; these functions only read.
 */
#include "exec/exec.h"

#include <string.h>

const nt_frame *nt_session_hook_frame(const nt_session *s) { return s->hook_frame; }

const nt_frame *nt_session_top_frame(const nt_session *s) { return &s->top; }

const nt_tensor *nt_session_bound_input(const nt_session *s, const char *name)
{
    int v = nt_graph_find_value(s->model->graph, name);
    return v >= 0 ? s->bound[v] : NULL;
}

const nt_graph *nt_frame_graph(const nt_frame *f) { return f->plan->graph; }

const nt_frame *nt_frame_parent(const nt_frame *f) { return f->parent; }

const int *nt_frame_order(const nt_frame *f, int *n_order)
{
    *n_order = f->plan->n_order;
    return f->plan->order;
}

nt_tensor *nt_frame_find_value(const nt_frame *f, const char *name, const nt_graph **g, int *v)
{
    for (; f; f = f->parent) {
        const nt_graph *fg = f->plan->graph;
        int i = nt_graph_find_value(fg, name);
        if (i < 0)
            continue;
        if (g)
            *g = fg;
        if (v)
            *v = i;
        return f->vals[i];
    }
    return NULL;
}
