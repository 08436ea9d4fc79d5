/*
 * pool.c — the buffer pool behind intermediate tensors.  Buffers freed after
 * a value's last use are kept and handed to the next tensor that fits
 * (best fit, at most twice the size asked for), so a steady-state run does
 * no allocation at all.  Tracks the bytes in use and their peak.
 */
#include "exec/exec.h"

#include <stdlib.h>

typedef struct pool_buf {
    void *data;
    size_t capacity;
} pool_buf;

struct nt_pool {
    pool_buf *free_list;
    int n_free, cap_free;
    size_t in_use, peak;
};

nt_pool *nt_pool_new(void) { return nt_calloc(1, sizeof(nt_pool)); }

void nt_pool_free(nt_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_free; i++)
        nt_aligned_free(p->free_list[i].data);
    free(p->free_list);
    free(p);
}

void *nt_pool_get(nt_pool *p, size_t nbytes, size_t *capacity)
{
    if (nbytes == 0)
        nbytes = 1;
    int best = -1;
    for (int i = 0; i < p->n_free; i++) {
        size_t c = p->free_list[i].capacity;
        if (c >= nbytes && c / 2 <= nbytes && (best < 0 || c < p->free_list[best].capacity))
            best = i;
    }
    void *data;
    if (best >= 0) {
        data = p->free_list[best].data;
        *capacity = p->free_list[best].capacity;
        p->free_list[best] = p->free_list[--p->n_free];
    } else {
        data = nt_aligned_alloc(nbytes);
        if (!data)
            return NULL;
        *capacity = nbytes;
    }
    p->in_use += *capacity;
    if (p->in_use > p->peak)
        p->peak = p->in_use;
    return data;
}

void nt_pool_put(nt_pool *p, void *data, size_t capacity)
{
    if (!data)
        return;
    p->in_use -= capacity;
    if (p->n_free == p->cap_free) {
        int cap = p->cap_free ? p->cap_free * 2 : 32;
        pool_buf *nl = nt_realloc(p->free_list, (size_t)cap * sizeof *nl);
        if (!nl) { /* cannot remember it: give it back to the system */
            nt_aligned_free(data);
            return;
        }
        p->free_list = nl;
        p->cap_free = cap;
    }
    p->free_list[p->n_free].data = data;
    p->free_list[p->n_free].capacity = capacity;
    p->n_free++;
}

size_t nt_pool_in_use(const nt_pool *p) { return p->in_use; }
size_t nt_pool_peak(const nt_pool *p) { return p->peak; }
void nt_pool_reset_peak(nt_pool *p) { p->peak = p->in_use; }
