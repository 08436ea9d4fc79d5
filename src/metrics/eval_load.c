/*
 * eval_load.c — nt_eval_load: the labels of an evaluation (.npy of class
 * indices, one-hot rows or regression targets; or a CSV column) and its
 * samples, checked to be as many.
 */
#include "metrics/eval_result.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void nt_eval_options_init(nt_eval_options *o)
{
    memset(o, 0, sizeof *o);
    o->batch = 32;
    o->threshold = 0.5;
    o->digits = 2;
}

static bool is_number(const char *s, double *v)
{
    char *end;
    while (isspace((unsigned char)*s) || *s == '"')
        s++;
    if (!*s)
        return false;
    *v = strtod(s, &end);
    while (isspace((unsigned char)*end) || *end == '"')
        end++;
    return end != s && *end == '\0';
}

/* Splits one CSV line in place on commas (no quoted commas: labels are numbers). */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

static bool parse_index(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

/* The column the first line names: --label-column by index or name, else a
 * header named label/target/y/..., else the last column. */
static int pick_column(char **fields, int nf, bool header, const char *column)
{
    int col = nf - 1;
    if (column) {
        long long idx;
        if (parse_index(column, &idx))
            return (int)idx;
        col = -2;
        for (int i = 0; header && i < nf; i++) {
            char *f = fields[i];
            while (*f == ' ' || *f == '"')
                f++;
            if (strncmp(f, column, strlen(column)) == 0)
                col = i;
        }
    } else if (header) {
        static const char *const names[] = {"label", "labels", "target", "y", "class", "truth", NULL};
        for (int i = nf - 1; i >= 0; i--)
            for (int k = 0; names[k]; k++)
                if (strcasecmp(fields[i], names[k]) == 0)
                    col = i;
    }
    return col;
}

static nt_status load_labels_csv(const char *path, const char *column, double **out, int64_t *n_out)
{
    char *text;
    size_t len;
    nt_status st = nt_read_file(path, &text, &len);
    if (st != NT_OK)
        return st;
    double *v = NULL;
    int64_t n = 0, cap = 0, line_no = 0;
    int col = -1;
    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        line_no++;
        char *fields[256];
        int nf = split_fields(line, fields, 256);
        if (nf == 1 && !*fields[0])
            continue;
        double x;
        if (col < 0) {
            /* the first line decides the column, and whether it is a header */
            bool header = false;
            for (int i = 0; i < nf; i++)
                header |= !is_number(fields[i], &x);
            col = pick_column(fields, nf, header, column);
            if (col < 0 || col >= nf) {
                free(text);
                return nt_error(NT_ERR_PARSE, "%s: no column '%s' in the first line", path, column ? column : "");
            }
            if (header)
                continue;
        }
        if (col >= nf || !is_number(fields[col], &x)) {
            free(v);
            free(text);
            return nt_error(NT_ERR_PARSE, "%s:%lld: column %d is not a number", path, (long long)line_no, col);
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            double *nv = nt_realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) {
                free(v);
                free(text);
                return NT_ERR_NOMEM;
            }
            v = nv;
        }
        v[n++] = x;
    }
    free(text);
    *out = v;
    *n_out = n;
    return NT_OK;
}

/* Labels as doubles, n x d (d = 1 for class labels and 1-D targets).  One-hot
 * rows (classification, 2-D) become class indices. */
static nt_status load_labels(const nt_eval_options *o, nt_eval_data *d)
{
    size_t plen = strlen(o->labels_path);
    d->d = 1;
    if (plen > 4 && strcasecmp(o->labels_path + plen - 4, ".csv") == 0)
        return load_labels_csv(o->labels_path, o->label_column, &d->labels, &d->n);
    nt_tensor *t;
    nt_status st = nt_tensor_load(o->labels_path, &t);
    if (st != NT_OK)
        return st;
    if (!nt_dtype_is_numeric(t->dtype) || t->ndim > 2 || nt_tensor_numel(t) < 1) {
        nt_tensor_free(t);
        return nt_error(NT_ERR_SHAPE, "%s: labels must be a numeric array of shape (N,) or (N, K)", o->labels_path);
    }
    int64_t n = t->ndim == 0 ? 1 : t->dims[0];
    int64_t cols = t->ndim == 2 ? t->dims[1] : 1;
    bool onehot = o->task == NT_EVAL_CLASSIFY && cols > 1;
    d->n = n;
    d->d = onehot ? 1 : cols;
    d->labels = nt_malloc((size_t)n * (size_t)d->d * sizeof(double));
    if (!d->labels) {
        nt_tensor_free(t);
        return NT_ERR_NOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        if (!onehot) {
            for (int64_t j = 0; j < cols; j++)
                d->labels[i * cols + j] = nt_tensor_get_f64(t, i * cols + j);
            continue;
        }
        int64_t best = 0;
        for (int64_t j = 1; j < cols; j++)
            if (nt_tensor_get_f64(t, i * cols + j) > nt_tensor_get_f64(t, i * cols + best))
                best = j;
        d->labels[i] = (double)best;
    }
    nt_tensor_free(t);
    return NT_OK;
}

nt_status nt_eval_load(const nt_eval_options *o, nt_eval_data **out)
{
    *out = NULL;
    if (!o->data_path || !o->labels_path)
        return nt_error(NT_ERR_INVALID_ARG, "--data X.npy and --labels Y.npy are required");
    nt_eval_data *d = nt_calloc(1, sizeof *d);
    if (!d)
        return NT_ERR_NOMEM;
    nt_status st = load_labels(o, d);
    if (st == NT_OK)
        st = nt_tensor_load(o->data_path, &d->x);
    if (st == NT_OK && (d->x->ndim < 1 || d->x->dims[0] != d->n))
        st = nt_error(NT_ERR_SHAPE, "%s has %lld samples but %s has %lld labels", o->data_path,
                      (long long)(d->x->ndim ? d->x->dims[0] : 0), o->labels_path, (long long)d->n);
    if (st == NT_OK && d->n < 1)
        st = nt_error(NT_ERR_SHAPE, "%s has no samples", o->data_path);
    if (st != NT_OK) {
        nt_eval_data_free(d);
        return st;
    }
    *out = d;
    return NT_OK;
}

const nt_tensor *nt_eval_data_samples(const nt_eval_data *d) { return d->x; }

void nt_eval_data_free(nt_eval_data *d)
{
    if (!d)
        return;
    free(d->labels);
    nt_tensor_free(d->x);
    free(d);
}
