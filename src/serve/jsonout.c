/*
 * jsonout.c — JSON helpers for the dashboard API.  JSON has no NaN or
 * Infinity, but a tracer's statistics are full of them and nntrace's own
 * files (like Python's json) write them as bare tokens.  Browsers' JSON.parse
 * rejects those, so everything the API sends carries null instead: numbers
 * through nt_json_num, whole files through nt_json_sanitize.  A file that
 * is still not JSON after that (truncated, corrupt, hand-edited) is caught
 * by nt_json_valid before it is sent, because one bad byte would make the
 * browser reject the whole answer.
 */
#include "serve/serve.h"

#include <math.h>
#include <string.h>

void nt_json_num(nt_buf *b, double v)
{
    if (!isfinite(v))
        nt_buf_puts(b, "null");
    else
        nt_buf_json_double(b, v);
}

void nt_json_wall(nt_buf *b, double v)
{
    if (!isfinite(v))
        nt_buf_puts(b, "null");
    else
        nt_buf_printf(b, "%.3f", v);
}

/* True if the bytes at p (of n remaining) spell word and the token ends there. */
static bool token_at(const char *p, size_t n, const char *word)
{
    size_t w = strlen(word);
    if (n < w || memcmp(p, word, w) != 0)
        return false;
    if (n == w)
        return true;
    char c = p[w];
    return !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
}

void nt_json_sanitize(nt_buf *b, const char *text, size_t len)
{
    size_t i = 0, run = 0; /* text[run, i) is pending verbatim output */
    bool in_str = false;
    while (i < len) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i += 2;
            else {
                if (c == '"')
                    in_str = false;
                i++;
            }
            continue;
        }
        if (c == '"') {
            in_str = true;
            i++;
            continue;
        }
        /* A token may only start after a separator: not inside a word or number. */
        bool boundary = i == 0 || !((text[i - 1] >= 'A' && text[i - 1] <= 'Z') ||
                                    (text[i - 1] >= 'a' && text[i - 1] <= 'z') ||
                                    (text[i - 1] >= '0' && text[i - 1] <= '9') || text[i - 1] == '_' ||
                                    text[i - 1] == '.');
        size_t skip = 0;
        if (boundary) {
            if (c == 'N' && token_at(text + i, len - i, "NaN"))
                skip = 3;
            else if (c == 'I' && token_at(text + i, len - i, "Infinity"))
                skip = 8;
            else if (c == '-' && token_at(text + i, len - i, "-Infinity"))
                skip = 9;
            else if (c == '-' && token_at(text + i, len - i, "-NaN"))
                skip = 4;
        }
        if (skip) {
            nt_buf_append(b, text + run, i - run);
            nt_buf_puts(b, "null");
            i += skip;
            run = i;
            continue;
        }
        i++;
    }
    if (i > len)
        i = len;
    nt_buf_append(b, text + run, i - run);
}

/* ---------------------------------------------------------------- validation */

static void skip_ws(const char *s, size_t n, size_t *i)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\n' || s[*i] == '\r'))
        (*i)++;
}

static bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* A string literal at s[*i] == '"'; bytes >= 0x80 pass (the browser
 * decodes them, replacing what is not UTF-8). */
static bool scan_string(const char *s, size_t n, size_t *i)
{
    size_t k = *i + 1;
    while (k < n) {
        unsigned char c = (unsigned char)s[k];
        if (c == '"') {
            *i = k + 1;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (k + 1 >= n)
                return false;
            char e = s[k + 1];
            if (e == 'u') {
                if (k + 5 >= n || !is_hex(s[k + 2]) || !is_hex(s[k + 3]) || !is_hex(s[k + 4]) || !is_hex(s[k + 5]))
                    return false;
                k += 6;
                continue;
            }
            if (e == '\0' || !strchr("\"\\/bfnrt", e))
                return false;
            k += 2;
            continue;
        }
        k++;
    }
    return false;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static bool scan_number(const char *s, size_t n, size_t *i)
{
    size_t k = *i;
    if (k < n && s[k] == '-')
        k++;
    if (k >= n || !is_digit(s[k]))
        return false;
    if (s[k] == '0')
        k++;
    else
        while (k < n && is_digit(s[k]))
            k++;
    if (k < n && s[k] == '.') {
        k++;
        if (k >= n || !is_digit(s[k]))
            return false;
        while (k < n && is_digit(s[k]))
            k++;
    }
    if (k < n && (s[k] == 'e' || s[k] == 'E')) {
        k++;
        if (k < n && (s[k] == '+' || s[k] == '-'))
            k++;
        if (k >= n || !is_digit(s[k]))
            return false;
        while (k < n && is_digit(s[k]))
            k++;
    }
    *i = k;
    return true;
}

/* An object key and its ':' at s[*i]. */
static bool scan_key(const char *s, size_t n, size_t *i)
{
    if (*i >= n || s[*i] != '"' || !scan_string(s, n, i))
        return false;
    skip_ws(s, n, i);
    if (*i >= n || s[*i] != ':')
        return false;
    (*i)++;
    return true;
}

bool nt_json_valid(const char *text, size_t len)
{
    /* Iterative, with the open containers on an explicit stack: a file of
     * a million '[' must not exhaust the C stack. */
    char open[NT_JSON_MAX_DEPTH];
    int depth = 0;
    size_t i = 0;
    for (;;) {
        /* A value. */
        skip_ws(text, len, &i);
        if (i >= len)
            return false;
        char c = text[i];
        bool opened = false;
        if (c == '{' || c == '[') {
            if (depth >= NT_JSON_MAX_DEPTH)
                return false;
            open[depth++] = c;
            i++;
            skip_ws(text, len, &i);
            if (i < len && text[i] == (c == '{' ? '}' : ']')) {
                depth--;
                i++;
            } else if (c == '{') {
                if (!scan_key(text, len, &i))
                    return false;
                opened = true;
            } else {
                opened = true;
            }
        } else if (c == '"') {
            if (!scan_string(text, len, &i))
                return false;
        } else if (c == '-' || is_digit(c)) {
            if (!scan_number(text, len, &i))
                return false;
        } else if (len - i >= 4 && memcmp(text + i, "true", 4) == 0) {
            i += 4;
        } else if (len - i >= 5 && memcmp(text + i, "false", 5) == 0) {
            i += 5;
        } else if (len - i >= 4 && memcmp(text + i, "null", 4) == 0) {
            i += 4;
        } else {
            return false;
        }
        if (opened)
            continue; /* the container's first member */
        /* After a value: a separator, closers, or the end. */
        for (;;) {
            skip_ws(text, len, &i);
            if (depth == 0)
                return i == len;
            if (i >= len)
                return false;
            char top = open[depth - 1];
            if (text[i] == ',') {
                i++;
                if (top == '{') {
                    skip_ws(text, len, &i);
                    if (!scan_key(text, len, &i))
                        return false;
                }
                break;
            }
            if (text[i] != (top == '{' ? '}' : ']'))
                return false;
            depth--;
            i++;
        }
    }
}
