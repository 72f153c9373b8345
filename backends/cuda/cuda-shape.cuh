/*
 * cuda-shape.cuh - launchers of the data-movement device code (cuda-shape.cu): one strided copy
 * that serves Transpose, Slice, Concat, Split, Expand, Tile, DepthToSpace and SpaceToDepth,
 * plus Gather, Pad and Resize. Element-size generic (1, 2, 4 or 8 bytes). C linkage.
 */
#ifndef PL_CUDA_SHAPE_CUH
#define PL_CUDA_SHAPE_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "plinth/plinth.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y[dst_off + sum i_d * dst_st[d]] = x[src_off + sum (i_d % mod_d) * src_st[d]] over the index
 * box dims[0..rank); mod_d 0 means no wrap (Tile sets the input extents). Offsets and strides
 * are in elements and may be negative (Slice with negative steps). */
typedef struct pl__cu_copy {
    int rank;
    int64_t dims[8];
    int64_t src_st[8], dst_st[8], mod[8];
    int64_t src_off, dst_off;
} pl__cu_copy;

cudaError_t pl__cu_strided_copy(cudaStream_t s, size_t es, const void *x, void *y,
                                const pl__cu_copy *c);

/* Gather along an axis: x [outer, axis_dim, inner], idx (int32 or int64) with nidx values, y
 * [outer, nidx, inner]. Negative indices count from the end; an index out of range writes zeros
 * and raises *flag (mapped host memory read at the next synchronisation). */
cudaError_t pl__cu_gather(cudaStream_t s, size_t es, const void *x, const void *idx,
                          pl_dtype it, void *y, int64_t outer, int64_t axis_dim, int64_t inner,
                          int64_t nidx, int *flag);

/* Pad of a rank-r tensor: out dims od, in dims id, begin pads (may be negative: crop). mode as
 * pl__pad_mode. The constant is read from the device scalar vdev when not NULL (exact bytes),
 * else it is the es low bytes of vbits. */
cudaError_t pl__cu_pad(cudaStream_t s, size_t es, const void *x, void *y, int rank,
                       const int64_t *id, const int64_t *od, const int64_t *begin, int mode,
                       const void *vdev, uint64_t vbits);

/* Resize / Upsample (nearest, linear or cubic) of a float tensor; parameters mirror
 * pl__resize_params, weights and coordinates follow the CPU kernel (backends/cpu/cpu-shape.c). */
typedef struct pl__cu_resize {
    int rank;
    int mode;  /* 0 nearest, 1 linear, 2 cubic */
    int coord; /* pl__resize_coord */
    int round; /* pl__resize_round */
    int exclude_outside; /* cubic: taps outside the input get weight 0, the rest renormalised */
    float extrapolation;
    double cubic_a;
    int64_t in[8], out[8];
    double scale[8], roi_start[8], roi_end[8];
} pl__cu_resize;

cudaError_t pl__cu_resize_run(cudaStream_t s, pl_dtype t, const void *x, void *y,
                              const pl__cu_resize *p);

#ifdef __cplusplus
}
#endif

#endif
