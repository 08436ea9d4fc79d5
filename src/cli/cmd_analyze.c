/*
 * cmd_analyze.c — `nntrace analyze MODEL -i ... --method occlusion|perturb|
 * sweep [...] -o DIR`: the model analyzer.  Binds the inputs like `run`,
 * then one library call (include/nntrace/analysis.h: nt_analyze_run) picks
 * the analyzed input, the watched output and the target, runs the method,
 * and writes maps (.npy, .png), sweeps (.csv, .svg) and analysis.json into
 * DIR; this file prints its summary (or JSON).
 */
#include "cli/cli_model.h"
#include "core/core.h"
#include "nntrace/analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char nt_usage_analyze[] =
    "usage: nntrace analyze MODEL [-i NAME=FILE]... --method occlusion|perturb|sweep\n"
    "                       [options] [-o DIR] [--json]\n"
    "\n"
    "Changes one input of MODEL and measures how an output moves.\n"
    "\n"
    "  occlusion   slide a window over the input (all channels), replace it by a baseline,\n"
    "              record the drop of the target score; the map is the mean drop over the\n"
    "              windows covering each position (positive: the model relies on it)\n"
    "  perturb     Gaussian noise at several scales: change of the target score, of every\n"
    "              output, class flips; and the input features ranked by sensitivity\n"
    "              (exact central finite differences up to 4096 elements, else a noise-\n"
    "              correlation estimate from the trials)\n"
    "  sweep       vary one input feature over a range; the outputs at each value\n"
    "\n"
    NT_CLI_INPUT_HELP
    "  --input NAME       the input to analyze (default: the first graph input); a value\n"
    "                     with '=' binds a file like -i\n"
    "  --output NAME      the graph output to watch (default: the first)\n"
    "  --target K         the output element to watch: a flat index (the class of a (1,K)\n"
    "                     output) or comma coordinates (default: the argmax of the\n"
    "                     unperturbed output; the only value of a one-value output)\n"
    "  --layout SPEC      the analyzed input's axes, one letter each: N (batch of 1), C, H,\n"
    "                     W, or L for a sequence/feature axis (default by shape: NCHW, or\n"
    "                     NHWC when the last dim is <= 4; CHW/HWC; NL for (1,F); HW; L)\n"
    "  -o DIR             write maps, plots and analysis.json into DIR\n"
    "  --json             print analysis.json instead of the text summary\n"
    "\n"
    "occlusion:\n"
    "  --window K|KHxKW   window size (default about H/8 x W/8; 1-D: L/8)\n"
    "  --stride S|SHxSW   window step (default half the window)\n"
    "  --baseline mean|V  value put in the window: 0 (default), the input's per-channel\n"
    "                     mean, or a number\n"
    "  writes occlusion.npy (the map, (H,W) or (L,)), occlusion.png and, for images,\n"
    "  occlusion_overlay.png\n"
    "perturb:\n"
    "  --scales A,B,...   noise std as fractions of the input's std (default 0.01,0.05,0.1)\n"
    "  --trials N         runs per scale (default 20)\n"
    "  --seed N           noise seed (default 0)\n"
    "  --ranking auto|exact|noise   how features are ranked (default auto)\n"
    "  --top K            features listed (default 10)\n"
    "  writes gradient.npy (signed d target/d x, the input's shape), sensitivity.npy\n"
    "  (|gradient|, the input's shape), sensitivity_map.npy (summed over channels, the\n"
    "  spatial shape), sensitivity.png and, for images, sensitivity_overlay.png\n"
    "sweep:\n"
    "  --feature IDX      the feature: a flat index or comma coordinates (0,0,5,7)\n"
    "  --range A:B:N      N values from A to B (default: the feature's value +/- 3 input\n"
    "                     stds, 21 points)\n"
    "  writes sweep.csv (value, target, up to 10 outputs) and sweep.svg\n"
    "\n"
    "Each model run re-binds the input, so occlusion costs (windows) runs: on ResNet-18\n"
    "(224x224, default 28x28 window, stride 14) that is 225 runs.\n"
    "\n"
    "exit codes: 0 ok, 1 usage, 2 bad model or input (or one the analyzer declines).\n";

static const char *const method_names[] = {"", "occlusion", "perturb", "sweep"};

typedef struct analyze_opts {
    nt_analyze_options a;
    nt_cli_inputs in;
    bool json;
} analyze_opts;

/* "K" or "AxB" into two positive sizes. */
static bool parse_pair(const char *s, int64_t *a, int64_t *b)
{
    char *end;
    long long x = strtoll(s, &end, 10), y = x;
    if (end == s || x < 1)
        return false;
    if (*end == 'x' || *end == 'X') {
        const char *q = end + 1;
        y = strtoll(q, &end, 10);
        if (end == q || y < 1)
            return false;
    }
    if (*end)
        return false;
    *a = x;
    *b = y;
    return true;
}

static bool parse_scales(const char *s, nt_analyze_options *p)
{
    p->n_scales = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double v;
        if (p->n_scales >= NT_ANALYZE_MAX_SCALES || !nt_cli_parse_double(tok, &v) || !(v > 0) || !isfinite(v))
            return false;
        p->scales[p->n_scales++] = v;
    }
    return p->n_scales > 0;
}

/* "A:B:N" */
static bool parse_range(const char *s, double *lo, double *hi, int *n)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    char *c1 = strchr(buf, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    long long k;
    if (!c1 || !c2)
        return false;
    *c1 = *c2 = '\0';
    if (!nt_cli_parse_double(buf, lo) || !nt_cli_parse_double(c1 + 1, hi) || !nt_cli_parse_int(c2 + 1, &k) ||
        k < 1 || k > 100000 || !isfinite(*lo) || !isfinite(*hi))
        return false;
    *n = (int)k;
    return true;
}

static int parse_args(int argc, char **argv, analyze_opts *o)
{
    nt_analyze_options_init(&o->a);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        /* --input NAME selects the analyzed input; --input NAME=FILE binds like -i */
        if (strcmp(a, "--input") == 0 && i + 1 < argc && !strchr(argv[i + 1], '=')) {
            o->a.input = argv[++i];
            continue;
        }
        if (strncmp(a, "--input=", 8) == 0 && a[8] && !strchr(a + 8, '=')) {
            o->a.input = a + 8;
            continue;
        }
        int r = nt_cli_parse_input_opt("analyze", argc, argv, &i, &o->in);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        if (a[0] != '-' || !a[1]) {
            if (o->a.model_path)
                return nt_cli_usage_error("analyze", "unexpected argument '%s'", a);
            o->a.model_path = a;
            continue;
        }
        static const char *const with_value[] = {"--method", "-o", "--output-dir", "--output", "--target",
                                                 "--layout", "--window", "--stride", "--baseline", "--scales",
                                                 "--trials", "--seed", "--ranking", "--top", "--feature",
                                                 "--range"};
        bool known = false;
        for (size_t k = 0; k < NT_ARRAY_LEN(with_value); k++)
            known = known || strcmp(a, with_value[k]) == 0;
        if (!known)
            return nt_cli_usage_error("analyze", "unknown option '%s'", a);
        if (!v)
            return nt_cli_usage_error("analyze", "%s needs a value", a);
        i++;
        if (strcmp(a, "--method") == 0) {
            o->a.method = strcmp(v, "occlusion") == 0 ? NT_ANALYZE_OCCLUSION
                        : strcmp(v, "perturb") == 0   ? NT_ANALYZE_PERTURB
                        : strcmp(v, "sweep") == 0     ? NT_ANALYZE_SWEEP
                                                      : 0;
            if (o->a.method == 0)
                return nt_cli_usage_error("analyze", "--method is occlusion, perturb or sweep, not '%s'", v);
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output-dir") == 0) {
            o->a.out_dir = v;
        } else if (strcmp(a, "--output") == 0) {
            o->a.output = v;
        } else if (strcmp(a, "--target") == 0) {
            o->a.target = v;
        } else if (strcmp(a, "--layout") == 0) {
            o->a.layout = v;
        } else if (strcmp(a, "--window") == 0) {
            if (!parse_pair(v, &o->a.window_h, &o->a.window_w))
                return nt_cli_usage_error("analyze", "--window needs K or KHxKW (positive)");
        } else if (strcmp(a, "--stride") == 0) {
            if (!parse_pair(v, &o->a.stride_h, &o->a.stride_w))
                return nt_cli_usage_error("analyze", "--stride needs S or SHxSW (positive)");
        } else if (strcmp(a, "--baseline") == 0) {
            double x;
            o->a.baseline = v;
            if (strcmp(v, "mean") != 0 && (!nt_cli_parse_double(v, &x) || !isfinite(x)))
                return nt_cli_usage_error("analyze", "--baseline needs 'mean' or a number");
        } else if (strcmp(a, "--scales") == 0) {
            if (!parse_scales(v, &o->a))
                return nt_cli_usage_error("analyze", "--scales needs 1 to %d positive numbers, comma separated",
                                          NT_ANALYZE_MAX_SCALES);
        } else if (strcmp(a, "--trials") == 0) {
            if (!nt_cli_parse_int(v, &n) || n < 1 || n > 1000000)
                return nt_cli_usage_error("analyze", "--trials needs a count from 1 to 1000000");
            o->a.trials = (int)n;
        } else if (strcmp(a, "--seed") == 0) {
            if (!nt_cli_parse_int(v, &n) || n < 0)
                return nt_cli_usage_error("analyze", "--seed needs a non-negative integer");
            o->a.seed = (uint64_t)n;
        } else if (strcmp(a, "--ranking") == 0) {
            int k = strcmp(v, "auto") == 0 ? NT_ANALYZE_RANKING_AUTO : strcmp(v, "exact") == 0 ? NT_ANALYZE_RANKING_EXACT
                  : strcmp(v, "noise") == 0 ? NT_ANALYZE_RANKING_NOISE
                                            : -1;
            o->a.ranking = (nt_analyze_ranking)k;
            if (k < 0)
                return nt_cli_usage_error("analyze", "--ranking is auto, exact or noise");
        } else if (strcmp(a, "--top") == 0) {
            if (!nt_cli_parse_int(v, &n) || n < 0 || n > 100000)
                return nt_cli_usage_error("analyze", "--top needs a count from 0 to 100000");
            o->a.top = (int)n;
        } else if (strcmp(a, "--feature") == 0) {
            o->a.feature = v;
        } else if (strcmp(a, "--range") == 0) {
            if (!parse_range(v, &o->a.lo, &o->a.hi, &o->a.points))
                return nt_cli_usage_error("analyze", "--range needs A:B:N (numbers A, B; N from 1 to 100000 points)");
            o->a.has_range = true;
        }
    }
    if (!o->a.model_path)
        return nt_cli_usage_error("analyze", "no MODEL given");
    if (o->a.method == 0)
        return nt_cli_usage_error("analyze", "--method occlusion, perturb or sweep is required");
    if (o->a.method == NT_ANALYZE_SWEEP && !o->a.feature)
        return nt_cli_usage_error("analyze", "--method sweep needs --feature IDX (a flat index or coordinates)");
    if (o->a.method != NT_ANALYZE_SWEEP && (o->a.feature || o->a.has_range))
        return nt_cli_usage_error("analyze", "--feature and --range belong to --method sweep");
    return NT_EXIT_OK;
}

/* ---------------------------------------------------------------- progress */

typedef struct progress_state {
    const char *method;
    double last_ms;
    bool shown;
} progress_state;

/* At most a few lines a second, only for a person at a terminal. */
static void progress(void *user, const char *what, int64_t done, int64_t total)
{
    progress_state *ps = user;
    double now = nt_now_ms();
    if (done < total && now - ps->last_ms < 250)
        return;
    ps->last_ms = now;
    ps->shown = true;
    fprintf(stderr, "\rnntrace analyze: %s %lld/%lld %s", ps->method, (long long)done, (long long)total, what);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* ---------------------------------------------------------------- main */

/* A library error: misnamed inputs, outputs and targets are usage errors. */
static int analyze_fail(const nt_model *m, nt_status st)
{
    const char *msg = nt_last_error();
    fprintf(stderr, "nntrace analyze: %s\n", msg[0] ? msg : nt_status_name(st));
    if (st == NT_ERR_INVALID_ARG && strncmp(msg, "the model has no input", 22) == 0)
        nt_cli_print_expected_inputs(stderr, m);
    return st == NT_ERR_INVALID_ARG ? NT_EXIT_USAGE : NT_EXIT_BAD_INPUT;
}

static int print_result(const analyze_opts *o, const nt_analyze_result *r)
{
    char *out;
    size_t len;
    nt_status st = o->json ? nt_analyze_result_json(r, &out, &len) : nt_analyze_result_text(r, &out, &len);
    if (st != NT_OK)
        return nt_cli_fail(st);
    fwrite(out, 1, len, stdout);
    free(out);
    return NT_EXIT_OK;
}

int nt_cmd_analyze(int argc, char **argv)
{
    analyze_opts o = {0};
    int code = parse_args(argc, argv, &o);
    nt_model *m = NULL;
    nt_session *s = NULL;
    nt_analyze_result *r = NULL;
    progress_state ps = {method_names[o.a.method], 0, false};
    o.in.one_sample = o.a.input ? o.a.input : ""; /* a batch is refused from the file's header */
    if (code != NT_EXIT_OK || (code = nt_cli_open_model(o.a.model_path, &o.in, &m, &s)) != NT_EXIT_OK ||
        (code = nt_cli_bind_inputs("analyze", m, s, &o.in)) != NT_EXIT_OK)
        goto out;
    if (isatty(2)) {
        o.a.progress = progress;
        o.a.progress_user = &ps;
    }
    o.a.log = stderr;
    nt_status st = nt_analyze_run(m, s, &o.a, &r);
    code = st == NT_OK ? print_result(&o, r) : analyze_fail(m, st);
out:
    nt_analyze_result_free(r);
    nt_session_free(s);
    nt_model_free(m);
    nt_cli_inputs_deinit(&o.in);
    return code;
}
