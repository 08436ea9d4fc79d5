/*
 * strmap.h — the string map of core: keys are byte strings (they may hold
 * NUL bytes, so they carry a length) plus a small integer tag, values are
 * non-negative integers — usually the index of an entry in the caller's own
 * array (an nt_vec), which keeps the entries in insertion order and leaves
 * the map nothing to own but its slots.
 *
 * Open addressing with linear probing, at most half full, grown by doubling
 * through the checked allocator (so the memory limit applies and a failure is
 * an NT_ERR_NOMEM status).  Keys are borrowed: they must stay where they are
 * while they are in the map (an arena string, a name owned by the entry).
 *
 *     nt_strmap m;                    nt_strmap_init(&m);
 *     bool added;
 *     if (nt_strmap_put(&m, name, n_items, &added)) ...   (first value wins)
 *     ptrdiff_t i = nt_strmap_get(&m, name);             (-1 when absent)
 *     nt_strmap_deinit(&m);
 *
 * The tag makes (name, 3) and (name, 4) different keys without building a
 * composite string; plain string keys use tag 0.
 */
#ifndef NT_CORE_STRMAP_H
#define NT_CORE_STRMAP_H

#include "core/core.h"

#include <string.h>

typedef struct nt_strmap_slot {
    const char *key;    /* NULL: an empty slot */
    size_t len;
    uint64_t hash;
    int tag;
    ptrdiff_t val;
} nt_strmap_slot;

typedef struct nt_strmap {
    nt_strmap_slot *slots;
    size_t cap;         /* a power of two, or 0 */
    size_t n;           /* keys in the map */
} nt_strmap;

void nt_strmap_init(nt_strmap *m);
void nt_strmap_deinit(nt_strmap *m);
/* Room for `n` keys without growing; NT_ERR_NOMEM on failure. */
nt_status nt_strmap_reserve(nt_strmap *m, size_t n);

/* The value of (key[0..len), tag), or -1 when absent. */
ptrdiff_t nt_strmap_getn(const nt_strmap *m, const char *key, size_t len, int tag);
/* Adds (key[0..len), tag) -> val (val >= 0) unless the key is present, in
 * which case the map is unchanged: the first value wins.  `added` (may be
 * NULL) says which happened.  The key is borrowed. */
nt_status nt_strmap_putn(nt_strmap *m, const char *key, size_t len, int tag, ptrdiff_t val, bool *added);

/* The same for a NUL-terminated key with tag 0. */
static inline ptrdiff_t nt_strmap_get(const nt_strmap *m, const char *key)
{
    return nt_strmap_getn(m, key, strlen(key), 0);
}
static inline nt_status nt_strmap_put(nt_strmap *m, const char *key, ptrdiff_t val, bool *added)
{
    return nt_strmap_putn(m, key, strlen(key), 0, val, added);
}

/* Walks the keys in slot order (not insertion order: for freeing owned keys,
 * not for output).  Start with *pos = 0; NULL at the end. */
const nt_strmap_slot *nt_strmap_next(const nt_strmap *m, size_t *pos);

#endif
