/*
 * dbg_break.h — the debugger's breakpoint table: breakpoints on a node or
 * an op type (stop before the node runs), condition breakpoints (stop
 * after a node whose output meets a condition) and watchpoints (stop after
 * the node that produces one value, when that value meets a condition).
 * Ids count up from 1 and are never reused within a session, as in gdb.
 */
#ifndef NT_DBG_BREAK_H
#define NT_DBG_BREAK_H

#include "debug/dbg_cond.h"

typedef enum nt_dbg_bp_kind {
    NT_DBG_BP_NODE,    /* target: node name */
    NT_DBG_BP_OP,      /* target: op type */
    NT_DBG_BP_COND,    /* cond on every output of every node */
    NT_DBG_BP_WATCH    /* target: value name; cond on that value */
} nt_dbg_bp_kind;

typedef struct nt_dbg_bp {
    int id;
    nt_dbg_bp_kind kind;
    bool temporary;    /* tbreak: deleted when it stops the run */
    bool enabled;
    char *target;      /* NODE/OP/WATCH; NULL for COND */
    nt_dbg_cond *cond; /* COND/WATCH */
    int64_t hits;
} nt_dbg_bp;

typedef struct nt_dbg_bps {
    int n, cap, next_id;
    nt_dbg_bp *v;
} nt_dbg_bps;

void nt_dbg_bps_init(nt_dbg_bps *b);
void nt_dbg_bps_deinit(nt_dbg_bps *b);
/* Adds a breakpoint; takes ownership of cond (freed on failure too);
 * target is copied.  *id is the new breakpoint's number. */
nt_status nt_dbg_bps_add(nt_dbg_bps *b, nt_dbg_bp_kind kind, bool temporary, const char *target, nt_dbg_cond *cond,
                         int *id);
/* NT_ERR_NOT_FOUND if no breakpoint has that id. */
nt_status nt_dbg_bps_delete(nt_dbg_bps *b, int id);
void nt_dbg_bps_clear(nt_dbg_bps *b);
nt_dbg_bp *nt_dbg_bps_find(nt_dbg_bps *b, int id);

/* The first enabled NODE/OP breakpoint for a node about to run, or NULL. */
nt_dbg_bp *nt_dbg_bps_match_before(nt_dbg_bps *b, const char *node_name, const char *op_type);
/* The first enabled COND/WATCH breakpoint met by a node that just ran, or
 * NULL; *output is the index of the output that met it.  Statistics of each
 * output are computed at most once however many conditions there are. */
nt_dbg_bp *nt_dbg_bps_match_after(nt_dbg_bps *b, const nt_node_view *node, int *output);
/* The first enabled WATCH on value `name` that tensor t meets, or NULL
 * (for values no node produces: graph inputs and weights). */
nt_dbg_bp *nt_dbg_bps_match_value(nt_dbg_bps *b, const char *name, const nt_tensor *t);

/* "Breakpoint 3", "Temporary breakpoint 1", "Condition 2 (nan > 0)",
 * "Watch 4 (y: max > 10)": how a stop names what stopped it. */
void nt_dbg_bp_describe(const nt_dbg_bp *bp, nt_buf *out);
/* The `info breakpoints` table (a line saying there are none if empty). */
void nt_dbg_bps_format(const nt_dbg_bps *b, nt_buf *out);

#endif /* NT_DBG_BREAK_H */
