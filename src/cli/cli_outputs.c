/*
 * cli_outputs.c — what `run` does with a model's outputs: a summary line
 * each, .npy files under -o (sequences and optionals element by element),
 * and the file names its --json lists.
 */
#include "cli/cli_outputs.h"
#include "cli/cli.h"
#include "core/core.h"

#include <math.h>
#include <stdio.h>

/* One line per output: name, dtype[shape], min/max/mean, NaN/Inf counts. */
void nt_cli_print_output(FILE *f, const char *name, const nt_tensor *t, bool verbose)
{
    char desc[256];
    nt_tensor_describe(t, desc, sizeof desc);
    int64_t n = nt_tensor_numel(t);
    double mn = INFINITY, mx = -INFINITY, sum = 0;
    int64_t nan = 0, inf = 0, finite = 0, argmax = -1;
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(t, i);
        if (isnan(v)) {
            nan++;
            continue;
        }
        if (isinf(v))
            inf++;
        else {
            sum += v;
            finite++;
        }
        if (v < mn)
            mn = v;
        if (v > mx) {
            mx = v;
            argmax = i;
        }
    }
    fprintf(f, "%s %s", name, desc);
    if (n > 0 && nan < n)
        fprintf(f, " min=%.6g max=%.6g mean=%.6g", nt_printable(mn), nt_printable(mx),
                nt_printable(finite ? sum / (double)finite : NAN));
    if (n > 1 && argmax >= 0 && nt_dtype_is_float(t->dtype))
        fprintf(f, " argmax=%lld", (long long)argmax);
    if (nan)
        fprintf(f, " nan=%lld", (long long)nan);
    if (inf)
        fprintf(f, " inf=%lld", (long long)inf);
    fputc('\n', f);
    if (verbose && n > 0) {
        fprintf(f, "  [");
        for (int64_t i = 0; i < n && i < 10; i++)
            fprintf(f, "%s%.6g", i ? ", " : "", nt_printable(nt_tensor_get_f64(t, i)));
        fprintf(f, "%s]\n", n > 10 ? ", ..." : "");
    }
}

/* Writes value t as stem.npy; a sequence or optional element by element
 * as stem.0.npy, stem.1.npy, ... (as dumps write them; nested containers
 * recurse: stem.0.1.npy).  An empty one writes nothing and says so. */
static nt_status save_value(const char *stem, const char *name, const nt_tensor *t)
{
    char path[4200];
    if (nt_value_is_container(t)) {
        const nt_seq *q = nt_value_seq(t);
        if (!q || q->n == 0)
            fprintf(stderr, "nntrace run: output '%s' is an empty %s; no file written for it\n", name,
                    t->flags & NT_TENSOR_SEQUENCE ? "sequence" : "optional");
        for (int i = 0; q && i < q->n; i++) {
            snprintf(path, sizeof path, "%s.%d", stem, i);
            nt_status st = save_value(path, name, q->items[i]);
            if (st != NT_OK)
                return st;
        }
        return NT_OK;
    }
    snprintf(path, sizeof path, "%s.npy", stem);
    if (t->dtype != NT_DTYPE_BFLOAT16)
        return nt_npy_save(path, t);
    /* .npy has no bfloat16: widen (exactly) to float32 and say so */
    nt_tensor *wide;
    nt_status st = nt_tensor_new(NT_DTYPE_FLOAT, t->ndim, t->dims, &wide);
    if (st != NT_OK)
        return st;
    for (int64_t k = 0; k < nt_tensor_numel(t); k++)
        nt_tensor_set_f64(wide, k, nt_tensor_get_f64(t, k));
    st = nt_npy_save(path, wide);
    nt_tensor_free(wide);
    fprintf(stderr, "nntrace run: output '%s' is bfloat16; %s holds it as float32\n", name, path);
    return st;
}

/* The --json "file" of an output written by save_value, or "files" (in
 * element order) for a sequence or optional. */
static void json_file_list(nt_buf *b, const char *stem, const nt_tensor *t, int *n)
{
    char path[4200];
    if (nt_value_is_container(t)) {
        const nt_seq *q = nt_value_seq(t);
        for (int i = 0; q && i < q->n; i++) {
            snprintf(path, sizeof path, "%s.%d", stem, i);
            json_file_list(b, path, q->items[i], n);
        }
        return;
    }
    snprintf(path, sizeof path, "%s.npy", stem);
    nt_buf_puts(b, (*n)++ ? ", " : "");
    nt_buf_json_string(b, path);
}

void nt_cli_json_files(nt_buf *b, const char *stem, const nt_tensor *t)
{
    int n = 0;
    if (nt_value_is_container(t)) {
        nt_buf_puts(b, ", \"files\": [");
        json_file_list(b, stem, t, &n);
        nt_buf_printf(b, "], \"elements\": %d", nt_value_seq(t) ? nt_value_seq(t)->n : 0);
    } else {
        nt_buf_puts(b, ", \"file\": ");
        json_file_list(b, stem, t, &n);
    }
}

int nt_cli_write_outputs(const char *outdir, nt_model *m, nt_session *s)
{
    nt_status st = nt_mkdirs(outdir);
    if (st != NT_OK)
        return nt_cli_fail(st);
    int n = nt_model_output_count(m);
    for (int i = 0; i < n; i++) {
        nt_value_info vi;
        const nt_tensor *t;
        nt_model_output_info(m, i, &vi);
        if ((st = nt_session_get_output(s, i, &t)) != NT_OK)
            return nt_cli_fail(st);
        char safe[512], stem[4096];
        nt_value_file(NULL, vi.name, safe, sizeof safe);
        snprintf(stem, sizeof stem, "%s/%s", outdir, safe);
        if ((st = save_value(stem, vi.name, t)) != NT_OK)
            return nt_cli_fail(st);
    }
    return NT_EXIT_OK;
}

