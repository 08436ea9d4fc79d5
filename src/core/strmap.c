/*
 * strmap.c — the string map declared in strmap.h (FNV-1a over the key's
 * bytes, seeded with the tag; linear probing; at most half full).
 */
#include "core/strmap.h"

#include <stdlib.h>

static uint64_t key_hash(const char *key, size_t len, int tag)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uint32_t)tag;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)key[i]) * 1099511628211ull;
    return h;
}

void nt_strmap_init(nt_strmap *m) { memset(m, 0, sizeof *m); }

void nt_strmap_deinit(nt_strmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* The slot holding the key, or the empty slot where it would go. */
static nt_strmap_slot *find_slot(const nt_strmap *m, const char *key, size_t len, int tag, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        nt_strmap_slot *s = &m->slots[i];
        if (!s->key)
            return s;
        if (s->hash == h && s->len == len && s->tag == tag && memcmp(s->key, key, len) == 0)
            return s;
    }
}

nt_status nt_strmap_reserve(nt_strmap *m, size_t n)
{
    if (n <= m->cap / 2)
        return NT_OK;
    size_t cap = m->cap ? m->cap : 16;
    while (cap / 2 < n) {
        if (cap > SIZE_MAX / 2 / sizeof(nt_strmap_slot))
            return nt_error(NT_ERR_NOMEM, "string map of %zu keys is too large", n);
        cap *= 2;
    }
    nt_strmap_slot *slots = nt_calloc(cap, sizeof *slots);
    if (!slots)
        return NT_ERR_NOMEM;
    nt_strmap grown = {.slots = slots, .cap = cap, .n = m->n};
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            *find_slot(&grown, m->slots[i].key, m->slots[i].len, m->slots[i].tag, m->slots[i].hash) = m->slots[i];
    free(m->slots);
    *m = grown;
    return NT_OK;
}

ptrdiff_t nt_strmap_getn(const nt_strmap *m, const char *key, size_t len, int tag)
{
    if (!m->cap)
        return -1;
    const nt_strmap_slot *s = find_slot(m, key, len, tag, key_hash(key, len, tag));
    return s->key ? s->val : -1;
}

nt_status nt_strmap_putn(nt_strmap *m, const char *key, size_t len, int tag, ptrdiff_t val, bool *added)
{
    NT_ASSERT(key && val >= 0);
    nt_status st = nt_strmap_reserve(m, m->n + 1);
    if (st != NT_OK)
        return st;
    uint64_t h = key_hash(key, len, tag);
    nt_strmap_slot *s = find_slot(m, key, len, tag, h);
    if (added)
        *added = !s->key;
    if (!s->key) {
        *s = (nt_strmap_slot){.key = key, .len = len, .hash = h, .tag = tag, .val = val};
        m->n++;
    }
    return NT_OK;
}

const nt_strmap_slot *nt_strmap_next(const nt_strmap *m, size_t *pos)
{
    while (*pos < m->cap) {
        const nt_strmap_slot *s = &m->slots[(*pos)++];
        if (s->key)
            return s;
    }
    return NULL;
}
