/*
 * test-plugin-attrs.c - binding plugin layers: identity resolution (newest version, exact
 * version recorded), missing plugins with hints, I/O counts, optional inputs, and attribute
 * validation against the schema - missing, unknown and mistyped attributes named in the message,
 * lossless conversions, defaults filled into the layer so the engine records every value, ONNX
 * mapping attributes dropped, and kernels reading every type. plinth.h is included before
 * plugin.h here (test-plugin-abi.c does the opposite).
 */
#include "harness.h"

#include "plinth/plugin.h"

#include "graph/graph.h"
#include "plugin-test-util.h"

#define LIB(name) PL_TEST_PLUGIN_DIR "/lib" name ".so"

static pl_network *net;
static pl_tensor x;

static void fresh(void) {
    pl_network_free(net);
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 2, (int64_t[]){2, 3}, NULL, &x));
}

static pl_status add(const char *ns, const char *name, const char *ver, const pl_attr *attrs,
                     int nattrs) {
    pl_tensor y;
    return pl_network_add_plugin(net, ns, name, ver, "node_a", &x, 1, attrs, nattrs, 1, NULL, &y);
}

static const pl__layer *last_layer(void) { return &net->layers[net->nlayers - 1]; }

static void test_missing_and_unknown(void) {
    fresh();
    PL_CHECK_FAILS(add("test", "attrs", NULL, NULL, 0), PL_ERR_INVALID_ARG,
                   "requires attribute 'required_i' (INT): must be given");
    PL_CHECK(strstr(pl_errmsg(), "node 'node_a'") && strstr(pl_errmsg(), "test::attrs"));
    pl_attr bad[] = {PL_ATTR_I("required_i", 1), PL_ATTR_I("zzz", 1)};
    PL_CHECK_FAILS(add("test", "attrs", NULL, bad, 2), PL_ERR_INVALID_ARG,
                   "has no attribute 'zzz' (it has: i, f, b, s, ints");
    pl_attr mistyped[] = {PL_ATTR_I("required_i", 1), PL_ATTR_S("i", "three")};
    PL_CHECK_FAILS(add("test", "attrs", NULL, mistyped, 2), PL_ERR_INVALID_ARG,
                   "attribute 'i' is STRING, expected INT");
    pl_attr lossy[] = {PL_ATTR_F("required_i", 1.5)};
    PL_CHECK_FAILS(add("test", "attrs", NULL, lossy, 1), PL_ERR_INVALID_ARG,
                   "attribute 'required_i' is FLOAT, expected INT");
    PL_CHECK_FAILS(add("nope", "missing", NULL, NULL, 0), PL_ERR_NOT_FOUND,
                   "plugin 'nope::missing' is not registered");
    PL_CHECK(strstr(pl_errmsg(), "pl_plugins_load") && strstr(pl_errmsg(), "--plugins"));
    /* same name elsewhere: the message says what exists */
    PL_CHECK_FAILS(add("other", "attrs", NULL, NULL, 0), PL_ERR_NOT_FOUND,
                   "registered with that name: 'test::attrs' version '1'");
    PL_CHECK_FAILS(add("test", "attrs", "7", NULL, 0), PL_ERR_NOT_FOUND, "version '7'");
    PL_CHECK(pl_network_num_layers(net) == 0); /* failed adds leave nothing behind */
}

static void test_defaults_and_conversions(void) {
    const pl__layer *l;
    const pl_attr *a;
    fresh();
    pl_attr given[] = {PL_ATTR_I("required_i", 42), PL_ATTR_I("f", 2), PL_ATTR_I("b", 5),
                       PL_ATTR_INTS("floats", ((int64_t[]){1, 2}), 2), PL_ATTR_I("ints", 9),
                       PL_ATTR_S("plugin_namespace", "test"), PL_ATTR_I("aot", 0)};
    PL_CHECK_OK(add("test", "attrs", "", given, 7));
    l = last_layer();
    PL_CHECK(l->attrs.n == 8); /* 5 given (2 mapping attributes dropped) + 3 defaults */
    PL_CHECK(!pl__attrs_find(&l->attrs, "plugin_namespace") && !pl__attrs_find(&l->attrs, "aot"));
    a = pl__attrs_find(&l->attrs, "f");
    PL_CHECK(a && a->type == PL_ATTR_FLOAT && a->f == 2.0);
    a = pl__attrs_find(&l->attrs, "b");
    PL_CHECK(a && a->type == PL_ATTR_BOOL && a->i == 1);
    a = pl__attrs_find(&l->attrs, "floats");
    PL_CHECK(a && a->type == PL_ATTR_FLOATS && a->count == 2 && a->floats[1] == 2.f);
    a = pl__attrs_find(&l->attrs, "ints");
    PL_CHECK(a && a->type == PL_ATTR_INTS && a->count == 1 && a->ints[0] == 9);
    a = pl__attrs_find(&l->attrs, "s");
    PL_CHECK(a && a->type == PL_ATTR_STRING && strcmp(a->s, "hello") == 0);
    a = pl__attrs_find(&l->attrs, "bytes");
    PL_CHECK(a && a->type == PL_ATTR_BYTES && a->count == 2);
    a = pl__attrs_find(&l->attrs, "i");
    PL_CHECK(a && a->type == PL_ATTR_INT && a->i == 3);
    PL_CHECK(strcmp(l->plugin_version, "1") == 0);
}

static void test_kernel_reads_every_type(void) {
    float xv[6] = {0};
    pl__tview in = {xv, PL_FLOAT32, 2, {2, 3}}, out;
    fresh();
    pl_attr given[] = {PL_ATTR_I("required_i", -4), PL_ATTR_S("s", "four"),
                       PL_ATTR_FLOATS("floats", ((float[]){1.f, 2.f, 3.5f}), 3)};
    PL_CHECK_OK(add("test", "attrs", NULL, given, 3));
    PL_CHECK_OK(pl_test_run_layer(net, 0, &in, &out, 0));
    if (out.data) {
        const float *y = out.data, want[8] = {3, 0.5f, 1, 4, 6, 6.5f, 2 + 7, -4};
        PL_CHECK(out.rank == 1 && out.dims[0] == 8 && out.dtype == PL_FLOAT32);
        for (int i = 0; i < 8; i++)
            PL_CHECK(y[i] == want[i]);
    }
    pl_test_free_views(&out, 1);
}

static void test_undeclared_read_is_reported(void) {
    float xv[6] = {1, 2, 3, 4, 5, 6};
    pl__tview in = {xv, PL_FLOAT32, 2, {2, 3}}, out;
    fresh();
    PL_CHECK_OK(add("test", "bad_attr_read", NULL, NULL, 0));
    PL_CHECK_FAILS(pl_test_run_layer(net, 0, &in, &out, 0), PL_ERR_PLUGIN,
                   "reads attribute 'undeclared', which its schema does not declare");
    PL_CHECK(strstr(pl_errmsg(), "node 'node_a' (plugin 'test::bad_attr_read')") != NULL);
    pl_test_free_views(&out, 1);
}

static int k1(pl_ctx *c) { return c->nin - 1; }
static int two_outputs(pl_ctx *c) {
    pl_output_like(c, 0, 0);
    return pl_output(c, 1, PL_INT64, 1, (pl_expr[]){pl_volume(c, 0)});
}

static void test_versions_and_counts(void) {
    static const char *const vers[] = {"1", "2", "10", "1.5"};
    pl_tensor ys[2];
    for (int i = 0; i < 4; i++) {
        pl_plugin_def d = {.abi = PL_PLUGIN_ABI, .ns = "app", .name = "versioned",
                           .version = vers[i], .num_inputs = 1, .num_outputs = 1, .cpu = k1};
        PL_CHECK_OK(pl_plugin_register(&d));
    }
    fresh();
    PL_CHECK_OK(add("app", "versioned", NULL, NULL, 0));
    PL_CHECK(strcmp(last_layer()->plugin_version, "10") == 0); /* numeric order, not text */
    PL_CHECK_OK(add("app", "versioned", "1.5", NULL, 0));
    PL_CHECK(strcmp(last_layer()->plugin_version, "1.5") == 0);
    PL_CHECK_FAILS(add("app", "versioned", "3", NULL, 0), PL_ERR_NOT_FOUND,
                   "'app::versioned' version '1', 'app::versioned' version '2'");
    /* counts */
    PL_CHECK_FAILS(pl_network_add_plugin(net, "app", "versioned", NULL, "n2", (pl_tensor[]){x, x},
                                         2, NULL, 0, 1, NULL, ys),
                   PL_ERR_INVALID_ARG, "takes 1 input, got 2");
    PL_CHECK_FAILS(pl_network_add_plugin(net, "app", "versioned", NULL, "n3", &x, 1, NULL, 0, 2,
                                         NULL, ys),
                   PL_ERR_INVALID_ARG, "has 1 output, got 2");
    PL_CHECK_OK(pl_network_add_plugin(net, "test", "optional_input", NULL, "o1", &x, 1, NULL, 0,
                                      1, NULL, ys));
    PL_CHECK_OK(pl_network_add_plugin(net, "test", "optional_input", NULL, "o2",
                                      (pl_tensor[]){x, PL_NO_TENSOR}, 2, NULL, 0, 1, NULL, ys));
    PL_CHECK_FAILS(pl_network_add_plugin(net, "test", "optional_input", NULL, "o3", NULL, 0, NULL,
                                         0, 1, NULL, ys),
                   PL_ERR_INVALID_ARG, "takes at least 1 input, got 0");
    /* outputs(): explicit dtype and a volume expression */
    {
        pl_plugin_def d = {.abi = PL_PLUGIN_ABI, .ns = "app", .name = "two", .num_inputs = 1,
                           .num_outputs = 2, .outputs = two_outputs, .cpu = k1};
        float xv[6] = {0};
        pl__tview in = {xv, PL_FLOAT32, 2, {2, 3}}, out[2];
        pl__infer ic = {NULL, 1, &in, 2, out};
        PL_CHECK_OK(pl_plugin_register(&d));
        fresh();
        PL_CHECK_OK(pl_network_add_plugin(net, "app", "two", NULL, "t", &x, 1, NULL, 0, 2, NULL,
                                          ys));
        ic.layer = last_layer();
        PL_CHECK_OK(pl__layer_infer(&ic));
        PL_CHECK(out[0].dtype == PL_FLOAT32 && out[0].rank == 2 && out[0].dims[1] == 3);
        PL_CHECK(out[1].dtype == PL_INT64 && out[1].rank == 1 && out[1].dims[0] == 6);
        PL_CHECK(!pl__layer_data_dependent(ic.layer));
    }
}

int main(void) {
    if (pl_plugins_load(LIB("pl_test_plugins")) != PL_OK) {
        fprintf(stderr, "cannot load the test plugins: %s\n", pl_errmsg());
        return 1;
    }
    PL_RUN(test_missing_and_unknown);
    PL_RUN(test_defaults_and_conversions);
    PL_RUN(test_kernel_reads_every_type);
    PL_RUN(test_undeclared_read_is_reported);
    PL_RUN(test_versions_and_counts);
    pl_network_free(net);
    return pl_test_report();
}
