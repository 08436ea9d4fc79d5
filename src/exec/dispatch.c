/*
 * dispatch.c — how the plan and the run loop call a node's kernel, and the
 * one generic rule that lets every float32 kernel take float16 / bfloat16.
 *
 * A kernel that declines half inputs (NT_ERR_UNSUPPORTED from its infer or
 * compute) is run through the half bridge (ops/f16_bridge.h): inputs widened
 * to float32, the float32 kernel, outputs rounded to the half type (nearest
 * even).  That is what ONNX Runtime's CPU provider does for every operator
 * without a half kernel (it inserts Casts around the node).  One difference,
 * written down on purpose: ONNX Runtime afterwards removes a Cast pair
 * float32 -> float16 -> float32 between two such nodes, so a chain of them
 * runs in float32 with rounding only where the chain ends; nntrace rounds at
 * every node output, as the model's types say, so each traced tensor holds
 * exactly what its declared type can hold.  The two agree to float16
 * precision (rtol 1e-2), not bit for bit, on such chains.
 *
 * The choice is made at plan time when the dtypes are known (the plan node
 * remembers it), and again at run time for nodes whose input dtypes the plan
 * could not know.  Kernels that handle half natively (Cast, data movement,
 * the bridged MatMul/Conv...) never decline, so they never come here.
 */
#include "exec/exec.h"
#include "ops/f16_bridge.h"

#include <stdio.h>
#include <string.h>

/* Ops the bridge must never wrap: their float32 output is not "the input
 * type" (Cast), or they run subgraphs whose values the bridge cannot see. */
static bool never_bridged(const char *op_type)
{
    static const char *const ops[] = {"Cast", "CastLike", "If", "Loop", "Scan"};
    for (size_t i = 0; i < NT_ARRAY_LEN(ops); i++)
        if (strcmp(op_type, ops[i]) == 0)
            return true;
    return false;
}

static bool may_bridge(const nt_kernel_ctx *ctx)
{
    return !never_bridged(ctx->node->op_type) && nt_f16_bridge_applies(ctx);
}

/* Calls fn through the bridge after the direct call declined with s; on a
 * second refusal the kernel's own message stands (it names the dtype). */
static nt_status retry_bridged(nt_kernel_ctx *ctx, nt_kernel_fn infer, nt_kernel_fn compute, nt_status s,
                               bool *bridged)
{
    char first[512];
    snprintf(first, sizeof first, "%s", nt_last_error());
    nt_status b = nt_f16_bridge(ctx, infer, compute);
    if (b == NT_OK) {
        nt_error_clear();
        *bridged = true;
        return NT_OK;
    }
    if (b == NT_ERR_UNSUPPORTED)
        return nt_error(s, "%s", first);
    return b;
}

nt_status nt_dispatch_infer(const nt_plan_node *pn, nt_kernel_ctx *ctx, bool *bridged)
{
    *bridged = pn->half_bridge;
    if (!pn->op->infer)
        return NT_OK;
    if (pn->half_bridge)
        return nt_f16_bridge(ctx, pn->op->infer, NULL);
    nt_status s = pn->op->infer(ctx);
    if (s == NT_ERR_UNSUPPORTED && may_bridge(ctx))
        s = retry_bridged(ctx, pn->op->infer, NULL, s, bridged);
    return s;
}

nt_status nt_dispatch_compute(const nt_plan_node *pn, nt_kernel_ctx *ctx, bool bridged)
{
    nt_kernel_fn infer = pn->op->infer;
    if (bridged && infer)
        return nt_f16_bridge(ctx, infer, pn->op->compute);
    nt_status s = pn->op->compute(ctx);
    /* A kernel whose infer took the half dtype but whose compute has no
     * half loop: the outputs are already shaped, the bridge fills them. */
    if (s == NT_ERR_UNSUPPORTED && infer && may_bridge(ctx)) {
        bool unused = false;
        s = retry_bridged(ctx, infer, pn->op->compute, s, &unused);
    }
    return s;
}

nt_status nt_dispatch_infer_plan(nt_plan_node *pn, nt_kernel_ctx *ctx)
{
    bool bridged = false;
    nt_status s = nt_dispatch_infer(pn, ctx, &bridged);
    if (s == NT_OK && bridged)
        pn->half_bridge = true;
    return s;
}
