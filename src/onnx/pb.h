/*
 * pb.h — a bounds-checked protobuf wire-format reader over a byte range.
 *
 * The reader never copies: a length-delimited field is handed back as a
 * pointer and length inside the caller's buffer (a memory-mapped model), so
 * weights stay where they are.  Every length is checked against the bytes
 * that remain, varints are at most 10 bytes, groups (wire types 3 and 4)
 * are refused, and nested messages carry a depth so that a hostile file of
 * deeply nested subgraphs cannot exhaust the stack.
 *
 * Errors are recorded with nt_error() without any file or field context:
 * the caller knows where it is and prefixes that (see loader.c).
 *
 * Typical use:
 *
 *     nt_pb c = nt_pb_init(data, len);
 *     nt_pb_field f;
 *     while ((s = nt_pb_next(&c, &f)) == NT_OK && !f.end) {
 *         switch (f.num) { case 1: ... f.v / f.data, f.len ...; }
 *     }
 */
#ifndef NT_PB_H
#define NT_PB_H

#include "core/core.h"
#include "onnx/pbw.h"   /* the wire-type numbers NT_PB_VARINT ... */

/* Subgraphs nest messages about five levels per graph; 64 graph levels is
 * far more than any real model and keeps recursion bounded. */
#define NT_PB_MAX_DEPTH 320

typedef struct nt_pb {
    const uint8_t *p;     /* next byte to read */
    const uint8_t *end;   /* one past the last byte of this message */
    int depth;            /* nesting level of this message (0 = outermost) */
} nt_pb;

/* One decoded field.  For VARINT / FIXED32 / FIXED64, v holds the value
 * (fixed ones as their little-endian bits); for LEN, data/len the payload. */
typedef struct nt_pb_field {
    uint32_t num;         /* field number */
    int wire;             /* NT_PB_VARINT, NT_PB_FIXED64, NT_PB_LEN, NT_PB_FIXED32 */
    uint64_t v;
    const uint8_t *data;
    size_t len;
    bool end;             /* true when the message is exhausted (other members unset) */
} nt_pb_field;

/* A cursor over [data, data + len). */
nt_pb nt_pb_init(const void *data, size_t len);

/* Reads the next field into *f; at the end of the message sets f->end.
 * NT_ERR_PARSE on a truncated or malformed field (message says which). */
nt_status nt_pb_next(nt_pb *c, nt_pb_field *f);

/* A cursor over a LEN field's payload, one level deeper than c.
 * NT_ERR_PARSE when the nesting depth limit is exceeded. */
nt_status nt_pb_sub(const nt_pb *c, const nt_pb_field *f, nt_pb *sub);

/* Reads one varint from [*p, end), advancing *p; NT_ERR_PARSE if truncated
 * or longer than 10 bytes. */
nt_status nt_pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Bytes left in the cursor. */
static inline size_t nt_pb_left(const nt_pb *c) { return (size_t)(c->end - c->p); }

/* ---- scalar and repeated-field helpers on a decoded field. */

/* The field as an integer: VARINT value, or FIXED32/FIXED64 bits.
 * NT_ERR_PARSE for a LEN field. */
nt_status nt_pb_field_int(const nt_pb_field *f, uint64_t *out);
/* FIXED32 field as float (NT_ERR_PARSE for any other wire type). */
nt_status nt_pb_field_float(const nt_pb_field *f, float *out);
nt_status nt_pb_field_double(const nt_pb_field *f, double *out);

/*
 * Repeated scalar fields arrive either packed (one LEN field holding many
 * values) or unpacked (one field per value), possibly mixed.  For a field
 * of element kind `wire` (NT_PB_VARINT, NT_PB_FIXED32 or NT_PB_FIXED64):
 *   nt_pb_count_elems adds to *count how many values f holds, checking a
 *     packed payload (a whole number of fixed values; varints terminated);
 *   nt_pb_elem_iter walks them: call it with *pos = 0 first, it returns
 *     false when none remain.  Only call it after nt_pb_count_elems
 *     accepted the field.
 */
nt_status nt_pb_count_elems(const nt_pb_field *f, int wire, size_t *count);
bool nt_pb_elem_iter(const nt_pb_field *f, int wire, size_t *pos, uint64_t *out);

#endif /* NT_PB_H */
