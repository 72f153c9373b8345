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
 * A third case has a dynamic batch and a Reshape whose target is computed from Shape on the
 * host (cpu:shape layers): its executions must still be captured into a CUDA graph per input
 * shape, replayed, and run on lanes, matching the CPU at two batch sizes in turn.
 * Without a GPU every case prints "skipped: no CUDA device" and passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "runtime/exec.h"
#include "test-cuda-util.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define RUNS 6

static uint64_t seeds = 11;

static pl_tensor cst(pl_network *net, int rank, const int64_t *dims, float lo, float hi) {
    return pl_tc_cst(net, rank, dims, lo, hi, 900 + seeds++);
}

static pl_tensor conv(pl_network *net, pl_tensor x, int64_t cin, int64_t cout, int64_t k,
                      bool relu) {
    int64_t p = k / 2, pads[4] = {p, p, p, p};
    pl_attr at[1] = {PL_ATTR_INTS("pads", pads, 4)};
    float bound = 1.f / sqrtf((float)(cin * k * k));
    pl_tensor ci[3] = {x, cst(net, 4, D(cout, cin, k, k), -bound, bound),
                       cst(net, 1, D(cout), -0.1f, 0.1f)};
    pl_tensor c = pl_tc_op(net, "Conv", ci, 3, at, 1, NULL);
    return relu ? pl_tc_op(net, "Relu", &c, 1, NULL, 0, NULL) : c;
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
    pooled = pl_tc_op(net, "MaxPool", &x, 1, pool_at, 2, NULL);
    t[3] = conv(net, pooled, cin, w, 1, true);
    return pl_tc_op(net, "Concat", t, 4, cat_at, 1, NULL);
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
    g = pl_tc_op(net, "GlobalAveragePool", &y, 1, NULL, 0, NULL);
    f = pl_tc_op(net, "Flatten", &g, 1, flat_at, 1, NULL);
    gi[0] = f;
    gi[1] = cst(net, 2, D(128, 10), -0.1f, 0.1f);
    gi[2] = cst(net, 1, D(10), -0.1f, 0.1f);
    y = pl_tc_op(net, "Gemm", gi, 3, NULL, 0, NULL);
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
            y = pl_tc_op(net, unary[NEXT() % 4], &pool[a], 1, NULL, 0, NULL);
        } else {
            pl_tensor in2[2] = {pool[a], pool[b]};
            y = pl_tc_op(net, binary[NEXT() % 5], in2, 2, NULL, 0, NULL);
        }
        pool[n++] = y;
    }
#undef NEXT
    for (int i = n - 3; i < n; i++)
        PL_CHECK_OK(pl_network_mark_output(net, pool[i]));
    free(pool);
    return net;
}

/* Builds for dev with the given streams setting, runs RUNS times on x (runs must agree). */
static int run(const pl_network *net, pl_device dev, int streams, const int64_t *xdims,
               const float *x, pl_tc_out *res) {
    pl_tc_in in = {.name = "x", .dtype = PL_FLOAT32, .rank = 4, .data = (void *)x};
    memcpy(in.dims, xdims, sizeof(int64_t) * 4);
    return pl_tc_exec(net, dev, false, streams, 1, &in, RUNS, res);
}

static int close_all(const char *what, const pl_tc_out *got, const pl_tc_out *ref,
                     double tol) {
    int ok = got->n == ref->n;
    PL_CHECK(ok);
    for (int j = 0; ok && j < got->n; j++) {
        PL_CHECK(got->count[j] == ref->count[j]);
        ok &= got->count[j] == ref->count[j] &&
              pl_tc_close(what, got->v[j], ref->v[j], got->count[j], tol);
    }
    PL_CHECK(ok);
    return ok;
}

static void test_inception(void) {
    pl_network *net;
    pl_tc_out cpu = {0}, one = {0}, lanes = {0}, autod = {0};
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
        /* the timed choice keeps one of the two it timed */
        PL_CHECK(autod.streams == 1 || autod.streams == lanes.streams);
        close_all("inception one stream vs cpu", &one, &cpu, 1e-4);
        close_all("inception lanes vs cpu", &lanes, &cpu, 1e-4);
        close_all("inception lanes vs one stream", &lanes, &one, 1e-5);
        close_all("inception auto vs cpu", &autod, &cpu, 1e-4);
    }
    pl_tc_out_free(&cpu);
    pl_tc_out_free(&one);
    pl_tc_out_free(&lanes);
    pl_tc_out_free(&autod);
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
        pl_tc_out cpu = {0}, lanes = {0};
        char what[64];
        snprintf(what, sizeof(what), "dag seed %llu", (unsigned long long)seed);
        if (run(net, PL_DEVICE_CPU, 1, xdims, x, &cpu) &&
            run(net, PL_DEVICE_CUDA, 4, xdims, x, &lanes)) {
            printf("  %s: %d streams\n", what, lanes.streams);
            PL_CHECK(lanes.streams > 1);
            PL_CHECK(lanes.host_layers == 0);
            close_all(what, &lanes, &cpu, 1e-5);
        }
        pl_tc_out_free(&cpu);
        pl_tc_out_free(&lanes);
        pl_network_free(net);
    }
    free(x);
}

/* x[N,8,12,12] -> two conv branches -> Add -> Reshape to [N, -1] with the target built from
 * Shape(x)[0] (Shape, Gather, Unsqueeze, Concat: host layers under a dynamic profile) -> Relu. */
static pl_network *make_dynamic(void) {
    pl_network *net = NULL;
    pl_tensor x = PL_NO_TENSOR, a, b, sum, shp, n, n1, tgt, y;
    int64_t zero = 0, axes0 = 0, minus1 = -1;
    pl_attr cat_at[1] = {PL_ATTR_I("axis", 0)};
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 4, D(-1, 8, 12, 12), NULL, &x));
    a = conv(net, conv(net, x, 8, 8, 3, true), 8, 8, 3, false);
    b = conv(net, x, 8, 8, 1, false);
    {
        pl_tensor in2[2] = {a, b};
        sum = pl_tc_op(net, "Add", in2, 2, NULL, 0, NULL);
    }
    shp = pl_tc_op(net, "Shape", &x, 1, NULL, 0, NULL);
    {
        pl_tensor idx = PL_NO_TENSOR, ax = PL_NO_TENSOR, m1 = PL_NO_TENSOR, gi[2], ui[2], ci[2];
        PL_CHECK_OK(pl_network_add_constant(net, NULL, PL_INT64, 0, NULL, &zero, &idx));
        PL_CHECK_OK(pl_network_add_constant(net, NULL, PL_INT64, 1, D(1), &axes0, &ax));
        PL_CHECK_OK(pl_network_add_constant(net, NULL, PL_INT64, 1, D(1), &minus1, &m1));
        gi[0] = shp;
        gi[1] = idx;
        n = pl_tc_op(net, "Gather", gi, 2, NULL, 0, NULL);
        ui[0] = n;
        ui[1] = ax;
        n1 = pl_tc_op(net, "Unsqueeze", ui, 2, NULL, 0, NULL);
        ci[0] = n1;
        ci[1] = m1;
        tgt = pl_tc_op(net, "Concat", ci, 2, cat_at, 1, NULL);
    }
    {
        pl_tensor ri[2] = {sum, tgt};
        y = pl_tc_op(net, "Reshape", ri, 2, NULL, 0, NULL);
    }
    y = pl_tc_op(net, "Relu", &y, 1, NULL, 0, NULL);
    PL_CHECK_OK(pl_network_mark_output(net, y));
    return net;
}

/* Builds for dev (profile N in 1..8, opt 4) and runs batches 3, 3, 3, 6, 6, 6, 3: each result
 * into out[i] (floats). With check_capture, also checks that the third run of each shape
 * replayed a captured graph, and reports the engine's streams and cpu:shape layers. */
static int run_dynamic(const pl_network *net, pl_device dev, int streams, const float *x,
                       float **out, bool check_capture) {
    static const int64_t batches[7] = {3, 3, 3, 6, 6, 6, 3};
    pl_builder_config *cfg = NULL;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    void *plan = NULL;
    size_t size = 0;
    int ok = 0, shape_layers = 0;
    float *y = calloc(8 * 8 * 12 * 12, sizeof(float));
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    pl_builder_config_set_device(cfg, dev);
    pl_builder_config_set_streams(cfg, streams);
    PL_CHECK_OK(pl_builder_config_set_shape(cfg, "x", 4, D(1, 8, 12, 12), D(4, 8, 12, 12),
                                            D(8, 8, 12, 12)));
    if (pl_build_serialized(net, cfg, &plan, &size)) {
        fprintf(stderr, "dynamic build on %s failed: %s\n", pl_device_name(dev), pl_errmsg());
        PL_CHECK(0);
        goto done;
    }
    PL_CHECK_OK(pl_engine_load(plan, size, &e));
    if (!e)
        goto done;
    for (int i = 0; i < pl_engine_num_layers(e); i++) {
        pl_layer_info li;
        if (pl_engine_layer(e, i, &li) == PL_OK && strcmp(li.kernel, "cpu:shape") == 0)
            shape_layers++;
    }
    PL_CHECK_OK(pl_context_create(e, &ctx));
    if (!ctx)
        goto done;
    if (check_capture) {
        printf("  dynamic: %d cpu:shape layers, %s streams, %d lanes\n", shape_layers,
               pl_engine_metadata(e, "streams"), e->lanes.n);
        PL_CHECK(shape_layers >= 4); /* Shape, Gather, Unsqueeze, Concat */
        PL_CHECK(streams < 2 || e->lanes.n > 1);
    }
    for (int r = 0; r < 7; r++) {
        int64_t dims[4] = {batches[r], 8, 12, 12};
        size_t nx = (size_t)batches[r] * 8 * 12 * 12;
        PL_CHECK_OK(pl_context_set_input_shape(ctx, "x", 4, dims));
        PL_CHECK_OK(pl_context_set_tensor(ctx, "x", (void *)x, PL_MEMORY_HOST, nx * sizeof(float)));
        {
            pl_io_info io;
            PL_CHECK_OK(pl_engine_io(e, 1, &io));
            PL_CHECK_OK(pl_context_set_tensor(ctx, io.name, y, PL_MEMORY_HOST, nx * sizeof(float)));
        }
        if (pl_context_execute(ctx)) {
            fprintf(stderr, "dynamic execution %d failed: %s\n", r, pl_errmsg());
            PL_CHECK(0);
            goto done;
        }
        if (check_capture && (r == 2 || r == 5))
            PL_CHECK(ctx->captured); /* the third run with these shapes replays the graph */
        out[r] = malloc(nx * sizeof(float));
        memcpy(out[r], y, nx * sizeof(float));
    }
    ok = 1;
done:
    free(y);
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(plan);
    pl_builder_config_free(cfg);
    return ok;
}

static void test_dynamic_shapes(void) {
    static const int64_t batches[7] = {3, 3, 3, 6, 6, 6, 3};
    pl_network *net;
    float *x, *cpu[7] = {0}, *gpu[7] = {0}, *lanes[7] = {0};
    int64_t n = 8 * 8 * 12 * 12;
    if (!pl_test_have_cuda(__func__))
        return;
    net = make_dynamic();
    x = malloc(sizeof(float) * (size_t)n);
    pl_test_fill_uniform(x, n, -1, 1, 79);
    if (run_dynamic(net, PL_DEVICE_CPU, 1, x, cpu, false) &&
        run_dynamic(net, PL_DEVICE_CUDA, 1, x, gpu, true) &&
        run_dynamic(net, PL_DEVICE_CUDA, 4, x, lanes, true)) {
        for (int r = 0; r < 7; r++) {
            char what[64];
            int64_t m = batches[r] * 8 * 12 * 12;
            snprintf(what, sizeof(what), "dynamic run %d (batch %lld)", r, (long long)batches[r]);
            PL_CHECK(pl_tc_close(what, gpu[r], cpu[r], m, 1e-4));
            PL_CHECK(pl_tc_close(what, lanes[r], cpu[r], m, 1e-4));
        }
    }
    for (int r = 0; r < 7; r++) {
        free(cpu[r]);
        free(gpu[r]);
        free(lanes[r]);
    }
    free(x);
    pl_network_free(net);
}

int main(void) {
    pl_tc_catch_crashes();
    PL_RUN(test_inception);
    PL_RUN(test_random_dags);
    PL_RUN(test_dynamic_shapes);
    return pl_test_report();
}
