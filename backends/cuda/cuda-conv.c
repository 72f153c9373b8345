/*
 * cuda-conv.c - Conv on the GPU: cuDNN's forward algorithms plus a direct depthwise kernel
 * (cuda-nn.cu), each a tactic that the builder times at the opt shape.
 *
 * Layout is NCHW, or NHWC where the layout pass (cuda-layout.c) set "cuda.nhwc" (float16
 * chains; weights then stored [M, kH, kW, C/g]); float16 uses tensor-core math with float32
 * accumulation. float32 uses FMA math only, so results stay within float32 rounding of the CPU
 * backend; PLINTH_CUDA_TF32=1 lets cuDNN use TF32 tensor cores instead (what PyTorch does by
 * default for convolutions). The builder's fused attributes are honoured: bias (input 2, may be
 * absent), a residual added before the activation (input 3), and "activation". Bias + Relu (or
 * bias alone with the implicit-precomp algorithm) with an optional residual go through
 * cudnnConvolutionBiasActivationForward; every other combination runs the convolution and then
 * one epilogue kernel. cuDNN needs symmetric padding: asymmetric pads (SAME_UPPER with an even
 * kernel, say) are applied by copying the input into a padded workspace first.
 *
 * Workspace: while building (the layer has no kernel name yet), the largest workspace of the
 * algorithms below a cap, so that every tactic can be timed; in a built engine only what the
 * chosen tactic needs. An algorithm whose workspace does not fit at run time falls back to
 * implicit GEMM, which needs none.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda-ew.cuh"
#include "backends/cuda/cuda-internal.h"
#include "backends/cuda/cuda-nn.cuh"
#include "backends/cuda/cuda-shape.cuh"
#include "graph/ops-nn.h"

#define PL__WS_CAP ((size_t)256 << 20)
#define PL__NALGO 8
#define PL__TAC_DW (1 + PL__NALGO)

static const char *const pl__conv_tactics[] = {
    "cudnn_heuristic", "implicit_gemm", "implicit_precomp_gemm", "gemm", "direct", "fft",
    "fft_tiling",      "winograd",      "winograd_nonfused",     "depthwise_direct"};

static const cudnnConvolutionFwdAlgo_t pl__algos[PL__NALGO] = {
    CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
    CUDNN_CONVOLUTION_FWD_ALGO_GEMM,          CUDNN_CONVOLUTION_FWD_ALGO_DIRECT,
    CUDNN_CONVOLUTION_FWD_ALGO_FFT,           CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING,
    CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD,      CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED};

typedef struct pl__cconv {
    int nsp;
    int64_t n, c, m, g;
    pl__window w;   /* as the op gives it */
    pl__cu_win w3;  /* right-aligned into 3 dims */
    bool asym;      /* pads differ at begin and end on some axis */
    bool depthwise; /* one input and one output channel per group, 2-D or 1-D */
    bool nhwc;      /* "cuda.nhwc": x, y and the residual stored [N, H, W, C], weights [M, kH,
                     * kW, C/g] (set by the layout pass, cuda-layout.c) */
    pl_dtype t, bt;
    const void *bias, *res;
    int act;
    float alpha, beta;
    size_t pad_bytes; /* workspace for the explicitly padded input */
} pl__cconv;

static pl_status pl__cconv_plan(const pl__kernel_args *a, pl__cconv *p) {
    const pl__tview *x = &a->in[0], *wt = &a->in[1];
    pl__infer ic = {a->layer, a->nin, a->in, a->nout, a->out};
    pl__window w3;
    pl_status s;
    memset(p, 0, sizeof(*p));
    p->t = x->dtype;
    p->nsp = x->rank - 2;
    p->nhwc = pl__cuda_nhwc(a->layer);
    if (!pl__cuda_flt(p->t) || wt->dtype != p->t)
        return pl__cuda_unsupported(a, "float32 or float16 input and weights of one type needed "
                                    "(got %s and %s)", pl_dtype_name(x->dtype),
                                    pl_dtype_name(wt->dtype));
    if (p->nsp < 1 || p->nsp > 3 || wt->rank != x->rank)
        return pl__cuda_unsupported(a, "1-D to 3-D convolutions only (input rank %d)", x->rank);
    if ((s = pl__window_forward(&ic, p->nsp, x->dims + 2, wt->dims + 2, false, &p->w)))
        return s;
    pl__window_to_3d(&p->w, &w3);
    for (int i = 0; i < 3; i++) {
        p->w3.in[i] = w3.in[i];
        p->w3.out[i] = w3.out[i];
        p->w3.k[i] = w3.k[i];
        p->w3.s[i] = w3.s[i];
        p->w3.d[i] = w3.d[i];
        p->w3.pb[i] = w3.pb[i];
        p->w3.pe[i] = w3.pe[i];
        if (w3.pb[i] != w3.pe[i])
            p->asym = true;
        if (w3.pb[i] < 0 || w3.pe[i] < 0)
            return pl__cuda_unsupported(a, "negative pads");
    }
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->m = a->out[0].dims[1];
    p->g = pl__attr_int(&a->layer->attrs, "group", 1);
    if (p->g < 1 || p->c % p->g || p->m % p->g || wt->dims[1] * p->g != p->c)
        return pl__cuda_unsupported(a, "group %lld does not match the channels", (long long)p->g);
    p->depthwise = p->g == p->c && p->g == p->m && p->nsp <= 2;
    if (a->nin > 2 && a->in[2].dtype != PL_DTYPE_INVALID) {
        p->bt = a->in[2].dtype;
        p->bias = a->in[2].data;
        if (!pl__cuda_flt(p->bt) || pl__tview_numel(&a->in[2]) != p->m)
            return pl__cuda_unsupported(a, "bias of %lld float values expected", (long long)p->m);
    }
    if (a->nin > 3 && a->in[3].dtype != PL_DTYPE_INVALID) {
        p->res = a->in[3].data;
        if (a->in[3].dtype != p->t || pl__tview_numel(&a->in[3]) != pl__tview_numel(&a->out[0]))
            return pl__cuda_unsupported(a, "residual input must match the output");
    }
    if (!pl__cuda_fused_act(a->layer, &p->act, &p->alpha, &p->beta))
        return pl__cuda_unsupported(a, "fused activation '%s' unknown",
                                    pl__attr_string(&a->layer->attrs, "activation", "?"));
    if (p->nhwc && (p->nsp != 2 || p->asym))
        return pl__cuda_unsupported(a, "channels-last needs a 2-D convolution with symmetric "
                                    "pads");
    if (p->asym) {
        size_t e = pl_dtype_size(p->t);
        p->pad_bytes = (size_t)p->n * (size_t)p->c * e;
        for (int i = 0; i < 3; i++)
            p->pad_bytes *= (size_t)(w3.in[i] + w3.pb[i] + w3.pe[i]);
        p->pad_bytes = (p->pad_bytes + 255) & ~(size_t)255;
    }
    return PL_OK;
}

static cudnnDataType_t pl__dnn_type(pl_dtype t) {
    return t == PL_FLOAT16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
}

/* Sets x/w/y/conv descriptors for p (1-D as 2-D with height 1; asymmetric pads already applied
 * to the input, so the convolution pads nothing). */
static pl_status pl__set_descs(const pl__kernel_args *a, const pl__cconv *p,
                               cudnnTensorDescriptor_t xd, cudnnFilterDescriptor_t wd,
                               cudnnTensorDescriptor_t yd, cudnnConvolutionDescriptor_t cd,
                               bool tf32) {
    int nd = p->nsp == 3 ? 5 : 4, sp = nd - 2, off = 3 - sp;
    int xdim[5], ydim[5], wdim[5], xst[5], yst[5], pad[3], str[3], dil[3];
    cudnnDataType_t dt = pl__dnn_type(p->t);
    pl_status s;
    xdim[0] = (int)p->n;
    xdim[1] = (int)p->c;
    ydim[0] = (int)p->n;
    ydim[1] = (int)p->m;
    wdim[0] = (int)p->m;
    wdim[1] = (int)(p->c / p->g);
    for (int i = 0; i < sp; i++) {
        int j = i + off;
        xdim[2 + i] = (int)(p->w3.in[j] + (p->asym ? p->w3.pb[j] + p->w3.pe[j] : 0));
        ydim[2 + i] = (int)p->w3.out[j];
        wdim[2 + i] = (int)p->w3.k[j];
        pad[i] = p->asym ? 0 : (int)p->w3.pb[j];
        str[i] = (int)p->w3.s[j];
        dil[i] = (int)p->w3.d[j];
    }
    xst[nd - 1] = yst[nd - 1] = 1;
    for (int i = nd - 2; i >= 0; i--) {
        xst[i] = xst[i + 1] * xdim[i + 1];
        yst[i] = yst[i + 1] * ydim[i + 1];
    }
    if (p->nhwc) { /* logical NCHW dims, channels-last strides (nd == 4) */
        xst[1] = yst[1] = 1;
        xst[3] = xdim[1];
        yst[3] = ydim[1];
        xst[2] = xst[3] * xdim[3];
        yst[2] = yst[3] * ydim[3];
        xst[0] = xst[2] * xdim[2];
        yst[0] = yst[2] * ydim[2];
    }
    if ((s = PL__DNN(a, cudnnSetTensorNdDescriptor(xd, dt, nd, xdim, xst))) ||
        (s = PL__DNN(a, cudnnSetTensorNdDescriptor(yd, dt, nd, ydim, yst))) ||
        (s = PL__DNN(a, cudnnSetFilterNdDescriptor(wd, dt, p->nhwc ? CUDNN_TENSOR_NHWC
                                                                       : CUDNN_TENSOR_NCHW,
                                                        nd, wdim))) ||
        (s = PL__DNN(a, cudnnSetConvolutionNdDescriptor(cd, sp, pad, str, dil,
                                                        CUDNN_CROSS_CORRELATION,
                                                        CUDNN_DATA_FLOAT))) ||
        (s = PL__DNN(a, cudnnSetConvolutionGroupCount(cd, (int)p->g))))
        return s;
    return PL__DNN(a, cudnnSetConvolutionMathType(
                          cd, p->t == PL_FLOAT16 ? CUDNN_TENSOR_OP_MATH
                              : tf32             ? CUDNN_DEFAULT_MATH
                                                 : CUDNN_FMA_MATH));
}

static bool pl__extents_ok(const pl__kernel_args *a) {
    for (int i = 0; i < a->in[0].rank; i++)
        if (a->in[0].dims[i] > INT32_MAX / 4 || a->out[0].dims[i] > INT32_MAX / 4)
            return false;
    return pl__tview_numel(&a->in[0]) < INT32_MAX && pl__tview_numel(&a->out[0]) < INT32_MAX;
}

static bool pl__conv_supports(const pl__kernel_args *a) {
    pl__cconv p;
    if (pl__cconv_plan(a, &p))
        return false;
    if (!pl__extents_ok(a)) {
        pl__cuda_unsupported(a, "extents beyond cuDNN's int range");
        return false;
    }
    return true;
}

/* ---- workspace queries: a process-wide handle, since workspace() runs without a context ---- */

static pthread_mutex_t pl__q_lock = PTHREAD_MUTEX_INITIALIZER;
static cudnnHandle_t pl__q_dnn;
static cudnnTensorDescriptor_t pl__q_xd, pl__q_yd;
static cudnnFilterDescriptor_t pl__q_wd;
static cudnnConvolutionDescriptor_t pl__q_cd;

static bool pl__q_ready(void) {
    if (pl__q_dnn)
        return true;
    if (cudnnCreate(&pl__q_dnn) != CUDNN_STATUS_SUCCESS) {
        pl__q_dnn = NULL;
        return false;
    }
    return cudnnCreateTensorDescriptor(&pl__q_xd) == CUDNN_STATUS_SUCCESS &&
           cudnnCreateTensorDescriptor(&pl__q_yd) == CUDNN_STATUS_SUCCESS &&
           cudnnCreateFilterDescriptor(&pl__q_wd) == CUDNN_STATUS_SUCCESS &&
           cudnnCreateConvolutionDescriptor(&pl__q_cd) == CUDNN_STATUS_SUCCESS;
}

/* The heuristic's first algorithm whose workspace fits `limit` (-1 if none). */
static int pl__heuristic_algo(cudnnHandle_t h, cudnnTensorDescriptor_t xd,
                              cudnnFilterDescriptor_t wd, cudnnConvolutionDescriptor_t cd,
                              cudnnTensorDescriptor_t yd, size_t limit, size_t *ws) {
    cudnnConvolutionFwdAlgoPerf_t perf[PL__NALGO * 2];
    int got = 0;
    if (cudnnGetConvolutionForwardAlgorithm_v7(h, xd, wd, cd, yd, PL__NALGO * 2, &got, perf) !=
        CUDNN_STATUS_SUCCESS)
        return -1;
    for (int i = 0; i < got; i++)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= limit) {
            *ws = perf[i].memory;
            return (int)perf[i].algo;
        }
    return -1;
}

static size_t pl__conv_workspace(const pl__kernel_args *a) {
    pl__cconv p;
    size_t best = 0;
    bool tuned = a->layer->kernel != NULL;
    const char *tf = getenv("PLINTH_CUDA_TF32");
    if (pl__cconv_plan(a, &p))
        return 0;
    if (tuned && a->tactic == PL__TAC_DW)
        return 0;
    pthread_mutex_lock(&pl__q_lock);
    if (pl__q_ready() &&
        pl__set_descs(NULL, &p, pl__q_xd, pl__q_wd, pl__q_yd, pl__q_cd, tf && tf[0] == '1') ==
            PL_OK) {
        for (int t = 0; t <= PL__NALGO; t++) {
            size_t ws = 0;
            if (tuned && t != a->tactic)
                continue;
            if (t == 0) {
                if (pl__heuristic_algo(pl__q_dnn, pl__q_xd, pl__q_wd, pl__q_cd, pl__q_yd,
                                       PL__WS_CAP, &ws) < 0)
                    ws = 0;
            } else if (cudnnGetConvolutionForwardWorkspaceSize(pl__q_dnn, pl__q_xd, pl__q_wd,
                                                               pl__q_cd, pl__q_yd,
                                                               pl__algos[t - 1], &ws) !=
                       CUDNN_STATUS_SUCCESS) {
                ws = 0;
            }
            if (ws <= PL__WS_CAP && ws > best)
                best = ws;
        }
    }
    pl__clear_error();
    pthread_mutex_unlock(&pl__q_lock);
    return p.pad_bytes + best;
}

/* ---- run ---- */

static pl_status pl__conv_depthwise(const pl__kernel_args *a, const pl__cconv *p) {
    pl__cuda_ctx *c = a->bctx;
    if (!p->depthwise || p->w3.k[0] != 1 || p->w3.in[0] != 1)
        return pl__cuda_unsupported(a, "the depthwise kernel needs one channel per group, 1-D or "
                                    "2-D");
    if (p->nhwc)
        return PL__CU(a, pl__cu_dwconv_nhwc(c->stream, p->t, a->in[0].data, a->in[1].data,
                                            p->bias, p->bt, p->res, a->out[0].data, p->n, p->c,
                                            &p->w3, p->act, p->alpha, p->beta));
    return PL__CU(a, pl__cu_dwconv(c->stream, p->t, a->in[0].data, a->in[1].data, p->bias, p->bt,
                                   p->res, a->out[0].data, p->n, p->c, &p->w3, p->act, p->alpha,
                                   p->beta));
}

/* Descriptors and the resolved algorithm of one layer in one context (state_create), so that a
 * repeated execution with unchanged shapes issues only the convolution call. */
typedef struct pl__conv_state {
    bool valid;
    int tactic;
    int64_t key[3][PL_MAX_RANK]; /* dims of x, w, y */
    pl_dtype t;
    cudnnTensorDescriptor_t xd, yd, bd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    cudnnActivationDescriptor_t ad;
    int algo;
    size_t need;
    int fused; /* -1 not tried, 0 cuDNN refused the fused call, 1 fused works */
} pl__conv_state;

static void pl__conv_state_destroy(const pl__layer *l, void *state) {
    pl__conv_state *st = state;
    (void)l;
    if (!st)
        return;
    if (st->xd)
        cudnnDestroyTensorDescriptor(st->xd);
    if (st->yd)
        cudnnDestroyTensorDescriptor(st->yd);
    if (st->bd)
        cudnnDestroyTensorDescriptor(st->bd);
    if (st->wd)
        cudnnDestroyFilterDescriptor(st->wd);
    if (st->cd)
        cudnnDestroyConvolutionDescriptor(st->cd);
    if (st->ad)
        cudnnDestroyActivationDescriptor(st->ad);
    free(st);
}

static pl_status pl__conv_state_create(const pl__kernel_args *a, void **state) {
    pl__conv_state *st = calloc(1, sizeof(*st));
    pl_status s;
    *state = NULL;
    if (!st)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    if ((s = PL__DNN(a, cudnnCreateTensorDescriptor(&st->xd))) ||
        (s = PL__DNN(a, cudnnCreateTensorDescriptor(&st->yd))) ||
        (s = PL__DNN(a, cudnnCreateTensorDescriptor(&st->bd))) ||
        (s = PL__DNN(a, cudnnCreateFilterDescriptor(&st->wd))) ||
        (s = PL__DNN(a, cudnnCreateConvolutionDescriptor(&st->cd))) ||
        (s = PL__DNN(a, cudnnCreateActivationDescriptor(&st->ad)))) {
        pl__conv_state_destroy(NULL, st);
        return s;
    }
    st->fused = -1;
    *state = st;
    return PL_OK;
}

static bool pl__conv_key_same(const pl__conv_state *st, const pl__kernel_args *a) {
    return st->valid && st->tactic == a->tactic && st->t == a->in[0].dtype &&
           memcmp(st->key[0], a->in[0].dims, sizeof(int64_t) * PL_MAX_RANK) == 0 &&
           memcmp(st->key[1], a->in[1].dims, sizeof(int64_t) * PL_MAX_RANK) == 0 &&
           memcmp(st->key[2], a->out[0].dims, sizeof(int64_t) * PL_MAX_RANK) == 0;
}

static pl_status pl__conv_run(const pl__kernel_args *a) {
    pl__cconv p;
    pl__cuda_ctx *c;
    pl__conv_state local, *st = a->state;
    const void *x = a->in[0].data;
    void *y = a->out[0].data, *ws;
    size_t ws_size;
    bool done = false;
    float one = 1.f, zero = 0.f;
    pl_status s;
    if ((s = pl__cconv_plan(a, &p)))
        return s;
    if (pl__tview_numel(&a->out[0]) == 0)
        return PL_OK;
    if (a->tactic == PL__TAC_DW)
        return pl__conv_depthwise(a, &p);
    if (a->tactic < 0 || a->tactic > PL__TAC_DW)
        return pl__cuda_unsupported(a, "tactic %d out of range", a->tactic);
    if ((s = pl__cuda_dnn(a, &c)))
        return s;
    if (a->workspace_size < p.pad_bytes)
        return pl__cuda_unsupported(a, "workspace of %zu bytes, %zu needed for padding",
                                    a->workspace_size, p.pad_bytes);
    ws = (char *)a->workspace + p.pad_bytes;
    ws_size = a->workspace_size - p.pad_bytes;
    if (!st) { /* no per-layer state (direct calls): the context's shared descriptors */
        memset(&local, 0, sizeof(local));
        local.xd = c->xd;
        local.yd = c->yd;
        local.bd = c->bd;
        local.wd = c->wd;
        local.cd = c->cd;
        local.ad = c->ad;
        local.fused = -1;
        st = &local;
    }
    if (p.asym) {
        /* copy x into the workspace with its pads; the convolution then pads nothing */
        int64_t id[5], od[5], beg[5];
        int r = a->in[0].rank;
        for (int i = 0; i < r; i++) {
            id[i] = od[i] = a->in[0].dims[i];
            beg[i] = 0;
        }
        for (int i = 0; i < p.nsp; i++) {
            od[2 + i] += p.w.pb[i] + p.w.pe[i];
            beg[2 + i] = p.w.pb[i];
        }
        if ((s = PL__CU(a, pl__cu_pad(c->stream, pl_dtype_size(p.t), x, a->workspace, r, id, od,
                                      beg, 0, NULL, 0))))
            return s;
        x = a->workspace;
    }
    if (!pl__conv_key_same(st, a)) {
        int nd = p.nsp == 3 ? 5 : 4, bdim[5] = {1, (int)p.m, 1, 1, 1}, bst[5];
        st->valid = false;
        if ((s = pl__set_descs(a, &p, st->xd, st->wd, st->yd, st->cd, c->tf32)))
            return s;
        if (a->tactic == 0) {
            st->algo = pl__heuristic_algo(c->dnn, st->xd, st->wd, st->cd, st->yd, ws_size,
                                          &st->need);
        } else {
            st->algo = (int)pl__algos[a->tactic - 1];
            if ((s = PL__DNN(a, cudnnGetConvolutionForwardWorkspaceSize(
                                    c->dnn, st->xd, st->wd, st->cd, st->yd, st->algo, &st->need))))
                return s;
            if (st->need > ws_size) {
                if (a->layer->kernel == NULL) /* timing: a tactic that does not fit is never picked */
                    return pl__cuda_unsupported(a, "algorithm needs %zu bytes of workspace",
                                                st->need);
                st->algo = -1;
            }
        }
        if (st->algo < 0) {
            st->algo = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
            st->need = 0;
        }
        bst[nd - 1] = 1;
        for (int i = nd - 2; i >= 0; i--)
            bst[i] = bst[i + 1] * bdim[i + 1];
        if (p.bias && (s = PL__DNN(a, cudnnSetTensorNdDescriptor(st->bd, pl__dnn_type(p.bt), nd,
                                                                 bdim, bst))))
            return s;
        if ((s = PL__DNN(a, cudnnSetActivationDescriptor(
                                st->ad, p.act == PL__ACT_RELU ? CUDNN_ACTIVATION_RELU
                                                              : CUDNN_ACTIVATION_IDENTITY,
                                CUDNN_NOT_PROPAGATE_NAN, 0.0))))
            return s;
        /* cuDNN fuses bias + Relu (or bias alone with implicit precomp GEMM, its rule for the
         * identity activation) */
        st->fused = p.bias && p.bt == p.t &&
                            (p.act == PL__ACT_RELU ||
                             (p.act == PL__ACT_NONE &&
                              st->algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM))
                        ? -1
                        : 0;
        st->tactic = a->tactic;
        st->t = a->in[0].dtype;
        memcpy(st->key[0], a->in[0].dims, sizeof(st->key[0]));
        memcpy(st->key[1], a->in[1].dims, sizeof(st->key[1]));
        memcpy(st->key[2], a->out[0].dims, sizeof(st->key[2]));
        st->valid = true;
    }
    if (st->fused != 0) {
        cudnnStatus_t cs = cudnnConvolutionBiasActivationForward(
            c->dnn, &one, st->xd, x, st->wd, a->in[1].data, st->cd, st->algo, ws, st->need,
            p.res ? &one : &zero, st->yd, p.res ? p.res : y, st->bd, p.bias, st->ad, st->yd, y);
        if (cs == CUDNN_STATUS_SUCCESS) {
            st->fused = 1;
            done = true;
        } else if (cs == CUDNN_STATUS_NOT_SUPPORTED || cs == CUDNN_STATUS_BAD_PARAM) {
            st->fused = 0; /* remembered: the next execution goes straight to the split path */
        } else {
            return pl__cudnn_check(a, "cudnnConvolutionBiasActivationForward", cs);
        }
    }
    if (!done) {
        if ((s = PL__DNN(a, cudnnConvolutionForward(c->dnn, &one, st->xd, x, st->wd,
                                                    a->in[1].data, st->cd, st->algo, ws, st->need,
                                                    &zero, st->yd, y))))
            return s;
        if (p.bias || p.res || p.act) {
            /* channels-last: the channel is the innermost index, as with one spatial element */
            int64_t sp = p.nhwc ? 1 : p.w3.out[0] * p.w3.out[1] * p.w3.out[2];
            if ((s = PL__CU(a, pl__cu_bias_act(c->stream, p.t, y, pl__tview_numel(&a->out[0]),
                                               p.bias, p.bt, p.m, sp, p.res, p.act, p.alpha,
                                               p.beta))))
                return s;
        }
    }
    pl__clear_error();
    return PL_OK;
}

const pl__kernel_def pl__cuda_kernels_conv[] = {
    {.op = "Conv", .run = pl__conv_run, .supports = pl__conv_supports,
     .workspace = pl__conv_workspace, .ntactics = 1 + PL__NALGO + 1,
     .tactic_names = pl__conv_tactics, .state_create = pl__conv_state_create,
     .state_destroy = pl__conv_state_destroy},
    {0},
};
