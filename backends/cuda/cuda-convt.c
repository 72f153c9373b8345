/*
 * cuda-convt.c - ConvTranspose on the GPU through cuDNN's backward-data convolution.
 *
 * A transposed convolution is the gradient of a forward convolution with respect to its input:
 * the forward convolution maps the ConvTranspose output Y ([N, M, out...]) to its input X
 * ([N, C, in...]) with the ConvTranspose weight [C, M/g, k...] as its filter (C output channels,
 * M/g input channels per group), so cudnnConvolutionBackwardData(dy = X, w = W) -> dx = Y. cuDNN
 * pads symmetrically and derives the forward output extent from dx's dims; output_padding and
 * end pads only change how many trailing output positions exist, which cuDNN accepts as long as
 * the forward extent of Y with begin pad pb on both sides is exactly X's extent: then cuDNN
 * writes Y directly. Every other geometry (auto_pad SAME_* with an odd total, pads differing by
 * a stride or more, negative pads from output_shape) goes through the full, unpadded output Z
 * ([N, M, s*(in-1) + (k-1)*d + 1 ...], pad 0, always expressible) in the workspace, and a crop
 * kernel copies Y[o] = Z[o + pb], zero where o + pb falls outside Z (output_padding, negative
 * pads). The pads come from pl__window_transposed (graph/ops-nn.c), which shape inference and the
 * CPU kernel use too, so auto_pad and output_shape resolve the same everywhere. Bias and the
 * fused activation are applied by one epilogue kernel (pl__cu_bias_act). float32 uses FMA math
 * unless PLINTH_CUDA_TF32=1, float16 tensor cores with float32 accumulation. Only deterministic
 * algorithms are used, so that a replayed CUDA graph gives the same bits as the first execution.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda-ew.cuh"
#include "backends/cuda/cuda-internal.h"
#include "backends/cuda/cuda-nn.cuh"
#include "graph/ops-nn.h"

#define PL__CT_WS_CAP ((size_t)256 << 20)
#define PL__CT_NALGO 8

typedef struct pl__ctplan {
    int nsp;
    int64_t n, c, m, g;
    pl__window w;
    pl_dtype t, bt;
    const void *bias;
    int act;
    float alpha, beta;
    /* crop: cuDNN writes the full output (extents full[], pad 0) into the workspace's first
     * zbytes, and the crop kernel cuts Y out of it */
    bool crop;
    int64_t full[PL__MAX_SPATIAL];
    size_t zbytes;
} pl__ctplan;

static pl_status pl__ct_plan(const pl__kernel_args *a, pl__ctplan *p) {
    const pl__tview *x = &a->in[0], *wt = &a->in[1];
    pl__infer ic = {a->layer, a->nin, a->in, a->nout, a->out};
    pl_status s;
    memset(p, 0, sizeof(*p));
    p->t = x->dtype;
    p->nsp = x->rank - 2;
    if (!pl__cuda_flt(p->t) || wt->dtype != p->t || a->out[0].dtype != p->t)
        return pl__cuda_unsupported(a, "float32 or float16 input, weights and output of one type "
                                    "needed (got %s and %s)", pl_dtype_name(x->dtype),
                                    pl_dtype_name(wt->dtype));
    if (p->nsp < 1 || p->nsp > 3 || wt->rank != x->rank || a->out[0].rank != x->rank)
        return pl__cuda_unsupported(a, "1-D to 3-D transposed convolutions only (input rank %d)",
                                    x->rank);
    if (pl__cuda_nhwc(a->layer))
        return pl__cuda_unsupported(a, "channels-last layout not handled");
    if ((s = pl__window_transposed(&ic, p->nsp, x->dims + 2, wt->dims + 2, &p->w)))
        return s;
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->g = pl__attr_int(&a->layer->attrs, "group", 1);
    p->m = a->out[0].dims[1];
    if (p->g < 1 || p->c % p->g || wt->dims[0] != p->c || wt->dims[1] * p->g != p->m)
        return pl__cuda_unsupported(a, "group %lld does not match the channels", (long long)p->g);
    for (int i = 0; i < p->nsp; i++) {
        const pl__window *w = &p->w;
        int64_t ek = w->d[i] * (w->k[i] - 1) + 1;
        int64_t span = a->out[0].dims[2 + i] + 2 * w->pb[i] - ek;
        if (w->out[i] != a->out[0].dims[2 + i])
            return pl__cuda_unsupported(a, "output extent %lld differs from the geometry's %lld",
                                        (long long)a->out[0].dims[2 + i], (long long)w->out[i]);
        /* the unpadded output: its forward extent with pad 0 is exactly the input's */
        p->full[i] = w->s[i] * (w->in[i] - 1) + ek;
        /* direct only when cuDNN's forward extent of Y with begin pad on both sides is the
         * input's; otherwise through the full output and the crop */
        if (w->pb[i] < 0 || w->pe[i] < 0 || span < 0 || span / w->s[i] + 1 != w->in[i])
            p->crop = true;
    }
    if (a->nin > 2 && a->in[2].dtype != PL_DTYPE_INVALID) {
        p->bt = a->in[2].dtype;
        p->bias = a->in[2].data;
        if (!pl__cuda_flt(p->bt) || pl__tview_numel(&a->in[2]) != p->m)
            return pl__cuda_unsupported(a, "bias of %lld float values expected", (long long)p->m);
    }
    if (!pl__cuda_fused_act(a->layer, &p->act, &p->alpha, &p->beta))
        return pl__cuda_unsupported(a, "fused activation '%s' unknown",
                                    pl__attr_string(&a->layer->attrs, "activation", "?"));
    for (int i = 0; i < x->rank; i++)
        if (x->dims[i] > INT32_MAX / 4 || a->out[0].dims[i] > INT32_MAX / 4)
            return pl__cuda_unsupported(a, "extents beyond cuDNN's int range");
    if (pl__tview_numel(x) >= INT32_MAX || pl__tview_numel(&a->out[0]) >= INT32_MAX)
        return pl__cuda_unsupported(a, "extents beyond cuDNN's int range");
    if (p->crop) {
        int64_t zn = p->n * p->m;
        for (int i = 0; i < p->nsp; i++) {
            if (p->full[i] < 1 || p->full[i] > INT32_MAX / 4)
                return pl__cuda_unsupported(a, "full output extents beyond cuDNN's int range");
            zn *= p->full[i];
        }
        if (zn >= INT32_MAX)
            return pl__cuda_unsupported(a, "full output extents beyond cuDNN's int range");
        /* rounded up so that cuDNN's workspace after it keeps the base's alignment */
        p->zbytes = ((size_t)zn * pl_dtype_size(p->t) + 255) & ~(size_t)255;
    }
    return PL_OK;
}

/* dy = X [N, C, in...], dx = Y [N, M, out...] (the full output [N, M, full...] when cropping),
 * filter [C, M/g, k...]; 1-D as 2-D of height 1. */
static pl_status pl__ct_descs(const pl__kernel_args *a, const pl__ctplan *p,
                              cudnnTensorDescriptor_t dyd, cudnnFilterDescriptor_t wd,
                              cudnnTensorDescriptor_t dxd, cudnnConvolutionDescriptor_t cd,
                              bool tf32) {
    int nd = p->nsp == 3 ? 5 : 4, sp = nd - 2, off = sp - p->nsp;
    int ydim[5], xdim[5], wdim[5], yst[5], xst[5], pad[3], str[3], dil[3];
    cudnnDataType_t dt = p->t == PL_FLOAT16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    pl_status s;
    ydim[0] = xdim[0] = (int)p->n;
    ydim[1] = (int)p->c;
    xdim[1] = (int)p->m;
    wdim[0] = (int)p->c;
    wdim[1] = (int)(p->m / p->g);
    for (int i = 0; i < sp; i++) { /* the leading axis of a 1-D op is a unit axis */
        int j = i - off;
        ydim[2 + i] = j < 0 ? 1 : (int)p->w.in[j];
        xdim[2 + i] = j < 0 ? 1 : (int)(p->crop ? p->full[j] : a->out[0].dims[2 + j]);
        wdim[2 + i] = j < 0 ? 1 : (int)p->w.k[j];
        pad[i] = j < 0 || p->crop ? 0 : (int)p->w.pb[j];
        str[i] = j < 0 ? 1 : (int)p->w.s[j];
        dil[i] = j < 0 ? 1 : (int)p->w.d[j];
    }
    yst[nd - 1] = xst[nd - 1] = 1;
    for (int i = nd - 2; i >= 0; i--) {
        yst[i] = yst[i + 1] * ydim[i + 1];
        xst[i] = xst[i + 1] * xdim[i + 1];
    }
    if ((s = PL__DNN(a, cudnnSetTensorNdDescriptor(dyd, dt, nd, ydim, yst))) ||
        (s = PL__DNN(a, cudnnSetTensorNdDescriptor(dxd, dt, nd, xdim, xst))) ||
        (s = PL__DNN(a, cudnnSetFilterNdDescriptor(wd, dt, CUDNN_TENSOR_NCHW, nd, wdim))) ||
        (s = PL__DNN(a, cudnnSetConvolutionNdDescriptor(cd, sp, pad, str, dil,
                                                        CUDNN_CROSS_CORRELATION,
                                                        CUDNN_DATA_FLOAT))) ||
        (s = PL__DNN(a, cudnnSetConvolutionGroupCount(cd, (int)p->g))))
        return s;
    return PL__DNN(a, cudnnSetConvolutionMathType(cd, p->t == PL_FLOAT16 ? CUDNN_TENSOR_OP_MATH
                                                      : tf32             ? CUDNN_DEFAULT_MATH
                                                                         : CUDNN_FMA_MATH));
}

/* The heuristic's first deterministic algorithm whose workspace fits `limit` (-1 if none). */
static int pl__ct_algo(cudnnHandle_t h, cudnnFilterDescriptor_t wd, cudnnTensorDescriptor_t dyd,
                       cudnnConvolutionDescriptor_t cd, cudnnTensorDescriptor_t dxd, size_t limit,
                       size_t *ws) {
    cudnnConvolutionBwdDataAlgoPerf_t perf[PL__CT_NALGO];
    int got = 0;
    if (cudnnGetConvolutionBackwardDataAlgorithm_v7(h, wd, dyd, cd, dxd, PL__CT_NALGO, &got,
                                                    perf) != CUDNN_STATUS_SUCCESS)
        return -1;
    for (int i = 0; i < got; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= limit &&
            perf[i].determinism == CUDNN_DETERMINISTIC) {
            *ws = perf[i].memory;
            return (int)perf[i].algo;
        }
    return -1;
}

/* ---- workspace queries: a process-wide handle, since workspace() runs without a context ---- */

static pthread_mutex_t pl__ctq_lock = PTHREAD_MUTEX_INITIALIZER;
static cudnnHandle_t pl__ctq_dnn;
static cudnnTensorDescriptor_t pl__ctq_yd, pl__ctq_xd;
static cudnnFilterDescriptor_t pl__ctq_wd;
static cudnnConvolutionDescriptor_t pl__ctq_cd;
static bool pl__ctq_ok;

static bool pl__ctq_ready(void) {
    if (pl__ctq_dnn)
        return pl__ctq_ok;
    if (cudnnCreate(&pl__ctq_dnn) != CUDNN_STATUS_SUCCESS) {
        pl__ctq_dnn = NULL;
        return false;
    }
    pl__ctq_ok = cudnnCreateTensorDescriptor(&pl__ctq_yd) == CUDNN_STATUS_SUCCESS &&
                 cudnnCreateTensorDescriptor(&pl__ctq_xd) == CUDNN_STATUS_SUCCESS &&
                 cudnnCreateFilterDescriptor(&pl__ctq_wd) == CUDNN_STATUS_SUCCESS &&
                 cudnnCreateConvolutionDescriptor(&pl__ctq_cd) == CUDNN_STATUS_SUCCESS;
    return pl__ctq_ok;
}

static size_t pl__ct_workspace(const pl__kernel_args *a) {
    pl__ctplan p;
    size_t ws = 0;
    const char *tf = getenv("PLINTH_CUDA_TF32");
    if (pl__ct_plan(a, &p)) {
        pl__clear_error();
        return 0;
    }
    pthread_mutex_lock(&pl__ctq_lock);
    if (pl__ctq_ready() &&
        pl__ct_descs(a, &p, pl__ctq_yd, pl__ctq_wd, pl__ctq_xd, pl__ctq_cd,
                     tf && tf[0] == '1') == PL_OK &&
        pl__ct_algo(pl__ctq_dnn, pl__ctq_wd, pl__ctq_yd, pl__ctq_cd, pl__ctq_xd, PL__CT_WS_CAP,
                    &ws) < 0)
        ws = 0;
    pl__clear_error();
    pthread_mutex_unlock(&pl__ctq_lock);
    return p.zbytes + ws;
}

static bool pl__ct_supports(const pl__kernel_args *a) {
    pl__ctplan p;
    return pl__ct_plan(a, &p) == PL_OK;
}

/* The algorithm chosen for one layer in one context (state_create), so that executions with
 * unchanged shapes (a CUDA graph capture among them) skip cuDNN's heuristic query. */
typedef struct pl__ct_state {
    bool valid;
    int64_t key[2][PL_MAX_RANK]; /* dims of X and Y */
    pl_dtype t;
    size_t ws_size;
    int algo;
    size_t need;
} pl__ct_state;

static pl_status pl__ct_state_create(const pl__kernel_args *a, void **state) {
    (void)a;
    *state = calloc(1, sizeof(pl__ct_state));
    return *state ? PL_OK : pl__fail(PL_ERR_NOMEM, "out of memory");
}

static void pl__ct_state_destroy(const pl__layer *l, void *state) {
    (void)l;
    free(state);
}

static pl_status pl__ct_run(const pl__kernel_args *a) {
    pl__ctplan p;
    pl__cuda_ctx *c;
    pl__ct_state local, *st = a->state ? a->state : &local;
    size_t need = 0, limit = a->workspace ? a->workspace_size : 0;
    void *dx, *ws;
    int algo;
    float one = 1.f, zero = 0.f;
    pl_status s;
    if ((s = pl__ct_plan(a, &p)))
        return s;
    if (pl__tview_numel(&a->out[0]) == 0)
        return PL_OK;
    if ((s = pl__cuda_dnn(a, &c)))
        return s;
    /* cuDNN's dx: Y itself, or the full output at the start of the workspace */
    dx = a->out[0].data;
    ws = a->workspace;
    if (p.crop && pl__tview_numel(&a->in[0]) != 0) {
        if (limit < p.zbytes)
            return pl__cuda_unsupported(a, "workspace of %zu bytes, %zu needed for the full "
                                        "output", limit, p.zbytes);
        dx = a->workspace;
        ws = (char *)a->workspace + p.zbytes;
        limit -= p.zbytes;
    }
    if (pl__tview_numel(&a->in[0]) == 0) { /* no input channels: the output is bias only */
        if ((s = PL__CU(a, cudaMemsetAsync(a->out[0].data, 0, pl__tview_bytes(&a->out[0]),
                                           c->stream))))
            return s;
    } else {
        /* the context's shared descriptors: xd describes X (cuDNN's dy), yd Y (its dx) */
        if ((s = pl__ct_descs(a, &p, c->xd, c->wd, c->yd, c->cd, c->tf32)))
            return s;
        if (st == &local)
            memset(&local, 0, sizeof(local));
        if (st->valid && st->t == p.t && st->ws_size == limit &&
            memcmp(st->key[0], a->in[0].dims, sizeof(st->key[0])) == 0 &&
            memcmp(st->key[1], a->out[0].dims, sizeof(st->key[1])) == 0) {
            algo = st->algo;
            need = st->need;
        } else {
            algo = pl__ct_algo(c->dnn, c->wd, c->xd, c->cd, c->yd, limit, &need);
        }
        if (algo < 0) {
            /* ALGO_1 is deterministic; it must fit the workspace too */
            algo = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1;
            if ((s = PL__DNN(a, cudnnGetConvolutionBackwardDataWorkspaceSize(
                                    c->dnn, c->wd, c->xd, c->cd, c->yd,
                                    CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, &need))))
                return s;
            if (need > limit)
                return pl__cuda_unsupported(a, "cuDNN found no algorithm within %zu bytes of "
                                            "workspace", limit);
        }
        st->valid = true;
        st->t = p.t;
        st->ws_size = limit;
        st->algo = algo;
        st->need = need;
        memcpy(st->key[0], a->in[0].dims, sizeof(st->key[0]));
        memcpy(st->key[1], a->out[0].dims, sizeof(st->key[1]));
        if ((s = PL__DNN(a, cudnnConvolutionBackwardData(
                                c->dnn, &one, c->wd, a->in[1].data, c->xd, a->in[0].data, c->cd,
                                (cudnnConvolutionBwdDataAlgo_t)algo, need ? ws : NULL, need,
                                &zero, c->yd, dx))))
            return s;
        if (p.crop) {
            pl__cu_crop_geom g;
            int sh = PL__MAX_SPATIAL - p.nsp; /* right-aligned: leading unit dims */
            for (int i = 0; i < PL__MAX_SPATIAL; i++) {
                int j = i - sh;
                g.in[i] = j < 0 ? 1 : p.full[j];
                g.out[i] = j < 0 ? 1 : a->out[0].dims[2 + j];
                g.off[i] = j < 0 ? 0 : p.w.pb[j];
            }
            if ((s = PL__CU(a, pl__cu_crop(c->stream, pl_dtype_size(p.t), dx, a->out[0].data,
                                           p.n * p.m, &g))))
                return s;
        }
    }
    if (p.bias || p.act) {
        int64_t sp = 1;
        for (int i = 0; i < p.nsp; i++)
            sp *= a->out[0].dims[2 + i];
        if ((s = PL__CU(a, pl__cu_bias_act(c->stream, p.t, a->out[0].data,
                                           pl__tview_numel(&a->out[0]), p.bias, p.bt, p.m, sp,
                                           NULL, p.act, p.alpha, p.beta))))
            return s;
    }
    pl__clear_error();
    return PL_OK;
}

const pl__kernel_def pl__cuda_kernels_convt[] = {
    {.op = "ConvTranspose", .run = pl__ct_run, .supports = pl__ct_supports,
     .workspace = pl__ct_workspace, .state_create = pl__ct_state_create,
     .state_destroy = pl__ct_state_destroy},
    {0},
};
