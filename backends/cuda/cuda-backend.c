/*
 * cuda-backend.c - the CUDA backend's function table: device memory, copies and
 * synchronisation on the context's stream, a GPU-event timeline for tactic timing, CUDA graph
 * capture and replay of a whole execution, the kernel lookup over the op families, and the
 * services the family files share (error conversion, lazily created library handles, reading
 * small value inputs back to the host).
 *
 * Each execution context owns one non-blocking stream (or runs on the caller's), one cuBLASLt
 * handle and one cuDNN handle; nothing is shared between contexts, so contexts of one engine run
 * in parallel threads. The CUDA runtime is linked statically and finds the driver at run time, so
 * a machine without a driver or a GPU simply reports the backend unavailable.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda-ew.cuh"
#include "backends/cuda/cuda-nn.cuh"
#include "backends/cuda/cuda-internal.h"

/* ---- errors ---- */

static void pl__fn_name(const char *call, char *buf, size_t size) {
    size_t n = 0;
    while (call[n] && call[n] != '(' && n + 1 < size) {
        buf[n] = call[n];
        n++;
    }
    buf[n] = '\0';
}

static pl_status pl__backend_fail(const pl__kernel_args *a, const char *call, const char *msg) {
    char fn[64];
    pl__fn_name(call, fn, sizeof(fn));
    /* the runtime drops the message of a failed capture and runs uncaptured: say why here */
    if (a && a->bctx && ((pl__cuda_ctx *)a->bctx)->capturing && a->layer)
        pl__log(PL_LOG_WARNING, "cuda graph capture: node '%s' (%s): %s: %s",
                pl__layer_label(a->layer), a->layer->op, fn, msg);
    if (a && a->layer)
        return pl__fail(PL_ERR_BACKEND, "node '%s' (%s): %s: %s", pl__layer_label(a->layer),
                        a->layer->op, fn, msg);
    return pl__fail(PL_ERR_BACKEND, "cuda: %s: %s", fn, msg);
}

pl_status pl__cuda_check(const pl__kernel_args *a, const char *call, cudaError_t e) {
    if (e == cudaSuccess)
        return PL_OK;
    (void)cudaGetLastError(); /* a sticky launch error stays; a plain one is cleared */
    return pl__backend_fail(a, call, cudaGetErrorString(e));
}

pl_status pl__cudnn_check(const pl__kernel_args *a, const char *call, cudnnStatus_t s) {
    char msg[512], detail[384];
    if (s == CUDNN_STATUS_SUCCESS)
        return PL_OK;
    detail[0] = '\0';
    cudnnGetLastErrorString(detail, sizeof(detail));
    snprintf(msg, sizeof(msg), "%s%s%s", cudnnGetErrorString(s), detail[0] ? ": " : "", detail);
    return pl__backend_fail(a, call, msg);
}

pl_status pl__cublas_check(const pl__kernel_args *a, const char *call, cublasStatus_t s) {
    char msg[256];
    if (s == CUBLAS_STATUS_SUCCESS)
        return PL_OK;
    snprintf(msg, sizeof(msg), "%s (%s)", cublasLtGetStatusString(s), cublasLtGetStatusName(s));
    return pl__backend_fail(a, call, msg);
}

pl_status pl__cuda_unsupported(const pl__kernel_args *a, const char *fmt, ...) {
    char buf[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): %s", pl__layer_label(a->layer),
                    a->layer->op, buf);
}

/* ---- availability ---- */

static pthread_once_t pl__avail_once = PTHREAD_ONCE_INIT;
static bool pl__avail;

static void pl__probe_device(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n <= 0) {
        (void)cudaGetLastError();
        return;
    }
    /* a device this build has no kernel image for (older than sm_90) counts as absent */
    if (pl__cu_probe() != cudaSuccess) {
        (void)cudaGetLastError();
        pl__log(PL_LOG_WARNING, "cuda: a GPU is present but this build has no code for it "
                "(built for PLINTH_CUDA_ARCH)");
        return;
    }
    pl__avail = true;
}

static bool pl__cuda_available(void) {
    pthread_once(&pl__avail_once, pl__probe_device);
    return pl__avail;
}

/* ---- contexts ---- */

static void pl__pin_free(pl__cuda_ctx *c);

static void pl__cuda_destroy(void *bctx) {
    pl__cuda_ctx *c = bctx;
    if (!c)
        return;
    if (c->exec)
        cudaGraphExecDestroy(c->exec);
    if (c->dnn) {
        cudnnDestroyTensorDescriptor(c->xd);
        cudnnDestroyTensorDescriptor(c->yd);
        cudnnDestroyTensorDescriptor(c->zd);
        cudnnDestroyTensorDescriptor(c->bd);
        cudnnDestroyFilterDescriptor(c->wd);
        cudnnDestroyConvolutionDescriptor(c->cd);
        cudnnDestroyActivationDescriptor(c->ad);
        cudnnDestroy(c->dnn);
    }
    if (c->lt)
        cublasLtDestroy(c->lt);
    if (c->tr_start)
        cudaEventDestroy(c->tr_start);
    if (c->tr_stop)
        cudaEventDestroy(c->tr_stop);
    if (c->ev_ref)
        cudaEventDestroy(c->ev_ref);
    if (c->ev_now)
        cudaEventDestroy(c->ev_now);
    for (int k = 1; k < c->nlanes; k++)
        if (c->lane[k]) {
            cudaStreamSynchronize(c->lane[k]);
            cudaStreamDestroy(c->lane[k]);
        }
    for (int i = 0; i < c->nev; i++)
        if (c->ev[i])
            cudaEventDestroy(c->ev[i]);
    free(c->ev);
    if (c->own) {
        cudaStreamSynchronize(c->own);
        cudaStreamDestroy(c->own);
    }
    if (c->flag)
        cudaFreeHost(c->flag);
    pl__pin_free(c);
    for (int i = 0; i < 2; i++)
        if (c->pin_ev[i])
            cudaEventDestroy(c->pin_ev[i]);
    free(c->host);
    free(c);
}

static pl_status pl__cuda_create(void **bctx) {
    pl__cuda_ctx *c;
    pl_status s;
    const char *tf = getenv("PLINTH_CUDA_TF32");
    if (!pl__cuda_available())
        return pl__fail(PL_ERR_UNSUPPORTED, "cuda: no usable GPU");
    c = calloc(1, sizeof(*c));
    if (!c)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    c->tf32 = tf && tf[0] == '1';
    if ((s = PL__CU(NULL, cudaGetDevice(&c->device))) ||
        (s = PL__CU(NULL, cudaStreamCreateWithFlags(&c->own, cudaStreamNonBlocking))) ||
        (s = PL__CU(NULL, cudaEventCreate(&c->ev_ref))) ||
        (s = PL__CU(NULL, cudaEventCreate(&c->ev_now))) ||
        (s = PL__CU(NULL, cudaHostAlloc((void **)&c->flag, sizeof(int), cudaHostAllocMapped))) ||
        (s = PL__CU(NULL, cudaHostGetDevicePointer((void **)&c->flag_dev, c->flag, 0))))
        goto fail;
    *c->flag = 0;
    c->stream = c->base = c->own;
    if ((s = PL__CU(NULL, cudaEventRecord(c->ev_ref, c->stream))) ||
        (s = PL__CU(NULL, cudaEventSynchronize(c->ev_ref))))
        goto fail;
    *bctx = c;
    return PL_OK;
fail:
    pl__cuda_destroy(c);
    return s;
}

pl_status pl__cuda_dnn(const pl__kernel_args *a, pl__cuda_ctx **out) {
    pl__cuda_ctx *c = a->bctx;
    pl_status s;
    if (!c->dnn) {
        cudnnHandle_t h;
        if ((s = PL__DNN(a, cudnnCreate(&h))))
            return s;
        c->dnn = h;
        if ((s = PL__DNN(a, cudnnCreateTensorDescriptor(&c->xd))) ||
            (s = PL__DNN(a, cudnnCreateTensorDescriptor(&c->yd))) ||
            (s = PL__DNN(a, cudnnCreateTensorDescriptor(&c->zd))) ||
            (s = PL__DNN(a, cudnnCreateTensorDescriptor(&c->bd))) ||
            (s = PL__DNN(a, cudnnCreateFilterDescriptor(&c->wd))) ||
            (s = PL__DNN(a, cudnnCreateConvolutionDescriptor(&c->cd))) ||
            (s = PL__DNN(a, cudnnCreateActivationDescriptor(&c->ad))))
            return s;
    }
    if ((s = PL__DNN(a, cudnnSetStream(c->dnn, c->stream))))
        return s;
    *out = c;
    return PL_OK;
}

pl_status pl__cuda_lt(const pl__kernel_args *a, pl__cuda_ctx **out) {
    pl__cuda_ctx *c = a->bctx;
    pl_status s;
    if (!c->lt && (s = PL__LT(a, cublasLtCreate(&c->lt))))
        return s;
    *out = c;
    return PL_OK;
}

static pl_status pl__cuda_alloc(void *bctx, size_t bytes, void **p) {
    size_t rounded;
    cudaError_t e;
    (void)bctx;
    if (!pl__add_size(bytes, 255, &rounded))
        return pl__fail(PL_ERR_NOMEM, "cuda: allocation of %zu bytes overflows", bytes);
    rounded &= ~(size_t)255;
    e = cudaMalloc(p, rounded ? rounded : 256); /* cudaMalloc aligns to at least 256 bytes */
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        *p = NULL;
        return pl__fail(e == cudaErrorMemoryAllocation ? PL_ERR_NOMEM : PL_ERR_BACKEND,
                        "cuda: cudaMalloc of %zu bytes: %s", bytes, cudaGetErrorString(e));
    }
    return PL_OK;
}

static void pl__cuda_release(void *bctx, void *p) {
    (void)bctx;
    if (p)
        cudaFree(p);
}

/* Pinned staging: a copy from or to pageable host memory goes through the context's pinned
 * buffer in chunks of at most PL__PIN_CHUNK bytes, two chunks in flight, so that the DMA engine
 * runs at full speed and the buffer stays bounded whatever the copy's size. */
#define PL__PIN_CHUNK ((size_t)8 << 20)
#define PL__PIN_MIN ((size_t)64 << 10) /* below this the driver's own staging is as fast */

/* Waits for the staging buffer's transfers and frees it. */
static void pl__pin_free(pl__cuda_ctx *c) {
    for (int i = 0; i < 2; i++)
        if (c->pin_ev[i])
            cudaEventSynchronize(c->pin_ev[i]);
    if (c->pin)
        cudaFreeHost(c->pin);
    c->pin = NULL;
    c->pin_size = 0;
}

/* Whether p is host memory the caller pinned or registered (the copy then goes direct). */
static bool pl__host_pinned(const void *p) {
    struct cudaPointerAttributes at;
    if (cudaPointerGetAttributes(&at, p) != cudaSuccess) {
        (void)cudaGetLastError();
        return false;
    }
    return at.type == cudaMemoryTypeHost || at.type == cudaMemoryTypeManaged;
}

/* Makes the staging buffer hold two chunks of at least `chunk` bytes. */
static pl_status pl__pin_room(pl__cuda_ctx *c, size_t chunk) {
    pl_status s;
    if (c->pin_size >= 2 * chunk)
        return PL_OK;
    for (int i = 0; i < 2; i++)
        if (!c->pin_ev[i] &&
            (s = PL__CU(NULL, cudaEventCreateWithFlags(&c->pin_ev[i], cudaEventDisableTiming))))
            return s;
    pl__pin_free(c);
    if ((s = PL__CU(NULL, cudaHostAlloc(&c->pin, 2 * chunk, cudaHostAllocDefault)))) {
        c->pin = NULL;
        return s;
    }
    c->pin_size = 2 * chunk;
    return PL_OK;
}

/* Queues the device-to-host transfer of chunk `i` (of `chunk` bytes) into staging half i % 2. */
static pl_status pl__d2h_queue(pl__cuda_ctx *c, const void *src, size_t bytes, size_t chunk,
                               size_t i) {
    size_t off = i * chunk, n = bytes - off < chunk ? bytes - off : chunk;
    int half = (int)(i % 2);
    pl_status s;
    if ((s = PL__CU(NULL, cudaMemcpyAsync((char *)c->pin + (size_t)half * chunk,
                                          (const char *)src + off, n, cudaMemcpyDeviceToHost,
                                          c->stream))))
        return s;
    return PL__CU(NULL, cudaEventRecord(c->pin_ev[half], c->stream));
}

static pl_status pl__copy_staged(pl__cuda_ctx *c, void *dst, const void *src, size_t bytes,
                                 bool h2d) {
    size_t chunk = bytes < PL__PIN_CHUNK ? bytes : PL__PIN_CHUNK, nchunks;
    pl_status s;
    if ((s = pl__pin_room(c, chunk)))
        return s;
    chunk = c->pin_size / 2;
    nchunks = (bytes + chunk - 1) / chunk;
    if (h2d) {
        for (size_t i = 0; i < nchunks; i++) {
            size_t off = i * chunk, n = bytes - off < chunk ? bytes - off : chunk;
            int half = (int)(i % 2);
            char *buf = (char *)c->pin + (size_t)half * chunk;
            /* the half's previous transfer must have finished before it is overwritten */
            if ((s = PL__CU(NULL, cudaEventSynchronize(c->pin_ev[half]))))
                return s;
            memcpy(buf, (const char *)src + off, n);
            if ((s = PL__CU(NULL, cudaMemcpyAsync((char *)dst + off, buf, n,
                                                  cudaMemcpyHostToDevice, c->stream))) ||
                (s = PL__CU(NULL, cudaEventRecord(c->pin_ev[half], c->stream))))
                return s;
        }
        return PL_OK; /* the source is free to reuse: it was copied into the staging buffer */
    }
    /* D2H: the next chunk's transfer is queued while this one is copied out */
    for (int i = 0; i < 2; i++)
        if ((s = PL__CU(NULL, cudaEventSynchronize(c->pin_ev[i]))))
            return s;
    if ((s = pl__d2h_queue(c, src, bytes, chunk, 0)))
        return s;
    for (size_t i = 0; i < nchunks; i++) {
        size_t off = i * chunk, n = bytes - off < chunk ? bytes - off : chunk;
        int half = (int)(i % 2);
        if (i + 1 < nchunks && (s = pl__d2h_queue(c, src, bytes, chunk, i + 1)))
            return s;
        if ((s = PL__CU(NULL, cudaEventSynchronize(c->pin_ev[half]))))
            return s;
        memcpy((char *)dst + off, (char *)c->pin + (size_t)half * chunk, n);
    }
    return PL_OK;
}

static pl_status pl__cuda_copy(void *bctx, void *dst, const void *src, size_t bytes,
                               pl__copy_kind kind) {
    pl__cuda_ctx *c = bctx;
    enum cudaMemcpyKind k = kind == PL__H2D ? cudaMemcpyHostToDevice
                            : kind == PL__D2H ? cudaMemcpyDeviceToHost
                                              : cudaMemcpyDeviceToDevice;
    enum cudaStreamCaptureStatus cap = cudaStreamCaptureStatusNone;
    pl_status s;
    if (!bytes || dst == src)
        return PL_OK;
    if (kind == PL__D2D || bytes < PL__PIN_MIN)
        return PL__CU(NULL, cudaMemcpyAsync(dst, src, bytes, k, c->stream));
    /* inside a capture the copy becomes a graph node: no host-side staging there */
    if ((s = PL__CU(NULL, cudaStreamIsCapturing(c->stream, &cap))))
        return s;
    if (cap != cudaStreamCaptureStatusNone || pl__host_pinned(kind == PL__H2D ? src : dst))
        return PL__CU(NULL, cudaMemcpyAsync(dst, src, bytes, k, c->stream));
    return pl__copy_staged(c, dst, src, bytes, kind == PL__H2D);
}

static pl_status pl__cuda_sync(void *bctx) {
    pl__cuda_ctx *c = bctx;
    pl_status s = PL__CU(NULL, cudaStreamSynchronize(c->stream));
    if (s)
        return s;
    if (*c->flag) {
        *c->flag = 0;
        return pl__fail(PL_ERR_INVALID_ARG, "cuda: an index input held a value out of range "
                        "(Gather); the affected outputs were zero-filled");
    }
    return PL_OK;
}

static void pl__cuda_set_stream(void *bctx, void *stream) {
    pl__cuda_ctx *c = bctx;
    c->stream = c->base = stream ? (cudaStream_t)stream : c->own;
    if (c->exec) { /* a graph replays on any stream, but the caller asked for a new timeline */
        cudaGraphExecDestroy(c->exec);
        c->exec = NULL;
    }
}

/* A GPU timestamp: elapsed time from a reference event to an event recorded now, re-based every
 * second so that the float milliseconds of cudaEventElapsedTime keep microsecond precision. */
static double pl__cuda_now_ms(void *bctx) {
    pl__cuda_ctx *c = bctx;
    float ms = 0.f;
    cudaEvent_t t;
    if (cudaEventRecord(c->ev_now, c->stream) != cudaSuccess ||
        cudaEventSynchronize(c->ev_now) != cudaSuccess ||
        cudaEventElapsedTime(&ms, c->ev_ref, c->ev_now) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    if (ms > 1000.f) {
        c->base_ms += ms;
        t = c->ev_ref;
        c->ev_ref = c->ev_now;
        c->ev_now = t;
        return c->base_ms;
    }
    return c->base_ms + ms;
}

/* The delay starts at ~0.3 ms of SM clock. If the GPU reaches the start mark before the host has
 * finished enqueueing the timed work (cuDNN plans some fused calls on the host for longer than
 * that), the GPU may have idled inside the measurement: phase 1 then discards it (returns -2)
 * and doubles the delay for the next try. */
#define PL__SPIN_CYCLES_MIN 600000LL
#define PL__SPIN_CYCLES_MAX (600000LL << 7)

static double pl__cuda_time_region(void *bctx, int phase) {
    pl__cuda_ctx *c = bctx;
    float ms = 0.f;
    bool early;
    if (!c->tr_start && (cudaEventCreate(&c->tr_start) != cudaSuccess ||
                         cudaEventCreate(&c->tr_stop) != cudaSuccess)) {
        (void)cudaGetLastError();
        return -1;
    }
    if (c->spin_cycles < PL__SPIN_CYCLES_MIN)
        c->spin_cycles = PL__SPIN_CYCLES_MIN;
    if (phase == 0) {
        if (pl__cu_spin(c->stream, c->spin_cycles) != cudaSuccess ||
            cudaEventRecord(c->tr_start, c->stream) != cudaSuccess) {
            (void)cudaGetLastError();
            return -1;
        }
        return 0;
    }
    early = cudaEventQuery(c->tr_start) == cudaSuccess;
    (void)cudaGetLastError(); /* cudaErrorNotReady is the good case */
    if (cudaEventRecord(c->tr_stop, c->stream) != cudaSuccess ||
        cudaEventSynchronize(c->tr_stop) != cudaSuccess ||
        cudaEventElapsedTime(&ms, c->tr_start, c->tr_stop) != cudaSuccess) {
        (void)cudaGetLastError();
        return -1;
    }
    if (early) {
        if (c->spin_cycles < PL__SPIN_CYCLES_MAX)
            c->spin_cycles *= 2;
        return -2;
    }
    return ms;
}

static pl_status pl__cuda_capture_begin(void *bctx) {
    pl__cuda_ctx *c = bctx;
    pl_status s;
    /* after a failed capture this context runs uncaptured for good, instead of capturing (and
     * failing) again on every execution */
    if (c->capture_failed)
        return pl__fail(PL_ERR_UNSUPPORTED, "cuda: an earlier capture of this context failed");
    s = PL__CU(NULL, cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal));
    c->capturing = s == PL_OK;
    return s;
}

static pl_status pl__cuda_capture_end(void *bctx) {
    pl__cuda_ctx *c = bctx;
    cudaGraph_t g = NULL;
    cudaGraphExec_t ex = NULL;
    pl_status s;
    if (!c->capturing)
        return pl__fail(PL_ERR_INTERNAL, "cuda: capture_end without capture_begin");
    c->capturing = false;
    s = PL__CU(NULL, cudaStreamEndCapture(c->stream, &g));
    if (!s)
        s = PL__CU(NULL, cudaGraphInstantiate(&ex, g, 0));
    if (g)
        cudaGraphDestroy(g);
    if (s) {
        c->capture_failed = true;
        pl__log(PL_LOG_WARNING, "cuda graph capture failed (%s); this context runs uncaptured",
                pl_errmsg());
        return s;
    }
    if (c->exec)
        cudaGraphExecDestroy(c->exec);
    c->exec = ex;
    return PL_OK;
}

static pl_status pl__cuda_replay(void *bctx) {
    pl__cuda_ctx *c = bctx;
    if (!c->exec)
        return pl__fail(PL_ERR_NOT_FOUND, "cuda: no captured graph to replay");
    return PL__CU(NULL, cudaGraphLaunch(c->exec, c->stream));
}

/* ---- lanes ---- */

static pl_status pl__cuda_lanes_init(void *bctx, int nlanes, int nevents) {
    pl__cuda_ctx *c = bctx;
    pl_status s;
    if (nlanes < 1 || nlanes > (int)(sizeof(c->lane) / sizeof(c->lane[0])) || nevents < 0 || c->ev)
        return pl__fail(PL_ERR_INTERNAL, "cuda: lanes_init(%d, %d) on this context", nlanes,
                        nevents);
    c->ev = calloc((size_t)nevents + 1, sizeof(cudaEvent_t));
    if (!c->ev)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < nevents; i++, c->nev++)
        if ((s = PL__CU(NULL, cudaEventCreateWithFlags(&c->ev[i], cudaEventDisableTiming))))
            return s;
    for (int k = 1; k < nlanes; k++, c->nlanes = k)
        if ((s = PL__CU(NULL, cudaStreamCreateWithFlags(&c->lane[k], cudaStreamNonBlocking))))
            return s;
    c->nlanes = nlanes;
    return PL_OK;
}

static pl_status pl__cuda_lane_select(void *bctx, int lane) {
    pl__cuda_ctx *c = bctx;
    if (lane < 0 || lane >= (c->nlanes > 1 ? c->nlanes : 1))
        return pl__fail(PL_ERR_INTERNAL, "cuda: lane %d of %d", lane, c->nlanes);
    c->stream = lane ? c->lane[lane] : c->base;
    return PL_OK;
}

static pl_status pl__cuda_lane_record(void *bctx, int ev) {
    pl__cuda_ctx *c = bctx;
    if (ev < 0 || ev >= c->nev)
        return pl__fail(PL_ERR_INTERNAL, "cuda: event %d of %d", ev, c->nev);
    return PL__CU(NULL, cudaEventRecord(c->ev[ev], c->stream));
}

static pl_status pl__cuda_lane_wait(void *bctx, int ev) {
    pl__cuda_ctx *c = bctx;
    if (ev < 0 || ev >= c->nev)
        return pl__fail(PL_ERR_INTERNAL, "cuda: event %d of %d", ev, c->nev);
    return PL__CU(NULL, cudaStreamWaitEvent(c->stream, c->ev[ev], 0));
}

/* ---- value inputs ---- */

static pl_status pl__host_room(const pl__kernel_args *a, size_t bytes) {
    pl__cuda_ctx *c = a->bctx;
    if (c->host_size >= bytes)
        return PL_OK;
    free(c->host);
    c->host_size = 0;
    c->host = malloc(bytes);
    if (!c->host)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    c->host_size = bytes;
    return PL_OK;
}

/* Values of input k as host data: from the layer's "cuda.values.<k>" attribute, which the build
 * records for constant value inputs (so that nothing is read back and the engine stays
 * capturable), else from the runtime's host copy (pl__kernel_args.host_in), else copied back from
 * the device. *data points at the attribute, the host copy or c->host. */
static pl_status pl__values(const pl__kernel_args *a, int k, const void **data, pl_dtype *dt,
                            int64_t *count) {
    pl__cuda_ctx *c = a->bctx;
    const pl__tview *v = &a->in[k];
    char name[32];
    const pl_attr *at;
    size_t bytes;
    pl_status s;
    snprintf(name, sizeof(name), "cuda.values.%d", k);
    at = pl__attrs_find(&a->layer->attrs, name);
    *count = pl__tview_numel(v);
    if (at && at->type == PL_ATTR_INTS && at->count == *count) {
        *data = at->ints;
        *dt = PL_INT64;
        return PL_OK;
    }
    if (at && at->type == PL_ATTR_FLOATS && at->count == *count) {
        *data = at->floats;
        *dt = PL_FLOAT32;
        return PL_OK;
    }
    if (a->host_in && a->host_in[k].data) { /* the runtime's host copy */
        *data = a->host_in[k].data;
        *dt = a->host_in[k].dtype;
        return PL_OK;
    }
    bytes = pl__tview_bytes(v);
    if ((s = pl__host_room(a, bytes ? bytes : 1)))
        return s;
    if (bytes && ((s = PL__CU(a, cudaMemcpyAsync(c->host, v->data, bytes, cudaMemcpyDeviceToHost,
                                                 c->stream))) ||
                  (s = PL__CU(a, cudaStreamSynchronize(c->stream)))))
        return s;
    *data = c->host;
    *dt = v->dtype;
    return PL_OK;
}

pl_status pl__cuda_fetch_i64(const pl__kernel_args *a, int input, int64_t *dst, int64_t max,
                             int64_t *count) {
    const void *d;
    pl_dtype t;
    pl_status s;
    if (input >= a->nin || !a->in[input].data) {
        *count = -1;
        return PL_OK;
    }
    if ((s = pl__values(a, input, &d, &t, count)))
        return s;
    if (*count > max)
        return pl__cuda_unsupported(a, "input %d has %lld values, at most %lld handled", input,
                                    (long long)*count, (long long)max);
    for (int64_t i = 0; i < *count; i++)
        dst[i] = pl__get_i64(d, t, i);
    return PL_OK;
}

pl_status pl__cuda_fetch_f64(const pl__kernel_args *a, int input, double *dst, int64_t max,
                             int64_t *count) {
    const void *d;
    pl_dtype t;
    pl_status s;
    if (input >= a->nin || !a->in[input].data) {
        *count = -1;
        return PL_OK;
    }
    if ((s = pl__values(a, input, &d, &t, count)))
        return s;
    if (*count > max)
        return pl__cuda_unsupported(a, "input %d has %lld values, at most %lld handled", input,
                                    (long long)*count, (long long)max);
    for (int64_t i = 0; i < *count; i++)
        dst[i] = pl__get_f64(d, t, i);
    return PL_OK;
}

pl_status pl__cuda_scalar_i64(const pl__kernel_args *a, int input, int64_t *v) {
    int64_t cnt = 0;
    pl_status s = pl__cuda_fetch_i64(a, input, v, 1, &cnt);
    if (s)
        return s;
    if (cnt != 1)
        return pl__cuda_unsupported(a, "input %d must hold one value", input);
    return PL_OK;
}

pl_status pl__cuda_scalar_f64(const pl__kernel_args *a, int input, double *v) {
    int64_t cnt = 0;
    pl_status s = pl__cuda_fetch_f64(a, input, v, 1, &cnt);
    if (s)
        return s;
    if (cnt != 1)
        return pl__cuda_unsupported(a, "input %d must hold one value", input);
    return PL_OK;
}

pl_status pl__cuda_host_values(const pl__kernel_args *a, pl__tview *hv, void *store,
                               size_t store_size) {
    uint32_t vi = pl__layer_value_inputs(a->layer);
    size_t used = 0;
    for (int k = 0; k < a->nin; k++) {
        const void *d;
        pl_dtype t;
        int64_t n;
        size_t es;
        pl_status s;
        hv[k] = a->in[k];
        if (!(vi >> k & 1) || !a->in[k].data)
            continue;
        if ((s = pl__values(a, k, &d, &t, &n)))
            return s;
        es = pl_dtype_size(t);
        if (used + (size_t)n * es > store_size)
            return pl__cuda_unsupported(a, "value input %d is too large (%lld values)", k,
                                        (long long)n);
        memcpy((char *)store + used, d, (size_t)n * es); /* d may be c->host, reused next */
        hv[k].data = (char *)store + used;
        hv[k].dtype = t;
        used += ((size_t)n * es + 7) & ~(size_t)7;
    }
    return PL_OK;
}

/* ---- fused activations ---- */

bool pl__cuda_fused_act(const pl__layer *l, int *act, float *alpha, float *beta) {
    static const char *const names[] = {"", "Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh",
                                        "HardSigmoid", "HardSwish"};
    const char *name = pl__attr_string(&l->attrs, "activation", NULL);
    *act = PL__ACT_NONE;
    *alpha = (float)pl__attr_float(&l->attrs, "activation_alpha", 0.01);
    *beta = (float)pl__attr_float(&l->attrs, "activation_beta", 0.0);
    if (!name)
        return true;
    for (int i = 1; i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (strcmp(name, names[i]) == 0) {
            *act = i;
            return true;
        }
    return false;
}

/* ---- kernel lookup ---- */

static const pl__kernel_def *const pl__cuda_groups[] = {pl__cuda_kernels_conv,
                                                        pl__cuda_kernels_gemm,
                                                        pl__cuda_kernels_ops,
                                                        pl__cuda_kernels_convt,
                                                        pl__cuda_kernels_einsum,
                                                        pl__cuda_kernels_extra,
                                                        pl__cuda_kernels_misc,
                                                        };

static const pl__kernel_def *pl__cuda_find_kernel(const char *op) {
    for (size_t g = 0; g < sizeof(pl__cuda_groups) / sizeof(pl__cuda_groups[0]); g++)
        for (const pl__kernel_def *k = pl__cuda_groups[g]; k->op; k++)
            if (strcmp(k->op, op) == 0)
                return k;
    return NULL;
}

/* Plugin CUDA kernels launch on the context's stream. */
static void *pl__cuda_get_stream(void *bctx) { return ((pl__cuda_ctx *)bctx)->stream; }

const pl__backend pl__cuda_backend = {
    .name = "cuda",
    .device = PL_DEVICE_CUDA,
    .host_memory = false,
    .available = pl__cuda_available,
    .create = pl__cuda_create,
    .destroy = pl__cuda_destroy,
    .alloc = pl__cuda_alloc,
    .release = pl__cuda_release,
    .copy = pl__cuda_copy,
    .sync = pl__cuda_sync,
    .set_stream = pl__cuda_set_stream,
    .now_ms = pl__cuda_now_ms,
    .time_region = pl__cuda_time_region,
    .find_kernel = pl__cuda_find_kernel,
    .optimize = pl__cuda_optimize,
    .capture_begin = pl__cuda_capture_begin,
    .capture_end = pl__cuda_capture_end,
    .replay = pl__cuda_replay,
    .get_stream = pl__cuda_get_stream,
    .lanes_init = pl__cuda_lanes_init,
    .lane_select = pl__cuda_lane_select,
    .lane_record = pl__cuda_lane_record,
    .lane_wait = pl__cuda_lane_wait,
};
