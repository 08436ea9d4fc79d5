/*
 * tracer_dump.c — `--trace dump[:FILTER]`: every node output (and with
 * --dump-inputs every input) written as .npy into DIR/tensors/, with
 * tensors/index.json listing node, op, output, file, dtype and shape.
 * File names are the value names sanitized as for `run -o`; the first run
 * writes into tensors/, later runs of a data set into tensors/run<K>/.
 * Dumping stops with one warning when the size cap is reached.
 */
#include "trace/tracers.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_DUMP_LIMIT ((uint64_t)2 << 30)

typedef struct dump_tracer {
    nt_trace_obj base;
    nt_trace_config cfg;
    nt_rundir *rd;          /* cfg.rundir */
    nt_buf index;           /* JSON array body */
    int n_entries;
    int run;
    uint64_t written, limit;
    bool capped;
    nt_status err;
    /* value names already written in this run (a value feeds many nodes) */
    char **seen;
    int n_seen, cap_seen;
} dump_tracer;

static bool dump_wants(void *user, const nt_node_view *v)
{
    dump_tracer *d = user;
    return nt_node_filter_match(&d->cfg.filter, v->name, v->op_type);
}

static void forget_seen(dump_tracer *d)
{
    for (int i = 0; i < d->n_seen; i++)
        free(d->seen[i]);
    d->n_seen = 0;
}

static nt_action dump_run_begin(void *user, nt_session *s)
{
    dump_tracer *d = user;
    d->run++;
    forget_seen(d);
    if (!d->rd || d->err != NT_OK)
        return NT_ACTION_CONTINUE;
    char sub[64], dir[4096];
    if (d->run == 1)
        snprintf(sub, sizeof sub, "tensors");
    else
        snprintf(sub, sizeof sub, "tensors/run%d", d->run - 1);
    nt_rundir_file(d->rd, sub, dir, sizeof dir);
    if ((d->err = nt_mkdirs(dir)) != NT_OK)
        return NT_ACTION_STOP;
    return NT_ACTION_CONTINUE;
}

static bool already_written(dump_tracer *d, const char *name)
{
    for (int i = 0; i < d->n_seen; i++)
        if (strcmp(d->seen[i], name) == 0)
            return true;
    if (d->n_seen == d->cap_seen) {
        int cap = d->cap_seen ? d->cap_seen * 2 : 128;
        char **ns = realloc(d->seen, (size_t)cap * sizeof *ns);
        if (!ns)
            return false;
        d->seen = ns;
        d->cap_seen = cap;
    }
    d->seen[d->n_seen] = nt_strdup(name);
    if (d->seen[d->n_seen])
        d->n_seen++;
    return false;
}

static void sanitize(const char *name, char *out, size_t len)
{
    size_t i = 0;
    for (; name[i] && i + 1 < len; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == '-';
        out[i] = ok ? c : '_';
    }
    out[i] = '\0';
}

static nt_action dump_one(dump_tracer *d, const nt_node_view *v, const char *value, const nt_tensor *t,
                          const char *role)
{
    if (!t || !value[0] || !t->data || d->capped || already_written(d, value))
        return NT_ACTION_CONTINUE;
    size_t nbytes = nt_tensor_nbytes(t);
    if (d->written + nbytes > d->limit) {
        d->capped = true;
        fprintf(stderr, "nntrace: warning: dump size cap of %llu bytes reached at node '%s'; later tensors are not "
                        "dumped (raise it with --dump-limit)\n",
                (unsigned long long)d->limit, v->name);
        return NT_ACTION_CONTINUE;
    }
    char safe[512], rel[700], path[4096];
    sanitize(value, safe, sizeof safe);
    if (d->run <= 1)
        snprintf(rel, sizeof rel, "tensors/%s.npy", safe);
    else
        snprintf(rel, sizeof rel, "tensors/run%d/%s.npy", d->run - 1, safe);
    nt_rundir_file(d->rd, rel, path, sizeof path);
    if ((d->err = nt_npy_save(path, t)) != NT_OK)
        return NT_ACTION_STOP;
    d->written += nbytes;
    nt_buf *b = &d->index;
    nt_buf_puts(b, d->n_entries++ ? ",\n  {\"node\": " : "\n  {\"node\": ");
    nt_buf_json_string(b, v->name);
    nt_buf_puts(b, ", \"op\": ");
    nt_buf_json_string(b, v->op_type);
    nt_buf_printf(b, ", \"index\": %d, \"depth\": %d, \"run\": %d, \"role\": \"%s\", \"output\": ", v->index,
                  v->depth, d->run - 1, role);
    nt_buf_json_string(b, value);
    nt_buf_puts(b, ", \"file\": ");
    nt_buf_json_string(b, rel + strlen("tensors/"));
    nt_buf_printf(b, ", \"dtype\": \"%s\", \"shape\": [", nt_dtype_name(t->dtype));
    for (int k = 0; k < t->ndim; k++)
        nt_buf_printf(b, "%s%lld", k ? ", " : "", (long long)t->dims[k]);
    nt_buf_puts(b, "]}");
    return NT_ACTION_CONTINUE;
}

static nt_action dump_node_end(void *user, nt_session *s, const nt_node_view *v)
{
    dump_tracer *d = user;
    if (!d->rd)
        return NT_ACTION_CONTINUE;
    if (d->cfg.dump_inputs)
        for (int k = 0; k < v->n_inputs; k++)
            if (dump_one(d, v, v->input_names[k], v->inputs[k], "input") == NT_ACTION_STOP)
                return NT_ACTION_STOP;
    for (int k = 0; k < v->n_outputs; k++)
        if (dump_one(d, v, v->output_names[k], v->outputs[k], "output") == NT_ACTION_STOP)
            return NT_ACTION_STOP;
    return NT_ACTION_CONTINUE;
}

static nt_status dump_finish(nt_trace_obj *self, nt_rundir *rd)
{
    dump_tracer *d = (dump_tracer *)self;
    if (d->err != NT_OK)
        return d->err;
    if (!rd)
        return NT_OK;
    nt_buf b;
    nt_buf_init(&b);
    nt_buf_printf(&b, "{\"truncated\": %s, \"bytes\": %llu, \"runs\": %d, \"tensors\": [", d->capped ? "true" : "false",
                  (unsigned long long)d->written, d->run);
    nt_buf_append(&b, d->index.data ? d->index.data : "", d->index.len);
    nt_buf_puts(&b, "\n]}\n");
    char path[4096];
    nt_rundir_file(rd, "tensors/index.json", path, sizeof path);
    nt_status st = b.failed ? nt_error(NT_ERR_NOMEM, "out of memory writing %s", path) : nt_write_file(path, b.data, b.len);
    nt_buf_deinit(&b);
    if (st == NT_OK && !d->cfg.quiet)
        fprintf(d->cfg.out ? d->cfg.out : stdout, "dump: %d tensors, %.1f MiB -> %s%s\n", d->n_entries,
                (double)d->written / 1048576.0, path, d->capped ? " (stopped at the size cap)" : "");
    return st;
}

static void dump_destroy(nt_trace_obj *self)
{
    dump_tracer *d = (dump_tracer *)self;
    forget_seen(d);
    free(d->seen);
    nt_buf_deinit(&d->index);
    free(d);
}

nt_status nt_dump_tracer_new(const nt_trace_config *cfg, nt_trace_obj **out)
{
    dump_tracer *d = nt_calloc(1, sizeof *d);
    if (!d)
        return NT_ERR_NOMEM;
    d->cfg = *cfg;
    d->rd = cfg->rundir;
    if (!d->rd) {
        free(d);
        return nt_error(NT_ERR_INVALID_ARG, "the dump tracer needs a run directory (--run-dir)");
    }
    d->limit = cfg->dump_limit ? cfg->dump_limit : DEFAULT_DUMP_LIMIT;
    nt_buf_init(&d->index);
    d->base.kind = "dump";
    d->base.tracer = (nt_tracer){.user = d, .wants_node = dump_wants, .run_begin = dump_run_begin,
        .node_end = dump_node_end};
    d->base.finish = dump_finish;
    d->base.destroy = dump_destroy;
    *out = &d->base;
    return NT_OK;
}
