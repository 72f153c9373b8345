/*
 * network.c - the network IR: creation through the public API, validation of each new layer
 * against its op definition (or its plugin's schema), cloning and compaction for the builder.
 */
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "graph/ops.h"
#include "plugin/plugin-host.h"

pl_status pl_network_create(pl_network **out) {
    pl_network *n;
    if (!out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_network_create: out is NULL");
    n = calloc(1, sizeof(*n));
    if (!n)
        return pl__fail(PL_ERR_NOMEM, "out of memory creating a network");
    *out = n;
    return PL_OK;
}

void pl__tensor_release(pl__tensor *t) {
    free(t->name);
    for (int i = 0; i < PL_MAX_RANK; i++)
        free(t->dim_names[i]);
    if (t->owns_data)
        free(t->data);
    memset(t, 0, sizeof(*t));
}

void pl__layer_release(pl__layer *l) {
    free(l->name);
    free(l->op);
    free(l->plugin_ns);
    free(l->plugin_name);
    free(l->plugin_version);
    free(l->in);
    free(l->out);
    free(l->kernel);
    pl__attrs_free(&l->attrs);
    memset(l, 0, sizeof(*l));
}

void pl_network_free(pl_network *net) {
    if (!net)
        return;
    for (int i = 0; i < net->ntensors; i++)
        pl__tensor_release(&net->tensors[i]);
    for (int i = 0; i < net->nlayers; i++)
        pl__layer_release(&net->layers[i]);
    free(net->tensors);
    free(net->layers);
    free(net->inputs);
    free(net->outputs);
    free(net);
}

int32_t pl__network_find(const pl_network *net, const char *name) {
    for (int i = 0; i < net->ntensors; i++)
        if (net->tensors[i].name && strcmp(net->tensors[i].name, name) == 0)
            return i;
    return -1;
}

const char *pl__layer_label(const pl__layer *l) {
    return l->name && l->name[0] ? l->name : (l->op ? l->op : "?");
}

int32_t pl__network_new_tensor(pl_network *net, const char *name, pl__tensor_kind kind,
                               pl_dtype dtype) {
    pl__tensor *t;
    char *nm;
    if (name && pl__network_find(net, name) >= 0) {
        pl__fail(PL_ERR_INVALID_ARG, "tensor '%s': the name is already used", name);
        return -1;
    }
    nm = name ? pl__strdup(name) : pl__sprintf("tensor_%d", net->ntensors);
    if (!nm || !pl__grow((void **)&net->tensors, &net->cap_tensors, net->ntensors + 1, sizeof(*t))) {
        free(nm);
        pl__fail(PL_ERR_NOMEM, "out of memory adding a tensor");
        return -1;
    }
    t = &net->tensors[net->ntensors];
    memset(t, 0, sizeof(*t));
    t->name = nm;
    t->kind = kind;
    t->dtype = dtype;
    t->rank = -1;
    t->producer = -1;
    return net->ntensors++;
}

static pl_status pl__check_dims(const char *what, const char *name, int rank, const int64_t *dims,
                                bool allow_dynamic) {
    if (rank < 0 || rank > PL_MAX_RANK)
        return pl__fail(PL_ERR_INVALID_ARG, "%s '%s': rank %d outside 0..%d", what, name, rank,
                        PL_MAX_RANK);
    if (rank > 0 && !dims)
        return pl__fail(PL_ERR_INVALID_ARG, "%s '%s': dims is NULL", what, name);
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0 && !allow_dynamic)
            return pl__fail(PL_ERR_INVALID_ARG, "%s '%s': dim %d is %lld, expected >= 0", what,
                            name, i, (long long)dims[i]);
    return PL_OK;
}

pl_status pl_network_add_input(pl_network *net, const char *name, pl_dtype dtype, int rank,
                               const int64_t *dims, const char *const *dim_names, pl_tensor *out) {
    pl__tensor *t;
    int32_t id;
    pl_status s;
    if (!net || !name || !out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_network_add_input: NULL argument");
    if (pl_dtype_size(dtype) == 0)
        return pl__fail(PL_ERR_INVALID_ARG, "input '%s': unknown dtype %d", name, (int)dtype);
    if ((s = pl__check_dims("input", name, rank, dims, true)))
        return s;
    if (!pl__grow((void **)&net->inputs, &net->cap_inputs, net->ninputs + 1, sizeof(int32_t)))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    id = pl__network_new_tensor(net, name, PL__TENSOR_INPUT, dtype);
    if (id < 0)
        return pl__fail_prefix(PL_ERR_INVALID_ARG, "input '%s'", name);
    t = &net->tensors[id];
    t->rank = rank;
    for (int i = 0; i < rank; i++) {
        t->dims[i] = dims[i] < 0 ? -1 : dims[i];
        if (dim_names && dim_names[i])
            t->dim_names[i] = pl__strdup(dim_names[i]);
    }
    net->inputs[net->ninputs++] = id;
    *out = id;
    return PL_OK;
}

pl_status pl_network_add_constant(pl_network *net, const char *name, pl_dtype dtype, int rank,
                                  const int64_t *dims, const void *data, pl_tensor *out) {
    pl__tensor *t;
    int32_t id;
    size_t bytes = pl_dtype_size(dtype);
    pl_status s;
    if (!net || !out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_network_add_constant: NULL argument");
    if (bytes == 0)
        return pl__fail(PL_ERR_INVALID_ARG, "constant '%s': unknown dtype %d", name ? name : "?",
                        (int)dtype);
    if ((s = pl__check_dims("constant", name ? name : "?", rank, dims, false)))
        return s;
    for (int i = 0; i < rank; i++)
        if (!pl__mul_size(bytes, (size_t)dims[i], &bytes))
            return pl__fail(PL_ERR_INVALID_ARG, "constant '%s': size overflows", name ? name : "?");
    if (bytes && !data)
        return pl__fail(PL_ERR_INVALID_ARG, "constant '%s': data is NULL", name ? name : "?");
    id = pl__network_new_tensor(net, name, PL__TENSOR_CONST, dtype);
    if (id < 0)
        return pl__fail_prefix(PL_ERR_INVALID_ARG, "constant");
    t = &net->tensors[id];
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->data = malloc(bytes ? bytes : 1);
    if (!t->data)
        return pl__fail(PL_ERR_NOMEM, "out of memory copying constant '%s'", t->name);
    if (bytes)
        memcpy(t->data, data, bytes);
    t->nbytes = bytes;
    t->owns_data = true;
    *out = id;
    return PL_OK;
}

static pl_status pl__new_layer_common(pl_network *net, const char *op, const char *name,
                                      const int32_t *in, int nin, const pl_attr *attrs, int nattrs,
                                      int nout, const char *const *out_names, int32_t *out_ids,
                                      pl__layer **made) {
    pl__layer *l;
    pl_status s;
    int idx = net->nlayers;
    const char *label = name ? name : op;
    if (nin < 0 || nin > 64 || nout < 0 || nout > 64 || (nin && !in) || (nout && !out_ids) ||
        (nattrs && !attrs) || nattrs < 0)
        return pl__fail(PL_ERR_INVALID_ARG, "node '%s' (%s): bad argument counts", label, op);
    for (int i = 0; i < nin; i++)
        if (in[i] < -1 || in[i] >= net->ntensors)
            return pl__fail(PL_ERR_INVALID_ARG, "node '%s' (%s): input %d is not a tensor of this network",
                            label, op, i);
    if (!pl__grow((void **)&net->layers, &net->cap_layers, net->nlayers + 1, sizeof(*l)))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    l = &net->layers[idx];
    memset(l, 0, sizeof(*l));
    l->op = pl__strdup(op);
    l->name = name ? pl__strdup(name) : pl__sprintf("%s_%d", op, idx);
    l->in = malloc(sizeof(int32_t) * (size_t)(nin ? nin : 1));
    l->out = malloc(sizeof(int32_t) * (size_t)(nout ? nout : 1));
    if (!l->op || !l->name || !l->in || !l->out) {
        pl__layer_release(l);
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    }
    l->nin = nin;
    if (nin)
        memcpy(l->in, in, sizeof(int32_t) * (size_t)nin);
    if ((s = pl__attrs_copy(&l->attrs, attrs, nattrs))) {
        pl__layer_release(l);
        return pl__fail_prefix(s, "node '%s' (%s)", label, op);
    }
    for (int k = 0; k < nout; k++) {
        char *gen = NULL;
        const char *oname = out_names && out_names[k] ? out_names[k] : NULL;
        int32_t t;
        if (!oname) {
            gen = nout == 1 ? pl__sprintf("%s", l->name) : pl__sprintf("%s:%d", l->name, k);
            if (gen && pl__network_find(net, gen) >= 0) {
                free(gen);
                gen = pl__sprintf("%s:%d#%d", l->name, k, net->ntensors);
            }
            oname = gen;
        }
        t = oname ? pl__network_new_tensor(net, oname, PL__TENSOR_ACT, PL_DTYPE_INVALID) : -1;
        free(gen);
        if (t < 0) {
            s = pl__fail_prefix(PL_ERR_INVALID_ARG, "node '%s' (%s) output %d", label, op, k);
            /* outputs created so far stay as orphan tensors; compaction drops them */
            pl__layer_release(l);
            return s;
        }
        net->tensors[t].producer = idx;
        l->out[k] = t;
        out_ids[k] = t;
        l->nout = k + 1;
    }
    l->nout = nout;
    l->tactic = 0;
    net->nlayers++;
    *made = l;
    return PL_OK;
}

pl_status pl__network_new_layer(pl_network *net, const char *op, const char *name,
                                const int32_t *in, int nin, const pl_attr *attrs, int nattrs,
                                int nout, const char *const *out_names, int32_t *out_ids) {
    const pl__op_def *def;
    pl__layer *l;
    pl_status s;
    if (!net || !op)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_network_add_layer: NULL argument");
    def = pl__op_find(op);
    if (!def)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s': op '%s' is not a core layer of plinth "
                        "(register a plugin for it)", name ? name : "?", op);
    if (nin < def->min_in || nin > def->max_in)
        return pl__fail(PL_ERR_INVALID_ARG, "node '%s' (%s): %d inputs, expected %d..%d",
                        name ? name : "?", op, nin, def->min_in, def->max_in);
    if (nout < def->min_out || nout > def->max_out)
        return pl__fail(PL_ERR_INVALID_ARG, "node '%s' (%s): %d outputs, expected %d..%d",
                        name ? name : "?", op, nout, def->min_out, def->max_out);
    if ((s = pl__new_layer_common(net, op, name, in, nin, attrs, nattrs, nout, out_names, out_ids, &l)))
        return s;
    l->def = def;
    return PL_OK;
}

pl_status pl_network_add_layer(pl_network *net, const char *op, const char *name,
                               const pl_tensor *inputs, int nin, const pl_attr *attrs, int nattrs,
                               int nout, const char *const *output_names, pl_tensor *outputs) {
    return pl__network_new_layer(net, op, name, inputs, nin, attrs, nattrs, nout, output_names,
                                 outputs);
}

pl_status pl_network_add_plugin(pl_network *net, const char *plugin_namespace,
                                const char *plugin_name, const char *plugin_version,
                                const char *layer_name, const pl_tensor *inputs, int nin,
                                const pl_attr *attrs, int nattrs, int nout,
                                const char *const *output_names, pl_tensor *outputs) {
    pl__layer *l;
    pl_status s;
    if (!net || !plugin_name)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_network_add_plugin: NULL argument");
    if ((s = pl__new_layer_common(net, "plugin", layer_name ? layer_name : plugin_name, inputs, nin,
                                  attrs, nattrs, nout, output_names, outputs, &l)))
        return s;
    l->plugin_ns = pl__strdup(plugin_namespace ? plugin_namespace : "");
    l->plugin_name = pl__strdup(plugin_name);
    l->plugin_version = pl__strdup(plugin_version ? plugin_version : "");
    if (!l->plugin_ns || !l->plugin_name || !l->plugin_version)
        s = pl__fail(PL_ERR_NOMEM, "out of memory");
    else
        s = pl__plugin_bind(l);
    if (s) {
        /* undo: the layer and its outputs must not stay half-made */
        for (int k = 0; k < l->nout; k++)
            net->tensors[l->out[k]].producer = -1;
        l->dead = true;
        return s;
    }
    return PL_OK;
}

pl_status pl_network_mark_output(pl_network *net, pl_tensor t) {
    if (!net || t < 0 || t >= net->ntensors)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_network_mark_output: %d is not a tensor", (int)t);
    if (net->tensors[t].is_output)
        return PL_OK;
    if (!pl__grow((void **)&net->outputs, &net->cap_outputs, net->noutputs + 1, sizeof(int32_t)))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    net->tensors[t].is_output = true;
    net->outputs[net->noutputs++] = t;
    return PL_OK;
}

pl_status pl_network_find_tensor(const pl_network *net, const char *name, pl_tensor *out) {
    int32_t t;
    if (!net || !name || !out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_network_find_tensor: NULL argument");
    t = pl__network_find(net, name);
    if (t < 0)
        return pl__fail(PL_ERR_NOT_FOUND, "tensor '%s' not found", name);
    *out = t;
    return PL_OK;
}

int pl_network_num_layers(const pl_network *net) {
    int n = 0;
    for (int i = 0; net && i < net->nlayers; i++)
        n += !net->layers[i].dead;
    return n;
}

int pl_network_num_tensors(const pl_network *net) { return net ? net->ntensors : 0; }

bool pl_op_supported(const char *op) { return op && pl__op_find(op) != NULL; }

int pl__network_consumers(const pl_network *net, int32_t t) {
    int n = net->tensors[t].is_output ? 1 : 0;
    for (int i = 0; i < net->nlayers; i++) {
        const pl__layer *l = &net->layers[i];
        if (l->dead)
            continue;
        for (int k = 0; k < l->nin; k++)
            n += l->in[k] == t;
    }
    return n;
}

static char *pl__dup_or(const char *s, bool *ok) {
    char *r;
    if (!s)
        return NULL;
    r = pl__strdup(s);
    if (!r)
        *ok = false;
    return r;
}

pl_status pl__network_clone(const pl_network *src, pl_network **dst) {
    pl_network *n;
    bool ok = true;
    pl_status s = pl_network_create(&n);
    if (s)
        return s;
    n->tensors = calloc((size_t)(src->ntensors ? src->ntensors : 1), sizeof(pl__tensor));
    n->layers = calloc((size_t)(src->nlayers ? src->nlayers : 1), sizeof(pl__layer));
    n->inputs = malloc(sizeof(int32_t) * (size_t)(src->ninputs + 1));
    n->outputs = malloc(sizeof(int32_t) * (size_t)(src->noutputs + 1));
    if (!n->tensors || !n->layers || !n->inputs || !n->outputs)
        goto oom;
    n->cap_tensors = src->ntensors ? src->ntensors : 1;
    n->cap_layers = src->nlayers ? src->nlayers : 1;
    n->cap_inputs = src->ninputs + 1;
    n->cap_outputs = src->noutputs + 1;
    for (int i = 0; i < src->ntensors; i++) {
        const pl__tensor *a = &src->tensors[i];
        pl__tensor *b = &n->tensors[i];
        *b = *a;
        b->name = NULL;
        memset(b->dim_names, 0, sizeof(b->dim_names));
        b->data = NULL;
        b->owns_data = false;
        n->ntensors = i + 1;
        b->name = pl__dup_or(a->name, &ok);
        for (int d = 0; d < PL_MAX_RANK; d++)
            b->dim_names[d] = pl__dup_or(a->dim_names[d], &ok);
        if (a->data) {
            b->data = malloc(a->nbytes ? a->nbytes : 1);
            if (!b->data)
                goto oom;
            if (a->nbytes)
                memcpy(b->data, a->data, a->nbytes);
            b->owns_data = true;
        }
        if (!ok)
            goto oom;
    }
    for (int i = 0; i < src->nlayers; i++) {
        const pl__layer *a = &src->layers[i];
        pl__layer *b = &n->layers[i];
        *b = *a;
        b->name = b->op = b->plugin_ns = b->plugin_name = b->plugin_version = b->kernel = NULL;
        b->in = b->out = NULL;
        memset(&b->attrs, 0, sizeof(b->attrs));
        n->nlayers = i + 1;
        b->name = pl__dup_or(a->name, &ok);
        b->op = pl__dup_or(a->op, &ok);
        b->plugin_ns = pl__dup_or(a->plugin_ns, &ok);
        b->plugin_name = pl__dup_or(a->plugin_name, &ok);
        b->plugin_version = pl__dup_or(a->plugin_version, &ok);
        b->kernel = pl__dup_or(a->kernel, &ok);
        b->in = malloc(sizeof(int32_t) * (size_t)(a->nin + 1));
        b->out = malloc(sizeof(int32_t) * (size_t)(a->nout + 1));
        if (!ok || !b->in || !b->out)
            goto oom;
        if (a->nin)
            memcpy(b->in, a->in, sizeof(int32_t) * (size_t)a->nin);
        if (a->nout)
            memcpy(b->out, a->out, sizeof(int32_t) * (size_t)a->nout);
        if ((s = pl__attrs_copy(&b->attrs, a->attrs.v, a->attrs.n)))
            goto fail;
    }
    if (src->ninputs)
        memcpy(n->inputs, src->inputs, sizeof(int32_t) * (size_t)src->ninputs);
    n->ninputs = src->ninputs;
    if (src->noutputs)
        memcpy(n->outputs, src->outputs, sizeof(int32_t) * (size_t)src->noutputs);
    n->noutputs = src->noutputs;
    *dst = n;
    return PL_OK;
oom:
    s = pl__fail(PL_ERR_NOMEM, "out of memory cloning the network");
fail:
    pl_network_free(n);
    return s;
}

pl_status pl__network_compact(pl_network *net) {
    int32_t *remap = malloc(sizeof(int32_t) * (size_t)(net->ntensors + 1));
    bool *used = calloc((size_t)net->ntensors + 1, 1);
    int nt = 0, nl = 0;
    if (!remap || !used) {
        free(remap);
        free(used);
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < net->ninputs; i++)
        used[net->inputs[i]] = true;
    for (int i = 0; i < net->noutputs; i++)
        used[net->outputs[i]] = true;
    for (int i = 0; i < net->nlayers; i++) {
        pl__layer *l = &net->layers[i];
        if (l->dead)
            continue;
        for (int k = 0; k < l->nin; k++)
            if (l->in[k] >= 0)
                used[l->in[k]] = true;
        for (int k = 0; k < l->nout; k++)
            used[l->out[k]] = true;
    }
    for (int i = 0; i < net->ntensors; i++) {
        if (used[i]) {
            remap[i] = nt;
            if (nt != i)
                net->tensors[nt] = net->tensors[i];
            nt++;
        } else {
            remap[i] = -1;
            pl__tensor_release(&net->tensors[i]);
        }
    }
    net->ntensors = nt;
    for (int i = 0; i < net->nlayers; i++) {
        pl__layer *l = &net->layers[i];
        if (l->dead) {
            pl__layer_release(l);
            continue;
        }
        for (int k = 0; k < l->nin; k++)
            if (l->in[k] >= 0)
                l->in[k] = remap[l->in[k]];
        for (int k = 0; k < l->nout; k++) {
            l->out[k] = remap[l->out[k]];
            net->tensors[l->out[k]].producer = nl;
        }
        if (nl != i)
            net->layers[nl] = *l;
        nl++;
    }
    net->nlayers = nl;
    for (int i = 0; i < net->ninputs; i++)
        net->inputs[i] = remap[net->inputs[i]];
    for (int i = 0; i < net->noutputs; i++)
        net->outputs[i] = remap[net->outputs[i]];
    for (int i = 0; i < net->ntensors; i++)
        if (net->tensors[i].kind != PL__TENSOR_ACT)
            net->tensors[i].producer = -1;
    free(remap);
    free(used);
    return PL_OK;
}

void pl__network_move_layer(pl_network *net, int from, int to) {
    pl__layer moved = net->layers[from];
    memmove(&net->layers[to + 1], &net->layers[to], sizeof(pl__layer) * (size_t)(from - to));
    net->layers[to] = moved;
    for (int li = to; li <= from; li++)
        for (int k = 0; k < net->layers[li].nout; k++)
            if (net->layers[li].out[k] >= 0)
                net->tensors[net->layers[li].out[k]].producer = li;
}

pl_status pl__network_reorder(pl_network *net, const int *order, int n) {
    pl__layer *nl;
    if (n != net->nlayers)
        return pl__fail(PL_ERR_INTERNAL, "layer reorder: %d layers given, %d in the network", n,
                        net->nlayers);
    nl = malloc(sizeof(pl__layer) * (size_t)(n + 1));
    if (!nl)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        nl[i] = net->layers[order[i]];
    for (int i = 0; i < n; i++)
        for (int o = 0; o < nl[i].nout; o++)
            net->tensors[nl[i].out[o]].producer = i;
    free(net->layers);
    net->layers = nl;
    net->cap_layers = n + 1;
    return PL_OK;
}

pl_status pl__network_insert_cast(pl_network *net, int li, int slot, pl_dtype to) {
    pl__layer *l, *c;
    int32_t src, t;
    char *name;
    pl_attr a = PL_ATTR_I("to", (int64_t)to);
    pl_status s;
    if (li < 0 || li >= net->nlayers || slot < 0 || slot >= net->layers[li].nin ||
        net->layers[li].in[slot] < 0)
        return pl__fail(PL_ERR_INTERNAL, "pl__network_insert_cast: bad layer/slot");
    src = net->layers[li].in[slot];
    name = pl__sprintf("%s:as_%s:%d", net->tensors[src].name, pl_dtype_name(to), net->ntensors);
    if (!name)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    t = pl__network_new_tensor(net, name, PL__TENSOR_ACT, to);
    free(name);
    if (t < 0)
        return pl__fail_prefix(PL_ERR_INVALID_ARG, "inserting a cast");
    if (!pl__grow((void **)&net->layers, &net->cap_layers, net->nlayers + 1, sizeof(*l)))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    memmove(&net->layers[li + 1], &net->layers[li], sizeof(*l) * (size_t)(net->nlayers - li));
    net->nlayers++;
    for (int i = 0; i < net->ntensors; i++)
        if (net->tensors[i].producer >= li)
            net->tensors[i].producer++;
    c = &net->layers[li];
    memset(c, 0, sizeof(*c));
    c->op = pl__strdup("Cast");
    c->def = pl__op_find("Cast");
    c->name = pl__sprintf("%s:cast%d", pl__layer_label(&net->layers[li + 1]), slot);
    c->in = malloc(sizeof(int32_t));
    c->out = malloc(sizeof(int32_t));
    if (!c->op || !c->name || !c->in || !c->out || !c->def) {
        c->dead = true;
        return pl__fail(PL_ERR_NOMEM, "out of memory (or no Cast layer) inserting a cast");
    }
    c->nin = c->nout = 1;
    c->in[0] = src;
    c->out[0] = t;
    if ((s = pl__attrs_set(&c->attrs, &a)))
        return s;
    net->tensors[t].producer = li;
    net->layers[li + 1].in[slot] = t;
    return PL_OK;
}
