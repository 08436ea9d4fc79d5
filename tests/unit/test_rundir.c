/*
 * test_rundir.c — run directories as readers judge them: run.json saying
 * "running" (a killed or ongoing run), "failed" with its reason, "ok"; a
 * directory with nntrace's files but no run.json; and one that is not a run
 * directory at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nntrace.h"
#include "trace/tracers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *make_dir(void)
{
    char tmpl[] = "/tmp/nt_test_rundir_XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static void remove_tree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static nt_runinfo info(const char *status, const char *reason)
{
    nt_runinfo r;
    memset(&r, 0, sizeof r);
    r.command = "run";
    r.threads = 1;
    r.status = status;
    r.reason = reason;
    return r;
}

static void test_status_lifecycle(void **state)
{
    char *dir = make_dir();
    char sub[512], why[256];
    snprintf(sub, sizeof sub, "%s/run", dir);
    nt_rundir *r = NULL;
    assert_int_equal(nt_rundir_open(sub, &r), NT_OK);
    nt_runinfo ri = info("running", NULL);
    assert_int_equal(nt_rundir_write_info(r, &ri), NT_OK);
    assert_int_equal(nt_rundir_inspect(sub, why, sizeof why), NT_RUNDIR_RUNNING);
    assert_true(strlen(why) > 0);
    ri = info("failed", "No space left on device");
    assert_int_equal(nt_rundir_write_info(r, &ri), NT_OK);
    assert_int_equal(nt_rundir_inspect(sub, why, sizeof why), NT_RUNDIR_FAILED);
    assert_non_null(strstr(why, "No space left on device"));
    ri = info("ok", NULL);
    ri.runs = 3;
    assert_int_equal(nt_rundir_write_info(r, &ri), NT_OK);
    assert_int_equal(nt_rundir_inspect(sub, why, sizeof why), NT_RUNDIR_COMPLETE);
    char path[600];
    nt_rundir_file(r, "run.json", path, sizeof path);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "\"status\": \"ok\""));
    assert_int_equal(nt_rundir_close(r), NT_OK);
    remove_tree(dir);
    free(dir);
}

static void test_files_without_run_json(void **state)
{
    char *dir = make_dir();
    char why[256], path[600];
    assert_int_equal(nt_rundir_inspect(dir, why, sizeof why), NT_RUNDIR_COMPLETE);  /* not a run directory */
    snprintf(path, sizeof path, "%s/stats.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"node\": \"a\"}\n", f);
    fclose(f);
    assert_int_equal(nt_rundir_inspect(dir, why, sizeof why), NT_RUNDIR_NO_RUNJSON);
    assert_true(strlen(why) > 0);
    remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_lifecycle),
        cmocka_unit_test(test_files_without_run_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
