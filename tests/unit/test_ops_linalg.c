/*
 * test_ops_linalg.c — the linalg family against naive references written
 * here: Gemm (transposes, alpha, beta, every C broadcast, float/double/int),
 * MatMul (numpy semantics: 1-D operands, broadcast batch dims, the folded
 * and the per-batch paths, float and integer types), MatMulInteger (zero
 * points per tensor, per row and per column), Einsum (transposes, traces and
 * diagonals, reductions, batched contractions on the GEMM path and off it,
 * ellipsis with broadcasting, implicit output); plus declined dtypes and bad
 * equations.
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

/* ------------------------------------------------------------ helpers */

/* op_harness.h runs a kernel through the registry as the executor does;
 * run_op keeps this file's call shape on top of it. */
#define OP_HARNESS_LOCAL_CHECKS
#include "op_harness.h"

typedef struct attrs {
    nt_attr a[12];
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

/* Compares n floats with ref values, tolerance relative to magnitude. */
static void expect_close_raw(const float *v, const double *ref, int64_t n, double tol)
{
    for (int64_t i = 0; i < n; i++)
        if (!(fabs(v[i] - ref[i]) <= tol * (1.0 + fabs(ref[i])))) {
            print_error("element %lld: got %.9g expected %.9g\n", (long long)i, v[i], ref[i]);
            fail();
        }
}

static void unflat(int nd, const int64_t *dims, int64_t p, int64_t *c)
{
    for (int i = nd - 1; i >= 0; i--) {
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

/* ------------------------------------------------------------ Gemm */

static void test_gemm_random(void **unused)
{
    (void)unused;
    const nt_dtype dts[3] = {NT_DTYPE_FLOAT, NT_DTYPE_DOUBLE, NT_DTYPE_INT32};
    for (int iter = 0; iter < 120; iter++) {
        nt_dtype dt = dts[iter % 3];
        bool is_int = dt == NT_DTYPE_INT32;
        int64_t M = rnd(1, 9), N = rnd(1, 9), K = rnd(1, 9);
        bool ta = rnd(0, 1), tb = rnd(0, 1);
        double alpha = is_int ? (double)rnd(1, 3) : rndf() * 2, beta = is_int ? (double)rnd(0, 2) : rndf() * 2;
        int64_t ad[2] = {ta ? K : M, ta ? M : K}, bd[2] = {tb ? N : K, tb ? K : N};
        nt_tensor *A = tensor_rand(dt, 2, ad), *B = tensor_rand(dt, 2, bd), *C = NULL;
        if (is_int) {
            for (int64_t i = 0; i < M * K; i++)
                ((int32_t *)A->data)[i] = (int32_t)rnd(-9, 9);
            for (int64_t i = 0; i < K * N; i++)
                ((int32_t *)B->data)[i] = (int32_t)rnd(-9, 9);
        }
        int cshape = (int)rnd(0, 5);
        int64_t cd[2];
        int cn = 0;
        switch (cshape) {
        case 1: cn = 0; break;
        case 2: cn = 1; cd[0] = N; break;
        case 3: cn = 2; cd[0] = 1; cd[1] = N; break;
        case 4: cn = 2; cd[0] = M; cd[1] = 1; break;
        case 5: cn = 2; cd[0] = M; cd[1] = N; break;
        default: break;
        }
        if (cshape)
            C = tensor_rand(dt, cn, cd);
        if (C && is_int)
            for (int64_t i = 0; i < nt_tensor_numel(C); i++)
                ((int32_t *)C->data)[i] = (int32_t)rnd(-9, 9);
        attrs at = {0};
        at_float(&at, "alpha", (float)alpha);
        at_float(&at, "beta", (float)beta);
        at_int(&at, "transA", ta);
        at_int(&at, "transB", tb);
        nt_tensor *in[3] = {A, B, C}, *out[1];
        assert_int_equal(run_op("Gemm", 13, &at, 3, in, 1, out), NT_OK);
        assert_int_equal(out[0]->dims[0], M);
        assert_int_equal(out[0]->dims[1], N);
        double ref[81];
        double fa = (float)alpha, fb = (float)beta;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += nt_tensor_get_f64(A, ta ? k * M + i : i * K + k) * nt_tensor_get_f64(B, tb ? j * K + k : k * N + j);
                double c = 0;
                if (C) {
                    int64_t ci = cn == 2 && cd[0] == M ? i : 0, cj = cn >= 1 && cd[cn - 1] == N ? j : 0;
                    c = nt_tensor_get_f64(C, ci * (cn == 2 ? cd[1] : 1) + cj);
                }
                ref[i * N + j] = fa * s + fb * c;
            }
        expect_close(out[0], ref, M * N, dt == NT_DTYPE_FLOAT ? 1e-5 : 1e-12);
        free_all(1, out);
        nt_tensor *fr[3] = {A, B, C};
        free_all(3, fr);
    }
}

/* ------------------------------------------------------------ MatMul */

/* Naive numpy matmul on shapes given; returns Y values and its shape. */
static void check_matmul(nt_dtype dt, int an, const int64_t *ad, int bn, const int64_t *bd)
{
    nt_tensor *A = tensor_rand(dt, an, ad), *B = tensor_rand(dt, bn, bd);
    if (dt == NT_DTYPE_INT64) {
        for (int64_t i = 0; i < nt_tensor_numel(A); i++)
            ((int64_t *)A->data)[i] = rnd(-50, 50);
        for (int64_t i = 0; i < nt_tensor_numel(B); i++)
            ((int64_t *)B->data)[i] = rnd(-50, 50);
    }
    nt_tensor *in[2] = {A, B}, *out[1];
    assert_int_equal(run_op("MatMul", 13, NULL, 2, in, 1, out), NT_OK);
    /* Promote and broadcast by hand. */
    int64_t M = an == 1 ? 1 : ad[an - 2], K = ad[an - 1], N = bn == 1 ? 1 : bd[bn - 1];
    int abn = an > 2 ? an - 2 : 0, bbn = bn > 2 ? bn - 2 : 0, nb = abn > bbn ? abn : bbn;
    int64_t bdims[8];
    for (int d = 0; d < nb; d++) {
        int ia = d - (nb - abn), ib = d - (nb - bbn);
        int64_t x = ia >= 0 ? ad[ia] : 1, y = ib >= 0 ? bd[ib] : 1;
        bdims[d] = x > y ? x : y;
    }
    int64_t batch = prod(nb, bdims);
    int yd = 0;
    for (int d = 0; d < nb; d++)
        assert_int_equal(out[0]->dims[yd++], bdims[d]);
    if (an > 1)
        assert_int_equal(out[0]->dims[yd++], M);
    if (bn > 1)
        assert_int_equal(out[0]->dims[yd++], N);
    assert_int_equal(out[0]->ndim, yd);
    double *ref = calloc((size_t)(batch * M * N), sizeof *ref);
    for (int64_t b = 0; b < batch; b++) {
        int64_t bc[8], ao = 0, bo = 0, sa = 1, sb = 1;
        unflat(nb, bdims, b, bc);
        for (int d = nb - 1; d >= 0; d--) {
            int ia = d - (nb - abn), ib = d - (nb - bbn);
            int64_t x = ia >= 0 ? ad[ia] : 1, y = ib >= 0 ? bd[ib] : 1;
            ao += (x == 1 ? 0 : bc[d]) * sa;
            bo += (y == 1 ? 0 : bc[d]) * sb;
            sa *= x;
            sb *= y;
        }
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++)
                    s += nt_tensor_get_f64(A, ao * M * K + i * K + k) * nt_tensor_get_f64(B, bo * K * N + k * N + j);
                ref[(b * M + i) * N + j] = s;
            }
    }
    expect_close(out[0], ref, batch * M * N, dt == NT_DTYPE_FLOAT ? 1e-5 : 1e-12);
    free(ref);
    free_all(1, out);
    nt_tensor_free(A);
    nt_tensor_free(B);
}

static void test_matmul_random(void **unused)
{
    (void)unused;
    const nt_dtype dts[3] = {NT_DTYPE_FLOAT, NT_DTYPE_DOUBLE, NT_DTYPE_INT64};
    for (int iter = 0; iter < 150; iter++) {
        int an = (int)rnd(1, 4), bn = (int)rnd(1, 4);
        int64_t ad[4], bd[4], K = rnd(1, 7);
        int64_t batch[2] = {rnd(1, 3), rnd(1, 3)};
        for (int d = 0; d < an - 2; d++)
            ad[d] = rnd(0, 2) ? batch[d + (4 - an)] : 1;
        for (int d = 0; d < bn - 2; d++)
            bd[d] = rnd(0, 2) ? batch[d + (4 - bn)] : 1;
        ad[an - 1] = K;
        if (an > 1)
            ad[an - 2] = rnd(1, 6);
        if (bn == 1)
            bd[0] = K;
        else {
            bd[bn - 2] = K;
            bd[bn - 1] = rnd(1, 6);
        }
        check_matmul(dts[iter % 3], an, ad, bn, bd);
    }
    /* the folded "linear layer" path: (2,3,5,4) x (4,6) and (2,3,5,4) x (1,1,4,6) */
    int64_t a[4] = {2, 3, 5, 4}, b[2] = {4, 6}, b4[4] = {1, 1, 4, 6};
    check_matmul(NT_DTYPE_FLOAT, 4, a, 2, b);
    check_matmul(NT_DTYPE_FLOAT, 4, a, 4, b4);
    /* B batched, A shared */
    int64_t a2[2] = {5, 4}, b3[3] = {3, 4, 6};
    check_matmul(NT_DTYPE_FLOAT, 2, a2, 3, b3);
}

static void test_matmulinteger(void **unused)
{
    (void)unused;
    for (int iter = 0; iter < 30; iter++) {
        int64_t M = rnd(1, 6), K = rnd(1, 6), N = rnd(1, 6), Bt = rnd(1, 2);
        nt_dtype at_ = iter % 2 ? NT_DTYPE_UINT8 : NT_DTYPE_INT8, bt = iter % 3 ? NT_DTYPE_UINT8 : NT_DTYPE_INT8;
        int64_t ad[3] = {Bt, M, K}, bd[2] = {K, N}, md[1] = {M}, nd[1] = {N};
        nt_tensor *A = tensor_rand(at_, 3, ad), *B = tensor_rand(bt, 2, bd);
        nt_tensor *AZ = tensor_rand(at_, 1, md), *BZ = iter % 2 ? tensor_rand(bt, 1, nd) : tensor_rand(bt, 0, NULL);
        nt_tensor *in[4] = {A, B, AZ, BZ}, *out[1];
        assert_int_equal(run_op("MatMulInteger", 10, NULL, 4, in, 1, out), NT_OK);
        assert_int_equal(out[0]->dtype, NT_DTYPE_INT32);
        double ref[2 * 36];
        for (int64_t b = 0; b < Bt; b++)
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double s = 0;
                    for (int64_t k = 0; k < K; k++)
                        s += (nt_tensor_get_f64(A, (b * M + i) * K + k) - nt_tensor_get_f64(AZ, i)) *
                             (nt_tensor_get_f64(B, k * N + j) - nt_tensor_get_f64(BZ, nt_tensor_numel(BZ) == 1 ? 0 : j));
                    ref[(b * M + i) * N + j] = s;
                }
        expect_close(out[0], ref, Bt * M * N, 0);
        free_all(1, out);
        nt_tensor *fr[4] = {A, B, AZ, BZ};
        free_all(4, fr);
    }
}

/* ------------------------------------------------------------ Einsum */

/* Naive einsum for letter-only equations with an explicit output: loops over
 * every assignment of every label. */
static double *naive_einsum(const char *eq, int n_in, nt_tensor **in, int64_t *numel)
{
    int64_t size[128];
    for (int i = 0; i < 128; i++)
        size[i] = 0;
    char terms[8][16], outt[16];
    const char *p = eq;
    for (int i = 0; i < n_in; i++) {
        int n = 0;
        while (*p && *p != ',' && *p != '-')
            terms[i][n++] = *p++;
        terms[i][n] = 0;
        if (*p == ',')
            p++;
        for (int k = 0; k < n; k++)
            size[(int)terms[i][k]] = in[i]->dims[k];
    }
    p += 2; /* "->" */
    strcpy(outt, p);
    char labels[64];
    int nl = 0;
    for (int c = 0; c < 128; c++)
        if (size[c])
            labels[nl++] = (char)c;
    int64_t on = 1;
    for (int k = 0; outt[k]; k++)
        on *= size[(int)outt[k]];
    double *y = calloc((size_t)(on ? on : 1), sizeof *y);
    int64_t val[128] = {0}, total = 1;
    for (int l = 0; l < nl; l++)
        total *= size[(int)labels[l]];
    for (int64_t it = 0; it < total; it++) {
        int64_t r = it;
        for (int l = nl - 1; l >= 0; l--) {
            val[(int)labels[l]] = r % size[(int)labels[l]];
            r /= size[(int)labels[l]];
        }
        double prodv = 1;
        for (int i = 0; i < n_in; i++) {
            int64_t off = 0;
            for (int k = 0; terms[i][k]; k++)
                off = off * in[i]->dims[k] + val[(int)terms[i][k]];
            prodv *= nt_tensor_get_f64(in[i], off);
        }
        int64_t off = 0;
        for (int k = 0; outt[k]; k++)
            off = off * size[(int)outt[k]] + val[(int)outt[k]];
        y[off] += prodv;
    }
    *numel = on;
    return y;
}

static void check_einsum(const char *eq, int n_in, const int64_t dims[][4], const int *ranks, nt_dtype dt)
{
    nt_tensor *in[4];
    for (int i = 0; i < n_in; i++)
        in[i] = tensor_rand(dt, ranks[i], dims[i]);
    attrs at = {0};
    at_str(&at, "equation", eq);
    nt_tensor *out[1];
    assert_int_equal(run_op("Einsum", 12, &at, n_in, in, 1, out), NT_OK);
    int64_t n;
    double *ref = naive_einsum(eq, n_in, in, &n);
    expect_close(out[0], ref, n, dt == NT_DTYPE_FLOAT ? 1e-5 : 1e-12);
    free(ref);
    free_all(1, out);
    free_all(n_in, in);
}

static void test_einsum_equations(void **unused)
{
    (void)unused;
    const int64_t mm[2][4] = {{3, 4}, {4, 5}}, bmm[2][4] = {{2, 3, 4}, {2, 4, 5}};
    const int64_t attn[2][4] = {{2, 3, 5, 4}, {2, 3, 6, 4}}, sq[1][4] = {{4, 4}}, bsq[1][4] = {{2, 3, 3}};
    const int64_t vv[2][4] = {{5}, {5}}, three[3][4] = {{2, 3}, {3, 4}, {4, 2}}, t3[1][4] = {{2, 3, 4}};
    const int r2[2] = {2, 2}, r3[2] = {3, 3}, r4[2] = {4, 4}, r1[2] = {1, 1}, one2[1] = {2}, one3[1] = {3};
    check_einsum("ij,jk->ik", 2, mm, r2, NT_DTYPE_FLOAT);
    check_einsum("ij,jk->ki", 2, mm, r2, NT_DTYPE_DOUBLE);
    check_einsum("bij,bjk->bik", 2, bmm, r3, NT_DTYPE_FLOAT);
    check_einsum("bhqd,bhkd->bhqk", 2, attn, r4, NT_DTYPE_FLOAT);  /* GEMM path with a transpose */
    check_einsum("bhqd,bhkd->qbkh", 2, attn, r4, NT_DTYPE_FLOAT);  /* permuted output */
    check_einsum("ii->i", 1, sq, one2, NT_DTYPE_FLOAT);             /* diagonal */
    check_einsum("ii->", 1, sq, one2, NT_DTYPE_FLOAT);              /* trace */
    check_einsum("bii->bi", 1, bsq, one3, NT_DTYPE_DOUBLE);         /* batch diagonal */
    check_einsum("ijk->kji", 1, t3, one3, NT_DTYPE_FLOAT);          /* transpose */
    check_einsum("ijk->j", 1, t3, one3, NT_DTYPE_INT64);            /* reduction */
    check_einsum("i,i->", 2, vv, r1, NT_DTYPE_FLOAT);               /* inner product */
    check_einsum("i,j->ij", 2, vv, r1, NT_DTYPE_INT32);             /* outer product */
    check_einsum("ij,jk,ki->", 3, three, (const int[]){2, 2, 2}, NT_DTYPE_DOUBLE);
    check_einsum("ij,jk->i", 2, mm, r2, NT_DTYPE_FLOAT);            /* k summed in one operand only */
}

static void test_einsum_ellipsis_and_implicit(void **unused)
{
    (void)unused;
    /* "...ij,...jk->...ik" with broadcast batch equals MatMul. */
    int64_t ad[4] = {2, 1, 3, 4}, bd[3] = {5, 4, 2};
    nt_tensor *A = tensor_rand(NT_DTYPE_FLOAT, 4, ad), *B = tensor_rand(NT_DTYPE_FLOAT, 3, bd);
    nt_tensor *in[2] = {A, B}, *e[1], *m[1];
    attrs at = {0};
    at_str(&at, "equation", "...ij,...jk->...ik");
    assert_int_equal(run_op("Einsum", 12, &at, 2, in, 1, e), NT_OK);
    assert_int_equal(run_op("MatMul", 13, NULL, 2, in, 1, m), NT_OK);
    assert_int_equal(e[0]->ndim, 4);
    assert_int_equal(e[0]->dims[1], 5);
    int64_t n = nt_tensor_numel(m[0]);
    double *ref = malloc((size_t)n * sizeof *ref);
    for (int64_t i = 0; i < n; i++)
        ref[i] = ((float *)m[0]->data)[i];
    expect_close(e[0], ref, n, 1e-5);
    free(ref);
    free_all(1, e);
    free_all(1, m);
    /* implicit output: "ij,jk" → "ik"; "ba" → "ab" (alphabetical) */
    int64_t cd[2] = {4, 3};
    nt_tensor *Cm = tensor_rand(NT_DTYPE_FLOAT, 2, cd);
    attrs a2 = {0};
    at_str(&a2, "equation", "ba");
    nt_tensor *tin[1] = {Cm};
    assert_int_equal(run_op("Einsum", 12, &a2, 1, tin, 1, e), NT_OK);
    assert_int_equal(e[0]->dims[0], 3);
    assert_int_equal(e[0]->dims[1], 4);
    for (int64_t i = 0; i < 3; i++)
        for (int64_t j = 0; j < 4; j++)
            assert_true(((float *)e[0]->data)[i * 4 + j] == ((float *)Cm->data)[j * 3 + i]);
    free_all(1, e);
    /* bad equations and mismatches */
    attrs a3 = {0};
    at_str(&a3, "equation", "i$,j->ij");
    assert_int_equal(run_op("Einsum", 12, &a3, 1, tin, 1, e), NT_ERR_PARSE);
    attrs a4 = {0};
    at_str(&a4, "equation", "ij,jk->ik");
    assert_int_equal(run_op("Einsum", 12, &a4, 1, tin, 1, e), NT_ERR_SHAPE);
    attrs a5 = {0};
    at_str(&a5, "equation", "ijk->i");
    assert_int_equal(run_op("Einsum", 12, &a5, 1, tin, 1, e), NT_ERR_SHAPE);
    nt_tensor_free(Cm);
    nt_tensor_free(A);
    nt_tensor_free(B);
}

static void test_linalg_errors(void **unused)
{
    (void)unused;
    int64_t ad[2] = {3, 4}, bd[2] = {5, 6};
    nt_tensor *A = tensor_rand(NT_DTYPE_FLOAT, 2, ad), *B = tensor_rand(NT_DTYPE_FLOAT, 2, bd), *out[1];
    nt_tensor *in[2] = {A, B};
    assert_int_equal(run_op("Gemm", 13, NULL, 2, in, 1, out), NT_ERR_SHAPE);
    assert_int_equal(run_op("MatMul", 13, NULL, 2, in, 1, out), NT_ERR_SHAPE);
    nt_tensor *H;
    assert_int_equal(nt_tensor_new(NT_DTYPE_INT8, 2, ad, &H), NT_OK);
    nt_tensor *hin[2] = {H, H};
    assert_int_equal(run_op("MatMul", 13, NULL, 2, hin, 1, out), NT_ERR_UNSUPPORTED);
    attrs at = {0};
    at_int(&at, "transA", 2);
    assert_int_equal(run_op("Gemm", 13, &at, 2, in, 1, out), NT_ERR_PARSE);
    nt_tensor_free(H);
    nt_tensor_free(A);
    nt_tensor_free(B);
}

/* ------------------------------------------------------------ sgemm kernels */

/* The kernel sets the CPU supports (AVX-512, AVX2), to force in turn. */
static int sgemm_sets(nt_sgemm_isa *sets)
{
    nt_sgemm_isa prev = nt_sgemm_isa_get();
    int n = 0;
    const nt_sgemm_isa all[2] = {NT_SGEMM_AVX2, NT_SGEMM_AVX512};
    for (int i = 0; i < 2; i++) {
        nt_sgemm_isa_force(all[i]);
        if (nt_sgemm_isa_get() == all[i])
            sets[n++] = all[i];
    }
    nt_sgemm_isa_force(prev);
    return n;
}

/* C = alpha * op(A) op(B) + beta * C (+ bias) in double, row-major. */
static void ref_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb, double beta, const float *bias, const float *C0, int64_t ldc,
                      double *out)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double acc = 0;
            for (int64_t k = 0; k < K; k++)
                acc += (double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
            double c = alpha * acc + (bias ? bias[i] : 0.0);
            if (beta != 0)
                c += beta * C0[i * ldc + j];
            out[i * N + j] = c;
        }
}

static float *rand_floats(int64_t n)
{
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)rndf();
    return p;
}

/* Our kernels on random shapes: ragged tiles (M, N not multiples of the
 * register tile), K over several blocks, both transposes, alpha and beta
 * values, leading dimensions wider than the matrices, and a C full of NaN
 * that beta == 0 must not read. */
static void test_sgemm_kernels(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[2], prev = nt_sgemm_isa_get();
    int nsets = sgemm_sets(sets);
    for (int si = 0; si < nsets; si++) {
        nt_sgemm_isa_force(sets[si]);
        for (int iter = 0; iter < 60; iter++) {
            int64_t M = rnd(1, 40), N = rnd(1, 130), K = rnd(1, 90);
            if (iter % 10 == 0)
                K = rnd(257, 600); /* several K blocks */
            if (iter % 15 == 1)
                N = rnd(481, 1100); /* several column blocks */
            bool ta = rnd(0, 1), tb = rnd(0, 1);
            int64_t lda = (ta ? M : K) + rnd(0, 3), ldb = (tb ? K : N) + rnd(0, 3), ldc = N + rnd(0, 3);
            float *A = rand_floats((ta ? K : M) * lda), *B = rand_floats((tb ? N : K) * ldb);
            float *C = rand_floats(M * ldc), *C0 = malloc((size_t)(M * ldc) * sizeof *C0);
            const float alphas[3] = {1.0f, 0.5f, -2.0f}, betas[3] = {0.0f, 1.0f, 0.25f};
            float alpha = alphas[iter % 3], beta = betas[(iter / 3) % 3];
            if (beta == 0)
                for (int64_t i = 0; i < M * ldc; i++)
                    C[i] = NAN;
            memcpy(C0, C, (size_t)(M * ldc) * sizeof *C0);
            double *ref = malloc((size_t)(M * N) * sizeof *ref);
            ref_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C0, ldc, ref);
            assert_true(nt_sgemm_dense(NULL, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++) {
                    double r = ref[i * N + j], v = C[i * ldc + j];
                    if (!(fabs(v - r) <= 1e-5 * (1.0 + (double)K + fabs(r)))) {
                        print_error("%s M=%lld N=%lld K=%lld ta=%d tb=%d: C[%lld,%lld] = %.9g, expected %.9g\n",
                                    nt_sgemm_isa_name(sets[si]), (long long)M, (long long)N, (long long)K, ta, tb,
                                    (long long)i, (long long)j, v, r);
                        fail();
                    }
                }
            /* Columns past N in each row of C are untouched. */
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = N; j < ldc; j++)
                    assert_memory_equal(&C[i * ldc + j], &C0[i * ldc + j], sizeof(float));
            free(A);
            free(B);
            free(C);
            free(C0);
            free(ref);
        }
    }
    nt_sgemm_isa_force(prev);
}

/* Every C element is one chain of FMAs over k in increasing order per K
 * block, blocks added in order (sgemm.h): the result has the bits of that
 * chain computed with fmaf, whatever tile or edge kernel computes it (full
 * 8 x 48 tiles, 16-column edges, the narrow edge of at most 4 columns over
 * 32-row groups, partial row panels), with a bias and with beta. */
static void test_sgemm_fma_chain_bits(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[2], prev = nt_sgemm_isa_get();
    int nsets = sgemm_sets(sets);
    const int64_t Ms[] = {1, 7, 13, 33, 40}, Ns[] = {1, 3, 4, 20, 49, 52, 100, 484};
    for (int si = 0; si < nsets; si++) {
        nt_sgemm_isa_force(sets[si]);
        for (size_t mi = 0; mi < NT_ARRAY_LEN(Ms); mi++)
            for (size_t ni = 0; ni < NT_ARRAY_LEN(Ns); ni++)
                for (int variant = 0; variant < 2; variant++) {
                    const int64_t M = Ms[mi], N = Ns[ni], K = variant ? 300 : 37;
                    const float beta = variant ? 0.5f : 0.0f, alpha = variant ? 1.25f : 1.0f;
                    float *A = rand_floats(M * K), *B = rand_floats(K * N), *bias = rand_floats(M);
                    float *C = rand_floats(M * N), *want = malloc((size_t)(M * N) * sizeof *want);
                    memcpy(want, C, (size_t)(M * N) * sizeof *C);
                    int nr;
                    int64_t kc;
                    nt_sgemm_b_layout(sets[si], K, &nr, &kc);
                    for (int64_t i = 0; i < M; i++)
                        for (int64_t j = 0; j < N; j++) {
                            float *c = &want[i * N + j];
                            for (int64_t k0 = 0; k0 < K; k0 += kc) {
                                const int64_t kl = K - k0 < kc ? K - k0 : kc;
                                float acc = 0.0f;
                                for (int64_t k = k0; k < k0 + kl; k++)
                                    acc = fmaf(A[i * K + k], B[k * N + j], acc);
                                const float be = k0 == 0 ? beta : 1.0f;
                                const bool add = k0 == 0;
                                if (be == 0.0f)
                                    *c = add ? fmaf(alpha, acc, bias[i]) : alpha * acc;
                                else
                                    *c = fmaf(alpha, acc, add ? be * *c + bias[i] : be * *c);
                            }
                        }
                    nt_sgemm_pa pa = {0};
                    assert_int_equal(nt_sgemm_pack_a(&pa, sets[si], false, M, K, A, K), NT_OK);
                    nt_sgemm_b b = {.p = B, .ld = N};
                    assert_int_equal(nt_sgemm(NULL, &pa, N, &b, alpha, beta, bias, C, N), NT_OK);
                    for (int64_t e = 0; e < M * N; e++)
                        if (memcmp(&C[e], &want[e], sizeof *C) != 0) {
                            print_error("%s M=%lld N=%lld K=%lld: C[%lld,%lld] = %.9g, the FMA chain gives %.9g\n",
                                        nt_sgemm_isa_name(sets[si]), (long long)M, (long long)N, (long long)K,
                                        (long long)(e / N), (long long)(e % N), C[e], want[e]);
                            fail();
                        }
                    nt_sgemm_pa_free(&pa);
                    free(A);
                    free(B);
                    free(bias);
                    free(C);
                    free(want);
                }
    }
    nt_sgemm_isa_force(prev);
}

/* Through a 2-thread pool the column blocks are split evenly across the
 * threads (sgemm.c column_block): every column is computed, to the same bits
 * as on one thread, for widths around the kernel sets' blocks and panels. */
static void test_sgemm_two_threads(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[2], prev = nt_sgemm_isa_get();
    int nsets = sgemm_sets(sets);
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    const int64_t widths[] = {1, 17, 48, 49, 197, 384, 480, 481, 768, 1000, 3072};
    for (int si = 0; si < nsets; si++) {
        nt_sgemm_isa_force(sets[si]);
        for (size_t wi = 0; wi < NT_ARRAY_LEN(widths); wi++) {
            const int64_t M = rnd(1, 20), N = widths[wi], K = rnd(1, 300);
            float *A = rand_floats(M * K), *B = rand_floats(K * N);
            float *C1 = malloc((size_t)(M * N) * sizeof *C1), *C2 = malloc((size_t)(M * N) * sizeof *C2);
            double *ref = malloc((size_t)(M * N) * sizeof *ref);
            for (int64_t i = 0; i < M * N; i++)
                C1[i] = C2[i] = NAN;
            ref_sgemm(false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, NULL, C1, N, ref);
            assert_true(nt_sgemm_dense(NULL, false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N));
            assert_true(nt_sgemm_dense(&exec, false, false, M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N));
            assert_memory_equal(C1, C2, (size_t)(M * N) * sizeof *C1);
            for (int64_t i = 0; i < M * N; i++)
                assert_true(fabs(C2[i] - ref[i]) <= 1e-5 * (1.0 + (double)K + fabs(ref[i])));
            free(A);
            free(B);
            free(C1);
            free(C2);
            free(ref);
        }
    }
    nt_sgemm_isa_force(prev);
    pool_free(sess);
}

/* nt_sgemm with A packed once and used for several B, with a row bias, and
 * with B already in the packed layout; NaN in A or B reaches exactly the
 * outputs that read it. */
static void test_sgemm_packed_bias_nan(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[2], prev = nt_sgemm_isa_get();
    int nsets = sgemm_sets(sets);
    for (int si = 0; si < nsets; si++) {
        nt_sgemm_isa isa = sets[si];
        nt_sgemm_isa_force(isa);
        const int64_t M = 13, N = 70, K = 300;
        float *A = rand_floats(M * K), *B = rand_floats(K * N), *bias = rand_floats(M);
        float *C = malloc((size_t)(M * N) * sizeof *C);
        double *ref = malloc((size_t)(M * N) * sizeof *ref);
        nt_sgemm_pa pa = {0};
        assert_int_equal(nt_sgemm_pack_a(&pa, isa, false, M, K, A, K), NT_OK);
        for (int rep = 0; rep < 2; rep++) {
            nt_sgemm_b b = {.p = B, .ld = N};
            assert_int_equal(nt_sgemm(NULL, &pa, N, &b, 1.0f, 0.0f, bias, C, N), NT_OK);
            ref_sgemm(false, false, M, N, K, 1.0, A, K, B, N, 0.0, bias, NULL, N, ref);
            expect_close_raw(C, ref, M * N, 1e-5 * K);
        }
        /* B in the packed layout (nt_sgemm_b_layout), built by hand. */
        int nr;
        int64_t kc;
        nt_sgemm_b_layout(isa, K, &nr, &kc);
        const int64_t Np = (N + nr - 1) / nr * nr;
        assert_int_equal(nt_sgemm_b_size(isa, K, N), (size_t)(K * Np));
        float *Bp = calloc((size_t)(K * Np), sizeof *Bp);
        assert_non_null(Bp);
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < N; j++) {
                int64_t k0 = k / kc * kc, kl = K - k0 < kc ? K - k0 : kc;
                Bp[k0 * Np + (j / nr) * kl * nr + (k - k0) * nr + j % nr] = B[k * N + j];
            }
        nt_sgemm_b bp = {.p = Bp, .packed = true};
        assert_int_equal(nt_sgemm(NULL, &pa, N, &bp, 1.0f, 0.0f, NULL, C, N), NT_OK);
        ref_sgemm(false, false, M, N, K, 1.0, A, K, B, N, 0.0, NULL, NULL, N, ref);
        expect_close_raw(C, ref, M * N, 1e-5 * K);
        /* NaN in A[i][k] -> row i; NaN in B[k][j] -> column j; nothing else. */
        int64_t ni = 5, nk = 123, nj = 47;
        A[ni * K + nk] = NAN;
        B[nk * N + nj] = NAN;
        assert_int_equal(nt_sgemm_pack_a(&pa, isa, false, M, K, A, K), NT_OK);
        nt_sgemm_b b = {.p = B, .ld = N};
        assert_int_equal(nt_sgemm(NULL, &pa, N, &b, 1.0f, 0.0f, NULL, C, N), NT_OK);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++)
                assert_int_equal(isnan(C[i * N + j]) != 0, i == ni || j == nj);
        nt_sgemm_pa_free(&pa);
        free(A);
        free(B);
        free(Bp);
        free(bias);
        free(C);
        free(ref);
    }
    nt_sgemm_isa_force(prev);
}

/* Gemm and MatMul through the operator table agree under every kernel set
 * (OpenBLAS included) with the double reference. */
static void test_gemm_kernel_sets(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[3], prev = nt_sgemm_isa_get();
    int nsets = sgemm_sets(sets);
    sets[nsets++] = NT_SGEMM_NONE;
    for (int si = 0; si < nsets; si++) {
        nt_sgemm_isa_force(sets[si]);
        for (int iter = 0; iter < 8; iter++) {
            int64_t M = rnd(4, 70), K = rnd(16, 300), N = rnd(8, 200);
            int64_t ad[3] = {2, M, K}, bd[2] = {K, N};
            check_matmul(NT_DTYPE_FLOAT, 3, ad, 2, bd);
        }
    }
    nt_sgemm_isa_force(prev);
}

/* A few rows by a transposed B (a classifier's Gemm at batch 1) through
 * nt_gemm_f32(_exec): the dot-product path, close to a double reference with
 * alpha, beta, wide leading dims and a NaN-filled C when beta == 0; the same
 * bits at 1 and 2 threads, row by row, and from AVX2 and AVX-512. */
static void test_gemm_gemv_t(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[2], prev = nt_sgemm_isa_get();
    int nsets = sgemm_sets(sets);
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    const int64_t shapes[][3] = {{1, 1000, 1280}, {3, 70, 600}, {2, 1100, 37}, {1, 33, 1025}, {3, 4000, 16}};
    for (size_t s = 0; s < NT_ARRAY_LEN(shapes); s++) {
        const int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        const float alpha = s % 2 ? 0.5f : 1.0f, beta = s % 3 == 1 ? 0.25f : 0.0f;
        const int64_t lda = K + 3, ldb = K + 5, ldc = N + 2;
        float *A = rand_floats(M * lda), *B = rand_floats(N * ldb), *C0 = rand_floats(M * ldc), *first = NULL;
        double *ref = malloc((size_t)(M * N) * sizeof *ref);
        ref_sgemm(false, true, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C0, ldc, ref);
        for (int si = 0; si < nsets; si++) {
            nt_sgemm_isa_force(sets[si]);
            assert_true(nt_gemm_f32_path(true, M, N, K, alpha) == NT_GEMM_GEMV_T);
            float *C1 = malloc((size_t)(M * ldc) * sizeof *C1), *C2 = malloc((size_t)(M * ldc) * sizeof *C2);
            float *C3 = malloc((size_t)(M * ldc) * sizeof *C3);
            for (int64_t i = 0; i < M * ldc; i++)
                C1[i] = C2[i] = C3[i] = beta == 0.0f ? NAN : C0[i];
            nt_gemm_f32(false, true, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
            nt_gemm_f32_exec(&exec, false, true, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
            for (int64_t i = 0; i < M; i++)
                nt_gemm_f32(false, true, 1, N, K, alpha, A + i * lda, lda, B, ldb, beta, C3 + i * ldc, ldc);
            assert_memory_equal(C1, C2, (size_t)(M * ldc) * sizeof *C1);
            assert_memory_equal(C1, C3, (size_t)(M * ldc) * sizeof *C1);
            for (int64_t i = 0; i < M; i++) {
                for (int64_t j = 0; j < N; j++)
                    assert_true(fabs(C1[i * ldc + j] - ref[i * N + j]) <= 1e-5 * (1.0 + (double)K));
                for (int64_t j = N; j < ldc; j++) /* past N: untouched */
                    assert_memory_equal(&C1[i * ldc + j], &C3[i * ldc + j], sizeof(float));
            }
            if (!first) {
                first = C1;
            } else {
                assert_memory_equal(first, C1, (size_t)(M * ldc) * sizeof *C1);
                free(C1);
            }
            free(C2);
            free(C3);
        }
        free(first);
        free(A);
        free(B);
        free(C0);
        free(ref);
    }
    nt_sgemm_isa_force(prev);
    pool_free(sess);
}

/* The narrow (49..64 columns) and matrix-vector (M < 4) kernels through
 * nt_gemm_f32(_exec): close to a double reference with both transposes,
 * alpha, beta, wide leading dims and a NaN-filled C when beta == 0; the
 * same bits at 1 and 2 threads, for blocks of rows computed on their own,
 * and from AVX2 and AVX-512. */
static void test_gemm_narrow_gemv(void **unused)
{
    (void)unused;
    nt_sgemm_isa sets[2], prev = nt_sgemm_isa_get();
    int nsets = sgemm_sets(sets);
    nt_session *sess = pool_session();
    nt_exec exec = {sess, NULL, 0};
    const int64_t shapes[][3] = {{1, 512, 512}, {3, 70, 600},   {1, 1100, 40},  {2, 4000, 9},   {200, 64, 197},
                                 {9, 50, 300},  {64, 64, 1500}, {13, 49, 177}, {100, 56, 90}, {7, 64, 80}};
    for (size_t s = 0; s < NT_ARRAY_LEN(shapes); s++) {
        const int64_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        const bool ta = s % 3 == 1, tb = s % 4 == 2 && M >= 4;
        const float alpha = s % 2 ? 0.5f : 1.0f, beta = s % 5 == 3 ? 0.25f : 0.0f;
        const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
        float *A = rand_floats((ta ? K : M) * lda), *B = rand_floats((tb ? N : K) * ldb);
        float *C0 = rand_floats(M * ldc), *first = NULL;
        double *ref = malloc((size_t)(M * N) * sizeof *ref);
        ref_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, NULL, C0, ldc, ref);
        for (int si = 0; si < nsets; si++) {
            nt_sgemm_isa_force(sets[si]);
            nt_gemm_path path = nt_gemm_f32_path(tb, M, N, K, alpha);
            assert_true(path == (M < 4 ? NT_GEMM_GEMV : NT_GEMM_NARROW));
            float *C1 = malloc((size_t)(M * ldc) * sizeof *C1), *C2 = malloc((size_t)(M * ldc) * sizeof *C2);
            float *C3 = malloc((size_t)(M * ldc) * sizeof *C3);
            for (int64_t i = 0; i < M * ldc; i++)
                C1[i] = C2[i] = C3[i] = beta == 0.0f ? NAN : C0[i];
            nt_gemm_f32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C1, ldc);
            nt_gemm_f32_exec(&exec, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C2, ldc);
            /* rows in blocks of 10 (a last block of 4..13), each block on
             * the whole product's path */
            for (int64_t i0 = 0, mb; i0 < M; i0 += mb) {
                mb = M - i0 < 14 ? M - i0 : 10;
                assert_true(nt_gemm_f32_path(tb, mb, N, K, alpha) == path);
                nt_gemm_f32(ta, tb, mb, N, K, alpha, ta ? A + i0 : A + i0 * lda, lda, B, ldb, beta, C3 + i0 * ldc,
                            ldc);
            }
            assert_memory_equal(C1, C2, (size_t)(M * ldc) * sizeof *C1);
            assert_memory_equal(C1, C3, (size_t)(M * ldc) * sizeof *C1);
            for (int64_t i = 0; i < M; i++)
                for (int64_t j = 0; j < N; j++)
                    assert_true(fabs(C1[i * ldc + j] - ref[i * N + j]) <= 1e-5 * (1.0 + (double)K));
            if (!first) {
                first = C1;
            } else {
                assert_memory_equal(first, C1, (size_t)(M * ldc) * sizeof *C1);
                free(C1);
            }
            free(C2);
            free(C3);
        }
        free(first);
        free(A);
        free(B);
        free(C0);
        free(ref);
    }
    nt_sgemm_isa_force(prev);
    pool_free(sess);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm_random),
        cmocka_unit_test(test_matmul_random),
        cmocka_unit_test(test_matmulinteger),
        cmocka_unit_test(test_einsum_equations),
        cmocka_unit_test(test_einsum_ellipsis_and_implicit),
        cmocka_unit_test(test_linalg_errors),
        cmocka_unit_test(test_sgemm_kernels),
        cmocka_unit_test(test_sgemm_two_threads),
        cmocka_unit_test(test_sgemm_fma_chain_bits),
        cmocka_unit_test(test_gemm_gemv_t),
        cmocka_unit_test(test_sgemm_packed_bias_nan),
        cmocka_unit_test(test_gemm_kernel_sets),
        cmocka_unit_test(test_gemm_narrow_gemv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
