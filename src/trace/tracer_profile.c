/*
 * tracer_profile.c — `--trace profile`: per-node kernel time as Chrome trace
 * JSON (DIR/profile.json: one complete "X" event per node with op, shapes,
 * bytes and a FLOP estimate in args; open it in Perfetto or
 * chrome://tracing) and a text table of time by op type.
 */
#include "trace/tracers.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS 2000000

typedef struct op_total {
    char *op;
    double ms, flops;
    int64_t calls;
} op_total;

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
} profile_tracer;

static bool profile_wants(void *user, const nt_node_view *v)
{
    profile_tracer *p = user;
    return nt_node_filter_match(&p->cfg.filter, v->name, v->op_type);
}

static nt_action profile_run_begin(void *user, nt_session *s)
{
    profile_tracer *p = user;
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
        op_total *n = realloc(p->ops, (size_t)cap * sizeof *n);
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
    FILE *f = p->cfg.out ? p->cfg.out : stdout;
    qsort(p->ops, (size_t)p->n_ops, sizeof *p->ops, cmp_ms_desc);
    fprintf(f, "profile: %d run%s, %.3f ms in kernels per run\n", p->run, p->run == 1 ? "" : "s",
            p->run ? p->total_ms / p->run : 0.0);
    fprintf(f, "%-24s %8s %12s %12s %7s %10s\n", "op", "calls", "total ms", "ms/run", "%", "GFLOP/s");
    for (int i = 0; i < p->n_ops; i++) {
        const op_total *e = &p->ops[i];
        if (e->calls == 0)
            continue;
        fprintf(f, "%-24s %8lld %12.3f %12.3f %6.1f%% %10.2f\n", e->op, (long long)e->calls, e->ms,
                p->run ? e->ms / p->run : 0.0, p->total_ms > 0 ? 100.0 * e->ms / p->total_ms : 0.0,
                e->ms > 0 ? e->flops / (e->ms * 1e6) : 0.0);
    }
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
