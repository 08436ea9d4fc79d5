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

/* The colour range of a heatmap given none (lo >= hi): the finite minimum
 * and maximum of m (symmetric about 0 for the diverging map), widened by
 * 0.5 each way when they are equal.  nt_heatmap_rgb colours by it and the
 * figure's colour bar labels it, so both agree. */
void nt_heatmap_range(const float *m, int rows, int cols, nt_colormap map, double *lo, double *hi);
/*
 * Heatmap of a rows x cols matrix m (row-major) as an RGB image of
 * (rows*cell) x (cols*cell) pixels, each entry a cell x cell block.  Values
 * map linearly from [lo, hi] to [0, 1]; when lo >= hi the range is taken from
 * the finite values of m (for DIVERGING it is made symmetric around 0).
 * *pixels is malloc'ed (free()), *height and *width set.
 */
nt_status nt_heatmap_rgb(const float *m, int rows, int cols, double lo, double hi, nt_colormap map,
                         int cell, uint8_t **pixels, int *height, int *width);

/* What a heatmap figure says besides its colours (every member optional). */
typedef struct nt_heatmap_labels {
    const char *title;                    /* above everything */
    const char *row_title, *col_title;    /* axis titles: left (vertical), top */
    const char *const *row_labels;        /* rows entries, or NULL */
    const char *const *col_labels;        /* cols entries, or NULL */
    bool row_ticks, col_ticks;            /* without labels: number the rows/columns */
    const double *values;                 /* rows*cols numbers printed in the cells, or NULL */
    const char *scale_title;              /* beside the colour bar (vertical) */
} nt_heatmap_labels;

/*
 * nt_heatmap_rgb framed as a figure (heatmap_png.c): axis titles, row and
 * column labels (thinned when cells are too small for them), numbers in
 * the cells when all of them fit (in black or white by the cell's colour),
 * and a colour bar with the range's two ends.  Same value mapping as
 * nt_heatmap_rgb.  *pixels is malloc'ed (free()).
 */
nt_status nt_heatmap_figure(const float *m, int rows, int cols, double lo, double hi, nt_colormap map, int cell,
                            const nt_heatmap_labels *labels, uint8_t **pixels, int *height, int *width);

#endif /* NT_PNG_H */
