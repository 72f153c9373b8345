/*
 * test-cuda-misc.c - the GPU kernels of backends/cuda/cuda-misc.c (IsNaN, IsInf, Not, Mod,
 * ConstantOfShape, Range, Trilu, LpNormalization). Each case is a one-layer network on fixed-seed
 * random inputs, run on the CPU backend and three times on the GPU (later runs replay the captured
 * CUDA graph where the engine is capturable and must agree bit for bit), and compared with the CPU
 * and with a naive reference written here. Tolerances: integer and bool outputs, and the pure data
 * movers (Trilu, ConstantOfShape), exactly; float32 within relative L2 1e-5 (Mod and Range follow
 * the CPU's arithmetic and are expected to be exact); float16 outputs within relative L2 2e-3
 * (one float16 rounding is 4.9e-4 relative). Every case also checks that the layer did not fall
 * back to the CPU. Range and ConstantOfShape take their inputs as shape-value graph inputs, since
 * constant ones are folded at build. Without a GPU every case prints "skipped: no CUDA device"
 * and passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test-cuda-util.h"

#define TOL 1e-5
#define TOL16 2e-3

#define D(...) ((const int64_t[]){__VA_ARGS__})

/* Naive reference: the layer's inputs (l->s[k]) in, n doubles out. */
typedef void (*ref_fn)(const pl_tc_case *l, double *y, int64_t n);

/* Exact (NaN equal to NaN) when tol is 0, else pl_tc_close. */
static int same(const char *what, const float *got, const float *ref, int64_t n, double tol) {
    int64_t bad = 0, first = -1;
    if (tol > 0)
        return pl_tc_close(what, got, ref, n, tol);
    for (int64_t i = 0; i < n; i++)
        if (!(got[i] == ref[i] || (got[i] != got[i] && ref[i] != ref[i]))) {
            if (first < 0)
                first = i;
            bad++;
        }
    if (bad)
        fprintf(stderr, "%s: %lld of %lld values differ (first at %lld: %g vs %g)\n", what,
                (long long)bad, (long long)n, (long long)first, (double)got[first],
                (double)ref[first]);
    return bad == 0;
}

static bool exact_type(pl_dtype t) { return t != PL_FLOAT32 && t != PL_FLOAT16 && t != PL_FLOAT64; }

/* The outputs as float32: integer and bool ones exactly, float ones within *arg. */
static int same_output(const char *what, const pl_tc_out *got, const pl_tc_out *ref, int k,
                       const void *arg) {
    double tol = exact_type(got->dtype[k]) ? 0 : *(const double *)arg;
    return same(what, got->v[k], ref->v[k], ref->count[k], tol);
}

/* l with float32 copies (the same values) of its float16 inputs. */
static void f32_copy(pl_tc_case *dst, const pl_tc_case *l) {
    memset(dst, 0, sizeof(*dst));
    dst->op = l->op;
    dst->nat = l->nat;
    memcpy(dst->at, l->at, sizeof(l->at));
    for (int k = 0; k < l->nslot; k++) {
        const pl_tc_slot *x = &l->s[k];
        pl_dtype t = x->kind == PL_TC_INPUT && x->dtype == PL_FLOAT16 ? PL_FLOAT32 : x->dtype;
        pl_tc_slot *y =
            pl_tc_add(dst, x->kind, t, x->rank, x->dims, t == x->dtype ? x->data : NULL);
        for (int64_t i = 0; t != x->dtype && i < pl_tc_numel(x->rank, x->dims); i++)
            pl_tc_set(y, i, pl_tc_get(x->data, x->dtype, i));
        if (x->kind == PL_TC_INPUT)
            dst->in[y->g].values = l->in[x->g].values;
    }
}

/* GPU vs CPU (within tol; exactly for integer and bool outputs) and vs ref; with ref_f32 the CPU
 * runs float32 copies of float16 inputs (it has no float16 kernel for the op). */
static void check(const char *what, const pl_tc_case *l, double tol, bool ref_f32, ref_fn ref) {
    pl_tc_case l32;
    pl_tc_out cpu, gpu;
    printf("  case %s\n", what);
    fflush(stdout);
    if (ref_f32)
        f32_copy(&l32, l);
    if (pl_tc_run_case(l, PL_DEVICE_CUDA, false, 3, &gpu)) {
        double t = exact_type(gpu.dtype[0]) ? 0 : tol;
        char w[160];
        if (pl_tc_run_case(ref_f32 ? &l32 : l, PL_DEVICE_CPU, false, 1, &cpu)) {
            snprintf(w, sizeof(w), "%s (vs CPU)", what);
            pl_tc_compare(w, &gpu, &cpu, same_output, &tol);
            pl_tc_out_free(&cpu);
        }
        if (ref) {
            int64_t n = gpu.count[0];
            double *yd = malloc(sizeof(double) * (size_t)(n + 1));
            float *yf = malloc(sizeof(float) * (size_t)(n + 1));
            ref(l, yd, n);
            for (int64_t i = 0; i < n; i++)
                yf[i] = (float)yd[i];
            snprintf(w, sizeof(w), "%s (vs naive)", what);
            PL_CHECK(same(w, gpu.v[0], yf, n, t));
            free(yd);
            free(yf);
        }
        pl_tc_out_free(&gpu);
    }
    if (ref_f32)
        pl_tc_case_free(&l32);
}

/* ---- naive references ---- */

static double xget(const pl_tc_slot *x, int64_t i) { return pl_tc_get(x->data, x->dtype, i); }

static void ref_isx(const pl_tc_case *l, double *y, int64_t n) {
    const pl_tc_slot *x = l->s;
    bool inf = strcmp(l->op, "IsInf") == 0;
    bool pos = pl_tc_attr_i(l, "detect_positive", 1) != 0;
    bool neg = pl_tc_attr_i(l, "detect_negative", 1) != 0;
    for (int64_t i = 0; i < n; i++) {
        double v = xget(&x[0], i);
        y[i] = inf ? (isinf(v) && ((v > 0 && pos) || (v < 0 && neg))) : isnan(v);
    }
}

static void ref_not(const pl_tc_case *l, double *y, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        y[i] = ((const uint8_t *)l->s[0].data)[i] == 0;
}

/* numpy broadcasting of two inputs: offsets of output element i */
static void bcast_off(const pl_tc_slot *a, const pl_tc_slot *b, int64_t i, int64_t *oa,
                      int64_t *ob) {
    int r = a->rank > b->rank ? a->rank : b->rank;
    int64_t sa = 1, sb = 1;
    *oa = *ob = 0;
    for (int d = r - 1; d >= 0; d--) {
        int da = d - (r - a->rank), db = d - (r - b->rank);
        int64_t na = da >= 0 ? a->dims[da] : 1, nb = db >= 0 ? b->dims[db] : 1;
        int64_t ny = na > nb ? na : nb, c = i % ny;
        i /= ny;
        *oa += (na == 1 ? 0 : c) * sa;
        *ob += (nb == 1 ? 0 : c) * sb;
        sa *= na;
        sb *= nb;
    }
}

static void ref_mod(const pl_tc_case *l, double *y, int64_t n) {
    const pl_tc_slot *x = l->s;
    bool c_fmod = pl_tc_attr_i(l, "fmod", 0) != 0;
    bool flt = !exact_type(x[0].dtype);
    for (int64_t i = 0; i < n; i++) {
        int64_t oa, ob;
        bcast_off(&x[0], &x[1], i, &oa, &ob);
        if (flt) {
            double a = xget(&x[0], oa), b = xget(&x[1], ob), r = fmod(a, b);
            /* Python: the remainder takes the divisor's sign */
            if (!c_fmod && r != 0 && (r < 0) != (b < 0))
                r += b;
            y[i] = r;
        } else {
            int64_t a = pl__get_i64(x[0].data, x[0].dtype, oa);
            int64_t b = pl__get_i64(x[1].data, x[1].dtype, ob), r = 0;
            if (b != 0 && b != -1) { /* plinth's rule for a zero divisor; -1 always divides */
                r = a % b;
                if (!c_fmod && r != 0 && (r < 0) != (b < 0))
                    r += b;
            }
            y[i] = (double)r;
        }
    }
}

static void ref_cos(const pl_tc_case *l, double *y, int64_t n) {
    const pl_attr *v = pl_tc_attr(l, "value");
    pl_dtype t = (pl_dtype)pl_tc_attr_i(l, "value_dtype", PL_FLOAT32);
    double val = v ? pl_tc_get(v->bytes, t, 0) : 0;
    for (int64_t i = 0; i < n; i++)
        y[i] = val;
}

static void ref_range(const pl_tc_case *l, double *y, int64_t n) {
    const pl_tc_slot *x = l->s;
    double b = xget(&x[0], 0), d = xget(&x[2], 0);
    for (int64_t i = 0; i < n; i++)
        y[i] = b + (double)i * d;
}

static void ref_trilu(const pl_tc_case *l, double *y, int64_t n) {
    const pl_tc_slot *x = l->s;
    bool upper = pl_tc_attr_i(l, "upper", 1) != 0;
    int64_t R = x[0].dims[x[0].rank - 2], C = x[0].dims[x[0].rank - 1];
    int64_t k = l->nslot > 1 ? pl__get_i64(x[1].data, x[1].dtype, 0) : 0;
    for (int64_t p = 0; p < n; p++) {
        int64_t j = p % C, i = (p / C) % R;
        bool keep = upper ? j >= i + k : j <= i + k;
        y[p] = keep ? xget(&x[0], p) : 0.0;
    }
}

static void ref_lpnorm(const pl_tc_case *l, double *y, int64_t n) {
    const pl_tc_slot *x = l->s;
    int r = x[0].rank, axis = (int)pl_tc_attr_i(l, "axis", -1);
    int p = (int)pl_tc_attr_i(l, "p", 2);
    int64_t outer, len, inner;
    (void)n;
    if (axis < 0)
        axis += r;
    outer = pl_tc_numel(axis, x[0].dims);
    len = x[0].dims[axis];
    inner = pl_tc_numel(r - axis - 1, x[0].dims + axis + 1);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double s = 0;
            for (int64_t k = 0; k < len; k++) {
                double v = xget(&x[0], (o * len + k) * inner + i);
                s += p == 1 ? fabs(v) : v * v;
            }
            if (p == 2)
                s = sqrt(s);
            for (int64_t k = 0; k < len; k++) {
                int64_t at = (o * len + k) * inner + i;
                y[at] = s > 0 ? xget(&x[0], at) / s : 0.0;
            }
        }
}

/* ---- cases ---- */

/* A scalar shape-value input (Range's start/limit/delta). */
static void scalar_input(pl_tc_case *l, pl_dtype t, double v) {
    pl_tc_slot *s = pl_tc_add(l, PL_TC_INPUT, t, 0, NULL, NULL);
    pl_tc_set(s, 0, v);
    l->in[s->g].values = true;
}

static void test_isnan_isinf(void) {
    static const struct {
        const char *op;
        pl_dtype t;
        int pos, neg;
    } cs[] = {{"IsNaN", PL_FLOAT32, 1, 1}, {"IsNaN", PL_FLOAT16, 1, 1},
              {"IsInf", PL_FLOAT32, 1, 1}, {"IsInf", PL_FLOAT32, 1, 0},
              {"IsInf", PL_FLOAT32, 0, 1}, {"IsInf", PL_FLOAT32, 0, 0},
              {"IsInf", PL_FLOAT16, 1, 0}, {"IsNaN", PL_FLOAT64, 1, 1},
              {"IsInf", PL_FLOAT64, 0, 1}};
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        pl_tc_case l = {.op = cs[c].op};
        char what[96];
        void *x;
        if (strcmp(cs[c].op, "IsInf") == 0) {
            l.nat = 2;
            l.at[0] = PL_ATTR_I("detect_positive", cs[c].pos);
            l.at[1] = PL_ATTR_I("detect_negative", cs[c].neg);
        }
        x = pl_tc_uniform(&l, PL_TC_INPUT, cs[c].t, 2, D(7, 61), -1e4, 1e4)->data;
        /* about one in six each: NaN, +inf, -inf; plus the largest finite values */
        for (int64_t i = 0; i < 7 * 61; i++) {
            int64_t k = pl_tc_rnd_int(0, 17);
            if (k < 3)
                pl__set_f64(x, cs[c].t, i, k == 0 ? NAN : k == 1 ? INFINITY : -INFINITY);
            else if (k == 3)
                pl__set_f64(x, cs[c].t, i, cs[c].t == PL_FLOAT16 ? -65504.0 : -3.0e38);
        }
        snprintf(what, sizeof(what), "%s %s pos %d neg %d", cs[c].op, pl_dtype_name(cs[c].t),
                 cs[c].pos, cs[c].neg);
        check(what, &l, 0, false, ref_isx);
        pl_tc_case_free(&l);
    }
}

static void test_not(void) {
    pl_tc_case l = {.op = "Not"};
    PL_TC_NEED_GPU();
    pl_tc_ints(&l, PL_TC_INPUT, PL_BOOL, 3, D(3, 5, 47), 0, 1);
    check("Not bool [3, 5, 47]", &l, 0, false, ref_not);
    pl_tc_case_free(&l);
}

static void test_mod(void) {
    static const struct {
        pl_dtype t;
        int fmod, ra, rb;
        int64_t da[3], db[3];
    } cs[] = {
        {PL_INT64, 0, 2, 2, {5, 40}, {5, 40}},         {PL_INT64, 1, 2, 2, {5, 40}, {5, 40}},
        {PL_INT32, 0, 3, 2, {4, 1, 6}, {5, 1}},        {PL_INT32, 1, 3, 2, {4, 1, 6}, {5, 1}},
        {PL_INT64, 0, 2, 0, {7, 9}, {0}},              {PL_INT8, 0, 2, 1, {6, 11}, {11}},
        {PL_UINT8, 1, 2, 2, {6, 11}, {6, 11}},         {PL_FLOAT32, 1, 3, 1, {2, 3, 8}, {8}},
        {PL_FLOAT32, 0, 3, 1, {2, 3, 8}, {8}},         {PL_FLOAT32, 0, 2, 2, {6, 1}, {1, 9}},
        {PL_FLOAT32, 1, 2, 2, {1, 9}, {6, 1}},         {PL_FLOAT16, 0, 2, 2, {4, 25}, {4, 25}},
        {PL_FLOAT16, 1, 2, 3, {4, 25}, {3, 1, 25}},    {PL_FLOAT64, 0, 2, 2, {9, 13}, {9, 1}},
    };
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        pl_tc_case l = {.op = "Mod", .nat = 1};
        pl_dtype t = cs[c].t;
        char what[96];
        l.at[0] = PL_ATTR_I("fmod", cs[c].fmod);
        if (t == PL_UINT8) {
            pl_tc_ints(&l, PL_TC_INPUT, t, cs[c].ra, cs[c].da, 0, 255);
            pl_tc_ints(&l, PL_TC_INPUT, t, cs[c].rb, cs[c].db, 0, 20); /* zeros included */
        } else if (exact_type(t)) {
            /* negative dividends and divisors, 0 and -1 among the divisors */
            int64_t lim = t == PL_INT8 ? 127 : 1000;
            pl_tc_ints(&l, PL_TC_INPUT, t, cs[c].ra, cs[c].da, -lim - 1, lim);
            pl_tc_ints(&l, PL_TC_INPUT, t, cs[c].rb, cs[c].db, -9, 9);
        } else {
            pl_tc_slot *b;
            pl_tc_uniform(&l, PL_TC_INPUT, t, cs[c].ra, cs[c].da, -20, 20);
            b = pl_tc_uniform(&l, PL_TC_INPUT, t, cs[c].rb, cs[c].db, 0.5, 4);
            /* nonzero divisors of both signs */
            for (int64_t i = 0; i < pl_tc_numel(cs[c].rb, cs[c].db); i++)
                if (pl_tc_rnd() & 1)
                    pl_tc_set(b, i, -pl_tc_get(b->data, t, i));
        }
        snprintf(what, sizeof(what), "Mod %s fmod %d, ranks %d and %d", pl_dtype_name(t),
                 cs[c].fmod, cs[c].ra, cs[c].rb);
        check(what, &l, t == PL_FLOAT16 ? TOL16 : TOL, false, ref_mod);
        pl_tc_case_free(&l);
    }
}

static void test_constant_of_shape(void) {
    static const struct {
        pl_dtype t;
        double v;
        bool has_value;
        int rank;
        int64_t shape[4];
    } cs[] = {{PL_FLOAT32, -1.5, true, 3, {2, 3, 4}},  {PL_INT64, -7, true, 2, {5, 9}},
              {PL_FLOAT16, 1.5, true, 2, {3, 11}},     {PL_INT8, -3, true, 1, {100}},
              {PL_FLOAT32, 0, false, 4, {2, 1, 3, 5}}, {PL_INT32, 123456, true, 2, {300, 301}},
              {PL_BOOL, 1, true, 2, {4, 4}}};
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        pl_tc_case l = {.op = "ConstantOfShape"};
        uint64_t bytes = 0;
        char what[96];
        pl__set_f64(&bytes, cs[c].t, 0, cs[c].v);
        if (cs[c].has_value) {
            l.nat = 2;
            l.at[0] = (pl_attr){.name = "value", .type = PL_ATTR_BYTES, .bytes = &bytes,
                                .count = (int64_t)pl_dtype_size(cs[c].t)};
            l.at[1] = PL_ATTR_I("value_dtype", cs[c].t);
        }
        l.in[pl_tc_add(&l, PL_TC_INPUT, PL_INT64, 1, D(cs[c].rank), cs[c].shape)->g].values = true;
        snprintf(what, sizeof(what), "ConstantOfShape %s %g rank %d%s", pl_dtype_name(cs[c].t),
                 cs[c].v, cs[c].rank, cs[c].has_value ? "" : " (default value)");
        check(what, &l, 0, false, ref_cos);
        pl_tc_case_free(&l);
    }
}

static void test_range(void) {
    static const struct {
        pl_dtype t;
        double b, e, d;
    } cs[] = {{PL_INT64, 0, 10, 3},        {PL_INT64, 10, -7, -3},      {PL_INT32, -5, 20, 4},
              {PL_INT32, 100, 0, -1},      {PL_FLOAT32, 0.5, 10.2, 0.3}, {PL_FLOAT32, 3, -2, -0.25},
              {PL_FLOAT32, -1, 1e5, 0.37}, {PL_FLOAT16, 1, 7, 0.5},      {PL_FLOAT16, 2, -3, -0.75},
              {PL_FLOAT64, 0.1, 1.0, 0.07}};
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        pl_tc_case l = {.op = "Range"};
        char what[96];
        scalar_input(&l, cs[c].t, cs[c].b);
        scalar_input(&l, cs[c].t, cs[c].e);
        scalar_input(&l, cs[c].t, cs[c].d);
        snprintf(what, sizeof(what), "Range %s %g to %g step %g", pl_dtype_name(cs[c].t), cs[c].b,
                 cs[c].e, cs[c].d);
        check(what, &l, cs[c].t == PL_FLOAT16 ? TOL16 : TOL, false, ref_range);
        pl_tc_case_free(&l);
    }
}

static void test_trilu(void) {
    static const struct {
        int upper, kmode; /* kmode 0: no k, 1: constant k, 2: k as a graph input */
        int64_t k;
        pl_dtype t;
        int rank;
        int64_t dims[4];
    } cs[] = {{1, 0, 0, PL_FLOAT32, 3, {2, 5, 7}},     {0, 0, 0, PL_FLOAT32, 3, {2, 5, 7}},
              {1, 1, 2, PL_FLOAT32, 3, {2, 5, 7}},     {0, 1, 2, PL_FLOAT32, 3, {2, 5, 7}},
              {1, 1, -3, PL_FLOAT32, 3, {2, 7, 5}},    {0, 1, -1, PL_FLOAT32, 3, {2, 7, 5}},
              {1, 1, 9, PL_FLOAT32, 2, {4, 6}},        {0, 1, -9, PL_FLOAT32, 2, {4, 6}},
              {1, 2, 1, PL_FLOAT32, 4, {2, 3, 4, 5}},  {0, 2, -2, PL_INT64, 4, {2, 3, 6, 5}},
              {1, 1, -1, PL_FLOAT16, 3, {3, 6, 4}},    {0, 1, 1, PL_FLOAT16, 3, {3, 6, 4}},
              {0, 0, 0, PL_INT32, 3, {2, 33, 65}}};
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        pl_tc_case l = {.op = "Trilu", .nat = 1};
        int64_t k = cs[c].k;
        pl_dtype t = cs[c].t;
        char what[96];
        l.at[0] = PL_ATTR_I("upper", cs[c].upper);
        if (exact_type(t))
            pl_tc_ints(&l, PL_TC_INPUT, t, cs[c].rank, cs[c].dims, -1000, 1000);
        else
            pl_tc_uniform(&l, PL_TC_INPUT, t, cs[c].rank, cs[c].dims, -2, 2);
        if (cs[c].kmode) /* as an input, read by the kernel on the device (not a value input) */
            pl_tc_add(&l, cs[c].kmode == 1 ? PL_TC_CONST : PL_TC_INPUT, PL_INT64, 0, NULL, &k);
        snprintf(what, sizeof(what), "Trilu %s upper %d k %lld (%s), rank %d", pl_dtype_name(t),
                 cs[c].upper, (long long)k,
                 cs[c].kmode == 0 ? "none" : cs[c].kmode == 1 ? "constant" : "input",
                 cs[c].rank);
        check(what, &l, 0, false, ref_trilu);
        pl_tc_case_free(&l);
    }
}

static void test_lpnorm(void) {
    static const struct {
        pl_dtype t;
        int p, axis, rank;
        int64_t dims[3];
    } cs[] = {{PL_FLOAT32, 2, 1, 3, {4, 37, 5}},  {PL_FLOAT32, 1, 1, 3, {4, 37, 5}},
              {PL_FLOAT32, 2, -1, 2, {64, 300}},  {PL_FLOAT32, 1, -1, 2, {64, 300}},
              {PL_FLOAT32, 2, -1, 2, {3, 5000}},  {PL_FLOAT32, 1, 0, 2, {6, 10}},
              {PL_FLOAT16, 2, -1, 2, {8, 200}},   {PL_FLOAT16, 1, 1, 3, {4, 37, 5}},
              {PL_FLOAT16, 2, 1, 2, {3, 3000}}};
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        pl_tc_case l = {.op = "LpNormalization", .nat = 2};
        pl_tc_slot *x;
        int64_t inner;
        int axis = cs[c].axis < 0 ? cs[c].axis + cs[c].rank : cs[c].axis;
        char what[96];
        l.at[0] = PL_ATTR_I("p", cs[c].p);
        l.at[1] = PL_ATTR_I("axis", cs[c].axis);
        x = pl_tc_uniform(&l, PL_TC_INPUT, cs[c].t, cs[c].rank, cs[c].dims, -2, 2);
        /* one all-zero vector along the axis: its norm is 0 and it stays zero */
        inner = pl_tc_numel(cs[c].rank - axis - 1, cs[c].dims + axis + 1);
        for (int64_t k = 0; k < cs[c].dims[axis]; k++)
            pl_tc_set(x, k * inner, 0.0);
        snprintf(what, sizeof(what), "LpNormalization %s p %d axis %d rank %d",
                 pl_dtype_name(cs[c].t), cs[c].p, cs[c].axis, cs[c].rank);
        check(what, &l, cs[c].t == PL_FLOAT16 ? TOL16 : TOL, cs[c].t == PL_FLOAT16, ref_lpnorm);
        pl_tc_case_free(&l);
    }
}

int main(void) {
    pl_tc_catch_crashes();
    pl_tc_srand(11);
    PL_RUN(test_isnan_isinf);
    PL_RUN(test_not);
    PL_RUN(test_mod);
    PL_RUN(test_constant_of_shape);
    PL_RUN(test_range);
    PL_RUN(test_trilu);
    PL_RUN(test_lpnorm);
    return pl_test_report();
}
