/*
 * cmd_diff.c — `nntrace diff A B`: layer-by-layer comparison of two runs.
 *
 * A and B are each a run directory with dumps (tensors/index.json), a plain
 * directory of .npy files, or a model.  Two directories are diffed from
 * disk, two tensors at a time.  A model is run on the given inputs: with
 * one model and one directory the model is compared live against the
 * directory as each node finishes; with two models, A's node outputs are
 * dumped to a temporary directory (removed afterwards unless --keep DIR)
 * and B is compared live against them.  B is the reference of the relative
 * tolerance.  Exit 3 when any tensor diverges.
 *
 * Also defines the option helpers of cli_diff.h, used by `run --compare`.
 */
#include "cli/cli_env.h"
#include "cli/cli_diff.h"
#include "cli/cli_trace.h"
#include "cli/cli_model.h"
#include "trace/tracers.h"
#include "graph/ir.h"
#include "exec/exec.h"

#include <ftw.h>
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
    const char *a, *b, *keep, *out;
    bool json, failing;
    nt_diff_options opt;
    nt_cli_inputs in;
} diff_opts;

static bool is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

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
                o->keep = argv[++i];
            else
                o->out = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("diff", "unknown option '%s'", a);
        } else if (!o->a) {
            o->a = a;
        } else if (!o->b) {
            o->b = a;
        } else {
            return nt_cli_usage_error("diff", "unexpected argument '%s'", a);
        }
    }
    if (!o->a || !o->b)
        return nt_cli_usage_error("diff", "needs two runs (directories) or models to compare");
    return NT_EXIT_OK;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Runs `model` on the inputs with the tracer `kind` writing into dir:
 * "dump" (every node output) or "stats" (stats.jsonl). */
static int trace_model(const diff_opts *o, const char *model, const char *dir, const char *kind)
{
    nt_model *m;
    nt_session *s;
    int code = nt_cli_open_model(model, &o->in, &m, &s);
    if (code != NT_EXIT_OK)
        return code;
    nt_rundir *rd = NULL;
    nt_trace_obj *dump = NULL;
    nt_status st = NT_OK;
    if ((code = nt_cli_bind_inputs("diff", m, s, &o->in)) != NT_EXIT_OK)
        goto out;
    nt_trace_config cfg = {0};
    cfg.model = m;
    cfg.stats_inline = nt_cli_env.stats_inline;
    cfg.quiet = true;
    cfg.out = stderr;
    cfg.dump_limit = (uint64_t)64 << 30;
    if ((st = nt_rundir_open(dir, &rd)) != NT_OK)
        goto out;
    cfg.rundir = rd;
    if ((st = nt_trace_obj_new(kind, &cfg, &dump)) != NT_OK || (st = nt_session_add_tracer(s, &dump->tracer)) != NT_OK)
        goto out;
    if ((st = nt_session_run(s)) != NT_OK) {
        nt_error_wrap(st, "running %s", model);
        goto out;
    }
    st = dump->finish(dump, rd);
out:
    if (st != NT_OK && code == NT_EXIT_OK)
        code = nt_cli_fail(st);
    nt_trace_obj_free(dump);
    nt_status cst = nt_rundir_close(rd);
    if (cst != NT_OK && code == NT_EXIT_OK)
        code = nt_cli_fail(cst);
    nt_session_free(s);
    nt_model_free(m);
    return code;
}

/* The graph inputs bound to s (borrowed tensors), to compare with what
 * `dir` recorded: its run.json's or test case's inputs, else tensors of
 * `set` named as the graph inputs (a reference directory that saved them). */
static nt_status compare_session_inputs(const diff_opts *o, nt_model *m, nt_session *s, const char *dir,
                                        const nt_diff_set *set, bool live_is_a, nt_diff_report *rep)
{
    nt_diff_inputs live = {0}, rec = {0};
    nt_status st = nt_diff_inputs_of_dir(dir, &rec);
    for (int i = 0; st == NT_OK && i < nt_model_input_count(m); i++) {
        nt_value_info vi;
        if (nt_model_input_info(m, i, &vi) != NT_OK)
            continue;
        const nt_tensor *t = nt_session_bound_input(s, vi.name);
        if (t)
            st = nt_diff_inputs_add(&live, vi.name, "the bound input", t);
    }
    if (st == NT_OK && rec.n == 0 && set) {
        for (int i = 0; st == NT_OK && i < live.n; i++) {
            bool by_node;
            int j = nt_diff_set_find(set, live.v[i].name, NULL, 0, &by_node);
            if (j >= 0)
                st = nt_diff_inputs_add(&rec, live.v[i].name, nt_diff_set_entry(set, j)->path, NULL);
        }
    }
    if (st == NT_OK)
        st = live_is_a ? nt_diff_compare_inputs(&live, &rec, &o->opt, rep)
                       : nt_diff_compare_inputs(&rec, &live, &o->opt, rep);
    nt_diff_inputs_deinit(&live);
    nt_diff_inputs_deinit(&rec);
    return st;
}

/* Runs `model` and compares it live against `set`, recorded in dir. */
static int compare_model(const diff_opts *o, const char *model, const char *dir, const nt_diff_set *set,
                         bool live_is_a, nt_diff_report *rep)
{
    nt_model *m;
    nt_session *s;
    int code = nt_cli_open_model(model, &o->in, &m, &s);
    if (code != NT_EXIT_OK)
        return code;
    nt_diff_live *live = NULL;
    nt_status st = NT_OK;
    if ((code = nt_cli_bind_inputs("diff", m, s, &o->in)) != NT_EXIT_OK)
        goto out;
    if ((st = compare_session_inputs(o, m, s, dir, set, live_is_a, rep)) != NT_OK ||
        (st = nt_diff_live_new(set, &o->opt, rep, live_is_a, &live)) != NT_OK ||
        (st = nt_session_add_tracer(s, nt_diff_live_tracer(live))) != NT_OK)
        goto out;
    if ((st = nt_session_run(s)) != NT_OK) {
        nt_error_wrap(st, "running %s", model);
        goto out;
    }
    st = nt_diff_live_finish(live);
out:
    if (st != NT_OK && code == NT_EXIT_OK)
        code = nt_cli_fail(st);
    nt_diff_live_free(live);
    nt_session_free(s);
    nt_model_free(m);
    return code;
}

/* Two models: the weights (initializers of the top graph) present in both
 * under one name whose values differ, named with their largest difference,
 * so a changed weight is seen as the cause of a divergence.  On f (stdout,
 * or stderr beside --json). */
static void report_weights(const diff_opts *o, FILE *f)
{
    nt_model *ma = NULL, *mb = NULL;
    if (nt_model_load(o->a, &ma) != NT_OK || nt_model_load(o->b, &mb) != NT_OK) {
        nt_error_clear();
        nt_model_free(ma);
        return;
    }
    const nt_graph *ga = ma->graph, *gb = mb->graph;
    int n_diff = 0, n_same = 0;
    for (int i = 0; i < ga->n_inits; i++) {
        const nt_value *va = &ga->values[ga->inits[i]];
        int vb = nt_graph_find_value(gb, va->name);
        if (vb < 0 || gb->values[vb].kind != NT_VALUE_INITIALIZER || !va->init || !gb->values[vb].init)
            continue;
        const nt_tensor *ta = va->init, *tb = gb->values[vb].init;
        nt_diff_stats st;
        bool same_shape = ta->ndim == tb->ndim && nt_tensor_numel(ta) == nt_tensor_numel(tb);
        for (int d = 0; same_shape && d < ta->ndim; d++)
            same_shape = ta->dims[d] == tb->dims[d];
        if (same_shape && ta->dtype == tb->dtype && nt_tensor_nbytes(ta) == nt_tensor_nbytes(tb) &&
            memcmp(ta->data, tb->data, nt_tensor_nbytes(ta)) == 0) {
            n_same++;
            continue;
        }
        if (n_diff++ == 0)
            fprintf(f, "weights that differ between A and B:\n");
        if (!same_shape) {
            char da[96], db[96];
            nt_tensor_describe(ta, da, sizeof da);
            nt_tensor_describe(tb, db, sizeof db);
            fprintf(f, "  %s: %s vs %s\n", va->name, da, db);
        } else if (nt_diff_tensors(ta, tb, 0, 0, &st) == NT_OK) {
            fprintf(f, "  %s: max_abs %.6g, %lld of %lld elements differ\n", va->name, nt_printable(st.max_abs),
                    (long long)st.n_fail, (long long)st.count);
        } else {
            nt_error_clear();
            fprintf(f, "  %s: differs\n", va->name);
        }
    }
    if (n_diff)
        fprintf(f, "(%d weight%s equal)\n\n", n_same, n_same == 1 ? "" : "s");
    nt_model_free(ma);
    nt_model_free(mb);
}

/* A temporary directory for a model's recording (or --keep DIR); its
 * path in buf.  Returns NULL after printing why it could not be made. */
static const char *scratch_dir(const diff_opts *o, char *buf, size_t len)
{
    if (o->keep)
        return o->keep;
    const char *t = getenv("TMPDIR");
    snprintf(buf, len, "%s/nntrace-diff-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(buf)) {
        fprintf(stderr, "nntrace diff: cannot create a temporary directory in %s\n", t && *t ? t : "/tmp");
        return NULL;
    }
    return buf;
}

static int diff_models(const diff_opts *o, nt_diff_report *rep)
{
    report_weights(o, o->json ? stderr : stdout);
    char tmp[4096];
    const char *dir = scratch_dir(o, tmp, sizeof tmp);
    if (!dir)
        return NT_EXIT_BAD_INPUT;
    int code = trace_model(o, o->a, dir, "dump");
    nt_diff_set *set = NULL;
    if (code == NT_EXIT_OK) {
        nt_status st = nt_diff_set_open(dir, &set);
        code = st == NT_OK ? compare_model(o, o->b, dir, set, false, rep) : nt_cli_fail(st);
    }
    nt_diff_set_free(set);
    if (!o->keep)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return code;
}

/* A model against a run directory with statistics only: the model is run
 * with --trace stats into a scratch directory and the two stats.jsonl are
 * compared (and the model's inputs with the directory's). */
static int diff_model_stats(const diff_opts *o, const char *model, const char *dir, bool dir_is_a,
                            nt_diff_report *rep)
{
    char tmp[4096];
    const char *sdir = scratch_dir(o, tmp, sizeof tmp);
    if (!sdir)
        return NT_EXIT_BAD_INPUT;
    int code = trace_model(o, model, sdir, "stats");
    if (code == NT_EXIT_OK) {
        nt_diff_inputs rec = {0}, live = {0};
        nt_status st = nt_diff_inputs_of_dir(dir, &rec);
        for (int i = 0; st == NT_OK && i < o->in.n; i++)
            st = nt_diff_inputs_add(&live, o->in.names[i] ? o->in.names[i] : "", o->in.files[i], NULL);
        if (st == NT_OK)
            st = dir_is_a ? nt_diff_compare_inputs(&rec, &live, &o->opt, rep)
                          : nt_diff_compare_inputs(&live, &rec, &o->opt, rep);
        if (st == NT_OK)
            st = dir_is_a ? nt_diff_stats_files(dir, sdir, &o->opt, rep) : nt_diff_stats_files(sdir, dir, &o->opt, rep);
        nt_diff_inputs_deinit(&rec);
        nt_diff_inputs_deinit(&live);
        if (st != NT_OK)
            code = nt_cli_fail(st);
    }
    if (!o->keep)
        nftw(sdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return code;
}

/* Opens dir as a tensor set; when it has no tensors but statistics, sets
 * *stats_only instead (and returns NT_OK with *out NULL). */
static nt_status open_side(const char *dir, nt_diff_set **out, bool *stats_only)
{
    *stats_only = false;
    nt_status st = nt_diff_set_open(dir, out);
    if (st == NT_ERR_NOT_FOUND && nt_diff_dir_has_stats(dir)) {
        nt_error_clear();
        *stats_only = true;
        return NT_OK;
    }
    return st;
}

static int diff_main(int argc, char **argv, diff_opts *o)
{
    nt_diff_options_init(&o->opt);
    int code = parse_args(argc, argv, o);
    if (code != NT_EXIT_OK)
        return code;
    nt_diff_report rep;
    nt_diff_report_init(&rep);
    rep.label_a = nt_strdup(o->a);
    rep.label_b = nt_strdup(o->b);
    bool da = is_dir(o->a), db = is_dir(o->b);
    if (da)
        nt_cli_warn_incomplete("diff", o->a);
    if (db)
        nt_cli_warn_incomplete("diff", o->b);
    nt_diff_set *sa = NULL, *sb = NULL;
    nt_status st = NT_OK;
    bool stats_a = false, stats_b = false;
    if (da && db) {
        nt_diff_inputs ia = {0}, ib = {0};
        if ((st = open_side(o->a, &sa, &stats_a)) == NT_OK && (st = open_side(o->b, &sb, &stats_b)) == NT_OK &&
            (st = nt_diff_inputs_of_dir(o->a, &ia)) == NT_OK && (st = nt_diff_inputs_of_dir(o->b, &ib)) == NT_OK)
            st = nt_diff_compare_inputs(&ia, &ib, &o->opt, &rep);
        nt_diff_inputs_deinit(&ia);
        nt_diff_inputs_deinit(&ib);
        /* a side without dumps: compare what both have, their statistics */
        if (st == NT_OK && (stats_a || stats_b)) {
            if (!nt_diff_dir_has_stats(o->a) || !nt_diff_dir_has_stats(o->b))
                st = nt_error(NT_ERR_NOT_FOUND, "%s has statistics only (stats.jsonl) and %s has no stats.jsonl to "
                              "compare them with; record both runs with --trace stats or --trace dump",
                              stats_a ? o->a : o->b, stats_a ? o->b : o->a);
            else
                st = nt_diff_stats_files(o->a, o->b, &o->opt, &rep);
        } else if (st == NT_OK) {
            st = nt_diff_sets(sa, sb, &o->opt, &rep);
        }
        if (st != NT_OK)
            code = nt_cli_fail(st);
    } else if (da || db) {
        const char *dir = da ? o->a : o->b, *model = da ? o->b : o->a;
        if ((st = open_side(dir, &sa, &stats_a)) != NT_OK)
            code = nt_cli_fail(st);
        else if (stats_a)
            code = diff_model_stats(o, model, dir, da, &rep);
        else
            code = compare_model(o, model, dir, sa, !da, &rep);
    } else {
        code = diff_models(o, &rep);
    }
    if (code == NT_EXIT_OK) {
        nt_buf b;
        nt_buf_init(&b);
        nt_diff_report_json(&rep, &o->opt, &b);
        if (o->out && (b.failed || (st = nt_write_file(o->out, b.data, b.len)) != NT_OK))
            code = nt_cli_fail(b.failed ? NT_ERR_NOMEM : st);
        if (!o->json) {
            b.len = 0;
            nt_diff_report_text(&rep, &o->opt, o->failing, &b);
        }
        if (code == NT_EXIT_OK && b.data)
            fputs(b.data, stdout);
        nt_buf_deinit(&b);
        if (code == NT_EXIT_OK && (nt_diff_report_diverged(&rep) > 0 || rep.inputs_differ))
            code = NT_EXIT_FOUND;
    }
    nt_diff_set_free(sa);
    nt_diff_set_free(sb);
    nt_diff_report_deinit(&rep);
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
