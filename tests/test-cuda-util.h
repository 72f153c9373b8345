/*
 * test-cuda-util.h - what the CUDA tests share: the file's fixed-seed random sequence, a one-layer
 * network described as a case (graph inputs with their data, constants, omitted inputs), one
 * runner that builds a network for a device and executes it several times (the second and later
 * executions go through the CUDA graph the runtime captures, and must equal the first byte for
 * byte) and hands every output back raw and as float32, and the GPU-versus-reference check that
 * most of the tests make around it.
 * Header-only (static inline functions) so that each test-cuda-*.c stays one executable.
 */
#ifndef PL_TEST_CUDA_UTIL_H
#define PL_TEST_CUDA_UTIL_H

#include <execinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "harness.h"

/* A crash in a GPU test prints a backtrace (binary+offset, for addr2line) before dying, since
 * the device machine that runs these has no debugger at hand. */
static inline void pl_tc_on_crash(int sig) {
    void *bt[64];
    int n = backtrace(bt, 64);
    fprintf(stderr, "fatal signal %d; backtrace:\n", sig);
    backtrace_symbols_fd(bt, n, 2);
    _exit(128 + sig);
}

static inline void pl_tc_catch_crashes(void) {
    signal(SIGSEGV, pl_tc_on_crash);
    signal(SIGBUS, pl_tc_on_crash);
    signal(SIGFPE, pl_tc_on_crash);
    signal(SIGABRT, pl_tc_on_crash);
}

/* Without a GPU: prints "skipped: no CUDA device" and returns from the calling test case. */
#define PL_TC_NEED_GPU()                                                                           \
    do {                                                                                           \
        if (!pl_test_have_cuda(__func__))                                                          \
            return;                                                                                \
    } while (0)

/* ---- the file's random sequence ---- */

/* xorshift64: a fixed sequence whatever the platform's rand(). Each test executable has its own
 * state (a static of this header); main() seeds it with pl_tc_srand, so that a case's data depend
 * only on the seed and on the cases that ran before it. */
static inline uint64_t *pl_tc_rng(void) {
    static uint64_t state = 1;
    return &state;
}

static inline void pl_tc_srand(uint64_t seed) { *pl_tc_rng() = seed; }

static inline uint64_t pl_tc_rnd(void) {
    uint64_t *s = pl_tc_rng();
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Uniform in lo..hi inclusive. */
static inline int64_t pl_tc_rnd_int(int64_t lo, int64_t hi) {
    return lo + (int64_t)(pl_tc_rnd() % (uint64_t)(hi - lo + 1));
}

/* Uniform in [lo, hi), 53 random bits. */
static inline double pl_tc_rnd_real(double lo, double hi) {
    return lo + (hi - lo) * (double)(pl_tc_rnd() >> 11) / 9007199254740992.0;
}

/* ---- elements ---- */

static inline int64_t pl_tc_numel(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

static inline size_t pl_tc_bytes(int rank, const int64_t *dims, pl_dtype t) {
    return (size_t)pl_tc_numel(rank, dims) * pl_dtype_size(t);
}

/* Element i of a buffer of type t as a double, for every pl_dtype (float16 and bfloat16 through
 * core's converters; int64 exact up to 2^53); NaN for an unknown type, so that it never matches. */
static inline double pl_tc_get(const void *p, pl_dtype t, int64_t i) {
    return pl_dtype_size(t) ? pl__get_f64(p, t, i) : NAN;
}

/* The same as a float (what pl_tc_out.v holds). */
static inline float pl_tc_to_float(const void *p, pl_dtype t, int64_t i) {
    switch (t) {
    case PL_FLOAT32: return ((const float *)p)[i];
    case PL_INT64: return (float)((const int64_t *)p)[i];
    case PL_INT32: return (float)((const int32_t *)p)[i];
    case PL_BOOL: case PL_UINT8: return (float)((const uint8_t *)p)[i];
    default: return (float)pl_tc_get(p, t, i);
    }
}

/* ---- a one-layer case ---- */

/* A graph input bound from host memory. values: a shape-value input, whose values the builder
 * gets as min = opt = max (Reduce axes, Range's start, ConstantOfShape's shape fed as inputs). */
typedef struct pl_tc_in {
    const char *name;
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
    void *data;
    bool values;
} pl_tc_in;

#define PL_TC_MAXIN 6

enum { PL_TC_NONE = 0, PL_TC_INPUT, PL_TC_CONST };

/* One input of the layer under test: omitted, a graph input, or a constant. dtype, rank, dims
 * and data describe the tensor either way (an input's data are its graph input's). */
typedef struct pl_tc_slot {
    int kind;
    int g;     /* PL_TC_INPUT: which of the case's graph inputs */
    bool half; /* PL_TC_INPUT: reaches the layer through a Cast to float16 */
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
    void *data;
} pl_tc_slot;

/* The layer op(slots...) with nout outputs (0: one) over graph inputs "in0", "in1", ...; the
 * case owns the inputs' and the constants' data (pl_tc_case_free). Zero-initialize, set op and
 * attributes, then add the slots in the layer's input order. */
typedef struct pl_tc_case {
    const char *op;
    int nat;
    pl_attr at[8];
    int nout;
    bool out_half[2]; /* output k is float16: cast back to float32 for the comparison */
    int nin;
    pl_tc_in in[PL_TC_MAXIN];
    int nslot;
    pl_tc_slot s[PL_TC_MAXIN];
} pl_tc_case;

static inline const char *pl_tc_input_name(int i) {
    static const char *const names[PL_TC_MAXIN] = {"in0", "in1", "in2", "in3", "in4", "in5"};
    return names[i];
}

/* Appends a slot of this kind; an input or a constant gets a copy of data (zeros when NULL),
 * which the returned slot's data point at for the caller to fill. */
static inline pl_tc_slot *pl_tc_add(pl_tc_case *c, int kind, pl_dtype t, int rank,
                                    const int64_t *dims, const void *data) {
    pl_tc_slot *s = &c->s[c->nslot];
    size_t bytes;
    if (c->nslot >= PL_TC_MAXIN || c->nin >= PL_TC_MAXIN || rank > PL_MAX_RANK) {
        fprintf(stderr, "pl_tc_add: more than %d layer inputs or rank %d\n", PL_TC_MAXIN, rank);
        abort(); /* a broken test, not a finding */
    }
    c->nslot++;
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->dtype = t;
    s->rank = rank;
    if (rank)
        memcpy(s->dims, dims, sizeof(int64_t) * (size_t)rank);
    if (kind == PL_TC_NONE)
        return s;
    bytes = pl_tc_bytes(rank, s->dims, t);
    s->data = calloc(1, bytes + 8);
    if (data && bytes)
        memcpy(s->data, data, bytes);
    if (kind == PL_TC_INPUT) {
        pl_tc_in *x = &c->in[c->nin];
        s->g = c->nin++;
        memset(x, 0, sizeof(*x));
        x->name = pl_tc_input_name(s->g);
        x->dtype = t;
        x->rank = rank;
        memcpy(x->dims, s->dims, sizeof(x->dims));
        x->data = s->data;
    }
    return s;
}

/* Values lo + (hi - lo) * u, u uniform in [0, 1) from the file's sequence, rounded to t. */
static inline pl_tc_slot *pl_tc_uniform(pl_tc_case *c, int kind, pl_dtype t, int rank,
                                        const int64_t *dims, double lo, double hi) {
    pl_tc_slot *s = pl_tc_add(c, kind, t, rank, dims, NULL);
    for (int64_t i = 0; i < pl_tc_numel(rank, dims); i++)
        pl__set_f64(s->data, t, i, pl_tc_rnd_real(lo, hi));
    return s;
}

/* Integers uniform in lo..hi from the file's sequence, stored as t. */
static inline pl_tc_slot *pl_tc_ints(pl_tc_case *c, int kind, pl_dtype t, int rank,
                                     const int64_t *dims, int64_t lo, int64_t hi) {
    pl_tc_slot *s = pl_tc_add(c, kind, t, rank, dims, NULL);
    for (int64_t i = 0; i < pl_tc_numel(rank, dims); i++)
        pl__set_f64(s->data, t, i, (double)pl_tc_rnd_int(lo, hi));
    return s;
}

/* float32 values from the harness's pl_test_fill_uniform with this seed. */
static inline pl_tc_slot *pl_tc_f32(pl_tc_case *c, int kind, int rank, const int64_t *dims,
                                    float lo, float hi, uint64_t seed) {
    pl_tc_slot *s = pl_tc_add(c, kind, PL_FLOAT32, rank, dims, NULL);
    pl_test_fill_uniform(s->data, pl_tc_numel(rank, dims), lo, hi, seed);
    return s;
}

/* Element i of the slot's tensor set to v (rounded to its type). */
static inline void pl_tc_set(pl_tc_slot *s, int64_t i, double v) {
    pl__set_f64(s->data, s->dtype, i, v);
}

static inline void pl_tc_case_free(pl_tc_case *c) {
    for (int k = 0; k < c->nslot; k++)
        free(c->s[k].data);
    c->nslot = c->nin = 0;
}

static inline const pl_attr *pl_tc_attr(const pl_tc_case *c, const char *name) {
    for (int i = 0; i < c->nat; i++)
        if (strcmp(c->at[i].name, name) == 0)
            return &c->at[i];
    return NULL;
}

static inline int64_t pl_tc_attr_i(const pl_tc_case *c, const char *name, int64_t dflt) {
    const pl_attr *a = pl_tc_attr(c, name);
    return a ? a->i : dflt;
}

static inline double pl_tc_attr_f(const pl_tc_case *c, const char *name, double dflt) {
    const pl_attr *a = pl_tc_attr(c, name);
    return a ? a->f : dflt;
}

/* The case's network; NULL (a failed check) when it cannot be made. */
static inline pl_network *pl_tc_case_net(const pl_tc_case *c) {
    pl_network *net = NULL;
    pl_tensor ids[PL_TC_MAXIN], lin[PL_TC_MAXIN], outs[2] = {PL_NO_TENSOR, PL_NO_TENSOR};
    int nout = c->nout ? c->nout : 1;
    PL_CHECK(nout <= 2);
    if (nout > 2)
        return NULL;
    PL_CHECK_OK(pl_network_create(&net));
    if (!net)
        return NULL;
    for (int i = 0; i < c->nin; i++) {
        ids[i] = PL_NO_TENSOR;
        PL_CHECK_OK(pl_network_add_input(net, c->in[i].name, c->in[i].dtype, c->in[i].rank,
                                         c->in[i].dims, NULL, &ids[i]));
    }
    for (int k = 0; k < c->nslot; k++) {
        const pl_tc_slot *s = &c->s[k];
        lin[k] = PL_NO_TENSOR;
        if (s->kind == PL_TC_INPUT && s->half) {
            pl_attr to = PL_ATTR_I("to", (int64_t)PL_FLOAT16);
            PL_CHECK_OK(pl_network_add_layer(net, "Cast", NULL, &ids[s->g], 1, &to, 1, 1, NULL,
                                             &lin[k]));
        } else if (s->kind == PL_TC_INPUT) {
            lin[k] = ids[s->g];
        } else if (s->kind == PL_TC_CONST) {
            PL_CHECK_OK(pl_network_add_constant(net, NULL, s->dtype, s->rank, s->dims, s->data,
                                                &lin[k]));
        }
    }
    PL_CHECK_OK(pl_network_add_layer(net, c->op, NULL, lin, c->nslot, c->at, c->nat, nout, NULL,
                                     outs));
    for (int k = 0; k < nout && k < 2; k++) {
        pl_tensor o = outs[k];
        if (c->out_half[k]) {
            pl_attr to = PL_ATTR_I("to", (int64_t)PL_FLOAT32);
            PL_CHECK_OK(pl_network_add_layer(net, "Cast", NULL, &outs[k], 1, &to, 1, 1, NULL, &o));
        }
        PL_CHECK_OK(pl_network_mark_output(net, o));
    }
    return net;
}

/* ---- running ---- */

/* An engine's outputs (up to 8, in the engine's order) from its last run, and what the engine
 * says about itself. */
typedef struct pl_tc_out {
    int n;
    float *v[8]; /* the values as float32 (pl_tc_to_float) */
    int64_t count[8];
    pl_dtype dtype[8];
    void *raw[8]; /* the bytes as the engine wrote them */
    int rank[8];
    int64_t dims[8][PL_MAX_RANK];
    int streams;       /* the engine's "streams" metadata, 0 without */
    int host_layers;   /* layers of the engine whose kernel runs on the CPU */
    char host_ops[256]; /* their op names */
} pl_tc_out;

static inline void pl_tc_out_free(pl_tc_out *o) {
    for (int i = 0; i < o->n; i++) {
        free(o->v[i]);
        free(o->raw[i]);
    }
    memset(o, 0, sizeof(*o));
}

/* Gives the builder a shape-value input's values (min = opt = max). */
static inline pl_status pl_tc_set_values(pl_builder_config *cfg, const pl_tc_in *x) {
    int64_t n = pl_tc_numel(x->rank, x->dims);
    int64_t *iv = malloc(sizeof(int64_t) * (size_t)(n + 1));
    double *fv = malloc(sizeof(double) * (size_t)(n + 1));
    pl_status s;
    for (int64_t i = 0; i < n; i++) {
        iv[i] = pl__get_i64(x->data, x->dtype, i);
        fv[i] = pl__get_f64(x->data, x->dtype, i);
    }
    if (x->dtype == PL_FLOAT32 || x->dtype == PL_FLOAT16 || x->dtype == PL_FLOAT64 ||
        x->dtype == PL_BFLOAT16)
        s = pl_builder_config_set_shape_values_f64(cfg, x->name, n, fv, fv, fv);
    else
        s = pl_builder_config_set_shape_values(cfg, x->name, n, iv, iv, iv);
    free(iv);
    free(fv);
    return s;
}

/* Builds net for dev (fp16 allowed or not; streams as pl_builder_config_set_streams, 0 the
 * builder's choice) with each input's shape as min = opt = max, loads it, binds the inputs and
 * every output in host memory and executes `runs` times; every run's outputs must equal the
 * first's byte for byte. Returns 1 on success with out filled (free it with pl_tc_out_free);
 * failures are counted as failed checks and leave out empty. */
static inline int pl_tc_exec(const pl_network *net, pl_device dev, bool fp16, int streams, int nin,
                             const pl_tc_in *in, int runs, pl_tc_out *out) {
    pl_builder_config *cfg = NULL;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    void *plan = NULL, *first[8] = {0};
    size_t size = 0, bytes[8] = {0};
    const char *meta;
    int ok = 0, nio;
    pl_status s;
    memset(out, 0, sizeof(*out));
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    if (!cfg)
        return 0;
    pl_builder_config_set_device(cfg, dev);
    pl_builder_config_set_fp16(cfg, fp16);
    pl_builder_config_set_streams(cfg, streams);
    for (int i = 0; i < nin; i++) {
        PL_CHECK_OK(pl_builder_config_set_shape(cfg, in[i].name, in[i].rank, in[i].dims,
                                                in[i].dims, in[i].dims));
        if (in[i].values)
            PL_CHECK_OK(pl_tc_set_values(cfg, &in[i]));
    }
    if ((s = pl_build_serialized(net, cfg, &plan, &size))) {
        fprintf(stderr, "build on %s failed: %s\n", pl_device_name(dev), pl_errmsg());
        PL_CHECK(s == PL_OK);
        goto done;
    }
    PL_CHECK_OK(pl_engine_load(plan, size, &e));
    if (!e)
        goto done;
    meta = pl_engine_metadata(e, "streams");
    out->streams = meta ? atoi(meta) : 0;
    for (int i = 0; i < pl_engine_num_layers(e); i++) {
        pl_layer_info li;
        if (pl_engine_layer(e, i, &li) == PL_OK && li.kernel && strncmp(li.kernel, "cpu", 3) == 0) {
            out->host_layers++;
            if (strlen(out->host_ops) + strlen(li.op) + 2 < sizeof(out->host_ops)) {
                strcat(out->host_ops, li.op);
                strcat(out->host_ops, " ");
            }
        }
    }
    PL_CHECK_OK(pl_context_create(e, &ctx));
    if (!ctx)
        goto done;
    for (int i = 0; i < nin; i++)
        PL_CHECK_OK(pl_context_set_tensor(ctx, in[i].name, in[i].data, PL_MEMORY_HOST,
                                          pl_tc_bytes(in[i].rank, in[i].dims, in[i].dtype)));
    nio = pl_engine_num_io(e);
    for (int i = 0; i < nio && out->n < 8; i++) {
        int k = out->n;
        pl_io_info io;
        pl_status st = pl_engine_io(e, i, &io);
        PL_CHECK_OK(st);
        if (st || io.is_input)
            continue;
        PL_CHECK_OK(pl_context_get_shape(ctx, io.name, &out->rank[k], out->dims[k]));
        out->dtype[k] = io.dtype;
        out->count[k] = pl_tc_numel(out->rank[k], out->dims[k]);
        bytes[k] = pl_tc_bytes(out->rank[k], out->dims[k], io.dtype);
        out->raw[k] = calloc(1, bytes[k] + 8);
        first[k] = calloc(1, bytes[k] + 8);
        out->n++;
        PL_CHECK_OK(pl_context_set_tensor(ctx, io.name, out->raw[k], PL_MEMORY_HOST, bytes[k]));
    }
    for (int r = 0; r < runs; r++) {
        if ((s = pl_context_execute(ctx))) {
            fprintf(stderr, "execute %d on %s failed: %s\n", r, pl_device_name(dev), pl_errmsg());
            PL_CHECK(s == PL_OK);
            goto done;
        }
        for (int k = 0; k < out->n; k++) {
            if (r == 0) {
                memcpy(first[k], out->raw[k], bytes[k]);
            } else if (memcmp(first[k], out->raw[k], bytes[k]) != 0) {
                fprintf(stderr, "run %d on %s (streams %d): output %d differs from the first run\n",
                        r, pl_device_name(dev), streams, k);
                PL_CHECK(0);
                goto done;
            }
        }
    }
    for (int k = 0; k < out->n; k++) {
        out->v[k] = malloc(sizeof(float) * (size_t)(out->count[k] + 1));
        for (int64_t i = 0; i < out->count[k]; i++)
            out->v[k][i] = pl_tc_to_float(out->raw[k], out->dtype[k], i);
    }
    ok = 1;
done:
    for (int k = 0; k < 8; k++)
        free(first[k]);
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(plan);
    pl_builder_config_free(cfg);
    if (!ok)
        pl_tc_out_free(out);
    return ok;
}

/* pl_tc_exec with the builder's streams; host_layers (may be NULL) receives how many layers of
 * the engine run on the CPU, and host_ops their op names. */
static inline int pl_tc_run(const pl_network *net, pl_device dev, bool fp16, int nin,
                            const pl_tc_in *in, int runs, pl_tc_out *out, int *host_layers,
                            char *host_ops, size_t host_ops_sz) {
    int ok = pl_tc_exec(net, dev, fp16, 0, nin, in, runs, out);
    if (host_layers)
        *host_layers = out->host_layers;
    if (host_ops && host_ops_sz)
        snprintf(host_ops, host_ops_sz, "%s", out->host_ops);
    return ok;
}

/* The case's network run through pl_tc_exec. */
static inline int pl_tc_run_case(const pl_tc_case *c, pl_device dev, bool fp16, int runs,
                                 pl_tc_out *out) {
    pl_network *net = pl_tc_case_net(c);
    int ok = 0;
    memset(out, 0, sizeof(*out));
    if (net)
        ok = pl_tc_exec(net, dev, fp16, 0, c->nin, c->in, runs, out);
    pl_network_free(net);
    return ok;
}

/* ---- comparing ---- */

/* Relative L2 error within tol and max abs error within 10 * tol * max|ref|. */
static inline int pl_tc_close(const char *what, const float *got, const float *ref, int64_t n,
                              double tol) {
    double max_abs, rel, mref = 0;
    for (int64_t i = 0; i < n; i++)
        mref = fabs(ref[i]) > mref ? fabs(ref[i]) : mref;
    pl_test_compare(got, ref, n, &max_abs, &rel);
    if (rel <= tol && max_abs <= 10 * tol * (mref > 1e-6 ? mref : 1e-6))
        return 1;
    fprintf(stderr, "%s: rel L2 %.3g, max abs %.3g (max |ref| %.3g), tolerance %.3g\n", what, rel,
            max_abs, mref, tol);
    pl_test_allclose(what, got, ref, n, 10 * tol * mref, tol);
    return 0;
}

/* Output k of got against ref's on the raw values. The dtype and the count must agree; integer
 * and bool outputs must be equal byte for byte; in float outputs the non-finite values must match
 * exactly (NaN to NaN) and the finite ones be within relative L2 tol with max abs error within
 * 10 * tol * max|ref|, or, when elem_rel > 0, each within elem_rel relative (plus 1e-6). */
static inline int pl_tc_same_raw(const char *what, const pl_tc_out *got, const pl_tc_out *ref,
                                 int k, double tol, double elem_rel) {
    pl_dtype t = ref->dtype[k];
    const char *gb = got->raw[k], *rb = ref->raw[k];
    double num = 0, den = 0, max_abs = 0, max_ref = 0, rel;
    int64_t n = ref->count[k], bad = 0, first_bad = -1;
    if (got->dtype[k] != t || got->count[k] != n) {
        fprintf(stderr, "%s: output %s[%lld] on the GPU, %s[%lld] expected\n", what,
                pl_dtype_name(got->dtype[k]), (long long)got->count[k], pl_dtype_name(t),
                (long long)n);
        return 0;
    }
    if (t != PL_FLOAT32 && t != PL_FLOAT64 && t != PL_FLOAT16 && t != PL_BFLOAT16) {
        int64_t es = (int64_t)pl_dtype_size(t);
        for (int64_t i = 0; i < n; i++)
            if (memcmp(gb + i * es, rb + i * es, (size_t)es) != 0 && bad++ == 0)
                first_bad = i;
        if (bad) {
            int64_t g = 0, r = 0;
            memcpy(&g, gb + first_bad * es, (size_t)es);
            memcpy(&r, rb + first_bad * es, (size_t)es);
            fprintf(stderr, "%s: %lld of %lld %s values differ; first at %lld: bytes %llx, "
                    "expected %llx\n", what, (long long)bad, (long long)n, pl_dtype_name(t),
                    (long long)first_bad, (unsigned long long)g, (unsigned long long)r);
        }
        return bad == 0;
    }
    for (int64_t i = 0; i < n; i++) {
        double g = pl_tc_get(gb, t, i), r = pl_tc_get(rb, t, i);
        if (!isfinite(r) || !isfinite(g)) {
            if (!((isnan(r) && isnan(g)) || r == g) && bad++ == 0)
                first_bad = i;
            continue;
        }
        if (elem_rel > 0 && !(fabs(g - r) <= elem_rel * fabs(r) + 1e-6) && bad++ == 0)
            first_bad = i;
        num += (g - r) * (g - r);
        den += r * r;
        max_abs = fabs(g - r) > max_abs ? fabs(g - r) : max_abs;
        max_ref = fabs(r) > max_ref ? fabs(r) : max_ref;
    }
    rel = den > 0 ? sqrt(num / den) : sqrt(num);
    if (bad) {
        fprintf(stderr, "%s: %lld of %lld values differ; first at %lld: got %.17g, expected "
                "%.17g\n", what, (long long)bad, (long long)n, (long long)first_bad,
                pl_tc_get(gb, t, first_bad), pl_tc_get(rb, t, first_bad));
        return 0;
    }
    if (elem_rel > 0)
        return 1;
    if (rel <= tol && max_abs <= 10 * tol * (max_ref > 1e-6 ? max_ref : 1e-6))
        return 1;
    fprintf(stderr, "%s: rel L2 %.3g, max abs %.3g (max |ref| %.3g), tolerance %.3g\n", what, rel,
            max_abs, max_ref, tol);
    return 0;
}

/* Whether output k of got matches ref's (their counts are equal); arg is the caller's. */
typedef int (*pl_tc_cmp_fn)(const char *what, const pl_tc_out *got, const pl_tc_out *ref, int k,
                            const void *arg);

/* A GPU result against its reference: as many outputs, each of as many elements and accepted by
 * cmp, and no layer of the GPU engine on the CPU. */
static inline void pl_tc_compare(const char *what, const pl_tc_out *gpu, const pl_tc_out *ref,
                                 pl_tc_cmp_fn cmp, const void *arg) {
    PL_CHECK(gpu->n == ref->n);
    for (int k = 0; k < gpu->n && k < ref->n; k++) {
        PL_CHECK(gpu->count[k] == ref->count[k]);
        if (gpu->count[k] == ref->count[k])
            PL_CHECK(cmp(what, gpu, ref, k, arg));
    }
    if (gpu->host_layers)
        fprintf(stderr, "%s: %d layer(s) ran on the CPU: %s\n", what, gpu->host_layers,
                gpu->host_ops);
    PL_CHECK(gpu->host_layers == 0);
}

/* The check most CUDA tests make: the case runs once on the CPU and three times on the GPU (fp16
 * as asked), and pl_tc_compare judges the GPU's outputs against the CPU's. */
static inline void pl_tc_check(const char *what, const pl_tc_case *c, bool fp16, pl_tc_cmp_fn cmp,
                               const void *arg) {
    pl_network *net;
    pl_tc_out cpu, gpu;
    printf("  case %s\n", what);
    fflush(stdout);
    net = pl_tc_case_net(c);
    if (!net)
        return;
    if (pl_tc_exec(net, PL_DEVICE_CPU, false, 0, c->nin, c->in, 1, &cpu)) {
        if (pl_tc_exec(net, PL_DEVICE_CUDA, fp16, 0, c->nin, c->in, 3, &gpu)) {
            pl_tc_compare(what, &gpu, &cpu, cmp, arg);
            pl_tc_out_free(&gpu);
        }
        pl_tc_out_free(&cpu);
    }
    pl_network_free(net);
}

/* ---- whole networks (test-cuda-lanes.c, test-cuda-e2e.c) ---- */

/* A float32 constant filled by pl_test_fill_uniform with this seed. */
static inline pl_tensor pl_tc_cst(pl_network *net, int rank, const int64_t *dims, float lo,
                                  float hi, uint64_t seed) {
    int64_t n = pl_tc_numel(rank, dims);
    float *v = malloc(sizeof(float) * (size_t)(n + 1));
    pl_tensor t = PL_NO_TENSOR;
    pl_test_fill_uniform(v, n, lo, hi, seed);
    PL_CHECK_OK(pl_network_add_constant(net, NULL, PL_FLOAT32, rank, dims, v, &t));
    free(v);
    return t;
}

/* One layer with one output (named out_name, or automatically when NULL). */
static inline pl_tensor pl_tc_op(pl_network *net, const char *op, const pl_tensor *in, int nin,
                                 const pl_attr *at, int nat, const char *out_name) {
    pl_tensor o = PL_NO_TENSOR;
    const char *names[1] = {out_name};
    PL_CHECK_OK(pl_network_add_layer(net, op, NULL, in, nin, at, nat, 1, out_name ? names : NULL,
                                     &o));
    return o;
}

#endif
