/*
 * test_serve.c — the dashboard server's pieces without sockets: path
 * safety (traversal, encoded leftovers, symlinks out), min/max downsampling
 * (bounds, spikes and NaN kept, zoomed windows at full resolution), the
 * JSON sanitizer, the overfitting onset, the run index over event files
 * written with the public writer (incremental reading of a growing file, a
 * truncated tail, garbage files), the API answers built on it, and the
 * HTTP server itself on a loopback port (GET, 404, 405, Host check).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "serve/serve.h"
#include "trace/tfevents.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nt_test_serve_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---------------------------------------------------------------- path safety */

static void test_safe_path(void **state)
{
    (void)state;
    char root[512], p[512], out[4096], outside[512];
    snprintf(root, sizeof root, "%s/safe/run", tmpdir);
    assert_int_equal(nt_mkdirs(root), NT_OK);
    snprintf(p, sizeof p, "%s/sub", root);
    assert_int_equal(nt_mkdirs(p), NT_OK);
    snprintf(p, sizeof p, "%s/graph.svg", root);
    write_text(p, "<svg/>");
    snprintf(p, sizeof p, "%s/sub/a.png", root);
    write_text(p, "x");
    snprintf(outside, sizeof outside, "%s/safe/secret.txt", tmpdir);
    write_text(outside, "secret");
    snprintf(p, sizeof p, "%s/leak", root);
    assert_int_equal(symlink(outside, p), 0);
    snprintf(p, sizeof p, "%s/leakdir", root);
    assert_int_equal(symlink("/etc", p), 0);
    snprintf(p, sizeof p, "%s/inner", root);
    assert_int_equal(symlink("graph.svg", p), 0);

    assert_int_equal(nt_serve_safe_path(root, "graph.svg", out, sizeof out), NT_OK);
    assert_non_null(strstr(out, "/safe/run/graph.svg"));
    assert_int_equal(nt_serve_safe_path(root, "sub/a.png", out, sizeof out), NT_OK);
    assert_int_equal(nt_serve_safe_path(root, "inner", out, sizeof out), NT_OK); /* a symlink inside is fine */
    assert_int_equal(nt_serve_safe_path(root, "missing.png", out, sizeof out), NT_ERR_NOT_FOUND);

    static const char *const refused[] = {
        "../secret.txt", "sub/../../secret.txt", "/etc/passwd", "..", ".", "", "sub/", "sub//a.png",
        "%2e%2e/secret.txt", "..%2fsecret.txt", "sub\\..\\..\\secret.txt", "./graph.svg", "leak",
        "leakdir/passwd", "a\x01" "b", "sub/./a.png",
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(refused); i++) {
        nt_status s = nt_serve_safe_path(root, refused[i], out, sizeof out);
        if (s == NT_OK)
            fail_msg("path '%s' was accepted as '%s'", refused[i], out);
    }
    assert_int_equal(nt_serve_safe_path(root, NULL, out, sizeof out), NT_ERR_INVALID_ARG);
    assert_true(nt_serve_path_within("/a/b", "/a/b/c"));
    assert_false(nt_serve_path_within("/a/b", "/a/bc"));
    assert_true(nt_serve_path_within("/a/b", "/a/b"));
}

/* ---------------------------------------------------------------- downsampling */

static void test_downsample(void **state)
{
    (void)state;
    enum { N = 100000 };
    int64_t *x = malloc(N * sizeof *x);
    double *y = malloc(N * sizeof *y);
    assert_non_null(x);
    assert_non_null(y);
    for (int i = 0; i < N; i++) {
        x[i] = i * 2;
        y[i] = sin(i * 0.001);
    }
    y[51234] = 100.0;  /* a spike */
    y[77777] = NAN;    /* a NaN */
    nt_ds_result r;
    assert_int_equal(nt_downsample(x, y, N, INT64_MIN, INT64_MAX, 1000, &r), NT_OK);
    assert_true(r.reduced);
    assert_int_equal(r.in_range, N);
    assert_true(r.n <= 1000 && r.n >= 400); /* monotone buckets keep 2 points, others up to 5 */
    bool spike = false, nan = false;
    for (size_t i = 0; i < r.n; i++) {
        if (i)
            assert_true(r.idx[i] > r.idx[i - 1]);
        spike |= r.idx[i] == 51234;
        nan |= r.idx[i] == 77777;
    }
    assert_true(spike);
    assert_true(nan);
    assert_int_equal(r.idx[0], 0);
    assert_int_equal(r.idx[r.n - 1], N - 1);
    free(r.idx);

    /* Fewer than five points: evenly spaced, the last always there. */
    for (size_t k = 1; k <= 4; k++) {
        assert_int_equal(nt_downsample(x, y, N, INT64_MIN, INT64_MAX, k, &r), NT_OK);
        assert_int_equal(r.n, k);
        assert_int_equal(r.idx[r.n - 1], N - 1);
        if (k > 1)
            assert_int_equal(r.idx[0], 0);
        free(r.idx);
    }

    /* A zoomed window small enough comes back whole. */
    assert_int_equal(nt_downsample(x, y, N, 1000, 1999, 1000, &r), NT_OK);
    assert_false(r.reduced);
    assert_int_equal(r.n, 500);
    assert_int_equal(x[r.idx[0]], 1000);
    assert_int_equal(x[r.idx[r.n - 1]], 1998);
    free(r.idx);

    /* Empty and inverted windows. */
    assert_int_equal(nt_downsample(x, y, N, 5000000, 6000000, 1000, &r), NT_OK);
    assert_int_equal(r.n, 0);
    free(r.idx);
    assert_int_equal(nt_downsample(x, y, N, 10, 5, 1000, &r), NT_OK);
    assert_int_equal(r.n, 0);
    free(r.idx);
    assert_int_equal(nt_downsample(x, y, 0, 0, 10, 1000, &r), NT_OK);
    assert_int_equal(r.n, 0);
    free(r.idx);
    free(x);
    free(y);
}

/* ---------------------------------------------------------------- JSON */

static void test_json_sanitize(void **state)
{
    (void)state;
    const char *in = "{\"a\": NaN, \"b\": [Infinity, -Infinity, 1.5], \"s\": \"NaN Infinity \\\" NaN\", "
                     "\"NaNx\": 2, \"c\": -NaN}";
    nt_buf b;
    nt_buf_init(&b);
    nt_json_sanitize(&b, in, strlen(in));
    assert_string_equal(b.data, "{\"a\": null, \"b\": [null, null, 1.5], \"s\": \"NaN Infinity \\\" NaN\", "
                                "\"NaNx\": 2, \"c\": null}");
    b.len = 0;
    nt_json_num(&b, NAN);
    nt_buf_putc(&b, ' ');
    nt_json_num(&b, 2.5);
    assert_string_equal(b.data, "null 2.5");
    b.len = 0;
    nt_json_sanitize(&b, "\"unterminated \\", 15); /* must not read past the end */
    nt_buf_deinit(&b);
}

/* ---------------------------------------------------------------- index and API */

typedef struct kv {
    const char *k[6], *v[6];
} kv;

static const char *kv_get(void *ctx, const char *key)
{
    kv *q = ctx;
    for (int i = 0; i < 6 && q->k[i]; i++)
        if (strcmp(q->k[i], key) == 0)
            return q->v[i];
    return NULL;
}

static void api(nt_index *ix, const char *path, kv *q, nt_api_response *r)
{
    memset(r, 0, sizeof *r);
    nt_buf_init(&r->body);
    nt_api_handle(ix, path, kv_get, q, r);
    nt_buf_putc(&r->body, '\0');
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

static void test_index_and_api(void **state)
{
    (void)state;
    char logdir[512], run[512], p[1024];
    snprintf(logdir, sizeof logdir, "%s/logs", tmpdir);
    snprintf(run, sizeof run, "%s/logs/exp1", tmpdir);
    assert_int_equal(nt_mkdirs(run), NT_OK);

    nt_writer *w = NULL;
    assert_int_equal(nt_writer_open(run, &w), NT_OK);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(nt_writer_scalar(w, "loss/train", i, 1.0 / (1 + i)), NT_OK);
        assert_int_equal(nt_writer_scalar(w, "loss/val", i, i < 20 ? 1.0 / (1 + i) : 0.05 + (i - 20) * 0.01), NT_OK);
    }
    float vals[100];
    for (int i = 0; i < 100; i++)
        vals[i] = (float)i / 10.0f;
    assert_int_equal(nt_writer_histogram(w, "weights/w", 3, vals, 100), NT_OK);
    assert_int_equal(nt_writer_text(w, "notes", 1, "hello \"dashboard\""), NT_OK);
    uint8_t px[4 * 4 * 3] = {0};
    assert_int_equal(nt_writer_image(w, "img", 2, px, 4, 4, 3), NT_OK);
    assert_int_equal(nt_writer_flush(w), NT_OK);

    /* Garbage beside it must not hurt. */
    snprintf(p, sizeof p, "%s/logs/exp1/events.out.tfevents.garbage", tmpdir);
    write_text(p, "this is not a TFRecord file at all, just bytes ............");
    snprintf(p, sizeof p, "%s/logs/exp1/stats.jsonl", tmpdir);
    write_text(p, "{\"node\": \"/a\", \"op\": \"Relu\", \"min\": NaN, \"max\": Infinity}\n{\"node\": \"b\"}\n{\"trunc");
    snprintf(p, sizeof p, "%s/logs/exp1/findings.json", tmpdir);
    write_text(p, "{\"findings\": [{\"kind\": \"nan\", \"severity\": \"error\", \"detail\": NaN}]}");

    char *dirs[1] = {logdir};
    nt_index *ix = NULL;
    assert_int_equal(nt_index_new(1, dirs, &ix), NT_OK);
    uint64_t v0 = nt_index_version(ix);
    bool more = false;
    assert_int_equal(nt_index_poll(ix, &more), NT_OK);
    assert_true(nt_index_version(ix) > v0);

    nt_api_response r;
    kv q = {{NULL}, {NULL}};
    api(ix, "/api/runs", &q, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "\"name\": \"logs/exp1\""));
    assert_non_null(strstr(r.body.data, "\"loss/train\""));
    assert_non_null(strstr(r.body.data, "\"weights/w\""));
    assert_non_null(strstr(r.body.data, "\"findings\": true"));
    assert_non_null(strstr(r.body.data, "\"bad_records\": "));
    nt_buf_deinit(&r.body);

    q = (kv){{"run", "tag", "points"}, {"logs/exp1", "loss/train", "20"}};
    api(ix, "/api/scalars", &q, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "\"total\": 50"));
    assert_non_null(strstr(r.body.data, "\"downsampled\": true"));
    nt_buf_deinit(&r.body);

    q = (kv){{"run", "tag", "min", "max"}, {"logs/exp1", "loss/train", "10", "12"}};
    api(ix, "/api/scalars", &q, &r);
    assert_non_null(strstr(r.body.data, "\"steps\": [10,11,12]"));
    nt_buf_deinit(&r.body);

    q = (kv){{"run"}, {"logs/exp1"}};
    api(ix, "/api/overfit", &q, &r);
    assert_non_null(strstr(r.body.data, "\"val\": \"loss/val\""));
    nt_buf_deinit(&r.body);

    q = (kv){{"run", "tag"}, {"logs/exp1", "weights/w"}};
    api(ix, "/api/histograms", &q, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "\"step\": 3"));
    nt_buf_deinit(&r.body);

    q = (kv){{"run", "tag"}, {"logs/exp1", "notes"}};
    api(ix, "/api/text", &q, &r);
    assert_non_null(strstr(r.body.data, "hello \\\"dashboard\\\""));
    nt_buf_deinit(&r.body);

    q = (kv){{"run", "tag", "index"}, {"logs/exp1", "img", "0"}};
    api(ix, "/api/image", &q, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "image/png");
    nt_buf_deinit(&r.body);

    q = (kv){{"run"}, {"logs/exp1"}};
    api(ix, "/api/stats", &q, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body.data, "\"min\": null, \"max\": null"));
    assert_null(strstr(r.body.data, "trunc"));
    nt_buf_deinit(&r.body);
    api(ix, "/api/findings", &q, &r);
    assert_non_null(strstr(r.body.data, "\"detail\": null"));
    nt_buf_deinit(&r.body);
    api(ix, "/api/eval", &q, &r);
    assert_int_equal(r.status, 404);
    nt_buf_deinit(&r.body);

    q = (kv){{"run", "path"}, {"logs/exp1", "../../../etc/passwd"}};
    api(ix, "/api/file", &q, &r);
    assert_int_equal(r.status, 403);
    nt_buf_deinit(&r.body);
    q = (kv){{"run", "path"}, {"../exp1", "stats.jsonl"}};
    api(ix, "/api/file", &q, &r);
    assert_int_equal(r.status, 404);
    nt_buf_deinit(&r.body);
    q = (kv){{"run"}, {"nope"}};
    api(ix, "/api/scalars", &q, &r);
    assert_int_equal(r.status, 400);
    nt_buf_deinit(&r.body);
    api(ix, "/api/nothing", &q, &r);
    assert_int_equal(r.status, 404);
    nt_buf_deinit(&r.body);

    /* Incremental: more points and a new tag appear on the next poll. */
    uint64_t v1 = nt_index_version(ix);
    assert_int_equal(nt_writer_scalar(w, "lr", 0, 0.1), NT_OK);
    for (int i = 50; i < 60; i++)
        assert_int_equal(nt_writer_scalar(w, "loss/train", i, 0.01), NT_OK);
    assert_int_equal(nt_writer_flush(w), NT_OK);
    assert_int_equal(nt_index_poll(ix, &more), NT_OK);
    assert_true(nt_index_version(ix) > v1);
    q = (kv){{"run", "tag"}, {"logs/exp1", "loss/train"}};
    api(ix, "/api/scalars", &q, &r);
    assert_non_null(strstr(r.body.data, "\"total\": 60"));
    nt_buf_deinit(&r.body);

    /* A half-written record at the tail is left for later, not an error. */
    const char *path = NULL;
    path = nt_writer_path(w);
    size_t before = file_size(path);
    assert_int_equal(nt_writer_scalar(w, "loss/train", 60, 0.5), NT_OK);
    assert_int_equal(nt_writer_flush(w), NT_OK);
    size_t after = file_size(path);
    assert_true(after > before);
    assert_int_equal(truncate(path, (off_t)(before + (after - before) / 2)), 0);
    assert_int_equal(nt_index_poll(ix, &more), NT_OK);
    api(ix, "/api/runs", &(kv){{NULL}, {NULL}}, &r);
    assert_non_null(strstr(r.body.data, "\"truncated\": true"));
    nt_buf_deinit(&r.body);

    /* A new run directory appears on the next poll. */
    snprintf(p, sizeof p, "%s/logs/exp2", tmpdir);
    assert_int_equal(nt_mkdirs(p), NT_OK);
    snprintf(p, sizeof p, "%s/logs/exp2/run.json", tmpdir);
    write_text(p, "{\"model\": \"m.onnx\"}");
    assert_int_equal(nt_index_poll(ix, &more), NT_OK);
    nt_index_rdlock(ix);
    assert_int_equal(nt_index_run_count(ix), 2);
    assert_non_null(nt_index_find_run(ix, "logs/exp2"));
    nt_index_unlock(ix);

    /* Waiting returns at once on a different version, on timeout otherwise. */
    uint64_t v = nt_index_version(ix);
    assert_int_equal(nt_index_wait(ix, v - 1, 5000), v);
    double t0 = nt_now_ms();
    assert_int_equal(nt_index_wait(ix, v, 50), v);
    assert_true(nt_now_ms() - t0 >= 40);

    nt_writer_close(w);
    nt_index_free(ix);
}

static void test_graphdef_json(void **state)
{
    (void)state;
    /* GraphDef { node { name: "a" op: "Placeholder" } node { name: "b" op: "Relu" input: "a" } } */
    static const uint8_t gd[] = {
        0x0a, 0x10, 0x0a, 0x01, 'a', 0x12, 0x0b, 'P', 'l', 'a', 'c', 'e', 'h', 'o', 'l', 'd', 'e', 'r',
        0x0a, 0x0c, 0x0a, 0x01, 'b', 0x12, 0x04, 'R', 'e', 'l', 'u', 0x1a, 0x01, 'a',
    };
    nt_buf b;
    nt_buf_init(&b);
    assert_int_equal(nt_graphdef_to_json(gd, sizeof gd, &b), NT_OK);
    nt_buf_putc(&b, '\0');
    assert_non_null(strstr(b.data, "{\"name\": \"a\", \"op\": \"Placeholder\", \"inputs\": []}"));
    assert_non_null(strstr(b.data, "{\"name\": \"b\", \"op\": \"Relu\", \"inputs\": [\"a\"]}"));
    b.len = 0;
    static const uint8_t bad[] = {0x0a, 0x50, 0x0a};
    assert_int_not_equal(nt_graphdef_to_json(bad, sizeof bad, &b), NT_OK);
    nt_buf_deinit(&b);
}

/* ---------------------------------------------------------------- HTTP */

/* One raw HTTP/1.0 exchange on loopback; returns the status code. */
static int http_get(int port, const char *request, char *resp, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_true(write(fd, request, strlen(request)) == (ssize_t)strlen(request));
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && (k = read(fd, resp + n, cap - 1 - n)) > 0)
        n += (size_t)k;
    resp[n] = '\0';
    close(fd);
    int code = 0;
    sscanf(resp, "HTTP/%*s %d", &code);
    return code;
}

static void test_http(void **state)
{
    (void)state;
    static const unsigned char page[] = "<html>hi</html>";
    static const nt_serve_asset assets[] = {{"/index.html", page, sizeof page - 1}, {NULL, NULL, 0}};
    char *dirs[1] = {tmpdir};
    nt_index *ix = NULL;
    assert_int_equal(nt_index_new(1, dirs, &ix), NT_OK);
    nt_server_options opt = {.host = "127.0.0.1", .port = 0, .assets = assets, .poll_ms = 100};
    nt_server *s = NULL;
    assert_int_equal(nt_server_start(ix, &opt, &s), NT_OK);
    int port = nt_server_port(s);
    assert_true(port > 0);
    static char resp[1 << 16];
    assert_int_equal(http_get(port, "GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "<html>hi</html>"));
    assert_non_null(strstr(resp, "Content-Security-Policy"));
    assert_int_equal(http_get(port, "GET /api/version HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    assert_int_equal(http_get(port, "GET /../../etc/passwd HTTP/1.0\r\n\r\n", resp, sizeof resp), 404);
    assert_int_equal(http_get(port, "GET /nothing.js HTTP/1.0\r\n\r\n", resp, sizeof resp), 404);
    assert_int_equal(http_get(port, "POST /api/runs HTTP/1.0\r\nContent-Length: 0\r\n\r\n", resp, sizeof resp), 405);
    assert_int_equal(http_get(port, "GET /api/runs HTTP/1.0\r\nHost: evil.example\r\n\r\n", resp, sizeof resp), 403);
    assert_int_equal(http_get(port, "GET /api/runs HTTP/1.0\r\nHost: localhost:1234\r\n\r\n", resp, sizeof resp), 200);
    int code = http_get(port, "GARBAGE\r\n\r\n", resp, sizeof resp);
    assert_true(code == 0 || code >= 400);
    nt_server_stop(s);
    nt_index_free(ix);
}

/* A client that never finishes its headers is closed after the deadline;
 * a flood of them beyond max_pending closes the oldest, and a client that
 * sends its request at once is still answered. */
static void test_header_deadline(void **state)
{
    (void)state;
    char *dirs[1] = {tmpdir};
    nt_index *ix = NULL;
    assert_int_equal(nt_index_new(1, dirs, &ix), NT_OK);
    nt_server_options opt = {.host = "127.0.0.1", .port = 0, .poll_ms = 100, .header_ms = 300, .max_pending = 4};
    nt_server *s = NULL;
    assert_int_equal(nt_server_start(ix, &opt, &s), NT_OK);
    int port = nt_server_port(s);
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {0};
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(connect(fds[i], (struct sockaddr *)&a, sizeof a), 0);
        assert_true(write(fds[i], "GET / HTTP/1.1\r\n", 16) == 16);
    }
    static char resp[1 << 16];
    assert_int_equal(http_get(port, "GET /api/version HTTP/1.0\r\n\r\n", resp, sizeof resp), 200);
    /* Past the deadline every half-open connection reads end of stream. */
    struct timeval tv = {3, 0};
    int closed = 0;
    for (int i = 0; i < 8; i++) {
        setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char c;
        closed += read(fds[i], &c, 1) <= 0;
        close(fds[i]);
    }
    assert_int_equal(closed, 8);
    nt_server_stop(s);
    nt_index_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safe_path),      cmocka_unit_test(test_downsample),
        cmocka_unit_test(test_json_sanitize),
        cmocka_unit_test(test_index_and_api),  cmocka_unit_test(test_graphdef_json),
        cmocka_unit_test(test_http),           cmocka_unit_test(test_header_deadline),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
