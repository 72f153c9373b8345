/*
 * test-ops-nn.c - shape inference and CPU kernels of the nn op group (Conv, ConvTranspose,
 * MatMul, Gemm, BatchNormalization, LayerNormalization, LpNormalization, pooling, Einsum)
 * against naive reference loops written here, in double, on fixed-seed random data.
 *
 * Tolerance: |got - ref| <= 1e-4 * |ref| + 1e-4 * max|ref| (relative 1e-4, with an absolute
 * floor scaled to the output so that elements near zero after cancellation do not fail on
 * float rounding). Output shapes are computed here by hand and compared with inference.
 *
 * With --speed, prints timings (not assertions) of ResNet-like convolutions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "graph/ops.h"
#include "harness.h"

static void *g_bctx;
static char g_node_name[] = "nn_node";
static int g_time_iters;  /* > 0: run_op times that many extra kernel runs */
static double g_best_ms;  /* the fastest of them */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* ---- running one op: inference, output allocation, workspace, kernel ---- */

typedef struct op_run {
    pl__tview out[3];
    int nout;
} op_run;

static void op_run_free(op_run *r) {
    for (int i = 0; i < r->nout; i++)
        free(r->out[i].data);
    memset(r, 0, sizeof(*r));
}

static pl_status run_op(const char *op, const pl_attr *attrs, int nattrs, const pl__tview *in,
                        int nin, int nout, op_run *r) {
    pl__layer l;
    const pl__op_def *d = pl__op_find(op);
    const pl__kernel_def *k = pl__cpu_backend.find_kernel(op);
    pl__infer ic;
    pl__kernel_args ka;
    size_t ws = 0;
    pl_status s;
    memset(&l, 0, sizeof(l));
    memset(r, 0, sizeof(*r));
    r->nout = nout;
    l.name = g_node_name;
    l.op = (char *)op;
    l.def = d;
    l.nin = nin;
    l.nout = nout;
    if (!d || !k) {
        fprintf(stderr, "op %s: no definition or kernel\n", op);
        return PL_ERR_NOT_FOUND;
    }
    if ((s = pl__attrs_copy(&l.attrs, attrs, nattrs)) != PL_OK)
        goto done;
    ic = (pl__infer){.layer = &l, .nin = nin, .in = in, .nout = nout, .out = r->out};
    if ((s = d->infer(&ic)) != PL_OK)
        goto done;
    ka = (pl__kernel_args){.layer = &l, .nin = nin, .in = in, .nout = nout, .out = r->out,
                           .bctx = g_bctx};
    if (k->workspace)
        ws = k->workspace(&ka);
    for (int i = 0; i < nout; i++) {
        size_t bytes = pl__tview_bytes(&r->out[i]);
        r->out[i].data = malloc(bytes ? bytes : 1);
        /* A kernel must write every output element: fill with NaN to catch the ones it skips. */
        if (r->out[i].dtype == PL_FLOAT32)
            for (int64_t j = 0; j < pl__tview_numel(&r->out[i]); j++)
                ((float *)r->out[i].data)[j] = NAN;
    }
    ka.workspace = ws ? malloc(ws) : NULL;
    ka.workspace_size = ws;
    s = k->run(&ka);
    g_best_ms = 1e30;
    for (int i = 0; s == PL_OK && i < g_time_iters; i++) {
        double t0 = now_ms(), t;
        s = k->run(&ka);
        t = now_ms() - t0;
        g_best_ms = t < g_best_ms ? t : g_best_ms;
    }
    free(ka.workspace);
done:
    pl__attrs_free(&l.attrs);
    return s;
}

static pl__tview view(pl_dtype t, void *data, int rank, const int64_t *dims) {
    pl__tview v;
    memset(&v, 0, sizeof(v));
    v.data = data;
    v.dtype = t;
    v.rank = rank;
    for (int i = 0; i < rank; i++)
        v.dims[i] = dims[i];
    return v;
}

static pl__tview fview(float *data, int rank, const int64_t *dims) {
    return view(PL_FLOAT32, data, rank, dims);
}

static pl__tview absent(void) {
    pl__tview v;
    memset(&v, 0, sizeof(v));
    return v;
}

static float *rnd(int64_t n, uint64_t seed) {
    float *x = malloc(sizeof(float) * (size_t)(n ? n : 1));
    pl_test_fill_uniform(x, n, -1.f, 1.f, seed);
    return x;
}

static bool dims_eq(const pl__tview *v, int rank, const int64_t *dims) {
    if (v->rank != rank)
        return false;
    for (int i = 0; i < rank; i++)
        if (v->dims[i] != dims[i])
            return false;
    return true;
}

static int close_to(const char *what, const float *got, const double *ref, int64_t n) {
    double mx = 0;
    float *rf = malloc(sizeof(float) * (size_t)(n ? n : 1));
    int ok;
    for (int64_t i = 0; i < n; i++) {
        rf[i] = (float)ref[i];
        mx = fabs(ref[i]) > mx ? fabs(ref[i]) : mx;
    }
    ok = pl_test_allclose(what, got, rf, n, 1e-4 * (mx > 0 ? mx : 1), 1e-4);
    free(rf);
    return ok;
}

static double act_ref(const char *act, double v) {
    if (!act)
        return v;
    if (strcmp(act, "Relu") == 0)
        return v > 0 ? v : 0;
    if (strcmp(act, "LeakyRelu") == 0)
        return v >= 0 ? v : 0.1 * v;
    if (strcmp(act, "HardSwish") == 0) {
        double t = v / 6 + 0.5;
        return v * (t < 0 ? 0 : t > 1 ? 1 : t);
    }
    return v;
}

/* ---- Conv ---- */

typedef struct conv_cfg {
    int nsp;
    int64_t n, c, m, group;
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3]; /* pb/pe: the padding the reference applies */
    const char *auto_pad;                          /* NULL: explicit pads */
    bool bias, residual, kernel_shape_attr;
    const char *act;
} conv_cfg;

static int64_t conv_out_dim(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
    return (in + pb + pe - ((k - 1) * d + 1)) / s + 1;
}

/* Reference: direct loops over every output element and every tap, in double. */
static void ref_conv(const conv_cfg *c, const float *x, const float *w, const float *b,
                     const float *res, const int64_t *odims, double *y) {
    int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
    int64_t pb[3] = {0, 0, 0}, out[3] = {1, 1, 1}, cg = c->c / c->group, mg = c->m / c->group;
    int sh = 3 - c->nsp;
    int64_t osp, ksz;
    for (int i = 0; i < c->nsp; i++) {
        in[sh + i] = c->in[i];
        k[sh + i] = c->k[i];
        s[sh + i] = c->s[i];
        d[sh + i] = c->d[i];
        pb[sh + i] = c->pb[i];
        out[sh + i] = odims[i];
    }
    osp = out[0] * out[1] * out[2];
    ksz = k[0] * k[1] * k[2];
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t m = 0; m < c->m; m++)
            for (int64_t o = 0; o < osp; o++) {
                int64_t o0 = o / (out[1] * out[2]), o1 = o / out[2] % out[1], o2 = o % out[2];
                int64_t g = m / mg;
                double acc = b ? b[m] : 0;
                for (int64_t ci = 0; ci < cg; ci++)
                    for (int64_t t = 0; t < ksz; t++) {
                        int64_t k0 = t / (k[1] * k[2]), k1 = t / k[2] % k[1], k2 = t % k[2];
                        int64_t i0 = o0 * s[0] - pb[0] + k0 * d[0];
                        int64_t i1 = o1 * s[1] - pb[1] + k1 * d[1];
                        int64_t i2 = o2 * s[2] - pb[2] + k2 * d[2];
                        if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 ||
                            i2 >= in[2])
                            continue;
                        acc += (double)x[((n * c->c + g * cg + ci) * in[0] + i0) * in[1] * in[2] +
                                         i1 * in[2] + i2] *
                               w[(m * cg + ci) * ksz + t];
                    }
                if (res)
                    acc += res[(n * c->m + m) * osp + o];
                y[(n * c->m + m) * osp + o] = act_ref(c->act, acc);
            }
}

static void check_conv(const char *what, const conv_cfg *c, uint64_t seed) {
    int64_t xd[5] = {c->n, c->c}, wd[5] = {c->m, c->c / c->group}, od[5] = {c->n, c->m};
    int64_t xn = c->n * c->c, wn = c->m * (c->c / c->group), on = c->n * c->m;
    int64_t ints[6];
    pl_attr at[10];
    int na = 0;
    float *x, *w, *b, *res;
    double *ref;
    pl__tview in[4];
    op_run r;
    for (int i = 0; i < c->nsp; i++) {
        xd[2 + i] = c->in[i];
        wd[2 + i] = c->k[i];
        od[2 + i] = conv_out_dim(c->in[i], c->k[i], c->s[i], c->d[i], c->pb[i], c->pe[i]);
        xn *= c->in[i];
        wn *= c->k[i];
        on *= od[2 + i];
    }
    x = rnd(xn, seed);
    w = rnd(wn, seed + 1);
    b = rnd(c->m, seed + 2);
    res = rnd(on, seed + 3);
    ref = malloc(sizeof(double) * (size_t)on);
    at[na++] = PL_ATTR_INTS("strides", c->s, c->nsp);
    at[na++] = PL_ATTR_INTS("dilations", c->d, c->nsp);
    at[na++] = PL_ATTR_I("group", c->group);
    if (c->auto_pad) {
        at[na++] = PL_ATTR_S("auto_pad", c->auto_pad);
    } else {
        for (int i = 0; i < c->nsp; i++) {
            ints[i] = c->pb[i];
            ints[c->nsp + i] = c->pe[i];
        }
        at[na++] = PL_ATTR_INTS("pads", ints, 2 * c->nsp);
    }
    if (c->kernel_shape_attr)
        at[na++] = PL_ATTR_INTS("kernel_shape", c->k, c->nsp);
    if (c->act) {
        at[na++] = PL_ATTR_S("activation", c->act);
        at[na++] = PL_ATTR_F("activation_alpha", 0.1);
    }
    in[0] = fview(x, 2 + c->nsp, xd);
    in[1] = fview(w, 2 + c->nsp, wd);
    in[2] = c->bias ? fview(b, 1, &c->m) : absent();
    in[3] = fview(res, 2 + c->nsp, od);
    ref_conv(c, x, w, c->bias ? b : NULL, c->residual ? res : NULL, od + 2, ref);
    PL_CHECK_OK(run_op("Conv", at, na, in, c->residual ? 4 : 3, 1, &r));
    if (r.out[0].data) {
        PL_CHECK(dims_eq(&r.out[0], 2 + c->nsp, od));
        if (dims_eq(&r.out[0], 2 + c->nsp, od))
            PL_CHECK(close_to(what, r.out[0].data, ref, on));
    }
    op_run_free(&r);
    free(x);
    free(w);
    free(b);
    free(res);
    free(ref);
}

static void test_conv_basic(void) {
    conv_cfg c = {.nsp = 2, .n = 2, .c = 3, .m = 5, .group = 1, .in = {9, 11}, .k = {3, 3},
                  .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}, .bias = true,
                  .kernel_shape_attr = true};
    check_conv("conv 3x3 pad 1", &c, 10);
    c.bias = false;
    c.kernel_shape_attr = false;
    c.pb[0] = 0;
    c.pe[1] = 0;
    check_conv("conv no bias, asymmetric pads, no kernel_shape", &c, 11);
}

static void test_conv_groups_dilation_strides(void) {
    conv_cfg c = {.nsp = 2, .n = 1, .c = 6, .m = 4, .group = 2, .in = {13, 10}, .k = {3, 2},
                  .s = {2, 3}, .d = {2, 1}, .pb = {2, 0}, .pe = {1, 2}, .bias = true};
    check_conv("conv group 2 dilation 2 stride 2x3 asym pads", &c, 20);
    c.group = 3;
    c.m = 6;
    c.s[0] = 1;
    check_conv("conv group 3", &c, 21);
}

static void test_conv_depthwise(void) {
    conv_cfg c = {.nsp = 2, .n = 2, .c = 8, .m = 8, .group = 8, .in = {15, 14}, .k = {3, 3},
                  .s = {2, 2}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}, .bias = true,
                  .act = "Relu"};
    check_conv("depthwise 3x3 s2 relu", &c, 30);
    c.m = 16; /* channel multiplier 2 */
    c.s[0] = c.s[1] = 1;
    c.k[0] = c.k[1] = 5;
    c.pb[0] = c.pe[1] = 2;
    c.pb[1] = 1;
    c.pe[0] = 3;
    c.act = "HardSwish";
    c.residual = true;
    check_conv("depthwise 5x5 multiplier 2 residual hardswish", &c, 31);
    c.d[0] = 2;
    c.s[1] = 3;
    c.act = NULL;
    check_conv("depthwise dilated strided", &c, 32);
    {
        /* Kernel widths with and without a specialised row loop: 7, 4, and 19 (> 16 taps). */
        conv_cfg w = {.nsp = 2, .n = 1, .c = 6, .m = 6, .group = 6, .in = {12, 30}, .k = {3, 7},
                      .s = {1, 1}, .d = {1, 2}, .pb = {1, 6}, .pe = {1, 5}, .bias = true,
                      .act = "LeakyRelu"};
        check_conv("depthwise 3x7 dilated width", &w, 33);
        w.k[1] = 4;
        w.s[1] = 2;
        w.d[1] = 1;
        w.pb[1] = 2;
        w.pe[1] = 1;
        check_conv("depthwise 3x4 stride 2", &w, 34);
        w.k[1] = 19;
        w.s[1] = 1;
        w.pb[1] = 9;
        w.pe[1] = 9;
        check_conv("depthwise 3x19", &w, 35);
    }
}

static void test_conv_1x1_residual(void) {
    conv_cfg c = {.nsp = 2, .n = 2, .c = 16, .m = 24, .group = 1, .in = {7, 9}, .k = {1, 1},
                  .s = {1, 1}, .d = {1, 1}, .bias = true, .residual = true, .act = "Relu"};
    check_conv("1x1 direct GEMM + residual + relu", &c, 40);
    c.s[0] = c.s[1] = 2;
    c.act = "LeakyRelu";
    check_conv("1x1 stride 2 + residual + leakyrelu", &c, 41);
}

static void test_conv_auto_pad(void) {
    /* in 10, k 4, s 2: out 5, total pad (5-1)*2+4-10 = 2 -> 1/1; in 11: out 6, total 3. */
    conv_cfg c = {.nsp = 2, .n = 1, .c = 3, .m = 4, .group = 1, .in = {10, 11}, .k = {4, 4},
                  .s = {2, 2}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 2}, .auto_pad = "SAME_UPPER",
                  .bias = true};
    check_conv("SAME_UPPER", &c, 50);
    c.auto_pad = "SAME_LOWER";
    c.pb[1] = 2;
    c.pe[1] = 1;
    check_conv("SAME_LOWER", &c, 51);
    c.auto_pad = "VALID";
    c.pb[0] = c.pb[1] = c.pe[0] = c.pe[1] = 0;
    check_conv("VALID", &c, 52);
}

static void test_conv_1d_3d(void) {
    conv_cfg c1 = {.nsp = 1, .n = 2, .c = 4, .m = 6, .group = 2, .in = {20}, .k = {5}, .s = {2},
                   .d = {2}, .pb = {3}, .pe = {1}, .bias = true};
    conv_cfg c3 = {.nsp = 3, .n = 1, .c = 3, .m = 4, .group = 1, .in = {6, 7, 5}, .k = {3, 2, 3},
                   .s = {1, 2, 1}, .d = {1, 1, 2}, .pb = {1, 0, 2}, .pe = {0, 1, 1},
                   .bias = true, .act = "Relu"};
    check_conv("conv 1-D", &c1, 60);
    check_conv("conv 3-D", &c3, 61);
    c1.group = 4;
    c1.m = 4;
    check_conv("conv 1-D depthwise", &c1, 62);
}

/* Tile boundaries inside output rows (7x7 s2 p3 on a large image: several tiles per image
 * whatever the thread count) and the channel-split path for small images, under a 1-thread and
 * a 5-thread context (odd, so that blocks and tiles split unevenly). */
static void test_conv_tiling(void) {
    conv_cfg big = {.nsp = 2, .n = 1, .c = 3, .m = 20, .group = 1, .in = {97, 91}, .k = {7, 7},
                    .s = {2, 2}, .d = {1, 1}, .pb = {3, 3}, .pe = {3, 3}, .bias = true,
                    .act = "Relu"};
    conv_cfg small = {.nsp = 2, .n = 2, .c = 48, .m = 72, .group = 1, .in = {7, 7}, .k = {3, 3},
                      .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}, .bias = true,
                      .residual = true, .act = "Relu"};
    conv_cfg small1x1 = {.nsp = 2, .n = 1, .c = 40, .m = 100, .group = 1, .in = {5, 6},
                         .k = {1, 1}, .s = {1, 1}, .d = {1, 1}, .bias = true};
    conv_cfg wide1x1 = {.nsp = 2, .n = 1, .c = 300, .m = 20, .group = 1, .in = {33, 35},
                        .k = {1, 1}, .s = {1, 1}, .d = {1, 1}, .residual = true};
    conv_cfg se = {.nsp = 2, .n = 2, .c = 300, .m = 80, .group = 1, .in = {1, 1}, .k = {1, 1},
                   .s = {1, 1}, .d = {1, 1}, .bias = true, .act = "HardSwish"};
    conv_cfg se3 = {.nsp = 2, .n = 1, .c = 40, .m = 90, .group = 1, .in = {1, 1}, .k = {3, 3},
                    .s = {1, 1}, .d = {1, 1}, .pb = {1, 1}, .pe = {1, 1}, .bias = true};
    void *saved = g_bctx, *ctx[2] = {NULL, NULL};
    const char *threads[2] = {"1", "5"};
    const char *env = getenv("PLINTH_NUM_THREADS");
    char *keep = env ? strdup(env) : NULL;
    for (int t = 0; t < 2; t++) {
        setenv("PLINTH_NUM_THREADS", threads[t], 1);
        PL_CHECK_OK(pl__cpu_backend.create(&ctx[t]));
        if (!ctx[t])
            continue;
        g_bctx = ctx[t];
        check_conv("7x7 s2 p3, tiles split rows", &big, 45);
        check_conv("small image, channel blocks", &small, 46);
        check_conv("small image 1x1, channel blocks", &small1x1, 47);
        check_conv("1x1 wide K, tiles", &wide1x1, 48);
        check_conv("1x1 image (squeeze-excite)", &se, 49);
        check_conv("3x3 on 1x1 image", &se3, 50);
        pl__cpu_backend.destroy(ctx[t]);
    }
    if (keep)
        setenv("PLINTH_NUM_THREADS", keep, 1);
    else
        unsetenv("PLINTH_NUM_THREADS");
    free(keep);
    g_bctx = saved;
}

static void test_conv_errors(void) {
    int64_t xd[4] = {1, 3, 8, 8}, wd[4] = {4, 2, 3, 3}, bd[1] = {5};
    float x[192] = {0}, w[108] = {0}, b[5] = {0};
    double xd64[192] = {0};
    pl__tview in[3] = {fview(x, 4, xd), fview(w, 4, wd), absent()};
    pl_attr at[2];
    op_run r;
    PL_CHECK_FAILS(run_op("Conv", NULL, 0, in, 2, 1, &r), PL_ERR_SHAPE, "nn_node");
    PL_CHECK(strstr(pl_errmsg(), "channels") != NULL);
    op_run_free(&r);
    wd[1] = 3;
    in[1] = fview(w, 4, wd);
    in[2] = fview(b, 1, bd);
    PL_CHECK_FAILS(run_op("Conv", NULL, 0, in, 3, 1, &r), PL_ERR_SHAPE, "bias");
    op_run_free(&r);
    in[0] = view(PL_FLOAT64, xd64, 4, xd);
    PL_CHECK_FAILS(run_op("Conv", NULL, 0, in, 2, 1, &r), PL_ERR_UNSUPPORTED, "float64");
    op_run_free(&r);
    in[0] = fview(x, 4, xd);
    at[0] = PL_ATTR_INTS("kernel_shape", ((int64_t[]){3, 2}), 2);
    PL_CHECK_FAILS(run_op("Conv", at, 1, in, 2, 1, &r), PL_ERR_SHAPE, "kernel_shape");
    op_run_free(&r);
    at[0] = PL_ATTR_INTS("strides", ((int64_t[]){0, 1}), 2);
    PL_CHECK_FAILS(run_op("Conv", at, 1, in, 2, 1, &r), PL_ERR_SHAPE, "strides");
    op_run_free(&r);
    at[0] = PL_ATTR_S("auto_pad", "SAME");
    PL_CHECK_FAILS(run_op("Conv", at, 1, in, 2, 1, &r), PL_ERR_SHAPE, "auto_pad");
    op_run_free(&r);
    at[0] = PL_ATTR_S("activation", "Softplus2");
    PL_CHECK_FAILS(run_op("Conv", at, 1, in, 2, 1, &r), PL_ERR_UNSUPPORTED, "Softplus2");
    op_run_free(&r);
    xd[2] = 1;
    in[0] = fview(x, 4, xd);
    PL_CHECK_FAILS(run_op("Conv", NULL, 0, in, 2, 1, &r), PL_ERR_SHAPE, "exceeds");
    op_run_free(&r);
}

/* ---- ConvTranspose ---- */

typedef struct convt_cfg {
    int nsp;
    int64_t n, c, m, group; /* m: output channels */
    int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], op[3];
    int64_t out_shape[3]; /* nonzero: pass output_shape (pads then derived, as ref pb/pe say) */
    const char *auto_pad;
    bool bias;
} convt_cfg;

static void check_convt(const char *what, const convt_cfg *c, uint64_t seed) {
    int64_t mg = c->m / c->group, cg = c->c / c->group;
    int64_t xd[5] = {c->n, c->c}, wd[5] = {c->c, mg}, od[5] = {c->n, c->m};
    int64_t isp = 1, osp = 1, ksz = 1, ints[6];
    int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
    int64_t pb[3] = {0, 0, 0}, out[3] = {1, 1, 1};
    int sh = 3 - c->nsp, na = 0;
    pl_attr at[8];
    float *x, *w, *b;
    double *ref;
    pl__tview tin[3];
    op_run r;
    for (int i = 0; i < c->nsp; i++) {
        xd[2 + i] = c->in[i];
        wd[2 + i] = c->k[i];
        od[2 + i] = c->out_shape[i] ? c->out_shape[i]
                                    : c->s[i] * (c->in[i] - 1) + c->op[i] +
                                          (c->k[i] - 1) * c->d[i] + 1 - c->pb[i] - c->pe[i];
        in[sh + i] = c->in[i];
        k[sh + i] = c->k[i];
        s[sh + i] = c->s[i];
        d[sh + i] = c->d[i];
        pb[sh + i] = c->pb[i];
        out[sh + i] = od[2 + i];
        isp *= c->in[i];
        osp *= od[2 + i];
        ksz *= c->k[i];
    }
    x = rnd(c->n * c->c * isp, seed);
    w = rnd(c->c * mg * ksz, seed + 1);
    b = rnd(c->m, seed + 2);
    ref = malloc(sizeof(double) * (size_t)(c->n * c->m * osp));
    /* Reference: scatter every input element through every tap. */
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t m = 0; m < c->m; m++)
            for (int64_t o = 0; o < osp; o++)
                ref[(n * c->m + m) * osp + o] = c->bias ? b[m] : 0;
    for (int64_t n = 0; n < c->n; n++)
        for (int64_t ci = 0; ci < c->c; ci++)
            for (int64_t i = 0; i < isp; i++)
                for (int64_t mm = 0; mm < mg; mm++)
                    for (int64_t t = 0; t < ksz; t++) {
                        int64_t i0 = i / (in[1] * in[2]), i1 = i / in[2] % in[1], i2 = i % in[2];
                        int64_t k0 = t / (k[1] * k[2]), k1 = t / k[2] % k[1], k2 = t % k[2];
                        int64_t o0 = i0 * s[0] + k0 * d[0] - pb[0];
                        int64_t o1 = i1 * s[1] + k1 * d[1] - pb[1];
                        int64_t o2 = i2 * s[2] + k2 * d[2] - pb[2];
                        int64_t m = ci / cg * mg + mm;
                        if (o0 < 0 || o0 >= out[0] || o1 < 0 || o1 >= out[1] || o2 < 0 ||
                            o2 >= out[2])
                            continue;
                        ref[(n * c->m + m) * osp + (o0 * out[1] + o1) * out[2] + o2] +=
                            (double)x[(n * c->c + ci) * isp + i] * w[(ci * mg + mm) * ksz + t];
                    }
    at[na++] = PL_ATTR_INTS("strides", c->s, c->nsp);
    at[na++] = PL_ATTR_INTS("dilations", c->d, c->nsp);
    at[na++] = PL_ATTR_I("group", c->group);
    at[na++] = PL_ATTR_INTS("output_padding", c->op, c->nsp);
    if (c->auto_pad)
        at[na++] = PL_ATTR_S("auto_pad", c->auto_pad);
    if (c->out_shape[0]) {
        at[na++] = PL_ATTR_INTS("output_shape", c->out_shape, c->nsp);
    } else if (!c->auto_pad) {
        for (int i = 0; i < c->nsp; i++) {
            ints[i] = c->pb[i];
            ints[c->nsp + i] = c->pe[i];
        }
        at[na++] = PL_ATTR_INTS("pads", ints, 2 * c->nsp);
    }
    tin[0] = fview(x, 2 + c->nsp, xd);
    tin[1] = fview(w, 2 + c->nsp, wd);
    tin[2] = fview(b, 1, &c->m);
    PL_CHECK_OK(run_op("ConvTranspose", at, na, tin, c->bias ? 3 : 2, 1, &r));
    if (r.out[0].data) {
        PL_CHECK(dims_eq(&r.out[0], 2 + c->nsp, od));
        if (dims_eq(&r.out[0], 2 + c->nsp, od))
            PL_CHECK(close_to(what, r.out[0].data, ref, c->n * c->m * osp));
    }
    op_run_free(&r);
    free(x);
    free(w);
    free(b);
    free(ref);
}

static void test_conv_transpose(void) {
    convt_cfg c = {.nsp = 2, .n = 2, .c = 4, .m = 3, .group = 1, .in = {5, 6}, .k = {3, 3},
                   .s = {2, 2}, .d = {1, 1}, .pb = {1, 0}, .pe = {1, 2}, .op = {1, 0},
                   .bias = true};
    check_convt("convtranspose stride 2 pads output_padding", &c, 70);
    c.group = 2;
    c.m = 6;
    c.d[1] = 2;
    c.op[0] = 0;
    check_convt("convtranspose group 2 dilation", &c, 71);
    /* output_shape 12x13: full is (5-1)*2+3 = 11 and (6-1)*2+5 = 15; NOTSET takes
     * begin = total - total/2: H total -1 -> begin 0, W total 2 -> begin 1. */
    c.out_shape[0] = 12;
    c.out_shape[1] = 13;
    c.pb[0] = 0;
    c.pb[1] = 1;
    check_convt("convtranspose output_shape", &c, 72);
    /* SAME_UPPER: out = in*s; total = full - out = 1 and 3 -> begin = total/2 = 0 and 1. */
    c.out_shape[0] = c.out_shape[1] = 0;
    c.auto_pad = "SAME_UPPER";
    c.pb[0] = 0;
    c.pe[0] = 1;
    c.pb[1] = 1;
    c.pe[1] = 2;
    check_convt("convtranspose SAME_UPPER", &c, 73);
    {
        convt_cfg c1 = {.nsp = 1, .n = 1, .c = 2, .m = 3, .group = 1, .in = {7}, .k = {4},
                        .s = {3}, .d = {1}, .bias = false};
        convt_cfg c3 = {.nsp = 3, .n = 1, .c = 2, .m = 2, .group = 1, .in = {3, 4, 2},
                        .k = {2, 3, 2}, .s = {2, 1, 2}, .d = {1, 1, 1}, .pb = {0, 1, 0},
                        .pe = {1, 1, 0}, .bias = true};
        check_convt("convtranspose 1-D", &c1, 74);
        check_convt("convtranspose 3-D", &c3, 75);
    }
}

/* ---- MatMul ---- */

/* A [.., m, k] x B [.., k, n] with numpy broadcasting of the batch dims (shapes padded to the
 * same rank by the caller). */
static void ref_matmul(int r, const int64_t *ad, const int64_t *bd, const int64_t *yd,
                       const double *a, const double *b, double *y) {
    int64_t m = ad[r - 2], k = ad[r - 1], n = bd[r - 1], nb = 1;
    for (int i = 0; i < r - 2; i++)
        nb *= yd[i];
    for (int64_t t = 0; t < nb; t++) {
        int64_t rem = t, oa = 0, ob = 0, sa = 1, sb = 1;
        for (int i = r - 3; i >= 0; i--) {
            int64_t v = rem % yd[i];
            rem /= yd[i];
            oa += (ad[i] == 1 ? 0 : v) * sa;
            ob += (bd[i] == 1 ? 0 : v) * sb;
            sa *= ad[i];
            sb *= bd[i];
        }
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double acc = 0;
                for (int64_t p = 0; p < k; p++)
                    acc += a[(oa * m + i) * k + p] * b[(ob * k + p) * n + j];
                y[(t * m + i) * n + j] = acc;
            }
    }
}

static void check_matmul(const char *what, int ra, const int64_t *ad, int rb, const int64_t *bd,
                         int ry, const int64_t *yd, uint64_t seed) {
    /* Padded shapes for the reference: 1-D operands promoted, ranks aligned. */
    int64_t pa[8], pb[8], py[8], an = 1, bn = 1, yn = 1;
    int r, ra2 = ra < 2 ? 2 : ra, rb2 = rb < 2 ? 2 : rb;
    int64_t a2[8], b2[8];
    float *a, *b;
    double *da, *db, *ref;
    pl__tview in[2];
    op_run run;
    memcpy(a2, ad, sizeof(int64_t) * ra);
    memcpy(b2, bd, sizeof(int64_t) * rb);
    if (ra == 1) {
        a2[1] = ad[0];
        a2[0] = 1;
    }
    if (rb == 1)
        b2[1] = 1;
    r = ra2 > rb2 ? ra2 : rb2;
    for (int i = 0; i < r; i++) {
        int ia = i - (r - ra2), ib = i - (r - rb2);
        pa[i] = ia >= 0 ? a2[ia] : 1;
        pb[i] = ib >= 0 ? b2[ib] : 1;
        py[i] = pa[i] > pb[i] ? pa[i] : pb[i];
    }
    py[r - 2] = pa[r - 2];
    py[r - 1] = pb[r - 1];
    for (int i = 0; i < ra; i++)
        an *= ad[i];
    for (int i = 0; i < rb; i++)
        bn *= bd[i];
    for (int i = 0; i < ry; i++)
        yn *= yd[i];
    a = rnd(an, seed);
    b = rnd(bn, seed + 1);
    da = malloc(sizeof(double) * (size_t)an);
    db = malloc(sizeof(double) * (size_t)bn);
    ref = malloc(sizeof(double) * (size_t)yn);
    for (int64_t i = 0; i < an; i++)
        da[i] = a[i];
    for (int64_t i = 0; i < bn; i++)
        db[i] = b[i];
    ref_matmul(r, pa, pb, py, da, db, ref);
    in[0] = fview(a, ra, ad);
    in[1] = fview(b, rb, bd);
    PL_CHECK_OK(run_op("MatMul", NULL, 0, in, 2, 1, &run));
    if (run.out[0].data) {
        PL_CHECK(dims_eq(&run.out[0], ry, yd));
        if (dims_eq(&run.out[0], ry, yd))
            PL_CHECK(close_to(what, run.out[0].data, ref, yn));
    }
    op_run_free(&run);
    /* The same product in int32 and int64 (small integers, exact). */
    for (int t = 0; t < 2; t++) {
        pl_dtype dt = t ? PL_INT64 : PL_INT32;
        size_t es = pl_dtype_size(dt);
        char *ia = malloc(es * (size_t)an), *ib = malloc(es * (size_t)bn);
        bool ok = true;
        for (int64_t i = 0; i < an; i++)
            pl__set_f64(ia, dt, i, da[i] = floor(a[i] * 5));
        for (int64_t i = 0; i < bn; i++)
            pl__set_f64(ib, dt, i, db[i] = floor(b[i] * 5));
        ref_matmul(r, pa, pb, py, da, db, ref);
        in[0] = view(dt, ia, ra, ad);
        in[1] = view(dt, ib, rb, bd);
        PL_CHECK_OK(run_op("MatMul", NULL, 0, in, 2, 1, &run));
        if (run.out[0].data && dims_eq(&run.out[0], ry, yd)) {
            PL_CHECK(run.out[0].dtype == dt);
            for (int64_t i = 0; i < yn && ok; i++)
                ok = pl__get_f64(run.out[0].data, dt, i) == ref[i];
            PL_CHECK(ok);
        }
        op_run_free(&run);
        free(ia);
        free(ib);
    }
    free(a);
    free(b);
    free(da);
    free(db);
    free(ref);
}

static void test_matmul(void) {
    check_matmul("matmul 2-D", 2, (int64_t[]){7, 5}, 2, (int64_t[]){5, 9}, 2,
                 (int64_t[]){7, 9}, 80);
    check_matmul("matmul broadcast batch", 4, (int64_t[]){2, 1, 3, 4}, 3,
                 (int64_t[]){5, 4, 6}, 4, (int64_t[]){2, 5, 3, 6}, 81);
    check_matmul("matmul shared B folds batch", 3, (int64_t[]){4, 3, 5}, 2,
                 (int64_t[]){5, 7}, 3, (int64_t[]){4, 3, 7}, 82);
    check_matmul("matmul A 2-D, B batched", 2, (int64_t[]){3, 5}, 3, (int64_t[]){4, 5, 2}, 3,
                 (int64_t[]){4, 3, 2}, 83);
    check_matmul("matmul 1-D x 2-D", 1, (int64_t[]){6}, 2, (int64_t[]){6, 4}, 1,
                 (int64_t[]){4}, 84);
    check_matmul("matmul 3-D x 1-D", 3, (int64_t[]){2, 3, 6}, 1, (int64_t[]){6}, 2,
                 (int64_t[]){2, 3}, 85);
    check_matmul("matmul 1-D x 1-D", 1, (int64_t[]){6}, 1, (int64_t[]){6}, 0, NULL, 86);
    check_matmul("matmul large batch", 3, (int64_t[]){64, 8, 16}, 3, (int64_t[]){64, 16, 8}, 3,
                 (int64_t[]){64, 8, 8}, 87);
    {
        float a[6], b[6];
        pl__tview in[2] = {fview(a, 2, (int64_t[]){2, 3}), fview(b, 2, (int64_t[]){2, 3})};
        op_run r;
        PL_CHECK_FAILS(run_op("MatMul", NULL, 0, in, 2, 1, &r), PL_ERR_SHAPE, "inner");
        op_run_free(&r);
        in[1] = view(PL_INT32, b, 2, (int64_t[]){3, 2});
        PL_CHECK_FAILS(run_op("MatMul", NULL, 0, in, 2, 1, &r), PL_ERR_SHAPE, "differ");
        op_run_free(&r);
        in[0] = view(PL_BOOL, a, 2, (int64_t[]){2, 3});
        PL_CHECK_FAILS(run_op("MatMul", NULL, 0, in, 2, 1, &r), PL_ERR_UNSUPPORTED, "bool");
        op_run_free(&r);
    }
}

static void check_gemm(const char *what, int64_t m, int64_t k, int64_t n, bool ta, bool tb,
                       float alpha, float beta, int crank, const int64_t *cd, const char *act,
                       uint64_t seed);

/* ---- GEMMs split over threads (2-D block grids) ---- */

static void test_gemm_threads(void) {
    void *saved = g_bctx, *ctx = NULL;
    const char *env = getenv("PLINTH_NUM_THREADS");
    char *keep = env ? strdup(env) : NULL;
    setenv("PLINTH_NUM_THREADS", "5", 1);
    PL_CHECK_OK(pl__cpu_backend.create(&ctx));
    if (keep)
        setenv("PLINTH_NUM_THREADS", keep, 1);
    else
        unsetenv("PLINTH_NUM_THREADS");
    free(keep);
    if (!ctx)
        return;
    g_bctx = ctx;
    check_matmul("matmul 2-D split", 2, (int64_t[]){150, 70}, 2, (int64_t[]){70, 130}, 2,
                 (int64_t[]){150, 130}, 180);
    check_matmul("matmul tall split", 2, (int64_t[]){700, 64}, 2, (int64_t[]){64, 20}, 2,
                 (int64_t[]){700, 20}, 181);
    check_matmul("matmul batch 2 split", 3, (int64_t[]){2, 90, 80}, 3, (int64_t[]){2, 80, 100}, 3,
                 (int64_t[]){2, 90, 100}, 182);
    check_gemm("gemm transA transB split", 120, 90, 110, true, true, 0.5f, 1.f, 1,
               (int64_t[]){110}, "Relu", 183);
    check_gemm("gemm transA split", 200, 70, 50, true, false, 1.f, 1.f, 2, (int64_t[]){200, 50},
               NULL, 184);
    /* One row / one column: the GEMV path, split over threads, all transpose combinations. */
    check_gemm("gemv m=1", 1, 300, 700, false, false, 1.f, 1.f, 1, (int64_t[]){700}, NULL, 185);
    check_gemm("gemv m=1 transA transB", 1, 300, 700, true, true, 2.f, 0.5f, 1, (int64_t[]){700},
               NULL, 186);
    check_gemm("gemv n=1", 700, 300, 1, false, false, 1.f, 1.f, 2, (int64_t[]){700, 1}, "Relu",
               187);
    check_gemm("gemv n=1 transA transB", 700, 300, 1, true, true, 1.f, 1.f, -1, NULL, NULL, 188);
    check_matmul("matmul vector x matrix split", 1, (int64_t[]){500}, 2, (int64_t[]){500, 600}, 1,
                 (int64_t[]){600}, 189);
    pl__cpu_backend.destroy(ctx);
    g_bctx = saved;
}

/* ---- Gemm ---- */

static void check_gemm(const char *what, int64_t m, int64_t k, int64_t n, bool ta, bool tb,
                       float alpha, float beta, int crank, const int64_t *cd, const char *act,
                       uint64_t seed) {
    int64_t adims[2] = {ta ? k : m, ta ? m : k}, bdims[2] = {tb ? n : k, tb ? k : n};
    int64_t cn = 1, yd[2] = {m, n};
    float *a = rnd(m * k, seed), *b = rnd(k * n, seed + 1), *c;
    double *ref = malloc(sizeof(double) * (size_t)(m * n));
    pl_attr at[7];
    pl__tview in[3];
    op_run r;
    int na = 0;
    for (int i = 0; i < crank; i++)
        cn *= cd[i];
    c = rnd(cn, seed + 2);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0, cv = 0;
            for (int64_t p = 0; p < k; p++)
                acc += (double)(ta ? a[p * m + i] : a[i * k + p]) *
                       (tb ? b[j * k + p] : b[p * n + j]);
            if (crank >= 0) {
                int64_t ci = crank == 2 && cd[0] != 1 ? i : 0;
                int64_t cj = crank >= 1 && cd[crank - 1] != 1 ? j : 0;
                cv = c[ci * (crank >= 1 ? cd[crank - 1] : 1) + cj];
            }
            ref[i * n + j] = act_ref(act, alpha * acc + beta * cv);
        }
    at[na++] = PL_ATTR_I("transA", ta);
    at[na++] = PL_ATTR_I("transB", tb);
    at[na++] = PL_ATTR_F("alpha", alpha);
    at[na++] = PL_ATTR_F("beta", beta);
    if (act) {
        at[na++] = PL_ATTR_S("activation", act);
        at[na++] = PL_ATTR_F("activation_alpha", 0.1);
    }
    in[0] = fview(a, 2, adims);
    in[1] = fview(b, 2, bdims);
    in[2] = crank >= 0 ? fview(c, crank, cd) : absent();
    PL_CHECK_OK(run_op("Gemm", at, na, in, crank >= 0 ? 3 : 2, 1, &r));
    if (r.out[0].data) {
        PL_CHECK(dims_eq(&r.out[0], 2, yd));
        PL_CHECK(close_to(what, r.out[0].data, ref, m * n));
    }
    op_run_free(&r);
    free(a);
    free(b);
    free(c);
    free(ref);
}

static void test_gemm(void) {
    check_gemm("gemm plain, C [N]", 5, 7, 6, false, false, 1.f, 1.f, 1, (int64_t[]){6}, NULL, 90);
    check_gemm("gemm transA, C [M,1]", 5, 7, 6, true, false, 0.5f, 2.f, 2, (int64_t[]){5, 1},
               NULL, 91);
    check_gemm("gemm transB, C [M,N], relu", 8, 3, 4, false, true, 1.f, -1.f, 2,
               (int64_t[]){8, 4}, "Relu", 92);
    check_gemm("gemm transA transB, C scalar", 4, 9, 3, true, true, 1.5f, 0.5f, 0, NULL, NULL,
               93);
    check_gemm("gemm no C", 6, 5, 7, false, true, 1.f, 1.f, -1, NULL, "LeakyRelu", 94);
    check_gemm("gemm C [1,N], beta 0", 3, 4, 5, false, false, 1.f, 0.f, 2, (int64_t[]){1, 5},
               NULL, 95);
    {
        float a[12], b[12], c[12];
        pl__tview in[3] = {fview(a, 2, (int64_t[]){3, 4}), fview(b, 2, (int64_t[]){4, 3}),
                           fview(c, 1, (int64_t[]){4})};
        op_run r;
        PL_CHECK_FAILS(run_op("Gemm", NULL, 0, in, 3, 1, &r), PL_ERR_SHAPE, "broadcast");
        op_run_free(&r);
    }
}

/* ---- BatchNormalization / LayerNormalization / LpNormalization ---- */

static void test_batchnorm(void) {
    int64_t xd[4] = {2, 5, 4, 3}, cd[1] = {5}, n = 120;
    float *x = rnd(n, 100), *g = rnd(5, 101), *b = rnd(5, 102), *mu = rnd(5, 103);
    float *var = rnd(5, 104);
    double ref[120];
    pl__tview in[5];
    pl_attr at[2] = {PL_ATTR_F("epsilon", 1e-3)};
    op_run r;
    for (int i = 0; i < 5; i++)
        var[i] = var[i] + 1.5f;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = i / 12 % 5;
        ref[i] = (x[i] - mu[c]) / sqrt(var[c] + 1e-3) * g[c] + b[c];
    }
    in[0] = fview(x, 4, xd);
    in[1] = fview(g, 1, cd);
    in[2] = fview(b, 1, cd);
    in[3] = fview(mu, 1, cd);
    in[4] = fview(var, 1, cd);
    PL_CHECK_OK(run_op("BatchNormalization", at, 1, in, 5, 1, &r));
    if (r.out[0].data) {
        PL_CHECK(dims_eq(&r.out[0], 4, xd));
        PL_CHECK(close_to("batchnorm", r.out[0].data, ref, n));
    }
    op_run_free(&r);
    at[1] = PL_ATTR_I("training_mode", 1);
    PL_CHECK_FAILS(run_op("BatchNormalization", at, 2, in, 5, 1, &r), PL_ERR_UNSUPPORTED,
                   "training");
    op_run_free(&r);
    in[2] = fview(b, 1, (int64_t[]){4});
    PL_CHECK_FAILS(run_op("BatchNormalization", at, 1, in, 5, 1, &r), PL_ERR_SHAPE, "nn_node");
    op_run_free(&r);
    free(x);
    free(g);
    free(b);
    free(mu);
    free(var);
}

static void check_layernorm(const char *what, int rank, const int64_t *xd, int axis, int srank,
                            const int64_t *sd, bool bias, uint64_t seed) {
    int64_t n = 1, inner = 1, outer, sn = 1;
    float *x, *s, *b;
    double *ref, *rmean, *ristd;
    pl_attr at[2] = {PL_ATTR_I("axis", axis), PL_ATTR_F("epsilon", 1e-4)};
    int ax = axis < 0 ? axis + rank : axis;
    pl__tview in[3];
    op_run r;
    for (int i = 0; i < rank; i++) {
        n *= xd[i];
        if (i >= ax)
            inner *= xd[i];
    }
    for (int i = 0; i < srank; i++)
        sn *= sd[i];
    outer = n / inner;
    x = rnd(n, seed);
    for (int64_t i = 0; i < n; i++)
        x[i] = x[i] * 3 + 2; /* a mean well away from zero */
    s = rnd(sn, seed + 1);
    b = rnd(sn, seed + 2);
    ref = malloc(sizeof(double) * (size_t)n);
    rmean = malloc(sizeof(double) * (size_t)outer);
    ristd = malloc(sizeof(double) * (size_t)outer);
    for (int64_t o = 0; o < outer; o++) {
        double mu = 0, v = 0;
        for (int64_t i = 0; i < inner; i++)
            mu += x[o * inner + i];
        mu /= (double)inner;
        for (int64_t i = 0; i < inner; i++)
            v += (x[o * inner + i] - mu) * (x[o * inner + i] - mu);
        v = 1 / sqrt(v / (double)inner + 1e-4);
        rmean[o] = mu;
        ristd[o] = v;
        for (int64_t i = 0; i < inner; i++) {
            /* Scale/bias broadcast against the trailing dims of X. */
            int64_t rem = i, off = 0, st = 1;
            for (int d = rank - 1; d >= ax; d--) {
                int64_t idx = rem % xd[d], sdim;
                int si = d - (rank - srank);
                rem /= xd[d];
                sdim = si >= 0 ? sd[si] : 1;
                off += (sdim == 1 ? 0 : idx) * st;
                st *= sdim;
            }
            ref[o * inner + i] = (x[o * inner + i] - mu) * v * s[off] + (bias ? b[off] : 0);
        }
    }
    in[0] = fview(x, rank, xd);
    in[1] = fview(s, srank, sd);
    in[2] = bias ? fview(b, srank, sd) : absent();
    PL_CHECK_OK(run_op("LayerNormalization", at, 2, in, 3, 3, &r));
    if (r.out[0].data) {
        PL_CHECK(dims_eq(&r.out[0], rank, xd));
        PL_CHECK(close_to(what, r.out[0].data, ref, n));
        PL_CHECK(r.out[1].rank == rank && r.out[1].dims[rank - 1] == 1);
        PL_CHECK(close_to("layernorm mean", r.out[1].data, rmean, outer));
        PL_CHECK(close_to("layernorm inv std", r.out[2].data, ristd, outer));
    }
    op_run_free(&r);
    free(x);
    free(s);
    free(b);
    free(ref);
    free(rmean);
    free(ristd);
}

static void test_layernorm(void) {
    check_layernorm("layernorm last axis", 3, (int64_t[]){2, 3, 16}, -1, 1, (int64_t[]){16}, true,
                    110);
    check_layernorm("layernorm axis 1, no bias", 3, (int64_t[]){2, 3, 16}, 1, 2,
                    (int64_t[]){3, 16}, false, 111);
    check_layernorm("layernorm broadcast scale", 3, (int64_t[]){2, 3, 8}, 1, 2,
                    (int64_t[]){1, 8}, true, 112);
}

static void test_lpnorm(void) {
    int64_t xd[3] = {2, 4, 3};
    float *x = rnd(24, 120);
    double ref[24];
    for (int p = 1; p <= 2; p++) {
        pl_attr at[2] = {PL_ATTR_I("axis", 1), PL_ATTR_I("p", p)};
        pl__tview in[1] = {fview(x, 3, xd)};
        op_run r;
        for (int o = 0; o < 2; o++)
            for (int i = 0; i < 3; i++) {
                double s = 0;
                for (int k = 0; k < 4; k++) {
                    double v = x[(o * 4 + k) * 3 + i];
                    s += p == 1 ? fabs(v) : v * v;
                }
                s = p == 1 ? s : sqrt(s);
                for (int k = 0; k < 4; k++)
                    ref[(o * 4 + k) * 3 + i] = x[(o * 4 + k) * 3 + i] / s;
            }
        PL_CHECK_OK(run_op("LpNormalization", at, 2, in, 1, 1, &r));
        if (r.out[0].data)
            PL_CHECK(close_to(p == 1 ? "lpnorm p1" : "lpnorm p2", r.out[0].data, ref, 24));
        op_run_free(&r);
    }
    free(x);
}

/* ---- pooling ---- */

typedef struct pool_cfg {
    int nsp;
    int64_t n, c, in[3], k[3], s[3], d[3], pb[3], pe[3];
    int64_t out[3]; /* expected, computed by hand in the case */
    bool ceil_mode, include_pad, indices, col_major;
    const char *auto_pad;
} pool_cfg;

static void check_pool(const char *what, bool is_max, const pool_cfg *c, uint64_t seed) {
    int64_t in[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, d[3] = {1, 1, 1};
    int64_t pb[3] = {0, 0, 0}, pe[3] = {0, 0, 0}, out[3] = {1, 1, 1};
    int64_t xd[5] = {c->n, c->c}, yd[5] = {c->n, c->c}, isp = 1, osp = 1, ints[6];
    int sh = 3 - c->nsp, na = 0;
    float *x;
    double *ref, *refi;
    pl_attr at[8];
    pl__tview tin[1];
    op_run r;
    for (int i = 0; i < c->nsp; i++) {
        in[sh + i] = c->in[i];
        k[sh + i] = c->k[i];
        s[sh + i] = c->s[i];
        d[sh + i] = c->d[i] ? c->d[i] : 1;
        pb[sh + i] = c->pb[i];
        pe[sh + i] = c->pe[i];
        out[sh + i] = c->out[i];
        xd[2 + i] = c->in[i];
        yd[2 + i] = c->out[i];
        isp *= c->in[i];
        osp *= c->out[i];
    }
    x = rnd(c->n * c->c * isp, seed);
    ref = malloc(sizeof(double) * (size_t)(c->n * c->c * osp));
    refi = malloc(sizeof(double) * (size_t)(c->n * c->c * osp));
    for (int64_t p = 0; p < c->n * c->c; p++)
        for (int64_t o = 0; o < osp; o++) {
            int64_t oo[3] = {o / (out[1] * out[2]), o / out[2] % out[1], o % out[2]};
            double acc = is_max ? -INFINITY : 0, best = -1;
            int64_t cnt = 0, cnt_pad = 0;
            for (int64_t t = 0; t < k[0] * k[1] * k[2]; t++) {
                int64_t kk[3] = {t / (k[1] * k[2]), t / k[2] % k[1], t % k[2]}, ii[3];
                bool valid = true, in_pad = true;
                for (int q = 0; q < 3; q++) {
                    ii[q] = oo[q] * s[q] - pb[q] + kk[q] * d[q];
                    valid = valid && ii[q] >= 0 && ii[q] < in[q];
                    in_pad = in_pad && ii[q] < in[q] + pe[q];
                }
                cnt_pad += in_pad;
                if (!valid)
                    continue;
                cnt++;
                {
                    int64_t sp = (ii[0] * in[1] + ii[1]) * in[2] + ii[2];
                    double v = x[p * isp + sp];
                    if (c->col_major)
                        sp = ii[0] + ii[1] * in[0] + ii[2] * in[0] * in[1];
                    if (is_max) {
                        if (v > acc) {
                            acc = v;
                            best = (double)(p * isp + sp);
                        }
                    } else {
                        acc += v;
                    }
                }
            }
            ref[p * osp + o] = is_max ? acc : acc / (double)(c->include_pad ? cnt_pad : cnt);
            refi[p * osp + o] = best;
        }
    at[na++] = PL_ATTR_INTS("kernel_shape", c->k, c->nsp);
    at[na++] = PL_ATTR_INTS("strides", c->s, c->nsp);
    if (c->d[0])
        at[na++] = PL_ATTR_INTS("dilations", c->d, c->nsp);
    at[na++] = PL_ATTR_I("ceil_mode", c->ceil_mode);
    at[na++] = PL_ATTR_I("count_include_pad", c->include_pad);
    at[na++] = PL_ATTR_I("storage_order", c->col_major);
    if (c->auto_pad) {
        at[na++] = PL_ATTR_S("auto_pad", c->auto_pad);
    } else {
        for (int i = 0; i < c->nsp; i++) {
            ints[i] = c->pb[i];
            ints[c->nsp + i] = c->pe[i];
        }
        at[na++] = PL_ATTR_INTS("pads", ints, 2 * c->nsp);
    }
    tin[0] = fview(x, 2 + c->nsp, xd);
    PL_CHECK_OK(run_op(is_max ? "MaxPool" : "AveragePool", at, na, tin, 1,
                       is_max && c->indices ? 2 : 1, &r));
    if (r.out[0].data) {
        PL_CHECK(dims_eq(&r.out[0], 2 + c->nsp, yd));
        if (dims_eq(&r.out[0], 2 + c->nsp, yd)) {
            PL_CHECK(close_to(what, r.out[0].data, ref, c->n * c->c * osp));
            if (is_max && c->indices) {
                bool ok = r.out[1].dtype == PL_INT64;
                for (int64_t i = 0; ok && i < c->n * c->c * osp; i++)
                    ok = ((int64_t *)r.out[1].data)[i] == (int64_t)refi[i];
                PL_CHECK(ok);
            }
        }
    }
    op_run_free(&r);
    free(x);
    free(ref);
    free(refi);
}

static void test_pool(void) {
    /* 3x3 s2 pad 1 on 11x10: out (11+2-3)/2+1 = 6, (10+2-3)/2+1 = 5. */
    pool_cfg c = {.nsp = 2, .n = 2, .c = 3, .in = {11, 10}, .k = {3, 3}, .s = {2, 2},
                  .pb = {1, 1}, .pe = {1, 1}, .out = {6, 5}, .indices = true};
    check_pool("maxpool 3x3 s2 p1 + indices", true, &c, 130);
    check_pool("avgpool exclude pad", false, &c, 131);
    c.include_pad = true;
    check_pool("avgpool count_include_pad", false, &c, 132);
    /* ceil_mode, 2x2 s2 on 11x10 no pad: ceil(9/2)+1 = 6, ceil(8/2)+1 = 5. */
    c.k[0] = c.k[1] = 2;
    c.pb[0] = c.pb[1] = c.pe[0] = c.pe[1] = 0;
    c.out[0] = 6;
    c.out[1] = 5;
    c.ceil_mode = true;
    c.include_pad = false;
    check_pool("maxpool ceil_mode", true, &c, 133);
    check_pool("avgpool ceil_mode", false, &c, 134);
    /* ceil mode with pads: 3x3 s2 pad 1 on 10: ceil(9/2)+1 = 6; the 6th window starts at
     * 5*2-1 = 9 < 10 + 1, so it stays. With include_pad the edge window counts 2 pad taps... */
    c.k[0] = c.k[1] = 3;
    c.pb[0] = c.pb[1] = c.pe[0] = c.pe[1] = 1;
    c.in[0] = 10;
    c.out[0] = 6;
    c.out[1] = 6;
    c.include_pad = true;
    check_pool("avgpool ceil_mode include_pad", false, &c, 135);
    /* Dilated max pool, asymmetric pads, column-major indices. */
    {
        pool_cfg m = {.nsp = 2, .n = 1, .c = 2, .in = {9, 12}, .k = {2, 3}, .s = {1, 2},
                      .d = {2, 2}, .pb = {0, 2}, .pe = {1, 0}, .out = {8, 5}, .indices = true,
                      .col_major = true};
        check_pool("maxpool dilated col-major indices", true, &m, 136);
    }
    {
        pool_cfg p1 = {.nsp = 1, .n = 2, .c = 3, .in = {17}, .k = {4}, .s = {3}, .pb = {2},
                       .pe = {1}, .out = {6}, .indices = true};
        pool_cfg p3 = {.nsp = 3, .n = 1, .c = 2, .in = {5, 6, 7}, .k = {2, 3, 2},
                       .s = {2, 2, 1}, .pb = {0, 1, 1}, .pe = {1, 1, 0}, .out = {3, 3, 7},
                       .indices = true};
        check_pool("maxpool 1-D", true, &p1, 137);
        check_pool("avgpool 1-D", false, &p1, 138);
        check_pool("maxpool 3-D", true, &p3, 139);
        check_pool("avgpool 3-D", false, &p3, 140);
        /* SAME_UPPER 3x3 s2 on 5x6x7... only 2-D here: in 11x10 -> 6x5, total 2/1 pads. */
        {
            pool_cfg su = {.nsp = 2, .n = 1, .c = 2, .in = {11, 10}, .k = {3, 3}, .s = {2, 2},
                           .pb = {1, 0}, .pe = {1, 1}, .out = {6, 5}, .auto_pad = "SAME_UPPER"};
            check_pool("maxpool SAME_UPPER", true, &su, 141);
        }
    }
}

static void test_global_pool(void) {
    int64_t xd[4] = {2, 3, 5, 7}, yd[4] = {2, 3, 1, 1};
    float *x = rnd(210, 150);
    double ra[6], rm[6];
    pl__tview in[1] = {fview(x, 4, xd)};
    op_run r;
    for (int p = 0; p < 6; p++) {
        double s = 0, m = -INFINITY;
        for (int i = 0; i < 35; i++) {
            s += x[p * 35 + i];
            m = x[p * 35 + i] > m ? x[p * 35 + i] : m;
        }
        ra[p] = s / 35;
        rm[p] = m;
    }
    PL_CHECK_OK(run_op("GlobalAveragePool", NULL, 0, in, 1, 1, &r));
    if (r.out[0].data) {
        PL_CHECK(dims_eq(&r.out[0], 4, yd));
        PL_CHECK(close_to("global average pool", r.out[0].data, ra, 6));
    }
    op_run_free(&r);
    PL_CHECK_OK(run_op("GlobalMaxPool", NULL, 0, in, 1, 1, &r));
    if (r.out[0].data)
        PL_CHECK(close_to("global max pool", r.out[0].data, rm, 6));
    op_run_free(&r);
    free(x);
}

/* ---- Einsum ---- */

static void check_einsum(const char *eq, int nin, const int *ranks, const int64_t (*dims)[6],
                         int ry, const int64_t *yd, const double *ref, float **xs) {
    pl__tview in[4];
    pl_attr at[1] = {PL_ATTR_S("equation", eq)};
    int64_t yn = 1;
    op_run r;
    for (int i = 0; i < nin; i++)
        in[i] = fview(xs[i], ranks[i], dims[i]);
    for (int i = 0; i < ry; i++)
        yn *= yd[i];
    PL_CHECK_OK(run_op("Einsum", at, 1, in, nin, 1, &r));
    if (r.out[0].data) {
        PL_CHECK(dims_eq(&r.out[0], ry, yd));
        if (dims_eq(&r.out[0], ry, yd))
            PL_CHECK(close_to(eq, r.out[0].data, ref, yn));
    }
    op_run_free(&r);
}

static void test_einsum(void) {
    float *a = rnd(4 * 5 * 6 * 3, 160), *b = rnd(4 * 6 * 7 * 3, 161), *c = rnd(7 * 8, 162);
    double *ref = malloc(sizeof(double) * 4096);
    float *xs[3];
    /* bij,bjk->bik (batched GEMM) */
    {
        int ranks[2] = {3, 3};
        int64_t dims[2][6] = {{4, 5, 6}, {4, 6, 7}};
        for (int bb = 0; bb < 4; bb++)
            for (int i = 0; i < 5; i++)
                for (int k = 0; k < 7; k++) {
                    double s = 0;
                    for (int j = 0; j < 6; j++)
                        s += (double)a[(bb * 5 + i) * 6 + j] * b[(bb * 6 + j) * 7 + k];
                    ref[(bb * 5 + i) * 7 + k] = s;
                }
        xs[0] = a;
        xs[1] = b;
        check_einsum("bij,bjk->bik", 2, ranks, dims, 3, (int64_t[]){4, 5, 7}, ref, xs);
        /* same product, result transposed: bij,bjk->kbi (copy of the result) */
        {
            double *t = malloc(sizeof(double) * 140);
            for (int bb = 0; bb < 4; bb++)
                for (int i = 0; i < 5; i++)
                    for (int k = 0; k < 7; k++)
                        t[(k * 4 + bb) * 5 + i] = ref[(bb * 5 + i) * 7 + k];
            check_einsum("bij,bjk->kbi", 2, ranks, dims, 3, (int64_t[]){7, 4, 5}, t, xs);
            free(t);
        }
    }
    /* ij,jk implicit -> ik; and the same with B given transposed: ij,kj->ik */
    {
        int ranks[2] = {2, 2};
        int64_t dims[2][6] = {{5, 6}, {6, 7}}, dt[2][6] = {{5, 6}, {7, 6}};
        for (int i = 0; i < 5; i++)
            for (int k = 0; k < 7; k++) {
                double s = 0;
                for (int j = 0; j < 6; j++)
                    s += (double)a[i * 6 + j] * b[j * 7 + k];
                ref[i * 7 + k] = s;
            }
        xs[0] = a;
        xs[1] = b;
        check_einsum("ij,jk", 2, ranks, dims, 2, (int64_t[]){5, 7}, ref, xs);
        for (int i = 0; i < 5; i++)
            for (int k = 0; k < 7; k++) {
                double s = 0;
                for (int j = 0; j < 6; j++)
                    s += (double)a[i * 6 + j] * b[k * 6 + j];
                ref[i * 7 + k] = s;
            }
        check_einsum("ij,kj->ik", 2, ranks, dt, 2, (int64_t[]){5, 7}, ref, xs);
    }
    /* attention scores: bhqd,bhkd->bhqk */
    {
        int ranks[2] = {4, 4};
        int64_t dims[2][6] = {{2, 2, 5, 6}, {2, 2, 7, 6}};
        for (int bh = 0; bh < 4; bh++)
            for (int q = 0; q < 5; q++)
                for (int k = 0; k < 7; k++) {
                    double s = 0;
                    for (int d = 0; d < 6; d++)
                        s += (double)a[(bh * 5 + q) * 6 + d] * b[(bh * 7 + k) * 6 + d];
                    ref[(bh * 5 + q) * 7 + k] = s;
                }
        xs[0] = a;
        xs[1] = b;
        check_einsum("bhqd,bhkd->bhqk", 2, ranks, dims, 4, (int64_t[]){2, 2, 5, 7}, ref, xs);
    }
    /* permuted operands: ijk,jil->kl (needs copies of both) */
    {
        int ranks[2] = {3, 3};
        int64_t dims[2][6] = {{3, 4, 5}, {4, 3, 6}};
        for (int k = 0; k < 5; k++)
            for (int l = 0; l < 6; l++) {
                double s = 0;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 4; j++)
                        s += (double)a[(i * 4 + j) * 5 + k] * b[(j * 3 + i) * 6 + l];
                ref[k * 6 + l] = s;
            }
        xs[0] = a;
        xs[1] = b;
        check_einsum("ijk,jil->kl", 2, ranks, dims, 2, (int64_t[]){5, 6}, ref, xs);
    }
    /* one input: transpose, diagonal, trace, sum */
    {
        int ranks[1] = {2};
        int64_t dims[1][6] = {{6, 6}}, d2[1][6] = {{4, 6}};
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 6; j++)
                ref[j * 4 + i] = a[i * 6 + j];
        xs[0] = a;
        check_einsum("ij->ji", 1, ranks, d2, 2, (int64_t[]){6, 4}, ref, xs);
        for (int i = 0; i < 6; i++)
            ref[i] = a[i * 6 + i];
        check_einsum("ii->i", 1, ranks, dims, 1, (int64_t[]){6}, ref, xs);
        ref[0] = 0;
        for (int i = 0; i < 6; i++)
            ref[0] += a[i * 6 + i];
        check_einsum("ii", 1, ranks, dims, 0, NULL, ref, xs);
        for (int i = 0; i < 4; i++) {
            ref[i] = 0;
            for (int j = 0; j < 6; j++)
                ref[i] += a[i * 6 + j];
        }
        check_einsum("ij->i", 1, ranks, d2, 1, (int64_t[]){4}, ref, xs);
    }
    /* ellipsis with broadcasting: ...ij,...jk->...ik with A [2,1,3,4], B [5,4,2] */
    {
        int ranks[2] = {4, 3};
        int64_t dims[2][6] = {{2, 1, 3, 4}, {5, 4, 2}};
        for (int p = 0; p < 2; p++)
            for (int q = 0; q < 5; q++)
                for (int i = 0; i < 3; i++)
                    for (int k = 0; k < 2; k++) {
                        double s = 0;
                        for (int j = 0; j < 4; j++)
                            s += (double)a[(p * 3 + i) * 4 + j] * b[(q * 4 + j) * 2 + k];
                        ref[((p * 5 + q) * 3 + i) * 2 + k] = s;
                    }
        xs[0] = a;
        xs[1] = b;
        check_einsum("...ij,...jk->...ik", 2, ranks, dims, 4, (int64_t[]){2, 5, 3, 2}, ref, xs);
    }
    /* three inputs: ab,bc,cd->ad; and a dot product i,i */
    {
        int ranks[3] = {2, 2, 2};
        int64_t dims[3][6] = {{3, 4}, {4, 7}, {7, 8}};
        for (int i = 0; i < 3; i++)
            for (int l = 0; l < 8; l++) {
                double s = 0;
                for (int j = 0; j < 4; j++)
                    for (int k = 0; k < 7; k++)
                        s += (double)a[i * 4 + j] * b[j * 7 + k] * c[k * 8 + l];
                ref[i * 8 + l] = s;
            }
        xs[0] = a;
        xs[1] = b;
        xs[2] = c;
        check_einsum("ab,bc,cd->ad", 3, ranks, dims, 2, (int64_t[]){3, 8}, ref, xs);
    }
    {
        int ranks[2] = {1, 1};
        int64_t dims[2][6] = {{9}, {9}};
        ref[0] = 0;
        for (int i = 0; i < 9; i++)
            ref[0] += (double)a[i] * b[i];
        xs[0] = a;
        xs[1] = b;
        check_einsum("i,i", 2, ranks, dims, 0, NULL, ref, xs);
    }
    /* errors */
    {
        pl__tview in[2] = {fview(a, 2, (int64_t[]){3, 4}), fview(b, 2, (int64_t[]){5, 6})};
        pl_attr at[1] = {PL_ATTR_S("equation", "ij,jk->ik")};
        op_run r;
        PL_CHECK_FAILS(run_op("Einsum", at, 1, in, 2, 1, &r), PL_ERR_SHAPE, "label 'j'");
        op_run_free(&r);
        at[0] = PL_ATTR_S("equation", "ijk,jk->ik");
        PL_CHECK_FAILS(run_op("Einsum", at, 1, in, 2, 1, &r), PL_ERR_SHAPE, "rank");
        op_run_free(&r);
        at[0] = PL_ATTR_S("equation", "ij,kl->iz");
        PL_CHECK_FAILS(run_op("Einsum", at, 1, in, 2, 1, &r), PL_ERR_SHAPE, "'z'");
        op_run_free(&r);
    }
    free(a);
    free(b);
    free(c);
    free(ref);
}

/* ---- timing (printed, not asserted) ---- */

static void time_conv(const char *what, int64_t c, int64_t m, int64_t hw, int64_t k,
                      int64_t stride, int64_t group, int iters) {
    int64_t xd[4] = {1, c, hw, hw}, wd[4] = {m, c / group, k, k}, bd[1] = {m};
    int64_t p = k / 2, pads[4] = {p, p, p, p}, st[2] = {stride, stride};
    float *x = rnd(c * hw * hw, 170), *w = rnd(m * (c / group) * k * k, 171), *b = rnd(m, 172);
    pl_attr at[4] = {PL_ATTR_INTS("pads", pads, 4), PL_ATTR_INTS("strides", st, 2),
                     PL_ATTR_I("group", group), PL_ATTR_S("activation", "Relu")};
    pl__tview in[3] = {fview(x, 4, xd), fview(w, 4, wd), fview(b, 1, bd)};
    op_run r;
    pl_status s;
    g_time_iters = iters;
    s = run_op("Conv", at, 4, in, 3, 1, &r);
    g_time_iters = 0;
    if (s != PL_OK) {
        printf("timing %s: failed: %s\n", what, pl_errmsg());
    } else {
        double flops = 2.0 * (double)pl__tview_numel(&r.out[0]) * (double)(c / group) *
                       (double)(k * k);
        printf("timing %s: %.3f ms (best of %d), %.1f GFLOP/s\n", what, g_best_ms, iters,
               flops / g_best_ms * 1e-6);
    }
    op_run_free(&r);
    free(x);
    free(w);
    free(b);
}

static void test_timing(void) {
    time_conv("conv 3x3 64->64 56x56 b1", 64, 64, 56, 3, 1, 1, 10);
    time_conv("conv 1x1 256->64 56x56 b1", 256, 64, 56, 1, 1, 1, 10);
    time_conv("depthwise 3x3 96 56x56 b1", 96, 96, 56, 3, 1, 96, 10);
    time_conv("conv 3x3 256->256 14x14 b1", 256, 256, 14, 3, 1, 1, 10);
}

int main(int argc, char **argv) {
    if (pl__cpu_backend.create(&g_bctx) != PL_OK) {
        fprintf(stderr, "cpu backend: %s\n", pl_errmsg());
        return 1;
    }
    PL_RUN(test_conv_basic);
    PL_RUN(test_conv_groups_dilation_strides);
    PL_RUN(test_conv_depthwise);
    PL_RUN(test_conv_1x1_residual);
    PL_RUN(test_conv_auto_pad);
    PL_RUN(test_conv_1d_3d);
    PL_RUN(test_conv_tiling);
    PL_RUN(test_conv_errors);
    PL_RUN(test_conv_transpose);
    PL_RUN(test_matmul);
    PL_RUN(test_gemm);
    PL_RUN(test_gemm_threads);
    PL_RUN(test_batchnorm);
    PL_RUN(test_layernorm);
    PL_RUN(test_lpnorm);
    PL_RUN(test_pool);
    PL_RUN(test_global_pool);
    PL_RUN(test_einsum);
    /* timings are printed for the record with --speed; they assert nothing, so they are no test
     * case (measurements belong to bench/) */
    if (argc > 1 && strcmp(argv[1], "--speed") == 0)
        test_timing();
    pl__cpu_backend.destroy(g_bctx);
    printf("%d checks passed, %d failed\n", pl_test_checks_passed, pl_test_checks_failed);
    return pl_test_report();
}
