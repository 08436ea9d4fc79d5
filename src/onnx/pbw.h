/*
 * pbw.h — a protobuf wire-format encoder onto an nt_buf.  Used by the ONNX
 * writer, the TensorProto .pb writer and the TensorBoard event writer.
 *
 * Nested messages: mark = nt_pbw_begin(b, field) ... nt_pbw_end(b, mark);
 * the length prefix is patched in place (the body is moved if the length
 * needs more than the one byte reserved).
 */
#ifndef NT_PBW_H
#define NT_PBW_H

#include "core/core.h"

enum { NT_PB_VARINT = 0, NT_PB_FIXED64 = 1, NT_PB_LEN = 2, NT_PB_FIXED32 = 5 };

void nt_pbw_varint(nt_buf *b, uint64_t v);
void nt_pbw_tag(nt_buf *b, uint32_t field, int wire_type);
void nt_pbw_uint(nt_buf *b, uint32_t field, uint64_t v);      /* int32/int64/uint/bool/enum */
void nt_pbw_sint(nt_buf *b, uint32_t field, int64_t v);       /* int64 as two's complement varint */
void nt_pbw_fixed32(nt_buf *b, uint32_t field, uint32_t v);
void nt_pbw_fixed64(nt_buf *b, uint32_t field, uint64_t v);
void nt_pbw_float(nt_buf *b, uint32_t field, float v);
void nt_pbw_double(nt_buf *b, uint32_t field, double v);
void nt_pbw_bytes(nt_buf *b, uint32_t field, const void *data, size_t n);
void nt_pbw_string(nt_buf *b, uint32_t field, const char *s);
size_t nt_pbw_begin(nt_buf *b, uint32_t field);
void nt_pbw_end(nt_buf *b, size_t mark);

#endif /* NT_PBW_H */
