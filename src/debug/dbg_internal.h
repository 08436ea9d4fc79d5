/*
 * dbg_internal.h — what the debugger's files share: the debugger object,
 * the command table, and helpers for naming nodes and values.  Private to
 * src/debug/.
 *
 *   debugger.c   the object, the tracer callbacks, run control commands
 *   dbg_cmds.c   the command table, breakpoints and inspection commands
 *   dbg_repl.c   scripts, the terminal loop (libedit), tab completion
 *   dbg_body.c   nodes inside If/Loop/Scan bodies: finding them by name,
 *                describing where in the nesting the run is
 */
#ifndef NT_DBG_INTERNAL_H
#define NT_DBG_INTERNAL_H

#include "debug/debugger.h"
#include "debug/dbg_break.h"
#include "debug/dbg_print.h"
#include "exec/exec.h"
#include "core/vec.h"
#include "graph/ir.h"

#include <pthread.h>

typedef enum dbg_state {
    DBG_IDLE,       /* no run yet */
    DBG_PAUSED,     /* a run is paused at node `pos` */
    DBG_FINISHED    /* the last run ended (values stay readable) */
} dbg_state;

/* The original data of a graph input that `set` patched, restored when the
 * next run begins so each run starts from the inputs the user gave. */
typedef struct dbg_saved {
    char *name;
    nt_tensor *orig;
} dbg_saved;

/* A node inside an If/Loop/Scan body (at any depth), found by name. */
typedef struct dbg_body_node {
    const nt_graph *graph;     /* the body holding it */
    const nt_node *node;
    const nt_node *owner;      /* the If/Loop/Scan node whose attribute is the body */
    const char *attr;          /* then_branch, else_branch, body */
    int depth;                 /* 1 for a body of a top-level node */
} dbg_body_node;

/* The node running at one depth of the nesting (level 0: the top graph). */
typedef struct dbg_level {
    const nt_graph *graph;
    const nt_node *node;
    int pos, n_order;          /* position in its graph's execution order */
    int iteration;             /* runs of this body since its owner began (Loop/Scan) */
    bool fresh;                /* the owner just began: the next node starts iteration 0 */
} dbg_level;

struct nt_debugger {
    nt_model *model;
    nt_session *sess;
    const nt_graph *graph;
    int n_order;
    const int *order;          /* execution position -> node index */
    int *pos_of;               /* node index -> execution position */
    FILE *out, *err;
    nt_buf ob;                 /* output of the command being run */
    nt_dbg_bps bps;
    nt_dbg_print_opts popts;
    /* run state */
    dbg_state state;
    int pos;                   /* current execution position */
    bool after;                /* paused after node `pos` ran (else before) */
    bool run_failed;
    /* requests for the callbacks, set before resuming */
    int64_t steps;             /* `next N`: stop after N more nodes */
    bool stop_at_first;        /* `start` */
    bool ignore_bps;           /* `finish` */
    bool aborting;             /* `run`/`restart` while paused: stop the old run */
    nt_buf stop_msg;           /* why the run paused */
    bool stop_requested;       /* a callback asked to pause in this resume */
    nt_vec saved;              /* dbg_saved: graph inputs' data before their first patch */
    char repeat[32];           /* command an empty terminal line repeats */
    /* nesting: the current node is levels[depth]; frame is its frame while paused */
    int depth;
    int n_levels;
    dbg_level *levels;
    const nt_frame *frame;
    int step_depth;            /* `next` counts nodes at this depth or shallower */
    bool step_into;            /* `step`: also stop before the first node of a body */
    int n_body;
    dbg_body_node *body;
    /* A run executes on a thread of its own, so that it can pause inside a
     * body: the kernel running the body stays on that thread's stack while
     * the commands read values.  Exactly one side runs at a time: the run
     * thread while run_turn is set, the command side otherwise. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool thread_live, run_turn, run_done;
    nt_status run_status;
    char run_error[1024];
};

/* ---- a command: handler gets the text after the command word, trimmed. */
typedef nt_status (*dbg_handler)(nt_debugger *d, const char *args);
typedef struct dbg_command {
    const char *name, *alias;
    const char *args;          /* argument synopsis for help */
    const char *summary;       /* one line */
    const char *help;          /* more detail (may be "") */
    dbg_handler fn;
} dbg_command;

extern const dbg_command nt_dbg_commands[];   /* NULL-name terminated */
const dbg_command *nt_dbg_find_command(const char *word, size_t len);
/* Sub-commands of `info`, NULL-terminated (for completion). */
extern const char *const nt_dbg_info_topics[];

/* ---- run control (debugger.c) */
nt_status nt_dbg_cmd_run(nt_debugger *d, const char *args);
nt_status nt_dbg_cmd_start(nt_debugger *d, const char *args);
nt_status nt_dbg_cmd_continue(nt_debugger *d, const char *args);
nt_status nt_dbg_cmd_next(nt_debugger *d, const char *args);
nt_status nt_dbg_cmd_step(nt_debugger *d, const char *args);
nt_status nt_dbg_cmd_finish(nt_debugger *d, const char *args);

/* ---- bodies (dbg_body.c) */
nt_status nt_dbg_body_index(nt_debugger *d);
/* The first body node of that name, or NULL. */
const dbg_body_node *nt_dbg_body_find(const nt_debugger *d, const char *name);
/* The body node's entry (by node pointer), or NULL. */
const dbg_body_node *nt_dbg_body_of(const nt_debugger *d, const nt_node *n);
/* "in then_branch of node #1 'if' (If)" for a body node (no newline). */
void nt_dbg_describe_body(const nt_debugger *d, const dbg_body_node *e, nt_buf *b);
/* The current node ("#3 'name' (Op)" at the top; "'name' (Op) in ..." in a body). */
void nt_dbg_describe_here(const nt_debugger *d, nt_buf *b);
/* One line per enclosing If/Loop/Scan node, innermost first, with the
 * branch and the loop iteration. */
void nt_dbg_describe_nesting(const nt_debugger *d, nt_buf *b);
const nt_node *nt_dbg_current_node(const nt_debugger *d);
/* The graph the current node belongs to (the top graph when not paused in a body). */
const nt_graph *nt_dbg_current_graph(const nt_debugger *d);

/* ---- helpers */
const nt_node *nt_dbg_node_at(const nt_debugger *d, int pos);
/* "#3 'name' (Op)" */
void nt_dbg_describe_node(const nt_debugger *d, int pos, nt_buf *b);
/* Summaries of the outputs of the node at pos, one indented line each. */
void nt_dbg_describe_outputs(nt_debugger *d, int pos, nt_buf *b);
/* The live tensor of a value, if it was computed (a node that failed
 * leaves its outputs with no shape: those count as not computed).  Clears
 * the error a missing value records. */
bool nt_dbg_value_live(nt_debugger *d, const char *name, nt_tensor **t);
/* Writes the composed output (d->ob) to d->out. */
void nt_dbg_flush(nt_debugger *d);

#endif /* NT_DBG_INTERNAL_H */
