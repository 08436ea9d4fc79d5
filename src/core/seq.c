/*
 * seq.c — sequence and optional values (see nntrace.h): an nt_tensor
 * flagged NT_TENSOR_SEQUENCE or NT_TENSOR_OPTIONAL whose data is an nt_seq
 * owning its items.  Creation, appending, deep copies and release; the
 * tensor functions (nt_tensor_free, nt_tensor_clone) call in here, so a
 * container travels through the executor like a tensor does.
 */
#include "core.h"

#include <stdlib.h>
#include <string.h>

bool nt_value_is_container(const nt_tensor *t)
{
    return t && (t->flags & (NT_TENSOR_SEQUENCE | NT_TENSOR_OPTIONAL)) != 0;
}

const nt_seq *nt_value_seq(const nt_tensor *t) { return nt_value_is_container(t) ? t->data : NULL; }

nt_status nt_seq_init(nt_tensor *t, bool optional, nt_dtype elem)
{
    nt_seq *q = nt_calloc(1, sizeof *q);
    if (!q)
        return NT_ERR_NOMEM;
    memset(t, 0, sizeof *t);
    t->dtype = elem;
    t->ndim = 0;
    t->data = q;
    t->flags = optional ? NT_TENSOR_OPTIONAL : NT_TENSOR_SEQUENCE;
    return NT_OK;
}

nt_status nt_seq_new(bool optional, nt_dtype elem, nt_tensor **out)
{
    *out = NULL;
    nt_tensor *t = nt_calloc(1, sizeof *t);
    if (!t)
        return NT_ERR_NOMEM;
    nt_status s = nt_seq_init(t, optional, elem);
    if (s != NT_OK) {
        free(t);
        return s;
    }
    *out = t;
    return NT_OK;
}

nt_status nt_seq_insert(nt_tensor *seq, int64_t pos, nt_tensor *item)
{
    nt_seq *q = nt_value_is_container(seq) ? seq->data : NULL;
    if (!q || !item) {
        nt_tensor_free(item);
        return nt_error(NT_ERR_INVALID_ARG, "not a sequence value");
    }
    if ((seq->flags & NT_TENSOR_OPTIONAL) && q->n >= 1) {
        nt_tensor_free(item);
        return nt_error(NT_ERR_INVALID_ARG, "an optional holds one value");
    }
    if (pos < 0 || pos > q->n)
        pos = q->n;
    if (q->n == q->cap) {
        int cap = q->cap ? 2 * q->cap : 4;
        nt_tensor **ni = nt_realloc(q->items, (size_t)cap * sizeof *ni);
        if (!ni) {
            nt_tensor_free(item);
            return NT_ERR_NOMEM;
        }
        q->items = ni;
        q->cap = cap;
    }
    memmove(q->items + pos + 1, q->items + pos, (size_t)(q->n - pos) * sizeof *q->items);
    q->items[pos] = item;
    q->n++;
    if (seq->dtype == NT_DTYPE_UNDEFINED && !nt_value_is_container(item))
        seq->dtype = item->dtype;
    return NT_OK;
}

nt_status nt_seq_append(nt_tensor *seq, nt_tensor *item) { return nt_seq_insert(seq, -1, item); }

void nt_seq_release(nt_tensor *t)
{
    nt_seq *q = nt_value_is_container(t) ? t->data : NULL;
    if (q) {
        for (int i = 0; i < q->n; i++)
            nt_tensor_free(q->items[i]);
        free(q->items);
        free(q);
    }
    t->data = NULL;
    t->flags &= ~(unsigned)(NT_TENSOR_SEQUENCE | NT_TENSOR_OPTIONAL | NT_TENSOR_OWNS_DATA);
}

nt_status nt_seq_copy_into(nt_tensor *dst, const nt_tensor *src)
{
    const nt_seq *q = src->data;
    nt_status s = nt_seq_init(dst, (src->flags & NT_TENSOR_OPTIONAL) != 0, src->dtype);
    for (int i = 0; s == NT_OK && i < q->n; i++) {
        nt_tensor *c;
        s = nt_tensor_clone(q->items[i], &c);
        if (s == NT_OK)
            s = nt_seq_append(dst, c);
    }
    if (s != NT_OK)
        nt_seq_release(dst);
    return s;
}
