/*
 * attention.c — operator family "attention": Attention (opset 23, 24); the
 * family also lists FlexAttention (attention_flex.c).
 *
 * Scaled dot-product attention as the ONNX function body defines it, step by
 * step, so every optional output matches:
 *
 *   Q (B, Hq, Sq, Dk), K (B, Hkv, T, Dk), V (B, Hkv, T, Dv) after reshaping
 *   3-D inputs (B, S, H*D) with q_num_heads / kv_num_heads and prepending
 *   past_key / past_value (B, Hkv, P, D) along the sequence: T = P + Skv.
 *   Query head h reads key/value head h / (Hq / Hkv) (grouped-query).
 *
 *   s  = (Q * sqrt(scale)) (K * sqrt(scale))^T        qk_matmul_output mode 0
 *   s  = softcap * tanh(s / softcap)  if softcap != 0  mode 1
 *   s += bias                                          mode 2
 *   p  = softmax(s) over T, 0 for rows whose bias is
 *        -inf everywhere (fully masked rows)           mode 3
 *   Y  = p V  (B, Hq, Sq, Dv), or (B, Sq, Hq*Dv) for 3-D Q
 *
 * bias(b, h, i, j) is the sum of: the attention mask (bool: 0 where true,
 * -inf where false; float: its value), broadcast to (B, Hq, Sq, T) and padded
 * with -inf when its last dimension is shorter than T; the causal mask (-inf
 * where j > i + offset, offset = P, or nonpad_kv_seqlen[b] - Sq when that
 * input is given); and the padding mask (-inf where j >= nonpad_kv_seqlen[b]).
 *
 * float16 / bfloat16 run in float32 and are rounded to the storage type
 * after each step, where the function body casts.  The softmax itself is
 * float32 with the row maximum subtracted and the sum in double.
 */
#include "ops/attention_impl.h"
#include "ops/attention_util.h"
#include "ops/gemm_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct att_attrs {
    int is_causal;
    int64_t q_heads, kv_heads;     /* 0 when absent (required for 3-D inputs) */
    bool has_scale;
    float scale;
    float softcap;
    int qk_mode;                   /* 0..3, see the file comment */
} att_attrs;

static nt_status att_prepare(const nt_node *n, int opset, void **state)
{
    att_attrs *a = nt_calloc(1, sizeof *a);
    if (!a)
        return NT_ERR_NOMEM;
    a->is_causal = (int)nt_node_attr_int(n, "is_causal", 0);
    a->q_heads = nt_node_attr_int(n, "q_num_heads", 0);
    a->kv_heads = nt_node_attr_int(n, "kv_num_heads", 0);
    a->has_scale = nt_node_attr(n, "scale") != NULL;
    a->scale = nt_node_attr_float(n, "scale", 1.0f);
    a->softcap = nt_node_attr_float(n, "softcap", 0.0f);
    a->qk_mode = (int)nt_node_attr_int(n, "qk_matmul_output_mode", 0);
    if (a->qk_mode < 0 || a->qk_mode > 3) {
        int m = a->qk_mode;
        free(a);
        return nt_error(NT_ERR_UNSUPPORTED, "qk_matmul_output_mode %d is not one of 0..3", m);
    }
    *state = a;
    return NT_OK;
}

/* The problem's dimensions, derived from the input shapes in infer. */
typedef struct att_geom {
    int64_t B, Hq, Hkv, Sq, Skv, P, T, Dk, Dv;
    bool q3, k3, v3;
} att_geom;

/* Reads (B, H, S, D) of a 3-D (B, S, H*D) or 4-D (B, H, S, D) tensor;
 * heads is the attribute for the 3-D form. */
static nt_status att_split(nt_kernel_ctx *ctx, const nt_tensor *t, const char *what, int64_t heads, int64_t *B,
                           int64_t *H, int64_t *S, int64_t *D)
{
    if (t->ndim == 4) {
        *B = t->dims[0];
        *H = t->dims[1];
        *S = t->dims[2];
        *D = t->dims[3];
        return NT_OK;
    }
    if (t->ndim != 3)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s must be 3-D or 4-D, got rank %d", what, t->ndim);
    if (heads <= 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "3-D %s needs a positive head-count attribute", what);
    if (t->dims[2] % heads)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s hidden size %lld is not a multiple of %lld heads", what,
                            (long long)t->dims[2], (long long)heads);
    *B = t->dims[0];
    *H = heads;
    *S = t->dims[1];
    *D = t->dims[2] / heads;
    return NT_OK;
}

static nt_status att_geometry(nt_kernel_ctx *ctx, att_geom *g)
{
    const att_attrs *a = ctx->state;
    const nt_tensor *q = ctx->in[0], *k = ctx->in[1], *v = ctx->in[2];
    const nt_tensor *pk = nt_ctx_in(ctx, 4), *pv = nt_ctx_in(ctx, 5);
    int64_t bk, bv, hv, sv, sk;
    nt_status s = att_split(ctx, q, "Q", a->q_heads, &g->B, &g->Hq, &g->Sq, &g->Dk);
    int64_t dk;
    if (s == NT_OK)
        s = att_split(ctx, k, "K", a->kv_heads, &bk, &g->Hkv, &sk, &dk);
    if (s == NT_OK)
        s = att_split(ctx, v, "V", a->kv_heads, &bv, &hv, &sv, &g->Dv);
    if (s != NT_OK)
        return s;
    g->q3 = q->ndim == 3;
    g->k3 = k->ndim == 3;
    g->v3 = v->ndim == 3;
    g->Skv = sk;
    if (bk != g->B || bv != g->B || hv != g->Hkv || sv != sk || dk != g->Dk)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "Q, K and V disagree on batch, heads, length or head size");
    if (g->Hkv <= 0 || g->Hq % g->Hkv)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "q_num_heads %lld is not a multiple of kv_num_heads %lld",
                            (long long)g->Hq, (long long)g->Hkv);
    g->P = 0;
    if ((pk == NULL) != (pv == NULL))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "past_key and past_value must be given together");
    if (pk) {
        if (pk->ndim != 4 || pv->ndim != 4 || pk->dims[0] != g->B || pk->dims[1] != g->Hkv ||
            pk->dims[3] != g->Dk || pv->dims[0] != g->B || pv->dims[1] != g->Hkv || pv->dims[2] != pk->dims[2] ||
            pv->dims[3] != g->Dv)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "past_key/past_value must be (B, kv_heads, P, head size)");
        g->P = pk->dims[2];
    }
    g->T = g->P + g->Skv;
    return NT_OK;
}

static nt_status att_infer(nt_kernel_ctx *ctx)
{
    const att_attrs *a = ctx->state;
    if (ctx->n_in < 3 || !ctx->in[0] || !ctx->in[1] || !ctx->in[2])
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs Q, K and V");
    nt_dtype dt = ctx->in[0]->dtype;
    if (!nt_att_dtype_ok(dt))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported (float, float16, bfloat16)",
                            nt_dtype_name(dt));
    for (int i = 1; i < 6; i++) {
        const nt_tensor *t = nt_ctx_in(ctx, i);
        if (t && t->dtype != dt && !(i == 3 && t->dtype == NT_DTYPE_BOOL))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d has dtype %s, expected %s", i,
                                nt_dtype_name(t->dtype), nt_dtype_name(dt));
    }
    const nt_tensor *np = nt_ctx_in(ctx, 6);
    if (np && np->dtype != NT_DTYPE_INT64)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "nonpad_kv_seqlen dtype %s is not int64",
                            nt_dtype_name(np->dtype));
    if (a->is_causal && np && nt_ctx_in(ctx, 4))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "nonpad_kv_seqlen together with past_key is not supported");
    for (int i = 0; i < ctx->n_out; i++)
        if (ctx->out[i])
            ctx->out[i]->dtype = dt;
    if (nt_ctx_shapes_unknown(ctx)) {
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    att_geom g;
    nt_status s = att_geometry(ctx, &g);
    if (s != NT_OK)
        return s;
    if (np && (np->ndim != 1 || np->dims[0] != g.B))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "nonpad_kv_seqlen must be (batch)");
    const nt_tensor *m = nt_ctx_in(ctx, 3);
    if (m) {
        if (m->ndim < 1 || m->ndim > 4 || m->dims[m->ndim - 1] > g.T)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "attn_mask must have rank 1..4 and at most %lld columns",
                                (long long)g.T);
        if (ctx->opset < 24 && m->dims[m->ndim - 1] != 1 && m->dims[m->ndim - 1] != g.T)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "attn_mask has %lld columns, expected %lld",
                                (long long)m->dims[m->ndim - 1], (long long)g.T);
        const int64_t full[4] = {g.B, g.Hq, g.Sq, g.T};
        for (int d = 0; d < m->ndim - 1; d++) {
            int64_t md = m->dims[d], fd = full[4 - m->ndim + d];
            if (md != 1 && md != fd)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "attn_mask dimension %d (%lld) does not broadcast to %lld", d,
                                    (long long)md, (long long)fd);
        }
    }
    int64_t yd[4];
    if (g.q3) {
        yd[0] = g.B, yd[1] = g.Sq, yd[2] = g.Hq * g.Dv;
        s = nt_ctx_set_output(ctx, 0, dt, 3, yd);
    } else {
        yd[0] = g.B, yd[1] = g.Hq, yd[2] = g.Sq, yd[3] = g.Dv;
        s = nt_ctx_set_output(ctx, 0, dt, 4, yd);
    }
    const int64_t pkd[4] = {g.B, g.Hkv, g.T, g.Dk}, pvd[4] = {g.B, g.Hkv, g.T, g.Dv};
    const int64_t qkd[4] = {g.B, g.Hq, g.Sq, g.T};
    if (s == NT_OK)
        s = nt_ctx_set_output(ctx, 1, dt, 4, pkd);
    if (s == NT_OK)
        s = nt_ctx_set_output(ctx, 2, dt, 4, pvd);
    if (s == NT_OK)
        s = nt_ctx_set_output(ctx, 3, dt, 4, qkd);
    return s;
}

/* Copies t (3-D (B, S, H*D) when is3 else 4-D (B, H, S, D)) into dst laid out
 * (B, H, dstS, D) at sequence offset soff, multiplying by mul and rounding to
 * the storage type when mul != 1. */
static void att_gather(const nt_tensor *t, bool is3, int64_t B, int64_t H, int64_t S, int64_t D, float *dst,
                       int64_t dstS, int64_t soff, float mul)
{
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t s = 0; s < S; s++) {
                int64_t src = is3 ? ((b * S + s) * H + h) * D : ((b * H + h) * S + s) * D;
                float *o = dst + ((b * H + h) * dstS + soff + s) * D;
                for (int64_t d = 0; d < D; d++) {
                    float x = nt_att_get(t, src + d);
                    o[d] = mul == 1.0f ? x : nt_att_round(t->dtype, x * mul);
                }
            }
}

/* The attention mask's value at (b, h, i, j) of (B, Hq, Sq, T), -inf past its
 * last column.  st holds the broadcast strides (0 on size-1 dims). */
static float att_mask_at(const nt_tensor *m, const int64_t st[4], int64_t mcols, int64_t b, int64_t h, int64_t i,
                         int64_t j)
{
    if (j >= mcols)
        return -INFINITY;
    int64_t off = b * st[0] + h * st[1] + i * st[2] + j * st[3];
    if (m->dtype == NT_DTYPE_BOOL)
        return ((const uint8_t *)m->data)[off] ? 0.0f : -INFINITY;
    return nt_att_get(m, off);
}

static nt_status att_compute(nt_kernel_ctx *ctx)
{
    const att_attrs *a = ctx->state;
    att_geom g;
    nt_status s = att_geometry(ctx, &g);
    if (s != NT_OK)
        return s;
    const nt_tensor *q = ctx->in[0], *k = ctx->in[1], *v = ctx->in[2];
    const nt_tensor *m = nt_ctx_in(ctx, 3), *pk = nt_ctx_in(ctx, 4), *pv = nt_ctx_in(ctx, 5);
    const nt_tensor *np = ctx->opset >= 24 ? nt_ctx_in(ctx, 6) : NULL;
    nt_tensor *y = ctx->out[0], *ok = nt_ctx_out(ctx, 1), *ov = nt_ctx_out(ctx, 2), *oqk = nt_ctx_out(ctx, 3);
    nt_dtype dt = q->dtype;

    float scale = a->has_scale ? a->scale : (float)(1.0 / sqrt((double)g.Dk));
    float sq = nt_att_round(dt, sqrtf(scale));
    size_t nq = (size_t)(g.B * g.Hq * g.Sq * g.Dk), nk = (size_t)(g.B * g.Hkv * g.T * g.Dk);
    size_t nv = (size_t)(g.B * g.Hkv * g.T * g.Dv), nsc = (size_t)(g.Sq * g.T);
    float *qb = nt_malloc((nq + 2 * nk + nv + 2 * nsc + (size_t)(g.Sq * g.Dv) + 1) * sizeof(float));
    if (!qb)
        return NT_ERR_NOMEM;
    float *kb = qb + nq, *ksb = kb + nk, *vb = ksb + nk, *sc = vb + nv, *bias = sc + nsc, *yb = bias + nsc;

    /* Present key/value (unscaled) in (B, Hkv, T, D), then the scaled copies. */
    if (pk) {
        att_gather(pk, false, g.B, g.Hkv, g.P, g.Dk, kb, g.T, 0, 1.0f);
        att_gather(pv, false, g.B, g.Hkv, g.P, g.Dv, vb, g.T, 0, 1.0f);
    }
    att_gather(k, g.k3, g.B, g.Hkv, g.Skv, g.Dk, kb, g.T, g.P, 1.0f);
    att_gather(v, g.v3, g.B, g.Hkv, g.Skv, g.Dv, vb, g.T, g.P, 1.0f);
    if (ok)
        nt_att_store(ok, kb, (int64_t)nk);
    if (ov)
        nt_att_store(ov, vb, (int64_t)nv);
    att_gather(q, g.q3, g.B, g.Hq, g.Sq, g.Dk, qb, g.Sq, 0, sq);
    for (size_t i = 0; i < nk; i++)
        ksb[i] = nt_att_round(dt, kb[i] * sq);

    int64_t mst[4] = {0, 0, 0, 0}, mcols = 0;
    if (m) {
        int64_t stride = 1;
        for (int d = m->ndim - 1; d >= 0; d--) {
            int td = 4 - m->ndim + d;
            mst[td] = m->dims[d] == 1 && td != 3 ? 0 : stride;
            stride *= m->dims[d];
        }
        mcols = m->dims[m->ndim - 1];
        /* Opset 23 broadcasts a single column; 24 pads short masks with -inf. */
        if (ctx->opset < 24 && mcols == 1 && g.T > 1)
            mst[3] = 0, mcols = g.T;
    }

    int64_t group = g.Hq / g.Hkv;
    for (int64_t b = 0; b < g.B; b++) {
        int64_t nonpad = np ? ((const int64_t *)np->data)[b] : g.T;
        int64_t offset = np ? nonpad - g.Sq : g.P;
        for (int64_t h = 0; h < g.Hq; h++) {
            int64_t kh = h / group;
            const float *qh = qb + (b * g.Hq + h) * g.Sq * g.Dk;
            const float *kk = ksb + (b * g.Hkv + kh) * g.T * g.Dk;
            const float *vv = vb + (b * g.Hkv + kh) * g.T * g.Dv;
            /* sc (Sq, T) = qh (Sq, Dk) kk^T (Dk, T) */
            nt_gemm_f32(false, true, g.Sq, g.T, g.Dk, 1.0f, qh, g.Dk, kk, g.Dk, 0.0f, sc, g.T);
            nt_att_round_n(dt, sc, (int64_t)nsc);
            int64_t qkbase = (b * g.Hq + h) * (int64_t)nsc;
            if (oqk && a->qk_mode == 0)
                for (size_t i = 0; i < nsc; i++)
                    nt_att_set(oqk, qkbase + (int64_t)i, sc[i]);
            if (a->softcap != 0.0f) {
                float cap = nt_att_round(dt, a->softcap);
                for (size_t i = 0; i < nsc; i++)
                    sc[i] = nt_att_round(dt, nt_att_round(dt, tanhf(nt_att_round(dt, sc[i] / cap))) * cap);
            }
            if (oqk && a->qk_mode == 1)
                for (size_t i = 0; i < nsc; i++)
                    nt_att_set(oqk, qkbase + (int64_t)i, sc[i]);
            for (int64_t i = 0; i < g.Sq; i++)
                for (int64_t j = 0; j < g.T; j++) {
                    float bv = m ? att_mask_at(m, mst, mcols, b, h, i, j) : 0.0f;
                    if (a->is_causal && j > i + offset)
                        bv += -INFINITY;
                    if (np && j >= nonpad)
                        bv += -INFINITY;
                    bias[i * g.T + j] = nt_att_round(dt, bv);
                    sc[i * g.T + j] = nt_att_round(dt, sc[i * g.T + j] + bias[i * g.T + j]);
                }
            if (oqk && a->qk_mode == 2)
                for (size_t i = 0; i < nsc; i++)
                    nt_att_set(oqk, qkbase + (int64_t)i, sc[i]);
            for (int64_t i = 0; i < g.Sq; i++) {
                float *row = sc + i * g.T;
                const float *brow = bias + i * g.T;
                bool all_masked = true;
                float mx = -INFINITY;
                for (int64_t j = 0; j < g.T; j++) {
                    if (!(isinf(brow[j]) && brow[j] < 0))
                        all_masked = false;
                    if (row[j] > mx || j == 0)
                        mx = row[j];
                }
                if (all_masked) {
                    for (int64_t j = 0; j < g.T; j++)
                        row[j] = 0.0f;
                    continue;
                }
                double sum = 0;
                for (int64_t j = 0; j < g.T; j++) {
                    row[j] = expf(row[j] - mx);
                    sum += row[j];
                }
                float inv = (float)(1.0 / sum);
                for (int64_t j = 0; j < g.T; j++)
                    row[j] = nt_att_round(dt, row[j] * inv);
            }
            if (oqk && a->qk_mode == 3)
                for (size_t i = 0; i < nsc; i++)
                    nt_att_set(oqk, qkbase + (int64_t)i, sc[i]);
            /* yb (Sq, Dv) = p (Sq, T) vv (T, Dv) */
            nt_gemm_f32(false, false, g.Sq, g.Dv, g.T, 1.0f, sc, g.T, vv, g.Dv, 0.0f, yb, g.Dv);
            for (int64_t i = 0; i < g.Sq; i++)
                for (int64_t d = 0; d < g.Dv; d++) {
                    int64_t o = g.q3 ? (b * g.Sq + i) * g.Hq * g.Dv + h * g.Dv + d
                                     : ((b * g.Hq + h) * g.Sq + i) * g.Dv + d;
                    nt_att_set(y, o, yb[i * g.Dv + d]);
                }
        }
    }
    free(qb);
    return NT_OK;
}

const nt_op_def nt_ops_attention[] = {
    {"Attention", "", 23, att_prepare, free, att_infer, att_compute},
    {"Attention", "", 24, att_prepare, free, att_infer, att_compute},
    {"FlexAttention", "ai.onnx.preview", 1, NULL, NULL, nt_flex_infer, nt_flex_compute},
};
const size_t nt_ops_attention_count = NT_ARRAY_LEN(nt_ops_attention);
