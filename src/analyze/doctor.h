/*
 * doctor.h — nntrace's automatic diagnosis of a model on inputs or a data
 * set: where NaN/Inf are born (and who only passes them on), dead units and
 * layers after ReLU-like ops, saturated sigmoid/tanh/softmax, exploding
 * magnitudes (and float16 overflow), plus static findings (unused
 * initializers and inputs, node outputs nothing consumes, shape conflicts).
 *
 * Use: nt_doctor_new, attach nt_doctor_tracer to a session, run it on every
 * input, then nt_doctor_finish to build the findings.
 */
#ifndef NT_DOCTOR_H
#define NT_DOCTOR_H

#include "core/core.h"
#include "graph/ir.h"
#include "nntrace/analysis.h"

typedef enum nt_severity { NT_SEV_INFO = 0, NT_SEV_WARNING, NT_SEV_ERROR } nt_severity;

typedef struct nt_finding {
    const char *kind;        /* "nan", "inf", "nan_propagation", "dead", "saturated", "exploding",
                                "fp16_overflow", "unused_initializer", "unused_input",
                                "unused_output", "shape_conflict" */
    nt_severity severity;
    char *node, *op, *output;   /* may be NULL for graph-level findings */
    char *detail;
    /* extra machine-readable fields, as JSON members ("\"count\": 3, ...") or NULL */
    char *extra_json;
} nt_finding;

/* nt_doctor_options is public (include/nntrace/analysis.h); the data fields
 * are nt_doctor_run's. */

typedef struct nt_doctor nt_doctor;

nt_status nt_doctor_new(const nt_model *m, const nt_doctor_options *opt, nt_doctor **out);
void nt_doctor_free(nt_doctor *d);
/* The tracer to attach (observes every node). */
const nt_tracer *nt_doctor_tracer(nt_doctor *d);
/* Static findings from the model and the session's plan warnings (call once). */
nt_status nt_doctor_static(nt_doctor *d, const char *plan_warnings);
/* Builds the findings, NaN/Inf origins first, then by severity and execution
 * order.  The array is owned by the doctor. */
nt_status nt_doctor_finish(nt_doctor *d, const nt_finding **findings, int *n);
/* Runs observed so far. */
int nt_doctor_runs(const nt_doctor *d);

const char *nt_severity_name(nt_severity s);

#endif /* NT_DOCTOR_H */
