/*
 * cuda-extra.c - host side of the GPU kernels for ops that used to fall back to the CPU inside
 * CUDA engines: ArgMax, ArgMin, TopK, CumSum, GatherElements, ScatterElements, OneHot,
 * DepthToSpace, SpaceToDepth and NonZero. Device code is in cuda-extra.cu (and the strided copy of
 * cuda-shape.cu for the depth/space moves). supports() declines what the device code does not
 * handle, so that the CPU runs it; out-of-range indices raise the context's data-error flag,
 * which the next synchronisation reports.
 */
#include <stdint.h>
#include <string.h>

#include "backends/cuda/cuda-extra.cuh"
#include "backends/cuda/cuda-internal.h"
#include "backends/cuda/cuda-shape.cuh"

/* The storage types the numeric kernels instantiate. */
static bool pl__xnum(pl_dtype t) {
    return t == PL_FLOAT32 || t == PL_FLOAT16 || t == PL_INT32 || t == PL_INT64;
}

static bool pl__xidx(pl_dtype t) { return t == PL_INT32 || t == PL_INT64; }

/* Resolves an axis attribute or value against rank; false when out of range. */
static bool pl__xaxis(int64_t ax, int rank, int *axis) {
    if (ax < -rank || ax >= rank)
        return false;
    *axis = (int)(ax < 0 ? ax + rank : ax);
    return true;
}

/* [outer, r, inner] around axis. */
static void pl__xsplit(const pl__tview *x, int axis, int64_t *outer, int64_t *r, int64_t *inner) {
    *outer = pl__numel(axis, x->dims);
    *r = x->dims[axis];
    *inner = pl__numel(x->rank - axis - 1, x->dims + axis + 1);
}

/* ---- ArgMax / ArgMin ---- */

static bool pl__arg_supports(const pl__kernel_args *a) {
    int axis;
    if (!pl__xnum(a->in[0].dtype) || a->out[0].dtype != PL_INT64)
        return pl__cuda_decline(a, "input must be float32/float16/int32/int64, output int64");
    if (a->in[0].rank == 0 ||
        !pl__xaxis(pl__attr_int(&a->layer->attrs, "axis", 0), a->in[0].rank, &axis))
        return pl__cuda_decline(a, "axis out of range");
    return true;
}

static pl_status pl__arg_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    int64_t outer, r, inner;
    int axis;
    if (x->rank == 0 || !pl__xaxis(pl__attr_int(&a->layer->attrs, "axis", 0), x->rank, &axis))
        return pl__cuda_unsupported(a, "axis out of range");
    pl__xsplit(x, axis, &outer, &r, &inner);
    return PL__CU(a, pl__cu_argminmax(pl__cuda_stream(a), x->dtype, x->data, a->out[0].data, outer, r,
                                      inner, strcmp(a->layer->op, "ArgMax") == 0,
                                      pl__attr_int(&a->layer->attrs, "select_last_index", 0) != 0));
}

/* ---- TopK ----
 * Rows up to PL__CU_TOPK_MAX long: one block ranks a row in shared memory. Longer rows (the
 * anchors of detection heads, 1e5..1e6): a radix sort in the workspace, sized at engine creation
 * from the profile's max shapes. */

static bool pl__topk_geometry(const pl__kernel_args *a, int64_t *outer, int64_t *n,
                              int64_t *inner) {
    int axis;
    if (a->in[0].rank == 0 ||
        !pl__xaxis(pl__attr_int(&a->layer->attrs, "axis", -1), a->in[0].rank, &axis))
        return false;
    pl__xsplit(&a->in[0], axis, outer, n, inner);
    return true;
}

static bool pl__topk_supports(const pl__kernel_args *a) {
    int64_t outer, n, inner;
    if (!pl__xnum(a->in[0].dtype) || a->nout != 2 || a->out[0].dtype != a->in[0].dtype ||
        a->out[1].dtype != PL_INT64)
        return pl__cuda_decline(a, "input must be float32/float16/int32/int64, indices int64");
    if (!pl__topk_geometry(a, &outer, &n, &inner))
        return pl__cuda_decline(a, "axis out of range");
    if (n > PL__CU_TOPK_MAX && outer * inner > 0 && (outer > INT32_MAX / n ||
                                                      outer * n > INT32_MAX / inner)) {
        pl__cuda_unsupported(a, "%lld elements exceed the sort's 32-bit offsets",
                             (long long)(outer * n * inner));
        return false;
    }
    return true;
}

static size_t pl__topk_workspace(const pl__kernel_args *a) {
    int64_t outer, n, inner;
    size_t bytes = 0;
    if (!pl__topk_geometry(a, &outer, &n, &inner))
        return 0;
    /* no device error to report here: the run checks the size again and fails with a message */
    if (pl__cu_topk_big_workspace(a->in[0].dtype, outer, n, inner, 1, &bytes) != cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return bytes;
}

static pl_status pl__topk_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    int64_t outer, n, inner, k;
    size_t need = 0;
    pl_status s;
    if (!pl__topk_geometry(a, &outer, &n, &inner))
        return pl__cuda_unsupported(a, "axis out of range");
    if (a->nin > 1 && a->in[1].data) {
        if ((s = pl__cuda_scalar_i64(a, 1, &k)))
            return s;
    } else {
        k = pl__attr_int(&a->layer->attrs, "k", 0);
    }
    if (k < 0 || k > n)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (TopK): K=%lld is out of range for extent %lld",
                        pl__layer_label(a->layer), (long long)k, (long long)n);
    if (n <= PL__CU_TOPK_MAX)
        return PL__CU(a, pl__cu_topk(pl__cuda_stream(a), x->dtype, x->data, a->out[0].data,
                                     a->out[1].data, outer, n, inner, k,
                                     pl__attr_int(&a->layer->attrs, "largest", 1) != 0));
    if (k == 0 || outer * inner == 0)
        return PL_OK;
    if ((s = PL__CU(a, pl__cu_topk_big_workspace(x->dtype, outer, n, inner, 0, &need))))
        return s;
    if (need > a->workspace_size)
        return pl__cuda_unsupported(a, "the sort needs %zu bytes of workspace, %zu were planned",
                                    need, a->workspace_size);
    return PL__CU(a, pl__cu_topk_big(pl__cuda_stream(a), x->dtype, x->data, a->out[0].data,
                                     a->out[1].data, outer, n, inner, k,
                                     pl__attr_int(&a->layer->attrs, "largest", 1) != 0,
                                     a->workspace, a->workspace_size));
}

/* ---- CumSum ---- */

static bool pl__cumsum_supports(const pl__kernel_args *a) {
    if (!(pl__xnum(a->in[0].dtype) || a->in[0].dtype == PL_FLOAT64) ||
        a->out[0].dtype != a->in[0].dtype)
        return pl__cuda_decline(a, "input must be float32/float16/float64/int32/int64");
    if (a->in[0].rank == 0)
        return pl__cuda_decline(a, "input must have rank >= 1");
    return true;
}

static pl_status pl__cumsum_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    int64_t outer, r, inner, ax;
    int axis;
    pl_status s;
    if ((s = pl__cuda_scalar_i64(a, 1, &ax)))
        return s;
    if (x->rank == 0 || !pl__xaxis(ax, x->rank, &axis))
        return pl__fail(PL_ERR_SHAPE, "node '%s' (CumSum): axis %lld is out of range for rank %d",
                        pl__layer_label(a->layer), (long long)ax, x->rank);
    pl__xsplit(x, axis, &outer, &r, &inner);
    return PL__CU(a, pl__cu_cumsum(pl__cuda_stream(a), x->dtype, x->data, a->out[0].data, outer, r,
                                   inner, pl__attr_int(&a->layer->attrs, "exclusive", 0) != 0,
                                   pl__attr_int(&a->layer->attrs, "reverse", 0) != 0));
}

/* After an index-checking launch: outside a graph capture, waits and reports a raised data-error
 * flag naming this node (the flag is otherwise reported, without the node, by the next sync). */
static pl_status pl__xindex_check(const pl__kernel_args *a, int64_t n, pl_status launched) {
    pl__cuda_ctx *c = pl__cuda_ctx_of(a);
    enum cudaStreamCaptureStatus cap = cudaStreamCaptureStatusNone;
    pl_status s;
    if (launched)
        return launched;
    if ((s = PL__CU(a, cudaStreamIsCapturing(c->stream, &cap))) ||
        cap != cudaStreamCaptureStatusNone)
        return s;
    if ((s = PL__CU(a, cudaStreamSynchronize(c->stream))))
        return s;
    if (*c->flag) {
        *c->flag = 0;
        return pl__fail(PL_ERR_INVALID_ARG, "node '%s' (%s): an index is out of range along "
                        "the axis (outside [-%lld, %lld])", pl__layer_label(a->layer),
                        a->layer->op, (long long)n, (long long)(n - 1));
    }
    return PL_OK;
}

/* ---- GatherElements / ScatterElements ---- */

/* Geometry shared by both; false (with the reason in *why) when the shapes do not fit. */
static bool pl__elem_geom(const pl__kernel_args *a, pl__cu_elem *g, const char **why) {
    const pl__tview *x = &a->in[0], *ix = &a->in[1];
    int axis;
    int64_t st = 1;
    size_t es = pl_dtype_size(x->dtype);
    if (!(es == 1 || es == 2 || es == 4 || es == 8) || !pl__xidx(ix->dtype)) {
        *why = "data must have 1-, 2-, 4- or 8-byte elements and indices int32/int64";
        return false;
    }
    if (x->rank == 0 || x->rank > 8 || ix->rank != x->rank ||
        !pl__xaxis(pl__attr_int(&a->layer->attrs, "axis", 0), x->rank, &axis)) {
        *why = "bad ranks or axis (rank 1..8)";
        return false;
    }
    for (int i = 0; i < x->rank; i++)
        if (i != axis && ix->dims[i] > x->dims[i]) {
            *why = "indices exceed the data off the axis";
            return false;
        }
    memset(g, 0, sizeof(*g));
    g->rank = x->rank;
    g->axis = axis;
    g->axis_dim = x->dims[axis];
    for (int i = x->rank - 1; i >= 0; i--) {
        g->idims[i] = ix->dims[i];
        g->xst[i] = st;
        st *= x->dims[i];
    }
    return true;
}

static bool pl__gel_supports(const pl__kernel_args *a) {
    pl__cu_elem g;
    const char *why = NULL;
    if (!pl__elem_geom(a, &g, &why))
        return pl__cuda_decline(a, why);
    return true;
}

static pl_status pl__gel_run(const pl__kernel_args *a) {
    pl__cu_elem g;
    const char *why = NULL;
    pl_status s;
    if (!pl__elem_geom(a, &g, &why))
        return pl__fail(PL_ERR_SHAPE, "node '%s' (GatherElements): %s",
                        pl__layer_label(a->layer), why);
    s = PL__CU(a, pl__cu_gather_elements(pl__cuda_stream(a), pl_dtype_size(a->in[0].dtype),
                                         a->in[0].data, a->in[1].data, a->in[1].dtype,
                                         a->out[0].data, &g, pl__cuda_ctx_of(a)->flag_dev));
    return pl__xindex_check(a, g.axis_dim, s);
}

static int pl__sca_red(const pl__kernel_args *a) {
    static const char *const reds[] = {"none", "add", "mul", "max", "min"};
    const char *red = pl__attr_string(&a->layer->attrs, "reduction", "none");
    for (int i = 0; i < 5; i++)
        if (strcmp(red, reds[i]) == 0)
            return i;
    return -1;
}

static bool pl__sca_check(const pl__kernel_args *a, pl__cu_elem *g, const char **why) {
    const pl__tview *ix = &a->in[1], *u = &a->in[2];
    int red = pl__sca_red(a);
    if (!pl__elem_geom(a, g, why))
        return false;
    if (red < 0 || (red > 0 && !pl__xnum(a->in[0].dtype))) {
        *why = "reduction must be none/add/mul/max/min, reductions on float32/float16/int32/int64";
        return false;
    }
    if (u->dtype != a->in[0].dtype || u->rank != ix->rank ||
        memcmp(u->dims, ix->dims, sizeof(int64_t) * (size_t)ix->rank)) {
        *why = "updates must match the indices' shape and the data's type";
        return false;
    }
    return true;
}

static bool pl__sca_supports(const pl__kernel_args *a) {
    pl__cu_elem g;
    const char *why = NULL;
    if (a->nin != 3 || !pl__sca_check(a, &g, &why))
        return pl__cuda_decline(a, why ? why : "expected 3 inputs");
    return true;
}

static pl_status pl__sca_run(const pl__kernel_args *a) {
    pl__cu_elem g;
    const char *why = NULL;
    const pl__tview *x = &a->in[0];
    pl_status s;
    if (a->nin != 3 || !pl__sca_check(a, &g, &why))
        return pl__fail(PL_ERR_SHAPE, "node '%s' (ScatterElements): %s",
                        pl__layer_label(a->layer), why ? why : "expected 3 inputs");
    if (a->out[0].data != x->data &&
        (s = PL__CU(a, cudaMemcpyAsync(a->out[0].data, x->data, pl__tview_bytes(x),
                                       cudaMemcpyDeviceToDevice, pl__cuda_stream(a)))))
        return s;
    s = PL__CU(a, pl__cu_scatter_elements(pl__cuda_stream(a), x->dtype, a->in[1].data, a->in[1].dtype,
                                          a->in[2].data, a->out[0].data, &g, pl__sca_red(a),
                                          pl__cuda_ctx_of(a)->flag_dev));
    return pl__xindex_check(a, g.axis_dim, s);
}

/* ---- OneHot ---- */

static bool pl__onehot_supports(const pl__kernel_args *a) {
    size_t es = pl_dtype_size(a->out[0].dtype);
    pl_dtype it = a->in[0].dtype;
    if (!(es == 1 || es == 2 || es == 4 || es == 8) || a->in[2].dtype != a->out[0].dtype)
        return pl__cuda_decline(a, "values must have 1-, 2-, 4- or 8-byte elements");
    if (!(pl__xidx(it) || it == PL_FLOAT32))
        return pl__cuda_decline(a, "indices must be int32, int64 or float32");
    return true;
}

static pl_status pl__onehot_run(const pl__kernel_args *a) {
    const pl__tview *ix = &a->in[0], *y = &a->out[0];
    int64_t depth, outer, inner;
    int axis;
    pl_status s;
    if ((s = pl__cuda_scalar_i64(a, 1, &depth)))
        return s;
    if (pl__tview_numel(&a->in[2]) != 2 ||
        !pl__xaxis(pl__attr_int(&a->layer->attrs, "axis", -1), y->rank, &axis) ||
        y->dims[axis] != depth || ix->rank != y->rank - 1)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (OneHot): axis, depth or values disagree with "
                        "the output", pl__layer_label(a->layer));
    outer = pl__numel(axis, ix->dims);
    inner = pl__numel(ix->rank - axis, ix->dims + axis);
    return PL__CU(a, pl__cu_onehot(pl__cuda_stream(a), pl_dtype_size(y->dtype), ix->data, ix->dtype,
                                   a->in[2].data, y->data, outer, depth, inner));
}

/* ---- DepthToSpace / SpaceToDepth: one strided copy over the output's 6-D view ---- */

static bool pl__ds_plan(const pl__kernel_args *a, pl__cu_copy *c) {
    const pl__tview *x = &a->in[0];
    bool to_space = strcmp(a->layer->op, "DepthToSpace") == 0;
    bool crd = strcmp(pl__attr_string(&a->layer->attrs, "mode", "DCR"), "CRD") == 0;
    int64_t b = pl__attr_int(&a->layer->attrs, "blocksize", 0), N, C, H, W, st = 1;
    if (x->rank != 4 || b < 1)
        return false;
    N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    if (to_space ? C % (b * b) != 0 : (H % b != 0 || W % b != 0))
        return false;
    memset(c, 0, sizeof(*c));
    c->rank = 6;
    if (to_space) {
        /* output [N, C', H, b, W, b] row-major == [N, C', H*b, W*b] */
        int64_t c2 = C / (b * b);
        int64_t v[6] = {N, c2, H, b, W, b};
        int64_t dcr[6] = {C * H * W, H * W, W, b * c2 * H * W, 1, c2 * H * W};
        int64_t crdv[6] = {C * H * W, b * b * H * W, W, b * H * W, 1, H * W};
        for (int i = 0; i < 6; i++) {
            c->dims[i] = v[i];
            c->src_st[i] = crd ? crdv[i] : dcr[i];
        }
    } else {
        /* output [N, b, b, C, H', W'] row-major == [N, C*b*b, H', W'] */
        int64_t v[6] = {N, b, b, C, H / b, W / b};
        int64_t sv[6] = {C * H * W, W, 1, H * W, b * W, b};
        for (int i = 0; i < 6; i++) {
            c->dims[i] = v[i];
            c->src_st[i] = sv[i];
        }
    }
    for (int i = 5; i >= 0; i--) {
        c->dst_st[i] = st;
        st *= c->dims[i];
    }
    return true;
}

static bool pl__ds_supports(const pl__kernel_args *a) {
    pl__cu_copy c;
    size_t es = pl_dtype_size(a->in[0].dtype);
    if (!(es == 1 || es == 2 || es == 4 || es == 8))
        return pl__cuda_decline(a, "elements must be 1, 2, 4 or 8 bytes");
    if (pl__cuda_nhwc(a->layer))
        return pl__cuda_decline(a, "channels-last storage is not handled");
    if (!pl__ds_plan(a, &c))
        return pl__cuda_decline(a, "expected a 4-D input with dims divisible by the blocksize");
    return true;
}

static pl_status pl__ds_run(const pl__kernel_args *a) {
    pl__cu_copy c;
    if (!pl__ds_plan(a, &c))
        return pl__fail(PL_ERR_SHAPE, "node '%s' (%s): expected a 4-D input with dims divisible "
                        "by the blocksize", pl__layer_label(a->layer), a->layer->op);
    if (pl__tview_numel(&a->in[0]) == 0)
        return PL_OK;
    return PL__CU(a, pl__cu_strided_copy(pl__cuda_stream(a), pl_dtype_size(a->in[0].dtype),
                                         a->in[0].data, a->out[0].data, &c));
}

/* ---- NonZero (data-dependent: reads its count back, so never inside a captured graph) ---- */

static bool pl__nonzero_supports(const pl__kernel_args *a) {
    size_t es = pl_dtype_size(a->in[0].dtype);
    if (!(es == 1 || es == 2 || es == 4 || es == 8) || a->in[0].rank > 8 ||
        a->out[0].dtype != PL_INT64)
        return pl__cuda_decline(a, "input must have 1-, 2-, 4- or 8-byte elements and rank <= 8");
    return true;
}

static size_t pl__nonzero_workspace(const pl__kernel_args *a) {
    (void)a;
    return sizeof(unsigned long long);
}

static pl_status pl__nonzero_run(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    pl__tview *y = &a->out[0];
    pl_dtype t = x->dtype;
    int64_t nnz = 0, n = pl__tview_numel(x);
    bool flt = t == PL_FLOAT32 || t == PL_FLOAT16 || t == PL_FLOAT64 || t == PL_BFLOAT16;
    pl_status s;
    if (y->rank != 2 || y->dims[0] != (x->rank ? x->rank : 1) || y->dims[1] < n)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (NonZero): output is smaller than the [rank, "
                        "numel] upper bound", pl__layer_label(a->layer));
    if (a->workspace_size < sizeof(unsigned long long))
        return pl__cuda_unsupported(a, "workspace too small");
    if ((s = PL__CU(a, pl__cu_nonzero(pl__cuda_stream(a), pl_dtype_size(t), flt, x->data, x->rank,
                                      x->dims, y->data, a->workspace, &nnz))))
        return s;
    y->dims[1] = nnz;
    return PL_OK;
}

const pl__kernel_def pl__cuda_kernels_extra[] = {
    {.op = "ArgMax", .run = pl__arg_run, .supports = pl__arg_supports},
    {.op = "ArgMin", .run = pl__arg_run, .supports = pl__arg_supports},
    {.op = "TopK", .run = pl__topk_run, .supports = pl__topk_supports,
     .workspace = pl__topk_workspace},
    {.op = "CumSum", .run = pl__cumsum_run, .supports = pl__cumsum_supports},
    {.op = "GatherElements", .run = pl__gel_run, .supports = pl__gel_supports},
    {.op = "ScatterElements", .run = pl__sca_run, .supports = pl__sca_supports},
    {.op = "OneHot", .run = pl__onehot_run, .supports = pl__onehot_supports},
    {.op = "DepthToSpace", .run = pl__ds_run, .supports = pl__ds_supports},
    {.op = "SpaceToDepth", .run = pl__ds_run, .supports = pl__ds_supports},
    {.op = "NonZero", .run = pl__nonzero_run, .supports = pl__nonzero_supports,
     .workspace = pl__nonzero_workspace},
    {0},
};
