/*
 * cli_trace.c — tracing options and the tracer/run-directory life cycle
 * shared by the commands that run models (see cli_trace.h).
 */
#include "cli/cli_env.h"
#include "cli/cli_trace.h"
#include "core/core.h"
#include "graph/node_pattern.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const kinds[4] = {"print", "stats", "dump", "profile"};

int nt_cli_parse_trace_opt(const char *cmd, int argc, char **argv, int *i, nt_cli_trace *t)
{
    const char *a = argv[*i];
    if (strcmp(a, "--trace") == 0 || strncmp(a, "--trace=", 8) == 0) {
        const char *v = a[7] == '=' ? a + 8 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v)
            return nt_cli_usage_error(cmd, "--trace needs KIND[:FILTER]"), -1;
        const char *colon = strchr(v, ':');
        size_t klen = colon ? (size_t)(colon - v) : strlen(v);
        int k = -1;
        for (int j = 0; j < 4; j++)
            if (strlen(kinds[j]) == klen && strncmp(v, kinds[j], klen) == 0)
                k = j;
        if (k < 0)
            return nt_cli_usage_error(cmd, "unknown trace kind in '%s' (expected print, stats, dump or profile)", v), -1;
        t->enabled[k] = true;
        if (colon && colon[1] && !nt_node_filter_add(&t->filters[k], colon + 1))
            return nt_cli_usage_error(cmd, "too many filters for --trace %s", kinds[k]), -1;
        return 1;
    }
    if (strcmp(a, "--run-dir") == 0) {
        if (*i + 1 >= argc)
            return nt_cli_usage_error(cmd, "--run-dir needs a directory"), -1;
        t->run_dir = argv[++*i];
        return 1;
    }
    if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
        t->verbose = true;
        return 1;
    }
    if (strcmp(a, "--exact-hist") == 0) {
        t->exact_hist = true;
        return 1;
    }
    if (strcmp(a, "--dump-inputs") == 0) {
        t->dump_inputs = true;
        return 1;
    }
    if (strcmp(a, "--dump-limit") == 0) {
        long long mb;
        if (*i + 1 >= argc || !nt_cli_parse_int(argv[++*i], &mb) || mb < 1)
            return nt_cli_usage_error(cmd, "--dump-limit needs a size in MiB"), -1;
        t->dump_limit = (uint64_t)mb << 20;
        return 1;
    }
    return 0;
}

int nt_cli_trace_start(nt_cli_trace *t, const nt_model *m, nt_session *s, bool want_rundir)
{
    bool needs_dir = want_rundir || t->run_dir || t->enabled[1] || t->enabled[2] || t->enabled[3];
    if (needs_dir) {
        const char *dir = t->run_dir;
        if (!dir) {
            time_t now = time(NULL);
            struct tm tm;
            localtime_r(&now, &tm);
            strftime(t->default_dir, sizeof t->default_dir, "nntrace-runs/%Y%m%d-%H%M%S", &tm);
            dir = t->default_dir;
        }
        nt_status st = nt_rundir_open(dir, &t->rd);
        if (st != NT_OK)
            return nt_cli_fail(st);
        if (!t->run_dir)
            fprintf(stderr, "nntrace: recording the run in %s\n", dir);
        /* run.json first, saying "running": a killed run is recognisable */
        nt_runinfo info = {t->command ? t->command : "", t->model_path, 0, NULL, NULL, NULL, t->cmdline,
                           t->threads > 0 ? t->threads : 1, 0, 0, "running", NULL};
        if ((st = nt_rundir_write_info(t->rd, &info)) != NT_OK)
            return nt_cli_fail(st);
        nt_writer *w;
        if ((st = nt_rundir_writer(t->rd, &w)) != NT_OK)
            return nt_cli_fail(st);
    }
    for (int k = 0; k < 4; k++) {
        if (!t->enabled[k])
            continue;
        /* a filter that picks nothing is almost always a typo: say so, run anyway */
        for (int i = 0; i < t->filters[k].n; i++)
            if (nt_node_pattern_count(m->graph, t->filters[k].pats[i]) == 0)
                fprintf(stderr, "nntrace: warning: --trace %s filter '%s' matches no node%s\n", kinds[k],
                        t->filters[k].pats[i],
                        nt_node_pattern_is_op(t->filters[k].pats[i]) ? " (no node has that op type)" : "");
        nt_trace_config cfg = {0};
        cfg.model = m;
        cfg.stats_inline = nt_cli_env.stats_inline;
        cfg.filter = t->filters[k];
        cfg.verbose = t->verbose;
        cfg.out = t->reports_to_stderr ? stderr : stdout;
        cfg.dump_inputs = t->dump_inputs;
        cfg.exact_hist = t->exact_hist;
        cfg.warmup_runs = t->warmup_runs;
        cfg.dump_limit = t->dump_limit;
        cfg.rundir = t->rd;
        nt_status st = nt_trace_obj_new(kinds[k], &cfg, &t->objs[k]);
        if (st == NT_OK)
            st = nt_session_add_tracer(s, &t->objs[k]->tracer);
        if (st != NT_OK)
            return nt_cli_fail(st);
    }
    return NT_EXIT_OK;
}

int nt_cli_trace_finish(nt_cli_trace *t, const nt_runinfo *info)
{
    int code = NT_EXIT_OK;
    char reason[1024] = "";
    for (int k = 0; k < 4; k++) {
        if (!t->objs[k])
            continue;
        if (t->objs[k]->warning[0])
            fprintf(stderr, "nntrace: warning: %s\n", t->objs[k]->warning);
        nt_status st = t->objs[k]->finish(t->objs[k], t->rd);
        if (st != NT_OK && code == NT_EXIT_OK) {
            snprintf(reason, sizeof reason, "%s", nt_last_error());
            code = nt_cli_fail(st);
        }
        nt_trace_obj_free(t->objs[k]);
        t->objs[k] = NULL;
    }
    if (t->rd) {
        nt_writer *w = NULL;
        if (nt_rundir_writer(t->rd, &w) == NT_OK && w) { /* the event file's last records, before run.json */
            nt_status st = nt_writer_flush(w);
            if (st != NT_OK && code == NT_EXIT_OK) {
                snprintf(reason, sizeof reason, "%s", nt_last_error());
                code = nt_cli_fail(st);
            }
        }
        if (info) {
            nt_runinfo fin = *info;
            if (code != NT_EXIT_OK) {
                fin.status = "failed";
                fin.reason = reason;
            }
            nt_status st = nt_rundir_write_info(t->rd, &fin);
            if (st != NT_OK && code == NT_EXIT_OK)
                code = nt_cli_fail(st);
        }
        nt_status st = nt_rundir_close(t->rd);
        t->rd = NULL;
        if (st != NT_OK && code == NT_EXIT_OK)
            code = nt_cli_fail(st);
    }
    return code;
}

bool nt_cli_warn_incomplete(const char *cmd, const char *dir)
{
    char why[1400];
    if (!dir || nt_rundir_inspect(dir, why, sizeof why) == NT_RUNDIR_COMPLETE)
        return false;
    fprintf(stderr, "nntrace %s: warning: incomplete run directory: %s; using what is there\n", cmd, why);
    return true;
}
