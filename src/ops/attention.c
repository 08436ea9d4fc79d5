/*
 * attention.c — operator family "attention" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_attention[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_attention_count = 0;
