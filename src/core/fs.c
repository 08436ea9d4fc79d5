/*
 * fs.c — small file-system helpers: whole-file read, atomic write, mkdir -p,
 * and the monotonic clock.
 */
#define _POSIX_C_SOURCE 200809L
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double nt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

nt_status nt_read_stream(FILE *f, const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    nt_buf b;
    nt_buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        nt_buf_append(&b, chunk, n);
    if (ferror(f)) {
        nt_buf_deinit(&b);
        return nt_error(NT_ERR_IO, "%s: read error", path);
    }
    if (b.failed) {
        nt_buf_deinit(&b);
        return nt_error(NT_ERR_NOMEM, "%s: out of memory reading the file", path);
    }
    if (!b.data) {
        b.data = nt_calloc(1, 1);
        if (!b.data)
            return NT_ERR_NOMEM;
    }
    *data = b.data;
    *len = b.len;
    return NT_OK;
}

nt_status nt_read_file(const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return nt_error(NT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    nt_status s = nt_read_stream(f, path, data, len);
    fclose(f);
    return s;
}

nt_status nt_write_file(const char *path, const void *data, size_t len)
{
    /* the temporary is DIR/.NAME.tmp-PID: hidden, and named so that no
     * reader takes it for data (a killed writer may leave it behind) */
    size_t plen = strlen(path);
    char *tmp = nt_malloc(plen + 32);
    if (!tmp)
        return NT_ERR_NOMEM;
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(tmp, plen + 32, "%.*s.%s.tmp-%ld", (int)dlen, path, path + dlen, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        nt_status s = nt_error(NT_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        free(tmp);
        return s;
    }
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    int err = (w != len) ? errno : 0;
    if (fclose(f) != 0 && !err)
        err = errno ? errno : EIO;
    if (err || w != len) {
        unlink(tmp);
        free(tmp);
        return nt_error(NT_ERR_IO, "%s: write failed: %s", path, strerror(err ? err : EIO));
    }
    if (rename(tmp, path) != 0) {
        nt_status s = nt_error(NT_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return s;
    }
    free(tmp);
    return NT_OK;
}

nt_status nt_mkdirs(const char *path)
{
    char *p = nt_strdup(path);
    if (!p)
        return NT_ERR_NOMEM;
    size_t n = strlen(p);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            nt_status s = nt_error(NT_ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
            free(p);
            return s;
        }
        p[i] = c;
    }
    struct stat st;
    nt_status s = NT_OK;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        s = nt_error(NT_ERR_IO, "%s: not a directory", path);
    free(p);
    return s;
}

/* The `run -o` file-name rule (DESIGN.md): every character outside
 * [A-Za-z0-9_.-] becomes '_'. */
void nt_sanitize_name(const char *name, char *out, size_t len)
{
    size_t i = 0;
    for (; name[i] && i + 1 < len; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == '-';
        out[i] = ok ? c : '_';
    }
    if (len)
        out[i] = '\0';
}

const char *nt_value_file(const char *dir, const char *name, char *out, size_t len)
{
    char stem[512];
    nt_sanitize_name(name, stem, sizeof stem);
    if (dir)
        snprintf(out, len, "%s/%s.npy", dir, stem);
    else
        snprintf(out, len, "%s", stem);
    return out;
}
