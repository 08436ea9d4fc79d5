/*
 * fuse_attn.c — fused attention: MatMul (Q·Kᵀ) → optional scale and mask
 * (Div/Mul/Add/Sub with a broadcast operand) → Softmax over the last axis →
 * MatMul (·V), as PyTorch exports scaled dot-product attention.  Run by
 * blocks of query rows per batch and head: a block's scores (rows x T) are
 * computed, scaled, masked and normalised while they sit in L2, then
 * multiplied by V, so the B x H x S x T scores never go to memory (Whisper's
 * 8 x 1500 x 1500 are 72 MB), and the blocks of every head are spread over
 * the threads.
 *
 * Same bits: both products go through nt_gemm_f32 as the MatMul nodes do,
 * and the run is declined (the nodes run one by one) unless the kernel
 * nt_gemm_f32_path picks for a block of rows is the one it picks for the
 * whole product and is one of ours, whose elements do not depend on the
 * rows a call covers (gemm_util.h).  The element-wise members call their
 * kernels' own inner loops on each row (as fuse_rows.c does), Softmax its
 * row kernel.
 */
#include "exec/fuse.h"
#include "ops/elementwise_common.h"
#include "ops/gemm_util.h"
#include "ops/softmax.h"

#include <stdlib.h>
#include <string.h>

enum { ATTN_MAX_EW = 3 };

typedef struct attn_ew {
    int node;
    int chain_pos;             /* operand (0 or 1) that is the scores */
    int other;                 /* group input of the other operand */
    nt_ew_fn fn;               /* per run */
    nt_ew_params par;
    int64_t str[NT_MAX_DIMS];  /* per run: the other operand's element stride per scores dim (0: broadcast) */
} attn_ew;

typedef struct attn_state {
    const nt_plan *plan;
    int q, kt, v;              /* group inputs */
    int n_ew;
    attn_ew ew[ATTN_MAX_EW];
    /* per run */
    int rank;
    int64_t sdims[NT_MAX_DIMS]; /* scores' dims */
    int64_t batch, S, T, Dk, Dv, nblk;
} attn_state;

static bool is_op(const nt_plan *p, int i, const char *op)
{
    return i >= 0 && fuse_node_free(p, i) && strcmp(p->nodes[i].node->op_type, op) == 0;
}

/* A float32 node with one output. */
static bool float_out(const nt_plan *p, int i)
{
    const nt_node *n = p->nodes[i].node;
    return n->n_out == 1 && n->out[0] >= 0 && fuse_dtype(p, n->out[0]) == NT_DTYPE_FLOAT;
}

static bool softmax_last(const nt_plan *p, int i)
{
    if (!is_op(p, i, "Softmax") || !float_out(p, i))
        return false;
    const nt_plan_node *pn = &p->nodes[i];
    const nt_node *n = pn->node;
    if (n->n_in != 1 || n->in[0] < 0 || fuse_dtype(p, n->in[0]) != NT_DTYPE_FLOAT)
        return false;
    int64_t axis = nt_node_attr_int(n, "axis", pn->opset >= 13 ? -1 : 1);
    int rank = p->info[n->in[0]].ndim;
    return axis == -1 || (rank >= 0 && axis == rank - 1);
}

static bool float_matmul(const nt_plan *p, int i)
{
    if (!is_op(p, i, "MatMul") || !float_out(p, i))
        return false;
    const nt_node *n = p->nodes[i].node;
    return n->n_in == 2 && n->in[0] >= 0 && n->in[1] >= 0 && fuse_dtype(p, n->in[0]) == NT_DTYPE_FLOAT &&
           fuse_dtype(p, n->in[1]) == NT_DTYPE_FLOAT;
}

static bool scale_or_mask(const nt_plan *p, int i)
{
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div"};
    if (i < 0 || fuse_ew_operands(p, i) != 2)
        return false;
    for (size_t k = 0; k < NT_ARRAY_LEN(ops); k++)
        if (strcmp(p->nodes[i].node->op_type, ops[k]) == 0)
            return true;
    return false;
}

static void attn_release(void *state) { free(state); }

static nt_status attn_match(nt_session *s, nt_plan *p, const int *uses)
{
    (void)s;
    const nt_graph *g = p->graph;
    for (int pos = 0; pos < p->n_order; pos++) {
        int mm2 = p->order[pos];
        if (!float_matmul(p, mm2))
            continue;
        int members[NT_FUSE_MAX_MEMBERS], n = 0;
        members[n++] = mm2;
        int v = g->nodes[mm2].in[0], sm = g->values[v].producer;
        if (!softmax_last(p, sm))
            continue;
        members[n++] = sm;
        if (!fuse_value_private(p, uses, v, members, n))
            continue;
        /* back from the Softmax through the scale and mask to Q·Kᵀ */
        int ew[ATTN_MAX_EW], chain_pos[ATTN_MAX_EW], n_ew = 0;
        int cur = g->nodes[sm].in[0], prod = g->values[cur].producer, mm1 = -1;
        bool ok = true;
        while (ok) {
            if (float_matmul(p, prod)) {
                mm1 = prod;
            } else if (scale_or_mask(p, prod) && n_ew < ATTN_MAX_EW) {
                const nt_node *en = &g->nodes[prod];
                int cp = -1;
                for (int k = 0; k < 2 && cp < 0; k++) {
                    int pk = g->values[en->in[k]].producer;
                    if (pk >= 0 && (float_matmul(p, pk) || scale_or_mask(p, pk)))
                        cp = k;
                }
                if (cp < 0)
                    ok = false;
                else {
                    ew[n_ew] = prod;
                    chain_pos[n_ew++] = cp;
                }
            } else {
                ok = false;
            }
            if (!ok)
                break;
            members[n++] = prod;
            if (!fuse_value_private(p, uses, cur, members, n)) {
                ok = false;
                break;
            }
            if (mm1 >= 0)
                break;
            cur = g->nodes[prod].in[chain_pos[n_ew - 1]];
            prod = g->values[cur].producer;
        }
        if (!ok || mm1 < 0)
            continue;
        attn_state *st = nt_calloc(1, sizeof *st);
        if (!st)
            return NT_ERR_NOMEM;
        nt_fuse_group *grp;
        nt_status rc = fuse_group_add(p, &nt_fuse_attention, members, n, st, &grp);
        if (rc != NT_OK)
            return rc;
        if (!grp)
            continue;
        st->plan = p;
        st->q = fuse_group_input(grp, g->nodes[mm1].in[0]);
        st->kt = fuse_group_input(grp, g->nodes[mm1].in[1]);
        st->v = fuse_group_input(grp, g->nodes[mm2].in[1]);
        /* in the order they run: the member nearest Q·Kᵀ first */
        st->n_ew = n_ew;
        for (int k = 0; k < n_ew; k++) {
            attn_ew *e = &st->ew[k];
            e->node = ew[n_ew - 1 - k];
            e->chain_pos = chain_pos[n_ew - 1 - k];
            e->other = fuse_group_input(grp, g->nodes[e->node].in[1 - e->chain_pos]);
        }
    }
    return NT_OK;
}

/* Q (..., S, Dk), Kᵀ (..., Dk, T), V (..., T, Dv) with the same batch dims;
 * the scale and mask operands broadcast to the scores (..., S, T) without
 * growing them.  Anything else declines. */
static nt_status attn_infer(nt_kernel_ctx *ctx)
{
    attn_state *st = ctx->state;
    const nt_tensor *Q = ctx->in[st->q], *Kt = ctx->in[st->kt], *V = ctx->in[st->v];
    if (st->q < 0 || st->kt < 0 || st->v < 0 || !Q || !Kt || !V || Q->dtype != NT_DTYPE_FLOAT ||
        Kt->dtype != NT_DTYPE_FLOAT || V->dtype != NT_DTYPE_FLOAT)
        return NT_ERR_UNSUPPORTED;
    const int r = Q->ndim;
    if (r < 2 || Kt->ndim != r || V->ndim != r)
        return NT_ERR_UNSUPPORTED;
    st->batch = 1;
    for (int d = 0; d + 2 < r; d++) {
        if (Kt->dims[d] != Q->dims[d] || V->dims[d] != Q->dims[d])
            return NT_ERR_UNSUPPORTED;
        st->batch *= Q->dims[d];
    }
    st->S = Q->dims[r - 2];
    st->Dk = Q->dims[r - 1];
    st->T = Kt->dims[r - 1];
    st->Dv = V->dims[r - 1];
    if (Kt->dims[r - 2] != st->Dk || V->dims[r - 2] != st->T || st->S < 1 || st->T < 2 || st->Dk < 1 ||
        st->Dv < 1 || st->batch < 1)
        return NT_ERR_UNSUPPORTED;
    /* blocks of about 64 rows, or fewer when the scores' rows are long
     * (a block's scores within about 256 KB); every block's products run
     * on the kernels the whole products run on */
    int64_t rb = 65536 / st->T;
    rb = rb < 8 ? 8 : rb > 64 ? 64 : rb;
    st->nblk = st->S / rb > 0 ? st->S / rb : 1;
    const int64_t lo = st->S / st->nblk, hi = (st->S + st->nblk - 1) / st->nblk;
    const nt_gemm_path p1 = nt_gemm_f32_path(false, st->S, st->T, st->Dk, 1.0f);
    const nt_gemm_path p2 = nt_gemm_f32_path(false, st->S, st->Dv, st->T, 1.0f);
    if (p1 == NT_GEMM_BLAS || p2 == NT_GEMM_BLAS || nt_gemm_f32_path(false, lo, st->T, st->Dk, 1.0f) != p1 ||
        nt_gemm_f32_path(false, hi, st->T, st->Dk, 1.0f) != p1 ||
        nt_gemm_f32_path(false, lo, st->Dv, st->T, 1.0f) != p2 ||
        nt_gemm_f32_path(false, hi, st->Dv, st->T, 1.0f) != p2)
        return NT_ERR_UNSUPPORTED;
    st->rank = r;
    memcpy(st->sdims, Q->dims, (size_t)r * sizeof *st->sdims);
    st->sdims[r - 1] = st->T;
    nt_tensor full = {0};
    full.dtype = NT_DTYPE_FLOAT;
    full.ndim = r;
    memcpy(full.dims, st->sdims, (size_t)r * sizeof *full.dims);
    for (int k = 0; k < st->n_ew; k++) {
        attn_ew *e = &st->ew[k];
        const nt_tensor *o = e->other >= 0 ? ctx->in[e->other] : NULL;
        if (!o || o->dtype != NT_DTYPE_FLOAT || o->ndim < 0 || o->ndim > r)
            return NT_ERR_UNSUPPORTED;
        /* element strides of o over the scores' dims, right-aligned */
        int64_t stride = 1;
        for (int d = r - 1; d >= 0; d--) {
            int od = d - (r - o->ndim);
            int64_t len = od >= 0 ? o->dims[od] : 1;
            if (len != 1 && len != st->sdims[d])
                return NT_ERR_UNSUPPORTED;
            e->str[d] = len == 1 ? 0 : stride;
            stride *= len;
        }
        const nt_plan_node *pn = &st->plan->nodes[e->node];
        const nt_tensor *min[2];
        min[e->chain_pos] = &full;
        min[1 - e->chain_pos] = o;
        nt_kernel_ctx mctx = {pn->node, pn->opset, 2, 1, (nt_tensor **)min, NULL, pn->state, false, ctx->exec,
                              ctx->graph};
        nt_status s = nt_ew_binary_loop(&mctx, &e->fn, &e->par);
        if (s != NT_OK)
            return s == NT_ERR_UNSUPPORTED ? NT_ERR_UNSUPPORTED : s;
    }
    int64_t ydims[NT_MAX_DIMS];
    memcpy(ydims, Q->dims, (size_t)r * sizeof *ydims);
    ydims[r - 1] = st->Dv;
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_FLOAT, r, ydims);
}

typedef struct attn_job {
    const attn_state *st;
    const float *q, *kt, *v, *other[ATTN_MAX_EW];
    float *y;
    bool nomem;
} attn_job;

/* Tasks [t0, t1): task t is block t % nblk of batch t / nblk. */
static void attn_range(void *arg, int64_t t0, int64_t t1)
{
    attn_job *j = arg;
    const attn_state *st = j->st;
    const int64_t S = st->S, T = st->T, Dk = st->Dk, Dv = st->Dv, nblk = st->nblk, r = st->rank;
    float *sc = nt_malloc((size_t)((S + nblk - 1) / nblk) * (size_t)T * sizeof *sc);
    if (!sc) {
        j->nomem = true;
        return;
    }
    for (int64_t t = t0; t < t1; t++) {
        const int64_t b = t / nblk, blk = t % nblk;
        const int64_t r0 = blk * S / nblk, r1 = (blk + 1) * S / nblk, rows = r1 - r0;
        nt_gemm_f32(false, false, rows, T, Dk, 1.0f, j->q + (b * S + r0) * Dk, Dk, j->kt + b * Dk * T, T, 0.0f, sc,
                    T);
        /* batch coordinates of b, for the broadcast operands */
        int64_t coord[NT_MAX_DIMS], rem = b;
        for (int d = (int)r - 3; d >= 0; d--) {
            coord[d] = rem % st->sdims[d];
            rem /= st->sdims[d];
        }
        int64_t base[ATTN_MAX_EW];
        for (int k = 0; k < st->n_ew; k++) {
            base[k] = 0;
            for (int d = 0; d + 2 < r; d++)
                base[k] += coord[d] * st->ew[k].str[d];
        }
        for (int64_t i = 0; i < rows; i++) {
            float *row = sc + i * T;
            for (int k = 0; k < st->n_ew; k++) {
                const attn_ew *e = &st->ew[k];
                const void *ip[2];
                int64_t step[2];
                ip[e->chain_pos] = row;
                step[e->chain_pos] = 1;
                ip[1 - e->chain_pos] = j->other[k] + base[k] + (r0 + i) * e->str[r - 2];
                step[1 - e->chain_pos] = e->str[r - 1];
                e->fn(row, ip, step, T, &e->par);
            }
            nt_softmax_row_f32(row, row, T);
        }
        nt_gemm_f32(false, false, rows, Dv, T, 1.0f, sc, T, j->v + b * T * Dv, Dv, 0.0f, j->y + (b * S + r0) * Dv,
                    Dv);
    }
    free(sc);
}

static nt_status attn_compute(nt_kernel_ctx *ctx)
{
    const attn_state *st = ctx->state;
    attn_job j = {st, ctx->in[st->q]->data, ctx->in[st->kt]->data, ctx->in[st->v]->data, {NULL}, ctx->out[0]->data,
                  false};
    for (int k = 0; k < st->n_ew; k++)
        j.other[k] = ctx->in[st->ew[k].other]->data;
    nt_parallel_for(ctx->exec, st->batch * st->nblk, 1, attn_range, &j);
    if (j.nomem)
        return nt_error(NT_ERR_NOMEM, "out of memory for fused attention scores");
    return NT_OK;
}

const nt_fuse_pattern nt_fuse_attention = {"FusedAttention", attn_match, attn_infer, attn_compute, attn_release};
