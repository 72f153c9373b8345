/* A library built for a plugin ABI newer than the host's: the host must refuse it before
 * running any of its code (plinth_plugin_init would fail the test if it ran). */
#include "plinth/plugin.h"

const uint32_t plinth_plugin_abi = PL_PLUGIN_ABI + 1;
int plinth_plugin_init(const pl_host_api *host, pl_plugin_registrar *reg) {
    (void)host;
    (void)reg;
    return 99;
}
