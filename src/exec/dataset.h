/*
 * dataset.h — running a session once per sample of a data set: the samples
 * lie along axis 0 of one tensor and are bound, one at a time, to a graph
 * input (a sample keeps a leading 1 when the input's rank asks for it).
 * Used by analyses that cover a whole set (doctor) and by `run --data`.
 */
#ifndef NT_DATASET_H
#define NT_DATASET_H

#include "core/core.h"

#include <stdio.h>

typedef struct nt_dataset_run_info {
    int runs;          /* samples run (the failing one not counted) */
    double ms;         /* wall time of the loop */
} nt_dataset_run_info;

/*
 * Binds each sample of x to input `input` (NULL: the first graph input) and
 * runs s.  what names the data in messages (a file name).  With log, a
 * line "nntrace CMD: i/n samples" every tenth of a set of 20 or more (cmd
 * from log_cmd).  NT_ERR_INVALID_ARG when the input does not exist or x has
 * rank 0, NT_ERR_SHAPE when x holds no samples; a failing sample's error is
 * wrapped with "sample I of WHAT".
 */
nt_status nt_dataset_run(const nt_model *m, nt_session *s, const nt_tensor *x, const char *input, const char *what,
                         FILE *log, const char *log_cmd, nt_dataset_run_info *info);

#endif /* NT_DATASET_H */
