/*
 * onnx-handlers.c - the importer's op-handler table, keyed by (domain, op_type, opset range).
 *
 * Most ONNX ops need no row here: a default-domain op whose name is a core layer goes through
 * pl__onnx_generic, which copies its attributes (the IR uses ONNX names and semantics, and the
 * layers accept both the attribute and the input form of ops whose attributes moved to inputs).
 * A row is needed only where the node does not map 1:1: Constant (a network constant, not a
 * layer), attributes of type TENSOR (ConstantOfShape), and old opsets whose semantics no
 * attribute reveals (Softmax before 13 flattens to 2-D; Upsample and Resize-10 use asymmetric
 * coordinates). Adding an op is one handler function and one row.
 */
#include <stdio.h>
#include <string.h>

#include "onnx/onnx-internal.h"

/* Attributes that name a data type: a type plinth lacks makes the node unsupported. */
static pl_status pl__check_dtype_attrs(const pl__onnx_node *node) {
    static const char *const names[] = {"to", "dtype", "output_dtype"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const Onnx__AttributeProto *a = pl__onnx_attr(node, names[i]);
        if (a && a->has_i && a->i != 0 && pl__onnx_dtype((int32_t)a->i) == PL_DTYPE_INVALID)
            return pl__onnx_node_fail(node, PL_ERR_UNSUPPORTED, "attribute '%s': data type %s "
                                      "(%lld) is not supported by plinth", names[i],
                                      pl__onnx_dtype_name((int32_t)a->i), (long long)a->i);
    }
    return PL_OK;
}

static pl_status pl__generic_as(pl__onnx_ctx *ctx, const pl__onnx_node *node, const char *op) {
    pl_attr *attrs;
    int nattrs;
    pl_status s;
    if ((s = pl__check_dtype_attrs(node)))
        return s;
    if ((s = pl__onnx_node_attrs(ctx, node, NULL, &attrs, &nattrs)))
        return s;
    return pl__onnx_add_layer(ctx, node, op, node->in, node->nin, attrs, nattrs);
}

pl_status pl__onnx_generic(pl__onnx_ctx *ctx, const pl__onnx_node *node) {
    return pl__generic_as(ctx, node, node->proto->op_type);
}

/* Constant: the value becomes a network constant named after the node's output. */
static pl_status pl__h_constant(pl__onnx_ctx *ctx, const pl__onnx_node *node) {
    const Onnx__NodeProto *np = node->proto;
    const Onnx__AttributeProto *a = NULL;
    pl__onnx_tensor v = {0};
    int64_t dims[1];
    pl_tensor id;
    pl_status s;
    if (node->nout != 1 || !node->out_names[0])
        return pl__onnx_node_fail(node, PL_ERR_FORMAT, "expected exactly one output");
    if (np->n_attribute != 1 || !np->attribute[0] || !np->attribute[0]->name)
        return pl__onnx_node_fail(node, PL_ERR_FORMAT, "expected exactly one attribute (value, "
                                  "value_float(s) or value_int(s)), got %zu", np->n_attribute);
    a = np->attribute[0];
    if (strcmp(a->name, "value") == 0) {
        char what[400];
        if (!a->t)
            return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "attribute 'value' is not a TENSOR");
        snprintf(what, sizeof(what), "node '%s' (Constant): attribute 'value'", node->label);
        if ((s = pl__onnx_tensor_decode(a->t, what, pl__onnx_base_dir(ctx), &v)))
            return s;
    } else if (strcmp(a->name, "value_float") == 0 || strcmp(a->name, "value_int") == 0) {
        bool is_f = a->name[6] == 'f';
        if (is_f ? !a->has_f : !a->has_i)
            return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "attribute '%s' is not %s",
                                      a->name, is_f ? "a FLOAT" : "an INT");
        v.dtype = is_f ? PL_FLOAT32 : PL_INT64;
        v.rank = 0;
        v.nbytes = pl_dtype_size(v.dtype);
        if (!(v.data = pl__onnx_scratch(ctx, v.nbytes)))
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        if (is_f)
            memcpy(v.data, &a->f, sizeof(float));
        else
            memcpy(v.data, &a->i, sizeof(int64_t));
        s = pl_network_add_constant(pl__onnx_net(ctx), node->out_names[0], v.dtype, 0, dims,
                                    v.data, &id);
        return s ? s : pl__onnx_bind_name(ctx, node->out_names[0], id);
    } else if (strcmp(a->name, "value_floats") == 0 || strcmp(a->name, "value_ints") == 0) {
        bool is_f = a->name[6] == 'f';
        static const int64_t zero_i[1];
        static const float zero_f[1];
        const void *data = is_f ? (a->n_floats ? (const void *)a->floats : zero_f)
                                : (a->n_ints ? (const void *)a->ints : zero_i);
        dims[0] = (int64_t)(is_f ? a->n_floats : a->n_ints);
        s = pl_network_add_constant(pl__onnx_net(ctx), node->out_names[0],
                                    is_f ? PL_FLOAT32 : PL_INT64, 1, dims, data, &id);
        return s ? s : pl__onnx_bind_name(ctx, node->out_names[0], id);
    } else if (strncmp(a->name, "value_string", 12) == 0) {
        return pl__onnx_node_fail(node, PL_ERR_UNSUPPORTED, "string constants are not supported");
    } else if (strcmp(a->name, "sparse_value") == 0) {
        return pl__onnx_node_fail(node, PL_ERR_UNSUPPORTED, "sparse constants are not supported");
    } else {
        return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "unknown attribute '%s'", a->name);
    }
    s = pl_network_add_constant(pl__onnx_net(ctx), node->out_names[0], v.dtype, v.rank, v.dims,
                                v.data, &id);
    pl__onnx_tensor_release(&v);
    return s ? s : pl__onnx_bind_name(ctx, node->out_names[0], id);
}

/* ConstantOfShape: the one-element TENSOR attribute 'value' travels as BYTES 'value' (the
 * element's bytes) plus INT 'value_dtype' (its pl_dtype). Absent, the layer's default (float32
 * zero) applies. */
static pl_status pl__h_constant_of_shape(pl__onnx_ctx *ctx, const pl__onnx_node *node) {
    static const char *const skip[] = {"value", NULL};
    const Onnx__AttributeProto *a = pl__onnx_attr(node, "value");
    pl_attr *attrs, *all;
    int nattrs;
    pl_status s;
    if ((s = pl__onnx_node_attrs(ctx, node, skip, &attrs, &nattrs)))
        return s;
    if (!a)
        return pl__onnx_add_layer(ctx, node, "ConstantOfShape", node->in, node->nin, attrs, nattrs);
    if (!a->t)
        return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "attribute 'value' is not a TENSOR");
    {
        pl__onnx_tensor v;
        char what[400];
        void *elem;
        snprintf(what, sizeof(what), "node '%s' (ConstantOfShape): attribute 'value'", node->label);
        if ((s = pl__onnx_tensor_decode(a->t, what, pl__onnx_base_dir(ctx), &v)))
            return s;
        if (v.nbytes != pl_dtype_size(v.dtype)) {
            pl__onnx_tensor_release(&v);
            return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "attribute 'value' must hold "
                                      "exactly one element");
        }
        all = pl__onnx_scratch(ctx, sizeof(pl_attr) * (size_t)(nattrs + 2));
        elem = pl__onnx_scratch(ctx, v.nbytes);
        if (!all || !elem) {
            pl__onnx_tensor_release(&v);
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        }
        memcpy(elem, v.data, v.nbytes);
        if (nattrs)
            memcpy(all, attrs, sizeof(pl_attr) * (size_t)nattrs);
        all[nattrs] = (pl_attr){.name = "value", .type = PL_ATTR_BYTES, .bytes = elem,
                                .count = (int64_t)v.nbytes};
        all[nattrs + 1] = PL_ATTR_I("value_dtype", (int64_t)v.dtype);
        pl__onnx_tensor_release(&v);
    }
    return pl__onnx_add_layer(ctx, node, "ConstantOfShape", node->in, node->nin, all, nattrs + 2);
}

/* Softmax, LogSoftmax and Hardmax before opset 13 coerce the input to 2-D at `axis` (default 1)
 * and normalize each row: Flatten(axis) -> op(axis=1) -> Reshape to the input's shape. */
static pl_status pl__h_softmax_legacy(pl__onnx_ctx *ctx, const pl__onnx_node *node) {
    const Onnx__AttributeProto *a = pl__onnx_attr(node, "axis");
    const char *op = node->proto->op_type;
    int64_t axis = 1;
    pl_tensor shape, flat, norm, rin[2];
    pl_attr fa, na;
    pl_status s;
    if (node->nin != 1 || node->in[0] == PL_NO_TENSOR || node->nout != 1)
        return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "expected one input and one output");
    if (a) {
        if (!a->has_i)
            return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "attribute 'axis' is not an INT");
        axis = a->i;
    }
    fa = PL_ATTR_I("axis", axis);
    na = PL_ATTR_I("axis", 1);
    if ((s = pl__onnx_add_helper(ctx, node, "shape", "Shape", node->in, 1, NULL, 0, &shape)) ||
        (s = pl__onnx_add_helper(ctx, node, "flatten", "Flatten", node->in, 1, &fa, 1, &flat)) ||
        (s = pl__onnx_add_helper(ctx, node, op, op, &flat, 1, &na, 1, &norm)))
        return s;
    rin[0] = norm;
    rin[1] = shape;
    return pl__onnx_add_layer(ctx, node, "Reshape", rin, 2, NULL, 0);
}

/* Upsample (opset 7-9, deprecated since 10) is Resize with asymmetric coordinates and floor
 * rounding for nearest. Opset 7-8 carry the scales as an attribute. */
static pl_status pl__h_upsample(pl__onnx_ctx *ctx, const pl__onnx_node *node) {
    const Onnx__AttributeProto *m = pl__onnx_attr(node, "mode");
    char mode[32] = "nearest";
    pl_tensor in[3] = {PL_NO_TENSOR, PL_NO_TENSOR, PL_NO_TENSOR};
    pl_attr attrs[3];
    pl_status s;
    if (node->nin < 1 || node->in[0] == PL_NO_TENSOR || node->nout != 1)
        return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "expected an input X and one output");
    if (m) {
        if (!m->has_s || m->s.len >= sizeof(mode))
            return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "attribute 'mode' is not a "
                                      "STRING naming a mode");
        memcpy(mode, m->s.data, m->s.len);
        mode[m->s.len] = 0;
    }
    if (strcmp(mode, "bilinear") == 0)
        strcpy(mode, "linear");
    in[0] = node->in[0];
    if (node->opset >= 9) {
        if (node->nin != 2 || node->in[1] == PL_NO_TENSOR)
            return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "expected inputs X and scales");
        in[2] = node->in[1];
    } else {
        const Onnx__AttributeProto *sc = pl__onnx_attr(node, "scales");
        int64_t n;
        if (!sc || !sc->n_floats)
            return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "attribute 'scales' (FLOATS) is "
                                      "missing");
        n = (int64_t)sc->n_floats;
        if ((s = pl__onnx_add_const(ctx, node, "scales", PL_FLOAT32, 1, &n, sc->floats, &in[2])))
            return s;
    }
    attrs[0] = PL_ATTR_S("mode", mode);
    attrs[1] = PL_ATTR_S("coordinate_transformation_mode", "asymmetric");
    attrs[2] = PL_ATTR_S("nearest_mode", "floor");
    return pl__onnx_add_layer(ctx, node, "Resize", in, 3, attrs, 3);
}

/* Resize-10 takes (X, scales) and has no coordinate_transformation_mode: it samples with
 * asymmetric coordinates, like Upsample. */
static pl_status pl__h_resize10(pl__onnx_ctx *ctx, const pl__onnx_node *node) {
    static const char *const skip[] = {"coordinate_transformation_mode", "nearest_mode", NULL};
    pl_tensor in[3];
    pl_attr *attrs, *all;
    int nattrs;
    pl_status s;
    if (node->nin != 2 || node->in[0] == PL_NO_TENSOR || node->in[1] == PL_NO_TENSOR)
        return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "expected inputs X and scales");
    if ((s = pl__onnx_node_attrs(ctx, node, skip, &attrs, &nattrs)))
        return s;
    if (!(all = pl__onnx_scratch(ctx, sizeof(pl_attr) * (size_t)(nattrs + 2))))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    if (nattrs)
        memcpy(all, attrs, sizeof(pl_attr) * (size_t)nattrs);
    all[nattrs] = PL_ATTR_S("coordinate_transformation_mode", "asymmetric");
    all[nattrs + 1] = PL_ATTR_S("nearest_mode", "floor");
    in[0] = node->in[0];
    in[1] = PL_NO_TENSOR;
    in[2] = node->in[1];
    return pl__onnx_add_layer(ctx, node, "Resize", in, 3, all, nattrs + 2);
}

/* Scatter (opset 9-10) was renamed ScatterElements in 11 with the same semantics. */
static pl_status pl__h_scatter(pl__onnx_ctx *ctx, const pl__onnx_node *node) {
    return pl__generic_as(ctx, node, "ScatterElements");
}

/* PRelu before opset 7 had no general broadcasting: a slope of C values applies per channel
 * (axis 1), as PyTorch exports it. The slope is reshaped to [C, 1, ..., 1] with rank(X) - 1
 * dims, computed in the graph (Shape/Size/Sub/ConstantOfShape/Concat), which the builder folds
 * since shapes are concrete at build. */
static pl_status pl__h_prelu_legacy(pl__onnx_ctx *ctx, const pl__onnx_node *node) {
    static const int64_t two = 2, zero = 0, one_dim = 1;
    static const uint8_t one_i64[8] = {1};
    pl_tensor shape_x, rank_x, c_two, rest, c_zero, rest1, ones, nslope, c1, newshape, in[2];
    pl_attr cos[2], cat = PL_ATTR_I("axis", 0);
    pl_status s;
    if (node->nin != 2 || node->in[0] == PL_NO_TENSOR || node->in[1] == PL_NO_TENSOR ||
        node->nout != 1)
        return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "expected inputs X, slope and one "
                                  "output");
    cos[0] = (pl_attr){.name = "value", .type = PL_ATTR_BYTES, .bytes = one_i64, .count = 8};
    cos[1] = PL_ATTR_I("value_dtype", PL_INT64);
    if ((s = pl__onnx_add_helper(ctx, node, "shape_x", "Shape", node->in, 1, NULL, 0, &shape_x)) ||
        (s = pl__onnx_add_helper(ctx, node, "rank_x", "Size", &shape_x, 1, NULL, 0, &rank_x)) ||
        (s = pl__onnx_add_const(ctx, node, "two", PL_INT64, 0, &one_dim, &two, &c_two)) ||
        (s = pl__onnx_add_helper(ctx, node, "rest", "Sub", (pl_tensor[]){rank_x, c_two}, 2, NULL,
                                 0, &rest)) ||
        (s = pl__onnx_add_const(ctx, node, "axes0", PL_INT64, 1, &one_dim, &zero, &c_zero)) ||
        (s = pl__onnx_add_helper(ctx, node, "rest1", "Unsqueeze", (pl_tensor[]){rest, c_zero}, 2,
                                 NULL, 0, &rest1)) ||
        (s = pl__onnx_add_helper(ctx, node, "ones", "ConstantOfShape", &rest1, 1, cos, 2, &ones)) ||
        (s = pl__onnx_add_helper(ctx, node, "slope_size", "Size", &node->in[1], 1, NULL, 0,
                                 &nslope)) ||
        (s = pl__onnx_add_helper(ctx, node, "slope_size1", "Unsqueeze",
                                 (pl_tensor[]){nslope, c_zero}, 2, NULL, 0, &c1)) ||
        (s = pl__onnx_add_helper(ctx, node, "slope_shape", "Concat", (pl_tensor[]){c1, ones}, 2,
                                 &cat, 1, &newshape)) ||
        (s = pl__onnx_add_helper(ctx, node, "slope", "Reshape",
                                 (pl_tensor[]){node->in[1], newshape}, 2, NULL, 0, &in[1])))
        return s;
    in[0] = node->in[0];
    return pl__onnx_add_layer(ctx, node, "PRelu", in, 2, NULL, 0);
}

#define PL__MAXOP INT64_MAX
static const pl__onnx_handler pl__handlers[] = {
    {"", "Constant", 1, PL__MAXOP, pl__h_constant, ""},
    {"", "ConstantOfShape", 9, PL__MAXOP, pl__h_constant_of_shape, NULL},
    {"", "Softmax", 1, 12, pl__h_softmax_legacy, "Shape,Flatten,Softmax,Reshape"},
    {"", "LogSoftmax", 1, 12, pl__h_softmax_legacy, "Shape,Flatten,LogSoftmax,Reshape"},
    {"", "Hardmax", 1, 12, pl__h_softmax_legacy, "Shape,Flatten,Hardmax,Reshape"},
    {"", "Upsample", 7, 9, pl__h_upsample, "Resize"},
    {"", "Resize", 10, 10, pl__h_resize10, NULL},
    {"", "PRelu", 1, 6, pl__h_prelu_legacy,
     "Shape,Size,Sub,Unsqueeze,ConstantOfShape,Concat,Reshape,PRelu"},
    {"", "Scatter", 9, 10, pl__h_scatter, "ScatterElements"},
};

const pl__onnx_handler *pl__onnx_find_handler(const char *domain, const char *op_type,
                                              int64_t opset) {
    bool def = !domain || !domain[0] || strcmp(domain, "ai.onnx") == 0;
    for (size_t i = 0; i < sizeof(pl__handlers) / sizeof(pl__handlers[0]); i++) {
        const pl__onnx_handler *h = &pl__handlers[i];
        bool hdef = !h->domain[0];
        if ((def ? hdef : !hdef && strcmp(h->domain, domain) == 0) &&
            strcmp(h->op_type, op_type) == 0 && opset >= h->min_opset && opset <= h->max_opset)
            return h;
    }
    return NULL;
}
