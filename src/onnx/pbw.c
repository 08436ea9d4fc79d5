/*
 * pbw.c — protobuf wire-format encoder (see pbw.h).
 */
#include "onnx/pbw.h"

#include <string.h>

void nt_pbw_varint(nt_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        tmp[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    nt_buf_append(b, tmp, n);
}

void nt_pbw_tag(nt_buf *b, uint32_t field, int wire_type)
{
    nt_pbw_varint(b, ((uint64_t)field << 3) | (uint64_t)wire_type);
}

void nt_pbw_uint(nt_buf *b, uint32_t field, uint64_t v)
{
    nt_pbw_tag(b, field, NT_PB_VARINT);
    nt_pbw_varint(b, v);
}

void nt_pbw_sint(nt_buf *b, uint32_t field, int64_t v) { nt_pbw_uint(b, field, (uint64_t)v); }

void nt_pbw_fixed32(nt_buf *b, uint32_t field, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    nt_pbw_tag(b, field, NT_PB_FIXED32);
    nt_buf_append(b, le, 4);
}

void nt_pbw_fixed64(nt_buf *b, uint32_t field, uint64_t v)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    nt_pbw_tag(b, field, NT_PB_FIXED64);
    nt_buf_append(b, le, 8);
}

void nt_pbw_float(nt_buf *b, uint32_t field, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    nt_pbw_fixed32(b, field, u);
}

void nt_pbw_double(nt_buf *b, uint32_t field, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    nt_pbw_fixed64(b, field, u);
}

void nt_pbw_bytes(nt_buf *b, uint32_t field, const void *data, size_t n)
{
    nt_pbw_tag(b, field, NT_PB_LEN);
    nt_pbw_varint(b, n);
    nt_buf_append(b, data, n);
}

void nt_pbw_string(nt_buf *b, uint32_t field, const char *s) { nt_pbw_bytes(b, field, s, strlen(s)); }

size_t nt_pbw_begin(nt_buf *b, uint32_t field)
{
    nt_pbw_tag(b, field, NT_PB_LEN);
    nt_buf_putc(b, 0); /* one byte reserved for the length */
    return b->len;
}

void nt_pbw_end(nt_buf *b, size_t mark)
{
    if (b->failed)
        return;
    size_t body = b->len - mark;
    uint8_t tmp[10];
    size_t n = 0;
    uint64_t v = body;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        tmp[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    if (n > 1) {
        /* grow by n-1 bytes and shift the body right */
        for (size_t i = 1; i < n; i++)
            nt_buf_putc(b, 0);
        if (b->failed)
            return;
        memmove(b->data + mark + n - 1, b->data + mark, body);
    }
    memcpy(b->data + mark - 1, tmp, n);
}
