/*
 * dbg_break.c — the breakpoint table (dbg_break.h).
 *
 * Tables are tiny (a person types them), so matching is a linear scan in
 * id order: the lowest-numbered breakpoint that applies is the one
 * reported, which keeps stop messages deterministic.
 */
#include "debug/dbg_break.h"
#include "graph/node_pattern.h"

#include <stdlib.h>
#include <string.h>

void nt_dbg_bps_init(nt_dbg_bps *b)
{
    memset(b, 0, sizeof *b);
    b->next_id = 1;
}

static void bp_release(nt_dbg_bp *bp)
{
    free(bp->target);
    nt_dbg_cond_free(bp->cond);
}

void nt_dbg_bps_clear(nt_dbg_bps *b)
{
    for (int i = 0; i < b->n; i++)
        bp_release(&b->v[i]);
    b->n = 0;
}

void nt_dbg_bps_deinit(nt_dbg_bps *b)
{
    nt_dbg_bps_clear(b);
    free(b->v);
    b->v = NULL;
    b->cap = 0;
}

nt_status nt_dbg_bps_add(nt_dbg_bps *b, nt_dbg_bp_kind kind, bool temporary, const char *target, nt_dbg_cond *cond,
                         int *id)
{
    if (b->n == b->cap) {
        int cap = b->cap ? 2 * b->cap : 8;
        nt_dbg_bp *v = nt_realloc(b->v, (size_t)cap * sizeof *v);
        if (!v) {
            nt_dbg_cond_free(cond);
            return NT_ERR_NOMEM;
        }
        b->v = v;
        b->cap = cap;
    }
    char *t = NULL;
    if (target && !(t = nt_strdup(target))) {
        nt_dbg_cond_free(cond);
        return NT_ERR_NOMEM;
    }
    nt_dbg_bp *bp = &b->v[b->n++];
    *bp = (nt_dbg_bp){b->next_id++, kind, temporary, true, t, cond, 0};
    *id = bp->id;
    return NT_OK;
}

nt_dbg_bp *nt_dbg_bps_find(nt_dbg_bps *b, int id)
{
    for (int i = 0; i < b->n; i++)
        if (b->v[i].id == id)
            return &b->v[i];
    return NULL;
}

nt_status nt_dbg_bps_delete(nt_dbg_bps *b, int id)
{
    for (int i = 0; i < b->n; i++) {
        if (b->v[i].id != id)
            continue;
        bp_release(&b->v[i]);
        memmove(&b->v[i], &b->v[i + 1], (size_t)(b->n - i - 1) * sizeof *b->v);
        b->n--;
        return NT_OK;
    }
    return nt_error(NT_ERR_NOT_FOUND, "no breakpoint number %d", id);
}

nt_dbg_bp *nt_dbg_bps_match_before(nt_dbg_bps *b, const char *node_name, const char *op_type)
{
    for (int i = 0; i < b->n; i++) {
        nt_dbg_bp *bp = &b->v[i];
        if (!bp->enabled)
            continue;
        /* the same patterns as --trace filters: a name or a glob, op:TYPE */
        if ((bp->kind == NT_DBG_BP_NODE && nt_node_pattern_match(bp->target, node_name, op_type)) ||
            (bp->kind == NT_DBG_BP_OP && nt_node_op_match(bp->target, op_type)))
            return bp;
    }
    return NULL;
}

nt_dbg_bp *nt_dbg_bps_match_after(nt_dbg_bps *b, const nt_node_view *node, int *output)
{
    *output = -1;
    bool any = false;
    for (int i = 0; i < b->n && !any; i++)
        any = b->v[i].enabled && (b->v[i].kind == NT_DBG_BP_COND || b->v[i].kind == NT_DBG_BP_WATCH);
    if (!any || node->n_outputs <= 0 || !node->outputs)
        return NULL;
    /* One subject per output, so each output's statistics are computed once. */
    nt_dbg_subject subj[64];
    int n_out = node->n_outputs < 64 ? node->n_outputs : 64;
    for (int k = 0; k < n_out; k++)
        nt_dbg_subject_init(&subj[k], node->outputs[k], node->op_type, node->name);
    nt_dbg_bp *hit = NULL;
    for (int i = 0; i < b->n && !hit; i++) {
        nt_dbg_bp *bp = &b->v[i];
        if (!bp->enabled || (bp->kind != NT_DBG_BP_COND && bp->kind != NT_DBG_BP_WATCH))
            continue;
        for (int k = 0; k < n_out && !hit; k++) {
            if (!node->outputs[k] || node->outputs[k]->ndim < 0)
                continue;
            if (bp->kind == NT_DBG_BP_WATCH && strcmp(bp->target, node->output_names[k]) != 0)
                continue;
            if (nt_dbg_cond_eval(bp->cond, &subj[k])) {
                hit = bp;
                *output = k;
            }
        }
    }
    for (int k = 0; k < n_out; k++)
        nt_dbg_subject_deinit(&subj[k]);
    return hit;
}

nt_dbg_bp *nt_dbg_bps_match_value(nt_dbg_bps *b, const char *name, const nt_tensor *t)
{
    nt_dbg_bp *hit = NULL;
    nt_dbg_subject subj;
    nt_dbg_subject_init(&subj, t, NULL, NULL);
    for (int i = 0; i < b->n && !hit; i++) {
        nt_dbg_bp *bp = &b->v[i];
        if (bp->enabled && bp->kind == NT_DBG_BP_WATCH && strcmp(bp->target, name) == 0 &&
            nt_dbg_cond_eval(bp->cond, &subj))
            hit = bp;
    }
    nt_dbg_subject_deinit(&subj);
    return hit;
}

void nt_dbg_bp_describe(const nt_dbg_bp *bp, nt_buf *out)
{
    switch (bp->kind) {
    case NT_DBG_BP_NODE:
    case NT_DBG_BP_OP:
        nt_buf_printf(out, "%s %d", bp->temporary ? "Temporary breakpoint" : "Breakpoint", bp->id);
        break;
    case NT_DBG_BP_COND:
        nt_buf_printf(out, "%s %d (%s)", bp->temporary ? "Temporary condition" : "Condition", bp->id,
                      nt_dbg_cond_text(bp->cond));
        break;
    case NT_DBG_BP_WATCH:
        nt_buf_printf(out, "Watch %d (%s: %s)", bp->id, bp->target, nt_dbg_cond_text(bp->cond));
        break;
    }
}

void nt_dbg_bps_format(const nt_dbg_bps *b, nt_buf *out)
{
    if (b->n == 0) {
        nt_buf_puts(out, "No breakpoints or watchpoints.\n");
        return;
    }
    nt_buf_printf(out, "%-4s %-10s %-5s %-6s %s\n", "Num", "Type", "Temp", "Hits", "What");
    for (int i = 0; i < b->n; i++) {
        const nt_dbg_bp *bp = &b->v[i];
        static const char *const kinds[] = {"break", "break", "condition", "watch"};
        nt_buf_printf(out, "%-4d %-10s %-5s %-6lld ", bp->id, kinds[bp->kind], bp->temporary ? "yes" : "no",
                      (long long)bp->hits);
        switch (bp->kind) {
        case NT_DBG_BP_NODE: nt_buf_printf(out, "node '%s'", bp->target); break;
        case NT_DBG_BP_OP: nt_buf_printf(out, "op:%s", bp->target); break;
        case NT_DBG_BP_COND: nt_buf_printf(out, "if %s", nt_dbg_cond_text(bp->cond)); break;
        case NT_DBG_BP_WATCH: nt_buf_printf(out, "%s: %s", bp->target, nt_dbg_cond_text(bp->cond)); break;
        }
        nt_buf_puts(out, bp->enabled ? "\n" : "  (disabled)\n");
    }
}
