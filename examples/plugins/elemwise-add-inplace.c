/* sample::elemwise_add_plugin_ - x += delta in place: output 0 is input 0's memory (QDP's
 * aliased I/O sample). Two chained with the default delta give x + 2. */
#include <plinth/plugin.h>

static int elemwise_add_inplace(pl_ctx *c) {
    const pl_tensor_view *x = &c->in[0]; /* aliased: writable, and the same memory as out[0] */
    float delta = (float)pl_get_int(c, "delta");
    for (int64_t i = 0, n = pl_numel(x); i < n; i++) {
        uint16_t *h = (uint16_t *)x->data + i;
        if (x->dtype == PL_FLOAT32)
            ((float *)x->data)[i] += delta;
        else
            *h = pl_float_to_half(pl_half_to_float(*h) + delta);
    }
    return 0;
}

const pl_plugin_def sample_elemwise_add_inplace = {
    .abi = PL_PLUGIN_ABI, .ns = "sample", .name = "elemwise_add_plugin_",
    .num_inputs = 1, .num_outputs = 1,
    .types = "FP32|FP16, FP32|FP16",
    .alias = {PL_ALIAS(0)},
    .attrs = {{"delta", PL_ATTR_INT, .i = 1}},
    .cpu = elemwise_add_inplace,
};
