/*
 * cmd_run.c — `nntrace run MODEL ...`: bind inputs, run (optionally many
 * times for timing), write outputs as .npy, print a summary of each output.
 */
#include "cli/cli_diff.h"
#include "cli/cli_model.h"
#include "cli/cli_outputs.h"
#include "cli/cli_trace.h"
#include "trace/tfevents.h"
#include "core/core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char nt_usage_run[] =
    "usage: nntrace run MODEL [-i NAME=FILE]... [-o OUTDIR] [--trace KIND[:FILTER]]...\n"
    "                   [--run-dir DIR] [--threads N] [--repeat N] [--json]\n"
    "\n"
    "Runs MODEL on nntrace's interpreter and summarizes each output.\n"
    "\n"
    NT_CLI_INPUT_HELP
    NT_CLI_TRACE_HELP
    "  --data X.npy       run once per sample of X (axis 0) bound to the first input\n"
    "                     (or --data-input NAME); tracers accumulate over all samples\n"
    "  -o OUTDIR          write each graph output to OUTDIR/<name>.npy (name sanitized:\n"
    "                     characters outside [A-Za-z0-9_.-] become '_'); a sequence or\n"
    "                     optional output element by element: <name>.0.npy, <name>.1.npy...\n"
    "  --repeat N         after one warm-up run, run N times and report the median time\n"
    "                     (--trace profile warms up first even without --repeat)\n"
    "  --json             print {\"outputs\": [...], \"median_ms\", \"min_ms\", \"runs\"}\n"
    "  -v                 print the first values of each output (and traced tensor)\n"
    "  --compare DIR      compare every node output with reference tensors in DIR (a run\n"
    "                     directory with dumps, .npy files named as -o names them, or an\n"
    "                     ONNX test case: input_K.pb bound when no -i is given, output_K.pb\n"
    "                     compared; DIR or DIR/test_data_set_0);\n"
    "                     exit 3 on divergence; writes diff.json into the run directory\n"
    NT_CLI_DIFF_TOL_HELP
    "\n"
    "exit codes: 0 ok, 1 usage error (also: an input not given), 2 bad model or input\n"
    "file, or a model nntrace declines (the message lists every unsupported node).\n";

typedef struct run_opts {
    const char *model, *outdir, *data, *data_input;
    char cmdline[2048];
    nt_cli_inputs in;
    nt_cli_trace trace;
    nt_cli_compare cmp;
    int repeat;
    bool json, verbose;
} run_opts;

static int parse_args(int argc, char **argv, run_opts *o)
{
    for (int i = 1; i < argc; i++) {
        int r = nt_cli_parse_input_opt("run", argc, argv, &i, &o->in);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        r = nt_cli_parse_trace_opt("run", argc, argv, &i, &o->trace);
        if (r == 0)
            r = nt_cli_parse_compare_opt("run", argc, argv, &i, &o->cmp);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output-dir") == 0) {
            if (i + 1 >= argc)
                return nt_cli_usage_error("run", "%s needs a directory", a);
            o->outdir = argv[++i];
        } else if (strcmp(a, "--repeat") == 0) {
            long long n;
            if (i + 1 >= argc || !nt_cli_parse_int(argv[++i], &n) || n < 1 || n > 1000000)
                return nt_cli_usage_error("run", "--repeat needs a count from 1 to 1000000");
            o->repeat = (int)n;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--data") == 0 || strcmp(a, "--data-input") == 0) {
            if (i + 1 >= argc)
                return nt_cli_usage_error("run", "%s needs a value", a);
            if (a[6] == '\0')
                o->data = argv[++i];
            else
                o->data_input = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("run", "unknown option '%s'", a);
        } else if (!o->model) {
            o->model = a;
        } else {
            return nt_cli_usage_error("run", "unexpected argument '%s'", a);
        }
    }
    if (!o->model)
        return nt_cli_usage_error("run", "no MODEL given");
    o->verbose = o->trace.verbose;
    o->trace.reports_to_stderr = o->json;
    return NT_EXIT_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs `n` times; median and min of the wall times.  With an event
 * writer, each run's time is logged as it ends (run/time_ms, step = run),
 * so a long --repeat shows progress and a killed one leaves its curve. */
static nt_status run_timed(nt_session *s, int n, nt_writer *w, int *runs, double *median, double *min_ms,
                           double *total)
{
    double *times = nt_calloc((size_t)n, sizeof *times);
    if (!times)
        return nt_error(NT_ERR_NOMEM, "out of memory");
    nt_status st = NT_OK;
    *total = 0;
    for (int r = 0; r < n && st == NT_OK; r++) {
        double t0 = nt_now_ms();
        st = nt_session_run(s);
        times[r] = nt_now_ms() - t0;
        *total += times[r];
        *runs = r + 1;
        if (st == NT_OK && w) /* a failed write sticks; the run's finish reports it, naming the file */
            (void)nt_writer_scalar(w, "run/time_ms", r, times[r]);
    }
    if (st == NT_OK) {
        qsort(times, (size_t)n, sizeof *times, cmp_double);
        *median = n % 2 ? times[n / 2] : 0.5 * (times[n / 2 - 1] + times[n / 2]);
        *min_ms = times[0];
    }
    free(times);
    return st;
}

int nt_cmd_run(int argc, char **argv)
{
    run_opts o = {0};
    nt_cli_compare_init(&o.cmp);
    size_t off = 0;
    for (int i = 0; i < argc && off + 2 < sizeof o.cmdline; i++) {
        int n = snprintf(o.cmdline + off, sizeof o.cmdline - off, "%s%s", i ? " " : "", argv[i]);
        off += n > 0 ? (size_t)n : 0;
    }
    int code = parse_args(argc, argv, &o);
    if (code != NT_EXIT_OK)
        return code;
    nt_model *m;
    nt_session *s;
    if ((code = nt_cli_open_model(o.model, &o.in, &m, &s)) != NT_EXIT_OK) {
        nt_cli_inputs_deinit(&o.in);
        return code;
    }
    if (o.data) {
        nt_value_info first;
        o.in.bound_later = o.data_input;
        if (!o.data_input && nt_model_input_count(m) > 0 && nt_model_input_info(m, 0, &first) == NT_OK)
            o.in.bound_later = first.name;
    }
    /* --compare on an ONNX test case and no inputs given: its input_K.pb
     * bind the graph inputs in order */
    char case_dir[4096];
    char *case_inputs[NT_CLI_MAX_INPUTS] = {0};
    if (o.cmp.dir && o.in.n == 0 && !o.in.random && !o.in.zeros && !o.data &&
        nt_diff_case_dir(o.cmp.dir, case_dir, sizeof case_dir)) {
        for (int k = 0; k < NT_CLI_MAX_INPUTS; k++) {
            char path[4200];
            snprintf(path, sizeof path, "%s/input_%d.pb", case_dir, k);
            if (access(path, F_OK) != 0 || !(case_inputs[k] = nt_strdup(path)))
                break;
            o.in.names[o.in.n] = NULL;
            o.in.files[o.in.n++] = case_inputs[k];
        }
        if (o.in.n > 0)
            fprintf(stderr, "nntrace run: inputs from %s (%d file%s)\n", case_dir, o.in.n, o.in.n == 1 ? "" : "s");
    }
    if ((code = nt_cli_bind_inputs("run", m, s, &o.in)) != NT_EXIT_OK)
        goto out;

    double median = 0, min_ms = 0, total_ms = 0;
    int runs = 0;
    nt_status st = NT_OK;
    /* warm-up (untraced): first touch of buffers and caches; a profile
     * measures warm runs even without --repeat */
    if (o.repeat > 0 || (o.trace.enabled[3] && !o.data)) {
        st = nt_session_run(s);
        o.trace.warmup_runs = 1;
    }
    o.trace.command = "run";
    o.trace.model_path = o.model;
    o.trace.cmdline = o.cmdline;
    o.trace.threads = o.in.threads;
    if (st == NT_OK && (code = nt_cli_trace_start(&o.trace, m, s, false)) != NT_EXIT_OK)
        goto out;
    char cmp_rundir[4096] = "";
    if (o.trace.rd)
        snprintf(cmp_rundir, sizeof cmp_rundir, "%s", nt_rundir_path(o.trace.rd));
    if (st == NT_OK && (code = nt_cli_compare_start(&o.cmp, s)) != NT_EXIT_OK)
        goto out;
    if (st == NT_OK && o.trace.rd) {
        nt_writer *w;
        if (nt_rundir_writer(o.trace.rd, &w) == NT_OK && w)
            st = nt_writer_graph(w, m);
    }
    if (st == NT_OK && o.data)
        code = nt_cli_run_dataset("run", m, s, o.data, o.data_input, &runs, &total_ms);
    else if (st == NT_OK) {
        nt_writer *w = NULL;
        if (o.trace.rd && nt_rundir_writer(o.trace.rd, &w) != NT_OK)
            w = NULL;
        st = run_timed(s, o.repeat > 0 ? o.repeat : 1, w, &runs, &median, &min_ms, &total_ms);
    }
    /* A tracer that stopped the run (a failed write, say) reports why when
     * it finishes; only a stop nobody explains is reported as a stop. */
    bool stopped = st == NT_ERR_STOPPED;
    char reason[1024] = "";
    if (st != NT_OK && !stopped)
        code = nt_cli_fail_in(st, o.model);
    if (st != NT_OK)
        snprintf(reason, sizeof reason, "%s", nt_last_error());
    {
        const char *names[NT_CLI_MAX_INPUTS];
        for (int k = 0; k < o.in.n; k++)
            names[k] = o.in.names[k] ? o.in.names[k] : "";
        nt_runinfo info = {"run", o.model, o.in.n, names, o.in.files, NULL, o.cmdline,
                           o.in.threads > 0 ? o.in.threads : 1, runs, total_ms,
                           code == NT_EXIT_OK && !stopped ? "ok" : "failed", reason};
        int c2 = nt_cli_trace_finish(&o.trace, &info);
        if (code == NT_EXIT_OK)
            code = c2;
        if (stopped && code == NT_EXIT_OK) {
            fprintf(stderr, "nntrace: %s\n", reason);
            code = NT_EXIT_BAD_INPUT;
        }
    }
    if (code != NT_EXIT_OK)
        goto out;
    if (o.outdir && (code = nt_cli_write_outputs(o.outdir, m, s)) != NT_EXIT_OK)
        goto out;

    int n_out = nt_model_output_count(m);
    if (o.json) {
        nt_buf b;
        nt_buf_init(&b);
        nt_buf_puts(&b, "{\"outputs\": [");
        for (int i = 0; i < n_out; i++) {
            nt_value_info vi;
            const nt_tensor *t;
            nt_model_output_info(m, i, &vi);
            nt_session_get_output(s, i, &t);
            nt_buf_puts(&b, i ? ", {\"name\": " : "{\"name\": ");
            nt_buf_json_string(&b, vi.name);
            nt_buf_printf(&b, ", \"dtype\": \"%s\", \"shape\": [", nt_dtype_name(t->dtype));
            for (int d = 0; d < t->ndim; d++)
                nt_buf_printf(&b, "%s%lld", d ? ", " : "", (long long)t->dims[d]);
            nt_buf_puts(&b, "]");
            if (o.outdir) {
                char safe[512], path[4096];
                nt_value_file(NULL, vi.name, safe, sizeof safe);
                snprintf(path, sizeof path, "%s/%s", o.outdir, safe);
                nt_cli_json_files(&b, path, t);
            }
            nt_buf_puts(&b, "}");
        }
        nt_buf_puts(&b, "], \"median_ms\": ");
        nt_buf_printf(&b, "%.4f, \"min_ms\": %.4f, \"runs\": %d, \"peak_bytes\": %zu}\n", median, min_ms, runs,
                      nt_session_peak_bytes(s));
        fputs(b.data ? b.data : "{}\n", stdout);
        nt_buf_deinit(&b);
    } else {
        for (int i = 0; i < n_out; i++) {
            nt_value_info vi;
            const nt_tensor *t;
            nt_model_output_info(m, i, &vi);
            nt_session_get_output(s, i, &t);
            nt_cli_print_output(stdout, vi.name, t, o.verbose);
        }
        if (o.repeat > 0)
            printf("time: median %.3f ms, min %.3f ms over %d runs (%d thread%s)\n", median, min_ms, runs,
                   o.in.threads > 1 ? o.in.threads : 1, o.in.threads > 1 ? "s" : "");
        printf("peak intermediate memory: %.1f KiB\n", (double)nt_session_peak_bytes(s) / 1024.0);
    }
    code = nt_cli_compare_finish(&o.cmp, o.json ? stderr : stdout, cmp_rundir[0] ? cmp_rundir : NULL);
out:
    for (int k = 0; k < NT_CLI_MAX_INPUTS; k++)
        free(case_inputs[k]);
    nt_cli_compare_deinit(&o.cmp);
    nt_cli_inputs_deinit(&o.in);
    nt_session_free(s);
    nt_model_free(m);
    return code;
}
