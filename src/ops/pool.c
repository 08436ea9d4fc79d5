/*
 * pool.c — operator family "pool" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_pool[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_pool_count = 0;
