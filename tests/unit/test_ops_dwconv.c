/*
 * test_ops_dwconv.c — depthwise float32 Conv (group == C, any 2-D or 1-D
 * window: kernels 1..9 and asymmetric, strides 1..3, dilations 1..3, pads
 * 0..4, channel multipliers, odd plane sizes from 1 wide) against a plain
 * reference written here that follows the documented order of operations:
 * bias, then for kh and kw ascending one float multiply and one float add,
 * taps in the padding reading 0.  The results must be bit-identical under
 * every kernel set the CPU has (AVX-512, AVX2, plain C), on one thread and
 * on a 2-thread pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/kernel.h"
#include "ops/sgemm.h"

#include "op_harness.h"

typedef struct dwcase {
    int nsp;
    int64_t N, C, mult, in[2], k[2], s[2], d[2], pb[2], pe[2], out[2];
    bool bias;
} dwcase;

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static int64_t rnd(int64_t lo, int64_t hi)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return lo + (int64_t)(rng % (uint64_t)(hi - lo + 1));
}

/* Y in float, in the order the kernels promise. */
static float *ref_dw(const dwcase *c, const float *x, const float *w, const float *b)
{
    const int64_t M = c->C * c->mult, IH = c->in[0], IW = c->in[1], OH = c->out[0], OW = c->out[1];
    float *y = malloc((size_t)(c->N * M * OH * OW) * sizeof *y);
    for (int64_t n = 0; n < c->N; n++)
        for (int64_t m = 0; m < M; m++) {
            const float *xp = x + (n * c->C + m / c->mult) * IH * IW, *k = w + m * c->k[0] * c->k[1];
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    float acc = b ? b[m] : 0.0f;
                    for (int64_t kh = 0; kh < c->k[0]; kh++)
                        for (int64_t kw = 0; kw < c->k[1]; kw++) {
                            int64_t ih = oh * c->s[0] - c->pb[0] + kh * c->d[0];
                            int64_t iw = ow * c->s[1] - c->pb[1] + kw * c->d[1];
                            float xv = ih >= 0 && ih < IH && iw >= 0 && iw < IW ? xp[ih * IW + iw] : 0.0f;
                            float p = k[kh * c->k[1] + kw] * xv;
                            acc = acc + p;
                        }
                    y[((n * M + m) * OH + oh) * OW + ow] = acc;
                }
        }
    return y;
}

/* Runs the case through Conv (with exec, NULL for one thread) and compares
 * every bit with the reference. */
static void check_case(const dwcase *c, nt_exec *exec)
{
    const int64_t M = c->C * c->mult, nsp = c->nsp, a0 = 2 - nsp; /* 1-D: axis 1 only */
    int64_t xd[4] = {c->N, c->C, c->in[0], c->in[1]}, wd[4] = {M, 1, c->k[0], c->k[1]}, bd[1] = {M};
    if (nsp == 1) {
        xd[2] = c->in[1];
        wd[2] = c->k[1];
    }
    nt_tensor *X = mkf(2 + (int)nsp, xd, NULL), *W = mkf(2 + (int)nsp, wd, NULL);
    nt_tensor *B = c->bias ? mkf(1, bd, NULL) : NULL;
    fill(X->data, nt_tensor_numel(X), (uint32_t)rnd(1, 1 << 30));
    fill(W->data, nt_tensor_numel(W), (uint32_t)rnd(1, 1 << 30));
    if (B)
        fill(B->data, M, (uint32_t)rnd(1, 1 << 30));
    int64_t pads[4], n = 0;
    for (int64_t i = a0; i < 2; i++)
        pads[n++] = c->pb[i];
    for (int64_t i = a0; i < 2; i++)
        pads[n++] = c->pe[i];
    nt_attr at[4] = {attr_ints("strides", (int)nsp, c->s + a0), attr_ints("dilations", (int)nsp, c->d + a0),
                     attr_ints("pads", 2 * (int)nsp, pads), attr_int("group", c->C)};
    tnode t;
    tn_init(&t, "Conv");
    t.node.attrs = at;
    t.node.n_attr = 4;
    nt_tensor *in[3] = {X, W, B}, *out[1];
    assert_int_equal(oh_run(&t, 17, 3, in, 1, out, NULL, exec), NT_OK);
    float *ref = ref_dw(c, X->data, W->data, B ? B->data : NULL);
    const int64_t total = c->N * M * c->out[0] * c->out[1];
    assert_int_equal(nt_tensor_numel(out[0]), total);
    if (memcmp(out[0]->data, ref, (size_t)total * sizeof(float)) != 0) {
        for (int64_t i = 0; i < total; i++)
            if (memcmp((float *)out[0]->data + i, ref + i, sizeof(float)) != 0)
                fail_msg("k %lldx%lld s %lld,%lld d %lld,%lld in %lldx%lld: element %lld got %.9g want %.9g",
                         (long long)c->k[0], (long long)c->k[1], (long long)c->s[0], (long long)c->s[1],
                         (long long)c->d[0], (long long)c->d[1], (long long)c->in[0], (long long)c->in[1],
                         (long long)i, ((float *)out[0]->data)[i], ref[i]);
    }
    free(ref);
    free_all(1, out);
    nt_tensor_free(X);
    nt_tensor_free(W);
    nt_tensor_free(B);
}

/* Output sizes; false when the window does not fit. */
static bool resolve(dwcase *c)
{
    for (int i = 0; i < 2; i++) {
        int64_t span = (c->k[i] - 1) * c->d[i] + 1, full = c->in[i] + c->pb[i] + c->pe[i];
        if (span > full)
            return false;
        c->out[i] = (full - span) / c->s[i] + 1;
    }
    return true;
}

static void random_case(dwcase *c)
{
    memset(c, 0, sizeof *c);
    c->nsp = rnd(0, 5) == 0 ? 1 : 2;
    c->N = rnd(1, 2);
    c->C = rnd(1, 5);
    c->mult = rnd(0, 3) == 0 ? 2 : 1;
    c->bias = rnd(0, 1);
    do {
        for (int i = 0; i < 2; i++) {
            bool vertical_1d = c->nsp == 1 && i == 0;
            c->in[i] = vertical_1d ? 1 : rnd(1, 70);
            c->k[i] = vertical_1d ? 1 : rnd(0, 2) == 0 ? rnd(1, 9) : 2 * rnd(1, 3) + 1; /* mostly 3, 5, 7 */
            c->s[i] = vertical_1d ? 1 : rnd(1, 3);
            c->d[i] = vertical_1d ? 1 : rnd(0, 3) == 0 ? rnd(2, 3) : 1;
            c->pb[i] = vertical_1d ? 0 : rnd(0, 4);
            c->pe[i] = vertical_1d ? 0 : rnd(0, 4);
        }
    } while (!resolve(c));
}

static int kernel_sets(nt_sgemm_isa *sets)
{
    nt_sgemm_isa prev = nt_sgemm_isa_get();
    const nt_sgemm_isa all[3] = {NT_SGEMM_NONE, NT_SGEMM_AVX2, NT_SGEMM_AVX512};
    int n = 0;
    for (int i = 0; i < 3; i++) {
        nt_sgemm_isa_force(all[i]);
        if (nt_sgemm_isa_get() == all[i])
            sets[n++] = all[i];
    }
    nt_sgemm_isa_force(prev);
    return n;
}

/* Random windows under every kernel set, one thread and two. */
static void test_dwconv_random(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[3], prev = nt_sgemm_isa_get();
    int nsets = kernel_sets(sets);
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    for (int iter = 0; iter < 150; iter++) {
        dwcase c;
        random_case(&c);
        for (int si = 0; si < nsets; si++) {
            nt_sgemm_isa_force(sets[si]);
            check_case(&c, iter % 2 ? &exec : NULL);
        }
    }
    nt_sgemm_isa_force(prev);
    pool_free(sess);
}

/* The model shapes: EfficientNet 5x5 (stride 1 and 2), ConvNeXt 7x7 "same",
 * a dilated 3x3, small 7x7 and 14x14 planes, a row of exactly 16, 32 and 64
 * and one past (full vectors and the masked tail). */
static void test_dwconv_shapes(void **unused)
{
    (void)unused;
    static const int64_t shapes[][6] = {
        /* in, k, s, d, pad */
        {14, 5, 1, 1, 2}, {28, 5, 2, 1, 2}, {7, 7, 1, 1, 3}, {14, 7, 1, 1, 3}, {16, 3, 1, 4, 4},
        {16, 7, 1, 1, 3}, {32, 5, 1, 1, 2}, {64, 7, 1, 1, 3}, {65, 5, 2, 1, 2}, {33, 3, 3, 2, 2},
        {17, 1, 2, 1, 0}, {20, 4, 1, 1, 0},
    };
    nt_sgemm_isa sets[3], prev = nt_sgemm_isa_get();
    int nsets = kernel_sets(sets);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int si = 0; si < nsets; si++) {
            nt_sgemm_isa_force(sets[si]);
            dwcase c = {.nsp = 2, .N = 1, .C = 3, .mult = 1, .bias = true};
            for (int a = 0; a < 2; a++) {
                c.in[a] = shapes[i][0] + a; /* odd and even */
                c.k[a] = shapes[i][1];
                c.s[a] = shapes[i][2];
                c.d[a] = shapes[i][3];
                c.pb[a] = c.pe[a] = shapes[i][4];
            }
            assert_true(resolve(&c));
            check_case(&c, NULL);
        }
    nt_sgemm_isa_force(prev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dwconv_random),
        cmocka_unit_test(test_dwconv_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
