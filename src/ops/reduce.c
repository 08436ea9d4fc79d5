/*
 * reduce.c — operator family "reduce" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_reduce[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_reduce_count = 0;
