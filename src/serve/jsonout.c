/*
 * jsonout.c — JSON helpers for the dashboard API.  JSON has no NaN or
 * Infinity, but a tracer's statistics are full of them and nntrace's own
 * files (like Python's json) write them as bare tokens.  Browsers' JSON.parse
 * rejects those, so everything the API sends carries null instead: numbers
 * through nt_json_num, whole files through nt_json_sanitize.
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
