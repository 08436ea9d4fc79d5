/*
 * writer.h — encoders for the files nntrace writes in ONNX's formats:
 * TensorProto messages (.pb tensor files, initializers, tensor attributes)
 * and whole ModelProto files built from C with a small builder.
 *
 * The builder exists so that tests can make fixture models without Python
 * and so that `nntrace extract` can write a one-node repro model.  It is a
 * plain description of a model — names, types, nodes, attributes, weights —
 * encoded when saved; it checks only what it must to write a well-formed
 * file (onnx.checker is the judge of ONNX semantics).
 *
 * Model and graph are separate handles: an nt_onnx_builder is a model (IR
 * version, opset imports, producer, one top-level graph); an nt_onnx_graph
 * is a graph, either the builder's main graph or a body made with
 * nt_onnx_graph_new for an If/Loop/Scan attribute.  The nt_onnx_builder_add_*
 * calls are shorthands for the nt_onnx_graph_add_* calls on the main graph.
 *
 * Errors are sticky: a failing add (bad argument, out of memory) returns its
 * status and is also remembered by the graph, and nt_onnx_builder_encode /
 * _save return the first such failure with its message, so a test may build
 * a model without checking every call.
 */
#ifndef NT_ONNX_WRITER_H
#define NT_ONNX_WRITER_H

#include "core/core.h"
#include "core/npy.h"   /* nt_npy_encode, nt_swap_bytes: writers of tensors use both */

/* ---------------------------------------------------------------- tensors */

/* Appends a TensorProto for t as field `field` of the message being written
 * into b (field 0: the bare message, as in a .pb file): dims, data_type,
 * name (omitted when NULL or ""), raw_data in little-endian order.  Every
 * dtype with a fixed element layout is accepted (bfloat16, float8 and the
 * packed 4-bit types included); STRING and UNDEFINED are NT_ERR_UNSUPPORTED. */
nt_status nt_onnx_encode_tensor(nt_buf *b, uint32_t field, const nt_tensor *t, const char *name);

/* ---------------------------------------------------------------- models */

typedef struct nt_onnx_builder nt_onnx_builder;
typedef struct nt_onnx_graph nt_onnx_graph;
typedef struct nt_onnx_node nt_onnx_node;

/* A model with the default-domain opset `opset` imported; its main graph is
 * named "main_graph".  NULL (with message) when out of memory. */
nt_onnx_builder *nt_onnx_builder_new(int64_t ir_version, int64_t opset);
void nt_onnx_builder_free(nt_onnx_builder *b);
/* The main graph (borrowed; lives as long as b). */
nt_onnx_graph *nt_onnx_builder_graph(nt_onnx_builder *b);
/* Imports another opset, or changes the version of one already imported
 * (domain "" or "ai.onnx" is the default domain). */
nt_status nt_onnx_builder_add_opset(nt_onnx_builder *b, const char *domain, int64_t version);
/* producer_name / producer_version ("nntrace", NT_VERSION_STRING by default). */
nt_status nt_onnx_builder_set_producer(nt_onnx_builder *b, const char *name, const char *version);
/* Appends the ModelProto to buf; returns the first error any add reported. */
nt_status nt_onnx_builder_encode(nt_onnx_builder *b, nt_buf *buf);
/* Encodes and writes path atomically. */
nt_status nt_onnx_builder_save(nt_onnx_builder *b, const char *path);

/* Shorthands for the nt_onnx_graph_* calls on the main graph. */
nt_status nt_onnx_builder_add_input(nt_onnx_builder *b, const char *name, nt_dtype dtype, int ndim,
                                    const int64_t *dims, const char *const *dim_names);
nt_status nt_onnx_builder_add_output(nt_onnx_builder *b, const char *name, nt_dtype dtype, int ndim,
                                     const int64_t *dims, const char *const *dim_names);
nt_status nt_onnx_builder_add_initializer(nt_onnx_builder *b, const char *name, const nt_tensor *t);
nt_onnx_node *nt_onnx_builder_add_node(nt_onnx_builder *b, const char *op_type, const char *name, int n_in,
                                       const char *const *inputs, int n_out, const char *const *outputs);

/* A free-standing graph, to become a node's graph attribute (a body of
 * If/Loop/Scan).  Free it only if it is never attached. */
nt_onnx_graph *nt_onnx_graph_new(const char *name);
void nt_onnx_graph_free(nt_onnx_graph *g);
/* Renames a graph (the main graph is "main_graph" until renamed). */
nt_status nt_onnx_graph_set_name(nt_onnx_graph *g, const char *name);

/*
 * Declares a graph input / output / intermediate value's type.  dtype
 * UNDEFINED writes no type at all (allowed for subgraph values); ndim -1 an
 * unknown rank; dims[i] == -1 an unknown dim, named (symbolic) when
 * dim_names && dim_names[i].  dims may be NULL when ndim <= 0.
 */
nt_status nt_onnx_graph_add_input(nt_onnx_graph *g, const char *name, nt_dtype dtype, int ndim,
                                  const int64_t *dims, const char *const *dim_names);
nt_status nt_onnx_graph_add_output(nt_onnx_graph *g, const char *name, nt_dtype dtype, int ndim,
                                   const int64_t *dims, const char *const *dim_names);
nt_status nt_onnx_graph_add_value_info(nt_onnx_graph *g, const char *name, nt_dtype dtype, int ndim,
                                       const int64_t *dims, const char *const *dim_names);
/* A weight, copied. */
nt_status nt_onnx_graph_add_initializer(nt_onnx_graph *g, const char *name, const nt_tensor *t);
/* A weight, borrowed: t and its data must outlive the last encode/save
 * (for writing models whose weights sit in a mapped file). */
nt_status nt_onnx_graph_add_initializer_ref(nt_onnx_graph *g, const char *name, const nt_tensor *t);
/* A node (borrowed handle, owned by g).  name may be NULL; an input may be
 * NULL or "" for an omitted optional input.  NULL (with message) on error. */
nt_onnx_node *nt_onnx_graph_add_node(nt_onnx_graph *g, const char *op_type, const char *name, int n_in,
                                     const char *const *inputs, int n_out, const char *const *outputs);

/* ---------------------------------------------------------------- nodes */

/* Every call accepts node == NULL (a failed add_node) and then returns the
 * error that add recorded, so failures surface at save time. */
nt_status nt_onnx_node_set_domain(nt_onnx_node *node, const char *domain);
nt_status nt_onnx_node_attr_int(nt_onnx_node *node, const char *name, int64_t v);
nt_status nt_onnx_node_attr_float(nt_onnx_node *node, const char *name, float v);
nt_status nt_onnx_node_attr_string(nt_onnx_node *node, const char *name, const char *v);
nt_status nt_onnx_node_attr_ints(nt_onnx_node *node, const char *name, int n, const int64_t *v);
nt_status nt_onnx_node_attr_floats(nt_onnx_node *node, const char *name, int n, const float *v);
nt_status nt_onnx_node_attr_strings(nt_onnx_node *node, const char *name, int n, const char *const *v);
/* The tensor is copied. */
nt_status nt_onnx_node_attr_tensor(nt_onnx_node *node, const char *name, const nt_tensor *t);
/* Takes ownership of g (also on failure: g is freed then), which must be a
 * graph from nt_onnx_graph_new not yet attached anywhere. */
nt_status nt_onnx_node_attr_graph(nt_onnx_node *node, const char *name, nt_onnx_graph *g);

#endif /* NT_ONNX_WRITER_H */
