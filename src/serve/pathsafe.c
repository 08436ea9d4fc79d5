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
 */
#include "serve/serve.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

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
