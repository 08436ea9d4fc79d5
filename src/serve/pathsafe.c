/*
 * pathsafe.c — the one place where a client-supplied path becomes a file
 * path.  The dashboard serves only files under the directories it was
 * given; a request may name a file inside a run directory ("graph.svg",
 * "maps/occlusion.png").  Defence in two layers: a lexical check refuses
 * anything that is not a plain relative path of normal components (so
 * "..", encoded leftovers such as "%2e%2e" after one decoding, backslashes
 * and control characters never reach the file system), then the canonical
 * path (realpath, which resolves symlinks) must lie inside the canonical
 * root, which refuses symlinks that lead out.
 *
 * Checking a path and then opening it is a race: between the two, anyone
 * who can write in a served directory can swap a directory for a symlink.
 * So files are read with nt_serve_read_file, which opens without a gap:
 * the run directory (a canonical path, so it contains no symlink at all)
 * with RESOLVE_NO_SYMLINKS, the file below it with RESOLVE_BENEATH (openat2
 * resolves the path in the kernel and refuses anything that leaves the
 * directory), and the checks (a regular file, its size) are made with
 * fstat on what was opened.  Where openat2 is missing (kernels before 5.6,
 * or a sandbox that forbids it) the path is walked one component at a time
 * with openat and O_NOFOLLOW, which refuses every symlink.
 */
#include "serve/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

bool nt_serve_path_within(const char *dir, const char *path)
{
    size_t n = strlen(dir);
    if (n == 1 && dir[0] == '/')
        return path[0] == '/';
    return strncmp(dir, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Lexical check: relative, normal components only, printable bytes. */
static bool rel_ok(const char *rel)
{
    if (!rel || !rel[0] || rel[0] == '/' || strlen(rel) >= PATH_MAX)
        return false;
    for (const unsigned char *p = (const unsigned char *)rel; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '%')
            return false;
    const char *c = rel;
    while (*c) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        if (!e)
            break;
        c = e + 1;
        if (!*c)
            return false; /* trailing slash */
    }
    return true;
}

nt_status nt_serve_safe_path(const char *root, const char *rel, char *out, size_t cap)
{
    if (!root || !out || cap == 0)
        return nt_error(NT_ERR_INVALID_ARG, "nt_serve_safe_path: NULL argument");
    out[0] = '\0';
    if (!rel_ok(rel))
        return nt_error(NT_ERR_INVALID_ARG, "refused path");
    char croot[PATH_MAX], joined[PATH_MAX * 2], canon[PATH_MAX];
    if (!realpath(root, croot))
        return nt_error(NT_ERR_NOT_FOUND, "run directory is gone");
    snprintf(joined, sizeof joined, "%s/%s", croot, rel);
    if (!realpath(joined, canon))
        return nt_error(errno == ENOENT || errno == ENOTDIR ? NT_ERR_NOT_FOUND : NT_ERR_IO, "no such file");
    if (!nt_serve_path_within(croot, canon) || strcmp(croot, canon) == 0)
        return nt_error(NT_ERR_INVALID_ARG, "refused path (leads outside the run directory)");
    if (strlen(canon) >= cap)
        return nt_error(NT_ERR_INVALID_ARG, "path too long");
    memcpy(out, canon, strlen(canon) + 1);
    return NT_OK;
}

/* ---------------------------------------------------------------- race-free open */

static long sys_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
#ifdef SYS_openat2
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = (uint64_t)flags;
    how.resolve = resolve;
    return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
#else
    (void)dirfd;
    (void)path;
    (void)flags;
    (void)resolve;
    errno = ENOSYS;
    return -1;
#endif
}

/* Opens `path` relative to dirfd one component at a time, refusing every
 * symlink (O_NOFOLLOW on each step).  `path` may be absolute. */
static int walk_nofollow(int dirfd, const char *path, int flags)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, strlen(path) + 1);
    char *p = buf;
    int cur = dirfd, owned = -1;
    if (*p == '/') {
        owned = cur = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
            return -1;
        while (*p == '/')
            p++;
    }
    for (;;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        bool last = !slash || !slash[1];
        int next = openat(cur, *p ? p : ".", last ? flags | O_NOFOLLOW : O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int err = errno;
        if (owned >= 0)
            close(owned);
        if (next < 0) {
            errno = err == ELOOP ? EXDEV : err; /* a symlink: refused, not missing */
            return -1;
        }
        if (last)
            return next;
        owned = cur = next;
        p = slash + 1;
    }
}

/* Opens the run directory `dir` (canonical) refusing a symlink anywhere on
 * its path. */
static int open_dir_nosymlinks(const char *dir)
{
    int fd = (int)sys_openat2(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC, RESOLVE_NO_SYMLINKS);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM))
        fd = walk_nofollow(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    return fd;
}

int nt_serve_open_beneath(const char *dir, const char *rel)
{
    if (!dir || !rel_ok(rel)) {
        errno = EXDEV;
        return -1;
    }
    int dfd = open_dir_nosymlinks(dir);
    if (dfd < 0) {
        if (errno == ELOOP)
            errno = EXDEV;
        return -1;
    }
    /* O_NONBLOCK: a FIFO planted in the tree must not hang the request. */
    int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
    int fd = (int)sys_openat2(dfd, rel, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS);
    if (fd < 0 && (errno == ENOSYS || errno == EPERM))
        fd = walk_nofollow(dfd, rel, flags);
    int err = errno;
    close(dfd);
    errno = err == ELOOP ? EXDEV : err;
    return fd;
}

nt_status nt_serve_read_file(const char *dir, const char *rel, size_t cap, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = nt_serve_open_beneath(dir, rel);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return nt_error(NT_ERR_NOT_FOUND, "%s: no such file", rel ? rel : "");
        return nt_error(NT_ERR_INVALID_ARG, "%s: refused path (%s)", rel ? rel : "",
                        errno == EXDEV ? "leads outside the run directory" : strerror(errno));
    }
    struct stat st;
    nt_status s = NT_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        s = nt_error(NT_ERR_NOT_FOUND, "%s: not a regular file", rel);
        goto out;
    }
    if ((uint64_t)st.st_size > cap) {
        s = nt_error(NT_ERR_UNSUPPORTED, "%s is too large to serve (%lld bytes, at most %zu)", rel, (long long)st.st_size,
                     cap);
        goto out;
    }
    /* The size from fstat bounds the read even if the file grows meanwhile. */
    size_t want = (size_t)st.st_size;
    char *buf = nt_malloc(want + 1);
    if (!buf) {
        s = NT_ERR_NOMEM;
        goto out;
    }
    size_t got = 0;
    while (got < want) {
        ssize_t k = read(fd, buf + got, want - got);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k <= 0)
            break; /* shrank meanwhile: what was there */
        got += (size_t)k;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
out:
    close(fd);
    return s;
}
