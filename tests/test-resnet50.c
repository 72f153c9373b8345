/*
 * test-resnet50.c - a ResNet-50-shaped network (bottleneck stages 3-4-6-3, batch norm, residual
 * adds, max pool, global average pool, fully connected) defined through the C API with random
 * weights from a fixed seed, built for the CPU, run through the API, then saved and run through
 * the `plinth` command-line tool: both must give the same outputs. Also checks the builder folded
 * every batch norm and fused every residual add and relu.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static uint64_t seed = 50;

static pl_tensor weight(pl_network *net, const char *name, int rank, const int64_t *dims, float scale) {
    int64_t n = 1;
    float *w;
    pl_tensor t = -1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    w = malloc(sizeof(float) * (size_t)n);
    pl_test_fill_uniform(w, n, -scale, scale, seed++);
    PL_CHECK_OK(pl_network_add_constant(net, name, PL_FLOAT32, rank, dims, w, &t));
    free(w);
    return t;
}

static pl_tensor conv_bn(pl_network *net, pl_tensor x, int64_t cin, int64_t cout, int64_t k,
                         int64_t stride, const char *name, int relu) {
    char buf[128];
    int64_t wd[4] = {cout, cin, k, k}, cd[1] = {cout};
    int64_t pads[4] = {k / 2, k / 2, k / 2, k / 2}, strides[2] = {stride, stride}, ks[2] = {k, k};
    pl_attr attrs[3] = {PL_ATTR_INTS("pads", pads, 4), PL_ATTR_INTS("strides", strides, 2),
                        PL_ATTR_INTS("kernel_shape", ks, 2)};
    pl_tensor in[5], y = -1, z = -1;
    float scale = sqrtf(6.0f / (float)(cin * k * k));
    snprintf(buf, sizeof(buf), "%s.w", name);
    in[0] = x;
    in[1] = weight(net, buf, 4, wd, scale);
    PL_CHECK_OK(pl_network_add_layer(net, "Conv", name, in, 2, attrs, 3, 1, NULL, &y));
    in[0] = y;
    for (int i = 0; i < 4; i++) {
        float *v = malloc(sizeof(float) * (size_t)cout);
        pl_test_fill_uniform(v, cout, i == 3 ? 0.5f : (i == 0 ? 0.5f : -0.1f), i == 3 ? 1.5f : (i == 0 ? 1.0f : 0.1f), seed++);
        snprintf(buf, sizeof(buf), "%s.bn%d", name, i);
        PL_CHECK_OK(pl_network_add_constant(net, buf, PL_FLOAT32, 1, cd, v, &in[1 + i]));
        free(v);
    }
    snprintf(buf, sizeof(buf), "%s_bn", name);
    PL_CHECK_OK(pl_network_add_layer(net, "BatchNormalization", buf, in, 5, NULL, 0, 1, NULL, &z));
    if (!relu)
        return z;
    snprintf(buf, sizeof(buf), "%s_relu", name);
    PL_CHECK_OK(pl_network_add_layer(net, "Relu", buf, &z, 1, NULL, 0, 1, NULL, &y));
    return y;
}

static pl_tensor bottleneck(pl_network *net, pl_tensor x, int64_t cin, int64_t width, int64_t stride,
                            const char *name) {
    char a[64], b[64], c[64], s[64], add[64], out[64];
    pl_tensor y, sc, in[2], sum = -1, r = -1;
    snprintf(a, sizeof(a), "%s.a", name);
    snprintf(b, sizeof(b), "%s.b", name);
    snprintf(c, sizeof(c), "%s.c", name);
    snprintf(s, sizeof(s), "%s.down", name);
    snprintf(add, sizeof(add), "%s.add", name);
    snprintf(out, sizeof(out), "%s.relu", name);
    y = conv_bn(net, x, cin, width, 1, 1, a, 1);
    y = conv_bn(net, y, width, width, 3, stride, b, 1);
    y = conv_bn(net, y, width, width * 4, 1, 1, c, 0);
    sc = (stride != 1 || cin != width * 4) ? conv_bn(net, x, cin, width * 4, 1, stride, s, 0) : x;
    in[0] = y;
    in[1] = sc;
    PL_CHECK_OK(pl_network_add_layer(net, "Add", add, in, 2, NULL, 0, 1, NULL, &sum));
    PL_CHECK_OK(pl_network_add_layer(net, "Relu", out, &sum, 1, NULL, 0, 1, NULL, &r));
    return r;
}

static pl_network *resnet50(int64_t batch) {
    pl_network *net = NULL;
    pl_tensor x, y, p = -1, g = -1, f = -1, o = -1, in[3];
    int64_t xd[4] = {batch, 3, 224, 224}, fcw[2] = {1000, 2048}, fcb[1] = {1000};
    int64_t k3[2] = {3, 3}, s2[2] = {2, 2}, p1[4] = {1, 1, 1, 1};
    pl_attr pool[3] = {PL_ATTR_INTS("kernel_shape", k3, 2), PL_ATTR_INTS("strides", s2, 2),
                       PL_ATTR_INTS("pads", p1, 4)};
    pl_attr gemm[1] = {PL_ATTR_I("transB", 1)};
    static const int blocks[4] = {3, 4, 6, 3};
    int64_t cin = 64;
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "input", PL_FLOAT32, 4, xd, NULL, &x));
    y = conv_bn(net, x, 3, 64, 7, 2, "conv1", 1);
    PL_CHECK_OK(pl_network_add_layer(net, "MaxPool", "maxpool", &y, 1, pool, 3, 1, NULL, &p));
    y = p;
    for (int st = 0; st < 4; st++) {
        int64_t width = 64 << st;
        for (int bl = 0; bl < blocks[st]; bl++) {
            char name[32];
            snprintf(name, sizeof(name), "layer%d.%d", st + 1, bl);
            y = bottleneck(net, y, cin, width, (bl == 0 && st > 0) ? 2 : 1, name);
            cin = width * 4;
        }
    }
    PL_CHECK_OK(pl_network_add_layer(net, "GlobalAveragePool", "gap", &y, 1, NULL, 0, 1, NULL, &g));
    PL_CHECK_OK(pl_network_add_layer(net, "Flatten", "flatten", &g, 1, NULL, 0, 1, NULL, &f));
    in[0] = f;
    in[1] = weight(net, "fc.w", 2, fcw, 0.05f);
    in[2] = weight(net, "fc.b", 1, fcb, 0.05f);
    PL_CHECK_OK(pl_network_add_layer(net, "Gemm", "fc", in, 3, gemm, 1, 1, (const char *[]){"logits"}, &o));
    PL_CHECK_OK(pl_network_mark_output(net, o));
    return net;
}

static void test_resnet50_api_and_cli(void) {
    pl_network *net = resnet50(1);
    pl_builder_config *cfg = NULL;
    void *data = NULL;
    size_t size = 0;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    int64_t n = 3 * 224 * 224;
    float *x = malloc(sizeof(float) * (size_t)n), y[1000], *y2;
    pl_host_tensor tx = {0}, ty = {0};
    char dir[] = "/tmp/plinth-r50-XXXXXX", path[512], cmd[2048];
    int convs = 0, others = 0;
    FILE *f;
    PL_CHECK(mkdtemp(dir) != NULL);
    pl_test_fill_uniform(x, n, -1, 1, 7);
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    PL_CHECK_OK(pl_build_serialized(net, cfg, &data, &size));
    PL_CHECK_OK(pl_engine_load(data, size, &e));
    /* every BN folded; every residual add and relu fused into a conv */
    for (int i = 0; e && i < pl_engine_num_layers(e); i++) {
        pl_layer_info li;
        PL_CHECK_OK(pl_engine_layer(e, i, &li));
        if (strcmp(li.op, "Conv") == 0)
            convs++;
        else
            others++;
    }
    PL_CHECK(convs == 53);
    PL_CHECK(others == 4); /* maxpool, gap, flatten, fc */
    PL_CHECK_OK(pl_context_create(e, &ctx));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "input", x, PL_MEMORY_HOST, sizeof(float) * (size_t)n));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "logits", y, PL_MEMORY_HOST, sizeof(y)));
    PL_CHECK_OK(pl_context_execute(ctx));
    /* the same engine through the CLI */
    snprintf(path, sizeof(path), "%s/r50.engine", dir);
    f = fopen(path, "wb");
    PL_CHECK(f && fwrite(data, 1, size, f) == size);
    if (f)
        fclose(f);
    tx.dtype = PL_FLOAT32;
    tx.rank = 4;
    tx.dims[0] = 1, tx.dims[1] = 3, tx.dims[2] = 224, tx.dims[3] = 224;
    tx.data = x;
    tx.nbytes = sizeof(float) * (size_t)n;
    snprintf(path, sizeof(path), "%s/x.npy", dir);
    PL_CHECK_OK(pl_tensor_file_write(path, &tx));
    snprintf(cmd, sizeof(cmd), "%s/plinth run %s/r50.engine --input input=%s/x.npy --outputs %s/out > %s/log.txt 2>&1",
             PL_BUILD_DIR, dir, dir, dir, dir);
    PL_CHECK(system(cmd) == 0);
    snprintf(path, sizeof(path), "%s/out/output_0.pb", dir);
    PL_CHECK_OK(pl_tensor_file_read(path, &ty));
    PL_CHECK(ty.dtype == PL_FLOAT32 && ty.rank == 2 && ty.dims[0] == 1 && ty.dims[1] == 1000);
    y2 = ty.data;
    if (y2 && ty.nbytes == sizeof(y)) {
        double max_abs, rel;
        pl_test_compare(y2, y, 1000, &max_abs, &rel);
        printf("resnet50: API vs CLI max abs %.3g rel L2 %.3g; logits[0..2] %.5f %.5f %.5f\n",
               max_abs, rel, y[0], y[1], y[2]);
        PL_CHECK(rel < 1e-5);
        PL_CHECK(isfinite(y[0]) && fabs(y[0]) > 0);
    }
    pl_host_tensor_release(&ty);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    PL_CHECK(system(cmd) == 0);
    free(x);
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(data);
    pl_builder_config_free(cfg);
    pl_network_free(net);
}

int main(void) {
    PL_RUN(test_resnet50_api_and_cli);
    return pl_test_report();
}
