/*
 * npy.c — numpy's .npy tensor files: reader and writer.
 *
 * A .npy file is the magic "\x93NUMPY", a version (1.0, 2.0 or 3.0), the
 * length of a text header (2 bytes little-endian in 1.0, 4 bytes in 2.0/3.0),
 * the header itself — a Python dict literal such as
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ending in '\n' — and then the raw elements.
 *
 * The reader accepts everything numpy writes for the dtypes ONNX has a
 * numpy counterpart for (bool, [u]int8..64, float16/32/64, complex64/128),
 * in either byte order and in either C or Fortran order, and hands back an
 * owned, little-endian (host order), C-order tensor.  numpy's fixed-width
 * strings ('U': UCS-4 code points, 'S': bytes) become STRING tensors of
 * UTF-8 text, trailing NUL padding dropped.  Object (pickled), datetime and
 * structured dtypes are declined as NT_ERR_UNSUPPORTED; any
 * header that is not what numpy would write is NT_ERR_PARSE with a message
 * naming the file and the fault.  The reader never trusts a size from the
 * header before checking it against the bytes actually present, so a hostile
 * header cannot make it allocate more than the file holds.
 *
 * The writer produces exactly the bytes numpy 1.24's np.save produces for
 * the same C-order array (format 1.0, header padded so the data starts on a
 * 64-byte boundary, the same spare spaces numpy leaves for growing the first
 * axis), so the two can be compared byte for byte in tests.  The narrow
 * ONNX types numpy lacks are written widened and exact: int4/int2 as int8,
 * uint4/uint2 as uint8, float8 (all formats) and float4e2m1 as float32.
 * STRING tensors are written as '<U{w}', w the longest element in code
 * points (at least 1), as np.save writes np.array(strings, dtype=str).
 */
#include "core/core.h"
#include "core/npy.h"
#include "core/utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* numpy leaves this many characters of room for the first axis's length
 * (numpy.lib.format.GROWTH_AXIS_MAX_DIGITS); reproduced so output matches. */
enum { NPY_GROWTH_DIGITS = 21, NPY_ALIGN = 64 };

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NT_HOST_BIG_ENDIAN 1
#else
#define NT_HOST_BIG_ENDIAN 0
#endif

/* The numpy type codes nntrace maps to its dtypes.  kind is numpy's
 * dtype.kind, size its itemsize. */
static const struct {
    char kind;
    int size;
    nt_dtype dtype;
} npy_types[] = {
    {'b', 1, NT_DTYPE_BOOL},       {'i', 1, NT_DTYPE_INT8},      {'u', 1, NT_DTYPE_UINT8},
    {'i', 2, NT_DTYPE_INT16},      {'u', 2, NT_DTYPE_UINT16},    {'i', 4, NT_DTYPE_INT32},
    {'u', 4, NT_DTYPE_UINT32},     {'i', 8, NT_DTYPE_INT64},     {'u', 8, NT_DTYPE_UINT64},
    {'f', 2, NT_DTYPE_FLOAT16},    {'f', 4, NT_DTYPE_FLOAT},     {'f', 8, NT_DTYPE_DOUBLE},
    {'c', 8, NT_DTYPE_COMPLEX64},  {'c', 16, NT_DTYPE_COMPLEX128},
};

/* ------------------------------------------------------------ byte order */

void nt_swap_bytes(void *data, size_t count, size_t width)
{
    uint8_t *p = data;
    if (width < 2)
        return;
    for (size_t i = 0; i < count; i++, p += width)
        for (size_t a = 0, b = width - 1; a < b; a++, b--) {
            uint8_t tmp = p[a];
            p[a] = p[b];
            p[b] = tmp;
        }
}

/* Width of the unit whose bytes are swapped: a complex number is two
 * floats, each swapped on its own. */
static size_t swap_width(nt_dtype dtype)
{
    if (dtype == NT_DTYPE_COMPLEX64)
        return 4;
    if (dtype == NT_DTYPE_COMPLEX128)
        return 8;
    return nt_dtype_size(dtype);
}

/* ------------------------------------------------------------ header text */

/* A parsed header.  descr points into the file buffer (not NUL-terminated). */
typedef struct npy_header {
    const char *descr;
    size_t descr_len;
    bool has_descr, has_fortran, has_shape;
    bool fortran;
    int ndim;
    int64_t dims[NT_MAX_DIMS];
} npy_header;

typedef struct npy_lex {
    const char *p, *end;
    const char *what;
} npy_lex;

/* Copies s (of length n) into out for a message, replacing bytes that are
 * not printable ASCII with '?' and cutting long text. */
static const char *printable(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (n > 0 && k < n && k + 4 <= cap) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

static void lex_ws(npy_lex *x)
{
    while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
        x->p++;
}

static bool lex_accept(npy_lex *x, char c)
{
    lex_ws(x);
    if (x->p < x->end && *x->p == c) {
        x->p++;
        return true;
    }
    return false;
}

/* Reports a header error at the current position, quoting what is there. */
static nt_status lex_fail(npy_lex *x, const char *expected)
{
    char near[48];
    lex_ws(x);
    if (x->p >= x->end)
        return nt_error(NT_ERR_PARSE, "%s: npy header: expected %s but the header ends", x->what, expected);
    return nt_error(NT_ERR_PARSE, "%s: npy header: expected %s at \"%s\"", x->what, expected,
                    printable(x->p, (size_t)(x->end - x->p), near, 24));
}

/* A Python string literal in single or double quotes, without escapes
 * (numpy's keys and dtype strings never need them). */
static nt_status lex_string(npy_lex *x, const char **s, size_t *n)
{
    lex_ws(x);
    if (x->p >= x->end || (*x->p != '\'' && *x->p != '"'))
        return lex_fail(x, "a quoted string");
    char q = *x->p++;
    const char *start = x->p;
    while (x->p < x->end && *x->p != q) {
        if (*x->p == '\\')
            return nt_error(NT_ERR_PARSE, "%s: npy header: escapes in strings are not supported", x->what);
        x->p++;
    }
    if (x->p >= x->end)
        return nt_error(NT_ERR_PARSE, "%s: npy header: unterminated string", x->what);
    *s = start;
    *n = (size_t)(x->p - start);
    x->p++;
    return NT_OK;
}

static bool lex_word(npy_lex *x, const char *w)
{
    size_t n = strlen(w);
    lex_ws(x);
    if ((size_t)(x->end - x->p) >= n && memcmp(x->p, w, n) == 0) {
        x->p += n;
        return true;
    }
    return false;
}

/* A shape tuple: "()", "(3,)", "(3, 4)", with an optional trailing comma and
 * Python 2's "L" suffix on longs. */
static nt_status lex_shape(npy_lex *x, npy_header *h)
{
    if (!lex_accept(x, '('))
        return lex_fail(x, "a shape tuple '('");
    h->ndim = 0;
    for (;;) {
        if (lex_accept(x, ')'))
            return NT_OK;
        lex_ws(x);
        if (x->p >= x->end || *x->p < '0' || *x->p > '9') {
            if (x->p < x->end && *x->p == '-')
                return nt_error(NT_ERR_PARSE, "%s: npy header: negative dimension in shape", x->what);
            return lex_fail(x, "a dimension (non-negative integer)");
        }
        int64_t v = 0;
        while (x->p < x->end && *x->p >= '0' && *x->p <= '9') {
            int d = *x->p++ - '0';
            if (v > (INT64_MAX - d) / 10)
                return nt_error(NT_ERR_PARSE, "%s: npy header: dimension too large", x->what);
            v = v * 10 + d;
        }
        if (x->p < x->end && (*x->p == 'L' || *x->p == 'l'))
            x->p++;
        if (h->ndim >= NT_MAX_DIMS)
            return nt_error(NT_ERR_UNSUPPORTED, "%s: npy shape has more than %d dimensions (the most nntrace supports)",
                            x->what, NT_MAX_DIMS);
        h->dims[h->ndim++] = v;
        if (lex_accept(x, ','))
            continue;
        if (lex_accept(x, ')'))
            return NT_OK;
        return lex_fail(x, "',' or ')' in the shape");
    }
}

/* Parses the header dict into h. */
static nt_status parse_dict(npy_lex *x, npy_header *h)
{
    nt_status s;
    if (!lex_accept(x, '{'))
        return lex_fail(x, "'{' opening the header dict");
    for (;;) {
        if (lex_accept(x, '}'))
            break;
        const char *key;
        size_t klen;
        if ((s = lex_string(x, &key, &klen)) != NT_OK)
            return s;
        if (!lex_accept(x, ':'))
            return lex_fail(x, "':' after a key");
        bool *seen;
        if (klen == 5 && memcmp(key, "descr", 5) == 0) {
            seen = &h->has_descr;
            lex_ws(x);
            if (x->p < x->end && (*x->p == '[' || *x->p == '('))
                return nt_error(NT_ERR_UNSUPPORTED,
                                "%s: npy dtype is a structured (record) dtype, which nntrace does not support",
                                x->what);
            if ((s = lex_string(x, &h->descr, &h->descr_len)) != NT_OK)
                return s;
        } else if (klen == 13 && memcmp(key, "fortran_order", 13) == 0) {
            seen = &h->has_fortran;
            if (lex_word(x, "True"))
                h->fortran = true;
            else if (lex_word(x, "False"))
                h->fortran = false;
            else
                return lex_fail(x, "True or False for 'fortran_order'");
        } else if (klen == 5 && memcmp(key, "shape", 5) == 0) {
            seen = &h->has_shape;
            if ((s = lex_shape(x, h)) != NT_OK)
                return s;
        } else {
            char k[48];
            return nt_error(NT_ERR_PARSE, "%s: npy header has an unexpected key '%s'", x->what,
                            printable(key, klen, k, sizeof k));
        }
        if (*seen) {
            char k[48];
            return nt_error(NT_ERR_PARSE, "%s: npy header repeats the key '%s'", x->what,
                            printable(key, klen, k, sizeof k));
        }
        *seen = true;
        if (lex_accept(x, ','))
            continue;
        if (lex_accept(x, '}'))
            break;
        return lex_fail(x, "',' or '}' in the header dict");
    }
    lex_ws(x);
    if (x->p != x->end)
        return lex_fail(x, "the end of the header after '}'");
    if (!h->has_descr || !h->has_fortran || !h->has_shape)
        return nt_error(NT_ERR_PARSE, "%s: npy header lacks the key '%s'", x->what,
                        !h->has_descr ? "descr" : !h->has_fortran ? "fortran_order" : "shape");
    return NT_OK;
}

/* Maps a descr string ("<f4", ">i8", "|b1") to a dtype and whether its
 * bytes are in the opposite order to the host's. */
static nt_status parse_descr(const npy_header *h, const char *what, nt_dtype *dtype, bool *swap, char *str_kind,
                             size_t *str_width)
{
    char d[48];
    printable(h->descr, h->descr_len, d, sizeof d);
    const char *p = h->descr, *end = h->descr + h->descr_len;
    char order = '=';
    if (p < end && (*p == '<' || *p == '>' || *p == '|' || *p == '='))
        order = *p++;
    if (p >= end)
        return nt_error(NT_ERR_PARSE, "%s: npy header has an empty dtype '%s'", what, d);
    char kind = *p++;
    if (kind == 'O')
        return nt_error(NT_ERR_UNSUPPORTED,
                        "%s: npy dtype '%s' is an object array (a Python pickle), which nntrace does not read: "
                        "save strings with dtype=str (np.save(path, np.array(x, dtype=str)))", what, d);
    if ((kind == 'U' || kind == 'S') && p < end) {
        /* Fixed-width strings: 'U' holds n UCS-4 code points per element, 'S'
         * n bytes; both NUL-padded at the end. */
        size_t w = 0;
        const char *wd = p;
        while (p < end && *p >= '0' && *p <= '9') {
            unsigned dig = (unsigned)(*p++ - '0');
            if (w > (SIZE_MAX / 4 - dig) / 10)
                return nt_error(NT_ERR_PARSE, "%s: npy dtype '%s' has a width too large", what, d);
            w = w * 10 + dig;
        }
        if (p == end && p != wd) {
            if (w == 0)
                return nt_error(NT_ERR_PARSE, "%s: npy dtype '%s' has zero width (numpy never writes one)", what, d);
            *dtype = NT_DTYPE_STRING;
            *swap = kind == 'U' && (order == '>' || (order != '<' && NT_HOST_BIG_ENDIAN));
            *str_kind = kind;
            *str_width = w;
            return NT_OK;
        }
        p = wd;
    }
    int size = 0;
    const char *digits = p;
    while (p < end && *p >= '0' && *p <= '9' && size < 1000)
        size = size * 10 + (*p++ - '0');
    if (p != end || p == digits) {
        if (strchr("OSUaVMm", kind))
            return nt_error(NT_ERR_UNSUPPORTED,
                            "%s: npy dtype '%s' (object, string, void or datetime) is not supported", what, d);
        return nt_error(NT_ERR_UNSUPPORTED, "%s: npy dtype '%s' is not supported", what, d);
    }
    for (size_t i = 0; i < NT_ARRAY_LEN(npy_types); i++)
        if (npy_types[i].kind == kind && npy_types[i].size == size) {
            *dtype = npy_types[i].dtype;
            bool big = order == '>' || (order != '<' && NT_HOST_BIG_ENDIAN);
            *swap = size > 1 && big != NT_HOST_BIG_ENDIAN;
            return NT_OK;
        }
    if (strchr("OSUaVMm", kind))
        return nt_error(NT_ERR_UNSUPPORTED,
                        "%s: npy dtype '%s' (object, string, void or datetime) is not supported", what, d);
    return nt_error(NT_ERR_UNSUPPORTED, "%s: npy dtype '%s' is not supported", what, d);
}

/* "(3, 4)" / "(3,)" / "()" — a shape as Python prints it. */
static void format_shape(char *out, size_t cap, int ndim, const int64_t *dims)
{
    size_t k = 0;
    k += (size_t)snprintf(out, cap, "(");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? ", " : "", (long long)dims[i]);
    if (k < cap)
        snprintf(out + k, cap - k, ndim == 1 ? ",)" : ")");
}

/* ------------------------------------------------------------ layout */

/*
 * Copies a Fortran-order (column-major) array of `esize`-byte elements into
 * C order.  dims is the logical shape (ndim >= 2); element (i0..in-1) sits at
 * src offset sum(i_k * fstride_k) with fstride_0 = 1.  One loop per element
 * size, generated below, so the per-element copy is a plain load/store.
 */
#define NT_FORTRAN_TO_C(TYPE)                                                          \
    static void fortran_to_c_##TYPE(TYPE *dst, const TYPE *src, int ndim,              \
                                    const int64_t *dims)                               \
    {                                                                                  \
        int64_t fstride[NT_MAX_DIMS], idx[NT_MAX_DIMS] = {0}, n = 1;                   \
        for (int k = 0; k < ndim; k++) {                                               \
            fstride[k] = n;                                                            \
            n *= dims[k];                                                              \
        }                                                                              \
        int64_t off = 0;                                                               \
        for (int64_t i = 0; i < n; i++) {                                              \
            memcpy(&dst[i], &src[off], sizeof(TYPE));                                  \
            for (int k = ndim - 1; k >= 0; k--) { /* odometer, last axis fastest */    \
                if (++idx[k] < dims[k]) {                                              \
                    off += fstride[k];                                                 \
                    break;                                                             \
                }                                                                      \
                off -= fstride[k] * (dims[k] - 1);                                     \
                idx[k] = 0;                                                            \
            }                                                                          \
        }                                                                              \
    }

typedef struct { uint64_t lo, hi; } npy_u128;
NT_FORTRAN_TO_C(uint8_t)
NT_FORTRAN_TO_C(uint16_t)
NT_FORTRAN_TO_C(uint32_t)
NT_FORTRAN_TO_C(uint64_t)
NT_FORTRAN_TO_C(npy_u128)

static void fortran_to_c(void *dst, const void *src, size_t esize, int ndim, const int64_t *dims)
{
    switch (esize) {
    case 1: fortran_to_c_uint8_t(dst, src, ndim, dims); break;
    case 2: fortran_to_c_uint16_t(dst, src, ndim, dims); break;
    case 4: fortran_to_c_uint32_t(dst, src, ndim, dims); break;
    case 8: fortran_to_c_uint64_t(dst, src, ndim, dims); break;
    case 16: fortran_to_c_npy_u128(dst, src, ndim, dims); break;
    default: NT_ASSERT(!"unexpected element size");
    }
}

/* ------------------------------------------------------------ reader */

/* What a header promises, checked for overflow. */
typedef struct npy_info {
    nt_dtype dtype;
    bool swap;              /* bytes are in the opposite order to the host's */
    bool fortran;
    int ndim;
    int64_t dims[NT_MAX_DIMS];
    size_t nbytes;          /* numel * element size */
    size_t numel;
    char str_kind;          /* 'U' (UCS-4) or 'S' (bytes) for STRING, else 0 */
    size_t str_width;       /* code points ('U') or bytes ('S') per element */
    size_t esize;           /* bytes per element in the file */
    char descr[48];         /* printable, for messages */
    char shape[NT_MAX_DIMS * 22 + 8];
} npy_info;

static uint32_t read_le(const uint8_t *p, int n)
{
    uint32_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Checks the magic and version in the first len bytes and finds the
 * header: it starts at *start and is *hlen bytes long. */
static nt_status npy_prefix(const uint8_t *b, size_t len, const char *what, size_t *start, size_t *hlen)
{
    if (len < 8 && len >= 1 && memcmp(b, npy_magic, NT_MIN(len, sizeof npy_magic)) == 0)
        return nt_error(NT_ERR_PARSE, "%s: truncated .npy file (%zu bytes: the magic and no version or header)",
                        what, len);
    if (len < 8 || memcmp(b, npy_magic, sizeof npy_magic) != 0)
        return nt_error(NT_ERR_PARSE, "%s: not a .npy file (no \\x93NUMPY magic)", what);
    int major = b[6], minor = b[7];
    if (major < 1 || major > 3 || minor != 0)
        return nt_error(NT_ERR_UNSUPPORTED, "%s: npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)",
                        what, major, minor);
    int lenbytes = major == 1 ? 2 : 4;
    *start = 8 + (size_t)lenbytes;
    if (len < *start)
        return nt_error(NT_ERR_PARSE, "%s: npy file ends inside its header length (%zu bytes)", what, len);
    *hlen = read_le(b + 8, lenbytes);
    return NT_OK;
}

/* Parses the header text into *info. */
static nt_status npy_read_header(const char *text, size_t n, const char *what, npy_info *info)
{
    npy_header h;
    memset(&h, 0, sizeof h);
    memset(info, 0, sizeof *info);
    npy_lex x = {text, text + n, what};
    nt_status s = parse_dict(&x, &h);
    if (s != NT_OK)
        return s;
    if ((s = parse_descr(&h, what, &info->dtype, &info->swap, &info->str_kind, &info->str_width)) != NT_OK)
        return s;
    printable(h.descr, h.descr_len, info->descr, sizeof info->descr);
    format_shape(info->shape, sizeof info->shape, h.ndim, h.dims);
    info->fortran = h.fortran;
    info->ndim = h.ndim;
    memcpy(info->dims, h.dims, sizeof h.dims);
    /* The size the header claims, checked for overflow before it is compared
     * with what the file holds (and long before anything is allocated). */
    size_t numel = 1;
    for (int i = 0; i < h.ndim; i++)
        if ((uint64_t)h.dims[i] > SIZE_MAX || !nt_mul_size(numel, (size_t)h.dims[i], &numel))
            return nt_error(NT_ERR_PARSE, "%s: npy shape %s is too large", what, info->shape);
    info->numel = numel;
    info->esize = info->str_kind == 'U' ? info->str_width * 4 : info->str_kind ? info->str_width
                                                                                  : nt_dtype_size(info->dtype);
    if (!nt_mul_size(numel, info->esize, &info->nbytes))
        return nt_error(NT_ERR_PARSE, "%s: npy shape %s is too large", what, info->shape);
    return NT_OK;
}

/* The data after the header must be exactly what the header promises:
 * short means truncated, long means the file is not what it says. */
static nt_status npy_check_size(const npy_info *info, size_t have, const char *what)
{
    if (have != info->nbytes)
        return nt_error(NT_ERR_PARSE, "%s: header says shape %s = %zu bytes of %s but the file has %zu", what,
                        info->shape, info->nbytes, info->descr, have);
    return NT_OK;
}

/* Puts the file's elements (at src, info->nbytes of them) into t in
 * little-endian C order.  src may be t->data itself unless the array is in
 * Fortran order. */
static void npy_finish(nt_tensor *t, const void *src, const npy_info *info)
{
    size_t n = info->nbytes;
    if (!n)
        return;
    if (info->fortran && info->ndim > 1) {
        NT_ASSERT(src != t->data);
        fortran_to_c(t->data, src, nt_dtype_size(info->dtype), info->ndim, info->dims);
    } else if (src != t->data) {
        memcpy(t->data, src, n);
    }
    if (info->swap)
        nt_swap_bytes(t->data, n / swap_width(info->dtype), swap_width(info->dtype));
    if (info->dtype == NT_DTYPE_BOOL) {
        /* Kernels may rely on bools being exactly 0 or 1. */
        uint8_t *p = t->data;
        for (size_t i = 0; i < n; i++)
            p[i] = p[i] != 0;
    }
}

/* ------------------------------------------------------------ strings */

/* The file position (in elements) of C-order element i: i itself unless the
 * array is in Fortran order. */
static int64_t npy_element_at(const npy_info *info, int64_t i)
{
    if (!info->fortran || info->ndim < 2)
        return i;
    int64_t off = 0, stride = 1;
    int64_t rest = i;
    int64_t idx[NT_MAX_DIMS];
    for (int k = info->ndim - 1; k >= 0; k--) {
        idx[k] = rest % info->dims[k];
        rest /= info->dims[k];
    }
    for (int k = 0; k < info->ndim; k++) {
        off += idx[k] * stride;
        stride *= info->dims[k];
    }
    return off;
}

/*
 * Turns the file's fixed-width elements (at src, info->nbytes) into t's
 * strings: 'U' code points become UTF-8, 'S' bytes are kept (and must be
 * UTF-8, as ONNX strings are); trailing NULs are padding and dropped.  UTF-8
 * never takes more bytes than UCS-4, so the text fits in nbytes.
 */
static nt_status npy_decode_strings(nt_tensor *t, const uint8_t *src, const npy_info *info, const char *what)
{
    size_t n = info->numel, w = info->str_width;
    if (!n)
        return NT_OK;
    char *text = nt_malloc(info->nbytes);
    const char **strs = nt_malloc(n * sizeof *strs);
    size_t *lens = nt_malloc(n * sizeof *lens);
    nt_status s = NT_OK;
    if (!text || !strs || !lens) {
        s = NT_ERR_NOMEM;
        goto done;
    }
    char *out = text;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *e = src + (size_t)npy_element_at(info, (int64_t)i) * info->esize;
        char *start = out;
        size_t len = w;
        if (info->str_kind == 'U') {
            bool big = info->swap != NT_HOST_BIG_ENDIAN;
            while (len > 0) {
                const uint8_t *q = e + (len - 1) * 4;
                if (q[0] | q[1] | q[2] | q[3])
                    break;
                len--;
            }
            for (size_t j = 0; j < len; j++) {
                const uint8_t *q = e + j * 4;
                uint32_t c = big ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3]
                                 : (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
                if (c == 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
                    s = nt_error(NT_ERR_PARSE,
                                 "%s: npy string element %zu has %s U+%04X at character %zu (UTF-8 cannot hold it)",
                                 what, i, c == 0 ? "an embedded NUL" : "the invalid code point", (unsigned)c, j);
                    goto done;
                }
                out += nt_utf8_encode(c, out);
            }
        } else {
            while (len > 0 && e[len - 1] == 0)
                len--;
            for (size_t j = 0; j < len;) {
                uint32_t c;
                size_t k = e[j] ? nt_utf8_decode(e + j, len - j, &c) : 0;
                if (!k) {
                    s = nt_error(NT_ERR_PARSE, "%s: npy bytes element %zu is not UTF-8 text (byte %zu is 0x%02x)",
                                 what, i, j, e[j]);
                    goto done;
                }
                j += k;
            }
            memcpy(out, e, len);
            out += len;
        }
        strs[i] = start;
        lens[i] = (size_t)(out - start);
    }
    s = nt_tensor_set_strings(t, (int64_t)n, strs, lens);
    if (s != NT_OK)
        s = nt_error_wrap(s, "%s", what);
done:
    free(text);
    free(strs);
    free(lens);
    return s;
}

nt_status nt_npy_parse(const void *buf, size_t len, const char *what, nt_tensor **out)
{
    *out = NULL;
    if (!what)
        what = "<npy buffer>";
    if (!buf && len)
        return nt_error(NT_ERR_INVALID_ARG, "%s: no data", what);
    const uint8_t *b = buf;
    size_t start, hlen;
    nt_status s = npy_prefix(b, len, what, &start, &hlen);
    if (s != NT_OK)
        return s;
    if (hlen > len - start)
        return nt_error(NT_ERR_PARSE, "%s: npy header says it is %zu bytes long but the file has %zu after the prefix",
                        what, hlen, len - start);
    npy_info info;
    if ((s = npy_read_header((const char *)b + start, hlen, what, &info)) != NT_OK ||
        (s = npy_check_size(&info, len - start - hlen, what)) != NT_OK)
        return s;
    nt_tensor *t;
    if ((s = nt_tensor_new(info.dtype, info.ndim, info.dims, &t)) != NT_OK)
        return nt_error_wrap(s, "%s", what);
    if (info.dtype == NT_DTYPE_STRING) {
        if ((s = npy_decode_strings(t, b + start + hlen, &info, what)) != NT_OK) {
            nt_tensor_free(t);
            return s;
        }
    } else {
        npy_finish(t, b + start + hlen, &info);
    }
    *out = t;
    return NT_OK;
}

/* Reads exactly n bytes at the current position. */
static nt_status read_exact(FILE *f, void *dst, size_t n, const char *what)
{
    if (n && fread(dst, 1, n, f) != n)
        return nt_error(NT_ERR_IO, "%s: read error or file changed while reading", what);
    return NT_OK;
}

/*
 * Loading streams the file: prefix, then header, then the data read
 * straight into the new tensor, so a large input is never held twice.
 * Anything that is not a regular file (a pipe, a device) is read whole and
 * handed to nt_npy_parse instead.
 */
nt_status nt_npy_load(const char *path, nt_tensor **out)
{
    *out = NULL;
    if (!path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_npy_load: no path");
    FILE *f = fopen(path, "rb");
    if (!f)
        return nt_error(NT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        /* Read from the stream already open: reopening a FIFO would lose
         * what the writer sent to this reader, or wait for a new writer. */
        char *data;
        size_t len;
        nt_status s = nt_read_stream(f, path, &data, &len);
        fclose(f);
        if (s == NT_OK)
            s = nt_npy_parse(data, len, path, out);
        free(data);
        return s;
    }
    size_t size = (size_t)st.st_size;
    uint8_t pre[12];
    size_t got = fread(pre, 1, NT_MIN(size, sizeof pre), f);
    size_t start = 0, hlen = 0;
    nt_status s = npy_prefix(pre, got, path, &start, &hlen);
    char *header = NULL, *tmp = NULL;
    nt_tensor *t = NULL;
    npy_info info;
    if (s != NT_OK)
        goto done;
    if (hlen > size - start) {
        s = nt_error(NT_ERR_PARSE, "%s: npy header says it is %zu bytes long but the file has %zu after the prefix",
                     path, hlen, size - start);
        goto done;
    }
    if (!(header = nt_malloc(hlen))) {
        s = NT_ERR_NOMEM;
        goto done;
    }
    if ((s = fseek(f, (long)start, SEEK_SET) == 0 ? NT_OK : nt_error(NT_ERR_IO, "%s: cannot seek", path)) != NT_OK ||
        (s = read_exact(f, header, hlen, path)) != NT_OK || (s = npy_read_header(header, hlen, path, &info)) != NT_OK ||
        (s = npy_check_size(&info, size - start - hlen, path)) != NT_OK)
        goto done;
    if ((s = nt_tensor_new(info.dtype, info.ndim, info.dims, &t)) != NT_OK) {
        s = nt_error_wrap(s, "%s", path);
        goto done;
    }
    void *dst = t->data;
    if ((info.dtype == NT_DTYPE_STRING || (info.fortran && info.ndim > 1)) && info.nbytes) {
        if (!(tmp = nt_malloc(info.nbytes))) {
            s = NT_ERR_NOMEM;
            goto done;
        }
        dst = tmp;
    }
    if ((s = read_exact(f, dst, info.nbytes, path)) != NT_OK)
        goto done;
    if (info.dtype == NT_DTYPE_STRING) {
        if ((s = npy_decode_strings(t, dst, &info, path)) != NT_OK)
            goto done;
    } else {
        npy_finish(t, dst, &info);
    }
    *out = t;
    t = NULL;
done:
    fclose(f);
    free(header);
    free(tmp);
    nt_tensor_free(t);
    return s;
}

nt_status nt_npy_peek(const char *path, nt_dtype *dtype, int *ndim, int64_t *dims)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return nt_error(NT_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) { /* a stream is read once, by the load */
        fclose(f);
        return nt_error(NT_ERR_UNSUPPORTED, "%s: not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    uint8_t pre[12];
    size_t got = fread(pre, 1, NT_MIN(size, sizeof pre), f);
    size_t start = 0, hlen = 0;
    char *header = NULL;
    npy_info info;
    nt_status s = npy_prefix(pre, got, path, &start, &hlen);
    if (s == NT_OK && hlen > size - start)
        s = nt_error(NT_ERR_PARSE, "%s: npy header says it is %zu bytes long but the file has %zu after the prefix",
                     path, hlen, size - start);
    if (s == NT_OK && !(header = nt_malloc(hlen ? hlen : 1)))
        s = NT_ERR_NOMEM;
    if (s == NT_OK &&
        (s = fseek(f, (long)start, SEEK_SET) == 0 ? NT_OK : nt_error(NT_ERR_IO, "%s: cannot seek", path)) == NT_OK &&
        (s = read_exact(f, header, hlen, path)) == NT_OK && (s = npy_read_header(header, hlen, path, &info)) == NT_OK &&
        (s = npy_check_size(&info, size - start - hlen, path)) == NT_OK) {
        *dtype = info.dtype;
        *ndim = info.ndim;
        memcpy(dims, info.dims, sizeof info.dims);
    }
    fclose(f);
    free(header);
    return s;
}

/* ------------------------------------------------------------ writer */

/* The little-endian descr for a dtype, or NULL when numpy has no such type. */
static const char *npy_descr(nt_dtype dtype)
{
    switch (dtype) {
    case NT_DTYPE_BOOL: return "|b1";
    case NT_DTYPE_INT8: return "|i1";
    case NT_DTYPE_UINT8: return "|u1";
    case NT_DTYPE_INT16: return "<i2";
    case NT_DTYPE_UINT16: return "<u2";
    case NT_DTYPE_INT32: return "<i4";
    case NT_DTYPE_UINT32: return "<u4";
    case NT_DTYPE_INT64: return "<i8";
    case NT_DTYPE_UINT64: return "<u8";
    case NT_DTYPE_FLOAT16: return "<f2";
    case NT_DTYPE_FLOAT: return "<f4";
    case NT_DTYPE_DOUBLE: return "<f8";
    case NT_DTYPE_COMPLEX64: return "<c8";
    case NT_DTYPE_COMPLEX128: return "<c16";
    /* Narrow types numpy lacks are written widened, exactly (see nt_npy_encode). */
    case NT_DTYPE_INT4: case NT_DTYPE_INT2: return "|i1";
    case NT_DTYPE_UINT4: case NT_DTYPE_UINT2: return "|u1";
    case NT_DTYPE_FLOAT8E4M3FN: case NT_DTYPE_FLOAT8E4M3FNUZ: case NT_DTYPE_FLOAT8E5M2:
    case NT_DTYPE_FLOAT8E5M2FNUZ: case NT_DTYPE_FLOAT8E8M0: case NT_DTYPE_FLOAT4E2M1:
        return "<f4";
    default: return NULL;
    }
}

/* Whether t is a float8/float4 tensor, saved as float32 values. */
static bool npy_widened_float(nt_dtype t)
{
    return nt_dtype_is_narrow(t) && t != NT_DTYPE_INT4 && t != NT_DTYPE_UINT4 && t != NT_DTYPE_INT2 &&
           t != NT_DTYPE_UINT2;
}

/* The width numpy would give t's strings: the longest in code points, at
 * least 1.  Fails on text that is not UTF-8 (UCS-4 needs code points) or a
 * size past what a buffer can hold. */
static nt_status npy_string_width(const nt_tensor *t, const char *what, size_t *width)
{
    int64_t n = nt_tensor_numel(t);
    const char *const *strs = t->data;
    size_t w = 1;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = (const uint8_t *)(strs[i] ? strs[i] : "");
        size_t len = strlen((const char *)p), cps = 0;
        for (size_t j = 0; j < len; cps++) {
            uint32_t c;
            size_t k = nt_utf8_decode(p + j, len - j, &c);
            if (!k)
                return nt_error(NT_ERR_UNSUPPORTED,
                                "%s: string element %lld is not UTF-8 text (byte %zu is 0x%02x): numpy's str "
                                "arrays hold code points", what, (long long)i, j, p[j]);
            j += k;
        }
        w = NT_MAX(w, cps);
    }
    size_t total;
    if (!nt_mul_size((size_t)n, w, &total) || !nt_mul_size(total, 4, &total))
        return nt_error(NT_ERR_NOMEM, "%s: string tensor too large to save", what);
    *width = w;
    return NT_OK;
}

/* Appends t's strings as little-endian UCS-4, `width` code points each,
 * NUL-padded (validated by npy_string_width). */
static void npy_put_strings(nt_buf *b, const nt_tensor *t, size_t width)
{
    int64_t n = nt_tensor_numel(t);
    const char *const *strs = t->data;
    for (int64_t i = 0; i < n && !b->failed; i++) {
        const uint8_t *p = (const uint8_t *)(strs[i] ? strs[i] : "");
        size_t len = strlen((const char *)p), cps = 0;
        for (size_t j = 0; j < len; cps++) {
            uint32_t c = 0;
            j += nt_utf8_decode(p + j, len - j, &c);
            uint8_t q[4] = {(uint8_t)c, (uint8_t)(c >> 8), (uint8_t)(c >> 16), (uint8_t)(c >> 24)};
            nt_buf_append(b, q, 4);
        }
        for (; cps < width; cps++)
            nt_buf_append(b, "\0\0\0\0", 4);
    }
}

nt_status nt_npy_encode(nt_buf *b, const nt_tensor *t, const char *what)
{
    if (!what)
        what = "<npy buffer>";
    if (!t)
        return nt_error(NT_ERR_INVALID_ARG, "%s: no tensor to save", what);
    if (nt_value_is_container(t))
        return nt_error(NT_ERR_UNSUPPORTED, "%s: a %s value is not one tensor: save its elements one by one", what,
                        t->flags & NT_TENSOR_SEQUENCE ? "sequence" : "optional");
    char sdescr[32];
    size_t swidth = 0;
    const char *descr = npy_descr(t->dtype);
    if (t->dtype == NT_DTYPE_STRING) {
        nt_status s = npy_string_width(t, what, &swidth);
        if (s != NT_OK)
            return s;
        snprintf(sdescr, sizeof sdescr, "<U%zu", swidth);
        descr = sdescr;
    }
    if (!descr)
        return nt_error(NT_ERR_UNSUPPORTED, "%s: cannot save a %s tensor as .npy (numpy has no such dtype)", what,
                        nt_dtype_name(t->dtype));
    if (t->ndim < 0 || t->ndim > NT_MAX_DIMS)
        return nt_error(NT_ERR_INVALID_ARG, "%s: cannot save a tensor of rank %d", what, t->ndim);
    for (int i = 0; i < t->ndim; i++)
        if (t->dims[i] < 0)
            return nt_error(NT_ERR_INVALID_ARG, "%s: cannot save a tensor whose dimension %d is unknown", what, i);
    size_t nbytes = nt_tensor_nbytes(t);
    if (nbytes && !t->data)
        return nt_error(NT_ERR_INVALID_ARG, "%s: tensor has no data", what);

    char shape[NT_MAX_DIMS * 22 + 8];
    format_shape(shape, sizeof shape, t->ndim, t->dims);
    char header[512];
    int n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape);
    NT_ASSERT(n > 0 && (size_t)n < sizeof header - NPY_GROWTH_DIGITS);
    if (t->ndim > 0) {
        char first[24];
        int digits = snprintf(first, sizeof first, "%lld", (long long)t->dims[0]);
        for (int i = digits; i < NPY_GROWTH_DIGITS; i++)
            header[n++] = ' ';
    }
    /* Pad so that prefix + header + '\n' is a multiple of 64, as numpy does
     * (a header already aligned gets a full 64 spaces, also as numpy does). */
    size_t hlen = (size_t)n + 1;
    int major = 1;
    size_t prefix = 10;
    size_t pad = NPY_ALIGN - (prefix + hlen) % NPY_ALIGN;
    if (hlen + pad > 0xffff) {
        major = 2;
        prefix = 12;
        pad = NPY_ALIGN - (prefix + hlen) % NPY_ALIGN;
    }
    size_t total = hlen + pad;
    uint8_t pre[12];
    memcpy(pre, npy_magic, 6);
    pre[6] = (uint8_t)major;
    pre[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++)
        pre[8 + i] = (uint8_t)(total >> (8 * i));
    nt_buf_append(b, pre, prefix);
    nt_buf_append(b, header, (size_t)n);
    for (size_t i = 0; i < pad; i++)
        nt_buf_putc(b, ' ');
    nt_buf_putc(b, '\n');
    size_t at = b->len;
    if (nbytes && npy_widened_float(t->dtype)) {
        /* float8/float4 codes become their float32 values (exact; numpy has
         * no such types): 4 bytes per element from here on. */
        int64_t count = nt_tensor_numel(t);
        for (int64_t i = 0; i < count && !b->failed; i++) {
            float v = nt_narrow_to_float(t->dtype, ((const uint8_t *)t->data)[i]);
            nt_buf_append(b, &v, 4);
        }
        nbytes = (size_t)count * 4;
    } else if (t->dtype == NT_DTYPE_STRING) {
        npy_put_strings(b, t, swidth);
    } else if (nbytes) {
        nt_buf_append(b, t->data, nbytes);
    }
    if (b->failed)
        return nt_error(NT_ERR_NOMEM, "%s: out of memory encoding %zu bytes", what, nbytes);
    size_t sw = npy_widened_float(t->dtype) ? 4 : swap_width(t->dtype);
    if (NT_HOST_BIG_ENDIAN && nbytes && t->dtype != NT_DTYPE_STRING)
        nt_swap_bytes(b->data + at, nbytes / sw, sw);
    return NT_OK;
}

nt_status nt_npy_save(const char *path, const nt_tensor *t)
{
    if (!path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_npy_save: no path");
    nt_buf b;
    nt_buf_init(&b);
    nt_status s = nt_npy_encode(&b, t, path);
    if (s == NT_OK)
        s = nt_write_file(path, b.data, b.len);
    nt_buf_deinit(&b);
    return s;
}
