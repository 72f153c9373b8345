/*
 * cpu-nn.c - the CPU kernel table of the nn op group. The kernels live in cpu-conv.c,
 * cpu-gemm.c, cpu-pool.c and cpu-norm.c (declared in cpu-nn.h).
 */
#include <string.h>

#include "backends/cpu/cpu-nn.h"

pl_status pl__cpu_nn_short_workspace(const pl__kernel_args *a, size_t need) {
    return pl__fail(PL_ERR_INTERNAL, "node '%s' (%s): workspace of %zu bytes given, %zu needed",
                    pl__layer_label(a->layer), a->layer->op, a->workspace_size, need);
}

pl__nn_act pl__nn_act_get(const pl__layer *l) {
    const char *name = pl__attr_string(&l->attrs, "activation", NULL);
    /* The same defaults as pl__cpu_fused_activation. */
    pl__nn_act a = {PL__ACT_NONE, (float)pl__attr_float(&l->attrs, "activation_alpha", 0.01),
                    (float)pl__attr_float(&l->attrs, "activation_beta", 0.0), l};
    if (!name)
        a.kind = PL__ACT_NONE;
    else if (strcmp(name, "Relu") == 0)
        a.kind = PL__ACT_RELU;
    else if (strcmp(name, "LeakyRelu") == 0)
        a.kind = PL__ACT_LEAKY;
    else if (strcmp(name, "Clip") == 0)
        a.kind = PL__ACT_CLIP;
    else if (strcmp(name, "HardSwish") == 0)
        a.kind = PL__ACT_HSWISH;
    else if (strcmp(name, "HardSigmoid") == 0)
        a.kind = PL__ACT_HSIGMOID;
    else
        a.kind = PL__ACT_OTHER;
    return a;
}

PL__SIMD_CLONES
void pl__nn_bias_act(const pl__nn_act *act, float *restrict y, float bias,
                     const float *restrict res, int64_t n) {
    float al = act->alpha, be = act->beta;
    if (res)
        for (int64_t i = 0; i < n; i++)
            y[i] += bias + res[i];
    else if (bias != 0.f)
        for (int64_t i = 0; i < n; i++)
            y[i] += bias;
    switch (act->kind) {
    case PL__ACT_NONE:
        break;
    case PL__ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] > 0.f ? y[i] : 0.f;
        break;
    case PL__ACT_LEAKY:
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] >= 0.f ? y[i] : al * y[i];
        break;
    case PL__ACT_CLIP:
        for (int64_t i = 0; i < n; i++)
            y[i] = y[i] < al ? al : y[i] > be ? be : y[i];
        break;
    case PL__ACT_HSWISH:
        for (int64_t i = 0; i < n; i++) {
            float v = y[i] * (1.f / 6.f) + 0.5f;
            y[i] *= v < 0.f ? 0.f : v > 1.f ? 1.f : v;
        }
        break;
    case PL__ACT_HSIGMOID:
        for (int64_t i = 0; i < n; i++) {
            float v = al * y[i] + be;
            y[i] = v < 0.f ? 0.f : v > 1.f ? 1.f : v;
        }
        break;
    case PL__ACT_OTHER:
        pl__cpu_fused_activation(act->layer, y, n);
        break;
    }
}

const pl__kernel_def pl__cpu_kernels_nn[] = {
    {.op = "Conv", .run = pl__cpu_conv, .workspace = pl__cpu_conv_workspace},
    {.op = "ConvTranspose",
     .run = pl__cpu_conv_transpose,
     .workspace = pl__cpu_conv_transpose_workspace},
    {.op = "MatMul", .run = pl__cpu_matmul},
    {.op = "Gemm", .run = pl__cpu_gemm},
    {.op = "Einsum", .run = pl__cpu_einsum, .workspace = pl__cpu_einsum_workspace},
    {.op = "MaxPool", .run = pl__cpu_maxpool},
    {.op = "AveragePool", .run = pl__cpu_avgpool},
    {.op = "GlobalAveragePool", .run = pl__cpu_global_avgpool},
    {.op = "GlobalMaxPool", .run = pl__cpu_global_maxpool},
    {.op = "BatchNormalization", .run = pl__cpu_batchnorm},
    {.op = "LayerNormalization",
     .run = pl__cpu_layernorm,
     .workspace = pl__cpu_layernorm_workspace},
    {.op = "LpNormalization", .run = pl__cpu_lpnorm},
    {0},
};
