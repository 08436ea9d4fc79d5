/*
 * diff_inputs.c — the graph inputs of the two runs `nntrace diff` compares.
 *
 * Two runs given different inputs diverge at the first node that reads
 * them, and a report that names that node makes a healthy model look
 * broken.  So the inputs are compared first, and when they differ the
 * report names them as the likely cause.  A run directory's inputs are the
 * files its run.json records (`run -i`); an ONNX test case's are its
 * input_K.pb; a live session's are the tensors bound to it.
 */
#include "analyze/diff.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

nt_status nt_diff_inputs_add(nt_diff_inputs *l, const char *name, const char *source, const nt_tensor *t)
{
    nt_diff_input *nv = nt_realloc(l->v, ((size_t)l->n + 1) * sizeof *nv);
    if (!nv)
        return NT_ERR_NOMEM;
    l->v = nv;
    nt_diff_input *e = &nv[l->n];
    e->name = nt_strdup(name ? name : "");
    e->source = nt_strdup(source ? source : "");
    e->t = t;
    if (!e->name || !e->source) {
        free(e->name);
        free(e->source);
        return NT_ERR_NOMEM;
    }
    l->n++;
    return NT_OK;
}

void nt_diff_inputs_deinit(nt_diff_inputs *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].source);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static bool is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* A recorded input file: as recorded (relative to where the run was
 * started, usually where diff runs too), else relative to the directory
 * that holds the run directory, else inside it. */
static bool resolve_file(const char *dir, const char *file, char *buf, size_t len)
{
    if (is_file(file)) {
        snprintf(buf, len, "%s", file);
        return true;
    }
    if (file[0] == '/')
        return false;
    snprintf(buf, len, "%s/../%s", dir, file);
    if (is_file(buf))
        return true;
    snprintf(buf, len, "%s/%s", dir, file);
    return is_file(buf);
}

/* Test cases: input_0.pb, input_1.pb... named by their TensorProto's name. */
static nt_status case_inputs(const char *case_dir, nt_diff_inputs *out)
{
    nt_status st = NT_OK;
    for (int k = 0; st == NT_OK; k++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/input_%d.pb", case_dir, k);
        if (!is_file(path))
            break;
        nt_tensor *t = NULL;
        char *name = NULL;
        if (nt_pb_tensor_load(path, &t, &name) == NT_OK)
            st = nt_diff_inputs_add(out, name ? name : "", path, NULL);
        else
            nt_error_clear(); /* compared later, where the failure is reported per input */
        nt_tensor_free(t);
        free(name);
    }
    return st;
}

nt_status nt_diff_inputs_of_dir(const char *dir, nt_diff_inputs *out)
{
    memset(out, 0, sizeof *out);
    char path[4200];
    if (nt_diff_case_dir(dir, path, sizeof path))
        return case_inputs(path, out);
    snprintf(path, sizeof path, "%s/run.json", dir);
    if (!is_file(path))
        return NT_OK;
    json_t *root = json_load_file(path, 0, NULL);
    json_t *arr = json_object_get(root, "inputs"); /* a damaged run.json: nothing recorded */
    nt_status st = NT_OK;
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *file = json_string_value(json_object_get(e, "file"));
        char resolved[4200];
        /* synthesized inputs (--random, --zeros) are not recorded: skipped */
        if (!file || !file[0])
            continue;
        if (!resolve_file(dir, file, resolved, sizeof resolved))
            snprintf(resolved, sizeof resolved, "%s", file); /* reported as not loadable */
        if ((st = nt_diff_inputs_add(out, name ? name : "", resolved, NULL)) != NT_OK)
            break;
    }
    json_decref(root);
    if (st != NT_OK)
        nt_diff_inputs_deinit(out);
    return st;
}

static bool all_named(const nt_diff_inputs *l)
{
    for (int i = 0; i < l->n; i++)
        if (!l->v[i].name[0])
            return false;
    return true;
}

static const nt_tensor *input_tensor(const nt_diff_input *e, nt_tensor **owned, char *err, size_t len)
{
    *owned = NULL;
    if (e->t)
        return e->t;
    if (nt_tensor_load(e->source, owned) != NT_OK) {
        snprintf(err, len, "%s", nt_last_error());
        nt_error_clear();
        return NULL;
    }
    return *owned;
}

/* One input row: a against b. */
static nt_status compare_one(nt_diff_report *rep, const nt_diff_options *o, const char *name,
                             const nt_diff_input *a, const nt_diff_input *b)
{
    nt_diff_input_row *nr = nt_realloc(rep->inputs, ((size_t)rep->n_inputs + 1) * sizeof *nr);
    if (!nr)
        return NT_ERR_NOMEM;
    rep->inputs = nr;
    nt_diff_input_row *w = &nr[rep->n_inputs];
    memset(w, 0, sizeof *w);
    w->st.worst = -1;
    w->name = nt_strdup(name);
    w->source_a = nt_strdup(a->source);
    w->source_b = nt_strdup(b->source);
    if (!w->name || !w->source_a || !w->source_b) {
        free(w->name);
        free(w->source_a);
        free(w->source_b);
        return NT_ERR_NOMEM;
    }
    rep->n_inputs++;
    char err[512] = "";
    nt_tensor *oa, *ob = NULL;
    const nt_tensor *ta = input_tensor(a, &oa, err, sizeof err);
    const nt_tensor *tb = ta ? input_tensor(b, &ob, err, sizeof err) : NULL;
    double atol, rtol;
    nt_diff_options_for(o, name, NULL, &atol, &rtol);
    w->ok = true;
    if (!ta || !tb) {
        w->error = nt_strdup(err);
    } else {
        nt_tensor_describe(ta, w->shape_a, sizeof w->shape_a);
        nt_tensor_describe(tb, w->shape_b, sizeof w->shape_b);
        bool same_shape = ta->ndim == tb->ndim;
        for (int d = 0; same_shape && d < ta->ndim; d++)
            same_shape = ta->dims[d] == tb->dims[d];
        nt_status st = same_shape ? nt_diff_tensors(ta, tb, atol, rtol, &w->st)
                                  : nt_error(NT_ERR_SHAPE, "shapes differ: %s vs %s", w->shape_a, w->shape_b);
        if (st == NT_OK) {
            nt_diff_worst_at(ta, w->st.worst, w->worst_at, sizeof w->worst_at);
            w->ok = w->st.n_fail == 0;
        } else {
            w->error = nt_strdup(nt_last_error());
            nt_error_clear();
            w->ok = st != NT_ERR_SHAPE; /* other shapes are different inputs; strings are only noted */
        }
    }
    nt_tensor_free(oa);
    nt_tensor_free(ob);
    if (!w->ok)
        rep->inputs_differ++;
    return NT_OK;
}

nt_status nt_diff_compare_inputs(const nt_diff_inputs *a, const nt_diff_inputs *b, const nt_diff_options *o,
                                 nt_diff_report *rep)
{
    nt_status st = NT_OK;
    if (all_named(a) && all_named(b)) {
        for (int i = 0; i < a->n && st == NT_OK; i++)
            for (int j = 0; j < b->n; j++)
                if (strcmp(a->v[i].name, b->v[j].name) == 0) {
                    st = compare_one(rep, o, a->v[i].name, &a->v[i], &b->v[j]);
                    break;
                }
        return st;
    }
    /* bound by position on one side: the K-th with the K-th */
    for (int i = 0; i < a->n && i < b->n && st == NT_OK; i++) {
        char pos[32];
        snprintf(pos, sizeof pos, "#%d", i);
        const char *name = a->v[i].name[0] ? a->v[i].name : b->v[i].name[0] ? b->v[i].name : pos;
        st = compare_one(rep, o, name, &a->v[i], &b->v[i]);
    }
    return st;
}
