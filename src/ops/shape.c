/*
 * shape.c — operator family "shape": ops that change a tensor's shape or
 * move its bytes without looking at values.  This file holds the op table
 * and the view-like ops (Shape, Size, Reshape, Flatten, Squeeze, Unsqueeze,
 * Identity) plus Concat, Split, Tile and Expand; Transpose/Slice/Pad and
 * friends live in shape_move.c, generators (Constant, Range, ...) in
 * shape_gen.c, shared helpers in shape_util.c.
 *
 * Kernels branch on ctx->opset where an op's semantics changed between
 * versions (attributes turned into inputs); the table lists one entry per
 * such version so the registry can tell what a model's opset supports.
 *
 * Static inference: shapes propagate unknown dims (-1); when an output shape
 * depends on input data not known at plan time, outputs get rank unknown
 * with their dtype set.
 */
#include "ops/shape_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Shape, Size */

/* Shape: x (any shape) -> int64[end - start], the dims of x (opset 15: sliced). */
static void shape_range(const nt_kernel_ctx *ctx, int r, int64_t *start, int64_t *end)
{
    int64_t s = 0, e = r;
    if (ctx->opset >= 15) {
        s = nt_node_attr_int(ctx->node, "start", 0);
        e = nt_node_attr_int(ctx->node, "end", r);
    }
    if (s < 0)
        s += r;
    if (e < 0)
        e += r;
    s = s < 0 ? 0 : s > r ? r : s;
    e = e < 0 ? 0 : e > r ? r : e;
    *start = s;
    *end = e < s ? s : e;
}

nt_status nt_shape_shape_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if (x->ndim < 0) {
        nt_mv_unknown(ctx, 0, NT_DTYPE_INT64);
        return NT_OK;
    }
    int64_t s, e;
    shape_range(ctx, x->ndim, &s, &e);
    int64_t n = e - s;
    return nt_mv_set_output(ctx, 0, NT_DTYPE_INT64, 1, &n);
}

nt_status nt_shape_shape_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    int64_t s, e;
    shape_range(ctx, x->ndim, &s, &e);
    int64_t *o = ctx->out[0]->data;
    for (int64_t d = s; d < e; d++)
        o[d - s] = x->dims[d];
    return NT_OK;
}

/* Size: x -> int64 scalar, the element count. */
nt_status nt_shape_size_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    return nt_mv_set_output(ctx, 0, NT_DTYPE_INT64, 0, NULL);
}

nt_status nt_shape_size_compute(nt_kernel_ctx *ctx)
{
    *(int64_t *)ctx->out[0]->data = nt_tensor_numel(ctx->in[0]);
    return NT_OK;
}

/* ---------------------------------------------------------------- Reshape */

/* The target dims of Reshape from the shape values (0 copies, -1 infers). */
static nt_status reshape_dims(const nt_kernel_ctx *ctx, const nt_tensor *x, const int64_t *sv, int64_t n,
                              bool allowzero, int64_t *od)
{
    int neg = -1;
    bool has_zero = false;
    for (int64_t i = 0; i < n; i++) {
        int64_t v = sv[i];
        if (v == 0 && !allowzero) {
            if (i >= x->ndim)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "shape[%lld] = 0 copies a dim the rank-%d input lacks",
                                    (long long)i, x->ndim);
            od[i] = x->dims[i];
        } else if (v == -1) {
            if (neg >= 0)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "shape has more than one -1");
            neg = (int)i;
            od[i] = 1;
        } else if (v < 0) {
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "shape[%lld] = %lld is invalid", (long long)i, (long long)v);
        } else {
            od[i] = v;
        }
        if (v == 0)
            has_zero = true;
    }
    if (allowzero && has_zero && neg >= 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "allowzero shape has both 0 and -1");
    int64_t p = 1;
    bool p_unknown = false;
    for (int64_t i = 0; i < n; i++) {
        if (i == neg)
            continue;
        if (od[i] < 0) {
            p_unknown = true;
            continue;
        }
        if (__builtin_mul_overflow(p, od[i], &p))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "shape product overflows");
    }
    int64_t xn = nt_tensor_numel(x);
    if (neg >= 0) {
        if (p_unknown || xn < 0)
            od[neg] = -1;
        else if (p == 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "cannot infer -1 with a zero-size shape");
        else if (xn % p)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "cannot reshape %lld elements into a multiple of %lld",
                                (long long)xn, (long long)p);
        else
            od[neg] = xn / p;
    } else if (!p_unknown && xn >= 0 && p != xn) {
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "cannot reshape %lld elements into %lld", (long long)xn,
                            (long long)p);
    }
    return NT_OK;
}

/* Reshape: data, shape(int64[k]) -> data with k dims (opset 1-4: shape attr). */
nt_status nt_shape_reshape_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, ctx->opset >= 5 ? 2 : 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    int64_t sv[NT_MAX_DIMS], n = 0, od[NT_MAX_DIMS];
    if (ctx->opset >= 5) {
        if (nt_ctx_data_unknown(ctx, 1) || x->ndim < 0) {
            nt_mv_unknown(ctx, 0, x->dtype);
            return NT_OK;
        }
        if ((st = nt_mv_read_ints(ctx, 1, sv, NT_MAX_DIMS, &n)) != NT_OK)
            return st;
    } else {
        const int64_t *a;
        n = nt_node_attr_ints(ctx->node, "shape", &a);
        if (n > NT_MAX_DIMS)
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "rank %lld exceeds %d", (long long)n, NT_MAX_DIMS);
        if (n > 0) /* a is NULL when the attribute is absent */
            memcpy(sv, a, (size_t)n * sizeof *sv);
        if (x->ndim < 0) {
            nt_mv_unknown(ctx, 0, x->dtype);
            return NT_OK;
        }
    }
    bool allowzero = ctx->opset >= 14 && nt_node_attr_int(ctx->node, "allowzero", 0) != 0;
    if ((st = reshape_dims(ctx, x, sv, n, allowzero, od)) != NT_OK)
        return st;
    return nt_mv_set_output(ctx, 0, x->dtype, (int)n, od);
}

/* Every reshape-like op's compute: the bytes are unchanged. */
nt_status nt_shape_reshape_compute(nt_kernel_ctx *ctx)
{
    nt_mv_copy_all(ctx->in[0], ctx->out[0]);
    return NT_OK;
}

/* ---------------------------------------------------------------- Flatten */

/* Flatten: x (d0..dr-1) -> (prod d[:axis], prod d[axis:]). */
nt_status nt_shape_flatten_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    if (x->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    int64_t axis = nt_node_attr_int(ctx->node, "axis", 1);
    int r = x->ndim;
    if (axis < -(int64_t)r || axis > r)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld is out of range for rank %d", (long long)axis, r);
    if (axis < 0)
        axis += r;
    int64_t od[2] = {nt_mv_prod(x->dims, 0, (int)axis), nt_mv_prod(x->dims, (int)axis, r)};
    return nt_mv_set_output(ctx, 0, x->dtype, 2, od);
}

nt_status nt_shape_flatten_compute(nt_kernel_ctx *ctx)
{
    return nt_shape_reshape_compute(ctx);
}

/* ---------------------------------------------------------------- Squeeze / Unsqueeze */

/* The axes of (Un)squeeze: attribute before opset 13, optional input 1 from
 * 13.  *unknown is set when the input's data is not known yet. */
static nt_status squeeze_axes(const nt_kernel_ctx *ctx, int64_t *axes, int64_t *n, bool *present, bool *unknown)
{
    *unknown = false;
    *present = false;
    *n = 0;
    if (ctx->opset >= 13) {
        if (!nt_ctx_in(ctx, 1))
            return NT_OK;
        if (nt_ctx_data_unknown(ctx, 1)) {
            *unknown = true;
            return NT_OK;
        }
        *present = true;
        return nt_mv_read_ints(ctx, 1, axes, NT_MAX_DIMS * 2, n);
    }
    const int64_t *a;
    int k = nt_node_attr_ints(ctx->node, "axes", &a);
    if (!nt_node_attr(ctx->node, "axes"))
        return NT_OK;
    if (k > NT_MAX_DIMS * 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "too many axes (%d)", k);
    memcpy(axes, a, (size_t)k * sizeof *axes);
    *n = k;
    *present = true;
    return NT_OK;
}

/* Squeeze: x -> x without the listed size-1 dims (all size-1 dims if none listed). */
nt_status nt_shape_squeeze_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    int64_t axes[NT_MAX_DIMS * 2], n;
    bool present, unknown;
    if ((st = squeeze_axes(ctx, axes, &n, &present, &unknown)) != NT_OK)
        return st;
    if (unknown || x->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    int r = x->ndim;
    bool drop[NT_MAX_DIMS] = {false};
    if (present) {
        for (int64_t i = 0; i < n; i++) {
            int a;
            if ((st = nt_mv_axis(ctx, axes[i], r, &a)) != NT_OK)
                return st;
            if (drop[a])
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld is repeated", (long long)axes[i]);
            if (x->dims[a] > 1 || x->dims[a] == 0)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "cannot squeeze axis %d of size %lld", a,
                                    (long long)x->dims[a]);
            drop[a] = true;
        }
    } else {
        for (int d = 0; d < r; d++) {
            if (x->dims[d] < 0) {
                nt_mv_unknown(ctx, 0, x->dtype);
                return NT_OK;
            }
            drop[d] = x->dims[d] == 1;
        }
    }
    int64_t od[NT_MAX_DIMS];
    int k = 0;
    for (int d = 0; d < r; d++)
        if (!drop[d])
            od[k++] = x->dims[d];
    return nt_mv_set_output(ctx, 0, x->dtype, k, od);
}

nt_status nt_shape_squeeze_compute(nt_kernel_ctx *ctx)
{
    return nt_shape_reshape_compute(ctx);
}

/* Unsqueeze: x -> x with size-1 dims inserted at the listed output axes. */
nt_status nt_shape_unsqueeze_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, ctx->opset >= 13 ? 2 : 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    int64_t axes[NT_MAX_DIMS * 2], n;
    bool present, unknown;
    if ((st = squeeze_axes(ctx, axes, &n, &present, &unknown)) != NT_OK)
        return st;
    if (unknown || x->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    if (!present)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axes are required");
    int64_t r = x->ndim + n;
    if (r > NT_MAX_DIMS)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "output rank %lld exceeds %d", (long long)r, NT_MAX_DIMS);
    bool ins[NT_MAX_DIMS] = {false};
    for (int64_t i = 0; i < n; i++) {
        int a;
        if ((st = nt_mv_axis(ctx, axes[i], (int)r, &a)) != NT_OK)
            return st;
        if (ins[a])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld is repeated", (long long)axes[i]);
        ins[a] = true;
    }
    int64_t od[NT_MAX_DIMS];
    int k = 0;
    for (int d = 0; d < r; d++)
        od[d] = ins[d] ? 1 : x->dims[k++];
    return nt_mv_set_output(ctx, 0, x->dtype, (int)r, od);
}

nt_status nt_shape_unsqueeze_compute(nt_kernel_ctx *ctx)
{
    return nt_shape_reshape_compute(ctx);
}

/* ---------------------------------------------------------------- Identity */

nt_status nt_shape_identity_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if (nt_value_is_container(x))   /* sequences and optionals: sequence.c */
        return nt_seq_identity_infer(ctx);
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

nt_status nt_shape_identity_compute(nt_kernel_ctx *ctx)
{
    if (nt_value_is_container(ctx->in[0]))
        return nt_seq_identity_compute(ctx);
    return nt_shape_reshape_compute(ctx);
}

/* ---------------------------------------------------------------- Concat */

static int64_t concat_axis_attr(const nt_kernel_ctx *ctx)
{
    /* Concat-1 defaulted to axis 1; from opset 4 the attribute is required. */
    return nt_node_attr_int(ctx->node, "axis", ctx->opset < 4 ? 1 : INT64_MIN);
}

/* Concat: inputs (.., a_i, ..) along axis -> (.., sum a_i, ..). */
nt_status nt_shape_concat_infer(nt_kernel_ctx *ctx)
{
    if (ctx->n_in < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs at least one input");
    nt_status st = nt_mv_need(ctx, ctx->n_in);
    if (st != NT_OK)
        return st;
    const nt_tensor *x0 = ctx->in[0];
    nt_dtype dt = x0->dtype;
    for (int i = 0; i < ctx->n_in; i++) {
        if (ctx->in[i]->dtype != NT_DTYPE_UNDEFINED) {
            dt = ctx->in[i]->dtype;
            break;
        }
    }
    if ((st = nt_mv_check(ctx, dt, "input")) != NT_OK)
        return st;
    int r = -1;
    for (int i = 0; i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (t->dtype != dt && t->dtype != NT_DTYPE_UNDEFINED)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is %s, input 0 is %s", i, nt_dtype_name(t->dtype),
                                nt_dtype_name(dt));
        if (t->ndim >= 0) {
            if (r >= 0 && t->ndim != r)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d has rank %d, expected %d", i, t->ndim, r);
            r = t->ndim;
        }
    }
    int64_t axis_attr = concat_axis_attr(ctx);
    if (axis_attr == INT64_MIN)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "attribute axis is required");
    if (r < 0) {
        nt_mv_unknown(ctx, 0, dt);
        return NT_OK;
    }
    if (r == 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "cannot concatenate scalars");
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i]->ndim < 0) {
            nt_mv_unknown(ctx, 0, dt);
            return NT_OK;
        }
    int axis;
    if ((st = nt_mv_axis(ctx, axis_attr, r, &axis)) != NT_OK)
        return st;
    int64_t od[NT_MAX_DIMS];
    for (int d = 0; d < r; d++) {
        int64_t v = d == axis ? 0 : -1;
        for (int i = 0; i < ctx->n_in; i++) {
            int64_t di = ctx->in[i]->dims[d];
            if (d == axis) {
                v = (v < 0 || di < 0) ? -1 : v + di;
            } else if (di >= 0) {
                if (v >= 0 && v != di)
                    return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d has dim %d = %lld, expected %lld", i, d,
                                        (long long)di, (long long)v);
                v = di;
            }
        }
        od[d] = v;
    }
    return nt_mv_set_output(ctx, 0, dt, r, od);
}

nt_status nt_shape_concat_compute(nt_kernel_ctx *ctx)
{
    nt_tensor *y = ctx->out[0];
    int r = y->ndim, axis;
    nt_status st = nt_mv_axis(ctx, concat_axis_attr(ctx), r, &axis);
    if (st != NT_OK)
        return st;
    size_t es = nt_mv_size(y->dtype);
    int64_t outer = nt_mv_prod(y->dims, 0, axis), inner = nt_mv_prod(y->dims, axis + 1, r);
    int64_t row = y->dims[axis] * inner * (int64_t)es;
    int64_t at = 0;
    for (int i = 0; i < ctx->n_in; i++) {
        const nt_tensor *x = ctx->in[i];
        int64_t chunk = x->dims[axis] * inner * (int64_t)es;
        if (chunk)
            for (int64_t o = 0; o < outer; o++)
                memcpy((char *)y->data + o * row + at, (const char *)x->data + o * chunk, (size_t)chunk);
        at += chunk;
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- Split */

/* Split sizes along axis for n outputs into sizes (malloc'd by the caller
 * with n entries).  *unknown when they depend on data not known yet. */
static nt_status split_sizes(const nt_kernel_ctx *ctx, int64_t dim, int64_t *sizes, int n, bool *unknown)
{
    *unknown = false;
    const nt_tensor *sp = NULL;
    const int64_t *attr = NULL;
    int n_attr = 0;
    if (ctx->opset >= 13 || ctx->opset < 2)
        sp = nt_ctx_in(ctx, 1);
    if (ctx->opset < 13 && !sp && nt_node_attr(ctx->node, "split")) {
        n_attr = nt_node_attr_ints(ctx->node, "split", &attr);
        if (!attr && n_attr == 0)
            attr = sizes; /* present but empty: mismatches below */
    }
    if (sp) {
        if (nt_ctx_data_unknown(ctx, 1)) {
            *unknown = true;
            return NT_OK;
        }
        int64_t cnt;
        int64_t *tmp = nt_malloc(((size_t)n + 1) * sizeof *tmp);
        if (!tmp)
            return NT_ERR_NOMEM;
        nt_status st = nt_mv_read_ints(ctx, 1, tmp, n, &cnt);
        if (st == NT_OK && cnt != n)
            st = nt_ctx_error(ctx, NT_ERR_SHAPE, "split has %lld entries for %d outputs", (long long)cnt, n);
        if (st == NT_OK)
            memcpy(sizes, tmp, (size_t)n * sizeof *sizes);
        free(tmp);
        if (st != NT_OK)
            return st;
    } else if (attr) {
        if (n_attr != n)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "split has %d entries for %d outputs", n_attr, n);
        memcpy(sizes, attr, (size_t)n * sizeof *sizes);
    } else {
        int64_t parts = n;
        bool num_outputs = false;
        if (ctx->opset >= 18 && nt_node_attr(ctx->node, "num_outputs")) {
            parts = nt_node_attr_int(ctx->node, "num_outputs", n);
            num_outputs = true;
            if (parts != n)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "num_outputs is %lld but the node has %d outputs",
                                    (long long)parts, n);
        }
        if (dim < 0) {
            for (int k = 0; k < n; k++)
                sizes[k] = -1;
            return NT_OK;
        }
        if (dim % parts == 0) {
            for (int k = 0; k < n; k++)
                sizes[k] = dim / parts;
        } else if (num_outputs) {
            /* opset 18: chunks of ceil(dim / n), the last one smaller */
            int64_t c = dim / parts + 1;
            for (int k = 0; k < n; k++)
                sizes[k] = c;
            sizes[n - 1] = dim - c * (n - 1);
            if (sizes[n - 1] < 0)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "cannot split %lld into %d chunks of %lld", (long long)dim,
                                    n, (long long)c);
        } else {
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "dim %lld does not split evenly into %d outputs",
                                (long long)dim, n);
        }
        return NT_OK;
    }
    int64_t sum = 0;
    for (int k = 0; k < n; k++) {
        if (sizes[k] < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "split[%d] = %lld is negative", k, (long long)sizes[k]);
        sum += sizes[k];
        if (sum < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "split sizes overflow");
    }
    if (dim >= 0 && sum != dim)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "split sizes sum to %lld, dim is %lld", (long long)sum,
                            (long long)dim);
    return NT_OK;
}

/* Split: x (.., d, ..) -> n outputs (.., s_k, ..) with sum s_k = d. */
nt_status nt_shape_split_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    if (ctx->n_out < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs at least one output");
    if (x->ndim < 0) {
        nt_mv_all_unknown(ctx, x->dtype);
        return NT_OK;
    }
    int axis;
    if ((st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &axis)) != NT_OK)
        return st;
    int64_t *sizes = nt_malloc((size_t)ctx->n_out * sizeof *sizes);
    if (!sizes)
        return NT_ERR_NOMEM;
    bool unknown;
    st = split_sizes(ctx, x->dims[axis], sizes, ctx->n_out, &unknown);
    if (st == NT_OK && unknown) {
        nt_mv_all_unknown(ctx, x->dtype);
    } else if (st == NT_OK) {
        int64_t od[NT_MAX_DIMS];
        memcpy(od, x->dims, sizeof od);
        for (int k = 0; k < ctx->n_out && st == NT_OK; k++) {
            od[axis] = sizes[k];
            st = nt_mv_set_output(ctx, k, x->dtype, x->ndim, od);
        }
    }
    free(sizes);
    return st;
}

nt_status nt_shape_split_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    int axis;
    nt_status st = nt_mv_axis(ctx, nt_node_attr_int(ctx->node, "axis", 0), x->ndim, &axis);
    if (st != NT_OK)
        return st;
    int64_t *sizes = nt_malloc((size_t)ctx->n_out * sizeof *sizes);
    if (!sizes)
        return NT_ERR_NOMEM;
    bool unknown;
    st = split_sizes(ctx, x->dims[axis], sizes, ctx->n_out, &unknown);
    if (st == NT_OK) {
        size_t es = nt_mv_size(x->dtype);
        int64_t outer = nt_mv_prod(x->dims, 0, axis), inner = nt_mv_prod(x->dims, axis + 1, x->ndim);
        int64_t row = x->dims[axis] * inner * (int64_t)es, at = 0;
        for (int k = 0; k < ctx->n_out; k++) {
            int64_t chunk = sizes[k] * inner * (int64_t)es;
            nt_tensor *y = ctx->out[k];
            if (y && chunk)
                for (int64_t o = 0; o < outer; o++)
                    memcpy((char *)y->data + o * chunk, (const char *)x->data + o * row + at, (size_t)chunk);
            at += chunk;
        }
    }
    free(sizes);
    return st;
}

/* ---------------------------------------------------------------- Tile, Expand */

/* Tile: x (d_i), repeats (r_i) -> (d_i * r_i); out[i] = x[i mod d]. */
nt_status nt_shape_tile_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    if (nt_ctx_data_unknown(ctx, 1) || x->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    int64_t rep[NT_MAX_DIMS], n, od[NT_MAX_DIMS];
    if ((st = nt_mv_read_ints(ctx, 1, rep, NT_MAX_DIMS, &n)) != NT_OK)
        return st;
    if (n != x->ndim)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "repeats has %lld entries for rank %d", (long long)n, x->ndim);
    for (int d = 0; d < x->ndim; d++) {
        if (rep[d] < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "repeats[%d] = %lld is negative", d, (long long)rep[d]);
        if (x->dims[d] < 0)
            od[d] = -1;
        else if (__builtin_mul_overflow(x->dims[d], rep[d], &od[d]))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "tiled dim overflows");
    }
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, od);
}

nt_status nt_shape_tile_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    size_t es = nt_mv_size(x->dtype);
    int64_t st_in[NT_MAX_DIMS];
    nt_mv_strides(x->ndim, x->dims, st_in);
    nt_mv_map m;
    if (nt_mv_map_init(&m, y->ndim, y->dims) != NT_OK)
        return NT_ERR_NOMEM;
    for (int d = 0; d < y->ndim; d++)
        for (int64_t i = 0; i < y->dims[d]; i++)
            m.off[d][i] = (i % x->dims[d]) * st_in[d] * (int64_t)es;
    nt_mv_map_run(&m, x->data, y->data, es, NULL);
    nt_mv_map_deinit(&m);
    return NT_OK;
}

/* Expand: x, shape -> broadcast(x.shape, shape) (numpy rules, both ways). */
nt_status nt_shape_expand_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    if (nt_ctx_data_unknown(ctx, 1) || x->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    int64_t sv[NT_MAX_DIMS], n, od[NT_MAX_DIMS];
    if ((st = nt_mv_read_ints(ctx, 1, sv, NT_MAX_DIMS, &n)) != NT_OK)
        return st;
    for (int64_t i = 0; i < n; i++)
        if (sv[i] < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "shape[%lld] = %lld is negative", (long long)i, (long long)sv[i]);
    int r;
    if ((st = nt_broadcast_shape(x->ndim, x->dims, (int)n, sv, &r, od)) != NT_OK)
        return nt_ctx_error(ctx, st, "%s", nt_last_error());
    return nt_mv_set_output(ctx, 0, x->dtype, r, od);
}

nt_status nt_shape_expand_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    size_t es = nt_mv_size(x->dtype);
    int64_t st_in[NT_MAX_DIMS];
    nt_mv_strides(x->ndim, x->dims, st_in);
    int lead = y->ndim - x->ndim;
    nt_mv_map m;
    if (nt_mv_map_init(&m, y->ndim, y->dims) != NT_OK)
        return NT_ERR_NOMEM;
    for (int d = 0; d < y->ndim; d++) {
        int xd = d - lead;
        bool bcast = xd < 0 || x->dims[xd] == 1;
        for (int64_t i = 0; i < y->dims[d]; i++)
            m.off[d][i] = bcast ? 0 : i * st_in[xd] * (int64_t)es;
    }
    nt_mv_map_run(&m, x->data, y->data, es, NULL);
    nt_mv_map_deinit(&m);
    return NT_OK;
}

/* ---------------------------------------------------------------- the table */

#define OP(name, since, fn) {name, "", since, NULL, NULL, nt_shape_##fn##_infer, nt_shape_##fn##_compute}

const nt_op_def nt_ops_shape[] = {
    OP("Shape", 1, shape),
    OP("Shape", 15, shape),          /* start, end */
    OP("Size", 1, size),
    OP("Reshape", 1, reshape),       /* shape attribute */
    OP("Reshape", 5, reshape),       /* shape input */
    OP("Reshape", 14, reshape),      /* allowzero */
    OP("Flatten", 1, flatten),
    OP("Flatten", 11, flatten),      /* negative axis */
    OP("Squeeze", 1, squeeze),
    OP("Squeeze", 11, squeeze),      /* negative axes */
    OP("Squeeze", 13, squeeze),      /* axes input */
    OP("Unsqueeze", 1, unsqueeze),
    OP("Unsqueeze", 11, unsqueeze),
    OP("Unsqueeze", 13, unsqueeze),  /* axes input */
    OP("Identity", 1, identity),
    OP("Concat", 1, concat),         /* axis defaults to 1 */
    OP("Concat", 4, concat),         /* axis required */
    OP("Concat", 11, concat),        /* negative axis */
    OP("Split", 1, split),           /* split attribute or input */
    OP("Split", 2, split),           /* split attribute */
    OP("Split", 13, split),          /* split input */
    OP("Split", 18, split),          /* num_outputs */
    OP("Tile", 6, tile),
    OP("Expand", 8, expand),
    OP("Transpose", 1, transpose),
    OP("DepthToSpace", 1, depthtospace),
    OP("DepthToSpace", 11, depthtospace), /* mode */
    OP("SpaceToDepth", 1, spacetodepth),
    OP("Slice", 1, slice),           /* attributes */
    OP("Slice", 10, slice),          /* inputs, steps */
    OP("Slice", 11, slice),          /* negative axes */
    OP("Pad", 1, pad),               /* paddings attribute */
    OP("Pad", 2, pad),               /* pads attribute */
    OP("Pad", 11, pad),              /* pads, constant_value inputs */
    OP("Pad", 18, pad),              /* axes input */
    OP("Pad", 19, pad),              /* wrap mode */
    OP("CenterCropPad", 18, centercroppad),
    OP("Constant", 1, constant),
    OP("Constant", 12, constant),    /* value_float(s), value_int(s) */
    OP("ConstantOfShape", 9, constantofshape),
    OP("Range", 11, range),
    OP("EyeLike", 9, eyelike),
    OP("Trilu", 14, trilu),
    OP("Dropout", 1, dropout),       /* is_test */
    OP("Dropout", 7, dropout),
    OP("Dropout", 10, dropout),      /* bool mask */
    OP("Dropout", 12, dropout),      /* ratio, training_mode inputs */
    OP("Col2Im", 18, col2im),
};
const size_t nt_ops_shape_count = NT_ARRAY_LEN(nt_ops_shape);
