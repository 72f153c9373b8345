/*
 * cuda-shape.cu - data movement on the device: the strided copy behind Transpose, Slice, Concat,
 * Split, Expand, Tile and the depth/space shuffles; Gather; Pad; Resize. Kernels move elements
 * as 1-, 2-, 4- or 8-byte words, one output element per thread, so that writes are coalesced;
 * reads follow the source strides. Resize reproduces the CPU backend's coordinate arithmetic
 * (float coordinates, double rounding) so that nearest-neighbour picks the same pixels.
 */
#include <math.h>
#include <string.h>

#include "backends/cuda/cuda-common.cuh"
#include "backends/cuda/cuda-shape.cuh"

using namespace pl_cuda;

/* ---- strided copy --------------------------------------------------------------------------- */

template <typename E>
__global__ void pl__k_strided(const E *__restrict__ x, E *__restrict__ y, pl__cu_copy c,
                              int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = i, so = c.src_off, dof = c.dst_off;
        for (int d = c.rank - 1; d >= 0; d--) {
            int64_t q = rem / c.dims[d], r = rem - q * c.dims[d];
            so += (c.mod[d] ? r % c.mod[d] : r) * c.src_st[d];
            dof += r * c.dst_st[d];
            rem = q;
        }
        y[dof] = x[so];
    }
}

template <typename E>
static cudaError_t pl__strided_launch(cudaStream_t s, const void *x, void *y,
                                      const pl__cu_copy *c, int64_t n) {
    pl__k_strided<E><<<grid_for(n, 256, 2), 256, 0, s>>>((const E *)x, (E *)y, *c, n);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_strided_copy(cudaStream_t s, size_t es, const void *x, void *y,
                                           const pl__cu_copy *c) {
    int64_t n = 1;
    for (int d = 0; d < c->rank; d++)
        n *= c->dims[d];
    if (n <= 0)
        return cudaSuccess;
    switch (es) {
    case 1: return pl__strided_launch<uint8_t>(s, x, y, c, n);
    case 2: return pl__strided_launch<uint16_t>(s, x, y, c, n);
    case 4: return pl__strided_launch<uint32_t>(s, x, y, c, n);
    case 8: return pl__strided_launch<unsigned long long>(s, x, y, c, n);
    default: return cudaErrorInvalidValue;
    }
}

/* ---- Gather --------------------------------------------------------------------------------- */

template <typename E, typename I>
__global__ void pl__k_gather(const E *__restrict__ x, const I *__restrict__ idx,
                             E *__restrict__ y, int64_t outer, int64_t ad, int64_t inner,
                             int64_t nidx, int *flag) {
    int64_t n = outer * nidx * inner;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t j = i % inner, t = i / inner, k = t % nidx, o = t / nidx;
        int64_t v = (int64_t)idx[k];
        if (v < 0)
            v += ad;
        if (v < 0 || v >= ad) {
            y[i] = E(0);
            if (flag)
                *flag = 1;
            continue;
        }
        y[i] = x[(o * ad + v) * inner + j];
    }
}

template <typename E>
static cudaError_t pl__gather_launch(cudaStream_t s, const void *x, const void *idx, bool i64,
                                     void *y, int64_t outer, int64_t ad, int64_t inner,
                                     int64_t nidx, int *flag) {
    unsigned g = grid_for(outer * nidx * inner, 256, 2);
    if (i64)
        pl__k_gather<E, long long><<<g, 256, 0, s>>>((const E *)x, (const long long *)idx, (E *)y,
                                                     outer, ad, inner, nidx, flag);
    else
        pl__k_gather<E, int32_t><<<g, 256, 0, s>>>((const E *)x, (const int32_t *)idx, (E *)y,
                                                   outer, ad, inner, nidx, flag);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_gather(cudaStream_t s, size_t es, const void *x, const void *idx,
                                     pl_dtype it, void *y, int64_t outer, int64_t axis_dim,
                                     int64_t inner, int64_t nidx, int *flag) {
    bool i64 = it == PL_INT64;
    if (outer * nidx * inner <= 0)
        return cudaSuccess;
    switch (es) {
    case 1: return pl__gather_launch<uint8_t>(s, x, idx, i64, y, outer, axis_dim, inner, nidx, flag);
    case 2: return pl__gather_launch<uint16_t>(s, x, idx, i64, y, outer, axis_dim, inner, nidx, flag);
    case 4: return pl__gather_launch<uint32_t>(s, x, idx, i64, y, outer, axis_dim, inner, nidx, flag);
    case 8:
        return pl__gather_launch<unsigned long long>(s, x, idx, i64, y, outer, axis_dim, inner,
                                                     nidx, flag);
    default: return cudaErrorInvalidValue;
    }
}

/* ---- Pad ------------------------------------------------------------------------------------ */

typedef struct pl__pad_geo {
    int rank, mode;
    int64_t id[8], od[8], begin[8], xs[8];
} pl__pad_geo;

__device__ __forceinline__ int64_t pl__pad_map(int m, int64_t j, int64_t d) {
    int64_t period;
    if (j >= 0 && j < d)
        return j;
    switch (m) {
    case 2: return j < 0 ? 0 : d - 1; /* edge */
    case 3:                           /* wrap */
        j %= d;
        return j < 0 ? j + d : j;
    case 1: /* reflect */
        if (d == 1)
            return 0;
        period = 2 * (d - 1);
        j %= period;
        if (j < 0)
            j += period;
        return j >= d ? period - j : j;
    default: return -1;
    }
}

template <typename E>
__global__ void pl__k_pad(const E *__restrict__ x, E *__restrict__ y, pl__pad_geo g, int64_t n,
                          const E *vdev, E vhost) {
    E value = vdev ? *vdev : vhost;
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = i, so = 0;
        bool outside = false;
        for (int d = g.rank - 1; d >= 0; d--) {
            int64_t o = rem % g.od[d], src = pl__pad_map(g.mode, o - g.begin[d], g.id[d]);
            rem /= g.od[d];
            if (src < 0)
                outside = true;
            else
                so += src * g.xs[d];
        }
        y[i] = outside ? value : x[so];
    }
}

template <typename E>
static cudaError_t pl__pad_launch(cudaStream_t s, const void *x, void *y, const pl__pad_geo *g,
                                  int64_t n, const void *vdev, uint64_t vbits) {
    E vh;
    memcpy(&vh, &vbits, sizeof(E)); /* little endian: the low bytes */
    pl__k_pad<E><<<grid_for(n, 256, 2), 256, 0, s>>>((const E *)x, (E *)y, *g, n,
                                                     (const E *)vdev, vh);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_pad(cudaStream_t s, size_t es, const void *x, void *y, int rank,
                                  const int64_t *id, const int64_t *od, const int64_t *begin,
                                  int mode, const void *vdev, uint64_t vbits) {
    pl__pad_geo g;
    int64_t n = 1, acc = 1;
    if (rank < 1 || rank > 8)
        return cudaErrorInvalidValue;
    g.rank = rank;
    g.mode = mode;
    for (int d = rank - 1; d >= 0; d--) {
        g.id[d] = id[d];
        g.od[d] = od[d];
        g.begin[d] = begin[d];
        g.xs[d] = acc;
        acc *= id[d];
        n *= od[d];
    }
    if (n <= 0)
        return cudaSuccess;
    switch (es) {
    case 1: return pl__pad_launch<uint8_t>(s, x, y, &g, n, vdev, vbits);
    case 2: return pl__pad_launch<uint16_t>(s, x, y, &g, n, vdev, vbits);
    case 4: return pl__pad_launch<uint32_t>(s, x, y, &g, n, vdev, vbits);
    case 8: return pl__pad_launch<unsigned long long>(s, x, y, &g, n, vdev, vbits);
    default: return cudaErrorInvalidValue;
    }
}

/* ---- Resize --------------------------------------------------------------------------------- */

/* pl__resize_coord_map of ops-shape.c, in single precision as it is there. Products that feed a
 * sum are rounded on their own (__fmul_rn) so that the compiler does not contract them into an
 * FMA the host code does not use: a coordinate on the other side of an integer would pick
 * another pixel. */
static __device__ float pl__rs_coord(const pl__cu_resize &p, int axis, float xf) {
    float s = (float)p.scale[axis], out = (float)p.out[axis], len = (float)p.in[axis];
    switch (p.coord) {
    case 0: return (xf + 0.5f) / s - 0.5f;
    case 1: {
        float adj = out / __fmul_rn(s, len), offset = __fmul_rn(len / 2.0f, 1.0f - adj);
        return offset + (xf + 0.5f) / s - 0.5f;
    }
    case 2: return out > 1 ? (xf + 0.5f) / s - 0.5f : 0.0f;
    case 3: { /* the resized length is scale * length, unrounded, as ONNX measures it */
        float rl = __fmul_rn(s, len);
        return out > 1 && rl > 1.0f ? __fmul_rn(xf, len - 1) / (rl - 1) : 0.0f;
    }
    case 4: return xf / s;
    case 5: return (xf + 0.5f) / s;
    case 6: {
        float b = (float)p.roi_start[axis], e = (float)p.roi_end[axis];
        if (out > 1)
            return __fmul_rn(b, len - 1) +
                   __fmul_rn(__fmul_rn(xf, e - b), len - 1) / (out - 1);
        return __fmul_rn(0.5f * (b + e), len - 1);
    }
    }
    return xf;
}

static __device__ int64_t pl__rs_round(const pl__cu_resize &p, int axis, double x) {
    double f = floor(x);
    switch (p.round) {
    case 0: return (int64_t)(x - f == 0.5 ? f : floor(x + 0.5));
    case 1: return (int64_t)(x - f == 0.5 ? f + 1 : floor(x + 0.5));
    case 2: return (int64_t)f;
    case 3: return (int64_t)ceil(x);
    default: return (int64_t)(p.scale[axis] < 1.0 ? ceil(x) : (x < 0 ? ceil(x) : f));
    }
}

/* The cubic convolution weights of the CPU kernel (pl__cubic_weights), in double as there;
 * explicit roundings keep the device from fusing what the host computes in two steps. */
static __device__ void pl__rs_cubic(double t, double A, double *w) {
    double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
    w[0] = __dadd_rn(__dmul_rn(__dadd_rn(__dmul_rn(__dadd_rn(__dmul_rn(A, t1), -5 * A), t1),
                                         8 * A), t1), -4 * A);
    w[1] = __dadd_rn(__dmul_rn(__dmul_rn(__dadd_rn(__dmul_rn(A + 2, t), -(A + 3)), t), t), 1.0);
    w[2] = __dadd_rn(__dmul_rn(__dmul_rn(__dadd_rn(__dmul_rn(A + 2, t2), -(A + 3)), t2), t2), 1.0);
    w[3] = __dadd_rn(__dmul_rn(__dadd_rn(__dmul_rn(__dadd_rn(__dmul_rn(A, t3), -5 * A), t3),
                                         8 * A), t3), -4 * A);
}

/* One thread per output element. Each axis contributes one tap (nearest, or a coordinate that
 * lands on a pixel) or 2 (linear) / 4 (cubic) taps; the taps of the multi-tap axes are combined
 * as a tensor product, their count per axis a power of two so that a combination's digits are
 * bit fields. Weights are the CPU kernel's (float, from double arithmetic); sums are in float. */
template <typename T>
__global__ void pl__k_resize(const T *__restrict__ x, T *__restrict__ y, pl__cu_resize p,
                             int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t rem = i, acc = 1, base = 0;
        int64_t off[8][4];
        float w[8][4];
        int lg[8], nmulti = 0, bits = 0;
        bool oob = false;
        for (int d = p.rank - 1; d >= 0; d--) {
            int64_t o = rem % p.out[d], L = p.in[d];
            double xc = (double)pl__rs_coord(p, d, (float)o);
            rem /= p.out[d];
            if (p.coord == 6 && (xc < 0 || xc > (double)(L - 1)))
                oob = true;
            if (p.mode == 0) {
                int64_t k = pl__rs_round(p, d, xc);
                base += (k < 0 ? 0 : k > L - 1 ? L - 1 : k) * acc;
            } else if (p.mode == 1) {
                double c = xc < 0 ? 0 : xc > (double)(L - 1) ? (double)(L - 1) : xc;
                int64_t i0 = (int64_t)c, i1 = i0 + 1 < L ? i0 + 1 : L - 1;
                double t = c - (double)i0;
                base += i0 * acc;
                if (t != 0 && i1 != i0) {
                    off[nmulti][0] = 0;
                    off[nmulti][1] = (i1 - i0) * acc;
                    w[nmulti][0] = (float)(1.0 - t);
                    w[nmulti][1] = (float)t;
                    lg[nmulti++] = 1;
                    bits += 1;
                }
            } else {
                int64_t i0 = (int64_t)floor(xc);
                double t = xc - (double)i0, cw[4], sum = 0;
                float wf[4];
                pl__rs_cubic(t, p.cubic_a, cw);
                for (int k = 0; k < 4; k++) {
                    int64_t j = i0 - 1 + k;
                    if (p.exclude_outside && (j < 0 || j >= L))
                        cw[k] = 0;
                    sum += cw[k];
                }
                for (int k = 0; k < 4; k++)
                    wf[k] = (float)(p.exclude_outside && sum != 0 ? cw[k] / sum : cw[k]);
                if (wf[0] == 0.f && wf[1] == 1.f && wf[2] == 0.f && wf[3] == 0.f) {
                    int64_t j = i0 < 0 ? 0 : i0 > L - 1 ? L - 1 : i0; /* on a pixel */
                    base += j * acc;
                } else {
                    for (int k = 0; k < 4; k++) {
                        int64_t j = i0 - 1 + k;
                        off[nmulti][k] = (j < 0 ? 0 : j > L - 1 ? L - 1 : j) * acc;
                        w[nmulti][k] = wf[k];
                    }
                    lg[nmulti++] = 2;
                    bits += 2;
                }
            }
            acc *= L;
        }
        if (oob) {
            st(y, i, p.extrapolation);
            continue;
        }
        if (nmulti == 0) {
            y[i] = x[base];
            continue;
        }
        {
            float sum = 0.f;
            for (int64_t combo = 0; combo < ((int64_t)1 << bits); combo++) {
                float wt = 1.f;
                int64_t at = base;
                int sh = 0;
                for (int k = 0; k < nmulti; k++) {
                    int dg = (int)(combo >> sh) & ((1 << lg[k]) - 1);
                    sh += lg[k];
                    wt *= w[k][dg];
                    at += off[k][dg];
                }
                sum += wt * ld(x, at);
            }
            st(y, i, sum);
        }
    }
}

template <typename T>
static cudaError_t pl__resize_launch(cudaStream_t s, const void *x, void *y,
                                     const pl__cu_resize *p) {
    int64_t n = 1;
    for (int d = 0; d < p->rank; d++)
        n *= p->out[d];
    if (n <= 0)
        return cudaSuccess;
    pl__k_resize<T><<<grid_for(n, 256), 256, 0, s>>>((const T *)x, (T *)y, *p, n);
    return cudaGetLastError();
}

extern "C" cudaError_t pl__cu_resize_run(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                         const pl__cu_resize *p) {
    if (p->rank < 1 || p->rank > 8 || p->mode < 0 || p->mode > 2)
        return cudaErrorInvalidValue;
    for (int d = 0; d < p->rank; d++)
        if (p->in[d] <= 0 && p->out[d] > 0)
            return cudaErrorInvalidValue;
    return PL__CU_FLOAT_DISPATCH(t, pl__resize_launch, s, x, y, p);
}
