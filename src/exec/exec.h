/*
 * exec.h — sessions: the plan built once per model (operator lookup,
 * topological order, static shape inference, value lifetimes) and the run
 * loop that executes it with tracer hooks.  Internal to libnntrace.
 *
 * A graph (the top one or an If/Loop/Scan body) is planned into an nt_plan.
 * Running a plan uses a frame: one tensor slot per graph value.  Intermediate
 * tensors take their storage from the session's buffer pool and give it back
 * after their last consumer ran, which is what keeps peak memory low.
 */
#ifndef NT_EXEC_H
#define NT_EXEC_H

#include "ops/kernel.h"

typedef struct nt_plan nt_plan;
typedef struct nt_frame nt_frame;
typedef struct nt_pool nt_pool;
typedef struct nt_threads nt_threads;
typedef struct nt_fuse_group nt_fuse_group;

typedef struct nt_plan_node {
    const nt_node *node;
    const nt_op_def *op;
    void *state;                 /* from op->prepare */
    int opset;
    int n_release;               /* values whose last use is this node */
    int *release;
    const char **in_names;       /* for tracers: "" for omitted */
    const char **out_names;
    uint32_t traced;             /* bit i: attached tracer i wants this node */
    int n_implicit;              /* outer-scope values the node's subgraphs read */
    int *implicit;
    bool half_bridge;            /* the kernel declines half inputs: run it through ops/f16_bridge */
    nt_fuse_group *group;        /* the fused group the node belongs to (fuse.h), or NULL */
    bool group_root;             /* the group runs at this node's position */
} nt_plan_node;

struct nt_plan {
    const nt_graph *graph;
    nt_plan *parent;
    int depth;
    int n_order;
    int *order;                  /* node indices in execution order */
    nt_plan_node *nodes;         /* indexed by node index */
    nt_tensor *info;             /* per value: statically known dtype/shape (and data for constants) */
    nt_tensor *inits;            /* per value: initializers, aligned (a view into the map, or a copy) */
    int n_sub;                   /* plans of subgraphs used by this graph's nodes */
    nt_plan **subs;
    int n_groups;                /* fused groups (fuse.h) */
    nt_fuse_group **groups;
    int *pos_of;                 /* per node index: its position in order */
};

struct nt_frame {
    const nt_plan *plan;
    nt_frame *parent;
    nt_tensor **vals;            /* per value: the live tensor or NULL */
    nt_tensor *store;            /* per value: storage for produced tensors */
    int *uses_left;              /* per value: consumers still to run */
    nt_tensor **io;              /* a node's input then output pointers: 2 * n_io slots */
    int n_io;                    /* max(64, the graph's largest input or output count) */
};

/* What a kernel's ctx->exec points at while a frame runs. */
struct nt_exec {
    nt_session *sess;
    nt_frame *frame;
    int depth;
};

typedef struct nt_tracer_slot {
    nt_tracer t;
} nt_tracer_slot;

/* Tells the tracers that read tensors in the background that t (NULL: every
 * tensor) is about to be freed, reused or handed back to the caller. */
void nt_session_release_to_tracers(nt_session *s, const nt_tensor *t);

struct nt_session {
    nt_model *model;
    nt_session_options opt;
    char **dim_names;            /* copies of the overrides */
    int64_t *dim_values;
    nt_plan *plan;               /* the top graph */
    nt_tensor **bound;           /* per top-level value: input bound by the user (owned) */
    nt_frame top;
    nt_pool *pool;
    nt_threads *threads;
    int n_tracers;
    nt_tracer_slot *tracers;
    int n_releasing;             /* tracers with a release callback */
    bool any_traced;
    bool keep_values;            /* debugger: never free intermediates during a run */
    /* run state (pause/resume) */
    bool running, paused;
    bool skip_begin;             /* resuming at a node whose node_begin already paused */
    int pc;                      /* next position in plan->order */
    double run_start_ms;
    size_t peak_bytes;
    uint64_t run_bytes;          /* bytes of node outputs written so far in this run (work limit) */
    size_t copied_init_bytes;    /* initializers copied because misaligned in the file */
    void *work[NT_WORKSPACE_SLOTS];  /* nt_exec_workspace (workspace.c) */
    size_t work_cap[NT_WORKSPACE_SLOTS];
    const nt_frame *hook_frame;  /* the frame whose node the tracers are being called for */
    /* warnings found by static shape inference (for doctor) */
    nt_buf static_warnings;
    int n_static_warnings;
};

/* ---- buffer pool (pool.c) */
nt_pool *nt_pool_new(void);
void nt_pool_free(nt_pool *p);
void *nt_pool_get(nt_pool *p, size_t nbytes, size_t *capacity);
void nt_pool_put(nt_pool *p, void *data, size_t capacity);
size_t nt_pool_in_use(const nt_pool *p);
size_t nt_pool_peak(const nt_pool *p);
void nt_pool_reset_peak(nt_pool *p);

/* ---- shared workspace (workspace.c) */
void nt_session_workspace_free(nt_session *s);

/* ---- threads (threads.c) */
nt_threads *nt_threads_new(int n);
void nt_threads_free(nt_threads *t);

/* ---- planning (plan.c) */
nt_status nt_plan_build(nt_session *s, const nt_graph *g, nt_plan *parent, int depth, nt_plan **out,
                        nt_buf *unsupported, int *n_unsupported);
void nt_plan_free(nt_plan *p);
/* NT_ERR_PARSE naming the node when it has fewer inputs or outputs than its
 * operator's schema requires (arity.c); NT_OK for operators not listed. */
nt_status nt_plan_check_arity(const nt_node *n, int opset, const char *what);
const nt_plan *nt_plan_find_sub(const nt_plan *p, const nt_graph *g);

/* ---- running (run.c) */
nt_status nt_frame_init(nt_frame *f, const nt_plan *plan, nt_frame *parent);
void nt_frame_clear(nt_session *s, nt_frame *f);   /* frees produced tensors */
void nt_frame_deinit(nt_session *s, nt_frame *f);
/* Runs plan positions [from, plan->n_order) of a frame; *stopped_at is set
 * to the position of a pause (or n_order when finished). */
nt_status nt_frame_run(nt_session *s, nt_frame *f, int from, int *stopped_at);
/* Frees the value's tensor storage if it is a produced intermediate. */
void nt_frame_release_value(nt_session *s, nt_frame *f, int v);

/* ---- inspection for tracers that look inside If/Loop/Scan bodies (inspect.c)
 * The frame of the node whose hook is being called: valid only inside a
 * node_begin/node_end callback (a debugger paused inside a body reads the
 * body's values through it while the callback waits). */
const nt_frame *nt_session_hook_frame(const nt_session *s);
const nt_graph *nt_frame_graph(const nt_frame *f);
/* The frame that runs the node owning this body; NULL for the top graph. */
const nt_frame *nt_frame_parent(const nt_frame *f);
/* The frame's plan order: node indices of its graph in execution order. */
const int *nt_frame_order(const nt_frame *f, int *n_order);
/* The live tensor of the value named `name`, looked up in f and then in the
 * frames around it (a body sees outer values); NULL when none is live.
 * *g and *v (either may be NULL) receive the graph and value index found. */
nt_tensor *nt_frame_find_value(const nt_frame *f, const char *name, const nt_graph **g, int *v);
/* The tensor bound to the graph input `name` (nt_session_set_input), or NULL. */
const nt_tensor *nt_session_bound_input(const nt_session *s, const char *name);
/* The top-level frame of a session. */
const nt_frame *nt_session_top_frame(const nt_session *s);

/* An error prefixed with the node: "node 'x' (Op): ..." (keeps the message). */
/* A node's infer and compute as the plan and the run loop call them: a
 * kernel that declines float16/bfloat16 inputs runs through the half bridge
 * (see dispatch.c).  nt_dispatch_infer tells in *bridged whether compute must
 * be bridged too; nt_dispatch_infer_plan records that choice in pn. */
nt_status nt_dispatch_infer(const nt_plan_node *pn, nt_kernel_ctx *ctx, bool *bridged);
nt_status nt_dispatch_compute(const nt_plan_node *pn, nt_kernel_ctx *ctx, bool bridged);
nt_status nt_dispatch_infer_plan(nt_plan_node *pn, nt_kernel_ctx *ctx);

nt_status nt_node_error_wrap(const nt_node *n, nt_status st);

#endif /* NT_EXEC_H */
