/*
 * passes.c - generic graph passes run by the builder: constant folding (from the shape pass's
 * evaluated tensors), dead-code removal, and the fusions that pay on every backend: BatchNorm
 * folded into Conv weights, activation folded into its producer (Conv, Gemm, Add), and a
 * residual Add folded into the Conv before it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder.h"

pl_status pl__pass_fold_constants(pl_network *net, const pl__shape_pass *p) {
    for (int li = 0; li < net->nlayers; li++) {
        pl__layer *l = &net->layers[li];
        bool all = l->nout > 0;
        if (l->dead)
            continue;
        for (int k = 0; k < l->nout; k++)
            all &= p->folded[l->out[k]] && p->v[l->out[k]].data != NULL;
        if (!all)
            continue;
        for (int k = 0; k < l->nout; k++) {
            pl__tensor *t = &net->tensors[l->out[k]];
            const pl__tview *v = &p->v[l->out[k]];
            size_t bytes = pl__tview_bytes(v);
            t->data = malloc(bytes ? bytes : 1);
            if (!t->data)
                return pl__fail(PL_ERR_NOMEM, "out of memory folding '%s'", t->name);
            memcpy(t->data, v->data, bytes);
            t->nbytes = bytes;
            t->owns_data = true;
            t->kind = PL__TENSOR_CONST;
            t->dtype = v->dtype;
            t->rank = v->rank;
            memcpy(t->dims, v->dims, sizeof(t->dims));
            t->producer = -1;
        }
        l->dead = true;
        pl__log(PL_LOG_VERBOSE, "folded node '%s' (%s)", pl__layer_label(l), l->op);
    }
    return PL_OK;
}

pl_status pl__pass_dead_code(pl_network *net) {
    bool *live = calloc((size_t)net->ntensors + 1, 1);
    if (!live)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < net->noutputs; i++)
        live[net->outputs[i]] = true;
    for (int li = net->nlayers - 1; li >= 0; li--) {
        pl__layer *l = &net->layers[li];
        bool any = false;
        if (l->dead)
            continue;
        for (int k = 0; k < l->nout; k++)
            any |= live[l->out[k]];
        if (!any) {
            l->dead = true;
            continue;
        }
        for (int k = 0; k < l->nin; k++)
            if (l->in[k] >= 0)
                live[l->in[k]] = true;
    }
    free(live);
    return PL_OK;
}

/* The one live layer consuming t, or -1 if t has several consumers or is a graph output. */
static int pl__sole_consumer(const pl_network *net, int32_t t) {
    int who = -1;
    if (net->tensors[t].is_output)
        return -1;
    for (int li = 0; li < net->nlayers; li++) {
        const pl__layer *l = &net->layers[li];
        if (l->dead)
            continue;
        for (int k = 0; k < l->nin; k++) {
            if (l->in[k] != t)
                continue;
            if (who >= 0 && who != li)
                return -1;
            who = li;
        }
    }
    return who;
}

static bool pl__is_const(const pl_network *net, int32_t t) {
    return t >= 0 && net->tensors[t].kind == PL__TENSOR_CONST;
}

/* Same shape at every profile point (dynamic dims included), and no data dependence. */
static bool pl__same_shape(const pl__tensor *a, const pl__tensor *b) {
    if (a->rank != b->rank || a->data_dependent || b->data_dependent)
        return false;
    for (int d = 0; d < a->rank; d++)
        if (a->min_dims[d] != b->min_dims[d] || a->max_dims[d] != b->max_dims[d] ||
            a->opt_dims[d] != b->opt_dims[d])
            return false;
    return true;
}

/* Makes `l` write what `consumer` wrote, and kills the consumer. */
static void pl__absorb(pl_network *net, pl__layer *l, int li, pl__layer *consumer) {
    int32_t out = consumer->out[0];
    l->out[0] = out;
    net->tensors[out].producer = li;
    consumer->dead = true;
}

static pl_status pl__fold_bn(pl_network *net, int li) {
    pl__layer *conv = &net->layers[li], *bn;
    int ci = pl__sole_consumer(net, conv->out[0]);
    const pl__tensor *w, *sc, *bb, *mean, *var, *bias = NULL;
    int64_t oc, per;
    float eps;
    float *nw = NULL, *nb = NULL;
    int32_t tw, tb, ids[2];
    pl_status s;
    if (ci < 0 || strcmp(net->layers[ci].op, "BatchNormalization") != 0)
        return PL_OK;
    bn = &net->layers[ci];
    if (bn->nin != 5 || bn->nout != 1 || bn->in[0] != conv->out[0] || conv->nin > 3)
        return PL_OK;
    for (int k = 1; k < 5; k++)
        if (!pl__is_const(net, bn->in[k]) || net->tensors[bn->in[k]].dtype != PL_FLOAT32)
            return PL_OK;
    if (!pl__is_const(net, conv->in[1]) || net->tensors[conv->in[1]].dtype != PL_FLOAT32)
        return PL_OK;
    if (conv->nin == 3 && conv->in[2] >= 0) {
        if (!pl__is_const(net, conv->in[2]))
            return PL_OK;
        bias = &net->tensors[conv->in[2]];
    }
    if (pl__attrs_find(&conv->attrs, "activation") || pl__attr_int(&bn->attrs, "training_mode", 0))
        return PL_OK;
    w = &net->tensors[conv->in[1]];
    sc = &net->tensors[bn->in[1]];
    bb = &net->tensors[bn->in[2]];
    mean = &net->tensors[bn->in[3]];
    var = &net->tensors[bn->in[4]];
    oc = w->rank > 0 ? w->dims[0] : 0;
    if (oc <= 0 || pl__numel(sc->rank, sc->dims) != oc || pl__numel(bb->rank, bb->dims) != oc ||
        pl__numel(mean->rank, mean->dims) != oc || pl__numel(var->rank, var->dims) != oc ||
        (bias && pl__numel(bias->rank, bias->dims) != oc))
        return PL_OK;
    per = pl__numel(w->rank, w->dims) / oc;
    eps = (float)pl__attr_float(&bn->attrs, "epsilon", 1e-5);
    nw = malloc(sizeof(float) * (size_t)(oc * per));
    nb = malloc(sizeof(float) * (size_t)oc);
    if (!nw || !nb) {
        free(nw);
        free(nb);
        return pl__fail(PL_ERR_NOMEM, "out of memory folding batch norm");
    }
    for (int64_t o = 0; o < oc; o++) {
        float g = ((const float *)sc->data)[o] / sqrtf(((const float *)var->data)[o] + eps);
        float b0 = bias ? ((const float *)bias->data)[o] : 0.f;
        for (int64_t j = 0; j < per; j++)
            nw[o * per + j] = ((const float *)w->data)[o * per + j] * g;
        nb[o] = (b0 - ((const float *)mean->data)[o]) * g + ((const float *)bb->data)[o];
    }
    {
        char *wn = pl__sprintf("%s.bnfold_w", pl__layer_label(conv));
        char *bn_ = pl__sprintf("%s.bnfold_b", pl__layer_label(conv));
        int64_t bd[1] = {oc};
        int64_t wd[PL_MAX_RANK];
        int wr = w->rank;
        memcpy(wd, w->dims, sizeof(wd));
        s = !wn || !bn_ ? pl__fail(PL_ERR_NOMEM, "out of memory")
                        : pl_network_add_constant(net, wn, PL_FLOAT32, wr, wd, nw, &tw);
        if (!s)
            s = pl_network_add_constant(net, bn_, PL_FLOAT32, 1, bd, nb, &tb);
        free(wn);
        free(bn_);
    }
    free(nw);
    free(nb);
    if (s)
        return s;
    /* the layers array may not move (constants only grow the tensor array), but re-fetch */
    conv = &net->layers[li];
    bn = &net->layers[ci];
    if (conv->nin < 3) {
        int32_t *ni = realloc(conv->in, sizeof(int32_t) * 3);
        if (!ni)
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        conv->in = ni;
        conv->nin = 3;
    }
    ids[0] = tw;
    ids[1] = tb;
    conv->in[1] = ids[0];
    conv->in[2] = ids[1];
    pl__absorb(net, conv, li, bn);
    return PL_OK;
}

static const char *const pl__fusable_acts[] = {"Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh",
                                               "HardSigmoid", "HardSwish", NULL};

static pl_status pl__fuse_activation(pl_network *net, int li) {
    pl__layer *l = &net->layers[li], *act;
    int ai = pl__sole_consumer(net, l->out[0]);
    const char *name = NULL;
    double alpha = 0, beta = 0;
    pl_attr a;
    pl_status s;
    if (ai < 0 || pl__attrs_find(&l->attrs, "activation"))
        return PL_OK;
    act = &net->layers[ai];
    for (int i = 0; pl__fusable_acts[i]; i++)
        if (strcmp(act->op, pl__fusable_acts[i]) == 0)
            name = pl__fusable_acts[i];
    if (!name || act->in[0] != l->out[0] || act->nout != 1)
        return PL_OK;
    if (net->tensors[l->out[0]].dtype != PL_FLOAT32)
        return PL_OK;
    if (strcmp(name, "LeakyRelu") == 0) {
        alpha = pl__attr_float(&act->attrs, "alpha", 0.01);
    } else if (strcmp(name, "HardSigmoid") == 0) {
        alpha = pl__attr_float(&act->attrs, "alpha", 0.2);
        beta = pl__attr_float(&act->attrs, "beta", 0.5);
    } else if (strcmp(name, "Clip") == 0) {
        alpha = pl__attr_float(&act->attrs, "min", -INFINITY);
        beta = pl__attr_float(&act->attrs, "max", INFINITY);
        for (int k = 1; k < act->nin && k < 3; k++) {
            const pl__tensor *t;
            if (act->in[k] < 0)
                continue;
            if (!pl__is_const(net, act->in[k]))
                return PL_OK;
            t = &net->tensors[act->in[k]];
            if (pl__numel(t->rank, t->dims) != 1)
                return PL_OK;
            if (k == 1)
                alpha = pl__get_f64(t->data, t->dtype, 0);
            else
                beta = pl__get_f64(t->data, t->dtype, 0);
        }
    }
    a = PL_ATTR_S("activation", name);
    if ((s = pl__attrs_set(&l->attrs, &a)))
        return s;
    a = PL_ATTR_F("activation_alpha", alpha);
    if ((s = pl__attrs_set(&l->attrs, &a)))
        return s;
    a = PL_ATTR_F("activation_beta", beta);
    if ((s = pl__attrs_set(&l->attrs, &a)))
        return s;
    pl__absorb(net, l, li, act);
    return PL_OK;
}

/* Whether every input of l is produced before layer index li. */
static bool pl__layer_inputs_before(const pl_network *net, const pl__layer *l, int li) {
    for (int k = 0; k < l->nin; k++)
        if (l->in[k] >= 0 && net->tensors[l->in[k]].kind == PL__TENSOR_ACT &&
            net->tensors[l->in[k]].producer >= li)
            return false;
    return true;
}

static pl_status pl__fuse_residual(pl_network *net, int li) {
    pl__layer *conv = &net->layers[li], *add;
    int ai = pl__sole_consumer(net, conv->out[0]), p;
    int32_t other;
    if (ai < 0 || conv->nin > 3 || pl__attrs_find(&conv->attrs, "activation"))
        return PL_OK;
    add = &net->layers[ai];
    if (strcmp(add->op, "Add") != 0 || add->nin != 2 || pl__attrs_find(&add->attrs, "activation"))
        return PL_OK;
    other = add->in[0] == conv->out[0] ? add->in[1] : add->in[0];
    if (other == conv->out[0] || other < 0)
        return PL_OK;
    if (!pl__same_shape(&net->tensors[other], &net->tensors[add->out[0]]) ||
        !pl__same_shape(&net->tensors[conv->out[0]], &net->tensors[add->out[0]]))
        return PL_OK;
    if (net->tensors[other].dtype != PL_FLOAT32)
        return PL_OK;
    /* the residual must exist before the conv runs (layers stay in topological order). In a
     * ResNet block the shortcut conv often comes after the main path's last conv: when the
     * shortcut's inputs all exist before this conv, it moves up and this conv (the long
     * branch) takes the fusion, so that the shortcut stays independent of the main path and
     * can run beside it on another stream (src/runtime/lanes.c) */
    p = net->tensors[other].producer;
    if (p >= li) {
        if (net->layers[p].dead || !pl__layer_inputs_before(net, &net->layers[p], li))
            return PL_OK;
        pl__network_move_layer(net, p, li);
        if (ai < p)
            ai++; /* the Add comes after the conv; it shifted up when it was before p */
        li++;
        conv = &net->layers[li];
        add = &net->layers[ai];
    }
    {
        int32_t *ni = realloc(conv->in, sizeof(int32_t) * 4);
        if (!ni)
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        conv->in = ni;
        for (int k = conv->nin; k < 3; k++)
            conv->in[k] = -1;
        conv->in[3] = other;
        conv->nin = 4;
    }
    pl__absorb(net, conv, li, add);
    return PL_OK;
}

pl_status pl__pass_fuse(pl_network *net) {
    pl_status s;
    for (int li = 0; li < net->nlayers; li++) {
        if (net->layers[li].dead || strcmp(net->layers[li].op, "Conv") != 0)
            continue;
        if ((s = pl__fold_bn(net, li)))
            return s;
    }
    for (int li = 0; li < net->nlayers; li++) {
        if (net->layers[li].dead || strcmp(net->layers[li].op, "Conv") != 0)
            continue;
        if ((s = pl__fuse_residual(net, li)))
            return s;
    }
    for (int li = 0; li < net->nlayers; li++) {
        const char *op = net->layers[li].op;
        if (net->layers[li].dead || net->layers[li].nout != 1)
            continue;
        if (strcmp(op, "Conv") && strcmp(op, "Gemm") && strcmp(op, "Add"))
            continue;
        if ((s = pl__fuse_activation(net, li)))
            return s;
    }
    return PL_OK;
}
