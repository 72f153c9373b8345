/*
 * cuda-ops.c - host side of every GPU op other than Conv and Gemm/MatMul: elementwise (unary,
 * broadcasting binary and variadic, Where, Cast, Clip), pooling, normalizations, Softmax,
 * Reduce*, and data movement (Reshape family, Transpose, Concat, Split, Slice, Gather, Expand,
 * Tile, Pad, Resize). Each kernel checks what it handles in supports() (called at engine
 * creation with the profile's max shapes), so that anything else runs on the CPU instead; run()
 * resolves parameters on the host and queues one or a few launches on the context's stream.
 *
 * Parameters that ONNX passes as value inputs (Slice's starts, Pad's pads, Resize's scales,
 * Reduce's axes) are read from the "cuda.values.<k>" attributes that the build records for
 * constant inputs, so such layers neither synchronise nor block graph capture; only a value
 * input computed at run time is read back from the device.
 */
#include <math.h>
#include <string.h>

#include "backends/cuda/cuda-ew.cuh"
#include "backends/cuda/cuda-internal.h"
#include "backends/cuda/cuda-nn.cuh"
#include "backends/cuda/cuda-shape.cuh"
#include "graph/ops-nn.h"
#include "graph/ops-shape.h"

static bool pl__small(const pl__kernel_args *a) {
    /* the device kernels index with int64 but split work in int32 blocks of the grid */
    for (int k = 0; k < a->nout; k++)
        if (pl__tview_numel(&a->out[k]) >= ((int64_t)1 << 40))
            return pl__cuda_decline(a, "tensor too large");
    return true;
}

static bool pl__es_ok(pl_dtype t) {
    size_t es = pl_dtype_size(t);
    return es == 1 || es == 2 || es == 4 || es == 8;
}

/* Storage types of the elementwise kernels (cuda-ew.cuh): floats (computed in float32, or in
 * float64 for float64) and integers (exact, wrapping as the CPU). */
static bool pl__ew_float(pl_dtype t) {
    return t == PL_FLOAT32 || t == PL_FLOAT16 || t == PL_BFLOAT16 || t == PL_FLOAT64;
}

static bool pl__ew_int(pl_dtype t) {
    return t == PL_INT8 || t == PL_UINT8 || t == PL_INT32 || t == PL_INT64;
}

/* ---- broadcast geometry (computed by the shared pl__broadcast_geometry) ---- */

_Static_assert(PL__CU_MAX_RANK == PL_MAX_RANK, "pl__cu_bcast must hold PL_MAX_RANK dims");

static void pl__bcast_make(const pl__tview *y, const pl__tview *const *in, int nops,
                           pl__cu_bcast *bc) {
    int m;
    memset(bc, 0, sizeof(*bc));
    pl__broadcast_geometry(y, in, nops, &m, bc->dims, bc->st);
    bc->rank = m;
    bc->nops = nops;
}

/* ---- unary ---- */

typedef struct pl__un_def {
    const char *op;
    int code;
    const char *an;
    double ad;
    const char *bn;
    double bd;
} pl__un_def;

static const pl__un_def pl__unaries[] = {
    {"Relu", PL__UN_RELU, NULL, 0, NULL, 0},
    {"LeakyRelu", PL__UN_LEAKY, "alpha", 0.01, NULL, 0},
    {"Sigmoid", PL__UN_SIGMOID, NULL, 0, NULL, 0},
    {"Tanh", PL__UN_TANH, NULL, 0, NULL, 0},
    {"HardSigmoid", PL__UN_HSIG, "alpha", 0.2, "beta", 0.5},
    {"HardSwish", PL__UN_HSWISH, NULL, 0, NULL, 0},
    {"Abs", PL__UN_ABS, NULL, 0, NULL, 0},
    {"Neg", PL__UN_NEG, NULL, 0, NULL, 0},
    {"Exp", PL__UN_EXP, NULL, 0, NULL, 0},
    {"Log", PL__UN_LOG, NULL, 0, NULL, 0},
    {"Sqrt", PL__UN_SQRT, NULL, 0, NULL, 0},
    {"Reciprocal", PL__UN_RECIP, NULL, 0, NULL, 0},
    {"Floor", PL__UN_FLOOR, NULL, 0, NULL, 0},
    {"Ceil", PL__UN_CEIL, NULL, 0, NULL, 0},
    {"Round", PL__UN_ROUND, NULL, 0, NULL, 0},
    {"Sin", PL__UN_SIN, NULL, 0, NULL, 0},
    {"Cos", PL__UN_COS, NULL, 0, NULL, 0},
    {"Tan", PL__UN_TAN, NULL, 0, NULL, 0},
    {"Asin", PL__UN_ASIN, NULL, 0, NULL, 0},
    {"Acos", PL__UN_ACOS, NULL, 0, NULL, 0},
    {"Atan", PL__UN_ATAN, NULL, 0, NULL, 0},
    {"Sinh", PL__UN_SINH, NULL, 0, NULL, 0},
    {"Cosh", PL__UN_COSH, NULL, 0, NULL, 0},
    {"Asinh", PL__UN_ASINH, NULL, 0, NULL, 0},
    {"Acosh", PL__UN_ACOSH, NULL, 0, NULL, 0},
    {"Atanh", PL__UN_ATANH, NULL, 0, NULL, 0},
    {"Erf", PL__UN_ERF, NULL, 0, NULL, 0},
    {"Gelu", PL__UN_GELU, NULL, 0, NULL, 0},
    {"Softplus", PL__UN_SOFTPLUS, NULL, 0, NULL, 0},
    {"Softsign", PL__UN_SOFTSIGN, NULL, 0, NULL, 0},
    {"Elu", PL__UN_ELU, "alpha", 1.0, NULL, 0},
    {"Selu", PL__UN_SELU, "alpha", 1.67326319217681884765625, "gamma", 1.05070102214813232421875},
    {"Celu", PL__UN_CELU, "alpha", 1.0, NULL, 0},
    {"Mish", PL__UN_MISH, NULL, 0, NULL, 0},
    {"ThresholdedRelu", PL__UN_THRELU, "alpha", 1.0, NULL, 0},
    {"Sign", PL__UN_SIGN, NULL, 0, NULL, 0},
    {NULL, 0, NULL, 0, NULL, 0},
};

static const pl__un_def *pl__unary_def(const char *op) {
    for (const pl__un_def *d = pl__unaries; d->op; d++)
        if (strcmp(d->op, op) == 0)
            return d;
    return NULL;
}

static bool pl__unary_code_ok(const pl__kernel_args *a, int code) {
    if (a->out[0].dtype != a->in[0].dtype || !pl__cu_unary_ok(code, a->in[0].dtype))
        return pl__cuda_decline(a, pl__ew_int(a->in[0].dtype)
                                  ? "integers: Abs, Neg, Relu, Sign and Clip only"
                                  : "dtype not handled on the GPU");
    return pl__small(a);
}

static bool pl__unary_supports(const pl__kernel_args *a) {
    const pl__un_def *d = pl__unary_def(a->layer->op);
    if (!d)
        return pl__cuda_decline(a, "not a unary op");
    return pl__unary_code_ok(a, d->code);
}

static pl_status pl__unary_run(const pl__kernel_args *a) {
    const pl__un_def *d = pl__unary_def(a->layer->op);
    const pl__attrs *at = &a->layer->attrs;
    int code;
    double al, be; /* double for float64 layers; the launcher rounds them for the others */
    if (!d)
        return pl__cuda_unsupported(a, "not a unary op");
    code = d->code;
    al = d->an ? pl__attr_float(at, d->an, d->ad) : d->ad;
    be = d->bn ? pl__attr_float(at, d->bn, d->bd) : d->bd;
    if (code == PL__UN_GELU && strcmp(pl__attr_string(at, "approximate", "none"), "tanh") == 0)
        code = PL__UN_GELU_TANH;
    return PL__CU(a, pl__cu_unary(pl__cuda_stream(a), code, a->in[0].dtype, a->in[0].data,
                                  a->out[0].data, pl__tview_numel(&a->in[0]), al, be, NULL, NULL,
                                  a->in[0].dtype));
}

static bool pl__clip_supports(const pl__kernel_args *a) {
    if (!pl__unary_code_ok(a, PL__UN_CLIP))
        return false;
    for (int k = 1; k < a->nin; k++)
        if (a->in[k].dtype != PL_DTYPE_INVALID &&
            (a->in[k].dtype != a->in[0].dtype || pl__tview_numel(&a->in[k]) != 1))
            return pl__cuda_decline(a, "min/max must be scalars of the input's type");
    return true;
}

static pl_status pl__clip_run(const pl__kernel_args *a) {
    const pl__attrs *at = &a->layer->attrs;
    double lo = pl__attr_float(at, "min", -INFINITY);
    double hi = pl__attr_float(at, "max", INFINITY);
    const void *plo = a->nin > 1 ? a->in[1].data : NULL, *phi = a->nin > 2 ? a->in[2].data : NULL;
    return PL__CU(a, pl__cu_unary(pl__cuda_stream(a), PL__UN_CLIP, a->in[0].dtype, a->in[0].data,
                                  a->out[0].data, pl__tview_numel(&a->in[0]), lo, hi, plo, phi,
                                  a->in[0].dtype));
}

/* The layout pass's converters: an Identity with "cuda.relayout" 1 (NCHW -> NHWC) or 2 (NHWC ->
 * NCHW) of a 4-D tensor, as one strided copy that writes in the destination's memory order. */
static pl_status pl__relayout_run(const pl__kernel_args *a, int64_t dir) {
    const pl__tview *x = &a->in[0];
    int64_t n = x->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3];
    pl__cu_copy cp;
    if (x->rank != 4 || a->out[0].data == x->data)
        return pl__cuda_unsupported(a, "relayout of a 4-D tensor into a separate buffer needed");
    memset(&cp, 0, sizeof(cp));
    cp.rank = 4;
    if (dir == 1) { /* box [n, h, w, c] over an NCHW source */
        int64_t d[4] = {n, h, w, c}, st[4] = {c * h * w, w, 1, h * w};
        memcpy(cp.dims, d, sizeof(d));
        memcpy(cp.src_st, st, sizeof(st));
    } else { /* box [n, c, h, w] over an NHWC source */
        int64_t d[4] = {n, c, h, w}, st[4] = {h * w * c, 1, w * c, c};
        memcpy(cp.dims, d, sizeof(d));
        memcpy(cp.src_st, st, sizeof(st));
    }
    cp.dst_st[3] = 1;
    for (int i = 2; i >= 0; i--)
        cp.dst_st[i] = cp.dst_st[i + 1] * cp.dims[i + 1];
    if (n * c * h * w == 0)
        return PL_OK;
    return PL__CU(a, pl__cu_strided_copy(pl__cuda_stream(a), pl_dtype_size(x->dtype), x->data,
                                         a->out[0].data, &cp));
}

/* Identity, Reshape, Flatten, Squeeze, Unsqueeze: the bytes are unchanged. */
static pl_status pl__copy_run(const pl__kernel_args *a) {
    size_t bytes = pl__tview_bytes(&a->in[0]);
    int64_t dir = pl__attr_int(&a->layer->attrs, "cuda.relayout", 0);
    if (dir)
        return pl__relayout_run(a, dir);
    if (a->out[0].data == a->in[0].data || !bytes)
        return PL_OK;
    return PL__CU(a, cudaMemcpyAsync(a->out[0].data, a->in[0].data, bytes,
                                     cudaMemcpyDeviceToDevice, pl__cuda_stream(a)));
}

static bool pl__copy_supports(const pl__kernel_args *a) {
    if (pl__tview_bytes(&a->in[0]) != pl__tview_bytes(&a->out[0]))
        return pl__cuda_decline(a, "output size differs from the input");
    return true;
}

/* ---- binary and variadic ---- */

typedef struct pl__bin_def {
    const char *op;
    int code;
    bool ints, bools; /* also for integer / bool operands */
} pl__bin_def;

static const pl__bin_def pl__binaries[] = {
    {"Add", PL__BIN_ADD, true, false},  {"Sub", PL__BIN_SUB, true, false},
    {"Mul", PL__BIN_MUL, true, false},  {"Div", PL__BIN_DIV, true, false},
    {"Pow", PL__BIN_POW, false, false}, {"PRelu", PL__BIN_PRELU, false, false},
    {"Equal", PL__BIN_EQ, true, true},  {"Less", PL__BIN_LT, true, false},
    {"Greater", PL__BIN_GT, true, false}, {"LessOrEqual", PL__BIN_LE, true, false},
    {"GreaterOrEqual", PL__BIN_GE, true, false}, {"And", PL__BIN_AND, false, true},
    {"Or", PL__BIN_OR, false, true},    {"Xor", PL__BIN_XOR, false, true},
    {"Sum", PL__BIN_ADD, true, false},  {"Mean", PL__BIN_ADD, false, false},
    {"Min", PL__BIN_MIN, true, false},  {"Max", PL__BIN_MAX, true, false},
    {NULL, 0, false, false},
};

static const pl__bin_def *pl__binary_def(const char *op) {
    for (const pl__bin_def *d = pl__binaries; d->op; d++)
        if (strcmp(d->op, op) == 0)
            return d;
    return NULL;
}

/* Pow whose operands are not one float type: base and exponent of any numeric types, through
 * pl__cu_pow (ONNX lets them differ; integers compute through float64 as on the CPU). */
static bool pl__pow_general(const pl__kernel_args *a, const pl__bin_def *d) {
    return d->code == PL__BIN_POW && a->nin == 2 &&
           (a->in[0].dtype != a->in[1].dtype || !pl__ew_float(a->in[0].dtype));
}

static bool pl__binary_supports(const pl__kernel_args *a) {
    const pl__bin_def *d = pl__binary_def(a->layer->op);
    pl_dtype t = a->in[0].dtype;
    int act;
    float al, be;
    if (!d)
        return pl__cuda_decline(a, "not a binary op");
    if (pl__pow_general(a, d)) {
        if (!(pl__ew_float(t) || pl__ew_int(t)) ||
            !(pl__ew_float(a->in[1].dtype) || pl__ew_int(a->in[1].dtype)) ||
            a->out[0].dtype != t)
            return pl__cuda_decline(a, "numeric base and exponent needed");
    } else {
        for (int k = 1; k < a->nin; k++)
            if (a->in[k].dtype != t)
                return pl__cuda_decline(a, "operands of one type needed");
        if (d->code == PL__BIN_AND || d->code == PL__BIN_OR || d->code == PL__BIN_XOR) {
            if (t != PL_BOOL)
                return pl__cuda_decline(a, "bool operands needed");
        } else if (!(pl__ew_float(t) || (d->ints && pl__ew_int(t)) ||
                     (d->bools && t == PL_BOOL))) {
            return pl__cuda_decline(a, "dtype not handled on the GPU");
        }
    }
    /* activations are fused into float32/float16 layers only (the CPU applies none to float64) */
    if (!pl__cuda_fused_act(a->layer, &act, &al, &be) ||
        (act && (!pl__cuda_flt(t) || pl__pow_general(a, d))))
        return pl__cuda_decline(a, "fused activation not handled");
    if (a->out[0].rank > PL__CU_MAX_RANK)
        return pl__cuda_decline(a, "rank too high");
    return pl__small(a);
}

static pl_status pl__binary_run(const pl__kernel_args *a) {
    const pl__bin_def *d = pl__binary_def(a->layer->op);
    const pl__tview *Y = &a->out[0];
    pl__cu_bcast bc;
    int64_t n = pl__tview_numel(Y);
    int act;
    float al, be;
    pl_status s;
    if (!d)
        return pl__cuda_unsupported(a, "not a binary op");
    pl__cuda_fused_act(a->layer, &act, &al, &be);
    if (n == 0)
        return PL_OK;
    if (pl__pow_general(a, d)) {
        const pl__tview *ops[2] = {&a->in[0], &a->in[1]};
        pl__bcast_make(Y, ops, 2, &bc);
        return PL__CU(a, pl__cu_pow(pl__cuda_stream(a), a->in[0].dtype, a->in[1].dtype, a->in[0].data,
                                    a->in[1].data, Y->data, &bc, n));
    }
    if (a->nin == 1) /* variadic with one input: a copy (Mean of one is itself) */
        return PL__CU(a, cudaMemcpyAsync(Y->data, a->in[0].data, pl__tview_bytes(Y),
                                         cudaMemcpyDeviceToDevice, pl__cuda_stream(a)));
    if (pl__cuda_nhwc(a->layer)) {
        /* channels-last operands (all 4-D, the layout pass checks): broadcast over the dims in
         * memory order [N, H, W, C]; an operand with H = W = 1 is stored alike in both layouts */
        static const int perm[4] = {0, 2, 3, 1};
        pl__tview py, pin[2];
        const pl__tview *ops[2];
        if (a->nin != 2 || Y->rank != 4 || a->in[0].rank != 4 || a->in[1].rank != 4)
            return pl__cuda_unsupported(a, "channels-last needs two 4-D operands");
        py = *Y;
        pin[0] = a->in[0];
        pin[1] = a->in[1];
        for (int i = 0; i < 4; i++) {
            py.dims[i] = Y->dims[perm[i]];
            pin[0].dims[i] = a->in[0].dims[perm[i]];
            pin[1].dims[i] = a->in[1].dims[perm[i]];
        }
        ops[0] = &pin[0];
        ops[1] = &pin[1];
        pl__bcast_make(&py, ops, 2, &bc);
        return PL__CU(a, pl__cu_binary(pl__cuda_stream(a), d->code, a->in[0].dtype, Y->dtype,
                                       a->in[0].data, a->in[1].data, Y->data, &bc, n, act, al,
                                       be));
    }
    for (int k = 1; k < a->nin; k++) {
        const pl__tview *ops[2];
        const void *lhs = k == 1 ? a->in[0].data : Y->data;
        bool last = k == a->nin - 1;
        ops[0] = k == 1 ? &a->in[0] : Y;
        ops[1] = &a->in[k];
        pl__bcast_make(Y, ops, 2, &bc);
        if ((s = PL__CU(a, pl__cu_binary(pl__cuda_stream(a), d->code, a->in[0].dtype, Y->dtype, lhs,
                                         a->in[k].data, Y->data, &bc, n,
                                         last && strcmp(d->op, "Mean") ? act : 0, al, be))))
            return s;
    }
    if (strcmp(d->op, "Mean") == 0) {
        if (!pl__cuda_flt(Y->dtype)) /* bfloat16 / float64: a division, as the CPU */
            return PL__CU(a, pl__cu_div_scalar(pl__cuda_stream(a), Y->dtype, Y->data, n,
                                               (double)a->nin));
        if ((s = PL__CU(a, pl__cu_scale(pl__cuda_stream(a), Y->dtype, Y->data, n, 1.f / (float)a->nin))))
            return s;
        if (act)
            return PL__CU(a, pl__cu_bias_act(pl__cuda_stream(a), Y->dtype, Y->data, n, NULL, Y->dtype,
                                             1, 1, NULL, act, al, be));
    }
    return PL_OK;
}

/* ---- Where, Cast ---- */

static bool pl__where_supports(const pl__kernel_args *a) {
    if (a->in[0].dtype != PL_BOOL || a->in[1].dtype != a->in[2].dtype || !pl__es_ok(a->in[1].dtype))
        return pl__cuda_decline(a, "bool condition and two operands of one type needed");
    if (a->out[0].rank > PL__CU_MAX_RANK)
        return pl__cuda_decline(a, "rank too high");
    return pl__small(a);
}

static pl_status pl__where_run(const pl__kernel_args *a) {
    const pl__tview *ops[3] = {&a->in[0], &a->in[1], &a->in[2]};
    pl__cu_bcast bc;
    pl__bcast_make(&a->out[0], ops, 3, &bc);
    return PL__CU(a, pl__cu_where(pl__cuda_stream(a), pl_dtype_size(a->out[0].dtype), a->in[0].data,
                                  a->in[1].data, a->in[2].data, a->out[0].data, &bc,
                                  pl__tview_numel(&a->out[0])));
}

static bool pl__castable(pl_dtype t) {
    switch (t) {
    case PL_FLOAT32: case PL_FLOAT16: case PL_BFLOAT16: case PL_FLOAT64: case PL_INT64:
    case PL_INT32: case PL_INT8: case PL_UINT8: case PL_BOOL:
        return true;
    default:
        return false;
    }
}

static bool pl__cast_supports(const pl__kernel_args *a) {
    if (!pl__castable(a->in[0].dtype) || !pl__castable(a->out[0].dtype))
        return pl__cuda_decline(a, "dtype not handled on the GPU");
    return pl__small(a);
}

static pl_status pl__cast_run(const pl__kernel_args *a) {
    return PL__CU(a, pl__cu_cast(pl__cuda_stream(a), a->in[0].data, a->in[0].dtype, a->out[0].data,
                                 a->out[0].dtype, pl__tview_numel(&a->in[0])));
}

/* ---- pooling ---- */

static pl_status pl__pool_geometry(const pl__kernel_args *a, pl__cu_win *cw) {
    const pl__tview *x = &a->in[0];
    const pl__attrs *at = &a->layer->attrs;
    pl__infer ic = {a->layer, a->nin, a->in, a->nout, a->out};
    const int64_t *ks;
    int nsp = x->rank - 2;
    pl__window w, w3;
    pl_status s;
    if (nsp < 1 || nsp > 3 || pl__attr_ints(at, "kernel_shape", &ks) != nsp)
        return pl__cuda_unsupported(a, "bad rank or kernel_shape");
    if ((s = pl__window_forward(&ic, nsp, x->dims + 2, ks, pl__attr_int(at, "ceil_mode", 0) != 0,
                                &w)))
        return s;
    pl__window_to_3d(&w, &w3);
    for (int i = 0; i < 3; i++) {
        cw->in[i] = w3.in[i];
        cw->out[i] = w3.out[i];
        cw->k[i] = w3.k[i];
        cw->s[i] = w3.s[i];
        cw->d[i] = w3.d[i];
        cw->pb[i] = w3.pb[i];
        cw->pe[i] = w3.pe[i];
    }
    return PL_OK;
}

static bool pl__pool_supports(const pl__kernel_args *a) {
    pl__cu_win w;
    if (!pl__cuda_flt(a->in[0].dtype))
        return pl__cuda_decline(a, "float32/float16 only");
    return pl__pool_geometry(a, &w) == PL_OK && pl__small(a);
}

static pl_status pl__pool_run(const pl__kernel_args *a) {
    const pl__attrs *at = &a->layer->attrs;
    bool is_max = strcmp(a->layer->op, "MaxPool") == 0;
    pl__cu_win w;
    pl_status s = pl__pool_geometry(a, &w);
    if (s)
        return s;
    if (pl__cuda_nhwc(a->layer)) {
        if (a->in[0].rank != 4 || a->nout > 1 || pl__attr_int(at, "storage_order", 0))
            return pl__cuda_unsupported(a, "channels-last pooling: 2-D without indices only");
        return PL__CU(a, pl__cu_pool_nhwc(pl__cuda_stream(a), a->in[0].dtype, a->in[0].data,
                                          a->out[0].data, a->in[0].dims[0], a->in[0].dims[1], &w,
                                          is_max, pl__attr_int(at, "count_include_pad", 0) != 0));
    }
    return PL__CU(a, pl__cu_pool(pl__cuda_stream(a), a->in[0].dtype, a->in[0].data, a->out[0].data,
                                 is_max && a->nout > 1 ? a->out[1].data : NULL,
                                 a->in[0].dims[0] * a->in[0].dims[1], &w, is_max,
                                 pl__attr_int(at, "count_include_pad", 0) != 0,
                                 pl__attr_int(at, "storage_order", 0) == 1));
}

static bool pl__gpool_supports(const pl__kernel_args *a) {
    if (!pl__cuda_flt(a->in[0].dtype) || a->in[0].rank < 3)
        return pl__cuda_decline(a, "float32/float16 of rank >= 3 only");
    return pl__small(a);
}

static pl_status pl__gpool_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    int64_t sp = pl__numel(x->rank - 2, x->dims + 2);
    if (pl__cuda_nhwc(a->layer)) /* [N, sp, C]: reduce the middle axis */
        return PL__CU(a, pl__cu_global_pool_nhwc(pl__cuda_stream(a), x->dtype, x->data, a->out[0].data,
                                                 x->dims[0], x->dims[1], sp,
                                                 strcmp(a->layer->op, "GlobalMaxPool") == 0));
    return PL__CU(a, pl__cu_global_pool(pl__cuda_stream(a), x->dtype, x->data, a->out[0].data,
                                        x->dims[0] * x->dims[1], sp,
                                        strcmp(a->layer->op, "GlobalMaxPool") == 0));
}

/* ---- normalizations ---- */

static bool pl__bn_supports(const pl__kernel_args *a) {
    pl_dtype pt = a->in[1].dtype;
    int act;
    float al, be;
    if (!pl__cuda_flt(a->in[0].dtype) || a->in[0].rank < 2 || a->nout > 1)
        return pl__cuda_decline(a, "float32/float16 of rank >= 2, inference form only");
    for (int k = 1; k < 5; k++)
        if (a->in[k].dtype != pt || !pl__cuda_flt(pt) ||
            pl__tview_numel(&a->in[k]) != a->in[0].dims[1])
            return pl__cuda_decline(a, "four float parameter vectors of one type needed");
    if (!pl__cuda_fused_act(a->layer, &act, &al, &be))
        return pl__cuda_decline(a, "fused activation not handled");
    return pl__small(a);
}

static pl_status pl__bn_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    int act;
    float al, be;
    pl__cuda_fused_act(a->layer, &act, &al, &be);
    return PL__CU(a, pl__cu_batchnorm(pl__cuda_stream(a), x->dtype, x->data, a->out[0].data,
                                      a->in[1].data, a->in[2].data, a->in[3].data, a->in[4].data,
                                      a->in[1].dtype,
                                      (float)pl__attr_float(&a->layer->attrs, "epsilon", 1e-5),
                                      x->dims[0], x->dims[1], pl__numel(x->rank - 2, x->dims + 2),
                                      act, al, be));
}

static int pl__ln_axis(const pl__kernel_args *a) {
    int64_t axis = pl__attr_int(&a->layer->attrs, "axis", -1);
    return (int)(axis < 0 ? axis + a->in[0].rank : axis);
}

static bool pl__ln_supports(const pl__kernel_args *a) {
    int axis = pl__ln_axis(a);
    int64_t inner;
    if (!pl__cuda_flt(a->in[0].dtype) || axis < 0 || axis >= a->in[0].rank)
        return pl__cuda_decline(a, "float32/float16 and a valid axis needed");
    inner = pl__numel(a->in[0].rank - axis, a->in[0].dims + axis);
    for (int k = 1; k < a->nin && k < 3; k++)
        if (a->in[k].dtype != PL_DTYPE_INVALID &&
            (a->in[k].dtype != a->in[1].dtype || !pl__cuda_flt(a->in[k].dtype) ||
             pl__tview_numel(&a->in[k]) != inner))
            return pl__cuda_decline(a, "scale and bias must have the normalized shape");
    for (int k = 1; k < a->nout; k++)
        if (a->out[k].dtype != PL_FLOAT32)
            return pl__cuda_decline(a, "mean and inverse std outputs must be float32");
    return pl__small(a);
}

static pl_status pl__ln_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    int axis = pl__ln_axis(a);
    return PL__CU(a, pl__cu_layernorm(
                         pl__cuda_stream(a), x->dtype, x->data, a->out[0].data, a->in[1].data,
                         a->nin > 2 ? a->in[2].data : NULL, a->in[1].dtype,
                         a->nout > 1 ? a->out[1].data : NULL, a->nout > 2 ? a->out[2].data : NULL,
                         pl__numel(axis, x->dims), pl__numel(x->rank - axis, x->dims + axis),
                         (float)pl__attr_float(&a->layer->attrs, "epsilon", 1e-5)));
}

/* ---- Softmax / LogSoftmax ---- */

static bool pl__softmax_supports(const pl__kernel_args *a) {
    /* float64 has its own kernels that accumulate in double (cuda-nn.cu) */
    if (!pl__cuda_flt(a->in[0].dtype) && a->in[0].dtype != PL_FLOAT64)
        return pl__cuda_decline(a, "float32, float16 or float64 only");
    return pl__small(a);
}

static pl_status pl__softmax_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    const pl__attrs *at = &a->layer->attrs;
    bool legacy = pl__attr_int(at, "opset", 13) < 13;
    int64_t axis = pl__attr_int(at, "axis", legacy ? 1 : -1), outer, r, inner;
    int rank = x->rank ? x->rank : 1;
    int ax = (int)(axis < 0 ? axis + rank : axis);
    if (ax < 0 || ax >= rank)
        return pl__cuda_unsupported(a, "axis out of range");
    outer = pl__numel(ax, x->dims);
    r = legacy ? pl__numel(x->rank - ax, x->dims + ax) : x->rank ? x->dims[ax] : 1;
    inner = legacy || !x->rank ? 1 : pl__numel(x->rank - ax - 1, x->dims + ax + 1);
    return PL__CU(a, pl__cu_softmax(pl__cuda_stream(a), x->dtype, x->data, a->out[0].data, outer, r,
                                    inner, strcmp(a->layer->op, "LogSoftmax") == 0));
}

/* ---- Reduce* ---- */

static const char *const pl__reduce_ops[] = {"ReduceSum",  "ReduceMean",      "ReduceMax",
                                             "ReduceMin",  "ReduceProd",      "ReduceL1",
                                             "ReduceL2",   "ReduceSumSquare", "ReduceLogSum",
                                             "ReduceLogSumExp", NULL};

/* The reduced axes as [outer, r, inner]; false when they do not form one block (size-1 dims
 * aside). axes_v: values (count n, -1 when absent). */
static bool pl__reduce_split(const pl__kernel_args *a, const int64_t *axes_v, int64_t n,
                             int64_t *outer, int64_t *r, int64_t *inner, bool *noop) {
    const pl__tview *x = &a->in[0];
    bool red[PL_MAX_RANK] = {false};
    int first = -1, last = -1;
    *noop = false;
    if (n <= 0) {
        if (pl__attr_int(&a->layer->attrs, "noop_with_empty_axes", 0)) {
            *noop = true;
            return true;
        }
        for (int i = 0; i < x->rank; i++)
            red[i] = true;
    } else {
        for (int64_t k = 0; k < n; k++) {
            int64_t ax = axes_v[k] < 0 ? axes_v[k] + x->rank : axes_v[k];
            if (ax < 0 || ax >= x->rank)
                return false;
            red[ax] = true;
        }
    }
    for (int i = 0; i < x->rank; i++)
        if (red[i] && x->dims[i] != 1) {
            if (first < 0)
                first = i;
            last = i;
        }
    if (first < 0) { /* only size-1 axes reduced: every element is its own group */
        *outer = pl__tview_numel(x);
        *r = 1;
        *inner = 1;
        return true;
    }
    for (int i = first; i <= last; i++)
        if (!red[i] && x->dims[i] != 1)
            return false;
    *outer = pl__numel(first, x->dims);
    *r = pl__numel(last - first + 1, x->dims + first);
    *inner = pl__numel(x->rank - last - 1, x->dims + last + 1);
    return true;
}

static int pl__reduce_code(const char *op) {
    for (int i = 0; pl__reduce_ops[i]; i++)
        if (strcmp(pl__reduce_ops[i], op) == 0)
            return i;
    return -1;
}

/* Axes from input 1 (host data in supports(), where constants carry host pointers; device data
 * in run()) or the "axes" attribute. */
static pl_status pl__reduce_axes(const pl__kernel_args *a, bool host, int64_t *axes, int64_t *n) {
    const int64_t *av;
    *n = -1;
    if (a->nin > 1 && a->in[1].dtype != PL_DTYPE_INVALID) {
        if (!host)
            return pl__cuda_fetch_i64(a, 1, axes, PL_MAX_RANK, n);
        if (!a->in[1].data)
            return pl__cuda_unsupported(a, "axes computed at run time");
        *n = pl__tview_numel(&a->in[1]);
        if (*n > PL_MAX_RANK)
            return pl__cuda_unsupported(a, "too many axes");
        for (int64_t k = 0; k < *n; k++)
            axes[k] = pl__get_i64(a->in[1].data, a->in[1].dtype, k);
        return PL_OK;
    }
    *n = pl__attr_ints(&a->layer->attrs, "axes", &av);
    if (*n > PL_MAX_RANK)
        return pl__cuda_unsupported(a, "too many axes");
    for (int64_t k = 0; k < *n; k++)
        axes[k] = av[k];
    return PL_OK;
}

/* Reduced axes that do not form one block: a strided copy that moves the kept dims first and
 * the reduced ones last (each group in order), so that [o, r, 1] reduces like the CPU's
 * groups. False for an axis out of range or a rank beyond the copy's 8. */
static bool pl__reduce_gather(const pl__kernel_args *a, const int64_t *axes_v, int64_t n,
                              pl__cu_copy *c, int64_t *o, int64_t *r) {
    const pl__tview *x = &a->in[0];
    bool red[PL_MAX_RANK] = {false};
    int64_t st[PL_MAX_RANK], acc = 1, dst = 1;
    int k = 0;
    if (x->rank > 8)
        return false;
    for (int64_t j = 0; j < n; j++) {
        int64_t ax = axes_v[j] < 0 ? axes_v[j] + x->rank : axes_v[j];
        if (ax < 0 || ax >= x->rank)
            return false;
        red[ax] = true;
    }
    for (int i = x->rank - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= x->dims[i];
    }
    memset(c, 0, sizeof(*c));
    *o = *r = 1;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < x->rank; i++)
            if (red[i] == (pass == 1)) {
                c->dims[k] = x->dims[i];
                c->src_st[k++] = st[i];
                *(pass ? r : o) *= x->dims[i];
            }
    c->rank = k;
    for (int i = k - 1; i >= 0; i--) {
        c->dst_st[i] = dst;
        dst *= c->dims[i];
    }
    return true;
}

/* Axes fed at run time (input 1 not a constant): known only in run(), which reads them from the
 * runtime's host copy. */
static bool pl__reduce_runtime_axes(const pl__kernel_args *a) {
    return a->nin > 1 && a->in[1].dtype != PL_DTYPE_INVALID && !a->in[1].data;
}

static size_t pl__reduce_workspace(const pl__kernel_args *a) {
    int64_t axes[PL_MAX_RANK], n, o, r, i;
    bool noop;
    if (pl__reduce_runtime_axes(a)) /* the worst case: a gather of the whole input */
        return pl__tview_bytes(&a->in[0]);
    if (pl__reduce_axes(a, true, axes, &n) || pl__reduce_split(a, axes, n, &o, &r, &i, &noop))
        return 0;
    return pl__tview_bytes(&a->in[0]);
}

static bool pl__reduce_supports(const pl__kernel_args *a) {
    int64_t axes[PL_MAX_RANK], n, o, r, i;
    bool noop;
    pl_dtype t = a->in[0].dtype;
    if (!(pl__cuda_flt(t) || t == PL_FLOAT64) || a->out[0].dtype != t ||
        pl__reduce_code(a->layer->op) < 0)
        return pl__cuda_decline(a, "float32/float16/float64 only");
    if (a->in[0].rank > 8)
        return pl__cuda_decline(a, "rank above 8");
    if (pl__reduce_runtime_axes(a)) {
        if (a->in[1].dtype != PL_INT64 && a->in[1].dtype != PL_INT32)
            return pl__cuda_decline(a, "int64/int32 axes needed");
        return pl__small(a);
    }
    if (pl__reduce_axes(a, true, axes, &n))
        return false;
    if (!pl__reduce_split(a, axes, n, &o, &r, &i, &noop)) {
        pl__cu_copy c;
        if (!pl__reduce_gather(a, axes, n, &c, &o, &r))
            return pl__cuda_decline(a, "axes out of range");
    }
    return pl__small(a);
}

/* Reduces x as [o, r, i] (r >= 1) into the output. */
static pl_status pl__reduce_launch(const pl__kernel_args *a, const void *x, int64_t o, int64_t r,
                                   int64_t i) {
    int code = pl__reduce_code(a->layer->op);
    if (a->in[0].dtype == PL_FLOAT64)
        return PL__CU(a, pl__cu_reduce_f64(pl__cuda_stream(a), code, x, a->out[0].data, o, r, i));
    return PL__CU(a, pl__cu_reduce(pl__cuda_stream(a), code, a->in[0].dtype, x, a->out[0].data, o, r,
                                   i));
}

/* A reduction over an empty extent gives what the CPU's accumulators start from, through their
 * final step: 0 for the sums (Mean too: the CPU does not divide by 0; L2 = sqrt(0)), 1 for Prod,
 * -inf for Max, LogSum (log 0) and LogSumExp (its max), +inf for Min. */
static pl_status pl__reduce_empty(const pl__kernel_args *a) {
    double v;
    switch (pl__reduce_code(a->layer->op)) {
    case PL__RED_PROD: v = 1.0; break;
    case PL__RED_MAX: case PL__RED_LOGSUM: case PL__RED_LSE: v = -INFINITY; break;
    case PL__RED_MIN: v = INFINITY; break;
    default: v = 0.0; break;
    }
    return PL__CU(a, pl__cu_fill(pl__cuda_stream(a), a->out[0].dtype, a->out[0].data,
                                 pl__tview_numel(&a->out[0]), v));
}

static pl_status pl__reduce_run(const pl__kernel_args *a) {
    int64_t axes[PL_MAX_RANK], n, o, r, i;
    int code = pl__reduce_code(a->layer->op);
    bool noop;
    pl_status s;
    if ((s = pl__reduce_axes(a, false, axes, &n)))
        return s;
    if (pl__tview_numel(&a->out[0]) == 0)
        return PL_OK;
    if (!pl__reduce_split(a, axes, n, &o, &r, &i, &noop)) {
        /* scattered axes: gather them last in the workspace, then reduce [kept, reduced, 1] */
        pl__cu_copy c;
        size_t es = pl_dtype_size(a->in[0].dtype);
        if (!pl__reduce_gather(a, axes, n, &c, &o, &r))
            return pl__cuda_unsupported(a, "axes out of range");
        if (r == 0)
            return pl__reduce_empty(a);
        if (a->workspace_size < (size_t)(o * r) * es)
            return pl__cuda_unsupported(a, "workspace too small");
        if ((s = PL__CU(a, pl__cu_strided_copy(pl__cuda_stream(a), es, a->in[0].data, a->workspace,
                                               &c))))
            return s;
        return pl__reduce_launch(a, a->workspace, o, r, 1);
    }
    if (noop) {
        /* no axes with noop_with_empty_axes: the CPU still applies the elementwise part
         * (ReduceSumSquare squares, ReduceL1 takes |x|, ...), which a reduction over an extent
         * of 1 does too */
        if (code == PL__RED_SUM || code == PL__RED_MEAN || code == PL__RED_MAX ||
            code == PL__RED_MIN || code == PL__RED_PROD)
            return pl__copy_run(a);
        return pl__reduce_launch(a, a->in[0].data, pl__tview_numel(&a->in[0]), 1, 1);
    }
    if (r == 0)
        return pl__reduce_empty(a);
    return pl__reduce_launch(a, a->in[0].data, o, r, i);
}

/* ---- Transpose, Concat, Split, Slice, Expand, Tile ---- */

static void pl__strides(const pl__tview *t, int64_t *st) {
    int64_t acc = 1;
    for (int i = t->rank - 1; i >= 0; i--) {
        st[i] = acc;
        acc *= t->dims[i];
    }
}

static bool pl__move_supports(const pl__kernel_args *a) {
    if (!pl__es_ok(a->in[0].dtype) || a->in[0].rank > 8 || a->out[0].rank > 8)
        return pl__cuda_decline(a, "element size or rank not handled");
    return pl__small(a);
}

static pl_status pl__transpose_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    const int64_t *perm;
    int64_t np = pl__attr_ints(&a->layer->attrs, "perm", &perm), xs[PL_MAX_RANK];
    pl__cu_copy c;
    memset(&c, 0, sizeof(c));
    pl__strides(x, xs);
    c.rank = x->rank;
    for (int i = 0; i < x->rank; i++) {
        int64_t p = np == x->rank ? perm[i] : x->rank - 1 - i;
        if (p < 0 || p >= x->rank)
            return pl__cuda_unsupported(a, "bad perm");
        c.dims[i] = x->dims[p];
        c.src_st[i] = xs[p];
    }
    pl__strides(&a->out[0], c.dst_st);
    if (x->rank == 0)
        return pl__copy_run(a);
    return PL__CU(a, pl__cu_strided_copy(pl__cuda_stream(a), pl_dtype_size(x->dtype), x->data,
                                         a->out[0].data, &c));
}

/* Concat / Split: each part is a 2-D block [outer, part extent * inner] of the whole. */
static pl_status pl__concat_split(const pl__kernel_args *a, bool split) {
    const pl__tview *whole = split ? &a->in[0] : &a->out[0];
    const pl__tview *parts = split ? a->out : a->in;
    int nparts = split ? a->nout : a->nin;
    int64_t ax = pl__attr_int(&a->layer->attrs, "axis", 0), outer, inner, row, at = 0;
    size_t es = pl_dtype_size(whole->dtype);
    int axis;
    if (whole->rank == 0)
        return pl__cuda_unsupported(a, "scalar");
    axis = (int)(ax < 0 ? ax + whole->rank : ax);
    if (axis < 0 || axis >= whole->rank)
        return pl__cuda_unsupported(a, "axis out of range");
    outer = pl__numel(axis, whole->dims);
    inner = pl__numel(whole->rank - axis - 1, whole->dims + axis + 1);
    row = whole->dims[axis] * inner;
    for (int k = 0; k < nparts; k++) {
        int64_t blk;
        pl_status s;
        if (split ? !parts[k].data : parts[k].dtype == PL_DTYPE_INVALID)
            continue;
        blk = parts[k].rank == whole->rank ? parts[k].dims[axis] * inner : 0;
        if (blk > 0 && outer > 0) {
            char *w = (char *)whole->data + at * (int64_t)es;
            if (split)
                s = PL__CU(a, cudaMemcpy2DAsync(parts[k].data, (size_t)blk * es, w,
                                                (size_t)row * es, (size_t)blk * es, (size_t)outer,
                                                cudaMemcpyDeviceToDevice, pl__cuda_stream(a)));
            else
                s = PL__CU(a, cudaMemcpy2DAsync(w, (size_t)row * es, parts[k].data,
                                                (size_t)blk * es, (size_t)blk * es, (size_t)outer,
                                                cudaMemcpyDeviceToDevice, pl__cuda_stream(a)));
            if (s)
                return s;
        }
        at += blk;
    }
    return PL_OK;
}

static pl_status pl__concat_run(const pl__kernel_args *a) { return pl__concat_split(a, false); }
static pl_status pl__split_run(const pl__kernel_args *a) { return pl__concat_split(a, true); }

static bool pl__concat_supports(const pl__kernel_args *a) {
    for (int k = 0; k < a->nin; k++)
        if (a->in[k].dtype != PL_DTYPE_INVALID && a->in[k].dtype != a->out[0].dtype)
            return pl__cuda_decline(a, "inputs of one type needed");
    return pl__move_supports(a);
}

#define PL__VALUE_BYTES 4096

static pl_status pl__slice_run(const pl__kernel_args *a) {
    pl__tview hv[5];
    int64_t store[PL__VALUE_BYTES / 8], xs[PL_MAX_RANK];
    pl__slice_params p;
    pl__cu_copy c;
    pl_status s;
    const pl__tview *x = &a->in[0];
    if (a->nin > 5)
        return pl__cuda_unsupported(a, "too many inputs");
    if ((s = pl__cuda_host_values(a, hv, store, sizeof(store))) ||
        (s = pl__slice_resolve(a->layer, a->nin, hv, &p)))
        return s;
    memset(&c, 0, sizeof(c));
    pl__strides(x, xs);
    c.rank = x->rank;
    for (int i = 0; i < x->rank; i++) {
        c.dims[i] = p.count[i];
        c.src_st[i] = xs[i] * p.step[i];
        c.src_off += p.start[i] * xs[i];
        if (p.count[i] != a->out[0].dims[i])
            return pl__cuda_unsupported(a, "slice extents disagree with the output");
    }
    pl__strides(&a->out[0], c.dst_st);
    return PL__CU(a, pl__cu_strided_copy(pl__cuda_stream(a), pl_dtype_size(x->dtype), x->data,
                                         a->out[0].data, &c));
}

static pl_status pl__expand_tile(const pl__kernel_args *a, bool tile) {
    const pl__tview *x = &a->in[0], *y = &a->out[0];
    int64_t xs[PL_MAX_RANK];
    pl__cu_copy c;
    memset(&c, 0, sizeof(c));
    pl__strides(x, xs);
    c.rank = y->rank;
    for (int i = 0; i < y->rank; i++) {
        int xi = i - (y->rank - x->rank);
        int64_t xd = xi >= 0 ? x->dims[xi] : 1;
        c.dims[i] = y->dims[i];
        if (tile) {
            c.src_st[i] = xs[i];
            c.mod[i] = xd;
        } else {
            c.src_st[i] = xd == 1 ? 0 : xs[xi];
        }
    }
    pl__strides(y, c.dst_st);
    if (y->rank == 0)
        return pl__copy_run(a);
    return PL__CU(a, pl__cu_strided_copy(pl__cuda_stream(a), pl_dtype_size(x->dtype), x->data, y->data,
                                         &c));
}

static pl_status pl__expand_run(const pl__kernel_args *a) { return pl__expand_tile(a, false); }
static pl_status pl__tile_run(const pl__kernel_args *a) {
    if (a->in[0].rank != a->out[0].rank)
        return pl__cuda_unsupported(a, "rank mismatch");
    return pl__expand_tile(a, true);
}

/* ---- Gather ---- */

static bool pl__gather_supports(const pl__kernel_args *a) {
    if (a->in[1].dtype != PL_INT32 && a->in[1].dtype != PL_INT64)
        return pl__cuda_decline(a, "int32/int64 indices needed");
    return pl__move_supports(a);
}

static pl_status pl__gather_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    int64_t ax = pl__attr_int(&a->layer->attrs, "axis", 0);
    int axis = (int)(ax < 0 ? ax + x->rank : ax);
    pl__cuda_ctx *c = a->bctx;
    if (axis < 0 || axis >= x->rank)
        return pl__cuda_unsupported(a, "axis out of range");
    return PL__CU(a, pl__cu_gather(c->stream, pl_dtype_size(x->dtype), x->data, a->in[1].data,
                                   a->in[1].dtype, a->out[0].data, pl__numel(axis, x->dims),
                                   x->dims[axis],
                                   pl__numel(x->rank - axis - 1, x->dims + axis + 1),
                                   pl__tview_numel(&a->in[1]), c->flag_dev));
}

/* ---- Pad, Resize ---- */

static pl_status pl__pad_run(const pl__kernel_args *a) {
    pl__tview hv[4];
    int64_t store[PL__VALUE_BYTES / 8];
    pl__pad_params p;
    const pl__tview *x = &a->in[0], *y = &a->out[0];
    const void *vdev = NULL;
    uint64_t vbits = 0;
    pl_status s;
    if (a->nin > 4)
        return pl__cuda_unsupported(a, "too many inputs");
    if ((s = pl__cuda_host_values(a, hv, store, sizeof(store))))
        return s;
    if (a->nin > 2)
        hv[2].data = NULL; /* device memory: the kernel reads the constant itself */
    if ((s = pl__pad_resolve(a->layer, a->nin, hv, &p)))
        return s;
    if (a->nin > 2 && a->in[2].data && a->in[2].dtype == x->dtype && pl__tview_numel(&a->in[2]))
        vdev = a->in[2].data;
    else
        pl__set_f64(&vbits, x->dtype, 0, p.value);
    if (pl__tview_numel(y) == 0)
        return PL_OK;
    if (y->rank == 0)
        return pl__copy_run(a);
    return PL__CU(a, pl__cu_pad(pl__cuda_stream(a), pl_dtype_size(x->dtype), x->data, y->data, y->rank,
                                x->dims, y->dims, p.begin, (int)p.mode, vdev, vbits));
}

static bool pl__pad_supports(const pl__kernel_args *a) {
    /* An explicit constant_value is read on the device (pl__pad_run): shape inference, which the
     * runtime hands host data only (NULL for a device activation), needs nothing but its dtype. */
    if (a->in[0].rank < 1)
        return pl__cuda_decline(a, "scalar");
    return pl__move_supports(a);
}

/* Resize and Upsample (opsets 7-9: scales as attribute or input 1; Resize-10 is the same
 * two-input form). Antialias only changes linear/cubic downsampling, which the shared resolver
 * refuses on every backend, so an antialiased layer that resolves is a plain one. */
static bool pl__resize_supports(const pl__kernel_args *a) {
    const char *mode = pl__attr_string(&a->layer->attrs, "mode", "nearest");
    if (!pl__cuda_flt(a->in[0].dtype))
        return pl__cuda_decline(a, "float32/float16 only");
    if (strcmp(mode, "nearest") && strcmp(mode, "linear") && strcmp(mode, "bilinear") &&
        strcmp(mode, "cubic"))
        return pl__cuda_decline(a, "nearest, linear and cubic modes only");
    if (a->in[0].rank < 1 || a->in[0].rank > 8)
        return pl__cuda_decline(a, "rank 1 to 8 only");
    return pl__move_supports(a);
}

static pl_status pl__resize_run(const pl__kernel_args *a) {
    pl__tview hv[4];
    int64_t store[PL__VALUE_BYTES / 8];
    pl__resize_params p;
    pl__cu_resize r;
    const pl__tview *x = &a->in[0], *y = &a->out[0];
    pl_status s;
    if (a->nin > 4)
        return pl__cuda_unsupported(a, "too many inputs");
    if ((s = pl__cuda_host_values(a, hv, store, sizeof(store))) ||
        (s = pl__resize_resolve(a->layer, a->nin, hv, &p)))
        return s;
    if (x->rank != y->rank || x->rank < 1 || x->rank > 8)
        return pl__cuda_unsupported(a, "rank mismatch or rank above 8");
    for (int i = 0; i < x->rank; i++)
        if (p.out[i] != y->dims[i])
            return pl__cuda_unsupported(a, "output shape disagrees with the resolved sizes");
    if (pl__tview_numel(y) == 0)
        return PL_OK;
    if (pl__tview_numel(x) == 0)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (%s): cannot resize an empty input to a "
                        "non-empty output", pl__layer_label(a->layer), a->layer->op);
    memset(&r, 0, sizeof(r));
    r.rank = x->rank;
    r.mode = p.mode == PL__RESIZE_NEAREST ? 0 : p.mode == PL__RESIZE_LINEAR ? 1 : 2;
    r.coord = (int)p.coord;
    r.round = (int)p.round;
    r.exclude_outside = p.exclude_outside;
    r.extrapolation = (float)p.extrapolation;
    r.cubic_a = p.cubic_a;
    for (int i = 0; i < x->rank; i++) {
        r.in[i] = x->dims[i];
        r.out[i] = y->dims[i];
        r.scale[i] = p.scale[i];
        r.roi_start[i] = p.roi_start[i];
        r.roi_end[i] = p.roi_end[i];
    }
    return PL__CU(a, pl__cu_resize_run(pl__cuda_stream(a), x->dtype, x->data, y->data, &r));
}

/* ---- the table ---- */

#define PL__UN_K(name) {.op = name, .run = pl__unary_run, .supports = pl__unary_supports}
#define PL__BIN_K(name) {.op = name, .run = pl__binary_run, .supports = pl__binary_supports}
#define PL__RED_K(name)                                                                            \
    {.op = name, .run = pl__reduce_run, .supports = pl__reduce_supports,                           \
     .workspace = pl__reduce_workspace}

const pl__kernel_def pl__cuda_kernels_ops[] = {
    PL__UN_K("Relu"), PL__UN_K("LeakyRelu"), PL__UN_K("Sigmoid"), PL__UN_K("Tanh"),
    PL__UN_K("HardSigmoid"), PL__UN_K("HardSwish"), PL__UN_K("Abs"), PL__UN_K("Neg"),
    PL__UN_K("Exp"), PL__UN_K("Log"), PL__UN_K("Sqrt"), PL__UN_K("Reciprocal"), PL__UN_K("Floor"),
    PL__UN_K("Ceil"), PL__UN_K("Round"), PL__UN_K("Sin"), PL__UN_K("Cos"), PL__UN_K("Tan"),
    PL__UN_K("Asin"), PL__UN_K("Acos"), PL__UN_K("Atan"), PL__UN_K("Sinh"), PL__UN_K("Cosh"),
    PL__UN_K("Asinh"), PL__UN_K("Acosh"), PL__UN_K("Atanh"), PL__UN_K("Erf"), PL__UN_K("Gelu"),
    PL__UN_K("Softplus"), PL__UN_K("Softsign"), PL__UN_K("Elu"), PL__UN_K("Selu"),
    PL__UN_K("Celu"), PL__UN_K("Mish"), PL__UN_K("ThresholdedRelu"), PL__UN_K("Sign"),
    {.op = "Clip", .run = pl__clip_run, .supports = pl__clip_supports},
    PL__BIN_K("Add"), PL__BIN_K("Sub"), PL__BIN_K("Mul"), PL__BIN_K("Div"), PL__BIN_K("Pow"),
    PL__BIN_K("PRelu"), PL__BIN_K("Equal"), PL__BIN_K("Less"), PL__BIN_K("Greater"),
    PL__BIN_K("LessOrEqual"), PL__BIN_K("GreaterOrEqual"), PL__BIN_K("And"), PL__BIN_K("Or"),
    PL__BIN_K("Xor"), PL__BIN_K("Sum"), PL__BIN_K("Mean"), PL__BIN_K("Min"), PL__BIN_K("Max"),
    {.op = "Where", .run = pl__where_run, .supports = pl__where_supports},
    {.op = "Cast", .run = pl__cast_run, .supports = pl__cast_supports},
    {.op = "CastLike", .run = pl__cast_run, .supports = pl__cast_supports},
    {.op = "Identity", .run = pl__copy_run, .supports = pl__copy_supports},
    {.op = "Reshape", .run = pl__copy_run, .supports = pl__copy_supports},
    {.op = "Flatten", .run = pl__copy_run, .supports = pl__copy_supports},
    {.op = "Squeeze", .run = pl__copy_run, .supports = pl__copy_supports},
    {.op = "Unsqueeze", .run = pl__copy_run, .supports = pl__copy_supports},
    {.op = "MaxPool", .run = pl__pool_run, .supports = pl__pool_supports},
    {.op = "AveragePool", .run = pl__pool_run, .supports = pl__pool_supports},
    {.op = "GlobalAveragePool", .run = pl__gpool_run, .supports = pl__gpool_supports},
    {.op = "GlobalMaxPool", .run = pl__gpool_run, .supports = pl__gpool_supports},
    {.op = "BatchNormalization", .run = pl__bn_run, .supports = pl__bn_supports},
    {.op = "LayerNormalization", .run = pl__ln_run, .supports = pl__ln_supports},
    {.op = "Softmax", .run = pl__softmax_run, .supports = pl__softmax_supports},
    {.op = "LogSoftmax", .run = pl__softmax_run, .supports = pl__softmax_supports},
    PL__RED_K("ReduceSum"), PL__RED_K("ReduceMean"), PL__RED_K("ReduceMax"),
    PL__RED_K("ReduceMin"), PL__RED_K("ReduceProd"), PL__RED_K("ReduceL1"), PL__RED_K("ReduceL2"),
    PL__RED_K("ReduceSumSquare"), PL__RED_K("ReduceLogSum"), PL__RED_K("ReduceLogSumExp"),
    {.op = "Transpose", .run = pl__transpose_run, .supports = pl__move_supports},
    {.op = "Concat", .run = pl__concat_run, .supports = pl__concat_supports},
    {.op = "Split", .run = pl__split_run, .supports = pl__move_supports},
    {.op = "Slice", .run = pl__slice_run, .supports = pl__move_supports},
    {.op = "Expand", .run = pl__expand_run, .supports = pl__move_supports},
    {.op = "Tile", .run = pl__tile_run, .supports = pl__move_supports},
    {.op = "Gather", .run = pl__gather_run, .supports = pl__gather_supports},
    {.op = "Pad", .run = pl__pad_run, .supports = pl__pad_supports},
    {.op = "Resize", .run = pl__resize_run, .supports = pl__resize_supports},
    {.op = "Upsample", .run = pl__resize_run, .supports = pl__resize_supports},
    {0},
};
