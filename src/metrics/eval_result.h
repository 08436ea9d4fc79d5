/*
 * eval_result.h — the inside of nt_eval_data and nt_eval_result
 * (include/nntrace/analysis.h), shared by the files that load, run, score,
 * render and record an evaluation.
 */
#ifndef NT_METRICS_EVAL_RESULT_H
#define NT_METRICS_EVAL_RESULT_H

#include "metrics/metrics.h"
#include "nntrace/analysis.h"

struct nt_eval_data {
    double *labels;   /* n x d (d = 1 for class labels) */
    int64_t n, d;
    nt_tensor *x;     /* the samples, n along axis 0 */
};

/* What the runs produced: n samples x c values of the chosen output. */
typedef struct nt_eval_gathered {
    int out_index;
    const char *out_name;
    bool int_output;
    int64_t n, c;
    double *v;
    int runs;
    double ms;
} nt_eval_gathered;

struct nt_eval_result {
    nt_eval_options opts;   /* a copy: paths, threshold, normalize, worst, digits */
    nt_eval_gathered g;
    nt_eval_task task;
    bool binary;            /* one score per sample */
    nt_eval_outputs kind;   /* LOGITS / PROBS / LABELS */
    int k;                  /* classes */
    int64_t n;
    int *truth, *pred;
    double *loss;           /* per sample */
    double *pos_score;      /* binary tasks: P(positive) */
    double mean_loss, accuracy, auc, ap;
    bool have_rank;
    nt_confusion conf;
    nt_class_report rep;
    nt_pr_curve pr;
    nt_regression reg;
    char **names;
};

/* Scoring of the gathered outputs (eval_score.c). */
nt_status nt_eval_score_classes(nt_eval_result *r, const double *labels);
nt_status nt_eval_score_regression(nt_eval_result *r, const double *labels, int64_t d);
/* Indices of all samples, the highest loss first (NaN first); *count =
 * min(k, n).  NULL when out of memory. */
int64_t *nt_eval_worst(const nt_eval_result *r, int k, int64_t *count);

#endif
