/*
 * node_pattern.h — the one way nntrace names a set of nodes: the --trace
 * filters, the debugger's `break` and anything else that picks nodes by a
 * pattern use these functions, so a pattern means the same everywhere.
 *
 * A pattern is either a glob on the node name ("conv*", "layer4.?")
 * matched as fnmatch(3) does, or "op:GLOB", a glob on the op type matched
 * without regard to case ("op:conv", "op:*Pool").
 */
#ifndef NT_NODE_PATTERN_H
#define NT_NODE_PATTERN_H

#include "graph/ir.h"

/* Whether the node (name, op_type) matches pat. */
bool nt_node_pattern_match(const char *pat, const char *name, const char *op_type);
/* Whether op_type matches the glob of an "op:" pattern (its part after "op:"). */
bool nt_node_op_match(const char *glob, const char *op_type);
/* Whether pat is an op-type pattern ("op:..."). */
bool nt_node_pattern_is_op(const char *pat);
/* Whether pat has glob characters (so it may name several nodes). */
bool nt_node_pattern_is_glob(const char *pat);
/* Nodes of g and of its subgraphs, at any depth, that pat matches. */
int nt_node_pattern_count(const nt_graph *g, const char *pat);

#endif /* NT_NODE_PATTERN_H */
