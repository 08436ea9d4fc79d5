/*
 * fuse_qdq.c — QDQ groups computed in integers, as ONNX Runtime computes
 * them: DequantizeLinear → Conv → QuantizeLinear (the weights' and the
 * int32 bias's DequantizeLinear too) runs as QLinearConv, and
 * DequantizeLinear → MatMul → QuantizeLinear as QLinearMatMul, and the
 * com.microsoft kernels of qlinear_ms.c for Add (QLinearAdd), Mul
 * (QLinearMul), Concat (QLinearConcat), GlobalAveragePool
 * (QLinearGlobalAveragePool), Sigmoid and LeakyRelu (QLinearSigmoid,
 * QLinearLeakyRelu: 256-entry tables) and Gemm (QGemm, with or without the
 * QuantizeLinear).
 *
 * Why this is a lowering and not a speed-only fusion.  ONNX Runtime rewrites
 * these groups (its QDQ selectors) and requantizes the exact int32 sum in
 * float32: y = saturate(rint(float(acc + bias) * (x_scale * w_scale /
 * y_scale)) + y_zp).  The float graph instead quantizes a float convolution
 * of dequantized values, round(conv / y_scale), which lands one step away in
 * rare elements.  No float kernel reproduces the integer result bit for bit,
 * so the QuantizeLinear that closes such a group is *defined* here by the
 * integer computation, whether or not the group is traced:
 *   - untraced (the group active): one QLinearConv/QLinearMatMul kernel on
 *     the quantized inputs; the DequantizeLinear, Conv and MatMul members do
 *     not run at all (no float weights are made);
 *   - traced, or in the debugger (inactive): the members run one by one so
 *     every tracer sees the dequantized tensors and the float Conv/MatMul
 *     output, and the root QuantizeLinear takes its value from the same
 *     integer kernel (run.c, fuse_pattern_lowers).
 * So the numbers never depend on tracing, and they are ONNX Runtime's.  The
 * cost is visible in a trace only: the QuantizeLinear's output may differ by
 * one step from quantizing the traced float Conv output itself.  This
 * lowering applies with NNTRACE_FUSE=0 too (it decides values, not speed).
 *
 * The groups matched are those ONNX Runtime's selectors take (ConvSelector,
 * MatMulSelector, BinarySelector, VariadicSelector, UnarySelector,
 * GemmSelector; not yet its QLinearAveragePool, QLinearSoftmax and
 * MatMulIntegerToFloat rewrites, which stay float here): every data input of the target comes from a
 * DequantizeLinear of uint8/int8 data (the bias from int32), the output
 * goes to exactly one QuantizeLinear and nowhere else, the activation and
 * output types agree, int8 activations come with int8 weights, scales are
 * float32, x and y are quantized per tensor, Conv weights per tensor or per
 * output channel.  A DequantizeLinear whose output is read elsewhere too
 * still runs on its own; the group reads its quantized input.
 */
#include "exec/fuse.h"

#include <stdlib.h>
#include <string.h>

typedef struct qdq_state {
    const nt_op_def *op;     /* QLinearConv or QLinearMatMul */
    void *op_state;          /* op->prepare on the group's node */
    int opset;
} qdq_state;

static void qdq_release(void *p)
{
    qdq_state *q = p;
    if (!q)
        return;
    if (q->op && q->op->release && q->op_state)
        q->op->release(q->op_state);
    free(q);
}

static nt_status qdq_infer(nt_kernel_ctx *ctx)
{
    const qdq_state *q = ctx->state;
    nt_kernel_ctx c = *ctx;
    c.state = q->op_state;
    c.opset = q->opset;
    return q->op->infer(&c);
}

static nt_status qdq_compute(nt_kernel_ctx *ctx)
{
    const qdq_state *q = ctx->state;
    nt_kernel_ctx c = *ctx;
    c.state = q->op_state;
    c.opset = q->opset;
    return q->op->compute(&c);
}

static bool is_q8(nt_dtype t)
{
    return t == NT_DTYPE_UINT8 || t == NT_DTYPE_INT8;
}

/* The statically known element count of value v, or -1. */
static int64_t known_numel(const nt_plan *p, int v)
{
    const nt_tensor *t = &p->info[v];
    if (t->ndim < 0)
        return -1;
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (t->dims[d] < 0)
            return -1;
        n *= t->dims[d];
    }
    return n;
}

/* A DequantizeLinear (or QuantizeLinear: want_q) node of the default
 * domain this pattern can read: free, plain per-tensor or per-axis (no
 * block_size), float32 scale, its zero point (when present) of the data's
 * type. */
static bool qdq_node_ok(const nt_plan *p, int i, bool want_q)
{
    if (i < 0 || !fuse_node_free(p, i))
        return false;
    const nt_node *n = p->nodes[i].node;
    if (strcmp(n->op_type, want_q ? "QuantizeLinear" : "DequantizeLinear") != 0 || n->n_in < 2 ||
        n->n_out != 1 || n->in[0] < 0 || n->in[1] < 0)
        return false;
    if (nt_node_attr_int(n, "block_size", 0) != 0 || nt_node_attr(n, "output_dtype") ||
        fuse_dtype(p, n->in[1]) != NT_DTYPE_FLOAT)
        return false;
    return true;
}

/* The DequantizeLinear producing value v, or -1. */
static int dq_of(const nt_plan *p, int v)
{
    if (v < 0)
        return -1;
    int prod = p->graph->values[v].producer;
    return qdq_node_ok(p, prod, false) ? prod : -1;
}

/* Whether DQ node d's scale (and zero point) hold one value. */
static bool per_tensor(const nt_plan *p, int d)
{
    const nt_node *n = p->nodes[d].node;
    if (known_numel(p, n->in[1]) != 1)
        return false;
    return n->n_in < 3 || n->in[2] < 0 || known_numel(p, n->in[2]) == 1;
}

/* The node reading value v, when exactly one node input slot reads it and
 * it is not a graph output; else -1.  reader[v] is precomputed. */
static int sole_reader(const nt_plan *p, const int *uses, const int *reader, int v)
{
    if (v < 0 || p->graph->values[v].is_graph_output || uses[v] != 1)
        return -1;
    return reader[v];
}

/* How a group's inputs line up as the kernel's. */
typedef enum qdq_layout {
    QDQ_CONV,        /* QLinearConv: x, xs, xz, w, ws, wz, ys, yz, B */
    QDQ_BINARY,      /* QLinearMatMul, QLinearAdd: a, as, az, b, bs, bz, ys, yz */
    QDQ_UNARY,       /* QLinearGlobalAveragePool: x, xs, xz, ys, yz */
    QDQ_GEMM,        /* QGemm: a, as, az, b, bs, bz, C, ys, yz (ys, yz absent: float output) */
    QDQ_VARIADIC     /* QLinearConcat: ys, yz, then x, xs, xz per input */
} qdq_layout;

/* Claims one group around target node t.  dq[k] is the DequantizeLinear of
 * t's input k (k < n_dq), q the QuantizeLinear (-1: none, QGemm only). */
static nt_status claim(nt_plan *p, const int *uses, int t, const int *dq, int n_dq, int relu, int q,
                       const char *op_type, const char *domain, qdq_layout layout)
{
    const nt_node *tn = p->nodes[t].node, *qn = q >= 0 ? p->nodes[q].node : NULL;
    int members[NT_FUSE_MAX_MEMBERS], n = 0;
    /* a DequantizeLinear read only by the target joins the group; one read
     * elsewhere too runs as itself */
    for (int k = 0; k < n_dq; k++) {
        int out = p->nodes[dq[k]].node->out[0];
        if (fuse_value_private(p, uses, out, &t, 1) && !fuse_in_list(members, n, dq[k]))
            members[n++] = dq[k];
    }
    members[n++] = t;
    if (relu >= 0)
        members[n++] = relu;
    if (q >= 0)
        members[n++] = q;
    qdq_state *st = nt_calloc(1, sizeof *st);
    if (!st)
        return nt_error(NT_ERR_NOMEM, "out of memory planning quantized groups");
    nt_fuse_group *grp;
    nt_status rc = fuse_group_add(p, &nt_fuse_qdq, members, n, st, &grp);
    if (rc != NT_OK || !grp)
        return rc;
    int in[NT_FUSE_MAX_IN], n_in = 0;
    const int n_act = layout == QDQ_UNARY ? 1 : layout == QDQ_VARIADIC ? n_dq : 2;
    if (layout == QDQ_VARIADIC) {
        in[n_in++] = qn->in[1];
        in[n_in++] = qn->n_in > 2 ? qn->in[2] : -1;
    }
    for (int k = 0; k < n_act; k++) {
        const nt_node *d = p->nodes[dq[k]].node;
        in[n_in++] = d->in[0];
        in[n_in++] = d->in[1];
        in[n_in++] = d->n_in > 2 ? d->in[2] : -1;
    }
    if (layout == QDQ_GEMM)
        in[n_in++] = n_dq == 3 ? p->nodes[dq[2]].node->in[0] : -1;
    if (qn && layout != QDQ_VARIADIC) {
        in[n_in++] = qn->in[1];
        in[n_in++] = qn->n_in > 2 ? qn->in[2] : -1;
    }
    if (layout == QDQ_CONV && n_dq == 3)
        in[n_in++] = p->nodes[dq[2]].node->in[0];
    grp->node.n_in = n_in;
    memcpy(grp->in, in, (size_t)n_in * sizeof *in);
    grp->node.op_type = op_type;
    grp->node.domain = domain;
    grp->node.n_attr = tn->n_attr; /* Conv's pads, strides, group; Gemm's alpha, transA, transB */
    grp->node.attrs = tn->attrs;
    st->opset = domain[0] ? 1 : 10;
    st->op = nt_op_find(op_type, domain, st->opset);
    if (!st->op)
        return nt_error(NT_ERR_INTERNAL, "no %s kernel for a quantized group", op_type);
    if (st->op->prepare && (rc = st->op->prepare(&grp->node, st->opset, &st->op_state)) != NT_OK)
        return rc;
    return NT_OK;
}

/* Conv: 2 or 3 inputs, each from a DequantizeLinear; see the file comment. */
static bool conv_group(const nt_plan *p, int t, int *dq, int *n_dq)
{
    const nt_node *tn = p->nodes[t].node;
    int n_in = tn->n_in == 3 && tn->in[2] < 0 ? 2 : tn->n_in; /* an omitted bias */
    if (n_in < 2 || n_in > 3)
        return false;
    for (int k = 0; k < n_in; k++)
        if ((dq[k] = dq_of(p, tn->in[k])) < 0)
            return false;
    *n_dq = n_in;
    const nt_node *dx = p->nodes[dq[0]].node, *dw = p->nodes[dq[1]].node;
    nt_dtype xt = fuse_dtype(p, dx->in[0]), wt = fuse_dtype(p, dw->in[0]);
    if (!is_q8(xt) || !is_q8(wt) || (xt == NT_DTYPE_INT8 && wt != NT_DTYPE_INT8) || !per_tensor(p, dq[0]))
        return false;
    /* weights per tensor, or per output channel (axis 0) */
    if (!per_tensor(p, dq[1])) {
        const nt_tensor *w = &p->info[dw->in[0]];
        int64_t axis = nt_node_attr_int(dw, "axis", 1);
        int64_t ns = known_numel(p, dw->in[1]);
        if (w->ndim < 3 || (axis != 0 && axis != -w->ndim) || ns != w->dims[0] || p->info[dw->in[1]].ndim != 1)
            return false;
    }
    if (*n_dq == 3 && fuse_dtype(p, p->nodes[dq[2]].node->in[0]) != NT_DTYPE_INT32)
        return false;
    return true;
}

/* MatMul: both inputs from a DequantizeLinear; b per tensor or per column. */
static bool matmul_group(const nt_plan *p, int t, int *dq, int *n_dq)
{
    const nt_node *tn = p->nodes[t].node;
    if (tn->n_in != 2 || (dq[0] = dq_of(p, tn->in[0])) < 0 || (dq[1] = dq_of(p, tn->in[1])) < 0)
        return false;
    *n_dq = 2;
    const nt_node *da = p->nodes[dq[0]].node, *db = p->nodes[dq[1]].node;
    nt_dtype at = fuse_dtype(p, da->in[0]), bt = fuse_dtype(p, db->in[0]);
    if (!is_q8(at) || !is_q8(bt) || (at == NT_DTYPE_INT8 && bt != NT_DTYPE_INT8) || !per_tensor(p, dq[0]))
        return false;
    if (!per_tensor(p, dq[1])) {
        const nt_tensor *b = &p->info[db->in[0]];
        int64_t axis = nt_node_attr_int(db, "axis", 1);
        if (b->ndim != 2 || (axis != 1 && axis != -1) || known_numel(p, db->in[1]) != b->dims[1] ||
            p->info[db->in[1]].ndim != 1)
            return false;
    }
    return true;
}

/* Add: both inputs from a DequantizeLinear, all of one 8-bit type, per tensor. */
static bool add_group(const nt_plan *p, int t, int *dq, int *n_dq)
{
    const nt_node *tn = p->nodes[t].node;
    if (tn->n_in != 2 || (dq[0] = dq_of(p, tn->in[0])) < 0 || (dq[1] = dq_of(p, tn->in[1])) < 0)
        return false;
    *n_dq = 2;
    nt_dtype at = fuse_dtype(p, p->nodes[dq[0]].node->in[0]), bt = fuse_dtype(p, p->nodes[dq[1]].node->in[0]);
    return is_q8(at) && at == bt && per_tensor(p, dq[0]) && per_tensor(p, dq[1]);
}

/* Concat of 2 to 4 dequantized inputs of one 8-bit type, per tensor. */
static bool concat_group(const nt_plan *p, int t, int *dq, int *n_dq)
{
    const nt_node *tn = p->nodes[t].node;
    if (tn->n_in < 2 || tn->n_in > 4)
        return false;
    nt_dtype dt = NT_DTYPE_UNDEFINED;
    for (int k = 0; k < tn->n_in; k++) {
        if ((dq[k] = dq_of(p, tn->in[k])) < 0 || !per_tensor(p, dq[k]))
            return false;
        nt_dtype d = fuse_dtype(p, p->nodes[dq[k]].node->in[0]);
        if (!is_q8(d) || (k > 0 && d != dt))
            return false;
        dt = d;
    }
    *n_dq = tn->n_in;
    return true;
}

/* GlobalAveragePool, Sigmoid or LeakyRelu of a dequantized 8-bit tensor. */
static bool gap_group(const nt_plan *p, int t, int *dq, int *n_dq)
{
    const nt_node *tn = p->nodes[t].node;
    if (tn->n_in != 1 || (dq[0] = dq_of(p, tn->in[0])) < 0)
        return false;
    *n_dq = 1;
    return is_q8(fuse_dtype(p, p->nodes[dq[0]].node->in[0])) && per_tensor(p, dq[0]) &&
           (strcmp(tn->op_type, "GlobalAveragePool") != 0 || p->info[tn->in[0]].ndim >= 3);
}

/* Gemm: A, B (and C, int32, with beta 1) from a DequantizeLinear; B per
 * tensor or per column. */
static bool gemm_group(const nt_plan *p, int t, int *dq, int *n_dq)
{
    const nt_node *tn = p->nodes[t].node;
    int n_in = tn->n_in == 3 && tn->in[2] < 0 ? 2 : tn->n_in;
    if (n_in < 2 || n_in > 3)
        return false;
    for (int k = 0; k < n_in; k++)
        if ((dq[k] = dq_of(p, tn->in[k])) < 0)
            return false;
    *n_dq = n_in;
    const nt_node *da = p->nodes[dq[0]].node, *db = p->nodes[dq[1]].node;
    nt_dtype at = fuse_dtype(p, da->in[0]), bt = fuse_dtype(p, db->in[0]);
    if (!is_q8(at) || !is_q8(bt) || (at == NT_DTYPE_INT8 && bt != NT_DTYPE_INT8) || !per_tensor(p, dq[0]))
        return false;
    if (p->info[da->in[0]].ndim != 2 || p->info[db->in[0]].ndim != 2)
        return false;
    if (!per_tensor(p, dq[1])) {
        const nt_tensor *b = &p->info[db->in[0]];
        bool tb = nt_node_attr_int(tn, "transB", 0) != 0;
        int64_t axis = nt_node_attr_int(db, "axis", 1), want = tb ? 0 : 1;
        if ((axis != want && axis != want - 2) || known_numel(p, db->in[1]) != b->dims[tb ? 0 : 1] ||
            p->info[db->in[1]].ndim != 1)
            return false;
    }
    if (n_in == 3 && (fuse_dtype(p, p->nodes[dq[2]].node->in[0]) != NT_DTYPE_INT32 ||
                      nt_node_attr_float(tn, "beta", 1.0f) != 1.0f))
        return false;
    return true;
}

/* Whether QuantizeLinear q's zero point is a constant equal to its type's
 * lowest value (a Relu before it is then redundant). */
static bool relu_redundant(const nt_plan *p, int q)
{
    const nt_node *qn = p->nodes[q].node;
    if (qn->n_in < 3 || qn->in[2] < 0)
        return fuse_dtype(p, qn->out[0]) == NT_DTYPE_UINT8; /* no zero point: uint8, 0 */
    const nt_tensor *z = &p->info[qn->in[2]];
    if (!z->data || nt_tensor_numel(z) != 1)
        return false;
    if (z->dtype == NT_DTYPE_UINT8)
        return *(const uint8_t *)z->data == 0;
    if (z->dtype == NT_DTYPE_INT8)
        return *(const int8_t *)z->data == -128;
    return false;
}

/* Whether the QuantizeLinear -> DequantizeLinear pair ending at DQ node d
 * has a DequantizeLinear with a single reader (and is not a graph output). */
static bool pair_single(const nt_plan *p, const int *uses, int d)
{
    int v = p->nodes[d].node->out[0];
    return !p->graph->values[v].is_graph_output && uses[v] == 1;
}

/* The int8 rule (see match_qdq): the group's activation DequantizeLinear
 * nodes (the first n_act of dq) and every DequantizeLinear reading its
 * QuantizeLinear q have a single reader each. */
static bool int8_group_taken(const nt_plan *p, const int *uses, const int *reader, int t, const int *dq, int n_act,
                             int q)
{
    (void)reader;
    for (int k = 0; k < n_act; k++)
        if (!pair_single(p, uses, dq[k]) || !fuse_value_private(p, uses, p->nodes[dq[k]].node->out[0], &t, 1))
            return false;
    if (q < 0)
        return true;
    const nt_graph *g = p->graph;
    int qv = p->nodes[q].node->out[0];
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] == qv &&
                (strcmp(g->nodes[i].op_type, "DequantizeLinear") != 0 || !pair_single(p, uses, i)))
                return false;
    return true;
}

static nt_status match_qdq(nt_session *s, nt_plan *p, const int *uses)
{
    (void)s;
    const nt_graph *g = p->graph;
    int *reader = nt_malloc(((size_t)g->n_values + 1) * sizeof *reader);
    if (!reader)
        return nt_error(NT_ERR_NOMEM, "out of memory planning quantized groups");
    for (int v = 0; v < g->n_values; v++)
        reader[v] = -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++)
            if (g->nodes[i].in[k] >= 0)
                reader[g->nodes[i].in[k]] = i;
    nt_status rc = NT_OK;
    for (int pos = 0; pos < p->n_order && rc == NT_OK; pos++) {
        int t = p->order[pos];
        if (!fuse_node_free(p, t))
            continue;
        const nt_node *tn = p->nodes[t].node;
        const char *op = tn->op_type;
        bool conv = strcmp(op, "Conv") == 0, mm = strcmp(op, "MatMul") == 0, add = strcmp(op, "Add") == 0;
        bool gap = strcmp(op, "GlobalAveragePool") == 0, gemm = strcmp(op, "Gemm") == 0;
        bool mul = strcmp(op, "Mul") == 0, cat = strcmp(op, "Concat") == 0;
        bool sig = strcmp(op, "Sigmoid") == 0, lrelu = strcmp(op, "LeakyRelu") == 0;
        if ((!conv && !mm && !add && !gap && !gemm && !mul && !cat && !sig && !lrelu) || tn->n_out != 1)
            continue;
        int q = sole_reader(p, uses, reader, tn->out[0]), relu = -1;
        if (q >= 0 && strcmp(p->nodes[q].node->op_type, "Relu") == 0 && fuse_node_free(p, q)) {
            /* Target -> Relu -> QuantizeLinear whose zero point is the type's
             * lowest value: the Relu changes nothing the QuantizeLinear keeps
             * (ONNX Runtime drops it the same way) */
            relu = q;
            q = sole_reader(p, uses, reader, p->nodes[relu].node->out[0]);
            if (q < 0 || !qdq_node_ok(p, q, true) || !relu_redundant(p, q))
                continue;
        }
        const int q_in = relu < 0 ? tn->out[0] : p->nodes[relu].node->out[0];
        if (q >= 0 && (!qdq_node_ok(p, q, true) || p->nodes[q].node->in[0] != q_in || !per_tensor(p, q))) {
            if (relu >= 0)
                continue;
            q = -1;
        }
        if (q < 0 && !gemm)
            continue; /* a float Gemm output is QGemm's too; the others need their QuantizeLinear */
        if (q < 0 && gemm) { /* ONNX Runtime takes a float QGemm only when no QuantizeLinear reads the output */
            bool quantized_reader = false;
            for (int i = 0; i < g->n_nodes && !quantized_reader; i++)
                for (int k = 0; k < g->nodes[i].n_in; k++)
                    if (g->nodes[i].in[k] == tn->out[0] && strcmp(g->nodes[i].op_type, "QuantizeLinear") == 0)
                        quantized_reader = true;
            if (quantized_reader)
                continue;
        }
        int dq[4], n_dq = 0;
        bool ok = conv ? conv_group(p, t, dq, &n_dq)
                  : mm ? matmul_group(p, t, dq, &n_dq)
                  : add || mul ? add_group(p, t, dq, &n_dq)
                  : cat ? concat_group(p, t, dq, &n_dq)
                  : gap || sig || lrelu ? gap_group(p, t, dq, &n_dq)
                        : gemm_group(p, t, dq, &n_dq);
        if (!ok)
            continue;
        /* int8 activations: ONNX Runtime's CPU provider turns an int8
         * QuantizeLinear -> DequantizeLinear pair of activations into uint8
         * only where the DequantizeLinear has a single reader, and rewrites a
         * group only when all of its activation pairs were turned (int8
         * QLinear kernels are not used on x86); a group it leaves is float
         * there, so it stays float here (found by comparing its optimized
         * graphs with these rules; uint8 models are rewritten throughout). */
        if (fuse_dtype(p, p->nodes[dq[0]].node->in[0]) == NT_DTYPE_INT8 && !int8_group_taken(p, uses, reader, t, dq,
                                                                                           gap || sig || lrelu || conv || gemm ? 1 : n_dq, q))
            continue;
        if (q >= 0) { /* activation and output of one type (the Q's zero point gives it) */
            const nt_node *qn = p->nodes[q].node;
            nt_dtype yt = qn->n_in > 2 && qn->in[2] >= 0 ? fuse_dtype(p, qn->in[2]) : NT_DTYPE_UINT8;
            if (yt != fuse_dtype(p, p->nodes[dq[0]].node->in[0]) || fuse_dtype(p, qn->out[0]) != yt)
                continue;
        }
        rc = conv   ? claim(p, uses, t, dq, n_dq, relu, q, "QLinearConv", "", QDQ_CONV)
             : mm   ? claim(p, uses, t, dq, n_dq, relu, q, "QLinearMatMul", "", QDQ_BINARY)
             : add  ? claim(p, uses, t, dq, n_dq, relu, q, "QLinearAdd", "com.microsoft", QDQ_BINARY)
             : mul  ? claim(p, uses, t, dq, n_dq, relu, q, "QLinearMul", "com.microsoft", QDQ_BINARY)
             : cat  ? claim(p, uses, t, dq, n_dq, relu, q, "QLinearConcat", "com.microsoft", QDQ_VARIADIC)
             : gap  ? claim(p, uses, t, dq, n_dq, relu, q, "QLinearGlobalAveragePool", "com.microsoft", QDQ_UNARY)
             : sig  ? claim(p, uses, t, dq, n_dq, relu, q, "QLinearSigmoid", "com.microsoft", QDQ_UNARY)
             : lrelu ? claim(p, uses, t, dq, n_dq, relu, q, "QLinearLeakyRelu", "com.microsoft", QDQ_UNARY)
                    : claim(p, uses, t, dq, n_dq, relu, q, "QGemm", "com.microsoft", QDQ_GEMM);
    }
    free(reader);
    return rc;
}

const nt_fuse_pattern nt_fuse_qdq = {"QLinear", match_qdq, qdq_infer, qdq_compute, qdq_release};
