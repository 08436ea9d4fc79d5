/*
 * cli.h — what the subcommands share: the subcommand table entry, exit
 * codes (the DESIGN.md contract), option parsing helpers, and reporting
 * of library errors.
 */
#ifndef NT_CLI_H
#define NT_CLI_H

#include "nntrace.h"

#include <stdbool.h>
#include <stdio.h>

enum {
    NT_EXIT_OK = 0,
    NT_EXIT_USAGE = 1,      /* bad command line */
    NT_EXIT_BAD_INPUT = 2,  /* bad model or input file, or a model we decline */
    NT_EXIT_FOUND = 3       /* ran and found problems (doctor errors, diff divergence) */
};

typedef struct nt_command {
    const char *name;
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
    const char *summary;
    const char *usage;                   /* full help text */
} nt_command;

/* Prints "nntrace: <message>" for the last library error and returns the
 * exit code for that status (usage errors 1, everything else 2). */
int nt_cli_fail(nt_status s);
/* The same for an error of running the model in `file`: run-time messages
 * name the node, so the file is put in front unless already there. */
int nt_cli_fail_in(nt_status s, const char *file);
/* Prints "nntrace <cmd>: <message>\n" plus a hint to --help; returns 1. */
int nt_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True if arg is -h or --help. */
bool nt_cli_is_help(const char *arg);
/* Prints the usage text of the named command to stdout; returns 0. */
int nt_cli_print_help(const char *cmd);
/* Parses a whole decimal integer; false if not one. */
bool nt_cli_parse_int(const char *s, long long *out);
bool nt_cli_parse_double(const char *s, double *out);
/* Checks stdout was written without error (git's habit); returns an exit code. */
int nt_cli_finish(int code);

const nt_command *nt_cli_find(const char *name);
extern const nt_command nt_commands[];

#endif /* NT_CLI_H */
