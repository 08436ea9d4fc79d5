/*
 * fuzz_tfevents.c — libFuzzer harness for the event-file reader: any bytes
 * are read as an event file from memory, every event is walked and its
 * borrowed fields touched (so ASan sees any out-of-bounds pointer), and the
 * same bytes are read again split in two, as a live file grows.  Random bytes
 * almost never carry valid CRCs, so the input is also wrapped whole in one
 * correctly framed record: that drives the Event/Summary decoder itself.
 *
 *     make build-fuzz/fuzz_tfevents
 *     build-fuzz/fuzz_tfevents -max_total_time=600 tests/fuzz/corpus/tfevents
 */
#include "trace/crc32c.h"
#include "trace/tfevents.h"

#include <stdlib.h>
#include <string.h>

static volatile double sink;

static void touch(const nt_event *ev)
{
    double acc = ev->wall_time + (double)ev->step;
    if (ev->file_version)
        acc += (double)strlen(ev->file_version);
    for (size_t i = 0; i < ev->graph_def_len; i++)
        acc += ev->graph_def[i];
    for (int i = 0; i < ev->n_values; i++) {
        const nt_summary_value *v = &ev->values[i];
        acc += (double)strlen(v->tag) + (double)strlen(v->plugin) + v->scalar;
        for (int k = 0; k < v->histo.n_buckets; k++)
            acc += v->histo.limits[k] + v->histo.counts[k];
        for (size_t k = 0; k < v->image.len; k++)
            acc += v->image.data[k];
        if (v->text)
            acc += (double)strlen(v->text) + (double)v->text_len;
        for (int64_t k = 0; k < v->tensor.n; k++)
            acc += v->tensor.values[k];
    }
    sink = acc;
}

static void read_all(const uint8_t *data, size_t size)
{
    nt_events *r;
    if (nt_events_open_buffer(data, size, &r) != NT_OK)
        return;
    nt_event ev;
    bool have = true;
    while (have && nt_events_next(r, &ev, &have) == NT_OK)
        if (have)
            touch(&ev);
    sink = (double)nt_events_bad_records(r) + (double)nt_events_offset(r) + nt_events_truncated(r) +
           (double)strlen(nt_events_problem(r));
    nt_events_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_all(data, size);
    if (size > 1)
        read_all(data + size / 2, size - size / 2);
    uint8_t *framed = malloc(size + 16);
    if (!framed)
        return 0;
    uint64_t len = size;
    for (int i = 0; i < 8; i++)
        framed[i] = (uint8_t)(len >> (8 * i));
    uint32_t c = nt_crc32c_mask(nt_crc32c(framed, 8));
    memcpy(framed + 8, &c, 4);
    if (size)
        memcpy(framed + 12, data, size);
    c = nt_crc32c_mask(nt_crc32c(data, size));
    memcpy(framed + 12 + size, &c, 4);
    read_all(framed, size + 16);
    free(framed);
    return 0;
}
