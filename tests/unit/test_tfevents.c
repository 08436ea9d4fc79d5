/*
 * test_tfevents.c — the event writer and reader: file naming and first
 * record, round trip of every summary kind, the graph as a GraphDef,
 * tensor-based scalars/histograms/images/text as TF2 and PyTorch write them,
 * truncated tails, corrupted CRCs (data and length, with resync), resuming
 * a growing file, the flush policy, sticky I/O errors (via /dev/full), and
 * random damage not crashing the reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "onnx/pbw.h"
#include "trace/crc32c.h"
#include "trace/tfevents.h"

#include <fcntl.h>
#include <math.h>
#include <unistd.h>

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nt_test_tfevents_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A fresh sub-directory per test. */
static void subdir(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
    assert_int_equal(nt_mkdirs(out), NT_OK);
}

static void read_all(const char *path, char **data, size_t *len)
{
    assert_int_equal(nt_read_file(path, data, len), NT_OK);
}

/* Reads every event of a buffer; returns how many, fills stats. */
static int count_events(const void *data, size_t len, uint64_t *bad, bool *truncated)
{
    nt_events *r;
    assert_int_equal(nt_events_open_buffer(data, len, &r), NT_OK);
    int n = 0;
    nt_event ev;
    bool have;
    for (;;) {
        assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
        if (!have)
            break;
        n++;
    }
    if (bad)
        *bad = nt_events_bad_records(r);
    if (truncated)
        *truncated = nt_events_truncated(r);
    nt_events_close(r);
    return n;
}

/* The only event file in dir. */
static void only_file(const char *dir, char *path, size_t n)
{
    char **paths;
    int count;
    assert_int_equal(nt_events_list(dir, &paths, &count), NT_OK);
    assert_int_equal(count, 1);
    snprintf(path, n, "%s", paths[0]);
    nt_events_list_free(paths, count);
}

static void test_naming_and_first_record(void **state)
{
    (void)state;
    char dir[300], path[600];
    subdir("naming", dir, sizeof dir);
    nt_writer *w;
    assert_int_equal(nt_writer_open(dir, &w), NT_OK);
    /* the first record is on disk before any flush */
    only_file(dir, path, sizeof path);
    assert_string_equal(path, nt_writer_path(w));
    const char *base = strrchr(path, '/') + 1;
    assert_memory_equal(base, "events.out.tfevents.", 20);
    /* <10 digits>.<host>.<pid>.<counter> */
    const char *p = base + 20;
    for (int i = 0; i < 10; i++)
        assert_true(p[i] >= '0' && p[i] <= '9');
    assert_int_equal(p[10], '.');
    char pid[32];
    snprintf(pid, sizeof pid, ".%ld.", (long)getpid());
    assert_non_null(strstr(p + 11, pid));

    char *data;
    size_t len;
    read_all(path, &data, &len);
    nt_events *r;
    assert_int_equal(nt_events_open_buffer(data, len, &r), NT_OK);
    nt_event ev;
    bool have;
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_true(have);
    assert_int_equal(ev.kind, NT_EVENT_FILE_VERSION);
    assert_string_equal(ev.file_version, "brain.Event:2");
    assert_true(ev.wall_time > 1.6e9);
    assert_int_equal(ev.offset, 0);
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_false(have);
    assert_false(nt_events_truncated(r));
    nt_events_close(r);
    free(data);

    /* two writers in the same second get different names */
    nt_writer *w2;
    assert_int_equal(nt_writer_open(dir, &w2), NT_OK);
    assert_string_not_equal(nt_writer_path(w), nt_writer_path(w2));
    assert_int_equal(nt_writer_close(w2), NT_OK);
    assert_int_equal(nt_writer_close(w), NT_OK);
    char **paths;
    int count;
    assert_int_equal(nt_events_list(dir, &paths, &count), NT_OK);
    assert_int_equal(count, 2);
    assert_true(strcmp(paths[0], paths[1]) < 0);
    nt_events_list_free(paths, count);
}

/* A little model: x[1,4] -> MatMul(W) -> Relu -> Split -> Add(b, a). */
static void build_model(nt_model *m, nt_graph *g)
{
    static int64_t xdims[2] = {1, 4}, hdims[2] = {1, 3}, wdims_[2] = {4, 3};
    static const char *xnames[2] = {"batch", NULL};
    static nt_tensor winit;
    static nt_value values[7];
    static int in0[2] = {0, 1}, out0[1] = {2}, in1[1] = {2}, out1[1] = {3};
    static int in2[1] = {3}, out2[2] = {4, 5}, in3[2] = {5, 4}, out3[1] = {6};
    static int64_t axis_ints[2] = {1, 2};
    static nt_attr attrs2[2];
    static nt_node nodes[4];
    static int ginputs[1] = {0}, goutputs[1] = {6}, ginits[1] = {1};
    memset(m, 0, sizeof *m);
    memset(g, 0, sizeof *g);
    memset(values, 0, sizeof values);
    memset(&winit, 0, sizeof winit);
    winit.dtype = NT_DTYPE_FLOAT;
    winit.ndim = 2;
    memcpy(winit.dims, wdims_, sizeof wdims_);
    const char *names[7] = {"x", "W", "h", "r", "a", "b", "y"};
    for (int i = 0; i < 7; i++) {
        values[i].name = names[i];
        values[i].ndim = -1;
        values[i].producer = -1;
    }
    values[0].kind = NT_VALUE_INPUT;
    values[0].dtype = NT_DTYPE_FLOAT;
    values[0].ndim = 2;
    values[0].dims = xdims;
    values[0].dim_names = xnames;
    values[0].is_graph_input = true;
    values[1].kind = NT_VALUE_INITIALIZER;
    values[1].init = &winit;
    values[2].producer = 0;
    values[2].ndim = 2;
    values[2].dims = hdims;
    values[3].producer = 1;
    values[4].producer = 2;
    values[5].producer = 2;
    values[6].producer = 3;
    values[6].is_graph_output = true;
    memset(attrs2, 0, sizeof attrs2);
    attrs2[0] = (nt_attr){.name = "axis", .type = NT_ATTR_INT, .i = 1};
    attrs2[1] = (nt_attr){.name = "split", .type = NT_ATTR_INTS, .n = 2, .ints = axis_ints};
    memset(nodes, 0, sizeof nodes);
    nodes[0] = (nt_node){.name = "/fc/MatMul", .op_type = "MatMul", .domain = "", .n_in = 2, .n_out = 1,
                         .in = in0, .out = out0};
    nodes[1] = (nt_node){.name = "/act/Relu", .op_type = "Relu", .domain = "", .n_in = 1, .n_out = 1,
                         .in = in1, .out = out1, .index = 1};
    nodes[2] = (nt_node){.name = "", .op_type = "Split", .domain = "", .n_in = 1, .n_out = 2, .in = in2,
                         .out = out2, .index = 2, .n_attr = 2, .attrs = attrs2};
    nodes[3] = (nt_node){.name = "x", .op_type = "Add", .domain = "com.example", .n_in = 2, .n_out = 1,
                         .in = in3, .out = out3, .index = 3}; /* clashes with the input's name */
    g->name = "g";
    g->n_nodes = 4;
    g->nodes = nodes;
    g->n_values = 7;
    g->values = values;
    g->n_inputs = 1;
    g->inputs = ginputs;
    g->n_outputs = 1;
    g->outputs = goutputs;
    g->n_inits = 1;
    g->inits = ginits;
    m->graph = g;
}

static bool has_bytes(const void *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle)) != NULL;
}

static void test_round_trip_every_kind(void **state)
{
    (void)state;
    char dir[300], path[600];
    subdir("roundtrip", dir, sizeof dir);
    nt_writer *w;
    assert_int_equal(nt_writer_open(dir, &w), NT_OK);
    assert_int_equal(nt_writer_scalar(w, "loss/train", 7, 0.25), NT_OK);
    assert_int_equal(nt_writer_scalar(w, "zero/step", 0, -3.5), NT_OK);
    float vals[1000];
    for (int i = 0; i < 1000; i++)
        vals[i] = (float)(i % 100) / 10.0f - 2.0f;
    vals[10] = NAN;
    vals[11] = INFINITY;
    assert_int_equal(nt_writer_histogram(w, "weights/fc1", 3, vals, 1000), NT_OK);
    float same[5] = {2, 2, 2, 2, 2};
    assert_int_equal(nt_writer_histogram(w, "weights/const", 3, same, 5), NT_OK);
    assert_int_equal(nt_writer_histogram(w, "weights/empty", 3, NULL, 0), NT_OK);
    uint8_t px[4 * 5 * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t)(i * 7);
    assert_int_equal(nt_writer_image(w, "images/x", 9, px, 4, 5, 3), NT_OK);
    assert_int_equal(nt_writer_image(w, "images/bad", 9, px, 4, 5, 7), NT_ERR_INVALID_ARG);
    assert_int_equal(nt_writer_text(w, "notes", 11, "hello **world**"), NT_OK);
    nt_model m;
    nt_graph g;
    build_model(&m, &g);
    assert_int_equal(nt_writer_graph(w, &m), NT_OK);
    assert_int_equal(nt_writer_scalar(w, "big/step", INT64_C(1) << 40, 1e30), NT_OK);
    assert_int_equal(nt_writer_scalar(w, "neg/step", -5, 1), NT_OK);
    assert_int_equal(nt_writer_close(w), NT_OK);

    only_file(dir, path, sizeof path);
    nt_events *r;
    assert_int_equal(nt_events_open(path, &r), NT_OK);
    nt_event ev;
    bool have;
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.kind, NT_EVENT_FILE_VERSION);

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_true(have);
    assert_int_equal(ev.kind, NT_EVENT_SUMMARY);
    assert_int_equal(ev.step, 7);
    assert_int_equal(ev.n_values, 1);
    assert_string_equal(ev.values[0].tag, "loss/train");
    assert_int_equal(ev.values[0].kind, NT_SUMMARY_SCALAR);
    assert_true(ev.values[0].scalar == 0.25);

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.step, 0);
    assert_string_equal(ev.values[0].tag, "zero/step");
    assert_true(ev.values[0].scalar == -3.5);

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    const nt_summary_value *v = &ev.values[0];
    assert_int_equal(ev.step, 3);
    assert_int_equal(v->kind, NT_SUMMARY_HISTOGRAM);
    assert_string_equal(v->tag, "weights/fc1");
    assert_true(v->histo.num == 998); /* NaN and Inf left out */
    assert_true(fabs(v->histo.min - -2.0) < 1e-6);
    assert_true(fabs(v->histo.max - 7.9) < 1e-6);
    assert_int_equal(v->histo.n_buckets, NT_HISTOGRAM_BUCKETS);
    double total = 0, sum = 0;
    for (int i = 0; i < v->histo.n_buckets; i++) {
        total += v->histo.counts[i];
        if (i)
            assert_true(v->histo.limits[i] > v->histo.limits[i - 1]);
    }
    for (int i = 0; i < 1000; i++)
        if (isfinite(vals[i]))
            sum += vals[i];
    assert_true(total == 998);
    assert_true(fabs(v->histo.sum - sum) < 1e-6);
    assert_true(v->histo.limits[v->histo.n_buckets - 1] == v->histo.max);

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    v = &ev.values[0];
    assert_int_equal(v->kind, NT_SUMMARY_HISTOGRAM);
    assert_int_equal(v->histo.n_buckets, 1);
    assert_true(v->histo.counts[0] == 5 && v->histo.min == 2 && v->histo.max == 2);

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    v = &ev.values[0];
    assert_int_equal(v->kind, NT_SUMMARY_HISTOGRAM);
    assert_true(v->histo.num == 0);

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    v = &ev.values[0];
    assert_int_equal(ev.step, 9);
    assert_int_equal(v->kind, NT_SUMMARY_IMAGE);
    assert_int_equal(v->image.height, 4);
    assert_int_equal(v->image.width, 5);
    assert_int_equal(v->image.colorspace, 3);
    assert_true(v->image.len > 8);
    assert_memory_equal(v->image.data, "\x89PNG\r\n\x1a\n", 8);

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    v = &ev.values[0];
    assert_int_equal(ev.step, 11);
    assert_int_equal(v->kind, NT_SUMMARY_TEXT);
    assert_string_equal(v->plugin, "text");
    assert_string_equal(v->text, "hello **world**");
    assert_int_equal(v->tensor.dtype, 7);
    assert_int_equal(v->tensor.ndim, 0);

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.kind, NT_EVENT_GRAPH);
    assert_true(ev.graph_def_len > 0);
    assert_true(has_bytes(ev.graph_def, ev.graph_def_len, "fc/MatMul"));
    assert_false(has_bytes(ev.graph_def, ev.graph_def_len, "/fc/MatMul"));
    assert_true(has_bytes(ev.graph_def, ev.graph_def_len, "Split_2:1"));
    assert_true(has_bytes(ev.graph_def, ev.graph_def_len, "com.example.Add"));
    assert_true(has_bytes(ev.graph_def, ev.graph_def_len, "Placeholder"));
    assert_true(has_bytes(ev.graph_def, ev.graph_def_len, "_output_shapes"));
    assert_true(has_bytes(ev.graph_def, ev.graph_def_len, "\x0a\x03x_1\x12\x0f" "com.example.Add")); /* renamed */

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.step, INT64_C(1) << 40);
    assert_true(ev.values[0].scalar == (double)1e30f);
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.step, -5);

    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_false(have);
    assert_false(nt_events_truncated(r));
    assert_int_equal(nt_events_bad_records(r), 0);
    nt_events_close(r);
}

/* The exact Value layout: tag, simple_value (what a protobuf library emits). */
static void test_scalar_bytes(void **state)
{
    (void)state;
    char dir[300], path[600];
    subdir("bytes", dir, sizeof dir);
    nt_writer *w;
    assert_int_equal(nt_writer_open(dir, &w), NT_OK);
    assert_int_equal(nt_writer_scalar(w, "a", 1, 1.0), NT_OK);
    assert_int_equal(nt_writer_close(w), NT_OK);
    only_file(dir, path, sizeof path);
    char *data;
    size_t len;
    read_all(path, &data, &len);
    /* record 1: 12 + 17 + 4 bytes ("brain.Event:2" event: 9 + 2 + 13 = 24) */
    const uint8_t *p = (const uint8_t *)data;
    assert_int_equal(p[0], 24);
    size_t r2 = 16 + 24;
    /* event: 09 <8> 10 01 2a 0a 0a 08 0a 01 'a' 15 <00 00 80 3f> */
    static const uint8_t tail[] = {0x10, 0x01, 0x2a, 0x0a, 0x0a, 0x08, 0x0a, 0x01, 'a', 0x15, 0, 0, 0x80, 0x3f};
    assert_int_equal(p[r2], 9 + sizeof tail);
    assert_int_equal(p[r2 + 12], 0x09);
    assert_memory_equal(p + r2 + 12 + 9, tail, sizeof tail);
    uint32_t want;
    memcpy(&want, p + r2 + 8, 4);
    assert_int_equal(want, nt_crc32c_mask(nt_crc32c(p + r2, 8)));
    memcpy(&want, p + r2 + 12 + 9 + sizeof tail, 4);
    assert_int_equal(want, nt_crc32c_mask(nt_crc32c(p + r2 + 12, 9 + sizeof tail)));
    assert_int_equal(len, r2 + 16 + 9 + sizeof tail);
    free(data);
}

/* Values the way TF2 and PyTorch's new-style writers store them. */
static void test_tensor_based_values(void **state)
{
    (void)state;
    char dir[300], path[600];
    subdir("tensors", dir, sizeof dir);
    nt_writer *w;
    assert_int_equal(nt_writer_open(dir, &w), NT_OK);
    nt_buf v;

    /* TF2 scalar: metadata plugin "scalars", DT_FLOAT rank 0 in tensor_content */
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, "tf2/loss");
    size_t md = nt_pbw_begin(&v, 9), pd = nt_pbw_begin(&v, 1);
    nt_pbw_string(&v, 1, "scalars");
    nt_pbw_end(&v, pd);
    nt_pbw_end(&v, md);
    size_t t = nt_pbw_begin(&v, 8);
    nt_pbw_uint(&v, 1, 1);
    nt_pbw_end(&v, nt_pbw_begin(&v, 2));
    float f = 0.75f;
    nt_pbw_bytes(&v, 4, &f, 4);
    nt_pbw_end(&v, t);
    assert_int_equal(nt_writer_summary_value(w, 1, v.data, v.len), NT_OK);
    nt_buf_deinit(&v);

    /* the same tag later, no metadata, value in double_val */
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, "tf2/loss");
    t = nt_pbw_begin(&v, 8);
    nt_pbw_uint(&v, 1, 2);
    double d = 0.125;
    size_t pk = nt_pbw_begin(&v, 6);
    nt_buf_append(&v, &d, 8);
    nt_pbw_end(&v, pk);
    nt_pbw_end(&v, t);
    assert_int_equal(nt_writer_summary_value(w, 2, v.data, v.len), NT_OK);
    nt_buf_deinit(&v);

    /* PyTorch new_style scalar: float_val, plugin scalars */
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, "pt/acc");
    md = nt_pbw_begin(&v, 9);
    pd = nt_pbw_begin(&v, 1);
    nt_pbw_string(&v, 1, "scalars");
    nt_pbw_end(&v, pd);
    nt_pbw_end(&v, md);
    t = nt_pbw_begin(&v, 8);
    nt_pbw_uint(&v, 1, 1);
    nt_pbw_float(&v, 5, 0.5f); /* unpacked single float_val */
    nt_pbw_end(&v, t);
    assert_int_equal(nt_writer_summary_value(w, 3, v.data, v.len), NT_OK);
    nt_buf_deinit(&v);

    /* TF2 histogram: [2,3] double tensor of (left, right, count) */
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, "tf2/hist");
    md = nt_pbw_begin(&v, 9);
    pd = nt_pbw_begin(&v, 1);
    nt_pbw_string(&v, 1, "histograms");
    nt_pbw_end(&v, pd);
    nt_pbw_end(&v, md);
    t = nt_pbw_begin(&v, 8);
    nt_pbw_uint(&v, 1, 2);
    size_t sh = nt_pbw_begin(&v, 2);
    size_t d0 = nt_pbw_begin(&v, 2);
    nt_pbw_uint(&v, 1, 2);
    nt_pbw_end(&v, d0);
    d0 = nt_pbw_begin(&v, 2);
    nt_pbw_uint(&v, 1, 3);
    nt_pbw_end(&v, d0);
    nt_pbw_end(&v, sh);
    double hv[6] = {0, 1, 4, 1, 3, 6};
    nt_pbw_bytes(&v, 4, hv, sizeof hv);
    nt_pbw_end(&v, t);
    assert_int_equal(nt_writer_summary_value(w, 4, v.data, v.len), NT_OK);
    nt_buf_deinit(&v);

    /* TF2 image: strings "5", "4", png bytes */
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, "tf2/img");
    md = nt_pbw_begin(&v, 9);
    pd = nt_pbw_begin(&v, 1);
    nt_pbw_string(&v, 1, "images");
    nt_pbw_end(&v, pd);
    nt_pbw_end(&v, md);
    t = nt_pbw_begin(&v, 8);
    nt_pbw_uint(&v, 1, 7);
    nt_pbw_string(&v, 8, "5");
    nt_pbw_string(&v, 8, "4");
    nt_pbw_string(&v, 8, "\x89PNGfake");
    nt_pbw_end(&v, t);
    assert_int_equal(nt_writer_summary_value(w, 5, v.data, v.len), NT_OK);
    nt_buf_deinit(&v);

    /* an int64 vector tensor with an unknown plugin */
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, "misc/ints");
    md = nt_pbw_begin(&v, 9);
    pd = nt_pbw_begin(&v, 1);
    nt_pbw_string(&v, 1, "custom");
    nt_pbw_end(&v, pd);
    nt_pbw_end(&v, md);
    t = nt_pbw_begin(&v, 8);
    nt_pbw_uint(&v, 1, 9);
    pk = nt_pbw_begin(&v, 10);
    nt_pbw_varint(&v, 3);
    nt_pbw_varint(&v, (uint64_t)-2);
    nt_pbw_varint(&v, 300);
    nt_pbw_end(&v, pk);
    nt_pbw_end(&v, t);
    assert_int_equal(nt_writer_summary_value(w, 6, v.data, v.len), NT_OK);
    nt_buf_deinit(&v);
    assert_int_equal(nt_writer_close(w), NT_OK);

    only_file(dir, path, sizeof path);
    nt_events *r;
    nt_event ev;
    bool have;
    assert_int_equal(nt_events_open(path, &r), NT_OK);
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK); /* file_version */
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.values[0].kind, NT_SUMMARY_SCALAR);
    assert_true(ev.values[0].scalar == 0.75);
    assert_string_equal(ev.values[0].plugin, "scalars");
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.values[0].kind, NT_SUMMARY_SCALAR);
    assert_true(ev.values[0].scalar == 0.125);
    assert_string_equal(ev.values[0].plugin, "scalars"); /* remembered */
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.values[0].kind, NT_SUMMARY_SCALAR);
    assert_true(ev.values[0].scalar == 0.5);
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    const nt_summary_value *h = &ev.values[0];
    assert_int_equal(h->kind, NT_SUMMARY_HISTOGRAM);
    assert_int_equal(h->histo.n_buckets, 2);
    assert_true(h->histo.min == 0 && h->histo.max == 3 && h->histo.num == 10);
    assert_true(h->histo.limits[0] == 1 && h->histo.limits[1] == 3);
    assert_true(h->histo.counts[0] == 4 && h->histo.counts[1] == 6);
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.values[0].kind, NT_SUMMARY_IMAGE);
    assert_int_equal(ev.values[0].image.width, 5);
    assert_int_equal(ev.values[0].image.height, 4);
    assert_int_equal(ev.values[0].image.len, 8);
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_int_equal(ev.values[0].kind, NT_SUMMARY_TENSOR);
    assert_int_equal(ev.values[0].tensor.n, 3);
    assert_true(ev.values[0].tensor.values[1] == -2 && ev.values[0].tensor.values[2] == 300);
    assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_false(have);
    assert_int_equal(nt_events_bad_records(r), 0);
    nt_events_close(r);
}

/* Writes n scalars (tag "s", steps 1..n) into a fresh dir; returns the file. */
static void write_scalars(const char *name, int n, char **data, size_t *len)
{
    char dir[300], path[600];
    subdir(name, dir, sizeof dir);
    nt_writer *w;
    assert_int_equal(nt_writer_open(dir, &w), NT_OK);
    for (int i = 1; i <= n; i++)
        assert_int_equal(nt_writer_scalar(w, "s", i, i * 0.5), NT_OK);
    assert_int_equal(nt_writer_close(w), NT_OK);
    only_file(dir, path, sizeof path);
    read_all(path, data, len);
}

static void test_truncated_tail(void **state)
{
    (void)state;
    char *data;
    size_t len;
    write_scalars("trunc", 20, &data, &len);
    uint64_t bad;
    bool truncated;
    assert_int_equal(count_events(data, len, &bad, &truncated), 21);
    assert_false(truncated);
    /* every cut point: whole records before it are read, nothing is bad */
    size_t rec = (len - 40) / 20; /* scalar records all have the same size here */
    for (size_t cut = 0; cut < len; cut++) {
        int n = count_events(data, cut, &bad, &truncated);
        int want = cut < 40 ? 0 : 1 + (int)((cut - 40) / rec);
        assert_int_equal(n, want);
        assert_int_equal(bad, 0);
        bool at_boundary = cut == 0 || cut == 40 || (cut > 40 && (cut - 40) % rec == 0);
        assert_int_equal(truncated, !at_boundary);
    }
    nt_events *r;
    assert_int_equal(nt_events_open_buffer(data, len - 3, &r), NT_OK);
    nt_event ev;
    bool have = true;
    while (have)
        assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
    assert_true(nt_events_truncated(r));
    assert_non_null(strstr(nt_events_problem(r), "truncated"));
    assert_int_equal(nt_events_offset(r), len - rec);
    nt_events_close(r);
    free(data);
}

static void test_corrupted_crc(void **state)
{
    (void)state;
    char *data;
    size_t len;
    write_scalars("crc", 10, &data, &len);
    size_t rec = (len - 40) / 10;
    uint64_t bad;
    bool truncated;

    /* a flipped byte in the payload of the 3rd scalar: only that record lost */
    data[40 + 2 * rec + 14] ^= 0x40;
    assert_int_equal(count_events(data, len, &bad, &truncated), 10);
    assert_int_equal(bad, 1);
    assert_false(truncated);
    data[40 + 2 * rec + 14] ^= 0x40;

    /* a flipped data CRC byte */
    data[40 + 5 * rec - 1] ^= 1;
    assert_int_equal(count_events(data, len, &bad, &truncated), 10);
    assert_int_equal(bad, 1);
    data[40 + 5 * rec - 1] ^= 1;

    /* a damaged length: the reader resyncs on the next good header */
    data[40 + 4 * rec + 1] ^= 0x10;
    nt_events *r;
    assert_int_equal(nt_events_open_buffer(data, len, &r), NT_OK);
    nt_event ev;
    bool have;
    int n = 0;
    int64_t last_step = -1;
    for (;;) {
        assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
        if (!have)
            break;
        n++;
        if (ev.kind == NT_EVENT_SUMMARY) {
            assert_true(ev.step > last_step);
            last_step = ev.step;
        }
    }
    assert_int_equal(n, 10);
    assert_int_equal(last_step, 10);
    assert_int_equal(nt_events_bad_records(r), 1);
    assert_non_null(strstr(nt_events_problem(r), "length CRC"));
    nt_events_close(r);
    data[40 + 4 * rec + 1] ^= 0x10;

    /* garbage between records */
    char *ins = malloc(len + 7);
    memcpy(ins, data, 40 + rec);
    memcpy(ins + 40 + rec, "garbage", 7);
    memcpy(ins + 40 + rec + 7, data + 40 + rec, len - 40 - rec);
    assert_int_equal(count_events(ins, len + 7, &bad, &truncated), 11);
    assert_int_equal(bad, 1);
    free(ins);
    free(data);
}

static void append_bytes(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static int drain(nt_events *r)
{
    int n = 0;
    nt_event ev;
    bool have;
    for (;;) {
        assert_int_equal(nt_events_next(r, &ev, &have), NT_OK);
        if (!have)
            return n;
        n++;
    }
}

static void test_growing_file_resume(void **state)
{
    (void)state;
    char dir[300], path[600];
    subdir("grow", dir, sizeof dir);
    nt_writer *w;
    assert_int_equal(nt_writer_open(dir, &w), NT_OK);
    nt_writer_set_flush_policy(w, 1, 1000);
    only_file(dir, path, sizeof path);
    nt_events *r;
    assert_int_equal(nt_events_open(path, &r), NT_OK);
    assert_int_equal(drain(r), 1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(nt_writer_scalar(w, "s", i, i), NT_OK);
    assert_int_equal(drain(r), 5);
    assert_int_equal(drain(r), 0);
    /* more than the reader's 1 MiB chunk, to cross buffer refills */
    float big[100000];
    for (int i = 0; i < 100000; i++)
        big[i] = (float)i;
    for (int i = 0; i < 300; i++)
        assert_int_equal(nt_writer_scalar(w, "long/tag/name/to/make/records/bigger", i, i), NT_OK);
    uint8_t noise[300 * 300 * 3];
    for (size_t i = 0; i < sizeof noise; i++)
        noise[i] = (uint8_t)((i * 2654435761u) >> 13);
    for (int i = 0; i < 6; i++)
        assert_int_equal(nt_writer_image(w, "noise", i, noise, 300, 300, 3), NT_OK);
    assert_int_equal(nt_writer_histogram(w, "h", 1, big, 100000), NT_OK);
    assert_int_equal(drain(r), 307);
    uint64_t off = nt_events_offset(r);
    assert_int_equal(nt_writer_close(w), NT_OK);
    assert_false(nt_events_truncated(r));
    nt_events_close(r);

    /* a record arriving in pieces, as a reader of a live file may see it */
    char *data;
    size_t len;
    write_scalars("grow2", 3, &data, &len);
    char path2[600];
    snprintf(path2, sizeof path2, "%s/grow/manual.tfevents", tmpdir);
    append_bytes(path2, data, 40 + 5);
    assert_int_equal(nt_events_open(path2, &r), NT_OK);
    assert_int_equal(drain(r), 1);
    assert_true(nt_events_truncated(r));
    append_bytes(path2, data + 45, 20);
    assert_int_equal(drain(r), 0);
    assert_true(nt_events_truncated(r));
    append_bytes(path2, data + 65, len - 65);
    assert_int_equal(drain(r), 3);
    assert_false(nt_events_truncated(r));
    uint64_t end = nt_events_offset(r);
    assert_int_equal(end, len);
    nt_events_close(r);
    /* reopening at a remembered offset skips what was read */
    append_bytes(path2, data + 40, len - 40);
    assert_int_equal(nt_events_open_at(path2, end, &r), NT_OK);
    assert_int_equal(drain(r), 3);
    nt_events_close(r);
    (void)off;
    free(data);
}

static void test_flush_policy(void **state)
{
    (void)state;
    char dir[300], path[600];
    subdir("flush", dir, sizeof dir);
    nt_writer *w;
    assert_int_equal(nt_writer_open(dir, &w), NT_OK);
    nt_writer_set_flush_policy(w, 10, 1000);
    only_file(dir, path, sizeof path);
    nt_events *r;
    assert_int_equal(nt_events_open(path, &r), NT_OK);
    assert_int_equal(drain(r), 1);
    for (int i = 0; i < 9; i++)
        assert_int_equal(nt_writer_scalar(w, "s", i, i), NT_OK);
    assert_int_equal(drain(r), 0); /* buffered */
    assert_int_equal(nt_writer_scalar(w, "s", 9, 9), NT_OK);
    assert_int_equal(drain(r), 10); /* the 10th record triggers a write-out */
    assert_int_equal(nt_writer_scalar(w, "s", 10, 10), NT_OK);
    assert_int_equal(nt_writer_flush(w), NT_OK);
    assert_int_equal(drain(r), 1);
    /* time-based: the background thread writes out a quiet writer */
    nt_writer_set_flush_policy(w, 1000, 0.05);
    assert_int_equal(nt_writer_scalar(w, "s", 11, 11), NT_OK);
    int got = 0;
    for (int i = 0; i < 200 && !got; i++) {
        usleep(10000);
        got = drain(r);
    }
    assert_int_equal(got, 1);
    assert_int_equal(nt_writer_scalar(w, "s", 12, 12), NT_OK);
    assert_int_equal(nt_writer_close(w), NT_OK);
    assert_int_equal(drain(r), 1);
    nt_events_close(r);
}

static void test_io_errors(void **state)
{
    (void)state;
    nt_writer *w = (nt_writer *)1;
    /* the first record fails at open */
    assert_int_equal(nt_writer_open_file("/dev/full", &w), NT_ERR_IO);
    assert_null(w);
    assert_non_null(strstr(nt_last_error(), "/dev/full"));
    assert_int_equal(nt_writer_open("/dev/null/sub", &w), NT_ERR_IO);
    assert_int_equal(nt_writer_open_file("/nonexistent/dir/f", &w), NT_ERR_IO);

    /* disk full after open: swap the writer's descriptor for /dev/full */
    char dir[300], path[600];
    subdir("full", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/f.tfevents", dir);
    int probe = dup(0);
    close(probe);
    assert_int_equal(nt_writer_open_file(path, &w), NT_OK);
    int full = open("/dev/full", O_WRONLY);
    assert_true(full >= 0);
    assert_int_equal(dup2(full, probe), probe);
    close(full);
    assert_int_equal(nt_writer_scalar(w, "s", 1, 1), NT_OK); /* buffered */
    assert_int_equal(nt_writer_flush(w), NT_ERR_IO);
    assert_non_null(strstr(nt_last_error(), "write failed"));
    assert_int_equal(nt_writer_scalar(w, "s", 2, 2), NT_ERR_IO); /* sticky */
    assert_int_equal(nt_writer_text(w, "t", 2, "x"), NT_ERR_IO);
    assert_int_equal(nt_writer_close(w), NT_ERR_IO);

    /* with write-through, the failing call itself reports */
    probe = dup(0);
    close(probe);
    assert_int_equal(nt_writer_open_file(path, &w), NT_OK);
    nt_writer_set_flush_policy(w, 1, 1000);
    full = open("/dev/full", O_WRONLY);
    assert_int_equal(dup2(full, probe), probe);
    close(full);
    assert_int_equal(nt_writer_scalar(w, "s", 1, 1), NT_ERR_IO);
    assert_int_equal(nt_writer_close(w), NT_ERR_IO);

    assert_int_equal(nt_writer_close(NULL), NT_OK);
    assert_int_equal(nt_writer_scalar(NULL, "s", 1, 1), NT_ERR_INVALID_ARG);
    nt_events *r;
    assert_int_equal(nt_events_open("/nonexistent/events", &r), NT_ERR_IO);
    char **paths;
    int n;
    assert_int_equal(nt_events_list("/nonexistent", &paths, &n), NT_ERR_IO);
}

/* Random damage and random bytes never crash or loop. */
static void test_random_damage(void **state)
{
    (void)state;
    char *data;
    size_t len;
    write_scalars("random", 30, &data, &len);
    uint32_t x = 99;
    for (int it = 0; it < 2000; it++) {
        char *copy = malloc(len);
        memcpy(copy, data, len);
        int flips = 1 + it % 5;
        for (int k = 0; k < flips; k++) {
            x = x * 1664525u + 1013904223u;
            copy[(x >> 8) % len] ^= (char)(1u << (x % 8));
        }
        x = x * 1664525u + 1013904223u;
        size_t cut = it % 3 ? len : (x >> 8) % len;
        uint64_t bad;
        bool truncated;
        int n = count_events(copy, cut, &bad, &truncated);
        assert_true(n <= 31);
        free(copy);
    }
    for (int it = 0; it < 500; it++) {
        uint8_t junk[512];
        for (size_t i = 0; i < sizeof junk; i++) {
            x = x * 1664525u + 1013904223u;
            junk[i] = (uint8_t)(x >> 24);
        }
        assert_true(count_events(junk, sizeof junk, NULL, NULL) == 0);
    }
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_naming_and_first_record),
        cmocka_unit_test(test_round_trip_every_kind),
        cmocka_unit_test(test_scalar_bytes),
        cmocka_unit_test(test_tensor_based_values),
        cmocka_unit_test(test_truncated_tail),
        cmocka_unit_test(test_corrupted_crc),
        cmocka_unit_test(test_growing_file_resume),
        cmocka_unit_test(test_flush_policy),
        cmocka_unit_test(test_io_errors),
        cmocka_unit_test(test_random_damage),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
