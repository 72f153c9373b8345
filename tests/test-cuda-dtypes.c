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
 * device" and passes. test-cuda-util.h's runner hands outputs back as float32 and knows no
 * shape values, so this file carries its own.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test-cuda-util.h"

#define D(...) ((const int64_t[]){__VA_ARGS__})
#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

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

static double rnd_real(double lo, double hi) {
    return lo + (hi - lo) * (double)(rnd() >> 11) / 9007199254740992.0;
}

/* ---- 16-bit float conversions (the test's own, round to nearest even) ---- */

static uint16_t f2bf(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

static float bf2f(uint16_t h) {
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static float h2f(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY)
                                                       : ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000) ? -v : v;
}

/* ---- a one-layer network: inputs are graph inputs, constants or omitted ---- */

enum { S_INPUT, S_CONST, S_NONE };

typedef struct slot {
    int kind;
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
    void *data;
    bool values; /* a graph input whose values are its profile (run-time Reduce axes) */
} slot;

typedef struct layer {
    const char *op;
    int nat;
    pl_attr at[4];
    int nslot;
    slot s[4];
} layer;

static int64_t numel(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

static slot *add_slot(layer *l, int kind, pl_dtype t, int rank, const int64_t *dims) {
    slot *s = &l->s[l->nslot++];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->dtype = t;
    s->rank = rank;
    if (rank)
        memcpy(s->dims, dims, sizeof(int64_t) * (size_t)rank);
    if (kind != S_NONE)
        s->data = calloc(1, (size_t)numel(rank, s->dims) * pl_dtype_size(t) + 8);
    return s;
}

static void set_real(slot *s, int64_t i, double v) {
    switch (s->dtype) {
    case PL_FLOAT32: ((float *)s->data)[i] = (float)v; break;
    case PL_FLOAT64: ((double *)s->data)[i] = v; break;
    case PL_BFLOAT16: ((uint16_t *)s->data)[i] = f2bf((float)v); break;
    default: break;
    }
}

static void set_int(slot *s, int64_t i, int64_t v) {
    switch (s->dtype) {
    case PL_INT8: ((int8_t *)s->data)[i] = (int8_t)v; break;
    case PL_UINT8: ((uint8_t *)s->data)[i] = (uint8_t)v; break;
    case PL_INT32: ((int32_t *)s->data)[i] = (int32_t)v; break;
    case PL_INT64: ((int64_t *)s->data)[i] = v; break;
    default: set_real(s, i, (double)v); break;
    }
}

static slot *add_real(layer *l, int kind, pl_dtype t, int rank, const int64_t *dims, double lo,
                      double hi) {
    slot *s = add_slot(l, kind, t, rank, dims);
    for (int64_t i = 0; i < numel(rank, dims); i++)
        set_real(s, i, rnd_real(lo, hi));
    return s;
}

static slot *add_ints(layer *l, int kind, pl_dtype t, int rank, const int64_t *dims, int64_t lo,
                      int64_t hi) {
    slot *s = add_slot(l, kind, t, rank, dims);
    for (int64_t i = 0; i < numel(rank, dims); i++)
        set_int(s, i, rnd_int(lo, hi));
    return s;
}

/* An int64 rank-1 slot holding the given values (Reduce axes). */
static slot *add_axes(layer *l, int kind, const int64_t *v, int n) {
    slot *s = add_slot(l, kind, PL_INT64, 1, D(n));
    memcpy(s->data, v, sizeof(int64_t) * (size_t)n);
    s->values = kind == S_INPUT;
    return s;
}

static void layer_free(layer *l) {
    for (int i = 0; i < l->nslot; i++)
        free(l->s[i].data);
    l->nslot = 0;
}

typedef struct result {
    pl_dtype dtype;
    int64_t count;
    void *data;
} result;

/* Builds l for dev, runs it `runs` times (every run's output must equal the first's byte for
 * byte) and hands the output back. host counts the engine's layers that run on the CPU. */
static int run_layer(const layer *l, pl_device dev, int runs, result *out, int *host,
                     char *host_ops, size_t host_ops_sz) {
    pl_network *net = NULL;
    pl_builder_config *cfg = NULL;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    pl_tensor ids[4], o;
    char names[4][8];
    const char *oname = "y";
    void *plan = NULL, *buf = NULL, *first = NULL;
    size_t size = 0, bytes = 0;
    int ok = 0, rank;
    int64_t dims[PL_MAX_RANK];
    memset(out, 0, sizeof(*out));
    *host = 0;
    host_ops[0] = '\0';
    PL_CHECK_OK(pl_network_create(&net));
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    if (!net || !cfg)
        goto done;
    pl_builder_config_set_device(cfg, dev);
    for (int i = 0; i < l->nslot; i++) {
        const slot *s = &l->s[i];
        snprintf(names[i], sizeof(names[i]), "in%d", i);
        ids[i] = PL_NO_TENSOR;
        if (s->kind == S_INPUT) {
            PL_CHECK_OK(pl_network_add_input(net, names[i], s->dtype, s->rank, s->dims, NULL,
                                             &ids[i]));
            PL_CHECK_OK(pl_builder_config_set_shape(cfg, names[i], s->rank, s->dims, s->dims,
                                                    s->dims));
            if (s->values)
                PL_CHECK_OK(pl_builder_config_set_shape_values(
                    cfg, names[i], numel(s->rank, s->dims), s->data, s->data, s->data));
        } else if (s->kind == S_CONST) {
            PL_CHECK_OK(pl_network_add_constant(net, NULL, s->dtype, s->rank, s->dims, s->data,
                                                &ids[i]));
        }
    }
    PL_CHECK_OK(pl_network_add_layer(net, l->op, NULL, ids, l->nslot, l->at, l->nat, 1, &oname,
                                     &o));
    PL_CHECK_OK(pl_network_mark_output(net, o));
    {
        pl_status s = pl_build_serialized(net, cfg, &plan, &size);
        if (s) {
            fprintf(stderr, "build on %s failed: %s\n", pl_device_name(dev), pl_errmsg());
            PL_CHECK(s == PL_OK);
            goto done;
        }
    }
    PL_CHECK_OK(pl_engine_load(plan, size, &e));
    if (!e)
        goto done;
    for (int i = 0; i < pl_engine_num_layers(e); i++) {
        pl_layer_info li;
        if (pl_engine_layer(e, i, &li) == PL_OK && li.kernel && strncmp(li.kernel, "cpu", 3) == 0) {
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
    for (int i = 0; i < l->nslot; i++)
        if (l->s[i].kind == S_INPUT)
            PL_CHECK_OK(pl_context_set_tensor(ctx, names[i], l->s[i].data, PL_MEMORY_HOST,
                                              pl_tc_bytes(l->s[i].rank, l->s[i].dims,
                                                          l->s[i].dtype)));
    {
        pl_io_info io;
        for (int i = 0; i < pl_engine_num_io(e); i++)
            if (pl_engine_io(e, i, &io) == PL_OK && !io.is_input)
                out->dtype = io.dtype;
    }
    PL_CHECK_OK(pl_context_get_shape(ctx, "y", &rank, dims));
    bytes = pl_tc_bytes(rank, dims, out->dtype);
    out->count = numel(rank, dims);
    buf = calloc(1, bytes + 8);
    first = calloc(1, bytes + 8);
    PL_CHECK_OK(pl_context_set_tensor(ctx, "y", buf, PL_MEMORY_HOST, bytes));
    for (int r = 0; r < runs; r++) {
        pl_status s = pl_context_execute(ctx);
        if (s) {
            fprintf(stderr, "execute %d on %s failed: %s\n", r, pl_device_name(dev), pl_errmsg());
            PL_CHECK(s == PL_OK);
            goto done;
        }
        if (r == 0) {
            memcpy(first, buf, bytes);
        } else if (memcmp(first, buf, bytes) != 0) {
            fprintf(stderr, "run %d on %s: the output differs from the first run's\n", r,
                    pl_device_name(dev));
            PL_CHECK(0);
            goto done;
        }
    }
    out->data = buf;
    buf = NULL;
    ok = 1;
done:
    free(buf);
    free(first);
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(plan);
    pl_builder_config_free(cfg);
    pl_network_free(net);
    return ok;
}

static bool is_float(pl_dtype t) {
    return t == PL_FLOAT32 || t == PL_FLOAT64 || t == PL_FLOAT16 || t == PL_BFLOAT16;
}

static double get_d(const void *p, pl_dtype t, int64_t i) {
    switch (t) {
    case PL_FLOAT32: return ((const float *)p)[i];
    case PL_FLOAT64: return ((const double *)p)[i];
    case PL_FLOAT16: return h2f(((const uint16_t *)p)[i]);
    case PL_BFLOAT16: return bf2f(((const uint16_t *)p)[i]);
    default: return NAN;
    }
}

/* The comparison of the file's header comment; returns 1 when got matches ref. */
static int same_result(const char *what, const result *got, const result *ref) {
    double tol = ref->dtype == PL_FLOAT64 ? 1e-12 : ref->dtype == PL_FLOAT16 ? 1e-3 : 1e-5;
    double num = 0, den = 0, max_abs = 0, max_ref = 0, rel;
    int64_t bad = 0, first_bad = -1;
    if (got->dtype != ref->dtype || got->count != ref->count) {
        fprintf(stderr, "%s: output %s[%lld] on the GPU, %s[%lld] on the CPU\n", what,
                pl_dtype_name(got->dtype), (long long)got->count, pl_dtype_name(ref->dtype),
                (long long)ref->count);
        return 0;
    }
    if (!is_float(ref->dtype)) {
        size_t es = pl_dtype_size(ref->dtype);
        for (int64_t i = 0; i < ref->count; i++)
            if (memcmp((const char *)got->data + i * (int64_t)es,
                       (const char *)ref->data + i * (int64_t)es, es) != 0 && bad++ == 0)
                first_bad = i;
        if (bad) {
            int64_t g = 0, r = 0;
            memcpy(&g, (const char *)got->data + first_bad * (int64_t)es, es);
            memcpy(&r, (const char *)ref->data + first_bad * (int64_t)es, es);
            fprintf(stderr, "%s: %lld of %lld %s values differ; first at %lld: bytes %llx, "
                    "expected %llx\n", what, (long long)bad, (long long)ref->count,
                    pl_dtype_name(ref->dtype), (long long)first_bad, (unsigned long long)g,
                    (unsigned long long)r);
        }
        return bad == 0;
    }
    for (int64_t i = 0; i < ref->count; i++) {
        double g = get_d(got->data, got->dtype, i), r = get_d(ref->data, ref->dtype, i);
        if (!isfinite(r) || !isfinite(g)) {
            if (!((isnan(r) && isnan(g)) || r == g) && bad++ == 0)
                first_bad = i;
            continue;
        }
        if (ref->dtype == PL_BFLOAT16 && !(fabs(g - r) <= 1e-2 * fabs(r) + 1e-6) && bad++ == 0)
            first_bad = i;
        num += (g - r) * (g - r);
        den += r * r;
        max_abs = fabs(g - r) > max_abs ? fabs(g - r) : max_abs;
        max_ref = fabs(r) > max_ref ? fabs(r) : max_ref;
    }
    rel = den > 0 ? sqrt(num / den) : sqrt(num);
    if (bad) {
        fprintf(stderr, "%s: %lld of %lld values differ; first at %lld: got %.17g, expected "
                "%.17g\n", what, (long long)bad, (long long)ref->count, (long long)first_bad,
                get_d(got->data, got->dtype, first_bad), get_d(ref->data, ref->dtype, first_bad));
        return 0;
    }
    if (ref->dtype == PL_BFLOAT16)
        return 1;
    if (rel <= tol && max_abs <= 10 * tol * (max_ref > 1e-6 ? max_ref : 1e-6))
        return 1;
    fprintf(stderr, "%s: rel L2 %.3g, max abs %.3g (max |ref| %.3g), tolerance %.3g\n", what, rel,
            max_abs, max_ref, tol);
    return 0;
}

/* CPU vs GPU on l, and no CPU fallback inside the GPU engine. Frees l's data. */
static void check(const char *what, layer *l) {
    result cpu, gpu;
    int host = 0;
    char host_ops[256];
    printf("  case %s\n", what);
    fflush(stdout);
    if (run_layer(l, PL_DEVICE_CPU, 1, &cpu, &host, host_ops, sizeof(host_ops))) {
        if (run_layer(l, PL_DEVICE_CUDA, 3, &gpu, &host, host_ops, sizeof(host_ops))) {
            PL_CHECK(same_result(what, &gpu, &cpu));
            if (host)
                fprintf(stderr, "%s: %d layer(s) ran on the CPU: %s\n", what, host, host_ops);
            PL_CHECK(host == 0);
            free(gpu.data);
        }
        free(cpu.data);
    }
    layer_free(l);
}

/* ---- int8 / uint8 ---- */

static void test_int8_binary(void) {
    static const char *const ops[] = {"Add",     "Sub",          "Mul",
                                      "Div",     "Equal",        "Less",
                                      "Greater", "LessOrEqual",  "GreaterOrEqual",
                                      "Max",     "Min"};
    static const pl_dtype types[] = {PL_INT8, PL_UINT8};
    NEED_GPU();
    for (int ti = 0; ti < 2; ti++) {
        pl_dtype t = types[ti];
        int64_t lo = t == PL_INT8 ? -128 : 0, hi = t == PL_INT8 ? 127 : 255;
        for (int oi = 0; oi < NELEM(ops); oi++) {
            for (int bc = 0; bc < 2; bc++) {
                layer l = {.op = ops[oi]};
                slot *a, *b;
                char what[96];
                if (bc) { /* [3, 1, 5] with [4, 1] -> [3, 4, 5] */
                    a = add_ints(&l, S_INPUT, t, 3, D(3, 1, 5), lo, hi);
                    b = add_ints(&l, S_INPUT, t, 2, D(4, 1), lo, hi);
                } else { /* full-range operands: sums and products wrap */
                    a = add_ints(&l, S_INPUT, t, 3, D(3, 4, 5), lo, hi);
                    b = add_ints(&l, S_INPUT, t, 3, D(3, 4, 5), lo, hi);
                }
                if (strcmp(ops[oi], "Div") == 0 || strcmp(ops[oi], "Equal") == 0) {
                    /* division by zero gives 0 (the CPU's choice), -128 / -1 wraps; equal
                     * pairs for Equal */
                    int64_t nb = numel(b->rank, b->dims);
                    for (int64_t i = 0; i < nb; i += 3)
                        set_int(b, i, 0);
                    set_int(a, 0, lo);
                    set_int(b, 0, t == PL_INT8 ? -1 : 1);
                    set_int(a, 1, 7);
                    set_int(b, 1, 7);
                }
                snprintf(what, sizeof(what), "%s %s%s", ops[oi], pl_dtype_name(t),
                         bc ? " broadcast" : "");
                check(what, &l);
            }
        }
        for (int m = 0; m < 2; m++) { /* variadic Max / Min over three inputs */
            layer l = {.op = m ? "Max" : "Min"};
            char what[64];
            add_ints(&l, S_INPUT, t, 2, D(6, 7), lo, hi);
            add_ints(&l, S_INPUT, t, 1, D(7), lo, hi);
            add_ints(&l, S_INPUT, t, 2, D(6, 1), lo, hi);
            snprintf(what, sizeof(what), "%s %s of three", l.op, pl_dtype_name(t));
            check(what, &l);
        }
    }
}

static void test_int8_clip(void) {
    static const pl_dtype types[] = {PL_INT8, PL_UINT8};
    NEED_GPU();
    for (int ti = 0; ti < 2; ti++) {
        pl_dtype t = types[ti];
        int64_t lo = t == PL_INT8 ? -128 : 0, hi = t == PL_INT8 ? 127 : 255;
        /* bounds: both, min only, max only, min > max (everything becomes max) */
        static const int64_t b8[4][2] = {{-50, 60}, {-20, 0}, {0, 33}, {40, -10}};
        static const int64_t bu[4][2] = {{30, 200}, {100, 0}, {0, 77}, {150, 90}};
        for (int c = 0; c < 4; c++) {
            layer l = {.op = "Clip"};
            const int64_t *bb = t == PL_INT8 ? b8[c] : bu[c];
            char what[64];
            add_ints(&l, S_INPUT, t, 2, D(9, 13), lo, hi);
            if (c == 2)
                add_slot(&l, S_NONE, t, 0, NULL);
            else
                set_int(add_slot(&l, S_CONST, t, 0, NULL), 0, bb[0]);
            if (c != 1)
                set_int(add_slot(&l, S_CONST, t, 0, NULL), 0, bb[1]);
            snprintf(what, sizeof(what), "Clip %s case %d", pl_dtype_name(t), c);
            check(what, &l);
        }
    }
}

/* ---- float64 ---- */

static void test_f64_elementwise(void) {
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Less"};
    NEED_GPU();
    for (int oi = 0; oi < NELEM(ops); oi++) {
        for (int bc = 0; bc < 2; bc++) {
            layer l = {.op = ops[oi]};
            bool pw = strcmp(ops[oi], "Pow") == 0;
            slot *a;
            char what[64];
            if (bc) {
                a = add_real(&l, S_INPUT, PL_FLOAT64, 3, D(2, 5, 1), pw ? 0.1 : -3, 3);
                add_real(&l, S_INPUT, PL_FLOAT64, 2, D(1, 6), -3, 3);
            } else {
                a = add_real(&l, S_INPUT, PL_FLOAT64, 2, D(10, 33), pw ? 0.1 : -3, 3);
                add_real(&l, S_INPUT, PL_FLOAT64, 2, D(10, 33), -3, 3);
            }
            if (ops[oi][0] == 'M' && ops[oi][1] != 'u') /* Max / Min: NaN wins */
                set_real(a, 1, NAN);
            snprintf(what, sizeof(what), "%s float64%s", ops[oi], bc ? " broadcast" : "");
            check(what, &l);
        }
    }
    for (int m = 0; m < 3; m++) { /* variadic over three inputs */
        static const char *const vops[] = {"Max", "Min", "Sum"};
        layer l = {.op = vops[m]};
        char what[64];
        add_real(&l, S_INPUT, PL_FLOAT64, 2, D(6, 7), -3, 3);
        add_real(&l, S_INPUT, PL_FLOAT64, 1, D(7), -3, 3);
        add_real(&l, S_INPUT, PL_FLOAT64, 2, D(6, 1), -3, 3);
        snprintf(what, sizeof(what), "%s float64 of three", vops[m]);
        check(what, &l);
    }
    {
        layer l = {.op = "Mean"};
        add_real(&l, S_INPUT, PL_FLOAT64, 2, D(6, 7), -3, 3);
        add_real(&l, S_INPUT, PL_FLOAT64, 2, D(6, 7), -3, 3);
        add_real(&l, S_INPUT, PL_FLOAT64, 2, D(6, 7), -3, 3);
        check("Mean float64 of three", &l);
    }
    for (int u = 0; u < 4; u++) { /* a few unary ops and Clip with float64 bounds */
        static const char *const uops[] = {"Exp", "Tanh", "Elu", "Clip"};
        layer l = {.op = uops[u]};
        char what[64];
        add_real(&l, S_INPUT, PL_FLOAT64, 2, D(17, 19), -4, 4);
        if (u == 2) {
            l.nat = 1;
            l.at[0] = PL_ATTR_F("alpha", 0.3);
        }
        if (u == 3) {
            set_real(add_slot(&l, S_CONST, PL_FLOAT64, 0, NULL), 0, -1.25);
            set_real(add_slot(&l, S_CONST, PL_FLOAT64, 0, NULL), 0, 2.1);
        }
        snprintf(what, sizeof(what), "%s float64", uops[u]);
        check(what, &l);
    }
}

/* ---- bfloat16 ---- */

static void test_bf16(void) {
    static const char *const ops[] = {"Elu", "Celu", "Mul", "Div", "Add", "Max", "Relu", "Sigmoid"};
    NEED_GPU();
    for (int oi = 0; oi < NELEM(ops); oi++) {
        for (int v = 0; v < 2; v++) {
            layer l = {.op = ops[oi]};
            bool unary = oi < 2 || oi >= 6;
            char what[64];
            if (unary) {
                add_real(&l, S_INPUT, PL_BFLOAT16, 3, D(4, 9, 11), -4, 3);
                if (v && oi < 2) {
                    l.nat = 1;
                    l.at[0] = PL_ATTR_F("alpha", oi == 0 ? 0.5 : 0.7);
                }
            } else if (v) { /* broadcast */
                add_real(&l, S_INPUT, PL_BFLOAT16, 3, D(4, 9, 1), -4, 4);
                add_real(&l, S_INPUT, PL_BFLOAT16, 2, D(1, 11), 0.25, 4);
            } else {
                add_real(&l, S_INPUT, PL_BFLOAT16, 2, D(12, 35), -4, 4);
                add_real(&l, S_INPUT, PL_BFLOAT16, 2, D(12, 35), 0.25, 4);
            }
            snprintf(what, sizeof(what), "%s bfloat16%s", ops[oi],
                     v ? (unary ? " alpha" : " broadcast") : "");
            if (unary && v && oi >= 6) { /* Relu / Sigmoid have no alpha */
                layer_free(&l);
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
    NEED_GPU();
    for (int c = 0; c < NELEM(cs); c++) {
        for (int bc = 0; bc < 2; bc++) {
            layer l = {.op = "Pow"};
            const int64_t *bd = bc ? D(5, 1, 4) : D(6, 20), *ed = bc ? D(3, 1) : D(6, 20);
            int br = bc ? 3 : 2, er = 2;
            slot *b, *e;
            char what[96];
            if (cs[c].base == PL_FLOAT32) {
                b = add_real(&l, S_INPUT, PL_FLOAT32, br, bd, -2, 2);
                e = add_ints(&l, S_INPUT, cs[c].exp, er, ed, -3, 5);
            } else {
                b = add_ints(&l, S_INPUT, cs[c].base, br, bd, -6, 9);
                if (cs[c].exp == PL_FLOAT32) {
                    /* integer-valued exponents (exact integer powers, which truncation must not
                     * lose) and fractional ones (non-integers; NaN for negative bases -> 0) */
                    e = add_slot(&l, S_INPUT, PL_FLOAT32, er, ed);
                    for (int64_t i = 0; i < numel(er, ed); i++)
                        set_real(e, i, i % 2 ? (double)rnd_int(0, 6) : rnd_real(0, 3));
                } else {
                    /* 0 ^ negative is inf: saturates */
                    e = add_ints(&l, S_INPUT, cs[c].exp, er, ed, cs[c].base == PL_INT64 ? -2 : 0,
                                 cs[c].base == PL_INT64 ? 12 : 9);
                }
            }
            if (cs[c].base == PL_FLOAT32) /* no 0 base: 0 ^ negative is inf on both, but a
                                           * value that should be tiny would hide the check */
                for (int64_t i = 0; i < numel(br, bd); i++)
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
        layer l = {.op = "Pow"};
        add_real(&l, S_INPUT, PL_FLOAT32, 2, D(8, 9), -3, 3);
        set_int(add_slot(&l, S_CONST, PL_INT64, 0, NULL), 0, 2);
        check("Pow float32 ^ int64 scalar 2", &l);
    }
}

/* ---- CumSum float64 ---- */

static void test_cumsum_f64(void) {
    NEED_GPU();
    for (int c = 0; c < 6; c++) {
        layer l = {.op = "CumSum", .nat = 2};
        int64_t axis = c < 4 ? 1 : c == 4 ? 0 : -1;
        char what[96];
        l.at[0] = PL_ATTR_I("exclusive", c & 1);
        l.at[1] = PL_ATTR_I("reverse", (c >> 1) & 1);
        add_real(&l, S_INPUT, PL_FLOAT64, 3, D(5, 33, 7), -2, 2);
        set_int(add_slot(&l, S_CONST, PL_INT64, 0, NULL), 0, axis);
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
    NEED_GPU();
    for (int c = 0; c < NELEM(cs); c++) {
        layer l = {.op = cs[c].op, .nat = 1};
        char what[128];
        double lo, hi;
        reduce_range(cs[c].op, &lo, &hi);
        l.at[0] = PL_ATTR_I("keepdims", cs[c].keep);
        add_real(&l, S_INPUT, cs[c].t, cs[c].rank, cs[c].dims, lo, hi);
        add_axes(&l, S_INPUT, cs[c].axes, cs[c].naxes);
        snprintf(what, sizeof(what), "%s %s run-time axes [%lld%s] keepdims %d", cs[c].op,
                 pl_dtype_name(cs[c].t), (long long)cs[c].axes[0],
                 cs[c].naxes > 1 ? ", ..." : "", cs[c].keep);
        check(what, &l);
    }
}

/* Reductions over an extent of 0: every op's identity, as the CPU computes it. */
static void test_reduce_empty(void) {
    NEED_GPU();
    for (int oi = 0; oi < NELEM(reduce_ops); oi++) {
        for (int v = 0; v < 2; v++) {
            layer l = {.op = reduce_ops[oi], .nat = 1};
            char what[96];
            l.at[0] = PL_ATTR_I("keepdims", 1);
            if (v == 0) { /* [3, 0, 4] over axis 1 */
                add_slot(&l, S_INPUT, PL_FLOAT32, 3, D(3, 0, 4));
                add_axes(&l, S_CONST, D(1), 1);
            } else { /* [0, 3, 5] over axes 0 and 2 (not one block), float64 */
                add_slot(&l, S_INPUT, PL_FLOAT64, 3, D(0, 3, 5));
                add_axes(&l, S_CONST, D(0, 2), 2);
            }
            snprintf(what, sizeof(what), "%s empty %s", reduce_ops[oi],
                     v ? "float64 scattered axes" : "float32");
            check(what, &l);
        }
    }
    {
        layer l = {.op = "ReduceMax", .nat = 1};
        l.at[0] = PL_ATTR_I("keepdims", 0);
        add_slot(&l, S_INPUT, PL_FLOAT16, 2, D(0, 6));
        add_axes(&l, S_CONST, D(0), 1);
        check("ReduceMax empty float16", &l);
    }
    {
        layer l = {.op = "ReduceMin", .nat = 1};
        l.at[0] = PL_ATTR_I("keepdims", 1);
        add_slot(&l, S_INPUT, PL_FLOAT32, 3, D(2, 0, 3));
        add_axes(&l, S_INPUT, D(1), 1);
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
    NEED_GPU();
    for (int oi = 0; oi < NELEM(reduce_ops); oi++) {
        for (int g = 0; g < NELEM(geo); g++) {
            layer l = {.op = reduce_ops[oi], .nat = 1};
            char what[96];
            double lo, hi;
            /* Sum and Mean take every geometry; the others two of them */
            if (oi > 1 && (g + oi) % 2)
                continue;
            reduce_range(reduce_ops[oi], &lo, &hi);
            l.at[0] = PL_ATTR_I("keepdims", g % 2);
            add_real(&l, S_INPUT, PL_FLOAT64, geo[g].rank, geo[g].dims, lo, hi);
            if (geo[g].naxes)
                add_axes(&l, S_CONST, geo[g].axes, geo[g].naxes);
            snprintf(what, sizeof(what), "%s float64 geometry %d", reduce_ops[oi], g);
            check(what, &l);
        }
    }
    for (int v = 0; v < 2; v++) {
        /* noop_with_empty_axes: nothing reduced, but the elementwise part applies */
        layer l = {.op = v ? "ReduceL1" : "ReduceSumSquare", .nat = 1};
        l.at[0] = PL_ATTR_I("noop_with_empty_axes", 1);
        add_real(&l, S_INPUT, v ? PL_FLOAT64 : PL_FLOAT32, 2, D(5, 8), -3, 3);
        check(v ? "ReduceL1 float64 noop_with_empty_axes" : "ReduceSumSquare float32 "
                  "noop_with_empty_axes", &l);
    }
}

int main(void) {
    pl_tc_catch_crashes();
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
