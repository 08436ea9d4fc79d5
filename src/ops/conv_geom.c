/*
 * conv_geom.c — window attribute parsing and output-size resolution for
 * Conv, ConvTranspose's forward view, and the pooling operators.  See
 * conv_geom.h for the contract.
 */
#include "ops/conv_geom.h"

#include <string.h>

/* Copies an optional INTS attribute into dst (at most max values); checks
 * every value is >= minv.  Sets *count to the number found (0 if absent). */
static nt_status read_ints(const nt_node *node, const char *name, int64_t minv, int max, int64_t *dst,
                           int *count)
{
    const int64_t *v = NULL;
    int n = nt_node_attr_ints(node, name, &v);
    *count = 0;
    if (n <= 0)
        return NT_OK;
    if (n > max)
        return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (%s): attribute %s has %d values, at most %d supported",
                        node->name, node->op_type, name, n, max);
    for (int i = 0; i < n; i++) {
        if (v[i] < minv)
            return nt_error(NT_ERR_PARSE, "node '%s' (%s): attribute %s[%d] = %lld must be >= %lld", node->name,
                            node->op_type, name, i, (long long)v[i], (long long)minv);
        dst[i] = v[i];
    }
    *count = n;
    return NT_OK;
}

nt_status nt_window_parse(const nt_node *node, bool need_kernel, bool allow_ceil, nt_window_attrs *a)
{
    memset(a, 0, sizeof *a);
    const char *ap = nt_node_attr_string(node, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") == 0 || ap[0] == '\0')
        a->auto_pad = NT_AUTO_PAD_NOTSET;
    else if (strcmp(ap, "SAME_UPPER") == 0)
        a->auto_pad = NT_AUTO_PAD_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0)
        a->auto_pad = NT_AUTO_PAD_SAME_LOWER;
    else if (strcmp(ap, "VALID") == 0)
        a->auto_pad = NT_AUTO_PAD_VALID;
    else
        return nt_error(NT_ERR_PARSE, "node '%s' (%s): unknown auto_pad '%s'", node->name, node->op_type, ap);
    nt_status st;
    if ((st = read_ints(node, "kernel_shape", 1, NT_MAX_SPATIAL, a->kernel, &a->n_kernel)) != NT_OK ||
        (st = read_ints(node, "strides", 1, NT_MAX_SPATIAL, a->strides, &a->n_strides)) != NT_OK ||
        (st = read_ints(node, "dilations", 1, NT_MAX_SPATIAL, a->dils, &a->n_dils)) != NT_OK ||
        (st = read_ints(node, "pads", 0, 2 * NT_MAX_SPATIAL, a->pads, &a->n_pads)) != NT_OK)
        return st;
    if (need_kernel && a->n_kernel == 0)
        return nt_error(NT_ERR_PARSE, "node '%s' (%s): attribute kernel_shape is required", node->name,
                        node->op_type);
    if (a->n_pads % 2 != 0)
        return nt_error(NT_ERR_PARSE, "node '%s' (%s): attribute pads has an odd count %d", node->name,
                        node->op_type, a->n_pads);
    int64_t ceil_mode = nt_node_attr_int(node, "ceil_mode", 0);
    if (ceil_mode != 0 && ceil_mode != 1)
        return nt_error(NT_ERR_PARSE, "node '%s' (%s): ceil_mode must be 0 or 1, got %lld", node->name,
                        node->op_type, (long long)ceil_mode);
    if (ceil_mode && !allow_ceil)
        return nt_error(NT_ERR_PARSE, "node '%s' (%s): ceil_mode is not an attribute of this op", node->name,
                        node->op_type);
    a->ceil_mode = ceil_mode != 0;
    /* Lengths must agree with each other; agreement with the input rank is
     * checked in resolve, once the rank is known. */
    int n = a->n_kernel;
    if ((n && a->n_strides && a->n_strides != n) || (n && a->n_dils && a->n_dils != n) ||
        (n && a->n_pads && a->n_pads != 2 * n))
        return nt_error(NT_ERR_PARSE, "node '%s' (%s): kernel_shape, strides, dilations and pads lengths disagree",
                        node->name, node->op_type);
    return NT_OK;
}

nt_status nt_window_resolve(const nt_kernel_ctx *ctx, const nt_window_attrs *a, int nsp, const int64_t *in,
                            const int64_t *kernel, nt_window *w)
{
    if (nsp < 1 || nsp > NT_MAX_SPATIAL)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%d spatial dimensions (1..%d supported)", nsp,
                            NT_MAX_SPATIAL);
    if ((a->n_kernel && a->n_kernel != nsp) || (a->n_strides && a->n_strides != nsp) ||
        (a->n_dils && a->n_dils != nsp) || (a->n_pads && a->n_pads != 2 * nsp))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "window attributes do not match %d spatial dimensions", nsp);
    memset(w, 0, sizeof *w);
    w->nsp = nsp;
    for (int i = 0; i < nsp; i++) {
        int64_t k = kernel[i], s = a->n_strides ? a->strides[i] : 1, d = a->n_dils ? a->dils[i] : 1;
        int64_t x = in[i];
        if (k < 1 && k != -1)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "kernel size %lld on spatial axis %d", (long long)k, i);
        w->in[i] = x;
        w->kernel[i] = k;
        w->stride[i] = s;
        w->dil[i] = d;
        if (x < 0 || k < 0) {
            w->out[i] = -1;
            continue;
        }
        int64_t ek = (k - 1) * d + 1, pb = 0, pe = 0, out;
        switch (a->auto_pad) {
        case NT_AUTO_PAD_SAME_UPPER:
        case NT_AUTO_PAD_SAME_LOWER: {
            out = (x + s - 1) / s;
            int64_t total = (out - 1) * s + ek - x;
            if (total < 0)
                total = 0;
            pb = a->auto_pad == NT_AUTO_PAD_SAME_UPPER ? total / 2 : total - total / 2;
            pe = total - pb;
            break;
        }
        case NT_AUTO_PAD_VALID:
            out = x >= ek ? (x - ek) / s + 1 : 0;
            break;
        default:
            pb = a->n_pads ? a->pads[i] : 0;
            pe = a->n_pads ? a->pads[i + nsp] : 0;
            if (x + pb + pe < ek) {
                out = 0;
            } else if (a->ceil_mode) {
                out = (x + pb + pe - ek + s - 1) / s + 1;
                /* The last window must start inside the input or its
                 * leading pad; one starting in the trailing pad is dropped. */
                if ((out - 1) * s >= x + pb)
                    out--;
            } else {
                out = (x + pb + pe - ek) / s + 1;
            }
            break;
        }
        if (out < 1 && x > 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE,
                                "window of size %lld (dilated %lld) does not fit spatial axis %d of size %lld "
                                "with pads %lld+%lld",
                                (long long)k, (long long)ek, i, (long long)x, (long long)pb, (long long)pe);
        w->out[i] = out < 0 ? 0 : out;
        w->pad_begin[i] = pb;
        w->pad_end[i] = pe;
    }
    return NT_OK;
}
