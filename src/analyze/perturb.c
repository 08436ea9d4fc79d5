/*
 * perturb.c — noise sensitivity (see sensitivity.h).  Two questions:
 *
 * 1. How robust is the output?  For each scale s, `trials` runs on
 *    x + s * std(x) * e with e ~ N(0, I): statistics of the change of the
 *    target score, the mean change of every output element, and how often
 *    the predicted class (argmax) flips.
 *
 * 2. Which input features matter?  Per-feature d target / d x_i:
 *    - exact: central finite differences with the smallest noise scale as
 *      the step, two runs per feature (affordable up to a few thousand
 *      features);
 *    - noise: Stein's identity E[f(x + sigma e) e] = sigma E[grad f], so
 *      mean over trials of (delta target * e_i / sigma) estimates the gradient
 *      from the runs of part 1 at no extra cost.  It is noisy (its error
 *      shrinks as 1/sqrt(trials)) but ranks strongly sensitive features
 *      correctly on large inputs such as images.
 */
#include "analyze/sensitivity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nt_perturb_result_deinit(nt_perturb_result *r)
{
    free(r->grad);
    free(r->order);
    memset(r, 0, sizeof *r);
}

typedef struct ranked {
    double key;
    int64_t idx;
} ranked;

/* Larger |gradient| first; ties (and NaN) by index so the order is stable. */
static int ranked_cmp(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    double kx = isnan(x->key) ? -1 : x->key, ky = isnan(y->key) ? -1 : y->key;
    if (kx != ky)
        return kx > ky ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* mean_i |y_i - base_i| over the whole output. */
static double mean_abs_change(const nt_probe *p, const nt_tensor *y)
{
    double acc = 0;
    for (int64_t i = 0; i < p->out_numel; i++)
        acc += fabs(nt_tensor_get_f64(y, i) - nt_tensor_get_f64(p->base_out, i));
    return acc / (double)p->out_numel;
}

/* Runs the noise trials of every scale; accumulates Stein sums into grad
 * when it is not NULL (divided by the trial count by the caller). */
static nt_status noise_trials(nt_probe *p, const nt_perturb_options *o, nt_perturb_result *r, double *grad,
                              int64_t total)
{
    nt_rng rng;
    nt_rng_seed(&rng, o->seed);
    double *eps = nt_malloc(sizeof(double) * (size_t)p->numel);
    if (!eps)
        return NT_ERR_NOMEM;
    nt_status st = NT_OK;
    for (int k = 0; k < o->n_scales && st == NT_OK; k++) {
        nt_perturb_scale *sc = &r->scales[k];
        sc->scale = o->scales[k];
        sc->sigma = o->scales[k] * r->input_std;
        sc->trials = o->trials;
        double mean = 0, m2 = 0, sum_abs = 0, max_abs = 0, sum_out = 0;
        for (int t = 0; t < o->trials; t++) {
            for (int64_t i = 0; i < p->numel; i++) {
                eps[i] = nt_rng_normal(&rng);
                nt_tensor_set_f64(p->work, i, p->base_f64[i] + sc->sigma * eps[i]);
            }
            const nt_tensor *y;
            if ((st = nt_probe_run(p, &y)) != NT_OK)
                break;
            double d = nt_probe_score(p, y) - p->base_score;
            double dm = d - mean;
            mean += dm / (t + 1);
            m2 += dm * (d - mean);
            sum_abs += fabs(d);
            /* a NaN score makes the maximum NaN: it must not hide */
            if (isnan(d) || isnan(max_abs))
                max_abs = NAN;
            else if (fabs(d) > max_abs)
                max_abs = fabs(d);
            sum_out += mean_abs_change(p, y);
            if (nt_tensor_argmax(y) != p->base_argmax)
                sc->flips++;
            if (grad && sc->sigma > 0)
                for (int64_t i = 0; i < p->numel; i++)
                    grad[i] += d * eps[i] / sc->sigma;
            if (p->progress)
                p->progress(p->progress_user, "runs", (int64_t)k * o->trials + t + 1, total);
        }
        sc->mean_dtarget = mean;
        sc->std_dtarget = o->trials > 1 ? sqrt(m2 / (o->trials - 1)) : 0;
        sc->mean_abs_dtarget = sum_abs / o->trials;
        sc->max_abs_dtarget = max_abs;
        sc->mean_abs_doutput = sum_out / o->trials;
    }
    nt_probe_reset(p);
    free(eps);
    return st;
}

/* Central differences, one feature at a time; the step actually stored
 * (after rounding to the input's dtype) is used as the denominator. */
static nt_status finite_differences(nt_probe *p, double h, double *grad, int64_t done0, int64_t total)
{
    nt_probe_reset(p);
    size_t esz = nt_dtype_size(p->work->dtype);
    for (int64_t i = 0; i < p->numel; i++) {
        const nt_tensor *y;
        nt_status st;
        double x0 = p->base_f64[i];
        nt_tensor_set_f64(p->work, i, x0 + h);
        double xp = nt_tensor_get_f64(p->work, i);
        if ((st = nt_probe_run(p, &y)) != NT_OK)
            return st;
        double fp = nt_probe_score(p, y);
        nt_tensor_set_f64(p->work, i, x0 - h);
        double xm = nt_tensor_get_f64(p->work, i);
        if ((st = nt_probe_run(p, &y)) != NT_OK)
            return st;
        double fm = nt_probe_score(p, y);
        grad[i] = xp != xm ? (fp - fm) / (xp - xm) : 0.0;
        memcpy((char *)p->work->data + (size_t)i * esz, (const char *)p->base->data + (size_t)i * esz, esz);
        if (p->progress)
            p->progress(p->progress_user, "runs", done0 + 2 * (i + 1), total);
    }
    return NT_OK;
}

nt_status nt_perturb_run(nt_probe *p, const nt_perturb_options *o, nt_perturb_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->n_scales < 1 || o->n_scales > NT_PERTURB_MAX_SCALES || o->trials < 1)
        return nt_error(NT_ERR_INVALID_ARG, "perturb: need 1 to %d scales and at least one trial",
                        NT_PERTURB_MAX_SCALES);
    double smallest = INFINITY;
    for (int k = 0; k < o->n_scales; k++) {
        if (!(o->scales[k] > 0) || !isfinite(o->scales[k]))
            return nt_error(NT_ERR_INVALID_ARG, "perturb: scale %g is not a positive number", o->scales[k]);
        smallest = fmin(smallest, o->scales[k]);
    }
    int64_t runs0 = p->runs;
    r->n_scales = o->n_scales;
    r->numel = p->numel;
    r->input_std = nt_probe_input_std(p);
    if (!(r->input_std > 0) || !isfinite(r->input_std)) {
        /* a constant input (all zeros, say) has no scale of its own */
        r->input_std = 1.0;
        r->input_std_fallback = true;
    }
    r->exact = o->ranking == NT_RANKING_EXACT || (o->ranking == NT_RANKING_AUTO && p->numel <= NT_PERTURB_EXACT_MAX);
    r->grad = nt_calloc((size_t)p->numel, sizeof(double));
    r->order = nt_malloc(sizeof(int64_t) * (size_t)p->numel);
    ranked *rk = nt_malloc(sizeof(ranked) * (size_t)p->numel);
    nt_status st = NT_OK;
    if (!r->grad || !r->order || !rk) {
        st = NT_ERR_NOMEM;
        goto done;
    }
    int64_t total = (int64_t)o->n_scales * o->trials + (r->exact ? 2 * p->numel : 0);
    if ((st = noise_trials(p, o, r, r->exact ? NULL : r->grad, total)) != NT_OK)
        goto done;
    if (r->exact) {
        r->fd_step = smallest * r->input_std;
        st = finite_differences(p, r->fd_step, r->grad, (int64_t)o->n_scales * o->trials, total);
        nt_probe_reset(p);
        if (st != NT_OK)
            goto done;
    } else {
        double k = (double)o->n_scales * o->trials;
        for (int64_t i = 0; i < p->numel; i++)
            r->grad[i] /= k;
    }
    for (int64_t i = 0; i < p->numel; i++) {
        rk[i].key = fabs(r->grad[i]);
        rk[i].idx = i;
    }
    qsort(rk, (size_t)p->numel, sizeof *rk, ranked_cmp);
    for (int64_t i = 0; i < p->numel; i++)
        r->order[i] = rk[i].idx;
done:
    r->runs = p->runs - runs0;
    free(rk);
    if (st != NT_OK)
        nt_perturb_result_deinit(r);
    return st;
}
