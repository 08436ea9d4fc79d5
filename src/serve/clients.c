/*
 * clients.c — keeping one client from locking everyone out of the dashboard.
 *
 * libmicrohttpd runs a thread per connection and refuses connections beyond
 * its limit, so a client that opens connections and never finishes sending
 * its request headers (a "slowloris") could hold every slot.  libmicrohttpd
 * 0.9.75 has an idle timeout and a per-address limit, but no deadline for
 * the headers: a client trickling one byte every few seconds is never idle.
 * This file adds what is missing:
 *
 *   - a header deadline: a connection whose request headers are not
 *     complete NT_SERVE_HEADER_MS after it opened (or after its previous
 *     request finished, for keep-alive) is shut down by the watchdog;
 *   - a cap on connections still sending headers: when more than
 *     NT_SERVE_MAX_PENDING are pending, the oldest is shut down, so a flood
 *     of half-open connections recycles its own slots instead of taking
 *     everyone's, and a client that sends its request at once is served;
 *   - nt_clients_gone: whether the peer of a waiting request (long-poll,
 *     event stream) has hung up, so its thread is released at once.
 *
 * The watchdog closes a connection by shutdown(2) on its socket; the
 * connection's own thread then sees the end of the stream and cleans up as
 * for any client that left.  The table is guarded by one mutex, which the
 * close notification also takes before libmicrohttpd closes the descriptor,
 * so a descriptor is never shut down after it was reused.
 */
#include "serve/serve.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef struct client_slot {
    bool used;
    bool headers_done; /* a request is being answered */
    int fd;
    int64_t since_ms;  /* opened, or its last request completed */
} client_slot;

struct nt_clients {
    pthread_mutex_t mu;
    client_slot *slots;
    int n_slots;
    int header_ms;
    int max_pending;
    uint64_t shut_down; /* connections closed by the guard (for tests/logs) */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

nt_clients *nt_clients_new(int n_slots, int header_ms, int max_pending)
{
    nt_clients *g = nt_calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->slots = nt_calloc((size_t)n_slots, sizeof *g->slots);
    if (!g->slots) {
        free(g);
        return NULL;
    }
    g->n_slots = n_slots;
    g->header_ms = header_ms;
    g->max_pending = max_pending;
    pthread_mutex_init(&g->mu, NULL);
    return g;
}

void nt_clients_free(nt_clients *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->mu);
    free(g->slots);
    free(g);
}

/* Shuts down the oldest connection still sending headers.  Under g->mu. */
static void shut_oldest_pending(nt_clients *g, const client_slot *except)
{
    client_slot *oldest = NULL;
    for (int i = 0; i < g->n_slots; i++) {
        client_slot *s = &g->slots[i];
        if (s->used && !s->headers_done && s != except && s->fd >= 0 && (!oldest || s->since_ms < oldest->since_ms))
            oldest = s;
    }
    if (oldest) {
        shutdown(oldest->fd, SHUT_RDWR);
        oldest->fd = -1; /* once only */
        g->shut_down++;
    }
}

void *nt_clients_opened(nt_clients *g, int fd)
{
    pthread_mutex_lock(&g->mu);
    client_slot *slot = NULL;
    int pending = 0;
    for (int i = 0; i < g->n_slots; i++) {
        client_slot *s = &g->slots[i];
        if (!s->used && !slot)
            slot = s;
        else if (s->used && !s->headers_done && s->fd >= 0)
            pending++;
    }
    if (slot) {
        *slot = (client_slot){true, false, fd, now_ms()};
        if (pending + 1 > g->max_pending)
            shut_oldest_pending(g, slot);
    } else {
        shutdown(fd, SHUT_RDWR); /* more connections than slots: cannot guard it, so refuse it */
        g->shut_down++;
    }
    pthread_mutex_unlock(&g->mu);
    return slot;
}

void nt_clients_closed(nt_clients *g, void *slot)
{
    if (!slot)
        return;
    pthread_mutex_lock(&g->mu);
    ((client_slot *)slot)->used = false;
    pthread_mutex_unlock(&g->mu);
}

void nt_clients_request(nt_clients *g, void *slot, bool started)
{
    if (!slot)
        return;
    pthread_mutex_lock(&g->mu);
    client_slot *s = slot;
    s->headers_done = started;
    s->since_ms = now_ms();
    pthread_mutex_unlock(&g->mu);
}

int nt_clients_sweep(nt_clients *g)
{
    int n = 0;
    int64_t now = now_ms();
    pthread_mutex_lock(&g->mu);
    for (int i = 0; i < g->n_slots; i++) {
        client_slot *s = &g->slots[i];
        if (s->used && !s->headers_done && s->fd >= 0 && now - s->since_ms > g->header_ms) {
            shutdown(s->fd, SHUT_RDWR);
            s->fd = -1;
            g->shut_down++;
            n++;
        }
    }
    pthread_mutex_unlock(&g->mu);
    return n;
}

bool nt_clients_gone(int fd)
{
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}
