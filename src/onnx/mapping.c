/*
 * mapping.c — giving back the pages of a model's file maps that nntrace no
 * longer reads.  The model file (and its external-data files) are mapped
 * read-only and private; a weight that had to be copied (to align it) would
 * otherwise stay resident twice: once in the map, once as the copy.
 */
#include "onnx/onnx_tensor.h"

#include <sys/mman.h>
#include <unistd.h>

static bool inside(const uint8_t *map, size_t len, const uint8_t *p, size_t n)
{
    return map && p >= map && n <= len && (size_t)(p - map) <= len - n;
}

void nt_model_drop_pages(const nt_model *m, const void *data, size_t n)
{
    const uint8_t *p = data;
    if (!m || !p || n == 0)
        return;
    /* Only file maps: dropping pages of a borrowed buffer (nt_model_load_buffer)
     * would zero the caller's memory. */
    if (!(m->map_is_mmap && inside(m->map, m->map_len, p, n)) && !nt_extdata_maps(m, p, n))
        return;
    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0)
        return;
    uintptr_t lo = ((uintptr_t)p + (uintptr_t)ps - 1) & ~((uintptr_t)ps - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~((uintptr_t)ps - 1);
    /* The interior pages hold nothing but this tensor.  The map is PROT_READ
     * and MAP_PRIVATE, never written: a later read faults the same bytes back
     * in from the file, so this only lowers the resident size. */
    if (hi > lo)
        (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}
