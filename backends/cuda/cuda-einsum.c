/*
 * cuda-einsum.c - Einsum on the GPU: the equation is parsed by the shared parser (ops-nn.h) and
 * run by one generic kernel (cuda-einsum.cu) that gives each output element a thread summing over
 * the contracted labels, for any equation of up to 8 float32 or float16 operands (diagonals,
 * traces, broadcasting ellipses), favouring correctness over speed. Two-input equations that are
 * a strided-batched GEMM as stored (A = [batch, M, K] or [batch, K, M], B = [batch, K, N] or
 * [batch, N, K], output [batch, M, N], each group a run of labels in one order; no diagonals or
 * broadcasting) go to cuBLASLt instead: "bij,bjk->bik", attention's "bhqd,bhkd->bhqk". Equations
 * that would need an operand permuted first take the generic kernel; so does any shape for which
 * cuBLASLt's heuristic offers no algorithm.
 */
#include <stdint.h>
#include <string.h>

#include "backends/cuda/cuda-einsum.cuh"
#include "backends/cuda/cuda-internal.h"
#include "graph/ops-nn.h"

static pl_status pl__ein_plan(const pl__kernel_args *a, pl__cu_einsum *p) {
    pl__infer ic = {a->layer, a->nin, a->in, a->nout, a->out};
    pl__einsum e;
    int64_t st[PL__EINSUM_MAX_IN][PL__EINSUM_LABELS];
    bool in_out[PL__EINSUM_LABELS];
    pl_dtype t = a->in[0].dtype;
    pl_status s;
    memset(p, 0, sizeof(*p));
    if ((s = pl__einsum_parse(&ic, &e)))
        return s;
    if (e.nin < 1 || e.nin > PL__CU_EIN_MAX_IN)
        return pl__cuda_unsupported(a, "%d operands, 1 to %d handled", e.nin, PL__CU_EIN_MAX_IN);
    if (!pl__cuda_flt(t) || a->out[0].dtype != t)
        return pl__cuda_unsupported(a, "float32 or float16 operands needed (got %s)",
                                    pl_dtype_name(t));
    if (e.out_rank > 8 || a->out[0].rank != e.out_rank)
        return pl__cuda_unsupported(a, "output rank %d does not match the equation's %d",
                                    a->out[0].rank, e.out_rank);
    memset(in_out, 0, sizeof(in_out));
    for (int j = 0; j < e.out_rank; j++)
        in_out[e.out_lab[j]] = true;
    for (int i = 0; i < e.nin; i++) {
        int64_t acc = 1;
        if (a->in[i].dtype != t)
            return pl__cuda_unsupported(a, "operands of one float type needed (%s and %s)",
                                        pl_dtype_name(t), pl_dtype_name(a->in[i].dtype));
        if (a->in[i].rank != e.rank[i])
            return pl__cuda_unsupported(a, "operand %d rank %d differs from the equation's %d", i,
                                        a->in[i].rank, e.rank[i]);
        for (int l = 0; l < PL__EINSUM_LABELS; l++)
            st[i][l] = 0;
        /* a repeated label sums its axes' strides (walking it walks the diagonal); a broadcast
         * axis (extent 1 against a larger label) contributes none */
        for (int x = a->in[i].rank - 1; x >= 0; x--) {
            int l = e.lab[i][x];
            if (a->in[i].dims[x] == e.dim[l])
                st[i][l] += acc;
            acc *= a->in[i].dims[x];
        }
    }
    p->nin = e.nin;
    p->orank = e.out_rank;
    for (int j = 0; j < e.out_rank; j++) {
        int l = e.out_lab[j];
        p->odim[j] = a->out[0].dims[j];
        if (p->odim[j] != e.dim[l] && !(e.dim[l] <= 1 && p->odim[j] <= 1))
            return pl__cuda_unsupported(a, "output dim %d is %lld, the label's extent %lld", j,
                                        (long long)p->odim[j], (long long)e.dim[l]);
        for (int i = 0; i < e.nin; i++)
            p->ost[i][j] = st[i][l];
    }
    for (int l = 0; l < PL__EINSUM_LABELS; l++) {
        if (!e.used[l] || in_out[l])
            continue;
        if (p->nsum >= PL__CU_EIN_MAX_SUM)
            return pl__cuda_unsupported(a, "more than %d contracted labels", PL__CU_EIN_MAX_SUM);
        p->sdim[p->nsum] = e.dim[l];
        for (int i = 0; i < e.nin; i++)
            p->sst[i][p->nsum] = st[i][l];
        p->nsum++;
    }
    return PL_OK;
}

/* ---- the batched-GEMM mapping ---- */

typedef struct pl__ein_mm {
    bool ta, tb; /* A stored [K, M], B stored [N, K] (per batch, row-major) */
    int64_t batch, m, n, k;
} pl__ein_mm;

static int pl__ein_find(const int8_t *lab, int n, int l) {
    for (int i = 0; i < n; i++)
        if (lab[i] == l)
            return i;
    return -1;
}

/* Whether lab[0..n) is g1 followed by g2 (both lists of labels). */
static bool pl__ein_seq(const int8_t *lab, int n, const int8_t *g1, int n1, const int8_t *g2,
                        int n2) {
    if (n != n1 + n2)
        return false;
    for (int i = 0; i < n1; i++)
        if (lab[i] != g1[i])
            return false;
    for (int i = 0; i < n2; i++)
        if (lab[n1 + i] != g2[i])
            return false;
    return true;
}

/* Whether the equation is a strided-batched GEMM of the operands as stored (see the top). */
static bool pl__ein_gemm_map(const pl__kernel_args *a, pl__ein_mm *mm) {
    pl__infer ic = {a->layer, a->nin, a->in, a->nout, a->out};
    pl__einsum e;
    int8_t bl[PL_MAX_RANK], ml[PL_MAX_RANK], nl[PL_MAX_RANK], kl[PL_MAX_RANK], bm[16], ak[16];
    int nb = 0, nm = 0, nn = 0, nk = 0, cat = 0;
    const int8_t *la, *lb;
    int ra, rb;
    if (pl__einsum_parse(&ic, &e) != PL_OK) {
        pl__clear_error();
        return false;
    }
    if (e.nin != 2 || a->in[0].dtype != a->in[1].dtype || a->out[0].dtype != a->in[0].dtype)
        return false;
    la = e.lab[0];
    lb = e.lab[1];
    ra = e.rank[0];
    rb = e.rank[1];
    for (int i = 0; i < 2; i++)
        for (int x = 0; x < e.rank[i]; x++) {
            if (a->in[i].dims[x] != e.dim[e.lab[i][x]] ||
                pl__ein_find(e.lab[i], x, e.lab[i][x]) >= 0) /* broadcast or diagonal */
                return false;
        }
    /* output labels: batch (in both), M (A only), N (B only), in that order of groups */
    for (int j = 0; j < e.out_rank; j++) {
        int l = e.out_lab[j], c;
        bool ia = pl__ein_find(la, ra, l) >= 0, ib = pl__ein_find(lb, rb, l) >= 0;
        c = ia && ib ? 0 : ia ? 1 : ib ? 2 : 3;
        if (c == 3 || c < cat)
            return false;
        cat = c;
        if (c == 0)
            bl[nb++] = (int8_t)l;
        else if (c == 1)
            ml[nm++] = (int8_t)l;
        else
            nl[nn++] = (int8_t)l;
    }
    /* contracted labels must be in both operands (no one-sided sums); K order as in A */
    for (int x = 0; x < ra; x++)
        if (pl__ein_find(e.out_lab, e.out_rank, la[x]) < 0) {
            if (pl__ein_find(lb, rb, la[x]) < 0)
                return false;
            kl[nk++] = la[x];
        }
    for (int x = 0; x < rb; x++)
        if (pl__ein_find(e.out_lab, e.out_rank, lb[x]) < 0 && pl__ein_find(la, ra, lb[x]) < 0)
            return false;
    /* A = batch + (M + K | K + M), B = batch + (K + N | N + K) */
    memcpy(bm, bl, (size_t)nb);
    memcpy(bm + nb, ml, (size_t)nm);
    memcpy(ak, bl, (size_t)nb);
    memcpy(ak + nb, kl, (size_t)nk);
    if (pl__ein_seq(la, ra, bm, nb + nm, kl, nk))
        mm->ta = false;
    else if (pl__ein_seq(la, ra, ak, nb + nk, ml, nm))
        mm->ta = true;
    else
        return false;
    if (pl__ein_seq(lb, rb, ak, nb + nk, nl, nn))
        mm->tb = false;
    else {
        memcpy(bm + nb, nl, (size_t)nn);
        if (!pl__ein_seq(lb, rb, bm, nb + nn, kl, nk))
            return false;
        mm->tb = true;
    }
    mm->batch = mm->m = mm->n = mm->k = 1;
    for (int i = 0; i < nb; i++)
        mm->batch *= e.dim[bl[i]];
    for (int i = 0; i < nm; i++)
        mm->m *= e.dim[ml[i]];
    for (int i = 0; i < nn; i++)
        mm->n *= e.dim[nl[i]];
    for (int i = 0; i < nk; i++)
        mm->k *= e.dim[kl[i]];
    return mm->batch < INT32_MAX && mm->m < INT32_MAX && mm->n < INT32_MAX &&
           mm->k < INT32_MAX && mm->batch > 0 && mm->m > 0 && mm->n > 0 && mm->k > 0;
}

static pl_status pl__ein_layout(const pl__kernel_args *a, cublasLtMatrixLayout_t *l,
                                cudaDataType_t dt, int64_t rows, int64_t cols, int64_t batch,
                                int64_t stride) {
    int32_t bc = (int32_t)batch;
    pl_status s;
    if ((s = PL__LT(a, cublasLtMatrixLayoutCreate(l, dt, (uint64_t)rows, (uint64_t)cols, rows))))
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

/* Largest power of two (at most 256) dividing the address and the byte strides. */
static uint32_t pl__ein_align(const void *p, size_t es, int64_t ld, int64_t stride) {
    uint64_t v = (uint64_t)(uintptr_t)p | (uint64_t)ld * es | (uint64_t)stride * es | 256u;
    return (uint32_t)(v & (~v + 1));
}

/* Row-major C[M, N] = A B per batch, as column-major C^T[N, M] = B^T A^T: cuBLASLt's first
 * operand is B (column-major N x K, or K x N transposed when B is stored [N, K]), its second A.
 * Sets *done false (and returns PL_OK) when the heuristic offers no algorithm. */
static pl_status pl__ein_gemm(const pl__kernel_args *a, const pl__ein_mm *mm, bool *done) {
    pl__cuda_ctx *c;
    cublasLtMatmulDesc_t desc = NULL;
    cublasLtMatrixLayout_t lb = NULL, la = NULL, lc = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    cublasLtMatmulHeuristicResult_t res;
    cudaDataType_t dt = a->in[0].dtype == PL_FLOAT16 ? CUDA_R_16F : CUDA_R_32F;
    cublasOperation_t opb = mm->tb ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t opa = mm->ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    uint64_t wsz = 0;
    float one = 1.f, zero = 0.f;
    int got = 0;
    pl_status s;
    *done = false;
    if ((s = pl__cuda_lt(a, &c)))
        return s;
    s = PL__LT(a, cublasLtMatmulDescCreate(&desc,
                                           a->in[0].dtype == PL_FLOAT32 && c->tf32
                                               ? CUBLAS_COMPUTE_32F_FAST_TF32
                                               : CUBLAS_COMPUTE_32F,
                                           CUDA_R_32F));
    if (!s)
        s = PL__LT(a, cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &opb,
                                                     sizeof(opb)));
    if (!s)
        s = PL__LT(a, cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &opa,
                                                     sizeof(opa)));
    /* stored shapes, column-major: B as [N rows, K cols] or (transposed) [K, N]; A as [K, M] or
     * [M, K]; C as [N, M] */
    if (!s)
        s = pl__ein_layout(a, &lb, dt, mm->tb ? mm->k : mm->n, mm->tb ? mm->n : mm->k, mm->batch,
                           mm->k * mm->n);
    if (!s)
        s = pl__ein_layout(a, &la, dt, mm->ta ? mm->m : mm->k, mm->ta ? mm->k : mm->m, mm->batch,
                           mm->m * mm->k);
    if (!s)
        s = pl__ein_layout(a, &lc, dt, mm->n, mm->m, mm->batch, mm->m * mm->n);
    if (!s)
        s = PL__LT(a, cublasLtMatmulPreferenceCreate(&pref));
    if (!s)
        s = PL__LT(a, cublasLtMatmulPreferenceSetAttribute(
                          pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsz, sizeof(wsz)));
    /* algorithms assume 256-byte aligned operands unless told: the strided batches and leading
     * dimensions may align to less */
    if (!s) {
        size_t es = pl_dtype_size(a->in[0].dtype);
        uint32_t al[3];
        cublasLtMatmulPreferenceAttributes_t which[3] = {
            CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
            CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES};
        al[0] = pl__ein_align(a->in[1].data, es, mm->tb ? mm->k : mm->n, mm->k * mm->n);
        al[1] = pl__ein_align(a->in[0].data, es, mm->ta ? mm->m : mm->k, mm->m * mm->k);
        al[2] = pl__ein_align(a->out[0].data, es, mm->n, mm->m * mm->n);
        for (int i = 0; i < 3 && !s; i++)
            s = PL__LT(a, cublasLtMatmulPreferenceSetAttribute(pref, which[i], &al[i],
                                                               sizeof(al[i])));
        if (!s)
            s = PL__LT(a, cublasLtMatmulPreferenceSetAttribute(
                              pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &al[2],
                              sizeof(al[2])));
    }
    if (!s) {
        cublasStatus_t hs = cublasLtMatmulAlgoGetHeuristic(c->lt, desc, lb, la, lc, lc, pref, 1,
                                                           &res, &got);
        if (hs != CUBLAS_STATUS_SUCCESS || got < 1)
            got = 0; /* no algorithm: the generic kernel runs it */
    }
    if (!s && got > 0) {
        s = PL__LT(a, cublasLtMatmul(c->lt, desc, &one, a->in[1].data, lb, a->in[0].data, la,
                                     &zero, a->out[0].data, lc, a->out[0].data, lc, &res.algo,
                                     NULL, 0, c->stream));
        *done = s == PL_OK;
    }
    if (pref)
        cublasLtMatmulPreferenceDestroy(pref);
    if (lc)
        cublasLtMatrixLayoutDestroy(lc);
    if (la)
        cublasLtMatrixLayoutDestroy(la);
    if (lb)
        cublasLtMatrixLayoutDestroy(lb);
    if (desc)
        cublasLtMatmulDescDestroy(desc);
    return s;
}

static bool pl__ein_supports(const pl__kernel_args *a) {
    pl__cu_einsum p;
    return pl__ein_plan(a, &p) == PL_OK;
}

static pl_status pl__ein_run(const pl__kernel_args *a) {
    pl__cu_einsum p;
    pl__cuda_ctx *c = pl__cuda_ctx_of(a);
    const void *x[PL__CU_EIN_MAX_IN];
    pl_status s;
    pl__ein_mm mm;
    if ((s = pl__ein_plan(a, &p)))
        return s;
    if (pl__tview_numel(&a->out[0]) == 0)
        return PL_OK;
    if (pl__ein_gemm_map(a, &mm)) {
        bool done = false;
        if ((s = pl__ein_gemm(a, &mm, &done)))
            return s;
        if (done)
            return PL_OK;
    }
    for (int i = 0; i < p.nin; i++)
        x[i] = a->in[i].data;
    return PL__CU(a, pl__cu_einsum_generic(c->stream, a->in[0].dtype, x, a->out[0].data,
                                           pl__tview_numel(&a->out[0]), &p));
}

const pl__kernel_def pl__cuda_kernels_einsum[] = {
    {.op = "Einsum", .run = pl__ein_run, .supports = pl__ein_supports},
    {0},
};
