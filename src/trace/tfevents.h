/*
 * tfevents.h — TensorBoard event files, written and read by nntrace itself.
 *
 * File format: a sequence of TFRecord frames
 *     uint64 length (little endian) | uint32 masked_crc32c(length bytes)
 *     | length bytes of data | uint32 masked_crc32c(data)
 * where each data blob is a serialized tensorflow Event protobuf:
 *     Event { double wall_time = 1; int64 step = 2;
 *             oneof { string file_version = 3; bytes graph_def = 4;
 *                     Summary summary = 5; ... } }
 * The first record of every file is an Event carrying file_version
 * "brain.Event:2", as TensorFlow's and PyTorch's writers do.
 *
 * The writer (nt_writer_*, public part in nntrace.h) buffers records in
 * memory and writes whole records only, flushing after a number of records, a
 * number of seconds (also from a background thread when the program goes
 * quiet) and on flush/close.  A write error is sticky: it is returned by the
 * next call and by close.
 *
 * The reader (nt_events_*) checks both CRCs of every frame, skips and counts
 * corrupt records, stops cleanly at an incomplete tail and can be called
 * again later to pick up records appended since (live dashboards).  It
 * decodes scalars written as simple_value and as tensors (TF2 / PyTorch
 * new-style), histograms (HistogramProto and TF2's [k,3] tensors), images
 * (Summary.Image and TF2's string tensors), text and other tensors.
 */
#ifndef NT_TFEVENTS_H
#define NT_TFEVENTS_H

#include "core/core.h"
#include "graph/ir.h"

/* ---------------------------------------------------------------- writer */

/* The file_version string of the first record. */
#define NT_EVENTS_FILE_VERSION "brain.Event:2"

/* Defaults of the flush policy. */
#define NT_WRITER_FLUSH_RECORDS 1000
#define NT_WRITER_FLUSH_SECONDS 2.0

/* Opens a writer on an exact file path (truncating it) instead of a
 * generated name in a directory; used by tests (e.g. "/dev/full" to inject a
 * disk-full error) and by tools that choose their own names. */
nt_status nt_writer_open_file(const char *path, nt_writer **out);

/* The path of the file being written (borrowed, valid until close). */
const char *nt_writer_path(const nt_writer *w);

/* Changes the flush policy: write out buffered records once max_records are
 * pending or max_seconds have passed since the last write-out.  max_records
 * 1 makes every record reach the file before the call returns. */
void nt_writer_set_flush_policy(nt_writer *w, size_t max_records, double max_seconds);

/* Appends one Event record with the current wall time and `step`; `fields`
 * holds the already-encoded remaining Event fields (e.g. field 5, a Summary,
 * or field 4, a GraphDef).  The building block of every nt_writer_* call. */
nt_status nt_writer_event(nt_writer *w, int64_t step, const void *fields, size_t len);

/* Appends one Event whose summary holds a single, already-encoded
 * Summary.Value body (tag and value fields, without the Value's own key). */
nt_status nt_writer_summary_value(nt_writer *w, int64_t step, const void *value, size_t len);

/* Writes the model's top-level graph as a GraphDef so TensorBoard's Graphs
 * tab shows it: one NodeDef per node (name, op = op_type or
 * "domain.op_type", inputs as producer node names with ":k" for output k > 0,
 * attr "_output_shapes" where shapes are declared), plus Placeholder nodes
 * for graph inputs and Const nodes for initializers.  Node names are made
 * unique and lose a leading '/', which TensorBoard would read as an empty
 * scope. */
nt_status nt_writer_graph(nt_writer *w, const nt_model *m);

/* Encodes a model's graph as GraphDef bytes appended to out (what
 * nt_writer_graph writes; exposed for tests). */
nt_status nt_graphdef_encode(const nt_model *m, nt_buf *out);

/* Histogram of the finite values (NaN/Inf are left out of every field) as a
 * HistogramProto body appended to out: min, max, num, sum, sum_squares, and
 * `buckets` evenly spaced buckets between min and max (bucket_limit is each
 * bucket's right edge).  Statistics are accumulated in double. */
void nt_histogram_encode(const float *values, size_t n, int buckets, nt_buf *out);

/* Number of buckets nt_writer_histogram uses (TensorBoard's default too). */
#define NT_HISTOGRAM_BUCKETS 30

/* ---------------------------------------------------------------- reader */

typedef struct nt_events nt_events;

typedef enum nt_event_kind {
    NT_EVENT_OTHER = 0,       /* log message, session log, run metadata, ... */
    NT_EVENT_FILE_VERSION,    /* file_version is set */
    NT_EVENT_GRAPH,           /* graph_def / graph_def_len are set */
    NT_EVENT_SUMMARY          /* values / n_values are set */
} nt_event_kind;

typedef enum nt_summary_kind {
    NT_SUMMARY_OTHER = 0,     /* audio, old-style histogram, unrecognized */
    NT_SUMMARY_SCALAR,
    NT_SUMMARY_HISTOGRAM,
    NT_SUMMARY_IMAGE,
    NT_SUMMARY_TEXT,
    NT_SUMMARY_TENSOR         /* any other tensor: see `tensor` */
} nt_summary_kind;

/* One Summary.Value.  Pointers are borrowed from the reader and valid until
 * the next nt_events_next or nt_events_close. */
typedef struct nt_summary_value {
    const char *tag;          /* NUL-terminated */
    nt_summary_kind kind;
    const char *plugin;       /* plugin_name from metadata, or remembered from the
                                 tag's first value; "" if none */
    double scalar;            /* SCALAR */
    struct {                  /* HISTOGRAM; bucket i spans (limits[i-1], limits[i]] */
        double min, max, num, sum, sum_squares;
        int n_buckets;
        const double *limits;
        const double *counts;
    } histo;
    struct {                  /* IMAGE */
        int height, width, colorspace;
        const uint8_t *data;  /* encoded (PNG for nntrace's files) */
        size_t len;
    } image;
    const char *text;         /* TEXT: strings joined with '\n', NUL-terminated */
    size_t text_len;
    struct {                  /* TENSOR (also filled for SCALAR/HISTOGRAM read from tensors) */
        int dtype;            /* TensorFlow DataType: 1 float, 2 double, 3 int32, 7 string, 9 int64, 19 half */
        int ndim;             /* -1 if the shape was absent */
        int64_t dims[NT_MAX_DIMS];
        int64_t n;            /* number of numeric values decoded into `values` */
        const double *values;
    } tensor;
} nt_summary_value;

typedef struct nt_event {
    uint64_t offset;          /* file offset of the record's frame */
    double wall_time;
    int64_t step;
    nt_event_kind kind;
    const char *file_version;
    const uint8_t *graph_def;
    size_t graph_def_len;
    int n_values;
    const nt_summary_value *values;
} nt_event;

/* Opens an event file for reading from the start, or from `offset` (the
 * value nt_events_offset returned earlier, to resume without re-reading). */
nt_status nt_events_open(const char *path, nt_events **out);
nt_status nt_events_open_at(const char *path, uint64_t offset, nt_events **out);
/* Reads from a memory buffer (copied); for tests and fuzzing. */
nt_status nt_events_open_buffer(const void *data, size_t len, nt_events **out);
void nt_events_close(nt_events *r);

/*
 * Reads the next event.  *have is true when *ev was filled; false at the end
 * of the data read so far (a clean end, or an incomplete record at the tail:
 * see nt_events_truncated).  Calling again later continues from the last
 * complete record, so records appended meanwhile are returned.  Records with
 * a bad CRC or an unparsable payload are skipped and counted.  Errors: only
 * I/O and memory failures.
 */
nt_status nt_events_next(nt_events *r, nt_event *ev, bool *have);

/* Offset just past the last complete record consumed. */
uint64_t nt_events_offset(const nt_events *r);
/* True if the last read stopped at an incomplete record. */
bool nt_events_truncated(const nt_events *r);
/* Records skipped so far because of a bad length CRC, bad data CRC or an
 * unparsable Event. */
uint64_t nt_events_bad_records(const nt_events *r);
/* The latest problem ("bad data CRC in record at offset 1234",
 * "truncated record at offset 5678: 20 of 60 bytes"), "" if none. */
const char *nt_events_problem(const nt_events *r);

/* Event files in a run directory (names containing "tfevents"), full paths,
 * sorted by name (hence by creation time for TensorBoard-style names).  Free
 * with nt_events_list_free. */
nt_status nt_events_list(const char *dir, char ***paths, int *n);
void nt_events_list_free(char **paths, int n);

#endif /* NT_TFEVENTS_H */
