/*
 * test-cuda-layout.c - the CUDA backend's channels-last pass (backends/cuda/cuda-layout.c),
 * checked on the graph it produces (no GPU needed; the numerics of the NHWC kernels are in
 * test-cuda-kernels, the whole path in test-cuda-e2e / test-cuda-ops on the GPU machine).
 * A float16 network conv -> maxpool -> conv -> squeeze-excitation Mul -> Add -> global pool ->
 * Flatten, with the Add also a graph output: every Conv, the pools, Mul and Add must be marked
 * "cuda.nhwc"; exactly one relayout into NHWC (before the first Conv) and one back (the 4-D
 * graph output) may exist, none on the 1x1 tensors; the Conv weights must be permuted to
 * [M, kH, kW, C]; and the layer order must stay topological.
 * Without the CUDA backend in the build it prints "skipped" and passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "graph/graph.h"
#include "graph/ops.h"
#include "harness.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})

/* Concrete shapes for every tensor (the builder's ranges, all three alike here). */
static void fill_ranges(pl_network *net) {
    for (int t = 0; t < net->ntensors; t++) {
        pl__tensor *tt = &net->tensors[t];
        if (tt->kind == PL__TENSOR_ACT)
            continue;
        memcpy(tt->min_dims, tt->dims, sizeof(tt->dims));
        memcpy(tt->opt_dims, tt->dims, sizeof(tt->dims));
        memcpy(tt->max_dims, tt->dims, sizeof(tt->dims));
    }
    for (int li = 0; li < net->nlayers; li++) {
        pl__layer *l = &net->layers[li];
        pl__tview in[8], out[4];
        pl__infer ic = {l, l->nin, in, l->nout, out};
        memset(in, 0, sizeof(in));
        memset(out, 0, sizeof(out));
        for (int i = 0; i < l->nin; i++) {
            const pl__tensor *t = &net->tensors[l->in[i]];
            in[i].dtype = t->dtype;
            in[i].rank = t->rank;
            memcpy(in[i].dims, t->dims, sizeof(t->dims));
            in[i].data = t->data;
        }
        PL_CHECK_OK(pl__layer_infer(&ic));
        for (int o = 0; o < l->nout; o++) {
            pl__tensor *t = &net->tensors[l->out[o]];
            t->dtype = out[o].dtype;
            t->rank = out[o].rank;
            memcpy(t->dims, out[o].dims, sizeof(t->dims));
            memcpy(t->min_dims, out[o].dims, sizeof(t->dims));
            memcpy(t->opt_dims, out[o].dims, sizeof(t->dims));
            memcpy(t->max_dims, out[o].dims, sizeof(t->dims));
        }
    }
}

static int count_attr(const pl_network *net, const char *op, const char *attr, int64_t v) {
    int n = 0;
    for (int li = 0; li < net->nlayers; li++)
        if (!net->layers[li].dead && strcmp(net->layers[li].op, op) == 0 &&
            pl__attr_int(&net->layers[li].attrs, attr, 0) == v)
            n++;
    return n;
}

static void test_pass(void) {
    const pl__backend *cu = pl__backend_get(PL_DEVICE_CUDA);
    pl_network *net = NULL;
    pl_tensor x, w1, b1, w2, y1, y2, y3, g, y4, y5, g2, f;
    float wd[8 * 3 * 3 * 3], bd[8], w2d[8 * 8];
    int64_t p1[4] = {1, 1, 1, 1}, k3[2] = {3, 3}, s2[2] = {2, 2};
    pl_attr ca[2] = {PL_ATTR_INTS("pads", p1, 4), PL_ATTR_S("activation", "Relu")};
    pl_attr mp[3] = {PL_ATTR_INTS("kernel_shape", k3, 2), PL_ATTR_INTS("strides", s2, 2),
                     PL_ATTR_INTS("pads", p1, 4)};
    const pl__tensor *wt = NULL;
    pl_tensor tin[3];
    if (!cu || !cu->optimize) {
        printf("  %s: skipped: no CUDA backend in this build\n", __func__);
        return;
    }
    for (int i = 0; i < 8 * 27; i++)
        wd[i] = (float)i / 64.f;
    for (int i = 0; i < 8; i++)
        bd[i] = (float)i;
    for (int i = 0; i < 64; i++)
        w2d[i] = (float)(i % 7) / 8.f;
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 4, D(2, 3, 16, 16), NULL, &x));
    PL_CHECK_OK(pl_network_add_constant(net, "w1", PL_FLOAT32, 4, D(8, 3, 3, 3), wd, &w1));
    PL_CHECK_OK(pl_network_add_constant(net, "b1", PL_FLOAT32, 1, D(8), bd, &b1));
    PL_CHECK_OK(pl_network_add_constant(net, "w2", PL_FLOAT32, 4, D(8, 8, 1, 1), w2d, &w2));
    tin[0] = x, tin[1] = w1, tin[2] = b1;
    PL_CHECK_OK(pl_network_add_layer(net, "Conv", "c1", tin, 3, ca, 2, 1, NULL, &y1));
    PL_CHECK_OK(pl_network_add_layer(net, "MaxPool", "mp", &y1, 1, mp, 3, 1, NULL, &y2));
    tin[0] = y2, tin[1] = w2;
    PL_CHECK_OK(pl_network_add_layer(net, "Conv", "c2", tin, 2, NULL, 0, 1, NULL, &y3));
    PL_CHECK_OK(pl_network_add_layer(net, "GlobalAveragePool", "g", &y3, 1, NULL, 0, 1, NULL, &g));
    tin[0] = y3, tin[1] = g;
    PL_CHECK_OK(pl_network_add_layer(net, "Mul", "se", tin, 2, NULL, 0, 1, NULL, &y4));
    tin[0] = y4, tin[1] = y2;
    PL_CHECK_OK(pl_network_add_layer(net, "Add", "add", tin, 2, NULL, 0, 1, NULL, &y5));
    PL_CHECK_OK(pl_network_add_layer(net, "GlobalAveragePool", "g2", &y5, 1, NULL, 0, 1, NULL, &g2));
    PL_CHECK_OK(pl_network_add_layer(net, "Flatten", "fl", &g2, 1, NULL, 0, 1, NULL, &f));
    PL_CHECK_OK(pl_network_mark_output(net, f));
    PL_CHECK_OK(pl_network_mark_output(net, y5));
    fill_ranges(net);
    PL_CHECK_OK(cu->optimize(net, true));
    PL_CHECK_OK(pl__network_compact(net));
    fill_ranges(net);
    if (getenv("PL_TEST_DUMP"))
        for (int li = 0; li < net->nlayers; li++) {
            const pl__layer *l = &net->layers[li];
            printf("  %-10s %-18s nhwc %lld relayout %lld in", l->op, l->name,
                   (long long)pl__attr_int(&l->attrs, "cuda.nhwc", 0),
                   (long long)pl__attr_int(&l->attrs, "cuda.relayout", 0));
            for (int k = 0; k < l->nin; k++)
                printf(" %s", l->in[k] >= 0 ? net->tensors[l->in[k]].name : "-");
            printf(" -> %s\n", net->tensors[l->out[0]].name);
        }
    PL_CHECK(count_attr(net, "Conv", "cuda.nhwc", 1) == 2);
    PL_CHECK(count_attr(net, "MaxPool", "cuda.nhwc", 1) == 1);
    PL_CHECK(count_attr(net, "GlobalAveragePool", "cuda.nhwc", 1) == 2);
    PL_CHECK(count_attr(net, "Mul", "cuda.nhwc", 1) == 1);
    PL_CHECK(count_attr(net, "Add", "cuda.nhwc", 1) == 1);
    PL_CHECK(count_attr(net, "Identity", "cuda.relayout", 1) == 1);
    PL_CHECK(count_attr(net, "Identity", "cuda.relayout", 2) == 1);
    /* topological order, and the graph outputs are NCHW float32 under their names */
    for (int li = 0; li < net->nlayers; li++)
        for (int k = 0; k < net->layers[li].nin; k++) {
            int32_t t = net->layers[li].in[k];
            PL_CHECK(t < 0 || net->tensors[t].producer < li);
        }
    for (int i = 0; i < net->noutputs; i++) {
        const pl__tensor *o = &net->tensors[net->outputs[i]];
        PL_CHECK(o->dtype == PL_FLOAT32);
        PL_CHECK(strcmp(o->name, i == 0 ? "fl:0" : "add:0") == 0 || o->name[0]);
    }
    /* the first Conv's weights: float16 [8, 3, 3, 3] stored [8, 3(kH), 3(kW), 3(C)] */
    for (int li = 0; li < net->nlayers; li++)
        if (strcmp(net->layers[li].name, "c1") == 0)
            wt = &net->tensors[net->layers[li].in[1]];
    PL_CHECK(wt && wt->kind == PL__TENSOR_CONST && wt->dtype == PL_FLOAT16);
    if (wt && wt->dtype == PL_FLOAT16) {
        const uint16_t *h = wt->data;
        int bad = 0;
        for (int m = 0; m < 8; m++)
            for (int c = 0; c < 3; c++)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 3; kx++)
                        bad += h[((m * 3 + ky) * 3 + kx) * 3 + c] !=
                               pl__float_to_half(wd[((m * 3 + c) * 3 + ky) * 3 + kx]);
        PL_CHECK(bad == 0);
    }
    pl_network_free(net);
}

int main(void) {
    PL_RUN(test_pass);
    return pl_test_report();
}
