/*
 * cuda-kernels.cu - the CUDA launchers of cuda-plugins.c. Each launches on c->stream (the
 * execution context's stream) and reports launch errors through pl_error.
 */
#include <cuda_runtime.h>

#include "plinth/plugin.h"

__global__ void pl_test_scale_k(const float *x, float *y, long long n, float a) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i] * a;
}

__global__ void pl_test_double_k(float *x, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        x[i] *= 2.f;
}

/* one thread keeps the order simple; the count goes to device memory, read by the host */
__global__ void pl_test_positive_k(const float *x, float *y, int *count, long long n) {
    int k = 0;
    for (long long i = 0; i < n; i++)
        if (x[i] > 0.f)
            y[k++] = x[i];
    *count = k;
}

static int pl_test_launched(pl_ctx *c) {
    cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? 0 : pl_error(c, "launch failed: %s", cudaGetErrorString(e));
}

extern "C" int pl_test_scale_cuda(pl_ctx *c) {
    long long n = pl_numel(&c->in[0]);
    if (n)
        pl_test_scale_k<<<(unsigned)((n + 255) / 256), 256, 0, (cudaStream_t)c->stream>>>(
            (const float *)c->in[0].data, (float *)c->out[0].data, n, (float)pl_get_float(c, "alpha"));
    return pl_test_launched(c);
}

extern "C" int pl_test_double_cuda(pl_ctx *c) {
    long long n = pl_numel(&c->in[0]);
    if (n)
        pl_test_double_k<<<(unsigned)((n + 255) / 256), 256, 0, (cudaStream_t)c->stream>>>(
            (float *)c->in[0].data, n);
    return pl_test_launched(c);
}

extern "C" int pl_test_positive_cuda(pl_ctx *c) {
    pl_test_positive_k<<<1, 1, 0, (cudaStream_t)c->stream>>>(
        (const float *)c->in[0].data, (float *)c->out[0].data, (int *)c->out[1].data,
        (long long)pl_numel(&c->in[0]));
    return pl_test_launched(c);
}
