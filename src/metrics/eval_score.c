/*
 * eval_score.c — scoring an evaluation's gathered outputs against its
 * labels: classes (argmax, or a binary score against the threshold; cross-
 * entropy from logits or probabilities; confusion matrix, per-class report,
 * ROC AUC and PR curve) or regression targets; and the worst samples.
 */
#include "metrics/eval_result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Probabilities when every row lies in [0,1] and (K >= 2) sums to 1. */
static nt_eval_outputs detect_kind(const nt_eval_gathered *g)
{
    if (g->int_output)
        return NT_EVAL_LABELS;
    for (int64_t i = 0; i < g->n; i++) {
        double sum = 0;
        for (int64_t j = 0; j < g->c; j++) {
            double p = g->v[i * g->c + j];
            if (!(p >= -1e-6 && p <= 1 + 1e-6))
                return NT_EVAL_LOGITS;
            sum += p;
        }
        if (g->c > 1 && fabs(sum - 1) > 1e-3)
            return NT_EVAL_LOGITS;
    }
    return NT_EVAL_PROBS;
}

nt_status nt_eval_score_classes(nt_eval_result *r, const double *labels)
{
    const nt_eval_options *o = &r->opts;
    const nt_eval_gathered *g = &r->g;
    int64_t n = g->n;
    r->n = n;
    r->kind = o->outputs != NT_EVAL_AUTO && !g->int_output ? o->outputs : detect_kind(g);
    r->binary = g->c == 1 && r->kind != NT_EVAL_LABELS;
    if (g->c > 1 && r->kind == NT_EVAL_LABELS) {
        return nt_error(NT_ERR_SHAPE, "output '%s' is integer with %lld values per sample: cannot score it",
                        g->out_name, (long long)g->c);
    }
    r->truth = nt_malloc((size_t)n * sizeof *r->truth);
    r->pred = nt_malloc((size_t)n * sizeof *r->pred);
    r->loss = nt_malloc((size_t)n * sizeof *r->loss);
    if (!r->truth || !r->pred || !r->loss)
        return NT_ERR_NOMEM;
    int max_label = 0;
    for (int64_t i = 0; i < n; i++) {
        double y = labels[i];
        if (!(y >= 0 && y == floor(y) && y < 1e6)) {
            return nt_error(NT_ERR_SHAPE, "%s: label %g of sample %lld is not a class index (0, 1, 2, ...)",
                            o->labels_path, y, (long long)i);
        }
        r->truth[i] = (int)y;
        max_label = NT_MAX(max_label, r->truth[i]);
    }
    if (r->kind == NT_EVAL_LABELS) {
        r->k = max_label + 1;
        for (int64_t i = 0; i < n; i++) {
            double p = g->v[i];
            r->pred[i] = p >= 0 && p < 1e6 ? (int)p : -1;
            r->k = NT_MAX(r->k, r->pred[i] + 1);
            r->loss[i] = NAN;
        }
    } else {
        r->k = r->binary ? 2 : (int)g->c;
    }
    if (max_label >= r->k) {
        for (int64_t i = 0; i < n; i++)
            if (r->truth[i] >= r->k)
                return nt_error(NT_ERR_SHAPE, "%s: label %d of sample %lld is outside the model's %d classes (0..%d)",
                                o->labels_path, r->truth[i], (long long)i, r->k, r->k - 1);
        return NT_ERR_INTERNAL;
    }
    double *row = nt_malloc((size_t)NT_MAX(g->c, (int64_t)2) * sizeof *row);
    if (!row)
        return NT_ERR_NOMEM;
    if (r->binary || r->k == 2) {
        r->pos_score = nt_malloc((size_t)n * sizeof *r->pos_score);
        if (!r->pos_score) {
            free(row);
            return NT_ERR_NOMEM;
        }
    }
    for (int64_t i = 0; i < n && r->kind != NT_EVAL_LABELS; i++) {
        const double *v = g->v + i * g->c;
        if (r->binary) {
            double p = r->kind == NT_EVAL_LOGITS ? nt_sigmoid(v[0]) : v[0];
            r->pos_score[i] = p;
            r->pred[i] = p >= o->threshold ? 1 : 0;
            /* from a logit, log-sigmoid directly: no clipping needed */
            r->loss[i] = r->kind == NT_EVAL_LOGITS
                             ? (r->truth[i] ? log1p(exp(-fabs(v[0]))) + NT_MAX(-v[0], 0.0)
                                            : log1p(exp(-fabs(v[0]))) + NT_MAX(v[0], 0.0))
                             : nt_binary_cross_entropy(p, r->truth[i]);
            if (isnan(v[0]))
                r->pred[i] = 0, r->loss[i] = NAN;
            continue;
        }
        int best = 0;
        for (int j = 1; j < r->k; j++)
            if (v[j] > v[best] || (isnan(v[best]) && !isnan(v[j])))
                best = j;
        r->pred[i] = best;
        if (r->kind == NT_EVAL_LOGITS) {
            r->loss[i] = nt_cross_entropy_logits(v, r->k, r->truth[i]);
            if (r->pos_score) {
                nt_log_softmax(v, 2, row);
                r->pos_score[i] = exp(row[1]);
            }
        } else {
            r->loss[i] = nt_cross_entropy_probs(v, r->k, r->truth[i]);
            if (r->pos_score)
                r->pos_score[i] = v[1];
        }
    }
    free(row);
    nt_status st = nt_confusion_init(&r->conf, r->k);
    for (int64_t i = 0; i < n && st == NT_OK; i++)
        if (r->pred[i] >= 0)
            st = nt_confusion_add(&r->conf, r->truth[i], r->pred[i]);
    if (st == NT_OK)
        st = nt_class_report_compute(&r->conf, o->zero_division, &r->rep);
    if (st != NT_OK)
        return st;
    r->accuracy = 0;
    double ls = 0;
    for (int64_t i = 0; i < n; i++) {
        r->accuracy += r->truth[i] == r->pred[i];
        ls += r->loss[i];
    }
    r->accuracy /= (double)n;
    r->mean_loss = ls / (double)n;
    if (r->pos_score) {
        /* undefined with one class only, or NaN scores: reported as null */
        r->have_rank = nt_roc_auc(r->pos_score, r->truth, n, &r->auc) == NT_OK &&
                       nt_pr_curve_compute(r->pos_score, r->truth, n, &r->pr) == NT_OK;
        r->ap = r->have_rank ? r->pr.average_precision : NAN;
    }
    /* class names */
    if (o->class_names) {
        r->names = nt_calloc((size_t)r->k, sizeof *r->names);
        if (!r->names)
            return NT_ERR_NOMEM;
        const char *p = o->class_names;
        for (int i = 0; i < r->k; i++) {
            const char *e = p ? strchr(p, ',') : NULL;
            char num[24];
            snprintf(num, sizeof num, "%d", i);
            r->names[i] = p && *p ? nt_strndup(p, e ? (size_t)(e - p) : strlen(p)) : nt_strdup(num);
            if (!r->names[i])
                return NT_ERR_NOMEM;
            p = e ? e + 1 : NULL;
        }
    }
    return NT_OK;
}

nt_status nt_eval_score_regression(nt_eval_result *r, const double *labels, int64_t d)
{
    const nt_eval_gathered *g = &r->g;
    r->task = NT_EVAL_REGRESSION;
    r->n = g->n;
    if (g->c != d) {
        return nt_error(NT_ERR_SHAPE, "output '%s' has %lld values per sample but the targets have %lld",
                        g->out_name, (long long)g->c, (long long)d);
    }
    r->loss = nt_malloc((size_t)g->n * sizeof *r->loss);
    if (!r->loss)
        return NT_ERR_NOMEM;
    for (int64_t i = 0; i < g->n; i++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++) {
            double e = g->v[i * d + j] - labels[i * d + j];
            s += e * e;
        }
        r->loss[i] = s / (double)d;
    }
    nt_status st = nt_regression_compute(labels, g->v, g->n, (int)d, &r->reg);
    if (st != NT_OK)
        return st;
    r->mean_loss = r->reg.mse;
    return NT_OK;
}

/* Indices of the k samples with the highest loss (NaN first: a NaN loss is
 * the worst news). */
static const double *sort_loss;
static int cmp_loss(const void *a, const void *b)
{
    double x = sort_loss[*(const int64_t *)a], y = sort_loss[*(const int64_t *)b];
    if (isnan(x) || isnan(y))
        return isnan(x) && isnan(y) ? 0 : isnan(x) ? -1 : 1;
    return x > y ? -1 : x < y ? 1 : (*(const int64_t *)a > *(const int64_t *)b) - (*(const int64_t *)a < *(const int64_t *)b);
}

int64_t *nt_eval_worst(const nt_eval_result *r, int k, int64_t *count)
{
    *count = NT_MIN((int64_t)k, r->n);
    int64_t *idx = nt_malloc((size_t)NT_MAX(r->n, (int64_t)1) * sizeof *idx);
    if (!idx)
        return NULL;
    for (int64_t i = 0; i < r->n; i++)
        idx[i] = i;
    sort_loss = r->loss;
    qsort(idx, (size_t)r->n, sizeof *idx, cmp_loss);
    return idx;
}


void nt_eval_result_free(nt_eval_result *r)
{
    if (!r)
        return;
    free(r->g.v);
    free(r->truth);
    free(r->pred);
    free(r->loss);
    free(r->pos_score);
    nt_confusion_deinit(&r->conf);
    nt_class_report_deinit(&r->rep);
    nt_pr_curve_deinit(&r->pr);
    if (r->names)
        for (int i = 0; i < r->k; i++)
            free(r->names[i]);
    free(r->names);
    free(r);
}
