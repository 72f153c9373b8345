/*
 * test-runtime.c - the C API end to end on the CPU: build, serialize, load (memory and mapped
 * file), introspect, execute with static and dynamic shapes, profile bounds, concurrent contexts,
 * constant folding and fusion effects, and misuse errors.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* y = relu(x + c) + x, with c a constant of shape [1, C, 1, 1] broadcast over x [N, C, H, W] */
static pl_network *make_net(int64_t n_dim) {
    pl_network *net = NULL;
    pl_tensor x, c, s, r, y, in2[2];
    int64_t dims[4] = {n_dim, 3, 4, 5}, cd[4] = {1, 3, 1, 1};
    float cv[3] = {-0.5f, 0.0f, 0.25f};
    const char *names[4] = {"N", NULL, NULL, NULL};
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 4, dims, names, &x));
    PL_CHECK_OK(pl_network_add_constant(net, "c", PL_FLOAT32, 4, cd, cv, &c));
    in2[0] = x;
    in2[1] = c;
    PL_CHECK_OK(pl_network_add_layer(net, "Add", "add1", in2, 2, NULL, 0, 1, NULL, &s));
    PL_CHECK_OK(pl_network_add_layer(net, "Relu", "relu1", &s, 1, NULL, 0, 1, NULL, &r));
    in2[0] = r;
    in2[1] = x;
    PL_CHECK_OK(pl_network_add_layer(net, "Add", "add2", in2, 2, NULL, 0, 1, (const char *[]){"y"}, &y));
    PL_CHECK_OK(pl_network_mark_output(net, y));
    return net;
}

static void reference(const float *x, float *y, int64_t n) {
    static const float cv[3] = {-0.5f, 0.0f, 0.25f};
    for (int64_t i = 0; i < n * 60; i++) {
        float v = x[i] + cv[(i / 20) % 3];
        y[i] = (v > 0 ? v : 0) + x[i];
    }
}

static void *build(pl_network *net, size_t *size, int64_t mn, int64_t opt, int64_t mx) {
    pl_builder_config *cfg = NULL;
    void *data = NULL;
    int64_t a[4] = {mn, 3, 4, 5}, b[4] = {opt, 3, 4, 5}, c[4] = {mx, 3, 4, 5};
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    if (mn > 0)
        PL_CHECK_OK(pl_builder_config_set_shape(cfg, "x", 4, a, b, c));
    PL_CHECK_OK(pl_build_serialized(net, cfg, &data, size));
    pl_builder_config_free(cfg);
    return data;
}

static int run_once(pl_engine *e, int64_t n, uint64_t seed) {
    pl_context *ctx = NULL;
    float *x = malloc(sizeof(float) * (size_t)(n * 60)), *y = calloc((size_t)(n * 60), sizeof(float)),
          *ref = malloc(sizeof(float) * (size_t)(n * 60));
    int64_t dims[4] = {n, 3, 4, 5}, got[8];
    int rank = 0, ok = 0;
    pl_test_fill_uniform(x, n * 60, -1, 1, seed);
    reference(x, ref, n);
    if (pl_context_create(e, &ctx) == PL_OK &&
        pl_context_set_input_shape(ctx, "x", 4, dims) == PL_OK &&
        pl_context_get_shape(ctx, "y", &rank, got) == PL_OK && rank == 4 && got[0] == n &&
        pl_context_set_tensor(ctx, "x", x, PL_MEMORY_HOST, sizeof(float) * (size_t)(n * 60)) == PL_OK &&
        pl_context_set_tensor(ctx, "y", y, PL_MEMORY_HOST, sizeof(float) * (size_t)(n * 60)) == PL_OK &&
        pl_context_execute(ctx) == PL_OK)
        ok = pl_test_allclose("y", y, ref, n * 60, 1e-6, 1e-6);
    else
        fprintf(stderr, "run_once: %s\n", pl_errmsg());
    pl_context_free(ctx);
    free(x);
    free(y);
    free(ref);
    return ok;
}

static void test_static_round_trip(void) {
    pl_network *net = make_net(2);
    size_t size = 0;
    void *data = build(net, &size, 0, 0, 0);
    pl_engine *e = NULL;
    pl_io_info io;
    char path[] = "/tmp/plinth-test-XXXXXX";
    int fd;
    PL_CHECK(data && size > 0);
    PL_CHECK_OK(pl_engine_load(data, size, &e));
    PL_CHECK(pl_engine_num_io(e) == 2);
    PL_CHECK_OK(pl_engine_io(e, 0, &io));
    PL_CHECK(io.is_input && strcmp(io.name, "x") == 0 && io.rank == 4 && io.dims[0] == 2);
    PL_CHECK_OK(pl_engine_io(e, 1, &io));
    PL_CHECK(!io.is_input && strcmp(io.name, "y") == 0 && io.dtype == PL_FLOAT32);
    PL_CHECK(pl_engine_metadata(e, "producer") != NULL);
    PL_CHECK(pl_engine_metadata(e, "device") && strcmp(pl_engine_metadata(e, "device"), "cpu") == 0);
    PL_CHECK(run_once(e, 2, 1));
    pl_engine_free(e);
    /* the same bytes through a mapped file */
    fd = mkstemp(path);
    PL_CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size);
    close(fd);
    e = NULL;
    PL_CHECK_OK(pl_engine_load_file(path, &e));
    PL_CHECK(e && run_once(e, 2, 2));
    pl_engine_free(e);
    unlink(path);
    pl_free(data);
    pl_network_free(net);
}

static void test_dynamic_profile(void) {
    pl_network *net = make_net(-1);
    size_t size = 0;
    void *data = build(net, &size, 1, 4, 8);
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    pl_io_info io;
    int64_t bad[4] = {9, 3, 4, 5};
    PL_CHECK_OK(pl_engine_load(data, size, &e));
    PL_CHECK_OK(pl_engine_io(e, 0, &io));
    PL_CHECK(io.dims[0] == -1 && io.min_dims[0] == 1 && io.max_dims[0] == 8);
    PL_CHECK(run_once(e, 1, 3));
    PL_CHECK(run_once(e, 5, 4));
    PL_CHECK(run_once(e, 8, 5));
    PL_CHECK_OK(pl_context_create(e, &ctx));
    PL_CHECK_FAILS(pl_context_set_input_shape(ctx, "x", 4, bad), PL_ERR_SHAPE, "outside the profile");
    PL_CHECK_FAILS(pl_context_set_input_shape(ctx, "nope", 4, bad), PL_ERR_NOT_FOUND, "nope");
    PL_CHECK_FAILS(pl_context_execute(ctx), PL_ERR_SHAPE, "set its shape");
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(data);
    pl_network_free(net);
}

typedef struct worker {
    pl_engine *e;
    int ok;
    int id;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    w->ok = 1;
    for (int i = 0; i < 20; i++)
        w->ok &= run_once(w->e, 1 + (w->id + i) % 8, (uint64_t)(w->id * 100 + i));
    return NULL;
}

static void test_concurrent_contexts(void) {
    pl_network *net = make_net(-1);
    size_t size = 0;
    void *data = build(net, &size, 1, 4, 8);
    pl_engine *e = NULL;
    pthread_t th[4];
    worker w[4];
    PL_CHECK_OK(pl_engine_load(data, size, &e));
    for (int i = 0; i < 4; i++) {
        w[i].e = e;
        w[i].id = i;
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        PL_CHECK(w[i].ok);
    }
    pl_engine_free(e);
    pl_free(data);
    pl_network_free(net);
}

static void test_constant_folding(void) {
    /* out = x + (relu(c1) + c2): the bracket folds to one constant at build */
    pl_network *net = NULL;
    pl_tensor x, c1, c2, r, s, y, in2[2];
    int64_t d[1] = {4};
    float v1[4] = {-1, 2, -3, 4}, v2[4] = {10, 20, 30, 40}, xv[4] = {1, 1, 1, 1}, yv[4] = {0};
    size_t size;
    void *data;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 1, d, NULL, &x));
    PL_CHECK_OK(pl_network_add_constant(net, "c1", PL_FLOAT32, 1, d, v1, &c1));
    PL_CHECK_OK(pl_network_add_constant(net, "c2", PL_FLOAT32, 1, d, v2, &c2));
    PL_CHECK_OK(pl_network_add_layer(net, "Relu", "r", &c1, 1, NULL, 0, 1, NULL, &r));
    in2[0] = r;
    in2[1] = c2;
    PL_CHECK_OK(pl_network_add_layer(net, "Add", "s", in2, 2, NULL, 0, 1, NULL, &s));
    in2[0] = x;
    in2[1] = s;
    PL_CHECK_OK(pl_network_add_layer(net, "Add", "y", in2, 2, NULL, 0, 1, NULL, &y));
    PL_CHECK_OK(pl_network_mark_output(net, y));
    data = build(net, &size, 0, 0, 0);
    PL_CHECK_OK(pl_engine_load(data, size, &e));
    PL_CHECK(pl_engine_num_layers(e) == 1);
    PL_CHECK_OK(pl_context_create(e, &ctx));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "x", xv, PL_MEMORY_HOST, sizeof(xv)));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "y", yv, PL_MEMORY_HOST, sizeof(yv)));
    PL_CHECK_OK(pl_context_execute(ctx));
    PL_CHECK(yv[0] == 11 && yv[1] == 23 && yv[2] == 31 && yv[3] == 45);
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(data);
    pl_network_free(net);
}

static void test_api_errors(void) {
    pl_network *net = NULL;
    pl_tensor x, y;
    int64_t d[2] = {2, 2};
    pl_builder_config *cfg = NULL;
    void *data = NULL;
    size_t size = 0;
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 2, d, NULL, &x));
    PL_CHECK_FAILS(pl_network_add_input(net, "x", PL_FLOAT32, 2, d, NULL, &y), PL_ERR_INVALID_ARG, "already used");
    PL_CHECK_FAILS(pl_network_add_layer(net, "NoSuchOp", "n1", &x, 1, NULL, 0, 1, NULL, &y), PL_ERR_UNSUPPORTED, "NoSuchOp");
    PL_CHECK_FAILS(pl_network_add_layer(net, "Relu", "n2", &x, 1, NULL, 0, 3, NULL, (pl_tensor[3]){0}), PL_ERR_INVALID_ARG, "outputs");
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    PL_CHECK_FAILS(pl_build_serialized(net, cfg, &data, &size), PL_ERR_INVALID_ARG, "no outputs");
    PL_CHECK_FAILS(pl_builder_config_set_shape(cfg, "x", 2, (int64_t[]){3, 2}, (int64_t[]){2, 2}, (int64_t[]){4, 2}),
                   PL_ERR_INVALID_ARG, "min <= opt <= max");
    PL_CHECK_FAILS(pl_engine_load("garbage!", 8, &(pl_engine *){NULL}), PL_ERR_FORMAT, NULL);
    PL_CHECK_FAILS(pl_engine_load_file("/nonexistent/x.engine", &(pl_engine *){NULL}), PL_ERR_IO, "/nonexistent/x.engine");
    PL_CHECK(strcmp(pl_status_name(PL_ERR_SHAPE), "PL_ERR_SHAPE") == 0);
    pl_builder_config_free(cfg);
    pl_network_free(net);
    pl_network_free(NULL);
    pl_engine_free(NULL);
    pl_context_free(NULL);
}

/* y = Reshape(x, s) with the target shape s fed as a graph input (a shape tensor). */
static void test_shape_tensor_input(void) {
    pl_network *net = NULL;
    pl_tensor x, sh, y, in2[2];
    int64_t xd[2] = {2, 6}, sd[1] = {2}, lo[2] = {1, 1}, hi[2] = {12, 12};
    int64_t sv[2] = {4, 3}, got[8];
    float xv[12], yv[12] = {0};
    pl_builder_config *cfg = NULL;
    void *data = NULL;
    size_t size = 0;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    int rank = 0;
    for (int i = 0; i < 12; i++)
        xv[i] = (float)i;
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 2, xd, NULL, &x));
    PL_CHECK_OK(pl_network_add_input(net, "s", PL_INT64, 1, sd, NULL, &sh));
    in2[0] = x;
    in2[1] = sh;
    PL_CHECK_OK(pl_network_add_layer(net, "Reshape", "r", in2, 2, NULL, 0, 1, (const char *[]){"y"}, &y));
    PL_CHECK_OK(pl_network_mark_output(net, y));
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    PL_CHECK_FAILS(pl_build_serialized(net, cfg, &data, &size), PL_ERR_UNSUPPORTED, "set_shape_values");
    PL_CHECK_OK(pl_builder_config_set_shape_values(cfg, "s", 2, (int64_t[]){3, 4}, (int64_t[]){3, 4}, (int64_t[]){3, 4}));
    PL_CHECK_FAILS(pl_builder_config_set_shape_values(cfg, "s", 2, hi, lo, hi), PL_ERR_INVALID_ARG, "min <= opt <= max");
    PL_CHECK_OK(pl_build_serialized(net, cfg, &data, &size));
    PL_CHECK_OK(pl_engine_load(data, size, &e));
    PL_CHECK_OK(pl_context_create(e, &ctx));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "x", xv, PL_MEMORY_HOST, sizeof(xv)));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "s", sv, PL_MEMORY_HOST, sizeof(sv)));
    PL_CHECK_OK(pl_context_get_shape(ctx, "y", &rank, got));
    PL_CHECK(rank == 2 && got[0] == 4 && got[1] == 3);
    PL_CHECK_OK(pl_context_set_tensor(ctx, "y", yv, PL_MEMORY_HOST, sizeof(yv)));
    PL_CHECK_OK(pl_context_execute(ctx));
    PL_CHECK_OK(pl_context_get_shape(ctx, "y", &rank, got));
    PL_CHECK(rank == 2 && got[0] == 4 && got[1] == 3 && yv[11] == 11.0f && yv[5] == 5.0f);
    sv[0] = 6, sv[1] = 2; /* other values at run time, same engine */
    PL_CHECK_OK(pl_context_execute(ctx));
    PL_CHECK_OK(pl_context_get_shape(ctx, "y", &rank, got));
    PL_CHECK(got[0] == 6 && got[1] == 2);
    sv[0] = 5; /* 5x2 does not hold 12 elements: a clear error, no crash */
    PL_CHECK_FAILS(pl_context_execute(ctx), PL_ERR_SHAPE, "'r'");
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(data);
    pl_builder_config_free(cfg);
    pl_network_free(net);
}

int main(void) {
    PL_RUN(test_shape_tensor_input);
    PL_RUN(test_static_round_trip);
    PL_RUN(test_dynamic_profile);
    PL_RUN(test_concurrent_contexts);
    PL_RUN(test_constant_folding);
    PL_RUN(test_api_errors);
    return pl_test_report();
}
