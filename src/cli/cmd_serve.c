/*
 * cmd_serve.c — `nntrace serve DIR... [--host H] [--port P]`: the live
 * dashboard over run directories and any program's TensorBoard event files.
 * The front end is compiled into the binary (build/web_assets.c, generated
 * by scripts/embed.sh from web/), so the command needs nothing beside it
 * and the page loads nothing from the network.
 *
 * The command runs until interrupted (SIGINT/SIGTERM), then stops the
 * server cleanly.  The first line on stdout is the URL, so scripts that
 * start it with --port 0 learn which port was picked.
 */
#include "cli/cli.h"
#include "core/core.h"
#include "serve/serve.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The generated table (same member list as nt_serve_asset). */
extern const nt_serve_asset nt_web_assets[];

const char nt_usage_serve[] =
    "usage: nntrace serve DIR... [--host 127.0.0.1] [--port 6006]\n"
    "\n"
    "Serves a live dashboard (TensorBoard-style) over run directories written by\n"
    "'nntrace run --run-dir' and over any program's TensorBoard event files.\n"
    "Each DIR is a run, or holds runs in subdirectories (a few levels deep).\n"
    "Scalars, histograms, images, text, the graph with per-node statistics,\n"
    "profiles, confusion matrices, sensitivity maps and findings appear as\n"
    "files are written, without reloading the page.\n"
    "\n"
    "  --host H      address to listen on (default 127.0.0.1, loopback only;\n"
    "                0.0.0.0 exposes the dashboard to the network)\n"
    "  --port P      port (default 6006; 0 picks a free one)\n"
    "  --poll-ms N   how often the directories are rescanned (default 1000)\n"
    "\n"
    "The first line printed is the dashboard's URL.  Stop with Ctrl-C.\n"
    "exit codes: 0 stopped by a signal, 1 usage error, 2 a directory cannot be\n"
    "read or the address cannot be bound.\n";

int nt_cmd_serve(int argc, char **argv)
{
    nt_server_options opt = {.host = "127.0.0.1", .port = 6006, .assets = nt_web_assets};
    char **dirs = nt_calloc((size_t)argc, sizeof *dirs);
    int n_dirs = 0;
    if (!dirs)
        return nt_cli_fail(NT_ERR_NOMEM);
    int rc = NT_EXIT_OK;
    for (int i = 1; i < argc; i++) {
        long long v;
        if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            opt.host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            if (!nt_cli_parse_int(argv[++i], &v) || v < 0 || v > 65535) {
                rc = nt_cli_usage_error("serve", "--port wants 0..65535, not '%s'", argv[i]);
                goto done;
            }
            opt.port = (int)v;
        } else if (strcmp(argv[i], "--poll-ms") == 0 && i + 1 < argc) {
            if (!nt_cli_parse_int(argv[++i], &v) || v < 10 || v > 60000) {
                rc = nt_cli_usage_error("serve", "--poll-ms wants 10..60000, not '%s'", argv[i]);
                goto done;
            }
            opt.poll_ms = (int)v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            rc = nt_cli_usage_error("serve", "unknown option '%s'", argv[i]);
            goto done;
        } else {
            dirs[n_dirs++] = argv[i];
        }
    }
    if (n_dirs == 0) {
        rc = nt_cli_usage_error("serve", "give at least one directory");
        goto done;
    }
    /* Signals are taken synchronously by this thread with sigwait; every
     * thread started below inherits the blocked mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    nt_index *ix = NULL;
    nt_status s = nt_index_new(n_dirs, dirs, &ix);
    if (s != NT_OK) {
        rc = nt_cli_fail(s);
        goto done;
    }
    nt_server *srv = NULL;
    s = nt_server_start(ix, &opt, &srv);
    if (s != NT_OK) {
        nt_index_free(ix);
        rc = nt_cli_fail(s);
        goto done;
    }
    const char *h = opt.host;
    bool v6 = strchr(h, ':') != NULL;
    printf("nntrace serve: http://%s%s%s:%d/\n", v6 ? "[" : "", h, v6 ? "]" : "", nt_server_port(srv));
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "nntrace serve: stopping\n");
    nt_server_stop(srv);
    nt_index_free(ix);
done:
    free(dirs);
    return rc;
}
