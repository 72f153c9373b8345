/* Claims an identity the samples library already registered. */
#include "plinth/plugin.h"

static int k(pl_ctx *c) { return c ? 0 : 1; }
static const pl_plugin_def def = {
    .abi = PL_PLUGIN_ABI, .ns = "sample", .name = "elemwise_add_plugin", .num_inputs = 1,
    .num_outputs = 1, .cpu = k,
};
PL_PLUGIN_LIBRARY(&def)
