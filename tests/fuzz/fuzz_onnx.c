/*
 * fuzz_onnx.c — libFuzzer harness for the ONNX model loader and the
 * TensorProto (.pb) reader: every input goes through nt_model_load_buffer
 * (then nt_model_free) and through nt_pb_tensor_parse.  Either may fail;
 * neither may crash, leak, read out of bounds or allocate absurdly
 * (ASan's allocation limit catches the last).
 *
 *   make fuzz && build-fuzz/fuzz_onnx -max_total_time=600 tests/fuzz/corpus/onnx
 */
#include "nntrace.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nt_model *m = NULL;
    if (nt_model_load_buffer(data, size, "fuzz.onnx", &m) == NT_OK) {
        /* Walk the public view too: counts and infos must be consistent. */
        nt_value_info vi;
        for (int i = 0; i < nt_model_input_count(m); i++)
            (void)nt_model_input_info(m, i, &vi);
        for (int i = 0; i < nt_model_output_count(m); i++)
            (void)nt_model_output_info(m, i, &vi);
        (void)nt_model_node_count(m);
    }
    nt_model_free(m);

    nt_tensor *t = NULL;
    char *name = NULL;
    if (nt_pb_tensor_parse(data, size, "fuzz.pb", &t, &name) == NT_OK) {
        nt_tensor_free(t);
        free(name);
    }
    return 0;
}
