/*
 * cuda-ew.cuh - launchers of the elementwise device code (cuda-ew.cu): unary ops and the fused
 * activations, broadcasting binary and ternary (Where) ops, Cast, and the bias/residual/activation
 * epilogue that Conv and Gemm share. C linkage, plain structs: included by C files and by .cu
 * files alike. Every launcher queues work on `s` and returns the launch status.
 *
 * Storage types are pl_dtype values; float math happens in float32 whatever the storage.
 */
#ifndef PL_CUDA_EW_CUH
#define PL_CUDA_EW_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "plinth/plinth.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PL__CU_MAX_RANK 8

/* Broadcast geometry: collapsed output dims and each operand's element strides (0 where it
 * broadcasts). Built on the host by pl__cu_bcast_make (cuda-ops.c). */
typedef struct pl__cu_bcast {
    int rank;
    int nops;
    int64_t dims[PL__CU_MAX_RANK];
    int64_t st[3][PL__CU_MAX_RANK];
} pl__cu_bcast;

/* Unary op codes (the activations first, matching PL__ACT_* of cuda-internal.h). */
enum {
    PL__UN_IDENTITY = 0, PL__UN_RELU, PL__UN_LEAKY, PL__UN_CLIP, PL__UN_SIGMOID, PL__UN_TANH,
    PL__UN_HSIG, PL__UN_HSWISH,
    PL__UN_ABS, PL__UN_NEG, PL__UN_EXP, PL__UN_LOG, PL__UN_SQRT, PL__UN_RECIP, PL__UN_FLOOR,
    PL__UN_CEIL, PL__UN_ROUND, PL__UN_SIN, PL__UN_COS, PL__UN_TAN, PL__UN_ASIN, PL__UN_ACOS,
    PL__UN_ATAN, PL__UN_SINH, PL__UN_COSH, PL__UN_ASINH, PL__UN_ACOSH, PL__UN_ATANH, PL__UN_ERF,
    PL__UN_GELU, PL__UN_GELU_TANH, PL__UN_SOFTPLUS, PL__UN_SOFTSIGN, PL__UN_ELU, PL__UN_SELU,
    PL__UN_CELU, PL__UN_MISH, PL__UN_THRELU, PL__UN_SIGN, PL__UN_COUNT
};

/* Binary op codes. Ops from PL__BIN_EQ on produce bool. */
enum {
    PL__BIN_ADD = 0, PL__BIN_SUB, PL__BIN_MUL, PL__BIN_DIV, PL__BIN_POW, PL__BIN_MIN,
    PL__BIN_MAX, PL__BIN_PRELU,
    PL__BIN_EQ, PL__BIN_LT, PL__BIN_GT, PL__BIN_LE, PL__BIN_GE, PL__BIN_AND, PL__BIN_OR,
    PL__BIN_XOR
};

/* y = op(x) over n elements of float type t (float32/float16); alpha/beta as the op's
 * attributes. Clip bounds come from lo/hi (device scalars of type bt, NULL: use alpha/beta). */
cudaError_t pl__cu_unary(cudaStream_t s, int op, pl_dtype t, const void *x, void *y, int64_t n,
                         float alpha, float beta, const void *lo, const void *hi, pl_dtype bt);

/* y = act(op(a, b)) with broadcasting (bc from the output shape, nops 2). t is the operands'
 * type (float32, float16, int32, int64, bool), yt the result's (t, or bool for comparisons);
 * act/alpha/beta a PL__ACT_* code (float types only). */
cudaError_t pl__cu_binary(cudaStream_t s, int op, pl_dtype t, pl_dtype yt, const void *a,
                          const void *b, void *y, const pl__cu_bcast *bc, int64_t n, int act,
                          float alpha, float beta);

/* y = y * scale (Mean's division), float types. */
cudaError_t pl__cu_scale(cudaStream_t s, pl_dtype t, void *y, int64_t n, float scale);

/* y = cond ? a : b with broadcasting (bc nops 3: cond, a, b); es: element bytes of a, b, y. */
cudaError_t pl__cu_where(cudaStream_t s, size_t es, const void *cond, const void *a,
                         const void *b, void *y, const pl__cu_bcast *bc, int64_t n);

/* Converts n elements (float to int truncates and saturates, NaN to 0; int to narrower int
 * wraps; anything to bool is v != 0), as the CPU backend does. */
cudaError_t pl__cu_cast(cudaStream_t s, const void *x, pl_dtype xt, void *y, pl_dtype yt,
                        int64_t n);

/* Epilogue of Conv/Gemm, in place on y (n elements of type t): y = act(y + bias[(i / sp) % c]
 * + res[i]); bias (type bt) and res (type t) may be NULL. */
cudaError_t pl__cu_bias_act(cudaStream_t s, pl_dtype t, void *y, int64_t n, const void *bias,
                            pl_dtype bt, int64_t c, int64_t sp, const void *res, int act,
                            float alpha, float beta);

/* Gemm's C term: y[i, j] = beta * C broadcast from [cm, cn] (cm, cn in {1, M} x {1, N}). */
cudaError_t pl__cu_gemm_c(cudaStream_t s, pl_dtype t, void *y, int64_t m, int64_t n,
                          const void *c, pl_dtype ct, int64_t cm, int64_t cn, float beta);

/* Probes that the module's device code runs on the current device (a kernel image exists). */
cudaError_t pl__cu_probe(void);

#ifdef __cplusplus
}
#endif

#endif
