/*
 * fuzz_npy.c — libFuzzer harness for the tensor-file readers: nt_npy_parse
 * and nt_pb_tensor_parse (ONNX TensorProto) over arbitrary bytes.
 *
 * Besides "never crash, never read out of bounds, never leak", every input
 * a reader accepts must survive a round trip through the matching writer
 * (nt_npy_encode / nt_onnx_encode_tensor) and parse back to the same dtype,
 * shape and bytes; and nt_npy_load, which streams a file instead of parsing
 * a buffer, must agree with nt_npy_parse (fed the same bytes through an
 * in-memory file).  A difference aborts, so the fuzzer reports it.
 *
 *   make fuzz && build-fuzz/fuzz_npy -max_total_time=120 tests/fuzz/corpus/npy
 */
#include "core/core.h"
#include "onnx/writer.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void check_same(const nt_tensor *a, const nt_tensor *b)
{
    NT_ASSERT(a->dtype == b->dtype);
    NT_ASSERT(a->ndim == b->ndim);
    for (int i = 0; i < a->ndim; i++)
        NT_ASSERT(a->dims[i] == b->dims[i]);
    size_t n = nt_tensor_nbytes(a);
    NT_ASSERT(n == nt_tensor_nbytes(b));
    NT_ASSERT(n == 0 || memcmp(a->data, b->data, n) == 0);
}

/* nt_npy_load over the same bytes, through a memfd (a regular file). */
static void check_load(const uint8_t *data, size_t size, nt_status want, const nt_tensor *t)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz_npy", 0);
        NT_ASSERT(fd >= 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    NT_ASSERT(ftruncate(fd, 0) == 0);
    NT_ASSERT(pwrite(fd, data, size, 0) == (ssize_t)size);
    nt_tensor *u = NULL;
    nt_status s = nt_npy_load(path, &u);
    NT_ASSERT(s == want);
    if (s == NT_OK)
        check_same(t, u);
    else
        NT_ASSERT(u == NULL);
    nt_tensor_free(u);
}

static void fuzz_npy(const uint8_t *data, size_t size)
{
    nt_tensor *t = NULL, *u = NULL;
    nt_status s = nt_npy_parse(data, size, "fuzz.npy", &t);
    check_load(data, size, s, t);
    if (s != NT_OK) {
        NT_ASSERT(t == NULL);
        NT_ASSERT(nt_last_error()[0] != '\0');
        return;
    }
    nt_buf b;
    nt_buf_init(&b);
    NT_ASSERT(nt_npy_encode(&b, t, "fuzz.npy") == NT_OK);
    NT_ASSERT(nt_npy_parse(b.data, b.len, "fuzz.npy", &u) == NT_OK);
    check_same(t, u);
    nt_buf_deinit(&b);
    nt_tensor_free(u);
    nt_tensor_free(t);
}

static void fuzz_pb(const uint8_t *data, size_t size)
{
    nt_tensor *t = NULL, *u = NULL;
    char *name = NULL, *name2 = NULL;
    if (nt_pb_tensor_parse(data, size, "fuzz.pb", &t, &name) != NT_OK) {
        NT_ASSERT(t == NULL);
        return;
    }
    nt_buf b;
    nt_buf_init(&b);
    /* STRING tensors have no raw form: the encoder declines them. */
    if (nt_onnx_encode_tensor(&b, 0, t, name) == NT_OK) {
        NT_ASSERT(nt_pb_tensor_parse(b.data, b.len, "fuzz.pb", &u, &name2) == NT_OK);
        check_same(t, u);
        NT_ASSERT(strcmp(name ? name : "", name2 ? name2 : "") == 0);
        nt_tensor_free(u);
        free(name2);
    } else {
        NT_ASSERT(t->dtype == NT_DTYPE_STRING);
    }
    nt_buf_deinit(&b);
    free(name);
    nt_tensor_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_npy(data, size);
    fuzz_pb(data, size);
    return 0;
}
