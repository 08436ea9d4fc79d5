/*
 * quant.c — operator family "quant" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_quant[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_quant_count = 0;
