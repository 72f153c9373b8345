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

struct pl_engine {
    pl__plan *plan;
    bool owns_plan;
    void *file_bytes;        /* what the plan borrows: malloc'ed or mmapped */
    size_t file_size;
    bool mapped;
    const pl__backend *backend;
    pl_network *net;         /* == plan->net */
    const pl__kernel_def **kernels; /* per layer: on the backend, or CPU for host layers */
    bool *on_host;           /* per layer: runs on the CPU in a device engine */
    bool *value_needed;      /* per tensor */
    int *last_use;           /* per tensor: index of the last layer reading it */
    void **const_dev;        /* per tensor: device copy of constants (device engines) */
    void *const_block;       /* one device allocation holding every constant */
    void *backend_ctx;       /* for constant upload / release */
    pl__memplan mp;
    int nio;
    int32_t *io;             /* inputs then outputs: tensor ids */
};

/* Prepares an engine for its plan's device. With owns_plan the engine frees the plan. */
pl_status pl__engine_create(pl__plan *plan, bool owns_plan, pl_engine **out);

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
    pl__tview *captured_views; /* views as they were when the graph was captured */
    void **state;            /* per layer: the kernel's per-context state (state_create) */
    bool *state_made;
};

pl_status pl__context_execute(pl_context *ctx);

/* Memory plan: liveness-based offsets in one arena per residency, aliasing honoured. */
pl_status pl__memplan_build(pl_engine *e);
void pl__memplan_free(pl__memplan *mp);

#endif
