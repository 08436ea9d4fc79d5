/*
 * elementwise_common.h — shared machinery of the element-wise kernel
 * families (unary.c, binary.c, eltwise_cast.c): dtype lists for generating
 * per-dtype loops with macros, the parameters block every element-wise op
 * reads, and the broadcast iteration plan.
 *
 * How the loops are generated: an X-list such as NT_EW_FLOATS(X, A) calls
 * X(A, SUF, ST, CT, LD, SV) once per dtype, where SUF is the dtype's
 * NT_DTYPE_<SUF> suffix, ST the storage type, CT the type the arithmetic is
 * done in, LD converts ST to CT and SV converts a CT result back to ST.
 * float16 and bfloat16 are stored as uint16_t and computed in float.
 *
 * How the loops are run: every inner loop has the signature nt_ew_fn; it
 * processes n contiguous output elements, and for each input a step of 1
 * (contiguous) or 0 (the same element repeated: a broadcast).  nt_ew_run
 * walks the output in such runs, so the same inner loop serves the
 * same-shape case (one long run), the scalar case and the general
 * broadcast case.
 */
#ifndef NT_ELEMENTWISE_COMMON_H
#define NT_ELEMENTWISE_COMMON_H

#include "ops/kernel.h"

#include <stdint.h>

/* Block length of the inner loops: a fixed-count inner loop lets gcc -O2
 * (whose "very cheap" vectorizer cost model refuses loops of unknown trip
 * count) vectorize the contiguous paths. */
#define NT_EW_BLOCK 16

/* Most inputs an element-wise inner loop takes (Where has three). */
#define NT_EW_MAX_IN 3

#define NT_EW_ID(x) (x)

/* ---- dtype X-lists: X(A, SUF, ST, CT, LD, SV) */
#define NT_EW_FLOATS(X, A)                                                   \
    X(A, FLOAT, float, float, NT_EW_ID, NT_EW_ID)                            \
    X(A, DOUBLE, double, double, NT_EW_ID, NT_EW_ID)                         \
    X(A, FLOAT16, uint16_t, float, nt_half_to_float, nt_float_to_half)       \
    X(A, BFLOAT16, uint16_t, float, nt_bf16_to_float, nt_float_to_bf16)
#define NT_EW_SINTS(X, A)                                                    \
    X(A, INT8, int8_t, int8_t, NT_EW_ID, NT_EW_ID)                           \
    X(A, INT16, int16_t, int16_t, NT_EW_ID, NT_EW_ID)                        \
    X(A, INT32, int32_t, int32_t, NT_EW_ID, NT_EW_ID)                        \
    X(A, INT64, int64_t, int64_t, NT_EW_ID, NT_EW_ID)
#define NT_EW_UINTS(X, A)                                                    \
    X(A, UINT8, uint8_t, uint8_t, NT_EW_ID, NT_EW_ID)                        \
    X(A, UINT16, uint16_t, uint16_t, NT_EW_ID, NT_EW_ID)                     \
    X(A, UINT32, uint32_t, uint32_t, NT_EW_ID, NT_EW_ID)                     \
    X(A, UINT64, uint64_t, uint64_t, NT_EW_ID, NT_EW_ID)
#define NT_EW_BOOLS(X, A) X(A, BOOL, uint8_t, uint8_t, NT_EW_ID, NT_EW_ID)

/* NT_EW_ATTR_<SUF>: attributes of a dtype's generated loops.  The float32
 * loops, the ones real models spend their time in, are compiled for
 * AVX-512, AVX2 and the baseline with the best picked at load time; the
 * arithmetic is the same in every clone (ISO C mode does not contract into
 * FMA), so are the results. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NT_EW_ATTR_FLOAT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NT_EW_ATTR_FLOAT
#endif
#define NT_EW_ATTR_DOUBLE
#define NT_EW_ATTR_FLOAT16
#define NT_EW_ATTR_BFLOAT16
#define NT_EW_ATTR_INT8
#define NT_EW_ATTR_INT16
#define NT_EW_ATTR_INT32
#define NT_EW_ATTR_INT64
#define NT_EW_ATTR_UINT8
#define NT_EW_ATTR_UINT16
#define NT_EW_ATTR_UINT32
#define NT_EW_ATTR_UINT64
#define NT_EW_ATTR_BOOL

/* Parameters of an element-wise node, parsed once by prepare.  Which fields
 * mean what depends on the op (documented at each op's expression). */
typedef struct nt_ew_params {
    int op;                  /* the family's op id */
    float alpha, beta, gamma;
    int flag;                /* Gelu approximate=tanh, Mod fmod, BitShift left, IsInf positive */
    int flag2;               /* IsInf negative */
    /* Clip bounds, filled per run from the attributes or the min/max inputs
     * in the representation matching the input's dtype kind. */
    double lo, hi;
    int64_t ilo, ihi;
    uint64_t ulo, uhi;
    nt_dtype from, to;       /* Cast source and target */
    int n_in;                /* Mean: number of inputs */
} nt_ew_params;

/* An inner loop: out[0..n) = f(in[k][i * step[k]]). */
typedef void (*nt_ew_fn)(void *out, const void *const *in, const int64_t *step, int64_t n,
                         const nt_ew_params *p);

/* The iteration plan over an output of some shape and inputs that broadcast
 * to it: size-1 output dims dropped, adjacent dims merged when every input
 * walks them the same way, so the innermost dim is as long as possible. */
typedef struct nt_ew_plan {
    int n_in;
    int ndim;                                  /* >= 1 */
    int64_t dims[NT_MAX_DIMS];
    int64_t strides[NT_EW_MAX_IN][NT_MAX_DIMS]; /* in elements; 0 on broadcast dims */
    size_t in_size[NT_EW_MAX_IN], out_size;    /* element sizes in bytes */
    int64_t total;                             /* output elements */
} nt_ew_plan;

/* Builds the plan for `out` (shape known) and n_in inputs, each of which must
 * broadcast to out's shape (checked: NT_ERR_SHAPE otherwise). */
nt_status nt_ew_plan_init(nt_ew_plan *p, int n_in, const nt_tensor *const *in, const nt_tensor *out);

/* Runs fn over every output element of the plan, in parallel chunks when the
 * output is large (exec may be NULL: then inline). */
void nt_ew_run(nt_exec *exec, const nt_ew_plan *p, nt_ew_fn fn, void *out, const void *const *in,
               const nt_ew_params *par);

/* Output shape of n broadcast inputs (numpy rules), in static mode tolerant
 * of unknown dims; *rank_unknown is set when some input's rank is unknown. */
nt_status nt_ew_broadcast_n(nt_kernel_ctx *ctx, int first, int count, int *ndim, int64_t *dims,
                            bool *rank_unknown);

/* Whether a dtype can be computed at all here (sizes known, not string,
 * float8, int4 or complex).  Used to word NT_ERR_UNSUPPORTED messages. */
bool nt_ew_dtype_plain(nt_dtype t);

/* Cast (eltwise_cast.c), registered by unary.c. */
nt_status nt_ew_cast_prepare(const nt_node *node, int opset, void **state);
void nt_ew_cast_release(void *state);
nt_status nt_ew_cast_infer(nt_kernel_ctx *ctx);
nt_status nt_ew_cast_compute(nt_kernel_ctx *ctx);
nt_status nt_ew_castlike_infer(nt_kernel_ctx *ctx);
/* Converts n elements of src_type to dst_type (both plain dtypes);
 * NT_ERR_UNSUPPORTED for a pair it cannot convert. */
nt_status nt_ew_convert(nt_dtype src_type, const void *src, nt_dtype dst_type, void *dst, int64_t n);

/* ---- for fused element-wise chains (exec/fuse_chain.c): the inner loop
 * and parameters a node of this family would run for the inputs in ctx
 * (ctx->state is the node's prepared state), so that a chain calling them
 * block by block computes exactly the bits of the nodes run one by one.
 * nt_ew_binary_loop declines (NT_ERR_UNSUPPORTED) Where, Mean and
 * variadic forms with other than two inputs. */
bool nt_ew_is_unary(const nt_op_def *op);
bool nt_ew_is_binary(const nt_op_def *op);
nt_status nt_ew_unary_loop(nt_kernel_ctx *ctx, nt_ew_fn *fn, nt_ew_params *par);
nt_status nt_ew_binary_loop(nt_kernel_ctx *ctx, nt_ew_fn *fn, nt_ew_params *par);

#endif /* NT_ELEMENTWISE_COMMON_H */
