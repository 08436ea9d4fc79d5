/*
 * ir.c — lookups over the loaded graph: values by name, node attributes by
 * name with defaults, the model's opset per domain.
 */
#include "graph/ir.h"

#include <string.h>

int nt_graph_find_value(const nt_graph *g, const char *name)
{
    for (int i = 0; i < g->n_values; i++)
        if (strcmp(g->values[i].name, name) == 0)
            return i;
    return -1;
}

const nt_attr *nt_node_attr(const nt_node *n, const char *name)
{
    for (int i = 0; i < n->n_attr; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t nt_node_attr_int(const nt_node *n, const char *name, int64_t dflt)
{
    const nt_attr *a = nt_node_attr(n, name);
    return a && a->type == NT_ATTR_INT ? a->i : dflt;
}

float nt_node_attr_float(const nt_node *n, const char *name, float dflt)
{
    const nt_attr *a = nt_node_attr(n, name);
    if (!a)
        return dflt;
    if (a->type == NT_ATTR_FLOAT)
        return a->f;
    if (a->type == NT_ATTR_INT)
        return (float)a->i;
    return dflt;
}

const char *nt_node_attr_string(const nt_node *n, const char *name, const char *dflt)
{
    const nt_attr *a = nt_node_attr(n, name);
    return a && a->type == NT_ATTR_STRING ? a->s : dflt;
}

int nt_node_attr_ints(const nt_node *n, const char *name, const int64_t **vals)
{
    const nt_attr *a = nt_node_attr(n, name);
    if (!a || a->type != NT_ATTR_INTS) {
        *vals = NULL;
        return 0;
    }
    *vals = a->ints;
    return a->n;
}

int nt_node_attr_floats(const nt_node *n, const char *name, const float **vals)
{
    const nt_attr *a = nt_node_attr(n, name);
    if (!a || a->type != NT_ATTR_FLOATS) {
        *vals = NULL;
        return 0;
    }
    *vals = a->floats;
    return a->n;
}

int64_t nt_model_opset(const nt_model *m, const char *domain)
{
    if (strcmp(domain, "ai.onnx") == 0)
        domain = "";
    for (int i = 0; i < m->n_opsets; i++) {
        const char *d = m->opsets[i].domain;
        if (strcmp(d, "ai.onnx") == 0)
            d = "";
        if (strcmp(d, domain) == 0)
            return m->opsets[i].version;
    }
    return 0;
}
