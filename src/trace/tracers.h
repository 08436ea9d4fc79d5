/*
 * tracers.h — nntrace's built-in tracers (print, stats, dump, profile), the
 * node filter they share, and the run directory they record into.
 *
 * Each built-in tracer is an nt_trace_obj: the nt_tracer to attach to a
 * session, plus finish() — called once after the last run, writes what the
 * tracer gathered into the run directory (stats.jsonl, tensors/index.json,
 * profile.json, event-file entries) and its text report — and destroy().
 * A tracer object may observe many runs (a data set); it accumulates.
 */
#ifndef NT_TRACERS_H
#define NT_TRACERS_H

#include "core/core.h"
#include "graph/ir.h"

/* ---------------------------------------------------------------- filters */

/* A node filter: node patterns (graph/node_pattern.h): globs on the node
 * name ("conv*") or "op:TYPE" (a glob on the op type, any case).  An empty
 * filter matches every node. */
typedef struct nt_node_filter {
    int n;
    const char *pats[32];
} nt_node_filter;

bool nt_node_filter_match(const nt_node_filter *f, const char *name, const char *op_type);
/* Adds a pattern; false if the filter is full. */
bool nt_node_filter_add(nt_node_filter *f, const char *pat);

/* ---------------------------------------------------------------- run directory */

typedef struct nt_rundir nt_rundir;

/* Creates DIR (and parents) and remembers when the run started. */
nt_status nt_rundir_open(const char *dir, nt_rundir **out);
const char *nt_rundir_path(const nt_rundir *r);
/* The run's event-file writer, opened on first use. */
nt_status nt_rundir_writer(nt_rundir *r, nt_writer **out);
/* "DIR/name" into buf. */
void nt_rundir_file(const nt_rundir *r, const char *name, char *buf, size_t len);

/* What run.json records (strings may be NULL). */
typedef struct nt_runinfo {
    const char *command;          /* "run", "eval", ... */
    const char *model_path;
    int n_inputs;
    const char *const *input_names;
    const char *const *input_files;   /* NULL entries: synthesized */
    const char *const *input_descs;   /* "float32[1,3,224,224]" */
    const char *options;          /* the command line, joined */
    int threads;
    int runs;
    double elapsed_ms;            /* total time of the runs */
    const char *status;           /* "running", "ok" or "failed" (anything else: failed, this the reason) */
    const char *reason;           /* why it failed (NULL otherwise) */
} nt_runinfo;

/* Writes DIR/run.json (replacing it whole): model path and SHA-256,
 * inputs, options, nntrace version, host, start and end times, and
 * "status": "running" (written when the run starts, so a killed run is
 * recognisable), "ok", or "failed" with "reason". */
nt_status nt_rundir_write_info(nt_rundir *r, const nt_runinfo *info);

/* What a reader finds in a directory: a finished run, or one that a
 * reader can still use but should call incomplete. */
typedef enum nt_rundir_state {
    NT_RUNDIR_COMPLETE = 0,       /* run.json says "ok" (or: not an nntrace run directory) */
    NT_RUNDIR_RUNNING,            /* run.json says "running": killed, or still going */
    NT_RUNDIR_FAILED,             /* run.json says "failed" */
    NT_RUNDIR_NO_RUNJSON          /* nntrace's files but no (readable) run.json */
} nt_rundir_state;

/* Looks at DIR/run.json (and, without one, for stats.jsonl, tensors/ or
 * profile.json); why gets a sentence for a warning when not complete. */
nt_rundir_state nt_rundir_inspect(const char *dir, char *why, size_t len);
/* Flushes and closes the event writer; returns the first error seen. */
nt_status nt_rundir_close(nt_rundir *r);

/* ---------------------------------------------------------------- tracers */

typedef struct nt_trace_config {
    const nt_model *model;
    nt_node_filter filter;
    bool verbose;                 /* print: first values of each tensor */
    FILE *out;                    /* print / reports (stdout by default) */
    bool dump_inputs;             /* dump: also each node's inputs */
    uint64_t dump_limit;          /* dump: bytes before dumping stops (0 = 2 GiB) */
    bool quiet;                   /* no text report at finish */
    bool exact_hist;              /* stats: every histogram exact (no sampling) */
    bool stats_inline;            /* stats: scan on the calling thread only (no background thread) */
    int warmup_runs;              /* profile: untraced runs before the profiled ones (said in the report) */
    nt_rundir *rundir;            /* where tracers that write while running (dump) write */
} nt_trace_config;

typedef struct nt_trace_obj nt_trace_obj;
struct nt_trace_obj {
    nt_tracer tracer;
    const char *kind;
    /* Something the user should know that did not stop the run (the dump
     * size cap reached...), "" if nothing.  The library never prints: the
     * caller shows it (the CLI as "nntrace: warning: ..."). */
    char warning[512];
    nt_status (*finish)(nt_trace_obj *self, nt_rundir *rd);
    void (*destroy)(nt_trace_obj *self);
};

/* Creates a built-in tracer by kind: "print", "stats", "dump", "profile".
 * NT_ERR_INVALID_ARG for an unknown kind. */
nt_status nt_trace_obj_new(const char *kind, const nt_trace_config *cfg, nt_trace_obj **out);
void nt_trace_obj_free(nt_trace_obj *t);

nt_status nt_print_tracer_new(const nt_trace_config *cfg, nt_trace_obj **out);
nt_status nt_stats_tracer_new(const nt_trace_config *cfg, nt_trace_obj **out);
nt_status nt_dump_tracer_new(const nt_trace_config *cfg, nt_trace_obj **out);
nt_status nt_profile_tracer_new(const nt_trace_config *cfg, nt_trace_obj **out);

/* A FLOP estimate for a node given its inputs and outputs (0 if unknown):
 * 2*MACs for Conv/Gemm/MatMul, one per output element for element-wise ops. */
double nt_node_flops(const nt_node_view *v);

#endif /* NT_TRACERS_H */
