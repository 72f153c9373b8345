/*
 * context.c - execution contexts: bound I/O, input shapes, arenas, and the layer loop. Shapes are
 * re-inferred per layer at execution, so dynamic and data-dependent extents flow naturally; every
 * tensor is checked against its planned upper bound before a kernel writes it. In a device engine
 * a tensor lives on the device, the host, or both; copies between them are made lazily when a
 * consumer on the other side needs them.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "plugin/plugin-host.h"
#include "runtime/exec.h"

static int pl__io_index(const pl_engine *e, const char *name) {
    for (int i = 0; i < e->nio; i++)
        if (strcmp(e->net->tensors[e->io[i]].name, name) == 0)
            return i;
    return -1;
}

void pl_context_free(pl_context *c) {
    const pl__backend *b;
    if (!c)
        return;
    b = c->engine->backend;
    for (int i = 0; c->bind && i < c->engine->nio; i++)
        if (c->bind[i].owned)
            b->release(c->bctx, c->bind[i].owned);
    if (c->dev_arena)
        b->release(c->bctx, c->dev_arena);
    if (c->workspace)
        b->release(c->bctx, c->workspace);
    free(c->host_arena);
    free(c->host_workspace);
    for (int li = 0; c->state_made && li < c->engine->net->nlayers; li++)
        if (c->state_made[li] && c->engine->kernels[li]->state_destroy)
            c->engine->kernels[li]->state_destroy(&c->engine->net->layers[li], c->state[li]);
    free(c->state);
    free(c->state_made);
    free(c->captured_views);
    if (c->bctx)
        b->destroy(c->bctx);
    if (c->host_bctx)
        pl__cpu_backend.destroy(c->host_bctx);
    free(c->bind);
    free(c->in_dims);
    free(c->in_set);
    free(c->views);
    free(c->host_views);
    free(c->host_fresh);
    free(c->dev_fresh);
    free(c);
}

pl_status pl_context_create(pl_engine *e, pl_context **out) {
    pl_context *c;
    const pl__backend *b;
    int nt;
    pl_status s;
    if (!e || !out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_context_create: NULL argument");
    b = e->backend;
    nt = e->net->ntensors;
    c = calloc(1, sizeof(*c));
    if (!c)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    c->engine = e;
    c->bind = calloc((size_t)e->nio + 1, sizeof(*c->bind));
    c->in_dims = calloc((size_t)e->net->ninputs + 1, sizeof(*c->in_dims));
    c->in_set = calloc((size_t)e->net->ninputs + 1, 1);
    c->views = calloc((size_t)nt + 1, sizeof(pl__tview));
    c->host_views = calloc((size_t)nt + 1, sizeof(pl__tview));
    c->host_fresh = calloc((size_t)nt + 1, 1);
    c->dev_fresh = calloc((size_t)nt + 1, 1);
    c->state = calloc((size_t)e->net->nlayers + 1, sizeof(void *));
    c->state_made = calloc((size_t)e->net->nlayers + 1, 1);
    if (!c->state || !c->state_made || !c->bind || !c->in_dims || !c->in_set || !c->views || !c->host_views || !c->host_fresh ||
        !c->dev_fresh) {
        pl_context_free(c);
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    }
    if ((s = b->create(&c->bctx)))
        goto fail;
    if (!b->host_memory && (s = pl__cpu_backend.create(&c->host_bctx)))
        goto fail;
    if (e->mp.dev_size && (s = b->alloc(c->bctx, e->mp.dev_size, &c->dev_arena)))
        goto fail;
    if (e->mp.workspace && (s = b->alloc(c->bctx, pl__workspace_total(e), &c->workspace)))
        goto fail;
    if (e->lanes.n > 1 && (s = b->lanes_init(c->bctx, e->lanes.n, pl__lane_events(e))))
        goto fail;
    if (e->mp.host_size && !(c->host_arena = aligned_alloc(256, (e->mp.host_size + 255) & ~(size_t)255))) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory allocating %zu bytes of host activations", e->mp.host_size);
        goto fail;
    }
    if (!b->host_memory && e->mp.workspace &&
        !(c->host_workspace = aligned_alloc(256, (e->mp.workspace + 255) & ~(size_t)255))) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    /* static inputs need no set_input_shape */
    for (int i = 0; i < e->net->ninputs; i++) {
        const pl__tensor *t = &e->net->tensors[e->net->inputs[i]];
        bool fixed = true;
        for (int d = 0; d < t->rank; d++) {
            c->in_dims[i][d] = t->opt_dims[d];
            fixed &= t->min_dims[d] == t->max_dims[d];
        }
        c->in_set[i] = fixed;
    }
    *out = c;
    return PL_OK;
fail:
    pl_context_free(c);
    return s;
}

pl_status pl_context_set_input_shape(pl_context *c, const char *name, int rank, const int64_t *dims) {
    const pl_network *net;
    int i = -1;
    const pl__tensor *t;
    char buf[160], lo[160], hi[160];
    if (!c || !name || (rank && !dims))
        return pl__fail(PL_ERR_INVALID_ARG, "pl_context_set_input_shape: NULL argument");
    net = c->engine->net;
    for (int k = 0; k < net->ninputs; k++)
        if (strcmp(net->tensors[net->inputs[k]].name, name) == 0)
            i = k;
    if (i < 0)
        return pl__fail(PL_ERR_NOT_FOUND, "input '%s': the engine has no input of that name", name);
    t = &net->tensors[net->inputs[i]];
    if (rank != t->rank)
        return pl__fail(PL_ERR_SHAPE, "input '%s': rank %d given, the engine expects %d", name, rank, t->rank);
    for (int d = 0; d < rank; d++)
        if (dims[d] < t->min_dims[d] || dims[d] > t->max_dims[d])
            return pl__fail(PL_ERR_SHAPE, "input '%s': shape %s is outside the profile %s..%s", name,
                            pl__dims_str(rank, dims, buf, sizeof(buf)),
                            pl__dims_str(rank, t->min_dims, lo, sizeof(lo)),
                            pl__dims_str(rank, t->max_dims, hi, sizeof(hi)));
    if (rank)
        memcpy(c->in_dims[i], dims, sizeof(int64_t) * (size_t)rank);
    c->in_set[i] = true;
    return PL_OK;
}

pl_status pl_context_get_shape(pl_context *c, const char *name, int *rank, int64_t *dims) {
    pl_engine *e;
    int io;
    int32_t t;
    pl__shape_pass sp;
    const int64_t *dimp[256];
    if (!c || !name || !rank || !dims)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_context_get_shape: NULL argument");
    e = c->engine;
    io = pl__io_index(e, name);
    if (io < 0)
        return pl__fail(PL_ERR_NOT_FOUND, "tensor '%s': not an input or output of the engine", name);
    t = e->io[io];
    *rank = e->net->tensors[t].rank;
    if (c->executed) {
        memcpy(dims, c->views[t].dims, sizeof(int64_t) * (size_t)*rank);
        return PL_OK;
    }
    if (io < e->net->ninputs) {
        memcpy(dims, c->in_dims[io], sizeof(int64_t) * (size_t)*rank);
        return PL_OK;
    }
    if (e->net->ninputs <= 256) {
        const void *vals[256];
        for (int i = 0; i < e->net->ninputs; i++) {
            dimp[i] = c->in_dims[i];
            /* shape-tensor inputs bound in host memory give their values */
            const pl__tensor *it = &e->net->tensors[e->net->inputs[i]];
            size_t need = (size_t)pl__numel(it->rank, c->in_dims[i]) * pl_dtype_size(it->dtype);
            vals[i] = c->bind[i].set && c->bind[i].where == PL_MEMORY_HOST && c->bind[i].capacity >= need
                          ? c->bind[i].data : NULL;
        }
        if (pl__shape_pass_run(e->net, dimp, false, 0, NULL, vals, &sp) == PL_OK) {
            memcpy(dims, sp.v[t].dims, sizeof(int64_t) * (size_t)*rank);
            if (e->net->tensors[t].data_dependent)
                memcpy(dims, e->net->tensors[t].max_dims, sizeof(int64_t) * (size_t)*rank);
            pl__shape_pass_free(&sp);
            return PL_OK;
        }
    }
    pl__clear_error();
    memcpy(dims, e->net->tensors[t].max_dims, sizeof(int64_t) * (size_t)*rank);
    return PL_OK;
}

pl_status pl_context_set_tensor(pl_context *c, const char *name, void *data, pl_memory where,
                                size_t capacity) {
    int io;
    if (!c || !name)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_context_set_tensor: NULL argument");
    io = pl__io_index(c->engine, name);
    if (io < 0)
        return pl__fail(PL_ERR_NOT_FOUND, "tensor '%s': not an input or output of the engine", name);
    if (!data && capacity)
        return pl__fail(PL_ERR_INVALID_ARG, "tensor '%s': NULL buffer", name);
    c->bind[io].data = data;
    c->bind[io].where = c->engine->backend->host_memory ? PL_MEMORY_HOST : where;
    c->bind[io].capacity = capacity;
    c->bind[io].set = true;
    c->captured = false;
    return PL_OK;
}

pl_status pl_context_alloc_tensor(pl_context *c, const char *name, void **ptr) {
    pl_engine *e;
    int io;
    size_t bytes;
    pl_status s;
    if (!c || !name)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_context_alloc_tensor: NULL argument");
    e = c->engine;
    io = pl__io_index(e, name);
    if (io < 0)
        return pl__fail(PL_ERR_NOT_FOUND, "tensor '%s': not an input or output of the engine", name);
    bytes = e->mp.bytes[e->io[io]];
    if (c->bind[io].owned) {
        e->backend->release(c->bctx, c->bind[io].owned);
        c->bind[io].owned = NULL;
    }
    if ((s = e->backend->alloc(c->bctx, bytes ? bytes : 1, &c->bind[io].owned)))
        return pl__fail_prefix(s, "tensor '%s'", name);
    c->bind[io].data = c->bind[io].owned;
    c->bind[io].where = PL_MEMORY_DEVICE;
    c->bind[io].capacity = bytes;
    c->bind[io].set = true;
    c->captured = false;
    if (ptr)
        *ptr = c->bind[io].owned;
    return PL_OK;
}

static pl_status pl__context_copy_io(pl_context *c, const char *name, void *host, size_t bytes,
                                     bool to_device) {
    pl_engine *e;
    int io;
    pl__binding *bd;
    pl_status s;
    if (!c || !name || (bytes && !host))
        return pl__fail(PL_ERR_INVALID_ARG, "pl_context_%s_tensor: NULL argument", to_device ? "write" : "read");
    e = c->engine;
    io = pl__io_index(e, name);
    if (io < 0)
        return pl__fail(PL_ERR_NOT_FOUND, "tensor '%s': not an input or output of the engine", name);
    bd = &c->bind[io];
    if (!bd->set)
        return pl__fail(PL_ERR_INVALID_ARG, "tensor '%s': no buffer bound", name);
    if (bytes > bd->capacity)
        return pl__fail(PL_ERR_INVALID_ARG, "tensor '%s': %zu bytes do not fit its %zu-byte buffer",
                        name, bytes, bd->capacity);
    if (!bytes)
        return PL_OK;
    if (e->backend->host_memory || bd->where == PL_MEMORY_HOST) {
        memmove(to_device ? bd->data : host, to_device ? host : bd->data, bytes);
        return PL_OK;
    }
    s = e->backend->copy(c->bctx, to_device ? bd->data : host, to_device ? host : bd->data, bytes,
                         to_device ? PL__H2D : PL__D2H);
    if (!s)
        s = e->backend->sync(c->bctx);
    return s;
}

pl_status pl_context_write_tensor(pl_context *c, const char *name, const void *host, size_t bytes) {
    return pl__context_copy_io(c, name, (void *)host, bytes, true);
}

pl_status pl_context_read_tensor(pl_context *c, const char *name, void *host, size_t bytes) {
    return pl__context_copy_io(c, name, host, bytes, false);
}

void pl_context_set_stream(pl_context *c, void *stream) {
    if (!c)
        return;
    c->stream = stream;
    c->captured = false;
    if (c->engine->backend->set_stream)
        c->engine->backend->set_stream(c->bctx, stream);
}

/* ---- the layer loop ---- */

static pl_status pl__ensure_host(pl_context *c, int32_t t) {
    pl_engine *e = c->engine;
    pl__tview *h = &c->host_views[t], *d = &c->views[t];
    size_t bytes;
    if (e->backend->host_memory || c->host_fresh[t])
        return PL_OK;
    *h = *d;
    if (e->net->tensors[t].kind == PL__TENSOR_CONST) {
        h->data = e->net->tensors[t].data;
        c->host_fresh[t] = true;
        return PL_OK;
    }
    if (e->mp.host_off[t] < 0)
        return pl__fail(PL_ERR_INTERNAL, "tensor '%s' has no host slot", e->net->tensors[t].name);
    h->data = (char *)c->host_arena + e->mp.host_off[t];
    bytes = pl__tview_bytes(d);
    if (bytes) {
        pl_status s = e->backend->copy(c->bctx, h->data, d->data, bytes, PL__D2H);
        if (!s)
            s = e->backend->sync(c->bctx);
        if (s)
            return s;
    }
    c->host_fresh[t] = true;
    return PL_OK;
}

static pl_status pl__ensure_dev(pl_context *c, int32_t t) {
    pl_engine *e = c->engine;
    pl__tview *h = &c->host_views[t], *d = &c->views[t];
    size_t bytes;
    if (e->backend->host_memory || c->dev_fresh[t])
        return PL_OK;
    *d = *h;
    if (e->mp.dev_off[t] < 0)
        return pl__fail(PL_ERR_INTERNAL, "tensor '%s' has no device slot", e->net->tensors[t].name);
    d->data = (char *)c->dev_arena + e->mp.dev_off[t];
    bytes = pl__tview_bytes(h);
    if (bytes) {
        pl_status s = e->backend->copy(c->bctx, d->data, h->data, bytes, PL__H2D);
        if (s)
            return s;
    }
    c->dev_fresh[t] = true;
    return PL_OK;
}

typedef struct pl__time_ctx {
    pl_context *c;
    const pl__kernel_def *k;
    pl__kernel_args *a;
    const pl__backend *b;
    uint64_t warmed; /* tactics run once already */
} pl__time_ctx;

/* Milliseconds of one run of a layer with a tactic (the chooser calls this several times per
 * tactic, round-robin over the tactics, and keeps each one's best). The first call per tactic
 * runs it once untimed (lazy loading, plans). With the backend's time_region (GPU) the run is
 * queued behind a device delay and timed between GPU marks, so that GPU time alone counts: a
 * built engine replays a CUDA graph, where the host cost of a launch (cuDNN plans its fused
 * calls on the host) is gone, and counting it once chose CUDA-core kernels over tensor-core ones
 * 3x faster on the GPU at batch 1. */
static double pl__time_tactic(void *vctx, int tactic) {
    pl__time_ctx *tc = vctx;
    double t0, t1, ms;
    tc->a->tactic = tactic;
    if (tactic < 64 && !(tc->warmed >> tactic & 1)) {
        if (tc->k->run(tc->a) != PL_OK) /* a failing tactic is never chosen */
            return 1e30;
        tc->warmed |= (uint64_t)1 << tactic;
    }
    for (int attempt = 0; tc->b->time_region && attempt < 8; attempt++) {
        if (tc->b->time_region(tc->a->bctx, 0) < 0)
            break;
        if (tc->k->run(tc->a) != PL_OK) {
            tc->b->time_region(tc->a->bctx, 1);
            return 1e30;
        }
        ms = tc->b->time_region(tc->a->bctx, 1);
        if (ms >= 0)
            return ms;
        if (ms != -2)
            break;
    }
    tc->b->sync(tc->a->bctx);
    t0 = tc->b->now_ms(tc->a->bctx);
    if (tc->k->run(tc->a) != PL_OK)
        return 1e30;
    tc->b->sync(tc->a->bctx);
    t1 = tc->b->now_ms(tc->a->bctx);
    return t1 - t0;
}

static pl_status pl__run_layer(pl_context *c, int li) {
    pl_engine *e = c->engine;
    const pl_network *net = e->net;
    const pl__layer *l = &net->layers[li];
    bool host = e->on_host[li] && !e->backend->host_memory;
    uint32_t vi = pl__layer_value_inputs(l);
    pl__tview in[64], out[64], inf_in[64];
    pl__kernel_args a;
    pl__infer ic;
    pl_status s;
    int lane = c->lanes_on ? e->lanes.lane[li] : 0;
    /* on its lane, after the producers on other lanes; every copy below goes there too */
    if (c->lanes_on) {
        const pl__backend *b = e->backend;
        if ((s = b->lane_select(c->bctx, lane)))
            return s;
        for (int w = e->lanes.wait_off[li]; w < e->lanes.wait_off[li + 1]; w++)
            if ((s = b->lane_wait(c->bctx, e->lanes.waits[w])))
                return s;
    }
    for (int k = 0; k < l->nin; k++) {
        int32_t t = l->in[k];
        memset(&in[k], 0, sizeof(in[k]));
        memset(&inf_in[k], 0, sizeof(inf_in[k]));
        if (t < 0)
            continue;
        if (host && pl__layer_dims_only(l)) { /* Shape, Size: dims only, no copy */
            in[k] = inf_in[k] = c->views[t];
            in[k].data = inf_in[k].data = NULL;
            continue;
        }
        if (host || (vi >> k & 1)) {
            if ((s = pl__ensure_host(c, t)))
                return s;
        }
        if (host) {
            in[k] = e->backend->host_memory ? c->views[t] : c->host_views[t];
        } else {
            if ((s = pl__ensure_dev(c, t)))
                return s;
            in[k] = c->views[t];
        }
        inf_in[k] = in[k];
        /* inference reads host data only: value inputs' host copies, constants' file bytes;
         * never a device pointer */
        if (!e->backend->host_memory && !host) {
            if (vi >> k & 1)
                inf_in[k].data = c->host_views[t].data;
            else if (net->tensors[t].kind == PL__TENSOR_CONST)
                inf_in[k].data = net->tensors[t].data;
            else
                inf_in[k].data = NULL;
        }
    }
    memset(out, 0, sizeof(pl__tview) * (size_t)l->nout);
    ic.layer = l;
    ic.nin = l->nin;
    ic.in = inf_in;
    ic.nout = l->nout;
    ic.out = out;
    if ((s = pl__layer_infer(&ic)))
        return s;
    for (int k = 0; k < l->nout; k++) {
        int32_t t = l->out[k];
        size_t need = pl__tview_bytes(&out[k]);
        int64_t off = host ? e->mp.host_off[t] : e->mp.dev_off[t];
        if (need > e->mp.bytes[t]) {
            char b1[160];
            return pl__fail(PL_ERR_SHAPE, "layer '%s' (%s): output '%s' has shape %s (%zu bytes), "
                            "more than the %zu bytes planned from the build profile",
                            pl__layer_label(l), l->op, net->tensors[t].name,
                            pl__dims_str(out[k].rank, out[k].dims, b1, sizeof(b1)), need, e->mp.bytes[t]);
        }
        if (off < 0)
            return pl__fail(PL_ERR_INTERNAL, "tensor '%s' has no slot", net->tensors[t].name);
        out[k].data = (char *)(host ? c->host_arena : c->dev_arena) + off;
        /* in-place output whose input could not give up its bytes: copy first */
        if (!l->def) {
            int j = pl__plugin_alias(l, k);
            if (j >= 0 && j < l->nin && in[j].data && in[j].data != out[k].data) {
                size_t nb = pl__tview_bytes(&in[j]);
                if (nb > e->mp.bytes[t])
                    return pl__fail(PL_ERR_SHAPE, "layer '%s': in-place output larger than planned",
                                    pl__layer_label(l));
                if (nb && (s = (host ? pl__cpu_backend.copy(c->host_bctx, out[k].data, in[j].data, nb, PL__D2D)
                                     : e->backend->copy(c->bctx, out[k].data, in[j].data, nb, PL__D2D))))
                    return s;
            }
        }
    }
    memset(&a, 0, sizeof(a));
    a.layer = l;
    a.nin = l->nin;
    a.in = in;
    a.host_in = inf_in;
    a.nout = l->nout;
    a.out = out;
    a.bctx = host ? c->host_bctx : c->bctx;
    a.workspace = host ? c->host_workspace : c->workspace;
    if (lane > 0 && a.workspace)
        a.workspace = (char *)a.workspace + pl__workspace_stride(e) * (size_t)lane;
    a.workspace_size = e->mp.workspace;
    a.tactic = l->tactic;
    if (!c->state_made[li] && e->kernels[li]->state_create) {
        if ((s = e->kernels[li]->state_create(&a, &c->state[li])))
            return pl__fail_prefix(s, "layer '%s' (%s): creating its per-context state",
                                   pl__layer_label(l), l->op);
        c->state_made[li] = true;
    }
    a.state = c->state[li];
    if (c->chooser && e->kernels[li]->ntactics > 1) {
        pl__time_ctx tc = {c, e->kernels[li], &a, host ? &pl__cpu_backend : e->backend, 0};
        int chosen = c->chooser(c->chooser_user, l, e->kernels[li], &a, pl__time_tactic, &tc);
        a.tactic = chosen;
        ((pl__layer *)l)->tactic = chosen; /* builder-owned network: recorded in the plan */
    }
    s = e->kernels[li]->run(&a);
    if (s)
        return pl__fail_prefix(s, "executing layer '%s' (%s)", pl__layer_label(l), l->op);
    if (c->lanes_on && e->lanes.record[li] && (s = e->backend->lane_record(c->bctx, li)))
        return s;
    for (int k = 0; k < l->nout; k++) {
        int32_t t = l->out[k];
        if (out[k].rank < 0 || out[k].rank > PL_MAX_RANK || pl__tview_bytes(&out[k]) > e->mp.bytes[t])
            return pl__fail(PL_ERR_SHAPE, "layer '%s' (%s): the kernel reported an output shape "
                            "beyond its upper bound", pl__layer_label(l), l->op);
        if (host) {
            c->host_views[t] = out[k];
            c->host_fresh[t] = true;
            c->dev_fresh[t] = false;
            c->views[t] = out[k];
            c->views[t].data = e->mp.dev_off[t] >= 0 ? (char *)c->dev_arena + e->mp.dev_off[t] : NULL;
        } else {
            c->views[t] = out[k];
            c->dev_fresh[t] = true;
            c->host_fresh[t] = e->backend->host_memory;
        }
    }
    return PL_OK;
}

/* Runs every layer. With lanes: the other lanes first wait for lane 0 (where the inputs were
 * staged), and lane 0 finally waits for all of them (outputs are read there, and a CUDA graph
 * capture must end with every lane joined) even when a layer failed. */
static pl_status pl__run_layers(pl_context *c) {
    pl_engine *e = c->engine;
    const pl__backend *b = e->backend;
    int nl = e->net->nlayers, n = e->lanes.n;
    pl_status s = PL_OK, js = PL_OK;
    c->lanes_on = n > 1 && !c->chooser;
    if (c->lanes_on) {
        if ((s = b->lane_select(c->bctx, 0)) || (s = b->lane_record(c->bctx, nl)))
            return s;
        for (int k = 1; k < n && !s; k++)
            if (!(s = b->lane_select(c->bctx, k)))
                s = b->lane_wait(c->bctx, nl);
    }
    for (int li = 0; li < nl && !s; li++)
        s = pl__run_layer(c, li);
    if (c->lanes_on) {
        for (int k = 1; k < n && !js; k++)
            if (!(js = b->lane_select(c->bctx, k)) && !(js = b->lane_record(c->bctx, nl + k)) &&
                !(js = b->lane_select(c->bctx, 0)))
                js = b->lane_wait(c->bctx, nl + k);
        if (!js)
            js = b->lane_select(c->bctx, 0);
        c->lanes_on = false;
    }
    return s ? s : js;
}

static uint64_t pl__capture_key(const pl_context *c) {
    const pl_engine *e = c->engine;
    XXH64_state_t *st = XXH64_createState();
    uint64_t h;
    if (!st)
        return 0;
    XXH64_reset(st, 0);
    XXH64_update(st, c->in_dims, sizeof(*c->in_dims) * (size_t)e->net->ninputs);
    for (int i = 0; i < e->nio; i++) {
        XXH64_update(st, &c->bind[i].data, sizeof(void *));
        XXH64_update(st, &c->bind[i].where, sizeof(c->bind[i].where));
    }
    XXH64_update(st, &c->stream, sizeof(void *));
    h = XXH64_digest(st);
    XXH64_freeState(st);
    return h;
}

pl_status pl__context_execute(pl_context *c) {
    pl_engine *e = c->engine;
    const pl_network *net = e->net;
    const pl__backend *b = e->backend;
    bool hm = b->host_memory;
    pl_status s = PL_OK;
    c->executed = false;
    for (int i = 0; i < net->ninputs; i++) {
        int32_t t = net->inputs[i];
        const pl__tensor *tt = &net->tensors[t];
        pl__tview v;
        size_t bytes;
        if (!c->in_set[i])
            return pl__fail(PL_ERR_SHAPE, "input '%s' has dynamic dims: set its shape first", tt->name);
        if (!c->bind[i].set)
            return pl__fail(PL_ERR_INVALID_ARG, "input '%s': no buffer bound", tt->name);
        v.dtype = tt->dtype;
        v.rank = tt->rank;
        memcpy(v.dims, c->in_dims[i], sizeof(v.dims));
        v.data = c->bind[i].data;
        bytes = pl__tview_bytes(&v);
        if (c->bind[i].capacity < bytes)
            return pl__fail(PL_ERR_INVALID_ARG, "input '%s': the bound buffer holds %zu bytes, %zu needed",
                            tt->name, c->bind[i].capacity, bytes);
        c->views[t] = v;
        c->host_views[t] = v;
        if (hm) {
            c->dev_fresh[t] = c->host_fresh[t] = true;
        } else if (c->bind[i].where == PL_MEMORY_DEVICE) {
            c->dev_fresh[t] = true;
            c->host_fresh[t] = false;
        } else {
            c->host_fresh[t] = true;
            c->dev_fresh[t] = false;
            /* stage now so that a captured graph sees the data in its device slot */
            if (e->mp.dev_off[t] >= 0 && (s = pl__ensure_dev(c, t)))
                return s;
        }
    }
    for (int t = 0; t < net->ntensors; t++) {
        const pl__tensor *tt = &net->tensors[t];
        if (tt->kind != PL__TENSOR_CONST)
            continue;
        c->views[t].dtype = c->host_views[t].dtype = tt->dtype;
        c->views[t].rank = c->host_views[t].rank = tt->rank;
        memcpy(c->views[t].dims, tt->dims, sizeof(tt->dims));
        memcpy(c->host_views[t].dims, tt->dims, sizeof(tt->dims));
        c->host_views[t].data = tt->data;
        c->views[t].data = hm ? tt->data : e->const_dev[t];
        c->host_fresh[t] = c->dev_fresh[t] = true;
    }
    for (int t = 0; t < net->ntensors; t++)
        if (net->tensors[t].kind == PL__TENSOR_ACT)
            c->host_fresh[t] = c->dev_fresh[t] = false;

    if (e->capturable && !c->chooser) {
        uint64_t key = pl__capture_key(c);
        if (c->captured && key == c->capture_key) {
            s = b->replay(c->bctx);
            if (s)
                return s;
            /* the key holds the input shapes: every tensor has the shape it had at capture,
             * and host layers' outputs (shapes) still hold what they computed then */
            for (int li = 0; li < net->nlayers; li++)
                for (int k = 0; k < net->layers[li].nout; k++) {
                    int32_t t = net->layers[li].out[k];
                    const pl__captured *cv = &c->captured_views[t];
                    c->views[t] = cv->dev;
                    c->host_views[t] = cv->host;
                    c->dev_fresh[t] = cv->dev_fresh;
                    c->host_fresh[t] = cv->host_fresh;
                }
            goto outputs;
        }
        if (c->capture_key == key && !c->captured) {
            /* second run with the same shapes and buffers: capture this one */
            bool ok = b->capture_begin(c->bctx) == PL_OK;
            s = pl__run_layers(c);
            if (ok) {
                pl_status cs = b->capture_end(c->bctx);
                if (!s && !cs && !c->captured_views)
                    c->captured_views = malloc(sizeof(pl__captured) * ((size_t)net->ntensors + 1));
                if (!s && !cs && c->captured_views) {
                    for (int t = 0; t < net->ntensors; t++) {
                        c->captured_views[t].dev = c->views[t];
                        c->captured_views[t].host = c->host_views[t];
                        c->captured_views[t].dev_fresh = c->dev_fresh[t];
                        c->captured_views[t].host_fresh = c->host_fresh[t];
                    }
                    c->captured = true;
                    s = b->replay(c->bctx);
                } else {
                    pl__log(PL_LOG_INFO, "graph capture failed; running uncaptured");
                    pl__clear_error();
                    s = pl__run_layers(c);
                }
            }
            if (s)
                return s;
            goto outputs;
        }
        c->capture_key = key; /* new shapes or buffers: a stale graph must never replay */
        c->captured = false;
    }
    if ((s = pl__run_layers(c)))
        return s;
outputs:
    for (int i = net->ninputs; i < e->nio; i++) {
        int32_t t = e->io[i];
        const pl__tensor *tt = &net->tensors[t];
        pl__binding *bd = &c->bind[i];
        size_t bytes;
        bool from_host;
        if (!bd->set)
            continue; /* an unbound output is simply not copied out */
        from_host = !hm && (tt->kind == PL__TENSOR_CONST ? bd->where == PL_MEMORY_HOST
                                                          : (c->host_fresh[t] && !c->dev_fresh[t]));
        bytes = pl__tview_bytes(from_host ? &c->host_views[t] : &c->views[t]);
        if (bd->capacity < bytes)
            return pl__fail(PL_ERR_INVALID_ARG, "output '%s': the bound buffer holds %zu bytes, %zu needed",
                            tt->name, bd->capacity, bytes);
        if (!bytes)
            continue;
        if (hm) {
            memmove(bd->data, c->views[t].data, bytes);
        } else {
            const void *src = from_host ? c->host_views[t].data : c->views[t].data;
            pl__copy_kind kind = from_host ? (bd->where == PL_MEMORY_HOST ? PL__D2D : PL__H2D)
                                           : (bd->where == PL_MEMORY_HOST ? PL__D2H : PL__D2D);
            if (from_host && bd->where == PL_MEMORY_HOST)
                memmove(bd->data, src, bytes);
            else if ((s = b->copy(c->bctx, bd->data, src, bytes, kind)))
                return s;
        }
        if (from_host)
            c->views[t] = c->host_views[t];
    }
    if ((s = b->sync(c->bctx)))
        return s;
    c->executed = true;
    return PL_OK;
}

pl_status pl_context_execute(pl_context *c) {
    if (!c)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_context_execute: NULL context");
    return pl__context_execute(c);
}
