/*
 * cli_env.h — the NNTRACE_* environment variables as option defaults
 * (cli_env.c lists them).
 */
#ifndef NT_CLI_ENV_H
#define NT_CLI_ENV_H

#include "nntrace.h"

typedef struct nt_cli_env_opts {
    bool no_fusion;      /* NNTRACE_FUSE=0 */
    bool no_winograd;    /* NNTRACE_WINOGRAD=0 */
    bool stats_inline;   /* NNTRACE_STATS_INLINE=1 */
} nt_cli_env_opts;

extern nt_cli_env_opts nt_cli_env;

/* Reads the environment once, at start: sets the library's limits and
 * nt_cli_env; keeps OpenBLAS single-threaded. */
void nt_cli_apply_env(void);

#endif
