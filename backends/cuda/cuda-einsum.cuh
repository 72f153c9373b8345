/*
 * cuda-einsum.cuh - launcher of the generic Einsum device code (cuda-einsum.cu). C linkage.
 */
#ifndef PL_CUDA_EINSUM_CUH
#define PL_CUDA_EINSUM_CUH

#include <cuda_runtime.h>
#include <stdint.h>

#include "plinth/plinth.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PL__CU_EIN_MAX_IN 8
#define PL__CU_EIN_MAX_SUM 16

/* y[o] = sum over the contracted index box of prod_k x_k[...], one thread per output element.
 * Output label j has extent odim[j] and stride ost[k][j] in input k; contracted label j has
 * extent sdim[j] and stride sst[k][j] (strides in elements; a repeated label's strides summed,
 * a broadcast axis 0). */
typedef struct pl__cu_einsum {
    int nin, orank, nsum;
    int64_t odim[8], sdim[PL__CU_EIN_MAX_SUM];
    int64_t ost[PL__CU_EIN_MAX_IN][8];
    int64_t sst[PL__CU_EIN_MAX_IN][PL__CU_EIN_MAX_SUM];
} pl__cu_einsum;

/* x: nin input pointers of storage type t (float32 or float16); y of type t, numel elements. */
cudaError_t pl__cu_einsum_generic(cudaStream_t s, pl_dtype t, const void *const *x, void *y,
                                  int64_t numel, const pl__cu_einsum *p);

#ifdef __cplusplus
}
#endif

#endif
