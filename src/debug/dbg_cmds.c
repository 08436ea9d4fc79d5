/*
 * dbg_cmds.c — the debugger's command table and every command that does
 * not move the run: breakpoints and watches, `where`, `list`, `info`, and
 * the value commands `print`, `stats`, `hist`, `dump` and `set`.
 *
 * Values are named as in the model: a tensor name ("/conv1/Conv_output_0")
 * or a graph input/output name, optionally followed by a numpy-style index
 * ("y[0, 1:3]"); a name with spaces or brackets in it can be written in
 * double quotes ("\"odd name\"[0]").  Nodes are named by node name or by
 * "#N", their position in execution order (what `list` shows).
 */
#include "debug/dbg_internal.h"
#include "graph/node_pattern.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DBG_NAME_MAX 1024

/* ------------------------------------------------------------ nodes */

/* The position of the node named exactly ref, or -1 (no message). */
static int find_node_quiet(const nt_debugger *d, const char *ref)
{
    for (int p = 0; p < d->n_order; p++)
        if (strcmp(nt_dbg_node_at(d, p)->name, ref) == 0)
            return p;
    return -1;
}

/* What find_node returns for a node inside an If/Loop/Scan body. */
#define DBG_BODY_NODE (-2)

/* A node by "#N" or name, as its execution position (DBG_BODY_NODE for a
 * node inside a body: see nt_dbg_body_find); -1 with a message. */
static int find_node(const nt_debugger *d, const char *ref)
{
    if (ref[0] == '#' && ref[1]) {
        char *end;
        long p = strtol(ref + 1, &end, 10);
        if (*end == '\0') {
            if (p < 0 || p >= d->n_order) {
                nt_error(NT_ERR_NOT_FOUND, "no node %s: the model runs nodes #0 to #%d", ref, d->n_order - 1);
                return -1;
            }
            return (int)p;
        }
    }
    for (int p = 0; p < d->n_order; p++)
        if (strcmp(nt_dbg_node_at(d, p)->name, ref) == 0)
            return p;
    if (nt_dbg_body_find(d, ref))
        return DBG_BODY_NODE;
    int v = nt_graph_find_value(d->graph, ref);
    if (v >= 0 && d->graph->values[v].producer >= 0)
        nt_error(NT_ERR_NOT_FOUND, "no node named '%s'; there is a value of that name, produced by node '%s'", ref,
                 d->graph->nodes[d->graph->values[v].producer].name);
    else
        nt_error(NT_ERR_NOT_FOUND, "no node named '%s' (see 'info nodes')", ref);
    return -1;
}

/* "=> #2 'log' (Log): x -> y  [breakpoint 1]"; a body node (graph g, not
 * the top graph) shows as "'name' (Op)" indented by its depth. */
static void node_line(nt_debugger *d, const nt_graph *g, const nt_node *n, int pos, int depth, bool here, nt_buf *b)
{
    nt_buf_puts(b, here ? "=> " : "   ");
    for (int k = 0; k < depth; k++)
        nt_buf_puts(b, "  ");
    if (g == d->graph)
        nt_dbg_describe_node(d, pos, b);
    else
        nt_buf_printf(b, "'%s' (%s)", n->name, n->op_type);
    nt_buf_puts(b, ":");
    int shown = 0;
    for (int k = 0; k < n->n_in; k++)
        if (n->in[k] >= 0)
            nt_buf_printf(b, "%s %s", shown++ ? "," : "", g->values[n->in[k]].name);
    nt_buf_puts(b, " ->");
    shown = 0;
    for (int k = 0; k < n->n_out; k++)
        if (n->out[k] >= 0)
            nt_buf_printf(b, "%s %s", shown++ ? "," : "", g->values[n->out[k]].name);
    const nt_dbg_bp *bp = nt_dbg_bps_match_before((nt_dbg_bps *)&d->bps, n->name, n->op_type);
    if (bp)
        nt_buf_printf(b, "  [breakpoint %d]", bp->id);
    nt_buf_putc(b, '\n');
}

static void list_line(nt_debugger *d, int pos, nt_buf *b)
{
    bool here = d->state == DBG_PAUSED && d->depth == 0 && pos == d->pos;
    node_line(d, d->graph, nt_dbg_node_at(d, pos), pos, 0, here, b);
}

/* ------------------------------------------------------------ values */

typedef struct dbg_ref {
    char name[DBG_NAME_MAX];
    char label[DBG_NAME_MAX + 256];   /* name and index, as typed */
    int value;
    const nt_graph *graph;     /* the graph (top or a body) that holds the value */
    nt_tensor *t;
    nt_dbg_view view;
    bool whole;
} dbg_ref;

static nt_status no_such_value(const nt_debugger *d, const char *name)
{
    for (int p = 0; p < d->n_order; p++) {
        const nt_node *n = nt_dbg_node_at(d, p);
        if (strcmp(n->name, name) != 0 || n->n_out < 1 || n->out[0] < 0)
            continue;
        return nt_error(NT_ERR_NOT_FOUND, "no value named '%s'; node '%s' outputs '%s'%s", name, name,
                        d->graph->values[n->out[0]].name, n->n_out > 1 ? " (and more: see 'list')" : "");
    }
    for (int i = 0; i < d->n_body; i++) {
        const nt_graph *g = d->body[i].graph;
        if (d->body[i].node != &g->nodes[0] || nt_graph_find_value(g, name) < 0)
            continue;
        nt_error(NT_ERR_NOT_FOUND, "value '%s' lives in a body: ", name);
        nt_buf b;
        nt_buf_init(&b);
        nt_dbg_describe_body(d, &d->body[i], &b);
        nt_status st = nt_error(NT_ERR_NOT_FOUND, "value '%s' lives %s and exists only while the run is paused "
                                "inside it (break on a node there)", name, b.data ? b.data : "in a body");
        nt_buf_deinit(&b);
        return st;
    }
    return nt_error(NT_ERR_NOT_FOUND, "no value named '%s' (values are tensor names: see 'list' or 'info nodes')",
                    name);
}

/* The value's index in the graph where the current node sees it: the
 * body the run is paused in, the bodies around it, the top graph. */
static int find_value(const nt_debugger *d, const char *name, const nt_graph **g)
{
    if (d->state == DBG_PAUSED && d->depth > 0)
        for (int k = d->depth; k > 0; k--) {
            int v = nt_graph_find_value(d->levels[k].graph, name);
            if (v >= 0) {
                *g = d->levels[k].graph;
                return v;
            }
        }
    *g = d->graph;
    return nt_graph_find_value(d->graph, name);
}

/* Splits "name", "name[index]" or "\"quoted name\"[index]" and finds the
 * value's graph index; the index text stays in *slice_text. */
static nt_status split_ref(const nt_debugger *d, const char *text, char *name, const char **slice_text)
{
    size_t len = strlen(text);
    *slice_text = "";
    if (len == 0)
        return nt_error(NT_ERR_INVALID_ARG, "expected a value name (a tensor or graph output name)");
    if (text[0] == '"') {
        const char *q = strchr(text + 1, '"');
        if (!q)
            return nt_error(NT_ERR_INVALID_ARG, "missing closing '\"' in %s", text);
        if ((size_t)(q - text - 1) >= DBG_NAME_MAX)
            return nt_error(NT_ERR_INVALID_ARG, "value name too long");
        memcpy(name, text + 1, (size_t)(q - text - 1));
        name[q - text - 1] = '\0';
        *slice_text = q + 1;
        return NT_OK;
    }
    if (len >= DBG_NAME_MAX)
        return nt_error(NT_ERR_INVALID_ARG, "value name too long");
    memcpy(name, text, len + 1);
    const nt_graph *g;
    if (find_value(d, name, &g) >= 0 || text[len - 1] != ']')
        return NT_OK;
    int depth = 0;
    for (size_t i = len; i-- > 0;) {
        if (text[i] == ']')
            depth++;
        else if (text[i] == '[' && --depth == 0) {
            size_t n = i;
            while (n > 0 && isspace((unsigned char)text[n - 1]))
                n--;
            name[n] = '\0';
            *slice_text = text + i;
            return NT_OK;
        }
    }
    return nt_error(NT_ERR_INVALID_ARG, "unbalanced brackets in '%s'", text);
}

/* Resolves a value reference to its live tensor and the view it selects. */
static nt_status parse_ref(nt_debugger *d, const char *text, dbg_ref *r)
{
    memset(r, 0, sizeof *r);
    const char *slice_text;
    nt_status st = split_ref(d, text, r->name, &slice_text);
    if (st != NT_OK)
        return st;
    snprintf(r->label, sizeof r->label, "%s%s", r->name, slice_text);
    r->value = find_value(d, r->name, &r->graph);
    if (r->value < 0)
        return no_such_value(d, r->name);
    if (d->state == DBG_IDLE)
        return nt_error(NT_ERR_INVALID_ARG, "the model has not run yet: values exist once computed (use 'start' or 'run')");
    if (r->graph == d->graph && (d->state != DBG_PAUSED || d->depth == 0) &&
        (st = nt_session_get_value(d->sess, r->name, &r->t)) != NT_OK)
        return st;
    if (!nt_dbg_value_live(d, r->name, &r->t) && d->state == DBG_PAUSED && d->depth > 0)
        return nt_error(NT_ERR_INVALID_ARG, "value '%s' is not computed yet%s", r->name,
                        r->graph != d->graph ? " in this run of the body" : "");
    if (!nt_dbg_value_live(d, r->name, &r->t))
        return nt_error(NT_ERR_INVALID_ARG, "value '%s' was not computed: the node making it failed", r->name);
    nt_dbg_slice sl;
    if ((st = nt_dbg_slice_parse(slice_text, &sl)) != NT_OK)
        return st;
    r->whole = sl.n == 0;
    return nt_dbg_view_make(r->t, &sl, &r->view);
}

static void describe_view(const nt_tensor *t, const nt_dbg_view *v, nt_buf *b)
{
    nt_buf_printf(b, "%s[", nt_dtype_name(t->dtype));
    for (int k = 0; k < v->ndim; k++)
        nt_buf_printf(b, "%s%lld", k ? "," : "", (long long)v->dims[k]);
    nt_buf_putc(b, ']');
}

/* The referenced elements as a tensor of their own: the live tensor itself
 * for a whole value (*owned false), else a copy (*owned true). */
static nt_status ref_tensor(const dbg_ref *r, nt_tensor **t, bool *owned)
{
    *owned = !r->whole;
    if (r->whole) {
        *t = r->t;
        return NT_OK;
    }
    return nt_dbg_view_copy(r->t, &r->view, t);
}

/* ------------------------------------------------------------ breakpoints */

static nt_status add_break(nt_debugger *d, const char *args, bool temporary)
{
    const char *what = temporary ? "Temporary breakpoint" : "Breakpoint";
    int id;
    nt_status st;
    if (*args == '\0')
        return nt_error(NT_ERR_INVALID_ARG, "usage: %s NODE | #N | GLOB | op:TYPE | if COND", temporary ? "tbreak" : "break");
    if (strncmp(args, "if", 2) == 0 && (isspace((unsigned char)args[2]) || args[2] == '(' || args[2] == '\0')) {
        nt_dbg_cond *c;
        if ((st = nt_dbg_cond_parse(args + 2, &c)) != NT_OK)
            return st;
        if ((st = nt_dbg_bps_add(&d->bps, NT_DBG_BP_COND, temporary, NULL, c, &id)) != NT_OK)
            return st;
        nt_buf_printf(&d->ob, "%s %d: after any node whose output meets: %s\n",
                      temporary ? "Temporary condition" : "Condition", id, nt_dbg_cond_text(c));
        return NT_OK;
    }
    /* op:TYPE and globs mean what they mean in --trace filters (node_pattern.h) */
    bool is_op = nt_node_pattern_is_op(args);
    if (is_op || (nt_node_pattern_is_glob(args) && find_node_quiet(d, args) < 0)) {
        const char *target = is_op ? args + 3 : args;
        if (*target == '\0' || strpbrk(target, " \t"))
            return nt_error(NT_ERR_INVALID_ARG, is_op ? "expected one op type after 'op:' (e.g. op:Conv)"
                                                      : "expected one node-name pattern (e.g. /layer4/*)");
        int count = nt_node_pattern_count(d->graph, args); /* bodies included: the debugger stops in them */
        if ((st = nt_dbg_bps_add(&d->bps, is_op ? NT_DBG_BP_OP : NT_DBG_BP_NODE, temporary, target, NULL, &id)) !=
            NT_OK)
            return st;
        nt_buf_printf(&d->ob, "%s %d at %s (%d node%s)\n", what, id, args, count, count == 1 ? "" : "s");
        if (count == 0) { /* on stderr, as for a --trace filter that matches nothing */
            fflush(d->out);
            fprintf(d->err, "warning: '%s' matches no node; breakpoint %d will not stop\n", args, id);
        }
        return NT_OK;
    }
    int pos = find_node(d, args);
    if (pos == DBG_BODY_NODE) {
        const dbg_body_node *e = nt_dbg_body_find(d, args);
        if ((st = nt_dbg_bps_add(&d->bps, NT_DBG_BP_NODE, temporary, e->node->name, NULL, &id)) != NT_OK)
            return st;
        nt_buf_printf(&d->ob, "%s %d at node '%s' (%s) ", what, id, e->node->name, e->node->op_type);
        nt_dbg_describe_body(d, e, &d->ob);
        nt_buf_putc(&d->ob, '\n');
        return NT_OK;
    }
    if (pos < 0)
        return NT_ERR_NOT_FOUND;
    if ((st = nt_dbg_bps_add(&d->bps, NT_DBG_BP_NODE, temporary, nt_dbg_node_at(d, pos)->name, NULL, &id)) != NT_OK)
        return st;
    nt_buf_printf(&d->ob, "%s %d at node ", what, id);
    nt_dbg_describe_node(d, pos, &d->ob);
    nt_buf_putc(&d->ob, '\n');
    return NT_OK;
}

static nt_status cmd_break(nt_debugger *d, const char *args) { return add_break(d, args, false); }
static nt_status cmd_tbreak(nt_debugger *d, const char *args) { return add_break(d, args, true); }

static nt_status cmd_watch(nt_debugger *d, const char *args)
{
    char name[DBG_NAME_MAX];
    const char *rest;
    if (*args == '"') {
        const char *q = strchr(args + 1, '"');
        if (!q || (size_t)(q - args) > sizeof name)
            return nt_error(NT_ERR_INVALID_ARG, "missing closing '\"' in the value name");
        snprintf(name, sizeof name, "%.*s", (int)(q - args - 1), args + 1);
        rest = q + 1;
    } else {
        size_t n = strcspn(args, " \t");
        if (n == 0 || n >= sizeof name)
            return nt_error(NT_ERR_INVALID_ARG, "usage: watch VALUE COND (e.g. watch /Log_output_0 nan > 0)");
        snprintf(name, sizeof name, "%.*s", (int)n, args);
        rest = args + n;
    }
    while (isspace((unsigned char)*rest))
        rest++;
    if (strncmp(rest, "if", 2) == 0 && (isspace((unsigned char)rest[2]) || rest[2] == '('))
        rest += 2;
    const nt_graph *wg = d->graph;
    int v = nt_graph_find_value(d->graph, name);
    for (int i = 0; v < 0 && i < d->n_body; i++)
        if ((v = nt_graph_find_value(d->body[i].graph, name)) >= 0)
            wg = d->body[i].graph;
    if (v < 0)
        return no_such_value(d, name);
    if (*rest == '\0')
        return nt_error(NT_ERR_INVALID_ARG, "watch needs a condition, e.g. 'watch %s nan > 0 || max > 1e4'", name);
    nt_dbg_cond *c;
    nt_status st = nt_dbg_cond_parse(rest, &c);
    int id;
    if (st == NT_OK)
        st = nt_dbg_bps_add(&d->bps, NT_DBG_BP_WATCH, false, name, c, &id);
    if (st != NT_OK)
        return st;
    nt_buf_printf(&d->ob, "Watch %d: %s: %s", id, name, nt_dbg_cond_text(c));
    int prod = wg->values[v].producer;
    if (wg != d->graph) {
        nt_buf_printf(&d->ob, " (tested after node '%s' in its body)\n", prod >= 0 ? wg->nodes[prod].name : "?");
    } else if (prod >= 0 && d->pos_of[prod] >= 0) {
        nt_buf_puts(&d->ob, " (tested after node ");
        nt_dbg_describe_node(d, d->pos_of[prod], &d->ob);
        nt_buf_puts(&d->ob, ")\n");
    } else {
        nt_buf_puts(&d->ob, " (tested before the first node)\n");
    }
    return NT_OK;
}

/* Parses a list of breakpoint numbers, calling fn on each. */
static nt_status for_each_id(nt_debugger *d, const char *args, const char *verb, bool enable, bool del)
{
    const char *p = args;
    while (*p) {
        char *end;
        errno = 0;
        long id = strtol(p, &end, 10);
        if (end == p || errno || (*end && !isspace((unsigned char)*end)))
            return nt_error(NT_ERR_INVALID_ARG, "'%s' takes breakpoint numbers, not '%s'", verb, p);
        nt_status st;
        if (del) {
            if ((st = nt_dbg_bps_delete(&d->bps, (int)id)) != NT_OK)
                return st;
            nt_buf_printf(&d->ob, "Deleted breakpoint %ld\n", id);
        } else {
            nt_dbg_bp *bp = nt_dbg_bps_find(&d->bps, (int)id);
            if (!bp)
                return nt_error(NT_ERR_NOT_FOUND, "no breakpoint number %ld", id);
            bp->enabled = enable;
            nt_buf_printf(&d->ob, "%s breakpoint %ld\n", enable ? "Enabled" : "Disabled", id);
        }
        p = end;
        while (isspace((unsigned char)*p))
            p++;
    }
    return NT_OK;
}

static nt_status cmd_delete(nt_debugger *d, const char *args)
{
    if (*args == '\0') {
        nt_dbg_bps_clear(&d->bps);
        nt_buf_puts(&d->ob, "Deleted all breakpoints and watches.\n");
        return NT_OK;
    }
    return for_each_id(d, args, "delete", false, true);
}

static nt_status cmd_enable(nt_debugger *d, const char *args)
{
    if (*args == '\0')
        return nt_error(NT_ERR_INVALID_ARG, "usage: enable N...");
    return for_each_id(d, args, "enable", true, false);
}

static nt_status cmd_disable(nt_debugger *d, const char *args)
{
    if (*args == '\0')
        return nt_error(NT_ERR_INVALID_ARG, "usage: disable N...");
    return for_each_id(d, args, "disable", false, false);
}

/* ------------------------------------------------------------ where, list, info */

/* "  input 0 'x' float32[2,3] min=.. ..." for one slot of a node. */
static void slot_line(nt_debugger *d, const nt_graph *g, const char *kind, int k, int v, nt_buf *b)
{
    nt_buf_printf(b, "  %-6s %d ", kind, k);
    if (v < 0) {
        nt_buf_puts(b, "(omitted)\n");
        return;
    }
    const char *name = g->values[v].name;
    nt_tensor *t;
    nt_buf_printf(b, "'%s' ", name);
    if (nt_dbg_value_live(d, name, &t))
        nt_dbg_format_summary(b, t);
    else
        nt_buf_puts(b, "(not computed yet)");
    nt_buf_putc(b, '\n');
}

static nt_status cmd_where(nt_debugger *d, const char *args)
{
    if (*args)
        return nt_error(NT_ERR_INVALID_ARG, "'where' takes no arguments");
    if (d->state == DBG_IDLE) {
        nt_buf_puts(&d->ob, "The model is not running.\n");
        return NT_OK;
    }
    if (d->state == DBG_FINISHED && !d->run_failed) {
        nt_buf_puts(&d->ob, "The run has finished; there is no current node.\n");
        return NT_OK;
    }
    nt_buf_puts(&d->ob, d->state == DBG_FINISHED ? "The run failed at node " : "At node ");
    bool in_body = d->state == DBG_PAUSED && d->depth > 0;
    const nt_node *n = nt_dbg_current_node(d);
    const nt_graph *g = nt_dbg_current_graph(d);
    if (in_body)
        nt_buf_printf(&d->ob, "'%s' (%s)", n->name, n->op_type);
    else
        nt_dbg_describe_node(d, d->pos, &d->ob);
    if (d->state == DBG_PAUSED)
        nt_buf_puts(&d->ob, d->after ? ", after it ran" : ", before it runs");
    if (in_body) {
        nt_buf_printf(&d->ob, " (%d of %d in its body)\n", d->levels[d->depth].pos + 1, d->levels[d->depth].n_order);
        nt_dbg_describe_nesting(d, &d->ob);
    } else {
        nt_buf_printf(&d->ob, " (%d of %d)\n", d->pos + 1, d->n_order);
    }
    for (int k = 0; k < n->n_in; k++)
        slot_line(d, g, "input", k, n->in[k], &d->ob);
    for (int k = 0; k < n->n_out; k++)
        slot_line(d, g, "output", k, n->out[k], &d->ob);
    return NT_OK;
}

/* `list` while paused inside a body: the body's nodes around the current one. */
static void list_body(nt_debugger *d)
{
    const dbg_level *L = &d->levels[d->depth];
    int n_order;
    const int *order = nt_frame_order(d->frame, &n_order);
    int lo = L->pos - 5 < 0 ? 0 : L->pos - 5, hi = L->pos + 5 >= n_order ? n_order - 1 : L->pos + 5;
    nt_buf_puts(&d->ob, "In ");
    nt_dbg_describe_here(d, &d->ob);
    nt_buf_putc(&d->ob, '\n');
    for (int p = lo; p <= hi; p++)
        node_line(d, L->graph, &L->graph->nodes[order[p]], p, 0, p == L->pos, &d->ob);
}

static nt_status cmd_list(nt_debugger *d, const char *args)
{
    if (!*args && d->state == DBG_PAUSED && d->depth > 0) {
        list_body(d);
        return NT_OK;
    }
    int center = d->state == DBG_IDLE ? 0 : d->pos;
    if (*args) {
        center = find_node(d, args);
        if (center == DBG_BODY_NODE)
            return nt_error(NT_ERR_INVALID_ARG, "'%s' is inside a body: 'info nodes' lists bodies", args);
        if (center < 0)
            return NT_ERR_NOT_FOUND;
    }
    int lo = center - 5 < 0 ? 0 : center - 5, hi = center + 5 >= d->n_order ? d->n_order - 1 : center + 5;
    for (int p = lo; p <= hi; p++)
        list_line(d, p, &d->ob);
    return NT_OK;
}

/* Graph inputs or outputs: live summaries when computed, else declared types. */
static void info_io(nt_debugger *d, bool inputs)
{
    int n = inputs ? nt_model_input_count(d->model) : nt_model_output_count(d->model);
    for (int i = 0; i < n; i++) {
        nt_value_info vi;
        if ((inputs ? nt_model_input_info(d->model, i, &vi) : nt_model_output_info(d->model, i, &vi)) != NT_OK)
            continue;
        nt_buf_printf(&d->ob, "  %s %d '%s' ", inputs ? "input" : "output", i, vi.name);
        nt_tensor *t;
        if (d->state != DBG_IDLE && nt_dbg_value_live(d, vi.name, &t)) {
            nt_dbg_format_summary(&d->ob, t);
        } else {
            nt_buf_printf(&d->ob, "%s[", nt_dtype_name(vi.dtype));
            for (int k = 0; k < vi.ndim; k++) {
                if (vi.dims[k] >= 0)
                    nt_buf_printf(&d->ob, "%s%lld", k ? "," : "", (long long)vi.dims[k]);
                else
                    nt_buf_printf(&d->ob, "%s%s", k ? "," : "", vi.dim_names && vi.dim_names[k] ? vi.dim_names[k] : "?");
            }
            nt_buf_puts(&d->ob, "] (not computed yet)");
        }
        nt_buf_putc(&d->ob, '\n');
    }
}

const char *const nt_dbg_info_topics[] = {"breakpoints", "nodes", "inputs", "outputs", NULL};

/* The bodies of owner, each headed by its attribute, nodes in file order. */
static void list_bodies(nt_debugger *d, const nt_node *owner, int depth)
{
    for (int i = 0; i < d->n_body; i++) {
        const dbg_body_node *e = &d->body[i];
        if (e->owner != owner || e->depth != depth)
            continue;
        if (e->node == &e->graph->nodes[0]) {
            nt_buf_puts(&d->ob, "   ");
            for (int k = 0; k < depth; k++)
                nt_buf_puts(&d->ob, "  ");
            nt_buf_printf(&d->ob, "%s of '%s' (%d nodes):\n", e->attr ? e->attr : "body", owner->name, e->graph->n_nodes);
        }
        node_line(d, e->graph, e->node, 0, depth + 1, false, &d->ob);
        list_bodies(d, e->node, depth + 1);
    }
}

static nt_status cmd_info(nt_debugger *d, const char *args)
{
    size_t n = strlen(args);
    if (n == 0)
        return nt_error(NT_ERR_INVALID_ARG, "usage: info breakpoints | nodes | inputs | outputs");
    if (strncmp("breakpoints", args, n) == 0 || strcmp(args, "watch") == 0 || strcmp(args, "watchpoints") == 0) {
        nt_dbg_bps_format(&d->bps, &d->ob);
    } else if (strncmp("nodes", args, n) == 0) {
        nt_buf_printf(&d->ob, "%d nodes in execution order", d->n_order);
        if (d->n_body)
            nt_buf_printf(&d->ob, ", and %d in If/Loop/Scan bodies (under their node)", d->n_body);
        nt_buf_puts(&d->ob, ":\n");
        for (int p = 0; p < d->n_order; p++) {
            list_line(d, p, &d->ob);
            list_bodies(d, nt_dbg_node_at(d, p), 1);
        }
    } else if (strncmp("inputs", args, n) == 0) {
        info_io(d, true);
    } else if (strncmp("outputs", args, n) == 0) {
        info_io(d, false);
    } else {
        return nt_error(NT_ERR_INVALID_ARG, "unknown info topic '%s' (breakpoints, nodes, inputs, outputs)", args);
    }
    return NT_OK;
}

/* ------------------------------------------------------------ value commands */

static nt_status cmd_print(nt_debugger *d, const char *args)
{
    dbg_ref r;
    nt_status st = parse_ref(d, args, &r);
    if (st != NT_OK)
        return st;
    if (r.view.ndim == 0) {
        char s[64];
        nt_dbg_format_element(s, sizeof s, r.t, r.view.offset, d->popts.precision);
        nt_buf_printf(&d->ob, "%s = %s\n", r.label, s);
        return NT_OK;
    }
    nt_buf_printf(&d->ob, "%s: ", r.label);
    describe_view(r.t, &r.view, &d->ob);
    nt_buf_putc(&d->ob, '\n');
    nt_dbg_format_array(&d->ob, r.t, &r.view, &d->popts);
    nt_buf_putc(&d->ob, '\n');
    return NT_OK;
}

static nt_status cmd_stats(nt_debugger *d, const char *args)
{
    dbg_ref r;
    nt_tensor *t;
    bool owned;
    nt_status st = parse_ref(d, args, &r);
    if (st == NT_OK)
        st = ref_tensor(&r, &t, &owned);
    if (st != NT_OK)
        return st;
    nt_buf_printf(&d->ob, "stats of %s:\n", r.label);
    st = nt_dbg_format_stats(&d->ob, t);
    if (owned)
        nt_tensor_free(t);
    return st;
}

/* Splits a trailing " WORD" off args: *word points at it, the rest is
 * copied to head (trimmed).  False if args is a single word. */
static bool split_last_word(const char *args, char *head, size_t head_len, const char **word)
{
    size_t n = strlen(args);
    while (n > 0 && !isspace((unsigned char)args[n - 1]))
        n--;
    if (n == 0)
        return false;
    *word = args + n;
    while (n > 0 && isspace((unsigned char)args[n - 1]))
        n--;
    if (n >= head_len)
        n = head_len - 1;
    memcpy(head, args, n);
    head[n] = '\0';
    return true;
}

static nt_status cmd_hist(nt_debugger *d, const char *args)
{
    char head[DBG_NAME_MAX + 256];
    const char *word;
    long bins = 10;
    const char *ref = args;
    if (split_last_word(args, head, sizeof head, &word)) {
        char *end;
        long b = strtol(word, &end, 10);
        if (end != word && *end == '\0') {
            bins = b;
            ref = head;
        }
    }
    if (bins < 1 || bins > 1000)
        return nt_error(NT_ERR_INVALID_ARG, "histogram bins must be 1 to 1000, not %ld", bins);
    dbg_ref r;
    nt_tensor *t;
    bool owned;
    nt_status st = parse_ref(d, ref, &r);
    if (st == NT_OK)
        st = ref_tensor(&r, &t, &owned);
    if (st != NT_OK)
        return st;
    nt_buf_printf(&d->ob, "histogram of %s ", r.label);
    describe_view(r.t, &r.view, &d->ob);
    nt_buf_puts(&d->ob, ":\n");
    st = nt_dbg_format_hist(&d->ob, t, (int)bins);
    if (owned)
        nt_tensor_free(t);
    return st;
}

static nt_status cmd_dump(nt_debugger *d, const char *args)
{
    char head[DBG_NAME_MAX + 256];
    const char *file;
    if (!split_last_word(args, head, sizeof head, &file))
        return nt_error(NT_ERR_INVALID_ARG, "usage: dump VALUE[INDEX] FILE.npy");
    dbg_ref r;
    nt_tensor *t;
    bool owned;
    nt_status st = parse_ref(d, head, &r);
    if (st == NT_OK)
        st = ref_tensor(&r, &t, &owned);
    if (st != NT_OK)
        return st;
    st = nt_tensor_save(file, t);
    if (st == NT_OK) {
        char desc[256];
        nt_tensor_describe(t, desc, sizeof desc);
        nt_buf_printf(&d->ob, "Wrote %s (%s) to %s\n", r.label, desc, file);
    }
    if (owned)
        nt_tensor_free(t);
    return st;
}

/* Keeps the original data of a graph input before its first patch. */
static nt_status save_input(nt_debugger *d, const char *name, const nt_tensor *t)
{
    for (size_t i = 0; i < d->saved.len; i++)
        if (strcmp(((dbg_saved *)nt_vec_at(&d->saved, i))->name, name) == 0)
            return NT_OK;
    nt_tensor *copy;
    nt_status st = nt_tensor_clone(t, &copy);
    if (st != NT_OK)
        return st;
    char *n = nt_strdup(name);
    if (!n) {
        nt_tensor_free(copy);
        return NT_ERR_NOMEM;
    }
    dbg_saved sv = {n, copy};
    if (nt_vec_push(&d->saved, &sv) != NT_OK) {
        free(n);
        nt_tensor_free(copy);
        return NT_ERR_NOMEM;
    }
    return NT_OK;
}

/* True if a node still to run in this run reads value v. */
static bool read_later(const nt_debugger *d, int v)
{
    if (d->state != DBG_PAUSED)
        return false;
    if (d->depth > 0)
        return true; /* inside a body: the rest of the body and the graph around it may read it */
    for (int p = d->after ? d->pos + 1 : d->pos; p < d->n_order; p++) {
        const nt_node *n = nt_dbg_node_at(d, p);
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] == v)
                return true;
        /* If/Loop/Scan bodies read outer values without listing them. */
        for (int a = 0; a < n->n_attr; a++)
            if (n->attrs[a].type == NT_ATTR_GRAPH || n->attrs[a].type == NT_ATTR_GRAPHS)
                return true;
    }
    return false;
}

static nt_status cmd_set(nt_debugger *d, const char *args)
{
    const char *eq = strrchr(args, '=');
    if (!eq)
        return nt_error(NT_ERR_INVALID_ARG, "usage: set VALUE = X  or  set VALUE[i,j,...] = X");
    char ref[DBG_NAME_MAX + 256];
    size_t n = (size_t)(eq - args);
    while (n > 0 && isspace((unsigned char)args[n - 1]))
        n--;
    if (n >= sizeof ref)
        return nt_error(NT_ERR_INVALID_ARG, "value reference too long");
    memcpy(ref, args, n);
    ref[n] = '\0';
    const char *xs = eq + 1;
    while (isspace((unsigned char)*xs))
        xs++;
    char *end;
    double x = strtod(xs, &end);
    while (isspace((unsigned char)*end))
        end++;
    if (end == xs || *end)
        return nt_error(NT_ERR_INVALID_ARG, "set: '%s' is not a number (numbers, nan, inf and -inf are)", xs);
    if (isnan(x))
        x = NAN; /* "-nan" is a NaN like any other */
    dbg_ref r;
    nt_status st = parse_ref(d, ref, &r);
    if (st != NT_OK)
        return st;
    const nt_value *val = &r.graph->values[r.value];
    if (val->kind == NT_VALUE_INITIALIZER)
        return nt_error(NT_ERR_INVALID_ARG, "'%s' is a weight (initializer), read-only in the mapped model; "
                        "set changes inputs and computed values", r.name);
    if (val->kind == NT_VALUE_INPUT && (st = save_input(d, r.name, r.t)) != NT_OK)
        return st;
    if ((st = nt_dbg_view_fill(r.t, &r.view, x)) != NT_OK)
        return st;
    int64_t count = nt_dbg_view_numel(&r.view);
    nt_buf_printf(&d->ob, "Set %s = %.9g (%lld element%s)\n", r.label, x, (long long)count, count == 1 ? "" : "s");
    if (d->state == DBG_FINISHED)
        nt_buf_puts(&d->ob, "Note: the run has finished; 'run' starts over from the original inputs.\n");
    else if (!read_later(d, r.value))
        nt_buf_printf(&d->ob, "Note: no node still to run reads '%s'.\n", r.name);
    return NT_OK;
}

/* ------------------------------------------------------------ help */

static nt_status cmd_help(nt_debugger *d, const char *args);

const dbg_command nt_dbg_commands[] = {
    {"run", "r", "", "run the model from the start (restarts a paused run)",
     "Stops at breakpoints and watches.  Inputs patched with 'set' are restored first.", nt_dbg_cmd_run},
    {"restart", NULL, "", "abandon the current run and run again from the start", "The same as 'run'.",
     nt_dbg_cmd_run},
    {"start", NULL, "", "run and stop before the first node", "", nt_dbg_cmd_start},
    {"continue", "c", "", "resume until a breakpoint, a watch or the end", "", nt_dbg_cmd_continue},
    {"next", "n", "[N]", "run one node (or N) and stop after it",
     "A breakpoint on a node stops before it even while stepping.  An If, Loop or\n"
     "Scan node counts as one node (see 'step').", nt_dbg_cmd_next},
    {"step", "s", "[N]", "like next, but enters If/Loop/Scan bodies",
     "Before an If, Loop or Scan node, 'step' stops before the first node of its\n"
     "body; 'next' runs the whole node.  Inside a body, 'where' shows the nesting\n"
     "and the loop iteration.", nt_dbg_cmd_step},
    {"finish", NULL, "", "run to the end, ignoring breakpoints and watches", "", nt_dbg_cmd_finish},
    {"break", "b", "NODE|#N|GLOB|op:TYPE|if COND", "set a breakpoint",
     "break NODE      stop before the node of that name runs (#N: position in 'list')\n"
     "break GLOB      stop before every node whose name matches (break /layer4/*)\n"
     "break op:TYPE   stop before every node of that op type (any case; a glob)\n"
     "break if COND   stop after any node with an output that meets COND:\n"
     "  COND tests statistics of one output: nan, inf, pinf, ninf (counts),\n"
     "  min, max, mean, std (over finite values), absmax (Inf if any Inf),\n"
     "  zeros, negatives (fractions 0..1), numel, compared with < <= > >= ==\n"
     "  != to a number;\n"
     "  a bare statistic means != 0.  Combine with && || ! and parentheses;\n"
     "  scope with op:TYPE or node:NAME.  Examples:\n"
     "    break if nan > 0 || inf > 0\n"
     "    break if op:Relu && zeros > 0.9\n"
     "    break if (max > 1e4 || min < -1e4) && !op:Softmax",
     cmd_break},
    {"tbreak", NULL, "NODE|#N|GLOB|op:TYPE|if COND", "set a breakpoint deleted after it stops once", "",
     cmd_tbreak},
    {"watch", NULL, "VALUE COND", "stop after VALUE is computed if it meets COND",
     "COND is as for 'break if' (see 'help break').  A watch on a graph input or\n"
     "weight is tested before the first node.  Example: watch /Log_output_0 nan > 0",
     cmd_watch},
    {"delete", "d", "[N...]", "delete breakpoints and watches (all if no number)", "", cmd_delete},
    {"disable", NULL, "N...", "disable breakpoints or watches", "", cmd_disable},
    {"enable", NULL, "N...", "enable breakpoints or watches", "", cmd_enable},
    {"info", "i", "breakpoints|nodes|inputs|outputs", "list breakpoints, nodes, graph inputs or outputs",
     "Topics may be abbreviated: 'info b'.", cmd_info},
    {"where", "bt", "", "the current node: position, name, op, inputs and outputs", "", cmd_where},
    {"list", "l", "[NODE | #N]", "nodes around the current one (or around NODE)",
     "'=>' marks the current node; [breakpoint N] a node breakpoint.", cmd_list},
    {"print", "p", "VALUE[INDEX]", "print a value (numpy-style index and slices)",
     "VALUE is a tensor name or a graph input/output name (in double quotes if it\n"
     "holds spaces or brackets).  INDEX is numpy basic indexing: y[0], y[:, 1:3],\n"
     "y[..., -1], y[::2].  Arrays over 1000 elements are summarized with '...'.",
     cmd_print},
    {"stats", NULL, "VALUE[INDEX]", "count, min, max, mean, std, absmax, nan, inf, zeros, negatives", "",
     cmd_stats},
    {"hist", NULL, "VALUE[INDEX] [BINS]", "a text histogram of the finite values (10 bins by default)", "",
     cmd_hist},
    {"dump", NULL, "VALUE[INDEX] FILE", "save a value as .npy (or ONNX .pb by suffix)", "", cmd_dump},
    {"set", NULL, "VALUE[INDEX] = X", "overwrite a value (all of it, a slice or one element)",
     "Later nodes then read the patched value: continue to see what changes.\n"
     "X is a number, nan, inf or -inf.  Weights (initializers) cannot be set.\n"
     "Patched graph inputs are restored when the next run starts.",
     cmd_set},
    {"help", "h", "[COMMAND]", "list commands, or describe one", "", cmd_help},
    {"quit", "q", "", "leave the debugger", "", NULL},
    {NULL, NULL, NULL, NULL, NULL, NULL},
};

const dbg_command *nt_dbg_find_command(const char *word, size_t len)
{
    for (const dbg_command *c = nt_dbg_commands; c->name; c++)
        if ((strlen(c->name) == len && strncmp(c->name, word, len) == 0) ||
            (c->alias && strlen(c->alias) == len && strncmp(c->alias, word, len) == 0))
            return c;
    if (len == 4 && strncmp(word, "exit", 4) == 0)
        return nt_dbg_find_command("quit", 4);
    return NULL;
}

static nt_status cmd_help(nt_debugger *d, const char *args)
{
    if (*args) {
        const dbg_command *c = nt_dbg_find_command(args, strlen(args));
        if (!c)
            return nt_error(NT_ERR_INVALID_ARG, "no command '%s' (try 'help')", args);
        nt_buf_printf(&d->ob, "usage: %s%s%s\n  %s\n", c->name, c->args[0] ? " " : "", c->args, c->summary);
        if (c->alias)
            nt_buf_printf(&d->ob, "  (short: %s)\n", c->alias);
        if (c->help[0])
            nt_buf_printf(&d->ob, "\n%s\n", c->help);
        return NT_OK;
    }
    nt_buf_puts(&d->ob, "Commands:\n");
    for (const dbg_command *c = nt_dbg_commands; c->name; c++) {
        char head[96];
        snprintf(head, sizeof head, "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
        nt_buf_printf(&d->ob, "  %-38s %s\n", head, c->summary);
    }
    nt_buf_puts(&d->ob, "Short forms:");
    for (const dbg_command *c = nt_dbg_commands; c->name; c++)
        if (c->alias)
            nt_buf_printf(&d->ob, " %s (%s)", c->alias, c->name);
    nt_buf_puts(&d->ob, ".\n");
    nt_buf_puts(&d->ob, "'help COMMAND' tells more; 'help break' describes conditions.\n");
    return NT_OK;
}
