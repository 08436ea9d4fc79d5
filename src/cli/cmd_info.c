/*
 * cmd_info.c — `nntrace info MODEL [--json]`: what a model file declares,
 * without running it: inputs and outputs with dtypes and shapes, opsets,
 * the top-level node count and op-type histogram, the nodes and ops inside
 * If/Loop/Scan bodies (recursively), parameter count and bytes
 * (initializers of every graph and the tensors of Constant nodes).
 *
 * The JSON form is part of the command-line contract (DESIGN.md): keys in
 * a fixed order, ops keyed by op_type in sorted order, a static dim as an
 * integer, a symbolic one as its name, an unknown one as null, and a shape
 * of unknown rank as null.
 */
#include "cli/cli.h"
#include "core/core.h"
#include "graph/ir.h"

#include <stdlib.h>
#include <string.h>

const char nt_usage_info[] =
    "usage: nntrace info MODEL [--json]\n"
    "\n"
    "Shows a model's inputs and outputs (dtype and shape), opset imports,\n"
    "node count and operator histogram of the top-level graph and of the\n"
    "If/Loop/Scan bodies, and the parameter count and bytes: initializers of\n"
    "every graph and weights held in Constant nodes.\n"
    "\n"
    "  --json    print one JSON object: inputs, outputs, opsets, nodes, ops,\n"
    "            nodes_in_subgraphs, ops_in_subgraphs, parameters,\n"
    "            parameters_in_constants, parameter_bytes, subgraphs,\n"
    "            ir_version, producer, path\n"
    "\n"
    "exit codes: 0 ok, 1 usage error, 2 the model cannot be read.\n";

typedef struct op_count {
    const char *op;
    int count;
} op_count;

static int cmp_op_name(const void *a, const void *b)
{
    return strcmp(((const op_count *)a)->op, ((const op_count *)b)->op);
}

static int cmp_op_count(const void *a, const void *b)
{
    const op_count *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->op, y->op);
}

/* Every node of a graph's If/Loop/Scan bodies, recursively, and what the
 * graphs hold as weights. */
typedef struct graph_walk {
    const nt_node **body_nodes;
    int n_body, cap;
    int64_t params, const_params;   /* elements in initializers / Constant nodes */
    uint64_t param_bytes;
    bool failed;
} graph_walk;

#define INFO_MAX_DEPTH 64 /* the loader bounds nesting; this keeps recursion finite */

static void walk_graph(graph_walk *w, const nt_graph *g, int depth)
{
    for (int i = 0; i < g->n_inits; i++) {
        const nt_tensor *t = g->values[g->inits[i]].init;
        w->params += nt_tensor_numel(t);
        w->param_bytes += nt_tensor_nbytes(t);
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *node = &g->nodes[i];
        if (depth > 0) {
            if (w->n_body == w->cap) {
                int cap = w->cap ? 2 * w->cap : 64;
                const nt_node **v = nt_realloc(w->body_nodes, (size_t)cap * sizeof *v);
                if (!v) {
                    w->failed = true;
                    return;
                }
                w->body_nodes = v;
                w->cap = cap;
            }
            w->body_nodes[w->n_body++] = node;
        }
        for (int a = 0; a < node->n_attr; a++) {
            const nt_attr *at = &node->attrs[a];
            /* Exporters put weights in Constant nodes instead of initializers */
            if (strcmp(node->op_type, "Constant") == 0 && !node->domain[0] && at->type == NT_ATTR_TENSOR && at->t) {
                int64_t n = nt_tensor_numel(at->t);
                w->const_params += n > 0 ? n : 0;
                w->param_bytes += nt_tensor_nbytes(at->t);
            }
            if (depth >= INFO_MAX_DEPTH)
                continue;
            if (at->type == NT_ATTR_GRAPH && at->g)
                walk_graph(w, at->g, depth + 1);
            for (int k = 0; at->type == NT_ATTR_GRAPHS && k < at->n; k++)
                if (at->graphs[k])
                    walk_graph(w, at->graphs[k], depth + 1);
        }
    }
}

/* The op-type histogram of a list of nodes, sorted by name.  Ops of a
 * non-default domain are keyed "domain::op_type" so they stay distinct. */
static op_count *count_ops(const nt_node *const *nodes, int n_nodes, nt_arena *a, int *n_out)
{
    op_count *ops = nt_calloc((size_t)n_nodes + 1, sizeof *ops);
    if (!ops)
        return NULL;
    int n = 0;
    for (int i = 0; i < n_nodes; i++) {
        const nt_node *node = nodes[i];
        const char *key = node->op_type;
        if (node->domain[0]) {
            size_t len = strlen(node->domain) + strlen(node->op_type) + 3;
            char *k = nt_arena_alloc(a, len);
            if (!k) {
                free(ops);
                return NULL;
            }
            snprintf(k, len, "%s::%s", node->domain, node->op_type);
            key = k;
        }
        ops[n].op = key;
        ops[n].count = 1;
        n++;
    }
    qsort(ops, (size_t)n, sizeof *ops, cmp_op_name);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m > 0 && strcmp(ops[m - 1].op, ops[i].op) == 0)
            ops[m - 1].count++;
        else
            ops[m++] = ops[i];
    }
    *n_out = m;
    return ops;
}

static void json_value_list(nt_buf *b, const nt_graph *g, const int *idx, int n)
{
    nt_buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        const nt_value *v = &g->values[idx[i]];
        nt_buf_puts(b, i ? ", {\"name\": " : "{\"name\": ");
        nt_buf_json_string(b, v->name);
        nt_buf_puts(b, ", \"dtype\": ");
        nt_buf_json_string(b, nt_dtype_name(v->dtype));
        nt_buf_puts(b, ", \"shape\": ");
        if (v->ndim < 0) {
            nt_buf_puts(b, "null");
        } else {
            nt_buf_putc(b, '[');
            for (int d = 0; d < v->ndim; d++) {
                if (d)
                    nt_buf_puts(b, ", ");
                if (v->dims[d] >= 0)
                    nt_buf_printf(b, "%lld", (long long)v->dims[d]);
                else if (v->dim_names && v->dim_names[d])
                    nt_buf_json_string(b, v->dim_names[d]);
                else
                    nt_buf_puts(b, "null");
            }
            nt_buf_putc(b, ']');
        }
        if (v->type_kind != NT_TYPE_TENSOR && v->type_kind != NT_TYPE_UNKNOWN) {
            static const char *kinds[] = {"unknown", "tensor", "sequence", "map", "optional", "sparse_tensor"};
            nt_buf_puts(b, ", \"kind\": ");
            nt_buf_json_string(b, kinds[v->type_kind]);
        }
        nt_buf_putc(b, '}');
    }
    nt_buf_putc(b, ']');
}

/* "float32[1,3,N,?]" for the text form. */
static void describe_value(nt_buf *b, const nt_value *v)
{
    static const char *kinds[] = {"", "", "sequence ", "map ", "optional ", "sparse "};
    nt_buf_puts(b, kinds[v->type_kind]);
    nt_buf_puts(b, nt_dtype_name(v->dtype));
    if (v->ndim < 0) {
        nt_buf_puts(b, "[rank unknown]");
        return;
    }
    nt_buf_putc(b, '[');
    for (int d = 0; d < v->ndim; d++) {
        if (d)
            nt_buf_putc(b, ',');
        if (v->dims[d] >= 0)
            nt_buf_printf(b, "%lld", (long long)v->dims[d]);
        else if (v->dim_names && v->dim_names[d])
            nt_buf_puts(b, v->dim_names[d]);
        else
            nt_buf_putc(b, '?');
    }
    nt_buf_putc(b, ']');
}

static void human_bytes(char *out, size_t len, double bytes)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(out, len, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

static void text_value_list(nt_buf *b, const char *title, const nt_graph *g, const int *idx, int n)
{
    nt_buf_printf(b, "%s (%d):\n", title, n);
    size_t w = 0;
    for (int i = 0; i < n; i++)
        w = NT_MAX(w, strlen(g->values[idx[i]].name));
    w = NT_MIN(w, 48);
    for (int i = 0; i < n; i++) {
        const nt_value *v = &g->values[idx[i]];
        nt_buf_printf(b, "  %-*s  ", (int)w, v->name);
        describe_value(b, v);
        nt_buf_putc(b, '\n');
    }
}

int nt_cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (argv[i][0] == '-' && argv[i][1])
            return nt_cli_usage_error("info", "unknown option '%s'", argv[i]);
        else if (path)
            return nt_cli_usage_error("info", "one model at a time ('%s' and '%s' given)", path, argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return nt_cli_usage_error("info", "no model given");

    nt_model *m;
    nt_status s = nt_model_load(path, &m);
    if (s != NT_OK)
        return nt_cli_fail(s);
    const nt_graph *g = m->graph;

    graph_walk w = {0};
    walk_graph(&w, g, 0);
    int64_t params = w.params + w.const_params;
    uint64_t param_bytes = w.param_bytes;
    const nt_node **top = nt_calloc((size_t)g->n_nodes + 1, sizeof *top);
    for (int i = 0; top && i < g->n_nodes; i++)
        top[i] = &g->nodes[i];
    int n_ops = 0, n_body_ops = 0;
    op_count *ops = top ? count_ops(top, g->n_nodes, &m->arena, &n_ops) : NULL;
    op_count *body_ops = count_ops(w.body_nodes, w.n_body, &m->arena, &n_body_ops);
    free(top);
    if (!ops || !body_ops || w.failed) {
        free(ops);
        free(body_ops);
        free(w.body_nodes);
        nt_model_free(m);
        return nt_cli_fail(NT_ERR_NOMEM);
    }

    nt_buf b;
    nt_buf_init(&b);
    if (json) {
        nt_buf_puts(&b, "{\"inputs\": ");
        json_value_list(&b, g, g->inputs, g->n_inputs);
        nt_buf_puts(&b, ", \"outputs\": ");
        json_value_list(&b, g, g->outputs, g->n_outputs);
        nt_buf_puts(&b, ", \"opsets\": {");
        for (int i = 0; i < m->n_opsets; i++) {
            if (i)
                nt_buf_puts(&b, ", ");
            nt_buf_json_string(&b, m->opsets[i].domain[0] ? m->opsets[i].domain : "ai.onnx");
            nt_buf_printf(&b, ": %lld", (long long)m->opsets[i].version);
        }
        nt_buf_printf(&b, "}, \"nodes\": %d, \"ops\": {", g->n_nodes);
        for (int i = 0; i < n_ops; i++) {
            if (i)
                nt_buf_puts(&b, ", ");
            nt_buf_json_string(&b, ops[i].op);
            nt_buf_printf(&b, ": %d", ops[i].count);
        }
        nt_buf_printf(&b, "}, \"nodes_in_subgraphs\": %d, \"ops_in_subgraphs\": {", w.n_body);
        for (int i = 0; i < n_body_ops; i++) {
            if (i)
                nt_buf_puts(&b, ", ");
            nt_buf_json_string(&b, body_ops[i].op);
            nt_buf_printf(&b, ": %d", body_ops[i].count);
        }
        nt_buf_printf(&b, "}, \"parameters\": %lld, \"parameters_in_constants\": %lld, \"parameter_bytes\": %llu, "
                          "\"subgraphs\": %d, \"ir_version\": %lld, \"producer\": ",
                      (long long)params, (long long)w.const_params, (unsigned long long)param_bytes, m->n_subgraphs,
                      (long long)m->ir_version);
        char producer[512];
        snprintf(producer, sizeof producer, "%s%s%s", m->producer_name,
                 m->producer_name[0] && m->producer_version[0] ? " " : "", m->producer_version);
        nt_buf_json_string(&b, producer);
        nt_buf_puts(&b, ", \"path\": ");
        nt_buf_json_string(&b, path);
        nt_buf_puts(&b, "}\n");
    } else {
        nt_buf_printf(&b, "model:      %s\n", path);
        nt_buf_printf(&b, "ir_version: %lld", (long long)m->ir_version);
        if (m->producer_name[0])
            nt_buf_printf(&b, ", producer %s%s%s", m->producer_name, m->producer_version[0] ? " " : "",
                          m->producer_version);
        nt_buf_puts(&b, "\nopsets:    ");
        for (int i = 0; i < m->n_opsets; i++)
            nt_buf_printf(&b, " %s %lld%s", m->opsets[i].domain[0] ? m->opsets[i].domain : "ai.onnx",
                          (long long)m->opsets[i].version, i + 1 < m->n_opsets ? "," : "");
        nt_buf_putc(&b, '\n');
        text_value_list(&b, "inputs", g, g->inputs, g->n_inputs);
        text_value_list(&b, "outputs", g, g->outputs, g->n_outputs);
        nt_buf_printf(&b, "nodes:      %d (top-level graph), subgraphs: %d", g->n_nodes, m->n_subgraphs);
        if (m->n_subgraphs)
            nt_buf_printf(&b, " holding %d nodes", w.n_body);
        nt_buf_putc(&b, '\n');
        qsort(ops, (size_t)n_ops, sizeof *ops, cmp_op_count);
        nt_buf_printf(&b, "ops (%d types):\n", n_ops);
        for (int i = 0; i < n_ops; i++)
            nt_buf_printf(&b, "  %6d  %s\n", ops[i].count, ops[i].op);
        if (w.n_body) {
            qsort(body_ops, (size_t)n_body_ops, sizeof *body_ops, cmp_op_count);
            nt_buf_printf(&b, "ops in If/Loop/Scan bodies (%d nodes, %d types):\n", w.n_body, n_body_ops);
            for (int i = 0; i < n_body_ops; i++)
                nt_buf_printf(&b, "  %6d  %s\n", body_ops[i].count, body_ops[i].op);
        }
        char hb[32];
        human_bytes(hb, sizeof hb, (double)param_bytes);
        nt_buf_printf(&b, "parameters: %lld in %d initializers", (long long)w.params, g->n_inits);
        if (w.const_params)
            nt_buf_printf(&b, " + %lld in Constant nodes = %lld", (long long)w.const_params, (long long)params);
        nt_buf_printf(&b, " (%s)\n", hb);
    }
    free(ops);
    free(body_ops);
    free(w.body_nodes);
    int code = NT_EXIT_OK;
    if (b.failed) {
        code = nt_cli_fail(nt_error(NT_ERR_NOMEM, "out of memory formatting the report"));
    } else {
        fwrite(b.data, 1, b.len, stdout);
    }
    nt_buf_deinit(&b);
    nt_model_free(m);
    return code;
}
