/*
 * test-cuda-kernels.c - the CUDA kernels called directly (no builder), so that every tactic of a
 * multi-tactic kernel is checked, not only the one the builder would pick, and so that float16
 * kernels are checked whatever the graph passes decide. Each case makes a one-layer network for
 * its attributes and shapes, runs the CPU kernel on float32 host data, and runs the CUDA kernel
 * with every tactic on device data (float32, or float16 converted on the host): float32 within
 * relative L2 1e-4, float16 within 1e-2. A tactic that refuses the shape (a cuDNN algorithm that
 * does not support it) is skipped, but the default tactic must work.
 * Without a GPU every case prints "skipped: no CUDA device" and passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "graph/ops.h"
#include "harness.h"
#include "test-cuda-util.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define MAXIO 6

typedef struct kin {
    int rank;
    int64_t dims[PL_MAX_RANK];
    bool omitted;
    bool keep32; /* stays float32 in a float16 run (BN statistics, LN scale) */
    float lo, hi;
} kin;

static uint64_t seeds = 7;

/* Channels-last runs (the layout pass's "cuda.nhwc"): every 4-D input is uploaded permuted from
 * [N, C, H, W] to [N, H, W, C] (for Conv weights that is [M, kH, kW, C/g], as the pass stores
 * them) and every 4-D output is compared in that order. */
static bool g_nhwc;

/* dst[n, h, w, c] = src[n, c, h, w] for dims d of a 4-D tensor. */
static void to_nhwc(float *dst, const float *src, const int64_t *d) {
    for (int64_t n = 0; n < d[0]; n++)
        for (int64_t c = 0; c < d[1]; c++)
            for (int64_t h = 0; h < d[2]; h++)
                for (int64_t w = 0; w < d[3]; w++)
                    dst[((n * d[2] + h) * d[3] + w) * d[1] + c] =
                        src[((n * d[1] + c) * d[2] + h) * d[3] + w];
}

/* Runs op (attributes at) on inputs `ins` on the CPU and on the GPU (all tactics). */
static void kcheck(const char *what, const char *op, const pl_attr *at, int nat, int nin,
                   const kin *ins, int nout, bool fp16) {
    const pl__backend *cu = pl__backend_get(PL_DEVICE_CUDA);
    pl_network *net = NULL;
    pl_tensor ids[MAXIO], outs[MAXIO];
    const pl__layer *l;
    const pl__kernel_def *kc, *kg;
    pl__tview hin[MAXIO], hout[MAXIO], din[MAXIO], dout[MAXIO];
    pl__kernel_args a;
    pl__infer ic;
    void *bctx = NULL, *hbctx = NULL, *ws = NULL, *hws = NULL;
    size_t wsz = 0, hwsz = 0;
    int ok_tactics = 0;
    char label[200];
    memset(hin, 0, sizeof(hin));
    memset(din, 0, sizeof(din));
    memset(hout, 0, sizeof(hout));
    memset(dout, 0, sizeof(dout));
    snprintf(label, sizeof(label), "%s%s", what, fp16 ? " (fp16)" : "");
    PL_CHECK_OK(pl_network_create(&net));
    for (int i = 0; i < nin; i++) {
        char name[16];
        ids[i] = PL_NO_TENSOR;
        if (ins[i].omitted)
            continue;
        snprintf(name, sizeof(name), "x%d", i);
        PL_CHECK_OK(pl_network_add_input(net, name, PL_FLOAT32, ins[i].rank, ins[i].dims, NULL,
                                         &ids[i]));
    }
    PL_CHECK_OK(pl_network_add_layer(net, op, "k", ids, nin, at, nat, nout, NULL, outs));
    l = &net->layers[0];
    /* host inputs and shapes */
    for (int i = 0; i < nin; i++) {
        int64_t n = 1;
        if (ins[i].omitted)
            continue;
        hin[i].dtype = PL_FLOAT32;
        hin[i].rank = ins[i].rank;
        memcpy(hin[i].dims, ins[i].dims, sizeof(int64_t) * (size_t)ins[i].rank);
        for (int d = 0; d < ins[i].rank; d++)
            n *= ins[i].dims[d];
        hin[i].data = malloc(sizeof(float) * (size_t)(n + 1));
        pl_test_fill_uniform(hin[i].data, n, ins[i].lo, ins[i].hi, seeds++);
    }
    ic.layer = l;
    ic.nin = nin;
    ic.in = hin;
    ic.nout = nout;
    ic.out = hout;
    PL_CHECK_OK(pl__layer_infer(&ic));
    for (int k = 0; k < nout; k++)
        hout[k].data = calloc(pl__tview_bytes(&hout[k]) + 4, 1);
    /* CPU reference */
    kc = pl__cpu_backend.find_kernel(op);
    kg = cu->find_kernel(op);
    PL_CHECK(kc && kg);
    if (!kc || !kg)
        goto done;
    PL_CHECK_OK(pl__cpu_backend.create(&hbctx));
    memset(&a, 0, sizeof(a));
    a.layer = l;
    a.nin = nin;
    a.in = hin;
    a.nout = nout;
    a.out = hout;
    a.bctx = hbctx;
    hwsz = kc->workspace ? kc->workspace(&a) : 0;
    hws = hwsz ? malloc(hwsz) : NULL;
    a.workspace = hws;
    a.workspace_size = hwsz;
    PL_CHECK_OK(kc->run(&a));
    /* device copies */
    PL_CHECK_OK(cu->create(&bctx));
    if (!bctx)
        goto done;
    for (int i = 0; i < nin; i++) {
        int64_t n;
        void *tmp;
        float *src, *perm = NULL;
        if (ins[i].omitted)
            continue;
        din[i] = hin[i];
        n = pl__tview_numel(&hin[i]);
        src = hin[i].data;
        if (g_nhwc && hin[i].rank == 4) {
            perm = malloc(sizeof(float) * (size_t)(n + 1));
            to_nhwc(perm, hin[i].data, hin[i].dims);
            src = perm;
        }
        if (fp16 && !ins[i].keep32) {
            uint16_t *h = malloc(sizeof(uint16_t) * (size_t)(n + 1));
            for (int64_t j = 0; j < n; j++)
                h[j] = pl__float_to_half(src[j]);
            din[i].dtype = PL_FLOAT16;
            tmp = h;
        } else {
            tmp = src;
        }
        PL_CHECK_OK(cu->alloc(bctx, pl__tview_bytes(&din[i]) + 4, &din[i].data));
        PL_CHECK_OK(cu->copy(bctx, din[i].data, tmp, pl__tview_bytes(&din[i]), PL__H2D));
        PL_CHECK_OK(cu->sync(bctx));
        if (tmp != src)
            free(tmp);
        free(perm);
        perm = NULL;
    }
    for (int k = 0; k < nout; k++) {
        dout[k] = hout[k];
        if (fp16 && hout[k].dtype == PL_FLOAT32 && !(strcmp(op, "LayerNormalization") == 0 && k > 0))
            dout[k].dtype = PL_FLOAT16;
        PL_CHECK_OK(cu->alloc(bctx, pl__tview_bytes(&dout[k]) + 4, &dout[k].data));
    }
    memset(&a, 0, sizeof(a));
    a.layer = l;
    a.nin = nin;
    a.in = din;
    a.nout = nout;
    a.out = dout;
    if (kg->supports && !kg->supports(&a)) {
        fprintf(stderr, "%s: the CUDA kernel declines: %s\n", label, pl_errmsg());
        PL_CHECK(0);
        goto done;
    }
    wsz = kg->workspace ? kg->workspace(&a) : 0;
    if (wsz)
        PL_CHECK_OK(cu->alloc(bctx, wsz, &ws));
    a.bctx = bctx;
    a.workspace = ws;
    a.workspace_size = wsz;
    for (int t = 0; t < (kg->ntactics > 1 ? kg->ntactics : 1); t++) {
        const char *tn = kg->ntactics > 1 ? kg->tactic_names[t] : "default";
        pl_status s;
        a.tactic = t;
        s = kg->run(&a);
        if (!s)
            s = cu->sync(bctx);
        if (s) {
            if (t == 0) {
                fprintf(stderr, "%s: default tactic failed: %s\n", label, pl_errmsg());
                PL_CHECK(0);
            } else {
                printf("    %s: tactic %s unavailable (%s)\n", label, tn, pl_status_name(s));
            }
            continue;
        }
        for (int k = 0; k < nout; k++) {
            int64_t n = pl__tview_numel(&hout[k]);
            size_t bytes = pl__tview_bytes(&dout[k]);
            void *hb = malloc(bytes + 4);
            float *got = malloc(sizeof(float) * (size_t)(n + 1)), *ref = malloc(sizeof(float) * (size_t)(n + 1));
            char lab[260];
            PL_CHECK_OK(cu->copy(bctx, hb, dout[k].data, bytes, PL__D2H));
            PL_CHECK_OK(cu->sync(bctx));
            for (int64_t j = 0; j < n; j++) {
                got[j] = dout[k].dtype == PL_FLOAT16 ? pl__half_to_float(((uint16_t *)hb)[j])
                                                     : pl_tc_to_float(hb, dout[k].dtype, j);
                ref[j] = pl_tc_to_float(hout[k].data, hout[k].dtype, j);
            }
            if (g_nhwc && hout[k].rank == 4) {
                float *pr = malloc(sizeof(float) * (size_t)(n + 1));
                to_nhwc(pr, ref, hout[k].dims);
                free(ref);
                ref = pr;
            }
            snprintf(lab, sizeof(lab), "%s [%s] output %d", label, tn, k);
            PL_CHECK(pl_tc_close(lab, got, ref, n, fp16 ? 1e-2 : 1e-4));
            free(hb);
            free(got);
            free(ref);
        }
        ok_tactics++;
    }
    PL_CHECK(ok_tactics > 0);
done:
    for (int i = 0; i < MAXIO; i++) {
        free(hin[i].data);
        free(hout[i].data);
        if (bctx && din[i].data)
            cu->release(bctx, din[i].data);
        if (bctx && dout[i].data)
            cu->release(bctx, dout[i].data);
    }
    if (ws)
        cu->release(bctx, ws);
    if (bctx)
        cu->destroy(bctx);
    if (hbctx)
        pl__cpu_backend.destroy(hbctx);
    free(hws);
    pl_network_free(net);
}

static kin K(int rank, const int64_t *dims, float lo, float hi) {
    kin k;
    memset(&k, 0, sizeof(k));
    k.rank = rank;
    memcpy(k.dims, dims, sizeof(int64_t) * (size_t)rank);
    k.lo = lo;
    k.hi = hi;
    return k;
}

static void both(const char *what, const char *op, const pl_attr *at, int nat, int nin,
                 const kin *ins, int nout) {
    kcheck(what, op, at, nat, nin, ins, nout, false);
    kcheck(what, op, at, nat, nin, ins, nout, true);
}

static void test_conv_tactics(void) {
    int64_t p1[4] = {1, 1, 1, 1}, s2[2] = {2, 2}, p0[4] = {0, 0, 1, 1};
    pl_attr a_p1[1] = {PL_ATTR_INTS("pads", p1, 4)};
    pl_attr a_relu[2] = {PL_ATTR_INTS("pads", p1, 4), PL_ATTR_S("activation", "Relu")};
    pl_attr a_hs[2] = {PL_ATTR_INTS("pads", p1, 4), PL_ATTR_S("activation", "HardSwish")};
    pl_attr a_dw[4] = {PL_ATTR_INTS("pads", p1, 4), PL_ATTR_INTS("strides", s2, 2),
                       PL_ATTR_I("group", 32), PL_ATTR_S("activation", "Relu")};
    pl_attr a_asym[1] = {PL_ATTR_INTS("pads", p0, 4)};
    kin c1[3] = {K(4, D(2, 16, 14, 14), -1, 1), K(4, D(32, 16, 3, 3), -0.2f, 0.2f),
                 K(1, D(32), -1, 1)};
    kin c_res[4] = {K(4, D(2, 16, 14, 14), -1, 1), K(4, D(16, 16, 3, 3), -0.2f, 0.2f),
                    K(1, D(16), -1, 1), K(4, D(2, 16, 14, 14), -1, 1)};
    kin c_nob[4] = {K(4, D(2, 16, 14, 14), -1, 1), K(4, D(16, 16, 3, 3), -0.2f, 0.2f),
                    K(1, D(16), -1, 1), K(4, D(2, 16, 14, 14), -1, 1)};
    kin dw[3] = {K(4, D(2, 32, 15, 15), -1, 1), K(4, D(32, 1, 3, 3), -0.5f, 0.5f),
                 K(1, D(32), -1, 1)};
    kin asym[2] = {K(4, D(1, 3, 9, 9), -1, 1), K(4, D(8, 3, 2, 2), -0.5f, 0.5f)};
    kin pw[3] = {K(4, D(4, 64, 7, 7), -1, 1), K(4, D(128, 64, 1, 1), -0.2f, 0.2f),
                 K(1, D(128), -1, 1)};
    if (!pl_test_have_cuda(__func__))
        return;
    c_nob[2].omitted = true;
    both("conv 3x3 + bias", "Conv", a_p1, 1, 3, c1, 1);
    both("conv 3x3 + bias + relu", "Conv", a_relu, 2, 3, c1, 1);
    both("conv + bias + residual + relu", "Conv", a_relu, 2, 4, c_res, 1);
    both("conv + residual (no bias) + hardswish", "Conv", a_hs, 2, 4, c_nob, 1);
    both("depthwise 3x3 s2 + relu", "Conv", a_dw, 4, 3, dw, 1);
    both("conv asymmetric pads", "Conv", a_asym, 1, 2, asym, 1);
    both("conv 1x1 + bias", "Conv", NULL, 0, 3, pw, 1);
}

static void test_gemm_tactics(void) {
    pl_attr tb[2] = {PL_ATTR_I("transB", 1), PL_ATTR_S("activation", "Relu")};
    pl_attr hs[2] = {PL_ATTR_I("transB", 1), PL_ATTR_S("activation", "HardSwish")};
    pl_attr ta[3] = {PL_ATTR_I("transA", 1), PL_ATTR_F("alpha", 0.5), PL_ATTR_F("beta", 2.0)};
    kin g1[3] = {K(2, D(32, 256), -1, 1), K(2, D(100, 256), -0.1f, 0.1f), K(1, D(100), -1, 1)};
    kin g2[3] = {K(2, D(24, 16), -1, 1), K(2, D(24, 40), -0.3f, 0.3f), K(2, D(16, 40), -1, 1)};
    kin m1[2] = {K(3, D(4, 33, 64), -1, 1), K(3, D(4, 64, 48), -0.3f, 0.3f)};
    kin m2[2] = {K(4, D(2, 1, 8, 16), -1, 1), K(4, D(1, 3, 16, 8), -0.3f, 0.3f)};
    if (!pl_test_have_cuda(__func__))
        return;
    both("gemm transB + bias + relu (epilogue)", "Gemm", tb, 2, 3, g1, 1);
    both("gemm + bias + hardswish", "Gemm", hs, 2, 3, g1, 1);
    both("gemm transA alpha beta C", "Gemm", ta, 3, 3, g2, 1);
    both("matmul batched", "MatMul", NULL, 0, 2, m1, 1);
    both("matmul broadcast", "MatMul", NULL, 0, 2, m2, 1);
}

static void test_nn_fp16(void) {
    int64_t k3[2] = {3, 3}, s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1};
    pl_attr mp[3] = {PL_ATTR_INTS("kernel_shape", k3, 2), PL_ATTR_INTS("strides", s2, 2),
                     PL_ATTR_INTS("pads", p1, 4)};
    kin x[1] = {K(4, D(2, 8, 17, 17), -2, 2)};
    kin bn[5] = {K(4, D(2, 8, 6, 6), -2, 2), K(1, D(8), 0.5f, 1.5f), K(1, D(8), -1, 1),
                 K(1, D(8), -0.5f, 0.5f), K(1, D(8), 0.5f, 2)};
    kin ln[3] = {K(2, D(6, 96), -2, 2), K(1, D(96), 0.5f, 1.5f), K(1, D(96), -1, 1)};
    kin sm[1] = {K(2, D(7, 300), -4, 4)};
    pl_attr ax[1] = {PL_ATTR_I("axis", -1)};
    if (!pl_test_have_cuda(__func__))
        return;
    for (int k = 1; k < 5; k++)
        bn[k].keep32 = true;
    ln[1].keep32 = ln[2].keep32 = true;
    both("MaxPool", "MaxPool", mp, 3, 1, x, 1);
    both("AveragePool", "AveragePool", mp, 3, 1, x, 1);
    both("GlobalAveragePool", "GlobalAveragePool", NULL, 0, 1, x, 1);
    both("BatchNormalization", "BatchNormalization", NULL, 0, 5, bn, 1);
    both("LayerNormalization", "LayerNormalization", ax, 1, 3, ln, 1);
    both("Softmax", "Softmax", NULL, 0, 1, sm, 1);
    both("HardSwish", "HardSwish", NULL, 0, 1, x, 1);
}

/* The channels-last variants (cuda.nhwc) of Conv (cuDNN and the depthwise kernel), pooling,
 * global pooling and broadcasting Mul, against the CPU's NCHW kernels. */
static void test_nhwc(void) {
    int64_t p1[4] = {1, 1, 1, 1}, s2[2] = {2, 2}, k3[2] = {3, 3};
    pl_attr a_relu[3] = {PL_ATTR_INTS("pads", p1, 4), PL_ATTR_S("activation", "Relu"),
                         PL_ATTR_I("cuda.nhwc", 1)};
    pl_attr a_hs[3] = {PL_ATTR_INTS("pads", p1, 4), PL_ATTR_S("activation", "HardSwish"),
                       PL_ATTR_I("cuda.nhwc", 1)};
    pl_attr a_dw[5] = {PL_ATTR_INTS("pads", p1, 4), PL_ATTR_INTS("strides", s2, 2),
                       PL_ATTR_I("group", 32), PL_ATTR_S("activation", "HardSwish"),
                       PL_ATTR_I("cuda.nhwc", 1)};
    pl_attr a_1[1] = {PL_ATTR_I("cuda.nhwc", 1)};
    pl_attr mp[4] = {PL_ATTR_INTS("kernel_shape", k3, 2), PL_ATTR_INTS("strides", s2, 2),
                     PL_ATTR_INTS("pads", p1, 4), PL_ATTR_I("cuda.nhwc", 1)};
    kin c1[3] = {K(4, D(2, 16, 14, 14), -1, 1), K(4, D(32, 16, 3, 3), -0.2f, 0.2f),
                 K(1, D(32), -1, 1)};
    kin c_res[4] = {K(4, D(2, 16, 14, 14), -1, 1), K(4, D(16, 16, 3, 3), -0.2f, 0.2f),
                    K(1, D(16), -1, 1), K(4, D(2, 16, 14, 14), -1, 1)};
    kin first[3] = {K(4, D(2, 3, 32, 32), -1, 1), K(4, D(16, 3, 7, 7), -0.2f, 0.2f),
                    K(1, D(16), -1, 1)};
    kin dw[4] = {K(4, D(2, 32, 15, 15), -1, 1), K(4, D(32, 1, 3, 3), -0.5f, 0.5f),
                 K(1, D(32), -1, 1), K(4, D(2, 32, 8, 8), -1, 1)};
    kin pw[3] = {K(4, D(4, 64, 7, 7), -1, 1), K(4, D(128, 64, 1, 1), -0.2f, 0.2f),
                 K(1, D(128), -1, 1)};
    kin x[1] = {K(4, D(2, 24, 17, 17), -2, 2)};
    kin se[2] = {K(4, D(2, 24, 17, 17), -2, 2), K(4, D(2, 24, 1, 1), 0, 1)};
    if (!pl_test_have_cuda(__func__))
        return;
    g_nhwc = true;
    kcheck("nhwc conv 3x3 + bias + relu", "Conv", a_relu, 3, 3, c1, 1, true);
    kcheck("nhwc conv + bias + residual + hardswish", "Conv", a_hs, 3, 4, c_res, 1, true);
    kcheck("nhwc conv 7x7 s1 on 3 channels", "Conv", a_1, 1, 3, first, 1, true);
    kcheck("nhwc conv 1x1 + bias", "Conv", a_1, 1, 3, pw, 1, true);
    both("nhwc depthwise 3x3 s2 + residual + hardswish", "Conv", a_dw, 5, 4, dw, 1);
    both("nhwc MaxPool", "MaxPool", mp, 4, 1, x, 1);
    both("nhwc AveragePool", "AveragePool", mp, 4, 1, x, 1);
    both("nhwc GlobalAveragePool", "GlobalAveragePool", a_1, 1, 1, x, 1);
    both("nhwc Mul broadcast (squeeze-excitation)", "Mul", a_1, 1, 2, se, 1);
    g_nhwc = false;
}

int main(void) {
    pl_tc_catch_crashes();
    PL_RUN(test_conv_tactics);
    PL_RUN(test_gemm_tactics);
    PL_RUN(test_nn_fp16);
    PL_RUN(test_nhwc);
    return pl_test_report();
}
