/*
 * gemm_util.h — matrix-multiply building blocks shared by the linalg and
 * conv families: a float32/float64 GEMM over OpenBLAS that tolerates empty
 * and degenerate sizes, and an exact integer GEMM on zero-point-shifted
 * operands for the quantized operators (MatMulInteger, ConvInteger,
 * QLinearConv, QLinearMatMul-style uses).
 *
 * All matrices are row-major.  OpenBLAS is only called from the thread that
 * runs the kernel (never from inside nt_parallel_for workers): concurrent
 * calls into a threaded OpenBLAS are not something we want to rely on.
 */
#ifndef NT_GEMM_UTIL_H
#define NT_GEMM_UTIL_H

#include "ops/kernel.h"

/* C (M,N) = alpha * op(A) * op(B) + beta * C, op(A) (M,K), op(B) (K,N).
 * With beta == 0, C need not be initialized (NaNs in it are not propagated).
 * Float32 runs on our own kernels (sgemm.h) when the CPU has them and the
 * product is not too thin, else on OpenBLAS; nt_gemm_f32 uses one thread
 * unless OpenBLAS was given more (then it is OpenBLAS), nt_gemm_f32_exec
 * splits our kernels over exec's threads. */
/* The kernel nt_gemm_f32(_exec) picks for a product.  Every path but BLAS
 * gives each C element the same bits whatever rows of the product a call
 * covers and whatever the thread count, so a fused kernel may run a block
 * of rows on its own when the block's path is the whole product's. */
typedef enum nt_gemm_path { NT_GEMM_BLAS, NT_GEMM_PACKED, NT_GEMM_NARROW, NT_GEMM_GEMV, NT_GEMM_GEMV_T } nt_gemm_path;
nt_gemm_path nt_gemm_f32_path(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha);
void nt_gemm_f32_exec(nt_exec *exec, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                      const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
void nt_gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                 int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
void nt_gemm_f64(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double *A,
                 int64_t lda, const double *B, int64_t ldb, double beta, double *C, int64_t ldc);

/* C (M,N) (+)= A (M,K) * B (K,N) in exact int32 arithmetic, on operands
 * already shifted by their zero points (so they fit in int16).  accumulate
 * false overwrites C. */
void nt_gemm_s16(int64_t M, int64_t N, int64_t K, const int16_t *A, int64_t lda, const int16_t *B, int64_t ldb,
                 int32_t *C, int64_t ldc, bool accumulate);

/* dst[i] = (int16)src[i] - zp for n elements of a uint8 (is_signed false) or
 * int8 tensor. */
void nt_shift_u8_s8(const void *src, bool is_signed, int32_t zp, int16_t *dst, int64_t n);

/* Per-thread packing buffers of the GEMM kernels: one per slot, grown to at
 * least nbytes (64-byte aligned, contents not kept), kept for the thread's
 * lifetime and freed when the thread exits (pool workers come and go with
 * their sessions).  NULL when memory runs out. */
enum { NT_TL_SGEMM_B, NT_TL_IGEMM_B, NT_TL_IGEMM_Q8_B, NT_TL_SGEMM_NARROW, NT_TL_SGEMM_A, NT_TL_SLOTS };
void *nt_tl_buffer(int slot, size_t nbytes);

/* A scratch buffer that grows and is kept for the node's lifetime (one
 * session runs a node at a time, so node state may own it). */
typedef struct nt_scratch {
    void *p;
    size_t cap;
} nt_scratch;

/* Ensures at least nbytes; NULL with NT_ERR_NOMEM recorded on failure. */
void *nt_scratch_get(nt_scratch *s, size_t nbytes);
void nt_scratch_free(nt_scratch *s);

/* Einsum (gemm_einsum.c), registered in the linalg family's table. */
nt_status nt_einsum_prepare(const nt_node *node, int opset, void **state);
void nt_einsum_release(void *state);
nt_status nt_einsum_infer(nt_kernel_ctx *ctx);
nt_status nt_einsum_compute(nt_kernel_ctx *ctx);

#endif /* NT_GEMM_UTIL_H */
