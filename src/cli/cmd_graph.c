/*
 * cmd_graph.c — `nntrace graph MODEL [-o FILE.svg|.dot|.html] [--run DIR]`:
 * the model's graph as DOT (default: to stdout), SVG (laid out in-process
 * with Graphviz) or one self-contained HTML viewer page, optionally marked
 * with what a run recorded (NaN/Inf, dead layers, time, value range, diff
 * error).  Shapes on edges come from the run when given, else from nntrace's
 * static shape inference, else from the model's declarations.
 */
#include "cli/cli_env.h"
#include "cli/cli_model.h"
#include "cli/cli_trace.h"
#include "exec/exec.h"
#include "serve/serve.h"
#include "viz/graph.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const nt_serve_asset nt_web_assets[];

const char nt_usage_graph[] =
    "usage: nntrace graph MODEL [-o FILE.svg|.dot|.html] [--run DIR] [--color MODE]\n"
    "\n"
    "Draws MODEL's graph: op nodes labelled by op and name, edges by dtype and\n"
    "shape, weights folded into their consumer with parameter counts, If/Loop/Scan\n"
    "bodies as clusters, colours by op family.  The format follows -o's suffix:\n"
    ".dot (Graphviz source), .svg (laid out with Graphviz's libraries) or .html (a\n"
    "single self-contained page: pan, zoom, search, and a side panel with the\n"
    "clicked node's attributes, shapes and statistics).  Without -o, DOT goes to\n"
    "standard output.\n"
    "\n"
    "  -o FILE            output file (.svg, .dot/.gv or .html/.htm; '-' for DOT on stdout)\n"
    "  --run DIR          overlay a run directory: stats.jsonl (value ranges, NaN/Inf,\n"
    "                     dead and constant outputs, shapes), profile.json (time),\n"
    "                     diff.json (written by `run --compare`)\n"
    "  --diff FILE        overlay a `nntrace diff --out FILE` report\n"
    "  --color MODE       op (default), time, absmax, zeros or diff\n"
    "  --title TEXT       the graph's title (default: the model file name)\n"
    "  --dim NAME=N       value of a symbolic dimension for shape inference\n"
    "\n"
    "exit codes: 0 ok, 1 usage error, 2 bad model or run directory.\n";

typedef enum { FMT_DOT, FMT_SVG, FMT_HTML } out_format;

static bool has_suffix(const char *s, const char *suf)
{
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcasecmp(s + n - k, suf) == 0;
}

static const nt_plan *plan_of(const nt_plan *p, const nt_graph *g)
{
    if (!p)
        return NULL;
    if (p->graph == g)
        return p;
    for (int i = 0; i < p->n_sub; i++) {
        const nt_plan *q = plan_of(p->subs[i], g);
        if (q)
            return q;
    }
    return NULL;
}

/* Types from the session's static shape inference ("?" for unknown dims). */
static void inferred_type(void *user, const nt_graph *g, int v, char *buf, size_t len)
{
    const nt_plan *p = plan_of(((nt_session *)user)->plan, g);
    buf[0] = '\0';
    if (!p || !p->info || v < 0 || v >= g->n_values)
        return;
    const nt_tensor *t = &p->info[v];
    const nt_value *decl = &g->values[v];
    if (t->dtype == NT_DTYPE_UNDEFINED || t->ndim < 0)
        return;
    size_t o = (size_t)snprintf(buf, len, "%s[", nt_dtype_name(t->dtype));
    for (int d = 0; d < t->ndim && o < len; d++) {
        if (t->dims[d] >= 0)
            o += (size_t)snprintf(buf + o, len - o, "%s%lld", d ? "," : "", (long long)t->dims[d]);
        else /* the declared symbolic name ("batch") says more than "?" */
            o += (size_t)snprintf(buf + o, len - o, "%s%s", d ? "," : "",
                                  decl->ndim == t->ndim && decl->dim_names && decl->dim_names[d] ? decl->dim_names[d]
                                                                                                : "?");
    }
    if (o < len)
        snprintf(buf + o, len - o, "]");
}

static const char *asset(const char *path)
{
    for (const nt_serve_asset *a = nt_web_assets; a->path; a++)
        if (strcmp(a->path, path) == 0)
            return (const char *)a->data;   /* embed.sh ends every asset with a NUL */
    return NULL;
}

static int graph_main(int argc, char **argv, nt_cli_inputs *in)
{
    const char *model = NULL, *outp = NULL, *run_dir = NULL, *diff = NULL, *title = NULL;
    nt_graph_color color = NT_GRAPH_COLOR_OP;
    for (int i = 1; i < argc; i++) {
        int r = nt_cli_parse_input_opt("graph", argc, argv, &i, in);
        if (r < 0)
            return NT_EXIT_USAGE;
        if (r > 0)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 || strcmp(a, "--run") == 0 || strcmp(a, "--diff") == 0 ||
            strcmp(a, "--color") == 0 || strcmp(a, "--colour") == 0 || strcmp(a, "--title") == 0) {
            if (i + 1 >= argc)
                return nt_cli_usage_error("graph", "%s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "-o") == 0)
                outp = v;
            else if (strcmp(a, "--run") == 0)
                run_dir = v;
            else if (strcmp(a, "--diff") == 0)
                diff = v;
            else if (strcmp(a, "--title") == 0)
                title = v;
            else if (!nt_graph_color_parse(v, &color))
                return nt_cli_usage_error("graph", "--color needs op, time, absmax, zeros or diff");
        } else if (a[0] == '-' && a[1]) {
            return nt_cli_usage_error("graph", "unknown option '%s'", a);
        } else if (!model) {
            model = a;
        } else {
            return nt_cli_usage_error("graph", "unexpected argument '%s'", a);
        }
    }
    if (!model)
        return nt_cli_usage_error("graph", "no MODEL given");
    out_format fmt = FMT_DOT;
    if (outp && strcmp(outp, "-") != 0) {
        if (has_suffix(outp, ".svg"))
            fmt = FMT_SVG;
        else if (has_suffix(outp, ".html") || has_suffix(outp, ".htm"))
            fmt = FMT_HTML;
        else if (!has_suffix(outp, ".dot") && !has_suffix(outp, ".gv"))
            return nt_cli_usage_error("graph", "-o needs a file ending in .svg, .dot, .gv, .html or .htm");
    }
    const char *js = NULL, *css = NULL;
    if (fmt == FMT_HTML && (!(js = asset("/graph/graph.js")) || !(css = asset("/graph/graph.css")))) {
        fprintf(stderr, "nntrace graph: this build lacks the viewer (web/graph/graph.js, graph.css)\n");
        return NT_EXIT_BAD_INPUT;
    }

    nt_model *m = NULL;
    nt_session *s = NULL;
    nt_graph_overlay *ov = NULL;
    nt_buf out;
    nt_buf_init(&out);
    int code = NT_EXIT_OK;
    nt_status st = nt_model_load(model, &m);
    if (st != NT_OK)
        goto fail;
    /* Shape inference is a help, not a need: a model nntrace cannot run
     * still draws. */
    nt_session_options so = {in->threads, in->n_dims, in->dim_names, in->dim_values, nt_cli_env.no_fusion,
                             nt_cli_env.no_winograd};
    if (nt_session_new(m, &so, &s) != NT_OK) {
        s = NULL;
        nt_error_clear();
    }
    if (run_dir)
        nt_cli_warn_incomplete("graph", run_dir);
    if ((run_dir || diff) && (st = nt_graph_overlay_load(run_dir, diff, &ov)) != NT_OK)
        goto fail;
    nt_graph_options go = {color, ov, s ? inferred_type : NULL, s, title};
    double t0 = nt_now_ms();
    if (fmt == FMT_HTML) {
        st = nt_graph_html(m, &go, js, css, &out);
    } else {
        st = nt_graph_dot(m, &go, &out);
        if (st == NT_OK && fmt == FMT_SVG) {
            nt_buf svg;
            nt_buf_init(&svg);
            st = nt_graph_svg(out.data, &svg);
            nt_buf_deinit(&out);
            out = svg;
        }
    }
    if (st != NT_OK)
        goto fail;
    if (!outp || strcmp(outp, "-") == 0) {
        fwrite(out.data, 1, out.len, stdout);
    } else {
        if ((st = nt_write_file(outp, out.data, out.len)) != NT_OK)
            goto fail;
        fprintf(stderr, "%s: %d nodes, %.1f KiB in %.0f ms\n", outp, m->graph->n_nodes, (double)out.len / 1024.0,
                nt_now_ms() - t0);
    }
    goto done;
fail:
    code = nt_cli_fail(st);
done:
    nt_buf_deinit(&out);
    nt_graph_overlay_free(ov);
    nt_session_free(s);
    nt_model_free(m);
    return code;
}

int nt_cmd_graph(int argc, char **argv)
{
    nt_cli_inputs in = {0};
    int code = graph_main(argc, argv, &in);
    nt_cli_inputs_deinit(&in);
    return code;
}
