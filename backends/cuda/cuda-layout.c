/*
 * cuda-layout.c - the channels-last pass of the CUDA backend's optimize(), run after the fp16
 * pass.
 *
 * cuDNN's float16 tensor-core convolutions work on channels-last (NHWC) data; given NCHW they
 * transpose around every call or pick slower kernels. So float16 4-D convolution chains are
 * stored NHWC: tensor dims stay logical NCHW (shape inference, the memory plan and the CPU never
 * see a difference), but a layer carrying "cuda.nhwc" = 1 reads and writes its 4-D activations
 * as [N, H, W, C] in memory. Layers that know the layout: Conv (cuDNN with NHWC descriptors and
 * weights permuted here to [M, kH, kW, C/g]; the depthwise kernel's NHWC variant), MaxPool and
 * AveragePool (2-D, no indices), GlobalAveragePool / GlobalMaxPool, the binary ops Add, Sub,
 * Mul, Div on 4-D operands (broadcast over dims in memory order), and elementwise activations
 * (layout-blind). A float16 Conv always becomes NHWC; the other ops do when fed an NHWC tensor.
 * Where an NHWC tensor meets any other consumer, or a graph output, an Identity with
 * "cuda.relayout" 2 converts it back (1 for the other direction). A tensor whose spatial dims
 * are all 1 (the result of global pooling, the squeeze-excitation vectors) is the same in both
 * layouts and never converted.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda-internal.h"

typedef struct pl__lay {
    pl_network *net;
    signed char *nhwc; /* per tensor: 1 stored channels-last */
    int cap;
    int32_t *conv_to[3]; /* per original tensor: its converted copy (index 1, 2), or -1 */
    int nt0;
    int *order;
    int norder, cap_order;
} pl__lay;

static const char *const pl__lay_unary[] = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid",
                                            "HardSwish", "Clip", NULL};
static const char *const pl__lay_binary[] = {"Add", "Sub", "Mul", "Div", NULL};

static bool pl__in_list(const char *const *list, const char *op) {
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], op) == 0)
            return true;
    return false;
}

static pl_status pl__lay_mark(pl__lay *st, int32_t t, bool v) {
    if (t >= st->cap) {
        int old = st->cap;
        if (!pl__grow((void **)&st->nhwc, &st->cap, t + 1, 1))
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        memset(st->nhwc + old, 0, (size_t)(st->cap - old));
    }
    st->nhwc[t] = v;
    return PL_OK;
}

static bool pl__lay_is(const pl__lay *st, int32_t t) {
    return t >= 0 && t < st->cap && st->nhwc[t];
}

static pl_status pl__lay_push(pl__lay *st, int li) {
    if (!pl__grow((void **)&st->order, &st->cap_order, st->norder + 1, sizeof(int)))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    st->order[st->norder++] = li;
    return PL_OK;
}

/* The tensor whose ranges describe t: the fp16 pass's Casts get their ranges only after
 * optimize(), so their source's ranges stand in. */
static const pl__tensor *pl__lay_ranges(const pl_network *net, int32_t t) {
    for (int hop = 0; hop < 4; hop++) {
        const pl__tensor *tt = &net->tensors[t];
        const pl__layer *p;
        if (tt->rank > 0 || tt->producer < 0 || tt->producer >= net->nlayers)
            return tt;
        p = &net->layers[tt->producer];
        if (strcmp(p->op, "Cast") || p->nin < 1 || p->in[0] < 0)
            return tt;
        t = p->in[0];
    }
    return &net->tensors[t];
}

/* A 4-D activation whose layout matters: spatial dims not all 1 at every profile shape. */
static bool pl__lay_matters(const pl_network *net, int32_t t) {
    const pl__tensor *tt;
    if (t < 0)
        return false;
    if (net->tensors[t].kind == PL__TENSOR_CONST)
        return false;
    tt = pl__lay_ranges(net, t);
    if (tt->rank != 4)
        return false;
    return !(tt->min_dims[2] == 1 && tt->max_dims[2] == 1 && tt->min_dims[3] == 1 &&
             tt->max_dims[3] == 1);
}

/* Converts tensor t (an original tensor) into layout dir (1 NHWC, 2 NCHW) with an Identity. */
static pl_status pl__lay_convert(pl__lay *st, int32_t t, int dir, const char *out_name,
                                 int32_t *out) {
    pl_network *net = st->net;
    pl_attr at = PL_ATTR_I("cuda.relayout", dir);
    char *lname;
    const char *names[1] = {out_name};
    pl_status s;
    if (t < st->nt0 && !out_name && st->conv_to[dir][t] >= 0) {
        *out = st->conv_to[dir][t];
        return PL_OK;
    }
    lname = pl__sprintf("%s.to_%s", net->tensors[t].name, dir == 1 ? "nhwc" : "nchw");
    if (!lname)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    s = pl__network_new_layer(net, "Identity", lname, &t, 1, &at, 1, 1, out_name ? names : NULL,
                              out);
    free(lname);
    if (s)
        return s;
    if ((s = pl__lay_mark(st, *out, dir == 1)))
        return s;
    if (t < st->nt0 && !out_name)
        st->conv_to[dir][t] = *out;
    return pl__lay_push(st, net->nlayers - 1);
}

/* A float16 copy of the constant weights w [M, C/g, kH, kW] stored [M, kH, kW, C/g]. */
static pl_status pl__lay_weights(pl_network *net, int32_t w, int32_t *out) {
    const pl__tensor *c = &net->tensors[w];
    int64_t m = c->dims[0], cg = c->dims[1], kh = c->dims[2], kw = c->dims[3], dims[PL_MAX_RANK];
    size_t n = (size_t)(m * cg * kh * kw);
    const uint16_t *src = c->data;
    uint16_t *dst;
    char *name;
    pl_status s;
    if (n * 2 > c->nbytes)
        return pl__fail(PL_ERR_INTERNAL, "constant '%s' is shorter than its shape", c->name);
    name = pl__sprintf("%s.nhwc", c->name);
    if (!name)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    if ((*out = pl__network_find(net, name)) >= 0) { /* shared weights: permuted once */
        free(name);
        return PL_OK;
    }
    dst = malloc(n * 2 + 2);
    if (!dst) {
        free(name);
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    }
    for (int64_t a = 0; a < m; a++)
        for (int64_t ci = 0; ci < cg; ci++)
            for (int64_t y = 0; y < kh; y++)
                for (int64_t x = 0; x < kw; x++)
                    dst[((a * kh + y) * kw + x) * cg + ci] = src[((a * cg + ci) * kh + y) * kw + x];
    memcpy(dims, c->dims, sizeof(dims));
    s = pl_network_add_constant(net, name, PL_FLOAT16, 4, dims, dst, out);
    free(dst);
    free(name);
    if (s)
        return s;
    memcpy(net->tensors[*out].min_dims, dims, sizeof(dims));
    memcpy(net->tensors[*out].opt_dims, dims, sizeof(dims));
    memcpy(net->tensors[*out].max_dims, dims, sizeof(dims));
    return PL_OK;
}

/* Whether the Conv kernel takes layer li channels-last (asked at the profile's max shapes). */
static bool pl__lay_conv_ok(pl_network *net, int li) {
    pl__layer *l = &net->layers[li];
    pl__tview in[4], out[1];
    pl__kernel_args a;
    const pl__kernel_def *k = pl__cuda_backend.find_kernel("Conv");
    pl_attr at = PL_ATTR_I("cuda.nhwc", 1);
    bool ok;
    if (l->nin < 2 || l->nin > 4 || l->nout != 1 || l->in[0] < 0 || l->in[1] < 0 || !k)
        return false;
    if (pl__lay_ranges(net, l->in[0])->rank != 4 ||
        net->tensors[l->in[1]].kind != PL__TENSOR_CONST || !net->tensors[l->in[1]].data ||
        net->tensors[l->in[1]].dtype != PL_FLOAT16 || net->tensors[l->in[1]].rank != 4)
        return false;
    if (l->nin > 3 && l->in[3] >= 0 && net->tensors[l->in[3]].kind == PL__TENSOR_CONST)
        return false;
    memset(in, 0, sizeof(in));
    memset(out, 0, sizeof(out));
    for (int i = 0; i < l->nin; i++) {
        const pl__tensor *t;
        if (l->in[i] < 0)
            continue;
        t = pl__lay_ranges(net, l->in[i]);
        in[i].dtype = i == 2 ? t->dtype : PL_FLOAT16;
        in[i].rank = t->rank;
        memcpy(in[i].dims, t->max_dims, sizeof(in[i].dims));
        in[i].data = net->tensors[l->in[i]].data;
    }
    out[0].dtype = PL_FLOAT16;
    out[0].rank = net->tensors[l->out[0]].rank;
    memcpy(out[0].dims, net->tensors[l->out[0]].max_dims, sizeof(out[0].dims));
    if (pl__attrs_set(&l->attrs, &at))
        return false;
    memset(&a, 0, sizeof(a));
    a.layer = l;
    a.nin = l->nin;
    a.in = in;
    a.nout = 1;
    a.out = out;
    ok = !k->supports || k->supports(&a);
    pl__clear_error();
    at = PL_ATTR_I("cuda.nhwc", 0);
    if (!ok)
        pl__attrs_set(&l->attrs, &at);
    return ok;
}

/* Whether layer li (not a Conv) runs channels-last: a known op fed an NHWC activation. */
static bool pl__lay_follow(const pl__lay *st, int li) {
    const pl_network *net = st->net;
    const pl__layer *l = &net->layers[li];
    bool fed = false;
    if (l->compute_dtype != PL_FLOAT16 || l->nout != 1 || l->nin < 1 || l->in[0] < 0)
        return false;
    if (pl__lay_ranges(net, l->out[0])->rank != 4)
        return false;
    for (int i = 0; i < l->nin; i++)
        fed = fed || (pl__lay_matters(net, l->in[i]) && pl__lay_is(st, l->in[i]));
    if (!fed)
        return false;
    if (strcmp(l->op, "MaxPool") == 0 || strcmp(l->op, "AveragePool") == 0)
        return pl__attr_int(&l->attrs, "storage_order", 0) == 0;
    if (strcmp(l->op, "GlobalAveragePool") == 0 || strcmp(l->op, "GlobalMaxPool") == 0)
        return true;
    if (pl__in_list(pl__lay_unary, l->op))
        return true;
    if (pl__in_list(pl__lay_binary, l->op)) {
        if (l->nin != 2 || l->in[1] < 0)
            return false;
        for (int i = 0; i < 2; i++) {
            const pl__tensor *t = pl__lay_ranges(net, l->in[i]);
            /* a constant with real spatial extent is stored NCHW and is not converted */
            if (t->rank != 4 ||
                (t->kind == PL__TENSOR_CONST && (t->dims[2] != 1 || t->dims[3] != 1)))
                return false;
        }
        return true;
    }
    return false;
}

static bool pl__lay_dims_only(const pl__layer *l) {
    return strcmp(l->op, "Shape") == 0 || strcmp(l->op, "Size") == 0;
}

pl_status pl__cuda_layout_pass(pl_network *net) {
    pl__lay st;
    int nl0 = net->nlayers;
    pl_status s = PL_OK;
    bool any = false;
    memset(&st, 0, sizeof(st));
    st.net = net;
    st.nt0 = net->ntensors;
    for (int li = 0; li < nl0 && !any; li++)
        any = !net->layers[li].dead && strcmp(net->layers[li].op, "Conv") == 0 &&
              net->layers[li].compute_dtype == PL_FLOAT16;
    if (!any)
        return PL_OK;
    for (int d = 1; d <= 2; d++) {
        st.conv_to[d] = malloc(sizeof(int32_t) * (size_t)(st.nt0 + 1));
        if (!st.conv_to[d]) {
            s = pl__fail(PL_ERR_NOMEM, "out of memory");
            goto done;
        }
        for (int t = 0; t < st.nt0; t++)
            st.conv_to[d][t] = -1;
    }
    if ((s = pl__lay_mark(&st, st.nt0, false)))
        goto done;
    for (int li = 0; li < nl0; li++) {
        bool nhwc = false;
        pl__layer *l = &net->layers[li];
        if (l->dead) {
            if ((s = pl__lay_push(&st, li)))
                goto done;
            continue;
        }
        if (strcmp(l->op, "Conv") == 0 && l->compute_dtype == PL_FLOAT16)
            nhwc = pl__lay_conv_ok(net, li);
        else
            nhwc = pl__lay_follow(&st, li);
        for (int k = 0; k < net->layers[li].nin; k++) {
            int32_t t = net->layers[li].in[k], nt;
            if (!pl__lay_matters(net, t) || pl__lay_is(&st, t) == nhwc ||
                pl__lay_dims_only(&net->layers[li]))
                continue;
            if ((s = pl__lay_convert(&st, t, nhwc ? 1 : 2, NULL, &nt)))
                goto done;
            net->layers[li].in[k] = nt;
        }
        l = &net->layers[li];
        if (nhwc) {
            pl_attr at = PL_ATTR_I("cuda.nhwc", 1);
            if ((s = pl__attrs_set(&l->attrs, &at)))
                goto done;
            if (strcmp(l->op, "Conv") == 0) {
                int32_t w;
                if ((s = pl__lay_weights(net, l->in[1], &w)))
                    goto done;
                net->layers[li].in[1] = w;
            }
        }
        for (int o = 0; o < net->layers[li].nout; o++)
            if ((s = pl__lay_mark(&st, net->layers[li].out[o],
                                  nhwc && pl__lay_ranges(net, net->layers[li].out[o])->rank == 4)))
                goto done;
        if ((s = pl__lay_push(&st, li)))
            goto done;
    }
    /* graph outputs keep NCHW: the NHWC tensor is renamed and the converter takes the name */
    for (int i = 0; i < net->noutputs; i++) {
        int32_t t = net->outputs[i], nt;
        char *orig, *renamed;
        if (!pl__lay_is(&st, t) || !pl__lay_matters(net, t))
            continue;
        orig = net->tensors[t].name;
        renamed = pl__sprintf("%s.nhwc", orig);
        if (!renamed) {
            s = pl__fail(PL_ERR_NOMEM, "out of memory");
            goto done;
        }
        net->tensors[t].name = renamed;
        s = pl__lay_convert(&st, t, 2, orig, &nt);
        free(orig);
        if (s)
            goto done;
        net->tensors[t].is_output = false;
        net->tensors[nt].is_output = true;
        net->outputs[i] = nt;
    }
    /* the new layers sit right before their first consumer */
    s = pl__network_reorder(net, st.order, st.norder);
done:
    free(st.nhwc);
    free(st.conv_to[1]);
    free(st.conv_to[2]);
    free(st.order);
    return s;
}
