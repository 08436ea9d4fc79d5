/*
 * serve.h — the dashboard server behind `nntrace serve DIR...`, split by
 * concept:
 *
 *   pathsafe.c    resolving a client-supplied relative path inside a run
 *                 directory (traversal, encoded variants and symlinks out
 *                 are refused)
 *   downsample.c  min/max bucketing of long scalar series
 *   jsonout.c     JSON helpers for the API (non-finite numbers as null, and
 *                 a sanitizer for files that contain bare NaN/Infinity)
 *   runindex.c    the run/tag index: run discovery under the given
 *                 directories and incremental reading of event files
 *   api.c         the JSON API over the index (runs, tags, scalars, ...)
 *   api_files.c   the API over the other files of a run directory (stats,
 *                 profile, graph, findings, eval, heatmaps, raw files)
 *   clients.c     the connection guard: header deadline, a cap on
 *                 half-open connections, noticing clients that left
 *   http.c        libmicrohttpd: routing, embedded assets, server-sent
 *                 events and long-poll
 *
 * The API layer does not know HTTP: a request is a path plus a query lookup,
 * a response is a status code, content type and body.  That keeps it
 * testable without sockets (tests/unit/test_serve.c).
 */
#ifndef NT_SERVE_H
#define NT_SERVE_H

#include "core/core.h"

#include <pthread.h>

/* ---------------------------------------------------------------- path safety */

/*
 * Resolves `rel` (a client-supplied path, already URL-decoded once) inside
 * the directory `root` and writes the canonical absolute path to out.
 * Refused (NT_ERR_INVALID_ARG): empty paths, absolute paths, NUL or control
 * characters, backslashes, '%' (an encoded variant that survived one
 * decoding), any "." or ".." component.  Then the path is canonicalized with
 * realpath and must lie strictly inside realpath(root): a symlink that
 * leads out is refused too (NT_ERR_INVALID_ARG).  A missing file is
 * NT_ERR_NOT_FOUND.
 */
nt_status nt_serve_safe_path(const char *root, const char *rel, char *out, size_t cap);

/* Opens `rel` below the run directory `dir` (canonical) for reading with
 * no gap between check and open (openat2 RESOLVE_BENEATH, or a walk with
 * O_NOFOLLOW on every component where openat2 is unavailable).  Returns the
 * descriptor, or -1 with errno: ENOENT/ENOTDIR missing, EXDEV refused (a
 * lexically bad path, or one that leads out of dir). */
int nt_serve_open_beneath(const char *dir, const char *rel);
/* Reads that file whole if it is a regular file of at most `cap` bytes
 * (checked with fstat on the opened descriptor).  NT_ERR_NOT_FOUND:
 * missing or not a regular file; NT_ERR_INVALID_ARG: refused path;
 * NT_ERR_UNSUPPORTED: larger than cap.  *data is NUL-terminated; caller frees. */
nt_status nt_serve_read_file(const char *dir, const char *rel, size_t cap, char **data, size_t *len);

/* True when `path` (canonical) equals `dir` (canonical) or lies below it. */
bool nt_serve_path_within(const char *dir, const char *path);

/* ---------------------------------------------------------------- downsampling */

/* A window of a series chosen for the client: indices into the source. */
typedef struct nt_ds_result {
    size_t *idx;      /* selected indices, ascending; malloc'd */
    size_t n;
    size_t in_range;  /* points of the source inside [x0, x1] */
    bool reduced;     /* true when fewer than in_range points were kept */
} nt_ds_result;

/*
 * Picks at most `max_points` (>= 1) indices of the series (x ascending) with
 * x in [x0, x1], keeping in every bucket of equal index width its first,
 * last, minimum and maximum points so spikes and the envelope survive
 * (NaN values count as extremes of their bucket so they stay visible);
 * below 5 points, evenly spaced points ending with the last.
 * Work is O(points in range) plus two binary searches.  Caller frees
 * r->idx.
 */
nt_status nt_downsample(const int64_t *x, const double *y, size_t n, int64_t x0, int64_t x1,
                        size_t max_points, nt_ds_result *r);

/* ---------------------------------------------------------------- JSON */

/* A number, or null for NaN/Inf (JSON has no such values). */
void nt_json_num(nt_buf *b, double v);
/* A wall time in seconds with millisecond digits, or null for NaN/Inf (an
 * event file may hold any double there). */
void nt_json_wall(nt_buf *b, double v);
/* Appends `text` with every bare NaN, Infinity and -Infinity token outside
 * string literals replaced by null, so browsers' JSON.parse accepts files
 * written by Python's json or nt_buf_json_double. */
void nt_json_sanitize(nt_buf *b, const char *text, size_t len);
/* True if text is one JSON value (RFC 8259) and nothing else but white
 * space, as a browser's JSON.parse reads it: bytes >= 0x80 inside strings
 * are accepted as they are, numbers of any size, \u escapes unpaired.
 * Nesting deeper than NT_JSON_MAX_DEPTH is refused. */
#define NT_JSON_MAX_DEPTH 4096
bool nt_json_valid(const char *text, size_t len);

/* ---------------------------------------------------------------- index */

typedef struct nt_index nt_index;

/* Limits that keep memory and per-request work bounded. */
#define NT_INDEX_MAX_RUNS 512
#define NT_INDEX_MAX_DEPTH 4          /* directory levels searched for runs below a root */
#define NT_INDEX_MAX_TAGS 4096        /* per run and kind */
#define NT_INDEX_MAX_SCALARS 20000000 /* per tag; older points are thinned beyond it */
#define NT_INDEX_MAX_HISTOS 2000      /* per tag; thinned beyond it */
#define NT_INDEX_MAX_IMAGES 24        /* per tag, the latest kept */
#define NT_INDEX_MAX_TEXTS 200        /* per tag, the latest kept */
#define NT_INDEX_RECORDS_PER_POLL 200000 /* per file per poll: a huge file loads over several polls */
#define NT_INDEX_POLL_MS 250          /* per file per poll, the same purpose */
#define NT_INDEX_MAX_RECORD (64u << 20) /* larger records are skipped unread */
#define NT_INDEX_MAX_TEXT (256u << 10) /* a longer text is kept cut to this */
#define NT_INDEX_MAX_IMAGE (16u << 20) /* a larger image is not kept */
#define NT_INDEX_MAX_BLOB_BYTES (256u << 20) /* images and texts kept per run */

/* Creates an index over the given directories (canonicalized; each must
 * exist).  Nothing is read until nt_index_poll. */
nt_status nt_index_new(int n_dirs, char *const *dirs, nt_index **out);
void nt_index_free(nt_index *ix);

/* Rescans the directories for runs and reads what was appended to every
 * event file since the last poll (bounded per file; *more is set when a
 * file still has unread records so the caller polls again soon).  Bumps the
 * version and wakes waiters when anything changed. */
nt_status nt_index_poll(nt_index *ix, bool *more);

/* Current version (changes whenever runs, tags, points or run files change). */
uint64_t nt_index_version(nt_index *ix);

/* Waits until the version differs from `since`, at most timeout_ms, or
 * until nt_index_wake_all; returns the current version. */
uint64_t nt_index_wait(nt_index *ix, uint64_t since, int timeout_ms);
/* Wakes every waiter and makes later waits return at once (shutdown). */
void nt_index_wake_all(nt_index *ix);
bool nt_index_stopping(nt_index *ix);

/* Read access for the API: the index is locked for reading between these. */
void nt_index_rdlock(nt_index *ix);
void nt_index_unlock(nt_index *ix);

/* ---- the index's data (read under nt_index_rdlock) */

typedef struct nt_scalar_series {
    char *tag;
    size_t n, cap;
    int64_t *steps;  /* ascending (equal steps in arrival order) */
    double *wall;
    double *values;
    /* Points that arrived with an earlier step than the last one (a
     * restarted program, files read in another order): gathered here and
     * merged in once per slice of records, sorted, so out-of-order input
     * costs n log n instead of a shift per point.  Not shown until merged. */
    size_t pn, pcap;
    int64_t *psteps;
    double *pwall;
    double *pvalues;
} nt_scalar_series;

typedef struct nt_histo_point {
    int64_t step;
    double wall;
    double min, max, num, sum, sum_squares;
    int n_buckets;
    double *limits;   /* n_buckets right edges */
    double *counts;
} nt_histo_point;

typedef struct nt_histo_series {
    char *tag;
    size_t n, cap;
    nt_histo_point *pts;
} nt_histo_series;

typedef struct nt_blob_point {
    int64_t step;
    double wall;
    int width, height;   /* images */
    uint8_t *data;       /* image bytes (PNG) or text (NUL-terminated) */
    size_t len;
} nt_blob_point;

typedef struct nt_blob_series {
    char *tag;
    size_t n, cap;
    nt_blob_point *pts;
    uint64_t total;      /* points seen, including those dropped */
} nt_blob_series;

typedef struct nt_run {
    char *name;          /* unique, stable: "<root basename>[/<subdir>]" */
    char *dir;           /* canonical path */
    int root;            /* index of the directory it was found under */
    nt_scalar_series *scalars;
    int n_scalars, cap_scalars;
    nt_histo_series *histos;
    int n_histos, cap_histos;
    nt_blob_series *images;
    int n_images, cap_images;
    nt_blob_series *texts;
    int n_texts, cap_texts;
    uint8_t *graph_def;  /* latest GraphDef seen, or NULL */
    size_t graph_def_len;
    double first_wall, last_wall;
    uint64_t records, bad_records;
    uint64_t blob_bytes;  /* bytes of images and texts kept */
    uint64_t skipped;     /* records, images, texts not kept (too large) */
    bool truncated;      /* an event file ends in an incomplete record (being written) */
    char problem[256];
    uint64_t version;    /* index version of this run's last change */
    uint64_t files_sig;  /* signature (sizes, mtimes) of the run's other files */
    int ordinal;         /* order of discovery (stable: the run's colour) */
    int state;           /* nt_rundir_state of run.json: complete, running, failed, ... */
    char state_why[256]; /* the reader's sentence when not complete */
    struct nt_evfile *files;
    int n_files, cap_files;
    bool seen;           /* found by the current scan */
} nt_run;

/* A directory the last scan did not index, and why (a symlink, hidden,
 * unreadable, too deep, over the run limit). */
typedef struct nt_skipped {
    char dir[512];
    char why[160];
} nt_skipped;
#define NT_INDEX_MAX_SKIPPED 200
/* The skipped directories of the last scan.  Borrowed under the read lock. */
int nt_index_skipped(nt_index *ix, const nt_skipped **out);

/* The runs, in a stable order (by name).  Borrowed under the read lock. */
int nt_index_run_count(nt_index *ix);
nt_run *nt_index_run_at(nt_index *ix, int i);
nt_run *nt_index_find_run(nt_index *ix, const char *name);

/* ---------------------------------------------------------------- API */

typedef const char *(*nt_query_fn)(void *ctx, const char *key);

typedef struct nt_api_response {
    int status;               /* HTTP status */
    const char *content_type; /* static string */
    nt_buf body;
    bool sandbox;             /* add a CSP sandbox header (SVG and other active content) */
} nt_api_response;

/*
 * Answers a GET of `path` (beginning "/api/") with query parameters from
 * `q(ctx, key)`.  Never fails: errors become 4xx/5xx responses with a JSON
 * body {"error": MESSAGE}.  Work per request is bounded (downsampling,
 * size caps on files read).  The caller deinits r->body.
 */
void nt_api_handle(nt_index *ix, const char *path, nt_query_fn q, void *ctx, nt_api_response *r);

/* Sets r to an error response. */
void nt_api_error(nt_api_response *r, int status, const char *fmt, ...) NT_PRINTF(3, 4);

/* Handlers over run files (api_files.c); the run is looked up by the caller
 * under the read lock and its directory copied into `dir`. */
void nt_api_stats(const char *dir, nt_api_response *r);
void nt_api_profile(const char *dir, nt_api_response *r);
void nt_api_json_file(const char *dir, const char *name, nt_api_response *r);
void nt_api_heatmap(const char *dir, const char *rel, nt_query_fn q, void *ctx, nt_api_response *r);
void nt_api_raw_file(const char *dir, const char *rel, nt_api_response *r);
void nt_api_artifacts(const char *dir, nt_api_response *r);
/* Decodes a GraphDef (TensorFlow) into {"nodes":[{"name","op","inputs"}]}. */
nt_status nt_graphdef_to_json(const uint8_t *data, size_t len, nt_buf *out);

/* Content type for a file name by extension ("application/octet-stream" if unknown). */
const char *nt_serve_content_type(const char *name);

/* Largest run file the API reads into memory. */
#define NT_SERVE_MAX_FILE (256u << 20)

/* ---------------------------------------------------------------- connection guard */

/* How long a client may take to send its request headers, how many
 * connections may be sending headers at once (the oldest beyond that is
 * closed), how long a keep-alive or stalled connection may stay idle, and
 * how many connections one address may hold. */
#define NT_SERVE_HEADER_MS 10000
#define NT_SERVE_MAX_PENDING 64
#define NT_SERVE_IDLE_S 30
#define NT_SERVE_MAX_CONNECTIONS 1024
#define NT_SERVE_PER_IP_LIMIT 512
/* Memory per connection for the request line and headers (libmicrohttpd's
 * pool: its 32 KB default ran out at about 500 query parameters and the
 * connection was closed without an answer), and the most query parameters
 * a request may carry (the API uses at most six). */
#define NT_SERVE_CONN_MEMORY (128u << 10)
#define NT_SERVE_MAX_QUERY_ARGS 64

typedef struct nt_clients nt_clients;

nt_clients *nt_clients_new(int n_slots, int header_ms, int max_pending);
void nt_clients_free(nt_clients *g);
/* A connection on socket fd opened; returns its slot (NULL when the table
 * is full: the connection was shut down).  May shut down the oldest
 * connection still sending headers. */
void *nt_clients_opened(nt_clients *g, int fd);
/* The connection is closing (before its descriptor is closed). */
void nt_clients_closed(nt_clients *g, void *slot);
/* A request's headers arrived (started = true), or it was answered and the
 * connection waits for the next one (false: the header deadline restarts). */
void nt_clients_request(nt_clients *g, void *slot, bool started);
/* Shuts down connections past the header deadline; returns how many. */
int nt_clients_sweep(nt_clients *g);
/* True when the peer of socket fd has hung up or the socket failed. */
bool nt_clients_gone(int fd);

/* ---------------------------------------------------------------- server */

/* One embedded front-end file (the table scripts/embed.sh generates). */
typedef struct {
    const char *path;
    const unsigned char *data;
    size_t len;
} nt_serve_asset;

typedef struct nt_server_options {
    const char *host;             /* "127.0.0.1" by default */
    int port;                     /* 0 picks a free port */
    const nt_serve_asset *assets; /* NULL-path-terminated table, may be NULL */
    int poll_ms;                  /* index refresh period, default 1000 */
    int max_clients;              /* connection limit, default NT_SERVE_MAX_CONNECTIONS */
    int per_ip_limit;             /* connections per client address, default NT_SERVE_PER_IP_LIMIT */
    int header_ms;                /* header deadline, default NT_SERVE_HEADER_MS */
    int max_pending;              /* connections sending headers, default NT_SERVE_MAX_PENDING */
    int idle_s;                   /* idle timeout, default NT_SERVE_IDLE_S */
} nt_server_options;

typedef struct nt_server nt_server;

/* Starts serving (a listening thread, a thread per connection and a poller
 * thread that refreshes the index).  The index is borrowed. */
nt_status nt_server_start(nt_index *ix, const nt_server_options *opt, nt_server **out);
/* The port actually bound. */
int nt_server_port(const nt_server *s);
/* Stops the threads and frees the server (not the index). */
void nt_server_stop(nt_server *s);

/* The request-parsing steps of http.c that see attacker bytes, exposed so
 * tests/fuzz/fuzz_http.c drives exactly what the server runs:
 *
 * Percent-decodes s in place (the URL path, and every query key and value
 * after libmicrohttpd split them), as libmicrohttpd's own decoding but with
 * an encoded NUL turned into 0x01 instead of ending the string early
 * ("/app.js%00.html" would otherwise be "/app.js"): every later check
 * refuses control characters, so such a request matches nothing.  Returns
 * the new length. */
size_t nt_serve_unescape(char *s);
/* The DNS-rebinding check of a loopback-bound server: true when the Host
 * header (NULL: absent) names this machine (localhost, 127.x, [::1]), with
 * or without a port. */
bool nt_serve_host_allowed(const char *host);

#endif /* NT_SERVE_H */
