/*
 * nntrace/analysis.h — the analyses behind `nntrace eval`, `report`,
 * `doctor`, `diff` and `analyze` as library functions.  Each analysis takes
 * an options struct, produces a result object, and renders it as the exact
 * text and JSON the command prints, so that a program (or a binding) gets
 * what `nntrace CMD --json` prints without running the CLI.
 *
 * Strings returned through `char **out` are allocated by the library; free
 * them with free().  Results keep pointers to the strings of their options:
 * those must outlive the result.
 */
#ifndef NNTRACE_ANALYSIS_H
#define NNTRACE_ANALYSIS_H

#include "nntrace.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- eval
 *
 * Runs a model over a labelled data set and scores it (`nntrace eval`):
 * samples along axis 0 of the data, batched when the input's batch
 * dimension is dynamic, padded when it is fixed; accuracy, confusion
 * matrix, per-class precision/recall/F1, cross-entropy, ROC AUC and PR
 * curve for binary tasks; MSE/MAE/RMSE/R2 for regression.
 *
 *   nt_eval_options o;
 *   nt_eval_options_init(&o);
 *   o.data_path = "x.npy"; o.labels_path = "y.npy";
 *   nt_eval_data *d;  nt_eval_result *r;  char *json;
 *   nt_eval_load(&o, &d);                  // labels and samples, sizes checked
 *   nt_eval_run(model, session, d, &o, &r); // runs the session, scores
 *   nt_eval_result_json(r, &json, NULL);   // what `eval --json` prints
 */

typedef enum nt_eval_task { NT_EVAL_CLASSIFY = 0, NT_EVAL_REGRESSION } nt_eval_task;

/* How the scored output is read: detected, logits, probabilities, labels. */
typedef enum nt_eval_outputs { NT_EVAL_AUTO = 0, NT_EVAL_LOGITS, NT_EVAL_PROBS, NT_EVAL_LABELS } nt_eval_outputs;

/* The extra, normalized confusion matrix: none, by true class (rows), by
 * predicted class (columns), over all samples. */
typedef enum nt_eval_normalize {
    NT_EVAL_NORMALIZE_NONE = 0,
    NT_EVAL_NORMALIZE_TRUE,
    NT_EVAL_NORMALIZE_PRED,
    NT_EVAL_NORMALIZE_ALL
} nt_eval_normalize;

typedef struct nt_eval_options {
    const char *model_path;   /* only reported ("model" in the JSON) */
    const char *data_path;    /* samples along axis 0 (.npy or TensorProto .pb) */
    const char *labels_path;  /* .npy (class indices, one-hot rows, targets) or .csv */
    const char *label_column; /* CSV column by name or 0-based index (NULL: detected) */
    const char *data_input;   /* the graph input the samples bind to (NULL: the first) */
    const char *output;       /* the graph output scored (NULL: the first float one) */
    const char *class_names;  /* "a,b,c" (NULL: indices) */
    int batch;                /* samples per run when the batch dim is dynamic (32) */
    bool batch_given;         /* say so when batch > 1 cannot be honoured */
    nt_eval_task task;
    nt_eval_outputs outputs;
    double threshold;         /* binary: positive when P(positive) >= threshold (0.5) */
    double zero_division;     /* precision/recall/F1 when undefined (0) */
    int digits;               /* decimals of the text classification report (2) */
    int worst;                /* list the `worst` samples with the highest loss (0) */
    nt_eval_normalize normalize;
    FILE *log;                /* notes and progress (NULL: silent) */
} nt_eval_options;

typedef struct nt_eval_data nt_eval_data;
typedef struct nt_eval_result nt_eval_result;

/* The defaults above. */
NT_API void nt_eval_options_init(nt_eval_options *o);
/* Loads the labels, then the samples, and checks they are as many. */
NT_API nt_status nt_eval_load(const nt_eval_options *o, nt_eval_data **out);
/* The samples loaded (to bind the input a run needs to know about). */
NT_API const nt_tensor *nt_eval_data_samples(const nt_eval_data *d);
NT_API void nt_eval_data_free(nt_eval_data *d);
/* Runs `s` (a session of `m` whose other inputs are bound) over every
 * sample and scores the chosen output.  NT_ERR_INVALID_ARG for a misused
 * option (no such input/output, ranks that do not fit). */
NT_API nt_status nt_eval_run(const nt_model *m, nt_session *s, const nt_eval_data *d, const nt_eval_options *o,
                             nt_eval_result **out);
/* Runs made and their wall time (to report alongside the result). */
NT_API int nt_eval_result_runs(const nt_eval_result *r);
NT_API double nt_eval_result_ms(const nt_eval_result *r);
/* The result as `nntrace eval --json` prints it (also DIR/eval.json) and as
 * the text report; *len (may be NULL) gets the length. */
NT_API nt_status nt_eval_result_json(const nt_eval_result *r, char **out, size_t *len);
NT_API nt_status nt_eval_result_text(const nt_eval_result *r, char **out, size_t *len);
NT_API void nt_eval_result_free(nt_eval_result *r);

/* ---------------------------------------------------------------- report
 *
 * Diagnoses training from the scalar curves of TensorBoard event files
 * (`nntrace report`): each directory's curves are read (subdirectories too),
 * paired train/validation by convention or as given, and analysed for
 * divergence, overfitting, plateaus.
 */

typedef struct nt_report_options {
    const char *const *dirs;  /* directories (or single event files) */
    int n_dirs;
    const char *train_tag;    /* pair these two tags (both or neither; NULL: by convention) */
    const char *val_tag;
    const char *plots;        /* write SVG plots here (NULL: none) */
    FILE *log;                /* damaged or incomplete inputs are named here (NULL: silent) */
} nt_report_options;

typedef struct nt_report_result nt_report_result;

/* Reads and analyses every directory.  NT_ERR_INVALID_ARG when a given tag
 * is missing (the message lists the tags). */
NT_API nt_status nt_report_run(const nt_report_options *o, nt_report_result **out);
/* The most severe finding: 0 info (or none), 1 warning, 2 error. */
NT_API int nt_report_result_worst(const nt_report_result *r);
/* As `nntrace report --json` prints it (and -o FILE holds), and as text. */
NT_API nt_status nt_report_result_json(const nt_report_result *r, char **out, size_t *len);
NT_API nt_status nt_report_result_text(const nt_report_result *r, char **out, size_t *len);
NT_API void nt_report_result_free(nt_report_result *r);

/* ---------------------------------------------------------------- doctor
 *
 * Diagnoses a model on its bound inputs, or on every sample of a data set
 * (`nntrace doctor`): where NaN/Inf are born (and who only passes them on),
 * dead units after ReLU-like ops, saturated sigmoid/tanh/softmax, exploding
 * magnitudes (and float16 overflow), plus static findings (unused
 * initializers, inputs and outputs, shape conflicts).
 *
 *   nt_doctor_options o;
 *   nt_doctor_options_init(&o);
 *   nt_doctor_result *r;  char *json;
 *   nt_doctor_run(model, session, &o, &r);   // inputs bound (but the data's)
 *   nt_doctor_result_json(r, &json, NULL);   // what `doctor --json` prints
 */

typedef struct nt_doctor_options {
    double explode_threshold;    /* magnitudes above this are "exploding" (0: 1e4) */
    bool fp16;                   /* also report values outside float16's range (65504) */
    double saturation_fraction;  /* share of saturated outputs that is reported (0: 0.5) */
    const char *model_path;      /* only reported (the text's first line; NULL: the model's path) */
    const nt_tensor *data;       /* run once per sample along axis 0 of this (NULL: see data_path) */
    const char *data_path;       /* ... or of this .npy/.pb file (both NULL: one run on the bound inputs) */
    const char *data_input;      /* the graph input the samples bind to (NULL: the first) */
    FILE *log;                   /* progress over long data sets (NULL: silent) */
} nt_doctor_options;

typedef struct nt_doctor_result nt_doctor_result;

/* The defaults above (all zero). */
NT_API void nt_doctor_options_init(nt_doctor_options *o);
/* Attaches the doctor's tracer to s (a session of m), runs it once or per
 * sample, detaches it and builds the findings.  NT_ERR_INVALID_ARG for a
 * data input that does not exist; a failing run's error otherwise. */
NT_API nt_status nt_doctor_run(const nt_model *m, nt_session *s, const nt_doctor_options *o,
                               nt_doctor_result **out);
/* Runs observed, and findings of error severity (the CLI exits 3 on any). */
NT_API int nt_doctor_result_runs(const nt_doctor_result *r);
NT_API int nt_doctor_result_errors(const nt_doctor_result *r);
/* As `nntrace doctor --json` prints it (and DIR/findings.json holds), and
 * as the text report. */
NT_API nt_status nt_doctor_result_json(const nt_doctor_result *r, char **out, size_t *len);
NT_API nt_status nt_doctor_result_text(const nt_doctor_result *r, char **out, size_t *len);
NT_API void nt_doctor_result_free(nt_doctor_result *r);

/* ---------------------------------------------------------------- diff
 *
 * Compares two runs node output by node output and names the first node
 * whose output diverges, in execution order (`nntrace diff A B`).  A and B
 * are each a run directory recorded with dumps (or statistics only: then
 * per-node statistics are compared), a directory of .npy files, or a model,
 * which is run on the given inputs and compared live.  The graph inputs
 * are compared first: when they differ they are named as the likely cause
 * (JSON "cause": "inputs").  Tensors
 * are matched by value name, then by node name (a DequantizeLinear output
 * by the float tensor it stands for).  An element fails when
 * |a-b| > atol and |a-b| > rtol*|b| (B is the reference).
 *
 *   nt_diff_options o;
 *   nt_diff_options_init(&o);
 *   o.a = "model.onnx"; o.b = "model_qdq.onnx";
 *   o.n_feeds = 1; o.feed_names = names; o.feeds = tensors;
 *   nt_diff_result *r;  char *json;
 *   nt_diff_run(&o, &r);
 *   nt_diff_result_json(r, &json, NULL);   // what `diff --json` prints
 */

#define NT_DIFF_MAX_TOLS 32

/* Tolerances for the outputs or nodes whose name matches a glob. */
typedef struct nt_diff_tol {
    const char *pattern;
    double atol, rtol;
} nt_diff_tol;

/* Opens a model side of a diff: loads it, plans a session and binds its
 * inputs (the caller's way, replacing the feeds below). */
typedef nt_status (*nt_diff_open_fn)(void *user, const char *model_path, nt_model **m, nt_session **s);

typedef struct nt_diff_options {
    double atol, rtol;           /* 1e-4, 1e-3 */
    int n_tols;                  /* per-output overrides, the first match wins */
    nt_diff_tol tols[NT_DIFF_MAX_TOLS];
    const char *a, *b;           /* directories or models; B is the reference */
    /* for a model: inputs bound by name without a copy (they must outlive
     * nt_diff_run), intra-op threads; or a function of the caller's */
    int n_feeds;
    const char *const *feed_names;
    const nt_tensor *const *feeds;
    int threads;
    nt_diff_open_fn open;
    void *open_user;
    /* the files the inputs came from, as the report names them when a model
     * is compared with a directory of statistics (NULL names: by position) */
    int n_input_files;
    const char *const *input_file_names;
    const char *const *input_files;
    const char *keep_dir;        /* two models: A's dumped tensors go here and stay */
    const char *tmp_dir;         /* ... else into a temporary directory here (NULL: /tmp) */
} nt_diff_options;

typedef struct nt_diff_result nt_diff_result;

/* The defaults above. */
NT_API void nt_diff_options_init(nt_diff_options *o);
/* Compares A and B.  A failing run or unreadable directory is an error
 * (naming it); a divergence is not (see nt_diff_result_diverged). */
NT_API nt_status nt_diff_run(const nt_diff_options *o, nt_diff_result **out);
/* Tensors that diverge plus graph inputs that differ (the CLI exits 3 on
 * any). */
NT_API int nt_diff_result_diverged(const nt_diff_result *r);
/* As `nntrace diff --json` prints it (and --out FILE holds). */
NT_API nt_status nt_diff_result_json(const nt_diff_result *r, char **out, size_t *len);
/* As the text prints it: the weights that differ (two models), then the
 * table (all rows, or only failing ones and the first divergent). */
NT_API nt_status nt_diff_result_text(const nt_diff_result *r, bool only_failing, char **out, size_t *len);
/* Only the weights that differ ("" unless two models; the CLI prints them
 * on stderr beside --json). */
NT_API nt_status nt_diff_result_weights(const nt_diff_result *r, char **out, size_t *len);
NT_API void nt_diff_result_free(nt_diff_result *r);

/* ---------------------------------------------------------------- analyze
 *
 * Changes one input of a model and measures how an output moves (`nntrace
 * analyze`): occlusion maps, Gaussian perturbation with per-feature
 * sensitivity, or a sweep of one feature.  The target score is one element
 * of the watched output: by default the argmax of the unperturbed output.
 *
 *   nt_analyze_options o;
 *   nt_analyze_options_init(&o);
 *   o.method = NT_ANALYZE_OCCLUSION; o.out_dir = "maps";
 *   nt_analyze_result *r;  char *json;
 *   nt_analyze_run(model, session, &o, &r);   // inputs bound
 *   nt_analyze_result_json(r, &json, NULL);   // what `analyze --json` prints
 */

typedef enum nt_analyze_method {
    NT_ANALYZE_OCCLUSION = 1,
    NT_ANALYZE_PERTURB,
    NT_ANALYZE_SWEEP
} nt_analyze_method;

/* How perturb ranks features: exact central finite differences up to
 * 4096 elements (auto), always, or a noise-correlation estimate. */
typedef enum nt_analyze_ranking {
    NT_ANALYZE_RANKING_AUTO = 0,
    NT_ANALYZE_RANKING_EXACT,
    NT_ANALYZE_RANKING_NOISE
} nt_analyze_ranking;

#define NT_ANALYZE_MAX_SCALES 16

/* Called now and then during long analyses (done of total runs). */
typedef void (*nt_analyze_progress_fn)(void *user, const char *what, int64_t done, int64_t total);

typedef struct nt_analyze_options {
    nt_analyze_method method;
    const char *model_path;      /* only reported (NULL: the model's path) */
    const char *input;           /* the analyzed input (NULL: the first) */
    const char *output;          /* the watched output (NULL: the first) */
    const char *target;          /* flat index or comma coordinates (NULL: the argmax) */
    const char *layout;          /* the input's axes, N C H W or L each (NULL: by shape) */
    const char *out_dir;         /* maps, plots and analysis.json go here (NULL: none) */
    /* occlusion */
    int64_t window_h, window_w;  /* 0: about H/8 x W/8 */
    int64_t stride_h, stride_w;  /* 0: half the window */
    const char *baseline;        /* "mean" (per channel) or a number (NULL: "0") */
    /* perturb */
    int n_scales;                /* noise std as fractions of the input's std (0.01, 0.05, 0.1) */
    double scales[NT_ANALYZE_MAX_SCALES];
    int trials;                  /* runs per scale (20) */
    uint64_t seed;
    nt_analyze_ranking ranking;
    int top;                     /* features listed (10) */
    /* sweep */
    const char *feature;         /* flat index or comma coordinates (required) */
    bool has_range;              /* else the value +/- 3 input stds in 21 points */
    double lo, hi;
    int points;
    nt_analyze_progress_fn progress;
    void *progress_user;
    FILE *log;                   /* notes (a long exact ranking) (NULL: silent) */
} nt_analyze_options;

typedef struct nt_analyze_result nt_analyze_result;

/* The defaults above. */
NT_API void nt_analyze_options_init(nt_analyze_options *o);
/* Runs the analysis on s (a session of m with its inputs bound).
 * NT_ERR_INVALID_ARG for an input, output or target the model does not
 * have or a misused option; NT_ERR_SHAPE for a batch of more than one
 * sample or a layout that does not fit. */
NT_API nt_status nt_analyze_run(const nt_model *m, nt_session *s, const nt_analyze_options *o,
                                nt_analyze_result **out);
/* As `nntrace analyze --json` prints it (DIR/analysis.json), and as text. */
NT_API nt_status nt_analyze_result_json(const nt_analyze_result *r, char **out, size_t *len);
NT_API nt_status nt_analyze_result_text(const nt_analyze_result *r, char **out, size_t *len);
NT_API void nt_analyze_result_free(nt_analyze_result *r);

#ifdef __cplusplus
}
#endif
#endif
