/*
 * debugger.h — `nntrace debug`: gdb for a neural network.  A debugger
 * attaches to a planned session as a tracer, keeps every intermediate value
 * alive, and executes command lines: breakpoints on nodes, op types and
 * conditions, watchpoints, stepping one node at a time, printing, slicing,
 * summarizing and patching values, then continuing the run.
 *
 * Normal output goes to the `out` stream, messages about bad commands to
 * `err` (after flushing `out`, so a combined log keeps its order).  The
 * library functions here never print anything else and never exit: a bad
 * command returns its status with the message in nt_last_error().
 */
#ifndef NT_DEBUGGER_H
#define NT_DEBUGGER_H

#include "core/core.h"

#include <stdio.h>

typedef struct nt_debugger nt_debugger;

/* Attaches a debugger to s (a session of m with its inputs bound).  The
 * debugger must outlive every later nt_session_run on s. */
nt_status nt_debugger_new(nt_model *m, nt_session *s, FILE *out, FILE *err, nt_debugger **out_dbg);
void nt_debugger_free(nt_debugger *d);

/* Executes one command line (blank lines and "#" comments do nothing).
 * Returns NT_OK or the failure of a bad or failing command (message in
 * nt_last_error(), nothing printed about it).  *quit is set by `quit`. */
nt_status nt_debugger_exec(nt_debugger *d, const char *line, bool *quit);

/* Reads and executes commands from `in` until its end or `quit`, echoing
 * each as "(nntrace) LINE" so a log reads like a terminal session.  A bad
 * command is reported on err as "NAME:LINE: error: MESSAGE" and the script
 * goes on; *n_failed counts them.  Returns NT_ERR_IO if `in` fails. */
nt_status nt_debugger_script(nt_debugger *d, FILE *in, const char *name, int *n_failed);

/* The interactive loop on a terminal: libedit line editing, history and
 * tab completion of commands, node names and value names.  An empty line
 * repeats `next` or `continue`.  Falls back to nt_debugger_script when
 * stdin is not a terminal. */
nt_status nt_debugger_interactive(nt_debugger *d, int *n_failed);

/* True if the last run ended in an error (a kernel failed). */
bool nt_debugger_run_failed(const nt_debugger *d);

#endif /* NT_DEBUGGER_H */
