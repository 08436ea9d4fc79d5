/*
 * misc.c — operator family "misc" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_misc[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_misc_count = 0;
