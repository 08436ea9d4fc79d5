/*
 * test_report.c — the training report as a library call
 * (include/nntrace/analysis.h: nt_report_run) on event files written here
 * with the C API: a validation loss that turns up while the training loss
 * keeps falling is an overfitting warning, paired by convention and by
 * given tags; a steadily falling pair has no warning; a missing tag and an
 * empty directory are errors that say so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "nntrace/analysis.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* dir/events with train_loss falling and val_loss falling, then (when
 * `overfit`) rising from step 60 on. */
static void write_run(const char *dir, bool overfit)
{
    nt_writer *w;
    assert_int_equal(nt_writer_open(dir, &w), NT_OK);
    for (int s = 0; s < 120; s++) {
        double train = 2.0 / (1 + 0.1 * s);
        double val = 2.2 / (1 + 0.1 * s) + (overfit && s > 60 ? 0.02 * (s - 60) : 0);
        assert_int_equal(nt_writer_scalar(w, "train_loss", s, train), NT_OK);
        assert_int_equal(nt_writer_scalar(w, "val_loss", s, val), NT_OK);
    }
    assert_int_equal(nt_writer_close(w), NT_OK);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static char *report_json(const char *dir, const char *train, const char *val, int *worst)
{
    const char *dirs[1] = {dir};
    nt_report_options o = {dirs, 1, train, val, NULL, NULL};
    nt_report_result *r;
    assert_int_equal(nt_report_run(&o, &r), NT_OK);
    char *j;
    size_t len;
    assert_int_equal(nt_report_result_json(r, &j, &len), NT_OK);
    assert_int_equal(strlen(j), len);
    *worst = nt_report_result_worst(r);
    nt_report_result_free(r);
    return j;
}

static void test_report_overfit(void **state)
{
    (void)state;
    char dir[] = "/tmp/nt_test_report_XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_run(dir, true);
    int worst;
    char *j = report_json(dir, NULL, NULL, &worst);
    assert_non_null(strstr(j, "\"kind\": \"overfitting\""));
    assert_non_null(strstr(j, "\"pairs\": [{\"train\": \"train_loss\", \"val\": \"val_loss\", \"kind\": \"loss\"}]"));
    assert_int_equal(worst, 1);
    free(j);
    /* the same pair given by name */
    j = report_json(dir, "train_loss", "val_loss", &worst);
    assert_non_null(strstr(j, "\"kind\": \"overfitting\""));
    free(j);
    /* a tag that is not there: an error naming the tags there are */
    const char *dirs[1] = {dir};
    nt_report_options o = {dirs, 1, "train_loss", "nope", NULL, NULL};
    nt_report_result *r;
    assert_int_equal(nt_report_run(&o, &r), NT_ERR_INVALID_ARG);
    assert_non_null(strstr(nt_last_error(), "no scalar tag 'nope'; the tags are:\n  train_loss\n  val_loss"));
    remove_dir(dir);
}

static void test_report_healthy_and_empty(void **state)
{
    (void)state;
    char dir[] = "/tmp/nt_test_report_XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_run(dir, false);
    int worst;
    char *j = report_json(dir, NULL, NULL, &worst);
    assert_null(strstr(j, "overfitting"));
    assert_true(worst < 1);
    free(j);
    remove_dir(dir);
    char empty[] = "/tmp/nt_test_report_XXXXXX";
    assert_non_null(mkdtemp(empty));
    const char *dirs[1] = {empty};
    nt_report_options o = {dirs, 1, NULL, NULL, NULL, NULL};
    nt_report_result *r;
    assert_int_equal(nt_report_run(&o, &r), NT_ERR_NOT_FOUND);
    assert_non_null(strstr(nt_last_error(), "no event files"));
    rmdir(empty);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_overfit),
        cmocka_unit_test(test_report_healthy_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
