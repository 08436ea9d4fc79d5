/*
 * f16_bridge.h — run a float32 kernel on float16 / bfloat16 tensors.
 *
 * Many kernels (MatMul, Gemm, Conv...) have a tuned float32 path and no
 * half-precision one.  The bridge gives such a kernel half inputs by
 * converting them to float32 temporaries, running the kernel's own infer and
 * compute on a shadow context that holds those temporaries, and rounding the
 * float32 outputs back to the half type (round to nearest even).  The answer
 * is the float32 answer rounded once, which is at least as accurate as a
 * native half kernel.
 *
 * How a kernel uses it — two lines at the top of its infer and compute:
 *
 *     static nt_status op_infer(nt_kernel_ctx *ctx)
 *     {
 *         if (nt_f16_bridge_applies(ctx))
 *             return nt_f16_bridge(ctx, op_infer, NULL);
 *         ...the float32 path as before...
 *     }
 *     static nt_status op_compute(nt_kernel_ctx *ctx)
 *     {
 *         if (nt_f16_bridge_applies(ctx))
 *             return nt_f16_bridge(ctx, op_infer, op_compute);
 *         ...
 *     }
 *
 * The recursion ends at once: the shadow context holds no half input, so the
 * inner call takes the float32 path.
 *
 * Contract for the kernels it wraps: type T -> T, i.e. every float32 output
 * becomes the half type of the inputs; outputs of other dtypes (int64
 * indices...) are copied as they are.  Inputs that are not half (int64
 * shapes, axes) pass through untouched, but a float32 input next to a half
 * one is refused (NT_ERR_SHAPE), because the float32 path would otherwise
 * accept a model whose types the spec rejects.  float16 and bfloat16 inputs
 * may not be mixed either.
 */
#ifndef NT_F16_BRIDGE_H
#define NT_F16_BRIDGE_H

#include "ops/kernel.h"

typedef nt_status (*nt_kernel_fn)(nt_kernel_ctx *ctx);

/* True when some present input of ctx is float16 or bfloat16. */
bool nt_f16_bridge_applies(const nt_kernel_ctx *ctx);

/*
 * Runs a float32 kernel on ctx's half inputs.
 *
 * compute == NULL (from an infer function): runs infer on a shadow context
 * whose half inputs are float32 with their data hidden (shape inference
 * never needs float values; an infer that wants them sees "data unknown" and
 * leaves the output for compute to shape), then sets ctx's outputs to the
 * shapes found, float32 outputs typed as the half dtype.
 *
 * compute != NULL (from a compute function): converts the half inputs to
 * float32, runs infer then compute on the shadow context, and stores the
 * outputs into ctx's outputs (allocating those infer left unshaped),
 * rounding float32 to the half dtype.  Temporaries are freed on every path.
 *
 * Without any half input it simply calls infer (or compute) on ctx.
 */
nt_status nt_f16_bridge(nt_kernel_ctx *ctx, nt_kernel_fn infer, nt_kernel_fn compute);

/* Element conversions (n elements), split over the session's threads when
 * exec is not NULL.  dt is NT_DTYPE_FLOAT16 or NT_DTYPE_BFLOAT16. */
void nt_f16_to_f32(nt_exec *exec, nt_dtype dt, const uint16_t *src, float *dst, int64_t n);
void nt_f32_to_f16(nt_exec *exec, nt_dtype dt, const float *src, uint16_t *dst, int64_t n);

#endif /* NT_F16_BRIDGE_H */
