/*
 * loader.c — ONNX ModelProto → nt_model (src/graph/ir.h), parsed in place.
 *
 * The model file is mapped read-only and walked with the wire reader
 * (pb.h).  Nothing large is copied: initializer raw_data stays in the map,
 * names and small arrays go to the model's arena.  Each message is walked
 * twice where that saves a growable array: once to count (skipping a
 * length-delimited field costs nothing), once to fill arrays of exactly the
 * right size.  Counts can never exceed the bytes that hold them, so a
 * hostile file cannot make us allocate more than a small multiple of its
 * own size.
 *
 * Values: every name a graph mentions gets one nt_value, found through a
 * hash table while the graph is built (graph_build).  After a graph's nodes
 * are read, its subgraphs' captured names are resolved against it (adding
 * OUTER values to it when it does not define them either), then each value
 * gets its final kind.  Errors name the file and the path to the field:
 * "m.onnx: graph.node[3] (name 'if').attribute[0] 'then_branch'.node[1] ...".
 */
#define _POSIX_C_SOURCE 200809L
#include "onnx/onnx_tensor.h"
#include "core/strmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_GRAPH_DEPTH 64

/* Field numbers of the messages read here (onnx.proto). */
enum { MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3, MODEL_DOMAIN = 4,
       MODEL_VERSION = 5, MODEL_DOC = 6, MODEL_GRAPH = 7, MODEL_OPSET_IMPORT = 8 };
enum { GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
       GRAPH_VALUE_INFO = 13, GRAPH_SPARSE_INITIALIZER = 15 };
enum { NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5,
       NODE_DOMAIN = 7 };
enum { ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_T = 5, ATTR_G = 6, ATTR_FLOATS = 7,
       ATTR_INTS = 8, ATTR_STRINGS = 9, ATTR_TENSORS = 10, ATTR_GRAPHS = 11, ATTR_TP = 14,
       ATTR_TYPE_PROTOS = 15, ATTR_TYPE = 20, ATTR_SPARSE_TENSOR = 22, ATTR_SPARSE_TENSORS = 23 };
enum { TYPE_TENSOR = 1, TYPE_SEQUENCE = 4, TYPE_MAP = 5, TYPE_SPARSE = 8, TYPE_OPTIONAL = 9 };

/* Per-load state: where we are (for messages) and how deep. */
typedef struct loader {
    nt_model *m;
    const char *what;        /* the file name in messages */
    char ctx[1024];          /* "graph.node[3] (name 'x').attribute[0] 'body'" */
    size_t ctx_len;
    bool reported;           /* the error message already carries the context */
    int graph_depth;
} loader;

/* Per-value bookkeeping needed only while its graph is built. */
typedef struct value_extra {
    int first_user;          /* node index of the first use, -2 graph output, -1 unused */
} value_extra;

typedef struct graph_build {
    nt_graph *g;
    nt_value *vals;
    value_extra *extra;
    int n_vals, cap;
    nt_strmap index;         /* name (by length: names may hold NUL bytes) -> value index */
    int *input_list;         /* graph.input entries, in order (value indices) */
    int n_input_list;
} graph_build;

/* ---------------------------------------------------------------- context and errors */

static size_t ctx_push(loader *L, const char *fmt, ...) NT_PRINTF(2, 3);
static size_t ctx_push(loader *L, const char *fmt, ...)
{
    size_t mark = L->ctx_len;
    if (L->ctx_len < sizeof L->ctx - 1) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(L->ctx + L->ctx_len, sizeof L->ctx - L->ctx_len, fmt, ap);
        va_end(ap);
        if (n > 0)
            L->ctx_len = NT_MIN(L->ctx_len + (size_t)n, sizeof L->ctx - 1);
    }
    return mark;
}

static void ctx_pop(loader *L, size_t mark)
{
    L->ctx_len = mark;
    L->ctx[mark] = '\0';
}

/* Prefixes the current message with "file: context" once, on the way up. */
static nt_status lfail(loader *L, nt_status s)
{
    if (!L->reported) {
        L->reported = true;
        if (L->ctx_len)
            nt_error_wrap(s, "%s: %s", L->what, L->ctx);
        else
            nt_error_wrap(s, "%s", L->what);
    }
    return s;
}

static nt_status lerr(loader *L, nt_status s, const char *fmt, ...) NT_PRINTF(3, 4);
static nt_status lerr(loader *L, nt_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nt_verror(s, fmt, ap);
    va_end(ap);
    return lfail(L, s);
}

/* Names go into messages bounded in length. */
#define SHOWN(len) ((int)NT_MIN((len), (size_t)120))

/* ---------------------------------------------------------------- small readers */

static const char *arena_str(loader *L, const nt_pb_field *f)
{
    return nt_arena_strndup(&L->m->arena, (const char *)f->data, f->len);
}

/* A field that must be a string: its arena copy, or NULL with an error. */
static nt_status read_string(loader *L, const nt_pb_field *f, const char *field, const char **out)
{
    if (f->wire != NT_PB_LEN)
        return lerr(L, NT_ERR_PARSE, "%s: expected a string, found wire type %d", field, f->wire);
    *out = arena_str(L, f);
    return *out ? NT_OK : lfail(L, NT_ERR_NOMEM);
}

static nt_status read_int(loader *L, const nt_pb_field *f, const char *field, int64_t *out)
{
    uint64_t v;
    if (nt_pb_field_int(f, &v) != NT_OK)
        return lerr(L, NT_ERR_PARSE, "%s: expected an integer, found wire type %d", field, f->wire);
    *out = (int64_t)v;
    return NT_OK;
}

/* Runs `body` for every field of message `c` (a cursor copy), stopping on error. */
#define FOR_EACH_FIELD(L, cur, f, st, ...)                        \
    do {                                                          \
        nt_pb it_ = (cur);                                        \
        while (((st) = nt_pb_next(&it_, &(f))) == NT_OK && !(f).end) { \
            __VA_ARGS__                                           \
            if ((st) != NT_OK)                                    \
                break;                                            \
        }                                                         \
        if ((st) != NT_OK)                                        \
            (st) = lfail((L), (st));                              \
    } while (0)

/* ---------------------------------------------------------------- values */

/* The value named [name, name+len), created if new.  *out = its index. */
static nt_status graph_value(loader *L, graph_build *b, const char *name, size_t len, int *out)
{
    int i = (int)nt_strmap_getn(&b->index, name, len, 0);
    if (i >= 0) {
        *out = i;
        return NT_OK;
    }
    if (b->n_vals == b->cap) {
        if (b->cap >= INT32_MAX / 4)
            return lerr(L, NT_ERR_NOMEM, "too many values");
        int cap = b->cap ? b->cap * 2 : 32;
        nt_value *v = nt_realloc(b->vals, (size_t)cap * sizeof *v);
        if (!v)
            return lfail(L, NT_ERR_NOMEM);
        b->vals = v;
        value_extra *e = nt_realloc(b->extra, (size_t)cap * sizeof *e);
        if (!e)
            return lfail(L, NT_ERR_NOMEM);
        b->extra = e;
        b->cap = cap;
    }
    i = b->n_vals++;
    nt_value *v = &b->vals[i];
    memset(v, 0, sizeof *v);
    v->name = nt_arena_strndup(&L->m->arena, name, len);
    if (!v->name)
        return lfail(L, NT_ERR_NOMEM);
    v->kind = NT_VALUE_INTERMEDIATE;
    v->type_kind = NT_TYPE_UNKNOWN;
    v->dtype = NT_DTYPE_UNDEFINED;
    v->ndim = -1;
    v->producer = -1;
    v->outer_index = -1;
    b->extra[i] = (value_extra){.first_user = -1};
    if (nt_strmap_putn(&b->index, v->name, len, 0, i, NULL) != NT_OK)
        return lfail(L, NT_ERR_NOMEM);
    *out = i;
    return NT_OK;
}

static void graph_build_free(graph_build *b)
{
    free(b->vals);
    free(b->extra);
    nt_strmap_deinit(&b->index);
    free(b->input_list);
}

/* ---------------------------------------------------------------- types */

/* One TensorShapeProto.Dimension into dims[k] / names[k]. */
static nt_status parse_dim(loader *L, const nt_pb *d, int64_t *dim, const char **name)
{
    nt_pb_field g;
    nt_status s = NT_OK;
    *dim = -1;
    *name = NULL;
    FOR_EACH_FIELD(L, *d, g, s, {
        if (g.num == 1) {
            if ((s = read_int(L, &g, "dim_value", dim)) != NT_OK)
                break;
            if (*dim < 0)
                *dim = -1;   /* not a size: treat as unknown */
            *name = NULL;
        } else if (g.num == 2) {
            if ((s = read_string(L, &g, "dim_param", name)) != NT_OK)
                break;
            *dim = -1;
        }
    });
    return s;
}

static nt_status parse_shape(loader *L, const nt_pb *c, nt_value *v)
{
    nt_pb_field f;
    nt_status s = NT_OK;
    size_t n = 0;
    FOR_EACH_FIELD(L, *c, f, s, { if (f.num == 1) n++; });
    if (s != NT_OK)
        return s;
    if (n > INT32_MAX)
        return lerr(L, NT_ERR_PARSE, "shape of %zu dims", n);
    nt_arena *a = &L->m->arena;
    int64_t *dims = nt_arena_calloc(a, n + 1, sizeof *dims);
    const char **names = nt_arena_calloc(a, n + 1, sizeof *names);
    if (!dims || !names)
        return lfail(L, NT_ERR_NOMEM);
    size_t k = 0;
    FOR_EACH_FIELD(L, *c, f, s, {
        if (f.num == 1) {
            nt_pb d;
            if ((s = nt_pb_sub(c, &f, &d)) != NT_OK)
                break;
            s = parse_dim(L, &d, &dims[k], &names[k]);
            k++;
        }
    });
    if (s != NT_OK)
        return s;
    v->ndim = (int)n;
    v->dims = dims;
    v->dim_names = names;
    return NT_OK;
}

/* TypeProto.Tensor / SparseTensor: elem_type and shape. */
static nt_status parse_tensor_type(loader *L, const nt_pb *t, nt_value *v)
{
    nt_pb_field g;
    nt_status s = NT_OK;
    FOR_EACH_FIELD(L, *t, g, s, {
        if (g.num == 1) {
            int64_t et = 0;
            if ((s = read_int(L, &g, "elem_type", &et)) != NT_OK)
                break;
            /* Unknown (future) element types stay UNDEFINED rather than fail. */
            v->dtype = et > 0 && et < NT_DTYPE_COUNT ? (nt_dtype)et : NT_DTYPE_UNDEFINED;
        } else if (g.num == 2) {
            nt_pb sh;
            if ((s = nt_pb_sub(t, &g, &sh)) != NT_OK)
                break;
            s = parse_shape(L, &sh, v);
        }
    });
    return s;
}

/* TypeProto into v's type_kind/dtype/shape (tensor and sparse tensor). */
static nt_status parse_type(loader *L, const nt_pb *c, nt_value *v)
{
    nt_pb_field f;
    nt_status s = NT_OK;
    FOR_EACH_FIELD(L, *c, f, s, {
        if (f.num == TYPE_TENSOR || f.num == TYPE_SPARSE) {
            v->type_kind = f.num == TYPE_TENSOR ? NT_TYPE_TENSOR : NT_TYPE_SPARSE_TENSOR;
            nt_pb t;
            if ((s = nt_pb_sub(c, &f, &t)) != NT_OK)
                break;
            s = parse_tensor_type(L, &t, v);
        } else if (f.num == TYPE_SEQUENCE || f.num == TYPE_MAP || f.num == TYPE_OPTIONAL) {
            if (f.wire != NT_PB_LEN) {
                s = nt_error(NT_ERR_PARSE, "type: field %u is not a message", f.num);
                break;
            }
            v->type_kind = f.num == TYPE_SEQUENCE ? NT_TYPE_SEQUENCE
                           : f.num == TYPE_MAP    ? NT_TYPE_MAP
                                                  : NT_TYPE_OPTIONAL;
        }
    });
    return s;
}

/* A ValueInfoProto of graph.input/output/value_info: the value's index. */
static nt_status parse_value_info(loader *L, graph_build *b, const nt_pb *gc, const nt_pb_field *vf,
                                  const char *list, int index, int *out)
{
    size_t mark = ctx_push(L, ".%s[%d]", list, index);
    nt_pb c;
    nt_status s = nt_pb_sub(gc, vf, &c);
    if (s != NT_OK)
        return lfail(L, s);
    nt_pb_field f;
    const uint8_t *name = NULL;
    size_t name_len = 0;
    bool has_type = false;
    nt_pb_field type_field = {0};
    FOR_EACH_FIELD(L, c, f, s, {
        if (f.num == 1) {
            if (f.wire != NT_PB_LEN)
                s = nt_error(NT_ERR_PARSE, "name: not a string");
            name = f.data;
            name_len = f.len;
        } else if (f.num == 2) {
            has_type = true;
            type_field = f;
        }
    });
    if (s != NT_OK)
        return s;
    if (!name || name_len == 0)
        return lerr(L, NT_ERR_PARSE, "has no name");
    ctx_pop(L, mark);
    ctx_push(L, ".%s[%d] '%.*s'", list, index, SHOWN(name_len), (const char *)name);
    int vi;
    if ((s = graph_value(L, b, (const char *)name, name_len, &vi)) != NT_OK)
        return s;
    nt_value *v = &b->vals[vi];
    /* The first declaration with a type wins (inputs and outputs are read first). */
    if (has_type && v->type_kind == NT_TYPE_UNKNOWN) {
        nt_pb t;
        if ((s = nt_pb_sub(&c, &type_field, &t)) != NT_OK)
            return lfail(L, s);
        if ((s = parse_type(L, &t, v)) != NT_OK)
            return lfail(L, s);
    }
    ctx_pop(L, mark);
    *out = vi;
    return NT_OK;
}

/* ---------------------------------------------------------------- tensors */

/* A TensorProto (initializer or attribute) into an arena tensor; data in place. */
static nt_status parse_tensor(loader *L, const nt_pb *parent, const nt_pb_field *f, nt_tensor **out,
                              nt_tproto *tp_out)
{
    nt_pb c;
    nt_status s = nt_pb_sub(parent, f, &c);
    if (s != NT_OK)
        return lfail(L, s);
    nt_tproto tp;
    if ((s = nt_tproto_scan(f->data, f->len, c.depth, &tp)) != NT_OK)
        return lfail(L, s);
    nt_tensor *t = nt_arena_calloc(&L->m->arena, 1, sizeof *t);
    if (!t)
        return lfail(L, NT_ERR_NOMEM);
    if (tp.external)
        s = nt_extdata_resolve(L->m, &tp, t);
    else
        s = nt_tproto_decode(&tp, &L->m->arena, t);
    if (s != NT_OK)
        return lfail(L, s);
    *out = t;
    if (tp_out)
        *tp_out = tp;
    return NT_OK;
}

static nt_status parse_initializer(loader *L, graph_build *b, const nt_pb *gc, const nt_pb_field *f,
                                   int index, int *out)
{
    size_t mark = ctx_push(L, ".initializer[%d]", index);
    nt_pb c;
    nt_status s = nt_pb_sub(gc, f, &c);
    if (s != NT_OK)
        return lfail(L, s);
    /* The name first, so that any data error names the tensor. */
    nt_tproto tp;
    if ((s = nt_tproto_scan(f->data, f->len, c.depth, &tp)) != NT_OK)
        return lfail(L, s);
    if (!tp.name || tp.name_len == 0)
        return lerr(L, NT_ERR_PARSE, "has no name");
    ctx_pop(L, mark);
    ctx_push(L, ".initializer[%d] '%.*s'", index, SHOWN(tp.name_len), tp.name);
    nt_tensor *t;
    if ((s = parse_tensor(L, gc, f, &t, NULL)) != NT_OK)
        return s;
    int vi;
    if ((s = graph_value(L, b, tp.name, tp.name_len, &vi)) != NT_OK)
        return s;
    nt_value *v = &b->vals[vi];
    if (v->kind == NT_VALUE_INITIALIZER)
        return lerr(L, NT_ERR_PARSE, "a second initializer with the same name");
    v->kind = NT_VALUE_INITIALIZER;
    v->init = t;
    if (v->type_kind == NT_TYPE_UNKNOWN) {
        v->type_kind = NT_TYPE_TENSOR;
        v->dtype = t->dtype;
        v->ndim = t->ndim;
        nt_arena *a = &L->m->arena;
        v->dims = nt_arena_calloc(a, (size_t)t->ndim + 1, sizeof *v->dims);
        v->dim_names = nt_arena_calloc(a, (size_t)t->ndim + 1, sizeof *v->dim_names);
        if (!v->dims || !v->dim_names)
            return lfail(L, NT_ERR_NOMEM);
        memcpy(v->dims, t->dims, (size_t)t->ndim * sizeof *v->dims);
    }
    ctx_pop(L, mark);
    *out = vi;
    return NT_OK;
}

/* ---------------------------------------------------------------- nodes and attributes */

static nt_status parse_graph(loader *L, const nt_pb *c, nt_graph *parent, nt_graph **out);

static const char *attr_type_name(nt_attr_type t)
{
    static const char *names[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS",
                                  "INTS", "STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR",
                                  "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"};
    return (unsigned)t < NT_ARRAY_LEN(names) ? names[t] : "?";
}

/* Counts of an AttributeProto's fields, from a first walk. */
typedef struct attr_scan {
    const uint8_t *name;
    size_t name_len;
    int64_t type;
    uint32_t last_single;     /* the last singular value field seen (f, i, s, t, g, ...) */
    size_t n_floats, n_ints, n_strings, n_tensors, n_graphs, n_sparse, n_types;
} attr_scan;

static nt_status scan_attr(const nt_pb *c, attr_scan *a)
{
    memset(a, 0, sizeof *a);
    nt_pb it = *c;
    nt_pb_field f;
    nt_status s;
    while ((s = nt_pb_next(&it, &f)) == NT_OK && !f.end) {
        switch (f.num) {
        case ATTR_NAME:
            if (f.wire != NT_PB_LEN)
                return nt_error(NT_ERR_PARSE, "name: not a string");
            a->name = f.data;
            a->name_len = f.len;
            break;
        case ATTR_TYPE:
            if ((s = nt_pb_field_int(&f, (uint64_t *)&a->type)) != NT_OK)
                return nt_error_wrap(s, "type");
            break;
        case ATTR_F: case ATTR_I: case ATTR_S: case ATTR_T: case ATTR_G: case ATTR_TP:
        case ATTR_SPARSE_TENSOR:
            a->last_single = f.num;
            break;
        case ATTR_FLOATS:
            if ((s = nt_pb_count_elems(&f, NT_PB_FIXED32, &a->n_floats)) != NT_OK)
                return nt_error_wrap(s, "floats");
            break;
        case ATTR_INTS:
            if ((s = nt_pb_count_elems(&f, NT_PB_VARINT, &a->n_ints)) != NT_OK)
                return nt_error_wrap(s, "ints");
            break;
        case ATTR_STRINGS: a->n_strings++; break;
        case ATTR_TENSORS: a->n_tensors++; break;
        case ATTR_GRAPHS: a->n_graphs++; break;
        case ATTR_SPARSE_TENSORS: a->n_sparse++; break;
        case ATTR_TYPE_PROTOS: a->n_types++; break;
        default: break;
        }
    }
    return s;
}

/* IR version 1 attributes carry no type: infer it from the field in use. */
static nt_attr_type infer_attr_type(const attr_scan *a)
{
    switch (a->last_single) {
    case ATTR_F: return NT_ATTR_FLOAT;
    case ATTR_I: return NT_ATTR_INT;
    case ATTR_S: return NT_ATTR_STRING;
    case ATTR_T: return NT_ATTR_TENSOR;
    case ATTR_G: return NT_ATTR_GRAPH;
    case ATTR_SPARSE_TENSOR: return NT_ATTR_SPARSE_TENSOR;
    case ATTR_TP: return NT_ATTR_TYPE_PROTO;
    default: break;
    }
    if (a->n_floats) return NT_ATTR_FLOATS;
    if (a->n_ints) return NT_ATTR_INTS;
    if (a->n_strings) return NT_ATTR_STRINGS;
    if (a->n_tensors) return NT_ATTR_TENSORS;
    if (a->n_graphs) return NT_ATTR_GRAPHS;
    if (a->n_sparse) return NT_ATTR_SPARSE_TENSORS;
    if (a->n_types) return NT_ATTR_TYPE_PROTOS;
    return NT_ATTR_UNDEFINED;
}

static nt_status parse_subgraph(loader *L, const nt_pb *c, const nt_pb_field *f, nt_graph *parent,
                                nt_graph **out)
{
    nt_pb gc;
    nt_status s = nt_pb_sub(c, f, &gc);
    if (s != NT_OK)
        return lfail(L, s);
    if ((s = parse_graph(L, &gc, parent, out)) != NT_OK)
        return s;
    L->m->n_subgraphs++;
    return NT_OK;
}

static nt_status parse_attr(loader *L, nt_graph *g, const nt_pb *nc, const nt_pb_field *af, int index,
                            nt_attr *a)
{
    size_t mark = ctx_push(L, ".attribute[%d]", index);
    nt_pb c;
    nt_status s = nt_pb_sub(nc, af, &c);
    if (s != NT_OK)
        return lfail(L, s);
    attr_scan sc;
    s = scan_attr(&c, &sc);
    if (sc.name) {
        ctx_pop(L, mark);
        ctx_push(L, ".attribute[%d] '%.*s'", index, SHOWN(sc.name_len), (const char *)sc.name);
    }
    if (s != NT_OK)
        return lfail(L, s);
    nt_arena *ar = &L->m->arena;
    a->name = nt_arena_strndup(ar, sc.name ? (const char *)sc.name : "", sc.name_len);
    if (!a->name)
        return lfail(L, NT_ERR_NOMEM);
    if (sc.type < 0 || sc.type > NT_ATTR_TYPE_PROTOS)
        return lerr(L, NT_ERR_PARSE, "type %lld is not an attribute type", (long long)sc.type);
    a->type = sc.type ? (nt_attr_type)sc.type : infer_attr_type(&sc);

    /* Arrays for the list types, sized by the first walk. */
    size_t n = 0;
    switch (a->type) {
    case NT_ATTR_FLOATS: n = sc.n_floats; break;
    case NT_ATTR_INTS: n = sc.n_ints; break;
    case NT_ATTR_STRINGS: n = sc.n_strings; break;
    case NT_ATTR_TENSORS: n = sc.n_tensors; break;
    case NT_ATTR_GRAPHS: n = sc.n_graphs; break;
    default: break;
    }
    if (n > INT32_MAX)
        return lerr(L, NT_ERR_PARSE, "%zu values", n);
    a->n = (int)n;
    float *floats = NULL;
    int64_t *ints = NULL;
    if (a->type == NT_ATTR_FLOATS && !(a->floats = floats = nt_arena_calloc(ar, n + 1, sizeof(float))))
        return lfail(L, NT_ERR_NOMEM);
    if (a->type == NT_ATTR_INTS && !(a->ints = ints = nt_arena_calloc(ar, n + 1, sizeof(int64_t))))
        return lfail(L, NT_ERR_NOMEM);
    if (a->type == NT_ATTR_STRINGS && !(a->strings = nt_arena_calloc(ar, n + 1, sizeof(char *))))
        return lfail(L, NT_ERR_NOMEM);
    if (a->type == NT_ATTR_TENSORS && !(a->tensors = nt_arena_calloc(ar, n + 1, sizeof(nt_tensor *))))
        return lfail(L, NT_ERR_NOMEM);
    if (a->type == NT_ATTR_GRAPHS && !(a->graphs = nt_arena_calloc(ar, n + 1, sizeof(nt_graph *))))
        return lfail(L, NT_ERR_NOMEM);

    size_t k = 0;
    nt_pb_field f;
    FOR_EACH_FIELD(L, c, f, s, {
        switch (f.num) {
        case ATTR_F:
            if (a->type == NT_ATTR_FLOAT && (s = nt_pb_field_float(&f, &a->f)) != NT_OK)
                s = nt_error_wrap(s, "f");
            break;
        case ATTR_I:
            if (a->type == NT_ATTR_INT)
                s = read_int(L, &f, "i", &a->i);
            break;
        case ATTR_S:
            if (a->type == NT_ATTR_STRING) {
                s = read_string(L, &f, "s", &a->s);
                a->s_len = f.len;
            }
            break;
        case ATTR_T:
            if (a->type == NT_ATTR_TENSOR)
                s = parse_tensor(L, &c, &f, &a->t, NULL);
            break;
        case ATTR_G:
            if (a->type == NT_ATTR_GRAPH) {
                if (a->g)
                    s = lerr(L, NT_ERR_PARSE, "more than one graph in a GRAPH attribute");
                else
                    s = parse_subgraph(L, &c, &f, g, &a->g);
            }
            break;
        case ATTR_FLOATS:
            if (a->type == NT_ATTR_FLOATS) {
                size_t pos = 0;
                uint64_t v;
                while (k < n && nt_pb_elem_iter(&f, NT_PB_FIXED32, &pos, &v)) {
                    uint32_t u = (uint32_t)v;
                    memcpy(&floats[k++], &u, 4);
                }
            }
            break;
        case ATTR_INTS:
            if (a->type == NT_ATTR_INTS) {
                size_t pos = 0;
                uint64_t v;
                while (k < n && nt_pb_elem_iter(&f, NT_PB_VARINT, &pos, &v))
                    ints[k++] = (int64_t)v;
            }
            break;
        case ATTR_STRINGS:
            if (a->type == NT_ATTR_STRINGS && k < n)
                s = read_string(L, &f, "strings", &a->strings[k++]);
            break;
        case ATTR_TENSORS:
            if (a->type == NT_ATTR_TENSORS && k < n)
                s = parse_tensor(L, &c, &f, &a->tensors[k++], NULL);
            break;
        case ATTR_GRAPHS:
            if (a->type == NT_ATTR_GRAPHS && k < n)
                s = parse_subgraph(L, &c, &f, g, &a->graphs[k++]);
            break;
        default:
            break;   /* doc_string, ref_attr_name, sparse and type protos: kept as type only */
        }
    });
    if (s != NT_OK)
        return s;
    if (a->type == NT_ATTR_STRING && !a->s)
        a->s = "";   /* proto3: an absent string is the empty string */
    if ((a->type == NT_ATTR_GRAPH && !a->g) || (a->type == NT_ATTR_TENSOR && !a->t))
        return lerr(L, NT_ERR_PARSE, "a %s attribute without its value", attr_type_name(a->type));
    ctx_pop(L, mark);
    return NT_OK;
}

/* A NodeProto.  Its outputs get `producer`; inputs are marked used. */
static nt_status parse_node(loader *L, graph_build *b, const nt_pb *gc, const nt_pb_field *nf, int index,
                            nt_node *n)
{
    size_t mark = ctx_push(L, ".node[%d]", index);
    nt_pb c;
    nt_status s = nt_pb_sub(gc, nf, &c);
    if (s != NT_OK)
        return lfail(L, s);
    /* First walk: counts, and the name and op for messages. */
    size_t n_in = 0, n_out = 0, n_attr = 0;
    nt_pb_field f, name = {0}, op = {0}, domain = {0};
    FOR_EACH_FIELD(L, c, f, s, {
        switch (f.num) {
        case NODE_INPUT: n_in++; break;
        case NODE_OUTPUT: n_out++; break;
        case NODE_ATTRIBUTE: n_attr++; break;
        case NODE_NAME: name = f; break;
        case NODE_OP_TYPE: op = f; break;
        case NODE_DOMAIN: domain = f; break;
        default: break;
        }
        if (f.num >= NODE_INPUT && f.num <= NODE_DOMAIN && f.num != 6 && f.wire != NT_PB_LEN)
            s = nt_error(NT_ERR_PARSE, "field %u: expected a string or message, found wire type %d",
                         f.num, f.wire);
    });
    if (s != NT_OK)
        return s;
    if (name.len) {
        ctx_pop(L, mark);
        ctx_push(L, ".node[%d] (name '%.*s')", index, SHOWN(name.len), (const char *)name.data);
    } else if (op.len) {
        ctx_pop(L, mark);
        ctx_push(L, ".node[%d] (%.*s)", index, SHOWN(op.len), (const char *)op.data);
    }
    if (!op.len)
        return lerr(L, NT_ERR_PARSE, "has no op_type");
    if (n_in > INT32_MAX || n_out > INT32_MAX || n_attr > INT32_MAX)
        return lerr(L, NT_ERR_PARSE, "too many inputs, outputs or attributes");

    nt_arena *ar = &L->m->arena;
    n->index = index;
    n->op_type = arena_str(L, &op);
    if (domain.len == 7 && memcmp(domain.data, "ai.onnx", 7) == 0)
        domain.len = 0;
    n->domain = domain.len ? arena_str(L, &domain) : "";
    if (name.len) {
        n->name = arena_str(L, &name);
    } else {
        char buf[160];
        snprintf(buf, sizeof buf, "%.*s_%d", SHOWN(op.len), (const char *)op.data, index);
        n->name = nt_arena_strdup(ar, buf);
    }
    n->n_in = (int)n_in;
    n->n_out = (int)n_out;
    n->n_attr = (int)n_attr;
    n->in = nt_arena_calloc(ar, n_in + 1, sizeof *n->in);
    n->out = nt_arena_calloc(ar, n_out + 1, sizeof *n->out);
    n->attrs = nt_arena_calloc(ar, n_attr + 1, sizeof *n->attrs);
    if (!n->op_type || !n->domain || !n->name || !n->in || !n->out || !n->attrs)
        return lfail(L, NT_ERR_NOMEM);

    int ki = 0, ko = 0, ka = 0;
    FOR_EACH_FIELD(L, c, f, s, {
        if (f.num == NODE_INPUT || f.num == NODE_OUTPUT) {
            bool is_in = f.num == NODE_INPUT;
            int vi = -1;
            if (f.len && (s = graph_value(L, b, (const char *)f.data, f.len, &vi)) != NT_OK)
                break;
            if (is_in) {
                n->in[ki++] = vi;
                if (vi >= 0 && b->extra[vi].first_user == -1)
                    b->extra[vi].first_user = index;
            } else {
                n->out[ko++] = vi;
                if (vi < 0)
                    continue;
                nt_value *v = &b->vals[vi];
                if (v->producer >= 0) {
                    s = lerr(L, NT_ERR_PARSE, "output[%d] '%s' is also an output of node[%d] (name '%s')",
                             ko - 1, v->name, v->producer, b->g->nodes[v->producer].name);
                    break;
                }
                if (v->kind == NT_VALUE_INITIALIZER) {
                    s = lerr(L, NT_ERR_PARSE, "output[%d] '%s' is also an initializer", ko - 1, v->name);
                    break;
                }
                v->producer = index;
            }
        } else if (f.num == NODE_ATTRIBUTE) {
            s = parse_attr(L, b->g, &c, &f, ka, &n->attrs[ka]);
            ka++;
        }
    });
    if (s != NT_OK)
        return s;
    ctx_pop(L, mark);
    return NT_OK;
}

/* ---------------------------------------------------------------- graphs */

/* A subgraph's captured values resolved against b's graph (adding OUTER
 * values to b when b does not define them either). */
static nt_status resolve_child(loader *L, graph_build *b, nt_graph *child, int node_index)
{
    for (int i = 0; i < child->n_values; i++) {
        nt_value *cv = &child->values[i];
        if (cv->kind != NT_VALUE_OUTER)
            continue;
        int vi;
        nt_status s = graph_value(L, b, cv->name, strlen(cv->name), &vi);
        if (s != NT_OK)
            return s;
        if (b->extra[vi].first_user == -1)
            b->extra[vi].first_user = node_index;
        cv->outer_index = vi;
    }
    return NT_OK;
}

/* Final kinds, input/output/initializer lists, and the values into the arena. */
static nt_status finish_graph(loader *L, graph_build *b, nt_graph *g, const int *outputs, int n_outputs,
                              const int *inits, int n_inits)
{
    nt_status s;
    for (int ni = 0; ni < g->n_nodes; ni++) {
        const nt_node *n = &g->nodes[ni];
        for (int ai = 0; ai < n->n_attr; ai++) {
            const nt_attr *a = &n->attrs[ai];
            if (a->type == NT_ATTR_GRAPH && a->g && (s = resolve_child(L, b, a->g, ni)) != NT_OK)
                return s;
            for (int k = 0; a->type == NT_ATTR_GRAPHS && k < a->n; k++)
                if (a->graphs[k] && (s = resolve_child(L, b, a->graphs[k], ni)) != NT_OK)
                    return s;
        }
    }
    for (int i = 0; i < b->n_input_list; i++)
        b->vals[b->input_list[i]].is_graph_input = true;
    for (int i = 0; i < n_outputs; i++) {
        b->vals[outputs[i]].is_graph_output = true;
        if (b->extra[outputs[i]].first_user == -1)
            b->extra[outputs[i]].first_user = -2;
    }
    g->n_outer = 0;
    for (int i = 0; i < b->n_vals; i++) {
        nt_value *v = &b->vals[i];
        if (v->kind == NT_VALUE_INITIALIZER)
            continue;
        if (v->is_graph_input) {
            v->kind = NT_VALUE_INPUT;
        } else if (v->producer < 0 && b->extra[i].first_user != -1) {
            if (!g->parent) {
                int u = b->extra[i].first_user;
                if (u == -2)
                    return lerr(L, NT_ERR_PARSE, "output '%s' is not an input, initializer or node output",
                                v->name);
                return lerr(L, NT_ERR_PARSE,
                            "node[%d] (name '%s') uses '%s', which is not an input, initializer or node output",
                            u, g->nodes[u].name, v->name);
            }
            v->kind = NT_VALUE_OUTER;
            g->n_outer++;
        }
    }
    nt_arena *ar = &L->m->arena;
    g->n_values = b->n_vals;
    g->values = nt_arena_calloc(ar, (size_t)b->n_vals + 1, sizeof *g->values);
    g->inputs = nt_arena_calloc(ar, (size_t)b->n_input_list + 1, sizeof *g->inputs);
    g->outputs = nt_arena_calloc(ar, (size_t)n_outputs + 1, sizeof *g->outputs);
    g->inits = nt_arena_calloc(ar, (size_t)n_inits + 1, sizeof *g->inits);
    if (!g->values || !g->inputs || !g->outputs || !g->inits)
        return lfail(L, NT_ERR_NOMEM);
    if (b->n_vals)
        memcpy(g->values, b->vals, (size_t)b->n_vals * sizeof *g->values);
    g->n_inputs = 0;
    for (int i = 0; i < b->n_input_list; i++) {
        int vi = b->input_list[i];
        bool dup = false;
        for (int j = 0; j < g->n_inputs && !dup; j++)
            dup = g->inputs[j] == vi;
        /* IR < 4 lists initializers among the inputs: they are not inputs to bind. */
        if (!dup && b->vals[vi].kind == NT_VALUE_INPUT)
            g->inputs[g->n_inputs++] = vi;
    }
    g->n_outputs = n_outputs;
    if (n_outputs)
        memcpy(g->outputs, outputs, (size_t)n_outputs * sizeof *outputs);
    g->n_inits = n_inits;
    if (n_inits)
        memcpy(g->inits, inits, (size_t)n_inits * sizeof *inits);
    return NT_OK;
}

static nt_status parse_graph(loader *L, const nt_pb *c, nt_graph *parent, nt_graph **out)
{
    if (L->graph_depth >= MAX_GRAPH_DEPTH)
        return lerr(L, NT_ERR_PARSE, "subgraphs nested deeper than %d levels", MAX_GRAPH_DEPTH);
    nt_arena *ar = &L->m->arena;
    nt_graph *g = nt_arena_calloc(ar, 1, sizeof *g);
    if (!g)
        return lfail(L, NT_ERR_NOMEM);
    g->parent = parent;
    g->name = "";

    /* First walk: how many of each. */
    size_t n_nodes = 0, n_inits = 0, n_inputs = 0, n_outputs = 0, n_sparse = 0;
    nt_pb_field f;
    nt_status s = NT_OK;
    FOR_EACH_FIELD(L, *c, f, s, {
        switch (f.num) {
        case GRAPH_NODE: n_nodes++; break;
        case GRAPH_INITIALIZER: n_inits++; break;
        case GRAPH_INPUT: n_inputs++; break;
        case GRAPH_OUTPUT: n_outputs++; break;
        case GRAPH_SPARSE_INITIALIZER: n_sparse++; break;
        case GRAPH_NAME: s = read_string(L, &f, "name", &g->name); break;
        default: break;
        }
        if ((f.num == GRAPH_NODE || f.num == GRAPH_INITIALIZER || f.num == GRAPH_INPUT ||
             f.num == GRAPH_OUTPUT || f.num == GRAPH_VALUE_INFO) && f.wire != NT_PB_LEN)
            s = nt_error(NT_ERR_PARSE, "field %u: expected a message, found wire type %d", f.num, f.wire);
    });
    if (s != NT_OK)
        return s;
    if (n_sparse)
        return lerr(L, NT_ERR_UNSUPPORTED, "sparse_initializer is not supported (%zu found)", n_sparse);
    if (n_nodes > INT32_MAX || n_inits > INT32_MAX || n_inputs > INT32_MAX || n_outputs > INT32_MAX)
        return lerr(L, NT_ERR_PARSE, "too many entries");

    graph_build b = {.g = g};
    int *outputs = nt_calloc(n_outputs + 1, sizeof *outputs);
    int *inits = nt_calloc(n_inits + 1, sizeof *inits);
    b.input_list = nt_calloc(n_inputs + 1, sizeof *b.input_list);
    g->nodes = nt_arena_calloc(ar, n_nodes + 1, sizeof *g->nodes);
    if (!outputs || !inits || !b.input_list || !g->nodes) {
        s = lfail(L, NT_ERR_NOMEM);
        goto done;
    }
    L->graph_depth++;

    /* Declarations first (their types win), then weights, then nodes. */
    int ki = 0, ko = 0, kv = 0, kn = 0, kw = 0;
    FOR_EACH_FIELD(L, *c, f, s, {
        if (f.num == GRAPH_INPUT)
            s = parse_value_info(L, &b, c, &f, "input", ki, &b.input_list[ki]), ki++;
        else if (f.num == GRAPH_OUTPUT)
            s = parse_value_info(L, &b, c, &f, "output", ko, &outputs[ko]), ko++;
    });
    b.n_input_list = ki;
    if (s == NT_OK)
        FOR_EACH_FIELD(L, *c, f, s, {
            if (f.num == GRAPH_VALUE_INFO) {
                int vi;
                s = parse_value_info(L, &b, c, &f, "value_info", kv++, &vi);
            }
        });
    if (s == NT_OK)
        FOR_EACH_FIELD(L, *c, f, s, {
            if (f.num == GRAPH_INITIALIZER) {
                s = parse_initializer(L, &b, c, &f, kw, &inits[kw]);
                kw++;
            }
        });
    if (s == NT_OK)
        FOR_EACH_FIELD(L, *c, f, s, {
            if (f.num == GRAPH_NODE) {
                s = parse_node(L, &b, c, &f, kn, &g->nodes[kn]);
                kn++;
                g->n_nodes = kn;   /* visible to messages about earlier nodes */
            }
        });
    if (s == NT_OK)
        s = finish_graph(L, &b, g, outputs, ko, inits, kw);
    L->graph_depth--;
done:
    free(outputs);
    free(inits);
    graph_build_free(&b);
    if (s == NT_OK)
        *out = g;
    return s;
}

/* ---------------------------------------------------------------- models */

static nt_status parse_opset(loader *L, const nt_pb *mc, const nt_pb_field *of, int index, nt_opset *o)
{
    size_t mark = ctx_push(L, "opset_import[%d]", index);
    nt_pb c;
    nt_status s = nt_pb_sub(mc, of, &c);
    if (s != NT_OK)
        return lfail(L, s);
    o->domain = "";
    nt_pb_field f;
    FOR_EACH_FIELD(L, c, f, s, {
        if (f.num == 1)
            s = read_string(L, &f, "domain", &o->domain);
        else if (f.num == 2)
            s = read_int(L, &f, "version", &o->version);
    });
    if (s != NT_OK)
        return s;
    if (strcmp(o->domain, "ai.onnx") == 0)
        o->domain = "";
    ctx_pop(L, mark);
    return NT_OK;
}

static nt_status parse_model(loader *L, const uint8_t *data, size_t len)
{
    nt_model *m = L->m;
    nt_pb c = nt_pb_init(data, len);
    nt_pb_field f, graph = {0};
    nt_status s = NT_OK;
    size_t n_opsets = 0, n_graphs = 0;
    m->producer_name = m->producer_version = m->domain = m->doc = "";
    nt_pb it = c;
    const uint8_t *field_start = it.p;
    while ((field_start = it.p, s = nt_pb_next(&it, &f)) == NT_OK && !f.end) {
        switch (f.num) {
        case MODEL_IR_VERSION: s = read_int(L, &f, "ir_version", &m->ir_version); break;
        case MODEL_PRODUCER_NAME: s = read_string(L, &f, "producer_name", &m->producer_name); break;
        case MODEL_PRODUCER_VERSION: s = read_string(L, &f, "producer_version", &m->producer_version); break;
        case MODEL_DOMAIN: s = read_string(L, &f, "domain", &m->domain); break;
        case MODEL_VERSION: s = read_int(L, &f, "model_version", &m->model_version); break;
        case MODEL_DOC: s = read_string(L, &f, "doc_string", &m->doc); break;
        case MODEL_GRAPH: graph = f; n_graphs++; break;
        case MODEL_OPSET_IMPORT: n_opsets++; break;
        default: break;   /* metadata_props, functions, training_info: not needed */
        }
        if (s != NT_OK)
            break;
    }
    if (s != NT_OK) {
        /* Garbage usually fails right here: say what the file is not. */
        if (!L->reported) {
            /* Name the ModelProto field whose bytes are broken, when the key was readable. */
            static const char *names[] = {"", "ir_version", "producer_name", "producer_version", "domain",
                                          "model_version", "doc_string", "graph", "opset_import"};
            uint64_t key = 0;
            const uint8_t *q = field_start;
            bool known = nt_pb_read_varint(&q, it.end, &key) == NT_OK && (key >> 3) >= 1 &&
                         (key >> 3) < NT_ARRAY_LEN(names);
            nt_error_wrap(s, "not a valid ONNX model (truncated or malformed protobuf)%s%s",
                          known ? ": " : "", known ? names[key >> 3] : "");
        }
        return lfail(L, s);
    }
    if (n_graphs == 0)
        return lerr(L, NT_ERR_PARSE, "not an ONNX model (no graph)");
    if (n_graphs > 1)
        return lerr(L, NT_ERR_PARSE, "more than one graph in the model");
    if (graph.wire != NT_PB_LEN)
        return lerr(L, NT_ERR_PARSE, "not an ONNX model (graph is not a message)");
    if (n_opsets > INT32_MAX)
        return lerr(L, NT_ERR_PARSE, "too many opset_import entries");
    m->opsets = nt_arena_calloc(&m->arena, n_opsets + 1, sizeof *m->opsets);
    if (!m->opsets)
        return lfail(L, NT_ERR_NOMEM);
    int k = 0;
    FOR_EACH_FIELD(L, c, f, s, {
        if (f.num == MODEL_OPSET_IMPORT) {
            if (f.wire != NT_PB_LEN)
                s = lerr(L, NT_ERR_PARSE, "opset_import[%d]: not a message", k);
            else
                s = parse_opset(L, &c, &f, k, &m->opsets[k]);
            k++;
        }
    });
    if (s != NT_OK)
        return s;
    m->n_opsets = k;
    nt_pb gc;
    if ((s = nt_pb_sub(&c, &graph, &gc)) != NT_OK)
        return lfail(L, s);
    ctx_push(L, "graph");
    return parse_graph(L, &gc, NULL, &m->graph);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return nt_strdup(".");
    if (slash == path)
        return nt_strdup("/");
    return nt_strndup(path, (size_t)(slash - path));
}

void nt_model_free(nt_model *m)
{
    if (!m)
        return;
    nt_extdata_free(m);
    if (m->map_is_mmap && m->map)
        munmap((void *)m->map, m->map_len);
    nt_arena_deinit(&m->arena);
    free(m->path);
    free(m->dir);
    free(m);
}

static nt_status model_new(const char *path, nt_model **out)
{
    nt_model *m = nt_calloc(1, sizeof *m);
    if (!m)
        return NT_ERR_NOMEM;
    nt_arena_init(&m->arena);
    m->path = nt_strdup(path);
    if (!m->path) {
        free(m);
        return NT_ERR_NOMEM;
    }
    *out = m;
    return NT_OK;
}

/* Parses m->map; frees m on failure. */
static nt_status model_parse(nt_model *m, nt_model **out)
{
    loader L = {.m = m, .what = m->path};
    L.ctx[0] = '\0';
    if (m->map_len == 0) {
        nt_error(NT_ERR_PARSE, "%s: empty file (not an ONNX model)", m->path);
        nt_model_free(m);
        return NT_ERR_PARSE;
    }
    nt_status s = parse_model(&L, m->map, m->map_len);
    if (s != NT_OK) {
        if (!L.reported)
            lfail(&L, s);
        nt_model_free(m);
        return s;
    }
    *out = m;
    return NT_OK;
}

nt_status nt_model_load_buffer(const void *buf, size_t len, const char *what, nt_model **out)
{
    if (!out)
        return nt_error(NT_ERR_INVALID_ARG, "nt_model_load_buffer: no output pointer");
    *out = NULL;
    if (!buf && len)
        return nt_error(NT_ERR_INVALID_ARG, "nt_model_load_buffer: no buffer");
    nt_model *m;
    nt_status s = model_new(what ? what : "<buffer>", &m);
    if (s != NT_OK)
        return s;
    m->map = buf;
    m->map_len = len;
    m->map_is_mmap = 0;
    return model_parse(m, out);
}

nt_status nt_model_load(const char *path, nt_model **out)
{
    if (!out)
        return nt_error(NT_ERR_INVALID_ARG, "nt_model_load: no output pointer");
    *out = NULL;
    if (!path || !*path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_model_load: no path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nt_error(NT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return nt_error(NT_ERR_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return nt_error(NT_ERR_IO, "%s: not a regular file", path);
    }
    nt_model *m;
    nt_status s = model_new(path, &m);
    if (s != NT_OK) {
        close(fd);
        return s;
    }
    m->dir = dir_of(path);
    if (!m->dir) {
        close(fd);
        nt_model_free(m);
        return NT_ERR_NOMEM;
    }
    if (st.st_size > 0) {
        if ((uint64_t)st.st_size > SIZE_MAX) {
            close(fd);
            nt_model_free(m);
            return nt_error(NT_ERR_IO, "%s: too large to map", path);
        }
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int e = errno;
            close(fd);
            nt_model_free(m);
            return nt_error(NT_ERR_IO, "%s: cannot map: %s", path, strerror(e));
        }
        m->map = p;
        m->map_len = (size_t)st.st_size;
        m->map_is_mmap = 1;
    }
    close(fd);
    return model_parse(m, out);
}

/* ---------------------------------------------------------------- accessors */

int nt_model_input_count(const nt_model *m) { return m && m->graph ? m->graph->n_inputs : 0; }

int nt_model_output_count(const nt_model *m) { return m && m->graph ? m->graph->n_outputs : 0; }

int nt_model_node_count(const nt_model *m) { return m && m->graph ? m->graph->n_nodes : 0; }

const char *nt_model_path(const nt_model *m) { return m ? m->path : NULL; }

static void value_info_of(const nt_value *v, nt_value_info *out)
{
    out->name = v->name;
    out->dtype = v->dtype;
    out->ndim = v->ndim;
    out->dims = v->dims;
    out->dim_names = v->dim_names;
}

nt_status nt_model_input_info(const nt_model *m, int i, nt_value_info *out)
{
    if (!m || !out || i < 0 || i >= nt_model_input_count(m))
        return nt_error(NT_ERR_INVALID_ARG, "input index %d out of range (%d inputs)", i,
                        nt_model_input_count(m));
    value_info_of(&m->graph->values[m->graph->inputs[i]], out);
    return NT_OK;
}

nt_status nt_model_output_info(const nt_model *m, int i, nt_value_info *out)
{
    if (!m || !out || i < 0 || i >= nt_model_output_count(m))
        return nt_error(NT_ERR_INVALID_ARG, "output index %d out of range (%d outputs)", i,
                        nt_model_output_count(m));
    value_info_of(&m->graph->values[m->graph->outputs[i]], out);
    return NT_OK;
}

static int value_kind(const nt_value *v)
{
    return v->type_kind == NT_TYPE_SEQUENCE ? 1 : v->type_kind == NT_TYPE_OPTIONAL ? 2 : 0;
}

int nt_model_input_kind(const nt_model *m, int i)
{
    if (!m || i < 0 || i >= nt_model_input_count(m))
        return 0;
    return value_kind(&m->graph->values[m->graph->inputs[i]]);
}

int nt_model_output_kind(const nt_model *m, int i)
{
    if (!m || i < 0 || i >= nt_model_output_count(m))
        return 0;
    return value_kind(&m->graph->values[m->graph->outputs[i]]);
}
