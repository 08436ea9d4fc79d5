/*
 * rank.c — ranking metrics of a binary classifier's scores (see metrics.h):
 * ROC AUC, the precision-recall curve with average precision, and the
 * fixed-threshold counts TensorBoard's pr_curves plugin displays.
 *
 * ROC and PR both walk the samples in decreasing score order, one step per
 * distinct score, so ties are handled the way scikit-learn handles them
 * (a tie moves the curve diagonally instead of in an arbitrary order).
 */
#include "metrics/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct scored {
    double s;
    int y;
} scored;

static int cmp_desc(const void *a, const void *b)
{
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return x > y ? -1 : x < y;
}

/* Samples sorted by decreasing score; NaN scores are refused because their
 * rank is undefined. */
static nt_status sorted_samples(const double *score, const int *label, int64_t n, scored **out, int64_t *pos)
{
    *out = NULL;
    if (n < 1)
        return nt_error(NT_ERR_INVALID_ARG, "no samples");
    scored *v = nt_malloc((size_t)n * sizeof *v);
    if (!v)
        return NT_ERR_NOMEM;
    *pos = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(score[i])) {
            free(v);
            return nt_error(NT_ERR_INVALID_ARG, "score of sample %lld is NaN", (long long)i);
        }
        v[i].s = score[i];
        v[i].y = label[i] ? 1 : 0;
        *pos += v[i].y;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_desc);
    *out = v;
    return NT_OK;
}

nt_status nt_roc_auc(const double *score, const int *label, int64_t n, double *auc)
{
    *auc = NAN;
    scored *v;
    int64_t pos;
    nt_status st = sorted_samples(score, label, n, &v, &pos);
    if (st != NT_OK)
        return st;
    int64_t neg = n - pos;
    if (pos == 0 || neg == 0) {
        free(v);
        return nt_error(NT_ERR_INVALID_ARG, "ROC AUC is undefined with only one class present");
    }
    /* trapezoids between consecutive distinct thresholds, in counts */
    double area = 0, tp = 0, fp = 0;
    for (int64_t i = 0; i < n;) {
        double tp0 = tp, fp0 = fp;
        int64_t j = i;
        for (; j < n && v[j].s == v[i].s; j++) {
            tp += v[j].y;
            fp += 1 - v[j].y;
        }
        area += (fp - fp0) * (tp + tp0) * 0.5;
        i = j;
    }
    *auc = area / ((double)pos * (double)neg);
    free(v);
    return NT_OK;
}

nt_status nt_pr_curve_compute(const double *score, const int *label, int64_t n, nt_pr_curve *out)
{
    memset(out, 0, sizeof *out);
    scored *v;
    int64_t pos;
    nt_status st = sorted_samples(score, label, n, &v, &pos);
    if (st != NT_OK)
        return st;
    int64_t distinct = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || v[i].s != v[i - 1].s)
            distinct++;
    out->precision = nt_malloc((size_t)(distinct + 1) * sizeof(double));
    out->recall = nt_malloc((size_t)(distinct + 1) * sizeof(double));
    out->thresholds = nt_malloc((size_t)distinct * sizeof(double));
    if (!out->precision || !out->recall || !out->thresholds) {
        free(v);
        nt_pr_curve_deinit(out);
        return NT_ERR_NOMEM;
    }
    out->n_points = distinct + 1;
    /* Walking down from the highest score fills the arrays from the end
     * (highest threshold last, as scikit-learn orders them). */
    double tp = 0, fp = 0;
    int64_t slot = distinct - 1;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        for (; j < n && v[j].s == v[i].s; j++) {
            tp += v[j].y;
            fp += 1 - v[j].y;
        }
        out->precision[slot] = tp / (tp + fp);
        /* no positives at all: recall is 1 everywhere (scikit-learn warns) */
        out->recall[slot] = pos > 0 ? tp / (double)pos : 1.0;
        out->thresholds[slot] = v[i].s;
        slot--;
        i = j;
    }
    out->precision[distinct] = 1.0;
    out->recall[distinct] = 0.0;
    double ap = 0;
    for (int64_t i = 0; i < distinct; i++)
        ap += (out->recall[i] - out->recall[i + 1]) * out->precision[i];
    out->average_precision = ap;
    free(v);
    return NT_OK;
}

void nt_pr_curve_deinit(nt_pr_curve *c)
{
    free(c->precision);
    free(c->recall);
    free(c->thresholds);
    memset(c, 0, sizeof *c);
}

void nt_pr_buckets(const double *score, const int *label, int64_t n, int num_thresholds, float *out)
{
    int m = num_thresholds;
    /* counts per bucket floor(s * (m-1)), then reverse cumulative sums:
     * tp[i] = positives scoring >= i/(m-1) */
    double *tpb = nt_calloc((size_t)m * 2, sizeof *tpb);
    if (!tpb) {
        memset(out, 0, sizeof(float) * 6 * (size_t)m);
        return;
    }
    double *fpb = tpb + m;
    double pos = 0, neg = 0;
    for (int64_t i = 0; i < n; i++) {
        double s = score[i];
        if (isnan(s))
            continue;
        s = s < 0 ? 0 : s > 1 ? 1 : s;
        int b = (int)floor(s * (m - 1));
        b = b < 0 ? 0 : b >= m ? m - 1 : b;
        if (label[i]) {
            tpb[b]++;
            pos++;
        } else {
            fpb[b]++;
            neg++;
        }
    }
    double tp = 0, fp = 0;
    for (int i = m - 1; i >= 0; i--) {
        tp += tpb[i];
        fp += fpb[i];
        double tn = neg - fp, fn = pos - tp;
        out[0 * m + i] = (float)tp;
        out[1 * m + i] = (float)fp;
        out[2 * m + i] = (float)tn;
        out[3 * m + i] = (float)fn;
        out[4 * m + i] = (float)(tp / NT_MAX(1.0, tp + fp));
        out[5 * m + i] = (float)(tp / NT_MAX(1.0, tp + fn));
    }
    free(tpb);
}
