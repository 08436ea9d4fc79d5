/*
 * fuse_chain.c — fused element-wise chains: connected float32 unary and
 * binary nodes (GELU in its Erf and Tanh forms, SiLU as Sigmoid * x, bias
 * and scale arithmetic, float-to-float Casts) run block by block, so each
 * intermediate lives in a 1 KB buffer in L1 instead of a full tensor in
 * memory, and the chain costs one pass over its inputs and output.
 *
 * Same bits by construction: every member runs the very inner loop its own
 * kernel would run (nt_ew_unary_loop / nt_ew_binary_loop resolve it from the
 * node's state and run-time inputs, special cases such as Pow(x, 2)
 * included).  Element-wise results do not depend on where a block starts,
 * so blocks and threads change nothing.
 *
 * Operands: a member reads other members' results (whole blocks), group
 * inputs of the output's full shape, or group inputs of one element (any
 * rank up to the output's).  Inputs that broadcast otherwise (a bias row)
 * keep their node out of the chain.  Shapes are checked per run; a run whose
 * shapes do not fit declines and the nodes run one by one.
 *
 * Shapes: out = the shape of the largest data operand.
 */
#include "exec/fuse.h"
#include "ops/elementwise_common.h"

#include <stdlib.h>
#include <string.h>

/* Elements per block: 24 members' buffers stay within 24 KB of stack. */
#define CHAIN_BLOCK 256

enum { CH_UNARY, CH_BINARY, CH_COPY };

typedef struct chain_member {
    int node;                  /* node index */
    int kind;                  /* CH_* */
    int n_opnd;                /* data operands: 1 or 2 */
    int src[2];                /* >= 0: group input; < 0: -(member + 1) */
    int extra[2];              /* unary parameter inputs (Clip bounds): group input or -1 */
    nt_ew_fn fn;               /* resolved per run by chain_infer */
    nt_ew_params par;
} chain_member;

typedef struct chain_state {
    const nt_plan *plan;
    int n;
    chain_member m[NT_FUSE_MAX_MEMBERS];
    /* per run (chain_infer), read by compute */
    bool full[NT_FUSE_MAX_IN]; /* group input k has the output's shape (else one element) */
} chain_state;

static bool same_shape(const nt_tensor *a, const nt_tensor *b)
{
    if (a->ndim != b->ndim)
        return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != b->dims[d])
            return false;
    return true;
}

static bool static_shape_known(const nt_tensor *t)
{
    if (t->ndim < 0)
        return false;
    for (int d = 0; d < t->ndim; d++)
        if (t->dims[d] < 0)
            return false;
    return true;
}

/* An operand that statically cannot be the output's shape or one element. */
static bool operand_broadcasts(const nt_plan *p, int v, int out)
{
    const nt_tensor *a = &p->info[v], *o = &p->info[out];
    if (!static_shape_known(a) || !static_shape_known(o))
        return false;
    if (nt_tensor_numel(a) == 1)
        return a->ndim > o->ndim;
    return !same_shape(a, o);
}

/* Number of data operands of a chainable node, 0 when it is not chainable:
 * element-wise (fuse_ew_operands) with no operand that broadcasts. */
static int chainable(const nt_plan *p, int i)
{
    int n_opnd = fuse_ew_operands(p, i);
    const nt_node *n = p->nodes[i].node;
    for (int k = 0; k < n_opnd; k++)
        if (operand_broadcasts(p, n->in[k], n->out[0]))
            return 0;
    return n_opnd;
}

static void chain_release(void *state) { free(state); }

/* Builds the member table once the group (and its input order) exists. */
static void chain_describe(const nt_plan *p, const nt_fuse_group *g, chain_state *cs)
{
    const nt_graph *gr = p->graph;
    cs->plan = p;
    cs->n = g->n_members;
    for (int m = 0; m < g->n_members; m++) {
        chain_member *cm = &cs->m[m];
        const nt_node *n = &gr->nodes[g->members[m]];
        cm->node = g->members[m];
        cm->kind = strcmp(n->op_type, "Cast") == 0 ? CH_COPY : nt_ew_is_unary(p->nodes[cm->node].op) ? CH_UNARY
                                                                                                  : CH_BINARY;
        cm->n_opnd = cm->kind == CH_BINARY ? 2 : 1;
        for (int k = 0; k < cm->n_opnd; k++) {
            int v = n->in[k];
            int src = fuse_group_input(g, v);
            for (int j = 0; j < m && src < 0; j++)
                if (gr->nodes[g->members[j]].out[0] == v)
                    src = -(j + 1);
            cm->src[k] = src;
        }
        cm->extra[0] = cm->extra[1] = -1;
        for (int k = 1; k < n->n_in && k < 3 && cm->kind == CH_UNARY; k++)
            cm->extra[k - 1] = n->in[k] >= 0 ? fuse_group_input(g, n->in[k]) : -1;
    }
}

static nt_status chain_match(nt_session *s, nt_plan *p, const int *uses)
{
    (void)s;
    const nt_graph *g = p->graph;
    for (int pos = p->n_order - 1; pos >= 0; pos--) {
        int root = p->order[pos];
        if (!chainable(p, root))
            continue;
        int members[NT_FUSE_MAX_MEMBERS];
        int n = 0;
        members[n++] = root;
        bool grew = true;
        while (grew && n < NT_FUSE_MAX_MEMBERS) {
            grew = false;
            for (int j = 0; j < n && n < NT_FUSE_MAX_MEMBERS; j++) {
                const nt_node *mn = &g->nodes[members[j]];
                int n_opnd = chainable(p, members[j]);
                /* Pow's exponent stays a group input: its kernel looks at
                 * the exponent's value (2 runs as x*x). */
                if (strcmp(mn->op_type, "Pow") == 0)
                    n_opnd = 1;
                for (int k = 0; k < n_opnd && n < NT_FUSE_MAX_MEMBERS; k++) {
                    int v = mn->in[k];
                    int prod = g->values[v].producer;
                    if (prod < 0 || fuse_in_list(members, n, prod) || !chainable(p, prod))
                        continue;
                    members[n] = prod;
                    if (fuse_value_private(p, uses, v, members, n + 1)) {
                        n++;
                        grew = true;
                    }
                }
            }
        }
        /* A Clip bound produced by a member would be a data dependency the
         * block loop does not order: drop such groups (never seen in exports). */
        bool ok = n >= 2;
        for (int j = 0; j < n && ok; j++) {
            const nt_node *mn = &g->nodes[members[j]];
            for (int k = 1; k < mn->n_in && ok && nt_ew_is_unary(p->nodes[members[j]].op); k++)
                for (int i = 0; i < n && ok; i++)
                    ok = mn->in[k] < 0 || g->nodes[members[i]].out[0] != mn->in[k];
        }
        if (!ok)
            continue;
        chain_state *cs = nt_calloc(1, sizeof *cs);
        if (!cs)
            return NT_ERR_NOMEM;
        nt_fuse_group *grp;
        nt_status st = fuse_group_add(p, &nt_fuse_chain, members, n, cs, &grp);
        if (st != NT_OK)
            return st;
        if (grp)
            chain_describe(p, grp, cs);
    }
    return NT_OK;
}

/* Classifies the group inputs for this run and resolves each member's loop. */
static nt_status chain_infer(nt_kernel_ctx *ctx)
{
    chain_state *cs = ctx->state;
    const nt_plan *p = cs->plan;
    int n_in = ctx->n_in;
    /* the reference shape: the largest data operand */
    const nt_tensor *ref = NULL;
    for (int m = 0; m < cs->n; m++)
        for (int k = 0; k < cs->m[m].n_opnd; k++) {
            if (cs->m[m].src[k] < 0)
                continue;
            const nt_tensor *t = ctx->in[cs->m[m].src[k]];
            if (!t || t->dtype != NT_DTYPE_FLOAT || t->ndim < 0)
                return NT_ERR_UNSUPPORTED;
            int64_t a = nt_tensor_numel(t), b = ref ? nt_tensor_numel(ref) : -1;
            if (!ref || a > b || (a == b && t->ndim > ref->ndim))
                ref = t;
        }
    if (!ref)
        return NT_ERR_UNSUPPORTED;
    for (int k = 0; k < n_in; k++)
        cs->full[k] = ctx->in[k] && same_shape(ctx->in[k], ref);
    for (int m = 0; m < cs->n; m++) {
        chain_member *cm = &cs->m[m];
        bool any_full = false;
        for (int k = 0; k < cm->n_opnd; k++) {
            int src = cm->src[k];
            if (src < 0 || cs->full[src]) {
                any_full = true;
                continue;
            }
            const nt_tensor *t = ctx->in[src];
            if (nt_tensor_numel(t) != 1 || t->ndim > ref->ndim)
                return NT_ERR_UNSUPPORTED;
        }
        if (!any_full)
            return NT_ERR_UNSUPPORTED;
        if (cm->kind == CH_COPY)
            continue;
        /* the member's own view: registers stand in as float tensors of the
         * output's shape without data */
        nt_tensor reg = *ref;
        reg.data = NULL;
        nt_tensor *min[3] = {NULL, NULL, NULL};
        for (int k = 0; k < cm->n_opnd; k++)
            min[k] = cm->src[k] < 0 ? &reg : ctx->in[cm->src[k]];
        int mn_in = cm->n_opnd;
        if (cm->kind == CH_UNARY) {
            for (int k = 0; k < 2; k++)
                min[1 + k] = cm->extra[k] >= 0 ? ctx->in[cm->extra[k]] : NULL;
            mn_in = p->nodes[cm->node].node->n_in;
        }
        const nt_plan_node *pn = &p->nodes[cm->node];
        nt_kernel_ctx mctx = {pn->node, pn->opset, mn_in, 1, min, NULL, pn->state, false, ctx->exec, ctx->graph};
        nt_status st = cm->kind == CH_UNARY ? nt_ew_unary_loop(&mctx, &cm->fn, &cm->par)
                                            : nt_ew_binary_loop(&mctx, &cm->fn, &cm->par);
        if (st != NT_OK)
            return st == NT_ERR_UNSUPPORTED ? NT_ERR_UNSUPPORTED : st;
    }
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_FLOAT, ref->ndim, ref->dims);
}

typedef struct chain_job {
    const chain_state *cs;
    const float *in[NT_FUSE_MAX_IN];
    float *out;
    int64_t total;
} chain_job;

static void chain_copy(float *o, const float *a, int64_t n) { memcpy(o, a, (size_t)n * sizeof *o); }

static void chain_blocks(void *arg, int64_t b0, int64_t b1)
{
    const chain_job *j = arg;
    const chain_state *cs = j->cs;
    float regs[NT_FUSE_MAX_MEMBERS][CHAIN_BLOCK];
    for (int64_t b = b0; b < b1; b++) {
        int64_t off = b * CHAIN_BLOCK;
        int64_t n = NT_MIN(CHAIN_BLOCK, j->total - off);
        for (int m = 0; m < cs->n; m++) {
            const chain_member *cm = &cs->m[m];
            const void *ip[2];
            int64_t step[2];
            for (int k = 0; k < cm->n_opnd; k++) {
                int src = cm->src[k];
                if (src < 0) {
                    ip[k] = regs[-src - 1];
                    step[k] = 1;
                } else if (cs->full[src]) {
                    ip[k] = j->in[src] + off;
                    step[k] = 1;
                } else {
                    ip[k] = j->in[src];
                    step[k] = 0;
                }
            }
            float *o = m == cs->n - 1 ? j->out + off : regs[m];
            if (cm->kind == CH_COPY)
                chain_copy(o, ip[0], n);
            else
                cm->fn(o, ip, step, n, &cm->par);
        }
    }
}

static nt_status chain_compute(nt_kernel_ctx *ctx)
{
    const chain_state *cs = ctx->state;
    nt_tensor *y = ctx->out[0];
    chain_job j = {cs, {NULL}, y->data, nt_tensor_numel(y)};
    for (int k = 0; k < ctx->n_in; k++)
        j.in[k] = ctx->in[k] ? ctx->in[k]->data : NULL;
    int64_t blocks = (j.total + CHAIN_BLOCK - 1) / CHAIN_BLOCK;
    /* about 32 K elements a task, as the element-wise kernels split */
    nt_parallel_for(ctx->exec, blocks, 32768 / CHAIN_BLOCK, chain_blocks, &j);
    return NT_OK;
}

const nt_fuse_pattern nt_fuse_chain = {"FusedElementwise", chain_match, chain_infer, chain_compute, chain_release};

/* ---- a Cast from float to float: its output is its input */

static nt_status noop_cast_match(nt_session *s, nt_plan *p, const int *uses)
{
    (void)s;
    (void)uses;
    const nt_graph *g = p->graph;
    for (int pos = 0; pos < p->n_order; pos++) {
        int i = p->order[pos];
        const nt_node *n = &g->nodes[i];
        if (!fuse_node_free(p, i) || strcmp(n->op_type, "Cast") != 0 || n->n_in < 1 || n->in[0] < 0 ||
            n->n_out != 1 || n->out[0] < 0)
            continue;
        nt_dtype a = fuse_dtype(p, n->in[0]), b = fuse_dtype(p, n->out[0]);
        if (a == NT_DTYPE_UNDEFINED || a != b || g->values[n->out[0]].is_graph_output)
            continue;
        /* chained aliases would need their lifetimes extended in order */
        int prod = g->values[n->in[0]].producer;
        if (prod >= 0 && p->nodes[prod].group && !p->nodes[prod].group->pat->compute)
            continue;
        nt_status st = fuse_group_add(p, &nt_fuse_noop_cast, &i, 1, NULL, NULL);
        if (st != NT_OK)
            return st;
    }
    return NT_OK;
}

static nt_status noop_cast_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

const nt_fuse_pattern nt_fuse_noop_cast = {"NoOpCast", noop_cast_match, noop_cast_infer, NULL, NULL};
