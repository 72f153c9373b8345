/*
 * cuda-nn.cu - nn device code: depthwise convolution, pooling, batch and layer normalization,
 * softmax and reductions.
 *
 * Depthwise convolution is a direct loop, one output element per thread: its arithmetic
 * intensity is a few FLOPs per byte, so it is bound by memory and the neighbouring threads' reuse
 * of input rows goes through L1; cuDNN's NCHW depthwise kernels are often slower than this at
 * MobileNet sizes (the builder times both). Row reductions (softmax, layer norm, global pooling,
 * reduce over the innermost axis) give one warp a row when rows are short and one block a row
 * when they are long; reductions over an outer axis give each thread one column, so that a warp
 * reads contiguous memory. float64 Softmax/LogSoftmax has its own kernels of the same shapes that
 * keep everything in double. Also here: the crop copy that cuts ConvTranspose's output out of
 * its full, unpadded result, and Gemm's float64 C term.
 */
#include <float.h>
#include <math.h>

#include "backends/cuda/cuda-common.cuh"
#include "backends/cuda/cuda-nn.cuh"

using namespace pl_cuda;

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Block-wide reduction (blockDim.x a multiple of 32, at most 1024); every thread gets the
 * result. `sh` holds 33 floats. */
__device__ float block_reduce(float v, bool is_max, float *sh) {
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = is_max ? warp_max(v) : warp_sum(v);
    __syncthreads(); /* sh may still be read from a previous call */
    if (lane == 0)
        sh[wid] = v;
    __syncthreads();
    if (wid == 0) {
        float w = lane < nw ? sh[lane] : (is_max ? -INFINITY : 0.f);
        w = is_max ? warp_max(w) : warp_sum(w);
        if (lane == 0)
            sh[32] = w;
    }
    __syncthreads();
    return sh[32];
}

/* ---- depthwise conv ------------------------------------------------------------------------- */

template <typename T>
__global__ void pl__k_dwconv(const T *__restrict__ x, const T *__restrict__ w,
                             const void *__restrict__ bias, bool bhalf, const T *__restrict__ res,
                             T *__restrict__ y, int64_t total, int64_t c, pl__cu_win win, int ac,
                             float al, float be) {
    const int IH = (int)win.in[1], IW = (int)win.in[2], OH = (int)win.out[1], OW = (int)win.out[2];
    const int KH = (int)win.k[1], KW = (int)win.k[2];
    const int SH = (int)win.s[1], SW = (int)win.s[2], DH = (int)win.d[1], DW = (int)win.d[2];
    const int PH = (int)win.pb[1], PW = (int)win.pb[2];
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int ow = (int)(i % OW);
        int64_t t = i / OW;
        int oh = (int)(t % OH);
        int64_t plane = t / OH;
        int ch = (int)(plane % c);
        const T *xp = x + plane * (int64_t)IH * IW;
        const T *wp = w + (int64_t)ch * KH * KW;
        int ih0 = oh * SH - PH, iw0 = ow * SW - PW;
        float acc = bias ? ldp(bias, bhalf, ch) : 0.f;
        for (int kh = 0; kh < KH; kh++) {
            int ih = ih0 + kh * DH;
            if (ih < 0 || ih >= IH)
                continue;
            const T *row = xp + (int64_t)ih * IW;
            for (int kw = 0; kw < KW; kw++) {
                int iw = iw0 + kw * DW;
                if (iw >= 0 && iw < IW)
                    acc += ld(row, iw) * ld(wp, kh * KW + kw);
            }
        }
        if (res)
            acc += ld(res, i);
        st(y, i, act(acc, ac, al, be));
    }
}

template <typename T>
static cudaError_t pl__dwconv_launch(cudaStream_t s, const void *x, const void *w,
                                     const void *bias, int bt, const void *res, void *y,
                                     int64_t n, int64_t c, const pl__cu_win *win, int ac, float al,
                                     float be) {
    int64_t total = n * c * win->out[1] * win->out[2];
    if (total <= 0)
        return cudaSuccess;
    pl__k_dwconv<T><<<grid_for(total, 256), 256, 0, s>>>((const T *)x, (const T *)w, bias,
                                                         bt == PL_FLOAT16, (const T *)res, (T *)y,
                                                         total, c, *win, ac, al, be);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_dwconv(cudaStream_t s, pl_dtype t, const void *x, const void *w,
                                     const void *bias, pl_dtype bt, const void *res, void *y,
                                     int64_t n, int64_t c, const pl__cu_win *win, int act,
                                     float alpha, float beta) {
    return PL__CU_FLOAT_DISPATCH(t, pl__dwconv_launch, s, x, w, bias, (int)bt, res, y, n, c, win,
                                 act, alpha, beta);
}

/* ---- pooling -------------------------------------------------------------------------------- */

/* Taps k in [lo, hi) of output o whose input position o*s - pb + k*d lies in [0, in). */
__device__ __forceinline__ void pl__taps(const pl__cu_win &w, int i, int64_t o, int64_t *lo,
                                         int64_t *hi) {
    int64_t start = o * w.s[i] - w.pb[i], d = w.d[i], l = 0, h = w.k[i];
    if (start < 0)
        l = (-start + d - 1) / d;
    if (start + (h - 1) * d >= w.in[i])
        h = w.in[i] - start <= 0 ? 0 : (w.in[i] - start + d - 1) / d;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

__device__ __forceinline__ int64_t pl__taps_padded(const pl__cu_win &w, int i, int64_t o) {
    int64_t start = o * w.s[i] - w.pb[i], lim = w.in[i] + w.pe[i], n = 0;
    for (int64_t k = 0; k < w.k[i]; k++)
        n += start + k * w.d[i] < lim;
    return n;
}

template <typename T>
__global__ void pl__k_pool(const T *__restrict__ x, T *__restrict__ y, int64_t *__restrict__ ind,
                           int64_t total, pl__cu_win w, int is_max, int include_pad,
                           int col_major) {
    const int64_t isp = w.in[0] * w.in[1] * w.in[2], osp = w.out[0] * w.out[1] * w.out[2];
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t plane = i / osp, o = i - plane * osp;
        int64_t ow = o % w.out[2], oh = o / w.out[2] % w.out[1], od = o / (w.out[2] * w.out[1]);
        int64_t d0, d1, h0, h1, w0, w1, best = -1;
        const T *xp = x + plane * isp;
        float acc = is_max ? -INFINITY : 0.f;
        pl__taps(w, 0, od, &d0, &d1);
        pl__taps(w, 1, oh, &h0, &h1);
        pl__taps(w, 2, ow, &w0, &w1);
        for (int64_t kd = d0; kd < d1; kd++) {
            int64_t id = od * w.s[0] - w.pb[0] + kd * w.d[0];
            for (int64_t kh = h0; kh < h1; kh++) {
                int64_t ih = oh * w.s[1] - w.pb[1] + kh * w.d[1];
                const T *row = xp + (id * w.in[1] + ih) * w.in[2];
                int64_t iw0 = ow * w.s[2] - w.pb[2];
                for (int64_t kw = w0; kw < w1; kw++) {
                    int64_t iw = iw0 + kw * w.d[2];
                    float v = ld(row, iw);
                    if (is_max) {
                        if (v > acc || best < 0) {
                            acc = v;
                            best = col_major ? id + ih * w.in[0] + iw * w.in[0] * w.in[1]
                                             : (id * w.in[1] + ih) * w.in[2] + iw;
                        }
                    } else {
                        acc += v;
                    }
                }
            }
        }
        if (is_max) {
            st(y, i, acc);
            if (ind)
                ind[i] = best < 0 ? -1 : plane * isp + best;
        } else {
            int64_t cnt = include_pad ? pl__taps_padded(w, 0, od) * pl__taps_padded(w, 1, oh) *
                                            pl__taps_padded(w, 2, ow)
                                      : (d1 - d0) * (h1 - h0) * (w1 - w0);
            st(y, i, cnt > 0 ? acc / (float)cnt : 0.f);
        }
    }
}

template <typename T>
static cudaError_t pl__pool_launch(cudaStream_t s, const void *x, void *y, int64_t *ind,
                                   int64_t planes, const pl__cu_win *w, int is_max, int inc,
                                   int cm) {
    int64_t total = planes * w->out[0] * w->out[1] * w->out[2];
    if (total <= 0)
        return cudaSuccess;
    pl__k_pool<T><<<grid_for(total, 256), 256, 0, s>>>((const T *)x, (T *)y, ind, total, *w, is_max,
                                                       inc, cm);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_pool(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                   int64_t *ind, int64_t planes, const pl__cu_win *win, int is_max,
                                   int include_pad, int col_major) {
    return PL__CU_FLOAT_DISPATCH(t, pl__pool_launch, s, x, y, ind, planes, win, is_max, include_pad,
                                 col_major);
}

/* ---- row reductions: global pooling and Reduce* over the innermost axis --------------------- */

__device__ __forceinline__ float pl__red_init(int op) {
    switch (op) {
    case PL__RED_MAX: case PL__RED_LSE: return -INFINITY;
    case PL__RED_MIN: return INFINITY;
    case PL__RED_PROD: return 1.f;
    default: return 0.f;
    }
}

__device__ __forceinline__ float pl__red_map(int op, float v, float m) {
    switch (op) {
    case PL__RED_L1: return fabsf(v);
    case PL__RED_L2: case PL__RED_SUMSQ: return v * v;
    case PL__RED_LSE: return expf(v - m);
    default: return v;
    }
}

__device__ __forceinline__ float pl__red_comb(int op, float a, float b) {
    switch (op) {
    case PL__RED_MAX: return (a != a || b != b) ? a + b : fmaxf(a, b);
    case PL__RED_MIN: return (a != a || b != b) ? a + b : fminf(a, b);
    case PL__RED_PROD: return a * b;
    default: return a + b;
    }
}

__device__ __forceinline__ float pl__red_final(int op, float acc, float m, int64_t r) {
    switch (op) {
    case PL__RED_MEAN: return acc / (float)r;
    case PL__RED_L2: return sqrtf(acc);
    case PL__RED_LOGSUM: return logf(acc);
    case PL__RED_LSE: return m + logf(acc);
    default: return acc;
    }
}

__device__ __forceinline__ float warp_comb(int op, float v) {
    for (int o = 16; o > 0; o >>= 1)
        v = pl__red_comb(op, v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* One warp per row: rows of r elements, warps_per_block rows per block. */
template <typename T>
__global__ void pl__k_reduce_rows_warp(int op, const T *__restrict__ x, T *__restrict__ y,
                                       int64_t rows, int64_t r) {
    int lane = threadIdx.x & 31;
    for (int64_t row = blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); row < rows;
         row += (int64_t)gridDim.x * (blockDim.x >> 5)) {
        const T *xr = x + row * r;
        float m = 0.f, acc = pl__red_init(op == PL__RED_LSE ? PL__RED_SUM : op);
        if (op == PL__RED_LSE) {
            float mm = -INFINITY;
            for (int64_t j = lane; j < r; j += 32)
                mm = fmaxf(mm, ld(xr, j));
            m = warp_max(mm);
            if (m == -INFINITY || m != m)
                m = m != m ? m : 0.f;
        }
        for (int64_t j = lane; j < r; j += 32)
            acc = pl__red_comb(op == PL__RED_LSE ? PL__RED_SUM : op, acc,
                               pl__red_map(op, ld(xr, j), m));
        acc = warp_comb(op == PL__RED_LSE ? PL__RED_SUM : op, acc);
        if (lane == 0)
            st(y, row, pl__red_final(op, acc, m, r));
    }
}

/* One block per row, for long rows. */
template <typename T>
__global__ void pl__k_reduce_rows_block(int op, const T *__restrict__ x, T *__restrict__ y,
                                        int64_t rows, int64_t r) {
    __shared__ float sh[33];
    int cop = op == PL__RED_LSE ? PL__RED_SUM : op;
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const T *xr = x + row * r;
        float m = 0.f, acc = pl__red_init(cop);
        if (op == PL__RED_LSE) {
            float mm = -INFINITY;
            for (int64_t j = threadIdx.x; j < r; j += blockDim.x)
                mm = fmaxf(mm, ld(xr, j));
            m = block_reduce(mm, true, sh);
            if (m == -INFINITY)
                m = 0.f;
        }
        for (int64_t j = threadIdx.x; j < r; j += blockDim.x)
            acc = pl__red_comb(cop, acc, pl__red_map(op, ld(xr, j), m));
        if (cop == PL__RED_SUM || cop == PL__RED_MEAN || cop == PL__RED_L1 || cop == PL__RED_L2 ||
            cop == PL__RED_SUMSQ || cop == PL__RED_LOGSUM) {
            acc = block_reduce(acc, false, sh);
        } else {
            /* max / min / prod: combine through shared memory warp by warp */
            int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
            acc = warp_comb(cop, acc);
            __syncthreads();
            if (lane == 0)
                sh[wid] = acc;
            __syncthreads();
            if (wid == 0) {
                float v = lane < nw ? sh[lane] : pl__red_init(cop);
                v = warp_comb(cop, v);
                if (lane == 0)
                    sh[32] = v;
            }
            __syncthreads();
            acc = sh[32];
        }
        if (threadIdx.x == 0)
            st(y, row, pl__red_final(op, acc, m, r));
    }
}

/* One thread per column (outer, inner) reducing along r with stride inner. */
template <typename T>
__global__ void pl__k_reduce_cols(int op, const T *__restrict__ x, T *__restrict__ y,
                                  int64_t outer, int64_t r, int64_t inner) {
    int cop = op == PL__RED_LSE ? PL__RED_SUM : op;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < outer * inner;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t o = i / inner, j = i - o * inner;
        const T *xc = x + o * r * inner + j;
        float m = 0.f, acc = pl__red_init(cop);
        if (op == PL__RED_LSE) {
            m = -INFINITY;
            for (int64_t k = 0; k < r; k++)
                m = fmaxf(m, ld(xc, k * inner));
            if (m == -INFINITY)
                m = 0.f;
        }
        for (int64_t k = 0; k < r; k++)
            acc = pl__red_comb(cop, acc, pl__red_map(op, ld(xc, k * inner), m));
        st(y, i, pl__red_final(op, acc, m, r));
    }
}

template <typename T>
static cudaError_t pl__reduce_launch(cudaStream_t s, int op, const void *x, void *y,
                                     int64_t outer, int64_t r, int64_t inner) {
    if (outer * inner <= 0)
        return cudaSuccess;
    if (inner == 1 && r > 4096)
        pl__k_reduce_rows_block<T><<<grid_for(outer, 1), 512, 0, s>>>(op, (const T *)x, (T *)y,
                                                                     outer, r);
    else if (inner == 1 && r >= 16)
        pl__k_reduce_rows_warp<T><<<grid_for(outer, 8), 256, 0, s>>>(op, (const T *)x, (T *)y,
                                                                    outer, r);
    else
        pl__k_reduce_cols<T><<<grid_for(outer * inner, 256), 256, 0, s>>>(op, (const T *)x,
                                                                         (T *)y, outer, r, inner);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_reduce(cudaStream_t s, int op, pl_dtype t, const void *x, void *y,
                                     int64_t outer, int64_t r, int64_t inner) {
    return PL__CU_FLOAT_DISPATCH(t, pl__reduce_launch, s, op, x, y, outer, r, inner);
}

extern "C" cudaError_t pl__cu_global_pool(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                          int64_t planes, int64_t sp, int is_max) {
    return pl__cu_reduce(s, is_max ? PL__RED_MAX : PL__RED_MEAN, t, x, y, planes, sp, 1);
}

/* ---- BatchNormalization --------------------------------------------------------------------- */

template <typename T>
__global__ void pl__k_batchnorm(const T *__restrict__ x, T *__restrict__ y,
                                const void *__restrict__ g, const void *__restrict__ b,
                                const void *__restrict__ mean, const void *__restrict__ var,
                                bool ph, float eps, int64_t total, int64_t c, int64_t sp, int ac,
                                float al, float be) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t ch = (i / sp) % c;
        float sc = ldp(g, ph, ch) / sqrtf(ldp(var, ph, ch) + eps);
        float v = ld(x, i) * sc + (ldp(b, ph, ch) - ldp(mean, ph, ch) * sc);
        st(y, i, act(v, ac, al, be));
    }
}

template <typename T>
static cudaError_t pl__bn_launch(cudaStream_t s, const void *x, void *y, const void *g,
                                 const void *b, const void *mean, const void *var, int pt,
                                 float eps, int64_t n, int64_t c, int64_t sp, int ac, float al,
                                 float be) {
    int64_t total = n * c * sp;
    if (total <= 0)
        return cudaSuccess;
    pl__k_batchnorm<T><<<grid_for(total, 256, 4), 256, 0, s>>>(
        (const T *)x, (T *)y, g, b, mean, var, pt == PL_FLOAT16, eps, total, c, sp, ac, al, be);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_batchnorm(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                        const void *scale, const void *bias, const void *mean,
                                        const void *var, pl_dtype pt, float eps, int64_t n,
                                        int64_t c, int64_t sp, int act, float alpha, float beta) {
    return PL__CU_FLOAT_DISPATCH(t, pl__bn_launch, s, x, y, scale, bias, mean, var, (int)pt, eps, n,
                                 c, sp, act, alpha, beta);
}

/* ---- Softmax -------------------------------------------------------------------------------- */

template <typename T>
__global__ void pl__k_softmax_warp(const T *__restrict__ x, T *__restrict__ y, int64_t rows,
                                   int64_t r, int lg) {
    int lane = threadIdx.x & 31;
    for (int64_t row = blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); row < rows;
         row += (int64_t)gridDim.x * (blockDim.x >> 5)) {
        const T *xr = x + row * r;
        T *yr = y + row * r;
        float m = -INFINITY, sum = 0.f;
        for (int64_t j = lane; j < r; j += 32)
            m = fmaxf(m, ld(xr, j));
        m = warp_max(m);
        for (int64_t j = lane; j < r; j += 32)
            sum += expf(ld(xr, j) - m);
        sum = warp_sum(sum);
        if (lg) {
            float ls = logf(sum);
            for (int64_t j = lane; j < r; j += 32)
                st(yr, j, ld(xr, j) - m - ls);
        } else {
            float inv = 1.f / sum;
            for (int64_t j = lane; j < r; j += 32)
                st(yr, j, expf(ld(xr, j) - m) * inv);
        }
    }
}

template <typename T>
__global__ void pl__k_softmax_block(const T *__restrict__ x, T *__restrict__ y, int64_t rows,
                                    int64_t r, int lg) {
    __shared__ float sh[33];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const T *xr = x + row * r;
        T *yr = y + row * r;
        float m = -INFINITY, sum = 0.f;
        for (int64_t j = threadIdx.x; j < r; j += blockDim.x)
            m = fmaxf(m, ld(xr, j));
        m = block_reduce(m, true, sh);
        for (int64_t j = threadIdx.x; j < r; j += blockDim.x)
            sum += expf(ld(xr, j) - m);
        sum = block_reduce(sum, false, sh);
        if (lg) {
            float ls = logf(sum);
            for (int64_t j = threadIdx.x; j < r; j += blockDim.x)
                st(yr, j, ld(xr, j) - m - ls);
        } else {
            float inv = 1.f / sum;
            for (int64_t j = threadIdx.x; j < r; j += blockDim.x)
                st(yr, j, expf(ld(xr, j) - m) * inv);
        }
    }
}

template <typename T>
__global__ void pl__k_softmax_cols(const T *__restrict__ x, T *__restrict__ y, int64_t outer,
                                   int64_t r, int64_t inner, int lg) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < outer * inner;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t o = i / inner, j = i - o * inner;
        const T *xc = x + o * r * inner + j;
        T *yc = y + o * r * inner + j;
        float m = -INFINITY, sum = 0.f;
        for (int64_t k = 0; k < r; k++)
            m = fmaxf(m, ld(xc, k * inner));
        for (int64_t k = 0; k < r; k++)
            sum += expf(ld(xc, k * inner) - m);
        if (lg) {
            float ls = logf(sum);
            for (int64_t k = 0; k < r; k++)
                st(yc, k * inner, ld(xc, k * inner) - m - ls);
        } else {
            float inv = 1.f / sum;
            for (int64_t k = 0; k < r; k++)
                st(yc, k * inner, expf(ld(xc, k * inner) - m) * inv);
        }
    }
}

template <typename T>
static cudaError_t pl__softmax_launch(cudaStream_t s, const void *x, void *y, int64_t outer,
                                      int64_t r, int64_t inner, int lg) {
    if (outer * inner * r <= 0)
        return cudaSuccess;
    if (inner == 1 && r > 1024)
        pl__k_softmax_block<T><<<grid_for(outer, 1), 512, 0, s>>>((const T *)x, (T *)y, outer, r,
                                                                 lg);
    else if (inner == 1)
        pl__k_softmax_warp<T><<<grid_for(outer, 8), 256, 0, s>>>((const T *)x, (T *)y, outer, r,
                                                                lg);
    else
        pl__k_softmax_cols<T><<<grid_for(outer * inner, 256), 256, 0, s>>>((const T *)x, (T *)y,
                                                                          outer, r, inner, lg);
    return cudaGetLastError();
}

/* float64: the same three shapes of work, everything in double, finished as the CPU does (y =
 * exp(x - m) * (1 / s), or x - (m + log s)). The max skips NaN (fmax) as the CPU's select does
 * after its first element. */
__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ double warp_max_d(double v) {
    for (int o = 16; o > 0; o >>= 1)
        v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* block_reduce in double; `sh` holds 33 doubles */
__device__ double block_reduce_d(double v, bool is_max, double *sh) {
    int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = is_max ? warp_max_d(v) : warp_sum_d(v);
    __syncthreads();
    if (lane == 0)
        sh[wid] = v;
    __syncthreads();
    if (wid == 0) {
        double w = lane < nw ? sh[lane] : (is_max ? -INFINITY : 0.0);
        w = is_max ? warp_max_d(w) : warp_sum_d(w);
        if (lane == 0)
            sh[32] = w;
    }
    __syncthreads();
    return sh[32];
}

/* One row of r values with `nth` threads, thread `t`: y from x, m and s (the row's max and sum
 * of exponentials). */
__device__ __forceinline__ void smax_f64_finish(const double *x, double *y, int64_t r,
                                                int64_t stride, int64_t t, int64_t nth, double m,
                                                double s, int lg) {
    double f = lg ? m + log(s) : 1.0 / s;
    for (int64_t j = t; j < r; j += nth)
        y[j * stride] = lg ? x[j * stride] - f : exp(x[j * stride] - m) * f;
}

__global__ void pl__k_softmax_warp_f64(const double *x, double *y, int64_t rows, int64_t r,
                                       int lg) {
    int lane = threadIdx.x & 31;
    for (int64_t row = blockIdx.x * (int64_t)(blockDim.x >> 5) + (threadIdx.x >> 5); row < rows;
         row += (int64_t)gridDim.x * (blockDim.x >> 5)) {
        const double *xr = x + row * r;
        double m = -INFINITY, sum = 0.0;
        for (int64_t j = lane; j < r; j += 32)
            m = fmax(m, xr[j]);
        m = warp_max_d(m);
        for (int64_t j = lane; j < r; j += 32)
            sum += exp(xr[j] - m);
        sum = warp_sum_d(sum);
        smax_f64_finish(xr, y + row * r, r, 1, lane, 32, m, sum, lg);
    }
}

__global__ void pl__k_softmax_block_f64(const double *x, double *y, int64_t rows, int64_t r,
                                        int lg) {
    __shared__ double sh[33];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const double *xr = x + row * r;
        double m = -INFINITY, sum = 0.0;
        for (int64_t j = threadIdx.x; j < r; j += blockDim.x)
            m = fmax(m, xr[j]);
        m = block_reduce_d(m, true, sh);
        for (int64_t j = threadIdx.x; j < r; j += blockDim.x)
            sum += exp(xr[j] - m);
        sum = block_reduce_d(sum, false, sh);
        smax_f64_finish(xr, y + row * r, r, 1, threadIdx.x, blockDim.x, m, sum, lg);
    }
}

__global__ void pl__k_softmax_cols_f64(const double *x, double *y, int64_t outer, int64_t r,
                                       int64_t inner, int lg) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < outer * inner;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t o = i / inner, j = i - o * inner;
        const double *xc = x + o * r * inner + j;
        double m = -INFINITY, sum = 0.0;
        for (int64_t k = 0; k < r; k++)
            m = fmax(m, xc[k * inner]);
        for (int64_t k = 0; k < r; k++)
            sum += exp(xc[k * inner] - m);
        smax_f64_finish(xc, y + o * r * inner + j, r, inner, 0, 1, m, sum, lg);
    }
}

static cudaError_t pl__softmax_f64(cudaStream_t s, const void *x, void *y, int64_t outer,
                                   int64_t r, int64_t inner, int lg) {
    const double *xd = (const double *)x;
    double *yd = (double *)y;
    if (outer * inner * r <= 0)
        return cudaSuccess;
    if (inner == 1 && r > 1024)
        pl__k_softmax_block_f64<<<grid_for(outer, 1), 512, 0, s>>>(xd, yd, outer, r, lg);
    else if (inner == 1)
        pl__k_softmax_warp_f64<<<grid_for(outer, 8), 256, 0, s>>>(xd, yd, outer, r, lg);
    else
        pl__k_softmax_cols_f64<<<grid_for(outer * inner, 256), 256, 0, s>>>(xd, yd, outer, r,
                                                                           inner, lg);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_softmax(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                      int64_t outer, int64_t r, int64_t inner, int log) {
    if (t == PL_FLOAT64)
        return pl__softmax_f64(s, x, y, outer, r, inner, log);
    return PL__CU_FLOAT_DISPATCH(t, pl__softmax_launch, s, x, y, outer, r, inner, log);
}

/* ---- LayerNormalization --------------------------------------------------------------------- */

template <typename T>
__global__ void pl__k_layernorm(const T *__restrict__ x, T *__restrict__ y,
                                const void *__restrict__ g, const void *__restrict__ b, bool ph,
                                float *mean, float *istd, int64_t rows, int64_t inner, float eps) {
    __shared__ float sh[33];
    for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const T *xr = x + row * inner;
        T *yr = y + row * inner;
        float s = 0.f, v = 0.f, mu, is;
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x)
            s += ld(xr, j);
        mu = block_reduce(s, false, sh) / (float)inner;
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) {
            float d = ld(xr, j) - mu;
            v += d * d;
        }
        is = rsqrtf(block_reduce(v, false, sh) / (float)inner + eps);
        for (int64_t j = threadIdx.x; j < inner; j += blockDim.x) {
            float o = (ld(xr, j) - mu) * is * ldp(g, ph, j);
            if (b)
                o += ldp(b, ph, j);
            st(yr, j, o);
        }
        if (threadIdx.x == 0) {
            if (mean)
                mean[row] = mu;
            if (istd)
                istd[row] = is;
        }
    }
}

template <typename T>
static cudaError_t pl__ln_launch(cudaStream_t s, const void *x, void *y, const void *g,
                                 const void *b, int pt, float *mean, float *istd, int64_t rows,
                                 int64_t inner, float eps) {
    int threads = inner <= 256 ? 64 : inner <= 2048 ? 256 : 512;
    if (rows <= 0 || inner <= 0)
        return cudaSuccess;
    pl__k_layernorm<T><<<grid_for(rows, 1), threads, 0, s>>>((const T *)x, (T *)y, g, b,
                                                             pt == PL_FLOAT16, mean, istd, rows,
                                                             inner, eps);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_layernorm(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                        const void *scale, const void *bias, pl_dtype pt,
                                        float *mean, float *istd, int64_t rows, int64_t inner,
                                        float eps) {
    return PL__CU_FLOAT_DISPATCH(t, pl__ln_launch, s, x, y, scale, bias, (int)pt, mean, istd, rows,
                                 inner, eps);
}

/* ---- channels-last (NHWC) variants for the float16 layout pass (cuda-layout.c) ------------- */

/* One thread per output element in NHWC order, so that neighbouring threads read neighbouring
 * channels: every tap is a coalesced load across the warp. */
template <typename T>
__global__ void pl__k_dwconv_nhwc(const T *__restrict__ x, const T *__restrict__ w,
                                  const void *__restrict__ bias, bool bhalf,
                                  const T *__restrict__ res, T *__restrict__ y, int64_t total,
                                  int c, pl__cu_win win, int ac, float al, float be) {
    const int IH = (int)win.in[1], IW = (int)win.in[2], OH = (int)win.out[1], OW = (int)win.out[2];
    const int KH = (int)win.k[1], KW = (int)win.k[2];
    const int SH = (int)win.s[1], SW = (int)win.s[2], DH = (int)win.d[1], DW = (int)win.d[2];
    const int PH = (int)win.pb[1], PW = (int)win.pb[2];
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int ch = (int)(i % c);
        int64_t t = i / c;
        int ow = (int)(t % OW);
        t /= OW;
        int oh = (int)(t % OH);
        int64_t n = t / OH;
        const T *xp = x + n * (int64_t)IH * IW * c + ch;
        const T *wp = w + (int64_t)ch * KH * KW;
        int ih0 = oh * SH - PH, iw0 = ow * SW - PW;
        float acc = bias ? ldp(bias, bhalf, ch) : 0.f;
        for (int kh = 0; kh < KH; kh++) {
            int ih = ih0 + kh * DH;
            if (ih < 0 || ih >= IH)
                continue;
            for (int kw = 0; kw < KW; kw++) {
                int iw = iw0 + kw * DW;
                if (iw >= 0 && iw < IW)
                    acc += ld(xp, ((int64_t)ih * IW + iw) * c) * ld(wp, kh * KW + kw);
            }
        }
        if (res)
            acc += ld(res, i);
        st(y, i, act(acc, ac, al, be));
    }
}

template <typename T>
static cudaError_t pl__dwconv_nhwc_launch(cudaStream_t s, const void *x, const void *w,
                                          const void *bias, int bt, const void *res, void *y,
                                          int64_t n, int64_t c, const pl__cu_win *win, int ac,
                                          float al, float be) {
    int64_t total = n * c * win->out[1] * win->out[2];
    if (total <= 0)
        return cudaSuccess;
    pl__k_dwconv_nhwc<T><<<grid_for(total, 256), 256, 0, s>>>(
        (const T *)x, (const T *)w, bias, bt == PL_FLOAT16, (const T *)res, (T *)y, total, (int)c,
        *win, ac, al, be);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_dwconv_nhwc(cudaStream_t s, pl_dtype t, const void *x,
                                          const void *w, const void *bias, pl_dtype bt,
                                          const void *res, void *y, int64_t n, int64_t c,
                                          const pl__cu_win *win, int act, float alpha,
                                          float beta) {
    return PL__CU_FLOAT_DISPATCH(t, pl__dwconv_nhwc_launch, s, x, w, bias, (int)bt, res, y, n, c,
                                 win, act, alpha, beta);
}

template <typename T>
__global__ void pl__k_pool_nhwc(const T *__restrict__ x, T *__restrict__ y, int64_t total, int c,
                                pl__cu_win w, int is_max, int include_pad) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int ch = (int)(i % c);
        int64_t t = i / c;
        int64_t ow = t % w.out[2];
        t /= w.out[2];
        int64_t oh = t % w.out[1], n = t / w.out[1];
        int64_t h0, h1, w0, w1;
        const T *xp = x + n * w.in[1] * w.in[2] * c + ch;
        float acc = is_max ? -INFINITY : 0.f;
        pl__taps(w, 1, oh, &h0, &h1);
        pl__taps(w, 2, ow, &w0, &w1);
        for (int64_t kh = h0; kh < h1; kh++) {
            int64_t ih = oh * w.s[1] - w.pb[1] + kh * w.d[1];
            for (int64_t kw = w0; kw < w1; kw++) {
                int64_t iw = ow * w.s[2] - w.pb[2] + kw * w.d[2];
                float v = ld(xp, (ih * w.in[2] + iw) * c);
                acc = is_max ? (v > acc ? v : acc) : acc + v;
            }
        }
        if (is_max) {
            st(y, i, acc);
        } else {
            int64_t cnt = include_pad ? pl__taps_padded(w, 1, oh) * pl__taps_padded(w, 2, ow)
                                      : (h1 - h0) * (w1 - w0);
            st(y, i, cnt > 0 ? acc / (float)cnt : 0.f);
        }
    }
}

template <typename T>
static cudaError_t pl__pool_nhwc_launch(cudaStream_t s, const void *x, void *y, int64_t n,
                                        int64_t c, const pl__cu_win *w, int is_max, int inc) {
    int64_t total = n * c * w->out[1] * w->out[2];
    if (total <= 0)
        return cudaSuccess;
    pl__k_pool_nhwc<T><<<grid_for(total, 256), 256, 0, s>>>((const T *)x, (T *)y, total, (int)c,
                                                            *w, is_max, inc);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_pool_nhwc(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                        int64_t n, int64_t c, const pl__cu_win *win, int is_max,
                                        int include_pad) {
    return PL__CU_FLOAT_DISPATCH(t, pl__pool_nhwc_launch, s, x, y, n, c, win, is_max,
                                 include_pad);
}

/* Global pooling of [N, sp, C] over sp: a block holds 32 channels (the lanes, coalesced) and
 * `rows` warps that split sp, reduced through shared memory; grid (C tiles, N). One thread per
 * channel would walk sp serially (784 steps at MobileNet's first squeeze-excitation). */
template <typename T>
__global__ void pl__k_gpool_nhwc(const T *__restrict__ x, T *__restrict__ y, int64_t sp, int c,
                                 int is_max) {
    __shared__ float part[32][33];
    int lane = threadIdx.x, row = threadIdx.y, rows = blockDim.y;
    int ch = blockIdx.x * 32 + lane;
    const T *xp = x + (int64_t)blockIdx.y * sp * c + ch;
    float acc = is_max ? -INFINITY : 0.f;
    if (ch < c)
        for (int64_t i = row; i < sp; i += rows) {
            float v = ld(xp, i * c);
            acc = is_max ? (v > acc || v != v ? v : acc) : acc + v;
        }
    part[row][lane] = acc;
    __syncthreads();
    if (row == 0 && ch < c) {
        for (int r = 1; r < rows; r++) {
            float v = part[r][lane];
            acc = is_max ? (v > acc || v != v ? v : acc) : acc + v;
        }
        st(y, (int64_t)blockIdx.y * c + ch, is_max ? acc : acc / (float)sp);
    }
}

template <typename T>
static cudaError_t pl__gpool_nhwc_launch(cudaStream_t s, const void *x, void *y, int64_t n,
                                         int64_t c, int64_t sp, int is_max) {
    dim3 block(32, sp >= 256 ? 32 : sp >= 32 ? 8 : 1), grid((unsigned)((c + 31) / 32), (unsigned)n);
    if (n * c <= 0)
        return cudaSuccess;
    if (sp <= 0 || n > 65535)
        return cudaErrorInvalidValue;
    pl__k_gpool_nhwc<T><<<grid, block, 0, s>>>((const T *)x, (T *)y, sp, (int)c, is_max);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_global_pool_nhwc(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                               int64_t n, int64_t c, int64_t sp, int is_max) {
    return PL__CU_FLOAT_DISPATCH(t, pl__gpool_nhwc_launch, s, x, y, n, c, sp, is_max);
}

/* ---- a GPU-side delay for tactic timing ----------------------------------------------------- */

__global__ void pl__k_spin(long long cycles) {
    long long t0 = clock64();
    while (clock64() - t0 < cycles) {
    }
}

extern "C" cudaError_t pl__cu_spin(cudaStream_t s, long long cycles) {
    pl__k_spin<<<1, 1, 0, s>>>(cycles);
    return cudaGetLastError();
}

/* ---- window crop (ConvTranspose's asymmetric or negative padding) -------------------------- */

/* Moves whole elements of E bytes (the bits of any float type; zero bits are +0). */
template <typename E>
__global__ void pl__k_crop3(const E *__restrict__ z, E *__restrict__ y, int64_t total,
                            pl__cu_crop_geom c) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < total;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t o2 = i % c.out[2], t = i / c.out[2];
        int64_t o1 = t % c.out[1];
        t /= c.out[1];
        int64_t o0 = t % c.out[0], plane = t / c.out[0];
        int64_t f0 = o0 + c.off[0], f1 = o1 + c.off[1], f2 = o2 + c.off[2];
        E v = 0;
        if (f0 >= 0 && f0 < c.in[0] && f1 >= 0 && f1 < c.in[1] && f2 >= 0 && f2 < c.in[2])
            v = z[((plane * c.in[0] + f0) * c.in[1] + f1) * c.in[2] + f2];
        y[i] = v;
    }
}

extern "C" cudaError_t pl__cu_crop(cudaStream_t s, size_t es, const void *z, void *y,
                                   int64_t planes, const pl__cu_crop_geom *c) {
    int64_t total = planes * c->out[0] * c->out[1] * c->out[2];
    if (total <= 0)
        return cudaSuccess;
    for (int i = 0; i < 3; i++)
        if (c->out[i] < 1 || c->in[i] < 1)
            return cudaErrorInvalidValue;
    unsigned g = grid_for(total, 256, 4);
    switch (es) {
    case 2: pl__k_crop3<uint16_t><<<g, 256, 0, s>>>((const uint16_t *)z, (uint16_t *)y, total, *c);
        break;
    case 4: pl__k_crop3<uint32_t><<<g, 256, 0, s>>>((const uint32_t *)z, (uint32_t *)y, total, *c);
        break;
    case 8: pl__k_crop3<uint64_t><<<g, 256, 0, s>>>((const uint64_t *)z, (uint64_t *)y, total, *c);
        break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

/* ---- Gemm's C term in float64 --------------------------------------------------------------- */

__global__ void pl__k_gemm_c_f64(double *y, int64_t m, int64_t n, const double *__restrict__ c,
                                 int64_t cm, int64_t cn, double beta) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < m * n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t r = i / n, col = i - r * n;
        y[i] = beta * c[(cm == 1 ? 0 : r) * cn + (cn == 1 ? 0 : col)];
    }
}

extern "C" cudaError_t pl__cu_gemm_c_f64(cudaStream_t s, void *y, int64_t m, int64_t n,
                                         const void *c, int64_t cm, int64_t cn, double beta) {
    if (m * n <= 0)
        return cudaSuccess;
    if ((cm != 1 && cm != m) || (cn != 1 && cn != n))
        return cudaErrorInvalidValue;
    pl__k_gemm_c_f64<<<grid_for(m * n, 256, 4), 256, 0, s>>>((double *)y, m, n,
                                                             (const double *)c, cm, cn, beta);
    return cudaGetLastError();
}
