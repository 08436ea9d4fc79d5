/*
 * gemm_util.c — GEMM wrappers (our sgemm kernels where the CPU has them,
 * OpenBLAS otherwise) and the exact integer GEMM used by the quantized
 * kernels.  See gemm_util.h.
 */
#include "ops/gemm_util.h"
#include "ops/sgemm.h"

#include <cblas.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

/* BLAS takes int sizes; every caller's sizes come from tensors whose element
 * counts were checked against memory, so only sizes past INT_MAX can fail
 * here, and those are rejected by the callers' own checks beforehand. */

/* Leading dimensions must be >= 1 even for empty operands (BLAS argument checks). */
static int ld_ok(int64_t ld)
{
    return ld < 1 ? 1 : (int)ld;
}

#define NT_DEFINE_BLAS_GEMM(NAME, T, BLASFN)                                                                     \
    void NAME(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T *A, int64_t lda,   \
              const T *B, int64_t ldb, T beta, T *C, int64_t ldc)                                               \
    {                                                                                                            \
        if (M <= 0 || N <= 0)                                                                                    \
            return;                                                                                              \
        if (K <= 0 || alpha == 0) {                                                                              \
            /* No products: C = beta * C (and beta == 0 must clear, not scale, C). */                           \
            for (int64_t i = 0; i < M; i++) {                                                                    \
                T *c = C + i * ldc;                                                                              \
                for (int64_t j = 0; j < N; j++)                                                                  \
                    c[j] = beta == 0 ? (T)0 : beta * c[j];                                                       \
            }                                                                                                    \
            return;                                                                                              \
        }                                                                                                        \
        BLASFN(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, (int)M,  \
               (int)N, (int)K, alpha, A, ld_ok(lda), B, ld_ok(ldb), beta, C, ld_ok(ldc));                        \
    }

NT_DEFINE_BLAS_GEMM(blas_gemm_f32, float, cblas_sgemm)
NT_DEFINE_BLAS_GEMM(nt_gemm_f64, double, cblas_dgemm)

/* Which kernel a float32 product runs on.  Ours pay off once there are a
 * few rows to share each packed B panel and more columns than one register
 * tile (the packed SGEMM); narrow products (49..64 columns: attention's
 * P·V) and matrix-vector ones (fewer than 4 rows: a decode step) have
 * kernels of their own; smaller products stay with OpenBLAS, which measured
 * faster there (e.g. 64x10x128: 55 against 18 GFLOP/s). */
nt_gemm_path nt_gemm_f32_path(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha)
{
    if (nt_sgemm_isa_get() == NT_SGEMM_NONE || M <= 0 || N <= 0 || K < 1 || alpha == 0)
        return NT_GEMM_BLAS;
    if (M < 4) {
        if (N * K < 32768)
            return NT_GEMM_BLAS;
        /* B^T (a classifier's transB = 1): dot products of contiguous rows */
        return trans_b ? NT_GEMM_GEMV_T : N >= 64 ? NT_GEMM_GEMV : NT_GEMM_BLAS;
    }
    if (M * N * K < 32768)
        return NT_GEMM_BLAS;
    if (N <= 64) /* B copied whole: at most 16 MB of it */
        return N > 48 && K <= 65536 ? NT_GEMM_NARROW : NT_GEMM_BLAS;
    return NT_GEMM_PACKED;
}

static bool own_gemm(nt_exec *exec, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                     const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    switch (nt_gemm_f32_path(trans_b, M, N, K, alpha)) {
    case NT_GEMM_PACKED: return nt_sgemm_dense(exec, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case NT_GEMM_NARROW: return nt_sgemm_narrow(exec, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case NT_GEMM_GEMV: return nt_sgemv_rows(exec, trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    case NT_GEMM_GEMV_T: return nt_sgemv_t(exec, trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    default: return false;
    }
}

void nt_gemm_f32_exec(nt_exec *exec, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    if (!own_gemm(exec, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
        blas_gemm_f32(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void nt_gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    /* No executor: our kernel on this thread (OpenBLAS is kept at one
     * thread by the session, see session.c). */
    if (!own_gemm(NULL, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc))
        blas_gemm_f32(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void nt_gemm_s16(int64_t M, int64_t N, int64_t K, const int16_t *A, int64_t lda, const int16_t *B, int64_t ldb,
                 int32_t *C, int64_t ldc, bool accumulate)
{
    for (int64_t i = 0; i < M; i++) {
        int32_t *restrict c = C + i * ldc;
        if (!accumulate)
            memset(c, 0, (size_t)N * sizeof *c);
        const int16_t *a = A + i * lda;
        for (int64_t k = 0; k < K; k++) {
            int32_t av = a[k];
            if (av == 0)
                continue;
            const int16_t *restrict b = B + k * ldb;
            /* Products fit int32 (|a|,|b| <= 255); sums of up to 2^15
             * products too, and wrap like the spec's int32 otherwise. */
            for (int64_t j = 0; j < N; j++)
                c[j] = (int32_t)((uint32_t)c[j] + (uint32_t)(av * (int32_t)b[j]));
        }
    }
}

void nt_shift_u8_s8(const void *src, bool is_signed, int32_t zp, int16_t *dst, int64_t n)
{
    if (is_signed) {
        const int8_t *s = src;
        for (int64_t i = 0; i < n; i++)
            dst[i] = (int16_t)(s[i] - zp);
    } else {
        const uint8_t *s = src;
        for (int64_t i = 0; i < n; i++)
            dst[i] = (int16_t)(s[i] - zp);
    }
}

void *nt_scratch_get(nt_scratch *s, size_t nbytes)
{
    if (nbytes == 0)
        nbytes = 1;
    if (s->p && s->cap >= nbytes)
        return s->p;
    nt_aligned_free(s->p);
    s->cap = 0;
    s->p = nt_aligned_alloc(nbytes);
    if (s->p)
        s->cap = nbytes;
    return s->p;
}

void nt_scratch_free(nt_scratch *s)
{
    nt_aligned_free(s->p);
    s->p = NULL;
    s->cap = 0;
}

/* ---- per-thread buffers: the thread-local pointer is the fast path; a
 * pthread key per slot holds the same pointer so its destructor frees the
 * buffer when the thread exits. */
static pthread_key_t tl_keys[NT_TL_SLOTS];
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;
static bool tl_keys_ok;
static _Thread_local void *tl_ptr[NT_TL_SLOTS];
static _Thread_local size_t tl_cap[NT_TL_SLOTS];

static void tl_free(void *p) { nt_aligned_free(p); }

static void tl_keys_make(void)
{
    bool ok = true;
    for (int i = 0; i < NT_TL_SLOTS; i++)
        ok = ok && pthread_key_create(&tl_keys[i], tl_free) == 0;
    tl_keys_ok = ok;
}

void *nt_tl_buffer(int slot, size_t nbytes)
{
    if (tl_cap[slot] >= nbytes && tl_ptr[slot])
        return tl_ptr[slot];
    pthread_once(&tl_once, tl_keys_make);
    if (!tl_keys_ok)
        return NULL;
    nt_aligned_free(tl_ptr[slot]);
    tl_cap[slot] = 0;
    tl_ptr[slot] = nt_aligned_alloc(nbytes);
    pthread_setspecific(tl_keys[slot], tl_ptr[slot]);
    if (tl_ptr[slot])
        tl_cap[slot] = nbytes;
    return tl_ptr[slot];
}
