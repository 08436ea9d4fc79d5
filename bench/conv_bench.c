/*
 * conv_bench.c — single-threaded speed of the float32 Conv kernel on
 * ResNet-18-like layers, called directly through the kernel table (no
 * session), reported as GFLOP/s (2*M*Cg*K*OUT per image).
 *
 * Build by hand:
 *   gcc -O2 -march=x86-64-v2 -Iinclude -Isrc $(pkg-config --cflags openblas) bench/conv_bench.c \
 *       build/libnntrace.a $(pkg-config --libs openblas libpng zlib) -lm -lpthread -o build/conv_bench
 * Run: build/conv_bench [repeats] [blas|avx2|avx512|best] [LAYER-SUBSTRING]
 *      (the kernel set, default the CPU's best; only layers whose name has the substring)
 *      NT_BENCH_NO_WINOGRAD=1 in the environment: 3x3 layers without Winograd
 */
#include "ops/kernel.h"
#include "ops/sgemm.h"
#include "ops/winograd.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct layer {
    const char *name;
    int64_t n, c, h, w, m, k, stride, pad, group;
} layer;

static const layer layers[] = {
    {"resnet18 conv2_x 3x3 64->64 @56", 1, 64, 56, 56, 64, 3, 1, 1, 1},
    {"resnet18 conv1 7x7/2 3->64 @224", 1, 3, 224, 224, 64, 7, 2, 3, 1},
    {"resnet18 conv3_x 3x3 128->128 @28", 1, 128, 28, 28, 128, 3, 1, 1, 1},
    {"resnet18 conv4_x 3x3 256->256 @14", 1, 256, 14, 14, 256, 3, 1, 1, 1},
    {"resnet18 conv5_x 3x3 512->512 @7", 1, 512, 7, 7, 512, 3, 1, 1, 1},
    {"1x1 256->64 @56", 1, 256, 56, 56, 64, 1, 1, 0, 1},
    {"depthwise 3x3 144 @56", 1, 144, 56, 56, 144, 3, 1, 1, 144},
    {"mbv2 depthwise 3x3 576 @14", 1, 576, 14, 14, 576, 3, 1, 1, 576},
    {"mbv2 depthwise 3x3/2 144 @56", 1, 144, 56, 56, 144, 3, 2, 1, 144},
    {"mbv2 pointwise 1x1 96->576 @14", 1, 96, 14, 14, 576, 1, 1, 0, 1},
    {"mbv2 pointwise 1x1 16->96 @112", 1, 16, 112, 112, 96, 1, 1, 0, 1},
    {"mbv2 conv 3x3/2 3->32 @224", 1, 3, 224, 224, 32, 3, 2, 1, 1},
    {"ocr_det 3x3 16->16 @128", 1, 16, 128, 128, 16, 3, 1, 1, 1},
    {"ocr_det 3x3 32->32 @64", 1, 32, 64, 64, 32, 3, 1, 1, 1},
    {"squeezenet 3x3 16->64 @55", 1, 16, 55, 55, 64, 3, 1, 1, 1},
    {"squeezenet 3x3 64->256 @13", 1, 64, 13, 13, 256, 3, 1, 1, 1},
    {"unet 3x3 32->32 @512", 1, 32, 512, 512, 32, 3, 1, 1, 1},
};

static double bench_layer(const layer *L, int reps)
{
    int64_t oh = (L->h + 2 * L->pad - L->k) / L->stride + 1, ow = (L->w + 2 * L->pad - L->k) / L->stride + 1;
    int64_t xd[4] = {L->n, L->c, L->h, L->w}, wd[4] = {L->m, L->c / L->group, L->k, L->k}, bd[1] = {L->m};
    nt_tensor *X, *W, *B, *Y;
    int64_t yd[4] = {L->n, L->m, oh, ow};
    if (nt_tensor_new(NT_DTYPE_FLOAT, 4, xd, &X) || nt_tensor_new(NT_DTYPE_FLOAT, 4, wd, &W) ||
        nt_tensor_new(NT_DTYPE_FLOAT, 1, bd, &B) || nt_tensor_new(NT_DTYPE_FLOAT, 4, yd, &Y)) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    srand(1);
    for (int64_t i = 0; i < nt_tensor_numel(X); i++)
        ((float *)X->data)[i] = (float)rand() / RAND_MAX - 0.5f;
    for (int64_t i = 0; i < nt_tensor_numel(W); i++)
        ((float *)W->data)[i] = (float)rand() / RAND_MAX - 0.5f;
    int64_t pads[4] = {L->pad, L->pad, L->pad, L->pad}, strides[2] = {L->stride, L->stride};
    nt_attr attrs[3] = {
        {.name = "pads", .type = NT_ATTR_INTS, .n = 4, .ints = pads},
        {.name = "strides", .type = NT_ATTR_INTS, .n = 2, .ints = strides},
        {.name = "group", .type = NT_ATTR_INT, .i = L->group},
    };
    /* W and B are initializers of a one-node graph, as in a real model, so
     * kernels may keep prepared weights across calls. */
    int node_in[3] = {0, 1, 2}, node_out[1] = {3};
    nt_value values[4] = {{.name = "X", .kind = NT_VALUE_INPUT},
                          {.name = "W", .kind = NT_VALUE_INITIALIZER, .init = W},
                          {.name = "B", .kind = NT_VALUE_INITIALIZER, .init = B},
                          {.name = "Y"}};
    nt_node node = {.name = "conv", .op_type = "Conv", .domain = "", .n_in = 3, .n_out = 1, .in = node_in,
                    .out = node_out, .n_attr = 3, .attrs = attrs};
    nt_graph graph = {.name = "g", .n_nodes = 1, .nodes = &node, .n_values = 4, .values = values};
    const nt_op_def *op = nt_op_find("Conv", "", 17);
    void *state = NULL;
    if (!op || op->prepare(&node, 17, &state) != NT_OK) {
        fprintf(stderr, "prepare failed: %s\n", nt_last_error());
        exit(1);
    }
    nt_tensor *in[3] = {X, W, B}, *out[1] = {Y};
    nt_kernel_ctx ctx = {&node, 17, 3, 1, in, out, state, false, NULL, &graph};
    if (op->infer(&ctx) != NT_OK || op->compute(&ctx) != NT_OK) { /* warm-up, sizes the scratch */
        fprintf(stderr, "conv failed: %s\n", nt_last_error());
        exit(1);
    }
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = nt_now_ms();
        op->compute(&ctx);
        double t = nt_now_ms() - t0;
        if (t < best)
            best = t;
    }
    double flops = 2.0 * L->n * L->m * (L->c / L->group) * L->k * L->k * oh * ow;
    printf("%-36s %8.3f ms  %7.1f GFLOP/s\n", L->name, best, flops / best / 1e6);
    op->release(state);
    nt_tensor_free(X);
    nt_tensor_free(W);
    nt_tensor_free(B);
    nt_tensor_free(Y);
    return flops / best / 1e6;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 20;
    openblas_set_num_threads(1);
    if (getenv("NT_BENCH_NO_WINOGRAD"))
        nt_wino_enable(false);
    if (argc > 2 && strcmp(argv[2], "best") != 0)
        nt_sgemm_isa_force(strcmp(argv[2], "avx512") == 0 ? NT_SGEMM_AVX512
                           : strcmp(argv[2], "avx2") == 0 ? NT_SGEMM_AVX2
                                                          : NT_SGEMM_NONE);
    printf("kernels: %s\n", nt_sgemm_isa_name(nt_sgemm_isa_get()));
    printf("single thread, best of %d (OpenBLAS core %s)\n", reps, getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "auto");
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        if (argc <= 3 || strstr(layers[i].name, argv[3]))
            bench_layer(&layers[i], reps);
    if (argc > 3)
        return 0;
    /* The raw sgemm of the main layer, for the ceiling. */
    int M = 64, N = 56 * 56, K = 64 * 9;
    float *a = calloc((size_t)M * K, 4), *b = calloc((size_t)K * N, 4), *c = calloc((size_t)M * N, 4);
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = nt_now_ms();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, a, K, b, N, 0, c, N);
        double t = nt_now_ms() - t0;
        best = t < best ? t : best;
    }
    printf("%-36s %8.3f ms  %7.1f GFLOP/s\n", "sgemm 64x3136x576 alone", best, 2.0 * M * N * K / best / 1e6);
    free(a);
    free(b);
    free(c);
    return 0;
}
