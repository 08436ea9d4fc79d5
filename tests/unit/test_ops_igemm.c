/*
 * test_ops_igemm.c — the exact int16 GEMM of the quantized operators
 * (igemm.h) against a plain triple loop: random sizes (odd K, one row or
 * column, sizes that span several K blocks, column blocks and ragged
 * register tiles), operands over the whole [-255, 255] range, dense B and
 * the im2col view of 1-D and 2-D windows (strides, dilations, pads), under
 * every kernel set the CPU has (VNNI, AVX-512BW, AVX2, C), on one thread
 * and on a 2-thread pool; and the byte-operand VNNI GEMM (igemm_q8.c) with
 * every sign combination and zero point; and the direct depthwise
 * convolution (conv_quant_dw.c).  Every int32 must match.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/igemm.h"

#include "op_harness.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static int64_t rnd(int64_t lo, int64_t hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (int64_t)(rng % (uint64_t)(hi - lo + 1));
}

static int16_t *rand16(int64_t n)
{
    int16_t *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    for (int64_t i = 0; i < n; i++)
        v[i] = (int16_t)(rnd(0, 9) == 0 ? (rnd(0, 1) ? 255 : -255) : rnd(-255, 255));
    return v;
}

/* B (k, j) of the operand: dense or through the window (plain index math). */
static int32_t b_at(const nt_igemm_b *b, int64_t k, int64_t j)
{
    if (!b->w)
        return b->p[k * b->ld + j];
    const nt_window *w = b->w;
    const int L = w->nsp - 1;
    int64_t KW = w->kernel[L], KH = w->nsp == 2 ? w->kernel[0] : 1, OW = w->out[L];
    int64_t IW = w->in[L], IH = w->nsp == 2 ? w->in[0] : 1;
    int64_t c = k / (KH * KW), kh = (k / KW) % KH, kw = k % KW, oh = j / OW, ow = j % OW;
    int64_t ih = w->nsp == 2 ? oh * w->stride[0] - w->pad_begin[0] + kh * w->dil[0] : 0;
    int64_t iw = ow * w->stride[L] - w->pad_begin[L] + kw * w->dil[L];
    if (ih < 0 || ih >= IH || iw < 0 || iw >= IW)
        return 0;
    return b->x[(c * IH + ih) * IW + iw];
}

static void check(int64_t M, int64_t N, int64_t K, const int16_t *A, const nt_igemm_b *b, nt_exec *exec)
{
    int64_t ldc = N + rnd(0, 3);
    int32_t *C = malloc((size_t)(M * ldc + 1) * sizeof *C);
    for (int64_t i = 0; i < M * ldc; i++)
        C[i] = 0x5A5A5A5A; /* must be overwritten, not added to */
    nt_igemm_s16(exec, M, N, K, A, K, b, C, ldc);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            int32_t want = 0;
            for (int64_t k = 0; k < K; k++)
                want += A[i * K + k] * b_at(b, k, j);
            if (C[i * ldc + j] != want)
                fail_msg("M %lld N %lld K %lld isa %d: C[%lld][%lld] = %d, want %d", (long long)M, (long long)N,
                         (long long)K, (int)nt_igemm_isa_get(), (long long)i, (long long)j, C[i * ldc + j], want);
        }
    free(C);
}

static int kernel_sets(nt_igemm_isa *sets)
{
    nt_igemm_isa prev = nt_igemm_isa_get();
    int n = 0;
    for (int i = NT_IGEMM_C; i <= NT_IGEMM_AVX512VNNI; i++) {
        nt_igemm_isa_force((nt_igemm_isa)i);
        if (nt_igemm_isa_get() == (nt_igemm_isa)i)
            sets[n++] = (nt_igemm_isa)i;
    }
    nt_igemm_isa_force(prev);
    return n;
}

static void test_igemm_dense(void **unused)
{
    (void)unused;
    nt_igemm_isa sets[4], prev = nt_igemm_isa_get();
    int nsets = kernel_sets(sets);
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    static const int64_t fixed[][3] = {{1, 1, 1}, {8, 32, 2}, {9, 33, 3}, {17, 70, 1200}, {64, 200, 777}, {3, 1, 5}};
    for (int iter = 0; iter < 36; iter++) {
        int64_t M, N, K;
        if (iter < 6) {
            M = fixed[iter][0], N = fixed[iter][1], K = fixed[iter][2];
        } else {
            M = rnd(1, 40), N = rnd(1, 300), K = rnd(1, 700);
        }
        int16_t *A = rand16(M * K), *B = rand16(K * N);
        nt_igemm_b b = {.p = B, .ld = N};
        for (int si = 0; si < nsets; si++) {
            nt_igemm_isa_force(sets[si]);
            check(M, N, K, A, &b, iter % 2 ? &exec : NULL);
        }
        free(A);
        free(B);
    }
    nt_igemm_isa_force(prev);
    pool_free(sess);
}

static void test_igemm_window(void **unused)
{
    (void)unused;
    nt_igemm_isa sets[4], prev = nt_igemm_isa_get();
    int nsets = kernel_sets(sets);
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    for (int iter = 0; iter < 30; iter++) {
        nt_window w = {.nsp = (int)rnd(1, 2)};
        for (int a = 0; a < w.nsp; a++) {
            w.in[a] = rnd(1, 20);
            w.kernel[a] = rnd(1, 4);
            w.stride[a] = rnd(1, 3);
            w.dil[a] = rnd(1, 2);
            w.pad_begin[a] = rnd(0, 2);
            w.pad_end[a] = rnd(0, 2);
            int64_t span = (w.kernel[a] - 1) * w.dil[a] + 1, full = w.in[a] + w.pad_begin[a] + w.pad_end[a];
            if (span > full)
                w.pad_end[a] += span - full, full = span;
            w.out[a] = (full - span) / w.stride[a] + 1;
        }
        int64_t C = rnd(1, 9), M = rnd(1, 20), K = C * nt_window_kernel_size(&w), N = nt_window_out_size(&w);
        int16_t *A = rand16(M * K), *X = rand16(C * nt_window_in_size(&w));
        nt_igemm_b b = {.x = X, .w = &w};
        for (int si = 0; si < nsets; si++) {
            nt_igemm_isa_force(sets[si]);
            check(M, N, K, A, &b, iter % 2 ? &exec : NULL);
        }
        free(A);
        free(X);
    }
    nt_igemm_isa_force(prev);
    pool_free(sess);
}

/* The byte-operand GEMM (igemm_q8.c, VNNI): every sign combination, zero
 * points per row of A and per column of B at their extremes, odd K (not a
 * multiple of 4), several K blocks, ragged tiles, dense B and windows with
 * padding (which must read as the zero point), one and two threads. */
static void test_igemm_q8(void **unused)
{
    (void)unused;
    if (!nt_igemm_q8_ok()) {
        print_message("no AVX-512 VNNI here: nt_igemm_q8 not run\n");
        skip();
    }
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    for (int iter = 0; iter < 48; iter++) {
        const bool a_signed = iter & 1, b_signed = (iter >> 1) & 1, window = iter % 3 == 0;
        nt_window w = {.nsp = 2};
        int64_t M = rnd(1, 30), N, K, C = rnd(1, 7);
        if (window) {
            for (int ax = 0; ax < 2; ax++) {
                w.in[ax] = rnd(1, 15);
                w.kernel[ax] = rnd(1, 3);
                w.stride[ax] = rnd(1, 2);
                w.dil[ax] = rnd(1, 2);
                w.pad_begin[ax] = rnd(0, 2);
                w.pad_end[ax] = rnd(0, 2);
                int64_t span = (w.kernel[ax] - 1) * w.dil[ax] + 1, full = w.in[ax] + w.pad_begin[ax] + w.pad_end[ax];
                if (span > full)
                    w.pad_end[ax] += span - full, full = span;
                w.out[ax] = (full - span) / w.stride[ax] + 1;
            }
            K = C * nt_window_kernel_size(&w);
            N = nt_window_out_size(&w);
        } else {
            N = rnd(1, 200);
            K = iter < 8 ? rnd(700, 1500) : rnd(1, 90);
        }
        int64_t nb = window ? C * nt_window_in_size(&w) : K * N;
        uint8_t *A = malloc((size_t)(M * K)), *B = malloc((size_t)nb);
        int32_t *za = malloc((size_t)M * sizeof *za), *zb = malloc((size_t)N * sizeof *zb);
        for (int64_t i = 0; i < M * K; i++)
            A[i] = (uint8_t)rnd(0, 255);
        for (int64_t i = 0; i < nb; i++)
            B[i] = (uint8_t)rnd(0, 255);
        const int32_t lo_a = a_signed ? -128 : 0, lo_b = b_signed ? -128 : 0;
        for (int64_t i = 0; i < M; i++)
            za[i] = i % 4 == 0 ? lo_a : i % 4 == 1 ? lo_a + 255 : (int32_t)rnd(lo_a, lo_a + 255);
        for (int64_t j = 0; j < N; j++)
            zb[j] = j % 5 == 0 ? lo_b + 255 : (int32_t)rnd(lo_b, lo_b + 255);
        nt_igemm_q8_a qa = {A, K, a_signed, za};
        nt_igemm_q8_b qb = {.p = B, .ld = N, .is_signed = b_signed, .zp = zb, .zp_per_column = !window};
        if (window) {
            qb.x = B;
            qb.w = &w;
        }
        int32_t *Cm = malloc((size_t)(M * N) * sizeof *Cm);
        assert_true(nt_igemm_q8(iter % 2 ? &exec : NULL, M, N, K, &qa, &qb, Cm, N));
        /* the reference: int16 operands minus zero points, the index math of b_at */
        int16_t *x16 = malloc((size_t)nb * sizeof *x16);
        for (int64_t i = 0; i < nb; i++)
            x16[i] = (int16_t)((b_signed ? (int32_t)(int8_t)B[i] : (int32_t)B[i]) - (window ? zb[0] : 0));
        nt_igemm_b ref_b = {.p = x16, .ld = N, .x = x16, .w = window ? &w : NULL};
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                int32_t want = 0;
                for (int64_t k = 0; k < K; k++) {
                    int32_t av = (a_signed ? (int32_t)(int8_t)A[i * K + k] : (int32_t)A[i * K + k]) - za[i];
                    int32_t bv = window ? b_at(&ref_b, k, j) : (int32_t)x16[k * N + j] - zb[j];
                    want += av * bv;
                }
                if (Cm[i * N + j] != want)
                    fail_msg("q8 a_signed %d b_signed %d window %d M %lld N %lld K %lld: C[%lld][%lld] = %d, want %d",
                             a_signed, b_signed, window, (long long)M, (long long)N, (long long)K, (long long)i,
                             (long long)j, Cm[i * N + j], want);
            }
        free(x16);
        free(Cm);
        free(A);
        free(B);
        free(za);
        free(zb);
    }
    pool_free(sess);
}

/* The direct depthwise convolution (conv_quant_dw.c) against plain index
 * math: random 2-D windows (3x3 and other sizes, strides, dilations, pads),
 * both signs of x and w, per-channel weight zero points, 1 and 2 threads. */
static void test_dwconv_q8(void **unused)
{
    (void)unused;
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    for (int iter = 0; iter < 40; iter++) {
        nt_window w = {.nsp = 2};
        for (int a = 0; a < 2; a++) {
            w.in[a] = rnd(1, 23);
            w.kernel[a] = iter % 2 ? 3 : rnd(1, 5);
            w.stride[a] = rnd(1, 3);
            w.dil[a] = rnd(1, 2);
            w.pad_begin[a] = rnd(0, 2);
            w.pad_end[a] = rnd(0, 2);
            int64_t span = (w.kernel[a] - 1) * w.dil[a] + 1, full = w.in[a] + w.pad_begin[a] + w.pad_end[a];
            if (span > full)
                w.pad_end[a] += span - full, full = span;
            w.out[a] = (full - span) / w.stride[a] + 1;
        }
        int64_t N = rnd(1, 2), C = rnd(1, 9), KK = w.kernel[0] * w.kernel[1], IN = w.in[0] * w.in[1];
        int64_t OUT = w.out[0] * w.out[1];
        bool xs = rnd(0, 1), ws = rnd(0, 1);
        int32_t xzp = (int32_t)(xs ? rnd(-128, 127) : rnd(0, 255));
        uint8_t *x = malloc((size_t)(N * C * IN)), *wt = malloc((size_t)(C * KK));
        int32_t *wzp = malloc((size_t)C * sizeof *wzp), *acc = malloc((size_t)(N * C * OUT) * sizeof *acc);
        for (int64_t i = 0; i < N * C * IN; i++)
            x[i] = (uint8_t)rnd(0, 255);
        for (int64_t i = 0; i < C * KK; i++)
            wt[i] = (uint8_t)rnd(0, 255);
        for (int64_t c = 0; c < C; c++)
            wzp[c] = (int32_t)(ws ? rnd(-128, 127) : rnd(0, 255));
        assert_true(nt_dwconv_q8(iter % 3 ? &exec : NULL, x, xs, xzp, wt, ws, wzp, N, C, &w, acc));
        for (int64_t pl = 0; pl < N * C; pl++)
            for (int64_t oh = 0; oh < w.out[0]; oh++)
                for (int64_t ow = 0; ow < w.out[1]; ow++) {
                    int32_t want = 0;
                    int64_t c = pl % C;
                    for (int64_t kh = 0; kh < w.kernel[0]; kh++)
                        for (int64_t kw = 0; kw < w.kernel[1]; kw++) {
                            int64_t ih = oh * w.stride[0] - w.pad_begin[0] + kh * w.dil[0];
                            int64_t iw = ow * w.stride[1] - w.pad_begin[1] + kw * w.dil[1];
                            if (ih < 0 || ih >= w.in[0] || iw < 0 || iw >= w.in[1])
                                continue;
                            uint8_t xv = x[pl * IN + ih * w.in[1] + iw], wv = wt[c * KK + kh * w.kernel[1] + kw];
                            want += ((xs ? (int32_t)(int8_t)xv : (int32_t)xv) - xzp) *
                                    ((ws ? (int32_t)(int8_t)wv : (int32_t)wv) - wzp[c]);
                        }
                    int32_t got = acc[pl * OUT + oh * w.out[1] + ow];
                    if (got != want)
                        fail_msg("iter %d plane %lld (%lld, %lld): %d, want %d", iter, (long long)pl, (long long)oh,
                                 (long long)ow, got, want);
                }
        free(x);
        free(wt);
        free(wzp);
        free(acc);
    }
    pool_free(sess);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_igemm_dense),
        cmocka_unit_test(test_igemm_window),
        cmocka_unit_test(test_igemm_q8),
        cmocka_unit_test(test_dwconv_q8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
