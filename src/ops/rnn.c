/*
 * rnn.c — the recurrent operators RNN, GRU and LSTM (float32).
 *
 * The three share one driver: attribute parsing (direction, activations
 * with their alpha/beta, clip, layout), shape inference, sequence_lens and
 * initial state handling, and the output layouts.  Only the per-timestep cell
 * differs.  Per direction:
 *
 *   XW = X (T*N, I) x W^T (I, G*H) + folded biases      one GEMM for all steps
 *                       (rnn_step.c's kernel, two rows at a time, when W is
 *                       small: RNN_OWN_W_MAX)
 *   for each step t (reversed for the backward direction):
 *       HR = H (N, H) x R^T (H, G*H) + XW[t]              one GEMM per step
 *                       (rnn_step.c's kernel for a batch of up to
 *                       NT_RNN_SMALL_N rows: a BLAS call costs more than
 *                       the work at these sizes)
 *       gates = act(clip(HR)) ... the cell's equations
 *                       (rnn_step.c's fused cells for the default
 *                       activations without clip, peepholes or
 *                       input_forget)
 *
 * where T is seq_length, N batch_size, I input_size, H hidden_size and G the
 * number of gates (RNN 1, GRU 3 in order z r h, LSTM 4 in order i o f c).
 *
 * Layouts: layout 0 (the default, and the only one before opset 14) is
 * time-major — X (T, N, I), Y (T, D, N, H), Y_h/Y_c/initial_h/initial_c
 * (D, N, H); layout 1 is batch-major — X (N, T, I), Y (N, T, D, H), states
 * (N, D, H).  Rather than transposing, the kernels index rows through
 * small offset functions, so both layouts run the same loops.
 *
 * sequence_lens: batch entry n only runs its first len[n] steps; its state is
 * frozen past them and Y holds zeros there (as ONNX Runtime does).  The
 * backward direction of entry n starts at step len[n] - 1.
 *
 * Biases that are added outside any product are folded into XW once: every
 * Wb + Rb pair, except GRU's Rbh when linear_before_reset is set, where it
 * sits inside r * (H Rh^T + Rbh).  R^T and the folded biases are built once
 * and kept in the node's state while R and B are constants of the graph.
 */
#include "ops/kernel.h"
#include "ops/elementwise_common.h"
#include "ops/ew_math.h"
#include "ops/rnn_step.h"

#include <cblas.h>
#include <math.h>
/* cblas.h may pull in <complex.h>, whose macro I would shadow our input size */
#undef I
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { RNN_SIMPLE, RNN_GRU, RNN_LSTM } rnn_kind;

typedef enum {
    ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_AFFINE, ACT_LEAKYRELU, ACT_THRESHOLDEDRELU,
    ACT_SCALEDTANH, ACT_HARDSIGMOID, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS
} rnn_act_kind;

typedef struct rnn_act {
    rnn_act_kind kind;
    float alpha, beta;
} rnn_act;

/* The activation names ONNX allows, with which parameters each takes and
 * the defaults of the standalone operators of the same name (used when
 * activation_alpha/beta run out). */
static const struct {
    const char *name;
    rnn_act_kind kind;
    bool has_alpha, has_beta;
    float alpha, beta;
} rnn_act_table[] = {
    {"Sigmoid", ACT_SIGMOID, false, false, 0, 0},
    {"Tanh", ACT_TANH, false, false, 0, 0},
    {"Relu", ACT_RELU, false, false, 0, 0},
    {"Affine", ACT_AFFINE, true, true, 1.0f, 0.0f},
    {"LeakyRelu", ACT_LEAKYRELU, true, false, 0.01f, 0},
    {"ThresholdedRelu", ACT_THRESHOLDEDRELU, true, false, 1.0f, 0},
    {"ScaledTanh", ACT_SCALEDTANH, true, true, 1.0f, 1.0f},
    {"HardSigmoid", ACT_HARDSIGMOID, true, true, 0.2f, 0.5f},
    {"Elu", ACT_ELU, true, false, 1.0f, 0},
    {"Softsign", ACT_SOFTSIGN, false, false, 0, 0},
    {"Softplus", ACT_SOFTPLUS, false, false, 0, 0},
};

/* What prepare learns from the attributes. */
typedef struct rnn_state {
    rnn_kind kind;
    int gates;            /* G: 1, 3 or 4 */
    int nacts;            /* activations per direction: 1, 2 or 3 */
    int ndir;             /* D: 1 or 2 */
    bool reverse;         /* direction == "reverse" (ndir == 1) */
    int64_t hidden;       /* hidden_size attribute; 0 when absent (taken from R) */
    rnn_act act[2][3];    /* [direction][f, g, h] */
    bool has_clip;
    float clip;
    bool input_forget;    /* LSTM: couple the forget gate to the input gate */
    bool lbr;             /* GRU: linear_before_reset */
    int layout;           /* 0 time-major, 1 batch-major */
    bool fast[2];         /* [direction]: default activations, no clip, no
                           * input_forget: rnn_step.c's fused cells (LSTM
                           * without peepholes, GRU with linear_before_reset) */
    /* rnn_pack's operands, kept while W, R and B are graph constants
     * (w_src, r_src, b_src: the data they were built from); NULL until then */
    float *pack;
    const void *w_src, *r_src, *b_src;
    int64_t pack_h, pack_i;  /* H and input size it was built for */
    bool pack_small;         /* whether it holds R^T (the batch was small) */
} rnn_state;

/* ---------------------------------------------------------------- activations */

/* v[0..n) = act(clip(v)) in place; clip <= 0 means no clipping.  Sigmoid
 * and tanh use ew_math.h's vectorizable exp and tanh (the Sigmoid and Tanh
 * operators' own), the loop compiled per CPU with the same bits. */
NT_EW_NO_TRAP NT_EW_ATTR_FLOAT static void rnn_apply(const rnn_act *a, float clip, float *v, int64_t n)
{
    if (clip > 0)
        for (int64_t i = 0; i < n; i++)
            v[i] = v[i] < -clip ? -clip : (v[i] > clip ? clip : v[i]);
    const float al = a->alpha, be = a->beta;
    switch (a->kind) {
    case ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            v[i] = 1.0f / (1.0f + nt_ew_expf(-v[i]));
        break;
    case ACT_TANH:
        for (int64_t i = 0; i < n; i++)
            v[i] = nt_ew_tanhf(v[i]);
        break;
    case ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            v[i] = v[i] > 0 ? v[i] : 0.0f;
        break;
    case ACT_AFFINE:
        for (int64_t i = 0; i < n; i++)
            v[i] = al * v[i] + be;
        break;
    case ACT_LEAKYRELU:
        for (int64_t i = 0; i < n; i++)
            v[i] = v[i] >= 0 ? v[i] : al * v[i];
        break;
    case ACT_THRESHOLDEDRELU:
        for (int64_t i = 0; i < n; i++)
            v[i] = v[i] > al ? v[i] : 0.0f;
        break;
    case ACT_SCALEDTANH:
        for (int64_t i = 0; i < n; i++)
            v[i] = al * nt_ew_tanhf(be * v[i]);
        break;
    case ACT_HARDSIGMOID:
        for (int64_t i = 0; i < n; i++) {
            float y = al * v[i] + be;
            v[i] = y < 0 ? 0.0f : (y > 1 ? 1.0f : y);
        }
        break;
    case ACT_ELU:
        for (int64_t i = 0; i < n; i++)
            v[i] = v[i] >= 0 ? v[i] : al * (expf(v[i]) - 1.0f);
        break;
    case ACT_SOFTSIGN:
        for (int64_t i = 0; i < n; i++)
            v[i] = v[i] / (1.0f + fabsf(v[i]));
        break;
    case ACT_SOFTPLUS:
        /* log(1 + e^x) without overflow for large x */
        for (int64_t i = 0; i < n; i++)
            v[i] = v[i] > 0 ? v[i] + log1pf(expf(-v[i])) : log1pf(expf(v[i]));
        break;
    }
}

/* ---------------------------------------------------------------- prepare */

/* Parses direction, hidden_size, activations (+alpha/beta), clip, layout
 * and the op-specific flags.  Unknown activations or directions are
 * NT_ERR_UNSUPPORTED. */
static nt_status rnn_prepare(const nt_node *node, int opset, void **state)
{
    rnn_state *st = nt_calloc(1, sizeof *st);
    if (!st)
        return NT_ERR_NOMEM;
    nt_status s = NT_OK;
    if (strcmp(node->op_type, "GRU") == 0) {
        st->kind = RNN_GRU, st->gates = 3, st->nacts = 2;
    } else if (strcmp(node->op_type, "LSTM") == 0) {
        st->kind = RNN_LSTM, st->gates = 4, st->nacts = 3;
    } else {
        st->kind = RNN_SIMPLE, st->gates = 1, st->nacts = 1;
    }
    const char *dir = nt_node_attr_string(node, "direction", "forward");
    if (strcmp(dir, "forward") == 0) {
        st->ndir = 1;
    } else if (strcmp(dir, "reverse") == 0) {
        st->ndir = 1;
        st->reverse = true;
    } else if (strcmp(dir, "bidirectional") == 0) {
        st->ndir = 2;
    } else {
        s = nt_error(NT_ERR_UNSUPPORTED, "node '%s' (%s): unknown direction '%s'", node->name, node->op_type, dir);
        goto fail;
    }
    st->hidden = nt_node_attr_int(node, "hidden_size", 0);
    if (st->hidden < 0) {
        s = nt_error(NT_ERR_SHAPE, "node '%s' (%s): negative hidden_size", node->name, node->op_type);
        goto fail;
    }
    st->layout = opset >= 14 ? (int)nt_node_attr_int(node, "layout", 0) : 0;
    if (st->layout != 0 && st->layout != 1) {
        s = nt_error(NT_ERR_UNSUPPORTED, "node '%s' (%s): layout %d", node->name, node->op_type, st->layout);
        goto fail;
    }
    const nt_attr *clip = nt_node_attr(node, "clip");
    if (clip) {
        st->has_clip = true;
        st->clip = nt_node_attr_float(node, "clip", 0.0f);
        if (!(st->clip > 0)) {
            s = nt_error(NT_ERR_SHAPE, "node '%s' (%s): clip must be positive", node->name, node->op_type);
            goto fail;
        }
    }
    st->input_forget = st->kind == RNN_LSTM && nt_node_attr_int(node, "input_forget", 0) != 0;
    st->lbr = st->kind == RNN_GRU && nt_node_attr_int(node, "linear_before_reset", 0) != 0;

    /* activations: either one set for all directions or one per direction */
    static const char *const defaults[3][3] = {{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
    const nt_attr *acts = nt_node_attr(node, "activations");
    if (acts && (acts->type != NT_ATTR_STRINGS || !acts->strings)) {
        s = nt_error(NT_ERR_SHAPE, "node '%s' (%s): activations must be a list of strings", node->name,
                     node->op_type);
        goto fail;
    }
    int nacts = acts ? acts->n : 0;
    if (acts && nacts != st->nacts && nacts != st->nacts * st->ndir) {
        s = nt_error(NT_ERR_SHAPE, "node '%s' (%s): %d activations, expected %d", node->name, node->op_type, nacts,
                     st->nacts * st->ndir);
        goto fail;
    }
    const float *alphas = NULL, *betas = NULL;
    int na = nt_node_attr_floats(node, "activation_alpha", &alphas);
    int nb = nt_node_attr_floats(node, "activation_beta", &betas);
    int ia = 0, ib = 0;
    for (int d = 0; d < st->ndir; d++)
        for (int k = 0; k < st->nacts; k++) {
            const char *name = acts ? acts->strings[nacts == st->nacts ? k : d * st->nacts + k]
                                    : defaults[st->nacts - 1][k];
            size_t e = 0;
            while (e < NT_ARRAY_LEN(rnn_act_table) && strcasecmp(rnn_act_table[e].name, name) != 0)
                e++;
            if (e == NT_ARRAY_LEN(rnn_act_table)) {
                s = nt_error(NT_ERR_UNSUPPORTED, "node '%s' (%s): activation '%s' not supported", node->name,
                             node->op_type, name);
                goto fail;
            }
            rnn_act *a = &st->act[d][k];
            a->kind = rnn_act_table[e].kind;
            a->alpha = rnn_act_table[e].alpha;
            a->beta = rnn_act_table[e].beta;
            /* alpha/beta lists are consumed in order by the functions that
             * take them, across directions (ONNX Runtime's reading) */
            if (rnn_act_table[e].has_alpha && ia < na)
                a->alpha = alphas[ia++];
            if (rnn_act_table[e].has_beta && ib < nb)
                a->beta = betas[ib++];
        }
    for (int d = 0; d < st->ndir; d++) {
        const rnn_act *a = st->act[d];
        bool dflt = st->kind == RNN_LSTM ? a[0].kind == ACT_SIGMOID && a[1].kind == ACT_TANH && a[2].kind == ACT_TANH
                                         : a[0].kind == ACT_SIGMOID && a[1].kind == ACT_TANH;
        st->fast[d] = st->kind != RNN_SIMPLE && dflt && !st->has_clip && !st->input_forget &&
                      (st->kind == RNN_LSTM || st->lbr);
    }
    *state = st;
    return NT_OK;
fail:
    free(st);
    return s;
}

static void rnn_release(void *state)
{
    rnn_state *st = state;
    if (st)
        free(st->pack);
    free(st);
}

/* ---------------------------------------------------------------- infer */

/* Shapes (layout 0 / layout 1):
 *   Y   (T, D, N, H) / (N, T, D, H)
 *   Y_h (D, N, H)    / (N, D, H)       Y_c the same (LSTM)
 * Unknown dims stay -1 in static mode. */
static nt_status rnn_infer(nt_kernel_ctx *ctx)
{
    const rnn_state *st = ctx->state;
    const nt_tensor *x = nt_ctx_in(ctx, 0), *w = nt_ctx_in(ctx, 1), *r = nt_ctx_in(ctx, 2);
    if (!x || !w || !r)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X, W and R are required");
    for (int i = 0; i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (!t)
            continue;
        nt_dtype want = i == 4 ? NT_DTYPE_INT32 : NT_DTYPE_FLOAT;
        if (t->dtype != want)
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input %d has dtype %s (only float32 is supported)", i,
                                nt_dtype_name(t->dtype));
    }
    if (ctx->n_in > (st->kind == RNN_LSTM ? 8 : 6))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "too many inputs (%d)", ctx->n_in);
    int64_t T = -1, N = -1, I = -1, H = st->hidden > 0 ? st->hidden : -1, D = st->ndir, G = st->gates;
    if (x->ndim >= 0) {
        if (x->ndim != 3)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "X must have rank 3, has %d", x->ndim);
        T = st->layout ? x->dims[1] : x->dims[0];
        N = st->layout ? x->dims[0] : x->dims[1];
        I = x->dims[2];
    }
    if (H < 0 && r->ndim == 3)
        H = r->dims[2];
    if (!ctx->static_mode || !nt_ctx_shapes_unknown(ctx)) {
        /* everything is known: check the parameter shapes against X */
        const nt_tensor *b = nt_ctx_in(ctx, 3), *sl = nt_ctx_in(ctx, 4), *h0 = nt_ctx_in(ctx, 5);
        const nt_tensor *c0 = st->kind == RNN_LSTM ? nt_ctx_in(ctx, 6) : NULL;
        const nt_tensor *p = st->kind == RNN_LSTM ? nt_ctx_in(ctx, 7) : NULL;
        int64_t sd0 = st->layout ? N : D, sd1 = st->layout ? D : N;
        bool ok = w->ndim == 3 && w->dims[0] == D && w->dims[1] == G * H && w->dims[2] == I;
        ok = ok && r->ndim == 3 && r->dims[0] == D && r->dims[1] == G * H && r->dims[2] == H;
        ok = ok && (!b || (b->ndim == 2 && b->dims[0] == D && b->dims[1] == 2 * G * H));
        ok = ok && (!sl || (sl->ndim == 1 && sl->dims[0] == N));
        ok = ok && (!h0 || (h0->ndim == 3 && h0->dims[0] == sd0 && h0->dims[1] == sd1 && h0->dims[2] == H));
        ok = ok && (!c0 || (c0->ndim == 3 && c0->dims[0] == sd0 && c0->dims[1] == sd1 && c0->dims[2] == H));
        ok = ok && (!p || (p->ndim == 2 && p->dims[0] == D && p->dims[1] == 3 * H));
        if (!ok)
            return nt_ctx_error(ctx, NT_ERR_SHAPE,
                                "parameter shapes do not fit X (seq %lld, batch %lld, input %lld), "
                                "hidden %lld, %lld direction(s)",
                                (long long)T, (long long)N, (long long)I, (long long)H, (long long)D);
        if (sl && !ctx->static_mode) {
            const int32_t *len = sl->data;
            for (int64_t n = 0; n < N; n++)
                if (len[n] < 0 || len[n] > T)
                    return nt_ctx_error(ctx, NT_ERR_SHAPE, "sequence_lens[%lld] = %d outside [0, %lld]",
                                        (long long)n, len[n], (long long)T);
        }
    }
    int64_t ydims[4], hdims[3];
    if (st->layout) {
        ydims[0] = N, ydims[1] = T, ydims[2] = D, ydims[3] = H;
        hdims[0] = N, hdims[1] = D, hdims[2] = H;
    } else {
        ydims[0] = T, ydims[1] = D, ydims[2] = N, ydims[3] = H;
        hdims[0] = D, hdims[1] = N, hdims[2] = H;
    }
    nt_status s = nt_ctx_set_output(ctx, 0, NT_DTYPE_FLOAT, 4, ydims);
    if (s == NT_OK)
        s = nt_ctx_set_output(ctx, 1, NT_DTYPE_FLOAT, 3, hdims);
    if (s == NT_OK && st->kind == RNN_LSTM)
        s = nt_ctx_set_output(ctx, 2, NT_DTYPE_FLOAT, 3, hdims);
    else if (s == NT_OK && nt_ctx_out(ctx, 2))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s has two outputs", ctx->node->op_type);
    return s;
}

/* ---------------------------------------------------------------- compute */

/* Everything one direction's loop needs; pointers borrowed. */
typedef struct rnn_run {
    const rnn_state *st;
    int64_t T, N, I, H, G;
    int d;                   /* direction index (0 forward or the only one, 1 backward) */
    bool backward;
    bool fast;               /* st->fast[d] and no peepholes */
    const float *x;          /* X in its layout */
    const float *w, *r;      /* this direction's W (G*H, I), R (G*H, H) */
    const float *b;          /* this direction's B (2*G*H) or NULL */
    const float *bf;         /* this direction's folded biases (G*H) or NULL */
    const float *p;          /* this direction's P (3*H) or NULL */
    const float *rt;         /* this direction's R^T (H, G*H) for a small batch, else NULL */
    const float *wt;         /* this direction's W^T (I, G*H) for rnn_step.c's kernel, else NULL */
    const int32_t *len;      /* (N) or NULL */
    const float *h0, *c0;    /* initial states in their layout, or NULL */
    float *y, *yh, *yc;      /* outputs or NULL */
    float *xw;               /* scratch (T*N, G*H) */
    float *hr;               /* scratch (N, G*H) */
    float *h, *c;            /* state (N, H) each */
    float *tmp;              /* scratch (N, H): GRU r*H, LSTM unused */
} rnn_run;

/* Row of X / XW for step t, batch n (layout 0: t*N + n; layout 1: n*T + t). */
static inline int64_t rnn_xrow(const rnn_run *k, int64_t t, int64_t n)
{
    return k->st->layout ? n * k->T + t : t * k->N + n;
}

/* Offset of (t, direction, n) in Y. */
static inline int64_t rnn_yoff(const rnn_run *k, int64_t t, int64_t n)
{
    int64_t D = k->st->ndir;
    return (k->st->layout ? (n * k->T + t) * D + k->d : (t * D + k->d) * k->N + n) * k->H;
}

/* Offset of (direction, n) in Y_h, Y_c, initial_h, initial_c. */
static inline int64_t rnn_hoff(const rnn_run *k, int64_t n)
{
    int64_t D = k->st->ndir;
    return (k->st->layout ? n * D + k->d : k->d * k->N + n) * k->H;
}

/* The generic cells below take hr with XW[t] already added to the columns
 * rnn_add_cols names; they keep the order of operations of the ONNX
 * equations, which rnn_step.c's fused cells reproduce bit for bit. */

/* One RNN step for batch row n: h = f(hr). */
static void rnn_cell_simple(rnn_run *k, float *hr, int64_t n)
{
    const rnn_act *a = k->st->act[k->d];
    float clip = k->st->has_clip ? k->st->clip : 0;
    rnn_apply(&a[0], clip, hr, k->H);
    memcpy(k->h + n * k->H, hr, (size_t)k->H * sizeof(float));
}

/* One LSTM step for batch row n; gates (i, o, f, c) each H wide in hr. */
static void rnn_cell_lstm(rnn_run *k, float *hr, int64_t n)
{
    const rnn_act *a = k->st->act[k->d];
    float clip = k->st->has_clip ? k->st->clip : 0;
    int64_t H = k->H;
    float *h = k->h + n * H, *c = k->c + n * H;
    float *gi = hr, *go = hr + H, *gf = hr + 2 * H, *gc = hr + 3 * H;
    if (k->p)
        for (int64_t j = 0; j < H; j++) {
            gi[j] += k->p[j] * c[j];
            gf[j] += k->p[2 * H + j] * c[j];
        }
    rnn_apply(&a[0], clip, gi, H);
    if (k->st->input_forget)
        for (int64_t j = 0; j < H; j++)
            gf[j] = 1.0f - gi[j];
    else
        rnn_apply(&a[0], clip, gf, H);
    rnn_apply(&a[1], clip, gc, H);
    for (int64_t j = 0; j < H; j++)
        c[j] = gf[j] * c[j] + gi[j] * gc[j];
    if (k->p)
        for (int64_t j = 0; j < H; j++)
            go[j] += k->p[H + j] * c[j];
    rnn_apply(&a[0], clip, go, H);
    /* h = o * h_act(c): reuse gi as the h_act(c) buffer */
    memcpy(gi, c, (size_t)H * sizeof(float));
    rnn_apply(&a[2], 0, gi, H);
    for (int64_t j = 0; j < H; j++)
        h[j] = go[j] * gi[j];
}

/* GRU step, first half, for batch row n: z and r gates from hr (which holds
 * H R[z,r]^T + XW[z,r], and with linear_before_reset also H Rh^T). */
static void rnn_cell_gru_zr(rnn_run *k, float *hr, int64_t n)
{
    const rnn_act *a = k->st->act[k->d];
    float clip = k->st->has_clip ? k->st->clip : 0;
    rnn_apply(&a[0], clip, hr, 2 * k->H);
    /* tmp = r * H_prev (the input of the default formulation's Rh product) */
    const float *r = hr + k->H, *h = k->h + n * k->H;
    float *t = k->tmp + n * k->H;
    for (int64_t j = 0; j < k->H; j++)
        t[j] = r[j] * h[j];
}

/* GRU step, second half: h~ = g(xw_h + r * (hrh + Rbh)) with
 * linear_before_reset, else g(hrh) (XW[h] added by the product), and
 * H = (1-z) h~ + z H. */
static void rnn_cell_gru_h(rnn_run *k, const float *xw, float *hr, int64_t n)
{
    const rnn_act *a = k->st->act[k->d];
    float clip = k->st->has_clip ? k->st->clip : 0;
    int64_t H = k->H;
    float *z = hr, *r = hr + H, *hh = hr + 2 * H, *h = k->h + n * H;
    if (k->st->lbr) {
        const float *rbh = k->b ? k->b + 3 * H + 2 * H : NULL;
        for (int64_t j = 0; j < H; j++)
            hh[j] = xw[2 * H + j] + r[j] * (hh[j] + (rbh ? rbh[j] : 0.0f));
    }
    rnn_apply(&a[1], clip, hh, H);
    for (int64_t j = 0; j < H; j++)
        h[j] = (1.0f - z[j]) * hh[j] + z[j] * h[j];
}

/* Whether batch row n runs step t. */
static inline bool rnn_active(const rnn_run *k, int64_t t, int64_t n)
{
    return !k->len || t < k->len[n];
}

/* HR[:, col0 .. col0+cols) = A (N, H) x R[col0 .. col0+cols)^T + XW[t][same
 * columns, only the first add_cols of them]: rnn_step.c's kernel for a small
 * batch (on R^T), else a BLAS call and the same additions after it. */
static void rnn_step_product(rnn_run *k, int64_t t, const float *a, int64_t col0, int64_t cols, int64_t add_cols)
{
    int64_t N = k->N, H = k->H, GH = k->G * H;
    if (k->rt) {
        const float *add[NT_RNN_SMALL_N];
        for (int64_t n = 0; n < N; n++)
            add[n] = k->xw + rnn_xrow(k, t, n) * GH + col0;
        nt_rnn_step_product(a, N, H, k->rt + col0, GH, cols, add, add_cols, k->hr + col0, GH);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)N, (int)cols, (int)H, 1.0f, a, (int)H,
                k->r + col0 * H, (int)H, 0.0f, k->hr + col0, (int)GH);
    for (int64_t n = 0; n < N; n++) {
        const float *xw = k->xw + rnn_xrow(k, t, n) * GH + col0;
        float *hr = k->hr + n * GH + col0;
        for (int64_t j = 0; j < add_cols; j++)
            hr[j] += xw[j];
    }
}

/* Runs one direction over all steps. */
static void rnn_direction(rnn_run *k)
{
    const rnn_state *st = k->st;
    int64_t T = k->T, N = k->N, I = k->I, H = k->H, GH = k->G * H;

    /* XW (T*N, G*H) = X (T*N, I) x W^T + folded biases */
    if (k->wt) {
        const float *add[2] = {k->bf, k->bf};
        for (int64_t row = 0; row < T * N; row += 2)
            nt_rnn_step_product(k->x + row * I, T * N - row < 2 ? 1 : 2, I, k->wt, GH, GH, add, k->bf ? GH : 0,
                                k->xw + row * GH, GH);
    } else {
        if (I > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(T * N), (int)GH, (int)I, 1.0f, k->x, (int)I,
                        k->w, (int)I, 0.0f, k->xw, (int)GH);
        else
            memset(k->xw, 0, (size_t)(T * N * GH) * sizeof(float));
        if (k->bf)
            for (int64_t row = 0; row < T * N; row++) {
                float *o = k->xw + row * GH;
                for (int64_t j = 0; j < GH; j++)
                    o[j] += k->bf[j];
            }
    }

    /* initial states */
    for (int64_t n = 0; n < N; n++) {
        if (k->h0)
            memcpy(k->h + n * H, k->h0 + rnn_hoff(k, n), (size_t)H * sizeof(float));
        else
            memset(k->h + n * H, 0, (size_t)H * sizeof(float));
        if (k->c) {
            if (k->c0)
                memcpy(k->c + n * H, k->c0 + rnn_hoff(k, n), (size_t)H * sizeof(float));
            else
                memset(k->c + n * H, 0, (size_t)H * sizeof(float));
        }
    }

    bool gru = st->kind == RNN_GRU;
    const float *rbh = gru && k->b ? k->b + 5 * H : NULL;
    for (int64_t s = 0; s < T; s++) {
        int64_t t = k->backward ? T - 1 - s : s;
        /* HR (N, G*H) = H (N, H) x R^T + XW[t]; a GRU adds XW only to its z
         * and r gates (XW[h] goes inside the cell with linear_before_reset),
         * and without linear_before_reset first multiplies only by the z and
         * r rows of R */
        if (!gru)
            rnn_step_product(k, t, k->h, 0, GH, GH);
        else
            rnn_step_product(k, t, k->h, 0, st->lbr ? GH : 2 * H, 2 * H);
        for (int64_t n = 0; n < N; n++) {
            if (!rnn_active(k, t, n))
                continue;
            float *hr = k->hr + n * GH;
            if (k->fast && !gru)
                nt_rnn_lstm_cell(hr, H, k->c + n * H, k->h + n * H);
            else if (k->fast)
                nt_rnn_gru_lbr_cell(hr, k->xw + rnn_xrow(k, t, n) * GH + 2 * H, rbh, H, k->h + n * H);
            else if (st->kind == RNN_SIMPLE)
                rnn_cell_simple(k, hr, n);
            else if (st->kind == RNN_LSTM)
                rnn_cell_lstm(k, hr, n);
            else
                rnn_cell_gru_zr(k, hr, n);
        }
        if (gru && !k->fast) {
            if (!st->lbr) /* HR[:, h] (N, H) = (r * H) (N, H) x Rh^T (H, H) + XW[h] */
                rnn_step_product(k, t, k->tmp, 2 * H, H, H);
            for (int64_t n = 0; n < N; n++)
                if (rnn_active(k, t, n))
                    rnn_cell_gru_h(k, k->xw + rnn_xrow(k, t, n) * GH, k->hr + n * GH, n);
        }
        if (k->y)
            for (int64_t n = 0; n < N; n++) {
                float *y = k->y + rnn_yoff(k, t, n);
                if (rnn_active(k, t, n))
                    memcpy(y, k->h + n * H, (size_t)H * sizeof(float));
                else
                    memset(y, 0, (size_t)H * sizeof(float));
            }
    }
    for (int64_t n = 0; n < N; n++) {
        if (k->yh)
            memcpy(k->yh + rnn_hoff(k, n), k->h + n * H, (size_t)H * sizeof(float));
        if (k->yc)
            memcpy(k->yc + rnn_hoff(k, n), k->c + n * H, (size_t)H * sizeof(float));
    }
}

/* Largest W (G*H x I floats per direction) whose input projection runs on
 * rnn_step.c's kernel from a kept W^T: up to here the per-call cost of a
 * BLAS GEMM outweighs its faster inner loop. */
#define RNN_OWN_W_MAX 65536

/* Where rnn_pack puts each operand (floats from the start; -1 absent) and
 * its size: R^T (D, H, G*H) for a small batch, W^T (D, I, G*H) when W is
 * small, the folded biases (D, G*H) when B is given. */
typedef struct rnn_pack_layout {
    int64_t rt, wt, bf, total;
} rnn_pack_layout;

static rnn_pack_layout rnn_pack_plan(const rnn_state *st, int64_t H, int64_t I, bool small, bool has_b)
{
    int64_t D = st->ndir, GH = st->gates * H, at = 0;
    rnn_pack_layout l = {-1, -1, -1, 0};
    if (small)
        l.rt = at, at += D * H * GH;
    if (I > 0 && GH * I <= RNN_OWN_W_MAX)
        l.wt = at, at += D * I * GH;
    if (has_b)
        l.bf = at, at += D * GH;
    l.total = at;
    return l;
}

/* Transposes each direction's M (G*H, K) into (K, G*H). */
static void rnn_pack_transpose(int64_t D, int64_t GH, int64_t K, const float *m, float *out)
{
    for (int64_t d = 0; d < D; d++)
        for (int64_t j = 0; j < GH; j++)
            for (int64_t kk = 0; kk < K; kk++)
                out[d * K * GH + kk * GH + j] = m[d * GH * K + j * K + kk];
}

/* Fills pack as l says.  The folded biases are Wb + Rb, except Rbh of a GRU
 * with linear_before_reset, which the cell adds inside r * (...). */
static void rnn_pack(const rnn_state *st, const rnn_pack_layout *l, int64_t H, int64_t I, const float *w,
                     const float *r, const float *b, float *pack)
{
    int64_t D = st->ndir, GH = st->gates * H;
    if (l->rt >= 0)
        rnn_pack_transpose(D, GH, H, r, pack + l->rt);
    if (l->wt >= 0)
        rnn_pack_transpose(D, GH, I, w, pack + l->wt);
    if (l->bf < 0)
        return;
    float *bf = pack + l->bf;
    for (int64_t d = 0; d < D; d++)
        for (int64_t j = 0; j < GH; j++) {
            bool fold_r = !(st->kind == RNN_GRU && st->lbr && j >= 2 * H);
            bf[d * GH + j] = b[d * 2 * GH + j] + (fold_r ? b[d * 2 * GH + GH + j] : 0.0f);
        }
}

static nt_status rnn_compute(nt_kernel_ctx *ctx)
{
    rnn_state *st = ctx->state;
    const nt_tensor *x = ctx->in[0], *w = ctx->in[1], *r = ctx->in[2];
    const nt_tensor *b = nt_ctx_in(ctx, 3), *sl = nt_ctx_in(ctx, 4), *h0 = nt_ctx_in(ctx, 5);
    const nt_tensor *c0 = st->kind == RNN_LSTM ? nt_ctx_in(ctx, 6) : NULL;
    const nt_tensor *p = st->kind == RNN_LSTM ? nt_ctx_in(ctx, 7) : NULL;
    nt_tensor *y = nt_ctx_out(ctx, 0), *yh = nt_ctx_out(ctx, 1);
    nt_tensor *yc = st->kind == RNN_LSTM ? nt_ctx_out(ctx, 2) : NULL;
    int64_t T = st->layout ? x->dims[1] : x->dims[0], N = st->layout ? x->dims[0] : x->dims[1];
    int64_t I = x->dims[2], H = r->dims[2], G = st->gates;
    if (T > INT32_MAX || N > INT32_MAX || I > INT32_MAX || G * H > INT32_MAX || T * N > INT32_MAX)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dimensions too large for BLAS");

    if (N == 0 || H == 0)
        return NT_OK; /* every output is empty */

    /* R^T, W^T and folded biases: the state's while W, R and B are
     * constants, else built into this run's scratch */
    bool small = N <= NT_RNN_SMALL_N;
    rnn_pack_layout pl = rnn_pack_plan(st, H, I, small, b != NULL);
    size_t pack_floats = (size_t)pl.total;
    const void *b_data = b ? b->data : NULL;
    bool keep = nt_ctx_input_constant(ctx, 1) && nt_ctx_input_constant(ctx, 2) && (!b || nt_ctx_input_constant(ctx, 3));
    bool packed = keep && st->pack && st->w_src == w->data && st->r_src == r->data && st->b_src == b_data &&
                  st->pack_h == H && st->pack_i == I && st->pack_small == small;
    if (keep && !packed) {
        /* (re)build: first run, or the batch crossed NT_RNN_SMALL_N */
        free(st->pack);
        st->pack = nt_malloc((pack_floats + 1) * sizeof(float));
        st->w_src = st->r_src = st->b_src = NULL;
        if (st->pack) {
            rnn_pack(st, &pl, H, I, w->data, r->data, b_data, st->pack);
            st->w_src = w->data;
            st->r_src = r->data;
            st->b_src = b_data;
            st->pack_h = H;
            st->pack_i = I;
            st->pack_small = small;
            packed = true;
        }
    }

    /* one scratch block: xw (T*N, G*H), hr (N, G*H), h, c, tmp (N, H) each,
     * and the packed R^T and biases when not kept */
    size_t n_floats = (size_t)(T * N * G * H + N * G * H + 3 * N * H) + (packed ? 0 : pack_floats) + 1;
    float *scratch = nt_malloc(n_floats * sizeof(float));
    if (!scratch)
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "out of memory for %zu floats", n_floats);
    rnn_run k = {0};
    k.st = st;
    k.T = T, k.N = N, k.I = I, k.H = H, k.G = G;
    k.x = x->data;
    k.len = sl ? sl->data : NULL;
    k.h0 = h0 ? h0->data : NULL;
    k.c0 = c0 ? c0->data : NULL;
    k.y = y ? y->data : NULL;
    k.yh = yh ? yh->data : NULL;
    k.yc = yc ? yc->data : NULL;
    k.xw = scratch;
    k.hr = k.xw + T * N * G * H;
    k.h = k.hr + N * G * H;
    k.c = st->kind == RNN_LSTM ? k.h + N * H : NULL;
    k.tmp = k.h + 2 * N * H;
    float *pack = packed ? st->pack : k.tmp + N * H;
    if (!packed)
        rnn_pack(st, &pl, H, I, w->data, r->data, b_data, pack);
    /* GRU's second GEMM reads tmp rows of inactive batch entries too */
    memset(k.tmp, 0, (size_t)(N * H) * sizeof(float));
    for (int d = 0; d < st->ndir; d++) {
        k.d = d;
        k.backward = d == 1 || st->reverse;
        k.w = (const float *)w->data + (size_t)d * G * H * I;
        k.r = (const float *)r->data + (size_t)d * G * H * H;
        k.b = b ? (const float *)b->data + (size_t)d * 2 * G * H : NULL;
        k.p = p ? (const float *)p->data + (size_t)d * 3 * H : NULL;
        k.rt = pl.rt >= 0 ? pack + pl.rt + d * H * G * H : NULL;
        k.wt = pl.wt >= 0 ? pack + pl.wt + d * I * G * H : NULL;
        k.bf = pl.bf >= 0 ? pack + pl.bf + d * G * H : NULL;
        k.fast = st->fast[d] && !k.p;
        rnn_direction(&k);
    }
    free(scratch);
    return NT_OK;
}

const nt_op_def nt_ops_rnn[] = {
    {"RNN", "", 7, rnn_prepare, rnn_release, rnn_infer, rnn_compute},
    {"RNN", "", 14, rnn_prepare, rnn_release, rnn_infer, rnn_compute},
    {"RNN", "", 22, rnn_prepare, rnn_release, rnn_infer, rnn_compute},
    {"GRU", "", 7, rnn_prepare, rnn_release, rnn_infer, rnn_compute},
    {"GRU", "", 14, rnn_prepare, rnn_release, rnn_infer, rnn_compute},
    {"GRU", "", 22, rnn_prepare, rnn_release, rnn_infer, rnn_compute},
    {"LSTM", "", 7, rnn_prepare, rnn_release, rnn_infer, rnn_compute},
    {"LSTM", "", 14, rnn_prepare, rnn_release, rnn_infer, rnn_compute},
    {"LSTM", "", 22, rnn_prepare, rnn_release, rnn_infer, rnn_compute},
};
const size_t nt_ops_rnn_count = NT_ARRAY_LEN(nt_ops_rnn);
