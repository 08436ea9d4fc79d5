/*
 * diff.c — the arithmetic and the report of `nntrace diff`: per-tensor error
 * statistics (max abs/rel error, mean abs error, cosine similarity, NaN and
 * Inf mismatches, elements failing the tolerance test), per-output
 * tolerance overrides, and the report as JSON or a text table.
 *
 * Reading tensor sets, matching them and the live tracer are in
 * diff_set.c.  Statistics are accumulated in double; tensors are converted
 * a chunk at a time so a comparison needs no copy of either tensor.
 */
#include "analyze/diff.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- tensors */

/* dtypes read directly; the rest (float16, bfloat16, bool...) go through
 * nt_tensor_get_f64, which is slower but knows every layout. */
#define NT_DIFF_FAST_DTYPES(X)       \
    X(NT_DTYPE_FLOAT, float)         \
    X(NT_DTYPE_DOUBLE, double)       \
    X(NT_DTYPE_INT8, int8_t)         \
    X(NT_DTYPE_UINT8, uint8_t)       \
    X(NT_DTYPE_INT16, int16_t)       \
    X(NT_DTYPE_UINT16, uint16_t)     \
    X(NT_DTYPE_INT32, int32_t)       \
    X(NT_DTYPE_UINT32, uint32_t)     \
    X(NT_DTYPE_INT64, int64_t)       \
    X(NT_DTYPE_UINT64, uint64_t)

/* dst[0..n) = elements [off, off+n) of t as doubles. */
static void to_double(const nt_tensor *t, int64_t off, int64_t n, double *dst)
{
    switch (t->dtype) {
#define NT_DIFF_CASE(dt, ctype)                        \
    case dt: {                                         \
        const ctype *p = (const ctype *)t->data + off; \
        for (int64_t i = 0; i < n; i++)                \
            dst[i] = (double)p[i];                     \
        return;                                        \
    }
        NT_DIFF_FAST_DTYPES(NT_DIFF_CASE)
#undef NT_DIFF_CASE
    default:
        for (int64_t i = 0; i < n; i++)
            dst[i] = nt_tensor_get_f64(t, off + i);
    }
}

nt_status nt_diff_tensors(const nt_tensor *a, const nt_tensor *b, double atol, double rtol, nt_diff_stats *out)
{
    memset(out, 0, sizeof *out);
    out->worst = -1;
    out->cosine = 1.0;
    out->sqnr_db = INFINITY;
    if (!nt_dtype_is_numeric(a->dtype) || !nt_dtype_is_numeric(b->dtype))
        return nt_error(NT_ERR_UNSUPPORTED, "cannot compare %s with %s values", nt_dtype_name(a->dtype),
                        nt_dtype_name(b->dtype));
    int64_t n = nt_tensor_numel(a);
    if (n < 0 || n != nt_tensor_numel(b)) {
        char da[96], db[96];
        nt_tensor_describe(a, da, sizeof da);
        nt_tensor_describe(b, db, sizeof db);
        return nt_error(NT_ERR_SHAPE, "shapes differ: %s vs %s", da, db);
    }
    enum { CHUNK = 4096 };
    double xa[CHUNK], xb[CHUNK];
    double sum_abs = 0, dot = 0, na = 0, nb = 0, noise = 0;
    int64_t finite = 0;
    for (int64_t off = 0; off < n; off += CHUNK) {
        int64_t m = NT_MIN((int64_t)CHUNK, n - off);
        to_double(a, off, m, xa);
        to_double(b, off, m, xb);
        for (int64_t i = 0; i < m; i++) {
            double x = xa[i], y = xb[i];
            if (isnan(x) || isnan(y)) {
                if (isnan(x) != isnan(y)) {
                    out->nan_mismatch++;
                    out->n_fail++;
                }
                continue;
            }
            if (isinf(x) || isinf(y)) {
                if (x != y) {
                    out->inf_mismatch++;
                    out->n_fail++;
                }
                continue;
            }
            double d = fabs(x - y);
            finite++;
            sum_abs += d;
            if (d > out->max_abs || out->worst < 0) {
                out->max_abs = d;
                out->worst = off + i;
            }
            if (y != 0) {
                double r = d / fabs(y);
                if (r > out->max_rel)
                    out->max_rel = r;
            }
            dot += x * y;
            noise += (x - y) * (x - y);
            na += x * x;
            nb += y * y;
            if (d > atol && d > rtol * fabs(y))
                out->n_fail++;
        }
    }
    out->count = n;
    out->mean_abs = finite ? sum_abs / (double)finite : 0.0;
    out->sqnr_db = noise == 0 ? INFINITY : nb == 0 ? -INFINITY : 10.0 * log10(nb / noise);
    if (na == 0 && nb == 0)
        out->cosine = 1.0;
    else if (na == 0 || nb == 0)
        out->cosine = 0.0;
    else {
        double c = dot / (sqrt(na) * sqrt(nb));
        out->cosine = c > 1 ? 1 : c < -1 ? -1 : c;
    }
    return NT_OK;
}

void nt_diff_worst_at(const nt_tensor *t, int64_t worst, char *buf, size_t len)
{
    int64_t rest = worst, coord[NT_MAX_DIMS];
    for (int d = t->ndim - 1; d >= 0 && rest >= 0; d--) {
        coord[d] = t->dims[d] > 0 ? rest % t->dims[d] : 0;
        rest = t->dims[d] > 0 ? rest / t->dims[d] : 0;
    }
    size_t u = (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < t->ndim && worst >= 0 && u < len; d++)
        u += (size_t)snprintf(buf + u, len - u, "%s%lld", d ? "," : "", (long long)coord[d]);
    if (u < len)
        snprintf(buf + u, len - u, "]");
}

/* ---------------------------------------------------------------- options */

void nt_diff_options_init(nt_diff_options *o)
{
    memset(o, 0, sizeof *o);
    o->atol = 1e-4;
    o->rtol = 1e-3;
}

void nt_diff_options_for(const nt_diff_options *o, const char *output, const char *node, double *atol,
                         double *rtol)
{
    *atol = o->atol;
    *rtol = o->rtol;
    for (int i = 0; i < o->n_tols; i++) {
        const nt_diff_tol *t = &o->tols[i];
        if ((output && fnmatch(t->pattern, output, 0) == 0) || (node && fnmatch(t->pattern, node, 0) == 0)) {
            *atol = t->atol;
            *rtol = t->rtol;
            return;
        }
    }
}

/* ---------------------------------------------------------------- report */

void nt_diff_report_init(nt_diff_report *r)
{
    memset(r, 0, sizeof *r);
    r->first_divergent = -1;
    r->sqnr_jump = -1;
}

static double capped_sqnr(const nt_diff_row *w)
{
    return w->st.sqnr_db > NT_DIFF_SQNR_CAP ? NT_DIFF_SQNR_CAP : w->st.sqnr_db;
}

void nt_diff_report_find_jump(nt_diff_report *r)
{
    /* The first tensor with any noise always "drops" from exact; the jump is
     * the largest fall between consecutive noisy tensors after it, and that
     * first one only when no later tensor is worse than its predecessor. */
    r->sqnr_jump = -1;
    int first = -1;
    double prev = NT_DIFF_SQNR_CAP, best = 0;
    for (int i = 0; i < r->n; i++) {
        const nt_diff_row *w = &r->rows[i];
        if (w->status != NT_DIFF_COMPARED || w->st.count == 0 || isnan(w->st.sqnr_db))
            continue;
        double cur = capped_sqnr(w);
        if (first < 0) {
            if (cur < NT_DIFF_SQNR_CAP)
                first = i;
        } else if (prev - cur > best) {
            best = prev - cur;
            r->sqnr_jump = i;
            r->sqnr_jump_prev = prev;
        }
        prev = cur;
    }
    if (r->sqnr_jump < 0 && first >= 0) {
        r->sqnr_jump = first;
        r->sqnr_jump_prev = NT_DIFF_SQNR_CAP;
    }
}

static void free_names(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

nt_status nt_diff_report_add_only(nt_diff_report *r, bool side_a, const char *name)
{
    char ***v = side_a ? &r->only_a : &r->only_b;
    int *n = side_a ? &r->n_only_a : &r->n_only_b;
    char **nv = nt_realloc(*v, ((size_t)*n + 1) * sizeof *nv);
    if (!nv)
        return NT_ERR_NOMEM;
    *v = nv;
    if (!(nv[*n] = nt_strdup(name)))
        return NT_ERR_NOMEM;
    (*n)++;
    return NT_OK;
}

void nt_diff_report_deinit(nt_diff_report *r)
{
    for (int i = 0; i < r->n; i++) {
        nt_diff_row *w = &r->rows[i];
        free(w->node);
        free(w->op);
        free(w->output);
        free(w->other);
        free(w->error);
    }
    free(r->rows);
    for (int i = 0; i < r->n_inputs; i++) {
        free(r->inputs[i].name);
        free(r->inputs[i].source_a);
        free(r->inputs[i].source_b);
        free(r->inputs[i].error);
    }
    free(r->inputs);
    free_names(r->only_a, r->n_only_a);
    free_names(r->only_b, r->n_only_b);
    free(r->label_a);
    free(r->label_b);
    nt_diff_report_init(r);
}

int nt_diff_report_diverged(const nt_diff_report *r)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        n += !r->rows[i].ok;
    return n;
}

/* null for a value not computed, and for Inf/NaN too: strict JSON readers
 * (jansson, browsers) reject bare Infinity. */
static void json_num_or_null(nt_buf *b, bool have, double v)
{
    if (have && isfinite(v))
        nt_buf_json_double(b, v);
    else
        nt_buf_puts(b, "null");
}

static void json_names(nt_buf *b, char *const *v, int n)
{
    nt_buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        if (i)
            nt_buf_puts(b, ", ");
        nt_buf_json_string(b, v[i]);
    }
    nt_buf_putc(b, ']');
}

void nt_diff_report_json(const nt_diff_report *r, const nt_diff_options *o, nt_buf *b)
{
    const nt_diff_row *fd = r->first_divergent >= 0 ? &r->rows[r->first_divergent] : NULL;
    nt_buf_puts(b, "{\"first_divergent\": ");
    if (fd)
        nt_buf_json_string(b, fd->node);
    else
        nt_buf_puts(b, "null");
    nt_buf_puts(b, ", \"first_divergent_output\": ");
    if (fd)
        nt_buf_json_string(b, fd->output);
    else
        nt_buf_puts(b, "null");
    nt_buf_puts(b, ", \"atol\": ");
    nt_buf_json_double(b, o->atol);
    nt_buf_puts(b, ", \"rtol\": ");
    nt_buf_json_double(b, o->rtol);
    nt_buf_printf(b, ", \"compared\": %d, \"diverged\": %d, \"matched_by_node\": %d", r->n,
                  nt_diff_report_diverged(r), r->n_by_node);
    /* what the runs differ by: their inputs (not the model's fault), a node, or nothing */
    nt_buf_printf(b, ", \"cause\": %s, \"compared_what\": \"%s\", \"inputs_differ\": %d",
                  r->inputs_differ ? "\"inputs\"" : fd ? "\"node\"" : "null", r->from_stats ? "statistics" : "tensors",
                  r->inputs_differ);
    nt_buf_puts(b, ",\n \"inputs\": [");
    for (int i = 0; i < r->n_inputs; i++) {
        const nt_diff_input_row *w = &r->inputs[i];
        bool have = !w->error;
        nt_buf_puts(b, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
        nt_buf_json_string(b, w->name);
        nt_buf_puts(b, ", \"file_a\": ");
        nt_buf_json_string(b, w->source_a);
        nt_buf_puts(b, ", \"file_b\": ");
        nt_buf_json_string(b, w->source_b);
        nt_buf_puts(b, ", \"max_abs\": ");
        json_num_or_null(b, have, w->st.max_abs);
        nt_buf_printf(b, ", \"fail\": %lld, \"count\": %lld, \"worst_at\": ", (long long)w->st.n_fail,
                      (long long)w->st.count);
        nt_buf_json_string(b, w->worst_at);
        nt_buf_puts(b, ", \"shape_a\": ");
        nt_buf_json_string(b, w->shape_a);
        nt_buf_puts(b, ", \"shape_b\": ");
        nt_buf_json_string(b, w->shape_b);
        nt_buf_printf(b, ", \"ok\": %s", w->ok ? "true" : "false");
        if (w->error) {
            nt_buf_puts(b, ", \"error\": ");
            nt_buf_json_string(b, w->error);
        }
        nt_buf_putc(b, '}');
    }
    nt_buf_puts(b, r->n_inputs ? "\n ]" : "]");
    nt_buf_puts(b, ",\n \"nodes\": [");
    for (int i = 0; i < r->n; i++) {
        const nt_diff_row *w = &r->rows[i];
        bool have = w->status == NT_DIFF_COMPARED;
        nt_buf_puts(b, i ? ",\n  {\"node\": " : "\n  {\"node\": ");
        nt_buf_json_string(b, w->node);
        nt_buf_puts(b, ", \"op\": ");
        nt_buf_json_string(b, w->op ? w->op : "");
        nt_buf_puts(b, ", \"output\": ");
        nt_buf_json_string(b, w->output);
        nt_buf_printf(b, ", \"index\": %d, \"max_abs\": ", i);
        json_num_or_null(b, have, w->st.max_abs);
        nt_buf_puts(b, ", \"max_rel\": ");
        json_num_or_null(b, have, w->st.max_rel);
        nt_buf_puts(b, ", \"mean_abs\": ");
        json_num_or_null(b, have, w->st.mean_abs);
        nt_buf_puts(b, ", \"cosine\": ");
        json_num_or_null(b, have, w->st.cosine);
        nt_buf_puts(b, ", \"sqnr_db\": ");
        json_num_or_null(b, have && isfinite(w->st.sqnr_db), w->st.sqnr_db);
        nt_buf_printf(b, ", \"nan_mismatch\": %lld, \"inf_mismatch\": %lld, \"fail\": %lld, \"count\": %lld",
                      (long long)w->st.nan_mismatch, (long long)w->st.inf_mismatch, (long long)w->st.n_fail,
                      (long long)w->st.count);
        nt_buf_puts(b, ", \"worst_at\": ");
        nt_buf_json_string(b, w->worst_at);
        nt_buf_printf(b, ", \"worst_index\": %lld, \"ok\": %s, \"atol\": ", (long long)w->st.worst,
                      w->ok ? "true" : "false");
        nt_buf_json_double(b, w->atol);
        nt_buf_puts(b, ", \"rtol\": ");
        nt_buf_json_double(b, w->rtol);
        nt_buf_puts(b, ", \"shape_a\": ");
        nt_buf_json_string(b, w->shape_a);
        nt_buf_puts(b, ", \"shape_b\": ");
        nt_buf_json_string(b, w->shape_b);
        nt_buf_printf(b, ", \"matched_by\": \"%s\"", w->by_dequantize ? "dequantize" : w->other ? "node" : "output");
        if (r->from_stats && w->stat[0]) {
            nt_buf_printf(b, ", \"statistic\": \"%s\", \"stat_a\": ", w->stat);
            json_num_or_null(b, true, w->stat_a);
            nt_buf_puts(b, ", \"stat_b\": ");
            json_num_or_null(b, true, w->stat_b);
        }
        if (w->other) {
            nt_buf_puts(b, ", \"other_output\": ");
            nt_buf_json_string(b, w->other);
        }
        if (w->error) {
            nt_buf_puts(b, ", \"error\": ");
            nt_buf_json_string(b, w->error);
        }
        nt_buf_putc(b, '}');
    }
    nt_buf_puts(b, "\n ],\n \"sqnr_jump\": ");
    if (r->sqnr_jump >= 0) {
        const nt_diff_row *w = &r->rows[r->sqnr_jump];
        nt_buf_puts(b, "{\"node\": ");
        nt_buf_json_string(b, w->node);
        nt_buf_puts(b, ", \"output\": ");
        nt_buf_json_string(b, w->output);
        nt_buf_printf(b, ", \"index\": %d, \"sqnr_db\": ", r->sqnr_jump);
        json_num_or_null(b, isfinite(w->st.sqnr_db), w->st.sqnr_db);
        nt_buf_puts(b, ", \"previous_sqnr_db\": ");
        nt_buf_json_double(b, r->sqnr_jump_prev);
        nt_buf_puts(b, ", \"drop_db\": ");
        nt_buf_json_double(b, r->sqnr_jump_prev - capped_sqnr(w));
        nt_buf_putc(b, '}');
    } else {
        nt_buf_puts(b, "null");
    }
    nt_buf_puts(b, ",\n \"only_in_a\": ");
    json_names(b, r->only_a, r->n_only_a);
    nt_buf_puts(b, ",\n \"only_in_b\": ");
    json_names(b, r->only_b, r->n_only_b);
    nt_buf_puts(b, "}\n");
}

/* s shortened from the left to at most w characters ("..." + tail), since
 * the end of a node path ("/layer4/conv2/Conv") says the most. */
static void put_col(nt_buf *b, const char *s, int w)
{
    int len = (int)strlen(s);
    if (len > w && w > 3)
        nt_buf_printf(b, "...%s", s + len - (w - 3));
    else
        nt_buf_printf(b, "%-*s", w, s);
}

/* The graph-input section: a plain statement when they differ, since every
 * divergence downstream follows from it. */
static void text_inputs(const nt_diff_report *r, nt_buf *b)
{
    if (r->n_inputs == 0)
        return;
    if (!r->inputs_differ) {
        nt_buf_puts(b, "graph inputs: equal (");
        for (int i = 0; i < r->n_inputs; i++)
            nt_buf_printf(b, "%s%s%s", i ? ", " : "", r->inputs[i].name, r->inputs[i].error ? " not compared" : "");
        nt_buf_puts(b, ")\n");
        return;
    }
    nt_buf_printf(b, "GRAPH INPUTS DIFFER between A and B (%d of %d) -- the likely cause of any divergence below,\n"
                     "not the model:\n", r->inputs_differ, r->n_inputs);
    for (int i = 0; i < r->n_inputs; i++) {
        const nt_diff_input_row *w = &r->inputs[i];
        nt_buf_printf(b, "  %s: ", w->name);
        if (w->error)
            nt_buf_printf(b, "%s", w->error);
        else if (w->ok)
            nt_buf_puts(b, "equal");
        else
            nt_buf_printf(b, "max_abs %.6g at %s, %lld of %lld elements differ", nt_printable(w->st.max_abs),
                          w->worst_at, (long long)w->st.n_fail, (long long)w->st.count);
        nt_buf_printf(b, " (A: %s, B: %s)\n", w->source_a, w->source_b);
    }
}

void nt_diff_report_text(const nt_diff_report *r, const nt_diff_options *o, bool only_failing, nt_buf *b)
{
    int wn = 4, wo = 2;
    for (int i = 0; i < r->n; i++) {
        wn = NT_MAX(wn, (int)strlen(r->rows[i].node));
        wo = NT_MAX(wo, (int)strlen(r->rows[i].op ? r->rows[i].op : ""));
    }
    wn = NT_MIN(wn, 44);
    wo = NT_MIN(wo, 18);
    if (r->label_a && r->label_b)
        nt_buf_printf(b, "A: %s\nB: %s (reference)\n", r->label_a, r->label_b);
    nt_buf_printf(b, "tolerance: |a-b| > %g and |a-b| > %g*|b| fails %s\n", o->atol, o->rtol,
                  r->from_stats ? "a statistic" : "an element");
    text_inputs(r, b);
    if (r->from_stats)
        nt_buf_puts(b, "compared per-node STATISTICS (stats.jsonl: count, NaN/Inf counts, min, max, mean, std), not\n"
                       "tensors: a run has no tensor dumps (record with --trace dump to compare values). Different\n"
                       "statistics prove a divergence; equal ones do not prove equal tensors.\n");
    nt_buf_printf(b, "\n%4s  ", "#");
    put_col(b, "node", wn);
    nt_buf_puts(b, "  ");
    put_col(b, "op", wo);
    if (r->from_stats)
        nt_buf_printf(b, "  %-9s %12s %12s %10s %10s\n", "statistic", "a", "b", "|a-b|", "failing");
    else
        nt_buf_printf(b, "  %10s %10s %10s %9s %8s %14s\n", "max_abs", "max_rel", "mean_abs", "cosine", "sqnr_dB",
                      "fail/count");
    int shown = 0;
    for (int i = 0; i < r->n; i++) {
        const nt_diff_row *w = &r->rows[i];
        if (only_failing && w->ok)
            continue;
        shown++;
        nt_buf_printf(b, "%4d  ", i);
        put_col(b, w->node, wn);
        nt_buf_puts(b, "  ");
        put_col(b, w->op ? w->op : "", wo);
        if (w->status != NT_DIFF_COMPARED) {
            nt_buf_printf(b, "  %s", w->error ? w->error : "not compared");
        } else if (r->from_stats) {
            nt_buf_printf(b, "  %-9s %12.6g %12.6g %10.3g %10lld", w->stat[0] ? w->stat : "-", nt_printable(w->stat_a),
                          nt_printable(w->stat_b), nt_printable(w->st.max_abs), (long long)w->st.n_fail);
        } else {
            char fail[40];
            snprintf(fail, sizeof fail, "%lld/%lld", (long long)w->st.n_fail, (long long)w->st.count);
            char sq[24];
            if (isfinite(w->st.sqnr_db))
                snprintf(sq, sizeof sq, "%.1f", w->st.sqnr_db);
            else
                snprintf(sq, sizeof sq, "%s", w->st.sqnr_db > 0 ? "exact" : "-inf");
            nt_buf_printf(b, "  %10.3g %10.3g %10.3g %9.6f %8s %14s", nt_printable(w->st.max_abs),
                          nt_printable(w->st.max_rel), nt_printable(w->st.mean_abs), nt_printable(w->st.cosine), sq,
                          fail);
            if (w->st.nan_mismatch)
                nt_buf_printf(b, " nan-mismatch=%lld", (long long)w->st.nan_mismatch);
            if (w->st.inf_mismatch)
                nt_buf_printf(b, " inf-mismatch=%lld", (long long)w->st.inf_mismatch);
        }
        if (i == r->first_divergent)
            nt_buf_puts(b, "  <-- first divergent");
        else if (!w->ok)
            nt_buf_puts(b, "  DIVERGES");
        nt_buf_putc(b, '\n');
    }
    if (only_failing && shown == 0)
        nt_buf_puts(b, r->from_stats ? "   (no divergent statistics)\n" : "   (no divergent tensors)\n");
    int div = nt_diff_report_diverged(r);
    nt_buf_printf(b, "\ncompared %d %s", r->n, r->from_stats ? "outputs' statistics" : "tensors");
    if (r->n_by_node)
        nt_buf_printf(b, " (%d matched by node name)", r->n_by_node);
    if (r->n_only_a || r->n_only_b)
        nt_buf_printf(b, "; %d only in A, %d only in B", r->n_only_a, r->n_only_b);
    nt_buf_printf(b, "; %d diverge\n", div);
    if (r->first_divergent >= 0) {
        const nt_diff_row *w = &r->rows[r->first_divergent];
        nt_buf_printf(b, "first divergent node%s: %s (%s), output %s", r->from_stats ? " (by statistics)" : "",
                      w->node, w->op ? w->op : "?", w->output);
        if (w->status == NT_DIFF_COMPARED && r->from_stats)
            nt_buf_printf(b, ": %s %.6g vs %.6g, %lld statistic%s out of tolerance", w->stat, nt_printable(w->stat_a),
                          nt_printable(w->stat_b), (long long)w->st.n_fail, w->st.n_fail == 1 ? "" : "s");
        else if (w->status == NT_DIFF_COMPARED)
            nt_buf_printf(b, ": max_abs %.6g at %s (element %lld), %lld of %lld elements fail",
                          nt_printable(w->st.max_abs), w->worst_at[0] ? w->worst_at : "?", (long long)w->st.worst,
                          (long long)w->st.n_fail, (long long)w->st.count);
        else if (w->error)
            nt_buf_printf(b, ": %s", w->error);
        nt_buf_putc(b, '\n');
        if (r->inputs_differ)
            nt_buf_puts(b, "  this node reads what the differing graph inputs fed it: the runs were given different\n"
                           "  inputs, the likely cause (not this node); diff runs made on the same inputs\n");
    } else if (r->n > 0 && r->from_stats) {
        nt_buf_puts(b, "no divergence in the statistics (the tensors themselves were not compared)\n");
    } else if (r->n > 0) {
        nt_buf_puts(b, "no divergence\n");
    }
    if (r->sqnr_jump >= 0) {
        const nt_diff_row *w = &r->rows[r->sqnr_jump];
        char sq[24];
        snprintf(sq, sizeof sq, isfinite(w->st.sqnr_db) ? "%.1f dB" : "-inf dB", w->st.sqnr_db);
        nt_buf_printf(b, "largest SQNR drop: #%d %s (%s), output %s: %.1f -> %s\n", r->sqnr_jump, w->node,
                      w->op ? w->op : "?", w->output, r->sqnr_jump_prev, sq);
    }
}
