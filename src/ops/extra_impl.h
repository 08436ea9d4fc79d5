/*
 * extra_impl.h — kernels of the "extra" family defined outside extra.c
 * (extra_recurrent.c, extra_ml.c), listed in extra.c's operator table.
 */
#ifndef NT_EXTRA_IMPL_H
#define NT_EXTRA_IMPL_H

#include "ops/kernel.h"

/* CausalConvWithState (27): depthwise causal 1-D convolution carrying the
 * last kernel_size - 1 inputs as state. */
nt_status nt_ccws_prepare(const nt_node *node, int opset, void **state);
nt_status nt_ccws_infer(nt_kernel_ctx *ctx);
nt_status nt_ccws_compute(nt_kernel_ctx *ctx);

/* LinearAttention (27): recurrent linear attention with the linear, gated,
 * delta and gated_delta state-update rules. */
nt_status nt_linatt_prepare(const nt_node *node, int opset, void **state);
nt_status nt_linatt_infer(nt_kernel_ctx *ctx);
nt_status nt_linatt_compute(nt_kernel_ctx *ctx);

/* extra_ml.c: TfIdfVectorizer (9) on integer tokens; Binarizer and
 * ArrayFeatureExtractor (ai.onnx.ml 1). */
nt_status nt_tfidf_prepare(const nt_node *node, int opset, void **state);
nt_status nt_tfidf_infer(nt_kernel_ctx *ctx);
nt_status nt_tfidf_compute(nt_kernel_ctx *ctx);
nt_status nt_binarizer_infer(nt_kernel_ctx *ctx);
nt_status nt_binarizer_compute(nt_kernel_ctx *ctx);
nt_status nt_afe_infer(nt_kernel_ctx *ctx);
nt_status nt_afe_compute(nt_kernel_ctx *ctx);

#endif /* NT_EXTRA_IMPL_H */
