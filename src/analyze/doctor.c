/*
 * doctor.c — the checks behind `nntrace doctor` (see doctor.h).
 *
 * One tracer watches every node of every run and keeps, per node output, the
 * little it needs: non-finite counts and where the first one came from,
 * which units of a ReLU-like output ever fired, how many outputs of a
 * squashing activation sat at its rails, and the largest magnitude.  The
 * findings are built from that at the end, so a data set of any size costs
 * memory proportional to the model, not to the data.
 */
#include "analyze/doctor.h"
#include "trace/tstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROPAGATORS_LISTED 20

typedef struct out_rec {
    char *node, *op, *output;
    int index, depth;
    int64_t runs_seen;
    /* non-finite */
    int64_t nan, inf, elements;
    int64_t origin_runs;         /* runs in which this node created non-finite values */
    int64_t first_origin_run;    /* -1 if never */
    bool propagated;             /* had non-finite inputs and outputs */
    char *origin_detail;         /* the first origin's explanation */
    bool origin_is_nan;
    bool fp16_overflow;          /* the origin is a float16 output whose Inf came from finite inputs */
    /* dead units (ReLU-like outputs) */
    bool relu_like;
    int unit_axis;
    int64_t units;
    uint8_t *ever_active;
    bool units_mismatch;
    /* saturation */
    int sat_kind;                /* 0 none, 1 sigmoid, 2 tanh, 3 softmax, 4 hardsigmoid */
    int64_t sat_count, sat_total;
    double absmax;
    bool feeds_graph_output;
} out_rec;

struct nt_doctor {
    const nt_model *model;
    nt_doctor_options opt;
    nt_tracer tracer;
    out_rec *recs;
    int n_recs, cap_recs;
    int runs;
    nt_status err;
    nt_finding *findings;
    int n_findings, cap_findings;
    /* static findings are kept apart and appended at the end */
    nt_finding *statics;
    int n_statics, cap_statics;
};

const char *nt_severity_name(nt_severity s)
{
    return s == NT_SEV_ERROR ? "error" : s == NT_SEV_WARNING ? "warning" : "info";
}

int nt_doctor_runs(const nt_doctor *d) { return d->runs; }

/* ------------------------------------------------------------ helpers */

static char *fmt_dup(const char *fmt, ...) NT_PRINTF(1, 2);
static char *fmt_dup(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return nt_strdup(buf);
}

static bool is_float_tensor(const nt_tensor *t)
{
    return t && t->data && nt_dtype_is_float(t->dtype) && t->ndim >= 0;
}

/* Number of NaN and Inf elements; *first gets the flat index of the first. */
static void count_nonfinite(const nt_tensor *t, int64_t *nan, int64_t *inf, int64_t *first)
{
    *nan = *inf = 0;
    *first = -1;
    if (!is_float_tensor(t))
        return;
    int64_t n = nt_tensor_numel(t);
    if (t->dtype == NT_DTYPE_FLOAT) {
        const float *x = t->data;
        for (int64_t i = 0; i < n; i++) {
            if (isfinite(x[i]))
                continue;
            if (isnan(x[i]))
                (*nan)++;
            else
                (*inf)++;
            if (*first < 0)
                *first = i;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(t, i);
        if (isfinite(v))
            continue;
        if (isnan(v))
            (*nan)++;
        else
            (*inf)++;
        if (*first < 0)
            *first = i;
    }
}

static void coords_of(const nt_tensor *t, int64_t flat, int64_t *c)
{
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t n = t->dims[d] > 0 ? t->dims[d] : 1;
        c[d] = flat % n;
        flat /= n;
    }
}

static void coords_str(const nt_tensor *t, const int64_t *c, char *buf, size_t len)
{
    size_t off = 0;
    off += (size_t)snprintf(buf, len, "[");
    for (int d = 0; d < t->ndim && off < len; d++)
        off += (size_t)snprintf(buf + off, len - off, "%s%lld", d ? "," : "", (long long)c[d]);
    if (off < len)
        snprintf(buf + off, len - off, "]");
}

/* If `in` broadcasts to `out` (numpy rules), its flat index for output coords c. */
static bool broadcast_index(const nt_tensor *in, const nt_tensor *out, const int64_t *c, int64_t *flat)
{
    if (in->ndim > out->ndim)
        return false;
    int shift = out->ndim - in->ndim;
    int64_t f = 0;
    for (int d = 0; d < in->ndim; d++) {
        int64_t od = out->dims[d + shift], id = in->dims[d];
        if (id != od && id != 1)
            return false;
        f = f * id + (id == 1 ? 0 : c[d + shift]);
    }
    *flat = f;
    return true;
}

static bool op_is(const char *op, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(op, list[i]) == 0)
            return true;
    return false;
}

/* ------------------------------------------------------------ records */

static const nt_value *find_top_value(const nt_model *m, const char *name)
{
    int v = nt_graph_find_value(m->graph, name);
    return v >= 0 ? &m->graph->values[v] : NULL;
}

/* Unit axis of a ReLU-like output: channels (axis 1) after convolution-like
 * producers or for rank >= 4, else the last axis (features of dense layers
 * and transformers). */
static int unit_axis_for(const nt_model *m, const nt_node_view *v, const nt_tensor *t)
{
    if (t->ndim <= 1)
        return 0;
    if (t->ndim >= 4)
        return 1;
    static const char *const chan_ops[] = {"Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization",
                                           "GroupNormalization", "MaxPool", "AveragePool", "ConvInteger"};
    if (v->n_inputs > 0 && v->input_names[0][0]) {
        const nt_value *val = find_top_value(m, v->input_names[0]);
        if (val && val->producer >= 0 && v->depth == 0 &&
            op_is(m->graph->nodes[val->producer].op_type, chan_ops, NT_ARRAY_LEN(chan_ops)))
            return 1;
    }
    return t->ndim - 1;
}

static bool relu_like(const nt_node_view *v)
{
    static const char *const ops[] = {"Relu", "ThresholdedRelu", "HardSwish"};
    if (op_is(v->op_type, ops, NT_ARRAY_LEN(ops)))
        return true;
    /* Clip with a lower bound of 0 (ReLU6 and friends) */
    if (strcmp(v->op_type, "Clip") == 0 && v->n_inputs >= 2 && v->inputs[1] && nt_tensor_numel(v->inputs[1]) == 1)
        return nt_tensor_get_f64(v->inputs[1], 0) == 0.0;
    return false;
}

static int sat_kind_of(const char *op)
{
    if (strcmp(op, "Sigmoid") == 0)
        return 1;
    if (strcmp(op, "Tanh") == 0)
        return 2;
    if (strcmp(op, "Softmax") == 0)
        return 3;
    if (strcmp(op, "HardSigmoid") == 0)
        return 4;
    return 0;
}

static out_rec *get_rec(nt_doctor *d, const nt_node_view *v, int k)
{
    for (int i = 0; i < d->n_recs; i++) {
        out_rec *r = &d->recs[i];
        if (r->index == v->index && r->depth == v->depth && strcmp(r->output, v->output_names[k]) == 0)
            return r;
    }
    if (d->n_recs == d->cap_recs) {
        int cap = d->cap_recs ? d->cap_recs * 2 : 256;
        out_rec *nr = nt_realloc(d->recs, (size_t)cap * sizeof *nr);
        if (!nr)
            return NULL;
        d->recs = nr;
        d->cap_recs = cap;
    }
    out_rec *r = &d->recs[d->n_recs];
    memset(r, 0, sizeof *r);
    r->node = nt_strdup(v->name);
    r->op = nt_strdup(v->op_type);
    r->output = nt_strdup(v->output_names[k]);
    if (!r->node || !r->op || !r->output) {
        free(r->node);
        free(r->op);
        free(r->output);
        return NULL;
    }
    r->index = v->index;
    r->depth = v->depth;
    r->first_origin_run = -1;
    r->unit_axis = -1;
    const nt_value *val = v->depth == 0 ? find_top_value(d->model, v->output_names[k]) : NULL;
    r->feeds_graph_output = val && val->is_graph_output;
    d->n_recs++;
    return r;
}

/* ------------------------------------------------------------ observation */

static void observe_nonfinite(nt_doctor *d, const nt_node_view *v, int k, out_rec *r, const nt_tensor *t)
{
    int64_t nan, inf, first;
    count_nonfinite(t, &nan, &inf, &first);
    r->nan += nan;
    r->inf += inf;
    r->elements += nt_tensor_numel(t);
    if (nan + inf == 0)
        return;
    bool inputs_bad = false;
    for (int i = 0; i < v->n_inputs && !inputs_bad; i++) {
        int64_t in_nan, in_inf, in_first;
        count_nonfinite(v->inputs[i], &in_nan, &in_inf, &in_first);
        inputs_bad = in_nan + in_inf > 0;
    }
    if (inputs_bad) {
        r->propagated = true;
        return;
    }
    r->origin_runs++;
    if (r->first_origin_run >= 0)
        return;
    r->first_origin_run = d->runs - 1;
    r->origin_is_nan = nan > 0;
    int64_t c[NT_MAX_DIMS];
    char where[256];
    coords_of(t, first, c);
    coords_str(t, c, where, sizeof where);
    nt_buf b;
    nt_buf_init(&b);
    double bad = nt_tensor_get_f64(t, first);
    /* Inf in a float16 tensor from finite inputs is float16's range running
     * out: the float32 result was beyond 65504 (a Cast to float16 of such a
     * value, or an op computed in float32 and rounded to float16). */
    r->fp16_overflow = t->dtype == NT_DTYPE_FLOAT16 && isinf(bad);
    if (r->fp16_overflow)
        nt_buf_printf(&b, "float16 overflow: %s", strcmp(v->op_type, "Cast") == 0 || strcmp(v->op_type, "CastLike") == 0
                                                      ? "a value beyond 65504, the largest float16, cast to float16; "
                                                      : "the result exceeds 65504, the largest float16; ");
    nt_buf_printf(&b, "%s produced %lld NaN and %lld Inf of %lld values from finite inputs; first at %s = %g",
                  v->op_type, (long long)nan, (long long)inf, (long long)nt_tensor_numel(t), where, nt_printable(bad));
    /* Element-wise: show the inputs at that element (e.g. Log of -3.2). */
    bool elementwise = v->n_inputs > 0;
    int64_t flats[16];
    for (int i = 0; i < v->n_inputs && i < 16 && elementwise; i++)
        elementwise = v->inputs[i] ? broadcast_index(v->inputs[i], t, c, &flats[i]) : true;
    if (elementwise && v->n_inputs <= 16) {
        nt_buf_printf(&b, " (%s of", v->op_type);
        for (int i = 0; i < v->n_inputs; i++)
            if (v->inputs[i])
                nt_buf_printf(&b, "%s %s=%g", i ? "," : "", v->input_names[i],
                              nt_printable(nt_tensor_get_f64(v->inputs[i], flats[i])));
        nt_buf_puts(&b, ")");
    } else {
        nt_buf_puts(&b, "; input ranges:");
        for (int i = 0; i < v->n_inputs; i++) {
            if (!v->inputs[i] || !v->inputs[i]->data)
                continue;
            nt_tstats s;
            if (nt_tstats_init(&s, false) != NT_OK)
                continue;
            nt_tstats_add(&s, v->inputs[i]);
            nt_buf_printf(&b, " %s [%g, %g]", v->input_names[i], nt_printable(s.min), nt_printable(s.max));
        }
    }
    if (d->runs > 1)
        nt_buf_printf(&b, " (sample %d)", d->runs - 1);
    r->origin_detail = b.data ? nt_strdup(b.data) : NULL;
    nt_buf_deinit(&b);
}

static void observe_dead(nt_doctor *d, const nt_node_view *v, out_rec *r, const nt_tensor *t)
{
    if (!relu_like(v) || !is_float_tensor(t) || t->ndim < 1)
        return;
    if (r->unit_axis < 0) {
        r->relu_like = true;
        r->unit_axis = unit_axis_for(d->model, v, t);
        r->units = t->dims[r->unit_axis];
        r->ever_active = nt_calloc((size_t)(r->units > 0 ? r->units : 1), 1);
        if (!r->ever_active) {
            d->err = NT_ERR_NOMEM;
            return;
        }
    }
    if (t->dims[r->unit_axis] != r->units) {
        r->units_mismatch = true;
        return;
    }
    int64_t outer = 1, inner = 1;
    for (int k = 0; k < r->unit_axis; k++)
        outer *= t->dims[k];
    for (int k = r->unit_axis + 1; k < t->ndim; k++)
        inner *= t->dims[k];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t u = 0; u < r->units; u++) {
            if (r->ever_active[u])
                continue;
            int64_t base = (o * r->units + u) * inner;
            for (int64_t i = 0; i < inner; i++)
                if (nt_tensor_get_f64(t, base + i) > 0) {
                    r->ever_active[u] = 1;
                    break;
                }
        }
}

static void observe_saturation(const nt_node_view *v, out_rec *r, const nt_tensor *t)
{
    int kind = sat_kind_of(v->op_type);
    if (!kind || !is_float_tensor(t))
        return;
    r->sat_kind = kind;
    int64_t n = nt_tensor_numel(t);
    if (kind == 3) { /* rows along the last axis whose largest probability is >= 0.99 */
        int64_t C = t->ndim > 0 ? t->dims[t->ndim - 1] : 1;
        if (C <= 1)
            return;
        for (int64_t row = 0; row < n / C; row++) {
            double mx = 0;
            for (int64_t c = 0; c < C; c++)
                mx = fmax(mx, nt_tensor_get_f64(t, row * C + c));
            r->sat_count += mx >= 0.99;
            r->sat_total++;
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double y = nt_tensor_get_f64(t, i);
        bool sat = kind == 1 ? (y < 0.01 || y > 0.99) : kind == 2 ? fabs(y) > 0.99 : (y <= 0.0 || y >= 1.0);
        r->sat_count += sat;
    }
    r->sat_total += n;
}

static nt_action doctor_run_begin(void *user, nt_session *s)
{
    ((nt_doctor *)user)->runs++;
    return NT_ACTION_CONTINUE;
}

static nt_action doctor_node_end(void *user, nt_session *s, const nt_node_view *v)
{
    nt_doctor *d = user;
    for (int k = 0; k < v->n_outputs; k++) {
        const nt_tensor *t = v->outputs[k];
        if (!t || !v->output_names[k][0] || nt_value_is_container(t) || !is_float_tensor(t))
            continue;
        out_rec *r = get_rec(d, v, k);
        if (!r) {
            d->err = nt_error(NT_ERR_NOMEM, "out of memory in doctor");
            return NT_ACTION_STOP;
        }
        r->runs_seen++;
        observe_nonfinite(d, v, k, r, t);
        observe_dead(d, v, r, t);
        observe_saturation(v, r, t);
        nt_tstats st;
        if (nt_tstats_init(&st, false) == NT_OK) {
            nt_tstats_add(&st, t);
            if (st.finite && fmax(fabs(st.min), fabs(st.max)) > r->absmax)
                r->absmax = fmax(fabs(st.min), fabs(st.max));
        }
    }
    return d->err == NT_OK ? NT_ACTION_CONTINUE : NT_ACTION_STOP;
}

/* ------------------------------------------------------------ findings */

static nt_finding *push_finding(nt_finding **arr, int *n, int *cap)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 32;
        nt_finding *na = nt_realloc(*arr, (size_t)nc * sizeof *na);
        if (!na)
            return NULL;
        *arr = na;
        *cap = nc;
    }
    nt_finding *f = &(*arr)[(*n)++];
    memset(f, 0, sizeof *f);
    return f;
}

static nt_finding *add(nt_doctor *d, const char *kind, nt_severity sev, const out_rec *r)
{
    nt_finding *f = push_finding(&d->findings, &d->n_findings, &d->cap_findings);
    if (!f)
        return NULL;
    f->kind = kind;
    f->severity = sev;
    if (r) {
        f->node = nt_strdup(r->node);
        f->op = nt_strdup(r->op);
        f->output = nt_strdup(r->output);
    }
    return f;
}

static int cmp_rec_order(const void *a, const void *b)
{
    const out_rec *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth - y->depth;
    return x->index - y->index;
}

static void findings_nonfinite(nt_doctor *d)
{
    /* Origins: nodes that created NaN/Inf from finite inputs, first first. */
    for (int i = 0; i < d->n_recs; i++) {
        out_rec *r = &d->recs[i];
        if (r->first_origin_run < 0)
            continue;
        nt_finding *f = add(d, r->origin_is_nan ? "nan" : "inf", NT_SEV_ERROR, r);
        if (!f)
            return;
        f->detail = nt_strdup(r->origin_detail ? r->origin_detail : "produced non-finite values from finite inputs");
        f->extra_json = fmt_dup("\"count\": %lld, \"nan_count\": %lld, \"inf_count\": %lld, \"runs\": %lld, "
                                "\"first_run\": %lld, \"role\": \"origin\"%s",
                                (long long)(r->nan + r->inf), (long long)r->nan, (long long)r->inf,
                                (long long)r->origin_runs, (long long)r->first_origin_run,
                                r->fp16_overflow ? ", \"fp16_overflow\": true" : "");
    }
    /* Propagators: one finding listing them. */
    nt_buf names, list;
    nt_buf_init(&names);
    nt_buf_init(&list);
    int n = 0;
    for (int i = 0; i < d->n_recs; i++) {
        const out_rec *r = &d->recs[i];
        if (!r->propagated || r->first_origin_run >= 0)
            continue;
        if (n < MAX_PROPAGATORS_LISTED)
            nt_buf_printf(&names, "%s%s (%s)", n ? ", " : "", r->node, r->op);
        nt_buf_puts(&list, n ? ", " : "");
        nt_buf_json_string(&list, r->node);
        n++;
    }
    if (n > 0) {
        nt_finding *f = add(d, "nan_propagation", NT_SEV_INFO, NULL);
        if (f) {
            f->detail = fmt_dup("%d node%s only passed non-finite values on: %s%s", n, n == 1 ? "" : "s",
                                names.data, n > MAX_PROPAGATORS_LISTED ? ", ..." : "");
            f->extra_json = fmt_dup("\"propagators\": [%s]", list.data ? list.data : "");
        }
    }
    nt_buf_deinit(&names);
    nt_buf_deinit(&list);
}

static void findings_dead(nt_doctor *d)
{
    for (int i = 0; i < d->n_recs; i++) {
        const out_rec *r = &d->recs[i];
        if (!r->relu_like || !r->ever_active || r->units_mismatch || r->units <= 0)
            continue;
        int64_t dead = 0;
        for (int64_t u = 0; u < r->units; u++)
            dead += !r->ever_active[u];
        if (dead == 0)
            continue;
        double frac = (double)dead / (double)r->units;
        nt_severity sev = dead == r->units ? NT_SEV_ERROR : frac >= 0.1 ? NT_SEV_WARNING : NT_SEV_INFO;
        nt_finding *f = add(d, "dead", sev, r);
        if (!f)
            return;
        nt_buf units;
        nt_buf_init(&units);
        int listed = 0;
        for (int64_t u = 0; u < r->units && listed < 16; u++)
            if (!r->ever_active[u])
                nt_buf_printf(&units, "%s%lld", listed++ ? ", " : "", (long long)u);
        if (dead == r->units)
            f->detail = fmt_dup("every unit (%lld along axis %d) never activated over %lld run%s: the layer is dead",
                                (long long)r->units, r->unit_axis, (long long)r->runs_seen,
                                r->runs_seen == 1 ? "" : "s");
        else
            f->detail = fmt_dup("%lld of %lld units (%.1f%%, axis %d) never activated over %lld run%s: %s%s",
                                (long long)dead, (long long)r->units, 100.0 * frac, r->unit_axis,
                                (long long)r->runs_seen, r->runs_seen == 1 ? "" : "s", units.data,
                                dead > listed ? ", ..." : "");
        if (f->detail && r->runs_seen == 1) {
            /* a unit silent on one sample says little about a data set */
            char *more = fmt_dup("%s (from a single sample: dead-unit findings need a data set, --data X.npy)",
                                 f->detail);
            if (more) {
                free(f->detail);
                f->detail = more;
            }
        }
        f->extra_json = fmt_dup("\"dead_units\": %lld, \"units\": %lld, \"fraction\": %.6g, \"axis\": %d",
                                (long long)dead, (long long)r->units, frac, r->unit_axis);
        nt_buf_deinit(&units);
    }
}

static void findings_saturation(nt_doctor *d)
{
    static const char *const names[] = {"", "sigmoid", "tanh", "softmax", "hard sigmoid"};
    bool first = true;
    for (int i = 0; i < d->n_recs; i++) {
        const out_rec *r = &d->recs[i];
        if (!r->sat_kind || r->sat_total == 0)
            continue;
        double frac = (double)r->sat_count / (double)r->sat_total;
        if (frac < d->opt.saturation_fraction)
            continue;
        /* A confident classifier's final softmax/sigmoid is normal: info only. */
        nt_severity sev = r->feeds_graph_output ? NT_SEV_INFO : NT_SEV_WARNING;
        nt_finding *f = add(d, "saturated", sev, r);
        if (!f)
            return;
        f->detail = fmt_dup("%.1f%% of %s %s are saturated (%s)%s", 100.0 * frac, names[r->sat_kind],
                            r->sat_kind == 3 ? "rows" : "outputs",
                            r->sat_kind == 3 ? "largest probability >= 0.99"
                            : r->sat_kind == 2 ? "|y| > 0.99"
                            : r->sat_kind == 1 ? "y < 0.01 or y > 0.99"
                                               : "y at 0 or 1",
                            first && sev == NT_SEV_WARNING ? "; saturation starts here" : "");
        f->extra_json = fmt_dup("\"fraction\": %.6g, \"first\": %s", frac, first && sev == NT_SEV_WARNING ? "true" : "false");
        if (sev == NT_SEV_WARNING)
            first = false;
    }
}

static void findings_magnitude(nt_doctor *d)
{
    const out_rec *first_big = NULL, *first_fp16 = NULL;
    for (int i = 0; i < d->n_recs; i++) {
        const out_rec *r = &d->recs[i];
        if (d->opt.fp16 && r->absmax > 65504.0) {
            nt_finding *f = add(d, "fp16_overflow", first_fp16 ? NT_SEV_WARNING : NT_SEV_ERROR, r);
            if (!f)
                return;
            f->detail = first_fp16 ? fmt_dup("largest magnitude %g exceeds float16's 65504 (follows from '%s')",
                                             r->absmax, first_fp16->node)
                                   : fmt_dup("largest magnitude %g exceeds float16's 65504: in float16 this "
                                             "overflows to Inf; overflow starts here",
                                             r->absmax);
            f->extra_json = fmt_dup("\"absmax\": %.9g, \"first\": %s", r->absmax, first_fp16 ? "false" : "true");
            if (!first_fp16)
                first_fp16 = r;
        } else if (r->absmax > d->opt.explode_threshold) {
            nt_finding *f = add(d, "exploding", first_big ? NT_SEV_INFO : NT_SEV_WARNING, r);
            if (!f)
                return;
            f->detail = first_big ? fmt_dup("largest magnitude %g above %g (follows from '%s')", r->absmax,
                                            d->opt.explode_threshold, first_big->node)
                                  : fmt_dup("largest magnitude %g above %g: magnitudes explode starting here",
                                            r->absmax, d->opt.explode_threshold);
            f->extra_json = fmt_dup("\"absmax\": %.9g, \"threshold\": %g, \"first\": %s", r->absmax,
                                    d->opt.explode_threshold, first_big ? "false" : "true");
            if (!first_big)
                first_big = r;
        }
    }
}

/* Marks every value of g (and of the enclosing graphs, for captures) read by a node. */
static void mark_used(const nt_graph *g, bool *used_top, const nt_graph *top)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++)
            if (n->in[k] >= 0 && g == top)
                used_top[n->in[k]] = true;
        for (int a = 0; a < n->n_attr; a++) {
            const nt_attr *at = &n->attrs[a];
            int ng = at->type == NT_ATTR_GRAPH ? 1 : at->type == NT_ATTR_GRAPHS ? at->n : 0;
            for (int s = 0; s < ng; s++) {
                const nt_graph *sub = at->type == NT_ATTR_GRAPH ? at->g : at->graphs[s];
                if (!sub)
                    continue;
                /* a capture chain that ends in the top graph marks the top value */
                for (int v = 0; v < sub->n_values; v++) {
                    if (sub->values[v].kind != NT_VALUE_OUTER)
                        continue;
                    const nt_graph *p = sub;
                    int idx = v;
                    while (p->parent && p->values[idx].kind == NT_VALUE_OUTER) {
                        idx = p->values[idx].outer_index;
                        p = p->parent;
                    }
                    if (p == top)
                        used_top[idx] = true;
                }
                mark_used(sub, used_top, top);
            }
        }
    }
}

static nt_finding *add_static(nt_doctor *d, const char *kind, nt_severity sev)
{
    nt_finding *f = push_finding(&d->statics, &d->n_statics, &d->cap_statics);
    if (f) {
        f->kind = kind;
        f->severity = sev;
    }
    return f;
}

nt_status nt_doctor_static(nt_doctor *d, const char *plan_warnings)
{
    const nt_graph *g = d->model->graph;
    bool *used = nt_calloc((size_t)g->n_values + 1, sizeof *used);
    if (!used)
        return NT_ERR_NOMEM;
    mark_used(g, used, g);
    for (int v = 0; v < g->n_values; v++) {
        const nt_value *val = &g->values[v];
        if (used[v] || val->is_graph_output)
            continue;
        nt_finding *f = NULL;
        if (val->kind == NT_VALUE_INITIALIZER && !val->is_graph_input) {
            f = add_static(d, "unused_initializer", NT_SEV_WARNING);
            if (f)
                f->detail = fmt_dup("initializer '%s' (%lld elements) is never used", val->name,
                                    (long long)(val->init ? nt_tensor_numel(val->init) : 0));
        } else if (val->is_graph_input) {
            f = add_static(d, "unused_input", NT_SEV_WARNING);
            if (f)
                f->detail = fmt_dup("graph input '%s' is never used", val->name);
        } else if (val->producer >= 0) {
            const nt_node *n = &g->nodes[val->producer];
            f = add_static(d, "unused_output", NT_SEV_INFO);
            if (f) {
                f->node = nt_strdup(n->name);
                f->op = nt_strdup(n->op_type);
                f->detail = fmt_dup("output '%s' of %s is computed but nothing consumes it", val->name, n->op_type);
            }
        }
        if (f && !f->output)
            f->output = nt_strdup(val->name);
    }
    free(used);
    /* Plan-time shape inference conflicts: "node 'x' (Op): message" lines. */
    for (const char *p = plan_warnings; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        nt_finding *f = add_static(d, "shape_conflict", NT_SEV_WARNING);
        if (f) {
            f->detail = nt_strndup(p, len);
            const char *q = strncmp(p, "node '", 6) == 0 ? p + 6 : NULL;
            const char *e = q ? strchr(q, '\'') : NULL;
            if (e && (size_t)(e - p) < len)
                f->node = nt_strndup(q, (size_t)(e - q));
        }
        p = nl ? nl + 1 : p + len;
    }
    return NT_OK;
}

static int cmp_finding(const void *a, const void *b)
{
    const nt_finding *x = a, *y = b;
    /* NaN/Inf origins first, then by severity; stable otherwise (index order kept by caller) */
    int ox = strcmp(x->kind, "nan") == 0 || strcmp(x->kind, "inf") == 0;
    int oy = strcmp(y->kind, "nan") == 0 || strcmp(y->kind, "inf") == 0;
    if (ox != oy)
        return oy - ox;
    return (int)y->severity - (int)x->severity;
}

/* A stable sort (insertion: the lists are short) so execution order is kept. */
static void stable_sort(nt_finding *f, int n)
{
    for (int i = 1; i < n; i++) {
        nt_finding cur = f[i];
        int j = i - 1;
        while (j >= 0 && cmp_finding(&f[j], &cur) > 0) {
            f[j + 1] = f[j];
            j--;
        }
        f[j + 1] = cur;
    }
}

nt_status nt_doctor_finish(nt_doctor *d, const nt_finding **findings, int *n)
{
    if (d->err != NT_OK)
        return d->err;
    if (d->n_recs > 1) /* recs is NULL when nothing was recorded */
        qsort(d->recs, (size_t)d->n_recs, sizeof *d->recs, cmp_rec_order);
    findings_nonfinite(d);
    findings_dead(d);
    findings_saturation(d);
    findings_magnitude(d);
    for (int i = 0; i < d->n_statics; i++) {
        nt_finding *f = push_finding(&d->findings, &d->n_findings, &d->cap_findings);
        if (!f)
            return nt_error(NT_ERR_NOMEM, "out of memory");
        *f = d->statics[i];
    }
    d->n_statics = 0;
    stable_sort(d->findings, d->n_findings);
    *findings = d->findings;
    *n = d->n_findings;
    return NT_OK;
}

nt_status nt_doctor_new(const nt_model *m, const nt_doctor_options *opt, nt_doctor **out)
{
    nt_doctor *d = nt_calloc(1, sizeof *d);
    if (!d)
        return NT_ERR_NOMEM;
    d->model = m;
    if (opt)
        d->opt = *opt;
    if (d->opt.explode_threshold <= 0)
        d->opt.explode_threshold = 1e4;
    if (d->opt.saturation_fraction <= 0)
        d->opt.saturation_fraction = 0.5;
    d->tracer = (nt_tracer){.user = d, .run_begin = doctor_run_begin, .node_end = doctor_node_end};
    *out = d;
    return NT_OK;
}

const nt_tracer *nt_doctor_tracer(nt_doctor *d) { return &d->tracer; }

static void free_finding(nt_finding *f)
{
    free(f->node);
    free(f->op);
    free(f->output);
    free(f->detail);
    free(f->extra_json);
}

void nt_doctor_free(nt_doctor *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_recs; i++) {
        out_rec *r = &d->recs[i];
        free(r->node);
        free(r->op);
        free(r->output);
        free(r->origin_detail);
        free(r->ever_active);
    }
    free(d->recs);
    for (int i = 0; i < d->n_findings; i++)
        free_finding(&d->findings[i]);
    free(d->findings);
    for (int i = 0; i < d->n_statics; i++)
        free_finding(&d->statics[i]);
    free(d->statics);
    free(d);
}
