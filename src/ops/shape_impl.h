/*
 * shape_impl.h — internals shared by the "shape" and "index" operator
 * families (shape*.c, index*.c): dtype-generic data movement and the kernel
 * functions that shape.c and index.c gather into their op tables.
 *
 * These ops never look at element values (except where noted: Range, EyeLike,
 * TopK, Unique, the Scatter reductions, NonZero), so they work on every dtype
 * with a fixed element size by moving bytes.  Strings and sub-byte types are
 * declined with NT_ERR_UNSUPPORTED.
 *
 * The workhorse is the "offset map" copy (nt_mv_map): for each output dim d
 * and each output index i along it, off[d][i] is the byte offset that index
 * contributes to the source address, or NT_MV_FILL for "this element is the
 * fill value".  Transpose, Slice, Pad (all modes), Tile, Expand, CenterCropPad,
 * DepthToSpace and SpaceToDepth are all such maps; contiguous runs along the
 * innermost dim are copied with memcpy.
 */
#ifndef NT_SHAPE_IMPL_H
#define NT_SHAPE_IMPL_H

#include "ops/kernel.h"

#define NT_MV_FILL INT64_MIN

/* Bytes per element for dtypes these ops can move, 0 for the rest. */
size_t nt_mv_size(nt_dtype t);
/* NT_OK when dtype can be moved (or is UNDEFINED in static mode, i.e. not
 * known yet); NT_ERR_UNSUPPORTED naming `what` otherwise. */
nt_status nt_mv_check(const nt_kernel_ctx *ctx, nt_dtype t, const char *what);
/* Normalizes axis in [-rank, rank) into *out; NT_ERR_SHAPE otherwise. */
nt_status nt_mv_axis(const nt_kernel_ctx *ctx, int64_t axis, int rank, int *out);
/* Reads input i (int32/int64, 1-D or scalar) into vals (at most max) and its
 * count into *n, with errors naming the node.  Input must have data. */
nt_status nt_mv_read_ints(const nt_kernel_ctx *ctx, int i, int64_t *vals, int64_t max, int64_t *n);
/* NT_OK when inputs 0..n-1 are present (a model may omit required ones). */
nt_status nt_mv_need(const nt_kernel_ctx *ctx, int n);
/* nt_ctx_set_output after checking that the element count of the known
 * dims fits (a few bytes of shape data must not describe 2^70 elements
 * whose byte count wraps around to something small). */
nt_status nt_mv_set_output(nt_kernel_ctx *ctx, int i, nt_dtype dtype, int ndim, const int64_t *dims);
/* Output i gets dtype and unknown rank (static inference could not tell). */
void nt_mv_unknown(nt_kernel_ctx *ctx, int i, nt_dtype dtype);
/* Marks every present output unknown with the given dtype. */
void nt_mv_all_unknown(nt_kernel_ctx *ctx, nt_dtype dtype);
/* Product of dims[from..to), -1 if any is unknown (< 0). */
int64_t nt_mv_prod(const int64_t *dims, int from, int to);
/* Row-major element strides of a shape. */
void nt_mv_strides(int ndim, const int64_t *dims, int64_t *strides);
/* Copies input `in` to output `out` (same byte count), a no-op when empty. */
void nt_mv_copy_all(const nt_tensor *in, nt_tensor *out);
/* The value v converted to dtype t in buf (at least 16 bytes). */
void nt_mv_scalar(nt_dtype t, double v, void *buf);

/* Element i of an int32/int64 index tensor (the caller checked the dtype). */
static inline int64_t nt_ix_get(const nt_tensor *t, int64_t i)
{
    return t->dtype == NT_DTYPE_INT64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}
/* NT_OK when t is an int32/int64 index tensor (or not known yet in static mode). */
nt_status nt_ix_check(const nt_kernel_ctx *ctx, const nt_tensor *t, const char *what);

/* ---- offset-map copy */
typedef struct nt_mv_map {
    int ndim;
    int64_t dims[NT_MAX_DIMS];
    int64_t *off[NT_MAX_DIMS];   /* off[d] has dims[d] entries (bytes or NT_MV_FILL) */
    int64_t *store;              /* one allocation backing all off[] */
} nt_mv_map;

/* Allocates the tables for an output of the given shape (entries unset). */
nt_status nt_mv_map_init(nt_mv_map *m, int ndim, const int64_t *dims);
void nt_mv_map_deinit(nt_mv_map *m);
/* dst[i0..in] = src + sum_d off[d][i_d], or fill (es bytes) if any is FILL. */
void nt_mv_map_run(const nt_mv_map *m, const void *src, void *dst, size_t es, const void *fill);
/* Transposes src of shape dims (ndim) by perm into dst (es-byte elements):
 * dst dims are dims[perm[k]].  Merges dims that stay adjacent and uses a
 * blocked 2-D transpose for the common (batched) 2-D case. */
nt_status nt_mv_transpose(const void *src, void *dst, size_t es, int ndim, const int64_t *dims, const int *perm);

/* ---- kernel functions (shape family) */
#define NT_MV_DECL(name)                                  \
    nt_status nt_shape_##name##_infer(nt_kernel_ctx *ctx); \
    nt_status nt_shape_##name##_compute(nt_kernel_ctx *ctx);
NT_MV_DECL(shape)
NT_MV_DECL(size)
NT_MV_DECL(reshape)
NT_MV_DECL(flatten)
NT_MV_DECL(squeeze)
NT_MV_DECL(unsqueeze)
NT_MV_DECL(identity)
NT_MV_DECL(concat)
NT_MV_DECL(split)
NT_MV_DECL(tile)
NT_MV_DECL(expand)
NT_MV_DECL(transpose)
NT_MV_DECL(depthtospace)
NT_MV_DECL(spacetodepth)
NT_MV_DECL(slice)
NT_MV_DECL(pad)
NT_MV_DECL(centercroppad)
NT_MV_DECL(constant)
NT_MV_DECL(constantofshape)
NT_MV_DECL(range)
NT_MV_DECL(eyelike)
NT_MV_DECL(trilu)
NT_MV_DECL(dropout)
NT_MV_DECL(col2im)

/* ---- kernel functions (index family) */
#define NT_IX_DECL(name)                                  \
    nt_status nt_index_##name##_infer(nt_kernel_ctx *ctx); \
    nt_status nt_index_##name##_compute(nt_kernel_ctx *ctx);
NT_IX_DECL(gather)
NT_IX_DECL(gatherelements)
NT_IX_DECL(gathernd)
NT_IX_DECL(scatterelements)
NT_IX_DECL(scatternd)
NT_IX_DECL(tensorscatter)
NT_IX_DECL(topk)
NT_IX_DECL(nonzero)
NT_IX_DECL(onehot)
NT_IX_DECL(compress)
NT_IX_DECL(unique)
NT_IX_DECL(reversesequence)

#endif /* NT_SHAPE_IMPL_H */
