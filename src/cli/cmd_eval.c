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
 * The evaluation itself is a library call (include/nntrace/analysis.h:
 * nt_eval_load, nt_eval_run, nt_eval_result_json/_text; the run directory
 * by analyze/eval_record.c); this file turns argv into options and prints.
 */
#include "analyze/eval_record.h"
#include "cli/cli_model.h"
#include "cli/cli_trace.h"
#include "core/core.h"
#include "metrics/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

typedef struct eval_opts {
    nt_eval_options e;
    const char *model;
    bool json;
    int64_t step;
    nt_cli_inputs in;
    nt_cli_trace trace;
    char cmdline[2048];
} eval_opts;

/* ---------------------------------------------------------------- options */

static int parse_args(int argc, char **argv, eval_opts *o)
{
    nt_eval_options_init(&o->e);
    o->e.log = stderr;
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
            o->e.data_path = argv[++i];
        } else if (strcmp(a, "--data-input") == 0) {
            o->e.data_input = argv[++i];
        } else if (strcmp(a, "--labels") == 0) {
            o->e.labels_path = argv[++i];
        } else if (strcmp(a, "--label-column") == 0) {
            o->e.label_column = argv[++i];
        } else if (strcmp(a, "--output") == 0) {
            o->e.output = argv[++i];
        } else if (strcmp(a, "--class-names") == 0) {
            o->e.class_names = argv[++i];
        } else if (strcmp(a, "--batch") == 0) {
            if (!nt_cli_parse_int(argv[++i], &n) || n < 1 || n > 1000000)
                return nt_cli_usage_error("eval", "--batch needs a count from 1 to 1000000");
            o->e.batch = (int)n;
            o->e.batch_given = true;
        } else if (strcmp(a, "--worst") == 0) {
            if (!nt_cli_parse_int(argv[++i], &n) || n < 0 || n > 1000000)
                return nt_cli_usage_error("eval", "--worst needs a count");
            o->e.worst = (int)n;
        } else if (strcmp(a, "--digits") == 0) {
            if (!nt_cli_parse_int(argv[++i], &n) || n < 0 || n > 15)
                return nt_cli_usage_error("eval", "--digits needs 0 to 15");
            o->e.digits = (int)n;
        } else if (strcmp(a, "--step") == 0) {
            if (!nt_cli_parse_int(argv[++i], &n))
                return nt_cli_usage_error("eval", "--step needs an integer");
            o->step = n;
        } else if (strcmp(a, "--threshold") == 0) {
            if (!nt_cli_parse_double(argv[++i], &d) || !(d >= 0 && d <= 1))
                return nt_cli_usage_error("eval", "--threshold needs a probability in [0, 1]");
            o->e.threshold = d;
        } else if (strcmp(a, "--zero-division") == 0) {
            const char *v = argv[++i];
            if (strcmp(v, "nan") == 0)
                o->e.zero_division = NAN;
            else if (strcmp(v, "0") == 0 || strcmp(v, "1") == 0)
                o->e.zero_division = v[0] - '0';
            else
                return nt_cli_usage_error("eval", "--zero-division takes 0, 1 or nan");
        } else if (strcmp(a, "--outputs") == 0) {
            const char *v = argv[++i];
            if (strcmp(v, "logits") == 0)
                o->e.outputs = NT_EVAL_LOGITS;
            else if (strcmp(v, "probs") == 0 || strcmp(v, "probabilities") == 0)
                o->e.outputs = NT_EVAL_PROBS;
            else
                return nt_cli_usage_error("eval", "--outputs takes logits or probs");
        } else if (strcmp(a, "--task") == 0) {
            const char *v = argv[++i];
            if (strcmp(v, "regression") == 0)
                o->e.task = NT_EVAL_REGRESSION;
            else if (strcmp(v, "classify") == 0 || strcmp(v, "classification") == 0)
                o->e.task = NT_EVAL_CLASSIFY;
            else
                return nt_cli_usage_error("eval", "--task takes classify or regression");
        } else if (strcmp(a, "--normalize") == 0) {
            nt_normalize how;
            if (!nt_normalize_parse(argv[++i], &how))
                return nt_cli_usage_error("eval", "--normalize takes true, pred or all");
            o->e.normalize = (nt_eval_normalize)how;
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("eval", "unknown option '%s'", a);
        } else if (!o->model) {
            o->model = o->e.model_path = a;
        } else {
            return nt_cli_usage_error("eval", "unexpected argument '%s'", a);
        }
    }
    if (!o->model)
        return nt_cli_usage_error("eval", "no MODEL given");
    if (!o->e.data_path || !o->e.labels_path)
        return nt_cli_usage_error("eval", "--data X.npy and --labels Y.npy are required");
    o->trace.reports_to_stderr = o->json;
    return NT_EXIT_OK;
}

/* A library error: the message, and the exit code by kind. */
static int eval_fail(nt_status st)
{
    const char *msg = nt_last_error();
    fprintf(stderr, "nntrace eval: %s\n", msg[0] ? msg : nt_status_name(st));
    return st == NT_ERR_INVALID_ARG ? NT_EXIT_USAGE : NT_EXIT_BAD_INPUT;
}

/* The run's record (--run-dir): what ran on which inputs, and how it went. */
static int finish_trace(eval_opts *o, const nt_eval_result *r, int code)
{
    const char *names[NT_CLI_MAX_INPUTS + 1];
    const char *files[NT_CLI_MAX_INPUTS + 1];
    int k = 0;
    names[k] = o->in.bound_later ? o->in.bound_later : "";
    files[k++] = o->e.data_path;
    for (int j = 0; j < o->in.n && k <= NT_CLI_MAX_INPUTS; j++, k++) {
        names[k] = o->in.names[j] ? o->in.names[j] : "";
        files[k] = o->in.files[j];
    }
    nt_runinfo info = {"eval", o->model, k, names, files, NULL, o->cmdline,
                       o->in.threads > 0 ? o->in.threads : 1, nt_eval_result_runs(r), nt_eval_result_ms(r),
                       code == NT_EXIT_OK ? "ok" : "failed", code == NT_EXIT_OK ? NULL : nt_last_error()};
    int c2 = nt_cli_trace_finish(&o->trace, &info);
    return code == NT_EXIT_OK ? c2 : code;
}

static int print_result(const eval_opts *o, const nt_eval_result *r)
{
    char *text;
    size_t len;
    nt_status st = o->json ? nt_eval_result_json(r, &text, &len) : nt_eval_result_text(r, &text, &len);
    if (st != NT_OK)
        return nt_cli_fail(st);
    fwrite(text, 1, len, stdout);
    free(text);
    return NT_EXIT_OK;
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
    nt_eval_data *d = NULL;
    nt_status st = nt_eval_load(&o->e, &d);
    if (st != NT_OK)
        return eval_fail(st);
    nt_model *m = NULL;
    nt_session *s = NULL;
    nt_eval_result *r = NULL;
    if ((code = nt_cli_open_model(o->model, &o->in, &m, &s)) != NT_EXIT_OK)
        goto out;
    {
        nt_value_info first;
        o->in.bound_later = o->e.data_input;
        if (!o->e.data_input && nt_model_input_count(m) > 0 && nt_model_input_info(m, 0, &first) == NT_OK)
            o->in.bound_later = first.name;
    }
    if ((code = nt_cli_bind_inputs("eval", m, s, &o->in)) != NT_EXIT_OK)
        goto out;
    o->trace.command = "eval";
    o->trace.model_path = o->model;
    o->trace.cmdline = o->cmdline;
    o->trace.threads = o->in.threads;
    if ((code = nt_cli_trace_start(&o->trace, m, s, o->trace.run_dir != NULL)) != NT_EXIT_OK)
        goto out;
    st = nt_eval_run(m, s, d, &o->e, &r);
    if (st == NT_OK && o->trace.rd)
        st = nt_eval_record(r, o->trace.rd, o->step);
    code = st == NT_OK ? NT_EXIT_OK : eval_fail(st);
    code = finish_trace(o, r, code);
    if (code == NT_EXIT_OK)
        code = print_result(o, r);
out:
    nt_eval_result_free(r);
    nt_eval_data_free(d);
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
