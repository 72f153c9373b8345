/*
 * cpu-norm.c - BatchNormalization (inference), LayerNormalization and LpNormalization on the
 * CPU, float32. BatchNormalization folds its four parameter vectors into one scale and shift per
 * channel first; LayerNormalization takes mean and variance of each row in double (two passes,
 * so a large mean does not cancel the variance).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu-nn.h"

typedef struct pl__bn_job {
    const pl__nn_act *act;
    const float *x, *scale, *shift;
    float *y;
    int64_t c, sp;
} pl__bn_job;

static void pl__bn_range(void *arg, int64_t b, int64_t e) {
    const pl__bn_job *j = arg;
    for (int64_t p = b; p < e; p++) {
        const float *x = j->x + p * j->sp;
        float *y = j->y + p * j->sp, sc = j->scale[p % j->c], sh = j->shift[p % j->c];
        for (int64_t i = 0; i < j->sp; i++)
            y[i] = x[i] * sc + sh;
        if (j->act->kind != PL__ACT_NONE)
            pl__nn_bias_act(j->act, y, 0.f, NULL, j->sp);
    }
}

pl_status pl__cpu_batchnorm(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    const float *g = a->in[1].data, *bb = a->in[2].data, *mean = a->in[3].data;
    const float *var = a->in[4].data;
    double eps = pl__attr_float(&a->layer->attrs, "epsilon", 1e-5);
    int64_t c = x->rank >= 2 ? x->dims[1] : 0, sp = 1;
    float *buf;
    pl__bn_job j;
    pl__nn_act act = pl__nn_act_get(a->layer);
    if (x->dtype != PL_FLOAT32 || x->rank < 2)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (BatchNormalization): float32 of rank >= 2 "
                        "expected", pl__layer_label(a->layer));
    for (int i = 2; i < x->rank; i++)
        sp *= x->dims[i];
    buf = malloc(sizeof(float) * (size_t)(2 * c + 1));
    if (!buf)
        return pl__fail(PL_ERR_NOMEM, "node '%s' (BatchNormalization): out of memory",
                        pl__layer_label(a->layer));
    for (int64_t i = 0; i < c; i++) {
        double sc = g[i] / sqrt((double)var[i] + eps);
        buf[i] = (float)sc;
        buf[c + i] = (float)(bb[i] - mean[i] * sc);
    }
    j = (pl__bn_job){&act, x->data, buf, buf + c, a->out[0].data, c ? c : 1, sp};
    pl__cpu_parallel_for(a->bctx, x->dims[0] * c, sp >= 8192 ? 1 : 8192 / (sp + 1), pl__bn_range,
                         &j);
    free(buf);
    return PL_OK;
}

/* ---- LayerNormalization ---- */

typedef struct pl__ln_job {
    const float *x, *scale, *bias;
    float *y, *mean, *istd;
    int64_t inner;
    double eps;
} pl__ln_job;

static void pl__ln_range(void *arg, int64_t b, int64_t e) {
    const pl__ln_job *j = arg;
    for (int64_t r = b; r < e; r++) {
        const float *x = j->x + r * j->inner;
        float *y = j->y + r * j->inner;
        double s = 0, v = 0, mu, is;
        for (int64_t i = 0; i < j->inner; i++)
            s += x[i];
        mu = j->inner ? s / (double)j->inner : 0;
        for (int64_t i = 0; i < j->inner; i++)
            v += (x[i] - mu) * (x[i] - mu);
        is = 1.0 / sqrt((j->inner ? v / (double)j->inner : 0) + j->eps);
        {
            float fm = (float)mu, fi = (float)is;
            if (j->bias)
                for (int64_t i = 0; i < j->inner; i++)
                    y[i] = (x[i] - fm) * fi * j->scale[i] + j->bias[i];
            else
                for (int64_t i = 0; i < j->inner; i++)
                    y[i] = (x[i] - fm) * fi * j->scale[i];
        }
        if (j->mean)
            j->mean[r] = (float)mu;
        if (j->istd)
            j->istd[r] = (float)is;
    }
}

static int pl__ln_axis(const pl__kernel_args *a) {
    int64_t axis = pl__attr_int(&a->layer->attrs, "axis", -1);
    return (int)(axis < 0 ? axis + a->in[0].rank : axis);
}

/* Whether parameter p already has the normalized shape's numel (no expansion needed). */
static bool pl__ln_param_full(const pl__tview *p, int64_t inner) {
    return pl__tview_numel(p) == inner;
}

size_t pl__cpu_layernorm_workspace(const pl__kernel_args *a) {
    int axis = pl__ln_axis(a);
    int64_t inner = 1;
    size_t need = 0;
    if (axis < 0 || axis >= a->in[0].rank)
        return 0;
    for (int i = axis; i < a->in[0].rank; i++)
        inner *= a->in[0].dims[i];
    for (int i = 1; i < a->nin && i < 3; i++)
        if (a->in[i].dtype != PL_DTYPE_INVALID && !pl__ln_param_full(&a->in[i], inner))
            need += sizeof(float) * (size_t)inner;
    return need;
}

/* Expands a parameter that broadcasts to X.shape[axis:] into a full row. */
static void pl__ln_expand(const pl__tview *p, const pl__tview *x, int axis, float *dst) {
    int r = x->rank - axis;
    int64_t inner = 1, st[PL_MAX_RANK], acc = 1;
    const float *src = p->data;
    for (int i = r - 1; i >= 0; i--) {
        int pi = i - (r - p->rank);
        int64_t pd = pi >= 0 ? p->dims[pi] : 1;
        st[i] = pd == 1 ? 0 : acc;
        acc *= pd;
        inner *= x->dims[axis + i];
    }
    for (int64_t k = 0; k < inner; k++) {
        int64_t rem = k, off = 0;
        for (int i = r - 1; i >= 0; i--) {
            off += (rem % x->dims[axis + i]) * st[i];
            rem /= x->dims[axis + i];
        }
        dst[k] = src[off];
    }
}

pl_status pl__cpu_layernorm(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    int axis = pl__ln_axis(a);
    int64_t inner = 1, outer = 1;
    float *ws = a->workspace;
    size_t need = pl__cpu_layernorm_workspace(a);
    pl__ln_job j;
    if (x->dtype != PL_FLOAT32 || axis < 0 || axis >= x->rank)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (LayerNormalization): float32 and a valid "
                        "axis expected", pl__layer_label(a->layer));
    if (need && (!ws || a->workspace_size < need))
        return pl__cpu_nn_short_workspace(a, need);
    for (int i = 0; i < x->rank; i++)
        *(i < axis ? &outer : &inner) *= x->dims[i];
    memset(&j, 0, sizeof(j));
    j.x = x->data;
    j.y = a->out[0].data;
    j.inner = inner;
    j.eps = pl__attr_float(&a->layer->attrs, "epsilon", 1e-5);
    j.scale = a->in[1].data;
    if (!pl__ln_param_full(&a->in[1], inner)) {
        pl__ln_expand(&a->in[1], x, axis, ws);
        j.scale = ws;
        ws += inner;
    }
    if (a->nin > 2 && a->in[2].data) {
        j.bias = a->in[2].data;
        if (!pl__ln_param_full(&a->in[2], inner)) {
            pl__ln_expand(&a->in[2], x, axis, ws);
            j.bias = ws;
        }
    }
    j.mean = a->nout > 1 ? a->out[1].data : NULL;
    j.istd = a->nout > 2 ? a->out[2].data : NULL;
    pl__cpu_parallel_for(a->bctx, outer, inner >= 4096 ? 1 : 4096 / (inner + 1), pl__ln_range, &j);
    return PL_OK;
}

/* ---- LpNormalization ---- */

typedef struct pl__lp_job {
    const float *x;
    float *y;
    int64_t n, inner;
    int p;
} pl__lp_job;

static void pl__lp_range(void *arg, int64_t b, int64_t e) {
    const pl__lp_job *j = arg;
    for (int64_t r = b; r < e; r++) {
        int64_t o = r / j->inner, i = r % j->inner;
        const float *x = j->x + o * j->n * j->inner + i;
        float *y = j->y + o * j->n * j->inner + i;
        double s = 0;
        for (int64_t k = 0; k < j->n; k++)
            s += j->p == 1 ? fabs(x[k * j->inner]) : (double)x[k * j->inner] * x[k * j->inner];
        s = j->p == 1 ? s : sqrt(s);
        /* A zero vector stays zero (ONNX Runtime does the same) rather than becoming NaN. */
        for (int64_t k = 0; k < j->n; k++)
            y[k * j->inner] = s > 0 ? (float)(x[k * j->inner] / s) : 0.f;
    }
}

pl_status pl__cpu_lpnorm(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    int64_t axis = pl__attr_int(&a->layer->attrs, "axis", -1), outer = 1, inner = 1;
    pl__lp_job j;
    if (axis < 0)
        axis += x->rank;
    if (x->dtype != PL_FLOAT32 || axis < 0 || axis >= x->rank)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (LpNormalization): float32 and a valid axis "
                        "expected", pl__layer_label(a->layer));
    for (int i = 0; i < x->rank; i++)
        if (i < axis)
            outer *= x->dims[i];
        else if (i > axis)
            inner *= x->dims[i];
    j = (pl__lp_job){x->data, a->out[0].data, x->dims[axis], inner,
                     (int)pl__attr_int(&a->layer->attrs, "p", 2)};
    pl__cpu_parallel_for(a->bctx, outer * inner, 1024, pl__lp_range, &j);
    return PL_OK;
}
