/*
 * cli_model.h — what every subcommand that runs a model shares: the input
 * options (-i NAME=FILE, -i FILE, --random[=SEED], --zeros, --dim NAME=N,
 * --threads N), opening the model and session, and binding inputs with
 * errors that list what the model expects.
 */
#ifndef NT_CLI_MODEL_H
#define NT_CLI_MODEL_H

#include "cli/cli.h"

#define NT_CLI_MAX_INPUTS 64

typedef struct nt_cli_inputs {
    int n;
    const char *names[NT_CLI_MAX_INPUTS];   /* NULL: bind by position */
    const char *files[NT_CLI_MAX_INPUTS];
    bool random, zeros;
    uint64_t seed;
    int n_dims;
    const char *dim_names[NT_CLI_MAX_INPUTS];
    int64_t dim_values[NT_CLI_MAX_INPUTS];
    int threads;
    const char *bound_later;   /* an input the command binds itself (e.g. from --data) */
    /* an input whose file must hold one sample ("" = the first graph input):
     * axis 0 of length 1, or the length the model fixes; a .npy is refused
     * by its header, before it is read */
    const char *one_sample;
} nt_cli_inputs;

/* The help lines for these options (to paste into a command's usage). */
#define NT_CLI_INPUT_HELP                                                                   \
    "  -i [NAME=]FILE     bind graph input NAME (without NAME: the next unbound input,\n" \
    "                     in graph order) to a .npy or TensorProto .pb file\n"            \
    "  --random[=SEED]    fill inputs not given with seeded random values\n"               \
    "  --zeros            fill inputs not given with zeros\n"                              \
    "  --dim NAME=N       value of a symbolic dimension (for --random/--zeros)\n"          \
    "  --threads N        intra-op threads (default 1)\n"

/* If argv[*i] is one of the input options, consumes it (and its value,
 * advancing *i) and returns 1; returns 0 if it is not one; on a malformed
 * value prints a usage error and returns -1. */
int nt_cli_parse_input_opt(const char *cmd, int argc, char **argv, int *i, nt_cli_inputs *in);

/* Frees the names nt_cli_parse_input_opt copied (-i NAME=FILE, --dim NAME=N). */
void nt_cli_inputs_deinit(nt_cli_inputs *in);

/* Loads the model and plans a session; prints the error and returns the exit
 * code on failure (2 for bad or declined models), 0 on success. */
int nt_cli_open_model(const char *model_path, const nt_cli_inputs *in, nt_model **m, nt_session **s);

/* Binds the inputs (files, then --random/--zeros for the rest).  A missing
 * input is a usage error listing what the model expects.  Returns an exit code. */
int nt_cli_bind_inputs(const char *cmd, nt_model *m, nt_session *s, const nt_cli_inputs *in);

/* Makes a tensor for model input idx filled per --random/--zeros (symbolic
 * dims from --dim, else 1). */
nt_status nt_cli_synth_input(const nt_model *m, int idx, const nt_cli_inputs *in, uint64_t *rng, nt_tensor **out);

/* Runs the session once per sample of the .npy/.pb at data_path (samples
 * along axis 0), bound to data_input or the first graph input (exec/
 * dataset.h); progress on stderr for long sets at a terminal.  Returns an
 * exit code; *runs and *total_ms report the work. */
int nt_cli_run_dataset(const char *cmd, nt_model *m, nt_session *s, const char *data_path, const char *data_input,
                       int *runs, double *total_ms);

/* "name dtype[dims]" lines of every graph input, for error messages. */
void nt_cli_print_expected_inputs(FILE *f, const nt_model *m);

#endif /* NT_CLI_MODEL_H */
