/*
 * cmd_info.c — `nntrace info MODEL [--json]` (placeholder until the loader lands).
 */
#include "cli/cli.h"

const char nt_usage_info[] =
    "usage: nntrace info MODEL [--json]\n";

int nt_cmd_info(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return NT_EXIT_USAGE;
}
