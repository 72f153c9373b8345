/*
 * cuda-plugins.c - plugins with CUDA kernels (launchers in cuda-kernels.cu) and CPU references:
 * a scale, an in-place doubling and a compaction with a size tensor the device writes
 * (libpl_cuda_plugins, built only with CUDA). Definitions live in C: C++ rejects C's mixed
 * designated initializers.
 */
#include "plinth/plugin.h"

int pl_test_scale_cuda(pl_ctx *c);
int pl_test_double_cuda(pl_ctx *c);
int pl_test_positive_cuda(pl_ctx *c);

static int scale_cpu(pl_ctx *c) {
    float a = (float)pl_get_float(c, "alpha");
    for (int64_t i = 0; i < pl_numel(&c->in[0]); i++)
        ((float *)c->out[0].data)[i] = ((const float *)c->in[0].data)[i] * a;
    return 0;
}
static const pl_plugin_def scale_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "cuda_scale", .num_inputs = 1, .num_outputs = 1,
    .types = "FP32, FP32", .attrs = {{"alpha", PL_ATTR_FLOAT, .f = 1.0}},
    .cpu = scale_cpu, .cuda = pl_test_scale_cuda,
};

static int double_cpu(pl_ctx *c) {
    for (int64_t i = 0; i < pl_numel(&c->in[0]); i++)
        ((float *)c->in[0].data)[i] *= 2.f;
    return 0;
}
static const pl_plugin_def double_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "cuda_double_inplace", .num_inputs = 1,
    .num_outputs = 1, .types = "FP32, FP32", .alias = {PL_ALIAS(0)},
    .cpu = double_cpu, .cuda = pl_test_double_cuda,
};

/* the positive values of a 1-D input, in order, and their count (a size tensor) */
static int positive_outputs(pl_ctx *c) {
    pl_expr n = pl_size_tensor(c, 1, pl_div(c, pl_volume(c, 0), 2), pl_volume(c, 0));
    return pl_output(c, 0, PL_FLOAT32, 1, &n);
}
static int positive_cpu(pl_ctx *c) {
    const float *x = c->in[0].data;
    int32_t n = 0;
    for (int64_t i = 0; i < pl_numel(&c->in[0]); i++)
        if (x[i] > 0.f)
            ((float *)c->out[0].data)[n++] = x[i];
    *(int32_t *)c->out[1].data = n;
    return 0;
}
static const pl_plugin_def positive_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "cuda_positive", .num_inputs = 1,
    .num_outputs = 2, .types = "FP32, FP32, INT32", .outputs = positive_outputs,
    .cpu = positive_cpu, .cuda = pl_test_positive_cuda,
};

PL_PLUGIN_LIBRARY(&scale_def, &double_def, &positive_def)
