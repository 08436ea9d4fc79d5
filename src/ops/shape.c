/*
 * shape.c — operator family "shape" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_shape[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_shape_count = 0;
