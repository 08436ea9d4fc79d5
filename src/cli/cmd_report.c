/*
 * cmd_report.c — `nntrace report DIR...`: diagnoses training from the
 * scalar curves in TensorBoard event files, whoever wrote them (nntrace's
 * writer, TensorFlow, PyTorch, Keras, ...).
 *
 * For each DIR: every event file in it and in its subdirectories (up to
 * three levels; a subdirectory's tags get its path as a prefix, so Keras's
 * train/ and validation/ runs become train/epoch_loss and
 * validation/epoch_loss) is read; a tag logged more than once at a step
 * keeps its last value (restarted runs).  Tags pair up by convention
 * (curves.h: nt_tag_is_pair) or as given by --train/--val; the analysis is
 * nt_curve_analyze_set (src/metrics/curve_set.c), the same call the
 * dashboard makes, so both name the same onset.  Findings go to stdout (text
 * or JSON).  Nothing is written into the directories read: the JSON goes to
 * a file only with -o FILE, SVG plots only with --plots DIR, and a write
 * that fails exits 2 naming the file.  Event files that are damaged
 * (corrupt records skipped, a record cut off at the end) are named with
 * what is wrong, on stderr and in the JSON.
 */
#include "cli/cli.h"
#include "cli/cli_trace.h"
#include "cli/cli_model.h"
#include "core/core.h"
#include "metrics/curves.h"
#include "trace/tfevents.h"
#include "viz/plot_svg.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char nt_usage_report[] =
    "usage: nntrace report DIR... [--json] [-o FILE] [--train TAG --val TAG] [--plots DIR]\n"
    "                      [--strict]\n"
    "\n"
    "Diagnoses training from the scalar curves in TensorBoard event files (written by\n"
    "nntrace or any other program) in each DIR and its subdirectories:\n"
    "  overfitting         validation loss (or score) gets worse after its best step while\n"
    "                      training keeps improving; the step is the onset (best checkpoint)\n"
    "  generalization_gap  validation vs training at the end (warning when val loss is more\n"
    "                      than twice training loss, or a score trails by more than 10%)\n"
    "  divergence          a loss that becomes NaN/Inf, or climbs back far above its best\n"
    "  rising              a smaller, sustained rise of a training loss\n"
    "  plateau             a loss flat within its noise to the end (warning if it stalled\n"
    "                      above half its starting value)\n"
    "  oscillation         swings large against the progress made (learning rate too high?)\n"
    "  data_sizes, small_validation, split_mismatch\n"
    "                      from logged sizes (data/train_size, n_val, ...) and a declared\n"
    "                      split (validation_split, split/val_fraction, ...)\n"
    "Changes are judged against each curve's own noise, so noisy healthy runs stay quiet.\n"
    "\n"
    "Tags pair by convention: loss/train with loss/val, train_loss with val_loss,\n"
    "X/training with X/validation, train/X with eval/X, X with val_X (Keras); the words\n"
    "train/training and val/valid/validation/eval/dev are recognized.\n"
    "\n"
    "  --train TAG --val TAG  analyse this pair (instead of the pairs found by convention)\n"
    "  --json             print {\"findings\": [{\"kind\", \"severity\", \"tag\", \"train_tag\",\n"
    "                     \"step\", \"value\", \"detail\", \"run\"}], \"runs\": [...]}\n"
    "  -o FILE            also write that JSON to FILE\n"
    "  --plots DIR        write SVG plots of the curves, findings marked, into DIR\n"
    "                     (values drawn solid are smoothed; the raw curve is faint)\n"
    "Nothing is written into the directories read.  Damaged event files (corrupt records\n"
    "skipped, a record cut off at the end) are named on stderr and in the JSON.\n"
    "  --strict           exit 3 on warnings too\n"
    "\n"
    "exit codes: 0 no finding of severity error, 1 usage error, 2 a DIR with no readable\n"
    "event files or no scalars, or -o/--plots could not be written, 3 a finding of severity error (divergence: NaN/Inf or a\n"
    "diverging loss), or with --strict any warning (e.g. overfitting).\n";

typedef struct report_opts {
    const char *dirs[256];
    int n_dirs;
    const char *train_tag, *val_tag, *plots, *out;
    bool json, strict;
} report_opts;

/* ---------------------------------------------------------------- scalars */

typedef struct point {
    int64_t step, seq;
    double v;
} point;

typedef struct curve {
    char *tag;
    point *p;
    int64_t n, cap;
    /* after finish(): the series view */
    int64_t *steps;
    double *values;
} curve;

typedef struct curve_set {
    curve *c;
    int n, cap;
    int *slots;     /* open addressing: index + 1, 0 empty */
    int n_slots;
    int64_t seq;
    int files;
    uint64_t bad_records;
    nt_buf damaged;  /* JSON objects {"file", "problem"} joined by ", " */
    int n_damaged;
} curve_set;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void set_free(curve_set *cs)
{
    for (int i = 0; i < cs->n; i++) {
        free(cs->c[i].tag);
        free(cs->c[i].p);
        free(cs->c[i].steps);
        free(cs->c[i].values);
    }
    free(cs->c);
    free(cs->slots);
    nt_buf_deinit(&cs->damaged);
    memset(cs, 0, sizeof *cs);
}

static int set_find(const curve_set *cs, const char *tag)
{
    if (!cs->n_slots)
        return -1;
    for (uint64_t h = hash_str(tag);; h++) {
        int s = cs->slots[h & (uint64_t)(cs->n_slots - 1)];
        if (!s)
            return -1;
        if (strcmp(cs->c[s - 1].tag, tag) == 0)
            return s - 1;
    }
}

static nt_status set_rehash(curve_set *cs, int n_slots)
{
    int *slots = nt_calloc((size_t)n_slots, sizeof *slots);
    if (!slots)
        return NT_ERR_NOMEM;
    for (int i = 0; i < cs->n; i++) {
        uint64_t h = hash_str(cs->c[i].tag);
        while (slots[h & (uint64_t)(n_slots - 1)])
            h++;
        slots[h & (uint64_t)(n_slots - 1)] = i + 1;
    }
    free(cs->slots);
    cs->slots = slots;
    cs->n_slots = n_slots;
    return NT_OK;
}

static nt_status set_add(curve_set *cs, const char *tag, int64_t step, double v)
{
    int i = set_find(cs, tag);
    if (i < 0) {
        if (cs->n == cs->cap) {
            int cap = cs->cap ? 2 * cs->cap : 32;
            curve *c = nt_realloc(cs->c, (size_t)cap * sizeof *c);
            if (!c)
                return NT_ERR_NOMEM;
            cs->c = c;
            cs->cap = cap;
        }
        curve *c = &cs->c[cs->n];
        memset(c, 0, sizeof *c);
        if (!(c->tag = nt_strdup(tag)))
            return NT_ERR_NOMEM;
        i = cs->n++;
        if (2 * cs->n > cs->n_slots) {
            nt_status st = set_rehash(cs, cs->n_slots ? 2 * cs->n_slots : 64);
            if (st != NT_OK)
                return st;
        } else {
            uint64_t h = hash_str(tag);
            while (cs->slots[h & (uint64_t)(cs->n_slots - 1)])
                h++;
            cs->slots[h & (uint64_t)(cs->n_slots - 1)] = i + 1;
        }
    }
    curve *c = &cs->c[i];
    if (c->n == c->cap) {
        int64_t cap = c->cap ? 2 * c->cap : 64;
        point *p = nt_realloc(c->p, (size_t)cap * sizeof *p);
        if (!p)
            return NT_ERR_NOMEM;
        c->p = p;
        c->cap = cap;
    }
    c->p[c->n++] = (point){step, cs->seq++, v};
    return NT_OK;
}

static int cmp_point(const void *a, const void *b)
{
    const point *x = a, *y = b;
    if (x->step != y->step)
        return x->step < y->step ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Orders each curve by step and keeps the last value written at a step. */
static nt_status set_finish(curve_set *cs)
{
    for (int i = 0; i < cs->n; i++) {
        curve *c = &cs->c[i];
        qsort(c->p, (size_t)c->n, sizeof *c->p, cmp_point);
        c->steps = nt_malloc((size_t)(c->n + 1) * sizeof *c->steps);
        c->values = nt_malloc((size_t)(c->n + 1) * sizeof *c->values);
        if (!c->steps || !c->values)
            return NT_ERR_NOMEM;
        int64_t m = 0;
        for (int64_t j = 0; j < c->n; j++) {
            if (m > 0 && c->steps[m - 1] == c->p[j].step)
                m--;
            c->steps[m] = c->p[j].step;
            c->values[m++] = c->p[j].v;
        }
        c->n = m;
    }
    return NT_OK;
}

static nt_series series_of(const curve *c) { return (nt_series){c->tag, c->n, c->steps, c->values}; }

/* Reads the scalars of one event file, tags prefixed with `prefix`. */
static nt_status read_file(curve_set *cs, const char *path, const char *prefix)
{
    nt_events *r;
    nt_status st = nt_events_open(path, &r);
    if (st != NT_OK)
        return st;
    cs->files++;
    char tag[1024];
    for (;;) {
        nt_event ev;
        bool have;
        if ((st = nt_events_next(r, &ev, &have)) != NT_OK || !have)
            break;
        if (ev.kind != NT_EVENT_SUMMARY)
            continue;
        for (int i = 0; i < ev.n_values && st == NT_OK; i++) {
            const nt_summary_value *v = &ev.values[i];
            if (v->kind != NT_SUMMARY_SCALAR)
                continue;
            snprintf(tag, sizeof tag, "%s%s", prefix, v->tag);
            st = set_add(cs, tag, ev.step, v->scalar);
        }
        if (st != NT_OK)
            break;
    }
    cs->bad_records += nt_events_bad_records(r);
    if (nt_events_bad_records(r) || nt_events_truncated(r)) {
        char what[400];
        snprintf(what, sizeof what, "%s%s%s", nt_events_truncated(r) ? "ends in a cut-off record" : "",
                 nt_events_truncated(r) && nt_events_bad_records(r) ? "; " : "",
                 nt_events_bad_records(r) ? "corrupt records skipped" : "");
        fprintf(stderr, "nntrace report: %s: damaged: %s (%llu bad record%s; last problem: %s)\n", path, what,
                (unsigned long long)nt_events_bad_records(r), nt_events_bad_records(r) == 1 ? "" : "s",
                nt_events_problem(r));
        nt_buf_puts(&cs->damaged, cs->n_damaged++ ? ", {\"file\": " : "{\"file\": ");
        nt_buf_json_string(&cs->damaged, path);
        nt_buf_printf(&cs->damaged, ", \"bad_records\": %llu, \"truncated\": %s, \"problem\": ",
                      (unsigned long long)nt_events_bad_records(r), nt_events_truncated(r) ? "true" : "false");
        nt_buf_json_string(&cs->damaged, nt_events_problem(r));
        nt_buf_putc(&cs->damaged, '}');
    }
    nt_events_close(r);
    return st;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Event files of dir, then of its subdirectories in name order (depth < 3). */
static nt_status read_tree(curve_set *cs, const char *dir, const char *prefix, int depth)
{
    char **files;
    int n;
    nt_status st = nt_events_list(dir, &files, &n);
    if (st != NT_OK)
        return st;
    for (int i = 0; i < n && st == NT_OK; i++)
        st = read_file(cs, files[i], prefix);
    nt_events_list_free(files, n);
    if (st != NT_OK || depth >= 3)
        return st;
    DIR *d = opendir(dir);
    if (!d)
        return NT_OK;
    char **subs = NULL;
    int ns = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "report") == 0 || strcmp(e->d_name, "tensors") == 0)
            continue;
        char path[4096];
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (ns == cap) {
            cap = cap ? 2 * cap : 16;
            char **p = nt_realloc(subs, (size_t)cap * sizeof *p);
            if (!p) {
                st = NT_ERR_NOMEM;
                break;
            }
            subs = p;
        }
        if (!(subs[ns] = nt_strdup(e->d_name))) {
            st = NT_ERR_NOMEM;
            break;
        }
        ns++;
    }
    closedir(d);
    if (ns > 1)
        qsort(subs, (size_t)ns, sizeof *subs, cmp_name);
    for (int i = 0; i < ns && st == NT_OK; i++) {
        char path[4096], pre[1024];
        snprintf(path, sizeof path, "%s/%s", dir, subs[i]);
        snprintf(pre, sizeof pre, "%s%s/", prefix, subs[i]);
        st = read_tree(cs, path, pre, depth + 1);
    }
    for (int i = 0; i < ns; i++)
        free(subs[i]);
    free(subs);
    return st;
}

/* ---------------------------------------------------------------- analysis */

typedef struct dir_report {
    const char *dir;
    curve_set cs;
    nt_series *series; /* views of cs's curves, same order */
    nt_curve_pair *pairs;
    int n_pairs;
    nt_curve_findings f;
} dir_report;

static int find_pairs(const report_opts *o, dir_report *d)
{
    curve_set *cs = &d->cs;
    d->pairs = nt_calloc((size_t)cs->n + 1, sizeof *d->pairs);
    d->series = nt_calloc((size_t)cs->n + 1, sizeof *d->series);
    if (!d->pairs || !d->series)
        return nt_cli_fail(NT_ERR_NOMEM);
    for (int i = 0; i < cs->n; i++)
        d->series[i] = series_of(&cs->c[i]);
    if (o->train_tag) {
        int t = set_find(cs, o->train_tag), v = set_find(cs, o->val_tag);
        if (t < 0 || v < 0) {
            fprintf(stderr, "nntrace report: %s: no scalar tag '%s'; the tags are:\n", d->dir,
                    t < 0 ? o->train_tag : o->val_tag);
            for (int i = 0; i < cs->n; i++)
                fprintf(stderr, "  %s\n", cs->c[i].tag);
            return NT_EXIT_USAGE;
        }
        nt_tag_kind k = nt_tag_kind_of(o->val_tag);
        d->pairs[d->n_pairs++] = (nt_curve_pair){t, v, k == NT_TAG_SCORE ? NT_TAG_SCORE : NT_TAG_LOSS};
        return NT_EXIT_OK;
    }
    nt_status st = nt_curve_find_pairs(d->series, cs->n, d->pairs, &d->n_pairs);
    return st == NT_OK ? NT_EXIT_OK : nt_cli_fail(st);
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

static void print_text(const dir_report *d)
{
    printf("%s: %d event file%s, %d scalar tag%s, %d train/validation pair%s", d->dir, d->cs.files,
           d->cs.files == 1 ? "" : "s", d->cs.n, d->cs.n == 1 ? "" : "s", d->n_pairs, d->n_pairs == 1 ? "" : "s");
    if (d->cs.bad_records)
        printf(", %llu corrupt record%s skipped", (unsigned long long)d->cs.bad_records,
               d->cs.bad_records == 1 ? "" : "s");
    printf("\n");
    for (int k = 0; k < d->n_pairs; k++)
        printf("  pair: %s / %s\n", d->cs.c[d->pairs[k].train].tag, d->cs.c[d->pairs[k].val].tag);
    if (!d->f.n)
        printf("  no findings\n");
    /* errors first, then warnings, then info */
    for (int sev = NT_CURVE_ERROR; sev >= NT_CURVE_INFO; sev--)
        for (int i = 0; i < d->f.n; i++) {
            const nt_curve_finding *f = &d->f.v[i];
            if ((int)f->severity != sev)
                continue;
            printf("  %-7s %-18s %s", nt_curve_severity_name(f->severity), f->kind, f->tag);
            if (f->has_step)
                printf(" @ step %lld", (long long)f->step);
            printf("\n          %s\n", f->detail);
        }
}

static int parse_args(int argc, char **argv, report_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--no-write") == 0) {
            /* the default now; still accepted */
        } else if (strcmp(a, "--strict") == 0) {
            o->strict = true;
        } else if (strcmp(a, "--train") == 0 || strcmp(a, "--val") == 0 || strcmp(a, "--plots") == 0 ||
                   strcmp(a, "-o") == 0) {
            if (i + 1 >= argc)
                return nt_cli_usage_error("report", "%s needs a value", a);
            const char *v = argv[++i];
            if (a[1] == 'o')
                o->out = v;
            else if (a[2] == 't')
                o->train_tag = v;
            else if (a[2] == 'v')
                o->val_tag = v;
            else
                o->plots = v;
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("report", "unknown option '%s'", a);
        } else if (o->n_dirs < (int)NT_ARRAY_LEN(o->dirs)) {
            o->dirs[o->n_dirs++] = a;
        } else {
            return nt_cli_usage_error("report", "too many directories");
        }
    }
    if (!o->n_dirs)
        return nt_cli_usage_error("report", "no DIR given");
    if (!o->train_tag != !o->val_tag)
        return nt_cli_usage_error("report", "--train and --val go together");
    return NT_EXIT_OK;
}

int nt_cmd_report(int argc, char **argv)
{
    report_opts o = {0};
    int code = parse_args(argc, argv, &o);
    if (code != NT_EXIT_OK)
        return code;
    dir_report *reps = nt_calloc((size_t)o.n_dirs, sizeof *reps);
    if (!reps)
        return nt_cli_fail(NT_ERR_NOMEM);
    nt_curve_severity worst = NT_CURVE_INFO;
    for (int i = 0; i < o.n_dirs && code == NT_EXIT_OK; i++) {
        dir_report *d = &reps[i];
        d->dir = o.dirs[i];
        nt_curve_findings_init(&d->f);
        struct stat sb;
        nt_status st;
        if (stat(d->dir, &sb) != 0) {
            fprintf(stderr, "nntrace report: %s: %s\n", d->dir, strerror(errno));
            code = NT_EXIT_BAD_INPUT;
            break;
        }
        bool incomplete = S_ISDIR(sb.st_mode) && nt_cli_warn_incomplete("report", d->dir);
        st = S_ISDIR(sb.st_mode) ? read_tree(&d->cs, d->dir, "", 0) : read_file(&d->cs, d->dir, "");
        if (st == NT_OK)
            st = set_finish(&d->cs);
        if (st != NT_OK) {
            code = nt_cli_fail(st);
            code = code == NT_EXIT_USAGE ? NT_EXIT_BAD_INPUT : code;
            break;
        }
        if ((d->cs.files == 0 || d->cs.n == 0) && incomplete) {
            /* a run killed before its first scalars: nothing to diagnose, and said so above */
            fprintf(stderr, "nntrace report: %s: no scalars recorded yet\n", d->dir);
        } else if (d->cs.files == 0 || d->cs.n == 0) {
            fprintf(stderr, "nntrace report: %s: %s\n", d->dir,
                    d->cs.files ? "the event files hold no scalars" : "no event files (*tfevents*) here");
            code = NT_EXIT_BAD_INPUT;
            break;
        }
        if ((code = find_pairs(&o, d)) != NT_EXIT_OK)
            break;
        if ((st = nt_curve_analyze_set(d->series, d->cs.n, d->pairs, d->n_pairs, &d->f)) != NT_OK) {
            code = nt_cli_fail(st);
            break;
        }
        nt_curve_severity m = nt_curve_findings_max(&d->f);
        worst = m > worst ? m : worst;
        if (o.plots) {
            char outdir[4096];
            if (o.n_dirs == 1) {
                snprintf(outdir, sizeof outdir, "%s", o.plots);
            } else {
                char safe[256];
                nt_sanitize_name(d->dir, safe, sizeof safe);
                snprintf(outdir, sizeof outdir, "%s/%d-%s", o.plots, i, safe);
            }
            if ((st = write_plots(d, outdir)) != NT_OK) {
                fprintf(stderr, "nntrace report: cannot write the plots into %s: %s\n", outdir, nt_last_error());
                code = NT_EXIT_BAD_INPUT;
                break;
            }
        }
    }
    if (code == NT_EXIT_OK) {
        if (o.json || o.out) {
            nt_buf b;
            nt_buf_init(&b);
            nt_buf_puts(&b, "{\"findings\": [");
            int k = 0;
            for (int i = 0; i < o.n_dirs; i++)
                for (int j = 0; j < reps[i].f.n; j++) {
                    if (k++)
                        nt_buf_puts(&b, ",\n  ");
                    finding_json(&b, &reps[i].f.v[j], reps[i].dir);
                }
            nt_buf_puts(&b, "], \"runs\": [");
            for (int i = 0; i < o.n_dirs; i++) {
                if (i)
                    nt_buf_puts(&b, ", ");
                run_json(&b, &reps[i]);
            }
            nt_buf_puts(&b, "]}\n");
            nt_status st;
            if (b.failed) {
                code = nt_cli_fail(nt_error(NT_ERR_NOMEM, "out of memory"));
            } else if (o.out && (st = nt_write_file(o.out, b.data, b.len)) != NT_OK) {
                fprintf(stderr, "nntrace report: cannot write %s: %s\n", o.out, nt_last_error());
                code = NT_EXIT_BAD_INPUT;
            } else if (o.json) {
                fwrite(b.data, 1, b.len, stdout);
            }
            nt_buf_deinit(&b);
        }
        if (code == NT_EXIT_OK && !o.json)
            for (int i = 0; i < o.n_dirs; i++)
                print_text(&reps[i]);
        if (code == NT_EXIT_OK && (worst == NT_CURVE_ERROR || (o.strict && worst == NT_CURVE_WARNING)))
            code = NT_EXIT_FOUND;
    }
    for (int i = 0; i < o.n_dirs; i++) {
        set_free(&reps[i].cs);
        free(reps[i].pairs);
        free(reps[i].series);
        nt_curve_findings_deinit(&reps[i].f);
    }
    free(reps);
    return code;
}
