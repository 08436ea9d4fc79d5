/*
 * unary.c — operator family "unary" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_unary[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_unary_count = 0;
