/*
 * pb.c — the protobuf wire reader (see pb.h).
 *
 * Everything here is defensive: the input may be truncated, random or
 * hostile.  Lengths are compared with the bytes remaining before any
 * pointer arithmetic, so no pointer ever leaves [start, end].
 */
#include "onnx/pb.h"

#include <string.h>

nt_pb nt_pb_init(const void *data, size_t len)
{
    nt_pb c;
    c.p = (const uint8_t *)data;
    c.end = c.p ? c.p + len : c.p;
    c.depth = 0;
    return c;
}

nt_status nt_pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (q >= end)
            return nt_error(NT_ERR_PARSE, "truncated varint");
        uint8_t b = *q++;
        /* The tenth byte may only carry the top bit of a 64-bit value. */
        if (i == 9 && b > 1)
            return nt_error(NT_ERR_PARSE, "varint overflows 64 bits");
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *p = q;
            *out = v;
            return NT_OK;
        }
    }
    return nt_error(NT_ERR_PARSE, "varint longer than 10 bytes");
}

nt_status nt_pb_next(nt_pb *c, nt_pb_field *f)
{
    memset(f, 0, sizeof *f);
    if (c->p >= c->end) {
        f->end = true;
        return NT_OK;
    }
    uint64_t key;
    nt_status s = nt_pb_read_varint(&c->p, c->end, &key);
    if (s != NT_OK)
        return nt_error(s, "truncated field key");
    uint64_t num = key >> 3;
    f->wire = (int)(key & 7);
    if (num == 0 || num > 536870911u)
        return nt_error(NT_ERR_PARSE, "invalid field number %llu", (unsigned long long)num);
    f->num = (uint32_t)num;
    size_t left;
    switch (f->wire) {
    case NT_PB_VARINT:
        s = nt_pb_read_varint(&c->p, c->end, &f->v);
        if (s != NT_OK)
            return nt_error(s, "field %u: truncated varint", f->num);
        return NT_OK;
    case NT_PB_FIXED64:
        if (nt_pb_left(c) < 8)
            return nt_error(NT_ERR_PARSE, "field %u: 64-bit value needs 8 bytes, %zu left", f->num,
                            nt_pb_left(c));
        for (int i = 7; i >= 0; i--)
            f->v = (f->v << 8) | c->p[i];
        c->p += 8;
        return NT_OK;
    case NT_PB_FIXED32:
        if (nt_pb_left(c) < 4)
            return nt_error(NT_ERR_PARSE, "field %u: 32-bit value needs 4 bytes, %zu left", f->num,
                            nt_pb_left(c));
        f->v = (uint64_t)c->p[0] | (uint64_t)c->p[1] << 8 | (uint64_t)c->p[2] << 16 |
               (uint64_t)c->p[3] << 24;
        c->p += 4;
        return NT_OK;
    case NT_PB_LEN: {
        uint64_t n;
        s = nt_pb_read_varint(&c->p, c->end, &n);
        if (s != NT_OK)
            return nt_error(s, "field %u: truncated length", f->num);
        left = nt_pb_left(c);
        if (n > left)
            return nt_error(NT_ERR_PARSE, "field %u: length %llu exceeds the %zu bytes left", f->num,
                            (unsigned long long)n, left);
        f->data = c->p;
        f->len = (size_t)n;
        c->p += n;
        return NT_OK;
    }
    case 3:
    case 4:
        return nt_error(NT_ERR_PARSE, "field %u: groups (wire type %d) are not supported", f->num,
                        f->wire);
    default:
        return nt_error(NT_ERR_PARSE, "field %u: invalid wire type %d", f->num, f->wire);
    }
}

nt_status nt_pb_sub(const nt_pb *c, const nt_pb_field *f, nt_pb *sub)
{
    if (f->wire != NT_PB_LEN)
        return nt_error(NT_ERR_PARSE, "field %u: expected a message, found wire type %d", f->num,
                        f->wire);
    if (c->depth + 1 > NT_PB_MAX_DEPTH)
        return nt_error(NT_ERR_PARSE, "messages nested deeper than %d levels", NT_PB_MAX_DEPTH);
    sub->p = f->data;
    sub->end = f->data + f->len;
    sub->depth = c->depth + 1;
    return NT_OK;
}

nt_status nt_pb_field_int(const nt_pb_field *f, uint64_t *out)
{
    if (f->wire == NT_PB_LEN)
        return nt_error(NT_ERR_PARSE, "field %u: expected a number, found a length-delimited value",
                        f->num);
    *out = f->v;
    return NT_OK;
}

nt_status nt_pb_field_float(const nt_pb_field *f, float *out)
{
    if (f->wire != NT_PB_FIXED32)
        return nt_error(NT_ERR_PARSE, "field %u: expected a float (wire type 5), found wire type %d",
                        f->num, f->wire);
    uint32_t u = (uint32_t)f->v;
    memcpy(out, &u, 4);
    return NT_OK;
}

nt_status nt_pb_field_double(const nt_pb_field *f, double *out)
{
    if (f->wire != NT_PB_FIXED64)
        return nt_error(NT_ERR_PARSE, "field %u: expected a double (wire type 1), found wire type %d",
                        f->num, f->wire);
    memcpy(out, &f->v, 8);
    return NT_OK;
}

static size_t fixed_width(int wire) { return wire == NT_PB_FIXED32 ? 4 : 8; }

nt_status nt_pb_count_elems(const nt_pb_field *f, int wire, size_t *count)
{
    if (f->wire == wire) {
        *count += 1;
        return NT_OK;
    }
    if (f->wire != NT_PB_LEN)
        return nt_error(NT_ERR_PARSE, "field %u: wire type %d where %d or a packed list was expected",
                        f->num, f->wire, wire);
    if (wire == NT_PB_VARINT) {
        /* Every value ends with a byte whose top bit is clear. */
        size_t n = 0, run = 0;
        for (size_t i = 0; i < f->len; i++) {
            run++;
            if (run > 10)
                return nt_error(NT_ERR_PARSE, "field %u: varint longer than 10 bytes in packed list",
                                f->num);
            if (!(f->data[i] & 0x80)) {
                n++;
                run = 0;
            }
        }
        if (run)
            return nt_error(NT_ERR_PARSE, "field %u: packed list ends inside a varint", f->num);
        *count += n;
        return NT_OK;
    }
    size_t w = fixed_width(wire);
    if (f->len % w)
        return nt_error(NT_ERR_PARSE, "field %u: packed list of %zu bytes is not a multiple of %zu",
                        f->num, f->len, w);
    *count += f->len / w;
    return NT_OK;
}

bool nt_pb_elem_iter(const nt_pb_field *f, int wire, size_t *pos, uint64_t *out)
{
    if (f->wire != NT_PB_LEN) {
        if (*pos)
            return false;
        *pos = 1;
        *out = f->v;
        return true;
    }
    if (*pos >= f->len)
        return false;
    if (wire == NT_PB_VARINT) {
        const uint8_t *p = f->data + *pos;
        if (nt_pb_read_varint(&p, f->data + f->len, out) != NT_OK)
            return false;
        *pos = (size_t)(p - f->data);
        return true;
    }
    size_t w = fixed_width(wire);
    if (f->len - *pos < w)
        return false;
    uint64_t v = 0;
    for (size_t i = w; i-- > 0;)
        v = (v << 8) | f->data[*pos + i];
    *pos += w;
    *out = v;
    return true;
}
