/*
 * sweep.c — one-feature sweeps (see sensitivity.h): every other input value
 * stays as given while one feature takes evenly spaced values over a range;
 * the target score and the first output elements are recorded at each.
 * This is the "partial dependence at one point" view: it shows thresholds,
 * saturation and non-monotonic responses that a single gradient hides.
 */
#include "analyze/sensitivity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nt_sweep_result_deinit(nt_sweep_result *r)
{
    free(r->values);
    free(r->target);
    free(r->outputs);
    memset(r, 0, sizeof *r);
}

nt_status nt_sweep_run(nt_probe *p, const nt_sweep_options *o, nt_sweep_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->feature < 0 || o->feature >= p->numel)
        return nt_error(NT_ERR_INVALID_ARG, "sweep: feature %lld is out of range (the input has %lld elements)",
                        (long long)o->feature, (long long)p->numel);
    if (o->n < 1 || o->n > 1000000 || !isfinite(o->lo) || !isfinite(o->hi))
        return nt_error(NT_ERR_INVALID_ARG, "sweep: need finite bounds and 1 to 1000000 points");
    int max_out = o->max_outputs > 0 ? o->max_outputs : 10;
    r->n = o->n;
    r->feature = o->feature;
    r->original = p->base_f64[o->feature];
    r->n_out = (int)NT_MIN((int64_t)max_out, p->out_numel);
    r->values = nt_malloc(sizeof(double) * (size_t)o->n);
    r->target = nt_malloc(sizeof(double) * (size_t)o->n);
    r->outputs = nt_malloc(sizeof(double) * (size_t)o->n * (size_t)r->n_out);
    if (!r->values || !r->target || !r->outputs) {
        nt_sweep_result_deinit(r);
        return NT_ERR_NOMEM;
    }
    nt_probe_reset(p);
    nt_status st = NT_OK;
    for (int k = 0; k < o->n; k++) {
        /* computed from both ends so lo and hi are hit exactly */
        double t = o->n > 1 ? (double)k / (o->n - 1) : 0.0;
        double v = o->lo * (1 - t) + o->hi * t;
        nt_tensor_set_f64(p->work, o->feature, v);
        /* the value the model really sees (after rounding to its dtype) */
        r->values[k] = nt_tensor_get_f64(p->work, o->feature);
        const nt_tensor *y;
        if ((st = nt_probe_run(p, &y)) != NT_OK)
            break;
        r->target[k] = nt_probe_score(p, y);
        for (int j = 0; j < r->n_out; j++)
            r->outputs[(size_t)k * r->n_out + j] = nt_tensor_get_f64(y, j);
        if (p->progress)
            p->progress(p->progress_user, "points", k + 1, o->n);
    }
    nt_probe_reset(p);
    if (st != NT_OK)
        nt_sweep_result_deinit(r);
    return st;
}
