/*
 * test-cuda-lanes.c - independent branches on extra streams (src/runtime/lanes.c). Networks
 * with parallel branches are built for the GPU with lanes forced (pl_builder_config_set_streams
 * 4), with one stream, and with the builder's timed choice, and compared with the CPU engine:
 *   - an Inception-style network (four conv towers per block, concatenated), float32 within
 *     relative L2 1e-4 of the CPU, and the lanes engine within 1e-5 of the one-stream engine;
 *   - random DAGs of elementwise layers and convolutions whose inputs are drawn from any earlier
 *     tensor (fixed seeds): much parallelism and much memory reuse, so a missing wait or a
 *     buffer handed to a new tensor while another lane still reads it shows as wrong numbers.
 *     Elementwise float32 math is the same on both devices: tolerance 1e-5.
 * Every engine runs 6 times (the second execution is captured into a CUDA graph and the later
 * ones replay it); all runs must agree exactly. The lanes engines must report more than one
 * stream in their metadata and no layer on the CPU.
 * Without a GPU every case prints "skipped: no CUDA device" and passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test-cuda-util.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define RUNS 6

static uint64_t seeds = 11;

static pl_tensor cst(pl_network *net, int rank, const int64_t *dims, float lo, float hi) {
    int64_t n = 1;
    float *v;
    pl_tensor t = PL_NO_TENSOR;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    v = malloc(sizeof(float) * (size_t)n);
    pl_test_fill_uniform(v, n, lo, hi, 900 + seeds++);
    PL_CHECK_OK(pl_network_add_constant(net, NULL, PL_FLOAT32, rank, dims, v, &t));
    free(v);
    return t;
}

static pl_tensor layer(pl_network *net, const char *op, const pl_tensor *in, int nin,
                       const pl_attr *at, int nat) {
    pl_tensor o = PL_NO_TENSOR;
    PL_CHECK_OK(pl_network_add_layer(net, op, NULL, in, nin, at, nat, 1, NULL, &o));
    return o;
}

static pl_tensor conv(pl_network *net, pl_tensor x, int64_t cin, int64_t cout, int64_t k,
                      bool relu) {
    int64_t p = k / 2, pads[4] = {p, p, p, p};
    pl_attr at[1] = {PL_ATTR_INTS("pads", pads, 4)};
    float bound = 1.f / sqrtf((float)(cin * k * k));
    pl_tensor ci[3] = {x, cst(net, 4, D(cout, cin, k, k), -bound, bound),
                       cst(net, 1, D(cout), -0.1f, 0.1f)};
    pl_tensor c = layer(net, "Conv", ci, 3, at, 1);
    return relu ? layer(net, "Relu", &c, 1, NULL, 0) : c;
}

/* Four towers: 1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max pool -> 1x1; concatenated on channels. */
static pl_tensor inception(pl_network *net, pl_tensor x, int64_t cin, int64_t w) {
    int64_t k3[2] = {3, 3}, p1[4] = {1, 1, 1, 1}, axis = 1;
    pl_attr pool_at[2] = {PL_ATTR_INTS("kernel_shape", k3, 2), PL_ATTR_INTS("pads", p1, 4)};
    pl_attr cat_at[1] = {PL_ATTR_I("axis", axis)};
    pl_tensor t[4], pooled;
    t[0] = conv(net, x, cin, w, 1, true);
    t[1] = conv(net, conv(net, x, cin, w / 2, 1, true), w / 2, w, 3, true);
    t[2] = conv(net, conv(net, x, cin, w / 4, 1, true), w / 4, w, 5, true);
    pooled = layer(net, "MaxPool", &x, 1, pool_at, 2);
    t[3] = conv(net, pooled, cin, w, 1, true);
    return layer(net, "Concat", t, 4, cat_at, 1);
}

static pl_network *make_inception(void) {
    pl_network *net = NULL;
    pl_tensor x = PL_NO_TENSOR, y, g, f, gi[3];
    int64_t ax = 1;
    pl_attr flat_at[1] = {PL_ATTR_I("axis", ax)};
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 4, D(-1, 32, 28, 28), NULL, &x));
    y = inception(net, x, 32, 32);
    y = inception(net, y, 128, 32);
    g = layer(net, "GlobalAveragePool", &y, 1, NULL, 0);
    f = layer(net, "Flatten", &g, 1, flat_at, 1);
    gi[0] = f;
    gi[1] = cst(net, 2, D(128, 10), -0.1f, 0.1f);
    gi[2] = cst(net, 1, D(10), -0.1f, 0.1f);
    y = layer(net, "Gemm", gi, 3, NULL, 0);
    PL_CHECK_OK(pl_network_mark_output(net, y));
    return net;
}

/* A random DAG: each layer reads one or two tensors drawn from the input and every earlier
 * layer's output (biased to recent ones); a few layers are 3x3 convolutions so that lanes run
 * for different lengths. The last few layers' outputs are the network's outputs. */
static pl_network *make_dag(uint64_t seed, int nlayers) {
    static const char *const unary[] = {"Relu", "Sigmoid", "Tanh", "Abs"};
    static const char *const binary[] = {"Add", "Mul", "Sub", "Max", "Min"};
    pl_network *net = NULL;
    pl_tensor *pool = calloc((size_t)nlayers + 1, sizeof(pl_tensor));
    uint64_t r = seed;
    int n = 0;
#define NEXT() (r ^= r << 13, r ^= r >> 7, r ^= r << 17, r)
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 4, D(1, 16, 24, 24), NULL, &pool[n++]));
    for (int i = 0; i < nlayers; i++) {
        /* half the picks among the last 4 tensors, half anywhere */
        int a = (NEXT() & 1) ? n - 1 - (int)(NEXT() % (uint64_t)(n < 4 ? n : 4))
                             : (int)(NEXT() % (uint64_t)n);
        int b = (int)(NEXT() % (uint64_t)n);
        uint64_t kind = NEXT() % 10;
        pl_tensor y;
        if (kind < 2) {
            y = conv(net, pool[a], 16, 16, 3, false);
        } else if (kind < 5) {
            y = layer(net, unary[NEXT() % 4], &pool[a], 1, NULL, 0);
        } else {
            pl_tensor in2[2] = {pool[a], pool[b]};
            y = layer(net, binary[NEXT() % 5], in2, 2, NULL, 0);
        }
        pool[n++] = y;
    }
#undef NEXT
    for (int i = n - 3; i < n; i++)
        PL_CHECK_OK(pl_network_mark_output(net, pool[i]));
    free(pool);
    return net;
}

typedef struct result {
    int nout;
    float *v[4];
    int64_t count[4];
    int streams;    /* from the engine's metadata */
    int host_layers;
} result;

static void result_free(result *r) {
    for (int i = 0; i < r->nout; i++)
        free(r->v[i]);
    memset(r, 0, sizeof(*r));
}

/* Builds for dev with the given streams setting, runs RUNS times on x (runs must agree). */
static int run(const pl_network *net, pl_device dev, int streams, const int64_t *xdims,
               const float *x, result *res) {
    pl_builder_config *cfg = NULL;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    void *plan = NULL;
    float *bufs[4] = {0};
    size_t size = 0;
    int ok = 0, k = 0;
    const char *meta;
    memset(res, 0, sizeof(*res));
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    pl_builder_config_set_device(cfg, dev);
    pl_builder_config_set_streams(cfg, streams);
    PL_CHECK_OK(pl_builder_config_set_shape(cfg, "x", 4, xdims, xdims, xdims));
    if (pl_build_serialized(net, cfg, &plan, &size)) {
        fprintf(stderr, "build on %s failed: %s\n", pl_device_name(dev), pl_errmsg());
        PL_CHECK(0);
        goto done;
    }
    PL_CHECK_OK(pl_engine_load(plan, size, &e));
    if (!e)
        goto done;
    meta = pl_engine_metadata(e, "streams");
    res->streams = meta ? atoi(meta) : 0;
    for (int i = 0; i < pl_engine_num_layers(e); i++) {
        pl_layer_info li;
        if (pl_engine_layer(e, i, &li) == PL_OK && strncmp(li.kernel, "cpu", 3) == 0 &&
            dev != PL_DEVICE_CPU)
            res->host_layers++;
    }
    PL_CHECK_OK(pl_context_create(e, &ctx));
    if (!ctx)
        goto done;
    PL_CHECK_OK(pl_context_set_tensor(ctx, "x", (void *)x, PL_MEMORY_HOST,
                                      pl_tc_bytes(4, xdims, PL_FLOAT32)));
    for (int i = 0; i < pl_engine_num_io(e) && k < 4; i++) {
        pl_io_info io;
        int rank;
        int64_t dims[PL_MAX_RANK];
        PL_CHECK_OK(pl_engine_io(e, i, &io));
        if (io.is_input)
            continue;
        PL_CHECK_OK(pl_context_get_shape(ctx, io.name, &rank, dims));
        res->count[k] = (int64_t)(pl_tc_bytes(rank, dims, PL_FLOAT32) / sizeof(float));
        bufs[k] = calloc((size_t)res->count[k] + 1, sizeof(float));
        res->v[k] = calloc((size_t)res->count[k] + 1, sizeof(float));
        PL_CHECK_OK(pl_context_set_tensor(ctx, io.name, bufs[k], PL_MEMORY_HOST,
                                          sizeof(float) * (size_t)res->count[k]));
        res->nout = ++k;
    }
    for (int rep = 0; rep < RUNS; rep++) {
        if (pl_context_execute(ctx)) {
            fprintf(stderr, "execution %d on %s failed: %s\n", rep, pl_device_name(dev),
                    pl_errmsg());
            PL_CHECK(0);
            goto done;
        }
        for (int j = 0; j < res->nout; j++) {
            size_t nb = sizeof(float) * (size_t)res->count[j];
            if (rep == 0) {
                memcpy(res->v[j], bufs[j], nb);
            } else if (memcmp(res->v[j], bufs[j], nb) != 0) {
                fprintf(stderr, "execution %d on %s (streams %d): output %d differs from the "
                        "first execution\n", rep, pl_device_name(dev), streams, j);
                PL_CHECK(0);
                goto done;
            }
        }
    }
    ok = 1;
done:
    for (int j = 0; j < 4; j++)
        free(bufs[j]);
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(plan);
    pl_builder_config_free(cfg);
    return ok;
}

static int close_all(const char *what, const result *got, const result *ref, double tol) {
    int ok = got->nout == ref->nout;
    PL_CHECK(ok);
    for (int j = 0; ok && j < got->nout; j++) {
        PL_CHECK(got->count[j] == ref->count[j]);
        ok &= got->count[j] == ref->count[j] &&
              pl_tc_close(what, got->v[j], ref->v[j], got->count[j], tol);
    }
    PL_CHECK(ok);
    return ok;
}

static void test_inception(void) {
    pl_network *net;
    result cpu, one, lanes, autod;
    int64_t xdims[4] = {2, 32, 28, 28};
    int64_t n = 2 * 32 * 28 * 28;
    float *x;
    if (!pl_test_have_cuda(__func__))
        return;
    net = make_inception();
    x = malloc(sizeof(float) * (size_t)n);
    pl_test_fill_uniform(x, n, -1, 1, 77);
    if (run(net, PL_DEVICE_CPU, 1, xdims, x, &cpu) &&
        run(net, PL_DEVICE_CUDA, 1, xdims, x, &one) &&
        run(net, PL_DEVICE_CUDA, 4, xdims, x, &lanes) &&
        run(net, PL_DEVICE_CUDA, 0, xdims, x, &autod)) {
        printf("  inception: streams one=%d forced=%d auto=%d\n", one.streams, lanes.streams,
               autod.streams);
        PL_CHECK(one.streams == 1);
        PL_CHECK(lanes.streams > 1); /* four towers: more than one lane */
        PL_CHECK(lanes.host_layers == 0);
        PL_CHECK(autod.streams >= 1);
        close_all("inception one stream vs cpu", &one, &cpu, 1e-4);
        close_all("inception lanes vs cpu", &lanes, &cpu, 1e-4);
        close_all("inception lanes vs one stream", &lanes, &one, 1e-5);
        close_all("inception auto vs cpu", &autod, &cpu, 1e-4);
    }
    result_free(&cpu);
    result_free(&one);
    result_free(&lanes);
    result_free(&autod);
    free(x);
    pl_network_free(net);
}

static void test_random_dags(void) {
    int64_t xdims[4] = {1, 16, 24, 24};
    int64_t n = 16 * 24 * 24;
    float *x;
    if (!pl_test_have_cuda(__func__))
        return;
    x = malloc(sizeof(float) * (size_t)n);
    pl_test_fill_uniform(x, n, -1, 1, 78);
    for (uint64_t seed = 1; seed <= 12; seed++) {
        pl_network *net = make_dag(seed * 0x9E3779B97F4A7C15ull, 40 + (int)(seed % 4) * 20);
        result cpu, lanes;
        char what[64];
        snprintf(what, sizeof(what), "dag seed %llu", (unsigned long long)seed);
        if (run(net, PL_DEVICE_CPU, 1, xdims, x, &cpu) &&
            run(net, PL_DEVICE_CUDA, 4, xdims, x, &lanes)) {
            printf("  %s: %d streams\n", what, lanes.streams);
            PL_CHECK(lanes.streams > 1);
            PL_CHECK(lanes.host_layers == 0);
            close_all(what, &lanes, &cpu, 1e-5);
        }
        result_free(&cpu);
        result_free(&lanes);
        pl_network_free(net);
    }
    free(x);
}

int main(void) {
    pl_tc_catch_crashes();
    PL_RUN(test_inception);
    PL_RUN(test_random_dags);
    return pl_test_report();
}
