/*
 * op_harness.h — shared scaffolding for the kernel unit tests
 * (tests/unit/test_ops_*.c): build an nt_node with attributes, make input
 * tensors, and drive one op through the registry exactly as the executor
 * does (nt_op_find → prepare → infer → allocate → compute → release).
 *
 * The Makefile compiles every tests/unit/test_*.c on its own (with
 * -Itests/unit), so everything here is a static function marked NT_UNUSED:
 * each test binary gets a private copy and no warning for the helpers it
 * does not call.  Include it after <cmocka.h> (and the headers cmocka
 * needs before it).
 *
 * Files whose expect_close / expect_shape take different arguments define
 * OP_HARNESS_LOCAL_CHECKS before including and keep their own; likewise
 * OP_HARNESS_LOCAL_FREE_ALL for a local free_all.
 */
#ifndef NT_TESTS_OP_HARNESS_H
#define NT_TESTS_OP_HARNESS_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "exec/exec.h"
#include "ops/kernel.h"

/* ---- tensors */

/* A new tensor of dtype t and shape dims, filled from data when non-NULL
 * (fails the test if allocation fails). */
static NT_UNUSED nt_tensor *mk(nt_dtype t, int ndim, const int64_t *dims, const void *data)
{
    nt_tensor *x = NULL;
    assert_int_equal(nt_tensor_new(t, ndim, dims, &x), NT_OK);
    if (data && nt_tensor_nbytes(x))
        memcpy(x->data, data, nt_tensor_nbytes(x));
    return x;
}

/* A float tensor; see mk. */
static NT_UNUSED nt_tensor *mkf(int ndim, const int64_t *dims, const float *data)
{
    return mk(NT_DTYPE_FLOAT, ndim, dims, data);
}

/* A 1-D int64 tensor of n values. */
static NT_UNUSED nt_tensor *mki64(int n, const int64_t *v)
{
    int64_t d[1] = {n};
    return mk(NT_DTYPE_INT64, 1, d, v);
}

/* Deterministic pseudo-random floats in [-1, 1). */
static NT_UNUSED void fill(float *v, int64_t n, uint32_t seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        v[i] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
}

/* ---- nodes */

/* A node under construction: attributes are appended with the a_* helpers.
 * Attribute payloads (strings, arrays) are borrowed, not copied. */
typedef struct tnode {
    nt_node node;
    nt_attr attrs[12];
    int ins[10], outs[4];
} tnode;

/* Reset t to an attribute-less node of type op in the default domain. */
static NT_UNUSED void tn_init(tnode *t, const char *op)
{
    memset(t, 0, sizeof *t);
    t->node.name = "n0";
    t->node.op_type = op;
    t->node.domain = "";
    t->node.in = t->ins;
    t->node.out = t->outs;
    t->node.attrs = t->attrs;
}

/* Append one attribute slot of the given name and type. */
static NT_UNUSED nt_attr *tn_attr(tnode *t, const char *name, nt_attr_type type)
{
    assert_true(t->node.n_attr < (int)(sizeof t->attrs / sizeof t->attrs[0]));
    nt_attr *a = &t->attrs[t->node.n_attr++];
    a->name = name;
    a->type = type;
    return a;
}

static NT_UNUSED void a_int(tnode *t, const char *name, int64_t v) { tn_attr(t, name, NT_ATTR_INT)->i = v; }
static NT_UNUSED void a_float(tnode *t, const char *name, float v) { tn_attr(t, name, NT_ATTR_FLOAT)->f = v; }
static NT_UNUSED void a_str(tnode *t, const char *name, const char *v)
{
    nt_attr *a = tn_attr(t, name, NT_ATTR_STRING);
    a->s = v;
    a->s_len = strlen(v);
}
static NT_UNUSED void a_strs(tnode *t, const char *name, int n, const char **v)
{
    nt_attr *a = tn_attr(t, name, NT_ATTR_STRINGS);
    a->n = n;
    a->strings = v;
}
static NT_UNUSED void a_ints(tnode *t, const char *name, int n, const int64_t *v)
{
    nt_attr *a = tn_attr(t, name, NT_ATTR_INTS);
    a->n = n;
    a->ints = v;
}
static NT_UNUSED void a_floats(tnode *t, const char *name, int n, const float *v)
{
    nt_attr *a = tn_attr(t, name, NT_ATTR_FLOATS);
    a->n = n;
    a->floats = v;
}

/* Stand-alone attribute values, for tests that hand run_op an nt_attr
 * array instead of building a tnode. */
static NT_UNUSED nt_attr attr_int(const char *name, int64_t v)
{
    nt_attr a = {0};
    a.name = name;
    a.type = NT_ATTR_INT;
    a.i = v;
    return a;
}
static NT_UNUSED nt_attr attr_float(const char *name, float v)
{
    nt_attr a = {0};
    a.name = name;
    a.type = NT_ATTR_FLOAT;
    a.f = v;
    return a;
}
static NT_UNUSED nt_attr attr_ints(const char *name, int n, const int64_t *v)
{
    nt_attr a = {0};
    a.name = name;
    a.type = NT_ATTR_INTS;
    a.n = n;
    a.ints = v;
    return a;
}
static NT_UNUSED nt_attr attr_str(const char *name, const char *v)
{
    nt_attr a = {0};
    a.name = name;
    a.type = NT_ATTR_STRING;
    a.s = v;
    a.s_len = strlen(v);
    return a;
}

/* ---- running an op */

/* Finds t's op, sets the node's counts and opset and runs prepare. */
static NT_UNUSED nt_status oh_prepare(tnode *t, int opset, int n_in, int n_out, const nt_op_def **def,
                                      void **state)
{
    *def = nt_op_find(t->node.op_type, t->node.domain, opset);
    assert_non_null(*def);
    t->node.n_in = n_in;
    t->node.n_out = n_out;
    t->node.opset = opset;
    *state = NULL;
    return (*def)->prepare ? (*def)->prepare(&t->node, opset, state) : NT_OK;
}

/* prepare, infer, allocate, compute, release for t's op in t's domain.
 * want[i] says whether output i is requested (NULL = all); out[i] get new
 * tensors or stay NULL for an omitted optional output.  Outputs whose infer
 * left the rank unknown are allocated by compute itself.  exec may be NULL
 * (no thread pool).  Returns the first failing status; all outputs are
 * freed and NULL then. */
static NT_UNUSED nt_status oh_run(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor **out,
                                  const bool *want, nt_exec *exec)
{
    const nt_op_def *def;
    void *state;
    nt_status s = oh_prepare(t, opset, n_in, n_out, &def, &state);
    if (s != NT_OK)
        return s;
    for (int i = 0; i < n_out; i++) {
        out[i] = NULL;
        if (want && !want[i])
            continue;
        out[i] = nt_calloc(1, sizeof(nt_tensor));
        assert_non_null(out[i]);
        out[i]->ndim = -1;
    }
    nt_kernel_ctx ctx = {&t->node, opset, n_in, n_out, in, out, state, false, exec, NULL};
    s = def->infer(&ctx);
    for (int i = 0; i < n_out && s == NT_OK; i++)
        if (out[i] && out[i]->ndim >= 0)
            s = nt_tensor_reserve(out[i], nt_tensor_nbytes(out[i]));
    if (s == NT_OK)
        s = def->compute(&ctx);
    if (def->release)
        def->release(state);
    if (s != NT_OK)
        for (int i = 0; i < n_out; i++) {
            nt_tensor_free(out[i]);
            out[i] = NULL;
        }
    return s;
}

/* Static-mode (plan-time) infer only: prepare, infer, release.  out[i] are
 * caller storage, left as the caller set them up (rank -1 = unknown). */
static NT_UNUSED nt_status oh_infer_static(tnode *t, int opset, int n_in, nt_tensor **in, int n_out,
                                           nt_tensor **out)
{
    const nt_op_def *def;
    void *state;
    nt_status s = oh_prepare(t, opset, n_in, n_out, &def, &state);
    if (s != NT_OK)
        return s;
    nt_kernel_ctx ctx = {&t->node, opset, n_in, n_out, in, out, state, true, NULL, NULL};
    s = def->infer(&ctx);
    if (def->release)
        def->release(state);
    return s;
}

/* op with the given attributes: infer then compute (oh_run), or with
 * static_mode infer only, on new rank-unknown out[] tensors.  Outputs are
 * new tensors in out[] (caller frees). */
static NT_UNUSED nt_status oh_run_node(const char *op, int opset, nt_attr *attrs, int n_attr, int n_in,
                                       nt_tensor **in, int n_out, nt_tensor **out, bool static_mode)
{
    tnode t;
    tn_init(&t, op);
    t.node.attrs = attrs;
    t.node.n_attr = n_attr;
    if (!static_mode)
        return oh_run(&t, opset, n_in, in, n_out, out, NULL, NULL);
    for (int i = 0; i < n_out; i++) {
        out[i] = nt_calloc(1, sizeof(nt_tensor));
        assert_non_null(out[i]);
    }
    return oh_infer_static(&t, opset, n_in, in, n_out, out);
}

/* A session with a 2-thread pool, for the parallel paths; pool_free
 * releases it. */
static NT_UNUSED nt_session *pool_session(void)
{
    nt_session *sess = nt_calloc(1, sizeof *sess);
    assert_non_null(sess);
    sess->threads = nt_threads_new(2);
    assert_non_null(sess->threads);
    return sess;
}

static NT_UNUSED void pool_free(nt_session *sess)
{
    nt_threads_free(sess->threads);
    free(sess);
}

/* ---- checks */

#ifndef OP_HARNESS_LOCAL_FREE_ALL
/* Free n tensors (NULL entries allowed). */
static NT_UNUSED void free_all(int n, nt_tensor **ts)
{
    for (int i = 0; i < n; i++)
        nt_tensor_free(ts[i]);
}
#endif

#ifndef OP_HARNESS_LOCAL_CHECKS

/* |got - want| <= tol (1 + |want|) for n floats; NaN and inf must match. */
static NT_UNUSED void expect_close(const float *got, const float *want, int64_t n, double tol)
{
    for (int64_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        if ((isnan(w) && isnan(g)) || (isinf(w) && g == w))
            continue;
        if (!(fabs(g - w) <= tol + tol * fabs(w)))
            fail_msg("element %lld: got %.9g, want %.9g", (long long)i, g, w);
    }
}

/* t has exactly rank ndim and shape dims. */
static NT_UNUSED void expect_shape(const nt_tensor *t, int ndim, const int64_t *dims)
{
    assert_int_equal(t->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        assert_int_equal(t->dims[d], dims[d]);
}

#endif /* OP_HARNESS_LOCAL_CHECKS */

#endif /* NT_TESTS_OP_HARNESS_H */
