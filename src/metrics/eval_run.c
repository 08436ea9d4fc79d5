/*
 * eval_run.c — nt_eval_run: runs a session over every sample of an
 * evaluation and gathers the scored output, then scores it (eval_score.c).
 *
 * Samples lie along axis 0.  When the model's input has a dynamic batch
 * dimension the samples run in batches (options.batch); a fixed batch
 * dimension B > 1 runs batches of B with the last one padded (copies of the
 * last sample); otherwise one sample at a time.
 */
#include "metrics/eval_result.h"

#include <stdlib.h>
#include <string.h>

/* Finds the output to score: options.output, else the only one, else the
 * first float output (saying so in the log). */
static nt_status pick_output(const nt_eval_options *o, const nt_model *m, nt_eval_gathered *g)
{
    int n = nt_model_output_count(m);
    g->out_index = -1;
    for (int i = 0; i < n; i++) {
        nt_value_info vi;
        if (nt_model_output_info(m, i, &vi) != NT_OK)
            continue;
        if (o->output ? strcmp(vi.name, o->output) == 0
                      : (n == 1 || vi.dtype == NT_DTYPE_UNDEFINED || nt_dtype_is_float(vi.dtype))) {
            g->out_index = i;
            g->out_name = vi.name;
            break;
        }
    }
    if (g->out_index < 0 && !o->output && n > 0) {
        nt_value_info vi;
        nt_model_output_info(m, 0, &vi);
        g->out_index = 0;
        g->out_name = vi.name;
    }
    if (g->out_index < 0) {
        nt_buf b;
        nt_buf_init(&b);
        for (int i = 0; i < n; i++) {
            nt_value_info vi;
            if (nt_model_output_info(m, i, &vi) == NT_OK)
                nt_buf_printf(&b, "\n  %s %s", vi.name, nt_dtype_name(vi.dtype));
        }
        nt_status st = nt_error(NT_ERR_INVALID_ARG, "the model has no output named '%s'; its outputs:%s",
                                o->output ? o->output : "", b.data ? b.data : "");
        nt_buf_deinit(&b);
        return st;
    }
    if (n > 1 && !o->output && o->log)
        fprintf(o->log, "nntrace eval: the model has %d outputs; scoring '%s' (choose with --output NAME)\n", n,
                g->out_name);
    return NT_OK;
}

/* Appends the output of one run holding `b` samples (`real` of them real,
 * the rest padding) to g.  `batched`: the output's first dim is the batch. */
static nt_status gather_output(nt_session *s, nt_eval_gathered *g, int64_t b, int64_t real, bool batched)
{
    const nt_tensor *t;
    nt_status st = nt_session_get_output(s, g->out_index, &t);
    if (st != NT_OK)
        return st;
    int64_t numel = nt_tensor_numel(t);
    if (batched && (t->ndim < 1 || t->dims[0] != b)) {
        char desc[128];
        nt_tensor_describe(t, desc, sizeof desc);
        return nt_error(NT_ERR_SHAPE, "output '%s' is %s for a batch of %lld: its first dimension should be the batch",
                        g->out_name, desc, (long long)b);
    }
    int64_t per = numel / b;
    if (g->c == 0) {
        g->c = per;
        g->int_output = !nt_dtype_is_float(t->dtype);
    }
    if (per != g->c || per < 1)
        return nt_error(NT_ERR_SHAPE, "output '%s' has %lld values per sample after %lld samples had %lld",
                        g->out_name, (long long)per, (long long)g->n, (long long)g->c);
    for (int64_t i = 0; i < real * per; i++)
        g->v[g->n * per + i] = nt_tensor_get_f64(t, i);
    g->n += real;
    return NT_OK;
}

/* How samples bind to the input: its index, the batch, padding. */
typedef struct binding {
    nt_value_info vi;
    bool same_rank;   /* with the batch dimension (same rank as X) or without it */
    int64_t batch;
    bool pad;
} binding;

static nt_status bind_plan(const nt_eval_options *o, const nt_model *m, const nt_tensor *x, binding *bd)
{
    int idx = 0;
    if (o->data_input) {
        idx = -1;
        for (int i = 0; i < nt_model_input_count(m); i++)
            if (nt_model_input_info(m, i, &bd->vi) == NT_OK && strcmp(bd->vi.name, o->data_input) == 0)
                idx = i;
        if (idx < 0)
            return nt_error(NT_ERR_INVALID_ARG, "the model has no input named '%s'", o->data_input);
    }
    if (nt_model_input_info(m, idx, &bd->vi) != NT_OK)
        return nt_error(NT_ERR_INVALID_ARG, "the model has no inputs");
    const nt_value_info *vi = &bd->vi;
    bd->same_rank = vi->ndim < 0 || vi->ndim == x->ndim;
    bd->batch = 1;
    bd->pad = false;
    if (bd->same_rank && vi->ndim > 0 && vi->dims[0] < 0) {
        bd->batch = o->batch;
    } else if (bd->same_rank && vi->ndim > 0 && vi->dims[0] > 1) {
        bd->batch = vi->dims[0];
        bd->pad = true;
    } else if (o->batch_given && o->batch > 1 && o->log) {
        fprintf(o->log, "nntrace eval: input '%s' has no dynamic batch dimension; running one sample at a time\n",
                vi->name);
    }
    if (!bd->same_rank && vi->ndim != x->ndim - 1)
        /* bad data, not a misused option: as for a wrong shape or dtype */
        return nt_error(NT_ERR_SHAPE,
                        "%s has rank %d but input '%s' has rank %d (samples along axis 0 of the input's shape, or "
                        "the input's shape itself)",
                        o->data_path, x->ndim, vi->name, vi->ndim);
    return NT_OK;
}

/* Runs the model over every sample of x, gathering the chosen output. */
static nt_status run_all(const nt_eval_options *o, const nt_model *m, nt_session *s, const nt_tensor *x,
                         nt_eval_gathered *g)
{
    binding bd;
    nt_status st = bind_plan(o, m, x, &bd);
    if (st != NT_OK)
        return st;
    int64_t n = x->dims[0], batch = bd.batch;
    size_t stride = n ? nt_tensor_nbytes(x) / (size_t)n : 0;
    char *padbuf = NULL;
    nt_tensor slice = *x;
    slice.flags = 0;
    if (!bd.same_rank) {
        slice.ndim = x->ndim - 1;
        memmove(slice.dims, x->dims + 1, sizeof(int64_t) * (size_t)slice.ndim);
    }
    double t0 = nt_now_ms();
    int64_t progress = n >= 2000 ? n / 10 : 0, next_progress = progress;
    for (int64_t i = 0; i < n && st == NT_OK; i += batch) {
        int64_t real = NT_MIN(batch, n - i);
        int64_t b = bd.pad ? batch : real;
        slice.data = (char *)x->data + (size_t)i * stride;
        if (bd.same_rank)
            slice.dims[0] = b;
        if (bd.pad && real < batch) {
            /* a fixed batch size: fill the tail with copies of the last sample */
            padbuf = nt_malloc((size_t)batch * stride);
            if (!padbuf)
                return NT_ERR_NOMEM;
            for (int64_t k = 0; k < batch; k++)
                memcpy(padbuf + (size_t)k * stride, (char *)x->data + (size_t)(i + NT_MIN(k, real - 1)) * stride,
                       stride);
            slice.data = padbuf;
        }
        st = nt_session_set_input(s, bd.vi.name, &slice);
        if (st == NT_OK)
            st = nt_session_run(s);
        if (st != NT_OK) {
            nt_error_wrap(st, "samples %lld..%lld of %s", (long long)i, (long long)(i + real - 1), o->data_path);
            break;
        }
        g->runs++;
        if (!g->v) {
            /* the first run tells how many values a sample has */
            const nt_tensor *t;
            if ((st = nt_session_get_output(s, g->out_index, &t)) != NT_OK)
                break;
            int64_t per = NT_MAX((int64_t)1, nt_tensor_numel(t) / NT_MAX(b, (int64_t)1));
            g->v = nt_calloc((size_t)n * (size_t)per + 1, sizeof *g->v);
            if (!g->v) {
                st = NT_ERR_NOMEM;
                break;
            }
        }
        st = gather_output(s, g, b, real, bd.same_rank && (batch > 1 || bd.pad || bd.vi.dims[0] < 0));
        if (progress && i + real >= next_progress && o->log) {
            fprintf(o->log, "nntrace eval: %lld/%lld samples\n", (long long)(i + real), (long long)n);
            next_progress += progress;
        }
    }
    free(padbuf);
    g->ms = nt_now_ms() - t0;
    return st;
}

nt_status nt_eval_run(const nt_model *m, nt_session *s, const nt_eval_data *d, const nt_eval_options *o,
                      nt_eval_result **out)
{
    nt_eval_result *r = nt_calloc(1, sizeof *r);
    *out = r;
    if (!r)
        return NT_ERR_NOMEM;
    r->opts = *o;
    nt_status st = pick_output(o, m, &r->g);
    if (st == NT_OK)
        st = run_all(o, m, s, d->x, &r->g);
    if (st == NT_OK)
        st = o->task == NT_EVAL_REGRESSION ? nt_eval_score_regression(r, d->labels, d->d)
                                           : nt_eval_score_classes(r, d->labels);
    return st;
}

int nt_eval_result_runs(const nt_eval_result *r) { return r ? r->g.runs : 0; }
double nt_eval_result_ms(const nt_eval_result *r) { return r ? r->g.ms : 0; }
