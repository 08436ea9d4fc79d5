/*
 * analyze_methods.c — occlusion, perturb and sweep as `nntrace analyze`
 * runs them (analyze_ctx.h): each runs its method on the probe, writes the
 * maps, plots and CSV into the output directory, and renders its part of
 * analysis.json and of the text summary.
 */
#include "analyze/analyze_ctx.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void json_shape(nt_buf *b, int ndim, const int64_t *dims)
{
    nt_buf_putc(b, '[');
    for (int d = 0; d < ndim; d++)
        nt_buf_printf(b, "%s%lld", d ? ", " : "", (long long)dims[d]);
    nt_buf_putc(b, ']');
}

static void shape_text(char *buf, size_t len, int ndim, const int64_t *dims)
{
    size_t u = (size_t)snprintf(buf, len, "(");
    for (int d = 0; d < ndim && u < len; d++)
        u += (size_t)snprintf(buf + u, len - u, "%s%lld", d ? "," : "", (long long)dims[d]);
    if (u < len)
        snprintf(buf + u, len - u, ")");
}

/* Records a written file under a role for analysis.json. */
static void add_file(nt_analyze_ctx *c, const char *role, const char *name)
{
    nt_buf_printf(&c->files, "%s\"%s\": ", c->n_files++ ? ", " : "", role);
    nt_buf_json_string(&c->files, name);
}

static nt_status save_npy(nt_analyze_ctx *c, const char *role, const char *name, const float *v, int ndim, const int64_t *dims)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->o->out_dir, name);
    nt_tensor t = {0};
    t.dtype = NT_DTYPE_FLOAT;
    nt_tensor_set_shape(&t, ndim, dims);
    t.data = (void *)v;
    t.capacity = nt_tensor_nbytes(&t);
    nt_status st = nt_npy_save(path, &t);
    if (st == NT_OK)
        add_file(c, role, name);
    return st;
}

/* The map's PNG heatmap and, for images, the overlay. */
static nt_status save_pngs(nt_analyze_ctx *c, const char *stem, const float *map, bool signed_map)
{
    char path[4096], name[256];
    snprintf(name, sizeof name, "%s.png", stem);
    snprintf(path, sizeof path, "%s/%s", c->o->out_dir, name);
    nt_status st = nt_sens_heatmap_png(path, map, c->layout.H, c->layout.W, signed_map);
    if (st != NT_OK)
        return st;
    add_file(c, "heatmap_png", name);
    if (!nt_layout_is_image(&c->layout))
        return NT_OK;
    snprintf(name, sizeof name, "%s_overlay.png", stem);
    snprintf(path, sizeof path, "%s/%s", c->o->out_dir, name);
    if ((st = nt_sens_overlay_png(path, map, &c->layout, c->probe.base_f64, signed_map)) == NT_OK)
        add_file(c, "overlay_png", name);
    return st;
}

/* The map's shape as saved: (H, W), or (L) for 1-D inputs. */
static int map_dims(const nt_layout *l, int64_t *dims)
{
    if (l->one_d) {
        dims[0] = l->W;
        return 1;
    }
    dims[0] = l->H;
    dims[1] = l->W;
    return 2;
}

void nt_analyze_json_common(nt_analyze_ctx *c)
{
    nt_buf *b = &c->json;
    nt_probe *p = &c->probe;
    char coords[256];
    nt_buf_printf(b, "{\"method\": \"%s\", \"model\": ", nt_analyze_method_name(c->o->method));
    nt_buf_json_string(b, c->model);
    nt_buf_puts(b, ",\n \"input\": {\"name\": ");
    nt_buf_json_string(b, c->in_vi.name);
    nt_buf_printf(b, ", \"dtype\": \"%s\", \"shape\": ", nt_dtype_name(c->x->dtype));
    json_shape(b, c->x->ndim, c->x->dims);
    if (c->has_layout)
        nt_buf_printf(b, ", \"layout\": \"%s\"", c->layout.spec);
    nt_buf_puts(b, "},\n \"output\": {\"name\": ");
    nt_buf_json_string(b, c->out_vi.name);
    nt_buf_puts(b, ", \"shape\": ");
    json_shape(b, p->base_out->ndim, p->base_out->dims);
    nt_buf_puts(b, ", \"values\": [");
    for (int64_t i = 0; i < p->out_numel && i < 10; i++) {
        nt_buf_puts(b, i ? ", " : "");
        nt_buf_json_double(b, nt_tensor_get_f64(p->base_out, i));
    }
    nt_feature_format(p->target, p->base_out->ndim, p->base_out->dims, coords, sizeof coords);
    nt_buf_printf(b, "]},\n \"target\": {\"index\": %lld, \"coords\": [%s], \"default\": %s, \"score\": ",
                  (long long)p->target, coords, p->target_is_default ? "true" : "false");
    nt_buf_json_double(b, p->base_score);
    nt_buf_printf(b, ", \"predicted\": %lld},\n", (long long)p->base_argmax);
    nt_buf_printf(b, " \"runs\": %lld, \"seconds\": ", (long long)p->runs);
    nt_buf_json_double(b, c->ms / 1000.0);
    nt_buf_puts(b, ", \"ms_per_run\": ");
    nt_buf_json_double(b, p->runs ? p->run_ms / (double)p->runs : 0.0);
    nt_buf_puts(b, ",\n");
}

void nt_analyze_text_common(nt_analyze_ctx *c)
{
    nt_buf *t = &c->text;
    nt_probe *p = &c->probe;
    char shape[256], coords[256];
    shape_text(shape, sizeof shape, c->x->ndim, c->x->dims);
    nt_buf_printf(t, "analyze %s: %s\n", nt_analyze_method_name(c->o->method), c->model);
    nt_buf_printf(t, "  input   %s %s%s", c->in_vi.name, nt_dtype_name(c->x->dtype), shape);
    if (c->has_layout)
        nt_buf_printf(t, " layout %s", c->layout.spec);
    shape_text(shape, sizeof shape, p->base_out->ndim, p->base_out->dims);
    nt_feature_format(p->target, p->base_out->ndim, p->base_out->dims, coords, sizeof coords);
    nt_buf_printf(t, "\n  output  %s %s\n", c->out_vi.name, shape);
    nt_buf_printf(t, "  target  %s[%lld]%s%s%s = %.6g (%s)\n", c->out_vi.name, (long long)p->target,
                  p->base_out->ndim > 1 ? " at (" : "", p->base_out->ndim > 1 ? coords : "", p->base_out->ndim > 1 ? ")" : "",
                  p->base_score,
                  p->target_is_default ? (p->out_numel == 1 ? "the only output value" : "the argmax of the unperturbed output")
                                       : p->target == p->base_argmax ? "given by --target; also the predicted class"
                                                                     : "given by --target");
    if (!p->target_is_default && p->target != p->base_argmax)
        nt_buf_printf(t, "          (the predicted class is %lld)\n", (long long)p->base_argmax);
}

/* ---------------------------------------------------------------- methods */

nt_status nt_analyze_occlusion(nt_analyze_ctx *c)
{
    nt_buf *t = &c->text;
    nt_buf *b = &c->json;
    nt_occlusion_result r;
    nt_status st = nt_occlusion_run(&c->probe, &c->layout, &c->occ, &r);
    if (st != NT_OK)
        return st;
    c->ms = nt_now_ms() - c->ms;
    int64_t dims[2];
    int nd = map_dims(&c->layout, dims);
    if (c->o->out_dir && (st = save_npy(c, "map_npy", "occlusion.npy", r.map, nd, dims)) == NT_OK)
        st = save_pngs(c, "occlusion", r.map, true);
    if (st != NT_OK) {
        nt_occlusion_result_deinit(&r);
        return st;
    }
    nt_analyze_json_common(c);
    nt_buf_printf(b, " \"occlusion\": {\"window\": [%lld, %lld], \"stride\": [%lld, %lld], \"baseline\": ",
                  (long long)r.win_h, (long long)r.win_w, (long long)r.stride_h, (long long)r.stride_w);
    nt_buf_json_string(b, c->baseline);
    nt_buf_printf(b, ", \"windows\": %lld, \"map_shape\": ", (long long)r.windows);
    json_shape(b, nd, dims);
    nt_buf_puts(b, ", \"map_min\": ");
    nt_buf_json_double(b, r.map_min);
    nt_buf_puts(b, ", \"map_max\": ");
    nt_buf_json_double(b, r.map_max);
    nt_buf_printf(b, ", \"best_window\": {\"y\": %lld, \"x\": %lld, \"drop\": ", (long long)r.best_y,
                  (long long)r.best_x);
    nt_buf_json_double(b, r.best_drop);
    nt_buf_puts(b, "}, \"most_negative_drop\": ");
    nt_buf_json_double(b, r.worst_drop);
    nt_buf_puts(b, "},\n");
    nt_analyze_text_common(c);
    nt_buf_printf(t, "  window  %lldx%lld, stride %lldx%lld, baseline %s: %lld windows, %lld runs in %.2f s (%.2f ms/run)\n",
                  (long long)r.win_h, (long long)r.win_w, (long long)r.stride_h, (long long)r.stride_w,
                  c->occ.baseline == NT_BASELINE_MEAN ? "per-channel mean" : c->baseline,
                  (long long)r.windows, (long long)c->probe.runs, c->ms / 1000.0,
                  c->probe.runs ? c->probe.run_ms / (double)c->probe.runs : 0.0);
    nt_buf_printf(t, "  map     %s (%lld x %lld): drop of the target score from %.6g to %.6g\n",
                  c->layout.one_d ? "1-D" : "H x W", (long long)r.H, (long long)r.W, r.map_min, r.map_max);
    if (c->layout.one_d)
        nt_buf_printf(t, "  largest drop %.6g with positions %lld..%lld occluded", r.best_drop, (long long)r.best_x,
                      (long long)(r.best_x + r.win_w - 1));
    else
        nt_buf_printf(t, "  largest drop %.6g with rows %lld..%lld, columns %lld..%lld occluded", r.best_drop,
                      (long long)r.best_y, (long long)(r.best_y + r.win_h - 1), (long long)r.best_x,
                      (long long)(r.best_x + r.win_w - 1));
    nt_buf_printf(t, " (score %.6g -> %.6g)\n", c->probe.base_score, c->probe.base_score - r.best_drop);
    if (r.worst_drop < 0)
        nt_buf_printf(t, "  occluding raised the score by up to %.6g somewhere (negative map values)\n", -r.worst_drop);
    nt_occlusion_result_deinit(&r);
    return NT_OK;
}

nt_status nt_analyze_perturb(nt_analyze_ctx *c)
{
    nt_buf *t = &c->text;
    nt_buf *b = &c->json;
    nt_perturb_result r;
    nt_probe *p = &c->probe;
    if (c->pert.ranking == NT_RANKING_EXACT && p->numel > NT_PERTURB_EXACT_MAX && c->o->log)
        fprintf(c->o->log, "nntrace analyze: --ranking exact on %lld features takes %lld runs (about %.0f s here)\n",
                (long long)p->numel, 2 * (long long)p->numel, 2.0 * (double)p->numel * p->run_ms / 1000.0);
    nt_status st = nt_perturb_run(p, &c->pert, &r);
    if (st != NT_OK)
        return st;
    c->ms = nt_now_ms() - c->ms;
    float *sens = nt_malloc(sizeof(float) * (size_t)r.numel), *grad = nt_malloc(sizeof(float) * (size_t)r.numel);
    float *map = c->has_layout ? nt_malloc(sizeof(float) * (size_t)(c->layout.H * c->layout.W)) : NULL;
    if (!sens || !grad || (c->has_layout && !map)) {
        st = NT_ERR_NOMEM;
        goto out;
    }
    for (int64_t i = 0; i < r.numel; i++) {
        grad[i] = (float)r.grad[i];
        sens[i] = (float)fabs(r.grad[i]);
    }
    if (map)
        nt_layout_spatial_sum_abs(&c->layout, r.grad, map);
    if (c->o->out_dir) {
        int64_t dims[2];
        int nd = c->has_layout ? map_dims(&c->layout, dims) : 0;
        if ((st = save_npy(c, "gradient_npy", "gradient.npy", grad, c->x->ndim, c->x->dims)) == NT_OK &&
            (st = save_npy(c, "sensitivity_npy", "sensitivity.npy", sens, c->x->ndim, c->x->dims)) == NT_OK &&
            map && (st = save_npy(c, "map_npy", "sensitivity_map.npy", map, nd, dims)) == NT_OK)
            st = save_pngs(c, "sensitivity", map, false);
        if (st != NT_OK)
            goto out;
    }
    const char *how = r.exact ? "exact central finite differences" : "noise-correlation estimate";
    nt_analyze_json_common(c);
    nt_buf_printf(b, " \"perturb\": {\"seed\": %llu, \"trials\": %d, \"input_std\": ",
                  (unsigned long long)c->pert.seed, c->pert.trials);
    nt_buf_json_double(b, r.input_std);
    nt_buf_printf(b, ", \"input_std_fallback\": %s, \"scales\": [", r.input_std_fallback ? "true" : "false");
    for (int k = 0; k < r.n_scales; k++) {
        const nt_perturb_scale *s = &r.scales[k];
        nt_buf_puts(b, k ? ",\n   {\"scale\": " : "\n   {\"scale\": ");
        nt_buf_json_double(b, s->scale);
        nt_buf_puts(b, ", \"sigma\": ");
        nt_buf_json_double(b, s->sigma);
        nt_buf_puts(b, ", \"mean_abs_dtarget\": ");
        nt_buf_json_double(b, s->mean_abs_dtarget);
        nt_buf_puts(b, ", \"max_abs_dtarget\": ");
        nt_buf_json_double(b, s->max_abs_dtarget);
        nt_buf_puts(b, ", \"mean_dtarget\": ");
        nt_buf_json_double(b, s->mean_dtarget);
        nt_buf_puts(b, ", \"std_dtarget\": ");
        nt_buf_json_double(b, s->std_dtarget);
        nt_buf_puts(b, ", \"mean_abs_doutput\": ");
        nt_buf_json_double(b, s->mean_abs_doutput);
        nt_buf_printf(b, ", \"flips\": %d, \"flip_rate\": ", s->flips);
        nt_buf_json_double(b, (double)s->flips / s->trials);
        nt_buf_puts(b, "}");
    }
    nt_buf_printf(b, "],\n  \"ranking\": \"%s\", \"ranking_detail\": \"%s\", \"fd_step\": ",
                  r.exact ? "exact" : "noise", how);
    if (r.exact)
        nt_buf_json_double(b, r.fd_step);
    else
        nt_buf_puts(b, "null");
    nt_buf_puts(b, ", \"top\": [");
    int top = (int)NT_MIN((int64_t)c->o->top, r.numel);
    for (int k = 0; k < top; k++) {
        int64_t i = r.order[k];
        char coords[256];
        nt_feature_format(i, c->x->ndim, c->x->dims, coords, sizeof coords);
        nt_buf_printf(b, "%s{\"index\": %lld, \"coords\": [%s], \"gradient\": ", k ? ",\n   " : "\n   ",
                      (long long)i, coords);
        nt_buf_json_double(b, r.grad[i]);
        nt_buf_puts(b, ", \"value\": ");
        nt_buf_json_double(b, p->base_f64[i]);
        nt_buf_puts(b, "}");
    }
    nt_buf_puts(b, "]},\n");
    nt_analyze_text_common(c);
    nt_buf_printf(t, "  noise   std = scale x input std (%.6g%s), %d trials per scale, seed %llu\n", r.input_std,
                  r.input_std_fallback ? ": the input is constant, 1 used" : "", c->pert.trials,
                  (unsigned long long)c->pert.seed);
    nt_buf_printf(t, "  %8s %11s %13s %13s %13s %16s %s\n", "scale", "sigma", "mean|dtarget|", "max|dtarget|",
                  "mean dtarget", "mean|doutputs|", "class flips");
    for (int k = 0; k < r.n_scales; k++) {
        const nt_perturb_scale *s = &r.scales[k];
        nt_buf_printf(t, "  %8.4g %11.4g %13.6g %13.6g %13.6g %16.6g %d/%d (%.0f%%)\n", s->scale, s->sigma,
                      s->mean_abs_dtarget, s->max_abs_dtarget, s->mean_dtarget, s->mean_abs_doutput, s->flips,
                      s->trials, 100.0 * s->flips / s->trials);
    }
    if (r.exact)
        nt_buf_printf(t, "  features ranked by exact central finite differences (step %.4g, 2 runs per feature)\n",
                      r.fd_step);
    else
        nt_buf_printf(t, "  features ranked by a noise-correlation estimate from the %d trials (the input has %lld\n"
                      "  elements, too many for finite differences; the estimate sharpens with more --trials)\n",
                      r.n_scales * c->pert.trials, (long long)r.numel);
    if (top > 0)
        nt_buf_printf(t, "  %4s %10s %-20s %13s %13s\n", "rank", "index", "coords", "d target/dx", "value");
    for (int k = 0; k < top; k++) {
        int64_t i = r.order[k];
        char coords[256];
        nt_feature_format(i, c->x->ndim, c->x->dims, coords, sizeof coords);
        nt_buf_printf(t, "  %4d %10lld %-20s %13.6g %13.6g\n", k + 1, (long long)i, coords, r.grad[i], p->base_f64[i]);
    }
    nt_buf_printf(t, "  %lld runs in %.2f s (%.2f ms/run)\n", (long long)p->runs, c->ms / 1000.0,
                  p->runs ? p->run_ms / (double)p->runs : 0.0);
out:
    free(sens);
    free(grad);
    free(map);
    nt_perturb_result_deinit(&r);
    return st;
}

nt_status nt_analyze_sweep(nt_analyze_ctx *c)
{
    nt_buf *t = &c->text;
    nt_buf *b = &c->json;
    nt_probe *p = &c->probe;
    nt_sweep_options so = {0};
    nt_status st = nt_feature_parse(c->o->feature, c->x->ndim, c->x->dims, &so.feature);
    if (st != NT_OK)
        return st;
    double orig = p->base_f64[so.feature];
    if (c->o->has_range) {
        so.lo = c->o->lo;
        so.hi = c->o->hi;
        so.n = c->o->points;
    } else {
        /* around the value, on the input's own scale */
        double sd = nt_probe_input_std(p);
        sd = sd > 0 && isfinite(sd) ? sd : 1.0;
        so.lo = orig - 3 * sd;
        so.hi = orig + 3 * sd;
        so.n = 21;
    }
    nt_sweep_result r;
    if ((st = nt_sweep_run(p, &so, &r)) != NT_OK)
        return st;
    c->ms = nt_now_ms() - c->ms;
    char coords[256], label[300];
    nt_feature_format(so.feature, c->x->ndim, c->x->dims, coords, sizeof coords);
    snprintf(label, sizeof label, "%lld (%s)", (long long)so.feature, coords);
    if (c->o->out_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/sweep.csv", c->o->out_dir);
        if ((st = nt_sweep_write_csv(path, &r, c->out_vi.name, p->target)) == NT_OK) {
            add_file(c, "csv", "sweep.csv");
            snprintf(path, sizeof path, "%s/sweep.svg", c->o->out_dir);
            if ((st = nt_sweep_write_svg(path, &r, label, c->out_vi.name, p->target)) == NT_OK)
                add_file(c, "plot_svg", "sweep.svg");
        }
        if (st != NT_OK) {
            nt_sweep_result_deinit(&r);
            return st;
        }
    }
    double tmin = INFINITY, tmax = -INFINITY;
    int kmin = 0, kmax = 0;
    for (int k = 0; k < r.n; k++) {
        if (r.target[k] < tmin) {
            tmin = r.target[k];
            kmin = k;
        }
        if (r.target[k] > tmax) {
            tmax = r.target[k];
            kmax = k;
        }
    }
    nt_analyze_json_common(c);
    nt_buf_printf(b, " \"sweep\": {\"feature\": %lld, \"coords\": [%s], \"original\": ", (long long)so.feature,
                  coords);
    nt_buf_json_double(b, r.original);
    nt_buf_puts(b, ", \"range\": [");
    nt_buf_json_double(b, so.lo);
    nt_buf_puts(b, ", ");
    nt_buf_json_double(b, so.hi);
    nt_buf_printf(b, "], \"points\": %d, \"target_min\": ", r.n);
    nt_buf_json_double(b, tmin);
    nt_buf_puts(b, ", \"target_max\": ");
    nt_buf_json_double(b, tmax);
    /* the curve itself when it is short; sweep.csv always has it */
    if (r.n <= 200) {
        nt_buf_puts(b, ", \"values\": [");
        for (int k = 0; k < r.n; k++) {
            nt_buf_puts(b, k ? ", " : "");
            nt_buf_json_double(b, r.values[k]);
        }
        nt_buf_puts(b, "], \"target\": [");
        for (int k = 0; k < r.n; k++) {
            nt_buf_puts(b, k ? ", " : "");
            nt_buf_json_double(b, r.target[k]);
        }
        nt_buf_puts(b, "]");
    }
    nt_buf_puts(b, "},\n");
    nt_analyze_text_common(c);
    nt_buf_printf(t, "  feature %s = %.6g, swept over [%.6g, %.6g] in %d points\n", label, r.original, so.lo, so.hi, r.n);
    nt_buf_printf(t, "  target from %.6g (at %.6g) to %.6g (at %.6g)\n", tmin, r.values[kmin], tmax, r.values[kmax]);
    int step = r.n > 11 ? (r.n - 1) / 10 : 1;
    nt_buf_printf(t, "  %13s %13s\n", "value", "target");
    for (int k = 0; k < r.n; k += step)
        nt_buf_printf(t, "  %13.6g %13.6g\n", r.values[k], r.target[k]);
    if ((r.n - 1) % step)
        nt_buf_printf(t, "  %13.6g %13.6g\n", r.values[r.n - 1], r.target[r.n - 1]);
    nt_buf_printf(t, "  %lld runs in %.2f s\n", (long long)p->runs, c->ms / 1000.0);
    nt_sweep_result_deinit(&r);
    return NT_OK;
}

