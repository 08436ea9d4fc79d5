/*
 * failwrite.c — an LD_PRELOAD shim that makes the disk look full, for
 * fault_check.py: once the files a process has grown have grown by more
 * than FAILWRITE_AFTER bytes in all, every write(2), pwrite(2) or
 * fwrite(3) that would grow a regular file fails with ENOSPC, as on a full
 * disk; writes over bytes a file already has still succeed (as they do on
 * a full tmpfs or ext4).  Terminals, pipes and sockets are left alone.
 *
 * fwrite is wrapped as well as write because glibc's stdio calls its
 * internal write, which a preloaded write does not replace.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static long long limit = -1, grown;

static void init(void)
{
    if (limit < 0) {
        const char *v = getenv("FAILWRITE_AFTER");
        limit = v ? atoll(v) : (1LL << 62);
    }
}

/* Whether writing n bytes at off of fd (off < 0: at its current offset)
 * would grow it past the budget; counts the growth when it does not. */
static int would_fail(int fd, long long off, size_t n)
{
    init();
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    if (off < 0)
        off = lseek(fd, 0, SEEK_CUR);
    long long end = off + (long long)n, growth = end > sb.st_size ? end - sb.st_size : 0;
    if (growth == 0)
        return 0;
    if (grown + growth > limit)
        return 1;
    grown += growth;
    return 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    if (would_fail(fd, -1, n)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real)
        real = (ssize_t(*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    if (would_fail(fd, off, n)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, buf, n, off);
}

size_t fwrite(const void *buf, size_t size, size_t count, FILE *f)
{
    static size_t (*real)(const void *, size_t, size_t, FILE *);
    if (!real)
        real = (size_t(*)(const void *, size_t, size_t, FILE *))dlsym(RTLD_NEXT, "fwrite");
    long pos = ftell(f);
    if (pos >= 0 && would_fail(fileno(f), pos, size * count)) {
        errno = ENOSPC;
        return 0;
    }
    return real(buf, size, count, f);
}
