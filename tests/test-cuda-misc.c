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

#include "core/core.h"
#include "harness.h"
#include "test-cuda-util.h"

#define TOL 1e-5
#define TOL16 2e-3

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

static int64_t rnd_int(int64_t lo, int64_t hi) {
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

static double rnd_unit(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }

static int64_t numel(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

/* ---- inputs: network inputs, then the layer's constant inputs ---- */

typedef struct spec {
    int nin;
    pl_tc_in in[4];
    bool sv[4]; /* shape-value input: its values go to the builder config */
} spec;

static void *spec_add(spec *s, pl_dtype t, int rank, const int64_t *dims) {
    pl_tc_in *x = &s->in[s->nin];
    char *name = malloc(16);
    snprintf(name, 16, "in%d", s->nin);
    x->name = name;
    x->dtype = t;
    x->rank = rank;
    memcpy(x->dims, dims, sizeof(int64_t) * (size_t)rank);
    x->data = calloc(1, pl_tc_bytes(rank, dims, t) + 8);
    s->nin++;
    return x->data;
}

/* Uniform values in [lo, hi) stored as t (rounded to t). */
static void spec_uniform(spec *s, pl_dtype t, int rank, const int64_t *dims, double lo,
                         double hi) {
    void *v = spec_add(s, t, rank, dims);
    for (int64_t i = 0; i < numel(rank, dims); i++)
        pl__set_f64(v, t, i, lo + (hi - lo) * rnd_unit());
}

static void spec_ints(spec *s, pl_dtype t, int rank, const int64_t *dims, int64_t lo,
                      int64_t hi) {
    void *v = spec_add(s, t, rank, dims);
    for (int64_t i = 0; i < numel(rank, dims); i++)
        pl__set_f64(v, t, i, (double)rnd_int(lo, hi));
}

/* A scalar shape-value input (Range's start/limit/delta). */
static void spec_scalar(spec *s, pl_dtype t, double v) {
    pl__set_f64(spec_add(s, t, 0, NULL), t, 0, v);
    s->sv[s->nin - 1] = true;
}

static void spec_free(spec *s) {
    for (int i = 0; i < s->nin; i++) {
        free((void *)s->in[i].name);
        free(s->in[i].data);
    }
    s->nin = 0;
}

/* ---- the layer ---- */

typedef struct layer_spec layer_spec;
/* Naive reference: all layer inputs (x[k] of type t[k], dims) in, n doubles out. */
typedef void (*ref_fn)(const layer_spec *l, const pl_tc_in *x, double *y, int64_t n);

struct layer_spec {
    const char *op;
    int nat;
    pl_attr at[4];
    int ncst;           /* constant inputs appended after the network inputs */
    pl_dtype cst_t[2];
    int cst_rank[2];
    int64_t cst_dims[2][2];
    const void *cst[2];
    double tol;         /* 0: exact */
    bool ref_f32;       /* the CPU runs float32 copies of float16 inputs (no float16 kernel) */
    ref_fn ref;
};

static const pl_attr *lattr(const layer_spec *l, const char *name) {
    for (int i = 0; i < l->nat; i++)
        if (strcmp(l->at[i].name, name) == 0)
            return &l->at[i];
    return NULL;
}

static int64_t lattr_int(const layer_spec *l, const char *name, int64_t def) {
    const pl_attr *a = lattr(l, name);
    return a ? a->i : def;
}

/* ---- running (pl_tc_run with shape-value inputs and any output type) ---- */

static pl_status set_values(pl_builder_config *cfg, const pl_tc_in *x) {
    int64_t n = numel(x->rank, x->dims), iv[8];
    double fv[8];
    if (n > 8)
        return PL_ERR_INVALID_ARG;
    for (int64_t i = 0; i < n; i++) {
        iv[i] = pl__get_i64(x->data, x->dtype, i);
        fv[i] = pl__get_f64(x->data, x->dtype, i);
    }
    if (x->dtype == PL_FLOAT32 || x->dtype == PL_FLOAT16 || x->dtype == PL_FLOAT64)
        return pl_builder_config_set_shape_values_f64(cfg, x->name, n, fv, fv, fv);
    return pl_builder_config_set_shape_values(cfg, x->name, n, iv, iv, iv);
}

static int run_net(const pl_network *net, pl_device dev, const spec *s, int runs, pl_tc_out *out,
                   int *host, char *host_ops, size_t host_ops_sz) {
    pl_builder_config *cfg = NULL;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    void *plan = NULL, *buf = NULL;
    float *first = NULL;
    size_t size = 0, bytes = 0;
    int ok = 0;
    pl_status st;
    memset(out, 0, sizeof(*out));
    *host = 0;
    host_ops[0] = '\0';
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    if (!cfg)
        return 0;
    pl_builder_config_set_device(cfg, dev);
    for (int i = 0; i < s->nin; i++) {
        PL_CHECK_OK(pl_builder_config_set_shape(cfg, s->in[i].name, s->in[i].rank, s->in[i].dims,
                                                s->in[i].dims, s->in[i].dims));
        if (s->sv[i])
            PL_CHECK_OK(set_values(cfg, &s->in[i]));
    }
    if ((st = pl_build_serialized(net, cfg, &plan, &size))) {
        fprintf(stderr, "build on %s failed: %s\n", pl_device_name(dev), pl_errmsg());
        PL_CHECK(st == PL_OK);
        goto done;
    }
    PL_CHECK_OK(pl_engine_load(plan, size, &e));
    if (!e)
        goto done;
    for (int i = 0; i < pl_engine_num_layers(e); i++) {
        pl_layer_info li;
        if (pl_engine_layer(e, i, &li) == PL_OK && strncmp(li.kernel, "cpu", 3) == 0) {
            (*host)++;
            if (strlen(host_ops) + strlen(li.op) + 2 < host_ops_sz) {
                strcat(host_ops, li.op);
                strcat(host_ops, " ");
            }
        }
    }
    PL_CHECK_OK(pl_context_create(e, &ctx));
    if (!ctx)
        goto done;
    for (int i = 0; i < s->nin; i++)
        PL_CHECK_OK(pl_context_set_tensor(ctx, s->in[i].name, s->in[i].data, PL_MEMORY_HOST,
                                          pl_tc_bytes(s->in[i].rank, s->in[i].dims,
                                                      s->in[i].dtype)));
    for (int i = 0; i < pl_engine_num_io(e); i++) {
        pl_io_info io;
        int rank;
        int64_t dims[PL_MAX_RANK];
        PL_CHECK_OK(pl_engine_io(e, i, &io));
        if (io.is_input)
            continue;
        PL_CHECK_OK(pl_context_get_shape(ctx, io.name, &rank, dims));
        bytes = pl_tc_bytes(rank, dims, io.dtype);
        buf = calloc(bytes ? bytes : 1, 1);
        out->count[0] = (int64_t)(bytes / pl_dtype_size(io.dtype));
        out->v[0] = malloc(sizeof(float) * (size_t)(out->count[0] + 1));
        first = malloc(sizeof(float) * (size_t)(out->count[0] + 1));
        out->dtype[0] = io.dtype;
        out->n = 1;
        PL_CHECK_OK(pl_context_set_tensor(ctx, io.name, buf, PL_MEMORY_HOST, bytes));
        break; /* one output */
    }
    if (!out->n)
        goto done;
    for (int r = 0; r < runs; r++) {
        float *dst = r == 0 ? first : out->v[0];
        if ((st = pl_context_execute(ctx))) {
            fprintf(stderr, "execute %d on %s failed: %s\n", r, pl_device_name(dev), pl_errmsg());
            PL_CHECK(st == PL_OK);
            goto done;
        }
        for (int64_t i = 0; i < out->count[0]; i++)
            dst[i] = (float)pl__get_f64(buf, out->dtype[0], i);
        if (r > 0 && memcmp(first, out->v[0], sizeof(float) * (size_t)out->count[0]) != 0) {
            fprintf(stderr, "run %d on %s: the output differs from the first run\n", r,
                    pl_device_name(dev));
            PL_CHECK(0);
            goto done;
        }
    }
    if (runs == 1)
        memcpy(out->v[0], first, sizeof(float) * (size_t)out->count[0]);
    ok = 1;
done:
    free(buf);
    free(first);
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(plan);
    pl_builder_config_free(cfg);
    if (!ok)
        pl_tc_out_free(out);
    return ok;
}

static pl_network *make_net(const spec *s, const layer_spec *l) {
    pl_network *net = NULL;
    pl_tensor ids[6], y;
    PL_CHECK_OK(pl_network_create(&net));
    if (!net)
        return NULL;
    for (int i = 0; i < s->nin; i++)
        PL_CHECK_OK(pl_network_add_input(net, s->in[i].name, s->in[i].dtype, s->in[i].rank,
                                         s->in[i].dims, NULL, &ids[i]));
    for (int i = 0; i < l->ncst; i++)
        PL_CHECK_OK(pl_network_add_constant(net, NULL, l->cst_t[i], l->cst_rank[i],
                                            l->cst_dims[i], l->cst[i], &ids[s->nin + i]));
    PL_CHECK_OK(pl_network_add_layer(net, l->op, NULL, ids, s->nin + l->ncst, l->at, l->nat, 1,
                                     NULL, &y));
    PL_CHECK_OK(pl_network_mark_output(net, y));
    return net;
}

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

static void check(const char *what, spec *s, const layer_spec *l) {
    pl_network *net = make_net(s, l), *net32 = NULL;
    spec s32 = {0};
    const spec *cs = s;
    pl_tc_out cpu, gpu;
    int host = 0;
    char host_ops[256];
    double tol;
    printf("  case %s\n", what);
    fflush(stdout);
    if (!net)
        return;
    if (l->ref_f32) {
        /* float32 copies of float16 inputs (the same values) for the CPU */
        for (int i = 0; i < s->nin; i++) {
            pl_dtype t = s->in[i].dtype == PL_FLOAT16 ? PL_FLOAT32 : s->in[i].dtype;
            void *v = spec_add(&s32, t, s->in[i].rank, s->in[i].dims);
            for (int64_t k = 0; k < numel(s->in[i].rank, s->in[i].dims); k++)
                pl__set_f64(v, t, k, pl__get_f64(s->in[i].data, s->in[i].dtype, k));
            s32.sv[i] = s->sv[i];
        }
        net32 = make_net(&s32, l);
        cs = &s32;
    }
    if (run_net(net, PL_DEVICE_CUDA, s, 3, &gpu, &host, host_ops, sizeof(host_ops))) {
        tol = exact_type(gpu.dtype[0]) ? 0 : l->tol;
        if (host)
            fprintf(stderr, "%s: %d layer(s) ran on the CPU: %s\n", what, host, host_ops);
        PL_CHECK(host == 0);
        if (run_net(net32 ? net32 : net, PL_DEVICE_CPU, cs, 1, &cpu, &host, host_ops,
                    sizeof(host_ops))) {
            PL_CHECK(gpu.count[0] == cpu.count[0]);
            if (gpu.count[0] == cpu.count[0]) {
                char w[160];
                snprintf(w, sizeof(w), "%s (vs CPU)", what);
                PL_CHECK(same(w, gpu.v[0], cpu.v[0], cpu.count[0], tol));
            }
            pl_tc_out_free(&cpu);
        }
        if (l->ref) {
            /* layer inputs: the network's, then the constants */
            pl_tc_in x[6];
            int64_t n = gpu.count[0];
            double *yd = malloc(sizeof(double) * (size_t)(n + 1));
            float *yf = malloc(sizeof(float) * (size_t)(n + 1));
            char w[160];
            memset(x, 0, sizeof(x));
            memcpy(x, s->in, sizeof(pl_tc_in) * (size_t)s->nin);
            for (int i = 0; i < l->ncst; i++) {
                x[s->nin + i] = (pl_tc_in){.dtype = l->cst_t[i], .rank = l->cst_rank[i],
                                           .data = (void *)l->cst[i]};
                memcpy(x[s->nin + i].dims, l->cst_dims[i], sizeof(l->cst_dims[i]));
            }
            l->ref(l, x, yd, n);
            for (int64_t i = 0; i < n; i++)
                yf[i] = (float)yd[i];
            snprintf(w, sizeof(w), "%s (vs naive)", what);
            PL_CHECK(same(w, gpu.v[0], yf, n, tol));
            free(yd);
            free(yf);
        }
        pl_tc_out_free(&gpu);
    }
    pl_network_free(net);
    pl_network_free(net32);
    spec_free(&s32);
}

/* ---- naive references ---- */

static double xget(const pl_tc_in *x, int64_t i) { return pl__get_f64(x->data, x->dtype, i); }

static void ref_isx(const layer_spec *l, const pl_tc_in *x, double *y, int64_t n) {
    bool inf = strcmp(l->op, "IsInf") == 0;
    bool pos = lattr_int(l, "detect_positive", 1) != 0, neg = lattr_int(l, "detect_negative", 1);
    for (int64_t i = 0; i < n; i++) {
        double v = xget(&x[0], i);
        y[i] = inf ? (isinf(v) && ((v > 0 && pos) || (v < 0 && neg))) : isnan(v);
    }
}

static void ref_not(const layer_spec *l, const pl_tc_in *x, double *y, int64_t n) {
    (void)l;
    for (int64_t i = 0; i < n; i++)
        y[i] = ((const uint8_t *)x[0].data)[i] == 0;
}

/* numpy broadcasting of two inputs: offsets of output element i */
static void bcast_off(const pl_tc_in *a, const pl_tc_in *b, int64_t i, int64_t *oa,
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

static void ref_mod(const layer_spec *l, const pl_tc_in *x, double *y, int64_t n) {
    bool c_fmod = lattr_int(l, "fmod", 0) != 0;
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

static void ref_cos(const layer_spec *l, const pl_tc_in *x, double *y, int64_t n) {
    const pl_attr *v = lattr(l, "value");
    pl_dtype t = (pl_dtype)lattr_int(l, "value_dtype", PL_FLOAT32);
    double val = v ? pl__get_f64(v->bytes, t, 0) : 0;
    (void)x;
    for (int64_t i = 0; i < n; i++)
        y[i] = val;
}

static void ref_range(const layer_spec *l, const pl_tc_in *x, double *y, int64_t n) {
    double b = xget(&x[0], 0), d = xget(&x[2], 0);
    (void)l;
    for (int64_t i = 0; i < n; i++)
        y[i] = b + (double)i * d;
}

static void ref_trilu(const layer_spec *l, const pl_tc_in *x, double *y, int64_t n) {
    bool upper = lattr_int(l, "upper", 1) != 0;
    int64_t R = x[0].dims[x[0].rank - 2], C = x[0].dims[x[0].rank - 1];
    int64_t k = x[1].data ? pl__get_i64(x[1].data, x[1].dtype, 0) : 0;
    for (int64_t p = 0; p < n; p++) {
        int64_t j = p % C, i = (p / C) % R;
        bool keep = upper ? j >= i + k : j <= i + k;
        y[p] = keep ? xget(&x[0], p) : 0.0;
    }
}

static void ref_lpnorm(const layer_spec *l, const pl_tc_in *x, double *y, int64_t n) {
    int r = x[0].rank, axis = (int)lattr_int(l, "axis", -1);
    int p = (int)lattr_int(l, "p", 2);
    int64_t outer, len, inner;
    (void)n;
    if (axis < 0)
        axis += r;
    outer = numel(axis, x[0].dims);
    len = x[0].dims[axis];
    inner = numel(r - axis - 1, x[0].dims + axis + 1);
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
    NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        spec s = {0};
        layer_spec l = {.op = cs[c].op, .ref = ref_isx};
        char what[96];
        void *x;
        if (strcmp(cs[c].op, "IsInf") == 0) {
            l.nat = 2;
            l.at[0] = PL_ATTR_I("detect_positive", cs[c].pos);
            l.at[1] = PL_ATTR_I("detect_negative", cs[c].neg);
        }
        spec_uniform(&s, cs[c].t, 2, D(7, 61), -1e4, 1e4);
        x = s.in[0].data;
        /* about one in six each: NaN, +inf, -inf; plus the largest finite values */
        for (int64_t i = 0; i < 7 * 61; i++) {
            int64_t k = rnd_int(0, 17);
            if (k < 3)
                pl__set_f64(x, cs[c].t, i, k == 0 ? NAN : k == 1 ? INFINITY : -INFINITY);
            else if (k == 3)
                pl__set_f64(x, cs[c].t, i, cs[c].t == PL_FLOAT16 ? -65504.0 : -3.0e38);
        }
        snprintf(what, sizeof(what), "%s %s pos %d neg %d", cs[c].op, pl_dtype_name(cs[c].t),
                 cs[c].pos, cs[c].neg);
        check(what, &s, &l);
        spec_free(&s);
    }
}

static void test_not(void) {
    spec s = {0};
    layer_spec l = {.op = "Not", .ref = ref_not};
    NEED_GPU();
    spec_ints(&s, PL_BOOL, 3, D(3, 5, 47), 0, 1);
    check("Not bool [3, 5, 47]", &s, &l);
    spec_free(&s);
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
    NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        spec s = {0};
        layer_spec l = {.op = "Mod", .nat = 1, .tol = cs[c].t == PL_FLOAT16 ? TOL16 : TOL,
                        .ref = ref_mod};
        pl_dtype t = cs[c].t;
        char what[96];
        l.at[0] = PL_ATTR_I("fmod", cs[c].fmod);
        if (t == PL_UINT8) {
            spec_ints(&s, t, cs[c].ra, cs[c].da, 0, 255);
            spec_ints(&s, t, cs[c].rb, cs[c].db, 0, 20); /* zeros included */
        } else if (exact_type(t)) {
            /* negative dividends and divisors, 0 and -1 among the divisors */
            int64_t lim = t == PL_INT8 ? 127 : 1000;
            spec_ints(&s, t, cs[c].ra, cs[c].da, -lim - 1, lim);
            spec_ints(&s, t, cs[c].rb, cs[c].db, -9, 9);
        } else {
            void *b;
            spec_uniform(&s, t, cs[c].ra, cs[c].da, -20, 20);
            spec_uniform(&s, t, cs[c].rb, cs[c].db, 0.5, 4);
            b = s.in[1].data; /* nonzero divisors of both signs */
            for (int64_t i = 0; i < numel(cs[c].rb, cs[c].db); i++)
                if (rnd() & 1)
                    pl__set_f64(b, t, i, -pl__get_f64(b, t, i));
        }
        snprintf(what, sizeof(what), "Mod %s fmod %d, ranks %d and %d", pl_dtype_name(t),
                 cs[c].fmod, cs[c].ra, cs[c].rb);
        check(what, &s, &l);
        spec_free(&s);
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
    NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        spec s = {0};
        layer_spec l = {.op = "ConstantOfShape", .ref = ref_cos};
        uint64_t bytes = 0;
        int64_t *sh;
        char what[96];
        pl__set_f64(&bytes, cs[c].t, 0, cs[c].v);
        if (cs[c].has_value) {
            l.nat = 2;
            l.at[0] = (pl_attr){.name = "value", .type = PL_ATTR_BYTES, .bytes = &bytes,
                                .count = (int64_t)pl_dtype_size(cs[c].t)};
            l.at[1] = PL_ATTR_I("value_dtype", cs[c].t);
        }
        sh = spec_add(&s, PL_INT64, 1, D(cs[c].rank));
        memcpy(sh, cs[c].shape, sizeof(int64_t) * (size_t)cs[c].rank);
        s.sv[0] = true;
        snprintf(what, sizeof(what), "ConstantOfShape %s %g rank %d%s", pl_dtype_name(cs[c].t),
                 cs[c].v, cs[c].rank, cs[c].has_value ? "" : " (default value)");
        check(what, &s, &l);
        spec_free(&s);
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
    NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        spec s = {0};
        layer_spec l = {.op = "Range", .tol = cs[c].t == PL_FLOAT16 ? TOL16 : TOL,
                        .ref = ref_range};
        char what[96];
        spec_scalar(&s, cs[c].t, cs[c].b);
        spec_scalar(&s, cs[c].t, cs[c].e);
        spec_scalar(&s, cs[c].t, cs[c].d);
        snprintf(what, sizeof(what), "Range %s %g to %g step %g", pl_dtype_name(cs[c].t), cs[c].b,
                 cs[c].e, cs[c].d);
        check(what, &s, &l);
        spec_free(&s);
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
    NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        spec s = {0};
        layer_spec l = {.op = "Trilu", .nat = 1, .ref = ref_trilu};
        int64_t k = cs[c].k;
        pl_dtype t = cs[c].t;
        char what[96];
        l.at[0] = PL_ATTR_I("upper", cs[c].upper);
        if (exact_type(t))
            spec_ints(&s, t, cs[c].rank, cs[c].dims, -1000, 1000);
        else
            spec_uniform(&s, t, cs[c].rank, cs[c].dims, -2, 2);
        if (cs[c].kmode == 1) {
            l.ncst = 1;
            l.cst_t[0] = PL_INT64;
            l.cst_rank[0] = 0;
            l.cst[0] = &k;
        } else if (cs[c].kmode == 2) {
            /* read by the kernel on the device (k is not a value input) */
            *(int64_t *)spec_add(&s, PL_INT64, 0, NULL) = k;
        }
        snprintf(what, sizeof(what), "Trilu %s upper %d k %lld (%s), rank %d", pl_dtype_name(t),
                 cs[c].upper, (long long)k,
                 cs[c].kmode == 0 ? "none" : cs[c].kmode == 1 ? "constant" : "input",
                 cs[c].rank);
        check(what, &s, &l);
        spec_free(&s);
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
    NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        spec s = {0};
        layer_spec l = {.op = "LpNormalization", .nat = 2,
                        .tol = cs[c].t == PL_FLOAT16 ? TOL16 : TOL,
                        .ref_f32 = cs[c].t == PL_FLOAT16, .ref = ref_lpnorm};
        int64_t inner;
        int axis = cs[c].axis < 0 ? cs[c].axis + cs[c].rank : cs[c].axis;
        char what[96];
        l.at[0] = PL_ATTR_I("p", cs[c].p);
        l.at[1] = PL_ATTR_I("axis", cs[c].axis);
        spec_uniform(&s, cs[c].t, cs[c].rank, cs[c].dims, -2, 2);
        /* one all-zero vector along the axis: its norm is 0 and it stays zero */
        inner = numel(cs[c].rank - axis - 1, cs[c].dims + axis + 1);
        for (int64_t k = 0; k < cs[c].dims[axis]; k++)
            pl__set_f64(s.in[0].data, cs[c].t, k * inner, 0.0);
        snprintf(what, sizeof(what), "LpNormalization %s p %d axis %d rank %d",
                 pl_dtype_name(cs[c].t), cs[c].p, cs[c].axis, cs[c].rank);
        check(what, &s, &l);
        spec_free(&s);
    }
}

int main(void) {
    pl_tc_catch_crashes();
    PL_RUN(test_isnan_isinf);
    PL_RUN(test_not);
    PL_RUN(test_mod);
    PL_RUN(test_constant_of_shape);
    PL_RUN(test_range);
    PL_RUN(test_trilu);
    PL_RUN(test_lpnorm);
    return pl_test_report();
}
