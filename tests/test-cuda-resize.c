/*
 * test-cuda-resize.c - GPU kernels that used to fall back to the CPU inside CUDA engines, against
 * the CPU backend: Pad with a constant_value input (graph input, constant initializer, empty,
 * absent), Resize in cubic mode (float32 and float16, every coordinate transformation mode,
 * exclude_outside, cubic_coeff_a), Resize linear with antialias on upsampling, Upsample (scales as
 * attribute or input, nearest and linear), and TopK over rows longer than the per-block kernel's
 * 4096 (the radix-sort path: one long row, few long rows, many strided rows; float32, float16,
 * int32, int64; ties, NaN, signed zeros and infinities).
 *
 * Each case is a one-layer network (float16 cases wrap the layer in Casts from and to float32, so
 * both backends see the same float16 values) built for both devices on the same fixed-seed
 * inputs; the GPU engine runs three times (the later runs replay a captured CUDA graph where the
 * runtime captures) and must agree bit for bit. Tolerances: Pad and TopK exact (values and
 * indices, NaN equal to NaN); Resize float32 relative L2 1e-5; float16 outputs 1e-3 (the CPU
 * accumulates in double, the GPU in float, each rounding once to float16). Every case also checks
 * that no layer fell back to the CPU. Without a GPU every case prints "skipped: no CUDA device".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test-cuda-util.h"

#define TOL32 1e-5
#define TOL16 1e-3

#define D(...) ((const int64_t[]){__VA_ARGS__})

#define NEED_GPU()                                                                                 \
    do {                                                                                           \
        if (!pl_test_have_cuda(__func__))                                                          \
            return;                                                                                \
    } while (0)

static uint64_t seed = 11;

/* xorshift: a fixed sequence whatever the platform's rand() */
static uint64_t rnd(void) {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static int64_t numel(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

/* A random permutation of 0..n-1 (Fisher-Yates). */
static int64_t *perm(int64_t n) {
    int64_t *p = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        p[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rnd() % (uint64_t)(i + 1)), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

/* The float a float16 bit pattern stands for (exact). */
static float half_bits(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24)
              : e == 31 ? (m ? NAN : INFINITY)
                        : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

/* ---- graph inputs ---- */

typedef struct spec {
    int nin;
    pl_tc_in in[4];
} spec;

static void *spec_add(spec *s, pl_dtype t, int rank, const int64_t *dims) {
    pl_tc_in *x = &s->in[s->nin];
    char *name = malloc(16);
    snprintf(name, 16, "in%d", s->nin);
    x->name = name;
    x->dtype = t;
    x->rank = rank;
    if (rank)
        memcpy(x->dims, dims, sizeof(int64_t) * (size_t)rank);
    x->data = malloc(pl_tc_bytes(rank, dims, t) + 8);
    s->nin++;
    return x->data;
}

static float *spec_uniform(spec *s, int rank, const int64_t *dims, float lo, float hi) {
    float *v = spec_add(s, PL_FLOAT32, rank, dims);
    pl_test_fill_uniform(v, numel(rank, dims), lo, hi, 100 + rnd() % 1000);
    return v;
}

static void spec_free(spec *s) {
    for (int i = 0; i < s->nin; i++) {
        free((void *)s->in[i].name);
        free(s->in[i].data);
    }
    s->nin = 0;
}

/* ---- the layer under test ---- */

enum { SLOT_NONE = 0, SLOT_INPUT, SLOT_CONST };

typedef struct slot {
    int kind;
    int g;     /* SLOT_INPUT: graph input index */
    bool half; /* SLOT_INPUT: cast to float16 before the layer */
    pl_dtype t;
    int rank;
    int64_t dims[4];
    const void *data;
} slot;

typedef struct lcase {
    const char *op;
    int nat;
    pl_attr at[8];
    int nslot;
    slot s[4];
    int nout;
    bool out_half[2]; /* output k is float16: cast back to float32 */
    double tol;       /* float32 outputs; 0: bit-exact (NaN equal to NaN) */
} lcase;

static slot in_slot(int g, bool half) { return (slot){.kind = SLOT_INPUT, .g = g, .half = half}; }

static slot cst_slot(pl_dtype t, int rank, const int64_t *dims, const void *data) {
    slot s = {.kind = SLOT_CONST, .t = t, .rank = rank, .data = data};
    if (rank)
        memcpy(s.dims, dims, sizeof(int64_t) * (size_t)rank);
    return s;
}

static int64_t exact_diff(const float *a, const float *b, int64_t n) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (!(isnan(a[i]) && isnan(b[i])) && memcmp(&a[i], &b[i], sizeof(float)) != 0)
            bad++;
    return bad;
}

static void check(const char *what, spec *s, const lcase *l) {
    pl_network *net = NULL;
    pl_tensor ids[4], lin[4], outs[2];
    pl_tc_out cpu, gpu;
    int host = 0;
    char host_ops[256];
    printf("  case %s\n", what);
    fflush(stdout);
    PL_CHECK_OK(pl_network_create(&net));
    if (!net)
        return;
    for (int i = 0; i < s->nin; i++)
        PL_CHECK_OK(pl_network_add_input(net, s->in[i].name, s->in[i].dtype, s->in[i].rank,
                                         s->in[i].dims, NULL, &ids[i]));
    for (int k = 0; k < l->nslot; k++) {
        const slot *sl = &l->s[k];
        lin[k] = PL_NO_TENSOR;
        if (sl->kind == SLOT_INPUT && !sl->half) {
            lin[k] = ids[sl->g];
        } else if (sl->kind == SLOT_INPUT) {
            pl_attr to = PL_ATTR_I("to", (int64_t)PL_FLOAT16);
            PL_CHECK_OK(pl_network_add_layer(net, "Cast", NULL, &ids[sl->g], 1, &to, 1, 1, NULL,
                                             &lin[k]));
        } else if (sl->kind == SLOT_CONST) {
            PL_CHECK_OK(pl_network_add_constant(net, NULL, sl->t, sl->rank, sl->dims, sl->data,
                                                &lin[k]));
        }
    }
    PL_CHECK_OK(pl_network_add_layer(net, l->op, NULL, lin, l->nslot, l->at, l->nat, l->nout,
                                     NULL, outs));
    for (int k = 0; k < l->nout; k++) {
        pl_tensor o = outs[k];
        if (l->out_half[k]) {
            pl_attr to = PL_ATTR_I("to", (int64_t)PL_FLOAT32);
            PL_CHECK_OK(pl_network_add_layer(net, "Cast", NULL, &outs[k], 1, &to, 1, 1, NULL, &o));
        }
        PL_CHECK_OK(pl_network_mark_output(net, o));
    }
    if (pl_tc_run(net, PL_DEVICE_CPU, false, s->nin, s->in, 1, &cpu, NULL, NULL, 0)) {
        if (pl_tc_run(net, PL_DEVICE_CUDA, false, s->nin, s->in, 3, &gpu, &host, host_ops,
                      sizeof(host_ops))) {
            PL_CHECK(gpu.n == cpu.n);
            for (int k = 0; k < gpu.n && k < cpu.n; k++) {
                PL_CHECK(gpu.count[k] == cpu.count[k]);
                if (gpu.count[k] != cpu.count[k])
                    continue;
                if (cpu.dtype[k] == PL_FLOAT32 && l->tol > 0) {
                    double tol = k < 2 && l->out_half[k] ? TOL16 : l->tol;
                    PL_CHECK(pl_tc_close(what, gpu.v[k], cpu.v[k], cpu.count[k], tol));
                } else {
                    int64_t bad = exact_diff(gpu.v[k], cpu.v[k], cpu.count[k]);
                    if (bad)
                        fprintf(stderr, "%s: output %d: %lld of %lld values differ\n", what, k,
                                (long long)bad, (long long)cpu.count[k]);
                    PL_CHECK(bad == 0);
                }
            }
            if (host)
                fprintf(stderr, "%s: %d layer(s) ran on the CPU: %s\n", what, host, host_ops);
            PL_CHECK(host == 0);
            pl_tc_out_free(&gpu);
        }
        pl_tc_out_free(&cpu);
    }
    pl_network_free(net);
}

/* ---- Pad with a constant_value input ---- */

static void test_pad_constant(void) {
    static const int64_t pads4[8] = {0, 1, 2, -1, 1, 0, 3, 2};
    static const int64_t pads2[4] = {2, 3, 1, 4};
    static const int64_t axes2[2] = {2, 3};
    float cval = 2.5f, cval2 = -7.25f;
    int64_t ival = -123456789012345LL;
    NEED_GPU();
    {
        /* constant_value computed at run time: a graph input, on the device */
        spec s = {0};
        lcase l = {.op = "Pad", .nslot = 3, .nout = 1};
        spec_uniform(&s, 4, D(2, 3, 5, 7), -2, 2);
        *(float *)spec_add(&s, PL_FLOAT32, 0, NULL) = cval2;
        l.s[0] = in_slot(0, false);
        l.s[1] = cst_slot(PL_INT64, 1, D(8), pads4);
        l.s[2] = in_slot(1, false);
        check("Pad constant_value graph input", &s, &l);
        spec_free(&s);
    }
    {
        spec s = {0};
        lcase l = {.op = "Pad", .nslot = 3, .nout = 1};
        spec_uniform(&s, 4, D(2, 3, 5, 7), -2, 2);
        l.s[0] = in_slot(0, false);
        l.s[1] = cst_slot(PL_INT64, 1, D(8), pads4);
        l.s[2] = cst_slot(PL_FLOAT32, 0, NULL, &cval);
        check("Pad constant_value initializer", &s, &l);
        spec_free(&s);
    }
    {
        /* empty constant_value: pads with 0; with axes (input 3) */
        spec s = {0};
        lcase l = {.op = "Pad", .nslot = 4, .nout = 1};
        spec_uniform(&s, 4, D(2, 3, 5, 7), -2, 2);
        l.s[0] = in_slot(0, false);
        l.s[1] = cst_slot(PL_INT64, 1, D(4), pads2);
        l.s[2] = cst_slot(PL_FLOAT32, 1, D(0), &cval);
        l.s[3] = cst_slot(PL_INT64, 1, D(2), axes2);
        check("Pad empty constant_value, axes", &s, &l);
        spec_free(&s);
    }
    {
        /* constant_value absent, axes given */
        spec s = {0};
        lcase l = {.op = "Pad", .nslot = 4, .nout = 1};
        spec_uniform(&s, 4, D(2, 3, 5, 7), -2, 2);
        l.s[0] = in_slot(0, false);
        l.s[1] = cst_slot(PL_INT64, 1, D(4), pads2);
        l.s[2] = (slot){.kind = SLOT_NONE};
        l.s[3] = cst_slot(PL_INT64, 1, D(2), axes2);
        check("Pad constant_value absent", &s, &l);
        spec_free(&s);
    }
    {
        /* int64 data: the constant's 8 bytes exactly (beyond double's 53 bits would differ on
         * the CPU, so a value it represents) */
        spec s = {0};
        lcase l = {.op = "Pad", .nslot = 3, .nout = 1};
        int64_t *x = spec_add(&s, PL_INT64, 2, D(9, 13));
        for (int64_t i = 0; i < 9 * 13; i++)
            x[i] = (int64_t)(rnd() % 2000000) - 1000000;
        *(int64_t *)spec_add(&s, PL_INT64, 0, NULL) = ival % 1000000;
        l.s[0] = in_slot(0, false);
        l.s[1] = cst_slot(PL_INT64, 1, D(4), pads2);
        l.s[2] = in_slot(1, false);
        check("Pad int64 constant_value graph input", &s, &l);
        spec_free(&s);
    }
    {
        spec s = {0};
        lcase l = {.op = "Pad", .nslot = 3, .nout = 1, .out_half = {true}};
        spec_uniform(&s, 4, D(2, 3, 5, 7), -2, 2);
        *(float *)spec_add(&s, PL_FLOAT32, 0, NULL) = cval2;
        l.s[0] = in_slot(0, true);
        l.s[1] = cst_slot(PL_INT64, 1, D(8), pads4);
        l.s[2] = in_slot(1, true);
        check("Pad float16 constant_value graph input", &s, &l);
        spec_free(&s);
    }
}

/* ---- Resize: cubic, antialias; Upsample ---- */

typedef struct rs_case {
    const char *coord;
    double a;       /* cubic_coeff_a; 0: default */
    int excl;       /* exclude_outside */
    bool sizes;     /* sizes instead of scales */
    float sc_h, sc_w;
    bool half;
} rs_case;

static void test_resize_cubic(void) {
    static const rs_case cs[] = {
        {"half_pixel", 0, 0, false, 2.0f, 1.5f, false},
        {"half_pixel", -0.5, 1, false, 0.6f, 0.75f, false},
        {"pytorch_half_pixel", -0.5, 0, false, 1.7f, 2.0f, false},
        {"align_corners", 0, 0, true, 0, 0, false},
        {"asymmetric", 0, 1, false, 2.5f, 0.5f, false},
        {"half_pixel_symmetric", 0, 0, false, 1.3f, 2.2f, false},
        {"tf_half_pixel_for_nn", 0, 0, false, 2.0f, 3.0f, false},
        {"tf_crop_and_resize", 0, 0, true, 0, 0, false},
        {"half_pixel", 0, 0, false, 2.0f, 1.5f, true},
        {"align_corners", -0.5, 1, true, 0, 0, true},
        {"tf_crop_and_resize", 0, 1, true, 0, 0, true},
    };
    static const float roi[8] = {0, 0, 0.1f, -0.2f, 1, 1, 0.85f, 1.3f};
    NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        const rs_case *r = &cs[c];
        spec s = {0};
        lcase l = {.op = "Resize", .nslot = 4, .nout = 1, .tol = TOL32, .out_half = {r->half}};
        float scales[4] = {1, 1, r->sc_h, r->sc_w};
        int64_t sizes[4] = {2, 3, 17, 9};
        char what[128];
        spec_uniform(&s, 4, D(2, 3, 9, 11), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "cubic");
        l.at[l.nat++] = PL_ATTR_S("coordinate_transformation_mode", r->coord);
        if (r->a != 0)
            l.at[l.nat++] = PL_ATTR_F("cubic_coeff_a", (float)r->a);
        l.at[l.nat++] = PL_ATTR_I("exclude_outside", r->excl);
        if (strcmp(r->coord, "tf_crop_and_resize") == 0)
            l.at[l.nat++] = PL_ATTR_F("extrapolation_value", -3.0f);
        l.s[0] = in_slot(0, r->half);
        l.s[1] = strcmp(r->coord, "tf_crop_and_resize") == 0
                     ? cst_slot(PL_FLOAT32, 1, D(8), roi)
                     : (slot){.kind = SLOT_NONE};
        if (r->sizes) {
            l.s[2] = (slot){.kind = SLOT_NONE};
            l.s[3] = cst_slot(PL_INT64, 1, D(4), sizes);
        } else {
            l.s[2] = cst_slot(PL_FLOAT32, 1, D(4), scales);
            l.s[3] = (slot){.kind = SLOT_NONE};
        }
        snprintf(what, sizeof(what), "Resize cubic %s a %g exclude %d %s %s", r->coord,
                 r->a != 0 ? r->a : -0.75, r->excl, r->sizes ? "sizes" : "scales",
                 r->half ? "float16" : "float32");
        check(what, &s, &l);
        spec_free(&s);
    }
}

static void test_resize_more(void) {
    NEED_GPU();
    {
        /* 3-D, two interpolated axes, the first left alone */
        static const float sc[3] = {1.0f, 1.8f, 0.7f};
        spec s = {0};
        lcase l = {.op = "Resize", .nslot = 3, .nout = 1, .tol = TOL32};
        spec_uniform(&s, 3, D(4, 10, 6), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "cubic");
        l.s[0] = in_slot(0, false);
        l.s[1] = (slot){.kind = SLOT_NONE};
        l.s[2] = cst_slot(PL_FLOAT32, 1, D(3), sc);
        check("Resize cubic 3-D", &s, &l);
        spec_free(&s);
    }
    {
        /* opset-18 axes with keep_aspect_ratio_policy */
        static const int64_t sizes[2] = {20, 30};
        static const int64_t axes[2] = {2, 3};
        spec s = {0};
        lcase l = {.op = "Resize", .nslot = 4, .nout = 1, .tol = TOL32};
        spec_uniform(&s, 4, D(1, 2, 8, 7), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "cubic");
        l.at[l.nat++] = PL_ATTR_INTS("axes", axes, 2);
        l.at[l.nat++] = PL_ATTR_S("keep_aspect_ratio_policy", "not_larger");
        l.s[0] = in_slot(0, false);
        l.s[1] = (slot){.kind = SLOT_NONE};
        l.s[2] = (slot){.kind = SLOT_NONE};
        l.s[3] = cst_slot(PL_INT64, 1, D(2), sizes);
        check("Resize cubic axes not_larger", &s, &l);
        spec_free(&s);
    }
    {
        /* antialias on upsampling is plain linear: no longer declined */
        static const float scales[4] = {1, 1, 2.0f, 1.25f};
        spec s = {0};
        lcase l = {.op = "Resize", .nslot = 3, .nout = 1, .tol = TOL32};
        spec_uniform(&s, 4, D(2, 3, 9, 11), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "linear");
        l.at[l.nat++] = PL_ATTR_I("antialias", 1);
        l.s[0] = in_slot(0, false);
        l.s[1] = (slot){.kind = SLOT_NONE};
        l.s[2] = cst_slot(PL_FLOAT32, 1, D(4), scales);
        check("Resize linear antialias upsampling", &s, &l);
        spec_free(&s);
    }
}

static void test_upsample(void) {
    static const float sc[4] = {1, 1, 2.0f, 3.0f};
    static const float sc3[3] = {1, 2.5f, 1.5f};
    NEED_GPU();
    {
        /* opset 7: scales attribute */
        spec s = {0};
        lcase l = {.op = "Upsample", .nslot = 1, .nout = 1, .tol = TOL32};
        spec_uniform(&s, 4, D(2, 3, 5, 7), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "nearest");
        l.at[l.nat++] = PL_ATTR_FLOATS("scales", sc, 4);
        l.s[0] = in_slot(0, false);
        check("Upsample-7 nearest scales attribute", &s, &l);
        spec_free(&s);
    }
    {
        spec s = {0};
        lcase l = {.op = "Upsample", .nslot = 1, .nout = 1, .tol = TOL32};
        spec_uniform(&s, 3, D(2, 6, 5), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "linear");
        l.at[l.nat++] = PL_ATTR_FLOATS("scales", sc3, 3);
        l.s[0] = in_slot(0, false);
        check("Upsample-7 linear scales attribute", &s, &l);
        spec_free(&s);
    }
    for (int half = 0; half < 2; half++) {
        /* opset 9: scales input */
        spec s = {0};
        lcase l = {.op = "Upsample", .nslot = 2, .nout = 1, .tol = TOL32, .out_half = {half}};
        spec_uniform(&s, 4, D(2, 3, 5, 7), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", half ? "nearest" : "linear");
        l.s[0] = in_slot(0, half);
        l.s[1] = cst_slot(PL_FLOAT32, 1, D(4), sc);
        check(half ? "Upsample-9 nearest scales input float16"
                   : "Upsample-9 linear scales input float32", &s, &l);
        spec_free(&s);
    }
}

/* ---- TopK over long rows ---- */

enum { V_DISTINCT = 0, V_TIES, V_SPECIAL };

typedef struct tk_case {
    int rank;
    int64_t dims[3];
    int64_t axis, k, largest;
    pl_dtype t;
    int values;
} tk_case;

static void tk_fill(spec *s, const tk_case *c) {
    int64_t n = numel(c->rank, c->dims), *p = perm(n);
    if (c->t == PL_FLOAT32 || c->t == PL_FLOAT16) {
        float *v = spec_add(s, PL_FLOAT32, c->rank, c->dims);
        int64_t *hp = c->t == PL_FLOAT16 ? perm(0x7BFF) : NULL;
        for (int64_t i = 0; i < n; i++) {
            if (c->values == V_TIES) /* 33 levels: heavy ties, resolved by index */
                v[i] = (float)((int64_t)(rnd() % 33) - 16) / 8.0f;
            else if (c->t == PL_FLOAT16) /* distinct magnitudes (n < 0x7BFF): no ties */
                v[i] = half_bits((uint16_t)((1 + hp[i % 0x7BFE]) | (rnd() & 1 ? 0x8000 : 0)));
            else /* distinct multiples of 2^-10 */
                v[i] = (float)(p[i] - n / 2) / 1024.0f;
        }
        if (c->values == V_SPECIAL) {
            /* NaNs (both signs), signed zeros and infinities among distinct values; the zeros
             * compare equal, so their order is by index as on the CPU */
            for (int64_t i = 0; i < n; i += 97)
                v[i] = (i / 97) % 2 ? NAN : -NAN;
            for (int64_t i = 13; i < n; i += 211)
                v[i] = (i / 211) % 2 ? 0.0f : -0.0f;
            v[5] = INFINITY;
            v[n - 3] = -INFINITY;
        }
        free(hp);
    } else if (c->t == PL_INT64) {
        int64_t *v = spec_add(s, PL_INT64, c->rank, c->dims);
        /* within float's exact integers: the outputs are compared as floats */
        for (int64_t i = 0; i < n; i++)
            v[i] = c->values == V_TIES ? (int64_t)(rnd() % 50) - 25 : (p[i] - n / 2) * 3;
    } else {
        int32_t *v = spec_add(s, PL_INT32, c->rank, c->dims);
        for (int64_t i = 0; i < n; i++)
            v[i] = c->values == V_TIES ? (int32_t)(rnd() % 50) - 25 : (int32_t)(p[i] - n / 2);
    }
    free(p);
}

static void test_topk_long(void) {
    static const tk_case cs[] = {
        /* one long row: a device-wide sort */
        {2, {1, 100000}, -1, 1000, 1, PL_FLOAT32, V_DISTINCT},
        {2, {1, 100000}, -1, 1000, 0, PL_FLOAT32, V_DISTINCT},
        {2, {1, 100000}, 1, 1000, 1, PL_FLOAT32, V_TIES},
        {2, {1, 100000}, 1, 777, 0, PL_FLOAT32, V_TIES},
        /* a few long rows: one sort per row */
        {2, {3, 70000}, -1, 300, 1, PL_FLOAT32, V_DISTINCT},
        /* many strided rows (inner 4): a segmented sort */
        {3, {3, 5000, 4}, 1, 50, 1, PL_FLOAT32, V_DISTINCT},
        {3, {3, 5000, 4}, 1, 5000, 0, PL_FLOAT32, V_TIES},
        {3, {2, 4097, 3}, -2, 4097, 1, PL_FLOAT32, V_SPECIAL},
        {2, {1, 9000}, 1, 9000, 0, PL_FLOAT32, V_SPECIAL},
        {2, {5, 4500}, 1, 4500, 1, PL_FLOAT32, V_SPECIAL},
        /* storage types */
        {2, {2, 6000}, -1, 100, 1, PL_FLOAT16, V_DISTINCT},
        {3, {2, 6000, 3}, 1, 2000, 0, PL_FLOAT16, V_TIES},
        {2, {1, 8000}, -1, 8000, 0, PL_FLOAT16, V_SPECIAL},
        {3, {2, 5000, 3}, 1, 100, 1, PL_INT64, V_DISTINCT},
        {3, {2, 5000, 3}, 1, 1000, 0, PL_INT64, V_TIES},
        {2, {4, 8000}, 1, 10, 0, PL_INT32, V_DISTINCT},
        {2, {1, 70000}, 1, 500, 1, PL_INT32, V_TIES},
    };
    NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        const tk_case *t = &cs[c];
        spec s = {0};
        bool half = t->t == PL_FLOAT16;
        lcase l = {.op = "TopK", .nslot = 2, .nout = 2, .out_half = {half, false}};
        int64_t k = t->k;
        char what[160];
        tk_fill(&s, t);
        l.at[l.nat++] = PL_ATTR_I("axis", t->axis);
        l.at[l.nat++] = PL_ATTR_I("largest", t->largest);
        l.at[l.nat++] = PL_ATTR_I("sorted", 1);
        l.s[0] = in_slot(0, half);
        l.s[1] = cst_slot(PL_INT64, 1, D(1), &k);
        snprintf(what, sizeof(what), "TopK %s dims [%lld,%lld%s%.0lld] axis %lld k %lld largest "
                 "%lld %s", pl_dtype_name(t->t), (long long)t->dims[0], (long long)t->dims[1],
                 t->rank > 2 ? "," : "", t->rank > 2 ? (long long)t->dims[2] : 0LL,
                 (long long)t->axis, (long long)k, (long long)t->largest,
                 t->values == V_TIES ? "ties" : t->values == V_SPECIAL ? "NaN/zeros/inf"
                                                                      : "distinct");
        check(what, &s, &l);
        spec_free(&s);
    }
}

int main(void) {
    pl_tc_catch_crashes();
    PL_RUN(test_pad_constant);
    PL_RUN(test_resize_cubic);
    PL_RUN(test_resize_more);
    PL_RUN(test_upsample);
    PL_RUN(test_topk_long);
    return pl_test_report();
}
