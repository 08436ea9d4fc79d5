/*
 * cmd_doctor.c — `nntrace doctor MODEL [-i ... | --data X.npy] [--json]`:
 * runs the model under the doctor's tracer and prints the findings, grouped
 * by severity (or as JSON per DESIGN.md).  Exit 3 when any finding is an
 * error.  The diagnosis is a library call (include/nntrace/analysis.h:
 * nt_doctor_run); this file parses arguments, binds inputs and prints.
 */
#include "cli/cli_model.h"
#include "core/core.h"
#include "nntrace/analysis.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    const char *model, *run_dir;
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
            const char **dst = strcmp(a, "--data") == 0      ? &o->dopt.data_path
                               : strcmp(a, "--run-dir") == 0 ? &o->run_dir
                                                             : &o->dopt.data_input;
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

/* The library's error: a misnamed --data-input is a usage error. */
static int doctor_fail(const doctor_opts *o, nt_status st)
{
    if (o->dopt.data_path && st == NT_ERR_INVALID_ARG)
        return nt_cli_usage_error("doctor", "--data needs a model input (--data-input NAME) and an array of rank >= 1");
    if (!o->dopt.data_path)
        return nt_cli_fail_in(st, o->model);
    fprintf(stderr, "nntrace doctor: %s\n", nt_last_error());   /* names the data file */
    return NT_EXIT_BAD_INPUT;
}

/* What was found, on stdout and in DIR/findings.json; exit 3 on an error. */
static int print_result(const doctor_opts *o, const nt_doctor_result *r)
{
    char *json, *text = NULL;
    size_t len;
    nt_status st = nt_doctor_result_json(r, &json, &len);
    if (st == NT_OK && !o->json)
        st = nt_doctor_result_text(r, &text, NULL);
    if (st == NT_OK)
        fputs(o->json ? json : text, stdout);
    if (st == NT_OK && o->run_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/findings.json", o->run_dir);
        if ((st = nt_mkdirs(o->run_dir)) == NT_OK)
            st = nt_write_file(path, json, len);
    }
    free(json);
    free(text);
    if (st != NT_OK)
        return nt_cli_fail(st);
    return nt_doctor_result_errors(r) > 0 ? NT_EXIT_FOUND : NT_EXIT_OK;
}

int nt_cmd_doctor(int argc, char **argv)
{
    doctor_opts o = {0};
    nt_doctor_options_init(&o.dopt);
    int code = parse_args(argc, argv, &o);
    if (code != NT_EXIT_OK)
        return code;
    nt_model *m;
    nt_session *s;
    if ((code = nt_cli_open_model(o.model, &o.in, &m, &s)) != NT_EXIT_OK)
        return code;
    nt_doctor_result *r = NULL;
    o.dopt.model_path = o.model;
    o.dopt.log = isatty(2) ? stderr : NULL;   /* progress only for a person watching */
    if (o.dopt.data_path) {
        nt_value_info first;
        o.in.bound_later = o.dopt.data_input;
        if (!o.dopt.data_input && nt_model_input_count(m) > 0 && nt_model_input_info(m, 0, &first) == NT_OK)
            o.in.bound_later = first.name;
    }
    if ((code = nt_cli_bind_inputs("doctor", m, s, &o.in)) == NT_EXIT_OK) {
        nt_status st = nt_doctor_run(m, s, &o.dopt, &r);
        code = st == NT_OK ? print_result(&o, r) : doctor_fail(&o, st);
    }
    nt_cli_inputs_deinit(&o.in);
    nt_doctor_result_free(r);
    nt_session_free(s);
    nt_model_free(m);
    return code;
}
