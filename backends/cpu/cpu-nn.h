/*
 * cpu-nn.h - the kernels of the CPU nn group, split over cpu-conv.c (Conv, ConvTranspose),
 * cpu-gemm.c (MatMul, Gemm, Einsum), cpu-pool.c (pooling) and cpu-norm.c (normalizations); the
 * table in cpu-nn.c is the only way the backend reaches them.
 */
#ifndef PL_CPU_NN_H
#define PL_CPU_NN_H

#include "backends/backend.h"
#include "graph/ops-nn.h"

pl_status pl__cpu_conv(const pl__kernel_args *a);
size_t pl__cpu_conv_workspace(const pl__kernel_args *a);
pl_status pl__cpu_conv_transpose(const pl__kernel_args *a);
size_t pl__cpu_conv_transpose_workspace(const pl__kernel_args *a);

pl_status pl__cpu_matmul(const pl__kernel_args *a);
pl_status pl__cpu_gemm(const pl__kernel_args *a);
pl_status pl__cpu_einsum(const pl__kernel_args *a);
size_t pl__cpu_einsum_workspace(const pl__kernel_args *a);

pl_status pl__cpu_maxpool(const pl__kernel_args *a);
pl_status pl__cpu_avgpool(const pl__kernel_args *a);
pl_status pl__cpu_global_avgpool(const pl__kernel_args *a);
pl_status pl__cpu_global_maxpool(const pl__kernel_args *a);

pl_status pl__cpu_batchnorm(const pl__kernel_args *a);
pl_status pl__cpu_layernorm(const pl__kernel_args *a);
size_t pl__cpu_layernorm_workspace(const pl__kernel_args *a);
pl_status pl__cpu_lpnorm(const pl__kernel_args *a);

/* Makes OpenBLAS single-threaded, once per process: the backend's threads split every GEMM (so
 * PLINTH_NUM_THREADS holds, and parallel execution contexts do not queue on OpenBLAS's one
 * pool). Every kernel calls it before its first BLAS call. */
void pl__cpu_blas_serial(void);
/* C = alpha op(A) op(B) + beta C (row-major float32), split into one block per thread along N or
 * M, each a single-threaded OpenBLAS call; small products run as one call. */
void pl__cpu_sgemm(void *bctx, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                   int64_t ldc);

/* Splits an m x n x k GEMM into bm x bn blocks for `threads` threads, trading idle threads
 * against the operand packing every block repeats (OpenBLAS packs its A and B blocks per call).
 * b_cap > 0 caps k x (n / bn) at b_cap floats (a B block that must stay in cache). */
void pl__cpu_gemm_grid(int64_t threads, int64_t m, int64_t n, int64_t k, int64_t b_cap,
                       int64_t *bm, int64_t *bn);

/* Hot loops are compiled for AVX-512 and AVX2 as well and picked at load time (GCC ifunc). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11 &&          \
    !defined(PL_NO_SIMD_CLONES)
#define PL__SIMD_CLONES                                                                            \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PL__SIMD_CLONES
#endif

/* A layer's fused activation, resolved once per kernel call so that epilogues apply it inline
 * (pl__cpu_fused_activation re-reads the attributes on every call). */
typedef enum pl__nn_act_kind {
    PL__ACT_NONE = 0,
    PL__ACT_RELU,
    PL__ACT_LEAKY,   /* alpha */
    PL__ACT_CLIP,    /* [alpha, beta] */
    PL__ACT_HSWISH,
    PL__ACT_HSIGMOID, /* alpha x + beta, clamped to [0, 1] */
    PL__ACT_OTHER     /* through pl__cpu_fused_activation */
} pl__nn_act_kind;

typedef struct pl__nn_act {
    pl__nn_act_kind kind;
    float alpha, beta;
    const pl__layer *layer;
} pl__nn_act;

pl__nn_act pl__nn_act_get(const pl__layer *l);

/* y[i] = act(y[i] + bias (+ res[i])) over n elements; res may be NULL. */
void pl__nn_bias_act(const pl__nn_act *act, float *y, float bias, const float *res, int64_t n);

/* An inference context over the kernel's views, for the shared geometry helpers (ops-nn.h),
 * whose failures then name the layer as shape inference does. */
static inline pl__infer pl__cpu_nn_infer_ctx(const pl__kernel_args *a) {
    pl__infer ic = {.layer = a->layer, .nin = a->nin, .in = a->in, .nout = a->nout, .out = a->out};
    return ic;
}

/* A workspace that is smaller than the kernel asked for is an internal error, never a crash. */
pl_status pl__cpu_nn_short_workspace(const pl__kernel_args *a, size_t need);

#endif
