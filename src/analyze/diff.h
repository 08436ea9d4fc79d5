/*
 * diff.h — comparing runs layer by layer: two sets of recorded tensors (run
 * directories with dumps, or plain directories of .npy files), or a live
 * session against a recorded set.  Answers "which node's output first
 * diverges?" with per-tensor error statistics.
 *
 * Tensors are matched by value name, falling back to node name (a model
 * re-exported by another tool often keeps node names but renames values).
 * A live DequantizeLinear output is also matched to the float tensor it
 * stands for, by the names quantizers keep (X_DequantizeLinear_Output,
 * X_quantized -> X), so a float model diffs against its quantized twin; a
 * QOperator model's QLinear op output X_quantized is dequantized with its
 * scalar scale and zero point and paired with X the same way.
 * Only two tensors are held in memory at a time, so dumps of any size diff.
 *
 * An element fails when |a-b| > atol and |a-b| > rtol*|b| (B is the
 * reference, as in numpy.allclose), or when exactly one side is NaN, or when
 * both are infinite with different signs.  A tensor diverges when any
 * element fails or its shape cannot be matched.
 */
#ifndef NT_DIFF_H
#define NT_DIFF_H

#include "core/core.h"
#include "nntrace/analysis.h"

/* ---------------------------------------------------------------- tensors */

typedef struct nt_diff_stats {
    int64_t count;         /* elements compared */
    double max_abs;        /* max |a-b| over elements where both are finite */
    double max_rel;        /* max |a-b|/|b| over finite elements with b != 0 */
    double mean_abs;       /* mean |a-b| over finite pairs */
    double cosine;         /* cosine similarity of the finite pairs (1 if both all-zero) */
    int64_t nan_mismatch;  /* elements NaN on exactly one side */
    int64_t inf_mismatch;  /* elements infinite on one side only, or with different signs */
    int64_t n_fail;        /* elements failing the tolerance test (mismatches included) */
    int64_t worst;         /* element index of max_abs (-1 if none) */
    /* signal-to-quantization-noise ratio in dB over the finite pairs, B the
     * signal: 10 log10(sum b^2 / sum (a-b)^2); INFINITY when a == b there */
    double sqnr_db;
} nt_diff_stats;

/* Compares two numeric tensors of equal element count (shapes may differ
 * when the counts match: a reference saved squeezed still compares).
 * NT_ERR_SHAPE when the counts differ, NT_ERR_UNSUPPORTED for non-numeric
 * dtypes.  Statistics are accumulated in double. */
nt_status nt_diff_tensors(const nt_tensor *a, const nt_tensor *b, double atol, double rtol, nt_diff_stats *out);

/* Element `worst` of t as coordinates in its shape, last axis fastest
 * ("[0,3,2,5]"); "[]" when worst < 0. */
void nt_diff_worst_at(const nt_tensor *t, int64_t worst, char *buf, size_t len);

/* ---------------------------------------------------------------- tensor sets */

/* One recorded tensor. */
typedef struct nt_diff_entry {
    const char *node;      /* producing node; the file stem for a plain .npy dir */
    const char *op;        /* "" when unknown */
    const char *output;    /* value name; the file stem for a plain .npy dir */
    const char *path;      /* the .npy file */
    int order;             /* position in execution order (index.json order) */
    int out_pos;           /* position among the node's outputs in the set */
} nt_diff_entry;

typedef struct nt_diff_set nt_diff_set;

/* Opens DIR: DIR/tensors/index.json, DIR/index.json, or else every *.npy in
 * DIR (sorted by name; the stem stands for both value and node name).  Only
 * the first run's node outputs of an index are taken. */
nt_status nt_diff_set_open(const char *dir, nt_diff_set **out);
/* The directory of an ONNX test case's files (input_K.pb, output_K.pb):
 * dir itself or dir/test_data_set_0, written into buf; NULL when dir is
 * not a test case. */
const char *nt_diff_case_dir(const char *dir, char *buf, size_t len);
void nt_diff_set_free(nt_diff_set *s);
int nt_diff_set_count(const nt_diff_set *s);
const nt_diff_entry *nt_diff_set_entry(const nt_diff_set *s, int i);
/* True when the set came from an index.json (it knows the execution order). */
bool nt_diff_set_indexed(const nt_diff_set *s);
/* The entry for a value: by value name (or its sanitized form, for .npy
 * dirs), else by node name and output position.  -1 if none; *by_node tells
 * which rule matched. */
int nt_diff_set_find(const nt_diff_set *s, const char *output, const char *node, int out_pos, bool *by_node);

/* ---------------------------------------------------------------- options, report */

/* nt_diff_tol and nt_diff_options are public (include/nntrace/analysis.h):
 * the tolerance fields are what the functions below read. */

/* The tolerances for one tensor. */
void nt_diff_options_for(const nt_diff_options *o, const char *output, const char *node, double *atol,
                         double *rtol);

typedef enum nt_diff_row_status {
    NT_DIFF_COMPARED = 0,
    NT_DIFF_SHAPE_MISMATCH,   /* element counts differ */
    NT_DIFF_UNCOMPARABLE,     /* non-numeric dtype or a file that would not load */
} nt_diff_row_status;

typedef struct nt_diff_row {
    char *node, *op, *output;
    char *other;              /* B's value name when matched by node name, else NULL */
    bool by_dequantize;       /* other is the float tensor a DequantizeLinear output stands for */
    nt_diff_row_status status;
    char shape_a[96], shape_b[96];
    char worst_at[128];       /* st.worst as coordinates in A's shape: "[0,3,2,5]" */
    char *error;              /* why it could not be compared, or NULL */
    double atol, rtol;
    nt_diff_stats st;
    bool ok;
    char stat[16];            /* from_stats: the statistic that differs most ("mean", "nan"...) */
    double stat_a, stat_b;    /* its values in A and B */
} nt_diff_row;

/* One graph input compared between the two runs (a run given different
 * inputs diverges everywhere downstream, and that is not the model's fault). */
typedef struct nt_diff_input_row {
    char *name;               /* the graph input, or "#K" when recorded by position only */
    char *source_a, *source_b; /* the files (or "bound input") compared */
    char shape_a[96], shape_b[96];
    char worst_at[128];
    char *error;              /* why it could not be compared, or NULL */
    nt_diff_stats st;
    bool ok;                  /* equal within the tolerances */
} nt_diff_input_row;

typedef struct nt_diff_report {
    int n, cap;
    nt_diff_row *rows;        /* in A's execution order (live: the running model's) */
    int first_divergent;      /* row index, -1 if none */
    int sqnr_jump;            /* row whose SQNR fell most from the previous compared row, -1 if none */
    double sqnr_jump_prev;    /* that previous row's SQNR (dB, capped at NT_DIFF_SQNR_CAP) */
    int n_by_node;            /* rows matched by node name */
    int n_only_a, n_only_b;
    char **only_a, **only_b;  /* value names found on one side only */
    char *label_a, *label_b;  /* what was compared, for the text header */
    int n_inputs;             /* graph inputs compared (nt_diff_compare_inputs) */
    nt_diff_input_row *inputs;
    int inputs_differ;        /* how many of them differ: the likely cause of any divergence */
    /* rows compare per-node statistics (stats.jsonl), not tensors: max_abs is
     * the largest difference of one statistic (stat names it), fail the number
     * of statistics out of tolerance, cosine and SQNR are not known */
    bool from_stats;
} nt_diff_report;

/* SQNR above this counts as "no noise" when finding the jump (float32
 * rounding alone stays far above it). */
#define NT_DIFF_SQNR_CAP 100.0

void nt_diff_report_init(nt_diff_report *r);
/* Sets sqnr_jump, the layer where the error jumps: among the compared rows
 * (report order) after the first one with any noise, the one whose SQNR
 * (capped at NT_DIFF_SQNR_CAP) falls most below the previous row's; the
 * first noisy row when none falls.  Called by nt_diff_sets and
 * nt_diff_live_finish. */
void nt_diff_report_find_jump(nt_diff_report *r);
void nt_diff_report_deinit(nt_diff_report *r);
/* Records a value name found on side A (or B) only. */
nt_status nt_diff_report_add_only(nt_diff_report *r, bool side_a, const char *name);
/* Number of rows that diverge. */
int nt_diff_report_diverged(const nt_diff_report *r);
/* The report as JSON (DESIGN.md: first_divergent, nodes[...]). */
void nt_diff_report_json(const nt_diff_report *r, const nt_diff_options *o, nt_buf *b);
/* The report as a text table; all rows, or only failing ones (and the
 * first divergent) with only_failing. */
void nt_diff_report_text(const nt_diff_report *r, const nt_diff_options *o, bool only_failing, nt_buf *b);

/* Diffs two sets: every entry of A in order against its match in B,
 * loading two tensors at a time.  Fills rep (which must be initialized). */
nt_status nt_diff_sets(const nt_diff_set *a, const nt_diff_set *b, const nt_diff_options *o, nt_diff_report *rep);

/* ---------------------------------------------------------------- graph inputs */

/* The graph inputs a run was given: from a run directory's run.json (the
 * files of `-i`, resolved as recorded and else beside the directory), an
 * ONNX test case's input_K.pb, or a live session's bound inputs.  An entry
 * holds a file to load or a borrowed tensor. */
typedef struct nt_diff_input {
    char *name;               /* "" when bound by position */
    char *source;             /* file path, or a description of a borrowed tensor */
    const nt_tensor *t;       /* borrowed; NULL: load source */
} nt_diff_input;

typedef struct nt_diff_inputs {
    int n;
    nt_diff_input *v;
} nt_diff_inputs;

/* Appends one input (name and source are copied, t is borrowed). */
nt_status nt_diff_inputs_add(nt_diff_inputs *l, const char *name, const char *source, const nt_tensor *t);
/* The recorded inputs of a directory; none (n == 0, NT_OK) when it has no
 * run.json with input files and is not a test case. */
nt_status nt_diff_inputs_of_dir(const char *dir, nt_diff_inputs *out);
void nt_diff_inputs_deinit(nt_diff_inputs *l);
/* Compares A's inputs with B's, paired by name (by position when either
 * side has none), into rep->inputs and rep->inputs_differ.  Only inputs
 * present on both sides are compared; a file that will not load is noted
 * in its row, not an error. */
nt_status nt_diff_compare_inputs(const nt_diff_inputs *a, const nt_diff_inputs *b, const nt_diff_options *o,
                                 nt_diff_report *rep);

/* ---------------------------------------------------------------- statistics */

/* True when dir holds a stats.jsonl (a run recorded with --trace stats). */
bool nt_diff_dir_has_stats(const char *dir);
/* Compares the per-node statistics of two run directories' stats.jsonl
 * (what runs recorded without dumps have): outputs matched by name, in A's
 * order; count and shape, NaN and Inf counts must be equal, min, max, mean
 * and std must agree within the tolerances.  Sets rep->from_stats.  Equal
 * statistics do not prove equal tensors; different ones prove a
 * divergence. */
nt_status nt_diff_stats_files(const char *dir_a, const char *dir_b, const nt_diff_options *o, nt_diff_report *rep);

/* ---------------------------------------------------------------- live */

/*
 * A tracer that compares each node output of a running session with its
 * match in a recorded set as the node finishes (only the first run, each
 * value once).  live_is_a: the live tensor is A and the recorded one the
 * reference B (`run --compare`); otherwise the recorded one is A.  Call
 * nt_diff_live_finish after the run to list what the set had that the run
 * never produced.  The set, options and report must outlive the tracer.
 */
typedef struct nt_diff_live nt_diff_live;
nt_status nt_diff_live_new(const nt_diff_set *ref, const nt_diff_options *o, nt_diff_report *rep, bool live_is_a,
                           nt_diff_live **out);
const nt_tracer *nt_diff_live_tracer(nt_diff_live *l);
/* The first error a comparison hit that was not a mismatch (NT_OK if none). */
nt_status nt_diff_live_finish(nt_diff_live *l);
void nt_diff_live_free(nt_diff_live *l);

#endif /* NT_DIFF_H */
