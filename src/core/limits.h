/*
 * limits.h — the interpreter's resource limits against malicious models.
 *
 * A model that parses can still ask for absurd work: a 10^12-element
 * Expand, a Loop whose trip count is 2^63.  Rather than let the process be
 * killed by the OOM killer or spin forever, allocations of tensor storage
 * and Loop iterations are bounded, and exceeding a bound is an ordinary
 * error naming the node.  The bounds default to generous values (4 GiB or
 * half the machine's memory if less, 2^20 iterations, 512 GiB of outputs
 * per run) and are changed with nt_set_limits (nntrace.h); the CLI maps
 * NNTRACE_MEMORY_LIMIT, NNTRACE_MAX_ITERATIONS and NNTRACE_WORK_LIMIT to it.
 */
#ifndef NT_LIMITS_H
#define NT_LIMITS_H

#include <stddef.h>
#include <stdint.h>

/* Largest number of bytes one tensor (and a run's live intermediates) may take. */
size_t nt_limit_memory_bytes(void);
/* Largest number of iterations one Loop or Scan node may run. */
int64_t nt_limit_iterations(void);
/* Largest number of bytes the nodes of one run may write to their outputs
 * together: bounds the work of a model that loops over big tensors. */
uint64_t nt_limit_run_bytes(void);

#endif /* NT_LIMITS_H */
