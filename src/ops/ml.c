/*
 * ml.c — operator family "ml": ai.onnx.ml LabelEncoder (2, 4) and
 * TreeEnsemble (5).
 *
 * LabelEncoder maps each element of X through a key -> value table given in
 * attributes (keys_int64s / keys_floats / keys_strings / keys_tensor,
 * values_* alike), elements without a key taking the default
 * (default_string is "_Unused" as the spec says).  LabelEncoder-1 (string
 * keys only, classes_strings) is declined.  Keys are looked up by binary search in
 * a sorted copy; a repeated key maps to its last value, and a NaN key
 * matches any NaN input (the opset-4 rules).
 *
 * TreeEnsemble evaluates a forest: interior nodes (nodes_*) compare one
 * feature of a row of X (N, F) with a split (<=, <, >=, >, ==, != or set
 * membership; NaN takes the true branch only where
 * nodes_missing_value_tracks_true says so) and lead to another node or to a
 * leaf (leaf_*: a target id and a weight).  The leaves reached in each tree
 * are aggregated per target (SUM, AVERAGE over trees, MIN, MAX) into
 * Y (N, n_targets), accumulated in double.  post_transform other than NONE
 * is declined.
 */
#include "ops/kernel.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ML_DOMAIN "ai.onnx.ml"

/* ================================================================ LabelEncoder */

typedef struct lenc_entry {
    int64_t ik;          /* integer key */
    double fk;           /* float key */
    const char *sk;      /* string key (the model's attribute bytes) */
    int64_t pos;         /* index in the attribute (later wins among equals) */
} lenc_entry;

typedef struct lenc {
    nt_dtype key_dt;     /* INT64, INT32, INT16, FLOAT or DOUBLE */
    nt_dtype val_dt;
    bool float_keys;
    int64_t n;
    lenc_entry *keys;    /* sorted by key, then pos */
    unsigned char *vals; /* n values in val_dt, attribute order */
    unsigned char dflt[8];
    int64_t nan_pos;     /* value index of the last NaN key, -1 if none */
} lenc;

static void lenc_release(void *state)
{
    lenc *a = state;
    if (!a)
        return;
    free(a->keys);
    free(a->vals);
    free(a);
}

static bool lenc_int_type(nt_dtype t)
{
    return t == NT_DTYPE_INT64 || t == NT_DTYPE_INT32 || t == NT_DTYPE_INT16;
}

static bool lenc_type_ok(nt_dtype t)
{
    return lenc_int_type(t) || t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_STRING;
}

static int lenc_cmp(const void *pa, const void *pb)
{
    const lenc_entry *a = pa, *b = pb;
    if (a->sk || b->sk) {
        int c = strcmp(a->sk ? a->sk : "", b->sk ? b->sk : "");
        if (c)
            return c;
    }
    if (a->fk != b->fk)
        return a->fk < b->fk ? -1 : 1;
    if (a->ik != b->ik)
        return a->ik < b->ik ? -1 : 1;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Element i of an integer tensor or attribute tensor as int64. */
static int64_t int_at(const nt_tensor *t, int64_t i)
{
    switch (t->dtype) {
    case NT_DTYPE_INT64: return ((const int64_t *)t->data)[i];
    case NT_DTYPE_INT32: return ((const int32_t *)t->data)[i];
    case NT_DTYPE_INT16: return ((const int16_t *)t->data)[i];
    default: return (int64_t)nt_tensor_get_f64(t, i);
    }
}

/* Stores v (given both as integer and double) as dtype dt at p. */
static void put_value(unsigned char *p, nt_dtype dt, int64_t iv, double fv)
{
    switch (dt) {
    case NT_DTYPE_INT64: memcpy(p, &iv, 8); break;
    case NT_DTYPE_INT32: { int32_t v = (int32_t)iv; memcpy(p, &v, 4); } break;
    case NT_DTYPE_INT16: { int16_t v = (int16_t)iv; memcpy(p, &v, 2); } break;
    case NT_DTYPE_FLOAT: { float v = (float)fv; memcpy(p, &v, 4); } break;
    default: memcpy(p, &fv, 8); break;
    }
}

/* The keys_* or values_* attribute set: its dtype, count and, through
 * get_i/get_f, its elements.  Exactly one must be present. */
typedef struct lenc_list {
    nt_dtype dt;
    int64_t n;
    const int64_t *ints;
    const float *floats;
    const char *const *strs;
    const nt_tensor *t;
} lenc_list;

static int64_t list_int(const lenc_list *l, int64_t i)
{
    return l->ints ? l->ints[i] : l->floats ? (int64_t)l->floats[i] : int_at(l->t, i);
}

static double list_f64(const lenc_list *l, int64_t i)
{
    return l->ints ? (double)l->ints[i] : l->floats ? (double)l->floats[i] : nt_tensor_get_f64(l->t, i);
}

static nt_status lenc_list_get(const nt_node *n, int opset, const char *prefix, lenc_list *l)
{
    char name[32];
    memset(l, 0, sizeof *l);
    int found = 0;
    snprintf(name, sizeof name, "%s_strings", prefix);
    const nt_attr *sa = nt_node_attr(n, name);
    if (sa && sa->type == NT_ATTR_STRINGS) {
        l->n = sa->n;
        l->strs = sa->strings;
        l->dt = NT_DTYPE_STRING;
        found++;
    }
    snprintf(name, sizeof name, "%s_int64s", prefix);
    if (nt_node_attr(n, name)) {
        l->n = nt_node_attr_ints(n, name, &l->ints);
        l->dt = NT_DTYPE_INT64;
        found++;
    }
    snprintf(name, sizeof name, "%s_floats", prefix);
    if (nt_node_attr(n, name)) {
        l->n = nt_node_attr_floats(n, name, &l->floats);
        l->dt = NT_DTYPE_FLOAT;
        found++;
    }
    snprintf(name, sizeof name, "%s_tensor", prefix);
    const nt_attr *at = opset >= 4 ? nt_node_attr(n, name) : NULL;
    if (at) {
        if (at->type != NT_ATTR_TENSOR || !at->t)
            return nt_error(NT_ERR_PARSE, "node '%s' (LabelEncoder): %s is not a tensor", n->name, name);
        if (!lenc_type_ok(at->t->dtype))
            return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (LabelEncoder): %s of type %s is not supported", n->name,
                            name, nt_dtype_name(at->t->dtype));
        l->t = at->t;
        l->n = nt_tensor_numel(at->t);
        l->dt = at->t->dtype;
        if (l->dt == NT_DTYPE_STRING)
            l->strs = (const char *const *)at->t->data;
        found++;
    }
    if (found != 1)
        return nt_error(NT_ERR_PARSE, "node '%s' (LabelEncoder): exactly one %s_* attribute must be set (found %d)",
                        n->name, prefix, found);
    return NT_OK;
}

/* The default value in val_dt: default_tensor, else default_int64 /
 * default_float (spec defaults -1 and -0.0).  default_string only matters
 * for string values, which are declined before this. */
static nt_status lenc_default(const nt_node *n, int opset, lenc *a)
{
    const nt_attr *dt = opset >= 4 ? nt_node_attr(n, "default_tensor") : NULL;
    if (dt) {
        if (dt->type != NT_ATTR_TENSOR || !dt->t || nt_tensor_numel(dt->t) != 1)
            return nt_error(NT_ERR_PARSE, "node '%s' (LabelEncoder): default_tensor must hold one element", n->name);
        if (dt->t->dtype != a->val_dt)
            return nt_error(NT_ERR_PARSE, "node '%s' (LabelEncoder): default_tensor is %s but the values are %s",
                            n->name, nt_dtype_name(dt->t->dtype), nt_dtype_name(a->val_dt));
        if (a->val_dt == NT_DTYPE_STRING)
            memcpy(a->dflt, dt->t->data, sizeof(char *));
        else
            put_value(a->dflt, a->val_dt, int_at(dt->t, 0), nt_tensor_get_f64(dt->t, 0));
    } else if (a->val_dt == NT_DTYPE_STRING) {
        const char *d = nt_node_attr_string(n, "default_string", "_Unused");
        memcpy(a->dflt, &d, sizeof d);
    } else if (lenc_int_type(a->val_dt)) {
        put_value(a->dflt, a->val_dt, nt_node_attr_int(n, "default_int64", -1), 0);
    } else {
        put_value(a->dflt, a->val_dt, 0, nt_node_attr_float(n, "default_float", -0.0f));
    }
    return NT_OK;
}

static nt_status lenc_prepare(const nt_node *n, int opset, void **state)
{
    if (opset < 2)
        return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (LabelEncoder-1): maps strings only, which are not supported",
                        n->name);
    lenc_list kl, vl;
    nt_status s = lenc_list_get(n, opset, "keys", &kl);
    if (s == NT_OK)
        s = lenc_list_get(n, opset, "values", &vl);
    if (s != NT_OK)
        return s;
    if (kl.n != vl.n)
        return nt_error(NT_ERR_PARSE, "node '%s' (LabelEncoder): %lld keys but %lld values", n->name,
                        (long long)kl.n, (long long)vl.n);
    lenc *a = nt_calloc(1, sizeof *a);
    if (!a)
        return NT_ERR_NOMEM;
    a->key_dt = kl.dt;
    a->val_dt = vl.dt;
    a->float_keys = kl.dt == NT_DTYPE_FLOAT || kl.dt == NT_DTYPE_DOUBLE;
    a->n = kl.n;
    a->nan_pos = -1;
    /* string values are held as pointers to the attribute's bytes */
    size_t esz = a->val_dt == NT_DTYPE_STRING ? sizeof(char *) : nt_dtype_size(a->val_dt);
    a->keys = nt_calloc((size_t)(a->n > 0 ? a->n : 1), sizeof *a->keys);
    a->vals = nt_calloc((size_t)(a->n > 0 ? a->n : 1), esz);
    if (!a->keys || !a->vals) {
        lenc_release(a);
        return NT_ERR_NOMEM;
    }
    int64_t m = 0;
    for (int64_t i = 0; i < a->n; i++) {
        if (vl.strs)
            memcpy(a->vals + (size_t)i * esz, &vl.strs[i], sizeof(char *));
        else
            put_value(a->vals + (size_t)i * esz, a->val_dt, list_int(&vl, i), list_f64(&vl, i));
        lenc_entry e = {0, 0, NULL, i};
        if (kl.strs) {
            e.sk = kl.strs[i];
        } else if (a->float_keys) {
            e.fk = list_f64(&kl, i);
            if (isnan(e.fk)) {
                a->nan_pos = i;
                continue;
            }
        } else {
            e.ik = list_int(&kl, i);
        }
        a->keys[m++] = e;
    }
    a->n = m;
    qsort(a->keys, (size_t)m, sizeof *a->keys, lenc_cmp);
    if ((s = lenc_default(n, opset, a)) != NT_OK) {
        lenc_release(a);
        return s;
    }
    *state = a;
    return NT_OK;
}

static nt_status lenc_infer(nt_kernel_ctx *ctx)
{
    const lenc *a = ctx->state;
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input X is required");
    if (x->dtype != a->key_dt && !(ctx->static_mode && x->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X is %s but the keys are %s", nt_dtype_name(x->dtype),
                            nt_dtype_name(a->key_dt));
    if (x->ndim < 0) {
        nt_ctx_set_output(ctx, 0, a->val_dt, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, a->val_dt, x->ndim, x->dims);
}

/* Index of the value for key (ik or fk), or -1: the last entry equal to the
 * key in the sorted table. */
static int64_t lenc_find(const lenc *a, int64_t ik, double fk, const char *sk)
{
    int64_t lo = 0, hi = a->n;   /* first entry greater than the key */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        const lenc_entry *e = &a->keys[mid];
        bool le = sk ? strcmp(e->sk, sk) <= 0 : a->float_keys ? e->fk <= fk : e->ik <= ik;
        if (le)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const lenc_entry *e = &a->keys[lo - 1];
    bool eq = sk ? strcmp(e->sk, sk) == 0 : a->float_keys ? e->fk == fk : e->ik == ik;
    return eq ? e->pos : -1;
}

static nt_status lenc_compute(nt_kernel_ctx *ctx)
{
    const lenc *a = ctx->state;
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t n = nt_tensor_numel(x);
    bool str_out = a->val_dt == NT_DTYPE_STRING;
    size_t esz = str_out ? sizeof(char *) : nt_dtype_size(a->val_dt);
    /* string values: pointers first, then copied into y's own block */
    unsigned char *out = str_out ? nt_calloc((size_t)n + 1, sizeof(char *)) : y->data;
    if (!out)
        return NT_ERR_NOMEM;
    for (int64_t i = 0; i < n; i++) {
        int64_t pos;
        if (a->key_dt == NT_DTYPE_STRING) {
            pos = lenc_find(a, 0, 0, ((char *const *)x->data)[i]);
        } else if (a->float_keys) {
            double v = x->dtype == NT_DTYPE_FLOAT ? ((const float *)x->data)[i] : ((const double *)x->data)[i];
            pos = isnan(v) ? a->nan_pos : lenc_find(a, 0, v, NULL);
        } else {
            pos = lenc_find(a, int_at(x, i), 0, NULL);
        }
        memcpy(out + (size_t)i * esz, pos >= 0 ? a->vals + (size_t)pos * esz : a->dflt, esz);
    }
    if (str_out) {
        nt_status s = nt_tensor_set_strings(y, n, (const char *const *)out, NULL);
        free(out);
        return s;
    }
    return NT_OK;
}

/* ================================================================ TreeEnsemble */

enum { TE_LEQ, TE_LT, TE_GTE, TE_GT, TE_EQ, TE_NEQ, TE_MEMBER };
enum { TE_AVERAGE, TE_SUM, TE_MIN, TE_MAX };

typedef struct te_node {
    int64_t feature;
    double split;
    int mode;
    bool nan_true;                  /* NaN takes the true branch */
    int64_t child[2];               /* [0] false, [1] true: node or leaf index */
    bool child_leaf[2];
    int64_t set_off, set_len;       /* MEMBER: sorted members in te->members */
} te_node;

typedef struct te_state {
    int64_t n_nodes, n_leaves, n_trees, n_targets;
    int aggregate;
    te_node *nodes;
    int64_t *leaf_target;
    double *leaf_weight;
    int64_t *roots;
    double *members;
    int64_t max_feature;
} te_state;

static void te_release(void *state)
{
    te_state *t = state;
    if (!t)
        return;
    free(t->nodes);
    free(t->leaf_target);
    free(t->leaf_weight);
    free(t->roots);
    free(t->members);
    free(t);
}

/* A float tensor attribute (float, double or float16) with want elements
 * (want < 0: any count); NULL when absent. */
static nt_status te_tensor_attr(const nt_node *n, const char *name, int64_t want, bool required,
                                const nt_tensor **out)
{
    const nt_attr *at = nt_node_attr(n, name);
    *out = NULL;
    if (!at) {
        if (required)
            return nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): attribute %s is required", n->name, name);
        return NT_OK;
    }
    if (at->type != NT_ATTR_TENSOR || !at->t)
        return nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): %s must be a tensor", n->name, name);
    if (want >= 0 && nt_tensor_numel(at->t) != want)
        return nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): %s has %lld elements, expected %lld", n->name, name,
                        (long long)nt_tensor_numel(at->t), (long long)want);
    *out = at->t;
    return NT_OK;
}

static int dbl_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return a < b ? -1 : a > b;
}

static nt_status te_fail(te_state *t, nt_status s)
{
    te_release(t);
    return s;
}

/* Rejects branch structures with a cycle (a walk would never reach a
 * leaf): depth-first over node -> interior-child edges, colouring nodes
 * 0 unseen, 1 on the current path, 2 done. */
static nt_status te_check_acyclic(const te_state *t, const char *nm)
{
    int64_t n = t->n_nodes;
    unsigned char *col = nt_calloc((size_t)(n > 0 ? n : 1), 1);
    int64_t *stack = nt_calloc((size_t)(n > 0 ? n : 1), sizeof *stack);
    int *next = nt_calloc((size_t)(n > 0 ? n : 1), sizeof *next);
    nt_status s = col && stack && next ? NT_OK : NT_ERR_NOMEM;
    for (int64_t r = 0; s == NT_OK && r < n; r++) {
        if (col[r])
            continue;
        int64_t top = 0;
        stack[0] = r;
        col[r] = 1;
        next[r] = 0;
        while (top >= 0 && s == NT_OK) {
            int64_t v = stack[top];
            if (next[v] == 2) {
                col[v] = 2;
                top--;
                continue;
            }
            int b = next[v]++;
            const te_node *d = &t->nodes[v];
            if (d->child_leaf[b])
                continue;
            int64_t c = d->child[b];
            if (col[c] == 1)
                s = nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): the branches through node %lld form a cycle",
                             nm, (long long)c);
            else if (col[c] == 0) {
                col[c] = 1;
                next[c] = 0;
                stack[++top] = c;
            }
        }
    }
    free(col);
    free(stack);
    free(next);
    return s;
}

static nt_status te_prepare(const nt_node *n, int opset, void **state)
{
    const char *nm = n->name;
    const int64_t *feat, *tid, *fid, *tleaf, *fleaf, *track = NULL, *ltarget, *roots;
    int nn = nt_node_attr_ints(n, "nodes_featureids", &feat);
    if (nt_node_attr_ints(n, "nodes_truenodeids", &tid) != nn || nt_node_attr_ints(n, "nodes_falsenodeids", &fid) != nn ||
        nt_node_attr_ints(n, "nodes_trueleafs", &tleaf) != nn || nt_node_attr_ints(n, "nodes_falseleafs", &fleaf) != nn)
        return nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): the nodes_* attributes differ in length", nm);
    if (nt_node_attr(n, "nodes_missing_value_tracks_true") &&
        nt_node_attr_ints(n, "nodes_missing_value_tracks_true", &track) != nn)
        return nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): nodes_missing_value_tracks_true has the wrong length",
                        nm);
    int nl = nt_node_attr_ints(n, "leaf_targetids", &ltarget);
    int nr = nt_node_attr_ints(n, "tree_roots", &roots);
    int64_t n_targets = nt_node_attr_int(n, "n_targets", -1);
    int64_t agg = nt_node_attr_int(n, "aggregate_function", TE_SUM);
    int64_t post = nt_node_attr_int(n, "post_transform", 0);
    if (post != 0)
        return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (TreeEnsemble): post_transform %lld is not supported (only NONE)",
                        nm, (long long)post);
    if (agg < TE_AVERAGE || agg > TE_MAX)
        return nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): aggregate_function %lld is not 0..3", nm,
                        (long long)agg);
    if (n_targets < 1 || nr < 1 || nl < 1)
        return nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): n_targets, tree_roots and leaves are required", nm);
    const nt_tensor *splits, *modes, *weights, *members;
    nt_status s = te_tensor_attr(n, "nodes_splits", nn, nn > 0, &splits);
    if (s == NT_OK)
        s = te_tensor_attr(n, "nodes_modes", nn, nn > 0, &modes);
    if (s == NT_OK)
        s = te_tensor_attr(n, "leaf_weights", nl, true, &weights);
    if (s == NT_OK)
        s = te_tensor_attr(n, "membership_values", -1, false, &members);
    if (s != NT_OK)
        return s;
    te_state *t = nt_calloc(1, sizeof *t);
    if (!t)
        return NT_ERR_NOMEM;
    t->n_nodes = nn;
    t->n_leaves = nl;
    t->n_trees = nr;
    t->n_targets = n_targets;
    t->aggregate = (int)agg;
    t->nodes = nt_calloc((size_t)(nn > 0 ? nn : 1), sizeof *t->nodes);
    t->leaf_target = nt_calloc((size_t)nl, sizeof *t->leaf_target);
    t->leaf_weight = nt_calloc((size_t)nl, sizeof *t->leaf_weight);
    t->roots = nt_calloc((size_t)nr, sizeof *t->roots);
    int64_t n_members = members ? nt_tensor_numel(members) : 0;
    t->members = nt_calloc((size_t)(n_members > 0 ? n_members : 1), sizeof *t->members);
    if (!t->nodes || !t->leaf_target || !t->leaf_weight || !t->roots || !t->members)
        return te_fail(t, NT_ERR_NOMEM);
    for (int i = 0; i < nl; i++) {
        if (ltarget[i] < 0 || ltarget[i] >= n_targets)
            return te_fail(t, nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): leaf %d targets %lld, outside [0, %lld)",
                                       nm, i, (long long)ltarget[i], (long long)n_targets));
        t->leaf_target[i] = ltarget[i];
        t->leaf_weight[i] = nt_tensor_get_f64(weights, i);
    }
    for (int i = 0; i < nr; i++) {
        if (roots[i] < 0 || roots[i] >= nn)
            return te_fail(t, nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): tree root %lld is not a node", nm,
                                       (long long)roots[i]));
        t->roots[i] = roots[i];
    }
    /* Member sets follow the MEMBER nodes in index order, each ended by NaN. */
    int64_t mpos = 0;
    for (int i = 0; i < nn; i++) {
        te_node *d = &t->nodes[i];
        d->feature = feat[i];
        d->split = nt_tensor_get_f64(splits, i);
        d->mode = (int)nt_tensor_get_f64(modes, i);
        d->nan_true = track && track[i];
        d->child[1] = tid[i];
        d->child[0] = fid[i];
        d->child_leaf[1] = tleaf[i] != 0;
        d->child_leaf[0] = fleaf[i] != 0;
        if (feat[i] < 0 || d->mode < TE_LEQ || d->mode > TE_MEMBER)
            return te_fail(t, nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): node %d has feature %lld, mode %d", nm,
                                       i, (long long)feat[i], d->mode));
        if (feat[i] > t->max_feature)
            t->max_feature = feat[i];
        for (int b = 0; b < 2; b++) {
            int64_t lim = d->child_leaf[b] ? nl : nn;
            if (d->child[b] < 0 || d->child[b] >= lim)
                return te_fail(t, nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): node %d's %s child %lld is out of range",
                                           nm, i, b ? "true" : "false", (long long)d->child[b]));
        }
        if (d->mode != TE_MEMBER)
            continue;
        d->set_off = mpos;
        while (mpos < n_members && !isnan(nt_tensor_get_f64(members, mpos))) {
            t->members[mpos] = nt_tensor_get_f64(members, mpos);
            mpos++;
        }
        if (mpos >= n_members)
            return te_fail(t, nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): membership_values has no NaN-ended set for node %d",
                                       nm, i));
        d->set_len = mpos - d->set_off;
        qsort(t->members + d->set_off, (size_t)d->set_len, sizeof *t->members, dbl_cmp);
        mpos++;   /* the NaN */
    }
    if ((s = te_check_acyclic(t, nm)) != NT_OK)
        return te_fail(t, s);
    if (mpos != n_members)
        return te_fail(t, nt_error(NT_ERR_PARSE, "node '%s' (TreeEnsemble): membership_values has more sets than member nodes",
                                   nm));
    *state = t;
    return NT_OK;
}

static bool te_float(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_FLOAT16;
}

/* X (N, F) -> Y (N, n_targets), X's dtype. */
static nt_status te_infer(nt_kernel_ctx *ctx)
{
    const te_state *t = ctx->state;
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input X is required");
    if (!te_float(x->dtype) && !(ctx->static_mode && x->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported (float16, float32, float64)",
                            nt_dtype_name(x->dtype));
    if (x->ndim >= 0 && x->ndim != 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "X must be (N, F), got rank %d", x->ndim);
    int64_t dims[2] = {x->ndim == 2 ? x->dims[0] : -1, t->n_targets};
    return nt_ctx_set_output(ctx, 0, x->dtype, 2, dims);
}

static bool te_member(const te_state *t, const te_node *d, double v)
{
    const double *m = t->members + d->set_off;
    int64_t lo = 0, hi = d->set_len;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (m[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->set_len && m[lo] == v;
}

static bool te_test(const te_state *t, const te_node *d, double v)
{
    if (isnan(v) && d->nan_true)
        return true;
    switch (d->mode) {
    case TE_LEQ: return v <= d->split;
    case TE_LT: return v < d->split;
    case TE_GTE: return v >= d->split;
    case TE_GT: return v > d->split;
    case TE_EQ: return v == d->split;
    case TE_NEQ: return v != d->split;
    default: return te_member(t, d, v);
    }
}

typedef struct te_job {
    const te_state *t;
    const double *x;       /* (N, F) */
    int64_t F;
    double *y;             /* (N, n_targets) */
    double init;
} te_job;

static void te_rows(void *arg, int64_t b, int64_t e)
{
    te_job *j = arg;
    const te_state *t = j->t;
    for (int64_t r = b; r < e; r++) {
        const double *row = j->x + r * j->F;
        double *out = j->y + r * t->n_targets;
        for (int64_t k = 0; k < t->n_targets; k++)
            out[k] = j->init;
        for (int64_t tr = 0; tr < t->n_trees; tr++) {
            int64_t cur = t->roots[tr];
            bool leaf = false;
            /* Ends: prepare rejected cyclic structures. */
            while (!leaf) {
                const te_node *d = &t->nodes[cur];
                int br = te_test(t, d, row[d->feature]);
                leaf = d->child_leaf[br];
                cur = d->child[br];
            }
            int64_t k = t->leaf_target[cur];
            double w = t->leaf_weight[cur];
            switch (t->aggregate) {
            case TE_MIN: out[k] = w < out[k] ? w : out[k]; break;
            case TE_MAX: out[k] = w > out[k] ? w : out[k]; break;
            default: out[k] += w; break;
            }
        }
        if (t->aggregate == TE_AVERAGE)
            for (int64_t k = 0; k < t->n_targets; k++)
                out[k] /= (double)t->n_trees;
    }
}

static nt_status te_compute(nt_kernel_ctx *ctx)
{
    const te_state *t = ctx->state;
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t N = x->dims[0], F = x->dims[1];
    if (t->n_nodes > 0 && t->max_feature >= F)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "a node reads feature %lld but X has %lld features",
                            (long long)t->max_feature, (long long)F);
    int64_t nx = N * F, ny = N * t->n_targets;
    double *xv = nt_malloc((size_t)(nx > 0 ? nx : 1) * sizeof *xv), *yv = nt_malloc((size_t)(ny > 0 ? ny : 1) * sizeof *yv);
    if (!xv || !yv) {
        free(xv);
        free(yv);
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "no memory for TreeEnsemble buffers");
    }
    for (int64_t i = 0; i < nx; i++)
        xv[i] = nt_tensor_get_f64(x, i);
    /* Targets no leaf reached keep the start value: the type's largest
     * (MIN) or lowest (MAX) finite value, else 0. */
    double big = x->dtype == NT_DTYPE_DOUBLE ? DBL_MAX : x->dtype == NT_DTYPE_FLOAT ? FLT_MAX : 65504.0;
    te_job j = {t, xv, F, yv, t->aggregate == TE_MIN ? big : t->aggregate == TE_MAX ? -big : 0.0};
    nt_parallel_for(ctx->exec, N, 64, te_rows, &j);
    for (int64_t i = 0; i < ny; i++)
        nt_tensor_set_f64(y, i, yv[i]);
    free(xv);
    free(yv);
    return NT_OK;
}

/* ================================================================ table */

const nt_op_def nt_ops_ml[] = {
    {"LabelEncoder", ML_DOMAIN, 1, lenc_prepare, lenc_release, lenc_infer, lenc_compute},
    {"LabelEncoder", ML_DOMAIN, 2, lenc_prepare, lenc_release, lenc_infer, lenc_compute},
    {"LabelEncoder", ML_DOMAIN, 4, lenc_prepare, lenc_release, lenc_infer, lenc_compute},
    {"TreeEnsemble", ML_DOMAIN, 5, te_prepare, te_release, te_infer, te_compute},
};
const size_t nt_ops_ml_count = NT_ARRAY_LEN(nt_ops_ml);
