/*
 * softmax.c — operator family "softmax" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_softmax[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_softmax_count = 0;
