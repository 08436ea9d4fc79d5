/*
 * stats_worker.h — a thread that adds tensors to statistics (tstats) in the
 * background, in submission order, so that a stats tracer lets the next
 * nodes compute while earlier outputs are scanned.
 *
 * The owner (one thread) submits (statistics, tensor) pairs.  A tensor must
 * stay unchanged until the worker is done with it: the owner asks
 * nt_stats_worker_wait_for(t) before the tensor is freed or reused (the
 * session's release callback), and nt_stats_worker_drain before it reads or
 * moves the statistics.
 */
#ifndef NT_STATS_WORKER_H
#define NT_STATS_WORKER_H

#include "trace/tstats.h"

typedef struct nt_stats_worker nt_stats_worker;

/* NULL if the thread cannot be started (the caller then scans inline). */
nt_stats_worker *nt_stats_worker_new(void);
/* Drains the queue and ends the thread. */
void nt_stats_worker_free(nt_stats_worker *w);
/* Queues nt_tstats_add(st, t); waits for room if the queue is full.
 * Returns the item's number (for nt_stats_worker_done). */
uint64_t nt_stats_worker_submit(nt_stats_worker *w, nt_tstats *st, const nt_tensor *t);
/* Whether item number `index` has been scanned. */
bool nt_stats_worker_done(nt_stats_worker *w, uint64_t index);
/* Returns once no queued scan reads t (t == NULL: once the queue is empty). */
void nt_stats_worker_wait_for(nt_stats_worker *w, const nt_tensor *t);
/* Returns once the queue is empty. */
void nt_stats_worker_drain(nt_stats_worker *w);
/* Time the worker has spent scanning so far, on the clock and on its own
 * CPU (ms); read after a drain.  A worker that gets much less CPU than
 * clock time is starved: the machine has no core free for it. */
void nt_stats_worker_times(nt_stats_worker *w, double *wall_ms, double *cpu_ms);

#endif /* NT_STATS_WORKER_H */
