/*
 * cuda-ew.cu - elementwise device code: unary ops, broadcasting binary ops and Where, Cast, and
 * the Conv/Gemm epilogue. Memory-bound, so each kernel is a grid-stride loop that reads every
 * operand once; the op code is a kernel argument (uniform across the grid, so the switch costs a
 * predictable branch) rather than a template parameter, which keeps the instantiations to the
 * storage types and the build short. Broadcast offsets are computed from collapsed dims (the host
 * merges dims so that most broadcasts have rank 1 to 3).
 */
#include <limits.h>
#include <math.h>

#include "backends/cuda/cuda-common.cuh"
#include "backends/cuda/cuda-ew.cuh"

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

template <typename T>
__global__ void pl__k_unary(int op, const T *__restrict__ x, T *__restrict__ y, int64_t n, float al,
                            float be, const void *lo, const void *hi, int bt) {
    if (op == PL__UN_CLIP) {
        al = pl__scalar(lo, bt, al);
        be = pl__scalar(hi, bt, be);
        if (al > be) /* ONNX: when min > max every value becomes max */
            al = be;
    }
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        st(y, i, pl__un_op(op, ld(x, i), al, be));
}

template <typename T>
static cudaError_t pl__unary_launch(cudaStream_t s, int op, const void *x, void *y, int64_t n,
                                    float al, float be, const void *lo, const void *hi, int bt) {
    if (n <= 0)
        return cudaSuccess;
    pl__k_unary<T><<<grid_for(n, 256, 4), 256, 0, s>>>(op, (const T *)x, (T *)y, n, al, be, lo, hi,
                                                       bt);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_unary(cudaStream_t s, int op, pl_dtype t, const void *x, void *y,
                                    int64_t n, float alpha, float beta, const void *lo,
                                    const void *hi, pl_dtype bt) {
    return PL__CU_FLOAT_DISPATCH(t, pl__unary_launch, s, op, x, y, n, alpha, beta, lo, hi, (int)bt);
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

/* Float storage: float math; the result is stored as T (arith) or bool (comparisons). */
template <typename T, typename Y>
__global__ void pl__k_binary_f(int op, const T *__restrict__ a, const T *__restrict__ b,
                               Y *__restrict__ y, pl__cu_bcast bc, int64_t n, int ac, float al,
                               float be) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[2];
        pl__bc_offsets<2>(bc, i, off);
        float v = pl__bin_f(op, ld(a, off[0]), ld(b, off[1]));
        if (sizeof(Y) == 1)
            ((uint8_t *)y)[i] = v != 0.f;
        else
            st((T *)y, i, act(v, ac, al, be));
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
    case PL_INT64: return pl__bin_i_launch<long long>(s, op, to_bool, a, b, y, bc, n);
    case PL_INT32: return pl__bin_i_launch<int32_t>(s, op, to_bool, a, b, y, bc, n);
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
