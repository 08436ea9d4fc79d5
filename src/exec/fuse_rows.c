/*
 * fuse_rows.c — fused row programs: element-wise float32 nodes together with
 * ReduceMean over the last axis, run one row at a time.  This is what
 * LayerNorm looks like when exported by opsets before 17 (ReduceMean, Sub,
 * Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) and what RMSNorm looks like
 * (Pow, ReduceMean, Add, Sqrt, Div or Reciprocal, Mul, Mul): nine or seven
 * passes over memory become one, each row staying in L1.  A Softmax over
 * the last axis is a row operation too: attention's scale (Div or Mul by a
 * constant) and mask Add run on the row just before it.
 *
 * Same bits: element-wise members call their kernels' own inner loops (as
 * fuse_chain.c does) on a row, or on one value per row; a ReduceMean member
 * sums its row in double from the first element to the last and stores
 * (float)(sum / R), exactly the contiguous-row path of reduce.c; a Softmax
 * member calls softmax.c's own row kernel.
 *
 * Operand kinds, decided per run from the shapes (S is the largest data
 * operand, R its last dim):
 *   FULL   S itself (a row of R values per row)
 *   ROW    S with the last dim 1 (one value per row: a ReduceMean result)
 *   COL    [..1.., R]: the same R values for every row (LayerNorm's gamma)
 *   CONST  one element
 * Groups without a row operation are taken when an operand is COL (a bias
 * Add before GELU), which a chain cannot take.
 * A member's result is FULL when an operand is FULL (or ROW meets COL), ROW
 * when the operands are ROW and CONST; the root's result must be FULL.
 * Anything else declines the run and the nodes run one by one.
 */
#include "exec/fuse.h"
#include "ops/elementwise_common.h"
#include "ops/softmax.h"

#include <stdlib.h>
#include <string.h>

enum { RK_FULL, RK_ROW, RK_COL, RK_CONST, RK_NONE };
enum { RM_UNARY, RM_BINARY, RM_COPY, RM_MEAN, RM_SOFTMAX };

typedef struct row_member {
    int node;
    int kind;                  /* RM_* */
    int n_opnd;
    int src[2];                /* >= 0: group input; < 0: -(member + 1) */
    int64_t axis;              /* RM_MEAN: the axis as the model wrote it */
    nt_ew_fn fn;               /* per run */
    nt_ew_params par;
    int out_kind;              /* per run: RK_FULL or RK_ROW */
} row_member;

typedef struct row_state {
    const nt_plan *plan;
    int n;
    row_member m[NT_FUSE_MAX_MEMBERS];
    int in_kind[NT_FUSE_MAX_IN]; /* per run */
    int64_t R, rows;             /* per run */
} row_state;

/* The single axis of a ReduceMean with keepdims, or INT64_MIN when the node
 * is not one (several axes, axes not constant, keepdims=0).  Whether the
 * node is still free to claim is the caller's business. */
static int64_t mean_axis(const nt_plan *p, int i)
{
    const nt_plan_node *pn = &p->nodes[i];
    const nt_node *n = pn->node;
    if (!pn->op || strcmp(n->op_type, "ReduceMean") != 0 || n->n_out != 1 || n->out[0] < 0 ||
        n->n_in < 1 || n->in[0] < 0 || fuse_dtype(p, n->in[0]) != NT_DTYPE_FLOAT ||
        fuse_dtype(p, n->out[0]) != NT_DTYPE_FLOAT || nt_node_attr_int(n, "keepdims", 1) != 1)
        return INT64_MIN;
    int64_t axes[2];
    int64_t k;
    if (pn->opset >= 18) {
        if (n->n_in < 2 || n->in[1] < 0)
            return INT64_MIN;
        const nt_tensor *a = &p->info[n->in[1]];
        if (!a->data || nt_tensor_numel(a) != 1)
            return INT64_MIN;
        k = nt_tensor_read_ints(a, axes, 2);
        nt_error_clear();
    } else {
        const int64_t *v;
        k = nt_node_attr_ints(n, "axes", &v);
        if (k == 1)
            axes[0] = v[0];
    }
    if (k != 1)
        return INT64_MIN;
    int rank = p->info[n->in[0]].ndim;
    if (axes[0] != -1 && (rank < 0 || axes[0] != rank - 1))
        return INT64_MIN;
    return axes[0];
}

/* The axis of a float32 Softmax over the last axis (opset 13's single axis,
 * or the coerced 2-D form of older opsets cut before the last axis), or
 * INT64_MIN. */
static int64_t softmax_axis(const nt_plan *p, int i)
{
    const nt_plan_node *pn = &p->nodes[i];
    const nt_node *n = pn->node;
    if (!pn->op || strcmp(n->op_type, "Softmax") != 0 || n->domain[0] || n->n_out != 1 || n->out[0] < 0 ||
        n->n_in != 1 || n->in[0] < 0 || fuse_dtype(p, n->in[0]) != NT_DTYPE_FLOAT ||
        fuse_dtype(p, n->out[0]) != NT_DTYPE_FLOAT)
        return INT64_MIN;
    int64_t axis = nt_node_attr_int(n, "axis", pn->opset >= 13 ? -1 : 1);
    int rank = p->info[n->in[0]].ndim;
    if (axis != -1 && (rank < 0 || axis != rank - 1))
        return INT64_MIN;
    return axis;
}

/* Data operands of a member (0: not a row-program node). */
static int row_operands(const nt_plan *p, int i)
{
    if (!fuse_node_free(p, i))
        return 0;
    if (mean_axis(p, i) != INT64_MIN || softmax_axis(p, i) != INT64_MIN)
        return 1;
    int n_opnd = fuse_ew_operands(p, i);
    const nt_node *n = p->nodes[i].node;
    if (n_opnd == 1 && n->n_in > 1)
        return 0; /* Clip with bound inputs: left to chains */
    return n_opnd;
}

/* Whether an element-wise node has an operand statically of the COL kind
 * (the same R >= 64 values on every row of its output). */
static bool has_col_operand(const nt_plan *p, int i)
{
    const nt_node *n = p->nodes[i].node;
    int n_opnd = fuse_ew_operands(p, i);
    const nt_tensor *o = n_opnd ? &p->info[n->out[0]] : NULL;
    if (!o || o->ndim < 1 || o->dims[o->ndim - 1] < 64)
        return false;
    int64_t R = o->dims[o->ndim - 1];
    if (nt_tensor_numel(o) <= R) /* unknown (-1) or a single row */
        return false;
    for (int k = 0; k < n_opnd; k++) {
        const nt_tensor *t = &p->info[n->in[k]];
        if (t->ndim >= 1 && t->ndim <= o->ndim && t->dims[t->ndim - 1] == R && nt_tensor_numel(t) == R)
            return true;
    }
    return false;
}

static void rows_release(void *state) { free(state); }

static void rows_describe(const nt_plan *p, const nt_fuse_group *g, row_state *rs)
{
    const nt_graph *gr = p->graph;
    rs->plan = p;
    rs->n = g->n_members;
    for (int m = 0; m < g->n_members; m++) {
        row_member *rm = &rs->m[m];
        const nt_node *n = &gr->nodes[g->members[m]];
        rm->node = g->members[m];
        rm->axis = mean_axis(p, rm->node);
        int64_t sm_axis = softmax_axis(p, rm->node);
        if (sm_axis != INT64_MIN)
            rm->axis = sm_axis;
        rm->kind = sm_axis != INT64_MIN                  ? RM_SOFTMAX
                   : rm->axis != INT64_MIN               ? RM_MEAN
                   : strcmp(n->op_type, "Cast") == 0     ? RM_COPY
                   : nt_ew_is_unary(p->nodes[rm->node].op) ? RM_UNARY
                                                         : RM_BINARY;
        rm->n_opnd = rm->kind == RM_BINARY ? 2 : 1;
        for (int k = 0; k < rm->n_opnd; k++) {
            int v = n->in[k];
            int src = fuse_group_input(g, v);
            for (int j = 0; j < m && src < 0; j++)
                if (gr->nodes[g->members[j]].out[0] == v)
                    src = -(j + 1);
            rm->src[k] = src;
        }
    }
}

static nt_status rows_match(nt_session *s, nt_plan *p, const int *uses)
{
    (void)s;
    const nt_graph *g = p->graph;
    for (int pos = p->n_order - 1; pos >= 0; pos--) {
        int root = p->order[pos];
        if ((fuse_ew_operands(p, root) == 0 && softmax_axis(p, root) == INT64_MIN) || row_operands(p, root) == 0)
            continue;
        int members[NT_FUSE_MAX_MEMBERS];
        int n = 0;
        members[n++] = root;
        bool grew = true;
        while (grew && n < NT_FUSE_MAX_MEMBERS) {
            grew = false;
            for (int j = 0; j < n && n < NT_FUSE_MAX_MEMBERS; j++) {
                const nt_node *mn = &g->nodes[members[j]];
                int n_opnd = row_operands(p, members[j]);
                if (strcmp(mn->op_type, "Pow") == 0) /* the exponent stays an input (see fuse_chain.c) */
                    n_opnd = 1;
                for (int k = 0; k < n_opnd && n < NT_FUSE_MAX_MEMBERS; k++) {
                    int v = mn->in[k];
                    int prod = g->values[v].producer;
                    if (prod < 0 || fuse_in_list(members, n, prod) || !row_operands(p, prod))
                        continue;
                    members[n] = prod;
                    if (fuse_value_private(p, uses, v, members, n + 1)) {
                        n++;
                        grew = true;
                    }
                }
            }
        }
        /* a row program needs a row operation, or an operand repeated on
         * every row (a bias before GELU) that keeps the nodes out of a
         * chain, over rows long enough to pay for a call per row and member */
        bool has_row_op = false, has_col = false;
        for (int j = 0; j < n; j++) {
            has_row_op |= mean_axis(p, members[j]) != INT64_MIN || softmax_axis(p, members[j]) != INT64_MIN;
            has_col |= has_col_operand(p, members[j]);
        }
        if ((!has_row_op && !has_col) || n < 2)
            continue;
        row_state *rs = nt_calloc(1, sizeof *rs);
        if (!rs)
            return NT_ERR_NOMEM;
        nt_fuse_group *grp;
        nt_status st = fuse_group_add(p, &nt_fuse_rows, members, n, rs, &grp);
        if (st != NT_OK)
            return st;
        if (grp)
            rows_describe(p, grp, rs);
    }
    return NT_OK;
}

static bool same_shape(const nt_tensor *a, const nt_tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

static int classify(const nt_tensor *t, const nt_tensor *S)
{
    int r = S->ndim;
    int64_t R = S->dims[r - 1];
    if (t->dtype != NT_DTYPE_FLOAT || t->ndim < 0 || t->ndim > r)
        return RK_NONE;
    if (same_shape(t, S))
        return RK_FULL;
    if (nt_tensor_numel(t) == 1)
        return RK_CONST;
    bool col = t->ndim >= 1 && t->dims[t->ndim - 1] == R;
    for (int d = 0; d + 1 < t->ndim && col; d++)
        col = t->dims[d] == 1;
    if (col)
        return RK_COL;
    bool row = t->ndim == r && t->dims[r - 1] == 1;
    for (int d = 0; d + 1 < r && row; d++)
        row = t->dims[d] == S->dims[d];
    return row ? RK_ROW : RK_NONE;
}

static nt_status rows_infer(nt_kernel_ctx *ctx)
{
    row_state *rs = ctx->state;
    const nt_plan *p = rs->plan;
    const nt_tensor *S = NULL;
    for (int m = 0; m < rs->n; m++)
        for (int k = 0; k < rs->m[m].n_opnd; k++) {
            if (rs->m[m].src[k] < 0)
                continue;
            const nt_tensor *t = ctx->in[rs->m[m].src[k]];
            if (!t || t->ndim < 0)
                return NT_ERR_UNSUPPORTED;
            int64_t a = nt_tensor_numel(t), b = S ? nt_tensor_numel(S) : -1;
            if (!S || a > b || (a == b && t->ndim > S->ndim))
                S = t;
        }
    if (!S || S->ndim < 1 || S->dims[S->ndim - 1] < 2 || S->dtype != NT_DTYPE_FLOAT)
        return NT_ERR_UNSUPPORTED;
    rs->R = S->dims[S->ndim - 1];
    rs->rows = nt_tensor_numel(S) / rs->R;
    for (int k = 0; k < ctx->n_in; k++)
        rs->in_kind[k] = RK_NONE;
    for (int m = 0; m < rs->n; m++)
        for (int k = 0; k < rs->m[m].n_opnd; k++)
            if (rs->m[m].src[k] >= 0 && (rs->in_kind[rs->m[m].src[k]] = classify(ctx->in[rs->m[m].src[k]], S)) ==
                                            RK_NONE)
                return NT_ERR_UNSUPPORTED;
    nt_tensor full = *S, row = *S;
    full.data = row.data = NULL;
    row.dims[row.ndim - 1] = 1;
    for (int m = 0; m < rs->n; m++) {
        row_member *rm = &rs->m[m];
        int kind[2];
        for (int k = 0; k < rm->n_opnd; k++)
            kind[k] = rm->src[k] < 0 ? rs->m[-rm->src[k] - 1].out_kind : rs->in_kind[rm->src[k]];
        if (rm->kind == RM_MEAN || rm->kind == RM_SOFTMAX) {
            if (kind[0] != RK_FULL || (rm->axis != -1 && rm->axis != S->ndim - 1))
                return NT_ERR_UNSUPPORTED;
            rm->out_kind = rm->kind == RM_MEAN ? RK_ROW : RK_FULL;
            continue;
        }
        if (rm->n_opnd == 1) {
            if (kind[0] != RK_FULL && kind[0] != RK_ROW)
                return NT_ERR_UNSUPPORTED;
            rm->out_kind = kind[0];
        } else {
            int a = kind[0], b = kind[1];
            if (a == RK_FULL || b == RK_FULL || (a == RK_ROW && b == RK_COL) || (a == RK_COL && b == RK_ROW))
                rm->out_kind = RK_FULL;
            else if ((a == RK_ROW || b == RK_ROW) && a != RK_COL && b != RK_COL)
                rm->out_kind = RK_ROW;
            else
                return NT_ERR_UNSUPPORTED;
        }
        if (rm->kind == RM_COPY)
            continue;
        nt_tensor *min[2] = {NULL, NULL};
        for (int k = 0; k < rm->n_opnd; k++)
            min[k] = rm->src[k] >= 0 ? ctx->in[rm->src[k]] : kind[k] == RK_FULL ? &full : &row;
        const nt_plan_node *pn = &p->nodes[rm->node];
        nt_kernel_ctx mctx = {pn->node, pn->opset, rm->n_opnd, 1, min, NULL, pn->state, false, ctx->exec, ctx->graph};
        nt_status st = rm->kind == RM_UNARY ? nt_ew_unary_loop(&mctx, &rm->fn, &rm->par)
                                            : nt_ew_binary_loop(&mctx, &rm->fn, &rm->par);
        if (st != NT_OK)
            return st == NT_ERR_UNSUPPORTED ? NT_ERR_UNSUPPORTED : st;
    }
    if (rs->m[rs->n - 1].out_kind != RK_FULL)
        return NT_ERR_UNSUPPORTED;
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_FLOAT, S->ndim, S->dims);
}

typedef struct rows_job {
    const row_state *rs;
    const float *in[NT_FUSE_MAX_IN];
    float *out;
    bool nomem;
} rows_job;

static void rows_range(void *arg, int64_t r0, int64_t r1)
{
    rows_job *j = arg;
    const row_state *rs = j->rs;
    const int64_t R = rs->R;
    float *regs = nt_malloc((size_t)rs->n * (size_t)R * sizeof(float));
    if (!regs) {
        j->nomem = true;
        return;
    }
    for (int64_t row = r0; row < r1; row++) {
        for (int m = 0; m < rs->n; m++) {
            const row_member *rm = &rs->m[m];
            const void *ip[2];
            int64_t step[2];
            for (int k = 0; k < rm->n_opnd; k++) {
                int src = rm->src[k];
                int kind = src < 0 ? rs->m[-src - 1].out_kind : rs->in_kind[src];
                const float *base = src < 0 ? regs + (size_t)(-src - 1) * (size_t)R : j->in[src];
                if (src >= 0 && kind == RK_FULL)
                    base += row * R;
                else if (src >= 0 && kind == RK_ROW)
                    base += row;
                ip[k] = base;
                step[k] = kind == RK_FULL || kind == RK_COL ? 1 : 0;
            }
            float *o = m == rs->n - 1 ? j->out + row * R : regs + (size_t)m * (size_t)R;
            int64_t n = rm->out_kind == RK_FULL ? R : 1;
            if (rm->kind == RM_MEAN) {
                /* reduce.c's contiguous rows: a double sum in order, then
                 * (float)(sum / R) */
                const float *x = ip[0];
                double a = 0;
                for (int64_t i = 0; i < R; i++)
                    a = a + (double)x[i];
                o[0] = (float)(a / (double)R);
            } else if (rm->kind == RM_SOFTMAX) {
                nt_softmax_row_f32(ip[0], o, R);
            } else if (rm->kind == RM_COPY) {
                memcpy(o, ip[0], (size_t)n * sizeof *o);
            } else {
                rm->fn(o, ip, step, n, &rm->par);
            }
        }
    }
    free(regs);
}

static nt_status rows_compute(nt_kernel_ctx *ctx)
{
    const row_state *rs = ctx->state;
    rows_job j = {rs, {NULL}, ctx->out[0]->data, false};
    for (int k = 0; k < ctx->n_in; k++)
        j.in[k] = ctx->in[k] ? ctx->in[k]->data : NULL;
    nt_parallel_for(ctx->exec, rs->rows, NT_MAX(1, 16384 / rs->R), rows_range, &j);
    if (j.nomem)
        return nt_error(NT_ERR_NOMEM, "out of memory for a fused row program");
    return NT_OK;
}

const nt_fuse_pattern nt_fuse_rows = {"FusedRowProgram", rows_match, rows_infer, rows_compute, rows_release};
