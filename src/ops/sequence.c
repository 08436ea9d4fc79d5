/*
 * sequence.c — operators on sequence and optional values (nntrace.h:
 * "sequences and optionals"): SequenceEmpty, SequenceConstruct, SequenceAt,
 * SequenceInsert, SequenceErase, SequenceLength, SplitToSequence,
 * ConcatFromSequence, Optional, OptionalHasElement, OptionalGetElement,
 * SequenceMap (its body run once per item), and Identity's container case
 * (called from shape.c).
 *
 * Outputs that are containers are flagged by infer (so the executor leaves
 * their storage to compute) and built by compute from deep copies: a
 * sequence value is never shared between two live values, so freeing one
 * never frees another's items.  Plan-time inference knows the kind and,
 * where given, the element type; element shapes are known at run time.
 */
#include "ops/shape_impl.h"

#include <stdlib.h>
#include <string.h>

static const nt_seq *sq(const nt_tensor *t) { return nt_value_seq(t); }

/* Marks output i as a container of the given kind and element type. */
static nt_status set_container(nt_kernel_ctx *ctx, int i, unsigned kind, nt_dtype elem)
{
    nt_tensor *o = nt_ctx_out(ctx, i);
    if (!o)
        return NT_OK;
    o->dtype = elem;
    o->ndim = 0;
    o->flags = kind;
    o->data = NULL;
    return NT_OK;
}

static nt_status need_seq(const nt_kernel_ctx *ctx, const nt_tensor *t, const char *what)
{
    if (!t || !(t->flags & NT_TENSOR_SEQUENCE))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%s must be a sequence", what);
    return NT_OK;
}

/* A deep copy of a tensor or container, appended at pos. */
static nt_status insert_copy(nt_tensor *seq, int64_t pos, const nt_tensor *t)
{
    nt_tensor *c;
    nt_status s = nt_tensor_clone(t, &c);
    return s != NT_OK ? s : nt_seq_insert(seq, pos, c);
}

/* Reads a scalar position (int32/int64) and normalizes it for n items;
 * insert allows n itself. */
static nt_status read_pos(const nt_kernel_ctx *ctx, const nt_tensor *p, int64_t n, bool insert, int64_t *out)
{
    int64_t v;
    if (nt_tensor_numel(p) != 1 || nt_tensor_read_ints(p, &v, 1) != 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "position must be one int32 or int64 value");
    if (v < -n || v > (insert ? n : n - 1))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "position %lld is out of range for %lld items", (long long)v,
                            (long long)n);
    *out = v < 0 ? v + n : v;
    return NT_OK;
}

/* ---------------------------------------------------------------- construct, empty, length */

static nt_status empty_infer(nt_kernel_ctx *ctx)
{
    return set_container(ctx, 0, NT_TENSOR_SEQUENCE, (nt_dtype)nt_node_attr_int(ctx->node, "dtype", NT_DTYPE_FLOAT));
}

static nt_status empty_compute(nt_kernel_ctx *ctx)
{
    return nt_seq_init(ctx->out[0], false, (nt_dtype)nt_node_attr_int(ctx->node, "dtype", NT_DTYPE_FLOAT));
}

static nt_status construct_infer(nt_kernel_ctx *ctx)
{
    for (int i = 0; i < ctx->n_in; i++)
        if (!ctx->in[i] || nt_value_is_container(ctx->in[i]))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d must be a tensor", i);
    return set_container(ctx, 0, NT_TENSOR_SEQUENCE, ctx->n_in ? ctx->in[0]->dtype : NT_DTYPE_UNDEFINED);
}

static nt_status construct_compute(nt_kernel_ctx *ctx)
{
    nt_status s = nt_seq_init(ctx->out[0], false, ctx->in[0]->dtype);
    for (int i = 0; s == NT_OK && i < ctx->n_in; i++)
        s = insert_copy(ctx->out[0], -1, ctx->in[i]);
    return s;
}

static nt_status length_infer(nt_kernel_ctx *ctx)
{
    nt_status s = need_seq(ctx, nt_ctx_in(ctx, 0), "input");
    return s != NT_OK ? s : nt_ctx_set_output(ctx, 0, NT_DTYPE_INT64, 0, NULL);
}

static nt_status length_compute(nt_kernel_ctx *ctx)
{
    const nt_seq *q = sq(ctx->in[0]);
    ((int64_t *)ctx->out[0]->data)[0] = q ? q->n : 0;
    return NT_OK;
}

/* ---------------------------------------------------------------- at, insert, erase */

static nt_status at_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *seq = nt_ctx_in(ctx, 0), *pos = nt_ctx_in(ctx, 1);
    nt_status s = need_seq(ctx, seq, "input_sequence");
    if (s != NT_OK)
        return s;
    if (!pos)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "position is required");
    const nt_seq *q = sq(seq);
    if (ctx->static_mode || !q) {
        ctx->out[0]->dtype = seq->dtype;
        ctx->out[0]->ndim = -1;
        return NT_OK;
    }
    int64_t k;
    if ((s = read_pos(ctx, pos, q->n, false, &k)) != NT_OK)
        return s;
    const nt_tensor *t = q->items[k];
    if (nt_value_is_container(t) || t->dtype == NT_DTYPE_STRING)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "sequence elements that are not numeric tensors");
    return nt_ctx_set_output(ctx, 0, t->dtype, t->ndim, t->dims);
}

static nt_status at_compute(nt_kernel_ctx *ctx)
{
    const nt_seq *q = sq(ctx->in[0]);
    int64_t k;
    nt_status s = read_pos(ctx, ctx->in[1], q->n, false, &k);
    if (s == NT_OK && nt_tensor_nbytes(q->items[k]))
        memcpy(ctx->out[0]->data, q->items[k]->data, nt_tensor_nbytes(q->items[k]));
    return s;
}

static nt_status insert_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *seq = nt_ctx_in(ctx, 0), *t = nt_ctx_in(ctx, 1);
    nt_status s = need_seq(ctx, seq, "input_sequence");
    if (s != NT_OK)
        return s;
    if (!t || nt_value_is_container(t))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "tensor must be a tensor");
    return set_container(ctx, 0, NT_TENSOR_SEQUENCE, seq->dtype != NT_DTYPE_UNDEFINED ? seq->dtype : t->dtype);
}

static nt_status insert_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *seq = ctx->in[0], *t = ctx->in[1], *pos = nt_ctx_in(ctx, 2);
    const nt_seq *q = sq(seq);
    int64_t k = q->n;
    nt_status s = pos ? read_pos(ctx, pos, q->n, true, &k) : NT_OK;
    if (s == NT_OK && q->n && q->items[0]->dtype != t->dtype)
        s = nt_ctx_error(ctx, NT_ERR_SHAPE, "inserting %s into a sequence of %s", nt_dtype_name(t->dtype),
                         nt_dtype_name(q->items[0]->dtype));
    if (s == NT_OK)
        s = nt_seq_copy_into(ctx->out[0], seq);
    if (s == NT_OK)
        s = insert_copy(ctx->out[0], k, t);
    return s;
}

static nt_status erase_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *seq = nt_ctx_in(ctx, 0);
    nt_status s = need_seq(ctx, seq, "input_sequence");
    return s != NT_OK ? s : set_container(ctx, 0, NT_TENSOR_SEQUENCE, seq->dtype);
}

static nt_status erase_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *seq = ctx->in[0], *pos = nt_ctx_in(ctx, 1);
    const nt_seq *q = sq(seq);
    if (q->n == 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "erasing from an empty sequence");
    int64_t k = q->n - 1;
    nt_status s = pos ? read_pos(ctx, pos, q->n, false, &k) : NT_OK;
    if (s == NT_OK)
        s = nt_seq_init(ctx->out[0], false, seq->dtype);
    for (int i = 0; s == NT_OK && i < q->n; i++)
        if (i != k)
            s = insert_copy(ctx->out[0], -1, q->items[i]);
    return s;
}

/* ---------------------------------------------------------------- SplitToSequence */

static nt_status split_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x || nt_value_is_container(x))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be a tensor");
    if (nt_mv_size(x->dtype) == 0 && !(ctx->static_mode && x->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input of type %s is not supported", nt_dtype_name(x->dtype));
    return set_container(ctx, 0, NT_TENSOR_SEQUENCE, x->dtype);
}

/* Piece i of x along axis: dims[axis] = len at offset start. */
static nt_status split_piece(const nt_tensor *x, int axis, int64_t start, int64_t len, bool squeeze,
                             nt_tensor **out)
{
    int64_t dims[NT_MAX_DIMS];
    memcpy(dims, x->dims, sizeof dims);
    dims[axis] = len;
    nt_tensor *t;
    nt_status s = nt_tensor_new(x->dtype, x->ndim, dims, &t);
    if (s != NT_OK)
        return s;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= x->dims[d];
    for (int d = axis + 1; d < x->ndim; d++)
        inner *= x->dims[d];
    size_t es = nt_dtype_size(x->dtype), run = (size_t)(len * inner) * es;
    for (int64_t o = 0; o < outer; o++)
        memcpy((char *)t->data + (size_t)o * run,
               (const char *)x->data + ((size_t)(o * x->dims[axis] + start) * (size_t)inner) * es, run);
    if (squeeze) {
        for (int d = axis; d + 1 < t->ndim; d++)
            t->dims[d] = t->dims[d + 1];
        t->ndim--;
    }
    *out = t;
    return NT_OK;
}

static nt_status split_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *split = nt_ctx_in(ctx, 1);
    int axis;
    nt_status s = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &axis);
    if (s != NT_OK)
        return s;
    int64_t A = x->dims[axis];
    if ((s = nt_seq_init(ctx->out[0], false, x->dtype)) != NT_OK)
        return s;
    if (!split) {
        bool keep = nt_node_attr_int(ctx->node, "keepdims", 1) != 0;
        for (int64_t i = 0; s == NT_OK && i < A; i++) {
            nt_tensor *t;
            if ((s = split_piece(x, axis, i, 1, !keep, &t)) == NT_OK)
                s = nt_seq_append(ctx->out[0], t);
        }
        return s;
    }
    int64_t n = nt_tensor_numel(split);
    if (split->ndim == 0) {
        int64_t len;
        if (nt_tensor_read_ints(split, &len, 1) != 1 || len <= 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "split must be a positive integer");
        for (int64_t at = 0; s == NT_OK && at < A; at += len) {
            nt_tensor *t;
            if ((s = split_piece(x, axis, at, NT_MIN(len, A - at), false, &t)) == NT_OK)
                s = nt_seq_append(ctx->out[0], t);
        }
        return s;
    }
    int64_t *lens = nt_calloc((size_t)n + 1, sizeof *lens);
    if (!lens)
        return NT_ERR_NOMEM;
    int64_t sum = 0;
    if (nt_tensor_read_ints(split, lens, n) != n)
        s = nt_ctx_error(ctx, NT_ERR_SHAPE, "split must hold int32 or int64 lengths");
    for (int64_t i = 0; s == NT_OK && i < n; i++) {
        if (lens[i] < 0)
            s = nt_ctx_error(ctx, NT_ERR_SHAPE, "split length %lld is negative", (long long)lens[i]);
        sum += lens[i];
    }
    if (s == NT_OK && sum != A)
        s = nt_ctx_error(ctx, NT_ERR_SHAPE, "split lengths add up to %lld, the axis has %lld", (long long)sum,
                         (long long)A);
    for (int64_t i = 0, at = 0; s == NT_OK && i < n; at += lens[i], i++) {
        nt_tensor *t;
        if ((s = split_piece(x, axis, at, lens[i], false, &t)) == NT_OK)
            s = nt_seq_append(ctx->out[0], t);
    }
    free(lens);
    return s;
}

/* ---------------------------------------------------------------- ConcatFromSequence */

static nt_status cfs_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *seq = nt_ctx_in(ctx, 0);
    nt_status s = need_seq(ctx, seq, "input_sequence");
    if (s != NT_OK)
        return s;
    const nt_seq *q = sq(seq);
    if (ctx->static_mode || !q) {
        ctx->out[0]->dtype = seq->dtype;
        ctx->out[0]->ndim = -1;
        return NT_OK;
    }
    if (q->n == 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "concatenating an empty sequence");
    const nt_tensor *f = q->items[0];
    bool new_axis = nt_node_attr_int(ctx->node, "new_axis", 0) != 0;
    int r = f->ndim + (new_axis ? 1 : 0), axis;
    if (r > NT_MAX_DIMS)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "rank %d is over %d", r, NT_MAX_DIMS);
    if ((s = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", INT64_MIN), r, &axis)) != NT_OK)
        return s;
    int64_t dims[NT_MAX_DIMS], total = 0;
    for (int i = 0; i < q->n; i++) {
        const nt_tensor *t = q->items[i];
        if (nt_value_is_container(t) || t->dtype != f->dtype || t->ndim != f->ndim ||
            nt_mv_size(t->dtype) == 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "item %d does not match item 0's type and rank", i);
        for (int d = 0; d < f->ndim; d++)
            if (t->dims[d] != f->dims[d] && (new_axis || d != axis))
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "item %d differs from item 0 in dim %d", i, d);
        total += new_axis ? 1 : t->dims[axis];
    }
    if (new_axis) {
        for (int d = 0, k = 0; d < r; d++)
            dims[d] = d == axis ? total : f->dims[k++];
    } else {
        for (int d = 0; d < r; d++)
            dims[d] = d == axis ? total : f->dims[d];
    }
    return nt_ctx_set_output(ctx, 0, f->dtype, r, dims);
}

static nt_status cfs_compute(nt_kernel_ctx *ctx)
{
    const nt_seq *q = sq(ctx->in[0]);
    nt_tensor *y = ctx->out[0];
    bool new_axis = nt_node_attr_int(ctx->node, "new_axis", 0) != 0;
    int axis;
    nt_status s = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", INT64_MIN), y->ndim, &axis);
    if (s != NT_OK)
        return s;
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; d++)
        outer *= y->dims[d];
    for (int d = axis + 1; d < y->ndim; d++)
        inner *= y->dims[d];
    size_t es = nt_dtype_size(y->dtype), yrow = (size_t)(y->dims[axis] * inner) * es, at = 0;
    for (int i = 0; i < q->n; i++) {
        const nt_tensor *t = q->items[i];
        size_t run = (size_t)((new_axis ? 1 : t->dims[axis]) * inner) * es;
        for (int64_t o = 0; o < outer; o++)
            memcpy((char *)y->data + (size_t)o * yrow + at, (const char *)t->data + (size_t)o * run, run);
        at += run;
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- optionals */

static nt_status optional_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    return set_container(ctx, 0, NT_TENSOR_OPTIONAL, x ? x->dtype : NT_DTYPE_UNDEFINED);
}

static nt_status optional_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    nt_status s = nt_seq_init(ctx->out[0], true, x ? x->dtype : NT_DTYPE_UNDEFINED);
    if (s == NT_OK && x)
        s = insert_copy(ctx->out[0], -1, x);
    return s;
}

static nt_status has_infer(nt_kernel_ctx *ctx) { return nt_ctx_set_output(ctx, 0, NT_DTYPE_BOOL, 0, NULL); }

static nt_status has_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    bool has = x && (!(x->flags & NT_TENSOR_OPTIONAL) || (sq(x) && sq(x)->n > 0));
    ((uint8_t *)ctx->out[0]->data)[0] = has;
    return NT_OK;
}

/* The value an optional holds (a tensor or a sequence); from opset 18 a
 * tensor or sequence input passes through. */
static const nt_tensor *get_value(const nt_tensor *x)
{
    if (!(x->flags & NT_TENSOR_OPTIONAL))
        return x;
    const nt_seq *q = sq(x);
    return q && q->n ? q->items[0] : NULL;
}

static nt_status get_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = nt_ctx_in(ctx, 0);
    if (!x)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input is required");
    if (ctx->static_mode) {
        /* the kind inside is known only when the value exists */
        ctx->out[0]->dtype = x->dtype;
        ctx->out[0]->ndim = -1;
        return NT_OK;
    }
    const nt_tensor *v = get_value(x);
    if (!v)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "the optional input holds no value");
    if (nt_value_is_container(v))
        return set_container(ctx, 0, v->flags & (NT_TENSOR_SEQUENCE | NT_TENSOR_OPTIONAL), v->dtype);
    if (v->dtype == NT_DTYPE_STRING)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "optional strings are not supported");
    return nt_ctx_set_output(ctx, 0, v->dtype, v->ndim, v->dims);
}

static nt_status get_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *v = get_value(ctx->in[0]);
    if (nt_value_is_container(v))
        return nt_seq_copy_into(ctx->out[0], v);
    if (nt_tensor_nbytes(v))
        memcpy(ctx->out[0]->data, v->data, nt_tensor_nbytes(v));
    return NT_OK;
}

/* ---------------------------------------------------------------- SequenceMap */

/* body runs once per item of the first input: sequence inputs give their
 * i-th item, tensor inputs are passed whole; output j collects the body's
 * j-th output of every run into a sequence. */
static const nt_graph *map_body(const nt_node *n)
{
    const nt_attr *a = nt_node_attr(n, "body");
    return a && a->type == NT_ATTR_GRAPH ? a->g : NULL;
}

static nt_status map_prepare(const nt_node *n, int opset, void **state)
{
    (void)opset;
    *state = NULL;
    if (!map_body(n))
        return nt_error(NT_ERR_PARSE, "node '%s' (SequenceMap): graph attribute 'body' is missing", n->name);
    return NT_OK;
}

static nt_status map_infer(nt_kernel_ctx *ctx)
{
    nt_status s = need_seq(ctx, nt_ctx_in(ctx, 0), "input_sequence");
    for (int j = 0; s == NT_OK && j < ctx->n_out; j++)
        s = set_container(ctx, j, NT_TENSOR_SEQUENCE, NT_DTYPE_UNDEFINED);
    return s;
}

static nt_status map_compute(nt_kernel_ctx *ctx)
{
    const nt_graph *body = map_body(ctx->node);
    int n = sq(ctx->in[0])->n;
    for (int k = 1; k < ctx->n_in; k++)
        if (ctx->in[k] && (ctx->in[k]->flags & NT_TENSOR_SEQUENCE) && sq(ctx->in[k])->n != n)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "sequence input %d has %d items, input 0 has %d", k,
                                sq(ctx->in[k])->n, n);
    nt_tensor **ins = nt_calloc((size_t)ctx->n_in + 1, sizeof *ins);
    nt_tensor **outs = nt_calloc((size_t)ctx->n_out + 1, sizeof *outs);
    nt_status s = ins && outs ? NT_OK : NT_ERR_NOMEM;
    for (int j = 0; s == NT_OK && j < ctx->n_out; j++)
        if (ctx->out[j])
            s = nt_seq_init(ctx->out[j], false, NT_DTYPE_UNDEFINED);
    for (int i = 0; s == NT_OK && i < n; i++) {
        for (int k = 0; k < ctx->n_in; k++)
            ins[k] = ctx->in[k] && (ctx->in[k]->flags & NT_TENSOR_SEQUENCE) ? sq(ctx->in[k])->items[i] : ctx->in[k];
        s = nt_exec_subgraph(ctx, body, ctx->n_in, ins, ctx->n_out, outs);
        for (int j = 0; j < ctx->n_out; j++) {
            if (s == NT_OK && ctx->out[j])
                s = nt_seq_append(ctx->out[j], outs[j]);
            else
                nt_tensor_free(outs[j]);
            outs[j] = NULL;
        }
    }
    free(ins);
    free(outs);
    return s;
}

/* ---------------------------------------------------------------- Identity */

nt_status nt_seq_identity_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    return set_container(ctx, 0, x->flags & (NT_TENSOR_SEQUENCE | NT_TENSOR_OPTIONAL), x->dtype);
}

nt_status nt_seq_identity_compute(nt_kernel_ctx *ctx) { return nt_seq_copy_into(ctx->out[0], ctx->in[0]); }

const nt_op_def nt_ops_sequence[] = {
    {"SequenceEmpty", "", 11, NULL, NULL, empty_infer, empty_compute},
    {"SequenceConstruct", "", 11, NULL, NULL, construct_infer, construct_compute},
    {"SequenceLength", "", 11, NULL, NULL, length_infer, length_compute},
    {"SequenceAt", "", 11, NULL, NULL, at_infer, at_compute},
    {"SequenceInsert", "", 11, NULL, NULL, insert_infer, insert_compute},
    {"SequenceErase", "", 11, NULL, NULL, erase_infer, erase_compute},
    {"SplitToSequence", "", 11, NULL, NULL, split_infer, split_compute},
    {"ConcatFromSequence", "", 11, NULL, NULL, cfs_infer, cfs_compute},
    {"Optional", "", 15, NULL, NULL, optional_infer, optional_compute},
    {"OptionalHasElement", "", 15, NULL, NULL, has_infer, has_compute},
    {"OptionalGetElement", "", 15, NULL, NULL, get_infer, get_compute},
    {"SequenceMap", "", 17, map_prepare, NULL, map_infer, map_compute},
};
const size_t nt_ops_sequence_count = NT_ARRAY_LEN(nt_ops_sequence);
