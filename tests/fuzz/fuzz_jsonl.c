/*
 * fuzz_jsonl.c — libFuzzer harness for the readers of the JSON files that
 * nntrace leaves in a run directory and other commands read back:
 *
 *   tensors/index.json  nt_diff_set_open (diff), nt_graph_overlay_load
 *                       (graph --run), /api/tensors (serve)
 *   index.json          nt_diff_set_open on a plain dump directory
 *   stats.jsonl         /api/stats, nt_graph_overlay_load
 *   profile.json        /api/profile, nt_graph_overlay_load
 *   diff.json           nt_graph_overlay_load (in the run and as --diff)
 *   findings.json and the other whole-file routes: /api/findings (serve)
 *   the GraphDef of an event file, as /api/graph turns it into JSON
 *   (nt_graphdef_to_json, from a buffer)
 *
 * These read paths, not buffers, so the first input byte picks the file
 * ('0' + kind, or any byte modulo the number of kinds) and the rest is
 * written to it in a private run directory (one per file kind, made at
 * start-up in /dev/shm, else /tmp), then every reader of that kind runs.
 * The JSON helpers of the server are fuzzed on the same bytes directly:
 * nt_json_sanitize (NaN/Infinity to null) must be idempotent, and
 * nt_json_valid must agree with jansson wherever jansson is the stricter
 * parser's equal (see check_valid).
 *
 * Invariants besides "no crash, leak or hang": an API answer of 200 with
 * JSON content is valid JSON (the browser must be able to parse it), an
 * error answer is {"error": ...}; every entry of a diff set names a file in
 * the set's directory and is found again by its own names.
 *
 *   make build-fuzz/fuzz_jsonl
 *   build-fuzz/fuzz_jsonl -max_total_time=300 -jobs=1 tests/fuzz/corpus/jsonl
 */
#include "analyze/diff.h"
#include "serve/serve.h"
#include "viz/graph.h"

#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef enum kind {
    KIND_TENSOR_INDEX, /* DIR/tensors/index.json */
    KIND_PLAIN_INDEX,  /* DIR/index.json */
    KIND_STATS,        /* DIR/stats.jsonl */
    KIND_PROFILE,      /* DIR/profile.json */
    KIND_DIFF,         /* DIR/diff.json */
    KIND_FINDINGS,     /* DIR/findings.json */
    KIND_GRAPHDEF,     /* not a file: the bytes as a GraphDef */
    KIND_COUNT
} kind;

static const char *const kind_file[KIND_COUNT] = {
    "tensors/index.json", "index.json", "stats.jsonl", "profile.json", "diff.json", "findings.json", "graph.pb",
};

static char base[PATH_MAX];
static char dirs[KIND_COUNT][PATH_MAX];

/* ---------------------------------------------------------------- set-up */

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path); /* best effort: go on with the rest */
    return 0;
}

static void remove_tree(void)
{
    if (base[0])
        nftw(base, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Every input is written to a file: memory is faster than a disk. */
    snprintf(base, sizeof base, "/dev/shm/nt-fuzz-jsonl-XXXXXX");
    if (!mkdtemp(base)) {
        snprintf(base, sizeof base, "/tmp/nt-fuzz-jsonl-XXXXXX");
        NT_ASSERT(mkdtemp(base) != NULL);
    }
    atexit(remove_tree);
    for (int k = 0; k < KIND_COUNT; k++) {
        char tdir[PATH_MAX * 2];
        snprintf(dirs[k], sizeof dirs[k], "%s/run%d", base, k);
        snprintf(tdir, sizeof tdir, "%s/tensors", dirs[k]);
        NT_ASSERT(nt_mkdirs(tdir) == NT_OK);
    }
    return 0;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    NT_ASSERT(f);
    NT_ASSERT(size == 0 || fwrite(data, 1, size, f) == size);
    NT_ASSERT(fclose(f) == 0);
}

/* ---------------------------------------------------------------- JSON helpers */

static bool plain_for_jansson(const char *s, size_t n)
{
    /* Where jansson is stricter than a browser: non-UTF-8 bytes, \u
     * escapes (lone surrogates, \u0000), numbers that overflow a double
     * or an integer.  Outside those, the two must agree. */
    int digits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || c == 0 || (c == '\\' && i + 1 < n && s[i + 1] == 'u'))
            return false;
        digits = c >= '0' && c <= '9' ? digits + 1 : 0;
        if (digits > 15 || c == 'e' || c == 'E')
            return false;
    }
    return true;
}

/* nt_json_valid against jansson: jansson's yes is always a yes (it is the
 * stricter one), and on plain text their answers are the same. */
static void check_valid(const char *s, size_t n)
{
    bool mine = nt_json_valid(s, n);
    json_error_t err;
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    bool theirs = j != NULL;
    json_decref(j);
    /* jansson stops at a NUL as if the text ended there; a browser does not. */
    if (theirs && !mine && !memchr(s, '\0', n)) {
        fprintf(stderr, "fuzz_jsonl: jansson accepts what nt_json_valid refuses: %.*s\n", (int)(n < 500 ? n : 500), s);
        NT_ASSERT(!"nt_json_valid refused valid JSON");
    }
    if (mine && !theirs && plain_for_jansson(s, n)) {
        fprintf(stderr, "fuzz_jsonl: nt_json_valid accepts what jansson refuses (%s): %.*s\n", err.text,
                (int)(n < 500 ? n : 500), s);
        NT_ASSERT(!"nt_json_valid accepted invalid JSON");
    }
}

static void check_sanitize(const char *s, size_t n)
{
    nt_buf a, b;
    nt_buf_init(&a);
    nt_buf_init(&b);
    nt_json_sanitize(&a, s, n);
    NT_ASSERT(!a.failed);
    nt_json_sanitize(&b, a.data ? a.data : "", a.len);
    NT_ASSERT(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
    /* Sanitized text is JSON exactly when the original was JSON with bare
     * NaN/Infinity tokens: at least, valid stays valid. */
    if (nt_json_valid(s, n))
        NT_ASSERT(nt_json_valid(a.data ? a.data : "", a.len));
    nt_buf_deinit(&a);
    nt_buf_deinit(&b);
}

/* ---------------------------------------------------------------- readers */

static void check_api(const nt_api_response *r)
{
    NT_ASSERT(r->status >= 200 && r->status <= 599);
    NT_ASSERT(r->content_type);
    if (r->body.failed)
        return;
    if (r->status >= 400)
        NT_ASSERT(r->body.len > 10 && memcmp(r->body.data, "{\"error\": ", 10) == 0);
    if (strcmp(r->content_type, "application/json") == 0 && !nt_json_valid(r->body.data ? r->body.data : "",
                                                                              r->body.len)) {
        fprintf(stderr, "fuzz_jsonl: the API answered invalid JSON (%d): %.*s\n", r->status,
                (int)(r->body.len < 500 ? r->body.len : 500), r->body.data);
        NT_ASSERT(!"the API answered invalid JSON");
    }
}

typedef void (*api_fn)(const char *dir, nt_api_response *r);

static void run_api(const char *dir, api_fn fn, const char *json_name)
{
    nt_api_response r;
    memset(&r, 0, sizeof r);
    nt_buf_init(&r.body);
    if (fn)
        fn(dir, &r);
    else
        nt_api_json_file(dir, json_name, &r);
    check_api(&r);
    nt_buf_deinit(&r.body);
    nt_error_clear();
}

static void run_diff_set(const char *dir, bool tensors_sub)
{
    nt_diff_set *s;
    if (nt_diff_set_open(dir, &s) != NT_OK) {
        NT_ASSERT(s == NULL);
        nt_error_clear();
        return;
    }
    NT_ASSERT(nt_diff_set_indexed(s));
    char prefix[PATH_MAX * 2];
    snprintf(prefix, sizeof prefix, "%s%s/", dir, tensors_sub ? "/tensors" : "");
    int n = nt_diff_set_count(s);
    for (int i = 0; i < n; i++) {
        const nt_diff_entry *e = nt_diff_set_entry(s, i);
        NT_ASSERT(e->node && e->op && e->output && e->path);
        NT_ASSERT(strncmp(e->path, prefix, strlen(prefix)) == 0);
        NT_ASSERT(e->order == i && e->out_pos >= 0);
        bool by_node;
        int j = nt_diff_set_find(s, e->output, e->node, e->out_pos, &by_node);
        NT_ASSERT(j >= 0 && strcmp(nt_diff_set_entry(s, j)->output, e->output) == 0);
        j = nt_diff_set_find(s, NULL, e->node, e->out_pos, &by_node);
        if (e->node[0])
            NT_ASSERT(j == i && by_node);
        else /* an entry without a node name is found by its output only */
            NT_ASSERT(j == -1);
    }
    nt_diff_set_free(s);
}

static void run_overlay(const char *dir, const char *diff_json)
{
    nt_graph_overlay *o;
    if (nt_graph_overlay_load(dir, diff_json, &o) != NT_OK) {
        NT_ASSERT(o == NULL);
        nt_error_clear();
        return;
    }
    const nt_graph_node_run *r = nt_graph_overlay_node(o, "relu");
    if (r)
        NT_ASSERT(r->count >= 0 || r->has_stats);
    (void)nt_graph_overlay_value_type(o, "y");
    nt_graph_overlay_free(o);
}

/* A GraphDef of any bytes: an error, or JSON a browser can parse. */
static void run_graphdef(const uint8_t *data, size_t n)
{
    nt_buf b;
    nt_buf_init(&b);
    if (nt_graphdef_to_json(data, n, &b) == NT_OK)
        NT_ASSERT(nt_json_valid(b.data ? b.data : "", b.len));
    else
        nt_error_clear();
    nt_buf_deinit(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    kind k = (kind)(data[0] >= '0' && data[0] < '0' + KIND_COUNT ? data[0] - '0' : data[0] % KIND_COUNT);
    const char *text = (const char *)data + 1;
    size_t n = size - 1;
    check_valid(text, n);
    check_sanitize(text, n);
    if (k == KIND_GRAPHDEF) {
        run_graphdef(data + 1, n);
        return 0;
    }

    char path[PATH_MAX * 2];
    snprintf(path, sizeof path, "%s/%s", dirs[k], kind_file[k]);
    write_file(path, data + 1, n);
    const char *dir = dirs[k];
    switch (k) {
    case KIND_TENSOR_INDEX:
        run_diff_set(dir, true);
        run_overlay(dir, NULL);
        run_api(dir, NULL, "tensors/index.json");
        break;
    case KIND_PLAIN_INDEX:
        run_diff_set(dir, false);
        break;
    case KIND_STATS:
        run_api(dir, nt_api_stats, NULL);
        run_overlay(dir, NULL);
        break;
    case KIND_PROFILE:
        run_api(dir, nt_api_profile, NULL);
        run_overlay(dir, NULL);
        break;
    case KIND_DIFF:
        run_overlay(dir, NULL);
        run_overlay(NULL, path);
        break;
    case KIND_FINDINGS:
        run_api(dir, NULL, "findings.json");
        break;
    default:
        break;
    }
    return 0;
}
