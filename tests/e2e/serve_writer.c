/*
 * serve_writer.c — writes event files for the dashboard's end-to-end test
 * (tests/e2e/serve_check.py) through the public API only.
 *
 *     serve_writer DIR N [TAG]
 *
 * Writes N scalars to TAG (default "big/series") at steps 0..N-1: a slow
 * sine with one spike (value 1000 at step N/2) and one NaN (step N/3), so
 * the test can tell that downsampling kept both.  Flushes at the end.
 *
 *     serve_writer DIR reverse N     N scalars "late/series", steps N-1 down to 0
 *     serve_writer DIR texts K BYTES K texts "big/text" of BYTES bytes each
 *
 * (for tests/e2e/serve_fault_check.py: out-of-order steps, huge texts).
 */
#include <nntrace.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int special(const char *dir, const char *mode, long long n, long long bytes)
{
    nt_writer *w = NULL;
    if (nt_writer_open(dir, &w) != NT_OK) {
        fprintf(stderr, "serve_writer: %s\n", nt_last_error());
        return 2;
    }
    char *text = NULL;
    if (strcmp(mode, "texts") == 0) {
        text = malloc((size_t)bytes + 1);
        if (!text)
            return 2;
        for (long long i = 0; i < bytes; i++)
            text[i] = (char)('a' + i % 26);
        text[bytes] = '\0';
    }
    nt_status s = NT_OK;
    for (long long i = 0; i < n && s == NT_OK; i++)
        s = text ? nt_writer_text(w, "big/text", i, text) : nt_writer_scalar(w, "late/series", n - 1 - i, (double)(n - 1 - i));
    free(text);
    if (s != NT_OK || nt_writer_close(w) != NT_OK) {
        fprintf(stderr, "serve_writer: %s\n", nt_last_error());
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: serve_writer DIR N [TAG]\n");
        return 1;
    }
    if (strcmp(argv[2], "reverse") == 0 && argc > 3)
        return special(argv[1], "reverse", atoll(argv[3]), 0);
    if (strcmp(argv[2], "texts") == 0 && argc > 4)
        return special(argv[1], "texts", atoll(argv[3]), atoll(argv[4]));
    long long n = atoll(argv[2]);
    const char *tag = argc > 3 ? argv[3] : "big/series";
    nt_writer *w = NULL;
    if (nt_writer_open(argv[1], &w) != NT_OK) {
        fprintf(stderr, "serve_writer: %s\n", nt_last_error());
        return 2;
    }
    for (long long i = 0; i < n; i++) {
        double v = sin((double)i * 1e-4);
        if (i == n / 2)
            v = 1000.0;
        if (i == n / 3)
            v = NAN;
        if (nt_writer_scalar(w, tag, i, v) != NT_OK) {
            fprintf(stderr, "serve_writer: %s\n", nt_last_error());
            return 2;
        }
    }
    if (nt_writer_close(w) != NT_OK) {
        fprintf(stderr, "serve_writer: %s\n", nt_last_error());
        return 2;
    }
    return 0;
}
