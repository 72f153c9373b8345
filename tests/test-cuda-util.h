/*
 * test-cuda-util.h - what the CUDA tests share: build a network for a device, execute it on host
 * inputs several times (the second and later executions go through the CUDA graph the runtime
 * captures), hand the outputs back as float32, and compare the GPU's result with the CPU's.
 * Header-only (static functions) so that each test-cuda-*.c stays one executable.
 */
#ifndef PL_TEST_CUDA_UTIL_H
#define PL_TEST_CUDA_UTIL_H

#include <execinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

typedef struct pl_tc_in {
    const char *name;
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
    void *data;
} pl_tc_in;

typedef struct pl_tc_out {
    int n;
    float *v[8];
    int64_t count[8];
    pl_dtype dtype[8];
} pl_tc_out;

static inline void pl_tc_out_free(pl_tc_out *o) {
    for (int i = 0; i < o->n; i++)
        free(o->v[i]);
    memset(o, 0, sizeof(*o));
}

static inline size_t pl_tc_bytes(int rank, const int64_t *dims, pl_dtype t) {
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    return n * pl_dtype_size(t);
}

static inline float pl_tc_to_float(const void *p, pl_dtype t, int64_t i) {
    switch (t) {
    case PL_FLOAT32: return ((const float *)p)[i];
    case PL_INT64: return (float)((const int64_t *)p)[i];
    case PL_INT32: return (float)((const int32_t *)p)[i];
    case PL_BOOL: case PL_UINT8: return (float)((const uint8_t *)p)[i];
    default: return NAN;
    }
}

/* Builds, loads and executes `runs` times; the outputs of the last run land in out (and must
 * equal the first run's exactly: the captured graph replays the same kernels). Returns 1 on
 * success; failures are counted as failed checks. host_layers (may be NULL) receives how many
 * layers of the engine run on the CPU, and host_ops their op names. */
static inline int pl_tc_run(const pl_network *net, pl_device dev, bool fp16, int nin, const pl_tc_in *in,
                     int runs, pl_tc_out *out, int *host_layers, char *host_ops, size_t host_ops_sz) {
    pl_builder_config *cfg = NULL;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    void *plan = NULL, *bufs[8] = {0};
    float *first[8] = {0};
    size_t size = 0;
    int ok = 0, nio, k = 0;
    memset(out, 0, sizeof(*out));
    if (host_layers)
        *host_layers = 0;
    if (host_ops && host_ops_sz)
        host_ops[0] = '\0';
    PL_CHECK_OK(pl_builder_config_create(&cfg));
    if (!cfg)
        return 0;
    pl_builder_config_set_device(cfg, dev);
    pl_builder_config_set_fp16(cfg, fp16);
    for (int i = 0; i < nin; i++)
        PL_CHECK_OK(pl_builder_config_set_shape(cfg, in[i].name, in[i].rank, in[i].dims,
                                                in[i].dims, in[i].dims));
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
    if (host_layers) {
        for (int i = 0; i < pl_engine_num_layers(e); i++) {
            pl_layer_info li;
            if (pl_engine_layer(e, i, &li) == PL_OK && strncmp(li.kernel, "cpu", 3) == 0) {
                (*host_layers)++;
                if (host_ops && strlen(host_ops) + strlen(li.op) + 2 < host_ops_sz) {
                    strcat(host_ops, li.op);
                    strcat(host_ops, " ");
                }
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
    for (int i = 0; i < nio && k < 8; i++) {
        pl_io_info io;
        int rank;
        int64_t dims[PL_MAX_RANK];
        size_t bytes;
        PL_CHECK_OK(pl_engine_io(e, i, &io));
        if (io.is_input)
            continue;
        PL_CHECK_OK(pl_context_get_shape(ctx, io.name, &rank, dims));
        bytes = pl_tc_bytes(rank, dims, io.dtype);
        bufs[k] = calloc(bytes ? bytes : 1, 1);
        out->count[k] = (int64_t)(bytes / (pl_dtype_size(io.dtype) ? pl_dtype_size(io.dtype) : 1));
        out->v[k] = malloc(sizeof(float) * (size_t)(out->count[k] + 1));
        first[k] = malloc(sizeof(float) * (size_t)(out->count[k] + 1));
        out->dtype[k] = io.dtype;
        PL_CHECK_OK(pl_context_set_tensor(ctx, io.name, bufs[k], PL_MEMORY_HOST, bytes));
        out->n = ++k;
    }
    for (int r = 0; r < runs; r++) {
        pl_status s = pl_context_execute(ctx);
        if (s) {
            fprintf(stderr, "execute %d on %s failed: %s\n", r, pl_device_name(dev), pl_errmsg());
            PL_CHECK(s == PL_OK);
            goto done;
        }
        for (int j = 0; j < out->n; j++) {
            pl_dtype t = out->dtype[j];
            int64_t n = out->count[j];
            float *dst = r == 0 ? first[j] : out->v[j];
            for (int64_t i = 0; i < n; i++)
                dst[i] = pl_tc_to_float(bufs[j], t, i);
            if (r == 0 && runs == 1)
                memcpy(out->v[j], first[j], sizeof(float) * (size_t)n);
            if (r > 0 && memcmp(first[j], out->v[j], sizeof(float) * (size_t)n) != 0) {
                fprintf(stderr, "run %d on %s: output %d differs from the first run\n", r,
                        pl_device_name(dev), j);
                PL_CHECK(0);
                goto done;
            }
        }
    }
    ok = 1;
done:
    for (int j = 0; j < 8; j++) {
        free(bufs[j]);
        free(first[j]);
    }
    pl_context_free(ctx);
    pl_engine_free(e);
    pl_free(plan);
    pl_builder_config_free(cfg);
    if (!ok)
        pl_tc_out_free(out);
    return ok;
}

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

#endif
