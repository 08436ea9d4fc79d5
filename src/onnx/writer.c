/*
 * writer.c — the ONNX model builder (see writer.h): a model is described
 * call by call — opsets, graph inputs and outputs, weights, nodes with their
 * attributes, subgraph bodies — and encoded as a ModelProto when saved.
 *
 * Each graph owns an arena holding everything added to it (names, copied
 * tensors, attribute lists), kept as singly linked lists with tail pointers
 * so the file keeps the order of the calls.  A subgraph attached to a node
 * becomes owned by that node's graph and is freed with it.  Nothing is
 * encoded before save, so attributes may be added to a node at any time.
 *
 * Field numbers are those of onnx/onnx.proto; fields are written in
 * field-number order, as the reference serializer does, which keeps output
 * byte-stable and easy to compare.
 */
#include "onnx/writer.h"
#include "graph/ir.h"
#include "onnx/pbw.h"

#include <stdlib.h>
#include <string.h>

/* ---- onnx.proto field numbers */
enum { MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3, MODEL_GRAPH = 7,
       MODEL_OPSET_IMPORT = 8 };
enum { OPSET_DOMAIN = 1, OPSET_VERSION = 2 };
enum { GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
       GRAPH_VALUE_INFO = 13 };
enum { NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5, NODE_DOMAIN = 7 };
enum { ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_T = 5, ATTR_G = 6, ATTR_FLOATS = 7,
       ATTR_INTS = 8, ATTR_STRINGS = 9, ATTR_TYPE = 20 };
enum { VALUE_NAME = 1, VALUE_TYPE = 2 };
enum { TYPE_TENSOR = 1 };
enum { TTYPE_ELEM_TYPE = 1, TTYPE_SHAPE = 2 };
enum { SHAPE_DIM = 1 };
enum { DIM_VALUE = 1, DIM_PARAM = 2 };

typedef struct onnx_attr {
    struct onnx_attr *next;
    const char *name;
    nt_attr_type type;
    int64_t i;
    float f;
    const char *s;
    int n;
    const int64_t *ints;
    const float *floats;
    const char **strings;
    nt_tensor *t;            /* arena copy */
    nt_onnx_graph *g;        /* owned subgraph */
} onnx_attr;

struct nt_onnx_node {
    nt_onnx_node *next;
    nt_onnx_graph *owner;
    const char *op_type, *name, *domain;
    int n_in, n_out;
    const char **in, **out;
    onnx_attr *attrs, *attrs_tail;
};

typedef struct onnx_value {
    struct onnx_value *next;
    const char *name;
    nt_dtype dtype;
    int ndim;
    int64_t dims[NT_MAX_DIMS];
    const char *dim_names[NT_MAX_DIMS];
} onnx_value;

typedef struct onnx_init {
    struct onnx_init *next;
    const char *name;
    const nt_tensor *t;      /* arena copy, or the caller's tensor when borrowed */
} onnx_init;

/* Lists with a tail pointer, so appends keep call order. */
typedef struct { onnx_value *head, *tail; } value_list;
typedef struct { onnx_init *head, *tail; } init_list;
typedef struct { nt_onnx_node *head, *tail; } node_list;
#define LIST_APPEND(l, item)                  \
    do {                                      \
        if ((l).tail)                         \
            (l).tail->next = (item);          \
        else                                  \
            (l).head = (item);                \
        (l).tail = (item);                    \
    } while (0)

struct nt_onnx_graph {
    nt_arena arena;
    const char *name;
    bool attached;           /* owned by a node or a builder: not the caller's to free */
    nt_status status;        /* first failure of an add, reported at encode */
    char message[512];
    value_list inputs, outputs, value_info;
    init_list inits;
    node_list nodes;
};

typedef struct onnx_opset {
    struct onnx_opset *next;
    const char *domain;
    int64_t version;
} onnx_opset;

struct nt_onnx_builder {
    nt_arena arena;
    int64_t ir_version;
    const char *producer_name, *producer_version;
    struct { onnx_opset *head, *tail; } opsets;
    nt_onnx_graph *graph;
};

/* ------------------------------------------------------------ helpers */

/* Remembers the first failure (with its message) and returns s. */
static nt_status graph_fail(nt_onnx_graph *g, nt_status s)
{
    if (g && g->status == NT_OK && s != NT_OK) {
        g->status = s;
        snprintf(g->message, sizeof g->message, "%s", nt_last_error());
    }
    return s;
}

static nt_status graph_error(nt_onnx_graph *g, nt_status s, const char *fmt, ...) NT_PRINTF(3, 4);
static nt_status graph_error(nt_onnx_graph *g, nt_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nt_verror(s, fmt, ap);
    va_end(ap);
    return graph_fail(g, s);
}

static bool nonempty(const char *s) { return s && *s; }

/* A deep copy of t (shape and data) in the arena. */
static nt_tensor *arena_tensor(nt_arena *a, const nt_tensor *t)
{
    nt_tensor *c = nt_arena_alloc(a, sizeof *c);
    if (!c)
        return NULL;
    *c = *t;
    c->flags = 0;   /* the arena owns the bytes; nobody frees them alone */
    size_t n = nt_tensor_nbytes(t);
    c->capacity = n;
    c->data = NULL;
    if (n) {
        c->data = nt_arena_alloc(a, n);
        if (!c->data)
            return NULL;
        memcpy(c->data, t->data, n);
    }
    return c;
}

/* Checks that a tensor can be stored (the same checks the encoder makes,
 * done now so the failure points at the call that added it). */
static nt_status check_tensor(nt_onnx_graph *g, const char *what, const nt_tensor *t)
{
    if (!t)
        return graph_error(g, NT_ERR_INVALID_ARG, "%s: no tensor", what);
    if (t->dtype == NT_DTYPE_STRING || t->dtype <= NT_DTYPE_UNDEFINED || t->dtype >= NT_DTYPE_COUNT)
        return graph_error(g, NT_ERR_UNSUPPORTED, "%s: cannot store a %s tensor", what,
                           nt_dtype_onnx_name(t->dtype));
    if (t->ndim < 0 || t->ndim > NT_MAX_DIMS)
        return graph_error(g, NT_ERR_INVALID_ARG, "%s: tensor rank %d is not storable", what, t->ndim);
    for (int i = 0; i < t->ndim; i++)
        if (t->dims[i] < 0)
            return graph_error(g, NT_ERR_INVALID_ARG, "%s: tensor dimension %d is unknown", what, i);
    if (nt_tensor_nbytes(t) && !t->data)
        return graph_error(g, NT_ERR_INVALID_ARG, "%s: tensor has no data", what);
    return NT_OK;
}

/* ------------------------------------------------------------ graphs */

nt_onnx_graph *nt_onnx_graph_new(const char *name)
{
    if (!nonempty(name)) {
        nt_error(NT_ERR_INVALID_ARG, "nt_onnx_graph_new: a graph needs a name");
        return NULL;
    }
    nt_onnx_graph *g = nt_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    nt_arena_init(&g->arena);
    g->name = nt_arena_strdup(&g->arena, name);
    if (!g->name) {
        nt_arena_deinit(&g->arena);
        free(g);
        return NULL;
    }
    return g;
}

nt_status nt_onnx_graph_set_name(nt_onnx_graph *g, const char *name)
{
    if (!g)
        return nt_error(NT_ERR_INVALID_ARG, "nt_onnx_graph_set_name: no graph");
    if (!nonempty(name))
        return graph_error(g, NT_ERR_INVALID_ARG, "graph %s: a graph needs a name", g->name);
    const char *n = nt_arena_strdup(&g->arena, name);
    if (!n)
        return graph_fail(g, NT_ERR_NOMEM);
    g->name = n;
    return NT_OK;
}

/* Frees g and every subgraph its nodes own. */
static void graph_destroy(nt_onnx_graph *g)
{
    if (!g)
        return;
    for (nt_onnx_node *n = g->nodes.head; n; n = n->next)
        for (onnx_attr *a = n->attrs; a; a = a->next)
            graph_destroy(a->g);
    nt_arena_deinit(&g->arena);
    free(g);
}

void nt_onnx_graph_free(nt_onnx_graph *g)
{
    /* An attached graph belongs to its node or builder: freeing it here
     * would free it twice, so the call does nothing. */
    if (g && !g->attached)
        graph_destroy(g);
}

static nt_status add_value(nt_onnx_graph *g, const char *kind, value_list *list, const char *name, nt_dtype dtype,
                           int ndim, const int64_t *dims, const char *const *dim_names)
{
    if (!g)
        return nt_error(NT_ERR_INVALID_ARG, "no graph to add the %s to", kind);
    if (!nonempty(name))
        return graph_error(g, NT_ERR_INVALID_ARG, "graph %s: a %s needs a name", g->name, kind);
    if (ndim < -1 || ndim > NT_MAX_DIMS)
        return graph_error(g, NT_ERR_INVALID_ARG, "graph %s: %s %s: rank %d is outside -1..%d", g->name, kind,
                           name, ndim, NT_MAX_DIMS);
    if (dtype < NT_DTYPE_UNDEFINED || dtype >= NT_DTYPE_COUNT)
        return graph_error(g, NT_ERR_INVALID_ARG, "graph %s: %s %s: unknown dtype %d", g->name, kind, name,
                           (int)dtype);
    onnx_value *v = nt_arena_alloc(&g->arena, sizeof *v);
    if (!v || !(v->name = nt_arena_strdup(&g->arena, name)))
        return graph_fail(g, NT_ERR_NOMEM);
    v->dtype = dtype;
    v->ndim = ndim;
    for (int i = 0; i < ndim; i++) {
        v->dims[i] = dims ? dims[i] : -1;
        if (v->dims[i] < -1)
            return graph_error(g, NT_ERR_INVALID_ARG, "graph %s: %s %s: dimension %d is %lld", g->name, kind, name,
                               i, (long long)v->dims[i]);
        if (v->dims[i] == -1 && dim_names && nonempty(dim_names[i]) &&
            !(v->dim_names[i] = nt_arena_strdup(&g->arena, dim_names[i])))
            return graph_fail(g, NT_ERR_NOMEM);
    }
    LIST_APPEND(*list, v);
    return NT_OK;
}

nt_status nt_onnx_graph_add_input(nt_onnx_graph *g, const char *name, nt_dtype dtype, int ndim,
                                  const int64_t *dims, const char *const *dim_names)
{
    return add_value(g, "input", g ? &g->inputs : NULL, name, dtype, ndim, dims, dim_names);
}

nt_status nt_onnx_graph_add_output(nt_onnx_graph *g, const char *name, nt_dtype dtype, int ndim,
                                   const int64_t *dims, const char *const *dim_names)
{
    return add_value(g, "output", g ? &g->outputs : NULL, name, dtype, ndim, dims, dim_names);
}

nt_status nt_onnx_graph_add_value_info(nt_onnx_graph *g, const char *name, nt_dtype dtype, int ndim,
                                       const int64_t *dims, const char *const *dim_names)
{
    return add_value(g, "value_info", g ? &g->value_info : NULL, name, dtype, ndim, dims, dim_names);
}

static nt_status add_init(nt_onnx_graph *g, const char *name, const nt_tensor *t, bool copy)
{
    if (!g)
        return nt_error(NT_ERR_INVALID_ARG, "no graph to add the initializer to");
    if (!nonempty(name))
        return graph_error(g, NT_ERR_INVALID_ARG, "graph %s: an initializer needs a name", g->name);
    char what[300];
    snprintf(what, sizeof what, "graph %s: initializer %s", g->name, name);
    nt_status s = check_tensor(g, what, t);
    if (s != NT_OK)
        return s;
    onnx_init *in = nt_arena_alloc(&g->arena, sizeof *in);
    if (!in || !(in->name = nt_arena_strdup(&g->arena, name)))
        return graph_fail(g, NT_ERR_NOMEM);
    in->t = copy ? arena_tensor(&g->arena, t) : t;
    if (!in->t)
        return graph_fail(g, NT_ERR_NOMEM);
    LIST_APPEND(g->inits, in);
    return NT_OK;
}

nt_status nt_onnx_graph_add_initializer(nt_onnx_graph *g, const char *name, const nt_tensor *t)
{
    return add_init(g, name, t, true);
}

nt_status nt_onnx_graph_add_initializer_ref(nt_onnx_graph *g, const char *name, const nt_tensor *t)
{
    return add_init(g, name, t, false);
}

/* Copies n names into the arena; NULL entries become "" (omitted). */
static const char **copy_names(nt_arena *a, int n, const char *const *names)
{
    const char **out = nt_arena_calloc(a, n > 0 ? (size_t)n : 1, sizeof *out);
    if (!out)
        return NULL;
    for (int i = 0; i < n; i++)
        if (!(out[i] = nt_arena_strdup(a, names[i] ? names[i] : "")))
            return NULL;
    return out;
}

nt_onnx_node *nt_onnx_graph_add_node(nt_onnx_graph *g, const char *op_type, const char *name, int n_in,
                                     const char *const *inputs, int n_out, const char *const *outputs)
{
    if (!g) {
        nt_error(NT_ERR_INVALID_ARG, "no graph to add the node to");
        return NULL;
    }
    if (!nonempty(op_type)) {
        graph_error(g, NT_ERR_INVALID_ARG, "graph %s: a node needs an op_type", g->name);
        return NULL;
    }
    if (n_in < 0 || n_out < 0 || (n_in > 0 && !inputs) || (n_out > 0 && !outputs)) {
        graph_error(g, NT_ERR_INVALID_ARG, "graph %s: node %s (%s): bad input/output lists", g->name,
                    name ? name : "", op_type);
        return NULL;
    }
    nt_onnx_node *n = nt_arena_alloc(&g->arena, sizeof *n);
    if (!n || !(n->op_type = nt_arena_strdup(&g->arena, op_type)) ||
        !(n->name = nt_arena_strdup(&g->arena, name ? name : "")) || !(n->domain = nt_arena_strdup(&g->arena, "")) ||
        !(n->in = copy_names(&g->arena, n_in, inputs)) || !(n->out = copy_names(&g->arena, n_out, outputs))) {
        graph_fail(g, NT_ERR_NOMEM);
        return NULL;
    }
    n->owner = g;
    n->n_in = n_in;
    n->n_out = n_out;
    LIST_APPEND(g->nodes, n);
    return n;
}

/* ------------------------------------------------------------ nodes */

static nt_status no_node(const char *what)
{
    return nt_error(NT_ERR_INVALID_ARG, "%s: no node (an earlier nt_onnx_graph_add_node failed)", what);
}

nt_status nt_onnx_node_set_domain(nt_onnx_node *node, const char *domain)
{
    if (!node)
        return no_node("nt_onnx_node_set_domain");
    const char *d = domain && strcmp(domain, "ai.onnx") != 0 ? domain : "";
    if (!(node->domain = nt_arena_strdup(&node->owner->arena, d)))
        return graph_fail(node->owner, NT_ERR_NOMEM);
    return NT_OK;
}

/* Adds a new attribute of `type` named `name`, refusing duplicates. */
static nt_status new_attr(nt_onnx_node *node, const char *name, nt_attr_type type, onnx_attr **out)
{
    *out = NULL;
    if (!node)
        return no_node(name ? name : "attribute");
    nt_onnx_graph *g = node->owner;
    if (!nonempty(name))
        return graph_error(g, NT_ERR_INVALID_ARG, "node %s (%s): an attribute needs a name", node->name,
                           node->op_type);
    for (onnx_attr *a = node->attrs; a; a = a->next)
        if (strcmp(a->name, name) == 0)
            return graph_error(g, NT_ERR_INVALID_ARG, "node %s (%s): attribute %s set twice", node->name,
                               node->op_type, name);
    onnx_attr *a = nt_arena_alloc(&g->arena, sizeof *a);
    if (!a || !(a->name = nt_arena_strdup(&g->arena, name)))
        return graph_fail(g, NT_ERR_NOMEM);
    a->type = type;
    if (node->attrs_tail)
        node->attrs_tail->next = a;
    else
        node->attrs = a;
    node->attrs_tail = a;
    *out = a;
    return NT_OK;
}

nt_status nt_onnx_node_attr_int(nt_onnx_node *node, const char *name, int64_t v)
{
    onnx_attr *a;
    nt_status s = new_attr(node, name, NT_ATTR_INT, &a);
    if (s == NT_OK)
        a->i = v;
    return s;
}

nt_status nt_onnx_node_attr_float(nt_onnx_node *node, const char *name, float v)
{
    onnx_attr *a;
    nt_status s = new_attr(node, name, NT_ATTR_FLOAT, &a);
    if (s == NT_OK)
        a->f = v;
    return s;
}

nt_status nt_onnx_node_attr_string(nt_onnx_node *node, const char *name, const char *v)
{
    onnx_attr *a;
    nt_status s = new_attr(node, name, NT_ATTR_STRING, &a);
    if (s == NT_OK && !(a->s = nt_arena_strdup(&node->owner->arena, v ? v : "")))
        return graph_fail(node->owner, NT_ERR_NOMEM);
    return s;
}

nt_status nt_onnx_node_attr_ints(nt_onnx_node *node, const char *name, int n, const int64_t *v)
{
    if (node && (n < 0 || (n > 0 && !v)))
        return graph_error(node->owner, NT_ERR_INVALID_ARG, "node %s: attribute %s: bad list", node->name,
                           name ? name : "");
    onnx_attr *a;
    nt_status s = new_attr(node, name, NT_ATTR_INTS, &a);
    if (s != NT_OK)
        return s;
    int64_t *copy = nt_arena_calloc(&node->owner->arena, n > 0 ? (size_t)n : 1, sizeof *copy);
    if (!copy)
        return graph_fail(node->owner, NT_ERR_NOMEM);
    if (n)
        memcpy(copy, v, (size_t)n * sizeof *copy);
    a->n = n;
    a->ints = copy;
    return NT_OK;
}

nt_status nt_onnx_node_attr_floats(nt_onnx_node *node, const char *name, int n, const float *v)
{
    if (node && (n < 0 || (n > 0 && !v)))
        return graph_error(node->owner, NT_ERR_INVALID_ARG, "node %s: attribute %s: bad list", node->name,
                           name ? name : "");
    onnx_attr *a;
    nt_status s = new_attr(node, name, NT_ATTR_FLOATS, &a);
    if (s != NT_OK)
        return s;
    float *copy = nt_arena_calloc(&node->owner->arena, n > 0 ? (size_t)n : 1, sizeof *copy);
    if (!copy)
        return graph_fail(node->owner, NT_ERR_NOMEM);
    if (n)
        memcpy(copy, v, (size_t)n * sizeof *copy);
    a->n = n;
    a->floats = copy;
    return NT_OK;
}

nt_status nt_onnx_node_attr_strings(nt_onnx_node *node, const char *name, int n, const char *const *v)
{
    if (node && (n < 0 || (n > 0 && !v)))
        return graph_error(node->owner, NT_ERR_INVALID_ARG, "node %s: attribute %s: bad list", node->name,
                           name ? name : "");
    onnx_attr *a;
    nt_status s = new_attr(node, name, NT_ATTR_STRINGS, &a);
    if (s != NT_OK)
        return s;
    if (!(a->strings = copy_names(&node->owner->arena, n, v)))
        return graph_fail(node->owner, NT_ERR_NOMEM);
    a->n = n;
    return NT_OK;
}

nt_status nt_onnx_node_attr_tensor(nt_onnx_node *node, const char *name, const nt_tensor *t)
{
    if (!node)
        return no_node(name ? name : "attribute");
    char what[300];
    snprintf(what, sizeof what, "node %s: attribute %s", node->name, name ? name : "");
    nt_status s = check_tensor(node->owner, what, t);
    if (s != NT_OK)
        return s;
    onnx_attr *a;
    if ((s = new_attr(node, name, NT_ATTR_TENSOR, &a)) != NT_OK)
        return s;
    if (!(a->t = arena_tensor(&node->owner->arena, t)))
        return graph_fail(node->owner, NT_ERR_NOMEM);
    return NT_OK;
}

nt_status nt_onnx_node_attr_graph(nt_onnx_node *node, const char *name, nt_onnx_graph *g)
{
    if (!g) {
        if (node)
            return graph_error(node->owner, NT_ERR_INVALID_ARG, "node %s: attribute %s: no graph", node->name,
                               name ? name : "");
        return no_node(name ? name : "attribute");
    }
    if (g->attached) /* not ours to free: someone else owns it */
        return node ? graph_error(node->owner, NT_ERR_INVALID_ARG,
                                  "node %s: attribute %s: graph %s is already attached elsewhere", node->name,
                                  name ? name : "", g->name)
                    : no_node(name ? name : "attribute");
    onnx_attr *a;
    nt_status s = new_attr(node, name, NT_ATTR_GRAPH, &a);
    if (s != NT_OK) {
        graph_destroy(g);
        return s;
    }
    g->attached = true;
    a->g = g;
    return NT_OK;
}

/* ------------------------------------------------------------ encoding */

static void encode_value(nt_buf *b, uint32_t field, const onnx_value *v)
{
    size_t mv = nt_pbw_begin(b, field);
    nt_pbw_string(b, VALUE_NAME, v->name);
    if (v->dtype != NT_DTYPE_UNDEFINED) {
        size_t mt = nt_pbw_begin(b, VALUE_TYPE);
        size_t mtt = nt_pbw_begin(b, TYPE_TENSOR);
        nt_pbw_uint(b, TTYPE_ELEM_TYPE, (uint64_t)v->dtype);
        if (v->ndim >= 0) {
            size_t ms = nt_pbw_begin(b, TTYPE_SHAPE);
            for (int i = 0; i < v->ndim; i++) {
                size_t md = nt_pbw_begin(b, SHAPE_DIM);
                if (v->dims[i] >= 0)
                    nt_pbw_uint(b, DIM_VALUE, (uint64_t)v->dims[i]);
                else if (v->dim_names[i])
                    nt_pbw_string(b, DIM_PARAM, v->dim_names[i]);
                nt_pbw_end(b, md);
            }
            nt_pbw_end(b, ms);
        }
        nt_pbw_end(b, mtt);
        nt_pbw_end(b, mt);
    }
    nt_pbw_end(b, mv);
}

static nt_status encode_graph(nt_buf *b, uint32_t field, const nt_onnx_graph *g);

static nt_status encode_attr(nt_buf *b, const onnx_attr *a)
{
    nt_status s = NT_OK;
    size_t m = nt_pbw_begin(b, NODE_ATTRIBUTE);
    nt_pbw_string(b, ATTR_NAME, a->name);
    switch (a->type) {
    case NT_ATTR_FLOAT: nt_pbw_float(b, ATTR_F, a->f); break;
    case NT_ATTR_INT: nt_pbw_sint(b, ATTR_I, a->i); break;
    case NT_ATTR_STRING: nt_pbw_string(b, ATTR_S, a->s); break;
    case NT_ATTR_TENSOR: s = nt_onnx_encode_tensor(b, ATTR_T, a->t, NULL); break;
    case NT_ATTR_GRAPH: s = encode_graph(b, ATTR_G, a->g); break;
    case NT_ATTR_FLOATS:
        for (int i = 0; i < a->n; i++)
            nt_pbw_float(b, ATTR_FLOATS, a->floats[i]);
        break;
    case NT_ATTR_INTS:
        for (int i = 0; i < a->n; i++)
            nt_pbw_sint(b, ATTR_INTS, a->ints[i]);
        break;
    case NT_ATTR_STRINGS:
        for (int i = 0; i < a->n; i++)
            nt_pbw_string(b, ATTR_STRINGS, a->strings[i]);
        break;
    default:
        return nt_error(NT_ERR_INTERNAL, "attribute %s: unexpected type %d", a->name, (int)a->type);
    }
    nt_pbw_uint(b, ATTR_TYPE, (uint64_t)a->type);
    nt_pbw_end(b, m);
    return s;
}

static nt_status encode_node(nt_buf *b, const nt_onnx_node *n)
{
    size_t m = nt_pbw_begin(b, GRAPH_NODE);
    for (int i = 0; i < n->n_in; i++)
        nt_pbw_string(b, NODE_INPUT, n->in[i]);
    for (int i = 0; i < n->n_out; i++)
        nt_pbw_string(b, NODE_OUTPUT, n->out[i]);
    if (*n->name)
        nt_pbw_string(b, NODE_NAME, n->name);
    nt_pbw_string(b, NODE_OP_TYPE, n->op_type);
    for (const onnx_attr *a = n->attrs; a; a = a->next) {
        nt_status s = encode_attr(b, a);
        if (s != NT_OK)
            return nt_error_wrap(s, "node %s (%s)", n->name, n->op_type);
    }
    if (*n->domain)
        nt_pbw_string(b, NODE_DOMAIN, n->domain);
    nt_pbw_end(b, m);
    return NT_OK;
}

static nt_status encode_graph(nt_buf *b, uint32_t field, const nt_onnx_graph *g)
{
    if (g->status != NT_OK)
        return nt_error(g->status, "%s", g->message);
    size_t m = nt_pbw_begin(b, field);
    for (const nt_onnx_node *n = g->nodes.head; n; n = n->next) {
        nt_status s = encode_node(b, n);
        if (s != NT_OK)
            return s;
    }
    nt_pbw_string(b, GRAPH_NAME, g->name);
    for (const onnx_init *in = g->inits.head; in; in = in->next) {
        nt_status s = nt_onnx_encode_tensor(b, GRAPH_INITIALIZER, in->t, in->name);
        if (s != NT_OK)
            return nt_error_wrap(s, "graph %s: initializer", g->name);
    }
    for (const onnx_value *v = g->inputs.head; v; v = v->next)
        encode_value(b, GRAPH_INPUT, v);
    for (const onnx_value *v = g->outputs.head; v; v = v->next)
        encode_value(b, GRAPH_OUTPUT, v);
    for (const onnx_value *v = g->value_info.head; v; v = v->next)
        encode_value(b, GRAPH_VALUE_INFO, v);
    nt_pbw_end(b, m);
    return NT_OK;
}

/* ------------------------------------------------------------ models */

nt_onnx_builder *nt_onnx_builder_new(int64_t ir_version, int64_t opset)
{
    nt_onnx_builder *b = nt_calloc(1, sizeof *b);
    if (!b)
        return NULL;
    nt_arena_init(&b->arena);
    b->ir_version = ir_version;
    b->producer_name = "nntrace";
    b->producer_version = NT_VERSION_STRING;
    b->graph = nt_onnx_graph_new("main_graph");
    if (!b->graph || nt_onnx_builder_add_opset(b, "", opset) != NT_OK) {
        nt_onnx_builder_free(b);
        return NULL;
    }
    b->graph->attached = true;
    return b;
}

void nt_onnx_builder_free(nt_onnx_builder *b)
{
    if (!b)
        return;
    graph_destroy(b->graph);
    nt_arena_deinit(&b->arena);
    free(b);
}

nt_onnx_graph *nt_onnx_builder_graph(nt_onnx_builder *b) { return b ? b->graph : NULL; }

nt_status nt_onnx_builder_add_opset(nt_onnx_builder *b, const char *domain, int64_t version)
{
    if (!b)
        return nt_error(NT_ERR_INVALID_ARG, "nt_onnx_builder_add_opset: no builder");
    const char *d = domain && strcmp(domain, "ai.onnx") != 0 ? domain : "";
    if (version < 1)
        return graph_error(b->graph, NT_ERR_INVALID_ARG, "opset version %lld for domain '%s' is not positive",
                           (long long)version, d);
    for (onnx_opset *o = b->opsets.head; o; o = o->next)
        if (strcmp(o->domain, d) == 0) {
            o->version = version;
            return NT_OK;
        }
    onnx_opset *o = nt_arena_alloc(&b->arena, sizeof *o);
    if (!o || !(o->domain = nt_arena_strdup(&b->arena, d)))
        return graph_fail(b->graph, NT_ERR_NOMEM);
    o->version = version;
    LIST_APPEND(b->opsets, o);
    return NT_OK;
}

nt_status nt_onnx_builder_set_producer(nt_onnx_builder *b, const char *name, const char *version)
{
    if (!b)
        return nt_error(NT_ERR_INVALID_ARG, "nt_onnx_builder_set_producer: no builder");
    const char *n = nt_arena_strdup(&b->arena, name ? name : "");
    const char *v = nt_arena_strdup(&b->arena, version ? version : "");
    if (!n || !v)
        return graph_fail(b->graph, NT_ERR_NOMEM);
    b->producer_name = n;
    b->producer_version = v;
    return NT_OK;
}

nt_status nt_onnx_builder_encode(nt_onnx_builder *b, nt_buf *buf)
{
    if (!b || !buf)
        return nt_error(NT_ERR_INVALID_ARG, "nt_onnx_builder_encode: no builder or buffer");
    size_t start = buf->len;
    nt_pbw_uint(buf, MODEL_IR_VERSION, (uint64_t)b->ir_version);
    if (*b->producer_name)
        nt_pbw_string(buf, MODEL_PRODUCER_NAME, b->producer_name);
    if (*b->producer_version)
        nt_pbw_string(buf, MODEL_PRODUCER_VERSION, b->producer_version);
    nt_status s = encode_graph(buf, MODEL_GRAPH, b->graph);
    if (s == NT_OK)
        for (const onnx_opset *o = b->opsets.head; o; o = o->next) {
            size_t m = nt_pbw_begin(buf, MODEL_OPSET_IMPORT);
            nt_pbw_string(buf, OPSET_DOMAIN, o->domain);
            nt_pbw_uint(buf, OPSET_VERSION, (uint64_t)o->version);
            nt_pbw_end(buf, m);
        }
    if (s == NT_OK && buf->failed)
        s = nt_error(NT_ERR_NOMEM, "out of memory encoding the model");
    if (s != NT_OK && !buf->failed)
        buf->len = start;   /* leave no half-written model behind */
    return s;
}

nt_status nt_onnx_builder_save(nt_onnx_builder *b, const char *path)
{
    if (!path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_onnx_builder_save: no path");
    nt_buf buf;
    nt_buf_init(&buf);
    nt_status s = nt_onnx_builder_encode(b, &buf);
    if (s != NT_OK)
        s = nt_error_wrap(s, "%s", path);
    else
        s = nt_write_file(path, buf.data, buf.len);
    nt_buf_deinit(&buf);
    return s;
}

/* ---- shorthands on the main graph */

nt_status nt_onnx_builder_add_input(nt_onnx_builder *b, const char *name, nt_dtype dtype, int ndim,
                                    const int64_t *dims, const char *const *dim_names)
{
    return nt_onnx_graph_add_input(nt_onnx_builder_graph(b), name, dtype, ndim, dims, dim_names);
}

nt_status nt_onnx_builder_add_output(nt_onnx_builder *b, const char *name, nt_dtype dtype, int ndim,
                                     const int64_t *dims, const char *const *dim_names)
{
    return nt_onnx_graph_add_output(nt_onnx_builder_graph(b), name, dtype, ndim, dims, dim_names);
}

nt_status nt_onnx_builder_add_initializer(nt_onnx_builder *b, const char *name, const nt_tensor *t)
{
    return nt_onnx_graph_add_initializer(nt_onnx_builder_graph(b), name, t);
}

nt_onnx_node *nt_onnx_builder_add_node(nt_onnx_builder *b, const char *op_type, const char *name, int n_in,
                                       const char *const *inputs, int n_out, const char *const *outputs)
{
    return nt_onnx_graph_add_node(nt_onnx_builder_graph(b), op_type, name, n_in, inputs, n_out, outputs);
}
