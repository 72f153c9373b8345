/*
 * test-cuda-dtypes.c - the GPU's elementwise, Pow, CumSum and Reduce* kernels on what used to
 * fall back to the CPU inside CUDA engines: int8/uint8 arithmetic and comparisons (wraparound,
 * broadcasting, Div by zero), Clip on int8/uint8, float64 binary ops and reductions, bfloat16
 * activations and arithmetic, Pow with mixed base/exponent types, float64 CumSum, Reduce* with
 * axes fed at run time, and reductions over an empty extent.
 *
 * Each case is a one-layer network on random inputs (fixed seeds) run on the CPU backend and on
 * the GPU (three runs there, which must agree byte for byte), compared on the raw output bytes:
 * integers and bools exactly; float64 within relative L2 1e-12; float32 1e-5; float16 1e-3;
 * bfloat16 element by element within 1e-2 relative (two bfloat16 ulps: both sides compute in
 * float32 with different exp/expm1 implementations, and a last-bit difference can round to the
 * neighbouring bfloat16); non-finite values (inf, NaN) must match exactly. Each case also checks
 * that the layer did not fall back to the CPU. Without a GPU every case prints "skipped: no CUDA
 * device" and passes. The cases, the runner and the raw comparison are test-cuda-util.h's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test-cuda-util.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* An int64 rank-1 slot holding the given values (Reduce axes); as a graph input, a shape-value
 * one (the engine learns the axes at run time, the profile gives their values). */
static pl_tc_slot *add_axes(pl_tc_case *l, int kind, const int64_t *v, int n) {
    pl_tc_slot *s = pl_tc_add(l, kind, PL_INT64, 1, D(n), v);
    if (kind == PL_TC_INPUT)
        l->in[s->g].values = true;
    return s;
}

/* The comparison of the file's header comment. */
static int same_output(const char *what, const pl_tc_out *got, const pl_tc_out *ref, int k,
                       const void *arg) {
    pl_dtype t = ref->dtype[k];
    double tol = t == PL_FLOAT64 ? 1e-12 : t == PL_FLOAT16 ? 1e-3 : 1e-5;
    (void)arg;
    return pl_tc_same_raw(what, got, ref, k, tol, t == PL_BFLOAT16 ? 1e-2 : 0);
}

/* CPU vs GPU on l, and no CPU fallback inside the GPU engine. Frees l's data. */
static void check(const char *what, pl_tc_case *l) {
    pl_tc_check(what, l, false, same_output, NULL);
    pl_tc_case_free(l);
}

/* ---- int8 / uint8 ---- */

static void test_int8_binary(void) {
    static const char *const ops[] = {"Add",     "Sub",          "Mul",
                                      "Div",     "Equal",        "Less",
                                      "Greater", "LessOrEqual",  "GreaterOrEqual",
                                      "Max",     "Min"};
    static const pl_dtype types[] = {PL_INT8, PL_UINT8};
    PL_TC_NEED_GPU();
    for (int ti = 0; ti < 2; ti++) {
        pl_dtype t = types[ti];
        int64_t lo = t == PL_INT8 ? -128 : 0, hi = t == PL_INT8 ? 127 : 255;
        for (int oi = 0; oi < NELEM(ops); oi++) {
            for (int bc = 0; bc < 2; bc++) {
                pl_tc_case l = {.op = ops[oi]};
                pl_tc_slot *a, *b;
                char what[96];
                if (bc) { /* [3, 1, 5] with [4, 1] -> [3, 4, 5] */
                    a = pl_tc_ints(&l, PL_TC_INPUT, t, 3, D(3, 1, 5), lo, hi);
                    b = pl_tc_ints(&l, PL_TC_INPUT, t, 2, D(4, 1), lo, hi);
                } else { /* full-range operands: sums and products wrap */
                    a = pl_tc_ints(&l, PL_TC_INPUT, t, 3, D(3, 4, 5), lo, hi);
                    b = pl_tc_ints(&l, PL_TC_INPUT, t, 3, D(3, 4, 5), lo, hi);
                }
                if (strcmp(ops[oi], "Div") == 0 || strcmp(ops[oi], "Equal") == 0) {
                    /* division by zero gives 0 (the CPU's choice), -128 / -1 wraps; equal
                     * pairs for Equal */
                    int64_t nb = pl_tc_numel(b->rank, b->dims);
                    for (int64_t i = 0; i < nb; i += 3)
                        pl_tc_set(b, i, 0);
                    pl_tc_set(a, 0, lo);
                    pl_tc_set(b, 0, t == PL_INT8 ? -1 : 1);
                    pl_tc_set(a, 1, 7);
                    pl_tc_set(b, 1, 7);
                }
                snprintf(what, sizeof(what), "%s %s%s", ops[oi], pl_dtype_name(t),
                         bc ? " broadcast" : "");
                check(what, &l);
            }
        }
        for (int m = 0; m < 2; m++) { /* variadic Max / Min over three inputs */
            pl_tc_case l = {.op = m ? "Max" : "Min"};
            char what[64];
            pl_tc_ints(&l, PL_TC_INPUT, t, 2, D(6, 7), lo, hi);
            pl_tc_ints(&l, PL_TC_INPUT, t, 1, D(7), lo, hi);
            pl_tc_ints(&l, PL_TC_INPUT, t, 2, D(6, 1), lo, hi);
            snprintf(what, sizeof(what), "%s %s of three", l.op, pl_dtype_name(t));
            check(what, &l);
        }
    }
}

static void test_int8_clip(void) {
    static const pl_dtype types[] = {PL_INT8, PL_UINT8};
    PL_TC_NEED_GPU();
    for (int ti = 0; ti < 2; ti++) {
        pl_dtype t = types[ti];
        int64_t lo = t == PL_INT8 ? -128 : 0, hi = t == PL_INT8 ? 127 : 255;
        /* bounds: both, min only, max only, min > max (everything becomes max) */
        static const int64_t b8[4][2] = {{-50, 60}, {-20, 0}, {0, 33}, {40, -10}};
        static const int64_t bu[4][2] = {{30, 200}, {100, 0}, {0, 77}, {150, 90}};
        for (int c = 0; c < 4; c++) {
            pl_tc_case l = {.op = "Clip"};
            const int64_t *bb = t == PL_INT8 ? b8[c] : bu[c];
            char what[64];
            pl_tc_ints(&l, PL_TC_INPUT, t, 2, D(9, 13), lo, hi);
            if (c == 2)
                pl_tc_add(&l, PL_TC_NONE, t, 0, NULL, NULL);
            else
                pl_tc_set(pl_tc_add(&l, PL_TC_CONST, t, 0, NULL, NULL), 0, bb[0]);
            if (c != 1)
                pl_tc_set(pl_tc_add(&l, PL_TC_CONST, t, 0, NULL, NULL), 0, bb[1]);
            snprintf(what, sizeof(what), "Clip %s case %d", pl_dtype_name(t), c);
            check(what, &l);
        }
    }
}

/* ---- float64 ---- */

static void test_f64_elementwise(void) {
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Less"};
    PL_TC_NEED_GPU();
    for (int oi = 0; oi < NELEM(ops); oi++) {
        for (int bc = 0; bc < 2; bc++) {
            pl_tc_case l = {.op = ops[oi]};
            bool pw = strcmp(ops[oi], "Pow") == 0;
            pl_tc_slot *a;
            char what[64];
            if (bc) {
                a = pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 3, D(2, 5, 1), pw ? 0.1 : -3, 3);
                pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(1, 6), -3, 3);
            } else {
                a = pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(10, 33), pw ? 0.1 : -3, 3);
                pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(10, 33), -3, 3);
            }
            if (ops[oi][0] == 'M' && ops[oi][1] != 'u') /* Max / Min: NaN wins */
                pl_tc_set(a, 1, NAN);
            snprintf(what, sizeof(what), "%s float64%s", ops[oi], bc ? " broadcast" : "");
            check(what, &l);
        }
    }
    for (int m = 0; m < 3; m++) { /* variadic over three inputs */
        static const char *const vops[] = {"Max", "Min", "Sum"};
        pl_tc_case l = {.op = vops[m]};
        char what[64];
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(6, 7), -3, 3);
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 1, D(7), -3, 3);
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(6, 1), -3, 3);
        snprintf(what, sizeof(what), "%s float64 of three", vops[m]);
        check(what, &l);
    }
    {
        pl_tc_case l = {.op = "Mean"};
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(6, 7), -3, 3);
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(6, 7), -3, 3);
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(6, 7), -3, 3);
        check("Mean float64 of three", &l);
    }
    for (int u = 0; u < 4; u++) { /* a few unary ops and Clip with float64 bounds */
        static const char *const uops[] = {"Exp", "Tanh", "Elu", "Clip"};
        pl_tc_case l = {.op = uops[u]};
        char what[64];
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 2, D(17, 19), -4, 4);
        if (u == 2) {
            l.nat = 1;
            l.at[0] = PL_ATTR_F("alpha", 0.3);
        }
        if (u == 3) {
            pl_tc_set(pl_tc_add(&l, PL_TC_CONST, PL_FLOAT64, 0, NULL, NULL), 0, -1.25);
            pl_tc_set(pl_tc_add(&l, PL_TC_CONST, PL_FLOAT64, 0, NULL, NULL), 0, 2.1);
        }
        snprintf(what, sizeof(what), "%s float64", uops[u]);
        check(what, &l);
    }
}

/* ---- bfloat16 ---- */

static void test_bf16(void) {
    static const char *const ops[] = {"Elu", "Celu", "Mul", "Div", "Add", "Max", "Relu", "Sigmoid"};
    PL_TC_NEED_GPU();
    for (int oi = 0; oi < NELEM(ops); oi++) {
        for (int v = 0; v < 2; v++) {
            pl_tc_case l = {.op = ops[oi]};
            bool unary = oi < 2 || oi >= 6;
            char what[64];
            if (unary) {
                pl_tc_uniform(&l, PL_TC_INPUT, PL_BFLOAT16, 3, D(4, 9, 11), -4, 3);
                if (v && oi < 2) {
                    l.nat = 1;
                    l.at[0] = PL_ATTR_F("alpha", oi == 0 ? 0.5 : 0.7);
                }
            } else if (v) { /* broadcast */
                pl_tc_uniform(&l, PL_TC_INPUT, PL_BFLOAT16, 3, D(4, 9, 1), -4, 4);
                pl_tc_uniform(&l, PL_TC_INPUT, PL_BFLOAT16, 2, D(1, 11), 0.25, 4);
            } else {
                pl_tc_uniform(&l, PL_TC_INPUT, PL_BFLOAT16, 2, D(12, 35), -4, 4);
                pl_tc_uniform(&l, PL_TC_INPUT, PL_BFLOAT16, 2, D(12, 35), 0.25, 4);
            }
            snprintf(what, sizeof(what), "%s bfloat16%s", ops[oi],
                     v ? (unary ? " alpha" : " broadcast") : "");
            if (unary && v && oi >= 6) { /* Relu / Sigmoid have no alpha */
                pl_tc_case_free(&l);
                continue;
            }
            check(what, &l);
        }
    }
}

/* ---- Pow with mixed types ---- */

static void test_pow_mixed(void) {
    static const struct {
        pl_dtype base, exp;
    } cs[] = {{PL_FLOAT32, PL_INT32}, {PL_FLOAT32, PL_INT64}, {PL_INT32, PL_FLOAT32},
              {PL_INT32, PL_INT32},   {PL_INT64, PL_FLOAT32}, {PL_INT64, PL_INT64}};
    PL_TC_NEED_GPU();
    for (int c = 0; c < NELEM(cs); c++) {
        for (int bc = 0; bc < 2; bc++) {
            pl_tc_case l = {.op = "Pow"};
            const int64_t *bd = bc ? D(5, 1, 4) : D(6, 20), *ed = bc ? D(3, 1) : D(6, 20);
            int br = bc ? 3 : 2, er = 2;
            pl_tc_slot *b, *e;
            char what[96];
            if (cs[c].base == PL_FLOAT32) {
                b = pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT32, br, bd, -2, 2);
                e = pl_tc_ints(&l, PL_TC_INPUT, cs[c].exp, er, ed, -3, 5);
            } else {
                b = pl_tc_ints(&l, PL_TC_INPUT, cs[c].base, br, bd, -6, 9);
                if (cs[c].exp == PL_FLOAT32) {
                    /* integer-valued exponents (exact integer powers, which truncation must not
                     * lose) and fractional ones (non-integers; NaN for negative bases -> 0) */
                    e = pl_tc_add(&l, PL_TC_INPUT, PL_FLOAT32, er, ed, NULL);
                    for (int64_t i = 0; i < pl_tc_numel(er, ed); i++)
                        pl_tc_set(e, i, i % 2 ? (double)pl_tc_rnd_int(0, 6) : pl_tc_rnd_real(0, 3));
                } else {
                    /* 0 ^ negative is inf: saturates */
                    e = pl_tc_ints(&l, PL_TC_INPUT, cs[c].exp, er, ed,
                                   cs[c].base == PL_INT64 ? -2 : 0,
                                   cs[c].base == PL_INT64 ? 12 : 9);
                }
            }
            if (cs[c].base == PL_FLOAT32) /* no 0 base: 0 ^ negative is inf on both, but a
                                           * value that should be tiny would hide the check */
                for (int64_t i = 0; i < pl_tc_numel(br, bd); i++)
                    if (fabs(((float *)b->data)[i]) < 0.1f)
                        ((float *)b->data)[i] = 0.5f;
            (void)e;
            snprintf(what, sizeof(what), "Pow %s ^ %s%s", pl_dtype_name(cs[c].base),
                     pl_dtype_name(cs[c].exp), bc ? " broadcast" : "");
            check(what, &l);
        }
    }
    {
        /* a scalar exponent 2 (the CPU's x * x) */
        pl_tc_case l = {.op = "Pow"};
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT32, 2, D(8, 9), -3, 3);
        pl_tc_set(pl_tc_add(&l, PL_TC_CONST, PL_INT64, 0, NULL, NULL), 0, 2);
        check("Pow float32 ^ int64 scalar 2", &l);
    }
}

/* ---- CumSum float64 ---- */

static void test_cumsum_f64(void) {
    PL_TC_NEED_GPU();
    for (int c = 0; c < 6; c++) {
        pl_tc_case l = {.op = "CumSum", .nat = 2};
        int64_t axis = c < 4 ? 1 : c == 4 ? 0 : -1;
        char what[96];
        l.at[0] = PL_ATTR_I("exclusive", c & 1);
        l.at[1] = PL_ATTR_I("reverse", (c >> 1) & 1);
        pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, 3, D(5, 33, 7), -2, 2);
        pl_tc_set(pl_tc_add(&l, PL_TC_CONST, PL_INT64, 0, NULL, NULL), 0, axis);
        snprintf(what, sizeof(what), "CumSum float64 axis %lld exclusive %d reverse %d",
                 (long long)axis, c & 1, (c >> 1) & 1);
        check(what, &l);
    }
}

/* ---- Reduce* ---- */

static const char *const reduce_ops[] = {"ReduceSum",  "ReduceMean",      "ReduceMax",
                                         "ReduceMin",  "ReduceProd",      "ReduceL1",
                                         "ReduceL2",   "ReduceSumSquare", "ReduceLogSum",
                                         "ReduceLogSumExp"};

/* Data each op is well conditioned on: products near 1, positive sums for LogSum. */
static void reduce_range(const char *op, double *lo, double *hi) {
    *lo = -3;
    *hi = 3;
    if (strcmp(op, "ReduceProd") == 0) {
        *lo = 0.95;
        *hi = 1.05;
    } else if (strcmp(op, "ReduceLogSum") == 0) {
        *lo = 0.1;
    }
}

/* Axes as a graph input: the engine learns them at run time (the profile gives the values). */
static void test_reduce_runtime_axes(void) {
    static const struct {
        const char *op;
        pl_dtype t;
        int rank;
        int64_t dims[4], axes[2];
        int naxes, keep;
    } cs[] = {{"ReduceSum", PL_FLOAT32, 3, {4, 5, 6}, {1}, 1, 1},
              {"ReduceMean", PL_FLOAT32, 3, {4, 5, 6}, {0, 2}, 2, 0},
              {"ReduceMax", PL_FLOAT32, 4, {2, 3, 4, 5}, {-1}, 1, 0},
              {"ReduceLogSumExp", PL_FLOAT32, 3, {3, 7, 5}, {1, 2}, 2, 1},
              {"ReduceL2", PL_FLOAT32, 4, {2, 3, 4, 5}, {3, 1}, 2, 1},
              {"ReduceSum", PL_FLOAT64, 3, {4, 5, 6}, {0, 2}, 2, 1},
              {"ReduceMin", PL_FLOAT64, 2, {9, 200}, {1}, 1, 0}};
    PL_TC_NEED_GPU();
    for (int c = 0; c < NELEM(cs); c++) {
        pl_tc_case l = {.op = cs[c].op, .nat = 1};
        char what[128];
        double lo, hi;
        reduce_range(cs[c].op, &lo, &hi);
        l.at[0] = PL_ATTR_I("keepdims", cs[c].keep);
        pl_tc_uniform(&l, PL_TC_INPUT, cs[c].t, cs[c].rank, cs[c].dims, lo, hi);
        add_axes(&l, PL_TC_INPUT, cs[c].axes, cs[c].naxes);
        snprintf(what, sizeof(what), "%s %s run-time axes [%lld%s] keepdims %d", cs[c].op,
                 pl_dtype_name(cs[c].t), (long long)cs[c].axes[0],
                 cs[c].naxes > 1 ? ", ..." : "", cs[c].keep);
        check(what, &l);
    }
}

/* Reductions over an extent of 0: every op's identity, as the CPU computes it. */
static void test_reduce_empty(void) {
    PL_TC_NEED_GPU();
    for (int oi = 0; oi < NELEM(reduce_ops); oi++) {
        for (int v = 0; v < 2; v++) {
            pl_tc_case l = {.op = reduce_ops[oi], .nat = 1};
            char what[96];
            l.at[0] = PL_ATTR_I("keepdims", 1);
            if (v == 0) { /* [3, 0, 4] over axis 1 */
                pl_tc_add(&l, PL_TC_INPUT, PL_FLOAT32, 3, D(3, 0, 4), NULL);
                add_axes(&l, PL_TC_CONST, D(1), 1);
            } else { /* [0, 3, 5] over axes 0 and 2 (not one block), float64 */
                pl_tc_add(&l, PL_TC_INPUT, PL_FLOAT64, 3, D(0, 3, 5), NULL);
                add_axes(&l, PL_TC_CONST, D(0, 2), 2);
            }
            snprintf(what, sizeof(what), "%s empty %s", reduce_ops[oi],
                     v ? "float64 scattered axes" : "float32");
            check(what, &l);
        }
    }
    {
        pl_tc_case l = {.op = "ReduceMax", .nat = 1};
        l.at[0] = PL_ATTR_I("keepdims", 0);
        pl_tc_add(&l, PL_TC_INPUT, PL_FLOAT16, 2, D(0, 6), NULL);
        add_axes(&l, PL_TC_CONST, D(0), 1);
        check("ReduceMax empty float16", &l);
    }
    {
        pl_tc_case l = {.op = "ReduceMin", .nat = 1};
        l.at[0] = PL_ATTR_I("keepdims", 1);
        pl_tc_add(&l, PL_TC_INPUT, PL_FLOAT32, 3, D(2, 0, 3), NULL);
        add_axes(&l, PL_TC_INPUT, D(1), 1);
        check("ReduceMin empty float32 run-time axes", &l);
    }
}

/* Every op on float64: long rows (a block per row), columns, scattered axes, all axes. */
static void test_reduce_f64(void) {
    static const struct {
        int rank;
        int64_t dims[3], axes[2];
        int naxes;
    } geo[] = {{2, {6, 300}, {1}, 1}, {3, {4, 5, 6}, {1}, 1}, {3, {4, 5, 6}, {0, 2}, 2},
               {2, {7, 9}, {0}, 0}};
    PL_TC_NEED_GPU();
    for (int oi = 0; oi < NELEM(reduce_ops); oi++) {
        for (int g = 0; g < NELEM(geo); g++) {
            pl_tc_case l = {.op = reduce_ops[oi], .nat = 1};
            char what[96];
            double lo, hi;
            /* Sum and Mean take every geometry; the others two of them */
            if (oi > 1 && (g + oi) % 2)
                continue;
            reduce_range(reduce_ops[oi], &lo, &hi);
            l.at[0] = PL_ATTR_I("keepdims", g % 2);
            pl_tc_uniform(&l, PL_TC_INPUT, PL_FLOAT64, geo[g].rank, geo[g].dims, lo, hi);
            if (geo[g].naxes)
                add_axes(&l, PL_TC_CONST, geo[g].axes, geo[g].naxes);
            snprintf(what, sizeof(what), "%s float64 geometry %d", reduce_ops[oi], g);
            check(what, &l);
        }
    }
    for (int v = 0; v < 2; v++) {
        /* noop_with_empty_axes: nothing reduced, but the elementwise part applies */
        pl_tc_case l = {.op = v ? "ReduceL1" : "ReduceSumSquare", .nat = 1};
        l.at[0] = PL_ATTR_I("noop_with_empty_axes", 1);
        pl_tc_uniform(&l, PL_TC_INPUT, v ? PL_FLOAT64 : PL_FLOAT32, 2, D(5, 8), -3, 3);
        check(v ? "ReduceL1 float64 noop_with_empty_axes" : "ReduceSumSquare float32 "
                  "noop_with_empty_axes", &l);
    }
}

int main(void) {
    pl_tc_catch_crashes();
    pl_tc_srand(11);
    PL_RUN(test_int8_binary);
    PL_RUN(test_int8_clip);
    PL_RUN(test_f64_elementwise);
    PL_RUN(test_bf16);
    PL_RUN(test_pow_mixed);
    PL_RUN(test_cumsum_f64);
    PL_RUN(test_reduce_runtime_axes);
    PL_RUN(test_reduce_empty);
    PL_RUN(test_reduce_f64);
    return pl_test_report();
}
