/*
 * cuda-internal.h - what the CUDA backend's host files share: the per-context state (stream,
 * library handles, reusable cuDNN descriptors, the captured graph), error conversion for the CUDA
 * runtime, cuDNN and cuBLASLt, and the kernel tables of each op family.
 *
 * Layout of the backend: host logic (library calls, parameter resolution) lives in C files, one
 * per op family (cuda-conv.c, cuda-gemm.c, cuda-ops.c, cuda-fp16.c); device code lives in .cu
 * files whose launchers are declared with C linkage in the matching .cuh (cuda-ew.cuh,
 * cuda-nn.cuh, cuda-shape.cuh). Kernels compute in float whatever the storage (float32 or
 * float16), so accuracy-sensitive reductions always accumulate in fp32.
 */
#ifndef PL_CUDA_INTERNAL_H
#define PL_CUDA_INTERNAL_H

/* cublasLt.h declares one function without a prototype; the toolkit's headers are not ours to
 * keep warning-clean */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#include <cublasLt.h>
#pragma GCC diagnostic pop
#include <cuda_runtime.h>
#include <cudnn.h>

#include "backends/backend.h"
#include "graph/ops.h"

typedef struct pl__cuda_ctx {
    int device;
    cudaStream_t stream; /* where work goes now: base, or one of the extra lanes */
    cudaStream_t own;
    cudaStream_t base;   /* lane 0: the caller's stream or own */
    /* lanes (src/runtime/lanes.c): lane[0] unused (base), lane[1..nlanes-1] own streams; events
     * indexed as the runtime numbers them */
    cudaStream_t lane[8];
    int nlanes;
    cudaEvent_t *ev;
    int nev;
    /* library handles, created on first use (cuDNN's creation is slow and loads its libraries) */
    cublasLtHandle_t lt;
    cudnnHandle_t dnn;
    cudnnTensorDescriptor_t xd, yd, zd, bd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnActivationDescriptor_t ad;
    /* whole-execution CUDA graph */
    cudaGraphExec_t exec;
    bool capturing, capture_failed;
    /* timeline for now_ms: GPU events against a reference, re-based before float ms lose
     * precision */
    cudaEvent_t ev_ref, ev_now;
    cudaEvent_t tr_start, tr_stop; /* time_region's marks, created on first use */
    long long spin_cycles;         /* time_region's delay; doubles when it proved too short */
    double base_ms;
    /* host scratch for reading small value inputs (Slice starts, Resize scales) */
    void *host;
    size_t host_size;
    bool tf32; /* PLINTH_CUDA_TF32=1: fp32 convolutions and GEMMs may use TF32 tensor cores */
    /* data-error flag in mapped host memory: kernels that meet bad data (a Gather index out of
     * range) raise it without a read-back; sync() reports it */
    int *flag, *flag_dev;
    /* pinned staging for copies from/to pageable host memory (pl__cuda_copy): two halves of
     * pin_size bytes in all, each guarded by an event recorded after its last transfer */
    void *pin;
    size_t pin_size;
    cudaEvent_t pin_ev[2];
} pl__cuda_ctx;

/* ---- errors: each returns PL_ERR_BACKEND with "node 'x' (Op): function: library message" (the
 * node part omitted when a is NULL); PL_OK for success codes. `call` is the stringified call,
 * of which the function name is kept. ---- */
pl_status pl__cuda_check(const pl__kernel_args *a, const char *call, cudaError_t e);
pl_status pl__cudnn_check(const pl__kernel_args *a, const char *call, cudnnStatus_t s);
pl_status pl__cublas_check(const pl__kernel_args *a, const char *call, cublasStatus_t s);
#define PL__CU(a, call) pl__cuda_check((a), #call, (call))
#define PL__DNN(a, call) pl__cudnn_check((a), #call, (call))
#define PL__LT(a, call) pl__cublas_check((a), #call, (call))

/* "node 'x' (Op): <what>" with PL_ERR_UNSUPPORTED, for supports() and run-time refusals. */
pl_status pl__cuda_unsupported(const pl__kernel_args *a, const char *fmt, ...) PL__PRINTF(2, 3);

static inline pl__cuda_ctx *pl__cuda_ctx_of(const pl__kernel_args *a) {
    return (pl__cuda_ctx *)a->bctx;
}

/* The context's cuDNN handle and descriptors / cuBLASLt handle, created on first use. */
pl_status pl__cuda_dnn(const pl__kernel_args *a, pl__cuda_ctx **c);
pl_status pl__cuda_lt(const pl__kernel_args *a, pl__cuda_ctx **c);

/* Copies the values of a small device input (a value input such as Slice's starts) to host
 * memory as int64 or double and waits for them. Only layers with value inputs use it, and the
 * runtime never captures an engine holding one, so the synchronisation is legal. */
pl_status pl__cuda_fetch_i64(const pl__kernel_args *a, int input, int64_t *dst, int64_t max,
                             int64_t *count);
pl_status pl__cuda_fetch_f64(const pl__kernel_args *a, int input, double *dst, int64_t max,
                             int64_t *count);
/* A value input that must hold exactly one value (TopK's K, Range's start, CumSum's axis). */
pl_status pl__cuda_scalar_i64(const pl__kernel_args *a, int input, int64_t *v);
pl_status pl__cuda_scalar_f64(const pl__kernel_args *a, int input, double *v);
/* Host views of a layer's inputs in which value inputs carry host copies (the rest keep device
 * pointers), for the shared parameter resolvers of ops-shape.h. Storage is in hv/store. */
pl_status pl__cuda_host_values(const pl__kernel_args *a, pl__tview *hv, void *store,
                               size_t store_size);

/* Activation codes shared with the device code (cuda-ew.cuh): the layer's fused "activation"
 * attribute or a standalone activation op. */
enum {
    PL__ACT_NONE = 0,
    PL__ACT_RELU,
    PL__ACT_LEAKY,
    PL__ACT_CLIP,
    PL__ACT_SIGMOID,
    PL__ACT_TANH,
    PL__ACT_HSIG,
    PL__ACT_HSWISH
};
/* The fused activation of a layer (its "activation" attribute): code and alpha/beta. Returns
 * false for an activation the device code does not know. */
bool pl__cuda_fused_act(const pl__layer *l, int *act, float *alpha, float *beta);

/* Whether dtype is a float type the device kernels store (float32, float16). */
static inline bool pl__cuda_flt(pl_dtype t) { return t == PL_FLOAT32 || t == PL_FLOAT16; }

/* The stream a kernel launches on: the context's current lane. */
static inline cudaStream_t pl__cuda_stream(const pl__kernel_args *a) {
    return ((const pl__cuda_ctx *)a->bctx)->stream;
}

/* For supports(): records why the GPU kernel declines (the runtime logs it) and returns false. */
static inline bool pl__cuda_decline(const pl__kernel_args *a, const char *what) {
    pl__cuda_unsupported(a, "%s", what);
    return false;
}

/* Whether the layout pass (cuda-layout.c) stored this layer's 4-D activations channels-last
 * ([N, H, W, C] in memory, dims still logical NCHW): attribute "cuda.nhwc". */
static inline bool pl__cuda_nhwc(const pl__layer *l) {
    return pl__attr_int(&l->attrs, "cuda.nhwc", 0) != 0;
}

/* Kernel tables, {0}-terminated: cuda-conv.c, cuda-gemm.c, cuda-ops.c. */
extern const pl__kernel_def pl__cuda_kernels_conv[];
extern const pl__kernel_def pl__cuda_kernels_gemm[];
extern const pl__kernel_def pl__cuda_kernels_ops[];
extern const pl__kernel_def pl__cuda_kernels_convt[];  /* cuda-convt.c */
extern const pl__kernel_def pl__cuda_kernels_extra[];  /* cuda-extra.c */
extern const pl__kernel_def pl__cuda_kernels_misc[];   /* cuda-misc.c */
extern const pl__kernel_def pl__cuda_kernels_einsum[]; /* cuda-einsum.c */

/* Channels-last pass for float16 convolution chains (cuda-layout.c), run after the fp16 pass;
 * PLINTH_CUDA_NHWC=0 turns it off. */
pl_status pl__cuda_layout_pass(pl_network *net);

/* fp16 graph pass (cuda-fp16.c). */
pl_status pl__cuda_optimize(pl_network *net, bool fp16);
/* Whether the CUDA kernel for this layer can run with float16 activations (looked up by the
 * fp16 pass; data pointers are NULL). */
bool pl__cuda_layer_fp16_ok(const pl__layer *l);

#endif
