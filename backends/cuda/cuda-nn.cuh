/*
 * cuda-nn.cuh - launchers of the nn device code (cuda-nn.cu): depthwise convolution, pooling,
 * batch and layer normalization, softmax, and reductions. Float storage (float32 or float16);
 * every accumulation is in float32, except the float64 softmax and Gemm C term, which stay in
 * float64. Also the crop copy of ConvTranspose. C linkage, plain structs.
 */
#ifndef PL_CUDA_NN_CUH
#define PL_CUDA_NN_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "plinth/plinth.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A sliding window over 3 spatial dims (1-D and 2-D ops have leading extents of 1). */
typedef struct pl__cu_win {
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
} pl__cu_win;

/* Depthwise 2-D conv (group == C == M): x [N, C, in1, in2], w [C, 1, k1, k2] (the window's dims
 * 1 and 2; dim 0 must be 1), y [N, C, out1, out2]; y = act(conv + bias[c] + res). bias (type bt)
 * and res may be NULL. */
cudaError_t pl__cu_dwconv(cudaStream_t s, pl_dtype t, const void *x, const void *w,
                          const void *bias, pl_dtype bt, const void *res, void *y, int64_t n,
                          int64_t c, const pl__cu_win *win, int act, float alpha, float beta);

/* MaxPool / AveragePool over planes of [planes, in...] -> [planes, out...]. ind (int64, may be
 * NULL) receives MaxPool's flat indices (storage_order col_major when set). */
cudaError_t pl__cu_pool(cudaStream_t s, pl_dtype t, const void *x, void *y, int64_t *ind,
                        int64_t planes, const pl__cu_win *win, int is_max, int include_pad,
                        int col_major);

/* GlobalAveragePool / GlobalMaxPool: y[p] = mean or max of x[p, 0..sp). */
cudaError_t pl__cu_global_pool(cudaStream_t s, pl_dtype t, const void *x, void *y, int64_t planes,
                               int64_t sp, int is_max);

/* BatchNormalization (inference) on [n, c, sp]: y = act(scale*(x-mean)/sqrt(var+eps) + bias);
 * the four parameter vectors have type pt. */
cudaError_t pl__cu_batchnorm(cudaStream_t s, pl_dtype t, const void *x, void *y,
                             const void *scale, const void *bias, const void *mean,
                             const void *var, pl_dtype pt, float eps, int64_t n, int64_t c,
                             int64_t sp, int act, float alpha, float beta);

/* Softmax / LogSoftmax of [outer, r, inner] along r; float32/float16 accumulate in float32,
 * float64 in float64. */
cudaError_t pl__cu_softmax(cudaStream_t s, pl_dtype t, const void *x, void *y, int64_t outer,
                           int64_t r, int64_t inner, int log);

/* LayerNormalization of rows [rows, inner]: scale/bias (type pt, bias may be NULL) have inner
 * elements; mean/istd (float32, may be NULL) get one value per row. */
cudaError_t pl__cu_layernorm(cudaStream_t s, pl_dtype t, const void *x, void *y,
                             const void *scale, const void *bias, pl_dtype pt, float *mean,
                             float *istd, int64_t rows, int64_t inner, float eps);

/* Reduce ops (codes as pl__cu_reduce's op). */
enum {
    PL__RED_SUM = 0, PL__RED_MEAN, PL__RED_MAX, PL__RED_MIN, PL__RED_PROD, PL__RED_L1, PL__RED_L2,
    PL__RED_SUMSQ, PL__RED_LOGSUM, PL__RED_LSE
};
/* Reduces [outer, r, inner] along r into [outer, inner]. */
cudaError_t pl__cu_reduce(cudaStream_t s, int op, pl_dtype t, const void *x, void *y,
                          int64_t outer, int64_t r, int64_t inner);

/* Channels-last variants (tensors stored [N, H, W, C]; 2-D windows, dim 0 of win is 1):
 * depthwise conv with the weights of pl__cu_dwconv, and MaxPool / AveragePool without indices. */
cudaError_t pl__cu_dwconv_nhwc(cudaStream_t s, pl_dtype t, const void *x, const void *w,
                               const void *bias, pl_dtype bt, const void *res, void *y, int64_t n,
                               int64_t c, const pl__cu_win *win, int act, float alpha, float beta);
cudaError_t pl__cu_pool_nhwc(cudaStream_t s, pl_dtype t, const void *x, void *y, int64_t n,
                             int64_t c, const pl__cu_win *win, int is_max, int include_pad);
/* Keeps the stream busy for about `cycles` GPU clocks (one thread). */
cudaError_t pl__cu_spin(cudaStream_t s, long long cycles);

/* GlobalAveragePool / GlobalMaxPool of [N, sp, C] (channels-last) into [N, C]. */
cudaError_t pl__cu_global_pool_nhwc(cudaStream_t s, pl_dtype t, const void *x, void *y, int64_t n,
                                    int64_t c, int64_t sp, int is_max);

/* A crop (or zero-padding) copy of 3-D planes: y[p, o0, o1, o2] = z[p, o0 + off0, o1 + off1,
 * o2 + off2] where that lies inside z's in[] extents, else 0 (ConvTranspose's full output cut to
 * its pads; negative offsets pad at the start). */
typedef struct pl__cu_crop_geom {
    int64_t in[3], out[3], off[3];
} pl__cu_crop_geom;
/* es: element bytes (2, 4 or 8: the bits are moved, whatever the float type). */
cudaError_t pl__cu_crop(cudaStream_t s, size_t es, const void *z, void *y, int64_t planes,
                        const pl__cu_crop_geom *c);

/* Gemm's C term in float64: y[i, j] = beta * C broadcast from [cm, cn] (cm in {1, m}, cn in
 * {1, n}). */
cudaError_t pl__cu_gemm_c_f64(cudaStream_t s, void *y, int64_t m, int64_t n, const void *c,
                              int64_t cm, int64_t cn, double beta);

#ifdef __cplusplus
}
#endif

#endif
