/*
 * fuse_attn.c — fused attention: MatMul (Q·Kᵀ) → optional scale and mask
 * (Div/Mul/Add/Sub with a broadcast operand) → Softmax over the last axis →
 * MatMul (·V), as PyTorch exports scaled dot-product attention.  Run by
 * blocks of query rows per batch and head: a block's scores (rows x T) are
 * computed, scaled, masked and normalised while they sit in L2, then
 * multiplied by V, so the B x H x S x T scores never go to memory (Whisper's
 * 8 x 1500 x 1500 are 72 MB), and the blocks of every head are spread over
 * the threads.  Transposes around it (Q, Kᵀ and V made by a Transpose read
 * by nothing else, the output transposed back from heads) are taken in too:
 * the products read and write those layouts in place.
 *
 * Same bits: both products go through nt_gemm_f32 as the MatMul nodes do,
 * and the run is declined (the nodes run one by one) unless the kernel
 * nt_gemm_f32_path picks for a block of rows is the one it picks for the
 * whole product and is one of ours, whose elements do not depend on the
 * rows a call covers or on where its operands lie (gemm_util.h).  The element-wise members call their
 * kernels' own inner loops on each row (as fuse_rows.c does), Softmax its
 * row kernel.
 */
#include "exec/fuse.h"
#include "ops/elementwise_common.h"
#include "ops/gemm_util.h"
#include "ops/sgemm.h"
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

/* An operand of the products: a group input seen through a Transpose's
 * perm (identity when none was taken in). */
typedef struct attn_opnd {
    int in;                    /* group input */
    int n_perm;                /* 0: no Transpose */
    int64_t perm[NT_MAX_DIMS];
    /* per run: one (batch, head)'s matrix is at base + sum coord[d] * bstr[d],
     * row-major with leading dim ld, or stored transposed */
    int64_t bstr[NT_MAX_DIMS];
    int64_t ld;
    bool trans;
} attn_opnd;

typedef struct attn_state {
    const nt_plan *plan;
    attn_opnd q, kt, v, y;     /* y: the output (in is unused) */
    int n_ew;
    attn_ew ew[ATTN_MAX_EW];
    /* per run */
    int rank;
    int64_t sdims[NT_MAX_DIMS]; /* scores' dims */
    int64_t batch, S, T, Dk, Dv, nblk;
    nt_gemm_path p1, p2;       /* the products' kernels */
    size_t kpack, vpack;       /* floats of one head's packed Kᵀ and V */
    nt_scratch packed;         /* every head's packed Kᵀ, then every head's V */
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

/* A float32 Transpose whose perm is known (attribute, or the reversal of
 * a known rank). */
static bool is_transpose(const nt_plan *p, int i)
{
    if (!is_op(p, i, "Transpose") || !float_out(p, i))
        return false;
    const nt_node *n = p->nodes[i].node;
    if (n->n_in != 1 || n->in[0] < 0 || fuse_dtype(p, n->in[0]) != NT_DTYPE_FLOAT)
        return false;
    const int64_t *v;
    int k = nt_node_attr_ints(n, "perm", &v);
    return (k >= 1 && k <= NT_MAX_DIMS) || (k <= 0 && p->info[n->in[0]].ndim >= 1);
}

/* Transpose i's perm into perm; its length. */
static int perm_of(const nt_plan *p, int i, int64_t *perm)
{
    const nt_node *n = p->nodes[i].node;
    const int64_t *v;
    int k = nt_node_attr_ints(n, "perm", &v);
    if (k >= 1) {
        memcpy(perm, v, (size_t)k * sizeof *perm);
        return k;
    }
    k = p->info[n->in[0]].ndim;
    for (int d = 0; d < k; d++)
        perm[d] = k - 1 - d;
    return k;
}

/* The view of operand o over tensor t (through o's perm): its logical dims
 * into dims, its per-dim strides, ld and trans.  False when the perm does
 * not fit t or neither matrix dim is contiguous. */
static bool view_of(attn_opnd *o, const int64_t *tdims, int tndim, int64_t *dims)
{
    int64_t st[NT_MAX_DIMS], s = 1, ls[NT_MAX_DIMS];
    const int r = tndim;
    if (r < 2 || (o->n_perm && o->n_perm != r))
        return false;
    for (int d = r - 1; d >= 0; d--) {
        st[d] = s;
        s *= tdims[d];
    }
    bool seen[NT_MAX_DIMS] = {false};
    for (int i = 0; i < r; i++) {
        int64_t src = o->n_perm ? o->perm[i] : i;
        if (src < 0 || src >= r || seen[src])
            return false;
        seen[src] = true;
        dims[i] = tdims[src];
        ls[i] = st[src];
    }
    memcpy(o->bstr, ls, (size_t)r * sizeof *ls);
    if (ls[r - 1] == 1 || dims[r - 1] == 1) {
        o->trans = false;
        o->ld = ls[r - 2];
    } else if (ls[r - 2] == 1 || dims[r - 2] == 1) {
        o->trans = true;
        o->ld = ls[r - 1];
    } else {
        return false;
    }
    return true;
}

/* Element offset of row r0 of a (batch, head) matrix of operand o. */
static int64_t row_offset(const attn_opnd *o, int64_t r0) { return o->trans ? r0 : r0 * o->ld; }

static void attn_release(void *state)
{
    attn_state *st = state;
    if (st)
        nt_scratch_free(&st->packed);
    free(st);
}

/* Floats a product's B takes packed for its kernel (0: not packed). */
static size_t packed_size(nt_gemm_path path, int64_t K, int64_t N)
{
    return path == NT_GEMM_PACKED ? nt_sgemm_b_size(nt_sgemm_isa_get(), K, N)
           : path == NT_GEMM_NARROW ? nt_sgemm_narrow_b_size(K)
                                    : 0;
}

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
        /* Transposes making Q, Kᵀ, V, and one transposing the output */
        int tr[3] = {-1, -1, -1};
        const int opv[3] = {g->nodes[mm1].in[0], g->nodes[mm1].in[1], g->nodes[mm2].in[1]};
        for (int k = 0; k < 3 && n < NT_FUSE_MAX_MEMBERS; k++) {
            int t = g->values[opv[k]].producer;
            if (!is_transpose(p, t))
                continue;
            if (fuse_in_list(members, n, t)) {
                tr[k] = t;
                continue;
            }
            members[n] = t;
            if (fuse_value_private(p, uses, opv[k], members, n + 1)) {
                tr[k] = t;
                n++;
            }
        }
        int ty = -1;
        const int yv = g->nodes[mm2].out[0];
        for (int i = 0; i < g->n_nodes && ty < 0 && n < NT_FUSE_MAX_MEMBERS && uses[yv] == 1; i++) {
            if (g->nodes[i].n_in < 1 || g->nodes[i].in[0] != yv || !is_transpose(p, i))
                continue;
            members[n] = i;
            if (fuse_value_private(p, uses, yv, members, n + 1))
                ty = members[n++];
        }
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
        attn_opnd *ops[3] = {&st->q, &st->kt, &st->v};
        for (int k = 0; k < 3; k++) {
            int src = tr[k] >= 0 ? g->nodes[tr[k]].in[0] : opv[k];
            ops[k]->in = fuse_group_input(grp, src);
            if (tr[k] >= 0)
                ops[k]->n_perm = perm_of(p, tr[k], ops[k]->perm);
        }
        if (ty >= 0)
            st->y.n_perm = perm_of(p, ty, st->y.perm);
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
    if (st->q.in < 0 || st->kt.in < 0 || st->v.in < 0)
        return NT_ERR_UNSUPPORTED;
    const nt_tensor *Q = ctx->in[st->q.in], *Kt = ctx->in[st->kt.in], *V = ctx->in[st->v.in];
    if (!Q || !Kt || !V || Q->dtype != NT_DTYPE_FLOAT || Kt->dtype != NT_DTYPE_FLOAT || V->dtype != NT_DTYPE_FLOAT)
        return NT_ERR_UNSUPPORTED;
    const int r = Q->ndim;
    int64_t qd[NT_MAX_DIMS], kd[NT_MAX_DIMS], vd[NT_MAX_DIMS];
    if (r < 2 || Kt->ndim != r || V->ndim != r || !view_of(&st->q, Q->dims, r, qd) ||
        !view_of(&st->kt, Kt->dims, r, kd) || !view_of(&st->v, V->dims, r, vd))
        return NT_ERR_UNSUPPORTED;
    st->batch = 1;
    for (int d = 0; d + 2 < r; d++) {
        if (kd[d] != qd[d] || vd[d] != qd[d])
            return NT_ERR_UNSUPPORTED;
        st->batch *= qd[d];
    }
    st->S = qd[r - 2];
    st->Dk = qd[r - 1];
    st->T = kd[r - 1];
    st->Dv = vd[r - 1];
    if (kd[r - 2] != st->Dk || vd[r - 2] != st->T || st->S < 1 || st->T < 2 || st->Dk < 1 || st->Dv < 1 ||
        st->batch < 1)
        return NT_ERR_UNSUPPORTED;
    /* the output (..., S, Dv), transposed when a Transpose was taken in:
     * final dim i is logical dim perm[i] */
    int64_t yl[NT_MAX_DIMS], yd[NT_MAX_DIMS], ys[NT_MAX_DIMS], s = 1;
    memcpy(yl, qd, (size_t)r * sizeof *yl);
    yl[r - 1] = st->Dv;
    if (st->y.n_perm && st->y.n_perm != r)
        return NT_ERR_UNSUPPORTED;
    bool seen[NT_MAX_DIMS] = {false};
    for (int i = 0; i < r; i++) {
        int64_t j = st->y.n_perm ? st->y.perm[i] : i;
        if (j < 0 || j >= r || seen[j])
            return NT_ERR_UNSUPPORTED;
        seen[j] = true;
        yd[i] = yl[j];
    }
    for (int i = r - 1; i >= 0; i--) {
        ys[i] = s;
        s *= yd[i];
    }
    for (int i = 0; i < r; i++)
        st->y.bstr[st->y.n_perm ? st->y.perm[i] : i] = ys[i];
    if (st->y.bstr[r - 1] != 1 && st->Dv != 1)
        return NT_ERR_UNSUPPORTED;
    st->y.ld = st->y.bstr[r - 2];
    st->y.trans = false;
    /* blocks of about 64 rows, or fewer when the scores' rows are long
     * (a block's scores within about 256 KB), K and V packed once per head
     * and used by all of its blocks; every block's products run
     * on the kernels the nodes' products (on contiguous operands) run on */
    int64_t rb = 65536 / st->T;
    rb = rb < 8 ? 8 : rb > 64 ? 64 : rb;
    st->nblk = st->S / rb > 0 ? st->S / rb : 1;
    const int64_t lo = st->S / st->nblk, hi = (st->S + st->nblk - 1) / st->nblk;
    const nt_gemm_path p1 = nt_gemm_f32_path(false, st->S, st->T, st->Dk, 1.0f);
    const nt_gemm_path p2 = nt_gemm_f32_path(false, st->S, st->Dv, st->T, 1.0f);
    if (p1 == NT_GEMM_BLAS || p2 == NT_GEMM_BLAS || nt_gemm_f32_path(st->kt.trans, lo, st->T, st->Dk, 1.0f) != p1 ||
        nt_gemm_f32_path(st->kt.trans, hi, st->T, st->Dk, 1.0f) != p1 ||
        nt_gemm_f32_path(st->v.trans, lo, st->Dv, st->T, 1.0f) != p2 ||
        nt_gemm_f32_path(st->v.trans, hi, st->Dv, st->T, 1.0f) != p2)
        return NT_ERR_UNSUPPORTED;
    st->p1 = p1;
    st->p2 = p2;
    st->kpack = packed_size(p1, st->Dk, st->T);
    st->vpack = packed_size(p2, st->T, st->Dv);
    st->rank = r;
    memcpy(st->sdims, qd, (size_t)r * sizeof *st->sdims);
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
        nt_status rc = nt_ew_binary_loop(&mctx, &e->fn, &e->par);
        if (rc != NT_OK)
            return rc == NT_ERR_UNSUPPORTED ? NT_ERR_UNSUPPORTED : rc;
    }
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_FLOAT, r, yd);
}

typedef struct attn_job {
    const attn_state *st;
    const float *q, *kt, *v, *other[ATTN_MAX_EW];
    float *y;
    float *kp, *vp;            /* packed Kᵀ and V, per head */
    bool nomem;
} attn_job;

/* Batch coordinates of (batch, head) b, and its matrices' offsets in the
 * operands. */
static void head_offsets(const attn_state *st, int64_t b, int64_t *coord, int64_t *qo, int64_t *ko, int64_t *vo,
                         int64_t *yo)
{
    int64_t rem = b;
    for (int d = st->rank - 3; d >= 0; d--) {
        coord[d] = rem % st->sdims[d];
        rem /= st->sdims[d];
    }
    *qo = *ko = *vo = *yo = 0;
    for (int d = 0; d + 2 < st->rank; d++) {
        *qo += coord[d] * st->q.bstr[d];
        *ko += coord[d] * st->kt.bstr[d];
        *vo += coord[d] * st->v.bstr[d];
        *yo += coord[d] * st->y.bstr[d];
    }
}

/* Heads [b0, b1): Kᵀ and V packed for their products' kernels. */
static void pack_range(void *arg, int64_t b0, int64_t b1)
{
    attn_job *j = arg;
    const attn_state *st = j->st;
    for (int64_t b = b0; b < b1; b++) {
        int64_t coord[NT_MAX_DIMS], qo, ko, vo, yo;
        head_offsets(st, b, coord, &qo, &ko, &vo, &yo);
        if (st->p1 == NT_GEMM_PACKED)
            nt_sgemm_pack_b(nt_sgemm_isa_get(), st->kt.trans, st->Dk, st->T, j->kt + ko, st->kt.ld,
                            j->kp + (size_t)b * st->kpack);
        else if (st->p1 == NT_GEMM_NARROW)
            nt_sgemm_narrow_pack_b(st->kt.trans, st->Dk, st->T, j->kt + ko, st->kt.ld, j->kp + (size_t)b * st->kpack);
        if (st->p2 == NT_GEMM_PACKED)
            nt_sgemm_pack_b(nt_sgemm_isa_get(), st->v.trans, st->T, st->Dv, j->v + vo, st->v.ld,
                            j->vp + (size_t)b * st->vpack);
        else if (st->p2 == NT_GEMM_NARROW)
            nt_sgemm_narrow_pack_b(st->v.trans, st->T, st->Dv, j->v + vo, st->v.ld, j->vp + (size_t)b * st->vpack);
    }
}

/* C (rows, N) = A · B on the product's kernel, B packed at bp when the
 * kernel packs it (else B itself, ld ldb, trans tb). */
static bool product(nt_gemm_path path, bool ta, bool tb, int64_t rows, int64_t N, int64_t K, const float *A,
                    int64_t lda, const float *B, int64_t ldb, const float *bp, float *C, int64_t ldc)
{
    if (path == NT_GEMM_PACKED)
        return nt_sgemm_dense_packed_b(ta, rows, N, K, 1.0f, A, lda, bp, 0.0f, C, ldc);
    if (path == NT_GEMM_NARROW)
        return nt_sgemm_narrow_packed(NULL, ta, rows, N, K, 1.0f, A, lda, bp, 0.0f, C, ldc);
    nt_gemm_f32(ta, tb, rows, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
    return true;
}

/* Tasks [t0, t1): task t is block t % nblk of batch t / nblk. */
static void attn_range(void *arg, int64_t t0, int64_t t1)
{
    attn_job *j = arg;
    const attn_state *st = j->st;
    const int64_t S = st->S, T = st->T, Dk = st->Dk, Dv = st->Dv, nblk = st->nblk;
    const int r = st->rank;
    float *sc = nt_malloc((size_t)((S + nblk - 1) / nblk) * (size_t)T * sizeof *sc);
    if (!sc) {
        j->nomem = true;
        return;
    }
    for (int64_t t = t0; t < t1; t++) {
        const int64_t b = t / nblk, blk = t % nblk;
        const int64_t r0 = blk * S / nblk, r1 = (blk + 1) * S / nblk, rows = r1 - r0;
        int64_t coord[NT_MAX_DIMS], base[ATTN_MAX_EW], qo, ko, vo, yo;
        head_offsets(st, b, coord, &qo, &ko, &vo, &yo);
        for (int k = 0; k < st->n_ew; k++) {
            base[k] = 0;
            for (int d = 0; d + 2 < r; d++)
                base[k] += coord[d] * st->ew[k].str[d];
        }
        if (!product(st->p1, st->q.trans, st->kt.trans, rows, T, Dk, j->q + qo + row_offset(&st->q, r0), st->q.ld,
                     j->kt + ko, st->kt.ld, j->kp + (size_t)b * st->kpack, sc, T))
            j->nomem = true;
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
        if (!product(st->p2, false, st->v.trans, rows, Dv, T, sc, T, j->v + vo, st->v.ld,
                     j->vp + (size_t)b * st->vpack, j->y + yo + r0 * st->y.ld, st->y.ld))
            j->nomem = true;
    }
    free(sc);
}

static nt_status attn_compute(nt_kernel_ctx *ctx)
{
    const attn_state *st = ctx->state;
    attn_job j = {.st = st, .q = ctx->in[st->q.in]->data, .kt = ctx->in[st->kt.in]->data,
                  .v = ctx->in[st->v.in]->data, .y = ctx->out[0]->data};
    for (int k = 0; k < st->n_ew; k++)
        j.other[k] = ctx->in[st->ew[k].other]->data;
    attn_state *mst = ctx->state;
    size_t per = st->kpack + st->vpack, n;
    if (!nt_mul_size((size_t)st->batch, per > 0 ? per : 1, &n) || n > SIZE_MAX / sizeof(float))
        return nt_error(NT_ERR_NOMEM, "fused attention: packed K and V too large");
    float *pk = nt_scratch_get(&mst->packed, n * sizeof(float));
    if (!pk)
        return NT_ERR_NOMEM;
    j.kp = pk;
    j.vp = pk + (size_t)st->batch * st->kpack;
    nt_parallel_for(ctx->exec, st->batch, 1, pack_range, &j);
    nt_parallel_for(ctx->exec, st->batch * st->nblk, 1, attn_range, &j);
    if (j.nomem)
        return nt_error(NT_ERR_NOMEM, "out of memory for fused attention scores");
    return NT_OK;
}

const nt_fuse_pattern nt_fuse_attention = {"FusedAttention", attn_match, attn_infer, attn_compute, attn_release};
