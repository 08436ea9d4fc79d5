/*
 * runner.c — the ONNX node-test conformance runner.
 *
 *   conformance --corpus DIR [--filter GLOB]... [--expect FILE] [--update] [-v]
 *
 * Each case folder holds model.onnx and test_data_set_N/{input,output}_K.pb.
 * A case passes when every data set's outputs match (floats: |a-b| <= atol +
 * rtol*|b| with rtol 1e-3, atol 1e-7, the ONNX runner's defaults; NaN where
 * expected; integers and bools exactly).  A case nntrace declines
 * (NT_ERR_UNSUPPORTED: op, dtype, attribute mode) is "declined", never a
 * pass.  Anything else — wrong numbers, wrong shape, a crash, a hang — fails.
 *
 * Each case runs in a child process (fork) with a time limit, so a crash or
 * hang is reported as that case's failure and the run goes on.
 *
 * The expectations file lists "case result" lines.  The run fails when any
 * case fails, or when a case expected to pass does not.  --update rewrites
 * the file from this run.  When the corpus folder is absent the runner says
 * so and exits 0 with nothing counted as passed.
 */
#include "nntrace.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum { R_PASS, R_FAIL, R_DECLINED };
static const char *const result_names[] = {"pass", "fail", "declined"};

#define CASE_TIMEOUT_S 60

static double g_rtol = 1e-3, g_atol = 1e-7;

/* Cases whose reference data need a looser tolerance (the corpus README
 * allows it), each with the reason. */
static const struct {
    const char *glob;
    double atol;
    const char *why;
} looser[] = {
    /* The reference computed the inverse DFT in float32: imaginary parts that
     * are exactly 0 hold ~1.9e-7 of rounding residue; ours (double) are ~1e-15. */
    {"test_dft_inverse*", 1e-6, "float32 FFT residue in the reference"},
};

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Writes "R reason" to fd and exits: the child's whole report. */
static void child_report(int fd, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4), noreturn));
static void child_report(int fd, int r, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    dprintf(fd, "%d %s\n", r, msg);
    _exit(0);
}

static int status_result(nt_status s) { return s == NT_ERR_UNSUPPORTED ? R_DECLINED : R_FAIL; }

/* Compares got with want; on mismatch writes a reason and returns false. */
static bool compare(const nt_tensor *got, const nt_tensor *want, char *why, size_t len);

/* Sequences and optionals: the same kind and length, items compared in order. */
static bool compare_value(const nt_tensor *got, const nt_tensor *want, char *why, size_t len)
{
    if (!nt_value_is_container(want) && !nt_value_is_container(got))
        return compare(got, want, why, len);
    unsigned kind = NT_TENSOR_SEQUENCE | NT_TENSOR_OPTIONAL;
    if ((got->flags & kind) != (want->flags & kind)) {
        snprintf(why, len, "got a %s, expected a %s", got->flags & kind ? "sequence/optional" : "tensor",
                 want->flags & kind ? (want->flags & NT_TENSOR_SEQUENCE ? "sequence" : "optional") : "tensor");
        return false;
    }
    const nt_seq *a = nt_value_seq(got), *b = nt_value_seq(want);
    if (a->n != b->n) {
        snprintf(why, len, "got %d items, expected %d", a->n, b->n);
        return false;
    }
    for (int i = 0; i < a->n; i++) {
        char sub[768];
        if (!compare_value(a->items[i], b->items[i], sub, sizeof sub)) {
            snprintf(why, len, "item %d: %s", i, sub);
            return false;
        }
    }
    return true;
}

static bool compare(const nt_tensor *got, const nt_tensor *want, char *why, size_t len)
{
    char dg[256], dw[256];
    nt_tensor_describe(got, dg, sizeof dg);
    nt_tensor_describe(want, dw, sizeof dw);
    if (got->dtype != want->dtype || got->ndim != want->ndim) {
        snprintf(why, len, "got %s, expected %s", dg, dw);
        return false;
    }
    for (int d = 0; d < got->ndim; d++)
        if (got->dims[d] != want->dims[d]) {
            snprintf(why, len, "got %s, expected %s", dg, dw);
            return false;
        }
    int64_t n = nt_tensor_numel(want);
    if (want->dtype == NT_DTYPE_STRING) {
        for (int64_t i = 0; i < n; i++) {
            const char *a = ((char *const *)got->data)[i], *b = ((char *const *)want->data)[i];
            if (strcmp(a, b) != 0) {
                snprintf(why, len, "element %lld: got \"%.100s\", expected \"%.100s\"", (long long)i, a, b);
                return false;
            }
        }
        return true;
    }
    bool is_float = want->dtype == NT_DTYPE_FLOAT || want->dtype == NT_DTYPE_DOUBLE ||
                    want->dtype == NT_DTYPE_FLOAT16 || want->dtype == NT_DTYPE_BFLOAT16;
    if (!is_float) {
        for (int64_t i = 0; i < n; i++) {
            /* integers compared through their exact bytes (int64 > 2^53 too) */
            size_t esz = 0;
            switch (want->dtype) {
            case NT_DTYPE_INT64: case NT_DTYPE_UINT64: esz = 8; break;
            case NT_DTYPE_INT32: case NT_DTYPE_UINT32: esz = 4; break;
            case NT_DTYPE_INT16: case NT_DTYPE_UINT16: esz = 2; break;
            case NT_DTYPE_INT8: case NT_DTYPE_UINT8: case NT_DTYPE_BOOL: esz = 1; break;
            /* Narrow types, one byte per element in memory: the exact code,
             * except that any NaN code matches any other. */
            case NT_DTYPE_INT4: case NT_DTYPE_UINT4: case NT_DTYPE_INT2: case NT_DTYPE_UINT2:
            case NT_DTYPE_FLOAT8E4M3FN: case NT_DTYPE_FLOAT8E4M3FNUZ: case NT_DTYPE_FLOAT8E5M2:
            case NT_DTYPE_FLOAT8E5M2FNUZ: case NT_DTYPE_FLOAT8E8M0: case NT_DTYPE_FLOAT4E2M1:
                esz = 1;
                if (isnan(nt_tensor_get_f64(got, i)) && isnan(nt_tensor_get_f64(want, i)))
                    continue;
                break;
            default:
                snprintf(why, len, "cannot compare dtype %s", dw);
                return false;
            }
            const unsigned char *a = (const unsigned char *)got->data + i * (int64_t)esz;
            const unsigned char *b = (const unsigned char *)want->data + i * (int64_t)esz;
            bool same = want->dtype == NT_DTYPE_BOOL ? ((*a != 0) == (*b != 0)) : memcmp(a, b, esz) == 0;
            if (!same) {
                snprintf(why, len, "element %lld: got %.17g, expected %.17g", (long long)i,
                         nt_tensor_get_f64(got, i), nt_tensor_get_f64(want, i));
                return false;
            }
        }
        return true;
    }
    double rtol = g_rtol, atol = g_atol;
    if (want->dtype == NT_DTYPE_FLOAT16 || want->dtype == NT_DTYPE_BFLOAT16) {
        /* One unit in the last place of a 10-bit (7-bit) mantissa. */
        rtol = want->dtype == NT_DTYPE_FLOAT16 ? 1e-3 : 8e-3;
        atol = 1e-7;
    }
    for (int64_t i = 0; i < n; i++) {
        double a = nt_tensor_get_f64(got, i), b = nt_tensor_get_f64(want, i);
        if (isnan(b) || isnan(a)) {
            if (isnan(a) != isnan(b)) {
                snprintf(why, len, "element %lld: got %.9g, expected %.9g", (long long)i, a, b);
                return false;
            }
            continue;
        }
        if (isinf(b) || isinf(a)) {
            if (a != b) {
                snprintf(why, len, "element %lld: got %.9g, expected %.9g", (long long)i, a, b);
                return false;
            }
            continue;
        }
        if (fabs(a - b) > atol + rtol * fabs(b)) {
            snprintf(why, len, "element %lld: got %.9g, expected %.9g (|diff| %.3g)", (long long)i, a, b,
                     fabs(a - b));
            return false;
        }
    }
    return true;
}

static void run_case_child(const char *dir, int fd)
{
    const char *base = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
    for (size_t i = 0; i < sizeof looser / sizeof looser[0]; i++)
        if (fnmatch(looser[i].glob, base, 0) == 0)
            g_atol = looser[i].atol;
    char path[4096];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    nt_model *m;
    nt_status s = nt_model_load(path, &m);
    if (s != NT_OK)
        child_report(fd, status_result(s), "load: %s", nt_last_error());
    nt_session *sess;
    s = nt_session_new(m, NULL, &sess);
    if (s != NT_OK)
        child_report(fd, status_result(s), "plan: %s", nt_last_error());
    int n_sets = 0;
    for (int set = 0;; set++) {
        char sd[4096];
        snprintf(sd, sizeof sd, "%s/test_data_set_%d", dir, set);
        if (!file_exists(sd))
            break;
        n_sets++;
        int n_in = nt_model_input_count(m);
        for (int k = 0;; k++) {
            snprintf(path, sizeof path, "%s/input_%d.pb", sd, k);
            if (!file_exists(path))
                break;
            nt_tensor *t;
            char *name = NULL;
            int kind = nt_model_input_kind(m, k);
            s = kind ? nt_pb_value_load(path, kind == 2, &t) : nt_pb_tensor_load(path, &t, &name);
            if (s != NT_OK)
                child_report(fd, status_result(s), "input %d: %s", k, nt_last_error());
            /* Bind by name when the file names a graph input, else by position. */
            const char *bind = NULL;
            nt_value_info vi;
            for (int i = 0; name && name[0] && i < n_in; i++)
                if (nt_model_input_info(m, i, &vi) == NT_OK && strcmp(vi.name, name) == 0)
                    bind = vi.name;
            if (!bind && k < n_in && nt_model_input_info(m, k, &vi) == NT_OK)
                bind = vi.name;
            if (!bind)
                child_report(fd, R_FAIL, "input %d ('%s') matches no graph input", k, name ? name : "");
            s = nt_session_set_input(sess, bind, t);
            if (s != NT_OK)
                child_report(fd, status_result(s), "bind input %d: %s", k, nt_last_error());
            nt_tensor_free(t);
            free(name);
        }
        s = nt_session_run(sess);
        if (s != NT_OK)
            child_report(fd, status_result(s), "run: %s", nt_last_error());
        for (int k = 0;; k++) {
            snprintf(path, sizeof path, "%s/output_%d.pb", sd, k);
            if (!file_exists(path))
                break;
            nt_tensor *want;
            char *name = NULL;
            int kind = nt_model_output_kind(m, k);
            s = kind ? nt_pb_value_load(path, kind == 2, &want) : nt_pb_tensor_load(path, &want, &name);
            if (s != NT_OK)
                child_report(fd, status_result(s), "expected output %d: %s", k, nt_last_error());
            const nt_tensor *got;
            if (nt_session_get_output(sess, k, &got) != NT_OK)
                child_report(fd, R_FAIL, "output %d: %s", k, nt_last_error());
            char why[1024];
            if (!compare_value(got, want, why, sizeof why))
                child_report(fd, R_FAIL, "data set %d output %d ('%s'): %s", set, k, name ? name : "", why);
            nt_tensor_free(want);
            free(name);
        }
    }
    nt_session_free(sess);
    nt_model_free(m);
    if (n_sets == 0)
        child_report(fd, R_FAIL, "no test_data_set_* folder");
    child_report(fd, R_PASS, "ok");
}

/* Runs one case in a child; returns its result and fills reason. */
static int run_case(const char *dir, char *reason, size_t len)
{
    int pipefd[2];
    if (pipe(pipefd) != 0) {
        snprintf(reason, len, "pipe: %s", strerror(errno));
        return R_FAIL;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(reason, len, "fork: %s", strerror(errno));
        return R_FAIL;
    }
    if (pid == 0) {
        close(pipefd[0]);
        alarm(CASE_TIMEOUT_S);
        run_case_child(dir, pipefd[1]);
    }
    close(pipefd[1]);
    char buf[4096];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(pipefd[0], buf + got, sizeof buf - 1 - got)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(pipefd[0]);
    int wst;
    while (waitpid(pid, &wst, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(wst)) {
        snprintf(reason, len, "%s (signal %d)",
                 WTERMSIG(wst) == SIGALRM ? "timed out" : "crashed", WTERMSIG(wst));
        return R_FAIL;
    }
    int res;
    int off = 0;
    if (sscanf(buf, "%d %n", &res, &off) != 1 || res < 0 || res > 2) {
        snprintf(reason, len, "child exited %d without a report", WIFEXITED(wst) ? WEXITSTATUS(wst) : -1);
        return R_FAIL;
    }
    char *nl = strchr(buf + off, '\n');
    if (nl)
        *nl = '\0';
    snprintf(reason, len, "%s", buf + off);
    return res;
}

typedef struct expect {
    char *name;
    int result;
} expect;

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    const char *corpus = NULL, *expect_path = NULL;
    const char *filters[64];
    int n_filters = 0;
    bool update = false, verbose = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--corpus") == 0 && i + 1 < argc)
            corpus = argv[++i];
        else if (strcmp(argv[i], "--filter") == 0 && i + 1 < argc && n_filters < 64)
            filters[n_filters++] = argv[++i];
        else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc)
            expect_path = argv[++i];
        else if (strcmp(argv[i], "--update") == 0)
            update = true;
        else if (strcmp(argv[i], "-v") == 0)
            verbose = true;
        else {
            fprintf(stderr, "usage: conformance --corpus DIR [--filter GLOB]... [--expect FILE] [--update] [-v]\n");
            return 1;
        }
    }
    if (!corpus)
        corpus = getenv("NT_CORPUS") ? getenv("NT_CORPUS") : "../shared/onnx-node-tests";
    DIR *d = opendir(corpus);
    if (!d) {
        printf("conformance: skipped: the ONNX node-test corpus was not found at %s (%s)\n", corpus,
               strerror(errno));
        return 0;
    }
    char **names = NULL;
    size_t n_names = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "test_", 5) != 0)
            continue;
        bool match = n_filters == 0;
        for (int f = 0; f < n_filters && !match; f++)
            match = fnmatch(filters[f], e->d_name, 0) == 0;
        if (!match)
            continue;
        if (n_names == cap) {
            cap = cap ? cap * 2 : 256;
            names = realloc(names, cap * sizeof *names);
        }
        names[n_names++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n_names, sizeof *names, cmp_str);

    /* expectations */
    expect *exp = NULL;
    size_t n_exp = 0;
    if (expect_path && !update) {
        FILE *f = fopen(expect_path, "r");
        if (f) {
            char line[512], nm[400], res[32];
            while (fgets(line, sizeof line, f)) {
                if (line[0] == '#' || sscanf(line, "%399s %31s", nm, res) != 2)
                    continue;
                exp = realloc(exp, (n_exp + 1) * sizeof *exp);
                exp[n_exp].name = strdup(nm);
                exp[n_exp].result = strcmp(res, "pass") == 0 ? R_PASS : strcmp(res, "declined") == 0 ? R_DECLINED : R_FAIL;
                n_exp++;
            }
            fclose(f);
        }
    }

    int counts[3] = {0, 0, 0}, regressions = 0, declined_regressions = 0, new_passes = 0;
    int *results = calloc(n_names + 1, sizeof *results);
    for (size_t i = 0; i < n_names; i++) {
        char dir[4096], reason[2048];
        snprintf(dir, sizeof dir, "%s/%s", corpus, names[i]);
        int r = run_case(dir, reason, sizeof reason);
        results[i] = r;
        counts[r]++;
        int expected = -1;
        for (size_t k = 0; k < n_exp; k++)
            if (strcmp(exp[k].name, names[i]) == 0)
                expected = exp[k].result;
        bool regress = expected == R_PASS && r != R_PASS;
        if (regress)
            regressions++;
        if (regress && r == R_DECLINED)
            declined_regressions++;
        if (r == R_PASS && expected != R_PASS && expect_path && !update)
            new_passes++;
        if (verbose || r == R_FAIL || regress)
            printf("%-8s %s%s%s%s\n", result_names[r], names[i], r == R_PASS ? "" : ": ",
                   r == R_PASS ? "" : reason, regress ? "  [REGRESSION: expected pass]" : "");
        else if (r == R_DECLINED && verbose)
            printf("declined %s: %s\n", names[i], reason);
    }
    if (update && expect_path) {
        FILE *f = fopen(expect_path, "w");
        if (!f) {
            fprintf(stderr, "conformance: cannot write %s: %s\n", expect_path, strerror(errno));
            return 2;
        }
        fprintf(f, "# Conformance expectations: one line per ONNX node-test case, written by\n"
                   "# `make conformance-update`. A case listed as pass that stops passing fails the build.\n");
        for (size_t i = 0; i < n_names; i++)
            fprintf(f, "%s %s\n", names[i], result_names[results[i]]);
        fclose(f);
    }
    printf("conformance: %d cases: %d pass, %d fail, %d declined (unsupported); %.1f%% pass\n", (int)n_names,
           counts[R_PASS], counts[R_FAIL], counts[R_DECLINED], n_names ? 100.0 * counts[R_PASS] / (double)n_names : 0.0);
    if (regressions)
        printf("conformance: %d regression%s against %s\n", regressions, regressions == 1 ? "" : "s", expect_path);
    if (new_passes)
        printf("conformance: %d case%s now pass that %s does not list as passing (run make conformance-update)\n",
               new_passes, new_passes == 1 ? "" : "s", expect_path);
    printf("conformance: %d passed, %d failed, %d skipped\n", counts[R_PASS], counts[R_FAIL] + declined_regressions,
           counts[R_DECLINED] - declined_regressions);
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    for (size_t k = 0; k < n_exp; k++)
        free(exp[k].name);
    free(exp);
    free(results);
    return (counts[R_FAIL] || regressions) ? 1 : 0;
}
