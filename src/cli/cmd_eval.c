/*
 * cmd_eval.c — `nntrace eval MODEL --data X.npy --labels Y.npy`: runs a
 * model over a labelled data set and reports how well it does.
 *
 * Samples lie along axis 0 of X.  When the model's input has a dynamic
 * batch dimension the samples run in batches (--batch N, default 32); a
 * fixed batch dimension B > 1 runs batches of B with the last one padded;
 * otherwise one sample at a time.  The model's output (--output NAME when
 * there are several) is read per sample as
 *   - K >= 2 scores: a multiclass classifier, logits or probabilities
 *     (detected: rows in [0,1] summing to 1 are probabilities; or
 *     --outputs logits|probs), predicted class = argmax;
 *   - 1 score: a binary classifier (probability, or a logit when outside
 *     [0,1]), positive when the probability >= --threshold;
 *   - an integer output: predicted labels as they are;
 *   - with --task regression: predictions compared with float targets.
 * The metrics live in src/metrics/metrics.h; this file gathers outputs,
 * prints, writes eval.json and the event-file summaries of a run directory.
 */
#include "cli/cli_model.h"
#include "cli/cli_trace.h"
#include "core/core.h"
#include "metrics/metrics.h"
#include "onnx/pbw.h"
#include "trace/tfevents.h"
#include "viz/png.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char nt_usage_eval[] =
    "usage: nntrace eval MODEL --data X.npy --labels Y.npy|Y.csv [--batch N] [--output NAME]\n"
    "                    [--outputs logits|probs] [--threshold T] [--task classify|regression]\n"
    "                    [--normalize true|pred|all] [--worst K] [--run-dir DIR] [--json]\n"
    "\n"
    "Runs MODEL over the samples of X (axis 0) and compares its outputs with the labels:\n"
    "accuracy, confusion matrix, per-class precision/recall/F1/support with macro and\n"
    "weighted averages (numbers and layout as scikit-learn's classification_report),\n"
    "mean cross-entropy (softmax applied to logits), ROC AUC and average precision for\n"
    "binary tasks; MSE, MAE, RMSE and R² for regression.\n"
    "\n"
    "  --data X.npy       samples along axis 0 (.npy or TensorProto .pb)\n"
    "  --data-input NAME  the graph input X binds to (default: the first)\n"
    "  --labels FILE      integer class labels (.npy of any integer or integral float type,\n"
    "                     or one-hot rows), or CSV (one label per line, optional header;\n"
    "                     the column named label/target/y/class, else the last column)\n"
    "  --label-column C   CSV column to use, by name or 0-based index\n"
    "  --batch N          samples per run when the batch dimension is dynamic (default 32)\n"
    "  --output NAME      the graph output to score (default: the first float output)\n"
    "  --outputs KIND     logits or probs (default: detected from the values)\n"
    "  --threshold T      binary tasks: positive when P(positive) >= T (default 0.5)\n"
    "  --task KIND        classify (default) or regression\n"
    "  --normalize HOW    also show the confusion matrix normalized by true (rows), pred\n"
    "                     (columns) or all\n"
    "  --class-names A,B  names for the classes in the report\n"
    "  --zero-division V  precision/recall/F1 when undefined: 0 (default), 1 or nan\n"
    "  --digits N         decimals in the classification report (default 2)\n"
    "  --worst K          list the K samples with the highest loss\n"
    "  --step N           the step the summaries are logged at in the run directory (0)\n"
    "  --run-dir DIR      record the evaluation: DIR/eval.json, DIR/confusion_matrix.png,\n"
    "                     and in the event file scalars eval/*, the confusion matrix as an\n"
    "                     image and a text table, the classification report, and the PR\n"
    "                     curve (TensorBoard's pr_curves layout) for binary tasks\n"
    "                     (with --trace, the traces go there too)\n"
    "  --json             print the results as JSON: {\"accuracy\", \"loss\", \"classes\",\n"
    "                     \"confusion\" (rows true, columns predicted), \"per_class\":\n"
    "                     [{\"precision\", \"recall\", \"f1\", \"support\"}], ...}\n"
    NT_CLI_INPUT_HELP
    NT_CLI_TRACE_KIND_HELP
    "\n"
    "exit codes: 0 ok, 1 usage error, 2 bad model, data or labels (a label outside the\n"
    "model's classes, sizes that differ, outputs of the wrong shape).\n";

enum { TASK_CLASSIFY = 0, TASK_REGRESSION };
enum { KIND_AUTO = 0, KIND_LOGITS, KIND_PROBS, KIND_LABELS };

typedef struct eval_opts {
    const char *model, *data, *data_input, *labels, *label_column, *output, *class_names;
    int batch, task, kind, worst, digits;
    bool batch_given, json;
    double threshold, zero_division;
    int64_t step;
    nt_normalize normalize;
    nt_cli_inputs in;
    nt_cli_trace trace;
    char cmdline[2048];
} eval_opts;

/* What the runs produced: n samples x c values of the chosen output. */
typedef struct gathered {
    int out_index;
    const char *out_name;
    bool int_output;
    int64_t n, c;
    double *v;
    int runs;
    double ms;
} gathered;

/* ---------------------------------------------------------------- options */

static int parse_args(int argc, char **argv, eval_opts *o)
{
    o->batch = 32;
    o->threshold = 0.5;
    o->digits = 2;
    for (int i = 1; i < argc; i++) {
        int r = nt_cli_parse_input_opt("eval", argc, argv, &i, &o->in);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        r = nt_cli_parse_trace_opt("eval", argc, argv, &i, &o->trace);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        long long n;
        double d;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (a[0] == '-' && a[1] == '-' && !has_val &&
                   strcmp(a, "--json") != 0) {
            return nt_cli_usage_error("eval", "%s needs a value (or is unknown)", a);
        } else if (strcmp(a, "--data") == 0) {
            o->data = argv[++i];
        } else if (strcmp(a, "--data-input") == 0) {
            o->data_input = argv[++i];
        } else if (strcmp(a, "--labels") == 0) {
            o->labels = argv[++i];
        } else if (strcmp(a, "--label-column") == 0) {
            o->label_column = argv[++i];
        } else if (strcmp(a, "--output") == 0) {
            o->output = argv[++i];
        } else if (strcmp(a, "--class-names") == 0) {
            o->class_names = argv[++i];
        } else if (strcmp(a, "--batch") == 0) {
            if (!nt_cli_parse_int(argv[++i], &n) || n < 1 || n > 1000000)
                return nt_cli_usage_error("eval", "--batch needs a count from 1 to 1000000");
            o->batch = (int)n;
            o->batch_given = true;
        } else if (strcmp(a, "--worst") == 0) {
            if (!nt_cli_parse_int(argv[++i], &n) || n < 0 || n > 1000000)
                return nt_cli_usage_error("eval", "--worst needs a count");
            o->worst = (int)n;
        } else if (strcmp(a, "--digits") == 0) {
            if (!nt_cli_parse_int(argv[++i], &n) || n < 0 || n > 15)
                return nt_cli_usage_error("eval", "--digits needs 0 to 15");
            o->digits = (int)n;
        } else if (strcmp(a, "--step") == 0) {
            if (!nt_cli_parse_int(argv[++i], &n))
                return nt_cli_usage_error("eval", "--step needs an integer");
            o->step = n;
        } else if (strcmp(a, "--threshold") == 0) {
            if (!nt_cli_parse_double(argv[++i], &d) || !(d >= 0 && d <= 1))
                return nt_cli_usage_error("eval", "--threshold needs a probability in [0, 1]");
            o->threshold = d;
        } else if (strcmp(a, "--zero-division") == 0) {
            const char *v = argv[++i];
            if (strcmp(v, "nan") == 0)
                o->zero_division = NAN;
            else if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)
                o->zero_division = v[0] - '0';
            else
                return nt_cli_usage_error("eval", "--zero-division takes 0, 1 or nan");
        } else if (strcmp(a, "--outputs") == 0) {
            const char *v = argv[++i];
            if (strcmp(v, "logits") == 0)
                o->kind = KIND_LOGITS;
            else if (strcmp(v, "probs") == 0 || strcmp(v, "probabilities") == 0)
                o->kind = KIND_PROBS;
            else
                return nt_cli_usage_error("eval", "--outputs takes logits or probs");
        } else if (strcmp(a, "--task") == 0) {
            const char *v = argv[++i];
            if (strcmp(v, "regression") == 0)
                o->task = TASK_REGRESSION;
            else if (strcmp(v, "classify") == 0 || strcmp(v, "classification") == 0)
                o->task = TASK_CLASSIFY;
            else
                return nt_cli_usage_error("eval", "--task takes classify or regression");
        } else if (strcmp(a, "--normalize") == 0) {
            if (!nt_normalize_parse(argv[++i], &o->normalize))
                return nt_cli_usage_error("eval", "--normalize takes true, pred or all");
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("eval", "unknown option '%s'", a);
        } else if (!o->model) {
            o->model = a;
        } else {
            return nt_cli_usage_error("eval", "unexpected argument '%s'", a);
        }
    }
    if (!o->model)
        return nt_cli_usage_error("eval", "no MODEL given");
    if (!o->data || !o->labels)
        return nt_cli_usage_error("eval", "--data X.npy and --labels Y.npy are required");
    o->trace.reports_to_stderr = o->json;
    return NT_EXIT_OK;
}

/* ---------------------------------------------------------------- labels */

static bool is_number(const char *s, double *v)
{
    char *end;
    while (isspace((unsigned char)*s) || *s == '"')
        s++;
    if (!*s)
        return false;
    *v = strtod(s, &end);
    while (isspace((unsigned char)*end) || *end == '"')
        end++;
    return end != s && *end == '\0';
}

/* Splits one CSV line in place on commas (no quoted commas: labels are numbers). */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

static nt_status load_labels_csv(const char *path, const char *column, double **out, int64_t *n_out)
{
    char *text;
    size_t len;
    nt_status st = nt_read_file(path, &text, &len);
    if (st != NT_OK)
        return st;
    double *v = NULL;
    int64_t n = 0, cap = 0, line_no = 0;
    int col = -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        line_no++;
        char *fields[256];
        int nf = split_fields(line, fields, 256);
        if (nf == 1 && !*fields[0])
            continue;
        double x;
        if (col < 0) {
            /* the first line decides the column, and whether it is a header */
            bool header = false;
            for (int i = 0; i < nf; i++)
                header |= !is_number(fields[i], &x);
            col = nf - 1;
            if (column) {
                long long idx;
                if (nt_cli_parse_int(column, &idx))
                    col = (int)idx;
                else {
                    col = -2;
                    for (int i = 0; header && i < nf; i++) {
                        char *f = fields[i];
                        while (*f == ' ' || *f == '"')
                            f++;
                        if (strncmp(f, column, strlen(column)) == 0)
                            col = i;
                    }
                }
            } else if (header) {
                static const char *const names[] = {"label", "labels", "target", "y", "class", "truth", NULL};
                for (int i = nf - 1; i >= 0; i--)
                    for (int k = 0; names[k]; k++)
                        if (strcasecmp(fields[i], names[k]) == 0)
                            col = i;
            }
            if (col < 0 || col >= nf) {
                free(text);
                return nt_error(NT_ERR_PARSE, "%s: no column '%s' in the first line", path, column ? column : "");
            }
            if (header)
                continue;
        }
        if (col >= nf || !is_number(fields[col], &x)) {
            free(v);
            free(text);
            return nt_error(NT_ERR_PARSE, "%s:%lld: column %d is not a number", path, (long long)line_no, col);
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            double *nv = nt_realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) {
                free(v);
                free(text);
                return NT_ERR_NOMEM;
            }
            v = nv;
        }
        v[n++] = x;
    }
    free(text);
    *out = v;
    *n_out = n;
    return NT_OK;
}

/* Labels as doubles, n x d (d = 1 for class labels and 1-D targets).  One-hot
 * rows (classification, 2-D) become class indices. */
static int load_labels(const eval_opts *o, double **out, int64_t *n, int64_t *d)
{
    size_t plen = strlen(o->labels);
    *out = NULL;
    *d = 1;
    if (plen > 4 && strcasecmp(o->labels + plen - 4, ".csv") == 0) {
        nt_status st = load_labels_csv(o->labels, o->label_column, out, n);
        return st == NT_OK ? NT_EXIT_OK : (nt_cli_fail(st), NT_EXIT_BAD_INPUT);
    }
    nt_tensor *t;
    nt_status st = nt_tensor_load(o->labels, &t);
    if (st != NT_OK) {
        nt_cli_fail(st);
        return NT_EXIT_BAD_INPUT;
    }
    if (!nt_dtype_is_numeric(t->dtype) || t->ndim > 2 || nt_tensor_numel(t) < 1) {
        fprintf(stderr, "nntrace eval: %s: labels must be a numeric array of shape (N,) or (N, K)\n", o->labels);
        nt_tensor_free(t);
        return NT_EXIT_BAD_INPUT;
    }
    *n = t->ndim == 0 ? 1 : t->dims[0];
    int64_t cols = t->ndim == 2 ? t->dims[1] : 1;
    bool onehot = o->task == TASK_CLASSIFY && cols > 1;
    *d = onehot ? 1 : cols;
    *out = nt_malloc((size_t)(*n) * (size_t)(*d) * sizeof(double));
    if (!*out) {
        nt_tensor_free(t);
        return nt_cli_fail(NT_ERR_NOMEM);
    }
    for (int64_t i = 0; i < *n; i++) {
        if (!onehot) {
            for (int64_t j = 0; j < cols; j++)
                (*out)[i * cols + j] = nt_tensor_get_f64(t, i * cols + j);
            continue;
        }
        int64_t best = 0;
        for (int64_t j = 1; j < cols; j++)
            if (nt_tensor_get_f64(t, i * cols + j) > nt_tensor_get_f64(t, i * cols + best))
                best = j;
        (*out)[i] = (double)best;
    }
    nt_tensor_free(t);
    return NT_EXIT_OK;
}

/* ---------------------------------------------------------------- running */

/* Finds the output to score: --output NAME, else the only one, else the
 * first float output (saying so). */
static int pick_output(const eval_opts *o, const nt_model *m, gathered *g)
{
    int n = nt_model_output_count(m);
    g->out_index = -1;
    for (int i = 0; i < n; i++) {
        nt_value_info vi;
        if (nt_model_output_info(m, i, &vi) != NT_OK)
            continue;
        if (o->output ? strcmp(vi.name, o->output) == 0
                      : (n == 1 || vi.dtype == NT_DTYPE_UNDEFINED || nt_dtype_is_float(vi.dtype))) {
            g->out_index = i;
            g->out_name = vi.name;
            break;
        }
    }
    if (g->out_index < 0 && !o->output && n > 0) {
        nt_value_info vi;
        nt_model_output_info(m, 0, &vi);
        g->out_index = 0;
        g->out_name = vi.name;
    }
    if (g->out_index < 0) {
        fprintf(stderr, "nntrace eval: the model has no output named '%s'; its outputs:\n", o->output ? o->output : "");
        for (int i = 0; i < n; i++) {
            nt_value_info vi;
            if (nt_model_output_info(m, i, &vi) == NT_OK)
                fprintf(stderr, "  %s %s\n", vi.name, nt_dtype_name(vi.dtype));
        }
        return NT_EXIT_USAGE;
    }
    if (n > 1 && !o->output)
        fprintf(stderr, "nntrace eval: the model has %d outputs; scoring '%s' (choose with --output NAME)\n", n,
                g->out_name);
    return NT_EXIT_OK;
}

/* Appends the output of one run holding `b` samples (`real` of them real,
 * the rest padding) to g.  `batched`: the output's first dim is the batch. */
static int gather_output(nt_session *s, gathered *g, int64_t b, int64_t real, bool batched)
{
    const nt_tensor *t;
    nt_status st = nt_session_get_output(s, g->out_index, &t);
    if (st != NT_OK)
        return nt_cli_fail(st);
    int64_t numel = nt_tensor_numel(t);
    if (batched && (t->ndim < 1 || t->dims[0] != b)) {
        char desc[128];
        nt_tensor_describe(t, desc, sizeof desc);
        fprintf(stderr, "nntrace eval: output '%s' is %s for a batch of %lld: its first dimension should be the batch\n",
                g->out_name, desc, (long long)b);
        return NT_EXIT_BAD_INPUT;
    }
    int64_t per = numel / b;
    if (g->c == 0) {
        g->c = per;
        g->int_output = !nt_dtype_is_float(t->dtype);
    }
    if (per != g->c || per < 1) {
        fprintf(stderr, "nntrace eval: output '%s' has %lld values per sample after %lld samples had %lld\n",
                g->out_name, (long long)per, (long long)g->n, (long long)g->c);
        return NT_EXIT_BAD_INPUT;
    }
    for (int64_t i = 0; i < real * per; i++)
        g->v[g->n * per + i] = nt_tensor_get_f64(t, i);
    g->n += real;
    return NT_EXIT_OK;
}

/* Runs the model over every sample of x, gathering the chosen output. */
static int run_all(const eval_opts *o, const nt_model *m, nt_session *s, const nt_tensor *x, gathered *g)
{
    nt_value_info vi;
    int idx = 0;
    if (o->data_input) {
        idx = -1;
        for (int i = 0; i < nt_model_input_count(m); i++)
            if (nt_model_input_info(m, i, &vi) == NT_OK && strcmp(vi.name, o->data_input) == 0)
                idx = i;
        if (idx < 0)
            return nt_cli_usage_error("eval", "the model has no input named '%s'", o->data_input);
    }
    if (nt_model_input_info(m, idx, &vi) != NT_OK)
        return nt_cli_usage_error("eval", "the model has no inputs");
    int64_t n = x->dims[0];
    size_t stride = n ? nt_tensor_nbytes(x) / (size_t)n : 0;
    /* how samples are bound: with the batch dimension (same rank as X) or
     * without it (the input's rank is one less) */
    bool same_rank = vi.ndim < 0 || vi.ndim == x->ndim;
    int64_t batch = 1;
    bool pad = false;
    if (same_rank && vi.ndim > 0 && vi.dims[0] < 0) {
        batch = o->batch;
    } else if (same_rank && vi.ndim > 0 && vi.dims[0] > 1) {
        batch = vi.dims[0];
        pad = true;
    } else if (o->batch_given && o->batch > 1) {
        fprintf(stderr, "nntrace eval: input '%s' has no dynamic batch dimension; running one sample at a time\n",
                vi.name);
    }
    if (!same_rank && vi.ndim != x->ndim - 1)
    {
        /* bad data, not a bad command line: exit 2 as for a wrong shape or dtype */
        fprintf(stderr, "nntrace eval: %s has rank %d but input '%s' has rank %d (samples along axis 0 of the "
                "input's shape, or the input's shape itself)\n", o->data, x->ndim, vi.name, vi.ndim);
        return NT_EXIT_BAD_INPUT;
    }
    g->v = NULL;
    char *padbuf = NULL;
    nt_tensor slice = *x;
    slice.flags = 0;
    if (!same_rank) {
        slice.ndim = x->ndim - 1;
        memmove(slice.dims, x->dims + 1, sizeof(int64_t) * (size_t)slice.ndim);
    }
    int code = NT_EXIT_OK;
    double t0 = nt_now_ms();
    int64_t progress = n >= 2000 ? n / 10 : 0, next_progress = progress;
    for (int64_t i = 0; i < n && code == NT_EXIT_OK; i += batch) {
        int64_t real = NT_MIN(batch, n - i);
        int64_t b = pad ? batch : real;
        slice.data = (char *)x->data + (size_t)i * stride;
        if (same_rank)
            slice.dims[0] = b;
        if (pad && real < batch) {
            /* a fixed batch size: fill the tail with copies of the last sample */
            padbuf = nt_malloc((size_t)batch * stride);
            if (!padbuf)
                return nt_cli_fail(NT_ERR_NOMEM);
            for (int64_t k = 0; k < batch; k++)
                memcpy(padbuf + (size_t)k * stride, (char *)x->data + (size_t)(i + NT_MIN(k, real - 1)) * stride,
                       stride);
            slice.data = padbuf;
        }
        nt_status st = nt_session_set_input(s, vi.name, &slice);
        if (st == NT_OK)
            st = nt_session_run(s);
        if (st != NT_OK) {
            fprintf(stderr, "nntrace eval: samples %lld..%lld of %s: ", (long long)i, (long long)(i + real - 1),
                    o->data);
            code = nt_cli_fail(st);
            break;
        }
        g->runs++;
        if (!g->v) {
            /* the first run tells how many values a sample has */
            const nt_tensor *t;
            if (nt_session_get_output(s, g->out_index, &t) != NT_OK)
                return nt_cli_fail(NT_ERR_NOT_FOUND);
            int64_t per = NT_MAX((int64_t)1, nt_tensor_numel(t) / NT_MAX(b, (int64_t)1));
            g->v = nt_calloc((size_t)n * (size_t)per + 1, sizeof *g->v);
            if (!g->v)
                return nt_cli_fail(NT_ERR_NOMEM);
        }
        code = gather_output(s, g, b, real, same_rank && (batch > 1 || pad || vi.dims[0] < 0));
        if (progress && i + real >= next_progress) {
            fprintf(stderr, "nntrace eval: %lld/%lld samples\n", (long long)(i + real), (long long)n);
            next_progress += progress;
        }
    }
    free(padbuf);
    g->ms = nt_now_ms() - t0;
    return code;
}

/* ---------------------------------------------------------------- results */

typedef struct results {
    int task;               /* TASK_* */
    bool binary;            /* one score per sample */
    int kind;               /* KIND_LOGITS / PROBS / LABELS */
    int k;                  /* classes */
    int64_t n;
    int *truth, *pred;
    double *loss;           /* per sample */
    double *pos_score;      /* binary tasks: P(positive) */
    double mean_loss, accuracy, auc, ap;
    bool have_rank;
    nt_confusion conf;
    nt_class_report rep;
    nt_pr_curve pr;
    nt_regression reg;
    char **names;
} results;

static void results_free(results *r)
{
    free(r->truth);
    free(r->pred);
    free(r->loss);
    free(r->pos_score);
    nt_confusion_deinit(&r->conf);
    nt_class_report_deinit(&r->rep);
    nt_pr_curve_deinit(&r->pr);
    if (r->names)
        for (int i = 0; i < r->k; i++)
            free(r->names[i]);
    free(r->names);
}

/* Probabilities when every row lies in [0,1] and (K >= 2) sums to 1. */
static int detect_kind(const gathered *g)
{
    if (g->int_output)
        return KIND_LABELS;
    for (int64_t i = 0; i < g->n; i++) {
        double sum = 0;
        for (int64_t j = 0; j < g->c; j++) {
            double p = g->v[i * g->c + j];
            if (!(p >= -1e-6 && p <= 1 + 1e-6))
                return KIND_LOGITS;
            sum += p;
        }
        if (g->c > 1 && fabs(sum - 1) > 1e-3)
            return KIND_LOGITS;
    }
    return KIND_PROBS;
}

static int compute_classification(const eval_opts *o, const gathered *g, const double *labels, results *r)
{
    int64_t n = g->n;
    r->n = n;
    r->kind = o->kind != KIND_AUTO && !g->int_output ? o->kind : detect_kind(g);
    r->binary = g->c == 1 && r->kind != KIND_LABELS;
    if (g->c > 1 && r->kind == KIND_LABELS) {
        fprintf(stderr, "nntrace eval: output '%s' is integer with %lld values per sample: cannot score it\n",
                g->out_name, (long long)g->c);
        return NT_EXIT_BAD_INPUT;
    }
    r->truth = nt_malloc((size_t)n * sizeof *r->truth);
    r->pred = nt_malloc((size_t)n * sizeof *r->pred);
    r->loss = nt_malloc((size_t)n * sizeof *r->loss);
    if (!r->truth || !r->pred || !r->loss)
        return nt_cli_fail(NT_ERR_NOMEM);
    int max_label = 0;
    for (int64_t i = 0; i < n; i++) {
        double y = labels[i];
        if (!(y >= 0 && y == floor(y) && y < 1e6)) {
            fprintf(stderr, "nntrace eval: %s: label %g of sample %lld is not a class index (0, 1, 2, ...)\n",
                    o->labels, y, (long long)i);
            return NT_EXIT_BAD_INPUT;
        }
        r->truth[i] = (int)y;
        max_label = NT_MAX(max_label, r->truth[i]);
    }
    if (r->kind == KIND_LABELS) {
        r->k = max_label + 1;
        for (int64_t i = 0; i < n; i++) {
            double p = g->v[i];
            r->pred[i] = p >= 0 && p < 1e6 ? (int)p : -1;
            r->k = NT_MAX(r->k, r->pred[i] + 1);
            r->loss[i] = NAN;
        }
    } else {
        r->k = r->binary ? 2 : (int)g->c;
    }
    if (max_label >= r->k) {
        for (int64_t i = 0; i < n; i++)
            if (r->truth[i] >= r->k) {
                fprintf(stderr, "nntrace eval: %s: label %d of sample %lld is outside the model's %d classes (0..%d)\n",
                        o->labels, r->truth[i], (long long)i, r->k, r->k - 1);
                break;
            }
        return NT_EXIT_BAD_INPUT;
    }
    double *row = nt_malloc((size_t)NT_MAX(g->c, (int64_t)2) * sizeof *row);
    if (!row)
        return nt_cli_fail(NT_ERR_NOMEM);
    if (r->binary || r->k == 2) {
        r->pos_score = nt_malloc((size_t)n * sizeof *r->pos_score);
        if (!r->pos_score) {
            free(row);
            return nt_cli_fail(NT_ERR_NOMEM);
        }
    }
    for (int64_t i = 0; i < n && r->kind != KIND_LABELS; i++) {
        const double *v = g->v + i * g->c;
        if (r->binary) {
            double p = r->kind == KIND_LOGITS ? nt_sigmoid(v[0]) : v[0];
            r->pos_score[i] = p;
            r->pred[i] = p >= o->threshold ? 1 : 0;
            /* from a logit, log-sigmoid directly: no clipping needed */
            r->loss[i] = r->kind == KIND_LOGITS
                             ? (r->truth[i] ? log1p(exp(-fabs(v[0]))) + NT_MAX(-v[0], 0.0)
                                            : log1p(exp(-fabs(v[0]))) + NT_MAX(v[0], 0.0))
                             : nt_binary_cross_entropy(p, r->truth[i]);
            if (isnan(v[0]))
                r->pred[i] = 0, r->loss[i] = NAN;
            continue;
        }
        int best = 0;
        for (int j = 1; j < r->k; j++)
            if (v[j] > v[best] || (isnan(v[best]) && !isnan(v[j])))
                best = j;
        r->pred[i] = best;
        if (r->kind == KIND_LOGITS) {
            r->loss[i] = nt_cross_entropy_logits(v, r->k, r->truth[i]);
            if (r->pos_score) {
                nt_log_softmax(v, 2, row);
                r->pos_score[i] = exp(row[1]);
            }
        } else {
            r->loss[i] = nt_cross_entropy_probs(v, r->k, r->truth[i]);
            if (r->pos_score)
                r->pos_score[i] = v[1];
        }
    }
    free(row);
    nt_status st = nt_confusion_init(&r->conf, r->k);
    for (int64_t i = 0; i < n && st == NT_OK; i++)
        if (r->pred[i] >= 0)
            st = nt_confusion_add(&r->conf, r->truth[i], r->pred[i]);
    if (st == NT_OK)
        st = nt_class_report_compute(&r->conf, o->zero_division, &r->rep);
    if (st != NT_OK)
        return nt_cli_fail(st);
    r->accuracy = 0;
    double ls = 0;
    for (int64_t i = 0; i < n; i++) {
        r->accuracy += r->truth[i] == r->pred[i];
        ls += r->loss[i];
    }
    r->accuracy /= (double)n;
    r->mean_loss = ls / (double)n;
    if (r->pos_score) {
        /* undefined with one class only, or NaN scores: reported as null */
        r->have_rank = nt_roc_auc(r->pos_score, r->truth, n, &r->auc) == NT_OK &&
                       nt_pr_curve_compute(r->pos_score, r->truth, n, &r->pr) == NT_OK;
        r->ap = r->have_rank ? r->pr.average_precision : NAN;
    }
    /* class names */
    if (o->class_names) {
        r->names = nt_calloc((size_t)r->k, sizeof *r->names);
        if (!r->names)
            return nt_cli_fail(NT_ERR_NOMEM);
        const char *p = o->class_names;
        for (int i = 0; i < r->k; i++) {
            const char *e = p ? strchr(p, ',') : NULL;
            char num[24];
            snprintf(num, sizeof num, "%d", i);
            r->names[i] = p && *p ? nt_strndup(p, e ? (size_t)(e - p) : strlen(p)) : nt_strdup(num);
            if (!r->names[i])
                return nt_cli_fail(NT_ERR_NOMEM);
            p = e ? e + 1 : NULL;
        }
    }
    return NT_EXIT_OK;
}

static int compute_regression(const eval_opts *o, const gathered *g, const double *labels, int64_t d, results *r)
{
    r->task = TASK_REGRESSION;
    r->n = g->n;
    if (g->c != d) {
        fprintf(stderr, "nntrace eval: output '%s' has %lld values per sample but the targets have %lld\n",
                g->out_name, (long long)g->c, (long long)d);
        return NT_EXIT_BAD_INPUT;
    }
    r->loss = nt_malloc((size_t)g->n * sizeof *r->loss);
    if (!r->loss)
        return nt_cli_fail(NT_ERR_NOMEM);
    for (int64_t i = 0; i < g->n; i++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++) {
            double e = g->v[i * d + j] - labels[i * d + j];
            s += e * e;
        }
        r->loss[i] = s / (double)d;
    }
    nt_status st = nt_regression_compute(labels, g->v, g->n, (int)d, &r->reg);
    if (st != NT_OK)
        return nt_cli_fail(st);
    r->mean_loss = r->reg.mse;
    return NT_EXIT_OK;
}

/* Indices of the k samples with the highest loss (NaN first: a NaN loss is
 * the worst news). */
static const double *sort_loss;
static int cmp_loss(const void *a, const void *b)
{
    double x = sort_loss[*(const int64_t *)a], y = sort_loss[*(const int64_t *)b];
    if (isnan(x) || isnan(y))
        return isnan(x) && isnan(y) ? 0 : isnan(x) ? -1 : 1;
    return x > y ? -1 : x < y ? 1 : (*(const int64_t *)a > *(const int64_t *)b) - (*(const int64_t *)a < *(const int64_t *)b);
}

static int64_t *worst_indices(const results *r, int k, int64_t *count)
{
    *count = NT_MIN((int64_t)k, r->n);
    int64_t *idx = nt_malloc((size_t)NT_MAX(r->n, (int64_t)1) * sizeof *idx);
    if (!idx)
        return NULL;
    for (int64_t i = 0; i < r->n; i++)
        idx[i] = i;
    sort_loss = r->loss;
    qsort(idx, (size_t)r->n, sizeof *idx, cmp_loss);
    return idx;
}

/* ---------------------------------------------------------------- output */

/* A metric as JSON with every digit needed to read back the same double, NaN and
 * infinities as nt_buf_json_double writes them. */
static void json_num(nt_buf *b, double v)
{
    if (!isfinite(v) || (v == floor(v) && fabs(v) < 1e15)) {
        nt_buf_json_double(b, v);
        return;
    }
    /* the shortest of 15, 16 or 17 digits that reads back as the same double */
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    nt_buf_puts(b, tmp);
}

static const char *kind_name(int kind)
{
    return kind == KIND_PROBS ? "probs" : kind == KIND_LABELS ? "labels" : "logits";
}

/* "precision": .., "recall": .., "f1": .., "support": ..} — the caller opens the brace. */
static void json_fields(nt_buf *b, const nt_class_scores *s)
{
    nt_buf_puts(b, "\"precision\": ");
    json_num(b, s->precision);
    nt_buf_puts(b, ", \"recall\": ");
    json_num(b, s->recall);
    nt_buf_puts(b, ", \"f1\": ");
    json_num(b, s->f1);
    nt_buf_printf(b, ", \"support\": %lld}", (long long)s->support);
}

static void json_scores(nt_buf *b, const nt_class_scores *s)
{
    nt_buf_putc(b, '{');
    json_fields(b, s);
}

static void json_array(nt_buf *b, const double *v, int64_t n)
{
    nt_buf_putc(b, '[');
    for (int64_t i = 0; i < n; i++) {
        if (i)
            nt_buf_puts(b, ", ");
        json_num(b, v[i]);
    }
    nt_buf_putc(b, ']');
}

static void json_class_name(nt_buf *b, const results *r, int i)
{
    if (r->names)
        nt_buf_json_string(b, r->names[i]);
    else
        nt_buf_printf(b, "%d", i);
}

/* The JSON document (also DIR/eval.json). */
static void results_json(const eval_opts *o, const gathered *g, const results *r, nt_buf *b)
{
    nt_buf_puts(b, "{\"model\": ");
    nt_buf_json_string(b, o->model);
    nt_buf_puts(b, ", \"data\": ");
    nt_buf_json_string(b, o->data);
    nt_buf_puts(b, ", \"labels\": ");
    nt_buf_json_string(b, o->labels);
    nt_buf_puts(b, ", \"output\": ");
    nt_buf_json_string(b, g->out_name);
    nt_buf_printf(b, ", \"samples\": %lld, \"runs\": %d, \"elapsed_ms\": %.3f", (long long)r->n, g->runs, g->ms);
    if (r->task == TASK_REGRESSION) {
        nt_buf_printf(b, ", \"task\": \"regression\", \"outputs_per_sample\": %d", r->reg.d);
        const char *keys[4] = {"mse", "mae", "rmse", "r2"};
        double vals[4] = {r->reg.mse, r->reg.mae, r->reg.rmse, r->reg.r2};
        for (int i = 0; i < 4; i++) {
            nt_buf_printf(b, ", \"%s\": ", keys[i]);
            json_num(b, vals[i]);
        }
        nt_buf_puts(b, ", \"loss\": ");
        json_num(b, r->mean_loss);
    } else {
        nt_buf_printf(b, ", \"task\": \"%s\", \"outputs\": \"%s\"", r->binary || r->k == 2 ? "binary" : "multiclass",
                      kind_name(r->kind));
        nt_buf_puts(b, ", \"accuracy\": ");
        json_num(b, r->accuracy);
        nt_buf_puts(b, ", \"loss\": ");
        json_num(b, r->mean_loss);
        nt_buf_puts(b, ", \"classes\": [");
        for (int i = 0; i < r->k; i++) {
            if (i)
                nt_buf_puts(b, ", ");
            json_class_name(b, r, i);
        }
        nt_buf_puts(b, "], \"confusion\": [");
        for (int t = 0; t < r->k; t++) {
            nt_buf_puts(b, t ? ", [" : "[");
            for (int p = 0; p < r->k; p++)
                nt_buf_printf(b, "%s%lld", p ? ", " : "", (long long)r->conf.counts[(size_t)t * r->k + p]);
            nt_buf_putc(b, ']');
        }
        nt_buf_putc(b, ']');
        if (o->normalize != NT_NORMALIZE_NONE) {
            double *m = nt_malloc((size_t)r->k * (size_t)r->k * sizeof *m);
            if (m) {
                static const char *const how[] = {"none", "true", "pred", "all"};
                nt_confusion_normalized(&r->conf, o->normalize, m);
                nt_buf_printf(b, ", \"normalize\": \"%s\", \"confusion_normalized\": [", how[o->normalize]);
                for (int t = 0; t < r->k; t++) {
                    if (t)
                        nt_buf_puts(b, ", ");
                    json_array(b, m + (size_t)t * r->k, r->k);
                }
                nt_buf_putc(b, ']');
                free(m);
            } else {
                b->failed = true;
            }
        }
        nt_buf_puts(b, ", \"per_class\": [");
        for (int i = 0; i < r->k; i++) {
            nt_buf_puts(b, i ? ", {\"class\": " : "{\"class\": ");
            json_class_name(b, r, i);
            nt_buf_puts(b, ", ");
            json_fields(b, &r->rep.per_class[i]);
        }
        nt_buf_puts(b, "], \"macro_avg\": ");
        json_scores(b, &r->rep.macro);
        nt_buf_puts(b, ", \"weighted_avg\": ");
        json_scores(b, &r->rep.weighted);
        nt_buf_puts(b, ", \"micro_avg\": ");
        json_scores(b, &r->rep.micro);
        if (r->binary)
            nt_buf_printf(b, ", \"threshold\": %.17g", o->threshold);
        if (r->pos_score) {
            nt_buf_puts(b, ", \"roc_auc\": ");
            if (r->have_rank)
                json_num(b, r->auc);
            else
                nt_buf_puts(b, "null");
            nt_buf_puts(b, ", \"average_precision\": ");
            if (r->have_rank)
                json_num(b, r->ap);
            else
                nt_buf_puts(b, "null");
            if (r->have_rank) {
                nt_buf_puts(b, ", \"pr_curve\": {\"precision\": ");
                json_array(b, r->pr.precision, r->pr.n_points);
                nt_buf_puts(b, ", \"recall\": ");
                json_array(b, r->pr.recall, r->pr.n_points);
                nt_buf_puts(b, ", \"thresholds\": ");
                json_array(b, r->pr.thresholds, r->pr.n_points - 1);
                nt_buf_putc(b, '}');
            }
        }
    }
    if (o->worst > 0) {
        int64_t cnt;
        int64_t *idx = worst_indices(r, o->worst, &cnt);
        if (!idx)
            b->failed = true;
        nt_buf_puts(b, ", \"worst\": [");
        for (int64_t j = 0; idx && j < cnt; j++) {
            int64_t i = idx[j];
            nt_buf_printf(b, "%s{\"index\": %lld", j ? ", " : "", (long long)i);
            if (r->task != TASK_REGRESSION)
                nt_buf_printf(b, ", \"true\": %d, \"predicted\": %d", r->truth[i], r->pred[i]);
            nt_buf_puts(b, ", \"loss\": ");
            json_num(b, r->loss[i]);
            nt_buf_putc(b, '}');
        }
        nt_buf_putc(b, ']');
        free(idx);
    }
    nt_buf_puts(b, "}\n");
}

static void results_text(const eval_opts *o, const gathered *g, const results *r, nt_buf *b)
{
    nt_buf_printf(b, "eval: %lld samples of %s, output '%s'", (long long)r->n, o->data, g->out_name);
    if (r->task == TASK_REGRESSION) {
        nt_buf_printf(b, " (regression, %d value%s per sample), %d run%s, %.1f ms\n\n", r->reg.d,
                      r->reg.d == 1 ? "" : "s", g->runs, g->runs == 1 ? "" : "s", g->ms);
        nt_buf_printf(b, "MSE:  %.6g\nMAE:  %.6g\nRMSE: %.6g\nR2:   %.6g\n", r->reg.mse, r->reg.mae, r->reg.rmse,
                      r->reg.r2);
    } else {
        nt_buf_printf(b, " (%s, %s, %d classes), %d run%s, %.1f ms\n\n",
                      r->binary ? "binary, one score" : r->k == 2 ? "binary" : "multiclass", kind_name(r->kind), r->k,
                      g->runs, g->runs == 1 ? "" : "s", g->ms);
        nt_buf_printf(b, "accuracy: %.4f (%lld of %lld)\n", r->accuracy, (long long)llround(r->accuracy * r->n),
                      (long long)r->n);
        if (r->kind != KIND_LABELS)
            nt_buf_printf(b, "loss:     %.6g (mean cross-entropy%s)\n", r->mean_loss,
                          r->kind == KIND_LOGITS ? ", softmax of logits" : "");
        if (r->pos_score) {
            if (r->have_rank)
                nt_buf_printf(b, "ROC AUC:  %.4f\naverage precision: %.4f\n", r->auc, r->ap);
            else
                nt_buf_puts(b, "ROC AUC:  undefined (only one class among the labels)\n");
            if (r->binary)
                nt_buf_printf(b, "threshold: %g on P(positive)\n", o->threshold);
        }
        nt_buf_putc(b, '\n');
        nt_class_report_format(&r->rep, (const char *const *)r->names, o->digits, b);
        nt_buf_puts(b, "\nconfusion matrix (rows: true class, columns: predicted):\n");
        nt_confusion_format(&r->conf, NT_NORMALIZE_NONE, (const char *const *)r->names, b);
        if (o->normalize != NT_NORMALIZE_NONE) {
            static const char *const how[] = {"", "by true class (rows sum to 1)", "by predicted class (columns sum to 1)",
                                              "over all samples"};
            nt_buf_printf(b, "\nnormalized %s:\n", how[o->normalize]);
            nt_confusion_format(&r->conf, o->normalize, (const char *const *)r->names, b);
        }
    }
    if (o->worst > 0) {
        int64_t cnt;
        int64_t *idx = worst_indices(r, o->worst, &cnt);
        if (!idx) {
            b->failed = true;
            return;
        }
        nt_buf_printf(b, "\nworst %lld sample%s by loss:\n", (long long)cnt, cnt == 1 ? "" : "s");
        if (r->task == TASK_REGRESSION)
            nt_buf_printf(b, "%8s %14s\n", "index", "squared error");
        else
            nt_buf_printf(b, "%8s %6s %10s %12s\n", "index", "true", "predicted", "loss");
        for (int64_t j = 0; j < cnt; j++) {
            int64_t i = idx[j];
            if (r->task == TASK_REGRESSION)
                nt_buf_printf(b, "%8lld %14.6g\n", (long long)i, r->loss[i]);
            else
                nt_buf_printf(b, "%8lld %6d %10d %12.6g\n", (long long)i, r->truth[i], r->pred[i], r->loss[i]);
        }
        free(idx);
    }
}

/* A pr_curves summary value: tag, metadata (plugin "pr_curves" with
 * PrCurvePluginData{version 0, num_thresholds}), and the float [6, m]
 * tensor. */
static nt_status write_pr_summary(nt_writer *w, const char *tag, int64_t step, const results *r)
{
    enum { M = 201 };
    float *data = nt_malloc(6 * M * sizeof *data);
    if (!data)
        return NT_ERR_NOMEM;
    nt_pr_buckets(r->pos_score, r->truth, r->n, M, data);
    nt_buf v;
    nt_buf_init(&v);
    nt_pbw_string(&v, 1, tag);
    size_t md = nt_pbw_begin(&v, 9);
    size_t pd = nt_pbw_begin(&v, 1);
    nt_pbw_string(&v, 1, "pr_curves");
    nt_buf content;
    nt_buf_init(&content);
    nt_pbw_uint(&content, 2, M); /* version 0 is the default and not written */
    nt_pbw_bytes(&v, 2, content.data, content.len);
    nt_buf_deinit(&content);
    nt_pbw_end(&v, pd);
    nt_pbw_uint(&v, 4, 2); /* DATA_CLASS_TENSOR */
    nt_pbw_end(&v, md);
    size_t t = nt_pbw_begin(&v, 8);
    nt_pbw_uint(&v, 1, 1); /* DT_FLOAT */
    size_t sh = nt_pbw_begin(&v, 2);
    size_t d0 = nt_pbw_begin(&v, 2);
    nt_pbw_uint(&v, 1, 6);
    nt_pbw_end(&v, d0);
    size_t d1 = nt_pbw_begin(&v, 2);
    nt_pbw_uint(&v, 1, M);
    nt_pbw_end(&v, d1);
    nt_pbw_end(&v, sh);
    /* tensor_content: little-endian float32, as on every machine we run on */
    nt_pbw_bytes(&v, 4, data, 6 * M * sizeof *data);
    nt_pbw_end(&v, t);
    free(data);
    nt_status st = v.failed ? nt_error(NT_ERR_NOMEM, "out of memory") : nt_writer_summary_value(w, step, v.data, v.len);
    nt_buf_deinit(&v);
    return st;
}

/* Confusion matrix as a PNG figure: colours are the fraction of each true
 * class (comparable across class sizes), the numbers in the cells the
 * counts, class names (or indices) on both axes and a colour bar. */
static nt_status confusion_png(const results *r, uint8_t **px, int *h, int *w)
{
    size_t kk = (size_t)r->k * (size_t)r->k;
    double *m = nt_malloc(kk * sizeof *m), *counts = nt_malloc(kk * sizeof *counts);
    float *f = nt_malloc(kk * sizeof *f);
    char **labels = nt_calloc((size_t)r->k, sizeof *labels);
    nt_status st = m && counts && f && labels ? NT_OK : NT_ERR_NOMEM;
    for (int i = 0; st == NT_OK && i < r->k; i++) {
        char num[24];
        snprintf(num, sizeof num, "%d", i);
        if (!(labels[i] = nt_strdup(r->names ? r->names[i] : num)))
            st = NT_ERR_NOMEM;
    }
    if (st == NT_OK) {
        nt_confusion_normalized(&r->conf, NT_NORMALIZE_TRUE, m);
        for (size_t i = 0; i < kk; i++) {
            f[i] = (float)m[i];
            counts[i] = (double)r->conf.counts[i];
        }
        int cell = NT_MAX(8, NT_MIN(64, 512 / r->k));
        nt_heatmap_labels lab = {"CONFUSION MATRIX", "TRUE CLASS", "PREDICTED CLASS", (const char *const *)labels,
                                 (const char *const *)labels, false, false, counts, "SHARE OF TRUE CLASS"};
        st = nt_heatmap_figure(f, r->k, r->k, 0.0, 1.0, NT_COLORMAP_VIRIDIS, cell, &lab, px, h, w);
    }
    for (int i = 0; labels && i < r->k; i++)
        free(labels[i]);
    free(labels);
    free(m);
    free(counts);
    free(f);
    return st;
}

/* DIR/eval.json, DIR/confusion_matrix.png and the event-file summaries. */
static int write_rundir(const eval_opts *o, const gathered *g, const results *r, nt_rundir *rd)
{
    char path[4096];
    nt_buf b;
    nt_buf_init(&b);
    results_json(o, g, r, &b);
    nt_rundir_file(rd, "eval.json", path, sizeof path);
    nt_status st = b.failed ? nt_error(NT_ERR_NOMEM, "out of memory") : nt_write_file(path, b.data, b.len);
    nt_buf_deinit(&b);
    if (st != NT_OK)
        return nt_cli_fail(st);
    nt_writer *w;
    if ((st = nt_rundir_writer(rd, &w)) != NT_OK)
        return nt_cli_fail(st);
    int64_t step = o->step;
    if (r->task == TASK_REGRESSION) {
        if ((st = nt_writer_scalar(w, "eval/mse", step, r->reg.mse)) == NT_OK &&
            (st = nt_writer_scalar(w, "eval/mae", step, r->reg.mae)) == NT_OK &&
            (st = nt_writer_scalar(w, "eval/rmse", step, r->reg.rmse)) == NT_OK)
            st = nt_writer_scalar(w, "eval/r2", step, r->reg.r2);
        return st == NT_OK ? NT_EXIT_OK : nt_cli_fail(st);
    }
    st = nt_writer_scalar(w, "eval/accuracy", step, r->accuracy);
    if (st == NT_OK && r->kind != KIND_LABELS)
        st = nt_writer_scalar(w, "eval/loss", step, r->mean_loss);
    if (st == NT_OK)
        st = nt_writer_scalar(w, "eval/macro_f1", step, r->rep.macro.f1);
    if (st == NT_OK && r->have_rank) {
        if ((st = nt_writer_scalar(w, "eval/roc_auc", step, r->auc)) == NT_OK &&
            (st = nt_writer_scalar(w, "eval/average_precision", step, r->ap)) == NT_OK)
            st = write_pr_summary(w, "eval/pr_curve", step, r);
    }
    uint8_t *px = NULL;
    int h = 0, wd = 0;
    if (st == NT_OK && (st = confusion_png(r, &px, &h, &wd)) == NT_OK) {
        st = nt_writer_image(w, "eval/confusion_matrix", step, px, h, wd, 3);
        nt_rundir_file(rd, "confusion_matrix.png", path, sizeof path);
        if (st == NT_OK)
            st = nt_png_write(path, px, h, wd, 3);
        free(px);
    }
    if (st == NT_OK) {
        /* the table as Markdown (TensorBoard's text plugin renders it),
         * the report as a preformatted block */
        nt_buf t;
        nt_buf_init(&t);
        nt_buf_puts(&t, "| true \\ predicted |");
        for (int p = 0; p < r->k; p++) {
            if (r->names)
                nt_buf_printf(&t, " %s |", r->names[p]);
            else
                nt_buf_printf(&t, " %d |", p);
        }
        nt_buf_puts(&t, "\n|---|");
        for (int p = 0; p < r->k; p++)
            nt_buf_puts(&t, "---:|");
        nt_buf_putc(&t, '\n');
        for (int tr = 0; tr < r->k; tr++) {
            if (r->names)
                nt_buf_printf(&t, "| **%s** |", r->names[tr]);
            else
                nt_buf_printf(&t, "| **%d** |", tr);
            for (int p = 0; p < r->k; p++)
                nt_buf_printf(&t, " %lld |", (long long)r->conf.counts[(size_t)tr * r->k + p]);
            nt_buf_putc(&t, '\n');
        }
        st = t.failed ? NT_ERR_NOMEM : nt_writer_text(w, "eval/confusion_matrix_table", step, t.data);
        t.len = 0;
        if (t.data)
            t.data[0] = '\0';
        nt_buf_puts(&t, "```\n");
        nt_class_report_format(&r->rep, (const char *const *)r->names, o->digits, &t);
        nt_buf_puts(&t, "```\n");
        if (st == NT_OK)
            st = t.failed ? NT_ERR_NOMEM : nt_writer_text(w, "eval/classification_report", step, t.data);
        nt_buf_deinit(&t);
    }
    return st == NT_OK ? NT_EXIT_OK : nt_cli_fail(st);
}

static int eval_main(int argc, char **argv, eval_opts *o)
{
    size_t off = 0;
    for (int i = 0; i < argc && off + 2 < sizeof o->cmdline; i++) {
        int n = snprintf(o->cmdline + off, sizeof o->cmdline - off, "%s%s", i ? " " : "", argv[i]);
        off += n > 0 ? (size_t)n : 0;
    }
    int code = parse_args(argc, argv, o);
    if (code != NT_EXIT_OK)
        return code;
    double *labels = NULL;
    int64_t n_labels = 0, d_labels = 1;
    if ((code = load_labels(o, &labels, &n_labels, &d_labels)) != NT_EXIT_OK)
        return code;
    nt_tensor *x = NULL;
    nt_status st = nt_tensor_load(o->data, &x);
    if (st != NT_OK) {
        free(labels);
        nt_cli_fail(st);
        return NT_EXIT_BAD_INPUT;
    }
    if (x->ndim < 1 || x->dims[0] != n_labels) {
        fprintf(stderr, "nntrace eval: %s has %lld samples but %s has %lld labels\n", o->data,
                (long long)(x->ndim ? x->dims[0] : 0), o->labels, (long long)n_labels);
        free(labels);
        nt_tensor_free(x);
        return NT_EXIT_BAD_INPUT;
    }
    if (n_labels < 1) {
        fprintf(stderr, "nntrace eval: %s has no samples\n", o->data);
        free(labels);
        nt_tensor_free(x);
        return NT_EXIT_BAD_INPUT;
    }
    nt_model *m = NULL;
    nt_session *s = NULL;
    gathered g = {0};
    results r = {0};
    if ((code = nt_cli_open_model(o->model, &o->in, &m, &s)) != NT_EXIT_OK)
        goto out;
    {
        nt_value_info first;
        o->in.bound_later = o->data_input;
        if (!o->data_input && nt_model_input_count(m) > 0 && nt_model_input_info(m, 0, &first) == NT_OK)
            o->in.bound_later = first.name;
    }
    if ((code = nt_cli_bind_inputs("eval", m, s, &o->in)) != NT_EXIT_OK)
        goto out;
    if ((code = pick_output(o, m, &g)) != NT_EXIT_OK)
        goto out;
    o->trace.command = "eval";
    o->trace.model_path = o->model;
    o->trace.cmdline = o->cmdline;
    o->trace.threads = o->in.threads;
    if ((code = nt_cli_trace_start(&o->trace, m, s, o->trace.run_dir != NULL)) != NT_EXIT_OK)
        goto out;
    code = run_all(o, m, s, x, &g);
    if (code == NT_EXIT_OK)
        code = o->task == TASK_REGRESSION ? compute_regression(o, &g, labels, d_labels, &r)
                                         : compute_classification(o, &g, labels, &r);
    if (code == NT_EXIT_OK && o->trace.rd)
        code = write_rundir(o, &g, &r, o->trace.rd);
    {
        const char *names[NT_CLI_MAX_INPUTS + 1];
        const char *files[NT_CLI_MAX_INPUTS + 1];
        int k = 0;
        names[k] = o->in.bound_later ? o->in.bound_later : "";
        files[k++] = o->data;
        for (int j = 0; j < o->in.n && k <= NT_CLI_MAX_INPUTS; j++, k++) {
            names[k] = o->in.names[j] ? o->in.names[j] : "";
            files[k] = o->in.files[j];
        }
        nt_runinfo info = {"eval", o->model, k, names, files, NULL, o->cmdline,
                           o->in.threads > 0 ? o->in.threads : 1, g.runs, g.ms,
                           code == NT_EXIT_OK ? "ok" : "failed", code == NT_EXIT_OK ? NULL : nt_last_error()};
        int c2 = nt_cli_trace_finish(&o->trace, &info);
        if (code == NT_EXIT_OK)
            code = c2;
    }
    if (code == NT_EXIT_OK) {
        nt_buf b;
        nt_buf_init(&b);
        if (o->json)
            results_json(o, &g, &r, &b);
        else
            results_text(o, &g, &r, &b);
        if (b.failed)
            code = nt_cli_fail(nt_error(NT_ERR_NOMEM, "out of memory"));
        else
            fwrite(b.data, 1, b.len, stdout);
        nt_buf_deinit(&b);
    }
out:
    results_free(&r);
    free(g.v);
    free(labels);
    nt_tensor_free(x);
    nt_session_free(s);
    nt_model_free(m);
    return code;
}

int nt_cmd_eval(int argc, char **argv)
{
    eval_opts o = {0};
    int code = eval_main(argc, argv, &o);
    nt_cli_inputs_deinit(&o.in);
    return code;
}
