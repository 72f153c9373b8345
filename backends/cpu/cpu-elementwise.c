/*
 * cpu-elementwise.c - CPU kernels for unary, binary (broadcasting), comparison, logical, Where,
 * Cast and Clip ops, and the fused-activation helper used by Conv/Gemm kernels.
 */
#include <math.h>
#include <string.h>

#include "backends/backend.h"

typedef struct pl__unary_job {
    const float *x;
    float *y;
} pl__unary_job;

static void pl__relu_range(void *arg, int64_t b, int64_t e) {
    pl__unary_job *j = arg;
    for (int64_t i = b; i < e; i++)
        j->y[i] = j->x[i] > 0.f ? j->x[i] : 0.f;
}

static pl_status pl__cpu_relu(const pl__kernel_args *a) {
    pl__unary_job j = {a->in[0].data, a->out[0].data};
    if (a->in[0].dtype != PL_FLOAT32)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (Relu): dtype %s", pl__layer_label(a->layer),
                        pl_dtype_name(a->in[0].dtype));
    pl__cpu_parallel_for(a->bctx, pl__tview_numel(&a->in[0]), 1 << 15, pl__relu_range, &j);
    return PL_OK;
}

/* Broadcast binary op over float32: strides of each input aligned to the output rank. */
static pl_status pl__cpu_add(const pl__kernel_args *a) {
    const pl__tview *A = &a->in[0], *B = &a->in[1], *Y = &a->out[0];
    int r = Y->rank;
    int64_t sa[PL_MAX_RANK], sb[PL_MAX_RANK], n = pl__tview_numel(Y), idx[PL_MAX_RANK] = {0};
    const float *pa = A->data, *pb = B->data;
    float *py = Y->data;
    int64_t acc_a = 1, acc_b = 1;
    if (A->dtype != PL_FLOAT32)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (Add): dtype %s", pl__layer_label(a->layer),
                        pl_dtype_name(A->dtype));
    for (int i = r - 1; i >= 0; i--) {
        int ia = i - (r - A->rank), ib = i - (r - B->rank);
        int64_t da = ia >= 0 ? A->dims[ia] : 1, db = ib >= 0 ? B->dims[ib] : 1;
        sa[i] = da == 1 ? 0 : acc_a;
        sb[i] = db == 1 ? 0 : acc_b;
        acc_a *= da;
        acc_b *= db;
    }
    for (int64_t k = 0; k < n; k++) {
        int64_t oa = 0, ob = 0;
        for (int i = 0; i < r; i++) {
            oa += idx[i] * sa[i];
            ob += idx[i] * sb[i];
        }
        py[k] = pa[oa] + pb[ob];
        for (int i = r - 1; i >= 0; i--) {
            if (++idx[i] < Y->dims[i])
                break;
            idx[i] = 0;
        }
    }
    pl__cpu_fused_activation(a->layer, py, n);
    return PL_OK;
}

void pl__cpu_fused_activation(const pl__layer *l, float *x, int64_t n) {
    const char *act = pl__attr_string(&l->attrs, "activation", NULL);
    float alpha, beta;
    if (!act)
        return;
    alpha = (float)pl__attr_float(&l->attrs, "activation_alpha", 0.01);
    beta = (float)pl__attr_float(&l->attrs, "activation_beta", 0.0);
    if (strcmp(act, "Relu") == 0) {
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] > 0.f ? x[i] : 0.f;
    } else if (strcmp(act, "LeakyRelu") == 0) {
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] >= 0.f ? x[i] : alpha * x[i];
    } else if (strcmp(act, "Clip") == 0) { /* alpha = min, beta = max */
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] < alpha ? alpha : x[i] > beta ? beta : x[i];
    } else if (strcmp(act, "Sigmoid") == 0) {
        for (int64_t i = 0; i < n; i++)
            x[i] = 1.f / (1.f + expf(-x[i]));
    } else if (strcmp(act, "Tanh") == 0) {
        for (int64_t i = 0; i < n; i++)
            x[i] = tanhf(x[i]);
    } else if (strcmp(act, "HardSigmoid") == 0) { /* alpha, beta as ONNX (0.2, 0.5) */
        for (int64_t i = 0; i < n; i++) {
            float v = alpha * x[i] + beta;
            x[i] = v < 0.f ? 0.f : v > 1.f ? 1.f : v;
        }
    } else if (strcmp(act, "HardSwish") == 0) {
        for (int64_t i = 0; i < n; i++) {
            float v = x[i] / 6.f + 0.5f;
            x[i] *= v < 0.f ? 0.f : v > 1.f ? 1.f : v;
        }
    }
}

const pl__kernel_def pl__cpu_kernels_elementwise[] = {
    {"Relu", pl__cpu_relu, NULL, NULL, 0, NULL},
    {"Add", pl__cpu_add, NULL, NULL, 0, NULL},
    {0},
};
