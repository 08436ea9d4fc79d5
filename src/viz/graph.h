/*
 * graph.h — `nntrace graph`: a model's graph as Graphviz DOT, as SVG laid
 * out in-process with Graphviz's libraries, and as one self-contained HTML
 * page (the SVG plus node metadata plus the viewer's script and style; no
 * network access) with pan, zoom, search and a side panel per node.
 *
 * Op nodes are labelled by op and name; edges by dtype and shape; weights
 * (initializers) are folded into their consumer with element counts;
 * If/Loop/Scan bodies are drawn as clusters; fill colours follow the op
 * family.  Given what a run recorded (stats.jsonl, profile.json, diff.json
 * in a run directory) nodes are marked NaN/Inf, dead or constant, and may be
 * coloured by time, absolute maximum, zero fraction or diff error.
 *
 * Output is deterministic: elements appear in graph order, ids are derived
 * from positions in that order ("n12"), numbers are printed with fixed
 * formats.
 */
#ifndef NT_VIZ_GRAPH_H
#define NT_VIZ_GRAPH_H

#include "core/core.h"
#include "graph/ir.h"

typedef enum nt_graph_color {
    NT_GRAPH_COLOR_OP = 0,    /* by op family */
    NT_GRAPH_COLOR_TIME,      /* kernel time (profile.json) */
    NT_GRAPH_COLOR_ABSMAX,    /* max |value| of the outputs (stats.jsonl) */
    NT_GRAPH_COLOR_ZEROS,     /* zero fraction of the outputs (stats.jsonl) */
    NT_GRAPH_COLOR_DIFF       /* max abs error against a reference (diff.json) */
} nt_graph_color;

/* "op", "time", ... -> the enum; false if unknown. */
bool nt_graph_color_parse(const char *s, nt_graph_color *out);

/* What a run recorded about one node (all of its outputs together). */
typedef struct nt_graph_node_run {
    bool has_stats;
    double min, max, absmax;
    double zero_fraction;     /* over all outputs' elements */
    int64_t count, nan, inf, zeros;
    bool constant;            /* every output has std 0 over more than one element */
    bool has_time;
    double time_ms;           /* summed over runs' events */
    bool has_diff;
    double diff_max_abs, diff_cosine;
    bool diff_ok;
} nt_graph_node_run;

/* A run's records keyed by node and value name. */
typedef struct nt_graph_overlay nt_graph_overlay;

/* Reads run_dir/stats.jsonl, run_dir/profile.json and run_dir/diff.json
 * when present (run_dir may be NULL), and diff_json (the JSON of `nntrace
 * diff`, may be NULL) over them.  Missing files are fine; a file that does
 * not parse is NT_ERR_PARSE naming it. */
nt_status nt_graph_overlay_load(const char *run_dir, const char *diff_json, nt_graph_overlay **out);
void nt_graph_overlay_free(nt_graph_overlay *o);
/* The record of a node by name (NULL if the run has none). */
const nt_graph_node_run *nt_graph_overlay_node(const nt_graph_overlay *o, const char *node);
/* "float32[1,64,56,56]" of a value as the run saw it (NULL if unknown). */
const char *nt_graph_overlay_value_type(const nt_graph_overlay *o, const char *value);

/* Statically known type of value v of graph g ("float32[1,3,?,?]"), or ""
 * when nothing is known: the caller's answer (e.g. a session's shape
 * inference) before the declared value_info. */
typedef void (*nt_graph_type_fn)(void *user, const nt_graph *g, int v, char *buf, size_t len);

typedef struct nt_graph_options {
    nt_graph_color color;
    const nt_graph_overlay *run;   /* may be NULL */
    nt_graph_type_fn type_of;      /* may be NULL */
    void *type_user;
    const char *title;             /* graph label; the model file name by default */
} nt_graph_options;

/* The graph as DOT. */
nt_status nt_graph_dot(const nt_model *m, const nt_graph_options *o, nt_buf *out);
/* Node metadata for the HTML viewer, as JSON: {"title", "color", "nodes":
 * {id: {name, op, domain, graph, attrs, inputs, outputs, params, run}}}. */
nt_status nt_graph_json(const nt_model *m, const nt_graph_options *o, nt_buf *out);
/* Lays out DOT with Graphviz's "dot" engine in-process and renders SVG. */
nt_status nt_graph_svg(const char *dot, nt_buf *out);
/* The self-contained HTML page: the SVG of the DOT, the JSON metadata,
 * and the viewer's script and style inlined. */
nt_status nt_graph_html(const nt_model *m, const nt_graph_options *o, const char *js, const char *css,
                        nt_buf *out);

#endif /* NT_VIZ_GRAPH_H */
