/*
 * mapping.c — giving back the pages of a model's file maps that nntrace no
 * longer reads.  The model file (and its external-data files) are mapped
 * read-only and private; a weight that had to be copied (to align it) would
 * otherwise stay resident twice: once in the map, once as the copy.
 */
#include "onnx/onnx_tensor.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static bool inside(const uint8_t *map, size_t len, const uint8_t *p, size_t n)
{
    return map && p >= map && n <= len && (size_t)(p - map) <= len - n;
}

/* Only file maps: dropping pages of a borrowed buffer (nt_model_load_buffer)
 * would zero the caller's memory. */
static bool file_mapped(const nt_model *m, const uint8_t *p, size_t n)
{
    return (m->map_is_mmap && inside(m->map, m->map_len, p, n)) || nt_extdata_maps(m, p, n);
}

static void drop(const uint8_t *p, size_t n)
{
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

void nt_model_copy_out(const nt_model *m, void *dst, const void *src, size_t n)
{
    const uint8_t *p = src;
    if (!m || !p || n == 0 || !file_mapped(m, p, n)) {
        if (n)
            memcpy(dst, src, n);
        return;
    }
    /* In steps, each step's pages dropped once copied: the peak holds the copy
     * and one step of the map, not the whole tensor twice. */
    const size_t step = (size_t)4 << 20;
    for (size_t off = 0; off < n; off += step) {
        size_t k = NT_MIN(step, n - off);
        memcpy((uint8_t *)dst + off, p + off, k);
        drop(p + off, k);
    }
}
