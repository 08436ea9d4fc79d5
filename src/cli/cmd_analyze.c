/*
 * cmd_analyze.c — `nntrace analyze MODEL -i ... --method occlusion|perturb|
 * sweep [...] -o DIR`: the model analyzer.  Binds the inputs like `run`,
 * picks the analyzed input (first graph input or --input NAME), the watched
 * output (first graph output or --output NAME) and the target element
 * (--target, else the argmax of the unperturbed output), runs one method of
 * analyze/sensitivity.h, prints a summary (or JSON) and writes maps (.npy,
 * .png), sweeps (.csv, .svg) and analysis.json into DIR.
 */
#include "analyze/sensitivity.h"
#include "cli/cli_model.h"
#include "exec/exec.h"
#include "core/core.h"

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

typedef enum method { M_NONE, M_OCCLUSION, M_PERTURB, M_SWEEP } method;

typedef struct analyze_opts {
    const char *model, *outdir, *input, *output, *target, *layout, *feature;
    nt_cli_inputs in;
    method m;
    bool json;
    nt_occlusion_options occ;
    const char *baseline_text;
    nt_perturb_options pert;
    int top;
    bool has_range;
    double lo, hi;
    int points;
} analyze_opts;

static const char *const method_names[] = {"", "occlusion", "perturb", "sweep"};

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

static bool parse_scales(const char *s, nt_perturb_options *p)
{
    p->n_scales = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double v;
        if (p->n_scales >= NT_PERTURB_MAX_SCALES || !nt_cli_parse_double(tok, &v) || !(v > 0) || !isfinite(v))
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
    o->pert.n_scales = 3;
    o->pert.scales[0] = 0.01;
    o->pert.scales[1] = 0.05;
    o->pert.scales[2] = 0.1;
    o->pert.trials = 20;
    o->top = 10;
    o->baseline_text = "0";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        /* --input NAME selects the analyzed input; --input NAME=FILE binds like -i */
        if (strcmp(a, "--input") == 0 && i + 1 < argc && !strchr(argv[i + 1], '=')) {
            o->input = argv[++i];
            continue;
        }
        if (strncmp(a, "--input=", 8) == 0 && a[8] && !strchr(a + 8, '=')) {
            o->input = a + 8;
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
            if (o->model)
                return nt_cli_usage_error("analyze", "unexpected argument '%s'", a);
            o->model = a;
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
            o->m = strcmp(v, "occlusion") == 0 ? M_OCCLUSION : strcmp(v, "perturb") == 0 ? M_PERTURB
                 : strcmp(v, "sweep") == 0     ? M_SWEEP
                                               : M_NONE;
            if (o->m == M_NONE)
                return nt_cli_usage_error("analyze", "--method is occlusion, perturb or sweep, not '%s'", v);
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output-dir") == 0) {
            o->outdir = v;
        } else if (strcmp(a, "--output") == 0) {
            o->output = v;
        } else if (strcmp(a, "--target") == 0) {
            o->target = v;
        } else if (strcmp(a, "--layout") == 0) {
            o->layout = v;
        } else if (strcmp(a, "--window") == 0) {
            if (!parse_pair(v, &o->occ.win_h, &o->occ.win_w))
                return nt_cli_usage_error("analyze", "--window needs K or KHxKW (positive)");
        } else if (strcmp(a, "--stride") == 0) {
            if (!parse_pair(v, &o->occ.stride_h, &o->occ.stride_w))
                return nt_cli_usage_error("analyze", "--stride needs S or SHxSW (positive)");
        } else if (strcmp(a, "--baseline") == 0) {
            o->baseline_text = v;
            if (strcmp(v, "mean") == 0)
                o->occ.baseline = NT_BASELINE_MEAN;
            else if (!nt_cli_parse_double(v, &o->occ.baseline_value) || !isfinite(o->occ.baseline_value))
                return nt_cli_usage_error("analyze", "--baseline needs 'mean' or a number");
        } else if (strcmp(a, "--scales") == 0) {
            if (!parse_scales(v, &o->pert))
                return nt_cli_usage_error("analyze", "--scales needs 1 to %d positive numbers, comma separated",
                                          NT_PERTURB_MAX_SCALES);
        } else if (strcmp(a, "--trials") == 0) {
            if (!nt_cli_parse_int(v, &n) || n < 1 || n > 1000000)
                return nt_cli_usage_error("analyze", "--trials needs a count from 1 to 1000000");
            o->pert.trials = (int)n;
        } else if (strcmp(a, "--seed") == 0) {
            if (!nt_cli_parse_int(v, &n) || n < 0)
                return nt_cli_usage_error("analyze", "--seed needs a non-negative integer");
            o->pert.seed = (uint64_t)n;
        } else if (strcmp(a, "--ranking") == 0) {
            o->pert.ranking = strcmp(v, "auto") == 0 ? NT_RANKING_AUTO : strcmp(v, "exact") == 0 ? NT_RANKING_EXACT
                            : strcmp(v, "noise") == 0 ? NT_RANKING_NOISE
                                                      : (nt_ranking_kind)-1;
            if ((int)o->pert.ranking < 0)
                return nt_cli_usage_error("analyze", "--ranking is auto, exact or noise");
        } else if (strcmp(a, "--top") == 0) {
            if (!nt_cli_parse_int(v, &n) || n < 0 || n > 100000)
                return nt_cli_usage_error("analyze", "--top needs a count from 0 to 100000");
            o->top = (int)n;
        } else if (strcmp(a, "--feature") == 0) {
            o->feature = v;
        } else if (strcmp(a, "--range") == 0) {
            if (!parse_range(v, &o->lo, &o->hi, &o->points))
                return nt_cli_usage_error("analyze", "--range needs A:B:N (numbers A, B; N from 1 to 100000 points)");
            o->has_range = true;
        }
    }
    if (!o->model)
        return nt_cli_usage_error("analyze", "no MODEL given");
    if (o->m == M_NONE)
        return nt_cli_usage_error("analyze", "--method occlusion, perturb or sweep is required");
    if (o->m == M_SWEEP && !o->feature)
        return nt_cli_usage_error("analyze", "--method sweep needs --feature IDX (a flat index or coordinates)");
    if (o->m != M_SWEEP && (o->feature || o->has_range))
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

/* ---------------------------------------------------------------- output */

typedef struct ctx {
    analyze_opts *o;
    nt_model *m;
    nt_session *s;
    nt_value_info in_vi, out_vi;
    int in_idx, out_idx;
    nt_tensor *x;                 /* the analyzed input as bound */
    nt_layout layout;
    bool has_layout;
    nt_probe probe;
    double ms;
    nt_buf files;                 /* JSON members of "files" */
    int n_files;
} ctx;

static void json_shape(nt_buf *b, int ndim, const int64_t *dims)
{
    nt_buf_putc(b, '[');
    for (int d = 0; d < ndim; d++)
        nt_buf_printf(b, "%s%lld", d ? ", " : "", (long long)dims[d]);
    nt_buf_putc(b, ']');
}

static void shape_text(char *buf, size_t len, int ndim, const int64_t *dims)
{
    size_t u = (size_t)snprintf(buf, len, "(");
    for (int d = 0; d < ndim && u < len; d++)
        u += (size_t)snprintf(buf + u, len - u, "%s%lld", d ? "," : "", (long long)dims[d]);
    if (u < len)
        snprintf(buf + u, len - u, ")");
}

/* Records a written file under a role for analysis.json. */
static void add_file(ctx *c, const char *role, const char *name)
{
    nt_buf_printf(&c->files, "%s\"%s\": ", c->n_files++ ? ", " : "", role);
    nt_buf_json_string(&c->files, name);
}

static nt_status save_npy(ctx *c, const char *role, const char *name, const float *v, int ndim, const int64_t *dims)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->o->outdir, name);
    nt_tensor t = {0};
    t.dtype = NT_DTYPE_FLOAT;
    nt_tensor_set_shape(&t, ndim, dims);
    t.data = (void *)v;
    t.capacity = nt_tensor_nbytes(&t);
    nt_status st = nt_npy_save(path, &t);
    if (st == NT_OK)
        add_file(c, role, name);
    return st;
}

/* The map's PNG heatmap and, for images, the overlay. */
static nt_status save_pngs(ctx *c, const char *stem, const float *map, bool signed_map)
{
    char path[4096], name[256];
    snprintf(name, sizeof name, "%s.png", stem);
    snprintf(path, sizeof path, "%s/%s", c->o->outdir, name);
    nt_status st = nt_sens_heatmap_png(path, map, c->layout.H, c->layout.W, signed_map);
    if (st != NT_OK)
        return st;
    add_file(c, "heatmap_png", name);
    if (!nt_layout_is_image(&c->layout))
        return NT_OK;
    snprintf(name, sizeof name, "%s_overlay.png", stem);
    snprintf(path, sizeof path, "%s/%s", c->o->outdir, name);
    if ((st = nt_sens_overlay_png(path, map, &c->layout, c->probe.base_f64, signed_map)) == NT_OK)
        add_file(c, "overlay_png", name);
    return st;
}

/* The map's shape as saved: (H, W), or (L) for 1-D inputs. */
static int map_dims(const nt_layout *l, int64_t *dims)
{
    if (l->one_d) {
        dims[0] = l->W;
        return 1;
    }
    dims[0] = l->H;
    dims[1] = l->W;
    return 2;
}

static void json_common(ctx *c, nt_buf *b)
{
    nt_probe *p = &c->probe;
    char coords[256];
    nt_buf_printf(b, "{\"method\": \"%s\", \"model\": ", method_names[c->o->m]);
    nt_buf_json_string(b, c->o->model);
    nt_buf_puts(b, ",\n \"input\": {\"name\": ");
    nt_buf_json_string(b, c->in_vi.name);
    nt_buf_printf(b, ", \"dtype\": \"%s\", \"shape\": ", nt_dtype_name(c->x->dtype));
    json_shape(b, c->x->ndim, c->x->dims);
    if (c->has_layout)
        nt_buf_printf(b, ", \"layout\": \"%s\"", c->layout.spec);
    nt_buf_puts(b, "},\n \"output\": {\"name\": ");
    nt_buf_json_string(b, c->out_vi.name);
    nt_buf_puts(b, ", \"shape\": ");
    json_shape(b, p->base_out->ndim, p->base_out->dims);
    nt_buf_puts(b, ", \"values\": [");
    for (int64_t i = 0; i < p->out_numel && i < 10; i++) {
        nt_buf_puts(b, i ? ", " : "");
        nt_buf_json_double(b, nt_tensor_get_f64(p->base_out, i));
    }
    nt_feature_format(p->target, p->base_out->ndim, p->base_out->dims, coords, sizeof coords);
    nt_buf_printf(b, "]},\n \"target\": {\"index\": %lld, \"coords\": [%s], \"default\": %s, \"score\": ",
                  (long long)p->target, coords, p->target_is_default ? "true" : "false");
    nt_buf_json_double(b, p->base_score);
    nt_buf_printf(b, ", \"predicted\": %lld},\n", (long long)p->base_argmax);
    nt_buf_printf(b, " \"runs\": %lld, \"seconds\": ", (long long)p->runs);
    nt_buf_json_double(b, c->ms / 1000.0);
    nt_buf_puts(b, ", \"ms_per_run\": ");
    nt_buf_json_double(b, p->runs ? p->run_ms / (double)p->runs : 0.0);
    nt_buf_puts(b, ",\n");
}

static void text_common(ctx *c)
{
    nt_probe *p = &c->probe;
    char shape[256], coords[256];
    shape_text(shape, sizeof shape, c->x->ndim, c->x->dims);
    printf("analyze %s: %s\n", method_names[c->o->m], c->o->model);
    printf("  input   %s %s%s", c->in_vi.name, nt_dtype_name(c->x->dtype), shape);
    if (c->has_layout)
        printf(" layout %s", c->layout.spec);
    shape_text(shape, sizeof shape, p->base_out->ndim, p->base_out->dims);
    nt_feature_format(p->target, p->base_out->ndim, p->base_out->dims, coords, sizeof coords);
    printf("\n  output  %s %s\n", c->out_vi.name, shape);
    printf("  target  %s[%lld]%s%s%s = %.6g (%s)\n", c->out_vi.name, (long long)p->target,
           p->base_out->ndim > 1 ? " at (" : "", p->base_out->ndim > 1 ? coords : "", p->base_out->ndim > 1 ? ")" : "",
           p->base_score,
           p->target_is_default ? (p->out_numel == 1 ? "the only output value" : "the argmax of the unperturbed output")
                                : p->target == p->base_argmax ? "given by --target; also the predicted class"
                                                              : "given by --target");
    if (!p->target_is_default && p->target != p->base_argmax)
        printf("          (the predicted class is %lld)\n", (long long)p->base_argmax);
}

/* ---------------------------------------------------------------- methods */

static int do_occlusion(ctx *c, nt_buf *b)
{
    nt_occlusion_result r;
    nt_status st = nt_occlusion_run(&c->probe, &c->layout, &c->o->occ, &r);
    if (st != NT_OK)
        return nt_cli_fail(st);
    c->ms = nt_now_ms() - c->ms;
    int64_t dims[2];
    int nd = map_dims(&c->layout, dims);
    if (c->o->outdir && (st = save_npy(c, "map_npy", "occlusion.npy", r.map, nd, dims)) == NT_OK)
        st = save_pngs(c, "occlusion", r.map, true);
    if (st != NT_OK) {
        nt_occlusion_result_deinit(&r);
        return nt_cli_fail(st);
    }
    json_common(c, b);
    nt_buf_printf(b, " \"occlusion\": {\"window\": [%lld, %lld], \"stride\": [%lld, %lld], \"baseline\": ",
                  (long long)r.win_h, (long long)r.win_w, (long long)r.stride_h, (long long)r.stride_w);
    nt_buf_json_string(b, c->o->baseline_text);
    nt_buf_printf(b, ", \"windows\": %lld, \"map_shape\": ", (long long)r.windows);
    json_shape(b, nd, dims);
    nt_buf_puts(b, ", \"map_min\": ");
    nt_buf_json_double(b, r.map_min);
    nt_buf_puts(b, ", \"map_max\": ");
    nt_buf_json_double(b, r.map_max);
    nt_buf_printf(b, ", \"best_window\": {\"y\": %lld, \"x\": %lld, \"drop\": ", (long long)r.best_y,
                  (long long)r.best_x);
    nt_buf_json_double(b, r.best_drop);
    nt_buf_puts(b, "}, \"most_negative_drop\": ");
    nt_buf_json_double(b, r.worst_drop);
    nt_buf_puts(b, "},\n");
    if (!c->o->json) {
        text_common(c);
        printf("  window  %lldx%lld, stride %lldx%lld, baseline %s: %lld windows, %lld runs in %.2f s (%.2f ms/run)\n",
               (long long)r.win_h, (long long)r.win_w, (long long)r.stride_h, (long long)r.stride_w,
               c->o->occ.baseline == NT_BASELINE_MEAN ? "per-channel mean" : c->o->baseline_text,
               (long long)r.windows, (long long)c->probe.runs, c->ms / 1000.0,
               c->probe.runs ? c->probe.run_ms / (double)c->probe.runs : 0.0);
        printf("  map     %s (%lld x %lld): drop of the target score from %.6g to %.6g\n",
               c->layout.one_d ? "1-D" : "H x W", (long long)r.H, (long long)r.W, r.map_min, r.map_max);
        if (c->layout.one_d)
            printf("  largest drop %.6g with positions %lld..%lld occluded", r.best_drop, (long long)r.best_x,
                   (long long)(r.best_x + r.win_w - 1));
        else
            printf("  largest drop %.6g with rows %lld..%lld, columns %lld..%lld occluded", r.best_drop,
                   (long long)r.best_y, (long long)(r.best_y + r.win_h - 1), (long long)r.best_x,
                   (long long)(r.best_x + r.win_w - 1));
        printf(" (score %.6g -> %.6g)\n", c->probe.base_score, c->probe.base_score - r.best_drop);
        if (r.worst_drop < 0)
            printf("  occluding raised the score by up to %.6g somewhere (negative map values)\n", -r.worst_drop);
    }
    nt_occlusion_result_deinit(&r);
    return NT_EXIT_OK;
}

static int do_perturb(ctx *c, nt_buf *b)
{
    nt_perturb_result r;
    nt_probe *p = &c->probe;
    if (c->o->pert.ranking == NT_RANKING_EXACT && p->numel > NT_PERTURB_EXACT_MAX)
        fprintf(stderr, "nntrace analyze: --ranking exact on %lld features takes %lld runs (about %.0f s here)\n",
                (long long)p->numel, 2 * (long long)p->numel, 2.0 * (double)p->numel * p->run_ms / 1000.0);
    nt_status st = nt_perturb_run(p, &c->o->pert, &r);
    if (st != NT_OK)
        return nt_cli_fail(st);
    c->ms = nt_now_ms() - c->ms;
    float *sens = nt_malloc(sizeof(float) * (size_t)r.numel), *grad = nt_malloc(sizeof(float) * (size_t)r.numel);
    float *map = c->has_layout ? nt_malloc(sizeof(float) * (size_t)(c->layout.H * c->layout.W)) : NULL;
    if (!sens || !grad || (c->has_layout && !map)) {
        st = NT_ERR_NOMEM;
        goto out;
    }
    for (int64_t i = 0; i < r.numel; i++) {
        grad[i] = (float)r.grad[i];
        sens[i] = (float)fabs(r.grad[i]);
    }
    if (map)
        nt_layout_spatial_sum_abs(&c->layout, r.grad, map);
    if (c->o->outdir) {
        int64_t dims[2];
        int nd = c->has_layout ? map_dims(&c->layout, dims) : 0;
        if ((st = save_npy(c, "gradient_npy", "gradient.npy", grad, c->x->ndim, c->x->dims)) == NT_OK &&
            (st = save_npy(c, "sensitivity_npy", "sensitivity.npy", sens, c->x->ndim, c->x->dims)) == NT_OK &&
            map && (st = save_npy(c, "map_npy", "sensitivity_map.npy", map, nd, dims)) == NT_OK)
            st = save_pngs(c, "sensitivity", map, false);
        if (st != NT_OK)
            goto out;
    }
    const char *how = r.exact ? "exact central finite differences" : "noise-correlation estimate";
    json_common(c, b);
    nt_buf_printf(b, " \"perturb\": {\"seed\": %llu, \"trials\": %d, \"input_std\": ",
                  (unsigned long long)c->o->pert.seed, c->o->pert.trials);
    nt_buf_json_double(b, r.input_std);
    nt_buf_printf(b, ", \"input_std_fallback\": %s, \"scales\": [", r.input_std_fallback ? "true" : "false");
    for (int k = 0; k < r.n_scales; k++) {
        const nt_perturb_scale *s = &r.scales[k];
        nt_buf_puts(b, k ? ",\n   {\"scale\": " : "\n   {\"scale\": ");
        nt_buf_json_double(b, s->scale);
        nt_buf_puts(b, ", \"sigma\": ");
        nt_buf_json_double(b, s->sigma);
        nt_buf_puts(b, ", \"mean_abs_dtarget\": ");
        nt_buf_json_double(b, s->mean_abs_dtarget);
        nt_buf_puts(b, ", \"max_abs_dtarget\": ");
        nt_buf_json_double(b, s->max_abs_dtarget);
        nt_buf_puts(b, ", \"mean_dtarget\": ");
        nt_buf_json_double(b, s->mean_dtarget);
        nt_buf_puts(b, ", \"std_dtarget\": ");
        nt_buf_json_double(b, s->std_dtarget);
        nt_buf_puts(b, ", \"mean_abs_doutput\": ");
        nt_buf_json_double(b, s->mean_abs_doutput);
        nt_buf_printf(b, ", \"flips\": %d, \"flip_rate\": ", s->flips);
        nt_buf_json_double(b, (double)s->flips / s->trials);
        nt_buf_puts(b, "}");
    }
    nt_buf_printf(b, "],\n  \"ranking\": \"%s\", \"ranking_detail\": \"%s\", \"fd_step\": ",
                  r.exact ? "exact" : "noise", how);
    if (r.exact)
        nt_buf_json_double(b, r.fd_step);
    else
        nt_buf_puts(b, "null");
    nt_buf_puts(b, ", \"top\": [");
    int top = (int)NT_MIN((int64_t)c->o->top, r.numel);
    for (int k = 0; k < top; k++) {
        int64_t i = r.order[k];
        char coords[256];
        nt_feature_format(i, c->x->ndim, c->x->dims, coords, sizeof coords);
        nt_buf_printf(b, "%s{\"index\": %lld, \"coords\": [%s], \"gradient\": ", k ? ",\n   " : "\n   ",
                      (long long)i, coords);
        nt_buf_json_double(b, r.grad[i]);
        nt_buf_puts(b, ", \"value\": ");
        nt_buf_json_double(b, p->base_f64[i]);
        nt_buf_puts(b, "}");
    }
    nt_buf_puts(b, "]},\n");
    if (!c->o->json) {
        text_common(c);
        printf("  noise   std = scale x input std (%.6g%s), %d trials per scale, seed %llu\n", r.input_std,
               r.input_std_fallback ? ": the input is constant, 1 used" : "", c->o->pert.trials,
               (unsigned long long)c->o->pert.seed);
        printf("  %8s %11s %13s %13s %13s %16s %s\n", "scale", "sigma", "mean|dtarget|", "max|dtarget|",
               "mean dtarget", "mean|doutputs|", "class flips");
        for (int k = 0; k < r.n_scales; k++) {
            const nt_perturb_scale *s = &r.scales[k];
            printf("  %8.4g %11.4g %13.6g %13.6g %13.6g %16.6g %d/%d (%.0f%%)\n", s->scale, s->sigma,
                   s->mean_abs_dtarget, s->max_abs_dtarget, s->mean_dtarget, s->mean_abs_doutput, s->flips,
                   s->trials, 100.0 * s->flips / s->trials);
        }
        if (r.exact)
            printf("  features ranked by exact central finite differences (step %.4g, 2 runs per feature)\n",
                   r.fd_step);
        else
            printf("  features ranked by a noise-correlation estimate from the %d trials (the input has %lld\n"
                   "  elements, too many for finite differences; the estimate sharpens with more --trials)\n",
                   r.n_scales * c->o->pert.trials, (long long)r.numel);
        if (top > 0)
            printf("  %4s %10s %-20s %13s %13s\n", "rank", "index", "coords", "d target/dx", "value");
        for (int k = 0; k < top; k++) {
            int64_t i = r.order[k];
            char coords[256];
            nt_feature_format(i, c->x->ndim, c->x->dims, coords, sizeof coords);
            printf("  %4d %10lld %-20s %13.6g %13.6g\n", k + 1, (long long)i, coords, r.grad[i], p->base_f64[i]);
        }
        printf("  %lld runs in %.2f s (%.2f ms/run)\n", (long long)p->runs, c->ms / 1000.0,
               p->runs ? p->run_ms / (double)p->runs : 0.0);
    }
out:
    free(sens);
    free(grad);
    free(map);
    nt_perturb_result_deinit(&r);
    return st == NT_OK ? NT_EXIT_OK : nt_cli_fail(st);
}

static int do_sweep(ctx *c, nt_buf *b)
{
    nt_probe *p = &c->probe;
    nt_sweep_options so = {0};
    nt_status st = nt_feature_parse(c->o->feature, c->x->ndim, c->x->dims, &so.feature);
    if (st != NT_OK)
        return nt_cli_fail(st);
    double orig = p->base_f64[so.feature];
    if (c->o->has_range) {
        so.lo = c->o->lo;
        so.hi = c->o->hi;
        so.n = c->o->points;
    } else {
        /* around the value, on the input's own scale */
        double sd = nt_probe_input_std(p);
        sd = sd > 0 && isfinite(sd) ? sd : 1.0;
        so.lo = orig - 3 * sd;
        so.hi = orig + 3 * sd;
        so.n = 21;
    }
    nt_sweep_result r;
    if ((st = nt_sweep_run(p, &so, &r)) != NT_OK)
        return nt_cli_fail(st);
    c->ms = nt_now_ms() - c->ms;
    char coords[256], label[300];
    nt_feature_format(so.feature, c->x->ndim, c->x->dims, coords, sizeof coords);
    snprintf(label, sizeof label, "%lld (%s)", (long long)so.feature, coords);
    if (c->o->outdir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/sweep.csv", c->o->outdir);
        if ((st = nt_sweep_write_csv(path, &r, c->out_vi.name, p->target)) == NT_OK) {
            add_file(c, "csv", "sweep.csv");
            snprintf(path, sizeof path, "%s/sweep.svg", c->o->outdir);
            if ((st = nt_sweep_write_svg(path, &r, label, c->out_vi.name, p->target)) == NT_OK)
                add_file(c, "plot_svg", "sweep.svg");
        }
        if (st != NT_OK) {
            nt_sweep_result_deinit(&r);
            return nt_cli_fail(st);
        }
    }
    double tmin = INFINITY, tmax = -INFINITY;
    int kmin = 0, kmax = 0;
    for (int k = 0; k < r.n; k++) {
        if (r.target[k] < tmin) {
            tmin = r.target[k];
            kmin = k;
        }
        if (r.target[k] > tmax) {
            tmax = r.target[k];
            kmax = k;
        }
    }
    json_common(c, b);
    nt_buf_printf(b, " \"sweep\": {\"feature\": %lld, \"coords\": [%s], \"original\": ", (long long)so.feature,
                  coords);
    nt_buf_json_double(b, r.original);
    nt_buf_puts(b, ", \"range\": [");
    nt_buf_json_double(b, so.lo);
    nt_buf_puts(b, ", ");
    nt_buf_json_double(b, so.hi);
    nt_buf_printf(b, "], \"points\": %d, \"target_min\": ", r.n);
    nt_buf_json_double(b, tmin);
    nt_buf_puts(b, ", \"target_max\": ");
    nt_buf_json_double(b, tmax);
    /* the curve itself when it is short; sweep.csv always has it */
    if (r.n <= 200) {
        nt_buf_puts(b, ", \"values\": [");
        for (int k = 0; k < r.n; k++) {
            nt_buf_puts(b, k ? ", " : "");
            nt_buf_json_double(b, r.values[k]);
        }
        nt_buf_puts(b, "], \"target\": [");
        for (int k = 0; k < r.n; k++) {
            nt_buf_puts(b, k ? ", " : "");
            nt_buf_json_double(b, r.target[k]);
        }
        nt_buf_puts(b, "]");
    }
    nt_buf_puts(b, "},\n");
    if (!c->o->json) {
        text_common(c);
        printf("  feature %s = %.6g, swept over [%.6g, %.6g] in %d points\n", label, r.original, so.lo, so.hi, r.n);
        printf("  target from %.6g (at %.6g) to %.6g (at %.6g)\n", tmin, r.values[kmin], tmax, r.values[kmax]);
        int step = r.n > 11 ? (r.n - 1) / 10 : 1;
        printf("  %13s %13s\n", "value", "target");
        for (int k = 0; k < r.n; k += step)
            printf("  %13.6g %13.6g\n", r.values[k], r.target[k]);
        if ((r.n - 1) % step)
            printf("  %13.6g %13.6g\n", r.values[r.n - 1], r.target[r.n - 1]);
        printf("  %lld runs in %.2f s\n", (long long)p->runs, c->ms / 1000.0);
    }
    nt_sweep_result_deinit(&r);
    return NT_EXIT_OK;
}

/* ---------------------------------------------------------------- main */

/* Finds the analyzed input and watched output (by name or first). */
static int resolve_io(ctx *c)
{
    analyze_opts *o = c->o;
    c->in_idx = c->out_idx = -1;
    for (int i = 0; i < nt_model_input_count(c->m); i++) {
        nt_value_info vi;
        if (nt_model_input_info(c->m, i, &vi) == NT_OK && (o->input ? strcmp(vi.name, o->input) == 0 : i == 0)) {
            c->in_idx = i;
            c->in_vi = vi;
            break;
        }
    }
    if (c->in_idx < 0) {
        if (o->input)
            fprintf(stderr, "nntrace analyze: the model has no input named '%s' (bind files with -i)\n", o->input);
        else
            fprintf(stderr, "nntrace analyze: the model has no graph inputs to analyze\n");
        nt_cli_print_expected_inputs(stderr, c->m);
        return NT_EXIT_USAGE;
    }
    for (int i = 0; i < nt_model_output_count(c->m); i++) {
        nt_value_info vi;
        if (nt_model_output_info(c->m, i, &vi) == NT_OK && (o->output ? strcmp(vi.name, o->output) == 0 : i == 0)) {
            c->out_idx = i;
            c->out_vi = vi;
            break;
        }
    }
    if (c->out_idx < 0) {
        fprintf(stderr, "nntrace analyze: the model has no output named '%s'; outputs:", o->output ? o->output : "");
        for (int i = 0; i < nt_model_output_count(c->m); i++) {
            nt_value_info vi;
            if (nt_model_output_info(c->m, i, &vi) == NT_OK)
                fprintf(stderr, " %s", vi.name);
        }
        fputc('\n', stderr);
        return NT_EXIT_USAGE;
    }
    return NT_EXIT_OK;
}

/* The analyzed input's tensor as bound (from a file or --random/--zeros):
 * one run with values kept, then a copy of the graph input. */
static int fetch_input(ctx *c)
{
    /* One sample is analyzed: a batch is refused before the model runs on
     * all of it (a batch of 200k would take gigabytes to be refused later). */
    const nt_tensor *b = nt_session_bound_input(c->s, c->in_vi.name);
    if (b && b->ndim >= 2 && b->dims[0] > 1 && !(c->in_vi.ndim == b->ndim && c->in_vi.dims[0] == b->dims[0])) {
        fprintf(stderr, "nntrace analyze: input '%s' holds a batch of %lld samples; analyze works on one "
                "(axis 0 of length 1: take one sample, e.g. x[i:i+1] in numpy)\n", c->in_vi.name,
                (long long)b->dims[0]);
        return NT_EXIT_BAD_INPUT;
    }
    nt_tensor *v;
    nt_session_set_keep_values(c->s, true);
    nt_status st = nt_session_run(c->s);
    if (st == NT_OK)
        st = nt_session_get_value(c->s, c->in_vi.name, &v);
    if (st == NT_OK)
        st = nt_tensor_clone(v, &c->x);
    nt_session_set_keep_values(c->s, false);
    return st == NT_OK ? NT_EXIT_OK : nt_cli_fail(st);
}

/* --target as a flat index or coordinates into the watched output. */
static int resolve_target(ctx *c, int64_t *target)
{
    *target = -1;
    if (!c->o->target)
        return NT_EXIT_OK;
    const nt_tensor *y;
    nt_status st = nt_session_get_output(c->s, c->out_idx, &y);
    if (st == NT_OK)
        st = nt_feature_parse(c->o->target, y->ndim, y->dims, target);
    if (st != NT_OK) {
        fprintf(stderr, "nntrace analyze: --target: %s\n", nt_last_error());
        return NT_EXIT_USAGE;
    }
    return NT_EXIT_OK;
}

int nt_cmd_analyze(int argc, char **argv)
{
    analyze_opts o = {0};
    int code = parse_args(argc, argv, &o);
    if (code != NT_EXIT_OK) {
        nt_cli_inputs_deinit(&o.in);
        return code;
    }
    ctx c = {0};
    c.o = &o;
    nt_buf_init(&c.files);
    nt_buf json;
    nt_buf_init(&json);
    progress_state ps = {method_names[o.m], 0, false};
    if ((code = nt_cli_open_model(o.model, &o.in, &c.m, &c.s)) != NT_EXIT_OK)
        goto out;
    if ((code = resolve_io(&c)) != NT_EXIT_OK || (code = nt_cli_bind_inputs("analyze", c.m, c.s, &o.in)) != NT_EXIT_OK ||
        (code = fetch_input(&c)) != NT_EXIT_OK)
        goto out;
    int64_t target;
    if ((code = resolve_target(&c, &target)) != NT_EXIT_OK)
        goto out;
    nt_status st = nt_layout_init(o.layout, c.x->ndim, c.x->dims, &c.layout);
    c.has_layout = st == NT_OK;
    if (!c.has_layout && (o.m == M_OCCLUSION || o.layout)) {
        code = nt_cli_fail(st);
        goto out;
    }
    if ((st = nt_probe_init(&c.probe, c.s, c.in_vi.name, c.x, c.out_idx, target)) != NT_OK) {
        code = nt_cli_fail(st);
        goto out;
    }
    if (isatty(2)) {
        c.probe.progress = progress;
        c.probe.progress_user = &ps;
    }
    if (o.outdir && (st = nt_mkdirs(o.outdir)) != NT_OK) {
        code = nt_cli_fail(st);
        goto out;
    }
    c.ms = nt_now_ms();
    code = o.m == M_OCCLUSION ? do_occlusion(&c, &json) : o.m == M_PERTURB ? do_perturb(&c, &json)
                                                                          : do_sweep(&c, &json);
    if (code != NT_EXIT_OK)
        goto out;
    nt_buf_puts(&json, " \"files\": {");
    if (c.files.len)
        nt_buf_append(&json, c.files.data, c.files.len);
    nt_buf_puts(&json, "}}\n");
    if (json.failed) {
        code = nt_cli_fail(NT_ERR_NOMEM);
        goto out;
    }
    if (o.outdir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/analysis.json", o.outdir);
        if ((st = nt_write_file(path, json.data, json.len)) != NT_OK) {
            code = nt_cli_fail(st);
            goto out;
        }
        if (!o.json)
            printf("  wrote %s/ (analysis.json, %s)\n", o.outdir,
                   o.m == M_SWEEP ? "sweep.csv, sweep.svg" : o.m == M_PERTURB ? "gradient.npy, sensitivity*.npy/.png"
                                                                              : "occlusion.npy/.png");
    }
    if (o.json)
        fputs(json.data, stdout);
out:
    nt_probe_deinit(&c.probe);
    nt_tensor_free(c.x);
    nt_buf_deinit(&c.files);
    nt_buf_deinit(&json);
    nt_session_free(c.s);
    nt_model_free(c.m);
    nt_cli_inputs_deinit(&o.in);
    return code;
}
