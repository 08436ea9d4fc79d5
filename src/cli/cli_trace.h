/*
 * cli_trace.h — the tracing options shared by commands that run models
 * (--trace KIND[:FILTER]..., --run-dir DIR, -v, --dump-inputs,
 * --dump-limit N): parsing, creating the tracers and the run directory,
 * attaching them to a session, and finishing (writing files) after the runs.
 */
#ifndef NT_CLI_TRACE_H
#define NT_CLI_TRACE_H

#include "cli/cli.h"
#include "trace/tracers.h"

#define NT_CLI_TRACE_HELP                                                                     \
    "  --trace KIND[:FILTER]  trace nodes; KIND is print, stats, dump or profile; FILTER\n"  \
    "                     is a glob on node names or op:TYPE (repeat to combine)\n"          \
    "  --run-dir DIR      record the run (run.json, events, stats.jsonl, tensors/,\n"        \
    "                     profile.json) in DIR; default for stats/dump/profile:\n"           \
    "                     nntrace-runs/<date>-<time>\n"                                      \
    NT_CLI_TRACE_OPTS_HELP

/* The trace options but --trace and --run-dir, for commands that describe
 * their own --run-dir (eval). */
#define NT_CLI_TRACE_KIND_HELP                                                                \
    "  --trace KIND[:FILTER]  trace nodes; KIND is print, stats, dump or profile; FILTER\n"  \
    "                     is a glob on node names or op:TYPE (repeat to combine)\n"          \
    NT_CLI_TRACE_OPTS_HELP

#define NT_CLI_TRACE_OPTS_HELP                                                                \
    "  --exact-hist       stats: exact histograms (by default a tensor of n > 131072\n"    \
    "                     elements is histogrammed from every (n/65536)-th element,\n"     \
    "                     recorded as hist_stride; counts, min, max, mean, std are exact)\n" \
    "  --dump-inputs      dump: also write each node's inputs\n"                             \
    "  --dump-limit MB    dump: stop after this many MiB (default 2048)\n"

typedef struct nt_cli_trace {
    nt_node_filter filters[4];    /* per kind: print, stats, dump, profile */
    bool enabled[4];
    const char *run_dir;
    bool verbose, dump_inputs, exact_hist;
    uint64_t dump_limit;
    bool reports_to_stderr;       /* stdout is machine-readable (--json) */
    /* what run.json says while the run is going (set before nt_cli_trace_start) */
    const char *command, *model_path, *cmdline;
    int threads;
    int warmup_runs;              /* untraced runs done before the tracers start */
    /* set up by nt_cli_trace_start */
    nt_rundir *rd;
    nt_trace_obj *objs[4];
    char default_dir[256];
} nt_cli_trace;

/* Like nt_cli_parse_input_opt: 1 consumed, 0 not ours, -1 usage error. */
int nt_cli_parse_trace_opt(const char *cmd, int argc, char **argv, int *i, nt_cli_trace *t);
/* Creates the run directory (when asked for or needed) and the tracers, and
 * attaches them.  Returns an exit code. */
int nt_cli_trace_start(nt_cli_trace *t, const nt_model *m, nt_session *s, bool want_rundir);
/* Writes what the tracers gathered and run.json; closes everything.
 * run.json says "ok" only if info->status is "ok" and every tracer's files
 * and the event file were written; otherwise "failed" with the first
 * reason, which is also printed.  Returns an exit code. */
int nt_cli_trace_finish(nt_cli_trace *t, const nt_runinfo *info);

/* For readers of run directories: warns on stderr that dir is incomplete
 * (run.json says running or failed, or nntrace's files without run.json);
 * the reader goes on with what is there.  True if it warned. */
bool nt_cli_warn_incomplete(const char *cmd, const char *dir);

#endif /* NT_CLI_TRACE_H */
