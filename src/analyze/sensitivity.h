/*
 * sensitivity.h — the model analyzer behind `nntrace analyze`: how a model's
 * output moves when one input is changed.  Three methods share one "probe"
 * (a session, the analyzed input, the unperturbed output and a target score):
 *
 *   occlusion   slide a window over the input's spatial axes, replace it with
 *               a baseline, record the drop of the target score; the map is
 *               the mean drop over the windows covering each position
 *   perturb     Gaussian noise at several scales (statistics of the output
 *               change, class flips) and a per-feature sensitivity estimate
 *               (central finite differences, or a noise-correlation estimate
 *               for large inputs)
 *   sweep       vary one input feature over a range, record the outputs
 *
 * The target score is one element of one graph output: by default the
 * argmax of the unperturbed output (the predicted class of a classifier; the
 * only value of a one-value regression).
 *
 * Spatial layout: an input's axes are named by a layout string of the
 * letters N (batch, size 1), C (channels), H, W (image rows and columns) and
 * L (a sequence or feature axis).  Maps are over the spatial axes (H, W) or
 * (L); for 1-D inputs H is 1.  Everything here is single-threaded around the
 * session (which may use intra-op threads) and deterministic for a seed.
 */
#ifndef NT_SENSITIVITY_H
#define NT_SENSITIVITY_H

#include "core/core.h"

/* ---------------------------------------------------------------- layout */

typedef struct nt_layout {
    char spec[NT_MAX_DIMS + 1];   /* e.g. "NCHW", "HW", "NL" */
    int rank;
    int c_axis, h_axis, w_axis;   /* -1 when absent; a 1-D L axis is w_axis */
    int64_t C, H, W;              /* 1 for absent axes */
    int64_t cs, hs, ws;           /* element strides of those axes (0 when absent) */
    bool one_d;                   /* the spatial part is a single L axis */
} nt_layout;

/* Fills *out for an input of the given shape.  spec NULL or "" picks one:
 * rank 4 NCHW (NHWC when the last dim is <= 4 and the second > 4), rank 3
 * CHW (HWC likewise), rank 2 NL when the first dim is 1 else HW, rank 1 L.
 * An N axis must have size 1.  NT_ERR_SHAPE when the shape does not fit. */
nt_status nt_layout_init(const char *spec, int ndim, const int64_t *dims, nt_layout *out);

/* Flat element offset of (c, h, w) (the N coordinate is 0). */
static inline int64_t nt_layout_offset(const nt_layout *l, int64_t c, int64_t h, int64_t w)
{
    return c * l->cs + h * l->hs + w * l->ws;
}

/* ---------------------------------------------------------------- probe */

/* Called now and then during long analyses (done of total runs). */
typedef void (*nt_probe_progress_fn)(void *user, const char *what, int64_t done, int64_t total);

typedef struct nt_probe {
    nt_session *session;          /* borrowed; other inputs already bound */
    char *input_name;             /* the analyzed input (owned copy) */
    nt_tensor *base;              /* unperturbed input, owned */
    nt_tensor *work;              /* scratch input the methods edit, owned */
    double *base_f64;             /* base values as doubles (numel) */
    int64_t numel;
    int output_index;
    nt_tensor *base_out;          /* unperturbed output, owned */
    int64_t out_numel;
    int64_t target;               /* flat index into the output */
    bool target_is_default;       /* chosen as the argmax */
    double base_score;            /* base_out[target] */
    int64_t base_argmax;          /* predicted class of the unperturbed output */
    int64_t runs;                 /* model runs so far, the base run included */
    double run_ms;                /* time spent in those runs */
    nt_probe_progress_fn progress;
    void *progress_user;
} nt_probe;

/*
 * Binds x to input_name, runs once and records the unperturbed output
 * output_index.  target < 0 picks the argmax; otherwise it must index the
 * output (flat).  x must be float32, float64 or float16 with at least one
 * element (NT_ERR_UNSUPPORTED otherwise); the output must be numeric.
 * On failure *p is left deinit-able.
 */
nt_status nt_probe_init(nt_probe *p, nt_session *s, const char *input_name, const nt_tensor *x,
                        int output_index, int64_t target);
void nt_probe_deinit(nt_probe *p);

/* Copies the base values into p->work (undoing every edit). */
void nt_probe_reset(nt_probe *p);

/* Runs the model on p->work; *out borrows the output (valid until the next
 * run).  Counts the run and reports progress. */
nt_status nt_probe_run(nt_probe *p, const nt_tensor **out);

/* The target element of an output tensor, and its flat argmax. */
double nt_probe_score(const nt_probe *p, const nt_tensor *out);
int64_t nt_tensor_argmax(const nt_tensor *t);

/* Population standard deviation of the base input's values (0 if constant). */
double nt_probe_input_std(const nt_probe *p);

/* A small seedable generator (splitmix64) and standard normal draws
 * (Box-Muller, one value per call, the second one cached). */
typedef struct nt_rng {
    uint64_t state;
    bool has_spare;
    double spare;
} nt_rng;
void nt_rng_seed(nt_rng *r, uint64_t seed);
uint64_t nt_rng_u64(nt_rng *r);
double nt_rng_normal(nt_rng *r);

/* ---------------------------------------------------------------- occlusion */

typedef enum nt_baseline_kind {
    NT_BASELINE_VALUE = 0,        /* a constant (default 0) */
    NT_BASELINE_MEAN              /* the input's mean, per channel */
} nt_baseline_kind;

typedef struct nt_occlusion_options {
    int64_t win_h, win_w;         /* 0: about H/8, W/8 (at least 1) */
    int64_t stride_h, stride_w;   /* 0: half the window (at least 1) */
    nt_baseline_kind baseline;
    double baseline_value;
} nt_occlusion_options;

typedef struct nt_occlusion_result {
    int64_t H, W;                 /* map size (H == 1 for 1-D inputs) */
    float *map;                   /* H x W mean drop of the target score */
    int64_t win_h, win_w, stride_h, stride_w;   /* as used */
    int64_t windows;              /* model runs for the windows */
    double map_min, map_max;
    int64_t best_y, best_x;       /* top-left corner of the window with the largest drop */
    double best_drop;             /* base score minus the score with that window occluded */
    double worst_drop;            /* the smallest (most negative: occluding raised the score) */
} nt_occlusion_result;

/* Window and stride defaults for a layout (fills the zero fields of *o). */
void nt_occlusion_defaults(const nt_layout *l, nt_occlusion_options *o);

/* Occludes every window position (the last position in each axis is moved
 * flush with the edge so every element is covered).  NT_ERR_INVALID_ARG when
 * the window does not fit. */
nt_status nt_occlusion_run(nt_probe *p, const nt_layout *l, const nt_occlusion_options *o,
                           nt_occlusion_result *out);
void nt_occlusion_result_deinit(nt_occlusion_result *r);

/* ---------------------------------------------------------------- perturb */

typedef enum nt_ranking_kind {
    NT_RANKING_AUTO = 0,          /* exact when numel <= NT_PERTURB_EXACT_MAX */
    NT_RANKING_EXACT,             /* central finite differences, 2 runs per feature */
    NT_RANKING_NOISE              /* noise-correlation (Stein) estimate from the trials */
} nt_ranking_kind;

#define NT_PERTURB_EXACT_MAX 4096
#define NT_PERTURB_MAX_SCALES 16

typedef struct nt_perturb_options {
    int n_scales;
    double scales[NT_PERTURB_MAX_SCALES];   /* noise std as a fraction of the input's std */
    int trials;                   /* per scale */
    uint64_t seed;
    nt_ranking_kind ranking;
} nt_perturb_options;

typedef struct nt_perturb_scale {
    double scale;                 /* as given */
    double sigma;                 /* absolute noise std: scale * input std */
    int trials;
    double mean_abs_dtarget, max_abs_dtarget, mean_dtarget, std_dtarget;
    double mean_abs_doutput;      /* mean over trials of mean_i |y'_i - y_i| */
    int flips;                    /* trials whose argmax differed from the base */
} nt_perturb_scale;

typedef struct nt_perturb_result {
    int n_scales;
    nt_perturb_scale scales[NT_PERTURB_MAX_SCALES];
    double input_std;             /* of the base input (1 used when it was 0) */
    bool input_std_fallback;      /* the input was constant: sigma based on 1 */
    bool exact;                   /* ranking from finite differences */
    double fd_step;               /* finite-difference half step (exact) */
    int64_t numel;
    double *grad;                 /* numel: signed d target / d x_i estimate */
    int64_t *order;               /* numel flat indices, most sensitive first */
    int64_t runs;                 /* model runs for this analysis */
} nt_perturb_result;

nt_status nt_perturb_run(nt_probe *p, const nt_perturb_options *o, nt_perturb_result *out);
void nt_perturb_result_deinit(nt_perturb_result *r);

/* Per-position map from per-element values: sum over channels of |v| at
 * each (h, w).  map has l->H * l->W floats. */
void nt_layout_spatial_sum_abs(const nt_layout *l, const double *v, float *map);

/* ---------------------------------------------------------------- sweep */

typedef struct nt_sweep_options {
    int64_t feature;              /* flat index into the input */
    double lo, hi;
    int n;                        /* points, lo and hi included (n >= 2, or 1: lo only) */
    int max_outputs;              /* output columns recorded (<= out numel), 0: 10 */
} nt_sweep_options;

typedef struct nt_sweep_result {
    int n;
    double *values;               /* n */
    double *target;               /* n: target score at each value */
    int n_out;                    /* recorded output elements (the first n_out) */
    double *outputs;              /* n x n_out */
    double original;              /* the feature's unperturbed value */
    int64_t feature;
} nt_sweep_result;

nt_status nt_sweep_run(nt_probe *p, const nt_sweep_options *o, nt_sweep_result *out);
void nt_sweep_result_deinit(nt_sweep_result *r);

/* Parses a feature as a flat index ("37") or comma coordinates ("0,0,3,5",
 * one per input axis) into a flat index; NT_ERR_INVALID_ARG if malformed or
 * out of range (message says which). */
nt_status nt_feature_parse(const char *s, int ndim, const int64_t *dims, int64_t *flat);
/* Coordinates of a flat index as "0,0,3,5" into buf. */
void nt_feature_format(int64_t flat, int ndim, const int64_t *dims, char *buf, size_t len);

/* ---------------------------------------------------------------- rendering */

/*
 * Writes an H x W map as a PNG heatmap (each entry a square block so small
 * maps are at least ~256 pixels wide; 1-D maps as a strip).  signed_map uses
 * the blue-white-red map symmetric around 0, else viridis.
 */
nt_status nt_sens_heatmap_png(const char *path, const float *map, int64_t H, int64_t W, bool signed_map);

/*
 * Writes the map blended over the input image (layout with 1 or 3 channels,
 * normalized to its own min..max and shown in gray), the map's color at an
 * opacity that grows with |value|.  The map must be H x W of the layout.
 */
nt_status nt_sens_overlay_png(const char *path, const float *map, const nt_layout *l, const double *image,
                              bool signed_map);

/* True when an input of this layout is worth drawing as a picture. */
bool nt_layout_is_image(const nt_layout *l);

/* Writes the sweep as CSV (value, target, then one column per recorded
 * output element named out_name[i]) and as an SVG line plot. */
nt_status nt_sweep_write_csv(const char *path, const nt_sweep_result *r, const char *out_name, int64_t target);
nt_status nt_sweep_write_svg(const char *path, const nt_sweep_result *r, const char *feature_label,
                             const char *out_name, int64_t target);

#endif /* NT_SENSITIVITY_H */
