/*
 * analyze_run.c — nt_analyze_run and its result (include/nntrace/
 * analysis.h): picks the analyzed input (first graph input or o->input),
 * the watched output (first or o->output) and the target element (o->target,
 * else the argmax of the unperturbed output), runs one method of
 * analyze_methods.c, and writes analysis.json beside its maps and plots.
 */
#include "analyze/analyze_ctx.h"
#include "exec/exec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct nt_analyze_result {
    nt_buf json, text;
};

static const char *const method_names[] = {"", "occlusion", "perturb", "sweep"};

const char *nt_analyze_method_name(nt_analyze_method m)
{
    return m >= NT_ANALYZE_OCCLUSION && m <= NT_ANALYZE_SWEEP ? method_names[m] : "";
}

void nt_analyze_options_init(nt_analyze_options *o)
{
    memset(o, 0, sizeof *o);
    o->n_scales = 3;
    o->scales[0] = 0.01;
    o->scales[1] = 0.05;
    o->scales[2] = 0.1;
    o->trials = 20;
    o->top = 10;
}

/* The options in the terms of analyze/sensitivity.h. */
static nt_status method_options(nt_analyze_ctx *c)
{
    const nt_analyze_options *o = c->o;
    c->occ.win_h = o->window_h;
    c->occ.win_w = o->window_w;
    c->occ.stride_h = o->stride_h;
    c->occ.stride_w = o->stride_w;
    c->baseline = o->baseline ? o->baseline : "0";
    if (strcmp(c->baseline, "mean") == 0) {
        c->occ.baseline = NT_BASELINE_MEAN;
    } else {
        char *end;
        c->occ.baseline_value = strtod(c->baseline, &end);
        if (end == c->baseline || *end || !isfinite(c->occ.baseline_value))
            return nt_error(NT_ERR_INVALID_ARG, "the baseline is 'mean' or a number, not '%s'", c->baseline);
    }
    if (o->n_scales < 1 || o->n_scales > NT_ANALYZE_MAX_SCALES || o->trials < 1 || o->top < 0)
        return nt_error(NT_ERR_INVALID_ARG, "perturb needs 1 to %d scales, a trial or more and top >= 0",
                        NT_ANALYZE_MAX_SCALES);
    c->pert.n_scales = o->n_scales;
    memcpy(c->pert.scales, o->scales, sizeof(double) * (size_t)o->n_scales);
    c->pert.trials = o->trials;
    c->pert.seed = o->seed;
    c->pert.ranking = (nt_ranking_kind)o->ranking;
    if (o->method == NT_ANALYZE_SWEEP && !o->feature)
        return nt_error(NT_ERR_INVALID_ARG, "a sweep needs a feature (a flat index or coordinates)");
    if (o->method < NT_ANALYZE_OCCLUSION || o->method > NT_ANALYZE_SWEEP)
        return nt_error(NT_ERR_INVALID_ARG, "the method is occlusion, perturb or sweep");
    return NT_OK;
}

/* Finds the analyzed input and watched output (by name or first). */
static nt_status resolve_io(nt_analyze_ctx *c)
{
    const nt_analyze_options *o = c->o;
    c->in_idx = c->out_idx = -1;
    for (int i = 0; i < nt_model_input_count(c->m); i++) {
        nt_value_info vi;
        if (nt_model_input_info(c->m, i, &vi) == NT_OK && (o->input ? strcmp(vi.name, o->input) == 0 : i == 0)) {
            c->in_idx = i;
            c->in_vi = vi;
            break;
        }
    }
    if (c->in_idx < 0) {
        if (o->input)
            return nt_error(NT_ERR_INVALID_ARG, "the model has no input named '%s' (bind files with -i)", o->input);
        return nt_error(NT_ERR_INVALID_ARG, "the model has no graph inputs to analyze");
    }
    for (int i = 0; i < nt_model_output_count(c->m); i++) {
        nt_value_info vi;
        if (nt_model_output_info(c->m, i, &vi) == NT_OK && (o->output ? strcmp(vi.name, o->output) == 0 : i == 0)) {
            c->out_idx = i;
            c->out_vi = vi;
            break;
        }
    }
    if (c->out_idx < 0) {
        nt_buf names;
        nt_buf_init(&names);
        for (int i = 0; i < nt_model_output_count(c->m); i++) {
            nt_value_info vi;
            if (nt_model_output_info(c->m, i, &vi) == NT_OK)
                nt_buf_printf(&names, " %s", vi.name);
        }
        nt_status st = nt_error(NT_ERR_INVALID_ARG, "the model has no output named '%s'; outputs:%s",
                                o->output ? o->output : "", names.data ? names.data : "");
        nt_buf_deinit(&names);
        return st;
    }
    return NT_OK;
}

/* The analyzed input's tensor as bound: one run with values kept, then a
 * copy of the graph input. */
static nt_status fetch_input(nt_analyze_ctx *c)
{
    /* One sample is analyzed: a batch is refused before the model runs on
     * all of it (a batch of 200k would take gigabytes to be refused later). */
    const nt_tensor *b = nt_session_bound_input(c->s, c->in_vi.name);
    if (b && b->ndim >= 2 && b->dims[0] > 1 && !(c->in_vi.ndim == b->ndim && c->in_vi.dims[0] == b->dims[0]))
        return nt_error(NT_ERR_SHAPE, "input '%s' holds a batch of %lld samples; analyze works on one "
                        "(axis 0 of length 1: take one sample, e.g. x[i:i+1] in numpy)", c->in_vi.name,
                        (long long)b->dims[0]);
    nt_tensor *v;
    nt_session_set_keep_values(c->s, true);
    nt_status st = nt_session_run(c->s);
    if (st == NT_OK)
        st = nt_session_get_value(c->s, c->in_vi.name, &v);
    if (st == NT_OK)
        st = nt_tensor_clone(v, &c->x);
    nt_session_set_keep_values(c->s, false);
    return st;
}

/* o->target as a flat index or coordinates into the watched output. */
static nt_status resolve_target(nt_analyze_ctx *c, int64_t *target)
{
    *target = -1;
    if (!c->o->target)
        return NT_OK;
    const nt_tensor *y;
    nt_status st = nt_session_get_output(c->s, c->out_idx, &y);
    if (st == NT_OK)
        st = nt_feature_parse(c->o->target, y->ndim, y->dims, target);
    return st == NT_OK ? NT_OK : nt_error_wrap(NT_ERR_INVALID_ARG, "--target");
}

/* Everything up to the method: input, output, target, layout, probe. */
static nt_status prepare(nt_analyze_ctx *c)
{
    nt_status st;
    int64_t target;
    if ((st = method_options(c)) != NT_OK || (st = resolve_io(c)) != NT_OK || (st = fetch_input(c)) != NT_OK ||
        (st = resolve_target(c, &target)) != NT_OK)
        return st;
    st = nt_layout_init(c->o->layout, c->x->ndim, c->x->dims, &c->layout);
    c->has_layout = st == NT_OK;
    if (!c->has_layout && (c->o->method == NT_ANALYZE_OCCLUSION || c->o->layout))
        return st;
    nt_error_clear();
    if ((st = nt_probe_init(&c->probe, c->s, c->in_vi.name, c->x, c->out_idx, target)) != NT_OK)
        return st;
    c->probe.progress = c->o->progress;
    c->probe.progress_user = c->o->progress_user;
    if (c->o->out_dir && (st = nt_mkdirs(c->o->out_dir)) != NT_OK)
        return st;
    return NT_OK;
}

/* Closes analysis.json (with the files written) and writes it. */
static nt_status finish(nt_analyze_ctx *c)
{
    nt_buf *json = &c->json;
    nt_buf_puts(json, " \"files\": {");
    if (c->files.len)
        nt_buf_append(json, c->files.data, c->files.len);
    nt_buf_puts(json, "}}\n");
    if (json->failed || c->text.failed)
        return nt_error(NT_ERR_NOMEM, "out of memory");
    if (!c->o->out_dir)
        return NT_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/analysis.json", c->o->out_dir);
    nt_status st = nt_write_file(path, json->data, json->len);
    if (st == NT_OK)
        nt_buf_printf(&c->text, "  wrote %s/ (analysis.json, %s)\n", c->o->out_dir,
                      c->o->method == NT_ANALYZE_SWEEP     ? "sweep.csv, sweep.svg"
                      : c->o->method == NT_ANALYZE_PERTURB ? "gradient.npy, sensitivity*.npy/.png"
                                                           : "occlusion.npy/.png");
    return st;
}

nt_status nt_analyze_run(const nt_model *m, nt_session *s, const nt_analyze_options *o, nt_analyze_result **out)
{
    *out = NULL;
    nt_analyze_ctx c = {0};
    c.o = o;
    c.m = m;
    c.s = s;
    c.model = o->model_path ? o->model_path : nt_model_path(m);
    if (!c.model)
        c.model = "model";
    nt_buf_init(&c.files);
    nt_buf_init(&c.json);
    nt_buf_init(&c.text);
    nt_status st = prepare(&c);
    if (st == NT_OK) {
        c.ms = nt_now_ms();
        st = o->method == NT_ANALYZE_OCCLUSION ? nt_analyze_occlusion(&c)
           : o->method == NT_ANALYZE_PERTURB   ? nt_analyze_perturb(&c)
                                               : nt_analyze_sweep(&c);
    }
    if (st == NT_OK)
        st = finish(&c);
    nt_analyze_result *r = st == NT_OK ? nt_calloc(1, sizeof *r) : NULL;
    if (st == NT_OK && !r)
        st = NT_ERR_NOMEM;
    if (st == NT_OK) {
        r->json = c.json;
        r->text = c.text;
        *out = r;
    } else {
        nt_buf_deinit(&c.json);
        nt_buf_deinit(&c.text);
    }
    nt_probe_deinit(&c.probe);
    nt_tensor_free(c.x);
    nt_buf_deinit(&c.files);
    return st;
}

static nt_status copy_out(const nt_buf *src, char **out, size_t *len)
{
    nt_buf b;
    nt_buf_init(&b);
    nt_buf_append(&b, src->data ? src->data : "", src->len);
    return nt_buf_take(&b, out, len);
}

nt_status nt_analyze_result_json(const nt_analyze_result *r, char **out, size_t *len)
{
    return copy_out(&r->json, out, len);
}

nt_status nt_analyze_result_text(const nt_analyze_result *r, char **out, size_t *len)
{
    return copy_out(&r->text, out, len);
}

void nt_analyze_result_free(nt_analyze_result *r)
{
    if (!r)
        return;
    nt_buf_deinit(&r->json);
    nt_buf_deinit(&r->text);
    free(r);
}
