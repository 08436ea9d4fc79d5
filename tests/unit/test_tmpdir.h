/*
 * test_tmpdir.h — one temporary directory per unit-test binary, for the
 * tests that write files (npy, tensor files): made by tmpdir_setup, emptied
 * and removed by tmpdir_remove (cmocka group set-up and tear-down), files in
 * it named by tmp_path.  Include after <cmocka.h>.
 */
#ifndef NT_TEST_TMPDIR_H
#define NT_TEST_TMPDIR_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

static int tmpdir_setup(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/nt_test_XXXXXX", base);
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Removes the files directly in the directory, then the directory. */
static int tmpdir_remove(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(tmpdir);
    return 0;
}

/* tmpdir/name, in a static buffer (valid until the next call). */
static const char *tmp_path(const char *name)
{
    static char p[600];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

#endif
