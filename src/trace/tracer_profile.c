/*
 * tracer_profile.c — `--trace profile`: per-node kernel time as Chrome trace
 * JSON (DIR/profile.json: one complete "X" event per node with op, shapes,
 * bytes and a FLOP estimate in args; open it in Perfetto or
 * chrome://tracing) and two text tables: time by op type, and the top
 * nodes with their share and, where the FLOPs are known (Conv, MatMul,
 * Gemm), GFLOP/s.  Times per run are means over the runs profiled, and
 * labelled so; the kernel total per run also gets its median.
 */
#include "trace/tracers.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 2000000
#define TOP_NODES 10

typedef struct op_total {
    char *op;
    double ms, flops;
    int64_t calls;
} op_total;

typedef struct node_total {
    const char *name, *op;  /* borrowed from the model (they outlive the tracer's finish) */
    double ms, flops;
    int64_t calls;
} node_total;

typedef struct profile_tracer {
    nt_trace_obj base;
    nt_trace_config cfg;
    nt_buf events;          /* comma-separated trace event objects */
    int64_t n_events;
    double t0;              /* ms: start of the first run */
    int run;
    op_total *ops;
    int n_ops, cap_ops;
    double total_ms;
    bool dropped;
    node_total *nodes;      /* top-level nodes by index */
    int n_nodes;
    double *run_ms;         /* kernel time of each run (for the median) */
    int cap_runs;
    double run_start_total; /* total_ms when the current run began */
} profile_tracer;

/* Whether the op's FLOP count is a real one (multiply-adds), not the one
 * per output element nt_node_flops assumes for other ops. */
static bool flops_known(const char *op)
{
    return strcmp(op, "Conv") == 0 || strcmp(op, "ConvTranspose") == 0 || strcmp(op, "MatMul") == 0 ||
           strcmp(op, "Gemm") == 0;
}

/* Closes the previous run's kernel total. */
static void end_run_total(profile_tracer *p)
{
    if (p->run == 0)
        return;
    if (p->run > p->cap_runs) {
        int cap = p->cap_runs ? 2 * p->cap_runs : 64;
        double *r = nt_realloc(p->run_ms, (size_t)cap * sizeof *r);
        if (!r)
            return;
        p->run_ms = r;
        p->cap_runs = cap;
    }
    p->run_ms[p->run - 1] = p->total_ms - p->run_start_total;
}

static bool profile_wants(void *user, const nt_node_view *v)
{
    profile_tracer *p = user;
    return nt_node_filter_match(&p->cfg.filter, v->name, v->op_type);
}

static nt_action profile_run_begin(void *user, nt_session *s)
{
    profile_tracer *p = user;
    (void)s;
    end_run_total(p);
    p->run_start_total = p->total_ms;
    if (p->run++ == 0)
        p->t0 = nt_now_ms();
    return NT_ACTION_CONTINUE;
}

static op_total *op_entry(profile_tracer *p, const char *op)
{
    for (int i = 0; i < p->n_ops; i++)
        if (strcmp(p->ops[i].op, op) == 0)
            return &p->ops[i];
    if (p->n_ops == p->cap_ops) {
        int cap = p->cap_ops ? p->cap_ops * 2 : 32;
        op_total *n = nt_realloc(p->ops, (size_t)cap * sizeof *n);
        if (!n)
            return NULL;
        p->ops = n;
        p->cap_ops = cap;
    }
    op_total *e = &p->ops[p->n_ops];
    memset(e, 0, sizeof *e);
    e->op = nt_strdup(op);
    if (!e->op)
        return NULL;
    p->n_ops++;
    return e;
}

static void shapes_json(nt_buf *b, int n, nt_tensor *const *ts)
{
    nt_buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        char desc[160];
        if (ts[i])
            nt_tensor_describe(ts[i], desc, sizeof desc);
        else
            snprintf(desc, sizeof desc, "-");
        if (i)
            nt_buf_puts(b, ", ");
        nt_buf_json_string(b, desc);
    }
    nt_buf_putc(b, ']');
}

static nt_action profile_node_end(void *user, nt_session *s, const nt_node_view *v)
{
    profile_tracer *p = user;
    double end = nt_now_ms();
    double flops = nt_node_flops(v);
    op_total *e = op_entry(p, v->op_type);
    if (e && v->depth == 0) {
        e->ms += v->elapsed_ms;
        e->flops += flops;
        e->calls++;
        p->total_ms += v->elapsed_ms;
    }
    if (v->depth == 0 && v->index >= 0) {
        if (v->index >= p->n_nodes) {
            int n = v->index + 1 > 2 * p->n_nodes ? v->index + 1 : 2 * p->n_nodes;
            node_total *nn = nt_realloc(p->nodes, (size_t)n * sizeof *nn);
            if (nn) {
                memset(nn + p->n_nodes, 0, (size_t)(n - p->n_nodes) * sizeof *nn);
                p->nodes = nn;
                p->n_nodes = n;
            }
        }
        if (v->index < p->n_nodes) {
            node_total *nt = &p->nodes[v->index];
            nt->name = v->name;
            nt->op = v->op_type;
            nt->ms += v->elapsed_ms;
            nt->flops += flops;
            nt->calls++;
        }
    }
    if (p->n_events >= MAX_EVENTS) {
        p->dropped = true;
        return NT_ACTION_CONTINUE;
    }
    uint64_t bytes = 0;
    for (int i = 0; i < v->n_inputs; i++)
        bytes += v->inputs[i] ? nt_tensor_nbytes(v->inputs[i]) : 0;
    for (int i = 0; i < v->n_outputs; i++)
        bytes += v->outputs[i] ? nt_tensor_nbytes(v->outputs[i]) : 0;
    nt_buf *b = &p->events;
    nt_buf_puts(b, p->n_events++ ? ",\n  {\"name\": " : "\n  {\"name\": ");
    nt_buf_json_string(b, v->name);
    nt_buf_puts(b, ", \"cat\": ");
    nt_buf_json_string(b, v->op_type);
    /* microseconds since the first run started; pid 1, one track per depth */
    nt_buf_printf(b, ", \"ph\": \"X\", \"pid\": 1, \"tid\": %d, \"ts\": %.3f, \"dur\": %.3f, \"args\": {\"op\": ",
                  v->depth, (end - v->elapsed_ms - p->t0) * 1000.0, v->elapsed_ms * 1000.0);
    nt_buf_json_string(b, v->op_type);
    nt_buf_printf(b, ", \"index\": %d, \"run\": %d, \"inputs\": ", v->index, p->run - 1);
    shapes_json(b, v->n_inputs, v->inputs);
    nt_buf_puts(b, ", \"outputs\": ");
    shapes_json(b, v->n_outputs, v->outputs);
    nt_buf_printf(b, ", \"bytes\": %llu, \"flops\": %.0f}}", (unsigned long long)bytes, flops);
    return NT_ACTION_CONTINUE;
}

static int cmp_ms_desc(const void *a, const void *b)
{
    double x = ((const op_total *)a)->ms, y = ((const op_total *)b)->ms;
    return x < y ? 1 : x > y ? -1 : strcmp(((const op_total *)a)->op, ((const op_total *)b)->op);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_node_desc(const void *a, const void *b)
{
    const node_total *x = *(node_total *const *)a, *y = *(node_total *const *)b;
    return x->ms < y->ms ? 1 : x->ms > y->ms ? -1 : strcmp(x->name, y->name);
}

/* The TOP_NODES nodes that took the most time. */
static void print_top_nodes(profile_tracer *p, FILE *f)
{
    node_total **v = nt_malloc((size_t)(p->n_nodes ? p->n_nodes : 1) * sizeof *v);
    if (!v)
        return;
    int n = 0;
    for (int i = 0; i < p->n_nodes; i++)
        if (p->nodes[i].calls)
            v[n++] = &p->nodes[i];
    qsort(v, (size_t)n, sizeof *v, cmp_node_desc);
    fprintf(f, "top %d nodes by time:\n%-40s %-16s %14s %7s %10s\n", n < TOP_NODES ? n : TOP_NODES, "node", "op",
            "mean ms/run", "share", "GFLOP/s");
    for (int i = 0; i < n && i < TOP_NODES; i++) {
        const node_total *e = v[i];
        char gf[32] = "-";
        if (flops_known(e->op) && e->ms > 0)
            snprintf(gf, sizeof gf, "%.2f", e->flops / (e->ms * 1e6));
        fprintf(f, "%-40s %-16s %14.3f %6.1f%% %10s\n", e->name, e->op, p->run ? e->ms / p->run : 0.0,
                p->total_ms > 0 ? 100.0 * e->ms / p->total_ms : 0.0, gf);
    }
    free(v);
}

static nt_status profile_finish(nt_trace_obj *self, nt_rundir *rd)
{
    profile_tracer *p = (profile_tracer *)self;
    nt_status st = NT_OK;
    char path[4096] = "";
    if (rd) {
        nt_buf b;
        nt_buf_init(&b);
        nt_buf_puts(&b, "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [");
        nt_buf_append(&b, p->events.data ? p->events.data : "", p->events.len);
        nt_buf_puts(&b, "\n]}\n");
        nt_rundir_file(rd, "profile.json", path, sizeof path);
        st = b.failed ? nt_error(NT_ERR_NOMEM, "out of memory writing %s", path) : nt_write_file(path, b.data, b.len);
        nt_buf_deinit(&b);
    }
    if (st != NT_OK || p->cfg.quiet)
        return st;
    end_run_total(p);
    FILE *f = p->cfg.out ? p->cfg.out : stdout;
    qsort(p->ops, (size_t)p->n_ops, sizeof *p->ops, cmp_ms_desc);
    double median = 0;
    if (p->run > 0 && p->run <= p->cap_runs) {
        qsort(p->run_ms, (size_t)p->run, sizeof *p->run_ms, cmp_double);
        median = p->run % 2 ? p->run_ms[p->run / 2] : 0.5 * (p->run_ms[p->run / 2 - 1] + p->run_ms[p->run / 2]);
    }
    if (p->cfg.warmup_runs > 0)
        fprintf(f, "profile: %d warm run%s measured (after %d untraced warm-up run%s)", p->run, p->run == 1 ? "" : "s",
                p->cfg.warmup_runs, p->cfg.warmup_runs == 1 ? "" : "s");
    else
        fprintf(f, "profile: %d run%s measured (no warm-up: the first includes first-touch costs)", p->run,
                p->run == 1 ? "" : "s");
    fprintf(f, "; kernel time per run: mean %.3f ms, median %.3f ms\n", p->run ? p->total_ms / p->run : 0.0, median);
    fprintf(f, "%-24s %8s %12s %14s %7s %10s\n", "op", "calls", "total ms", "mean ms/run", "share", "GFLOP/s");
    for (int i = 0; i < p->n_ops; i++) {
        const op_total *e = &p->ops[i];
        if (e->calls == 0)
            continue;
        char gf[32] = "-";
        if (flops_known(e->op) && e->ms > 0)
            snprintf(gf, sizeof gf, "%.2f", e->flops / (e->ms * 1e6));
        fprintf(f, "%-24s %8lld %12.3f %14.3f %6.1f%% %10s\n", e->op, (long long)e->calls, e->ms,
                p->run ? e->ms / p->run : 0.0, p->total_ms > 0 ? 100.0 * e->ms / p->total_ms : 0.0, gf);
    }
    print_top_nodes(p, f);
    if (path[0])
        fprintf(f, "profile: Chrome trace written to %s%s\n", path,
                p->dropped ? " (event cap reached; later events dropped)" : "");
    return NT_OK;
}

static void profile_destroy(nt_trace_obj *self)
{
    profile_tracer *p = (profile_tracer *)self;
    for (int i = 0; i < p->n_ops; i++)
        free(p->ops[i].op);
    free(p->ops);
    free(p->nodes);
    free(p->run_ms);
    nt_buf_deinit(&p->events);
    free(p);
}

nt_status nt_profile_tracer_new(const nt_trace_config *cfg, nt_trace_obj **out)
{
    profile_tracer *p = nt_calloc(1, sizeof *p);
    if (!p)
        return NT_ERR_NOMEM;
    p->cfg = *cfg;
    nt_buf_init(&p->events);
    p->base.kind = "profile";
    p->base.tracer = (nt_tracer){.user = p, .wants_node = profile_wants, .run_begin = profile_run_begin,
        .node_end = profile_node_end};
    p->base.finish = profile_finish;
    p->base.destroy = profile_destroy;
    *out = &p->base;
    return NT_OK;
}
