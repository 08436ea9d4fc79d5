/*
 * limits.c — resource limits against malicious models (see limits.h):
 * defaults computed once, changed by nt_set_limits (the CLI maps the
 * NNTRACE_*_LIMIT environment variables to it; the library reads none).
 */
#include "core/limits.h"
#include "core/core.h"

#include <pthread.h>
#include <unistd.h>

static size_t memory_limit;
static int64_t iteration_limit;
static uint64_t run_bytes_limit;
static pthread_once_t limits_once = PTHREAD_ONCE_INIT;

static void default_limits(void)
{
    /* 4 GiB, or half the physical memory if that is less: far above what
     * inference on real models holds at once (weights stay in the mapped
     * file), far below what would let one model take the machine down. */
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : (uint64_t)8 << 30;
    uint64_t mem = NT_MIN(phys / 2, (uint64_t)4 << 30);
    memory_limit = mem > SIZE_MAX ? SIZE_MAX : (size_t)mem;
    run_bytes_limit = (uint64_t)512 << 30;
    iteration_limit = (int64_t)1 << 20;
}

void nt_set_limits(const nt_limits *l)
{
    pthread_once(&limits_once, default_limits);
    if (!l)
        return;
    if (l->memory_bytes)
        memory_limit = l->memory_bytes > SIZE_MAX ? SIZE_MAX : (size_t)l->memory_bytes;
    if (l->run_bytes)
        run_bytes_limit = l->run_bytes;
    if (l->iterations > 0)
        iteration_limit = l->iterations;
}

void nt_get_limits(nt_limits *out)
{
    pthread_once(&limits_once, default_limits);
    out->memory_bytes = memory_limit;
    out->run_bytes = run_bytes_limit;
    out->iterations = iteration_limit;
}

size_t nt_limit_memory_bytes(void)
{
    pthread_once(&limits_once, default_limits);
    return memory_limit;
}

int64_t nt_limit_iterations(void)
{
    pthread_once(&limits_once, default_limits);
    return iteration_limit;
}

uint64_t nt_limit_run_bytes(void)
{
    pthread_once(&limits_once, default_limits);
    return run_bytes_limit;
}
