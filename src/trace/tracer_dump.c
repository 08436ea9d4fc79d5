/*
 * tracer_dump.c — `--trace dump[:FILTER]`: every node output (and with
 * --dump-inputs every input) written as .npy into DIR/tensors/, with
 * tensors/index.json listing node, op, output, file, dtype and shape.
 * File names are the value names sanitized as for `run -o`; the first run
 * writes into tensors/, later runs of a data set into tensors/run<K>/.
 * Dumping stops when the size cap is reached, with one warning (in
 * base.warning, for the caller to show).
 *
 * Crash safety: each .npy is written to a hidden temporary and renamed into
 * place, and its index entry is appended at once, as one line, to
 * tensors/index.jsonl (a journal, written with write(2) so a kill loses at
 * most the line being written).  index.json is written at the end; readers
 * of a run killed before that use the journal, or the files themselves.
 * A failed write stops the run with a message naming the file.
 */
#include "trace/tracers.h"
#include "core/strmap.h"
#include "core/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    char errmsg[1024];      /* err's message (the session's stop replaces the last error) */
    int journal;            /* tensors/index.jsonl, or -1 */
    /* value names already written in this run (a value feeds many nodes),
     * cleared per run: the set, and the copies of the names it points to */
    nt_strmap seen;
    nt_vec seen_names;      /* char *, owned */
} dump_tracer;

/* Records the first failure and its message. */
static nt_action dump_fail(dump_tracer *d, nt_status st)
{
    if (d->err == NT_OK) {
        d->err = st;
        snprintf(d->errmsg, sizeof d->errmsg, "%s", nt_last_error());
    }
    return NT_ACTION_STOP;
}

static bool dump_wants(void *user, const nt_node_view *v)
{
    dump_tracer *d = user;
    return nt_node_filter_match(&d->cfg.filter, v->name, v->op_type);
}

static void forget_seen(dump_tracer *d)
{
    for (size_t i = 0; i < d->seen_names.len; i++)
        free(*(char **)nt_vec_at(&d->seen_names, i));
    d->seen_names.len = 0;
    nt_strmap_deinit(&d->seen);
}

static nt_action dump_run_begin(void *user, nt_session *s)
{
    dump_tracer *d = user;
    (void)s;
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
    nt_status st = nt_mkdirs(dir);
    if (st != NT_OK)
        return dump_fail(d, st);
    if (d->run == 1) {
        char path[4096];
        nt_rundir_file(d->rd, "tensors/index.jsonl", path, sizeof path);
        d->journal = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666);
        if (d->journal < 0)
            return dump_fail(d, nt_error(NT_ERR_IO, "%s: cannot create: %s", path, strerror(errno)));
    }
    return NT_ACTION_CONTINUE;
}

/* Whether name was written in this run; remembers it if not (if memory
 * runs out it is written again, which costs time, not correctness). */
static bool already_written(dump_tracer *d, const char *name)
{
    if (nt_strmap_get(&d->seen, name) >= 0)
        return true;
    char *copy = nt_strdup(name);
    if (!copy || nt_vec_push(&d->seen_names, &copy) != NT_OK) {
        free(copy);
        return false;
    }
    nt_strmap_put(&d->seen, copy, 0, NULL);
    return false;
}

static nt_action dump_one(dump_tracer *d, const nt_node_view *v, const char *value, const nt_tensor *t,
                          const char *role)
{
    if (nt_value_is_container(t) && value[0]) {
        /* a sequence or optional: element by element, as VALUE.0, VALUE.1, ... */
        const nt_seq *q = nt_value_seq(t);
        for (int i = 0; q && i < q->n; i++) {
            char name[1024];
            snprintf(name, sizeof name, "%s.%d", value, i);
            if (dump_one(d, v, name, q->items[i], role) == NT_ACTION_STOP)
                return NT_ACTION_STOP;
        }
        return NT_ACTION_CONTINUE;
    }
    if (!t || !value[0] || !t->data || d->capped || already_written(d, value))
        return NT_ACTION_CONTINUE;
    size_t nbytes = nt_tensor_nbytes(t);
    if (d->written + nbytes > d->limit) {
        d->capped = true;
        snprintf(d->base.warning, sizeof d->base.warning,
                 "dump size cap of %llu bytes reached at node '%s'; later tensors are not dumped (raise it with "
                 "--dump-limit)",
                 (unsigned long long)d->limit, v->name);
        return NT_ACTION_CONTINUE;
    }
    char sub[32], rel[700], path[4096];
    if (d->run <= 1)
        snprintf(sub, sizeof sub, "tensors");
    else
        snprintf(sub, sizeof sub, "tensors/run%d", d->run - 1);
    nt_value_file(sub, value, rel, sizeof rel);
    nt_rundir_file(d->rd, rel, path, sizeof path);
    nt_status st = nt_npy_save(path, t);
    if (st != NT_OK)
        return dump_fail(d, st);
    d->written += nbytes;
    nt_buf line;
    nt_buf_init(&line);
    nt_buf_puts(&line, "{\"node\": ");
    nt_buf_json_string(&line, v->name);
    nt_buf_puts(&line, ", \"op\": ");
    nt_buf_json_string(&line, v->op_type);
    nt_buf_printf(&line, ", \"index\": %d, \"depth\": %d, \"run\": %d, \"role\": \"%s\", \"output\": ", v->index,
                  v->depth, d->run - 1, role);
    nt_buf_json_string(&line, value);
    nt_buf_puts(&line, ", \"file\": ");
    nt_buf_json_string(&line, rel + strlen("tensors/"));
    nt_buf_printf(&line, ", \"dtype\": \"%s\", \"shape\": [", nt_dtype_name(t->dtype));
    for (int k = 0; k < t->ndim; k++)
        nt_buf_printf(&line, "%s%lld", k ? ", " : "", (long long)t->dims[k]);
    nt_buf_puts(&line, "]}");
    if (line.failed) {
        nt_buf_deinit(&line);
        return dump_fail(d, nt_error(NT_ERR_NOMEM, "out of memory indexing %s", path));
    }
    nt_buf_puts(&d->index, d->n_entries++ ? ",\n  " : "\n  ");
    nt_buf_append(&d->index, line.data, line.len);
    nt_buf_putc(&line, '\n');
    if (d->journal >= 0 && !line.failed) { /* one write per line: a kill cuts at most this one */
        size_t done = 0;
        while (done < line.len) {
            ssize_t k = write(d->journal, line.data + done, line.len - done);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                char jp[4096];
                nt_rundir_file(d->rd, "tensors/index.jsonl", jp, sizeof jp);
                int e = k < 0 ? errno : EIO;
                nt_buf_deinit(&line);
                return dump_fail(d, nt_error(NT_ERR_IO, "%s: write failed: %s", jp, strerror(e)));
            }
            done += (size_t)k;
        }
    }
    nt_buf_deinit(&line);
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
    if (d->journal >= 0) {
        int rc = close(d->journal);
        d->journal = -1;
        if (rc != 0 && d->err == NT_OK) {
            char jp[4096];
            nt_rundir_file(d->rd, "tensors/index.jsonl", jp, sizeof jp);
            dump_fail(d, nt_error(NT_ERR_IO, "%s: write failed: %s", jp, strerror(errno)));
        }
    }
    if (d->err != NT_OK)
        return nt_error(d->err, "%s", d->errmsg);
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
    if (d->journal >= 0)
        close(d->journal);
    forget_seen(d);
    nt_vec_deinit(&d->seen_names);
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
    d->journal = -1;
    nt_buf_init(&d->index);
    nt_vec_init(&d->seen_names, sizeof(char *));
    d->base.kind = "dump";
    d->base.tracer = (nt_tracer){.user = d, .wants_node = dump_wants, .run_begin = dump_run_begin,
        .node_end = dump_node_end};
    d->base.finish = dump_finish;
    d->base.destroy = dump_destroy;
    *out = &d->base;
    return NT_OK;
}
