/*
 * ops-nn.c - shape inference for the nn op group: Conv (with the builder's fused activation and
 * residual input), ConvTranspose, MatMul, Gemm, BatchNormalization (inference form),
 * LayerNormalization, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, LpNormalization and
 * Einsum; plus the window geometry and Einsum parsing the kernels share (ops-nn.h).
 */
#include <stdio.h>
#include <string.h>

#include "graph/ops-nn.h"

/* Attribute values beyond this are refused: it keeps every geometry product inside int64. */
#define PL__NN_ATTR_MAX ((int64_t)1 << 30)
#define PL__NN_DIM_MAX ((int64_t)1 << 40)

static const char *pl__nn_op(const pl__infer *ic) {
    return ic->layer->plugin_name ? ic->layer->plugin_name : ic->layer->op;
}

static pl_status pl__nn_dtype_fail(const pl__infer *ic, const char *what, pl_dtype t,
                                   const char *accepted) {
    return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): %s has dtype %s; supported: %s",
                    pl__layer_label(ic->layer), pl__nn_op(ic), what, pl_dtype_name(t), accepted);
}

static bool pl__has(const pl__infer *ic, int i) {
    return i < ic->nin && ic->in[i].dtype != PL_DTYPE_INVALID;
}

static int64_t pl__floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

bool pl__nn_activation_known(const char *name) {
    static const char *const known[] = {"Relu",    "LeakyRelu",   "Clip",     "Sigmoid",
                                        "Tanh",    "HardSigmoid", "HardSwish"};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(name, known[i]) == 0)
            return true;
    return false;
}

static pl_status pl__check_activation(const pl__infer *ic) {
    const char *act = pl__attr_string(&ic->layer->attrs, "activation", NULL);
    if (act && !pl__nn_activation_known(act))
        return pl__fail(PL_ERR_UNSUPPORTED,
                        "node '%s' (%s): fused activation '%s' is not supported",
                        pl__layer_label(ic->layer), pl__nn_op(ic), act);
    return PL_OK;
}

/* Reads an INTS attribute that must have n values in [lo, hi] (def when absent). */
static pl_status pl__window_ints(const pl__infer *ic, const char *name, int n, int64_t lo,
                                 int64_t def, int64_t *v) {
    const int64_t *p;
    int64_t cnt = pl__attr_ints(&ic->layer->attrs, name, &p);
    if (cnt >= 0 && cnt != n)
        return pl__infer_fail(ic, "attribute '%s' has %lld values, expected %d", name,
                              (long long)cnt, n);
    for (int i = 0; i < n; i++) {
        v[i] = cnt >= 0 ? p[i] : def;
        if (v[i] < lo || v[i] > PL__NN_ATTR_MAX)
            return pl__infer_fail(ic, "attribute '%s' value %lld is out of range", name,
                                  (long long)v[i]);
    }
    return PL_OK;
}

static pl_status pl__window_common(const pl__infer *ic, int nsp, const int64_t *in,
                                   const int64_t *k, pl__window *w) {
    pl_status s;
    memset(w, 0, sizeof(*w));
    w->nsp = nsp;
    if (nsp < 1 || nsp > PL__MAX_SPATIAL)
        return pl__infer_fail(ic, "%d spatial dims; 1 to %d are supported", nsp, PL__MAX_SPATIAL);
    for (int i = 0; i < nsp; i++) {
        if (in[i] < 0 || in[i] > PL__NN_DIM_MAX)
            return pl__infer_fail(ic, "spatial dim %d of the input is %lld", i, (long long)in[i]);
        if (k[i] < 1 || k[i] > PL__NN_ATTR_MAX)
            return pl__infer_fail(ic, "kernel extent %lld in spatial dim %d", (long long)k[i], i);
        w->in[i] = in[i];
        w->k[i] = k[i];
    }
    if ((s = pl__window_ints(ic, "strides", nsp, 1, 1, w->s)) != PL_OK)
        return s;
    return pl__window_ints(ic, "dilations", nsp, 1, 1, w->d);
}

pl_status pl__window_forward(const pl__infer *ic, int nsp, const int64_t *in, const int64_t *k,
                             bool ceil_mode, pl__window *w) {
    const char *ap = pl__attr_string(&ic->layer->attrs, "auto_pad", "NOTSET");
    int64_t pads[2 * PL__MAX_SPATIAL];
    pl_status s;
    if ((s = pl__window_common(ic, nsp, in, k, w)) != PL_OK)
        return s;
    if ((s = pl__window_ints(ic, "pads", 2 * nsp, 0, 0, pads)) != PL_OK)
        return s;
    for (int i = 0; i < nsp; i++) {
        int64_t ek = (w->k[i] - 1) * w->d[i] + 1, span;
        if (strcmp(ap, "NOTSET") == 0) {
            w->pb[i] = pads[i];
            w->pe[i] = pads[i + nsp];
        } else if (strcmp(ap, "VALID") == 0) {
            w->pb[i] = w->pe[i] = 0;
        } else if (strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0) {
            int64_t out = (w->in[i] + w->s[i] - 1) / w->s[i];
            int64_t total = (out - 1) * w->s[i] + ek - w->in[i];
            if (total < 0)
                total = 0;
            /* SAME_UPPER puts the odd padding at the end, SAME_LOWER at the beginning. */
            w->pb[i] = ap[5] == 'U' ? total / 2 : total - total / 2;
            w->pe[i] = total - w->pb[i];
        } else {
            return pl__infer_fail(ic,
                                  "auto_pad '%s' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID",
                                  ap);
        }
        span = w->in[i] + w->pb[i] + w->pe[i] - ek;
        if (span < 0)
            return pl__infer_fail(ic,
                                  "kernel extent %lld exceeds the padded input extent %lld in "
                                  "spatial dim %d",
                                  (long long)ek, (long long)(w->in[i] + w->pb[i] + w->pe[i]), i);
        w->out[i] = span / w->s[i] + 1;
        if (ceil_mode && strcmp(ap, "NOTSET") == 0) {
            w->out[i] = (span + w->s[i] - 1) / w->s[i] + 1;
            if ((w->out[i] - 1) * w->s[i] >= w->in[i] + w->pb[i])
                w->out[i]--;
        }
    }
    return PL_OK;
}

pl_status pl__window_transposed(const pl__infer *ic, int nsp, const int64_t *in, const int64_t *k,
                                pl__window *w) {
    const pl__attrs *at = &ic->layer->attrs;
    const char *ap = pl__attr_string(at, "auto_pad", "NOTSET");
    const int64_t *os = NULL;
    int64_t nos = pl__attr_ints(at, "output_shape", &os), pads[2 * PL__MAX_SPATIAL];
    int64_t opad[PL__MAX_SPATIAL];
    bool have_pads = pl__attrs_find(at, "pads") != NULL;
    bool same = strcmp(ap, "SAME_UPPER") == 0 || strcmp(ap, "SAME_LOWER") == 0;
    pl_status s;
    if ((s = pl__window_common(ic, nsp, in, k, w)) != PL_OK)
        return s;
    if ((s = pl__window_ints(ic, "pads", 2 * nsp, 0, 0, pads)) != PL_OK)
        return s;
    if ((s = pl__window_ints(ic, "output_padding", nsp, 0, 0, opad)) != PL_OK)
        return s;
    if (!same && strcmp(ap, "NOTSET") != 0 && strcmp(ap, "VALID") != 0)
        return pl__infer_fail(ic, "auto_pad '%s' is not NOTSET, SAME_UPPER, SAME_LOWER or VALID",
                              ap);
    /* output_shape may list only the spatial dims or the whole output shape. */
    if (nos >= 0 && nos != nsp && nos != nsp + 2)
        return pl__infer_fail(ic, "attribute 'output_shape' has %lld values, expected %d",
                              (long long)nos, nsp);
    if (nos == nsp + 2)
        os += 2;
    for (int i = 0; i < nsp; i++) {
        int64_t ek = (w->k[i] - 1) * w->d[i] + 1;
        int64_t full = w->s[i] * (w->in[i] - 1) + opad[i] + ek;
        if (opad[i] >= w->s[i] && opad[i] >= w->d[i])
            return pl__infer_fail(ic, "output_padding %lld must be smaller than the stride or "
                                  "the dilation", (long long)opad[i]);
        if (w->in[i] == 0)
            return pl__infer_fail(ic, "spatial dim %d of the input is 0", i);
        if ((nos >= 0 && !(have_pads && !same)) || same) {
            /* Pads derived from the requested output size (ONNX: the odd unit goes to the end for
             * SAME_UPPER, to the beginning otherwise). */
            int64_t out = nos >= 0 ? os[i] : w->in[i] * w->s[i], total;
            if (out < 1 || out > PL__NN_DIM_MAX)
                return pl__infer_fail(ic, "output_shape value %lld is out of range",
                                      (long long)out);
            total = full - out;
            if (strcmp(ap, "SAME_UPPER") == 0) {
                w->pb[i] = pl__floor_div(total, 2);
                w->pe[i] = total - w->pb[i];
            } else {
                w->pe[i] = pl__floor_div(total, 2);
                w->pb[i] = total - w->pe[i];
            }
            w->out[i] = out;
        } else {
            if (strcmp(ap, "VALID") == 0) {
                w->pb[i] = w->pe[i] = 0;
            } else {
                w->pb[i] = pads[i];
                w->pe[i] = pads[i + nsp];
            }
            w->out[i] = nos >= 0 ? os[i] : full - w->pb[i] - w->pe[i];
            if (w->out[i] < 1)
                return pl__infer_fail(ic, "padding leaves an output extent of %lld in spatial "
                                      "dim %d", (long long)w->out[i], i);
        }
    }
    return PL_OK;
}

void pl__window_to_3d(const pl__window *w, pl__window *w3) {
    int sh = PL__MAX_SPATIAL - w->nsp;
    w3->nsp = PL__MAX_SPATIAL;
    for (int i = 0; i < PL__MAX_SPATIAL; i++) {
        int j = i - sh;
        w3->in[i] = j >= 0 ? w->in[j] : 1;
        w3->out[i] = j >= 0 ? w->out[j] : 1;
        w3->k[i] = j >= 0 ? w->k[j] : 1;
        w3->s[i] = j >= 0 ? w->s[j] : 1;
        w3->d[i] = j >= 0 ? w->d[j] : 1;
        w3->pb[i] = j >= 0 ? w->pb[j] : 0;
        w3->pe[i] = j >= 0 ? w->pe[j] : 0;
    }
}

/* ---- Conv / ConvTranspose ---- */

/* float32, or float16 throughout (backends that compute fp16 say so through their kernels'
 * supports(); the CPU kernels take float32 only). */
static pl_status pl__check_float(const pl__infer *ic, int upto) {
    pl_dtype t = ic->nin > 0 ? ic->in[0].dtype : PL_FLOAT32;
    if (t != PL_FLOAT32 && t != PL_FLOAT16)
        return pl__nn_dtype_fail(ic, "input 0", t, "float32, float16");
    for (int i = 1; i < upto && i < ic->nin; i++) {
        if (!pl__has(ic, i))
            continue;
        if (ic->in[i].dtype != t)
            return pl__nn_dtype_fail(ic, "an input", ic->in[i].dtype, pl_dtype_name(t));
    }
    return PL_OK;
}

static pl_status pl__infer_conv_like(pl__infer *ic, bool transposed) {
    const pl__tview *x = &ic->in[0], *wt = &ic->in[1];
    const pl__attrs *at = &ic->layer->attrs;
    int64_t group = pl__attr_int(at, "group", 1), cin, cout, ks[PL__MAX_SPATIAL];
    const int64_t *kattr;
    int64_t nk = pl__attr_ints(at, "kernel_shape", &kattr);
    int nsp = x->rank - 2;
    pl__window w;
    pl_status s;
    char b1[128], b2[128];
    if ((s = pl__check_float(ic, 4)) != PL_OK)
        return s;
    if (x->rank < 3 || x->rank > 2 + PL__MAX_SPATIAL)
        return pl__infer_fail(ic, "input X has rank %d; ranks 3 to 5 (1-D to 3-D) are supported",
                              x->rank);
    if (wt->rank != x->rank)
        return pl__infer_fail(ic, "weight W %s has rank %d, input X %s rank %d",
                              pl__dims_str(wt->rank, wt->dims, b1, sizeof(b1)), wt->rank,
                              pl__dims_str(x->rank, x->dims, b2, sizeof(b2)), x->rank);
    if (group < 1 || group > PL__NN_ATTR_MAX)
        return pl__infer_fail(ic, "group %lld is out of range", (long long)group);
    if (nk >= 0 && nk != nsp)
        return pl__infer_fail(ic, "kernel_shape has %lld values, expected %d", (long long)nk, nsp);
    for (int i = 0; i < nsp; i++) {
        ks[i] = wt->dims[2 + i];
        if (nk >= 0 && kattr[i] != ks[i])
            return pl__infer_fail(ic, "kernel_shape does not match weight W %s",
                                  pl__dims_str(wt->rank, wt->dims, b1, sizeof(b1)));
    }
    cin = x->dims[1];
    if (!transposed) {
        /* W is [M, C/group, k...] */
        if (wt->dims[1] * group != cin)
            return pl__infer_fail(ic,
                                  "input X %s has %lld channels but weight W %s with group %lld "
                                  "expects %lld",
                                  pl__dims_str(x->rank, x->dims, b1, sizeof(b1)), (long long)cin,
                                  pl__dims_str(wt->rank, wt->dims, b2, sizeof(b2)),
                                  (long long)group, (long long)(wt->dims[1] * group));
        cout = wt->dims[0];
        if (cout % group != 0)
            return pl__infer_fail(ic, "%lld output channels are not divisible by group %lld",
                                  (long long)cout, (long long)group);
        s = pl__window_forward(ic, nsp, x->dims + 2, ks, false, &w);
    } else {
        /* W is [C, M/group, k...] */
        if (wt->dims[0] != cin || cin % group != 0)
            return pl__infer_fail(ic,
                                  "input X %s has %lld channels but weight W %s expects %lld "
                                  "(group %lld)",
                                  pl__dims_str(x->rank, x->dims, b1, sizeof(b1)), (long long)cin,
                                  pl__dims_str(wt->rank, wt->dims, b2, sizeof(b2)),
                                  (long long)wt->dims[0], (long long)group);
        cout = wt->dims[1] * group;
        s = pl__window_transposed(ic, nsp, x->dims + 2, ks, &w);
    }
    if (s != PL_OK)
        return s;
    if (pl__has(ic, 2) && (ic->in[2].rank != 1 || ic->in[2].dims[0] != cout))
        return pl__infer_fail(ic, "bias B %s must be [%lld]",
                              pl__dims_str(ic->in[2].rank, ic->in[2].dims, b1, sizeof(b1)),
                              (long long)cout);
    ic->out[0].dtype = x->dtype;
    ic->out[0].rank = x->rank;
    ic->out[0].dims[0] = x->dims[0];
    ic->out[0].dims[1] = cout;
    for (int i = 0; i < nsp; i++)
        ic->out[0].dims[2 + i] = w.out[i];
    if (pl__has(ic, 3)) {
        const pl__tview *r = &ic->in[3];
        bool same = r->rank == ic->out[0].rank;
        for (int i = 0; same && i < r->rank; i++)
            same = r->dims[i] == ic->out[0].dims[i];
        if (!same)
            return pl__infer_fail(ic, "residual input %s must have the output shape %s",
                                  pl__dims_str(r->rank, r->dims, b1, sizeof(b1)),
                                  pl__dims_str(ic->out[0].rank, ic->out[0].dims, b2, sizeof(b2)));
    }
    return pl__check_activation(ic);
}

static pl_status pl__infer_conv(pl__infer *ic) { return pl__infer_conv_like(ic, false); }
static pl_status pl__infer_conv_transpose(pl__infer *ic) {
    if (pl__has(ic, 3))
        return pl__infer_fail(ic, "ConvTranspose takes at most 3 inputs");
    return pl__infer_conv_like(ic, true);
}

/* ---- MatMul / Gemm ---- */

static pl_status pl__infer_matmul(pl__infer *ic) {
    const pl__tview *a = &ic->in[0], *b = &ic->in[1];
    int64_t da[PL_MAX_RANK], db[PL_MAX_RANK];
    int ra = a->rank, rb = b->rank, rr;
    pl__tview *y = &ic->out[0];
    pl_status s;
    char b1[128], b2[128];
    if (a->dtype != PL_FLOAT32 && a->dtype != PL_FLOAT64 && a->dtype != PL_INT32 &&
        a->dtype != PL_INT64 && a->dtype != PL_FLOAT16)
        return pl__nn_dtype_fail(ic, "input A", a->dtype, "float32, float16, float64, int32, int64");
    if (b->dtype != a->dtype)
        return pl__infer_fail(ic, "input types differ (%s vs %s)", pl_dtype_name(a->dtype),
                              pl_dtype_name(b->dtype));
    if (ra < 1 || rb < 1)
        return pl__infer_fail(ic, "MatMul operands must have rank >= 1 (got %d and %d)", ra, rb);
    /* numpy: a 1-D A is a row vector, a 1-D B a column vector; the added dim is dropped. */
    memcpy(da, a->dims, sizeof(int64_t) * ra);
    memcpy(db, b->dims, sizeof(int64_t) * rb);
    if (ra == 1) {
        da[1] = da[0];
        da[0] = 1;
        ra = 2;
    }
    if (rb == 1) {
        db[1] = 1;
        rb = 2;
    }
    if (da[ra - 1] != db[rb - 2])
        return pl__infer_fail(ic, "inner dims differ: A %s, B %s",
                              pl__dims_str(a->rank, a->dims, b1, sizeof(b1)),
                              pl__dims_str(b->rank, b->dims, b2, sizeof(b2)));
    if ((s = pl__broadcast(ic, ra - 2, da, rb - 2, db, &rr, y->dims)) != PL_OK)
        return s;
    y->dtype = a->dtype;
    if (a->rank != 1)
        y->dims[rr++] = da[ra - 2];
    if (b->rank != 1)
        y->dims[rr++] = db[rb - 1];
    y->rank = rr;
    return PL_OK;
}

static pl_status pl__infer_gemm(pl__infer *ic) {
    const pl__tview *a = &ic->in[0], *b = &ic->in[1];
    const pl__attrs *at = &ic->layer->attrs;
    bool ta = pl__attr_int(at, "transA", 0) != 0, tb = pl__attr_int(at, "transB", 0) != 0;
    int64_t m, k, k2, n;
    char b1[128], b2[128];
    pl_status s;
    if ((s = pl__check_float(ic, 3)) != PL_OK)
        return s;
    if (a->rank != 2 || b->rank != 2)
        return pl__infer_fail(ic, "A %s and B %s must be 2-D",
                              pl__dims_str(a->rank, a->dims, b1, sizeof(b1)),
                              pl__dims_str(b->rank, b->dims, b2, sizeof(b2)));
    m = ta ? a->dims[1] : a->dims[0];
    k = ta ? a->dims[0] : a->dims[1];
    k2 = tb ? b->dims[1] : b->dims[0];
    n = tb ? b->dims[0] : b->dims[1];
    if (k != k2)
        return pl__infer_fail(ic, "inner dims differ: A %s%s, B %s%s",
                              pl__dims_str(a->rank, a->dims, b1, sizeof(b1)), ta ? " (transA)" : "",
                              pl__dims_str(b->rank, b->dims, b2, sizeof(b2)),
                              tb ? " (transB)" : "");
    if (pl__has(ic, 2)) {
        /* C broadcasts unidirectionally to [M, N]. */
        const pl__tview *c = &ic->in[2];
        bool ok = c->rank <= 2;
        for (int i = 0; ok && i < c->rank; i++) {
            int64_t want = (c->rank - i == 1) ? n : m;
            ok = c->dims[i] == want || c->dims[i] == 1;
        }
        if (!ok)
            return pl__infer_fail(ic, "C %s does not broadcast to [%lld,%lld]",
                                  pl__dims_str(c->rank, c->dims, b1, sizeof(b1)), (long long)m,
                                  (long long)n);
    }
    ic->out[0].dtype = a->dtype;
    ic->out[0].rank = 2;
    ic->out[0].dims[0] = m;
    ic->out[0].dims[1] = n;
    return pl__check_activation(ic);
}

/* ---- normalizations ---- */

static pl_status pl__infer_batchnorm(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    char b1[128];
    pl_status s;
    if (pl__attr_int(&ic->layer->attrs, "training_mode", 0) != 0 || ic->nout > 1)
        return pl__fail(PL_ERR_UNSUPPORTED,
                        "node '%s' (BatchNormalization): training mode (training_mode=1 or the "
                        "running mean/var outputs) is not supported; export the model for "
                        "inference",
                        pl__layer_label(ic->layer));
    if ((s = pl__check_float(ic, 5)) != PL_OK)
        return s;
    if (x->rank < 2)
        return pl__infer_fail(ic, "input X must have rank >= 2 (got %d)", x->rank);
    for (int i = 1; i < 5; i++) {
        const pl__tview *p = &ic->in[i];
        if (p->rank != 1 || p->dims[0] != x->dims[1])
            return pl__infer_fail(ic, "input %d %s must be [%lld] (the channel count)", i,
                                  pl__dims_str(p->rank, p->dims, b1, sizeof(b1)),
                                  (long long)x->dims[1]);
    }
    ic->out[0] = *x;
    ic->out[0].data = NULL;
    return PL_OK;
}

static pl_status pl__infer_layernorm(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int axis;
    char b1[128], b2[128];
    pl_status s;
    if ((s = pl__check_float(ic, 3)) != PL_OK)
        return s;
    if (x->rank < 1)
        return pl__infer_fail(ic, "input X must have rank >= 1");
    if ((s = pl__norm_axis(ic, pl__attr_int(&ic->layer->attrs, "axis", -1), x->rank, &axis)) !=
        PL_OK)
        return s;
    for (int i = 1; i < 3; i++) {
        const pl__tview *p = &ic->in[i];
        bool ok;
        if (!pl__has(ic, i))
            continue;
        /* Scale and B broadcast unidirectionally to X.shape[axis:]. */
        ok = p->rank <= x->rank - axis;
        for (int j = 0; ok && j < p->rank; j++) {
            int64_t want = x->dims[x->rank - p->rank + j];
            ok = p->dims[j] == want || p->dims[j] == 1;
        }
        if (!ok)
            return pl__infer_fail(ic, "%s %s does not broadcast to the normalized shape of X %s "
                                  "from axis %d", i == 1 ? "Scale" : "B",
                                  pl__dims_str(p->rank, p->dims, b1, sizeof(b1)),
                                  pl__dims_str(x->rank, x->dims, b2, sizeof(b2)), axis);
    }
    ic->out[0] = *x;
    ic->out[0].data = NULL;
    for (int o = 1; o < ic->nout; o++) {
        ic->out[o].dtype = PL_FLOAT32;
        ic->out[o].rank = x->rank;
        for (int j = 0; j < x->rank; j++)
            ic->out[o].dims[j] = j < axis ? x->dims[j] : 1;
    }
    return PL_OK;
}

static pl_status pl__infer_lpnorm(pl__infer *ic) {
    int axis;
    int64_t p = pl__attr_int(&ic->layer->attrs, "p", 2);
    pl_status s;
    if ((s = pl__check_float(ic, 1)) != PL_OK)
        return s;
    if ((s = pl__norm_axis(ic, pl__attr_int(&ic->layer->attrs, "axis", -1), ic->in[0].rank,
                           &axis)) != PL_OK)
        return s;
    if (p != 1 && p != 2)
        return pl__infer_fail(ic, "p must be 1 or 2 (got %lld)", (long long)p);
    ic->out[0] = ic->in[0];
    ic->out[0].data = NULL;
    return PL_OK;
}

/* ---- pooling ---- */

static pl_status pl__infer_pool(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    const pl__attrs *at = &ic->layer->attrs;
    const int64_t *ks;
    int64_t nk = pl__attr_ints(at, "kernel_shape", &ks);
    int nsp = x->rank - 2;
    bool is_max = strcmp(ic->layer->op, "MaxPool") == 0;
    int64_t so = pl__attr_int(at, "storage_order", 0);
    pl__window w;
    pl_status s;
    if ((s = pl__check_float(ic, 1)) != PL_OK)
        return s;
    if (x->rank < 3 || x->rank > 2 + PL__MAX_SPATIAL)
        return pl__infer_fail(ic, "input X has rank %d; ranks 3 to 5 (1-D to 3-D) are supported",
                              x->rank);
    if (nk != nsp)
        return pl__infer_fail(ic, "kernel_shape must have %d values (got %lld)", nsp,
                              (long long)nk);
    if (so != 0 && so != 1)
        return pl__infer_fail(ic, "storage_order must be 0 or 1");
    if (!is_max && ic->nout > 1)
        return pl__infer_fail(ic, "AveragePool has one output");
    if ((s = pl__window_forward(ic, nsp, x->dims + 2, ks,
                                pl__attr_int(at, "ceil_mode", 0) != 0, &w)) != PL_OK)
        return s;
    for (int i = 0; i < nsp; i++)
        if (w.pb[i] >= (w.k[i] - 1) * w.d[i] + 1 || w.pe[i] >= (w.k[i] - 1) * w.d[i] + 1)
            return pl__infer_fail(ic, "padding must be smaller than the kernel extent");
    ic->out[0].dtype = x->dtype;
    ic->out[0].rank = x->rank;
    ic->out[0].dims[0] = x->dims[0];
    ic->out[0].dims[1] = x->dims[1];
    for (int i = 0; i < nsp; i++)
        ic->out[0].dims[2 + i] = w.out[i];
    if (ic->nout > 1) {
        ic->out[1] = ic->out[0];
        ic->out[1].dtype = PL_INT64;
    }
    return PL_OK;
}

static pl_status pl__infer_global_pool(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    pl_status s;
    if ((s = pl__check_float(ic, 1)) != PL_OK)
        return s;
    if (x->rank < 3)
        return pl__infer_fail(ic, "input X must have rank >= 3 (got %d)", x->rank);
    ic->out[0] = *x;
    ic->out[0].data = NULL;
    for (int i = 2; i < x->rank; i++)
        ic->out[0].dims[i] = 1;
    return PL_OK;
}

/* ---- Einsum ---- */

static int pl__einsum_letter(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return 26 + (c - 'a');
    return -1;
}

/* Binds label l to extent n; a 1 broadcasts against anything (as numpy allows). */
static pl_status pl__einsum_bind(const pl__infer *ic, pl__einsum *e, int l, int64_t n) {
    if (!e->used[l] || e->dim[l] == 1) {
        e->dim[l] = n;
    } else if (n != 1 && n != e->dim[l]) {
        if (l < PL__EINSUM_LETTERS)
            return pl__infer_fail(ic, "label '%c' has extents %lld and %lld",
                                  l < 26 ? 'A' + l : 'a' + (l - 26), (long long)e->dim[l],
                                  (long long)n);
        return pl__infer_fail(ic, "ellipsis dims do not broadcast (%lld vs %lld)",
                              (long long)e->dim[l], (long long)n);
    }
    e->used[l] = true;
    return PL_OK;
}

pl_status pl__einsum_parse(const pl__infer *ic, pl__einsum *e) {
    const char *eq = pl__attr_string(&ic->layer->attrs, "equation", NULL);
    const char *p, *arrow;
    int ell_rank = 0, term = 0, counts[PL__EINSUM_LETTERS] = {0};
    bool any_ell = false;
    pl_status s;
    memset(e, 0, sizeof(*e));
    if (!eq)
        return pl__infer_fail(ic, "attribute 'equation' is required");
    if (ic->nin > PL__EINSUM_MAX_IN)
        return pl__infer_fail(ic, "%d inputs; at most %d are supported", ic->nin,
                              PL__EINSUM_MAX_IN);
    e->nin = ic->nin;
    arrow = strstr(eq, "->");
    /* Pass 1: the widest ellipsis over all inputs, so that ellipsis dims right-align. */
    for (p = eq; *p && p != arrow; term++) {
        int letters = 0;
        bool ell = false;
        for (; *p && *p != ',' && p != arrow; p++) {
            if (*p == ' ')
                continue;
            if (*p == '.') {
                if (ell || p[1] != '.' || p[2] != '.')
                    return pl__infer_fail(ic, "malformed ellipsis in equation '%s'", eq);
                ell = true;
                p += 2;
            } else if (pl__einsum_letter(*p) >= 0) {
                letters++;
            } else {
                return pl__infer_fail(ic, "unexpected character '%c' in equation '%s'", *p, eq);
            }
        }
        if (term >= ic->nin)
            return pl__infer_fail(ic, "equation '%s' has more terms than the %d inputs", eq,
                                  ic->nin);
        if (ell) {
            any_ell = true;
            if (ic->in[term].rank < letters)
                return pl__infer_fail(ic, "input %d has rank %d, fewer than its %d labels", term,
                                      ic->in[term].rank, letters);
            if (ic->in[term].rank - letters > ell_rank)
                ell_rank = ic->in[term].rank - letters;
        } else if (ic->in[term].rank != letters) {
            return pl__infer_fail(ic, "input %d has rank %d but term %d of '%s' has %d labels",
                                  term, ic->in[term].rank, term, eq, letters);
        }
        e->rank[term] = ic->in[term].rank;
        if (*p == ',')
            p++;
    }
    if (term != ic->nin)
        return pl__infer_fail(ic, "equation '%s' has %d terms for %d inputs", eq, term, ic->nin);
    /* Pass 2: labels per axis. */
    term = 0;
    for (p = eq; *p && p != arrow; term++) {
        int ax = 0;
        const pl__tview *t = &ic->in[term];
        for (; *p && *p != ',' && p != arrow; p++) {
            int l = pl__einsum_letter(*p);
            if (*p == ' ')
                continue;
            if (*p == '.') {
                int letters_left = 0, er;
                for (const char *q = p + 3; *q && *q != ',' && q != arrow; q++)
                    letters_left += pl__einsum_letter(*q) >= 0;
                er = t->rank - ax - letters_left;
                for (int j = 0; j < er; j++) {
                    int lab = PL__EINSUM_LETTERS + (ell_rank - er) + j;
                    e->lab[term][ax] = (int8_t)lab;
                    if ((s = pl__einsum_bind(ic, e, lab, t->dims[ax])) != PL_OK)
                        return s;
                    ax++;
                }
                p += 2;
                continue;
            }
            e->lab[term][ax] = (int8_t)l;
            counts[l]++;
            if ((s = pl__einsum_bind(ic, e, l, t->dims[ax])) != PL_OK)
                return s;
            ax++;
        }
        if (*p == ',')
            p++;
    }
    /* Repeated labels within one input take its diagonal, which needs equal extents. */
    for (int i = 0; i < e->nin; i++)
        for (int a = 0; a < e->rank[i]; a++)
            for (int b = a + 1; b < e->rank[i]; b++)
                if (e->lab[i][a] == e->lab[i][b] && ic->in[i].dims[a] != ic->in[i].dims[b])
                    return pl__infer_fail(ic, "input %d repeats a label over extents %lld and %lld",
                                          i, (long long)ic->in[i].dims[a],
                                          (long long)ic->in[i].dims[b]);
    if (arrow) {
        bool seen[PL__EINSUM_LABELS] = {false}, ell = false;
        for (p = arrow + 2; *p; p++) {
            int l = pl__einsum_letter(*p);
            if (*p == ' ')
                continue;
            if (*p == '.') {
                if (ell || p[1] != '.' || p[2] != '.')
                    return pl__infer_fail(ic, "malformed ellipsis in equation '%s'", eq);
                ell = true;
                p += 2;
                if (e->out_rank + ell_rank > PL_MAX_RANK)
                    return pl__infer_fail(ic, "output rank exceeds %d", PL_MAX_RANK);
                for (int j = 0; j < ell_rank; j++)
                    e->out_lab[e->out_rank++] = (int8_t)(PL__EINSUM_LETTERS + j);
                continue;
            }
            if (l < 0)
                return pl__infer_fail(ic, "unexpected character '%c' in equation '%s'", *p, eq);
            if (!e->used[l])
                return pl__infer_fail(ic, "output label '%c' appears in no input", *p);
            if (seen[l])
                return pl__infer_fail(ic, "output label '%c' is repeated", *p);
            if (e->out_rank >= PL_MAX_RANK)
                return pl__infer_fail(ic, "output rank exceeds %d", PL_MAX_RANK);
            seen[l] = true;
            e->out_lab[e->out_rank++] = (int8_t)l;
        }
        if (any_ell && !ell && ell_rank > 0)
            return pl__infer_fail(ic, "the output of '%s' omits the ellipsis dims of the inputs",
                                  eq);
    } else {
        /* Implicit output: ellipsis dims, then labels used exactly once, in ASCII order. */
        for (int j = 0; j < ell_rank; j++)
            e->out_lab[e->out_rank++] = (int8_t)(PL__EINSUM_LETTERS + j);
        for (int l = 0; l < PL__EINSUM_LETTERS; l++) {
            if (counts[l] != 1)
                continue;
            if (e->out_rank >= PL_MAX_RANK)
                return pl__infer_fail(ic, "output rank exceeds %d", PL_MAX_RANK);
            e->out_lab[e->out_rank++] = (int8_t)l;
        }
    }
    return PL_OK;
}

static pl_status pl__infer_einsum(pl__infer *ic) {
    pl__einsum e;
    pl_status s;
    for (int i = 0; i < ic->nin; i++)
        if (ic->in[i].dtype != PL_FLOAT32)
            return pl__nn_dtype_fail(ic, "an input", ic->in[i].dtype, "float32");
    if ((s = pl__einsum_parse(ic, &e)) != PL_OK)
        return s;
    ic->out[0].dtype = PL_FLOAT32;
    ic->out[0].rank = e.out_rank;
    for (int i = 0; i < e.out_rank; i++)
        ic->out[0].dims[i] = e.dim[e.out_lab[i]];
    return PL_OK;
}

const pl__op_def pl__ops_nn[] = {
    {"Conv", 2, 4, 1, 1, 0, false, pl__infer_conv},
    {"ConvTranspose", 2, 3, 1, 1, 0, false, pl__infer_conv_transpose},
    {"MatMul", 2, 2, 1, 1, 0, false, pl__infer_matmul},
    {"Gemm", 2, 3, 1, 1, 0, false, pl__infer_gemm},
    {"BatchNormalization", 5, 5, 1, 3, 0, false, pl__infer_batchnorm},
    {"LayerNormalization", 2, 3, 1, 3, 0, false, pl__infer_layernorm},
    {"LpNormalization", 1, 1, 1, 1, 0, false, pl__infer_lpnorm},
    {"MaxPool", 1, 1, 1, 2, 0, false, pl__infer_pool},
    {"AveragePool", 1, 1, 1, 1, 0, false, pl__infer_pool},
    {"GlobalAveragePool", 1, 1, 1, 1, 0, false, pl__infer_global_pool},
    {"GlobalMaxPool", 1, 1, 1, 1, 0, false, pl__infer_global_pool},
    {"Einsum", 1, PL__EINSUM_MAX_IN, 1, 1, 0, false, pl__infer_einsum},
    {0},
};
