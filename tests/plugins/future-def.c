/* A library whose definition claims a newer ABI than the host's (no library-level marker). */
#include "plinth/plugin.h"

static int k(pl_ctx *c) { return c ? 0 : 1; }
static const pl_plugin_def def = {
    .abi = PL_PLUGIN_ABI + 1, .ns = "test", .name = "from_the_future", .num_inputs = 1,
    .num_outputs = 1, .cpu = k,
};
int plinth_plugin_init(const pl_host_api *host, pl_plugin_registrar *reg) {
    return host->register_plugin(reg, &def);
}
