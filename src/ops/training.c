/*
 * training.c — the optimizer steps of the ai.onnx.preview.training domain:
 * Adagrad, Momentum (standard and Nesterov) and Adam.  Each takes a learning
 * rate R and step count T (scalars), then n tensors X, their gradients G and
 * one or two state tensors per X, and returns the updated X and states.
 * Deterministic element-wise formulas (from the operator spec), computed in
 * double per element and rounded once to the tensors' float type:
 *
 *   Adagrad   g = nc*X + G;  H' = H + g^2;  r = R / (1 + T*decay)
 *             X' = X - r * g / (sqrt(H') + eps)
 *   Momentum  g = nc*X + G;  b = T > 0 ? beta : 1;  V' = alpha*V + b*g
 *             X' = X - R*V'  (standard)  or  X - R*(g + alpha*V')  (nesterov)
 *   Adam      g = nc*X + G;  V' = alpha*V + (1-alpha)*g;  H' = beta*H + (1-beta)*g^2
 *             r = T > 0 ? R*sqrt(1-beta^T)/(1-alpha^T) : R
 *             X' = (1 - nc_post) * (X - r * V' / (sqrt(H') + eps))
 *
 * Shapes: every output has the shape of the input it updates.
 */
#include "ops/kernel.h"

#include <math.h>
#include <string.h>

enum { OPT_ADAGRAD, OPT_MOMENTUM, OPT_ADAM };

/* States per X: Adagrad H; Momentum V; Adam V and H. */
static int opt_states(int kind) { return kind == OPT_ADAM ? 2 : 1; }

static int opt_kind(const nt_node *n)
{
    return strcmp(n->op_type, "Adagrad") == 0 ? OPT_ADAGRAD : strcmp(n->op_type, "Momentum") == 0 ? OPT_MOMENTUM
                                                                                                  : OPT_ADAM;
}

/* n, the number of tensors optimized: inputs are R, T, then (2 + states) * n. */
static nt_status opt_count(const nt_kernel_ctx *ctx, int *n)
{
    int per = 2 + opt_states(opt_kind(ctx->node));
    if (ctx->n_in < 2 + per || (ctx->n_in - 2) % per != 0 || ctx->n_out != (ctx->n_in - 2) / per * (per - 1))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "%d inputs and %d outputs do not fit R, T and groups of %d",
                            ctx->n_in, ctx->n_out, per);
    *n = (ctx->n_in - 2) / per;
    return NT_OK;
}

static nt_status opt_infer(nt_kernel_ctx *ctx)
{
    int n;
    nt_status s = opt_count(ctx, &n);
    if (s != NT_OK)
        return s;
    for (int i = 2; i < ctx->n_in; i++) {
        const nt_tensor *t = nt_ctx_in(ctx, i);
        if (!t)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "input %d is missing", i);
        if (t->dtype != NT_DTYPE_FLOAT && t->dtype != NT_DTYPE_DOUBLE &&
            !(ctx->static_mode && t->dtype == NT_DTYPE_UNDEFINED))
            return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "input %d has dtype %s; float32 or float64 only", i,
                                nt_dtype_name(t->dtype));
    }
    /* outputs: X' for each X, then each state kind's new values */
    for (int o = 0; o < ctx->n_out; o++) {
        int group = o / n, k = o % n;
        const nt_tensor *src = ctx->in[2 + (group == 0 ? 0 : group + 1) * n + k];
        if (!ctx->out[o])
            continue;
        if (src->ndim < 0) {
            ctx->out[o]->dtype = src->dtype;
            ctx->out[o]->ndim = -1;
        } else if ((s = nt_ctx_set_output(ctx, o, src->dtype, src->ndim, src->dims)) != NT_OK) {
            return s;
        }
    }
    return NT_OK;
}

static nt_status opt_compute(nt_kernel_ctx *ctx)
{
    const nt_node *node = ctx->node;
    int kind = opt_kind(node), n;
    nt_status s = opt_count(ctx, &n);
    if (s != NT_OK)
        return s;
    const nt_tensor *R = ctx->in[0], *T = ctx->in[1];
    if (!R || !T || nt_tensor_numel(R) < 1 || nt_tensor_numel(T) < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "R and T must be scalars");
    double r = nt_tensor_get_f64(R, 0), t = nt_tensor_get_f64(T, 0);
    double nc = nt_node_attr_float(node, "norm_coefficient", 0.0f);
    for (int k = 0; k < n; k++) {
        const nt_tensor *X = ctx->in[2 + k], *G = ctx->in[2 + n + k], *S1 = ctx->in[2 + 2 * n + k];
        const nt_tensor *S2 = kind == OPT_ADAM ? ctx->in[2 + 3 * n + k] : NULL;
        nt_tensor *Xo = nt_ctx_out(ctx, k), *S1o = nt_ctx_out(ctx, n + k);
        nt_tensor *S2o = kind == OPT_ADAM ? nt_ctx_out(ctx, 2 * n + k) : NULL;
        int64_t m = nt_tensor_numel(X);
        if (nt_tensor_numel(G) != m || nt_tensor_numel(S1) != m || (S2 && nt_tensor_numel(S2) != m))
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "tensor %d: X, G and the states differ in size", k);
        for (int64_t i = 0; i < m; i++) {
            double x = nt_tensor_get_f64(X, i), g = nc * x + nt_tensor_get_f64(G, i);
            double s1 = nt_tensor_get_f64(S1, i), xn, s1n, s2n = 0;
            if (kind == OPT_ADAGRAD) {
                double decay = nt_node_attr_float(node, "decay_factor", 0.0f);
                double eps = nt_node_attr_float(node, "epsilon", 1e-6f);
                s1n = s1 + g * g;
                xn = x - r / (1 + t * decay) * g / (sqrt(s1n) + eps);
            } else if (kind == OPT_MOMENTUM) {
                double alpha = nt_node_attr_float(node, "alpha", 0.0f);
                double beta = nt_node_attr_float(node, "beta", 0.0f);
                bool nesterov = strcmp(nt_node_attr_string(node, "mode", "standard"), "nesterov") == 0;
                s1n = alpha * s1 + (t > 0 ? beta : 1.0) * g;
                xn = nesterov ? x - r * (g + alpha * s1n) : x - r * s1n;
            } else {
                double alpha = nt_node_attr_float(node, "alpha", 0.9f);
                double beta = nt_node_attr_float(node, "beta", 0.999f);
                double eps = nt_node_attr_float(node, "epsilon", 1e-6f);
                double post = nt_node_attr_float(node, "norm_coefficient_post", 0.0f);
                double h = nt_tensor_get_f64(S2, i);
                s1n = alpha * s1 + (1 - alpha) * g;
                s2n = beta * h + (1 - beta) * g * g;
                double ra = t > 0 ? r * sqrt(1 - pow(beta, t)) / (1 - pow(alpha, t)) : r;
                xn = (1 - post) * (x - ra * (s1n / (sqrt(s2n) + eps)));
            }
            if (Xo)
                nt_tensor_set_f64(Xo, i, xn);
            if (S1o)
                nt_tensor_set_f64(S1o, i, s1n);
            if (S2o)
                nt_tensor_set_f64(S2o, i, s2n);
        }
    }
    return NT_OK;
}

const nt_op_def nt_ops_training[] = {
    {"Adagrad", "ai.onnx.preview.training", 1, NULL, NULL, opt_infer, opt_compute},
    {"Momentum", "ai.onnx.preview.training", 1, NULL, NULL, opt_infer, opt_compute},
    {"Adam", "ai.onnx.preview.training", 1, NULL, NULL, opt_infer, opt_compute},
};
const size_t nt_ops_training_count = NT_ARRAY_LEN(nt_ops_training);
