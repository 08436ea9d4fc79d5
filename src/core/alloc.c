/*
 * alloc.c — checked allocation and arenas.  Every allocation failure is
 * recorded as an NT_ERR_NOMEM message so callers can simply return it.
 */
#include "core.h"
#include "core/limits.h"

#include <stdlib.h>
#include <string.h>

bool nt_mul_size(size_t a, size_t b, size_t *out)
{
    if (b != 0 && a > SIZE_MAX / b)
        return false;
    *out = a * b;
    return true;
}

/* A request past the memory limit (limits.h) fails like an allocation
 * failure, so a malicious shape cannot make the OOM killer end the process. */
static bool over_limit(size_t n)
{
    if (n <= nt_limit_memory_bytes())
        return false;
    nt_error(NT_ERR_NOMEM, "allocation of %zu bytes exceeds the memory limit of %zu bytes (NNTRACE_MEMORY_LIMIT)",
             n, nt_limit_memory_bytes());
    return true;
}

void *nt_malloc(size_t n)
{
    if (over_limit(n))
        return NULL;
    void *p = malloc(n ? n : 1);
    if (!p)
        nt_error(NT_ERR_NOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

void *nt_calloc(size_t count, size_t size)
{
    size_t n;
    if (!nt_mul_size(count, size, &n)) {
        nt_error(NT_ERR_NOMEM, "allocation size overflow (%zu x %zu)", count, size);
        return NULL;
    }
    if (over_limit(n))
        return NULL;
    void *p = calloc(n ? n : 1, 1);
    if (!p)
        nt_error(NT_ERR_NOMEM, "out of memory allocating %zu bytes", n);
    return p;
}

void *nt_realloc(void *p, size_t n)
{
    if (over_limit(n))
        return NULL;
    void *q = realloc(p, n ? n : 1);
    if (!q)
        nt_error(NT_ERR_NOMEM, "out of memory allocating %zu bytes", n);
    return q;
}

void *nt_aligned_alloc(size_t n)
{
    void *p = NULL;
    /* Round up so SIMD loops may read whole vectors past the last element. */
    size_t rounded = (n + 63) & ~(size_t)63;
    if (over_limit(n))
        return NULL;
    if (rounded < n || posix_memalign(&p, 64, rounded ? rounded : 64) != 0) {
        nt_error(NT_ERR_NOMEM, "out of memory allocating %zu bytes", n);
        return NULL;
    }
    return p;
}

void nt_aligned_free(void *p) { free(p); }

char *nt_strndup(const char *s, size_t n)
{
    char *p = nt_malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *nt_strdup(const char *s) { return nt_strndup(s, strlen(s)); }

/* ---- arenas */

struct nt_arena_block {
    nt_arena_block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

#define ARENA_BLOCK_MIN (64 * 1024)

void nt_arena_init(nt_arena *a)
{
    a->head = NULL;
    a->total = 0;
}

void nt_arena_deinit(nt_arena *a)
{
    nt_arena_block *b = a->head;
    while (b) {
        nt_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->total = 0;
}

void *nt_arena_alloc(nt_arena *a, size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    if (need < n) {
        nt_error(NT_ERR_NOMEM, "arena allocation size overflow");
        return NULL;
    }
    nt_arena_block *b = a->head;
    if (!b || b->size - b->used < need) {
        size_t size = need > ARENA_BLOCK_MIN ? need : ARENA_BLOCK_MIN;
        if (size > SIZE_MAX - sizeof *b) {
            nt_error(NT_ERR_NOMEM, "arena allocation size overflow");
            return NULL;
        }
        b = malloc(sizeof *b + size);
        if (!b) {
            nt_error(NT_ERR_NOMEM, "out of memory allocating %zu bytes", size);
            return NULL;
        }
        b->used = 0;
        b->size = size;
        /* A big one-off block goes behind the current one so the current
         * block's free space is not abandoned. */
        if (a->head && need > ARENA_BLOCK_MIN) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
        a->total += size;
    }
    void *p = b->data + b->used;
    b->used += need;
    memset(p, 0, need);
    return p;
}

void *nt_arena_calloc(nt_arena *a, size_t count, size_t size)
{
    size_t n;
    if (!nt_mul_size(count, size, &n)) {
        nt_error(NT_ERR_NOMEM, "arena allocation size overflow (%zu x %zu)", count, size);
        return NULL;
    }
    return nt_arena_alloc(a, n);
}

char *nt_arena_strndup(nt_arena *a, const char *s, size_t n)
{
    char *p = nt_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

char *nt_arena_strdup(nt_arena *a, const char *s) { return nt_arena_strndup(a, s, strlen(s)); }
