/*
 * png.h — 8-bit PNG encoding through libpng (to memory and to files) and
 * colormaps that turn a float matrix into an RGB heatmap (confusion
 * matrices, sensitivity maps, image summaries in event files).
 */
#ifndef NT_PNG_H
#define NT_PNG_H

#include "core/core.h"

/* Encodes a row-major HWC image, channels 1 (gray), 2 (gray+alpha), 3 (RGB)
 * or 4 (RGBA), 8 bits per sample, appending the PNG file bytes to out. */
nt_status nt_png_encode(const uint8_t *pixels, int height, int width, int channels, nt_buf *out);

/* The same, written to path (atomically: temp file + rename). */
nt_status nt_png_write(const char *path, const uint8_t *pixels, int height, int width, int channels);

typedef enum nt_colormap {
    NT_COLORMAP_VIRIDIS = 0,  /* perceptually ordered dark blue -> green -> yellow */
    NT_COLORMAP_DIVERGING,    /* blue -> white -> red, for signed values around 0 */
    NT_COLORMAP_GRAY
} nt_colormap;

/* Color of t in [0, 1] (clamped; NaN gives a neutral gray-magenta that
 * stands out from every map). */
void nt_colormap_rgb(nt_colormap map, double t, uint8_t rgb[3]);

/*
 * Heatmap of a rows x cols matrix m (row-major) as an RGB image of
 * (rows*cell) x (cols*cell) pixels, each entry a cell x cell block.  Values
 * map linearly from [lo, hi] to [0, 1]; when lo >= hi the range is taken from
 * the finite values of m (for DIVERGING it is made symmetric around 0).
 * *pixels is malloc'ed (free()), *height and *width set.
 */
nt_status nt_heatmap_rgb(const float *m, int rows, int cols, double lo, double hi, nt_colormap map,
                         int cell, uint8_t **pixels, int *height, int *width);

#endif /* NT_PNG_H */
