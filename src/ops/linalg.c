/*
 * linalg.c — operator family "linalg" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_linalg[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_linalg_count = 0;
