/*
 * ir.h — the in-memory graph every module shares: a model owns a top-level
 * graph; a graph owns its values (every tensor name it mentions), nodes and
 * attributes; subgraphs (If/Loop/Scan bodies) hang off attributes.
 *
 * Everything here lives in the model's arena and is read-only after load,
 * except the fields marked "plan", which the session fills.  Initializer
 * tensors point into the memory-mapped model file (or external-data maps):
 * weights are never copied at load.
 *
 * Values are referred to by index into graph->values.  A value used by a
 * subgraph but defined in an enclosing graph is a NT_VALUE_OUTER value of the
 * subgraph whose outer_index is the index of the same name in graph->parent.
 */
#ifndef NT_IR_H
#define NT_IR_H

#include "core/core.h"

typedef struct nt_graph nt_graph;

/* ONNX AttributeProto.AttributeType numbers. */
typedef enum nt_attr_type {
    NT_ATTR_UNDEFINED = 0,
    NT_ATTR_FLOAT = 1,
    NT_ATTR_INT = 2,
    NT_ATTR_STRING = 3,
    NT_ATTR_TENSOR = 4,
    NT_ATTR_GRAPH = 5,
    NT_ATTR_FLOATS = 6,
    NT_ATTR_INTS = 7,
    NT_ATTR_STRINGS = 8,
    NT_ATTR_TENSORS = 9,
    NT_ATTR_GRAPHS = 10,
    NT_ATTR_SPARSE_TENSOR = 11,
    NT_ATTR_SPARSE_TENSORS = 12,
    NT_ATTR_TYPE_PROTO = 13,
    NT_ATTR_TYPE_PROTOS = 14
} nt_attr_type;

typedef struct nt_attr {
    const char *name;
    nt_attr_type type;
    float f;
    int64_t i;
    const char *s;          /* NUL-terminated copy (strings may hold NULs: see s_len) */
    size_t s_len;
    nt_tensor *t;           /* TENSOR (and SPARSE_TENSOR converted to dense, if supported) */
    nt_graph *g;            /* GRAPH */
    int n;                  /* element count of the list types */
    const float *floats;
    const int64_t *ints;
    const char **strings;
    nt_tensor **tensors;
    nt_graph **graphs;
} nt_attr;

typedef struct nt_node {
    const char *name;       /* never NULL: a generated "<op>_<index>" if the model has none */
    const char *op_type;
    const char *domain;     /* "" for the default ONNX domain ("ai.onnx" is normalized to "") */
    int index;              /* position in graph->nodes as stored in the file */
    int n_in, n_out;
    int *in;                /* value indices; -1 for an omitted optional input/output */
    int *out;
    int n_attr;
    nt_attr *attrs;
    /* plan: filled by the session */
    const struct nt_op_def *op;
    int opset;              /* the model's opset for this node's domain */
} nt_node;

typedef enum nt_value_kind {
    NT_VALUE_INTERMEDIATE = 0,  /* produced by a node (or unused) */
    NT_VALUE_INPUT,             /* graph input (not an initializer) */
    NT_VALUE_INITIALIZER,       /* constant weight; may also be listed as an input */
    NT_VALUE_OUTER              /* captured from the enclosing graph */
} nt_value_kind;

/* What kind of type a value declares; only tensors are run by the interpreter. */
typedef enum nt_type_kind {
    NT_TYPE_UNKNOWN = 0,
    NT_TYPE_TENSOR,
    NT_TYPE_SEQUENCE,
    NT_TYPE_MAP,
    NT_TYPE_OPTIONAL,
    NT_TYPE_SPARSE_TENSOR
} nt_type_kind;

typedef struct nt_value {
    const char *name;
    nt_value_kind kind;
    nt_type_kind type_kind;     /* from inputs/outputs/value_info, UNKNOWN if undeclared */
    nt_dtype dtype;             /* declared element type, UNDEFINED if unknown */
    int ndim;                   /* declared rank, -1 if unknown */
    int64_t *dims;              /* ndim entries; -1 for symbolic or unknown */
    const char **dim_names;     /* ndim entries; dim_param name or NULL */
    nt_tensor *init;            /* INITIALIZER: the constant (data in the map) */
    bool is_graph_input;        /* listed in graph.input (even if also an initializer) */
    bool is_graph_output;
    int producer;               /* index of the producing node, -1 if none */
    int outer_index;            /* OUTER: index in parent->values */
} nt_value;

struct nt_graph {
    const char *name;
    nt_graph *parent;           /* NULL for the model's top graph */
    int n_nodes;
    nt_node *nodes;
    int n_values;
    nt_value *values;
    int n_inputs;               /* graph.input entries that are not initializers, in order */
    int *inputs;
    int n_outputs;
    int *outputs;
    int n_inits;
    int *inits;
    int n_outer;                /* values of kind OUTER */
};

typedef struct nt_opset {
    const char *domain;         /* "" for the default domain */
    int64_t version;
} nt_opset;

/* Everything nt_model_load builds; opaque to users of nntrace.h. */
struct nt_model {
    nt_arena arena;
    char *path;                 /* as given ("<buffer>" for nt_model_load_buffer) */
    char *dir;                  /* folder of path, for external data */
    const uint8_t *map;         /* the mapped file */
    size_t map_len;
    int map_is_mmap;            /* 1: munmap on free, 0: borrowed buffer */
    struct nt_extmap *ext;      /* external-data maps (loader-private list) */
    int64_t ir_version;
    const char *producer_name, *producer_version, *domain, *doc;
    int64_t model_version;
    int n_opsets;
    nt_opset *opsets;
    nt_graph *graph;
    int n_subgraphs;            /* subgraphs at any depth */
};

/* Lookups (linear or hashed; callers must not assume order of cost). */
int nt_graph_find_value(const nt_graph *g, const char *name);   /* -1 if absent */
const nt_attr *nt_node_attr(const nt_node *n, const char *name); /* NULL if absent */
int64_t nt_node_attr_int(const nt_node *n, const char *name, int64_t dflt);
float nt_node_attr_float(const nt_node *n, const char *name, float dflt);
const char *nt_node_attr_string(const nt_node *n, const char *name, const char *dflt);
/* Number of ints, pointer in *vals (NULL, 0 if absent). */
int nt_node_attr_ints(const nt_node *n, const char *name, const int64_t **vals);
int nt_node_attr_floats(const nt_node *n, const char *name, const float **vals);
/* The model's opset version for a domain ("" or "ai.onnx" = default); 0 if none. */
int64_t nt_model_opset(const nt_model *m, const char *domain);

#endif /* NT_IR_H */
