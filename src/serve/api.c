/*
 * api.c — the dashboard's JSON API over the run index: runs and their tags,
 * scalars (downsampled, or at full resolution inside a zoomed window),
 * histograms over steps, images, text, the graph from the event files,
 * overfitting onsets, and the version used for live updates.  Requests for
 * the other files of a run directory are passed to api_files.c with the
 * run's directory copied out, so file I/O never holds the index lock.
 *
 * Every answer is bounded: series are downsampled to at most
 * NT_API_MAX_POINTS points, histograms thinned to at most
 * NT_API_MAX_HISTOS steps, and errors are JSON {"error": ...} with a 4xx.
 */
#include "serve/serve.h"
#include "metrics/curves.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NT_API_DEFAULT_POINTS 1500
#define NT_API_MAX_POINTS 20000
#define NT_API_MAX_HISTOS 500
#define NT_API_MAX_TEXT_BYTES (4u << 20) /* per /api/text answer: the latest texts that fit */

void nt_api_error(nt_api_response *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->status = status;
    r->content_type = "application/json";
    r->body.len = 0;
    r->body.failed = false;
    nt_buf_puts(&r->body, "{\"error\": ");
    nt_buf_json_string(&r->body, msg);
    nt_buf_puts(&r->body, "}\n");
}

static void ok_json(nt_api_response *r)
{
    r->status = 200;
    r->content_type = "application/json";
}

/* An integer query parameter clamped to [lo, hi]; def when absent or bad. */
static long long q_int(nt_query_fn q, void *ctx, const char *key, long long def, long long lo, long long hi)
{
    const char *s = q(ctx, key);
    if (!s || !*s)
        return def;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end)
        return def;
    return v < lo ? lo : v > hi ? hi : v;
}

/* ---------------------------------------------------------------- runs, tags */

static void tag_list(nt_buf *b, const char *key, int n, const void *arr, size_t stride)
{
    nt_buf_printf(b, "\"%s\": [", key);
    for (int i = 0; i < n; i++) {
        const char *tag = *(char *const *)((const char *)arr + (size_t)i * stride);
        if (i)
            nt_buf_puts(b, ", ");
        nt_buf_json_string(b, tag);
    }
    nt_buf_putc(b, ']');
}

static void run_tags(nt_buf *b, const nt_run *r)
{
    nt_buf_puts(b, "{");
    tag_list(b, "scalars", r->n_scalars, r->scalars, sizeof *r->scalars);
    nt_buf_puts(b, ", ");
    tag_list(b, "histograms", r->n_histos, r->histos, sizeof *r->histos);
    nt_buf_puts(b, ", ");
    tag_list(b, "images", r->n_images, r->images, sizeof *r->images);
    nt_buf_puts(b, ", ");
    tag_list(b, "texts", r->n_texts, r->texts, sizeof *r->texts);
    nt_buf_puts(b, "}");
}

/* Which optional files the run directory holds (written by other tools). */
static void run_files_json(nt_buf *b, const nt_run *r)
{
    static const struct {
        const char *key, *file;
    } files[] = {
        {"run", "run.json"},         {"stats", "stats.jsonl"},   {"profile", "profile.json"},
        {"findings", "findings.json"}, {"report", "report.json"}, {"eval", "eval.json"},
        {"graph_svg", "graph.svg"},  {"graph_html", "graph.html"}, {"tensors", "tensors/index.json"},
        {"analysis", "analysis.json"},
    };
    nt_buf_puts(b, "{");
    for (size_t i = 0; i < NT_ARRAY_LEN(files); i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", r->dir, files[i].file);
        char canon[PATH_MAX];
        /* A symlink leading out of the run's directory does not count. */
        bool have = realpath(p, canon) && nt_serve_path_within(r->dir, canon);
        nt_buf_printf(b, "%s\"%s\": %s", i ? ", " : "", files[i].key, have ? "true" : "false");
    }
    nt_buf_printf(b, ", \"graph\": %s}", r->graph_def ? "true" : "false");
}

static void api_runs(nt_index *ix, nt_api_response *r)
{
    nt_buf *b = &r->body;
    nt_buf_printf(b, "{\"version\": %llu, \"runs\": [", (unsigned long long)nt_index_version(ix));
    int n = nt_index_run_count(ix);
    for (int i = 0; i < n; i++) {
        const nt_run *run = nt_index_run_at(ix, i);
        nt_buf_puts(b, i ? ",\n {\"name\": " : "\n {\"name\": ");
        nt_buf_json_string(b, run->name);
        nt_buf_puts(b, ", \"dir\": ");
        nt_buf_json_string(b, run->dir);
        nt_buf_printf(b, ", \"version\": %llu, \"records\": %llu, \"bad_records\": %llu, \"truncated\": %s",
                      (unsigned long long)run->version, (unsigned long long)run->records,
                      (unsigned long long)run->bad_records, run->truncated ? "true" : "false");
        static const char *const states[] = {"complete", "running", "failed", "no_runjson"};
        nt_buf_printf(b, ", \"skipped\": %llu, \"ordinal\": %d, \"status\": \"%s\", \"status_detail\": ",
                      (unsigned long long)run->skipped, run->ordinal,
                      run->state >= 0 && run->state < 4 ? states[run->state] : "complete");
        nt_buf_json_string(b, run->state_why);
        nt_buf_puts(b, ", \"problem\": ");
        nt_buf_json_string(b, run->problem);
        nt_buf_puts(b, ", \"first_wall\": ");
        nt_json_num(b, run->first_wall);
        nt_buf_puts(b, ", \"last_wall\": ");
        nt_json_num(b, run->last_wall);
        nt_buf_puts(b, ", \"files\": ");
        run_files_json(b, run);
        nt_buf_puts(b, ", \"tags\": ");
        run_tags(b, run);
        nt_buf_puts(b, "}");
    }
    nt_buf_puts(b, "\n], \"skipped_dirs\": [");
    const nt_skipped *sk;
    int ns = nt_index_skipped(ix, &sk);
    for (int i = 0; i < ns; i++) {
        nt_buf_puts(b, i ? ",\n {\"dir\": " : "\n {\"dir\": ");
        nt_buf_json_string(b, sk[i].dir);
        nt_buf_puts(b, ", \"why\": ");
        nt_buf_json_string(b, sk[i].why);
        nt_buf_putc(b, '}');
    }
    nt_buf_puts(b, "]}\n");
    ok_json(r);
}

/* ---------------------------------------------------------------- scalars */

static const nt_scalar_series *find_scalar(const nt_run *run, const char *tag)
{
    for (int i = 0; tag && i < run->n_scalars; i++)
        if (strcmp(run->scalars[i].tag, tag) == 0)
            return &run->scalars[i];
    return NULL;
}

/* One series as JSON, downsampled to `points` inside [x0, x1]. */
static bool scalar_json(nt_buf *b, const char *run_name, const nt_scalar_series *s, int64_t x0, int64_t x1,
                        size_t points)
{
    nt_ds_result ds;
    if (nt_downsample(s->steps, s->values, s->n, x0, x1, points, &ds) != NT_OK)
        return false;
    nt_buf_puts(b, "{\"run\": ");
    nt_buf_json_string(b, run_name);
    nt_buf_puts(b, ", \"tag\": ");
    nt_buf_json_string(b, s->tag);
    nt_buf_printf(b, ", \"total\": %zu, \"in_range\": %zu, \"downsampled\": %s", s->n, ds.in_range,
                  ds.reduced ? "true" : "false");
    if (s->n)
        nt_buf_printf(b, ", \"first_step\": %lld, \"last_step\": %lld", (long long)s->steps[0],
                      (long long)s->steps[s->n - 1]);
    nt_buf_puts(b, ", \"steps\": [");
    for (size_t i = 0; i < ds.n; i++)
        nt_buf_printf(b, "%s%lld", i ? "," : "", (long long)s->steps[ds.idx[i]]);
    nt_buf_puts(b, "], \"values\": [");
    for (size_t i = 0; i < ds.n; i++) {
        if (i)
            nt_buf_putc(b, ',');
        nt_json_num(b, s->values[ds.idx[i]]);
    }
    nt_buf_puts(b, "], \"wall\": [");
    for (size_t i = 0; i < ds.n; i++) {
        if (i)
            nt_buf_putc(b, ',');
        nt_json_wall(b, s->wall[ds.idx[i]]);
    }
    nt_buf_puts(b, "]}");
    free(ds.idx);
    return true;
}

/* /api/scalars?tag=T[&run=R][&min=S&max=S][&points=N]: one run's series, or
 * the series of every run that has the tag. */
static void api_scalars(nt_index *ix, nt_query_fn q, void *ctx, nt_api_response *r)
{
    const char *tag = q(ctx, "tag"), *run_name = q(ctx, "run");
    if (!tag)
        return nt_api_error(r, 400, "missing parameter: tag");
    int64_t x0 = q_int(q, ctx, "min", INT64_MIN, INT64_MIN, INT64_MAX);
    int64_t x1 = q_int(q, ctx, "max", INT64_MAX, INT64_MIN, INT64_MAX);
    size_t points = (size_t)q_int(q, ctx, "points", NT_API_DEFAULT_POINTS, 1, NT_API_MAX_POINTS);
    nt_buf *b = &r->body;
    nt_buf_puts(b, "{\"series\": [");
    int emitted = 0;
    int n = nt_index_run_count(ix);
    for (int i = 0; i < n; i++) {
        const nt_run *run = nt_index_run_at(ix, i);
        if (run_name && strcmp(run->name, run_name) != 0)
            continue;
        const nt_scalar_series *s = find_scalar(run, tag);
        if (!s)
            continue;
        if (emitted++)
            nt_buf_puts(b, ",\n");
        if (!scalar_json(b, run->name, s, x0, x1, points))
            return nt_api_error(r, 500, "out of memory");
    }
    nt_buf_puts(b, "]}\n");
    if (run_name && !emitted)
        return nt_api_error(r, 404, "no scalar tag '%s' in run '%s'", tag, run_name);
    ok_json(r);
}

/* /api/overfit answers, cached per run and version: the analysis smooths
 * every curve, and every open page asks again at each change. */
#define OVERFIT_CACHE 64
static struct {
    char *run;
    uint64_t version;
    char *json;
} overfit_cache[OVERFIT_CACHE];
static unsigned overfit_next;
static pthread_mutex_t overfit_mu = PTHREAD_MUTEX_INITIALIZER;

static bool overfit_cached(const nt_run *run, nt_buf *b)
{
    bool hit = false;
    pthread_mutex_lock(&overfit_mu);
    for (int i = 0; i < OVERFIT_CACHE && !hit; i++)
        if (overfit_cache[i].run && overfit_cache[i].version == run->version &&
            strcmp(overfit_cache[i].run, run->name) == 0) {
            nt_buf_puts(b, overfit_cache[i].json);
            hit = true;
        }
    pthread_mutex_unlock(&overfit_mu);
    return hit;
}

static void overfit_store(const nt_run *run, const nt_buf *b)
{
    char *name = nt_strdup(run->name), *json = nt_malloc(b->len + 1);
    if (!name || !json) {
        free(name);
        free(json);
        return;
    }
    memcpy(json, b->data, b->len);
    json[b->len] = '\0';
    pthread_mutex_lock(&overfit_mu);
    unsigned k = overfit_next++ % OVERFIT_CACHE;
    free(overfit_cache[k].run);
    free(overfit_cache[k].json);
    overfit_cache[k].run = name;
    overfit_cache[k].version = run->version;
    overfit_cache[k].json = json;
    pthread_mutex_unlock(&overfit_mu);
}

static void finding_json(nt_buf *b, const nt_curve_finding *f)
{
    nt_buf_puts(b, "{\"kind\": ");
    nt_buf_json_string(b, f->kind);
    nt_buf_printf(b, ", \"severity\": \"%s\", \"tag\": ", nt_curve_severity_name(f->severity));
    nt_buf_json_string(b, f->tag);
    nt_buf_puts(b, ", \"train_tag\": ");
    nt_buf_json_string(b, f->train_tag);
    if (f->has_step)
        nt_buf_printf(b, ", \"step\": %lld", (long long)f->step);
    else
        nt_buf_puts(b, ", \"step\": null");
    nt_buf_puts(b, ", \"value\": ");
    nt_json_num(b, f->value);
    nt_buf_puts(b, ", \"detail\": ");
    nt_buf_json_string(b, f->detail);
    nt_buf_putc(b, '}');
}

/* /api/overfit?run=R: the findings of nt_curve_analyze_set over the run's
 * scalar curves -- the same call `nntrace report` makes, so both name the
 * same onset step.  "onsets" lists the overfitting findings (train, val,
 * step, detail), "findings" every finding. */
static void api_overfit(nt_index *ix, nt_query_fn q, void *ctx, nt_api_response *r)
{
    const nt_run *run = nt_index_find_run(ix, q(ctx, "run"));
    if (!run)
        return nt_api_error(r, 404, "no such run");
    if (overfit_cached(run, &r->body))
        return ok_json(r);
    int n = run->n_scalars;
    nt_series *ser = nt_calloc((size_t)n + 1, sizeof *ser);
    nt_curve_pair *pairs = nt_calloc((size_t)n + 1, sizeof *pairs);
    void **owned = nt_calloc(2 * (size_t)n + 1, sizeof *owned);
    nt_curve_findings f;
    nt_curve_findings_init(&f);
    nt_status st = ser && pairs && owned ? NT_OK : NT_ERR_NOMEM;
    for (int i = 0; i < n && st == NT_OK; i++) {
        const nt_scalar_series *s = &run->scalars[i];
        bool unique = true;
        for (size_t k = 1; k < s->n && unique; k++)
            unique = s->steps[k] != s->steps[k - 1];
        ser[i] = (nt_series){s->tag, (int64_t)s->n, s->steps, s->values};
        if (unique)
            continue;
        /* A step logged twice (a restarted program): its last value, as report keeps it. */
        int64_t *st2 = nt_malloc(s->n * sizeof *st2);
        double *v2 = nt_malloc(s->n * sizeof *v2);
        owned[2 * i] = st2;
        owned[2 * i + 1] = v2;
        if (!st2 || !v2) {
            st = NT_ERR_NOMEM;
            break;
        }
        ser[i].n = nt_series_last_per_step(s->steps, s->values, (int64_t)s->n, st2, v2);
        ser[i].steps = st2;
        ser[i].values = v2;
    }
    int n_pairs = 0;
    if (st == NT_OK)
        st = nt_curve_find_pairs(ser, n, pairs, &n_pairs);
    if (st == NT_OK)
        st = nt_curve_analyze_set(ser, n, pairs, n_pairs, &f);
    if (st == NT_OK) {
        nt_buf *b = &r->body;
        nt_buf_puts(b, "{\"onsets\": [");
        int k = 0;
        for (int i = 0; i < f.n; i++) {
            if (strcmp(f.v[i].kind, "overfitting") != 0 || !f.v[i].has_step)
                continue;
            nt_buf_puts(b, k++ ? ", {\"train\": " : "{\"train\": ");
            nt_buf_json_string(b, f.v[i].train_tag);
            nt_buf_puts(b, ", \"val\": ");
            nt_buf_json_string(b, f.v[i].tag);
            nt_buf_printf(b, ", \"step\": %lld, \"lower_is_better\": %s, \"detail\": ", (long long)f.v[i].step,
                          nt_tag_kind_of(f.v[i].tag) == NT_TAG_SCORE ? "false" : "true");
            nt_buf_json_string(b, f.v[i].detail);
            nt_buf_putc(b, '}');
        }
        nt_buf_puts(b, "], \"findings\": [");
        for (int i = 0; i < f.n; i++) {
            if (i)
                nt_buf_puts(b, ",\n ");
            finding_json(b, &f.v[i]);
        }
        nt_buf_puts(b, "]}\n");
        if (!b->failed)
            overfit_store(run, b);
    }
    for (int i = 0; owned && i < 2 * n; i++)
        free(owned[i]);
    free(owned);
    free(ser);
    free(pairs);
    nt_curve_findings_deinit(&f);
    if (st != NT_OK)
        return nt_api_error(r, 500, "curve analysis failed: %s", nt_last_error());
    ok_json(r);
}

/* ---------------------------------------------------------------- histograms */

static void api_histograms(nt_index *ix, nt_query_fn q, void *ctx, nt_api_response *r)
{
    const nt_run *run = nt_index_find_run(ix, q(ctx, "run"));
    const char *tag = q(ctx, "tag");
    if (!run || !tag)
        return nt_api_error(r, 404, "no such run or missing tag");
    const nt_histo_series *s = NULL;
    for (int i = 0; i < run->n_histos && !s; i++)
        if (strcmp(run->histos[i].tag, tag) == 0)
            s = &run->histos[i];
    if (!s)
        return nt_api_error(r, 404, "no histogram tag '%s'", tag);
    size_t max = (size_t)q_int(q, ctx, "points", 200, 1, NT_API_MAX_HISTOS);
    nt_buf *b = &r->body;
    nt_buf_puts(b, "{\"run\": ");
    nt_buf_json_string(b, run->name);
    nt_buf_puts(b, ", \"tag\": ");
    nt_buf_json_string(b, tag);
    nt_buf_printf(b, ", \"total\": %zu, \"histograms\": [", s->n);
    /* Evenly spaced steps, always including the latest. */
    size_t n = s->n < max ? s->n : max;
    for (size_t j = 0; j < n; j++) {
        size_t i = n == s->n ? j : (size_t)((double)j * (double)(s->n - 1) / (double)(n - 1 ? n - 1 : 1));
        const nt_histo_point *p = &s->pts[i];
        nt_buf_printf(b, "%s\n {\"step\": %lld, \"wall\": ", j ? "," : "", (long long)p->step);
        nt_json_wall(b, p->wall);
        nt_buf_puts(b, ", \"min\": ");
        nt_json_num(b, p->min);
        nt_buf_puts(b, ", \"max\": ");
        nt_json_num(b, p->max);
        nt_buf_puts(b, ", \"num\": ");
        nt_json_num(b, p->num);
        nt_buf_puts(b, ", \"sum\": ");
        nt_json_num(b, p->sum);
        nt_buf_puts(b, ", \"sum_squares\": ");
        nt_json_num(b, p->sum_squares);
        nt_buf_puts(b, ", \"limits\": [");
        for (int k = 0; k < p->n_buckets; k++) {
            if (k)
                nt_buf_putc(b, ',');
            /* TensorBoard's outermost limits are +-DBL_MAX: null. */
            nt_json_num(b, fabs(p->limits[k]) > 1e300 ? NAN : p->limits[k]);
        }
        nt_buf_puts(b, "], \"counts\": [");
        for (int k = 0; k < p->n_buckets; k++) {
            if (k)
                nt_buf_putc(b, ',');
            nt_json_num(b, p->counts[k]);
        }
        nt_buf_puts(b, "]}");
    }
    nt_buf_puts(b, "\n]}\n");
    ok_json(r);
}

/* ---------------------------------------------------------------- images, text */

static const nt_blob_series *find_blob(const nt_blob_series *arr, int n, const char *tag)
{
    for (int i = 0; tag && i < n; i++)
        if (strcmp(arr[i].tag, tag) == 0)
            return &arr[i];
    return NULL;
}

static void api_images(nt_index *ix, nt_query_fn q, void *ctx, nt_api_response *r)
{
    const nt_run *run = nt_index_find_run(ix, q(ctx, "run"));
    const nt_blob_series *s = run ? find_blob(run->images, run->n_images, q(ctx, "tag")) : NULL;
    if (!s)
        return nt_api_error(r, 404, "no such run or image tag");
    nt_buf *b = &r->body;
    nt_buf_printf(b, "{\"total\": %llu, \"images\": [", (unsigned long long)s->total);
    for (size_t i = 0; i < s->n; i++) {
        nt_buf_printf(b, "%s{\"index\": %zu, \"step\": %lld, \"wall\": ", i ? ", " : "", i, (long long)s->pts[i].step);
        nt_json_wall(b, s->pts[i].wall);
        nt_buf_printf(b, ", \"width\": %d, \"height\": %d, \"bytes\": %zu}", s->pts[i].width, s->pts[i].height,
                      s->pts[i].len);
    }
    nt_buf_puts(b, "]}\n");
    ok_json(r);
}

/* The bytes of one image, typed by its magic number. */
static void api_image(nt_index *ix, nt_query_fn q, void *ctx, nt_api_response *r)
{
    const nt_run *run = nt_index_find_run(ix, q(ctx, "run"));
    const nt_blob_series *s = run ? find_blob(run->images, run->n_images, q(ctx, "tag")) : NULL;
    long long i = q_int(q, ctx, "index", -1, -1, LLONG_MAX);
    if (!s || s->n == 0)
        return nt_api_error(r, 404, "no such run or image tag");
    if (i < 0 || (size_t)i >= s->n)
        i = (long long)s->n - 1;
    const nt_blob_point *p = &s->pts[i];
    static const uint8_t png[4] = {0x89, 'P', 'N', 'G'}, jpg[2] = {0xff, 0xd8};
    if (p->len >= 4 && memcmp(p->data, png, 4) == 0)
        r->content_type = "image/png";
    else if (p->len >= 2 && memcmp(p->data, jpg, 2) == 0)
        r->content_type = "image/jpeg";
    else if (p->len >= 4 && memcmp(p->data, "GIF8", 4) == 0)
        r->content_type = "image/gif";
    else
        r->content_type = "application/octet-stream";
    nt_buf_append(&r->body, p->data, p->len);
    r->status = 200;
}

static void api_text(nt_index *ix, nt_query_fn q, void *ctx, nt_api_response *r)
{
    const nt_run *run = nt_index_find_run(ix, q(ctx, "run"));
    const nt_blob_series *s = run ? find_blob(run->texts, run->n_texts, q(ctx, "tag")) : NULL;
    if (!s)
        return nt_api_error(r, 404, "no such run or text tag");
    /* The latest texts that fit NT_API_MAX_TEXT_BYTES (at least one). */
    size_t first = s->n, bytes = 0;
    while (first > 0 && (first == s->n || bytes + s->pts[first - 1].len <= NT_API_MAX_TEXT_BYTES))
        bytes += s->pts[--first].len;
    nt_buf *b = &r->body;
    nt_buf_printf(b, "{\"total\": %llu, \"omitted\": %zu, \"texts\": [", (unsigned long long)s->total, first);
    for (size_t i = first; i < s->n; i++) {
        nt_buf_printf(b, "%s{\"step\": %lld, \"wall\": ", i > first ? ", " : "", (long long)s->pts[i].step);
        nt_json_wall(b, s->pts[i].wall);
        nt_buf_puts(b, ", \"text\": ");
        nt_buf_json_string(b, (const char *)s->pts[i].data);
        nt_buf_puts(b, "}");
    }
    nt_buf_puts(b, "]}\n");
    ok_json(r);
}

/* ---------------------------------------------------------------- graph */

static void api_graph(nt_index *ix, nt_query_fn q, void *ctx, nt_api_response *r)
{
    const nt_run *run = nt_index_find_run(ix, q(ctx, "run"));
    if (!run)
        return nt_api_error(r, 404, "no such run");
    if (!run->graph_def)
        return nt_api_error(r, 404, "run '%s' has no graph in its event files", run->name);
    if (nt_graphdef_to_json(run->graph_def, run->graph_def_len, &r->body) != NT_OK)
        return nt_api_error(r, 422, "the run's GraphDef is malformed: %s", nt_last_error());
    ok_json(r);
}

/* ---------------------------------------------------------------- dispatch */

static const char *const json_files[][2] = {
    {"/api/runinfo", "run.json"},     {"/api/findings", "findings.json"}, {"/api/report", "report.json"},
    {"/api/eval", "eval.json"},       {"/api/tensors", "tensors/index.json"}, {"/api/analysis", "analysis.json"},
};

void nt_api_handle(nt_index *ix, const char *path, nt_query_fn q, void *ctx, nt_api_response *r)
{
    r->status = 500;
    r->content_type = "application/json";
    r->sandbox = false;
    if (strcmp(path, "/api/version") == 0 || strcmp(path, "/api/poll") == 0) {
        uint64_t v = nt_index_version(ix);
        if (path[5] == 'p') {
            /* Long-poll: wait for a version other than `since`. */
            const char *since = q(ctx, "since");
            int timeout = (int)q_int(q, ctx, "timeout", 25, 0, 60);
            if (since)
                v = nt_index_wait(ix, strtoull(since, NULL, 10), timeout * 1000);
        }
        nt_buf_printf(&r->body, "{\"version\": %llu}\n", (unsigned long long)v);
        return ok_json(r);
    }
    /* Handlers over files of a run directory: copy the directory out of
     * the index, then read files without holding the lock. */
    const char *run_name = q(ctx, "run");
    char dir[PATH_MAX];
    dir[0] = '\0';
    bool file_route = strcmp(path, "/api/stats") == 0 || strcmp(path, "/api/profile") == 0 ||
                      strcmp(path, "/api/heatmap") == 0 || strcmp(path, "/api/file") == 0 ||
                      strcmp(path, "/api/artifacts") == 0;
    for (size_t i = 0; i < NT_ARRAY_LEN(json_files); i++)
        file_route |= strcmp(path, json_files[i][0]) == 0;
    if (file_route) {
        nt_index_rdlock(ix);
        const nt_run *run = nt_index_find_run(ix, run_name);
        if (run)
            snprintf(dir, sizeof dir, "%s", run->dir);
        nt_index_unlock(ix);
        if (!dir[0])
            return nt_api_error(r, 404, "no such run");
        if (strcmp(path, "/api/stats") == 0)
            return nt_api_stats(dir, r);
        if (strcmp(path, "/api/profile") == 0)
            return nt_api_profile(dir, r);
        if (strcmp(path, "/api/artifacts") == 0)
            return nt_api_artifacts(dir, r);
        if (strcmp(path, "/api/heatmap") == 0)
            return nt_api_heatmap(dir, q(ctx, "path"), q, ctx, r);
        if (strcmp(path, "/api/file") == 0)
            return nt_api_raw_file(dir, q(ctx, "path"), r);
        for (size_t i = 0; i < NT_ARRAY_LEN(json_files); i++)
            if (strcmp(path, json_files[i][0]) == 0)
                return nt_api_json_file(dir, json_files[i][1], r);
    }
    nt_index_rdlock(ix);
    if (strcmp(path, "/api/runs") == 0)
        api_runs(ix, r);
    else if (strcmp(path, "/api/tags") == 0) {
        const nt_run *run = nt_index_find_run(ix, run_name);
        if (!run)
            nt_api_error(r, 404, "no such run");
        else {
            run_tags(&r->body, run);
            nt_buf_putc(&r->body, '\n');
            ok_json(r);
        }
    } else if (strcmp(path, "/api/scalars") == 0)
        api_scalars(ix, q, ctx, r);
    else if (strcmp(path, "/api/overfit") == 0)
        api_overfit(ix, q, ctx, r);
    else if (strcmp(path, "/api/histograms") == 0)
        api_histograms(ix, q, ctx, r);
    else if (strcmp(path, "/api/images") == 0)
        api_images(ix, q, ctx, r);
    else if (strcmp(path, "/api/image") == 0)
        api_image(ix, q, ctx, r);
    else if (strcmp(path, "/api/text") == 0)
        api_text(ix, q, ctx, r);
    else if (strcmp(path, "/api/graph") == 0)
        api_graph(ix, q, ctx, r);
    else
        nt_api_error(r, 404, "unknown API endpoint");
    nt_index_unlock(ix);
    if (r->body.failed)
        nt_api_error(r, 500, "out of memory");
}
