/*
 * utf8_case.c — Unicode simple case mappings for UTF-8 strings
 * (StringNormalizer's case_change_action), from a generated table of runs
 * (utf8_case_table.h, made by scripts/gen_utf8_case.py).  A mapping may
 * change a character's encoded length (U+0131 'ı' upper is 'I'; U+023A
 * upper is U+2C65), so strings are rebuilt, never changed in place.
 */
#include "core/utf8_case.h"
#include "core/utf8.h"
#include "core/core.h"

#include <stdlib.h>
#include <string.h>

typedef struct nt_case_run {
    uint32_t first, last;   /* code points, inclusive */
    uint32_t step;          /* 1, or 2 for alternating upper/lower pairs */
    int32_t delta;          /* added to a code point in the run */
} nt_case_run;

#include "core/utf8_case_table.h"

static uint32_t map_runs(const nt_case_run *r, int n, uint32_t c)
{
    int lo = 0, hi = n - 1, found = -1;
    while (lo <= hi) { /* the last run starting at or before c */
        int mid = (lo + hi) / 2;
        if (r[mid].first <= c) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (found < 0 || c > r[found].last || (c - r[found].first) % r[found].step != 0)
        return c;
    return (uint32_t)((int64_t)c + r[found].delta);
}

uint32_t nt_unicode_change_case(uint32_t c, bool upper)
{
    if (c < 0x80) {
        if (upper && c >= 'a' && c <= 'z')
            return c - 32;
        if (!upper && c >= 'A' && c <= 'Z')
            return c + 32;
        return c;
    }
    if (upper)
        return map_runs(nt_case_to_upper, (int)(sizeof nt_case_to_upper / sizeof nt_case_to_upper[0]), c);
    return map_runs(nt_case_to_lower, (int)(sizeof nt_case_to_lower / sizeof nt_case_to_lower[0]), c);
}

char *nt_utf8_change_case(const char *s, bool upper)
{
    size_t n = strlen(s);
    /* a mapped character grows by at most half (2 -> 3 bytes) */
    char *out = nt_malloc(n + n / 2 + 4);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < n) {
        uint32_t c;
        size_t len = nt_utf8_decode(p + i, n - i, &c);
        if (len == 0) { /* not UTF-8: kept as it is */
            out[o++] = (char)p[i++];
            continue;
        }
        o += nt_utf8_encode(nt_unicode_change_case(c, upper), out + o);
        i += len;
    }
    out[o] = '\0';
    return out;
}
