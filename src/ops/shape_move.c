/*
 * shape_move.c — shape-family ops that rearrange elements: Transpose,
 * DepthToSpace, SpaceToDepth, Slice, Pad and CenterCropPad.
 *
 * Each is expressed as a transpose of a reshaped view or as an offset map
 * (shape_impl.h), so all of them work on every fixed-size dtype.  Slice and
 * Pad read their parameters either from attributes (old opsets) or from
 * inputs; the parameter parsing is shared by infer and compute so both agree.
 */
#include "ops/shape_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- Transpose */

/* The permutation of Transpose (default: reversed dims), validated. */
static nt_status transpose_perm(const nt_kernel_ctx *ctx, int r, int *perm)
{
    const int64_t *p;
    int n = nt_node_attr_ints(ctx->node, "perm", &p);
    if (!nt_node_attr(ctx->node, "perm")) {
        for (int d = 0; d < r; d++)
            perm[d] = r - 1 - d;
        return NT_OK;
    }
    if (n != r)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "perm has %d entries for rank %d", n, r);
    bool seen[NT_MAX_DIMS] = {false};
    for (int d = 0; d < r; d++) {
        if (p[d] < 0 || p[d] >= r || seen[p[d]])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "perm is not a permutation of 0..%d", r - 1);
        seen[p[d]] = true;
        perm[d] = (int)p[d];
    }
    return NT_OK;
}

/* Transpose: x (d_0..d_r-1) -> (d_perm[0]..d_perm[r-1]). */
nt_status nt_shape_transpose_infer(nt_kernel_ctx *ctx)
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
    int perm[NT_MAX_DIMS];
    if ((st = transpose_perm(ctx, x->ndim, perm)) != NT_OK)
        return st;
    int64_t od[NT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++)
        od[d] = x->dims[perm[d]];
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, od);
}

nt_status nt_shape_transpose_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    int perm[NT_MAX_DIMS];
    nt_status st = transpose_perm(ctx, x->ndim, perm);
    if (st != NT_OK)
        return st;
    return nt_mv_transpose(x->data, ctx->out[0]->data, nt_mv_size(x->dtype), x->ndim, x->dims, perm);
}

/* ---------------------------------------------------------------- DepthToSpace / SpaceToDepth */

/* Checks a rank-4 input and reads blocksize. */
static nt_status block_params(const nt_kernel_ctx *ctx, const nt_tensor *x, int64_t *b)
{
    nt_status st = nt_mv_check(ctx, x->dtype, "input");
    if (st != NT_OK)
        return st;
    if (x->ndim != 4 && x->ndim >= 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be rank 4 (N,C,H,W), got rank %d", x->ndim);
    *b = nt_node_attr_int(ctx->node, "blocksize", 0);
    if (*b <= 0 || *b > (1 << 20))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "blocksize %lld is invalid", (long long)*b);
    return NT_OK;
}

static bool depth_crd(const nt_kernel_ctx *ctx)
{
    return ctx->opset >= 11 && strcmp(nt_node_attr_string(ctx->node, "mode", "DCR"), "CRD") == 0;
}

/* DepthToSpace: x (N, C, H, W) -> (N, C/b^2, H*b, W*b). */
nt_status nt_shape_depthtospace_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    int64_t b;
    if ((st = block_params(ctx, x, &b)) != NT_OK)
        return st;
    const char *mode = nt_node_attr_string(ctx->node, "mode", "DCR");
    if (strcmp(mode, "DCR") != 0 && strcmp(mode, "CRD") != 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "mode '%s' is not supported", mode);
    if (x->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    const int64_t *d = x->dims;
    if (d[1] >= 0 && d[1] % (b * b))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "channels %lld are not divisible by blocksize^2 = %lld",
                            (long long)d[1], (long long)(b * b));
    int64_t od[4] = {d[0], d[1] < 0 ? -1 : d[1] / (b * b), d[2] < 0 ? -1 : d[2] * b, d[3] < 0 ? -1 : d[3] * b};
    return nt_mv_set_output(ctx, 0, x->dtype, 4, od);
}

nt_status nt_shape_depthtospace_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    int64_t b = nt_node_attr_int(ctx->node, "blocksize", 1);
    const int64_t *d = x->dims;
    int64_t c = d[1] / (b * b);
    if (depth_crd(ctx)) {
        int64_t v[6] = {d[0], c, b, b, d[2], d[3]};
        int perm[6] = {0, 1, 4, 2, 5, 3};
        return nt_mv_transpose(x->data, ctx->out[0]->data, nt_mv_size(x->dtype), 6, v, perm);
    }
    int64_t v[6] = {d[0], b, b, c, d[2], d[3]};
    int perm[6] = {0, 3, 4, 1, 5, 2};
    return nt_mv_transpose(x->data, ctx->out[0]->data, nt_mv_size(x->dtype), 6, v, perm);
}

/* SpaceToDepth: x (N, C, H, W) -> (N, C*b^2, H/b, W/b). */
nt_status nt_shape_spacetodepth_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    int64_t b;
    if ((st = block_params(ctx, x, &b)) != NT_OK)
        return st;
    if (x->ndim < 0) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    const int64_t *d = x->dims;
    if ((d[2] >= 0 && d[2] % b) || (d[3] >= 0 && d[3] % b))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "spatial dims %lldx%lld are not divisible by blocksize %lld",
                            (long long)d[2], (long long)d[3], (long long)b);
    int64_t od[4] = {d[0], d[1] < 0 ? -1 : d[1] * b * b, d[2] < 0 ? -1 : d[2] / b, d[3] < 0 ? -1 : d[3] / b};
    return nt_mv_set_output(ctx, 0, x->dtype, 4, od);
}

nt_status nt_shape_spacetodepth_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    int64_t b = nt_node_attr_int(ctx->node, "blocksize", 1);
    const int64_t *d = x->dims;
    int64_t v[6] = {d[0], d[1], d[2] / b, b, d[3] / b, b};
    int perm[6] = {0, 3, 5, 1, 2, 4};
    return nt_mv_transpose(x->data, ctx->out[0]->data, nt_mv_size(x->dtype), 6, v, perm);
}

/* ---------------------------------------------------------------- Slice */

typedef struct slice_plan {
    int64_t start[NT_MAX_DIMS], step[NT_MAX_DIMS], len[NT_MAX_DIMS];
} slice_plan;

/* Reads starts/ends/axes/steps (attributes before opset 10, inputs after)
 * and clamps them against x's dims into a per-dim plan.  *unknown when a
 * parameter input has no data yet (static mode). */
static nt_status slice_params(const nt_kernel_ctx *ctx, const nt_tensor *x, slice_plan *p, bool *unknown)
{
    int r = x->ndim;
    int64_t starts[NT_MAX_DIMS], ends[NT_MAX_DIMS], axes[NT_MAX_DIMS], steps[NT_MAX_DIMS];
    int64_t ns, ne, na = -1, nst = -1;
    nt_status st;
    *unknown = false;
    if (ctx->opset >= 10) {
        if ((st = nt_mv_need(ctx, 3)) != NT_OK)
            return st;
        for (int i = 1; i <= 4; i++)
            if (nt_ctx_data_unknown(ctx, i)) {
                *unknown = true;
                return NT_OK;
            }
        if ((st = nt_mv_read_ints(ctx, 1, starts, NT_MAX_DIMS, &ns)) != NT_OK ||
            (st = nt_mv_read_ints(ctx, 2, ends, NT_MAX_DIMS, &ne)) != NT_OK)
            return st;
        if (nt_ctx_in(ctx, 3) && (st = nt_mv_read_ints(ctx, 3, axes, NT_MAX_DIMS, &na)) != NT_OK)
            return st;
        if (nt_ctx_in(ctx, 4) && (st = nt_mv_read_ints(ctx, 4, steps, NT_MAX_DIMS, &nst)) != NT_OK)
            return st;
    } else {
        const int64_t *a;
        ns = nt_node_attr_ints(ctx->node, "starts", &a);
        if (ns > NT_MAX_DIMS)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "too many starts");
        if (ns > 0) /* a is NULL when the attribute is absent */
            memcpy(starts, a, (size_t)ns * sizeof *a);
        ne = nt_node_attr_ints(ctx->node, "ends", &a);
        if (ne > NT_MAX_DIMS)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "too many ends");
        if (ne > 0) /* a is NULL when the attribute is absent */
            memcpy(ends, a, (size_t)ne * sizeof *a);
        if (nt_node_attr(ctx->node, "axes")) {
            na = nt_node_attr_ints(ctx->node, "axes", &a);
            if (na > NT_MAX_DIMS)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "too many axes");
            if (na > 0)
                memcpy(axes, a, (size_t)na * sizeof *a);
        }
    }
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "starts, ends, axes and steps differ in length");
    if (ns > r)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%lld slice entries for rank %d", (long long)ns, r);
    for (int d = 0; d < r; d++) {
        p->start[d] = 0;
        p->step[d] = 1;
        p->len[d] = x->dims[d];
    }
    bool seen[NT_MAX_DIMS] = {false};
    for (int64_t i = 0; i < ns; i++) {
        int a = (int)i;
        if (na >= 0 && (st = nt_mv_axis(ctx, axes[i], r, &a)) != NT_OK)
            return st;
        if (seen[a])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %d is repeated", a);
        seen[a] = true;
        int64_t k = nst >= 0 ? steps[i] : 1;
        if (k == 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "step is 0 on axis %d", a);
        int64_t dim = x->dims[a];
        p->step[a] = k;
        if (dim < 0) {
            p->len[a] = -1;
            continue;
        }
        int64_t s = starts[i], e = ends[i];
        if (s < 0)
            s += dim;
        if (e < 0)
            e += dim;
        if (k > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
            p->len[a] = e > s ? (e - s - 1) / k + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            /* -k overflows for INT64_MIN: then only the first element fits */
            p->len[a] = s > e ? (k == INT64_MIN ? 1 : (s - e - 1) / -k + 1) : 0;
        }
        if (dim == 0)
            p->len[a] = 0;
        p->start[a] = s;
    }
    return NT_OK;
}

/* Slice: x -> x[start:end:step] along the given axes (clamped like Python). */
nt_status nt_shape_slice_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    slice_plan p;
    bool unknown = false;
    if (x->ndim >= 0 && (st = slice_params(ctx, x, &p, &unknown)) != NT_OK)
        return st;
    if (x->ndim < 0 || unknown) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, p.len);
}

nt_status nt_shape_slice_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    slice_plan p;
    bool unknown;
    nt_status st = slice_params(ctx, x, &p, &unknown);
    if (st != NT_OK)
        return st;
    size_t es = nt_mv_size(x->dtype);
    int64_t sx[NT_MAX_DIMS];
    nt_mv_strides(x->ndim, x->dims, sx);
    nt_mv_map m;
    if (nt_mv_map_init(&m, y->ndim, y->dims) != NT_OK)
        return NT_ERR_NOMEM;
    for (int d = 0; d < y->ndim; d++)
        for (int64_t i = 0; i < y->dims[d]; i++)
            m.off[d][i] = (p.start[d] + i * p.step[d]) * sx[d] * (int64_t)es;
    nt_mv_map_run(&m, x->data, y->data, es, NULL);
    nt_mv_map_deinit(&m);
    return NT_OK;
}

/* ---------------------------------------------------------------- Pad */

enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP };

typedef struct pad_plan {
    int mode;
    int64_t before[NT_MAX_DIMS], after[NT_MAX_DIMS];
    unsigned char fill[16];
} pad_plan;

/* Reads mode, pads (attribute before opset 11, input after; axes input from
 * 18) and the constant value.  *unknown when pads/axes have no data yet. */
static nt_status pad_params(const nt_kernel_ctx *ctx, const nt_tensor *x, pad_plan *p, bool *unknown)
{
    int r = x->ndim;
    nt_status st;
    *unknown = false;
    memset(p, 0, sizeof *p);
    const char *mode = nt_node_attr_string(ctx->node, "mode", "constant");
    if (strcmp(mode, "constant") == 0)
        p->mode = PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        p->mode = PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        p->mode = PAD_EDGE;
    else if (strcmp(mode, "wrap") == 0)
        p->mode = PAD_WRAP;
    else
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "mode '%s' is not supported", mode);
    int64_t pads[2 * NT_MAX_DIMS], np;
    int64_t axes[NT_MAX_DIMS], na = -1;
    if (ctx->opset >= 11) {
        if ((st = nt_mv_need(ctx, 2)) != NT_OK)
            return st;
        if (nt_ctx_data_unknown(ctx, 1) || nt_ctx_data_unknown(ctx, 3)) {
            *unknown = true;
            return NT_OK;
        }
        if ((st = nt_mv_read_ints(ctx, 1, pads, 2 * NT_MAX_DIMS, &np)) != NT_OK)
            return st;
        if (ctx->opset >= 18 && nt_ctx_in(ctx, 3) && (st = nt_mv_read_ints(ctx, 3, axes, NT_MAX_DIMS, &na)) != NT_OK)
            return st;
        const nt_tensor *cv = nt_ctx_in(ctx, 2);
        if (cv && cv->data && nt_tensor_numel(cv) >= 1) {
            if (cv->dtype != x->dtype)
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "constant_value is %s, input is %s",
                                    nt_dtype_name(cv->dtype), nt_dtype_name(x->dtype));
            memcpy(p->fill, cv->data, nt_mv_size(x->dtype));
        }
    } else {
        const int64_t *a;
        np = nt_node_attr_ints(ctx->node, ctx->opset < 2 ? "paddings" : "pads", &a);
        if (np > 2 * NT_MAX_DIMS)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "too many pads");
        if (np > 0) /* a is NULL when the attribute is absent */
            memcpy(pads, a, (size_t)np * sizeof *a);
        if (x->dtype != NT_DTYPE_UNDEFINED)
            nt_mv_scalar(x->dtype, nt_node_attr_float(ctx->node, "value", 0.0f), p->fill);
    }
    if (na < 0) {
        if (np != 2 * r)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "pads has %lld entries for rank %d", (long long)np, r);
        for (int d = 0; d < r; d++) {
            p->before[d] = pads[d];
            p->after[d] = pads[d + r];
        }
        return NT_OK;
    }
    if (np != 2 * na)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "pads has %lld entries for %lld axes", (long long)np, (long long)na);
    bool seen[NT_MAX_DIMS] = {false};
    for (int64_t i = 0; i < na; i++) {
        int a;
        if ((st = nt_mv_axis(ctx, axes[i], r, &a)) != NT_OK)
            return st;
        if (seen[a])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %d is repeated", a);
        seen[a] = true;
        p->before[a] = pads[i];
        p->after[a] = pads[i + na];
    }
    return NT_OK;
}

/* Output dims of Pad (-1 where the input dim is unknown). */
static nt_status pad_dims(const nt_kernel_ctx *ctx, const nt_tensor *x, const pad_plan *p, int64_t *od)
{
    for (int d = 0; d < x->ndim; d++) {
        int64_t dim = x->dims[d], b = p->before[d], e = p->after[d];
        if (b > (1LL << 40) || e > (1LL << 40) || b < -(1LL << 40) || e < -(1LL << 40))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "pads on axis %d are out of range", d);
        if (dim < 0) {
            od[d] = -1;
            continue;
        }
        od[d] = dim + b + e;
        /* the kept region after negative pads must be non-negative too */
        int64_t kept = dim - (b < 0 ? -b : 0) - (e < 0 ? -e : 0);
        if (od[d] < 0 || kept < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "pads %lld,%lld on axis %d of size %lld leave a negative size",
                                (long long)b, (long long)e, d, (long long)dim);
        if (p->mode != PAD_CONSTANT && kept == 0 && od[d] > 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "cannot pad an empty axis %d in this mode", d);
    }
    return NT_OK;
}

/* Pad: x (d_i) -> (d_i + before_i + after_i), negative pads crop. */
nt_status nt_shape_pad_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 1);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    pad_plan p;
    bool unknown = false;
    if (x->ndim >= 0 && (st = pad_params(ctx, x, &p, &unknown)) != NT_OK)
        return st;
    if (x->ndim < 0 || unknown) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    int64_t od[NT_MAX_DIMS];
    if ((st = pad_dims(ctx, x, &p, od)) != NT_OK)
        return st;
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, od);
}

/* Source index along one axis for output index o (or -1 for the fill):
 * the kept region [lo, lo+n) of the input is placed at offset `before`. */
static int64_t pad_source(int mode, int64_t o, int64_t before, int64_t lo, int64_t n)
{
    int64_t j = o - before;
    if (j >= 0 && j < n)
        return lo + j;
    switch (mode) {
    case PAD_EDGE: return lo + (j < 0 ? 0 : n - 1);
    case PAD_WRAP: return lo + ((j % n) + n) % n;
    case PAD_REFLECT: {
        if (n == 1)
            return lo;
        int64_t period = 2 * (n - 1);
        int64_t m = ((j % period) + period) % period;
        return lo + (m >= n ? period - m : m);
    }
    default: return -1;
    }
}

nt_status nt_shape_pad_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    pad_plan p;
    bool unknown;
    int64_t od[NT_MAX_DIMS];
    nt_status st = pad_params(ctx, x, &p, &unknown);
    if (st == NT_OK)
        st = pad_dims(ctx, x, &p, od); /* guards the modes that need a non-empty source */
    if (st != NT_OK)
        return st;
    size_t es = nt_mv_size(x->dtype);
    int64_t sx[NT_MAX_DIMS];
    nt_mv_strides(x->ndim, x->dims, sx);
    nt_mv_map m;
    if (nt_mv_map_init(&m, y->ndim, y->dims) != NT_OK)
        return NT_ERR_NOMEM;
    for (int d = 0; d < y->ndim; d++) {
        int64_t b = p.before[d], e = p.after[d];
        int64_t lo = b < 0 ? -b : 0;
        int64_t n = x->dims[d] - lo - (e < 0 ? -e : 0);
        int64_t before = b > 0 ? b : 0;
        for (int64_t i = 0; i < y->dims[d]; i++) {
            int64_t s = pad_source(p.mode, i, before, lo, n);
            m.off[d][i] = s < 0 ? NT_MV_FILL : s * sx[d] * (int64_t)es;
        }
    }
    nt_mv_map_run(&m, x->data, y->data, es, p.fill);
    nt_mv_map_deinit(&m);
    return NT_OK;
}

/* ---------------------------------------------------------------- CenterCropPad */

/* Reads the target sizes into tgt (per dim of x, -1 = unchanged). */
static nt_status ccp_params(const nt_kernel_ctx *ctx, const nt_tensor *x, int64_t *tgt)
{
    int r = x->ndim;
    int64_t sv[NT_MAX_DIMS], n;
    nt_status st = nt_mv_read_ints(ctx, 1, sv, NT_MAX_DIMS, &n);
    if (st != NT_OK)
        return st;
    for (int d = 0; d < r; d++)
        tgt[d] = x->dims[d];
    const int64_t *axes;
    int na = nt_node_attr_ints(ctx->node, "axes", &axes);
    bool have_axes = nt_node_attr(ctx->node, "axes") != NULL;
    if ((have_axes ? na : r) != n)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "shape has %lld entries for %d axes", (long long)n,
                            have_axes ? na : r);
    bool seen[NT_MAX_DIMS] = {false};
    for (int64_t i = 0; i < n; i++) {
        int a = (int)i;
        if (have_axes && (st = nt_mv_axis(ctx, axes[i], r, &a)) != NT_OK)
            return st;
        if (seen[a])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %d is repeated", a);
        seen[a] = true;
        if (sv[i] < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "target size %lld is negative", (long long)sv[i]);
        tgt[a] = sv[i];
    }
    return NT_OK;
}

/* CenterCropPad: x, shape -> x cropped or zero-padded to shape, centered. */
nt_status nt_shape_centercroppad_infer(nt_kernel_ctx *ctx)
{
    nt_status st = nt_mv_need(ctx, 2);
    if (st != NT_OK)
        return st;
    const nt_tensor *x = ctx->in[0];
    if ((st = nt_mv_check(ctx, x->dtype, "input")) != NT_OK)
        return st;
    if (x->ndim < 0 || nt_ctx_data_unknown(ctx, 1)) {
        nt_mv_unknown(ctx, 0, x->dtype);
        return NT_OK;
    }
    int64_t od[NT_MAX_DIMS];
    if ((st = ccp_params(ctx, x, od)) != NT_OK)
        return st;
    return nt_mv_set_output(ctx, 0, x->dtype, x->ndim, od);
}

nt_status nt_shape_centercroppad_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    nt_tensor *y = ctx->out[0];
    size_t es = nt_mv_size(x->dtype);
    int64_t sx[NT_MAX_DIMS];
    nt_mv_strides(x->ndim, x->dims, sx);
    nt_mv_map m;
    if (nt_mv_map_init(&m, y->ndim, y->dims) != NT_OK)
        return NT_ERR_NOMEM;
    for (int d = 0; d < y->ndim; d++) {
        int64_t dim = x->dims[d], s = y->dims[d];
        for (int64_t i = 0; i < s; i++) {
            int64_t src;
            if (s <= dim) {
                src = (dim - s) / 2 + i;
            } else {
                src = i - (s - dim) / 2;
                if (src >= dim)
                    src = -1;
            }
            m.off[d][i] = src < 0 ? NT_MV_FILL : src * sx[d] * (int64_t)es;
        }
    }
    nt_mv_map_run(&m, x->data, y->data, es, NULL);
    nt_mv_map_deinit(&m);
    return NT_OK;
}
