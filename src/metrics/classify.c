/*
 * classify.c — confusion matrices, the classification report and
 * cross-entropy losses (see metrics.h).  The report's numbers and its text
 * layout follow scikit-learn's classification_report so the two can be
 * diffed line by line.
 */
#include "metrics/metrics.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- confusion */

nt_status nt_confusion_init(nt_confusion *c, int k)
{
    c->k = 0;
    c->counts = NULL;
    if (k < 1 || k > 1000000)
        return nt_error(NT_ERR_INVALID_ARG, "confusion matrix: %d classes", k);
    c->counts = nt_calloc((size_t)k * (size_t)k, sizeof *c->counts);
    if (!c->counts)
        return NT_ERR_NOMEM;
    c->k = k;
    return NT_OK;
}

void nt_confusion_deinit(nt_confusion *c)
{
    free(c->counts);
    c->counts = NULL;
    c->k = 0;
}

nt_status nt_confusion_add(nt_confusion *c, int truth, int pred)
{
    if (truth < 0 || truth >= c->k || pred < 0 || pred >= c->k)
        return nt_error(NT_ERR_INVALID_ARG, "class %d/%d outside 0..%d", truth, pred, c->k - 1);
    c->counts[(size_t)truth * (size_t)c->k + (size_t)pred]++;
    return NT_OK;
}

bool nt_normalize_parse(const char *s, nt_normalize *out)
{
    static const char *const names[] = {"none", "true", "pred", "all"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (nt_normalize)i;
            return true;
        }
    return false;
}

void nt_confusion_normalized(const nt_confusion *c, nt_normalize how, double *out)
{
    size_t k = (size_t)c->k;
    double all = 0;
    for (size_t i = 0; i < k * k; i++)
        all += (double)c->counts[i];
    for (size_t t = 0; t < k; t++) {
        for (size_t p = 0; p < k; p++) {
            double v = (double)c->counts[t * k + p], den = 1;
            if (how == NT_NORMALIZE_TRUE) {
                den = 0;
                for (size_t j = 0; j < k; j++)
                    den += (double)c->counts[t * k + j];
            } else if (how == NT_NORMALIZE_PRED) {
                den = 0;
                for (size_t j = 0; j < k; j++)
                    den += (double)c->counts[j * k + p];
            } else if (how == NT_NORMALIZE_ALL) {
                den = all;
            }
            out[t * k + p] = den > 0 ? v / den : 0.0;
        }
    }
}

double nt_confusion_accuracy(const nt_confusion *c)
{
    size_t k = (size_t)c->k;
    double diag = 0, all = 0;
    for (size_t t = 0; t < k; t++)
        for (size_t p = 0; p < k; p++) {
            all += (double)c->counts[t * k + p];
            if (t == p)
                diag += (double)c->counts[t * k + p];
        }
    return all > 0 ? diag / all : NAN;
}

/* ---------------------------------------------------------------- report */

static double ratio(double num, double den, double zero_division) { return den > 0 ? num / den : zero_division; }

/* Mean of v[i] weighted by w[i] (w NULL: unweighted), skipping NaN entries
 * (they only arise from zero_division = NaN). */
static double avg_skip_nan(const double *v, const int64_t *w, int k, size_t stride)
{
    double s = 0, ws = 0;
    bool any_nan = false;
    for (int i = 0; i < k; i++) {
        double x = *(const double *)((const char *)v + (size_t)i * stride);
        if (isnan(x)) {
            any_nan = true;
            continue;
        }
        double wi = w ? (double)*(const int64_t *)((const char *)w + (size_t)i * stride) : 1.0;
        s += wi * x;
        ws += wi;
    }
    if (ws > 0)
        return s / ws;
    return any_nan ? NAN : 0.0;
}

nt_status nt_class_report_compute(const nt_confusion *c, double zero_division, nt_class_report *r)
{
    memset(r, 0, sizeof *r);
    int k = c->k;
    r->per_class = nt_calloc((size_t)k, sizeof *r->per_class);
    if (!r->per_class)
        return NT_ERR_NOMEM;
    r->k = k;
    double tp_sum = 0, pred_sum = 0, true_sum = 0;
    r->micro_is_accuracy = true;
    for (int i = 0; i < k; i++) {
        double tp = (double)c->counts[(size_t)i * (size_t)k + (size_t)i], row = 0, col = 0;
        for (int j = 0; j < k; j++) {
            row += (double)c->counts[(size_t)i * (size_t)k + (size_t)j];
            col += (double)c->counts[(size_t)j * (size_t)k + (size_t)i];
        }
        nt_class_scores *s = &r->per_class[i];
        s->precision = ratio(tp, col, zero_division);
        s->recall = ratio(tp, row, zero_division);
        /* 2tp / (2tp + fp + fn): equals 2PR/(P+R) wherever both are defined,
         * and gives 0 (not zero_division) when only one of them is — what
         * scikit-learn reports for labels present in the data. */
        s->f1 = ratio(2 * tp, 2 * tp + (col - tp) + (row - tp), zero_division);
        s->support = (int64_t)row;
        if (row == 0 && col == 0)
            r->micro_is_accuracy = false;
        tp_sum += tp;
        pred_sum += col;
        true_sum += row;
        r->total += (int64_t)row;
    }
    size_t st = sizeof(nt_class_scores);
    r->macro.precision = avg_skip_nan(&r->per_class[0].precision, NULL, k, st);
    r->macro.recall = avg_skip_nan(&r->per_class[0].recall, NULL, k, st);
    r->macro.f1 = avg_skip_nan(&r->per_class[0].f1, NULL, k, st);
    r->macro.support = r->total;
    if (r->total > 0) {
        r->weighted.precision = avg_skip_nan(&r->per_class[0].precision, &r->per_class[0].support, k, st);
        r->weighted.recall = avg_skip_nan(&r->per_class[0].recall, &r->per_class[0].support, k, st);
        r->weighted.f1 = avg_skip_nan(&r->per_class[0].f1, &r->per_class[0].support, k, st);
    } else {
        r->weighted.precision = r->weighted.recall = r->weighted.f1 = zero_division;
    }
    r->weighted.support = r->total;
    r->micro.precision = ratio(tp_sum, pred_sum, zero_division);
    r->micro.recall = ratio(tp_sum, true_sum, zero_division);
    r->micro.f1 = ratio(2 * tp_sum, pred_sum + true_sum, zero_division);
    r->micro.support = r->total;
    r->accuracy = nt_confusion_accuracy(c);
    return NT_OK;
}

void nt_class_report_deinit(nt_class_report *r)
{
    free(r->per_class);
    r->per_class = NULL;
    r->k = 0;
}

/* Python's "{:>W.Df}" for a double: NaN prints as "nan" like Python does. */
static void put_fixed(nt_buf *b, double v, int width, int digits)
{
    if (isnan(v))
        nt_buf_printf(b, "%*s", width, "nan");
    else
        nt_buf_printf(b, "%*.*f", width, digits, v);
}

void nt_class_report_format(const nt_class_report *r, const char *const *names, int digits, nt_buf *out)
{
    /* Name column: the longest class name, at least "weighted avg" and at
     * least `digits` wide; every other column is 9 wide after one space. */
    int width = (int)strlen("weighted avg");
    char num[32];
    for (int i = 0; i < r->k; i++) {
        int len = names ? (int)strlen(names[i]) : snprintf(num, sizeof num, "%d", i);
        width = NT_MAX(width, len);
    }
    width = NT_MAX(width, digits);
    nt_buf_printf(out, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score", "support");
    for (int i = 0; i < r->k; i++) {
        const nt_class_scores *s = &r->per_class[i];
        if (names)
            nt_buf_printf(out, "%*s ", width, names[i]);
        else
            nt_buf_printf(out, "%*d ", width, i);
        put_fixed(out, s->precision, 10, digits);
        put_fixed(out, s->recall, 10, digits);
        put_fixed(out, s->f1, 10, digits);
        nt_buf_printf(out, " %9lld\n", (long long)s->support);
    }
    nt_buf_putc(out, '\n');
    if (r->micro_is_accuracy) {
        nt_buf_printf(out, "%*s  %9s %9s", width, "accuracy", "", "");
        put_fixed(out, r->accuracy, 10, digits);
        nt_buf_printf(out, " %9lld\n", (long long)r->total);
    } else {
        nt_buf_printf(out, "%*s ", width, "micro avg");
        put_fixed(out, r->micro.precision, 10, digits);
        put_fixed(out, r->micro.recall, 10, digits);
        put_fixed(out, r->micro.f1, 10, digits);
        nt_buf_printf(out, " %9lld\n", (long long)r->total);
    }
    const nt_class_scores *avgs[2] = {&r->macro, &r->weighted};
    const char *heads[2] = {"macro avg", "weighted avg"};
    for (int a = 0; a < 2; a++) {
        nt_buf_printf(out, "%*s ", width, heads[a]);
        put_fixed(out, avgs[a]->precision, 10, digits);
        put_fixed(out, avgs[a]->recall, 10, digits);
        put_fixed(out, avgs[a]->f1, 10, digits);
        nt_buf_printf(out, " %9lld\n", (long long)avgs[a]->support);
    }
}

void nt_confusion_format(const nt_confusion *c, nt_normalize how, const char *const *names, nt_buf *out)
{
    size_t k = (size_t)c->k;
    double *m = nt_malloc(k * k * sizeof *m);
    if (!m) {
        out->failed = true;
        return;
    }
    nt_confusion_normalized(c, how, m);
    /* column width: the widest class name or value, at least 5 */
    int w = 5;
    char tmp[64];
    for (size_t i = 0; i < k; i++) {
        int len = names ? (int)strlen(names[i]) : snprintf(tmp, sizeof tmp, "%zu", i);
        w = NT_MAX(w, len);
    }
    for (size_t i = 0; i < k * k; i++) {
        int len = how == NT_NORMALIZE_NONE ? snprintf(tmp, sizeof tmp, "%lld", (long long)c->counts[i])
                                           : snprintf(tmp, sizeof tmp, "%.3f", m[i]);
        w = NT_MAX(w, len);
    }
    int lw = NT_MAX(w, (int)strlen("true\\pred"));
    nt_buf_printf(out, "%*s", lw, "true\\pred");
    for (size_t p = 0; p < k; p++) {
        if (names)
            nt_buf_printf(out, " %*s", w, names[p]);
        else
            nt_buf_printf(out, " %*zu", w, p);
    }
    nt_buf_putc(out, '\n');
    for (size_t t = 0; t < k; t++) {
        if (names)
            nt_buf_printf(out, "%*s", lw, names[t]);
        else
            nt_buf_printf(out, "%*zu", lw, t);
        for (size_t p = 0; p < k; p++) {
            if (how == NT_NORMALIZE_NONE)
                nt_buf_printf(out, " %*lld", w, (long long)c->counts[t * k + p]);
            else
                nt_buf_printf(out, " %*.3f", w, m[t * k + p]);
        }
        nt_buf_putc(out, '\n');
    }
    free(m);
}

/* ---------------------------------------------------------------- losses */

void nt_log_softmax(const double *x, int k, double *out)
{
    double mx = -INFINITY;
    for (int i = 0; i < k; i++)
        if (x[i] > mx)
            mx = x[i];
    if (!isfinite(mx)) {
        /* +Inf or NaN somewhere (or all -Inf): the result is not defined */
        for (int i = 0; i < k; i++)
            out[i] = isnan(mx) || mx == -INFINITY ? NAN : (x[i] == mx ? 0.0 : -INFINITY);
        return;
    }
    double s = 0;
    for (int i = 0; i < k; i++)
        s += exp(x[i] - mx);
    double lse = mx + log(s);
    for (int i = 0; i < k; i++)
        out[i] = x[i] - lse;
}

double nt_cross_entropy_logits(const double *logits, int k, int label)
{
    double mx = -INFINITY;
    bool nan = false;
    for (int i = 0; i < k; i++) {
        nan |= isnan(logits[i]);
        if (logits[i] > mx)
            mx = logits[i];
    }
    if (nan || !isfinite(mx))
        return NAN;
    double s = 0;
    for (int i = 0; i < k; i++)
        s += exp(logits[i] - mx);
    return mx + log(s) - logits[label];
}

static double clip_eps(double p)
{
    const double eps = DBL_EPSILON;
    return p < eps ? eps : p > 1 - eps ? 1 - eps : p;
}

double nt_cross_entropy_probs(const double *p, int k, int label)
{
    double s = 0;
    for (int i = 0; i < k; i++)
        s += clip_eps(p[i]);
    if (isnan(s) || s <= 0)
        return NAN;
    return -log(clip_eps(p[label]) / s);
}

double nt_binary_cross_entropy(double p, int label)
{
    if (isnan(p))
        return NAN;
    /* the two-column form [1-p, p], clipped and renormalized as log_loss does */
    double q[2] = {1.0 - p, p};
    return nt_cross_entropy_probs(q, 2, label ? 1 : 0);
}

double nt_sigmoid(double x)
{
    if (x >= 0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* ---------------------------------------------------------------- regression */

nt_status nt_regression_compute(const double *y, const double *yhat, int64_t n, int d, nt_regression *out)
{
    memset(out, 0, sizeof *out);
    if (n < 1 || d < 1)
        return nt_error(NT_ERR_INVALID_ARG, "regression metrics need at least one sample");
    out->n = n;
    out->d = d;
    for (int j = 0; j < d; j++) {
        double mean = 0, se = 0, ae = 0, tot = 0;
        for (int64_t i = 0; i < n; i++)
            mean += y[i * d + j];
        mean /= (double)n;
        for (int64_t i = 0; i < n; i++) {
            double e = y[i * d + j] - yhat[i * d + j];
            se += e * e;
            ae += fabs(e);
            tot += (y[i * d + j] - mean) * (y[i * d + j] - mean);
        }
        double mse = se / (double)n;
        out->mse += mse / d;
        out->mae += ae / (double)n / d;
        out->rmse += sqrt(mse) / d;
        /* sklearn's force_finite: a constant target scores 1 if matched exactly */
        double r2 = tot > 0 ? 1.0 - se / tot : (se == 0 ? 1.0 : 0.0);
        if (isnan(se))
            r2 = NAN;
        out->r2 += r2 / d;
    }
    return NT_OK;
}
