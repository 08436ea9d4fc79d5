/*
 * limits.c — resource limits against malicious models (see limits.h).
 * The environment is read once; a malformed value is ignored (the default
 * stays) because the library never fails on its own configuration.
 */
#include "core/limits.h"
#include "core/core.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static size_t memory_limit;
static int64_t iteration_limit;
static uint64_t run_bytes_limit;
static pthread_once_t limits_once = PTHREAD_ONCE_INIT;

/* "123", "64M", "2G" into bytes; 0 if malformed. */
static uint64_t parse_bytes(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
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

static void read_limits(void)
{
    /* 4 GiB, or half the physical memory if that is less: far above what
     * inference on real models holds at once (weights stay in the mapped
     * file), far below what would let one model take the machine down. */
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    uint64_t phys = pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : (uint64_t)8 << 30;
    uint64_t mem = NT_MIN(phys / 2, (uint64_t)4 << 30);
    const char *e = getenv("NNTRACE_MEMORY_LIMIT");
    if (e && parse_bytes(e))
        mem = parse_bytes(e);
    memory_limit = mem > SIZE_MAX ? SIZE_MAX : (size_t)mem;
    run_bytes_limit = (uint64_t)512 << 30;
    e = getenv("NNTRACE_WORK_LIMIT");
    if (e && parse_bytes(e))
        run_bytes_limit = parse_bytes(e);
    iteration_limit = (int64_t)1 << 20;
    e = getenv("NNTRACE_MAX_ITERATIONS");
    if (e) {
        char *end;
        long long v = strtoll(e, &end, 10);
        if (end != e && !*end && v > 0)
            iteration_limit = v;
    }
}

size_t nt_limit_memory_bytes(void)
{
    pthread_once(&limits_once, read_limits);
    return memory_limit;
}

int64_t nt_limit_iterations(void)
{
    pthread_once(&limits_once, read_limits);
    return iteration_limit;
}

uint64_t nt_limit_run_bytes(void)
{
    pthread_once(&limits_once, read_limits);
    return run_bytes_limit;
}
