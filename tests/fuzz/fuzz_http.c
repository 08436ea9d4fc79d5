/*
 * fuzz_http.c — libFuzzer harness for the dashboard server's request
 * handling (`nntrace serve`): what a client controls is the request target
 * (path and query string) and the Host header, and this drives both
 * through the same code the libmicrohttpd callback in src/serve/http.c runs,
 * without sockets:
 *
 *   line 1  the request target, e.g. "/api/file?run=logs/exp1&path=notes.txt":
 *           split at the first '?', the path percent-decoded with
 *           nt_serve_unescape, the query split on '&' and '=' with '+' as
 *           space and each key and value decoded (libmicrohttpd's rules),
 *           then nt_api_handle over a fixed index;
 *   line 2  (optional) a Host header value for nt_serve_host_allowed.
 *
 * The index is built once, at start-up, over a small tree made in /tmp:
 * two served roots with three runs (event files with scalars, histograms,
 * an image, text and a graph; stats.jsonl, profile.json, findings.json and
 * the other run files; .npy maps; a FIFO) and, beside the roots, "secret"
 * files that symlinks inside the runs point at.  The index is then told to
 * stop, so a long-poll returns at once.
 *
 * Invariants (a failure aborts, so libFuzzer reports it):
 *  - no crash, leak or sanitizer report, no hang (the FIFO must not be read);
 *  - a response is produced: an HTTP status 200..599, a content type, a body
 *    that did not run out of memory; errors are {"error": ...};
 *  - no response carries a byte of a file outside the served roots (the
 *    secret markers), and a file served by /api/file lies, after realpath,
 *    inside its run's directory and has exactly that file's bytes; the same
 *    for the run file behind every other file route that answers 200;
 *  - every JSON answer parses (when the request is ASCII: error messages
 *    quote the request, and non-UTF-8 bytes pass through);
 *  - the Host check accepts only localhost, [::1] and 127.x.y.z literals.
 *
 *   make build-fuzz/fuzz_http
 *   build-fuzz/fuzz_http -max_total_time=300 -jobs=1 tests/fuzz/corpus/http
 */
#include "serve/serve.h"
#include "onnx/writer.h"
#include "trace/tfevents.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET_TEXT "NT-FUZZ-SECRET-7f3a9c"
/* A value only the .npy outside the roots holds: a heatmap of it leaks it. */
#define SECRET_VALUE 31337.25

static char base[PATH_MAX];        /* the temporary tree */
static char roots[2][PATH_MAX];    /* canonical served directories */
static nt_index *ix;

/* ---------------------------------------------------------------- fixture */

/* base/rel into p, with the directories leading to it made. */
static void fixture_path(const char *rel, char *p, size_t cap)
{
    snprintf(p, cap, "%s/%s", base, rel);
    char dir[PATH_MAX * 2];
    snprintf(dir, sizeof dir, "%s", p);
    *strrchr(dir, '/') = '\0';
    NT_ASSERT(nt_mkdirs(dir) == NT_OK);
}

static void put_file(const char *rel, const void *data, size_t len)
{
    char p[PATH_MAX * 2];
    fixture_path(rel, p, sizeof p);
    FILE *f = fopen(p, "wb");
    NT_ASSERT(f && fwrite(data, 1, len, f) == len && fclose(f) == 0);
}

static void put_text(const char *rel, const char *text) { put_file(rel, text, strlen(text)); }

static void put_link(const char *rel, const char *target)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    NT_ASSERT(symlink(target, p) == 0);
}

static void put_npy(const char *rel, int ndim, const int64_t *dims, double fill_base)
{
    nt_tensor *t;
    NT_ASSERT(nt_tensor_new(NT_DTYPE_FLOAT, ndim, dims, &t) == NT_OK);
    int64_t n = nt_tensor_numel(t);
    for (int64_t i = 0; i < n; i++)
        nt_tensor_set_f64(t, i, fill_base + (double)(i % 7));
    if (n > 3)
        nt_tensor_set_f64(t, 3, NAN);
    char p[PATH_MAX * 2];
    fixture_path(rel, p, sizeof p);
    NT_ASSERT(nt_tensor_save(p, t) == NT_OK);
    nt_tensor_free(t);
}

/* A two-node model, for the GraphDef the event file carries. */
static void write_graph(nt_writer *w)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t dims[2] = {2, 3};
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, dims, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, dims, NULL);
    const char *in[1] = {"x"}, *mid[1] = {"r"}, *out[1] = {"y"};
    nt_onnx_builder_add_node(b, "Relu", "relu \"1\"", 1, in, 1, mid);
    nt_onnx_builder_add_node(b, "Neg", "neg", 1, mid, 1, out);
    nt_buf buf;
    nt_buf_init(&buf);
    NT_ASSERT(nt_onnx_builder_encode(b, &buf) == NT_OK);
    nt_onnx_builder_free(b);
    nt_model *m;
    NT_ASSERT(nt_model_load_buffer(buf.data, buf.len, "graph", &m) == NT_OK);
    NT_ASSERT(nt_writer_graph(w, m) == NT_OK);
    nt_model_free(m);
    nt_buf_deinit(&buf);
}

static void write_events(const char *rel)
{
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/%s", base, rel);
    NT_ASSERT(nt_mkdirs(p) == NT_OK);
    nt_writer *w;
    NT_ASSERT(nt_writer_open(p, &w) == NT_OK);
    for (int i = 0; i < 40; i++) {
        NT_ASSERT(nt_writer_scalar(w, "loss/train", i, 1.0 / (1 + i)) == NT_OK);
        NT_ASSERT(nt_writer_scalar(w, "loss/val", i, i < 15 ? 1.0 / (1 + i) : 0.1 + 0.01 * i) == NT_OK);
        NT_ASSERT(nt_writer_scalar(w, "accuracy/train", i, 1.0 - 1.0 / (2 + i)) == NT_OK);
        NT_ASSERT(nt_writer_scalar(w, "accuracy/val", i, i == 7 ? NAN : 0.5) == NT_OK);
    }
    NT_ASSERT(nt_writer_scalar(w, "odd \"tag\"\x01\\", 0, INFINITY) == NT_OK);
    float vals[64];
    for (int i = 0; i < 64; i++)
        vals[i] = (float)(i - 20) / 8.0f;
    for (int s = 0; s < 5; s++)
        NT_ASSERT(nt_writer_histogram(w, "weights/w1", s, vals, 64) == NT_OK);
    NT_ASSERT(nt_writer_histogram(w, "weights/empty", 0, vals, 0) == NT_OK);
    uint8_t px[3 * 4 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 20);
    NT_ASSERT(nt_writer_image(w, "regions", 1, px, 3, 4, 3) == NT_OK);
    NT_ASSERT(nt_writer_image(w, "regions", 2, px, 3, 4, 3) == NT_OK);
    NT_ASSERT(nt_writer_text(w, "notes", 1, "hello <b>\"dashboard\"</b>\n") == NT_OK);
    write_graph(w);
    NT_ASSERT(nt_writer_close(w) == NT_OK);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path); /* best effort: go on with the rest */
    return 0;
}

/* The tree goes when the fuzzer exits normally (a crash leaves it for
 * reproducing). */
static void remove_tree(void)
{
    if (base[0])
        nftw(base, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_tree(void)
{
    snprintf(base, sizeof base, "/tmp/nt-fuzz-http-XXXXXX");
    NT_ASSERT(mkdtemp(base) != NULL);
    atexit(remove_tree);
    /* Outside the served roots. */
    put_text("secret.txt", SECRET_TEXT " (a file beside the roots)\n");
    put_text("outside/secret.json", "{\"secret\": \"" SECRET_TEXT "\"}\n");
    put_text("outside/stats.jsonl", "{\"node\": \"" SECRET_TEXT "\"}\n");
    int64_t one[2] = {1, 1};
    {
        nt_tensor *t;
        NT_ASSERT(nt_tensor_new(NT_DTYPE_FLOAT, 2, one, &t) == NT_OK);
        nt_tensor_set_f64(t, 0, SECRET_VALUE);
        char p[PATH_MAX * 2];
        fixture_path("outside/map.npy", p, sizeof p);
        NT_ASSERT(nt_tensor_save(p, t) == NT_OK);
        nt_tensor_free(t);
    }

    /* Root 1: logs/, runs logs/exp1 (events and every run file) and
     * logs/exp2 (run.json, fixed names that are symlinks leading out). */
    write_events("logs/exp1");
    put_text("logs/exp1/run.json", "{\"model\": \"m.onnx\", \"nodes\": 2, \"wall\": NaN}\n");
    put_text("logs/exp1/stats.jsonl",
             "{\"node\": \"relu\", \"op\": \"Relu\", \"output\": \"r\", \"min\": 0, \"max\": Infinity, \"nan\": 0}\n"
             "  {\"node\": \"neg\", \"op\": \"Neg\", \"output\": \"y\", \"min\": -Infinity, \"max\": NaN, \"std\": -NaN}\r\n"
             "\n"
             "{\"node\": \"half");
    put_text("logs/exp1/profile.json",
             "{\"traceEvents\": [{\"ph\": \"X\", \"name\": \"relu\", \"cat\": \"Relu\", \"dur\": 12.5},"
             " {\"ph\": \"X\", \"name\": \"neg\", \"dur\": NaN}, {\"ph\": \"X\", \"name\": \"relu\", \"dur\": 3},"
             " {\"ph\": \"B\", \"name\": \"x\"}, {\"name\": 5}]}\n");
    put_text("logs/exp1/findings.json", "{\"findings\": [{\"kind\": \"nan\", \"detail\": NaN, \"at\": \"Infinity\"}]}\n");
    put_text("logs/exp1/report.json", "{\"summary\": {\"max\": -Infinity}}\n");
    put_text("logs/exp1/eval.json", "{\"accuracy\": 0.5, \"curve\": [1, NaN, 2]}\n");
    put_text("logs/exp1/graph.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>x()</script></svg>\n");
    put_text("logs/exp1/graph.html", "<html><body>graph</body></html>\n");
    put_text("logs/exp1/notes.txt", "plain notes\n");
    put_text("logs/exp1/sub dir/a b.csv", "a,b\n1,2\n");
    put_text("logs/exp1/.hidden.txt", "hidden but inside\n");
    put_text("logs/exp1/tensors/index.json",
             "{\"tensors\": [{\"node\": \"relu\", \"op\": \"Relu\", \"output\": \"r\", \"file\": \"t0.npy\", "
             "\"role\": \"output\", \"run\": 0}]}\n");
    int64_t d2[2] = {5, 9}, d3[3] = {3, 4, 6}, d0[1] = {0};
    put_npy("logs/exp1/tensors/t0.npy", 2, d2, 0.5);
    put_npy("logs/exp1/maps/occlusion.npy", 2, d2, -2);
    put_npy("logs/exp1/maps/chw.npy", 3, d3, 1);
    put_npy("logs/exp1/maps/empty.npy", 1, d0, 0);
    put_text("logs/exp1/maps/bad.npy", "\x93NUMPY not really");
    put_link("logs/exp1/leak.txt", "../../secret.txt");
    put_link("logs/exp1/leak.npy", "../../outside/map.npy");
    put_link("logs/exp1/leakdir", "../../outside");
    put_link("logs/exp1/abs.txt", "/etc/hostname");
    put_link("logs/exp1/inside.txt", "notes.txt");
    put_link("logs/exp1/loop.txt", "loop.txt");
    char p[PATH_MAX * 2];
    snprintf(p, sizeof p, "%s/logs/exp1/pipe.txt", base);
    NT_ASSERT(mkfifo(p, 0600) == 0);
    snprintf(p, sizeof p, "%s/logs/exp1/dir.json", base);
    NT_ASSERT(nt_mkdirs(p) == NT_OK);

    put_text("logs/exp2/run.json", "{\"model\": \"other\"}\n");
    put_link("logs/exp2/findings.json", "../../outside/secret.json");
    put_link("logs/exp2/stats.jsonl", "../../outside/stats.jsonl");
    put_link("logs/exp2/profile.json", "/etc/passwd");
    put_link("logs/exp2/eval.json", "../exp1/eval.json"); /* inside the root, outside this run */
    put_link("logs/exp2/maps", "../../outside");

    /* Root 2: a run directory given directly. */
    write_events("other");
    put_text("other/stats.jsonl", "{\"node\": \"a\"}\n{bad line}\n");
    put_text("other/report.json", "not json at all: NaN");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    make_tree();
    char dirs[2][PATH_MAX * 2];
    snprintf(dirs[0], sizeof dirs[0], "%s/logs", base);
    snprintf(dirs[1], sizeof dirs[1], "%s/other", base);
    for (int i = 0; i < 2; i++)
        NT_ASSERT(realpath(dirs[i], roots[i]) != NULL);
    char *argv_dirs[2] = {dirs[0], dirs[1]};
    NT_ASSERT(nt_index_new(2, argv_dirs, &ix) == NT_OK);
    bool more = true;
    for (int i = 0; i < 100 && more; i++)
        NT_ASSERT(nt_index_poll(ix, &more) == NT_OK);
    NT_ASSERT(nt_index_run_count(ix) == 3);
    /* Long-polls return at once from here on. */
    nt_index_wake_all(ix);
    return 0;
}

/* ---------------------------------------------------------------- request */

#define MAX_ARGS 64

typedef struct query {
    int n;
    char *key[MAX_ARGS], *val[MAX_ARGS];
} query;

/* libmicrohttpd's lookup: the first argument of that name; NULL for a
 * missing one or one written without '='. */
static const char *query_get(void *ctx, const char *key)
{
    const query *q = ctx;
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->key[i], key) == 0)
            return q->val[i];
    return NULL;
}

static void plus_to_space(char *s)
{
    for (; *s; s++)
        if (*s == '+')
            *s = ' ';
}

/* Splits "a=1&b&c=2" in place as libmicrohttpd does, decoding each part. */
static void parse_query(char *s, query *q)
{
    q->n = 0;
    while (s && *s && q->n < MAX_ARGS) {
        char *amp = strchr(s, '&');
        if (amp)
            *amp = '\0';
        if (*s) {
            char *eq = strchr(s, '=');
            if (eq)
                *eq = '\0';
            plus_to_space(s);
            nt_serve_unescape(s);
            q->key[q->n] = s;
            q->val[q->n] = NULL;
            if (eq) {
                plus_to_space(eq + 1);
                nt_serve_unescape(eq + 1);
                q->val[q->n] = eq + 1;
            }
            q->n++;
        }
        s = amp ? amp + 1 : NULL;
    }
}

/* ---------------------------------------------------------------- checks */

static bool within(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    return strncmp(dir, path, n) == 0 && path[n] == '/';
}

static bool contains(const nt_buf *b, const char *needle)
{
    size_t n = strlen(needle);
    if (!b->data || b->len < n)
        return false;
    return memmem(b->data, b->len, needle, n) != NULL;
}

/* The file behind a 200 answer lies in the run's directory (canonical, so
 * symlinks resolved) under a served root; with `same`, the body is exactly
 * its bytes. */
static void check_served(const char *run_name, const char *rel, const nt_buf *body, bool same)
{
    nt_index_rdlock(ix);
    const nt_run *run = nt_index_find_run(ix, run_name);
    NT_ASSERT(run != NULL);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", run->dir);
    nt_index_unlock(ix);
    NT_ASSERT(rel && rel[0]);
    char joined[PATH_MAX * 2], canon[PATH_MAX];
    snprintf(joined, sizeof joined, "%s/%s", dir, rel);
    NT_ASSERT(realpath(joined, canon) != NULL);
    NT_ASSERT(within(dir, canon));
    NT_ASSERT(within(roots[0], canon) || within(roots[1], canon));
    if (same) {
        char *data;
        size_t len;
        NT_ASSERT(nt_read_file(canon, &data, &len) == NT_OK);
        NT_ASSERT(len == body->len && (len == 0 || memcmp(data, body->data, len) == 0));
        free(data);
    }
}

static bool is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

/* The host oracle: localhost, [::1] or an IPv4 literal in 127/8, each with
 * an optional ":port". */
static bool host_expected(const char *host)
{
    char name[256];
    snprintf(name, sizeof name, "%s", host);
    char *colon = name[0] == '[' ? strchr(name, ']') : strrchr(name, ':');
    if (name[0] == '[' && colon)
        colon[1] = '\0';
    else if (colon)
        *colon = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, name, &a) == 1)
        return name[0] == '1' && name[1] == '2' && name[2] == '7' && name[3] == '.';
    return strcasecmp(name, "localhost") == 0 || strcmp(name, "[::1]") == 0;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The string of {"error": "..."} decoded (nt_buf_json_string's escapes). */
static void error_message(const nt_buf *body, nt_buf *out)
{
    const char *p = body->data + 10, *end = body->data + body->len;
    NT_ASSERT(p < end && *p == '"');
    for (p++; p < end && *p != '"'; p++) {
        if (*p != '\\') {
            nt_buf_putc(out, *p);
            continue;
        }
        NT_ASSERT(p + 1 < end);
        char e = *++p;
        if (e == 'u') {
            NT_ASSERT(p + 4 < end);
            int v = 0;
            for (int k = 1; k <= 4; k++) {
                int h = hex_digit(p[k]);
                NT_ASSERT(h >= 0);
                v = v * 16 + h;
            }
            NT_ASSERT(v < 0x20);
            nt_buf_putc(out, (char)v);
            p += 4;
        } else {
            nt_buf_putc(out, e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e);
        }
    }
    NT_ASSERT(p < end); /* the closing quote */
}

static const char *const file_routes[][2] = {
    {"/api/runinfo", "run.json"},     {"/api/findings", "findings.json"}, {"/api/report", "report.json"},
    {"/api/eval", "eval.json"},       {"/api/tensors", "tensors/index.json"},
    {"/api/stats", "stats.jsonl"},    {"/api/profile", "profile.json"},
};

/* True if the request itself spells s: error messages quote it back. */
static bool asked_for(const char *path, const query *q, const char *s)
{
    if (strstr(path, s))
        return true;
    for (int i = 0; i < q->n; i++)
        if (strstr(q->key[i], s) || (q->val[i] && strstr(q->val[i], s)))
            return true;
    return false;
}

static void check_response(const char *path, const query *q, const nt_api_response *r, bool ascii)
{
    NT_ASSERT(r->status >= 200 && r->status <= 599);
    NT_ASSERT(r->content_type != NULL);
    NT_ASSERT(!r->body.failed);
    bool json = strcmp(r->content_type, "application/json") == 0;
    nt_buf msg;
    nt_buf_init(&msg);
    if (r->status >= 400) {
        NT_ASSERT(json);
        NT_ASSERT(r->body.len > 10 && memcmp(r->body.data, "{\"error\": ", 10) == 0);
        error_message(&r->body, &msg);
    }
    /* An error quotes the request, escaped ("\u0013" + "1337.25" holds
     * "31337.25"): there the decoded message is searched. */
    static const char *const secrets[] = {SECRET_TEXT, "31337.25", "root:x:0:0"};
    for (size_t i = 0; i < NT_ARRAY_LEN(secrets); i++)
        NT_ASSERT(!contains(r->status >= 400 ? &msg : &r->body, secrets[i]) || asked_for(path, q, secrets[i]));
    nt_buf_deinit(&msg);
    bool raw = strcmp(path, "/api/file") == 0;
    if (json && !raw && ascii) {
        json_error_t err;
        json_t *root = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &err);
        if (!root) {
            fprintf(stderr, "fuzz_http: %s gave invalid JSON (%s at %d): %.*s\n", path, err.text, err.position,
                    (int)(r->body.len < 2000 ? r->body.len : 2000), r->body.data ? r->body.data : "");
            NT_ASSERT(!"the API answered invalid JSON");
        }
        json_decref(root);
    }
    if (r->status != 200)
        return;
    const char *run = query_get((void *)q, "run");
    if (raw || strcmp(path, "/api/heatmap") == 0)
        check_served(run, query_get((void *)q, "path"), &r->body, raw);
    for (size_t i = 0; i < NT_ARRAY_LEN(file_routes); i++)
        if (strcmp(path, file_routes[i][0]) == 0)
            check_served(run, file_routes[i][1], &r->body, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    NT_ASSERT(text);
    memcpy(text, data, size);
    text[size] = '\0';
    char *host = strchr(text, '\n');
    if (host) {
        *host++ = '\0';
        char *end = strchr(host, '\n');
        if (end)
            *end = '\0';
        NT_ASSERT(nt_serve_host_allowed(host) == host_expected(host));
    }
    NT_ASSERT(nt_serve_host_allowed(NULL));

    /* The request target: path, then the query after the first '?'. */
    char *qs = strchr(text, '?');
    if (qs)
        *qs++ = '\0';
    size_t len = nt_serve_unescape(text);
    NT_ASSERT(len == strlen(text));
    query q;
    parse_query(qs, &q);
    bool ascii = is_ascii(text);
    for (int i = 0; i < q.n; i++)
        ascii = ascii && is_ascii(q.key[i]) && (!q.val[i] || is_ascii(q.val[i]));

    nt_api_response r;
    memset(&r, 0, sizeof r);
    nt_buf_init(&r.body);
    nt_api_handle(ix, text, query_get, &q, &r);
    if (getenv("FUZZ_HTTP_VERBOSE")) /* for reading what a seed does */
        fprintf(stderr, "%s -> %d %s: %.*s\n", text, r.status, r.content_type,
                (int)(r.body.len < 300 ? r.body.len : 300), r.body.data ? r.body.data : "");
    check_response(text, &q, &r, ascii);
    nt_buf_deinit(&r.body);
    nt_error_clear();
    free(text);
    return 0;
}
