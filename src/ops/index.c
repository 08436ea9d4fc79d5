/*
 * index.c — operator family "index" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_index[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_index_count = 0;
