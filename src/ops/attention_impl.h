/*
 * attention_impl.h — kernels of the "attention" family defined outside
 * attention.c, listed in attention.c's operator table.
 */
#ifndef NT_ATTENTION_IMPL_H
#define NT_ATTENTION_IMPL_H

#include "ops/kernel.h"

/* FlexAttention (ai.onnx.preview 1), attention_flex.c. */
nt_status nt_flex_infer(nt_kernel_ctx *ctx);
nt_status nt_flex_compute(nt_kernel_ctx *ctx);

#endif /* NT_ATTENTION_IMPL_H */
