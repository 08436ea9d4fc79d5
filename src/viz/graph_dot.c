/*
 * graph_dot.c — the walk over a model's graphs behind `nntrace graph`: one
 * pass that writes the DOT text and the viewer's JSON metadata together,
 * so both name every element with the same ids ("n<k>", k counting graph
 * inputs, nodes, body inputs and outputs in graph order, depth first).
 *
 * Initializers are not drawn: each consumer lists its weights and their
 * element count.  A body of If/Loop/Scan is a cluster after its owner node;
 * values the body reads from an enclosing graph are dashed edges from their
 * producer, and the body's outputs flow back into the owner by a dashed
 * edge.  Colours come from the op family or, with a run overlay, from a
 * metric on a white-to-red ramp (log scale for time, magnitude and error).
 */
#include "viz/graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- op families */

typedef struct op_family {
    const char *name, *color;
    const char *ops;   /* space-separated op types, with spaces around each */
} op_family;

static const op_family FAMILIES[] = {
    {"conv", "#8fb8e8", " Conv ConvTranspose ConvInteger QLinearConv DeformConv "},
    {"matmul", "#a7c7f2", " MatMul Gemm MatMulInteger QLinearMatMul Einsum Attention MultiHeadAttention "},
    {"activation", "#f7c47c", " Relu LeakyRelu PRelu Sigmoid HardSigmoid Tanh Elu Selu Celu Gelu FastGelu "
                              "Softplus Softsign HardSwish Mish ThresholdedRelu Swish QuickGelu "},
    {"normalization", "#c6a5e3", " BatchNormalization LayerNormalization InstanceNormalization GroupNormalization "
                                 "LpNormalization MeanVarianceNormalization RMSNormalization "
                                 "SimplifiedLayerNormalization SkipLayerNormalization LRN "},
    {"pooling", "#9fd6c2", " MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool GlobalLpPool MaxRoiPool "
                           "RoiAlign MaxUnpool "},
    {"softmax", "#f4a3a3", " Softmax LogSoftmax Hardmax "},
    {"elementwise", "#e3e3a1", " Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Floor Ceil Round Clip Min "
                               "Max Mean Sum Erf Sin Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Sign Mod "
                               "BitShift BitwiseAnd BitwiseOr BitwiseXor BitwiseNot IsNaN IsInf Where "
                               "Equal Less LessOrEqual Greater GreaterOrEqual And Or Xor Not "},
    {"reduce", "#b5d99c", " ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceLogSum "
                          "ReduceLogSumExp ReduceSumSquare ArgMax ArgMin CumSum TopK "},
    {"shape", "#d9d9d9", " Reshape Transpose Flatten Squeeze Unsqueeze Concat Split Slice Gather GatherElements "
                         "GatherND Scatter ScatterElements ScatterND Expand Tile Pad Shape Size Identity "
                         "DepthToSpace SpaceToDepth Resize Upsample Cast CastLike ConstantOfShape Range "
                         "NonZero Trilu OneHot Compress ReverseSequence EyeLike Dropout "},
    {"constant", "#f0f0f0", " Constant "},
    {"control", "#f2b880", " If Loop Scan "},
    {"recurrent", "#e8a0c8", " LSTM GRU RNN "},
    {"quantization", "#c9b79c", " QuantizeLinear DequantizeLinear DynamicQuantizeLinear "},
};
#define OTHER_COLOR "#ffffff"

static const op_family *family_of(const char *op)
{
    char key[80];
    snprintf(key, sizeof key, " %s ", op);
    for (size_t i = 0; i < NT_ARRAY_LEN(FAMILIES); i++)
        if (strstr(FAMILIES[i].ops, key))
            return &FAMILIES[i];
    return NULL;
}

bool nt_graph_color_parse(const char *s, nt_graph_color *out)
{
    static const char *names[] = {"op", "time", "absmax", "zeros", "diff"};
    for (size_t i = 0; i < NT_ARRAY_LEN(names); i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (nt_graph_color)i;
            return true;
        }
    return false;
}

static const char *color_name(nt_graph_color c)
{
    static const char *names[] = {"op", "time", "absmax", "zeros", "diff"};
    return names[c];
}

/* ---------------------------------------------------------------- walk state */

typedef struct walk {
    const nt_model *m;
    const nt_graph_options *o;
    nt_buf *dot, *json;
    int next_id;
    int n_json;
    double lo, hi;      /* metric range over the nodes that have it (transformed) */
    bool have_range;
    int cluster;
} walk;

/* The metric of a node for the colour mode, transformed for the ramp; false
 * when the node has no such record. */
static bool node_metric(const walk *w, const nt_graph_node_run *r, double *x)
{
    if (!r)
        return false;
    switch (w->o->color) {
    case NT_GRAPH_COLOR_TIME:
        if (!r->has_time)
            return false;
        *x = log10(r->time_ms + 1e-6);
        return true;
    case NT_GRAPH_COLOR_ABSMAX:
        if (!r->has_stats || !isfinite(r->absmax))
            return false;
        *x = log10(r->absmax + 1e-12);
        return true;
    case NT_GRAPH_COLOR_ZEROS:
        if (!r->has_stats)
            return false;
        *x = r->zero_fraction;
        return true;
    case NT_GRAPH_COLOR_DIFF:
        if (!r->has_diff || !isfinite(r->diff_max_abs))
            return false;
        *x = log10(r->diff_max_abs + 1e-12);
        return true;
    default:
        return false;
    }
}

static void metric_range(walk *w, const nt_graph *g)
{
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *n = &g->nodes[i];
        double x;
        if (node_metric(w, nt_graph_overlay_node(w->o->run, n->name), &x)) {
            if (!w->have_range || x < w->lo)
                w->lo = x;
            if (!w->have_range || x > w->hi)
                w->hi = x;
            w->have_range = true;
        }
        for (int a = 0; a < n->n_attr; a++)
            if (n->attrs[a].type == NT_ATTR_GRAPH && n->attrs[a].g)
                metric_range(w, n->attrs[a].g);
    }
    if (w->o->color == NT_GRAPH_COLOR_ZEROS) {
        w->lo = 0;
        w->hi = 1;
    }
}

/* White -> yellow -> orange -> red for t in [0,1]. */
static void ramp(double t, char *buf, size_t len)
{
    static const double stops[4][3] = {{255, 255, 255}, {255, 230, 128}, {253, 141, 60}, {215, 48, 39}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double p = t * 3;
    int k = p >= 3 ? 2 : (int)p;
    double f = p - k;
    int c[3];
    for (int j = 0; j < 3; j++)
        c[j] = (int)lround(stops[k][j] + (stops[k + 1][j] - stops[k][j]) * f);
    snprintf(buf, len, "#%02x%02x%02x", c[0], c[1], c[2]);
}

/* ---------------------------------------------------------------- text helpers */

/* s as the body of a DOT double-quoted string. */
static void dot_str(nt_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            nt_buf_putc(b, '\\');
        if (*s == '\n')
            nt_buf_puts(b, "\\n");
        else
            nt_buf_putc(b, *s);
    }
}

/* The tail of a long name ("...layer4/conv2/Conv"): the end says the most. */
static void short_name(const char *s, char *buf, size_t len, size_t keep)
{
    size_t n = strlen(s);
    if (n > keep)
        snprintf(buf, len, "...%s", s + n - keep + 3);
    else
        snprintf(buf, len, "%s", s);
}

static void thousands(int64_t v, char *buf, size_t len)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%lld", (long long)v);
    size_t n = strlen(raw), o = 0;
    for (size_t i = 0; i < n && o + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0 && raw[0] != '-')
            buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
}

static void describe_dims(nt_dtype dt, int ndim, const int64_t *dims, const char *const *names, char *buf,
                          size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "%s", dt == NT_DTYPE_UNDEFINED ? "?" : nt_dtype_name(dt));
    if (ndim < 0 || o >= len)
        return;
    o += (size_t)snprintf(buf + o, len - o, "[");
    for (int d = 0; d < ndim && o < len; d++) {
        if (dims[d] >= 0)
            o += (size_t)snprintf(buf + o, len - o, "%s%lld", d ? "," : "", (long long)dims[d]);
        else
            o += (size_t)snprintf(buf + o, len - o, "%s%s", d ? "," : "", names && names[d] ? names[d] : "?");
    }
    if (o < len)
        snprintf(buf + o, len - o, "]");
}

/* The best known type of value v of g: the run's, the caller's inference,
 * then the declared one; "" if nothing is known. */
static void value_type(const walk *w, const nt_graph *g, int v, char *buf, size_t len)
{
    const nt_value *val = &g->values[v];
    buf[0] = '\0';
    const char *rt = nt_graph_overlay_value_type(w->o->run, val->name);
    if (rt) {
        snprintf(buf, len, "%s", rt);
        return;
    }
    if (val->init) {
        nt_tensor_describe(val->init, buf, len);
        return;
    }
    if (w->o->type_of) {
        w->o->type_of(w->o->type_user, g, v, buf, len);
        if (buf[0])
            return;
    }
    if (val->dtype != NT_DTYPE_UNDEFINED || val->ndim >= 0)
        describe_dims(val->dtype, val->ndim, val->dims, val->dim_names, buf, len);
}

/* ---------------------------------------------------------------- JSON pieces */

static void json_key(nt_buf *b, const char *k)
{
    nt_buf_json_string(b, k);
    nt_buf_puts(b, ": ");
}

static void json_attr_value(nt_buf *b, const nt_attr *a)
{
    nt_buf tmp;
    nt_buf_init(&tmp);
    switch (a->type) {
    case NT_ATTR_FLOAT: nt_buf_printf(&tmp, "%g", (double)a->f); break;
    case NT_ATTR_INT: nt_buf_printf(&tmp, "%lld", (long long)a->i); break;
    case NT_ATTR_STRING: nt_buf_puts(&tmp, a->s ? a->s : ""); break;
    case NT_ATTR_INTS:
    case NT_ATTR_FLOATS:
        nt_buf_putc(&tmp, '[');
        for (int i = 0; i < a->n && i < 64; i++) {
            if (a->type == NT_ATTR_INTS)
                nt_buf_printf(&tmp, "%s%lld", i ? ", " : "", (long long)a->ints[i]);
            else
                nt_buf_printf(&tmp, "%s%g", i ? ", " : "", (double)a->floats[i]);
        }
        nt_buf_puts(&tmp, a->n > 64 ? ", ...]" : "]");
        break;
    case NT_ATTR_STRINGS:
        nt_buf_putc(&tmp, '[');
        for (int i = 0; i < a->n && i < 64; i++)
            nt_buf_printf(&tmp, "%s%s", i ? ", " : "", a->strings[i]);
        nt_buf_putc(&tmp, ']');
        break;
    case NT_ATTR_TENSOR: {
        char d[128];
        nt_tensor_describe(a->t, d, sizeof d);
        nt_buf_printf(&tmp, "tensor %s", d);
        int64_t n = nt_tensor_numel(a->t);
        if (n > 0 && n <= 16 && nt_dtype_is_numeric(a->t->dtype)) {
            nt_buf_puts(&tmp, " = [");
            for (int64_t i = 0; i < n; i++)
                nt_buf_printf(&tmp, "%s%g", i ? ", " : "", nt_tensor_get_f64(a->t, i));
            nt_buf_putc(&tmp, ']');
        }
        break;
    }
    case NT_ATTR_GRAPH:
        nt_buf_printf(&tmp, "graph '%s' (%d nodes)", a->g && a->g->name ? a->g->name : "", a->g ? a->g->n_nodes : 0);
        break;
    default: nt_buf_printf(&tmp, "(attribute type %d)", (int)a->type);
    }
    nt_buf_json_string(b, tmp.data ? tmp.data : "");
    nt_buf_deinit(&tmp);
}

static void json_run(nt_buf *b, const nt_graph_node_run *r)
{
    nt_buf_puts(b, "{");
    bool first = true;
#define SEP() (first ? (first = false, "") : ", ")
    if (r->has_stats) {
        nt_buf_printf(b, "%s\"min\": ", SEP());
        nt_buf_json_double(b, r->min);
        nt_buf_puts(b, ", \"max\": ");
        nt_buf_json_double(b, r->max);
        nt_buf_puts(b, ", \"zero_fraction\": ");
        nt_buf_json_double(b, r->zero_fraction);
        nt_buf_printf(b, ", \"count\": %lld, \"nan\": %lld, \"inf\": %lld, \"constant\": %s", (long long)r->count,
                      (long long)r->nan, (long long)r->inf, r->constant ? "true" : "false");
    }
    if (r->has_time) {
        nt_buf_printf(b, "%s\"time_ms\": ", SEP());
        nt_buf_json_double(b, r->time_ms);
    }
    if (r->has_diff) {
        nt_buf_printf(b, "%s\"diff_max_abs\": ", SEP());
        nt_buf_json_double(b, r->diff_max_abs);
        nt_buf_puts(b, ", \"diff_cosine\": ");
        nt_buf_json_double(b, r->diff_cosine);
        nt_buf_printf(b, ", \"diff_ok\": %s", r->diff_ok ? "true" : "false");
    }
#undef SEP
    nt_buf_puts(b, "}");
}

/* Opens the JSON record of element id (closed by the caller with "}"). */
static void json_open(walk *w, int id, const char *name, const char *op, const char *graph)
{
    nt_buf *b = w->json;
    nt_buf_puts(b, w->n_json++ ? ",\n  " : "\n  ");
    char key[32];
    snprintf(key, sizeof key, "n%d", id);
    json_key(b, key);
    nt_buf_puts(b, "{\"name\": ");
    nt_buf_json_string(b, name);
    nt_buf_puts(b, ", \"op\": ");
    nt_buf_json_string(b, op);
    nt_buf_puts(b, ", \"graph\": ");
    nt_buf_json_string(b, graph);
}

/* ---------------------------------------------------------------- elements */

/* A graph input/output or body input: an oval with its name and type. */
static void io_element(walk *w, int id, const char *kind, const nt_graph *g, int v, const char *gpath)
{
    char type[256];
    value_type(w, g, v, type, sizeof type);
    const char *name = g->values[v].name;
    if (w->dot) {
        char sn[128];
        short_name(name, sn, sizeof sn, 40);
        nt_buf_printf(w->dot, "  n%d [shape=%s, style=filled, fillcolor=\"%s\", label=\"", id,
                      strcmp(kind, "output") == 0 ? "invhouse" : "house",
                      strcmp(kind, "output") == 0 ? "#d5e8d4" : "#dae8fc");
        dot_str(w->dot, sn);
        if (type[0]) {
            nt_buf_puts(w->dot, "\\n");
            dot_str(w->dot, type);
        }
        nt_buf_puts(w->dot, "\"];\n");
    }
    if (w->json) {
        char op[32];
        snprintf(op, sizeof op, "(%s)", kind);
        json_open(w, id, name, op, gpath);
        nt_buf_puts(w->json, ", \"type\": ");
        nt_buf_json_string(w->json, type);
        nt_buf_puts(w->json, "}");
    }
}

/* back: an edge from a body's output up to its owner node, which must not
 * constrain the ranks (the owner sits above its bodies; as a ranking edge
 * it made Graphviz 2.43's spline router corrupt its heap on a model with
 * an If before a Loop).  Such an edge may end up "flat" (both ends on one
 * rank), and Graphviz 2.42-2.43 frees a labelled flat edge's label node
 * twice (flat_edges, found by valgrind and ASan): a back edge carries its
 * type as a tooltip, not a label. */
static void edge(walk *w, int from, int to, const char *label, bool dashed, bool back)
{
    if (!w->dot || from < 0)
        return;
    if (back && label[0]) {
        nt_buf_printf(w->dot, "  n%d -> n%d [style=dashed, constraint=false, tooltip=\"", from, to);
        dot_str(w->dot, label);
        nt_buf_puts(w->dot, "\"];\n");
        return;
    }
    nt_buf_printf(w->dot, "  n%d -> n%d", from, to);
    if (label[0] || dashed || back) {
        nt_buf_puts(w->dot, " [");
        if (label[0]) {
            nt_buf_puts(w->dot, "label=\"");
            dot_str(w->dot, label);
            nt_buf_puts(w->dot, "\"");
        }
        if (dashed)
            nt_buf_printf(w->dot, "%sstyle=dashed", label[0] ? ", " : "");
        if (back)
            nt_buf_printf(w->dot, "%sconstraint=false", label[0] || dashed ? ", " : "");
        nt_buf_puts(w->dot, "]");
    }
    nt_buf_puts(w->dot, ";\n");
}

/* The DOT statement of an op node. */
static void node_dot(walk *w, int id, const nt_node *n, int64_t params, int n_weights,
                     const nt_graph_node_run *r)
{
    nt_buf *b = w->dot;
    const op_family *fam = family_of(n->op_type);
    char fill[16];
    snprintf(fill, sizeof fill, "%s", fam ? fam->color : OTHER_COLOR);
    double x;
    if (w->o->color != NT_GRAPH_COLOR_OP) {
        if (node_metric(w, r, &x))
            ramp(w->hi > w->lo ? (x - w->lo) / (w->hi - w->lo) : 1.0, fill, sizeof fill);
        else
            snprintf(fill, sizeof fill, "#eeeeee");
    }
    char sn[128];
    short_name(n->name, sn, sizeof sn, 36);
    nt_buf_printf(b, "  n%d [fillcolor=\"%s\", tooltip=\"", id, fill);
    dot_str(b, n->name);
    nt_buf_puts(b, "\", label=\"");
    dot_str(b, n->op_type);
    if (strcmp(sn, n->op_type) != 0) {
        nt_buf_puts(b, "\\n");
        dot_str(b, sn);
    }
    if (params > 0) {
        char p[40];
        thousands(params, p, sizeof p);
        nt_buf_printf(b, "\\n%d weight%s, %s params", n_weights, n_weights == 1 ? "" : "s", p);
    }
    bool bad = false, dead = false;
    if (r && r->has_stats) {
        if (r->nan || r->inf) {
            nt_buf_printf(b, "\\nNaN %lld  Inf %lld", (long long)r->nan, (long long)r->inf);
            bad = true;
        } else if (r->count > 0 && r->zeros == r->count) {
            nt_buf_puts(b, "\\ndead: all zeros");
            dead = true;
        } else if (r->constant) {
            nt_buf_puts(b, "\\nconstant output");
            dead = true;
        }
    }
    if (r) {
        switch (w->o->color) {
        case NT_GRAPH_COLOR_TIME:
            if (r->has_time)
                nt_buf_printf(b, "\\n%.3g ms", r->time_ms);
            break;
        case NT_GRAPH_COLOR_ABSMAX:
            if (r->has_stats)
                nt_buf_printf(b, "\\n[%.3g, %.3g]", nt_printable(r->min), nt_printable(r->max));
            break;
        case NT_GRAPH_COLOR_ZEROS:
            if (r->has_stats)
                nt_buf_printf(b, "\\nzeros %.1f%%", 100.0 * r->zero_fraction);
            break;
        case NT_GRAPH_COLOR_DIFF:
            if (r->has_diff)
                nt_buf_printf(b, "\\nerr %.3g%s", nt_printable(r->diff_max_abs), r->diff_ok ? "" : " DIVERGES");
            break;
        default:
            if (r->has_stats && !bad && !dead)
                nt_buf_printf(b, "\\n[%.3g, %.3g]", nt_printable(r->min), nt_printable(r->max));
        }
    }
    nt_buf_puts(b, "\"");
    if (bad || (r && r->has_diff && !r->diff_ok && w->o->color == NT_GRAPH_COLOR_DIFF))
        nt_buf_puts(b, ", color=\"#d00000\", penwidth=3");
    else if (dead)
        nt_buf_puts(b, ", style=\"rounded,filled,dashed\", fontcolor=\"#777777\"");
    nt_buf_puts(b, "];\n");
}

static void walk_graph(walk *w, const nt_graph *g, const int *parent_prod, int owner_id, const char *gpath);

/* Records and draws one op node of g, then its bodies. */
static void walk_node(walk *w, const nt_graph *g, const nt_node *n, int id, const int *prod, const char *gpath)
{
    const nt_graph_node_run *r = nt_graph_overlay_node(w->o->run, n->name);
    int64_t params = 0;
    int n_weights = 0;
    for (int k = 0; k < n->n_in; k++) {
        int v = n->in[k];
        if (v >= 0 && g->values[v].kind == NT_VALUE_INITIALIZER && g->values[v].init) {
            int64_t c = nt_tensor_numel(g->values[v].init);
            params += c > 0 ? c : 0;
            n_weights++;
        }
    }
    if (w->dot)
        node_dot(w, id, n, params, n_weights, r);
    if (w->json) {
        nt_buf *b = w->json;
        json_open(w, id, n->name, n->op_type, gpath);
        nt_buf_puts(b, ", \"domain\": ");
        nt_buf_json_string(b, n->domain ? n->domain : "");
        nt_buf_printf(b, ", \"params\": %lld, \"attrs\": {", (long long)params);
        for (int a = 0; a < n->n_attr; a++) {
            nt_buf_puts(b, a ? ", " : "");
            json_key(b, n->attrs[a].name);
            json_attr_value(b, &n->attrs[a]);
        }
        nt_buf_puts(b, "}");
        for (int side = 0; side < 2; side++) {
            nt_buf_puts(b, side ? ", \"outputs\": [" : ", \"inputs\": [");
            int cnt = side ? n->n_out : n->n_in;
            for (int k = 0; k < cnt; k++) {
                int v = side ? n->out[k] : n->in[k];
                char type[256] = "";
                if (v >= 0)
                    value_type(w, g, v, type, sizeof type);
                nt_buf_puts(b, k ? ", {\"name\": " : "{\"name\": ");
                nt_buf_json_string(b, v >= 0 ? g->values[v].name : "");
                nt_buf_puts(b, ", \"type\": ");
                nt_buf_json_string(b, type);
                if (!side && v >= 0 && g->values[v].kind == NT_VALUE_INITIALIZER)
                    nt_buf_puts(b, ", \"weight\": true");
                nt_buf_puts(b, "}");
            }
            nt_buf_puts(b, "]");
        }
        if (r) {
            nt_buf_puts(b, ", \"run\": ");
            json_run(b, r);
        }
        nt_buf_puts(b, "}");
    }
    /* edges from producers; weights are folded into the label */
    for (int k = 0; k < n->n_in; k++) {
        int v = n->in[k];
        if (v < 0 || g->values[v].kind == NT_VALUE_INITIALIZER)
            continue;
        char type[256];
        value_type(w, g, v, type, sizeof type);
        edge(w, prod[v], id, type, g->values[v].kind == NT_VALUE_OUTER, false);
    }
    for (int a = 0; a < n->n_attr; a++) {
        const nt_attr *at = &n->attrs[a];
        if (at->type != NT_ATTR_GRAPH || !at->g)
            continue;
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%s.%s", gpath, n->name, at->name);
        if (w->dot) {
            nt_buf_printf(w->dot, "  subgraph cluster_%d {\n  label=\"", w->cluster++);
            char sn[160];
            short_name(sub, sn, sizeof sn, 60);
            dot_str(w->dot, sn);
            nt_buf_puts(w->dot, "\"; style=\"rounded,dashed\"; color=\"#999999\"; fontsize=9;\n");
        }
        walk_graph(w, at->g, prod, id, sub);
        if (w->dot)
            nt_buf_puts(w->dot, "  }\n");
    }
}

/* Draws graph g: its inputs, nodes and outputs.  parent_prod maps the
 * enclosing graph's values to their element ids (NULL for the top graph);
 * owner_id is the node whose body g is (-1 for the top graph). */
static void walk_graph(walk *w, const nt_graph *g, const int *parent_prod, int owner_id, const char *gpath)
{
    int *prod = nt_calloc((size_t)g->n_values + 1, sizeof *prod);
    int *ids = nt_calloc((size_t)g->n_nodes + 1, sizeof *ids);
    if (!prod || !ids) {
        free(prod);
        free(ids);
        if (w->dot)
            w->dot->failed = true;
        if (w->json)
            w->json->failed = true;
        return;
    }
    for (int v = 0; v < g->n_values; v++)
        prod[v] = g->values[v].kind == NT_VALUE_OUTER && parent_prod ? parent_prod[g->values[v].outer_index] : -1;
    for (int i = 0; i < g->n_inputs; i++) {
        int v = g->inputs[i];
        prod[v] = w->next_id++;
        io_element(w, prod[v], "input", g, v, gpath);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        ids[i] = w->next_id++;
        for (int k = 0; k < g->nodes[i].n_out; k++)
            if (g->nodes[i].out[k] >= 0)
                prod[g->nodes[i].out[k]] = ids[i];
    }
    for (int i = 0; i < g->n_nodes; i++)
        walk_node(w, g, &g->nodes[i], ids[i], prod, gpath);
    for (int i = 0; i < g->n_outputs; i++) {
        int v = g->outputs[i];
        char type[256];
        value_type(w, g, v, type, sizeof type);
        if (owner_id >= 0) {
            /* a body's results flow back into its owner */
            edge(w, prod[v], owner_id, type, true, true);
            continue;
        }
        int id = w->next_id++;
        io_element(w, id, "output", g, v, gpath);
        edge(w, prod[v], id, type, false, false);
    }
    free(prod);
    free(ids);
}

static void walk_model(walk *w)
{
    if (w->o->color != NT_GRAPH_COLOR_OP && w->o->run)
        metric_range(w, w->m->graph);
    walk_graph(w, w->m->graph, NULL, -1, "");
}

static const char *model_title(const nt_model *m, const nt_graph_options *o)
{
    if (o->title)
        return o->title;
    const char *slash = m->path ? strrchr(m->path, '/') : NULL;
    return slash ? slash + 1 : m->path ? m->path : "model";
}

nt_status nt_graph_dot(const nt_model *m, const nt_graph_options *o, nt_buf *out)
{
    walk w = {m, o, out, NULL, 0, 0, 0, 0, false, 0};
    int n = m->graph->n_nodes;
    nt_buf_puts(out, "digraph nntrace {\n  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=12, labelloc=t, "
                     "nodesep=0.25, ranksep=0.35");
    /* Curved spline routing and crossing minimization dominate layout time
     * on big graphs; straight edges and fewer crossing passes take a
     * 1,000-node model from ~3 s to ~1.4 s of CPU. */
    if (n > 400)
        nt_buf_puts(out, ", splines=line, mclimit=0.3");
    if (n > 2000)
        nt_buf_puts(out, ", remincross=false");
    nt_buf_puts(out, ", label=\"");
    dot_str(out, model_title(m, o));
    if (o->color != NT_GRAPH_COLOR_OP) {
        nt_buf_printf(out, "\\ncolour: %s", color_name(o->color));
        if (o->run) {
            metric_range(&w, m->graph);
            if (w.have_range && o->color == NT_GRAPH_COLOR_ZEROS)
                nt_buf_puts(out, " (white 0% .. red 100%)");
            else if (w.have_range)
                nt_buf_printf(out, " (white %.3g .. red %.3g, log scale)", w.lo < -11 ? 0.0 : pow(10, w.lo),
                              pow(10, w.hi));
            else
                nt_buf_puts(out, " (the run has no such records)");
        } else {
            nt_buf_puts(out, " (no --run given)");
        }
    }
    nt_buf_puts(out, "\"];\n  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, "
                     "margin=\"0.12,0.04\"];\n  edge [fontname=\"Helvetica\", fontsize=8, color=\"#666666\", "
                     "fontcolor=\"#444444\", arrowsize=0.6];\n");
    w.have_range = false;
    walk_model(&w);
    nt_buf_puts(out, "}\n");
    return out->failed ? nt_error(NT_ERR_NOMEM, "out of memory writing the graph") : NT_OK;
}

nt_status nt_graph_json(const nt_model *m, const nt_graph_options *o, nt_buf *out)
{
    walk w = {m, o, NULL, out, 0, 0, 0, 0, false, 0};
    nt_buf_puts(out, "{\"title\": ");
    nt_buf_json_string(out, model_title(m, o));
    nt_buf_printf(out, ", \"color\": \"%s\", \"families\": {", color_name(o->color));
    for (size_t i = 0; i < NT_ARRAY_LEN(FAMILIES); i++)
        nt_buf_printf(out, "%s\"%s\": \"%s\"", i ? ", " : "", FAMILIES[i].name, FAMILIES[i].color);
    nt_buf_puts(out, "},\n \"nodes\": {");
    walk_model(&w);
    nt_buf_puts(out, "\n }}\n");
    return out->failed ? nt_error(NT_ERR_NOMEM, "out of memory writing the graph metadata") : NT_OK;
}
