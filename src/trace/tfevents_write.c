/*
 * tfevents_write.c — the TensorBoard event-file writer: file creation and
 * naming, TFRecord framing, buffering and the flush policy, sticky I/O
 * errors, and the scalar fast path.  Summary kinds other than scalars are
 * encoded in trace_api.c on top of nt_writer_event / nt_writer_summary_value.
 *
 * Durability model: records are framed into an in-memory buffer and written
 * out with write(2) in whole-record chunks, so the file only ever grows by
 * complete records (unless the disk fills up mid-chunk, in which case the
 * partial tail is truncated away and the error reported).  Nothing is
 * fsync'ed: a killed process loses only what was still buffered (at most
 * max_records records or max_seconds of them), and the page cache makes
 * written records visible to readers at once.  A background thread writes
 * out pending records every max_seconds so a program that logs a burst and
 * then computes for minutes still shows its latest points.
 *
 * Thread safety: every call takes the writer's mutex, so several threads may
 * log into one writer.
 */
#include "trace/tfevents.h"

#include "trace/crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Buffered bytes that force a write-out regardless of the record count. */
#define WRITER_MAX_BUFFERED (1u << 20)

struct nt_writer {
    char *path;
    int fd;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t flusher;
    bool has_flusher;
    bool closing;
    uint8_t *buf;             /* framed records not yet written */
    size_t len, cap;
    size_t pending;           /* records in buf */
    size_t max_records;
    double max_seconds;
    double last_out;          /* wall seconds of the last write-out */
    uint64_t file_len;        /* bytes of complete records in the file */
    nt_status err;            /* first error; sticky */
    char errmsg[512];
    double walltime;          /* > 0: the wall_time of the records appended next */
};

static atomic_int writer_counter;

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Records the writer's first error (message kept for later calls, which may
 * come from another thread than the one that hit it). */
static void writer_fail(nt_writer *w, nt_status s, const char *fmt, ...) NT_PRINTF(3, 4);
static void writer_fail(nt_writer *w, nt_status s, const char *fmt, ...)
{
    if (w->err != NT_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->errmsg, sizeof w->errmsg, fmt, ap);
    va_end(ap);
    w->err = s;
}

/* Re-raises the sticky error on the calling thread. */
static nt_status writer_error(const nt_writer *w) { return nt_error(w->err, "%s", w->errmsg); }

/* Makes room for n more bytes in the record buffer. */
static bool writer_reserve(nt_writer *w, size_t n)
{
    if (w->len + n <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 64 * 1024;
    while (cap < w->len + n) {
        if (cap > SIZE_MAX / 2) {
            writer_fail(w, NT_ERR_NOMEM, "%s: record too large", w->path);
            return false;
        }
        cap *= 2;
    }
    uint8_t *p = nt_realloc(w->buf, cap);
    if (!p) {
        writer_fail(w, NT_ERR_NOMEM, "%s: out of memory buffering %zu bytes", w->path, cap);
        return false;
    }
    w->buf = p;
    w->cap = cap;
    return true;
}

/* Writes the buffer out whole.  On failure the file is cut back to the last
 * complete record so readers never see a torn record, and the error sticks.
 * Called with the mutex held. */
static void writer_out(nt_writer *w)
{
    w->last_out = wall_seconds();
    if (w->len == 0 || w->err != NT_OK)
        return;
    size_t done = 0;
    while (done < w->len) {
        ssize_t k = write(w->fd, w->buf + done, w->len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            if (done > 0 && ftruncate(w->fd, (off_t)w->file_len) == 0)
                (void)lseek(w->fd, (off_t)w->file_len, SEEK_SET);
            writer_fail(w, NT_ERR_IO, "%s: write failed (%zu records lost): %s", w->path, w->pending,
                        strerror(e));
            return;
        }
        done += (size_t)k;
    }
    w->file_len += w->len;
    w->len = 0;
    w->pending = 0;
}

/* Applies the flush policy after a record was added (mutex held). */
static void writer_maybe_out(nt_writer *w, double now)
{
    if (w->pending >= w->max_records || w->len >= WRITER_MAX_BUFFERED || now - w->last_out >= w->max_seconds)
        writer_out(w);
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Size of the wall_time and step fields of an Event. */
static inline size_t event_head_len(int64_t step)
{
    return 9 + (step ? 1 + varint_len((uint64_t)step) : 0);
}

static inline uint8_t *put_event_head(uint8_t *p, double wall, int64_t step)
{
    uint64_t bits;
    memcpy(&bits, &wall, 8);
    *p++ = 0x09; /* field 1, fixed64 */
    put_le64(p, bits);
    p += 8;
    if (step) {
        *p++ = 0x10; /* field 2, varint */
        p = put_varint(p, (uint64_t)step);
    }
    return p;
}

/* Frames the `data_len` bytes already placed at buf[start + 12 ...] :
 * fills the length header and its CRC, appends the data CRC. */
static void frame_finish(nt_writer *w, size_t start, size_t data_len)
{
    uint8_t *h = w->buf + start;
    put_le64(h, data_len);
    put_le32(h + 8, nt_crc32c_mask(nt_crc32c(h, 8)));
    put_le32(h + 12 + data_len, nt_crc32c_mask(nt_crc32c(h + 12, data_len)));
    w->len = start + 16 + data_len;
    w->pending++;
}

/* The wall_time written into a record: the clock, unless the caller set one. */
static double record_time(const nt_writer *w, double now) { return w->walltime > 0 ? w->walltime : now; }

/* Appends one Event made of the head fields and n byte ranges (mutex held). */
static void writer_append(nt_writer *w, int64_t step, const void *const *parts, const size_t *lens, int n)
{
    double now = wall_seconds();
    size_t data_len = event_head_len(step);
    for (int i = 0; i < n; i++)
        data_len += lens[i];
    if (!writer_reserve(w, data_len + 16))
        return;
    size_t start = w->len;
    uint8_t *p = put_event_head(w->buf + start + 12, record_time(w, now), step);
    for (int i = 0; i < n; i++) {
        if (lens[i])
            memcpy(p, parts[i], lens[i]);
        p += lens[i];
    }
    frame_finish(w, start, data_len);
    writer_maybe_out(w, now);
}

static void *flusher_main(void *arg)
{
    nt_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->closing) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double secs = w->max_seconds > 0.01 ? w->max_seconds : 0.01;
        if (secs > 3600)
            secs = 3600;
        long long ns = ts.tv_nsec + (long long)((secs - (double)(long long)secs) * 1e9);
        ts.tv_sec += (time_t)secs + (time_t)(ns / 1000000000);
        ts.tv_nsec = (long)(ns % 1000000000);
        int rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (rc == ETIMEDOUT && !w->closing && w->pending > 0)
            writer_out(w);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Shared set-up once the file is open: first record, flusher thread. */
static nt_status writer_start(nt_writer *w, nt_writer **out)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->mu, NULL);
    w->max_records = NT_WRITER_FLUSH_RECORDS;
    w->max_seconds = NT_WRITER_FLUSH_SECONDS;
    w->last_out = wall_seconds();

    /* First record: file_version, written out at once so the file is valid
     * (and recognizable by TensorBoard) from the moment it exists. */
    static const char version[] = NT_EVENTS_FILE_VERSION;
    uint8_t field[2 + sizeof version];
    field[0] = 0x1a; /* field 3, length-delimited */
    field[1] = (uint8_t)(sizeof version - 1);
    memcpy(field + 2, version, sizeof version - 1);
    const void *parts[1] = {field};
    size_t lens[1] = {sizeof version + 1};
    writer_append(w, 0, parts, lens, 1);
    writer_out(w);
    if (w->err != NT_OK) {
        nt_status s = writer_error(w);
        close(w->fd);
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w->buf);
        free(w->path);
        free(w);
        return s;
    }
    /* Without the thread, records still go out by count, by time on the
     * next call, and on flush/close. */
    w->has_flusher = pthread_create(&w->flusher, NULL, flusher_main, w) == 0;
    *out = w;
    return NT_OK;
}

nt_status nt_writer_open_file(const char *path, nt_writer **out)
{
    if (!out)
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_open_file: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_open_file: empty path");
    nt_writer *w = nt_calloc(1, sizeof *w);
    if (!w)
        return NT_ERR_NOMEM;
    w->path = nt_strdup(path);
    if (!w->path) {
        free(w);
        return NT_ERR_NOMEM;
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (w->fd < 0) {
        nt_status s = nt_error(NT_ERR_IO, "%s: cannot create event file: %s", path, strerror(errno));
        free(w->path);
        free(w);
        return s;
    }
    return writer_start(w, out);
}

nt_status nt_writer_open(const char *dir, nt_writer **out)
{
    if (!out)
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_open: out is NULL");
    *out = NULL;
    if (!dir || !*dir)
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_open: empty directory name");
    nt_status s = nt_mkdirs(dir);
    if (s != NT_OK)
        return s;
    char host[256];
    if (gethostname(host, sizeof host) != 0 || !host[0])
        strcpy(host, "localhost");
    host[sizeof host - 1] = '\0';
    for (char *c = host; *c; c++)
        if (*c == '/')
            *c = '_';
    size_t cap = strlen(dir) + strlen(host) + 96;
    nt_writer *w = nt_calloc(1, sizeof *w);
    char *path = nt_malloc(cap);
    if (!w || !path) {
        free(w);
        free(path);
        return NT_ERR_NOMEM;
    }
    /* Named as PyTorch's and tensorboardX's writers do:
     * events.out.tfevents.<10-digit seconds>.<host>.<pid>.<counter>; the
     * counter separates writers opened by one process in the same second. */
    for (int attempt = 0;; attempt++) {
        int counter = atomic_fetch_add(&writer_counter, 1);
        snprintf(path, cap, "%s/events.out.tfevents.%010lld.%s.%ld.%d", dir, (long long)time(NULL), host,
                 (long)getpid(), counter);
        w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (w->fd >= 0)
            break;
        if (errno != EEXIST || attempt >= 1000) {
            s = nt_error(NT_ERR_IO, "%s: cannot create event file: %s", path, strerror(errno));
            free(path);
            free(w);
            return s;
        }
    }
    w->path = path;
    return writer_start(w, out);
}

const char *nt_writer_path(const nt_writer *w) { return w ? w->path : ""; }

void nt_writer_set_flush_policy(nt_writer *w, size_t max_records, double max_seconds)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->max_records = max_records ? max_records : 1;
    w->max_seconds = max_seconds > 0 ? max_seconds : 0;
    pthread_cond_signal(&w->cv); /* let the flusher pick up the new period */
    pthread_mutex_unlock(&w->mu);
}

nt_status nt_writer_event(nt_writer *w, int64_t step, const void *fields, size_t len)
{
    if (!w || (!fields && len))
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_event: NULL argument");
    pthread_mutex_lock(&w->mu);
    const void *parts[1] = {fields};
    size_t lens[1] = {len};
    if (w->err == NT_OK)
        writer_append(w, step, parts, lens, 1);
    nt_status s = w->err != NT_OK ? writer_error(w) : NT_OK;
    pthread_mutex_unlock(&w->mu);
    return s;
}

nt_status nt_writer_summary_value(nt_writer *w, int64_t step, const void *value, size_t len)
{
    if (!w || (!value && len))
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_summary_value: NULL argument");
    /* Event.summary (5) { Summary.value (1) { value } } */
    uint8_t pre[24], *p = pre;
    size_t summary_len = 1 + varint_len(len) + len;
    *p++ = 0x2a;
    p = put_varint(p, summary_len);
    *p++ = 0x0a;
    p = put_varint(p, len);
    const void *parts[2] = {pre, value};
    size_t lens[2] = {(size_t)(p - pre), len};
    pthread_mutex_lock(&w->mu);
    if (w->err == NT_OK)
        writer_append(w, step, parts, lens, 2);
    nt_status s = w->err != NT_OK ? writer_error(w) : NT_OK;
    pthread_mutex_unlock(&w->mu);
    return s;
}

/*
 * The scalar fast path: the whole Event is encoded straight into the record
 * buffer (no intermediate message), as
 *   Event { wall_time, step, summary { value { tag, simple_value } } }.
 * simple_value is a float, as in every TensorBoard writer.
 */
nt_status nt_writer_scalar(nt_writer *w, const char *tag, int64_t step, double value)
{
    if (!w || !tag)
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_scalar: NULL argument");
    size_t tag_len = strlen(tag);
    size_t value_len = 1 + varint_len(tag_len) + tag_len + 5;
    size_t summary_len = 1 + varint_len(value_len) + value_len;
    size_t data_len = event_head_len(step) + 1 + varint_len(summary_len) + summary_len;
    float f = (float)value;
    uint32_t fbits;
    memcpy(&fbits, &f, 4);

    pthread_mutex_lock(&w->mu);
    if (w->err == NT_OK && writer_reserve(w, data_len + 16)) {
        double now = wall_seconds();
        size_t start = w->len;
        uint8_t *p = put_event_head(w->buf + start + 12, record_time(w, now), step);
        *p++ = 0x2a;
        p = put_varint(p, summary_len);
        *p++ = 0x0a;
        p = put_varint(p, value_len);
        *p++ = 0x0a;
        p = put_varint(p, tag_len);
        memcpy(p, tag, tag_len);
        p += tag_len;
        *p++ = 0x15; /* field 2, fixed32 */
        put_le32(p, fbits);
        frame_finish(w, start, data_len);
        writer_maybe_out(w, now);
    }
    nt_status s = w->err != NT_OK ? writer_error(w) : NT_OK;
    pthread_mutex_unlock(&w->mu);
    return s;
}

nt_status nt_writer_flush(nt_writer *w)
{
    if (!w)
        return nt_error(NT_ERR_INVALID_ARG, "nt_writer_flush: NULL writer");
    pthread_mutex_lock(&w->mu);
    writer_out(w);
    nt_status s = w->err != NT_OK ? writer_error(w) : NT_OK;
    pthread_mutex_unlock(&w->mu);
    return s;
}

nt_status nt_writer_close(nt_writer *w)
{
    if (!w)
        return NT_OK;
    pthread_mutex_lock(&w->mu);
    w->closing = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    if (w->has_flusher)
        pthread_join(w->flusher, NULL);
    writer_out(w);
    if (close(w->fd) != 0)
        writer_fail(w, NT_ERR_IO, "%s: close failed: %s", w->path, strerror(errno));
    nt_status s = w->err != NT_OK ? writer_error(w) : NT_OK;
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->buf);
    free(w->path);
    free(w);
    return s;
}

void nt_writer_set_walltime(nt_writer *w, double seconds)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->walltime = seconds > 0 && seconds < 1e15 ? seconds : 0;
    pthread_mutex_unlock(&w->mu);
}
