/*
 * cmd_info.c — `nntrace info MODEL [--json]`: what a model file declares,
 * without running it: inputs and outputs with dtypes and shapes, opsets,
 * the top-level node count and op-type histogram, parameter count and
 * bytes, and how many subgraphs (If/Loop/Scan bodies) it holds.
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
    "node count and operator histogram of the top-level graph, parameter\n"
    "count and bytes (initializers), and the number of subgraphs.\n"
    "\n"
    "  --json    print one JSON object: inputs, outputs, opsets, nodes, ops,\n"
    "            parameters, parameter_bytes, subgraphs, ir_version, producer\n"
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

/* The op-type histogram of the top-level graph, sorted by name.  Ops of a
 * non-default domain are keyed "domain::op_type" so they stay distinct. */
static op_count *count_ops(const nt_graph *g, nt_arena *a, int *n_out)
{
    op_count *ops = nt_calloc((size_t)g->n_nodes + 1, sizeof *ops);
    if (!ops)
        return NULL;
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *node = &g->nodes[i];
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

    int64_t params = 0;
    uint64_t param_bytes = 0;
    for (int i = 0; i < g->n_inits; i++) {
        const nt_tensor *t = g->values[g->inits[i]].init;
        params += nt_tensor_numel(t);
        param_bytes += nt_tensor_nbytes(t);
    }
    int n_ops = 0;
    op_count *ops = count_ops(g, &m->arena, &n_ops);
    if (!ops) {
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
        nt_buf_printf(&b, "}, \"parameters\": %lld, \"parameter_bytes\": %llu, \"subgraphs\": %d, "
                          "\"ir_version\": %lld, \"producer\": ",
                      (long long)params, (unsigned long long)param_bytes, m->n_subgraphs,
                      (long long)m->ir_version);
        char producer[512];
        snprintf(producer, sizeof producer, "%s%s%s", m->producer_name,
                 m->producer_name[0] && m->producer_version[0] ? " " : "", m->producer_version);
        nt_buf_json_string(&b, producer);
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
        nt_buf_printf(&b, "nodes:      %d (top-level graph), subgraphs: %d\n", g->n_nodes, m->n_subgraphs);
        qsort(ops, (size_t)n_ops, sizeof *ops, cmp_op_count);
        nt_buf_printf(&b, "ops (%d types):\n", n_ops);
        for (int i = 0; i < n_ops; i++)
            nt_buf_printf(&b, "  %6d  %s\n", ops[i].count, ops[i].op);
        char hb[32];
        human_bytes(hb, sizeof hb, (double)param_bytes);
        nt_buf_printf(&b, "parameters: %lld in %d initializers (%s)\n", (long long)params, g->n_inits, hb);
    }
    free(ops);
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
