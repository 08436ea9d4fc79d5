/*
 * control.c — operator family "control" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_control[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_control_count = 0;
