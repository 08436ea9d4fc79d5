/*
 * attention_util.h — float32 staging for the attention and "extra" kernel
 * families.
 *
 * These kernels compute in float32 whatever the storage type is: float16
 * and bfloat16 tensors are widened on load and narrowed on store.  When the
 * ONNX function body of an operator rounds to the storage type between
 * steps (Attention in float16 does), kernels call nt_att_round after each
 * such step so the result matches the reference to the last bit as closely
 * as a float32 pipeline can.
 */
#ifndef NT_ATTENTION_UTIL_H
#define NT_ATTENTION_UTIL_H

#include "ops/kernel.h"

/* True for the storage types these helpers convert: float, float16, bfloat16. */
bool nt_att_dtype_ok(nt_dtype t);

/* Element i of t (float, float16 or bfloat16) as float. */
float nt_att_get(const nt_tensor *t, int64_t i);
/* Stores v into element i of t (float, float16 or bfloat16). */
void nt_att_set(nt_tensor *t, int64_t i, float v);

/* v rounded to the precision of dtype t (identity for float). */
float nt_att_round(nt_dtype t, float v);
/* Rounds n floats in place to the precision of dtype t. */
void nt_att_round_n(nt_dtype t, float *v, int64_t n);

/* Writes n floats into t converting to its dtype. */
void nt_att_store(nt_tensor *t, const float *v, int64_t n);

#endif /* NT_ATTENTION_UTIL_H */
