/*
 * strings.c — operators on STRING tensors: StringConcat, StringSplit,
 * StringNormalizer, RegexFullMatch, and Equal's string case (called from
 * binary.c).
 *
 * A STRING tensor's data is n pointers to NUL-terminated UTF-8 strings in
 * one owned block (nt_tensor_set_strings); outputs are built as arrays of
 * pointers into the inputs or into scratch buffers, then copied into one
 * block.  Case changes (StringNormalizer) follow Unicode's simple case
 * mappings for ASCII, Latin-1 Supplement, Latin Extended-A/B, Greek and
 * Cyrillic (core/utf8_case.c, the mappings glibc and so ONNX Runtime apply
 * under a UTF-8 locale), whatever the process locale; stopwords without
 * case sensitivity are compared lowercased the same way.
 *
 * RegexFullMatch takes RE2 syntax and runs it on POSIX extended regular
 * expressions (glibc's regcomp) after a translation: \d \w \s and their
 * negations become bracket classes, escapes inside brackets become their
 * characters, lazy quantifiers become greedy (a full match does not
 * depend on laziness), and the pattern is anchored as ^(...)$.  RE2
 * constructs with no POSIX counterpart — groups starting with (?, \p
 * classes, \A \z, \Q..\E, \x, \W \S \D inside brackets — are declined at
 * load with the construct named.
 */
#include "ops/kernel.h"
#include "core/utf8_case.h"

#include <ctype.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

static const char *const *str_data(const nt_tensor *t) { return (const char *const *)t->data; }

/* ------------------------------------------------------------ broadcasting */

/* Numpy broadcasting of a and b into out (ndim, dims). */
static nt_status str_bcast_shape(const nt_kernel_ctx *ctx, const nt_tensor *a, const nt_tensor *b, int *ndim,
                                 int64_t *dims)
{
    int r = NT_MAX(a->ndim, b->ndim);
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->ndim), ib = i - (r - b->ndim);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1 && da >= 0 && db >= 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "shapes do not broadcast (dim %d: %lld vs %lld)", i,
                                (long long)da, (long long)db);
        dims[i] = da == 1 ? db : da;
    }
    *ndim = r;
    return NT_OK;
}

/* Offset into t (of rank <= r, right-aligned) of output index idx. */
static int64_t str_bcast_off(const nt_tensor *t, int r, const int64_t *idx)
{
    int64_t off = 0;
    for (int d = 0; d < t->ndim; d++) {
        int64_t i = t->dims[d] == 1 ? 0 : idx[d + r - t->ndim];
        off = off * t->dims[d] + i;
    }
    return off;
}

static void str_next(int r, const int64_t *dims, int64_t *idx)
{
    for (int d = r - 1; d >= 0; d--) {
        if (++idx[d] < dims[d])
            return;
        idx[d] = 0;
    }
}

static nt_status str_binary_infer(nt_kernel_ctx *ctx, nt_dtype out_type)
{
    const nt_tensor *a = nt_ctx_in(ctx, 0), *b = nt_ctx_in(ctx, 1);
    if (!a || !b)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "two inputs are required");
    if ((a->dtype != NT_DTYPE_STRING && a->dtype != NT_DTYPE_UNDEFINED) ||
        (b->dtype != NT_DTYPE_STRING && b->dtype != NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs must be strings, got %s and %s", nt_dtype_name(a->dtype),
                            nt_dtype_name(b->dtype));
    if (a->ndim < 0 || b->ndim < 0) {
        ctx->out[0]->dtype = out_type;
        ctx->out[0]->ndim = -1;
        return NT_OK;
    }
    int r = 0;
    int64_t dims[NT_MAX_DIMS];
    nt_status s = str_bcast_shape(ctx, a, b, &r, dims);
    return s != NT_OK ? s : nt_ctx_set_output(ctx, 0, out_type, r, dims);
}

/* ------------------------------------------------------------ StringConcat */

static nt_status concat_infer(nt_kernel_ctx *ctx) { return str_binary_infer(ctx, NT_DTYPE_STRING); }

static nt_status concat_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = ctx->in[0], *b = ctx->in[1];
    nt_tensor *y = ctx->out[0];
    int64_t n = nt_tensor_numel(y);
    char **parts = nt_calloc((size_t)n + 1, sizeof *parts);
    if (!parts)
        return NT_ERR_NOMEM;
    int64_t idx[NT_MAX_DIMS] = {0};
    nt_status s = NT_OK;
    for (int64_t i = 0; i < n && s == NT_OK; i++) {
        const char *x = str_data(a)[str_bcast_off(a, y->ndim, idx)];
        const char *z = str_data(b)[str_bcast_off(b, y->ndim, idx)];
        size_t lx = strlen(x), lz = strlen(z);
        parts[i] = nt_malloc(lx + lz + 1);
        if (!parts[i]) {
            s = NT_ERR_NOMEM;
            break;
        }
        memcpy(parts[i], x, lx);
        memcpy(parts[i] + lx, z, lz + 1);
        str_next(y->ndim, y->dims, idx);
    }
    if (s == NT_OK)
        s = nt_tensor_set_strings(y, n, (const char *const *)parts, NULL);
    for (int64_t i = 0; i < n; i++)
        free(parts[i]);
    free(parts);
    return s;
}

/* ------------------------------------------------------------ Equal (strings) */

nt_status nt_str_equal_infer(nt_kernel_ctx *ctx) { return str_binary_infer(ctx, NT_DTYPE_BOOL); }

nt_status nt_str_equal_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *a = ctx->in[0], *b = ctx->in[1];
    nt_tensor *y = ctx->out[0];
    int64_t n = nt_tensor_numel(y), idx[NT_MAX_DIMS] = {0};
    for (int64_t i = 0; i < n; i++) {
        ((uint8_t *)y->data)[i] =
            strcmp(str_data(a)[str_bcast_off(a, y->ndim, idx)], str_data(b)[str_bcast_off(b, y->ndim, idx)]) == 0;
        str_next(y->ndim, y->dims, idx);
    }
    return NT_OK;
}

/* ------------------------------------------------------------ StringSplit */

/* Splits s: by delim (Python's str.split(delim, maxsplit)), or without one
 * by runs of whitespace, leading and trailing whitespace ignored (Python's
 * str.split()).  maxsplit < 0: no limit.  Calls emit for each piece;
 * returns the number of pieces. */
static int64_t split_one(const char *s, const char *delim, int64_t maxsplit,
                         void (*emit)(void *u, const char *p, size_t n), void *u)
{
    int64_t count = 0;
    size_t dl = delim ? strlen(delim) : 0;
    if (dl) {
        const char *p = s;
        for (;;) {
            const char *q = (maxsplit < 0 || count < maxsplit) ? strstr(p, delim) : NULL;
            if (!q) {
                emit(u, p, strlen(p));
                return count + 1;
            }
            emit(u, p, (size_t)(q - p));
            count++;
            p = q + dl;
        }
    }
    const char *p = s;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            return count;
        if (maxsplit >= 0 && count == maxsplit) {
            /* the rest, trailing whitespace dropped */
            size_t n = strlen(p);
            while (n && isspace((unsigned char)p[n - 1]))
                n--;
            emit(u, p, n);
            return count + 1;
        }
        const char *q = p;
        while (*q && !isspace((unsigned char)*q))
            q++;
        emit(u, p, (size_t)(q - p));
        count++;
        p = q;
    }
}

static void emit_none(void *u, const char *p, size_t n) { (void)u, (void)p, (void)n; }

typedef struct split_sink {
    const char **ptrs;
    size_t *lens;
    int64_t at;
} split_sink;

static void emit_store(void *u, const char *p, size_t n)
{
    split_sink *k = u;
    k->ptrs[k->at] = p;
    k->lens[k->at] = n;
    k->at++;
}

static nt_status split_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input is required");
    if (x->dtype != NT_DTYPE_STRING && x->dtype != NT_DTYPE_UNDEFINED)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be strings, got %s", nt_dtype_name(x->dtype));
    if (x->ndim >= NT_MAX_DIMS)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input rank %d leaves no room for the split axis", x->ndim);
    ctx->out[0]->dtype = NT_DTYPE_STRING;
    ctx->out[0]->ndim = -1;   /* the last dim is the most pieces of any string: known at run time */
    if (ctx->n_out > 1 && ctx->out[1]) {
        if (x->ndim < 0) {
            ctx->out[1]->dtype = NT_DTYPE_INT64;
            ctx->out[1]->ndim = -1;
        } else {
            nt_status s = nt_ctx_set_output(ctx, 1, NT_DTYPE_INT64, x->ndim, x->dims);
            if (s != NT_OK)
                return s;
        }
    }
    if (ctx->static_mode)
        return NT_OK;
    /* run time: count the pieces to size the output */
    const char *delim = nt_node_attr_string(ctx->node, "delimiter", "");
    int64_t maxsplit = nt_node_attr_int(ctx->node, "maxsplit", -1);
    int64_t n = nt_tensor_numel(x), most = 0;
    for (int64_t i = 0; i < n; i++)
        most = NT_MAX(most, split_one(str_data(x)[i], delim, maxsplit, emit_none, NULL));
    int64_t dims[NT_MAX_DIMS];
    memcpy(dims, x->dims, (size_t)x->ndim * sizeof *dims);
    dims[x->ndim] = most;
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_STRING, x->ndim + 1, dims);
}

static nt_status split_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0], *z = nt_ctx_out(ctx, 1);
    const char *delim = nt_node_attr_string(ctx->node, "delimiter", "");
    int64_t maxsplit = nt_node_attr_int(ctx->node, "maxsplit", -1);
    int64_t n = nt_tensor_numel(x), most = y->dims[y->ndim - 1], total = nt_tensor_numel(y);
    split_sink k = {nt_calloc((size_t)total + 1, sizeof(char *)), nt_calloc((size_t)total + 1, sizeof(size_t)), 0};
    if (!k.ptrs || !k.lens) {
        free(k.ptrs);
        free(k.lens);
        return NT_ERR_NOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        k.at = i * most;
        int64_t c = split_one(str_data(x)[i], delim, maxsplit, emit_store, &k);
        for (int64_t j = c; j < most; j++) {
            k.ptrs[i * most + j] = "";
            k.lens[i * most + j] = 0;
        }
        if (z)
            ((int64_t *)z->data)[i] = c;
    }
    nt_status s = nt_tensor_set_strings(y, total, k.ptrs, k.lens);
    free(k.ptrs);
    free(k.lens);
    return s;
}

/* ------------------------------------------------------------ StringNormalizer */

typedef struct norm_state {
    char action;            /* 'L'ower, 'U'pper, 'N'one */
    bool case_sensitive;
    int n_stop;
    const char **stop;
} norm_state;

static nt_status norm_prepare(const nt_node *node, int opset, void **state)
{
    (void)opset;
    norm_state *p = nt_calloc(1, sizeof *p);
    if (!p)
        return NT_ERR_NOMEM;
    const char *a = nt_node_attr_string(node, "case_change_action", "NONE");
    p->action = strcmp(a, "LOWER") == 0 ? 'L' : strcmp(a, "UPPER") == 0 ? 'U' : strcmp(a, "NONE") == 0 ? 'N' : 0;
    if (!p->action) {
        free(p);
        return nt_error(NT_ERR_PARSE, "node '%s' (StringNormalizer): case_change_action '%s' is not LOWER, UPPER "
                        "or NONE", node->name, a);
    }
    p->case_sensitive = nt_node_attr_int(node, "is_case_sensitive", 0) != 0;
    const nt_attr *sw = nt_node_attr(node, "stopwords");
    if (sw && sw->type == NT_ATTR_STRINGS) {
        p->n_stop = sw->n;
        p->stop = sw->strings;
    }
    *state = p;
    return NT_OK;
}

static void norm_release(void *state) { free(state); }

/* Equal when lowercased (Unicode simple mappings); false when out of memory. */
static bool utf8_ieq(const char *a, const char *b)
{
    char *la = nt_utf8_change_case(a, false), *lb = la ? nt_utf8_change_case(b, false) : NULL;
    bool eq = la && lb && strcmp(la, lb) == 0;
    free(la);
    free(lb);
    return eq;
}

static bool norm_is_stop(const norm_state *p, const char *s)
{
    for (int i = 0; i < p->n_stop; i++)
        if (p->case_sensitive ? strcmp(s, p->stop[i]) == 0 : utf8_ieq(s, p->stop[i]))
            return true;
    return false;
}

/* x: [C] or [1, C]; y: the kept strings, [K] or [1, K], K >= 1 (an empty
 * result is one empty string, as the spec asks). */
static nt_status norm_shape(const nt_kernel_ctx *ctx, const nt_tensor *x, int64_t kept, int *ndim, int64_t *dims)
{
    if (x->ndim == 1) {
        *ndim = 1;
        dims[0] = kept > 0 ? kept : 1;
        return NT_OK;
    }
    if (x->ndim == 2 && x->dims[0] == 1) {
        *ndim = 2;
        dims[0] = 1;
        dims[1] = kept > 0 ? kept : 1;
        return NT_OK;
    }
    return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be [C] or [1, C], got rank %d", x->ndim);
}

static nt_status norm_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input is required");
    if (x->dtype != NT_DTYPE_STRING && x->dtype != NT_DTYPE_UNDEFINED)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input must be strings, got %s", nt_dtype_name(x->dtype));
    if (ctx->static_mode || x->ndim < 0) {
        ctx->out[0]->dtype = NT_DTYPE_STRING;
        ctx->out[0]->ndim = -1;
        return NT_OK;
    }
    const norm_state *p = ctx->state;
    int64_t n = nt_tensor_numel(x), kept = 0;
    for (int64_t i = 0; i < n; i++)
        kept += !norm_is_stop(p, str_data(x)[i]);
    int r = 0;
    int64_t dims[2];
    nt_status s = norm_shape(ctx, x, kept, &r, dims);
    return s != NT_OK ? s : nt_ctx_set_output(ctx, 0, NT_DTYPE_STRING, r, dims);
}

static nt_status norm_compute(nt_kernel_ctx *ctx)
{
    const norm_state *p = ctx->state;
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t n = nt_tensor_numel(x), k = 0;
    const char **keep = nt_calloc((size_t)n + 1, sizeof *keep);
    if (!keep)
        return NT_ERR_NOMEM;
    for (int64_t i = 0; i < n; i++)
        if (!norm_is_stop(p, str_data(x)[i]))
            keep[k++] = str_data(x)[i];
    if (k == 0)
        keep[k++] = "";
    nt_status s = NT_OK;
    if (p->action != 'N') { /* case-changed copies: a mapping may change a string's length */
        for (int64_t i = 0; i < k && s == NT_OK; i++)
            if (!(keep[i] = nt_utf8_change_case(keep[i], p->action == 'U')))
                s = NT_ERR_NOMEM;
    }
    if (s == NT_OK)
        s = nt_tensor_set_strings(y, k, keep, NULL);
    if (p->action != 'N')
        for (int64_t i = 0; i < k && keep[i]; i++)
            free((char *)keep[i]);
    free(keep);
    return s;
}

/* ------------------------------------------------------------ RegexFullMatch */

typedef struct re_state {
    regex_t re;
} re_state;

/* Appends RE2 pattern src translated to POSIX ERE (see the top of the
 * file) to b; on a construct POSIX cannot express returns it in *bad. */
static bool re2_to_posix(const char *src, nt_buf *b, const char **bad)
{
    nt_buf_puts(b, "^(");
    for (const char *p = src; *p; p++) {
        if (*p == '\\') {
            char c = p[1];
            if (!c) {
                *bad = "a trailing backslash";
                return false;
            }
            p++;
            switch (c) {
            case 'd': nt_buf_puts(b, "[[:digit:]]"); break;
            case 'D': nt_buf_puts(b, "[^[:digit:]]"); break;
            case 'w': nt_buf_puts(b, "[[:alnum:]_]"); break;
            case 'W': nt_buf_puts(b, "[^[:alnum:]_]"); break;
            case 's': nt_buf_puts(b, "[[:space:]]"); break;
            case 'S': nt_buf_puts(b, "[^[:space:]]"); break;
            case 'b': nt_buf_puts(b, "\\b"); break;
            case 'B': nt_buf_puts(b, "\\B"); break;
            case 'n': nt_buf_putc(b, '\n'); break;
            case 't': nt_buf_putc(b, '\t'); break;
            default:
                if (isalnum((unsigned char)c)) {
                    *bad = "an escape POSIX regular expressions lack (\\p, \\A, \\z, \\Q, \\x, ...)";
                    return false;
                }
                nt_buf_putc(b, '\\');
                nt_buf_putc(b, c);
            }
            continue;
        }
        if (*p == '(' && p[1] == '?') {
            *bad = "a (?...) group";
            return false;
        }
        if ((*p == '*' || *p == '+' || *p == '?' || *p == '}') && p[1] == '?') {
            nt_buf_putc(b, *p++);   /* lazy -> greedy: same full-match result */
            continue;
        }
        if (*p == '[') {
            /* bracket expression: escapes become their characters; '-' and
             * ']' written where POSIX takes them literally */
            bool dash = false, close = false;
            nt_buf_putc(b, '[');
            p++;
            if (*p == '^') {
                nt_buf_putc(b, '^');
                p++;
            }
            nt_buf body;
            nt_buf_init(&body);
            for (; *p && *p != ']'; p++) {
                if (*p == '\\' && p[1]) {
                    char c = *++p;
                    switch (c) {
                    case 'd': nt_buf_puts(&body, "[:digit:]"); break;
                    case 'w': nt_buf_puts(&body, "[:alnum:]_"); break;
                    case 's': nt_buf_puts(&body, "[:space:]"); break;
                    case '-': dash = true; break;
                    case ']': close = true; break;
                    case 'n': nt_buf_putc(&body, '\n'); break;
                    case 't': nt_buf_putc(&body, '\t'); break;
                    default:
                        if (isalnum((unsigned char)c)) {
                            nt_buf_deinit(&body);
                            *bad = "an escape inside brackets POSIX cannot express (\\W, \\S, \\D, \\p, ...)";
                            return false;
                        }
                        nt_buf_putc(&body, c);
                    }
                } else if (*p == '[' && p[1] == ':') {
                    const char *e = strstr(p, ":]");
                    if (!e) {
                        nt_buf_deinit(&body);
                        *bad = "an unterminated [: class";
                        return false;
                    }
                    nt_buf_append(&body, p, (size_t)(e + 2 - p));
                    p = e + 1;
                } else {
                    nt_buf_putc(&body, *p);
                }
            }
            if (!*p) {
                nt_buf_deinit(&body);
                *bad = "an unterminated [";
                return false;
            }
            if (close)
                nt_buf_putc(b, ']');
            if (body.len)
                nt_buf_append(b, body.data, body.len);
            if (dash)
                nt_buf_putc(b, '-');
            nt_buf_putc(b, ']');
            nt_buf_deinit(&body);
            continue;
        }
        nt_buf_putc(b, *p);
    }
    nt_buf_puts(b, ")$");
    return true;
}

static nt_status re_prepare(const nt_node *node, int opset, void **state)
{
    (void)opset;
    const char *pat = nt_node_attr_string(node, "pattern", NULL);
    if (!pat)
        return nt_error(NT_ERR_PARSE, "node '%s' (RegexFullMatch): attribute 'pattern' is missing", node->name);
    nt_buf b;
    nt_buf_init(&b);
    const char *bad = NULL;
    if (!re2_to_posix(pat, &b, &bad) || b.failed) {
        nt_buf_deinit(&b);
        if (bad)
            return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (RegexFullMatch): pattern '%s' uses %s, which the POSIX "
                            "regular expressions nntrace runs RE2 patterns on cannot express", node->name, pat, bad);
        return NT_ERR_NOMEM;
    }
    re_state *p = nt_calloc(1, sizeof *p);
    if (!p) {
        nt_buf_deinit(&b);
        return NT_ERR_NOMEM;
    }
    int rc = regcomp(&p->re, b.data, REG_EXTENDED | REG_NOSUB);
    nt_buf_deinit(&b);
    if (rc != 0) {
        char msg[256];
        regerror(rc, &p->re, msg, sizeof msg);
        free(p);
        return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (RegexFullMatch): pattern '%s' is not accepted: %s",
                        node->name, pat, msg);
    }
    *state = p;
    return NT_OK;
}

static void re_release(void *state)
{
    re_state *p = state;
    if (!p)
        return;
    regfree(&p->re);
    free(p);
}

static nt_status re_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input is required");
    if (x->dtype != NT_DTYPE_STRING && x->dtype != NT_DTYPE_UNDEFINED)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input must be strings, got %s", nt_dtype_name(x->dtype));
    if (x->ndim < 0) {
        ctx->out[0]->dtype = NT_DTYPE_BOOL;
        ctx->out[0]->ndim = -1;
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_BOOL, x->ndim, x->dims);
}

static nt_status re_compute(nt_kernel_ctx *ctx)
{
    const re_state *p = ctx->state;
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t n = nt_tensor_numel(x);
    for (int64_t i = 0; i < n; i++)
        ((uint8_t *)y->data)[i] = regexec(&p->re, str_data(x)[i], 0, NULL, 0) == 0;
    return NT_OK;
}

const nt_op_def nt_ops_strings[] = {
    {"StringConcat", "", 20, NULL, NULL, concat_infer, concat_compute},
    {"StringSplit", "", 20, NULL, NULL, split_infer, split_compute},
    {"StringNormalizer", "", 10, norm_prepare, norm_release, norm_infer, norm_compute},
    {"RegexFullMatch", "", 20, re_prepare, re_release, re_infer, re_compute},
};
const size_t nt_ops_strings_count = NT_ARRAY_LEN(nt_ops_strings);
