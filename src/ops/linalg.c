/*
 * linalg.c — operator family "linalg": Gemm, MatMul, MatMulInteger, and the
 * table entry of Einsum (gemm_einsum.c).
 *
 * Float32 products go to our sgemm kernels (OpenBLAS on CPUs without AVX2
 * or for thin products), float64 ones to OpenBLAS; integer products run a plain
 * i-k-j loop (contiguous inner loop over the output row, which gcc
 * vectorizes) with wrap-around arithmetic, as the spec's fixed-width types
 * do.  MatMul follows numpy: 1-D operands gain and then lose a unit dim, and
 * batch dims broadcast.  When B has no real batch (the common "linear layer"
 * case, A (..., M, K) times B (K, N)) the whole batch of A folds into one
 * GEMM of (batch*M, K) x (K, N).
 */
#include "ops/gemm_util.h"
#include "ops/igemm.h"
#include "ops/f16_bridge.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ integer GEMM */

/* C (M,N) = A (M,K) * B (K,N) (+ C when acc), row-major with leading dims;
 * unsigned arithmetic gives defined wrap-around for signed types. */
#define NT_DEFINE_INT_GEMM(NAME, T, UT)                                                                     \
    static void NAME(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const T *A, int64_t lda, const T *B, \
                     int64_t ldb, T *C, int64_t ldc, bool acc)                                              \
    {                                                                                                       \
        for (int64_t i = 0; i < M; i++) {                                                                   \
            UT *restrict c = (UT *)(C + i * ldc);                                                           \
            if (!acc)                                                                                       \
                memset(c, 0, (size_t)N * sizeof *c);                                                        \
            for (int64_t k = 0; k < K; k++) {                                                               \
                UT a = (UT)(ta ? A[k * lda + i] : A[i * lda + k]);                                          \
                if (!tb) {                                                                                  \
                    const UT *restrict b = (const UT *)(B + k * ldb);                                       \
                    for (int64_t j = 0; j < N; j++)                                                         \
                        c[j] += a * b[j];                                                                   \
                } else {                                                                                    \
                    for (int64_t j = 0; j < N; j++)                                                         \
                        c[j] += a * (UT)B[j * ldb + k];                                                     \
                }                                                                                           \
            }                                                                                               \
        }                                                                                                   \
    }

NT_DEFINE_INT_GEMM(gemm_i32, int32_t, uint32_t)
NT_DEFINE_INT_GEMM(gemm_i64, int64_t, uint64_t)
NT_DEFINE_INT_GEMM(gemm_u32, uint32_t, uint32_t)
NT_DEFINE_INT_GEMM(gemm_u64, uint64_t, uint64_t)

static bool gemm_dtype_ok(nt_dtype t)
{
    return t == NT_DTYPE_FLOAT || t == NT_DTYPE_DOUBLE || t == NT_DTYPE_INT32 || t == NT_DTYPE_INT64 ||
           t == NT_DTYPE_UINT32 || t == NT_DTYPE_UINT64;
}

/* Checks that all present inputs in [0, n) share a dtype the kernels handle. */
static nt_status check_same_dtype(const nt_kernel_ctx *ctx, int n, nt_dtype *dt)
{
    *dt = NT_DTYPE_UNDEFINED;
    for (int i = 0; i < n && i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (!t || t->dtype == NT_DTYPE_UNDEFINED)
            continue;
        if (*dt == NT_DTYPE_UNDEFINED)
            *dt = t->dtype;
        else if (t->dtype != *dt)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is %s but input 0 is %s", i,
                                nt_dtype_name(t->dtype), nt_dtype_name(*dt));
    }
    if (*dt == NT_DTYPE_UNDEFINED && ctx->static_mode)
        return NT_OK;
    if (!gemm_dtype_ok(*dt))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(*dt));
    return NT_OK;
}

/* Runs the GEMM for dtype dt: C = alpha*op(A)op(B) + (acc ? C : 0); alpha is
 * only honoured for float types (integer Gemm scales afterwards). */
static void gemm_any(nt_exec *exec, nt_dtype dt, bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha,
                     const void *A, int64_t lda, const void *B, int64_t ldb, void *C, int64_t ldc, bool acc)
{
    switch (dt) {
    case NT_DTYPE_FLOAT:
        nt_gemm_f32_exec(exec, ta, tb, M, N, K, (float)alpha, A, lda, B, ldb, acc ? 1.0f : 0.0f, C, ldc);
        break;
    case NT_DTYPE_DOUBLE: nt_gemm_f64(ta, tb, M, N, K, alpha, A, lda, B, ldb, acc ? 1.0 : 0.0, C, ldc); break;
    case NT_DTYPE_INT32: gemm_i32(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, acc); break;
    case NT_DTYPE_INT64: gemm_i64(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, acc); break;
    case NT_DTYPE_UINT32: gemm_u32(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, acc); break;
    case NT_DTYPE_UINT64: gemm_u64(ta, tb, M, N, K, A, lda, B, ldb, C, ldc, acc); break;
    default: break;
    }
}

static nt_status check_int_dims(const nt_kernel_ctx *ctx, int64_t M, int64_t N, int64_t K)
{
    if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "matrix dimension beyond 2^31");
    return NT_OK;
}

/* ------------------------------------------------------------ Gemm */

typedef struct gemm_state {
    float alpha, beta;
    bool ta, tb;
} gemm_state;

static nt_status gemm_prepare(const nt_node *node, int opset, void **state)
{
    gemm_state *st = nt_calloc(1, sizeof *st);
    if (!st)
        return NT_ERR_NOMEM;
    st->alpha = nt_node_attr_float(node, "alpha", 1.0f);
    st->beta = nt_node_attr_float(node, "beta", 1.0f);
    int64_t ta = nt_node_attr_int(node, "transA", 0), tb = nt_node_attr_int(node, "transB", 0);
    if ((ta != 0 && ta != 1) || (tb != 0 && tb != 1)) {
        free(st);
        return nt_error(NT_ERR_PARSE, "node '%s' (Gemm): transA and transB must be 0 or 1", node->name);
    }
    st->ta = ta;
    st->tb = tb;
    *state = st;
    return NT_OK;
}

static void free_state(void *state)
{
    free(state);
}

/* A is (M,K) or transposed (K,M); B is (K,N) or (N,K); C broadcasts to (M,N). */
static nt_status gemm_infer(nt_kernel_ctx *ctx)
{
    if (nt_f16_bridge_applies(ctx))
        return nt_f16_bridge(ctx, gemm_infer, NULL);
    const gemm_state *st = ctx->state;
    const nt_tensor *A = nt_ctx_in(ctx, 0), *B = nt_ctx_in(ctx, 1), *C = nt_ctx_in(ctx, 2);
    nt_dtype dt;
    if (!A || !B)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs A and B are required");
    nt_status s = check_same_dtype(ctx, 3, &dt);
    if (s != NT_OK)
        return s;
    if (A->ndim < 0 || B->ndim < 0) {
        nt_ctx_set_output(ctx, 0, dt, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    if (A->ndim != 2 || B->ndim != 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "A and B must be 2-D, got ranks %d and %d", A->ndim, B->ndim);
    int64_t M = A->dims[st->ta ? 1 : 0], K = A->dims[st->ta ? 0 : 1];
    int64_t K2 = B->dims[st->tb ? 1 : 0], N = B->dims[st->tb ? 0 : 1];
    if (K >= 0 && K2 >= 0 && K != K2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inner dimensions differ: A gives K = %lld, B gives %lld",
                            (long long)K, (long long)K2);
    int64_t dims[2] = {M, N};
    if (C && C->ndim >= 0) {
        int nout;
        int64_t bd[NT_MAX_DIMS];
        if (C->ndim > 2 || nt_broadcast_shape(2, dims, C->ndim, C->dims, &nout, bd) != NT_OK ||
            (bd[0] != M && M >= 0) || (bd[1] != N && N >= 0))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "C does not broadcast to (%lld, %lld)", (long long)M,
                                (long long)N);
    }
    return nt_ctx_set_output(ctx, 0, dt, 2, dims);
}

/* Y (M,N) = beta * broadcast(C), element type T. */
#define NT_DEFINE_FILL_C(NAME, T)                                                                        \
    static void NAME(T *y, int64_t M, int64_t N, const nt_tensor *C, double beta)                        \
    {                                                                                                    \
        const T *c = C->data;                                                                            \
        int64_t cm = C->ndim == 2 ? C->dims[0] : 1, cn = C->ndim >= 1 ? C->dims[C->ndim - 1] : 1;        \
        for (int64_t i = 0; i < M; i++)                                                                  \
            for (int64_t j = 0; j < N; j++)                                                              \
                y[i * N + j] = (T)(beta * (double)c[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)]);        \
    }
NT_DEFINE_FILL_C(fill_c_f32, float)
NT_DEFINE_FILL_C(fill_c_f64, double)
NT_DEFINE_FILL_C(fill_c_i32, int32_t)
NT_DEFINE_FILL_C(fill_c_i64, int64_t)
NT_DEFINE_FILL_C(fill_c_u32, uint32_t)
NT_DEFINE_FILL_C(fill_c_u64, uint64_t)

/* Integer Gemm: Y = alpha * Y (after the product, which ran without alpha). */
#define NT_DEFINE_SCALE(NAME, T)                                       \
    static void NAME(T *y, int64_t n, double alpha)                    \
    {                                                                  \
        for (int64_t i = 0; i < n; i++)                                \
            y[i] = (T)(alpha * (double)y[i]);                          \
    }
NT_DEFINE_SCALE(scale_i32, int32_t)
NT_DEFINE_SCALE(scale_i64, int64_t)
NT_DEFINE_SCALE(scale_u32, uint32_t)
NT_DEFINE_SCALE(scale_u64, uint64_t)

static nt_status gemm_compute(nt_kernel_ctx *ctx)
{
    if (nt_f16_bridge_applies(ctx))
        return nt_f16_bridge(ctx, gemm_infer, gemm_compute);
    const gemm_state *st = ctx->state;
    const nt_tensor *A = ctx->in[0], *B = ctx->in[1], *C = nt_ctx_in(ctx, 2);
    nt_tensor *Y = ctx->out[0];
    int64_t M = Y->dims[0], N = Y->dims[1], K = A->dims[st->ta ? 0 : 1];
    nt_status s = check_int_dims(ctx, M, N, K);
    if (s != NT_OK)
        return s;
    nt_dtype dt = A->dtype;
    bool is_float = dt == NT_DTYPE_FLOAT || dt == NT_DTYPE_DOUBLE;
    /* beta == 0 drops C entirely (a NaN in C does not leak), as runtimes do. */
    bool with_c = C && st->beta != 0 && nt_tensor_numel(C) > 0;
    if (with_c) {
        switch (dt) {
        case NT_DTYPE_FLOAT: fill_c_f32(Y->data, M, N, C, st->beta); break;
        case NT_DTYPE_DOUBLE: fill_c_f64(Y->data, M, N, C, st->beta); break;
        /* Integer Gemm divides C's share back out below: Y = alpha*(AB) + beta*C
         * is computed as alpha*AB into a zeroed Y, then beta*C added. */
        default: break;
        }
    }
    int64_t lda = A->dims[1], ldb = B->dims[1];
    if (is_float) {
        gemm_any(ctx->exec, dt, st->ta, st->tb, M, N, K, st->alpha, A->data, lda, B->data, ldb, Y->data, N, with_c);
        return NT_OK;
    }
    gemm_any(ctx->exec, dt, st->ta, st->tb, M, N, K, 1.0, A->data, lda, B->data, ldb, Y->data, N, false);
    if (st->alpha != 1.0f) {
        switch (dt) {
        case NT_DTYPE_INT32: scale_i32(Y->data, M * N, st->alpha); break;
        case NT_DTYPE_INT64: scale_i64(Y->data, M * N, st->alpha); break;
        case NT_DTYPE_UINT32: scale_u32(Y->data, M * N, st->alpha); break;
        default: scale_u64(Y->data, M * N, st->alpha); break;
        }
    }
    if (with_c) {
        size_t esz = nt_dtype_size(dt);
        void *tmp = nt_malloc((size_t)(M * N) * esz);
        if (!tmp)
            return NT_ERR_NOMEM;
        switch (dt) {
        case NT_DTYPE_INT32: fill_c_i32(tmp, M, N, C, st->beta); break;
        case NT_DTYPE_INT64: fill_c_i64(tmp, M, N, C, st->beta); break;
        case NT_DTYPE_UINT32: fill_c_u32(tmp, M, N, C, st->beta); break;
        default: fill_c_u64(tmp, M, N, C, st->beta); break;
        }
        for (int64_t i = 0; i < M * N; i++) {
            if (esz == 4)
                ((uint32_t *)Y->data)[i] += ((const uint32_t *)tmp)[i];
            else
                ((uint64_t *)Y->data)[i] += ((const uint64_t *)tmp)[i];
        }
        free(tmp);
    }
    return NT_OK;
}

/* ------------------------------------------------------------ batched matmul geometry */

/* numpy matmul of A (..., M, K) by B (..., K, N); a 1-D A is (1, K) and a 1-D
 * B is (K, 1), their unit dim dropped from Y. */
typedef struct mm_geom {
    int64_t M, N, K;
    int nb;                              /* broadcast batch rank */
    int64_t bdims[NT_MAX_DIMS];          /* batch dims of Y */
    int64_t astr[NT_MAX_DIMS], bstr[NT_MAX_DIMS];   /* per batch dim, 0 when broadcast */
    int64_t batch;                       /* product of bdims */
    int ydim;
    int64_t ydims[NT_MAX_DIMS];
} mm_geom;

static nt_status mm_resolve(const nt_kernel_ctx *ctx, const nt_tensor *A, const nt_tensor *B, mm_geom *g)
{
    memset(g, 0, sizeof *g);
    if (A->ndim < 1 || B->ndim < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "MatMul operands must have rank >= 1 (got %d and %d)", A->ndim,
                            B->ndim);
    int an = A->ndim, bn = B->ndim;
    g->M = an == 1 ? 1 : A->dims[an - 2];
    g->K = A->dims[an - 1];
    int64_t kb = bn == 1 ? B->dims[0] : B->dims[bn - 2];
    g->N = bn == 1 ? 1 : B->dims[bn - 1];
    if (g->K >= 0 && kb >= 0 && g->K != kb)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inner dimensions differ: A has K = %lld, B has %lld",
                            (long long)g->K, (long long)kb);
    int abn = an > 2 ? an - 2 : 0, bbn = bn > 2 ? bn - 2 : 0;
    nt_status s = nt_broadcast_shape(abn, A->dims, bbn, B->dims, &g->nb, g->bdims);
    if (s != NT_OK)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "batch dims: %s", nt_last_error());
    /* Strides (in matrices) of each broadcast batch dim in A and B. */
    int64_t sa = 1, sb = 1;
    g->batch = 1;
    for (int d = g->nb - 1; d >= 0; d--) {
        int ia = d - (g->nb - abn), ib = d - (g->nb - bbn);
        int64_t da = ia >= 0 ? A->dims[ia] : 1, db = ib >= 0 ? B->dims[ib] : 1;
        g->astr[d] = da == 1 ? 0 : sa;
        g->bstr[d] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
        g->batch *= g->bdims[d];
    }
    g->ydim = 0;
    for (int d = 0; d < g->nb; d++)
        g->ydims[g->ydim++] = g->bdims[d];
    if (an > 1)
        g->ydims[g->ydim++] = g->M;
    if (bn > 1)
        g->ydims[g->ydim++] = g->N;
    return NT_OK;
}

/* Matrix offsets (in matrices) of A and B for batch index i. */
static void mm_offsets(const mm_geom *g, int64_t i, int64_t *ao, int64_t *bo)
{
    *ao = *bo = 0;
    for (int d = g->nb - 1; d >= 0; d--) {
        int64_t k = i % g->bdims[d];
        i /= g->bdims[d];
        *ao += k * g->astr[d];
        *bo += k * g->bstr[d];
    }
}

/* True when B is the same matrix for every batch and A's batches are
 * consecutive: then Y's batches stack into one (batch*M, N) product. */
static bool mm_foldable(const mm_geom *g)
{
    int64_t expect = 1;
    for (int d = g->nb - 1; d >= 0; d--) {
        if (g->bstr[d] != 0 && g->bdims[d] != 1)
            return false;
        if (g->bdims[d] != 1 && g->astr[d] != expect)
            return false;
        expect *= g->bdims[d];
    }
    return true;
}

/* ------------------------------------------------------------ MatMul */

static nt_status matmul_infer(nt_kernel_ctx *ctx)
{
    if (nt_f16_bridge_applies(ctx))
        return nt_f16_bridge(ctx, matmul_infer, NULL);
    const nt_tensor *A = nt_ctx_in(ctx, 0), *B = nt_ctx_in(ctx, 1);
    if (!A || !B)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs A and B are required");
    nt_dtype dt;
    nt_status s = check_same_dtype(ctx, 2, &dt);
    if (s != NT_OK)
        return s;
    if (A->ndim < 0 || B->ndim < 0) {
        nt_ctx_set_output(ctx, 0, dt, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    mm_geom g;
    if ((s = mm_resolve(ctx, A, B, &g)) != NT_OK)
        return s;
    return nt_ctx_set_output(ctx, 0, dt, g.ydim, g.ydims);
}

static nt_status matmul_compute(nt_kernel_ctx *ctx)
{
    if (nt_f16_bridge_applies(ctx))
        return nt_f16_bridge(ctx, matmul_infer, matmul_compute);
    const nt_tensor *A = ctx->in[0], *B = ctx->in[1];
    nt_tensor *Y = ctx->out[0];
    mm_geom g;
    nt_status s = mm_resolve(ctx, A, B, &g);
    if (s != NT_OK)
        return s;
    size_t esz = nt_dtype_size(A->dtype);
    int64_t M = g.M, N = g.N, K = g.K;
    if (mm_foldable(&g) && g.batch * M <= INT32_MAX) {
        M *= g.batch;
        g.batch = 1;
    }
    if ((s = check_int_dims(ctx, M, N, K)) != NT_OK)
        return s;
    for (int64_t i = 0; i < g.batch; i++) {
        int64_t ao, bo;
        mm_offsets(&g, i, &ao, &bo);
        const char *a = (const char *)A->data + (size_t)(ao * M * K) * esz;
        const char *b = (const char *)B->data + (size_t)(bo * K * N) * esz;
        char *y = (char *)Y->data + (size_t)(i * M * N) * esz;
        gemm_any(ctx->exec, A->dtype, false, false, M, N, K, 1.0, a, K, b, N, y, N, false);
    }
    return NT_OK;
}

/* ------------------------------------------------------------ MatMulInteger */

/* A (..., M, K) and B (..., K, N) uint8/int8; a_zero_point is a scalar or
 * (M) per row, b_zero_point a scalar or (N) per column; Y int32. */
typedef struct mmi_state {
    nt_scratch a16, b16;
} mmi_state;

static nt_status mmi_prepare(const nt_node *node, int opset, void **state)
{
    *state = nt_calloc(1, sizeof(mmi_state));
    return *state ? NT_OK : NT_ERR_NOMEM;
}

static void mmi_release(void *state)
{
    mmi_state *st = state;
    if (!st)
        return;
    nt_scratch_free(&st->a16);
    nt_scratch_free(&st->b16);
    free(st);
}

static bool is_q8(nt_dtype t)
{
    return t == NT_DTYPE_UINT8 || t == NT_DTYPE_INT8;
}

static nt_status mmi_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *A = nt_ctx_in(ctx, 0), *B = nt_ctx_in(ctx, 1);
    if (!A || !B)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "inputs A and B are required");
    for (int i = 0; i < 4 && i < ctx->n_in; i++) {
        const nt_tensor *t = ctx->in[i];
        if (t && !is_q8(t->dtype) && !(ctx->static_mode && t->dtype == NT_DTYPE_UNDEFINED))
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input %d is %s: only uint8/int8 are supported", i,
                                nt_dtype_name(t->dtype));
    }
    if (A->ndim < 0 || B->ndim < 0) {
        nt_ctx_set_output(ctx, 0, NT_DTYPE_INT32, 0, NULL);
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    mm_geom g;
    nt_status s = mm_resolve(ctx, A, B, &g);
    if (s != NT_OK)
        return s;
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_INT32, g.ydim, g.ydims);
}

/* Zero points of input idx: count values (a scalar repeats). */
static nt_status mmi_zero_points(const nt_kernel_ctx *ctx, int idx, nt_dtype want, int64_t count, int32_t *zp)
{
    const nt_tensor *t = nt_ctx_in(ctx, idx);
    if (!t) {
        for (int64_t i = 0; i < count; i++)
            zp[i] = 0;
        return NT_OK;
    }
    int64_t n = nt_tensor_numel(t);
    if (t->dtype != want)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "zero point %d is %s, its operand %s", idx, nt_dtype_name(t->dtype),
                            nt_dtype_name(want));
    if (n != 1 && n != count)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "zero point %d has %lld values, expected 1 or %lld", idx,
                            (long long)n, (long long)count);
    for (int64_t i = 0; i < count; i++) {
        int64_t k = n == 1 ? 0 : i;
        zp[i] = want == NT_DTYPE_INT8 ? ((const int8_t *)t->data)[k] : ((const uint8_t *)t->data)[k];
    }
    return NT_OK;
}

static nt_status mmi_compute(nt_kernel_ctx *ctx)
{
    mmi_state *st = ctx->state;
    const nt_tensor *A = ctx->in[0], *B = ctx->in[1];
    int32_t *y = ctx->out[0]->data;
    mm_geom g;
    nt_status s = mm_resolve(ctx, A, B, &g);
    if (s != NT_OK)
        return s;
    const int64_t M = g.M, N = g.N, K = g.K;
    int32_t *azp = nt_malloc((size_t)(M + N + 2) * sizeof *azp);
    if (!azp)
        return NT_ERR_NOMEM;
    int32_t *bzp = azp + M + 1;
    int16_t *a16 = nt_scratch_get(&st->a16, (size_t)(M * K + 1) * sizeof(int16_t));
    int16_t *b16 = nt_scratch_get(&st->b16, (size_t)(K * N + 1) * sizeof(int16_t));
    if (!a16 || !b16) {
        free(azp);
        return NT_ERR_NOMEM;
    }
    if ((s = mmi_zero_points(ctx, 2, A->dtype, M, azp)) != NT_OK ||
        (s = mmi_zero_points(ctx, 3, B->dtype, N, bzp)) != NT_OK) {
        free(azp);
        return s;
    }
    bool as = A->dtype == NT_DTYPE_INT8, bs = B->dtype == NT_DTYPE_INT8;
    for (int64_t i = 0; i < g.batch; i++) {
        int64_t ao, bo;
        mm_offsets(&g, i, &ao, &bo);
        const uint8_t *a = (const uint8_t *)A->data + ao * M * K;
        const uint8_t *b = (const uint8_t *)B->data + bo * K * N;
        nt_igemm_q8_a qa = {a, K, as, azp};
        nt_igemm_q8_b qb = {.p = b, .ld = N, .is_signed = bs, .zp = bzp, .zp_per_column = true};
        if (nt_igemm_q8(ctx->exec, M, N, K, &qa, &qb, y + i * M * N, N)) /* bytes as they are (VNNI) */
            continue;
        for (int64_t r = 0; r < M; r++)
            nt_shift_u8_s8(a + r * K, as, azp[r], a16 + r * K, K);
        for (int64_t r = 0; r < K; r++)
            for (int64_t c = 0; c < N; c++)
                b16[r * N + c] = (int16_t)((bs ? (int32_t)((const int8_t *)b)[r * N + c] : (int32_t)b[r * N + c]) -
                                           bzp[c]);
        nt_igemm_b bm = {.p = b16, .ld = N};
        nt_igemm_s16(ctx->exec, M, N, K, a16, K, &bm, y + i * M * N, N);
    }
    free(azp);
    return NT_OK;
}

/* ------------------------------------------------------------ table */

const nt_op_def nt_ops_linalg[] = {
    {"Gemm", "", 1, gemm_prepare, free_state, gemm_infer, gemm_compute},
    {"MatMul", "", 1, NULL, NULL, matmul_infer, matmul_compute},
    {"MatMulInteger", "", 10, mmi_prepare, mmi_release, mmi_infer, mmi_compute},
    {"Einsum", "", 12, nt_einsum_prepare, nt_einsum_release, nt_einsum_infer, nt_einsum_compute},
};
const size_t nt_ops_linalg_count = NT_ARRAY_LEN(nt_ops_linalg);
