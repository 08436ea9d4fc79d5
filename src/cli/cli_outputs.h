/*
 * cli_outputs.h — `run`'s outputs: summary lines, -o files, --json names.
 */
#ifndef NT_CLI_OUTPUTS_H
#define NT_CLI_OUTPUTS_H

#include "nntrace.h"
#include "core/core.h"

#include <stdbool.h>
#include <stdio.h>

/* One line per output: name, dtype[shape], min/max/mean, NaN/Inf counts
 * (verbose: the first values too). */
void nt_cli_print_output(FILE *f, const char *name, const nt_tensor *t, bool verbose);

/* Writes every graph output under outdir (made if missing) as the -o
 * file-name rule names it; returns an exit code, having printed any error. */
int nt_cli_write_outputs(const char *outdir, nt_model *m, nt_session *s);

/* Appends the --json "file" (or "files" and "elements" for a container)
 * of a value written with stem (the path without ".npy"). */
void nt_cli_json_files(nt_buf *b, const char *stem, const nt_tensor *t);

#endif
