/*
 * core.h — internal helpers shared by every module: error reporting,
 * always-on assertions, checked allocation, arenas and small utilities.
 * Not part of the public API.
 */
#ifndef NT_CORE_H
#define NT_CORE_H

#include "nntrace.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define NT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define NT_UNUSED __attribute__((unused))
#define NT_LIKELY(x) __builtin_expect(!!(x), 1)
#define NT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define NT_PRINTF(a, b)
#define NT_UNUSED
#define NT_LIKELY(x) (x)
#define NT_UNLIKELY(x) (x)
#endif

#define NT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define NT_MIN(a, b) ((a) < (b) ? (a) : (b))

/* A number as it is printed: every NaN becomes the positive one, which
 * printf writes "nan" (x86 makes "-nan" from invalid operations, and the
 * sign of a NaN means nothing to a reader).  Every %g of a value that may
 * be NaN goes through this. */
static inline double nt_printable(double x) { return x != x ? __builtin_nan("") : x; }
#define NT_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Records a formatted message for nt_last_error() and returns `s`, so a
 * failing path reads: return nt_error(NT_ERR_PARSE, "%s: field %s ...", ...). */
nt_status nt_error(nt_status s, const char *fmt, ...) NT_PRINTF(2, 3);
nt_status nt_verror(nt_status s, const char *fmt, va_list ap);
/* Prepends "prefix: " to the current message (adds context on the way up). */
nt_status nt_error_wrap(nt_status s, const char *fmt, ...) NT_PRINTF(2, 3);
void nt_error_clear(void);

/* Internal invariants: always on, prints file:line, then aborts.  Never used
 * for anything a user's input can trigger. */
#define NT_ASSERT(cond) \
    ((cond) ? (void)0 : nt_assert_fail(#cond, __FILE__, __LINE__))
void nt_assert_fail(const char *cond, const char *file, int line);

/* Checked allocation: these return NULL on failure (and on size overflow)
 * after recording an NT_ERR_NOMEM message; callers must check. */
void *nt_malloc(size_t n);
void *nt_calloc(size_t count, size_t size);
void *nt_realloc(void *p, size_t n);
void *nt_aligned_alloc(size_t n);      /* 64-byte aligned, free with nt_aligned_free */
void nt_aligned_free(void *p);
char *nt_strdup(const char *s);
char *nt_strndup(const char *s, size_t n);
/* a*b with overflow detection: returns false on overflow. */
bool nt_mul_size(size_t a, size_t b, size_t *out);

/* ---- arenas: many small allocations freed together. */
typedef struct nt_arena_block nt_arena_block;
typedef struct nt_arena {
    nt_arena_block *head;
    size_t total;
} nt_arena;

void nt_arena_init(nt_arena *a);
void nt_arena_deinit(nt_arena *a);
/* 16-byte aligned, zeroed memory; NULL (with message) on failure. */
void *nt_arena_alloc(nt_arena *a, size_t n);
void *nt_arena_calloc(nt_arena *a, size_t count, size_t size);
char *nt_arena_strndup(nt_arena *a, const char *s, size_t n);
char *nt_arena_strdup(nt_arena *a, const char *s);

/* ---- growable byte buffer (for writers and JSON). */
typedef struct nt_buf {
    char *data;
    size_t len, cap;
    bool failed;   /* set once an allocation failed; later appends are no-ops */
} nt_buf;

void nt_buf_init(nt_buf *b);
void nt_buf_deinit(nt_buf *b);
void nt_buf_append(nt_buf *b, const void *data, size_t n);
void nt_buf_puts(nt_buf *b, const char *s);
void nt_buf_putc(nt_buf *b, char c);
void nt_buf_printf(nt_buf *b, const char *fmt, ...) NT_PRINTF(2, 3);
/* Appends s as a JSON string literal (quotes and escapes included). */
void nt_buf_json_string(nt_buf *b, const char *s);
/* Appends a double as JSON: NaN/Inf become bare NaN/Infinity/-Infinity
 * (as Python's json emits), integers-valued doubles print without exponent noise. */
void nt_buf_json_double(nt_buf *b, double v);
/* Hands the contents over as a NUL-terminated heap string (free()), *len
 * (may be NULL) its length; "" for an empty buffer.  NT_ERR_NOMEM (and the
 * buffer freed) if any append failed. */
nt_status nt_buf_take(nt_buf *b, char **out, size_t *len);

/* ---- time */
double nt_now_ms(void);   /* monotonic milliseconds */

/* ---- files */
/* Writes the whole buffer to path atomically (temp file + rename). */
nt_status nt_write_file(const char *path, const void *data, size_t len);
/* Reads a whole file (NUL-terminated for convenience). */
nt_status nt_read_file(const char *path, char **data, size_t *len);
/* The same from a stream already open (a pipe: not reopened), to its end;
 * path names it in errors.  Does not close f. */
nt_status nt_read_stream(FILE *f, const char *path, char **data, size_t *len);
/* The dtype and shape (dims: NT_MAX_DIMS entries) a .npy file declares,
 * from its header only (checked against the file's size as a load would):
 * a command can refuse a file by its shape before reading gigabytes.
 * NT_ERR_UNSUPPORTED for a stream (not a regular file). */
nt_status nt_npy_peek(const char *path, nt_dtype *dtype, int *ndim, int64_t *dims);
/* mkdir -p. */
nt_status nt_mkdirs(const char *path);
/* A value name as a file name, the rule of `run -o`: characters outside
 * [A-Za-z0-9_.-] become '_' (out always NUL-terminated, cut at len - 1). */
void nt_sanitize_name(const char *name, char *out, size_t len);
/* The file a value named `name` is saved as by `run -o` and the dump tracer,
 * and looked for by `diff` in a plain directory of .npy files: "DIR/STEM.npy",
 * STEM the name sanitized (nt_sanitize_name) and cut at 511 bytes; with dir
 * NULL, the stem alone.  Returns out (always NUL-terminated). */
const char *nt_value_file(const char *dir, const char *name, char *out, size_t len);

/* ---- float16 / bfloat16 conversion */
float nt_half_to_float(uint16_t h);
uint16_t nt_float_to_half(float f);
float nt_bf16_to_float(uint16_t h);
uint16_t nt_float_to_bf16(float f);

/* Sets t's shape; ndim must be <= NT_MAX_DIMS. */
void nt_tensor_set_shape(nt_tensor *t, int ndim, const int64_t *dims);
/* Ensures t->data holds at least nbytes (owned, aligned); keeps nothing. */
nt_status nt_tensor_reserve(nt_tensor *t, size_t nbytes);
bool nt_dtype_is_float(nt_dtype t);
bool nt_dtype_is_int(nt_dtype t);
bool nt_dtype_is_numeric(nt_dtype t);
/* Bits one element fills when packed in a file: 4 or 2 for the sub-byte
 * types, 8 * nt_dtype_size otherwise. */
unsigned nt_dtype_bits(nt_dtype t);
/* float8 (all five), float4e2m1, int4/uint4, int2/uint2: the narrow types
 * only Cast, CastLike, QuantizeLinear, DequantizeLinear and data movement
 * compute with (through the conversions below). */
bool nt_dtype_is_narrow(nt_dtype t);

/* ---- STRING tensors: data is one owned block, n pointers to NUL-terminated
 * UTF-8 strings followed by the bytes they point at (the layout the .pb
 * reader builds).  nt_tensor_nbytes is 0 for them: copy with these. */
/* Replaces t's data with copies of n strings (lens[i] bytes each, or
 * strlen when lens is NULL; strs NULL: n empty strings); t's shape is left
 * as it is.  nt_tensor_new gives a STRING tensor n empty strings. */
nt_status nt_tensor_set_strings(nt_tensor *t, int64_t n, const char *const *strs, const size_t *lens);

/* ---- sequence and optional values (seq.c; see nntrace.h). */
/* Makes t (caller storage, its old contents dropped) an empty container. */
nt_status nt_seq_init(nt_tensor *t, bool optional, nt_dtype elem);
/* Inserts item at pos (out of range: at the end), taking ownership. */
nt_status nt_seq_insert(nt_tensor *seq, int64_t pos, nt_tensor *item);
/* Frees a container's items and record; t becomes an empty tensor struct. */
void nt_seq_release(nt_tensor *t);
/* dst (caller storage) becomes a deep copy of container src. */
nt_status nt_seq_copy_into(nt_tensor *dst, const nt_tensor *src);

/* ---- narrow types (narrow.c): one element per byte in memory. */
/* Element (8-bit code or sub-byte value) to float, exact. */
float nt_narrow_to_float(nt_dtype t, uint8_t code);
/* float to a float8/float4 code, round to nearest even.  saturate: values
 * beyond the largest finite value (and infinities) become it, else they
 * become infinity or NaN as the format has them (ONNX Cast 'saturate').
 * round_mode (FLOAT8E8M0 only): 'u'p, 'd'own or 'n'earest. */
uint8_t nt_float_to_narrow(nt_dtype t, float f, bool saturate, char round_mode);
/* An integer to int4/uint4/int2/uint2: wraps modulo 2^bits (as the ONNX
 * reference Cast does); int4/int2 are stored sign-extended. */
uint8_t nt_int_to_narrow(nt_dtype t, int64_t v);
/* Packs n one-per-byte elements of a sub-byte type into ceil(n*bits/8)
 * bytes (low bits first, as ONNX stores them), and the reverse. */
void nt_narrow_pack(nt_dtype t, const uint8_t *elems, int64_t n, uint8_t *packed);
void nt_narrow_unpack(nt_dtype t, const uint8_t *packed, int64_t n, uint8_t *elems);
/* Bytes the packed form of n elements of t takes. */
size_t nt_dtype_packed_bytes(nt_dtype t, int64_t n);

#endif /* NT_CORE_H */
