/*
 * vec.h — the growable array of core: elements of any one size, stored
 * contiguously, grown by doubling through the checked allocator (so the
 * memory limit applies and a failure is an NT_ERR_NOMEM status).
 *
 *     nt_vec v;                       nt_vec_init(&v, sizeof(nt_plan *));
 *     if (nt_vec_push(&v, &p)) ...    nt_plan **items = v.data;
 *     nt_vec_deinit(&v);
 */
#ifndef NT_CORE_VEC_H
#define NT_CORE_VEC_H

#include "core/core.h"

typedef struct nt_vec {
    void *data;
    size_t len;     /* elements in use */
    size_t cap;     /* elements allocated */
    size_t elem;    /* bytes per element */
} nt_vec;

void nt_vec_init(nt_vec *v, size_t elem_size);
void nt_vec_deinit(nt_vec *v);
/* Room for at least `n` elements in total; NT_ERR_NOMEM on failure. */
nt_status nt_vec_reserve(nt_vec *v, size_t n);
/* Appends one element copied from `item`. */
nt_status nt_vec_push(nt_vec *v, const void *item);
/* Copies the last element into `item` (if not NULL) and removes it;
 * false when the array is empty. */
bool nt_vec_pop(nt_vec *v, void *item);
/* Element i, borrowed (valid until the next push/reserve). */
static inline void *nt_vec_at(const nt_vec *v, size_t i) { return (char *)v->data + i * v->elem; }

#endif
