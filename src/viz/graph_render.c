/*
 * graph_render.c — turning the DOT of graph_dot.c into pictures: SVG laid
 * out in-process by Graphviz's libraries (libgvc, "dot" engine), and the
 * self-contained HTML viewer page (the SVG inline, the node metadata as a
 * JSON script element, the viewer's script and style inline; nothing is
 * fetched from the network).
 */
#include "viz/graph.h"

#include <gvc.h>
#include <string.h>

/* One Graphviz context for the life of the process, never freed: Graphviz
 * 2.42's text-layout plugin caches font names across contexts, and a second
 * context after freeing the first reads freed memory (seen under ASan).
 * Not thread-safe, like Graphviz itself. */
static GVC_t *shared_context(void)
{
    static GVC_t *gvc;
    if (!gvc)
        gvc = gvContext();
    return gvc;
}

nt_status nt_graph_svg(const char *dot, nt_buf *out)
{
    GVC_t *gvc = shared_context();
    if (!gvc)
        return nt_error(NT_ERR_NOMEM, "graphviz: cannot create a context");
    nt_status st = NT_OK;
    Agraph_t *g = agmemread(dot);
    if (!g) {
        st = nt_error(NT_ERR_INTERNAL, "graphviz: the generated DOT did not parse");
        goto out;
    }
    if (gvLayout(gvc, g, "dot") != 0) {
        st = nt_error(NT_ERR_INTERNAL, "graphviz: layout failed (is the 'dot' layout plugin installed? "
                                       "libgvc6 and its config6a file)");
        goto out;
    }
    char *data = NULL;
    unsigned int len = 0;
    if (gvRenderData(gvc, g, "svg", &data, &len) != 0 || !data) {
        st = nt_error(NT_ERR_INTERNAL, "graphviz: SVG rendering failed (is the core plugin installed?)");
    } else {
        nt_buf_append(out, data, len);
        if (out->failed)
            st = nt_error(NT_ERR_NOMEM, "out of memory rendering SVG");
    }
    gvFreeRenderData(data);
    gvFreeLayout(gvc, g);
out:
    if (g)
        agclose(g);
    return st;
}

/* Appends s with "</" written "<\/" so it can sit inside a <script> element
 * (valid JSON and JavaScript either way). */
static void put_script_safe(nt_buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        nt_buf_putc(b, *p);
        if (p[0] == '<' && p[1] == '/')
            nt_buf_putc(b, '\\');
    }
}

static void put_html_text(nt_buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': nt_buf_puts(b, "&lt;"); break;
        case '>': nt_buf_puts(b, "&gt;"); break;
        case '&': nt_buf_puts(b, "&amp;"); break;
        case '"': nt_buf_puts(b, "&quot;"); break;
        default: nt_buf_putc(b, *s);
        }
    }
}

nt_status nt_graph_html(const nt_model *m, const nt_graph_options *o, const char *js, const char *css,
                        nt_buf *out)
{
    nt_buf dot, svg, json;
    nt_buf_init(&dot);
    nt_buf_init(&svg);
    nt_buf_init(&json);
    nt_status st = nt_graph_dot(m, o, &dot);
    if (st == NT_OK)
        st = nt_graph_svg(dot.data, &svg);
    if (st == NT_OK)
        st = nt_graph_json(m, o, &json);
    if (st != NT_OK)
        goto out;
    /* The SVG without its XML prolog and DOCTYPE, to sit inline. */
    const char *start = strstr(svg.data, "<svg");
    if (!start) {
        st = nt_error(NT_ERR_INTERNAL, "graphviz produced no <svg> element");
        goto out;
    }
    const char *title = o->title ? o->title : (m->path ? m->path : "model");
    nt_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>nntrace graph: ");
    put_html_text(out, title);
    nt_buf_puts(out, "</title>\n<style>\n");
    nt_buf_puts(out, css ? css : "");
    nt_buf_puts(out, "\n</style>\n</head>\n<body>\n<header id=\"bar\"><span id=\"title\">");
    put_html_text(out, title);
    nt_buf_puts(out, "</span><input id=\"search\" type=\"search\" placeholder=\"search nodes by name or op "
                     "(Enter: next)\" autocomplete=\"off\"><span id=\"count\"></span>"
                     "<button id=\"fit\" type=\"button\" title=\"fit the graph to the window\">fit</button>"
                     "</header>\n<main><div id=\"view\">\n");
    nt_buf_puts(out, start);
    nt_buf_puts(out, "</div>\n<aside id=\"panel\"><p class=\"hint\">Click a node to see its attributes, "
                     "shapes and statistics. Drag to pan, wheel to zoom.</p></aside></main>\n"
                     "<script id=\"nt-data\" type=\"application/json\">\n");
    put_script_safe(out, json.data);
    nt_buf_puts(out, "</script>\n<script>\n");
    put_script_safe(out, js ? js : "");
    nt_buf_puts(out, "\n</script>\n</body>\n</html>\n");
    if (out->failed)
        st = nt_error(NT_ERR_NOMEM, "out of memory writing the HTML page");
out:
    nt_buf_deinit(&dot);
    nt_buf_deinit(&svg);
    nt_buf_deinit(&json);
    return st;
}
