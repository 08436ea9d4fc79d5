/*
 * kernel.h — the contract between the executor and operator kernels.
 *
 * An operator is a table entry (nt_op_def): op type, domain, since-version,
 * and up to four functions.  For a node, the registry picks the entry with
 * the highest since-version <= the model's opset for that domain.
 *
 *   prepare(node, opset, &state)   once per node at session creation: parse
 *                                  and validate attributes, pre-pack weights.
 *                                  NT_ERR_UNSUPPORTED for modes we decline.
 *   infer(ctx)                     set every present output's dtype and shape
 *                                  from the inputs.  Called at plan time with
 *                                  ctx->static_mode (input data may be NULL,
 *                                  dims may be -1, ndim may be -1) and at run
 *                                  time before each compute with everything
 *                                  known.  Must reject unsupported dtypes with
 *                                  NT_ERR_UNSUPPORTED in both modes.
 *   compute(ctx)                   the outputs are allocated to the inferred
 *                                  shapes; fill them.  An output whose shape
 *                                  depends on computed data (NonZero, Unique)
 *                                  is left with ndim == -1 by infer and is
 *                                  allocated in compute with nt_ctx_alloc_output.
 *   release(state)                 frees prepare's state.
 *
 * Kernels never print, exit or abort on bad input: they return a status with
 * a message (nt_error) naming what is wrong; the executor adds the node name.
 */
#ifndef NT_KERNEL_H
#define NT_KERNEL_H

#include "graph/ir.h"

typedef struct nt_exec nt_exec;

typedef struct nt_kernel_ctx {
    const nt_node *node;
    int opset;
    int n_in, n_out;
    nt_tensor **in;          /* in[i] NULL for an omitted optional input */
    nt_tensor **out;         /* out[i] NULL for an omitted optional output */
    void *state;             /* what prepare returned */
    bool static_mode;        /* plan-time shape inference */
    nt_exec *exec;           /* for subgraphs and the thread pool */
    const nt_graph *graph;   /* the graph the node belongs to */
} nt_kernel_ctx;

typedef struct nt_op_def {
    const char *op_type;
    const char *domain;      /* "" for the default ONNX domain */
    int since;
    nt_status (*prepare)(const nt_node *node, int opset, void **state);
    void (*release)(void *state);
    nt_status (*infer)(nt_kernel_ctx *ctx);
    nt_status (*compute)(nt_kernel_ctx *ctx);
} nt_op_def;

/* The entry for (op_type, domain) with the highest since <= opset, or NULL. */
const nt_op_def *nt_op_find(const char *op_type, const char *domain, int opset);
/* Whether any version of the op exists (to tell "unknown op" from "opset too old"). */
bool nt_op_known(const char *op_type, const char *domain);
/* Iterate over every registered op (for `nntrace ops`, docs, tests). */
size_t nt_op_count(void);
const nt_op_def *nt_op_at(size_t i);

/* ---- helpers for infer functions */

/* In static mode, true when some present input has an unknown rank or dim
 * (the caller then marks outputs unknown with nt_ctx_outputs_unknown). */
bool nt_ctx_shapes_unknown(const nt_kernel_ctx *ctx);
/* In static mode, true when input i is present but its data is not known. */
bool nt_ctx_data_unknown(const nt_kernel_ctx *ctx, int i);
/* Whether input i is a constant of the session: an initializer (not also a
 * graph input, which a caller could feed) of the node's graph or, through
 * outer-scope captures, of an enclosing one (If/Loop/Scan bodies reading the
 * model's weights).  Kernels keep data derived from such inputs (packed
 * weights) across runs. */
bool nt_ctx_input_constant(const nt_kernel_ctx *ctx, int i);
/* Sets every present output to rank unknown (keeps dtypes). */
void nt_ctx_outputs_unknown(nt_kernel_ctx *ctx);
/* Sets output i's dtype and shape. */
nt_status nt_ctx_set_output(nt_kernel_ctx *ctx, int i, nt_dtype dtype, int ndim, const int64_t *dims);
/* In compute: gives output i its shape and storage (for data-dependent shapes). */
nt_status nt_ctx_alloc_output(nt_kernel_ctx *ctx, int i, nt_dtype dtype, int ndim, const int64_t *dims);
/* Input i or NULL if omitted / beyond n_in. */
static inline nt_tensor *nt_ctx_in(const nt_kernel_ctx *ctx, int i)
{
    return i < ctx->n_in ? ctx->in[i] : NULL;
}
static inline nt_tensor *nt_ctx_out(const nt_kernel_ctx *ctx, int i)
{
    return i < ctx->n_out ? ctx->out[i] : NULL;
}

/* An error naming the node: "node 'conv1' (Conv): <message>". */
nt_status nt_ctx_error(const nt_kernel_ctx *ctx, nt_status s, const char *fmt, ...) NT_PRINTF(3, 4);

/* Reads a 1-D (or scalar) integer tensor (int32/int64) into int64 values.
 * Returns the count, or -1 with an error if the dtype is not an integer. */
int64_t nt_tensor_read_ints(const nt_tensor *t, int64_t *vals, int64_t max);

/* ---- broadcasting (numpy rules) */

/* out = broadcast of a and b shapes; NT_ERR_SHAPE if incompatible. */
nt_status nt_broadcast_shape(int na, const int64_t *a, int nb, const int64_t *b, int *nout, int64_t *out);

/* ---- threads: static partition of [0, n) into at most exec->threads chunks,
 * each a contiguous range, so results are deterministic for a thread count. */
typedef void (*nt_range_fn)(void *arg, int64_t begin, int64_t end);
void nt_parallel_for(nt_exec *exec, int64_t n, int64_t min_chunk, nt_range_fn fn, void *arg);
int nt_exec_threads(const nt_exec *exec);
/* Scratch shared by every node of the session (exec/workspace.c): at least
 * nbytes, valid until the next request for the same slot (0 or 1); NULL
 * without a session or when memory runs out.  For work buffers needed only
 * while a kernel runs; a kernel must not call another while holding one. */
#define NT_WORKSPACE_SLOTS 2
void *nt_exec_workspace(nt_exec *exec, int slot, size_t nbytes);
/* Whether the session allows Winograd convolutions (nt_session_options). */
bool nt_exec_winograd(const nt_exec *exec);

/* ---- subgraphs (If/Loop/Scan bodies).  inputs bind body->inputs in order;
 * outputs receive new owned tensors (caller frees) for body->outputs in order.
 * Outer-scope values are resolved from the frame of the calling node. */
nt_status nt_exec_subgraph(nt_kernel_ctx *ctx, const nt_graph *body, int n_inputs, nt_tensor *const *inputs,
                           int n_outputs, nt_tensor **outputs);

/* Equal on STRING tensors (strings.c), for binary.c's Equal. */
nt_status nt_str_equal_infer(nt_kernel_ctx *ctx);
nt_status nt_str_equal_compute(nt_kernel_ctx *ctx);

/* Identity on sequence and optional values (sequence.c), for shape.c. */
nt_status nt_seq_identity_infer(nt_kernel_ctx *ctx);
nt_status nt_seq_identity_compute(nt_kernel_ctx *ctx);

#endif /* NT_KERNEL_H */
