/*
 * resize.c — operator family "resize" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_resize[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_resize_count = 0;
