/*
 * sensitivity.c — what the analyzer's methods share (see sensitivity.h):
 * the probe that re-runs a session on an edited copy of one input and reads
 * the target score, spatial layouts of inputs, a seeded normal generator,
 * and feature coordinates.
 */
#include "analyze/sensitivity.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- layout */

/* Picks a layout for a shape when none is given; see nt_layout_init. */
static const char *auto_layout(int ndim, const int64_t *dims)
{
    switch (ndim) {
    case 4: return dims[3] <= 4 && dims[1] > 4 ? "NHWC" : "NCHW";
    case 3: return dims[2] <= 4 && dims[0] > 4 ? "HWC" : "CHW";
    case 2: return dims[0] == 1 ? "NL" : "HW";
    case 1: return "L";
    default: return NULL;
    }
}

nt_status nt_layout_init(const char *spec, int ndim, const int64_t *dims, nt_layout *out)
{
    memset(out, 0, sizeof *out);
    if (ndim < 1 || ndim > NT_MAX_DIMS)
        return nt_error(NT_ERR_SHAPE, "analyze: the input has rank %d; spatial analysis needs rank 1 to 4 "
                                      "(or a --layout naming its axes)", ndim);
    if (!spec || !spec[0]) {
        spec = auto_layout(ndim, dims);
        if (!spec)
            return nt_error(NT_ERR_SHAPE, "analyze: no default layout for a rank-%d input; give --layout "
                                          "(letters N, C, H, W or L, one per axis)", ndim);
    }
    if ((int)strlen(spec) != ndim)
        return nt_error(NT_ERR_INVALID_ARG, "analyze: layout '%s' has %zu letters for a rank-%d input", spec,
                        strlen(spec), ndim);
    out->rank = ndim;
    out->c_axis = out->h_axis = out->w_axis = -1;
    int l_axis = -1;
    int64_t stride[NT_MAX_DIMS];
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        stride[d] = s;
        s *= dims[d];
    }
    for (int d = 0; d < ndim; d++) {
        char c = (char)toupper((unsigned char)spec[d]);
        out->spec[d] = c;
        int *slot = c == 'C' ? &out->c_axis : c == 'H' ? &out->h_axis : c == 'W' ? &out->w_axis
                  : c == 'L' ? &l_axis : NULL;
        if (c == 'N') {
            if (dims[d] != 1)
                return nt_error(NT_ERR_SHAPE, "analyze: the batch axis (N, axis %d) has size %lld; analyze one "
                                              "sample at a time (size 1)", d, (long long)dims[d]);
            continue;
        }
        if (!slot)
            return nt_error(NT_ERR_INVALID_ARG, "analyze: layout '%s': '%c' is not one of N, C, H, W, L", spec,
                            spec[d]);
        if (*slot >= 0)
            return nt_error(NT_ERR_INVALID_ARG, "analyze: layout '%s' names '%c' twice", spec, c);
        *slot = d;
    }
    if (l_axis >= 0 && (out->h_axis >= 0 || out->w_axis >= 0))
        return nt_error(NT_ERR_INVALID_ARG, "analyze: layout '%s' mixes L with H/W", spec);
    if (l_axis >= 0) {
        out->w_axis = l_axis;
        out->one_d = true;
    } else if (out->h_axis < 0 || out->w_axis < 0) {
        return nt_error(NT_ERR_INVALID_ARG, "analyze: layout '%s' needs both H and W (or one L axis)", spec);
    }
    out->C = out->c_axis >= 0 ? dims[out->c_axis] : 1;
    out->H = out->h_axis >= 0 ? dims[out->h_axis] : 1;
    out->W = dims[out->w_axis];
    out->cs = out->c_axis >= 0 ? stride[out->c_axis] : 0;
    out->hs = out->h_axis >= 0 ? stride[out->h_axis] : 0;
    out->ws = stride[out->w_axis];
    if (out->C < 1 || out->H < 1 || out->W < 1)
        return nt_error(NT_ERR_SHAPE, "analyze: the input has an empty axis");
    return NT_OK;
}

bool nt_layout_is_image(const nt_layout *l)
{
    return !l->one_d && (l->C == 1 || l->C == 3) && l->H > 1 && l->W > 1;
}

void nt_layout_spatial_sum_abs(const nt_layout *l, const double *v, float *map)
{
    for (int64_t h = 0; h < l->H; h++)
        for (int64_t w = 0; w < l->W; w++) {
            double acc = 0;
            for (int64_t c = 0; c < l->C; c++)
                acc += fabs(v[nt_layout_offset(l, c, h, w)]);
            map[h * l->W + w] = (float)acc;
        }
}

/* ---------------------------------------------------------------- rng */

void nt_rng_seed(nt_rng *r, uint64_t seed)
{
    r->state = seed;
    r->has_spare = false;
    r->spare = 0;
}

uint64_t nt_rng_u64(nt_rng *r)
{
    /* splitmix64: seedable, passes BigCrush, one add and three mixes */
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double nt_rng_normal(nt_rng *r)
{
    if (r->has_spare) {
        r->has_spare = false;
        return r->spare;
    }
    /* Box-Muller; u1 in (0, 1] so log() is finite */
    double u1 = ((double)(nt_rng_u64(r) >> 11) + 1.0) / 9007199254740992.0;
    double u2 = (double)(nt_rng_u64(r) >> 11) / 9007199254740992.0;
    double rad = sqrt(-2.0 * log(u1)), th = 2.0 * M_PI * u2;
    r->spare = rad * sin(th);
    r->has_spare = true;
    return rad * cos(th);
}

/* ---------------------------------------------------------------- probe */

int64_t nt_tensor_argmax(const nt_tensor *t)
{
    int64_t n = nt_tensor_numel(t), best = -1;
    double bv = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(t, i);
        if (!isnan(v) && (best < 0 || v > bv)) {
            bv = v;
            best = i;
        }
    }
    return best < 0 ? 0 : best;
}

double nt_probe_score(const nt_probe *p, const nt_tensor *out)
{
    if (nt_tensor_numel(out) != p->out_numel)
        return NAN;
    return nt_tensor_get_f64(out, p->target);
}

void nt_probe_deinit(nt_probe *p)
{
    free(p->input_name);
    nt_tensor_free(p->base);
    nt_tensor_free(p->work);
    nt_tensor_free(p->base_out);
    free(p->base_f64);
    memset(p, 0, sizeof *p);
}

void nt_probe_reset(nt_probe *p) { memcpy(p->work->data, p->base->data, nt_tensor_nbytes(p->base)); }

nt_status nt_probe_run(nt_probe *p, const nt_tensor **out)
{
    double t0 = nt_now_ms();
    nt_status st = nt_session_set_input(p->session, p->input_name, p->work);
    if (st == NT_OK)
        st = nt_session_run(p->session);
    if (st == NT_OK)
        st = nt_session_get_output(p->session, p->output_index, out);
    p->run_ms += nt_now_ms() - t0;
    p->runs++;
    if (st != NT_OK)
        return nt_error_wrap(st, "analyze: run %lld", (long long)p->runs);
    if (nt_tensor_numel(*out) != p->out_numel)
        return nt_error(NT_ERR_SHAPE, "analyze: the output changed size (%lld elements, was %lld) under an "
                                      "edited input", (long long)nt_tensor_numel(*out), (long long)p->out_numel);
    return NT_OK;
}

double nt_probe_input_std(const nt_probe *p)
{
    double mean = 0, m2 = 0;
    /* Welford: stable for large inputs with a large mean */
    for (int64_t i = 0; i < p->numel; i++) {
        double d = p->base_f64[i] - mean;
        mean += d / (double)(i + 1);
        m2 += d * (p->base_f64[i] - mean);
    }
    return p->numel ? sqrt(m2 / (double)p->numel) : 0;
}

nt_status nt_probe_init(nt_probe *p, nt_session *s, const char *input_name, const nt_tensor *x,
                        int output_index, int64_t target)
{
    memset(p, 0, sizeof *p);
    p->session = s;
    p->output_index = output_index;
    if (x->dtype != NT_DTYPE_FLOAT && x->dtype != NT_DTYPE_DOUBLE && x->dtype != NT_DTYPE_FLOAT16)
        return nt_error(NT_ERR_UNSUPPORTED, "analyze: input '%s' is %s; the analyzer edits floating-point "
                                            "inputs only (float32, float64, float16)", input_name,
                        nt_dtype_name(x->dtype));
    p->numel = nt_tensor_numel(x);
    if (p->numel < 1)
        return nt_error(NT_ERR_SHAPE, "analyze: input '%s' is empty", input_name);
    nt_status st;
    if (!(p->input_name = nt_strdup(input_name)))
        return NT_ERR_NOMEM;
    if ((st = nt_tensor_clone(x, &p->base)) != NT_OK || (st = nt_tensor_clone(x, &p->work)) != NT_OK)
        return st;
    if (!(p->base_f64 = nt_malloc(sizeof(double) * (size_t)p->numel)))
        return NT_ERR_NOMEM;
    for (int64_t i = 0; i < p->numel; i++)
        p->base_f64[i] = nt_tensor_get_f64(x, i);
    p->out_numel = -1;
    const nt_tensor *out;
    double t0 = nt_now_ms();
    st = nt_session_set_input(s, input_name, x);
    if (st == NT_OK)
        st = nt_session_run(s);
    if (st == NT_OK)
        st = nt_session_get_output(s, output_index, &out);
    p->run_ms = nt_now_ms() - t0;
    p->runs = 1;
    if (st != NT_OK)
        return st;
    if (!nt_dtype_is_numeric(out->dtype))
        return nt_error(NT_ERR_UNSUPPORTED, "analyze: output %d is %s, not numeric", output_index,
                        nt_dtype_name(out->dtype));
    p->out_numel = nt_tensor_numel(out);
    if (p->out_numel < 1)
        return nt_error(NT_ERR_SHAPE, "analyze: output %d is empty", output_index);
    if ((st = nt_tensor_clone(out, &p->base_out)) != NT_OK)
        return st;
    p->base_argmax = nt_tensor_argmax(out);
    if (target >= p->out_numel)
        return nt_error(NT_ERR_INVALID_ARG, "analyze: --target %lld is out of range: the output has %lld "
                                            "element%s", (long long)target, (long long)p->out_numel,
                        p->out_numel == 1 ? "" : "s");
    p->target_is_default = target < 0;
    p->target = target < 0 ? p->base_argmax : target;
    p->base_score = nt_tensor_get_f64(out, p->target);
    return NT_OK;
}

/* ---------------------------------------------------------------- features */

nt_status nt_feature_parse(const char *s, int ndim, const int64_t *dims, int64_t *flat)
{
    int64_t coord[NT_MAX_DIMS];
    int n = 0;
    const char *q = s;
    while (*q) {
        char *end;
        if (n >= NT_MAX_DIMS || !(isdigit((unsigned char)*q)))
            return nt_error(NT_ERR_INVALID_ARG, "--feature '%s': expected a flat index or comma coordinates", s);
        long long v = strtoll(q, &end, 10);
        coord[n++] = v;
        q = end;
        if (*q == ',' && q[1])
            q++;
        else if (*q)
            return nt_error(NT_ERR_INVALID_ARG, "--feature '%s': expected a flat index or comma coordinates", s);
    }
    if (n == 0)
        return nt_error(NT_ERR_INVALID_ARG, "--feature is empty");
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++)
        numel *= dims[d];
    if (n == 1) {
        if (coord[0] >= numel)
            return nt_error(NT_ERR_INVALID_ARG, "--feature %lld is out of range: the input has %lld elements",
                            (long long)coord[0], (long long)numel);
        *flat = coord[0];
        return NT_OK;
    }
    if (n != ndim)
        return nt_error(NT_ERR_INVALID_ARG, "--feature '%s' has %d coordinates for a rank-%d input", s, n, ndim);
    int64_t f = 0;
    for (int d = 0; d < ndim; d++) {
        if (coord[d] >= dims[d])
            return nt_error(NT_ERR_INVALID_ARG, "--feature '%s': coordinate %d is %lld, the axis has size %lld", s,
                            d, (long long)coord[d], (long long)dims[d]);
        f = f * dims[d] + coord[d];
    }
    *flat = f;
    return NT_OK;
}

void nt_feature_format(int64_t flat, int ndim, const int64_t *dims, char *buf, size_t len)
{
    int64_t c[NT_MAX_DIMS];
    for (int d = ndim - 1; d >= 0; d--) {
        c[d] = dims[d] > 0 ? flat % dims[d] : 0;
        flat = dims[d] > 0 ? flat / dims[d] : 0;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < ndim && used < len; d++)
        used += (size_t)snprintf(buf + used, len - used, "%s%lld", d ? "," : "", (long long)c[d]);
}
