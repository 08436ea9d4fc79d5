/*
 * dbg_cond.c — parser and evaluator of the debugger's conditions
 * (dbg_cond.h).
 *
 * A recursive-descent parser builds a flat array of expression nodes (the
 * tree is linked by indices, so freeing is one free()).  Nesting is bounded
 * so that a hostile "((((..." cannot exhaust the stack.  Evaluation
 * short-circuits && and ||, which is what makes a scope test such as
 * "op:Conv && max > 10" cheap on every other node: the statistics of a
 * tensor are computed only when a test is reached.
 */
#include "debug/dbg_cond.h"
#include "graph/node_pattern.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COND_MAX_DEPTH 64
#define COND_MAX_NODES 256

typedef enum cond_kind {
    COND_OR,
    COND_AND,
    COND_NOT,
    COND_TEST,     /* stat cmp number */
    COND_OP,       /* op:TYPE */
    COND_NODE      /* node:NAME */
} cond_kind;

typedef enum cond_cmp { CMP_LT, CMP_LE, CMP_GT, CMP_GE, CMP_EQ, CMP_NE } cond_cmp;

typedef enum cond_stat {
    STAT_NAN, STAT_INF, STAT_PINF, STAT_NINF, STAT_MIN, STAT_MAX, STAT_ABSMAX, STAT_MEAN, STAT_STD,
    STAT_ZEROS, STAT_NEGATIVES, STAT_NUMEL, STAT_COUNT
} cond_stat;

const char *const nt_dbg_stat_names[] = {"nan",  "inf",  "pinf", "ninf",  "min",       "max",   "absmax",
                                         "mean", "std",  "zeros", "negatives", "numel", NULL};

typedef struct cond_node {
    cond_kind kind;
    int a, b;          /* children (OR/AND: both; NOT: a) */
    cond_stat stat;
    cond_cmp cmp;
    double num;
    char *str;         /* OP/NODE: the name */
} cond_node;

struct nt_dbg_cond {
    char *text;
    int n, root;
    cond_node nodes[COND_MAX_NODES];
};

typedef struct parser {
    const char *src, *p;
    nt_dbg_cond *c;
    int depth;
} parser;

/* ------------------------------------------------------------ subjects */

void nt_dbg_subject_init(nt_dbg_subject *s, const nt_tensor *t, const char *op_type, const char *node_name)
{
    memset(s, 0, sizeof *s);
    s->t = t;
    s->op_type = op_type;
    s->node_name = node_name;
}

void nt_dbg_subject_deinit(nt_dbg_subject *s)
{
    if (s->have_stats)
        nt_tstats_deinit(&s->st);
    s->have_stats = false;
}

static int stat_index(const char *name, size_t len)
{
    for (int i = 0; nt_dbg_stat_names[i]; i++)
        if (strlen(nt_dbg_stat_names[i]) == len && strncmp(nt_dbg_stat_names[i], name, len) == 0)
            return i;
    return -1;
}

/* Statistics of a numeric tensor; a non-numeric one has count 0 and so
 * every statistic undefined. */
static const nt_tstats *subject_stats(nt_dbg_subject *s)
{
    if (!s->have_stats) {
        nt_tstats_init(&s->st, false); /* without a histogram it cannot fail */
        if (s->t && nt_dtype_is_numeric(s->t->dtype) && nt_dtype_size(s->t->dtype) > 0 && s->t->data)
            nt_tstats_add(&s->st, s->t);
        s->have_stats = true;
    }
    return &s->st;
}

static double stat_value(nt_dbg_subject *s, cond_stat which)
{
    const nt_tstats *st = subject_stats(s);
    if (st->count == 0)
        return which == STAT_NUMEL ? 0.0 : NAN;
    double n = (double)st->count;
    switch (which) {
    case STAT_NAN: return (double)st->nan;
    case STAT_INF: return (double)(st->pinf + st->ninf);
    case STAT_PINF: return (double)st->pinf;
    case STAT_NINF: return (double)st->ninf;
    case STAT_MIN: return st->finite ? st->min : NAN;
    case STAT_MAX: return st->finite ? st->max : NAN;
    case STAT_ABSMAX: return st->finite ? nt_tstats_absmax(st) : NAN;
    case STAT_MEAN: return st->finite ? nt_tstats_mean(st) : NAN;
    case STAT_STD: return st->finite ? nt_tstats_std(st) : NAN;
    case STAT_ZEROS: return (double)st->zeros / n;
    case STAT_NEGATIVES: return (double)st->negatives / n;
    case STAT_NUMEL: return n;
    default: return NAN;
    }
}

double nt_dbg_subject_stat(nt_dbg_subject *s, const char *stat, bool *known)
{
    int i = stat_index(stat, strlen(stat));
    *known = i >= 0;
    return i >= 0 ? stat_value(s, (cond_stat)i) : NAN;
}

/* ------------------------------------------------------------ parsing */

static void skip_space(parser *ps)
{
    while (isspace((unsigned char)*ps->p))
        ps->p++;
}

static nt_status syntax_error(parser *ps, const char *what)
{
    int col = (int)(ps->p - ps->src) + 1;
    if (*ps->p)
        return nt_error(NT_ERR_INVALID_ARG, "condition '%s': %s at column %d (near '%.12s')", ps->src, what, col,
                        ps->p);
    return nt_error(NT_ERR_INVALID_ARG, "condition '%s': %s at the end", ps->src, what);
}

static nt_status new_node(parser *ps, cond_kind kind, int *out)
{
    if (ps->c->n >= COND_MAX_NODES)
        return syntax_error(ps, "too many terms");
    *out = ps->c->n++;
    memset(&ps->c->nodes[*out], 0, sizeof(cond_node));
    ps->c->nodes[*out].kind = kind;
    return NT_OK;
}

static nt_status parse_or(parser *ps, int *out);

static bool is_name_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_';
}

/* op:TYPE / node:NAME — the name runs to white space, ')' or an operator. */
static nt_status parse_scope(parser *ps, cond_kind kind, int *out)
{
    const char *start = ps->p;
    while (*ps->p && !isspace((unsigned char)*ps->p) && *ps->p != ')' && *ps->p != '(' &&
           strncmp(ps->p, "&&", 2) != 0 && strncmp(ps->p, "||", 2) != 0)
        ps->p++;
    if (ps->p == start)
        return syntax_error(ps, kind == COND_OP ? "expected an op type after 'op:'" : "expected a node name after 'node:'");
    nt_status st = new_node(ps, kind, out);
    if (st != NT_OK)
        return st;
    char *s = nt_strndup(start, (size_t)(ps->p - start));
    if (!s)
        return NT_ERR_NOMEM;
    ps->c->nodes[*out].str = s;
    return NT_OK;
}

static nt_status parse_test(parser *ps, int *out)
{
    const char *start = ps->p;
    while (is_name_char(*ps->p))
        ps->p++;
    size_t len = (size_t)(ps->p - start);
    if (len == 0) {
        ps->p = start;
        return syntax_error(ps, "expected a statistic (nan, inf, min, max, absmax, mean, std, zeros, ...), "
                                "'op:', 'node:', '!' or '('");
    }
    if (*ps->p == ':' && ((len == 2 && strncmp(start, "op", 2) == 0) || (len == 4 && strncmp(start, "node", 4) == 0))) {
        ps->p++;
        return parse_scope(ps, len == 2 ? COND_OP : COND_NODE, out);
    }
    int si = stat_index(start, len);
    if (si < 0) {
        ps->p = start;
        return syntax_error(ps, "unknown statistic (expected nan, inf, pinf, ninf, min, max, absmax, mean, std, "
                                "zeros, negatives or numel)");
    }
    nt_status st = new_node(ps, COND_TEST, out);
    if (st != NT_OK)
        return st;
    cond_node *n = &ps->c->nodes[*out];
    n->stat = (cond_stat)si;
    skip_space(ps);
    static const struct { const char *s; cond_cmp c; } ops[] = {
        {"<=", CMP_LE}, {">=", CMP_GE}, {"==", CMP_EQ}, {"!=", CMP_NE}, {"<", CMP_LT}, {">", CMP_GT}, {"=", CMP_EQ},
    };
    for (size_t k = 0; k < NT_ARRAY_LEN(ops); k++) {
        size_t ol = strlen(ops[k].s);
        if (strncmp(ps->p, ops[k].s, ol) == 0) {
            ps->p += ol;
            skip_space(ps);
            char *end;
            errno = 0;
            double v = strtod(ps->p, &end);
            if (end == ps->p || errno == ERANGE || (*end && (is_name_char(*end) || *end == '.')))
                return syntax_error(ps, "expected a number");
            n->cmp = ops[k].c;
            n->num = v;
            ps->p = end;
            return NT_OK;
        }
    }
    n->cmp = CMP_NE; /* a bare statistic: "nan" means nan != 0 */
    n->num = 0;
    return NT_OK;
}

static nt_status parse_unary(parser *ps, int *out)
{
    skip_space(ps);
    if (ps->depth >= COND_MAX_DEPTH)
        return syntax_error(ps, "nested too deeply");
    nt_status st;
    if (*ps->p == '!' && ps->p[1] != '=') {
        ps->p++;
        int child;
        ps->depth++;
        st = parse_unary(ps, &child);
        ps->depth--;
        if (st != NT_OK)
            return st;
        if ((st = new_node(ps, COND_NOT, out)) != NT_OK)
            return st;
        ps->c->nodes[*out].a = child;
        return NT_OK;
    }
    if (*ps->p == '(') {
        ps->p++;
        ps->depth++;
        st = parse_or(ps, out);
        ps->depth--;
        if (st != NT_OK)
            return st;
        skip_space(ps);
        if (*ps->p != ')')
            return syntax_error(ps, "expected ')'");
        ps->p++;
        return NT_OK;
    }
    return parse_test(ps, out);
}

/* One left-associative level: and := unary ("&&" unary)*, or likewise. */
static nt_status parse_binary(parser *ps, int *out, const char *tok, cond_kind kind)
{
    nt_status st = kind == COND_AND ? parse_unary(ps, out) : parse_binary(ps, out, "&&", COND_AND);
    while (st == NT_OK) {
        skip_space(ps);
        if (strncmp(ps->p, tok, 2) != 0)
            break;
        ps->p += 2;
        int rhs = 0, node = 0;
        st = kind == COND_AND ? parse_unary(ps, &rhs) : parse_binary(ps, &rhs, "&&", COND_AND);
        if (st == NT_OK && (st = new_node(ps, kind, &node)) == NT_OK) {
            ps->c->nodes[node].a = *out;
            ps->c->nodes[node].b = rhs;
            *out = node;
        }
    }
    return st;
}

static nt_status parse_or(parser *ps, int *out)
{
    return parse_binary(ps, out, "||", COND_OR);
}

nt_status nt_dbg_cond_parse(const char *text, nt_dbg_cond **out)
{
    *out = NULL;
    while (isspace((unsigned char)*text))
        text++;
    size_t len = strlen(text);
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    nt_dbg_cond *c = nt_calloc(1, sizeof *c);
    if (!c)
        return NT_ERR_NOMEM;
    if (!(c->text = nt_strndup(text, len))) {
        free(c);
        return NT_ERR_NOMEM;
    }
    parser ps = {c->text, c->text, c, 0};
    nt_status st;
    if (len == 0)
        st = nt_error(NT_ERR_INVALID_ARG, "empty condition (e.g. 'nan > 0', 'max > 1e4 || inf > 0')");
    else
        st = parse_or(&ps, &c->root);
    if (st == NT_OK) {
        skip_space(&ps);
        if (*ps.p)
            st = syntax_error(&ps, "expected '&&', '||' or the end");
    }
    if (st != NT_OK) {
        nt_dbg_cond_free(c);
        return st;
    }
    *out = c;
    return NT_OK;
}

void nt_dbg_cond_free(nt_dbg_cond *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++)
        free(c->nodes[i].str);
    free(c->text);
    free(c);
}

const char *nt_dbg_cond_text(const nt_dbg_cond *c) { return c->text; }

bool nt_dbg_cond_uses_stats(const nt_dbg_cond *c)
{
    for (int i = 0; i < c->n; i++)
        if (c->nodes[i].kind == COND_TEST)
            return true;
    return false;
}

/* ------------------------------------------------------------ evaluation */

static bool compare(double v, cond_cmp cmp, double x)
{
    if (isnan(v))
        return false; /* undefined statistic: no comparison holds */
    switch (cmp) {
    case CMP_LT: return v < x;
    case CMP_LE: return v <= x;
    case CMP_GT: return v > x;
    case CMP_GE: return v >= x;
    case CMP_EQ: return v == x;
    case CMP_NE: return v != x;
    }
    return false;
}

static bool eval_node(const nt_dbg_cond *c, int i, nt_dbg_subject *s)
{
    const cond_node *n = &c->nodes[i];
    switch (n->kind) {
    case COND_OR: return eval_node(c, n->a, s) || eval_node(c, n->b, s);
    case COND_AND: return eval_node(c, n->a, s) && eval_node(c, n->b, s);
    case COND_NOT: return !eval_node(c, n->a, s);
    case COND_OP: return nt_node_op_match(n->str, s->op_type); /* as break op:TYPE does */
    case COND_NODE: return s->node_name && strcmp(s->node_name, n->str) == 0;
    case COND_TEST: return compare(stat_value(s, n->stat), n->cmp, n->num);
    }
    return false;
}

bool nt_dbg_cond_eval(const nt_dbg_cond *c, nt_dbg_subject *s)
{
    return eval_node(c, c->root, s);
}
