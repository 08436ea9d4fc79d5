/*
 * cli_env.c — the environment variables of the nntrace command.  The
 * library reads none: each variable is a default for an option the CLI
 * passes down (README, "Environment").
 *
 *   NNTRACE_MEMORY_LIMIT    largest tensor, bytes (K/M/G suffix)    nt_set_limits
 *   NNTRACE_WORK_LIMIT      bytes of outputs one run may write      nt_set_limits
 *   NNTRACE_MAX_ITERATIONS  Loop/Scan iterations per node and run   nt_set_limits
 *   NNTRACE_FUSE=0          no fused node groups                    nt_session_options.no_fusion
 *   NNTRACE_WINOGRAD=0      no Winograd 3x3 convolutions            nt_session_options.no_winograd
 *   NNTRACE_STATS_INLINE=1  stats scanned on the calling thread     nt_trace_config.stats_inline
 *
 * A malformed value is reported on stderr and ignored.
 */
#include "cli/cli_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<cblas.h>)
#include <cblas.h>
#define NT_HAVE_OPENBLAS_THREADS 1
#endif
#endif

nt_cli_env_opts nt_cli_env;

/* "123", "64M", "2G" into bytes; 0 if malformed. */
static uint64_t parse_bytes(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *s == '-')
        return 0;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (*end || v > (UINT64_MAX >> shift))
        return 0;
    return (uint64_t)v << shift;
}

static uint64_t env_bytes(const char *name)
{
    const char *e = getenv(name);
    if (!e || !*e)
        return 0;
    uint64_t v = parse_bytes(e);
    if (!v)
        fprintf(stderr, "nntrace: ignoring %s='%s' (expected bytes, e.g. 512M or 2G)\n", name, e);
    return v;
}

/* "0" turns a default-on feature off; anything else non-empty turns an
 * off-by-default one on. */
static bool env_flag(const char *name, bool *set)
{
    const char *e = getenv(name);
    *set = e && *e;
    return *set && strcmp(e, "0") != 0;
}

void nt_cli_apply_env(void)
{
    nt_limits lim = {0, 0, 0};
    lim.memory_bytes = env_bytes("NNTRACE_MEMORY_LIMIT");
    lim.run_bytes = env_bytes("NNTRACE_WORK_LIMIT");
    const char *e = getenv("NNTRACE_MAX_ITERATIONS");
    if (e && *e) {
        char *end;
        long long v = strtoll(e, &end, 10);
        if (end != e && !*end && v > 0)
            lim.iterations = v;
        else
            fprintf(stderr, "nntrace: ignoring NNTRACE_MAX_ITERATIONS='%s' (expected a positive count)\n", e);
    }
    nt_set_limits(&lim);
    bool set;
    nt_cli_env.no_fusion = !env_flag("NNTRACE_FUSE", &set) && set;
    nt_cli_env.no_winograd = !env_flag("NNTRACE_WINOGRAD", &set) && set;
    nt_cli_env.stats_inline = env_flag("NNTRACE_STATS_INLINE", &set);
#ifdef NT_HAVE_OPENBLAS_THREADS
    /* The parallelism is the session's own (--threads); OpenBLAS's threads
     * would spin between calls on the cores our workers need.  Set here, in
     * the program, not by the library: it is process-wide. */
    openblas_set_num_threads(1);
#endif
}
