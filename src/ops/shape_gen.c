/*
 * shape_gen.c — shape-family ops that create values rather than move them:
 * Constant, ConstantOfShape, Range, EyeLike, Trilu, Dropout (inference only)
 * and Col2Im.
 *
 * Constant values are copied out of the attribute each run (the attribute's
 * tensor may point into the model's memory map, which the executor never
 * writes into).  Range's length follows the spec's ceil((limit-start)/delta);
 * integer ranges are computed exactly in 128-bit arithmetic.
 */
#include "ops/shape_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Constant */

/* The constant as a tensor view (*view is filled for the scalar/list forms). */
static nt_status constant_value(const nt_kernel_ctx *ctx, nt_tensor *view, const nt_tensor **val)
{
    const nt_node *n = ctx->node;
    memset(view, 0, sizeof *view);
    for (int i = 0; i < n->n_attr; i++) {
        const nt_attr *a = &n->attrs[i];
        if (strcmp(a->name, "value") == 0 || strcmp(a->name, "sparse_value") == 0) {
            if (!a->t)
                return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "attribute %s of this kind is not supported", a->name);
            *val = a->t;
            return NT_OK;
        }
        if (strcmp(a->name, "value_float") == 0) {
            view->dtype = NT_DTYPE_FLOAT;
            view->data = (void *)&a->f;
        } else if (strcmp(a->name, "value_int") == 0) {
            view->dtype = NT_DTYPE_INT64;
            view->data = (void *)&a->i;
        } else if (strcmp(a->name, "value_floats") == 0) {
            view->dtype = NT_DTYPE_FLOAT;
            view->ndim = 1;
            view->dims[0] = a->n;
            view->data = (void *)a->floats;
        } else if (strcmp(a->name, "value_ints") == 0) {
            view->dtype = NT_DTYPE_INT64;
            view->ndim = 1;
            view->dims[0] = a->n;
            view->data = (void *)a->ints;
        } else if (strcmp(a->name, "value_string") == 0 || strcmp(a->name, "value_strings") == 0) {
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "string constants are not supported");
        } else {
            continue;
        }
        *val = view;
        return NT_OK;
    }
    return nt_ctx_error(ctx, NT_ERR_SHAPE, "has no value attribute");
}

/* Constant: () -> the attribute's tensor. */
nt_status nt_shape_constant_infer(nt_kernel_ctx *ctx)
{
    nt_tensor view;
    const nt_tensor *v;
    if (!nt_ctx_out(ctx, 0))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "output 0 is missing");
    nt_status st = constant_value(ctx, &view, &v);
    if (st != NT_OK)
        return st;
    if (nt_mv_size(v->dtype) == 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "constant of type %s is not supported", nt_dtype_name(v->dtype));
    if (nt_tensor_nbytes(v) && !v->data)
        return nt_ctx_error(ctx, NT_ERR_PARSE, "constant has no data");
    return nt_mv_set_output(ctx, 0, v->dtype, v->ndim, v->dims);
}

nt_status nt_shape_constant_compute(nt_kernel_ctx *ctx)
{
    nt_tensor view;
    const nt_tensor *v;
    nt_status st = constant_value(ctx, &view, &v);
    if (st != NT_OK)
        return st;
    nt_mv_copy_all(v, ctx->out[0]);
    return NT_OK;
}

/* ---------------------------------------------------------------- ConstantOfShape */

/* The fill value tensor (float 0 when the attribute is absent). */
static nt_status cos_value(const nt_kernel_ctx *ctx, nt_dtype *dt, const void **bytes)
{
    static const float zero = 0.0f;
    const nt_attr *a = nt_node_attr(ctx->node, "value");
    if (!a) {
        *dt = NT_DTYPE_FLOAT;
        *bytes = &zero;
        return NT_OK;
    }
    if (!a->t || nt_tensor_numel(a->t) != 1 || !a->t->data)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "value must be a one-element tensor");
    if (nt_mv_size(a->t->dtype) == 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "value of type %s is not supported",
                            nt_dtype_name(a->t->dtype));
    *dt = a->t->dtype;
    *bytes = a->t->data;
    return NT_OK;
}

/* ConstantOfShape: shape (int64[k]) -> tensor of that shape filled with value. */
nt_status nt_shape_constantofshape_infer(nt_kernel_ctx *ctx)
{
    nt_dtype dt;
    const void *bytes;
    nt_status st = cos_value(ctx, &dt, &bytes);
    if (st == NT_OK)
        st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    if (nt_ctx_data_unknown(ctx, 0)) {
        nt_mv_unknown(ctx, 0, dt);
        return NT_OK;
    }
    int64_t od[NT_MAX_DIMS], n;
    if ((st = nt_mv_read_ints(ctx, 0, od, NT_MAX_DIMS, &n)) != NT_OK)
        return st;
    for (int64_t i = 0; i < n; i++)
        if (od[i] < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "shape[%lld] = %lld is negative", (long long)i, (long long)od[i]);
    return nt_mv_set_output(ctx, 0, dt, (int)n, od);
}

nt_status nt_shape_constantofshape_compute(nt_kernel_ctx *ctx)
{
    nt_dtype dt;
    const void *bytes;
    nt_status st = cos_value(ctx, &dt, &bytes);
    if (st != NT_OK)
        return st;
    nt_tensor *y = ctx->out[0];
    size_t es = nt_mv_size(dt), nb = nt_tensor_nbytes(y);
    char *o = y->data;
    bool zero = true;
    for (size_t b = 0; b < es; b++)
        zero = zero && ((const unsigned char *)bytes)[b] == 0;
    if (zero) {
        if (nb)
            memset(o, 0, nb);
        return NT_OK;
    }
    for (size_t at = 0; at < nb; at += es)
        memcpy(o + at, bytes, es);
    return NT_OK;
}

/* ---------------------------------------------------------------- Range */

static bool range_type_ok(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_FLOAT16 || t == NT_DTYPE_BFLOAT16 ||
           t == NT_DTYPE_INT16 || t == NT_DTYPE_INT32 || t == NT_DTYPE_INT64;
}

/* The element count of Range from its three scalar inputs. */
static nt_status range_count(const nt_kernel_ctx *ctx, int64_t *count)
{
    const nt_tensor *s = ctx->in[0], *l = ctx->in[1], *d = ctx->in[2];
    for (int i = 0; i < 3; i++)
        if (nt_tensor_numel(ctx->in[i]) != 1 || !ctx->in[i]->data)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d must be a scalar", i);
    if (nt_dtype_is_int(s->dtype)) {
        /* Read as integers: int64 extremes do not survive a double. */
        int64_t v[3];
        for (int i = 0; i < 3; i++)
            if (nt_tensor_read_ints(ctx->in[i], &v[i], 1) != 1)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d: %s", i, nt_last_error());
        __int128 a = v[0], b = v[1], k = v[2];
        if (k == 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "delta is 0");
        __int128 span = b - a, n;
        if ((span > 0) != (k > 0) || span == 0)
            n = 0;
        else
            n = span > 0 ? (span + k - 1) / k : (-span + -k - 1) / -k;
        if (n > ((__int128)1 << 40))
            /* n may exceed int64 (start and limit at the extremes): printed as a double */
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "range of %g elements is too large", (double)n);
        *count = (int64_t)n;
        return NT_OK;
    }
    double a = nt_tensor_get_f64(s, 0), b = nt_tensor_get_f64(l, 0), k = nt_tensor_get_f64(d, 0);
    if (k == 0 || !isfinite(a) || !isfinite(b) || !isfinite(k))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "start/limit/delta must be finite with delta != 0");
    double n = ceil((b - a) / k);
    if (n > (double)(1LL << 40))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "range of %g elements is too large", n);
    *count = n > 0 ? (int64_t)n : 0;
    return NT_OK;
}

/* Range: start, limit, delta (scalars) -> [start, start+delta, ...) of n elements. */
nt_status nt_shape_range_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 3);
    if (st != NT_OK)
        return st;
    nt_dtype dt = ctx->in[0]->dtype;
    if (!range_type_ok(dt) && !(ctx->static_mode && dt == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "type %s is not supported", nt_dtype_name(dt));
    for (int i = 1; i < 3; i++)
        if (ctx->in[i]->dtype != dt && ctx->in[i]->dtype != NT_DTYPE_UNDEFINED && dt != NT_DTYPE_UNDEFINED)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs differ in type");
    for (int i = 0; i < 3; i++)
        if (nt_ctx_data_unknown(ctx, i)) {
            int64_t unk = -1;
            return nt_mv_set_output(ctx, 0, dt, 1, &unk);
        }
    int64_t n;
    if ((st = range_count(ctx, &n)) != NT_OK)
        return st;
    return nt_mv_set_output(ctx, 0, dt, 1, &n);
}

nt_status nt_shape_range_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *s = ctx->in[0], *d = ctx->in[2];
    nt_tensor *y = ctx->out[0];
    int64_t n = y->dims[0];
    switch (y->dtype) {
    case NT_DTYPE_INT64: {
        int64_t a = ((const int64_t *)s->data)[0], k = ((const int64_t *)d->data)[0];
        for (int64_t i = 0; i < n; i++)
            ((int64_t *)y->data)[i] = (int64_t)((uint64_t)a + (uint64_t)i * (uint64_t)k);
        break;
    }
    case NT_DTYPE_INT32:
    case NT_DTYPE_INT16: {
        int64_t a = (int64_t)nt_tensor_get_f64(s, 0), k = (int64_t)nt_tensor_get_f64(d, 0);
        for (int64_t i = 0; i < n; i++)
            nt_tensor_set_f64(y, i, (double)(a + i * k));
        break;
    }
    default: {
        /* start + i*delta in double: no accumulated rounding drift */
        double a = nt_tensor_get_f64(s, 0), k = nt_tensor_get_f64(d, 0);
        for (int64_t i = 0; i < n; i++)
            nt_tensor_set_f64(y, i, a + (double)i * k);
        break;
    }
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- EyeLike */

static bool one_type_ok(nt_dtype t)
{
    return nt_dtype_is_numeric(t);
}

static nt_dtype eyelike_dtype(const nt_kernel_ctx *ctx)
{
    return (nt_dtype)nt_node_attr_int(ctx->node, "dtype", ctx->in[0]->dtype);
}

/* EyeLike: x (N, M) -> (N, M) with ones on diagonal k, in attribute dtype. */
nt_status nt_shape_eyelike_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    nt_dtype dt = eyelike_dtype(ctx);
    if (!one_type_ok(dt) && !(ctx->static_mode && dt == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "output type %s is not supported", nt_dtype_name(dt));
    if (x->ndim < 0) {
        nt_mv_unknown(ctx, 0, dt);
        return NT_OK;
    }
    if (x->ndim != 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be 2-D, got rank %d", x->ndim);
    return nt_mv_set_output(ctx, 0, dt, 2, x->dims);
}

nt_status nt_shape_eyelike_compute(nt_kernel_ctx *ctx)
{
    nt_tensor *y = ctx->out[0];
    int64_t k = nt_node_attr_int(ctx->node, "k", 0);
    int64_t rows = y->dims[0], cols = y->dims[1];
    size_t es = nt_mv_size(y->dtype), nb = nt_tensor_nbytes(y);
    unsigned char one[16];
    nt_mv_scalar(y->dtype, 1.0, one);
    if (nb)
        memset(y->data, 0, nb);
    for (int64_t i = 0; i < rows; i++) {
        if (k > cols || k < -rows)
            break;
        int64_t j = i + k;
        if (j >= 0 && j < cols)
            memcpy((char *)y->data + (i * cols + j) * (int64_t)es, one, es);
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- Trilu */

/* Trilu: x (..., N, M), k -> x with elements outside the triangle zeroed. */
nt_status nt_shape_trilu_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    if (x->ndim >= 0 && x->ndim < 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must have rank >= 2, got %d", x->ndim);
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

nt_status nt_shape_trilu_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    int64_t k = 0, n;
    if (nt_ctx_in(ctx, 1)) {
        nt_status st = nt_mv_read_ints(ctx, 1, &k, 1, &n);
        if (st != NT_OK)
            return st;
        if (n != 1)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "k must be a single value");
    }
    bool upper = nt_node_attr_int(ctx->node, "upper", 1) != 0;
    int r = x->ndim;
    int64_t rows = x->dims[r - 2], cols = x->dims[r - 1];
    int64_t mats = nt_mv_prod(x->dims, 0, r - 2);
    int64_t es = (int64_t)nt_mv_size(x->dtype);
    /* clamp k so i + k cannot overflow; beyond +-(rows+cols) nothing changes */
    int64_t lim = rows + cols + 1;
    k = k > lim ? lim : k < -lim ? -lim : k;
    nt_mv_copy_all(x, y);
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < rows; i++) {
            char *row = (char *)y->data + ((m * rows + i) * cols) * es;
            int64_t b = i + k; /* upper keeps j >= b; lower keeps j <= b */
            if (upper) {
                int64_t z = b < 0 ? 0 : b > cols ? cols : b;
                memset(row, 0, (size_t)(z * es));
            } else {
                int64_t keep = b + 1 < 0 ? 0 : b + 1 > cols ? cols : b + 1;
                memset(row + keep * es, 0, (size_t)((cols - keep) * es));
            }
        }
    return NT_OK;
}

/* ---------------------------------------------------------------- Dropout */

/* The dropout ratio and whether the node asks for training behaviour;
 * *known is false when an input deciding it has no data yet. */
static nt_status dropout_mode(const nt_kernel_ctx *ctx, double *ratio, bool *training, bool *known)
{
    *known = true;
    *training = false;
    *ratio = 0.5;
    if (ctx->opset < 12) {
        *ratio = nt_node_attr_float(ctx->node, "ratio", 0.5f);
        if (ctx->opset < 7)
            *training = nt_node_attr_int(ctx->node, "is_test", 0) == 0;
        return NT_OK;
    }
    const nt_tensor *r = nt_ctx_in(ctx, 1), *t = nt_ctx_in(ctx, 2);
    if (nt_ctx_data_unknown(ctx, 1) || nt_ctx_data_unknown(ctx, 2)) {
        *known = false;
        return NT_OK;
    }
    if (r) {
        if (nt_tensor_numel(r) != 1 || !nt_dtype_is_float(r->dtype))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "ratio must be a floating-point scalar");
        *ratio = nt_tensor_get_f64(r, 0);
    }
    if (t) {
        if (nt_tensor_numel(t) != 1 || t->dtype != NT_DTYPE_BOOL)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "training_mode must be a bool scalar");
        *training = ((const uint8_t *)t->data)[0] != 0;
    }
    return NT_OK;
}

/* Dropout (inference): x -> x, and an all-true mask (bool from opset 10,
 * x's type before). */
nt_status nt_shape_dropout_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    double ratio;
    bool training, known;
    if ((st = dropout_mode(ctx, &ratio, &training, &known)) != NT_OK)
        return st;
    if (known && training && ratio != 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "training-mode dropout (ratio %g) is not supported", ratio);
    nt_dtype mdt = ctx->opset >= 10 ? NT_DTYPE_BOOL : x->dtype;
    if (nt_ctx_out(ctx, 1) && !one_type_ok(mdt) && !(ctx->static_mode && mdt == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "mask of type %s is not supported", nt_dtype_name(mdt));
    if ((st = nt_mv_set_output(ctx, 0, x->dtype, x->ndim, x->dims)) != NT_OK)
        return st;
    return nt_mv_set_output(ctx, 1, mdt, x->ndim, x->dims);
}

nt_status nt_shape_dropout_compute(nt_kernel_ctx *ctx)
{
    double ratio;
    bool training, known;
    nt_status st = dropout_mode(ctx, &ratio, &training, &known);
    if (st != NT_OK)
        return st;
    if (training && ratio != 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "training-mode dropout (ratio %g) is not supported", ratio);
    nt_mv_copy_all(ctx->in[0], ctx->out[0]);
    nt_tensor *m = nt_ctx_out(ctx, 1);
    if (m) {
        unsigned char one[16];
        size_t es = nt_mv_size(m->dtype), nb = nt_tensor_nbytes(m);
        nt_mv_scalar(m->dtype, 1.0, one);
        for (size_t at = 0; at < nb; at += es)
            memcpy((char *)m->data + at, one, es);
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- Col2Im */

typedef struct col2im_plan {
    int k;                                   /* spatial dims */
    int64_t img[NT_MAX_DIMS], blk[NT_MAX_DIMS], dil[NT_MAX_DIMS], str[NT_MAX_DIMS];
    int64_t pb[NT_MAX_DIMS], out[NT_MAX_DIMS]; /* pad before; sliding positions per dim */
    int64_t block_size, n_pos;
} col2im_plan;

/* Reads image_shape/block_shape and attributes; validates against x. */
static nt_status col2im_params(const nt_kernel_ctx *ctx, const nt_tensor *x, col2im_plan *p)
{
    int64_t n1, n2;
    nt_status st = nt_mv_read_ints(ctx, 1, p->img, NT_MAX_DIMS - 2, &n1);
    if (st == NT_OK)
        st = nt_mv_read_ints(ctx, 2, p->blk, NT_MAX_DIMS - 2, &n2);
    if (st != NT_OK)
        return st;
    if (n1 != n2 || n1 < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "image_shape and block_shape differ in length");
    p->k = (int)n1;
    const int64_t *dil, *pads, *str;
    int nd = nt_node_attr_ints(ctx->node, "dilations", &dil);
    int np = nt_node_attr_ints(ctx->node, "pads", &pads);
    int ns = nt_node_attr_ints(ctx->node, "strides", &str);
    if ((nd && nd != p->k) || (np && np != 2 * p->k) || (ns && ns != p->k))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "dilations/pads/strides do not match %d spatial dims", p->k);
    p->block_size = 1;
    p->n_pos = 1;
    for (int i = 0; i < p->k; i++) {
        p->dil[i] = nd ? dil[i] : 1;
        p->str[i] = ns ? str[i] : 1;
        p->pb[i] = np ? pads[i] : 0;
        int64_t pe = np ? pads[i + p->k] : 0;
        if (p->img[i] < 0 || p->blk[i] < 1 || p->dil[i] < 1 || p->str[i] < 1 || p->pb[i] < 0 || pe < 0 ||
            p->img[i] > (1 << 24) || p->blk[i] > (1 << 24) || p->dil[i] > (1 << 24) || p->str[i] > (1 << 24) ||
            p->pb[i] > (1 << 24) || pe > (1 << 24))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "invalid Col2Im parameters on spatial dim %d", i);
        int64_t span = p->dil[i] * (p->blk[i] - 1) + 1;
        int64_t room = p->img[i] + p->pb[i] + pe - span;
        p->out[i] = room < 0 ? 0 : room / p->str[i] + 1;
        p->block_size *= p->blk[i];
        p->n_pos *= p->out[i];
        if (p->block_size > (1LL << 40) || p->n_pos > (1LL << 40))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "Col2Im sizes are too large");
    }
    if (x->ndim != 3)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be (N, C*prod(block), L), got rank %d", x->ndim);
    if (x->dims[1] >= 0 && x->dims[1] % p->block_size)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input dim 1 (%lld) is not a multiple of the block size %lld",
                            (long long)x->dims[1], (long long)p->block_size);
    if (x->dims[2] >= 0 && x->dims[2] != p->n_pos)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input has %lld blocks, the image needs %lld",
                            (long long)x->dims[2], (long long)p->n_pos);
    return NT_OK;
}

/* Col2Im: x (N, C*prod(block), L), image_shape, block_shape -> (N, C, *image_shape),
 * overlapping block elements summed. */
nt_status nt_shape_col2im_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 3);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if (x->dtype != NT_DTYPE_FLOAT && x->dtype != NT_DTYPE_DOUBLE &&
        !(ctx->static_mode && x->dtype == NT_DTYPE_UNDEFINED))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "type %s is not supported", nt_dtype_name(x->dtype));
    if (x->ndim < 0 || nt_ctx_data_unknown(ctx, 1) || nt_ctx_data_unknown(ctx, 2)) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    col2im_plan p;
    if ((st = col2im_params(ctx, x, &p)) != NT_OK)
        return st;
    int64_t od[NT_MAX_DIMS];
    od[0] = x->dims[0];
    od[1] = x->dims[1] < 0 ? -1 : x->dims[1] / p.block_size;
    for (int i = 0; i < p.k; i++)
        od[2 + i] = p.img[i];
    return nt_mv_set_output(ctx, 0, x->dtype, 2 + p.k, od);
}

#define NT_COL2IM(NAME, T)                                                                        \
    static void NAME(const col2im_plan *p, const T *x, T *y, int64_t nc)                          \
    {                                                                                             \
        int64_t img_size = nt_mv_prod(p->img, 0, p->k);                                           \
        for (int64_t c = 0; c < nc; c++) {                                                        \
            const T *xc = x + c * p->block_size * p->n_pos;                                       \
            T *yc = y + c * img_size;                                                             \
            for (int64_t b = 0; b < p->block_size; b++)                                           \
                for (int64_t l = 0; l < p->n_pos; l++) {                                          \
                    int64_t bi = b, li = l, at = 0;                                               \
                    bool inside = true;                                                           \
                    for (int i = p->k - 1; i >= 0; i--) {                                         \
                        int64_t bo = bi % p->blk[i], lo = li % p->out[i];                         \
                        bi /= p->blk[i];                                                          \
                        li /= p->out[i];                                                          \
                        int64_t pos = lo * p->str[i] - p->pb[i] + bo * p->dil[i];                 \
                        if (pos < 0 || pos >= p->img[i])                                          \
                            inside = false;                                                       \
                        at += pos * nt_mv_prod(p->img, i + 1, p->k);                              \
                    }                                                                             \
                    if (inside)                                                                   \
                        yc[at] += xc[b * p->n_pos + l];                                           \
                }                                                                                 \
        }                                                                                         \
    }
NT_COL2IM(col2im_f32, float)
NT_COL2IM(col2im_f64, double)

nt_status nt_shape_col2im_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    col2im_plan p;
    nt_status st = col2im_params(ctx, x, &p);
    if (st != NT_OK)
        return st;
    size_t nb = nt_tensor_nbytes(y);
    if (nb)
        memset(y->data, 0, nb);
    if (p.n_pos == 0)
        return NT_OK;
    int64_t nc = y->dims[0] * y->dims[1];
    if (x->dtype == NT_DTYPE_FLOAT)
        col2im_f32(&p, x->data, y->data, nc);
    else
        col2im_f64(&p, x->data, y->data, nc);
    return NT_OK;
}
