/*
 * graph_run.c — what `nntrace graph --run DIR` overlays: the records of a
 * run directory gathered per node (all outputs of a node together) and per
 * value.  stats.jsonl gives value ranges, NaN/Inf counts, zero fractions
 * and the shapes the run saw; profile.json kernel times (averaged over the
 * runs recorded); diff.json (written by `run --compare`) or a `diff --out`
 * file the error against a reference.  tensors/index.json gives shapes when
 * there are no stats.
 *
 * Lookups go through jansson objects used as hash maps from names to
 * indices in the record arrays.
 */
#include "viz/graph.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct nt_graph_overlay {
    json_t *node_index;        /* node name -> index into nodes */
    json_t *value_types;       /* value name -> "dtype[shape]" */
    nt_graph_node_run *nodes;
    int n, cap;
    int *time_events;          /* per node: profile events summed */
};

static nt_graph_node_run *node_rec(nt_graph_overlay *o, const char *name)
{
    json_t *ix = json_object_get(o->node_index, name);
    if (ix)
        return &o->nodes[json_integer_value(ix)];
    if (o->n == o->cap) {
        int cap = o->cap ? o->cap * 2 : 256;
        nt_graph_node_run *nn = nt_realloc(o->nodes, (size_t)cap * sizeof *nn);
        int *nt = nt_realloc(o->time_events, (size_t)cap * sizeof *nt);
        if (nn)
            o->nodes = nn;
        if (nt)
            o->time_events = nt;
        if (!nn || !nt)
            return NULL;
        o->cap = cap;
    }
    if (json_object_set_new(o->node_index, name, json_integer(o->n)) != 0)
        return NULL;
    memset(&o->nodes[o->n], 0, sizeof o->nodes[o->n]);
    o->time_events[o->n] = 0;
    return &o->nodes[o->n++];
}

static bool exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static double num(json_t *obj, const char *key, double dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}

/* A count field: a non-negative integral number that a double holds
 * exactly, else 0 (a hand-edited or corrupt stats line must not overflow). */
static int64_t count_field(json_t *obj, const char *key)
{
    double v = num(obj, key, 0);
    return v >= 1 && v <= 9007199254740992.0 ? (int64_t)v : 0;
}

/* a + b for non-negative counts, saturating instead of overflowing */
static int64_t add_count(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static void set_type(nt_graph_overlay *o, json_t *rec, const char *value)
{
    const char *dt = json_string_value(json_object_get(rec, "dtype"));
    json_t *shape = json_object_get(rec, "shape");
    if (!value || !dt || !json_is_array(shape) || json_object_get(o->value_types, value))
        return;
    char buf[256];
    size_t off = (size_t)snprintf(buf, sizeof buf, "%s[", dt);
    size_t i;
    json_t *d;
    json_array_foreach(shape, i, d) {
        if (off < sizeof buf)
            off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%lld", i ? "," : "", (long long)json_integer_value(d));
    }
    if (off < sizeof buf)
        snprintf(buf + off, sizeof buf - off, "]");
    json_object_set_new(o->value_types, value, json_string(buf));
}

/* A copy of s with Python-style bare NaN/Infinity/-Infinity (which
 * nntrace's JSON writers emit) turned into null, which jansson accepts;
 * strings are left alone.  NULL when out of memory. */
static char *denan(const char *s, size_t len)
{
    char *out = nt_malloc(len + len / 2 + 8);
    if (!out)
        return NULL;
    size_t o = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        const char *p = s + i;
        if (in_str) {
            if (*p == '\\' && i + 1 < len)
                out[o++] = s[i++];
            else if (*p == '"')
                in_str = false;
            out[o++] = s[i];
            continue;
        }
        size_t n = strncmp(p, "NaN", 3) == 0         ? 3
                   : strncmp(p, "-Infinity", 9) == 0 ? 9
                   : strncmp(p, "Infinity", 8) == 0  ? 8
                                                     : 0;
        if (n) {
            memcpy(out + o, "null", 4);
            o += 4;
            i += n - 1;
            continue;
        }
        in_str = *p == '"';
        out[o++] = *p;
    }
    out[o] = '\0';
    return out;
}

static nt_status read_stats(nt_graph_overlay *o, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return nt_error(NT_ERR_IO, "%s: cannot open", path);
    nt_status st = NT_OK;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    while (st == NT_OK && getline(&line, &cap, f) > 0) {
        lineno++;
        char *clean = denan(line, strlen(line));
        if (!clean) {
            st = NT_ERR_NOMEM;
            break;
        }
        json_error_t err;
        json_t *rec = json_loads(clean, 0, &err);
        free(clean);
        if (!rec) {
            if (strspn(line, " \t\r\n") != strlen(line))
                st = nt_error(NT_ERR_PARSE, "%s: line %d: %s", path, lineno, err.text);
            continue;
        }
        const char *node = json_string_value(json_object_get(rec, "node"));
        nt_graph_node_run *r = node ? node_rec(o, node) : NULL;
        if (node && !r)
            st = NT_ERR_NOMEM;
        if (r) {
            double mn = num(rec, "min", NAN), mx = num(rec, "max", NAN);
            int64_t count = count_field(rec, "count");
            if (!r->has_stats) {
                r->min = mn;
                r->max = mx;
                r->constant = true;
            } else {
                r->min = isnan(r->min) || mn < r->min ? mn : r->min;
                r->max = isnan(r->max) || mx > r->max ? mx : r->max;
            }
            r->has_stats = true;
            r->count = add_count(r->count, count);
            r->nan = add_count(r->nan, count_field(rec, "nan"));
            r->inf = add_count(r->inf, count_field(rec, "inf"));
            r->zeros = add_count(r->zeros, count_field(rec, "zeros"));
            if (!(num(rec, "std", 1) == 0 && count > 1))
                r->constant = false;
            r->zero_fraction = r->count ? (double)r->zeros / (double)r->count : 0;
            r->absmax = fmax(fabs(r->min), fabs(r->max));
            set_type(o, rec, json_string_value(json_object_get(rec, "output")));
        }
        json_decref(rec);
    }
    free(line);
    fclose(f);
    return st;
}

/* A whole JSON file with bare NaN/Infinity tolerated. */
static json_t *load_json(const char *path, nt_status *st)
{
    char *data;
    size_t len;
    if ((*st = nt_read_file(path, &data, &len)) != NT_OK)
        return NULL;
    char *clean = denan(data, len);
    free(data);
    if (!clean) {
        *st = NT_ERR_NOMEM;
        return NULL;
    }
    json_error_t err;
    json_t *root = json_loads(clean, 0, &err);
    free(clean);
    if (!root)
        *st = nt_error(NT_ERR_PARSE, "%s: line %d: %s", path, err.line, err.text);
    return root;
}

static nt_status read_profile(nt_graph_overlay *o, const char *path)
{
    nt_status lst;
    json_t *root = load_json(path, &lst);
    if (!root)
        return lst;
    json_t *ev = json_object_get(root, "traceEvents");
    size_t i;
    json_t *e;
    nt_status st = NT_OK;
    json_array_foreach(ev, i, e) {
        const char *ph = json_string_value(json_object_get(e, "ph"));
        const char *name = json_string_value(json_object_get(e, "name"));
        if (!ph || strcmp(ph, "X") != 0 || !name)
            continue;
        nt_graph_node_run *r = node_rec(o, name);
        if (!r) {
            st = NT_ERR_NOMEM;
            break;
        }
        int k = (int)(r - o->nodes);
        double ms = num(e, "dur", 0) / 1000.0;
        /* running mean over the recorded runs */
        o->time_events[k]++;
        r->time_ms += (ms - r->time_ms) / o->time_events[k];
        r->has_time = true;
    }
    json_decref(root);
    return st;
}

static nt_status read_diff(nt_graph_overlay *o, const char *path)
{
    nt_status lst;
    json_t *root = load_json(path, &lst);
    if (!root)
        return lst;
    json_t *nodes = json_object_get(root, "nodes");
    nt_status st = json_is_array(nodes) ? NT_OK : nt_error(NT_ERR_PARSE, "%s: no \"nodes\" array", path);
    size_t i;
    json_t *e;
    json_array_foreach(nodes, i, e) {
        const char *name = json_string_value(json_object_get(e, "node"));
        if (!name)
            continue;
        nt_graph_node_run *r = node_rec(o, name);
        if (!r) {
            st = NT_ERR_NOMEM;
            break;
        }
        double ma = num(e, "max_abs", NAN), cs = num(e, "cosine", NAN);
        bool ok = json_is_true(json_object_get(e, "ok"));
        if (!r->has_diff) {
            r->diff_max_abs = ma;
            r->diff_cosine = cs;
            r->diff_ok = ok;
        } else {
            r->diff_max_abs = fmax(r->diff_max_abs, ma);
            r->diff_cosine = fmin(r->diff_cosine, cs);
            r->diff_ok = r->diff_ok && ok;
        }
        r->has_diff = true;
    }
    json_decref(root);
    return st;
}

static nt_status read_index_types(nt_graph_overlay *o, const char *path)
{
    json_error_t err;
    json_t *root = json_load_file(path, 0, &err);
    if (!root)
        return nt_error(NT_ERR_PARSE, "%s: line %d: %s", path, err.line, err.text);
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(root, "tensors"), i, e)
        set_type(o, e, json_string_value(json_object_get(e, "output")));
    json_decref(root);
    return NT_OK;
}

nt_status nt_graph_overlay_load(const char *run_dir, const char *diff_json, nt_graph_overlay **out)
{
    *out = NULL;
    nt_graph_overlay *o = nt_calloc(1, sizeof *o);
    if (!o)
        return NT_ERR_NOMEM;
    o->node_index = json_object();
    o->value_types = json_object();
    nt_status st = o->node_index && o->value_types ? NT_OK : NT_ERR_NOMEM;
    char path[4096];
    if (run_dir && st == NT_OK) {
        struct stat sb;
        if (stat(run_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
            st = nt_error(NT_ERR_IO, "%s: not a run directory", run_dir);
    }
    if (run_dir && st == NT_OK) {
        snprintf(path, sizeof path, "%s/stats.jsonl", run_dir);
        if (exists(path))
            st = read_stats(o, path);
        snprintf(path, sizeof path, "%s/profile.json", run_dir);
        if (st == NT_OK && exists(path))
            st = read_profile(o, path);
        snprintf(path, sizeof path, "%s/diff.json", run_dir);
        if (st == NT_OK && !diff_json && exists(path))
            st = read_diff(o, path);
        snprintf(path, sizeof path, "%s/tensors/index.json", run_dir);
        if (st == NT_OK && exists(path))
            st = read_index_types(o, path);
    }
    if (diff_json && st == NT_OK)
        st = read_diff(o, diff_json);
    if (st != NT_OK) {
        nt_graph_overlay_free(o);
        return st;
    }
    *out = o;
    return NT_OK;
}

void nt_graph_overlay_free(nt_graph_overlay *o)
{
    if (!o)
        return;
    json_decref(o->node_index);
    json_decref(o->value_types);
    free(o->nodes);
    free(o->time_events);
    free(o);
}

const nt_graph_node_run *nt_graph_overlay_node(const nt_graph_overlay *o, const char *node)
{
    if (!o)
        return NULL;
    json_t *ix = json_object_get(o->node_index, node);
    return ix ? &o->nodes[json_integer_value(ix)] : NULL;
}

const char *nt_graph_overlay_value_type(const nt_graph_overlay *o, const char *value)
{
    return o ? json_string_value(json_object_get(o->value_types, value)) : NULL;
}
