/*
 * runindex.c — the dashboard's model of the directories it serves: which
 * runs exist, which tags each run has, and every point read so far.
 *
 * A run is a directory that holds TensorBoard event files or an nntrace
 * run.json: a directory given on the command line, or one found below it
 * (TensorBoard's logdir layout, a few levels deep; symlinked directories are
 * not followed, so discovery never leaves the given trees).  Event files
 * are read incrementally: each keeps an open reader that resumes where it
 * stopped, so a poll costs only what was appended since the last one, and a
 * huge file is loaded in bounded slices (NT_INDEX_RECORDS_PER_POLL) while
 * the server keeps answering from what is already indexed.
 *
 * Concurrency: one poller writes, many request threads read.  Readers hold
 * a read lock for the duration of one response; the poller takes the write
 * lock per slice of records.  The lock prefers writers so a flood of
 * requests cannot starve the live updates.  A version counter, bumped on
 * every change, drives server-sent events and long-polls.
 */
#include "serve/serve.h"
#include "trace/tfevents.h"
#include "trace/tracers.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trace/crc32c.h"

typedef struct nt_evfile {
    char *path;
    nt_events *r;
    int fd;              /* our own view of the same file: headers peeked, rewrites noticed */
    uint64_t size_seen;
    int64_t mtime_ns;    /* at the last read */
    dev_t dev;
    ino_t ino;
    uint8_t tail[4];     /* the 4 bytes before the read offset (the last record's CRC) */
    bool have_tail;
    bool truncated;
    uint64_t bad_base;   /* bad records counted by readers replaced after a skip */
} nt_evfile;

struct nt_index {
    int n_roots;
    char **roots;        /* canonical */
    char **root_names;   /* unique display names */
    nt_run **runs;       /* sorted by name */
    int n_runs, cap_runs;
    pthread_rwlock_t lock;
    pthread_mutex_t mu;  /* guards version, stopping; with cond */
    pthread_cond_t cond;
    uint64_t version;
    bool stopping;
    pthread_mutex_t poll_mu; /* one poller at a time */
    size_t scan_budget;  /* directory entries left in the current scan */
    int next_ordinal;    /* discovery order of runs: their colours */
    nt_skipped *skipped; /* directories not indexed and why (last scan) */
    int n_skipped;
    nt_skipped *scan_skipped; /* being gathered by the current scan */
    int n_scan_skipped, cap_scan_skipped;
};

/* Files beside the event files whose changes the dashboard shows. */
static const char *const run_files[] = {
    "run.json", "stats.jsonl", "profile.json", "findings.json", "report.json",
    "eval.json", "graph.svg", "graph.html", "tensors/index.json", "analysis.json",
};

/* ---------------------------------------------------------------- lifetime */

static void blob_series_free(nt_blob_series *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->pts[i].data);
    free(s->pts);
    free(s->tag);
}

static void run_clear_data(nt_run *r)
{
    for (int i = 0; i < r->n_scalars; i++) {
        nt_scalar_series *s = &r->scalars[i];
        free(s->tag);
        free(s->steps);
        free(s->wall);
        free(s->values);
        free(s->psteps);
        free(s->pwall);
        free(s->pvalues);
    }
    for (int i = 0; i < r->n_histos; i++) {
        nt_histo_series *s = &r->histos[i];
        for (size_t k = 0; k < s->n; k++) {
            free(s->pts[k].limits);
            free(s->pts[k].counts);
        }
        free(s->pts);
        free(s->tag);
    }
    for (int i = 0; i < r->n_images; i++)
        blob_series_free(&r->images[i]);
    for (int i = 0; i < r->n_texts; i++)
        blob_series_free(&r->texts[i]);
    free(r->scalars);
    free(r->histos);
    free(r->images);
    free(r->texts);
    free(r->graph_def);
    r->scalars = NULL;
    r->histos = NULL;
    r->images = r->texts = NULL;
    r->graph_def = NULL;
    r->graph_def_len = 0;
    r->n_scalars = r->cap_scalars = r->n_histos = r->cap_histos = 0;
    r->n_images = r->cap_images = r->n_texts = r->cap_texts = 0;
    r->records = r->bad_records = r->blob_bytes = r->skipped = 0;
    r->first_wall = r->last_wall = 0;
    r->problem[0] = '\0';
}

static void run_close_files(nt_run *r)
{
    for (int i = 0; i < r->n_files; i++) {
        nt_events_close(r->files[i].r);
        if (r->files[i].fd >= 0)
            close(r->files[i].fd);
        free(r->files[i].path);
    }
    free(r->files);
    r->files = NULL;
    r->n_files = r->cap_files = 0;
}

static void run_free(nt_run *r)
{
    if (!r)
        return;
    run_clear_data(r);
    run_close_files(r);
    free(r->name);
    free(r->dir);
    free(r);
}

nt_status nt_index_new(int n_dirs, char *const *dirs, nt_index **out)
{
    *out = NULL;
    if (n_dirs <= 0)
        return nt_error(NT_ERR_INVALID_ARG, "no directories to serve");
    nt_index *ix = nt_calloc(1, sizeof *ix);
    if (!ix)
        return NT_ERR_NOMEM;
    ix->roots = nt_calloc((size_t)n_dirs, sizeof *ix->roots);
    ix->root_names = nt_calloc((size_t)n_dirs, sizeof *ix->root_names);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&ix->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&ix->mu, NULL);
    pthread_mutex_init(&ix->poll_mu, NULL);
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&ix->cond, &cattr);
    pthread_condattr_destroy(&cattr);
    ix->version = 1;
    if (!ix->roots || !ix->root_names) {
        nt_index_free(ix);
        return NT_ERR_NOMEM;
    }
    ix->n_roots = n_dirs;
    for (int i = 0; i < n_dirs; i++) {
        char canon[PATH_MAX];
        struct stat st;
        if (!realpath(dirs[i], canon) || stat(canon, &st) != 0 || !S_ISDIR(st.st_mode)) {
            nt_status s = nt_error(NT_ERR_NOT_FOUND, "%s: not a directory", dirs[i]);
            nt_index_free(ix);
            return s;
        }
        /* A directory the server cannot list would serve an empty
         * dashboard that looks like "no runs yet": refuse it instead. */
        DIR *probe = opendir(canon);
        if (!probe) {
            nt_status s = nt_error(NT_ERR_IO, "%s: cannot read the directory: %s", dirs[i], strerror(errno));
            nt_index_free(ix);
            return s;
        }
        closedir(probe);
        ix->roots[i] = nt_strdup(canon);
        /* The run name: the directory's last component, made unique. */
        const char *base = strrchr(canon, '/');
        base = base && base[1] ? base + 1 : "root";
        char name[256];
        snprintf(name, sizeof name, "%s", base);
        for (int k = 2;; k++) {
            bool dup = false;
            for (int j = 0; j < i; j++)
                dup |= strcmp(ix->root_names[j], name) == 0;
            if (!dup)
                break;
            snprintf(name, sizeof name, "%s#%d", base, k);
        }
        ix->root_names[i] = nt_strdup(name);
        if (!ix->roots[i] || !ix->root_names[i]) {
            nt_index_free(ix);
            return NT_ERR_NOMEM;
        }
    }
    *out = ix;
    return NT_OK;
}

void nt_index_free(nt_index *ix)
{
    if (!ix)
        return;
    for (int i = 0; i < ix->n_runs; i++)
        run_free(ix->runs[i]);
    free(ix->runs);
    for (int i = 0; ix->roots && i < ix->n_roots; i++)
        free(ix->roots[i]);
    for (int i = 0; ix->root_names && i < ix->n_roots; i++)
        free(ix->root_names[i]);
    free(ix->roots);
    free(ix->root_names);
    free(ix->skipped);
    pthread_rwlock_destroy(&ix->lock);
    pthread_mutex_destroy(&ix->mu);
    pthread_mutex_destroy(&ix->poll_mu);
    pthread_cond_destroy(&ix->cond);
    free(ix);
}

/* ---------------------------------------------------------------- version, waiting */

static uint64_t bump_version(nt_index *ix)
{
    pthread_mutex_lock(&ix->mu);
    uint64_t v = ++ix->version;
    pthread_cond_broadcast(&ix->cond);
    pthread_mutex_unlock(&ix->mu);
    return v;
}

uint64_t nt_index_version(nt_index *ix)
{
    pthread_mutex_lock(&ix->mu);
    uint64_t v = ix->version;
    pthread_mutex_unlock(&ix->mu);
    return v;
}

uint64_t nt_index_wait(nt_index *ix, uint64_t since, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ix->mu);
    while (ix->version == since && !ix->stopping)
        if (pthread_cond_timedwait(&ix->cond, &ix->mu, &until) == ETIMEDOUT)
            break;
    uint64_t v = ix->version;
    pthread_mutex_unlock(&ix->mu);
    return v;
}

void nt_index_wake_all(nt_index *ix)
{
    pthread_mutex_lock(&ix->mu);
    ix->stopping = true;
    pthread_cond_broadcast(&ix->cond);
    pthread_mutex_unlock(&ix->mu);
}

bool nt_index_stopping(nt_index *ix)
{
    pthread_mutex_lock(&ix->mu);
    bool s = ix->stopping;
    pthread_mutex_unlock(&ix->mu);
    return s;
}

void nt_index_rdlock(nt_index *ix) { pthread_rwlock_rdlock(&ix->lock); }
void nt_index_unlock(nt_index *ix) { pthread_rwlock_unlock(&ix->lock); }

int nt_index_run_count(nt_index *ix) { return ix->n_runs; }
int nt_index_skipped(nt_index *ix, const nt_skipped **out)
{
    *out = ix->skipped;
    return ix->n_skipped;
}
nt_run *nt_index_run_at(nt_index *ix, int i) { return i >= 0 && i < ix->n_runs ? ix->runs[i] : NULL; }

static int find_run_pos(nt_index *ix, const char *name, bool *found)
{
    int lo = 0, hi = ix->n_runs;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(ix->runs[mid]->name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

nt_run *nt_index_find_run(nt_index *ix, const char *name)
{
    bool found;
    if (!name)
        return NULL;
    int i = find_run_pos(ix, name, &found);
    return found ? ix->runs[i] : NULL;
}

/* ---------------------------------------------------------------- applying events */

/* Grows an array of `size`-byte elements to hold one more. */
static bool grow(void **arr, int *cap, int n, size_t size)
{
    if (n < *cap)
        return true;
    int ncap = *cap ? *cap * 2 : 8;
    void *p = nt_realloc(*arr, (size_t)ncap * size);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

static bool grow_sz(void **arr, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = nt_realloc(*arr, ncap * size);
    if (!p)
        return false;
    *arr = p;
    *cap = ncap;
    return true;
}

/* Finds or adds the series of `tag` in an array of structs whose first
 * member is `char *tag`.  Returns its index, -1 on failure or tag limit. */
#define FIND_SERIES(run, arr, n, cap, T, tagv, out)                                  \
    do {                                                                             \
        (out) = -1;                                                                  \
        for (int i_ = (run)->n - 1; i_ >= 0; i_--)                                   \
            if (strcmp((run)->arr[i_].tag, (tagv)) == 0) {                          \
                (out) = i_;                                                          \
                break;                                                               \
            }                                                                        \
        if ((out) < 0 && (run)->n < NT_INDEX_MAX_TAGS &&                             \
            grow((void **)&(run)->arr, &(run)->cap, (run)->n, sizeof(T))) {          \
            T *s_ = &(run)->arr[(run)->n];                                           \
            memset(s_, 0, sizeof *s_);                                               \
            s_->tag = nt_strdup(tagv);                                               \
            if (s_->tag)                                                             \
                (out) = (run)->n++;                                                  \
        }                                                                            \
    } while (0)

/* Keeps every other point once a series reaches its limit, so memory stays
 * bounded while the whole history remains drawn at lower resolution. */
static void scalar_thin(nt_scalar_series *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i += 2, k++) {
        s->steps[k] = s->steps[i];
        s->wall[k] = s->wall[i];
        s->values[k] = s->values[i];
    }
    s->n = k;
}

/* Grows three parallel arrays to hold `need` points. */
static bool grow3(int64_t **st, double **w, double **v, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need)
        ncap *= 2;
    int64_t *a = nt_realloc(*st, ncap * sizeof *a);
    if (a)
        *st = a;
    double *b = nt_realloc(*w, ncap * sizeof *b);
    if (b)
        *w = b;
    double *c = nt_realloc(*v, ncap * sizeof *c);
    if (c)
        *v = c;
    if (!a || !b || !c)
        return false;
    *cap = ncap;
    return true;
}

static void scalar_add(nt_scalar_series *s, int64_t step, double wall, double v)
{
    if (s->n >= NT_INDEX_MAX_SCALARS)
        scalar_thin(s);
    if (s->n > 0 && step < s->steps[s->n - 1]) {
        if (s->pn >= NT_INDEX_MAX_SCALARS || !grow3(&s->psteps, &s->pwall, &s->pvalues, &s->pcap, s->pn + 1))
            return;
        s->psteps[s->pn] = step;
        s->pwall[s->pn] = wall;
        s->pvalues[s->pn] = v;
        s->pn++;
        return;
    }
    if (!grow3(&s->steps, &s->wall, &s->values, &s->cap, s->n + 1))
        return;
    s->steps[s->n] = step;
    s->wall[s->n] = wall;
    s->values[s->n] = v;
    s->n++;
}

/* Pending points are sorted by (step, arrival): a stable order. */
static const int64_t *g_sort_steps;
static int cmp_pending(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t x = g_sort_steps[i], y = g_sort_steps[j];
    return x < y ? -1 : x > y ? 1 : i < j ? -1 : i > j;
}

/* Merges the pending points into the series: O(n + p log p).  A pending
 * point goes after the points of equal step already shown (it arrived
 * later).  Called by the single poller thread under the write lock. */
static void scalar_merge(nt_scalar_series *s)
{
    if (s->pn == 0)
        return;
    size_t p = s->pn, n = s->n;
    size_t *ord = nt_malloc(p * sizeof *ord);
    if (!ord || !grow3(&s->steps, &s->wall, &s->values, &s->cap, n + p)) {
        free(ord);
        s->pn = 0; /* out of memory: the late points are lost, not the series */
        return;
    }
    for (size_t i = 0; i < p; i++)
        ord[i] = i;
    g_sort_steps = s->psteps;
    qsort(ord, p, sizeof *ord, cmp_pending);
    /* Backwards merge in place: the largest of both tails goes last. */
    size_t i = n, j = p, k = n + p;
    while (j > 0) {
        size_t pj = ord[j - 1];
        if (i > 0 && s->steps[i - 1] > s->psteps[pj]) {
            i--;
            k--;
            s->steps[k] = s->steps[i];
            s->wall[k] = s->wall[i];
            s->values[k] = s->values[i];
        } else {
            j--;
            k--;
            s->steps[k] = s->psteps[pj];
            s->wall[k] = s->pwall[pj];
            s->values[k] = s->pvalues[pj];
        }
    }
    s->n = n + p;
    s->pn = 0;
    free(ord);
    while (s->n > NT_INDEX_MAX_SCALARS)
        scalar_thin(s);
}

static void histo_add(nt_histo_series *s, int64_t step, double wall, const nt_summary_value *v)
{
    if (s->n >= NT_INDEX_MAX_HISTOS) {
        size_t k = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (i % 2 == 0) {
                s->pts[k++] = s->pts[i];
            } else {
                free(s->pts[i].limits);
                free(s->pts[i].counts);
            }
        }
        s->n = k;
    }
    if (!grow_sz((void **)&s->pts, &s->cap, s->n, sizeof *s->pts))
        return;
    int nb = v->histo.n_buckets > 0 ? v->histo.n_buckets : 0;
    if (nb > 10000)
        nb = 10000;
    nt_histo_point *p = &s->pts[s->n];
    memset(p, 0, sizeof *p);
    p->step = step;
    p->wall = wall;
    p->min = v->histo.min;
    p->max = v->histo.max;
    p->num = v->histo.num;
    p->sum = v->histo.sum;
    p->sum_squares = v->histo.sum_squares;
    if (nb) {
        p->limits = nt_malloc((size_t)nb * sizeof(double));
        p->counts = nt_malloc((size_t)nb * sizeof(double));
        if (!p->limits || !p->counts) {
            free(p->limits);
            free(p->counts);
            return;
        }
        memcpy(p->limits, v->histo.limits, (size_t)nb * sizeof(double));
        memcpy(p->counts, v->histo.counts, (size_t)nb * sizeof(double));
    }
    p->n_buckets = nb;
    s->n++;
}

/* Appends an image or text, dropping the oldest beyond `limit`.  Memory
 * stays bounded: a text longer than NT_INDEX_MAX_TEXT is kept cut (with a
 * note of its length), an image over NT_INDEX_MAX_IMAGE is not kept, and a
 * run keeps at most NT_INDEX_MAX_BLOB_BYTES of both (the oldest of this
 * tag go first). */
static void blob_add(nt_run *r, nt_blob_series *s, size_t limit, int64_t step, double wall, const void *data,
                     size_t len, int w, int h, bool text)
{
    s->total++;
    char note[96] = "";
    size_t keep = len;
    if (text && len > NT_INDEX_MAX_TEXT) {
        keep = NT_INDEX_MAX_TEXT;
        snprintf(note, sizeof note, "\n\n[cut: the text has %zu bytes; the first %zu are shown]", len, keep);
    } else if (!text && len > NT_INDEX_MAX_IMAGE) {
        r->skipped++;
        return;
    }
    size_t nl = strlen(note);
    while (s->n > 0 && r->blob_bytes + keep + nl > NT_INDEX_MAX_BLOB_BYTES) {
        r->blob_bytes -= s->pts[0].len;
        free(s->pts[0].data);
        memmove(s->pts, s->pts + 1, (s->n - 1) * sizeof *s->pts);
        s->n--;
    }
    if (r->blob_bytes + keep + nl > NT_INDEX_MAX_BLOB_BYTES) {
        r->skipped++;
        return;
    }
    uint8_t *copy = nt_malloc(keep + nl + 1);
    if (!copy)
        return;
    if (keep)
        memcpy(copy, data, keep);
    memcpy(copy + keep, note, nl + 1);
    if (s->n >= limit) {
        r->blob_bytes -= s->pts[0].len;
        free(s->pts[0].data);
        memmove(s->pts, s->pts + 1, (s->n - 1) * sizeof *s->pts);
        s->n--;
    }
    if (!grow_sz((void **)&s->pts, &s->cap, s->n, sizeof *s->pts)) {
        free(copy);
        return;
    }
    s->pts[s->n++] = (nt_blob_point){step, wall, w, h, copy, keep + nl};
    r->blob_bytes += keep + nl;
}

static void apply_event(nt_run *r, const nt_event *ev)
{
    r->records++;
    if (ev->wall_time > 0) {
        if (r->first_wall == 0 || ev->wall_time < r->first_wall)
            r->first_wall = ev->wall_time;
        if (ev->wall_time > r->last_wall)
            r->last_wall = ev->wall_time;
    }
    if (ev->kind == NT_EVENT_GRAPH && ev->graph_def && ev->graph_def_len < (64u << 20)) {
        uint8_t *g = nt_malloc(ev->graph_def_len ? ev->graph_def_len : 1);
        if (g) {
            memcpy(g, ev->graph_def, ev->graph_def_len);
            free(r->graph_def);
            r->graph_def = g;
            r->graph_def_len = ev->graph_def_len;
        }
        return;
    }
    if (ev->kind != NT_EVENT_SUMMARY)
        return;
    for (int i = 0; i < ev->n_values; i++) {
        const nt_summary_value *v = &ev->values[i];
        int k;
        switch (v->kind) {
        case NT_SUMMARY_SCALAR:
            FIND_SERIES(r, scalars, n_scalars, cap_scalars, nt_scalar_series, v->tag, k);
            if (k >= 0)
                scalar_add(&r->scalars[k], ev->step, ev->wall_time, v->scalar);
            break;
        case NT_SUMMARY_HISTOGRAM:
            FIND_SERIES(r, histos, n_histos, cap_histos, nt_histo_series, v->tag, k);
            if (k >= 0)
                histo_add(&r->histos[k], ev->step, ev->wall_time, v);
            break;
        case NT_SUMMARY_IMAGE:
            FIND_SERIES(r, images, n_images, cap_images, nt_blob_series, v->tag, k);
            if (k >= 0)
                blob_add(r, &r->images[k], NT_INDEX_MAX_IMAGES, ev->step, ev->wall_time, v->image.data,
                         v->image.len, v->image.width, v->image.height, false);
            break;
        case NT_SUMMARY_TEXT:
            FIND_SERIES(r, texts, n_texts, cap_texts, nt_blob_series, v->tag, k);
            if (k >= 0 && v->text)
                blob_add(r, &r->texts[k], NT_INDEX_MAX_TEXTS, ev->step, ev->wall_time, v->text,
                         v->text_len, 0, 0, true);
            break;
        default:
            break;
        }
    }
}

/* ---------------------------------------------------------------- discovery */

static bool has_tfevents_name(const char *name) { return strstr(name, "tfevents") != NULL; }

/* Files that make a directory nntrace output: event files, and what run
 * --run-dir, doctor, report -o, eval --run-dir and analyze -o write. */
static bool is_output_file(const char *name)
{
    static const char *const names[] = {"run.json",      "stats.jsonl",  "profile.json", "eval.json",
                                        "analysis.json", "findings.json", "report.json"};
    if (has_tfevents_name(name))
        return true;
    for (size_t i = 0; i < NT_ARRAY_LEN(names); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* True if dir directly holds nntrace output. */
static bool dir_is_run(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool yes = false;
    struct dirent *e;
    while (!yes && (e = readdir(d)) != NULL)
        yes = is_output_file(e->d_name);
    closedir(d);
    return yes;
}

static void note_skipped(nt_index *ix, const char *dir, const char *why)
{
    if (ix->n_scan_skipped >= NT_INDEX_MAX_SKIPPED)
        return;
    if (!grow((void **)&ix->scan_skipped, &ix->cap_scan_skipped, ix->n_scan_skipped, sizeof *ix->scan_skipped))
        return;
    nt_skipped *p = ix->scan_skipped;
    memset(&p[ix->n_scan_skipped], 0, sizeof *p); /* compared bytewise between scans */
    snprintf(p[ix->n_scan_skipped].dir, sizeof p->dir, "%s", dir);
    snprintf(p[ix->n_scan_skipped].why, sizeof p->why, "%s", why);
    ix->n_scan_skipped++;
}

static nt_status add_run(nt_index *ix, int root, const char *name, const char *dir)
{
    bool found;
    int pos = find_run_pos(ix, name, &found);
    if (found) {
        ix->runs[pos]->seen = true;
        return NT_OK;
    }
    if (ix->n_runs >= NT_INDEX_MAX_RUNS) {
        note_skipped(ix, dir, "more runs than the dashboard holds (512)");
        return NT_OK;
    }
    nt_run *r = nt_calloc(1, sizeof *r);
    if (!r)
        return NT_ERR_NOMEM;
    r->name = nt_strdup(name);
    r->dir = nt_strdup(dir);
    r->root = root;
    r->seen = true;
    r->ordinal = -1; /* numbered after the scan, with the others it found, in name order */
    if (!r->name || !r->dir) {
        run_free(r);
        return NT_ERR_NOMEM;
    }
    pthread_rwlock_wrlock(&ix->lock); /* the array may move: no reader may be looking */
    if (!grow((void **)&ix->runs, &ix->cap_runs, ix->n_runs, sizeof *ix->runs)) {
        pthread_rwlock_unlock(&ix->lock);
        run_free(r);
        return NT_ERR_NOMEM;
    }
    memmove(ix->runs + pos + 1, ix->runs + pos, (size_t)(ix->n_runs - pos) * sizeof *ix->runs);
    ix->runs[pos] = r;
    ix->n_runs++;
    /* Announced only once listed: a client woken by the new version must
     * find the run. */
    r->version = bump_version(ix);
    pthread_rwlock_unlock(&ix->lock);
    return NT_OK;
}

/* Walks dir (depth levels left) for run directories.  Symlinks are not
 * followed, hidden directories and node_modules are not searched; those
 * that hold nntrace output, and directories that cannot be read or lie too
 * deep, are noted as skipped with the reason. */
static void scan_dir(nt_index *ix, int root, const char *dir, const char *name, int depth)
{
    if (dir_is_run(dir))
        add_run(ix, root, name, dir);
    DIR *d = opendir(dir);
    if (!d) {
        char why[300];
        snprintf(why, sizeof why, "cannot read it: %s", strerror(errno));
        note_skipped(ix, dir, why);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (ix->scan_budget == 0) {
            note_skipped(ix, dir, "the scan stopped here: more than 100000 directory entries");
            break;
        }
        ix->scan_budget--;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || strcmp(e->d_name, "tensors") == 0)
            continue;
        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN && e->d_type != DT_LNK)
            continue;
        char sub[PATH_MAX], subname[1024];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        struct stat st, tst;
        if (lstat(sub, &st) != 0)
            continue;
        if (S_ISLNK(st.st_mode)) {
            if (stat(sub, &tst) == 0 && S_ISDIR(tst.st_mode))
                note_skipped(ix, sub, "a symlink: not followed (the dashboard stays inside the given directories)");
            continue;
        }
        if (!S_ISDIR(st.st_mode))
            continue;
        if (e->d_name[0] == '.' || strcmp(e->d_name, "node_modules") == 0) {
            if (dir_is_run(sub))
                note_skipped(ix, sub, e->d_name[0] == '.' ? "a hidden directory" : "inside node_modules");
            continue;
        }
        if (depth <= 0) {
            note_skipped(ix, sub, "deeper than 4 levels below the given directory: not searched");
            continue;
        }
        snprintf(subname, sizeof subname, "%s/%s", name, e->d_name);
        scan_dir(ix, root, sub, subname, depth - 1);
    }
    closedir(d);
}

/* ---------------------------------------------------------------- reading */

/* Signature of the run's other files, to notice when they change. */
static uint64_t files_signature(const nt_run *r)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < NT_ARRAY_LEN(run_files); i++) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", r->dir, run_files[i]);
        struct stat st;
        uint64_t v = 0;
        if (stat(p, &st) == 0)
            v = (uint64_t)st.st_size * 1000003u ^ (uint64_t)st.st_mtim.tv_sec * 1000000007u ^
                (uint64_t)st.st_mtim.tv_nsec;
        h = (h ^ v) * 1099511628211ull;
    }
    return h;
}

/* Adds event files of the run not seen before (regular files, or symlinks
 * that resolve inside the run's root). */
static void discover_files(nt_index *ix, nt_run *r)
{
    DIR *d = opendir(r->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!has_tfevents_name(e->d_name))
            continue;
        char p[PATH_MAX], canon[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", r->dir, e->d_name);
        struct stat st;
        if (!realpath(p, canon) || !nt_serve_path_within(ix->roots[r->root], canon) || stat(canon, &st) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        bool known = false;
        for (int i = 0; i < r->n_files && !known; i++)
            known = strcmp(r->files[i].path, canon) == 0;
        if (known || r->n_files >= 256)
            continue;
        if (!grow((void **)&r->files, &r->cap_files, r->n_files, sizeof *r->files))
            break;
        nt_evfile *f = &r->files[r->n_files];
        memset(f, 0, sizeof *f);
        f->path = nt_strdup(canon);
        if (!f->path)
            break;
        f->fd = open(canon, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        struct stat fst;
        if (f->fd < 0 || fstat(f->fd, &fst) != 0 || !S_ISREG(fst.st_mode) || nt_events_open(canon, &f->r) != NT_OK) {
            if (f->fd >= 0)
                close(f->fd);
            free(f->path);
            continue;
        }
        f->dev = fst.st_dev;
        f->ino = fst.st_ino;
        r->n_files++;
    }
    closedir(d);
}

static int64_t mtime_ns(const struct stat *st) { return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec; }

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when the file was rewritten rather than appended to since the last
 * read: another inode, shorter than what was read, or (when size or mtime
 * moved) the bytes just before the read offset -- the data CRC of the last
 * record read -- are no longer what they were. */
static bool file_rewritten(nt_evfile *f, const struct stat *st)
{
    if (st->st_ino != f->ino || st->st_dev != f->dev)
        return true;
    uint64_t off = nt_events_offset(f->r);
    if ((uint64_t)st->st_size < off)
        return true;
    if ((uint64_t)st->st_size == f->size_seen && mtime_ns(st) == f->mtime_ns)
        return false;
    if (!f->have_tail || off < 4)
        return false;
    uint8_t now[4];
    return pread(f->fd, now, 4, (off_t)(off - 4)) != 4 || memcmp(now, f->tail, 4) != 0;
}

static void remember_tail(nt_evfile *f)
{
    uint64_t off = nt_events_offset(f->r);
    f->have_tail = off >= 4 && pread(f->fd, f->tail, 4, (off_t)(off - 4)) == 4;
}

/* If the next record's header (valid CRC) announces more than
 * NT_INDEX_MAX_RECORD bytes, reopens the reader past it, so no reader ever
 * buffers it; returns true then.  Only looked at while that much of the
 * file is unread (a reader never buffers beyond the end of the file). */
static bool skip_oversized(nt_run *r, nt_evfile *f, uint64_t size)
{
    uint64_t off = nt_events_offset(f->r);
    if (size - off <= NT_INDEX_MAX_RECORD)
        return false;
    uint8_t h[12];
    if (pread(f->fd, h, 12, (off_t)off) != 12)
        return false;
    uint64_t len = 0;
    uint32_t crc = 0;
    for (int i = 7; i >= 0; i--)
        len = len << 8 | h[i];
    for (int i = 11; i >= 8; i--)
        crc = crc << 8 | h[i];
    if (nt_crc32c_mask(nt_crc32c(h, 8)) != crc || len <= NT_INDEX_MAX_RECORD)
        return false;
    nt_events *next = NULL;
    if (nt_events_open_at(f->path, off + 16 + len, &next) != NT_OK)
        return false;
    f->bad_base += nt_events_bad_records(f->r);
    nt_events_close(f->r);
    f->r = next;
    r->skipped++;
    snprintf(r->problem, sizeof r->problem, "record of %llu bytes at offset %llu skipped (larger than %u MB)",
             (unsigned long long)len, (unsigned long long)off, NT_INDEX_MAX_RECORD >> 20);
    return true;
}

/* Merges pending out-of-order points of every scalar series (write lock held). */
static void merge_pending(nt_run *r)
{
    for (int i = 0; i < r->n_scalars; i++)
        scalar_merge(&r->scalars[i]);
}

/* Reads new records from every file of a run, at most
 * NT_INDEX_RECORDS_PER_POLL and about NT_INDEX_POLL_MS per file.  Records
 * are decoded without the index lock (a damaged file may take the reader
 * long to resync) and applied one at a time under the write lock, so
 * requests are never held up by reading.  Returns true if anything
 * changed; *more if a file has records left. */
static bool read_run(nt_index *ix, nt_run *r, bool *more)
{
    bool changed = false;
    /* A file that shrank, was replaced or rewritten in place: start the run over. */
    for (int i = 0; i < r->n_files; i++) {
        struct stat st;
        nt_evfile *f = &r->files[i];
        if (stat(f->path, &st) == 0 && file_rewritten(f, &st)) {
            pthread_rwlock_wrlock(&ix->lock);
            run_clear_data(r);
            pthread_rwlock_unlock(&ix->lock);
            run_close_files(r);
            discover_files(ix, r);
            changed = true;
            break;
        }
    }
    for (int i = 0; i < r->n_files; i++) {
        nt_evfile *f = &r->files[i];
        struct stat st;
        if (fstat(f->fd, &st) != 0)
            continue;
        if ((uint64_t)st.st_size == f->size_seen && mtime_ns(&st) == f->mtime_ns && !f->truncated)
            continue;
        f->size_seen = (uint64_t)st.st_size;
        f->mtime_ns = mtime_ns(&st);
        size_t count = 0;
        bool have = true;
        int64_t t0 = mono_ms();
        while (have && count < NT_INDEX_RECORDS_PER_POLL) {
            if (skip_oversized(r, f, (uint64_t)st.st_size))
                changed = true;
            nt_event ev;
            if (nt_events_next(f->r, &ev, &have) != NT_OK || !have) {
                have = false;
                break;
            }
            pthread_rwlock_wrlock(&ix->lock);
            apply_event(r, &ev);
            pthread_rwlock_unlock(&ix->lock);
            changed = true;
            if (++count % 256 == 0 && mono_ms() - t0 > NT_INDEX_POLL_MS)
                break;
        }
        if (have) {
            *more = true;
            f->size_seen = 0; /* look again next poll even if the size stays */
        }
        f->truncated = nt_events_truncated(f->r);
        remember_tail(f);
    }
    pthread_rwlock_wrlock(&ix->lock);
    merge_pending(r);
    uint64_t bad = 0;
    bool trunc = false;
    for (int i = 0; i < r->n_files; i++) {
        bad += r->files[i].bad_base + nt_events_bad_records(r->files[i].r);
        trunc |= r->files[i].truncated;
        const char *p = nt_events_problem(r->files[i].r);
        if (p[0])
            snprintf(r->problem, sizeof r->problem, "%s", p);
    }
    if (bad != r->bad_records || trunc != r->truncated)
        changed = true;
    r->bad_records = bad;
    r->truncated = trunc;
    pthread_rwlock_unlock(&ix->lock);
    return changed;
}

nt_status nt_index_poll(nt_index *ix, bool *more)
{
    bool more_local = false;
    pthread_mutex_lock(&ix->poll_mu);
    ix->scan_budget = 100000;
    for (int i = 0; i < ix->n_runs; i++)
        ix->runs[i]->seen = false;
    ix->scan_skipped = NULL;
    ix->n_scan_skipped = ix->cap_scan_skipped = 0;
    for (int i = 0; i < ix->n_roots; i++)
        scan_dir(ix, i, ix->roots[i], ix->root_names[i], NT_INDEX_MAX_DEPTH);
    /* Runs found by this scan get their ordinals (colours) in name order, so
     * a restart over the same directories gives the same colours, and a run
     * found later never takes the colour of one found before. */
    pthread_rwlock_wrlock(&ix->lock);
    for (int i = 0; i < ix->n_runs; i++)
        if (ix->runs[i]->ordinal < 0)
            ix->runs[i]->ordinal = ix->next_ordinal++;
    pthread_rwlock_unlock(&ix->lock);
    /* The skipped list changes rarely: swap it in, and announce a change. */
    bool skipped_changed = ix->n_scan_skipped != ix->n_skipped ||
                           (ix->n_skipped && memcmp(ix->skipped, ix->scan_skipped,
                                                    (size_t)ix->n_skipped * sizeof *ix->skipped) != 0);
    pthread_rwlock_wrlock(&ix->lock);
    nt_skipped *old = ix->skipped;
    ix->skipped = ix->scan_skipped;
    ix->n_skipped = ix->n_scan_skipped;
    pthread_rwlock_unlock(&ix->lock);
    free(old);
    ix->scan_skipped = NULL;
    if (skipped_changed)
        bump_version(ix);
    for (int i = 0; i < ix->n_runs; i++) {
        nt_run *r = ix->runs[i];
        discover_files(ix, r);
        bool changed = read_run(ix, r, &more_local);
        uint64_t sig = files_signature(r);
        if (sig != r->files_sig) {
            changed = true;
            r->files_sig = sig;
            char why[256];
            nt_rundir_state state = nt_rundir_inspect(r->dir, why, sizeof why);
            pthread_rwlock_wrlock(&ix->lock);
            r->state = (int)state;
            snprintf(r->state_why, sizeof r->state_why, "%s", state == NT_RUNDIR_COMPLETE ? "" : why);
            pthread_rwlock_unlock(&ix->lock);
        }
        if (changed) {
            uint64_t v = bump_version(ix);
            pthread_rwlock_wrlock(&ix->lock);
            r->version = v;
            pthread_rwlock_unlock(&ix->lock);
        }
    }
    pthread_mutex_unlock(&ix->poll_mu);
    if (more)
        *more = more_local;
    return NT_OK;
}
