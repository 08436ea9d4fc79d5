/*
 * report_curves.c — reading the scalar curves of event files into a curve
 * set (report_curves.h): a tag index (core/strmap.h), points kept in
 * arrival order and sorted by step at the end.
 */
#include "analyze/report_curves.h"
#include "trace/tfevents.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void nt_rcurves_free(curve_set *cs)
{
    for (int i = 0; i < cs->n; i++) {
        free(cs->c[i].tag);
        free(cs->c[i].p);
        free(cs->c[i].steps);
        free(cs->c[i].values);
    }
    free(cs->c);
    nt_strmap_deinit(&cs->index);
    nt_buf_deinit(&cs->damaged);
    memset(cs, 0, sizeof *cs);
}

int nt_rcurves_find(const curve_set *cs, const char *tag) { return (int)nt_strmap_get(&cs->index, tag); }

static nt_status set_add(curve_set *cs, const char *tag, int64_t step, double v)
{
    int i = nt_rcurves_find(cs, tag);
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
        nt_status st = nt_strmap_put(&cs->index, c->tag, cs->n, NULL);
        if (st != NT_OK) {
            free(c->tag);
            return st;
        }
        i = cs->n++;
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
nt_status nt_rcurves_finish(curve_set *cs)
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

nt_series nt_rcurves_series(const curve *c) { return (nt_series){c->tag, c->n, c->steps, c->values}; }

/* Reads the scalars of one event file, tags prefixed with `prefix`. */
nt_status nt_rcurves_read_file(curve_set *cs, const char *path, const char *prefix)
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
        if (cs->log)
            fprintf(cs->log, "nntrace report: %s: damaged: %s (%llu bad record%s; last problem: %s)\n", path, what,
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
nt_status nt_rcurves_read_tree(curve_set *cs, const char *dir, const char *prefix, int depth)
{
    char **files;
    int n;
    nt_status st = nt_events_list(dir, &files, &n);
    if (st != NT_OK)
        return st;
    for (int i = 0; i < n && st == NT_OK; i++)
        st = nt_rcurves_read_file(cs, files[i], prefix);
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
        st = nt_rcurves_read_tree(cs, path, pre, depth + 1);
    }
    for (int i = 0; i < ns; i++)
        free(subs[i]);
    free(subs);
    return st;
}

