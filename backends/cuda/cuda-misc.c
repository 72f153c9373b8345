/*
 * cuda-misc.c - host side of the GPU kernels for small ops that used to fall back to the CPU
 * inside CUDA engines: IsNaN, IsInf, Not, Mod, ConstantOfShape, Range, Trilu and
 * LpNormalization. Device code is in cuda-misc.cu. supports() declines what the device code does
 * not handle, so that the CPU runs it. ConstantOfShape and Range fill their output on the device
 * from scalars resolved on the host (the build's "cuda.values.<k>" records or the runtime's host
 * copies), never by copying host data; Trilu reads its k on the device, since k is not a value
 * input and a read-back would synchronise (and break graph capture).
 */
#include <string.h>

#include "backends/cuda/cuda-internal.h"
#include "backends/cuda/cuda-misc.cuh"

static bool pl__mflt(pl_dtype t) {
    return t == PL_FLOAT32 || t == PL_FLOAT16 || t == PL_BFLOAT16 || t == PL_FLOAT64;
}

static bool pl__mint(pl_dtype t) {
    return t == PL_INT8 || t == PL_UINT8 || t == PL_INT32 || t == PL_INT64;
}

static bool pl__mes_ok(size_t es) { return es == 1 || es == 2 || es == 4 || es == 8; }

/* ---- IsNaN / IsInf / Not ---- */

static int pl__un_code(const pl__kernel_args *a) {
    const char *op = a->layer->op;
    return strcmp(op, "Not") == 0 ? PL__MISC_NOT
           : strcmp(op, "IsInf") == 0 ? PL__MISC_ISINF
                                      : PL__MISC_ISNAN;
}

static bool pl__un_supports(const pl__kernel_args *a) {
    pl_dtype t = a->in[0].dtype;
    if (a->out[0].dtype != PL_BOOL)
        return pl__cuda_decline(a, "output must be bool");
    if (pl__un_code(a) == PL__MISC_NOT ? t != PL_BOOL : !pl__mflt(t))
        return pl__cuda_decline(a, pl__un_code(a) == PL__MISC_NOT
                                   ? "input must be bool"
                                   : "input must be float32/float16/bfloat16/float64");
    return true;
}

static pl_status pl__un_run(const pl__kernel_args *a) {
    const pl__attrs *at = &a->layer->attrs;
    /* read as floats, like the CPU kernel (an INT attribute converts) */
    int pos = pl__attr_float(at, "detect_positive", 1) != 0;
    int neg = pl__attr_float(at, "detect_negative", 1) != 0;
    return PL__CU(a, pl__cu_misc_unary(pl__cuda_stream(a), pl__un_code(a), a->in[0].dtype,
                                       a->in[0].data, a->out[0].data,
                                       pl__tview_numel(&a->in[0]), pos, neg));
}

/* ---- Mod ---- */

static bool pl__mod_supports(const pl__kernel_args *a) {
    pl_dtype t = a->in[0].dtype;
    if (!(pl__mflt(t) || pl__mint(t)) || a->in[1].dtype != t || a->out[0].dtype != t)
        return pl__cuda_decline(a, "operands and output must share one of float32/float16/bfloat16/"
                               "float64/int8/uint8/int32/int64");
    if (pl__attr_string(&a->layer->attrs, "activation", NULL))
        return pl__cuda_decline(a, "a fused activation is not handled");
    if (pl__cuda_nhwc(a->layer))
        return pl__cuda_decline(a, "channels-last storage is not handled");
    if (a->out[0].rank > PL__CU_MAX_RANK)
        return pl__cuda_decline(a, "rank too high");
    return true;
}

static pl_status pl__mod_run(const pl__kernel_args *a) {
    const pl__tview *ops[2] = {&a->in[0], &a->in[1]};
    const pl__tview *y = &a->out[0];
    int64_t n = pl__tview_numel(y);
    int c_fmod = pl__attr_int(&a->layer->attrs, "fmod", 0) != 0;
    pl__cu_bcast bc;
    int m;
    if (n == 0)
        return PL_OK;
    if (y->rank > PL__CU_MAX_RANK)
        return pl__cuda_unsupported(a, "rank too high");
    memset(&bc, 0, sizeof(bc));
    pl__broadcast_geometry(y, ops, 2, &m, bc.dims, bc.st);
    bc.rank = m;
    bc.nops = 2;
    return PL__CU(a, pl__cu_misc_mod(pl__cuda_stream(a), y->dtype, c_fmod, a->in[0].data,
                                     a->in[1].data, y->data, &bc, n));
}

/* ---- ConstantOfShape ---- */

static bool pl__cos_supports(const pl__kernel_args *a) {
    const pl_attr *v = pl__attrs_find(&a->layer->attrs, "value");
    size_t es = pl_dtype_size(a->out[0].dtype);
    if (!pl__mes_ok(es))
        return pl__cuda_decline(a, "elements must be 1, 2, 4 or 8 bytes");
    if (v && (v->type != PL_ATTR_BYTES || (size_t)v->count != es))
        return pl__cuda_decline(a, "attribute 'value' does not hold one element");
    return true;
}

static pl_status pl__cos_run(const pl__kernel_args *a) {
    const pl__tview *y = &a->out[0];
    const pl_attr *v = pl__attrs_find(&a->layer->attrs, "value");
    size_t es = pl_dtype_size(y->dtype);
    uint64_t bits = 0;
    if (!pl__mes_ok(es))
        return pl__cuda_unsupported(a, "elements must be 1, 2, 4 or 8 bytes");
    if (v && (v->type != PL_ATTR_BYTES || (size_t)v->count != es))
        return pl__fail(PL_ERR_SHAPE, "node '%s' (ConstantOfShape): attribute 'value' does not "
                        "hold one element", pl__layer_label(a->layer));
    if (v) /* the element's bytes as they lie in memory (little-endian host and device) */
        memcpy(&bits, v->bytes, es);
    return PL__CU(a,
                  pl__cu_misc_fill(pl__cuda_stream(a), es, bits, y->data, pl__tview_numel(y)));
}

/* ---- Range ---- */

static bool pl__range_supports(const pl__kernel_args *a) {
    pl_dtype t = a->out[0].dtype;
    if (!(pl__mflt(t) || pl__mint(t)))
        return pl__cuda_decline(a, "type must be float32/float16/bfloat16/float64/int8/uint8/int32/"
                               "int64");
    for (int k = 0; k < 3; k++)
        if (a->in[k].dtype != t)
            return pl__cuda_decline(a, "start, limit and delta must have the output's type");
    return true;
}

static pl_status pl__range_run(const pl__kernel_args *a) {
    const pl__tview *y = &a->out[0];
    int64_t n = pl__tview_numel(y), ib = 0, id = 0;
    double fb = 0, fd = 0;
    pl_status s;
    if (n == 0)
        return PL_OK;
    if (pl__mint(y->dtype)) {
        if ((s = pl__cuda_scalar_i64(a, 0, &ib)) || (s = pl__cuda_scalar_i64(a, 2, &id)))
            return s;
    } else if ((s = pl__cuda_scalar_f64(a, 0, &fb)) || (s = pl__cuda_scalar_f64(a, 2, &fd))) {
        return s;
    }
    return PL__CU(a,
                  pl__cu_misc_range(pl__cuda_stream(a), y->dtype, fb, fd, ib, id, y->data, n));
}

/* ---- Trilu ---- */

static bool pl__trilu_supports(const pl__kernel_args *a) {
    if (!pl__mes_ok(pl_dtype_size(a->in[0].dtype)))
        return pl__cuda_decline(a, "elements must be 1, 2, 4 or 8 bytes");
    if (a->in[0].rank < 2)
        return pl__cuda_decline(a, "input rank must be >= 2");
    if (a->nin > 1 && a->in[1].dtype != PL_DTYPE_INVALID && a->in[1].dtype != PL_INT64 &&
        a->in[1].dtype != PL_INT32)
        return pl__cuda_decline(a, "k must be int64 or int32");
    if (pl__cuda_nhwc(a->layer))
        return pl__cuda_decline(a, "channels-last storage is not handled");
    return true;
}

static pl_status pl__trilu_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    const void *kp = NULL;
    pl_dtype kt = PL_INT64;
    int64_t R, C;
    if (x->rank < 2)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (Trilu): input rank must be >= 2",
                        pl__layer_label(a->layer));
    R = x->dims[x->rank - 2];
    C = x->dims[x->rank - 1];
    if (R == 0 || C == 0)
        return PL_OK;
    /* as the CPU: k applies only when it holds one value (shape inference insists on it) */
    if (a->nin > 1 && a->in[1].data && pl__tview_numel(&a->in[1]) == 1) {
        kp = a->in[1].data;
        kt = a->in[1].dtype;
        if (kt != PL_INT64 && kt != PL_INT32)
            return pl__cuda_unsupported(a, "k must be int64 or int32");
    }
    return PL__CU(a, pl__cu_misc_trilu(pl__cuda_stream(a), pl_dtype_size(x->dtype), x->data,
                                       a->out[0].data, pl__tview_numel(x) / (R * C), R, C, kp,
                                       kt, pl__attr_int(&a->layer->attrs, "upper", 1) != 0));
}

/* ---- LpNormalization ---- */

/* [outer, n, inner] around the axis; false for an axis out of range or a bad p. */
static bool pl__lp_geom(const pl__kernel_args *a, int64_t *outer, int64_t *n, int64_t *inner,
                        int *p) {
    const pl__tview *x = &a->in[0];
    int64_t ax = pl__attr_int(&a->layer->attrs, "axis", -1);
    int64_t pp = pl__attr_int(&a->layer->attrs, "p", 2);
    int axis;
    if (x->rank == 0 || ax < -x->rank || ax >= x->rank || (pp != 1 && pp != 2))
        return false;
    axis = (int)(ax < 0 ? ax + x->rank : ax);
    *outer = pl__numel(axis, x->dims);
    *n = x->dims[axis];
    *inner = pl__numel(x->rank - axis - 1, x->dims + axis + 1);
    *p = (int)pp;
    return true;
}

static bool pl__lp_supports(const pl__kernel_args *a) {
    int64_t o, n, i;
    int p;
    if (!pl__cuda_flt(a->in[0].dtype) || a->out[0].dtype != a->in[0].dtype)
        return pl__cuda_decline(a, "float32/float16 only");
    if (!pl__lp_geom(a, &o, &n, &i, &p))
        return pl__cuda_decline(a, "axis out of range or p not 1 or 2");
    if (pl__cuda_nhwc(a->layer))
        return pl__cuda_decline(a, "channels-last storage is not handled");
    return true;
}

static pl_status pl__lp_run(const pl__kernel_args *a) {
    int64_t outer, n, inner;
    int p;
    if (!pl__lp_geom(a, &outer, &n, &inner, &p))
        return pl__fail(PL_ERR_SHAPE, "node '%s' (LpNormalization): axis out of range or p not "
                        "1 or 2", pl__layer_label(a->layer));
    return PL__CU(a, pl__cu_misc_lpnorm(pl__cuda_stream(a), a->in[0].dtype, a->in[0].data,
                                        a->out[0].data, outer, n, inner, p));
}

const pl__kernel_def pl__cuda_kernels_misc[] = {
    {.op = "IsNaN", .run = pl__un_run, .supports = pl__un_supports},
    {.op = "IsInf", .run = pl__un_run, .supports = pl__un_supports},
    {.op = "Not", .run = pl__un_run, .supports = pl__un_supports},
    {.op = "Mod", .run = pl__mod_run, .supports = pl__mod_supports},
    {.op = "ConstantOfShape", .run = pl__cos_run, .supports = pl__cos_supports},
    {.op = "Range", .run = pl__range_run, .supports = pl__range_supports},
    {.op = "Trilu", .run = pl__trilu_run, .supports = pl__trilu_supports},
    {.op = "LpNormalization", .run = pl__lp_run, .supports = pl__lp_supports},
    {0},
};
