/*
 * resize_impl.h — what resize.c (attributes, geometry, the reference's
 * separable taps) shares with resize_ort.c (the float32 arithmetic of ONNX
 * Runtime's CPU kernel, for the modes and layouts it runs).
 */
#ifndef NT_RESIZE_IMPL_H
#define NT_RESIZE_IMPL_H

#include "ops/kernel.h"

typedef enum { RS_NEAREST, RS_LINEAR, RS_CUBIC } rs_mode;
typedef enum {
    CT_HALF_PIXEL, CT_HALF_PIXEL_SYM, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC,
    CT_TF_CROP, CT_TF_HALF_PIXEL_NN
} rs_ctm;
typedef enum { NM_ROUND_FLOOR, NM_ROUND_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE } rs_nearest;
typedef enum { KA_STRETCH, KA_NOT_LARGER, KA_NOT_SMALLER } rs_policy;

typedef struct rs_params {
    rs_mode mode;
    rs_ctm ctm;
    rs_nearest nearest;
    rs_policy policy;
    double cubic_a, extrap;
    bool exclude_outside, antialias;
    int n_axes;
    int64_t axes[NT_MAX_DIMS];
    bool upsample;        /* the Upsample op (scales only) */
} rs_params;

/* The geometry of one call: per axis the output length, the scale used by
 * the coordinate transform, and the roi (start, end) in normalized units. */
typedef struct rs_geom {
    int rank;
    int64_t in[NT_MAX_DIMS], out[NT_MAX_DIMS];
    /* the output length align_corners and tf_crop_and_resize divide by: as
     * in the reference, scale * in (not floored) when scales were given */
    double out_f[NT_MAX_DIMS];
    double scale[NT_MAX_DIMS], roi0[NT_MAX_DIMS], roi1[NT_MAX_DIMS];
    /* the scale as ONNX Runtime holds it: the float32 from the scales
     * input, or (float)out / (float)in when sizes were given */
    float scale_f[NT_MAX_DIMS];
} rs_geom;

/*
 * Runs Resize with ONNX Runtime's order of float32 operations when the call
 * is one its CPU kernel computes deterministically (see resize_ort.c for the
 * list); *done tells whether it did.  Without it the caller takes the
 * reference path (double, separable).
 */
nt_status nt_resize_ort(nt_kernel_ctx *ctx, const rs_params *p, const rs_geom *g, bool *done);

#endif /* NT_RESIZE_IMPL_H */
