/*
 * eval_record.h — an evaluation (include/nntrace/analysis.h) recorded in a
 * run directory, for `nntrace eval --run-dir`.
 */
#ifndef NT_ANALYZE_EVAL_RECORD_H
#define NT_ANALYZE_EVAL_RECORD_H

#include "nntrace/analysis.h"
#include "trace/tracers.h"

/* DIR/eval.json, DIR/confusion_matrix.png and the event-file summaries,
 * logged at `step`. */
nt_status nt_eval_record(const nt_eval_result *r, nt_rundir *rd, int64_t step);

#endif
