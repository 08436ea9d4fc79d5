/*
 * dbg_print.h — how the debugger shows tensors: numpy-style arrays with
 * summarization of large ones, one-line summaries, a statistics table and
 * a text histogram.  Everything is appended to an nt_buf so the REPL
 * decides where it goes (and tests can compare strings).  Output is
 * deterministic: "%.Ng" formatting, no locale, no terminal widths.
 */
#ifndef NT_DBG_PRINT_H
#define NT_DBG_PRINT_H

#include "debug/dbg_slice.h"

typedef struct nt_dbg_print_opts {
    int64_t threshold;   /* more elements than this: summarize (numpy: 1000) */
    int edgeitems;       /* elements kept at each end of a summarized axis (3) */
    int linewidth;       /* wrap rows longer than this (75) */
    int precision;       /* significant digits of floats (6) */
} nt_dbg_print_opts;

void nt_dbg_print_opts_default(nt_dbg_print_opts *o);

/* One element (flat index into t) as text: floats "%.Pg" ("nan", "inf",
 * "-inf"), integers exactly, bools True/False. */
void nt_dbg_format_element(char *out, size_t len, const nt_tensor *t, int64_t flat, int precision);
/* The view's elements as a nested bracketed array ("[[1, 2],\n [3, 4]]"),
 * no trailing newline; a 0-d view is the bare element. */
void nt_dbg_format_array(nt_buf *b, const nt_tensor *t, const nt_dbg_view *v, const nt_dbg_print_opts *o);
/* "float32[2,3] min=.. max=.. mean=.. nan=.. inf=.." on one line (no newline). */
void nt_dbg_format_summary(nt_buf *b, const nt_tensor *t);
/* The statistics table (one "  key value" line per statistic). */
nt_status nt_dbg_format_stats(nt_buf *b, const nt_tensor *t);
/* A histogram of the finite values in `bins` equal-width bins over
 * [min, max] (the last bin closed, as numpy.histogram), one line per bin
 * with a bar of '#'.  bins must be 1..1000. */
nt_status nt_dbg_format_hist(nt_buf *b, const nt_tensor *t, int bins);

#endif /* NT_DBG_PRINT_H */
