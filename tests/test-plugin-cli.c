/*
 * test-plugin-cli.c - `plinth plugin new` and `plinth plugin list`: scaffold a plugin into a
 * temporary folder, build it with cmake using only include/plinth/plugin.h, load the library,
 * run the plugin through the public API against the template's formula, run the scaffold's own
 * test (which links libplinth), and check the command's user errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "graph/graph.h"
#include "plugin-test-util.h"

int pl__cli_plugin(int argc, char **argv);

static char tmp[256];

static int cli(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4) {
    char *argv[] = {(char *)"plugin", (char *)a0, (char *)a1, (char *)a2, (char *)a3, (char *)a4,
                    NULL};
    int argc = 1;
    while (argv[argc])
        argc++;
    fflush(stdout);
    return pl__cli_plugin(argc, argv);
}

static int sh(const char *fmt, const char *a, const char *b) {
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), fmt, a, b);
    return system(cmd);
}

static void test_scaffold_builds_and_runs(void) {
    char lib[512], path[512];
    float x[4] = {-1.f, 0.f, 2.f, 3.5f};
    pl__tview in = {x, PL_FLOAT32, 1, {4}}, out;
    pl_network *net;
    pl_tensor xt, y;
    PL_CHECK(cli("new", "acme::scale_bias", "--dir", tmp, NULL) == 0);
    snprintf(path, sizeof(path), "%s/scale_bias/scale_bias.cu", tmp);
    PL_CHECK(access(path, R_OK) == 0);
    snprintf(path, sizeof(path), "%s/scale_bias/test_scale_bias.c", tmp);
    PL_CHECK(access(path, R_OK) == 0);
    /* the plugin builds as is, against plugin.h alone, without CUDA ... */
    PL_CHECK(sh("'" PL_CMAKE "' -S %s/scale_bias -B %s/build -DCMAKE_C_COMPILER=" PL_C_COMPILER
                " -DCMAKE_CUDA_COMPILER=NOTFOUND -DCMAKE_BUILD_TYPE=Release" PL_SCAFFOLD_FLAGS " > /dev/null", tmp,
                tmp) == 0);
    PL_CHECK(sh("'" PL_CMAKE "' --build %s/build%s > /dev/null", tmp, "") == 0);
    /* ... and with its CUDA kernel where nvcc exists */
    if (system("command -v nvcc > /dev/null 2>&1") == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "'%s' -S %s/scale_bias -B %s/build-cuda "
                 "-DCMAKE_CUDA_ARCHITECTURES=90" PL_SCAFFOLD_FLAGS " > /dev/null && '%s' --build %s/build-cuda "
                 "--target scale_bias > /dev/null", PL_CMAKE, tmp, tmp, PL_CMAKE, tmp);
        PL_CHECK(system(cmd) == 0);
    } else {
        printf("skipped: building the scaffold's CUDA kernel (no nvcc)\n");
    }
    snprintf(lib, sizeof(lib), "%s/build/libscale_bias.so", tmp);
    PL_CHECK_OK(pl_plugins_load(lib));
    PL_CHECK(pl__plugin_exists("acme", "scale_bias", "1"));
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 1, (int64_t[]){4}, NULL, &xt));
    PL_CHECK_OK(pl_network_add_plugin(net, "acme", "scale_bias", NULL, "sb", &xt, 1,
                                      (pl_attr[]){PL_ATTR_F("scale", 3.0), PL_ATTR_I("bias", 1)},
                                      2, 1, NULL, &y));
    PL_CHECK_OK(pl_test_run_layer(net, 0, &in, &out, 0));
    for (int i = 0; out.data && i < 4; i++)
        PL_CHECK(((float *)out.data)[i] == x[i] * 3.f + 1.f);
    pl_test_free_views(&out, 1);
    pl_network_free(net);
    /* the scaffold's own test: build, load and run through libplinth (a separate process) */
    PL_CHECK(sh("cd %s/build && '" PL_CMAKE "' --build . --target test_scale_bias > /dev/null && "
                "./test_scale_bias ./libscale_bias.so%s", tmp, "") == 0);
    PL_CHECK(cli("list", "--plugins", lib, "-v", NULL) == 0);
}

static void test_cli_errors(void) {
    PL_CHECK(cli("new", "acme::scale_bias", "--dir", tmp, NULL) == 1); /* exists */
    PL_CHECK(cli("new", "acme::scale_bias", "--dir", tmp, "--force") == 0);
    PL_CHECK(cli("new", "bad-name", "--dir", tmp, NULL) == 1);
    PL_CHECK(cli("new", "9lives", NULL, NULL, NULL) == 1);
    PL_CHECK(cli("new", NULL, NULL, NULL, NULL) == 1);
    PL_CHECK(cli("frobnicate", NULL, NULL, NULL, NULL) == 1);
    PL_CHECK(cli("list", "--plugins", "/nonexistent.so", NULL, NULL) == 1);
    PL_CHECK(cli("list", "stray", NULL, NULL, NULL) == 1);
    PL_CHECK(cli("list", NULL, NULL, NULL, NULL) == 0);
}

int main(void) {
    snprintf(tmp, sizeof(tmp), "/tmp/plinth-plugin-cli-%d", (int)getpid());
    PL_RUN(test_scaffold_builds_and_runs);
    PL_RUN(test_cli_errors);
    sh("rm -rf '%s'%s", tmp, "");
    return pl_test_report();
}
