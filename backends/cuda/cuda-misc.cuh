/*
 * cuda-misc.cuh - launchers of cuda-misc.cu: the small ops that used to fall back to the CPU
 * inside CUDA engines (IsNaN, IsInf, Not, Mod, ConstantOfShape, Range, Trilu, LpNormalization).
 * C linkage, plain structs: included by cuda-misc.c and cuda-misc.cu alike. Every launcher queues
 * work on `s` and returns the launch status; sizes are 64-bit and loops grid-stride.
 */
#ifndef PL_CUDA_MISC_CUH
#define PL_CUDA_MISC_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "backends/cuda/cuda-ew.cuh" /* pl__cu_bcast */
#include "plinth/plinth.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Predicates of pl__cu_misc_unary. */
enum { PL__MISC_ISNAN = 0, PL__MISC_ISINF, PL__MISC_NOT };

/* y[i] (bool, one byte) = op(x[i]) over n elements. IsNaN / IsInf: t float32, float16, bfloat16
 * or float64; IsInf counts +inf when pos and -inf when neg. Not: t bool, y = (x == 0). */
cudaError_t pl__cu_misc_unary(cudaStream_t s, int op, pl_dtype t, const void *x, void *y,
                              int64_t n, int pos, int neg);

/* y = a mod b with broadcasting (bc from the output shape, nops 2), all of type t: float32,
 * float16, bfloat16, float64 (computed in double as the CPU does, rounded once per storage step)
 * or int8, uint8, int32, int64 (computed in int64; a divisor of 0 or -1 gives 0). c_fmod: the
 * result takes the dividend's sign (C fmod), else the divisor's (Python). */
cudaError_t pl__cu_misc_mod(cudaStream_t s, pl_dtype t, int c_fmod, const void *a,
                            const void *b, void *y, const pl__cu_bcast *bc, int64_t n);

/* Fills n elements of es bytes (1, 2, 4 or 8) with the low es bytes of `bits` (the element's
 * bytes as they lie in memory, read little-endian into the integer). */
cudaError_t pl__cu_misc_fill(cudaStream_t s, size_t es, uint64_t bits, void *y, int64_t n);

/* y[i] = start + i * delta over n elements of type t. Integer types (int8, uint8, int32, int64)
 * use istart/idelta with 64-bit wrapping arithmetic; float types (float32, float16, bfloat16,
 * float64) compute in double without fused multiply-add (as the CPU) and round to t. */
cudaError_t pl__cu_misc_range(cudaStream_t s, pl_dtype t, double fstart, double fdelta,
                              int64_t istart, int64_t idelta, void *y, int64_t n);

/* Trilu over nmat matrices [rows, cols] of es-byte elements (1, 2, 4 or 8): keeps x where
 * col - row >= k (upper) or col - row <= k (lower), zero elsewhere. k is read on the device from
 * kp (type kt: int32 or int64; NULL means 0), so a computed k needs no read-back. y may be x. */
cudaError_t pl__cu_misc_trilu(cudaStream_t s, size_t es, const void *x, void *y,
                              int64_t nmat, int64_t rows, int64_t cols, const void *kp,
                              pl_dtype kt, int upper);

/* LpNormalization over the middle axis of [outer, n, inner] (t float32 or float16): y = x / ||x||
 * with the L1 (p 1) or L2 (p 2) norm, a zero norm giving zeros. float32 accumulates in double
 * (as the CPU), float16 in float32. */
cudaError_t pl__cu_misc_lpnorm(cudaStream_t s, pl_dtype t, const void *x, void *y,
                               int64_t outer, int64_t n, int64_t inner, int p);

#ifdef __cplusplus
}
#endif

#endif
