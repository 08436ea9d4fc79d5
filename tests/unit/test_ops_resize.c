/*
 * test_ops_resize.c — resize.c through the registry: Upsample-7 (scales
 * attribute) and -9 (asymmetric linear), Resize-10's legacy nearest
 * rounding, Resize-11 inputs (empty roi/scales, sizes), half_pixel bilinear,
 * 3-D trilinear align_corners and 2-D bicubic against PyTorch's
 * interpolate (which shares those formulas), 1-D resize, nearest on int8
 * with tf_crop_and_resize extrapolation, tf_half_pixel_for_nn leaving the
 * unscaled axes alone, declined modes/dtypes and static-mode inference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/core.h"
#include "exec/exec.h"
#include "ops/kernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- harness: op_harness.h runs a kernel through the registry as the
 * executor does; these wrappers keep this file's call shapes. */

#include "op_harness.h"

/* prepare, infer, allocate, compute; out[i] get new tensors; returns the
 * first failing status (outputs freed and NULL then). */
static nt_status tn_run(tnode *t, int opset, int n_in, nt_tensor **in, int n_out, nt_tensor **out, nt_exec *exec)
{
    return oh_run(t, opset, n_in, in, n_out, out, NULL, exec);
}

/* One output, no thread pool. */
static nt_tensor *tn_run1(tnode *t, int opset, int n_in, nt_tensor **in, nt_status want)
{
    nt_tensor *y = NULL;
    assert_int_equal(tn_run(t, opset, n_in, in, 1, &y, NULL), want);
    return y;
}

/* Static-mode infer only; y is caller storage. */
static NT_UNUSED nt_status tn_infer_static(tnode *t, int opset, int n_in, nt_tensor **in, nt_tensor *y)
{
    nt_tensor *out[1] = {y};
    return oh_infer_static(t, opset, n_in, in, 1, out);
}

static void test_upsample_7_9(void **unused)
{
    (void)unused;
    int64_t d[4] = {1, 1, 2, 2};
    float xv[4] = {1, 2, 3, 4};
    nt_tensor *x = mkf(4, d, xv);
    nt_tensor *in[2] = {x, NULL};
    tnode t;
    tn_init(&t, "Upsample");
    a_floats(&t, "scales", 4, (float[]){1, 1, 2, 3});
    nt_tensor *y = tn_run1(&t, 7, 1, in, NT_OK);
    expect_shape(y, 4, (int64_t[]){1, 1, 4, 6});
    float w[24] = {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4};
    expect_close(y->data, w, 24, 0);
    nt_tensor_free(y);

    in[1] = mkf(1, (int64_t[]){4}, (float[]){1, 1, 2, 2});
    tn_init(&t, "Upsample");
    a_str(&t, "mode", "linear");
    y = tn_run1(&t, 9, 2, in, NT_OK);
    float wl[16] = {1, 1.5f, 2, 2, 2, 2.5f, 3, 3, 3, 3.5f, 4, 4, 3, 3.5f, 4, 4};
    expect_close(y->data, wl, 16, 1e-7);
    nt_tensor_free(y);
    /* scales < 1 are not an upsample */
    nt_tensor_free(in[1]);
    in[1] = mkf(1, (int64_t[]){4}, (float[]){1, 1, 0.5f, 1});
    assert_null(tn_run1(&t, 9, 2, in, NT_ERR_SHAPE));
    free_all(2, in);
}

/* Resize-10 nearest, downscale 0.6: asymmetric x = o / 0.6, rounded up when
 * downscaling (the behaviour of the pre-11 implementation). */
static void test_resize10_nearest(void **unused)
{
    (void)unused;
    int64_t d[2] = {1, 4};
    nt_tensor *x = mkf(2, d, (float[]){1, 2, 3, 4});
    nt_tensor *in[2] = {x, mkf(1, (int64_t[]){2}, (float[]){1, 0.6f})};
    tnode t;
    tn_init(&t, "Resize");
    nt_tensor *y = tn_run1(&t, 10, 2, in, NT_OK);
    expect_shape(y, 2, (int64_t[]){1, 2});
    expect_close(y->data, (float[]){1, 3}, 2, 0);
    nt_tensor_free(y);
    tn_init(&t, "Resize");
    a_str(&t, "mode", "cubic"); /* no cubic before 11 */
    assert_null(tn_run1(&t, 10, 2, in, NT_ERR_UNSUPPORTED));
    free_all(2, in);
}

/* Resize-11 with an empty roi and scales: the half_pixel bilinear example. */
static void test_resize11_bilinear(void **unused)
{
    (void)unused;
    int64_t d[4] = {1, 1, 2, 2};
    nt_tensor *x = mkf(4, d, (float[]){1, 2, 3, 4});
    nt_tensor *roi = mkf(1, (int64_t[]){0}, NULL), *sc = mkf(1, (int64_t[]){4}, (float[]){1, 1, 2, 2});
    nt_tensor *in[3] = {x, roi, sc};
    tnode t;
    tn_init(&t, "Resize");
    a_str(&t, "mode", "linear");
    nt_tensor *y = tn_run1(&t, 11, 3, in, NT_OK);
    float w[16] = {1, 1.25f, 1.75f, 2, 1.5f, 1.75f, 2.25f, 2.5f, 2.5f, 2.75f, 3.25f, 3.5f, 3, 3.25f, 3.75f, 4};
    expect_close(y->data, w, 16, 1e-7);
    nt_tensor_free(y);
    /* the same through sizes (scales empty) */
    nt_tensor *esc = mkf(1, (int64_t[]){0}, NULL), *sz = mki64(4, (int64_t[]){1, 1, 4, 4});
    nt_tensor *in2[4] = {x, roi, esc, sz};
    y = tn_run1(&t, 11, 4, in2, NT_OK);
    expect_close(y->data, w, 16, 1e-7);
    nt_tensor_free(y);
    free_all(3, in);
    free_all(2, in2 + 2);
}

/* tf2onnx's nearest resize with half_pixel_centers: tf_half_pixel_for_nn,
 * round_prefer_ceil, sizes covering N and C.  The kept axes (scale 1) must
 * map each index to itself, not (o + 0.5) rounded up; the resized axis
 * picks round((o + 0.5) / s) as TF and ONNX Runtime do. */
static void test_resize11_tf_half_pixel_nn(void **unused)
{
    (void)unused;
    int64_t d[4] = {2, 2, 1, 2};
    float xv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nt_tensor *x = mkf(4, d, xv);
    nt_tensor *roi = mkf(1, (int64_t[]){0}, NULL), *esc = mkf(1, (int64_t[]){0}, NULL);
    nt_tensor *sz = mki64(4, (int64_t[]){2, 2, 1, 3});
    nt_tensor *in[4] = {x, roi, esc, sz};
    tnode t;
    tn_init(&t, "Resize");
    a_str(&t, "coordinate_transformation_mode", "tf_half_pixel_for_nn");
    a_str(&t, "nearest_mode", "round_prefer_ceil");
    nt_tensor *y = tn_run1(&t, 11, 4, in, NT_OK);
    expect_shape(y, 4, (int64_t[]){2, 2, 1, 3});
    /* width 2 -> 3, s = 1.5: x = 1/3, 1, 5/3 -> 0, 1, 1 (clamped) */
    float w[12] = {1, 2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8};
    expect_close(y->data, w, 12, 0);
    nt_tensor_free(y);
    free_all(4, in);
}

static void test_trilinear_bicubic(void **unused)
{
    (void)unused;
    const float x3[12] = {0.0f, 1.0f, 2.4622886180877686f, 4.171167373657227f, 6.0628662109375f,
                          8.10328197479248f, 10.270617485046387f, 12.549528121948242f, 14.928526878356934f,
                          17.398635864257812f, 19.952619552612305f, 22.584497451782227f};
    const float tri[18] = {0.0f, 2.4622886180877686f, 2.0855836868286133f, 5.282785415649414f,
                           4.171167373657227f, 8.10328197479248f, 5.135308742523193f, 8.69540786743164f,
                           7.960104942321777f, 12.019648551940918f, 10.78490161895752f, 15.343889236450195f,
                           10.270617485046387f, 14.928526878356934f, 13.834627151489258f, 18.756511688232422f,
                           17.398635864257812f, 22.584497451782227f};
    nt_tensor *x = mkf(5, (int64_t[]){1, 1, 2, 2, 3}, x3);
    nt_tensor *in[4] = {x, NULL, NULL, mki64(5, (int64_t[]){1, 1, 3, 3, 2})};
    tnode t;
    tn_init(&t, "Resize");
    a_str(&t, "mode", "linear");
    a_str(&t, "coordinate_transformation_mode", "align_corners");
    nt_tensor *y = tn_run1(&t, 13, 4, in, NT_OK);
    expect_shape(y, 5, (int64_t[]){1, 1, 3, 3, 2});
    expect_close(y->data, tri, 18, 1e-6);
    nt_tensor_free(y);
    free_all(2, (nt_tensor *[]){x, in[3]});

    const float x2[16] = {0.0f, 1.0f, 2.297396659851074f, 3.7371931076049805f, 5.278032302856445f,
                          6.898648738861084f, 8.585814476013184f, 10.330412864685059f, 12.125734329223633f,
                          13.966611862182617f, 15.848933219909668f, 17.769338607788086f, 19.72502326965332f,
                          21.713611602783203f, 23.73305892944336f, 25.78158187866211f};
    const float cub[35] = {
        -0.4161163866519928f, -0.0710754543542862f, 0.5277629494667053f, 1.2354871034622192f, 2.055530071258545f,
        2.930694341659546f, 3.4776699542999268f, 2.9093031883239746f, 3.439697742462158f, 4.320340633392334f,
        5.231795310974121f, 6.196349620819092f, 7.207634449005127f, 7.833499908447266f, 8.308151245117188f,
        8.977897644042969f, 10.074248313903809f, 11.156625747680664f, 12.25710391998291f, 13.397995948791504f,
        14.100300788879395f, 14.811763763427734f, 15.531046867370605f, 16.708486557006836f, 17.871837615966797f,
        19.052106857299805f, 20.271183013916016f, 21.02090835571289f, 19.988500595092773f, 20.742633819580078f,
        21.97628402709961f, 23.192626953125f, 24.423337936401367f, 25.692359924316406f, 26.47235107421875f};
    x = mkf(4, (int64_t[]){1, 1, 4, 4}, x2);
    nt_tensor *in2[4] = {x, NULL, NULL, mki64(4, (int64_t[]){1, 1, 5, 7})};
    tn_init(&t, "Resize");
    a_str(&t, "mode", "cubic");
    y = tn_run1(&t, 19, 4, in2, NT_OK);
    expect_close(y->data, cub, 35, 1e-5);
    nt_tensor_free(y);
    free_all(2, (nt_tensor *[]){x, in2[3]});
}

/* Rank-1 linear with axes; int8 nearest with tf_crop_and_resize extrapolation. */
static void test_1d_and_int8(void **unused)
{
    (void)unused;
    nt_tensor *x = mkf(1, (int64_t[]){3}, (float[]){0, 10, 20});
    nt_tensor *in[3] = {x, NULL, mkf(1, (int64_t[]){1}, (float[]){2})};
    tnode t;
    tn_init(&t, "Resize");
    a_str(&t, "mode", "linear");
    a_str(&t, "coordinate_transformation_mode", "asymmetric");
    a_ints(&t, "axes", 1, (int64_t[]){0});
    nt_tensor *y = tn_run1(&t, 18, 3, in, NT_OK);
    expect_close(y->data, (float[]){0, 5, 10, 15, 20, 20}, 6, 1e-7);
    nt_tensor_free(y);
    free_all(3, in);

    int8_t xv[4] = {1, 2, 3, 4};
    x = mk(NT_DTYPE_INT8, 2, (int64_t[]){2, 2}, xv);
    nt_tensor *roi = mkf(1, (int64_t[]){4}, (float[]){0, 0, 1, 2});
    nt_tensor *in2[4] = {x, roi, NULL, mki64(2, (int64_t[]){2, 3})};
    tn_init(&t, "Resize");
    a_str(&t, "coordinate_transformation_mode", "tf_crop_and_resize");
    a_float(&t, "extrapolation_value", -7);
    y = tn_run1(&t, 13, 4, in2, NT_OK);
    /* columns map to x = 0, 1, 2 of a width-2 input: the last is outside */
    int8_t w[6] = {1, 2, -7, 3, 4, -7};
    assert_memory_equal(y->data, w, 6);
    nt_tensor_free(y);
    tn_init(&t, "Resize");
    a_str(&t, "mode", "linear");
    assert_null(tn_run1(&t, 13, 4, in2, NT_ERR_UNSUPPORTED));
    free_all(4, in2);
}

static void test_resize_static_and_declined(void **unused)
{
    (void)unused;
    nt_tensor x = {0}, sc = {0}, y = {0};
    x.dtype = NT_DTYPE_FLOAT;
    x.ndim = 4;
    x.dims[0] = 1;
    x.dims[1] = 3;
    x.dims[2] = 8;
    x.dims[3] = 8;
    sc.dtype = NT_DTYPE_FLOAT;
    sc.ndim = 1;
    sc.dims[0] = 4;
    nt_tensor *in[3] = {&x, NULL, &sc};
    tnode t;
    tn_init(&t, "Resize");
    assert_int_equal(tn_infer_static(&t, 13, 3, in, &y), NT_OK);
    assert_int_equal(y.ndim, -1);
    float s[4] = {1, 1, 0.5f, 2};
    sc.data = s;
    assert_int_equal(tn_infer_static(&t, 13, 3, in, &y), NT_OK);
    expect_shape(&y, 4, (int64_t[]){1, 3, 4, 16});
    tn_init(&t, "Resize");
    a_str(&t, "coordinate_transformation_mode", "half_pixel_symmetric");
    assert_int_equal(tn_infer_static(&t, 18, 3, in, &y), NT_ERR_UNSUPPORTED); /* 19+ */
    assert_int_equal(tn_infer_static(&t, 19, 3, in, &y), NT_OK);
    tn_init(&t, "Resize");
    a_str(&t, "mode", "area");
    assert_int_equal(tn_infer_static(&t, 19, 3, in, &y), NT_ERR_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upsample_7_9),
        cmocka_unit_test(test_resize10_nearest),
        cmocka_unit_test(test_resize11_bilinear),
        cmocka_unit_test(test_resize11_tf_half_pixel_nn),
        cmocka_unit_test(test_trilinear_bicubic),
        cmocka_unit_test(test_1d_and_int8),
        cmocka_unit_test(test_resize_static_and_declined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
