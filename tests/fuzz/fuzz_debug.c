/*
 * fuzz_debug.c — libFuzzer harness for the debugger's text parsers
 * (`nntrace debug`): conditions (dbg_cond.c), numpy-style indices
 * (dbg_slice.c) and command lines (dbg_cmds.c, debugger.c).  The input is
 * read as lines (at most MAX_LINES, each at most MAX_LINE bytes); every
 * line is
 *
 *  1. parsed as a condition and, when it parses, evaluated on a set of
 *     fixed tensors (float32 with NaN/Inf, int32, bool, float16, a scalar,
 *     an empty tensor, a 4-d one, and a string and an int4 tensor that have
 *     no statistics) under several op/node scopes.  Checks: the evaluation
 *     is deterministic, "!(C)" is its negation and "(C) || (C)" equals it;
 *  2. parsed as an index and applied to the same tensors.  Checks: every
 *     element of a view lies inside its tensor, the view has at most as
 *     many elements as the tensor, an all-integer index selects one
 *     element, a copy holds exactly the view's elements, and a fill writes
 *     only inside the tensor (ASan) — the views are also printed;
 *  3. executed as a debugger command on a fresh session of a small model
 *     built at start-up (Relu, Log, Add with a weight, two Casts, Shape and
 *     an Identity whose output is named "odd name[0]"), so breakpoints,
 *     watches, stepping, print/stats/hist/set all run on fuzzed text.
 *     `dump` writes its file into a private directory in /tmp whatever
 *     path the input names (the last word is replaced).
 *
 * Any status is fine; a crash, a leak, a sanitizer report, a hang or a
 * broken check is a bug.
 *
 *   make build-fuzz/fuzz_debug
 *   build-fuzz/fuzz_debug -max_total_time=300 -jobs=1 tests/fuzz/corpus/debug
 */
#include "debug/dbg_cond.h"
#include "debug/dbg_print.h"
#include "debug/dbg_slice.h"
#include "debug/debugger.h"
#include "onnx/writer.h"

#include <ctype.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 24
#define MAX_LINE 600
/* Elements of a view checked one by one (views of the 4-d tensor have 120). */
#define MAX_CHECKED 4096

static nt_model *model;
static nt_buf model_bytes;   /* the model borrows its weights from these */
static nt_tensor *x_input;
static FILE *devnull;
static char dump_dir[PATH_MAX];

#define N_SUBJECTS 9
static nt_tensor *subjects[N_SUBJECTS];

/* ---------------------------------------------------------------- set-up */

static nt_tensor *make_tensor(nt_dtype dt, int ndim, const int64_t *dims, const double *vals, int n_vals)
{
    nt_tensor *t;
    NT_ASSERT(nt_tensor_new(dt, ndim, dims, &t) == NT_OK);
    int64_t n = nt_tensor_numel(t);
    if (nt_dtype_size(dt) > 0)
        for (int64_t i = 0; i < n; i++)
            nt_tensor_set_f64(t, i, n_vals ? vals[i % n_vals] : (double)i - 7.0);
    return t;
}

static void make_subjects(void)
{
    static const double fv[] = {1, -2, 0, NAN, INFINITY, 3, -INFINITY, 0.5};
    static const double iv[] = {0, -3, 7, 0};
    static const double bv[] = {1, 0, 0, 1};
    int64_t d23[2] = {2, 3}, d4[1] = {4}, d22[2] = {2, 2}, d03[2] = {0, 3}, d2345[4] = {2, 3, 4, 5}, d5[1] = {5};
    subjects[0] = make_tensor(NT_DTYPE_FLOAT, 2, d23, fv, 8);
    subjects[1] = make_tensor(NT_DTYPE_INT32, 1, d4, iv, 4);
    subjects[2] = make_tensor(NT_DTYPE_BOOL, 2, d22, bv, 4);
    subjects[3] = make_tensor(NT_DTYPE_FLOAT16, 2, d23, fv, 8);
    subjects[4] = make_tensor(NT_DTYPE_DOUBLE, 0, NULL, fv + 1, 1);
    subjects[5] = make_tensor(NT_DTYPE_FLOAT, 2, d03, NULL, 0);
    subjects[6] = make_tensor(NT_DTYPE_INT64, 4, d2345, NULL, 0);
    subjects[7] = make_tensor(NT_DTYPE_STRING, 1, d5, NULL, 0);
    subjects[8] = make_tensor(NT_DTYPE_UINT4, 1, d5, NULL, 0);
}

/* x float32[2,3] -> relu -> r -> log -> l -> add(w) -> y -> ident -> "odd name[0]";
 * x -> cast to int32 (xi), to bool (xb); x -> shape (s). */
static void make_model(void)
{
    nt_onnx_builder *b = nt_onnx_builder_new(8, 13);
    int64_t d23[2] = {2, 3}, d3[1] = {3}, d2[1] = {2};
    nt_onnx_builder_add_input(b, "x", NT_DTYPE_FLOAT, 2, d23, NULL);
    nt_onnx_builder_add_output(b, "y", NT_DTYPE_FLOAT, 2, d23, NULL);
    nt_onnx_builder_add_output(b, "odd name[0]", NT_DTYPE_FLOAT, 2, d23, NULL);
    nt_onnx_builder_add_output(b, "xi", NT_DTYPE_INT32, 2, d23, NULL);
    nt_onnx_builder_add_output(b, "xb", NT_DTYPE_BOOL, 2, d23, NULL);
    nt_onnx_builder_add_output(b, "s", NT_DTYPE_INT64, 1, d2, NULL);
    static const double wv[] = {0.5, -1, 2};
    nt_tensor *w = make_tensor(NT_DTYPE_FLOAT, 1, d3, wv, 3);
    nt_onnx_builder_add_initializer(b, "w", w);
    nt_tensor_free(w);
    const char *x[1] = {"x"}, *r[1] = {"r"}, *l[1] = {"l"}, *lw[2] = {"l", "w"}, *y[1] = {"y"};
    const char *odd[1] = {"odd name[0]"}, *xi[1] = {"xi"}, *xb[1] = {"xb"}, *s[1] = {"s"};
    nt_onnx_builder_add_node(b, "Relu", "relu", 1, x, 1, r);
    nt_onnx_builder_add_node(b, "Log", "log", 1, r, 1, l);
    nt_onnx_builder_add_node(b, "Add", "add", 2, lw, 1, y);
    nt_onnx_builder_add_node(b, "Identity", "ident", 1, y, 1, odd);
    nt_onnx_node_attr_int(nt_onnx_builder_add_node(b, "Cast", "cast_i", 1, x, 1, xi), "to", NT_DTYPE_INT32);
    nt_onnx_node_attr_int(nt_onnx_builder_add_node(b, "Cast", "cast_b", 1, x, 1, xb), "to", NT_DTYPE_BOOL);
    nt_onnx_builder_add_node(b, "Shape", "shape", 1, x, 1, s);
    nt_buf_init(&model_bytes);
    NT_ASSERT(nt_onnx_builder_encode(b, &model_bytes) == NT_OK);
    nt_onnx_builder_free(b);
    NT_ASSERT(nt_model_load_buffer(model_bytes.data, model_bytes.len, "fuzz_debug", &model) == NT_OK);
    static const double xv[] = {1, -2, 0, NAN, INFINITY, 3};
    x_input = make_tensor(NT_DTYPE_FLOAT, 2, d23, xv, 6);
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path); /* best effort: go on with the rest */
    return 0;
}

static void remove_dump_dir(void)
{
    if (dump_dir[0])
        nftw(dump_dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    snprintf(dump_dir, sizeof dump_dir, "/tmp/nt-fuzz-debug-XXXXXX");
    NT_ASSERT(mkdtemp(dump_dir) != NULL);
    atexit(remove_dump_dir);
    /* FUZZ_DEBUG_VERBOSE=1 shows what a seed does. */
    devnull = getenv("FUZZ_DEBUG_VERBOSE") ? stderr : fopen("/dev/null", "w");
    NT_ASSERT(devnull);
    make_subjects();
    make_model();
    return 0;
}

/* ---------------------------------------------------------------- conditions */

static bool eval_on(const nt_dbg_cond *c, const nt_tensor *t, const char *op, const char *node)
{
    nt_dbg_subject s;
    nt_dbg_subject_init(&s, t, op, node);
    bool r = nt_dbg_cond_eval(c, &s);
    NT_ASSERT(nt_dbg_cond_eval(c, &s) == r); /* statistics cached: same answer */
    nt_dbg_subject_deinit(&s);
    return r;
}

static void fuzz_cond(const char *line)
{
    nt_dbg_cond *c;
    if (nt_dbg_cond_parse(line, &c) != NT_OK) {
        NT_ASSERT(c == NULL);
        NT_ASSERT(nt_last_error()[0] != '\0');
        nt_error_clear();
        return;
    }
    (void)nt_dbg_cond_uses_stats(c);
    const char *text = nt_dbg_cond_text(c);
    NT_ASSERT(text && strlen(text) <= strlen(line));
    /* Derived conditions; the limits on terms and nesting may refuse them. */
    size_t n = strlen(text) + 16;
    char *neg = malloc(n), *twice = malloc(2 * n);
    NT_ASSERT(neg && twice);
    snprintf(neg, n, "!(%s)", text);
    snprintf(twice, 2 * n, "(%s) || (%s)", text, text);
    nt_dbg_cond *cn = NULL, *ct = NULL;
    if (nt_dbg_cond_parse(neg, &cn) != NT_OK || nt_dbg_cond_parse(twice, &ct) != NT_OK)
        nt_error_clear();
    static const char *const scopes[][2] = {{NULL, NULL}, {"Relu", "relu"}, {"Conv", "conv 1"}};
    for (int i = 0; i < N_SUBJECTS; i++)
        for (size_t k = 0; k < NT_ARRAY_LEN(scopes); k++) {
            bool r = eval_on(c, subjects[i], scopes[k][0], scopes[k][1]);
            if (cn)
                NT_ASSERT(eval_on(cn, subjects[i], scopes[k][0], scopes[k][1]) == !r);
            if (ct)
                NT_ASSERT(eval_on(ct, subjects[i], scopes[k][0], scopes[k][1]) == r);
        }
    nt_dbg_cond_free(cn);
    nt_dbg_cond_free(ct);
    nt_dbg_cond_free(c);
    free(neg);
    free(twice);
}

/* ---------------------------------------------------------------- indices */

static void check_view(const nt_tensor *t, const nt_dbg_slice *sl, const nt_dbg_view *v)
{
    int64_t total = nt_tensor_numel(t), n = nt_dbg_view_numel(v);
    NT_ASSERT(v->ndim >= 0 && v->ndim <= NT_MAX_DIMS);
    for (int d = 0; d < v->ndim; d++)
        NT_ASSERT(v->dims[d] >= 0);
    NT_ASSERT(n >= 0 && n <= total);
    int n_int = 0;
    for (int i = 0; i < sl->n; i++)
        n_int += sl->idx[i].kind == NT_DBG_INDEX_INT;
    NT_ASSERT(v->ndim == t->ndim - n_int);
    if (nt_dbg_slice_is_element(sl) && n_int == t->ndim)
        NT_ASSERT(v->ndim == 0 && n == 1);
    for (int64_t i = 0; i < n && i < MAX_CHECKED; i++) {
        int64_t f = nt_dbg_view_flat(v, i);
        NT_ASSERT(f >= 0 && f < total);
    }
    size_t esz = nt_dtype_size(t->dtype);
    nt_tensor *copy;
    if (nt_dbg_view_copy(t, v, &copy) == NT_OK) {
        NT_ASSERT(nt_tensor_numel(copy) == n);
        if (esz && copy->dtype == t->dtype)
            for (int64_t i = 0; i < n && i < MAX_CHECKED; i++)
                NT_ASSERT(memcmp((const char *)copy->data + (size_t)i * esz,
                                 (const char *)t->data + (size_t)nt_dbg_view_flat(v, i) * esz, esz) == 0);
        nt_tensor_free(copy);
    } else {
        NT_ASSERT(copy == NULL);
        nt_error_clear();
    }
    nt_dbg_print_opts o;
    nt_dbg_print_opts_default(&o);
    nt_buf b;
    nt_buf_init(&b);
    nt_dbg_format_array(&b, t, v, &o);
    NT_ASSERT(!b.failed);
    nt_buf_deinit(&b);
    if (esz) {
        nt_tensor *w;
        NT_ASSERT(nt_tensor_clone(t, &w) == NT_OK);
        if (nt_dbg_view_fill(w, v, 1.0) != NT_OK)
            nt_error_clear();
        nt_tensor_free(w);
    }
}

static void fuzz_slice(const char *line)
{
    nt_dbg_slice sl;
    if (nt_dbg_slice_parse(line, &sl) != NT_OK) {
        NT_ASSERT(nt_last_error()[0] != '\0');
        nt_error_clear();
        return;
    }
    NT_ASSERT(sl.n >= 0 && sl.n <= NT_DBG_MAX_INDICES);
    for (int i = 0; i < N_SUBJECTS; i++) {
        nt_dbg_view v;
        if (nt_dbg_view_make(subjects[i], &sl, &v) == NT_OK)
            check_view(subjects[i], &sl, &v);
        else
            nt_error_clear();
    }
}

/* ---------------------------------------------------------------- commands */

/* `dump VALUE FILE`: FILE (the last word) is replaced by a file in dump_dir,
 * keeping a ".pb" suffix so both writers run. */
static void confine_dump(const char *line, char *out, size_t cap)
{
    snprintf(out, cap, "%s", line);
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t w = strcspn(p, " \t");
    if (w != 4 || strncmp(p, "dump", 4) != 0)
        return;
    size_t len = strlen(line);
    while (len > 0 && strchr(" \t\r\n", line[len - 1]))
        len--;
    size_t cut = len;
    while (cut > (size_t)(p - line) + 4 && !isspace((unsigned char)line[cut - 1]))
        cut--;
    bool pb = len >= 3 && strncmp(line + len - 3, ".pb", 3) == 0;
    snprintf(out, cap, "%.*s%s%s/d%s", (int)cut, line, cut > (size_t)(p - line) + 4 ? "" : " ", dump_dir,
             pb ? ".pb" : ".npy");
}

static void fuzz_commands(char **lines, int n)
{
    nt_session *s;
    if (nt_session_new(model, NULL, &s) != NT_OK)
        NT_ASSERT(!"the fixed model does not plan");
    NT_ASSERT(nt_session_set_input(s, "x", x_input) == NT_OK);
    nt_debugger *d;
    NT_ASSERT(nt_debugger_new(model, s, devnull, devnull, &d) == NT_OK);
    for (int i = 0; i < n; i++) {
        char line[MAX_LINE + PATH_MAX + 16];
        confine_dump(lines[i], line, sizeof line);
        bool quit = false;
        if (nt_debugger_exec(d, line, &quit) != NT_OK)
            NT_ASSERT(nt_last_error()[0] != '\0');
        nt_error_clear();
        if (quit)
            break;
    }
    nt_debugger_free(d);
    nt_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > MAX_LINES * MAX_LINE)
        return 0;
    char *text = malloc(size + 1);
    NT_ASSERT(text);
    memcpy(text, data, size);
    text[size] = '\0';
    char *lines[MAX_LINES];
    int n = 0;
    for (char *p = text; p && n < MAX_LINES;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        if (strlen(p) <= MAX_LINE)
            lines[n++] = p;
        p = nl ? nl + 1 : NULL;
    }
    for (int i = 0; i < n; i++) {
        fuzz_cond(lines[i]);
        fuzz_slice(lines[i]);
    }
    fuzz_commands(lines, n);
    free(text);
    return 0;
}
