/*
 * test-plugin-samples.c - the four QDP samples of libplinth_samples and the failure paths of
 * plugin kernels, run directly through pl__layer_infer and the kernels pl__plugin_kernel
 * returns (no builder): results against naive references written here, FP32 and FP16, in-place
 * outputs with shared and separate buffers, the non-zero size tensor, both circ_pad tactics,
 * and kernels that fail (message naming node and plugin, no abort).
 */
#include <math.h>

#include "harness.h"
#include "graph/graph.h"
#include "plugin-test-util.h"

#define LIB(name) PL_TEST_PLUGIN_DIR "/lib" name ".so"

static pl_network *net;
static pl_tensor xt;

static void fresh(int rank, const int64_t *dims, pl_dtype dt) {
    pl_network_free(net);
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", dt, rank, dims, NULL, &xt));
}

static pl_status add(const char *name, const pl_attr *attrs, int nattrs, int nout) {
    pl_tensor y[2];
    return pl_network_add_plugin(net, "sample", name, NULL, name, &xt, 1, attrs, nattrs, nout,
                                 NULL, y);
}

static void test_elemwise_add(void) {
    float x[15], *y;
    uint16_t h[15];
    pl__tview in = {x, PL_FLOAT32, 2, {3, 5}}, out;
    pl_test_fill_uniform(x, 15, -4.f, 4.f, 11);
    fresh(2, (int64_t[]){3, 5}, PL_FLOAT32);
    PL_CHECK_OK(add("elemwise_add_plugin", (pl_attr[]){PL_ATTR_I("block_size", 4)}, 1, 1));
    PL_CHECK_OK(pl_test_run_layer(net, 0, &in, &out, 0));
    y = out.data;
    PL_CHECK(out.dtype == PL_FLOAT32 && out.rank == 2 && out.dims[0] == 3 && out.dims[1] == 5);
    for (int i = 0; y && i < 15; i++)
        PL_CHECK(y[i] == x[i] + 1.f);
    pl_test_free_views(&out, 1);
    /* FP16: the reference goes through the core's own half conversion */
    for (int i = 0; i < 15; i++)
        h[i] = pl__float_to_half(x[i]);
    in = (pl__tview){h, PL_FLOAT16, 2, {3, 5}};
    fresh(2, (int64_t[]){3, 5}, PL_FLOAT16);
    PL_CHECK_OK(add("elemwise_add_plugin", NULL, 0, 1)); /* block_size defaults to 256 */
    PL_CHECK_OK(pl_test_run_layer(net, 0, &in, &out, 0));
    PL_CHECK(out.dtype == PL_FLOAT16);
    for (int i = 0; out.data && i < 15; i++)
        PL_CHECK(((uint16_t *)out.data)[i] == pl__float_to_half(pl__half_to_float(h[i]) + 1.f));
    pl_test_free_views(&out, 1);
    /* a kernel error names the node and the plugin; nothing aborts */
    fresh(2, (int64_t[]){3, 5}, PL_FLOAT32);
    in = (pl__tview){x, PL_FLOAT32, 2, {3, 5}};
    PL_CHECK_OK(add("elemwise_add_plugin", (pl_attr[]){PL_ATTR_I("block_size", 0)}, 1, 1));
    PL_CHECK_FAILS(pl_test_run_layer(net, 0, &in, &out, 0), PL_ERR_PLUGIN,
                   "node 'elemwise_add_plugin' (plugin 'sample::elemwise_add_plugin'): "
                   "block_size must be positive, got 0");
    pl_test_free_views(&out, 1);
    /* dtypes outside "FP32|FP16, FP32|FP16" */
    fresh(1, (int64_t[]){4}, PL_INT64);
    PL_CHECK_OK(add("elemwise_add_plugin", NULL, 0, 1));
    in = (pl__tview){x, PL_INT64, 1, {4}};
    PL_CHECK_FAILS(pl_test_run_layer(net, 0, &in, &out, 0), PL_ERR_INVALID_ARG,
                   "input dtypes (INT64) are not accepted; it accepts (FP32, FP32) (FP16, FP16)");
    pl_test_free_views(&out, 1);
}

static void test_inplace(void) {
    float x[8], keep[8];
    pl__tview in = {x, PL_FLOAT32, 1, {8}}, out;
    pl_test_fill_uniform(x, 8, -1.f, 1.f, 5);
    memcpy(keep, x, sizeof(x));
    fresh(1, (int64_t[]){8}, PL_FLOAT32);
    PL_CHECK_OK(add("elemwise_add_plugin_", NULL, 0, 1));
    PL_CHECK(pl__plugin_alias(&net->layers[0], 0) == 0);
    /* separate buffers: the output gets x + 1 and the input stays intact */
    PL_CHECK_OK(pl_test_run_layer(net, 0, &in, &out, 0));
    for (int i = 0; out.data && i < 8; i++)
        PL_CHECK(((float *)out.data)[i] == keep[i] + 1.f && x[i] == keep[i]);
    pl_test_free_views(&out, 1);
    /* the delta attribute (QDP's schema), default 1 */
    fresh(1, (int64_t[]){8}, PL_FLOAT32);
    PL_CHECK_OK(add("elemwise_add_plugin_", (pl_attr[]){PL_ATTR_I("delta", -3)}, 1, 1));
    PL_CHECK_OK(pl_test_run_layer(net, 0, &in, &out, 0));
    for (int i = 0; out.data && i < 8; i++)
        PL_CHECK(((float *)out.data)[i] == keep[i] - 3.f);
    pl_test_free_views(&out, 1);
    fresh(1, (int64_t[]){8}, PL_FLOAT32);
    PL_CHECK_OK(add("elemwise_add_plugin_", NULL, 0, 1));
    /* shared buffer (what the memory planner does): updated in place, twice = x + 2 */
    {
        const pl__kernel_def *k = pl__plugin_kernel(&net->layers[0], PL_DEVICE_CPU);
        pl__tview o = in;
        pl__kernel_args a = {.layer = &net->layers[0], .nin = 1, .in = &in, .nout = 1, .out = &o};
        PL_CHECK(k && k->run(&a) == PL_OK && k->run(&a) == PL_OK);
        for (int i = 0; i < 8; i++)
            PL_CHECK(x[i] == keep[i] + 2.f);
    }
}

static void test_non_zero(void) {
    float x[12] = {0, 1, 0, 0, -2, 0, 0, 0, 0, 3, 0, 0.5f};
    pl__tview in = {x, PL_FLOAT32, 2, {3, 4}}, out[2];
    pl__infer ic;
    int32_t want[][2] = {{0, 1}, {1, 0}, {2, 1}, {2, 3}};
    fresh(2, (int64_t[]){3, 4}, PL_FLOAT32);
    PL_CHECK_FAILS(add("non_zero_plugin", NULL, 0, 1), PL_ERR_INVALID_ARG, "has 2 outputs, got 1");
    PL_CHECK_OK(add("non_zero_plugin", NULL, 0, 2));
    PL_CHECK(pl__layer_data_dependent(&net->layers[net->nlayers - 1]));
    /* inference gives the upper bound */
    ic = (pl__infer){&net->layers[net->nlayers - 1], 1, &in, 2, out};
    PL_CHECK_OK(pl__layer_infer(&ic));
    PL_CHECK(out[0].dtype == PL_INT32 && out[0].rank == 2 && out[0].dims[0] == 12 &&
             out[0].dims[1] == 2);
    PL_CHECK(out[1].dtype == PL_INT32 && out[1].rank == 0);
    PL_CHECK_OK(pl__plugin_infer_opt(&ic));
    PL_CHECK(out[0].dims[0] == 6);
    /* the kernel's count becomes the actual extent */
    PL_CHECK_OK(pl_test_run_layer(net, net->nlayers - 1, &in, out, 0));
    PL_CHECK(out[0].rank == 2 && out[0].dims[0] == 4 && out[0].dims[1] == 2);
    PL_CHECK(out[1].data && *(int32_t *)out[1].data == 4);
    for (int i = 0; out[0].data && i < 4; i++)
        PL_CHECK(((int32_t *)out[0].data)[2 * i] == want[i][0] &&
                 ((int32_t *)out[0].data)[2 * i + 1] == want[i][1]);
    pl_test_free_views(out, 2);
    /* all zeros: an empty result */
    memset(x, 0, sizeof(x));
    PL_CHECK_OK(pl_test_run_layer(net, net->nlayers - 1, &in, out, 0));
    PL_CHECK(out[0].dims[0] == 0 && *(int32_t *)out[1].data == 0);
    pl_test_free_views(out, 2);
    /* not 2-D */
    fresh(3, (int64_t[]){1, 3, 4}, PL_FLOAT32);
    PL_CHECK_OK(add("non_zero_plugin", NULL, 0, 2));
    in.rank = 3;
    in.dims[0] = 1, in.dims[1] = 3, in.dims[2] = 4;
    PL_CHECK_FAILS(pl_test_run_layer(net, 0, &in, out, 0), PL_ERR_PLUGIN,
                   "expects a 2-D input, got rank 3");
    pl_test_free_views(out, 2);
}

/* torch's circular pad, written the obvious way */
static void circ_pad_ref(const float *x, const int64_t *xd, int r, const int64_t *pads, int np,
                         float *y, const int64_t *yd) {
    int64_t n = 1, idx[8] = {0};
    for (int a = 0; a < r; a++)
        n *= yd[a];
    for (int64_t o = 0; o < n; o++) {
        int64_t src = 0;
        for (int a = 0; a < r; a++) {
            int64_t before = a >= r - np / 2 ? pads[2 * (r - 1 - a)] : 0;
            int64_t s = ((idx[a] - before) % xd[a] + xd[a]) % xd[a];
            src = src * xd[a] + s;
        }
        y[o] = x[src];
        for (int a = r - 1; a >= 0 && ++idx[a] == yd[a]; a--)
            idx[a] = 0;
    }
}

static void test_circ_pad(void) {
    float x[2 * 3 * 4], ref[2 * 5 * 11];
    const int64_t xd[3] = {2, 3, 4}, pads[4] = {3, 4, 2, 0}, yd[3] = {2, 5, 11};
    pl__tview in = {x, PL_FLOAT32, 3, {2, 3, 4}}, out;
    pl_test_fill_uniform(x, 24, -1.f, 1.f, 7);
    circ_pad_ref(x, xd, 3, pads, 4, ref, yd);
    fresh(3, xd, PL_FLOAT32);
    PL_CHECK_OK(add("circ_pad_plugin", (pl_attr[]){PL_ATTR_INTS("pads", pads, 4)}, 1, 1));
    {
        const pl__kernel_def *k = pl__plugin_kernel(&net->layers[0], PL_DEVICE_CPU);
        PL_CHECK(k && k->ntactics == 2 && strcmp(k->tactic_names[1], "rows") == 0);
    }
    for (int tactic = 0; tactic < 2; tactic++) {
        PL_CHECK_OK(pl_test_run_layer(net, 0, &in, &out, tactic));
        PL_CHECK(out.rank == 3 && out.dims[0] == 2 && out.dims[1] == 5 && out.dims[2] == 11);
        PL_CHECK(out.data && memcmp(out.data, ref, sizeof(ref)) == 0);
        pl_test_free_views(&out, 1);
    }
    PL_CHECK_FAILS(pl_test_run_layer(net, 0, &in, &out, 2), PL_ERR_INTERNAL, "tactic 2");
    pl_test_free_views(&out, 1);
    /* negative pads crop, and pads may reach every dim */
    {
        const int64_t crop[6] = {-1, 2, 0, -2, 1, 1}, cd[3] = {4, 1, 5};
        float cref[4 * 1 * 5];
        circ_pad_ref(x, xd, 3, crop, 6, cref, cd);
        PL_CHECK_OK(add("circ_pad_plugin", (pl_attr[]){PL_ATTR_INTS("pads", crop, 6)}, 1, 1));
        for (int tactic = 0; tactic < 2; tactic++) {
            PL_CHECK_OK(pl_test_run_layer(net, net->nlayers - 1, &in, &out, tactic));
            PL_CHECK(out.dims[0] == 4 && out.dims[1] == 1 && out.dims[2] == 5);
            PL_CHECK(out.data && memcmp(out.data, cref, sizeof(cref)) == 0);
            pl_test_free_views(&out, 1);
        }
    }
    /* FP16 moves the same bits */
    {
        uint16_t h[24], *yh;
        for (int i = 0; i < 24; i++)
            h[i] = pl__float_to_half(x[i]);
        fresh(3, xd, PL_FLOAT16);
        PL_CHECK_OK(add("circ_pad_plugin", (pl_attr[]){PL_ATTR_INTS("pads", pads, 4)}, 1, 1));
        in = (pl__tview){h, PL_FLOAT16, 3, {2, 3, 4}};
        PL_CHECK_OK(pl_test_run_layer(net, 0, &in, &out, 1));
        yh = out.data;
        for (int i = 0; yh && i < 2 * 5 * 11; i++)
            PL_CHECK(pl__half_to_float(yh[i]) == pl__half_to_float(pl__float_to_half(ref[i])));
        pl_test_free_views(&out, 1);
    }
    /* bad pads */
    fresh(3, xd, PL_FLOAT32);
    in = (pl__tview){x, PL_FLOAT32, 3, {2, 3, 4}};
    PL_CHECK_FAILS(add("circ_pad_plugin", NULL, 0, 1), PL_ERR_INVALID_ARG,
                   "requires attribute 'pads' (INTS): torch.nn.functional.pad order");
    PL_CHECK_OK(add("circ_pad_plugin", (pl_attr[]){PL_ATTR_INTS("pads", pads, 3)}, 1, 1));
    PL_CHECK_FAILS(pl_test_run_layer(net, net->nlayers - 1, &in, &out, 0), PL_ERR_PLUGIN,
                   "pads has 3 values; expected an even count up to 6");
    pl_test_free_views(&out, 1);
}

static void test_failing_kernels(void) {
    float x[4] = {1, 2, -3, 4};
    pl__tview in = {x, PL_FLOAT32, 1, {4}}, out;
    pl_tensor y;
    fresh(1, (int64_t[]){4}, PL_FLOAT32);
    PL_CHECK_OK(pl_network_add_plugin(net, "test", "fail_kernel", NULL, "boom", &xt, 1, NULL, 0,
                                      1, NULL, &y));
    PL_CHECK_FAILS(pl_test_run_layer(net, 0, &in, &out, 0), PL_ERR_PLUGIN,
                   "node 'boom' (plugin 'test::fail_kernel'): value -3 at index 2 is negative");
    pl_test_free_views(&out, 1);
    PL_CHECK_OK(pl_network_add_plugin(net, "test", "silent_fail", NULL, "quiet", &xt, 1, NULL, 0,
                                      1, NULL, &y));
    PL_CHECK_FAILS(pl_test_run_layer(net, 1, &in, &out, 0), PL_ERR_PLUGIN,
                   "node 'quiet' (plugin 'test::silent_fail'): the kernel failed without a "
                   "message");
    pl_test_free_views(&out, 1);
    /* workspace from an expression: numel * 4 + 16 bytes */
    PL_CHECK_OK(pl_network_add_plugin(net, "test", "workspace", NULL, "ws", &xt, 1, NULL, 0, 1,
                                      NULL, &y));
    x[2] = 3;
    PL_CHECK_OK(pl_test_run_layer(net, 2, &in, &out, 0));
    for (int i = 0; out.data && i < 4; i++)
        PL_CHECK(((float *)out.data)[i] == x[3 - i]);
    pl_test_free_views(&out, 1);
    /* per-context state */
    PL_CHECK_OK(pl_network_add_plugin(net, "test", "stateful", NULL, "st", &xt, 1, NULL, 0, 1,
                                      NULL, &y));
    PL_CHECK_OK(pl_test_run_layer(net, 3, &in, &out, 0));
    PL_CHECK(out.data && ((float *)out.data)[0] == x[0] + 1.f);
    pl_test_free_views(&out, 1);
    /* the built-in assert_finite: passes finite data, names the first non-finite element */
    PL_CHECK_OK(pl_network_add_plugin(net, "plinth", "assert_finite", NULL, "check", &xt, 1,
                                      (pl_attr[]){PL_ATTR_S("message", "after conv3")}, 1, 1,
                                      NULL, &y));
    PL_CHECK_OK(pl_test_run_layer(net, 4, &in, &out, 0));
    pl_test_free_views(&out, 1);
    x[1] = NAN;
    PL_CHECK_FAILS(pl_test_run_layer(net, 4, &in, &out, 0), PL_ERR_PLUGIN,
                   "node 'check' (plugin 'plinth::assert_finite'): after conv3: element 1 is nan");
    pl_test_free_views(&out, 1);
}

static void test_type_negotiation(void) {
    pl_dtype want[2];
    fresh(1, (int64_t[]){4}, PL_FLOAT64);
    PL_CHECK_OK(add("elemwise_add_plugin", NULL, 0, 1));
    /* FP64 is outside "FP32|FP16, FP32|FP16": cast to FP32, or to FP16 when fp16 is wanted */
    PL_CHECK_OK(pl__plugin_pick_types(&net->layers[0], (pl_dtype[]){PL_FLOAT64}, false, want));
    PL_CHECK(want[0] == PL_FLOAT32);
    PL_CHECK_OK(pl__plugin_pick_types(&net->layers[0], (pl_dtype[]){PL_FLOAT64}, true, want));
    PL_CHECK(want[0] == PL_FLOAT16);
    /* an accepted dtype stays, whatever the preference */
    PL_CHECK_OK(pl__plugin_pick_types(&net->layers[0], (pl_dtype[]){PL_FLOAT32}, true, want));
    PL_CHECK(want[0] == PL_FLOAT32);
    /* inference treats a reachable input as cast (the builder inserts the cast later) ... */
    {
        double xd[4] = {1, 2, 3, 4};
        pl__tview in = {xd, PL_FLOAT64, 1, {4}}, out;
        pl__infer ic = {&net->layers[0], 1, &in, 1, &out};
        const pl__kernel_def *k = pl__plugin_kernel(&net->layers[0], PL_DEVICE_CPU);
        pl__kernel_args a = {.layer = &net->layers[0], .nin = 1, .in = &in, .nout = 1, .out = &out};
        PL_CHECK_OK(pl__layer_infer(&ic));
        PL_CHECK(out.dtype == PL_FLOAT32 && out.rank == 1 && out.dims[0] == 4);
        /* ... but no kernel ever sees data it did not declare */
        PL_CHECK(k && !k->supports(&a));
        PL_CHECK(strstr(pl_errmsg(), "dtypes (FP64 -> FP32) are not accepted") != NULL);
        out.data = xd;
        PL_CHECK_FAILS(k->run(&a), PL_ERR_UNSUPPORTED, "are not accepted");
    }
    /* integers are never silently turned into floats */
    PL_CHECK_FAILS(pl__plugin_pick_types(&net->layers[0], (pl_dtype[]){PL_INT64}, false, want),
                   PL_ERR_UNSUPPORTED, "input dtypes (INT64) cannot be cast");
}

int main(void) {
    if (pl_plugins_load(PL_SAMPLES_LIB) || pl_plugins_load(LIB("pl_test_plugins"))) {
        fprintf(stderr, "cannot load the plugin libraries: %s\n", pl_errmsg());
        return 1;
    }
    PL_RUN(test_elemwise_add);
    PL_RUN(test_inplace);
    PL_RUN(test_non_zero);
    PL_RUN(test_circ_pad);
    PL_RUN(test_failing_kernels);
    PL_RUN(test_type_negotiation);
    pl_network_free(net);
    return pl_test_report();
}
