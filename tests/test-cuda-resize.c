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

/* A random permutation of 0..n-1 (Fisher-Yates). */
static int64_t *perm(int64_t n) {
    int64_t *p = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    for (int64_t i = 0; i < n; i++)
        p[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(pl_tc_rnd() % (uint64_t)(i + 1)), t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
    return p;
}

/* A float32 graph input, uniform in [lo, hi) (the harness's filler, seeded from the sequence). */
static pl_tc_slot *input_f32(pl_tc_case *l, int rank, const int64_t *dims, float lo, float hi) {
    return pl_tc_f32(l, PL_TC_INPUT, rank, dims, lo, hi, 100 + pl_tc_rnd() % 1000);
}

/* ---- the comparison ---- */

static int64_t exact_diff(const float *a, const float *b, int64_t n) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (!(isnan(a[i]) && isnan(b[i])) && memcmp(&a[i], &b[i], sizeof(float)) != 0)
            bad++;
    return bad;
}

typedef struct judge {
    const pl_tc_case *l;
    double tol; /* float32 outputs; 0: bit-exact (NaN equal to NaN) */
} judge;

static int same_output(const char *what, const pl_tc_out *gpu, const pl_tc_out *cpu, int k,
                       const void *arg) {
    const judge *j = arg;
    int64_t bad;
    if (cpu->dtype[k] == PL_FLOAT32 && j->tol > 0) {
        double tol = k < 2 && j->l->out_half[k] ? TOL16 : j->tol;
        return pl_tc_close(what, gpu->v[k], cpu->v[k], cpu->count[k], tol);
    }
    bad = exact_diff(gpu->v[k], cpu->v[k], cpu->count[k]);
    if (bad)
        fprintf(stderr, "%s: output %d: %lld of %lld values differ\n", what, k, (long long)bad,
                (long long)cpu->count[k]);
    return bad == 0;
}

/* The GPU against the CPU on l (tol as in judge). Frees l's data. */
static void check(const char *what, pl_tc_case *l, double tol) {
    judge j = {l, tol};
    pl_tc_check(what, l, false, same_output, &j);
    pl_tc_case_free(l);
}

/* ---- Pad with a constant_value input ---- */

static void test_pad_constant(void) {
    static const int64_t pads4[8] = {0, 1, 2, -1, 1, 0, 3, 2};
    static const int64_t pads2[4] = {2, 3, 1, 4};
    static const int64_t axes2[2] = {2, 3};
    float cval = 2.5f, cval2 = -7.25f;
    int64_t ival = -123456789012345LL;
    PL_TC_NEED_GPU();
    {
        /* constant_value computed at run time: a graph input, on the device */
        pl_tc_case l = {.op = "Pad"};
        input_f32(&l, 4, D(2, 3, 5, 7), -2, 2);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(8), pads4);
        pl_tc_add(&l, PL_TC_INPUT, PL_FLOAT32, 0, NULL, &cval2);
        check("Pad constant_value graph input", &l, 0);
    }
    {
        pl_tc_case l = {.op = "Pad"};
        input_f32(&l, 4, D(2, 3, 5, 7), -2, 2);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(8), pads4);
        pl_tc_add(&l, PL_TC_CONST, PL_FLOAT32, 0, NULL, &cval);
        check("Pad constant_value initializer", &l, 0);
    }
    {
        /* empty constant_value: pads with 0; with axes (input 3) */
        pl_tc_case l = {.op = "Pad"};
        input_f32(&l, 4, D(2, 3, 5, 7), -2, 2);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(4), pads2);
        pl_tc_add(&l, PL_TC_CONST, PL_FLOAT32, 1, D(0), &cval);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(2), axes2);
        check("Pad empty constant_value, axes", &l, 0);
    }
    {
        /* constant_value absent, axes given */
        pl_tc_case l = {.op = "Pad"};
        input_f32(&l, 4, D(2, 3, 5, 7), -2, 2);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(4), pads2);
        pl_tc_add(&l, PL_TC_NONE, PL_FLOAT32, 0, NULL, NULL);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(2), axes2);
        check("Pad constant_value absent", &l, 0);
    }
    {
        /* int64 data: the constant's 8 bytes exactly (beyond double's 53 bits would differ on
         * the CPU, so a value it represents) */
        pl_tc_case l = {.op = "Pad"};
        int64_t *x = pl_tc_add(&l, PL_TC_INPUT, PL_INT64, 2, D(9, 13), NULL)->data;
        int64_t v = ival % 1000000;
        for (int64_t i = 0; i < 9 * 13; i++)
            x[i] = (int64_t)(pl_tc_rnd() % 2000000) - 1000000;
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(4), pads2);
        pl_tc_add(&l, PL_TC_INPUT, PL_INT64, 0, NULL, &v);
        check("Pad int64 constant_value graph input", &l, 0);
    }
    {
        pl_tc_case l = {.op = "Pad", .out_half = {true}};
        input_f32(&l, 4, D(2, 3, 5, 7), -2, 2)->half = true;
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(8), pads4);
        pl_tc_add(&l, PL_TC_INPUT, PL_FLOAT32, 0, NULL, &cval2)->half = true;
        check("Pad float16 constant_value graph input", &l, 0);
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
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        const rs_case *r = &cs[c];
        pl_tc_case l = {.op = "Resize", .out_half = {r->half}};
        float scales[4] = {1, 1, r->sc_h, r->sc_w};
        int64_t sizes[4] = {2, 3, 17, 9};
        bool crop = strcmp(r->coord, "tf_crop_and_resize") == 0;
        char what[128];
        input_f32(&l, 4, D(2, 3, 9, 11), -2, 2)->half = r->half;
        l.at[l.nat++] = PL_ATTR_S("mode", "cubic");
        l.at[l.nat++] = PL_ATTR_S("coordinate_transformation_mode", r->coord);
        if (r->a != 0)
            l.at[l.nat++] = PL_ATTR_F("cubic_coeff_a", (float)r->a);
        l.at[l.nat++] = PL_ATTR_I("exclude_outside", r->excl);
        if (crop)
            l.at[l.nat++] = PL_ATTR_F("extrapolation_value", -3.0f);
        pl_tc_add(&l, crop ? PL_TC_CONST : PL_TC_NONE, PL_FLOAT32, 1, D(8), roi);
        pl_tc_add(&l, r->sizes ? PL_TC_NONE : PL_TC_CONST, PL_FLOAT32, 1, D(4), scales);
        pl_tc_add(&l, r->sizes ? PL_TC_CONST : PL_TC_NONE, PL_INT64, 1, D(4), sizes);
        snprintf(what, sizeof(what), "Resize cubic %s a %g exclude %d %s %s", r->coord,
                 r->a != 0 ? r->a : -0.75, r->excl, r->sizes ? "sizes" : "scales",
                 r->half ? "float16" : "float32");
        check(what, &l, TOL32);
    }
}

static void test_resize_more(void) {
    PL_TC_NEED_GPU();
    {
        /* 3-D, two interpolated axes, the first left alone */
        static const float sc[3] = {1.0f, 1.8f, 0.7f};
        pl_tc_case l = {.op = "Resize"};
        input_f32(&l, 3, D(4, 10, 6), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "cubic");
        pl_tc_add(&l, PL_TC_NONE, PL_FLOAT32, 0, NULL, NULL);
        pl_tc_add(&l, PL_TC_CONST, PL_FLOAT32, 1, D(3), sc);
        check("Resize cubic 3-D", &l, TOL32);
    }
    {
        /* opset-18 axes with keep_aspect_ratio_policy */
        static const int64_t sizes[2] = {20, 30};
        static const int64_t axes[2] = {2, 3};
        pl_tc_case l = {.op = "Resize"};
        input_f32(&l, 4, D(1, 2, 8, 7), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "cubic");
        l.at[l.nat++] = PL_ATTR_INTS("axes", axes, 2);
        l.at[l.nat++] = PL_ATTR_S("keep_aspect_ratio_policy", "not_larger");
        pl_tc_add(&l, PL_TC_NONE, PL_FLOAT32, 0, NULL, NULL);
        pl_tc_add(&l, PL_TC_NONE, PL_FLOAT32, 0, NULL, NULL);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(2), sizes);
        check("Resize cubic axes not_larger", &l, TOL32);
    }
    {
        /* antialias on upsampling is plain linear: no longer declined */
        static const float scales[4] = {1, 1, 2.0f, 1.25f};
        pl_tc_case l = {.op = "Resize"};
        input_f32(&l, 4, D(2, 3, 9, 11), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "linear");
        l.at[l.nat++] = PL_ATTR_I("antialias", 1);
        pl_tc_add(&l, PL_TC_NONE, PL_FLOAT32, 0, NULL, NULL);
        pl_tc_add(&l, PL_TC_CONST, PL_FLOAT32, 1, D(4), scales);
        check("Resize linear antialias upsampling", &l, TOL32);
    }
}

static void test_upsample(void) {
    static const float sc[4] = {1, 1, 2.0f, 3.0f};
    static const float sc3[3] = {1, 2.5f, 1.5f};
    PL_TC_NEED_GPU();
    {
        /* opset 7: scales attribute */
        pl_tc_case l = {.op = "Upsample"};
        input_f32(&l, 4, D(2, 3, 5, 7), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "nearest");
        l.at[l.nat++] = PL_ATTR_FLOATS("scales", sc, 4);
        check("Upsample-7 nearest scales attribute", &l, TOL32);
    }
    {
        pl_tc_case l = {.op = "Upsample"};
        input_f32(&l, 3, D(2, 6, 5), -2, 2);
        l.at[l.nat++] = PL_ATTR_S("mode", "linear");
        l.at[l.nat++] = PL_ATTR_FLOATS("scales", sc3, 3);
        check("Upsample-7 linear scales attribute", &l, TOL32);
    }
    for (int half = 0; half < 2; half++) {
        /* opset 9: scales input */
        pl_tc_case l = {.op = "Upsample", .out_half = {half}};
        input_f32(&l, 4, D(2, 3, 5, 7), -2, 2)->half = half;
        l.at[l.nat++] = PL_ATTR_S("mode", half ? "nearest" : "linear");
        pl_tc_add(&l, PL_TC_CONST, PL_FLOAT32, 1, D(4), sc);
        check(half ? "Upsample-9 nearest scales input float16"
                   : "Upsample-9 linear scales input float32", &l, TOL32);
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

/* The data input of c (float16 data as float32, cast on the way in). */
static void tk_fill(pl_tc_case *l, const tk_case *c) {
    int64_t n = pl_tc_numel(c->rank, c->dims), *p = perm(n);
    if (c->t == PL_FLOAT32 || c->t == PL_FLOAT16) {
        pl_tc_slot *x = pl_tc_add(l, PL_TC_INPUT, PL_FLOAT32, c->rank, c->dims, NULL);
        float *v = x->data;
        int64_t *hp = c->t == PL_FLOAT16 ? perm(0x7BFF) : NULL;
        x->half = c->t == PL_FLOAT16;
        for (int64_t i = 0; i < n; i++) {
            if (c->values == V_TIES) /* 33 levels: heavy ties, resolved by index */
                v[i] = (float)((int64_t)(pl_tc_rnd() % 33) - 16) / 8.0f;
            else if (c->t == PL_FLOAT16) /* distinct magnitudes (n < 0x7BFF): no ties */
                v[i] = pl__half_to_float(
                    (uint16_t)((1 + hp[i % 0x7BFE]) | (pl_tc_rnd() & 1 ? 0x8000 : 0)));
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
        int64_t *v = pl_tc_add(l, PL_TC_INPUT, PL_INT64, c->rank, c->dims, NULL)->data;
        /* within float's exact integers: the outputs are compared as floats */
        for (int64_t i = 0; i < n; i++)
            v[i] = c->values == V_TIES ? (int64_t)(pl_tc_rnd() % 50) - 25 : (p[i] - n / 2) * 3;
    } else {
        int32_t *v = pl_tc_add(l, PL_TC_INPUT, PL_INT32, c->rank, c->dims, NULL)->data;
        for (int64_t i = 0; i < n; i++)
            v[i] = c->values == V_TIES ? (int32_t)(pl_tc_rnd() % 50) - 25
                                       : (int32_t)(p[i] - n / 2);
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
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        const tk_case *t = &cs[c];
        pl_tc_case l = {.op = "TopK", .nout = 2, .out_half = {t->t == PL_FLOAT16, false}};
        int64_t k = t->k;
        char what[160];
        tk_fill(&l, t);
        l.at[l.nat++] = PL_ATTR_I("axis", t->axis);
        l.at[l.nat++] = PL_ATTR_I("largest", t->largest);
        l.at[l.nat++] = PL_ATTR_I("sorted", 1);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(1), &k);
        snprintf(what, sizeof(what), "TopK %s dims [%lld,%lld%s%.0lld] axis %lld k %lld largest "
                 "%lld %s", pl_dtype_name(t->t), (long long)t->dims[0], (long long)t->dims[1],
                 t->rank > 2 ? "," : "", t->rank > 2 ? (long long)t->dims[2] : 0LL,
                 (long long)t->axis, (long long)k, (long long)t->largest,
                 t->values == V_TIES ? "ties" : t->values == V_SPECIAL ? "NaN/zeros/inf"
                                                                      : "distinct");
        check(what, &l, 0);
    }
}

int main(void) {
    pl_tc_catch_crashes();
    pl_tc_srand(11);
    PL_RUN(test_pad_constant);
    PL_RUN(test_resize_cubic);
    PL_RUN(test_resize_more);
    PL_RUN(test_upsample);
    PL_RUN(test_topk_long);
    return pl_test_report();
}
