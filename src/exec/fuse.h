/*
 * fuse.h — plan-level fusion: groups of nodes run by one fused kernel.
 *
 * THE CONTRACT (read this before adding a pattern)
 *
 * After a plan is built (kernels, order, lifetimes, static shapes), each
 * pattern in the table of fuse.c looks at the plan and may claim groups of
 * nodes.  A group has members (nodes, in plan order) and one root, the
 * member that comes last in the order; the group's only result is the
 * root's first output.  A claim must respect:
 *
 *   1. Same bits.  Running the fused kernel gives bit-identical outputs to
 *      running the members one by one: the same float32 operations in the
 *      same order (associativity included), the same exp/erf/tanh code, the
 *      same accumulation types.  The safest way is to call the very inner
 *      loops the members' kernels use (fuse_chain.c calls the element-wise
 *      loops of unary.c/binary.c block by block).
 *   2. Private interiors.  Every value a member produces, except the root's
 *      output, is read only by members (fuse_value_private): not by other
 *      nodes, not by a subgraph, not a graph output.
 *   3. Each member is claimed by one group at most (pn->group is NULL before).
 *
 * At run time (run.c) a group is *active* unless some attached tracer wants
 * any of its members (their `traced` bits, from nt_tracer.wants_node, asked
 * once per tracer and cached in group->traced) or the session keeps every
 * value (the debugger).  Active: the members are skipped where they stand in
 * the order and the group runs at the root's position, where all of its
 * inputs exist (members only read group inputs or each other's results).
 * Inactive: the members run as ordinary nodes, hooks and all, so a traced
 * value is always the one the original node computed.
 *
 * The fused kernel is an ordinary op definition (kernel.h): infer then
 * compute, ctx->node the group's synthetic node (named after the root, op
 * type the pattern's name, inputs = the group inputs, one output), ctx->state
 * the group's state.  infer may decline a run with NT_ERR_UNSUPPORTED (for
 * example a shape the kernel does not handle, known only at run time): the
 * members then run one by one at the root's position instead.  compute must
 * not decline.
 *
 * An "alias" pattern (no compute: a no-op Cast) makes the root's output the
 * same tensor as its input; fuse.c then keeps that input alive until the
 * output's last use.
 *
 * nt_session_options.no_fusion (the CLI: NNTRACE_FUSE=0) plans without fusion, lowerings
 * excepted (fuse_pattern_lowers below; used by the
 * tests that compare fused and unfused bits).
 *
 * To add a pattern (e.g. a Conv epilogue): write a match function that
 * claims groups with fuse_group_add, and an infer/compute pair; add one
 * line to the table in fuse.c.
 */
#ifndef NT_FUSE_H
#define NT_FUSE_H

#include "exec/exec.h"

/* Members and inputs a group may have. */
#define NT_FUSE_MAX_MEMBERS 24
#define NT_FUSE_MAX_IN 16

typedef struct nt_fuse_pattern nt_fuse_pattern;

struct nt_fuse_group {
    const nt_fuse_pattern *pat;
    int n_members;
    int members[NT_FUSE_MAX_MEMBERS]; /* node indices, in plan order; the last is the root */
    int root;                         /* node index of the root */
    nt_node node;                     /* synthetic node: in = group inputs, out = root's output */
    int in[NT_FUSE_MAX_IN];
    int out[1];
    void *state;                      /* the pattern's, freed by pat->release */
    uint32_t traced;                  /* OR of the members' traced bits */
};

struct nt_fuse_pattern {
    const char *name;                 /* the synthetic node's op type */
    /* Claims groups in plan p (see fuse_group_add). */
    nt_status (*match)(nt_session *s, nt_plan *p, const int *uses);
    nt_status (*infer)(nt_kernel_ctx *ctx);
    nt_status (*compute)(nt_kernel_ctx *ctx);   /* NULL: alias (output = input 0) */
    void (*release)(void *state);
};

/* Whether pat is a lowering: it decides the root's value, not only how fast
 * it comes (the QDQ groups of fuse_qdq.c).  When such a group is inactive
 * the members still run one by one, but the root's output comes from the
 * group's kernel; and lowerings apply under no_fusion too. */
bool fuse_pattern_lowers(const nt_fuse_pattern *pat);

/* Finds the groups of plan p (called by nt_plan_build); NT_OK or NOMEM. */
nt_status nt_fuse_plan(nt_session *s, nt_plan *p);
void nt_fuse_free(nt_plan *p);

/* ---- helpers for match functions */

/* uses[v]: how many node input slots and subgraph captures read value v. */
/* Whether value v is read only by the given members (counted against
 * uses[v]) and is not a graph output. */
bool fuse_value_private(const nt_plan *p, const int *uses, int v, const int *members, int n_members);
/* The plan position of node index i. */
int fuse_pos(const nt_plan *p, int node_index);
/* Registers a group over members (any order; sorted here), whose inputs are
 * every value the members read that no member produces, in first-read
 * order.  The root is the member last in plan order; its first output is
 * the group's result.  Takes ownership of state (released on failure). */
nt_status fuse_group_add(nt_plan *p, const nt_fuse_pattern *pat, const int *members, int n_members, void *state,
                         nt_fuse_group **out);
/* Index of value v among g's inputs, or -1. */
int fuse_group_input(const nt_fuse_group *g, int v);
/* Whether a plan node is free to be claimed: supported, default domain, not
 * yet in a group. */
bool fuse_node_free(const nt_plan *p, int node_index);
/* Data operands (1 or 2) of an element-wise float32 node a fused kernel can
 * run through its inner loop (unary and two-input binary ops of
 * elementwise_common.h, float->float Cast), 0 for any other node.  Operands
 * may still broadcast. */
int fuse_ew_operands(const nt_plan *p, int i);
bool fuse_in_list(const int *list, int n, int x);
/* Statically known dtype of value v (UNDEFINED when unknown). */
nt_dtype fuse_dtype(const nt_plan *p, int v);

/* ---- patterns */
extern const nt_fuse_pattern nt_fuse_conv_epilogue;
extern const nt_fuse_pattern nt_fuse_attention;
extern const nt_fuse_pattern nt_fuse_rows;
extern const nt_fuse_pattern nt_fuse_chain;
extern const nt_fuse_pattern nt_fuse_noop_cast;
extern const nt_fuse_pattern nt_fuse_qdq;

#endif /* NT_FUSE_H */
