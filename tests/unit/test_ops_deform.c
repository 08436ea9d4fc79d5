/*
 * test_ops_deform.c — DeformConv (src/ops/deform.c): with zero offsets and
 * no mask it must equal Conv (looked up through nt_op_find) for strides,
 * pads, dilations and groups; with random fractional offsets, a mask, a
 * bias and several offset groups it must match a direct bilinear reference
 * written here; a 1-D DeformConv must equal the 2-D one on a height-1
 * image; float16 and float32 follow the double result; plan-time inference
 * keeps unknown dims; malformed shapes and attributes are refused.
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

/* op_harness.h runs a kernel through the registry as the executor does;
 * run_op keeps this file's call shape on top of it. */
#define OP_HARNESS_LOCAL_CHECKS
#include "op_harness.h"

typedef struct attrs {
    nt_attr a[8];
    int n;
} attrs;

static void at_int(attrs *at, const char *name, int64_t v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_INT, .i = v};
}

static void at_ints(attrs *at, const char *name, int n, const int64_t *v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_INTS, .n = n, .ints = v};
}

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static double rndf(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static nt_tensor *rand_tensor(nt_dtype dt, int ndim, const int64_t *dims, double scale)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(dt, ndim, dims, &t), NT_OK);
    for (int64_t i = 0; i < nt_tensor_numel(t); i++)
        nt_tensor_set_f64(t, i, rndf() * scale);
    return t;
}

static nt_tensor *converted(const nt_tensor *src, nt_dtype dt)
{
    if (!src)
        return NULL;
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(dt, src->ndim, src->dims, &t), NT_OK);
    for (int64_t i = 0; i < nt_tensor_numel(t); i++)
        nt_tensor_set_f64(t, i, nt_tensor_get_f64(src, i));
    return t;
}

/* Runs op_type (default domain) on n_in inputs; one output. */
static nt_status run_op(const char *op_type, int opset, const attrs *at, int n_in, nt_tensor **in, nt_tensor **out)
{
    tnode t;
    tn_init(&t, op_type);
    if (at) {
        t.node.attrs = (nt_attr *)at->a;
        t.node.n_attr = at->n;
    }
    return oh_run(&t, opset, n_in, in, 1, out, NULL, NULL);
}

static void expect_close(const nt_tensor *got, const double *ref, int64_t n, double tol)
{
    assert_int_equal(nt_tensor_numel(got), n);
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(got, i);
        if (!(fabs(v - ref[i]) <= tol * (1 + fabs(ref[i])))) {
            print_error("element %lld: got %.9g expected %.9g\n", (long long)i, v, ref[i]);
            fail();
        }
    }
}

/* ------------------------------------------------------------ zero offsets == Conv */

static void test_zero_offsets_is_conv(void **unused)
{
    (void)unused;
    struct {
        int64_t C, M, H, W, kh, kw, g, pad, stride, dil;
    } cases[] = {
        {2, 3, 5, 6, 3, 3, 1, 1, 1, 1},
        {4, 4, 7, 7, 3, 2, 2, 0, 2, 1},
        {3, 6, 6, 5, 2, 2, 3, 2, 1, 2},
        {1, 2, 4, 4, 1, 1, 1, 0, 1, 1},
    };
    for (size_t k = 0; k < NT_ARRAY_LEN(cases); k++) {
        int64_t xd[4] = {2, cases[k].C, cases[k].H, cases[k].W};
        int64_t wd[4] = {cases[k].M, cases[k].C / cases[k].g, cases[k].kh, cases[k].kw};
        int64_t pads[4] = {cases[k].pad, cases[k].pad, cases[k].pad, cases[k].pad};
        int64_t st[2] = {cases[k].stride, cases[k].stride}, dl[2] = {cases[k].dil, cases[k].dil};
        nt_tensor *X = rand_tensor(NT_DTYPE_DOUBLE, 4, xd, 1), *W = rand_tensor(NT_DTYPE_DOUBLE, 4, wd, 1);
        nt_tensor *B = rand_tensor(NT_DTYPE_DOUBLE, 1, &cases[k].M, 1);
        attrs at = {0};
        at_ints(&at, "pads", 4, pads);
        at_ints(&at, "strides", 2, st);
        at_ints(&at, "dilations", 2, dl);
        at_int(&at, "group", cases[k].g);
        nt_tensor *cin[3] = {X, W, B}, *Yc, *Yd;
        assert_int_equal(run_op("Conv", 11, &at, 3, cin, &Yc), NT_OK);
        int64_t od[4] = {2, cases[k].kh * cases[k].kw * 2, Yc->dims[2], Yc->dims[3]};
        nt_tensor *off;
        assert_int_equal(nt_tensor_new(NT_DTYPE_DOUBLE, 4, od, &off), NT_OK);
        nt_tensor *din[4] = {X, W, off, B};
        assert_int_equal(run_op("DeformConv", 22, &at, 4, din, &Yd), NT_OK);
        assert_int_equal(Yd->ndim, 4);
        for (int d = 0; d < 4; d++)
            assert_int_equal(Yd->dims[d], Yc->dims[d]);
        double *ref = malloc((size_t)nt_tensor_numel(Yc) * sizeof *ref);
        for (int64_t i = 0; i < nt_tensor_numel(Yc); i++)
            ref[i] = nt_tensor_get_f64(Yc, i);
        expect_close(Yd, ref, nt_tensor_numel(Yc), 1e-12);
        free(ref);
        nt_tensor_free(Yc);
        nt_tensor_free(Yd);
        nt_tensor_free(off);
        nt_tensor_free(X);
        nt_tensor_free(W);
        nt_tensor_free(B);
    }
}

/* ------------------------------------------------------------ bilinear reference */

static double bilinear(const nt_tensor *X, int64_t n, int64_t c, double h, double w)
{
    int64_t H = X->dims[2], W = X->dims[3];
    double h0 = floor(h), w0 = floor(w), s = 0;
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) {
            int64_t y = (int64_t)h0 + dy, x = (int64_t)w0 + dx;
            double wt = (dy ? h - h0 : 1 - (h - h0)) * (dx ? w - w0 : 1 - (w - w0));
            if (y >= 0 && y < H && x >= 0 && x < W)
                s += wt * nt_tensor_get_f64(X, ((n * X->dims[1] + c) * H + y) * W + x);
        }
    return s;
}

static void deform_ref(const nt_tensor *X, const nt_tensor *Wt, const nt_tensor *off, const nt_tensor *B,
                       const nt_tensor *mask, int64_t g, int64_t og, const int64_t *pads, const int64_t *st,
                       const int64_t *dl, const nt_tensor *Y, double *ref)
{
    int64_t N = X->dims[0], C = X->dims[1], M = Wt->dims[0], Cg = Wt->dims[1], KH = Wt->dims[2], KW = Wt->dims[3];
    int64_t OH = Y->dims[2], OW = Y->dims[3], Mg = M / g, cpog = C / og, K = KH * KW;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double s = B ? nt_tensor_get_f64(B, m) : 0;
                    for (int64_t c = 0; c < Cg; c++) {
                        int64_t ci = (m / Mg) * Cg + c, o = ci / cpog;
                        for (int64_t kh = 0; kh < KH; kh++)
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t k = kh * KW + kw;
                                /* offset channel (o*K + k)*2 + axis, axis 0 = h */
                                int64_t ch = (o * K + k) * 2;
                                double dh = nt_tensor_get_f64(off, ((n * og * K * 2 + ch) * OH + oh) * OW + ow);
                                double dw = nt_tensor_get_f64(off, ((n * og * K * 2 + ch + 1) * OH + oh) * OW + ow);
                                double h = (double)(oh * st[0] - pads[0] + kh * dl[0]) + dh;
                                double w = (double)(ow * st[1] - pads[1] + kw * dl[1]) + dw;
                                double v = bilinear(X, n, ci, h, w);
                                if (mask)
                                    v *= nt_tensor_get_f64(mask, ((n * og * K + o * K + k) * OH + oh) * OW + ow);
                                s += v * nt_tensor_get_f64(Wt, ((m * Cg + c) * KH + kh) * KW + kw);
                            }
                    }
                    ref[((n * M + m) * OH + oh) * OW + ow] = s;
                }
}

static void test_random_offsets(void **unused)
{
    (void)unused;
    const nt_dtype dts[3] = {NT_DTYPE_DOUBLE, NT_DTYPE_FLOAT, NT_DTYPE_FLOAT16};
    const double tols[3] = {1e-12, 1e-5, 4e-3};
    for (int iter = 0; iter < 6; iter++) {
        int64_t g = iter % 2 ? 2 : 1, og = iter % 3 == 2 ? 2 : (iter % 2 ? 1 : 2);
        int64_t C = 4, M = 4, H = 6, Wd = 7, KH = 3, KW = 2;
        int64_t pads[4] = {iter % 2, 1, iter % 2, 0}, st[2] = {1 + iter % 2, 1}, dl[2] = {1, 1 + (iter == 4)};
        int64_t OH = (H + pads[0] + pads[2] - ((KH - 1) * dl[0] + 1)) / st[0] + 1;
        int64_t OW = (Wd + pads[1] + pads[3] - ((KW - 1) * dl[1] + 1)) / st[1] + 1;
        int64_t xd[4] = {2, C, H, Wd}, wd[4] = {M, C / g, KH, KW}, od[4] = {2, og * KH * KW * 2, OH, OW};
        int64_t md[4] = {2, og * KH * KW, OH, OW};
        nt_tensor *X = rand_tensor(NT_DTYPE_DOUBLE, 4, xd, 1), *W = rand_tensor(NT_DTYPE_DOUBLE, 4, wd, 1);
        /* Offsets up to +-2.5 pixels: some taps land outside the image. */
        nt_tensor *off = rand_tensor(NT_DTYPE_DOUBLE, 4, od, 2.5), *B = iter % 2 ? rand_tensor(NT_DTYPE_DOUBLE, 1, &M, 1) : NULL;
        nt_tensor *mask = iter != 3 ? rand_tensor(NT_DTYPE_DOUBLE, 4, md, 1) : NULL;
        attrs at = {0};
        at_ints(&at, "pads", 4, pads);
        at_ints(&at, "strides", 2, st);
        at_ints(&at, "dilations", 2, dl);
        at_int(&at, "group", g);
        at_int(&at, "offset_group", og);
        int64_t kshape[2] = {KH, KW};
        at_ints(&at, "kernel_shape", 2, kshape);
        int64_t yd[4] = {2, M, OH, OW};
        nt_tensor *Yshape;
        assert_int_equal(nt_tensor_new(NT_DTYPE_DOUBLE, 4, yd, &Yshape), NT_OK);
        int64_t n = nt_tensor_numel(Yshape);
        double *ref = malloc((size_t)n * sizeof *ref);
        /* The reference sees the inputs as rounded to the tested dtype. */
        nt_dtype dt = dts[iter % 3];
        nt_tensor *in[5] = {converted(X, dt), converted(W, dt), converted(off, dt), converted(B, dt), converted(mask, dt)};
        deform_ref(in[0], in[1], in[2], in[3], in[4], g, og, pads, st, dl, Yshape, ref);
        nt_tensor *Y;
        assert_int_equal(run_op("DeformConv", 19, &at, 5, in, &Y), NT_OK);
        assert_int_equal(Y->dtype, dt);
        expect_close(Y, ref, n, tols[iter % 3]);
        nt_tensor_free(Y);
        for (int i = 0; i < 5; i++)
            nt_tensor_free(in[i]);
        free(ref);
        nt_tensor_free(Yshape);
        nt_tensor_free(X);
        nt_tensor_free(W);
        nt_tensor_free(off);
        nt_tensor_free(B);
        nt_tensor_free(mask);
    }
}

/* ------------------------------------------------------------ 1-D == 2-D with height 1 */

static void test_1d_matches_2d(void **unused)
{
    (void)unused;
    int64_t x1[3] = {1, 2, 9}, w1[3] = {3, 2, 3}, o1[3] = {1, 3, 7};
    nt_tensor *X = rand_tensor(NT_DTYPE_DOUBLE, 3, x1, 1), *W = rand_tensor(NT_DTYPE_DOUBLE, 3, w1, 1);
    nt_tensor *off = rand_tensor(NT_DTYPE_DOUBLE, 3, o1, 1.5), *Y1, *Y2;
    nt_tensor *in1[3] = {X, W, off};
    assert_int_equal(run_op("DeformConv", 22, NULL, 3, in1, &Y1), NT_OK);
    assert_int_equal(Y1->ndim, 3);
    assert_int_equal(Y1->dims[2], 7);
    /* The same as 2-D: H = 1, kernel (1, 3), the h offsets 0. */
    int64_t x2[4] = {1, 2, 1, 9}, w2[4] = {3, 2, 1, 3}, o2[4] = {1, 6, 1, 7};
    nt_tensor X2 = *X, W2 = *W, *off2;
    X2.ndim = W2.ndim = 4;
    memcpy(X2.dims, x2, sizeof x2);
    memcpy(W2.dims, w2, sizeof w2);
    assert_int_equal(nt_tensor_new(NT_DTYPE_DOUBLE, 4, o2, &off2), NT_OK);
    for (int k = 0; k < 3; k++)
        for (int p = 0; p < 7; p++)
            nt_tensor_set_f64(off2, (2 * k + 1) * 7 + p, nt_tensor_get_f64(off, k * 7 + p));
    nt_tensor *in2[3] = {&X2, &W2, off2};
    assert_int_equal(run_op("DeformConv", 22, NULL, 3, in2, &Y2), NT_OK);
    double ref[21];
    for (int i = 0; i < 21; i++)
        ref[i] = nt_tensor_get_f64(Y2, i);
    expect_close(Y1, ref, 21, 1e-14);
    nt_tensor_free(Y1);
    nt_tensor_free(Y2);
    nt_tensor_free(off2);
    nt_tensor_free(off);
    nt_tensor_free(X);
    nt_tensor_free(W);
}

/* ------------------------------------------------------------ plan-time inference and errors */

static void test_static_infer(void **unused)
{
    (void)unused;
    nt_node node = {.name = "t", .op_type = "DeformConv", .domain = "", .n_in = 3, .n_out = 1};
    const nt_op_def *op = nt_op_find("DeformConv", "", 22);
    void *state;
    assert_int_equal(op->prepare(&node, 22, &state), NT_OK);
    nt_tensor X = {.dtype = NT_DTYPE_FLOAT, .ndim = 4, .dims = {-1, 4, 10, 12}};
    nt_tensor W = {.dtype = NT_DTYPE_FLOAT, .ndim = 4, .dims = {8, 4, 3, 3}};
    nt_tensor O = {.dtype = NT_DTYPE_FLOAT, .ndim = 4, .dims = {-1, 18, 8, 10}};
    nt_tensor Y = {.ndim = -1}, *in[3] = {&X, &W, &O}, *out[1] = {&Y};
    nt_kernel_ctx ctx = {&node, 22, 3, 1, in, out, state, true, NULL, NULL};
    assert_int_equal(op->infer(&ctx), NT_OK);
    assert_int_equal(Y.dtype, NT_DTYPE_FLOAT);
    assert_int_equal(Y.ndim, 4);
    assert_true(Y.dims[0] == -1 && Y.dims[1] == 8 && Y.dims[2] == 8 && Y.dims[3] == 10);
    /* Wrong offset channel count. */
    O.dims[1] = 17;
    assert_int_equal(op->infer(&ctx), NT_ERR_SHAPE);
    O.dims[1] = 18;
    /* Unknown rank. */
    X.ndim = -1;
    assert_int_equal(op->infer(&ctx), NT_OK);
    assert_int_equal(Y.ndim, -1);
    /* Integer input is declined. */
    X.ndim = 4;
    X.dtype = W.dtype = O.dtype = NT_DTYPE_INT32;
    assert_int_equal(op->infer(&ctx), NT_ERR_UNSUPPORTED);
    op->release(state);

    /* Bad attributes. */
    attrs at = {0};
    at_int(&at, "offset_group", 0);
    nt_node n2 = {.name = "t", .op_type = "DeformConv", .domain = "", .n_attr = at.n, .attrs = at.a};
    assert_int_equal(op->prepare(&n2, 22, &state), NT_ERR_PARSE);
    attrs a2 = {0};
    int64_t st[2] = {1, 0};
    at_ints(&a2, "strides", 2, st);
    nt_node n3 = {.name = "t", .op_type = "DeformConv", .domain = "", .n_attr = a2.n, .attrs = a2.a};
    assert_int_equal(op->prepare(&n3, 22, &state), NT_ERR_PARSE);

    /* Run time: channels not divisible by offset_group; mask of the wrong size. */
    int64_t xd[4] = {1, 3, 4, 4}, wd[4] = {2, 3, 2, 2}, od[4] = {1, 16, 3, 3}, md[4] = {1, 5, 3, 3};
    nt_tensor *Xr = rand_tensor(NT_DTYPE_FLOAT, 4, xd, 1), *Wr = rand_tensor(NT_DTYPE_FLOAT, 4, wd, 1);
    nt_tensor *Or = rand_tensor(NT_DTYPE_FLOAT, 4, od, 1), *Mr = rand_tensor(NT_DTYPE_FLOAT, 4, md, 1), *Yr;
    attrs a3 = {0};
    at_int(&a3, "offset_group", 2);
    nt_tensor *rin[3] = {Xr, Wr, Or};
    assert_int_equal(run_op("DeformConv", 22, &a3, 3, rin, &Yr), NT_ERR_SHAPE);
    Or->dims[1] = 8;
    nt_tensor *rin2[5] = {Xr, Wr, Or, NULL, Mr};
    assert_int_equal(run_op("DeformConv", 22, NULL, 5, rin2, &Yr), NT_ERR_SHAPE);
    nt_tensor_free(Xr);
    nt_tensor_free(Wr);
    nt_tensor_free(Or);
    nt_tensor_free(Mr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zero_offsets_is_conv),
        cmocka_unit_test(test_random_offsets),
        cmocka_unit_test(test_1d_matches_2d),
        cmocka_unit_test(test_static_infer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
