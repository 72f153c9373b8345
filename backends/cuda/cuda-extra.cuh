/*
 * cuda-extra.cuh - launchers of cuda-extra.cu: the index-valued and scatter/gather ops that used
 * to fall back to the CPU inside CUDA engines (ArgMax/ArgMin, TopK, CumSum, GatherElements,
 * ScatterElements, OneHot, NonZero). Views are [outer, r, inner] around one axis. C linkage.
 */
#ifndef PL_CUDA_EXTRA_CUH
#define PL_CUDA_EXTRA_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "plinth/plinth.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest TopK extent the per-row kernel handles (one block ranks a row in shared memory);
 * longer rows go through pl__cu_topk_big. */
#define PL__CU_TOPK_MAX 4096

/* y[o, i] = index of the max (min) of x[o, :, i]; NaN is the extreme, ties keep the first index
 * (the last with `last`). t: float32, float16, int32 or int64. */
cudaError_t pl__cu_argminmax(cudaStream_t s, pl_dtype t, const void *x, int64_t *y,
                             int64_t outer, int64_t r, int64_t inner, int max, int last);

/* Running sums along the axis in the element type, sequential per (o, i) so the result matches
 * the CPU's order of additions exactly. t: float32, float16, float64, int32 or int64. */
cudaError_t pl__cu_cumsum(cudaStream_t s, pl_dtype t, const void *x, void *y, int64_t outer,
                          int64_t r, int64_t inner, int exclusive, int reverse);

/* The k largest (smallest) of each x[o, :, i] (n <= PL__CU_TOPK_MAX), sorted, equal keys lower
 * index first, NaN the largest: vals [outer, k, inner] (exact bytes), idx int64 likewise. */
cudaError_t pl__cu_topk(cudaStream_t s, pl_dtype t, const void *x, void *vals, int64_t *idx,
                        int64_t outer, int64_t n, int64_t inner, int64_t k, int largest);

/* The same for rows longer than PL__CU_TOPK_MAX: a stable radix sort (CUB) of each row in the
 * scratch memory ws (ws_size bytes, 256-byte aligned). outer * n * inner must fit in int32.
 * pl__cu_topk_big_workspace gives the bytes this run needs (0 when n <= PL__CU_TOPK_MAX), or
 * with `sizing` the bytes that also cover any smaller shape (the plan's workspace, from the max
 * shapes); it launches nothing. */
cudaError_t pl__cu_topk_big_workspace(pl_dtype t, int64_t outer, int64_t n, int64_t inner,
                                      int sizing, size_t *bytes);
cudaError_t pl__cu_topk_big(cudaStream_t s, pl_dtype t, const void *x, void *vals, int64_t *idx,
                            int64_t outer, int64_t n, int64_t inner, int64_t k, int largest,
                            void *ws, size_t ws_size);

/* GatherElements / ScatterElements geometry: the indices' dims, the data's element strides,
 * the axis and the data's extent along it. */
typedef struct pl__cu_elem {
    int rank, axis;
    int64_t idims[8], xst[8];
    int64_t axis_dim;
} pl__cu_elem;

/* y[p] = x[coords of p with the axis coordinate replaced by idx[p]]; an out-of-range index writes
 * zero and raises *flag. */
cudaError_t pl__cu_gather_elements(cudaStream_t s, size_t es, const void *x, const void *idx,
                                   pl_dtype it, void *y, const pl__cu_elem *g, int *flag);

/* y (already a copy of the data) updated at the indexed places with upd; red 0 none, 1 add,
 * 2 mul, 3 max, 4 min. Updates that meet at one place apply in the indices' order (one thread
 * per line along the axis). Out-of-range indices are skipped and raise *flag. t: float32,
 * float16, int32, int64 (none: any 1/2/4/8-byte type). */
cudaError_t pl__cu_scatter_elements(cudaStream_t s, pl_dtype t, const void *idx, pl_dtype it,
                                    const void *upd, void *y, const pl__cu_elem *g, int red,
                                    int *flag);

/* y [outer, depth, inner] = vals[1] where idx[o, i] (negative counts from the end) equals the
 * depth coordinate, else vals[0]; vals is a device pair of es-byte values. */
cudaError_t pl__cu_onehot(cudaStream_t s, size_t es, const void *idx, pl_dtype it,
                          const void *vals, void *y, int64_t outer, int64_t depth, int64_t inner);

/* NonZero: coordinates of the nonzero elements of x (n elements of es bytes, dims[0..rank)),
 * written as [max(rank, 1), nnz] int64 rows at stride nnz, in row-major order. is_float: the
 * sign bit does not count (-0 is zero, NaN nonzero). Counts first into the device counter `cnt`
 * (8 bytes of scratch), reads the count back (synchronising the stream), then writes with one
 * block scanning the input in order. */
cudaError_t pl__cu_nonzero(cudaStream_t s, size_t es, int is_float, const void *x, int rank,
                           const int64_t *dims, int64_t *y, unsigned long long *cnt,
                           int64_t *nnz);

#ifdef __cplusplus
}
#endif

#endif
