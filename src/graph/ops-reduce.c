/*
 * ops-reduce.c - shape inference for reductions (Reduce*, ArgMax/ArgMin), TopK, CumSum and
 * Softmax/LogSoftmax.
 *
 * ONNX moved several attributes to inputs over the opsets (Reduce* axes at opset 13/18, TopK k at
 * 10); both forms are accepted: the input form wins when the input is present, and is read as a
 * value input. Softmax/LogSoftmax changed meaning at opset 13 (before it, the input was coerced to
 * 2-D at `axis`, default 1); a layer carrying the integer attribute "opset" < 13 gets the old
 * meaning, anything else the new one (axis default -1).
 */
#include <string.h>

#include "graph/ops.h"

#define PL__M(t) (1u << (t))
#define PL__FLT (PL__M(PL_FLOAT32) | PL__M(PL_FLOAT64) | PL__M(PL_FLOAT16) | PL__M(PL_BFLOAT16))
#define PL__NUM (PL__FLT | PL__M(PL_INT8) | PL__M(PL_UINT8) | PL__M(PL_INT32) | PL__M(PL_INT64))

static pl_status pl__need(const pl__infer *ic, int i, uint32_t mask) {
    pl_dtype t;
    if (i >= ic->nin || ic->in[i].dtype == PL_DTYPE_INVALID)
        return pl__infer_fail(ic, "input %d is required", i);
    t = ic->in[i].dtype;
    if ((unsigned)t >= 32 || !(mask & PL__M(t)))
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): dtype %s not supported",
                        pl__layer_label(ic->layer), ic->layer->op, pl_dtype_name(t));
    return PL_OK;
}

/* Integer values of value input i (int32/int64), at most cap of them. */
static pl_status pl__int_values(const pl__infer *ic, int i, const char *what, int64_t *v,
                                int64_t cap, int64_t *n) {
    const pl__tview *t = &ic->in[i];
    if (t->dtype != PL_INT64 && t->dtype != PL_INT32)
        return pl__infer_fail(ic, "input %d (%s) must be int64, not %s", i, what,
                              pl_dtype_name(t->dtype));
    if (!t->data)
        return pl__infer_fail(ic, "input %d (%s) must be known when shapes are inferred", i, what);
    *n = pl__tview_numel(t);
    if (*n > cap)
        return pl__infer_fail(ic, "input %d (%s) has %lld values, at most %lld expected", i, what,
                              (long long)*n, (long long)cap);
    for (int64_t k = 0; k < *n; k++)
        v[k] = pl__get_i64(t->data, t->dtype, k);
    return PL_OK;
}

static pl_status pl__infer_reduce(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    pl__tview *y = &ic->out[0];
    const pl__attrs *at = &ic->layer->attrs;
    bool keep = pl__attr_int(at, "keepdims", 1) != 0, mask[PL_MAX_RANK] = {false};
    int64_t axes[PL_MAX_RANK], nax;
    const int64_t *aa;
    pl_status s = pl__need(ic, 0, PL__NUM);
    if (s)
        return s;
    if (ic->nin > 1 && ic->in[1].dtype != PL_DTYPE_INVALID) {
        if ((s = pl__int_values(ic, 1, "axes", axes, PL_MAX_RANK, &nax)))
            return s;
    } else {
        nax = pl__attr_ints(at, "axes", &aa);
        if (nax > PL_MAX_RANK)
            return pl__infer_fail(ic, "%lld axes for rank %d", (long long)nax, x->rank);
        for (int64_t k = 0; k < nax; k++)
            axes[k] = aa[k];
    }
    if (nax <= 0) {
        if (pl__attr_int(at, "noop_with_empty_axes", 0)) {
            *y = *x;
            y->data = NULL;
            return PL_OK;
        }
        for (int i = 0; i < x->rank; i++)
            mask[i] = true;
    }
    for (int64_t k = 0; k < nax && x->rank > 0; k++) {
        int ax;
        if ((s = pl__norm_axis(ic, axes[k], x->rank, &ax)))
            return s;
        if (mask[ax])
            return pl__infer_fail(ic, "axis %lld appears twice", (long long)axes[k]);
        mask[ax] = true;
    }
    y->dtype = x->dtype;
    y->data = NULL;
    y->rank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (!mask[i])
            y->dims[y->rank++] = x->dims[i];
        else if (keep)
            y->dims[y->rank++] = 1;
    }
    return PL_OK;
}

static pl_status pl__infer_argminmax(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    pl__tview *y = &ic->out[0];
    bool keep = pl__attr_int(&ic->layer->attrs, "keepdims", 1) != 0;
    int ax;
    pl_status s = pl__need(ic, 0, PL__NUM);
    if (s || (s = pl__norm_axis(ic, pl__attr_int(&ic->layer->attrs, "axis", 0), x->rank, &ax)))
        return s;
    if (x->rank > 0 && x->dims[ax] == 0)
        return pl__infer_fail(ic, "cannot take the arg of an empty axis %d", ax);
    y->dtype = PL_INT64;
    y->data = NULL;
    y->rank = 0;
    for (int i = 0; i < x->rank; i++) {
        if (i != ax)
            y->dims[y->rank++] = x->dims[i];
        else if (keep)
            y->dims[y->rank++] = 1;
    }
    return PL_OK;
}

static pl_status pl__infer_topk(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t k, n;
    int ax;
    pl_status s = pl__need(ic, 0, PL__NUM);
    if (s)
        return s;
    if (x->rank < 1)
        return pl__infer_fail(ic, "input must have rank >= 1");
    if ((s = pl__norm_axis(ic, pl__attr_int(&ic->layer->attrs, "axis", -1), x->rank, &ax)))
        return s;
    if (ic->nin > 1 && ic->in[1].dtype != PL_DTYPE_INVALID) {
        if ((s = pl__int_values(ic, 1, "K", &k, 1, &n)))
            return s;
        if (n != 1)
            return pl__infer_fail(ic, "input 1 (K) must hold one value");
    } else if (pl__attrs_find(&ic->layer->attrs, "k")) {
        k = pl__attr_int(&ic->layer->attrs, "k", 0);
    } else {
        return pl__infer_fail(ic, "K is required (input 1, or attribute k before opset 10)");
    }
    if (k < 0 || k > x->dims[ax])
        return pl__infer_fail(ic, "K=%lld is out of range for axis %d of extent %lld",
                              (long long)k, ax, (long long)x->dims[ax]);
    for (int o = 0; o < 2 && o < ic->nout; o++) {
        ic->out[o] = *x;
        ic->out[o].data = NULL;
        ic->out[o].dims[ax] = k;
    }
    ic->out[1].dtype = PL_INT64;
    return PL_OK;
}

static pl_status pl__infer_cumsum(pl__infer *ic) {
    int64_t axis, n;
    int ax;
    pl_status s;
    if ((s = pl__need(ic, 0, PL__NUM)))
        return s;
    if (ic->nin < 2 || ic->in[1].dtype == PL_DTYPE_INVALID)
        return pl__infer_fail(ic, "input 1 (axis) is required");
    if ((s = pl__int_values(ic, 1, "axis", &axis, 1, &n)))
        return s;
    if (n != 1)
        return pl__infer_fail(ic, "input 1 (axis) must hold one value");
    if ((s = pl__norm_axis(ic, axis, ic->in[0].rank, &ax)))
        return s;
    ic->out[0] = ic->in[0];
    ic->out[0].data = NULL;
    return PL_OK;
}

static pl_status pl__infer_softmax(pl__infer *ic) {
    const pl__attrs *at = &ic->layer->attrs;
    bool legacy = pl__attr_int(at, "opset", 13) < 13;
    int ax;
    pl_status s = pl__need(ic, 0, PL__FLT);
    if (s)
        return s;
    if ((s = pl__norm_axis(ic, pl__attr_int(at, "axis", legacy ? 1 : -1), ic->in[0].rank, &ax)))
        return s;
    ic->out[0] = ic->in[0];
    ic->out[0].data = NULL;
    return PL_OK;
}

#define PL__REDUCE(name) {name, 1, 2, 1, 1, 1u << 1, false, pl__infer_reduce}

const pl__op_def pl__ops_reduce[] = {
    PL__REDUCE("ReduceSum"),
    PL__REDUCE("ReduceMean"),
    PL__REDUCE("ReduceMax"),
    PL__REDUCE("ReduceMin"),
    PL__REDUCE("ReduceProd"),
    PL__REDUCE("ReduceL1"),
    PL__REDUCE("ReduceL2"),
    PL__REDUCE("ReduceSumSquare"),
    PL__REDUCE("ReduceLogSum"),
    PL__REDUCE("ReduceLogSumExp"),
    {"ArgMax", 1, 1, 1, 1, 0, false, pl__infer_argminmax},
    {"ArgMin", 1, 1, 1, 1, 0, false, pl__infer_argminmax},
    {"TopK", 1, 2, 2, 2, 1u << 1, false, pl__infer_topk},
    {"CumSum", 2, 2, 1, 1, 1u << 1, false, pl__infer_cumsum},
    {"Softmax", 1, 1, 1, 1, 0, false, pl__infer_softmax},
    {"LogSoftmax", 1, 1, 1, 1, 0, false, pl__infer_softmax},
    {0},
};
