/*
 * test-ops-elementwise.c - shape inference and CPU kernels of the elementwise ops, each compared
 * with a naive reference written here (double precision, explicit broadcast index arithmetic) on
 * fixed-seed random data, across dtypes and broadcasting patterns; plus the error paths.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test-ops-util.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static pl__tview tv_vals(pl_dtype t, int rank, const int64_t *dims, const double *vals) {
    pl__tview v = tv_new(t, rank, dims);
    for (int64_t i = 0; i < pl__tview_numel(&v); i++)
        pl__set_f64(v.data, t, i, vals[i]);
    return v;
}

/* Offset into x of output element k of y under numpy broadcasting. */
static int64_t bidx(const pl__tview *y, int64_t k, const pl__tview *x) {
    int64_t off = 0, stride = 1;
    for (int i = y->rank - 1; i >= 0; i--) {
        int64_t c = k % y->dims[i];
        int xi = i - (y->rank - x->rank);
        k /= y->dims[i];
        if (xi >= 0) {
            if (x->dims[xi] != 1)
                off += c * stride;
            stride *= x->dims[xi];
        }
    }
    return off;
}

static bool same_shape(const pl__tview *a, int rank, const int64_t *dims) {
    if (a->rank != rank)
        return false;
    for (int i = 0; i < rank; i++)
        if (a->dims[i] != dims[i])
            return false;
    return true;
}

/* |got - want| <= atol + rtol*|want| for every element (NaN matches NaN); reports the first
 * offender. */
static bool close_to(const char *what, const pl__tview *y, const double *want, double atol,
                     double rtol) {
    for (int64_t i = 0; i < pl__tview_numel(y); i++) {
        double g = pl__get_f64(y->data, y->dtype, i), w = want[i];
        if (isnan(w) && isnan(g))
            continue;
        if (isinf(w) && g == w)
            continue;
        if (!(fabs(g - w) <= atol + rtol * fabs(w))) {
            fprintf(stderr, "%s (%s): element %lld: got %.9g, expected %.9g\n", what,
                    pl_dtype_name(y->dtype), (long long)i, g, w);
            return false;
        }
    }
    return true;
}

static double tol_of(pl_dtype t) {
    return t == PL_FLOAT64 ? 1e-12 : t == PL_FLOAT32 ? 2e-6 : t == PL_FLOAT16 ? 2e-3 : 1e-2;
}

/* ---- unary --------------------------------------------------------------------------------- */

typedef double (*ref1_fn)(double x, double a, double b);

static double r_abs(double x, double a, double b) { (void)a, (void)b; return fabs(x); }
static double r_neg(double x, double a, double b) { (void)a, (void)b; return -x; }
static double r_exp(double x, double a, double b) { (void)a, (void)b; return exp(x); }
static double r_log(double x, double a, double b) { (void)a, (void)b; return log(x); }
static double r_sqrt(double x, double a, double b) { (void)a, (void)b; return sqrt(x); }
static double r_recip(double x, double a, double b) { (void)a, (void)b; return 1 / x; }
static double r_floor(double x, double a, double b) { (void)a, (void)b; return floor(x); }
static double r_ceil(double x, double a, double b) { (void)a, (void)b; return ceil(x); }
static double r_round(double x, double a, double b) { (void)a, (void)b; return nearbyint(x); }
static double r_sin(double x, double a, double b) { (void)a, (void)b; return sin(x); }
static double r_cos(double x, double a, double b) { (void)a, (void)b; return cos(x); }
static double r_tan(double x, double a, double b) { (void)a, (void)b; return tan(x); }
static double r_atan(double x, double a, double b) { (void)a, (void)b; return atan(x); }
static double r_asin(double x, double a, double b) { (void)a, (void)b; return asin(x); }
static double r_sinh(double x, double a, double b) { (void)a, (void)b; return sinh(x); }
static double r_relu(double x, double a, double b) { (void)a, (void)b; return x > 0 ? x : 0; }
static double r_leaky(double x, double a, double b) { (void)b; return x >= 0 ? x : a * x; }
static double r_sigm(double x, double a, double b) { (void)a, (void)b; return 1 / (1 + exp(-x)); }
static double r_tanh(double x, double a, double b) { (void)a, (void)b; return tanh(x); }
static double r_hsig(double x, double a, double b) { return fmax(0, fmin(1, a * x + b)); }
static double r_hswish(double x, double a, double b) {
    (void)a, (void)b;
    return x * fmax(0, fmin(1, x / 6 + 0.5));
}
static double r_gelu(double x, double a, double b) {
    (void)a, (void)b;
    return 0.5 * x * (1 + erf(x / sqrt(2.0)));
}
static double r_gelu_tanh(double x, double a, double b) {
    (void)a, (void)b;
    return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}
static double r_erf(double x, double a, double b) { (void)a, (void)b; return erf(x); }
static double r_softplus(double x, double a, double b) { (void)a, (void)b; return log(1 + exp(x)); }
static double r_softsign(double x, double a, double b) {
    (void)a, (void)b;
    return x / (1 + fabs(x));
}
static double r_elu(double x, double a, double b) { (void)b; return x < 0 ? a * (exp(x) - 1) : x; }
static double r_selu(double x, double a, double b) { return x <= 0 ? b * (a * exp(x) - a) : b * x; }
static double r_mish(double x, double a, double b) {
    (void)a, (void)b;
    return x * tanh(log(1 + exp(x)));
}
static double r_threlu(double x, double a, double b) { (void)b; return x > a ? x : 0; }
static double r_sign(double x, double a, double b) { (void)a, (void)b; return (x > 0) - (x < 0); }

typedef struct unary_case {
    const char *op;
    ref1_fn ref;
    double lo, hi;
    const char *an;   /* attribute alpha name (NULL: default) */
    double a, b;      /* the values the reference uses */
    const char *bn;
    double av, bv;    /* attribute values passed (when names set) */
} unary_case;

static const unary_case unary_cases[] = {
    {"Abs", r_abs, -3, 3, NULL, 0, 0, NULL, 0, 0},
    {"Neg", r_neg, -3, 3, NULL, 0, 0, NULL, 0, 0},
    {"Exp", r_exp, -5, 5, NULL, 0, 0, NULL, 0, 0},
    {"Log", r_log, 0.01, 10, NULL, 0, 0, NULL, 0, 0},
    {"Sqrt", r_sqrt, 0, 10, NULL, 0, 0, NULL, 0, 0},
    {"Reciprocal", r_recip, 0.5, 4, NULL, 0, 0, NULL, 0, 0},
    {"Floor", r_floor, -5, 5, NULL, 0, 0, NULL, 0, 0},
    {"Ceil", r_ceil, -5, 5, NULL, 0, 0, NULL, 0, 0},
    {"Round", r_round, -5, 5, NULL, 0, 0, NULL, 0, 0},
    {"Sin", r_sin, -4, 4, NULL, 0, 0, NULL, 0, 0},
    {"Cos", r_cos, -4, 4, NULL, 0, 0, NULL, 0, 0},
    {"Tan", r_tan, -1.2, 1.2, NULL, 0, 0, NULL, 0, 0},
    {"Atan", r_atan, -4, 4, NULL, 0, 0, NULL, 0, 0},
    {"Asin", r_asin, -0.99, 0.99, NULL, 0, 0, NULL, 0, 0},
    {"Sinh", r_sinh, -3, 3, NULL, 0, 0, NULL, 0, 0},
    {"Relu", r_relu, -3, 3, NULL, 0, 0, NULL, 0, 0},
    {"LeakyRelu", r_leaky, -3, 3, NULL, 0.01, 0, NULL, 0, 0},
    {"LeakyRelu", r_leaky, -3, 3, "alpha", 0.2, 0, NULL, 0.2, 0},
    {"Sigmoid", r_sigm, -8, 8, NULL, 0, 0, NULL, 0, 0},
    {"Tanh", r_tanh, -4, 4, NULL, 0, 0, NULL, 0, 0},
    {"HardSigmoid", r_hsig, -5, 5, NULL, 0.2, 0.5, NULL, 0, 0},
    {"HardSigmoid", r_hsig, -5, 5, "alpha", 0.3, 0.4, "beta", 0.3, 0.4},
    {"HardSwish", r_hswish, -5, 5, NULL, 0, 0, NULL, 0, 0},
    {"Gelu", r_gelu, -4, 4, NULL, 0, 0, NULL, 0, 0},
    {"Erf", r_erf, -3, 3, NULL, 0, 0, NULL, 0, 0},
    {"Softplus", r_softplus, -10, 10, NULL, 0, 0, NULL, 0, 0},
    {"Softsign", r_softsign, -5, 5, NULL, 0, 0, NULL, 0, 0},
    {"Elu", r_elu, -3, 3, NULL, 1.0, 0, NULL, 0, 0},
    {"Elu", r_elu, -3, 3, "alpha", 0.5, 0, NULL, 0.5, 0},
    {"Selu", r_selu, -3, 3, NULL, 1.67326319217681884765625, 1.05070102214813232421875, NULL, 0, 0},
    {"Mish", r_mish, -5, 5, NULL, 0, 0, NULL, 0, 0},
    {"ThresholdedRelu", r_threlu, -3, 3, "alpha", 0.5, 0, NULL, 0.5, 0},
    {"Sign", r_sign, -3, 3, NULL, 0, 0, NULL, 0, 0},
};

static int check_unary(const unary_case *c, pl_dtype t, int rank, const int64_t *dims,
                       uint64_t seed) {
    pl_attr at[2];
    int na = 0, ok;
    pl__tview x = tv_rand(t, rank, dims, c->lo, c->hi, seed), y;
    int64_t n = pl__tview_numel(&x);
    double *want = malloc(sizeof(double) * (size_t)(n + 1));
    char what[96];
    if (c->an)
        at[na++] = PL_ATTR_F(c->an, c->av);
    if (c->bn)
        at[na++] = PL_ATTR_F(c->bn, c->bv);
    for (int64_t i = 0; i < n; i++)
        want[i] = c->ref(pl__get_f64(x.data, t, i), c->a, c->b);
    snprintf(what, sizeof(what), "%s n=%lld", c->op, (long long)n);
    ok = run_op(c->op, at, na, 1, &x, 1, &y) == PL_OK;
    if (!ok)
        fprintf(stderr, "%s: %s\n", what, pl_errmsg());
    /* float16/bfloat16: the output is rounded to the storage type */
    ok = ok && y.dtype == t && same_shape(&y, rank, dims) &&
         close_to(what, &y, want, t == PL_FLOAT32 ? 1e-6 : tol_of(t), tol_of(t));
    free(want);
    tv_free(&x);
    tv_free(&y);
    return ok;
}

static void test_unary_float(void) {
    const int64_t d3[] = {3, 5, 7}, big[] = {(1 << 16) + 3};
    const pl_dtype types[] = {PL_FLOAT32, PL_FLOAT64, PL_FLOAT16, PL_BFLOAT16};
    for (size_t i = 0; i < sizeof(unary_cases) / sizeof(unary_cases[0]); i++) {
        for (int t = 0; t < 4; t++)
            PL_CHECK(check_unary(&unary_cases[i], types[t], 3, d3, 100 + i));
        PL_CHECK(check_unary(&unary_cases[i], PL_FLOAT32, 1, big, 200 + i));
    }
    /* rank 0 */
    PL_CHECK(check_unary(&unary_cases[2], PL_FLOAT32, 0, NULL, 7));
}

/* Exp, Sigmoid, Tanh, Erf and Gelu use branch-free float32 approximations: sweep them densely,
 * with the special values, against double precision (2e-7 relative is about 3 ulp). */
static void test_exp_tanh_accuracy(void) {
    const double special[] = {0, -0.0, 1e-30, -1e-30, 1e-6, -88.72, 88.72, 88.7228, 89, -87.3,
                              -87.34, -104, -200, 200, INFINITY, -INFINITY, NAN, 0.3, -0.3,
                              0.29999, 9.5, -9.5, 1e-3};
    const int64_t n = 400000 + 23;
    const char *ops[] = {"Exp", "Sigmoid", "Tanh"};
    pl__tview x = tv_new(PL_FLOAT32, 1, &n), y;
    double *want = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < 400000; i++)
        ((float *)x.data)[i] = -95.f + 190.f * (float)i / 400000.f;
    for (int i = 0; i < 23; i++)
        ((float *)x.data)[400000 + i] = (float)special[i];
    for (int o = 0; o < 3; o++) {
        for (int64_t i = 0; i < n; i++) {
            double v = ((float *)x.data)[i];
            want[i] = o == 0 ? exp(v) : o == 1 ? 1 / (1 + exp(-v)) : tanh(v);
            if (fabs(want[i]) < 1.2e-38) /* below FLT_MIN: flushing to 0 is accepted */
                want[i] = 0;
            if (o == 0 && want[i] > 3.4028234e38)
                want[i] = INFINITY;
        }
        PL_CHECK_OK(run_op(ops[o], NULL, 0, 1, &x, 1, &y));
        for (int64_t i = 0; i < n; i++) /* flushed denormals */
            if (fabs(((float *)y.data)[i]) < 1.2e-38)
                ((float *)y.data)[i] = 0;
        PL_CHECK(close_to(ops[o], &y, want, 1e-30, 2e-7));
        tv_free(&y);
    }
    /* Erf and Gelu (erfc-based): 6e-7 relative; Gelu also inherits the rounding of x/sqrt2 in
     * float32, amplified by 2u^2 in erfc(u) (as in any float32 Gelu) */
    for (int o = 0; o < 2; o++) {
        int bad = 0;
        PL_CHECK_OK(run_op(o ? "Gelu" : "Erf", NULL, 0, 1, &x, 1, &y));
        for (int64_t i = 0; i < n && y.data; i++) {
            double v = ((float *)x.data)[i], g = ((float *)y.data)[i];
            double w = o ? 0.5 * v * erfc(-v / sqrt(2.0)) : erf(v);
            double tol = (o ? 7e-7 + 1.2e-7 * v * v : 7e-7) * fabs(w) + 1e-37;
            if (!(fabs(g - w) <= tol) && !(isnan(w) && isnan(g)) && !(w == g)) {
                if (bad++ < 3)
                    fprintf(stderr, "%s(%.9g): got %.9g, expected %.9g\n", o ? "Gelu" : "Erf", v,
                            g, w);
            }
        }
        PL_CHECK(bad == 0);
        tv_free(&y);
    }
    free(want);
    tv_free(&x);
}

static void test_gelu_tanh(void) {
    const int64_t d[] = {4, 33};
    pl_attr at = PL_ATTR_S("approximate", "tanh");
    pl__tview x = tv_rand(PL_FLOAT32, 2, d, -4, 4, 3), y;
    double want[132];
    for (int i = 0; i < 132; i++)
        want[i] = r_gelu_tanh(((float *)x.data)[i], 0, 0);
    PL_CHECK_OK(run_op("Gelu", &at, 1, 1, &x, 1, &y));
    PL_CHECK(close_to("Gelu tanh", &y, want, 1e-6, 2e-6));
    tv_free(&x);
    tv_free(&y);
}

static void test_unary_int(void) {
    const int64_t d[] = {4, 6};
    const char *ops[] = {"Abs", "Neg", "Sign", "Relu"};
    const ref1_fn refs[] = {r_abs, r_neg, r_sign, r_relu};
    const pl_dtype types[] = {PL_INT64, PL_INT32, PL_INT8};
    for (int o = 0; o < 4; o++) {
        for (int t = 0; t < 3; t++) {
            pl__tview x = tv_rand(types[t], 2, d, -50, 50, 11 + o), y;
            double want[24];
            for (int i = 0; i < 24; i++)
                want[i] = refs[o](pl__get_f64(x.data, types[t], i), 0, 0);
            PL_CHECK_OK(run_op(ops[o], NULL, 0, 1, &x, 1, &y));
            PL_CHECK(y.dtype == types[t] && close_to(ops[o], &y, want, 0, 0));
            tv_free(&x);
            tv_free(&y);
        }
    }
}

static void test_isnan_isinf_not(void) {
    const int64_t d[] = {6};
    const double v[] = {1.0, NAN, INFINITY, -INFINITY, 0.0, -2.0};
    const double isnan_w[] = {0, 1, 0, 0, 0, 0}, isinf_w[] = {0, 0, 1, 1, 0, 0};
    const double isinf_pos[] = {0, 0, 1, 0, 0, 0}, not_w[] = {1, 0, 0, 1, 0, 1};
    const double b[] = {0, 1, 1, 0, 1, 0};
    pl_attr neg0 = PL_ATTR_I("detect_negative", 0);
    pl__tview x = tv_vals(PL_FLOAT32, 1, d, v), xb = tv_vals(PL_BOOL, 1, d, b), y;
    PL_CHECK_OK(run_op("IsNaN", NULL, 0, 1, &x, 1, &y));
    PL_CHECK(y.dtype == PL_BOOL && close_to("IsNaN", &y, isnan_w, 0, 0));
    tv_free(&y);
    PL_CHECK_OK(run_op("IsInf", NULL, 0, 1, &x, 1, &y));
    PL_CHECK(close_to("IsInf", &y, isinf_w, 0, 0));
    tv_free(&y);
    PL_CHECK_OK(run_op("IsInf", &neg0, 1, 1, &x, 1, &y));
    PL_CHECK(close_to("IsInf positive", &y, isinf_pos, 0, 0));
    tv_free(&y);
    PL_CHECK_OK(run_op("Not", NULL, 0, 1, &xb, 1, &y));
    PL_CHECK(y.dtype == PL_BOOL && close_to("Not", &y, not_w, 0, 0));
    tv_free(&y);
    PL_CHECK_FAILS(run_op("Not", NULL, 0, 1, &x, 1, &y), PL_ERR_UNSUPPORTED,
                   "dtype float32 not supported");
    tv_free(&x);
    tv_free(&xb);
}

/* ---- Clip ---------------------------------------------------------------------------------- */

static void check_clip(pl_dtype t, const pl_attr *at, int nat, int nin, const double *lo,
                       const double *hi, double rlo, double rhi, const char *what) {
    const int64_t d[] = {5, 8};
    pl__tview in[3], y;
    double want[40];
    memset(in, 0, sizeof(in));
    in[0] = tv_rand(t, 2, d, -20, 20, 77);
    if (lo)
        in[1] = tv_vals(t, 0, NULL, lo);
    if (hi)
        in[2] = tv_vals(t, 0, NULL, hi);
    for (int i = 0; i < 40; i++) {
        double v = pl__get_f64(in[0].data, t, i);
        want[i] = v < rlo ? rlo : v > rhi ? rhi : v;
    }
    PL_CHECK_OK(run_op("Clip", at, nat, nin, in, 1, &y));
    PL_CHECK(close_to(what, &y, want, 0, 0));
    for (int i = 0; i < 3; i++)
        tv_free(&in[i]);
    tv_free(&y);
}

static void test_clip(void) {
    const double lo = -3.5, hi = 6.25, ilo = -4, ihi = 9;
    pl_attr at[2] = {PL_ATTR_F("min", -1.5), PL_ATTR_F("max", 2.5)};
    check_clip(PL_FLOAT32, at, 2, 1, NULL, NULL, -1.5, 2.5, "Clip attributes");
    check_clip(PL_FLOAT32, NULL, 0, 3, &lo, &hi, lo, hi, "Clip inputs");
    check_clip(PL_FLOAT32, NULL, 0, 3, NULL, &hi, -INFINITY, hi, "Clip max only");
    check_clip(PL_FLOAT32, NULL, 0, 2, &lo, NULL, lo, INFINITY, "Clip min only");
    check_clip(PL_FLOAT32, NULL, 0, 1, NULL, NULL, -INFINITY, INFINITY, "Clip no bounds");
    check_clip(PL_FLOAT64, NULL, 0, 3, &lo, &hi, lo, hi, "Clip f64");
    check_clip(PL_INT64, NULL, 0, 3, &ilo, &ihi, ilo, ihi, "Clip int64");
    check_clip(PL_INT32, NULL, 0, 3, &ilo, NULL, ilo, INFINITY, "Clip int32");
    {
        const int64_t d2[] = {2};
        pl__tview in[2] = {tv_rand(PL_FLOAT32, 1, d2, 0, 1, 1),
                           tv_rand(PL_FLOAT32, 1, d2, 0, 1, 2)};
        pl__tview y;
        PL_CHECK_FAILS(run_op("Clip", NULL, 0, 2, in, 1, &y), PL_ERR_SHAPE, "must be a scalar");
        tv_free(&in[0]);
        tv_free(&in[1]);
    }
}

/* ---- binary -------------------------------------------------------------------------------- */

typedef double (*ref2_fn)(double x, double z);

static double b_add(double x, double z) { return x + z; }
static double b_sub(double x, double z) { return x - z; }
static double b_mul(double x, double z) { return x * z; }
static double b_div(double x, double z) { return x / z; }
static double b_pow(double x, double z) { return pow(x, z); }
static double b_min(double x, double z) { return x < z ? x : z; }
static double b_max(double x, double z) { return x > z ? x : z; }
static double b_fmod(double x, double z) { return fmod(x, z); }
static double b_prelu(double x, double z) { return x < 0 ? x * z : x; }
static double b_eq(double x, double z) { return x == z; }
static double b_lt(double x, double z) { return x < z; }
static double b_gt(double x, double z) { return x > z; }
static double b_le(double x, double z) { return x <= z; }
static double b_ge(double x, double z) { return x >= z; }
static double b_and(double x, double z) { return x != 0 && z != 0; }
static double b_or(double x, double z) { return x != 0 || z != 0; }
static double b_xor(double x, double z) { return (x != 0) != (z != 0); }
static double b_idiv(double x, double z) { return z == 0 ? 0 : trunc(x / z); }
static double b_pymod(double x, double z) {
    double r = fmod(x, z);
    return r != 0 && ((r < 0) != (z < 0)) ? r + z : r;
}

typedef struct shape_pair {
    int ra;
    int64_t a[4];
    int rb;
    int64_t b[4];
} shape_pair;

static const shape_pair pairs[] = {
    {3, {2, 3, 4}, 3, {2, 3, 4}},         {3, {2, 3, 4}, 0, {0}},
    {0, {0}, 3, {2, 3, 4}},               {3, {2, 3, 4}, 1, {4}},
    {3, {2, 1, 4}, 2, {3, 1}},            {4, {1, 3, 1, 5}, 4, {2, 1, 4, 1}},
    {4, {2, 3, 4, 5}, 3, {3, 1, 1}},      {2, {4, 1}, 2, {1, 5}},
    {1, {1}, 2, {3, 2}},                  {4, {2, 16, 9, 9}, 4, {1, 16, 1, 1}},
    {2, {3, 5000}, 2, {3, 5000}},         {2, {1, 7}, 3, {2, 3, 7}},
};
#define NPAIRS (sizeof(pairs) / sizeof(pairs[0]))

/* Runs a binary op on random inputs in [alo,ahi] x [blo,bhi] for every shape pair and compares
 * with ref (output dtype yt). */
static int check_binary(const char *op, const pl_attr *at, int nat, pl_dtype t, pl_dtype tb,
                        ref2_fn ref, double alo, double ahi, double blo, double bhi, bool nozero,
                        double tol, uint64_t seed) {
    int ok = 1;
    for (size_t p = 0; p < NPAIRS && ok; p++) {
        const shape_pair *sp = &pairs[p];
        pl__tview in[2] = {tv_rand(t, sp->ra, sp->a, alo, ahi, seed + p),
                           tv_rand(tb, sp->rb, sp->b, blo, bhi, seed + 1000 + p)};
        pl__tview y;
        int64_t n;
        double *want;
        char what[96];
        if (nozero)
            for (int64_t i = 0; i < pl__tview_numel(&in[1]); i++)
                if (pl__get_f64(in[1].data, tb, i) == 0)
                    pl__set_f64(in[1].data, tb, i, 3);
        snprintf(what, sizeof(what), "%s pair %zu", op, p);
        if (run_op(op, at, nat, 2, in, 1, &y) != PL_OK) {
            fprintf(stderr, "%s: %s\n", what, pl_errmsg());
            ok = 0;
        } else {
            n = pl__tview_numel(&y);
            want = malloc(sizeof(double) * (size_t)(n + 1));
            for (int64_t k = 0; k < n; k++) {
                double x = pl__get_f64(in[0].data, t, bidx(&y, k, &in[0]));
                double z = pl__get_f64(in[1].data, tb, bidx(&y, k, &in[1]));
                want[k] = ref(x, z);
                if (!is_flt(y.dtype) && y.dtype != PL_BOOL)
                    want[k] = trunc(want[k]);
            }
            ok = close_to(what, &y, want, tol, tol);
            free(want);
        }
        tv_free(&in[0]);
        tv_free(&in[1]);
        tv_free(&y);
    }
    return ok;
}

static void test_binary_float(void) {
    const pl_dtype types[] = {PL_FLOAT32, PL_FLOAT64, PL_FLOAT16};
    pl_attr fm = PL_ATTR_I("fmod", 1);
    for (int ti = 0; ti < 3; ti++) {
        pl_dtype t = types[ti];
        double tol = tol_of(t);
        PL_CHECK(check_binary("Add", NULL, 0, t, t, b_add, -3, 3, -3, 3, false, tol, 1));
        PL_CHECK(check_binary("Sub", NULL, 0, t, t, b_sub, -3, 3, -3, 3, false, tol, 2));
        PL_CHECK(check_binary("Mul", NULL, 0, t, t, b_mul, -3, 3, -3, 3, false, tol, 3));
        PL_CHECK(check_binary("Div", NULL, 0, t, t, b_div, -3, 3, 0.5, 2, false, tol, 4));
        PL_CHECK(check_binary("Pow", NULL, 0, t, t, b_pow, 0.5, 2, -2, 2, false, tol, 5));
        PL_CHECK(check_binary("Min", NULL, 0, t, t, b_min, -3, 3, -3, 3, false, tol, 6));
        PL_CHECK(check_binary("Max", NULL, 0, t, t, b_max, -3, 3, -3, 3, false, tol, 7));
        PL_CHECK(check_binary("Mod", &fm, 1, t, t, b_fmod, -10, 10, 1, 3, false, tol, 8));
        PL_CHECK(check_binary("PRelu", NULL, 0, t, t, b_prelu, -3, 3, 0, 1, false, tol, 9));
    }
    /* exponent of another dtype, and the x*x path for a scalar exponent 2 */
    PL_CHECK(check_binary("Pow", NULL, 0, PL_FLOAT32, PL_INT64, b_pow, 0.5, 2, -3, 3, false,
                          2e-6, 10));
    {
        const int64_t d[] = {3, 7};
        const double two = 2;
        pl__tview in[2] = {tv_rand(PL_FLOAT32, 2, d, -3, 3, 1), tv_vals(PL_FLOAT32, 0, NULL, &two)};
        pl__tview y;
        double want[21];
        for (int i = 0; i < 21; i++)
            want[i] = pow(((float *)in[0].data)[i], 2);
        PL_CHECK_OK(run_op("Pow", NULL, 0, 2, in, 1, &y));
        PL_CHECK(close_to("Pow x^2", &y, want, 1e-6, 1e-6));
        tv_free(&in[0]);
        tv_free(&in[1]);
        tv_free(&y);
    }
}

static void test_binary_int(void) {
    const pl_dtype types[] = {PL_INT64, PL_INT32};
    pl_attr fm = PL_ATTR_I("fmod", 1);
    for (int ti = 0; ti < 2; ti++) {
        pl_dtype t = types[ti];
        PL_CHECK(check_binary("Add", NULL, 0, t, t, b_add, -50, 50, -50, 50, false, 0, 21));
        PL_CHECK(check_binary("Sub", NULL, 0, t, t, b_sub, -50, 50, -50, 50, false, 0, 22));
        PL_CHECK(check_binary("Mul", NULL, 0, t, t, b_mul, -50, 50, -50, 50, false, 0, 23));
        PL_CHECK(check_binary("Div", NULL, 0, t, t, b_idiv, -50, 50, -7, 7, true, 0, 24));
        PL_CHECK(check_binary("Mod", NULL, 0, t, t, b_pymod, -50, 50, -7, 7, true, 0, 25));
        PL_CHECK(check_binary("Mod", &fm, 1, t, t, b_fmod, -50, 50, -7, 7, true, 0, 26));
        PL_CHECK(check_binary("Min", NULL, 0, t, t, b_min, -50, 50, -50, 50, false, 0, 27));
        PL_CHECK(check_binary("Max", NULL, 0, t, t, b_max, -50, 50, -50, 50, false, 0, 28));
        PL_CHECK(check_binary("Pow", NULL, 0, t, t, b_pow, -6, 6, 0, 4, false, 0, 29));
        PL_CHECK(check_binary("PRelu", NULL, 0, t, t, b_prelu, -50, 50, 0, 3, false, 0, 30));
    }
    PL_CHECK(check_binary("Add", NULL, 0, PL_UINT8, PL_UINT8, b_add, 0, 100, 0, 100, false, 0, 31));
    /* division and modulo by zero give 0 instead of trapping */
    {
        const int64_t d[] = {3};
        const double xv[] = {7, -7, INT64_MIN}, zv[] = {0, 0, -1}, wdiv[] = {0, 0, INT64_MIN};
        const double wmod[] = {0, 0, 0};
        pl__tview in[2] = {tv_vals(PL_INT64, 1, d, xv), tv_vals(PL_INT64, 1, d, zv)}, y;
        PL_CHECK_OK(run_op("Div", NULL, 0, 2, in, 1, &y));
        PL_CHECK(close_to("Div by zero", &y, wdiv, 0, 0));
        tv_free(&y);
        PL_CHECK_OK(run_op("Mod", NULL, 0, 2, in, 1, &y));
        PL_CHECK(close_to("Mod by zero", &y, wmod, 0, 0));
        tv_free(&y);
        tv_free(&in[0]);
        tv_free(&in[1]);
    }
}

static void test_compare_logical(void) {
    const char *ops[] = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"};
    const ref2_fn refs[] = {b_eq, b_lt, b_gt, b_le, b_ge};
    const pl_dtype types[] = {PL_FLOAT32, PL_INT64, PL_FLOAT64, PL_INT32, PL_FLOAT16};
    for (int o = 0; o < 5; o++)
        for (int t = 0; t < 5; t++) /* small integer values so that ties occur */
            PL_CHECK(check_binary(ops[o], NULL, 0, types[t], types[t], refs[o], -3, 3, -3, 3,
                                  false, 0, 40 + o));
    PL_CHECK(check_binary("Equal", NULL, 0, PL_BOOL, PL_BOOL, b_eq, -1, 1, -1, 1, false, 0, 50));
    PL_CHECK(check_binary("And", NULL, 0, PL_BOOL, PL_BOOL, b_and, -1, 1, -1, 1, false, 0, 51));
    PL_CHECK(check_binary("Or", NULL, 0, PL_BOOL, PL_BOOL, b_or, -1, 1, -1, 1, false, 0, 52));
    PL_CHECK(check_binary("Xor", NULL, 0, PL_BOOL, PL_BOOL, b_xor, -1, 1, -1, 1, false, 0, 53));
}

static void test_fused_activation(void) {
    const int64_t da[] = {2, 8, 5, 5}, db[] = {1, 8, 1, 1};
    pl_attr relu = PL_ATTR_S("activation", "Relu");
    pl_attr leaky[2] = {PL_ATTR_S("activation", "LeakyRelu"), PL_ATTR_F("activation_alpha", 0.1)};
    pl__tview in[2] = {tv_rand(PL_FLOAT32, 4, da, -3, 3, 61),
                       tv_rand(PL_FLOAT32, 4, db, -3, 3, 62)};
    pl__tview y;
    double want[400];
    for (int k = 0; k < 400; k++) {
        double v = ((float *)in[0].data)[k] + ((float *)in[1].data)[(k / 25) % 8];
        want[k] = v > 0 ? v : 0;
    }
    PL_CHECK_OK(run_op("Add", &relu, 1, 2, in, 1, &y));
    PL_CHECK(close_to("Add+Relu", &y, want, 1e-6, 1e-6));
    tv_free(&y);
    for (int k = 0; k < 400; k++) {
        double v = (double)((float *)in[0].data)[k] * ((float *)in[1].data)[(k / 25) % 8];
        want[k] = v >= 0 ? v : 0.1 * v;
    }
    PL_CHECK_OK(run_op("Mul", leaky, 2, 2, in, 1, &y));
    PL_CHECK(close_to("Mul+LeakyRelu", &y, want, 1e-6, 1e-6));
    tv_free(&y);
    tv_free(&in[0]);
    tv_free(&in[1]);
    /* long same-shape operands collapse to one run, which is cut into segments for the threads;
     * the fused activation must cover every segment */
    {
        const int64_t dl[] = {5, 10007};
        pl__tview l2[2] = {tv_rand(PL_FLOAT32, 2, dl, -3, 3, 63),
                           tv_rand(PL_FLOAT32, 2, dl, -3, 3, 64)};
        double *wl = malloc(sizeof(double) * 50035);
        for (int k = 0; k < 50035; k++) {
            double v = (double)((float *)l2[0].data)[k] + ((float *)l2[1].data)[k];
            wl[k] = v > 0 ? v : 0;
        }
        PL_CHECK_OK(run_op("Add", &relu, 1, 2, l2, 1, &y));
        PL_CHECK(close_to("long Add+Relu", &y, wl, 1e-6, 1e-6));
        free(wl);
        tv_free(&y);
        tv_free(&l2[0]);
        tv_free(&l2[1]);
    }
    /* the helper Conv/Gemm call directly */
    {
        pl__layer l;
        pl_attr clip[3] = {PL_ATTR_S("activation", "Clip"), PL_ATTR_F("activation_alpha", 0),
                           PL_ATTR_F("activation_beta", 6)};
        float x[4] = {-1, 3, 7, 6};
        memset(&l, 0, sizeof(l));
        PL_CHECK_OK(pl__attrs_copy(&l.attrs, clip, 3));
        pl__cpu_fused_activation(&l, x, 4);
        PL_CHECK(x[0] == 0 && x[1] == 3 && x[2] == 6 && x[3] == 6);
        pl__attrs_free(&l.attrs);
    }
}

/* ---- variadic ------------------------------------------------------------------------------ */

static void check_variadic(const char *op, pl_dtype t, int nin, double tol) {
    static const int64_t dims[4][3] = {{2, 3, 4}, {4, 0, 0}, {3, 1, 0}, {1, 1, 1}};
    static const int ranks[4] = {3, 1, 2, 3};
    pl__tview in[4], y;
    int64_t n;
    double *want;
    int ok;
    for (int i = 0; i < nin; i++)
        in[i] = tv_rand(t, ranks[i], dims[i], -5, 5, 70 + i);
    ok = run_op(op, NULL, 0, nin, in, 1, &y) == PL_OK;
    if (!ok)
        fprintf(stderr, "%s: %s\n", op, pl_errmsg());
    PL_CHECK(ok && y.rank == 3 && y.dims[0] == 2 && y.dims[1] == 3 && y.dims[2] == 4);
    n = pl__tview_numel(&y);
    want = malloc(sizeof(double) * (size_t)n);
    for (int64_t k = 0; ok && k < n; k++) {
        double acc = pl__get_f64(in[0].data, t, bidx(&y, k, &in[0]));
        for (int i = 1; i < nin; i++) {
            double v = pl__get_f64(in[i].data, t, bidx(&y, k, &in[i]));
            acc = strcmp(op, "Min") == 0 ? fmin(acc, v) : strcmp(op, "Max") == 0 ? fmax(acc, v)
                                                                                 : acc + v;
        }
        want[k] = strcmp(op, "Mean") == 0 ? acc / nin : acc;
        if (!is_flt(t))
            want[k] = trunc(want[k]);
    }
    if (ok)
        PL_CHECK(close_to(op, &y, want, tol, tol));
    free(want);
    for (int i = 0; i < nin; i++)
        tv_free(&in[i]);
    tv_free(&y);
}

static void test_variadic(void) {
    const char *ops[] = {"Sum", "Mean", "Min", "Max"};
    for (int o = 0; o < 4; o++) {
        check_variadic(ops[o], PL_FLOAT32, 1, 1e-6);
        check_variadic(ops[o], PL_FLOAT32, 2, 1e-6);
        check_variadic(ops[o], PL_FLOAT32, 4, 1e-6);
        check_variadic(ops[o], PL_INT64, 3, 0);
        check_variadic(ops[o], PL_FLOAT64, 3, 1e-12);
        check_variadic(ops[o], PL_FLOAT16, 3, 4e-3);
    }
}

/* ---- Where --------------------------------------------------------------------------------- */

static void test_where(void) {
    const pl_dtype types[] = {PL_FLOAT32, PL_INT64, PL_FLOAT16, PL_BOOL, PL_INT32, PL_FLOAT64};
    const int64_t dc[] = {2, 1, 4}, dx[] = {3, 1}, dbig[] = {6, 5000};
    for (int t = 0; t < 6; t++) {
        for (int big = 0; big < 2; big++) {
            pl__tview in[3], y;
            int64_t n;
            double *want;
            in[0] = tv_rand(PL_BOOL, big ? 2 : 3, big ? dbig : dc, -1, 1, 80 + t);
            in[1] = tv_rand(types[t], big ? 2 : 2, big ? dbig : dx, -9, 9, 90 + t);
            in[2] = tv_rand(types[t], 0, NULL, -9, 9, 95 + t);
            PL_CHECK_OK(run_op("Where", NULL, 0, 3, in, 1, &y));
            n = pl__tview_numel(&y);
            PL_CHECK(n == (big ? 30000 : 24) && y.dtype == types[t]);
            want = malloc(sizeof(double) * (size_t)n);
            for (int64_t k = 0; k < n; k++)
                want[k] = ((uint8_t *)in[0].data)[bidx(&y, k, &in[0])]
                              ? pl__get_f64(in[1].data, types[t], bidx(&y, k, &in[1]))
                              : pl__get_f64(in[2].data, types[t], 0);
            PL_CHECK(close_to("Where", &y, want, 0, 0));
            free(want);
            for (int i = 0; i < 3; i++)
                tv_free(&in[i]);
            tv_free(&y);
        }
    }
}

/* ---- Cast ---------------------------------------------------------------------------------- */

/* The documented conversion rules: float -> integer truncates and saturates, integer ->
 * narrower integer wraps, anything -> bool is (v != 0). */
static double cast_ref(double v, pl_dtype st, pl_dtype dt) {
    if (dt == PL_BOOL)
        return v != 0;
    if (is_flt(dt)) {
        char buf[8];
        pl__set_f64(buf, dt, 0, v);
        return pl__get_f64(buf, dt, 0);
    }
    if (is_flt(st)) {
        double lo = dt == PL_INT8 ? -128 : dt == PL_UINT8 ? 0 : dt == PL_INT32 ? -2147483648.0
                                                                                : -0x1p63;
        double hi = dt == PL_INT8 ? 127 : dt == PL_UINT8 ? 255 : dt == PL_INT32 ? 2147483647.0
                                                                                 : 0x1p63;
        v = trunc(v);
        return v < lo ? lo : v > hi ? hi : v;
    }
    switch (dt) {
    case PL_INT8: return (int8_t)(uint8_t)(int64_t)v;
    case PL_UINT8: return (uint8_t)(int64_t)v;
    case PL_INT32: return (int32_t)(int64_t)v;
    default: return v;
    }
}

static void test_cast(void) {
    const pl_dtype types[] = {PL_FLOAT32, PL_FLOAT16, PL_BFLOAT16, PL_FLOAT64, PL_INT8,
                              PL_UINT8,   PL_INT32,   PL_INT64,    PL_BOOL};
    const double vals[] = {0, 1, 2.5, -3.75, 100, 7.25, -0.5, 42, 300, -200, 1e10, -1};
    const int64_t d[] = {12};
    int bad = 0;
    for (int s = 0; s < 9; s++) {
        pl__tview x = tv_new(types[s], 1, d);
        for (int i = 0; i < 12; i++) /* sources hold the values their type can represent */
            pl__set_f64(x.data, types[s], i, cast_ref(vals[i], PL_FLOAT64, types[s]));
        for (int t = 0; t < 9; t++) {
            pl_attr to = PL_ATTR_I("to", types[t]);
            pl__tview y;
            double want[12];
            char what[64];
            for (int i = 0; i < 12; i++)
                want[i] = cast_ref(pl__get_f64(x.data, types[s], i), types[s], types[t]);
            snprintf(what, sizeof(what), "Cast %s->%s", pl_dtype_name(types[s]),
                     pl_dtype_name(types[t]));
            if (run_op("Cast", &to, 1, 1, &x, 1, &y) != PL_OK || y.dtype != types[t] ||
                !close_to(what, &y, want, 0, 0))
                bad++;
            tv_free(&y);
        }
        tv_free(&x);
    }
    PL_CHECK(bad == 0);
    {
        pl__tview in[2] = {tv_vals(PL_FLOAT32, 1, d, vals), tv_new(PL_INT64, 0, NULL)}, y;
        double want[12];
        for (int i = 0; i < 12; i++)
            want[i] = cast_ref(vals[i], PL_FLOAT32, PL_INT64);
        PL_CHECK_OK(run_op("CastLike", NULL, 0, 2, in, 1, &y));
        PL_CHECK(y.dtype == PL_INT64 && close_to("CastLike", &y, want, 0, 0));
        tv_free(&in[0]);
        tv_free(&in[1]);
        tv_free(&y);
    }
    {
        pl_attr to = PL_ATTR_I("to", PL_FLOAT32);
        pl__tview x = tv_vals(PL_INT64, 1, d, vals), y;
        PL_CHECK_OK(run_op("Identity", NULL, 0, 1, &x, 1, &y));
        PL_CHECK(y.dtype == PL_INT64 && memcmp(x.data, y.data, 96) == 0);
        tv_free(&y);
        to.i = 999;
        PL_CHECK_FAILS(run_op("Cast", &to, 1, 1, &x, 1, &y), PL_ERR_UNSUPPORTED, "'t1'");
        PL_CHECK_FAILS(run_op("Cast", NULL, 0, 1, &x, 1, &y), PL_ERR_SHAPE, "'to'");
        tv_free(&x);
    }
}

/* The Cast kernel's float16/bfloat16 conversions are branch-free bit manipulation; compare them
 * bit for bit with the scalar converters of core (which the rest of plinth uses): every float16
 * and bfloat16 pattern one way, 2^20 random float32 patterns plus the edge cases the other. */
static void test_half_conversions(void) {
    const int64_t nh = 65536, nf = (1 << 20) + 16;
    const uint32_t edges[16] = {0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00001,
                                0x477fefff, 0x477ff000, 0x47800000, 0x38800000, 0x387fffff,
                                0x33000000, 0x33000001, 0x00000001, 0x3f800000, 0x7f7fffff,
                                0xb8000000};
    pl__tview h = tv_new(PL_FLOAT16, 1, &nh), f = tv_new(PL_FLOAT32, 1, &nf), y;
    pl_attr to32 = PL_ATTR_I("to", PL_FLOAT32), to16 = PL_ATTR_I("to", PL_FLOAT16);
    pl_attr tobf = PL_ATTR_I("to", PL_BFLOAT16);
    uint64_t st = 0x9E3779B97F4A7C15ull;
    int bad = 0;
    for (int64_t i = 0; i < nh; i++)
        ((uint16_t *)h.data)[i] = (uint16_t)i;
    for (int pass = 0; pass < 2; pass++) { /* float16, then the same bits as bfloat16 */
        h.dtype = pass ? PL_BFLOAT16 : PL_FLOAT16;
        PL_CHECK_OK(run_op("Cast", &to32, 1, 1, &h, 1, &y));
        for (int64_t i = 0; i < nh && y.data; i++) {
            float w = pass ? pl__bf16_to_float((uint16_t)i) : pl__half_to_float((uint16_t)i);
            float g = ((float *)y.data)[i];
            if (memcmp(&w, &g, 4) != 0 && !(w != w && g != g) && bad++ < 3)
                fprintf(stderr, "%s 0x%04x: got %.9g, expected %.9g\n", pass ? "bf16" : "f16",
                        (unsigned)i, g, w);
        }
        tv_free(&y);
    }
    for (int64_t i = 0; i < nf; i++) {
        uint32_t bits;
        st ^= st >> 12, st ^= st << 25, st ^= st >> 27;
        bits = i < 16 ? edges[i] : (uint32_t)((st * 0x2545F4914F6CDD1Dull) >> 32);
        memcpy((float *)f.data + i, &bits, 4);
    }
    for (int pass = 0; pass < 2; pass++) {
        PL_CHECK_OK(run_op("Cast", pass ? &tobf : &to16, 1, 1, &f, 1, &y));
        for (int64_t i = 0; i < nf && y.data; i++) {
            float v = ((float *)f.data)[i];
            uint16_t w = pass ? pl__float_to_bf16(v) : pl__float_to_half(v);
            uint16_t g = ((uint16_t *)y.data)[i];
            bool nan_ok = v != v && (g & 0x7fff) > (pass ? 0x7f80 : 0x7c00);
            if (g != w && !nan_ok && bad++ < 6)
                fprintf(stderr, "to %s %.9g: got 0x%04x, expected 0x%04x\n",
                        pass ? "bf16" : "f16", v, g, w);
        }
        tv_free(&y);
    }
    PL_CHECK(bad == 0);
    tv_free(&h);
    tv_free(&f);
}

/* ---- errors -------------------------------------------------------------------------------- */

static void test_errors(void) {
    const int64_t d23[] = {2, 3}, d43[] = {4, 3};
    pl__tview a = tv_rand(PL_FLOAT32, 2, d23, 0, 1, 1), b = tv_rand(PL_FLOAT32, 2, d43, 0, 1, 2);
    pl__tview i64 = tv_rand(PL_INT64, 2, d23, 0, 9, 3), bl = tv_rand(PL_BOOL, 2, d23, -1, 1, 4);
    pl__tview in[3], y;
    pl_attr bad = PL_ATTR_S("approximate", "erf");
    pl_attr fm = PL_ATTR_I("fmod", 2);
    in[0] = a, in[1] = b;
    PL_CHECK_FAILS(run_op("Add", NULL, 0, 2, in, 1, &y), PL_ERR_SHAPE, "node 't1' (Add)");
    PL_CHECK_FAILS(run_op("Add", NULL, 0, 2, in, 1, &y), PL_ERR_SHAPE, "do not broadcast");
    PL_CHECK_FAILS(run_op("Less", NULL, 0, 2, in, 1, &y), PL_ERR_SHAPE, "(Less)");
    in[2] = b;
    PL_CHECK_FAILS(run_op("Sum", NULL, 0, 3, in, 1, &y), PL_ERR_SHAPE, "node 't1' (Sum)");
    in[0] = bl, in[1] = a, in[2] = b;
    PL_CHECK_FAILS(run_op("Where", NULL, 0, 3, in, 1, &y), PL_ERR_SHAPE, "do not broadcast");
    in[0] = a, in[1] = i64;
    PL_CHECK_FAILS(run_op("Add", NULL, 0, 2, in, 1, &y), PL_ERR_SHAPE, "types differ");
    PL_CHECK_FAILS(run_op("Exp", NULL, 0, 1, &i64, 1, &y), PL_ERR_UNSUPPORTED,
                   "node 't1' (Exp): dtype int64 not supported");
    PL_CHECK_FAILS(run_op("Sigmoid", NULL, 0, 1, &bl, 1, &y), PL_ERR_UNSUPPORTED, "bool");
    in[0] = a, in[1] = a;
    PL_CHECK_FAILS(run_op("And", NULL, 0, 2, in, 1, &y), PL_ERR_UNSUPPORTED, "(And)");
    in[0] = a, in[1] = a, in[2] = a;
    PL_CHECK_FAILS(run_op("Where", NULL, 0, 3, in, 1, &y), PL_ERR_UNSUPPORTED, "(Where)");
    PL_CHECK_FAILS(run_op("Gelu", &bad, 1, 1, &a, 1, &y), PL_ERR_SHAPE, "approximate");
    PL_CHECK_FAILS(run_op("Mod", &fm, 1, 2, in, 1, &y), PL_ERR_SHAPE, "fmod");
    in[1].dtype = PL_DTYPE_INVALID;
    PL_CHECK_FAILS(run_op("Mul", NULL, 0, 2, in, 1, &y), PL_ERR_SHAPE, "input 1 is required");
    tv_free(&a);
    tv_free(&b);
    tv_free(&i64);
    tv_free(&bl);
}

/* Not a check: prints the float32 throughput of the hot paths, for the record. */
static void test_speed(void) {
    const int64_t da[] = {8, 64, 56, 56}, db[] = {1, 64, 1, 1};
    pl__tview in[2] = {tv_rand(PL_FLOAT32, 4, da, -1, 1, 1), tv_rand(PL_FLOAT32, 4, da, -1, 1, 2)};
    pl__tview bias = tv_rand(PL_FLOAT32, 4, db, -1, 1, 3), y;
    pl_attr relu = PL_ATTR_S("activation", "Relu");
    double t0, t1, t2, t3;
    const int reps = 5;
    t0 = pl__cpu_backend.now_ms(g_bctx);
    for (int r = 0; r < reps; r++) {
        PL_CHECK_OK(run_op("Add", &relu, 1, 2, in, 1, &y));
        tv_free(&y);
    }
    t1 = pl__cpu_backend.now_ms(g_bctx);
    tv_free(&in[1]);
    in[1] = bias;
    for (int r = 0; r < reps; r++) {
        PL_CHECK_OK(run_op("Mul", NULL, 0, 2, in, 1, &y));
        tv_free(&y);
    }
    t2 = pl__cpu_backend.now_ms(g_bctx);
    for (int r = 0; r < reps; r++) {
        PL_CHECK_OK(run_op("Sigmoid", NULL, 0, 1, in, 1, &y));
        tv_free(&y);
    }
    t3 = pl__cpu_backend.now_ms(g_bctx);
    printf("     speed (1.6M floats, incl. alloc): Add+Relu %.2f ms, Mul by [1,C,1,1] %.2f ms, "
           "Sigmoid %.2f ms\n", (t1 - t0) / reps, (t2 - t1) / reps, (t3 - t2) / reps);
    tv_free(&in[0]);
    tv_free(&bias);
}

int main(int argc, char **argv) {
    if (pl__cpu_backend.create(&g_bctx) != PL_OK) {
        fprintf(stderr, "cannot create the CPU backend: %s\n", pl_errmsg());
        return 1;
    }
    PL_RUN(test_unary_float);
    PL_RUN(test_exp_tanh_accuracy);
    PL_RUN(test_gelu_tanh);
    PL_RUN(test_unary_int);
    PL_RUN(test_isnan_isinf_not);
    PL_RUN(test_clip);
    PL_RUN(test_binary_float);
    PL_RUN(test_binary_int);
    PL_RUN(test_compare_logical);
    PL_RUN(test_fused_activation);
    PL_RUN(test_variadic);
    PL_RUN(test_where);
    PL_RUN(test_cast);
    PL_RUN(test_half_conversions);
    PL_RUN(test_errors);
    /* timings are printed for the record with --speed; they assert nothing, so they are no test
     * case (measurements belong to bench/) */
    if (argc > 1 && strcmp(argv[1], "--speed") == 0)
        test_speed();
    pl__cpu_backend.destroy(g_bctx);
    return pl_test_report();
}
