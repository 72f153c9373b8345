/*
 * cuda-extra.cu - device code of the index-valued and scatter/gather ops (cuda-extra.cuh).
 * Every kernel mirrors its CPU kernel's order of operations (sequential scans and reductions
 * per output, updates per line in the indices' order) so that results match the CPU exactly;
 * correctness over speed. Indexing is 64-bit and loops are grid-stride.
 */
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>
#include <cuda_fp16.h>

#include "backends/cuda/cuda-common.cuh"
#include "backends/cuda/cuda-extra.cuh"

namespace {

using pl_cuda::grid_for;

/* Comparison keys: float16 compares as float (the order is the same); integers as themselves. */
__device__ __forceinline__ float key(__half v) { return __half2float(v); }
__device__ __forceinline__ float key(float v) { return v; }
__device__ __forceinline__ int32_t key(int32_t v) { return v; }
__device__ __forceinline__ int64_t key(int64_t v) { return v; }
__device__ __forceinline__ bool isn(float v) { return v != v; }
__device__ __forceinline__ bool isn(int32_t) { return false; }
__device__ __forceinline__ bool isn(int64_t) { return false; }

__device__ __forceinline__ int64_t ldi(const void *p, pl_dtype t, int64_t i) {
    return t == PL_INT32 ? (int64_t)((const int32_t *)p)[i] : ((const int64_t *)p)[i];
}

/* ---- ArgMax / ArgMin ---- */

template <typename T>
__global__ void argk(const T *x, int64_t *y, int64_t outer, int64_t r, int64_t inner, bool max,
                     bool last) {
    int64_t n = outer * inner;
    for (int64_t u = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; u < n;
         u += (int64_t)gridDim.x * blockDim.x) {
        const T *p = x + (u / inner) * r * inner + u % inner;
        auto best = key(p[0]);
        int64_t bi = 0;
        for (int64_t k = 1; k < r; k++) {
            auto v = key(p[k * inner]);
            bool better = !isn(best) && (isn(v) || (max ? v > best : v < best));
            bool same = v == best || (isn(v) && isn(best));
            if (better || (same && last)) {
                best = v;
                bi = k;
            }
        }
        y[u] = bi;
    }
}

template <typename T>
cudaError_t argl(cudaStream_t s, const void *x, int64_t *y, int64_t outer, int64_t r,
                 int64_t inner, int max, int last) {
    argk<T><<<grid_for(outer * inner, 256), 256, 0, s>>>((const T *)x, y, outer, r, inner,
                                                         max != 0, last != 0);
    return cudaGetLastError();
}

/* ---- CumSum ---- */

/* Accumulators: float for float types (float16 rounds only on store, as the CPU converts its
 * float buffer at the end), double for float64, wrapping unsigned 64-bit for integers. */
template <typename T> struct acc { typedef float type; };
template <> struct acc<double> { typedef double type; };
template <> struct acc<int32_t> { typedef uint64_t type; };
template <> struct acc<int64_t> { typedef uint64_t type; };
__device__ __forceinline__ double toacc(double v, double) { return v; }
__device__ __forceinline__ void fromacc(double *p, double v) { *p = v; }
__device__ __forceinline__ float toacc(float v, float) { return v; }
__device__ __forceinline__ float toacc(__half v, float) { return __half2float(v); }
__device__ __forceinline__ uint64_t toacc(int32_t v, uint64_t) { return (uint64_t)(int64_t)v; }
__device__ __forceinline__ uint64_t toacc(int64_t v, uint64_t) { return (uint64_t)v; }
__device__ __forceinline__ void fromacc(float *p, float v) { *p = v; }
__device__ __forceinline__ void fromacc(__half *p, float v) { *p = __float2half_rn(v); }
__device__ __forceinline__ void fromacc(int32_t *p, uint64_t v) { *p = (int32_t)(uint32_t)v; }
__device__ __forceinline__ void fromacc(int64_t *p, uint64_t v) { *p = (int64_t)v; }

template <typename T>
__global__ void scank(const T *x, T *y, int64_t outer, int64_t r, int64_t inner, bool excl,
                      bool rev) {
    typedef typename acc<T>::type A;
    int64_t n = outer * inner;
    for (int64_t u = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; u < n;
         u += (int64_t)gridDim.x * blockDim.x) {
        int64_t base = (u / inner) * r * inner + u % inner;
        A sum = (A)0;
        for (int64_t k = 0; k < r; k++) {
            int64_t at = base + (rev ? r - 1 - k : k) * inner;
            A v = toacc(x[at], (A)0);
            if (excl) {
                fromacc(y + at, sum);
                sum = sum + v;
            } else {
                sum = sum + v;
                fromacc(y + at, sum);
            }
        }
    }
}

template <typename T>
cudaError_t scanl(cudaStream_t s, const void *x, void *y, int64_t outer, int64_t r,
                  int64_t inner, int excl, int rev) {
    scank<T><<<grid_for(outer * inner, 256), 256, 0, s>>>((const T *)x, (T *)y, outer, r, inner,
                                                          excl != 0, rev != 0);
    return cudaGetLastError();
}

/* ---- TopK: one block per row ranks every element against the row in shared memory ---- */

template <typename K>
__device__ __forceinline__ bool before(K ki, int64_t i, K kj, int64_t j, bool largest) {
    bool ni = isn(ki), nj = isn(kj);
    if (ki == kj || (ni && nj))
        return i < j;
    if (largest)
        return (ni && !nj) || (!ni && !nj && ki > kj);
    return (!ni && nj) || (!ni && !nj && ki < kj);
}

template <typename T>
__global__ void topkk(const T *x, T *vals, int64_t *idx, int64_t outer, int64_t n,
                      int64_t inner, int64_t k, bool largest) {
    typedef decltype(key(T())) K;
    extern __shared__ __align__(8) unsigned char smem[];
    K *sk = (K *)smem;
    for (int64_t row = blockIdx.x; row < outer * inner; row += gridDim.x) {
        int64_t o = row / inner, i = row % inner, base = o * n * inner + i;
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
            sk[j] = key(x[base + j * inner]);
        __syncthreads();
        for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
            K kj = sk[j];
            int64_t rank = 0;
            for (int64_t q = 0; q < n && rank < k; q++)
                rank += before(sk[q], q, kj, j, largest);
            if (rank < k) {
                int64_t at = (o * k + rank) * inner + i;
                vals[at] = x[base + j * inner];
                idx[at] = j;
            }
        }
        __syncthreads();
    }
}

template <typename T>
cudaError_t topkl(cudaStream_t s, const void *x, void *vals, int64_t *idx, int64_t outer,
                  int64_t n, int64_t inner, int64_t k, int largest) {
    typedef decltype(key(T())) K;
    int64_t rows = outer * inner;
    unsigned blocks = (unsigned)(rows < 65535 * 16 ? rows : 65535 * 16);
    topkk<T><<<blocks, 256, (size_t)n * sizeof(K), s>>>((const T *)x, (T *)vals, idx, outer, n,
                                                        inner, k, largest != 0);
    return cudaGetLastError();
}

/* ---- TopK over long rows: a stable radix sort (CUB) of order-preserving keys ----
 *
 * Each element becomes an unsigned key whose ascending order is the CPU's order (largest: NaN
 * first, then descending; smallest: ascending, NaN last), with -0 and +0 one key and every NaN
 * one key, paired with its index along the axis. CUB's radix sorts are stable, so equal keys
 * keep the lower index first, which is the CPU merge sort's tie rule. Rows with a stride
 * (inner > 1) are gathered into contiguous rows by the key pass. Few long rows are sorted one
 * at a time with DeviceRadixSort (all SMs on one row); many rows with DeviceSegmentedRadixSort. */

__device__ __forceinline__ uint32_t bigkey(float v, bool largest) {
    uint32_t u = v != v ? 0xFFFFFFFFu : v == 0.f ? 0x80000000u : __float_as_uint(v);
    if (v == v && v != 0.f)
        u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return largest ? ~u : u;
}
__device__ __forceinline__ uint32_t bigkey(__half h, bool largest) {
    uint32_t b = __half_as_ushort(h), u;
    if ((b & 0x7C00u) == 0x7C00u && (b & 0x3FFu))
        u = 0xFFFFu; /* NaN */
    else if ((b & 0x7FFFu) == 0)
        u = 0x8000u; /* -0 is +0 */
    else
        u = (b & 0x8000u) ? (~b & 0xFFFFu) : (b | 0x8000u);
    return largest ? u ^ 0xFFFFu : u;
}
__device__ __forceinline__ uint32_t bigkey(int32_t v, bool largest) {
    uint32_t u = (uint32_t)v ^ 0x80000000u;
    return largest ? ~u : u;
}
__device__ __forceinline__ uint64_t bigkey(int64_t v, bool largest) {
    uint64_t u = (uint64_t)v ^ 0x8000000000000000ull;
    return largest ? ~u : u;
}

/* Key type and significant bits per storage type (float16 keys use the low 16 bits). */
template <typename T> struct bigk { typedef uint32_t type; static const int bits = 32; };
template <> struct bigk<__half> { typedef uint32_t type; static const int bits = 16; };
template <> struct bigk<int64_t> { typedef uint64_t type; static const int bits = 64; };

template <typename T, typename K>
__global__ void bigprep(const T *__restrict__ x, K *__restrict__ keys, int *__restrict__ ids,
                        int64_t rows, int64_t n, int64_t inner, bool largest) {
    int64_t total = rows * n;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t row = e / n, j = e - row * n, o = row / inner, i = row - o * inner;
        keys[e] = bigkey(x[(o * n + j) * inner + i], largest);
        ids[e] = (int)j;
    }
}

__global__ void bigoffsets(int *off, int64_t rows, int64_t n) {
    for (int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; r <= rows;
         r += (int64_t)gridDim.x * blockDim.x)
        off[r] = (int)(r * n);
}

template <typename T>
__global__ void biggather(const T *__restrict__ x, const int *__restrict__ ids,
                          T *__restrict__ vals, int64_t *__restrict__ idx, int64_t rows,
                          int64_t n, int64_t inner, int64_t k) {
    int64_t total = rows * k;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < total;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t row = e / k, r = e - row * k, o = row / inner, i = row - o * inner;
        int64_t j = ids[row * n + r], at = (o * k + r) * inner + i;
        vals[at] = x[(o * n + j) * inner + i];
        idx[at] = j;
    }
}

static size_t bigal(size_t v) { return (v + 255) & ~(size_t)255; }

/* Few long rows: one device-wide sort per row. */
static bool big_per_row(int64_t rows, int64_t n) { return rows == 1 || (rows <= 64 && n >= 65536); }

/* Workspace layout: keys A/B, ids A/B (rows * n each), segment offsets, CUB's scratch. */
typedef struct biglay {
    size_t keys_a, keys_b, ids_a, ids_b, offs, temp, temp_bytes, total;
} biglay;

/* CUB's scratch for either strategy. */
template <typename T> static cudaError_t bigtemp(int64_t rows, int64_t n, bool per_row, size_t *b) {
    typedef typename bigk<T>::type K;
    cub::DoubleBuffer<K> dk(NULL, NULL);
    cub::DoubleBuffer<int> dv(NULL, NULL);
    *b = 0;
    if (per_row)
        return cub::DeviceRadixSort::SortPairs(NULL, *b, dk, dv, (int)n, 0, bigk<T>::bits);
    return cub::DeviceSegmentedRadixSort::SortPairs(NULL, *b, dk, dv, (int)(rows * n), (int)rows,
                                                    (const int *)NULL, (const int *)NULL, 0,
                                                    bigk<T>::bits);
}

/* sizing: scratch for both strategies, since a run at smaller shapes may pick the other one */
template <typename T>
static cudaError_t biglayout(int64_t rows, int64_t n, bool sizing, biglay *L) {
    typedef typename bigk<T>::type K;
    size_t nn = (size_t)(rows * n), kb = bigal(nn * sizeof(K)), ib = bigal(nn * sizeof(int));
    size_t other = 0;
    cudaError_t e;
    L->keys_a = 0;
    L->keys_b = kb;
    L->ids_a = 2 * kb;
    L->ids_b = 2 * kb + ib;
    L->offs = 2 * kb + 2 * ib;
    L->temp = L->offs + bigal((size_t)(rows + 1) * sizeof(int));
    if ((e = bigtemp<T>(rows, n, big_per_row(rows, n), &L->temp_bytes)))
        return e;
    if (sizing && (e = bigtemp<T>(rows, n, !big_per_row(rows, n), &other)))
        return e;
    L->total = L->temp + bigal(L->temp_bytes > other ? L->temp_bytes : other);
    return cudaSuccess;
}

template <typename T>
cudaError_t bigl(cudaStream_t s, const void *x, void *vals, int64_t *idx, int64_t outer,
                 int64_t n, int64_t inner, int64_t k, int largest, void *ws, size_t ws_size) {
    typedef typename bigk<T>::type K;
    int64_t rows = outer * inner;
    biglay L;
    char *w = (char *)ws;
    cudaError_t e = biglayout<T>(rows, n, false, &L);
    if (e)
        return e;
    if (!ws || L.total > ws_size)
        return cudaErrorInvalidValue;
    K *ka = (K *)(w + L.keys_a), *kb = (K *)(w + L.keys_b);
    int *ia = (int *)(w + L.ids_a), *ib = (int *)(w + L.ids_b), *sorted = NULL;
    bigprep<T, K><<<grid_for(rows * n, 256, 4), 256, 0, s>>>((const T *)x, ka, ia, rows, n, inner,
                                                             largest != 0);
    if ((e = cudaGetLastError()))
        return e;
    if (big_per_row(rows, n)) {
        for (int64_t r = 0; r < rows; r++) {
            cub::DoubleBuffer<K> dk(ka + r * n, kb + r * n);
            cub::DoubleBuffer<int> dv(ia + r * n, ib + r * n);
            size_t tb = L.temp_bytes;
            if ((e = cub::DeviceRadixSort::SortPairs(w + L.temp, tb, dk, dv, (int)n, 0,
                                                     bigk<T>::bits, s)))
                return e;
            if (r == 0)
                sorted = dv.selector ? ib : ia;
            /* the result buffer follows from the pass count, the same for every row; copied
             * over should a row ever land in the other one */
            if (dv.Current() != sorted + r * n &&
                (e = cudaMemcpyAsync(sorted + r * n, dv.Current(), (size_t)n * sizeof(int),
                                     cudaMemcpyDeviceToDevice, s)))
                return e;
        }
    } else {
        int *off = (int *)(w + L.offs);
        cub::DoubleBuffer<K> dk(ka, kb);
        cub::DoubleBuffer<int> dv(ia, ib);
        size_t tb = L.temp_bytes;
        bigoffsets<<<grid_for(rows + 1, 256), 256, 0, s>>>(off, rows, n);
        if ((e = cudaGetLastError()) ||
            (e = cub::DeviceSegmentedRadixSort::SortPairs(w + L.temp, tb, dk, dv, (int)(rows * n),
                                                          (int)rows, (const int *)off,
                                                          (const int *)off + 1, 0,
                                                          bigk<T>::bits, s)))
            return e;
        sorted = dv.Current();
    }
    biggather<T><<<grid_for(rows * k, 256), 256, 0, s>>>((const T *)x, sorted, (T *)vals, idx,
                                                         rows, n, inner, k);
    return cudaGetLastError();
}

template <typename T>
cudaError_t bigws(int64_t rows, int64_t n, bool sizing, size_t *bytes) {
    biglay L;
    cudaError_t e = biglayout<T>(rows, n, sizing, &L);
    *bytes = e ? 0 : L.total;
    return e;
}

/* ---- GatherElements / ScatterElements ---- */

/* The data offset (elements) of indices position p with the axis coordinate replaced by v. */
__device__ __forceinline__ int64_t elem_off(const pl__cu_elem &g, int64_t p, int64_t v) {
    int64_t off = 0;
    for (int d = g.rank - 1; d >= 0; d--) {
        int64_t c = p % g.idims[d];
        p /= g.idims[d];
        off += (d == g.axis ? v : c) * g.xst[d];
    }
    return off;
}

template <typename U>
__global__ void gelk(const U *x, const void *idx, pl_dtype it, U *y, pl__cu_elem g, int64_t n,
                     int *flag) {
    for (int64_t p = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; p < n;
         p += (int64_t)gridDim.x * blockDim.x) {
        int64_t v = ldi(idx, it, p);
        if (v < 0)
            v += g.axis_dim;
        if (v < 0 || v >= g.axis_dim) {
            y[p] = (U)0;
            *flag = 1;
            continue;
        }
        y[p] = x[elem_off(g, p, v)];
    }
}

template <typename U>
cudaError_t gell(cudaStream_t s, const void *x, const void *idx, pl_dtype it, void *y,
                 const pl__cu_elem *g, int *flag) {
    int64_t n = 1;
    for (int d = 0; d < g->rank; d++)
        n *= g->idims[d];
    if (n == 0)
        return cudaSuccess;
    gelk<U><<<grid_for(n, 256), 256, 0, s>>>((const U *)x, idx, it, (U *)y, *g, n, flag);
    return cudaGetLastError();
}

/* Reductions as the CPU computes them (u the update, v the current value). */
__device__ __forceinline__ float red_f(int red, float v, float u) {
    return red == 1 ? v + u : red == 2 ? v * u : red == 3 ? (u > v ? u : v) : (u < v ? u : v);
}
__device__ __forceinline__ int64_t red_i(int red, int64_t v, int64_t u) {
    return red == 1   ? (int64_t)((uint64_t)u + (uint64_t)v)
           : red == 2 ? (int64_t)((uint64_t)u * (uint64_t)v)
           : red == 3 ? (u > v ? u : v)
                      : (u < v ? u : v);
}
__device__ __forceinline__ void apply(float *y, int64_t at, float u, int red) {
    y[at] = red ? red_f(red, y[at], u) : u;
}
__device__ __forceinline__ void apply(__half *y, int64_t at, __half u, int red) {
    y[at] = red ? __float2half_rn(red_f(red, __half2float(y[at]), __half2float(u))) : u;
}
__device__ __forceinline__ void apply(int32_t *y, int64_t at, int32_t u, int red) {
    y[at] = red ? (int32_t)red_i(red, y[at], u) : u;
}
__device__ __forceinline__ void apply(int64_t *y, int64_t at, int64_t u, int red) {
    y[at] = red ? red_i(red, y[at], u) : u;
}
/* red 0 on any type: raw copy via an unsigned type of the same size */
__device__ __forceinline__ void apply(uint8_t *y, int64_t at, uint8_t u, int) { y[at] = u; }
__device__ __forceinline__ void apply(uint16_t *y, int64_t at, uint16_t u, int) { y[at] = u; }
__device__ __forceinline__ void apply(uint32_t *y, int64_t at, uint32_t u, int) { y[at] = u; }
__device__ __forceinline__ void apply(uint64_t *y, int64_t at, uint64_t u, int) { y[at] = u; }

template <typename T>
__global__ void scak(const void *idx, pl_dtype it, const T *upd, T *y, pl__cu_elem g,
                     int64_t lines, int red, int *flag) {
    int64_t na = g.idims[g.axis], after = 1;
    for (int d = g.axis + 1; d < g.rank; d++)
        after *= g.idims[d];
    for (int64_t l = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; l < lines;
         l += (int64_t)gridDim.x * blockDim.x) {
        /* line l = (before, after) coordinates; positions along the axis in order */
        int64_t p0 = (l / after) * na * after + l % after;
        for (int64_t a = 0; a < na; a++) {
            int64_t p = p0 + a * after, v = ldi(idx, it, p);
            if (v < 0)
                v += g.axis_dim;
            if (v < 0 || v >= g.axis_dim) {
                *flag = 1;
                continue;
            }
            apply(y, elem_off(g, p, v), upd[p], red);
        }
    }
}

template <typename T>
cudaError_t scal(cudaStream_t s, const void *idx, pl_dtype it, const void *upd, void *y,
                 const pl__cu_elem *g, int red, int *flag) {
    int64_t n = 1;
    for (int d = 0; d < g->rank; d++)
        n *= g->idims[d];
    if (n == 0)
        return cudaSuccess;
    int64_t lines = n / g->idims[g->axis];
    scak<T><<<grid_for(lines, 128), 128, 0, s>>>(idx, it, (const T *)upd, (T *)y, *g, lines, red,
                                                 flag);
    return cudaGetLastError();
}

/* ---- OneHot ---- */

template <typename U>
__global__ void onek(const void *idx, pl_dtype it, const U *vals, U *y, int64_t outer,
                     int64_t depth, int64_t inner) {
    int64_t n = outer * depth * inner;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t i = e % inner, d = (e / inner) % depth, o = e / (inner * depth);
        int64_t at = o * inner + i, v;
        if (it == PL_FLOAT32)
            v = (int64_t)((const float *)idx)[at];
        else
            v = ldi(idx, it, at);
        if (v < 0)
            v += depth;
        y[e] = vals[v == d ? 1 : 0];
    }
}

template <typename U>
cudaError_t onel(cudaStream_t s, const void *idx, pl_dtype it, const void *vals, void *y,
                 int64_t outer, int64_t depth, int64_t inner) {
    int64_t n = outer * depth * inner;
    if (n == 0)
        return cudaSuccess;
    onek<U><<<grid_for(n, 256), 256, 0, s>>>(idx, it, (const U *)vals, (U *)y, outer, depth,
                                             inner);
    return cudaGetLastError();
}

/* ---- NonZero ---- */

template <typename U> __device__ __forceinline__ bool nz(U v, bool flt) {
    const U sign = (U)((U)1 << (sizeof(U) * 8 - 1));
    return (flt ? (U)(v & (U)~sign) : v) != 0;
}

template <typename U>
__global__ void nzcount(const U *x, int64_t n, bool flt, unsigned long long *cnt) {
    unsigned long long c = 0;
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n;
         e += (int64_t)gridDim.x * blockDim.x)
        c += nz(x[e], flt);
    if (c)
        atomicAdd(cnt, c);
}

/* One block of NZ_T threads: chunk by chunk, an inclusive scan of the flags in shared memory
 * gives each nonzero its place, so the output keeps the input's order. */
#define NZ_T 1024
struct nz_dims {
    int rank;
    int64_t d[8];
};

template <typename U>
__global__ void nzwrite(const U *x, int64_t n, bool flt, nz_dims g, int64_t nnz, int64_t *y) {
    __shared__ int sc[NZ_T];
    int64_t total = 0;
    int t = threadIdx.x;
    for (int64_t base = 0; base < n; base += NZ_T) {
        int64_t e = base + t;
        int f = e < n && nz(x[e], flt);
        sc[t] = f;
        __syncthreads();
        for (int off = 1; off < NZ_T; off *= 2) {
            int v = t >= off ? sc[t - off] : 0;
            __syncthreads();
            sc[t] += v;
            __syncthreads();
        }
        if (f) {
            int64_t pos = total + sc[t] - 1, rem = e;
            if (g.rank == 0)
                y[pos] = 0;
            for (int k = g.rank - 1; k >= 0; k--) {
                y[k * nnz + pos] = rem % g.d[k];
                rem /= g.d[k];
            }
        }
        total += sc[NZ_T - 1];
        __syncthreads();
    }
}

template <typename U>
cudaError_t nzl(cudaStream_t s, const void *x, int rank, const int64_t *dims, int64_t *y,
                unsigned long long *cnt, int64_t *nnz, int is_float) {
    int64_t n = 1;
    nz_dims g;
    unsigned long long hc = 0;
    cudaError_t e;
    g.rank = rank;
    for (int k = 0; k < rank; k++) {
        g.d[k] = dims[k];
        n *= dims[k];
    }
    *nnz = 0;
    if (n == 0)
        return cudaSuccess;
    if ((e = cudaMemsetAsync(cnt, 0, sizeof(*cnt), s)))
        return e;
    nzcount<U><<<grid_for(n, 256), 256, 0, s>>>((const U *)x, n, is_float != 0, cnt);
    if ((e = cudaGetLastError()) ||
        (e = cudaMemcpyAsync(&hc, cnt, sizeof(hc), cudaMemcpyDeviceToHost, s)) ||
        (e = cudaStreamSynchronize(s)))
        return e;
    *nnz = (int64_t)hc;
    if (hc == 0)
        return cudaSuccess;
    nzwrite<U><<<1, NZ_T, 0, s>>>((const U *)x, n, is_float != 0, g, *nnz, y);
    return cudaGetLastError();
}

} // namespace

#define PL__NUM_DISPATCH(t, F, ...)                                                                \
    ((t) == PL_FLOAT32   ? F<float>(__VA_ARGS__)                                                   \
     : (t) == PL_FLOAT16 ? F<__half>(__VA_ARGS__)                                                  \
     : (t) == PL_INT32   ? F<int32_t>(__VA_ARGS__)                                                 \
     : (t) == PL_INT64   ? F<int64_t>(__VA_ARGS__)                                                 \
                         : cudaErrorInvalidValue)

#define PL__SIZE_DISPATCH(es, F, ...)                                                              \
    ((es) == 1   ? F<uint8_t>(__VA_ARGS__)                                                         \
     : (es) == 2 ? F<uint16_t>(__VA_ARGS__)                                                        \
     : (es) == 4 ? F<uint32_t>(__VA_ARGS__)                                                        \
     : (es) == 8 ? F<uint64_t>(__VA_ARGS__)                                                        \
                 : cudaErrorInvalidValue)

extern "C" cudaError_t pl__cu_argminmax(cudaStream_t s, pl_dtype t, const void *x, int64_t *y,
                                        int64_t outer, int64_t r, int64_t inner, int max,
                                        int last) {
    if (outer * inner == 0 || r <= 0)
        return cudaSuccess;
    return PL__NUM_DISPATCH(t, argl, s, x, y, outer, r, inner, max, last);
}

extern "C" cudaError_t pl__cu_cumsum(cudaStream_t s, pl_dtype t, const void *x, void *y,
                                     int64_t outer, int64_t r, int64_t inner, int exclusive,
                                     int reverse) {
    if (outer * r * inner == 0)
        return cudaSuccess;
    if (t == PL_FLOAT64)
        return scanl<double>(s, x, y, outer, r, inner, exclusive, reverse);
    return PL__NUM_DISPATCH(t, scanl, s, x, y, outer, r, inner, exclusive, reverse);
}

extern "C" cudaError_t pl__cu_topk(cudaStream_t s, pl_dtype t, const void *x, void *vals,
                                   int64_t *idx, int64_t outer, int64_t n, int64_t inner,
                                   int64_t k, int largest) {
    if (k <= 0 || outer * inner == 0)
        return cudaSuccess;
    if (n > PL__CU_TOPK_MAX || k > n)
        return cudaErrorInvalidValue;
    return PL__NUM_DISPATCH(t, topkl, s, x, vals, idx, outer, n, inner, k, largest);
}

/* Sizes checked here so that the int offsets CUB is given cannot overflow. */
static bool big_fits(int64_t outer, int64_t n, int64_t inner) {
    return outer > 0 && n > 0 && inner > 0 && outer <= INT32_MAX / n &&
           outer * n <= INT32_MAX / inner;
}

extern "C" cudaError_t pl__cu_topk_big_workspace(pl_dtype t, int64_t outer, int64_t n,
                                                 int64_t inner, int sizing, size_t *bytes) {
    *bytes = 0;
    if (outer * inner == 0 || n <= PL__CU_TOPK_MAX)
        return cudaSuccess;
    if (!big_fits(outer, n, inner))
        return cudaErrorInvalidValue;
    return PL__NUM_DISPATCH(t, bigws, outer * inner, n, sizing != 0, bytes);
}

extern "C" cudaError_t pl__cu_topk_big(cudaStream_t s, pl_dtype t, const void *x, void *vals,
                                       int64_t *idx, int64_t outer, int64_t n, int64_t inner,
                                       int64_t k, int largest, void *ws, size_t ws_size) {
    if (k <= 0 || outer * inner == 0)
        return cudaSuccess;
    if (k > n || !big_fits(outer, n, inner))
        return cudaErrorInvalidValue;
    return PL__NUM_DISPATCH(t, bigl, s, x, vals, idx, outer, n, inner, k, largest, ws, ws_size);
}

extern "C" cudaError_t pl__cu_gather_elements(cudaStream_t s, size_t es, const void *x,
                                              const void *idx, pl_dtype it, void *y,
                                              const pl__cu_elem *g, int *flag) {
    return PL__SIZE_DISPATCH(es, gell, s, x, idx, it, y, g, flag);
}

extern "C" cudaError_t pl__cu_scatter_elements(cudaStream_t s, pl_dtype t, const void *idx,
                                               pl_dtype it, const void *upd, void *y,
                                               const pl__cu_elem *g, int red, int *flag) {
    if (red != 0)
        return PL__NUM_DISPATCH(t, scal, s, idx, it, upd, y, g, red, flag);
    switch (pl_dtype_size(t)) {
    case 1: return scal<uint8_t>(s, idx, it, upd, y, g, 0, flag);
    case 2: return scal<uint16_t>(s, idx, it, upd, y, g, 0, flag);
    case 4: return scal<uint32_t>(s, idx, it, upd, y, g, 0, flag);
    case 8: return scal<uint64_t>(s, idx, it, upd, y, g, 0, flag);
    default: return cudaErrorInvalidValue;
    }
}

extern "C" cudaError_t pl__cu_onehot(cudaStream_t s, size_t es, const void *idx, pl_dtype it,
                                     const void *vals, void *y, int64_t outer, int64_t depth,
                                     int64_t inner) {
    return PL__SIZE_DISPATCH(es, onel, s, idx, it, vals, y, outer, depth, inner);
}

extern "C" cudaError_t pl__cu_nonzero(cudaStream_t s, size_t es, int is_float, const void *x,
                                      int rank, const int64_t *dims, int64_t *y,
                                      unsigned long long *cnt, int64_t *nnz) {
    if (rank < 0 || rank > 8)
        return cudaErrorInvalidValue;
    return PL__SIZE_DISPATCH(es, nzl, s, x, rank, dims, y, cnt, nnz, is_float);
}
