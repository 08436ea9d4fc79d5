/*
 * dataset.c — nt_dataset_run (dataset.h): one run per sample along axis 0.
 * The samples are views into the data set (no copy); each is copied into
 * the session when bound, so the caller's tensor is only read.
 */
#include "exec/dataset.h"

#include <string.h>

nt_status nt_dataset_run(const nt_model *m, nt_session *s, const nt_tensor *x, const char *input, const char *what,
                         FILE *log, const char *log_cmd, nt_dataset_run_info *info)
{
    info->runs = 0;
    info->ms = 0;
    nt_value_info vi;
    int idx = input ? -1 : 0;
    for (int i = 0; input && i < nt_model_input_count(m); i++)
        if (nt_model_input_info(m, i, &vi) == NT_OK && strcmp(vi.name, input) == 0)
            idx = i;
    if (idx < 0 || nt_model_input_info(m, idx, &vi) != NT_OK || x->ndim < 1)
        return nt_error(NT_ERR_INVALID_ARG, "a data set needs a model input (%s%s%s) and an array of rank >= 1",
                        input ? "no input named '" : "the model has none", input ? input : "", input ? "'" : "");
    int64_t n = x->dims[0];
    if (n == 0)
        return nt_error(NT_ERR_SHAPE, "%s holds no samples (its first axis has length 0): nothing to run", what);
    nt_tensor sample = *x;
    sample.flags = 0;
    size_t stride = nt_tensor_nbytes(x) / (size_t)n;
    if (vi.ndim == x->ndim) {
        sample.dims[0] = 1;
    } else {
        sample.ndim = x->ndim - 1;
        memmove(sample.dims, x->dims + 1, sizeof(int64_t) * (size_t)sample.ndim);
    }
    double t0 = nt_now_ms();
    int64_t step = n >= 20 && log ? n / 10 : 0;
    nt_status st = NT_OK;
    for (int64_t i = 0; i < n; i++) {
        sample.data = (char *)x->data + (size_t)i * stride;
        if ((st = nt_session_set_input(s, vi.name, &sample)) != NT_OK || (st = nt_session_run(s)) != NT_OK) {
            nt_error_wrap(st, "sample %lld of %s", (long long)i, what);
            break;
        }
        info->runs = (int)(i + 1);
        if (step && (i + 1) % step == 0)
            fprintf(log, "nntrace %s: %lld/%lld samples\n", log_cmd, (long long)(i + 1), (long long)n);
    }
    info->ms = nt_now_ms() - t0;
    return st;
}
