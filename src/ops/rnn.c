/*
 * rnn.c — operator family "rnn" (placeholder: no kernels yet).
 */
#include "ops/kernel.h"

const nt_op_def nt_ops_rnn[] = {
    {NULL, NULL, 0, NULL, NULL, NULL, NULL},
};
const size_t nt_ops_rnn_count = 0;
