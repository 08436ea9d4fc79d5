/*
 * curves.h — diagnosis of training curves (loss and metric series read from
 * event files) for `nntrace report`: robust smoothing and noise estimates,
 * recognizing what a tag measures and which tags pair up as training and
 * validation, and the findings themselves — overfitting onset,
 * generalization gap, divergence (rising or non-finite loss), plateau,
 * oscillation, and train/validation size checks.
 *
 * Every test compares a change against the curve's own noise, estimated
 * robustly (median absolute deviation of successive differences), and
 * against the progress the curve made, so that a noisy healthy run stays
 * quiet while a real onset is found near where it happens.  Curves are
 * analysed on their finite points; non-finite values are findings of their
 * own.
 */
#ifndef NT_CURVES_H
#define NT_CURVES_H

#include "core/core.h"

/* One scalar series: n points ordered by step, one value per step. */
typedef struct nt_series {
    const char *tag;
    int64_t n;
    const int64_t *steps;
    const double *values;
} nt_series;

typedef enum nt_curve_severity {
    NT_CURVE_INFO = 0,
    NT_CURVE_WARNING,
    NT_CURVE_ERROR
} nt_curve_severity;

const char *nt_curve_severity_name(nt_curve_severity s);

typedef struct nt_curve_finding {
    char kind[32];          /* "overfitting", "divergence", "plateau", ... */
    nt_curve_severity severity;
    char tag[256];          /* the curve it is about (the validation tag for pairs) */
    char train_tag[256];    /* pairs: the training curve; "" otherwise */
    bool has_step;
    int64_t step;           /* where it starts (onset, first NaN, plateau start) */
    double value;           /* the headline number (rise, gap, size, ...) */
    char detail[512];
} nt_curve_finding;

typedef struct nt_curve_findings {
    int n, cap;
    nt_curve_finding *v;
} nt_curve_findings;

void nt_curve_findings_init(nt_curve_findings *f);
void nt_curve_findings_deinit(nt_curve_findings *f);
/* Appends a zeroed finding with kind, severity and tag set; NULL if out of memory. */
nt_curve_finding *nt_curve_findings_add(nt_curve_findings *f, const char *kind, nt_curve_severity sev, const char *tag);
/* Highest severity present (INFO when empty). */
nt_curve_severity nt_curve_findings_max(const nt_curve_findings *f);

/* ---------------------------------------------------------------- smoothing */

/* Half-width of the smoothing window for a series of n points: about a
 * twentieth of the series, 0 for very short ones, at most 25. */
int nt_curve_half_window(int64_t n);

/* Running median of width 2*half+1 (shrinking at the ends), then a running
 * mean of the same width: the median takes out spikes, the mean the rest of
 * the noise, and a V-shaped minimum stays where it is.  x must be finite. */
nt_status nt_curve_smooth(const double *x, int64_t n, int half, double *out);

/* Robust noise level of a series: 1.4826 * MAD of successive differences /
 * sqrt(2), i.e. the standard deviation of white noise around a trend that
 * moves slowly compared with the noise.  0 for fewer than 3 points. */
double nt_curve_noise(const double *x, int64_t n);

/* ---------------------------------------------------------------- tags */

typedef enum nt_tag_kind {
    NT_TAG_OTHER = 0,
    NT_TAG_LOSS,     /* lower is better: loss, error, mse, perplexity, ... */
    NT_TAG_SCORE     /* higher is better: accuracy, f1, auc, ... */
} nt_tag_kind;

typedef enum nt_tag_split {
    NT_SPLIT_NONE = 0,
    NT_SPLIT_TRAIN,
    NT_SPLIT_VAL
} nt_tag_split;

nt_tag_kind nt_tag_kind_of(const char *tag);
/* Which split a tag names through one of its words (train/training;
 * val/valid/validation/eval/dev). */
nt_tag_split nt_tag_split_of(const char *tag);

/*
 * True if val_tag is the validation counterpart of train_tag by convention:
 * the tags are equal except for one word, a training word in train_tag
 * (train, training) and a validation word in val_tag (val, valid,
 * validation, eval, dev) — loss/train and loss/val, train_loss and val_loss,
 * epoch_loss/training and epoch_loss/validation, train/loss and eval/loss —
 * or val_tag is train_tag prefixed with a validation word (Keras's loss and
 * val_loss).  Case-insensitive; separators are / _ - . and space.
 */
bool nt_tag_is_pair(const char *train_tag, const char *val_tag);

/* Tags that log data sizes: the number of training or validation samples
 * (data/train_size, n_val, num_validation_samples, ntrain, ...) or the
 * fraction the split declares (validation_split, split/val_fraction,
 * train_ratio ...).  Tags that measure a loss or score are never sizes. */
typedef enum nt_tag_size {
    NT_SIZE_NONE = 0,
    NT_SIZE_TRAIN,
    NT_SIZE_VAL,
    NT_FRACTION_TRAIN,
    NT_FRACTION_VAL
} nt_tag_size;

nt_tag_size nt_tag_size_of(const char *tag);

/* ---------------------------------------------------------------- analysis */

/*
 * A training/validation pair of the same quantity (kind LOSS or SCORE):
 *  - overfitting (warning): validation gets significantly worse after its
 *    best point while training keeps improving; step = the onset (the best
 *    validation step, where it starts to get worse);
 *  - generalization_gap (warning when large, else info): validation minus
 *    training at the end (training minus validation for scores).
 * Appends findings; NT_OK also when nothing is found.
 */
nt_status nt_curve_analyze_pair(const nt_series *train, const nt_series *val, nt_tag_kind kind,
                                nt_curve_findings *out);

/*
 * One loss curve (training, or not paired):
 *  - divergence (error): a NaN/Inf value (step = the first), or a loss that
 *    climbs back far above its best (step = where it starts rising);
 *  - rising (warning): a smaller but significant, sustained rise;
 *  - plateau: the loss stays within its noise band from some step to the
 *    end — a warning when little was learned before it (the loss is still
 *    above half its starting value), info otherwise;
 *  - oscillation (warning): swings large against the progress made, as a
 *    too-high learning rate gives.
 * With trends false only the non-finite check runs (validation curves whose
 * trends the pair analysis covers).
 */
nt_status nt_curve_analyze_single(const nt_series *s, bool trends, nt_curve_findings *out);

/*
 * Train/validation sizes as logged: warns when the validation set is tiny
 * (fewer than 50 samples or under 1% of the data) and when a declared
 * validation fraction (NaN if none) does not match the sizes.  Always adds
 * an info finding with the sizes.
 */
nt_status nt_curve_check_sizes(double n_train, double n_val, double declared_val_fraction, const char *tag,
                               nt_curve_findings *out);

/* ---------------------------------------------------------------- a set of curves */

/* A training/validation pair: indices into a series array. */
typedef struct nt_curve_pair {
    int train, val;
    nt_tag_kind kind;  /* LOSS or SCORE */
} nt_curve_pair;

/* Pairs the series by tag convention (nt_tag_is_pair; each series in at
 * most one pair).  pairs has room for n entries. */
nt_status nt_curve_find_pairs(const nt_series *s, int n, nt_curve_pair *pairs, int *n_pairs);

/*
 * Every analysis over a set of curves, in a fixed order: each pair
 * (nt_curve_analyze_pair), each loss and score curve
 * (nt_curve_analyze_single; trends for losses that are not a pair's
 * validation curve), and the logged data sizes (nt_curve_check_sizes).
 * Each series must be ordered by step with one value per step
 * (nt_series_last_per_step).  The one rule behind every onset nntrace
 * names: `report` and the dashboard both call this.
 */
nt_status nt_curve_analyze_set(const nt_series *s, int n, const nt_curve_pair *pairs, int n_pairs,
                               nt_curve_findings *out);

/* Keeps the last value written at each step of a series ordered by step
 * (equal steps in the order written: a restarted program's later value
 * wins).  Writes at most n points to the outputs (which may be the inputs)
 * and returns how many. */
int64_t nt_series_last_per_step(const int64_t *steps, const double *values, int64_t n, int64_t *out_steps,
                                double *out_values);

#endif /* NT_CURVES_H */
