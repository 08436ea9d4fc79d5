/*
 * api_files.c — the dashboard API over the files of a run directory other
 * than event files: per-node statistics (stats.jsonl), the profile
 * (profile.json, aggregated per node), the JSON files other nntrace tools
 * leave there (run.json, findings.json from doctor, report.json from
 * report, eval.json from eval, tensors/index.json), heatmaps from .npy maps
 * (sensitivity maps from analyze), a listing of artefacts, and raw files.
 *
 * None of these files is required: a missing one is a 404 the front end
 * expects.  Each is read whole but capped in size, and anything JSON is
 * passed through nt_json_sanitize so NaN statistics reach the browser as
 * null.  Every file is opened through nt_serve_read_file (pathsafe.c):
 * no symlink out of the run directory, no gap between check and open.
 */
#include "serve/serve.h"
#include "onnx/pb.h"

#include <dirent.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RAW_FILE_CAP (64u << 20)

const char *nt_serve_content_type(const char *name)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},   {".json", "application/json"},
        {".jsonl", "application/x-ndjson"},    {".svg", "image/svg+xml"},
        {".png", "image/png"},                 {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},               {".gif", "image/gif"},
        {".txt", "text/plain; charset=utf-8"}, {".csv", "text/csv; charset=utf-8"},
        {".dot", "text/plain; charset=utf-8"}, {".ico", "image/x-icon"},
        {".map", "application/json"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < NT_ARRAY_LEN(types); i++)
        if (strcasecmp(dot, types[i][0]) == 0)
            return types[i][1];
    return "application/octet-stream";
}

/* Reads `rel` of the run directory `dir` (race-free, see pathsafe.c) up to
 * `cap` bytes.  On failure sets an error response and returns NULL. */
static char *read_run_file(const char *dir, const char *rel, size_t cap, size_t *len, nt_api_response *r)
{
    char *data;
    nt_status s = nt_serve_read_file(dir, rel, cap, &data, len);
    if (s == NT_OK)
        return data;
    if (s == NT_ERR_NOT_FOUND)
        nt_api_error(r, 404, "the run has no %s", rel);
    else if (s == NT_ERR_INVALID_ARG)
        nt_api_error(r, 403, "refused path");
    else if (s == NT_ERR_UNSUPPORTED)
        nt_api_error(r, 413, "%s", nt_last_error());
    else
        nt_api_error(r, 500, "cannot read %s", rel);
    return NULL;
}

void nt_api_json_file(const char *dir, const char *name, nt_api_response *r)
{
    size_t len;
    char *data = read_run_file(dir, name, NT_SERVE_MAX_FILE, &len, r);
    if (!data)
        return;
    nt_json_sanitize(&r->body, data, len);
    free(data);
    if (!r->body.failed && !nt_json_valid(r->body.data ? r->body.data : "", r->body.len))
        return nt_api_error(r, 422, "%s is not valid JSON", name);
    r->status = 200;
    r->content_type = "application/json";
}

/* stats.jsonl as {"nodes": [...]}: complete lines only (a file being
 * rewritten may end mid-line), and only those that are JSON objects: one
 * corrupt line costs that line, not the whole answer. */
void nt_api_stats(const char *dir, nt_api_response *r)
{
    size_t len;
    char *data = read_run_file(dir, "stats.jsonl", NT_SERVE_MAX_FILE, &len, r);
    if (!data)
        return;
    nt_buf *b = &r->body;
    nt_buf_puts(b, "{\"nodes\": [");
    int n = 0;
    char *line = data, *end = data + len;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            break;
        char *s = line, *e = nl;
        while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (e > s && *s == '{' && e[-1] == '}') {
            size_t mark = b->len;
            nt_buf_puts(b, n ? ",\n" : "\n");
            size_t start = b->len;
            nt_json_sanitize(b, s, (size_t)(e - s));
            if (!b->failed && nt_json_valid(b->data + start, b->len - start))
                n++;
            else if (!b->failed)
                b->len = mark;
        }
        line = nl + 1;
    }
    nt_buf_puts(b, "\n]}\n");
    free(data);
    r->status = 200;
    r->content_type = "application/json";
}

/* ---------------------------------------------------------------- profile */

typedef struct prof_node {
    const char *name, *op;
    long long calls;
    double total, max;
} prof_node;

static int cmp_prof(const void *a, const void *b)
{
    const prof_node *x = a, *y = b;
    return x->total < y->total ? 1 : x->total > y->total ? -1 : strcmp(x->name, y->name);
}

static int cmp_prof_name(const void *a, const void *b)
{
    return strcmp(((const prof_node *)a)->name, ((const prof_node *)b)->name);
}

/* profile.json (Chrome trace events) summed per node: calls, total, mean
 * and max duration in microseconds, sorted by total time. */
void nt_api_profile(const char *dir, nt_api_response *r)
{
    size_t len;
    char *data = read_run_file(dir, "profile.json", NT_SERVE_MAX_FILE, &len, r);
    if (!data)
        return;
    nt_buf clean;
    nt_buf_init(&clean);
    nt_json_sanitize(&clean, data, len);
    free(data);
    json_error_t jerr;
    json_t *root = clean.failed ? NULL : json_loadb(clean.data ? clean.data : "", clean.len, 0, &jerr);
    nt_buf_deinit(&clean);
    if (!root)
        return nt_api_error(r, 422, "profile.json is not valid JSON");
    json_t *events = json_is_array(root) ? root : json_object_get(root, "traceEvents");
    size_t n = json_array_size(events);
    prof_node *nodes = nt_calloc(n ? n : 1, sizeof *nodes);
    if (!nodes) {
        json_decref(root);
        return nt_api_error(r, 500, "out of memory");
    }
    size_t m = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(events, i);
        const char *ph = json_string_value(json_object_get(e, "ph"));
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!ph || strcmp(ph, "X") != 0 || !name)
            continue;
        const char *op = json_string_value(json_object_get(e, "cat"));
        double dur = json_number_value(json_object_get(e, "dur"));
        nodes[m++] = (prof_node){name, op ? op : "", 1, dur, dur};
        total += dur;
    }
    /* Merge repeated runs of the same node. */
    qsort(nodes, m, sizeof *nodes, cmp_prof_name);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && strcmp(nodes[k - 1].name, nodes[i].name) == 0) {
            nodes[k - 1].calls++;
            nodes[k - 1].total += nodes[i].total;
            if (nodes[i].max > nodes[k - 1].max)
                nodes[k - 1].max = nodes[i].max;
        } else {
            nodes[k++] = nodes[i];
        }
    }
    qsort(nodes, k, sizeof *nodes, cmp_prof);
    nt_buf *b = &r->body;
    nt_buf_puts(b, "{\"total_us\": ");
    nt_json_num(b, total);
    nt_buf_puts(b, ", \"nodes\": [");
    for (size_t i = 0; i < k; i++) {
        nt_buf_puts(b, i ? ",\n {\"name\": " : "\n {\"name\": ");
        nt_buf_json_string(b, nodes[i].name);
        nt_buf_puts(b, ", \"op\": ");
        nt_buf_json_string(b, nodes[i].op);
        nt_buf_printf(b, ", \"calls\": %lld, \"total_us\": ", nodes[i].calls);
        nt_json_num(b, nodes[i].total);
        nt_buf_puts(b, ", \"mean_us\": ");
        nt_json_num(b, nodes[i].total / (double)nodes[i].calls);
        nt_buf_puts(b, ", \"max_us\": ");
        nt_json_num(b, nodes[i].max);
        nt_buf_puts(b, "}");
    }
    nt_buf_puts(b, "\n]}\n");
    free(nodes);
    json_decref(root);
    r->status = 200;
    r->content_type = "application/json";
}

/* ---------------------------------------------------------------- heatmaps */

/* A .npy map as a matrix for a heatmap: size-1 dims dropped, leading dims
 * averaged away (channels of a CHW map), block-averaged down to at most
 * `max` rows and columns. */
void nt_api_heatmap(const char *dir, const char *rel, nt_query_fn q, void *ctx, nt_api_response *r)
{
    size_t len;
    char *data = read_run_file(dir, rel, RAW_FILE_CAP, &len, r);
    if (!data)
        return;
    nt_tensor *t = NULL;
    nt_status s = nt_npy_parse(data, len, rel, &t);
    free(data);
    if (s != NT_OK)
        return nt_api_error(r, 422, "not a readable .npy file: %s", nt_last_error());
    int64_t dims[NT_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < t->ndim; i++)
        if (t->dims[i] != 1)
            dims[nd++] = t->dims[i];
    int64_t rows = nd >= 2 ? dims[nd - 2] : 1, cols = nd >= 1 ? dims[nd - 1] : 1;
    int64_t numel = nt_tensor_numel(t);
    if (numel <= 0 || rows <= 0 || cols <= 0 || !nt_dtype_is_numeric(t->dtype)) {
        nt_tensor_free(t);
        return nt_api_error(r, 422, "the map is empty or not numeric");
    }
    int64_t planes = numel / (rows * cols);
    long long max = 256;
    const char *ms = q(ctx, "max");
    if (ms) {
        max = strtoll(ms, NULL, 10);
        max = max < 8 ? 8 : max > 1024 ? 1024 : max;
    }
    int64_t orows = rows < max ? rows : max, ocols = cols < max ? cols : max;
    double *acc = nt_calloc((size_t)(orows * ocols), sizeof *acc);
    double *cnt = nt_calloc((size_t)(orows * ocols), sizeof *cnt);
    if (!acc || !cnt) {
        free(acc);
        free(cnt);
        nt_tensor_free(t);
        return nt_api_error(r, 500, "out of memory");
    }
    for (int64_t p = 0; p < planes; p++)
        for (int64_t y = 0; y < rows; y++)
            for (int64_t x = 0; x < cols; x++) {
                double v = nt_tensor_get_f64(t, (p * rows + y) * cols + x);
                if (!isfinite(v))
                    continue;
                int64_t o = (y * orows / rows) * ocols + x * ocols / cols;
                acc[o] += v;
                cnt[o] += 1;
            }
    double lo = INFINITY, hi = -INFINITY;
    for (int64_t i = 0; i < orows * ocols; i++) {
        acc[i] = cnt[i] > 0 ? acc[i] / cnt[i] : NAN;
        if (isfinite(acc[i])) {
            lo = acc[i] < lo ? acc[i] : lo;
            hi = acc[i] > hi ? acc[i] : hi;
        }
    }
    nt_buf *b = &r->body;
    nt_buf_puts(b, "{\"shape\": [");
    for (int i = 0; i < t->ndim; i++)
        nt_buf_printf(b, "%s%lld", i ? ", " : "", (long long)t->dims[i]);
    nt_buf_printf(b, "], \"rows\": %lld, \"cols\": %lld, \"min\": ", (long long)orows, (long long)ocols);
    nt_json_num(b, lo);
    nt_buf_puts(b, ", \"max\": ");
    nt_json_num(b, hi);
    nt_buf_puts(b, ", \"data\": [");
    for (int64_t i = 0; i < orows * ocols; i++) {
        if (i)
            nt_buf_putc(b, ',');
        nt_json_num(b, acc[i]);
    }
    nt_buf_puts(b, "]}\n");
    free(acc);
    free(cnt);
    nt_tensor_free(t);
    r->status = 200;
    r->content_type = "application/json";
}

/* ---------------------------------------------------------------- raw files, listing */

void nt_api_raw_file(const char *dir, const char *rel, nt_api_response *r)
{
    size_t len;
    char *data = read_run_file(dir, rel, RAW_FILE_CAP, &len, r);
    if (!data)
        return;
    nt_buf_append(&r->body, data, len);
    free(data);
    r->status = 200;
    r->content_type = nt_serve_content_type(rel);
    /* SVG and HTML can carry scripts: shown sandboxed, never as our origin. */
    r->sandbox = strstr(r->content_type, "svg") || strstr(r->content_type, "html");
}

static const char *artifact_kind(const char *name)
{
    static const char *const kinds[][2] = {
        {".png", "image"}, {".jpg", "image"}, {".jpeg", "image"}, {".gif", "image"},
        {".svg", "svg"},   {".npy", "map"},   {".html", "html"},  {".json", "json"},
        {".jsonl", "json"}, {".txt", "text"}, {".csv", "text"},   {".dot", "text"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < NT_ARRAY_LEN(kinds); i++)
        if (strcasecmp(dot, kinds[i][0]) == 0)
            return kinds[i][1];
    return NULL;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Collects relative paths of artefacts (not symlinks, not hidden, not the
 * tensor dumps) up to two levels deep. */
static void list_dir(const char *dir, const char *prefix, int depth, char ***names, size_t *n, size_t *cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && *n < 1000) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "tensors") == 0 || strcmp(e->d_name, "node_modules") == 0)
            continue;
        char full[PATH_MAX], rel[PATH_MAX];
        snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
        snprintf(rel, sizeof rel, "%s%s", prefix, e->d_name);
        struct stat st;
        if (lstat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && depth > 0) {
            char sub[PATH_MAX];
            snprintf(sub, sizeof sub, "%s/", rel);
            list_dir(full, sub, depth - 1, names, n, cap);
            continue;
        }
        if (!S_ISREG(st.st_mode) || !artifact_kind(e->d_name) || strstr(e->d_name, "tfevents"))
            continue;
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 32;
            char **p = nt_realloc(*names, nc * sizeof *p);
            if (!p)
                break;
            *names = p;
            *cap = nc;
        }
        char *copy = nt_strdup(rel);
        if (copy)
            (*names)[(*n)++] = copy;
    }
    closedir(d);
}

void nt_api_artifacts(const char *dir, nt_api_response *r)
{
    char **names = NULL;
    size_t n = 0, cap = 0;
    list_dir(dir, "", 2, &names, &n, &cap);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    nt_buf *b = &r->body;
    nt_buf_puts(b, "{\"files\": [");
    for (size_t i = 0; i < n; i++) {
        char full[PATH_MAX];
        snprintf(full, sizeof full, "%s/%s", dir, names[i]);
        struct stat st;
        long long size = stat(full, &st) == 0 ? (long long)st.st_size : -1;
        nt_buf_puts(b, i ? ",\n {\"path\": " : "\n {\"path\": ");
        nt_buf_json_string(b, names[i]);
        nt_buf_printf(b, ", \"kind\": \"%s\", \"size\": %lld}", artifact_kind(names[i]), size);
        free(names[i]);
    }
    free(names);
    nt_buf_puts(b, "\n]}\n");
    r->status = 200;
    r->content_type = "application/json";
}

/* ---------------------------------------------------------------- GraphDef */

/* Appends the dims of a TensorShapeProto as a JSON array (-1 unknown). */
static nt_status shape_json(const nt_pb *c, const nt_pb_field *f, nt_buf *out)
{
    nt_pb s;
    nt_pb_field g;
    nt_status st = nt_pb_sub(c, f, &s);
    int n = 0;
    nt_buf_putc(out, '[');
    while (st == NT_OK && (st = nt_pb_next(&s, &g)) == NT_OK && !g.end) {
        if (g.num != 2 || g.wire != NT_PB_LEN)
            continue;
        nt_pb d;
        nt_pb_field h;
        long long size = -1;
        st = nt_pb_sub(&s, &g, &d);
        while (st == NT_OK && (st = nt_pb_next(&d, &h)) == NT_OK && !h.end)
            if (h.num == 1 && h.wire == NT_PB_VARINT)
                size = (long long)h.v;
        nt_buf_printf(out, "%s%lld", n++ ? ", " : "", size);
    }
    nt_buf_putc(out, ']');
    return st;
}

/* The "_output_shapes" attribute (a map entry key=1, value=2 AttrValue
 * whose list=1 holds shape=7 entries) as "shapes": [[...], ...]. */
static nt_status attr_json(const nt_pb *c, const nt_pb_field *f, nt_buf *out, bool *wrote)
{
    nt_pb e;
    nt_pb_field g;
    nt_status st = nt_pb_sub(c, f, &e);
    const uint8_t *key = NULL;
    size_t klen = 0;
    nt_pb_field value = {0};
    bool have_value = false;
    while (st == NT_OK && (st = nt_pb_next(&e, &g)) == NT_OK && !g.end) {
        if (g.num == 1 && g.wire == NT_PB_LEN) {
            key = g.data;
            klen = g.len;
        } else if (g.num == 2 && g.wire == NT_PB_LEN) {
            value = g;
            have_value = true;
        }
    }
    if (st != NT_OK || !key || klen != 14 || memcmp(key, "_output_shapes", 14) != 0 || !have_value || *wrote)
        return st;
    nt_pb v, l;
    nt_pb_field h, k;
    st = nt_pb_sub(&e, &value, &v);
    int n = 0;
    while (st == NT_OK && (st = nt_pb_next(&v, &h)) == NT_OK && !h.end) {
        if (h.num != 1 || h.wire != NT_PB_LEN)
            continue;
        st = nt_pb_sub(&v, &h, &l);
        while (st == NT_OK && (st = nt_pb_next(&l, &k)) == NT_OK && !k.end) {
            if (k.num != 7 || k.wire != NT_PB_LEN)
                continue;
            nt_buf_puts(out, n++ ? ", " : ", \"shapes\": [");
            st = shape_json(&l, &k, out);
        }
    }
    if (n)
        nt_buf_putc(out, ']');
    *wrote = n > 0;
    return st;
}

static void json_bytes(nt_buf *out, const uint8_t *s, size_t n)
{
    char tmp[1024];
    if (n >= sizeof tmp)
        n = sizeof tmp - 1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    nt_buf_json_string(out, tmp);
}

nt_status nt_graphdef_to_json(const uint8_t *data, size_t len, nt_buf *out)
{
    nt_pb c = nt_pb_init(data, len);
    nt_pb_field f;
    nt_status st;
    int n = 0;
    /* Fields may come in any order: gather each node's parts, then emit. */
    nt_buf name, op, inputs, shapes;
    nt_buf_init(&name);
    nt_buf_init(&op);
    nt_buf_init(&inputs);
    nt_buf_init(&shapes);
    nt_buf_puts(out, "{\"nodes\": [");
    while ((st = nt_pb_next(&c, &f)) == NT_OK && !f.end) {
        if (f.num != 1 || f.wire != NT_PB_LEN || n >= 50000)
            continue;
        nt_pb nd;
        nt_pb_field g;
        st = nt_pb_sub(&c, &f, &nd);
        if (st != NT_OK)
            break;
        name.len = op.len = inputs.len = shapes.len = 0;
        nt_buf_puts(&name, "\"\"");
        nt_buf_puts(&op, "\"\"");
        int n_inputs = 0;
        bool have_shapes = false;
        while ((st = nt_pb_next(&nd, &g)) == NT_OK && !g.end) {
            if (g.wire != NT_PB_LEN)
                continue;
            if (g.num == 1 || g.num == 2) {
                nt_buf *b = g.num == 1 ? &name : &op;
                b->len = 0;
                json_bytes(b, g.data, g.len);
            } else if (g.num == 3) {
                nt_buf_puts(&inputs, n_inputs++ ? ", " : "");
                json_bytes(&inputs, g.data, g.len);
            } else if (g.num == 5) {
                if ((st = attr_json(&nd, &g, &shapes, &have_shapes)) != NT_OK)
                    break;
            }
        }
        if (st != NT_OK)
            break;
        nt_buf_puts(out, n++ ? ",\n {\"name\": " : "\n {\"name\": ");
        nt_buf_append(out, name.data, name.len);
        nt_buf_puts(out, ", \"op\": ");
        nt_buf_append(out, op.data, op.len);
        nt_buf_puts(out, ", \"inputs\": [");
        if (inputs.len) /* an empty nt_buf has no data pointer */
            nt_buf_append(out, inputs.data, inputs.len);
        nt_buf_putc(out, ']');
        if (shapes.len)
            nt_buf_append(out, shapes.data, shapes.len);
        nt_buf_puts(out, "}");
    }
    nt_buf_puts(out, "\n]}\n");
    bool failed = name.failed || op.failed || inputs.failed || shapes.failed || out->failed;
    nt_buf_deinit(&name);
    nt_buf_deinit(&op);
    nt_buf_deinit(&inputs);
    nt_buf_deinit(&shapes);
    if (st != NT_OK)
        return st;
    return failed ? NT_ERR_NOMEM : NT_OK;
}
