/*
 * registry.c - placeholder until the plugin SDK lands: no plugin is registered.
 */
#include "plugin/plugin-host.h"

pl_status pl__plugin_bind(pl__layer *l) {
    return pl__fail(PL_ERR_NOT_FOUND, "plugin '%s::%s' (version '%s') is not registered",
                    l->plugin_ns, l->plugin_name, l->plugin_version);
}
pl_status pl__plugin_infer(pl__infer *ic) {
    return pl__fail(PL_ERR_UNSUPPORTED, "plugin '%s' has no shape function", ic->layer->plugin_name);
}
bool pl__plugin_data_dependent(const pl__layer *l) { (void)l; return false; }
const pl__kernel_def *pl__plugin_kernel(const pl__layer *l, pl_device device) {
    (void)device;
    pl__fail(PL_ERR_UNSUPPORTED, "plugin '%s' has no kernel", l->plugin_name);
    return NULL;
}
const char *pl__plugin_library(const pl__layer *l, uint64_t *hash) { (void)l; *hash = 0; return ""; }
pl_status pl_plugins_load(const char *path) {
    return pl__fail(PL_ERR_UNSUPPORTED, "%s: plugin libraries are not supported yet", path);
}
int pl_plugins_count(void) { return 0; }
pl_status pl_plugins_get(int index, const char **ns, const char **name, const char **version,
                         const char **library) {
    (void)ns; (void)name; (void)version; (void)library;
    return pl__fail(PL_ERR_NOT_FOUND, "no plugin %d", index);
}
