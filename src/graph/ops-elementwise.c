/*
 * ops-elementwise.c - shape inference for unary, binary (broadcasting), variadic, comparison,
 * logical, Where, Cast/CastLike and Clip ops.
 *
 * Ops are grouped by the dtypes they accept; each group has one inference function. A dtype the
 * CPU kernels cannot compute fails here with PL_ERR_UNSUPPORTED, so that a network is refused at
 * build time rather than at run time. Non-native storage types (float16/bfloat16, the small
 * integers) are computed by the kernels through float32 / int64 and converted back.
 */
#include <string.h>

#include "graph/ops.h"

#define PL__M(t) (1u << (t))
#define PL__FLT (PL__M(PL_FLOAT32) | PL__M(PL_FLOAT64) | PL__M(PL_FLOAT16) | PL__M(PL_BFLOAT16))
#define PL__INT (PL__M(PL_INT8) | PL__M(PL_UINT8) | PL__M(PL_INT32) | PL__M(PL_INT64))
#define PL__NUM (PL__FLT | PL__INT)
#define PL__ALL (PL__NUM | PL__M(PL_BOOL))

static const char *pl__op_name(const pl__infer *ic) {
    return ic->layer->def ? ic->layer->def->name : ic->layer->op;
}

/* Required input i must be present and of a dtype in mask. */
static pl_status pl__need(const pl__infer *ic, int i, uint32_t mask) {
    pl_dtype t;
    if (i >= ic->nin || ic->in[i].dtype == PL_DTYPE_INVALID)
        return pl__infer_fail(ic, "input %d is required", i);
    t = ic->in[i].dtype;
    if ((unsigned)t >= 32 || !(mask & PL__M(t)))
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): dtype %s not supported",
                        pl__layer_label(ic->layer), pl__op_name(ic), pl_dtype_name(t));
    return PL_OK;
}

static pl_status pl__same_type(const pl__infer *ic, int i, int j) {
    if (ic->in[i].dtype != ic->in[j].dtype)
        return pl__infer_fail(ic, "input types differ (%s vs %s)", pl_dtype_name(ic->in[i].dtype),
                              pl_dtype_name(ic->in[j].dtype));
    return PL_OK;
}

static pl_status pl__unary(pl__infer *ic, uint32_t mask, pl_dtype out) {
    pl_status s = pl__need(ic, 0, mask);
    if (s)
        return s;
    ic->out[0] = ic->in[0];
    ic->out[0].data = NULL;
    if (out != PL_DTYPE_INVALID)
        ic->out[0].dtype = out;
    return PL_OK;
}

static pl_status pl__infer_unary_flt(pl__infer *ic) { return pl__unary(ic, PL__FLT, 0); }
static pl_status pl__infer_unary_num(pl__infer *ic) { return pl__unary(ic, PL__NUM, 0); }
static pl_status pl__infer_identity(pl__infer *ic) { return pl__unary(ic, PL__ALL, 0); }
static pl_status pl__infer_not(pl__infer *ic) { return pl__unary(ic, PL__M(PL_BOOL), 0); }
static pl_status pl__infer_isx(pl__infer *ic) { return pl__unary(ic, PL__FLT, PL_BOOL); }

static pl_status pl__infer_gelu(pl__infer *ic) {
    const char *ap = pl__attr_string(&ic->layer->attrs, "approximate", "none");
    if (strcmp(ap, "none") != 0 && strcmp(ap, "tanh") != 0)
        return pl__infer_fail(ic, "attribute approximate='%s' must be 'none' or 'tanh'", ap);
    return pl__unary(ic, PL__FLT, 0);
}

/* Clip: min/max as optional scalar inputs 1, 2 (opset >= 11) or float attributes (older). */
static pl_status pl__infer_clip(pl__infer *ic) {
    pl_status s = pl__need(ic, 0, PL__NUM);
    if (s)
        return s;
    for (int i = 1; i < ic->nin; i++) {
        if (ic->in[i].dtype == PL_DTYPE_INVALID)
            continue;
        if ((s = pl__same_type(ic, 0, i)))
            return s;
        if (pl__tview_numel(&ic->in[i]) != 1)
            return pl__infer_fail(ic, "input %d (%s) must be a scalar", i, i == 1 ? "min" : "max");
    }
    return pl__unary(ic, PL__NUM, 0);
}

/* Broadcast of inputs [0, n) into out[0]; all inputs of one dtype from mask. */
static pl_status pl__broadcast_all(pl__infer *ic, int n, uint32_t mask, pl_dtype out) {
    pl__tview *y = &ic->out[0];
    pl_status s;
    if (n < 1 || ic->nin < n)
        return pl__infer_fail(ic, "expected %d inputs, got %d", n, ic->nin);
    for (int i = 0; i < n; i++) {
        if ((s = pl__need(ic, i, mask)) || (s = pl__same_type(ic, 0, i)))
            return s;
    }
    y->rank = ic->in[0].rank;
    memcpy(y->dims, ic->in[0].dims, sizeof(y->dims));
    for (int i = 1; i < n; i++) {
        int64_t d[PL_MAX_RANK];
        int r;
        if ((s = pl__broadcast(ic, y->rank, y->dims, ic->in[i].rank, ic->in[i].dims, &r, d)))
            return s;
        y->rank = r;
        memcpy(y->dims, d, sizeof(d));
    }
    y->dtype = out != PL_DTYPE_INVALID ? out : ic->in[0].dtype;
    y->data = NULL;
    return PL_OK;
}

static pl_status pl__infer_arith(pl__infer *ic) { return pl__broadcast_all(ic, 2, PL__NUM, 0); }
static pl_status pl__infer_variadic(pl__infer *ic) {
    return pl__broadcast_all(ic, ic->nin, PL__NUM, 0);
}
static pl_status pl__infer_logical(pl__infer *ic) {
    return pl__broadcast_all(ic, 2, PL__M(PL_BOOL), PL_BOOL);
}
static pl_status pl__infer_compare(pl__infer *ic) {
    return pl__broadcast_all(ic, 2, PL__NUM, PL_BOOL);
}
static pl_status pl__infer_equal(pl__infer *ic) {
    return pl__broadcast_all(ic, 2, PL__ALL, PL_BOOL);
}

static pl_status pl__infer_mod(pl__infer *ic) {
    int64_t fmod = pl__attr_int(&ic->layer->attrs, "fmod", 0);
    if (fmod != 0 && fmod != 1)
        return pl__infer_fail(ic, "attribute fmod=%lld must be 0 or 1", (long long)fmod);
    return pl__broadcast_all(ic, 2, PL__NUM, 0);
}

/* PRelu: the slope broadcasts to X (unidirectionally, but numpy broadcast is accepted). */
static pl_status pl__infer_prelu(pl__infer *ic) {
    return pl__broadcast_all(ic, 2, PL__FLT | PL__M(PL_INT32) | PL__M(PL_INT64), 0);
}

/* Pow: the exponent may have a different numeric dtype than the base; the output has the base's. */
static pl_status pl__infer_pow(pl__infer *ic) {
    pl_status s;
    int r;
    if ((s = pl__need(ic, 0, PL__NUM)) || (s = pl__need(ic, 1, PL__NUM)))
        return s;
    if ((s = pl__broadcast(ic, ic->in[0].rank, ic->in[0].dims, ic->in[1].rank, ic->in[1].dims, &r,
                           ic->out[0].dims)))
        return s;
    ic->out[0].rank = r;
    ic->out[0].dtype = ic->in[0].dtype;
    ic->out[0].data = NULL;
    return PL_OK;
}

static pl_status pl__infer_where(pl__infer *ic) {
    pl_status s;
    pl__tview *y = &ic->out[0];
    int64_t d[PL_MAX_RANK];
    int r;
    if ((s = pl__need(ic, 0, PL__M(PL_BOOL))) || (s = pl__need(ic, 1, PL__ALL)) ||
        (s = pl__need(ic, 2, PL__ALL)) || (s = pl__same_type(ic, 1, 2)))
        return s;
    if ((s = pl__broadcast(ic, ic->in[0].rank, ic->in[0].dims, ic->in[1].rank, ic->in[1].dims, &r,
                           d)) ||
        (s = pl__broadcast(ic, r, d, ic->in[2].rank, ic->in[2].dims, &y->rank, y->dims)))
        return s;
    y->dtype = ic->in[1].dtype;
    y->data = NULL;
    return PL_OK;
}

static bool pl__castable(int64_t t) {
    return t >= 0 && t < 32 && (PL__ALL & PL__M(t));
}

static pl_status pl__infer_cast(pl__infer *ic) {
    int64_t to = pl__attr_int(&ic->layer->attrs, "to", -1);
    pl_status s = pl__need(ic, 0, PL__ALL);
    if (s)
        return s;
    if (!pl__attrs_find(&ic->layer->attrs, "to"))
        return pl__infer_fail(ic, "attribute 'to' is required");
    if (!pl__castable(to))
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (Cast): target dtype %lld not supported",
                        pl__layer_label(ic->layer), (long long)to);
    return pl__unary(ic, PL__ALL, (pl_dtype)to);
}

static pl_status pl__infer_castlike(pl__infer *ic) {
    pl_status s;
    if ((s = pl__need(ic, 0, PL__ALL)) || (s = pl__need(ic, 1, PL__ALL)))
        return s;
    return pl__unary(ic, PL__ALL, ic->in[1].dtype);
}

#define PL__VAR 127 /* "any number of inputs" (the arity fields are int8) */

const pl__op_def pl__ops_elementwise[] = {
    /* unary, floating point */
    {"Exp", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Log", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Sqrt", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Reciprocal", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Floor", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Ceil", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Round", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Sin", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Cos", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Tan", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Asin", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Acos", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Atan", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Sinh", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Cosh", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Asinh", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Acosh", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Atanh", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"LeakyRelu", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Sigmoid", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Tanh", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"HardSigmoid", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"HardSwish", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Gelu", 1, 1, 1, 1, 0, false, pl__infer_gelu},
    {"Erf", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Softplus", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Softsign", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Elu", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Selu", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Celu", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"Mish", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"ThresholdedRelu", 1, 1, 1, 1, 0, false, pl__infer_unary_flt},
    {"IsNaN", 1, 1, 1, 1, 0, false, pl__infer_isx},
    {"IsInf", 1, 1, 1, 1, 0, false, pl__infer_isx},
    /* unary, any number */
    {"Relu", 1, 1, 1, 1, 0, false, pl__infer_unary_num},
    {"Abs", 1, 1, 1, 1, 0, false, pl__infer_unary_num},
    {"Neg", 1, 1, 1, 1, 0, false, pl__infer_unary_num},
    {"Sign", 1, 1, 1, 1, 0, false, pl__infer_unary_num},
    {"Clip", 1, 3, 1, 1, 0, false, pl__infer_clip},
    {"Identity", 1, 1, 1, 1, 0, false, pl__infer_identity},
    {"Not", 1, 1, 1, 1, 0, false, pl__infer_not},
    {"Cast", 1, 1, 1, 1, 0, false, pl__infer_cast},
    {"CastLike", 2, 2, 1, 1, 0, false, pl__infer_castlike},
    /* binary / variadic with broadcasting */
    {"Add", 2, 2, 1, 1, 0, false, pl__infer_arith},
    {"Sub", 2, 2, 1, 1, 0, false, pl__infer_arith},
    {"Mul", 2, 2, 1, 1, 0, false, pl__infer_arith},
    {"Div", 2, 2, 1, 1, 0, false, pl__infer_arith},
    {"Mod", 2, 2, 1, 1, 0, false, pl__infer_mod},
    {"Pow", 2, 2, 1, 1, 0, false, pl__infer_pow},
    {"PRelu", 2, 2, 1, 1, 0, false, pl__infer_prelu},
    {"Sum", 1, PL__VAR, 1, 1, 0, false, pl__infer_variadic},
    {"Mean", 1, PL__VAR, 1, 1, 0, false, pl__infer_variadic},
    {"Min", 1, PL__VAR, 1, 1, 0, false, pl__infer_variadic},
    {"Max", 1, PL__VAR, 1, 1, 0, false, pl__infer_variadic},
    {"And", 2, 2, 1, 1, 0, false, pl__infer_logical},
    {"Or", 2, 2, 1, 1, 0, false, pl__infer_logical},
    {"Xor", 2, 2, 1, 1, 0, false, pl__infer_logical},
    {"Equal", 2, 2, 1, 1, 0, false, pl__infer_equal},
    {"Less", 2, 2, 1, 1, 0, false, pl__infer_compare},
    {"Greater", 2, 2, 1, 1, 0, false, pl__infer_compare},
    {"LessOrEqual", 2, 2, 1, 1, 0, false, pl__infer_compare},
    {"GreaterOrEqual", 2, 2, 1, 1, 0, false, pl__infer_compare},
    {"Where", 3, 3, 1, 1, 0, false, pl__infer_where},
    {0},
};
