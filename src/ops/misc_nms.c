/*
 * misc_nms.c — NonMaxSuppression (10, 11).
 *
 * boxes (B, S, 4), scores (B, K, S); optional scalars
 * max_output_boxes_per_class (int64, default 0 = select nothing),
 * iou_threshold (default 0) and score_threshold (default: none).  Output
 * selected_indices (num_selected, 3) int64 rows [batch, class, box], in batch,
 * class, then selection order — its row count depends on the data, so infer
 * leaves the shape unknown and compute allocates it.
 *
 * Per (batch, class): candidates are the boxes whose score exceeds
 * score_threshold, visited by descending score (ties: lower box index
 * first); a candidate is kept unless its IoU with an already kept box
 * exceeds iou_threshold.  Boxes are [y1, x1, y2, x2] with either corner
 * first (center_point_box 0) or [x_center, y_center, width, height]
 * (center_point_box 1).  A box of zero area never suppresses nor is
 * suppressed (IoU taken as 0), as ONNX Runtime does.
 */
#include "ops/misc_impl.h"

#include <stdlib.h>
#include <string.h>

nt_status nt_nms_infer(nt_kernel_ctx *ctx)
{
    const nt_tensor *boxes = nt_ctx_in(ctx, 0), *scores = nt_ctx_in(ctx, 1);
    if (!boxes || !scores)
        return nt_ctx_error(ctx, NT_ERR_SHAPE, "boxes and scores are required");
    if (boxes->dtype != NT_DTYPE_FLOAT || scores->dtype != NT_DTYPE_FLOAT)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "boxes/scores dtype %s not supported",
                            nt_dtype_name(boxes->dtype));
    const nt_tensor *mo = nt_ctx_in(ctx, 2), *it = nt_ctx_in(ctx, 3), *st = nt_ctx_in(ctx, 4);
    if ((mo && mo->dtype != NT_DTYPE_INT64) || (it && it->dtype != NT_DTYPE_FLOAT) ||
        (st && st->dtype != NT_DTYPE_FLOAT))
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "threshold input dtypes not supported");
    int64_t cpb = nt_node_attr_int(ctx->node, "center_point_box", 0);
    if (cpb != 0 && cpb != 1)
        return nt_ctx_error(ctx, NT_ERR_UNSUPPORTED, "center_point_box %lld", (long long)cpb);
    if (!nt_ctx_shapes_unknown(ctx)) {
        if (boxes->ndim != 3 || boxes->dims[2] != 4 || scores->ndim != 3 || scores->dims[0] != boxes->dims[0] ||
            scores->dims[2] != boxes->dims[1])
            return nt_ctx_error(ctx, NT_ERR_SHAPE, "expected boxes (B, S, 4) and scores (B, K, S)");
    }
    /* the row count is only known after running */
    nt_tensor *y = ctx->out[0];
    y->dtype = NT_DTYPE_INT64;
    y->ndim = -1;
    return NT_OK;
}

/* A box as (ymin, xmin, ymax, xmax). */
typedef struct nms_box {
    float y0, x0, y1, x1;
} nms_box;

static nms_box nms_get(const float *b, bool center)
{
    nms_box r;
    if (center) {
        r.x0 = b[0] - b[2] / 2, r.x1 = b[0] + b[2] / 2;
        r.y0 = b[1] - b[3] / 2, r.y1 = b[1] + b[3] / 2;
    } else {
        r.y0 = b[0] < b[2] ? b[0] : b[2], r.y1 = b[0] < b[2] ? b[2] : b[0];
        r.x0 = b[1] < b[3] ? b[1] : b[3], r.x1 = b[1] < b[3] ? b[3] : b[1];
    }
    return r;
}

/* Whether IoU(a, b) > thr; boxes without area never suppress. */
static bool nms_suppress(const nms_box *a, const nms_box *b, float thr)
{
    float aa = (a->y1 - a->y0) * (a->x1 - a->x0), ab = (b->y1 - b->y0) * (b->x1 - b->x0);
    if (aa <= 0 || ab <= 0)
        return false;
    float iy0 = a->y0 > b->y0 ? a->y0 : b->y0, ix0 = a->x0 > b->x0 ? a->x0 : b->x0;
    float iy1 = a->y1 < b->y1 ? a->y1 : b->y1, ix1 = a->x1 < b->x1 ? a->x1 : b->x1;
    if (iy1 <= iy0 || ix1 <= ix0)
        return false;
    float inter = (iy1 - iy0) * (ix1 - ix0);
    float iou = inter / (aa + ab - inter);
    return iou > thr;
}

/* Candidate order: descending score, then ascending index. */
typedef struct nms_cand {
    float score;
    int64_t index;
} nms_cand;

static int nms_cmp(const void *pa, const void *pb)
{
    const nms_cand *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index);
}

nt_status nt_nms_compute(nt_kernel_ctx *ctx)
{
    const nt_tensor *boxes = ctx->in[0], *scores = ctx->in[1];
    const nt_tensor *mo = nt_ctx_in(ctx, 2), *it = nt_ctx_in(ctx, 3), *st = nt_ctx_in(ctx, 4);
    bool center = nt_node_attr_int(ctx->node, "center_point_box", 0) == 1;
    int64_t max_out = mo && nt_tensor_numel(mo) > 0 ? ((const int64_t *)mo->data)[0] : 0;
    float iou_thr = it && nt_tensor_numel(it) > 0 ? ((const float *)it->data)[0] : 0.0f;
    bool has_st = st && nt_tensor_numel(st) > 0;
    float score_thr = has_st ? ((const float *)st->data)[0] : 0.0f;
    int64_t B = boxes->dims[0], S = boxes->dims[1], K = scores->dims[1];
    if (max_out < 0)
        max_out = 0;
    /* at most B*K*min(S, max_out) rows */
    int64_t cap = B * K * (S < max_out ? S : max_out);
    int64_t *sel = nt_malloc((size_t)(cap > 0 ? cap : 1) * 3 * sizeof(int64_t));
    nms_cand *cand = nt_malloc((size_t)(S > 0 ? S : 1) * sizeof(nms_cand));
    nms_box *kept = nt_malloc((size_t)(S > 0 ? S : 1) * sizeof(nms_box));
    if (!sel || !cand || !kept) {
        free(sel);
        free(cand);
        free(kept);
        return nt_ctx_error(ctx, NT_ERR_NOMEM, "out of memory");
    }
    int64_t nsel = 0;
    const float *bx = boxes->data, *sc = scores->data;
    for (int64_t b = 0; b < B && max_out > 0; b++)
        for (int64_t k = 0; k < K; k++) {
            const float *s = sc + (b * K + k) * S;
            int64_t nc = 0;
            for (int64_t i = 0; i < S; i++)
                if (!has_st || s[i] > score_thr)
                    cand[nc++] = (nms_cand){s[i], i};
            qsort(cand, (size_t)nc, sizeof *cand, nms_cmp);
            int64_t nk = 0;
            for (int64_t c = 0; c < nc && nk < max_out; c++) {
                nms_box cb = nms_get(bx + (b * S + cand[c].index) * 4, center);
                bool drop = false;
                for (int64_t j = 0; j < nk && !drop; j++)
                    drop = nms_suppress(&kept[j], &cb, iou_thr);
                if (drop)
                    continue;
                kept[nk++] = cb;
                sel[nsel * 3 + 0] = b;
                sel[nsel * 3 + 1] = k;
                sel[nsel * 3 + 2] = cand[c].index;
                nsel++;
            }
        }
    int64_t dims[2] = {nsel, 3};
    nt_status s = nt_ctx_alloc_output(ctx, 0, NT_DTYPE_INT64, 2, dims);
    if (s == NT_OK && nsel > 0)
        memcpy(ctx->out[0]->data, sel, (size_t)nsel * 3 * sizeof(int64_t));
    free(sel);
    free(cand);
    free(kept);
    return s;
}
