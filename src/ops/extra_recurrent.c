/*
 * extra_recurrent.c — the stateful sequence operators of the "extra" family
 * (opset 27): CausalConvWithState and LinearAttention.  Both carry a state
 * across calls (decode steps) through a past_state input and a present_state
 * output, and both are defined in ONNX by a function body that this file
 * follows step by step.
 *
 * Computation is float32 for float, float16 and bfloat16 storage (the
 * function bodies cast to float32 for the recurrence, and back at the end).
 */
#include "ops/attention_util.h"
#include "ops/extra_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------ CausalConvWithState */

typedef struct ccws_attrs {
    bool silu;
} ccws_attrs;

nt_status nt_ccws_prepare(const nt_node *n, int opset, void **state)
{
    const char *act = nt_node_attr_string(n, "activation", "none");
    bool silu = strcmp(act, "silu") == 0 || strcmp(act, "swish") == 0;
    if (!silu && strcmp(act, "none") != 0)
        return nt_error(NT_ERR_UNSUPPORTED, "activation '%s' is not supported (none, silu, swish)", act);
    ccws_attrs *a = nt_calloc(1, sizeof *a);
    if (!a)
        return NT_ERR_NOMEM;
    a->silu = silu;
    *state = a;
    return NT_OK;
}

/* input (B, C, L), weight (C, 1, K), bias (C), past_state (B, C, K-1)
 *   -> output (B, C, L), present_state (B, C, K-1). */
nt_status nt_ccws_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0), *w = nt_ctx_in(ctx, 1), *b = nt_ctx_in(ctx, 2), *ps = nt_ctx_in(ctx, 3);
    if (!x || !w)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs input and weight");
    if (!nt_att_dtype_ok(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported (float, float16, bfloat16)",
                            nt_dtype_name(x->dtype));
    if (w->dtype != x->dtype || (b && b->dtype != x->dtype) || (ps && ps->dtype != x->dtype))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "weight, bias and past_state must have the input's dtype");
    for (int i = 0; i < ctx->n_out; i++)
        if (ctx->out[i])
            ctx->out[i]->dtype = x->dtype;
    if (nt_ctx_shapes_unknown(ctx)) {
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    if (x->ndim != 3)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "only 3-D (batch, channels, length) input is supported");
    int64_t B = x->dims[0], C = x->dims[1], L = x->dims[2];
    if (w->ndim != 3 || w->dims[0] != C || w->dims[1] != 1 || w->dims[2] < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "weight must be (channels, 1, kernel_size)");
    int64_t K1 = w->dims[2] - 1;
    if (b && (b->ndim != 1 || b->dims[0] != C))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "bias must be (channels)");
    if (ps && (ps->ndim != 3 || ps->dims[0] != B || ps->dims[1] != C || ps->dims[2] != K1))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "past_state must be (batch, channels, kernel_size - 1)");
    const int64_t od[3] = {B, C, L}, sd[3] = {B, C, K1};
    nt_status s = nt_ctx_set_output(ctx, 0, x->dtype, 3, od);
    if (s == NT_OK)
        s = nt_ctx_set_output(ctx, 1, x->dtype, 3, sd);
    return s;
}

nt_status nt_ccws_compute(nt_kernel_ctx *ctx)
{
    const ccws_attrs *a = ctx->state;
    const nt_tensor *x = ctx->in[0], *w = ctx->in[1], *b = nt_ctx_in(ctx, 2), *ps = nt_ctx_in(ctx, 3);
    nt_tensor *y = ctx->out[0], *st = nt_ctx_out(ctx, 1);
    nt_dtype dt = x->dtype;
    int64_t B = x->dims[0], C = x->dims[1], L = x->dims[2], K = w->dims[2], K1 = K - 1;
    float *pad = nt_malloc((size_t)(K1 + L + 1) * sizeof *pad); /* one (b, c) row: state then input */
    if (!pad)
        return NT_ERR_NOMEM;
    for (int64_t bi = 0; bi < B; bi++)
        for (int64_t c = 0; c < C; c++) {
            for (int64_t k = 0; k < K1; k++)
                pad[k] = ps ? nt_att_get(ps, (bi * C + c) * K1 + k) : 0.0f;
            for (int64_t l = 0; l < L; l++)
                pad[K1 + l] = nt_att_get(x, (bi * C + c) * L + l);
            float bias = b ? nt_att_get(b, c) : 0.0f;
            for (int64_t l = 0; l < L; l++) {
                double acc = bias;
                for (int64_t k = 0; k < K; k++)
                    acc += (double)nt_att_get(w, c * K + k) * pad[l + k];
                float v = nt_att_round(dt, (float)acc);
                if (a->silu)
                    v = (float)((double)v / (1.0 + exp(-(double)v)));
                nt_att_set(y, (bi * C + c) * L + l, v);
            }
            if (st)
                for (int64_t k = 0; k < K1; k++)
                    nt_att_set(st, (bi * C + c) * K1 + k, pad[L + k]);
        }
    free(pad);
    return NT_OK;
}

/* ---------------------------------------------------------- LinearAttention */

typedef enum { LA_LINEAR, LA_GATED, LA_DELTA, LA_GATED_DELTA } la_rule;

typedef struct la_attrs {
    la_rule rule;
    int64_t q_heads, kv_heads;
    bool has_scale;
    float scale;
} la_attrs;

nt_status nt_linatt_prepare(const nt_node *n, int opset, void **state)
{
    const char *r = nt_node_attr_string(n, "update_rule", "gated_delta");
    la_rule rule;
    if (strcmp(r, "linear") == 0)
        rule = LA_LINEAR;
    else if (strcmp(r, "gated") == 0)
        rule = LA_GATED;
    else if (strcmp(r, "delta") == 0)
        rule = LA_DELTA;
    else if (strcmp(r, "gated_delta") == 0)
        rule = LA_GATED_DELTA;
    else
        return nt_error(NT_ERR_UNSUPPORTED, "update_rule '%s' is not supported", r);
    la_attrs *a = nt_calloc(1, sizeof *a);
    if (!a)
        return NT_ERR_NOMEM;
    a->rule = rule;
    a->q_heads = nt_node_attr_int(n, "q_num_heads", 0);
    a->kv_heads = nt_node_attr_int(n, "kv_num_heads", 0);
    a->has_scale = nt_node_attr(n, "scale") != NULL;
    a->scale = nt_node_attr_float(n, "scale", 1.0f);
    *state = a;
    return NT_OK;
}

/* Sizes: query (B, T, Hq*Dk), key (B, T, Hkv*Dk), value (B, T, Hkv*Dv),
 * past_state (B, Hkv, Dk, Dv), decay (B, T, Hkv*Dk or Hkv), beta (B, T, Hkv or 1). */
typedef struct la_geom {
    int64_t B, T, Hq, Hkv, Dk, Dv;
    int64_t decay_w, beta_w;   /* decay values per kv head (Dk or 1), beta per step (Hkv or 1) */
} la_geom;

static bool la_needs_decay(la_rule r) { return r == LA_GATED || r == LA_GATED_DELTA; }
static bool la_needs_beta(la_rule r) { return r == LA_DELTA || r == LA_GATED_DELTA; }

static nt_status la_geometry(nt_kernel_ctx *ctx, la_geom *g)
{
    const la_attrs *a = ctx->state;
    const nt_tensor *q = ctx->in[0], *k = ctx->in[1], *v = ctx->in[2];
    const nt_tensor *ps = nt_ctx_in(ctx, 3), *dc = nt_ctx_in(ctx, 4), *bt = nt_ctx_in(ctx, 5);
    if (q->ndim != 3 || k->ndim != 3 || v->ndim != 3)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "only 3-D (batch, sequence, hidden) inputs are supported");
    if (a->q_heads <= 0 || a->kv_heads <= 0 || a->q_heads % a->kv_heads)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "q_num_heads must be a positive multiple of kv_num_heads");
    g->B = q->dims[0], g->T = q->dims[1], g->Hq = a->q_heads, g->Hkv = a->kv_heads;
    if (q->dims[2] % g->Hq || k->dims[2] % g->Hkv || v->dims[2] % g->Hkv)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "hidden sizes are not multiples of the head counts");
    g->Dk = q->dims[2] / g->Hq;
    g->Dv = v->dims[2] / g->Hkv;
    for (int i = 1; i < 3; i++)
        if (ctx->in[i]->dims[0] != g->B || ctx->in[i]->dims[1] != g->T)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "query, key and value disagree on batch or sequence");
    if (k->dims[2] != g->Hkv * g->Dk)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "key hidden size must be kv_num_heads * %lld", (long long)g->Dk);
    if (ps && (ps->ndim != 4 || ps->dims[0] != g->B || ps->dims[1] != g->Hkv || ps->dims[2] != g->Dk ||
               ps->dims[3] != g->Dv))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "past_state must be (batch, kv_heads, Dk, Dv)");
    g->decay_w = g->beta_w = 0;
    if (la_needs_decay(a->rule)) {
        if (!dc)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "update rule needs decay");
        if (dc->ndim != 3 || dc->dims[0] != g->B || dc->dims[1] != g->T ||
            (dc->dims[2] != g->Hkv * g->Dk && dc->dims[2] != g->Hkv))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "decay must be (batch, sequence, kv_heads * Dk or kv_heads)");
        g->decay_w = dc->dims[2] / g->Hkv;
    }
    if (la_needs_beta(a->rule)) {
        if (!bt)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "update rule needs beta");
        if (bt->ndim != 3 || bt->dims[0] != g->B || bt->dims[1] != g->T ||
            (bt->dims[2] != g->Hkv && bt->dims[2] != 1))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "beta must be (batch, sequence, kv_heads or 1)");
        g->beta_w = bt->dims[2];
    }
    return NT_OK;
}

nt_status nt_linatt_infer(nt_kernel_ctx *ctx)
{
    if (ctx->n_in < 3 || !ctx->in[0] || !ctx->in[1] || !ctx->in[2])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs query, key and value");
    nt_dtype dt = ctx->in[0]->dtype;
    if (!nt_att_dtype_ok(dt))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported (float, float16, bfloat16)",
                            nt_dtype_name(dt));
    for (int i = 1; i < 6; i++) {
        const nt_tensor *t = nt_ctx_in(ctx, i);
        if (t && t->dtype != dt)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d has dtype %s, expected %s", i,
                                nt_dtype_name(t->dtype), nt_dtype_name(dt));
    }
    for (int i = 0; i < ctx->n_out; i++)
        if (ctx->out[i])
            ctx->out[i]->dtype = dt;
    if (nt_ctx_shapes_unknown(ctx)) {
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    la_geom g;
    nt_status s = la_geometry(ctx, &g);
    if (s != NT_OK)
        return s;
    const int64_t od[3] = {g.B, g.T, g.Hq * g.Dv}, sd[4] = {g.B, g.Hkv, g.Dk, g.Dv};
    s = nt_ctx_set_output(ctx, 0, dt, 3, od);
    if (s == NT_OK)
        s = nt_ctx_set_output(ctx, 1, dt, 4, sd);
    return s;
}

nt_status nt_linatt_compute(nt_kernel_ctx *ctx)
{
    const la_attrs *a = ctx->state;
    la_geom g;
    nt_status s = la_geometry(ctx, &g);
    if (s != NT_OK)
        return s;
    const nt_tensor *q = ctx->in[0], *k = ctx->in[1], *v = ctx->in[2];
    const nt_tensor *ps = nt_ctx_in(ctx, 3), *dc = nt_ctx_in(ctx, 4), *bt = nt_ctx_in(ctx, 5);
    nt_tensor *y = ctx->out[0], *st = nt_ctx_out(ctx, 1);
    float scale = a->has_scale ? a->scale : (float)(1.0 / sqrt((double)g.Dk));
    int64_t Dk = g.Dk, Dv = g.Dv, group = g.Hq / g.Hkv;
    size_t ns = (size_t)(g.B * g.Hkv * Dk * Dv);
    float *S = nt_malloc((ns + (size_t)(Dk + 2 * Dv) + 1) * sizeof *S);
    if (!S)
        return NT_ERR_NOMEM;
    float *kt = S + ns, *vt = kt + Dk, *r = vt + Dv;
    for (size_t i = 0; i < ns; i++)
        S[i] = ps ? nt_att_get(ps, (int64_t)i) : 0.0f;
    for (int64_t t = 0; t < g.T; t++)
        for (int64_t b = 0; b < g.B; b++) {
            for (int64_t h = 0; h < g.Hkv; h++) {
                float *Sh = S + (b * g.Hkv + h) * Dk * Dv; /* (Dk, Dv) */
                int64_t kbase = (b * g.T + t) * g.Hkv * Dk + h * Dk;
                int64_t vbase = (b * g.T + t) * g.Hkv * Dv + h * Dv;
                for (int64_t i = 0; i < Dk; i++)
                    kt[i] = nt_att_get(k, kbase + i);
                for (int64_t j = 0; j < Dv; j++)
                    vt[j] = nt_att_get(v, vbase + j);
                if (la_needs_decay(a->rule)) {
                    int64_t dbase = (b * g.T + t) * g.Hkv * g.decay_w + h * g.decay_w;
                    for (int64_t i = 0; i < Dk; i++) {
                        float e = expf(nt_att_get(dc, dbase + (g.decay_w == 1 ? 0 : i)));
                        for (int64_t j = 0; j < Dv; j++)
                            Sh[i * Dv + j] *= e;
                    }
                }
                if (la_needs_beta(a->rule)) {
                    float beta = nt_att_get(bt, (b * g.T + t) * g.beta_w + (g.beta_w == 1 ? 0 : h));
                    /* r = S^T k; the write row becomes beta (v - r) */
                    for (int64_t j = 0; j < Dv; j++) {
                        double acc = 0;
                        for (int64_t i = 0; i < Dk; i++)
                            acc += (double)Sh[i * Dv + j] * kt[i];
                        r[j] = (float)acc;
                    }
                    for (int64_t j = 0; j < Dv; j++)
                        vt[j] = beta * (vt[j] - r[j]);
                }
                for (int64_t i = 0; i < Dk; i++)
                    for (int64_t j = 0; j < Dv; j++)
                        Sh[i * Dv + j] += kt[i] * vt[j];
            }
            /* Read: out[b, t, h*Dv + j] = scale * sum_i q[i] S[kvh][i, j]. */
            for (int64_t h = 0; h < g.Hq; h++) {
                const float *Sh = S + (b * g.Hkv + h / group) * Dk * Dv;
                int64_t qbase = (b * g.T + t) * g.Hq * Dk + h * Dk;
                for (int64_t j = 0; j < Dv; j++) {
                    double acc = 0;
                    for (int64_t i = 0; i < Dk; i++)
                        acc += (double)nt_att_get(q, qbase + i) * Sh[i * Dv + j];
                    nt_att_set(y, (b * g.T + t) * g.Hq * Dv + h * Dv + j, scale * (float)acc);
                }
            }
        }
    if (st)
        nt_att_store(st, S, (int64_t)ns);
    free(S);
    return NT_OK;
}
