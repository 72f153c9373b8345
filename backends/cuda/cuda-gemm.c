/*
 * cuda-gemm.c - Gemm and MatMul on cuBLASLt, float32 (pure FP32 compute unless
 * PLINTH_CUDA_TF32=1), float16 (tensor cores, FP32 accumulation) and float64 (FP64 compute and
 * scalars).
 *
 * cuBLASLt is column-major; a row-major C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T,
 * so every call passes B as cuBLASLt's A and A as its B, with the stored (not transposed) shapes
 * described by the layouts. Gemm's C as a vector over N with beta 1 becomes the bias epilogue
 * (with Relu folded in when the layer carries that activation); any other C is written into Y
 * first (beta * C broadcast) and accumulated with beta 1. MatMul: a B without batch dims folds
 * A's batch into M (one GEMM); operands whose batch dims equal the output's or are all 1 make one
 * strided-batched call (stride 0 for the broadcast one); mixed broadcasts loop over the outer
 * batch dims. Tactics are the first entries of cuBLASLt's heuristic list for the shape, timed by
 * the builder. float64 never uses an epilogue (cuBLASLt's bias/ReLU epilogues are not offered
 * for double everywhere, and the fallback epilogue kernel is float-only): Gemm's C always goes
 * through Y first, and a Gemm carrying a fused activation is declined for float64.
 */
#include <stdlib.h>
#include <string.h>

#include "backends/cuda/cuda-ew.cuh"
#include "backends/cuda/cuda-internal.h"
#include "backends/cuda/cuda-nn.cuh"

#define PL__LT_WS ((size_t)32 << 20)
#define PL__LT_NTAC 4

static const char *const pl__lt_tactics[PL__LT_NTAC] = {"cublaslt_0", "cublaslt_1", "cublaslt_2",
                                                         "cublaslt_3"};

typedef struct pl__lt_mm {
    pl_dtype t;
    int64_t m, n, k;
    bool ta, tb;
    const void *A, *B;
    void *C;
    int64_t lda, ldb, ldc;
    int64_t batch, sa, sb, sc; /* strided batch (elements); batch 1: none */
    const void *bias;          /* per-column vector of n values, or NULL */
    pl_dtype bt;
    bool relu;
    double alpha; /* rounded to float for float32/float16 (the CPU's scalars) */
    double beta;  /* 0, or 1 when C already holds beta * Gemm's C */
} pl__lt_mm;

static cudaDataType_t pl__cuda_type(pl_dtype t) {
    return t == PL_FLOAT16 ? CUDA_R_16F : t == PL_FLOAT64 ? CUDA_R_64F : CUDA_R_32F;
}

/* The float types the GEMMs take: the device's float storage and float64. */
static bool pl__lt_type_ok(pl_dtype t) { return pl__cuda_flt(t) || t == PL_FLOAT64; }

/* Largest power of two (at most 256) dividing the address and every byte stride. */
static uint32_t pl__align_of(const void *p, size_t es, int64_t ld, int64_t stride) {
    uint64_t v = (uint64_t)(uintptr_t)p | (uint64_t)ld * es | (uint64_t)stride * es | 256u;
    return (uint32_t)(v & (~v + 1));
}

static pl_status pl__layout(const pl__kernel_args *a, cublasLtMatrixLayout_t *l, pl_dtype t,
                            int64_t rows, int64_t cols, int64_t ld, int64_t batch,
                            int64_t stride) {
    pl_status s;
    int32_t bc = (int32_t)batch;
    if ((s = PL__LT(a, cublasLtMatrixLayoutCreate(l, pl__cuda_type(t), (uint64_t)rows,
                                                  (uint64_t)cols, ld))))
        return s;
    if (batch > 1 &&
        ((s = PL__LT(a, cublasLtMatrixLayoutSetAttribute(*l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                                         &bc, sizeof(bc)))) ||
         (s = PL__LT(a, cublasLtMatrixLayoutSetAttribute(
                            *l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                            sizeof(stride))))))
        return s;
    return PL_OK;
}

/* What a cuBLASLt plan depends on; memset before filling so that memcmp compares it. */
typedef struct pl__lt_key {
    int32_t t, bt, ta, tb, epi, tf32;
    int64_t m, n, k, lda, ldb, ldc, batch, sa, sb, sc;
    uint32_t al_a, al_b, al_c, pad;
    uint64_t ws;
} pl__lt_key;

/* A matmul descriptor, its layouts and the heuristic's algorithms for one key. */
typedef struct pl__lt_plan {
    bool used;
    unsigned stamp;
    pl__lt_key key;
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t la, lb, lc;
    cublasLtMatmulHeuristicResult_t res[PL__LT_NTAC];
    int got;
} pl__lt_plan;

/* Per layer and context (state_create): the last few plans (a MatMul with a mixed broadcast or a
 * dynamic shape uses more than one). */
typedef struct pl__lt_state {
    pl__lt_plan plan[4];
    unsigned clock;
} pl__lt_state;

static void pl__lt_plan_release(pl__lt_plan *pl) {
    if (pl->la)
        cublasLtMatrixLayoutDestroy(pl->la);
    if (pl->lb)
        cublasLtMatrixLayoutDestroy(pl->lb);
    if (pl->lc)
        cublasLtMatrixLayoutDestroy(pl->lc);
    if (pl->desc)
        cublasLtMatmulDescDestroy(pl->desc);
    memset(pl, 0, sizeof(*pl));
}

static void pl__lt_state_destroy(const pl__layer *l, void *state) {
    pl__lt_state *st = state;
    (void)l;
    if (!st)
        return;
    for (int i = 0; i < 4; i++)
        pl__lt_plan_release(&st->plan[i]);
    free(st);
}

static pl_status pl__lt_state_create(const pl__kernel_args *a, void **state) {
    (void)a;
    *state = calloc(1, sizeof(pl__lt_state));
    return *state ? PL_OK : pl__fail(PL_ERR_NOMEM, "out of memory");
}

/* Builds the descriptor, layouts and heuristic list for key k. */
static pl_status pl__lt_plan_make(const pl__kernel_args *a, pl__cuda_ctx *c, const pl__lt_key *k,
                                  pl__lt_plan *pl) {
    cublasLtMatmulPreference_t pref = NULL;
    cublasOperation_t opa = k->tb ? CUBLAS_OP_T : CUBLAS_OP_N, opb = k->ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasComputeType_t ct = k->tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    cublasLtEpilogue_t epi = (cublasLtEpilogue_t)k->epi;
    size_t ws = (size_t)k->ws;
    pl_dtype t = (pl_dtype)k->t;
    cudaDataType_t scale = CUDA_R_32F;
    pl_status s;
    memset(pl, 0, sizeof(*pl));
    pl->key = *k;
    if (t == PL_FLOAT64) { /* double in, double out: double accumulation and scalars */
        ct = CUBLAS_COMPUTE_64F;
        scale = CUDA_R_64F;
    }
    if ((s = PL__LT(a, cublasLtMatmulDescCreate(&pl->desc, ct, scale))) ||
        (s = PL__LT(a, cublasLtMatmulDescSetAttribute(pl->desc, CUBLASLT_MATMUL_DESC_TRANSA, &opa,
                                                      sizeof(opa)))) ||
        (s = PL__LT(a, cublasLtMatmulDescSetAttribute(pl->desc, CUBLASLT_MATMUL_DESC_TRANSB, &opb,
                                                      sizeof(opb)))) ||
        (s = PL__LT(a, cublasLtMatmulDescSetAttribute(pl->desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                                      &epi, sizeof(epi)))))
        goto fail;
    if (epi == CUBLASLT_EPILOGUE_BIAS || epi == CUBLASLT_EPILOGUE_RELU_BIAS) {
        cudaDataType_t bt = pl__cuda_type((pl_dtype)k->bt);
        if ((s = PL__LT(a, cublasLtMatmulDescSetAttribute(
                               pl->desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bt, sizeof(bt)))))
            goto fail;
    }
    /* cuBLASLt's A is our B, its B our A (see the top of the file) */
    if ((s = pl__layout(a, &pl->la, t, k->tb ? k->k : k->n, k->tb ? k->n : k->k, k->ldb,
                        k->batch, k->sb)) ||
        (s = pl__layout(a, &pl->lb, t, k->ta ? k->m : k->k, k->ta ? k->k : k->m, k->lda,
                        k->batch, k->sa)) ||
        (s = pl__layout(a, &pl->lc, t, k->n, k->m, k->ldc, k->batch, k->sc)))
        goto fail;
    if ((s = PL__LT(a, cublasLtMatmulPreferenceCreate(&pref))) ||
        (s = PL__LT(a, cublasLtMatmulPreferenceSetAttribute(
                           pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof(ws)))) ||
        (s = PL__LT(a, cublasLtMatmulPreferenceSetAttribute(
                           pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &k->al_a,
                           sizeof(k->al_a)))) ||
        (s = PL__LT(a, cublasLtMatmulPreferenceSetAttribute(
                           pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &k->al_b,
                           sizeof(k->al_b)))) ||
        (s = PL__LT(a, cublasLtMatmulPreferenceSetAttribute(
                           pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &k->al_c,
                           sizeof(k->al_c)))) ||
        (s = PL__LT(a, cublasLtMatmulPreferenceSetAttribute(
                           pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &k->al_c,
                           sizeof(k->al_c)))))
        goto fail;
    if (cublasLtMatmulAlgoGetHeuristic(c->lt, pl->desc, pl->la, pl->lb, pl->lc, pl->lc, pref,
                                       PL__LT_NTAC, pl->res, &pl->got) != CUBLAS_STATUS_SUCCESS)
        pl->got = 0;
    cublasLtMatmulPreferenceDestroy(pref);
    pl->used = true;
    return PL_OK;
fail:
    if (pref)
        cublasLtMatmulPreferenceDestroy(pref);
    pl__lt_plan_release(pl);
    return s;
}

/* One cuBLASLt call. use_epilogue false drops bias/relu (the caller applies them). *no_algo is
 * set when the heuristic offers nothing for this configuration. Plans are cached in the layer's
 * state when it has one. */
static pl_status pl__lt_call(const pl__kernel_args *a, const pl__lt_mm *p, bool use_epilogue,
                             bool *no_algo) {
    pl__cuda_ctx *c;
    pl__lt_state *st = a->state;
    pl__lt_plan local, *pl = NULL;
    pl__lt_key k;
    size_t es = pl_dtype_size(p->t);
    /* the scalars' type is the descriptor's scale type: double for float64, float otherwise */
    float alpha_f = (float)p->alpha, beta_f = (float)p->beta;
    double alpha_d = p->alpha, beta_d = p->beta;
    bool f64 = p->t == PL_FLOAT64;
    int pick;
    pl_status s;
    *no_algo = false;
    if ((s = pl__cuda_lt(a, &c)))
        return s;
    memset(&k, 0, sizeof(k));
    k.t = p->t;
    k.bt = p->bias ? p->bt : 0;
    k.ta = p->ta;
    k.tb = p->tb;
    k.epi = CUBLASLT_EPILOGUE_DEFAULT;
    if (f64)
        use_epilogue = false; /* the callers never hand float64 a bias or an activation */
    if (use_epilogue && p->bias)
        k.epi = p->relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
    else if (use_epilogue && p->relu)
        k.epi = CUBLASLT_EPILOGUE_RELU;
    k.tf32 = p->t == PL_FLOAT32 && c->tf32;
    k.m = p->m;
    k.n = p->n;
    k.k = p->k;
    k.lda = p->lda;
    k.ldb = p->ldb;
    k.ldc = p->ldc;
    k.batch = p->batch;
    k.sa = p->batch > 1 ? p->sa : 0;
    k.sb = p->batch > 1 ? p->sb : 0;
    k.sc = p->batch > 1 ? p->sc : 0;
    k.al_a = pl__align_of(p->B, es, p->ldb, k.sb);
    k.al_b = pl__align_of(p->A, es, p->lda, k.sa);
    k.al_c = pl__align_of(p->C, es, p->ldc, k.sc);
    k.ws = a->workspace_size < PL__LT_WS ? a->workspace_size : PL__LT_WS;
    if (st) {
        unsigned oldest = 0;
        for (int i = 0; i < 4 && !pl; i++)
            if (st->plan[i].used && memcmp(&st->plan[i].key, &k, sizeof(k)) == 0)
                pl = &st->plan[i];
        if (!pl) {
            for (int i = 1; i < 4; i++)
                if (!st->plan[i].used ||
                    (st->plan[oldest].used && st->plan[i].stamp < st->plan[oldest].stamp))
                    oldest = (unsigned)i;
            pl = &st->plan[oldest];
            pl__lt_plan_release(pl);
            if ((s = pl__lt_plan_make(a, c, &k, pl)))
                return s;
        }
        pl->stamp = ++st->clock;
    } else {
        pl = &local;
        if ((s = pl__lt_plan_make(a, c, &k, pl)))
            return s;
    }
    if (pl->got == 0) {
        *no_algo = true;
        s = pl__cuda_unsupported(a, "cuBLASLt offers no algorithm for this GEMM");
        goto done;
    }
    if ((k.epi == CUBLASLT_EPILOGUE_BIAS || k.epi == CUBLASLT_EPILOGUE_RELU_BIAS) &&
        (s = PL__LT(a, cublasLtMatmulDescSetAttribute(pl->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                      &p->bias, sizeof(p->bias)))))
        goto done;
    pick = a->tactic;
    if (pick >= pl->got) {
        /* while timing, a missing entry is a tactic that does not exist for this shape; in a
         * built engine running another shape, the heuristic's first choice stands in */
        if (!a->layer->kernel) {
            s = pl__cuda_unsupported(a, "cuBLASLt offers %d algorithms, tactic %d asked", pl->got,
                                     a->tactic);
            goto done;
        }
        pick = 0;
    }
    s = PL__LT(a, cublasLtMatmul(c->lt, pl->desc, f64 ? (const void *)&alpha_d : &alpha_f,
                                 p->B, pl->la, p->A, pl->lb,
                                 f64 ? (const void *)&beta_d : &beta_f, p->C, pl->lc, p->C,
                                 pl->lc, &pl->res[pick].algo, a->workspace, (size_t)k.ws,
                                 c->stream));
done:
    if (pl == &local)
        pl__lt_plan_release(&local);
    return s;
}

/* Runs p and applies the layer's remaining epilogue (bias, activation) with a kernel when
 * cuBLASLt's epilogue cannot take it. */
static pl_status pl__lt_run(const pl__kernel_args *a, pl__lt_mm *p, int act, float al, float be) {
    pl__cuda_ctx *c = a->bctx;
    bool no_algo = false;
    bool epi_relu = act == PL__ACT_RELU;
    pl_status s;
    p->relu = epi_relu;
    s = pl__lt_call(a, p, true, &no_algo);
    if (s && no_algo && (p->bias || p->relu)) {
        s = pl__lt_call(a, p, false, &no_algo);
        if (!s)
            return PL__CU(a, pl__cu_bias_act(c->stream, p->t, p->C, p->m * p->n * p->batch,
                                             p->bias, p->bt, p->n, 1, NULL, act, al, be));
    }
    if (s)
        return s;
    if (act != PL__ACT_NONE && !epi_relu)
        return PL__CU(a, pl__cu_bias_act(c->stream, p->t, p->C, p->m * p->n * p->batch, NULL,
                                         p->t, 1, 1, NULL, act, al, be));
    return PL_OK;
}

static size_t pl__lt_workspace(const pl__kernel_args *a) {
    (void)a;
    return PL__LT_WS;
}

/* ---- Gemm ---- */

static bool pl__gemm_supports(const pl__kernel_args *a) {
    const pl__tview *A = &a->in[0], *B = &a->in[1];
    bool f64 = A->dtype == PL_FLOAT64;
    int act;
    float al, be;
    if (!pl__lt_type_ok(A->dtype) || B->dtype != A->dtype || A->rank != 2 || B->rank != 2) {
        pl__cuda_unsupported(a, "2-D float32/float16/float64 operands of one type needed");
        return false;
    }
    /* float32/float16 operands take a C of either float type; float64 only a float64 C */
    if (a->nin > 2 && a->in[2].dtype != PL_DTYPE_INVALID &&
        (f64 ? a->in[2].dtype != PL_FLOAT64 : !pl__cuda_flt(a->in[2].dtype))) {
        pl__cuda_unsupported(a, "C of type %s with %s operands", pl_dtype_name(a->in[2].dtype),
                             pl_dtype_name(A->dtype));
        return false;
    }
    if (!pl__cuda_fused_act(a->layer, &act, &al, &be)) {
        pl__cuda_unsupported(a, "unknown fused activation");
        return false;
    }
    if (f64 && act != PL__ACT_NONE) {
        pl__cuda_unsupported(a, "fused activation '%s' on float64",
                             pl__attr_string(&a->layer->attrs, "activation", "?"));
        return false;
    }
    return true;
}

static pl_status pl__gemm_run(const pl__kernel_args *a) {
    const pl__tview *A = &a->in[0], *B = &a->in[1], *Y = &a->out[0];
    const pl__tview *C = a->nin > 2 && a->in[2].dtype != PL_DTYPE_INVALID ? &a->in[2] : NULL;
    const pl__attrs *at = &a->layer->attrs;
    bool f64 = A->dtype == PL_FLOAT64;
    /* float32/float16 round the scalars to float, as the CPU does; float64 keeps them */
    double alpha = pl__attr_float(at, "alpha", 1.0), beta = pl__attr_float(at, "beta", 1.0);
    pl__lt_mm p;
    int act;
    float al, be;
    pl_status s;
    memset(&p, 0, sizeof(p));
    if (!pl__gemm_supports(a))
        return PL_ERR_UNSUPPORTED;
    pl__cuda_fused_act(a->layer, &act, &al, &be);
    p.t = A->dtype;
    p.ta = pl__attr_int(at, "transA", 0) != 0;
    p.tb = pl__attr_int(at, "transB", 0) != 0;
    p.m = Y->dims[0];
    p.n = Y->dims[1];
    p.k = p.ta ? A->dims[0] : A->dims[1];
    p.A = A->data;
    p.B = B->data;
    p.C = Y->data;
    p.lda = A->dims[1];
    p.ldb = B->dims[1];
    p.ldc = p.n;
    p.batch = 1;
    if (p.m == 0 || p.n == 0)
        return PL_OK;
    if (!f64) {
        alpha = (float)alpha;
        beta = (float)beta;
    }
    p.alpha = alpha;
    if (C && beta != 0.0) {
        int64_t cm = C->rank == 2 ? C->dims[0] : 1, cn = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
        pl__cuda_ctx *c = a->bctx;
        if (f64) {
            if ((s = PL__CU(a, pl__cu_gemm_c_f64(c->stream, p.C, p.m, p.n, C->data, cm, cn,
                                                 beta))))
                return s;
            p.beta = 1.0;
        } else if (beta == 1.0 && cm == 1 && cn == p.n) {
            p.bias = C->data;
            p.bt = C->dtype;
        } else {
            if ((s = PL__CU(a, pl__cu_gemm_c(c->stream, p.t, p.C, p.m, p.n, C->data, C->dtype, cm,
                                             cn, (float)beta))))
                return s;
            p.beta = 1.0;
        }
    }
    if (p.k == 0) {
        pl__cuda_ctx *c = a->bctx;
        if (p.beta == 0.0 && (s = PL__CU(a, cudaMemsetAsync(p.C, 0, (size_t)(p.m * p.n) *
                                                                       pl_dtype_size(p.t),
                                                            c->stream))))
            return s;
        if (!p.bias && act == PL__ACT_NONE) /* float64 always ends here */
            return PL_OK;
        return PL__CU(a, pl__cu_bias_act(c->stream, p.t, p.C, p.m * p.n, p.bias, p.bt, p.n, 1,
                                         NULL, act, al, be));
    }
    return pl__lt_run(a, &p, act, al, be);
}

/* ---- MatMul ---- */

/* A strided batch, one call per batch element if cuBLASLt refuses a broadcast (stride 0) operand. */
static pl_status pl__lt_batched(const pl__kernel_args *a, const pl__lt_mm *p) {
    pl__lt_mm q = *p;
    size_t es = pl_dtype_size(p->t);
    pl_status s = pl__lt_run(a, &q, PL__ACT_NONE, 0.f, 0.f);
    if (s != PL_ERR_UNSUPPORTED || p->batch <= 1 || (p->sa != 0 && p->sb != 0))
        return s;
    pl__clear_error();
    for (int64_t i = 0; i < p->batch; i++) {
        q = *p;
        q.batch = 1;
        q.A = (const char *)p->A + i * p->sa * (int64_t)es;
        q.B = (const char *)p->B + i * p->sb * (int64_t)es;
        q.C = (char *)p->C + i * p->sc * (int64_t)es;
        if ((s = pl__lt_run(a, &q, PL__ACT_NONE, 0.f, 0.f)))
            return s;
    }
    return PL_OK;
}

static bool pl__matmul_supports(const pl__kernel_args *a) {
    const pl__tview *A = &a->in[0], *B = &a->in[1];
    if (!pl__lt_type_ok(A->dtype) || B->dtype != A->dtype || A->rank < 1 || B->rank < 1) {
        pl__cuda_unsupported(a, "float32/float16/float64 operands of one type needed");
        return false;
    }
    return true;
}

static pl_status pl__matmul_run(const pl__kernel_args *a) {
    const pl__tview *A = &a->in[0], *B = &a->in[1], *Y = &a->out[0];
    pl__matmul_geom g;
    const int64_t *bd, *sa, *sb;
    int64_t m, k, n, nb;
    int r;
    bool a_one, b_one;
    pl__lt_mm p;
    size_t es = pl_dtype_size(A->dtype);
    pl_status s;
    if (!pl__matmul_supports(a))
        return PL_ERR_UNSUPPORTED;
    pl__matmul_geometry(A, B, &g);
    m = g.m;
    k = g.k;
    n = g.n;
    nb = g.nb;
    r = g.rank;
    bd = g.dims;
    sa = g.sa;
    sb = g.sb;
    a_one = g.anb == 1;
    b_one = g.bnb == 1;
    memset(&p, 0, sizeof(p));
    p.t = A->dtype;
    p.n = n;
    p.k = k;
    p.A = A->data;
    p.B = B->data;
    p.C = Y->data;
    p.lda = k;
    p.ldb = n;
    p.ldc = n;
    p.batch = 1;
    p.alpha = 1.0;
    if (pl__tview_numel(Y) == 0)
        return PL_OK;
    if (k == 0) {
        pl__cuda_ctx *c = a->bctx;
        return PL__CU(a, cudaMemsetAsync(Y->data, 0, pl__tview_bytes(Y), c->stream));
    }
    if (b_one) { /* B shared by the whole batch: one GEMM with A's rows stacked */
        p.m = m * nb;
        return pl__lt_run(a, &p, PL__ACT_NONE, 0.f, 0.f);
    }
    p.m = m;
    p.sc = m * n;
    if ((g.a_full || a_one) && (g.b_full || b_one)) {
        p.batch = nb;
        p.sa = a_one ? 0 : m * k;
        p.sb = b_one ? 0 : k * n;
        return pl__lt_batched(a, &p);
    }
    /* mixed broadcast: one strided batch over the last batch dim per index of the others */
    {
        int64_t outer = nb / bd[r - 1], idx[PL_MAX_RANK] = {0};
        if (outer > 4096)
            return pl__cuda_unsupported(a, "broadcast batch of %lld GEMM calls", (long long)outer);
        p.batch = bd[r - 1];
        p.sa = sa[r - 1];
        p.sb = sb[r - 1];
        for (int64_t o = 0; o < outer; o++) {
            int64_t oa = 0, ob = 0, rem = o;
            for (int i = r - 2; i >= 0; i--) {
                idx[i] = rem % bd[i];
                rem /= bd[i];
                oa += idx[i] * sa[i];
                ob += idx[i] * sb[i];
            }
            p.A = (const char *)A->data + oa * (int64_t)es;
            p.B = (const char *)B->data + ob * (int64_t)es;
            p.C = (char *)Y->data + o * p.batch * m * n * (int64_t)es;
            if ((s = pl__lt_batched(a, &p)))
                return s;
        }
    }
    return PL_OK;
}

const pl__kernel_def pl__cuda_kernels_gemm[] = {
    {.op = "Gemm", .run = pl__gemm_run, .supports = pl__gemm_supports,
     .workspace = pl__lt_workspace, .ntactics = PL__LT_NTAC, .tactic_names = pl__lt_tactics,
     .state_create = pl__lt_state_create, .state_destroy = pl__lt_state_destroy},
    {.op = "MatMul", .run = pl__matmul_run, .supports = pl__matmul_supports,
     .workspace = pl__lt_workspace, .ntactics = PL__LT_NTAC, .tactic_names = pl__lt_tactics,
     .state_create = pl__lt_state_create, .state_destroy = pl__lt_state_destroy},
    {0},
};
