/*
 * test_f16_bridge.c — the float16/bfloat16 bridge (src/ops/f16_bridge.c)
 * driven the way the executor drives a kernel: plan-time infer (static
 * mode, possibly unknown dims), run-time infer, output allocation, compute.
 * The float32 kernels are the real ones, looked up with nt_op_find:
 * MatMul (batched, 1-D operands), Gemm (transposes, alpha/beta, C
 * broadcast), Conv (pads, strides, dilations, groups, bias), and NonZero
 * for an int64 output whose shape only compute knows.  Each bridged result
 * must equal, bit for bit, the float32 kernel's result on the widened inputs
 * rounded once to the half type, and be close to a double reference.  Also:
 * pass-through without half inputs, refused dtype mixes, and errors of the
 * inner kernel coming back unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/f16_bridge.h"

/* ------------------------------------------------------------ helpers */

typedef struct attrs {
    nt_attr a[8];
    int n;
} attrs;

static void at_int(attrs *at, const char *name, int64_t v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_INT, .i = v};
}

static void at_float(attrs *at, const char *name, float v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_FLOAT, .f = v};
}

static void at_ints(attrs *at, const char *name, int n, const int64_t *v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_INTS, .n = n, .ints = v};
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static double rndf(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

/* A tensor of dtype dt with random values in [-1, 1) (already rounded to dt). */
static nt_tensor *rand_tensor(nt_dtype dt, int ndim, const int64_t *dims)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(dt, ndim, dims, &t), NT_OK);
    for (int64_t i = 0; i < nt_tensor_numel(t); i++)
        nt_tensor_set_f64(t, i, rndf());
    return t;
}

/* The float32 copy of a half tensor (exact). */
static nt_tensor *widen(const nt_tensor *h)
{
    nt_tensor *f;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, h->ndim, h->dims, &f), NT_OK);
    nt_f16_to_f32(NULL, h->dtype, h->data, f->data, nt_tensor_numel(h));
    return f;
}

typedef struct node_env {
    nt_node node;
    const nt_op_def *op;
    void *state;
} node_env;

static void env_init(node_env *e, const char *op_type, int opset, const attrs *at, int n_in, int n_out)
{
    memset(e, 0, sizeof *e);
    e->node = (nt_node){.name = "t", .op_type = op_type, .domain = "", .n_in = n_in, .n_out = n_out,
                        .n_attr = at ? at->n : 0, .attrs = at ? (nt_attr *)at->a : NULL};
    e->op = nt_op_find(op_type, "", opset);
    assert_non_null(e->op);
    if (e->op->prepare)
        assert_int_equal(e->op->prepare(&e->node, opset, &e->state), NT_OK);
}

static void env_deinit(node_env *e)
{
    if (e->op->release)
        e->op->release(e->state);
}

/* Runs the op as the executor would, through the bridge when bridged.
 * Outputs infer could not shape are handed to compute unshaped (ndim -1,
 * no data).  On failure every output is freed and NULL. */
static nt_status run(const char *op_type, int opset, const attrs *at, int n_in, nt_tensor **in, int n_out,
                     nt_tensor **out, bool bridged)
{
    node_env e;
    env_init(&e, op_type, opset, at, n_in, n_out);
    nt_kernel_ctx ctx = {&e.node, opset, n_in, n_out, in, out, e.state, false, NULL, NULL};
    nt_status s = NT_OK;
    for (int i = 0; i < n_out; i++) {
        out[i] = calloc(1, sizeof(nt_tensor));
        assert_non_null(out[i]);
        out[i]->ndim = -1;
    }
    s = bridged ? nt_f16_bridge(&ctx, e.op->infer, NULL) : e.op->infer(&ctx);
    for (int i = 0; s == NT_OK && i < n_out; i++)
        if (out[i]->ndim >= 0) {
            size_t nbytes = nt_tensor_nbytes(out[i]);
            s = nt_tensor_reserve(out[i], nbytes);
        }
    if (s == NT_OK)
        s = bridged ? nt_f16_bridge(&ctx, e.op->infer, e.op->compute) : e.op->compute(&ctx);
    env_deinit(&e);
    if (s != NT_OK)
        for (int i = 0; i < n_out; i++) {
            nt_tensor_free(out[i]);
            out[i] = NULL;
        }
    return s;
}

/* Runs the op bridged on half inputs, and directly on their float32
 * copies; the bridged output must be the float32 output rounded to hd. */
static nt_tensor *check_against_f32(const char *op_type, int opset, const attrs *at, int n_in, nt_tensor **hin,
                                    nt_dtype hd)
{
    nt_tensor *fin[8] = {0}, *hout[1], *fout[1];
    for (int i = 0; i < n_in; i++)
        fin[i] = hin[i] ? widen(hin[i]) : NULL;
    assert_int_equal(run(op_type, opset, at, n_in, hin, 1, hout, true), NT_OK);
    assert_int_equal(run(op_type, opset, at, n_in, fin, 1, fout, false), NT_OK);
    assert_int_equal(hout[0]->dtype, hd);
    assert_int_equal(hout[0]->ndim, fout[0]->ndim);
    for (int d = 0; d < fout[0]->ndim; d++)
        assert_int_equal(hout[0]->dims[d], fout[0]->dims[d]);
    int64_t n = nt_tensor_numel(fout[0]);
    uint16_t *want = malloc((size_t)(n > 0 ? n : 1) * sizeof *want);
    assert_non_null(want);
    nt_f32_to_f16(NULL, hd, fout[0]->data, want, n);
    assert_memory_equal(hout[0]->data, want, (size_t)n * sizeof *want);
    free(want);
    for (int i = 0; i < n_in; i++)
        nt_tensor_free(fin[i]);
    nt_tensor_free(fout[0]);
    return hout[0];
}

/* Relative closeness of a half result to a double reference, allowing the
 * half rounding of the output (2^-11 or 2^-8) plus float32 accumulation. */
static void expect_close(const nt_tensor *t, const double *ref, int64_t n)
{
    double ulp = t->dtype == NT_DTYPE_BFLOAT16 ? 1.0 / 256 : 1.0 / 2048;
    assert_int_equal(nt_tensor_numel(t), n);
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(t, i);
        if (!(fabs(v - ref[i]) <= ulp * fabs(ref[i]) + 1e-5)) {
            print_error("element %lld: got %.9g expected %.9g\n", (long long)i, v, ref[i]);
            fail();
        }
    }
}

/* ------------------------------------------------------------ conversions */

static void test_conversions(void **unused)
{
    (void)unused;
    /* Exact values round-trip; 1 + 2^-11 is a tie and rounds to even (1.0). */
    const float vals[6] = {0.0f, -2.5f, 65504.0f, 1.0f / 1024, 1.0f + 1.0f / 2048, -INFINITY};
    uint16_t h[6];
    float back[6];
    nt_f32_to_f16(NULL, NT_DTYPE_FLOAT16, vals, h, 6);
    nt_f16_to_f32(NULL, NT_DTYPE_FLOAT16, h, back, 6);
    assert_true(back[0] == 0.0f && back[1] == -2.5f && back[2] == 65504.0f && back[3] == 1.0f / 1024);
    assert_true(back[4] == 1.0f);
    assert_true(isinf(back[5]) && back[5] < 0);
    nt_f32_to_f16(NULL, NT_DTYPE_BFLOAT16, vals, h, 2);
    nt_f16_to_f32(NULL, NT_DTYPE_BFLOAT16, h, back, 2);
    assert_true(back[0] == 0.0f && back[1] == -2.5f);
    float nan_in = NAN, nan_out;
    nt_f32_to_f16(NULL, NT_DTYPE_FLOAT16, &nan_in, h, 1);
    nt_f16_to_f32(NULL, NT_DTYPE_FLOAT16, h, &nan_out, 1);
    assert_true(isnan(nan_out));
}

/* ------------------------------------------------------------ MatMul */

static void test_matmul(void **unused)
{
    (void)unused;
    const nt_dtype hds[2] = {NT_DTYPE_FLOAT16, NT_DTYPE_BFLOAT16};
    for (int k = 0; k < 2; k++) {
        nt_dtype hd = hds[k];
        /* (2,3,4) x (4,5): batched A, shared B. */
        int64_t ad[3] = {2, 3, 4}, bd[2] = {4, 5};
        nt_tensor *A = rand_tensor(hd, 3, ad), *B = rand_tensor(hd, 2, bd);
        nt_tensor *in[2] = {A, B};
        nt_tensor *Y = check_against_f32("MatMul", 13, NULL, 2, in, hd);
        assert_int_equal(Y->ndim, 3);
        assert_int_equal(Y->dims[2], 5);
        double ref[30];
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 5; j++) {
                    double s = 0;
                    for (int q = 0; q < 4; q++)
                        s += nt_tensor_get_f64(A, (b * 3 + i) * 4 + q) * nt_tensor_get_f64(B, q * 5 + j);
                    ref[(b * 3 + i) * 5 + j] = s;
                }
        expect_close(Y, ref, 30);
        nt_tensor_free(Y);
        /* 1-D times 1-D: a scalar. */
        int64_t vd[1] = {7};
        nt_tensor *u = rand_tensor(hd, 1, vd), *v = rand_tensor(hd, 1, vd);
        nt_tensor *in2[2] = {u, v};
        Y = check_against_f32("MatMul", 13, NULL, 2, in2, hd);
        assert_int_equal(Y->ndim, 0);
        double dot = 0;
        for (int i = 0; i < 7; i++)
            dot += nt_tensor_get_f64(u, i) * nt_tensor_get_f64(v, i);
        expect_close(Y, &dot, 1);
        nt_tensor_free(Y);
        nt_tensor_free(u);
        nt_tensor_free(v);
        nt_tensor_free(A);
        nt_tensor_free(B);
    }
}

/* ------------------------------------------------------------ Gemm */

static void test_gemm(void **unused)
{
    (void)unused;
    for (int iter = 0; iter < 16; iter++) {
        nt_dtype hd = iter % 2 ? NT_DTYPE_BFLOAT16 : NT_DTYPE_FLOAT16;
        int64_t M = 3 + iter % 3, N = 4 + iter % 2, K = 5;
        int ta = (iter >> 1) & 1, tb = (iter >> 2) & 1;
        int64_t ad[2] = {ta ? K : M, ta ? M : K}, bd[2] = {tb ? N : K, tb ? K : N};
        /* C: none, (N), (M,1) or (M,N). */
        int cs = (iter >> 3) & 1 ? (iter & 1) + 2 : (iter & 1);
        int64_t cd[2] = {M, cs == 1 ? N : cs == 2 ? 1 : N};
        nt_tensor *A = rand_tensor(hd, 2, ad), *B = rand_tensor(hd, 2, bd), *C = NULL;
        if (cs == 1)
            C = rand_tensor(hd, 1, &N);
        else if (cs > 1)
            C = rand_tensor(hd, 2, cd);
        attrs at = {0};
        float alpha = 0.75f, beta = cs ? -1.5f : 1.0f;
        at_float(&at, "alpha", alpha);
        at_float(&at, "beta", beta);
        at_int(&at, "transA", ta);
        at_int(&at, "transB", tb);
        nt_tensor *in[3] = {A, B, C};
        nt_tensor *Y = check_against_f32("Gemm", 13, &at, C ? 3 : 2, in, hd);
        double ref[64];
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t q = 0; q < K; q++)
                    s += nt_tensor_get_f64(A, ta ? q * M + i : i * K + q) *
                         nt_tensor_get_f64(B, tb ? j * K + q : q * N + j);
                double c = cs == 0 ? 0 : cs == 1 ? nt_tensor_get_f64(C, j)
                                     : cs == 2   ? nt_tensor_get_f64(C, i)
                                                 : nt_tensor_get_f64(C, i * N + j);
                ref[i * N + j] = alpha * s + beta * c;
            }
        expect_close(Y, ref, M * N);
        nt_tensor_free(Y);
        nt_tensor_free(A);
        nt_tensor_free(B);
        nt_tensor_free(C);
    }
}

/* ------------------------------------------------------------ Conv */

/* Direct convolution in double: X (N,C,H,W), W (M,C/g,KH,KW). */
static void conv_ref(const nt_tensor *X, const nt_tensor *W, const nt_tensor *B, int64_t g, const int64_t *pads,
                     const int64_t *strides, const int64_t *dil, const nt_tensor *Y, double *ref)
{
    int64_t N = X->dims[0], C = X->dims[1], H = X->dims[2], Wd = X->dims[3];
    int64_t M = W->dims[0], Cg = W->dims[1], KH = W->dims[2], KW = W->dims[3];
    int64_t OH = Y->dims[2], OW = Y->dims[3], Mg = M / g;
    (void)C;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double s = B ? nt_tensor_get_f64(B, m) : 0;
                    for (int64_t c = 0; c < Cg; c++)
                        for (int64_t kh = 0; kh < KH; kh++)
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t ih = oh * strides[0] - pads[0] + kh * dil[0];
                                int64_t iw = ow * strides[1] - pads[1] + kw * dil[1];
                                if (ih < 0 || ih >= H || iw < 0 || iw >= Wd)
                                    continue;
                                int64_t ci = (m / Mg) * Cg + c;
                                s += nt_tensor_get_f64(X, ((n * X->dims[1] + ci) * H + ih) * Wd + iw) *
                                     nt_tensor_get_f64(W, ((m * Cg + c) * KH + kh) * KW + kw);
                            }
                    ref[((n * M + m) * OH + oh) * OW + ow] = s;
                }
}

static void test_conv(void **unused)
{
    (void)unused;
    struct {
        int64_t N, C, H, W, M, K, g, pad, stride, dil;
        bool bias;
    } cases[] = {
        {1, 3, 7, 6, 4, 3, 1, 1, 1, 1, true},    /* 3x3, the Winograd-sized path */
        {2, 4, 9, 9, 6, 3, 2, 0, 2, 1, false},   /* groups, stride */
        {1, 4, 8, 8, 4, 3, 4, 1, 1, 1, true},    /* depthwise */
        {1, 5, 5, 5, 3, 1, 1, 0, 1, 1, true},    /* pointwise */
        {1, 2, 10, 7, 3, 2, 1, 2, 1, 2, false},  /* dilation, wide pads */
    };
    for (size_t k = 0; k < NT_ARRAY_LEN(cases); k++) {
        nt_dtype hd = k % 2 ? NT_DTYPE_BFLOAT16 : NT_DTYPE_FLOAT16;
        int64_t xd[4] = {cases[k].N, cases[k].C, cases[k].H, cases[k].W};
        int64_t wd[4] = {cases[k].M, cases[k].C / cases[k].g, cases[k].K, cases[k].K};
        int64_t pads[4] = {cases[k].pad, cases[k].pad, cases[k].pad, cases[k].pad};
        int64_t st[2] = {cases[k].stride, cases[k].stride}, dl[2] = {cases[k].dil, cases[k].dil};
        nt_tensor *X = rand_tensor(hd, 4, xd), *W = rand_tensor(hd, 4, wd);
        nt_tensor *B = cases[k].bias ? rand_tensor(hd, 1, &cases[k].M) : NULL;
        attrs at = {0};
        at_ints(&at, "pads", 4, pads);
        at_ints(&at, "strides", 2, st);
        at_ints(&at, "dilations", 2, dl);
        at_int(&at, "group", cases[k].g);
        nt_tensor *in[3] = {X, W, B};
        nt_tensor *Y = check_against_f32("Conv", 11, &at, B ? 3 : 2, in, hd);
        int64_t n = nt_tensor_numel(Y);
        double *ref = malloc((size_t)n * sizeof *ref);
        assert_non_null(ref);
        conv_ref(X, W, B, cases[k].g, pads, st, dl, Y, ref);
        expect_close(Y, ref, n);
        free(ref);
        nt_tensor_free(Y);
        nt_tensor_free(X);
        nt_tensor_free(W);
        nt_tensor_free(B);
    }
}

/* ------------------------------------------------------------ plan-time infer */

static void test_static_infer(void **unused)
{
    (void)unused;
    node_env e;
    env_init(&e, "MatMul", 13, NULL, 2, 1);
    /* A (?, 3, 4) float16 without data, B (4, 5) float16 without data. */
    nt_tensor A = {.dtype = NT_DTYPE_FLOAT16, .ndim = 3, .dims = {-1, 3, 4}};
    nt_tensor B = {.dtype = NT_DTYPE_FLOAT16, .ndim = 2, .dims = {4, 5}};
    nt_tensor Y = {.ndim = -1};
    nt_tensor *in[2] = {&A, &B}, *out[1] = {&Y};
    nt_kernel_ctx ctx = {&e.node, 13, 2, 1, in, out, e.state, true, NULL, NULL};
    assert_int_equal(nt_f16_bridge(&ctx, e.op->infer, NULL), NT_OK);
    assert_int_equal(Y.dtype, NT_DTYPE_FLOAT16);
    assert_int_equal(Y.ndim, 3);
    assert_true(Y.dims[0] == -1 && Y.dims[1] == 3 && Y.dims[2] == 5);
    /* Unknown rank stays unknown, dtype still half. */
    A.ndim = -1;
    Y = (nt_tensor){.ndim = 5};
    assert_int_equal(nt_f16_bridge(&ctx, e.op->infer, NULL), NT_OK);
    assert_int_equal(Y.dtype, NT_DTYPE_FLOAT16);
    assert_int_equal(Y.ndim, -1);
    /* The caller's inputs are untouched. */
    assert_int_equal(A.dtype, NT_DTYPE_FLOAT16);
    assert_null(A.data);
    env_deinit(&e);
}

/* ------------------------------------------------------------ data-dependent, non-float output */

static void test_nonzero(void **unused)
{
    (void)unused;
    int64_t d[2] = {3, 4};
    nt_tensor *X;
    assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT16, 2, d, &X), NT_OK);
    const int nz[4] = {1, 6, 7, 11};
    for (int i = 0; i < 4; i++)
        nt_tensor_set_f64(X, nz[i], i + 0.5);
    nt_tensor *in[1] = {X}, *out[1];
    assert_int_equal(run("NonZero", 13, NULL, 1, in, 1, out, true), NT_OK);
    assert_int_equal(out[0]->dtype, NT_DTYPE_INT64);
    assert_int_equal(out[0]->ndim, 2);
    assert_int_equal(out[0]->dims[0], 2);
    assert_int_equal(out[0]->dims[1], 4);
    const int64_t *idx = out[0]->data;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(idx[i], nz[i] / 4);
        assert_int_equal(idx[4 + i], nz[i] % 4);
    }
    nt_tensor_free(out[0]);
    nt_tensor_free(X);
}

/* ------------------------------------------------------------ pass-through and errors */

static void test_passthrough_and_errors(void **unused)
{
    (void)unused;
    int64_t ad[2] = {3, 4}, bd[2] = {4, 2}, bad[2] = {5, 2};
    /* float32 only: the bridge is a plain call. */
    nt_tensor *A = rand_tensor(NT_DTYPE_FLOAT, 2, ad), *B = rand_tensor(NT_DTYPE_FLOAT, 2, bd), *o1[1], *o2[1];
    nt_tensor *in[2] = {A, B};
    assert_int_equal(run("MatMul", 13, NULL, 2, in, 1, o1, true), NT_OK);
    assert_int_equal(run("MatMul", 13, NULL, 2, in, 1, o2, false), NT_OK);
    assert_int_equal(o1[0]->dtype, NT_DTYPE_FLOAT);
    assert_memory_equal(o1[0]->data, o2[0]->data, 6 * sizeof(float));
    nt_tensor_free(o1[0]);
    nt_tensor_free(o2[0]);
    /* float16 with float32: refused. */
    nt_tensor *H = rand_tensor(NT_DTYPE_FLOAT16, 2, ad), *Hb = rand_tensor(NT_DTYPE_BFLOAT16, 2, bd);
    nt_tensor *mix[2] = {H, B};
    assert_int_equal(run("MatMul", 13, NULL, 2, mix, 1, o1, true), NT_ERR_SHAPE);
    assert_null(o1[0]);
    /* float16 with bfloat16: refused. */
    nt_tensor *mix2[2] = {H, Hb};
    assert_int_equal(run("MatMul", 13, NULL, 2, mix2, 1, o1, true), NT_ERR_SHAPE);
    /* The inner kernel's shape error comes back as it is. */
    nt_tensor *H2 = rand_tensor(NT_DTYPE_FLOAT16, 2, bad);
    nt_tensor *mism[2] = {H, H2};
    assert_int_equal(run("MatMul", 13, NULL, 2, mism, 1, o1, true), NT_ERR_SHAPE);
    assert_non_null(strstr(nt_last_error(), "inner dimensions"));
    /* Missing infer function. */
    nt_kernel_ctx ctx = {0};
    assert_int_equal(nt_f16_bridge(&ctx, NULL, NULL), NT_ERR_INVALID_ARG);
    nt_tensor_free(H);
    nt_tensor_free(H2);
    nt_tensor_free(Hb);
    nt_tensor_free(A);
    nt_tensor_free(B);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conversions),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_static_infer),
        cmocka_unit_test(test_nonzero),
        cmocka_unit_test(test_passthrough_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
