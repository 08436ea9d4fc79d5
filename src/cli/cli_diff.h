/*
 * cli_diff.h — the comparison options shared by `nntrace diff` and
 * `nntrace run --compare DIR` (--atol, --rtol, --tol PATTERN=ATOL[:RTOL]),
 * and the live comparison of a running session against recorded tensors.
 * Defined in cmd_diff.c.
 */
#ifndef NT_CLI_DIFF_H
#define NT_CLI_DIFF_H

#include "analyze/diff.h"
#include "cli/cli.h"

#define NT_CLI_DIFF_TOL_HELP                                                                  \
    "  --atol X           absolute tolerance (default 1e-4)\n"                                \
    "  --rtol Y           relative tolerance (default 1e-3); an element fails when\n"         \
    "                     |a-b| > atol and |a-b| > rtol*|b| (B is the reference)\n"           \
    "  --tol PAT=ATOL[:RTOL]  tolerances for outputs or nodes matching the glob PAT\n"        \
    "                     (repeatable; the first match wins)\n"

/* Like nt_cli_parse_input_opt: 1 consumed, 0 not ours, -1 usage error. */
int nt_cli_parse_tol_opt(const char *cmd, int argc, char **argv, int *i, nt_diff_options *o);

/* `run --compare DIR`: the live comparison of a session against DIR. */
typedef struct nt_cli_compare {
    const char *dir;          /* NULL: no comparison asked for */
    nt_diff_options opt;
    nt_diff_set *set;
    nt_diff_report rep;
    nt_diff_live *live;
} nt_cli_compare;

/* Parses --compare DIR and the tolerance options (1 consumed, 0 not ours,
 * -1 usage error).  Call nt_cli_compare_init first. */
void nt_cli_compare_init(nt_cli_compare *c);
int nt_cli_parse_compare_opt(const char *cmd, int argc, char **argv, int *i, nt_cli_compare *c);
/* Opens DIR and attaches the comparing tracer (a no-op without --compare).
 * Returns an exit code. */
int nt_cli_compare_start(nt_cli_compare *c, nt_session *s);
/* Prints the report to f (a table) and, when run_dir is not NULL, writes
 * run_dir/diff.json.  Returns 3 when a tensor diverged, 0 otherwise (or the
 * exit code of an error). */
int nt_cli_compare_finish(nt_cli_compare *c, FILE *f, const char *run_dir);
void nt_cli_compare_deinit(nt_cli_compare *c);

#endif /* NT_CLI_DIFF_H */
