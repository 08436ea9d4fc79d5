/*
 * diff_stats.c — `nntrace diff` on run directories that hold statistics
 * only (stats.jsonl from --trace stats, no tensor dumps).
 *
 * Each output's count, shape, NaN and Inf counts must be equal, and its
 * min, max, mean and standard deviation must agree within the tolerances
 * (|a-b| > atol and |a-b| > rtol*|b| fails a statistic, as it fails an
 * element of a tensor).  This finds the first node whose statistics move;
 * it cannot see a change that keeps all of them (a permutation, say), and
 * the report says that it compared statistics, not tensors.
 */
#include "analyze/diff.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool nt_diff_dir_has_stats(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/stats.jsonl", dir);
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The lines of DIR/stats.jsonl as a JSON array, in file order.  A line
 * that does not parse is an error naming the file and line, except the
 * last one (a run killed while writing). */
static nt_status read_stats(const char *dir, json_t **out)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/stats.jsonl", dir);
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return nt_error(NT_ERR_IO, "%s: cannot open", path);
    json_t *arr = json_array();
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, bad_line = 0;
    nt_status st = arr ? NT_OK : NT_ERR_NOMEM;
    while (st == NT_OK && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (bad_line) {
            st = nt_error(NT_ERR_PARSE, "%s: line %d: not a JSON object (the file is damaged)", path, bad_line);
            break;
        }
        json_t *o = json_loadb(line, (size_t)len, 0, NULL);
        if (!json_is_object(o)) {
            json_decref(o);
            bad_line = lineno;
            continue;
        }
        if (json_array_append_new(arr, o) != 0)
            st = NT_ERR_NOMEM;
    }
    free(line);
    fclose(f);
    if (st == NT_OK && json_array_size(arr) == 0)
        st = nt_error(NT_ERR_PARSE, "%s: no statistics recorded", path);
    if (st != NT_OK) {
        json_decref(arr);
        return st;
    }
    *out = arr;
    return NT_OK;
}

static bool num(json_t *o, const char *key, double *v)
{
    json_t *j = json_object_get(o, key);
    if (!json_is_number(j))
        return false;
    *v = json_number_value(j);
    return true;
}

/* Fills one row's statistics comparison of lines a and b. */
static void compare_lines(json_t *a, json_t *b, nt_diff_row *w)
{
    w->status = NT_DIFF_COMPARED;
    w->st.cosine = NAN;
    w->st.sqnr_db = NAN;
    w->st.max_rel = 0;
    double ca = 0, cb = 0;
    num(a, "count", &ca);
    num(b, "count", &cb);
    w->st.count = (int64_t)ca;
    if (!json_equal(json_object_get(a, "shape"), json_object_get(b, "shape")) || ca != cb) {
        w->status = NT_DIFF_SHAPE_MISMATCH;
        w->error = nt_strdup("shapes (or element counts) differ");
        snprintf(w->stat, sizeof w->stat, "count");
        w->stat_a = ca;
        w->stat_b = cb;
        w->st.n_fail = 1;
        return;
    }
    /* counts of special values: any difference fails, and names the row */
    static const char *const exact[] = {"nan", "pinf", "ninf"};
    static const char *const approx[] = {"min", "max", "mean", "std"};
    double worst_fail = -1, worst_any = -1;
    for (int k = 0; k < 3; k++) {
        double x, y;
        if (!num(a, exact[k], &x) || !num(b, exact[k], &y) || x == y)
            continue;
        w->st.n_fail++;
        if (k == 0)
            w->st.nan_mismatch += (int64_t)fabs(x - y);
        else
            w->st.inf_mismatch += (int64_t)fabs(x - y);
        if (worst_fail < INFINITY) { /* the first counted mismatch names the row */
            worst_fail = INFINITY;
            snprintf(w->stat, sizeof w->stat, "%s", exact[k]);
            w->stat_a = x;
            w->stat_b = y;
        }
    }
    for (int k = 0; k < 4; k++) {
        double x, y;
        if (!num(a, approx[k], &x) || !num(b, approx[k], &y))
            continue;
        double d = fabs(x - y);
        if (!isfinite(d))
            d = x == y ? 0 : INFINITY;
        bool fails = d > w->atol && d > w->rtol * fabs(y);
        if (d > w->st.max_abs)
            w->st.max_abs = d;
        if (y != 0 && d / fabs(y) > w->st.max_rel)
            w->st.max_rel = d / fabs(y);
        if (fails)
            w->st.n_fail++;
        /* name the failing statistic that moved most, else the one that moved most */
        if ((fails && d > worst_fail) || (worst_fail < 0 && d > worst_any)) {
            if (fails)
                worst_fail = d;
            worst_any = d;
            snprintf(w->stat, sizeof w->stat, "%s", approx[k]);
            w->stat_a = x;
            w->stat_b = y;
        }
    }
    w->ok = w->st.n_fail == 0;
}

static nt_status add_stats_row(nt_diff_report *rep, const nt_diff_options *o, json_t *la, json_t *lb)
{
    if (rep->n == rep->cap) {
        int cap = rep->cap ? rep->cap * 2 : 64;
        nt_diff_row *nr = nt_realloc(rep->rows, (size_t)cap * sizeof *nr);
        if (!nr)
            return NT_ERR_NOMEM;
        rep->rows = nr;
        rep->cap = cap;
    }
    const char *node = json_string_value(json_object_get(la, "node"));
    const char *op = json_string_value(json_object_get(la, "op"));
    const char *output = json_string_value(json_object_get(la, "output"));
    nt_diff_row *w = &rep->rows[rep->n];
    memset(w, 0, sizeof *w);
    w->st.worst = -1;
    w->node = nt_strdup(node ? node : "");
    w->op = nt_strdup(op ? op : "");
    w->output = nt_strdup(output);
    if (!w->node || !w->op || !w->output) {
        free(w->node);
        free(w->op);
        free(w->output);
        return NT_ERR_NOMEM;
    }
    rep->n++;
    nt_diff_options_for(o, output, node, &w->atol, &w->rtol);
    const char *da = json_string_value(json_object_get(la, "dtype"));
    const char *db = json_string_value(json_object_get(lb, "dtype"));
    snprintf(w->shape_a, sizeof w->shape_a, "%s", da ? da : "");
    snprintf(w->shape_b, sizeof w->shape_b, "%s", db ? db : "");
    snprintf(w->worst_at, sizeof w->worst_at, "[]");
    compare_lines(la, lb, w);
    if (w->status == NT_DIFF_SHAPE_MISMATCH)
        w->ok = false;
    if (!w->ok && rep->first_divergent < 0)
        rep->first_divergent = rep->n - 1;
    return NT_OK;
}

nt_status nt_diff_stats_files(const char *dir_a, const char *dir_b, const nt_diff_options *o, nt_diff_report *rep)
{
    json_t *sa = NULL, *sb = NULL;
    nt_status st = read_stats(dir_a, &sa);
    if (st == NT_OK)
        st = read_stats(dir_b, &sb);
    json_t *by_name = json_object(), *used = json_object();
    if (st == NT_OK && (!by_name || !used))
        st = NT_ERR_NOMEM;
    size_t i;
    json_t *l;
    if (st == NT_OK)
        json_array_foreach(sb, i, l) {
            const char *out = json_string_value(json_object_get(l, "output"));
            if (out && !json_object_get(by_name, out) && json_object_set(by_name, out, l) != 0)
                st = NT_ERR_NOMEM;
        }
    rep->from_stats = true;
    if (st == NT_OK)
        json_array_foreach(sa, i, l) {
            const char *out = json_string_value(json_object_get(l, "output"));
            if (!out || json_object_get(used, out))
                continue;
            json_t *m = json_object_get(by_name, out);
            if (json_object_set_new(used, out, json_true()) != 0)
                st = NT_ERR_NOMEM;
            else if (!m)
                st = nt_diff_report_add_only(rep, true, out);
            else
                st = add_stats_row(rep, o, l, m);
            if (st != NT_OK)
                break;
        }
    if (st == NT_OK) {
        const char *key;
        json_object_foreach(by_name, key, l) {
            if (!json_object_get(used, key) && (st = nt_diff_report_add_only(rep, false, key)) != NT_OK)
                break;
        }
    }
    json_decref(by_name);
    json_decref(used);
    json_decref(sa);
    json_decref(sb);
    return st;
}
