/*
 * node_pattern.c — node patterns shared by the tracers' filters and the
 * debugger's breakpoints (node_pattern.h).
 *
 * Op types match without regard to case because people type them as they
 * say them (`op:conv`, `op:batchnormalization`) and ONNX has no two op
 * types that differ only in case.  Node names match case-sensitively:
 * exporters do produce names that differ only in case.
 */
#include "graph/node_pattern.h"

#include <fnmatch.h>
#include <string.h>

bool nt_node_pattern_is_op(const char *pat) { return strncmp(pat, "op:", 3) == 0; }

bool nt_node_pattern_is_glob(const char *pat) { return strpbrk(pat, "*?[") != NULL; }

bool nt_node_op_match(const char *glob, const char *op_type)
{
    return op_type && fnmatch(glob, op_type, FNM_CASEFOLD) == 0;
}

bool nt_node_pattern_match(const char *pat, const char *name, const char *op_type)
{
    if (nt_node_pattern_is_op(pat))
        return nt_node_op_match(pat + 3, op_type);
    return name && (strcmp(pat, name) == 0 || fnmatch(pat, name, 0) == 0);
}

static int count_in(const nt_graph *g, const char *pat, int depth)
{
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const nt_node *node = &g->nodes[i];
        n += nt_node_pattern_match(pat, node->name, node->op_type);
        if (depth >= 64) /* the loader bounds nesting; this only keeps the stack finite */
            continue;
        for (int a = 0; a < node->n_attr; a++) {
            const nt_attr *at = &node->attrs[a];
            if (at->type == NT_ATTR_GRAPH && at->g)
                n += count_in(at->g, pat, depth + 1);
            for (int k = 0; at->type == NT_ATTR_GRAPHS && k < at->n; k++)
                if (at->graphs[k])
                    n += count_in(at->graphs[k], pat, depth + 1);
        }
    }
    return n;
}

int nt_node_pattern_count(const nt_graph *g, const char *pat) { return g ? count_in(g, pat, 0) : 0; }
