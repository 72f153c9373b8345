/*
 * test-cuda-e2e.c - a small residual CNN (conv + batch norm + relu, a residual block, max pool,
 * global average pool, flatten, gemm, softmax) built through pl_build_serialized for the GPU with
 * a dynamic batch, compared with the CPU engine: float32 within relative L2 1e-4 and float16
 * within 1e-2, at two batch sizes inside a dynamic profile. Also: every layer runs on the GPU,
 * repeated executions of a static-shape engine (CUDA graph replay) give identical results, and
 * I/O bound in device memory works.
 * Without a GPU the cases print "skipped: no CUDA device" and pass.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "harness.h"
#include "test-cuda-util.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})

static uint64_t seeds = 1;

static pl_tensor cst(pl_network *net, int rank, const int64_t *dims, float lo, float hi) {
    return pl_tc_cst(net, rank, dims, lo, hi, 500 + seeds++);
}

static pl_tensor conv_bn(pl_network *net, pl_tensor x, int64_t cin, int64_t cout, int64_t k,
                         int64_t stride, bool relu) {
    int64_t p = k / 2, pads[4] = {p, p, p, p}, st[2] = {stride, stride};
    pl_attr at[2] = {PL_ATTR_INTS("pads", pads, 4), PL_ATTR_INTS("strides", st, 2)};
    float bound = 1.f / sqrtf((float)(cin * k * k));
    pl_tensor ci[3] = {x, cst(net, 4, D(cout, cin, k, k), -bound, bound),
                       cst(net, 1, D(cout), -0.1f, 0.1f)};
    pl_tensor c = pl_tc_op(net, "Conv", ci, 3, at, 2, NULL);
    pl_tensor bi[5] = {c, cst(net, 1, D(cout), 0.8f, 1.2f), cst(net, 1, D(cout), -0.1f, 0.1f),
                       cst(net, 1, D(cout), -0.1f, 0.1f), cst(net, 1, D(cout), 0.5f, 1.5f)};
    pl_tensor b = pl_tc_op(net, "BatchNormalization", bi, 5, NULL, 0, NULL);
    return relu ? pl_tc_op(net, "Relu", &b, 1, NULL, 0, NULL) : b;
}

static pl_network *make_net(void) {
    pl_network *net = NULL;
    pl_tensor x, h, r, s, g, f;
    int64_t k2[2] = {2, 2}, s2[2] = {2, 2};
    pl_attr mp[2] = {PL_ATTR_INTS("kernel_shape", k2, 2), PL_ATTR_INTS("strides", s2, 2)};
    pl_attr tb = PL_ATTR_I("transB", 1);
    const char *dn[4] = {"N", NULL, NULL, NULL};
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "image", PL_FLOAT32, 4, D(-1, 3, 32, 32), dn, &x));
    h = conv_bn(net, x, 3, 16, 3, 1, true);
    h = pl_tc_op(net, "MaxPool", &h, 1, mp, 2, NULL);
    r = conv_bn(net, h, 16, 16, 3, 1, true);
    r = conv_bn(net, r, 16, 16, 3, 1, false);
    {
        pl_tensor ad[2] = {r, h};
        s = pl_tc_op(net, "Add", ad, 2, NULL, 0, NULL);
    }
    s = pl_tc_op(net, "Relu", &s, 1, NULL, 0, NULL);
    s = conv_bn(net, s, 16, 32, 1, 2, true);
    g = pl_tc_op(net, "GlobalAveragePool", &s, 1, NULL, 0, NULL);
    f = pl_tc_op(net, "Flatten", &g, 1, NULL, 0, NULL);
    {
        pl_tensor gi[3] = {f, cst(net, 2, D(10, 32), -0.3f, 0.3f), cst(net, 1, D(10), -0.1f, 0.1f)};
        pl_tensor logits = pl_tc_op(net, "Gemm", gi, 3, &tb, 1, "logits");
        pl_tensor prob = pl_tc_op(net, "Softmax", &logits, 1, NULL, 0, "prob");
        PL_CHECK_OK(pl_network_mark_output(net, logits));
        PL_CHECK_OK(pl_network_mark_output(net, prob));
    }
    return net;
}

/* Batch profile lo..hi (opt (lo+hi)/2). */
static void *build(const pl_network *net, pl_device dev, bool fp16, int64_t lo, int64_t hi,
                   size_t *size) {
    pl_builder_config *cfg = NULL;
    void *plan = NULL;
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    pl_builder_config_set_device(cfg, dev);
    pl_builder_config_set_fp16(cfg, fp16);
    PL_CHECK_OK(pl_builder_config_set_shape(cfg, "image", 4, D(lo, 3, 32, 32),
                                            D((lo + hi) / 2, 3, 32, 32), D(hi, 3, 32, 32)));
    if (pl_build_serialized(net, cfg, &plan, size) != PL_OK) {
        fprintf(stderr, "build (%s%s): %s\n", pl_device_name(dev), fp16 ? ", fp16" : "",
                pl_errmsg());
        PL_CHECK(0);
    }
    pl_builder_config_free(cfg);
    return plan;
}

/* Runs batch n on e `runs` times; logits and probabilities into lg/pr (n*10 each). */
static int run(pl_engine *e, int64_t n, const float *img, float *lg, float *pr, int runs) {
    pl_context *ctx = NULL;
    int64_t dims[4] = {n, 3, 32, 32};
    float *lg0 = malloc(sizeof(float) * (size_t)(n * 10));
    int ok = 1;
    PL_CHECK_OK(pl_context_create(e, &ctx));
    if (!ctx) {
        free(lg0);
        return 0;
    }
    PL_CHECK_OK(pl_context_set_input_shape(ctx, "image", 4, dims));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "image", (void *)img, PL_MEMORY_HOST,
                                      sizeof(float) * (size_t)(n * 3 * 32 * 32)));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "logits", lg, PL_MEMORY_HOST,
                                      sizeof(float) * (size_t)(n * 10)));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "prob", pr, PL_MEMORY_HOST,
                                      sizeof(float) * (size_t)(n * 10)));
    for (int r = 0; r < runs && ok; r++) {
        pl_status s = pl_context_execute(ctx);
        if (s) {
            fprintf(stderr, "execute: %s\n", pl_errmsg());
            ok = 0;
        } else if (r == 0) {
            memcpy(lg0, lg, sizeof(float) * (size_t)(n * 10));
        } else if (memcmp(lg0, lg, sizeof(float) * (size_t)(n * 10)) != 0) {
            fprintf(stderr, "run %d differs from run 0\n", r);
            ok = 0;
        }
    }
    PL_CHECK(ok);
    pl_context_free(ctx);
    free(lg0);
    return ok;
}

/* CPU and GPU engines over the batch profile lo..hi, compared at batches `batches` (0-ended),
 * each GPU context executing `runs` times (identical results required). */
static void compare_engines(bool fp16, int64_t lo, int64_t hi, const int64_t *batches, int runs) {
    pl_network *net = make_net();
    size_t sc = 0, sg = 0;
    void *pc = build(net, PL_DEVICE_CPU, false, lo, hi, &sc);
    void *pg = build(net, PL_DEVICE_CUDA, fp16, lo, hi, &sg);
    pl_engine *ec = NULL, *eg = NULL;
    float *img = malloc(sizeof(float) * 8 * 3 * 32 * 32);
    float lc[80], prc[80], lgp[80], prg[80];
    int host = 0;
    pl_test_fill_uniform(img, 8 * 3 * 32 * 32, -1, 1, 4242);
    PL_CHECK(pc && pg);
    if (pc)
        PL_CHECK_OK(pl_engine_load(pc, sc, &ec));
    if (pg)
        PL_CHECK_OK(pl_engine_load(pg, sg, &eg));
    if (ec && eg) {
        PL_CHECK(strcmp(pl_engine_metadata(eg, "device"), "cuda") == 0);
        PL_CHECK(strcmp(pl_engine_metadata(eg, "precision"), fp16 ? "fp16" : "fp32") == 0);
        for (int i = 0; i < pl_engine_num_layers(eg); i++) {
            pl_layer_info li;
            PL_CHECK_OK(pl_engine_layer(eg, i, &li));
            printf("    %-28s %-20s %s\n", li.name, li.op, li.kernel);
            if (strncmp(li.kernel, "cuda", 4) != 0)
                host++;
        }
        PL_CHECK(host == 0);
        for (const int64_t *bn = batches; *bn; bn++) {
            int64_t n = *bn;
            if (run(ec, n, img, lc, prc, 1) && run(eg, n, img, lgp, prg, runs)) {
                char what[64];
                snprintf(what, sizeof(what), "logits batch %lld%s", (long long)n,
                         fp16 ? " fp16" : "");
                PL_CHECK(pl_tc_close(what, lgp, lc, n * 10, fp16 ? 1e-2 : 1e-4));
                PL_CHECK(pl_tc_close("probabilities", prg, prc, n * 10, fp16 ? 1e-2 : 1e-4));
            }
        }
    }
    pl_engine_free(ec);
    pl_engine_free(eg);
    pl_free(pc);
    pl_free(pg);
    free(img);
    pl_network_free(net);
}

/* Dynamic batch: two executions per context (the second is captured and replayed). */
static void test_fp32(void) {
    if (pl_test_have_cuda(__func__))
        compare_engines(false, 1, 8, D(3, 8, 0), 2);
}

static void test_fp16(void) {
    if (pl_test_have_cuda(__func__))
        compare_engines(true, 1, 8, D(3, 8, 0), 2);
}

/* Static batch: later executions replay the captured CUDA graph. */
static void test_replay(void) {
    if (pl_test_have_cuda(__func__)) {
        compare_engines(false, 4, 4, D(4, 0), 5);
        compare_engines(true, 4, 4, D(4, 0), 5);
    }
}

/* I/O bound in device memory: the engine reads and writes the caller's device buffers. */
static void test_device_io(void) {
    const pl__backend *b = pl__backend_get(PL_DEVICE_CUDA);
    pl_network *net;
    size_t sc = 0, sg = 0;
    void *pc, *pg, *bctx = NULL, *dimg = NULL, *dlg = NULL, *dpr = NULL;
    pl_engine *ec = NULL, *eg = NULL;
    pl_context *ctx = NULL;
    float *img = malloc(sizeof(float) * 2 * 3 * 32 * 32), lc[20], prc[20], lg[20];
    if (!pl_test_have_cuda(__func__) || !b) {
        free(img);
        return;
    }
    net = make_net();
    pc = build(net, PL_DEVICE_CPU, false, 2, 2, &sc);
    pg = build(net, PL_DEVICE_CUDA, false, 2, 2, &sg);
    pl_test_fill_uniform(img, 2 * 3 * 32 * 32, -1, 1, 99);
    PL_CHECK_OK(pl_engine_load(pc, sc, &ec));
    PL_CHECK_OK(pl_engine_load(pg, sg, &eg));
    PL_CHECK_OK(b->create(&bctx));
    PL_CHECK_OK(b->alloc(bctx, sizeof(float) * 2 * 3 * 32 * 32, &dimg));
    PL_CHECK_OK(b->alloc(bctx, sizeof(lg), &dlg));
    PL_CHECK_OK(b->alloc(bctx, sizeof(lg), &dpr));
    PL_CHECK_OK(b->copy(bctx, dimg, img, sizeof(float) * 2 * 3 * 32 * 32, PL__H2D));
    PL_CHECK_OK(b->sync(bctx));
    if (ec && eg && run(ec, 2, img, lc, prc, 1)) {
        PL_CHECK_OK(pl_context_create(eg, &ctx));
        PL_CHECK_OK(pl_context_set_input_shape(ctx, "image", 4, D(2, 3, 32, 32)));
        PL_CHECK_OK(pl_context_set_tensor(ctx, "image", dimg, PL_MEMORY_DEVICE,
                                          sizeof(float) * 2 * 3 * 32 * 32));
        PL_CHECK_OK(pl_context_set_tensor(ctx, "logits", dlg, PL_MEMORY_DEVICE, sizeof(lg)));
        PL_CHECK_OK(pl_context_set_tensor(ctx, "prob", dpr, PL_MEMORY_DEVICE, sizeof(lg)));
        for (int r = 0; r < 3; r++) {
            memset(lg, 0, sizeof(lg));
            PL_CHECK_OK(pl_context_execute(ctx));
            PL_CHECK_OK(b->copy(bctx, lg, dlg, sizeof(lg), PL__D2H));
            PL_CHECK_OK(b->sync(bctx));
            PL_CHECK(pl_tc_close("device-bound logits", lg, lc, 20, 1e-4));
        }
        pl_context_free(ctx);
    }
    b->release(bctx, dimg);
    b->release(bctx, dlg);
    b->release(bctx, dpr);
    b->destroy(bctx);
    pl_engine_free(ec);
    pl_engine_free(eg);
    pl_free(pc);
    pl_free(pg);
    free(img);
    pl_network_free(net);
}

/* Without a device, building for CUDA fails with a clear message instead of crashing. */
static void test_unavailable_message(void) {
    pl_network *net;
    size_t sz = 0;
    void *plan = NULL;
    pl_builder_config *cfg = NULL;
    if (pl_device_available(PL_DEVICE_CUDA)) {
        printf("skipped: a CUDA device is present (test_unavailable_message)\n");
        return;
    }
    net = make_net();
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    pl_builder_config_set_device(cfg, PL_DEVICE_CUDA);
    PL_CHECK_FAILS(pl_build_serialized(net, cfg, &plan, &sz), PL_ERR_UNSUPPORTED, "cuda");
    pl_builder_config_free(cfg);
    pl_network_free(net);
}

int main(void) {
    pl_tc_catch_crashes();
    PL_RUN(test_fp32);
    PL_RUN(test_fp16);
    PL_RUN(test_replay);
    PL_RUN(test_device_io);
    PL_RUN(test_unavailable_message);
    return pl_test_report();
}
