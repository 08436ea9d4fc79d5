/*
 * cli_model.c — input options, model opening and input binding shared by
 * run, debug, doctor, extract, eval and analyze (see cli_model.h).
 */
#include "cli/cli_env.h"
#include "cli/cli_model.h"
#include "core/core.h"
#include "exec/dataset.h"
#include "graph/ir.h"
#include "ops/kernel.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Value of an option given as "--opt=V" or "--opt V". */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
    size_t n = strlen(opt);
    if (strncmp(argv[*i], opt, n) == 0 && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (strcmp(argv[*i], opt) == 0 && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

static bool is_opt(const char *arg, const char *opt)
{
    size_t n = strlen(opt);
    return strncmp(arg, opt, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

int nt_cli_parse_input_opt(const char *cmd, int argc, char **argv, int *i, nt_cli_inputs *in)
{
    const char *a = argv[*i];
    if (strcmp(a, "-i") == 0 || is_opt(a, "--input")) {
        const char *v = strcmp(a, "-i") == 0 ? (*i + 1 < argc ? argv[++*i] : NULL) : opt_value(argc, argv, i, "--input");
        if (!v)
            return nt_cli_usage_error(cmd, "-i needs NAME=FILE or FILE"), -1;
        if (in->n >= NT_CLI_MAX_INPUTS)
            return nt_cli_usage_error(cmd, "too many -i options"), -1;
        const char *eq = strchr(v, '=');
        if (eq && eq != v && eq[1] == '\0')
            return nt_cli_usage_error(cmd, "-i %s: no file given for input '%.*s' (use -i %.*s=FILE)", v,
                                      (int)(eq - v), v, (int)(eq - v), v), -1;
        /* NAME=FILE, unless the whole thing is an existing path with '=' in it */
        if (eq && eq != v) {
            in->names[in->n] = nt_strndup(v, (size_t)(eq - v));
            in->files[in->n] = eq + 1;
        } else {
            in->names[in->n] = NULL;
            in->files[in->n] = v;
        }
        in->n++;
        return 1;
    }
    if (is_opt(a, "--random")) {
        in->random = true;
        in->seed = 0;
        if (a[8] == '=') {
            long long seed;
            if (!nt_cli_parse_int(a + 9, &seed))
                return nt_cli_usage_error(cmd, "--random=SEED needs an integer seed"), -1;
            in->seed = (uint64_t)seed;
        }
        return 1;
    }
    if (strcmp(a, "--zeros") == 0) {
        in->zeros = true;
        return 1;
    }
    if (is_opt(a, "--dim")) {
        const char *v = opt_value(argc, argv, i, "--dim");
        const char *eq = v ? strchr(v, '=') : NULL;
        long long n;
        if (!eq || eq == v || !nt_cli_parse_int(eq + 1, &n) || n < 0)
            return nt_cli_usage_error(cmd, "--dim needs NAME=N with N >= 0"), -1;
        if (in->n_dims >= NT_CLI_MAX_INPUTS)
            return nt_cli_usage_error(cmd, "too many --dim options"), -1;
        in->dim_names[in->n_dims] = nt_strndup(v, (size_t)(eq - v));
        in->dim_values[in->n_dims++] = n;
        return 1;
    }
    if (is_opt(a, "--threads")) {
        const char *v = opt_value(argc, argv, i, "--threads");
        long long n;
        if (!v || !nt_cli_parse_int(v, &n) || n < 1 || n > 256)
            return nt_cli_usage_error(cmd, "--threads needs a number from 1 to 256"), -1;
        in->threads = (int)n;
        return 1;
    }
    return 0;
}

void nt_cli_inputs_deinit(nt_cli_inputs *in)
{
    for (int i = 0; i < in->n; i++)
        free((char *)in->names[i]);
    for (int i = 0; i < in->n_dims; i++)
        free((char *)in->dim_names[i]);
    in->n = in->n_dims = 0;
}

/* Warns when the model imports an opset of a domain newer than any
 * operator definition nntrace has for it: its nodes then run with the
 * newest definitions known, which a later opset may have changed. */
static void warn_newer_opsets(const nt_model *m)
{
    for (int i = 0; i < m->n_opsets; i++) {
        const char *dom = m->opsets[i].domain;
        bool onnx = !dom[0] || strcmp(dom, "ai.onnx") == 0;
        int newest = 0;
        for (size_t k = 0; k < nt_op_count(); k++) {
            const nt_op_def *d = nt_op_at(k);
            bool same = onnx ? (!d->domain[0] || strcmp(d->domain, "ai.onnx") == 0) : strcmp(d->domain, dom) == 0;
            if (same && d->since > newest)
                newest = d->since;
        }
        if (newest > 0 && m->opsets[i].version > newest)
            fprintf(stderr, "nntrace: warning: %s imports %s opset %lld, newer than the newest nntrace knows (%d); "
                    "its nodes run with the opset-%d definitions, which later opsets may have changed\n",
                    m->path, onnx ? "ai.onnx" : dom, (long long)m->opsets[i].version, newest, newest);
    }
}

int nt_cli_open_model(const char *model_path, const nt_cli_inputs *in, nt_model **m, nt_session **s)
{
    *m = NULL;
    *s = NULL;
    nt_status st = nt_model_load(model_path, m);
    if (st != NT_OK)
        return nt_cli_fail(st);
    warn_newer_opsets(*m);
    nt_session_options opt = {0};
    opt.threads = in->threads;
    opt.n_dim_overrides = in->n_dims;
    opt.dim_names = in->dim_names;
    opt.dim_values = in->dim_values;
    opt.no_fusion = nt_cli_env.no_fusion;
    opt.no_winograd = nt_cli_env.no_winograd;
    st = nt_session_new(*m, &opt, s);
    if (st != NT_OK) {
        int code = nt_cli_fail(st);
        nt_model_free(*m);
        *m = NULL;
        return code == NT_EXIT_USAGE ? NT_EXIT_BAD_INPUT : code;
    }
    return NT_EXIT_OK;
}

void nt_cli_print_expected_inputs(FILE *f, const nt_model *m)
{
    int n = nt_model_input_count(m);
    fprintf(f, "the model expects %d input%s:\n", n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        nt_value_info vi;
        if (nt_model_input_info(m, i, &vi) != NT_OK)
            continue;
        fprintf(f, "  %s %s[", vi.name, nt_dtype_name(vi.dtype));
        if (vi.ndim < 0)
            fprintf(f, "?");
        for (int d = 0; d < vi.ndim; d++) {
            if (vi.dims[d] >= 0)
                fprintf(f, "%s%lld", d ? "," : "", (long long)vi.dims[d]);
            else
                fprintf(f, "%s%s", d ? "," : "", vi.dim_names && vi.dim_names[d] ? vi.dim_names[d] : "?");
        }
        fprintf(f, "]\n");
    }
}

static uint64_t rng_next(uint64_t *s)
{
    /* splitmix64: small, seedable, good enough for test inputs */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

nt_status nt_cli_synth_input(const nt_model *m, int idx, const nt_cli_inputs *in, uint64_t *rng, nt_tensor **out)
{
    nt_value_info vi;
    nt_status st = nt_model_input_info(m, idx, &vi);
    if (st != NT_OK)
        return st;
    if (vi.ndim < 0)
        return nt_error(NT_ERR_SHAPE, "input '%s' has an unknown rank: give it with -i", vi.name);
    int64_t dims[NT_MAX_DIMS];
    for (int d = 0; d < vi.ndim && d < NT_MAX_DIMS; d++) {
        dims[d] = vi.dims[d];
        if (dims[d] < 0) {
            dims[d] = 1;
            for (int k = 0; k < in->n_dims; k++)
                if (vi.dim_names && vi.dim_names[d] && strcmp(vi.dim_names[d], in->dim_names[k]) == 0)
                    dims[d] = in->dim_values[k];
        }
    }
    nt_dtype dt = vi.dtype == NT_DTYPE_UNDEFINED ? NT_DTYPE_FLOAT : vi.dtype;
    if ((st = nt_tensor_new(dt, vi.ndim, dims, out)) != NT_OK)
        return nt_error_wrap(st, "%s: input '%s'", nt_model_path(m), vi.name);
    if (in->random) {
        int64_t n = nt_tensor_numel(*out);
        for (int64_t i = 0; i < n; i++) {
            double u = (double)(rng_next(rng) >> 11) / 9007199254740992.0;
            /* floats uniform in [0,1); integers in [0,10) (indices stay valid more often) */
            nt_tensor_set_f64(*out, i, nt_dtype_is_float(dt) ? u : dt == NT_DTYPE_BOOL ? (u < 0.5) : (double)(int)(u * 10));
        }
    }
    return NT_OK;
}

/* A .npy bound to an input that takes one sample: a batch (axis 0 longer
 * than 1 where the model does not fix that length) is refused from the
 * header, before the file is read (a batch of 200k is gigabytes). */
static int check_one_sample(const char *cmd, const nt_value_info *vi, const char *file)
{
    size_t len = strlen(file);
    nt_dtype dt;
    int ndim;
    int64_t dims[NT_MAX_DIMS];
    if (len < 4 || strcmp(file + len - 4, ".npy") != 0)
        return NT_EXIT_OK;
    nt_status st = nt_npy_peek(file, &dt, &ndim, dims);
    if (st != NT_OK) {
        nt_error_clear(); /* the load says what is wrong with the file */
        return NT_EXIT_OK;
    }
    /* a file of another rank or dtype is refused by the binding, which says which */
    if ((vi->ndim >= 0 && vi->ndim != ndim) || (vi->dtype != NT_DTYPE_UNDEFINED && vi->dtype != dt))
        return NT_EXIT_OK;
    if (ndim >= 2 && dims[0] > 1 && !(vi->ndim == ndim && vi->dims[0] == dims[0])) {
        fprintf(stderr, "nntrace %s: %s: input '%s' holds a batch of %lld samples; %s works on one "
                "(axis 0 of length 1: take one sample, e.g. x[i:i+1] in numpy)\n", cmd, file, vi->name,
                (long long)dims[0], cmd);
        return NT_EXIT_BAD_INPUT;
    }
    return NT_EXIT_OK;
}

int nt_cli_bind_inputs(const char *cmd, nt_model *m, nt_session *s, const nt_cli_inputs *in)
{
    int n_model = nt_model_input_count(m);
    bool *bound = nt_calloc((size_t)n_model + 1, sizeof *bound);
    if (!bound)
        return nt_cli_fail(NT_ERR_NOMEM);
    int code = NT_EXIT_OK;
    int next_pos = 0;
    for (int k = 0; k < in->n && code == NT_EXIT_OK; k++) {
        nt_value_info vi;
        const char *name = in->names[k];
        int idx = -1;
        if (name) {
            for (int i = 0; i < n_model; i++)
                if (nt_model_input_info(m, i, &vi) == NT_OK && strcmp(vi.name, name) == 0)
                    idx = i;
            if (idx < 0) {
                fprintf(stderr, "nntrace %s: the model has no input named '%s'\n", cmd, name);
                nt_cli_print_expected_inputs(stderr, m);
                code = NT_EXIT_USAGE;
                break;
            }
        } else {
            while (next_pos < n_model && bound[next_pos])
                next_pos++;
            if (next_pos >= n_model) {
                fprintf(stderr, "nntrace %s: more input files than the model's %d inputs\n", cmd, n_model);
                nt_cli_print_expected_inputs(stderr, m);
                code = NT_EXIT_USAGE;
                break;
            }
            idx = next_pos;
        }
        nt_model_input_info(m, idx, &vi);
        if (bound[idx]) {
            int first = 0; /* the -i that bound it before: the same name, or this input's position */
            for (int j = 0, pos = 0; j < k; j++) {
                if (in->names[j] ? strcmp(in->names[j], vi.name) == 0 : pos == idx) {
                    first = j;
                    break;
                }
                pos += !in->names[j];
            }
            fprintf(stderr, "nntrace %s: input '%s' is given twice (-i %s%s%s and -i %s%s%s)\n", cmd, vi.name,
                    in->names[first] ? in->names[first] : "", in->names[first] ? "=" : "", in->files[first],
                    name ? name : "", name ? "=" : "", in->files[k]);
            code = NT_EXIT_USAGE;
            break;
        }
        if (in->one_sample && (in->one_sample[0] ? strcmp(in->one_sample, vi.name) == 0 : idx == 0) &&
            (code = check_one_sample(cmd, &vi, in->files[k])) != NT_EXIT_OK)
            break;
        nt_tensor *t;
        nt_status st = nt_tensor_load(in->files[k], &t);
        if (st != NT_OK) {
            code = nt_cli_fail(st);
            code = code == NT_EXIT_USAGE ? NT_EXIT_BAD_INPUT : code;
            break;
        }
        st = nt_session_set_input(s, vi.name, t);
        nt_tensor_free(t);
        if (st != NT_OK) {
            fprintf(stderr, "nntrace %s: %s: %s\n", cmd, in->files[k], nt_last_error());
            code = NT_EXIT_BAD_INPUT;
            break;
        }
        bound[idx] = true;
    }
    uint64_t rng = in->seed;
    for (int i = 0; i < n_model && code == NT_EXIT_OK; i++) {
        nt_value_info later;
        if (bound[i] || (in->bound_later && nt_model_input_info(m, i, &later) == NT_OK &&
                         strcmp(later.name, in->bound_later) == 0))
            continue;
        if (!in->random && !in->zeros) {
            nt_value_info vi;
            nt_model_input_info(m, i, &vi);
            fprintf(stderr, "nntrace %s: input '%s' is not given (use -i %s=FILE, or --random / --zeros)\n", cmd,
                    vi.name, vi.name);
            nt_cli_print_expected_inputs(stderr, m);
            code = NT_EXIT_USAGE;
            break;
        }
        nt_tensor *t;
        nt_status st = nt_cli_synth_input(m, i, in, &rng, &t);
        if (st == NT_OK) {
            nt_value_info vi;
            nt_model_input_info(m, i, &vi);
            st = nt_session_set_input(s, vi.name, t);
            nt_tensor_free(t);
        }
        if (st != NT_OK) {
            code = nt_cli_fail(st);
            break;
        }
    }
    if (code == NT_EXIT_OK && in->random)
        fprintf(stderr, "nntrace %s: inputs not given were filled with random values (seed %llu)\n", cmd,
                (unsigned long long)in->seed);
    free(bound);
    return code;
}

int nt_cli_run_dataset(const char *cmd, nt_model *m, nt_session *s, const char *data_path, const char *data_input,
                       int *runs, double *total_ms)
{
    nt_tensor *x;
    nt_status st = nt_tensor_load(data_path, &x);
    if (st != NT_OK)
        return nt_cli_fail(st);
    /* progress only for a person watching, never into logs or pipes */
    nt_dataset_run_info info;
    st = nt_dataset_run(m, s, x, data_input, data_path, isatty(2) ? stderr : NULL, cmd, &info);
    *runs = info.runs;
    *total_ms = info.ms;
    nt_tensor_free(x);
    if (st == NT_ERR_INVALID_ARG && info.runs == 0)
        return nt_cli_usage_error(cmd, "--data needs a model input (--data-input NAME) and an array of rank >= 1");
    if (st != NT_OK) {
        fprintf(stderr, "nntrace %s: %s\n", cmd, nt_last_error());
        return NT_EXIT_BAD_INPUT;
    }
    return NT_EXIT_OK;
}
