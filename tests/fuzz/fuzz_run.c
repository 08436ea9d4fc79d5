/*
 * fuzz_run.c — libFuzzer harness for everything after loading: a model that
 * parses must also plan and run without crashing, hanging or allocating
 * absurdly, however malicious its shapes, indices, attributes and subgraphs.
 *
 * Each input goes through nt_model_load_buffer → nt_session_new → every
 * graph input bound to a small tensor (symbolic and unknown dims = 2, filled
 * with 0 or 1; models whose inputs would exceed INPUT_BUDGET elements, or
 * have an unknown rank or a non-numeric input, are skipped) →
 * nt_session_run.  Any status is fine; a crash, a sanitizer report, a
 * timeout or a large allocation is a bug.  A tracer checks on every node
 * that each output's bytes fit its storage.
 *
 * Limits: the library's own memory limit is set to 256 MB, its Loop limit
 * to 100000 iterations and its work limit to 256 MB of outputs per run
 * (nt_set_limits, called
 * in LLVMFuzzerInitialize), so a refused model fails cleanly; libFuzzer's
 * -malloc_limit_mb catches any allocation that bypasses that limit and
 * -timeout any input that takes too long.
 *
 * Seeds: tests/fuzz/corpus/run/ (tiny models written by
 * tests/e2e/malicious_models.py --corpus) plus the ONNX node-test models in
 * ../shared/onnx-node-tests/<test>/model.onnx, which are read in place, not
 * copied into the repository.  The script does all of it:
 *
 *   make fuzz && sh tests/fuzz/run_fuzz_run.sh 300      # seconds
 *
 * or by hand:
 *   build-fuzz/fuzz_run -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
 *       -max_total_time=300 build-fuzz/corpus-run tests/fuzz/corpus/run SEEDS...
 * where SEEDS are directories holding model.onnx files.
 */
#include "nntrace.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Elements of all bound inputs together; bigger models are not run. */
#define INPUT_BUDGET 4096
/* Value given to symbolic and unknown dims. */
#define FREE_DIM 2

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Tight limits, so that hostile models fail fast. */
    nt_limits lim = {(uint64_t)256 << 20, (uint64_t)256 << 20, 100000};
    nt_set_limits(&lim);
    /* OpenBLAS threads would multiply the run time under ASan. */
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    return 0;
}

/* Every produced output must fit the storage behind it. */
static nt_action check_outputs(void *user, nt_session *s, const nt_node_view *node)
{
    (void)user;
    (void)s;
    for (int k = 0; k < node->n_outputs; k++) {
        const nt_tensor *t = node->outputs[k];
        if (!t || t->ndim < 0)
            continue;
        size_t nb = nt_tensor_nbytes(t);
        if (nb == 0)
            continue;
        if (!t->data || nb > t->capacity)
            __builtin_trap();
        /* Touch both ends so ASan sees a short buffer. */
        volatile const unsigned char *p = t->data;
        (void)p[0];
        (void)p[nb - 1];
    }
    return NT_ACTION_CONTINUE;
}

/* Builds the small tensor for graph input i; false to skip the model. */
static bool make_input(const nt_model *m, int i, int fill, int64_t *budget, nt_tensor **out)
{
    nt_value_info vi;
    *out = NULL;
    if (nt_model_input_info(m, i, &vi) != NT_OK || vi.ndim < 0 || vi.ndim > NT_MAX_DIMS)
        return false;
    nt_dtype dt = vi.dtype == NT_DTYPE_UNDEFINED ? NT_DTYPE_FLOAT : vi.dtype;
    if (nt_dtype_size(dt) == 0)
        return false;
    int64_t dims[NT_MAX_DIMS], n = 1;
    for (int d = 0; d < vi.ndim; d++) {
        dims[d] = vi.dims[d] < 0 ? FREE_DIM : vi.dims[d];
        if (dims[d] > *budget)
            return false;
        n *= dims[d];
        if (n > *budget)
            return false;
    }
    *budget -= n;
    if (nt_tensor_new(dt, vi.ndim, dims, out) != NT_OK)
        return false;
    for (int64_t k = 0; fill && k < n; k++)
        nt_tensor_set_f64(*out, k, 1.0);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nt_model *m = NULL;
    nt_session *s = NULL;
    if (nt_model_load_buffer(data, size, "fuzz.onnx", &m) != NT_OK)
        goto out;
    nt_session_options opt = {0};
    opt.threads = 1;
    if (nt_session_new(m, &opt, &s) != NT_OK)
        goto out;
    /* Inputs hold ones or zeros, chosen by the input so both get explored. */
    int fill = size & 1;
    int64_t budget = INPUT_BUDGET;
    for (int i = 0; i < nt_model_input_count(m); i++) {
        nt_tensor *t;
        nt_value_info vi;
        if (!make_input(m, i, fill, &budget, &t) || nt_model_input_info(m, i, &vi) != NT_OK) {
            nt_tensor_free(t);
            goto out;
        }
        nt_status st = nt_session_set_input(s, vi.name, t);
        nt_tensor_free(t);
        if (st != NT_OK)
            goto out;
    }
    nt_tracer tr = {0};
    tr.node_end = check_outputs;
    if (nt_session_add_tracer(s, &tr) != NT_OK)
        goto out;
    if (nt_session_run(s) == NT_OK) {
        for (int i = 0; i < nt_model_output_count(m); i++) {
            const nt_tensor *o;
            if (nt_session_get_output(s, i, &o) == NT_OK && nt_tensor_nbytes(o) > o->capacity)
                __builtin_trap();
        }
    }
out:
    nt_session_free(s);
    nt_model_free(m);
    return 0;
}
