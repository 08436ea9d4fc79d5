/*
 * debugger.c — the debugger object, its tracer and run control: `run`,
 * `start`, `continue`, `next`, `step`, `finish` (and `restart`, an alias
 * of `run`).
 *
 * The debugger is one tracer on the session, wanting every node at every
 * depth.  Commands that move the run set a request (stop before the first
 * node, stop after N more nodes, step into a body, ignore breakpoints,
 * abort) and call resume(), which lets the run go on until a callback
 * decides to pause, then prints why.
 *
 * The run executes on a thread of its own and a pause is a wait inside the
 * node callback.  That is what lets the run stop inside an If/Loop/Scan
 * body: the control-flow kernel that runs the body is in the middle of its
 * work, on the run thread's stack, while the command side reads the body's
 * values (nt_session_hook_frame).  Only one side runs at a time (run_turn
 * under the mutex), so nothing is read while it changes.
 *
 * Node breakpoints pause in node_begin, before the node runs; conditions,
 * watches and steps pause in node_end, after it ran, so its outputs can be
 * printed.  `run` while paused resumes the run with `aborting` set, the
 * callback returns STOP and the session resets itself as after any failed
 * run.  At most the paused node itself executes on the way out.
 */
#include "debug/dbg_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const nt_node *nt_dbg_node_at(const nt_debugger *d, int pos)
{
    return &d->graph->nodes[d->order[pos]];
}

void nt_dbg_describe_node(const nt_debugger *d, int pos, nt_buf *b)
{
    const nt_node *n = nt_dbg_node_at(d, pos);
    nt_buf_printf(b, "#%d '%s' (%s)", pos, n->name, n->op_type);
}

bool nt_dbg_value_live(nt_debugger *d, const char *name, nt_tensor **t)
{
    /* Paused inside a body: the body's values, then those around it. */
    if (d->state == DBG_PAUSED && d->depth > 0 && d->frame) {
        *t = nt_frame_find_value(d->frame, name, NULL, NULL);
        return *t && (*t)->ndim >= 0 && ((*t)->data || nt_tensor_numel(*t) == 0);
    }
    if (nt_session_get_value(d->sess, name, t) != NT_OK) {
        nt_error_clear();
        return false;
    }
    return (*t)->ndim >= 0 && ((*t)->data || nt_tensor_numel(*t) == 0);
}

void nt_dbg_describe_outputs(nt_debugger *d, int pos, nt_buf *b)
{
    (void)pos;
    const nt_node *n = nt_dbg_current_node(d);
    const nt_graph *g = nt_dbg_current_graph(d);
    for (int k = 0; k < n->n_out; k++) {
        if (n->out[k] < 0)
            continue;
        const char *name = g->values[n->out[k]].name;
        nt_tensor *t;
        nt_buf_printf(b, "  output %d '%s' ", k, name);
        if (nt_dbg_value_live(d, name, &t))
            nt_dbg_format_summary(b, t);
        else
            nt_buf_puts(b, "(not computed)");
        nt_buf_putc(b, '\n');
    }
}

void nt_dbg_flush(nt_debugger *d)
{
    if (d->ob.len)
        fwrite(d->ob.data, 1, d->ob.len, d->out);
    d->ob.len = 0;
    fflush(d->out);
}

/* ------------------------------------------------------------ tracer */

static bool cb_wants(void *user, const nt_node_view *node)
{
    (void)user;
    (void)node;
    return true;
}

/* Run thread: hands the turn to the command side and waits for it back.
 * STOP when the command side abandons the run. */
static nt_action wait_for_resume(nt_debugger *d)
{
    pthread_mutex_lock(&d->mu);
    d->run_turn = false;
    pthread_cond_broadcast(&d->cv);
    while (!d->run_turn)
        pthread_cond_wait(&d->cv, &d->mu);
    pthread_mutex_unlock(&d->mu);
    return d->aborting ? NT_ACTION_STOP : NT_ACTION_CONTINUE;
}

/* Records which node runs at the view's depth (and which iteration of
 * its body this is); false when out of memory (the node is then not
 * tracked and cannot be stopped at). */
static bool track(nt_debugger *d, nt_session *s, const nt_node_view *node, bool begin)
{
    int k = node->depth;
    if (k + 2 > d->n_levels) {
        int n = k + 8;
        dbg_level *v = nt_realloc(d->levels, (size_t)n * sizeof *v);
        if (!v)
            return false;
        memset(v + d->n_levels, 0, (size_t)(n - d->n_levels) * sizeof *v);
        d->levels = v;
        d->n_levels = n;
    }
    dbg_level *L = &d->levels[k];
    const nt_frame *f = nt_session_hook_frame(s);
    if (begin) {
        if (k == 0 || L->fresh)
            L->iteration = 0;
        else if (node->index <= L->pos)
            L->iteration++; /* the body started over: the next iteration */
        L->fresh = false;
        d->levels[k + 1].fresh = true;
    }
    int n_order;
    const int *order = nt_frame_order(f, &n_order);
    L->graph = nt_frame_graph(f);
    L->node = &L->graph->nodes[order[node->index]];
    L->pos = node->index;
    L->n_order = n_order;
    d->depth = k;
    d->frame = f;
    if (k == 0)
        d->pos = node->index;
    return true;
}

static void restore_saved(nt_debugger *d)
{
    for (size_t i = 0; i < d->saved.len; i++) {
        dbg_saved *sv = nt_vec_at(&d->saved, i);
        nt_tensor *t;
        if (nt_dbg_value_live(d, sv->name, &t) && nt_tensor_nbytes(t) == nt_tensor_nbytes(sv->orig))
            memcpy(t->data, sv->orig->data, nt_tensor_nbytes(t));
        free(sv->name);
        nt_tensor_free(sv->orig);
    }
    d->saved.len = 0;
}

static nt_action cb_run_begin(void *user, nt_session *s)
{
    (void)s;
    restore_saved(user);
    return NT_ACTION_CONTINUE;
}

/* Records why the run pauses: "<what>, before|after node #i 'name' (Op)". */
static nt_action pause_for(nt_debugger *d, nt_dbg_bp *bp, const char *what)
{
    d->stop_msg.len = 0;
    d->stop_requested = true;
    if (bp) {
        bp->hits++;
        nt_dbg_bp_describe(bp, &d->stop_msg);
    } else {
        nt_buf_puts(&d->stop_msg, what);
    }
    nt_buf_puts(&d->stop_msg, d->after ? (bp ? " hit after node " : " after node ") : (bp ? ", before node " : " before node "));
    nt_dbg_describe_here(d, &d->stop_msg);
    nt_buf_putc(&d->stop_msg, '\n');
    if (bp && bp->temporary)
        nt_dbg_bps_delete(&d->bps, bp->id);
    /* A stop after the last node is printed with the end of the run. */
    if (d->after && d->depth == 0 && d->pos == d->n_order - 1)
        return NT_ACTION_CONTINUE;
    return wait_for_resume(d);
}

/* Watches on values no node produces (graph inputs, weights) are tested
 * once per run, before the first node. */
static nt_dbg_bp *match_unproduced_watch(nt_debugger *d)
{
    for (int i = 0; i < d->bps.n; i++) {
        nt_dbg_bp *bp = &d->bps.v[i];
        if (!bp->enabled || bp->kind != NT_DBG_BP_WATCH)
            continue;
        int v = nt_graph_find_value(d->graph, bp->target);
        nt_tensor *t;
        if (v < 0 || d->graph->values[v].producer >= 0 || !nt_dbg_value_live(d, bp->target, &t))
            continue;
        if (nt_dbg_bps_match_value(&d->bps, bp->target, t) == bp)
            return bp;
    }
    return NULL;
}

static nt_action cb_node_begin(void *user, nt_session *s, const nt_node_view *node)
{
    nt_debugger *d = user;
    if (d->aborting)
        return NT_ACTION_STOP;
    if (!track(d, s, node, true))
        return NT_ACTION_CONTINUE;
    d->after = false;
    if (d->ignore_bps)
        return NT_ACTION_CONTINUE;
    if (d->stop_at_first) {
        d->stop_at_first = false;
        return pause_for(d, NULL, "Stopped");
    }
    if (d->step_into && node->depth > d->step_depth) { /* `step` entered a body */
        d->step_into = false;
        d->steps = 0;
        return pause_for(d, NULL, "Stepped into a body, stopped");
    }
    nt_dbg_bp *bp = node->index == 0 && node->depth == 0 ? match_unproduced_watch(d) : NULL;
    if (!bp)
        bp = nt_dbg_bps_match_before(&d->bps, node->name, node->op_type);
    return bp ? pause_for(d, bp, NULL) : NT_ACTION_CONTINUE;
}

static nt_action cb_node_end(void *user, nt_session *s, const nt_node_view *node)
{
    nt_debugger *d = user;
    if (d->aborting)
        return NT_ACTION_STOP;
    if (!track(d, s, node, false))
        return NT_ACTION_CONTINUE;
    d->after = true;
    if (d->ignore_bps)
        return NT_ACTION_CONTINUE;
    int k;
    nt_dbg_bp *bp = nt_dbg_bps_match_after(&d->bps, node, &k);
    if (bp)
        return pause_for(d, bp, NULL);
    /* `next` counts nodes at its own depth or shallower (steps over bodies);
     * `step` counts every node */
    if (d->steps > 0 && (d->step_into || node->depth <= d->step_depth) && --d->steps == 0)
        return pause_for(d, NULL, "Stopped");
    return NT_ACTION_CONTINUE;
}

/* ------------------------------------------------------------ object */

nt_status nt_debugger_new(nt_model *m, nt_session *s, FILE *out, FILE *err, nt_debugger **out_dbg)
{
    *out_dbg = NULL;
    nt_debugger *d = nt_calloc(1, sizeof *d);
    if (!d)
        return NT_ERR_NOMEM;
    nt_vec_init(&d->saved, sizeof(dbg_saved));
    d->model = m;
    d->sess = s;
    d->graph = m->graph;
    d->n_order = s->plan->n_order;
    d->order = s->plan->order;
    d->out = out;
    d->err = err;
    nt_buf_init(&d->ob);
    nt_buf_init(&d->stop_msg);
    nt_dbg_bps_init(&d->bps);
    nt_dbg_print_opts_default(&d->popts);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->pos_of = nt_calloc((size_t)(d->graph->n_nodes > 0 ? d->graph->n_nodes : 1), sizeof *d->pos_of);
    if (!d->pos_of) {
        nt_debugger_free(d);
        return NT_ERR_NOMEM;
    }
    for (int i = 0; i < d->graph->n_nodes; i++)
        d->pos_of[i] = -1;
    for (int p = 0; p < d->n_order; p++)
        d->pos_of[d->order[p]] = p;
    if (nt_dbg_body_index(d) != NT_OK) {
        nt_debugger_free(d);
        return NT_ERR_NOMEM;
    }
    nt_tracer t = {.user = d, .wants_node = cb_wants, .run_begin = cb_run_begin, .node_begin = cb_node_begin,
        .node_end = cb_node_end};
    nt_status st = nt_session_add_tracer(s, &t);
    if (st != NT_OK) {
        nt_debugger_free(d);
        return st;
    }
    nt_session_set_keep_values(s, true);
    *out_dbg = d;
    return NT_OK;
}

static void abort_run(nt_debugger *d);

void nt_debugger_free(nt_debugger *d)
{
    if (!d)
        return;
    abort_run(d); /* a paused run's thread waits for its turn */
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    free(d->levels);
    free(d->body);
    for (size_t i = 0; i < d->saved.len; i++) {
        dbg_saved *sv = nt_vec_at(&d->saved, i);
        free(sv->name);
        nt_tensor_free(sv->orig);
    }
    nt_vec_deinit(&d->saved);
    free(d->pos_of);
    nt_dbg_bps_deinit(&d->bps);
    nt_buf_deinit(&d->ob);
    nt_buf_deinit(&d->stop_msg);
    free(d);
}

bool nt_debugger_run_failed(const nt_debugger *d) { return d->run_failed; }

/* ------------------------------------------------------------ run control */

/* Starts or resumes the run, then prints where it stopped or how it ended.
 * A pause asked for after the last node is not a pause to the session (the
 * run is complete), so that stop is printed just before the end. */
static void *run_thread(void *arg)
{
    nt_debugger *d = arg;
    nt_status st = nt_session_run(d->sess);
    pthread_mutex_lock(&d->mu);
    d->run_status = st;
    snprintf(d->run_error, sizeof d->run_error, "%s", st != NT_OK ? nt_last_error() : "");
    d->run_done = true;
    d->run_turn = false;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* Command side: lets the run go on (starting it on its thread if none is
 * paused) until it pauses or ends.  Returns the run's status when it
 * ended (the message set again on this thread), NT_OK while paused. */
static nt_status let_run(nt_debugger *d)
{
    pthread_mutex_lock(&d->mu);
    d->run_turn = true;
    if (!d->thread_live) {
        d->run_done = false;
        if (pthread_create(&d->thread, NULL, run_thread, d) != 0) {
            d->run_turn = false;
            pthread_mutex_unlock(&d->mu);
            return nt_error(NT_ERR_NOMEM, "cannot start a thread for the run");
        }
        d->thread_live = true;
    }
    pthread_cond_broadcast(&d->cv);
    while (d->run_turn)
        pthread_cond_wait(&d->cv, &d->mu);
    bool done = d->run_done;
    pthread_mutex_unlock(&d->mu);
    if (!done)
        return NT_OK;
    pthread_join(d->thread, NULL);
    d->thread_live = false;
    d->depth = 0;
    d->frame = NULL;
    if (d->run_status != NT_OK)
        return nt_error(d->run_status, "%s", d->run_error);
    return NT_OK;
}

static void resume(nt_debugger *d)
{
    d->stop_requested = false;
    nt_status st = let_run(d);
    d->steps = 0;
    d->stop_at_first = false;
    d->ignore_bps = false;
    d->step_into = false;
    bool paused = st == NT_OK && d->thread_live;
    if (paused)
        d->state = DBG_PAUSED; /* before describing: body values are read through the paused frame */
    if (paused || (st == NT_OK && d->stop_requested)) {
        nt_buf_append(&d->ob, d->stop_msg.data, d->stop_msg.len);
        if (d->after)
            nt_dbg_describe_outputs(d, d->pos, &d->ob);
    }
    if (paused) {
        d->state = DBG_PAUSED;
        return;
    }
    d->state = DBG_FINISHED;
    if (st != NT_OK) {
        d->run_failed = true;
        nt_buf_printf(&d->ob, "Run failed: %s\n", nt_last_error());
        return;
    }
    d->run_failed = false;
    nt_buf_printf(&d->ob, "Run finished (%d nodes)\n", d->n_order);
    for (int i = 0; i < nt_model_output_count(d->model); i++) {
        nt_value_info vi;
        const nt_tensor *t;
        if (nt_model_output_info(d->model, i, &vi) != NT_OK || nt_session_get_output(d->sess, i, &t) != NT_OK)
            continue;
        nt_buf_printf(&d->ob, "  output '%s' ", vi.name);
        nt_dbg_format_summary(&d->ob, t);
        nt_buf_putc(&d->ob, '\n');
    }
    nt_error_clear();
}

static void abort_run(nt_debugger *d)
{
    if (d->state != DBG_PAUSED || !d->thread_live)
        return;
    d->aborting = true;
    (void)let_run(d); /* NT_ERR_STOPPED by design */
    d->aborting = false;
    d->state = DBG_IDLE;
    nt_error_clear();
}

static nt_status no_args(const char *cmd, const char *args)
{
    if (*args)
        return nt_error(NT_ERR_INVALID_ARG, "'%s' takes no arguments", cmd);
    return NT_OK;
}

static nt_status need_paused(const nt_debugger *d)
{
    if (d->state == DBG_PAUSED)
        return NT_OK;
    return nt_error(NT_ERR_INVALID_ARG, "the model is not running (use 'run' or 'start')");
}

static nt_status begin_run(nt_debugger *d, bool stop_first)
{
    if (d->state == DBG_PAUSED) {
        abort_run(d);
        nt_buf_puts(&d->ob, "Restarting the run from the beginning.\n");
    }
    d->stop_at_first = stop_first;
    resume(d);
    return NT_OK;
}

nt_status nt_dbg_cmd_run(nt_debugger *d, const char *args)
{
    nt_status st = no_args("run", args);
    return st != NT_OK ? st : begin_run(d, false);
}

nt_status nt_dbg_cmd_start(nt_debugger *d, const char *args)
{
    nt_status st = no_args("start", args);
    return st != NT_OK ? st : begin_run(d, true);
}

nt_status nt_dbg_cmd_continue(nt_debugger *d, const char *args)
{
    nt_status st = no_args("continue", args);
    if (st == NT_OK)
        st = need_paused(d);
    if (st == NT_OK)
        resume(d);
    return st;
}

static nt_status step_cmd(nt_debugger *d, const char *args, bool into)
{
    long long n = 1;
    if (*args) {
        char *end;
        n = strtoll(args, &end, 10);
        if (end == args || *end || n < 1)
            return nt_error(NT_ERR_INVALID_ARG, "'%s' takes a positive count of nodes, not '%s'",
                            into ? "step" : "next", args);
    }
    nt_status st = need_paused(d);
    if (st != NT_OK)
        return st;
    d->steps = n;
    d->step_depth = d->depth;
    d->step_into = into;
    resume(d);
    return NT_OK;
}

nt_status nt_dbg_cmd_next(nt_debugger *d, const char *args) { return step_cmd(d, args, false); }

nt_status nt_dbg_cmd_step(nt_debugger *d, const char *args) { return step_cmd(d, args, true); }

nt_status nt_dbg_cmd_finish(nt_debugger *d, const char *args)
{
    nt_status st = no_args("finish", args);
    if (st == NT_OK)
        st = need_paused(d);
    if (st != NT_OK)
        return st;
    d->ignore_bps = true;
    resume(d);
    return NT_OK;
}

/* ------------------------------------------------------------ dispatch */

nt_status nt_debugger_exec(nt_debugger *d, const char *line, bool *quit)
{
    *quit = false;
    while (*line == ' ' || *line == '\t')
        line++;
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (len == 0 || line[0] == '#')
        return NT_OK;
    char *copy = nt_strndup(line, len);
    if (!copy)
        return NT_ERR_NOMEM;
    size_t w = 0;
    while (copy[w] && copy[w] != ' ' && copy[w] != '\t')
        w++;
    const char *args = copy + w;
    while (*args == ' ' || *args == '\t')
        args++;
    const dbg_command *c = nt_dbg_find_command(copy, w);
    nt_status st;
    if (!c) {
        st = nt_error(NT_ERR_INVALID_ARG, "unknown command '%.*s' (try 'help')", (int)w, copy);
    } else if (!c->fn) { /* quit */
        *quit = true;
        st = NT_OK;
    } else {
        st = c->fn(d, args);
        if (c->fn == nt_dbg_cmd_next || c->fn == nt_dbg_cmd_step || c->fn == nt_dbg_cmd_continue)
            snprintf(d->repeat, sizeof d->repeat, "%s", c->name);
        else
            d->repeat[0] = '\0';
    }
    nt_dbg_flush(d);
    free(copy);
    return st;
}
