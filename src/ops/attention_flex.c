/*
 * attention_flex.c — FlexAttention (domain ai.onnx.preview, version 1):
 * scaled dot-product attention whose scores and probabilities pass through
 * user subgraphs.
 *
 *   Q (B, Hq, L, E), K (B, Hkv, S, E), V (B, Hkv, S, Ev); head h reads kv
 *   head h / (Hq / Hkv).
 *   scores = (Q * sqrt(scale)) (K * sqrt(scale))^T     in the input type
 *   scores = score_mod(scores)                         float32 (B, Hq, L, S)
 *   probs  = softmax(scores, axis 3)                   float32
 *   probs  = prob_mod(probs)                           float32 (B, Hq, L, S)
 *   Y      = probs V  (B, Hq, L, Ev)                   float32, cast back
 *
 * The mods are whole-tensor graphs run through nt_exec_subgraph, once per
 * node execution.  The softmax subtracts the row maximum and sums in double;
 * a row that is all -inf gives NaN, as the reference's Softmax does.
 */
#include "ops/attention_util.h"
#include "ops/gemm_util.h"
#include "ops/attention_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool flex_dtype(nt_dtype t)
{
    return nt_att_dtype_ok(t) || t == NT_DTYPE_DOUBLE;
}

nt_status nt_flex_infer(nt_kernel_ctx *ctx)
{
    if (ctx->n_in < 3 || !ctx->in[0] || !ctx->in[1] || !ctx->in[2])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs Q, K and V");
    nt_dtype dt = ctx->in[0]->dtype;
    if (!flex_dtype(dt))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(dt));
    if (ctx->in[1]->dtype != dt || ctx->in[2]->dtype != dt)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "Q, K and V must share a dtype");
    for (int i = 0; i < ctx->node->n_attr; i++) {
        const nt_attr *at = &ctx->node->attrs[i];
        if (at->type == NT_ATTR_GRAPH && strcmp(at->name, "score_mod") != 0 && strcmp(at->name, "prob_mod") != 0)
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "graph attribute '%s' is not supported", at->name);
    }
    ctx->out[0]->dtype = dt;
    if (nt_ctx_shapes_unknown(ctx)) {
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    const nt_tensor *q = ctx->in[0], *k = ctx->in[1], *v = ctx->in[2];
    if (q->ndim != 4 || k->ndim != 4 || v->ndim != 4)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "Q, K and V must be 4-D (batch, heads, sequence, head size)");
    if (k->dims[0] != q->dims[0] || v->dims[0] != q->dims[0] || v->dims[1] != k->dims[1] ||
        v->dims[2] != k->dims[2] || k->dims[3] != q->dims[3])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "Q, K and V disagree on batch, heads, length or head size");
    if (k->dims[1] <= 0 || q->dims[1] % k->dims[1])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "query heads are not a multiple of key/value heads");
    const int64_t yd[4] = {q->dims[0], q->dims[1], q->dims[2], v->dims[3]};
    return nt_ctx_set_output(ctx, 0, dt, 4, yd);
}

/* Runs the graph attribute `name` (if any) on t in place of t: *t is
 * replaced by the subgraph's float result of the same element count. */
static nt_status flex_mod(nt_kernel_ctx *ctx, const char *name, nt_tensor **t)
{
    const nt_attr *at = nt_node_attr(ctx->node, name);
    if (!at || at->type != NT_ATTR_GRAPH || !at->g)
        return NT_OK;
    nt_tensor *res = NULL;
    nt_status s = nt_exec_subgraph(ctx, at->g, 1, t, 1, &res);
    if (s != NT_OK)
        return s;
    if (nt_tensor_numel(res) != nt_tensor_numel(*t) || !nt_dtype_is_float(res->dtype)) {
        nt_tensor_free(res);
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s must return a float tensor shaped like its input", name);
    }
    if (res->dtype != NT_DTYPE_FLOAT) {
        float *dst = (*t)->data;
        for (int64_t i = 0; i < nt_tensor_numel(res); i++)
            dst[i] = (float)nt_tensor_get_f64(res, i);
        nt_tensor_free(res);
        return NT_OK;
    }
    nt_tensor_free(*t);
    *t = res;
    return NT_OK;
}

nt_status nt_flex_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *q = ctx->in[0], *k = ctx->in[1], *v = ctx->in[2];
    nt_tensor *y = ctx->out[0];
    nt_dtype dt = q->dtype;
    int64_t B = q->dims[0], Hq = q->dims[1], L = q->dims[2], E = q->dims[3];
    int64_t Hkv = k->dims[1], S = k->dims[2], Ev = v->dims[3], group = Hq / Hkv;
    const nt_attr *sa = nt_node_attr(ctx->node, "scale");
    double scale = sa ? (double)sa->f : 1.0 / sqrt((double)E);
    float sq = nt_att_round(dt, (float)sqrt(scale));

    int64_t nq = B * Hq * L * E, nk = B * Hkv * S * E, nv = B * Hkv * S * Ev;
    float *buf = nt_malloc((size_t)(nq + nk + nv + L * Ev + 1) * sizeof(float));
    if (!buf)
        return NT_ERR_NOMEM;
    float *qb = buf, *kb = qb + nq, *vb = kb + nk, *yb = vb + nv;
    for (int64_t i = 0; i < nq; i++)
        qb[i] = nt_att_round(dt, (float)nt_tensor_get_f64(q, i) * sq);
    for (int64_t i = 0; i < nk; i++)
        kb[i] = nt_att_round(dt, (float)nt_tensor_get_f64(k, i) * sq);
    for (int64_t i = 0; i < nv; i++)
        vb[i] = (float)nt_tensor_get_f64(v, i);

    const int64_t sd[4] = {B, Hq, L, S};
    nt_tensor *sc = NULL;
    nt_status s = nt_tensor_new(NT_DTYPE_FLOAT, 4, sd, &sc);
    if (s != NT_OK) {
        free(buf);
        return s;
    }
    /* scores[b, h] (L, S) = qb[b, h] (L, E) kb[b, h / group]^T (E, S) */
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < Hq; h++) {
            float *o = (float *)sc->data + (b * Hq + h) * L * S;
            nt_gemm_f32(false, true, L, S, E, 1.0f, qb + (b * Hq + h) * L * E, E,
                        kb + (b * Hkv + h / group) * S * E, E, 0.0f, o, S);
            nt_att_round_n(dt, o, L * S);
        }
    s = flex_mod(ctx, "score_mod", &sc);
    if (s == NT_OK) {
        float *p = sc->data;
        for (int64_t r = 0; r < B * Hq * L; r++) {
            float *row = p + r * S, mx = -INFINITY;
            for (int64_t j = 0; j < S; j++)
                mx = fmaxf(mx, row[j]);
            double sum = 0;
            for (int64_t j = 0; j < S; j++) {
                row[j] = expf(row[j] - mx);
                sum += row[j];
            }
            for (int64_t j = 0; j < S; j++)
                row[j] = (float)(row[j] / sum);
        }
        s = flex_mod(ctx, "prob_mod", &sc);
    }
    for (int64_t b = 0; s == NT_OK && b < B; b++)
        for (int64_t h = 0; h < Hq; h++) {
            /* yb (L, Ev) = probs[b, h] (L, S) vb[b, h / group] (S, Ev) */
            nt_gemm_f32(false, false, L, Ev, S, 1.0f, (const float *)sc->data + (b * Hq + h) * L * S, S,
                        vb + (b * Hkv + h / group) * S * Ev, Ev, 0.0f, yb, Ev);
            int64_t base = (b * Hq + h) * L * Ev;
            for (int64_t i = 0; i < L * Ev; i++)
                nt_tensor_set_f64(y, base + i, yb[i]);
        }
    nt_tensor_free(sc);
    free(buf);
    return s;
}
