/*
 * test-plugin-e2e.c - plugins through the public API: build an engine, serialize it, load it,
 * execute. In-place chains (x + 2 through two aliased layers, input left intact), dynamic shapes,
 * the data-dependent non-zero output, tactic timing (the fast tactic wins and a timing cache
 * file is written and reused), per-context state, kernel failures during execution, and an
 * engine file loaded in a fresh process - with its plugin library (runs), and without it
 * (refused with a message naming the plugin and the library it was built with).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define LIB(name) PL_TEST_PLUGIN_DIR "/lib" name ".so"
#define CHECKED(call)                                                                              \
    do {                                                                                           \
        pl_status s_ = (call);                                                                     \
        PL_CHECK_OK(s_);                                                                           \
        if (s_)                                                                                    \
            goto done;                                                                             \
    } while (0)

static char self[1024], tmpdir[256];

typedef struct built {
    pl_engine *engine;
    pl_context *ctx;
} built;

static pl_status build(const pl_network *net, pl_builder_config *cfg, built *b, const char *save) {
    void *plan = NULL;
    size_t size = 0;
    pl_builder_config *own = NULL;
    pl_status s;
    memset(b, 0, sizeof(*b));
    if (!cfg && (s = pl_builder_config_create(&own)))
        return s;
    s = pl_build_serialized(net, cfg ? cfg : own, &plan, &size);
    if (!s && save) {
        FILE *f = fopen(save, "wb");
        if (!f || fwrite(plan, 1, size, f) != size)
            s = PL_ERR_IO;
        if (f)
            fclose(f);
    }
    if (!s)
        s = pl_engine_load(plan, size, &b->engine);
    if (!s)
        s = pl_context_create(b->engine, &b->ctx);
    pl_free(plan);
    pl_builder_config_free(own);
    return s;
}

static void release(built *b) {
    pl_context_free(b->ctx);
    pl_engine_free(b->engine);
    b->ctx = NULL;
    b->engine = NULL;
}

static void test_inplace_chain(void) {
    float x[12], keep[12], y[12] = {0};
    pl_network *net = NULL;
    pl_tensor t[3];
    built b = {0};
    pl_test_fill_uniform(x, 12, -3.f, 3.f, 21);
    memcpy(keep, x, sizeof(x));
    CHECKED(pl_network_create(&net));
    CHECKED(pl_network_add_input(net, "x", PL_FLOAT32, 2, (int64_t[]){3, 4}, NULL, &t[0]));
    CHECKED(pl_network_add_plugin(net, "sample", "elemwise_add_plugin_", NULL, "add1", &t[0], 1,
                                  NULL, 0, 1, NULL, &t[1]));
    CHECKED(pl_network_add_plugin(net, "sample", "elemwise_add_plugin_", NULL, "add2", &t[1], 1,
                                  NULL, 0, 1, (const char *[]){"y"}, &t[2]));
    CHECKED(pl_network_mark_output(net, t[2]));
    CHECKED(build(net, NULL, &b, NULL));
    CHECKED(pl_context_set_tensor(b.ctx, "x", x, PL_MEMORY_HOST, sizeof(x)));
    CHECKED(pl_context_set_tensor(b.ctx, "y", y, PL_MEMORY_HOST, sizeof(y)));
    CHECKED(pl_context_execute(b.ctx));
    for (int i = 0; i < 12; i++)
        PL_CHECK(y[i] == keep[i] + 2.f && x[i] == keep[i]);
done:
    release(&b);
    pl_network_free(net);
}

static void test_dynamic_shapes(void) {
    float x[4 * 9], y[4 * 9];
    pl_network *net = NULL;
    pl_builder_config *cfg = NULL;
    pl_tensor t[2];
    built b = {0};
    int rank;
    int64_t dims[8];
    pl_test_fill_uniform(x, 36, -1.f, 1.f, 3);
    CHECKED(pl_network_create(&net));
    CHECKED(pl_network_add_input(net, "x", PL_FLOAT32, 2, (int64_t[]){-1, 9}, NULL, &t[0]));
    CHECKED(pl_network_add_plugin(net, "sample", "elemwise_add_plugin", NULL, "add", &t[0], 1,
                                  (pl_attr[]){PL_ATTR_I("block_size", 8)}, 1, 1,
                                  (const char *[]){"y"}, &t[1]));
    CHECKED(pl_network_mark_output(net, t[1]));
    CHECKED(pl_builder_config_create(&cfg));
    CHECKED(pl_builder_config_set_shape(cfg, "x", 2, (int64_t[]){1, 9}, (int64_t[]){2, 9},
                                        (int64_t[]){4, 9}));
    CHECKED(build(net, cfg, &b, NULL));
    for (int rows = 1; rows <= 4; rows += 3) {
        memset(y, 0, sizeof(y));
        CHECKED(pl_context_set_input_shape(b.ctx, "x", 2, (int64_t[]){rows, 9}));
        CHECKED(pl_context_set_tensor(b.ctx, "x", x, PL_MEMORY_HOST, sizeof(x)));
        CHECKED(pl_context_set_tensor(b.ctx, "y", y, PL_MEMORY_HOST, sizeof(y)));
        CHECKED(pl_context_execute(b.ctx));
        CHECKED(pl_context_get_shape(b.ctx, "y", &rank, dims));
        PL_CHECK(rank == 2 && dims[0] == rows && dims[1] == 9);
        for (int i = 0; i < rows * 9; i++)
            PL_CHECK(y[i] == x[i] + 1.f);
    }
done:
    release(&b);
    pl_builder_config_free(cfg);
    pl_network_free(net);
}

/* An FP64 input to a plugin accepting FP32|FP16: the builder inserts a cast. */
static void test_cast_to_accepted_type(void) {
    double x[5] = {-2.5, 0, 1, 1e3, 0.125};
    float y[5] = {0};
    pl_network *net = NULL;
    pl_tensor t[2];
    built b = {0};
    CHECKED(pl_network_create(&net));
    CHECKED(pl_network_add_input(net, "x", PL_FLOAT64, 1, (int64_t[]){5}, NULL, &t[0]));
    CHECKED(pl_network_add_plugin(net, "sample", "elemwise_add_plugin", NULL, "add", &t[0], 1,
                                  NULL, 0, 1, (const char *[]){"y"}, &t[1]));
    CHECKED(pl_network_mark_output(net, t[1]));
    CHECKED(build(net, NULL, &b, NULL));
    CHECKED(pl_context_set_tensor(b.ctx, "x", x, PL_MEMORY_HOST, sizeof(x)));
    CHECKED(pl_context_set_tensor(b.ctx, "y", y, PL_MEMORY_HOST, sizeof(y)));
    CHECKED(pl_context_execute(b.ctx));
    for (int i = 0; i < 5; i++)
        PL_CHECK(y[i] == (float)x[i] + 1.f);
done:
    release(&b);
    pl_network_free(net);
}

static void test_non_zero_size_tensor(void) {
    float x[20] = {0};
    int32_t idx[40], count = -1;
    pl_network *net = NULL;
    pl_tensor t[3];
    built b = {0};
    int rank = 0, n = 0;
    int64_t dims[8];
    x[3] = 1.f, x[7] = -2.f, x[19] = 0.25f;
    CHECKED(pl_network_create(&net));
    CHECKED(pl_network_add_input(net, "x", PL_FLOAT32, 2, (int64_t[]){4, 5}, NULL, &t[0]));
    CHECKED(pl_network_add_plugin(net, "sample", "non_zero_plugin", NULL, "nz", &t[0], 1, NULL, 0,
                                  2, (const char *[]){"idx", "count"}, &t[1]));
    CHECKED(pl_network_mark_output(net, t[1]));
    CHECKED(pl_network_mark_output(net, t[2]));
    CHECKED(build(net, NULL, &b, NULL));
    CHECKED(pl_context_get_shape(b.ctx, "idx", &rank, dims));
    PL_CHECK(rank == 2 && dims[0] == 20 && dims[1] == 2); /* the upper bound before execution */
    CHECKED(pl_context_set_tensor(b.ctx, "x", x, PL_MEMORY_HOST, sizeof(x)));
    CHECKED(pl_context_set_tensor(b.ctx, "idx", idx, PL_MEMORY_HOST, sizeof(idx)));
    CHECKED(pl_context_set_tensor(b.ctx, "count", &count, PL_MEMORY_HOST, sizeof(count)));
    CHECKED(pl_context_execute(b.ctx));
    CHECKED(pl_context_get_shape(b.ctx, "idx", &rank, dims));
    PL_CHECK(rank == 2 && dims[0] == 3 && dims[1] == 2 && count == 3);
    for (int i = 0; i < 20; i++)
        if (x[i] != 0.f && n < 3) {
            PL_CHECK(idx[2 * n] == i / 5 && idx[2 * n + 1] == i % 5);
            n++;
        }
done:
    release(&b);
    pl_network_free(net);
}

static char logged[4096];
static void capture_log(void *user, pl_log_severity sev, const char *msg) {
    (void)user;
    (void)sev;
    if (strlen(logged) + strlen(msg) + 2 < sizeof(logged)) {
        strcat(logged, msg);
        strcat(logged, "\n");
    }
}

/* The number the builder logs before " from the timing cache" (-1 if absent). */
static int cache_hits(void) {
    const char *p = strstr(logged, " from the timing cache");
    while (p && p > logged && p[-1] >= '0' && p[-1] <= '9')
        p--;
    return p ? atoi(p) : -1;
}

static void test_tactics_and_timing_cache(void) {
    static float x[64 * 64], y[68 * 66];
    char cache[512];
    pl_network *net = NULL;
    pl_builder_config *cfg = NULL;
    pl_tensor t[3];
    built b = {0};
    pl_layer_info info;
    FILE *f;
    long size = 0;
    snprintf(cache, sizeof(cache), "%s/timing.cache", tmpdir);
    pl_test_fill_uniform(x, 64 * 64, -1.f, 1.f, 9);
    CHECKED(pl_network_create(&net));
    CHECKED(pl_network_add_input(net, "x", PL_FLOAT32, 2, (int64_t[]){64, 64}, NULL, &t[0]));
    CHECKED(pl_network_add_plugin(net, "test", "tactics", NULL, "twice", &t[0], 1, NULL, 0, 1,
                                  NULL, &t[1]));
    CHECKED(pl_network_add_plugin(net, "sample", "circ_pad_plugin", NULL, "pad", &t[1], 1,
                                  (pl_attr[]){PL_ATTR_INTS("pads", ((int64_t[]){1, 1, 2, 2}), 4)},
                                  1, 1, (const char *[]){"y"}, &t[2]));
    CHECKED(pl_network_mark_output(net, t[2]));
    for (int round = 0; round < 2; round++) {
        CHECKED(pl_builder_config_create(&cfg));
        CHECKED(pl_builder_config_set_timing_cache(cfg, cache));
        logged[0] = '\0';
        pl_set_logger(capture_log, NULL, PL_LOG_INFO);
        CHECKED(build(net, cfg, &b, NULL));
        pl_set_logger(NULL, NULL, PL_LOG_WARNING);
        /* both multi-tactic layers are timed in the first build and come from the cache after */
        PL_CHECK(cache_hits() == (round ? 2 : 0));
        for (int i = 0; i < pl_engine_num_layers(b.engine); i++) {
            CHECKED(pl_engine_layer(b.engine, i, &info));
            if (strcmp(info.name, "twice") == 0)
                PL_CHECK(strstr(info.kernel, "fast") != NULL); /* 400x less work than "slow" */
            if (strcmp(info.name, "pad") == 0)
                PL_CHECK(strstr(info.kernel, "gather") || strstr(info.kernel, "rows"));
        }
        CHECKED(pl_context_set_tensor(b.ctx, "x", x, PL_MEMORY_HOST, sizeof(x)));
        CHECKED(pl_context_set_tensor(b.ctx, "y", y, PL_MEMORY_HOST, sizeof(y)));
        CHECKED(pl_context_execute(b.ctx));
        /* y[r][c] = 2 * x[(r - 2) mod 64][(c - 1) mod 64] */
        for (int r = 0; r < 68; r += 7)
            for (int c = 0; c < 66; c += 5)
                PL_CHECK(y[r * 66 + c] == 2.f * x[((r + 62) % 64) * 64 + (c + 63) % 64]);
        release(&b);
        pl_builder_config_free(cfg);
        cfg = NULL;
        f = fopen(cache, "rb");
        PL_CHECK(f != NULL);
        if (f) {
            fseek(f, 0, SEEK_END);
            size = ftell(f);
            fclose(f);
        }
        PL_CHECK(size > 0);
    }
done:
    release(&b);
    pl_builder_config_free(cfg);
    pl_network_free(net);
}

static void test_state_and_failures(void) {
    float x[4] = {1, 2, 3, 4}, y[4];
    pl_network *net = NULL;
    pl_tensor t[2];
    built b = {0};
    CHECKED(pl_network_create(&net));
    CHECKED(pl_network_add_input(net, "x", PL_FLOAT32, 1, (int64_t[]){4}, NULL, &t[0]));
    CHECKED(pl_network_add_plugin(net, "test", "stateful", NULL, "st", &t[0], 1, NULL, 0, 1, NULL,
                                  &t[1]));
    CHECKED(pl_network_add_plugin(net, "test", "fail_kernel", NULL, "guard", &t[1], 1, NULL, 0, 1,
                                  (const char *[]){"y"}, &t[0]));
    CHECKED(pl_network_mark_output(net, t[0]));
    CHECKED(build(net, NULL, &b, NULL));
    CHECKED(pl_context_set_tensor(b.ctx, "x", x, PL_MEMORY_HOST, sizeof(x)));
    CHECKED(pl_context_set_tensor(b.ctx, "y", y, PL_MEMORY_HOST, sizeof(y)));
    /* the state counts executions of this context: x + 1, then x + 2 */
    for (int run = 1; run <= 2; run++) {
        CHECKED(pl_context_execute(b.ctx));
        PL_CHECK(y[0] == x[0] + (float)run && y[3] == x[3] + (float)run);
    }
    x[2] = -10.f; /* -10 + 3 < 0: the guard plugin fails, naming itself; nothing aborts */
    PL_CHECK_FAILS(pl_context_execute(b.ctx), PL_ERR_PLUGIN,
                   "node 'guard' (plugin 'test::fail_kernel'): value -7 at index 2 is negative");
done:
    release(&b);
    pl_network_free(net);
}

/* Child process: load ENGINE (with the samples library or without) and run it. */
static int child(const char *engine_path, bool with_lib) {
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {0};
    pl_engine *e = NULL;
    pl_context *c = NULL;
    pl_status s;
    if (with_lib && pl_plugins_load(PL_SAMPLES_LIB))
        return fprintf(stderr, "child: %s\n", pl_errmsg()), 2;
    s = pl_engine_load_file(engine_path, &e);
    if (!with_lib) {
        bool ok = s == PL_ERR_PLUGIN && strstr(pl_errmsg(), "sample::elemwise_add_plugin_") &&
                  strstr(pl_errmsg(), "libplinth_samples.so");
        if (!ok)
            fprintf(stderr, "child: unexpected: %s: %s\n", pl_status_name(s), pl_errmsg());
        pl_engine_free(e);
        return ok ? 0 : 3;
    }
    if (s || pl_context_create(e, &c) ||
        pl_context_set_tensor(c, "x", x, PL_MEMORY_HOST, sizeof(x)) ||
        pl_context_set_tensor(c, "y", y, PL_MEMORY_HOST, sizeof(y)) || pl_context_execute(c))
        return fprintf(stderr, "child: %s\n", pl_errmsg()), 4;
    for (int i = 0; i < 6; i++)
        if (y[i] != x[i] + 2.f)
            return fprintf(stderr, "child: y[%d] = %g\n", i, (double)y[i]), 5;
    pl_context_free(c);
    pl_engine_free(e);
    return 0;
}

static int spawn(const char *engine, const char *mode) {
    pid_t pid = fork();
    int status = -1;
    if (pid == 0) {
        execl(self, self, "--child", engine, mode, (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_fresh_process(void) {
    char path[512];
    pl_network *net = NULL;
    pl_tensor t[3];
    built b = {0};
    snprintf(path, sizeof(path), "%s/inplace.plan", tmpdir);
    CHECKED(pl_network_create(&net));
    CHECKED(pl_network_add_input(net, "x", PL_FLOAT32, 2, (int64_t[]){2, 3}, NULL, &t[0]));
    CHECKED(pl_network_add_plugin(net, "sample", "elemwise_add_plugin_", NULL, "a1", &t[0], 1,
                                  NULL, 0, 1, NULL, &t[1]));
    CHECKED(pl_network_add_plugin(net, "sample", "elemwise_add_plugin_", NULL, "a2", &t[1], 1,
                                  NULL, 0, 1, (const char *[]){"y"}, &t[2]));
    CHECKED(pl_network_mark_output(net, t[2]));
    CHECKED(build(net, NULL, &b, path));
    PL_CHECK(spawn(path, "with-lib") == 0);
    PL_CHECK(spawn(path, "without-lib") == 0);
done:
    release(&b);
    pl_network_free(net);
}

int main(int argc, char **argv) {
    ssize_t n;
    if (argc == 4 && strcmp(argv[1], "--child") == 0)
        return child(argv[2], strcmp(argv[3], "with-lib") == 0);
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = '\0';
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/plinth-plugin-e2e-%d", (int)getpid());
    if (mkdir(tmpdir, 0777) != 0 || pl_plugins_load(PL_SAMPLES_LIB) ||
        pl_plugins_load(LIB("pl_test_plugins"))) {
        fprintf(stderr, "setup failed: %s\n", pl_errmsg());
        return 1;
    }
    PL_RUN(test_inplace_chain);
    PL_RUN(test_dynamic_shapes);
    PL_RUN(test_cast_to_accepted_type);
    PL_RUN(test_non_zero_size_tensor);
    PL_RUN(test_tactics_and_timing_cache);
    PL_RUN(test_state_and_failures);
    PL_RUN(test_fresh_process);
    {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return pl_test_report();
}
