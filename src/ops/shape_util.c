/*
 * shape_util.c — dtype-generic data movement for the shape and index
 * families: dtype checks, axis normalization, reading small integer inputs,
 * the offset-map copy (see shape_impl.h) and a transpose with dim merging and
 * a blocked 2-D fast path.
 *
 * Everything here moves elements as opaque es-byte units; element sizes of
 * 1, 2, 4 and 8 get constant-size copies the compiler turns into plain loads
 * and stores, other sizes (complex128) use memcpy.
 */
#include "ops/shape_impl.h"

#include <stdlib.h>
#include <string.h>

size_t nt_mv_size(nt_dtype t)
{
    if (t == NT_DTYPE_STRING)
        return 0;
    return nt_dtype_size(t);
}

nt_status nt_mv_check(const nt_kernel_ctx *ctx, nt_dtype t, const char *what)
{
    if (t == NT_DTYPE_UNDEFINED && ctx->static_mode)
        return NT_OK;
    if (nt_mv_size(t) == 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s of type %s is not supported", what,
                            nt_dtype_name(t));
    return NT_OK;
}

nt_status nt_ix_check(const nt_kernel_ctx *ctx, const nt_tensor *t, const char *what)
{
    if (t->dtype == NT_DTYPE_INT64 || t->dtype == NT_DTYPE_INT32)
        return NT_OK;
    if (t->dtype == NT_DTYPE_UNDEFINED && ctx->static_mode)
        return NT_OK;
    return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "%s must be int32 or int64, got %s", what, nt_dtype_name(t->dtype));
}

nt_status nt_mv_axis(const nt_kernel_ctx *ctx, int64_t axis, int rank, int *out)
{
    if (axis < -(int64_t)rank || axis >= rank)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "axis %lld is out of range for rank %d", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return NT_OK;
}

nt_status nt_mv_read_ints(const nt_kernel_ctx *ctx, int i, int64_t *vals, int64_t max, int64_t *n)
{
    const nt_tensor *t = nt_ctx_in(ctx, i);
    if (!t) {
        *n = 0;
        return NT_OK;
    }
    if (t->ndim > 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d must be 1-D, got rank %d", i, t->ndim);
    if (t->dtype != NT_DTYPE_INT64 && t->dtype != NT_DTYPE_INT32)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input %d must be int32 or int64, got %s", i,
                            nt_dtype_name(t->dtype));
    int64_t cnt = nt_tensor_numel(t);
    if (cnt < 0 || cnt > max)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input %d has %lld values, at most %lld supported", i,
                            (long long)cnt, (long long)max);
    if (cnt > 0 && !t->data)
        return nt_ctx_error(ctx, NT_ERR_INTERNAL, "input %d has no data", i);
    if (nt_tensor_read_ints(t, vals, max) < 0)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d: %s", i, nt_last_error());
    *n = cnt;
    return NT_OK;
}

nt_status nt_mv_need(const nt_kernel_ctx *ctx, int n)
{
    if (!nt_ctx_out(ctx, 0))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "output 0 is missing");
    for (int i = 0; i < n; i++)
        if (!nt_ctx_in(ctx, i))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "required input %d is missing", i);
    return NT_OK;
}

nt_status nt_mv_set_output(nt_kernel_ctx *ctx, int i, nt_dtype dtype, int ndim, const int64_t *dims)
{
    int64_t n = 1;
    size_t es = nt_dtype_size(dtype) ? nt_dtype_size(dtype) : 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 0)
            continue;
        if (__builtin_mul_overflow(n, dims[d], &n) || n > (INT64_C(1) << 62) / (int64_t)es)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "output %d would have too many elements", i);
    }
    return nt_ctx_set_output(ctx, i, dtype, ndim, dims);
}

void nt_mv_unknown(nt_kernel_ctx *ctx, int i, nt_dtype dtype)
{
    nt_tensor *t = nt_ctx_out(ctx, i);
    if (t) {
        t->dtype = dtype;
        t->ndim = -1;
    }
}

void nt_mv_all_unknown(nt_kernel_ctx *ctx, nt_dtype dtype)
{
    for (int i = 0; i < ctx->n_out; i++)
        nt_mv_unknown(ctx, i, dtype);
}

int64_t nt_mv_prod(const int64_t *dims, int from, int to)
{
    int64_t p = 1;
    for (int d = from; d < to; d++) {
        if (dims[d] < 0)
            return -1;
        p *= dims[d];
    }
    return p;
}

void nt_mv_strides(int ndim, const int64_t *dims, int64_t *strides)
{
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        strides[d] = s;
        s *= dims[d];
    }
}

void nt_mv_copy_all(const nt_tensor *in, nt_tensor *out)
{
    size_t n = nt_tensor_nbytes(out);
    if (n && in->data != out->data)
        memcpy(out->data, in->data, n);
}

void nt_mv_scalar(nt_dtype t, double v, void *buf)
{
    nt_tensor tmp;
    memset(&tmp, 0, sizeof tmp);
    memset(buf, 0, 16);
    tmp.dtype = t;
    tmp.ndim = 0;
    tmp.data = buf;
    tmp.capacity = 16;
    nt_tensor_set_f64(&tmp, 0, v);
}

/* ---------------------------------------------------------------- offset map */

nt_status nt_mv_map_init(nt_mv_map *m, int ndim, const int64_t *dims)
{
    memset(m, 0, sizeof *m);
    int64_t total = 0;
    m->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        /* An empty tensor may still have a huge dim ([0, 2^60]): bound the sum
         * so the offsets below stay inside the allocation. */
        if (dims[d] < 0 || dims[d] > ((int64_t)1 << 40) - total)
            return nt_error(NT_ERR_SHAPE, "dimension %lld is out of range", (long long)dims[d]);
        m->dims[d] = dims[d];
        total += dims[d];
    }
    m->store = nt_malloc((size_t)(total + 1) * sizeof(int64_t));
    if (!m->store)
        return NT_ERR_NOMEM;
    int64_t at = 0;
    for (int d = 0; d < ndim; d++) {
        m->off[d] = m->store + at;
        at += dims[d];
    }
    return NT_OK;
}

void nt_mv_map_deinit(nt_mv_map *m)
{
    free(m->store);
    m->store = NULL;
}

/* One element of es bytes; constant sizes become single loads/stores. */
static inline void copy_elem(char *dst, const char *src, size_t es)
{
    switch (es) {
    case 1: *dst = *src; break;
    case 2: memcpy(dst, src, 2); break;
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    default: memcpy(dst, src, es); break;
    }
}

static void fill_elems(char *dst, int64_t n, const void *fill, size_t es)
{
    for (int64_t k = 0; k < n; k++)
        copy_elem(dst + k * (int64_t)es, fill, es);
}

void nt_mv_map_run(const nt_mv_map *m, const void *src, void *dst, size_t es, const void *fill)
{
    static const char zeros[16];
    static const int64_t zero_off[1] = {0};
    if (!fill)
        fill = zeros;
    int nd = m->ndim;
    for (int d = 0; d < nd; d++)
        if (m->dims[d] == 0)
            return;
    int64_t inner = nd ? m->dims[nd - 1] : 1;
    const int64_t *ioff = nd ? m->off[nd - 1] : zero_off;
    const char *s = src;
    char *o = dst;
    int64_t idx[NT_MAX_DIMS] = {0};
    int64_t rowbytes = inner * (int64_t)es;
    for (;;) {
        /* source base of this row and whether an outer index is fill */
        int64_t base = 0;
        bool fill_row = false;
        for (int d = 0; d < nd - 1; d++) {
            int64_t v = m->off[d][idx[d]];
            if (v == NT_MV_FILL)
                fill_row = true;
            else
                base += v;
        }
        if (fill_row) {
            fill_elems(o, inner, fill, es);
        } else {
            int64_t i = 0;
            while (i < inner) {
                int64_t v = ioff[i];
                if (v == NT_MV_FILL) {
                    copy_elem(o + i * (int64_t)es, fill, es);
                    i++;
                    continue;
                }
                /* extend a contiguous run of source elements */
                int64_t j = i + 1;
                while (j < inner && ioff[j] == v + (j - i) * (int64_t)es)
                    j++;
                if (j - i == 1)
                    copy_elem(o + i * (int64_t)es, s + base + v, es);
                else
                    memcpy(o + i * (int64_t)es, s + base + v, (size_t)(j - i) * es);
                i = j;
            }
        }
        o += rowbytes;
        int d = nd - 2;
        for (; d >= 0; d--) {
            if (++idx[d] < m->dims[d])
                break;
            idx[d] = 0;
        }
        if (d < 0)
            break;
    }
}

/* ---------------------------------------------------------------- transpose */

/* dst (cols x rows) = transpose of src (rows x cols), in 32x32 tiles so both
 * sides stay in cache. */
#define NT_MV_T2D(NAME, T)                                                               \
    static void NAME(const T *src, T *dst, int64_t rows, int64_t cols)                   \
    {                                                                                    \
        for (int64_t r0 = 0; r0 < rows; r0 += 32)                                        \
            for (int64_t c0 = 0; c0 < cols; c0 += 32) {                                  \
                int64_t r1 = r0 + 32 < rows ? r0 + 32 : rows;                            \
                int64_t c1 = c0 + 32 < cols ? c0 + 32 : cols;                            \
                for (int64_t r = r0; r < r1; r++)                                        \
                    for (int64_t c = c0; c < c1; c++)                                    \
                        dst[c * rows + r] = src[r * cols + c];                           \
            }                                                                            \
    }
NT_MV_T2D(t2d_u8, uint8_t)
NT_MV_T2D(t2d_u16, uint16_t)
NT_MV_T2D(t2d_u32, uint32_t)
NT_MV_T2D(t2d_u64, uint64_t)

static bool transpose_2d(const void *src, void *dst, size_t es, int64_t rows, int64_t cols)
{
    switch (es) {
    case 1: t2d_u8(src, dst, rows, cols); return true;
    case 2: t2d_u16(src, dst, rows, cols); return true;
    case 4: t2d_u32(src, dst, rows, cols); return true;
    case 8: t2d_u64(src, dst, rows, cols); return true;
    default: return false;
    }
}

nt_status nt_mv_transpose(const void *src, void *dst, size_t es, int ndim, const int64_t *dims, const int *perm)
{
    int64_t total = nt_mv_prod(dims, 0, ndim);
    if (total <= 0)
        return NT_OK;
    /* Reduce: drop size-1 dims, then merge input dims that stay adjacent in
     * the same order (perm[k+1] == perm[k] + 1 after dropping). */
    int keep_map[NT_MAX_DIMS], nkeep = 0;
    int64_t kd[NT_MAX_DIMS];
    for (int d = 0; d < ndim; d++) {
        keep_map[d] = -1;
        if (dims[d] != 1) {
            keep_map[d] = nkeep;
            kd[nkeep++] = dims[d];
        }
    }
    int kp[NT_MAX_DIMS], nkp = 0;
    for (int k = 0; k < ndim; k++)
        if (keep_map[perm[k]] >= 0)
            kp[nkp++] = keep_map[perm[k]];
    /* merge runs of consecutive input dims in kp */
    int group_of[NT_MAX_DIMS];   /* input dim -> merged group id (in input order) */
    int64_t md[NT_MAX_DIMS];
    int mp[NT_MAX_DIMS], nm = 0;
    for (int k = 0; k < nkp; k++) {
        if (k > 0 && kp[k] == kp[k - 1] + 1) {
            group_of[kp[k]] = group_of[kp[k - 1]];
            continue;
        }
        group_of[kp[k]] = nm;
        mp[nm++] = kp[k];   /* temporarily: first input dim of the group */
    }
    /* groups in input order: sort group heads by input dim */
    int order_in[NT_MAX_DIMS], ng = 0;
    for (int d = 0; d < nkeep; d++)
        if (d == 0 || group_of[d] != group_of[d - 1])
            order_in[ng++] = group_of[d];
    int rank_of_group[NT_MAX_DIMS];
    for (int g = 0; g < ng; g++)
        rank_of_group[order_in[g]] = g;
    for (int g = 0; g < ng; g++)
        md[g] = 1;
    for (int d = 0; d < nkeep; d++)
        md[rank_of_group[group_of[d]]] *= kd[d];
    int mperm[NT_MAX_DIMS];
    for (int k = 0; k < nm; k++)
        mperm[k] = rank_of_group[group_of[mp[k]]];

    if (nm <= 1) {
        memcpy(dst, src, (size_t)total * es);
        return NT_OK;
    }
    if (nm == 2 && transpose_2d(src, dst, es, md[0], md[1]))
        return NT_OK;
    if (nm == 3 && mperm[0] == 0 && mperm[1] == 2 && mperm[2] == 1 && es <= 8 && (es & (es - 1)) == 0) {
        int64_t plane = md[1] * md[2] * (int64_t)es;
        for (int64_t b = 0; b < md[0]; b++)
            transpose_2d((const char *)src + b * plane, (char *)dst + b * plane, es, md[1], md[2]);
        return NT_OK;
    }
    int64_t st[NT_MAX_DIMS], od[NT_MAX_DIMS];
    nt_mv_strides(nm, md, st);
    for (int k = 0; k < nm; k++)
        od[k] = md[mperm[k]];
    nt_mv_map m;
    if (nt_mv_map_init(&m, nm, od) != NT_OK)
        return NT_ERR_NOMEM;
    for (int k = 0; k < nm; k++)
        for (int64_t i = 0; i < od[k]; i++)
            m.off[k][i] = i * st[mperm[k]] * (int64_t)es;
    nt_mv_map_run(&m, src, dst, es, NULL);
    nt_mv_map_deinit(&m);
    return NT_OK;
}
