/*
 * rundir.c — the run directory every nntrace run records into (DESIGN.md):
 * run.json, the event file, and the files the tracers write beside them.
 * Also the node filter the tracers share and the tracer factory.
 */
#include "trace/tracers.h"
#include "core/sha256.h"
#include "graph/node_pattern.h"

#include <stdlib.h>
#include <string.h>
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
    if (!r->writer && r->writer_status == NT_OK)
        r->writer_status = nt_writer_open(r->path, &r->writer);
    *out = r->writer;
    return r->writer_status;
}

static void iso_time(time_t t, char *buf, size_t len)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
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
    if (info->model_path && nt_sha256_file(info->model_path, sha) == 0) {
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
    nt_buf_printf(&b, ",\n  \"started\": \"%s\",\n  \"finished\": \"%s\",\n  \"status\": ", t0, t1);
    nt_buf_json_string(&b, info->status ? info->status : "ok");
    nt_buf_puts(&b, "\n}\n");
    nt_status st = NT_OK;
    if (b.failed)
        st = nt_error(NT_ERR_NOMEM, "out of memory writing run.json");
    else {
        char path[4096];
        nt_rundir_file(r, "run.json", path, sizeof path);
        st = nt_write_file(path, b.data, b.len);
    }
    nt_buf_deinit(&b);
    return st;
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
