/*
 * dbg_cond.h — the debugger's condition language: a small boolean
 * expression over the statistics of one tensor (a node output, or a watched
 * value), tested by `break if COND` and `watch VALUE COND`.
 *
 *     cond    := or
 *     or      := and ( "||" and )*
 *     and     := unary ( "&&" unary )*
 *     unary   := "!" unary | "(" cond ")" | scope | test
 *     scope   := "op:" OP_TYPE | "node:" NODE_NAME
 *     test    := STAT [ ("<" | "<=" | ">" | ">=" | "==" | "!=") NUMBER ]
 *     STAT    := nan | inf | pinf | ninf | min | max | absmax | mean | std
 *              | zeros | negatives | numel
 *
 * nan/inf/pinf/ninf/numel are element counts; zeros and negatives are
 * fractions of all elements (0..1); min/max/mean/std are over the finite
 * values; absmax is the largest magnitude, +Inf when there is an Inf.  A bare STAT means "STAT != 0".  A statistic that is
 * undefined (min of a tensor with no finite value, any statistic of a
 * non-numeric tensor) makes its test false whatever the comparison.
 * `op:` and `node:` scope a condition to nodes of one op type or one node
 * name: "op:Relu && zeros > 0.9".  Statistics are computed lazily, once per
 * tensor, only when a test needs them.
 */
#ifndef NT_DBG_COND_H
#define NT_DBG_COND_H

#include "core/core.h"
#include "trace/tstats.h"

typedef struct nt_dbg_cond nt_dbg_cond;

/* What a condition is tested on: one tensor and the node that produced it
 * (op_type / node_name may be NULL for a value no node produced).  The
 * statistics are filled on first need; release them with
 * nt_dbg_subject_deinit. */
typedef struct nt_dbg_subject {
    const nt_tensor *t;
    const char *op_type;
    const char *node_name;
    bool have_stats;
    nt_tstats st;
} nt_dbg_subject;

/* A subject for t (borrowed); cheap: no statistics yet. */
void nt_dbg_subject_init(nt_dbg_subject *s, const nt_tensor *t, const char *op_type, const char *node_name);
void nt_dbg_subject_deinit(nt_dbg_subject *s);
/* The named statistic of the subject (computing the statistics on first
 * use); NaN when undefined.  stat is a STAT name from the grammar above;
 * *known is set false for an unknown name. */
double nt_dbg_subject_stat(nt_dbg_subject *s, const char *stat, bool *known);

/* Parses text; NT_ERR_INVALID_ARG with a message naming the column and what
 * was expected on a syntax error (nothing is printed). */
nt_status nt_dbg_cond_parse(const char *text, nt_dbg_cond **out);
void nt_dbg_cond_free(nt_dbg_cond *c);
/* The condition as written (trimmed). */
const char *nt_dbg_cond_text(const nt_dbg_cond *c);
/* True if the subject meets the condition. */
bool nt_dbg_cond_eval(const nt_dbg_cond *c, nt_dbg_subject *s);
/* True if the condition tests any statistic (false for a pure scope like
 * "op:Relu", which then matches every output of such nodes). */
bool nt_dbg_cond_uses_stats(const nt_dbg_cond *c);

/* The STAT names, NULL-terminated (for help text and completion). */
extern const char *const nt_dbg_stat_names[];

#endif /* NT_DBG_COND_H */
