/*
 * cuda-einsum.cu - the generic Einsum kernel: one thread per output element walks the box of
 * contracted indices and sums the products of the inputs, accumulating in float32. Meant for
 * correctness on any equation (diagonals, traces, outer products, up to 8 operands), not speed.
 */
#include "backends/cuda/cuda-common.cuh"
#include "backends/cuda/cuda-einsum.cuh"

namespace {

struct ptrs {
    const void *p[PL__CU_EIN_MAX_IN];
};

template <typename T>
__global__ void einsum_k(ptrs x, T *y, int64_t numel, pl__cu_einsum p) {
    for (int64_t o = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; o < numel;
         o += (int64_t)gridDim.x * blockDim.x) {
        int64_t base[PL__CU_EIN_MAX_IN], rem = o, idx[PL__CU_EIN_MAX_SUM], off[PL__CU_EIN_MAX_IN];
        int64_t total = 1;
        float acc = 0.f;
        for (int k = 0; k < p.nin; k++)
            base[k] = 0;
        for (int j = p.orank - 1; j >= 0; j--) {
            int64_t i = rem % p.odim[j];
            rem /= p.odim[j];
            for (int k = 0; k < p.nin; k++)
                base[k] += i * p.ost[k][j];
        }
        for (int j = 0; j < p.nsum; j++) {
            idx[j] = 0;
            total *= p.sdim[j];
        }
        for (int k = 0; k < p.nin; k++)
            off[k] = base[k];
        for (int64_t t = 0; t < total; t++) {
            float v = 1.f;
            for (int k = 0; k < p.nin; k++)
                v *= pl_cuda::ld((const T *)x.p[k], off[k]);
            acc += v;
            /* odometer step over the contracted labels, last fastest */
            for (int j = p.nsum - 1; j >= 0; j--) {
                idx[j]++;
                for (int k = 0; k < p.nin; k++)
                    off[k] += p.sst[k][j];
                if (idx[j] < p.sdim[j])
                    break;
                for (int k = 0; k < p.nin; k++)
                    off[k] -= idx[j] * p.sst[k][j];
                idx[j] = 0;
            }
        }
        pl_cuda::st(y, o, acc);
    }
}

template <typename T>
cudaError_t launch(cudaStream_t s, const void *const *x, void *y, int64_t numel,
                   const pl__cu_einsum *p) {
    ptrs xs;
    if (numel <= 0)
        return cudaSuccess;
    if (p->nin < 1 || p->nin > PL__CU_EIN_MAX_IN || p->orank > 8 || p->nsum > PL__CU_EIN_MAX_SUM)
        return cudaErrorInvalidValue;
    for (int k = 0; k < PL__CU_EIN_MAX_IN; k++)
        xs.p[k] = k < p->nin ? x[k] : nullptr;
    einsum_k<T><<<pl_cuda::grid_for(numel, 256), 256, 0, s>>>(xs, (T *)y, numel, *p);
    return cudaGetLastError();
}

} // namespace

extern "C" cudaError_t pl__cu_einsum_generic(cudaStream_t s, pl_dtype t, const void *const *x,
                                             void *y, int64_t numel, const pl__cu_einsum *p) {
    return PL__CU_FLOAT_DISPATCH(t, launch, s, x, y, numel, p);
}
