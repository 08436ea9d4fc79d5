/*
 * binary.c — operator family "binary" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_binary[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_binary_count = 0;
