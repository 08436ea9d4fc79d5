/*
 * eval_record.c — an evaluation recorded in a run directory: DIR/eval.json,
 * DIR/confusion_matrix.png, and in the event file the eval/ scalars, the
 * confusion matrix as an image and a Markdown table, the classification
 * report, and for binary tasks the PR curve (TensorBoard's pr_curves
 * layout).
 */
#include "analyze/eval_record.h"
#include "metrics/eval_result.h"
#include "onnx/pbw.h"
#include "trace/tfevents.h"
#include "viz/png.h"

#include <stdlib.h>
#include <string.h>

/* A pr_curves summary value: tag, metadata (plugin "pr_curves" with
 * PrCurvePluginData{version 0, num_thresholds}), and the float [6, m]
 * tensor. */
static nt_status write_pr_summary(nt_writer *w, const char *tag, int64_t step, const nt_eval_result *r)
{
    enum { M = 201 };
    float *data = nt_malloc(6 * M * sizeof *data);
    if (!data)
        return NT_ERR_NOMEM;
    nt_pr_buckets(r->pos_score, r->truth, r->n, M, data);
    nt_buf v;
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, tag);
    size_t md = nt_pbw_begin(&v, 9);
    size_t pd = nt_pbw_begin(&v, 1);
    nt_pbw_string(&v, 1, "pr_curves");
    nt_buf content;
    nt_buf_init(&content);
    nt_pbw_uint(&content, 2, M); /* version 0 is the default and not written */
    nt_pbw_bytes(&v, 2, content.data, content.len);
    nt_buf_deinit(&content);
    nt_pbw_end(&v, pd);
    nt_pbw_uint(&v, 4, 2); /* DATA_CLASS_TENSOR */
    nt_pbw_end(&v, md);
    size_t t = nt_pbw_begin(&v, 8);
    nt_pbw_uint(&v, 1, 1); /* DT_FLOAT */
    size_t sh = nt_pbw_begin(&v, 2);
    size_t d0 = nt_pbw_begin(&v, 2);
    nt_pbw_uint(&v, 1, 6);
    nt_pbw_end(&v, d0);
    size_t d1 = nt_pbw_begin(&v, 2);
    nt_pbw_uint(&v, 1, M);
    nt_pbw_end(&v, d1);
    nt_pbw_end(&v, sh);
    /* tensor_content: little-endian float32, as on every machine we run on */
    nt_pbw_bytes(&v, 4, data, 6 * M * sizeof *data);
    nt_pbw_end(&v, t);
    free(data);
    nt_status st = v.failed ? nt_error(NT_ERR_NOMEM, "out of memory") : nt_writer_summary_value(w, step, v.data, v.len);
    nt_buf_deinit(&v);
    return st;
}

/* Confusion matrix as a PNG figure: colours are the fraction of each true
 * class (comparable across class sizes), the numbers in the cells the
 * counts, class names (or indices) on both axes and a colour bar. */
static nt_status confusion_png(const nt_eval_result *r, uint8_t **px, int *h, int *w)
{
    size_t kk = (size_t)r->k * (size_t)r->k;
    double *m = nt_malloc(kk * sizeof *m), *counts = nt_malloc(kk * sizeof *counts);
    float *f = nt_malloc(kk * sizeof *f);
    char **labels = nt_calloc((size_t)r->k, sizeof *labels);
    nt_status st = m && counts && f && labels ? NT_OK : NT_ERR_NOMEM;
    for (int i = 0; st == NT_OK && i < r->k; i++) {
        char num[24];
        snprintf(num, sizeof num, "%d", i);
        if (!(labels[i] = nt_strdup(r->names ? r->names[i] : num)))
            st = NT_ERR_NOMEM;
    }
    if (st == NT_OK) {
        nt_confusion_normalized(&r->conf, NT_NORMALIZE_TRUE, m);
        for (size_t i = 0; i < kk; i++) {
            f[i] = (float)m[i];
            counts[i] = (double)r->conf.counts[i];
        }
        int cell = NT_MAX(8, NT_MIN(64, 512 / r->k));
        nt_heatmap_labels lab = {"CONFUSION MATRIX", "TRUE CLASS", "PREDICTED CLASS", (const char *const *)labels,
                                 (const char *const *)labels, false, false, counts, "SHARE OF TRUE CLASS"};
        st = nt_heatmap_figure(f, r->k, r->k, 0.0, 1.0, NT_COLORMAP_VIRIDIS, cell, &lab, px, h, w);
    }
    for (int i = 0; labels && i < r->k; i++)
        free(labels[i]);
    free(labels);
    free(m);
    free(counts);
    free(f);
    return st;
}

/* DIR/eval.json, DIR/confusion_matrix.png and the event-file summaries. */
nt_status nt_eval_record(const nt_eval_result *r, nt_rundir *rd, int64_t step)
{
    const nt_eval_options *o = &r->opts;
    char path[4096];
    char *json;
    size_t len;
    nt_status st = nt_eval_result_json(r, &json, &len);
    if (st != NT_OK)
        return st;
    nt_rundir_file(rd, "eval.json", path, sizeof path);
    st = nt_write_file(path, json, len);
    free(json);
    if (st != NT_OK)
        return st;
    nt_writer *w;
    if ((st = nt_rundir_writer(rd, &w)) != NT_OK)
        return st;
    if (r->task == NT_EVAL_REGRESSION) {
        if ((st = nt_writer_scalar(w, "eval/mse", step, r->reg.mse)) == NT_OK &&
            (st = nt_writer_scalar(w, "eval/mae", step, r->reg.mae)) == NT_OK &&
            (st = nt_writer_scalar(w, "eval/rmse", step, r->reg.rmse)) == NT_OK)
            st = nt_writer_scalar(w, "eval/r2", step, r->reg.r2);
        return st;
    }
    st = nt_writer_scalar(w, "eval/accuracy", step, r->accuracy);
    if (st == NT_OK && r->kind != NT_EVAL_LABELS)
        st = nt_writer_scalar(w, "eval/loss", step, r->mean_loss);
    if (st == NT_OK)
        st = nt_writer_scalar(w, "eval/macro_f1", step, r->rep.macro.f1);
    if (st == NT_OK && r->have_rank) {
        if ((st = nt_writer_scalar(w, "eval/roc_auc", step, r->auc)) == NT_OK &&
            (st = nt_writer_scalar(w, "eval/average_precision", step, r->ap)) == NT_OK)
            st = write_pr_summary(w, "eval/pr_curve", step, r);
    }
    uint8_t *px = NULL;
    int h = 0, wd = 0;
    if (st == NT_OK && (st = confusion_png(r, &px, &h, &wd)) == NT_OK) {
        st = nt_writer_image(w, "eval/confusion_matrix", step, px, h, wd, 3);
        nt_rundir_file(rd, "confusion_matrix.png", path, sizeof path);
        if (st == NT_OK)
            st = nt_png_write(path, px, h, wd, 3);
        free(px);
    }
    if (st == NT_OK) {
        /* the table as Markdown (TensorBoard's text plugin renders it),
         * the report as a preformatted block */
        nt_buf t;
        nt_buf_init(&t);
        nt_buf_puts(&t, "| true \\ predicted |");
        for (int p = 0; p < r->k; p++) {
            if (r->names)
                nt_buf_printf(&t, " %s |", r->names[p]);
            else
                nt_buf_printf(&t, " %d |", p);
        }
        nt_buf_puts(&t, "\n|---|");
        for (int p = 0; p < r->k; p++)
            nt_buf_puts(&t, "---:|");
        nt_buf_putc(&t, '\n');
        for (int tr = 0; tr < r->k; tr++) {
            if (r->names)
                nt_buf_printf(&t, "| **%s** |", r->names[tr]);
            else
                nt_buf_printf(&t, "| **%d** |", tr);
            for (int p = 0; p < r->k; p++)
                nt_buf_printf(&t, " %lld |", (long long)r->conf.counts[(size_t)tr * r->k + p]);
            nt_buf_putc(&t, '\n');
        }
        st = t.failed ? NT_ERR_NOMEM : nt_writer_text(w, "eval/confusion_matrix_table", step, t.data);
        t.len = 0;
        if (t.data)
            t.data[0] = '\0';
        nt_buf_puts(&t, "```\n");
        nt_class_report_format(&r->rep, (const char *const *)r->names, o->digits, &t);
        nt_buf_puts(&t, "```\n");
        if (st == NT_OK)
            st = t.failed ? NT_ERR_NOMEM : nt_writer_text(w, "eval/classification_report", step, t.data);
        nt_buf_deinit(&t);
    }
    return st;
}

