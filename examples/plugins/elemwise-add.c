/* sample::elemwise_add_plugin - y = x + 1, FP32 or FP16 (QDP's first sample). block_size is the
 * chunk the loop walks in, as BLOCK_SIZE of the Triton kernel in the QDP sample. */
#include <plinth/plugin.h>

static int elemwise_add(pl_ctx *c) {
    const pl_tensor_view *x = &c->in[0];
    int64_t n = pl_numel(x), bs = pl_get_int(c, "block_size");
    if (bs <= 0)
        return pl_error(c, "block_size must be positive, got %lld", (long long)bs);
    for (int64_t b = 0; b < n; b += bs)
        for (int64_t i = b; i < b + bs && i < n; i++) {
            if (x->dtype == PL_FLOAT32)
                ((float *)c->out[0].data)[i] = ((const float *)x->data)[i] + 1.f;
            else
                ((uint16_t *)c->out[0].data)[i] =
                    pl_float_to_half(pl_half_to_float(((const uint16_t *)x->data)[i]) + 1.f);
        }
    return 0;
}

const pl_plugin_def sample_elemwise_add = {
    .abi = PL_PLUGIN_ABI, .ns = "sample", .name = "elemwise_add_plugin",
    .num_inputs = 1, .num_outputs = 1,
    .types = "FP32|FP16, FP32|FP16",
    .attrs = {{"block_size", PL_ATTR_INT, .i = 256}},
    .cpu = elemwise_add,
};
