/*
 * extra_ml.c — small feature-extraction operators of the "extra" family:
 * TfIdfVectorizer (opset 9) on integer tokens, and from the ai.onnx.ml domain
 * Binarizer and ArrayFeatureExtractor.  String inputs are declined (the
 * interpreter runs numeric tensors only).
 */
#include "ops/extra_impl.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------- TfIdfVectorizer */

typedef struct tfidf {
    int mode;                  /* 0 TF, 1 IDF, 2 TFIDF */
    int64_t min_n, max_n, max_skip;
    int n_groups;              /* ngram lengths 1..n_groups have pool entries */
    const int64_t *counts;     /* start of each length's group in the pool */
    const int64_t *pool;
    int64_t pool_len;
    const int64_t *indexes;    /* output column of each ngram, in pool order */
    int64_t n_indexes;
    const float *weights;      /* NULL: all 1 */
    int64_t out_dim;
} tfidf;

nt_status nt_tfidf_prepare(const nt_node *n, int opset, void **state)
{
    tfidf *a = nt_calloc(1, sizeof *a);
    if (!a)
        return NT_ERR_NOMEM;
    const char *mode = nt_node_attr_string(n, "mode", "");
    a->mode = !strcmp(mode, "TF") ? 0 : !strcmp(mode, "IDF") ? 1 : !strcmp(mode, "TFIDF") ? 2 : -1;
    a->min_n = nt_node_attr_int(n, "min_gram_length", 0);
    a->max_n = nt_node_attr_int(n, "max_gram_length", 0);
    a->max_skip = nt_node_attr_int(n, "max_skip_count", 0);
    a->n_groups = nt_node_attr_ints(n, "ngram_counts", &a->counts);
    a->pool_len = nt_node_attr_ints(n, "pool_int64s", &a->pool);
    a->n_indexes = nt_node_attr_ints(n, "ngram_indexes", &a->indexes);
    int nw = nt_node_attr_floats(n, "weights", &a->weights);
    nt_status s = NT_OK;
    if (a->mode < 0)
        s = nt_error(NT_ERR_PARSE, "mode '%s' is not TF, IDF or TFIDF", mode);
    else if (nt_node_attr(n, "pool_strings"))
        s = nt_error(NT_ERR_UNSUPPORTED, "string pools are not supported");
    else if (a->min_n < 1 || a->max_n < a->min_n || a->max_skip < 0)
        s = nt_error(NT_ERR_PARSE, "invalid gram lengths or skip count");
    else if (a->weights && nw != a->n_indexes)
        s = nt_error(NT_ERR_PARSE, "weights must match ngram_indexes");
    /* Each group's start must lie in the pool, in order, a whole number of ngrams. */
    int64_t total = 0;
    for (int g = 0; s == NT_OK && g < a->n_groups; g++) {
        int64_t st = a->counts[g], en = g + 1 < a->n_groups ? a->counts[g + 1] : a->pool_len;
        if (st < 0 || en < st || en > a->pool_len || (en - st) % (g + 1))
            s = nt_error(NT_ERR_PARSE, "ngram_counts does not split pool_int64s into whole ngrams");
        else
            total += (en - st) / (g + 1);
    }
    if (s == NT_OK && total != a->n_indexes)
        s = nt_error(NT_ERR_PARSE, "ngram_indexes has %lld entries for %lld ngrams", (long long)a->n_indexes,
                     (long long)total);
    for (int64_t i = 0; s == NT_OK && i < a->n_indexes; i++) {
        if (a->indexes[i] < 0)
            s = nt_error(NT_ERR_PARSE, "negative ngram index");
        else if (a->indexes[i] + 1 > a->out_dim)
            a->out_dim = a->indexes[i] + 1;
    }
    if (s != NT_OK) {
        free(a);
        return s;
    }
    *state = a;
    return NT_OK;
}

nt_status nt_tfidf_infer(nt_kernel_ctx *ctx)
{
    const tfidf *a = ctx->state;
    const nt_tensor *x = ctx->in[0];
    if (x->dtype != NT_DTYPE_INT32 && x->dtype != NT_DTYPE_INT64)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported (int32, int64)",
                            nt_dtype_name(x->dtype));
    if (x->ndim < 0) {
        ctx->out[0]->dtype = NT_DTYPE_FLOAT;
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    if (x->ndim == 1)
        return nt_ctx_set_output(ctx, 0, NT_DTYPE_FLOAT, 1, &a->out_dim);
    if (x->ndim != 2)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must be 1-D or 2-D");
    const int64_t od[2] = {x->dims[0], a->out_dim};
    return nt_ctx_set_output(ctx, 0, NT_DTYPE_FLOAT, 2, od);
}

static int64_t tok(const nt_tensor *x, int64_t i)
{
    return x->dtype == NT_DTYPE_INT32 ? ((const int32_t *)x->data)[i] : ((const int64_t *)x->data)[i];
}

/* Adds one to the count of the n-gram of tokens x[at], x[at + step], ... if
 * the pool holds it (ngram ids count from the first group). */
static void tfidf_match(const tfidf *a, const nt_tensor *x, int64_t at, int64_t step, int64_t n, float *counts)
{
    if (n > a->n_groups)
        return;
    int64_t id = 0;
    for (int g = 0; g < n - 1; g++) {
        int64_t en = g + 1 < a->n_groups ? a->counts[g + 1] : a->pool_len;
        id += (en - a->counts[g]) / (g + 1);
    }
    int64_t st = a->counts[n - 1], en = n < a->n_groups ? a->counts[n] : a->pool_len;
    for (int64_t p = st; p < en; p += n, id++) {
        int64_t k = 0;
        while (k < n && a->pool[p + k] == tok(x, at + k * step))
            k++;
        if (k == n) {
            counts[a->indexes[id]] += 1;
            return;
        }
    }
}

nt_status nt_tfidf_compute(nt_kernel_ctx *ctx)
{
    const tfidf *a = ctx->state;
    const nt_tensor *x = ctx->in[0];
    float *y = ctx->out[0]->data;
    int64_t rows = x->ndim == 2 ? x->dims[0] : 1, C = x->dims[x->ndim - 1];
    memset(y, 0, (size_t)(rows * a->out_dim) * sizeof *y);
    for (int64_t r = 0; r < rows; r++) {
        float *cnt = y + r * a->out_dim;
        for (int64_t n = a->min_n; n <= a->max_n; n++)
            /* Unigrams have no gaps: counted once, not once per skip. */
            for (int64_t skip = 0; skip <= (n == 1 ? 0 : a->max_skip); skip++) {
                int64_t step = skip + 1;
                for (int64_t i = 0; i + (n - 1) * step < C; i++)
                    tfidf_match(a, x, r * C + i, step, n, cnt);
            }
        for (int64_t j = 0; j < a->n_indexes; j++) {
            int64_t o = a->indexes[j];
            float w = a->weights ? a->weights[j] : 1.0f;
            if (a->mode == 1)
                cnt[o] = cnt[o] > 0 ? w : 0;
            else if (a->mode == 2)
                cnt[o] *= w;
        }
    }
    return NT_OK;
}

/* ---------------------------------------------------------------- Binarizer */

nt_status nt_binarizer_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    if (!nt_dtype_is_numeric(x->dtype))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(x->dtype));
    if (x->ndim < 0) {
        ctx->out[0]->dtype = x->dtype;
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    return nt_ctx_set_output(ctx, 0, x->dtype, x->ndim, x->dims);
}

nt_status nt_binarizer_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0];
    double th = nt_node_attr_float(ctx->node, "threshold", 0.0f);
    for (int64_t i = 0, n = nt_tensor_numel(x); i < n; i++)
        nt_tensor_set_f64(ctx->out[0], i, nt_tensor_get_f64(x, i) > th ? 1.0 : 0.0);
    return NT_OK;
}

/* ---------------------------------------------------- ArrayFeatureExtractor */

/* x (..., C), indices (K) -> (..., K); a 1-D x gives (1, K). */
nt_status nt_afe_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *idx = nt_ctx_in(ctx, 1);
    if (!idx || (idx->dtype != NT_DTYPE_INT64 && idx->dtype != NT_DTYPE_INT32))
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "needs int64 indices");
    if (x->dtype == NT_DTYPE_STRING || nt_dtype_size(x->dtype) == 0)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "dtype %s is not supported", nt_dtype_name(x->dtype));
    ctx->out[0]->dtype = x->dtype;
    if (nt_ctx_shapes_unknown(ctx)) {
        nt_ctx_outputs_unknown(ctx);
        return NT_OK;
    }
    if (x->ndim < 1)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "input must have rank >= 1");
    int64_t od[NT_MAX_DIMS];
    int r = x->ndim == 1 ? 2 : x->ndim;
    if (x->ndim == 1)
        od[0] = 1;
    else
        memcpy(od, x->dims, sizeof(int64_t) * (size_t)(x->ndim - 1));
    od[r - 1] = nt_tensor_numel(idx);
    return nt_ctx_set_output(ctx, 0, x->dtype, r, od);
}

nt_status nt_afe_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *x = ctx->in[0], *idx = ctx->in[1];
    int64_t C = x->dims[x->ndim - 1], K = nt_tensor_numel(idx), rows = C ? nt_tensor_numel(x) / C : 0;
    size_t es = nt_dtype_size(x->dtype);
    for (int64_t k = 0; k < K; k++) {
        int64_t c = (int64_t)nt_tensor_get_f64(idx, k);
        if (c < 0 || c >= C)
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "index %lld is outside [0, %lld)", (long long)c, (long long)C);
        for (int64_t r = 0; r < rows; r++)
            memcpy((char *)ctx->out[0]->data + (size_t)(r * K + k) * es, (const char *)x->data + (size_t)(r * C + c) * es,
                   es);
    }
    return NT_OK;
}
