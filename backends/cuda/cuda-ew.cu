/*
 * cuda-ew.cu - elementwise device code: unary ops, broadcasting binary ops and Where, Cast, and
 * the Conv/Gemm epilogue. Memory-bound, so each kernel is a grid-stride loop that reads every
 * operand once; the op code is a kernel argument (uniform across the grid, so the switch costs a
 * predictable branch) rather than a template parameter, which keeps the instantiations to the
 * storage types and the build short. Broadcast offsets are computed from collapsed dims (the host
 * merges dims so that most broadcasts have rank 1 to 3).
 *
 * Beyond float32/float16 (the fast paths, unchanged): bfloat16 storage goes through the same
 * float kernels; float64 through the same templates with double overloads of the per-element
 * functions (the CPU's float64 formulas, parameters kept in double); integers of 1 to 8 bytes
 * through the integer kernels; Pow with mixed or integer types through one kernel that loads by
 * dtype. Float64 Reduce* lives here too (cuda-nn.cu's reductions are float-only).
 */
#include <cuda_bf16.h>
#include <limits.h>
#include <math.h>

#include "backends/cuda/cuda-common.cuh"
#include "backends/cuda/cuda-ew.cuh"
#include "backends/cuda/cuda-nn.cuh"

namespace pl_cuda {
/* Loads and stores of the storage types cuda-common.cuh does not cover: bfloat16 is computed in
 * float, float64 in double. */
__device__ __forceinline__ float ld(const __nv_bfloat16 *p, int64_t i) {
    return __bfloat162float(__ldg(p + i));
}
__device__ __forceinline__ void st(__nv_bfloat16 *p, int64_t i, float v) {
    p[i] = __float2bfloat16_rn(v);
}
__device__ __forceinline__ double ld(const double *p, int64_t i) { return __ldg(p + i); }
__device__ __forceinline__ void st(double *p, int64_t i, double v) { p[i] = v; }
} // namespace pl_cuda

using namespace pl_cuda;

/* ---- unary ---------------------------------------------------------------------------------- */

__device__ __forceinline__ float pl__un_op(int op, float x, float al, float be) {
    if (op < PL__UN_ABS)
        return act(x, op, al, be);
    switch (op) {
    case PL__UN_ABS: return fabsf(x);
    case PL__UN_NEG: return -x;
    case PL__UN_EXP: return expf(x);
    case PL__UN_LOG: return logf(x);
    case PL__UN_SQRT: return sqrtf(x);
    case PL__UN_RECIP: return 1.f / x;
    case PL__UN_FLOOR: return floorf(x);
    case PL__UN_CEIL: return ceilf(x);
    case PL__UN_ROUND: return rintf(x); /* half to even, as ONNX */
    case PL__UN_SIN: return sinf(x);
    case PL__UN_COS: return cosf(x);
    case PL__UN_TAN: return tanf(x);
    case PL__UN_ASIN: return asinf(x);
    case PL__UN_ACOS: return acosf(x);
    case PL__UN_ATAN: return atanf(x);
    case PL__UN_SINH: return sinhf(x);
    case PL__UN_COSH: return coshf(x);
    case PL__UN_ASINH: return asinhf(x);
    case PL__UN_ACOSH: return acoshf(x);
    case PL__UN_ATANH: return atanhf(x);
    case PL__UN_ERF: return erff(x);
    case PL__UN_GELU: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case PL__UN_GELU_TANH:
        return 0.5f * x * (1.f + tanhf(0.79788456080286535f * (x + 0.044715f * x * x * x)));
    case PL__UN_SOFTPLUS: return x > 0.f ? x + log1pf(expf(-x)) : log1pf(expf(x));
    case PL__UN_SOFTSIGN: return x / (1.f + fabsf(x));
    case PL__UN_ELU: return x < 0.f ? al * expm1f(x) : x;
    case PL__UN_SELU: return x <= 0.f ? be * al * expm1f(x) : be * x;
    case PL__UN_CELU: return fmaxf(0.f, x) + fminf(0.f, al * expm1f(x / al));
    case PL__UN_MISH: return x * tanhf(x > 20.f ? x : log1pf(expf(x)));
    case PL__UN_THRELU: return x > al ? x : 0.f;
    case PL__UN_SIGN: return x > 0.f ? 1.f : x < 0.f ? -1.f : x;
    default: return x;
    }
}

/* float64: the CPU's float64 formulas (cpu-elementwise.c), all in double. */
__device__ __forceinline__ double pl__clamp01(double v) { return v > 1. ? 1. : v < 0. ? 0. : v; }

__device__ __forceinline__ double pl__un_op(int op, double x, double al, double be) {
    switch (op) {
    case PL__UN_RELU: return x < 0. ? 0. : x;
    case PL__UN_LEAKY: return x < 0. ? al * x : x;
    case PL__UN_CLIP: return x < al ? al : x > be ? be : x;
    case PL__UN_SIGMOID: return 1. / (1. + exp(-x));
    case PL__UN_TANH: return tanh(x);
    case PL__UN_HSIG: return pl__clamp01(al * x + be);
    case PL__UN_HSWISH: return x * pl__clamp01(x * (1.0 / 6) + 0.5);
    case PL__UN_ABS: return fabs(x);
    case PL__UN_NEG: return -x;
    case PL__UN_EXP: return exp(x);
    case PL__UN_LOG: return log(x);
    case PL__UN_SQRT: return sqrt(x);
    case PL__UN_RECIP: return 1. / x;
    case PL__UN_FLOOR: return floor(x);
    case PL__UN_CEIL: return ceil(x);
    case PL__UN_ROUND: return rint(x);
    case PL__UN_SIN: return sin(x);
    case PL__UN_COS: return cos(x);
    case PL__UN_TAN: return tan(x);
    case PL__UN_ASIN: return asin(x);
    case PL__UN_ACOS: return acos(x);
    case PL__UN_ATAN: return atan(x);
    case PL__UN_SINH: return sinh(x);
    case PL__UN_COSH: return cosh(x);
    case PL__UN_ASINH: return asinh(x);
    case PL__UN_ACOSH: return acosh(x);
    case PL__UN_ATANH: return atanh(x);
    case PL__UN_ERF: return erf(x);
    case PL__UN_GELU: return 0.5 * x * erfc(-x * 0.70710678118654752440);
    case PL__UN_GELU_TANH:
        return 0.5 * x * (1. + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    case PL__UN_SOFTPLUS: return x > 0. ? x + log1p(exp(-x)) : log1p(exp(x));
    case PL__UN_SOFTSIGN: return x / (1. + fabs(x));
    case PL__UN_ELU: return x < 0. ? al * expm1(x) : x;
    case PL__UN_SELU: return x <= 0. ? be * al * expm1(x) : be * x;
    case PL__UN_CELU: return fmax(0., x) + fmin(0., al * expm1(x / al));
    case PL__UN_MISH: return x * tanh(log1p(exp(x)));
    case PL__UN_THRELU: return x > al ? x : 0.;
    case PL__UN_SIGN: return x > 0. ? 1. : x < 0. ? -1. : x;
    default: return x;
    }
}

__device__ __forceinline__ float pl__scalar(const void *p, int t, float def) {
    if (!p)
        return def;
    switch (t) {
    case PL_FLOAT32: return *(const float *)p;
    case PL_FLOAT16: return __half2float(*(const __half *)p);
    case PL_FLOAT64: return (float)*(const double *)p;
    default: return def;
    }
}

__device__ __forceinline__ double pl__scalar(const void *p, int t, double def) {
    if (!p)
        return def;
    switch (t) {
    case PL_FLOAT64: return *(const double *)p;
    case PL_FLOAT32: return *(const float *)p;
    default: return def;
    }
}

/* A Clip bound of the storage type T, in the compute type (bfloat16 and float64 apart, so that
 * the float32/float16 kernels stay as they were). */
template <typename T>
__device__ __forceinline__ float pl__bound(const void *p, int t, float def) {
    return pl__scalar(p, t, def);
}
template <>
__device__ __forceinline__ float pl__bound<__nv_bfloat16>(const void *p, int t, float def) {
    return p && t == PL_BFLOAT16 ? __bfloat162float(*(const __nv_bfloat16 *)p)
                                 : pl__scalar(p, t, def);
}
template <typename T>
__device__ __forceinline__ double pl__bound(const void *p, int t, double def) {
    return pl__scalar(p, t, def);
}

/* T: storage, C: compute type (float, or double for float64). */
template <typename T, typename C>
__global__ void pl__k_unary(int op, const T *__restrict__ x, T *__restrict__ y, int64_t n, C al,
                            C be, const void *lo, const void *hi, int bt) {
    if (op == PL__UN_CLIP) {
        al = pl__bound<T>(lo, bt, al);
        be = pl__bound<T>(hi, bt, be);
        if (al > be) /* ONNX: when min > max every value becomes max */
            al = be;
    }
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        st(y, i, pl__un_op(op, ld(x, i), al, be));
}

template <typename T, typename C>
static cudaError_t pl__unary_launch(cudaStream_t s, int op, const void *x, void *y, int64_t n,
                                    double al, double be, const void *lo, const void *hi, int bt) {
    if (n <= 0)
        return cudaSuccess;
    pl__k_unary<T, C><<<grid_for(n, 256, 4), 256, 0, s>>>(op, (const T *)x, (T *)y, n, (C)al,
                                                          (C)be, lo, hi, bt);
    return cudaGetLastError();
}

/* Integers: the ops the CPU computes on int64 (Abs and Neg wrap), stored back wrapping. Clip's
 * bounds are scalars of the input's type; an absent one does not bound. */
template <typename T>
__global__ void pl__k_unary_i(int op, const T *__restrict__ x, T *__restrict__ y, int64_t n,
                              const T *lo, const T *hi) {
    long long l = lo ? (long long)*lo : LLONG_MIN, h = hi ? (long long)*hi : LLONG_MAX;
    if (l > h) /* ONNX: when min > max every value becomes max */
        l = h;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        long long v = (long long)x[i], r;
        unsigned long long neg = 0ull - (unsigned long long)v;
        switch (op) {
        case PL__UN_ABS: r = v < 0 ? (long long)neg : v; break;
        case PL__UN_NEG: r = (long long)neg; break;
        case PL__UN_RELU: r = v < 0 ? 0 : v; break;
        case PL__UN_SIGN: r = (v > 0) - (v < 0); break;
        case PL__UN_CLIP: r = v < l ? l : v > h ? h : v; break;
        default: r = v; break;
        }
        y[i] = (T)(unsigned long long)r;
    }
}

template <typename T>
static cudaError_t pl__unary_i_launch(cudaStream_t s, int op, const void *x, void *y, int64_t n,
                                      const void *lo, const void *hi) {
    if (n <= 0)
        return cudaSuccess;
    pl__k_unary_i<T><<<grid_for(n, 256, 4), 256, 0, s>>>(op, (const T *)x, (T *)y, n,
                                                         (const T *)lo, (const T *)hi);
    return cudaGetLastError();
}

static bool pl__int_unary(int op) {
    return op == PL__UN_ABS || op == PL__UN_NEG || op == PL__UN_RELU || op == PL__UN_SIGN ||
           op == PL__UN_CLIP;
}

extern "C" int pl__cu_unary_ok(int op, pl_dtype t) {
    if (op < 0 || op >= PL__UN_COUNT)
        return 0;
    switch (t) {
    case PL_FLOAT32: case PL_FLOAT16: case PL_BFLOAT16: case PL_FLOAT64: return 1;
    case PL_INT8: case PL_UINT8: case PL_INT32: case PL_INT64: return pl__int_unary(op);
    default: return 0;
    }
}

extern "C" cudaError_t pl__cu_unary(cudaStream_t s, int op, pl_dtype t, const void *x, void *y,
                                    int64_t n, double alpha, double beta, const void *lo,
                                    const void *hi, pl_dtype bt) {
    switch (t) {
    case PL_FLOAT32:
        return pl__unary_launch<float, float>(s, op, x, y, n, alpha, beta, lo, hi, (int)bt);
    case PL_FLOAT16:
        return pl__unary_launch<__half, float>(s, op, x, y, n, alpha, beta, lo, hi, (int)bt);
    case PL_BFLOAT16:
        return pl__unary_launch<__nv_bfloat16, float>(s, op, x, y, n, alpha, beta, lo, hi,
                                                      (int)bt);
    case PL_FLOAT64:
        return pl__unary_launch<double, double>(s, op, x, y, n, alpha, beta, lo, hi, (int)bt);
    default: break;
    }
    if (!pl__int_unary(op) || (op == PL__UN_CLIP && (lo || hi) && bt != t))
        return cudaErrorInvalidValue;
    switch (t) {
    case PL_INT8: return pl__unary_i_launch<int8_t>(s, op, x, y, n, lo, hi);
    case PL_UINT8: return pl__unary_i_launch<uint8_t>(s, op, x, y, n, lo, hi);
    case PL_INT32: return pl__unary_i_launch<int32_t>(s, op, x, y, n, lo, hi);
    case PL_INT64: return pl__unary_i_launch<long long>(s, op, x, y, n, lo, hi);
    default: return cudaErrorInvalidValue;
    }
}

/* ---- broadcast offsets ---------------------------------------------------------------------- */

/* Offsets of output element i in each of the nops operands. */
template <int NOPS>
__device__ __forceinline__ void pl__bc_offsets(const pl__cu_bcast &bc, int64_t i, int64_t *off) {
    for (int k = 0; k < NOPS; k++)
        off[k] = 0;
    if (bc.rank == 1) {
        for (int k = 0; k < NOPS; k++)
            off[k] = i * bc.st[k][0];
        return;
    }
    for (int d = bc.rank - 1; d >= 0; d--) {
        int64_t q = i / bc.dims[d], r = i - q * bc.dims[d];
        for (int k = 0; k < NOPS; k++)
            off[k] += r * bc.st[k][d];
        i = q;
    }
}

/* ---- binary --------------------------------------------------------------------------------- */

__device__ __forceinline__ float pl__bin_f(int op, float a, float b) {
    switch (op) {
    case PL__BIN_ADD: return a + b;
    case PL__BIN_SUB: return a - b;
    case PL__BIN_MUL: return a * b;
    case PL__BIN_DIV: return a / b;
    case PL__BIN_POW: return powf(a, b);
    case PL__BIN_MIN: return (a != a || b != b) ? a + b : fminf(a, b);
    case PL__BIN_MAX: return (a != a || b != b) ? a + b : fmaxf(a, b);
    case PL__BIN_PRELU: return a < 0.f ? a * b : a;
    case PL__BIN_EQ: return a == b;
    case PL__BIN_LT: return a < b;
    case PL__BIN_GT: return a > b;
    case PL__BIN_LE: return a <= b;
    case PL__BIN_GE: return a >= b;
    default: return 0.f;
    }
}

/* float64, as the CPU's double path (max/min: NaN wins, in the CPU's form). */
__device__ __forceinline__ double pl__bin_f(int op, double a, double b) {
    switch (op) {
    case PL__BIN_ADD: return a + b;
    case PL__BIN_SUB: return a - b;
    case PL__BIN_MUL: return a * b;
    case PL__BIN_DIV: return a / b;
    case PL__BIN_POW: return b == 2. ? a * a : pow(a, b);
    case PL__BIN_MIN: return (a < b || a != a) ? a : b;
    case PL__BIN_MAX: return (a > b || a != a) ? a : b;
    case PL__BIN_PRELU: return a < 0. ? a * b : a;
    case PL__BIN_EQ: return a == b;
    case PL__BIN_LT: return a < b;
    case PL__BIN_GT: return a > b;
    case PL__BIN_LE: return a <= b;
    case PL__BIN_GE: return a >= b;
    default: return 0.;
    }
}

/* The fused activation of a float-computed result; float64 layers have none (supports()). */
__device__ __forceinline__ float pl__fin(float v, int ac, float al, float be) {
    return act(v, ac, al, be);
}
__device__ __forceinline__ double pl__fin(double v, int, float, float) { return v; }

__device__ __forceinline__ long long pl__bin_i(int op, long long a, long long b) {
    unsigned long long ua = (unsigned long long)a, ub = (unsigned long long)b;
    switch (op) {
    case PL__BIN_ADD: return (long long)(ua + ub); /* wraps, as the CPU backend */
    case PL__BIN_SUB: return (long long)(ua - ub);
    case PL__BIN_MUL: return (long long)(ua * ub);
    case PL__BIN_DIV: return b == 0 ? 0 : (a == LLONG_MIN && b == -1) ? a : a / b;
    case PL__BIN_MIN: return a < b ? a : b;
    case PL__BIN_MAX: return a > b ? a : b;
    case PL__BIN_PRELU: return a < 0 ? (long long)(ua * ub) : a;
    case PL__BIN_EQ: return a == b;
    case PL__BIN_LT: return a < b;
    case PL__BIN_GT: return a > b;
    case PL__BIN_LE: return a <= b;
    case PL__BIN_GE: return a >= b;
    case PL__BIN_AND: return (a != 0) && (b != 0);
    case PL__BIN_OR: return (a != 0) || (b != 0);
    case PL__BIN_XOR: return (a != 0) != (b != 0);
    default: return 0;
    }
}

/* Float storage: float math (double for float64); the result is stored as T (arith) or bool
 * (comparisons). */
template <typename T, typename Y>
__global__ void pl__k_binary_f(int op, const T *__restrict__ a, const T *__restrict__ b,
                               Y *__restrict__ y, pl__cu_bcast bc, int64_t n, int ac, float al,
                               float be) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[2];
        pl__bc_offsets<2>(bc, i, off);
        auto v = pl__bin_f(op, ld(a, off[0]), ld(b, off[1]));
        if (sizeof(Y) == 1)
            ((uint8_t *)y)[i] = v != 0.f;
        else
            st((T *)y, i, pl__fin(v, ac, al, be));
    }
}

template <typename T, typename Y>
__global__ void pl__k_binary_i(int op, const T *__restrict__ a, const T *__restrict__ b,
                               Y *__restrict__ y, pl__cu_bcast bc, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[2];
        pl__bc_offsets<2>(bc, i, off);
        y[i] = (Y)pl__bin_i(op, (long long)a[off[0]], (long long)b[off[1]]);
    }
}

template <typename T>
static cudaError_t pl__bin_f_launch(cudaStream_t s, int op, bool to_bool, const void *a,
                                    const void *b, void *y, const pl__cu_bcast *bc, int64_t n,
                                    int ac, float al, float be) {
    unsigned g = grid_for(n, 256, 4);
    if (to_bool)
        pl__k_binary_f<T, uint8_t><<<g, 256, 0, s>>>(op, (const T *)a, (const T *)b, (uint8_t *)y,
                                                     *bc, n, 0, 0.f, 0.f);
    else
        pl__k_binary_f<T, T><<<g, 256, 0, s>>>(op, (const T *)a, (const T *)b, (T *)y, *bc, n, ac,
                                               al, be);
    return cudaGetLastError();
}

template <typename T>
static cudaError_t pl__bin_i_launch(cudaStream_t s, int op, bool to_bool, const void *a,
                                    const void *b, void *y, const pl__cu_bcast *bc, int64_t n) {
    unsigned g = grid_for(n, 256, 4);
    if (to_bool)
        pl__k_binary_i<T, uint8_t><<<g, 256, 0, s>>>(op, (const T *)a, (const T *)b, (uint8_t *)y,
                                                     *bc, n);
    else
        pl__k_binary_i<T, T><<<g, 256, 0, s>>>(op, (const T *)a, (const T *)b, (T *)y, *bc, n);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_binary(cudaStream_t s, int op, pl_dtype t, pl_dtype yt,
                                     const void *a, const void *b, void *y,
                                     const pl__cu_bcast *bc, int64_t n, int ac, float al,
                                     float be) {
    bool to_bool = yt == PL_BOOL;
    if (n <= 0)
        return cudaSuccess;
    switch (t) {
    case PL_FLOAT32: return pl__bin_f_launch<float>(s, op, to_bool, a, b, y, bc, n, ac, al, be);
    case PL_FLOAT16: return pl__bin_f_launch<__half>(s, op, to_bool, a, b, y, bc, n, ac, al, be);
    case PL_BFLOAT16:
        return pl__bin_f_launch<__nv_bfloat16>(s, op, to_bool, a, b, y, bc, n, ac, al, be);
    case PL_FLOAT64: return pl__bin_f_launch<double>(s, op, to_bool, a, b, y, bc, n, 0, 0.f, 0.f);
    case PL_INT64: return pl__bin_i_launch<long long>(s, op, to_bool, a, b, y, bc, n);
    case PL_INT32: return pl__bin_i_launch<int32_t>(s, op, to_bool, a, b, y, bc, n);
    case PL_INT8: return pl__bin_i_launch<int8_t>(s, op, to_bool, a, b, y, bc, n);
    case PL_UINT8: return pl__bin_i_launch<uint8_t>(s, op, to_bool, a, b, y, bc, n);
    case PL_BOOL: return pl__bin_i_launch<uint8_t>(s, op, true, a, b, y, bc, n);
    default: return cudaErrorInvalidValue;
    }
}

template <typename T>
__global__ void pl__k_scale(T *y, int64_t n, float scale) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        st(y, i, (float)y[i] * scale);
}

template <typename T>
static cudaError_t pl__scale_launch(cudaStream_t s, void *y, int64_t n, float scale) {
    if (n > 0)
        pl__k_scale<T><<<grid_for(n, 256, 4), 256, 0, s>>>((T *)y, n, scale);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_scale(cudaStream_t s, pl_dtype t, void *y, int64_t n, float scale) {
    return PL__CU_FLOAT_DISPATCH(t, pl__scale_launch, s, y, n, scale);
}

/* ---- Where ---------------------------------------------------------------------------------- */

template <typename E>
__global__ void pl__k_where(const uint8_t *__restrict__ c, const E *__restrict__ a,
                            const E *__restrict__ b, E *__restrict__ y, pl__cu_bcast bc,
                            int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[3];
        pl__bc_offsets<3>(bc, i, off);
        y[i] = c[off[0]] ? a[off[1]] : b[off[2]];
    }
}

template <typename E>
static cudaError_t pl__where_launch(cudaStream_t s, const void *c, const void *a, const void *b,
                                    void *y, const pl__cu_bcast *bc, int64_t n) {
    pl__k_where<E><<<grid_for(n, 256, 4), 256, 0, s>>>((const uint8_t *)c, (const E *)a,
                                                       (const E *)b, (E *)y, *bc, n);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_where(cudaStream_t s, size_t es, const void *cond, const void *a,
                                    const void *b, void *y, const pl__cu_bcast *bc, int64_t n) {
    if (n <= 0)
        return cudaSuccess;
    switch (es) {
    case 1: return pl__where_launch<uint8_t>(s, cond, a, b, y, bc, n);
    case 2: return pl__where_launch<uint16_t>(s, cond, a, b, y, bc, n);
    case 4: return pl__where_launch<uint32_t>(s, cond, a, b, y, bc, n);
    case 8: return pl__where_launch<unsigned long long>(s, cond, a, b, y, bc, n);
    default: return cudaErrorInvalidValue;
    }
}

/* ---- Cast ----------------------------------------------------------------------------------- */

__device__ __forceinline__ bool pl__is_float(int t) {
    return t == PL_FLOAT32 || t == PL_FLOAT16 || t == PL_FLOAT64 || t == PL_BFLOAT16;
}

__device__ __forceinline__ double pl__load_f(const void *p, int t, int64_t i) {
    switch (t) {
    case PL_FLOAT32: return ((const float *)p)[i];
    case PL_FLOAT16: return __half2float(((const __half *)p)[i]);
    case PL_FLOAT64: return ((const double *)p)[i];
    case PL_BFLOAT16: return __uint_as_float((unsigned)((const uint16_t *)p)[i] << 16);
    default: return 0;
    }
}

__device__ __forceinline__ long long pl__load_i(const void *p, int t, int64_t i) {
    switch (t) {
    case PL_INT64: return ((const long long *)p)[i];
    case PL_INT32: return ((const int32_t *)p)[i];
    case PL_INT8: return ((const int8_t *)p)[i];
    case PL_UINT8: return ((const uint8_t *)p)[i];
    case PL_BOOL: return ((const uint8_t *)p)[i] != 0;
    default: return 0;
    }
}

__device__ __forceinline__ uint16_t pl__to_bf16(float f) {
    unsigned u = __float_as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

__device__ __forceinline__ void pl__store_i(void *p, int t, int64_t i, long long v) {
    switch (t) {
    case PL_FLOAT32: ((float *)p)[i] = (float)v; break;
    case PL_FLOAT16: ((__half *)p)[i] = __float2half_rn((float)v); break;
    case PL_FLOAT64: ((double *)p)[i] = (double)v; break;
    case PL_BFLOAT16: ((uint16_t *)p)[i] = pl__to_bf16((float)v); break;
    case PL_INT64: ((long long *)p)[i] = v; break;
    case PL_INT32: ((int32_t *)p)[i] = (int32_t)(uint32_t)(unsigned long long)v; break;
    case PL_INT8: ((int8_t *)p)[i] = (int8_t)(uint8_t)(unsigned long long)v; break;
    case PL_UINT8: ((uint8_t *)p)[i] = (uint8_t)(unsigned long long)v; break;
    case PL_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: break;
    }
}

__device__ __forceinline__ long long pl__f2i(double v, int t) {
    double lo, hi;
    if (v != v)
        return 0;
    switch (t) {
    case PL_BOOL: return v != 0;
    case PL_INT8: lo = -128, hi = 127; break;
    case PL_UINT8: lo = 0, hi = 255; break;
    case PL_INT32: lo = -2147483648.0, hi = 2147483647.0; break;
    default:
        if (v >= 9223372036854775808.0)
            return LLONG_MAX;
        if (v < -9223372036854775808.0)
            return LLONG_MIN;
        return (long long)v;
    }
    return v >= hi ? (long long)hi : v <= lo ? (long long)lo : (long long)v;
}

__device__ __forceinline__ void pl__store_f(void *p, int t, int64_t i, double v) {
    switch (t) {
    case PL_FLOAT32: ((float *)p)[i] = (float)v; break;
    case PL_FLOAT16: ((__half *)p)[i] = __float2half_rn((float)v); break;
    case PL_FLOAT64: ((double *)p)[i] = v; break;
    case PL_BFLOAT16: ((uint16_t *)p)[i] = pl__to_bf16((float)v); break;
    case PL_BOOL: ((uint8_t *)p)[i] = v != 0; break;
    default: pl__store_i(p, t, i, pl__f2i(v, t)); break;
    }
}

__global__ void pl__k_cast(const void *x, int xt, void *y, int yt, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        if (pl__is_float(xt))
            pl__store_f(y, yt, i, pl__load_f(x, xt, i));
        else
            pl__store_i(y, yt, i, pl__load_i(x, xt, i));
    }
}

/* The two casts an fp16 engine runs at its inputs and outputs, eight elements a thread. */
__global__ void pl__k_f32_to_f16(const float4 *__restrict__ x, uint4 *__restrict__ y, int64_t n8) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n8;
         i += (int64_t)gridDim.x * blockDim.x) {
        float4 a = x[2 * i], b = x[2 * i + 1];
        __half2 h0 = __floats2half2_rn(a.x, a.y), h1 = __floats2half2_rn(a.z, a.w);
        __half2 h2 = __floats2half2_rn(b.x, b.y), h3 = __floats2half2_rn(b.z, b.w);
        uint4 o;
        o.x = *reinterpret_cast<const unsigned *>(&h0);
        o.y = *reinterpret_cast<const unsigned *>(&h1);
        o.z = *reinterpret_cast<const unsigned *>(&h2);
        o.w = *reinterpret_cast<const unsigned *>(&h3);
        y[i] = o;
    }
}

__global__ void pl__k_f16_to_f32(const uint4 *__restrict__ x, float4 *__restrict__ y, int64_t n8) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n8;
         i += (int64_t)gridDim.x * blockDim.x) {
        uint4 v = x[i];
        float2 a = __half22float2(*reinterpret_cast<const __half2 *>(&v.x));
        float2 b = __half22float2(*reinterpret_cast<const __half2 *>(&v.y));
        float2 c = __half22float2(*reinterpret_cast<const __half2 *>(&v.z));
        float2 d = __half22float2(*reinterpret_cast<const __half2 *>(&v.w));
        y[2 * i] = make_float4(a.x, a.y, b.x, b.y);
        y[2 * i + 1] = make_float4(c.x, c.y, d.x, d.y);
    }
}

extern "C" cudaError_t pl__cu_cast(cudaStream_t s, const void *x, pl_dtype xt, void *y,
                                   pl_dtype yt, int64_t n) {
    int64_t done = 0;
    bool aligned = ((uintptr_t)x % 16 == 0) && ((uintptr_t)y % 16 == 0);
    if (n <= 0)
        return cudaSuccess;
    if (xt == yt)
        return x == y ? cudaSuccess
                      : cudaMemcpyAsync(y, x, (size_t)n * (xt == PL_FLOAT64 || xt == PL_INT64 ? 8
                                                           : xt == PL_FLOAT32 || xt == PL_INT32 ? 4
                                                           : xt == PL_FLOAT16 || xt == PL_BFLOAT16 ? 2
                                                                                                    : 1),
                                        cudaMemcpyDeviceToDevice, s);
    if (aligned && n >= 8 && xt == PL_FLOAT32 && yt == PL_FLOAT16) {
        done = n / 8 * 8;
        pl__k_f32_to_f16<<<grid_for(n / 8, 256), 256, 0, s>>>((const float4 *)x, (uint4 *)y, n / 8);
    } else if (aligned && n >= 8 && xt == PL_FLOAT16 && yt == PL_FLOAT32) {
        done = n / 8 * 8;
        pl__k_f16_to_f32<<<grid_for(n / 8, 256), 256, 0, s>>>((const uint4 *)x, (float4 *)y, n / 8);
    }
    if (done < n) {
        size_t xs = xt == PL_FLOAT64 || xt == PL_INT64 ? 8 : xt == PL_FLOAT32 || xt == PL_INT32 ? 4
                    : xt == PL_FLOAT16 || xt == PL_BFLOAT16 ? 2 : 1;
        size_t ys = yt == PL_FLOAT64 || yt == PL_INT64 ? 8 : yt == PL_FLOAT32 || yt == PL_INT32 ? 4
                    : yt == PL_FLOAT16 || yt == PL_BFLOAT16 ? 2 : 1;
        pl__k_cast<<<grid_for(n - done, 256, 4), 256, 0, s>>>((const char *)x + done * xs, (int)xt,
                                                              (char *)y + done * ys, (int)yt,
                                                              n - done);
    }
    return cudaGetLastError();
}

/* ---- Pow with mixed or integer types -------------------------------------------------------- */

/* x^z in float64. z == 2 is x * x, which is what the CPU computes for a scalar exponent of 2
 * (and what a correctly rounded pow gives for any). For an integer result type, a result within
 * a few ulps of an integer is taken as that integer: glibc's pow (the CPU's) is exact on exact
 * integer powers, CUDA's may miss by an ulp, which truncation would turn into an off-by-one. */
__device__ __forceinline__ double pl__pow_d(double x, double z, bool int_out) {
    double r, ri;
    if (z == 2.)
        return x * x;
    r = pow(x, z);
    if (!int_out)
        return r;
    ri = rint(r);
    return fabs(r - ri) <= fabs(r) * 8.9e-16 ? ri : r;
}

__global__ void pl__k_pow(const void *__restrict__ a, int at, const void *__restrict__ b, int bt,
                          void *__restrict__ y, pl__cu_bcast bc, int64_t n) {
    bool fcomp = at == PL_FLOAT32 || at == PL_FLOAT16 || at == PL_BFLOAT16;
    bool int_out = !pl__is_float(at), zf = pl__is_float(bt);
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[2];
        pl__bc_offsets<2>(bc, i, off);
        if (fcomp) { /* the CPU converts the exponent to float32 first */
            float x = (float)pl__load_f(a, at, off[0]);
            float z = zf ? (float)pl__load_f(b, bt, off[1]) : (float)pl__load_i(b, bt, off[1]);
            pl__store_f(y, at, i, (double)(z == 2.f ? x * x : powf(x, z)));
        } else {
            double x = int_out ? (double)pl__load_i(a, at, off[0]) : pl__load_f(a, at, off[0]);
            double z = zf ? pl__load_f(b, bt, off[1]) : (double)pl__load_i(b, bt, off[1]);
            pl__store_f(y, at, i, pl__pow_d(x, z, int_out));
        }
    }
}

extern "C" cudaError_t pl__cu_pow(cudaStream_t s, pl_dtype at, pl_dtype bt, const void *a,
                                  const void *b, void *y, const pl__cu_bcast *bc, int64_t n) {
    if (n <= 0)
        return cudaSuccess;
    if (at == PL_BOOL || bt == PL_BOOL)
        return cudaErrorInvalidValue;
    pl__k_pow<<<grid_for(n, 256, 4), 256, 0, s>>>(a, (int)at, b, (int)bt, y, *bc, n);
    return cudaGetLastError();
}

/* ---- Mean's division for bfloat16 / float64, fills ------------------------------------------ */

__global__ void pl__k_div_scalar(void *y, int t, int64_t n, double d) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        if (t == PL_FLOAT64)
            ((double *)y)[i] /= d;
        else /* float32-computed storage: a float division, as the CPU */
            pl__store_f(y, t, i, (double)((float)pl__load_f(y, t, i) / (float)d));
    }
}

extern "C" cudaError_t pl__cu_div_scalar(cudaStream_t s, pl_dtype t, void *y, int64_t n,
                                         double d) {
    if (t != PL_FLOAT64 && t != PL_BFLOAT16 && t != PL_FLOAT32 && t != PL_FLOAT16)
        return cudaErrorInvalidValue;
    if (n <= 0)
        return cudaSuccess;
    pl__k_div_scalar<<<grid_for(n, 256, 4), 256, 0, s>>>(y, (int)t, n, d);
    return cudaGetLastError();
}

__global__ void pl__k_fill(void *y, int t, int64_t n, double v) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        pl__store_f(y, t, i, v);
}

extern "C" cudaError_t pl__cu_fill(cudaStream_t s, pl_dtype t, void *y, int64_t n, double v) {
    if (n <= 0)
        return cudaSuccess;
    pl__k_fill<<<grid_for(n, 256, 4), 256, 0, s>>>(y, (int)t, n, v);
    return cudaGetLastError();
}

/* ---- Reduce* in float64 ----------------------------------------------------------------------
 * The CPU's double formulas (cpu-reduce.c): sums in double, max/min that let NaN win, LogSumExp
 * as max + log(sum(exp(x - max))) unless the max is not finite (then the max). Rows (inner == 1)
 * of some length get a block each, reduced through shared memory; otherwise one thread per
 * output walks its column in order. */

__device__ __forceinline__ double pl__rd_init(int op) {
    switch (op) {
    case PL__RED_MAX: case PL__RED_LSE: return -INFINITY;
    case PL__RED_MIN: return INFINITY;
    case PL__RED_PROD: return 1.;
    default: return 0.;
    }
}

__device__ __forceinline__ double pl__rd_map(int op, double v) {
    switch (op) {
    case PL__RED_L1: return fabs(v);
    case PL__RED_L2: case PL__RED_SUMSQ: return v * v;
    default: return v;
    }
}

/* combines an accumulator a with v; op LSE is the max pass */
__device__ __forceinline__ double pl__rd_comb(int op, double a, double v) {
    switch (op) {
    case PL__RED_MAX: case PL__RED_LSE: return (v > a || v != v) ? v : a;
    case PL__RED_MIN: return (v < a || v != v) ? v : a;
    case PL__RED_PROD: return a * v;
    default: return a + v;
    }
}

__device__ __forceinline__ double pl__rd_final(int op, double acc, double mx, int64_t r) {
    switch (op) {
    case PL__RED_MEAN: return acc / (double)r;
    case PL__RED_L2: return sqrt(acc);
    case PL__RED_LOGSUM: return log(acc);
    case PL__RED_LSE: return mx - mx == 0. ? log(acc) + mx : mx;
    default: return acc;
    }
}

#define PL__RD_THREADS 256

/* Block-wide combine of every thread's v (all threads of the block call it); the result in
 * every thread. */
__device__ double pl__rd_block(int op, double v, double *sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int w = PL__RD_THREADS / 2; w > 0; w >>= 1) {
        if ((int)threadIdx.x < w)
            sh[threadIdx.x] = pl__rd_comb(op, sh[threadIdx.x], sh[threadIdx.x + w]);
        __syncthreads();
    }
    v = sh[0];
    __syncthreads(); /* sh is reused by the next call */
    return v;
}

__global__ void __launch_bounds__(PL__RD_THREADS)
pl__k_reduce_rows_f64(int op, const double *__restrict__ x, double *__restrict__ y, int64_t rows,
                      int64_t r) {
    __shared__ double sh[PL__RD_THREADS];
    int cop = op == PL__RED_LSE ? PL__RED_SUM : op;
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const double *xr = x + row * r;
        double mx = 0., acc = pl__rd_init(cop);
        if (op == PL__RED_LSE) {
            double m = -INFINITY;
            for (int64_t j = threadIdx.x; j < r; j += PL__RD_THREADS)
                m = pl__rd_comb(PL__RED_MAX, m, xr[j]);
            mx = pl__rd_block(PL__RED_MAX, m, sh);
            for (int64_t j = threadIdx.x; j < r; j += PL__RD_THREADS)
                acc += exp(xr[j] - mx);
        } else {
            for (int64_t j = threadIdx.x; j < r; j += PL__RD_THREADS)
                acc = pl__rd_comb(cop, acc, pl__rd_map(op, xr[j]));
        }
        acc = pl__rd_block(cop, acc, sh);
        if (threadIdx.x == 0)
            y[row] = pl__rd_final(op, acc, mx, r);
    }
}

__global__ void pl__k_reduce_cols_f64(int op, const double *__restrict__ x, double *__restrict__ y,
                                      int64_t outer, int64_t r, int64_t inner) {
    for (int64_t u = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; u < outer * inner;
         u += (int64_t)gridDim.x * blockDim.x) {
        int64_t o = u / inner, j = u - o * inner;
        const double *xc = x + o * r * inner + j;
        double mx = 0., acc;
        if (op == PL__RED_LSE) {
            mx = -INFINITY;
            for (int64_t k = 0; k < r; k++)
                mx = pl__rd_comb(PL__RED_MAX, mx, xc[k * inner]);
            acc = 0.;
            for (int64_t k = 0; k < r; k++)
                acc += exp(xc[k * inner] - mx);
        } else {
            acc = pl__rd_init(op);
            for (int64_t k = 0; k < r; k++)
                acc = pl__rd_comb(op, acc, pl__rd_map(op, xc[k * inner]));
        }
        y[u] = pl__rd_final(op, acc, mx, r);
    }
}

extern "C" cudaError_t pl__cu_reduce_f64(cudaStream_t s, int op, const void *x, void *y,
                                         int64_t outer, int64_t r, int64_t inner) {
    if (op < PL__RED_SUM || op > PL__RED_LSE || r < 1)
        return cudaErrorInvalidValue;
    if (outer * inner <= 0)
        return cudaSuccess;
    if (inner == 1 && r >= 128)
        pl__k_reduce_rows_f64<<<grid_for(outer, 1), PL__RD_THREADS, 0, s>>>(
            op, (const double *)x, (double *)y, outer, r);
    else
        pl__k_reduce_cols_f64<<<grid_for(outer * inner, 256), 256, 0, s>>>(
            op, (const double *)x, (double *)y, outer, r, inner);
    return cudaGetLastError();
}

/* ---- Conv / Gemm epilogue ------------------------------------------------------------------- */

template <typename T>
__global__ void pl__k_bias_act(T *y, int64_t n, const void *__restrict__ bias, bool bhalf,
                               int64_t c, int64_t sp, const T *__restrict__ res, int ac, float al,
                               float be) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        float v = (float)y[i];
        if (bias)
            v += ldp(bias, bhalf, (i / sp) % c);
        if (res)
            v += ld(res, i);
        st(y, i, act(v, ac, al, be));
    }
}

template <typename T>
static cudaError_t pl__bias_act_launch(cudaStream_t s, void *y, int64_t n, const void *bias,
                                       int bt, int64_t c, int64_t sp, const void *res, int ac,
                                       float al, float be) {
    if (n <= 0)
        return cudaSuccess;
    pl__k_bias_act<T><<<grid_for(n, 256, 4), 256, 0, s>>>((T *)y, n, bias, bt == PL_FLOAT16,
                                                          c > 0 ? c : 1, sp > 0 ? sp : 1,
                                                          (const T *)res, ac, al, be);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_bias_act(cudaStream_t s, pl_dtype t, void *y, int64_t n,
                                       const void *bias, pl_dtype bt, int64_t c, int64_t sp,
                                       const void *res, int ac, float al, float be) {
    return PL__CU_FLOAT_DISPATCH(t, pl__bias_act_launch, s, y, n, bias, (int)bt, c, sp, res, ac, al,
                                 be);
}

template <typename T>
__global__ void pl__k_gemm_c(T *y, int64_t m, int64_t n, const void *__restrict__ c, bool chalf,
                             int64_t cm, int64_t cn, float beta) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < m * n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i / n, col = i - r * n;
        st(y, i, beta * ldp(c, chalf, (cm == 1 ? 0 : r) * cn + (cn == 1 ? 0 : col)));
    }
}

template <typename T>
static cudaError_t pl__gemm_c_launch(cudaStream_t s, void *y, int64_t m, int64_t n, const void *c,
                                     int ct, int64_t cm, int64_t cn, float beta) {
    if (m * n <= 0)
        return cudaSuccess;
    pl__k_gemm_c<T><<<grid_for(m * n, 256, 4), 256, 0, s>>>((T *)y, m, n, c, ct == PL_FLOAT16, cm,
                                                            cn, beta);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_gemm_c(cudaStream_t s, pl_dtype t, void *y, int64_t m, int64_t n,
                                     const void *c, pl_dtype ct, int64_t cm, int64_t cn,
                                     float beta) {
    return PL__CU_FLOAT_DISPATCH(t, pl__gemm_c_launch, s, y, m, n, c, (int)ct, cm, cn, beta);
}

/* ---- probe ---------------------------------------------------------------------------------- */

__global__ void pl__k_probe(void) {}

extern "C" cudaError_t pl__cu_probe(void) {
    cudaFuncAttributes fa;
    return cudaFuncGetAttributes(&fa, (const void *)pl__k_probe);
}
