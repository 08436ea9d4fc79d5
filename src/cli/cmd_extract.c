/*
 * cmd_extract.c — `nntrace extract MODEL --node NAME [--to NAME] [-i ...] -o DIR`:
 * a minimal repro of one node (or of the nodes between two) with the
 * tensors that flowed into it, in the ONNX test-case layout (DIR/model.onnx,
 * DIR/test_data_set_0/input_K.pb and output_K.pb), ready for ONNX Runtime
 * or any other runtime's test runner.
 */
#include "cli/cli_model.h"
#include "onnx/extract.h"

#include <string.h>

const char nt_usage_extract[] =
    "usage: nntrace extract MODEL --node NAME [--to NAME] [-i NAME=FILE]... -o DIR\n"
    "\n"
    "Cuts node NAME out of MODEL (or, with --to, every node between NAME and the\n"
    "--to node, both included) into a standalone model, runs MODEL on the inputs\n"
    "given to capture the tensors entering and leaving the cut, and writes:\n"
    "  DIR/model.onnx                   the cut; weights it uses stay initializers,\n"
    "                                   every other value entering it is an input\n"
    "  DIR/test_data_set_0/input_K.pb   its inputs (TensorProto), in graph input order\n"
    "  DIR/test_data_set_0/output_K.pb  what nntrace computed for its outputs\n"
    "\n"
    "  --node NAME        the node to extract (top-level graph; `nntrace graph` or\n"
    "                     `nntrace run --trace print` show node names)\n"
    "  --to NAME          extract the subgraph from --node to this node\n"
    "  -o DIR             where to write the test case\n"
    NT_CLI_INPUT_HELP
    "\n"
    "exit codes: 0 ok, 1 usage error (also: unknown node), 2 bad model or input.\n";

static int extract_main(int argc, char **argv, nt_cli_inputs *in)
{
    const char *model = NULL, *node = NULL, *to = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        int r = nt_cli_parse_input_opt("extract", argc, argv, &i, in);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--node") == 0 || strcmp(a, "--to") == 0 || strcmp(a, "-o") == 0) {
            if (i + 1 >= argc)
                return nt_cli_usage_error("extract", "%s needs a value", a);
            const char *v = argv[++i];
            if (a[1] == 'o')
                dir = v;
            else if (a[2] == 'n')
                node = v;
            else
                to = v;
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("extract", "unknown option '%s'", a);
        } else if (!model) {
            model = a;
        } else {
            return nt_cli_usage_error("extract", "unexpected argument '%s'", a);
        }
    }
    if (!model || !node || !dir)
        return nt_cli_usage_error("extract", "needs MODEL, --node NAME and -o DIR");
    nt_model *m;
    nt_session *s;
    int code = nt_cli_open_model(model, in, &m, &s);
    if (code != NT_EXIT_OK)
        return code;
    if ((code = nt_cli_bind_inputs("extract", m, s, in)) == NT_EXIT_OK) {
        nt_extract_result res;
        nt_status st = nt_extract(m, s, node, to, dir, &res);
        if (st == NT_ERR_NOT_FOUND || st == NT_ERR_INVALID_ARG) {
            fprintf(stderr, "nntrace extract: %s\n", nt_last_error());
            code = NT_EXIT_USAGE;
        } else if (st != NT_OK) {
            code = nt_cli_fail(st);
        } else {
            printf("%s/model.onnx: %d node%s, %d input%s, %d output%s, %d weight%s\n", dir, res.n_nodes,
                   res.n_nodes == 1 ? "" : "s", res.n_inputs, res.n_inputs == 1 ? "" : "s", res.n_outputs,
                   res.n_outputs == 1 ? "" : "s", res.n_initializers, res.n_initializers == 1 ? "" : "s");
            printf("%s/test_data_set_0: input_0..%d.pb, output_0..%d.pb\n", dir, res.n_inputs - 1,
                   res.n_outputs - 1);
        }
    }
    nt_session_free(s);
    nt_model_free(m);
    return code;
}

int nt_cmd_extract(int argc, char **argv)
{
    nt_cli_inputs in = {0};
    int code = extract_main(argc, argv, &in);
    nt_cli_inputs_deinit(&in);
    return code;
}
