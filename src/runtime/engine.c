/*
 * engine.c - loading an engine (from memory or a mapped file) and preparing it for its backend:
 * kernels resolved, layers placed, constants made resident, memory planned. Also the engine's
 * introspection API.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin/plugin-host.h"
#include "runtime/exec.h"

/* Kernel args with the tensors' upper-bound shapes and no data, for supports()/workspace(). */
static void pl__max_args(const pl_network *net, const pl__layer *l, pl__tview *in, pl__tview *out,
                         pl__kernel_args *a) {
    for (int k = 0; k < l->nin; k++) {
        memset(&in[k], 0, sizeof(in[k]));
        if (l->in[k] < 0)
            continue;
        in[k].dtype = net->tensors[l->in[k]].dtype;
        in[k].rank = net->tensors[l->in[k]].rank;
        memcpy(in[k].dims, net->tensors[l->in[k]].max_dims, sizeof(in[k].dims));
        if (net->tensors[l->in[k]].kind == PL__TENSOR_CONST)
            in[k].data = net->tensors[l->in[k]].data;
    }
    for (int k = 0; k < l->nout; k++) {
        memset(&out[k], 0, sizeof(out[k]));
        out[k].dtype = net->tensors[l->out[k]].dtype;
        out[k].rank = net->tensors[l->out[k]].rank;
        memcpy(out[k].dims, net->tensors[l->out[k]].max_dims, sizeof(out[k].dims));
    }
    memset(a, 0, sizeof(*a));
    a->layer = l;
    a->nin = l->nin;
    a->in = in;
    a->nout = l->nout;
    a->out = out;
    a->tactic = l->tactic;
}

static const pl__kernel_def *pl__kernel_for(const pl__layer *l, const pl__backend *b) {
    return l->def ? b->find_kernel(l->op) : pl__plugin_kernel(l, b->device);
}

void pl_engine_free(pl_engine *e) {
    if (!e)
        return;
    pl__memplan_free(&e->mp);
    if (e->const_block && e->backend)
        e->backend->release(e->backend_ctx, e->const_block);
    if (e->backend_ctx && e->backend)
        e->backend->destroy(e->backend_ctx);
    if (e->owns_plan)
        pl__plan_free(e->plan);
    if (e->file_bytes) {
        if (e->mapped)
            munmap(e->file_bytes, e->file_size);
        else
            free(e->file_bytes);
    }
    free(e->kernels);
    free(e->on_host);
    pl__lanes_free(&e->lanes);
    free(e->value_needed);
    free(e->shape_pure);
    free(e->last_use);
    free(e->const_dev);
    free(e->io);
    free(e);
}

static bool *pl__shape_pure(const pl_engine *e) {
    const pl_network *net = e->net;
    bool *pure = calloc((size_t)net->ntensors + 1, 1);
    if (!pure)
        return NULL;
    for (int t = 0; t < net->ntensors; t++)
        pure[t] = net->tensors[t].kind == PL__TENSOR_CONST;
    for (int li = 0; li < net->nlayers; li++) {
        const pl__layer *l = &net->layers[li];
        bool p = pl__layer_dims_only(l);
        if (!p && e->on_host[li] == PL__HOST_SHAPE) {
            p = true;
            for (int k = 0; k < l->nin; k++)
                p &= l->in[k] < 0 || pure[l->in[k]];
        }
        for (int k = 0; k < l->nout; k++)
            pure[l->out[k]] = p;
    }
    return pure;
}

bool pl__engine_runs_async(const pl_engine *e) {
    for (int li = 0; li < e->net->nlayers; li++)
        if ((e->on_host[li] && !pl__host_layer_pure(e, li)) ||
            pl__layer_data_dependent(&e->net->layers[li]))
            return false;
    return true;
}

/* Whether a whole execution can be captured once per input shapes and replayed: the layers run
 * without host waits (host shape layers run while capturing, their values baked into the graph,
 * which the capture key ties to the input shapes), and every value input a device layer reads
 * is known on the host without reading the device back (that would sync inside the capture). */
static bool pl__capturable(const pl_engine *e) {
    if (!e->backend->capture_begin || e->backend->host_memory || !pl__engine_runs_async(e))
        return false;
    for (int li = 0; li < e->net->nlayers; li++) {
        const pl__layer *l = &e->net->layers[li];
        uint32_t vi = pl__layer_value_inputs(l);
        for (int k = 0; k < l->nin; k++)
            if ((vi >> k & 1) && l->in[k] >= 0 && !e->shape_pure[l->in[k]])
                return false;
    }
    return true;
}

pl_status pl__engine_create(pl__plan *plan, bool owns_plan, pl_engine **out) {
    pl_engine *e = calloc(1, sizeof(*e));
    pl_network *net;
    pl_status s = PL_OK;
    pl__tview in[64], outv[64];
    pl__kernel_args a;
    size_t ws = 0;
    if (!e)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    e->plan = plan;
    e->owns_plan = owns_plan;
    e->net = net = plan->net;
    e->backend = pl__backend_get(plan->device);
    if (!e->backend || !e->backend->available()) {
        s = pl__fail(PL_ERR_UNSUPPORTED, "the engine was built for device '%s', which %s",
                     pl_device_name(plan->device),
                     e->backend ? "is not present on this machine" : "this plinth was built without");
        goto fail;
    }
    e->kernels = calloc((size_t)net->nlayers + 1, sizeof(*e->kernels));
    e->on_host = calloc((size_t)net->nlayers + 1, 1);
    e->last_use = malloc(sizeof(int) * ((size_t)net->ntensors + 1));
    e->const_dev = calloc((size_t)net->ntensors + 1, sizeof(void *));
    e->io = malloc(sizeof(int32_t) * ((size_t)net->ninputs + net->noutputs + 1));
    e->value_needed = pl__value_needed(net);
    if (!e->kernels || !e->on_host || !e->last_use || !e->const_dev || !e->io || !e->value_needed) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int t = 0; t < net->ntensors; t++)
        e->last_use[t] = -1;
    for (int li = 0; li < net->nlayers; li++) {
        const pl__layer *l = &net->layers[li];
        for (int k = 0; k < l->nin; k++)
            if (l->in[k] >= 0)
                e->last_use[l->in[k]] = li;
    }
    for (int i = 0; i < net->ninputs; i++)
        e->io[e->nio++] = net->inputs[i];
    for (int i = 0; i < net->noutputs; i++)
        e->io[e->nio++] = net->outputs[i];
    if ((s = e->backend->create(&e->backend_ctx)))
        goto fail;

    /* kernels and placement */
    for (int li = 0; li < net->nlayers; li++) {
        const pl__layer *l = &net->layers[li];
        const pl__kernel_def *k;
        bool shape_only = l->nout > 0;
        if (l->nin > 64 || l->nout > 64) {
            s = pl__fail(PL_ERR_UNSUPPORTED, "layer '%s': too many inputs/outputs", pl__layer_label(l));
            goto fail;
        }
        for (int o = 0; o < l->nout; o++)
            shape_only &= e->value_needed[l->out[o]];
        pl__max_args(net, l, in, outv, &a);
        k = (shape_only && !e->backend->host_memory) ? NULL : pl__kernel_for(l, e->backend);
        if (k && k->supports && !k->supports(&a)) {
            pl__log(PL_LOG_INFO, "layer '%s' (%s): %s kernel declines (%s); running it on the CPU",
                    pl__layer_label(l), l->op, e->backend->name, pl_errmsg());
            k = NULL;
        }
        if (!k && !e->backend->host_memory) {
            k = pl__kernel_for(l, &pl__cpu_backend);
            /* a layer whose outputs only feed shapes runs on the host by design, not for want
             * of a device kernel */
            e->on_host[li] = shape_only || pl__layer_dims_only(l) ? PL__HOST_SHAPE
                                                                  : PL__HOST_FALLBACK;
            if (k && k->supports && !k->supports(&a))
                k = NULL;
        }
        if (!k) {
            s = pl__fail(PL_ERR_UNSUPPORTED, "layer '%s' (%s%s%s): no kernel on the %s backend%s",
                         pl__layer_label(l), l->op, l->plugin_name ? " " : "",
                         l->plugin_name ? l->plugin_name : "", e->backend->name,
                         e->backend->host_memory ? "" : " nor on the CPU");
            goto fail;
        }
        e->kernels[li] = k;
        if (k->workspace) {
            size_t w = k->workspace(&a);
            if (w > ws)
                ws = w;
        }
        if (e->on_host[li] && !e->backend->host_memory)
            pl__log(PL_LOG_VERBOSE, "layer '%s' (%s) runs on the host", pl__layer_label(l), l->op);
    }

    /* constants resident on the device */
    if (!e->backend->host_memory) {
        size_t total = 0, at = 0;
        for (int t = 0; t < net->ntensors; t++)
            if (net->tensors[t].kind == PL__TENSOR_CONST)
                total += (net->tensors[t].nbytes + 255) & ~(size_t)255;
        if (total) {
            if ((s = e->backend->alloc(e->backend_ctx, total, &e->const_block)))
                goto fail;
            for (int t = 0; t < net->ntensors; t++) {
                const pl__tensor *tt = &net->tensors[t];
                if (tt->kind != PL__TENSOR_CONST)
                    continue;
                e->const_dev[t] = (char *)e->const_block + at;
                if (tt->nbytes && (s = e->backend->copy(e->backend_ctx, e->const_dev[t], tt->data,
                                                        tt->nbytes, PL__H2D)))
                    goto fail;
                at += (tt->nbytes + 255) & ~(size_t)255;
            }
            if ((s = e->backend->sync(e->backend_ctx)))
                goto fail;
        }
    }
    if (!(e->shape_pure = pl__shape_pure(e))) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    e->capturable = pl__capturable(e);
    {
        const char *streams = pl__plan_meta(plan, "streams");
        if ((s = pl__lanes_build(e, streams ? atoi(streams) : 1)) || (s = pl__memplan_build(e)))
            goto fail;
    }
    e->mp.workspace = ws;
    *out = e;
    return PL_OK;
fail:
    e->owns_plan = owns_plan;
    if (!owns_plan)
        e->plan = NULL;
    pl_engine_free(e);
    return s;
}

static pl_status pl__engine_from_bytes(void *bytes, size_t size, bool mapped, const char *origin,
                                       pl_engine **out) {
    pl__plan *plan = NULL;
    pl_engine *e = NULL;
    pl_status s = pl__plan_deserialize(bytes, size, origin, &plan);
    if (s)
        goto fail;
    if ((s = pl__engine_create(plan, true, &e))) {
        plan = NULL; /* freed by pl__engine_create's cleanup */
        if (origin)
            pl__fail_prefix(s, "%s", origin);
        goto fail;
    }
    e->file_bytes = bytes;
    e->file_size = size;
    e->mapped = mapped;
    *out = e;
    return PL_OK;
fail:
    pl__plan_free(plan);
    if (mapped)
        munmap(bytes, size);
    else
        free(bytes);
    return s;
}

pl_status pl_engine_load(const void *data, size_t size, pl_engine **out) {
    void *copy;
    if (!data || !out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_engine_load: NULL argument");
    copy = aligned_alloc(64, (size + 63) & ~(size_t)63);
    if (!copy)
        return pl__fail(PL_ERR_NOMEM, "out of memory copying a %zu-byte engine", size);
    memcpy(copy, data, size);
    return pl__engine_from_bytes(copy, size, false, "engine", out);
}

pl_status pl_engine_load_file(const char *path, pl_engine **out) {
    int fd;
    struct stat st;
    void *p;
    if (!path || !out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_engine_load_file: NULL argument");
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return pl__fail(PL_ERR_IO, "%s: cannot open the engine file", path);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return pl__fail(PL_ERR_IO, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return pl__fail(PL_ERR_FORMAT, "%s: the engine file is empty", path);
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return pl__fail(PL_ERR_IO, "%s: cannot map the engine file", path);
    return pl__engine_from_bytes(p, (size_t)st.st_size, true, path, out);
}

pl_device pl_engine_device(const pl_engine *e) { return e ? e->plan->device : PL_DEVICE_CPU; }

int pl_engine_num_io(const pl_engine *e) { return e ? e->nio : 0; }

pl_status pl_engine_io(const pl_engine *e, int index, pl_io_info *info) {
    const pl__tensor *t;
    if (!e || !info || index < 0 || index >= e->nio)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_engine_io: index %d out of range", index);
    t = &e->net->tensors[e->io[index]];
    memset(info, 0, sizeof(*info));
    info->name = t->name;
    info->is_input = index < e->net->ninputs;
    info->dtype = t->dtype;
    info->rank = t->rank;
    for (int d = 0; d < t->rank && d < PL_MAX_RANK; d++) {
        bool dyn = t->min_dims[d] != t->max_dims[d] || t->data_dependent;
        info->dims[d] = dyn ? -1 : t->max_dims[d];
        info->min_dims[d] = t->min_dims[d];
        info->max_dims[d] = t->max_dims[d];
    }
    return PL_OK;
}

const char *pl__engine_layer_device(const pl_engine *e, int li) {
    if (!e->on_host[li] || e->backend->host_memory)
        return e->backend->name;
    return e->on_host[li] == PL__HOST_SHAPE ? "cpu:shape" : "cpu";
}

int pl_engine_num_layers(const pl_engine *e) { return e ? e->net->nlayers : 0; }

pl_status pl_engine_layer(const pl_engine *e, int index, pl_layer_info *info) {
    const pl__layer *l;
    if (!e || !info || index < 0 || index >= e->net->nlayers)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_engine_layer: index %d out of range", index);
    l = &e->net->layers[index];
    info->name = l->name;
    info->op = l->plugin_name ? l->plugin_name : l->op;
    info->kernel = l->kernel ? l->kernel : pl__engine_layer_device(e, index);
    info->num_inputs = l->nin;
    info->num_outputs = l->nout;
    return PL_OK;
}

const char *pl_engine_metadata(const pl_engine *e, const char *key) {
    return e && key ? pl__plan_meta(e->plan, key) : NULL;
}

size_t pl_engine_peak_activation_bytes(const pl_engine *e) {
    return e ? e->mp.dev_size + e->mp.host_size + pl__workspace_total(e) : 0;
}

int pl_engine_num_plugins(const pl_engine *e) { return e ? e->plan->nplugins : 0; }

pl_status pl_engine_plugin(const pl_engine *e, int index, const char **ns, const char **name,
                           const char **version, const char **library, uint64_t *hash) {
    const pl__plugin_rec *r;
    if (!e || index < 0 || index >= e->plan->nplugins || !ns || !name || !version || !library || !hash)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_engine_plugin: bad argument");
    r = &e->plan->plugins[index];
    *ns = r->ns;
    *name = r->name;
    *version = r->version;
    *library = r->library;
    *hash = r->hash;
    return PL_OK;
}
