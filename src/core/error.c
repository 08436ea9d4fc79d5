/*
 * error.c — the thread-local "last error" message behind nt_last_error(),
 * and the always-on assertion handler.
 */
#include "core.h"

#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[16384];

const char *nt_last_error(void) { return last_error; }

void nt_error_clear(void) { last_error[0] = '\0'; }

nt_status nt_verror(nt_status s, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    return s;
}

nt_status nt_error(nt_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nt_verror(s, fmt, ap);
    va_end(ap);
    return s;
}

nt_status nt_error_wrap(nt_status s, const char *fmt, ...)
{
    char prefix[512], old[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, last_error, sizeof old);
    /* Built by hand: snprintf("%s: %s") would warn about truncation, which is intended. */
    size_t np = strlen(prefix), no = strnlen(old, sizeof old - 1);
    if (np > sizeof last_error - 3)
        np = sizeof last_error - 3;
    memcpy(last_error, prefix, np);
    memcpy(last_error + np, ": ", 2);
    size_t room = sizeof last_error - np - 3;
    if (no > room)
        no = room;
    memcpy(last_error + np + 2, old, no);
    last_error[np + 2 + no] = '\0';
    return s;
}

const char *nt_status_name(nt_status s)
{
    switch (s) {
    case NT_OK: return "ok";
    case NT_ERR_INVALID_ARG: return "invalid argument";
    case NT_ERR_IO: return "I/O error";
    case NT_ERR_PARSE: return "parse error";
    case NT_ERR_UNSUPPORTED: return "unsupported";
    case NT_ERR_SHAPE: return "shape error";
    case NT_ERR_NOMEM: return "out of memory";
    case NT_ERR_NOT_FOUND: return "not found";
    case NT_ERR_STOPPED: return "stopped";
    case NT_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

void nt_assert_fail(const char *cond, const char *file, int line)
{
    fprintf(stderr, "nntrace: internal assertion failed at %s:%d: %s\n", file, line, cond);
    abort();
}
