/*
 * dwconv_any.c — depthwise convolution of one channel plane for any 2-D
 * window: kernel size, strides, dilations and pads (EfficientNet's 5x5,
 * ConvNeXt's 7x7, dilated and strided ones).
 *
 * The plane is first copied into a zero-bordered buffer that holds every
 * input position the window reads, with the columns of each row split by
 * phase modulo the horizontal stride (column c goes to phase c % SW at
 * c / SW).  In that layout every tap of every output is in bounds and
 * consecutive outputs of a row read consecutive floats for any stride, so
 * one kernel without bounds checks or gathers covers the whole plane:
 * vectors along the output row, several output rows at once so the
 * accumulator chains are independent (small planes such as 7x7 and 14x14
 * would otherwise wait on one chain).  Copying costs one pass over the
 * plane against KH*KW multiply-adds per output.
 *
 * Numerics: each output is bias, then for kh ascending and kw ascending one
 * multiply then one add (no FMA, so every kernel set gives the same bits).
 * Taps in the padding add w*0, which changes nothing unless the weight is
 * NaN or infinite (then the output is NaN, as on the GEMM paths).
 *
 * Kernel sets follow nt_sgemm_isa_get(): AVX-512F, AVX2, or the plain C
 * loop, so tests can force each one.
 */
#include "ops/dwconv.h"
#include "ops/sgemm.h"

#include <immintrin.h>
#include <string.h>

/* Geometry of the phase-split padded copy of one plane. */
typedef struct dw_layout {
    int64_t rows;        /* padded rows */
    int64_t phase_w;     /* floats per phase of one row */
    int64_t row_stride;  /* SW * phase_w */
    bool copy;           /* false: x is read in place (no pads, stride 1) */
} dw_layout;

static dw_layout layout_of(const nt_window *w)
{
    const int64_t SW = w->stride[1];
    int64_t need_h = (w->out[0] - 1) * w->stride[0] + (w->kernel[0] - 1) * w->dil[0] + 1;
    int64_t need_w = (w->out[1] - 1) * SW + (w->kernel[1] - 1) * w->dil[1] + 1;
    int64_t have_h = w->pad_begin[0] + w->in[0], have_w = w->pad_begin[1] + w->in[1];
    dw_layout l;
    l.rows = need_h > have_h ? need_h : have_h;
    int64_t width = need_w > have_w ? need_w : have_w;
    l.phase_w = (width + SW - 1) / SW;
    l.row_stride = SW * l.phase_w;
    l.copy = !(SW == 1 && w->pad_begin[0] == 0 && w->pad_begin[1] == 0 && need_h <= w->in[0] &&
               need_w <= w->in[1]);
    if (!l.copy) {
        l.rows = w->in[0];
        l.phase_w = l.row_stride = w->in[1];
    }
    return l;
}

bool nt_dwconv_applies(const nt_window *w)
{
    return w->nsp == 2 && w->kernel[0] >= 1 && w->kernel[1] >= 1 && w->kernel[0] * w->kernel[1] <= NT_DWCONV_MAX_TAPS;
}

/* Vertical stride 1 and rows much narrower than a vector (7x7, 14x14
 * planes): the plane is computed as one flat row over the copy, outputs
 * (oh, ow) at oh * row_stride + ow, the columns past OW computed and
 * dropped.  Fewer, fuller vectors than one masked vector per row. */
static bool use_flat(const nt_window *w, const dw_layout *l, int vl)
{
    const int64_t OH = w->out[0], OW = w->out[1];
    if (w->stride[0] != 1 || OH < 2 || vl <= 1)
        return false;
    int64_t flat_len = (OH - 1) * l->row_stride + OW;
    return (flat_len + vl - 1) / vl < OH * ((OW + vl - 1) / vl);
}

size_t nt_dwconv_scratch_floats(const nt_window *w)
{
    dw_layout l = layout_of(w);
    size_t n = l.copy ? (size_t)(l.rows * l.row_stride) : 0;
    if (w->stride[0] == 1)
        n += (size_t)(w->out[0] * l.row_stride); /* the flat output */
    return n;
}

/* Fills xp (l rows) from the plane x: zeros outside, columns split by
 * phase (padded column p = c + PL goes to phase p % SW, index p / SW). */
NT_CLONES NT_VECTORIZE static void copy_plane(const float *x, const nt_window *w, const dw_layout *l, float *xp)
{
    const int64_t IH = w->in[0], IW = w->in[1], SW = w->stride[1], PT = w->pad_begin[0], PL = w->pad_begin[1];
    memset(xp, 0, (size_t)(l->rows * l->row_stride) * sizeof *xp);
    for (int64_t r = 0; r < IH; r++) {
        float *d = xp + (r + PT) * l->row_stride;
        const float *s = x + r * IW;
        if (SW == 1) {
            memcpy(d + PL, s, (size_t)IW * sizeof *s);
            continue;
        }
        for (int64_t t = 0; t < SW; t++) {
            /* indices i with 0 <= t + SW*i - PL < IW */
            int64_t lo = PL > t ? (PL - t + SW - 1) / SW : 0, hi = (IW + PL - t + SW - 1) / SW;
            float *restrict dt = d + t * l->phase_w;
            const float *restrict st = s + t - PL;
            for (int64_t i = lo; i < hi; i++)
                dt[i] = st[SW * i];
        }
    }
}

/* The taps in the copy: output (oh, ow) reads src[oh*rs + off[t] + ow] for
 * tap t = kh*KW + kw, with rs = SH * row_stride. */
static void tap_offsets(const nt_window *w, const dw_layout *l, int64_t *off)
{
    const int64_t KH = w->kernel[0], KW = w->kernel[1], SW = w->stride[1];
    for (int64_t kh = 0; kh < KH; kh++)
        for (int64_t kw = 0; kw < KW; kw++) {
            int64_t c = kw * w->dil[1];
            off[kh * KW + kw] = kh * w->dil[0] * l->row_stride + (c % SW) * l->phase_w + c / SW;
        }
}

typedef void (*dw_kernel_fn)(const float *src, int64_t rs, const int64_t *off, const float *k, int64_t T,
                             float bias, float *y, int64_t OH, int64_t OW);

/* Plain C: per output row, bias then one pass per tap (the same order). */
NT_VECTORIZE static void dw_kernel_c(const float *src, int64_t rs, const int64_t *off, const float *k, int64_t T,
                                     float bias, float *y, int64_t OH, int64_t OW)
{
    for (int64_t oh = 0; oh < OH; oh++) {
        float *restrict yr = y + oh * OW;
        for (int64_t o = 0; o < OW; o++)
            yr[o] = bias;
        for (int64_t t = 0; t < T; t++) {
            const float *restrict xr = src + oh * rs + off[t];
            const float kv = k[t];
            for (int64_t o = 0; o < OW; o++)
                yr[o] = yr[o] + kv * xr[o];
        }
    }
}

#if defined(__x86_64__) && defined(__GNUC__)

/* AVX-512: tiles of R rows x V vectors of 16 outputs (R*V <= 8
 * accumulators), the row's last partial vector masked. */
#define DW512_TILE(R, V)                                                                               \
    do {                                                                                               \
        __m512 acc[R][V];                                                                              \
        _Pragma("GCC unroll 4") for (int r_ = 0; r_ < (R); r_++)                                          \
            _Pragma("GCC unroll 4") for (int v_ = 0; v_ < (V); v_++)                                      \
                acc[r_][v_] = vb;                                                                      \
        for (int64_t t = 0; t < T; t++) {                                                              \
            const __m512 kv = _mm512_set1_ps(k[t]);                                                    \
            const float *p = src + oh * rs + off[t] + o;                                               \
            _Pragma("GCC unroll 4") for (int r_ = 0; r_ < (R); r_++)                                      \
                _Pragma("GCC unroll 4") for (int v_ = 0; v_ < (V); v_++) {                                \
                    __m512 xv = _mm512_maskz_loadu_ps(v_ == (V)-1 ? mlast : 0xFFFF, p + r_ * rs + 16 * v_); \
                    acc[r_][v_] = _mm512_add_ps(acc[r_][v_], _mm512_mul_ps(kv, xv));                  \
                }                                                                                      \
        }                                                                                              \
        _Pragma("GCC unroll 4") for (int r_ = 0; r_ < (R); r_++)                                          \
            _Pragma("GCC unroll 4") for (int v_ = 0; v_ < (V); v_++)                                      \
                _mm512_mask_storeu_ps(y + (oh + r_) * OW + o + 16 * v_, v_ == (V)-1 ? mlast : 0xFFFF,   \
                                      acc[r_][v_]);                                                    \
    } while (0)

/* Mask of the first n (<= 16) lanes. */
static inline __attribute__((always_inline)) __mmask16 first_lanes(int64_t n)
{
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

__attribute__((target("avx512f"))) static void dw_kernel_avx512(const float *src, int64_t rs, const int64_t *off,
                                                                const float *k, int64_t T, float bias, float *y,
                                                                int64_t OH, int64_t OW)
{
    const __m512 vb = _mm512_set1_ps(bias);
    int64_t oh = 0;
    for (; oh + 4 <= OH; oh += 4)
        for (int64_t o = 0; o < OW; o += 32) {
            int64_t n = OW - o;
            __mmask16 mlast = first_lanes(n > 16 ? n - 16 : n);
            if (n > 16)
                DW512_TILE(4, 2);
            else
                DW512_TILE(4, 1);
        }
    for (; oh < OH; oh++)
        for (int64_t o = 0; o < OW; o += 64) {
            int64_t n = OW - o;
            __mmask16 mlast = first_lanes(n - 16 * ((n - 1) / 16 < 3 ? (n - 1) / 16 : 3));
            if (n > 48)
                DW512_TILE(1, 4);
            else if (n > 32)
                DW512_TILE(1, 3);
            else if (n > 16)
                DW512_TILE(1, 2);
            else
                DW512_TILE(1, 1);
        }
}

/* AVX2: the same tiles with 8 outputs per vector; the last vector of a
 * tile is loaded and stored through the lane mask vm (all lanes when full). */
#define DW256_TILE(R, V)                                                                               \
    do {                                                                                               \
        __m256 acc[R][V];                                                                              \
        _Pragma("GCC unroll 4") for (int r_ = 0; r_ < (R); r_++)                                          \
            _Pragma("GCC unroll 4") for (int v_ = 0; v_ < (V); v_++)                                      \
                acc[r_][v_] = vb;                                                                      \
        for (int64_t t = 0; t < T; t++) {                                                              \
            const __m256 kv = _mm256_set1_ps(k[t]);                                                    \
            const float *p = src + oh * rs + off[t] + o;                                               \
            _Pragma("GCC unroll 4") for (int r_ = 0; r_ < (R); r_++)                                      \
                _Pragma("GCC unroll 4") for (int v_ = 0; v_ < (V); v_++) {                                \
                    __m256 xv = v_ < (V)-1 ? _mm256_loadu_ps(p + r_ * rs + 8 * v_)                      \
                                           : _mm256_maskload_ps(p + r_ * rs + 8 * v_, vm);             \
                    acc[r_][v_] = _mm256_add_ps(acc[r_][v_], _mm256_mul_ps(kv, xv));                  \
                }                                                                                      \
        }                                                                                              \
        _Pragma("GCC unroll 4") for (int r_ = 0; r_ < (R); r_++)                                          \
            _Pragma("GCC unroll 4") for (int v_ = 0; v_ < (V); v_++) {                                    \
                if (v_ < (V)-1)                                                                        \
                    _mm256_storeu_ps(y + (oh + r_) * OW + o + 8 * v_, acc[r_][v_]);                    \
                else                                                                                   \
                    _mm256_maskstore_ps(y + (oh + r_) * OW + o + 8 * v_, vm, acc[r_][v_]);             \
            }                                                                                          \
    } while (0)

/* Lanes [0, n) of 8 set. */
__attribute__((target("avx2"))) static inline __m256i first_lanes8(int64_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n > 8 ? 8 : n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2"))) static void dw_kernel_avx2(const float *src, int64_t rs, const int64_t *off,
                                                           const float *k, int64_t T, float bias, float *y,
                                                           int64_t OH, int64_t OW)
{
    const __m256 vb = _mm256_set1_ps(bias);
    int64_t oh = 0;
    for (; oh + 4 <= OH; oh += 4)
        for (int64_t o = 0; o < OW; o += 16) {
            int64_t n = OW - o;
            __m256i vm = first_lanes8(n > 8 ? n - 8 : n);
            if (n > 8)
                DW256_TILE(4, 2);
            else
                DW256_TILE(4, 1);
        }
    for (; oh < OH; oh++)
        for (int64_t o = 0; o < OW; o += 32) {
            int64_t n = OW - o;
            __m256i vm = first_lanes8(n - 8 * ((n - 1) / 8 < 3 ? (n - 1) / 8 : 3));
            if (n > 24)
                DW256_TILE(1, 4);
            else if (n > 16)
                DW256_TILE(1, 3);
            else if (n > 8)
                DW256_TILE(1, 2);
            else
                DW256_TILE(1, 1);
        }
}

#endif

void nt_dwconv_plane(const float *x, const float *k, float bias, float *y, const nt_window *w, float *scratch,
                     const float *copied_from)
{
    const dw_layout l = layout_of(w);
    const int64_t T = w->kernel[0] * w->kernel[1];
    int64_t off[NT_DWCONV_MAX_TAPS];
    tap_offsets(w, &l, off);
    const float *src = x;
    if (l.copy) {
        if (copied_from != x)
            copy_plane(x, w, &l, scratch);
        src = scratch;
    }
    const int64_t rs = w->stride[0] * l.row_stride, OH = w->out[0], OW = w->out[1];
    dw_kernel_fn fn = dw_kernel_c;
    int vl = 1;
#if defined(__x86_64__) && defined(__GNUC__)
    nt_sgemm_isa isa = nt_sgemm_isa_get();
    if (isa == NT_SGEMM_AVX512)
        fn = dw_kernel_avx512, vl = 16;
    else if (isa == NT_SGEMM_AVX2)
        fn = dw_kernel_avx2, vl = 8;
#endif
    if (scratch && use_flat(w, &l, vl)) {
        float *flat = scratch + (l.copy ? l.rows * l.row_stride : 0);
        fn(src, rs, off, k, T, bias, flat, 1, (OH - 1) * rs + OW);
        for (int64_t oh = 0; oh < OH; oh++)
            memcpy(y + oh * OW, flat + oh * rs, (size_t)OW * sizeof *y);
        return;
    }
    fn(src, rs, off, k, T, bias, y, OH, OW);
}
