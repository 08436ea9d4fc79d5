/*
 * vec.c — the growable array declared in vec.h.
 */
#include "core/vec.h"

#include <stdlib.h>
#include <string.h>

void nt_vec_init(nt_vec *v, size_t elem_size)
{
    memset(v, 0, sizeof *v);
    v->elem = elem_size ? elem_size : 1;
}

void nt_vec_deinit(nt_vec *v)
{
    free(v->data);
    size_t elem = v->elem;
    memset(v, 0, sizeof *v);
    v->elem = elem;
}

nt_status nt_vec_reserve(nt_vec *v, size_t n)
{
    if (n <= v->cap)
        return NT_OK;
    size_t cap = v->cap ? v->cap : 8;
    while (cap < n) {
        if (cap > SIZE_MAX / 2)
            return nt_error(NT_ERR_NOMEM, "array of %zu elements is too large", n);
        cap *= 2;
    }
    size_t bytes;
    if (!nt_mul_size(cap, v->elem, &bytes))
        return nt_error(NT_ERR_NOMEM, "array of %zu elements of %zu bytes is too large", cap, v->elem);
    void *p = nt_realloc(v->data, bytes);
    if (!p)
        return NT_ERR_NOMEM;
    v->data = p;
    v->cap = cap;
    return NT_OK;
}

nt_status nt_vec_push(nt_vec *v, const void *item)
{
    nt_status st = nt_vec_reserve(v, v->len + 1);
    if (st != NT_OK)
        return st;
    memcpy(nt_vec_at(v, v->len), item, v->elem);
    v->len++;
    return NT_OK;
}

bool nt_vec_pop(nt_vec *v, void *item)
{
    if (v->len == 0)
        return false;
    v->len--;
    if (item)
        memcpy(item, nt_vec_at(v, v->len), v->elem);
    return true;
}
