/*
 * extdata.c — ONNX external data: tensors whose bytes live in a separate
 * file next to the model (data_location = EXTERNAL, external_data entries
 * "location", "offset", "length"; "checksum" is ignored).
 *
 * Each external file is mapped read-only once per model and kept in the
 * model's m->ext list until nt_model_free; tensors point into the map, so
 * even multi-gigabyte weight files load without a copy.  Sizes and offsets
 * are size_t / off_t throughout.
 *
 * A model file is untrusted input, so its locations may not name anything
 * outside the model's folder: absolute paths, ".." components and symlinks
 * that resolve elsewhere are refused (NT_ERR_PARSE, naming the tensor).
 */
#define _POSIX_C_SOURCE 200809L
#include "onnx/onnx_tensor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct nt_extmap {
    struct nt_extmap *next;
    char *location;          /* as written in the model */
    const uint8_t *map;      /* NULL for an empty file */
    size_t len;
};

void nt_extdata_free(nt_model *m)
{
    struct nt_extmap *e = m->ext;
    while (e) {
        struct nt_extmap *next = e->next;
        if (e->map)
            munmap((void *)e->map, e->len);
        free(e->location);
        free(e);
        e = next;
    }
    m->ext = NULL;
}

bool nt_extdata_maps(const nt_model *m, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (const struct nt_extmap *e = m->ext; e; e = e->next)
        if (e->map && b >= e->map && n <= e->len && (size_t)(b - e->map) <= e->len - n)
            return true;
    return false;
}

/* True if `loc` is a relative path without "." ".." games upward. */
static bool location_is_confined(const char *loc)
{
    if (loc[0] == '/')
        return false;
    const char *p = loc;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += n;
        if (*p == '/')
            p++;
    }
    return true;
}

/* Maps `loc` (relative to m->dir), or finds its earlier map. */
static nt_status ext_map(nt_model *m, const char *loc, const char *tname, struct nt_extmap **out)
{
    for (struct nt_extmap *e = m->ext; e; e = e->next)
        if (strcmp(e->location, loc) == 0) {
            *out = e;
            return NT_OK;
        }
    size_t dl = strlen(m->dir), ll = strlen(loc);
    char *full = nt_malloc(dl + ll + 2);
    if (!full)
        return NT_ERR_NOMEM;
    memcpy(full, m->dir, dl);
    full[dl] = '/';
    memcpy(full + dl + 1, loc, ll + 1);

    /* Symlinks: what the path really names must sit under the model's folder. */
    nt_status s = NT_OK;
    char *real_dir = realpath(m->dir, NULL);
    char *real_file = realpath(full, NULL);
    if (!real_dir || !real_file) {
        s = nt_error(NT_ERR_IO, "tensor '%s': external data file '%s' cannot be opened: %s", tname, full,
                     strerror(errno));
        goto out;
    }
    size_t rl = strlen(real_dir);
    bool inside = strncmp(real_file, real_dir, rl) == 0 &&
                  (real_file[rl] == '/' || (rl == 1 && real_dir[0] == '/'));
    if (!inside) {
        s = nt_error(NT_ERR_PARSE, "tensor '%s': external data location '%s' resolves outside the model's folder",
                     tname, loc);
        goto out;
    }
    int fd = open(real_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s = nt_error(NT_ERR_IO, "tensor '%s': external data file '%s' cannot be opened: %s", tname, full,
                     strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        s = nt_error(NT_ERR_IO, "tensor '%s': external data '%s' is not a regular file", tname, full);
        goto out;
    }
    struct nt_extmap *e = nt_calloc(1, sizeof *e);
    if (!e || !(e->location = nt_strdup(loc))) {
        free(e);
        close(fd);
        s = NT_ERR_NOMEM;
        goto out;
    }
    if (st.st_size > 0) {
        if ((uint64_t)st.st_size > SIZE_MAX) {
            s = nt_error(NT_ERR_IO, "tensor '%s': external data '%s' is too large to map", tname, full);
        } else {
            void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                s = nt_error(NT_ERR_IO, "tensor '%s': cannot map external data '%s': %s", tname, full,
                             strerror(errno));
            } else {
                e->map = p;
                e->len = (size_t)st.st_size;
            }
        }
    }
    close(fd);
    if (s != NT_OK) {
        free(e->location);
        free(e);
        goto out;
    }
    e->next = m->ext;
    m->ext = e;
    *out = e;
out:
    free(real_dir);
    free(real_file);
    free(full);
    return s;
}

nt_status nt_extdata_resolve(nt_model *m, const nt_tproto *tp, nt_tensor *t)
{
    char tname[256];
    snprintf(tname, sizeof tname, "%.*s", (int)NT_MIN(tp->name_len, 200), tp->name ? tp->name : "");
    memset(t, 0, sizeof *t);
    int64_t dt = tp->data_type;
    if (dt <= NT_DTYPE_UNDEFINED || dt >= NT_DTYPE_COUNT)
        return nt_error(NT_ERR_PARSE, "tensor '%s': data_type %lld is not an ONNX tensor type", tname,
                        (long long)dt);
    if (dt == NT_DTYPE_STRING)
        return nt_error(NT_ERR_UNSUPPORTED, "tensor '%s': STRING tensors in external data are not supported",
                        tname);
    if (nt_dtype_bits((nt_dtype)dt) < 8)
        return nt_error(NT_ERR_UNSUPPORTED, "tensor '%s': %s tensors in external data are not supported "
                        "(they are packed there and unpacked in memory)", tname, nt_dtype_onnx_name((nt_dtype)dt));
    int64_t n;
    size_t nbytes;
    nt_status s = nt_tproto_numel(tp, &n, &nbytes);
    if (s != NT_OK)
        return nt_error_wrap(s, "tensor '%s'", tname);
    if (!m->dir)
        return nt_error(NT_ERR_UNSUPPORTED, "tensor '%s': external data needs a model loaded from a file",
                        tname);
    if (!tp->ext_location || tp->ext_location_len == 0)
        return nt_error(NT_ERR_PARSE, "tensor '%s': external data without a location", tname);
    if (memchr(tp->ext_location, '\0', tp->ext_location_len) || tp->ext_location_len > PATH_MAX)
        return nt_error(NT_ERR_PARSE, "tensor '%s': external data location is not a valid path", tname);
    if (tp->bad_ext_number)
        return nt_error(NT_ERR_PARSE, "tensor '%s': external data offset or length is not a number", tname);
    char *loc = nt_strndup((const char *)tp->ext_location, tp->ext_location_len);
    if (!loc)
        return NT_ERR_NOMEM;
    if (!location_is_confined(loc)) {
        s = nt_error(NT_ERR_PARSE, "tensor '%s': external data location '%s' is absolute or contains '..' "
                     "(only files inside the model's folder are read)", tname, loc);
        free(loc);
        return s;
    }
    struct nt_extmap *e = NULL;
    s = ext_map(m, loc, tname, &e);
    if (s != NT_OK) {
        free(loc);
        return s;
    }
    uint64_t off = tp->ext_offset;
    uint64_t len = tp->has_ext_length ? tp->ext_length : (off <= e->len ? e->len - off : 0);
    if (off > e->len || len > e->len - off) {
        s = nt_error(NT_ERR_PARSE, "tensor '%s': external data range offset %llu length %llu is past the end "
                     "of '%s' (%zu bytes)", tname, (unsigned long long)off, (unsigned long long)len, loc,
                     e->len);
        free(loc);
        return s;
    }
    if (len != nbytes) {
        s = nt_error(NT_ERR_PARSE, "tensor '%s': external data holds %llu bytes, the shape needs %zu", tname,
                     (unsigned long long)len, nbytes);
        free(loc);
        return s;
    }
    free(loc);
    t->dtype = (nt_dtype)dt;
    t->ndim = tp->ndim;
    memcpy(t->dims, tp->dims, sizeof tp->dims);
    t->data = e->map ? (void *)(e->map + off) : NULL;
    t->capacity = nbytes;
    return NT_OK;
}
