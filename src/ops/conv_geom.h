/*
 * conv_geom.h — the window geometry shared by the convolution and pooling
 * families: parsing kernel_shape / strides / dilations / pads / auto_pad once
 * per node, and resolving output sizes and effective pads once the input's
 * spatial shape is known.
 *
 * Everything is per spatial axis (the dims after N and C).  Pads are stored
 * ONNX-style: begin[i] then end[i].  Resolution is a pure function of the
 * parsed attributes and the input shape, so infer and compute agree.
 */
#ifndef NT_CONV_GEOM_H
#define NT_CONV_GEOM_H

#include "ops/kernel.h"

#define NT_MAX_SPATIAL (NT_MAX_DIMS - 2)

typedef enum nt_auto_pad {
    NT_AUTO_PAD_NOTSET = 0,
    NT_AUTO_PAD_SAME_UPPER,
    NT_AUTO_PAD_SAME_LOWER,
    NT_AUTO_PAD_VALID
} nt_auto_pad;

/* Attributes as written on the node (counts 0 when the attribute is absent). */
typedef struct nt_window_attrs {
    nt_auto_pad auto_pad;
    int n_kernel, n_strides, n_dils, n_pads;
    int64_t kernel[NT_MAX_SPATIAL];
    int64_t strides[NT_MAX_SPATIAL];
    int64_t dils[NT_MAX_SPATIAL];
    int64_t pads[2 * NT_MAX_SPATIAL];
    bool ceil_mode;          /* pools only */
} nt_window_attrs;

/* A window resolved against a concrete input: every field filled for nsp axes. */
typedef struct nt_window {
    int nsp;
    int64_t in[NT_MAX_SPATIAL], out[NT_MAX_SPATIAL];
    int64_t kernel[NT_MAX_SPATIAL], stride[NT_MAX_SPATIAL], dil[NT_MAX_SPATIAL];
    int64_t pad_begin[NT_MAX_SPATIAL], pad_end[NT_MAX_SPATIAL];
} nt_window;

/* Parses and validates the window attributes of a node (kernel_shape is
 * required when need_kernel).  Bad values give NT_ERR_PARSE with a message. */
nt_status nt_window_parse(const nt_node *node, bool need_kernel, bool allow_ceil, nt_window_attrs *a);

/* Resolves the window for nsp spatial axes of sizes in[] with kernel sizes
 * kernel[] (from the weight for Conv, from the attribute for pools).  In
 * static mode an in[i] of -1 gives out[i] == -1.  NT_ERR_SHAPE if the window
 * does not fit (output size < 1) or the attribute lengths disagree with nsp. */
nt_status nt_window_resolve(const nt_kernel_ctx *ctx, const nt_window_attrs *a, int nsp, const int64_t *in,
                            const int64_t *kernel, nt_window *w);

/* ---- lowering a window to matrix form (conv_lower.c)
 *
 * For one image and one group: x is (C, in...) contiguous, col is
 * (C*K, OUT) where K = prod(kernel) and OUT = prod(out).  Row r = c*K + kpos
 * (kpos row-major over the kernel axes), column = output position.  Taps that
 * fall in the padding read 0.  im2col fills rows [r0, r1); col2im is its
 * adjoint: it adds every col entry into the input position it came from, for
 * channels [c0, c1) (y must be initialized; used by ConvTranspose). */
void nt_im2col_f32(const float *x, const nt_window *w, float *col, int64_t r0, int64_t r1);
void nt_im2col_f64(const double *x, const nt_window *w, double *col, int64_t r0, int64_t r1);
void nt_im2col_s16(const int16_t *x, const nt_window *w, int16_t *col, int64_t r0, int64_t r1);
void nt_col2im_f32(const float *col, const nt_window *w, float *y, int64_t c0, int64_t c1);
void nt_col2im_f64(const double *col, const nt_window *w, double *y, int64_t c0, int64_t c1);

/* ---- live taps (conv_taps.c)
 *
 * Narrows w to the sub-box of kernel positions that read the input for at
 * least one output (the rest only ever read padding).  Returns false when
 * every tap is live (*live is then a copy of w).  k0[i] is the first live
 * tap on axis i; the narrowed window has the same output size. */
bool nt_window_live_taps(const nt_window *w, nt_window *live, int64_t *k0);
/* Copies the live sub-box (from nt_window_live_taps) of each of the MC
 * filters wt (MC, full kernel) into wr (MC, live kernel). */
void nt_kernel_slice_f32(const float *wt, int64_t MC, const nt_window *full, const nt_window *live,
                         const int64_t *k0, float *wr);

/* Products of the window's kernel, out and in sizes. */
int64_t nt_window_kernel_size(const nt_window *w);
int64_t nt_window_out_size(const nt_window *w);
int64_t nt_window_in_size(const nt_window *w);

/* ---- the conv family's node state (conv.c, conv_quant.c) */

#include "ops/gemm_util.h"

/* A fused epilogue (src/exec/fuse_conv.c): element-wise work applied to the
 * finished outputs y[off, off + n) (flat indices into Y) while they are in
 * cache.  Set on the state only for the duration of one fused run. */
typedef struct nt_conv_epi {
    void (*apply)(const struct nt_conv_epi *e, float *y, int64_t off, int64_t n);
    const void *arg;
} nt_conv_epi;

typedef struct nt_conv_state {
    nt_window_attrs wa;
    int64_t group;
    int n_out_pad, n_out_shape;              /* ConvTranspose */
    int64_t out_pad[NT_MAX_SPATIAL];
    int64_t out_shape[NT_MAX_DIMS];
    nt_scratch col, wbuf, xbuf, acc;         /* reused across runs */
    /* Float32 weights prepared for our own kernels (conv.c): packed GEMM
     * panels per group, or Winograd-transformed filters.  Kept across runs
     * only while W is a constant of the session (an initializer that is not
     * a graph input) and still at the same address; otherwise rebuilt per
     * run. */
    struct nt_sgemm_pa *wpk;                 /* group entries */
    int64_t n_wpk;
    const void *wpk_src;
    int wpk_isa;
    bool wpk_const;
    struct nt_wino *wino;                    /* winograd.c */
    struct nt_conv_tapwise *tapwise;         /* conv_tapwise.c, allocated on first use */
    /* Quantized weights packed per group for the VNNI GEMM (conv_quant.c),
     * with the W address (NULL: not a session constant), signedness and
     * zero points they were packed with. */
    struct nt_igemm_q8_packed **q8pk;
    int64_t n_q8pk;
    const void *q8pk_src;
    int32_t *q8pk_zp;
    bool q8pk_signed;
    /* Float32 weights narrowed to the live taps (conv_taps.c), with what
     * they were cut from: the W address and the live box. */
    nt_scratch slice;
    const void *slice_src;
    int64_t slice_key[2 * NT_MAX_SPATIAL];
    /* The fused epilogue of this run (NULL unfused); epi_done is set when a
     * path applied it to every output as it went. */
    const nt_conv_epi *epi;
    bool epi_done;
} nt_conv_state;

/* Resolved shapes of a forward convolution: X (N,C,in...), W (M,C/group,k...),
 * Y (N,M,out...).  Dims may be -1 in static mode. */
typedef struct nt_conv_shape {
    int64_t N, C, M;
    nt_window w;
    int ndim;                                /* rank of X and Y */
    int64_t ydims[NT_MAX_DIMS];
} nt_conv_shape;

/* Checks X (input xi), W (input wi) and optional bias (input bi, -1 for none)
 * and resolves the output shape.  Returns NT_OK with *known false when the
 * ranks are not known yet (static mode). */
nt_status nt_conv_resolve(const nt_kernel_ctx *ctx, const nt_conv_state *st, int xi, int wi, int bi,
                          nt_conv_shape *cs, bool *known);

/* Float convolution of X (N,C,in...) by W (M,C/group,k...) into Y
 * (N,M,out...), adding bias (M) when not NULL. */
nt_status nt_conv_f32(nt_kernel_ctx *ctx, nt_conv_state *st, const nt_conv_shape *cs, const float *x,
                      const float *wt, const float *bias, float *y);

/* Node state for every conv-family op (conv.c). */
nt_status nt_conv_prepare(const nt_node *node, int opset, void **state);
void nt_conv_release(void *state);

/* Quantized convolutions (conv_quant.c); nt_conv_quant_release frees
 * their packed weights. */
void nt_conv_quant_release(nt_conv_state *st);
nt_status nt_convinteger_infer(nt_kernel_ctx *ctx);
nt_status nt_convinteger_compute(nt_kernel_ctx *ctx);
nt_status nt_qlinearconv_infer(nt_kernel_ctx *ctx);
nt_status nt_qlinearconv_compute(nt_kernel_ctx *ctx);

/* The build's -O2 uses gcc's "very cheap" vectorizer cost model, which skips
 * loops of unknown trip count; the hot inner loops of the kernels ask for the
 * dynamic model (no change to floating-point semantics: no reassociation). */
#if defined(__GNUC__) && !defined(__clang__)
#define NT_VECTORIZE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define NT_VECTORIZE
#endif

/* Copy and transform loops compiled three times (AVX-512, AVX2, baseline)
 * with the best chosen at load time (an ifunc); the arithmetic is the same
 * in every clone (no contraction into FMA in ISO C mode), so are results. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NT_CLONES
#endif

/* Floor division for possibly negative numerators (C's / truncates). */
static inline int64_t nt_floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

#endif /* NT_CONV_GEOM_H */
