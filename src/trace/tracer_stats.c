/*
 * tracer_stats.c — `--trace stats`: exact statistics of every node output,
 * accumulated over every run the tracer sees (a whole data set), written as
 * DIR/stats.jsonl (one line per node output, in execution order) and to the
 * event file as TensorBoard histograms and scalars.
 *
 * Scanning the outputs is the tracer's whole cost.  When the session runs
 * on one thread and the machine has another core, a background thread
 * scans each output while the next nodes compute; the session asks
 * (stats_release) before it frees a tensor, and the tracer waits if that
 * tensor is still queued.  With several session threads, large outputs are
 * split among them instead.  Either way the statistics are the same bits.
 * NNTRACE_STATS_INLINE=1 scans on the calling thread only, and so do the
 * runs after one whose background scans got less than half a core (a
 * loaded machine: the session would wait on a worker that cannot run).
 *
 * Histograms of big outputs come from every k-th element (tstats.h; the
 * stride is in stats.jsonl and the event file) unless --exact-hist.
 *
 * Entries are found by a hash of (depth, node index, output name), so
 * tracing a graph of N nodes costs O(N), not O(N^2).  stats.jsonl is
 * rewritten whole (write to a hidden temporary, rename) after the first
 * run and then whenever a second has passed, so a killed run leaves the
 * statistics of all but its last second.
 */
#include "trace/tracers.h"
#include "trace/tstats.h"
#include "trace/tfevents.h"
#include "onnx/pbw.h"
#include "exec/exec.h"
#include "trace/stats_worker.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Smaller outputs are scanned inline: their scan costs about what the hand-
 * over and the wait when the session frees them soon after cost (measured
 * on a transformer encoder, whose outputs are 8-32 K elements). */
enum { BACKGROUND_MIN_ELEMENTS = 65536 };
/* stats.jsonl is rewritten at most this often during long runs (and at
 * least 20 times as long as the last rewrite took, so it stays cheap). */
static const double SNAPSHOT_MS = 1000.0;
/* Scans shorter than this (on the clock, per run) say nothing about starving. */
static const double STARVED_MIN_MS = 1.0;

typedef struct stat_entry {
    char *node, *op, *output;
    int index, depth;
    nt_dtype dtype;
    int ndim;
    int64_t dims[NT_MAX_DIMS];
    bool shape_varies;
    nt_tstats st;
    int64_t seen;           /* tensors seen (st may still be catching up in the background) */
    uint64_t queued;        /* 1 + the worker item last queued for st, or 0 */
} stat_entry;

typedef struct stats_tracer {
    nt_trace_obj base;
    nt_trace_config cfg;
    stat_entry *entries;
    int n, cap;
    int runs;
    nt_status err;          /* first failure (allocation, writing a snapshot) */
    char errmsg[1024];      /* its message */
    nt_stats_worker *worker; /* background scans, if any */
    bool background;        /* this run scans in the background */
    bool background_allowed; /* several cores, cfg.stats_inline not set, worker not starved */
    double run_wall_ms, run_cpu_ms; /* the worker's scan times when this run began */
    int *slots;             /* hash of entries: entry index + 1, 0 = empty */
    int n_slots;            /* a power of two, at least twice n */
    double last_snapshot, snapshot_every; /* nt_now_ms times */
    unsigned nodes_since_check;
    int64_t added, added_at_snapshot; /* tensors added so far, and when stats.jsonl was last written */
    bool snapshots;         /* stats.jsonl written while running (a run directory) */
} stats_tracer;

static bool stats_wants(void *user, const nt_node_view *v)
{
    stats_tracer *t = user;
    return nt_node_filter_match(&t->cfg.filter, v->name, v->op_type);
}

/* Whether background scanning is allowed at all: more than one core, and
 * not turned off.  Asked once, when the tracer is made (sysconf reads a
 * file; run_begin comes once per sample of a data set). */
static bool background_allowed(const nt_trace_config *cfg)
{
    return !cfg->stats_inline && sysconf(_SC_NPROCESSORS_ONLN) > 1;
}

static nt_action stats_run_begin(void *user, nt_session *s)
{
    stats_tracer *t = user;
    t->runs++;
    /* the background thread needs a core of its own: a one-thread session */
    nt_exec exec = {s, NULL, 0};
    t->background = t->background_allowed && nt_exec_threads(&exec) <= 1;
    if (t->background && !t->worker)
        t->worker = nt_stats_worker_new();
    t->background = t->background && t->worker;
    if (t->background)
        nt_stats_worker_times(t->worker, &t->run_wall_ms, &t->run_cpu_ms);
    return NT_ACTION_CONTINUE;
}

/* After a run scanned in the background: a worker that got less than half
 * the CPU time its scans took on the clock had no core of its own (a
 * loaded machine), and the session waited on it; later runs scan inline
 * (the same bits).  Its queue is empty before the next scan of the same
 * statistics can come inline. */
static void check_starved(stats_tracer *t)
{
    double wall, cpu;
    nt_stats_worker_times(t->worker, &wall, &cpu);
    wall -= t->run_wall_ms;
    cpu -= t->run_cpu_ms;
    if (wall > STARVED_MIN_MS && cpu < wall * 0.5)
        t->background_allowed = false;
}

static void stats_release(void *user, nt_session *s, const nt_tensor *x)
{
    stats_tracer *t = user;
    (void)s;
    if (t->worker)
        nt_stats_worker_wait_for(t->worker, x);
}

static uint32_t entry_hash(int index, int depth, const char *output)
{
    uint32_t h = 2166136261u ^ (uint32_t)index * 0x9e3779b1u ^ (uint32_t)depth * 0x85ebca6bu;
    for (const unsigned char *c = (const unsigned char *)output; *c; c++)
        h = (h ^ *c) * 16777619u;
    return h ^ (h >> 15);
}

static bool entry_is(const stat_entry *e, const nt_node_view *v, int k)
{
    return e->index == v->index && e->depth == v->depth && strcmp(e->output, v->output_names[k]) == 0;
}

/* Puts entry i into the hash (room is there). */
static void slot_insert(stats_tracer *t, int i)
{
    const stat_entry *e = &t->entries[i];
    uint32_t mask = (uint32_t)t->n_slots - 1;
    for (uint32_t h = entry_hash(e->index, e->depth, e->output) & mask;; h = (h + 1) & mask)
        if (!t->slots[h]) {
            t->slots[h] = i + 1;
            return;
        }
}

/* Keeps the hash at most half full. */
static bool slots_reserve(stats_tracer *t)
{
    if (2 * (t->n + 1) <= t->n_slots)
        return true;
    int n = t->n_slots ? 2 * t->n_slots : 1024;
    int *slots = nt_calloc((size_t)n, sizeof *slots);
    if (!slots)
        return false;
    free(t->slots);
    t->slots = slots;
    t->n_slots = n;
    for (int i = 0; i < t->n; i++)
        slot_insert(t, i);
    return true;
}

/* The entry of (depth, node, output): the one after the last found when a
 * run goes in the same order as the previous one, else from the hash. */
static stat_entry *find_entry(stats_tracer *t, const nt_node_view *v, int k, int *hint)
{
    if (*hint < t->n && entry_is(&t->entries[*hint], v, k))
        return &t->entries[(*hint)++];
    if (t->n_slots) {
        uint32_t mask = (uint32_t)t->n_slots - 1;
        for (uint32_t h = entry_hash(v->index, v->depth, v->output_names[k]) & mask; t->slots[h];
             h = (h + 1) & mask) {
            int i = t->slots[h] - 1;
            if (entry_is(&t->entries[i], v, k)) {
                *hint = i + 1;
                return &t->entries[i];
            }
        }
    }
    if (!slots_reserve(t))
        return NULL;
    if (t->n == t->cap) {
        if (t->worker) /* queued scans point into the array about to move */
            nt_stats_worker_drain(t->worker);
        int cap = t->cap ? t->cap * 2 : 256;
        stat_entry *ne = nt_realloc(t->entries, (size_t)cap * sizeof *ne);
        if (!ne)
            return NULL;
        t->entries = ne;
        t->cap = cap;
    }
    stat_entry *e = &t->entries[t->n];
    memset(e, 0, sizeof *e);
    e->node = nt_strdup(v->name);
    e->op = nt_strdup(v->op_type);
    e->output = nt_strdup(v->output_names[k]);
    e->index = v->index;
    e->depth = v->depth;
    if (!e->node || !e->op || !e->output || nt_tstats_init(&e->st, true) != NT_OK) {
        free(e->node);
        free(e->op);
        free(e->output);
        return NULL;
    }
    e->st.sample_hist = !t->cfg.exact_hist;
    slot_insert(t, t->n);
    t->n++;
    *hint = t->n;
    return e;
}

static nt_status write_snapshot(stats_tracer *t, nt_rundir *rd);

/* Rewrites stats.jsonl when a snapshot is due (run ends, and every so many
 * nodes of a long run).  A failure stops the run: its message names the file. */
static nt_action maybe_snapshot(stats_tracer *t, bool run_ended)
{
    if (!t->snapshots)
        return NT_ACTION_CONTINUE;
    double now = nt_now_ms();
    if (!(run_ended && t->last_snapshot == 0) && now - t->last_snapshot < t->snapshot_every)
        return NT_ACTION_CONTINUE;
    if (t->worker)
        nt_stats_worker_drain(t->worker);
    nt_status st = write_snapshot(t, t->cfg.rundir);
    double took = nt_now_ms() - now;
    t->last_snapshot = nt_now_ms();
    t->snapshot_every = took * 20 > SNAPSHOT_MS ? took * 20 : SNAPSHOT_MS;
    if (st != NT_OK) {
        t->err = st; /* the message is kept for finish: the session's stop replaces it */
        snprintf(t->errmsg, sizeof t->errmsg, "%s", nt_last_error());
        return NT_ACTION_STOP;
    }
    return NT_ACTION_CONTINUE;
}

static void stats_run_end(void *user, nt_session *s, nt_status result)
{
    stats_tracer *t = user;
    (void)s;
    (void)result;
    if (t->background)
        check_starved(t);
    if (t->err == NT_OK)
        maybe_snapshot(t, true);
}

static nt_action stats_node_end(void *user, nt_session *s, const nt_node_view *v)
{
    stats_tracer *t = user;
    static _Thread_local int hint = 0;
    for (int k = 0; k < v->n_outputs; k++) {
        const nt_tensor *x = v->outputs[k];
        if (!x || !v->output_names[k][0])
            continue;
        stat_entry *e = find_entry(t, v, k, &hint);
        if (!e) {
            t->err = nt_error(NT_ERR_NOMEM, "out of memory gathering statistics");
            snprintf(t->errmsg, sizeof t->errmsg, "%s", nt_last_error());
            return NT_ACTION_STOP;
        }
        t->added++;
        if (e->seen++ == 0) {
            e->dtype = x->dtype;
            e->ndim = x->ndim;
            memcpy(e->dims, x->dims, sizeof e->dims);
        } else if (e->ndim != x->ndim || memcmp(e->dims, x->dims, sizeof(int64_t) * (size_t)x->ndim) != 0) {
            e->shape_varies = true;
        }
        bool in_flight = t->worker && e->queued && !nt_stats_worker_done(t->worker, e->queued - 1);
        if (t->background && (nt_tensor_numel(x) >= BACKGROUND_MIN_ELEMENTS || in_flight)) {
            e->queued = 1 + nt_stats_worker_submit(t->worker, &e->st, x);
        } else {
            nt_exec exec = {s, NULL, 0}; /* the session's threads scan big outputs */
            nt_tstats_add_threads(&e->st, x, &exec);
        }
    }
    /* a long run: look at the clock every 8 nodes (about 20 ns each time) */
    if (t->snapshots && ++t->nodes_since_check >= 8) {
        t->nodes_since_check = 0;
        return maybe_snapshot(t, false);
    }
    return NT_ACTION_CONTINUE;
}

static void entry_json(const stat_entry *e, nt_buf *b)
{
    nt_buf_puts(b, "{\"node\": ");
    nt_buf_json_string(b, e->node);
    nt_buf_puts(b, ", \"op\": ");
    nt_buf_json_string(b, e->op);
    nt_buf_puts(b, ", \"output\": ");
    nt_buf_json_string(b, e->output);
    nt_buf_printf(b, ", \"index\": %d, \"depth\": %d, \"dtype\": \"%s\", \"shape\": ", e->index, e->depth,
                  nt_dtype_name(e->dtype));
    if (e->shape_varies) {
        nt_buf_puts(b, "null");
    } else {
        nt_buf_putc(b, '[');
        for (int d = 0; d < e->ndim; d++)
            nt_buf_printf(b, "%s%lld", d ? ", " : "", (long long)e->dims[d]);
        nt_buf_putc(b, ']');
    }
    nt_buf_puts(b, ", ");
    nt_tstats_json(&e->st, b);
    nt_buf_puts(b, "}\n");
}

/* HistogramProto from the fixed buckets: bucket_limit = right edges of the
 * non-empty span, bucket = counts; num is the histogram's own count (the
 * sample's, when sampled).  A sampled histogram says so in its
 * SummaryMetadata.summary_description, which TensorBoard shows. */
static void encode_histo_value(const stat_entry *e, nt_buf *b)
{
    const nt_tstats *st = &e->st;
    nt_pbw_string(b, 1, e->output); /* Summary.Value.tag */
    if (st->hist_stride > 1) {
        char desc[160];
        snprintf(desc, sizeof desc, "histogram of every %lld-th element (hist_stride %lld); counts, min, max, "
                 "mean and std are exact", (long long)st->hist_stride, (long long)st->hist_stride);
        size_t m = nt_pbw_begin(b, 9); /* metadata */
        nt_pbw_string(b, 3, desc);      /* summary_description */
        nt_pbw_end(b, m);
    }
    size_t h = nt_pbw_begin(b, 5);  /* histo */
    nt_pbw_double(b, 1, st->finite ? st->min : 0);
    nt_pbw_double(b, 2, st->finite ? st->max : 0);
    nt_pbw_double(b, 3, (double)nt_tstats_hist_total(st));
    nt_pbw_double(b, 4, st->sum);
    nt_pbw_double(b, 5, st->sumsq);
    int lo = -1, hi = -1;
    for (int k = 0; k < st->hist_n; k++)
        if (st->hist[k]) {
            if (lo < 0)
                lo = k;
            hi = k;
        }
    if (lo >= 0) {
        nt_buf lim, cnt;
        nt_buf_init(&lim);
        nt_buf_init(&cnt);
        for (int k = lo; k <= hi; k++) {
            double e0, e1;
            nt_tstats_bucket_edges(st->hist_lo + k, &e0, &e1);
            double c = (double)st->hist[k];
            if (isinf(e1))
                e1 = 1.7976931348623157e308;
            nt_buf_append(&lim, &e1, 8);
            nt_buf_append(&cnt, &c, 8);
        }
        nt_pbw_bytes(b, 6, lim.data, lim.len);
        nt_pbw_bytes(b, 7, cnt.data, cnt.len);
        nt_buf_deinit(&lim);
        nt_buf_deinit(&cnt);
    }
    nt_pbw_end(b, h);
}

static nt_status write_events(stats_tracer *t, nt_rundir *rd)
{
    nt_writer *w;
    nt_status st = nt_rundir_writer(rd, &w);
    if (st != NT_OK)
        return st;
    for (int i = 0; i < t->n && st == NT_OK; i++) {
        const stat_entry *e = &t->entries[i];
        if (e->depth > 0)
            continue;
        if (e->st.finite > 0) {
            nt_buf b;
            nt_buf_init(&b);
            encode_histo_value(e, &b);
            st = b.failed ? NT_ERR_NOMEM : nt_writer_summary_value(w, 0, b.data, b.len);
            nt_buf_deinit(&b);
        }
        static const char *const names[] = {"min", "max", "mean", "std", "nan", "inf", "zero_fraction",
                                            "hist_stride"};
        double vals[] = {e->st.min, e->st.max, nt_tstats_mean(&e->st), nt_tstats_std(&e->st), (double)e->st.nan,
                         (double)(e->st.pinf + e->st.ninf),
                         e->st.count ? (double)e->st.zeros / (double)e->st.count : 0,
                         e->st.hist_stride > 1 ? (double)e->st.hist_stride : NAN}; /* only when sampled */
        for (size_t k = 0; k < NT_ARRAY_LEN(names) && st == NT_OK; k++) {
            if (isnan(vals[k]))
                continue;
            /* "stats/OUTPUT/NAME", built without printf (700,000 tags for a 100k-node graph) */
            char tag[1024];
            size_t lo = strlen(e->output), ln = strlen(names[k]);
            if (6 + lo + 1 + ln + 1 > sizeof tag)
                lo = sizeof tag - 8 - ln;
            memcpy(tag, "stats/", 6);
            memcpy(tag + 6, e->output, lo);
            tag[6 + lo] = '/';
            memcpy(tag + 7 + lo, names[k], ln + 1);
            st = nt_writer_scalar(w, tag, 0, vals[k]);
        }
    }
    return st;
}

/* Writes stats.jsonl whole (a hidden temporary renamed into place). */
static nt_status write_snapshot(stats_tracer *t, nt_rundir *rd)
{
    nt_buf b;
    nt_buf_init(&b);
    for (int i = 0; i < t->n; i++)
        entry_json(&t->entries[i], &b);
    char path[4096];
    nt_rundir_file(rd, "stats.jsonl", path, sizeof path);
    if (b.failed) {
        nt_buf_deinit(&b);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory", path);
    }
    nt_status st = nt_write_file(path, b.data ? b.data : "", b.len);
    nt_buf_deinit(&b);
    if (st == NT_OK)
        t->added_at_snapshot = t->added;
    return st;
}

static nt_status stats_finish(nt_trace_obj *self, nt_rundir *rd)
{
    stats_tracer *t = (stats_tracer *)self;
    if (t->worker) /* runs return with nothing queued; this is for a caller that stopped one */
        nt_stats_worker_drain(t->worker);
    if (t->err != NT_OK)
        return nt_error(t->err, "%s", t->errmsg);
    if (!rd)
        return NT_OK;
    for (int i = 0; i < t->n; i++)
        if (t->entries[i].st.hist_nomem)
            return nt_error(NT_ERR_NOMEM, "out of memory gathering the histogram of '%s'", t->entries[i].output);
    /* (a snapshot after the last tensor is already the whole file) */
    nt_status st = t->added_at_snapshot == t->added && t->added ? NT_OK : write_snapshot(t, rd);
    char path[4096];
    nt_rundir_file(rd, "stats.jsonl", path, sizeof path);
    if (st == NT_OK)
        st = write_events(t, rd);
    if (st == NT_OK && !t->cfg.quiet)
        fprintf(t->cfg.out ? t->cfg.out : stdout, "stats: %d node outputs over %d run%s -> %s\n", t->n, t->runs,
                t->runs == 1 ? "" : "s", path);
    return st;
}

static void stats_destroy(nt_trace_obj *self)
{
    stats_tracer *t = (stats_tracer *)self;
    nt_stats_worker_free(t->worker);
    for (int i = 0; i < t->n; i++) {
        free(t->entries[i].node);
        free(t->entries[i].op);
        free(t->entries[i].output);
        nt_tstats_deinit(&t->entries[i].st);
    }
    free(t->entries);
    free(t->slots);
    free(t);
}

nt_status nt_stats_tracer_new(const nt_trace_config *cfg, nt_trace_obj **out)
{
    stats_tracer *t = nt_calloc(1, sizeof *t);
    if (!t)
        return NT_ERR_NOMEM;
    t->cfg = *cfg;
    t->background_allowed = background_allowed(cfg);
    t->snapshots = cfg->rundir != NULL;
    t->snapshot_every = SNAPSHOT_MS;
    t->base.kind = "stats";
    t->base.tracer = (nt_tracer){.user = t, .wants_node = stats_wants, .run_begin = stats_run_begin,
        .node_end = stats_node_end, .run_end = stats_run_end, .release = stats_release};
    t->base.finish = stats_finish;
    t->base.destroy = stats_destroy;
    *out = &t->base;
    return NT_OK;
}
