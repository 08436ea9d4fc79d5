/*
 * doctor_run.c — nt_doctor_run and its result (include/nntrace/analysis.h):
 * the doctor's tracer attached for one run or one run per sample, then the
 * findings rendered as `nntrace doctor` prints them (text grouped by
 * severity, or the JSON of DESIGN.md).
 */
#include "analyze/doctor.h"
#include "exec/dataset.h"

#include <stdlib.h>
#include <string.h>

struct nt_doctor_result {
    nt_doctor *doctor;           /* owns the findings */
    const nt_finding *f;
    int n;
    char *model;                 /* for the text's first line */
};

void nt_doctor_options_init(nt_doctor_options *o) { memset(o, 0, sizeof *o); }

/* The run(s) the findings cover: once on the bound inputs, or per sample. */
static nt_status doctor_runs(const nt_model *m, nt_session *s, const nt_doctor_options *o)
{
    if (!o->data && !o->data_path)
        return nt_session_run(s);
    nt_tensor *loaded = NULL;
    const nt_tensor *x = o->data;
    if (!x) {
        nt_status st = nt_tensor_load(o->data_path, &loaded);
        if (st != NT_OK)
            return st;
        x = loaded;
    }
    nt_dataset_run_info info;
    nt_status st = nt_dataset_run(m, s, x, o->data_input, o->data_path ? o->data_path : "the data", o->log, "doctor",
                                  &info);
    nt_tensor_free(loaded);
    return st;
}

nt_status nt_doctor_run(const nt_model *m, nt_session *s, const nt_doctor_options *o, nt_doctor_result **out)
{
    *out = NULL;
    nt_doctor_options defaults;
    if (!o) {
        nt_doctor_options_init(&defaults);
        o = &defaults;
    }
    nt_doctor_result *r = nt_calloc(1, sizeof *r);
    if (!r)
        return NT_ERR_NOMEM;
    const char *path = o->model_path ? o->model_path : nt_model_path(m);
    r->model = nt_strdup(path ? path : "model");
    nt_status st = r->model ? nt_doctor_new(m, o, &r->doctor) : NT_ERR_NOMEM;
    if (st == NT_OK)
        st = nt_doctor_static(r->doctor, nt_session_plan_warnings(s));
    if (st == NT_OK && (st = nt_session_add_tracer(s, nt_doctor_tracer(r->doctor))) == NT_OK) {
        st = doctor_runs(m, s, o);
        nt_session_remove_tracer(s, nt_doctor_tracer(r->doctor));
    }
    if (st == NT_OK)
        st = nt_doctor_finish(r->doctor, &r->f, &r->n);
    if (st != NT_OK) {
        nt_doctor_result_free(r);
        return st;
    }
    *out = r;
    return NT_OK;
}

int nt_doctor_result_runs(const nt_doctor_result *r) { return nt_doctor_runs(r->doctor); }

int nt_doctor_result_errors(const nt_doctor_result *r)
{
    int errors = 0;
    for (int i = 0; i < r->n; i++)
        errors += r->f[i].severity == NT_SEV_ERROR;
    return errors;
}

void nt_doctor_result_free(nt_doctor_result *r)
{
    if (!r)
        return;
    nt_doctor_free(r->doctor);
    free(r->model);
    free(r);
}

/* ---------------------------------------------------------------- rendering */

static void json_string_or_null(nt_buf *b, const char *s)
{
    if (s)
        nt_buf_json_string(b, s);
    else
        nt_buf_puts(b, "null");
}

static void finding_json(nt_buf *b, const nt_finding *f)
{
    nt_buf_puts(b, "{\"kind\": ");
    nt_buf_json_string(b, f->kind);
    nt_buf_printf(b, ", \"severity\": \"%s\", \"node\": ", nt_severity_name(f->severity));
    json_string_or_null(b, f->node);
    nt_buf_puts(b, ", \"op\": ");
    json_string_or_null(b, f->op);
    nt_buf_puts(b, ", \"output\": ");
    json_string_or_null(b, f->output);
    nt_buf_puts(b, ", \"detail\": ");
    nt_buf_json_string(b, f->detail ? f->detail : "");
    if (f->extra_json) {
        nt_buf_puts(b, ", ");
        nt_buf_puts(b, f->extra_json);
    }
    nt_buf_puts(b, "}");
}

nt_status nt_doctor_result_json(const nt_doctor_result *r, char **out, size_t *len)
{
    nt_buf b;
    nt_buf_init(&b);
    nt_buf_puts(&b, "{\"findings\": [");
    for (int i = 0; i < r->n; i++) {
        nt_buf_puts(&b, i ? ",\n  " : "\n  ");
        finding_json(&b, &r->f[i]);
    }
    nt_buf_printf(&b, "%s], \"runs\": %d}\n", r->n ? "\n" : "", nt_doctor_runs(r->doctor));
    return nt_buf_take(&b, out, len);
}

nt_status nt_doctor_result_text(const nt_doctor_result *r, char **out, size_t *len)
{
    const nt_finding *f = r->f;
    int n = r->n, runs = nt_doctor_runs(r->doctor);
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < n; i++)
        counts[f[i].severity]++;
    nt_buf b;
    nt_buf_init(&b);
    nt_buf_printf(&b, "doctor: %s, %d run%s: %d error%s, %d warning%s, %d info\n", r->model, runs,
                  runs == 1 ? "" : "s", counts[2], counts[2] == 1 ? "" : "s", counts[1], counts[1] == 1 ? "" : "s",
                  counts[0]);
    static const char *const heads[3] = {"info", "warnings", "errors"};
    for (int sev = NT_SEV_ERROR; sev >= NT_SEV_INFO; sev--) {
        if (!counts[sev])
            continue;
        nt_buf_printf(&b, "\n%s:\n", heads[sev]);
        for (int i = 0; i < n; i++) {
            if ((int)f[i].severity != sev)
                continue;
            nt_buf_printf(&b, "  [%s]", f[i].kind);
            if (f[i].node)
                nt_buf_printf(&b, " %s (%s)", f[i].node, f[i].op ? f[i].op : "?");
            if (f[i].output && (!f[i].node || strcmp(f[i].output, f[i].node) != 0))
                nt_buf_printf(&b, " -> %s", f[i].output);
            nt_buf_printf(&b, "\n      %s\n", f[i].detail ? f[i].detail : "");
        }
    }
    if (n == 0)
        nt_buf_puts(&b, "no findings\n");
    return nt_buf_take(&b, out, len);
}
