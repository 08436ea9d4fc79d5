/*
 * tfevents_read.c — the TensorBoard event-file reader (see tfevents.h).
 *
 * Reads TFRecord frames from a file (or a memory buffer), checks both CRCs
 * and decodes each Event's payload with a small protobuf wire reader of its
 * own.  Damage is contained to the record it hits:
 *   - a bad data CRC or an unparsable Event: that record is skipped;
 *   - a bad length CRC: the length cannot be trusted, so the reader scans
 *     forward byte by byte for the next header whose CRC holds (and whose
 *     data CRC holds too) — a resync, counted as one bad record;
 *   - an incomplete frame at the end: reading stops there without consuming
 *     it, and the next call tries again (the writer may still be appending).
 *
 * Decoded strings and number arrays live in a bump allocator that is reset
 * at every call, so reading a million scalars allocates almost nothing.
 */
#include "trace/tfevents.h"
#include "core/strmap.h"
#include "core/vec.h"

#include "onnx/pbw.h" /* wire-type numbers */
#include "trace/crc32c.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest record accepted; a longer length (with a valid CRC) is damage. */
#define MAX_RECORD ((uint64_t)1 << 31)
#define READ_CHUNK (1u << 20)

/* ---------------------------------------------------------------- scratch */

typedef struct chunk {
    struct chunk *next;
    size_t cap, used;
    _Alignas(16) uint8_t data[];
} chunk;

typedef struct scratch {
    chunk *head, *cur;
    int n_chunks;
} scratch;

static void scratch_reset(scratch *s)
{
    /* keep the first chunk; drop the rest if an unusual record made many */
    if (s->n_chunks > 4) {
        chunk *c = s->head ? s->head->next : NULL;
        while (c) {
            chunk *next = c->next;
            free(c);
            c = next;
        }
        if (s->head)
            s->head->next = NULL;
        s->n_chunks = s->head ? 1 : 0;
    }
    for (chunk *c = s->head; c; c = c->next)
        c->used = 0;
    s->cur = s->head;
}

static void *scratch_alloc(scratch *s, size_t n)
{
    if (n > SIZE_MAX / 2) {
        nt_error(NT_ERR_NOMEM, "event reader: allocation size overflow");
        return NULL;
    }
    n = (n + 15) & ~(size_t)15;
    while (s->cur && s->cur->cap - s->cur->used < n)
        s->cur = s->cur->next;
    if (!s->cur) {
        size_t cap = n > 65536 ? n : 65536;
        chunk *c = nt_malloc(sizeof *c + cap);
        if (!c)
            return NULL;
        c->next = NULL;
        c->cap = cap;
        c->used = 0;
        if (!s->head) {
            s->head = c;
        } else {
            chunk *t = s->head;
            while (t->next)
                t = t->next;
            t->next = c;
        }
        s->n_chunks++;
        s->cur = c;
    }
    void *p = s->cur->data + s->cur->used;
    s->cur->used += n;
    return p;
}

static void scratch_free(scratch *s)
{
    chunk *c = s->head;
    while (c) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    memset(s, 0, sizeof *s);
}

static char *scratch_str(scratch *s, const uint8_t *p, size_t n)
{
    char *d = scratch_alloc(s, n + 1);
    if (d) {
        if (n)
            memcpy(d, p, n);
        d[n] = '\0';
    }
    return d;
}

/* ---------------------------------------------------------------- tag -> plugin */

/* TensorBoard writers attach SummaryMetadata to the first value of a tag
 * only, so the plugin of later values must be remembered. */
typedef struct plugin_entry {
    char *tag, *plugin;       /* owned */
} plugin_entry;

typedef struct plugin_map {
    nt_strmap index;          /* tag -> entry (keys borrowed from the entries) */
    nt_vec entries;           /* plugin_entry */
} plugin_map;

static const char *plugin_get(const plugin_map *m, const char *tag)
{
    ptrdiff_t i = nt_strmap_get(&m->index, tag);
    return i < 0 ? "" : ((const plugin_entry *)nt_vec_at(&m->entries, (size_t)i))->plugin;
}

static bool plugin_put(plugin_map *m, const char *tag, const char *plugin)
{
    ptrdiff_t i = nt_strmap_get(&m->index, tag);
    if (i >= 0) {
        plugin_entry *e = nt_vec_at(&m->entries, (size_t)i);
        if (strcmp(e->plugin, plugin) == 0)
            return true;
        char *p = nt_strdup(plugin);
        if (!p)
            return false;
        free(e->plugin);
        e->plugin = p;
        return true;
    }
    plugin_entry e = {nt_strdup(tag), nt_strdup(plugin)};
    if (!e.tag || !e.plugin || nt_vec_push(&m->entries, &e) != NT_OK) {
        free(e.tag);
        free(e.plugin);
        return false;
    }
    if (nt_strmap_put(&m->index, e.tag, (ptrdiff_t)m->entries.len - 1, NULL) != NT_OK) {
        m->entries.len--;
        free(e.tag);
        free(e.plugin);
        return false;
    }
    return true;
}

static void plugin_map_free(plugin_map *m)
{
    for (size_t i = 0; i < m->entries.len; i++) {
        plugin_entry *e = nt_vec_at(&m->entries, i);
        free(e->tag);
        free(e->plugin);
    }
    nt_vec_deinit(&m->entries);
    nt_strmap_deinit(&m->index);
}

/* ---------------------------------------------------------------- protobuf wire */

typedef struct pb {
    const uint8_t *p, *end;
} pb;

typedef struct pb_field {
    uint32_t num;
    int wt;
    uint64_t u;              /* VARINT, FIXED32, FIXED64 */
    const uint8_t *data;     /* LEN */
    size_t len;
} pb_field;

static bool pb_varint(pb *r, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return false;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static uint64_t le_bytes(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Next field of a message; false at the end (*bad set on malformed input). */
static bool pb_next(pb *r, pb_field *f, bool *bad)
{
    if (r->p >= r->end)
        return false;
    uint64_t key;
    if (!pb_varint(r, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff) {
        *bad = true;
        return false;
    }
    f->num = (uint32_t)(key >> 3);
    f->wt = (int)(key & 7);
    switch (f->wt) {
    case NT_PB_VARINT:
        if (!pb_varint(r, &f->u)) {
            *bad = true;
            return false;
        }
        return true;
    case NT_PB_FIXED64:
    case NT_PB_FIXED32: {
        int n = f->wt == NT_PB_FIXED64 ? 8 : 4;
        if (r->end - r->p < n) {
            *bad = true;
            return false;
        }
        f->u = le_bytes(r->p, n);
        r->p += n;
        return true;
    }
    case NT_PB_LEN: {
        uint64_t n;
        if (!pb_varint(r, &n) || n > (uint64_t)(r->end - r->p)) {
            *bad = true;
            return false;
        }
        f->data = r->p;
        f->len = (size_t)n;
        r->p += n;
        return true;
    }
    default:
        *bad = true; /* groups and reserved wire types do not occur here */
        return false;
    }
}

static double u64_as_double(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static double u32_as_float(uint64_t u)
{
    uint32_t v = (uint32_t)u;
    float f;
    memcpy(&f, &v, 4);
    return f;
}

/* How elements of a repeated numeric field are stored and converted. */
typedef enum num_kind { K_F32, K_F64, K_I32, K_I64, K_U64, K_BOOL, K_HALF, K_BF16 } num_kind;

static double convert_varint(num_kind k, uint64_t u)
{
    switch (k) {
    case K_I32: return (double)(int32_t)u;
    case K_I64: return (double)(int64_t)u;
    case K_BOOL: return u != 0;
    case K_HALF: return nt_half_to_float((uint16_t)u);
    case K_BF16: return nt_bf16_to_float((uint16_t)u);
    default: return (double)u;
    }
}

/* Counts (out == NULL) or decodes the elements of repeated field `num` of a
 * message, in packed or unpacked form.  Returns the count, -1 if malformed. */
static int64_t repeated_numbers(const uint8_t *msg, size_t len, uint32_t num, num_kind k, double *out)
{
    pb r = {msg, msg + len};
    pb_field f;
    bool bad = false;
    int64_t n = 0;
    int width = k == K_F32 ? 4 : k == K_F64 ? 8 : 0;
    while (pb_next(&r, &f, &bad)) {
        if (f.num != num)
            continue;
        if (f.wt == NT_PB_LEN) {
            if (width) {
                size_t cnt = f.len / (size_t)width;
                for (size_t i = 0; out && i < cnt; i++) {
                    uint64_t u = le_bytes(f.data + i * (size_t)width, width);
                    out[n + (int64_t)i] = width == 4 ? u32_as_float(u) : u64_as_double(u);
                }
                n += (int64_t)cnt;
            } else {
                pb e = {f.data, f.data + f.len};
                uint64_t u;
                while (e.p < e.end) {
                    if (!pb_varint(&e, &u))
                        return -1;
                    if (out)
                        out[n] = convert_varint(k, u);
                    n++;
                }
            }
        } else if (f.wt == NT_PB_FIXED32 && width == 4) {
            if (out)
                out[n] = u32_as_float(f.u);
            n++;
        } else if (f.wt == NT_PB_FIXED64 && width == 8) {
            if (out)
                out[n] = u64_as_double(f.u);
            n++;
        } else if (f.wt == NT_PB_VARINT && !width) {
            if (out)
                out[n] = convert_varint(k, f.u);
            n++;
        }
    }
    return bad ? -1 : n;
}

/* Decodes a repeated numeric field into scratch memory. */
static bool decode_numbers(scratch *s, const uint8_t *msg, size_t len, uint32_t num, num_kind k,
                           const double **out, int64_t *count)
{
    int64_t n = repeated_numbers(msg, len, num, k, NULL);
    if (n < 0)
        return false;
    double *v = scratch_alloc(s, (size_t)n * sizeof *v + 8);
    if (!v)
        return false;
    repeated_numbers(msg, len, num, k, v);
    *out = v;
    *count = n;
    return true;
}

/* ---------------------------------------------------------------- reader */

struct nt_events {
    char *path;
    int fd;                   /* -1 when reading a memory buffer */
    uint8_t *buf;
    size_t len, cap;          /* valid bytes and capacity of buf */
    uint64_t buf_off;         /* file offset of buf[0] */
    size_t pos;               /* start of the next frame in buf */
    bool truncated;
    bool resyncing;           /* scanning for a header after a bad length CRC */
    uint64_t bad;
    char problem[256];
    scratch sc;
    plugin_map plugins;
    nt_summary_value *values; /* per-event array, reused */
    int values_cap;
};

static void set_problem(nt_events *r, const char *fmt, ...) NT_PRINTF(2, 3);
static void set_problem(nt_events *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->problem, sizeof r->problem, fmt, ap);
    va_end(ap);
}

static nt_status events_new(const char *path, int fd, nt_events **out)
{
    nt_events *r = nt_calloc(1, sizeof *r);
    if (!r)
        return NT_ERR_NOMEM;
    r->path = nt_strdup(path);
    if (!r->path) {
        free(r);
        return NT_ERR_NOMEM;
    }
    r->fd = fd;
    nt_vec_init(&r->plugins.entries, sizeof(plugin_entry));
    *out = r;
    return NT_OK;
}

nt_status nt_events_open_at(const char *path, uint64_t offset, nt_events **out)
{
    if (!out)
        return nt_error(NT_ERR_INVALID_ARG, "nt_events_open: out is NULL");
    *out = NULL;
    if (!path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_events_open: NULL path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return nt_error(NT_ERR_IO, "%s: cannot open event file: %s", path, strerror(errno));
    nt_status s = events_new(path, fd, out);
    if (s != NT_OK) {
        close(fd);
        return s;
    }
    (*out)->buf_off = offset;
    return NT_OK;
}

nt_status nt_events_open(const char *path, nt_events **out) { return nt_events_open_at(path, 0, out); }

nt_status nt_events_open_buffer(const void *data, size_t len, nt_events **out)
{
    if (!out || (!data && len))
        return nt_error(NT_ERR_INVALID_ARG, "nt_events_open_buffer: NULL argument");
    *out = NULL;
    nt_status s = events_new("<buffer>", -1, out);
    if (s != NT_OK)
        return s;
    nt_events *r = *out;
    r->buf = nt_malloc(len ? len : 1);
    if (!r->buf) {
        nt_events_close(r);
        *out = NULL;
        return NT_ERR_NOMEM;
    }
    if (len)
        memcpy(r->buf, data, len);
    r->len = r->cap = len;
    return NT_OK;
}

void nt_events_close(nt_events *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    free(r->path);
    free(r->values);
    scratch_free(&r->sc);
    plugin_map_free(&r->plugins);
    free(r);
}

uint64_t nt_events_offset(const nt_events *r) { return r ? r->buf_off + r->pos : 0; }
bool nt_events_truncated(const nt_events *r) { return r && r->truncated; }
uint64_t nt_events_bad_records(const nt_events *r) { return r ? r->bad : 0; }
const char *nt_events_problem(const nt_events *r) { return r ? r->problem : ""; }

/*
 * Makes at least `need` bytes available from pos, reading more of the file
 * if needed.  *avail gets what is available (possibly less at end of file).
 * Errors only for I/O and memory failures.
 */
static nt_status ensure(nt_events *r, uint64_t need, size_t *avail)
{
    *avail = r->len - r->pos;
    if (*avail >= need || r->fd < 0)
        return NT_OK;
    /* Do not allocate for a length the file cannot hold (yet). */
    struct stat st;
    if (fstat(r->fd, &st) != 0)
        return nt_error(NT_ERR_IO, "%s: cannot stat: %s", r->path, strerror(errno));
    uint64_t file_end = (uint64_t)st.st_size;
    uint64_t have_end = r->buf_off + r->len;
    if (file_end <= have_end || r->buf_off + r->pos + need > file_end) {
        if (file_end <= have_end)
            return NT_OK;
        need = file_end - (r->buf_off + r->pos); /* read what there is */
    }
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->buf_off += r->pos;
        r->len -= r->pos;
        r->pos = 0;
    }
    size_t want = (size_t)need > READ_CHUNK ? (size_t)need : READ_CHUNK;
    if (want > r->cap) {
        uint8_t *p = nt_realloc(r->buf, want);
        if (!p)
            return NT_ERR_NOMEM;
        r->buf = p;
        r->cap = want;
    }
    while (r->len < need || r->len < r->cap) {
        ssize_t k = pread(r->fd, r->buf + r->len, r->cap - r->len, (off_t)(r->buf_off + r->len));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return nt_error(NT_ERR_IO, "%s: read error: %s", r->path, strerror(errno));
        if (k == 0)
            break;
        r->len += (size_t)k;
        if (r->len >= need)
            break;
    }
    *avail = r->len - r->pos;
    return NT_OK;
}

static bool header_ok(const uint8_t *h, uint64_t *len)
{
    uint32_t want = (uint32_t)le_bytes(h + 8, 4);
    if (nt_crc32c_mask(nt_crc32c(h, 8)) != want)
        return false;
    *len = le_bytes(h, 8);
    return *len <= MAX_RECORD;
}

/* Fills a value from a HistogramProto body. */
static bool parse_histo(nt_events *r, const uint8_t *msg, size_t len, nt_summary_value *v)
{
    pb m = {msg, msg + len};
    pb_field f;
    bool bad = false;
    while (pb_next(&m, &f, &bad)) {
        if (f.wt != NT_PB_FIXED64)
            continue;
        double d = u64_as_double(f.u);
        switch (f.num) {
        case 1: v->histo.min = d; break;
        case 2: v->histo.max = d; break;
        case 3: v->histo.num = d; break;
        case 4: v->histo.sum = d; break;
        case 5: v->histo.sum_squares = d; break;
        default: break;
        }
    }
    if (bad)
        return false;
    int64_t nl, nc;
    if (!decode_numbers(&r->sc, msg, len, 6, K_F64, &v->histo.limits, &nl) ||
        !decode_numbers(&r->sc, msg, len, 7, K_F64, &v->histo.counts, &nc))
        return false;
    int64_t n = nl < nc ? nl : nc;
    v->histo.n_buckets = n > INT32_MAX ? INT32_MAX : (int)n;
    v->kind = NT_SUMMARY_HISTOGRAM;
    return true;
}

static bool parse_image(const uint8_t *msg, size_t len, nt_summary_value *v)
{
    pb m = {msg, msg + len};
    pb_field f;
    bool bad = false;
    while (pb_next(&m, &f, &bad)) {
        if (f.wt == NT_PB_VARINT && f.num >= 1 && f.num <= 3) {
            int x = (int)(int32_t)f.u;
            if (f.num == 1)
                v->image.height = x;
            else if (f.num == 2)
                v->image.width = x;
            else
                v->image.colorspace = x;
        } else if (f.wt == NT_PB_LEN && f.num == 4) {
            v->image.data = f.data;
            v->image.len = f.len;
        }
    }
    v->kind = NT_SUMMARY_IMAGE;
    return !bad;
}

/* TensorFlow DataType -> how its values are stored and the element size
 * in tensor_content (0: not numeric). */
static int dtype_layout(int dt, num_kind *k, uint32_t *field)
{
    switch (dt) {
    case 1: *k = K_F32; *field = 5; return 4;    /* float */
    case 2: *k = K_F64; *field = 6; return 8;    /* double */
    case 3: *k = K_I32; *field = 7; return 4;    /* int32 */
    case 4: *k = K_I32; *field = 7; return 1;    /* uint8 */
    case 5: *k = K_I32; *field = 7; return 2;    /* int16 */
    case 6: *k = K_I32; *field = 7; return 1;    /* int8 */
    case 9: *k = K_I64; *field = 10; return 8;   /* int64 */
    case 10: *k = K_BOOL; *field = 11; return 1; /* bool */
    case 14: *k = K_BF16; *field = 13; return 2; /* bfloat16 */
    case 17: *k = K_I32; *field = 7; return 2;   /* uint16 */
    case 19: *k = K_HALF; *field = 13; return 2; /* half */
    case 22: *k = K_U64; *field = 16; return 4;  /* uint32 */
    case 23: *k = K_U64; *field = 17; return 8;  /* uint64 */
    default: return 0;
    }
}

/* One element of tensor_content (little endian) as double. */
static double content_elem(int dt, const uint8_t *p)
{
    uint64_t u = le_bytes(p, dt == 1 || dt == 3 || dt == 22 ? 4 : dt == 2 || dt == 9 || dt == 23 ? 8
                            : dt == 5 || dt == 14 || dt == 17 || dt == 19       ? 2
                                                                                 : 1);
    switch (dt) {
    case 1: return u32_as_float(u);
    case 2: return u64_as_double(u);
    case 3: return (int32_t)u;
    case 4: return (uint8_t)u;
    case 5: return (int16_t)u;
    case 6: return (int8_t)u;
    case 9: return (double)(int64_t)u;
    case 10: return u != 0;
    case 14: return nt_bf16_to_float((uint16_t)u);
    case 17: return (uint16_t)u;
    case 19: return nt_half_to_float((uint16_t)u);
    case 22: return (uint32_t)u;
    default: return (double)u;
    }
}

/* Decodes a TensorProto: dtype, shape, numeric values, joined strings; the
 * first three strings are returned for TF2 image summaries. */
static bool parse_tensor(nt_events *r, const uint8_t *msg, size_t len, nt_summary_value *v,
                         const uint8_t *str[3], size_t str_len[3], int *n_str)
{
    pb m = {msg, msg + len};
    pb_field f;
    bool bad = false;
    const uint8_t *content = NULL;
    size_t content_len = 0, text_total = 0;
    v->tensor.ndim = -1;
    *n_str = 0;
    while (pb_next(&m, &f, &bad)) {
        if (f.num == 1 && f.wt == NT_PB_VARINT) {
            v->tensor.dtype = (int)f.u;
        } else if (f.num == 2 && f.wt == NT_PB_LEN) {
            pb sh = {f.data, f.data + f.len};
            pb_field d;
            v->tensor.ndim = 0;
            while (pb_next(&sh, &d, &bad)) {
                if (d.num != 2 || d.wt != NT_PB_LEN)
                    continue;
                int64_t size = -1;
                pb dm = {d.data, d.data + d.len};
                pb_field s1;
                while (pb_next(&dm, &s1, &bad))
                    if (s1.num == 1 && s1.wt == NT_PB_VARINT)
                        size = (int64_t)s1.u;
                if (v->tensor.ndim < NT_MAX_DIMS)
                    v->tensor.dims[v->tensor.ndim] = size;
                v->tensor.ndim++;
            }
            if (v->tensor.ndim > NT_MAX_DIMS)
                v->tensor.ndim = NT_MAX_DIMS; /* shape kept only in part */
        } else if (f.num == 4 && f.wt == NT_PB_LEN) {
            content = f.data;
            content_len = f.len;
        } else if (f.num == 8 && f.wt == NT_PB_LEN) {
            if (*n_str < 3) {
                str[*n_str] = f.data;
                str_len[*n_str] = f.len;
            }
            (*n_str)++;
            text_total += f.len + 1;
        }
    }
    if (bad)
        return false;
    num_kind k;
    uint32_t field;
    int size = dtype_layout(v->tensor.dtype, &k, &field);
    if (size && content) {
        int64_t n = (int64_t)(content_len / (size_t)size);
        double *vals = scratch_alloc(&r->sc, (size_t)n * sizeof *vals + 8);
        if (!vals)
            return false;
        for (int64_t i = 0; i < n; i++)
            vals[i] = content_elem(v->tensor.dtype, content + (size_t)i * (size_t)size);
        v->tensor.values = vals;
        v->tensor.n = n;
    } else if (size) {
        if (!decode_numbers(&r->sc, msg, len, field, k, &v->tensor.values, &v->tensor.n))
            return false;
    }
    if (*n_str > 0) {
        char *t = scratch_alloc(&r->sc, text_total + 1);
        if (!t)
            return false;
        size_t at = 0;
        pb again = {msg, msg + len};
        while (pb_next(&again, &f, &bad)) {
            if (f.num != 8 || f.wt != NT_PB_LEN)
                continue;
            if (at)
                t[at++] = '\n';
            memcpy(t + at, f.data, f.len);
            at += f.len;
        }
        t[at] = '\0';
        v->text = t;
        v->text_len = at;
    }
    return true;
}

/* Parses "123" from a short byte string (TF2 image width/height). */
static int small_int(const uint8_t *p, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n && i < 9; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* Classifies a tensor value by its plugin, dtype and shape. */
static bool classify_tensor(nt_events *r, nt_summary_value *v, const uint8_t *str[3], const size_t str_len[3],
                            int n_str)
{
    const char *pl = v->plugin;
    bool numeric = v->tensor.values != NULL;
    if (numeric && v->tensor.n >= 1 &&
        (strcmp(pl, "scalars") == 0 || (!*pl && v->tensor.ndim <= 1 && v->tensor.n == 1))) {
        v->kind = NT_SUMMARY_SCALAR;
        v->scalar = v->tensor.values[0];
    } else if (numeric && strcmp(pl, "histograms") == 0 && v->tensor.ndim == 2 && v->tensor.dims[1] == 3 &&
               v->tensor.dims[0] >= 0 && v->tensor.n >= 3 * v->tensor.dims[0]) {
        /* TF2 histograms: rows of (left edge, right edge, count).  The
         * moments are not stored; they are estimated from bucket centers. */
        int64_t k = v->tensor.dims[0];
        const double *t = v->tensor.values;
        double *lim = scratch_alloc(&r->sc, (size_t)k * 2 * sizeof *lim + 8);
        if (!lim)
            return false;
        double *cnt = lim + k;
        double num = 0, sum = 0, sq = 0;
        for (int64_t i = 0; i < k; i++) {
            double mid = (t[3 * i] + t[3 * i + 1]) / 2, c = t[3 * i + 2];
            lim[i] = t[3 * i + 1];
            cnt[i] = c;
            num += c;
            sum += c * mid;
            sq += c * mid * mid;
        }
        v->kind = NT_SUMMARY_HISTOGRAM;
        v->histo.min = k ? t[0] : 0;
        v->histo.max = k ? lim[k - 1] : 0;
        v->histo.num = num;
        v->histo.sum = sum;
        v->histo.sum_squares = sq;
        v->histo.n_buckets = k > INT32_MAX ? INT32_MAX : (int)k;
        v->histo.limits = lim;
        v->histo.counts = cnt;
    } else if (strcmp(pl, "images") == 0 && v->tensor.dtype == 7 && n_str >= 3) {
        /* TF2 images: strings (width, height, png, png, ...); the first image */
        v->kind = NT_SUMMARY_IMAGE;
        v->image.width = small_int(str[0], str_len[0]);
        v->image.height = small_int(str[1], str_len[1]);
        v->image.data = str[2];
        v->image.len = str_len[2];
    } else if (v->text && (strcmp(pl, "text") == 0 || !*pl)) {
        v->kind = NT_SUMMARY_TEXT;
    } else {
        v->kind = NT_SUMMARY_TENSOR;
    }
    return true;
}

/* Fills one Summary.Value; false if malformed or out of memory. */
static bool parse_value(nt_events *r, const uint8_t *msg, size_t len, nt_summary_value *v)
{
    pb m = {msg, msg + len};
    pb_field f;
    bool bad = false, has_simple = false;
    const uint8_t *image = NULL, *histo = NULL, *tensor = NULL, *tag = NULL;
    size_t image_len = 0, histo_len = 0, tensor_len = 0, tag_len = 0;
    const char *plugin = NULL;
    memset(v, 0, sizeof *v);
    while (pb_next(&m, &f, &bad)) {
        if (f.num == 1 && f.wt == NT_PB_LEN) {
            tag = f.data;
            tag_len = f.len;
        } else if (f.num == 2 && f.wt == NT_PB_FIXED32) {
            has_simple = true;
            v->scalar = u32_as_float(f.u);
        } else if (f.num == 4 && f.wt == NT_PB_LEN) {
            image = f.data;
            image_len = f.len;
        } else if (f.num == 5 && f.wt == NT_PB_LEN) {
            histo = f.data;
            histo_len = f.len;
        } else if (f.num == 8 && f.wt == NT_PB_LEN) {
            tensor = f.data;
            tensor_len = f.len;
        } else if (f.num == 9 && f.wt == NT_PB_LEN) {
            /* SummaryMetadata.plugin_data.plugin_name */
            pb md = {f.data, f.data + f.len};
            pb_field g;
            while (pb_next(&md, &g, &bad)) {
                if (g.num != 1 || g.wt != NT_PB_LEN)
                    continue;
                pb pd = {g.data, g.data + g.len};
                pb_field h;
                while (pb_next(&pd, &h, &bad))
                    if (h.num == 1 && h.wt == NT_PB_LEN)
                        plugin = scratch_str(&r->sc, h.data, h.len);
            }
        }
    }
    if (bad)
        return false;
    v->tag = scratch_str(&r->sc, tag ? tag : (const uint8_t *)"", tag_len);
    if (!v->tag)
        return false;
    if (plugin) {
        if (!plugin_put(&r->plugins, v->tag, plugin))
            return false;
        v->plugin = plugin;
    } else {
        v->plugin = plugin_get(&r->plugins, v->tag);
    }
    v->tensor.ndim = -1;
    if (has_simple) {
        v->kind = NT_SUMMARY_SCALAR;
        return true;
    }
    if (histo)
        return parse_histo(r, histo, histo_len, v);
    if (image)
        return parse_image(image, image_len, v);
    if (tensor) {
        const uint8_t *str[3] = {NULL, NULL, NULL};
        size_t str_len[3] = {0, 0, 0};
        int n_str = 0;
        return parse_tensor(r, tensor, tensor_len, v, str, str_len, &n_str) &&
               classify_tensor(r, v, str, str_len, n_str);
    }
    v->kind = NT_SUMMARY_OTHER;
    return true;
}

/* Decodes an Event payload into ev; false if malformed or out of memory. */
static bool parse_event(nt_events *r, const uint8_t *data, size_t len, nt_event *ev)
{
    pb m = {data, data + len};
    pb_field f;
    bool bad = false;
    const uint8_t *summary = NULL;
    size_t summary_len = 0;
    while (pb_next(&m, &f, &bad)) {
        if (f.num == 1 && f.wt == NT_PB_FIXED64) {
            ev->wall_time = u64_as_double(f.u);
        } else if (f.num == 2 && f.wt == NT_PB_VARINT) {
            ev->step = (int64_t)f.u;
        } else if (f.num == 3 && f.wt == NT_PB_LEN) {
            ev->kind = NT_EVENT_FILE_VERSION;
            ev->file_version = scratch_str(&r->sc, f.data, f.len);
            if (!ev->file_version)
                return false;
        } else if (f.num == 4 && f.wt == NT_PB_LEN) {
            ev->kind = NT_EVENT_GRAPH;
            ev->graph_def = f.data;
            ev->graph_def_len = f.len;
        } else if (f.num == 5 && f.wt == NT_PB_LEN) {
            ev->kind = NT_EVENT_SUMMARY;
            summary = f.data;
            summary_len = f.len;
        }
    }
    if (bad || !summary)
        return !bad;
    int n = 0;
    pb s = {summary, summary + summary_len};
    while (pb_next(&s, &f, &bad))
        n += f.num == 1 && f.wt == NT_PB_LEN;
    if (bad)
        return false;
    if (n > r->values_cap) {
        nt_summary_value *p = nt_realloc(r->values, (size_t)n * sizeof *p);
        if (!p)
            return false;
        r->values = p;
        r->values_cap = n;
    }
    int i = 0;
    s = (pb){summary, summary + summary_len};
    while (pb_next(&s, &f, &bad)) {
        if (f.num != 1 || f.wt != NT_PB_LEN)
            continue;
        if (!parse_value(r, f.data, f.len, &r->values[i]))
            return false;
        i++;
    }
    ev->n_values = i;
    ev->values = r->values;
    return true;
}

nt_status nt_events_next(nt_events *r, nt_event *ev, bool *have)
{
    if (!r || !ev || !have)
        return nt_error(NT_ERR_INVALID_ARG, "nt_events_next: NULL argument");
    *have = false;
    scratch_reset(&r->sc);
    for (;;) {
        size_t avail;
        nt_status s = ensure(r, 12, &avail);
        if (s != NT_OK)
            return s;
        if (avail < 12) {
            r->truncated = avail > 0;
            if (avail > 0)
                set_problem(r, "truncated record at offset %llu: %zu of 12 header bytes",
                            (unsigned long long)nt_events_offset(r), avail);
            return NT_OK;
        }
        uint64_t len;
        const uint8_t *h = r->buf + r->pos;
        if (!header_ok(h, &len)) {
            if (!r->resyncing) {
                r->bad++;
                set_problem(r, "bad length CRC in record at offset %llu; scanning for the next record",
                            (unsigned long long)nt_events_offset(r));
                r->resyncing = true;
            }
            r->pos++;
            continue;
        }
        s = ensure(r, 16 + len, &avail);
        if (s != NT_OK)
            return s;
        if (avail < 16 + len) {
            r->truncated = true;
            set_problem(r, "truncated record at offset %llu: %zu of %llu bytes",
                        (unsigned long long)nt_events_offset(r), avail, (unsigned long long)(16 + len));
            return NT_OK;
        }
        h = r->buf + r->pos;
        uint32_t want = (uint32_t)le_bytes(h + 12 + len, 4);
        if (nt_crc32c_mask(nt_crc32c(h + 12, (size_t)len)) != want) {
            if (r->resyncing) { /* a chance header match inside damage */
                r->pos++;
                continue;
            }
            r->bad++;
            set_problem(r, "bad data CRC in record at offset %llu", (unsigned long long)nt_events_offset(r));
            r->pos += 16 + (size_t)len;
            continue;
        }
        r->resyncing = false;
        r->truncated = false;
        memset(ev, 0, sizeof *ev);
        ev->offset = nt_events_offset(r);
        r->pos += 16 + (size_t)len;
        if (!parse_event(r, h + 12, (size_t)len, ev)) {
            r->bad++;
            set_problem(r, "unparsable Event in record at offset %llu", (unsigned long long)ev->offset);
            memset(ev, 0, sizeof *ev);
            scratch_reset(&r->sc);
            continue;
        }
        *have = true;
        return NT_OK;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

nt_status nt_events_list(const char *dir, char ***paths, int *n)
{
    if (!dir || !paths || !n)
        return nt_error(NT_ERR_INVALID_ARG, "nt_events_list: NULL argument");
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return nt_error(NT_ERR_IO, "%s: cannot open directory: %s", dir, strerror(errno));
    char **list = NULL;
    int count = 0, cap = 0;
    nt_status s = NT_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, "tfevents"))
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = nt_malloc(len);
        if (!path) {
            s = NT_ERR_NOMEM;
            break;
        }
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (count == cap) {
            int ncap = cap ? cap * 2 : 8;
            char **p = nt_realloc(list, (size_t)ncap * sizeof *p);
            if (!p) {
                free(path);
                s = NT_ERR_NOMEM;
                break;
            }
            list = p;
            cap = ncap;
        }
        list[count++] = path;
    }
    closedir(d);
    if (s != NT_OK) {
        nt_events_list_free(list, count);
        return s;
    }
    if (count > 1)
        qsort(list, (size_t)count, sizeof *list, cmp_str);
    *paths = list;
    *n = count;
    return NT_OK;
}

void nt_events_list_free(char **paths, int n)
{
    for (int i = 0; paths && i < n; i++)
        free(paths[i]);
    free(paths);
}
