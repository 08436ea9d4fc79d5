/*
 * conv.c — operator family "conv" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_conv[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_conv_count = 0;
