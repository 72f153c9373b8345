/*
 * exec.h - the runtime's internals: an engine (a plan prepared for one backend: kernels resolved,
 * layers placed, memory planned, constants resident) and an execution context (arenas, bound I/O,
 * current shapes). The builder uses the same machinery to time tactics and report peak memory.
 */
#ifndef PL_EXEC_H
#define PL_EXEC_H

#include "backends/backend.h"
#include "graph/infer.h"
#include "plan/plan.h"

typedef struct pl__memplan {
    int64_t *dev_off;   /* per tensor: offset in the device arena, -1 if none */
    int64_t *host_off;  /* per tensor: offset in the host arena (device engines), -1 if none */
    size_t *bytes;      /* per tensor: planned (upper-bound) bytes */
    size_t dev_size, host_size, workspace;
} pl__memplan;

/* Lanes: extra streams for independent branches (lanes.c). n == 1: everything on the context's
 * stream, the other fields NULL. */
#define PL__MAX_LANES 4
typedef struct pl__lanes {
    int n;
    int *lane;      /* per layer */
    int *wait_off;  /* per layer, nlayers + 1 entries: its range in waits */
    int *waits;     /* layers whose completion the layer's lane waits for (their events) */
    bool *record;   /* per layer: record its event after it runs (a later layer waits on it) */
    uint64_t *before; /* per layer: bitset of the layers that complete before it starts */
    int words;      /* 64-bit words per bitset */
} pl__lanes;

/* Why a layer of a device engine runs on the CPU (pl_engine.on_host). */
enum { PL__ON_DEVICE = 0, PL__HOST_FALLBACK = 1, PL__HOST_SHAPE = 2 };

struct pl_engine {
    pl__plan *plan;
    bool owns_plan;
    void *file_bytes;        /* what the plan borrows: malloc'ed or mmapped */
    size_t file_size;
    bool mapped;
    const pl__backend *backend;
    pl_network *net;         /* == plan->net */
    const pl__kernel_def **kernels; /* per layer: on the backend, or CPU for host layers */
    uint8_t *on_host;        /* per layer: runs on the CPU in a device engine, and why */
    bool *value_needed;      /* per tensor */
    /* per tensor: its values are a function of the input shapes alone (constants, outputs of
     * dims-only layers such as Shape, and host layers computing only from those), so a CUDA
     * graph captured for given input shapes may bake them in */
    bool *shape_pure;
    int *last_use;           /* per tensor: index of the last layer reading it */
    void **const_dev;        /* per tensor: device copy of constants (device engines) */
    void *const_block;       /* one device allocation holding every constant */
    void *backend_ctx;       /* for constant upload / release */
    pl__memplan mp;
    pl__lanes lanes;
    bool capturable;         /* executions may be captured into a CUDA graph per input shapes */
    int nio;
    int32_t *io;             /* inputs then outputs: tensor ids */
};

/* Prepares an engine for its plan's device. With owns_plan the engine frees the plan. */
pl_status pl__engine_create(pl__plan *plan, bool owns_plan, pl_engine **out);
/* Where layer li runs, for kernel names: the backend's name, "cpu" (no device kernel took it)
 * or "cpu:shape" (its outputs only feed shapes, computed on the host by design). */
const char *pl__engine_layer_device(const pl_engine *e, int li);

typedef struct pl__binding {
    void *data;
    pl_memory where;
    size_t capacity;
    bool set;
    void *owned; /* pl_context_alloc_tensor's buffer (backend memory) */
} pl__binding;

/* Called by a timed execution at each layer with several tactics: run `run` (which executes the
 * layer with the given tactic) as the callback sees fit and return the chosen tactic. */
typedef int (*pl__tactic_chooser)(void *user, const pl__layer *l, const pl__kernel_def *k,
                                  const pl__kernel_args *args,
                                  double (*time_tactic)(void *ctx, int tactic), void *time_ctx);

/* A tensor's views and freshness at the end of a captured execution (restored on replay). */
typedef struct pl__captured {
    pl__tview dev, host;
    bool dev_fresh, host_fresh;
} pl__captured;

struct pl_context {
    pl_engine *engine;
    void *bctx;              /* device backend state */
    void *host_bctx;         /* CPU backend state for host layers (device engines) */
    void *dev_arena, *host_arena, *workspace, *host_workspace;
    pl__binding *bind;       /* per I/O entry */
    int64_t (*in_dims)[PL_MAX_RANK]; /* per graph input */
    bool *in_set;
    pl__tview *views;        /* per tensor: current shape, data where it lives */
    pl__tview *host_views;   /* per tensor: host copy (device engines) */
    bool *host_fresh;        /* host copy is current this execution */
    bool *dev_fresh;
    void *stream;
    bool executed;
    bool captured;           /* a CUDA graph of this context's execution exists */
    uint64_t capture_key;    /* shapes and bindings the capture was taken with */
    pl__tactic_chooser chooser;
    void *chooser_user;
    pl__captured *captured_views; /* per tensor, as it was when the graph was captured */
    bool lanes_on;           /* this execution spreads layers over the engine's lanes */
    void **state;            /* per layer: the kernel's per-context state (state_create) */
    bool *state_made;
};

pl_status pl__context_execute(pl_context *ctx);

/* Memory plan: liveness-based offsets in one arena per residency, aliasing honoured. */
pl_status pl__memplan_build(pl_engine *e);
void pl__memplan_free(pl__memplan *mp);

/* Device workspace: one slice of mp.workspace bytes (256-aligned) per lane, since layers on
 * different lanes run at the same time. */
static inline size_t pl__workspace_stride(const pl_engine *e) {
    return (e->mp.workspace + 255) & ~(size_t)255;
}
static inline size_t pl__workspace_total(const pl_engine *e) {
    return e->lanes.n > 1 ? pl__workspace_stride(e) * (size_t)e->lanes.n : e->mp.workspace;
}

/* Whether host layer li of a device engine computes shapes from the input shapes alone: it
 * touches no device memory and its results are fixed by the input shapes. */
static inline bool pl__host_layer_pure(const pl_engine *e, int li) {
    const pl__layer *l = &e->net->layers[li];
    if (e->on_host[li] != PL__HOST_SHAPE)
        return false;
    for (int k = 0; k < l->nout; k++)
        if (!e->shape_pure[l->out[k]])
            return false;
    return true;
}

/* Whether the engine's layers never make the host wait for the device mid-run: every layer on
 * the device or a pure host shape layer, none with a data-dependent output shape. The condition
 * for lanes, and (with value inputs known on the host) for CUDA graph capture. */
bool pl__engine_runs_async(const pl_engine *e);

/* Events a context with lanes needs: one per layer, the fork, one join per extra lane. */
static inline int pl__lane_events(const pl_engine *e) { return e->net->nlayers + e->lanes.n; }

/* Lanes (lanes.c): assigns lanes to an engine whose layers are placed (at most max_lanes; one
 * when the engine does not qualify), the events between them and the happens-before order. */
pl_status pl__lanes_build(pl_engine *e, int max_lanes);
void pl__lanes_free(pl__lanes *ln);
/* Whether layer a completes before layer b starts (-1: before every layer; nlayers: the end). */
bool pl__lanes_before(const pl_engine *e, int a, int b);
/* The last layer index at which tensor t's bytes may still be in use, given its sequential last
 * use: later layers start only after every access to t has completed. */
int pl__lanes_last_touch(const pl_engine *e, int32_t t, int seq_last);

#endif
