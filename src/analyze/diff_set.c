/*
 * diff_set.c — the tensor sets `nntrace diff` compares and how they are
 * matched: a run directory's tensors/index.json (execution order, node and
 * value names) or a plain directory of .npy files (names from the file
 * stems, as `nntrace run -o` writes them); diffing two sets two tensors at a
 * time; and the live tracer behind `diff MODEL_A MODEL_B` and
 * `run --compare DIR`, which compares each node output as it is produced.
 */
#include "analyze/diff.h"
#include "core/strmap.h"
#include "core/vec.h"

#include <dirent.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---------------------------------------------------------------- sets */

struct nt_diff_set {
    nt_arena arena;
    bool indexed;
    nt_vec e;              /* nt_diff_entry, in execution (or file) order */
    nt_strmap by_output;   /* output name (or stem) -> entry */
    nt_strmap by_node;     /* (node name, out_pos) -> entry */
};

static nt_status set_add(nt_diff_set *s, const char *node, const char *op, const char *output, const char *path)
{
    if (s->e.len >= INT32_MAX)
        return nt_error(NT_ERR_NOMEM, "too many tensors");
    nt_status st = nt_vec_reserve(&s->e, s->e.len + 1);
    if (st != NT_OK)
        return st;
    int n = (int)s->e.len;
    nt_diff_entry *e = nt_vec_at(&s->e, s->e.len);
    e->node = nt_arena_strdup(&s->arena, node);
    e->op = nt_arena_strdup(&s->arena, op ? op : "");
    e->output = nt_arena_strdup(&s->arena, output);
    e->path = nt_arena_strdup(&s->arena, path);
    if (!e->node || !e->op || !e->output || !e->path)
        return NT_ERR_NOMEM;
    e->order = n;
    int pos = 0;
    size_t node_len = strlen(e->node);
    while (nt_strmap_getn(&s->by_node, e->node, node_len, pos) >= 0)
        pos++;
    e->out_pos = pos;
    st = nt_strmap_put(&s->by_output, e->output, n, NULL);
    if (st == NT_OK)
        st = nt_strmap_putn(&s->by_node, e->node, node_len, pos, n, NULL);
    if (st == NT_OK)
        s->e.len++;
    return st;
}

static bool is_file(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Adds one index entry (an object of index.json's "tensors" array, or a
 * line of index.jsonl); what == where it came from, for messages. */
static nt_status add_entry(nt_diff_set *s, json_t *t, const char *tdir, const char *what)
{
    const char *node = json_string_value(json_object_get(t, "node"));
    const char *op = json_string_value(json_object_get(t, "op"));
    const char *output = json_string_value(json_object_get(t, "output"));
    const char *file = json_string_value(json_object_get(t, "file"));
    const char *role = json_string_value(json_object_get(t, "role"));
    json_t *run = json_object_get(t, "run");
    if (!node || !output || !file)
        return nt_error(NT_ERR_PARSE, "%s lacks node, output or file", what);
    if ((role && strcmp(role, "output") != 0) || (json_is_integer(run) && json_integer_value(run) != 0))
        return NT_OK;
    if (nt_strmap_get(&s->by_output, output) >= 0)
        return NT_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", tdir, file);
    return set_add(s, node, op, output, path);
}

/* Reads an index.json (the dump tracer's) whose files are relative to tdir. */
static nt_status read_index(nt_diff_set *s, const char *index_path, const char *tdir)
{
    json_error_t jerr;
    json_t *root = json_load_file(index_path, 0, &jerr);
    if (!root)
        return nt_error(NT_ERR_PARSE, "%s: line %d: %s", index_path, jerr.line, jerr.text);
    nt_status st = NT_OK;
    json_t *arr = json_object_get(root, "tensors");
    if (!json_is_array(arr)) {
        st = nt_error(NT_ERR_PARSE, "%s: no \"tensors\" array", index_path);
        goto out;
    }
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t) {
        char what[4200];
        snprintf(what, sizeof what, "%s: tensors[%zu]", index_path, i);
        if ((st = add_entry(s, t, tdir, what)) != NT_OK)
            goto out;
    }
out:
    json_decref(root);
    return st;
}

/* Reads the dump tracer's journal, tensors/index.jsonl (one entry a line,
 * appended as each tensor was written): what a run killed before writing
 * index.json leaves.  A line that does not parse (the one being written at
 * the kill) and entries whose file is missing are skipped. */
static nt_status read_journal(nt_diff_set *s, const char *path, const char *tdir)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return nt_error(NT_ERR_IO, "%s: cannot open", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0;
    nt_status st = NT_OK;
    while (st == NT_OK && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        json_t *t = json_loadb(line, (size_t)len, 0, NULL);
        const char *file = t ? json_string_value(json_object_get(t, "file")) : NULL;
        char fp[4096];
        snprintf(fp, sizeof fp, "%s/%s", tdir, file ? file : "");
        if (t && file && is_file(fp)) {
            char what[4200];
            snprintf(what, sizeof what, "%s: line %d", path, lineno);
            st = add_entry(s, t, tdir, what);
        }
        json_decref(t);
    }
    free(line);
    fclose(f);
    return st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.npy in dir, sorted by name (a stable order when nothing better is known). */
static nt_status read_npy_dir(nt_diff_set *s, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return nt_error(NT_ERR_IO, "%s: cannot open directory", dir);
    char **names = NULL;
    int n = 0, cap = 0;
    nt_status st = NT_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        /* hidden names are temporaries (.NAME.npy.tmp-PID) and never data */
        if (len <= 4 || de->d_name[0] == '.' || strcmp(de->d_name + len - 4, ".npy") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = nt_realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) {
                st = NT_ERR_NOMEM;
                break;
            }
            names = nn;
        }
        if (!(names[n] = nt_strdup(de->d_name))) {
            st = NT_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (st == NT_OK && n > 0)
        qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        if (st == NT_OK) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            names[i][strlen(names[i]) - 4] = '\0';
            st = set_add(s, names[i], "", names[i], path);
        }
        free(names[i]);
    }
    free(names);
    if (st == NT_OK && s->e.len == 0)
        st = nt_error(NT_ERR_NOT_FOUND, "%s: no tensors/index.json and no .npy files", dir);
    return st;
}

/* An ONNX test case's outputs (DIR/output_K.pb, K = 0, 1, ...): each
 * entry named by its TensorProto's name (the graph output it holds), or
 * by the stem when the name is empty. */
static nt_status read_case_dir(nt_diff_set *s, const char *dir)
{
    nt_status st = NT_OK;
    for (int k = 0; st == NT_OK; k++) {
        char path[4096], stem[32];
        snprintf(path, sizeof path, "%s/output_%d.pb", dir, k);
        if (!is_file(path))
            break;
        nt_tensor *t = NULL;
        char *name = NULL;
        if ((st = nt_pb_tensor_load(path, &t, &name)) == NT_OK) {
            snprintf(stem, sizeof stem, "output_%d", k);
            st = set_add(s, name && name[0] ? name : stem, "", name && name[0] ? name : stem, path);
        }
        nt_tensor_free(t);
        free(name);
    }
    if (st == NT_OK && s->e.len == 0)
        st = nt_error(NT_ERR_NOT_FOUND, "%s: no output_0.pb", dir);
    return st;
}

const char *nt_diff_case_dir(const char *dir, char *buf, size_t len)
{
    snprintf(buf, len, "%s/output_0.pb", dir);
    char in0[4200];
    snprintf(in0, sizeof in0, "%s/input_0.pb", dir);
    if (is_file(buf) || is_file(in0)) {
        snprintf(buf, len, "%s", dir);
        return buf;
    }
    snprintf(buf, len, "%s/test_data_set_0/output_0.pb", dir);
    snprintf(in0, sizeof in0, "%s/test_data_set_0/input_0.pb", dir);
    if (is_file(buf) || is_file(in0)) {
        snprintf(buf, len, "%s/test_data_set_0", dir);
        return buf;
    }
    return NULL;
}

nt_status nt_diff_set_open(const char *dir, nt_diff_set **out)
{
    *out = NULL;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return nt_error(NT_ERR_IO, "%s: not a directory", dir);
    nt_diff_set *s = nt_calloc(1, sizeof *s);
    if (!s)
        return NT_ERR_NOMEM;
    nt_arena_init(&s->arena);
    nt_vec_init(&s->e, sizeof(nt_diff_entry));
    nt_strmap_init(&s->by_output);
    nt_strmap_init(&s->by_node);
    nt_status st = NT_OK;
    char idx[4096], tdir[4096], case_dir[4096];
    snprintf(tdir, sizeof tdir, "%s/tensors", dir);
    snprintf(idx, sizeof idx, "%s/tensors/index.json", dir);
    if (st != NT_OK) {
    } else if (nt_diff_case_dir(dir, case_dir, sizeof case_dir)) {
        st = read_case_dir(s, case_dir);
    } else if (is_file(idx)) {
        s->indexed = true;
        st = read_index(s, idx, tdir);
    } else {
        char journal[4200];
        snprintf(journal, sizeof journal, "%s/index.jsonl", tdir);
        struct stat tb;
        if (is_file(journal)) { /* a run killed before it wrote index.json */
            s->indexed = true;
            st = read_journal(s, journal, tdir);
            if (st == NT_OK && s->e.len == 0)
                st = read_npy_dir(s, tdir);
        } else if (stat(tdir, &tb) == 0 && S_ISDIR(tb.st_mode)) {
            st = read_npy_dir(s, tdir); /* the files present are the index */
        } else {
            snprintf(idx, sizeof idx, "%s/index.json", dir);
            if (is_file(idx)) {
                s->indexed = true;
                st = read_index(s, idx, dir);
            } else {
                st = read_npy_dir(s, dir);
            }
        }
    }
    if (st != NT_OK) {
        nt_diff_set_free(s);
        return st;
    }
    *out = s;
    return NT_OK;
}

void nt_diff_set_free(nt_diff_set *s)
{
    if (!s)
        return;
    nt_strmap_deinit(&s->by_output);
    nt_strmap_deinit(&s->by_node);
    nt_vec_deinit(&s->e);
    nt_arena_deinit(&s->arena);
    free(s);
}

int nt_diff_set_count(const nt_diff_set *s) { return s ? (int)s->e.len : 0; }
const nt_diff_entry *nt_diff_set_entry(const nt_diff_set *s, int i) { return nt_vec_at(&s->e, (size_t)i); }
bool nt_diff_set_indexed(const nt_diff_set *s) { return s->indexed; }

int nt_diff_set_find(const nt_diff_set *s, const char *output, const char *node, int out_pos, bool *by_node)
{
    char safe[1024];
    *by_node = false;
    if (output && output[0]) {
        int j = (int)nt_strmap_get(&s->by_output, output);
        if (j >= 0)
            return j;
        if (!s->indexed) {
            nt_value_file(NULL, output, safe, sizeof safe);
            if ((j = (int)nt_strmap_get(&s->by_output, safe)) >= 0)
                return j;
        }
    }
    if (!node || !node[0])
        return -1;
    *by_node = true;
    if (s->indexed)
        return (int)nt_strmap_getn(&s->by_node, node, strlen(node), out_pos);
    /* a plain directory: "<node>.npy" for the first output, "<node>_<k>.npy" after */
    nt_value_file(NULL, node, safe, sizeof safe);
    if (out_pos > 0) {
        size_t len = strlen(safe);
        snprintf(safe + len, sizeof safe - len, "_%d", out_pos);
    }
    int j = (int)nt_strmap_get(&s->by_output, safe);
    if (j < 0)
        *by_node = false;
    return j;
}

/* ---------------------------------------------------------------- rows */

/* Appends a row comparing a with b (either may be NULL when it failed to
 * load, with `error` saying why) and keeps first_divergent current. */
static nt_status add_row(nt_diff_report *rep, const nt_diff_options *o, const char *node, const char *op,
                         const char *output, const char *other, const nt_tensor *a, const nt_tensor *b,
                         const char *error)
{
    if (rep->n == rep->cap) {
        int cap = rep->cap ? rep->cap * 2 : 64;
        nt_diff_row *nr = nt_realloc(rep->rows, (size_t)cap * sizeof *nr);
        if (!nr)
            return NT_ERR_NOMEM;
        rep->rows = nr;
        rep->cap = cap;
    }
    nt_diff_row *w = &rep->rows[rep->n];
    memset(w, 0, sizeof *w);
    w->st.worst = -1;
    w->node = nt_strdup(node);
    w->op = nt_strdup(op ? op : "");
    w->output = nt_strdup(output);
    w->other = other ? nt_strdup(other) : NULL;
    if (!w->node || !w->op || !w->output || (other && !w->other)) {
        free(w->node);
        free(w->op);
        free(w->output);
        free(w->other);
        return NT_ERR_NOMEM;
    }
    rep->n++;
    if (other)
        rep->n_by_node++;
    nt_diff_options_for(o, output, node, &w->atol, &w->rtol);
    if (a)
        nt_tensor_describe(a, w->shape_a, sizeof w->shape_a);
    if (b)
        nt_tensor_describe(b, w->shape_b, sizeof w->shape_b);
    if (a && b) {
        nt_status st = nt_diff_tensors(a, b, w->atol, w->rtol, &w->st);
        if (st == NT_OK) {
            w->status = NT_DIFF_COMPARED;
            nt_diff_worst_at(a, w->st.worst, w->worst_at, sizeof w->worst_at);
            w->ok = w->st.n_fail == 0;
        } else {
            w->status = st == NT_ERR_SHAPE ? NT_DIFF_SHAPE_MISMATCH : NT_DIFF_UNCOMPARABLE;
            w->error = nt_strdup(nt_last_error());
            nt_error_clear();
        }
    } else {
        w->status = NT_DIFF_UNCOMPARABLE;
        w->error = nt_strdup(error ? error : "could not be loaded");
    }
    if (w->status == NT_DIFF_SHAPE_MISMATCH)
        w->ok = false;
    else if (w->status == NT_DIFF_UNCOMPARABLE)
        w->ok = true;   /* a string tensor or unreadable file is noted, not a divergence */
    if (!w->ok && rep->first_divergent < 0)
        rep->first_divergent = rep->n - 1;
    return NT_OK;
}

/* Loads an entry's tensor; on failure returns NULL and copies the message. */
static nt_tensor *load_entry(const nt_diff_entry *e, char *err, size_t len)
{
    nt_tensor *t = NULL;
    if (nt_tensor_load(e->path, &t) != NT_OK) {
        snprintf(err, len, "%s", nt_last_error());
        nt_error_clear();
        return NULL;
    }
    return t;
}

nt_status nt_diff_sets(const nt_diff_set *a, const nt_diff_set *b, const nt_diff_options *o, nt_diff_report *rep)
{
    /* Walk the side that knows the execution order, so "first" means first to run. */
    bool drive_b = !a->indexed && b->indexed;
    const nt_diff_set *drv = drive_b ? b : a, *oth = drive_b ? a : b;
    char *used = nt_calloc(oth->e.len + 1, 1);
    if (!used)
        return NT_ERR_NOMEM;
    nt_status st = NT_OK;
    for (int i = 0; i < (int)drv->e.len && st == NT_OK; i++) {
        const nt_diff_entry *e = nt_diff_set_entry(drv, i);
        bool by_node;
        int j = nt_diff_set_find(oth, e->output, e->node, e->out_pos, &by_node);
        if (j < 0 || used[j]) {
            st = nt_diff_report_add_only(rep, !drive_b, e->output);
            continue;
        }
        used[j] = 1;
        const nt_diff_entry *f = nt_diff_set_entry(oth, j);
        const nt_diff_entry *ea = drive_b ? f : e, *eb = drive_b ? e : f;
        char err[512] = "";
        nt_tensor *ta = load_entry(ea, err, sizeof err);
        nt_tensor *tb = ta ? load_entry(eb, err, sizeof err) : NULL;
        /* names and op from the indexed side (B when it drives) */
        const char *op = e->op[0] ? e->op : f->op;
        st = add_row(rep, o, e->node, op, ea->output, by_node ? eb->output : NULL, ta, tb, err);
        nt_tensor_free(ta);
        nt_tensor_free(tb);
    }
    for (int j = 0; j < (int)oth->e.len && st == NT_OK; j++)
        if (!used[j])
            st = nt_diff_report_add_only(rep, drive_b, nt_diff_set_entry(oth, j)->output);
    free(used);
    nt_diff_report_find_jump(rep);
    return st;
}

/* ---------------------------------------------------------------- live */

struct nt_diff_live {
    nt_tracer tracer;
    const nt_diff_set *ref;
    const nt_diff_options *opt;
    nt_diff_report *rep;
    bool live_is_a;
    int run;
    char *used;          /* per ref entry */
    nt_strmap seen;      /* value names already compared (keys owned in names) */
    nt_vec names;        /* char *, owned */
    nt_status err;
};

/* The float tensor a DequantizeLinear output stands for, by the names
 * quantizers give: the output "X_DequantizeLinear_Output" (onnxruntime's QDQ
 * quantizer), "X_dequantized", or the quantized input "X_quantized" /
 * "X_QuantizeLinear_Output".  -1 when A has none of them. */
static int dequantized_match(const nt_diff_set *ref, const char *out, const char *in)
{
    static const char *const out_suffixes[] = {"_DequantizeLinear_Output", "_DequantizeLinear", "_dequantized"};
    static const char *const in_suffixes[] = {"_QuantizeLinear_Output", "_QuantizeLinear", "_quantized"};
    for (int pass = 0; pass < 2; pass++) {
        const char *name = pass == 0 ? out : in;
        const char *const *suf = pass == 0 ? out_suffixes : in_suffixes;
        if (!name)
            continue;
        size_t len = strlen(name);
        for (int k = 0; k < 3; k++) {
            size_t sl = strlen(suf[k]);
            if (len <= sl || strcmp(name + len - sl, suf[k]) != 0 || len - sl >= 1024)
                continue;
            char base[1024];
            memcpy(base, name, len - sl);
            base[len - sl] = '\0';
            bool by_node;
            int j = nt_diff_set_find(ref, base, NULL, 0, &by_node);
            if (j >= 0)
                return j;
        }
    }
    return -1;
}

/* QOperator-format quantized models have no DequantizeLinear after each
 * layer: a QLinear op's output "X_quantized" holds X as integers, with its
 * scale and zero point among the op's inputs (at these positions). */
typedef struct qlinear_out {
    const char *op;
    int scale, zero_point;
} qlinear_out;

static const qlinear_out qlinear_outs[] = {
    {"QLinearConv", 6, 7},   {"QLinearMatMul", 6, 7},      {"QLinearAdd", 6, 7},
    {"QLinearMul", 6, 7},    {"QLinearSigmoid", 3, 4},     {"QLinearLeakyRelu", 3, 4},
    {"QLinearAveragePool", 3, 4}, {"QLinearGlobalAveragePool", 3, 4},
};

/* The float32 tensor a QLinear op's integer output k stands for,
 * (q - zero_point) * scale computed in float32 as DequantizeLinear does;
 * NULL when the op is not one of the table's, or its scale and zero point
 * are not scalars (per-axis outputs are not paired). */
static nt_tensor *dequantize_qlinear(const nt_node_view *v, int k)
{
    if (k != 0 || !v->outputs[0])
        return NULL;
    const qlinear_out *q = NULL;
    for (size_t i = 0; i < sizeof qlinear_outs / sizeof qlinear_outs[0] && !q; i++)
        if (strcmp(v->op_type, qlinear_outs[i].op) == 0)
            q = &qlinear_outs[i];
    if (!q || q->scale >= v->n_inputs)
        return NULL;
    const nt_tensor *t = v->outputs[0], *sc = v->inputs[q->scale];
    const nt_tensor *zp = q->zero_point < v->n_inputs ? v->inputs[q->zero_point] : NULL;
    if (!sc || nt_tensor_numel(sc) != 1 || (zp && nt_tensor_numel(zp) != 1) || nt_dtype_is_float(t->dtype) ||
        !nt_dtype_is_numeric(t->dtype))
        return NULL;
    nt_tensor *out = NULL;
    if (nt_tensor_new(NT_DTYPE_FLOAT, t->ndim, t->dims, &out) != NT_OK) {
        nt_error_clear();
        return NULL;
    }
    float scale = (float)nt_tensor_get_f64(sc, 0);
    double z = zp ? nt_tensor_get_f64(zp, 0) : 0;
    float *o = (float *)out->data;
    for (int64_t i = 0, n = nt_tensor_numel(t); i < n; i++)
        o[i] = (float)(nt_tensor_get_f64(t, i) - z) * scale;
    return out;
}

static nt_action live_run_begin(void *user, nt_session *s)
{
    nt_diff_live *l = user;
    l->run++;
    return NT_ACTION_CONTINUE;
}

static nt_action live_node_end(void *user, nt_session *s, const nt_node_view *v)
{
    nt_diff_live *l = user;
    if (l->run > 1 || l->err != NT_OK)
        return NT_ACTION_CONTINUE;
    for (int k = 0; k < v->n_outputs; k++) {
        const char *name = v->output_names[k];
        const nt_tensor *t = v->outputs[k];
        if (!t || !name || !name[0] || nt_strmap_get(&l->seen, name) >= 0)
            continue;
        char *copy = nt_strdup(name);
        if (!copy || nt_vec_push(&l->names, &copy) != NT_OK) {
            free(copy);
            l->err = NT_ERR_NOMEM;
            return NT_ACTION_STOP;
        }
        if ((l->err = nt_strmap_put(&l->seen, copy, 0, NULL)) != NT_OK)
            return NT_ACTION_STOP;
        bool by_node, by_dq = false;
        int j = nt_diff_set_find(l->ref, name, v->name, k, &by_node);
        if (j < 0 && strcmp(v->op_type, "DequantizeLinear") == 0 && k == 0) {
            /* A quantized model's DequantizeLinear output stands for a float
             * tensor of the float model; that tensor may already have been
             * compared with the float value the quantizer reads, so it may
             * be used again. */
            j = dequantized_match(l->ref, name, v->n_inputs > 0 ? v->input_names[0] : NULL);
            by_dq = j >= 0;
            by_node = false;
        }
        nt_tensor *deq = NULL;
        if (j < 0 && (deq = dequantize_qlinear(v, k)) != NULL) {
            /* QOperator format: "X_quantized" dequantized stands for X */
            j = dequantized_match(l->ref, NULL, name);
            by_dq = j >= 0;
            by_node = false;
            if (by_dq)
                t = deq;
        }
        if (j >= 0 && l->used[j] && !by_dq && strcmp(v->op_type, "DequantizeLinear") == 0 && k == 0)
            continue; /* a QOperator model's last X_quantized -> X, already compared dequantized */
        if (j < 0 || (l->used[j] && !by_dq)) {
            nt_tensor_free(deq);
            l->err = nt_diff_report_add_only(l->rep, l->live_is_a, name);
            if (l->err != NT_OK)
                return NT_ACTION_STOP;
            continue;
        }
        l->used[j] = 1;
        const nt_diff_entry *e = nt_diff_set_entry(l->ref, j);
        char err[512] = "";
        nt_tensor *r = load_entry(e, err, sizeof err);
        const nt_tensor *ta = l->live_is_a ? t : r, *tb = l->live_is_a ? r : t;
        bool other = by_node || by_dq;
        l->err = add_row(l->rep, l->opt, v->name, v->op_type, l->live_is_a ? name : e->output,
                         other ? (l->live_is_a ? e->output : name) : NULL, r ? ta : NULL, r ? tb : NULL, err);
        if (l->err == NT_OK && by_dq) {
            l->rep->rows[l->rep->n - 1].by_dequantize = true;
            l->rep->n_by_node--;   /* counted as matched by node name by add_row */
        }
        nt_tensor_free(r);
        nt_tensor_free(deq);
        if (l->err != NT_OK)
            return NT_ACTION_STOP;
    }
    return NT_ACTION_CONTINUE;
}

nt_status nt_diff_live_new(const nt_diff_set *ref, const nt_diff_options *o, nt_diff_report *rep, bool live_is_a,
                           nt_diff_live **out)
{
    nt_diff_live *l = nt_calloc(1, sizeof *l);
    if (!l)
        return NT_ERR_NOMEM;
    l->ref = ref;
    l->opt = o;
    l->rep = rep;
    l->live_is_a = live_is_a;
    l->used = nt_calloc((size_t)nt_diff_set_count(ref) + 1, 1);
    nt_strmap_init(&l->seen);
    nt_vec_init(&l->names, sizeof(char *));
    if (!l->used) {
        nt_diff_live_free(l);
        return NT_ERR_NOMEM;
    }
    l->tracer = (nt_tracer){.user = l, .run_begin = live_run_begin, .node_end = live_node_end};
    *out = l;
    return NT_OK;
}

const nt_tracer *nt_diff_live_tracer(nt_diff_live *l) { return &l->tracer; }

/* The recorded set's name of a row's tensor. */
static const char *set_name(const nt_diff_live *l, const nt_diff_row *w)
{
    return l->live_is_a && w->other ? w->other : w->output;
}

/* A quantized model's float tensor X that only feeds QuantizeLinear is
 * compared through its DequantizeLinear output; its own row goes.  (The
 * quantizer may also fold a Relu into the quantization and give its name to
 * the pre-Relu value, which would otherwise be compared with the float
 * model's post-Relu X.)  Keeps first_divergent and n_by_node current. */
static void drop_superseded_rows(nt_diff_live *l)
{
    nt_diff_report *r = l->rep;
    int kept = 0;
    for (int i = 0; i < r->n; i++) {
        nt_diff_row *w = &r->rows[i];
        bool superseded = false;
        for (int j = i + 1; j < r->n && !w->by_dequantize && !superseded; j++)
            superseded = r->rows[j].by_dequantize && strcmp(set_name(l, &r->rows[j]), set_name(l, w)) == 0;
        if (superseded) {
            if (w->other)
                r->n_by_node--;
            free(w->node);
            free(w->op);
            free(w->output);
            free(w->other);
            free(w->error);
            continue;
        }
        r->rows[kept++] = *w;
    }
    r->n = kept;
    r->first_divergent = -1;
    for (int i = 0; i < r->n && r->first_divergent < 0; i++)
        if (!r->rows[i].ok)
            r->first_divergent = i;
}

nt_status nt_diff_live_finish(nt_diff_live *l)
{
    if (l->err != NT_OK)
        return l->err;
    for (int j = 0; j < nt_diff_set_count(l->ref); j++) {
        if (l->used[j])
            continue;
        const char *name = nt_diff_set_entry(l->ref, j)->output;
        nt_status st = nt_diff_report_add_only(l->rep, !l->live_is_a, name);
        if (st != NT_OK)
            return st;
        l->used[j] = 1;
    }
    drop_superseded_rows(l);
    nt_diff_report_find_jump(l->rep);
    return NT_OK;
}

void nt_diff_live_free(nt_diff_live *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->names.len; i++)
        free(*(char **)nt_vec_at(&l->names, i));
    nt_vec_deinit(&l->names);
    nt_strmap_deinit(&l->seen);
    free(l->used);
    free(l);
}
