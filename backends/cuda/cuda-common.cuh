/*
 * cuda-common.cuh - device helpers the .cu files share: float loads and stores for float32 and
 * float16 storage, the fused activations, grid sizing, and the storage-type dispatch that keeps
 * template instantiations to the two float types. Included by .cu files only.
 */
#ifndef PL_CUDA_COMMON_CUH
#define PL_CUDA_COMMON_CUH

#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <stdint.h>

#include "plinth/plinth.h"

namespace pl_cuda {

__device__ __forceinline__ float ld(const float *p, int64_t i) { return __ldg(p + i); }
__device__ __forceinline__ float ld(const __half *p, int64_t i) { return __half2float(__ldg(p + i)); }
__device__ __forceinline__ void st(float *p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st(__half *p, int64_t i, float v) { p[i] = __float2half_rn(v); }

/* A parameter vector (bias, BN statistics) that may be stored as float32 or float16. */
__device__ __forceinline__ float ldp(const void *p, bool half, int64_t i) {
    return half ? __half2float(__ldg((const __half *)p + i)) : __ldg((const float *)p + i);
}

/* The activations of pl__cpu_fused_activation (codes PL__ACT_* of cuda-internal.h). */
__device__ __forceinline__ float act(float x, int a, float al, float be) {
    switch (a) {
    case 1: return x > 0.f ? x : 0.f;                               /* Relu */
    case 2: return x >= 0.f ? x : al * x;                           /* LeakyRelu */
    case 3: return x < al ? al : x > be ? be : x;                   /* Clip */
    case 4: return 1.f / (1.f + expf(-x));                          /* Sigmoid */
    case 5: return tanhf(x);                                        /* Tanh */
    case 6: {                                                       /* HardSigmoid */
        float v = al * x + be;
        return v < 0.f ? 0.f : v > 1.f ? 1.f : v;
    }
    case 7: {                                                       /* HardSwish */
        float v = x / 6.f + 0.5f;
        return x * (v < 0.f ? 0.f : v > 1.f ? 1.f : v);
    }
    default: return x;
    }
}

/* Blocks for n elements at `per` elements per thread, capped for grid-stride loops. */
static inline unsigned grid_for(int64_t n, int threads, int per = 1) {
    int64_t b = (n + (int64_t)threads * per - 1) / ((int64_t)threads * per);
    if (b < 1)
        b = 1;
    if (b > 65535LL * 16)
        b = 65535LL * 16;
    return (unsigned)b;
}

} // namespace pl_cuda

/* Calls F<float>(...) or F<__half>(...) for a float storage type; cudaErrorInvalidValue for
 * others. */
#define PL__CU_FLOAT_DISPATCH(t, F, ...)                                                           \
    ((t) == PL_FLOAT32 ? F<float>(__VA_ARGS__)                                                     \
                       : (t) == PL_FLOAT16 ? F<__half>(__VA_ARGS__) : cudaErrorInvalidValue)

#endif
