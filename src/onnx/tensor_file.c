/*
 * tensor_file.c — nt_tensor_load / nt_tensor_save: one entry point for the
 * tensor files the command line accepts (-i NAME=FILE) and writes, picking
 * the format from the file name's suffix: ".npy" (numpy) or ".pb" (an ONNX
 * TensorProto, as in the ONNX test-case layout).  Suffixes are matched
 * without regard to case.  Anything else is refused rather than guessed, so
 * that a typo never turns into a confusing parse error.
 */
#include "core/core.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/stat.h>

typedef enum { FILE_UNKNOWN, FILE_NPY, FILE_PB } tensor_file_kind;

static bool has_suffix(const char *path, const char *suffix)
{
    size_t n = strlen(path), k = strlen(suffix);
    return n > k && strcasecmp(path + n - k, suffix) == 0;
}

static tensor_file_kind file_kind(const char *path)
{
    if (has_suffix(path, ".npy"))
        return FILE_NPY;
    if (has_suffix(path, ".pb"))
        return FILE_PB;
    return FILE_UNKNOWN;
}

nt_status nt_tensor_load(const char *path, nt_tensor **out)
{
    *out = NULL;
    if (!path || !*path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_tensor_load: no path");
    switch (file_kind(path)) {
    case FILE_NPY:
        return nt_npy_load(path, out);
    case FILE_PB: {
        char *name = NULL;
        nt_status s = nt_pb_tensor_load(path, out, &name);
        free(name);
        return s;
    }
    default: {
        /* a path that exists but cannot be opened says why (a symlink loop,
         * no permission) before its suffix matters */
        struct stat sb;
        if (stat(path, &sb) != 0 && errno != ENOENT)
            return nt_error(NT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return nt_error(NT_ERR_INVALID_ARG,
                        "%s: unknown tensor file type (expected a .npy file or an ONNX TensorProto .pb file)", path);
    }
    }
}

nt_status nt_tensor_save(const char *path, const nt_tensor *t)
{
    if (!path || !*path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_tensor_save: no path");
    switch (file_kind(path)) {
    case FILE_NPY:
        return nt_npy_save(path, t);
    case FILE_PB:
        return nt_pb_tensor_save(path, t, NULL);
    default:
        return nt_error(NT_ERR_INVALID_ARG,
                        "%s: unknown tensor file type (expected a name ending in .npy or .pb)", path);
    }
}
