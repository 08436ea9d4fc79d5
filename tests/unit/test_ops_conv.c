/*
 * test_ops_conv.c — the conv and pool families against naive reference
 * implementations written here: Conv (1-D/2-D/3-D, groups, depthwise,
 * strides, dilations, pads, auto_pad, bias; im2col, pointwise and depthwise
 * paths), ConvTranspose, ConvInteger, QLinearConv, MaxPool (with Indices),
 * AveragePool, LpPool, the global pools, MaxUnpool; plus attribute
 * validation, declined dtypes and static shape inference with unknown dims.
 * Kernels are called through nt_op_find with hand-built nodes (exec NULL).
 * The float32 Conv paths of our own kernels (packed sgemm with im2col fused
 * into packing, Winograd F(4x4,3x3), depthwise 3x3) run under every kernel
 * set the CPU has (AVX-512, AVX2, none = OpenBLAS), with NaN propagation
 * and the weight cache checked too.
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
#include "ops/conv_tapwise.h"
#include "ops/winograd.h"

/* ------------------------------------------------------------ helpers */

/* op_harness.h runs a kernel through the registry as the executor does;
 * run_op keeps this file's call shape on top of it. */
#define OP_HARNESS_LOCAL_CHECKS
#include "op_harness.h"

typedef struct attrs {
    nt_attr a[12];
    int64_t store[12][16];
    int n;
} attrs;

static void at_ints(attrs *at, const char *name, int n, const int64_t *v)
{
    nt_attr *a = &at->a[at->n];
    memcpy(at->store[at->n], v, (size_t)n * sizeof *v);
    *a = (nt_attr){.name = name, .type = NT_ATTR_INTS, .n = n, .ints = at->store[at->n]};
    at->n++;
}

static void at_int(attrs *at, const char *name, int64_t v)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_INT, .i = v};
}

static void at_str(attrs *at, const char *name, const char *s)
{
    at->a[at->n++] = (nt_attr){.name = name, .type = NT_ATTR_STRING, .s = s, .s_len = strlen(s)};
}

/* Runs op on inputs (NULL entries = omitted); outputs are created with the
 * inferred shapes.  Returns the first failing status. */
static nt_status run_op(const char *op_type, int opset, const attrs *at, int n_in, nt_tensor **in, int n_out,
                        nt_tensor **out)
{
    return oh_run_node(op_type, opset, at ? (nt_attr *)at->a : NULL, at ? at->n : 0, n_in, in, n_out, out, false);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int64_t rnd(int64_t lo, int64_t hi) /* inclusive */
{
    return lo + (int64_t)(next_u64() % (uint64_t)(hi - lo + 1));
}
static double rndf(void)
{
    return (double)(next_u64() >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static nt_tensor *tensor_rand(nt_dtype dt, int ndim, const int64_t *dims)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(dt, ndim, dims, &t), NT_OK);
    for (int64_t i = 0; i < nt_tensor_numel(t); i++) {
        if (dt == NT_DTYPE_UINT8)
            ((uint8_t *)t->data)[i] = (uint8_t)rnd(0, 255);
        else if (dt == NT_DTYPE_INT8)
            ((int8_t *)t->data)[i] = (int8_t)rnd(-128, 127);
        else
            nt_tensor_set_f64(t, i, rndf());
    }
    return t;
}

static nt_tensor *tensor_scalar(nt_dtype dt, double v)
{
    nt_tensor *t;
    assert_int_equal(nt_tensor_new(dt, 0, NULL, &t), NT_OK);
    nt_tensor_set_f64(t, 0, v);
    return t;
}

/* Compares t (any numeric dtype) with ref values; tolerance relative to
 * magnitude for floats, exact for integers. */
static void expect_close(const nt_tensor *t, const double *ref, int64_t n, double tol)
{
    assert_int_equal(nt_tensor_numel(t), n);
    for (int64_t i = 0; i < n; i++) {
        double v = nt_tensor_get_f64(t, i);
        double err = fabs(v - ref[i]);
        if (!(err <= tol * (1.0 + fabs(ref[i])))) {
            print_error("element %lld: got %.9g expected %.9g\n", (long long)i, v, ref[i]);
            fail();
        }
    }
}

/* ------------------------------------------------------------ naive conv */

typedef struct geo {
    int nsp;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out[3];
} geo;

/* Output size for explicit pads. */
static void geo_out(geo *g)
{
    for (int i = 0; i < g->nsp; i++)
        g->out[i] = (g->in[i] + g->pb[i] + g->pe[i] - ((g->k[i] - 1) * g->d[i] + 1)) / g->s[i] + 1;
}

/* Spatial position p (flat) → coords. */
static void unflat(int nsp, const int64_t *dims, int64_t p, int64_t *c)
{
    for (int i = nsp - 1; i >= 0; i--) {
        c[i] = p % dims[i];
        p /= dims[i];
    }
}

static int64_t prod(int n, const int64_t *v)
{
    int64_t p = 1;
    for (int i = 0; i < n; i++)
        p *= v[i];
    return p;
}

/* Y (N,M,out) = conv(X (N,C,in), W (M,C/G,k)) + B, in double. */
static double *ref_conv(const geo *g, int64_t N, int64_t C, int64_t M, int64_t G, const nt_tensor *X,
                        const nt_tensor *W, const nt_tensor *B, double xzp, const double *wzp)
{
    int64_t IN = prod(g->nsp, g->in), OUT = prod(g->nsp, g->out), K = prod(g->nsp, g->k);
    int64_t Cg = C / G, Mg = M / G;
    double *y = calloc((size_t)(N * M * OUT), sizeof *y);
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t o = 0; o < OUT; o++) {
                int64_t oc[3], kc[3];
                unflat(g->nsp, g->out, o, oc);
                double acc = B ? nt_tensor_get_f64(B, m) : 0;
                int64_t gi = m / Mg;
                for (int64_t c = 0; c < Cg; c++)
                    for (int64_t kk = 0; kk < K; kk++) {
                        unflat(g->nsp, g->k, kk, kc);
                        int64_t off = 0;
                        bool ok = true;
                        for (int i = 0; i < g->nsp; i++) {
                            int64_t p = oc[i] * g->s[i] - g->pb[i] + kc[i] * g->d[i];
                            ok = ok && p >= 0 && p < g->in[i];
                            off = off * g->in[i] + p;
                        }
                        if (!ok)
                            continue;
                        double xv = nt_tensor_get_f64(X, (n * C + gi * Cg + c) * IN + off) - xzp;
                        double wv = nt_tensor_get_f64(W, (m * Cg + c) * K + kk) - (wzp ? wzp[m] : 0);
                        acc += xv * wv;
                    }
                y[(n * M + m) * OUT + o] = acc;
            }
    return y;
}

static void random_geo(geo *g, int nsp)
{
    g->nsp = nsp;
    for (int i = 0; i < nsp; i++) {
        g->in[i] = rnd(nsp == 3 ? 3 : 4, nsp == 3 ? 6 : 11);
        g->k[i] = rnd(1, 3);
        g->s[i] = rnd(1, 2);
        g->d[i] = rnd(1, 2);
        g->pb[i] = rnd(0, 2);
        g->pe[i] = rnd(0, 2);
        if ((g->k[i] - 1) * g->d[i] + 1 > g->in[i] + g->pb[i] + g->pe[i])
            g->d[i] = 1;
    }
    geo_out(g);
}

static void add_geo_attrs(attrs *at, const geo *g, bool kernel)
{
    int64_t pads[6];
    for (int i = 0; i < g->nsp; i++) {
        pads[i] = g->pb[i];
        pads[i + g->nsp] = g->pe[i];
    }
    at_ints(at, "strides", g->nsp, g->s);
    at_ints(at, "dilations", g->nsp, g->d);
    at_ints(at, "pads", 2 * g->nsp, pads);
    if (kernel)
        at_ints(at, "kernel_shape", g->nsp, g->k);
}

/* ------------------------------------------------------------ Conv tests */

static void check_conv_case(const geo *g, int64_t N, int64_t C, int64_t M, int64_t G, bool bias, nt_dtype dt)
{
    int64_t xd[5] = {N, C}, wd[5] = {M, C / G}, bd[1] = {M};
    for (int i = 0; i < g->nsp; i++) {
        xd[i + 2] = g->in[i];
        wd[i + 2] = g->k[i];
    }
    nt_tensor *X = tensor_rand(dt, g->nsp + 2, xd), *W = tensor_rand(dt, g->nsp + 2, wd);
    nt_tensor *B = bias ? tensor_rand(dt, 1, bd) : NULL;
    attrs at = {0};
    add_geo_attrs(&at, g, rnd(0, 1));
    at_int(&at, "group", G);
    nt_tensor *in[3] = {X, W, B}, *out[1];
    assert_int_equal(run_op("Conv", 17, &at, 3, in, 1, out), NT_OK);
    assert_int_equal(out[0]->ndim, g->nsp + 2);
    for (int i = 0; i < g->nsp; i++)
        assert_int_equal(out[0]->dims[i + 2], g->out[i]);
    double *ref = ref_conv(g, N, C, M, G, X, W, B, 0, NULL);
    expect_close(out[0], ref, nt_tensor_numel(out[0]), dt == NT_DTYPE_FLOAT ? 1e-4 : 1e-10);
    free(ref);
    free_all(1, out);
    nt_tensor_free(X);
    nt_tensor_free(W);
    nt_tensor_free(B);
}

static void test_conv_random(void **unused)
{
    (void)unused;
    for (int iter = 0; iter < 120; iter++) {
        geo g;
        random_geo(&g, (int)rnd(1, 3));
        int64_t G = rnd(1, 3), Cg = rnd(1, 3), Mg = rnd(1, 3);
        check_conv_case(&g, rnd(1, 2), Cg * G, Mg * G, G, rnd(0, 1), iter % 5 == 0 ? NT_DTYPE_DOUBLE : NT_DTYPE_FLOAT);
    }
}

static void test_conv_paths(void **unused)
{
    (void)unused;
    /* pointwise (1x1 stride 1 no pads), grouped pointwise */
    geo g = {.nsp = 2, .in = {7, 5}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1}};
    geo_out(&g);
    check_conv_case(&g, 2, 6, 4, 1, true, NT_DTYPE_FLOAT);
    check_conv_case(&g, 1, 6, 4, 2, false, NT_DTYPE_FLOAT);
    /* depthwise (C == G), with multiplier 2, strides and dilations, 2-D and 1-D */
    for (int iter = 0; iter < 40; iter++) {
        geo d;
        random_geo(&d, (int)rnd(1, 2));
        int64_t C = rnd(1, 5);
        check_conv_case(&d, rnd(1, 2), C, C * rnd(1, 2), C, rnd(0, 1), NT_DTYPE_FLOAT);
    }
    /* wide rows to exercise the depthwise interior (3-tap unrolled, stride 1 and 2) */
    geo w = {.nsp = 2, .in = {9, 37}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}};
    geo_out(&w);
    check_conv_case(&w, 1, 8, 8, 8, true, NT_DTYPE_FLOAT);
    w.s[0] = w.s[1] = 2;
    geo_out(&w);
    check_conv_case(&w, 1, 8, 8, 8, true, NT_DTYPE_FLOAT);
    /* ResNet-like 3x3 with a bigger channel count */
    geo r = {.nsp = 2, .in = {14, 14}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}};
    geo_out(&r);
    check_conv_case(&r, 1, 32, 16, 1, true, NT_DTYPE_FLOAT);
}

/* auto_pad SAME_UPPER / SAME_LOWER / VALID resolve to explicit pads. */
static void test_conv_auto_pad(void **unused)
{
    (void)unused;
    const char *modes[3] = {"SAME_UPPER", "SAME_LOWER", "VALID"};
    for (int iter = 0; iter < 30; iter++) {
        int mode = iter % 3;
        geo g = {.nsp = 2};
        for (int i = 0; i < 2; i++) {
            g.in[i] = rnd(3, 9);
            g.k[i] = rnd(1, 3);
            g.s[i] = rnd(1, 3);
            g.d[i] = 1;
            if (mode == 2) {
                g.out[i] = (g.in[i] - g.k[i]) / g.s[i] + 1;
            } else {
                g.out[i] = (g.in[i] + g.s[i] - 1) / g.s[i];
                int64_t total = (g.out[i] - 1) * g.s[i] + g.k[i] - g.in[i];
                total = total < 0 ? 0 : total;
                g.pb[i] = mode == 0 ? total / 2 : total - total / 2;
                g.pe[i] = total - g.pb[i];
            }
        }
        int64_t xd[4] = {1, 2, g.in[0], g.in[1]}, wd[4] = {3, 2, g.k[0], g.k[1]};
        nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 4, xd), *W = tensor_rand(NT_DTYPE_FLOAT, 4, wd);
        attrs at = {0};
        at_str(&at, "auto_pad", modes[mode]);
        at_ints(&at, "strides", 2, g.s);
        nt_tensor *in[2] = {X, W}, *out[1];
        assert_int_equal(run_op("Conv", 11, &at, 2, in, 1, out), NT_OK);
        assert_int_equal(out[0]->dims[2], g.out[0]);
        assert_int_equal(out[0]->dims[3], g.out[1]);
        double *ref = ref_conv(&g, 1, 2, 3, 1, X, W, NULL, 0, NULL);
        expect_close(out[0], ref, nt_tensor_numel(out[0]), 1e-4);
        free(ref);
        free_all(1, out);
        nt_tensor_free(X);
        nt_tensor_free(W);
    }
}

/* ------------------------------------------------------------ ConvTranspose */

/* Y (N,M,out) += X (N,C,in) scattered through W (C,M/G,k). */
static void test_convtranspose_random(void **unused)
{
    (void)unused;
    for (int iter = 0; iter < 60; iter++) {
        int nsp = (int)rnd(1, 3);
        int64_t G = rnd(1, 2), Cg = rnd(1, 3), Mg = rnd(1, 3), N = rnd(1, 2), C = Cg * G, M = Mg * G;
        int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], op[3], out[3];
        int64_t xd[5] = {N, C}, wd[5] = {C, Mg};
        for (int i = 0; i < nsp; i++) {
            in[i] = rnd(1, 5);
            k[i] = rnd(1, 3);
            s[i] = rnd(1, 3);
            d[i] = rnd(1, 2);
            op[i] = rnd(0, s[i] - 1);
            pb[i] = rnd(0, 1);
            pe[i] = rnd(0, 1);
            out[i] = s[i] * (in[i] - 1) + op[i] + (k[i] - 1) * d[i] + 1 - pb[i] - pe[i];
            if (out[i] < 1) {
                out[i] += pb[i] + pe[i];
                pb[i] = pe[i] = 0;
            }
            xd[i + 2] = in[i];
            wd[i + 2] = k[i];
        }
        nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, nsp + 2, xd), *W = tensor_rand(NT_DTYPE_FLOAT, nsp + 2, wd);
        int64_t bd[1] = {M};
        nt_tensor *B = iter % 2 ? tensor_rand(NT_DTYPE_FLOAT, 1, bd) : NULL;
        int64_t pads[6];
        for (int i = 0; i < nsp; i++) {
            pads[i] = pb[i];
            pads[i + nsp] = pe[i];
        }
        attrs at = {0};
        at_ints(&at, "strides", nsp, s);
        at_ints(&at, "dilations", nsp, d);
        at_ints(&at, "pads", 2 * nsp, pads);
        at_ints(&at, "output_padding", nsp, op);
        at_int(&at, "group", G);
        nt_tensor *inp[3] = {X, W, B}, *o[1];
        assert_int_equal(run_op("ConvTranspose", 11, &at, 3, inp, 1, o), NT_OK);
        int64_t OUT = prod(nsp, out), IN = prod(nsp, in), K = prod(nsp, k);
        for (int i = 0; i < nsp; i++)
            assert_int_equal(o[0]->dims[i + 2], out[i]);
        double *ref = calloc((size_t)(N * M * OUT), sizeof *ref);
        for (int64_t n = 0; n < N; n++)
            for (int64_t m = 0; m < M; m++)
                for (int64_t q = 0; q < OUT; q++)
                    ref[(n * M + m) * OUT + q] = B ? nt_tensor_get_f64(B, m) : 0;
        for (int64_t n = 0; n < N; n++)
            for (int64_t c = 0; c < C; c++)
                for (int64_t p = 0; p < IN; p++)
                    for (int64_t mg = 0; mg < Mg; mg++)
                        for (int64_t kk = 0; kk < K; kk++) {
                            int64_t ic[3], kc[3], off = 0;
                            bool ok = true;
                            unflat(nsp, in, p, ic);
                            unflat(nsp, k, kk, kc);
                            for (int i = 0; i < nsp; i++) {
                                int64_t y = ic[i] * s[i] - pb[i] + kc[i] * d[i];
                                ok = ok && y >= 0 && y < out[i];
                                off = off * out[i] + y;
                            }
                            if (!ok)
                                continue;
                            int64_t m = (c / Cg) * Mg + mg;
                            ref[(n * M + m) * OUT + off] += nt_tensor_get_f64(X, (n * C + c) * IN + p) *
                                                            nt_tensor_get_f64(W, (c * Mg + mg) * K + kk);
                        }
        expect_close(o[0], ref, N * M * OUT, 1e-4);
        free(ref);
        free_all(1, o);
        nt_tensor_free(X);
        nt_tensor_free(W);
        nt_tensor_free(B);
    }
}

/* ------------------------------------------------------------ quantized */

static void test_convinteger_and_qlinearconv(void **unused)
{
    (void)unused;
    for (int iter = 0; iter < 40; iter++) {
        geo g;
        random_geo(&g, (int)rnd(1, 2));
        int64_t G = rnd(1, 2), Cg = rnd(1, 3), Mg = rnd(1, 3), N = 1, C = Cg * G, M = Mg * G;
        nt_dtype xt = iter % 2 ? NT_DTYPE_UINT8 : NT_DTYPE_INT8, wt = iter % 3 ? NT_DTYPE_INT8 : NT_DTYPE_UINT8;
        int64_t xd[4] = {N, C}, wd[4] = {M, Cg}, md[1] = {M};
        for (int i = 0; i < g.nsp; i++) {
            xd[i + 2] = g.in[i];
            wd[i + 2] = g.k[i];
        }
        nt_tensor *X = tensor_rand(xt, g.nsp + 2, xd), *W = tensor_rand(wt, g.nsp + 2, wd);
        double xzp = xt == NT_DTYPE_UINT8 ? (double)rnd(0, 255) : (double)rnd(-128, 127);
        bool per_channel = iter % 2 == 0;
        nt_tensor *XZ = tensor_scalar(xt, xzp), *WZ;
        double wzp[8];
        if (per_channel) {
            assert_int_equal(nt_tensor_new(wt, 1, md, &WZ), NT_OK);
            for (int64_t m = 0; m < M; m++) {
                wzp[m] = wt == NT_DTYPE_UINT8 ? (double)rnd(0, 255) : (double)rnd(-128, 127);
                nt_tensor_set_f64(WZ, m, wzp[m]);
            }
        } else {
            WZ = tensor_scalar(wt, wt == NT_DTYPE_UINT8 ? 3 : -2);
            for (int64_t m = 0; m < M; m++)
                wzp[m] = wt == NT_DTYPE_UINT8 ? 3 : -2;
        }
        attrs at = {0};
        add_geo_attrs(&at, &g, false);
        at_int(&at, "group", G);
        /* ConvInteger: exact int32. */
        nt_tensor *in[4] = {X, W, XZ, WZ}, *out[1];
        assert_int_equal(run_op("ConvInteger", 10, &at, 4, in, 1, out), NT_OK);
        assert_int_equal(out[0]->dtype, NT_DTYPE_INT32);
        double *acc = ref_conv(&g, N, C, M, G, X, W, NULL, xzp, wzp);
        int64_t total = nt_tensor_numel(out[0]);
        expect_close(out[0], acc, total, 0);
        free_all(1, out);
        /* QLinearConv: requantized with per-channel or per-tensor scales. */
        nt_tensor *xs = tensor_scalar(NT_DTYPE_FLOAT, 0.02), *ys = tensor_scalar(NT_DTYPE_FLOAT, 0.5);
        nt_tensor *yz = tensor_scalar(NT_DTYPE_UINT8, 128), *ws, *B = tensor_rand(NT_DTYPE_INT32, 1, md);
        assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 1, md, &ws), NT_OK);
        for (int64_t m = 0; m < M; m++)
            ((float *)ws->data)[m] = 0.01f * (float)(m + 1);
        for (int64_t m = 0; m < M; m++)
            ((int32_t *)B->data)[m] = (int32_t)rnd(-500, 500);
        nt_tensor *qin[9] = {X, xs, XZ, W, ws, WZ, ys, yz, B};
        assert_int_equal(run_op("QLinearConv", 10, &at, 9, qin, 1, out), NT_OK);
        assert_int_equal(out[0]->dtype, NT_DTYPE_UINT8);
        int64_t per = total / M;
        for (int64_t i = 0; i < total; i++) {
            int64_t m = (i / per) % M;
            float mult = 0.02f * ((float *)ws->data)[m] / 0.5f;
            double v = nearbyint((acc[i] + ((int32_t *)B->data)[m]) * (double)mult) + 128;
            v = v < 0 ? 0 : v > 255 ? 255 : v;
            assert_int_equal((int)((uint8_t *)out[0]->data)[i], (int)v);
        }
        free(acc);
        free_all(1, out);
        nt_tensor *frees[9] = {X, W, XZ, WZ, xs, ys, yz, ws, B};
        free_all(9, frees);
    }
}

/* ------------------------------------------------------------ pools */

/* Naive pooling of X (N,C,in) → (N,C,out); kind 0 max, 1 avg, 2 lp. */
static void ref_pool(int kind, const geo *g, int64_t planes, const nt_tensor *X, bool cip, double p, double *y,
                     int64_t *idx)
{
    int64_t IN = prod(g->nsp, g->in), OUT = prod(g->nsp, g->out), K = prod(g->nsp, g->k);
    for (int64_t q = 0; q < planes; q++)
        for (int64_t o = 0; o < OUT; o++) {
            int64_t oc[3], kc[3];
            unflat(g->nsp, g->out, o, oc);
            double best = -INFINITY, sum = 0;
            int64_t at = -1, count = 0, padded = 0;
            for (int64_t kk = 0; kk < K; kk++) {
                unflat(g->nsp, g->k, kk, kc);
                int64_t off = 0;
                bool ok = true, inpad = true;
                for (int i = 0; i < g->nsp; i++) {
                    int64_t pos = oc[i] * g->s[i] - g->pb[i] + kc[i] * g->d[i];
                    ok = ok && pos >= 0 && pos < g->in[i];
                    inpad = inpad && pos >= -g->pb[i] && pos < g->in[i] + g->pe[i];
                    off = off * g->in[i] + pos;
                }
                padded += inpad;
                if (!ok)
                    continue;
                double v = nt_tensor_get_f64(X, q * IN + off);
                count++;
                if (v > best) {
                    best = v;
                    at = q * IN + off;
                }
                sum += kind == 1 ? v : pow(fabs(v), p);
            }
            y[q * OUT + o] = kind == 0 ? best : kind == 1 ? sum / (double)(cip ? padded : count) : pow(sum, 1.0 / p);
            if (idx)
                idx[q * OUT + o] = at;
        }
}

static void test_pools_random(void **unused)
{
    (void)unused;
    const char *ops[3] = {"MaxPool", "AveragePool", "LpPool"};
    for (int iter = 0; iter < 150; iter++) {
        int kind = iter % 3;
        geo g;
        random_geo(&g, (int)rnd(1, 3));
        bool ceil_mode = rnd(0, 3) == 0 && kind != 2;
        for (int i = 0; i < g.nsp; i++) {
            if (g.pb[i] >= g.k[i])
                g.pb[i] = g.k[i] - 1;
            if (g.pe[i] >= g.k[i])
                g.pe[i] = g.k[i] - 1;
            int64_t ek = (g.k[i] - 1) * g.d[i] + 1, span = g.in[i] + g.pb[i] + g.pe[i] - ek;
            g.out[i] = (ceil_mode ? (span + g.s[i] - 1) / g.s[i] : span / g.s[i]) + 1;
            if (ceil_mode && (g.out[i] - 1) * g.s[i] >= g.in[i] + g.pb[i])
                g.out[i]--;
        }
        bool cip = rnd(0, 1);
        int64_t p = rnd(1, 3);
        int64_t N = rnd(1, 2), C = rnd(1, 3), xd[5] = {N, C};
        for (int i = 0; i < g.nsp; i++)
            xd[i + 2] = g.in[i];
        nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, g.nsp + 2, xd);
        attrs at = {0};
        add_geo_attrs(&at, &g, true);
        if (ceil_mode)
            at_int(&at, "ceil_mode", 1);
        if (kind == 1)
            at_int(&at, "count_include_pad", cip);
        if (kind == 2)
            at_int(&at, "p", p);
        nt_tensor *in[1] = {X}, *out[2];
        int n_out = kind == 0 ? 2 : 1;
        assert_int_equal(run_op(ops[kind], 19, &at, 1, in, n_out, out), NT_OK);
        for (int i = 0; i < g.nsp; i++)
            assert_int_equal(out[0]->dims[i + 2], g.out[i]);
        int64_t total = N * C * prod(g.nsp, g.out);
        double *ref = calloc((size_t)total, sizeof *ref);
        int64_t *idx = calloc((size_t)total, sizeof *idx);
        ref_pool(kind, &g, N * C, X, cip, (double)p, ref, idx);
        expect_close(out[0], ref, total, 1e-5);
        if (kind == 0)
            for (int64_t i = 0; i < total; i++)
                assert_int_equal(((int64_t *)out[1]->data)[i], idx[i]);
        free(ref);
        free(idx);
        free_all(n_out, out);
        nt_tensor_free(X);
    }
}

static void test_maxpool_storage_order_and_uint8(void **unused)
{
    (void)unused;
    /* 2x2 stride 2 on a 4x5 plane; column-major indices are h + w*H. */
    int64_t xd[4] = {1, 1, 4, 5};
    nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 4, xd);
    attrs at = {0};
    int64_t k[2] = {2, 2};
    at_ints(&at, "kernel_shape", 2, k);
    at_ints(&at, "strides", 2, k);
    at_int(&at, "storage_order", 1);
    nt_tensor *in[1] = {X}, *out[2];
    assert_int_equal(run_op("MaxPool", 12, &at, 1, in, 2, out), NT_OK);
    for (int64_t oh = 0; oh < 2; oh++)
        for (int64_t ow = 0; ow < 2; ow++) {
            int64_t bh = 0, bw = 0;
            double best = -INFINITY;
            for (int64_t h = 2 * oh; h < 2 * oh + 2; h++)
                for (int64_t w = 2 * ow; w < 2 * ow + 2; w++)
                    if (((float *)X->data)[h * 5 + w] > best) {
                        best = ((float *)X->data)[h * 5 + w];
                        bh = h;
                        bw = w;
                    }
            assert_int_equal(((int64_t *)out[1]->data)[oh * 2 + ow], bh + bw * 4);
        }
    free_all(2, out);
    nt_tensor_free(X);
    /* uint8 MaxPool */
    nt_tensor *U = tensor_rand(NT_DTYPE_UINT8, 4, xd);
    in[0] = U;
    attrs at2 = {0};
    at_ints(&at2, "kernel_shape", 2, k);
    assert_int_equal(run_op("MaxPool", 12, &at2, 1, in, 1, out), NT_OK);
    assert_int_equal(out[0]->dtype, NT_DTYPE_UINT8);
    const uint8_t *u = U->data, *y = out[0]->data;
    for (int64_t oh = 0; oh < 3; oh++)
        for (int64_t ow = 0; ow < 4; ow++) {
            uint8_t m = 0;
            for (int64_t h = oh; h < oh + 2; h++)
                for (int64_t w = ow; w < ow + 2; w++)
                    m = u[h * 5 + w] > m ? u[h * 5 + w] : m;
            assert_int_equal(y[oh * 4 + ow], m);
        }
    free_all(1, out);
    nt_tensor_free(U);
}

static void test_global_pools(void **unused)
{
    (void)unused;
    const char *ops[3] = {"GlobalMaxPool", "GlobalAveragePool", "GlobalLpPool"};
    int64_t xd[5] = {2, 3, 5, 7, 2};
    nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 5, xd);
    for (int kind = 0; kind < 3; kind++) {
        nt_tensor *in[1] = {X}, *out[1];
        assert_int_equal(run_op(ops[kind], 2, NULL, 1, in, 1, out), NT_OK);
        assert_int_equal(out[0]->ndim, 5);
        assert_int_equal(out[0]->dims[4], 1);
        double ref[6];
        for (int q = 0; q < 6; q++) {
            double best = -INFINITY, sum = 0, sq = 0;
            for (int i = 0; i < 70; i++) {
                double v = ((float *)X->data)[q * 70 + i];
                best = v > best ? v : best;
                sum += v;
                sq += v * v;
            }
            ref[q] = kind == 0 ? best : kind == 1 ? sum / 70 : sqrt(sq);
        }
        expect_close(out[0], ref, 6, 1e-5);
        free_all(1, out);
    }
    nt_tensor_free(X);
}

static void test_maxunpool_roundtrip(void **unused)
{
    (void)unused;
    int64_t xd[4] = {1, 2, 4, 6}, k[2] = {2, 2};
    nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 4, xd);
    attrs at = {0};
    at_ints(&at, "kernel_shape", 2, k);
    at_ints(&at, "strides", 2, k);
    nt_tensor *in[1] = {X}, *out[2];
    assert_int_equal(run_op("MaxPool", 12, &at, 1, in, 2, out), NT_OK);
    nt_tensor *uin[2] = {out[0], out[1]}, *u[1];
    assert_int_equal(run_op("MaxUnpool", 11, &at, 2, uin, 1, u), NT_OK);
    assert_int_equal(u[0]->dims[2], 4);
    assert_int_equal(u[0]->dims[3], 6);
    /* every pooled max is back where it came from; the rest is zero */
    int nonzero = 0;
    for (int64_t i = 0; i < 48; i++) {
        float v = ((float *)u[0]->data)[i];
        if (v != 0) {
            nonzero++;
            assert_true(v == ((float *)X->data)[i]);
        }
    }
    assert_int_equal(nonzero, 12);
    free_all(1, u);
    free_all(2, out);
    nt_tensor_free(X);
}

/* ------------------------------------------------------------ errors and static mode */

static void test_conv_errors(void **unused)
{
    (void)unused;
    int64_t xd[4] = {1, 4, 5, 5}, wd[4] = {2, 3, 3, 3};
    nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 4, xd), *W = tensor_rand(NT_DTYPE_FLOAT, 4, wd);
    nt_tensor *in[2] = {X, W}, *out[1];
    /* channel mismatch: X has 4, W expects 3 */
    assert_int_equal(run_op("Conv", 11, NULL, 2, in, 1, out), NT_ERR_SHAPE);
    /* bad attribute values */
    attrs a1 = {0};
    int64_t zero[2] = {0, 1};
    at_ints(&a1, "strides", 2, zero);
    assert_int_equal(run_op("Conv", 11, &a1, 2, in, 1, out), NT_ERR_PARSE);
    attrs a2 = {0};
    at_str(&a2, "auto_pad", "SIDEWAYS");
    assert_int_equal(run_op("Conv", 11, &a2, 2, in, 1, out), NT_ERR_PARSE);
    attrs a3 = {0};
    at_int(&a3, "group", 0);
    assert_int_equal(run_op("Conv", 11, &a3, 2, in, 1, out), NT_ERR_PARSE);
    attrs a4 = {0};
    int64_t odd[3] = {1, 1, 1};
    at_ints(&a4, "pads", 3, odd);
    assert_int_equal(run_op("MaxPool", 11, &a4, 1, in, 1, out), NT_ERR_PARSE); /* also lacks kernel_shape */
    /* window larger than the padded input */
    attrs a5 = {0};
    int64_t big[2] = {9, 9};
    at_ints(&a5, "kernel_shape", 2, big);
    assert_int_equal(run_op("MaxPool", 11, &a5, 1, in, 1, out), NT_ERR_SHAPE);
    /* declined dtype */
    nt_tensor *I = tensor_rand(NT_DTYPE_INT32, 4, xd);
    nt_tensor *iin[2] = {I, W};
    assert_int_equal(run_op("Conv", 11, NULL, 2, iin, 1, out), NT_ERR_UNSUPPORTED);
    nt_tensor_free(I);
    nt_tensor_free(X);
    nt_tensor_free(W);
}

static void test_static_infer(void **unused)
{
    (void)unused;
    nt_tensor X = {.dtype = NT_DTYPE_FLOAT, .ndim = 4, .dims = {-1, 3, 32, -1}};
    nt_tensor W = {.dtype = NT_DTYPE_FLOAT, .ndim = 4, .dims = {8, 3, 3, 3}};
    nt_tensor Y = {.ndim = -1};
    nt_tensor *in[2] = {&X, &W}, *out[1] = {&Y};
    attrs at = {0};
    int64_t pads[4] = {1, 1, 1, 1}, s[2] = {2, 2};
    at_ints(&at, "pads", 4, pads);
    at_ints(&at, "strides", 2, s);
    nt_node node = {.name = "t", .op_type = "Conv", .domain = "", .n_in = 2, .n_out = 1, .n_attr = at.n,
                    .attrs = at.a};
    const nt_op_def *op = nt_op_find("Conv", "", 13);
    void *state;
    assert_int_equal(op->prepare(&node, 13, &state), NT_OK);
    nt_kernel_ctx ctx = {&node, 13, 2, 1, in, out, state, true, NULL, NULL};
    assert_int_equal(op->infer(&ctx), NT_OK);
    assert_int_equal(Y.ndim, 4);
    assert_int_equal(Y.dims[0], -1);
    assert_int_equal(Y.dims[1], 8);
    assert_int_equal(Y.dims[2], 16);
    assert_int_equal(Y.dims[3], -1);
    X.ndim = -1;
    assert_int_equal(op->infer(&ctx), NT_OK);
    assert_int_equal(Y.ndim, -1);
    assert_int_equal(Y.dtype, NT_DTYPE_FLOAT);
    op->release(state);
}

/* ------------------------------------------------------------ our kernels */

/* The kernel sets to run under: each one the CPU supports, and NONE. */
static int kernel_sets(nt_sgemm_isa *sets)
{
    nt_sgemm_isa prev = nt_sgemm_isa_force(NT_SGEMM_AVX512), n = 0;
    const nt_sgemm_isa all[3] = {NT_SGEMM_NONE, NT_SGEMM_AVX2, NT_SGEMM_AVX512};
    for (int i = 0; i < 3; i++) {
        nt_sgemm_isa_force(all[i]);
        if (nt_sgemm_isa_get() == all[i])
            sets[n++] = all[i];
    }
    nt_sgemm_isa_force(prev);
    return (int)n;
}

/* Random 1-D/2-D convolutions with channel counts that fill several
 * register tiles (and leave ragged edges), groups, strides, dilations and
 * pads, under every kernel set. */
static void test_conv_kernel_sets(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[3], prev = nt_sgemm_isa_get();
    int n = kernel_sets(sets);
    for (int si = 0; si < n; si++) {
        nt_sgemm_isa_force(sets[si]);
        for (int iter = 0; iter < 30; iter++) {
            geo g;
            random_geo(&g, (int)rnd(1, 2));
            int64_t G = rnd(1, 2), Cg = rnd(2, 13), Mg = rnd(1, 21);
            check_conv_case(&g, rnd(1, 2), Cg * G, Mg * G, G, rnd(0, 1), NT_DTYPE_FLOAT);
        }
        /* Wide outputs: several column blocks and panels; 7x7/2 like conv1. */
        geo w = {.nsp = 2, .in = {23, 61}, .k = {7, 7}, .s = {2, 2}, .d = {1, 1}, .pb = {3, 3}, .pe = {3, 3}};
        geo_out(&w);
        check_conv_case(&w, 1, 3, 10, 1, true, NT_DTYPE_FLOAT);
        geo p = {.nsp = 2, .in = {31, 33}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1}};
        geo_out(&p);
        check_conv_case(&p, 2, 17, 9, 1, true, NT_DTYPE_FLOAT);
        /* K beyond one block (300 = 3 x 100 > 256). */
        geo k = {.nsp = 2, .in = {6, 9}, .k = {3, 10}, .s = {1, 1}, .d = {1, 1}, .pb = {1, 0}, .pe = {1, 2}};
        geo_out(&k);
        check_conv_case(&k, 1, 10, 11, 1, false, NT_DTYPE_FLOAT);
    }
    nt_sgemm_isa_force(prev);
}

/* Like check_conv_case for a 2-D, one-group conv, but the tolerance is
 * relative to the sum of |x*w| terms of each output (plus |bias|): the
 * rounding of Winograd's transforms scales with the terms, not with the
 * possibly cancelling sum.  Returns nothing; fails the test. */
static void check_conv_terms(const geo *g, int64_t N, int64_t C, int64_t M, bool bias, double tol)
{
    int64_t xd[4] = {N, C, g->in[0], g->in[1]}, wd[4] = {M, C, g->k[0], g->k[1]}, bd[1] = {M};
    nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 4, xd), *W = tensor_rand(NT_DTYPE_FLOAT, 4, wd);
    nt_tensor *B = bias ? tensor_rand(NT_DTYPE_FLOAT, 1, bd) : NULL;
    attrs at = {0};
    add_geo_attrs(&at, g, false);
    nt_tensor *in[3] = {X, W, B}, *out[1];
    assert_int_equal(run_op("Conv", 17, &at, 3, in, 1, out), NT_OK);
    double *ref = ref_conv(g, N, C, M, 1, X, W, B, 0, NULL);
    /* sum of |terms|: the same conv of |X| by |W| (+ |B|) */
    nt_tensor *AX = tensor_rand(NT_DTYPE_FLOAT, 4, xd), *AW = tensor_rand(NT_DTYPE_FLOAT, 4, wd);
    nt_tensor *AB = bias ? tensor_rand(NT_DTYPE_FLOAT, 1, bd) : NULL;
    for (int64_t i = 0; i < nt_tensor_numel(X); i++)
        ((float *)AX->data)[i] = fabsf(((float *)X->data)[i]);
    for (int64_t i = 0; i < nt_tensor_numel(W); i++)
        ((float *)AW->data)[i] = fabsf(((float *)W->data)[i]);
    for (int64_t i = 0; bias && i < M; i++)
        ((float *)AB->data)[i] = fabsf(((float *)B->data)[i]);
    double *mag = ref_conv(g, N, C, M, 1, AX, AW, AB, 0, NULL);
    for (int64_t i = 0; i < nt_tensor_numel(out[0]); i++) {
        double v = ((float *)out[0]->data)[i];
        if (!(fabs(v - ref[i]) <= tol * (1.0 + mag[i]))) {
            print_error("element %lld: got %.9g expected %.9g (terms %.3g)\n", (long long)i, v, ref[i], mag[i]);
            fail();
        }
    }
    free(ref);
    free(mag);
    free_all(1, out);
    nt_tensor *all[6] = {X, W, B, AX, AW, AB};
    for (int i = 0; i < 6; i++)
        nt_tensor_free(all[i]);
}

/* 3x3 stride-1 convolutions big enough for Winograd (>= 16 channels each
 * way, >= 12 tiles of 4x4), with every pad combination up to 2, ragged
 * output sizes, bias or not, two images.  F(4x4,3x3) rounds at about
 * 1e-6 of the sum of |terms| (direct summation at about 1e-7); a wrong
 * transform would be off by whole terms. */
static void test_conv_winograd(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[3], prev = nt_sgemm_isa_get();
    int n = kernel_sets(sets);
    for (int si = 0; si < n; si++) {
        nt_sgemm_isa_force(sets[si]);
        for (int iter = 0; iter < 6; iter++) {
            geo g = {.nsp = 2, .k = {3, 3}, .s = {1, 1}, .d = {1, 1}};
            g.in[0] = rnd(13, 21);
            g.in[1] = rnd(11, 26);
            for (int i = 0; i < 2; i++) {
                g.pb[i] = rnd(0, 2);
                g.pe[i] = rnd(0, 2);
            }
            geo_out(&g);
            check_conv_terms(&g, rnd(1, 2), rnd(16, 35), rnd(16, 40), iter % 2 == 0, 1e-5);
        }
        /* Many channels: two K blocks in the transformed GEMMs. */
        geo big = {.nsp = 2, .in = {14, 14}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}};
        geo_out(&big);
        check_conv_terms(&big, 1, 300, 24, true, 1e-5);
        /* Small planes (F(2x2)): 7x7 like ResNet's last stage, and others. */
        for (int iter = 0; iter < 6; iter++) {
            geo g = {.nsp = 2, .k = {3, 3}, .s = {1, 1}, .d = {1, 1}};
            g.in[0] = iter == 0 ? 7 : rnd(5, 9);
            g.in[1] = iter == 0 ? 7 : rnd(5, 9);
            for (int i = 0; i < 2; i++) {
                g.pb[i] = iter == 0 ? 1 : rnd(0, 2);
                g.pe[i] = iter == 0 ? 1 : rnd(0, 2);
            }
            geo_out(&g);
            check_conv_terms(&g, rnd(1, 2), rnd(16, 40), rnd(16, 30), iter % 2 == 1, 1e-5);
        }
    }
    nt_sgemm_isa_force(prev);
}

/* Depthwise 3x3 (stride 1 and 2, "same" and other pads, planes from 1 wide
 * to wider than one vector) against the reference. */
static void test_conv_depthwise3x3(void **unused)
{
    (void)unused;
    for (int iter = 0; iter < 40; iter++) {
        geo g = {.nsp = 2, .k = {3, 3}, .d = {1, 1}};
        for (int i = 0; i < 2; i++) {
            g.in[i] = rnd(1, 40);
            g.s[i] = rnd(1, 2);
            g.pb[i] = rnd(0, 1);
            g.pe[i] = rnd(0, 1);
            if (g.in[i] + g.pb[i] + g.pe[i] < 3)
                g.pb[i] = g.pe[i] = 1, g.in[i] = g.in[i] < 1 ? 1 : g.in[i];
        }
        if (iter % 4 == 0) { /* the flat "same" stride-1 path */
            g.s[0] = g.s[1] = 1;
            g.pb[0] = g.pb[1] = g.pe[0] = g.pe[1] = 1;
            g.in[0] = rnd(3, 15);
            g.in[1] = rnd(3, 15);
        }
        geo_out(&g);
        int64_t C = rnd(1, 6);
        check_conv_case(&g, rnd(1, 2), C, C * rnd(1, 2), C, rnd(0, 1), NT_DTYPE_FLOAT);
    }
}

/* Y of a conv of X with one NaN (and W with one NaN in the second run)
 * against the reference: every output that reads the NaN must be NaN; the
 * others must match.  Extra NaNs are allowed where a path legitimately
 * makes them: Winograd spreads a NaN input over whole 4x4 tiles
 * (x_extra_ok), and GEMM paths multiply a NaN weight by the zeros of the
 * padding, which the reference skips (w_extra_ok). */
static void check_conv_nan(const geo *g, int64_t C, int64_t M, int64_t G, bool x_extra_ok, bool w_extra_ok)
{
    int64_t xd[4] = {1, C, g->in[0], g->in[1]}, wd[4] = {M, C / G, g->k[0], g->k[1]};
    for (int which = 0; which < 2; which++) {
        const bool extra_nan_ok = which == 0 ? x_extra_ok : w_extra_ok;
        nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 4, xd), *W = tensor_rand(NT_DTYPE_FLOAT, 4, wd);
        nt_tensor *T = which == 0 ? X : W;
        ((float *)T->data)[rnd(0, nt_tensor_numel(T) - 1)] = NAN;
        attrs at = {0};
        add_geo_attrs(&at, g, false);
        at_int(&at, "group", G);
        nt_tensor *in[3] = {X, W, NULL}, *out[1];
        assert_int_equal(run_op("Conv", 17, &at, 3, in, 1, out), NT_OK);
        double *ref = ref_conv(g, 1, C, M, G, X, W, NULL, 0, NULL);
        int64_t nn = nt_tensor_numel(out[0]), nan_seen = 0;
        for (int64_t i = 0; i < nn; i++) {
            double v = ((float *)out[0]->data)[i];
            if (isnan(ref[i])) {
                nan_seen++;
                if (!isnan(v)) {
                    print_error("element %lld: NaN lost (got %g)\n", (long long)i, v);
                    fail();
                }
            } else if (isnan(v)) {
                if (!extra_nan_ok) {
                    print_error("element %lld: NaN from nowhere\n", (long long)i);
                    fail();
                }
            } else if (!(fabs(v - ref[i]) <= 1e-4 * (1 + fabs(ref[i])))) {
                print_error("element %lld: got %g expected %g\n", (long long)i, v, ref[i]);
                fail();
            }
        }
        assert_true(nan_seen > 0 || which == 0); /* a NaN weight always reaches some output */
        free(ref);
        free_all(1, out);
        nt_tensor_free(X);
        nt_tensor_free(W);
    }
}

static void test_conv_nan_propagation(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[3], prev = nt_sgemm_isa_get();
    int n = kernel_sets(sets);
    for (int si = 0; si < n; si++) {
        nt_sgemm_isa_force(sets[si]);
        geo g3 = {.nsp = 2, .in = {15, 17}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}};
        geo_out(&g3);
        check_conv_nan(&g3, 16, 16, 1, sets[si] != NT_SGEMM_NONE, true); /* Winograd */
        check_conv_nan(&g3, 5, 7, 1, false, true);                      /* im2col packing */
        check_conv_nan(&g3, 6, 6, 6, false, true); /* depthwise, small plane: w*0 at the border */
        geo gw = {.nsp = 2, .in = {9, 40}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}};
        geo_out(&gw);
        check_conv_nan(&gw, 4, 4, 4, false, false); /* depthwise, wide plane: padding taps skipped */
        geo g1 = {.nsp = 2, .in = {9, 10}, .k = {1, 1}, .s = {1, 1}, .d = {1, 1}};
        geo_out(&g1);
        check_conv_nan(&g1, 8, 12, 1, false, false);                    /* pointwise */
        geo g5 = {.nsp = 2, .in = {12, 11}, .k = {5, 3}, .s = {2, 1}, .d = {1, 2}, .pb = {2, 0}, .pe = {1, 2}};
        geo_out(&g5);
        check_conv_nan(&g5, 6, 8, 2, false, true);
        /* Winograd switched off: the same conv keeps NaN to the receptive
         * field exactly. */
        nt_wino_enable(false);
        check_conv_nan(&g3, 16, 16, 1, false, true);
        nt_wino_enable(true);
    }
    nt_sgemm_isa_force(prev);
}

/* MaxPool's 2-D float path: a NaN anywhere in a window makes that output
 * NaN (a tracer must see it); every other output is the window's max. */
static void test_maxpool_nan(void **unused)
{
    (void)unused;
    for (int iter = 0; iter < 20; iter++) {
        geo g = {.nsp = 2, .d = {1, 1}};
        for (int i = 0; i < 2; i++) {
            g.in[i] = rnd(3, 30);
            g.k[i] = rnd(1, 3);
            g.s[i] = rnd(1, 2);
            g.pb[i] = rnd(0, g.k[i] - 1);
            g.pe[i] = rnd(0, g.k[i] - 1);
        }
        geo_out(&g);
        int64_t xd[4] = {1, 2, g.in[0], g.in[1]};
        nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 4, xd);
        for (int k = 0; k < 3; k++)
            ((float *)X->data)[rnd(0, nt_tensor_numel(X) - 1)] = NAN;
        attrs at = {0};
        add_geo_attrs(&at, &g, true);
        nt_tensor *in[1] = {X}, *out[1];
        assert_int_equal(run_op("MaxPool", 12, &at, 1, in, 1, out), NT_OK);
        const float *x = X->data, *y = out[0]->data;
        for (int64_t c = 0; c < 2; c++)
            for (int64_t oh = 0; oh < g.out[0]; oh++)
                for (int64_t ow = 0; ow < g.out[1]; ow++) {
                    bool nan = false;
                    double best = -INFINITY;
                    for (int64_t kh = 0; kh < g.k[0]; kh++)
                        for (int64_t kw = 0; kw < g.k[1]; kw++) {
                            int64_t ih = oh * g.s[0] - g.pb[0] + kh, iw = ow * g.s[1] - g.pb[1] + kw;
                            if (ih < 0 || ih >= g.in[0] || iw < 0 || iw >= g.in[1])
                                continue;
                            float v = x[(c * g.in[0] + ih) * g.in[1] + iw];
                            nan = nan || isnan(v);
                            best = v > best ? v : best;
                        }
                    float got = y[(c * g.out[0] + oh) * g.out[1] + ow];
                    if (nan)
                        assert_true(isnan(got));
                    else
                        assert_true(got == (float)best);
                }
        free_all(1, out);
        nt_tensor_free(X);
    }
}

/* Prepared weights are reused only while W is a constant of the session: a
 * W that is an initializer gives the same result on every run; a W that is
 * not (a graph input here) is re-read on every run, so changing it in
 * place changes the result. */
static void test_conv_weight_cache(void **unused)
{
    (void)unused;
    for (int winograd = 0; winograd < 2; winograd++)
        for (int is_init = 0; is_init < 2; is_init++) {
            int64_t C = winograd ? 16 : 5, M = winograd ? 16 : 6, H = 14;
            geo g = {.nsp = 2, .in = {H, H}, .k = {3, 3}, .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}};
            geo_out(&g);
            int64_t xd[4] = {1, C, H, H}, wd[4] = {M, C, 3, 3};
            nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 4, xd), *W = tensor_rand(NT_DTYPE_FLOAT, 4, wd), *Y;
            assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 4, (int64_t[]){1, M, H, H}, &Y), NT_OK);
            attrs at = {0};
            add_geo_attrs(&at, &g, false);
            int node_in[2] = {0, 1}, node_out[1] = {2};
            nt_value values[3] = {{.name = "X", .kind = NT_VALUE_INPUT},
                                  {.name = "W", .kind = is_init ? NT_VALUE_INITIALIZER : NT_VALUE_INPUT,
                                   .init = is_init ? W : NULL, .is_graph_input = !is_init},
                                  {.name = "Y"}};
            nt_node node = {.name = "t", .op_type = "Conv", .domain = "", .n_in = 2, .n_out = 1, .in = node_in,
                            .out = node_out, .n_attr = at.n, .attrs = at.a};
            nt_graph graph = {.name = "g", .n_nodes = 1, .nodes = &node, .n_values = 3, .values = values};
            const nt_op_def *op = nt_op_find("Conv", "", 17);
            void *state = NULL;
            assert_int_equal(op->prepare(&node, 17, &state), NT_OK);
            nt_tensor *in[2] = {X, W}, *out[1] = {Y};
            nt_kernel_ctx ctx = {&node, 17, 2, 1, in, out, state, false, NULL, &graph};
            for (int run = 0; run < 3; run++) {
                assert_int_equal(op->infer(&ctx), NT_OK);
                assert_int_equal(op->compute(&ctx), NT_OK);
                double *ref = ref_conv(&g, 1, C, M, 1, X, W, NULL, 0, NULL);
                expect_close(Y, ref, nt_tensor_numel(Y), 1e-4);
                free(ref);
                if (!is_init) /* a fed input may change between runs */
                    for (int64_t i = 0; i < nt_tensor_numel(W); i++)
                        ((float *)W->data)[i] = (float)rndf();
            }
            op->release(state);
            nt_tensor_free(X);
            nt_tensor_free(W);
            nt_tensor_free(Y);
        }
}

/* Taps that only ever read padding are dropped (conv_taps.c), taps that
 * read it for few outputs run as per-tap GEMMs (conv_tapwise.c): ASPP-like
 * dilated 3x3 on small maps (at dilation >= the map only the centre tap is
 * left: a 1x1 conv), strided, asymmetric and 1-D/3-D windows whose edge
 * taps die, under every kernel set; then one node with a constant W run on
 * maps where the live taps differ (the cut and packed weights must follow). */
static void test_conv_dead_taps(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[3], prev = nt_sgemm_isa_get();
    int n = kernel_sets(sets);
    for (int si = 0; si < n; si++) {
        nt_sgemm_isa_force(sets[si]);
        static const int64_t aspp[][2] = {{16, 12}, {16, 24}, {16, 36}, {9, 6}, {5, 8}};
        for (size_t i = 0; i < sizeof aspp / sizeof aspp[0]; i++) {
            geo g = {.nsp = 2, .in = {aspp[i][0], aspp[i][0] + 1}, .k = {3, 3}, .s = {1, 1},
                     .d = {aspp[i][1], aspp[i][1]}, .pb = {aspp[i][1], aspp[i][1]}, .pe = {aspp[i][1], aspp[i][1]}};
            geo_out(&g);
            check_conv_case(&g, 1, 20, 18, 1, i % 2 == 0, NT_DTYPE_FLOAT);
            check_conv_case(&g, 1, 8, 6, 2, i % 2 == 1, NT_DTYPE_FLOAT);
        }
        /* dilation 12 on 16x16 keeps every tap live but reads the map for
         * a quarter of the products: the tap-wise GEMMs (conv_tapwise.c),
         * with two images, groups, bias and a stride */
        geo ga = {.nsp = 2, .in = {16, 15}, .k = {3, 3}, .s = {1, 2}, .d = {12, 12}, .pb = {12, 12}, .pe = {12, 12}};
        geo_out(&ga);
        nt_window aw = {.nsp = 2, .in = {16, 15}, .out = {ga.out[0], ga.out[1]}, .kernel = {3, 3}, .stride = {1, 2},
                        .dil = {12, 12}, .pad_begin = {12, 12}, .pad_end = {12, 12}};
        assert_true(nt_conv_tapwise_pays(&aw));
        check_conv_case(&ga, 2, 12, 10, 2, true, NT_DTYPE_FLOAT);
        check_conv_case(&ga, 1, 9, 7, 1, false, NT_DTYPE_FLOAT);
        for (int iter = 0; iter < 30; iter++) {
            geo g = {.nsp = (int)rnd(1, 3)};
            for (int a = 0; a < g.nsp; a++) {
                g.in[a] = rnd(1, g.nsp == 3 ? 4 : 9);
                g.k[a] = rnd(1, 5);
                g.s[a] = rnd(1, 3);
                g.d[a] = rnd(1, 6);
                g.pb[a] = rnd(0, 12);
                g.pe[a] = rnd(0, 12);
                if ((g.k[a] - 1) * g.d[a] + 1 > g.in[a] + g.pb[a] + g.pe[a])
                    g.pe[a] += (g.k[a] - 1) * g.d[a] + 1 - g.in[a] - g.pb[a] - g.pe[a];
            }
            geo_out(&g);
            int64_t G = rnd(1, 2);
            check_conv_case(&g, 1, G * rnd(2, 6), G * rnd(1, 5), G, rnd(0, 1), NT_DTYPE_FLOAT);
        }
    }
    nt_sgemm_isa_force(prev);

    /* one node state over maps of 10, 25, 10 and 40, W a constant: pads
     * 30 and 18 at dilation 24 leave tap 1, taps 1-2, tap 1, all taps */
    const int64_t C = 6, M = 5, sizes[4] = {10, 25, 10, 40};
    int64_t wd[4] = {M, C, 3, 3};
    nt_tensor *W = tensor_rand(NT_DTYPE_FLOAT, 4, wd);
    geo g = {.nsp = 2, .k = {3, 3}, .s = {1, 1}, .d = {24, 24}, .pb = {30, 30}, .pe = {18, 18}};
    attrs at = {0};
    add_geo_attrs(&at, &g, false);
    int node_in[2] = {0, 1}, node_out[1] = {2};
    nt_value values[3] = {{.name = "X", .kind = NT_VALUE_INPUT},
                          {.name = "W", .kind = NT_VALUE_INITIALIZER, .init = W},
                          {.name = "Y"}};
    nt_node node = {.name = "t", .op_type = "Conv", .domain = "", .n_in = 2, .n_out = 1, .in = node_in,
                    .out = node_out, .n_attr = at.n, .attrs = at.a};
    nt_graph graph = {.name = "g", .n_nodes = 1, .nodes = &node, .n_values = 3, .values = values};
    const nt_op_def *op = nt_op_find("Conv", "", 17);
    void *state = NULL;
    assert_int_equal(op->prepare(&node, 17, &state), NT_OK);
    for (int run = 0; run < 4; run++) {
        g.in[0] = g.in[1] = sizes[run];
        geo_out(&g);
        int64_t xd[4] = {1, C, g.in[0], g.in[1]};
        nt_tensor *X = tensor_rand(NT_DTYPE_FLOAT, 4, xd), *Y;
        assert_int_equal(nt_tensor_new(NT_DTYPE_FLOAT, 4, (int64_t[]){1, M, g.out[0], g.out[1]}, &Y), NT_OK);
        nt_tensor *in[2] = {X, W}, *out[1] = {Y};
        nt_kernel_ctx ctx = {&node, 17, 2, 1, in, out, state, false, NULL, &graph};
        assert_int_equal(op->infer(&ctx), NT_OK);
        assert_int_equal(op->compute(&ctx), NT_OK);
        double *ref = ref_conv(&g, 1, C, M, 1, X, W, NULL, 0, NULL);
        expect_close(Y, ref, nt_tensor_numel(Y), 1e-4);
        free(ref);
        nt_tensor_free(X);
        nt_tensor_free(Y);
    }
    op->release(state);
    nt_tensor_free(W);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_random),
        cmocka_unit_test(test_conv_paths),
        cmocka_unit_test(test_conv_auto_pad),
        cmocka_unit_test(test_convtranspose_random),
        cmocka_unit_test(test_convinteger_and_qlinearconv),
        cmocka_unit_test(test_pools_random),
        cmocka_unit_test(test_maxpool_storage_order_and_uint8),
        cmocka_unit_test(test_global_pools),
        cmocka_unit_test(test_maxunpool_roundtrip),
        cmocka_unit_test(test_conv_errors),
        cmocka_unit_test(test_static_infer),
        cmocka_unit_test(test_conv_kernel_sets),
        cmocka_unit_test(test_conv_winograd),
        cmocka_unit_test(test_conv_depthwise3x3),
        cmocka_unit_test(test_conv_nan_propagation),
        cmocka_unit_test(test_conv_weight_cache),
        cmocka_unit_test(test_maxpool_nan),
        cmocka_unit_test(test_conv_dead_taps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
