/*
 * cpu-pool.c - MaxPool (with the optional Indices output), AveragePool, GlobalAveragePool and
 * GlobalMaxPool on the CPU, float32, NCHW, 1-D to 3-D handled as 3-D. Parallel over (n, c)
 * planes; each output element clips its window to the valid taps once per spatial dim, so the
 * inner loops carry no bounds checks.
 */
#include <math.h>
#include <string.h>

#include "backends/cpu/cpu-nn.h"

typedef struct pl__pool_job {
    pl__window w; /* 3-D */
    const float *x;
    float *y;
    int64_t *ind;
    int64_t isp, osp;
    bool col_major, include_pad, is_max;
} pl__pool_job;

/* Taps k in [0, K) of output position o whose input position o*s - pb + k*d lies in [0, in). */
static void pl__taps(const pl__window *w, int i, int64_t o, int64_t *lo, int64_t *hi) {
    int64_t start = o * w->s[i] - w->pb[i], d = w->d[i], l = 0, h = w->k[i];
    if (start < 0)
        l = (-start + d - 1) / d;
    if (start + (h - 1) * d >= w->in[i])
        h = w->in[i] - start <= 0 ? 0 : (w->in[i] - start + d - 1) / d;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* Taps inside the padded extent [-pb, in + pe): what count_include_pad divides by. */
static int64_t pl__taps_padded(const pl__window *w, int i, int64_t o) {
    int64_t start = o * w->s[i] - w->pb[i], lim = w->in[i] + w->pe[i], n = 0;
    for (int64_t k = 0; k < w->k[i]; k++)
        n += start + k * w->d[i] < lim;
    return n;
}

static void pl__pool_range(void *arg, int64_t b, int64_t e) {
    const pl__pool_job *j = arg;
    const pl__window *w = &j->w;
    int64_t ID = w->in[0], IH = w->in[1], IW = w->in[2];
    for (int64_t plane = b; plane < e; plane++) {
        const float *x = j->x + plane * j->isp;
        float *y = j->y + plane * j->osp;
        int64_t *ind = j->ind ? j->ind + plane * j->osp : NULL;
        for (int64_t od = 0; od < w->out[0]; od++) {
            int64_t d0, d1, pd = 1;
            pl__taps(w, 0, od, &d0, &d1);
            if (!j->is_max && j->include_pad)
                pd = pl__taps_padded(w, 0, od);
            for (int64_t oh = 0; oh < w->out[1]; oh++) {
                int64_t h0, h1, ph = 1;
                pl__taps(w, 1, oh, &h0, &h1);
                if (!j->is_max && j->include_pad)
                    ph = pl__taps_padded(w, 1, oh);
                for (int64_t ow = 0; ow < w->out[2]; ow++) {
                    int64_t w0, w1, pw = 1, o = (od * w->out[1] + oh) * w->out[2] + ow;
                    int64_t best = -1;
                    float acc = j->is_max ? -INFINITY : 0.f;
                    pl__taps(w, 2, ow, &w0, &w1);
                    for (int64_t kd = d0; kd < d1; kd++) {
                        int64_t id = od * w->s[0] - w->pb[0] + kd * w->d[0];
                        for (int64_t kh = h0; kh < h1; kh++) {
                            int64_t ih = oh * w->s[1] - w->pb[1] + kh * w->d[1];
                            const float *row = x + (id * IH + ih) * IW;
                            int64_t iw0 = ow * w->s[2] - w->pb[2];
                            if (j->is_max) {
                                for (int64_t kw = w0; kw < w1; kw++) {
                                    int64_t iw = iw0 + kw * w->d[2];
                                    if (row[iw] > acc || best < 0) {
                                        acc = row[iw];
                                        best = (id * IH + ih) * IW + iw;
                                        if (j->col_major)
                                            best = id + ih * ID + iw * ID * IH;
                                    }
                                }
                            } else {
                                for (int64_t kw = w0; kw < w1; kw++)
                                    acc += row[iw0 + kw * w->d[2]];
                            }
                        }
                    }
                    if (j->is_max) {
                        y[o] = acc;
                        if (ind)
                            ind[o] = best < 0 ? -1 : plane * j->isp + best;
                    } else {
                        int64_t cnt;
                        if (j->include_pad) {
                            pw = pl__taps_padded(w, 2, ow);
                            cnt = pd * ph * pw;
                        } else {
                            cnt = (d1 - d0) * (h1 - h0) * (w1 - w0);
                        }
                        y[o] = cnt > 0 ? acc / (float)cnt : 0.f;
                    }
                }
            }
        }
    }
}

static pl_status pl__pool(const pl__kernel_args *a, bool is_max) {
    const pl__tview *x = &a->in[0];
    const pl__attrs *at = &a->layer->attrs;
    pl__infer ic = pl__cpu_nn_infer_ctx(a);
    const int64_t *ks;
    int nsp = x->rank - 2;
    pl__window w;
    pl__pool_job j;
    pl_status s;
    if (x->dtype != PL_FLOAT32)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): dtype %s", pl__layer_label(a->layer),
                        a->layer->op, pl_dtype_name(x->dtype));
    if (nsp < 1 || nsp > PL__MAX_SPATIAL || pl__attr_ints(at, "kernel_shape", &ks) != nsp)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (%s): bad rank or kernel_shape",
                        pl__layer_label(a->layer), a->layer->op);
    s = pl__window_forward(&ic, nsp, x->dims + 2, ks, pl__attr_int(at, "ceil_mode", 0) != 0, &w);
    if (s != PL_OK)
        return s;
    memset(&j, 0, sizeof(j));
    pl__window_to_3d(&w, &j.w);
    j.x = x->data;
    j.y = a->out[0].data;
    j.ind = is_max && a->nout > 1 ? a->out[1].data : NULL;
    j.isp = j.w.in[0] * j.w.in[1] * j.w.in[2];
    j.osp = j.w.out[0] * j.w.out[1] * j.w.out[2];
    j.col_major = pl__attr_int(at, "storage_order", 0) == 1;
    j.include_pad = pl__attr_int(at, "count_include_pad", 0) != 0;
    j.is_max = is_max;
    {
        int64_t work = j.osp * w.k[0] * (nsp > 1 ? w.k[1] : 1) * (nsp > 2 ? w.k[2] : 1);
        pl__cpu_parallel_for(a->bctx, x->dims[0] * x->dims[1], work >= 8192 ? 1 : 8192 / (work + 1),
                             pl__pool_range, &j);
    }
    return PL_OK;
}

pl_status pl__cpu_maxpool(const pl__kernel_args *a) { return pl__pool(a, true); }
pl_status pl__cpu_avgpool(const pl__kernel_args *a) { return pl__pool(a, false); }

typedef struct pl__gpool_job {
    const float *x;
    float *y;
    int64_t sp;
    bool is_max;
} pl__gpool_job;

static void pl__gpool_range(void *arg, int64_t b, int64_t e) {
    const pl__gpool_job *j = arg;
    for (int64_t p = b; p < e; p++) {
        const float *x = j->x + p * j->sp;
        if (j->is_max) {
            float m = -INFINITY;
            for (int64_t i = 0; i < j->sp; i++)
                m = x[i] > m ? x[i] : m;
            j->y[p] = m;
        } else {
            /* Eight partial sums: vectorizes without -ffast-math and loses less precision. */
            float acc[8] = {0};
            int64_t i = 0;
            for (; i + 8 <= j->sp; i += 8)
                for (int k = 0; k < 8; k++)
                    acc[k] += x[i + k];
            for (; i < j->sp; i++)
                acc[0] += x[i];
            j->y[p] = j->sp ? (acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] +
                               acc[7]) / (float)j->sp
                            : 0.f;
        }
    }
}

static pl_status pl__global_pool(const pl__kernel_args *a, bool is_max) {
    const pl__tview *x = &a->in[0];
    pl__gpool_job j = {x->data, a->out[0].data, 1, is_max};
    if (x->dtype != PL_FLOAT32 || x->rank < 3)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): float32 of rank >= 3 expected",
                        pl__layer_label(a->layer), a->layer->op);
    for (int i = 2; i < x->rank; i++)
        j.sp *= x->dims[i];
    pl__cpu_parallel_for(a->bctx, x->dims[0] * x->dims[1], j.sp >= 8192 ? 1 : 8192 / (j.sp + 1),
                         pl__gpool_range, &j);
    return PL_OK;
}

pl_status pl__cpu_global_avgpool(const pl__kernel_args *a) { return pl__global_pool(a, false); }
pl_status pl__cpu_global_maxpool(const pl__kernel_args *a) { return pl__global_pool(a, true); }
