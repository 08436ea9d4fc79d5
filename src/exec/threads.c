/*
 * threads.c — a small fixed thread pool for intra-op parallelism.
 * nt_parallel_for splits [0, n) into contiguous chunks, one per thread,
 * by a fixed rule: the same thread count always gives the same partition,
 * so results are deterministic for a given --threads.
 *
 * A model runs many short parallel sections back to back (three or four per
 * convolution).  Waking a sleeping worker takes tens of microseconds, long
 * enough for the caller to have done all the chunks itself, so idle workers
 * first spin a little (when each thread has a core), watching for the next
 * job, and the caller spins a little before sleeping on the last chunks.
 * The counters read while spinning are accessed atomically.
 */
#include "exec/exec.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

/* About 100 us of polling on current cores before sleeping. */
enum { SPIN_ROUNDS = 4000 };

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

struct nt_threads {
    int n;                      /* total threads including the caller */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    /* the job being run */
    nt_range_fn fn;
    void *arg;
    int64_t n_items, chunk;
    int n_chunks;
    int next_chunk, finished;
    uint64_t generation;
    bool quit;
    bool spin;                  /* threads <= cores: poll before sleeping */
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

/* Polls (without the lock) until a job other than `seen` or quit is posted,
 * for a bounded time. */
static void spin_for_job(const nt_threads *t, uint64_t seen)
{
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (LOAD(t->generation) != seen || LOAD(t->quit))
            return;
        cpu_relax();
    }
}

static void run_chunk(nt_threads *t, int c)
{
    int64_t b = (int64_t)c * t->chunk;
    int64_t e = b + t->chunk < t->n_items ? b + t->chunk : t->n_items;
    if (b < e)
        t->fn(t->arg, b, e);
}

static void *worker_main(void *p)
{
    nt_threads *t = p;
    uint64_t seen = 0;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        if (t->spin && !t->quit && t->generation == seen) {
            pthread_mutex_unlock(&t->mu);
            spin_for_job(t, seen);
            pthread_mutex_lock(&t->mu);
        }
        while (!t->quit && t->generation == seen)
            pthread_cond_wait(&t->wake, &t->mu);
        if (t->quit)
            break;
        seen = t->generation;
        while (t->next_chunk < t->n_chunks) {
            int c = t->next_chunk++;
            pthread_mutex_unlock(&t->mu);
            run_chunk(t, c);
            pthread_mutex_lock(&t->mu);
            if (__atomic_add_fetch(&t->finished, 1, __ATOMIC_RELEASE) == t->n_chunks)
                pthread_cond_signal(&t->done);
        }
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

nt_threads *nt_threads_new(int n)
{
    nt_threads *t = nt_calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->n = n < 1 ? 1 : n;
    t->spin = t->n <= sysconf(_SC_NPROCESSORS_ONLN);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->wake, NULL);
    pthread_cond_init(&t->done, NULL);
    if (t->n > 1) {
        t->workers = nt_calloc((size_t)t->n - 1, sizeof(pthread_t));
        if (!t->workers) {
            nt_threads_free(t);
            return NULL;
        }
        for (int i = 0; i < t->n - 1; i++)
            if (pthread_create(&t->workers[i], NULL, worker_main, t) != 0) {
                t->n = i + 1; /* run with the workers we got */
                break;
            }
    }
    return t;
}

void nt_threads_free(nt_threads *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    STORE(t->quit, true);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->mu);
    for (int i = 0; t->workers && i < t->n - 1; i++)
        pthread_join(t->workers[i], NULL);
    free(t->workers);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->wake);
    pthread_cond_destroy(&t->done);
    free(t);
}

int nt_exec_threads(const nt_exec *exec)
{
    return exec && exec->sess && exec->sess->threads ? exec->sess->threads->n : 1;
}

bool nt_exec_winograd(const nt_exec *exec)
{
    return !(exec && exec->sess && exec->sess->opt.no_winograd);
}

void nt_parallel_for(nt_exec *exec, int64_t n, int64_t min_chunk, nt_range_fn fn, void *arg)
{
    if (n <= 0)
        return;
    nt_threads *t = exec && exec->sess ? exec->sess->threads : NULL;
    if (min_chunk < 1)
        min_chunk = 1;
    int parts = t ? t->n : 1;
    if ((int64_t)parts > n / min_chunk)
        parts = (int)(n / min_chunk);
    /* Nested parallel_for (from a subgraph inside a parallel kernel) runs inline. */
    if (parts <= 1 || !t || t->n_chunks != 0) {
        fn(arg, 0, n);
        return;
    }
    pthread_mutex_lock(&t->mu);
    t->fn = fn;
    t->arg = arg;
    t->n_items = n;
    t->chunk = (n + parts - 1) / parts;
    t->n_chunks = (int)((n + t->chunk - 1) / t->chunk);
    t->next_chunk = 1; /* chunk 0 is the caller's */
    STORE(t->finished, 0);
    STORE(t->generation, t->generation + 1);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->mu);

    run_chunk(t, 0);

    pthread_mutex_lock(&t->mu);
    __atomic_add_fetch(&t->finished, 1, __ATOMIC_RELEASE);
    while (t->next_chunk < t->n_chunks) { /* help with what is left */
        int c = t->next_chunk++;
        pthread_mutex_unlock(&t->mu);
        run_chunk(t, c);
        pthread_mutex_lock(&t->mu);
        __atomic_add_fetch(&t->finished, 1, __ATOMIC_RELEASE);
    }
    if (t->spin && t->finished < t->n_chunks) { /* the workers' chunks are short: poll first */
        pthread_mutex_unlock(&t->mu);
        for (int i = 0; i < SPIN_ROUNDS && LOAD(t->finished) < t->n_chunks; i++)
            cpu_relax();
        pthread_mutex_lock(&t->mu);
    }
    while (t->finished < t->n_chunks)
        pthread_cond_wait(&t->done, &t->mu);
    t->n_chunks = 0;
    pthread_mutex_unlock(&t->mu);
}
