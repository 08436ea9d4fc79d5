/*
 * attention_util.c — float32 staging of float / float16 / bfloat16 tensors
 * for the attention and extra families (see attention_util.h).
 */
#include "ops/attention_util.h"

#include <stdlib.h>

bool nt_att_dtype_ok(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_FLOAT16 || t == NT_DTYPE_BFLOAT16;
}

/* Callers have checked the dtype with nt_att_dtype_ok; anything else is a bug. */
float nt_att_get(const nt_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case NT_DTYPE_FLOAT: return ((const float *)t->data)[i];
    case NT_DTYPE_FLOAT16: return nt_half_to_float(((const uint16_t *)t->data)[i]);
    case NT_DTYPE_BFLOAT16: return nt_bf16_to_float(((const uint16_t *)t->data)[i]);
    default: NT_ASSERT(!"nt_att_get: unsupported dtype"); return 0;
    }
}

void nt_att_set(nt_tensor *t, int64_t i, float v)
{
    switch (t->dtype) {
    case NT_DTYPE_FLOAT: ((float *)t->data)[i] = v; break;
    case NT_DTYPE_FLOAT16: ((uint16_t *)t->data)[i] = nt_float_to_half(v); break;
    case NT_DTYPE_BFLOAT16: ((uint16_t *)t->data)[i] = nt_float_to_bf16(v); break;
    default: NT_ASSERT(!"nt_att_set: unsupported dtype");
    }
}

float nt_att_round(nt_dtype t, float v)
{
    if (t == NT_DTYPE_FLOAT16)
        return nt_half_to_float(nt_float_to_half(v));
    if (t == NT_DTYPE_BFLOAT16)
        return nt_bf16_to_float(nt_float_to_bf16(v));
    return v;
}

void nt_att_round_n(nt_dtype t, float *v, int64_t n)
{
    if (t == NT_DTYPE_FLOAT)
        return;
    for (int64_t i = 0; i < n; i++)
        v[i] = nt_att_round(t, v[i]);
}

void nt_att_store(nt_tensor *t, const float *v, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        nt_att_set(t, i, v[i]);
}
