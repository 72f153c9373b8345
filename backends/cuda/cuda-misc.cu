/*
 * cuda-misc.cu - device code of the small ops of cuda-misc.cuh. Each kernel follows its CPU
 * kernel's arithmetic step by step (the same intermediate precision and rounding points: Mod and
 * Range in double without contraction, integer math in int64) so that results match the CPU
 * bit for bit; LpNormalization differs only in its summation order. Indexing is 64-bit and loops
 * are grid-stride.
 */
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math.h>

#include "backends/cuda/cuda-common.cuh"
#include "backends/cuda/cuda-misc.cuh"

namespace {

using pl_cuda::grid_for;

#define PL__GRID_LOOP(i, n)                                                                        \
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);                      \
         i += (int64_t)gridDim.x * blockDim.x)

/* Storage <-> double, rounding as the CPU does: float16 and bfloat16 go through float. */
__device__ __forceinline__ double tod(float v) { return (double)v; }
__device__ __forceinline__ double tod(double v) { return v; }
__device__ __forceinline__ double tod(__half v) { return (double)__half2float(v); }
__device__ __forceinline__ double tod(__nv_bfloat16 v) { return (double)__bfloat162float(v); }
__device__ __forceinline__ void fromd(float *p, double v) { *p = (float)v; }
__device__ __forceinline__ void fromd(double *p, double v) { *p = v; }
__device__ __forceinline__ void fromd(__half *p, double v) { *p = __float2half_rn((float)v); }
__device__ __forceinline__ void fromd(__nv_bfloat16 *p, double v) {
    *p = __float2bfloat16_rn((float)v);
}

/* ---- IsNaN / IsInf / Not ---- */

template <typename T>
__global__ void isk(int op, const T *__restrict__ x, uint8_t *__restrict__ y, int64_t n,
                    bool pos, bool neg) {
    PL__GRID_LOOP(i, n) {
        double v = tod(x[i]);
        if (op == PL__MISC_ISNAN)
            y[i] = v != v;
        else
            y[i] = isinf(v) && ((v > 0 && pos) || (v < 0 && neg));
    }
}

__global__ void notk(const uint8_t *__restrict__ x, uint8_t *__restrict__ y, int64_t n) {
    PL__GRID_LOOP(i, n) y[i] = x[i] == 0;
}

template <typename T>
cudaError_t isl(cudaStream_t s, int op, const void *x, void *y, int64_t n, int pos, int neg) {
    isk<T><<<grid_for(n, 256), 256, 0, s>>>(op, (const T *)x, (uint8_t *)y, n, pos != 0,
                                            neg != 0);
    return cudaGetLastError();
}

/* ---- Mod ---- */

/* Offsets of output element i in the two operands (collapsed geometry of
 * pl__broadcast_geometry). */
__device__ __forceinline__ void bc2(const pl__cu_bcast &bc, int64_t i, int64_t *oa, int64_t *ob) {
    int64_t a = 0, b = 0;
    for (int d = bc.rank - 1; d >= 0; d--) {
        int64_t q = i / bc.dims[d], r = i - q * bc.dims[d];
        a += r * bc.st[0][d];
        b += r * bc.st[1][d];
        i = q;
    }
    *oa = a;
    *ob = b;
}

template <typename T>
__global__ void modf_k(const T *__restrict__ a, const T *__restrict__ b, T *__restrict__ y,
                       pl__cu_bcast bc, int64_t n, bool c_fmod) {
    PL__GRID_LOOP(i, n) {
        int64_t oa, ob;
        bc2(bc, i, &oa, &ob);
        double x = tod(a[oa]), z = tod(b[ob]), r = fmod(x, z);
        if (!c_fmod && r != 0 && ((r < 0) != (z < 0)))
            r = __dadd_rn(r, z);
        fromd(y + i, r);
    }
}

template <typename T>
__global__ void modi_k(const T *__restrict__ a, const T *__restrict__ b, T *__restrict__ y,
                       pl__cu_bcast bc, int64_t n, bool c_fmod) {
    PL__GRID_LOOP(i, n) {
        int64_t oa, ob, r = 0;
        bc2(bc, i, &oa, &ob);
        int64_t x = (int64_t)a[oa], z = (int64_t)b[ob];
        /* 0 and -1 give 0 (no trap on division by zero or INT64_MIN % -1), as on the CPU */
        if (z != 0 && z != -1) {
            r = x % z;
            if (!c_fmod && r != 0 && ((r < 0) != (z < 0)))
                r += z;
        }
        y[i] = (T)(uint64_t)r; /* fits: |r| < |z| */
    }
}

template <typename T>
cudaError_t modfl(cudaStream_t s, const void *a, const void *b, void *y, const pl__cu_bcast *bc,
                  int64_t n, int c_fmod) {
    modf_k<T><<<grid_for(n, 256), 256, 0, s>>>((const T *)a, (const T *)b, (T *)y, *bc, n,
                                               c_fmod != 0);
    return cudaGetLastError();
}

template <typename T>
cudaError_t modil(cudaStream_t s, const void *a, const void *b, void *y, const pl__cu_bcast *bc,
                  int64_t n, int c_fmod) {
    modi_k<T><<<grid_for(n, 256), 256, 0, s>>>((const T *)a, (const T *)b, (T *)y, *bc, n,
                                               c_fmod != 0);
    return cudaGetLastError();
}

/* ---- ConstantOfShape ---- */

template <typename U>
__global__ void fillk(U *__restrict__ y, U v, int64_t n) {
    PL__GRID_LOOP(i, n) y[i] = v;
}

template <typename U>
cudaError_t filll(cudaStream_t s, uint64_t bits, void *y, int64_t n) {
    fillk<U><<<grid_for(n, 256), 256, 0, s>>>((U *)y, (U)bits, n);
    return cudaGetLastError();
}

/* ---- Range ---- */

template <typename T>
__global__ void rangei_k(T *__restrict__ y, uint64_t b, uint64_t d, int64_t n) {
    PL__GRID_LOOP(i, n) y[i] = (T)(b + (uint64_t)i * d);
}

template <typename T>
__global__ void rangef_k(T *__restrict__ y, double b, double d, int64_t n) {
    /* explicit roundings: b + i * d must not become one fused multiply-add */
    PL__GRID_LOOP(i, n) fromd(y + i, __dadd_rn(b, __dmul_rn((double)i, d)));
}

template <typename T>
cudaError_t rangeil(cudaStream_t s, int64_t b, int64_t d, void *y, int64_t n) {
    rangei_k<T><<<grid_for(n, 256), 256, 0, s>>>((T *)y, (uint64_t)b, (uint64_t)d, n);
    return cudaGetLastError();
}

template <typename T>
cudaError_t rangefl(cudaStream_t s, double b, double d, void *y, int64_t n) {
    rangef_k<T><<<grid_for(n, 256), 256, 0, s>>>((T *)y, b, d, n);
    return cudaGetLastError();
}

/* ---- Trilu ---- */

template <typename U>
__global__ void trik(const U *x, U *y, int64_t n, int64_t rows, int64_t cols, const void *kp,
                     bool k64, bool upper) {
    /* no __restrict__: y may be x (each element is read, then written, by one thread) */
    int64_t k = 0;
    if (kp)
        k = k64 ? *(const int64_t *)kp : (int64_t)*(const int32_t *)kp;
    PL__GRID_LOOP(p, n) {
        int64_t q = p / cols, j = p - q * cols, i = q % rows;
        /* j - i is small, so the comparison with any k cannot overflow (i + k could) */
        int64_t diag = j - i;
        bool keep = upper ? diag >= k : diag <= k;
        y[p] = keep ? x[p] : (U)0;
    }
}

template <typename U>
cudaError_t tril(cudaStream_t s, const void *x, void *y, int64_t n, int64_t rows, int64_t cols,
                 const void *kp, bool k64, int upper) {
    trik<U><<<grid_for(n, 256), 256, 0, s>>>((const U *)x, (U *)y, n, rows, cols, kp, k64,
                                             upper != 0);
    return cudaGetLastError();
}

/* ---- LpNormalization ---- */

/* Accumulation: double for float32 (as the CPU), float for float16. */
template <typename T> struct lpacc { typedef double type; };
template <> struct lpacc<__half> { typedef float type; };
__device__ __forceinline__ double lpload(const float *p, int64_t i, double) { return p[i]; }
__device__ __forceinline__ float lpload(const __half *p, int64_t i, float) {
    return __half2float(p[i]);
}
__device__ __forceinline__ void lpstore(float *p, int64_t i, double v) { p[i] = (float)v; }
__device__ __forceinline__ void lpstore(__half *p, int64_t i, float v) {
    p[i] = __float2half_rn(v);
}

template <typename A> __device__ __forceinline__ A lpterm(A v, int p) {
    return p == 1 ? (v < 0 ? -v : v) : v * v;
}

template <typename A> __device__ __forceinline__ A lpfinish(A s, int p) {
    return p == 1 ? s : sqrt(s);
}

template <typename A> __device__ __forceinline__ A warp_sum(A v) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* inner == 1, short rows: one warp per row. */
template <typename T>
__global__ void lp_warp(const T *__restrict__ x, T *__restrict__ y, int64_t rows, int64_t n,
                        int p) {
    typedef typename lpacc<T>::type A;
    int lane = threadIdx.x & 31, wpb = blockDim.x >> 5;
    for (int64_t r = (int64_t)blockIdx.x * wpb + (threadIdx.x >> 5); r < rows;
         r += (int64_t)gridDim.x * wpb) {
        const T *xr = x + r * n;
        T *yr = y + r * n;
        A s = 0;
        for (int64_t k = lane; k < n; k += 32)
            s += lpterm(lpload(xr, k, A()), p);
        s = lpfinish(warp_sum(s), p);
        for (int64_t k = lane; k < n; k += 32)
            lpstore(yr, k, s > 0 ? lpload(xr, k, A()) / s : A(0));
    }
}

/* inner == 1, long rows: one block (LP_BLOCK threads) per row. */
#define LP_BLOCK 256
template <typename T>
__global__ void lp_block(const T *__restrict__ x, T *__restrict__ y, int64_t rows, int64_t n,
                         int p) {
    typedef typename lpacc<T>::type A;
    __shared__ A part[LP_BLOCK / 32];
    __shared__ A total;
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *xr = x + r * n;
        T *yr = y + r * n;
        A s = 0;
        for (int64_t k = threadIdx.x; k < n; k += LP_BLOCK)
            s += lpterm(lpload(xr, k, A()), p);
        s = warp_sum(s);
        if (lane == 0)
            part[w] = s;
        __syncthreads();
        if (w == 0) {
            s = lane < LP_BLOCK / 32 ? part[lane] : A(0);
            s = warp_sum(s);
            if (lane == 0)
                total = lpfinish(s, p);
        }
        __syncthreads();
        s = total;
        for (int64_t k = threadIdx.x; k < n; k += LP_BLOCK)
            lpstore(yr, k, s > 0 ? lpload(xr, k, A()) / s : A(0));
        __syncthreads(); /* part/total are reused by the next row */
    }
}

/* inner > 1: one thread per (outer, inner) column; neighbouring threads read neighbouring
 * addresses at every step along the axis. */
template <typename T>
__global__ void lp_cols(const T *__restrict__ x, T *__restrict__ y, int64_t outer, int64_t n,
                        int64_t inner, int p) {
    typedef typename lpacc<T>::type A;
    PL__GRID_LOOP(u, outer * inner) {
        int64_t base = (u / inner) * n * inner + u % inner;
        A s = 0;
        for (int64_t k = 0; k < n; k++)
            s += lpterm(lpload(x, base + k * inner, A()), p);
        s = lpfinish(s, p);
        for (int64_t k = 0; k < n; k++)
            lpstore(y, base + k * inner, s > 0 ? lpload(x, base + k * inner, A()) / s : A(0));
    }
}

template <typename T>
cudaError_t lpl(cudaStream_t s, const void *x, void *y, int64_t outer, int64_t n, int64_t inner,
                int p) {
    const T *xp = (const T *)x;
    T *yp = (T *)y;
    if (inner > 1) {
        lp_cols<T><<<grid_for(outer * inner, 256), 256, 0, s>>>(xp, yp, outer, n, inner, p);
    } else if (n <= 1024) {
        lp_warp<T><<<grid_for(outer, 256 / 32), 256, 0, s>>>(xp, yp, outer, n, p);
    } else {
        unsigned blocks = (unsigned)(outer < 65535LL * 16 ? outer : 65535LL * 16);
        lp_block<T><<<blocks, LP_BLOCK, 0, s>>>(xp, yp, outer, n, p);
    }
    return cudaGetLastError();
}

} // namespace

extern "C" cudaError_t pl__cu_misc_unary(cudaStream_t s, int op, pl_dtype t, const void *x,
                                         void *y, int64_t n, int pos, int neg) {
    if (n <= 0)
        return cudaSuccess;
    if (op == PL__MISC_NOT) {
        if (t != PL_BOOL)
            return cudaErrorInvalidValue;
        notk<<<grid_for(n, 256), 256, 0, s>>>((const uint8_t *)x, (uint8_t *)y, n);
        return cudaGetLastError();
    }
    switch (t) {
    case PL_FLOAT32: return isl<float>(s, op, x, y, n, pos, neg);
    case PL_FLOAT16: return isl<__half>(s, op, x, y, n, pos, neg);
    case PL_BFLOAT16: return isl<__nv_bfloat16>(s, op, x, y, n, pos, neg);
    case PL_FLOAT64: return isl<double>(s, op, x, y, n, pos, neg);
    default: return cudaErrorInvalidValue;
    }
}

extern "C" cudaError_t pl__cu_misc_mod(cudaStream_t s, pl_dtype t, int c_fmod, const void *a,
                                       const void *b, void *y, const pl__cu_bcast *bc, int64_t n) {
    if (n <= 0)
        return cudaSuccess;
    switch (t) {
    case PL_FLOAT32: return modfl<float>(s, a, b, y, bc, n, c_fmod);
    case PL_FLOAT16: return modfl<__half>(s, a, b, y, bc, n, c_fmod);
    case PL_BFLOAT16: return modfl<__nv_bfloat16>(s, a, b, y, bc, n, c_fmod);
    case PL_FLOAT64: return modfl<double>(s, a, b, y, bc, n, c_fmod);
    case PL_INT8: return modil<int8_t>(s, a, b, y, bc, n, c_fmod);
    case PL_UINT8: return modil<uint8_t>(s, a, b, y, bc, n, c_fmod);
    case PL_INT32: return modil<int32_t>(s, a, b, y, bc, n, c_fmod);
    case PL_INT64: return modil<int64_t>(s, a, b, y, bc, n, c_fmod);
    default: return cudaErrorInvalidValue;
    }
}

extern "C" cudaError_t pl__cu_misc_fill(cudaStream_t s, size_t es, uint64_t bits, void *y,
                                        int64_t n) {
    if (n <= 0)
        return cudaSuccess;
    switch (es) {
    case 1: return filll<uint8_t>(s, bits, y, n);
    case 2: return filll<uint16_t>(s, bits, y, n);
    case 4: return filll<uint32_t>(s, bits, y, n);
    case 8: return filll<uint64_t>(s, bits, y, n);
    default: return cudaErrorInvalidValue;
    }
}

extern "C" cudaError_t pl__cu_misc_range(cudaStream_t s, pl_dtype t, double fstart,
                                         double fdelta, int64_t istart, int64_t idelta, void *y,
                                         int64_t n) {
    if (n <= 0)
        return cudaSuccess;
    switch (t) {
    case PL_INT8: return rangeil<int8_t>(s, istart, idelta, y, n);
    case PL_UINT8: return rangeil<uint8_t>(s, istart, idelta, y, n);
    case PL_INT32: return rangeil<int32_t>(s, istart, idelta, y, n);
    case PL_INT64: return rangeil<int64_t>(s, istart, idelta, y, n);
    case PL_FLOAT32: return rangefl<float>(s, fstart, fdelta, y, n);
    case PL_FLOAT16: return rangefl<__half>(s, fstart, fdelta, y, n);
    case PL_BFLOAT16: return rangefl<__nv_bfloat16>(s, fstart, fdelta, y, n);
    case PL_FLOAT64: return rangefl<double>(s, fstart, fdelta, y, n);
    default: return cudaErrorInvalidValue;
    }
}

extern "C" cudaError_t pl__cu_misc_trilu(cudaStream_t s, size_t es, const void *x, void *y,
                                         int64_t nmat, int64_t rows, int64_t cols,
                                         const void *kp, pl_dtype kt, int upper) {
    int64_t n = nmat * rows * cols;
    bool k64 = kt == PL_INT64;
    if (n <= 0)
        return cudaSuccess;
    if (kp && kt != PL_INT64 && kt != PL_INT32)
        return cudaErrorInvalidValue;
    switch (es) {
    case 1: return tril<uint8_t>(s, x, y, n, rows, cols, kp, k64, upper);
    case 2: return tril<uint16_t>(s, x, y, n, rows, cols, kp, k64, upper);
    case 4: return tril<uint32_t>(s, x, y, n, rows, cols, kp, k64, upper);
    case 8: return tril<uint64_t>(s, x, y, n, rows, cols, kp, k64, upper);
    default: return cudaErrorInvalidValue;
    }
}

extern "C" cudaError_t pl__cu_misc_lpnorm(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                          int64_t outer, int64_t n, int64_t inner, int p) {
    if (outer <= 0 || n <= 0 || inner <= 0)
        return cudaSuccess;
    switch (t) {
    case PL_FLOAT32: return lpl<float>(s, x, y, outer, n, inner, p);
    case PL_FLOAT16: return lpl<__half>(s, x, y, outer, n, inner, p);
    default: return cudaErrorInvalidValue;
    }
}
