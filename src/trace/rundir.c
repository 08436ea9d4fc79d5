/*
 * rundir.c — the run directory every nntrace run records into (DESIGN.md):
 * run.json, the event file, and the files the tracers write beside them.
 * Also the node filter the tracers share and the tracer factory.
 */
#include "trace/tracers.h"
#include "trace/tfevents.h"
#include "core/sha256.h"
#include "graph/node_pattern.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

bool nt_node_filter_match(const nt_node_filter *f, const char *name, const char *op_type)
{
    if (f->n == 0)
        return true;
    for (int i = 0; i < f->n; i++)
        if (nt_node_pattern_match(f->pats[i], name, op_type))
            return true;
    return false;
}

bool nt_node_filter_add(nt_node_filter *f, const char *pat)
{
    if (f->n >= (int)NT_ARRAY_LEN(f->pats))
        return false;
    f->pats[f->n++] = pat;
    return true;
}

struct nt_rundir {
    char *path;
    nt_writer *writer;
    time_t started;
    nt_status writer_status;
    char sha[65];           /* the model's SHA-256, computed once ("" until then) */
    bool sha_tried;
};

nt_status nt_rundir_open(const char *dir, nt_rundir **out)
{
    *out = NULL;
    nt_status st = nt_mkdirs(dir);
    if (st != NT_OK)
        return st;
    nt_rundir *r = nt_calloc(1, sizeof *r);
    if (!r)
        return NT_ERR_NOMEM;
    r->path = nt_strdup(dir);
    if (!r->path) {
        free(r);
        return NT_ERR_NOMEM;
    }
    r->started = time(NULL);
    *out = r;
    return NT_OK;
}

const char *nt_rundir_path(const nt_rundir *r) { return r->path; }

void nt_rundir_file(const nt_rundir *r, const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", r->path, name);
}

nt_status nt_rundir_writer(nt_rundir *r, nt_writer **out)
{
    if (!r->writer && r->writer_status == NT_OK) {
        r->writer_status = nt_writer_open(r->path, &r->writer);
        if (r->writer) /* records reach the file within a second: a killed run keeps them */
            nt_writer_set_flush_policy(r->writer, NT_WRITER_FLUSH_RECORDS, 1.0);
    }
    *out = r->writer;
    return r->writer_status;
}

static void iso_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* run.json is written when the run starts padded with blanks to this
 * size, so that the final version overwrites blocks the file already has:
 * a run that fails because the disk is full can still say so. */
enum { RUNJSON_RESERVE = 8192 };

/* Overwrites the existing file at path with data and cuts it to len (no
 * new blocks when it is not longer than before).  False if there is no
 * file to overwrite; *st is the outcome otherwise. */
static bool write_in_place(const char *path, const char *data, size_t len, nt_status *st)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < len) {
        close(fd);
        return false; /* too small: a fresh file (temporary and rename) instead */
    }
    size_t done = 0;
    int err = 0;
    while (done < len && !err) {
        ssize_t k = pwrite(fd, data + done, len - done, (off_t)done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            err = k < 0 ? errno : EIO;
        else
            done += (size_t)k;
    }
    if (!err && ftruncate(fd, (off_t)len) != 0)
        err = errno;
    if (close(fd) != 0 && !err)
        err = errno;
    *st = err ? nt_error(NT_ERR_IO, "%s: write failed: %s", path, strerror(err)) : NT_OK;
    return true;
}

nt_status nt_rundir_write_info(nt_rundir *r, const nt_runinfo *info)
{
    nt_buf b;
    nt_buf_init(&b);
    char t0[64], t1[64], sha[65] = "";
    iso_time(r->started, t0, sizeof t0);
    iso_time(time(NULL), t1, sizeof t1);
    nt_buf_puts(&b, "{\n  \"nntrace_version\": \"" NT_VERSION_STRING "\",\n  \"command\": ");
    nt_buf_json_string(&b, info->command ? info->command : "");
    nt_buf_puts(&b, ",\n  \"model\": {\"path\": ");
    nt_buf_json_string(&b, info->model_path ? info->model_path : "");
    if (info->model_path && !r->sha_tried) { /* hashing a big model twice would cost */
        r->sha_tried = true;
        if (nt_sha256_file(info->model_path, r->sha) != 0)
            r->sha[0] = '\0';
    }
    snprintf(sha, sizeof sha, "%s", r->sha);
    if (sha[0]) {
        nt_buf_puts(&b, ", \"sha256\": ");
        nt_buf_json_string(&b, sha);
    }
    nt_buf_puts(&b, "},\n  \"inputs\": [");
    for (int i = 0; i < info->n_inputs; i++) {
        nt_buf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
        nt_buf_json_string(&b, info->input_names[i] ? info->input_names[i] : "");
        nt_buf_puts(&b, ", \"file\": ");
        if (info->input_files && info->input_files[i])
            nt_buf_json_string(&b, info->input_files[i]);
        else
            nt_buf_puts(&b, "null");
        if (info->input_descs && info->input_descs[i]) {
            nt_buf_puts(&b, ", \"tensor\": ");
            nt_buf_json_string(&b, info->input_descs[i]);
        }
        nt_buf_puts(&b, "}");
    }
    nt_buf_puts(&b, "],\n  \"options\": ");
    nt_buf_json_string(&b, info->options ? info->options : "");
    struct utsname u;
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    nt_buf_printf(&b, ",\n  \"threads\": %d,\n  \"runs\": %d,\n  \"elapsed_ms\": ", info->threads, info->runs);
    nt_buf_json_double(&b, info->elapsed_ms);
    nt_buf_puts(&b, ",\n  \"host\": {\"name\": ");
    nt_buf_json_string(&b, host);
    if (uname(&u) == 0) {
        nt_buf_puts(&b, ", \"system\": ");
        nt_buf_json_string(&b, u.sysname);
        nt_buf_puts(&b, ", \"release\": ");
        nt_buf_json_string(&b, u.release);
        nt_buf_puts(&b, ", \"machine\": ");
        nt_buf_json_string(&b, u.machine);
    }
    nt_buf_printf(&b, ", \"cpus\": %ld}", sysconf(_SC_NPROCESSORS_ONLN));
    const char *status = info->status ? info->status : "ok", *reason = info->reason;
    bool running = strcmp(status, "running") == 0;
    if (!running && strcmp(status, "ok") != 0 && strcmp(status, "failed") != 0) {
        reason = status; /* an error message given as the status */
        status = "failed";
    }
    nt_buf_printf(&b, ",\n  \"started\": \"%s\",\n  \"finished\": ", t0);
    if (running)
        nt_buf_puts(&b, "null");
    else
        nt_buf_printf(&b, "\"%s\"", t1);
    nt_buf_puts(&b, ",\n  \"status\": ");
    nt_buf_json_string(&b, status);
    if (strcmp(status, "failed") == 0) {
        nt_buf_puts(&b, ",\n  \"reason\": ");
        nt_buf_json_string(&b, reason && reason[0] ? reason : "unknown");
    }
    nt_buf_puts(&b, "\n}\n");
    nt_status st = NT_OK;
    char path[4096];
    nt_rundir_file(r, "run.json", path, sizeof path);
    if (running) /* room for the final version: see write_in_place */
        while (!b.failed && b.len < RUNJSON_RESERVE - 1)
            nt_buf_putc(&b, b.len == RUNJSON_RESERVE - 2 ? '\n' : ' ');
    if (b.failed)
        st = nt_error(NT_ERR_NOMEM, "%s: out of memory", path);
    else if (running || !write_in_place(path, b.data, b.len, &st))
        st = nt_write_file(path, b.data, b.len);
    nt_buf_deinit(&b);
    return st;
}

/* The value of "status" in a run.json text, or NULL (a small scan: the
 * file is ours, one member per line, and jansson is not a dependency of
 * the trace layer). */
static const char *find_status(const char *text, char *out, size_t len)
{
    const char *p = strstr(text, "\"status\":");
    if (!p)
        return NULL;
    p += strlen("\"status\":");
    while (*p == ' ')
        p++;
    if (*p++ != '"')
        return NULL;
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < len)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
    return out;
}

nt_rundir_state nt_rundir_inspect(const char *dir, char *why, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (why && len)
        why[0] = '\0';
    /* read directly: a reader asks before its own work, and must not
     * disturb the last error message */
    FILE *f = fopen(path, "rb");
    if (!f) {
        static const char *const ours[] = {"stats.jsonl", "tensors", "profile.json"};
        for (size_t i = 0; i < NT_ARRAY_LEN(ours); i++) {
            snprintf(path, sizeof path, "%s/%s", dir, ours[i]);
            if (access(path, F_OK) == 0) {
                if (why)
                    snprintf(why, len, "%s has %s but no run.json (the run was killed before it began "
                             "recording, or run.json was removed)", dir, ours[i]);
                return NT_RUNDIR_NO_RUNJSON;
            }
        }
        return NT_RUNDIR_COMPLETE;
    }
    char *text = nt_malloc(65536);
    size_t n = text ? fread(text, 1, 65535, f) : 0;
    fclose(f);
    if (text)
        text[n] = '\0';
    bool z = text != NULL;
    char status[64];
    nt_rundir_state state = NT_RUNDIR_COMPLETE;
    if (!z || !find_status(text, status, sizeof status)) {
        if (why)
            snprintf(why, len, "%s/run.json has no readable \"status\" (damaged or cut short)", dir);
        state = NT_RUNDIR_NO_RUNJSON;
    } else if (strcmp(status, "running") == 0) {
        if (why)
            snprintf(why, len, "%s/run.json says \"running\": the run was killed or is still going", dir);
        state = NT_RUNDIR_RUNNING;
    } else if (strcmp(status, "ok") != 0) {
        const char *r = strstr(text, "\"reason\":");
        char reason[512] = "";
        if (r) {
            r += strlen("\"reason\":");
            while (*r == ' ' || *r == '"')
                r++;
            size_t k = 0;
            while (r[k] && r[k] != '\n' && k + 1 < sizeof reason)
                k++;
            memcpy(reason, r, k);
            reason[k] = '\0';
            if (k && reason[k - 1] == '"')
                reason[k - 1] = '\0';
        }
        if (why)
            snprintf(why, len, "%s/run.json says the run failed%s%s", dir, reason[0] ? ": " : "", reason);
        state = NT_RUNDIR_FAILED;
    }
    free(text);
    return state;
}

nt_status nt_rundir_close(nt_rundir *r)
{
    if (!r)
        return NT_OK;
    nt_status st = r->writer ? nt_writer_close(r->writer) : NT_OK;
    free(r->path);
    free(r);
    return st;
}

nt_status nt_trace_obj_new(const char *kind, const nt_trace_config *cfg, nt_trace_obj **out)
{
    *out = NULL;
    if (strcmp(kind, "print") == 0)
        return nt_print_tracer_new(cfg, out);
    if (strcmp(kind, "stats") == 0)
        return nt_stats_tracer_new(cfg, out);
    if (strcmp(kind, "dump") == 0)
        return nt_dump_tracer_new(cfg, out);
    if (strcmp(kind, "profile") == 0)
        return nt_profile_tracer_new(cfg, out);
    return nt_error(NT_ERR_INVALID_ARG, "unknown trace kind '%s' (expected print, stats, dump or profile)", kind);
}

void nt_trace_obj_free(nt_trace_obj *t)
{
    if (t)
        t->destroy(t);
}

static int64_t numel_of(const nt_tensor *t) { return t ? nt_tensor_numel(t) : 0; }

double nt_node_flops(const nt_node_view *v)
{
    const char *op = v->op_type;
    const nt_tensor *out0 = v->n_outputs > 0 ? v->outputs[0] : NULL;
    if (!out0 || out0->ndim < 0)
        return 0;
    int64_t out_n = numel_of(out0);
    if ((strcmp(op, "Conv") == 0 || strcmp(op, "ConvTranspose") == 0) && v->n_inputs >= 2 && v->inputs[1]) {
        /* W is (M, C/group, k...) : each output element of Conv costs C/group*prod(k) MACs */
        const nt_tensor *w = v->inputs[1];
        int64_t per = 1;
        for (int d = 1; d < w->ndim; d++)
            per *= w->dims[d];
        if (strcmp(op, "ConvTranspose") == 0) /* each input element scatters into M/group*k outputs */
            return 2.0 * (double)numel_of(v->inputs[0]) * (double)(numel_of(w) / (w->dims[0] ? w->dims[0] : 1));
        return 2.0 * (double)out_n * (double)per;
    }
    if ((strcmp(op, "MatMul") == 0 || strcmp(op, "Gemm") == 0) && v->n_inputs >= 2 && v->inputs[0]) {
        const nt_tensor *a = v->inputs[0];
        int64_t k = a->ndim >= 1 ? a->dims[a->ndim - 1] : 1;
        if (strcmp(op, "Gemm") == 0 && a->ndim == 2) {
            /* A is (M,K) or, with transA, (K,M); the output is (M,N): K = |A| / M */
            k = a->dims[0] * a->dims[1] / (out0->ndim >= 1 && out0->dims[0] ? out0->dims[0] : 1);
        }
        return 2.0 * (double)out_n * (double)k;
    }
    return (double)out_n;
}
