/*
 * cmd_report.c — `nntrace report DIR...`: diagnoses training from the
 * scalar curves in TensorBoard event files, whoever wrote them (nntrace's
 * writer, TensorFlow, PyTorch, Keras, ...).
 *
 * The diagnosis is a library call (include/nntrace/analysis.h:
 * nt_report_run, src/analyze/report.c); this file turns argv into options
 * and prints.  Findings go to stdout (text or JSON).  Nothing is written
 * into the directories read: the JSON goes to a file only with -o FILE, SVG
 * plots only with --plots DIR, and a write that fails exits 2 naming the
 * file.  Damaged event files are named on stderr and in the JSON.
 */
#include "cli/cli.h"
#include "core/core.h"
#include "nntrace/analysis.h"

#include <stdlib.h>
#include <string.h>

const char nt_usage_report[] =
    "usage: nntrace report DIR... [--json] [-o FILE] [--train TAG --val TAG] [--plots DIR]\n"
    "                      [--strict]\n"
    "\n"
    "Diagnoses training from the scalar curves in TensorBoard event files (written by\n"
    "nntrace or any other program) in each DIR and its subdirectories:\n"
    "  overfitting         validation loss (or score) gets worse after its best step while\n"
    "                      training keeps improving; the step is the onset (best checkpoint)\n"
    "  generalization_gap  validation vs training at the end (warning when val loss is more\n"
    "                      than twice training loss, or a score trails by more than 10%)\n"
    "  divergence          a loss that becomes NaN/Inf, or climbs back far above its best\n"
    "  rising              a smaller, sustained rise of a training loss\n"
    "  plateau             a loss flat within its noise to the end (warning if it stalled\n"
    "                      above half its starting value)\n"
    "  oscillation         swings large against the progress made (learning rate too high?)\n"
    "  data_sizes, small_validation, split_mismatch\n"
    "                      from logged sizes (data/train_size, n_val, ...) and a declared\n"
    "                      split (validation_split, split/val_fraction, ...)\n"
    "Changes are judged against each curve's own noise, so noisy healthy runs stay quiet.\n"
    "\n"
    "Tags pair by convention: loss/train with loss/val, train_loss with val_loss,\n"
    "X/training with X/validation, train/X with eval/X, X with val_X (Keras); the words\n"
    "train/training and val/valid/validation/eval/dev are recognized.\n"
    "\n"
    "  --train TAG --val TAG  analyse this pair (instead of the pairs found by convention)\n"
    "  --json             print {\"findings\": [{\"kind\", \"severity\", \"tag\", \"train_tag\",\n"
    "                     \"step\", \"value\", \"detail\", \"run\"}], \"runs\": [...]}\n"
    "  -o FILE            also write that JSON to FILE\n"
    "  --plots DIR        write SVG plots of the curves, findings marked, into DIR\n"
    "                     (values drawn solid are smoothed; the raw curve is faint)\n"
    "Nothing is written into the directories read.  Damaged event files (corrupt records\n"
    "skipped, a record cut off at the end) are named on stderr and in the JSON.\n"
    "  --strict           exit 3 on warnings too\n"
    "\n"
    "exit codes: 0 no finding of severity error, 1 usage error, 2 a DIR with no readable\n"
    "event files or no scalars, or -o/--plots could not be written, 3 a finding of severity error (divergence: NaN/Inf or a\n"
    "diverging loss), or with --strict any warning (e.g. overfitting).\n";

typedef struct report_opts {
    const char *dirs[256];
    int n_dirs;
    const char *train_tag, *val_tag, *plots, *out;
    bool json, strict;
} report_opts;

static int parse_args(int argc, char **argv, report_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--no-write") == 0) {
            /* the default now; still accepted */
        } else if (strcmp(a, "--strict") == 0) {
            o->strict = true;
        } else if (strcmp(a, "--train") == 0 || strcmp(a, "--val") == 0 || strcmp(a, "--plots") == 0 ||
                   strcmp(a, "-o") == 0) {
            if (i + 1 >= argc)
                return nt_cli_usage_error("report", "%s needs a value", a);
            const char *v = argv[++i];
            if (a[1] == 'o')
                o->out = v;
            else if (a[2] == 't')
                o->train_tag = v;
            else if (a[2] == 'v')
                o->val_tag = v;
            else
                o->plots = v;
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("report", "unknown option '%s'", a);
        } else if (o->n_dirs < (int)NT_ARRAY_LEN(o->dirs)) {
            o->dirs[o->n_dirs++] = a;
        } else {
            return nt_cli_usage_error("report", "too many directories");
        }
    }
    if (!o->n_dirs)
        return nt_cli_usage_error("report", "no DIR given");
    if (!o->train_tag != !o->val_tag)
        return nt_cli_usage_error("report", "--train and --val go together");
    return NT_EXIT_OK;
}

/* Prints the text report, writes -o FILE, prints the JSON, as asked. */
static int emit(const report_opts *o, const nt_report_result *r)
{
    char *doc = NULL;
    size_t len = 0;
    nt_status st;
    if (o->json || o->out) {
        if ((st = nt_report_result_json(r, &doc, &len)) != NT_OK)
            return nt_cli_fail(st);
        if (o->out && (st = nt_write_file(o->out, doc, len)) != NT_OK) {
            fprintf(stderr, "nntrace report: cannot write %s: %s\n", o->out, nt_last_error());
            free(doc);
            return NT_EXIT_BAD_INPUT;
        }
        if (o->json)
            fwrite(doc, 1, len, stdout);
        free(doc);
    }
    if (!o->json) {
        if ((st = nt_report_result_text(r, &doc, &len)) != NT_OK)
            return nt_cli_fail(st);
        fwrite(doc, 1, len, stdout);
        free(doc);
    }
    return NT_EXIT_OK;
}

int nt_cmd_report(int argc, char **argv)
{
    report_opts o = {0};
    int code = parse_args(argc, argv, &o);
    if (code != NT_EXIT_OK)
        return code;
    nt_report_options ro = {o.dirs, o.n_dirs, o.train_tag, o.val_tag, o.plots, stderr};
    nt_report_result *r;
    nt_status st = nt_report_run(&ro, &r);
    if (st != NT_OK) {
        const char *msg = nt_last_error();
        fprintf(stderr, "nntrace report: %s\n", msg[0] ? msg : nt_status_name(st));
        return st == NT_ERR_INVALID_ARG ? NT_EXIT_USAGE : NT_EXIT_BAD_INPUT;
    }
    code = emit(&o, r);
    int worst = nt_report_result_worst(r);
    if (code == NT_EXIT_OK && (worst == 2 || (o.strict && worst == 1)))
        code = NT_EXIT_FOUND;
    nt_report_result_free(r);
    return code;
}
