/*
 * stats_worker.c — the background statistics thread (stats_worker.h).
 *
 * A single-producer single-consumer ring: the owner writes an item and
 * advances `tail`, the worker scans the item at `head` and advances `head`,
 * both without a lock.  Sleeping is the slow path: a side that finds
 * nothing to do polls a little, then sets its flag and waits on a condition
 * variable; the other side, after advancing its counter, looks at the flag
 * (sequentially consistent on both sides, so one of them sees the other)
 * and signals under the lock.
 */
#include "trace/stats_worker.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

/* Waking a sleeping thread takes tens of microseconds (more in a VM): the
 * worker polls for 2 ms after its last item, about the longest a node
 * computes between two outputs, and the owner for 0.5 ms before sleeping. */
enum { QUEUE = 64 };
static const double WORKER_SPIN_MS = 2.0, OWNER_SPIN_MS = 0.5;

typedef struct item {
    nt_tstats *st;
    const nt_tensor *t;
} item;

struct nt_stats_worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t job, done;
    uint64_t head, tail;        /* atomics: next to scan, next free */
    int worker_sleeping, owner_waiting, quit; /* atomics */
    double scan_wall_ms, scan_cpu_ms; /* written by the worker before it advances head */
    item q[QUEUE];
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* This thread's CPU time in ms. */
static double thread_cpu_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void *worker_main(void *arg)
{
    nt_stats_worker *w = arg;
    for (;;) {
        uint64_t h = LOAD(w->head);
        if (h != LOAD(w->tail)) {
            item it = w->q[h % QUEUE];
            double wall0 = nt_now_ms(), cpu0 = thread_cpu_ms();
            nt_tstats_add(it.st, it.t);
            w->scan_wall_ms += nt_now_ms() - wall0;
            w->scan_cpu_ms += thread_cpu_ms() - cpu0;
            STORE(w->head, h + 1);
            if (LOAD(w->owner_waiting)) {
                pthread_mutex_lock(&w->mu);
                pthread_cond_broadcast(&w->done);
                pthread_mutex_unlock(&w->mu);
            }
            continue;
        }
        double until = nt_now_ms() + WORKER_SPIN_MS;
        while (h == LOAD(w->tail) && !LOAD(w->quit) && nt_now_ms() < until)
            for (int i = 0; i < 32; i++)
                cpu_relax();
        if (h != LOAD(w->tail))
            continue;
        if (LOAD(w->quit))
            break;
        pthread_mutex_lock(&w->mu);
        STORE(w->worker_sleeping, 1);
        while (h == LOAD(w->tail) && !LOAD(w->quit))
            pthread_cond_wait(&w->job, &w->mu);
        STORE(w->worker_sleeping, 0);
        pthread_mutex_unlock(&w->mu);
    }
    return NULL;
}

nt_stats_worker *nt_stats_worker_new(void)
{
    nt_stats_worker *w = nt_calloc(1, sizeof *w);
    if (!w)
        return NULL;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->job, NULL);
    pthread_cond_init(&w->done, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->job);
        pthread_cond_destroy(&w->done);
        free(w);
        return NULL;
    }
    return w;
}

static void wake_worker(nt_stats_worker *w)
{
    if (LOAD(w->worker_sleeping)) {
        pthread_mutex_lock(&w->mu);
        pthread_cond_signal(&w->job);
        pthread_mutex_unlock(&w->mu);
    }
}

void nt_stats_worker_free(nt_stats_worker *w)
{
    if (!w)
        return;
    nt_stats_worker_drain(w);
    pthread_mutex_lock(&w->mu);
    STORE(w->quit, 1);
    pthread_cond_signal(&w->job);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->job);
    pthread_cond_destroy(&w->done);
    free(w);
}

/* Returns once the worker has finished item number `index`. */
static void wait_past(nt_stats_worker *w, uint64_t index)
{
    double until = nt_now_ms() + OWNER_SPIN_MS;
    while (LOAD(w->head) <= index && nt_now_ms() < until)
        for (int i = 0; i < 32; i++)
            cpu_relax();
    if (LOAD(w->head) > index)
        return;
    pthread_mutex_lock(&w->mu);
    STORE(w->owner_waiting, 1);
    while (LOAD(w->head) <= index)
        pthread_cond_wait(&w->done, &w->mu);
    STORE(w->owner_waiting, 0);
    pthread_mutex_unlock(&w->mu);
}

uint64_t nt_stats_worker_submit(nt_stats_worker *w, nt_tstats *st, const nt_tensor *t)
{
    uint64_t tail = w->tail; /* only this thread writes it */
    if (tail - LOAD(w->head) >= QUEUE)
        wait_past(w, tail - QUEUE);
    w->q[tail % QUEUE] = (item){st, t};
    STORE(w->tail, tail + 1);
    wake_worker(w);
    return tail;
}

bool nt_stats_worker_done(nt_stats_worker *w, uint64_t index) { return LOAD(w->head) > index; }

void nt_stats_worker_wait_for(nt_stats_worker *w, const nt_tensor *t)
{
    uint64_t tail = w->tail;
    if (!t) {
        if (tail)
            wait_past(w, tail - 1);
        return;
    }
    /* the newest item reading t: waiting past it covers the older ones */
    for (uint64_t i = tail; i > LOAD(w->head); i--)
        if (w->q[(i - 1) % QUEUE].t == t) {
            wait_past(w, i - 1);
            return;
        }
}

void nt_stats_worker_drain(nt_stats_worker *w) { nt_stats_worker_wait_for(w, NULL); }

void nt_stats_worker_times(nt_stats_worker *w, double *wall_ms, double *cpu_ms)
{
    nt_stats_worker_drain(w);
    *wall_ms = w->scan_wall_ms;
    *cpu_ms = w->scan_cpu_ms;
}
