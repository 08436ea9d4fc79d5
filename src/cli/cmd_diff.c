/*
 * cmd_diff.c — `nntrace diff A B`: layer-by-layer comparison of two runs.
 *
 * A and B are each a run directory with dumps (tensors/index.json), a plain
 * directory of .npy files, or a model run on the given inputs.  The
 * comparison is a library call (include/nntrace/analysis.h: nt_diff_run);
 * this file parses arguments, opens models the way `run` does, and prints.
 * Exit 3 when any tensor diverges.
 *
 * Also defines the option helpers of cli_diff.h, used by `run --compare`.
 */
#include "cli/cli_diff.h"
#include "cli/cli_trace.h"
#include "cli/cli_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char nt_usage_diff[] =
    "usage: nntrace diff A B [--atol X] [--rtol Y] [--tol PAT=ATOL[:RTOL]]... [--json]\n"
    "       nntrace diff MODEL_A MODEL_B [-i NAME=FILE]... [--keep DIR] [options]\n"
    "\n"
    "Compares two runs node output by node output and names the first node whose\n"
    "output diverges, in execution order.  A and B are run directories recorded\n"
    "with --trace dump, directories of .npy files named as `nntrace run -o` names\n"
    "them (e.g. reference tensors saved from PyTorch), or models: a model is run on\n"
    "the inputs given and compared live.  Tensors are matched by value name, then\n"
    "by node name.  Per tensor: max abs and max rel difference, mean abs difference,\n"
    "cosine similarity, SQNR in dB (B the signal), NaN/Inf mismatches and the count\n"
    "of failing elements, and the tensor where the SQNR drops most (the layer where\n"
    "the error jumps).  A float model diffs against its quantized twin: each\n"
    "DequantizeLinear output is paired with the float tensor it stands for, by the\n"
    "names quantizers keep (X_DequantizeLinear_Output, X_quantized -> X); in the\n"
    "QOperator format each QLinearConv/QLinearMatMul output X_quantized is\n"
    "dequantized with its scale and zero point and paired with X:\n"
    "  nntrace diff model.onnx model_qdq.onnx -i input=x.npy\n"
    "\n"
    "The graph inputs are compared first (the files run.json records, a test\n"
    "case's input_K.pb, or the inputs given with -i): when they differ the report\n"
    "says so, with the max abs difference per input, as the likely cause of the\n"
    "divergence (JSON \"cause\": \"inputs\").  A run directory without dumps but\n"
    "with stats.jsonl (--trace stats) is compared by per-node statistics (count,\n"
    "NaN/Inf counts, min, max, mean, std within the tolerances) and the report says\n"
    "that it compared statistics, not tensors; a model against such a directory is\n"
    "run with --trace stats to compare the same way.\n"
    "\n"
    NT_CLI_DIFF_TOL_HELP
    "  --json             print {\"first_divergent\", \"cause\", \"inputs\": [...],\n"
    "                     \"compared_what\", \"nodes\": [...], ...}\n"
    "  --out FILE         also write the JSON report to FILE (for `graph --diff`)\n"
    "  --failing          list only divergent tensors in the table\n"
    "  --keep DIR         with two models: keep A's dumped tensors in DIR\n"
    "\n"
    "With models, the input options of `nntrace run` apply to both:\n"
    NT_CLI_INPUT_HELP
    "\n"
    "exit codes: 0 no divergence, 1 usage error, 2 bad model, input or directory,\n"
    "3 a tensor diverged.\n";

/* ---------------------------------------------------------------- shared options */

static bool parse_tol_spec(const char *v, nt_diff_tol *t)
{
    const char *eq = strrchr(v, '=');
    if (!eq || eq == v)
        return false;
    char num[128];
    snprintf(num, sizeof num, "%s", eq + 1);
    char *colon = strchr(num, ':');
    if (colon)
        *colon = '\0';
    if (!nt_cli_parse_double(num, &t->atol) || t->atol < 0)
        return false;
    if (colon && (!nt_cli_parse_double(colon + 1, &t->rtol) || t->rtol < 0))
        return false;
    t->pattern = nt_strndup(v, (size_t)(eq - v));
    return t->pattern != NULL;
}

int nt_cli_parse_tol_opt(const char *cmd, int argc, char **argv, int *i, nt_diff_options *o)
{
    const char *a = argv[*i];
    if (strcmp(a, "--atol") == 0 || strcmp(a, "--rtol") == 0) {
        double v;
        if (*i + 1 >= argc || !nt_cli_parse_double(argv[++*i], &v) || v < 0)
            return nt_cli_usage_error(cmd, "%s needs a number >= 0", a), -1;
        if (a[2] == 'a')
            o->atol = v;
        else
            o->rtol = v;
        return 1;
    }
    if (strcmp(a, "--tol") == 0) {
        if (o->n_tols >= NT_DIFF_MAX_TOLS)
            return nt_cli_usage_error(cmd, "too many --tol options"), -1;
        nt_diff_tol t = {NULL, 0, o->rtol};
        if (*i + 1 >= argc || !parse_tol_spec(argv[++*i], &t))
            return nt_cli_usage_error(cmd, "--tol needs PATTERN=ATOL or PATTERN=ATOL:RTOL"), -1;
        o->tols[o->n_tols++] = t;
        return 1;
    }
    return 0;
}

void nt_cli_compare_init(nt_cli_compare *c)
{
    memset(c, 0, sizeof *c);
    nt_diff_options_init(&c->opt);
    nt_diff_report_init(&c->rep);
}

int nt_cli_parse_compare_opt(const char *cmd, int argc, char **argv, int *i, nt_cli_compare *c)
{
    if (strcmp(argv[*i], "--compare") == 0) {
        if (*i + 1 >= argc)
            return nt_cli_usage_error(cmd, "--compare needs a directory of reference tensors"), -1;
        c->dir = argv[++*i];
        return 1;
    }
    return nt_cli_parse_tol_opt(cmd, argc, argv, i, &c->opt);
}

int nt_cli_compare_start(nt_cli_compare *c, nt_session *s)
{
    if (!c->dir)
        return NT_EXIT_OK;
    nt_cli_warn_incomplete("run --compare", c->dir);
    nt_status st = nt_diff_set_open(c->dir, &c->set);
    if (st == NT_OK)
        st = nt_diff_live_new(c->set, &c->opt, &c->rep, true, &c->live);
    if (st == NT_OK)
        st = nt_session_add_tracer(s, nt_diff_live_tracer(c->live));
    if (st != NT_OK)
        return nt_cli_fail(st);
    c->rep.label_a = nt_strdup("this run");
    c->rep.label_b = nt_strdup(c->dir);
    return NT_EXIT_OK;
}

int nt_cli_compare_finish(nt_cli_compare *c, FILE *f, const char *run_dir)
{
    if (!c->dir || !c->live)
        return NT_EXIT_OK;
    nt_status st = nt_diff_live_finish(c->live);
    if (st != NT_OK)
        return nt_cli_fail(st);
    nt_buf b;
    nt_buf_init(&b);
    nt_diff_report_text(&c->rep, &c->opt, false, &b);
    if (b.data)
        fputs(b.data, f);
    int code = NT_EXIT_OK;
    if (run_dir) {
        b.len = 0;
        nt_diff_report_json(&c->rep, &c->opt, &b);
        char path[4096];
        snprintf(path, sizeof path, "%s/diff.json", run_dir);
        if (b.failed || (st = nt_write_file(path, b.data, b.len)) != NT_OK)
            code = nt_cli_fail(b.failed ? NT_ERR_NOMEM : st);
    }
    nt_buf_deinit(&b);
    if (code == NT_EXIT_OK && nt_diff_report_diverged(&c->rep) > 0)
        code = NT_EXIT_FOUND;
    return code;
}

void nt_cli_compare_deinit(nt_cli_compare *c)
{
    nt_diff_live_free(c->live);
    nt_diff_set_free(c->set);
    nt_diff_report_deinit(&c->rep);
    for (int i = 0; i < c->opt.n_tols; i++)
        free((char *)c->opt.tols[i].pattern);
    c->live = NULL;
    c->set = NULL;
    c->opt.n_tols = 0;
}

/* ---------------------------------------------------------------- diff */

typedef struct diff_opts {
    const char *out;
    bool json, failing;
    nt_diff_options opt;
    nt_cli_inputs in;
    int code;                 /* the exit code of a model that would not open or bind */
} diff_opts;

static int parse_args(int argc, char **argv, diff_opts *o)
{
    for (int i = 1; i < argc; i++) {
        int r = nt_cli_parse_input_opt("diff", argc, argv, &i, &o->in);
        if (r == 0)
            r = nt_cli_parse_tol_opt("diff", argc, argv, &i, &o->opt);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--failing") == 0) {
            o->failing = true;
        } else if (strcmp(a, "--keep") == 0 || strcmp(a, "--out") == 0) {
            if (i + 1 >= argc)
                return nt_cli_usage_error("diff", "%s needs a path", a);
            if (a[2] == 'k')
                o->opt.keep_dir = argv[++i];
            else
                o->out = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("diff", "unknown option '%s'", a);
        } else if (!o->opt.a) {
            o->opt.a = a;
        } else if (!o->opt.b) {
            o->opt.b = a;
        } else {
            return nt_cli_usage_error("diff", "unexpected argument '%s'", a);
        }
    }
    if (!o->opt.a || !o->opt.b)
        return nt_cli_usage_error("diff", "needs two runs (directories) or models to compare");
    return NT_EXIT_OK;
}

/* nt_diff_options.open: a model side opens and binds its inputs as `run`
 * does (-i, --random, --dim, --threads, NNTRACE_*), saying what is wrong
 * itself; the exit code waits in o->code. */
static nt_status open_model(void *user, const char *path, nt_model **m, nt_session **s)
{
    diff_opts *o = user;
    *m = NULL;
    *s = NULL;
    int code = nt_cli_open_model(path, &o->in, m, s);
    if (code == NT_EXIT_OK && (code = nt_cli_bind_inputs("diff", *m, *s, &o->in)) != NT_EXIT_OK) {
        nt_session_free(*s);
        nt_model_free(*m);
        *s = NULL;
        *m = NULL;
    }
    o->code = code;
    return code == NT_EXIT_OK ? NT_OK : nt_error(NT_ERR_INVALID_ARG, "%s would not open", path);
}

static bool is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* The report on stdout (and --out FILE); exit 3 when a tensor diverged. */
static int print_result(const diff_opts *o, const nt_diff_result *r)
{
    char *json = NULL, *text = NULL;
    size_t len;
    nt_status st = nt_diff_result_json(r, &json, &len);
    if (st == NT_OK && o->out)
        st = nt_write_file(o->out, json, len);
    if (st == NT_OK)
        st = o->json ? nt_diff_result_weights(r, &text, NULL) : nt_diff_result_text(r, o->failing, &text, NULL);
    if (st == NT_OK) {
        fputs(text, o->json ? stderr : stdout);
        if (o->json)
            fputs(json, stdout);
    }
    free(json);
    free(text);
    if (st != NT_OK)
        return nt_cli_fail(st);
    return nt_diff_result_diverged(r) > 0 ? NT_EXIT_FOUND : NT_EXIT_OK;
}

static int diff_main(int argc, char **argv, diff_opts *o)
{
    nt_diff_options_init(&o->opt);
    int code = parse_args(argc, argv, o);
    if (code != NT_EXIT_OK)
        return code;
    if (is_dir(o->opt.a))
        nt_cli_warn_incomplete("diff", o->opt.a);
    if (is_dir(o->opt.b))
        nt_cli_warn_incomplete("diff", o->opt.b);
    o->opt.open = open_model;
    o->opt.open_user = o;
    o->opt.n_input_files = o->in.n;
    o->opt.input_file_names = o->in.names;
    o->opt.input_files = o->in.files;
    o->opt.tmp_dir = getenv("TMPDIR");
    nt_diff_result *r = NULL;
    nt_status st = nt_diff_run(&o->opt, &r);
    if (st == NT_OK)
        code = print_result(o, r);
    else if (o->code != NT_EXIT_OK)
        code = o->code;
    else if (st == NT_ERR_IO && strstr(nt_last_error(), "temporary directory"))
        code = (fprintf(stderr, "nntrace diff: %s\n", nt_last_error()), NT_EXIT_BAD_INPUT);
    else
        code = nt_cli_fail(st);
    nt_diff_result_free(r);
    for (int i = 0; i < o->opt.n_tols; i++)
        free((char *)o->opt.tols[i].pattern);
    return code;
}

int nt_cmd_diff(int argc, char **argv)
{
    diff_opts o = {0};
    int code = diff_main(argc, argv, &o);
    nt_cli_inputs_deinit(&o.in);
    return code;
}
