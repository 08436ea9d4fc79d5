/*
 * utf8.h — one UTF-8 code point at a time, strictly: overlong forms,
 * surrogates and values past U+10FFFF are not well-formed.
 */
#ifndef NT_UTF8_H
#define NT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Appends code point c as UTF-8 to out; returns the bytes written (1..4). */
size_t nt_utf8_encode(uint32_t c, char *out);

/* Decodes one code point from s (n bytes left, n >= 1); returns its
 * length, or 0 when the bytes are not well-formed UTF-8. */
size_t nt_utf8_decode(const uint8_t *s, size_t n, uint32_t *c);

#endif /* NT_UTF8_H */
