/*
 * norm.c — operator family "norm" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_norm[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_norm_count = 0;
