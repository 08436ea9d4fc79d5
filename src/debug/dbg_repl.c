/*
 * dbg_repl.c — where the debugger's commands come from: a script (or any
 * non-terminal stdin), read line by line and echoed so the log reads like
 * a terminal session, or a terminal, through libedit (editline) for line
 * editing, history and tab completion.
 *
 * Completion offers command names for the first word, `info` topics after
 * `info`, op types after "op:", and otherwise node and value names of the
 * top graph.  One match is completed in full; several are completed to
 * their longest common prefix and, if that adds nothing, listed.
 */
#include "debug/dbg_internal.h"

#include <ctype.h>
#include <histedit.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ scripts */

/* Reports a failed command on err, after the output before it. */
static void report_error(nt_debugger *d, const char *where, int line)
{
    fflush(d->out);
    const char *msg = nt_last_error();
    if (where)
        fprintf(d->err, "%s:%d: error: %s\n", where, line, msg[0] ? msg : "command failed");
    else
        fprintf(d->err, "error: %s\n", msg[0] ? msg : "command failed");
    fflush(d->err);
}

/* Bounds on a script, so that an endless or binary input (-x /dev/zero)
 * ends with a message instead of growing without limit. */
#define DBG_LINE_MAX 65536
#define DBG_SCRIPT_MAX (16 << 20)

/* Reads one line (without its newline) into buf; 0 at the end, 1 for a
 * line, -1 with the error set for a line too long, a NUL byte or a script
 * past DBG_SCRIPT_MAX bytes (*total counts the bytes read). */
static int read_line(FILE *in, char *buf, const char *name, int lineno, size_t *total)
{
    size_t n = 0;
    int c;
    while ((c = getc(in)) != EOF) {
        if (++*total > DBG_SCRIPT_MAX) {
            nt_error(NT_ERR_PARSE, "%s: script longer than %d bytes (the debugger's limit)", name, DBG_SCRIPT_MAX);
            return -1;
        }
        if (c == '\n')
            break;
        if (c == '\0') {
            nt_error(NT_ERR_PARSE, "%s:%d: a NUL byte: not a text script", name, lineno);
            return -1;
        }
        if (n == DBG_LINE_MAX) {
            nt_error(NT_ERR_PARSE, "%s:%d: line longer than %d bytes (the debugger's limit)", name, lineno,
                     DBG_LINE_MAX);
            return -1;
        }
        buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return c == EOF && n == 0 ? 0 : 1;
}

nt_status nt_debugger_script(nt_debugger *d, FILE *in, const char *name, int *n_failed)
{
    char *line = nt_malloc(DBG_LINE_MAX + 1);
    if (!line)
        return NT_ERR_NOMEM;
    size_t total = 0;
    int lineno = 0, r;
    bool quit = false;
    nt_status st = NT_OK;
    *n_failed = 0;
    while (!quit && (r = read_line(in, line, name, lineno + 1, &total)) != 0) {
        if (r < 0) {
            st = NT_ERR_PARSE;
            break;
        }
        lineno++;
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        fprintf(d->out, "(nntrace) %s\n", p);
        nt_error_clear();
        if (nt_debugger_exec(d, p, &quit) != NT_OK) {
            report_error(d, name, lineno);
            ++*n_failed;
        }
    }
    free(line);
    fflush(d->out);
    if (st == NT_OK && ferror(in))
        st = nt_error(NT_ERR_IO, "%s: read error", name);
    return st;
}

/* ------------------------------------------------------------ completion */

typedef struct cands {
    const char **v;
    int n, cap;
} cands;

static void cand_add(cands *c, const char *s, const char *prefix, size_t plen)
{
    if (!s || strncmp(s, prefix, plen) != 0)
        return;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 64;
        const char **v = nt_realloc(c->v, (size_t)cap * sizeof *v);
        if (!v)
            return; /* completion is best effort */
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Candidates for the word [ws, ws+wl) of line; *skip is how many leading
 * characters of the word are not part of the names (the "op:" prefix). */
static void gather(const nt_debugger *d, const char *line, const char *ws, size_t wl, cands *c, size_t *skip)
{
    *skip = 0;
    const char *p = line;
    while (p < ws && isspace((unsigned char)*p))
        p++;
    if (p == ws) { /* the command word */
        for (const dbg_command *k = nt_dbg_commands; k->name; k++)
            cand_add(c, k->name, ws, wl);
        return;
    }
    size_t cl = strcspn(p, " \t");
    const dbg_command *cmd = nt_dbg_find_command(p, cl);
    if (cmd && strcmp(cmd->name, "help") == 0) {
        for (const dbg_command *k = nt_dbg_commands; k->name; k++)
            cand_add(c, k->name, ws, wl);
        return;
    }
    if (cmd && strcmp(cmd->name, "info") == 0) {
        for (int i = 0; nt_dbg_info_topics[i]; i++)
            cand_add(c, nt_dbg_info_topics[i], ws, wl);
        return;
    }
    if (wl >= 3 && strncmp(ws, "op:", 3) == 0) {
        *skip = 3;
        for (int i = 0; i < d->n_order; i++)
            cand_add(c, nt_dbg_node_at(d, i)->op_type, ws + 3, wl - 3);
        return;
    }
    for (int i = 0; i < d->n_order; i++)
        cand_add(c, nt_dbg_node_at(d, i)->name, ws, wl);
    for (int v = 0; v < d->graph->n_values; v++)
        cand_add(c, d->graph->values[v].name, ws, wl);
}

static unsigned char complete(EditLine *el, int ch)
{
    (void)ch;
    nt_debugger *d = NULL;
    el_get(el, EL_CLIENTDATA, &d);
    const LineInfo *li = el_line(el);
    if (!d || !li)
        return CC_ERROR;
    const char *ws = li->cursor;
    while (ws > li->buffer && !isspace((unsigned char)ws[-1]))
        ws--;
    size_t wl = (size_t)(li->cursor - ws), skip;
    char *line = nt_strndup(li->buffer, (size_t)(li->lastchar - li->buffer));
    if (!line)
        return CC_ERROR;
    cands c = {0};
    gather(d, line, line + (ws - li->buffer), wl, &c, &skip);
    free(line);
    unsigned char r = CC_ERROR;
    if (c.n > 0) {
        qsort(c.v, (size_t)c.n, sizeof *c.v, cmp_str);
        int u = 0;
        for (int i = 0; i < c.n; i++)
            if (u == 0 || strcmp(c.v[u - 1], c.v[i]) != 0)
                c.v[u++] = c.v[i];
        c.n = u;
        size_t have = wl - skip, common = strlen(c.v[0]);
        for (int i = 1; i < c.n; i++) {
            size_t k = 0;
            while (k < common && c.v[i][k] == c.v[0][k])
                k++;
            common = k;
        }
        if (common > have) {
            char *ins = nt_strndup(c.v[0] + have, common - have);
            if (ins) {
                el_insertstr(el, ins);
                free(ins);
            }
            if (c.n == 1)
                el_insertstr(el, " ");
            r = CC_REFRESH;
        } else if (c.n == 1) {
            el_insertstr(el, " ");
            r = CC_REFRESH;
        } else {
            FILE *o = d->out;
            fputc('\n', o);
            for (int i = 0; i < c.n && i < 200; i++)
                fprintf(o, "%s%s", c.v[i], i + 1 < c.n ? "  " : "");
            if (c.n > 200)
                fprintf(o, "  ... (%d more)", c.n - 200);
            fputc('\n', o);
            fflush(o);
            r = CC_REDISPLAY;
        }
    }
    free(c.v);
    return r;
}

/* ------------------------------------------------------------ terminal */

static char *prompt(EditLine *el)
{
    (void)el;
    static char p[] = "(nntrace) ";
    return p;
}

nt_status nt_debugger_interactive(nt_debugger *d, int *n_failed)
{
    *n_failed = 0;
    if (!isatty(STDIN_FILENO))
        return nt_debugger_script(d, stdin, "<stdin>", n_failed);
    EditLine *el = el_init("nntrace", stdin, d->out, d->err);
    History *h = history_init();
    if (!el || !h) {
        if (el)
            el_end(el);
        if (h)
            history_end(h);
        return nt_debugger_script(d, stdin, "<stdin>", n_failed);
    }
    HistEvent ev;
    history(h, &ev, H_SETSIZE, 1000);
    history(h, &ev, H_SETUNIQUE, 1);
    el_set(el, EL_EDITOR, "emacs");
    el_set(el, EL_PROMPT, prompt);
    el_set(el, EL_HIST, history, h);
    el_set(el, EL_CLIENTDATA, (void *)d);
    el_set(el, EL_ADDFN, "nt-complete", "complete a command, node or value name", complete);
    el_set(el, EL_BIND, "^I", "nt-complete", NULL);
    el_source(el, NULL); /* the user's ~/.editrc, if any */
    fprintf(d->out, "nntrace debugger: %d nodes.  'help' lists commands, 'start' runs to the first node.\n",
            d->n_order);
    fflush(d->out);
    bool quit = false;
    int count;
    const char *line;
    while (!quit && (line = el_gets(el, &count)) != NULL) {
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s", p);
        size_t n = strlen(cmd);
        while (n > 0 && isspace((unsigned char)cmd[n - 1]))
            cmd[--n] = '\0';
        if (n == 0) {
            if (!d->repeat[0])
                continue;
            snprintf(cmd, sizeof cmd, "%s", d->repeat);
        } else {
            history(h, &ev, H_ENTER, cmd);
        }
        nt_error_clear();
        if (nt_debugger_exec(d, cmd, &quit) != NT_OK) {
            report_error(d, NULL, 0);
            ++*n_failed;
        }
    }
    if (!quit)
        fputc('\n', d->out);
    fflush(d->out);
    el_end(el);
    history_end(h);
    return NT_OK;
}
