/*
 * utf8_case.h — upper- and lowercasing UTF-8 text by Unicode's simple case
 * mappings, independent of the process locale (toupper/tolower change
 * ASCII only in the "C" locale, and a model must not compute differently
 * depending on LANG).
 */
#ifndef NT_UTF8_CASE_H
#define NT_UTF8_CASE_H

#include <stdbool.h>
#include <stdint.h>

/* The code point c upper- (or lower-) cased: ASCII, U+0080..U+024F (Latin-1
 * Supplement, Latin Extended-A/B) and U+0370..U+052F (Greek, Cyrillic,
 * Cyrillic Supplement); other code points are returned unchanged. */
uint32_t nt_unicode_change_case(uint32_t c, bool upper);

/* A new NUL-terminated copy of the UTF-8 string s with every code point
 * case-changed; bytes that are not well-formed UTF-8 are copied as they
 * are.  NULL when out of memory.  Free with free(). */
char *nt_utf8_change_case(const char *s, bool upper);

#endif /* NT_UTF8_CASE_H */
