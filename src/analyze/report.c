/*
 * report.c — nt_report_run (include/nntrace/analysis.h): training diagnosed
 * from the scalar curves of event files, whoever wrote them.  Each
 * directory's curves (report_curves.c) pair up by convention (curves.h:
 * nt_tag_is_pair) or as given; the analysis is nt_curve_analyze_set
 * (src/metrics/curve_set.c), the same call the dashboard makes, so both
 * name the same onset.  Nothing is written into the directories read; SVG
 * plots only into options.plots.
 */
#include "analyze/report_curves.h"
#include "trace/tracers.h"
#include "viz/plot_svg.h"
#include "nntrace/analysis.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- analysis */

typedef struct dir_report {
    const char *dir;
    curve_set cs;
    nt_series *series; /* views of cs's curves, same order */
    nt_curve_pair *pairs;
    int n_pairs;
    nt_curve_findings f;
} dir_report;

static nt_status find_pairs(const nt_report_options *o, dir_report *d)
{
    curve_set *cs = &d->cs;
    d->pairs = nt_calloc((size_t)cs->n + 1, sizeof *d->pairs);
    d->series = nt_calloc((size_t)cs->n + 1, sizeof *d->series);
    if (!d->pairs || !d->series)
        return NT_ERR_NOMEM;
    for (int i = 0; i < cs->n; i++)
        d->series[i] = nt_rcurves_series(&cs->c[i]);
    if (o->train_tag) {
        int t = nt_rcurves_find(cs, o->train_tag), v = nt_rcurves_find(cs, o->val_tag);
        if (t < 0 || v < 0) {
            nt_buf b;
            nt_buf_init(&b);
            for (int i = 0; i < cs->n; i++)
                nt_buf_printf(&b, "\n  %s", cs->c[i].tag);
            nt_status st = nt_error(NT_ERR_INVALID_ARG, "%s: no scalar tag '%s'; the tags are:%s", d->dir,
                                    t < 0 ? o->train_tag : o->val_tag, b.data ? b.data : "");
            nt_buf_deinit(&b);
            return st;
        }
        nt_tag_kind k = nt_tag_kind_of(o->val_tag);
        d->pairs[d->n_pairs++] = (nt_curve_pair){t, v, k == NT_TAG_SCORE ? NT_TAG_SCORE : NT_TAG_LOSS};
        return NT_OK;
    }
    return nt_curve_find_pairs(d->series, cs->n, d->pairs, &d->n_pairs);
}

/* ---------------------------------------------------------------- output */

static void finding_json(nt_buf *b, const nt_curve_finding *f, const char *run)
{
    nt_buf_puts(b, "{\"kind\": ");
    nt_buf_json_string(b, f->kind);
    nt_buf_printf(b, ", \"severity\": \"%s\", \"tag\": ", nt_curve_severity_name(f->severity));
    nt_buf_json_string(b, f->tag);
    if (f->train_tag[0]) {
        nt_buf_puts(b, ", \"train_tag\": ");
        nt_buf_json_string(b, f->train_tag);
    }
    if (f->has_step)
        nt_buf_printf(b, ", \"step\": %lld", (long long)f->step);
    else
        nt_buf_puts(b, ", \"step\": null");
    nt_buf_puts(b, ", \"value\": ");
    nt_buf_json_double(b, f->value);
    nt_buf_puts(b, ", \"detail\": ");
    nt_buf_json_string(b, f->detail);
    if (run) {
        nt_buf_puts(b, ", \"run\": ");
        nt_buf_json_string(b, run);
    }
    nt_buf_putc(b, '}');
}

static void run_json(nt_buf *b, const dir_report *d)
{
    nt_buf_puts(b, "{\"dir\": ");
    nt_buf_json_string(b, d->dir);
    nt_buf_printf(b, ", \"event_files\": %d, \"bad_records\": %llu, \"damaged\": [", d->cs.files,
                  (unsigned long long)d->cs.bad_records);
    if (d->cs.n_damaged)
        nt_buf_append(b, d->cs.damaged.data, d->cs.damaged.len);
    nt_buf_printf(b, "], \"tags\": %d, \"pairs\": [", d->cs.n);
    for (int k = 0; k < d->n_pairs; k++) {
        nt_buf_puts(b, k ? ", {\"train\": " : "{\"train\": ");
        nt_buf_json_string(b, d->cs.c[d->pairs[k].train].tag);
        nt_buf_puts(b, ", \"val\": ");
        nt_buf_json_string(b, d->cs.c[d->pairs[k].val].tag);
        nt_buf_printf(b, ", \"kind\": \"%s\"}", d->pairs[k].kind == NT_TAG_SCORE ? "score" : "loss");
    }
    nt_buf_puts(b, "]}");
}

/* Smoothed copy of a curve's finite values (for drawing). */
static double *smoothed(const curve *c, double **xs, int64_t *n)
{
    double *y = nt_malloc((size_t)(c->n + 1) * sizeof *y), *s = nt_malloc((size_t)(c->n + 1) * sizeof *s);
    *xs = nt_malloc((size_t)(c->n + 1) * sizeof **xs);
    if (!y || !s || !*xs) {
        free(y);
        free(s);
        free(*xs);
        *xs = NULL;
        return NULL;
    }
    int64_t m = 0;
    for (int64_t i = 0; i < c->n; i++)
        if (isfinite(c->values[i])) {
            (*xs)[m] = (double)c->steps[i];
            y[m++] = c->values[i];
        }
    if (nt_curve_smooth(y, m, nt_curve_half_window(m), s) != NT_OK) {
        free(y);
        free(s);
        free(*xs);
        *xs = NULL;
        return NULL;
    }
    free(y);
    *n = m;
    return s;
}

/* One SVG: the raw curves faint, smoothed ones solid, findings about either
 * tag as markers (onsets and starts as dashed lines, NaNs at the top). */
static nt_status plot_curves(const dir_report *d, int a, int b, const char *outdir, int index)
{
    static const char *const colors[2] = {"#1f77b4", "#ff7f0e"};
    const curve *cv[2] = {&d->cs.c[a], b >= 0 ? &d->cs.c[b] : NULL};
    nt_plot_series series[4];
    double *sx[2] = {NULL, NULL}, *sy[2] = {NULL, NULL}, *rx[2] = {NULL, NULL};
    int ns = 0;
    nt_status st = NT_OK;
    for (int k = 0; k < 2; k++) {
        if (!cv[k])
            continue;
        rx[k] = nt_malloc((size_t)(cv[k]->n + 1) * sizeof(double));
        if (!rx[k]) {
            st = NT_ERR_NOMEM;
            goto done;
        }
        for (int64_t i = 0; i < cv[k]->n; i++)
            rx[k][i] = (double)cv[k]->steps[i];
        series[ns++] = (nt_plot_series){NULL, cv[k]->n, rx[k], cv[k]->values, colors[k], 1.0, 0.3, false};
    }
    for (int k = 0; k < 2; k++) {
        if (!cv[k])
            continue;
        int64_t m = 0;
        sy[k] = smoothed(cv[k], &sx[k], &m);
        if (!sy[k]) {
            st = NT_ERR_NOMEM;
            goto done;
        }
        series[ns++] = (nt_plot_series){cv[k]->tag, m, sx[k], sy[k], colors[k], 2.0, 1.0, false};
    }
    nt_plot_marker marks[16];
    char labels[16][96];
    int nm = 0;
    for (int i = 0; i < d->f.n && nm < 16; i++) {
        const nt_curve_finding *f = &d->f.v[i];
        bool about = strcmp(f->tag, cv[0]->tag) == 0 || (cv[1] && strcmp(f->tag, cv[1]->tag) == 0);
        if (!about || !f->has_step || strcmp(f->kind, "generalization_gap") == 0)
            continue;
        snprintf(labels[nm], sizeof labels[nm], "%s @ %lld", f->kind, (long long)f->step);
        marks[nm] = (nt_plot_marker){(double)f->step, NAN, labels[nm],
                                     f->severity == NT_CURVE_ERROR     ? "#d62728"
                                     : f->severity == NT_CURVE_WARNING ? "#e377c2"
                                                                       : "#7f7f7f"};
        nm++;
    }
    char title[600];
    if (cv[1])
        snprintf(title, sizeof title, "%s vs %s", cv[0]->tag, cv[1]->tag);
    else
        snprintf(title, sizeof title, "%s", cv[0]->tag);
    nt_plot p = {title, "step", NULL, 0, 0, false, ns, series, nm, marks};
    nt_buf svg;
    nt_buf_init(&svg);
    st = nt_plot_svg(&p, &svg);
    if (st == NT_OK) {
        char safe[300], path[4096];
        nt_sanitize_name(cv[cv[1] ? 1 : 0]->tag, safe, sizeof safe);
        snprintf(path, sizeof path, "%s/%02d-%s.svg", outdir, index, safe);
        st = nt_write_file(path, svg.data, svg.len);
    } else if (st == NT_ERR_INVALID_ARG) {
        st = NT_OK; /* nothing finite to draw */
    }
    nt_buf_deinit(&svg);
done:
    for (int k = 0; k < 2; k++) {
        free(sx[k]);
        free(sy[k]);
        free(rx[k]);
    }
    return st;
}

/* Plots of every pair and every unpaired loss curve (at most 64). */
static nt_status write_plots(const dir_report *d, const char *outdir)
{
    nt_status st = nt_mkdirs(outdir);
    int index = 0;
    for (int k = 0; k < d->n_pairs && st == NT_OK && index < 64; k++)
        st = plot_curves(d, d->pairs[k].train, d->pairs[k].val, outdir, index++);
    for (int i = 0; i < d->cs.n && st == NT_OK && index < 64; i++) {
        bool paired = false;
        for (int k = 0; k < d->n_pairs; k++)
            paired |= d->pairs[k].train == i || d->pairs[k].val == i;
        if (!paired && nt_tag_kind_of(d->cs.c[i].tag) == NT_TAG_LOSS)
            st = plot_curves(d, i, -1, outdir, index++);
    }
    return st;
}

static void print_text(const dir_report *d, nt_buf *b)
{
    nt_buf_printf(b, "%s: %d event file%s, %d scalar tag%s, %d train/validation pair%s", d->dir, d->cs.files,
           d->cs.files == 1 ? "" : "s", d->cs.n, d->cs.n == 1 ? "" : "s", d->n_pairs, d->n_pairs == 1 ? "" : "s");
    if (d->cs.bad_records)
        nt_buf_printf(b, ", %llu corrupt record%s skipped", (unsigned long long)d->cs.bad_records,
               d->cs.bad_records == 1 ? "" : "s");
    nt_buf_printf(b, "\n");
    for (int k = 0; k < d->n_pairs; k++)
        nt_buf_printf(b, "  pair: %s / %s\n", d->cs.c[d->pairs[k].train].tag, d->cs.c[d->pairs[k].val].tag);
    if (!d->f.n)
        nt_buf_printf(b, "  no findings\n");
    /* errors first, then warnings, then info */
    for (int sev = NT_CURVE_ERROR; sev >= NT_CURVE_INFO; sev--)
        for (int i = 0; i < d->f.n; i++) {
            const nt_curve_finding *f = &d->f.v[i];
            if ((int)f->severity != sev)
                continue;
            nt_buf_printf(b, "  %-7s %-18s %s", nt_curve_severity_name(f->severity), f->kind, f->tag);
            if (f->has_step)
                nt_buf_printf(b, " @ step %lld", (long long)f->step);
            nt_buf_printf(b, "\n          %s\n", f->detail);
        }
}


struct nt_report_result {
    nt_report_options opts;
    dir_report *reps;
    int n;             /* directories read so far */
    nt_curve_severity worst;
};

/* One directory: its curves, pairs, findings, and plots when asked. */
static nt_status report_dir(nt_report_result *r, int i)
{
    const nt_report_options *o = &r->opts;
    dir_report *d = &r->reps[i];
    d->dir = o->dirs[i];
    d->cs.log = o->log;
    nt_curve_findings_init(&d->f);
    r->n = i + 1;
    struct stat sb;
    if (stat(d->dir, &sb) != 0)
        return nt_error(NT_ERR_IO, "%s: %s", d->dir, strerror(errno));
    bool incomplete = false;
    if (S_ISDIR(sb.st_mode)) {
        char why[1400];
        if (nt_rundir_inspect(d->dir, why, sizeof why) != NT_RUNDIR_COMPLETE) {
            incomplete = true;
            if (o->log)
                fprintf(o->log, "nntrace report: warning: incomplete run directory: %s; using what is there\n", why);
        }
    }
    nt_status st = S_ISDIR(sb.st_mode) ? nt_rcurves_read_tree(&d->cs, d->dir, "", 0)
                                       : nt_rcurves_read_file(&d->cs, d->dir, "");
    if (st == NT_OK)
        st = nt_rcurves_finish(&d->cs);
    if (st != NT_OK)
        return st == NT_ERR_INVALID_ARG ? NT_ERR_PARSE : st;   /* bad input, not a misused option */
    if ((d->cs.files == 0 || d->cs.n == 0) && incomplete) {
        /* a run killed before its first scalars: nothing to diagnose, and said so above */
        if (o->log)
            fprintf(o->log, "nntrace report: %s: no scalars recorded yet\n", d->dir);
    } else if (d->cs.files == 0 || d->cs.n == 0) {
        return nt_error(NT_ERR_NOT_FOUND, "%s: %s", d->dir,
                        d->cs.files ? "the event files hold no scalars" : "no event files (*tfevents*) here");
    }
    if ((st = find_pairs(o, d)) != NT_OK)
        return st;
    if ((st = nt_curve_analyze_set(d->series, d->cs.n, d->pairs, d->n_pairs, &d->f)) != NT_OK)
        return st;
    nt_curve_severity m = nt_curve_findings_max(&d->f);
    r->worst = m > r->worst ? m : r->worst;
    if (!o->plots)
        return NT_OK;
    char outdir[4096];
    if (o->n_dirs == 1) {
        snprintf(outdir, sizeof outdir, "%s", o->plots);
    } else {
        char safe[256];
        nt_sanitize_name(d->dir, safe, sizeof safe);
        snprintf(outdir, sizeof outdir, "%s/%d-%s", o->plots, i, safe);
    }
    if ((st = write_plots(d, outdir)) != NT_OK) {
        char why[1024];
        snprintf(why, sizeof why, "%s", nt_last_error());
        return nt_error(NT_ERR_IO, "cannot write the plots into %s: %s", outdir, why);
    }
    return NT_OK;
}

nt_status nt_report_run(const nt_report_options *o, nt_report_result **out)
{
    *out = NULL;
    if (o->n_dirs < 1 || !o->train_tag != !o->val_tag)
        return nt_error(NT_ERR_INVALID_ARG, "report: no directory, or only one of the train and val tags");
    nt_report_result *r = nt_calloc(1, sizeof *r);
    if (!r)
        return NT_ERR_NOMEM;
    r->opts = *o;
    r->worst = NT_CURVE_INFO;
    r->reps = nt_calloc((size_t)o->n_dirs, sizeof *r->reps);
    nt_status st = r->reps ? NT_OK : NT_ERR_NOMEM;
    for (int i = 0; i < o->n_dirs && st == NT_OK; i++)
        st = report_dir(r, i);
    if (st != NT_OK) {
        nt_report_result_free(r);
        return st;
    }
    *out = r;
    return NT_OK;
}

int nt_report_result_worst(const nt_report_result *r)
{
    return r->worst == NT_CURVE_ERROR ? 2 : r->worst == NT_CURVE_WARNING ? 1 : 0;
}

static nt_status finish(nt_buf *b, char **out, size_t *len)
{
    if (b->failed) {
        nt_buf_deinit(b);
        return nt_error(NT_ERR_NOMEM, "out of memory");
    }
    if (len)
        *len = b->len;
    *out = b->data ? b->data : nt_strdup("");
    return *out ? NT_OK : NT_ERR_NOMEM;
}

nt_status nt_report_result_json(const nt_report_result *r, char **out, size_t *len)
{
    nt_buf b;
    nt_buf_init(&b);
    nt_buf_puts(&b, "{\"findings\": [");
    int k = 0;
    for (int i = 0; i < r->n; i++)
        for (int j = 0; j < r->reps[i].f.n; j++) {
            if (k++)
                nt_buf_puts(&b, ",\n  ");
            finding_json(&b, &r->reps[i].f.v[j], r->reps[i].dir);
        }
    nt_buf_puts(&b, "], \"runs\": [");
    for (int i = 0; i < r->n; i++) {
        if (i)
            nt_buf_puts(&b, ", ");
        run_json(&b, &r->reps[i]);
    }
    nt_buf_puts(&b, "]}\n");
    return finish(&b, out, len);
}

nt_status nt_report_result_text(const nt_report_result *r, char **out, size_t *len)
{
    nt_buf b;
    nt_buf_init(&b);
    for (int i = 0; i < r->n; i++)
        print_text(&r->reps[i], &b);
    return finish(&b, out, len);
}

void nt_report_result_free(nt_report_result *r)
{
    if (!r)
        return;
    for (int i = 0; r->reps && i < r->n; i++) {
        nt_rcurves_free(&r->reps[i].cs);
        free(r->reps[i].pairs);
        free(r->reps[i].series);
        nt_curve_findings_deinit(&r->reps[i].f);
    }
    free(r->reps);
    free(r);
}
