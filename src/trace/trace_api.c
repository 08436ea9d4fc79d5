/*
 * trace_api.c — the public summary calls of the event writer other than
 * scalars (histograms, images, text) and the model graph as a GraphDef.
 * Each builds one Summary.Value (or a GraphDef) with the protobuf encoder and
 * hands it to tfevents_write.c, which frames and buffers it.
 *
 * Message layouts (field numbers from TensorBoard's compat protos):
 *   Summary.Value   tag 1, simple_value 2, image 4, histo 5, tensor 8, metadata 9
 *   HistogramProto  min 1, max 2, num 3, sum 4, sum_squares 5,
 *                   bucket_limit 6 (packed double), bucket 7 (packed double)
 *   Summary.Image   height 1, width 2, colorspace 3, encoded_image_string 4
 *   SummaryMetadata plugin_data 1 { plugin_name 1, content 2 }, data_class 4
 *   TensorProto     dtype 1, tensor_shape 2, string_val 8
 *   GraphDef        node 1;  NodeDef name 1, op 2, input 3, attr 5 (map entry key 1, value 2)
 *   AttrValue       list 1 { s 2, i 3, f 4, shape 7 }, s 2, i 3, f 4, type 6
 *   TensorShapeProto dim 2 { size 1 }, unknown_rank 3
 */
#include "trace/tfevents.h"
#include "core/strmap.h"

#include "onnx/pbw.h"
#include "viz/png.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* TensorFlow DataType numbers used here. */
enum { TF_DT_STRING = 7 };

/* Appends a packed repeated double field. */
static void pbw_packed_doubles(nt_buf *b, uint32_t field, const double *v, size_t n)
{
    nt_pbw_tag(b, field, NT_PB_LEN);
    nt_pbw_varint(b, (uint64_t)n * 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        uint8_t le[8];
        for (int k = 0; k < 8; k++)
            le[k] = (uint8_t)(u >> (8 * k));
        nt_buf_append(b, le, 8);
    }
}

void nt_histogram_encode(const float *values, size_t n, int buckets, nt_buf *out)
{
    double mn = INFINITY, mx = -INFINITY, sum = 0, sq = 0;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        double x = values[i];
        if (!isfinite(x))
            continue;
        count++;
        sum += x;
        sq += x * x;
        mn = x < mn ? x : mn;
        mx = x > mx ? x : mx;
    }
    if (count == 0)
        mn = mx = 0;
    if (buckets < 1)
        buckets = 1;
    if (buckets > 10000)
        buckets = 10000;
    if (!(mx > mn))
        buckets = 1; /* one value repeated (or none): a single bucket at it */
    double *lim = nt_calloc((size_t)buckets * 2, sizeof *lim);
    if (!lim) {
        nt_error(NT_ERR_NOMEM, "out of memory building a histogram");
        out->failed = true;
        return;
    }
    double *cnt = lim + buckets;
    double width = (mx - mn) / buckets;
    for (int k = 0; k < buckets; k++)
        lim[k] = k == buckets - 1 ? mx : mn + width * (k + 1);
    if (buckets == 1) {
        cnt[0] = (double)count;
    } else {
        for (size_t i = 0; i < n; i++) {
            double x = values[i];
            if (!isfinite(x))
                continue;
            long k = (long)((x - mn) / width);
            k = k < 0 ? 0 : k >= buckets ? buckets - 1 : k;
            cnt[k] += 1;
        }
    }
    nt_pbw_double(out, 1, mn);
    nt_pbw_double(out, 2, mx);
    nt_pbw_double(out, 3, (double)count);
    nt_pbw_double(out, 4, sum);
    nt_pbw_double(out, 5, sq);
    pbw_packed_doubles(out, 6, lim, (size_t)buckets);
    pbw_packed_doubles(out, 7, cnt, (size_t)buckets);
    free(lim);
}

/* Sends a finished Summary.Value body, or the encoder's failure. */
static nt_status send_value(nt_writer *w, int64_t step, nt_buf *v)
{
    nt_status s = v->failed ? nt_error(NT_ERR_NOMEM, "out of memory encoding a summary")
                            : nt_writer_summary_value(w, step, v->data, v->len);
    nt_buf_deinit(v);
    return s;
}

nt_status nt_writer_histogram(nt_writer *w, const char *tag, int64_t step, const float *values, size_t n)
{
    if (!w || !tag || (!values && n))
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_histogram: NULL argument");
    nt_buf v;
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, tag);
    size_t m = nt_pbw_begin(&v, 5);
    nt_histogram_encode(values, n, NT_HISTOGRAM_BUCKETS, &v);
    nt_pbw_end(&v, m);
    return send_value(w, step, &v);
}

nt_status nt_writer_image(nt_writer *w, const char *tag, int64_t step, const uint8_t *pixels, int height,
                          int width, int channels)
{
    if (!w || !tag || !pixels)
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_image: NULL argument");
    nt_buf png;
    nt_buf_init(&png);
    nt_status s = nt_png_encode(pixels, height, width, channels, &png);
    if (s != NT_OK) {
        nt_buf_deinit(&png);
        return nt_error_wrap(s, "image summary '%s'", tag);
    }
    nt_buf v;
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, tag);
    size_t m = nt_pbw_begin(&v, 4);
    nt_pbw_uint(&v, 1, (uint64_t)height);
    nt_pbw_uint(&v, 2, (uint64_t)width);
    nt_pbw_uint(&v, 3, (uint64_t)channels); /* 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
    nt_pbw_bytes(&v, 4, png.data, png.len);
    nt_pbw_end(&v, m);
    nt_buf_deinit(&png);
    return send_value(w, step, &v);
}

nt_status nt_writer_text(nt_writer *w, const char *tag, int64_t step, const char *text)
{
    if (!w || !tag || !text)
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_text: NULL argument");
    nt_buf v;
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, tag);
    /* metadata: the text plugin, data class TENSOR (as TensorBoard's own
     * text summaries declare); the plugin content (TextPluginData, version
     * 0) encodes as empty bytes. */
    size_t md = nt_pbw_begin(&v, 9);
    size_t pd = nt_pbw_begin(&v, 1);
    nt_pbw_string(&v, 1, "text");
    nt_pbw_bytes(&v, 2, "", 0);
    nt_pbw_end(&v, pd);
    nt_pbw_uint(&v, 4, 2);
    nt_pbw_end(&v, md);
    /* tensor: a rank-0 DT_STRING */
    size_t t = nt_pbw_begin(&v, 8);
    nt_pbw_uint(&v, 1, TF_DT_STRING);
    nt_pbw_end(&v, nt_pbw_begin(&v, 2));
    nt_pbw_string(&v, 8, text);
    nt_pbw_end(&v, t);
    return send_value(w, step, &v);
}

/* ---------------------------------------------------------------- graph */

/* TensorFlow DataType for an ONNX element type (0 when there is none). */
static int tf_dtype(nt_dtype t)
{
    switch (t) {
    case NT_DTYPE_FLOAT: return 1;
    case NT_DTYPE_DOUBLE: return 2;
    case NT_DTYPE_INT32: return 3;
    case NT_DTYPE_UINT8: return 4;
    case NT_DTYPE_INT16: return 5;
    case NT_DTYPE_INT8: return 6;
    case NT_DTYPE_STRING: return 7;
    case NT_DTYPE_COMPLEX64: return 8;
    case NT_DTYPE_INT64: return 9;
    case NT_DTYPE_BOOL: return 10;
    case NT_DTYPE_BFLOAT16: return 14;
    case NT_DTYPE_UINT16: return 17;
    case NT_DTYPE_COMPLEX128: return 18;
    case NT_DTYPE_FLOAT16: return 19;
    case NT_DTYPE_UINT32: return 22;
    case NT_DTYPE_UINT64: return 23;
    default: return 0;
    }
}

/* A TensorBoard-safe, unique NodeDef name from `raw` (fallback if empty):
 * no leading '/' (an empty scope) or '^' (a control input marker), no ':'
 * (the output-index separator); "_1", "_2" ... appended on collision. */
static const char *unique_name(nt_arena *a, nt_strmap *set, const char *raw, const char *fallback, int index)
{
    while (raw && (*raw == '/' || *raw == '^'))
        raw++;
    char base[256];
    if (raw && *raw)
        snprintf(base, sizeof base, "%s", raw);
    else
        snprintf(base, sizeof base, "%s_%d", fallback, index);
    for (char *c = base; *c; c++)
        if (*c == ':')
            *c = '_';
    size_t n = strlen(base);
    if (n > 0 && base[n - 1] == '/')
        base[n - 1] = '_';
    char *s = nt_arena_strdup(a, base);
    for (int k = 1; s; k++) {
        bool added;
        if (nt_strmap_put(set, s, 0, &added) != NT_OK)
            return NULL;
        if (added)
            break;
        char buf[300];
        snprintf(buf, sizeof buf, "%s_%d", base, k);
        s = nt_arena_strdup(a, buf);
    }
    return s;
}

static void put_shape(nt_buf *b, uint32_t field, const nt_value *v)
{
    size_t m = nt_pbw_begin(b, field);
    if (!v || v->ndim < 0) {
        nt_pbw_uint(b, 3, 1); /* unknown_rank */
    } else {
        for (int d = 0; d < v->ndim; d++) {
            size_t dm = nt_pbw_begin(b, 2);
            nt_pbw_sint(b, 1, v->dims[d] >= 0 ? v->dims[d] : -1);
            if (v->dim_names && v->dim_names[d])
                nt_pbw_string(b, 2, v->dim_names[d]);
            nt_pbw_end(b, dm);
        }
    }
    nt_pbw_end(b, m);
}

/* attr map entry {key, AttrValue}: begins the AttrValue, returns marks. */
static size_t attr_begin(nt_buf *b, const char *key, size_t *value_mark)
{
    size_t e = nt_pbw_begin(b, 5);
    nt_pbw_string(b, 1, key);
    *value_mark = nt_pbw_begin(b, 2);
    return e;
}

static void attr_end(nt_buf *b, size_t entry, size_t value_mark)
{
    nt_pbw_end(b, value_mark);
    nt_pbw_end(b, entry);
}

static void put_output_shapes(nt_buf *b, const nt_graph *g, const int *outs, int n)
{
    bool any = false;
    for (int k = 0; k < n; k++)
        any |= outs[k] >= 0 && g->values[outs[k]].ndim >= 0;
    if (!any)
        return;
    size_t vm, e = attr_begin(b, "_output_shapes", &vm);
    size_t lm = nt_pbw_begin(b, 1);
    for (int k = 0; k < n; k++)
        put_shape(b, 7, outs[k] >= 0 ? &g->values[outs[k]] : NULL);
    nt_pbw_end(b, lm);
    attr_end(b, e, vm);
}

static void put_dtype_attr(nt_buf *b, const char *key, nt_dtype t)
{
    int dt = tf_dtype(t);
    if (!dt)
        return;
    size_t vm, e = attr_begin(b, key, &vm);
    nt_pbw_uint(b, 6, (uint64_t)dt);
    attr_end(b, e, vm);
}

/* The ONNX attributes TensorBoard can show in its node panel. */
static void put_onnx_attr(nt_buf *b, const nt_attr *at)
{
    size_t vm, e;
    switch (at->type) {
    case NT_ATTR_INT:
        e = attr_begin(b, at->name, &vm);
        nt_pbw_sint(b, 3, at->i);
        break;
    case NT_ATTR_FLOAT:
        e = attr_begin(b, at->name, &vm);
        nt_pbw_float(b, 4, at->f);
        break;
    case NT_ATTR_STRING:
        e = attr_begin(b, at->name, &vm);
        nt_pbw_bytes(b, 2, at->s ? at->s : "", at->s ? at->s_len : 0);
        break;
    case NT_ATTR_INTS:
    case NT_ATTR_FLOATS:
    case NT_ATTR_STRINGS: {
        e = attr_begin(b, at->name, &vm);
        size_t lm = nt_pbw_begin(b, 1);
        if (at->type == NT_ATTR_STRINGS) {
            for (int k = 0; k < at->n; k++)
                nt_pbw_string(b, 2, at->strings && at->strings[k] ? at->strings[k] : "");
        } else if (at->n > 0) {
            size_t pm = nt_pbw_begin(b, at->type == NT_ATTR_INTS ? 3 : 4);
            for (int k = 0; k < at->n; k++) {
                if (at->type == NT_ATTR_INTS) {
                    nt_pbw_varint(b, (uint64_t)(at->ints ? at->ints[k] : 0));
                } else {
                    float f = at->floats ? at->floats[k] : 0;
                    uint32_t u;
                    memcpy(&u, &f, 4);
                    uint8_t le[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
                    nt_buf_append(b, le, 4);
                }
            }
            nt_pbw_end(b, pm);
        }
        nt_pbw_end(b, lm);
        break;
    }
    default:
        return; /* tensors, graphs, type protos: not shown */
    }
    attr_end(b, e, vm);
}

/* ---- GraphDef: the top graph and every If/Loop/Scan body.  A body's
 * nodes are named under the scope "<owner>.<attribute>/" (TensorBoard draws
 * a scope as a group that opens on a click), its inputs are Placeholders
 * in that scope, and a value it reads from an enclosing graph is an edge
 * from that value's producer outside. */

#define GD_MAX_DEPTH 64 /* the loader bounds nesting; this keeps recursion finite */

typedef struct gd_scope {
    const nt_graph *g;
    const char **node_names, **value_names;
    const struct gd_scope *parent;
} gd_scope;

typedef struct gd_ctx {
    nt_arena a;
    nt_strmap set;      /* the NodeDef names given out so far (keys in a) */
    nt_buf *out;
} gd_ctx;

static size_t gd_count(const nt_graph *g, int depth)
{
    size_t n = (size_t)g->n_nodes + (size_t)g->n_values;
    for (int i = 0; i < g->n_nodes && depth < GD_MAX_DEPTH; i++)
        for (int a = 0; a < g->nodes[i].n_attr; a++) {
            const nt_attr *at = &g->nodes[i].attrs[a];
            if (at->type == NT_ATTR_GRAPH && at->g)
                n += gd_count(at->g, depth + 1);
            for (int k = 0; at->type == NT_ATTR_GRAPHS && k < at->n; k++)
                if (at->graphs[k])
                    n += gd_count(at->graphs[k], depth + 1);
        }
    return n;
}

/* unique_name with the scope prefix in front of the raw name. */
static const char *scoped_name(gd_ctx *c, const char *prefix, const char *raw, const char *fallback, int index)
{
    if (!prefix[0])
        return unique_name(&c->a, &c->set, raw, fallback, index);
    while (raw && (*raw == '/' || *raw == '^'))
        raw++;
    char full[512];
    if (raw && *raw)
        snprintf(full, sizeof full, "%s%s", prefix, raw);
    else
        snprintf(full, sizeof full, "%s%s_%d", prefix, fallback, index);
    return unique_name(&c->a, &c->set, full, fallback, index);
}

/* The NodeDef input naming value vi of sc's graph: "producer" or
 * "producer:slot", a Placeholder/Const, or for an outer value the same
 * found in the enclosing graphs.  False when nothing names it. */
static bool gd_input_ref(const gd_scope *sc, int vi, char *buf, size_t len)
{
    const nt_graph *g = sc->g;
    if (vi < 0 || vi >= g->n_values)
        return false;
    const nt_value *v = &g->values[vi];
    if (v->producer >= 0 && v->producer < g->n_nodes) {
        const nt_node *p = &g->nodes[v->producer];
        int slot = 0;
        for (int o = 0; o < p->n_out; o++)
            if (p->out[o] == vi) {
                slot = o;
                break;
            }
        if (slot == 0)
            snprintf(buf, len, "%s", sc->node_names[v->producer]);
        else
            snprintf(buf, len, "%s:%d", sc->node_names[v->producer], slot);
        return true;
    }
    if (sc->value_names[vi]) {
        snprintf(buf, len, "%s", sc->value_names[vi]);
        return true;
    }
    if (v->kind == NT_VALUE_OUTER && sc->parent)
        return gd_input_ref(sc->parent, nt_graph_find_value(sc->parent->g, v->name), buf, len);
    return false;
}

static nt_status gd_graph(gd_ctx *c, const nt_graph *g, const char *prefix, const gd_scope *parent, int depth)
{
    nt_buf *out = c->out;
    gd_scope sc = {g, nt_calloc((size_t)g->n_nodes + 1, sizeof(char *)), nt_calloc((size_t)g->n_values + 1,
                   sizeof(char *)), parent};
    nt_status s = NT_OK;
    if (!sc.node_names || !sc.value_names) {
        s = NT_ERR_NOMEM;
        goto done;
    }
    /* Names first, so input references below can use the final unique
     * names: graph inputs and weights keep theirs (users know them), and a
     * node whose name clashes with one gets a suffix. */
    for (int i = 0; i < g->n_values; i++) {
        const nt_value *v = &g->values[i];
        if (v->producer < 0 && (v->kind == NT_VALUE_INPUT || v->kind == NT_VALUE_INITIALIZER))
            if (!(sc.value_names[i] = scoped_name(c, prefix, v->name, "value", i)))
                goto nomem;
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (!(sc.node_names[i] = scoped_name(c, prefix, g->nodes[i].name, g->nodes[i].op_type, i)))
            goto nomem;

    for (int i = 0; i < g->n_values; i++) {
        const nt_value *v = &g->values[i];
        if (!sc.value_names[i])
            continue;
        size_t nm = nt_pbw_begin(out, 1);
        nt_pbw_string(out, 1, sc.value_names[i]);
        nt_pbw_string(out, 2, v->kind == NT_VALUE_INITIALIZER ? "Const" : "Placeholder");
        nt_dtype dt = v->dtype;
        const nt_value *shape_of = v;
        nt_value from_init;
        if (v->init) {
            /* an initializer's own tensor is the reliable source of its type */
            dt = v->init->dtype;
            from_init = *v;
            from_init.ndim = v->init->ndim;
            from_init.dims = (int64_t *)v->init->dims;
            from_init.dim_names = NULL;
            shape_of = &from_init;
        }
        put_dtype_attr(out, "dtype", dt);
        if (shape_of->ndim >= 0) {
            size_t vm, e = attr_begin(out, "_output_shapes", &vm);
            size_t lm = nt_pbw_begin(out, 1);
            put_shape(out, 7, shape_of);
            nt_pbw_end(out, lm);
            attr_end(out, e, vm);
        }
        nt_pbw_end(out, nm);
    }

    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *n = &g->nodes[i];
        size_t nm = nt_pbw_begin(out, 1);
        nt_pbw_string(out, 1, sc.node_names[i]);
        if (n->domain && *n->domain) {
            char op[512];
            snprintf(op, sizeof op, "%s.%s", n->domain, n->op_type ? n->op_type : "");
            nt_pbw_string(out, 2, op);
        } else {
            nt_pbw_string(out, 2, n->op_type ? n->op_type : "");
        }
        for (int k = 0; k < n->n_in; k++) {
            char ref[600];
            if (gd_input_ref(&sc, n->in[k], ref, sizeof ref))
                nt_pbw_string(out, 3, ref);
        }
        put_output_shapes(out, g, n->out, n->n_out);
        for (int k = 0; k < n->n_attr; k++)
            if (n->attrs[k].name)
                put_onnx_attr(out, &n->attrs[k]);
        nt_pbw_end(out, nm);
    }
    for (int i = 0; i < g->n_nodes && depth < GD_MAX_DEPTH && s == NT_OK; i++)
        for (int a = 0; a < g->nodes[i].n_attr && s == NT_OK; a++) {
            const nt_attr *at = &g->nodes[i].attrs[a];
            int nb = at->type == NT_ATTR_GRAPH ? 1 : at->type == NT_ATTR_GRAPHS ? at->n : 0;
            for (int k = 0; k < nb && s == NT_OK; k++) {
                const nt_graph *body = at->type == NT_ATTR_GRAPH ? at->g : at->graphs[k];
                if (!body)
                    continue;
                char sub[600];
                if (at->type == NT_ATTR_GRAPH)
                    snprintf(sub, sizeof sub, "%s.%s/", sc.node_names[i], at->name ? at->name : "body");
                else
                    snprintf(sub, sizeof sub, "%s.%s_%d/", sc.node_names[i], at->name ? at->name : "body", k);
                s = gd_graph(c, body, sub, &sc, depth + 1);
            }
        }
    if (s == NT_OK && out->failed)
        s = nt_error(NT_ERR_NOMEM, "out of memory encoding the graph");
    goto done;
nomem:
    s = NT_ERR_NOMEM;
done:
    free(sc.node_names);
    free(sc.value_names);
    return s;
}

nt_status nt_graphdef_encode(const nt_model *m, nt_buf *out)
{
    if (!m || !m->graph || !out)
        return nt_error(NT_ERR_INVALID_ARG, "graph summary: no model graph");
    gd_ctx c = {.out = out};
    nt_arena_init(&c.a);
    nt_strmap_init(&c.set);
    nt_status s = nt_strmap_reserve(&c.set, gd_count(m->graph, 0) + 1);
    if (s == NT_OK)
        s = gd_graph(&c, m->graph, "", NULL, 0);
    nt_strmap_deinit(&c.set);
    nt_arena_deinit(&c.a);
    return s;
}

nt_status nt_writer_graph(nt_writer *w, const nt_model *m)
{
    if (!w)
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_graph: NULL writer");
    nt_buf gd;
    nt_buf_init(&gd);
    nt_status s = nt_graphdef_encode(m, &gd);
    if (s == NT_OK) {
        nt_buf ev;
        nt_buf_init(&ev);
        nt_pbw_bytes(&ev, 4, gd.data ? gd.data : "", gd.len); /* Event.graph_def */
        s = ev.failed ? nt_error(NT_ERR_NOMEM, "out of memory encoding the graph event")
                      : nt_writer_event(w, 0, ev.data, ev.len);
        nt_buf_deinit(&ev);
    }
    nt_buf_deinit(&gd);
    return s;
}
