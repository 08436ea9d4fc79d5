/*
 * extract.h — cutting a minimal repro out of a model: one node, or the
 * nodes between two nodes, as a standalone ONNX model with the tensors that
 * flowed into it captured from a real run, in the ONNX test-case layout:
 *
 *     DIR/model.onnx
 *     DIR/test_data_set_0/input_K.pb    the cut's inputs, in graph input order
 *     DIR/test_data_set_0/output_K.pb   what nntrace computed for its outputs
 *
 * Weights the cut uses stay initializers; every other value crossing into
 * the cut (including values an If/Loop/Scan body reads from the enclosing
 * graph) becomes a graph input.  A value produced inside the cut becomes an
 * output when it is used outside it, is a graph output, or is not used at
 * all (so a single node keeps all its outputs).
 */
#ifndef NT_EXTRACT_H
#define NT_EXTRACT_H

#include "core/core.h"
#include "graph/ir.h"

/* The nodes of the cut: `from` alone, or with `to` every top-level node that
 * depends on `from` and that `to` depends on (both included).  *nodes gets
 * node indices in graph order (free() it).  NT_ERR_NOT_FOUND names a node
 * that is missing (or only inside a subgraph); NT_ERR_INVALID_ARG when `to`
 * does not depend on `from`. */
nt_status nt_extract_select(const nt_graph *g, const char *from, const char *to, int **nodes, int *n);

typedef struct nt_extract_result {
    int n_nodes, n_inputs, n_outputs, n_initializers;
} nt_extract_result;

/*
 * Runs the session (its inputs already bound) to capture the cut's inputs
 * and outputs, then writes DIR as described above.  The session gets a
 * tracer attached for the capture; use a fresh session.  `m` must be the
 * session's model.
 */
nt_status nt_extract(nt_model *m, nt_session *s, const char *from, const char *to, const char *dir,
                     nt_extract_result *res);

#endif /* NT_EXTRACT_H */
