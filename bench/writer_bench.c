/*
 * writer_bench.c — throughput of the TensorBoard event writer's scalar path
 * (target: at least a million scalar records a second).  Uses only the
 * public API.
 *
 *     writer_bench [N] [--dir DIR] [--min RATE]
 *
 * Writes N scalars (default 2,000,000) over 8 tags with the default flush
 * policy into DIR (default: a fresh directory under /tmp, removed after),
 * closes the writer and prints one greppable line:
 *     writer: N scalars in S s = R records/s (B bytes, M MB/s)
 * With --min RATE it exits 3 when R < RATE.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <nntrace.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Total size of the event files in dir; removes them when `remove` is set. */
static long long dir_bytes(const char *dir, int remove)
{
    long long total = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, "tfevents"))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0)
            total += (long long)st.st_size;
        if (remove)
            unlink(path);
    }
    closedir(d);
    return total;
}

int main(int argc, char **argv)
{
    long long n = 2000000;
    double min_rate = 0;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--min") == 0 && i + 1 < argc)
            min_rate = atof(argv[++i]);
        else if (argv[i][0] != '-')
            n = atoll(argv[i]);
        else {
            fprintf(stderr, "usage: writer_bench [N] [--dir DIR] [--min RATE]\n");
            return 1;
        }
    }
    if (n < 1)
        n = 1;
    char tmp[] = "/tmp/nt_writer_bench_XXXXXX";
    int own_dir = dir == NULL;
    if (own_dir && !(dir = mkdtemp(tmp))) {
        perror("writer_bench: mkdtemp");
        return 2;
    }
    static const char *const tags[8] = {"loss/train", "loss/val", "accuracy/train", "accuracy/val",
                                        "lr", "grad_norm/layer1", "grad_norm/layer2", "throughput/samples"};
    nt_writer *w;
    double t0 = now_s();
    if (nt_writer_open(dir, &w) != NT_OK) {
        fprintf(stderr, "writer_bench: %s\n", nt_last_error());
        return 2;
    }
    nt_status s = NT_OK;
    for (long long i = 0; i < n && s == NT_OK; i++)
        s = nt_writer_scalar(w, tags[i & 7], i >> 3, 1.0 / (double)(i + 1));
    nt_status cs = nt_writer_close(w);
    double secs = now_s() - t0;
    if (s == NT_OK)
        s = cs;
    long long bytes = dir_bytes(dir, own_dir);
    if (own_dir)
        rmdir(dir);
    if (s != NT_OK) {
        fprintf(stderr, "writer_bench: %s\n", nt_last_error());
        return 2;
    }
    double rate = (double)n / secs;
    printf("writer: %lld scalars in %.3f s = %.0f records/s (%lld bytes, %.1f MB/s)\n", n, secs, rate, bytes,
           (double)bytes / secs / 1e6);
    if (min_rate > 0 && rate < min_rate) {
        printf("writer: below the target of %.0f records/s\n", min_rate);
        return 3;
    }
    return 0;
}
