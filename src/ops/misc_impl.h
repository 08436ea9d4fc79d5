/*
 * misc_impl.h — the kernels of the "misc" operator family, spread over
 * misc.c (Det, window functions, MelWeightMatrix and the family table),
 * misc_grid.c (GridSample, RoiAlign), misc_nms.c (NonMaxSuppression) and
 * misc_dft.c (DFT, STFT).  Private to those files.
 */
#ifndef NT_MISC_IMPL_H
#define NT_MISC_IMPL_H

#include "ops/kernel.h"

nt_status nt_gridsample_infer(nt_kernel_ctx *ctx);
nt_status nt_gridsample_compute(nt_kernel_ctx *ctx);
nt_status nt_roialign_infer(nt_kernel_ctx *ctx);
nt_status nt_roialign_compute(nt_kernel_ctx *ctx);
nt_status nt_nms_infer(nt_kernel_ctx *ctx);
nt_status nt_nms_compute(nt_kernel_ctx *ctx);
nt_status nt_dft_infer(nt_kernel_ctx *ctx);
nt_status nt_dft_compute(nt_kernel_ctx *ctx);
nt_status nt_stft_infer(nt_kernel_ctx *ctx);
nt_status nt_stft_compute(nt_kernel_ctx *ctx);

/* Element i of a float/double/float16/bfloat16 tensor as a double. */
static inline double nt_misc_getf(const nt_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case NT_DTYPE_FLOAT: return ((const float *)t->data)[i];
    case NT_DTYPE_DOUBLE: return ((const double *)t->data)[i];
    case NT_DTYPE_FLOAT16: return nt_half_to_float(((const uint16_t *)t->data)[i]);
    case NT_DTYPE_BFLOAT16: return nt_bf16_to_float(((const uint16_t *)t->data)[i]);
    default: return 0;
    }
}

/* Stores v at element i of a float/double/float16/bfloat16 tensor. */
static inline void nt_misc_setf(nt_tensor *t, int64_t i, double v)
{
    switch (t->dtype) {
    case NT_DTYPE_FLOAT: ((float *)t->data)[i] = (float)v; break;
    case NT_DTYPE_DOUBLE: ((double *)t->data)[i] = v; break;
    case NT_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = nt_float_to_half((float)v); break;
    case NT_DTYPE_BFLOAT16: ((uint16_t *)t->data)[i] = nt_float_to_bf16((float)v); break;
    default: break;
    }
}

static inline bool nt_misc_float_ok(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_FLOAT16 || t == NT_DTYPE_BFLOAT16;
}

#endif /* NT_MISC_IMPL_H */
