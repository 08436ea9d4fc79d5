/*
 * metrics.h — evaluation metrics for `nntrace eval`: the confusion matrix and
 * its normalizations, the per-class classification report (precision,
 * recall, F1, support; macro, weighted and micro averages) laid out as
 * scikit-learn's classification_report, cross-entropy losses from logits or
 * probabilities, ranking metrics for binary tasks (ROC AUC, the
 * precision-recall curve, average precision, TensorBoard's pr_curves
 * buckets) and regression metrics (MSE, MAE, RMSE, R²).
 *
 * Definitions follow scikit-learn (1.2 through 1.5 agree on everything here
 * for labels that occur in the data; see nt_class_report_compute for the
 * zero-division rules) so that results can be checked against it.  All
 * statistics accumulate in double.  Nothing here prints or allocates behind
 * the caller's back: results are plain structs released by their _deinit.
 */
#ifndef NT_METRICS_H
#define NT_METRICS_H

#include "core/core.h"

/* ---------------------------------------------------------------- confusion */

/* A k x k matrix of counts; counts[t*k + p] is the number of samples of true
 * class t predicted as p (rows = true, columns = predicted). */
typedef struct nt_confusion {
    int k;
    int64_t *counts;
} nt_confusion;

typedef enum nt_normalize {
    NT_NORMALIZE_NONE = 0,
    NT_NORMALIZE_TRUE,   /* each row sums to 1 (recall on the diagonal) */
    NT_NORMALIZE_PRED,   /* each column sums to 1 (precision on the diagonal) */
    NT_NORMALIZE_ALL     /* the whole matrix sums to 1 */
} nt_normalize;

/* Zeroed k x k matrix (k >= 1). */
nt_status nt_confusion_init(nt_confusion *c, int k);
void nt_confusion_deinit(nt_confusion *c);
/* Counts one sample; NT_ERR_INVALID_ARG if a class is outside [0, k). */
nt_status nt_confusion_add(nt_confusion *c, int truth, int pred);
/* The matrix as doubles, normalized as asked; a row/column/matrix whose sum
 * is 0 gives zeros (as scikit-learn's confusion_matrix does).  out: k*k. */
void nt_confusion_normalized(const nt_confusion *c, nt_normalize how, double *out);
/* "true" / "pred" / "all" -> enum; false for anything else. */
bool nt_normalize_parse(const char *s, nt_normalize *out);
/* Sum of the diagonal over the sum of all counts (NaN for an empty matrix). */
double nt_confusion_accuracy(const nt_confusion *c);

/* ---------------------------------------------------------------- report */

typedef struct nt_class_scores {
    double precision, recall, f1;
    int64_t support;       /* true samples of the class (sum for averages) */
} nt_class_scores;

typedef struct nt_class_report {
    int k;
    nt_class_scores *per_class;   /* k entries */
    nt_class_scores macro, weighted, micro;
    double accuracy;
    int64_t total;
    /* true when every class occurs among the true or predicted labels: the
     * report then shows an "accuracy" row, otherwise a "micro avg" row
     * (scikit-learn's rule when labels are given). */
    bool micro_is_accuracy;
} nt_class_report;

/*
 * Per-class and averaged scores from a confusion matrix.
 *   precision = tp / (tp + fp), recall = tp / (tp + fn),
 *   f1 = 2 tp / (2 tp + fp + fn)
 * A ratio whose denominator is 0 takes `zero_division` (0, 1 or NaN, like
 * scikit-learn's zero_division; its default "warn" behaves as 0).  With NaN,
 * macro and weighted averages skip the NaN entries (scikit-learn >= 1.3).
 */
nt_status nt_class_report_compute(const nt_confusion *c, double zero_division, nt_class_report *r);
void nt_class_report_deinit(nt_class_report *r);

/*
 * Appends the report as text laid out exactly as scikit-learn's
 * classification_report(digits=digits): a header line, one row per class,
 * then accuracy (or micro avg), macro avg and weighted avg.  names: k class
 * names, or NULL for "0", "1", ...
 */
void nt_class_report_format(const nt_class_report *r, const char *const *names, int digits, nt_buf *out);

/* Appends the confusion matrix as an aligned text table (rows true, columns
 * predicted), counts or normalized values with 3 decimals. */
void nt_confusion_format(const nt_confusion *c, nt_normalize how, const char *const *names, nt_buf *out);

/* ---------------------------------------------------------------- losses */

/* out[i] = x[i] - logsumexp(x), computed stably in double.  x and out may alias. */
void nt_log_softmax(const double *x, int k, double *out);
/* -log softmax(logits)[label]. */
double nt_cross_entropy_logits(const double *logits, int k, int label);
/* -log p[label] after clipping p to [eps, 1 - eps] and renormalizing the row
 * (scikit-learn's log_loss with eps = machine epsilon of float64). */
double nt_cross_entropy_probs(const double *p, int k, int label);
/* Binary cross-entropy of a probability p of the positive class (clipped as
 * above) for label 0/1. */
double nt_binary_cross_entropy(double p, int label);
/* 1 / (1 + exp(-x)) without overflow. */
double nt_sigmoid(double x);

/* ---------------------------------------------------------------- binary ranking */

/* ROC AUC of scores against 0/1 labels (ties count one half: the area under
 * the ROC curve through every distinct threshold, as scikit-learn's
 * roc_auc_score).  NT_ERR_INVALID_ARG when only one class is present. */
nt_status nt_roc_auc(const double *score, const int *label, int64_t n, double *auc);

/* scikit-learn's precision_recall_curve: one point per distinct score, in
 * increasing threshold order, then the final point (precision 1, recall 0);
 * n_points = n_thresholds + 1. */
typedef struct nt_pr_curve {
    int64_t n_points;
    double *precision, *recall;
    double *thresholds;            /* n_points - 1 entries */
    double average_precision;      /* sum over points of (R_i - R_{i+1}) P_i */
} nt_pr_curve;

nt_status nt_pr_curve_compute(const double *score, const int *label, int64_t n, nt_pr_curve *out);
void nt_pr_curve_deinit(nt_pr_curve *c);

/*
 * TensorBoard's pr_curves tensor: out is float[6][num_thresholds], rows true
 * positives, false positives, true negatives, false negatives, precision,
 * recall at thresholds i / (num_thresholds - 1), a sample counting as
 * predicted positive when its score (clamped to [0, 1]) is >= the threshold.
 * precision = tp / max(1, tp + fp), recall = tp / max(1, tp + fn), as the
 * plugin's own summary code computes them.
 */
void nt_pr_buckets(const double *score, const int *label, int64_t n, int num_thresholds, float *out);

/* ---------------------------------------------------------------- regression */

typedef struct nt_regression {
    int64_t n;      /* samples */
    int d;          /* outputs per sample */
    double mse, mae, rmse, r2;
} nt_regression;

/*
 * y and yhat are n x d row-major.  Multi-output values are uniform averages
 * over the d outputs of the per-output metric (scikit-learn's default):
 * rmse is the mean of per-output square roots, r2 the mean of per-output R²
 * where an output with zero variance scores 1 if predicted exactly, else 0.
 */
nt_status nt_regression_compute(const double *y, const double *yhat, int64_t n, int d, nt_regression *out);

#endif /* NT_METRICS_H */
