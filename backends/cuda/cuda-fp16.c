/*
 * cuda-fp16.c - the CUDA backend's build pass (backend->optimize).
 *
 * 1. Constant value inputs (Slice's starts, Pad's pads, Resize's scales, Reduce's axes) of layers
 *    with a GPU kernel are copied into "cuda.values.<k>" attributes, so that the kernels read them
 *    on the host without a device read-back, and the engine stays capturable as a CUDA graph.
 * 2. With fp16, float32 activations become float16 wherever the consumer and producer layers have
 *    float16 GPU kernels. A layer is converted when its op is on the list below, shape inference
 *    accepts float16 inputs, the GPU kernel accepts the resulting shapes and types (asked through
 *    its supports() at the profile's max shapes), and it is a matrix op (Conv, Gemm, MatMul) or
 *    is fed by a float16 layer: float16 regions start at matrix ops, so that a cheap op between
 *    float32 layers does not pay two casts. Its float32 weights get float16 copies
 *    (new constants), except the parameters that stay float32 for accuracy (BatchNormalization's
 *    statistics, LayerNormalization's scale and bias). Cast layers are inserted where a float16
 *    tensor meets a float32 consumer and the reverse, including at the graph's inputs and
 *    outputs, so the engine's I/O stays float32. Layers left in float32: reductions whose result
 *    may leave float16's range (ReduceSum, ReduceProd, ReduceL1/L2, ReduceSumSquare, ReduceLogSum,
 *    ReduceLogSumExp), Exp, Pow, Reciprocal, Softplus, Sinh, Cosh, everything that runs on the CPU
 *    and plugin layers. Every kernel accumulates in float32 (Softmax, LayerNorm, pooling and
 *    reductions included), so float16 affects storage only.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda-internal.h"
#include "graph/infer.h"

#define PL__MAX_VALUES 1024

static const char *const pl__fp16_ops[] = {
    "Conv", "Gemm", "MatMul", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish",
    "Abs", "Neg", "Log", "Sqrt", "Floor", "Ceil", "Round", "Sin", "Cos", "Tan", "Asin", "Acos",
    "Atan", "Asinh", "Acosh", "Atanh", "Erf", "Gelu", "Softsign", "Elu", "Selu", "Celu", "Mish",
    "ThresholdedRelu", "Sign", "Clip", "Add", "Sub", "Mul", "Div", "PRelu", "Equal", "Less",
    "Greater", "LessOrEqual", "GreaterOrEqual", "Sum", "Mean", "Min", "Max", "Where",
    "Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "MaxPool", "AveragePool",
    "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "LayerNormalization", "Softmax",
    "LogSoftmax", "ReduceMean", "ReduceMax", "ReduceMin", "Transpose", "Concat", "Split",
    "Slice", "Expand", "Tile", "Gather", "Pad", "Resize", "Upsample", "Trilu", "LpNormalization",
    "Shape", "Size", NULL};

bool pl__cuda_layer_fp16_ok(const pl__layer *l) {
    if (!l->def)
        return false;
    for (int i = 0; pl__fp16_ops[i]; i++)
        if (strcmp(pl__fp16_ops[i], l->op) == 0)
            return true;
    return false;
}

/* Inputs that stay float32 in a float16 layer. */
static bool pl__keep_fp32_input(const pl__layer *l, int k) {
    if (strcmp(l->op, "BatchNormalization") == 0)
        return k >= 1;
    if (strcmp(l->op, "LayerNormalization") == 0)
        return k >= 1;
    return false;
}

/* ---- 1: constant value inputs as attributes ---- */

static pl_status pl__record_values(pl_network *net) {
    for (int li = 0; li < net->nlayers; li++) {
        pl__layer *l = &net->layers[li];
        uint32_t vi;
        if (l->dead || !l->def || !pl__cuda_backend.find_kernel(l->op))
            continue;
        vi = pl__layer_value_inputs(l);
        for (int k = 0; k < l->nin && k < 32; k++) {
            const pl__tensor *t;
            int64_t n;
            char name[32];
            pl_attr at;
            pl_status s;
            if (!(vi >> k & 1) || l->in[k] < 0)
                continue;
            t = &net->tensors[l->in[k]];
            if (t->kind != PL__TENSOR_CONST || !t->data)
                continue;
            n = pl__numel(t->rank, t->dims);
            if (n > PL__MAX_VALUES || (size_t)n * pl_dtype_size(t->dtype) > t->nbytes)
                continue;
            snprintf(name, sizeof(name), "cuda.values.%d", k);
            /* FLOATS attributes hold float: a float64 constant would be rounded, so it stays
             * with the runtime's host copy (pl__kernel_args.host_in) */
            if (t->dtype == PL_FLOAT32 || t->dtype == PL_FLOAT16 || t->dtype == PL_BFLOAT16) {
                float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
                if (!v)
                    return pl__fail(PL_ERR_NOMEM, "out of memory");
                for (int64_t i = 0; i < n; i++)
                    v[i] = (float)pl__get_f64(t->data, t->dtype, i);
                at = PL_ATTR_FLOATS(name, v, n);
                s = pl__attrs_set(&l->attrs, &at);
                free(v);
            } else if (t->dtype == PL_INT64 || t->dtype == PL_INT32 || t->dtype == PL_INT8 ||
                       t->dtype == PL_UINT8) {
                int64_t *v = malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
                if (!v)
                    return pl__fail(PL_ERR_NOMEM, "out of memory");
                for (int64_t i = 0; i < n; i++)
                    v[i] = pl__get_i64(t->data, t->dtype, i);
                at = PL_ATTR_INTS(name, v, n);
                s = pl__attrs_set(&l->attrs, &at);
                free(v);
            } else {
                continue;
            }
            if (s)
                return s;
        }
    }
    return PL_OK;
}

/* ---- 2: float16 ---- */

typedef struct pl__f16 {
    pl_network *net;
    int nt0;          /* tensors before the pass */
    int32_t *to16;    /* per original tensor: its float16 version (cast or constant), or -1 */
    int32_t *to32;    /* per original tensor: its float32 cast, or -1 */
    bool *is16;       /* per tensor (grown): holds float16 after the pass */
    int cap16;
    int *order;       /* the new layer order */
    int norder, cap_order;
    bool *value_needed;
} pl__f16;

static pl_status pl__mark(pl__f16 *st, int32_t t, bool v) {
    if (t >= st->cap16) {
        int old = st->cap16;
        if (!pl__grow((void **)&st->is16, &st->cap16, t + 1, sizeof(bool)))
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        memset(st->is16 + old, 0, (size_t)(st->cap16 - old));
    }
    st->is16[t] = v;
    return PL_OK;
}

static bool pl__is16(const pl__f16 *st, int32_t t) { return t >= 0 && t < st->cap16 && st->is16[t]; }

static pl_status pl__push(pl__f16 *st, int li) {
    if (!pl__grow((void **)&st->order, &st->cap_order, st->norder + 1, sizeof(int)))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    st->order[st->norder++] = li;
    return PL_OK;
}

static pl_status pl__add_cast(pl__f16 *st, int32_t t, pl_dtype to, const char *out_name,
                              int32_t *out) {
    pl_network *net = st->net;
    pl_attr at = PL_ATTR_I("to", (int64_t)to);
    char *lname = pl__sprintf("%s.cast_%s", net->tensors[t].name,
                              to == PL_FLOAT16 ? "fp16" : "fp32");
    const char *names[1] = {out_name};
    pl_status s;
    if (!lname)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    s = pl__network_new_layer(net, "Cast", lname, &t, 1, &at, 1, 1, out_name ? names : NULL, out);
    free(lname);
    if (s)
        return s;
    if ((s = pl__mark(st, *out, to == PL_FLOAT16)))
        return s;
    return pl__push(st, net->nlayers - 1);
}

static pl_status pl__const16(pl__f16 *st, int32_t t, int32_t *out) {
    pl_network *net = st->net;
    const pl__tensor *c = &net->tensors[t];
    int64_t n = pl__numel(c->rank, c->dims);
    uint16_t *h;
    char *name;
    int64_t dims[PL_MAX_RANK];
    int rank = c->rank;
    pl_status s;
    if ((size_t)n * sizeof(float) > c->nbytes)
        return pl__fail(PL_ERR_INTERNAL, "constant '%s' is shorter than its shape", c->name);
    h = malloc(sizeof(uint16_t) * (size_t)(n ? n : 1));
    name = pl__sprintf("%s.fp16", c->name);
    if (!h || !name) {
        free(h);
        free(name);
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    }
    for (int64_t i = 0; i < n; i++)
        h[i] = pl__float_to_half(((const float *)c->data)[i]);
    memcpy(dims, c->dims, sizeof(dims));
    s = pl_network_add_constant(net, pl__network_find(net, name) >= 0 ? NULL : name, PL_FLOAT16,
                                rank, dims, h, out);
    free(h);
    free(name);
    if (s)
        return s;
    /* the builder filled ranges before this pass; a new constant needs them too */
    c = &net->tensors[*out];
    memcpy(net->tensors[*out].min_dims, c->dims, sizeof(c->dims));
    memcpy(net->tensors[*out].opt_dims, c->dims, sizeof(c->dims));
    memcpy(net->tensors[*out].max_dims, c->dims, sizeof(c->dims));
    return pl__mark(st, *out, true);
}

/* Whether layer li can run in float16: inference accepts float16 for its float32 inputs and the
 * GPU kernel takes the result. out16[k] tells which outputs become float16. */
static bool pl__probe(pl__f16 *st, int li, bool *out16) {
    pl_network *net = st->net;
    const pl__layer *l = &net->layers[li];
    pl__tview in[64], out[64];
    uint32_t vi = pl__layer_value_inputs(l);
    pl__infer ic;
    pl__kernel_args a;
    const pl__kernel_def *k;
    bool any = false;
    if (l->nin > 64 || l->nout > 64 || !pl__cuda_layer_fp16_ok(l))
        return false;
    for (int o = 0; o < l->nout; o++)
        if (st->value_needed[l->out[o]])
            return false;
    for (int i = 0; i < l->nin; i++) {
        const pl__tensor *t;
        memset(&in[i], 0, sizeof(in[i]));
        if (l->in[i] < 0)
            continue;
        t = &net->tensors[l->in[i]];
        in[i].dtype = t->dtype;
        in[i].rank = t->rank;
        memcpy(in[i].dims, t->max_dims, sizeof(in[i].dims));
        if (t->kind == PL__TENSOR_CONST)
            in[i].data = t->data;
        if (t->dtype == PL_FLOAT32 && !(vi >> i & 1) && !pl__keep_fp32_input(l, i)) {
            in[i].dtype = PL_FLOAT16;
            in[i].data = NULL;
            any = true;
        }
    }
    if (!any)
        return false;
    /* a float16 region starts at a matrix op (Conv, Gemm, MatMul) and spreads through the cheap
     * ops after it; a cheap op between float32 layers stays float32 rather than paying two casts */
    if (strcmp(l->op, "Conv") && strcmp(l->op, "Gemm") && strcmp(l->op, "MatMul")) {
        bool fed16 = false;
        for (int i = 0; i < l->nin; i++)
            fed16 = fed16 || (l->in[i] >= 0 && pl__is16(st, l->in[i]) &&
                              net->tensors[l->in[i]].kind != PL__TENSOR_CONST);
        if (!fed16)
            return false;
    }
    memset(out, 0, sizeof(pl__tview) * (size_t)l->nout);
    ic.layer = l;
    ic.nin = l->nin;
    ic.in = in;
    ic.nout = l->nout;
    ic.out = out;
    if (pl__layer_infer(&ic) != PL_OK) {
        pl__clear_error();
        return false;
    }
    if (!pl__layer_dims_only(l)) {
        k = pl__cuda_backend.find_kernel(l->op);
        memset(&a, 0, sizeof(a));
        a.layer = l;
        a.nin = l->nin;
        a.in = in;
        a.nout = l->nout;
        a.out = out;
        if (!k || (k->supports && !k->supports(&a))) {
            pl__clear_error();
            return false;
        }
    }
    for (int o = 0; o < l->nout; o++)
        out16[o] = out[o].dtype == PL_FLOAT16 && net->tensors[l->out[o]].dtype == PL_FLOAT32;
    return true;
}

static pl_status pl__to_fp16(pl_network *net) {
    pl__f16 st;
    int nl0 = net->nlayers;
    pl_status s = PL_OK;
    bool out16[64];
    memset(&st, 0, sizeof(st));
    st.net = net;
    st.nt0 = net->ntensors;
    st.to16 = malloc(sizeof(int32_t) * (size_t)(st.nt0 + 1));
    st.to32 = malloc(sizeof(int32_t) * (size_t)(st.nt0 + 1));
    st.value_needed = pl__value_needed(net);
    if (!st.to16 || !st.to32 || !st.value_needed) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int t = 0; t < st.nt0; t++)
        st.to16[t] = st.to32[t] = -1;
    if ((s = pl__mark(&st, st.nt0, false)))
        goto done;
    for (int li = 0; li < nl0; li++) {
        bool f16;
        uint32_t vi;
        if (net->layers[li].dead) {
            if ((s = pl__push(&st, li)))
                goto done;
            continue;
        }
        f16 = pl__probe(&st, li, out16);
        vi = pl__layer_value_inputs(&net->layers[li]);
        for (int k = 0; k < net->layers[li].nin; k++) {
            int32_t t = net->layers[li].in[k], nt = -1;
            const pl__tensor *tt;
            if (t < 0 || t >= st.nt0)
                continue;
            tt = &net->tensors[t];
            if (f16 && tt->dtype == PL_FLOAT32 && !(vi >> k & 1) &&
                !pl__layer_dims_only(&net->layers[li]) &&
                !pl__keep_fp32_input(&net->layers[li], k) && !pl__is16(&st, t)) {
                if (st.to16[t] < 0) {
                    s = tt->kind == PL__TENSOR_CONST ? pl__const16(&st, t, &nt)
                                                     : pl__add_cast(&st, t, PL_FLOAT16, NULL, &nt);
                    if (s)
                        goto done;
                    st.to16[t] = nt;
                }
                net->layers[li].in[k] = st.to16[t];
            } else if ((!f16 || pl__keep_fp32_input(&net->layers[li], k) || (vi >> k & 1)) &&
                       pl__is16(&st, t) && !pl__layer_dims_only(&net->layers[li])) {
                if (st.to32[t] < 0) {
                    if ((s = pl__add_cast(&st, t, PL_FLOAT32, NULL, &nt)))
                        goto done;
                    st.to32[t] = nt;
                }
                net->layers[li].in[k] = st.to32[t];
            }
        }
        for (int o = 0; o < net->layers[li].nout; o++)
            if ((s = pl__mark(&st, net->layers[li].out[o], f16 && out16[o])))
                goto done;
        if ((s = pl__push(&st, li)))
            goto done;
        if (f16)
            net->layers[li].compute_dtype = PL_FLOAT16;
    }
    /* graph outputs keep their names and float32: the float16 tensor is renamed and a Cast
     * takes the original name */
    for (int i = 0; i < net->noutputs; i++) {
        int32_t t = net->outputs[i], nt;
        char *orig, *renamed;
        if (!pl__is16(&st, t))
            continue;
        orig = net->tensors[t].name;
        renamed = pl__sprintf("%s.fp16", orig);
        if (!renamed) {
            s = pl__fail(PL_ERR_NOMEM, "out of memory");
            goto done;
        }
        net->tensors[t].name = renamed;
        s = pl__add_cast(&st, t, PL_FLOAT32, orig, &nt);
        free(orig);
        if (s)
            goto done;
        net->tensors[t].is_output = false;
        net->tensors[nt].is_output = true;
        net->outputs[i] = nt;
    }
    /* reorder: casts sit right before their first consumer */
    s = pl__network_reorder(net, st.order, st.norder);
done:
    free(st.to16);
    free(st.to32);
    free(st.is16);
    free(st.order);
    free(st.value_needed);
    return s;
}

pl_status pl__cuda_optimize(pl_network *net, bool fp16) {
    const char *nhwc = getenv("PLINTH_CUDA_NHWC");
    pl_status s = pl__record_values(net);
    if (s || !fp16 || (s = pl__to_fp16(net)))
        return s;
    if (nhwc && nhwc[0] == '0')
        return PL_OK;
    return pl__cuda_layout_pass(net);
}
