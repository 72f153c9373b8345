/*
 * cpu-backend.c - the CPU backend's function table: host memory, memcpy copies, wall-clock
 * timing and the kernel lookup over the CPU kernel groups. Parallel loops use OpenMP, whose
 * runtime is the thread pool: each calling thread (one per execution context) gets its own team,
 * so several contexts run in parallel without sharing mutable state.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backends/backend.h"

typedef struct pl__cpu_ctx {
    int threads;
} pl__cpu_ctx;

static bool pl__cpu_available(void) { return true; }

static pl_status pl__cpu_create(void **bctx) {
    pl__cpu_ctx *c = calloc(1, sizeof(*c));
    const char *env = getenv("PLINTH_NUM_THREADS");
    if (!c)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
#ifdef _OPENMP
    c->threads = omp_get_max_threads();
#else
    c->threads = 1;
#endif
    if (env && atoi(env) > 0)
        c->threads = atoi(env);
    *bctx = c;
    return PL_OK;
}

static void pl__cpu_destroy(void *bctx) { free(bctx); }

static pl_status pl__cpu_alloc(void *bctx, size_t bytes, void **p) {
    size_t rounded;
    (void)bctx;
    if (!pl__add_size(bytes, 255, &rounded))
        return pl__fail(PL_ERR_NOMEM, "allocation of %zu bytes overflows", bytes);
    rounded &= ~(size_t)255;
    *p = aligned_alloc(256, rounded ? rounded : 256);
    if (!*p)
        return pl__fail(PL_ERR_NOMEM, "out of host memory allocating %zu bytes", bytes);
    return PL_OK;
}

static void pl__cpu_release(void *bctx, void *p) {
    (void)bctx;
    free(p);
}

static pl_status pl__cpu_copy(void *bctx, void *dst, const void *src, size_t bytes,
                              pl__copy_kind kind) {
    (void)bctx;
    (void)kind;
    if (bytes && dst != src)
        memmove(dst, src, bytes);
    return PL_OK;
}

static pl_status pl__cpu_sync(void *bctx) {
    (void)bctx;
    return PL_OK;
}

static double pl__cpu_now_ms(void *bctx) {
    struct timespec ts;
    (void)bctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static const pl__kernel_def *const pl__cpu_groups[] = {
    pl__cpu_kernels_elementwise, pl__cpu_kernels_nn, pl__cpu_kernels_shape, pl__cpu_kernels_reduce};

static const pl__kernel_def *pl__cpu_find_kernel(const char *op) {
    for (size_t g = 0; g < sizeof(pl__cpu_groups) / sizeof(pl__cpu_groups[0]); g++)
        for (const pl__kernel_def *k = pl__cpu_groups[g]; k->op; k++)
            if (strcmp(k->op, op) == 0)
                return k;
    return NULL;
}

int pl__cpu_num_threads(void *bctx) { return bctx ? ((pl__cpu_ctx *)bctx)->threads : 1; }

void pl__cpu_parallel_for(void *bctx, int64_t n, int64_t grain, pl__range_fn fn, void *arg) {
    int threads = bctx ? ((pl__cpu_ctx *)bctx)->threads : 1;
    int64_t chunks;
    if (grain < 1)
        grain = 1;
    if (n <= 0)
        return;
    if (threads <= 1 || n <= grain) {
        fn(arg, 0, n);
        return;
    }
    chunks = (n + grain - 1) / grain;
    if (chunks > threads * 4)
        chunks = threads * 4;
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
#endif
    for (int64_t c = 0; c < chunks; c++) {
        int64_t b = n * c / chunks, e = n * (c + 1) / chunks;
        if (b < e)
            fn(arg, b, e);
    }
}

const pl__backend pl__cpu_backend = {
    .name = "cpu",
    .device = PL_DEVICE_CPU,
    .host_memory = true,
    .available = pl__cpu_available,
    .create = pl__cpu_create,
    .destroy = pl__cpu_destroy,
    .alloc = pl__cpu_alloc,
    .release = pl__cpu_release,
    .copy = pl__cpu_copy,
    .sync = pl__cpu_sync,
    .now_ms = pl__cpu_now_ms,
    .find_kernel = pl__cpu_find_kernel,
};
