/*
 * buf.c — a growable byte buffer with printf and JSON helpers, used by every
 * writer of text formats (JSON, JSONL, DOT, SVG).
 */
#include "core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nt_buf_init(nt_buf *b) { memset(b, 0, sizeof *b); }

void nt_buf_deinit(nt_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static bool buf_grow(nt_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *p = nt_realloc(b->data, cap);
    if (!p) {
        b->failed = true;
        nt_error(NT_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void nt_buf_append(nt_buf *b, const void *data, size_t n)
{
    if (!buf_grow(b, n))
        return;
    memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void nt_buf_puts(nt_buf *b, const char *s) { nt_buf_append(b, s, strlen(s)); }

void nt_buf_putc(nt_buf *b, char c) { nt_buf_append(b, &c, 1); }

void nt_buf_printf(nt_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        nt_buf_append(b, small, (size_t)n);
        return;
    }
    if (!buf_grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void nt_buf_json_string(nt_buf *b, const char *s)
{
    nt_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        switch (*p) {
        case '"': nt_buf_puts(b, "\\\""); break;
        case '\\': nt_buf_puts(b, "\\\\"); break;
        case '\n': nt_buf_puts(b, "\\n"); break;
        case '\r': nt_buf_puts(b, "\\r"); break;
        case '\t': nt_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20)
                nt_buf_printf(b, "\\u%04x", *p);
            else
                nt_buf_putc(b, (char)*p);
        }
    }
    nt_buf_putc(b, '"');
}

void nt_buf_json_double(nt_buf *b, double v)
{
    if (isnan(v))
        nt_buf_puts(b, "NaN");
    else if (isinf(v))
        nt_buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
    else if (v == floor(v) && fabs(v) < 1e15)
        nt_buf_printf(b, "%.0f", v);
    else
        nt_buf_printf(b, "%.9g", v);
}

nt_status nt_buf_take(nt_buf *b, char **out, size_t *len)
{
    if (!b->data)
        nt_buf_append(b, "", 0);   /* "" rather than NULL */
    if (b->failed) {
        nt_buf_deinit(b);
        return nt_error(NT_ERR_NOMEM, "out of memory");
    }
    if (len)
        *len = b->len;
    *out = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return NT_OK;
}
