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

/* The CPU computes these layers in float32 only (MatMul also in float64/int32/int64). */
static bool pl__cpu_nn_f32(const pl__kernel_args *a) {
    for (int i = 0; i < a->nin; i++)
        if (a->in[i].dtype != PL_DTYPE_INVALID && a->in[i].dtype != PL_FLOAT32) {
            pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): the CPU computes it in float32 only, got %s",
                     pl__layer_label(a->layer), a->layer->op, pl_dtype_name(a->in[i].dtype));
            return false;
        }
    return true;
}

static bool pl__cpu_matmul_types(const pl__kernel_args *a) {
    if (a->in[0].dtype == PL_FLOAT16 || a->in[0].dtype == PL_BFLOAT16) {
        pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (MatMul): the CPU has no %s MatMul",
                 pl__layer_label(a->layer), pl_dtype_name(a->in[0].dtype));
        return false;
    }
    return true;
}

const pl__kernel_def pl__cpu_kernels_nn[] = {
    {.op = "Conv", .run = pl__cpu_conv, .workspace = pl__cpu_conv_workspace, .supports = pl__cpu_nn_f32},
    {.op = "ConvTranspose",
     .run = pl__cpu_conv_transpose,
     .workspace = pl__cpu_conv_transpose_workspace,
     .supports = pl__cpu_nn_f32},
    {.op = "MatMul", .run = pl__cpu_matmul, .supports = pl__cpu_matmul_types},
    {.op = "Gemm", .run = pl__cpu_gemm, .supports = pl__cpu_nn_f32},
    {.op = "Einsum", .run = pl__cpu_einsum, .workspace = pl__cpu_einsum_workspace},
    {.op = "MaxPool", .run = pl__cpu_maxpool, .supports = pl__cpu_nn_f32},
    {.op = "AveragePool", .run = pl__cpu_avgpool, .supports = pl__cpu_nn_f32},
    {.op = "GlobalAveragePool", .run = pl__cpu_global_avgpool, .supports = pl__cpu_nn_f32},
    {.op = "GlobalMaxPool", .run = pl__cpu_global_maxpool, .supports = pl__cpu_nn_f32},
    {.op = "BatchNormalization", .run = pl__cpu_batchnorm, .supports = pl__cpu_nn_f32},
    {.op = "LayerNormalization",
     .run = pl__cpu_layernorm,
     .workspace = pl__cpu_layernorm_workspace,
     .supports = pl__cpu_nn_f32},
    {.op = "LpNormalization", .run = pl__cpu_lpnorm, .supports = pl__cpu_nn_f32},
    {0},
};
