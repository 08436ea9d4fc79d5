/*
 * serve_writer.c — writes event files for the dashboard's end-to-end test
 * (tests/e2e/serve_check.py) through the public API only.
 *
 *     serve_writer DIR N [TAG]
 *
 * Writes N scalars to TAG (default "big/series") at steps 0..N-1: a slow
 * sine with one spike (value 1000 at step N/2) and one NaN (step N/3), so
 * the test can tell that downsampling kept both.  Flushes at the end.
 */
#include <nntrace.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: serve_writer DIR N [TAG]\n");
        return 1;
    }
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
