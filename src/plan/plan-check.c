/*
 * plan-check.c - the structural rules of an engine's network, run by the reader on what it
 * parsed (after the byte-level checks) and by the writer before it writes, so that the writer
 * can never produce a file its own reader refuses. Nothing here trusts an id before checking its
 * range; every failure is one line naming the tensor or layer.
 */
#include <stdlib.h>
#include <string.h>

#include "graph/ops.h"
#include "plan/plan-format.h"

static const char *pl__kind_name(pl__tensor_kind k) {
    return k == PL__TENSOR_INPUT ? "input" : k == PL__TENSOR_CONST ? "constant" : "activation";
}

static bool pl__str_ok(const char *s, size_t limit) { return s && strlen(s) <= limit; }

static pl_status pl__check_tensor(const pl__tensor *t, int i, const char *prefix) {
    const char *nm = t->name ? t->name : "?";
    size_t es;
    if (!t->name || !t->name[0])
        return pl__fail(PL_ERR_FORMAT, "%s: tensor %d has no name", prefix, i);
    if (strlen(t->name) > PL__PLAN_MAX_NAME)
        return pl__fail(PL_ERR_FORMAT, "%s: tensor %d: name longer than %u bytes", prefix, i,
                        PL__PLAN_MAX_NAME);
    if (t->kind != PL__TENSOR_ACT && t->kind != PL__TENSOR_INPUT && t->kind != PL__TENSOR_CONST)
        return pl__fail(PL_ERR_FORMAT, "%s: tensor %d ('%s'): unknown kind %d", prefix, i, nm,
                        (int)t->kind);
    es = pl_dtype_size(t->dtype);
    if (es == 0)
        return pl__fail(PL_ERR_FORMAT, "%s: tensor %d ('%s'): unknown dtype %d%s", prefix, i, nm,
                        (int)t->dtype,
                        t->dtype == PL_DTYPE_INVALID ? " (the network was not built)" : "");
    if (t->rank < 0 || t->rank > PL_MAX_RANK)
        return pl__fail(PL_ERR_FORMAT, "%s: tensor %d ('%s'): rank %d outside 0..%d%s", prefix, i,
                        nm, t->rank, PL_MAX_RANK, t->rank < 0 ? " (the network was not built)" : "");
    for (int d = 0; d < t->rank; d++) {
        int64_t lo = t->kind == PL__TENSOR_CONST ? 0 : -1;
        if (t->dims[d] < lo)
            return pl__fail(PL_ERR_FORMAT, "%s: %s %d ('%s'): dim %d is %lld", prefix,
                            pl__kind_name(t->kind), i, nm, d, (long long)t->dims[d]);
        if (t->min_dims[d] < 0 || t->opt_dims[d] < 0 || t->max_dims[d] < 0)
            return pl__fail(PL_ERR_FORMAT, "%s: tensor %d ('%s'): dim %d has a negative "
                            "min/opt/max (%lld/%lld/%lld)", prefix, i, nm, d,
                            (long long)t->min_dims[d], (long long)t->opt_dims[d],
                            (long long)t->max_dims[d]);
        if (t->kind == PL__TENSOR_INPUT &&
            (t->min_dims[d] > t->opt_dims[d] || t->opt_dims[d] > t->max_dims[d]))
            return pl__fail(PL_ERR_FORMAT, "%s: input %d ('%s'): dim %d has min/opt/max "
                            "%lld/%lld/%lld, which are not ordered", prefix, i, nm, d,
                            (long long)t->min_dims[d], (long long)t->opt_dims[d],
                            (long long)t->max_dims[d]);
        if (t->dim_names[d] && strlen(t->dim_names[d]) > PL__PLAN_MAX_NAME)
            return pl__fail(PL_ERR_FORMAT, "%s: tensor %d ('%s'): dim name %d is too long", prefix,
                            i, nm, d);
    }
    if (t->kind == PL__TENSOR_CONST) {
        size_t bytes = es;
        for (int d = 0; d < t->rank; d++)
            if (!pl__mul_size(bytes, (size_t)t->dims[d], &bytes))
                return pl__fail(PL_ERR_FORMAT, "%s: constant %d ('%s'): byte size overflows",
                                prefix, i, nm);
        if (bytes != t->nbytes)
            return pl__fail(PL_ERR_FORMAT, "%s: constant %d ('%s'): holds %zu bytes, but its "
                            "shape and dtype %s need %zu", prefix, i, nm, t->nbytes,
                            pl_dtype_name(t->dtype), bytes);
        if (bytes && !t->data)
            return pl__fail(PL_ERR_FORMAT, "%s: constant %d ('%s') has no data", prefix, i, nm);
    }
    return PL_OK;
}

/* Merge sort of tensor ids by name: O(n log n) for engines with many tensors, and reentrant
 * (qsort has no user pointer in C11). */
static void pl__msort(int32_t *a, int32_t *tmp, int n, const pl_network *net) {
    if (n < 2)
        return;
    int h = n / 2;
    pl__msort(a, tmp, h, net);
    pl__msort(a + h, tmp, n - h, net);
    int i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = strcmp(net->tensors[a[i]].name, net->tensors[a[j]].name) <= 0 ? a[i++] : a[j++];
    while (i < h)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, sizeof(*a) * (size_t)n);
}

static pl_status pl__check_unique_names(const pl_network *net, const char *prefix) {
    int n = net->ntensors;
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    int32_t *tmp = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    pl_status s = PL_OK;
    if (!ids || !tmp) {
        s = pl__fail(PL_ERR_NOMEM, "%s: out of memory checking tensor names", prefix);
        goto done;
    }
    for (int i = 0; i < n; i++)
        ids[i] = i;
    pl__msort(ids, tmp, n, net);
    for (int i = 1; i < n; i++) {
        if (strcmp(net->tensors[ids[i - 1]].name, net->tensors[ids[i]].name) == 0) {
            int a = ids[i - 1] < ids[i] ? ids[i - 1] : ids[i];
            int b = ids[i - 1] < ids[i] ? ids[i] : ids[i - 1];
            s = pl__fail(PL_ERR_FORMAT, "%s: tensors %d and %d are both named '%s'", prefix, a, b,
                         net->tensors[a].name);
            goto done;
        }
    }
done:
    free(ids);
    free(tmp);
    return s;
}

static pl_status pl__check_attrs(const pl__layer *l, int li, const char *prefix) {
    if (l->attrs.n < 0 || l->attrs.n > PL__PLAN_MAX_ATTRS || (l->attrs.n && !l->attrs.v))
        return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): %d attributes (at most %d)", prefix,
                        li, l->name, l->attrs.n, PL__PLAN_MAX_ATTRS);
    for (int a = 0; a < l->attrs.n; a++) {
        const pl_attr *x = &l->attrs.v[a];
        if (!x->name || !x->name[0] || strlen(x->name) > PL__PLAN_MAX_NAME)
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): attribute %d has no valid name",
                            prefix, li, l->name, a);
        switch (x->type) {
        case PL_ATTR_INT: case PL_ATTR_FLOAT:
            break;
        case PL_ATTR_BOOL:
            if (x->i != 0 && x->i != 1)
                return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): bool attribute '%s' is %lld",
                                prefix, li, l->name, x->name, (long long)x->i);
            break;
        case PL_ATTR_STRING:
            if (!pl__str_ok(x->s, PL__PLAN_MAX_TEXT))
                return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): string attribute '%s' is "
                                "missing or longer than %u bytes", prefix, li, l->name, x->name,
                                PL__PLAN_MAX_TEXT);
            break;
        case PL_ATTR_INTS: case PL_ATTR_FLOATS: case PL_ATTR_BYTES: {
            const void *p = x->type == PL_ATTR_INTS ? (const void *)x->ints
                            : x->type == PL_ATTR_FLOATS ? (const void *)x->floats : x->bytes;
            if (x->count < 0 || (x->count > 0 && !p))
                return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): attribute '%s' has a bad "
                                "element count %lld", prefix, li, l->name, x->name,
                                (long long)x->count);
            break;
        }
        default:
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): attribute '%s' has unknown "
                            "type %d", prefix, li, l->name, x->name, (int)x->type);
        }
        for (int b = 0; b < a; b++)
            if (strcmp(l->attrs.v[b].name, x->name) == 0)
                return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): attribute '%s' appears "
                                "twice", prefix, li, l->name, x->name);
    }
    return PL_OK;
}

static pl_status pl__check_layer(const pl_network *net, int li, const char *prefix,
                                 int32_t *producer) {
    const pl__layer *l = &net->layers[li];
    const char *nm;
    if (!l->name || strlen(l->name) > PL__PLAN_MAX_NAME)
        return pl__fail(PL_ERR_FORMAT, "%s: layer %d has no valid name", prefix, li);
    nm = l->name;
    if (l->dead)
        return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s') is dead (compact the network first)",
                        prefix, li, nm);
    if (!l->op || !l->op[0] || strlen(l->op) > PL__PLAN_MAX_NAME)
        return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s') has no op name", prefix, li, nm);
    if (l->kernel && strlen(l->kernel) > PL__PLAN_MAX_NAME)
        return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): kernel name too long", prefix, li, nm);
    if (l->compute_dtype != PL_DTYPE_INVALID && pl_dtype_size(l->compute_dtype) == 0)
        return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): unknown compute dtype %d", prefix, li,
                        nm, (int)l->compute_dtype);
    if (l->nin < 0 || l->nin > PL__PLAN_MAX_LAYER_IO || l->nout < 0 ||
        l->nout > PL__PLAN_MAX_LAYER_IO || (l->nin && !l->in) || (l->nout && !l->out))
        return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): %d inputs and %d outputs (at most %d "
                        "each)", prefix, li, nm, l->nin, l->nout, PL__PLAN_MAX_LAYER_IO);
    if (strcmp(l->op, "plugin") == 0) {
        if (!pl__str_ok(l->plugin_ns, PL__PLAN_MAX_NAME) || !l->plugin_name ||
            !l->plugin_name[0] || strlen(l->plugin_name) > PL__PLAN_MAX_NAME ||
            !pl__str_ok(l->plugin_version, PL__PLAN_MAX_NAME))
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s') is a plugin layer without a "
                            "valid plugin identity", prefix, li, nm);
    } else {
        const pl__op_def *def = pl__op_find(l->op);
        if (l->plugin_ns || l->plugin_name || l->plugin_version)
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): core op '%s' carries a plugin "
                            "identity", prefix, li, nm, l->op);
        if (!def)
            return pl__fail(PL_ERR_UNSUPPORTED, "%s: layer %d ('%s'): op '%s' is not a core layer "
                            "of this plinth (" PL_VERSION_STRING ")", prefix, li, nm, l->op);
        if (l->nin < def->min_in || l->nin > def->max_in)
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): op %s takes %d..%d inputs, the "
                            "layer has %d", prefix, li, nm, l->op, def->min_in, def->max_in,
                            l->nin);
        if (l->nout < def->min_out || l->nout > def->max_out)
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): op %s has %d..%d outputs, the "
                            "layer has %d", prefix, li, nm, l->op, def->min_out, def->max_out,
                            l->nout);
    }
    for (int k = 0; k < l->nin; k++) {
        int32_t t = l->in[k];
        if (t == -1)
            continue;
        if (t < 0 || t >= net->ntensors)
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): input %d refers to tensor %d, "
                            "but the engine has %d tensors", prefix, li, nm, k, (int)t,
                            net->ntensors);
        if (net->tensors[t].kind == PL__TENSOR_ACT && producer[t] < 0)
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): input %d is tensor %d ('%s'), "
                            "which no earlier layer produces (layers must be in topological "
                            "order)", prefix, li, nm, k, (int)t, net->tensors[t].name);
    }
    for (int k = 0; k < l->nout; k++) {
        int32_t t = l->out[k];
        if (t < 0 || t >= net->ntensors)
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): output %d refers to tensor %d, "
                            "but the engine has %d tensors", prefix, li, nm, k, (int)t,
                            net->ntensors);
        if (net->tensors[t].kind != PL__TENSOR_ACT)
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): output %d is the %s '%s'", prefix,
                            li, nm, k, pl__kind_name(net->tensors[t].kind), net->tensors[t].name);
        if (producer[t] >= 0)
            return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s'): output %d ('%s') is already "
                            "produced by layer %d", prefix, li, nm, k, net->tensors[t].name,
                            (int)producer[t]);
        producer[t] = li;
    }
    return pl__check_attrs(l, li, prefix);
}

static pl_status pl__check_io_list(const pl_network *net, const char *prefix, bool inputs,
                                   uint8_t *seen) {
    const int32_t *ids = inputs ? net->inputs : net->outputs;
    int n = inputs ? net->ninputs : net->noutputs;
    const char *what = inputs ? "input" : "output";
    if (n < 0 || (n && !ids))
        return pl__fail(PL_ERR_FORMAT, "%s: bad %s list", prefix, what);
    memset(seen, 0, (size_t)net->ntensors);
    for (int i = 0; i < n; i++) {
        int32_t t = ids[i];
        if (t < 0 || t >= net->ntensors)
            return pl__fail(PL_ERR_FORMAT, "%s: graph %s %d refers to tensor %d, but the engine "
                            "has %d tensors", prefix, what, i, (int)t, net->ntensors);
        if (seen[t])
            return pl__fail(PL_ERR_FORMAT, "%s: tensor %d ('%s') is listed twice as a graph %s",
                            prefix, (int)t, net->tensors[t].name, what);
        seen[t] = 1;
        if (inputs && net->tensors[t].kind != PL__TENSOR_INPUT)
            return pl__fail(PL_ERR_FORMAT, "%s: graph input %d is the %s '%s'", prefix, i,
                            pl__kind_name(net->tensors[t].kind), net->tensors[t].name);
        if (!inputs && !net->tensors[t].is_output)
            return pl__fail(PL_ERR_FORMAT, "%s: graph output %d ('%s') is not flagged as an "
                            "output", prefix, i, net->tensors[t].name);
    }
    for (int t = 0; t < net->ntensors; t++) {
        bool is = inputs ? net->tensors[t].kind == PL__TENSOR_INPUT : net->tensors[t].is_output;
        if (is && !seen[t])
            return pl__fail(PL_ERR_FORMAT, "%s: tensor %d ('%s') is flagged as a graph %s but "
                            "missing from the %s list", prefix, t, net->tensors[t].name, what,
                            what);
    }
    return PL_OK;
}

pl_status pl__plan_check(const pl_network *net, const char *prefix, int32_t *producer) {
    int32_t *prod = NULL;
    uint8_t *seen = NULL;
    pl_status s;
    if (!net)
        return pl__fail(PL_ERR_INVALID_ARG, "%s: no network", prefix);
    if (net->ntensors < 0 || net->nlayers < 0 || (net->ntensors && !net->tensors) ||
        (net->nlayers && !net->layers))
        return pl__fail(PL_ERR_FORMAT, "%s: bad tensor or layer table", prefix);
    for (int i = 0; i < net->ntensors; i++)
        if ((s = pl__check_tensor(&net->tensors[i], i, prefix)))
            return s;
    if ((s = pl__check_unique_names(net, prefix)))
        return s;
    prod = malloc(sizeof(int32_t) * (size_t)(net->ntensors ? net->ntensors : 1));
    seen = malloc((size_t)(net->ntensors ? net->ntensors : 1));
    if (!prod || !seen) {
        s = pl__fail(PL_ERR_NOMEM, "%s: out of memory checking the network", prefix);
        goto done;
    }
    for (int i = 0; i < net->ntensors; i++)
        prod[i] = -1;
    if ((s = pl__check_io_list(net, prefix, true, seen)) ||
        (s = pl__check_io_list(net, prefix, false, seen)))
        goto done;
    for (int li = 0; li < net->nlayers; li++)
        if ((s = pl__check_layer(net, li, prefix, prod)))
            goto done;
    for (int i = 0; i < net->ntensors; i++) {
        if (net->tensors[i].kind == PL__TENSOR_ACT && prod[i] < 0) {
            s = pl__fail(PL_ERR_FORMAT, "%s: activation %d ('%s') is produced by no layer", prefix,
                         i, net->tensors[i].name);
            goto done;
        }
    }
    if (producer)
        memcpy(producer, prod, sizeof(int32_t) * (size_t)net->ntensors);
done:
    free(prod);
    free(seen);
    return s;
}
