/*
 * builtin.c - the built-in plugin library: plugins shipped inside libplinth, written only against
 * plinth/plugin.h like any other plugin library. The registry calls this entry point directly at
 * its first use (static linking needs no dlopen, and nothing can be dropped by the linker because
 * the registry references this symbol). To add a plugin: a folder plugins/<op>/ with its .c file
 * defining `const pl_plugin_def pl_builtin_<op>`, and one line in the list below.
 */
#include "plinth/plugin.h"

#define PL__BUILTIN_PLUGINS(X) X(pl_builtin_assert_finite)

#define PL__DECLARE(def) extern const pl_plugin_def def;
PL__BUILTIN_PLUGINS(PL__DECLARE)
#undef PL__DECLARE

int pl__builtin_plugins_init(const pl_host_api *host, pl_plugin_registrar *reg);

int pl__builtin_plugins_init(const pl_host_api *host, pl_plugin_registrar *reg) {
#define PL__REGISTER(def)                                                                          \
    if (host->register_plugin(reg, &def) != 0)                                                     \
        return -1;
    PL__BUILTIN_PLUGINS(PL__REGISTER)
#undef PL__REGISTER
    return 0;
}
