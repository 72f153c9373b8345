/*
 * infer.c - whole-network shape inference, host evaluation of shape subgraphs, constant folding.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "graph/infer.h"
#include "plugin/plugin-host.h"

bool pl__layer_dims_only(const pl__layer *l) {
    return l->def && (strcmp(l->op, "Shape") == 0 || strcmp(l->op, "Size") == 0);
}

bool *pl__value_needed(const pl_network *net) {
    bool *need = calloc((size_t)net->ntensors + 1, 1);
    if (!need)
        return NULL;
    for (int i = 0; i < net->nlayers; i++) {
        const pl__layer *l = &net->layers[i];
        uint32_t vi = l->dead ? 0 : pl__layer_value_inputs(l);
        for (int k = 0; k < l->nin; k++)
            if ((vi >> k & 1) && l->in[k] >= 0)
                need[l->in[k]] = true;
    }
    /* layers are topologically ordered: one backward sweep closes the set */
    for (int i = net->nlayers - 1; i >= 0; i--) {
        const pl__layer *l = &net->layers[i];
        bool any = false;
        if (l->dead || pl__layer_dims_only(l))
            continue;
        for (int k = 0; k < l->nout; k++)
            any |= need[l->out[k]];
        if (any)
            for (int k = 0; k < l->nin; k++)
                if (l->in[k] >= 0)
                    need[l->in[k]] = true;
    }
    return need;
}

void pl__shape_pass_free(pl__shape_pass *p) {
    if (!p->v)
        return;
    for (int t = 0; t < p->ntensors; t++)
        if (p->owned[t])
            free(p->v[t].data);
    free(p->v);
    free(p->owned);
    free(p->folded);
    memset(p, 0, sizeof(*p));
}

pl_status pl__eval_on_host(const pl__layer *l, const pl__tview *in, pl__tview *out) {
    const pl__kernel_def *k = l->def ? pl__cpu_backend.find_kernel(l->op)
                                     : pl__plugin_kernel(l, PL_DEVICE_CPU);
    pl__kernel_args a = {0};
    void *bctx = NULL, *ws = NULL;
    pl_status s;
    if (!k)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): no CPU kernel to evaluate it on the host",
                        pl__layer_label(l), l->op);
    for (int o = 0; o < l->nout; o++) {
        size_t bytes = pl__tview_bytes(&out[o]);
        out[o].data = malloc(bytes ? bytes : 1);
        if (!out[o].data)
            return pl__fail(PL_ERR_NOMEM, "node '%s': out of memory", pl__layer_label(l));
        memset(out[o].data, 0, bytes);
    }
    if ((s = pl__cpu_backend.create(&bctx)))
        return s;
    a.layer = l;
    a.nin = l->nin;
    a.in = in;
    a.host_in = in;
    a.nout = l->nout;
    a.out = out;
    a.bctx = bctx;
    a.tactic = 0;
    if (k->workspace) {
        a.workspace_size = k->workspace(&a);
        if (a.workspace_size && !(ws = malloc(a.workspace_size))) {
            pl__cpu_backend.destroy(bctx);
            return pl__fail(PL_ERR_NOMEM, "node '%s': out of memory", pl__layer_label(l));
        }
        a.workspace = ws;
    }
    if (k->supports && !k->supports(&a)) {
        s = pl__fail_prefix(PL_ERR_UNSUPPORTED, "node '%s'", pl__layer_label(l));
    } else if (k->state_create && (s = k->state_create(&a, &a.state))) {
        s = pl__fail_prefix(s, "node '%s'", pl__layer_label(l));
    } else {
        s = k->run(&a);
        if (k->state_destroy && k->state_create)
            k->state_destroy(l, a.state);
    }
    free(ws);
    pl__cpu_backend.destroy(bctx);
    return s;
}

pl_status pl__shape_pass_run(const pl_network *net, const int64_t *const *input_dims, bool fold,
                             size_t fold_limit, const bool *static_dims,
                             const void *const *input_values, pl__shape_pass *p) {
    pl_status s = PL_OK;
    bool *need = NULL, *foldable = NULL;
    pl__tview in[64], out[64];
    memset(p, 0, sizeof(*p));
    p->ntensors = net->ntensors;
    p->v = calloc((size_t)net->ntensors + 1, sizeof(*p->v));
    p->owned = calloc((size_t)net->ntensors + 1, 1);
    p->folded = calloc((size_t)net->ntensors + 1, 1);
    need = pl__value_needed(net);
    foldable = calloc((size_t)net->ntensors + 1, 1);
    if (!p->v || !p->owned || !p->folded || !need || !foldable) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory in shape inference");
        goto done;
    }
    for (int t = 0; t < net->ntensors; t++) {
        const pl__tensor *tt = &net->tensors[t];
        if (tt->kind == PL__TENSOR_CONST) {
            p->v[t].dtype = tt->dtype;
            p->v[t].rank = tt->rank;
            memcpy(p->v[t].dims, tt->dims, sizeof(tt->dims));
            p->v[t].data = tt->data;
            foldable[t] = true;
        }
    }
    for (int i = 0; i < net->ninputs; i++) {
        const pl__tensor *tt = &net->tensors[net->inputs[i]];
        pl__tview *v = &p->v[net->inputs[i]];
        v->dtype = tt->dtype;
        v->rank = tt->rank;
        for (int d = 0; d < tt->rank; d++) {
            int64_t x = input_dims && input_dims[i] ? input_dims[i][d] : tt->dims[d];
            v->dims[d] = x < 0 ? 1 : x;
        }
        if (input_values && input_values[i])
            v->data = (void *)input_values[i]; /* read only */
        if (need[net->inputs[i]] && !v->data && fold) {
            s = pl__fail(PL_ERR_UNSUPPORTED, "input '%s': its values decide other tensors' shapes; "
                         "give their range with pl_builder_config_set_shape_values", tt->name);
            goto done;
        }
    }
    for (int li = 0; li < net->nlayers; li++) {
        const pl__layer *l = &net->layers[li];
        pl__infer ic;
        bool known = true, want_values = false, can_fold = true;
        size_t out_bytes = 0;
        if (l->dead)
            continue;
        if (l->nin > 64 || l->nout > 64) {
            s = pl__fail(PL_ERR_UNSUPPORTED, "node '%s': more than 64 inputs or outputs", pl__layer_label(l));
            goto done;
        }
        for (int k = 0; k < l->nin; k++) {
            if (l->in[k] < 0) {
                memset(&in[k], 0, sizeof(in[k]));
                continue;
            }
            in[k] = p->v[l->in[k]];
            if (in[k].dtype == PL_DTYPE_INVALID) {
                s = pl__fail(PL_ERR_INTERNAL, "node '%s': input %d has no shape yet", pl__layer_label(l), k);
                goto done;
            }
            if (pl__layer_dims_only(l) && k == 0) {
                if (static_dims && !static_dims[l->in[k]])
                    can_fold = false;
            } else {
                if (!in[k].data)
                    known = false;
                if (!foldable[l->in[k]])
                    can_fold = false;
            }
            if ((pl__layer_value_inputs(l) >> k & 1) && !in[k].data) {
                s = pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): the values of input %d ('%s') "
                             "decide its output shape but are only known at run time%s",
                             pl__layer_label(l), l->op, k, net->tensors[l->in[k]].name,
                             net->tensors[l->in[k]].kind == PL__TENSOR_INPUT
                                 ? " (give the graph input's value range with "
                                   "pl_builder_config_set_shape_values)" : "");
                goto done;
            }
        }
        memset(out, 0, sizeof(pl__tview) * (size_t)l->nout);
        ic.layer = l;
        ic.nin = l->nin;
        ic.in = in;
        ic.nout = l->nout;
        ic.out = out;
        if ((s = pl__layer_infer(&ic)))
            goto done;
        for (int k = 0; k < l->nout; k++) {
            size_t b = pl__tview_bytes(&out[k]);
            if (out[k].rank < 0 || out[k].rank > PL_MAX_RANK || pl_dtype_size(out[k].dtype) == 0) {
                s = pl__fail(PL_ERR_INTERNAL, "node '%s': inference gave output %d no valid shape",
                             pl__layer_label(l), k);
                goto done;
            }
            for (int d = 0; d < out[k].rank; d++)
                if (out[k].dims[d] < 0) {
                    s = pl__fail(PL_ERR_SHAPE, "node '%s' (%s): output %d gets a negative dim",
                                 pl__layer_label(l), l->op, k);
                    goto done;
                }
            out_bytes += b;
            want_values |= need[l->out[k]];
        }
        if (pl__layer_data_dependent(l))
            known = can_fold = false;
        can_fold &= known;
        if (want_values && !known) {
            s = pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): its output decides other tensors' shapes "
                         "but depends on values known only at run time", pl__layer_label(l), l->op);
            goto done;
        }
        if (want_values || (fold && can_fold && out_bytes <= fold_limit)) {
            pl_status es = pl__eval_on_host(l, in, out);
            if (es) {
                for (int k = 0; k < l->nout; k++) {
                    free(out[k].data);
                    out[k].data = NULL;
                }
                if (want_values) {
                    s = pl__fail_prefix(es, "evaluating shape subgraph");
                    goto done;
                }
                pl__clear_error();
            } else {
                for (int k = 0; k < l->nout; k++) {
                    p->owned[l->out[k]] = true;
                    p->folded[l->out[k]] = can_fold;
                    foldable[l->out[k]] = can_fold;
                }
            }
        }
        for (int k = 0; k < l->nout; k++)
            p->v[l->out[k]] = out[k];
    }
done:
    free(need);
    free(foldable);
    if (s)
        pl__shape_pass_free(p);
    return s;
}
