/*
 * dbg_slice.h — numpy-style indexing for the debugger's `print`, `stats`,
 * `hist`, `dump` and `set`: parsing "[0, 1:3, ::-1, ..., -1]" and applying
 * it to a tensor as a strided view (no copy), then reading, filling or
 * copying out the view's elements.
 *
 * Semantics follow numpy basic indexing: an integer (negative counts from
 * the end) drops its axis and must be in range; start:stop:step slices are
 * clamped to the axis like Python's; one "..." stands for as many ":" as
 * needed; fewer indices than axes leave the rest whole.
 */
#ifndef NT_DBG_SLICE_H
#define NT_DBG_SLICE_H

#include "core/core.h"

typedef enum nt_dbg_index_kind {
    NT_DBG_INDEX_INT,        /* i */
    NT_DBG_INDEX_RANGE,      /* start:stop:step, each part optional */
    NT_DBG_INDEX_ELLIPSIS    /* ... */
} nt_dbg_index_kind;

typedef struct nt_dbg_index {
    nt_dbg_index_kind kind;
    int64_t start, stop, step;     /* INT: start is the index */
    bool has_start, has_stop;      /* RANGE: which bounds were written */
} nt_dbg_index;

#define NT_DBG_MAX_INDICES (NT_MAX_DIMS + 1)

typedef struct nt_dbg_slice {
    int n;                         /* 0: the whole tensor */
    nt_dbg_index idx[NT_DBG_MAX_INDICES];
} nt_dbg_slice;

/* A strided view of a tensor, in elements. */
typedef struct nt_dbg_view {
    int ndim;
    int64_t dims[NT_MAX_DIMS];
    int64_t strides[NT_MAX_DIMS];
    int64_t offset;
} nt_dbg_view;

/* Parses "[...]" (brackets included, white space allowed); "" is the whole
 * tensor.  NT_ERR_INVALID_ARG with a message on a syntax error. */
nt_status nt_dbg_slice_parse(const char *text, nt_dbg_slice *out);
/* True if every index is an integer (one element of a tensor of that rank). */
bool nt_dbg_slice_is_element(const nt_dbg_slice *s);

/* The view of t that s selects; NT_ERR_INVALID_ARG naming the axis when an
 * index is out of range or there are too many indices. */
nt_status nt_dbg_view_make(const nt_tensor *t, const nt_dbg_slice *s, nt_dbg_view *out);
/* The whole tensor as a view. */
void nt_dbg_view_whole(const nt_tensor *t, nt_dbg_view *out);
int64_t nt_dbg_view_numel(const nt_dbg_view *v);
/* The flat (row-major) index into the tensor of the view's element i. */
int64_t nt_dbg_view_flat(const nt_dbg_view *v, int64_t i);
/* A new owned tensor holding the view's elements (same dtype).  Needs a
 * dtype with a whole-byte element size unless the view is the whole tensor. */
nt_status nt_dbg_view_copy(const nt_tensor *t, const nt_dbg_view *v, nt_tensor **out);
/* Stores x into every element of the view, after checking x fits the dtype
 * (NaN/Inf only into floating types, integers in range, bools 0/1):
 * NT_ERR_INVALID_ARG with a message otherwise, and nothing is written. */
nt_status nt_dbg_view_fill(nt_tensor *t, const nt_dbg_view *v, double x);

#endif /* NT_DBG_SLICE_H */
