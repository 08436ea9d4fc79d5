/*
 * registry.c — the operator table: gathers every family's entries (listed in
 * families.def) and picks the kernel for a node by since-version.
 */
#include "ops/kernel.h"

#include <string.h>

#define NT_OP_FAMILY(name)                 \
    extern const nt_op_def nt_ops_##name[]; \
    extern const size_t nt_ops_##name##_count;
#include "ops/families.def"
#undef NT_OP_FAMILY

static const struct {
    const nt_op_def *ops;
    const size_t *count;
} families[] = {
#define NT_OP_FAMILY(name) {nt_ops_##name, &nt_ops_##name##_count},
#include "ops/families.def"
#undef NT_OP_FAMILY
};

static bool same_domain(const char *a, const char *b)
{
    if (strcmp(a, "ai.onnx") == 0)
        a = "";
    if (strcmp(b, "ai.onnx") == 0)
        b = "";
    return strcmp(a, b) == 0;
}

const nt_op_def *nt_op_find(const char *op_type, const char *domain, int opset)
{
    const nt_op_def *best = NULL;
    for (size_t f = 0; f < NT_ARRAY_LEN(families); f++)
        for (size_t i = 0; i < *families[f].count; i++) {
            const nt_op_def *d = &families[f].ops[i];
            if (d->since <= opset && strcmp(d->op_type, op_type) == 0 && same_domain(d->domain, domain) &&
                (!best || d->since > best->since))
                best = d;
        }
    return best;
}

bool nt_op_known(const char *op_type, const char *domain)
{
    return nt_op_find(op_type, domain, 1 << 30) != NULL;
}

size_t nt_op_count(void)
{
    size_t n = 0;
    for (size_t f = 0; f < NT_ARRAY_LEN(families); f++)
        n += *families[f].count;
    return n;
}

const nt_op_def *nt_op_at(size_t i)
{
    for (size_t f = 0; f < NT_ARRAY_LEN(families); f++) {
        if (i < *families[f].count)
            return &families[f].ops[i];
        i -= *families[f].count;
    }
    return NULL;
}
