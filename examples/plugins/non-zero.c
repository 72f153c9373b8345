/* sample::non_zero_plugin - the [N, 2] int32 (row, col) indices of the non-zeros of a 2-D input,
 * row-major. N depends on the data: output 1 is a size tensor holding N (QDP's NonZero sample). */
#include <plinth/plugin.h>

static int non_zero_outputs(pl_ctx *c) {
    if (c->in[0].rank != 2)
        return pl_error(c, "expects a 2-D input, got rank %d", c->in[0].rank);
    pl_expr upper = pl_mul(c, pl_dim(c, 0, 0), pl_dim(c, 0, 1));
    pl_expr n = pl_size_tensor(c, 1, pl_div(c, upper, 2), upper);
    return pl_output(c, 0, PL_INT32, 2, (pl_expr[]){n, 2});
}

static int non_zero(pl_ctx *c) {
    const pl_tensor_view *x = &c->in[0];
    int32_t *idx = c->out[0].data, n = 0;
    for (int64_t i = 0, cols = x->dims[1]; i < pl_numel(x); i++) {
        float v = x->dtype == PL_FLOAT32 ? ((const float *)x->data)[i]
                                         : pl_half_to_float(((const uint16_t *)x->data)[i]);
        if (v != 0.f) {
            idx[2 * n] = (int32_t)(i / cols);
            idx[2 * n + 1] = (int32_t)(i % cols);
            n++;
        }
    }
    *(int32_t *)c->out[1].data = n;
    return 0;
}

const pl_plugin_def sample_non_zero = {
    .abi = PL_PLUGIN_ABI, .ns = "sample", .name = "non_zero_plugin",
    .num_inputs = 1, .num_outputs = 2,
    .types = "FP32|FP16, INT32, INT32",
    .outputs = non_zero_outputs,
    .cpu = non_zero,
};
