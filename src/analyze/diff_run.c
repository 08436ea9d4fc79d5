/*
 * diff_run.c — nt_diff_run and its result (include/nntrace/analysis.h): the
 * comparison behind `nntrace diff A B`.  A and B are each a run directory
 * with dumps, a directory of .npy files, or a model.  Two directories are
 * diffed from disk; a model is run on the given inputs and compared live
 * as each node finishes; with two models A's node outputs are dumped into
 * a temporary directory (removed afterwards unless keep_dir) and B is
 * compared live against them.  The graph inputs are compared first (a run
 * given other inputs diverges everywhere); a run directory with statistics
 * only (stats.jsonl) is compared by per-node statistics.  B is the
 * reference of the relative tolerance.
 */
#include "analyze/diff.h"
#include "exec/exec.h"
#include "graph/ir.h"
#include "trace/tracers.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct nt_diff_result {
    nt_diff_options opt;          /* the tolerances the report is rendered with */
    nt_diff_report rep;
    nt_buf weights;               /* "weights that differ" lines (two models), or empty */
};

static bool is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* The default way to get a model ready: load, plan, bind the feeds. */
static nt_status open_default(const nt_diff_options *o, const char *path, nt_model **m, nt_session **s)
{
    *m = NULL;
    *s = NULL;
    nt_session_options so = {0};
    so.threads = o->threads;
    nt_status st = nt_model_load(path, m);
    if (st == NT_OK)
        st = nt_session_new(*m, &so, s);
    for (int i = 0; st == NT_OK && i < o->n_feeds; i++)
        st = nt_session_bind_input(*s, o->feed_names[i], o->feeds[i]);
    return st;
}

static nt_status open_model(const nt_diff_options *o, const char *path, nt_model **m, nt_session **s)
{
    if (o->open)
        return o->open(o->open_user, path, m, s);
    nt_status st = open_default(o, path, m, s);
    if (st != NT_OK) {
        nt_session_free(*s);
        nt_model_free(*m);
        *s = NULL;
        *m = NULL;
    }
    return st;
}

/* Runs `model` with the tracer `kind` writing into dir: "dump" (every node
 * output) or "stats" (stats.jsonl). */
static nt_status trace_model(const nt_diff_options *o, const char *model, const char *dir, const char *kind)
{
    nt_model *m;
    nt_session *s;
    nt_status st = open_model(o, model, &m, &s);
    if (st != NT_OK)
        return st;
    nt_rundir *rd = NULL;
    nt_trace_obj *dump = NULL;
    nt_trace_config cfg = {0};
    cfg.model = m;
    cfg.quiet = true;
    cfg.out = NULL;
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
    nt_trace_obj_free(dump);
    nt_status cst = nt_rundir_close(rd);
    nt_session_free(s);
    nt_model_free(m);
    return st != NT_OK ? st : cst;
}

/* The graph inputs bound to s (borrowed tensors), to compare with what
 * `dir` recorded: its run.json's or test case's inputs, else tensors of
 * `set` named as the graph inputs (a reference directory that saved them). */
static nt_status compare_session_inputs(const nt_diff_options *o, const nt_model *m, nt_session *s, const char *dir,
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
        st = live_is_a ? nt_diff_compare_inputs(&live, &rec, o, rep) : nt_diff_compare_inputs(&rec, &live, o, rep);
    nt_diff_inputs_deinit(&live);
    nt_diff_inputs_deinit(&rec);
    return st;
}

/* Runs `model` and compares it live against `set`, recorded in dir. */
static nt_status compare_model(const nt_diff_options *o, const char *model, const char *dir, const nt_diff_set *set,
                               bool live_is_a, nt_diff_report *rep)
{
    nt_model *m;
    nt_session *s;
    nt_status st = open_model(o, model, &m, &s);
    if (st != NT_OK)
        return st;
    nt_diff_live *live = NULL;
    if ((st = compare_session_inputs(o, m, s, dir, set, live_is_a, rep)) != NT_OK ||
        (st = nt_diff_live_new(set, o, rep, live_is_a, &live)) != NT_OK ||
        (st = nt_session_add_tracer(s, nt_diff_live_tracer(live))) != NT_OK)
        goto out;
    if ((st = nt_session_run(s)) != NT_OK) {
        nt_error_wrap(st, "running %s", model);
        goto out;
    }
    st = nt_diff_live_finish(live);
out:
    nt_diff_live_free(live);
    nt_session_free(s);
    nt_model_free(m);
    return st;
}

/* Two models: the weights (initializers of the top graph) present in both
 * under one name whose values differ, named with their largest difference,
 * so a changed weight is seen as the cause of a divergence. */
static void weights_text(const char *a, const char *b, nt_buf *out)
{
    nt_model *ma = NULL, *mb = NULL;
    if (nt_model_load(a, &ma) != NT_OK || nt_model_load(b, &mb) != NT_OK) {
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
            nt_buf_puts(out, "weights that differ between A and B:\n");
        if (!same_shape) {
            char da[96], db[96];
            nt_tensor_describe(ta, da, sizeof da);
            nt_tensor_describe(tb, db, sizeof db);
            nt_buf_printf(out, "  %s: %s vs %s\n", va->name, da, db);
        } else if (nt_diff_tensors(ta, tb, 0, 0, &st) == NT_OK) {
            nt_buf_printf(out, "  %s: max_abs %.6g, %lld of %lld elements differ\n", va->name,
                          nt_printable(st.max_abs), (long long)st.n_fail, (long long)st.count);
        } else {
            nt_error_clear();
            nt_buf_printf(out, "  %s: differs\n", va->name);
        }
    }
    if (n_diff)
        nt_buf_printf(out, "(%d weight%s equal)\n\n", n_same, n_same == 1 ? "" : "s");
    nt_model_free(ma);
    nt_model_free(mb);
}

/* A scratch directory for a model's recording (or keep_dir); its path in
 * buf. */
static nt_status scratch_dir(const nt_diff_options *o, char *buf, size_t len, const char **dir)
{
    *dir = o->keep_dir;
    if (*dir)
        return NT_OK;
    const char *t = o->tmp_dir && *o->tmp_dir ? o->tmp_dir : "/tmp";
    snprintf(buf, len, "%s/nntrace-diff-XXXXXX", t);
    if (!mkdtemp(buf))
        return nt_error(NT_ERR_IO, "cannot create a temporary directory in %s", t);
    *dir = buf;
    return NT_OK;
}

static nt_status diff_models(const nt_diff_options *o, nt_diff_result *r)
{
    weights_text(o->a, o->b, &r->weights);
    char tmp[4096];
    const char *dir;
    nt_status st = scratch_dir(o, tmp, sizeof tmp, &dir);
    if (st != NT_OK)
        return st;
    st = trace_model(o, o->a, dir, "dump");
    nt_diff_set *set = NULL;
    if (st == NT_OK && (st = nt_diff_set_open(dir, &set)) == NT_OK)
        st = compare_model(o, o->b, dir, set, false, &r->rep);
    nt_diff_set_free(set);
    if (!o->keep_dir)
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return st;
}

/* The inputs a model side was given, as the report names them: the files
 * the caller says they came from, else the feeds. */
static nt_status given_inputs(const nt_diff_options *o, nt_diff_inputs *out)
{
    nt_status st = NT_OK;
    for (int i = 0; st == NT_OK && i < o->n_input_files; i++)
        st = nt_diff_inputs_add(out, o->input_file_names[i] ? o->input_file_names[i] : "", o->input_files[i], NULL);
    for (int i = 0; st == NT_OK && !o->n_input_files && i < o->n_feeds; i++)
        st = nt_diff_inputs_add(out, o->feed_names[i], "the bound input", o->feeds[i]);
    return st;
}

/* A model against a run directory with statistics only: the model is run
 * with the stats tracer into a scratch directory and the two stats.jsonl
 * are compared (and the model's inputs with the directory's). */
static nt_status diff_model_stats(const nt_diff_options *o, const char *model, const char *dir, bool dir_is_a,
                                  nt_diff_report *rep)
{
    char tmp[4096];
    const char *sdir;
    nt_status st = scratch_dir(o, tmp, sizeof tmp, &sdir);
    if (st != NT_OK)
        return st;
    if ((st = trace_model(o, model, sdir, "stats")) == NT_OK) {
        nt_diff_inputs rec = {0}, live = {0};
        st = nt_diff_inputs_of_dir(dir, &rec);
        if (st == NT_OK)
            st = given_inputs(o, &live);
        if (st == NT_OK)
            st = dir_is_a ? nt_diff_compare_inputs(&rec, &live, o, rep) : nt_diff_compare_inputs(&live, &rec, o, rep);
        if (st == NT_OK)
            st = dir_is_a ? nt_diff_stats_files(dir, sdir, o, rep) : nt_diff_stats_files(sdir, dir, o, rep);
        nt_diff_inputs_deinit(&rec);
        nt_diff_inputs_deinit(&live);
    }
    if (!o->keep_dir)
        nftw(sdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return st;
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

/* Two directories: their inputs, then their tensors, or their statistics
 * when a side has no dumps. */
static nt_status diff_dirs(const nt_diff_options *o, nt_diff_report *rep)
{
    nt_diff_set *sa = NULL, *sb = NULL;
    nt_diff_inputs ia = {0}, ib = {0};
    bool stats_a = false, stats_b = false;
    nt_status st;
    if ((st = open_side(o->a, &sa, &stats_a)) == NT_OK && (st = open_side(o->b, &sb, &stats_b)) == NT_OK &&
        (st = nt_diff_inputs_of_dir(o->a, &ia)) == NT_OK && (st = nt_diff_inputs_of_dir(o->b, &ib)) == NT_OK)
        st = nt_diff_compare_inputs(&ia, &ib, o, rep);
    nt_diff_inputs_deinit(&ia);
    nt_diff_inputs_deinit(&ib);
    if (st == NT_OK && (stats_a || stats_b)) {
        if (!nt_diff_dir_has_stats(o->a) || !nt_diff_dir_has_stats(o->b))
            st = nt_error(NT_ERR_NOT_FOUND, "%s has statistics only (stats.jsonl) and %s has no stats.jsonl to "
                          "compare them with; record both runs with --trace stats or --trace dump",
                          stats_a ? o->a : o->b, stats_a ? o->b : o->a);
        else
            st = nt_diff_stats_files(o->a, o->b, o, rep);
    } else if (st == NT_OK) {
        st = nt_diff_sets(sa, sb, o, rep);
    }
    nt_diff_set_free(sa);
    nt_diff_set_free(sb);
    return st;
}

/* A directory and a model run live against it (or by statistics). */
static nt_status diff_dir_model(const nt_diff_options *o, bool dir_is_a, nt_diff_report *rep)
{
    const char *dir = dir_is_a ? o->a : o->b, *model = dir_is_a ? o->b : o->a;
    nt_diff_set *set = NULL;
    bool stats_only;
    nt_status st = open_side(dir, &set, &stats_only);
    if (st == NT_OK)
        st = stats_only ? diff_model_stats(o, model, dir, dir_is_a, rep)
                        : compare_model(o, model, dir, set, !dir_is_a, rep);
    nt_diff_set_free(set);
    return st;
}

nt_status nt_diff_run(const nt_diff_options *o, nt_diff_result **out)
{
    *out = NULL;
    if (!o->a || !o->b)
        return nt_error(NT_ERR_INVALID_ARG, "diff needs two runs (directories) or models to compare");
    nt_diff_result *r = nt_calloc(1, sizeof *r);
    if (!r)
        return NT_ERR_NOMEM;
    r->opt = *o;
    nt_diff_report_init(&r->rep);
    nt_buf_init(&r->weights);
    r->rep.label_a = nt_strdup(o->a);
    r->rep.label_b = nt_strdup(o->b);
    bool da = is_dir(o->a), db = is_dir(o->b);
    nt_status st = da && db ? diff_dirs(o, &r->rep) : da || db ? diff_dir_model(o, da, &r->rep) : diff_models(o, r);
    if (st == NT_OK && (!r->rep.label_a || !r->rep.label_b || r->weights.failed))
        st = nt_error(NT_ERR_NOMEM, "out of memory");
    if (st != NT_OK) {
        nt_diff_result_free(r);
        return st;
    }
    *out = r;
    return NT_OK;
}

int nt_diff_result_diverged(const nt_diff_result *r)
{
    return nt_diff_report_diverged(&r->rep) + r->rep.inputs_differ;
}

nt_status nt_diff_result_json(const nt_diff_result *r, char **out, size_t *len)
{
    nt_buf b;
    nt_buf_init(&b);
    nt_diff_report_json(&r->rep, &r->opt, &b);
    return nt_buf_take(&b, out, len);
}

nt_status nt_diff_result_weights(const nt_diff_result *r, char **out, size_t *len)
{
    nt_buf b;
    nt_buf_init(&b);
    if (r->weights.len)
        nt_buf_append(&b, r->weights.data, r->weights.len);
    return nt_buf_take(&b, out, len);
}

nt_status nt_diff_result_text(const nt_diff_result *r, bool only_failing, char **out, size_t *len)
{
    nt_buf b;
    nt_buf_init(&b);
    if (r->weights.len)
        nt_buf_append(&b, r->weights.data, r->weights.len);
    nt_diff_report_text(&r->rep, &r->opt, only_failing, &b);
    return nt_buf_take(&b, out, len);
}

void nt_diff_result_free(nt_diff_result *r)
{
    if (!r)
        return;
    nt_diff_report_deinit(&r->rep);
    nt_buf_deinit(&r->weights);
    free(r);
}
