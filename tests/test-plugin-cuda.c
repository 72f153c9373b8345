/*
 * test-plugin-cuda.c - plugin kernels on the CUDA backend: a network of a CUDA scale, an
 * in-place CUDA doubling and a CUDA compaction whose size tensor lives in device memory, built
 * for CUDA and for the CPU, both compared with a reference computed here. Skipped without a
 * CUDA build or device.
 */
#include <string.h>

#include "harness.h"

#ifdef PL_CUDA_PLUGINS_LIB
static pl_status run(pl_device dev, const float *x, float *vals, int32_t *count, int64_t *n_out) {
    pl_network *net = NULL;
    pl_builder_config *cfg = NULL;
    pl_engine *e = NULL;
    pl_context *c = NULL;
    void *plan = NULL;
    size_t size;
    pl_tensor t[5];
    int rank;
    int64_t dims[8];
    pl_status s;
    pl_layer_info info;
    if ((s = pl_network_create(&net)) ||
        (s = pl_network_add_input(net, "x", PL_FLOAT32, 1, (int64_t[]){1000}, NULL, &t[0])) ||
        (s = pl_network_add_plugin(net, "test", "cuda_scale", NULL, "scale", &t[0], 1,
                                   (pl_attr[]){PL_ATTR_F("alpha", -1.5)}, 1, 1, NULL, &t[1])) ||
        (s = pl_network_add_plugin(net, "test", "cuda_double_inplace", NULL, "double", &t[1], 1,
                                   NULL, 0, 1, NULL, &t[2])) ||
        (s = pl_network_add_plugin(net, "test", "cuda_positive", NULL, "positive", &t[2], 1, NULL,
                                   0, 2, (const char *[]){"vals", "count"}, &t[3])) ||
        (s = pl_network_mark_output(net, t[3])) || (s = pl_network_mark_output(net, t[4])) ||
        (s = pl_builder_config_create(&cfg)))
        goto done;
    pl_builder_config_set_device(cfg, dev);
    if ((s = pl_build_serialized(net, cfg, &plan, &size)) || (s = pl_engine_load(plan, size, &e)) ||
        (s = pl_context_create(e, &c)) ||
        (s = pl_context_set_tensor(c, "x", (void *)x, PL_MEMORY_HOST, 1000 * sizeof(float))) ||
        (s = pl_context_set_tensor(c, "vals", vals, PL_MEMORY_HOST, 1000 * sizeof(float))) ||
        (s = pl_context_set_tensor(c, "count", count, PL_MEMORY_HOST, sizeof(*count))) ||
        (s = pl_context_execute(c)) || (s = pl_context_get_shape(c, "vals", &rank, dims)))
        goto done;
    *n_out = dims[0];
    for (int i = 0; i < pl_engine_num_layers(e); i++)
        if (pl_engine_layer(e, i, &info) == PL_OK && strcmp(info.name, "scale") == 0)
            PL_CHECK(strstr(info.kernel, dev == PL_DEVICE_CUDA ? "cuda" : "cpu") != NULL);
done:
    pl_context_free(c);
    pl_engine_free(e);
    pl_free(plan);
    pl_builder_config_free(cfg);
    pl_network_free(net);
    return s;
}

static void test_cuda_kernels(void) {
    static float x[1000], ref[1000], vals[2][1000];
    int32_t count[2] = {-1, -1}, nref = 0;
    int64_t n[2] = {-1, -1};
    pl_test_fill_uniform(x, 1000, -1.f, 1.f, 77);
    for (int i = 0; i < 1000; i++) {
        float v = x[i] * -1.5f * 2.f;
        if (v > 0.f)
            ref[nref++] = v;
    }
    for (int d = 0; d < 2; d++) {
        pl_device dev = d ? PL_DEVICE_CUDA : PL_DEVICE_CPU;
        PL_CHECK_OK(run(dev, x, vals[d], &count[d], &n[d]));
        PL_CHECK(count[d] == nref && n[d] == nref);
        for (int i = 0; i < nref && count[d] == nref; i++)
            PL_CHECK(vals[d][i] == ref[i]);
    }
}
#endif

int main(void) {
#ifdef PL_CUDA_PLUGINS_LIB
    if (!pl_test_have_cuda("CUDA plugin kernels"))
        return 0;
    if (pl_plugins_load(PL_CUDA_PLUGINS_LIB)) {
        fprintf(stderr, "cannot load the CUDA test plugins: %s\n", pl_errmsg());
        return 1;
    }
    PL_RUN(test_cuda_kernels);
    return pl_test_report();
#else
    printf("skipped: built without CUDA (CUDA plugin kernels)\n");
    return 0;
#endif
}
