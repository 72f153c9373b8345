/*
 * test-ops-reduce.c - shape inference and CPU kernels of Reduce*, ArgMax/ArgMin, TopK, CumSum
 * and Softmax/LogSoftmax, each compared with a naive reference written here (double precision,
 * one output element at a time) on fixed-seed random data; plus the error paths.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PL_OP_TEST_NODE "r1"
#include "test-ops-util.h"

/* ---- helpers (the shared ones are in test-ops-util.h) -------------------------------------- */

static pl__tview tv_ints(int n, const int64_t *vals) {
    int64_t d = n;
    pl__tview v = tv_new(PL_INT64, 1, &d);
    if (n > 0)
        memcpy(v.data, vals, sizeof(int64_t) * (size_t)n);
    return v;
}

static bool close_to(const char *what, const pl__tview *y, const double *want, double atol,
                     double rtol) {
    for (int64_t i = 0; i < pl__tview_numel(y); i++) {
        double g = pl__get_f64(y->data, y->dtype, i), w = want[i];
        if ((isnan(w) && isnan(g)) || (isinf(w) && g == w))
            continue;
        if (!(fabs(g - w) <= atol + rtol * fabs(w))) {
            fprintf(stderr, "%s (%s): element %lld: got %.9g, expected %.9g\n", what,
                    pl_dtype_name(y->dtype), (long long)i, g, w);
            return false;
        }
    }
    return true;
}

/* Multi-index of flat index k in dims. */
static void unflat(int64_t k, int rank, const int64_t *dims, int64_t *idx) {
    for (int i = rank - 1; i >= 0; i--) {
        idx[i] = k % dims[i];
        k /= dims[i];
    }
}

/* ---- Reduce* ------------------------------------------------------------------------------- */

static const char *const red_ops[] = {"ReduceSum", "ReduceMean",      "ReduceMax",
                                      "ReduceMin", "ReduceProd",      "ReduceL1",
                                      "ReduceL2",  "ReduceSumSquare", "ReduceLogSum",
                                      "ReduceLogSumExp"};

/* Reduction of the values vals[0..n) by op, in double. */
static double red_ref(int op, const double *v, int64_t n) {
    double acc = op == 4 ? 1 : op == 2 ? -INFINITY : op == 3 ? INFINITY : 0, mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        switch (op) {
        case 0: case 1: case 8: acc += v[i]; break;
        case 2: acc = fmax(acc, v[i]); break;
        case 3: acc = fmin(acc, v[i]); break;
        case 4: acc *= v[i]; break;
        case 5: acc += fabs(v[i]); break;
        case 6: case 7: acc += v[i] * v[i]; break;
        case 9: mx = fmax(mx, v[i]); break;
        }
    }
    if (op == 9) {
        if (!isfinite(mx))
            return mx;
        for (int64_t i = 0; i < n; i++)
            acc += exp(v[i] - mx);
        return log(acc) + mx;
    }
    return op == 1 ? acc / (double)n : op == 6 ? sqrt(acc) : op == 8 ? log(acc) : acc;
}

/* Output values of reducing x over mask, in output order: for each output element, the values
 * of every input element that maps to it. */
static double *reduce_ref(int op, const pl__tview *x, const bool *mask, int64_t *nout) {
    int64_t n = pl__tview_numel(x), m = 1, per, idx[PL_MAX_RANK];
    int64_t *cnt;
    double *out, *vals;
    for (int i = 0; i < x->rank; i++)
        m *= mask[i] ? 1 : x->dims[i];
    per = m ? n / m : 0; /* every output element reduces the same number of inputs */
    out = malloc(sizeof(double) * (size_t)(m + 1));
    vals = malloc(sizeof(double) * (size_t)(n + 1));
    cnt = calloc((size_t)m + 1, sizeof(int64_t));
    for (int64_t k = 0; k < n; k++) {
        int64_t o = 0;
        unflat(k, x->rank, x->dims, idx);
        for (int i = 0; i < x->rank; i++)
            if (!mask[i])
                o = o * x->dims[i] + idx[i];
        vals[o * per + cnt[o]++] = pl__get_f64(x->data, x->dtype, k);
    }
    for (int64_t o = 0; o < m; o++) {
        out[o] = red_ref(op, vals + o * per, cnt[o]);
        if (!is_flt(x->dtype))
            out[o] = trunc(out[o]);
    }
    free(vals);
    free(cnt);
    *nout = m;
    return out;
}

typedef struct red_case {
    int nax;       /* -1: no axes at all */
    int64_t axes[4];
    int keep;
    bool as_input; /* axes through input 1 instead of the attribute */
} red_case;

static int check_reduce(int op, pl_dtype t, int rank, const int64_t *dims, const red_case *c,
                        uint64_t seed) {
    double lo = -2, hi = 2, tol = t == PL_FLOAT64 ? 1e-10 : t == PL_FLOAT16 ? 4e-3 : 1e-5;
    pl__tview in[2], y;
    pl_attr at[2];
    int na = 0, ok = 1, er = 0;
    bool mask[PL_MAX_RANK] = {false};
    int64_t m;
    double *want;
    char what[128];
    if (op == 8) /* log of a sum */
        lo = 0.1, hi = 3;
    if (op == 4) /* products stay small */
        lo = is_flt(t) ? 0.6 : -1, hi = is_flt(t) ? 1.5 : 1;
    if (!is_flt(t) && op != 4)
        lo = -9, hi = 9;
    if (!is_flt(t) && op == 8)
        lo = 1;
    in[0] = tv_rand(t, rank, dims, lo, hi, seed);
    memset(&in[1], 0, sizeof(in[1]));
    if (c->nax > 0 && c->as_input)
        in[1] = tv_ints(c->nax, c->axes);
    else if (c->nax >= 0)
        at[na++] = PL_ATTR_INTS("axes", c->axes, c->nax);
    if (c->keep >= 0)
        at[na++] = PL_ATTR_I("keepdims", c->keep);
    for (int k = 0; k < c->nax; k++)
        mask[c->axes[k] < 0 ? c->axes[k] + rank : c->axes[k]] = true;
    if (c->nax <= 0)
        for (int i = 0; i < rank; i++)
            mask[i] = true;
    snprintf(what, sizeof(what), "%s %s axes#%d keep=%d%s", red_ops[op], pl_dtype_name(t),
             c->nax, c->keep, c->as_input ? " (input)" : "");
    if (run_op(red_ops[op], at, na, in[1].data ? 2 : 1, in, 1, &y) != PL_OK) {
        fprintf(stderr, "%s: %s\n", what, pl_errmsg());
        ok = 0;
    }
    want = reduce_ref(op, &in[0], mask, &m);
    if (ok) {
        /* shape: kept dims, reduced ones as 1 with keepdims (default 1) */
        int r = 0;
        for (int i = 0; i < rank; i++) {
            if (!mask[i] && y.dims[r++] != dims[i])
                er = 1;
            else if (mask[i] && c->keep != 0 && y.dims[r++] != 1)
                er = 1;
        }
        if (er || r != y.rank || y.dtype != t || pl__tview_numel(&y) != m) {
            fprintf(stderr, "%s: wrong output shape (rank %d)\n", what, y.rank);
            ok = 0;
        } else {
            ok = close_to(what, &y, want, tol, tol);
        }
    }
    free(want);
    tv_free(&in[0]);
    tv_free(&in[1]);
    tv_free(&y);
    return ok;
}

static void test_reduce(void) {
    const int64_t d4[] = {2, 3, 4, 5};
    const red_case cases[] = {
        {1, {1}, -1, false},      {2, {0, 2}, 1, false},   {1, {-1}, 0, false},
        {-1, {0}, 1, false},      {2, {1, 3}, 0, false},   {2, {-3, -1}, 1, true},
        {4, {0, 1, 2, 3}, 0, true}, {1, {3}, 1, true},     {1, {0}, 0, false},
        {3, {0, 1, 3}, 1, false},
    };
    const pl_dtype types[] = {PL_FLOAT32, PL_FLOAT64, PL_INT64, PL_INT32, PL_FLOAT16};
    int bad = 0, total = 0;
    for (int op = 0; op < 10; op++)
        for (int t = 0; t < 5; t++)
            for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++, total++)
                bad += !check_reduce(op, types[t], 4, d4, &cases[c], 1 + op * 100 + c);
    printf("     %d reduce cases, %d wrong\n", total, bad);
    PL_CHECK(bad == 0);
}

static void test_reduce_large(void) {
    const int64_t d[] = {3, 300, 700};
    const red_case cases[] = {{1, {1}, 1, false}, {1, {2}, 0, false}, {1, {0}, 1, false},
                              {2, {0, 2}, 1, false}, {-1, {0}, 0, false}};
    for (int op = 0; op < 10; op += 1)
        for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
            PL_CHECK(check_reduce(op, PL_FLOAT32, 3, d, &cases[c], 7 + c));
}

static void test_reduce_special(void) {
    const int64_t d[] = {2, 0, 4}, d2[] = {2, 3};
    const double want_empty[] = {0, 0, -INFINITY, INFINITY, 1, 0, 0, 0, -INFINITY, -INFINITY};
    int64_t ax1 = 1;
    pl_attr at = PL_ATTR_INTS("axes", &ax1, 1);
    pl__tview x = tv_new(PL_FLOAT32, 3, d), y;
    /* reducing an empty axis gives the identity of the reduction (ONNX "empty_set" tests) */
    for (int op = 0; op < 10; op++) {
        double w[8];
        if (op == 1)
            continue; /* mean of nothing: not defined by ONNX */
        for (int i = 0; i < 8; i++)
            w[i] = want_empty[op];
        PL_CHECK_OK(run_op(red_ops[op], &at, 1, 1, &x, 1, &y));
        PL_CHECK(y.rank == 3 && y.dims[1] == 1 && pl__tview_numel(&y) == 8);
        PL_CHECK(close_to(red_ops[op], &y, w, 0, 0));
        tv_free(&y);
    }
    tv_free(&x);
    /* noop_with_empty_axes: nothing is reduced, the elementwise part still applies */
    {
        pl_attr noop = PL_ATTR_I("noop_with_empty_axes", 1);
        pl__tview in[2] = {tv_rand(PL_FLOAT32, 2, d2, -2, 2, 3), tv_ints(0, NULL)};
        double w[6];
        for (int i = 0; i < 6; i++) {
            double v = ((float *)in[0].data)[i];
            w[i] = v * v;
        }
        PL_CHECK_OK(run_op("ReduceSumSquare", &noop, 1, 2, in, 1, &y));
        PL_CHECK(y.rank == 2 && y.dims[0] == 2 && y.dims[1] == 3);
        PL_CHECK(close_to("noop SumSquare", &y, w, 1e-6, 1e-6));
        tv_free(&y);
        PL_CHECK_OK(run_op("ReduceSum", &noop, 1, 1, in, 1, &y));
        PL_CHECK(y.rank == 2 && memcmp(y.data, in[0].data, 24) == 0);
        tv_free(&y);
        /* empty axes input without noop: reduce everything */
        PL_CHECK_OK(run_op("ReduceSum", NULL, 0, 2, in, 1, &y));
        PL_CHECK(y.rank == 2 && y.dims[0] == 1 && y.dims[1] == 1);
        tv_free(&y);
        tv_free(&in[0]);
        tv_free(&in[1]);
    }
}

/* ---- ArgMax / ArgMin ----------------------------------------------------------------------- */

static void test_argminmax(void) {
    const int64_t d[] = {3, 4, 5};
    const pl_dtype types[] = {PL_FLOAT32, PL_INT64, PL_FLOAT64, PL_INT32, PL_FLOAT16};
    int bad = 0;
    for (int mx = 0; mx < 2; mx++)
        for (int t = 0; t < 5; t++)
            for (int axis = -1; axis < 3; axis++)
                for (int keep = 0; keep < 2; keep++)
                    for (int last = 0; last < 2; last++) {
                        pl_attr at[3] = {PL_ATTR_I("axis", axis), PL_ATTR_I("keepdims", keep),
                                         PL_ATTR_I("select_last_index", last)};
                        /* few distinct values, so ties are frequent */
                        pl__tview x = tv_rand(types[t], 3, d, -2, 2, 5 + t), y;
                        int ax = axis < 0 ? axis + 3 : axis;
                        int64_t idx[3], nout = 60 / d[ax];
                        const char *op = mx ? "ArgMax" : "ArgMin";
                        double want[60];
                        if (run_op(op, at, 3, 1, &x, 1, &y) != PL_OK || y.dtype != PL_INT64 ||
                            y.rank != (keep ? 3 : 2) || pl__tview_numel(&y) != nout) {
                            bad++;
                            tv_free(&x);
                            tv_free(&y);
                            continue;
                        }
                        for (int64_t o = 0; o < nout; o++) {
                            int64_t od[3] = {d[0], d[1], d[2]}, best = 0;
                            double bv = 0;
                            od[ax] = 1;
                            unflat(o, 3, od, idx);
                            for (int64_t r = 0; r < d[ax]; r++) {
                                double v;
                                idx[ax] = r;
                                v = pl__get_f64(x.data, types[t],
                                                (idx[0] * d[1] + idx[1]) * d[2] + idx[2]);
                                if (r == 0 || (mx ? v > bv : v < bv) || (last && v == bv)) {
                                    bv = v;
                                    best = r;
                                }
                            }
                            want[o] = (double)best;
                        }
                        bad += !close_to(op, &y, want, 0, 0);
                        tv_free(&x);
                        tv_free(&y);
                    }
    PL_CHECK(bad == 0);
}

/* ---- TopK ---------------------------------------------------------------------------------- */

static int check_topk(pl_dtype t, int axis, int64_t k, int largest, bool k_attr, uint64_t seed) {
    const int64_t d[] = {3, 10, 4};
    int ax = axis < 0 ? axis + 3 : axis, ok = 1;
    pl_attr at[3] = {PL_ATTR_I("axis", axis), PL_ATTR_I("largest", largest), PL_ATTR_I("k", k)};
    pl__tview in[2] = {tv_rand(t, 3, d, -3, 3, seed), tv_ints(1, &k)}, y[2];
    int64_t od[3] = {d[0], d[1], d[2]}, idx[3];
    od[ax] = k;
    if (run_op("TopK", at, k_attr ? 3 : 2, k_attr ? 1 : 2, in, 2, y) != PL_OK) {
        fprintf(stderr, "TopK: %s\n", pl_errmsg());
        ok = 0;
    } else if (y[0].dtype != t || y[1].dtype != PL_INT64 || y[0].rank != 3 ||
               y[0].dims[ax] != k || y[1].dims[ax] != k) {
        ok = 0;
    }
    /* reference: pick the best unpicked element k times, lowest index first on ties */
    for (int64_t o = 0; ok && o < pl__tview_numel(&y[0]) / (k ? k : 1); o++) {
        bool used[10] = {false};
        int64_t sd[3] = {d[0], d[1], d[2]};
        sd[ax] = 1;
        unflat(o, 3, sd, idx);
        for (int64_t r = 0; r < k; r++) {
            int64_t best = -1, at_out;
            double bv = 0;
            for (int64_t c = 0; c < d[ax]; c++) {
                double v;
                idx[ax] = c;
                v = pl__get_f64(in[0].data, t, (idx[0] * d[1] + idx[1]) * d[2] + idx[2]);
                if (!used[c] && (best < 0 || (largest ? v > bv : v < bv))) {
                    best = c;
                    bv = v;
                }
            }
            used[best] = true;
            idx[ax] = r;
            at_out = (idx[0] * od[1] + idx[1]) * od[2] + idx[2];
            if (((int64_t *)y[1].data)[at_out] != best ||
                pl__get_f64(y[0].data, t, at_out) != bv) {
                fprintf(stderr, "TopK %s axis %d k %lld largest %d: slot %lld: got %lld, "
                        "expected %lld\n", pl_dtype_name(t), axis, (long long)k, largest,
                        (long long)at_out, (long long)((int64_t *)y[1].data)[at_out],
                        (long long)best);
                ok = 0;
                break;
            }
        }
    }
    tv_free(&in[0]);
    tv_free(&in[1]);
    tv_free(&y[0]);
    tv_free(&y[1]);
    return ok;
}

static void test_topk(void) {
    const pl_dtype types[] = {PL_FLOAT32, PL_INT64, PL_FLOAT64, PL_INT32, PL_FLOAT16};
    const int axes[] = {1, -1, 0, -2};
    const int64_t ks[] = {1, 3, 0};
    for (int t = 0; t < 5; t++)
        for (int a = 0; a < 4; a++)
            for (int largest = 0; largest < 2; largest++) {
                int64_t full = a == 0 || a == 3 ? 10 : a == 1 ? 4 : 3;
                for (int k = 0; k < 3; k++)
                    PL_CHECK(check_topk(types[t], axes[a], ks[k], largest, false, 9 + t));
                PL_CHECK(check_topk(types[t], axes[a], full, largest, false, 19 + t));
            }
    PL_CHECK(check_topk(PL_FLOAT32, -1, 2, 1, true, 3)); /* opset 1: k as an attribute */
    {
        const int64_t d[] = {2, 5};
        int64_t k = 6;
        pl__tview in[2] = {tv_rand(PL_FLOAT32, 2, d, 0, 1, 1), tv_ints(1, &k)}, y[2];
        PL_CHECK_FAILS(run_op("TopK", NULL, 0, 2, in, 2, y), PL_ERR_SHAPE, "node 'r1' (TopK)");
        free(in[1].data);
        in[1].data = NULL; /* K not known at inference */
        PL_CHECK_FAILS(run_op("TopK", NULL, 0, 2, in, 2, y), PL_ERR_SHAPE, "K");
        tv_free(&in[0]);
    }
}

/* ---- CumSum -------------------------------------------------------------------------------- */

static void test_cumsum(void) {
    const int64_t d[] = {3, 4, 5};
    const pl_dtype types[] = {PL_FLOAT32, PL_INT64, PL_FLOAT64, PL_INT32, PL_FLOAT16};
    int bad = 0;
    for (int t = 0; t < 5; t++)
        for (int axis = -3; axis < 3; axis++)
            for (int ex = 0; ex < 2; ex++)
                for (int rev = 0; rev < 2; rev++) {
                    pl_attr at[2] = {PL_ATTR_I("exclusive", ex), PL_ATTR_I("reverse", rev)};
                    int64_t axv = axis, idx[3];
                    int ax = axis < 0 ? axis + 3 : axis;
                    pl__tview in[2] = {tv_rand(types[t], 3, d, -5, 5, 30 + t), tv_ints(1, &axv)};
                    pl__tview y;
                    double want[60];
                    if (t == 3) { /* an int32 axis tensor */
                        int32_t a32 = axis;
                        in[1].dtype = PL_INT32;
                        memcpy(in[1].data, &a32, 4);
                    }
                    for (int64_t k = 0; k < 60; k++) {
                        double acc = 0;
                        unflat(k, 3, d, idx);
                        for (int64_t r = 0; r < d[ax]; r++) {
                            int64_t j[3] = {idx[0], idx[1], idx[2]};
                            bool take = rev ? (ex ? r > idx[ax] : r >= idx[ax])
                                            : (ex ? r < idx[ax] : r <= idx[ax]);
                            j[ax] = r;
                            if (take)
                                acc += pl__get_f64(in[0].data, types[t],
                                                   (j[0] * d[1] + j[1]) * d[2] + j[2]);
                        }
                        want[k] = acc;
                    }
                    if (run_op("CumSum", at, 2, 2, in, 1, &y) != PL_OK || y.dtype != types[t] ||
                        !close_to("CumSum", &y, want, types[t] == PL_FLOAT16 ? 2e-2 : 1e-5, 1e-5))
                        bad++;
                    tv_free(&in[0]);
                    tv_free(&in[1]);
                    tv_free(&y);
                }
    PL_CHECK(bad == 0);
    {
        int64_t axv = 3;
        pl__tview in[2] = {tv_rand(PL_FLOAT32, 3, d, 0, 1, 1), tv_ints(1, &axv)}, y;
        PL_CHECK_FAILS(run_op("CumSum", NULL, 0, 2, in, 1, &y), PL_ERR_SHAPE,
                       "node 'r1' (CumSum): axis 3 is out of range");
        tv_free(&in[0]);
        tv_free(&in[1]);
    }
}

/* ---- Softmax ------------------------------------------------------------------------------- */

/* Softmax (or log) over [outer, r, inner]. */
static void softmax_ref(const pl__tview *x, int64_t outer, int64_t r, int64_t inner, bool lg,
                        double *y) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double mx = -INFINITY, s = 0;
            for (int64_t k = 0; k < r; k++)
                mx = fmax(mx, pl__get_f64(x->data, x->dtype, (o * r + k) * inner + i));
            for (int64_t k = 0; k < r; k++)
                s += exp(pl__get_f64(x->data, x->dtype, (o * r + k) * inner + i) - mx);
            for (int64_t k = 0; k < r; k++) {
                double v = pl__get_f64(x->data, x->dtype, (o * r + k) * inner + i);
                y[(o * r + k) * inner + i] = lg ? v - mx - log(s) : exp(v - mx) / s;
            }
        }
}

static int check_softmax(bool lg, pl_dtype t, int rank, const int64_t *dims, int axis, int opset,
                         uint64_t seed) {
    pl_attr at[2] = {PL_ATTR_I("axis", axis), PL_ATTR_I("opset", opset)};
    pl__tview x = tv_rand(t, rank, dims, -6, 6, seed), y;
    int64_t n = pl__tview_numel(&x), outer = 1, r = 1, inner = 1;
    int ax = axis < 0 ? axis + rank : axis, ok;
    double *want = malloc(sizeof(double) * (size_t)n);
    double tol = t == PL_FLOAT64 ? 1e-12 : t == PL_FLOAT32 ? 2e-6 : 4e-3;
    for (int i = 0; i < rank; i++) {
        if (i < ax)
            outer *= dims[i];
        else if (i == ax || (opset && opset < 13))
            r *= dims[i];
        else
            inner *= dims[i];
    }
    softmax_ref(&x, outer, r, inner, lg, want);
    ok = run_op(lg ? "LogSoftmax" : "Softmax", at, opset ? 2 : 1, 1, &x, 1, &y) == PL_OK &&
         y.dtype == t && close_to(lg ? "LogSoftmax" : "Softmax", &y, want, tol, tol);
    free(want);
    tv_free(&x);
    tv_free(&y);
    return ok;
}

static void test_softmax(void) {
    const int64_t d4[] = {2, 3, 4, 5}, row[] = {4, 3000}, wide[] = {2, 10, 300};
    const pl_dtype types[] = {PL_FLOAT32, PL_FLOAT64, PL_FLOAT16};
    for (int lg = 0; lg < 2; lg++) {
        for (int t = 0; t < 3; t++)
            for (int axis = -4; axis < 4; axis++)
                PL_CHECK(check_softmax(lg, types[t], 4, d4, axis, 0, 40 + axis));
        PL_CHECK(check_softmax(lg, PL_FLOAT32, 2, row, -1, 0, 1));
        PL_CHECK(check_softmax(lg, PL_FLOAT32, 3, wide, 1, 0, 2));
        PL_CHECK(check_softmax(lg, PL_FLOAT32, 4, d4, 1, 11, 3)); /* opset 11: flatten at axis */
        PL_CHECK(check_softmax(lg, PL_FLOAT32, 4, d4, 2, 11, 4));
    }
    {
        /* the default axis is -1 from opset 13, 1 before it */
        pl_attr old = PL_ATTR_I("opset", 11);
        pl__tview x = tv_rand(PL_FLOAT32, 4, d4, -6, 6, 5), y;
        double want[120];
        softmax_ref(&x, 24, 5, 1, false, want);
        PL_CHECK_OK(run_op("Softmax", NULL, 0, 1, &x, 1, &y));
        PL_CHECK(close_to("Softmax default", &y, want, 2e-6, 2e-6));
        tv_free(&y);
        softmax_ref(&x, 2, 60, 1, false, want);
        PL_CHECK_OK(run_op("Softmax", &old, 1, 1, &x, 1, &y));
        PL_CHECK(close_to("Softmax opset 11 default", &y, want, 2e-6, 2e-6));
        tv_free(&y);
        tv_free(&x);
    }
}

/* ---- errors -------------------------------------------------------------------------------- */

static void test_errors(void) {
    const int64_t d[] = {2, 3, 4}, dz[] = {2, 0};
    int64_t dup[2] = {1, -2}, far = 3;
    pl_attr a_dup = PL_ATTR_INTS("axes", dup, 2), a_far = PL_ATTR_INTS("axes", &far, 1);
    pl_attr ax5 = PL_ATTR_I("axis", 5), axm4 = PL_ATTR_I("axis", -4), ax1 = PL_ATTR_I("axis", 1);
    pl__tview x = tv_rand(PL_FLOAT32, 3, d, 0, 1, 1), xi = tv_rand(PL_INT64, 3, d, 0, 9, 2);
    pl__tview xb = tv_new(PL_BOOL, 3, d), xz = tv_new(PL_FLOAT32, 2, dz), in[2], y[2];
    PL_CHECK_FAILS(run_op("ReduceSum", &a_dup, 1, 1, &x, 1, y), PL_ERR_SHAPE, "twice");
    PL_CHECK_FAILS(run_op("ReduceMean", &a_far, 1, 1, &x, 1, y), PL_ERR_SHAPE,
                   "node 'r1' (ReduceMean): axis 3 is out of range for rank 3");
    in[0] = x;
    in[1] = tv_ints(1, &far);
    PL_CHECK_FAILS(run_op("ReduceMax", NULL, 0, 2, in, 1, y), PL_ERR_SHAPE, "out of range");
    free(in[1].data);
    in[1].data = NULL;
    PL_CHECK_FAILS(run_op("ReduceMax", NULL, 0, 2, in, 1, y), PL_ERR_SHAPE, "axes");
    PL_CHECK_FAILS(run_op("ReduceSum", NULL, 0, 1, &xb, 1, y), PL_ERR_UNSUPPORTED,
                   "node 'r1' (ReduceSum): dtype bool not supported");
    PL_CHECK_FAILS(run_op("ArgMax", &ax5, 1, 1, &x, 1, y), PL_ERR_SHAPE, "(ArgMax)");
    PL_CHECK_FAILS(run_op("ArgMin", &ax1, 1, 1, &xz, 1, y), PL_ERR_SHAPE, "empty");
    PL_CHECK_FAILS(run_op("Softmax", &axm4, 1, 1, &x, 1, y), PL_ERR_SHAPE, "(Softmax)");
    PL_CHECK_FAILS(run_op("Softmax", NULL, 0, 1, &xi, 1, y), PL_ERR_UNSUPPORTED,
                   "node 'r1' (Softmax): dtype int64 not supported");
    PL_CHECK_FAILS(run_op("TopK", NULL, 0, 1, &x, 2, y), PL_ERR_SHAPE, "K is required");
    tv_free(&x);
    tv_free(&xi);
    tv_free(&xb);
    tv_free(&xz);
}

/* Not a check: prints float32 timings of the hot paths, for the record. */
static void test_speed(void) {
    const int64_t d[] = {512, 1024}, dc[] = {8, 256, 28, 28};
    int64_t ax = -1, ax1 = 1;
    pl_attr a_last = PL_ATTR_INTS("axes", &ax, 1), a_c = PL_ATTR_INTS("axes", &ax1, 1);
    pl__tview x = tv_rand(PL_FLOAT32, 2, d, -4, 4, 1), xc = tv_rand(PL_FLOAT32, 4, dc, -4, 4, 2);
    pl__tview y;
    double t[4];
    const int reps = 5;
    t[0] = pl__cpu_backend.now_ms(g_bctx);
    for (int r = 0; r < reps; r++) {
        PL_CHECK_OK(run_op("Softmax", NULL, 0, 1, &x, 1, &y));
        tv_free(&y);
    }
    t[1] = pl__cpu_backend.now_ms(g_bctx);
    for (int r = 0; r < reps; r++) {
        PL_CHECK_OK(run_op("ReduceMean", &a_last, 1, 1, &x, 1, &y));
        tv_free(&y);
    }
    t[2] = pl__cpu_backend.now_ms(g_bctx);
    for (int r = 0; r < reps; r++) {
        PL_CHECK_OK(run_op("ReduceSum", &a_c, 1, 1, &xc, 1, &y));
        tv_free(&y);
    }
    t[3] = pl__cpu_backend.now_ms(g_bctx);
    printf("     speed: Softmax [512,1024] last axis %.2f ms, ReduceMean same %.2f ms, "
           "ReduceSum [8,256,28,28] axis 1 %.2f ms\n", (t[1] - t[0]) / reps, (t[2] - t[1]) / reps,
           (t[3] - t[2]) / reps);
    tv_free(&x);
    tv_free(&xc);
}

int main(int argc, char **argv) {
    if (pl__cpu_backend.create(&g_bctx) != PL_OK) {
        fprintf(stderr, "cannot create the CPU backend: %s\n", pl_errmsg());
        return 1;
    }
    PL_RUN(test_reduce);
    PL_RUN(test_reduce_large);
    PL_RUN(test_reduce_special);
    PL_RUN(test_argminmax);
    PL_RUN(test_topk);
    PL_RUN(test_cumsum);
    PL_RUN(test_softmax);
    PL_RUN(test_errors);
    /* timings are printed for the record with --speed; they assert nothing, so they are no test
     * case (measurements belong to bench/) */
    if (argc > 1 && strcmp(argv[1], "--speed") == 0)
        test_speed();
    pl__cpu_backend.destroy(g_bctx);
    return pl_test_report();
}
