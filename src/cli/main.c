/*
 * main.c — the nntrace command: dispatches to one subcommand per file
 * (commands.def), handles --help and --version, and owns exit codes.
 */
#include "cli/cli.h"
#include "cli/cli_env.h"
#include "core/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define NT_COMMAND(name, summary) \
    int nt_cmd_##name(int argc, char **argv); \
    extern const char nt_usage_##name[];
#include "cli/commands.def"
#undef NT_COMMAND

const nt_command nt_commands[] = {
#define NT_COMMAND(name, summary) {#name, nt_cmd_##name, summary, nt_usage_##name},
#include "cli/commands.def"
#undef NT_COMMAND
    {NULL, NULL, NULL, NULL},
};

const nt_command *nt_cli_find(const char *name)
{
    for (const nt_command *c = nt_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static void print_main_help(FILE *f)
{
    fprintf(f, "usage: nntrace <command> [options]\n\n"
               "nntrace runs ONNX models on its own CPU interpreter and shows what\n"
               "happens at every node.\n\ncommands:\n");
    for (const nt_command *c = nt_commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\n'nntrace <command> --help' describes a command.\n"
               "exit codes: 0 ok, 1 usage error, 2 bad model or input (or declined),\n"
               "            3 the command ran and found problems.\n");
}

int nt_cli_fail(nt_status s)
{
    const char *msg = nt_last_error();
    fprintf(stderr, "nntrace: %s\n", msg[0] ? msg : nt_status_name(s));
    return s == NT_ERR_INVALID_ARG ? NT_EXIT_USAGE : NT_EXIT_BAD_INPUT;
}

int nt_cli_fail_in(nt_status s, const char *file)
{
    if (strncmp(nt_last_error(), file, strlen(file)) != 0)
        nt_error_wrap(s, "%s", file);
    return nt_cli_fail(s);
}

int nt_cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "nntrace %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'nntrace %s --help')\n", cmd);
    return NT_EXIT_USAGE;
}

bool nt_cli_is_help(const char *arg) { return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0; }

int nt_cli_print_help(const char *cmd)
{
    const nt_command *c = nt_cli_find(cmd);
    if (c)
        fputs(c->usage, stdout);
    return NT_EXIT_OK;
}

bool nt_cli_parse_int(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

bool nt_cli_parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

int nt_cli_finish(int code)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "nntrace: error writing to standard output: %s\n", strerror(errno));
        return code ? code : NT_EXIT_BAD_INPUT;
    }
    return code;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help(stderr);
        return NT_EXIT_USAGE;
    }
    nt_cli_apply_env();
    const char *cmd = argv[1];
    if (nt_cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        if (argc > 2 && nt_cli_find(argv[2]))
            return nt_cli_finish(nt_cli_print_help(argv[2]));
        print_main_help(stdout);
        return nt_cli_finish(NT_EXIT_OK);
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("nntrace %s\n", NT_VERSION_STRING);
        return nt_cli_finish(NT_EXIT_OK);
    }
    const nt_command *c = nt_cli_find(cmd);
    if (!c) {
        fprintf(stderr, "nntrace: unknown command '%s'\n\n", cmd);
        print_main_help(stderr);
        return NT_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++)
        if (nt_cli_is_help(argv[i]))
            return nt_cli_finish(nt_cli_print_help(cmd));
    return nt_cli_finish(c->run(argc - 1, argv + 1));
}
