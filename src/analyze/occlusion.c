/*
 * occlusion.c — occlusion sensitivity (see sensitivity.h): a window slides
 * over the input's spatial axes (all channels at once), the covered values
 * are replaced by a baseline, and the drop of the target score is recorded.
 * Each position of the map is the mean drop over the windows that cover it,
 * so with a stride smaller than the window the map is smoother than the
 * window grid.  A positive value means hiding that region lowers the target
 * score (the model relies on it); a negative one means hiding it helps.
 */
#include "analyze/sensitivity.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nt_occlusion_defaults(const nt_layout *l, nt_occlusion_options *o)
{
    /* about an eighth of each side: coarse enough to change a CNN's mind,
     * fine enough to localize; half-window strides give 2x2 coverage */
    if (o->win_h <= 0)
        o->win_h = l->one_d ? 1 : NT_MAX((int64_t)1, (l->H + 4) / 8);
    if (o->win_w <= 0)
        o->win_w = NT_MAX((int64_t)1, (l->W + 4) / 8);
    if (o->stride_h <= 0)
        o->stride_h = NT_MAX((int64_t)1, o->win_h / 2);
    if (o->stride_w <= 0)
        o->stride_w = NT_MAX((int64_t)1, o->win_w / 2);
}

/* Window starts along an axis of size n: 0, s, 2s, ... and one flush with
 * the far edge when the stride does not land there.  Returns the count;
 * starts (may be NULL) receives them. */
static int64_t window_starts(int64_t n, int64_t k, int64_t s, int64_t *starts)
{
    int64_t c = 0, pos = 0;
    for (; pos + k <= n; pos += s) {
        if (starts)
            starts[c] = pos;
        c++;
    }
    if (c == 0 || (pos - s) + k < n) {
        if (starts)
            starts[c] = n - k;
        c++;
    }
    return c;
}

void nt_occlusion_result_deinit(nt_occlusion_result *r)
{
    free(r->map);
    memset(r, 0, sizeof *r);
}

nt_status nt_occlusion_run(nt_probe *p, const nt_layout *l, const nt_occlusion_options *opt,
                           nt_occlusion_result *out)
{
    memset(out, 0, sizeof *out);
    nt_occlusion_options o = *opt;
    nt_occlusion_defaults(l, &o);
    if (o.win_h > l->H || o.win_w > l->W)
        return nt_error(NT_ERR_INVALID_ARG, "occlusion: the window %lldx%lld does not fit the %lldx%lld input",
                        (long long)o.win_h, (long long)o.win_w, (long long)l->H, (long long)l->W);
    out->H = l->H;
    out->W = l->W;
    out->win_h = o.win_h;
    out->win_w = o.win_w;
    out->stride_h = o.stride_h;
    out->stride_w = o.stride_w;
    int64_t ny = window_starts(l->H, o.win_h, o.stride_h, NULL);
    int64_t nx = window_starts(l->W, o.win_w, o.stride_w, NULL);
    size_t area = (size_t)(l->H * l->W);
    int64_t *ys = nt_malloc(sizeof(int64_t) * (size_t)ny), *xs = nt_malloc(sizeof(int64_t) * (size_t)nx);
    double *acc = nt_calloc(area, sizeof(double)), *base_c = nt_calloc((size_t)l->C, sizeof(double));
    int32_t *cnt = nt_calloc(area, sizeof(int32_t));
    out->map = nt_malloc(sizeof(float) * area);
    nt_status st = NT_OK;
    if (!ys || !xs || !acc || !cnt || !base_c || !out->map) {
        st = NT_ERR_NOMEM;
        goto done;
    }
    window_starts(l->H, o.win_h, o.stride_h, ys);
    window_starts(l->W, o.win_w, o.stride_w, xs);
    /* the replacement value per channel */
    for (int64_t c = 0; c < l->C; c++) {
        if (o.baseline == NT_BASELINE_MEAN) {
            double sum = 0;
            for (int64_t h = 0; h < l->H; h++)
                for (int64_t w = 0; w < l->W; w++)
                    sum += p->base_f64[nt_layout_offset(l, c, h, w)];
            base_c[c] = sum / (double)area;
        } else {
            base_c[c] = o.baseline_value;
        }
    }
    size_t esz = nt_dtype_size(p->work->dtype);
    char *work = p->work->data;
    const char *orig = p->base->data;
    nt_probe_reset(p);
    out->windows = ny * nx;
    out->best_drop = -INFINITY;
    out->worst_drop = INFINITY;
    int64_t done = 0;
    for (int64_t iy = 0; iy < ny && st == NT_OK; iy++) {
        for (int64_t ix = 0; ix < nx && st == NT_OK; ix++) {
            int64_t y0 = ys[iy], x0 = xs[ix];
            for (int64_t c = 0; c < l->C; c++)
                for (int64_t h = y0; h < y0 + o.win_h; h++)
                    for (int64_t w = x0; w < x0 + o.win_w; w++)
                        nt_tensor_set_f64(p->work, nt_layout_offset(l, c, h, w), base_c[c]);
            const nt_tensor *y;
            if ((st = nt_probe_run(p, &y)) != NT_OK)
                break;
            double drop = p->base_score - nt_probe_score(p, y);
            if (drop > out->best_drop) {
                out->best_drop = drop;
                out->best_y = y0;
                out->best_x = x0;
            }
            if (drop < out->worst_drop)
                out->worst_drop = drop;
            for (int64_t h = y0; h < y0 + o.win_h; h++)
                for (int64_t w = x0; w < x0 + o.win_w; w++) {
                    acc[h * l->W + w] += drop;
                    cnt[h * l->W + w]++;
                }
            /* restore the window bit for bit from the base input */
            for (int64_t c = 0; c < l->C; c++)
                for (int64_t h = y0; h < y0 + o.win_h; h++)
                    for (int64_t w = x0; w < x0 + o.win_w; w++) {
                        size_t off = (size_t)nt_layout_offset(l, c, h, w) * esz;
                        memcpy(work + off, orig + off, esz);
                    }
            done++;
            if (p->progress)
                p->progress(p->progress_user, "windows", done, out->windows);
        }
    }
    if (st != NT_OK)
        goto done;
    out->map_min = INFINITY;
    out->map_max = -INFINITY;
    for (size_t i = 0; i < area; i++) {
        double v = cnt[i] ? acc[i] / cnt[i] : 0.0;
        out->map[i] = (float)v;
        if (v < out->map_min)
            out->map_min = v;
        if (v > out->map_max)
            out->map_max = v;
    }
done:
    free(ys);
    free(xs);
    free(acc);
    free(cnt);
    free(base_c);
    if (st != NT_OK)
        nt_occlusion_result_deinit(out);
    return st;
}
