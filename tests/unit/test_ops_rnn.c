/*
 * test_ops_rnn.c — RNN, GRU and LSTM (rnn.c) through the registry.
 *
 * Reference data: the bidirectional LSTM, GRU (linear_before_reset = 1, as
 * PyTorch's GRU computes) and ReLU RNN cases come from PyTorch modules with
 * packed variable-length sequences (torch 1.13; gates reordered to ONNX's
 * i o f c / z r h), so sequence_lens, initial states, the backward
 * direction and all three outputs are checked against an independent
 * implementation.  The reversed GRU with linear_before_reset = 0, clip and
 * parametric activations (HardSigmoid 0.3/0.4, LeakyRelu 0.05) comes from a
 * direct numpy transcription of the ONNX equations.  layout = 1 is checked
 * against layout 0 on transposed data; static shape inference, declined
 * dtypes and unknown activations are checked too.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "ops/kernel.h"
#include "ops/sgemm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- harness: op_harness.h runs a kernel through the registry as the
 * executor does; these wrappers keep this file's call shapes. */

#define OP_HARNESS_LOCAL_CHECKS
#define OP_HARNESS_LOCAL_FREE_ALL
#include "op_harness.h"

/* prepare, infer, allocate, compute.  want[i] says whether output i is
 * requested (NULL = all); out[i] get new tensors or stay NULL.  Returns the
 * first failing status (outputs freed and NULL then). */
static nt_status tn_run(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor **out, const bool *want)
{
    return oh_run(t, opset, n_in, in, n_out, out, want, NULL);
}

/* Static-mode infer only; outputs are caller storage (reset here). */
static NT_UNUSED nt_status tn_infer_static(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor *outs)
{
    nt_tensor *out[4];
    assert_true(n_out <= 4);
    for (int i = 0; i < n_out; i++) {
        memset(&outs[i], 0, sizeof outs[i]);
        outs[i].ndim = -1;
        out[i] = &outs[i];
    }
    return oh_infer_static(t, opset, n_in, in, n_out, out);
}

static void free_all(nt_tensor **t, int n)
{
    for (int i = 0; i < n; i++)
        nt_tensor_free(t[i]);
}

/* |got - want| <= atol + rtol |want| elementwise, with the shape checked. */
static NT_UNUSED void expect_close(const nt_tensor *got, int ndim, const int64_t *dims, const float *want, double tol)
{
    assert_non_null(got);
    assert_int_equal(got->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        assert_int_equal(got->dims[d], dims[d]);
    int64_t n = nt_tensor_numel(got);
    for (int64_t i = 0; i < n; i++) {
        double g = nt_tensor_get_f64(got, i), w = want[i];
        if (fabs(g - w) > tol + tol * fabs(w))
            fail_msg("element %lld: got %.9g, want %.9g", (long long)i, g, w);
    }
}

/* ---- reference data (generated; see the header comment) */

static const float lstm_bi_x[18] = {
    -0.218833685f, -2.43506527f, -0.804826498f, 0.565609634f, 0.610364616f, 0.46688354f, 1.95065713f,
    -1.06309855f, 1.1403507f, -0.0898820683f, -0.593990803f, -1.24392819f, -0.102092631f, -1.03354836f,
    -0.312638819f, 0.245785475f, 0.377181917f, 1.10123479f
};
static const float lstm_bi_w[48] = {
    -0.00529398117f, 0.379322886f, -0.581980765f, -0.520387471f, -0.272345245f, 0.18961589f, -0.479376733f,
    -0.307918727f, 0.256833285f, 0.587172925f, -0.145522699f, 0.5291363f, -0.0140100336f, 0.560657501f,
    -0.0627515167f, 0.187109336f, -0.213696912f, -0.138992712f, -0.675533414f, -0.468304157f, -0.291485757f,
    0.0261937603f, 0.279544204f, 0.424280167f, 0.131765127f, -0.548223794f, -0.4900859f, -0.365279734f,
    0.319946766f, 0.284370333f, 0.615329504f, 0.623920441f, 0.140724525f, -0.614887774f, 0.0650485158f,
    -0.442369789f, -0.418856472f, 0.213621974f, 0.388181835f, -0.0892491564f, 0.0269984286f, 0.163839966f,
    0.438672483f, 0.678959727f, -0.544913113f, -0.25913322f, 0.277899951f, 0.585872889f
};
static const float lstm_bi_r[32] = {
    -0.113973841f, 0.074821867f, 0.640268385f, -0.65596199f, -0.412766844f, 0.607827604f, 0.315524042f,
    0.342715234f, -0.445150524f, -0.179014862f, -0.275630176f, 0.610940814f, -0.458332211f, -0.325504482f,
    -0.494013399f, -0.662248611f, -0.658991098f, 0.628259063f, 0.537655532f, -0.705358744f, 0.506197631f,
    0.264395088f, -0.699848473f, -0.458697975f, 0.132350624f, -0.119119212f, -0.116362303f, -0.323682994f,
    0.271922261f, -0.418821812f, 0.259219199f, 0.357589632f
};
static const float lstm_bi_b[32] = {
    0.0371878482f, -0.362521976f, 0.446140498f, 0.4145917f, 0.119631633f, -0.660221875f, -0.510931492f,
    -0.364534736f, -0.313598335f, -0.0255140997f, 0.474105418f, -0.416346133f, 0.452237695f, 0.702958226f,
    0.280638069f, 0.095525071f, 0.353069037f, 0.147998407f, -0.30831632f, -0.17796801f, -0.551602662f,
    -0.407165855f, 0.665210187f, 0.476461172f, -0.673588574f, -0.0127096344f, -0.289581627f, 0.419581324f,
    -0.532493055f, -0.545431554f, -0.0389613062f, 0.106168583f
};
static const float lstm_bi_h0[8] = {
    -0.0254366491f, -0.152062088f, -0.0267746542f, 0.646067441f, 0.610473335f, 0.997108042f, 0.408322841f,
    0.595655799f
};
static const float lstm_bi_c0[8] = {
    -0.819282174f, 0.515605569f, 0.413467467f, 0.921910465f, -1.36758912f, -0.152531832f, -0.958887398f,
    0.791671634f
};
static const float lstm_bi_yc[8] = {
    0.0832482576f, -0.297958076f, 0.167704061f, 0.0191845596f, -0.488873065f, -0.0962885991f, 0.308083892f,
    0.454975724f
};
static const float lstm_bi_y[24] = {
    0.00910747796f, -0.0661364794f, -0.0599514358f, 0.295427978f, -0.0390707217f, -0.0612080544f,
    0.168701082f, 0.174014464f, -0.109712839f, -0.0783919767f, 0.122472465f, 0.00704495516f, -0.00978696626f,
    0.0338675119f, 0.077814728f, 0.0930722207f, 0.0639014542f, -0.134736538f, 0.0f, 0.0f, -0.118257649f,
    0.0634749606f, 0.0f, 0.0f
};
static const float lstm_bi_yh[8] = {
    0.0639014542f, -0.134736538f, 0.122472465f, 0.00704495516f, -0.0390707217f, -0.0612080544f, 0.168701082f,
    0.174014464f
};
static const float gru_bi_x[12] = {
    0.32781139f, -1.44420695f, -1.38352215f, -0.798672557f, -0.927589715f, 0.774949253f, 1.23690593f,
    -0.769854724f, -0.991795301f, 1.698246f, 0.115844235f, -0.922625065f
};
static const float gru_bi_w[36] = {
    0.277419895f, 0.203896418f, -0.138838127f, -0.121419907f, -0.475783616f, 0.312833846f, 0.461680025f,
    -0.466553986f, 0.0619525313f, -0.120879076f, 0.412293106f, 0.161164165f, 0.458403468f, 0.395037383f,
    -0.407250345f, 0.0257497579f, -0.406993896f, -0.317822188f, -0.477423877f, 0.0079573309f, -0.0981592238f,
    -0.304074764f, 0.0763089806f, 0.477421731f, 0.433144361f, -0.185858205f, 0.000924257853f, 0.297233522f,
    -0.558350921f, 0.417413056f, -0.16877076f, -0.342769444f, -0.213526547f, -0.572239757f, 0.260612428f,
    -0.27728039f
};
static const float gru_bi_r[54] = {
    0.404106736f, -0.207537219f, 0.486988425f, 0.208774209f, 0.073107563f, -0.00429780921f, -0.114131495f,
    0.0724380314f, -0.131834865f, -0.336425155f, 0.197306573f, -0.344050616f, -0.0125961704f, 0.0242880415f,
    0.37217328f, -0.436430633f, -0.396358013f, -0.335245073f, -0.00405671354f, 0.0736658722f, -0.451606333f,
    -0.302607417f, 0.466206133f, -0.468546689f, -0.0414573252f, 0.571137249f, 0.208560303f, 0.474601954f,
    0.156977028f, -0.27317059f, -0.271399319f, -0.545866787f, 0.12473537f, -0.323998868f, -0.514751554f,
    0.506264865f, -0.385289073f, -0.332612306f, 0.331951022f, 0.305749506f, 0.443128943f, 0.209418282f,
    -0.192811713f, -0.161339462f, 0.170566559f, -0.374937713f, -0.065680258f, 0.165407121f, 0.0183934122f,
    -0.388488442f, -0.466684759f, 0.46019575f, 0.094014965f, 0.478983939f
};
static const float gru_bi_b[36] = {
    -0.411235482f, -0.16388911f, -0.193710446f, 0.0163465422f, -0.500337481f, 0.28600657f, -0.0854982883f,
    0.00631522248f, 0.476202846f, -0.365008891f, 0.258943945f, -0.408126622f, 0.0720757321f, 0.517128468f,
    0.353172332f, -0.244695559f, 0.169811815f, 0.190636486f, -0.0256754272f, -0.35163182f, 0.195260391f,
    -0.193551242f, 0.170061648f, -0.13202627f, 0.18253848f, -0.0119099114f, -0.129847318f, 0.236520469f,
    -0.194136053f, -0.278553039f, -0.355895907f, 0.399263561f, -0.429793447f, 0.103718124f, -0.299908638f,
    0.133024305f
};
static const float gru_bi_h0[12] = {
    1.027246f, -1.12102497f, 0.730751872f, -0.0439503379f, 1.16341972f, 0.151958346f, 0.70913142f,
    0.407221407f, -1.93830132f, -1.27993381f, -1.34823525f, 0.0602290779f
};
static const float gru_bi_y[36] = {
    0.177765489f, -0.92723912f, 0.576437294f, -0.677459419f, 0.989336967f, 0.562065363f, 0.642123699f,
    0.648279667f, 0.0617216676f, 0.331381291f, 0.116067827f, 0.0113748983f, 0.0f, 0.0f, 0.0f, -0.314093709f,
    0.394394547f, 0.655138373f, 0.0f, 0.0f, 0.0f, 0.212733746f, -0.305845022f, 0.207792118f, 0.0f, 0.0f, 0.0f,
    -0.523627639f, 0.221348017f, 0.746099174f, 0.0f, 0.0f, 0.0f, 0.0562410951f, -0.780880988f, 0.0224370174f
};
static const float gru_bi_yh[12] = {
    0.177765489f, -0.92723912f, 0.576437294f, -0.523627639f, 0.221348017f, 0.746099174f, 0.642123699f,
    0.648279667f, 0.0617216676f, 0.331381291f, 0.116067827f, 0.0113748983f
};
static const float rnn_bi_x[16] = {
    -0.764472842f, 0.240840584f, 0.166425735f, -2.23181462f, 1.3892113f, -0.502332568f, 1.67969275f,
    -1.02395296f, 1.68592429f, -1.21769202f, 0.764963329f, 1.19711816f, -0.712786138f, -0.0655755326f,
    2.20497036f, 1.78517091f
};
static const float rnn_bi_w[8] = {
    0.581579387f, 0.578950763f, 0.50617367f, 0.5459764f, -0.247481823f, 0.339289278f, 0.0812511966f,
    -0.168869346f
};
static const float rnn_bi_r[8] = {
    0.628749788f, -0.181063876f, 0.311128438f, 0.629982948f, -0.398603052f, -0.396769315f, -0.544105113f,
    0.474702209f
};
static const float rnn_bi_b[8] = {
    0.233924195f, 0.706877887f, 0.366750062f, 0.439571738f, 0.502704263f, -0.080477722f, -0.409192801f,
    0.54652667f
};
static const float rnn_bi_h0[8] = {
    0.843141317f, -0.504228354f, 0.151250422f, 0.660297811f, 0.813751757f, -0.0812507719f, -0.158249214f,
    0.56782496f
};
static const float rnn_bi_y[32] = {
    0.916929901f, 0.835656822f, 0.0f, 0.475206435f, 0.0f, 0.860574782f, 0.0f, 1.33990979f, 1.54299736f, 2.3871026f,
    0.89868784f, 1.73698366f, 0.0f, 1.04762673f, 0.0f, 1.01843524f, 1.41413057f, 3.31889319f, 1.98917842f,
    3.56112957f, 0.0f, 0.808663189f, 0.148149371f, 0.681698561f, 0.436370134f, 3.28067589f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
    0.0f
};
static const float rnn_bi_yh[8] = {
    0.436370134f, 3.28067589f, 1.98917842f, 3.56112957f, 0.0f, 0.860574782f, 0.0f, 1.33990979f
};
static const float gru_rev_x[12] = {
    3.52810478f, 0.800314426f, 1.95747602f, 4.48178625f, 3.735116f, -1.95455575f, 1.90017688f, -0.302714407f,
    -0.206437707f, 0.821197033f, 0.28808713f, 2.90854692f
};
static const float gru_rev_w[12] = {
    0.761037707f, 0.121675014f, 0.443863243f, 0.333674341f, 1.49407911f, -0.205158263f, 0.313067704f,
    -0.854095757f, -2.55298972f, 0.653618574f, 0.864436209f, -0.742165029f
};
static const float gru_rev_r[12] = {
    2.26975465f, -1.45436573f, 0.0457585156f, -0.187183857f, 1.53277922f, 1.4693588f, 0.15494743f,
    0.378162533f, -0.887785733f, -1.98079646f, -0.347912163f, 0.156348974f
};
static const float gru_rev_b[12] = {
    1.23029065f, 1.20237982f, -0.387326807f, -0.302302748f, -1.04855299f, -1.42001796f, -1.70627022f,
    1.95077538f, -0.509652197f, -0.438074291f, -1.25279534f, 0.777490377f
};
static const float gru_rev_y[12] = {
    -0.0547876358f, 0.408498704f, -0.0535686985f, 0.137899041f, -0.0512207448f, 0.215880886f, -0.0467751808f,
    0.175469458f, -0.0470244028f, -0.0107283248f, -0.0324172489f, -0.0112499986f
};
static const float gru_rev_yh[4] = {
    -0.0547876358f, 0.408498704f, -0.0535686985f, 0.137899041f
};

/* ---- tests */

/* Runs a bidirectional case with B, sequence_lens, initial_h (and initial_c
 * for LSTM) and checks Y (T, 2, N, H), Y_h and Y_c (2, N, H). */
static void run_bidir(const char *op, int64_t T, int64_t N, int64_t I, int64_t H, const int32_t *lens,
                      const float *x, const float *w, const float *r, const float *b, const float *h0,
                      const float *c0, const float *want_y, const float *want_yh, const float *want_yc)
{
    int G = strcmp(op, "LSTM") == 0 ? 4 : (strcmp(op, "GRU") == 0 ? 3 : 1);
    tnode t;
    tn_init(&t, op);
    a_str(&t, "direction", "bidirectional");
    a_int(&t, "hidden_size", H);
    const char *relu[2] = {"Relu", "Relu"};
    if (G == 1)
        a_strs(&t, "activations", 2, relu);
    if (G == 3)
        a_int(&t, "linear_before_reset", 1);
    int64_t dx[3] = {T, N, I}, dw[3] = {2, G * H, I}, dr[3] = {2, G * H, H}, db[2] = {2, 2 * G * H};
    int64_t dl[1] = {N}, dh[3] = {2, N, H};
    nt_tensor *in[7] = {mkf(3, dx, x), mkf(3, dw, w), mkf(3, dr, r), mkf(2, db, b),
                        mk(NT_DTYPE_INT32, 1, dl, lens), mkf(3, dh, h0), c0 ? mkf(3, dh, c0) : NULL};
    nt_tensor *out[3];
    int n_out = c0 ? 3 : 2;
    assert_int_equal(tn_run(&t, 14, c0 ? 7 : 6, in, n_out, out, NULL), NT_OK);
    int64_t dy[4] = {T, 2, N, H};
    expect_close(out[0], 4, dy, want_y, 1e-5);
    expect_close(out[1], 3, dh, want_yh, 1e-5);
    if (c0)
        expect_close(out[2], 3, dh, want_yc, 1e-5);
    free_all(out, n_out);
    free_all(in, 7);
}

static void test_lstm_bidirectional_seq_lens(void **st)
{
    (void)st;
    const int32_t lens[2] = {3, 2};
    run_bidir("LSTM", 3, 2, 3, 2, lens, lstm_bi_x, lstm_bi_w, lstm_bi_r, lstm_bi_b, lstm_bi_h0, lstm_bi_c0,
              lstm_bi_y, lstm_bi_yh, lstm_bi_yc);
}

static void test_gru_bidirectional_lbr(void **st)
{
    (void)st;
    const int32_t lens[2] = {1, 3};
    run_bidir("GRU", 3, 2, 2, 3, lens, gru_bi_x, gru_bi_w, gru_bi_r, gru_bi_b, gru_bi_h0, NULL, gru_bi_y,
              gru_bi_yh, NULL);
}

static void test_rnn_bidirectional_relu(void **st)
{
    (void)st;
    const int32_t lens[2] = {4, 3};
    run_bidir("RNN", 4, 2, 2, 2, lens, rnn_bi_x, rnn_bi_w, rnn_bi_r, rnn_bi_b, rnn_bi_h0, NULL, rnn_bi_y,
              rnn_bi_yh, NULL);
}

/* Reverse GRU, linear_before_reset 0, clip 1.5, HardSigmoid/LeakyRelu with
 * alpha/beta lists, no initial_h, only Y_h requested ... then Y too. */
static void test_gru_reverse_clip_activations(void **st)
{
    (void)st;
    for (int with_y = 0; with_y < 2; with_y++) {
        tnode t;
        tn_init(&t, "GRU");
        a_str(&t, "direction", "reverse");
        a_float(&t, "clip", 1.5f);
        const char *acts[2] = {"HardSigmoid", "LeakyRelu"};
        const float alpha[2] = {0.3f, 0.05f}, beta[1] = {0.4f};
        a_strs(&t, "activations", 2, acts);
        a_floats(&t, "activation_alpha", 2, alpha);
        a_floats(&t, "activation_beta", 1, beta);
        int64_t dx[3] = {3, 2, 2}, dw[3] = {1, 6, 2}, dr[3] = {1, 6, 2}, db[2] = {1, 12};
        nt_tensor *in[4] = {mkf(3, dx, gru_rev_x), mkf(3, dw, gru_rev_w), mkf(3, dr, gru_rev_r),
                            mkf(2, db, gru_rev_b)};
        nt_tensor *out[2];
        bool want[2] = {with_y != 0, true};
        assert_int_equal(tn_run(&t, 7, 4, in, 2, out, want), NT_OK);
        int64_t dy[4] = {3, 1, 2, 2}, dh[3] = {1, 2, 2};
        if (with_y)
            expect_close(out[0], 4, dy, gru_rev_y, 1e-5);
        else
            assert_null(out[0]);
        expect_close(out[1], 3, dh, gru_rev_yh, 1e-5);
        free_all(out, 2);
        free_all(in, 4);
    }
}

/* layout = 1 (opset 14): X (N, T, I), Y (N, T, D, H), states (N, D, H) give
 * the transposes of the layout-0 results. */
static void test_lstm_layout_batch_major(void **st)
{
    (void)st;
    const int64_t T = 3, N = 2, I = 3, H = 2, D = 2;
    float xb[18], h0b[8], c0b[8];
    for (int64_t t = 0; t < T; t++)
        for (int64_t n = 0; n < N; n++)
            for (int64_t i = 0; i < I; i++)
                xb[(n * T + t) * I + i] = lstm_bi_x[(t * N + n) * I + i];
    for (int64_t d = 0; d < D; d++)
        for (int64_t n = 0; n < N; n++)
            for (int64_t h = 0; h < H; h++) {
                h0b[(n * D + d) * H + h] = lstm_bi_h0[(d * N + n) * H + h];
                c0b[(n * D + d) * H + h] = lstm_bi_c0[(d * N + n) * H + h];
            }
    tnode t;
    tn_init(&t, "LSTM");
    a_str(&t, "direction", "bidirectional");
    a_int(&t, "layout", 1);
    int64_t dx[3] = {N, T, I}, dw[3] = {2, 8, 3}, dr[3] = {2, 8, 2}, db[2] = {2, 16}, dl[1] = {N}, dh[3] = {N, D, H};
    const int32_t lens[2] = {3, 2};
    nt_tensor *in[7] = {mkf(3, dx, xb), mkf(3, dw, lstm_bi_w), mkf(3, dr, lstm_bi_r), mkf(2, db, lstm_bi_b),
                        mk(NT_DTYPE_INT32, 1, dl, lens), mkf(3, dh, h0b), mkf(3, dh, c0b)};
    nt_tensor *out[3];
    assert_int_equal(tn_run(&t, 14, 7, in, 3, out, NULL), NT_OK);
    float yb[24], yhb[8], ycb[8];
    for (int64_t s = 0; s < T; s++)
        for (int64_t d = 0; d < D; d++)
            for (int64_t n = 0; n < N; n++)
                for (int64_t h = 0; h < H; h++)
                    yb[((n * T + s) * D + d) * H + h] = lstm_bi_y[((s * D + d) * N + n) * H + h];
    for (int64_t d = 0; d < D; d++)
        for (int64_t n = 0; n < N; n++)
            for (int64_t h = 0; h < H; h++) {
                yhb[(n * D + d) * H + h] = lstm_bi_yh[(d * N + n) * H + h];
                ycb[(n * D + d) * H + h] = lstm_bi_yc[(d * N + n) * H + h];
            }
    int64_t dy[4] = {N, T, D, H};
    expect_close(out[0], 4, dy, yb, 1e-5);
    expect_close(out[1], 3, dh, yhb, 1e-5);
    expect_close(out[2], 3, dh, ycb, 1e-5);
    free_all(out, 3);
    free_all(in, 7);
}

/* Peepholes and input_forget: a 1-step, 1-unit LSTM worked by hand.
 * x = 1, W = [wi wo wf wc] = [0.5 -0.25 0.75 1], R = 0, no bias, c0 = 0.5,
 * P = [pi po pf] = [0.2 0.3 0.4].
 *   i = sig(0.5 + 0.2*0.5), f = 1 - i (input_forget), g = tanh(1)
 *   c = f*0.5 + i*g, o = sig(-0.25 + 0.3*c), h = o * tanh(c) */
static void test_lstm_peephole_input_forget(void **st)
{
    (void)st;
    tnode t;
    tn_init(&t, "LSTM");
    a_int(&t, "input_forget", 1);
    const float x[1] = {1}, w[4] = {0.5f, -0.25f, 0.75f, 1}, r[4] = {0}, c0[1] = {0.5f}, p[3] = {0.2f, 0.3f, 0.4f};
    int64_t d3[3] = {1, 1, 1}, dw[3] = {1, 4, 1}, dp[2] = {1, 3};
    nt_tensor *in[8] = {mkf(3, d3, x), mkf(3, dw, w), mkf(3, dw, r), NULL, NULL, NULL, mkf(3, d3, c0),
                        mkf(2, dp, p)};
    nt_tensor *out[3];
    bool want[3] = {false, true, true};
    assert_int_equal(tn_run(&t, 7, 8, in, 3, out, want), NT_OK);
    double i = 1 / (1 + exp(-(0.5 + 0.2 * 0.5))), f = 1 - i, g = tanh(1.0);
    double c = f * 0.5 + i * g, o = 1 / (1 + exp(-(-0.25 + 0.3 * c))), h = o * tanh(c);
    const float wh[1] = {(float)h}, wc[1] = {(float)c};
    expect_close(out[1], 3, d3, wh, 1e-6);
    expect_close(out[2], 3, d3, wc, 1e-6);
    free_all(out, 3);
    free_all(in, 8);
}

/* Static inference with unknown batch; declined dtype and activation. */
static void test_rnn_infer_and_declines(void **st)
{
    (void)st;
    tnode t;
    tn_init(&t, "GRU");
    a_int(&t, "hidden_size", 5);
    nt_tensor x = {.dtype = NT_DTYPE_FLOAT, .ndim = 3, .dims = {7, -1, 4}};
    nt_tensor w = {.dtype = NT_DTYPE_FLOAT, .ndim = 3, .dims = {1, 15, 4}};
    nt_tensor r = {.dtype = NT_DTYPE_FLOAT, .ndim = 3, .dims = {1, 15, 5}};
    nt_tensor *in[3] = {&x, &w, &r};
    nt_tensor outs[2];
    assert_int_equal(tn_infer_static(&t, 14, 3, in, 2, outs), NT_OK);
    assert_int_equal(outs[0].ndim, 4);
    assert_int_equal(outs[0].dims[0], 7);
    assert_int_equal(outs[0].dims[2], -1);
    assert_int_equal(outs[0].dims[3], 5);
    assert_int_equal(outs[1].ndim, 3);
    assert_int_equal(outs[1].dims[2], 5);

    x.dtype = w.dtype = r.dtype = NT_DTYPE_DOUBLE;
    assert_int_equal(tn_infer_static(&t, 14, 3, in, 2, outs), NT_ERR_UNSUPPORTED);

    tnode u;
    tn_init(&u, "RNN");
    const char *acts[1] = {"Swish"};
    a_strs(&u, "activations", 1, acts);
    x.dtype = w.dtype = r.dtype = NT_DTYPE_FLOAT;
    assert_int_equal(tn_infer_static(&u, 14, 3, in, 2, outs), NT_ERR_UNSUPPORTED);
}

/* ---- larger random cases: the vectorised step kernels (rnn_step.c) */

/* A random case: X (T, N, I), W, R, B, sequence_lens, initial_h/c. */
typedef struct rcase {
    const char *op;
    int G;
    int64_t T, N, I, H, D;
    int lbr;
    float clip;        /* 0: none */
    float *x, *w, *r, *b, *h0, *c0;
    int32_t *lens;
} rcase;

static void rcase_init(rcase *c, const char *op, int64_t N, int64_t H, int lbr, uint32_t seed)
{
    memset(c, 0, sizeof *c);
    c->op = op;
    c->G = strcmp(op, "LSTM") == 0 ? 4 : (strcmp(op, "GRU") == 0 ? 3 : 1);
    c->T = 5, c->N = N, c->I = 6, c->H = H, c->D = 2, c->lbr = lbr;
    int64_t GH = c->G * H;
    c->x = malloc(sizeof(float) * (size_t)(c->T * N * c->I));
    c->w = malloc(sizeof(float) * (size_t)(2 * GH * c->I));
    c->r = malloc(sizeof(float) * (size_t)(2 * GH * H));
    c->b = malloc(sizeof(float) * (size_t)(4 * GH));
    c->h0 = malloc(sizeof(float) * (size_t)(2 * N * H));
    c->c0 = malloc(sizeof(float) * (size_t)(2 * N * H));
    c->lens = malloc(sizeof(int32_t) * (size_t)N);
    assert_true(c->x && c->w && c->r && c->b && c->h0 && c->c0 && c->lens);
    fill(c->x, c->T * N * c->I, seed);
    fill(c->w, 2 * GH * c->I, seed + 1);
    fill(c->r, 2 * GH * H, seed + 2);
    fill(c->b, 4 * GH, seed + 3);
    fill(c->h0, 2 * N * H, seed + 4);
    fill(c->c0, 2 * N * H, seed + 5);
    for (int64_t n = 0; n < N; n++)
        c->lens[n] = (int32_t)((n * 3 + 2) % (c->T + 1)); /* 2, 5, 3, 1, 4, 0 ... */
}

static void rcase_free(rcase *c)
{
    free(c->x), free(c->w), free(c->r), free(c->b), free(c->h0), free(c->c0), free(c->lens);
}

/* Runs the case bidirectionally; out gets Y, Y_h (and Y_c). */
static void rcase_run(const rcase *c, nt_tensor **out)
{
    tnode t;
    tn_init(&t, c->op);
    a_str(&t, "direction", "bidirectional");
    a_int(&t, "hidden_size", c->H);
    if (c->G == 3)
        a_int(&t, "linear_before_reset", c->lbr);
    if (c->clip > 0)
        a_float(&t, "clip", c->clip);
    int64_t GH = c->G * c->H;
    int64_t dx[3] = {c->T, c->N, c->I}, dw[3] = {2, GH, c->I}, dr[3] = {2, GH, c->H}, db[2] = {2, 2 * GH};
    int64_t dl[1] = {c->N}, dh[3] = {2, c->N, c->H};
    bool lstm = c->G == 4;
    nt_tensor *in[7] = {mkf(3, dx, c->x), mkf(3, dw, c->w), mkf(3, dr, c->r), mkf(2, db, c->b),
                        mk(NT_DTYPE_INT32, 1, dl, c->lens), mkf(3, dh, c->h0), lstm ? mkf(3, dh, c->c0) : NULL};
    assert_int_equal(tn_run(&t, 14, lstm ? 7 : 6, in, lstm ? 3 : 2, out, NULL), NT_OK);
    free_all(in, 7);
}

static double rsig(double v) { return 1 / (1 + exp(-v)); }

/* The ONNX equations in double, one direction (d), default activations:
 * fills y (T, 2, N, H) for that direction and yh (2, N, H). */
static void rcase_reference(const rcase *c, int d, double *y, double *yh)
{
    int64_t T = c->T, N = c->N, I = c->I, H = c->H, GH = c->G * H;
    const float *w = c->w + d * GH * I, *r = c->r + d * GH * H, *wb = c->b + d * 2 * GH, *rb = wb + GH;
    double *g = calloc((size_t)GH, sizeof(double)), *rh = calloc((size_t)H, sizeof(double));
    assert_true(g && rh);
    for (int64_t n = 0; n < N; n++) {
        double h[64], cc[64];
        assert_true(H <= 64);
        for (int64_t j = 0; j < H; j++) {
            h[j] = c->h0[(d * N + n) * H + j];
            cc[j] = c->c0[(d * N + n) * H + j];
        }
        for (int64_t s = 0; s < T; s++) {
            int64_t t = d ? T - 1 - s : s;
            bool active = d ? t < c->lens[n] : s < c->lens[n];
            if (!active) {
                for (int64_t j = 0; j < H; j++)
                    y[((t * 2 + d) * N + n) * H + j] = 0;
                continue;
            }
            const float *x = c->x + (t * N + n) * I;
            for (int64_t q = 0; q < GH; q++) {
                double a = wb[q];
                for (int64_t i = 0; i < I; i++)
                    a += (double)x[i] * w[q * I + i];
                g[q] = a;
            }
            if (c->G == 4) { /* i o f c */
                for (int64_t q = 0; q < GH; q++) {
                    g[q] += rb[q];
                    for (int64_t k = 0; k < H; k++)
                        g[q] += h[k] * r[q * H + k];
                }
                for (int64_t j = 0; j < H; j++) {
                    cc[j] = rsig(g[2 * H + j]) * cc[j] + rsig(g[j]) * tanh(g[3 * H + j]);
                    h[j] = rsig(g[H + j]) * tanh(cc[j]);
                }
            } else { /* z r h */
                for (int64_t q = 0; q < 2 * H; q++) {
                    g[q] += rb[q];
                    for (int64_t k = 0; k < H; k++)
                        g[q] += h[k] * r[q * H + k];
                }
                for (int64_t j = 0; j < H; j++) {
                    double a = 0, rj = rsig(g[H + j]);
                    for (int64_t k = 0; k < H; k++)
                        a += (c->lbr ? h[k] : rsig(g[H + k]) * h[k]) * r[(2 * H + j) * H + k];
                    a += rb[2 * H + j];
                    rh[j] = g[2 * H + j] + (c->lbr ? rj * a : a);
                }
                for (int64_t j = 0; j < H; j++) {
                    double z = rsig(g[j]);
                    h[j] = (1 - z) * tanh(rh[j]) + z * h[j];
                }
            }
            for (int64_t j = 0; j < H; j++)
                y[((t * 2 + d) * N + n) * H + j] = h[j];
        }
        for (int64_t j = 0; j < H; j++)
            yh[(d * N + n) * H + j] = h[j];
    }
    free(g);
    free(rh);
}

static const struct {
    const char *op;
    int lbr;
} rnn_kinds[] = {{"LSTM", 0}, {"GRU", 1}, {"GRU", 0}, {"RNN", 0}};

/* LSTM and GRU against the equations in double for batches on both sides
 * of NT_RNN_SMALL_N and hidden sizes that fill whole vector blocks (32, 64)
 * or leave column tails (7, 20, 37). */
static void test_rnn_random_against_reference(void **st)
{
    (void)st;
    const int64_t ns[] = {1, 2, 3, 5}, hs[] = {7, 20, 32, 37, 64};
    for (size_t kind = 0; kind < 3; kind++)
        for (size_t a = 0; a < NT_ARRAY_LEN(ns); a++)
            for (size_t b = 0; b < NT_ARRAY_LEN(hs); b++) {
                rcase c;
                rcase_init(&c, rnn_kinds[kind].op, ns[a], hs[b], rnn_kinds[kind].lbr, (uint32_t)(a * 7 + b));
                nt_tensor *out[3] = {NULL};
                rcase_run(&c, out);
                size_t ny = (size_t)(c.T * 2 * c.N * c.H), nh = (size_t)(2 * c.N * c.H);
                double *y = calloc(ny, sizeof(double)), *yh = calloc(nh, sizeof(double));
                assert_true(y && yh);
                rcase_reference(&c, 0, y, yh);
                rcase_reference(&c, 1, y, yh);
                const float *gy = out[0]->data, *gh = out[1]->data;
                for (size_t i = 0; i < ny; i++)
                    if (fabs(gy[i] - y[i]) > 1e-4) {
                        print_error("%s lbr %d N %lld H %lld: Y[%zu] = %.7g, want %.7g\n", c.op, c.lbr,
                                    (long long)c.N, (long long)c.H, i, gy[i], y[i]);
                        fail();
                    }
                for (size_t i = 0; i < nh; i++)
                    assert_true(fabs(gh[i] - yh[i]) <= 1e-4);
                free(y);
                free(yh);
                free_all(out, c.G == 4 ? 3 : 2);
                rcase_free(&c);
            }
}

/* The step kernel's AVX-512, AVX2 and portable variants, and the fused
 * default-activation cells against the generic ones (forced by a clip no
 * value reaches), give the same bits. */
static void test_rnn_step_kernels_same_bits(void **st)
{
    (void)st;
    const nt_sgemm_isa all[3] = {NT_SGEMM_AVX512, NT_SGEMM_AVX2, NT_SGEMM_NONE};
    const int64_t ns[] = {1, 2, 3, 4}, hs[] = {7, 16, 20, 32, 37, 64};
    nt_sgemm_isa prev = nt_sgemm_isa_force(NT_SGEMM_AVX512);
    for (size_t kind = 0; kind < NT_ARRAY_LEN(rnn_kinds); kind++)
        for (size_t a = 0; a < NT_ARRAY_LEN(ns); a++)
            for (size_t b = 0; b < NT_ARRAY_LEN(hs); b++) {
                rcase c;
                rcase_init(&c, rnn_kinds[kind].op, ns[a], hs[b], rnn_kinds[kind].lbr, (uint32_t)(a * 11 + b));
                int n_out = c.G == 4 ? 3 : 2;
                nt_tensor *first[3] = {NULL};
                for (int v = 0; v < 4; v++) {
                    nt_sgemm_isa_force(all[v < 3 ? v : 0]);
                    c.clip = v == 3 ? 3.0e38f : 0.0f;
                    nt_tensor *out[3] = {NULL};
                    rcase_run(&c, v ? out : first);
                    for (int o = 0; v && o < n_out; o++)
                        if (memcmp(out[o]->data, first[o]->data, nt_tensor_nbytes(first[o])) != 0) {
                            print_error("%s lbr %d N %lld H %lld: output %d of variant %d differs\n", c.op, c.lbr,
                                        (long long)c.N, (long long)c.H, o, v);
                            fail();
                        }
                    if (v)
                        free_all(out, n_out);
                }
                free_all(first, n_out);
                rcase_free(&c);
            }
    nt_sgemm_isa_force(prev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lstm_bidirectional_seq_lens),
        cmocka_unit_test(test_gru_bidirectional_lbr),
        cmocka_unit_test(test_rnn_bidirectional_relu),
        cmocka_unit_test(test_gru_reverse_clip_activations),
        cmocka_unit_test(test_lstm_layout_batch_major),
        cmocka_unit_test(test_lstm_peephole_input_forget),
        cmocka_unit_test(test_rnn_infer_and_declines),
        cmocka_unit_test(test_rnn_random_against_reference),
        cmocka_unit_test(test_rnn_step_kernels_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
