/*
 * report_curves.h — the scalar curves of a directory of TensorBoard event
 * files (any writer's), as `nntrace report` and nt_report_run read them:
 * every event file of the directory and of its subdirectories (three
 * levels; a subdirectory's path prefixes its tags), a tag logged more than
 * once at a step keeping its last value.
 */
#ifndef NT_ANALYZE_REPORT_CURVES_H
#define NT_ANALYZE_REPORT_CURVES_H

#include "core/core.h"
#include "core/strmap.h"
#include "metrics/curves.h"

#include <stdio.h>

typedef struct point {
    int64_t step, seq;
    double v;
} point;

typedef struct curve {
    char *tag;
    point *p;
    int64_t n, cap;
    /* after finish(): the series view */
    int64_t *steps;
    double *values;
} curve;

typedef struct curve_set {
    curve *c;
    int n, cap;
    nt_strmap index; /* tag -> index in c (keys borrowed from c[i].tag) */
    int64_t seq;
    int files;
    uint64_t bad_records;
    nt_buf damaged;  /* JSON objects {"file", "problem"} joined by ", " */
    int n_damaged;
    FILE *log;       /* damaged files are named here (NULL: not) */
} curve_set;

void nt_rcurves_free(curve_set *cs);
/* Index of a tag, -1 if absent. */
int nt_rcurves_find(const curve_set *cs, const char *tag);
/* Sorts each curve by step (last value of a step wins) and builds the series views. */
nt_status nt_rcurves_finish(curve_set *cs);
nt_series nt_rcurves_series(const curve *c);
/* The scalars of one event file / of a directory tree, tags prefixed with `prefix`. */
nt_status nt_rcurves_read_file(curve_set *cs, const char *path, const char *prefix);
nt_status nt_rcurves_read_tree(curve_set *cs, const char *dir, const char *prefix, int depth);

#endif
