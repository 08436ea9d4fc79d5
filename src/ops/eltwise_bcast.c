/*
 * eltwise_bcast.c — numpy-style broadcasting for the element-wise kernels:
 * building an iteration plan (drop size-1 output dims, merge dims that every
 * input walks alike) and running an inner loop over it, split across the
 * session's threads when the output is large.
 *
 * A run of the inner loop covers consecutive elements of the innermost
 * merged dim, where each input's step is 0 (broadcast) or 1 (contiguous);
 * the outer dims are walked with a counter and per-input offsets that are
 * updated incrementally, never recomputed by division per element.
 */
#include "ops/elementwise_common.h"

#include <string.h>

/* Outputs smaller than this run inline: a thread hand-off costs more. */
#define EW_MIN_CHUNK 32768

nt_status nt_ew_plan_init(nt_ew_plan *p, int n_in, const nt_tensor *const *in, const nt_tensor *out)
{
    NT_ASSERT(n_in >= 1 && n_in <= NT_EW_MAX_IN);
    memset(p, 0, sizeof *p);
    p->n_in = n_in;
    p->out_size = nt_dtype_size(out->dtype);
    int on = out->ndim;
    int64_t full[NT_EW_MAX_IN][NT_MAX_DIMS];
    for (int k = 0; k < n_in; k++) {
        const nt_tensor *t = in[k];
        p->in_size[k] = nt_dtype_size(t->dtype);
        if (t->ndim > on)
            return nt_error(NT_ERR_SHAPE, "input %d of rank %d does not broadcast to rank %d", k, t->ndim, on);
        /* contiguous strides of the input, right-aligned to the output */
        int64_t s = 1;
        for (int d = on - 1; d >= 0; d--) {
            int id = d - (on - t->ndim);
            int64_t dim = id >= 0 ? t->dims[id] : 1;
            if (dim != out->dims[d] && dim != 1)
                return nt_error(NT_ERR_SHAPE, "input %d dimension %d is %lld, output has %lld", k, id,
                                (long long)dim, (long long)out->dims[d]);
            full[k][d] = dim == 1 ? 0 : s;
            s *= dim;
        }
    }
    /* keep output dims > 1 (a size-0 dim is kept: total becomes 0) */
    int nd = 0;
    p->total = 1;
    for (int d = 0; d < on; d++) {
        p->total *= out->dims[d];
        if (out->dims[d] == 1)
            continue;
        p->dims[nd] = out->dims[d];
        for (int k = 0; k < n_in; k++)
            p->strides[k][nd] = full[k][d];
        nd++;
    }
    if (nd == 0) {
        p->ndim = 1;
        p->dims[0] = 1;
        for (int k = 0; k < n_in; k++)
            p->strides[k][0] = 0;
        return NT_OK;
    }
    /* merge dim d into d+1 when each input's stride at d equals its stride at
     * d+1 times dims[d+1] (contiguous-contiguous or broadcast-broadcast) */
    int w = nd - 1;
    for (int d = nd - 2; d >= 0; d--) {
        bool merge = true;
        for (int k = 0; k < n_in && merge; k++)
            merge = p->strides[k][d] == p->strides[k][w] * p->dims[w];
        if (merge) {
            p->dims[w] *= p->dims[d];
        } else {
            w--;
            p->dims[w] = p->dims[d];
            for (int k = 0; k < n_in; k++)
                p->strides[k][w] = p->strides[k][d];
        }
    }
    /* shift the kept dims [w, nd) down to [0, nd - w) */
    p->ndim = nd - w;
    for (int d = 0; d < p->ndim; d++) {
        p->dims[d] = p->dims[d + w];
        for (int k = 0; k < n_in; k++)
            p->strides[k][d] = p->strides[k][d + w];
    }
    return NT_OK;
}

typedef struct ew_job {
    const nt_ew_plan *p;
    nt_ew_fn fn;
    char *out;
    const char *in[NT_EW_MAX_IN];
    const nt_ew_params *par;
} ew_job;

/* Runs output elements [begin, end) of the job. */
static void ew_range(void *arg, int64_t begin, int64_t end)
{
    const ew_job *j = arg;
    const nt_ew_plan *p = j->p;
    int nd = p->ndim, nk = p->n_in;
    int64_t c[NT_MAX_DIMS], off[NT_EW_MAX_IN] = {0}, step[NT_EW_MAX_IN];
    int64_t idx = begin;
    for (int d = nd - 1; d >= 0; d--) {
        c[d] = idx % p->dims[d];
        idx /= p->dims[d];
        for (int k = 0; k < nk; k++)
            off[k] += c[d] * p->strides[k][d];
    }
    for (int k = 0; k < nk; k++)
        step[k] = p->strides[k][nd - 1];
    int64_t inner = p->dims[nd - 1];
    int64_t pos = begin;
    while (pos < end) {
        int64_t len = inner - c[nd - 1];
        if (len > end - pos)
            len = end - pos;
        const void *ip[NT_EW_MAX_IN];
        for (int k = 0; k < nk; k++)
            ip[k] = j->in[k] + (size_t)off[k] * p->in_size[k];
        j->fn(j->out + (size_t)pos * p->out_size, ip, step, len, j->par);
        pos += len;
        c[nd - 1] += len;
        for (int k = 0; k < nk; k++)
            off[k] += len * step[k];
        if (c[nd - 1] < inner)
            break; /* only happens at end */
        c[nd - 1] = 0;
        for (int k = 0; k < nk; k++)
            off[k] -= inner * step[k];
        for (int d = nd - 2; d >= 0; d--) {
            c[d]++;
            for (int k = 0; k < nk; k++)
                off[k] += p->strides[k][d];
            if (c[d] < p->dims[d])
                break;
            c[d] = 0;
            for (int k = 0; k < nk; k++)
                off[k] -= p->dims[d] * p->strides[k][d];
        }
    }
}

void nt_ew_run(nt_exec *exec, const nt_ew_plan *p, nt_ew_fn fn, void *out, const void *const *in,
               const nt_ew_params *par)
{
    if (p->total <= 0)
        return;
    ew_job j = {p, fn, out, {NULL}, par};
    for (int k = 0; k < p->n_in; k++)
        j.in[k] = in[k];
    if (!exec || p->total < 2 * EW_MIN_CHUNK)
        ew_range(&j, 0, p->total);
    else
        nt_parallel_for(exec, p->total, EW_MIN_CHUNK, ew_range, &j);
}

nt_status nt_ew_broadcast_n(nt_kernel_ctx *ctx, int first, int count, int *ndim, int64_t *dims,
                            bool *rank_unknown)
{
    *rank_unknown = false;
    *ndim = 0;
    for (int k = first; k < first + count; k++) {
        const nt_tensor *t = nt_ctx_in(ctx, k);
        if (!t)
            continue;
        if (t->ndim < 0) {
            *rank_unknown = true;
            continue;
        }
        int64_t tmp[NT_MAX_DIMS];
        int n = 0;
        nt_status s = nt_broadcast_shape(*ndim, dims, t->ndim, t->dims, &n, tmp);
        if (s != NT_OK)
            return nt_ctx_error(ctx, s, "%s", nt_last_error());
        *ndim = n;
        memcpy(dims, tmp, sizeof(int64_t) * (size_t)n);
    }
    return NT_OK;
}

bool nt_ew_dtype_plain(nt_dtype t)
{
    return nt_dtype_is_numeric(t);
}
