/*
 * nntrace.h — the public C API of libnntrace, the only header a user includes.
 *
 * nntrace loads ONNX models, runs them on its own CPU interpreter and lets the
 * caller observe every node through tracers (small vtables of callbacks).  It
 * also writes TensorBoard-readable event files from any program.
 *
 * Conventions: every fallible call returns an nt_status (NT_OK == 0) and
 * hands results back through out-parameters.  On failure, nt_last_error()
 * returns a message naming the file and the field or node at fault.  The
 * library never exits, aborts or prints on bad input.  Objects created with
 * _new/_open are released with _free/_close; passing NULL to those is a no-op.
 */
#ifndef NNTRACE_H
#define NNTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NT_VERSION_STRING "0.1.0"

/* Marks the library's exported functions: libnntrace is built with
 * -fvisibility=hidden, so the shared library exports exactly this header. */
#if defined(__GNUC__) || defined(__clang__)
#define NT_API __attribute__((visibility("default")))
#else
#define NT_API
#endif

/* ---------------------------------------------------------------- status */

typedef enum nt_status {
    NT_OK = 0,
    NT_ERR_INVALID_ARG,   /* the caller passed something meaningless */
    NT_ERR_IO,            /* a file could not be opened, read or written */
    NT_ERR_PARSE,         /* a model or tensor file is malformed */
    NT_ERR_UNSUPPORTED,   /* valid input the interpreter declines (op, dtype) */
    NT_ERR_SHAPE,         /* shapes or dtypes do not fit together */
    NT_ERR_NOMEM,         /* an allocation failed or a size overflowed */
    NT_ERR_NOT_FOUND,     /* a named input, output, node or value is missing */
    NT_ERR_STOPPED,       /* a tracer asked the run to stop */
    NT_ERR_INTERNAL       /* a bug in nntrace */
} nt_status;

/* The message of the last failure on this thread ("" when none). */
NT_API const char *nt_last_error(void);
/* A short fixed name for a status ("parse error", ...). */
NT_API const char *nt_status_name(nt_status s);

/* ---------------------------------------------------------------- dtypes */

/* Values are ONNX's TensorProto.DataType numbers, so they round-trip. */
typedef enum nt_dtype {
    NT_DTYPE_UNDEFINED = 0,
    NT_DTYPE_FLOAT = 1,
    NT_DTYPE_UINT8 = 2,
    NT_DTYPE_INT8 = 3,
    NT_DTYPE_UINT16 = 4,
    NT_DTYPE_INT16 = 5,
    NT_DTYPE_INT32 = 6,
    NT_DTYPE_INT64 = 7,
    NT_DTYPE_STRING = 8,
    NT_DTYPE_BOOL = 9,
    NT_DTYPE_FLOAT16 = 10,
    NT_DTYPE_DOUBLE = 11,
    NT_DTYPE_UINT32 = 12,
    NT_DTYPE_UINT64 = 13,
    NT_DTYPE_COMPLEX64 = 14,
    NT_DTYPE_COMPLEX128 = 15,
    NT_DTYPE_BFLOAT16 = 16,
    NT_DTYPE_FLOAT8E4M3FN = 17,
    NT_DTYPE_FLOAT8E4M3FNUZ = 18,
    NT_DTYPE_FLOAT8E5M2 = 19,
    NT_DTYPE_FLOAT8E5M2FNUZ = 20,
    NT_DTYPE_UINT4 = 21,
    NT_DTYPE_INT4 = 22,
    NT_DTYPE_FLOAT4E2M1 = 23,
    NT_DTYPE_FLOAT8E8M0 = 24,
    NT_DTYPE_UINT2 = 25,
    NT_DTYPE_INT2 = 26,
    NT_DTYPE_COUNT
} nt_dtype;

/* Bytes per element in memory; 0 for STRING and unknown types.  The
 * sub-byte types (int4, uint4, float4e2m1, int2, uint2) are held one element
 * per byte in memory (int4/int2 sign-extended, the others in the low bits)
 * and packed only in files (.pb raw_data, model initializers), so every
 * byte-moving op works on them; float8 types hold their 8-bit code. */
NT_API size_t nt_dtype_size(nt_dtype t);
/* numpy-style name: "float32", "int64", "bool", ...; "undefined" if unknown. */
NT_API const char *nt_dtype_name(nt_dtype t);
/* ONNX-style name: "FLOAT", "INT64", ... */
NT_API const char *nt_dtype_onnx_name(nt_dtype t);
/* Inverse of nt_dtype_name (also accepts ONNX names); UNDEFINED if unknown. */
NT_API nt_dtype nt_dtype_from_name(const char *name);

/* ---------------------------------------------------------------- tensors */

#define NT_MAX_DIMS 8

/*
 * A dense tensor in row-major (C) order.  A plain value struct: the data
 * is either owned (NT_TENSOR_OWNS_DATA, freed by nt_tensor_free) or borrowed
 * (from a mapped model file, an arena, the caller).  In shape inference a
 * dim of -1 means "not known yet" and ndim == -1 an unknown rank.
 */
typedef struct nt_tensor {
    nt_dtype dtype;
    int ndim;
    int64_t dims[NT_MAX_DIMS];
    void *data;
    size_t capacity;    /* bytes available at data (>= nt_tensor_nbytes) */
    unsigned flags;     /* NT_TENSOR_* */
} nt_tensor;

enum {
    NT_TENSOR_OWNS_DATA = 1u << 0,
    /* Not a tensor but a sequence or an optional value: data points to an
     * nt_seq (see "sequences and optionals" below). */
    NT_TENSOR_SEQUENCE = 1u << 1,
    NT_TENSOR_OPTIONAL = 1u << 2
};

/* Product of dims (1 for a scalar); -1 if any dim is unknown. */
NT_API int64_t nt_tensor_numel(const nt_tensor *t);
/* numel * element size. */
NT_API size_t nt_tensor_nbytes(const nt_tensor *t);
/* A new tensor with zeroed, owned, 64-byte aligned data. */
NT_API nt_status nt_tensor_new(nt_dtype dtype, int ndim, const int64_t *dims, nt_tensor **out);
/* Deep copy (owned data). */
NT_API nt_status nt_tensor_clone(const nt_tensor *src, nt_tensor **out);
NT_API void nt_tensor_free(nt_tensor *t);
/* "float32[1,3,224,224]" into buf (always NUL-terminated). */
NT_API void nt_tensor_describe(const nt_tensor *t, char *buf, size_t len);

/* Element i (row-major) of any numeric tensor as a double; NaN for
 * non-numeric dtypes.  Convenience for printing and tests, not for speed. */
NT_API double nt_tensor_get_f64(const nt_tensor *t, int64_t i);
/* Stores v into element i, converting to the tensor's dtype. */
NT_API void nt_tensor_set_f64(nt_tensor *t, int64_t i, double v);

/* Tensor files: .npy (v1/v2/v3) and ONNX TensorProto .pb, chosen by suffix. */
NT_API nt_status nt_tensor_load(const char *path, nt_tensor **out);
NT_API nt_status nt_tensor_save(const char *path, const nt_tensor *t);
NT_API nt_status nt_npy_load(const char *path, nt_tensor **out);
NT_API nt_status nt_npy_save(const char *path, const nt_tensor *t);
NT_API nt_status nt_npy_parse(const void *buf, size_t len, const char *what, nt_tensor **out);
NT_API nt_status nt_pb_tensor_load(const char *path, nt_tensor **out, char **name);
NT_API nt_status nt_pb_tensor_save(const char *path, const nt_tensor *t, const char *name);
NT_API nt_status nt_pb_tensor_parse(const void *buf, size_t len, const char *what,
                             nt_tensor **out, char **name);

/* ---------------------------------------------------------------- models */

typedef struct nt_model nt_model;
typedef struct nt_session nt_session;

/* Maps the file and parses it in place; initializer data stays in the map. */
NT_API nt_status nt_model_load(const char *path, nt_model **out);
NT_API nt_status nt_model_load_buffer(const void *buf, size_t len, const char *what, nt_model **out);
NT_API void nt_model_free(nt_model *m);

/* Describes one graph input or output. dims[i] == -1 with dim_names[i]
 * set is symbolic; -1 with NULL name is unknown; ndim == -1 unknown rank. */
typedef struct nt_value_info {
    const char *name;
    nt_dtype dtype;
    int ndim;
    const int64_t *dims;
    const char *const *dim_names;
} nt_value_info;

NT_API int nt_model_input_count(const nt_model *m);
NT_API int nt_model_output_count(const nt_model *m);
NT_API nt_status nt_model_input_info(const nt_model *m, int i, nt_value_info *out);
NT_API nt_status nt_model_output_info(const nt_model *m, int i, nt_value_info *out);
NT_API int nt_model_node_count(const nt_model *m);
NT_API const char *nt_model_path(const nt_model *m);

/* ---------------------------------------------------------------- tracers */

/* What a tracer callback asks the session to do next. */
typedef enum nt_action {
    NT_ACTION_CONTINUE = 0,
    NT_ACTION_PAUSE,   /* return from nt_session_run with NT_OK and paused state */
    NT_ACTION_STOP     /* abort the run: nt_session_run returns NT_ERR_STOPPED */
} nt_action;

/* A node as the tracer sees it; pointers are valid during the callback. */
typedef struct nt_node_view {
    int index;               /* position in execution order (top-level graph) */
    const char *name;        /* node name, or a generated "op_type_index" */
    const char *op_type;
    const char *domain;
    int depth;               /* 0 for the top graph, >0 inside If/Loop/Scan bodies */
    int n_inputs, n_outputs;
    const char *const *input_names;   /* "" for omitted optional inputs */
    const char *const *output_names;
    nt_tensor *const *inputs;         /* NULL entries for omitted inputs */
    nt_tensor *const *outputs;        /* only meaningful in node_end */
    double elapsed_ms;                /* node_end: time spent in the kernel */
} nt_node_view;

/*
 * A tracer: callbacks with user data; any callback may be NULL.
 * wants_node is asked once per node when the tracer is attached; nodes no
 * attached tracer wants cost nothing at run time.
 */
typedef struct nt_tracer {
    void *user;
    bool (*wants_node)(void *user, const nt_node_view *node);
    nt_action (*run_begin)(void *user, nt_session *s);
    nt_action (*node_begin)(void *user, nt_session *s, const nt_node_view *node);
    nt_action (*node_end)(void *user, nt_session *s, const nt_node_view *node);
    void (*run_end)(void *user, nt_session *s, nt_status result);
    /* Only for a tracer that keeps reading node_end's tensors after
     * node_end returned (on a thread of its own): called with every tensor
     * the session is about to free or reuse (ones this tracer never saw
     * too), and with t == NULL before nt_session_run returns; the tracer
     * must be done with t (with every tensor, for NULL) when it returns. */
    void (*release)(void *user, nt_session *s, const nt_tensor *t);
} nt_tracer;

/* ---------------------------------------------------------------- sessions */

/* Zero-initialised options are the defaults.  The library reads no
 * environment variables: the CLI maps NNTRACE_* to these (README). */
typedef struct nt_session_options {
    int threads;               /* intra-op threads; 0 or 1 = single thread */
    int n_dim_overrides;       /* values for symbolic dims (--dim NAME=N) */
    const char *const *dim_names;
    const int64_t *dim_values;
    bool no_fusion;            /* run every node by itself (fusion never changes values) */
    bool no_winograd;          /* 3x3 convolutions without Winograd (its rounding differs
                                  from a direct convolution's by a few ulps) */
} nt_session_options;

/* Resource limits against hostile models, for the whole process (set them
 * before loading models; a 0 member keeps the default).  Defaults: one
 * tensor at most 4 GiB or half the physical memory, 512 GiB of outputs
 * written per run, 2^20 Loop/Scan iterations per node and run. */
typedef struct nt_limits {
    uint64_t memory_bytes;     /* largest single allocation */
    uint64_t run_bytes;        /* bytes of node outputs one run may write */
    int64_t iterations;        /* Loop/Scan iterations of one node per run */
} nt_limits;
NT_API void nt_set_limits(const nt_limits *limits);
NT_API void nt_get_limits(nt_limits *out);

/* Plans the model: operator lookup (every unsupported node reported at once),
 * topological order, static shape inference. */
NT_API nt_status nt_session_new(nt_model *m, const nt_session_options *opt, nt_session **out);
NT_API void nt_session_free(nt_session *s);

/* Binds a graph input by name (copied into the session). */
NT_API nt_status nt_session_set_input(nt_session *s, const char *name, const nt_tensor *t);
/* Binds a graph input without a copy: the session reads t->data (never
 * writes it) until another tensor is bound to that input or the session is
 * freed; the caller keeps the memory alive and unchanged meanwhile.  The
 * same checks of name, dtype and shape as nt_session_set_input. */
NT_API nt_status nt_session_bind_input(nt_session *s, const char *name, const nt_tensor *t);
NT_API nt_status nt_session_add_tracer(nt_session *s, const nt_tracer *tracer);
/* Detaches a tracer attached with nt_session_add_tracer (found by its user
 * pointer and callbacks); the session no longer calls or refers to it.
 * NT_ERR_NOT_FOUND if it is not attached; NT_ERR_INVALID_ARG while a run is
 * in progress or paused. */
NT_API nt_status nt_session_remove_tracer(nt_session *s, const nt_tracer *tracer);
/* Runs from the start, or resumes a paused run. */
NT_API nt_status nt_session_run(nt_session *s);
NT_API bool nt_session_paused(const nt_session *s);
/* Borrowed; valid until the next run or nt_session_free. */
NT_API nt_status nt_session_get_output(nt_session *s, int i, const nt_tensor **out);
/* Any live value by tensor name (graph input, initializer, node output). */
NT_API nt_status nt_session_get_value(nt_session *s, const char *name, nt_tensor **out);
/* Keep every intermediate value alive for the whole run (debuggers), instead
 * of freeing each after its last use. */
NT_API void nt_session_set_keep_values(nt_session *s, bool keep);
/* Problems static shape inference found while planning ("node 'x' (Op):
 * message" lines; "" if none).  Valid until nt_session_free. */
NT_API const char *nt_session_plan_warnings(const nt_session *s);
/* Peak bytes of intermediate tensors held at once in the last run. */
NT_API size_t nt_session_peak_bytes(const nt_session *s);

/* ---------------------------------------------------------------- events */

/* A TensorBoard event-file writer (events.out.tfevents.<time>.<host>...). */
typedef struct nt_writer nt_writer;

NT_API nt_status nt_writer_open(const char *dir, nt_writer **out);
NT_API nt_status nt_writer_scalar(nt_writer *w, const char *tag, int64_t step, double value);
NT_API nt_status nt_writer_histogram(nt_writer *w, const char *tag, int64_t step,
                              const float *values, size_t n);
/* 8-bit images, channels 1 (gray), 3 (RGB) or 4 (RGBA), row-major HWC. */
NT_API nt_status nt_writer_image(nt_writer *w, const char *tag, int64_t step, const uint8_t *pixels,
                          int height, int width, int channels);
NT_API nt_status nt_writer_text(nt_writer *w, const char *tag, int64_t step, const char *text);
/* The wall time (seconds since the epoch) of the records appended next, as
 * TensorBoard's walltime argument; 0 goes back to the clock. */
NT_API void nt_writer_set_walltime(nt_writer *w, double seconds);
/* Writes the model's graph (with its If/Loop/Scan bodies where the library
 * draws them) as a GraphDef: TensorBoard's Graphs tab shows it. */
NT_API nt_status nt_writer_graph(nt_writer *w, const nt_model *m);
NT_API nt_status nt_writer_flush(nt_writer *w);
/* Flushes and closes; returns the first write error seen, if any. */
NT_API nt_status nt_writer_close(nt_writer *w);

/* ------------------------------------------------- sequences and optionals */

/*
 * ONNX sequence and optional values travel as an nt_tensor with the flag
 * NT_TENSOR_SEQUENCE or NT_TENSOR_OPTIONAL set and data pointing to an
 * nt_seq that owns its items (each a heap nt_tensor: a tensor, or for an
 * optional also a sequence).  dtype is the element type when known; ndim
 * is 0.  An optional holds zero items (None) or one.  nt_tensor_free and
 * nt_tensor_clone handle them.  Check the flags before reading data.
 */
typedef struct nt_seq {
    int n, cap;
    nt_tensor **items;
} nt_seq;

/* An empty sequence (optional: None) of element type elem. */
NT_API nt_status nt_seq_new(bool optional, nt_dtype elem, nt_tensor **out);
/* Appends item to a sequence (or sets an optional's value), taking ownership
 * (freed on failure too). */
NT_API nt_status nt_seq_append(nt_tensor *seq, nt_tensor *item);
/* Whether t is a sequence or optional value, not a tensor. */
NT_API bool nt_value_is_container(const nt_tensor *t);
/* The nt_seq of a sequence or optional value (NULL for a tensor). */
NT_API const nt_seq *nt_value_seq(const nt_tensor *t);
/* An ONNX SequenceProto or OptionalProto .pb file (the test-case layout's
 * input_K.pb for a sequence or optional input). */
NT_API nt_status nt_pb_value_load(const char *path, bool optional, nt_tensor **out);
/* Whether graph input (or output) i is declared a sequence (1), an
 * optional (2) or a tensor/undeclared (0). */
NT_API int nt_model_input_kind(const nt_model *m, int i);
NT_API int nt_model_output_kind(const nt_model *m, int i);

/*
 * NT_TRACE(name, tensor_ptr): print-statement tracing of a user's own
 * tensor (name, shape, min/max/mean/NaN count) to stderr.  Compiles to
 * nothing unless NT_TRACE_ENABLED is defined non-zero.
 */
NT_API void nt_trace_tensor(const char *file, int line, const char *name, const nt_tensor *t);
NT_API void nt_trace_floats(const char *file, int line, const char *name, const float *v, size_t n);
#if defined(NT_TRACE_ENABLED) && NT_TRACE_ENABLED
#define NT_TRACE(name, t) nt_trace_tensor(__FILE__, __LINE__, (name), (t))
#define NT_TRACE_FLOATS(name, v, n) nt_trace_floats(__FILE__, __LINE__, (name), (v), (n))
#else
#define NT_TRACE(name, t) ((void)0)
#define NT_TRACE_FLOATS(name, v, n) ((void)0)
#endif

#ifdef __cplusplus
}
#endif
#endif /* NNTRACE_H */
