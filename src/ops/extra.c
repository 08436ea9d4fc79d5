/*
 * extra.c — operator family "extra" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_extra[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_extra_count = 0;
