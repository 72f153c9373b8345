/*
 * test-ops-shape.c - shape inference and CPU kernels of the shape / data-movement ops, checked
 * against naive references written here (index loops straight from the ONNX operator text) on
 * fixed-seed random data, a few golden values produced by onnxruntime, and error cases whose
 * messages must name the node. Data movement is exact, so comparisons are bytewise; Resize's
 * linear and cubic modes compare with an absolute tolerance of 1e-5.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "graph/ops.h"
#include "harness.h"

static void *g_bctx;

/* ---- helpers ---- */

static uint64_t g_rng = 1;
static void seed(uint64_t s) { g_rng = s * 0x9E3779B97F4A7C15ull + 7; }
static uint64_t rnd(void) {
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1Dull;
}
static int64_t rnd_in(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }

static pl__tview tv(pl_dtype t, int rank, const int64_t *dims, void *data) {
    pl__tview v;
    memset(&v, 0, sizeof(v));
    v.dtype = t;
    v.rank = rank;
    for (int i = 0; i < rank; i++)
        v.dims[i] = dims[i];
    v.data = data;
    return v;
}

static pl__tview tv_ints(int64_t n, const int64_t *vals) {
    return tv(PL_INT64, 1, &n, (void *)vals);
}

static pl__tview tv_none(void) { return tv(PL_DTYPE_INVALID, 0, NULL, NULL); }

static void *rand_bytes(int64_t bytes) {
    unsigned char *p = malloc((size_t)(bytes ? bytes : 1));
    for (int64_t i = 0; i < bytes; i++)
        p[i] = (unsigned char)(rnd() >> 56);
    return p;
}

static void *rand_tensor(pl__tview *v) {
    v->data = rand_bytes((int64_t)pl__tview_bytes(v));
    return v->data;
}

static void mk_layer(pl__layer *l, const char *op, const char *name, const pl_attr *attrs, int n) {
    memset(l, 0, sizeof(*l));
    l->name = (char *)name;
    l->op = (char *)op;
    l->def = pl__op_find(op);
    if (n)
        PL_CHECK_OK(pl__attrs_copy(&l->attrs, attrs, n));
}

/* Infers and runs one op on host views; allocates out[k].data (caller frees with free_outs).
 * Returns the first failing status (inference or kernel). */
static pl_status run_op(const char *op, const pl_attr *attrs, int nattrs, int nin,
                        const pl__tview *in, int nout, pl__tview *out) {
    pl__layer l;
    pl__infer ic;
    pl__kernel_args ka;
    const pl__kernel_def *k;
    pl_status s;
    mk_layer(&l, op, "node_under_test", attrs, nattrs);
    for (int i = 0; i < nout; i++)
        memset(&out[i], 0, sizeof(out[i]));
    if (!l.def || !(k = pl__cpu_backend.find_kernel(op))) {
        pl__attrs_free(&l.attrs);
        return pl__fail(PL_ERR_NOT_FOUND, "no op or kernel %s", op);
    }
    ic = (pl__infer){&l, nin, in, nout, out};
    s = l.def->infer(&ic);
    if (!s) {
        for (int i = 0; i < nout; i++)
            out[i].data = calloc(1, pl__tview_bytes(&out[i]) + 8);
        ka = (pl__kernel_args){.layer = &l, .nin = nin, .in = in, .nout = nout, .out = out,
                               .bctx = g_bctx};
        s = k->run(&ka);
    }
    pl__attrs_free(&l.attrs);
    return s;
}

static pl_status infer_only(const char *op, const pl_attr *attrs, int nattrs, int nin,
                            const pl__tview *in, int nout, pl__tview *out) {
    pl__layer l;
    pl__infer ic;
    pl_status s;
    mk_layer(&l, op, "node_under_test", attrs, nattrs);
    ic = (pl__infer){&l, nin, in, nout, out};
    s = l.def->infer(&ic);
    pl__attrs_free(&l.attrs);
    return s;
}

static void free_outs(pl__tview *out, int n) {
    for (int i = 0; i < n; i++) {
        free(out[i].data);
        out[i].data = NULL;
    }
}

static bool dims_eq(const pl__tview *v, int rank, const int64_t *dims) {
    if (v->rank != rank)
        return false;
    for (int i = 0; i < rank; i++)
        if (v->dims[i] != dims[i])
            return false;
    return true;
}

static void strides_of(int rank, const int64_t *dims, int64_t *st) {
    int64_t acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= dims[i];
    }
}

static void unravel(int64_t lin, int rank, const int64_t *dims, int64_t *idx) {
    for (int i = rank - 1; i >= 0; i--) {
        idx[i] = lin % dims[i];
        lin /= dims[i];
    }
}

static const pl_dtype g_all_types[] = {PL_FLOAT32, PL_FLOAT16, PL_FLOAT64, PL_INT8,
                                       PL_UINT8,   PL_INT32,   PL_INT64,   PL_BOOL};
#define NTYPES 8

/* ---- Concat / Split ---- */

static void test_concat(void) {
    seed(11);
    for (int t = 0; t < NTYPES; t++) {
        pl_dtype dt = g_all_types[t];
        size_t es = pl_dtype_size(dt);
        int64_t d0[3] = {2, 3, 4}, d1[3] = {2, 0, 4}, d2[3] = {2, 5, 4}, od[3] = {2, 8, 4};
        pl__tview in[3] = {tv(dt, 3, d0, NULL), tv(dt, 3, d1, NULL), tv(dt, 3, d2, NULL)}, out;
        pl_attr at = PL_ATTR_I("axis", -2);
        bool ok = true;
        for (int i = 0; i < 3; i++)
            rand_tensor(&in[i]);
        PL_CHECK_OK(run_op("Concat", &at, 1, 3, in, 1, &out));
        PL_CHECK(dims_eq(&out, 3, od));
        for (int64_t a = 0; a < 2 && out.data; a++)
            for (int64_t b = 0; b < 8; b++)
                for (int64_t c = 0; c < 4; c++) {
                    const char *src = b < 3 ? (char *)in[0].data + ((a * 3 + b) * 4 + c) * es
                                            : (char *)in[2].data + ((a * 5 + b - 3) * 4 + c) * es;
                    ok = ok && !memcmp((char *)out.data + ((a * 8 + b) * 4 + c) * es, src, es);
                }
        PL_CHECK(ok);
        free_outs(&out, 1);
        for (int i = 0; i < 3; i++)
            free(in[i].data);
    }
    {
        int64_t a[2] = {2, 3}, b[2] = {3, 3};
        pl__tview in[2] = {tv(PL_FLOAT32, 2, a, NULL), tv(PL_FLOAT32, 2, b, NULL)}, out;
        pl_attr at = PL_ATTR_I("axis", 1);
        PL_CHECK_FAILS(infer_only("Concat", &at, 1, 2, in, 1, &out), PL_ERR_SHAPE,
                       "node 'node_under_test' (Concat)");
        PL_CHECK_FAILS(infer_only("Concat", NULL, 0, 2, in, 1, &out), PL_ERR_SHAPE, "axis");
    }
}

static void test_split(void) {
    int64_t xd[2] = {3, 7};
    float x[21];
    pl__tview in[2], out[3];
    for (int i = 0; i < 21; i++)
        x[i] = (float)i;
    in[0] = tv(PL_FLOAT32, 2, xd, x);
    /* split as an input (opset 13+) */
    {
        int64_t sp[3] = {2, 0, 5};
        in[1] = tv_ints(3, sp);
        pl_attr at = PL_ATTR_I("axis", -1);
        PL_CHECK_OK(run_op("Split", &at, 1, 2, in, 3, out));
        PL_CHECK(out[0].dims[1] == 2 && out[1].dims[1] == 0 && out[2].dims[1] == 5);
        PL_CHECK(((float *)out[0].data)[3] == 8.f && ((float *)out[2].data)[0] == 2.f &&
                 ((float *)out[2].data)[14] == 20.f);
        free_outs(out, 3);
    }
    /* split as an attribute (opset < 13) */
    {
        int64_t sp[2] = {1, 2};
        pl_attr at[2] = {PL_ATTR_I("axis", 0), PL_ATTR_INTS("split", sp, 2)};
        PL_CHECK_OK(run_op("Split", at, 2, 1, in, 2, out));
        PL_CHECK(out[0].dims[0] == 1 && out[1].dims[0] == 2 && ((float *)out[1].data)[0] == 7.f);
        free_outs(out, 2);
    }
    /* num_outputs (opset 18): 7 into 3 gives 3, 3, 1 */
    {
        pl_attr at[2] = {PL_ATTR_I("axis", 1), PL_ATTR_I("num_outputs", 3)};
        PL_CHECK_OK(run_op("Split", at, 2, 1, in, 3, out));
        PL_CHECK(out[0].dims[1] == 3 && out[1].dims[1] == 3 && out[2].dims[1] == 1);
        PL_CHECK(((float *)out[1].data)[0] == 3.f && ((float *)out[2].data)[2] == 20.f);
        free_outs(out, 3);
    }
    /* equal split that does not divide; split that does not sum up */
    {
        int64_t sp[3] = {2, 2, 2};
        pl_attr at = PL_ATTR_I("axis", 1);
        PL_CHECK_FAILS(infer_only("Split", &at, 1, 1, in, 3, out), PL_ERR_SHAPE, "evenly");
        in[1] = tv_ints(3, sp);
        PL_CHECK_FAILS(infer_only("Split", &at, 1, 2, in, 3, out), PL_ERR_SHAPE,
                       "node 'node_under_test' (Split): 'split' sums to 6");
    }
}

/* ---- Slice ---- */

/* Reference: the index list of one axis, walked element by element (not the count formula). */
static int64_t ref_slice_axis(int64_t d, int64_t s, int64_t e, int64_t step, int64_t *list) {
    int64_t n = 0;
    if (s < 0)
        s += d;
    if (e < 0)
        e += d;
    if (step > 0) {
        if (s < 0)
            s = 0;
        if (e > d)
            e = d;
        for (int64_t i = s; i < e; i += step)
            list[n++] = i;
    } else {
        /* ONNX clamps a negative-step start into [0, d-1] (onnxruntime agrees; numpy would
         * return nothing for a start before the first element) */
        if (s < 0)
            s = 0;
        if (s > d - 1)
            s = d - 1;
        if (e < -1)
            e = -1;
        for (int64_t i = s; i > e; i += step)
            if (i >= 0 && i < d)
                list[n++] = i;
    }
    return n;
}

static void test_slice(void) {
    seed(21);
    for (int iter = 0; iter < 60; iter++) {
        pl_dtype dt = g_all_types[iter % NTYPES];
        size_t es = pl_dtype_size(dt);
        int r = (int)rnd_in(1, 5), n = (int)rnd_in(1, r);
        int64_t dims[8], st[8], en[8], ax[8], sp[8], lists[8][64], cnt[8], od[8];
        int64_t xs[8], os[8], total = 1;
        bool used[8] = {false}, ok = true;
        pl__tview in[5], out;
        for (int i = 0; i < r; i++)
            dims[i] = rnd_in(1, 6);
        in[0] = tv(dt, r, dims, NULL);
        rand_tensor(&in[0]);
        for (int k = 0; k < n; k++) {
            int a;
            do
                a = (int)rnd_in(0, r - 1);
            while (used[a]);
            used[a] = true;
            ax[k] = rnd() & 1 ? a - r : a; /* negative axes half the time */
            st[k] = rnd_in(-9, 9);
            en[k] = rnd() % 5 == 0 ? (rnd() & 1 ? INT64_MAX : INT64_MIN) : rnd_in(-9, 9);
            sp[k] = rnd_in(1, 3) * (rnd() & 1 ? -1 : 1);
        }
        for (int i = 0; i < r; i++) {
            cnt[i] = dims[i];
            for (int64_t j = 0; j < dims[i]; j++)
                lists[i][j] = j;
        }
        for (int k = 0; k < n; k++) {
            int a = (int)(ax[k] < 0 ? ax[k] + r : ax[k]);
            cnt[a] = ref_slice_axis(dims[a], st[k], en[k], sp[k], lists[a]);
        }
        in[1] = tv_ints(n, st);
        in[2] = tv_ints(n, en);
        in[3] = tv_ints(n, ax);
        in[4] = tv_ints(n, sp);
        PL_CHECK_OK(run_op("Slice", NULL, 0, 5, in, 1, &out));
        PL_CHECK(dims_eq(&out, r, cnt));
        if (!dims_eq(&out, r, cnt)) {
            char b1[128], b2[128], b4[128], b3[256] = "";
            for (int k = 0; k < n; k++)
                snprintf(b3 + strlen(b3), sizeof(b3) - strlen(b3), " (ax %lld %lld:%lld:%lld)",
                         (long long)ax[k], (long long)st[k], (long long)en[k], (long long)sp[k]);
            fprintf(stderr, "slice %s -> %s want %s:%s\n", pl__dims_str(r, dims, b1, 128),
                    pl__dims_str(out.rank, out.dims, b2, 128), pl__dims_str(r, cnt, b4, 128), b3);
        }
        memcpy(od, cnt, sizeof(od));
        strides_of(r, dims, xs);
        strides_of(r, od, os);
        for (int i = 0; i < r; i++)
            total *= od[i];
        for (int64_t lin = 0; lin < total && out.data; lin++) {
            int64_t idx[8], src = 0;
            unravel(lin, r, od, idx);
            for (int i = 0; i < r; i++)
                src += lists[i][idx[i]] * xs[i];
            ok = ok && !memcmp((char *)out.data + lin * (int64_t)es, (char *)in[0].data + src * (int64_t)es, es);
        }
        PL_CHECK(ok);
        if (!ok)
            fprintf(stderr, "slice iteration %d failed\n", iter);
        free_outs(&out, 1);
        free(in[0].data);
    }
    /* hand-checked: [10] start -1 end INT64_MIN step -1 -> 9..0; start 20 end 0 step -3 -> 9,6,3 */
    {
        int64_t d = 10, x[10], s1 = -1, e1 = INT64_MIN, a1 = 0, p1 = -1, s2 = 20, e2 = 0, p2 = -3;
        pl__tview in[5], out;
        for (int i = 0; i < 10; i++)
            x[i] = i * 100;
        in[0] = tv(PL_INT64, 1, &d, x);
        in[1] = tv_ints(1, &s1);
        in[2] = tv_ints(1, &e1);
        in[3] = tv_ints(1, &a1);
        in[4] = tv_ints(1, &p1);
        PL_CHECK_OK(run_op("Slice", NULL, 0, 5, in, 1, &out));
        PL_CHECK(out.dims[0] == 10 && ((int64_t *)out.data)[0] == 900 &&
                 ((int64_t *)out.data)[9] == 0);
        free_outs(&out, 1);
        in[1] = tv_ints(1, &s2);
        in[2] = tv_ints(1, &e2);
        in[4] = tv_ints(1, &p2);
        PL_CHECK_OK(run_op("Slice", NULL, 0, 5, in, 1, &out));
        PL_CHECK(out.dims[0] == 3 && ((int64_t *)out.data)[0] == 900 &&
                 ((int64_t *)out.data)[2] == 300);
        free_outs(&out, 1);
        /* omitted axes and steps (trailing inputs dropped), int32 starts/ends */
        {
            int32_t s3 = 2, e3 = -2;
            int64_t one = 1;
            in[1] = tv(PL_INT32, 1, &one, &s3);
            in[2] = tv(PL_INT32, 1, &one, &e3);
            PL_CHECK_OK(run_op("Slice", NULL, 0, 3, in, 1, &out));
            PL_CHECK(out.dims[0] == 6 && ((int64_t *)out.data)[0] == 200);
            free_outs(&out, 1);
        }
        /* opset 1: attributes */
        {
            int64_t as = 1, ae = 1000, aa = -1;
            pl_attr at[3] = {PL_ATTR_INTS("starts", &as, 1), PL_ATTR_INTS("ends", &ae, 1),
                             PL_ATTR_INTS("axes", &aa, 1)};
            PL_CHECK_OK(run_op("Slice", at, 3, 1, in, 1, &out));
            PL_CHECK(out.dims[0] == 9 && ((int64_t *)out.data)[8] == 900);
            free_outs(&out, 1);
        }
        /* zero step; starts not known at inference */
        {
            int64_t z = 0;
            in[1] = tv_ints(1, &s1);
            in[2] = tv_ints(1, &e2);
            in[4] = tv_ints(1, &z);
            PL_CHECK_FAILS(infer_only("Slice", NULL, 0, 5, in, 1, &out), PL_ERR_SHAPE,
                           "node 'node_under_test' (Slice): steps[0] is 0");
            in[1] = tv(PL_INT64, 1, &(int64_t){1}, NULL);
            PL_CHECK_FAILS(infer_only("Slice", NULL, 0, 3, in, 1, &out), PL_ERR_SHAPE,
                           "must be known");
        }
    }
}

/* ---- Reshape / Flatten / Squeeze / Unsqueeze ---- */

static void test_reshape_family(void) {
    int64_t xd[4] = {2, 3, 4, 5};
    float x[120];
    pl__tview in[2], out;
    for (int i = 0; i < 120; i++)
        x[i] = (float)i;
    in[0] = tv(PL_FLOAT32, 4, xd, x);
    {
        int64_t sh[3] = {0, -1, 5}, want[3] = {2, 12, 5};
        in[1] = tv_ints(3, sh);
        PL_CHECK_OK(run_op("Reshape", NULL, 0, 2, in, 1, &out));
        PL_CHECK(dims_eq(&out, 3, want));
        PL_CHECK(out.data && !memcmp(out.data, x, sizeof(x)));
        free_outs(&out, 1);
    }
    {
        int64_t sh[2] = {-1, 0}, want[2] = {40, 3};
        in[1] = tv_ints(2, sh);
        PL_CHECK_OK(infer_only("Reshape", NULL, 0, 2, in, 1, &out));
        PL_CHECK(dims_eq(&out, 2, want));
    }
    {
        /* allowzero: 0 is a real zero dim; an empty input reshapes to [0, 7] */
        int64_t ed[2] = {3, 0}, sh[2] = {0, 7}, want[2] = {0, 7}, inf[2] = {0, -1};
        pl__tview e[2] = {tv(PL_FLOAT32, 2, ed, NULL), tv_ints(2, sh)};
        pl_attr az = PL_ATTR_I("allowzero", 1);
        PL_CHECK_OK(infer_only("Reshape", &az, 1, 2, e, 1, &out));
        PL_CHECK(dims_eq(&out, 2, want));
        PL_CHECK_FAILS(infer_only("Reshape", NULL, 0, 2, e, 1, &out), PL_ERR_SHAPE,
                       "cannot reshape"); /* without allowzero, 0 copies the 3 */
        e[1] = tv_ints(2, inf); /* without allowzero [0,-1] copies the 3 and infers 0 */
        PL_CHECK_OK(infer_only("Reshape", NULL, 0, 2, e, 1, &out));
        PL_CHECK(dims_eq(&out, 2, ed));
        /* with allowzero, -1 next to a real 0 is ambiguous */
        PL_CHECK_FAILS(infer_only("Reshape", &az, 1, 2, e, 1, &out), PL_ERR_SHAPE,
                       "cannot reshape");
    }
    {
        int64_t two[2] = {-1, -1}, bad[2] = {7, -1}, big[5] = {0, 0, 0, 0, 0};
        in[1] = tv_ints(2, two);
        PL_CHECK_FAILS(infer_only("Reshape", NULL, 0, 2, in, 1, &out), PL_ERR_SHAPE,
                       "more than one -1");
        in[1] = tv_ints(2, bad);
        PL_CHECK_FAILS(infer_only("Reshape", NULL, 0, 2, in, 1, &out), PL_ERR_SHAPE,
                       "node 'node_under_test' (Reshape): cannot reshape [2,3,4,5]");
        in[1] = tv_ints(5, big);
        PL_CHECK_FAILS(infer_only("Reshape", NULL, 0, 2, in, 1, &out), PL_ERR_SHAPE, "copies");
    }
    {
        pl_attr a = PL_ATTR_I("axis", -1);
        int64_t w1[2] = {24, 5}, w0[2] = {1, 120};
        PL_CHECK_OK(infer_only("Flatten", &a, 1, 1, in, 1, &out));
        PL_CHECK(dims_eq(&out, 2, w1));
        a = PL_ATTR_I("axis", 0);
        PL_CHECK_OK(run_op("Flatten", &a, 1, 1, in, 1, &out));
        PL_CHECK(dims_eq(&out, 2, w0) && !memcmp(out.data, x, sizeof(x)));
        free_outs(&out, 1);
        a = PL_ATTR_I("axis", 5);
        PL_CHECK_FAILS(infer_only("Flatten", &a, 1, 1, in, 1, &out), PL_ERR_SHAPE, "axis 5");
    }
    {
        int64_t sd[5] = {1, 3, 1, 2, 1}, w_all[2] = {3, 2}, w_ax[4] = {1, 3, 2, 1};
        int64_t axs[1] = {-3}, bad[1] = {1};
        pl__tview s[2] = {tv(PL_FLOAT32, 5, sd, x), tv_ints(1, axs)};
        pl_attr at = PL_ATTR_INTS("axes", axs, 1);
        PL_CHECK_OK(infer_only("Squeeze", NULL, 0, 1, s, 1, &out));
        PL_CHECK(dims_eq(&out, 2, w_all));
        PL_CHECK_OK(run_op("Squeeze", NULL, 0, 2, s, 1, &out));
        PL_CHECK(dims_eq(&out, 4, w_ax) && !memcmp(out.data, x, 6 * sizeof(float)));
        free_outs(&out, 1);
        PL_CHECK_OK(infer_only("Squeeze", &at, 1, 1, s, 1, &out));
        PL_CHECK(dims_eq(&out, 4, w_ax));
        s[1] = tv_ints(1, bad);
        PL_CHECK_FAILS(infer_only("Squeeze", NULL, 0, 2, s, 1, &out), PL_ERR_SHAPE,
                       "cannot squeeze axis 1");
    }
    {
        int64_t ud[2] = {3, 4}, axs[3] = {0, -1, 2}, w[5] = {1, 3, 1, 4, 1}, dup[2] = {1, 1};
        pl__tview u[2] = {tv(PL_FLOAT32, 2, ud, x), tv_ints(3, axs)};
        pl_attr at = PL_ATTR_INTS("axes", axs, 3);
        PL_CHECK_OK(run_op("Unsqueeze", NULL, 0, 2, u, 1, &out));
        PL_CHECK(dims_eq(&out, 5, w) && !memcmp(out.data, x, 12 * sizeof(float)));
        free_outs(&out, 1);
        PL_CHECK_OK(infer_only("Unsqueeze", &at, 1, 1, u, 1, &out));
        PL_CHECK(dims_eq(&out, 5, w));
        u[1] = tv_ints(2, dup);
        PL_CHECK_FAILS(infer_only("Unsqueeze", NULL, 0, 2, u, 1, &out), PL_ERR_SHAPE, "repeated");
        PL_CHECK_FAILS(infer_only("Unsqueeze", NULL, 0, 1, u, 1, &out), PL_ERR_SHAPE, "required");
    }
}

/* ---- Transpose ---- */

static bool check_transpose(pl_dtype dt, int r, const int64_t *dims, const int64_t *perm) {
    size_t es = pl_dtype_size(dt);
    pl__tview x = tv(dt, r, dims, NULL), out;
    pl_attr at = PL_ATTR_INTS("perm", perm, r);
    int64_t xs[8], od[8], total = pl__numel(r, dims);
    bool ok = true;
    rand_tensor(&x);
    for (int i = 0; i < r; i++)
        od[i] = dims[perm ? perm[i] : r - 1 - i];
    strides_of(r, dims, xs);
    PL_CHECK_OK(run_op("Transpose", &at, perm ? 1 : 0, 1, &x, 1, &out));
    ok = dims_eq(&out, r, od);
    for (int64_t lin = 0; lin < total && ok; lin++) {
        int64_t idx[8], src = 0;
        unravel(lin, r, od, idx);
        for (int i = 0; i < r; i++)
            src += idx[i] * xs[perm ? perm[i] : r - 1 - i];
        ok = !memcmp((char *)out.data + lin * (int64_t)es, (char *)x.data + src * (int64_t)es, es);
    }
    free_outs(&out, 1);
    free(x.data);
    return ok;
}

static void test_transpose(void) {
    seed(31);
    for (int iter = 0; iter < 50; iter++) {
        int r = (int)rnd_in(1, 6);
        int64_t dims[8], perm[8];
        for (int i = 0; i < r; i++) {
            dims[i] = rnd_in(1, 7);
            perm[i] = i;
        }
        for (int i = r - 1; i > 0; i--) {
            int j = (int)rnd_in(0, i);
            int64_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        PL_CHECK(check_transpose(g_all_types[iter % NTYPES], r, dims, perm));
    }
    {
        /* large enough for the tiled path and several threads */
        int64_t nchw[4] = {2, 48, 37, 41}, to_nhwc[4] = {0, 2, 3, 1}, mat[2] = {300, 257};
        int64_t p3[3] = {2, 0, 1}, d3[3] = {33, 5, 70};
        PL_CHECK(check_transpose(PL_FLOAT32, 4, nchw, to_nhwc));
        PL_CHECK(check_transpose(PL_FLOAT16, 2, mat, NULL));
        PL_CHECK(check_transpose(PL_INT64, 3, d3, p3));
        PL_CHECK(check_transpose(PL_UINT8, 4, nchw, to_nhwc));
    }
    {
        int64_t d[2] = {2, 3}, bad[2] = {0, 0};
        pl__tview x = tv(PL_FLOAT32, 2, d, NULL), out;
        pl_attr at = PL_ATTR_INTS("perm", bad, 2);
        PL_CHECK_FAILS(infer_only("Transpose", &at, 1, 1, &x, 1, &out), PL_ERR_SHAPE,
                       "node 'node_under_test' (Transpose): 'perm' is not a permutation");
    }
}

/* ---- Gather / GatherElements / ScatterElements ---- */

static void test_gather(void) {
    seed(41);
    for (int iter = 0; iter < 24; iter++) {
        pl_dtype dt = g_all_types[iter % NTYPES];
        size_t es = pl_dtype_size(dt);
        int r = (int)rnd_in(1, 4), q = (int)rnd_in(0, 2), axis = (int)rnd_in(-r, r - 1);
        int ax = axis < 0 ? axis + r : axis;
        int64_t dims[8], id[8], od[8], xs[8], nidx = 1, raw[64];
        int32_t i32[64];
        bool use32 = iter & 1, ok;
        pl__tview in[2], out;
        pl_attr at = PL_ATTR_I("axis", axis);
        int o = 0;
        for (int i = 0; i < r; i++)
            dims[i] = rnd_in(1, 5);
        for (int i = 0; i < q; i++)
            nidx *= (id[i] = rnd_in(1, 4));
        for (int64_t k = 0; k < nidx; k++) {
            raw[k] = rnd_in(-dims[ax], dims[ax] - 1); /* negative indices included */
            i32[k] = (int32_t)raw[k];
        }
        in[0] = tv(dt, r, dims, NULL);
        rand_tensor(&in[0]);
        in[1] = tv(use32 ? PL_INT32 : PL_INT64, q, id, use32 ? (void *)i32 : (void *)raw);
        for (int i = 0; i < ax; i++)
            od[o++] = dims[i];
        for (int i = 0; i < q; i++)
            od[o++] = id[i];
        for (int i = ax + 1; i < r; i++)
            od[o++] = dims[i];
        PL_CHECK_OK(run_op("Gather", &at, 1, 2, in, 1, &out));
        ok = dims_eq(&out, o, od);
        strides_of(r, dims, xs);
        for (int64_t lin = 0; lin < pl__numel(o, od) && ok; lin++) {
            int64_t idx[8], src = 0, ii = 0, acc = 1;
            unravel(lin, o, od, idx);
            for (int i = q - 1; i >= 0; i--) {
                ii += idx[ax + i] * acc;
                acc *= id[i];
            }
            for (int i = 0; i < r; i++) {
                int64_t c = i < ax ? idx[i] : i == ax ? (raw[ii] + dims[ax]) % dims[ax]
                                                      : idx[i - 1 + q];
                src += c * xs[i];
            }
            ok = !memcmp((char *)out.data + lin * (int64_t)es, (char *)in[0].data + src * (int64_t)es, es);
        }
        PL_CHECK(ok);
        free_outs(&out, 1);
        free(in[0].data);
    }
    {
        /* out-of-range index: a run-time failure naming the node, not a crash */
        int64_t d[2] = {3, 2}, n = 3, idx[3] = {0, -3, 3};
        float x[6] = {0};
        pl__tview in[2] = {tv(PL_FLOAT32, 2, d, x), tv(PL_INT64, 1, &n, idx)}, out;
        PL_CHECK_FAILS(run_op("Gather", NULL, 0, 2, in, 1, &out), PL_ERR_INVALID_ARG,
                       "node 'node_under_test' (Gather): index 3 (at position 2) is out of range");
        free_outs(&out, 1);
        idx[2] = -4;
        PL_CHECK_FAILS(run_op("Gather", NULL, 0, 2, in, 1, &out), PL_ERR_INVALID_ARG, "index -4");
        free_outs(&out, 1);
        in[1].dtype = PL_FLOAT32;
        PL_CHECK_FAILS(infer_only("Gather", NULL, 0, 2, in, 1, &out), PL_ERR_SHAPE, "int32 or int64");
    }
}

static void test_gather_scatter_elements(void) {
    seed(51);
    for (int iter = 0; iter < 16; iter++) {
        pl_dtype dt = g_all_types[iter % NTYPES];
        size_t es = pl_dtype_size(dt);
        int r = (int)rnd_in(1, 4), axis = (int)rnd_in(-r, r - 1), ax = axis < 0 ? axis + r : axis;
        int64_t dims[8], id[8], xs[8], is[8], raw[256];
        pl__tview in[2], out;
        pl_attr at = PL_ATTR_I("axis", axis);
        bool ok;
        for (int i = 0; i < r; i++) {
            dims[i] = rnd_in(1, 4);
            id[i] = i == ax ? rnd_in(1, 5) : rnd_in(1, dims[i]);
        }
        for (int64_t k = 0; k < pl__numel(r, id); k++)
            raw[k] = rnd_in(-dims[ax], dims[ax] - 1);
        in[0] = tv(dt, r, dims, NULL);
        rand_tensor(&in[0]);
        in[1] = tv(PL_INT64, r, id, raw);
        PL_CHECK_OK(run_op("GatherElements", &at, 1, 2, in, 1, &out));
        ok = dims_eq(&out, r, id);
        strides_of(r, dims, xs);
        strides_of(r, id, is);
        for (int64_t lin = 0; lin < pl__numel(r, id) && ok; lin++) {
            int64_t idx[8], src = 0;
            unravel(lin, r, id, idx);
            idx[ax] = (raw[lin] + dims[ax]) % dims[ax];
            for (int i = 0; i < r; i++)
                src += idx[i] * xs[i];
            ok = !memcmp((char *)out.data + lin * (int64_t)es, (char *)in[0].data + src * (int64_t)es, es);
        }
        PL_CHECK(ok);
        free_outs(&out, 1);
        free(in[0].data);
    }
    {
        /* ScatterElements, ONNX's example with axis 1 and the add reduction with a duplicate */
        int64_t d[2] = {1, 5}, idd[2] = {1, 3}, idx[3] = {1, -2, 1};
        float x[5] = {1, 2, 3, 4, 5}, up[3] = {1.1f, 2.1f, 10.f}, wn[5] = {1, 10, 3, 2.1f, 5};
        float wa[5] = {1, 13.1f, 3, 6.1f, 5};
        pl__tview in[3] = {tv(PL_FLOAT32, 2, d, x), tv(PL_INT64, 2, idd, idx),
                           tv(PL_FLOAT32, 2, idd, up)}, out;
        pl_attr at[2] = {PL_ATTR_I("axis", 1), PL_ATTR_S("reduction", "add")};
        PL_CHECK_OK(run_op("ScatterElements", at, 1, 3, in, 1, &out));
        PL_CHECK(out.data && pl_test_allclose("scatter none", out.data, wn, 5, 0, 0));
        free_outs(&out, 1);
        PL_CHECK_OK(run_op("ScatterElements", at, 2, 3, in, 1, &out));
        PL_CHECK(out.data && pl_test_allclose("scatter add", out.data, wa, 5, 1e-6, 0));
        free_outs(&out, 1);
        idx[0] = 5;
        PL_CHECK_FAILS(run_op("ScatterElements", at, 1, 3, in, 1, &out), PL_ERR_INVALID_ARG,
                       "node 'node_under_test' (ScatterElements): index 5");
        free_outs(&out, 1);
    }
}

/* ---- Expand / Tile / DepthToSpace / SpaceToDepth ---- */

static void test_expand_tile(void) {
    seed(61);
    {
        int64_t xd[2] = {3, 1}, sh[3] = {2, 1, 4}, want[3] = {2, 3, 4};
        int32_t x[3] = {7, 8, 9};
        pl__tview in[2] = {tv(PL_INT32, 2, xd, x), tv_ints(3, sh)}, out;
        bool ok;
        PL_CHECK_OK(run_op("Expand", NULL, 0, 2, in, 1, &out));
        ok = dims_eq(&out, 3, want);
        for (int i = 0; i < 24 && ok; i++)
            ok = ((int32_t *)out.data)[i] == x[(i / 4) % 3];
        PL_CHECK(ok);
        free_outs(&out, 1);
        sh[2] = 5;
        sh[1] = 2;
        PL_CHECK_FAILS(infer_only("Expand", NULL, 0, 2, in, 1, &out), PL_ERR_SHAPE,
                       "node 'node_under_test' (Expand): shapes [3,1] and [2,2,5] do not broadcast");
    }
    for (int iter = 0; iter < 16; iter++) {
        pl_dtype dt = g_all_types[iter % NTYPES];
        size_t es = pl_dtype_size(dt);
        int r = (int)rnd_in(1, 4);
        int64_t xd[8], rep[8], od[8], xs[8];
        pl__tview in[2], out;
        bool ok;
        for (int i = 0; i < r; i++) {
            xd[i] = rnd_in(1, 4);
            rep[i] = rnd_in(1, 3);
            od[i] = xd[i] * rep[i];
        }
        in[0] = tv(dt, r, xd, NULL);
        rand_tensor(&in[0]);
        in[1] = tv_ints(r, rep);
        PL_CHECK_OK(run_op("Tile", NULL, 0, 2, in, 1, &out));
        ok = dims_eq(&out, r, od);
        strides_of(r, xd, xs);
        for (int64_t lin = 0; lin < pl__numel(r, od) && ok; lin++) {
            int64_t idx[8], src = 0;
            unravel(lin, r, od, idx);
            for (int i = 0; i < r; i++)
                src += (idx[i] % xd[i]) * xs[i];
            ok = !memcmp((char *)out.data + lin * (int64_t)es, (char *)in[0].data + src * (int64_t)es, es);
        }
        PL_CHECK(ok);
        free_outs(&out, 1);
        free(in[0].data);
    }
}

static void test_depth_space(void) {
    int64_t b = 2, N = 2, C = 8, H = 3, W = 4, c2 = C / (b * b);
    int64_t xd[4] = {N, C, H, W}, want[4] = {N, c2, H * b, W * b};
    float x[192];
    pl__tview in = tv(PL_FLOAT32, 4, xd, x), out, back;
    pl_attr at[2] = {PL_ATTR_I("blocksize", b), PL_ATTR_S("mode", "DCR")};
    bool ok;
    for (int i = 0; i < 192; i++)
        x[i] = (float)i;
    for (int m = 0; m < 2; m++) {
        at[1] = PL_ATTR_S("mode", m ? "CRD" : "DCR");
        PL_CHECK_OK(run_op("DepthToSpace", at, 2, 1, &in, 1, &out));
        ok = dims_eq(&out, 4, want);
        for (int64_t n = 0; n < N && ok; n++)
            for (int64_t c = 0; c < c2; c++)
                for (int64_t h = 0; h < H * b; h++)
                    for (int64_t w = 0; w < W * b; w++) {
                        int64_t bh = h % b, bw = w % b;
                        int64_t ci = m ? c * b * b + bh * b + bw : (bh * b + bw) * c2 + c;
                        float want_v = x[((n * C + ci) * H + h / b) * W + w / b];
                        ok = ok && ((float *)out.data)[((n * c2 + c) * H * b + h) * W * b + w] == want_v;
                    }
        PL_CHECK(ok);
        if (m == 0) { /* SpaceToDepth inverts DepthToSpace in DCR mode */
            PL_CHECK_OK(run_op("SpaceToDepth", at, 1, 1, &out, 1, &back));
            PL_CHECK(dims_eq(&back, 4, xd) && !memcmp(back.data, x, sizeof(x)));
            free_outs(&back, 1);
        }
        free_outs(&out, 1);
    }
    at[0] = PL_ATTR_I("blocksize", 3);
    PL_CHECK_FAILS(infer_only("DepthToSpace", at, 1, 1, &in, 1, &out), PL_ERR_SHAPE,
                   "not divisible");
}

/* ---- Pad ---- */

static int64_t ref_reflect(int64_t j, int64_t d) {
    /* bounce off the ends one reflection at a time */
    if (d == 1)
        return 0;
    while (j < 0 || j >= d)
        j = j < 0 ? -j : 2 * (d - 1) - j;
    return j;
}

static void test_pad(void) {
    static const char *const modes[] = {"constant", "reflect", "edge", "wrap"};
    seed(71);
    for (int iter = 0; iter < 48; iter++) {
        pl_dtype dt = g_all_types[iter % NTYPES];
        size_t es = pl_dtype_size(dt);
        int mode = iter % 4, r = (int)rnd_in(1, 4);
        int64_t xd[8], pads[16], od[8], xs[8], axes[8], na = r;
        bool use_axes = iter % 3 == 0 && r > 1, ok;
        bool old_form = iter % 5 == 4; /* opset < 11: pads and value as attributes */
        char cval[8];
        pl__tview in[4], out;
        pl_attr at[3];
        int nat = 1;
        int64_t full[16] = {0};
        for (int i = 0; i < r; i++)
            xd[i] = rnd_in(1, 5);
        if (use_axes) {
            na = 1;
            axes[0] = -1;
        } else {
            for (int i = 0; i < r; i++)
                axes[i] = i;
        }
        for (int k = 0; k < 2 * na; k++) {
            int a = (int)(axes[k % na] < 0 ? axes[k % na] + r : axes[k % na]);
            /* negative pads crop; reflect needs pads below the dim */
            int64_t lo = -(xd[a] - 1) / 2, hi = mode == 1 ? xd[a] - 1 : 4;
            pads[k] = rnd_in(lo, hi);
        }
        for (int k = 0; k < na; k++) {
            int a = (int)(axes[k] < 0 ? axes[k] + r : axes[k]);
            full[a] = pads[k];
            full[a + r] = pads[k + na];
        }
        for (int i = 0; i < r; i++)
            od[i] = xd[i] + full[i] + full[i + r];
        in[0] = tv(dt, r, xd, NULL);
        rand_tensor(&in[0]);
        memset(cval, 0, sizeof(cval));
        pl__set_f64(cval, dt, 0, 3.0);
        at[0] = PL_ATTR_S("mode", modes[mode]);
        if (old_form) {
            if (mode == 3 || use_axes)
                old_form = false;
        }
        if (old_form) {
            at[nat++] = PL_ATTR_INTS("pads", pads, 2 * r);
            at[nat++] = PL_ATTR_F("value", 3.0);
            PL_CHECK_OK(run_op("Pad", at, nat, 1, in, 1, &out));
        } else {
            int64_t one = 1;
            in[1] = tv_ints(2 * na, pads);
            in[2] = tv(dt, 1, &one, cval);
            in[3] = use_axes ? tv_ints(na, axes) : tv_none();
            PL_CHECK_OK(run_op("Pad", at, 1, use_axes ? 4 : 3, in, 1, &out));
        }
        ok = dims_eq(&out, r, od);
        strides_of(r, xd, xs);
        for (int64_t lin = 0; lin < pl__numel(r, od) && ok; lin++) {
            int64_t idx[8], src = 0;
            bool outside = false;
            unravel(lin, r, od, idx);
            for (int i = 0; i < r; i++) {
                int64_t j = idx[i] - full[i], d = xd[i];
                if (j < 0 || j >= d) {
                    if (mode == 0)
                        outside = true;
                    else if (mode == 1)
                        j = ref_reflect(j, d);
                    else if (mode == 2)
                        j = j < 0 ? 0 : d - 1;
                    else
                        j = ((j % d) + d) % d;
                }
                src += j * xs[i];
            }
            ok = !memcmp((char *)out.data + lin * (int64_t)es,
                         outside ? cval : (char *)in[0].data + src * (int64_t)es, es);
        }
        PL_CHECK(ok);
        if (!ok)
            fprintf(stderr, "pad iteration %d (%s) failed\n", iter, modes[mode]);
        free_outs(&out, 1);
        free(in[0].data);
    }
    {
        int64_t d = 3, pads[2] = {5, 4};
        float x[3] = {0, 1, 2}, want[12] = {1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2};
        pl__tview in[2] = {tv(PL_FLOAT32, 1, &d, x), tv_ints(2, pads)}, out;
        pl_attr m = PL_ATTR_S("mode", "reflect");
        /* numpy.pad's reflect for pads larger than the dim */
        PL_CHECK_OK(run_op("Pad", &m, 1, 2, in, 1, &out));
        PL_CHECK(out.dims[0] == 12 && pl_test_allclose("reflect", out.data, want, 12, 0, 0));
        free_outs(&out, 1);
        pads[0] = -4;
        PL_CHECK_FAILS(infer_only("Pad", &m, 1, 2, in, 1, &out), PL_ERR_SHAPE,
                       "node 'node_under_test' (Pad)");
        m = PL_ATTR_S("mode", "mirror");
        PL_CHECK_FAILS(infer_only("Pad", &m, 1, 2, in, 1, &out), PL_ERR_SHAPE, "unknown mode");
    }
}

/* ---- Resize ---- */

typedef struct rs_cfg {
    const char *mode, *coord, *nearest;
    double cubic_a;
    int exclude;
} rs_cfg;

/* Reference from the ONNX operator text: per output coordinate, the transform to the input
 * coordinate (in single precision, as onnxruntime computes it), then nearest rounding, or linear
 * or cubic interpolation over all axes with edge-clamped neighbours. */
static double ref_coord(const rs_cfg *c, double x, float s, int64_t lin, int64_t lout) {
    float xf = (float)x, len = (float)lin;
    if (!strcmp(c->coord, "half_pixel"))
        return (xf + 0.5f) / s - 0.5f;
    if (!strcmp(c->coord, "pytorch_half_pixel"))
        return lout > 1 ? (xf + 0.5f) / s - 0.5f : 0.f;
    if (!strcmp(c->coord, "align_corners")) /* ONNX's reference: resized length = scale * len */
        return lout == 1 || s * len <= 1.f ? 0.f : xf * (len - 1) / (s * len - 1);
    if (!strcmp(c->coord, "asymmetric"))
        return xf / s;
    if (!strcmp(c->coord, "tf_half_pixel_for_nn"))
        return (xf + 0.5f) / s;
    return -1e9;
}

static int64_t ref_round(const char *m, double x) {
    double f = floor(x);
    if (!strcmp(m, "floor"))
        return (int64_t)f;
    if (!strcmp(m, "ceil"))
        return (int64_t)ceil(x);
    if (x - f == 0.5)
        return (int64_t)(!strcmp(m, "round_prefer_ceil") ? f + 1 : f);
    return (int64_t)(x - f < 0.5 ? f : f + 1);
}

static void ref_taps(const rs_cfg *c, double x, int64_t L, int *n, int64_t *ix, double *w) {
    if (!strcmp(c->mode, "nearest")) {
        int64_t i = ref_round(c->nearest, x);
        ix[0] = i < 0 ? 0 : i >= L ? L - 1 : i;
        w[0] = 1;
        *n = 1;
    } else if (!strcmp(c->mode, "linear")) {
        int64_t i0 = (int64_t)floor(x);
        double t = x - (double)i0;
        ix[0] = i0 < 0 ? 0 : i0 >= L ? L - 1 : i0;
        ix[1] = i0 + 1 < 0 ? 0 : i0 + 1 >= L ? L - 1 : i0 + 1;
        w[0] = 1 - t;
        w[1] = t;
        *n = 2;
    } else {
        int64_t i0 = (int64_t)floor(x);
        double t = x - (double)i0, A = c->cubic_a, sum = 0;
        double d[4] = {1 + t, t, 1 - t, 2 - t};
        for (int k = 0; k < 4; k++) {
            double s = d[k], v;
            /* Keys kernel: |s| <= 1 and 1 < |s| < 2 */
            v = s <= 1 ? (A + 2) * s * s * s - (A + 3) * s * s + 1
                       : A * s * s * s - 5 * A * s * s + 8 * A * s - 4 * A;
            int64_t i = i0 - 1 + k;
            if (c->exclude && (i < 0 || i >= L))
                v = 0;
            ix[k] = i < 0 ? 0 : i >= L ? L - 1 : i;
            w[k] = v;
            sum += v;
        }
        if (c->exclude)
            for (int k = 0; k < 4; k++)
                w[k] /= sum;
        *n = 4;
    }
}

static void ref_resize(const rs_cfg *c, int r, const int64_t *xd, const float *x,
                       const int64_t *od, const float *scales, float *y) {
    int64_t xs[8], total = pl__numel(r, od);
    strides_of(r, xd, xs);
    for (int64_t lin = 0; lin < total; lin++) {
        int64_t idx[8], tix[8][4], combos = 1;
        double tw[8][4], acc = 0;
        int nt[8];
        unravel(lin, r, od, idx);
        for (int i = 0; i < r; i++) {
            double xi = ref_coord(c, (double)idx[i], scales[i], xd[i], od[i]);
            ref_taps(c, xi, xd[i], &nt[i], tix[i], tw[i]);
            combos *= nt[i];
        }
        for (int64_t cmb = 0; cmb < combos; cmb++) {
            int64_t rem = cmb, off = 0;
            double w = 1;
            for (int i = r - 1; i >= 0; i--) {
                int k = (int)(rem % nt[i]);
                rem /= nt[i];
                off += tix[i][k] * xs[i];
                w *= tw[i][k];
            }
            acc += w * x[off];
        }
        y[lin] = (float)acc;
    }
}

static void test_resize_random(void) {
    static const rs_cfg cfgs[] = {
        {"nearest", "half_pixel", "round_prefer_floor", 0, 0},
        {"nearest", "asymmetric", "floor", 0, 0},
        {"nearest", "align_corners", "round_prefer_ceil", 0, 0},
        {"nearest", "tf_half_pixel_for_nn", "ceil", 0, 0},
        {"nearest", "pytorch_half_pixel", "round_prefer_floor", 0, 0},
        {"linear", "half_pixel", "", 0, 0},
        {"linear", "align_corners", "", 0, 0},
        {"linear", "asymmetric", "", 0, 0},
        {"linear", "pytorch_half_pixel", "", 0, 0},
        {"cubic", "half_pixel", "", -0.75, 0},
        {"cubic", "align_corners", "", -0.5, 1},
        {"cubic", "asymmetric", "", -0.75, 1},
    };
    seed(81);
    for (size_t ci = 0; ci < sizeof(cfgs) / sizeof(cfgs[0]); ci++) {
        for (int iter = 0; iter < 6; iter++) {
            const rs_cfg *c = &cfgs[ci];
            int r = iter < 4 ? 4 : (int)rnd_in(1, 3);
            int64_t xd[8], od[8], sizes[8], n;
            float scales[8], *x, *ref;
            bool by_sizes = iter & 1;
            pl__tview in[4], out;
            pl_attr at[5] = {PL_ATTR_S("mode", c->mode),
                             PL_ATTR_S("coordinate_transformation_mode", c->coord),
                             PL_ATTR_S("nearest_mode", c->nearest[0] ? c->nearest : "floor"),
                             PL_ATTR_F("cubic_coeff_a", c->cubic_a),
                             PL_ATTR_I("exclude_outside", c->exclude)};
            for (int i = 0; i < r; i++) {
                xd[i] = rnd_in(1, 6);
                bool spatial = r < 4 || i >= 2; /* NCHW: N and C keep their size */
                if (by_sizes) {
                    sizes[i] = spatial ? rnd_in(1, 11) : xd[i];
                    od[i] = sizes[i];
                    scales[i] = (float)sizes[i] / (float)xd[i];
                } else {
                    static const float pick[] = {0.5f, 0.75f, 1.f, 1.5f, 2.f, 2.5f, 3.f, 0.6f};
                    scales[i] = spatial ? pick[rnd() % 8] : 1.f;
                    od[i] = (int64_t)floor((double)xd[i] * (double)scales[i]);
                    if (od[i] == 0) {
                        scales[i] = 1.f;
                        od[i] = xd[i];
                    }
                }
            }
            n = pl__numel(r, xd);
            x = malloc(sizeof(float) * (size_t)n);
            ref = malloc(sizeof(float) * (size_t)pl__numel(r, od) + 4);
            pl_test_fill_uniform(x, n, -2.f, 2.f, (uint64_t)(ci * 100 + (size_t)iter));
            ref_resize(c, r, xd, x, od, scales, ref);
            in[0] = tv(PL_FLOAT32, r, xd, x);
            in[1] = tv_none();
            if (by_sizes) {
                in[2] = tv(PL_FLOAT32, 1, &(int64_t){0}, NULL); /* empty scales, as exporters write */
                in[3] = tv_ints(r, sizes);
            } else {
                in[2] = tv(PL_FLOAT32, 1, &(int64_t){r}, scales);
            }
            PL_CHECK_OK(run_op("Resize", at, 5, by_sizes ? 4 : 3, in, 1, &out));
            PL_CHECK(dims_eq(&out, r, od));
            if (out.data && dims_eq(&out, r, od) &&
                !pl_test_allclose(c->mode, out.data, ref, pl__numel(r, od), 1e-5, 1e-5))
                fprintf(stderr, "  resize %s/%s/%s iteration %d\n", c->mode, c->coord, c->nearest,
                        iter);
            PL_CHECK(out.data && pl_test_allclose(c->mode, out.data, ref, pl__numel(r, od), 1e-5, 1e-5));
            free_outs(&out, 1);
            free(x);
            free(ref);
        }
    }
}

static void test_resize_golden(void) {
    /* values produced by onnxruntime 1.x for x = [[1,2,4],[3,7,5]] (1x1x2x3) */
    int64_t xd[4] = {1, 1, 2, 3};
    float x[6] = {1, 2, 4, 3, 7, 5};
    struct {
        const char *mode, *coord, *nearest;
        double a;
        int excl, by_sizes;
        float s[4];
        int64_t od[4];
        float want[28];
    } g[] = {
        {"linear", "half_pixel", "", -0.75, 0, 1, {0}, {1, 1, 3, 5},
         {1.0f, 1.4f, 2.0f, 3.2f, 4.0f, 2.0f, 3.0f, 4.5f, 4.5f, 4.5f, 3.0f, 4.6f, 7.0f, 5.8f, 5.0f}},
        {"linear", "align_corners", "", -0.75, 0, 0, {1, 1, 2, 2}, {1, 1, 4, 6},
         {1.0f, 1.4f, 1.8f, 2.4f, 3.2f, 4.0f, 1.666667f, 2.466667f, 3.266667f, 3.8f, 4.066667f,
          4.333333f, 2.333333f, 3.533334f, 4.733334f, 5.2f, 4.933333f, 4.666667f, 3.0f, 4.6f,
          6.2f, 6.599999f, 5.8f, 5.0f}},
        {"nearest", "asymmetric", "round_prefer_ceil", -0.75, 0, 0, {1, 1, 2, 2.5f}, {1, 1, 4, 7},
         {1, 1, 2, 2, 4, 4, 4, 3, 3, 7, 7, 5, 5, 5, 3, 3, 7, 7, 5, 5, 5, 3, 3, 7, 7, 5, 5, 5}},
        {"cubic", "half_pixel", "", -0.75, 0, 1, {0}, {1, 1, 3, 4},
         {0.773304f, 1.041589f, 2.493052f, 4.081674f, 1.820557f, 3.599121f, 4.774658f, 4.5f,
          2.867811f, 6.156656f, 7.056269f, 4.918331f}},
        {"cubic", "half_pixel", "", -0.5, 1, 1, {0}, {1, 1, 3, 4},
         {0.826493f, 1.212694f, 2.572080f, 4.052436f, 1.869403f, 3.566885f, 4.675398f, 4.5f,
          2.912313f, 5.921076f, 6.778716f, 4.947565f}},
        {"linear", "pytorch_half_pixel", "", -0.75, 0, 1, {0}, {1, 1, 1, 5},
         {1.0f, 1.4f, 2.0f, 3.2f, 4.0f}},
    };
    for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
        pl__tview in[4] = {tv(PL_FLOAT32, 4, xd, x), tv_none(), tv_none(), tv_none()}, out;
        pl_attr at[5] = {PL_ATTR_S("mode", g[i].mode),
                         PL_ATTR_S("coordinate_transformation_mode", g[i].coord),
                         PL_ATTR_S("nearest_mode", g[i].nearest[0] ? g[i].nearest : "floor"),
                         PL_ATTR_F("cubic_coeff_a", g[i].a),
                         PL_ATTR_I("exclude_outside", g[i].excl)};
        if (g[i].by_sizes)
            in[3] = tv_ints(4, g[i].od);
        else
            in[2] = tv(PL_FLOAT32, 1, &(int64_t){4}, g[i].s);
        PL_CHECK_OK(run_op("Resize", at, 5, 4, in, 1, &out));
        PL_CHECK(dims_eq(&out, 4, g[i].od));
        PL_CHECK(out.data && pl_test_allclose(g[i].mode, out.data, g[i].want,
                                              pl__numel(4, g[i].od), 2e-6, 1e-6));
        free_outs(&out, 1);
    }
    {
        /* Resize-10 / Upsample: asymmetric; nearest floors when upsampling and ceils when
         * downsampling (onnxruntime: [0..9] * 0.6 -> 0 2 4 5 7 9) */
        int64_t d[4] = {1, 1, 1, 10};
        float v[10], s[4] = {1, 1, 1, 0.6f}, want[6] = {0, 2, 4, 5, 7, 9};
        float su[4] = {1, 1, 1, 1.7f};
        float wl[17] = {0.f, 0.58823526f, 1.1764705f, 1.7647058f, 2.352941f, 2.9411764f,
                        3.5294116f, 4.117647f, 4.705882f, 5.2941175f, 5.882353f, 6.4705877f,
                        7.058823f, 7.6470585f, 8.235294f, 8.823529f, 9.f};
        pl__tview in[2] = {tv(PL_FLOAT32, 4, d, v), tv(PL_FLOAT32, 1, &(int64_t){4}, s)}, out;
        pl_attr lin = PL_ATTR_S("mode", "linear");
        for (int i = 0; i < 10; i++)
            v[i] = (float)i;
        PL_CHECK_OK(run_op("Resize", NULL, 0, 2, in, 1, &out));
        PL_CHECK(out.dims[3] == 6 && pl_test_allclose("resize10", out.data, want, 6, 0, 0));
        free_outs(&out, 1);
        in[1].data = su;
        PL_CHECK_OK(run_op("Upsample", &lin, 1, 2, in, 1, &out));
        PL_CHECK(out.dims[3] == 17 && pl_test_allclose("upsample", out.data, wl, 17, 1e-6, 1e-6));
        free_outs(&out, 1);
    }
    {
        /* tf_crop_and_resize: the output size ignores roi (as onnxruntime); x = 0..9 */
        int64_t d[4] = {1, 1, 1, 10};
        float v[10], roi[8] = {0, 0, 0, 0.2f, 1, 1, 1, 0.8f}, s[4] = {1, 1, 1, 2};
        pl__tview in[3] = {tv(PL_FLOAT32, 4, d, v), tv(PL_FLOAT32, 1, &(int64_t){8}, roi),
                           tv(PL_FLOAT32, 1, &(int64_t){4}, s)}, out;
        pl_attr at[2] = {PL_ATTR_S("mode", "linear"),
                         PL_ATTR_S("coordinate_transformation_mode", "tf_crop_and_resize")};
        for (int i = 0; i < 10; i++)
            v[i] = (float)i;
        PL_CHECK_OK(run_op("Resize", at, 2, 3, in, 1, &out));
        PL_CHECK(out.dims[3] == 20);
        PL_CHECK(out.data && fabsf(((float *)out.data)[0] - 1.8f) < 1e-5f &&
                 fabsf(((float *)out.data)[1] - 2.0842106f) < 1e-5f &&
                 fabsf(((float *)out.data)[19] - 7.2000003f) < 1e-5f);
        free_outs(&out, 1);
    }
    {
        /* nearest on int64 and uint8 moves exact bytes; linear on uint8 rounds */
        int64_t d[2] = {2, 2}, big[4] = {INT64_MAX, 1, -5, INT64_MIN + 3}, sz[2] = {4, 4};
        uint8_t u[4] = {0, 255, 10, 20};
        pl__tview in[4] = {tv(PL_INT64, 2, d, big), tv_none(), tv_none(), tv_ints(2, sz)}, out;
        pl_attr lin = PL_ATTR_S("mode", "linear");
        PL_CHECK_OK(run_op("Resize", NULL, 0, 4, in, 1, &out));
        PL_CHECK(out.data && ((int64_t *)out.data)[0] == INT64_MAX &&
                 ((int64_t *)out.data)[15] == INT64_MIN + 3);
        free_outs(&out, 1);
        in[0] = tv(PL_UINT8, 2, d, u);
        PL_CHECK_OK(run_op("Resize", &lin, 1, 4, in, 1, &out));
        /* half_pixel 2->4: row 0 col 1 is 0.75*0 + 0.25*255 = 63.75 -> 64 */
        PL_CHECK(out.data && ((uint8_t *)out.data)[1] == 64 && ((uint8_t *)out.data)[3] == 255);
        free_outs(&out, 1);
    }
    {
        /* keep_aspect_ratio_policy and axes (opset 18): 3x4 fit into 5x5 -> 4x5 / 5x7 */
        int64_t d[4] = {1, 1, 3, 4}, sz[2] = {5, 5}, axes[2] = {2, 3};
        int64_t w1[4] = {1, 1, 4, 5}, w2[4] = {1, 1, 5, 7};
        float v[12] = {0};
        pl__tview in[4] = {tv(PL_FLOAT32, 4, d, v), tv_none(), tv_none(), tv_ints(2, sz)}, out;
        pl_attr at[2] = {PL_ATTR_S("keep_aspect_ratio_policy", "not_larger"),
                         PL_ATTR_INTS("axes", axes, 2)};
        PL_CHECK_OK(infer_only("Resize", at, 2, 4, in, 1, &out));
        PL_CHECK(dims_eq(&out, 4, w1));
        at[0] = PL_ATTR_S("keep_aspect_ratio_policy", "not_smaller");
        PL_CHECK_OK(infer_only("Resize", at, 2, 4, in, 1, &out));
        PL_CHECK(dims_eq(&out, 4, w2));
        in[3] = tv_none();
        PL_CHECK_FAILS(infer_only("Resize", at, 2, 4, in, 1, &out), PL_ERR_SHAPE,
                       "node 'node_under_test' (Resize): exactly one of 'scales' and 'sizes'");
        at[0] = PL_ATTR_S("mode", "bicubic");
        in[3] = tv_ints(2, sz);
        PL_CHECK_FAILS(infer_only("Resize", at, 2, 4, in, 1, &out), PL_ERR_SHAPE, "unknown mode");
    }
}

/* ---- Range / Shape / Size / ConstantOfShape / NonZero / OneHot / Trilu ---- */

static void test_small_ops(void) {
    pl__tview out;
    {
        int64_t b = 10, e = -3, d = -4, w[4] = {10, 6, 2, -2};
        pl__tview in[3] = {tv(PL_INT64, 0, NULL, &b), tv(PL_INT64, 0, NULL, &e),
                           tv(PL_INT64, 0, NULL, &d)};
        PL_CHECK_OK(run_op("Range", NULL, 0, 3, in, 1, &out));
        PL_CHECK(out.dims[0] == 4 && out.data && !memcmp(out.data, w, sizeof(w)));
        free_outs(&out, 1);
        d = 0;
        PL_CHECK_FAILS(infer_only("Range", NULL, 0, 3, in, 1, &out), PL_ERR_SHAPE,
                       "node 'node_under_test' (Range): delta is 0");
    }
    {
        float b = 0.5f, e = 2.0f, d = 0.3f; /* ceil(1.5 / 0.3) = 5 */
        pl__tview in[3] = {tv(PL_FLOAT32, 0, NULL, &b), tv(PL_FLOAT32, 0, NULL, &e),
                           tv(PL_FLOAT32, 0, NULL, &d)};
        PL_CHECK_OK(run_op("Range", NULL, 0, 3, in, 1, &out));
        PL_CHECK(out.dims[0] == 5 && out.data && fabsf(((float *)out.data)[4] - 1.7f) < 1e-6f);
        free_outs(&out, 1);
    }
    {
        /* Shape reads only dims: data NULL */
        int64_t d[4] = {2, 3, 5, 7}, w[2] = {3, 5};
        pl__tview x = tv(PL_FLOAT16, 4, d, NULL);
        pl_attr at[2] = {PL_ATTR_I("start", 1), PL_ATTR_I("end", -1)};
        PL_CHECK_OK(run_op("Shape", at, 2, 1, &x, 1, &out));
        PL_CHECK(out.dtype == PL_INT64 && out.dims[0] == 2 && !memcmp(out.data, w, sizeof(w)));
        free_outs(&out, 1);
        PL_CHECK_OK(run_op("Shape", NULL, 0, 1, &x, 1, &out));
        PL_CHECK(out.dims[0] == 4 && ((int64_t *)out.data)[3] == 7);
        free_outs(&out, 1);
        PL_CHECK_OK(run_op("Size", NULL, 0, 1, &x, 1, &out));
        PL_CHECK(out.rank == 0 && *(int64_t *)out.data == 210);
        free_outs(&out, 1);
    }
    {
        int64_t sh[2] = {2, 3}, v = -7;
        pl__tview in = tv_ints(2, sh);
        pl_attr at[2] = {{.name = "value", .type = PL_ATTR_BYTES, .bytes = &v, .count = 8},
                         PL_ATTR_I("value_dtype", PL_INT64)};
        bool ok;
        PL_CHECK_OK(run_op("ConstantOfShape", at, 2, 1, &in, 1, &out));
        ok = out.dtype == PL_INT64 && dims_eq(&out, 2, sh);
        for (int i = 0; i < 6 && ok; i++)
            ok = ((int64_t *)out.data)[i] == -7;
        PL_CHECK(ok);
        free_outs(&out, 1);
        PL_CHECK_OK(run_op("ConstantOfShape", NULL, 0, 1, &in, 1, &out));
        PL_CHECK(out.dtype == PL_FLOAT32 && ((float *)out.data)[5] == 0.f);
        free_outs(&out, 1);
    }
    {
        /* NonZero: bound [rank, numel] at inference, actual [rank, nnz] from the kernel */
        int64_t d[2] = {2, 3}, want[2][4] = {{0, 0, 1, 1}, {0, 2, 1, 2}};
        float x[6] = {1, 0, -0.f + 3, 0, 2, -1};
        uint16_t h[6] = {0x3c00, 0x8000, 0x3c00, 0, 0x4000, 0xbc00}; /* 1, -0, 1, 0, 2, -1 */
        pl__tview in = tv(PL_FLOAT32, 2, d, x);
        bool ok;
        PL_CHECK_OK(infer_only("NonZero", NULL, 0, 1, &in, 1, &out));
        PL_CHECK(out.dims[0] == 2 && out.dims[1] == 6 && pl__op_find("NonZero")->data_dependent);
        PL_CHECK_OK(run_op("NonZero", NULL, 0, 1, &in, 1, &out));
        ok = out.dims[0] == 2 && out.dims[1] == 4;
        for (int r = 0; r < 2 && ok; r++)
            for (int k = 0; k < 4 && ok; k++)
                ok = ((int64_t *)out.data)[r * 4 + k] == want[r][k];
        PL_CHECK(ok);
        free_outs(&out, 1);
        in = tv(PL_FLOAT16, 2, d, h);
        PL_CHECK_OK(run_op("NonZero", NULL, 0, 1, &in, 1, &out));
        PL_CHECK(out.dims[1] == 4 && ((int64_t *)out.data)[5] == 2); /* -0 counts as zero */
        free_outs(&out, 1);
    }
    {
        int64_t n = 3, idx[3] = {0, -1, 7}, one = 1, two = 2;
        float depth = 4, vals[2] = {0, 5};
        pl__tview in[3] = {tv(PL_INT64, 1, &n, idx), tv(PL_FLOAT32, 1, &one, &depth),
                           tv(PL_FLOAT32, 1, &two, vals)};
        pl_attr at = PL_ATTR_I("axis", 0);
        float want[12] = {5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0};
        PL_CHECK_OK(run_op("OneHot", &at, 1, 3, in, 1, &out));
        PL_CHECK(out.dims[0] == 4 && out.dims[1] == 3 &&
                 pl_test_allclose("onehot", out.data, want, 12, 0, 0));
        free_outs(&out, 1);
    }
    {
        int64_t d[2] = {3, 4}, k = -1;
        int32_t x[12], wu[12] = {1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12};
        int32_t wl[12] = {0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0};
        pl__tview in[2] = {tv(PL_INT32, 2, d, x), tv(PL_INT64, 0, NULL, &k)};
        pl_attr lo = PL_ATTR_I("upper", 0);
        for (int i = 0; i < 12; i++)
            x[i] = i + 1;
        PL_CHECK_OK(run_op("Trilu", NULL, 0, 2, in, 1, &out));
        PL_CHECK(out.data && !memcmp(out.data, wu, sizeof(wu)));
        free_outs(&out, 1);
        PL_CHECK_OK(run_op("Trilu", &lo, 1, 2, in, 1, &out));
        PL_CHECK(out.data && !memcmp(out.data, wl, sizeof(wl)));
        free_outs(&out, 1);
    }
}

int main(void) {
    if (pl__cpu_backend.create(&g_bctx)) {
        fprintf(stderr, "cannot create the CPU backend: %s\n", pl_errmsg());
        return 1;
    }
    PL_RUN(test_concat);
    PL_RUN(test_split);
    PL_RUN(test_slice);
    PL_RUN(test_reshape_family);
    PL_RUN(test_transpose);
    PL_RUN(test_gather);
    PL_RUN(test_gather_scatter_elements);
    PL_RUN(test_expand_tile);
    PL_RUN(test_depth_space);
    PL_RUN(test_pad);
    PL_RUN(test_resize_random);
    PL_RUN(test_resize_golden);
    PL_RUN(test_small_ops);
    pl__cpu_backend.destroy(g_bctx);
    printf("checks: %d passed, %d failed\n", pl_test_checks_passed, pl_test_checks_failed);
    return pl_test_report();
}
