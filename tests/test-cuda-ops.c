/*
 * test-cuda-ops.c - every op of the CUDA backend against the CPU backend: a one- or few-layer
 * network on random inputs (fixed seeds) is built for both devices, executed three times on the
 * GPU (the later runs replay the captured CUDA graph where the engine allows one, and must match
 * the first bit for bit), and compared with the CPU's output: float32 within relative L2 1e-4,
 * float16 engines (--fp16) within 1e-2. Each case also checks that no layer fell back to the CPU.
 * Without a GPU every case prints "skipped: no CUDA device" and passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test-cuda-util.h"

#define TOL32 1e-4
#define TOL16 1e-2

/* ---- network building helpers ---- */

typedef void (*build_fn)(pl_network *net, const pl_tensor *in);

static uint64_t seed_counter = 1;

static pl_tensor cst_f(pl_network *net, int rank, const int64_t *dims, float lo, float hi) {
    int64_t n = 1;
    float *v;
    pl_tensor t = PL_NO_TENSOR;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    v = malloc(sizeof(float) * (size_t)(n + 1));
    pl_test_fill_uniform(v, n, lo, hi, 1000 + seed_counter++);
    PL_CHECK_OK(pl_network_add_constant(net, NULL, PL_FLOAT32, rank, dims, v, &t));
    free(v);
    return t;
}

static pl_tensor cst_i(pl_network *net, int64_t n, const int64_t *vals) {
    pl_tensor t = PL_NO_TENSOR;
    int64_t d[1] = {n};
    PL_CHECK_OK(pl_network_add_constant(net, NULL, PL_INT64, 1, d, vals, &t));
    return t;
}

static pl_tensor cst_fv(pl_network *net, int64_t n, const float *vals) {
    pl_tensor t = PL_NO_TENSOR;
    int64_t d[1] = {n};
    PL_CHECK_OK(pl_network_add_constant(net, NULL, PL_FLOAT32, 1, d, vals, &t));
    return t;
}

static pl_tensor cst_scalar(pl_network *net, float v) {
    pl_tensor t = PL_NO_TENSOR;
    PL_CHECK_OK(pl_network_add_constant(net, NULL, PL_FLOAT32, 0, NULL, &v, &t));
    return t;
}

static pl_tensor lay(pl_network *net, const char *op, const pl_tensor *in, int nin,
                     const pl_attr *at, int nat) {
    pl_tensor o = PL_NO_TENSOR;
    PL_CHECK_OK(pl_network_add_layer(net, op, NULL, in, nin, at, nat, 1, NULL, &o));
    return o;
}

static void out(pl_network *net, pl_tensor t) { PL_CHECK_OK(pl_network_mark_output(net, t)); }

/* ---- the check ---- */

typedef struct spec {
    int nin;
    pl_tc_in in[4];
    float lo, hi; /* float input range */
} spec;

static void spec_in(spec *s, pl_dtype t, int rank, const int64_t *dims) {
    pl_tc_in *x = &s->in[s->nin];
    char *name = malloc(16);
    int64_t n = 1;
    snprintf(name, 16, "in%d", s->nin);
    x->name = name;
    x->dtype = t;
    x->rank = rank;
    for (int i = 0; i < rank; i++) {
        x->dims[i] = dims[i];
        n *= dims[i];
    }
    x->data = malloc(pl_tc_bytes(rank, dims, t) + 8);
    if (t == PL_FLOAT32) {
        pl_test_fill_uniform(x->data, n, s->lo, s->hi, 77 + seed_counter++);
    } else {
        float *tmp = malloc(sizeof(float) * (size_t)(n + 1));
        pl_test_fill_uniform(tmp, n, 0, 1, 99 + seed_counter++);
        for (int64_t i = 0; i < n; i++) {
            if (t == PL_BOOL)
                ((uint8_t *)x->data)[i] = tmp[i] > 0.5f;
            else if (t == PL_INT64)
                ((int64_t *)x->data)[i] = (int64_t)(tmp[i] * 5) - 2;
        }
        free(tmp);
    }
    s->nin++;
}

static void spec_free(spec *s) {
    for (int i = 0; i < s->nin; i++) {
        free((void *)s->in[i].name);
        free(s->in[i].data);
    }
}

/* Builds the network from spec + build, runs it on the CPU (float32) and on the GPU (fp16 as
 * asked), and compares. */
static void check(const char *what, spec *s, build_fn build, bool fp16) {
    pl_network *net = NULL;
    pl_tensor ids[4];
    pl_tc_out cpu, gpu;
    int host = 0;
    char host_ops[256];
    char label[160];
    snprintf(label, sizeof(label), "%s%s", what, fp16 ? " (fp16)" : "");
    printf("  case %s\n", label);
    fflush(stdout);
    PL_CHECK_OK(pl_network_create(&net));
    for (int i = 0; i < s->nin; i++)
        PL_CHECK_OK(pl_network_add_input(net, s->in[i].name, s->in[i].dtype, s->in[i].rank,
                                         s->in[i].dims, NULL, &ids[i]));
    build(net, ids);
    if (pl_tc_run(net, PL_DEVICE_CPU, false, s->nin, s->in, 1, &cpu, NULL, NULL, 0)) {
        if (pl_tc_run(net, PL_DEVICE_CUDA, fp16, s->nin, s->in, 3, &gpu, &host, host_ops,
                      sizeof(host_ops))) {
            PL_CHECK(gpu.n == cpu.n);
            for (int k = 0; k < gpu.n && k < cpu.n; k++) {
                PL_CHECK(gpu.count[k] == cpu.count[k]);
                if (gpu.count[k] == cpu.count[k])
                    PL_CHECK(pl_tc_close(label, gpu.v[k], cpu.v[k], cpu.count[k],
                                         fp16 ? TOL16 : TOL32));
            }
            if (host)
                fprintf(stderr, "%s: %d layer(s) ran on the CPU: %s\n", label, host, host_ops);
            PL_CHECK(host == 0);
            pl_tc_out_free(&gpu);
        }
        pl_tc_out_free(&cpu);
    }
    pl_network_free(net);
}

static void check_both(const char *what, spec *s, build_fn build) {
    check(what, s, build, false);
    check(what, s, build, true);
}

#define NEED_GPU()                                                                                 \
    do {                                                                                           \
        if (!pl_test_have_cuda(__func__))                                                          \
            return;                                                                                \
    } while (0)

#define D(...) ((const int64_t[]){__VA_ARGS__})

/* ---- Conv ---- */

static void b_conv_basic(pl_network *net, const pl_tensor *in) {
    int64_t p[4] = {1, 1, 1, 1};
    pl_attr at[1] = {PL_ATTR_INTS("pads", p, 4)};
    pl_tensor x[3] = {in[0], cst_f(net, 4, D(16, 8, 3, 3), -0.3f, 0.3f),
                      cst_f(net, 1, D(16), -1, 1)};
    out(net, lay(net, "Conv", x, 3, at, 1));
}

static void b_conv_residual_relu(pl_network *net, const pl_tensor *in) {
    int64_t p[4] = {1, 1, 1, 1};
    pl_attr at[1] = {PL_ATTR_INTS("pads", p, 4)};
    pl_tensor x[3] = {in[0], cst_f(net, 4, D(8, 8, 3, 3), -0.3f, 0.3f), cst_f(net, 1, D(8), -1, 1)};
    pl_tensor c = lay(net, "Conv", x, 3, at, 1), a[2] = {c, in[0]};
    pl_tensor s = lay(net, "Add", a, 2, NULL, 0);
    out(net, lay(net, "Relu", &s, 1, NULL, 0));
}

static void b_conv_stride_dil(pl_network *net, const pl_tensor *in) {
    int64_t p[4] = {2, 2, 2, 2}, st[2] = {2, 2}, dl[2] = {2, 2};
    pl_attr at[3] = {PL_ATTR_INTS("pads", p, 4), PL_ATTR_INTS("strides", st, 2),
                     PL_ATTR_INTS("dilations", dl, 2)};
    pl_tensor x[2] = {in[0], cst_f(net, 4, D(6, 4, 3, 3), -0.3f, 0.3f)};
    out(net, lay(net, "Conv", x, 2, at, 3));
}

static void b_conv_group(pl_network *net, const pl_tensor *in) {
    pl_attr at[1] = {PL_ATTR_I("group", 2)};
    pl_tensor x[3] = {in[0], cst_f(net, 4, D(8, 4, 1, 1), -0.5f, 0.5f), cst_f(net, 1, D(8), -1, 1)};
    out(net, lay(net, "Conv", x, 3, at, 1));
}

static void b_conv_depthwise(pl_network *net, const pl_tensor *in) {
    int64_t p[4] = {1, 1, 1, 1}, st[2] = {2, 2};
    pl_attr at[3] = {PL_ATTR_INTS("pads", p, 4), PL_ATTR_INTS("strides", st, 2),
                     PL_ATTR_I("group", 16)};
    pl_tensor x[3] = {in[0], cst_f(net, 4, D(16, 1, 3, 3), -0.5f, 0.5f),
                      cst_f(net, 1, D(16), -1, 1)};
    pl_tensor c = lay(net, "Conv", x, 3, at, 3);
    out(net, lay(net, "HardSwish", &c, 1, NULL, 0));
}

static void b_conv_depthwise5(pl_network *net, const pl_tensor *in) {
    int64_t p[4] = {2, 2, 2, 2};
    pl_attr at[2] = {PL_ATTR_INTS("pads", p, 4), PL_ATTR_I("group", 12)};
    pl_tensor x[3] = {in[0], cst_f(net, 4, D(12, 1, 5, 5), -0.3f, 0.3f),
                      cst_f(net, 1, D(12), -1, 1)};
    pl_tensor c = lay(net, "Conv", x, 3, at, 2);
    out(net, lay(net, "Relu", &c, 1, NULL, 0));
}

static void b_conv_asym(pl_network *net, const pl_tensor *in) {
    int64_t p[4] = {0, 0, 1, 1};
    pl_attr at[1] = {PL_ATTR_INTS("pads", p, 4)};
    pl_tensor x[3] = {in[0], cst_f(net, 4, D(4, 3, 2, 2), -0.5f, 0.5f), cst_f(net, 1, D(4), -1, 1)};
    out(net, lay(net, "Conv", x, 3, at, 1));
}

static void b_conv_1d(pl_network *net, const pl_tensor *in) {
    int64_t p[2] = {1, 1};
    pl_attr at[1] = {PL_ATTR_INTS("pads", p, 2)};
    pl_tensor x[3] = {in[0], cst_f(net, 3, D(5, 4, 3), -0.5f, 0.5f), cst_f(net, 1, D(5), -1, 1)};
    out(net, lay(net, "Conv", x, 3, at, 1));
}

static void b_conv_3d(pl_network *net, const pl_tensor *in) {
    int64_t p[6] = {1, 1, 1, 1, 1, 1};
    pl_attr at[1] = {PL_ATTR_INTS("pads", p, 6)};
    pl_tensor x[2] = {in[0], cst_f(net, 5, D(3, 2, 3, 3, 3), -0.3f, 0.3f)};
    out(net, lay(net, "Conv", x, 2, at, 1));
}

static void test_conv(void) {
    spec s;
    NEED_GPU();
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 4, D(2, 8, 13, 11));
    check_both("conv 3x3 + bias", &s, b_conv_basic);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 4, D(2, 8, 10, 10));
    check_both("conv + residual + relu", &s, b_conv_residual_relu);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 4, D(1, 4, 17, 15));
    check("conv strided dilated", &s, b_conv_stride_dil, false);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 4, D(2, 8, 9, 9));
    check("conv group 2 1x1", &s, b_conv_group, false);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 4, D(2, 16, 14, 14));
    check_both("depthwise 3x3 s2 + hardswish", &s, b_conv_depthwise);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 4, D(2, 12, 9, 9));
    check_both("depthwise 5x5 + relu", &s, b_conv_depthwise5);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 4, D(1, 3, 8, 8));
    check("conv asymmetric pads", &s, b_conv_asym, false);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 3, D(2, 4, 20));
    check("conv 1-D", &s, b_conv_1d, false);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 5, D(1, 2, 6, 6, 6));
    check("conv 3-D", &s, b_conv_3d, false);
    spec_free(&s);
}

/* ---- Gemm / MatMul ---- */

static void b_gemm_bias_relu(pl_network *net, const pl_tensor *in) {
    pl_attr at[1] = {PL_ATTR_I("transB", 1)};
    pl_tensor x[3] = {in[0], cst_f(net, 2, D(20, 33), -0.3f, 0.3f), cst_f(net, 1, D(20), -1, 1)};
    pl_tensor g = lay(net, "Gemm", x, 3, at, 1);
    out(net, lay(net, "Relu", &g, 1, NULL, 0));
}

static void b_gemm_full_c(pl_network *net, const pl_tensor *in) {
    pl_attr at[3] = {PL_ATTR_I("transA", 1), PL_ATTR_F("alpha", 0.5), PL_ATTR_F("beta", 2.0)};
    pl_tensor x[3] = {in[0], cst_f(net, 2, D(9, 12), -1, 1), cst_f(net, 2, D(16, 12), -1, 1)};
    out(net, lay(net, "Gemm", x, 3, at, 3));
}

static void b_gemm_col_c(pl_network *net, const pl_tensor *in) {
    pl_tensor x[3] = {in[0], cst_f(net, 2, D(16, 12), -1, 1), cst_f(net, 2, D(9, 1), -1, 1)};
    pl_tensor g = lay(net, "Gemm", x, 3, NULL, 0);
    out(net, lay(net, "Sigmoid", &g, 1, NULL, 0));
}

static void b_matmul(pl_network *net, const pl_tensor *in) {
    pl_tensor x[2] = {in[0], in[1]};
    out(net, lay(net, "MatMul", x, 2, NULL, 0));
}

static void check_matmul(const char *what, int ra, const int64_t *da, int rb, const int64_t *db) {
    spec s;
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, ra, da);
    spec_in(&s, PL_FLOAT32, rb, db);
    check_both(what, &s, b_matmul);
    spec_free(&s);
}

static void test_gemm(void) {
    spec s;
    NEED_GPU();
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 2, D(7, 33));
    check_both("gemm transB + bias + relu", &s, b_gemm_bias_relu);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 2, D(9, 16));
    check_both("gemm transA alpha beta full C", &s, b_gemm_full_c);
    check("gemm column C + sigmoid", &s, b_gemm_col_c, false);
    spec_free(&s);
    check_matmul("matmul 2-D", 2, D(5, 6), 2, D(6, 7));
    check_matmul("matmul batched", 3, D(3, 5, 6), 3, D(3, 6, 7));
    check_matmul("matmul batch x 2-D", 4, D(2, 3, 5, 6), 2, D(6, 7));
    check_matmul("matmul 2-D x batch", 2, D(5, 6), 3, D(4, 6, 7));
    check_matmul("matmul mixed broadcast", 4, D(2, 1, 5, 6), 4, D(1, 3, 6, 7));
    check_matmul("matmul vector x matrix", 1, D(6), 2, D(6, 7));
    check_matmul("matmul batch x vector", 3, D(2, 5, 6), 1, D(6));
    check_matmul("matmul large", 2, D(130, 200), 2, D(200, 90));
}

/* ---- elementwise ---- */

static const char *g_op;
static pl_attr g_at[2];
static int g_nat;

static void b_unary(pl_network *net, const pl_tensor *in) {
    out(net, lay(net, g_op, in, 1, g_at, g_nat));
}

static void b_binary(pl_network *net, const pl_tensor *in) {
    out(net, lay(net, g_op, in, 2, NULL, 0));
}

static void b_variadic3(pl_network *net, const pl_tensor *in) {
    out(net, lay(net, g_op, in, 3, NULL, 0));
}

static void b_add_relu(pl_network *net, const pl_tensor *in) {
    pl_tensor a = lay(net, "Add", in, 2, NULL, 0);
    out(net, lay(net, "Relu", &a, 1, NULL, 0));
}

static void b_clip(pl_network *net, const pl_tensor *in) {
    pl_tensor x[3] = {in[0], cst_scalar(net, -0.5f), cst_scalar(net, 0.75f)};
    out(net, lay(net, "Clip", x, 3, NULL, 0));
}

static void b_where(pl_network *net, const pl_tensor *in) {
    pl_tensor c = lay(net, "Greater", in, 2, NULL, 0), x[3] = {c, in[0], in[1]};
    out(net, lay(net, "Where", x, 3, NULL, 0));
    out(net, lay(net, "Less", in, 2, NULL, 0));
}

static void b_cast(pl_network *net, const pl_tensor *in) {
    pl_attr to64 = PL_ATTR_I("to", PL_INT64), to16 = PL_ATTR_I("to", PL_FLOAT16),
            to32 = PL_ATTR_I("to", PL_FLOAT32);
    pl_tensor h = lay(net, "Cast", in, 1, &to16, 1);
    out(net, lay(net, "Cast", in, 1, &to64, 1));
    out(net, lay(net, "Cast", &h, 1, &to32, 1));
}

static void check_unary(const char *op, float lo, float hi, bool fp16) {
    spec s;
    char what[64];
    memset(&s, 0, sizeof(s)), s.lo = lo, s.hi = hi;
    spec_in(&s, PL_FLOAT32, 3, D(3, 17, 29));
    g_op = op;
    snprintf(what, sizeof(what), "unary %s", op);
    check(what, &s, b_unary, false);
    if (fp16)
        check(what, &s, b_unary, true);
    spec_free(&s);
}

static void check_binary(const char *op, int ra, const int64_t *da, int rb, const int64_t *db,
                         float lo, float hi) {
    spec s;
    char what[64];
    memset(&s, 0, sizeof(s)), s.lo = lo, s.hi = hi;
    spec_in(&s, PL_FLOAT32, ra, da);
    spec_in(&s, PL_FLOAT32, rb, db);
    g_op = op;
    snprintf(what, sizeof(what), "binary %s", op);
    check_both(what, &s, b_binary);
    spec_free(&s);
}

static void test_elementwise(void) {
    static const struct {
        const char *op;
        float lo, hi;
        bool fp16;
    } un[] = {
        {"Relu", -2, 2, true},        {"Sigmoid", -4, 4, true}, {"Tanh", -3, 3, true},
        {"HardSigmoid", -4, 4, true}, {"HardSwish", -4, 4, true}, {"LeakyRelu", -2, 2, true},
        {"Abs", -2, 2, true},         {"Neg", -2, 2, true},      {"Exp", -3, 3, true},
        {"Log", 0.1f, 3, true},       {"Sqrt", 0, 4, true},      {"Reciprocal", 0.5f, 2, true},
        {"Floor", -3, 3, false},      {"Ceil", -3, 3, false},    {"Sin", -3, 3, true},
        {"Cos", -3, 3, true},         {"Erf", -2, 2, true},      {"Gelu", -3, 3, true},
        {"Softplus", -3, 3, true},    {"Softsign", -3, 3, true}, {"Elu", -2, 2, true},
        {"Selu", -2, 2, true},        {"Mish", -3, 3, true},     {"Sign", -2, 2, false},
        {"Atan", -2, 2, true},        {"Asinh", -2, 2, true},
    };
    spec s;
    NEED_GPU();
    for (size_t i = 0; i < sizeof(un) / sizeof(un[0]); i++) {
        g_nat = 0;
        check_unary(un[i].op, un[i].lo, un[i].hi, un[i].fp16);
    }
    g_at[0] = PL_ATTR_F("alpha", 0.3);
    g_nat = 1;
    check_unary("LeakyRelu", -2, 2, false);
    g_nat = 0;
    check_binary("Add", 4, D(2, 3, 4, 5), 4, D(1, 3, 1, 1), -1, 1);
    check_binary("Mul", 4, D(2, 3, 4, 5), 2, D(4, 5), -1, 1);
    check_binary("Sub", 2, D(6, 5), 0, D(0), -1, 1);
    check_binary("Div", 3, D(4, 1, 6), 2, D(5, 1), 0.5f, 2);
    check_binary("Pow", 2, D(6, 5), 2, D(6, 5), 0.5f, 2);
    check_binary("Min", 3, D(2, 4, 6), 3, D(2, 1, 6), -1, 1);
    check_binary("Max", 3, D(2, 4, 6), 1, D(6), -1, 1);
    check_binary("PRelu", 4, D(2, 3, 4, 5), 3, D(3, 1, 1), -1, 1);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 3, D(2, 3, 4));
    spec_in(&s, PL_FLOAT32, 2, D(3, 1));
    spec_in(&s, PL_FLOAT32, 3, D(2, 1, 4));
    g_op = "Sum";
    check_both("variadic Sum", &s, b_variadic3);
    g_op = "Mean";
    check_both("variadic Mean", &s, b_variadic3);
    g_op = "Max";
    check("variadic Max", &s, b_variadic3, false);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -1, s.hi = 1;
    spec_in(&s, PL_FLOAT32, 4, D(2, 8, 5, 5));
    spec_in(&s, PL_FLOAT32, 4, D(2, 8, 5, 5));
    check_both("Add + Relu (fused)", &s, b_add_relu);
    check_both("Where / Greater / Less", &s, b_where);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -2, s.hi = 2;
    spec_in(&s, PL_FLOAT32, 2, D(9, 13));
    check_both("Clip (min/max inputs)", &s, b_clip);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -100, s.hi = 100;
    spec_in(&s, PL_FLOAT32, 2, D(9, 13));
    check("Cast f32 -> i64, f32 -> f16 -> f32", &s, b_cast, false);
    spec_free(&s);
}

/* ---- pooling and normalization ---- */

static void b_maxpool(pl_network *net, const pl_tensor *in) {
    int64_t k[2] = {3, 3}, st[2] = {2, 2}, p[4] = {1, 1, 1, 1};
    pl_attr at[3] = {PL_ATTR_INTS("kernel_shape", k, 2), PL_ATTR_INTS("strides", st, 2),
                     PL_ATTR_INTS("pads", p, 4)};
    pl_tensor o[2];
    PL_CHECK_OK(pl_network_add_layer(net, "MaxPool", "mp", in, 1, at, 3, 2, NULL, o));
    out(net, o[0]);
    out(net, o[1]);
}

static void b_avgpool(pl_network *net, const pl_tensor *in) {
    int64_t k[2] = {3, 3}, st[2] = {2, 2}, p[4] = {1, 1, 1, 1};
    pl_attr at[4] = {PL_ATTR_INTS("kernel_shape", k, 2), PL_ATTR_INTS("strides", st, 2),
                     PL_ATTR_INTS("pads", p, 4), PL_ATTR_I("count_include_pad", 0)};
    pl_attr at2[5] = {PL_ATTR_INTS("kernel_shape", k, 2), PL_ATTR_INTS("strides", st, 2),
                      PL_ATTR_INTS("pads", p, 4), PL_ATTR_I("count_include_pad", 1),
                      PL_ATTR_I("ceil_mode", 1)};
    out(net, lay(net, "AveragePool", in, 1, at, 4));
    out(net, lay(net, "AveragePool", in, 1, at2, 5));
    out(net, lay(net, "GlobalAveragePool", in, 1, NULL, 0));
    out(net, lay(net, "GlobalMaxPool", in, 1, NULL, 0));
}

static void b_bn(pl_network *net, const pl_tensor *in) {
    pl_attr at[1] = {PL_ATTR_F("epsilon", 1e-3)};
    pl_tensor x[5] = {in[0], cst_f(net, 1, D(6), 0.5f, 1.5f), cst_f(net, 1, D(6), -1, 1),
                      cst_f(net, 1, D(6), -0.5f, 0.5f), cst_f(net, 1, D(6), 0.2f, 2)};
    out(net, lay(net, "BatchNormalization", x, 5, at, 1));
}

static void b_ln(pl_network *net, const pl_tensor *in) {
    pl_attr at[1] = {PL_ATTR_I("axis", -1)};
    pl_tensor x[3] = {in[0], cst_f(net, 1, D(48), 0.5f, 1.5f), cst_f(net, 1, D(48), -1, 1)};
    pl_tensor o[3];
    PL_CHECK_OK(pl_network_add_layer(net, "LayerNormalization", "ln", x, 3, at, 1, 3, NULL, o));
    out(net, o[0]);
    out(net, o[1]);
    out(net, o[2]);
}

static void b_softmax(pl_network *net, const pl_tensor *in) {
    pl_attr a1 = PL_ATTR_I("axis", 1);
    out(net, lay(net, "Softmax", in, 1, NULL, 0));
    out(net, lay(net, "LogSoftmax", in, 1, NULL, 0));
    out(net, lay(net, "Softmax", in, 1, &a1, 1));
}

static void test_pool_norm(void) {
    spec s;
    NEED_GPU();
    memset(&s, 0, sizeof(s)), s.lo = -2, s.hi = 2;
    spec_in(&s, PL_FLOAT32, 4, D(2, 4, 15, 15));
    check_both("MaxPool 3x3 s2 + indices", &s, b_maxpool);
    check_both("AveragePool / GlobalAverage / GlobalMax", &s, b_avgpool);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -2, s.hi = 2;
    spec_in(&s, PL_FLOAT32, 4, D(2, 6, 5, 7));
    check_both("BatchNormalization", &s, b_bn);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -2, s.hi = 2;
    spec_in(&s, PL_FLOAT32, 3, D(3, 5, 48));
    check_both("LayerNormalization (+ mean, inv std)", &s, b_ln);
    check_both("Softmax / LogSoftmax", &s, b_softmax);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -5, s.hi = 5;
    spec_in(&s, PL_FLOAT32, 2, D(3, 5000));
    check_both("Softmax long rows", &s, b_softmax);
    spec_free(&s);
}

/* ---- reductions ---- */

static void b_reduce(pl_network *net, const pl_tensor *in) {
    int64_t ax23[2] = {2, 3}, axm1[1] = {-1}, ax1[1] = {1};
    pl_attr mean[2] = {PL_ATTR_INTS("axes", ax23, 2), PL_ATTR_I("keepdims", 1)};
    pl_attr mx[2] = {PL_ATTR_INTS("axes", axm1, 1), PL_ATTR_I("keepdims", 0)};
    pl_attr l2[1] = {PL_ATTR_INTS("axes", ax1, 1)};
    pl_attr kd0 = PL_ATTR_I("keepdims", 0);
    pl_tensor sx[2] = {in[0], cst_i(net, 1, ax1)};
    out(net, lay(net, "ReduceMean", in, 1, mean, 2));
    out(net, lay(net, "ReduceMax", in, 1, mx, 2));
    out(net, lay(net, "ReduceMin", in, 1, l2, 1));
    out(net, lay(net, "ReduceL2", in, 1, l2, 1));
    out(net, lay(net, "ReduceLogSumExp", in, 1, mean, 2));
    out(net, lay(net, "ReduceSum", sx, 2, &kd0, 1));
    out(net, lay(net, "ReduceSumSquare", in, 1, NULL, 0));
}

static void b_reduce_long(pl_network *net, const pl_tensor *in) {
    int64_t axm1[1] = {-1};
    pl_attr at[1] = {PL_ATTR_INTS("axes", axm1, 1)};
    out(net, lay(net, "ReduceMax", in, 1, at, 1));
    out(net, lay(net, "ReduceMean", in, 1, at, 1));
}

static void test_reduce(void) {
    spec s;
    NEED_GPU();
    memset(&s, 0, sizeof(s)), s.lo = -2, s.hi = 2;
    spec_in(&s, PL_FLOAT32, 4, D(2, 3, 5, 7));
    check_both("Reduce*", &s, b_reduce);
    spec_free(&s);
    memset(&s, 0, sizeof(s)), s.lo = -2, s.hi = 2;
    spec_in(&s, PL_FLOAT32, 2, D(3, 6000));
    check_both("Reduce over long rows", &s, b_reduce_long);
    spec_free(&s);
}

/* ---- data movement ---- */

static void b_shape_ops(pl_network *net, const pl_tensor *in) {
    int64_t perm[4] = {0, 2, 3, 1};
    pl_attr tp = PL_ATTR_INTS("perm", perm, 4), ax1 = PL_ATTR_I("axis", 1), ax3 = PL_ATTR_I("axis", 3);
    pl_attr fl = PL_ATTR_I("axis", 2);
    int64_t shape[3] = {2, -1, 5}, st[3] = {0, 3, 1}, en[3] = {2, 0, 5}, axs[3] = {0, 1, 3},
            sp[3] = {1, -2, 2}, unsq[1] = {0}, split[2] = {1, 3};
    pl_tensor r = lay(net, "Relu", in, 1, NULL, 0);
    pl_tensor t = lay(net, "Transpose", &r, 1, &tp, 1);
    pl_tensor cat[3] = {in[0], r, in[0]};
    pl_tensor rs[2] = {r, cst_i(net, 3, shape)};
    pl_tensor sl[5] = {in[0], cst_i(net, 3, st), cst_i(net, 3, en), cst_i(net, 3, axs),
                       cst_i(net, 3, sp)};
    pl_tensor fl_t = lay(net, "Flatten", &t, 1, &fl, 1);
    pl_tensor us[2] = {fl_t, cst_i(net, 1, unsq)};
    pl_tensor spl[2] = {in[0], cst_i(net, 2, split)}, so[2];
    out(net, t);
    out(net, lay(net, "Concat", cat, 3, &ax1, 1));
    out(net, lay(net, "Reshape", rs, 2, NULL, 0));
    out(net, lay(net, "Slice", sl, 5, NULL, 0));
    out(net, lay(net, "Unsqueeze", us, 2, NULL, 0));
    PL_CHECK_OK(pl_network_add_layer(net, "Split", "split", spl, 2, &ax1, 1, 2, NULL, so));
    out(net, so[0]);
    out(net, so[1]);
    (void)ax3;
}

static void b_gather_expand(pl_network *net, const pl_tensor *in) {
    int64_t idx0[3] = {1, -1, 0}, idx2[3] = {3, -1, 0}, shape[4] = {2, 4, 5, 6};
    int64_t rep[4] = {1, 2, 1, 2};
    pl_attr ax0 = PL_ATTR_I("axis", 0), ax2 = PL_ATTR_I("axis", 2);
    pl_tensor g0[2] = {in[0], cst_i(net, 3, idx0)}, g2[2] = {in[0], cst_i(net, 3, idx2)};
    pl_tensor m = lay(net, "ReduceMean", in, 1, (pl_attr[]){PL_ATTR_INTS("axes", (int64_t[]){0}, 1)}, 1);
    pl_tensor ex[2] = {m, cst_i(net, 4, shape)};
    pl_tensor ti[2] = {in[0], cst_i(net, 4, rep)};
    out(net, lay(net, "Gather", g0, 2, &ax0, 1));
    out(net, lay(net, "Gather", g2, 2, &ax2, 1));
    out(net, lay(net, "Expand", ex, 2, NULL, 0));
    out(net, lay(net, "Tile", ti, 2, NULL, 0));
}

static void b_pad_resize(pl_network *net, const pl_tensor *in) {
    int64_t pads[8] = {0, 0, 1, 2, 0, 0, 2, 1};
    float sc2[4] = {1, 1, 2, 2}, sc15[4] = {1, 1, 1.5f, 2};
    pl_attr refl = PL_ATTR_S("mode", "reflect"), edge = PL_ATTR_S("mode", "edge");
    pl_attr lin[1] = {PL_ATTR_S("mode", "linear")};
    pl_attr ac[2] = {PL_ATTR_S("mode", "linear"),
                     PL_ATTR_S("coordinate_transformation_mode", "align_corners")};
    pl_attr nr[2] = {PL_ATTR_S("mode", "nearest"),
                     PL_ATTR_S("coordinate_transformation_mode", "asymmetric")};
    pl_tensor pr[2] = {in[0], cst_i(net, 8, pads)};
    pl_tensor r2[3] = {in[0], PL_NO_TENSOR, cst_fv(net, 4, sc2)};
    pl_tensor r15[3] = {in[0], PL_NO_TENSOR, cst_fv(net, 4, sc15)};
    out(net, lay(net, "Pad", pr, 2, NULL, 0));
    out(net, lay(net, "Pad", pr, 2, &refl, 1));
    out(net, lay(net, "Pad", pr, 2, &edge, 1));
    out(net, lay(net, "Resize", r2, 3, NULL, 0));
    out(net, lay(net, "Resize", r15, 3, lin, 1));
    out(net, lay(net, "Resize", r15, 3, ac, 2));
    out(net, lay(net, "Resize", r2, 3, nr, 2));
}

static void test_shape(void) {
    spec s;
    NEED_GPU();
    memset(&s, 0, sizeof(s)), s.lo = -2, s.hi = 2;
    spec_in(&s, PL_FLOAT32, 4, D(2, 4, 5, 6));
    check_both("Transpose/Concat/Reshape/Slice/Flatten/Unsqueeze/Split", &s, b_shape_ops);
    check_both("Gather/Expand/Tile", &s, b_gather_expand);
    check_both("Pad/Resize", &s, b_pad_resize);
    spec_free(&s);
}

/* A Gather index out of range is reported by execute, not a crash. */
static void b_gather_dyn(pl_network *net, const pl_tensor *in) {
    pl_tensor g[2] = {in[0], in[1]};
    out(net, lay(net, "Gather", g, 2, NULL, 0));
}

static void test_gather_bad_index(void) {
    pl_network *net = NULL;
    pl_builder_config *cfg = NULL;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    pl_tensor ids[2];
    void *plan = NULL;
    size_t size = 0;
    float x[12] = {0}, y[6];
    int64_t idx[2] = {1, 7};
    NEED_GPU();
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 2, D(4, 3), NULL, &ids[0]));
    PL_CHECK_OK(pl_network_add_input(net, "i", PL_INT64, 1, D(2), NULL, &ids[1]));
    b_gather_dyn(net, ids);
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    pl_builder_config_set_device(cfg, PL_DEVICE_CUDA);
    PL_CHECK_OK(pl_build_serialized(net, cfg, &plan, &size));
    PL_CHECK_OK(pl_engine_load(plan, size, &e));
    PL_CHECK_OK(pl_context_create(e, &ctx));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "x", x, PL_MEMORY_HOST, sizeof(x)));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "i", idx, PL_MEMORY_HOST, sizeof(idx)));
    PL_CHECK_OK(pl_context_set_tensor(ctx, "Gather_0", y, PL_MEMORY_HOST, sizeof(y)));
    PL_CHECK_FAILS(pl_context_execute(ctx), PL_ERR_INVALID_ARG, "out of range");
    idx[1] = -1;
    PL_CHECK_OK(pl_context_execute(ctx));
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(plan);
    pl_builder_config_free(cfg);
    pl_network_free(net);
}

int main(void) {
    pl_tc_catch_crashes();
    PL_RUN(test_conv);
    PL_RUN(test_gemm);
    PL_RUN(test_elementwise);
    PL_RUN(test_pool_norm);
    PL_RUN(test_reduce);
    PL_RUN(test_shape);
    PL_RUN(test_gather_bad_index);
    return pl_test_report();
}
