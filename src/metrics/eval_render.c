/*
 * eval_render.c — an evaluation's result as the JSON document `nntrace eval
 * --json` prints (and DIR/eval.json holds), and as the text report.
 */
#include "metrics/eval_result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A metric as JSON with every digit needed to read back the same double, NaN and
 * infinities as nt_buf_json_double writes them. */
static void json_num(nt_buf *b, double v)
{
    if (!isfinite(v) || (v == floor(v) && fabs(v) < 1e15)) {
        nt_buf_json_double(b, v);
        return;
    }
    /* the shortest of 15, 16 or 17 digits that reads back as the same double */
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    nt_buf_puts(b, tmp);
}

static const char *kind_name(int kind)
{
    return kind == NT_EVAL_PROBS ? "probs" : kind == NT_EVAL_LABELS ? "labels" : "logits";
}

/* "precision": .., "recall": .., "f1": .., "support": ..} — the caller opens the brace. */
static void json_fields(nt_buf *b, const nt_class_scores *s)
{
    nt_buf_puts(b, "\"precision\": ");
    json_num(b, s->precision);
    nt_buf_puts(b, ", \"recall\": ");
    json_num(b, s->recall);
    nt_buf_puts(b, ", \"f1\": ");
    json_num(b, s->f1);
    nt_buf_printf(b, ", \"support\": %lld}", (long long)s->support);
}

static void json_scores(nt_buf *b, const nt_class_scores *s)
{
    nt_buf_putc(b, '{');
    json_fields(b, s);
}

static void json_array(nt_buf *b, const double *v, int64_t n)
{
    nt_buf_putc(b, '[');
    for (int64_t i = 0; i < n; i++) {
        if (i)
            nt_buf_puts(b, ", ");
        json_num(b, v[i]);
    }
    nt_buf_putc(b, ']');
}

static void json_class_name(nt_buf *b, const nt_eval_result *r, int i)
{
    if (r->names)
        nt_buf_json_string(b, r->names[i]);
    else
        nt_buf_printf(b, "%d", i);
}

/* The JSON document (also DIR/eval.json). */
static void results_json(const nt_eval_result *r, nt_buf *b)
{
    const nt_eval_options *o = &r->opts;
    const nt_eval_gathered *g = &r->g;
    nt_buf_puts(b, "{\"model\": ");
    nt_buf_json_string(b, o->model_path ? o->model_path : "");
    nt_buf_puts(b, ", \"data\": ");
    nt_buf_json_string(b, o->data_path);
    nt_buf_puts(b, ", \"labels\": ");
    nt_buf_json_string(b, o->labels_path);
    nt_buf_puts(b, ", \"output\": ");
    nt_buf_json_string(b, g->out_name);
    nt_buf_printf(b, ", \"samples\": %lld, \"runs\": %d, \"elapsed_ms\": %.3f", (long long)r->n, g->runs, g->ms);
    if (r->task == NT_EVAL_REGRESSION) {
        nt_buf_printf(b, ", \"task\": \"regression\", \"outputs_per_sample\": %d", r->reg.d);
        const char *keys[4] = {"mse", "mae", "rmse", "r2"};
        double vals[4] = {r->reg.mse, r->reg.mae, r->reg.rmse, r->reg.r2};
        for (int i = 0; i < 4; i++) {
            nt_buf_printf(b, ", \"%s\": ", keys[i]);
            json_num(b, vals[i]);
        }
        nt_buf_puts(b, ", \"loss\": ");
        json_num(b, r->mean_loss);
    } else {
        nt_buf_printf(b, ", \"task\": \"%s\", \"outputs\": \"%s\"", r->binary || r->k == 2 ? "binary" : "multiclass",
                      kind_name(r->kind));
        nt_buf_puts(b, ", \"accuracy\": ");
        json_num(b, r->accuracy);
        nt_buf_puts(b, ", \"loss\": ");
        json_num(b, r->mean_loss);
        nt_buf_puts(b, ", \"classes\": [");
        for (int i = 0; i < r->k; i++) {
            if (i)
                nt_buf_puts(b, ", ");
            json_class_name(b, r, i);
        }
        nt_buf_puts(b, "], \"confusion\": [");
        for (int t = 0; t < r->k; t++) {
            nt_buf_puts(b, t ? ", [" : "[");
            for (int p = 0; p < r->k; p++)
                nt_buf_printf(b, "%s%lld", p ? ", " : "", (long long)r->conf.counts[(size_t)t * r->k + p]);
            nt_buf_putc(b, ']');
        }
        nt_buf_putc(b, ']');
        if (o->normalize != NT_EVAL_NORMALIZE_NONE) {
            double *m = nt_malloc((size_t)r->k * (size_t)r->k * sizeof *m);
            if (m) {
                static const char *const how[] = {"none", "true", "pred", "all"};
                nt_confusion_normalized(&r->conf, (nt_normalize)o->normalize, m);
                nt_buf_printf(b, ", \"normalize\": \"%s\", \"confusion_normalized\": [", how[o->normalize]);
                for (int t = 0; t < r->k; t++) {
                    if (t)
                        nt_buf_puts(b, ", ");
                    json_array(b, m + (size_t)t * r->k, r->k);
                }
                nt_buf_putc(b, ']');
                free(m);
            } else {
                b->failed = true;
            }
        }
        nt_buf_puts(b, ", \"per_class\": [");
        for (int i = 0; i < r->k; i++) {
            nt_buf_puts(b, i ? ", {\"class\": " : "{\"class\": ");
            json_class_name(b, r, i);
            nt_buf_puts(b, ", ");
            json_fields(b, &r->rep.per_class[i]);
        }
        nt_buf_puts(b, "], \"macro_avg\": ");
        json_scores(b, &r->rep.macro);
        nt_buf_puts(b, ", \"weighted_avg\": ");
        json_scores(b, &r->rep.weighted);
        nt_buf_puts(b, ", \"micro_avg\": ");
        json_scores(b, &r->rep.micro);
        if (r->binary)
            nt_buf_printf(b, ", \"threshold\": %.17g", o->threshold);
        if (r->pos_score) {
            nt_buf_puts(b, ", \"roc_auc\": ");
            if (r->have_rank)
                json_num(b, r->auc);
            else
                nt_buf_puts(b, "null");
            nt_buf_puts(b, ", \"average_precision\": ");
            if (r->have_rank)
                json_num(b, r->ap);
            else
                nt_buf_puts(b, "null");
            if (r->have_rank) {
                nt_buf_puts(b, ", \"pr_curve\": {\"precision\": ");
                json_array(b, r->pr.precision, r->pr.n_points);
                nt_buf_puts(b, ", \"recall\": ");
                json_array(b, r->pr.recall, r->pr.n_points);
                nt_buf_puts(b, ", \"thresholds\": ");
                json_array(b, r->pr.thresholds, r->pr.n_points - 1);
                nt_buf_putc(b, '}');
            }
        }
    }
    if (o->worst > 0) {
        int64_t cnt;
        int64_t *idx = nt_eval_worst(r, o->worst, &cnt);
        if (!idx)
            b->failed = true;
        nt_buf_puts(b, ", \"worst\": [");
        for (int64_t j = 0; idx && j < cnt; j++) {
            int64_t i = idx[j];
            nt_buf_printf(b, "%s{\"index\": %lld", j ? ", " : "", (long long)i);
            if (r->task != NT_EVAL_REGRESSION)
                nt_buf_printf(b, ", \"true\": %d, \"predicted\": %d", r->truth[i], r->pred[i]);
            nt_buf_puts(b, ", \"loss\": ");
            json_num(b, r->loss[i]);
            nt_buf_putc(b, '}');
        }
        nt_buf_putc(b, ']');
        free(idx);
    }
    nt_buf_puts(b, "}\n");
}

static void results_text(const nt_eval_result *r, nt_buf *b)
{
    const nt_eval_options *o = &r->opts;
    const nt_eval_gathered *g = &r->g;
    nt_buf_printf(b, "eval: %lld samples of %s, output '%s'", (long long)r->n, o->data_path, g->out_name);
    if (r->task == NT_EVAL_REGRESSION) {
        nt_buf_printf(b, " (regression, %d value%s per sample), %d run%s, %.1f ms\n\n", r->reg.d,
                      r->reg.d == 1 ? "" : "s", g->runs, g->runs == 1 ? "" : "s", g->ms);
        nt_buf_printf(b, "MSE:  %.6g\nMAE:  %.6g\nRMSE: %.6g\nR2:   %.6g\n", r->reg.mse, r->reg.mae, r->reg.rmse,
                      r->reg.r2);
    } else {
        nt_buf_printf(b, " (%s, %s, %d classes), %d run%s, %.1f ms\n\n",
                      r->binary ? "binary, one score" : r->k == 2 ? "binary" : "multiclass", kind_name(r->kind), r->k,
                      g->runs, g->runs == 1 ? "" : "s", g->ms);
        nt_buf_printf(b, "accuracy: %.4f (%lld of %lld)\n", r->accuracy, (long long)llround(r->accuracy * r->n),
                      (long long)r->n);
        if (r->kind != NT_EVAL_LABELS)
            nt_buf_printf(b, "loss:     %.6g (mean cross-entropy%s)\n", r->mean_loss,
                          r->kind == NT_EVAL_LOGITS ? ", softmax of logits" : "");
        if (r->pos_score) {
            if (r->have_rank)
                nt_buf_printf(b, "ROC AUC:  %.4f\naverage precision: %.4f\n", r->auc, r->ap);
            else
                nt_buf_puts(b, "ROC AUC:  undefined (only one class among the labels)\n");
            if (r->binary)
                nt_buf_printf(b, "threshold: %g on P(positive)\n", o->threshold);
        }
        nt_buf_putc(b, '\n');
        nt_class_report_format(&r->rep, (const char *const *)r->names, o->digits, b);
        nt_buf_puts(b, "\nconfusion matrix (rows: true class, columns: predicted):\n");
        nt_confusion_format(&r->conf, NT_NORMALIZE_NONE, (const char *const *)r->names, b);
        if (o->normalize != NT_EVAL_NORMALIZE_NONE) {
            static const char *const how[] = {"", "by true class (rows sum to 1)", "by predicted class (columns sum to 1)",
                                              "over all samples"};
            nt_buf_printf(b, "\nnormalized %s:\n", how[o->normalize]);
            nt_confusion_format(&r->conf, (nt_normalize)o->normalize, (const char *const *)r->names, b);
        }
    }
    if (o->worst > 0) {
        int64_t cnt;
        int64_t *idx = nt_eval_worst(r, o->worst, &cnt);
        if (!idx) {
            b->failed = true;
            return;
        }
        nt_buf_printf(b, "\nworst %lld sample%s by loss:\n", (long long)cnt, cnt == 1 ? "" : "s");
        if (r->task == NT_EVAL_REGRESSION)
            nt_buf_printf(b, "%8s %14s\n", "index", "squared error");
        else
            nt_buf_printf(b, "%8s %6s %10s %12s\n", "index", "true", "predicted", "loss");
        for (int64_t j = 0; j < cnt; j++) {
            int64_t i = idx[j];
            if (r->task == NT_EVAL_REGRESSION)
                nt_buf_printf(b, "%8lld %14.6g\n", (long long)i, r->loss[i]);
            else
                nt_buf_printf(b, "%8lld %6d %10d %12.6g\n", (long long)i, r->truth[i], r->pred[i], r->loss[i]);
        }
        free(idx);
    }
}


static nt_status finish(nt_buf *b, char **out, size_t *len)
{
    if (b->failed) {
        nt_buf_deinit(b);
        return nt_error(NT_ERR_NOMEM, "out of memory");
    }
    if (len)
        *len = b->len;
    *out = b->data;
    return NT_OK;
}

nt_status nt_eval_result_json(const nt_eval_result *r, char **out, size_t *len)
{
    nt_buf b;
    nt_buf_init(&b);
    results_json(r, &b);
    return finish(&b, out, len);
}

nt_status nt_eval_result_text(const nt_eval_result *r, char **out, size_t *len)
{
    nt_buf b;
    nt_buf_init(&b);
    results_text(r, &b);
    return finish(&b, out, len);
}
