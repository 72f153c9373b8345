/*
 * backend.h - one backend = one table of function pointers: memory, copies, synchronisation,
 * timing, and a lookup of layer kernels by op name. A backend never includes another backend.
 *
 * Kernel contract: inputs and outputs are contiguous row-major views in the backend's memory
 * (host memory for the CPU backend, device memory for CUDA). Shapes are already inferred; a
 * data-dependent kernel rewrites its outputs' dims. A kernel reports bad data (e.g. an index out
 * of range) with pl__fail naming the layer, never crashes.
 */
#ifndef PL_BACKEND_H
#define PL_BACKEND_H

#include "graph/graph.h"

typedef struct pl__kernel_args {
    const pl__layer *layer;
    int nin;
    const pl__tview *in;   /* data NULL for an omitted optional input */
    int nout;
    pl__tview *out;
    void *workspace;
    size_t workspace_size;
    void *bctx;            /* the backend's per-context state (stream, handles, thread pool) */
    int tactic;
    void *state;           /* what the kernel's state_create made for this context and layer */
    /* Host copies of the op's value inputs (shape inference's inputs: data on the host for every
     * input in value_inputs); device kernels read Slice starts, Pad pads, etc. from here. */
    const pl__tview *host_in;
} pl__kernel_args;

typedef pl_status (*pl__kernel_fn)(const pl__kernel_args *a);

typedef struct pl__kernel_def {
    const char *op;
    pl__kernel_fn run;
    /* Optional: whether this kernel handles these dtypes/attributes (data pointers NULL). NULL
     * means everything shape inference accepts. On false, fill the error with pl__fail. */
    bool (*supports)(const pl__kernel_args *a);
    /* Optional: scratch bytes needed for these shapes (data pointers NULL). */
    size_t (*workspace)(const pl__kernel_args *a);
    int ntactics;                    /* 0 or 1: a single implementation */
    const char *const *tactic_names; /* ntactics names; NULL when ntactics <= 1 */
    /* Optional per-execution-context state (plugins): made once per context and layer before its
     * first run (args as for supports, with bctx set) and passed as pl__kernel_args.state;
     * destroyed with the context. */
    pl_status (*state_create)(const pl__kernel_args *a, void **state);
    void (*state_destroy)(const pl__layer *l, void *state);
} pl__kernel_def;

typedef enum pl__copy_kind { PL__H2D = 0, PL__D2H = 1, PL__D2D = 2 } pl__copy_kind;

typedef struct pl__backend {
    const char *name;
    pl_device device;
    bool host_memory; /* device memory is ordinary host memory (CPU) */
    bool (*available)(void);
    pl_status (*create)(void **bctx);
    void (*destroy)(void *bctx);
    pl_status (*alloc)(void *bctx, size_t bytes, void **p); /* 256-byte aligned */
    void (*release)(void *bctx, void *p);
    pl_status (*copy)(void *bctx, void *dst, const void *src, size_t bytes, pl__copy_kind kind);
    pl_status (*sync)(void *bctx);
    /* Optional: the stream to run on (CUDA). */
    void (*set_stream)(void *bctx, void *stream);
    /* Milliseconds between two points of the backend's timeline (CPU: wall clock). */
    double (*now_ms)(void *bctx);
    /* Optional: device time of the work queued between phase 0 and phase 1, for tactic timing.
     * Phase 0 queues a device-side delay longer than the host needs to enqueue one run of a
     * layer, then marks the start; phase 1 marks the stop, waits, and returns the milliseconds
     * between the marks: GPU time alone, without the host's launch cost (which a replayed CUDA
     * graph does not pay) and without the delay's own length (which varies with the clock).
     * -2: the delay ran out before the host had queued the work (the measurement would hold
     * host time; the next delay is longer: measure again); -1 on failure. */
    double (*time_region)(void *bctx, int phase);
    const pl__kernel_def *(*find_kernel)(const char *op);
    /* Optional backend-specific graph pass at build, after the generic passes and shape ranges
     * (precision and layout choices). */
    pl_status (*optimize)(pl_network *net, bool fp16);
    /* Optional whole-execution capture (CUDA graphs): begin before the first layer, end after the
     * last; replay returns PL_ERR_NOT_FOUND when nothing was captured yet. */
    pl_status (*capture_begin)(void *bctx);
    pl_status (*capture_end)(void *bctx);
    pl_status (*replay)(void *bctx);
    /* Optional: the stream kernels of this context run on (CUDA: a cudaStream_t), handed to
     * plugin kernels. */
    void *(*get_stream)(void *bctx);
    /* Optional: lanes, i.e. extra streams for independent branches (src/runtime/lanes.c).
     * lanes_init gives the context nlanes lanes (lane 0 is the context's stream) and nevents
     * events; lane_select sends later work to a lane; lane_record records event ev on the
     * current lane; lane_wait makes the current lane wait for the last recording of ev. */
    pl_status (*lanes_init)(void *bctx, int nlanes, int nevents);
    pl_status (*lane_select)(void *bctx, int lane);
    pl_status (*lane_record)(void *bctx, int ev);
    pl_status (*lane_wait)(void *bctx, int ev);
} pl__backend;

/* The compiled-in backend for a device, or NULL. */
const pl__backend *pl__backend_get(pl_device device);

extern const pl__backend pl__cpu_backend;
#ifdef PL_HAVE_CUDA
extern const pl__backend pl__cuda_backend;
#endif

/* CPU kernel groups, each a {0}-terminated array in backends/cpu/cpu-<group>.c. */
extern const pl__kernel_def pl__cpu_kernels_elementwise[];
extern const pl__kernel_def pl__cpu_kernels_nn[];
extern const pl__kernel_def pl__cpu_kernels_shape[];
extern const pl__kernel_def pl__cpu_kernels_reduce[];

/* CPU parallel loop: calls fn(arg, begin, end) over [0, n) split across the context's threads
 * (serially when n < grain). Used by CPU kernels; bctx is pl__kernel_args.bctx. */
typedef void (*pl__range_fn)(void *arg, int64_t begin, int64_t end);
void pl__cpu_parallel_for(void *bctx, int64_t n, int64_t grain, pl__range_fn fn, void *arg);
/* Threads pl__cpu_parallel_for spreads over (1 for a NULL bctx): kernels that split one GEMM
 * into per-thread blocks size the blocks by it. */
int pl__cpu_num_threads(void *bctx);

/* Fused activation on a float buffer: the layer's "activation" attribute (an ONNX op name such
 * as "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSwish", "HardSigmoid", "Tanh") with
 * "activation_alpha"/"activation_beta". No-op when the layer has none. */
void pl__cpu_fused_activation(const pl__layer *l, float *x, int64_t n);

#endif
