/*
 * http.c — the dashboard's HTTP side on libmicrohttpd: routing, the front
 * end embedded into the binary, server-sent events for live updates, and
 * the poller thread that keeps the run index fresh.
 *
 * libmicrohttpd runs a thread per connection here.  That makes the two
 * waiting endpoints (the event stream and the long-poll) simple blocking
 * code that cannot hold up other clients, and a connection limit bounds the
 * threads.  Requests only read the index (under its read lock) and do
 * bounded work, so many clients are served at once; a slow or hostile
 * client ties up only its own thread until the idle timeout.
 *
 * Hardening beyond pathsafe.c: only GET and HEAD; static files come from
 * the embedded table, never the file system; when bound to loopback,
 * requests whose Host header names another host are refused (DNS
 * rebinding); every response carries nosniff, and pages a strict Content
 * Security Policy that also guarantees nothing is loaded from the network.
 */
#include "serve/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct nt_server {
    struct MHD_Daemon *daemon;
    nt_index *ix;
    nt_server_options opt;
    bool loopback;
    int port;
    pthread_t poller, watchdog;
    bool poller_started, watchdog_started;
    nt_clients *clients;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool stop;
};

#define PAGE_CSP                                                                                            \
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " \
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'"
#define SANDBOX_CSP "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"

/* ---------------------------------------------------------------- poller */

static void *poller_main(void *arg)
{
    nt_server *s = arg;
    for (;;) {
        bool more = false;
        nt_index_poll(s->ix, &more);
        pthread_mutex_lock(&s->mu);
        if (!s->stop) {
            /* Straight on while a big file is still loading. */
            int ms = more ? 20 : s->opt.poll_ms;
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_sec += ms / 1000;
            until.tv_nsec += (long)(ms % 1000) * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            while (!s->stop)
                if (pthread_cond_timedwait(&s->cond, &s->mu, &until) == ETIMEDOUT)
                    break;
        }
        bool stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            return NULL;
    }
}

/* Every half second: connections past their header deadline are closed. */
static void *watchdog_main(void *arg)
{
    nt_server *s = arg;
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += 500000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cond, &s->mu, &until);
        if (s->stop)
            break;
        pthread_mutex_unlock(&s->mu);
        nt_clients_sweep(s->clients);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---------------------------------------------------------------- connections */

static int connection_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    nt_server *s = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        *socket_context = nt_clients_opened(s->clients, connection_fd(c));
    else if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
        nt_clients_closed(s->clients, *socket_context);
}

static void *socket_slot(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* Marks a request answered by on_uri: on_request must not answer it again. */
static char answered_early;

/* libmicrohttpd calls this with the request's URI before it splits the
 * query into parameters.  Thousands of parameters exhaust the connection's
 * memory pool while it does that, and it then closes the connection with no
 * answer (no room is left for one).  A URI with more parameters than any
 * endpoint takes is therefore answered here, on the socket itself, with 414
 * and "Connection: close", before that parse can run out. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    const char *q = uri ? strchr(uri, '?') : NULL;
    if (!q)
        return NULL;
    int n = 1;
    for (const char *p = q + 1; *p && *p != '#' && n <= NT_SERVE_MAX_QUERY_ARGS; p++)
        n += *p == '&';
    if (n <= NT_SERVE_MAX_QUERY_ARGS)
        return NULL;
    static const char body[] = "{\"error\": \"too many query parameters\"}\n";
    char resp[512];
    int len = snprintf(resp, sizeof resp,
                       "HTTP/1.1 414 URI Too Long\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                       "X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
                       sizeof body - 1, body);
    int fd = connection_fd(c);
    if (fd >= 0 && len > 0) /* a few hundred bytes: the socket buffer takes them at once */
        (void)send(fd, resp, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
    return &answered_early;
}

/* A request was answered: the connection may wait for the next one, under
 * the header deadline again. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    nt_server *s = cls;
    (void)con_cls;
    (void)toe;
    nt_clients_request(s->clients, socket_slot(c), false);
}

/* Waits (on this connection's own thread) until the index version differs
 * from `since` or timeout_ms pass, in half-second slices so a client that
 * hung up releases the thread within half a second.  *gone tells which. */
static uint64_t wait_connected(nt_server *s, int fd, uint64_t since, int timeout_ms, bool *gone)
{
    *gone = false;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long long spent = (long long)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        long long left = timeout_ms - spent;
        if (left <= 0)
            return nt_index_version(s->ix);
        uint64_t v = nt_index_wait(s->ix, since, left < 500 ? (int)left : 500);
        if (v != since || nt_index_stopping(s->ix))
            return v;
        if (nt_clients_gone(fd)) {
            *gone = true;
            return v;
        }
    }
}

/* ---------------------------------------------------------------- responses */

static enum MHD_Result send_buffer(struct MHD_Connection *c, int status, const char *type, nt_buf *body,
                                   bool is_page, bool sandbox, bool no_store)
{
    struct MHD_Response *resp;
    if (body && body->len && body->data) {
        resp = MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_FREE);
        if (resp)
            nt_buf_init(body); /* ownership moved to libmicrohttpd */
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cache-Control", no_store ? "no-store" : "no-cache");
    if (sandbox)
        MHD_add_response_header(resp, "Content-Security-Policy", SANDBOX_CSP);
    else if (is_page)
        MHD_add_response_header(resp, "Content-Security-Policy", PAGE_CSP);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, int status, const char *msg)
{
    nt_buf b;
    nt_buf_init(&b);
    nt_buf_puts(&b, "{\"error\": ");
    nt_buf_json_string(&b, msg);
    nt_buf_puts(&b, "}\n");
    enum MHD_Result r = send_buffer(c, status, "application/json", &b, false, false, true);
    nt_buf_deinit(&b);
    return r;
}

static enum MHD_Result send_asset(nt_server *s, struct MHD_Connection *c, const char *url)
{
    if (strcmp(url, "/") == 0)
        url = "/index.html";
    for (const nt_serve_asset *a = s->opt.assets; a && a->path; a++) {
        if (strcmp(a->path, url) != 0)
            continue;
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        const char *type = nt_serve_content_type(a->path);
        MHD_add_response_header(resp, "Content-Type", type);
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(resp, "Cache-Control", "no-cache");
        if (strstr(type, "html"))
            MHD_add_response_header(resp, "Content-Security-Policy", PAGE_CSP);
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    return send_error(c, 404, "not found");
}

/* ---------------------------------------------------------------- server-sent events */

typedef struct sse_state {
    nt_server *s;
    uint64_t version;
    bool started;
    int fd;
} sse_state;

/* Blocks (this connection's own thread) until the index changes or 15 s
 * pass, then emits a "version" event or a keep-alive comment. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    sse_state *st = cls;
    if (max < 128)
        return 0;
    if (!st->started) {
        st->started = true;
        st->version = nt_index_version(st->s->ix);
        return snprintf(buf, max, "retry: 1000\nevent: version\ndata: {\"version\": %llu}\n\n",
                        (unsigned long long)st->version);
    }
    bool gone;
    uint64_t v = wait_connected(st->s, st->fd, st->version, 15000, &gone);
    if (gone)
        return MHD_CONTENT_READER_END_WITH_ERROR; /* the client left: release the thread now */
    if (nt_index_stopping(st->s->ix))
        return MHD_CONTENT_READER_END_OF_STREAM;
    if (v == st->version)
        return snprintf(buf, max, ": keep-alive\n\n");
    st->version = v;
    return snprintf(buf, max, "event: version\ndata: {\"version\": %llu}\n\n", (unsigned long long)v);
}

static void sse_free(void *cls) { free(cls); }

static enum MHD_Result send_stream(nt_server *s, struct MHD_Connection *c)
{
    sse_state *st = nt_calloc(1, sizeof *st);
    if (!st)
        return send_error(c, 503, "out of memory");
    st->s = s;
    st->fd = connection_fd(c);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, sse_read, st, sse_free);
    if (!resp) {
        free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---------------------------------------------------------------- routing */

bool nt_serve_host_allowed(const char *host)
{
    if (!host)
        return true;
    char name[256];
    snprintf(name, sizeof name, "%s", host);
    char *colon = name[0] == '[' ? strchr(name, ']') : strrchr(name, ':');
    if (name[0] == '[' && colon)
        colon[1] = '\0';
    else if (colon)
        *colon = '\0';
    /* An address literal, not a prefix: "127.attacker.example" is a DNS
     * name the attacker controls and exactly what rebinding uses. */
    struct in_addr a4;
    if (inet_pton(AF_INET, name, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return strcasecmp(name, "localhost") == 0 || strcmp(name, "[::1]") == 0;
}

/* With a loopback bind, a Host header naming anything but this machine is
 * a page elsewhere reaching in through DNS rebinding. */
static bool host_ok(nt_server *s, struct MHD_Connection *c)
{
    if (!s->loopback)
        return true;
    return nt_serve_host_allowed(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"));
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static const char *query_get(void *ctx, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)ctx, MHD_GET_ARGUMENT_KIND, key);
}

size_t nt_serve_unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
            char v = (char)(hi * 16 + lo);
            *w++ = v ? v : '\x01';
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* libmicrohttpd's unescape callback: the path and every query key and
 * value go through nt_serve_unescape. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return nt_serve_unescape(s);
}

/* /api/poll?since=V[&timeout=S]: the long-poll, answered here rather than
 * in api.c because it must notice a client that leaves while it waits. */
static enum MHD_Result send_poll(nt_server *s, struct MHD_Connection *c)
{
    const char *ts = query_get(c, "timeout");
    long t = 25;
    if (ts && *ts) {
        char *end;
        long v = strtol(ts, &end, 10);
        if (!*end)
            t = v < 0 ? 0 : v > 60 ? 60 : v;
    }
    /* Answer well inside the idle timeout, which counts the wait as idle. */
    if (t > s->opt.idle_s - 5)
        t = s->opt.idle_s > 5 ? s->opt.idle_s - 5 : 1;
    bool gone;
    uint64_t v = wait_connected(s, connection_fd(c), strtoull(query_get(c, "since"), NULL, 10), (int)t * 1000,
                                &gone);
    if (gone)
        return MHD_NO; /* nobody to answer: close the connection */
    nt_buf b;
    nt_buf_init(&b);
    nt_buf_printf(&b, "{\"version\": %llu}\n", (unsigned long long)v);
    enum MHD_Result r = send_buffer(c, 200, "application/json", &b, false, false, true);
    nt_buf_deinit(&b);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    nt_server *s = cls;
    (void)version;
    (void)upload;
    if (*con_cls == &answered_early)
        return MHD_NO; /* 414 sent by on_uri: close */
    if (!*con_cls) {
        /* First call: the headers are complete; the deadline no longer applies. */
        static char marker;
        *con_cls = &marker;
        nt_clients_request(s->clients, socket_slot(c), true);
    }
    if (*upload_size) {
        *upload_size = 0; /* a body on a GET is ignored */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return send_error(c, 405, "only GET and HEAD");
    if (!host_ok(s, c))
        return send_error(c, 403, "unexpected Host header");
    if (!url || url[0] != '/')
        return send_error(c, 400, "bad request");
    if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL, NULL) > NT_SERVE_MAX_QUERY_ARGS)
        return send_error(c, 414, "too many query parameters");
    if (strcmp(url, "/api/stream") == 0)
        return send_stream(s, c);
    if (strcmp(url, "/api/poll") == 0 && query_get(c, "since"))
        return send_poll(s, c);
    if (strncmp(url, "/api/", 5) == 0) {
        nt_api_response r;
        memset(&r, 0, sizeof r);
        nt_buf_init(&r.body);
        nt_api_handle(s->ix, url, query_get, c, &r);
        bool json = strcmp(r.content_type, "application/json") == 0;
        enum MHD_Result ret = send_buffer(c, r.status, r.content_type, &r.body, false, r.sandbox, json);
        nt_buf_deinit(&r.body);
        return ret;
    }
    return send_asset(s, c, url);
}

/* ---------------------------------------------------------------- start, stop */

nt_status nt_server_start(nt_index *ix, const nt_server_options *opt, nt_server **out)
{
    *out = NULL;
    nt_server *s = nt_calloc(1, sizeof *s);
    if (!s)
        return NT_ERR_NOMEM;
    s->ix = ix;
    s->opt = *opt;
    if (!s->opt.host)
        s->opt.host = "127.0.0.1";
    if (s->opt.poll_ms <= 0)
        s->opt.poll_ms = 1000;
    if (s->opt.max_clients <= 0)
        s->opt.max_clients = NT_SERVE_MAX_CONNECTIONS;
    if (s->opt.per_ip_limit <= 0)
        s->opt.per_ip_limit = NT_SERVE_PER_IP_LIMIT;
    if (s->opt.header_ms <= 0)
        s->opt.header_ms = NT_SERVE_HEADER_MS;
    if (s->opt.max_pending <= 0)
        s->opt.max_pending = NT_SERVE_MAX_PENDING;
    if (s->opt.idle_s <= 0)
        s->opt.idle_s = NT_SERVE_IDLE_S;
    s->clients = nt_clients_new(s->opt.max_clients, s->opt.header_ms, s->opt.max_pending);
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (!s->clients) {
        nt_server_stop(s);
        return NT_ERR_NOMEM;
    }

    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int gai = getaddrinfo(s->opt.host, NULL, &hints, &ai);
    if (gai != 0 || !ai) {
        nt_server_stop(s);
        return nt_error(NT_ERR_INVALID_ARG, "cannot resolve host '%s': %s", opt->host ? opt->host : "",
                        gai_strerror(gai));
    }
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (addr.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
        a6->sin6_port = htons((uint16_t)s->opt.port);
        s->loopback = IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr);
        flags |= MHD_USE_IPv6;
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
        a4->sin_port = htons((uint16_t)s->opt.port);
        s->loopback = (ntohl(a4->sin_addr.s_addr) >> 24) == 127;
    }
    freeaddrinfo(ai);

    pthread_mutex_lock(&s->mu);
    if (pthread_create(&s->poller, NULL, poller_main, s) == 0)
        s->poller_started = true;
    if (pthread_create(&s->watchdog, NULL, watchdog_main, s) == 0)
        s->watchdog_started = true;
    pthread_mutex_unlock(&s->mu);
    if (!s->poller_started || !s->watchdog_started) {
        nt_server_stop(s);
        return nt_error(NT_ERR_INTERNAL, "cannot start the poller thread");
    }
    /* No address reuse: a second server on a busy port must fail to bind,
     * not share the port (SO_REUSEPORT) with the first. */
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)s->opt.port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->opt.max_clients, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)s->opt.per_ip_limit, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->opt.idle_s,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512u << 10), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)NT_SERVE_CONN_MEMORY, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)0,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_END);
    if (!s->daemon) {
        int err = errno;
        nt_server_stop(s);
        return nt_error(NT_ERR_IO, "cannot listen on %s:%d: %s", opt->host ? opt->host : "127.0.0.1", opt->port,
                        err ? strerror(err) : "libmicrohttpd refused");
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : s->opt.port;
    *out = s;
    return NT_OK;
}

int nt_server_port(const nt_server *s) { return s ? s->port : 0; }

void nt_server_stop(nt_server *s)
{
    if (!s)
        return;
    /* Waiters (event streams, long-polls) return first, so libmicrohttpd's
     * connection threads can be joined. */
    nt_index_wake_all(s->ix);
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    if (s->poller_started)
        pthread_join(s->poller, NULL);
    if (s->watchdog_started)
        pthread_join(s->watchdog, NULL);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    nt_clients_free(s->clients);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cond);
    free(s);
}
