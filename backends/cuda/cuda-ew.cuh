/*
 * cuda-ew.cuh - launchers of the elementwise device code (cuda-ew.cu): unary ops and the fused
 * activations, broadcasting binary and ternary (Where) ops, Cast, and the bias/residual/activation
 * epilogue that Conv and Gemm share. C linkage, plain structs: included by C files and by .cu
 * files alike. Every launcher queues work on `s` and returns the launch status.
 *
 * Storage types are pl_dtype values. Compute types follow the CPU backend (cpu-ew-helpers.h):
 * float32 for float32, float16 and bfloat16 storage, float64 for float64, exact 64-bit integer
 * arithmetic (wrapping, as the CPU) for int8, uint8, int32 and int64.
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

/* y = op(x) over n elements of type t; alpha/beta as the op's attributes (rounded to float for
 * the float32-computed types). Float types (float32, float16, bfloat16, float64) take every op;
 * integer types (int8, uint8, int32, int64) Abs, Neg, Relu, Sign and Clip. Clip bounds come from
 * lo/hi (device scalars of type bt, which must be t for integers; NULL: use alpha/beta, or no
 * bound for integers). */
cudaError_t pl__cu_unary(cudaStream_t s, int op, pl_dtype t, const void *x, void *y, int64_t n,
                         double alpha, double beta, const void *lo, const void *hi, pl_dtype bt);

/* Whether pl__cu_unary handles op on type t (PL__UN_* code). */
int pl__cu_unary_ok(int op, pl_dtype t);

/* y = act(op(a, b)) with broadcasting (bc from the output shape, nops 2). t is the operands'
 * type (float32, float16, bfloat16, float64, int8, uint8, int32, int64, bool), yt the result's
 * (t, or bool for comparisons); act/alpha/beta a PL__ACT_* code (float32/float16/bfloat16 only).
 * Integer Div by zero gives 0, as the CPU backend. Not for Pow on integers: pl__cu_pow. */
cudaError_t pl__cu_binary(cudaStream_t s, int op, pl_dtype t, pl_dtype yt, const void *a,
                          const void *b, void *y, const pl__cu_bcast *bc, int64_t n, int act,
                          float alpha, float beta);

/* ONNX Pow with any numeric base type at and exponent type bt (float32, float16, bfloat16,
 * float64, int8, uint8, int32, int64); y has the base's type. As the CPU: a float32-computed base
 * takes the exponent converted to float32; any other base computes in float64, and an integer
 * result is truncated and saturated into its type. */
cudaError_t pl__cu_pow(cudaStream_t s, pl_dtype at, pl_dtype bt, const void *a, const void *b,
                       void *y, const pl__cu_bcast *bc, int64_t n);

/* y = y * scale (Mean's division), float32/float16. */
cudaError_t pl__cu_scale(cudaStream_t s, pl_dtype t, void *y, int64_t n, float scale);

/* y = y / d (Mean's division as the CPU does it), bfloat16 (in float32) and float64. */
cudaError_t pl__cu_div_scalar(cudaStream_t s, pl_dtype t, void *y, int64_t n, double d);

/* y[0..n) = v converted to t (float types: rounded; -inf/inf/NaN kept). */
cudaError_t pl__cu_fill(cudaStream_t s, pl_dtype t, void *y, int64_t n, double v);

/* Reduce* of float64 data, [outer, r, inner] along r into [outer, inner] (r >= 1), op a
 * PL__RED_* code of cuda-nn.cuh, in float64 with the CPU's formulas (NaN-propagating max/min,
 * LogSumExp around the max, left as the max when that is not finite). */
cudaError_t pl__cu_reduce_f64(cudaStream_t s, int op, const void *x, void *y, int64_t outer,
                              int64_t r, int64_t inner);

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
