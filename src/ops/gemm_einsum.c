/*
 * gemm_einsum.c — Einsum: parse the equation once per node, resolve labels
 * against the input shapes (ellipsis, broadcasting, repeated labels for
 * diagonals, implicit and explicit output), then evaluate.
 *
 * Evaluation has two paths:
 *   - two operands whose labels split cleanly into batch (in A, B and Y),
 *     m (A and Y), n (B and Y) and k (A and B only) labels, each appearing at
 *     most once per operand: permute A to (batch, m, k) and B to (batch, k, n)
 *     when they are not already laid out so, one GEMM per batch (float32 and
 *     float64), and permute the result into Y's label order;
 *   - everything else: a generic loop over output elements and, inside, over
 *     the contracted labels, with per-operand strides (a label repeated in one
 *     operand sums its strides, which walks the diagonal).
 * Sums are accumulated in double for floating types.
 */
#include "ops/gemm_util.h"

#include <stdlib.h>
#include <string.h>

#define EIN_MAX_IN 16
#define EIN_LETTERS 52
#define EIN_MAX_LABELS (EIN_LETTERS + NT_MAX_DIMS)
#define EIN_ELL (-1)

typedef struct ein_term {
    int n;                       /* entries in lab */
    int lab[NT_MAX_DIMS + 1];    /* letter ids, EIN_ELL for "..." */
    bool has_ell;
} ein_term;

typedef struct ein_state {
    int n_in;
    ein_term in[EIN_MAX_IN];
    ein_term out;
    bool explicit_out;
    nt_scratch pa, pb, py;       /* fast path buffers */
} ein_state;

/* a-z → 0..25, A-Z → 26..51, -1 otherwise. */
static int letter_id(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return 26 + (c - 'A');
    return -1;
}

static nt_status parse_term(const nt_node *node, const char *s, size_t len, ein_term *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == ' ')
            continue;
        int id;
        if (c == '.') {
            if (i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.' || t->has_ell)
                goto bad;
            i += 2;
            t->has_ell = true;
            id = EIN_ELL;
        } else if ((id = letter_id(c)) < 0) {
            goto bad;
        }
        if (t->n >= NT_MAX_DIMS + 1)
            return nt_error(NT_ERR_UNSUPPORTED, "node '%s' (Einsum): a term has more than %d subscripts",
                            node->name, NT_MAX_DIMS);
        t->lab[t->n++] = id;
    }
    return NT_OK;
bad:
    return nt_error(NT_ERR_PARSE, "node '%s' (Einsum): bad subscripts '%.*s'", node->name, (int)len, s);
}

nt_status nt_einsum_prepare(const nt_node *node, int opset, void **state)
{
    *state = NULL;
    const char *eq = nt_node_attr_string(node, "equation", NULL);
    if (!eq)
        return nt_error(NT_ERR_PARSE, "node '%s' (Einsum): attribute equation is required", node->name);
    ein_state *st = nt_calloc(1, sizeof *st);
    if (!st)
        return NT_ERR_NOMEM;
    const char *arrow = strstr(eq, "->");
    size_t lhs_len = arrow ? (size_t)(arrow - eq) : strlen(eq);
    nt_status s = NT_OK;
    const char *p = eq, *end = eq + lhs_len;
    while (s == NT_OK) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end;
        if (st->n_in >= EIN_MAX_IN) {
            s = nt_error(NT_ERR_UNSUPPORTED, "node '%s' (Einsum): more than %d operands", node->name, EIN_MAX_IN);
            break;
        }
        s = parse_term(node, p, (size_t)(stop - p), &st->in[st->n_in++]);
        if (!comma)
            break;
        p = comma + 1;
    }
    if (s == NT_OK && arrow) {
        st->explicit_out = true;
        s = parse_term(node, arrow + 2, strlen(arrow + 2), &st->out);
        for (int i = 0; s == NT_OK && i < st->out.n; i++)
            for (int j = 0; j < i; j++)
                if (st->out.lab[i] == st->out.lab[j]) {
                    s = nt_error(NT_ERR_PARSE, "node '%s' (Einsum): output subscript repeated in '%s'", node->name,
                                 eq);
                    break;
                }
    }
    if (s != NT_OK) {
        free(st);
        return s;
    }
    *state = st;
    return NT_OK;
}

void nt_einsum_release(void *state)
{
    ein_state *st = state;
    if (!st)
        return;
    nt_scratch_free(&st->pa);
    nt_scratch_free(&st->pb);
    nt_scratch_free(&st->py);
    free(st);
}

/* ------------------------------------------------------------ resolution */

/* Labels resolved for concrete shapes.  Loop labels 0..nout-1 are Y's axes
 * in order; the rest are contracted. */
typedef struct ein_plan {
    int nl, nout;
    int id[EIN_MAX_LABELS];                   /* global label of each loop label */
    int64_t size[EIN_MAX_LABELS];
    int64_t stride[EIN_MAX_IN][EIN_MAX_LABELS];
    int cnt[EIN_MAX_IN][EIN_MAX_LABELS];      /* occurrences of the loop label in operand i */
    int ax_label[EIN_MAX_IN][NT_MAX_DIMS];    /* operand axis → loop label */
} ein_plan;

static nt_status ein_resolve(const nt_kernel_ctx *ctx, const ein_state *st, ein_plan *pl)
{
    memset(pl, 0, sizeof *pl);
    if (ctx->n_in != st->n_in)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "the equation names %d operands but the node has %d inputs",
                            st->n_in, ctx->n_in);
    /* Global ids: letters 0..51, ellipsis dims 52.. right-aligned. */
    int gl[EIN_MAX_IN][NT_MAX_DIMS];
    int E = 0, ecount[EIN_MAX_IN];
    for (int i = 0; i < st->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (!t)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "operand %d is missing", i);
        const ein_term *tm = &st->in[i];
        int letters = tm->n - (tm->has_ell ? 1 : 0);
        ecount[i] = t->ndim - letters;
        if ((!tm->has_ell && ecount[i] != 0) || ecount[i] < 0)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "operand %d has rank %d but its term has %d subscripts", i,
                                t->ndim, letters);
        if (ecount[i] > E)
            E = ecount[i];
    }
    int64_t gsize[EIN_MAX_LABELS];
    int occur[EIN_MAX_LABELS] = {0};
    for (int l = 0; l < EIN_MAX_LABELS; l++)
        gsize[l] = -2;
    for (int i = 0; i < st->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        const ein_term *tm = &st->in[i];
        int ax = 0;
        for (int k = 0; k < tm->n; k++) {
            if (tm->lab[k] == EIN_ELL) {
                for (int e = 0; e < ecount[i]; e++)
                    gl[i][ax++] = EIN_LETTERS + (E - ecount[i]) + e;
            } else {
                gl[i][ax++] = tm->lab[k];
            }
        }
        for (ax = 0; ax < t->ndim; ax++) {
            int l = gl[i][ax];
            int64_t d = t->dims[ax];
            occur[l]++;
            if (gsize[l] == -2 || gsize[l] == d)
                gsize[l] = d;
            else if (l >= EIN_LETTERS && (gsize[l] == 1 || d == 1))
                gsize[l] = gsize[l] == 1 ? d : gsize[l];
            else
                return nt_ctx_error(ctx, NT_ERR_SHAPE, "subscript sizes disagree: %lld vs %lld (operand %d axis %d)",
                                    (long long)gsize[l], (long long)d, i, ax);
        }
    }
    /* Output labels. */
    int out[EIN_MAX_LABELS], nout = 0;
    if (st->explicit_out) {
        for (int k = 0; k < st->out.n; k++) {
            if (st->out.lab[k] == EIN_ELL) {
                for (int e = 0; e < E; e++)
                    out[nout++] = EIN_LETTERS + e;
            } else {
                if (gsize[st->out.lab[k]] == -2)
                    return nt_ctx_error(ctx, NT_ERR_SHAPE, "output subscript '%c' is not in any operand",
                                        st->out.lab[k] < 26 ? 'a' + st->out.lab[k] : 'A' + st->out.lab[k] - 26);
                out[nout++] = st->out.lab[k];
            }
        }
    } else {
        for (int e = 0; e < E; e++)
            out[nout++] = EIN_LETTERS + e;
        for (int r = 0; r < EIN_LETTERS; r++) {
            int id = r < 26 ? r + 26 : r - 26; /* ascending character code: A-Z, then a-z (numpy) */
            if (occur[id] == 1)
                out[nout++] = id;
        }
    }
    if (nout > NT_MAX_DIMS)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "output rank %d exceeds %d", nout, NT_MAX_DIMS);
    int loop_of[EIN_MAX_LABELS];
    for (int l = 0; l < EIN_MAX_LABELS; l++)
        loop_of[l] = -1;
    for (int k = 0; k < nout; k++) {
        loop_of[out[k]] = pl->nl;
        pl->id[pl->nl] = out[k];
        pl->size[pl->nl++] = gsize[out[k]];
    }
    pl->nout = nout;
    for (int l = 0; l < EIN_MAX_LABELS; l++)
        if (gsize[l] != -2 && loop_of[l] < 0) {
            loop_of[l] = pl->nl;
            pl->id[pl->nl] = l;
            pl->size[pl->nl++] = gsize[l];
        }
    for (int i = 0; i < st->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        int64_t s = 1;
        for (int ax = t->ndim - 1; ax >= 0; ax--) {
            int L = loop_of[gl[i][ax]];
            pl->ax_label[i][ax] = L;
            pl->cnt[i][L]++;
            if (!(t->dims[ax] == 1 && pl->size[L] != 1))
                pl->stride[i][L] += s;
            s *= t->dims[ax] < 0 ? 1 : t->dims[ax];
        }
    }
    return NT_OK;
}

static bool ein_dtype_ok(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_INT32 || t == NT_DTYPE_INT64;
}

nt_status nt_einsum_infer(nt_kernel_ctx *ctx)
{
    const ein_state *st = ctx->state;
    nt_dtype dt = ctx->n_in > 0 && ctx->in[0] ? ctx->in[0]->dtype : NT_DTYPE_UNDEFINED;
    for (int i = 0; i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (!t)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "operand %d is missing", i);
        if (ctx->static_mode && t->dtype == NT_DTYPE_UNDEFINED)
            continue;
        if (!ein_dtype_ok(t->dtype))
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(t->dtype));
        if (dt == NT_DTYPE_UNDEFINED)
            dt = t->dtype;
        if (t->dtype != dt)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "operands mix %s and %s", nt_dtype_name(dt),
                                nt_dtype_name(t->dtype));
    }
    for (int i = 0; i < ctx->n_in; i++)
        if (ctx->in[i]->ndim < 0) {
            nt_ctx_set_output(ctx, 0, dt, 0, NULL);
            nt_ctx_outputs_unknown(ctx);
            return NT_OK;
        }
    ein_plan pl;
    nt_status s = ein_resolve(ctx, st, &pl);
    if (s != NT_OK)
        return s;
    int64_t dims[NT_MAX_DIMS];
    for (int k = 0; k < pl.nout; k++)
        dims[k] = pl.size[k];
    return nt_ctx_set_output(ctx, 0, dt, pl.nout, dims);
}

/* ------------------------------------------------------------ generic loop */

/* For each output element (odometer over the nout output labels), sums over
 * all contracted labels the product of the operands' elements. */
#define NT_DEFINE_EIN_GENERIC(NAME, T, ACC)                                                              \
    static void NAME(const ein_plan *pl, int n_in, const nt_tensor *const *in, T *y)                     \
    {                                                                                                    \
        const int nl = pl->nl, nout = pl->nout, last = nl - 1;                                           \
        int64_t total_out = 1, inner = 1;                                                                \
        for (int l = 0; l < nout; l++)                                                                   \
            total_out *= pl->size[l];                                                                    \
        for (int l = nout; l < nl; l++)                                                                  \
            inner *= pl->size[l];                                                                        \
        const T *x[EIN_MAX_IN];                                                                          \
        for (int i = 0; i < n_in; i++)                                                                   \
            x[i] = in[i]->data;                                                                          \
        int64_t idx[EIN_MAX_LABELS] = {0};                                                               \
        for (int64_t o = 0; o < total_out; o++) {                                                        \
            ACC sum = 0;                                                                                 \
            if (inner > 0) {                                                                             \
                for (int l = nout; l < nl; l++)                                                          \
                    idx[l] = 0;                                                                          \
                bool has_inner = nl > nout;                                                              \
                int64_t run = has_inner ? pl->size[last] : 1;                                            \
                for (;;) {                                                                               \
                    int64_t off[EIN_MAX_IN];                                                             \
                    for (int i = 0; i < n_in; i++) {                                                     \
                        off[i] = 0;                                                                      \
                        for (int l = 0; l < (has_inner ? last : nl); l++)                                \
                            off[i] += idx[l] * pl->stride[i][l];                                         \
                    }                                                                                    \
                    for (int64_t t = 0; t < run; t++) {                                                  \
                        ACC p = 1;                                                                       \
                        for (int i = 0; i < n_in; i++)                                                   \
                            p *= (ACC)x[i][off[i] + (has_inner ? t * pl->stride[i][last] : 0)];          \
                        sum += p;                                                                        \
                    }                                                                                    \
                    int l = last - 1;                                                                    \
                    for (; l >= nout; l--) {                                                             \
                        if (++idx[l] < pl->size[l])                                                      \
                            break;                                                                       \
                        idx[l] = 0;                                                                      \
                    }                                                                                    \
                    if (!has_inner || l < nout)                                                          \
                        break;                                                                           \
                }                                                                                        \
            }                                                                                            \
            y[o] = (T)sum;                                                                               \
            for (int l = nout - 1; l >= 0; l--) {                                                        \
                if (++idx[l] < pl->size[l])                                                              \
                    break;                                                                               \
                idx[l] = 0;                                                                              \
            }                                                                                            \
        }                                                                                                \
    }

NT_DEFINE_EIN_GENERIC(ein_generic_f32, float, double)
NT_DEFINE_EIN_GENERIC(ein_generic_f64, double, double)
NT_DEFINE_EIN_GENERIC(ein_generic_i32, int32_t, int64_t)
NT_DEFINE_EIN_GENERIC(ein_generic_i64, int64_t, int64_t)

/* ------------------------------------------------------------ GEMM fast path */

/* Copies a strided view (nd dims of sizes dims, source strides sstr, in
 * elements) into contiguous dst. */
#define NT_DEFINE_GATHER(NAME, T)                                                                  \
    static void NAME(const T *src, int nd, const int64_t *dims, const int64_t *sstr, T *dst)       \
    {                                                                                              \
        int64_t total = 1;                                                                         \
        for (int d = 0; d < nd; d++)                                                               \
            total *= dims[d];                                                                      \
        if (total == 0)                                                                            \
            return;                                                                                \
        int64_t idx[EIN_MAX_LABELS] = {0}, off = 0;                                                \
        int64_t run = nd > 0 ? dims[nd - 1] : 1, rs = nd > 0 ? sstr[nd - 1] : 0;                   \
        for (int64_t o = 0; o < total; o += run) {                                                 \
            for (int64_t t = 0; t < run; t++)                                                      \
                dst[o + t] = src[off + t * rs];                                                    \
            for (int d = nd - 2; d >= 0; d--) {                                                    \
                off += sstr[d];                                                                    \
                if (++idx[d] < dims[d])                                                            \
                    break;                                                                         \
                off -= sstr[d] * dims[d];                                                          \
                idx[d] = 0;                                                                        \
            }                                                                                      \
        }                                                                                          \
    }
NT_DEFINE_GATHER(gather_f32, float)
NT_DEFINE_GATHER(gather_f64, double)

typedef enum { EIN_BATCH, EIN_M, EIN_N, EIN_K } ein_role;

/* Tries the GEMM path for two float operands; returns false (nothing
 * written) when the labels do not fit it. */
static nt_status ein_try_gemm(nt_kernel_ctx *ctx, ein_state *st, const ein_plan *pl, bool *done)
{
    *done = false;
    if (ctx->n_in != 2)
        return NT_OK;
    const nt_tensor *A = ctx->in[0], *B = ctx->in[1];
    nt_dtype dt = A->dtype;
    if (dt != NT_DTYPE_FLOAT && dt != NT_DTYPE_DOUBLE)
        return NT_OK;
    /* Roles; every label at most once per operand, none broadcast. */
    ein_role role[EIN_MAX_LABELS];
    int64_t Bt = 1, M = 1, N = 1, K = 1;
    for (int l = 0; l < pl->nl; l++) {
        int ca = pl->cnt[0][l], cb = pl->cnt[1][l];
        bool iny = l < pl->nout;
        if (ca > 1 || cb > 1)
            return NT_OK;
        if ((ca && pl->stride[0][l] == 0 && pl->size[l] != 1) || (cb && pl->stride[1][l] == 0 && pl->size[l] != 1))
            return NT_OK;
        if (ca && cb)
            role[l] = iny ? EIN_BATCH : EIN_K;
        else if (ca && iny)
            role[l] = EIN_M;
        else if (cb && iny)
            role[l] = EIN_N;
        else
            return NT_OK; /* a label summed within one operand */
        int64_t *acc = role[l] == EIN_BATCH ? &Bt : role[l] == EIN_M ? &M : role[l] == EIN_N ? &N : &K;
        *acc *= pl->size[l];
    }
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return NT_OK;
    /* Gather order: A (batch, m, k), B (batch, k, n), Y computed as (batch, m, n). */
    int64_t adims[EIN_MAX_LABELS], astr[EIN_MAX_LABELS], bdims[EIN_MAX_LABELS], bstr[EIN_MAX_LABELS];
    int na = 0, nb = 0;
    const ein_role aorder[3] = {EIN_BATCH, EIN_M, EIN_K}, border[3] = {EIN_BATCH, EIN_K, EIN_N};
    for (int r = 0; r < 3; r++)
        for (int l = 0; l < pl->nl; l++) {
            if (role[l] == aorder[r]) {
                adims[na] = pl->size[l];
                astr[na++] = pl->stride[0][l];
            }
            if (role[l] == border[r]) {
                bdims[nb] = pl->size[l];
                bstr[nb++] = pl->stride[1][l];
            }
        }
    /* Y (batch, m, n) → Y's label order: strides of each Y label within the
     * (batch, m, n) buffer. */
    int64_t ystr_by_label[EIN_MAX_LABELS], s = 1;
    const ein_role yorder[3] = {EIN_N, EIN_M, EIN_BATCH};
    for (int r = 0; r < 3; r++)
        for (int l = pl->nl - 1; l >= 0; l--)
            if (role[l] == yorder[r]) {
                ystr_by_label[l] = s;
                s *= pl->size[l];
            }
    size_t esz = nt_dtype_size(dt);
    void *pa = nt_scratch_get(&st->pa, (size_t)(Bt * M * K) * esz);
    void *pb = nt_scratch_get(&st->pb, (size_t)(Bt * K * N) * esz);
    void *py = nt_scratch_get(&st->py, (size_t)(Bt * M * N) * esz);
    if (!pa || !pb || !py)
        return NT_ERR_NOMEM;
    int64_t ydims[EIN_MAX_LABELS], ystr[EIN_MAX_LABELS];
    for (int l = 0; l < pl->nout; l++) {
        ydims[l] = pl->size[l];
        ystr[l] = ystr_by_label[l];
    }
    if (dt == NT_DTYPE_FLOAT) {
        gather_f32(A->data, na, adims, astr, pa);
        gather_f32(B->data, nb, bdims, bstr, pb);
        for (int64_t b = 0; b < Bt; b++)
            nt_gemm_f32(false, false, M, N, K, 1.0f, (float *)pa + b * M * K, K, (float *)pb + b * K * N, N, 0.0f,
                        (float *)py + b * M * N, N);
        gather_f32(py, pl->nout, ydims, ystr, ctx->out[0]->data);
    } else {
        gather_f64(A->data, na, adims, astr, pa);
        gather_f64(B->data, nb, bdims, bstr, pb);
        for (int64_t b = 0; b < Bt; b++)
            nt_gemm_f64(false, false, M, N, K, 1.0, (double *)pa + b * M * K, K, (double *)pb + b * K * N, N, 0.0,
                        (double *)py + b * M * N, N);
        gather_f64(py, pl->nout, ydims, ystr, ctx->out[0]->data);
    }
    *done = true;
    return NT_OK;
}

nt_status nt_einsum_compute(nt_kernel_ctx *ctx)
{
    ein_state *st = ctx->state;
    ein_plan pl;
    nt_status s = ein_resolve(ctx, st, &pl);
    if (s != NT_OK)
        return s;
    nt_tensor *Y = ctx->out[0];
    if (nt_tensor_numel(Y) == 0)
        return NT_OK;
    bool done;
    if ((s = ein_try_gemm(ctx, st, &pl, &done)) != NT_OK || done)
        return s;
    const nt_tensor *const *in = (const nt_tensor *const *)ctx->in;
    switch (Y->dtype) {
    case NT_DTYPE_FLOAT: ein_generic_f32(&pl, ctx->n_in, in, Y->data); break;
    case NT_DTYPE_DOUBLE: ein_generic_f64(&pl, ctx->n_in, in, Y->data); break;
    case NT_DTYPE_INT32: ein_generic_i32(&pl, ctx->n_in, in, Y->data); break;
    default: ein_generic_i64(&pl, ctx->n_in, in, Y->data); break;
    }
    return NT_OK;
}
