/*
 * test-plugin-abi.c - the plugin ABI: every shipped layout pinned by offset, the shared types of
 * plugin.h and plinth.h agreeing (plugin.h is included first here, plinth.h first in
 * test-plugin-attrs.c), libraries built against the current header loading, libraries for a
 * newer ABI refused with a message naming both versions, and the loader's failure paths
 * (no entry point, a failing registration unwinding the whole library, duplicates, the same
 * file twice).
 */
#include "plinth/plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "harness.h"
#include "plugin/plugin-impl.h"

/* ABI 1, LP64. These numbers are a promise to every plugin binary ever built: never change one.
 * A new ABI appends fields after the last one and pins them here. */
#define PL_PIN(T, f, off) _Static_assert(offsetof(T, f) == (off), #T "." #f " moved")
PL_PIN(pl_host_api, size, 0);
PL_PIN(pl_host_api, abi, 4);
PL_PIN(pl_host_api, version, 8);
PL_PIN(pl_host_api, register_plugin, 16);
PL_PIN(pl_host_api, log, 24);
PL_PIN(pl_host_api, error, 32);
PL_PIN(pl_host_api, get_int, 40);
PL_PIN(pl_host_api, get_float, 48);
PL_PIN(pl_host_api, get_string, 56);
PL_PIN(pl_host_api, get_ints, 64);
PL_PIN(pl_host_api, get_floats, 72);
PL_PIN(pl_host_api, get_bytes, 80);
PL_PIN(pl_host_api, dim, 88);
PL_PIN(pl_host_api, op, 96);
PL_PIN(pl_host_api, size_tensor, 104);
PL_PIN(pl_host_api, set_output, 112);
PL_PIN(pl_host_api, set_launch, 120);
PL_PIN(pl_plugin_def, abi, 0);
PL_PIN(pl_plugin_def, flags, 4);
PL_PIN(pl_plugin_def, ns, 8);
PL_PIN(pl_plugin_def, name, 16);
PL_PIN(pl_plugin_def, version, 24);
PL_PIN(pl_plugin_def, doc, 32);
PL_PIN(pl_plugin_def, num_inputs, 40);
PL_PIN(pl_plugin_def, num_outputs, 44);
PL_PIN(pl_plugin_def, optional_inputs, 48);
PL_PIN(pl_plugin_def, types, 56);
PL_PIN(pl_plugin_def, formats, 64);
PL_PIN(pl_plugin_def, alias, 72);
PL_PIN(pl_plugin_def, tactics, 88);
PL_PIN(pl_plugin_def, attrs, 216);
PL_PIN(pl_plugin_def, outputs, 2776);
PL_PIN(pl_plugin_def, supports, 2784);
PL_PIN(pl_plugin_def, workspace, 2792);
PL_PIN(pl_plugin_def, cpu, 2800);
PL_PIN(pl_plugin_def, cuda, 2808);
PL_PIN(pl_plugin_def, cuda_source, 2816);
PL_PIN(pl_plugin_def, cuda_entry, 2824);
PL_PIN(pl_plugin_def, cuda_launch, 2832);
PL_PIN(pl_plugin_def, state_create, 2840);
PL_PIN(pl_plugin_def, state_destroy, 2848);
PL_PIN(pl_plugin_def, user, 2856);
PL_PIN(pl_plugin_def, user_free, 2864);
/* arrays of these live inside plugin binaries: their sizes are frozen forever */
PL_PIN(pl_attr_spec, name, 0);
PL_PIN(pl_attr_spec, type, 8);
PL_PIN(pl_attr_spec, required, 12);
PL_PIN(pl_attr_spec, i, 16);
PL_PIN(pl_attr_spec, f, 24);
PL_PIN(pl_attr_spec, s, 32);
PL_PIN(pl_attr_spec, ints, 40);
PL_PIN(pl_attr_spec, floats, 48);
PL_PIN(pl_attr_spec, bytes, 56);
PL_PIN(pl_attr_spec, count, 64);
PL_PIN(pl_attr_spec, doc, 72);
_Static_assert(sizeof(pl_attr_spec) == 80, "pl_attr_spec size is frozen");
PL_PIN(pl_tensor_view, data, 0);
PL_PIN(pl_tensor_view, dtype, 8);
PL_PIN(pl_tensor_view, rank, 12);
PL_PIN(pl_tensor_view, dims, 16);
_Static_assert(sizeof(pl_tensor_view) == 80, "pl_tensor_view size is frozen");
PL_PIN(pl_ctx, host, 0);
PL_PIN(pl_ctx, host_private, 8);
PL_PIN(pl_ctx, node, 16);
PL_PIN(pl_ctx, plugin, 24);
PL_PIN(pl_ctx, phase, 32);
PL_PIN(pl_ctx, nin, 36);
PL_PIN(pl_ctx, nout, 40);
PL_PIN(pl_ctx, tactic, 44);
PL_PIN(pl_ctx, in, 48);
PL_PIN(pl_ctx, out, 56);
PL_PIN(pl_ctx, workspace, 64);
PL_PIN(pl_ctx, workspace_size, 72);
PL_PIN(pl_ctx, stream, 80);
PL_PIN(pl_ctx, state, 88);
PL_PIN(pl_ctx, user, 96);
_Static_assert(PL_MAX_RANK == 8 && PL_PLUGIN_MAX_IO == 16 && PL_PLUGIN_MAX_ATTRS == 32 &&
               PL_PLUGIN_MAX_TACTICS == 16, "array bounds inside ABI structs are frozen");
_Static_assert(PL_FLOAT32 == 1 && PL_UINT8 == 2 && PL_INT8 == 3 && PL_INT32 == 6 && PL_INT64 == 7 &&
               PL_BOOL == 9 && PL_FLOAT16 == 10 && PL_FLOAT64 == 11 && PL_BFLOAT16 == 16,
               "dtype numbers are ONNX's");
_Static_assert(PL_ATTR_INT == 1 && PL_ATTR_FLOATS == 5 && PL_ATTR_BOOL == 7, "attr type numbers");
_Static_assert(PL_EXPR_ADD == 1 && PL_EXPR_LT == 9 && PL_PHASE_STATE == 5, "enum numbers");

#define LIB(name) PL_TEST_PLUGIN_DIR "/lib" name ".so"

static bool registered(const char *ns, const char *name) {
    return pl__plugin_exists(ns, name, NULL);
}

static void test_host_table(void) {
    pl_host_api small = pl__host_api;
    PL_CHECK(pl__host_api.size == sizeof(pl_host_api) && pl__host_api.abi == PL_PLUGIN_ABI);
    PL_CHECK(strcmp(pl__host_api.version, PL_VERSION_STRING) == 0);
    PL_CHECK(PL_HOST_HAS(&pl__host_api, set_launch) && PL_HOST_HAS(&pl__host_api, register_plugin));
    small.size = (uint32_t)offsetof(pl_host_api, set_output); /* an older, shorter host */
    PL_CHECK(!PL_HOST_HAS(&small, set_output) && PL_HOST_HAS(&small, size_tensor));
    /* built-ins come through the same entry point, without any load */
    PL_CHECK(registered("plinth", "assert_finite"));
}

static void test_current_abi_loads(void) {
    int before = pl_plugins_count();
    const char *ns, *name, *ver, *lib;
    bool seen = false;
    PL_CHECK_OK(pl_plugins_load(LIB("pl_test_plugins")));
    PL_CHECK(pl_plugins_count() == before + 8);
    for (int i = 0; i < pl_plugins_count(); i++) {
        PL_CHECK_OK(pl_plugins_get(i, &ns, &name, &ver, &lib));
        if (strcmp(ns, "test") == 0 && strcmp(name, "fail_kernel") == 0) {
            seen = true;
            PL_CHECK(strcmp(ver, "1") == 0 && strstr(lib, "libpl_test_plugins.so"));
        }
    }
    PL_CHECK(seen);
    PL_CHECK_FAILS(pl_plugins_get(pl_plugins_count(), &ns, &name, &ver, &lib), PL_ERR_NOT_FOUND,
                   NULL);
    /* the same file again, and a byte-identical copy elsewhere: no-ops */
    PL_CHECK_OK(pl_plugins_load(LIB("pl_test_plugins")));
    {
        char cmd[1024];
        snprintf(cmd, sizeof(cmd), "cp '%s' /tmp/pl-test-copy-%d.so", LIB("pl_test_plugins"),
                 (int)getpid());
        PL_CHECK(system(cmd) == 0);
        snprintf(cmd, sizeof(cmd), "/tmp/pl-test-copy-%d.so", (int)getpid());
        PL_CHECK_OK(pl_plugins_load(cmd));
        remove(cmd);
    }
    PL_CHECK(pl_plugins_count() == before + 8);
}

static void test_library_hash_recorded(void) {
    pl_network *net;
    pl_tensor x, y;
    uint64_t h = 0, want;
    FILE *f = fopen(LIB("pl_test_plugins"), "rb");
    static char buf[1 << 22];
    size_t n = f ? fread(buf, 1, sizeof(buf), f) : 0;
    if (f)
        fclose(f);
    want = XXH64(buf, n, 0);
    PL_CHECK(n > 0 && n < sizeof(buf));
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 1, (int64_t[]){4}, NULL, &x));
    PL_CHECK_OK(pl_network_add_plugin(net, "test", "fail_kernel", NULL, "f", &x, 1, NULL, 0, 1,
                                      NULL, &y));
    PL_CHECK(strcmp(pl__plugin_library(&net->layers[0], &h), "libpl_test_plugins.so") == 0);
    PL_CHECK(h == want);
    PL_CHECK(strcmp(net->layers[0].plugin_version, "1") == 0); /* newest, made exact */
    pl_network_free(net);
}

static void test_future_abi_refused(void) {
    int before = pl_plugins_count();
    /* library-level marker: refused before any of its code runs */
    PL_CHECK_FAILS(pl_plugins_load(LIB("pl_future_abi")), PL_ERR_VERSION, "plugin ABI 2");
    PL_CHECK(strstr(pl_errmsg(), "offers plugin ABI 1") != NULL);
    PL_CHECK(strstr(pl_errmsg(), "libpl_future_abi.so") != NULL);
    /* definition-level: the definition's abi field */
    PL_CHECK_FAILS(pl_plugins_load(LIB("pl_future_def")), PL_ERR_VERSION, "from_the_future");
    PL_CHECK(strstr(pl_errmsg(), "ABI 2") && strstr(pl_errmsg(), "offers plugin ABI 1"));
    PL_CHECK(pl_plugins_count() == before);
}

static void test_load_failures_unwind(void) {
    int before = pl_plugins_count();
    PL_CHECK_FAILS(pl_plugins_load(LIB("pl_broken_init")), PL_ERR_PLUGIN, "FP99");
    PL_CHECK(strstr(pl_errmsg(), "bad_types") != NULL);
    PL_CHECK(!registered("test", "would_register")); /* the good one was unwound too */
    PL_CHECK_FAILS(pl_plugins_load(LIB("pl_no_init")), PL_ERR_PLUGIN,
                   "does not export plinth_plugin_init");
    PL_CHECK_FAILS(pl_plugins_load("/nonexistent/libnothing.so"), PL_ERR_IO, "libnothing.so");
    PL_CHECK_FAILS(pl_plugins_load(PL_TEST_PLUGIN_DIR), PL_ERR_IO, "not a regular file");
    PL_CHECK_OK(pl_plugins_load(PL_SAMPLES_LIB));
    PL_CHECK(registered("sample", "circ_pad_plugin"));
    before = pl_plugins_count();
    PL_CHECK_FAILS(pl_plugins_load(LIB("pl_duplicate")), PL_ERR_PLUGIN, "already registered");
    PL_CHECK(strstr(pl_errmsg(), "sample::elemwise_add_plugin") &&
             strstr(pl_errmsg(), "libplinth_samples.so"));
    PL_CHECK(pl_plugins_count() == before);
}

static int freed;
static void count_free(void *p) { freed += p == (void *)&freed; }
static int nop_kernel(pl_ctx *c) { return c ? 0 : 1; }

static void test_application_registration(void) {
    pl_plugin_def def = {.ns = "app", .name = "nop", .num_inputs = 1, .num_outputs = 1,
                         .cpu = nop_kernel, .user = &freed, .user_free = count_free};
    /* abi left 0: refused, and the user data released anyway (SQLite's rule) */
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_VERSION, ".abi = PL_PLUGIN_ABI");
    PL_CHECK(freed == 1);
    def.abi = PL_PLUGIN_ABI;
    PL_CHECK_OK(pl_plugin_register(&def));
    PL_CHECK(registered("app", "nop") && freed == 1);
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_INVALID_ARG, "already registered");
    PL_CHECK(freed == 2);
    def.name = "bad name";
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_INVALID_ARG, "printable ASCII");
    def.name = "no_kernel";
    def.cpu = NULL;
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_INVALID_ARG, "no kernel");
    def.cpu = nop_kernel;
    def.alias[0] = PL_ALIAS(3);
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_INVALID_ARG, "PL_ALIAS(3)");
    def.alias[0] = 0;
    def.attrs[0] = (pl_attr_spec){.name = "plugin_namespace", .type = PL_ATTR_STRING};
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_INVALID_ARG, "reserved");
    def.attrs[0] = (pl_attr_spec){.name = "x", .type = PL_ATTR_INTS, .count = 2};
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_INVALID_ARG, "no values");
    def.attrs[0] = (pl_attr_spec){0};
    def.formats = "HWC8";
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_INVALID_ARG, "LINEAR");
    def.formats = NULL;
    def.flags = 4;
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_INVALID_ARG, "flags must be 0");
    def.flags = 0;
    def.tactics[0] = "a";
    def.tactics[1] = "a";
    PL_CHECK_FAILS(pl_plugin_register(&def), PL_ERR_INVALID_ARG, "listed twice");
    PL_CHECK(!registered("app", "no_kernel"));
}

int main(void) {
    PL_RUN(test_host_table);
    PL_RUN(test_current_abi_loads);
    PL_RUN(test_library_hash_recorded);
    PL_RUN(test_future_abi_refused);
    PL_RUN(test_load_failures_unwind);
    PL_RUN(test_application_registration);
    return pl_test_report();
}
