/*
 * cmd_debug.c — `nntrace debug MODEL [-i ...] [-x SCRIPT]`: the debugger
 * REPL (src/debug/) on a model with its inputs bound.  With -x the commands
 * come from SCRIPT, one per line, and the output is the same as at the
 * terminal (each command echoed after the prompt).
 */
#include "cli/cli_model.h"
#include "debug/debugger.h"

#include <string.h>
#include <unistd.h>

const char nt_usage_debug[] =
    "usage: nntrace debug MODEL [-i NAME=FILE]... [-x SCRIPT]\n"
    "\n"
    "A debugger for the model's run: breakpoints on nodes, op types and value\n"
    "conditions (NaN appears, max above a bound), watches, stepping node by node,\n"
    "printing and slicing any value, patching values and continuing.\n"
    "\n"
    NT_CLI_INPUT_HELP
    "  -x SCRIPT          read commands from SCRIPT (one per line, '#' comments)\n"
    "                     instead of the terminal; a bad command is reported as\n"
    "                     SCRIPT:LINE: error: ... on stderr and the script goes on\n"
    "\n"
    "At the prompt, 'help' lists the commands: run, start, continue, next, finish,\n"
    "break NODE | op:TYPE | if COND, tbreak, watch VALUE COND, delete, info,\n"
    "where, list, print VALUE[SLICE], stats, hist, dump, set VALUE[i,j] = X, quit.\n"
    "Values are named by tensor name (/Sub_output_0) or graph input/output name.\n"
    "\n"
    "exit codes: 0 ok, 1 usage error or a failed command in a script (or piped\n"
    "stdin), 2 bad model or input file, or the last run failed in a kernel.\n";

static int debug_main(int argc, char **argv, nt_cli_inputs *in)
{
    const char *model = NULL, *script = NULL;
    for (int i = 1; i < argc; i++) {
        int r = nt_cli_parse_input_opt("debug", argc, argv, &i, in);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "-x") == 0 || strcmp(a, "--script") == 0) {
            if (i + 1 >= argc)
                return nt_cli_usage_error("debug", "%s needs a script file", a);
            script = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("debug", "unknown option '%s'", a);
        } else if (!model) {
            model = a;
        } else {
            return nt_cli_usage_error("debug", "unexpected argument '%s'", a);
        }
    }
    if (!model)
        return nt_cli_usage_error("debug", "no MODEL given");
    FILE *sf = NULL;
    if (script && !(sf = fopen(script, "r"))) {
        fprintf(stderr, "nntrace debug: cannot open script %s\n", script);
        return NT_EXIT_USAGE;
    }
    nt_model *m;
    nt_session *s;
    int code = nt_cli_open_model(model, in, &m, &s);
    if (code != NT_EXIT_OK)
        goto close_script;
    if ((code = nt_cli_bind_inputs("debug", m, s, in)) != NT_EXIT_OK)
        goto out;
    nt_debugger *d;
    nt_status st = nt_debugger_new(m, s, stdout, stderr, &d);
    if (st != NT_OK) {
        code = nt_cli_fail(st);
        goto out;
    }
    int n_failed = 0;
    bool counted = true;
    if (sf) {
        st = nt_debugger_script(d, sf, script, &n_failed);
    } else {
        counted = !isatty(STDIN_FILENO); /* typos at a terminal do not set the exit code */
        st = nt_debugger_interactive(d, &n_failed);
    }
    if (st != NT_OK)
        code = nt_cli_fail(st);
    else if (counted && n_failed > 0)
        code = NT_EXIT_USAGE;
    else if (nt_debugger_run_failed(d))
        code = NT_EXIT_BAD_INPUT;
    nt_debugger_free(d);
out:
    nt_session_free(s);
    nt_model_free(m);
close_script:
    if (sf)
        fclose(sf);
    return code;
}

int nt_cmd_debug(int argc, char **argv)
{
    nt_cli_inputs in = {0};
    int code = debug_main(argc, argv, &in);
    nt_cli_inputs_deinit(&in);
    return code;
}
