/*
 * cmd_doctor.c — `nntrace doctor MODEL [-i ... | --data X.npy] [--json]`:
 * runs the model under the doctor's tracer and prints the findings, grouped
 * by severity (or as JSON per DESIGN.md).  Exit 3 when any finding is an
 * error.
 */
#include "analyze/doctor.h"
#include "cli/cli_model.h"
#include "cli/cli_trace.h"

#include <stdlib.h>
#include <string.h>

const char nt_usage_doctor[] =
    "usage: nntrace doctor MODEL [-i NAME=FILE]... [--data X.npy] [--json]\n"
    "\n"
    "Runs MODEL on the given inputs (or on every sample of a data set) and reports\n"
    "what looks wrong:\n"
    "  nan / inf          the first node that produced NaN/Inf from finite inputs (error),\n"
    "                     with the first bad element and, for element-wise ops, the input\n"
    "                     values there; nodes that only passed it on are listed as info\n"
    "  dead               units of ReLU-like outputs that never activated (every unit dead:\n"
    "                     error; 10% or more: warning; fewer: info)\n"
    "  saturated          sigmoid/tanh/softmax outputs stuck at their rails\n"
    "  exploding          magnitudes above --explode (default 1e4); fp16_overflow with --fp16\n"
    "  unused_initializer, unused_input, unused_output, shape_conflict  (static checks)\n"
    "\n"
    NT_CLI_INPUT_HELP
    "  --data X.npy       run once per sample (axis 0) of X, bound to the first input\n"
    "                     (or --data-input NAME); findings cover the whole set\n"
    "  --explode X        magnitude threshold for 'exploding' (default 1e4)\n"
    "  --fp16             also report values outside float16's range (65504)\n"
    "  --run-dir DIR      also write the findings to DIR/findings.json\n"
    "  --json             {\"findings\": [{\"kind\", \"severity\", \"node\", \"op\", \"output\",\n"
    "                     \"detail\", ...}]}, NaN/Inf origins first\n"
    "\n"
    "exit codes: 0 no errors, 1 usage, 2 bad model or input, 3 an error-severity finding.\n";

typedef struct doctor_opts {
    const char *model, *data, *data_input, *run_dir;
    nt_cli_inputs in;
    nt_doctor_options dopt;
    bool json;
} doctor_opts;

static int parse_args(int argc, char **argv, doctor_opts *o)
{
    for (int i = 1; i < argc; i++) {
        int r = nt_cli_parse_input_opt("doctor", argc, argv, &i, &o->in);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--fp16") == 0) {
            o->dopt.fp16 = true;
        } else if (strcmp(a, "--data") == 0 || strcmp(a, "--data-input") == 0 || strcmp(a, "--run-dir") == 0) {
            if (i + 1 >= argc)
                return nt_cli_usage_error("doctor", "%s needs a value", a);
            const char **dst = strcmp(a, "--data") == 0 ? &o->data : strcmp(a, "--run-dir") == 0 ? &o->run_dir
                                                                                                : &o->data_input;
            *dst = argv[++i];
        } else if (strcmp(a, "--explode") == 0) {
            if (i + 1 >= argc || !nt_cli_parse_double(argv[++i], &o->dopt.explode_threshold) ||
                o->dopt.explode_threshold <= 0)
                return nt_cli_usage_error("doctor", "--explode needs a positive number");
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("doctor", "unknown option '%s'", a);
        } else if (!o->model) {
            o->model = a;
        } else {
            return nt_cli_usage_error("doctor", "unexpected argument '%s'", a);
        }
    }
    if (!o->model)
        return nt_cli_usage_error("doctor", "no MODEL given");
    return NT_EXIT_OK;
}

static void finding_json(nt_buf *b, const nt_finding *f)
{
    nt_buf_puts(b, "{\"kind\": ");
    nt_buf_json_string(b, f->kind);
    nt_buf_printf(b, ", \"severity\": \"%s\", \"node\": ", nt_severity_name(f->severity));
    if (f->node)
        nt_buf_json_string(b, f->node);
    else
        nt_buf_puts(b, "null");
    nt_buf_puts(b, ", \"op\": ");
    if (f->op)
        nt_buf_json_string(b, f->op);
    else
        nt_buf_puts(b, "null");
    nt_buf_puts(b, ", \"output\": ");
    if (f->output)
        nt_buf_json_string(b, f->output);
    else
        nt_buf_puts(b, "null");
    nt_buf_puts(b, ", \"detail\": ");
    nt_buf_json_string(b, f->detail ? f->detail : "");
    if (f->extra_json) {
        nt_buf_puts(b, ", ");
        nt_buf_puts(b, f->extra_json);
    }
    nt_buf_puts(b, "}");
}

static void findings_json(nt_buf *b, const nt_finding *f, int n, int runs)
{
    nt_buf_puts(b, "{\"findings\": [");
    for (int i = 0; i < n; i++) {
        nt_buf_puts(b, i ? ",\n  " : "\n  ");
        finding_json(b, &f[i]);
    }
    nt_buf_printf(b, "%s], \"runs\": %d}\n", n ? "\n" : "", runs);
}

static void print_text(const nt_finding *f, int n, int runs, const char *model)
{
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < n; i++)
        counts[f[i].severity]++;
    printf("doctor: %s, %d run%s: %d error%s, %d warning%s, %d info\n", model, runs, runs == 1 ? "" : "s",
           counts[2], counts[2] == 1 ? "" : "s", counts[1], counts[1] == 1 ? "" : "s", counts[0]);
    static const char *const heads[3] = {"info", "warnings", "errors"};
    for (int sev = NT_SEV_ERROR; sev >= NT_SEV_INFO; sev--) {
        if (!counts[sev])
            continue;
        printf("\n%s:\n", heads[sev]);
        for (int i = 0; i < n; i++) {
            if ((int)f[i].severity != sev)
                continue;
            printf("  [%s]", f[i].kind);
            if (f[i].node)
                printf(" %s (%s)", f[i].node, f[i].op ? f[i].op : "?");
            if (f[i].output && (!f[i].node || strcmp(f[i].output, f[i].node) != 0))
                printf(" -> %s", f[i].output);
            printf("\n      %s\n", f[i].detail ? f[i].detail : "");
        }
    }
    if (n == 0)
        printf("no findings\n");
}

int nt_cmd_doctor(int argc, char **argv)
{
    doctor_opts o = {0};
    int code = parse_args(argc, argv, &o);
    if (code != NT_EXIT_OK)
        return code;
    nt_model *m;
    nt_session *s;
    if ((code = nt_cli_open_model(o.model, &o.in, &m, &s)) != NT_EXIT_OK)
        return code;
    nt_doctor *d = NULL;
    nt_status st = nt_doctor_new(m, &o.dopt, &d);
    if (st == NT_OK)
        st = nt_doctor_static(d, nt_session_plan_warnings(s));
    if (st == NT_OK)
        st = nt_session_add_tracer(s, nt_doctor_tracer(d));
    nt_session_set_keep_values(s, false);
    if (st != NT_OK) {
        code = nt_cli_fail(st);
        goto out;
    }
    if (o.data) {
        nt_value_info first;
        o.in.bound_later = o.data_input;
        if (!o.data_input && nt_model_input_count(m) > 0 && nt_model_input_info(m, 0, &first) == NT_OK)
            o.in.bound_later = first.name;
    }
    if ((code = nt_cli_bind_inputs("doctor", m, s, &o.in)) != NT_EXIT_OK)
        goto out;
    if (o.data) {
        int runs;
        double ms;
        code = nt_cli_run_dataset("doctor", m, s, o.data, o.data_input, NULL, NULL, &runs, &ms);
    } else if ((st = nt_session_run(s)) != NT_OK) {
        code = nt_cli_fail_in(st, o.model);
    }
    if (code != NT_EXIT_OK)
        goto out;
    const nt_finding *f;
    int n;
    if ((st = nt_doctor_finish(d, &f, &n)) != NT_OK) {
        code = nt_cli_fail(st);
        goto out;
    }
    nt_buf b;
    nt_buf_init(&b);
    findings_json(&b, f, n, nt_doctor_runs(d));
    if (o.json)
        fputs(b.data, stdout);
    else
        print_text(f, n, nt_doctor_runs(d), o.model);
    if (o.run_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/findings.json", o.run_dir);
        if ((st = nt_mkdirs(o.run_dir)) != NT_OK || (st = nt_write_file(path, b.data, b.len)) != NT_OK)
            code = nt_cli_fail(st);
    }
    nt_buf_deinit(&b);
    for (int i = 0; i < n && code == NT_EXIT_OK; i++)
        if (f[i].severity == NT_SEV_ERROR)
            code = NT_EXIT_FOUND;
out:
    nt_cli_inputs_deinit(&o.in);
    nt_doctor_free(d);
    nt_session_free(s);
    nt_model_free(m);
    return code;
}
