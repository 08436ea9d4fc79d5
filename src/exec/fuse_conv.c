/*
 * fuse_conv.c — a float32 Conv with its element-wise epilogue (Relu, Clip,
 * LeakyRelu, SiLU as Sigmoid * x, a residual Add, bias and scale
 * arithmetic) run as one group: the convolution applies the epilogue to
 * each block of outputs as soon as it is final (a GEMM column block, a
 * depthwise plane) while the block is still in cache, instead of the
 * members each making a pass over a full tensor in memory.
 *
 * Same bits (fuse.h): the Conv runs its own kernel with its own node state,
 * and each epilogue member runs the very inner loop its own kernel would
 * (nt_ew_unary_loop / nt_ew_binary_loop, resolved per run), on blocks of
 * the final convolution outputs, in the blocks the chains use (fixed
 * offsets, so each element goes through the same part of each loop as in
 * the member's own kernel).  A block gets its epilogue as soon as the
 * Conv has finished all of it.  Paths that do not report finished outputs
 * (Winograd, OpenBLAS) leave it to one pass over the whole output.
 *
 * Members: the Conv, then element-wise nodes whose data operands are the
 * outputs of earlier members, group inputs of the Conv output's shape (a
 * residual) or one-element group inputs; every interior value private.
 */
#include "exec/fuse.h"
#include "ops/conv_geom.h"
#include "ops/elementwise_common.h"

#include <stdlib.h>
#include <string.h>

#define EPI_BLOCK 256

typedef struct epi_member {
    int node;
    bool binary;
    int n_opnd;
    int src[2];              /* >= 0: group input; < 0: -(member + 1), member 0 the Conv */
    int extra[2];            /* unary parameter inputs (Clip bounds): group input or -1 */
    nt_ew_fn fn;             /* resolved per run */
    nt_ew_params par;
} epi_member;

typedef struct conv_epi_state {
    const nt_plan *plan;
    int conv;                /* node index */
    int conv_in[3];          /* the Conv's inputs as group inputs (-1: absent) */
    int n_conv_in;
    int n;                   /* members including the Conv */
    epi_member m[NT_FUSE_MAX_MEMBERS];
    /* per run */
    bool full[NT_FUSE_MAX_IN];
    const float *in[NT_FUSE_MAX_IN];
    int64_t total;           /* output elements */
    int32_t *done;           /* finished outputs per block */
    nt_conv_epi epi;
} conv_epi_state;

static bool ew_op_ok(const nt_plan_node *pn, int *n_opnd)
{
    const char *op = pn->node->op_type;
    static const char *const binary[] = {"Add", "Sub", "Mul", "Div", "Min", "Max"};
    if (nt_ew_is_unary(pn->op)) {
        if (strcmp(op, "IsNaN") == 0 || strcmp(op, "IsInf") == 0 || strcmp(op, "Not") == 0 ||
            strcmp(op, "BitwiseNot") == 0)
            return false;
        *n_opnd = 1;
        return true;
    }
    if (!nt_ew_is_binary(pn->op) || pn->node->n_in != 2)
        return false;
    for (size_t i = 0; i < NT_ARRAY_LEN(binary); i++)
        if (strcmp(op, binary[i]) == 0) {
            *n_opnd = 2;
            return true;
        }
    return false;
}

static bool in_list(const int *list, int n, int x)
{
    for (int k = 0; k < n; k++)
        if (list[k] == x)
            return true;
    return false;
}

/* Whether node i can join members[0..n) as an epilogue member: free,
 * element-wise, float32 out, reading at least one member's output, its
 * other data operands statically the Conv output's shape or one element,
 * Clip bounds not produced by members. */
static bool joinable(const nt_plan *p, int i, const int *members, int n, int conv_out)
{
    if (!fuse_node_free(p, i) || in_list(members, n, i))
        return false;
    const nt_plan_node *pn = &p->nodes[i];
    const nt_node *nd = pn->node;
    int n_opnd;
    if (nd->n_out != 1 || nd->out[0] < 0 || fuse_dtype(p, nd->out[0]) != NT_DTYPE_FLOAT || !ew_op_ok(pn, &n_opnd))
        return false;
    const nt_graph *g = p->graph;
    bool reads_member = false;
    for (int k = 0; k < nd->n_in; k++) {
        int v = nd->in[k];
        if (v < 0)
            continue;
        int prod = g->values[v].producer;
        bool from_member = prod >= 0 && in_list(members, n, prod);
        if (k >= n_opnd) {
            if (from_member)
                return false;
            continue;
        }
        if (fuse_dtype(p, v) != NT_DTYPE_FLOAT)
            return false;
        if (from_member) {
            reads_member = true;
            continue;
        }
        const nt_tensor *a = &p->info[v], *o = &p->info[conv_out];
        if (a->ndim < 0 || o->ndim < 0)
            return false;
        bool one = true, same = a->ndim == o->ndim;
        for (int d = 0; d < a->ndim; d++) {
            one = one && a->dims[d] == 1;
            same = same && d < o->ndim && a->dims[d] == o->dims[d] && a->dims[d] >= 0;
        }
        if (!(same || (one && a->ndim <= o->ndim)))
            return false;
    }
    return reads_member;
}

static void conv_epi_release(void *state) { free(state); }

static void describe(const nt_plan *p, const nt_fuse_group *g, conv_epi_state *cs)
{
    const nt_graph *gr = p->graph;
    cs->plan = p;
    cs->n = g->n_members;
    const nt_node *cn = &gr->nodes[cs->conv];
    cs->n_conv_in = cn->n_in < 3 ? cn->n_in : 3;
    for (int k = 0; k < 3; k++)
        cs->conv_in[k] = k < cn->n_in && cn->in[k] >= 0 ? fuse_group_input(g, cn->in[k]) : -1;
    for (int m = 0; m < g->n_members; m++) {
        epi_member *em = &cs->m[m];
        const nt_node *n = &gr->nodes[g->members[m]];
        em->node = g->members[m];
        if (m == 0)
            continue; /* the Conv (first in plan order) */
        em->binary = nt_ew_is_binary(p->nodes[em->node].op);
        em->n_opnd = em->binary ? 2 : 1;
        for (int k = 0; k < em->n_opnd; k++) {
            int v = n->in[k], src = fuse_group_input(g, v);
            for (int j = 0; j < m && src < 0; j++)
                if (gr->nodes[g->members[j]].out[0] == v)
                    src = -(j + 1);
            em->src[k] = src;
        }
        em->extra[0] = em->extra[1] = -1;
        for (int k = 1; k < n->n_in && k < 3 && !em->binary; k++)
            em->extra[k - 1] = n->in[k] >= 0 ? fuse_group_input(g, n->in[k]) : -1;
    }
}

static nt_status conv_epi_match(nt_session *s, nt_plan *p, const int *uses)
{
    (void)s;
    const nt_graph *g = p->graph;
    for (int pos = 0; pos < p->n_order; pos++) {
        int conv = p->order[pos];
        const nt_node *cn = &g->nodes[conv];
        if (!fuse_node_free(p, conv) || strcmp(cn->op_type, "Conv") != 0 || cn->n_out != 1 || cn->out[0] < 0 ||
            fuse_dtype(p, cn->out[0]) != NT_DTYPE_FLOAT || cn->n_in < 2)
            continue;
        int members[NT_FUSE_MAX_MEMBERS], n = 1, best = 1;
        members[0] = conv;
        /* grow in plan order: the earliest joinable node after the Conv */
        for (int q = pos + 1; q < p->n_order && n < NT_FUSE_MAX_MEMBERS; q++) {
            int i = p->order[q];
            if (!joinable(p, i, members, n, cn->out[0]))
                continue;
            members[n++] = i;
            /* a valid group when every member output but the last is private */
            bool ok = true;
            for (int j = 0; j < n - 1 && ok; j++)
                ok = fuse_value_private(p, uses, g->nodes[members[j]].out[0], members, n);
            if (ok)
                best = n;
        }
        if (best < 2)
            continue;
        conv_epi_state *cs = nt_calloc(1, sizeof *cs);
        if (!cs)
            return NT_ERR_NOMEM;
        cs->conv = conv;
        nt_fuse_group *grp;
        nt_status st = fuse_group_add(p, &nt_fuse_conv_epilogue, members, best, cs, &grp);
        if (st != NT_OK)
            return st;
        if (grp)
            describe(p, grp, cs);
    }
    return NT_OK;
}

/* The Conv's own context: its node, opset and state, its inputs taken from
 * the group's, its output the group's. */
static nt_kernel_ctx conv_ctx(const nt_kernel_ctx *ctx, const conv_epi_state *cs, nt_tensor **cin)
{
    const nt_plan_node *pn = &cs->plan->nodes[cs->conv];
    for (int k = 0; k < 3; k++)
        cin[k] = cs->conv_in[k] >= 0 ? ctx->in[cs->conv_in[k]] : NULL;
    nt_kernel_ctx c = {pn->node, pn->opset, cs->n_conv_in, 1, cin, ctx->out, pn->state, false, ctx->exec,
                       ctx->graph};
    return c;
}

static nt_status conv_epi_infer(nt_kernel_ctx *ctx)
{
    conv_epi_state *cs = ctx->state;
    const nt_plan *p = cs->plan;
    nt_tensor *cin[3];
    if (cs->conv_in[0] < 0 || !ctx->in[cs->conv_in[0]] || ctx->in[cs->conv_in[0]]->dtype != NT_DTYPE_FLOAT)
        return NT_ERR_UNSUPPORTED;
    nt_kernel_ctx c = conv_ctx(ctx, cs, cin);
    nt_status st = p->nodes[cs->conv].op->infer(&c);
    if (st != NT_OK)
        return st;
    const nt_tensor *ref = ctx->out[0];
    if (ref->ndim < 0 || ref->dtype != NT_DTYPE_FLOAT)
        return NT_ERR_UNSUPPORTED;
    for (int k = 0; k < ctx->n_in; k++) {
        const nt_tensor *t = ctx->in[k];
        bool same = t && t->ndim == ref->ndim;
        for (int d = 0; same && d < t->ndim; d++)
            same = t->dims[d] == ref->dims[d];
        cs->full[k] = same;
    }
    for (int m = 1; m < cs->n; m++) {
        epi_member *em = &cs->m[m];
        for (int k = 0; k < em->n_opnd; k++) {
            int src = em->src[k];
            if (src < 0 || cs->full[src])
                continue;
            const nt_tensor *t = ctx->in[src];
            if (!t || t->dtype != NT_DTYPE_FLOAT || nt_tensor_numel(t) != 1 || t->ndim > ref->ndim)
                return NT_ERR_UNSUPPORTED;
        }
        nt_tensor reg = *ref;
        reg.data = NULL;
        nt_tensor *min[3] = {NULL, NULL, NULL};
        for (int k = 0; k < em->n_opnd; k++)
            min[k] = em->src[k] < 0 ? &reg : ctx->in[em->src[k]];
        const nt_plan_node *pn = &p->nodes[em->node];
        int mn_in = em->n_opnd;
        if (!em->binary) {
            for (int k = 0; k < 2; k++)
                min[1 + k] = em->extra[k] >= 0 ? ctx->in[em->extra[k]] : NULL;
            mn_in = pn->node->n_in;
        }
        nt_kernel_ctx mctx = {pn->node, pn->opset, mn_in, 1, min, NULL, pn->state, false, ctx->exec, ctx->graph};
        st = em->binary ? nt_ew_binary_loop(&mctx, &em->fn, &em->par) : nt_ew_unary_loop(&mctx, &em->fn, &em->par);
        if (st != NT_OK)
            return st;
    }
    return NT_OK;
}

/* The epilogue on block b of the output, [b * EPI_BLOCK, ...): each
 * member's loop, interior results in stack buffers, the last member's
 * written over y (the Conv's output, which every member has read for the
 * block by then).  Blocks start at multiples of EPI_BLOCK, as the members'
 * own kernels' loops see them (a loop's vector body and scalar tail may
 * order a NaN operand pair differently, so elements must land in the same
 * part of the loop to keep every NaN payload). */
static void epi_block(const conv_epi_state *cs, float *y, int64_t b)
{
    float regs[NT_FUSE_MAX_MEMBERS][EPI_BLOCK];
    const int64_t o = b * EPI_BLOCK, len = cs->total - o < EPI_BLOCK ? cs->total - o : EPI_BLOCK;
    for (int m = 1; m < cs->n; m++) {
        const epi_member *em = &cs->m[m];
        const void *ip[2];
        int64_t step[2];
        for (int k = 0; k < em->n_opnd; k++) {
            int src = em->src[k];
            step[k] = 1;
            if (src == -1)
                ip[k] = y + o;
            else if (src < 0)
                ip[k] = regs[-src - 1];
            else if (cs->full[src])
                ip[k] = cs->in[src] + o;
            else
                ip[k] = cs->in[src], step[k] = 0;
        }
        em->fn(m == cs->n - 1 ? (void *)(y + o) : (void *)regs[m], ip, step, len, &em->par);
    }
}

/* The Conv finished y[off, off + n): each block it completes (counting the
 * finished elements of every block, whichever thread made them) gets the
 * epilogue now, by the thread that completed it. */
static void epi_apply(const nt_conv_epi *e, float *y, int64_t off, int64_t n)
{
    const conv_epi_state *cs = e->arg;
    for (int64_t b = off / EPI_BLOCK; b * EPI_BLOCK < off + n; b++) {
        const int64_t lo = b * EPI_BLOCK > off ? b * EPI_BLOCK : off;
        const int64_t end = (b + 1) * EPI_BLOCK < cs->total ? (b + 1) * EPI_BLOCK : cs->total;
        const int64_t hi = end < off + n ? end : off + n;
        const int32_t size = (int32_t)(end - b * EPI_BLOCK);
        if (__atomic_add_fetch(&cs->done[b], (int32_t)(hi - lo), __ATOMIC_ACQ_REL) == size)
            epi_block(cs, y, b);
    }
}

typedef struct whole_job {
    const conv_epi_state *cs;
    float *y;
} whole_job;

static void whole_range(void *arg, int64_t b0, int64_t b1)
{
    const whole_job *j = arg;
    for (int64_t b = b0; b < b1; b++)
        epi_block(j->cs, j->y, b);
}

static nt_status conv_epi_compute(nt_kernel_ctx *ctx)
{
    conv_epi_state *cs = ctx->state;
    const nt_plan_node *pn = &cs->plan->nodes[cs->conv];
    for (int k = 0; k < ctx->n_in; k++)
        cs->in[k] = ctx->in[k] ? ctx->in[k]->data : NULL;
    cs->total = nt_tensor_numel(ctx->out[0]);
    const int64_t blocks = (cs->total + EPI_BLOCK - 1) / EPI_BLOCK;
    /* per-block counts of finished outputs; without them the epilogue runs
     * after the whole convolution */
    cs->done = nt_calloc((size_t)(blocks > 0 ? blocks : 1), sizeof *cs->done);
    cs->epi.apply = epi_apply;
    cs->epi.arg = cs;
    nt_conv_state *st = pn->state;
    st->epi = cs->done ? &cs->epi : NULL;
    st->epi_done = false;
    nt_tensor *cin[3];
    nt_kernel_ctx c = conv_ctx(ctx, cs, cin);
    nt_status s = pn->op->compute(&c);
    bool done = st->epi_done;
    st->epi = NULL;
    st->epi_done = false;
    free(cs->done);
    cs->done = NULL;
    if (s != NT_OK || done)
        return s;
    whole_job j = {cs, ctx->out[0]->data};
    nt_parallel_for(ctx->exec, blocks, 32768 / EPI_BLOCK, whole_range, &j);
    return NT_OK;
}

const nt_fuse_pattern nt_fuse_conv_epilogue = {"FusedConv", conv_epi_match, conv_epi_infer, conv_epi_compute,
                                               conv_epi_release};
