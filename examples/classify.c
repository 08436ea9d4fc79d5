/*
 * classify.c — the smallest useful program against the installed library:
 * load a model, bind one input from a .npy file, run, print each output's
 * shape and the index of its largest element.
 *
 *   cc classify.c $(pkg-config --cflags --libs nntrace) -o classify
 *   ./classify examples/demo/model.onnx examples/demo/digit.npy
 */
#include <nntrace.h>

#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL.onnx INPUT.npy\n", argv[0]);
        return 1;
    }
    nt_model *model = NULL;
    nt_session *session = NULL;
    nt_tensor *input = NULL;
    nt_value_info in;
    int rc = 2;
    if (nt_model_load(argv[1], &model) != NT_OK || nt_tensor_load(argv[2], &input) != NT_OK ||
        nt_session_new(model, NULL, &session) != NT_OK || nt_model_input_info(model, 0, &in) != NT_OK ||
        nt_session_set_input(session, in.name, input) != NT_OK || nt_session_run(session) != NT_OK) {
        fprintf(stderr, "classify: %s\n", nt_last_error());
        goto done;
    }
    for (int i = 0; i < nt_model_output_count(model); i++) {
        const nt_tensor *out;
        nt_value_info info;
        if (nt_session_get_output(session, i, &out) != NT_OK || nt_model_output_info(model, i, &info) != NT_OK) {
            fprintf(stderr, "classify: %s\n", nt_last_error());
            goto done;
        }
        char desc[128];
        nt_tensor_describe(out, desc, sizeof desc);
        int64_t best = 0;
        for (int64_t k = 1; k < nt_tensor_numel(out); k++)
            if (nt_tensor_get_f64(out, k) > nt_tensor_get_f64(out, best))
                best = k;
        printf("%s %s argmax %lld\n", info.name, desc, (long long)best);
    }
    rc = 0;
done:
    nt_tensor_free(input);
    nt_session_free(session);
    nt_model_free(model);
    return rc;
}
