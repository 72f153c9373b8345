/*
 * cpu-gemm.c - MatMul, Gemm and Einsum on the CPU.
 *
 * Float GEMMs go to OpenBLAS, kept single-threaded (pl__cpu_blas_serial): the backend's threads
 * run either one batch element each or one block of a split GEMM each, so the thread count the
 * user set holds and parallel execution contexts never queue on OpenBLAS's single pool. A MatMul
 * whose B has no batch dims folds A's batch into M: one GEMM.
 *
 * Einsum: two-input equations that are a batched contraction (every label is a batch, M, N or K
 * label; no diagonals, broadcasting or one-sided sums) become batched GEMMs, after permuting an
 * operand or the result only when its axes are not already grouped; everything else (traces,
 * diagonals, sums, three inputs, broadcasting) runs a generic strided loop accumulating in
 * double.
 */
#include <cblas.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "backends/cpu/cpu-nn.h"

typedef struct pl__gemm_batch {
    bool ta, tb;
    int m, n, k, lda, ldb, ldc;
    float alpha, beta;
    pl_dtype dtype;          /* PL_FLOAT32 or PL_FLOAT64 */
    const char *a, *b;       /* bytes */
    char *c;
    const int64_t *aoff, *boff; /* per batch element offsets in elements (NULL: i * stride) */
    int64_t astride, bstride, cstride;
} pl__gemm_batch;

/* A batch of equal-shaped float GEMMs, each cut into bm x bn blocks; task t is block
 * t % (bm * bn) of batch element t / (bm * bn). */
typedef struct pl__sgemm_job {
    bool ta, tb;
    int64_t m, n, k, lda, ldb, ldc, mb, nb, bm, bn;
    float alpha, beta;
    const float *A, *B;
    float *C;
    const int64_t *aoff, *boff; /* per batch element, in elements; NULL: i * stride */
    int64_t astride, bstride, cstride;
} pl__sgemm_job;

/* One row (m = 1) or one column (n = 1) is a matrix-vector product: GEMV streams the matrix
 * once, where GEMM would first pack all of it for a single row. */
static void pl__sgemv_block(const pl__sgemm_job *j, const float *A, const float *B, float *C,
                            int64_t i0, int64_t m, int64_t j0, int64_t n) {
    if (j->m == 1) {
        /* y[j0..] (n) = op(B)[:, j0..]^T a, a = op(A) row 0 (stride lda when A is transposed). */
        cblas_sgemv(CblasRowMajor, j->tb ? CblasNoTrans : CblasTrans,
                    j->tb ? (int)n : (int)j->k, j->tb ? (int)j->k : (int)n, j->alpha,
                    B + (j->tb ? j0 * j->ldb : j0), (int)j->ldb, A, j->ta ? (int)j->lda : 1,
                    j->beta, C + j0, 1);
    } else {
        /* y[i0..] (m, stride ldc) = op(A)[i0.., :] b, b = op(B) column 0. */
        cblas_sgemv(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans,
                    j->ta ? (int)j->k : (int)m, j->ta ? (int)m : (int)j->k, j->alpha,
                    A + (j->ta ? i0 : i0 * j->lda), (int)j->lda, B, j->tb ? 1 : (int)j->ldb,
                    j->beta, C + i0 * j->ldc, (int)j->ldc);
    }
}

static void pl__sgemm_range(void *arg, int64_t b, int64_t e) {
    const pl__sgemm_job *j = arg;
    for (int64_t t = b; t < e; t++) {
        int64_t bi = t / (j->bm * j->bn), r = t % (j->bm * j->bn);
        int64_t i0 = r / j->bn * j->mb, j0 = r % j->bn * j->nb;
        int64_t m = i0 + j->mb < j->m ? j->mb : j->m - i0;
        int64_t n = j0 + j->nb < j->n ? j->nb : j->n - j0;
        const float *A = j->A + (j->aoff ? j->aoff[bi] : bi * j->astride);
        const float *B = j->B + (j->boff ? j->boff[bi] : bi * j->bstride);
        float *C = j->C + bi * j->cstride;
        if (m <= 0 || n <= 0)
            continue;
        if (j->m == 1 || j->n == 1) {
            pl__sgemv_block(j, A, B, C, i0, m, j0, n);
            continue;
        }
        cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans,
                    j->tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)j->k, j->alpha,
                    A + (j->ta ? i0 : i0 * j->lda), (int)j->lda, B + (j->tb ? j0 * j->ldb : j0),
                    (int)j->ldb, j->beta, C + i0 * j->ldc + j0, (int)j->ldc);
    }
}

/* Runs nbatch GEMMs: with at least as many batch elements as threads, one whole GEMM per task;
 * otherwise each is cut so that all batch elements together give every thread a block. */
static void pl__sgemm_run(void *bctx, pl__sgemm_job *j, int64_t nbatch) {
    int64_t threads = pl__cpu_num_threads(bctx), per, bm = 1, bn = 1, m = j->m, n = j->n;
    int64_t k = j->k, work;
    if (nbatch <= 0 || m == 0 || n == 0)
        return;
    per = threads > nbatch ? (threads + nbatch - 1) / nbatch : 1;
    /* Below ~2^17 multiply-adds a split costs more than it saves. */
    if (per > 1 && m * n * k >= ((int64_t)1 << 17)) {
        if (m == 1) /* GEMV: no packing to trade against, just split the long side */
            bn = n / 64 < per ? (n + 63) / 64 : per;
        else if (n == 1)
            bm = m / 64 < per ? (m + 63) / 64 : per;
        else
            pl__cpu_gemm_grid(per, m, n, k, 0, &bm, &bn);
    }
    j->mb = ((m + bm - 1) / bm + 15) & ~(int64_t)15;
    j->bm = (m + j->mb - 1) / j->mb;
    j->nb = (n + bn - 1) / bn;
    j->bn = (n + j->nb - 1) / j->nb;
    work = j->mb * j->nb * (k > 0 ? k : 1);
    if (nbatch * j->bm * j->bn == 1)
        pl__sgemm_range(j, 0, 1);
    else
        pl__cpu_parallel_for(bctx, nbatch * j->bm * j->bn, work >= 16384 ? 1 : 16384 / work,
                             pl__sgemm_range, j);
}

void pl__cpu_sgemm(void *bctx, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                   int64_t ldc) {
    pl__sgemm_job j = {.ta = ta, .tb = tb, .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb,
                       .ldc = ldc, .alpha = alpha, .beta = beta, .A = A, .B = B, .C = C};
    pl__cpu_blas_serial();
    pl__sgemm_run(bctx, &j, 1);
}

static void pl__gemm_batch_range(void *arg, int64_t b, int64_t e) {
    const pl__gemm_batch *g = arg;
    size_t es = pl_dtype_size(g->dtype);
    for (int64_t i = b; i < e; i++) {
        int64_t ao = g->aoff ? g->aoff[i] : i * g->astride;
        int64_t bo = g->boff ? g->boff[i] : i * g->bstride;
        const void *pa = g->a + ao * (int64_t)es, *pb = g->b + bo * (int64_t)es;
        void *pc = g->c + i * g->cstride * (int64_t)es;
        if (g->dtype == PL_FLOAT64)
            cblas_dgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                        g->tb ? CblasTrans : CblasNoTrans, g->m, g->n, g->k, g->alpha, pa, g->lda,
                        pb, g->ldb, g->beta, pc, g->ldc);
        else
            cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans,
                        g->tb ? CblasTrans : CblasNoTrans, g->m, g->n, g->k, g->alpha, pa, g->lda,
                        pb, g->ldb, g->beta, pc, g->ldc);
    }
}

static void pl__gemm_batch_run(void *bctx, const pl__gemm_batch *g, int64_t nb) {
    int64_t mnk = (int64_t)g->m * g->n * g->k;
    if (nb <= 0)
        return;
    if (g->k == 0) {
        /* BLAS leaves C untouched for k = 0 only when beta = 1; clear it ourselves. */
        size_t es = pl_dtype_size(g->dtype);
        if (g->beta == 0.f)
            for (int64_t i = 0; i < nb; i++)
                for (int r = 0; r < g->m; r++)
                    memset(g->c + (i * g->cstride + (int64_t)r * g->ldc) * (int64_t)es, 0,
                           es * (size_t)g->n);
        return;
    }
    pl__cpu_blas_serial();
    if (g->dtype == PL_FLOAT32) {
        pl__sgemm_job j = {.ta = g->ta, .tb = g->tb, .m = g->m, .n = g->n, .k = g->k,
                           .lda = g->lda, .ldb = g->ldb, .ldc = g->ldc, .alpha = g->alpha,
                           .beta = g->beta, .A = (const float *)g->a, .B = (const float *)g->b,
                           .C = (float *)g->c, .aoff = g->aoff, .boff = g->boff,
                           .astride = g->astride, .bstride = g->bstride, .cstride = g->cstride};
        pl__sgemm_run(bctx, &j, nb);
        return;
    }
    pl__cpu_parallel_for(bctx, nb, mnk >= 16384 ? 1 : 16384 / (mnk ? mnk : 1),
                         pl__gemm_batch_range, (void *)g);
}

static bool pl__int_ok(int64_t v) { return v >= 0 && v <= INT_MAX; }

/* Debian 12's OpenBLAS (0.3.21) predates Sapphire/Emerald Rapids: its DYNAMIC_ARCH dispatch falls
 * back to the SSE3 "Prescott" kernels there, 4-5x slower than its AVX-512 ones. When the user did
 * not pick a core (OPENBLAS_CORETYPE) and OpenBLAS chose an SSE-era one on a CPU with AVX2 or
 * AVX-512, re-run its dispatch with the newest core the CPU can run. The two functions are
 * exported by DYNAMIC_ARCH builds only, hence weak. */
#if defined(__x86_64__) && defined(__GNUC__)
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

static void pl__blas_pick_core(void) {
    static const char *const sse_era[] = {"prescott", "core2",      "penryn", "dunnington",
                                          "nehalem",  "atom",       "northwood", "banias",
                                          "katmai",   "coppermine", "barcelona", "opteron"};
    const char *core = openblas_get_corename(), *want = NULL;
    bool old = false;
    if (getenv("OPENBLAS_CORETYPE") || !core || !gotoblas_dynamic_init || !gotoblas_dynamic_quit)
        return;
    for (size_t i = 0; i < sizeof(sse_era) / sizeof(sse_era[0]); i++)
        old = old || strncasecmp(core, sse_era[i], strlen(sse_era[i])) == 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        want = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        want = "Haswell";
    if (!old || !want)
        return;
    pl__log(PL_LOG_INFO, "OpenBLAS chose its '%s' kernels on a CPU with %s; switching to '%s' "
            "(set OPENBLAS_CORETYPE to choose)", core, want[0] == 'S' ? "AVX-512" : "AVX2", want);
    setenv("OPENBLAS_CORETYPE", want, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    unsetenv("OPENBLAS_CORETYPE");
}
#else
static void pl__blas_pick_core(void) {}
#endif

static pthread_once_t pl__blas_once = PTHREAD_ONCE_INIT;
static void pl__blas_serial_init(void) {
    pl__blas_pick_core();
    openblas_set_num_threads(1);
}
void pl__cpu_blas_serial(void) { pthread_once(&pl__blas_once, pl__blas_serial_init); }

void pl__cpu_gemm_grid(int64_t threads, int64_t m, int64_t n, int64_t k, int64_t b_cap,
                       int64_t *bm, int64_t *bn) {
    /* Cost per thread in flop-equivalents: the rounds of blocks it runs, each its multiply
     * (rows rounded up to the 16-row and columns to the 4-column kernel tile) plus packing both
     * operand blocks, a packed float counted as ~16 flops. */
    double best = -1;
    int64_t max_bm = (m + 15) / 16, max_bn = (n + 15) / 16;
    *bm = *bn = 1;
    if (threads < 1)
        threads = 1;
    if (max_bm > 4 * threads)
        max_bm = 4 * threads;
    if (max_bn > 8 * threads)
        max_bn = 8 * threads;
    if (max_bm < 1)
        max_bm = 1;
    if (max_bn < 1)
        max_bn = 1;
    for (int64_t i = 1; i <= max_bm; i++) {
        for (int64_t j = 1; j <= max_bn; j++) {
            int64_t mb = (m + i - 1) / i, nb = (n + j - 1) / j;
            int64_t rounds = (i * j + threads - 1) / threads;
            double cost;
            if (b_cap > 0 && k * nb > b_cap && j < max_bn)
                continue;
            cost = (double)rounds * (2.0 * (double)((mb + 15) & ~15) * (double)((nb + 3) & ~3) *
                                         (double)k + 16.0 * (double)k * (double)(mb + nb));
            if (best < 0 || cost < best) {
                best = cost;
                *bm = i;
                *bn = j;
            }
        }
    }
}

/* ---- MatMul ---- */

typedef struct pl__imatmul_job {
    const void *a, *b;
    void *c;
    pl_dtype t;
    const int64_t *aoff, *boff;
    int64_t m, n, k;
} pl__imatmul_job;

static void pl__imatmul_range(void *arg, int64_t b, int64_t e) {
    const pl__imatmul_job *j = arg;
    for (int64_t r = b; r < e; r++) {
        int64_t bi = r / j->m, i = r % j->m;
        if (j->t == PL_INT64) {
            const int64_t *pa = (const int64_t *)j->a + j->aoff[bi] + i * j->k;
            const int64_t *pb = (const int64_t *)j->b + j->boff[bi];
            int64_t *pc = (int64_t *)j->c + r * j->n;
            for (int64_t x = 0; x < j->n; x++)
                pc[x] = 0;
            for (int64_t p = 0; p < j->k; p++)
                for (int64_t x = 0; x < j->n; x++) /* wrap like ONNX Runtime, without UB */
                    pc[x] = (int64_t)((uint64_t)pc[x] +
                                      (uint64_t)pa[p] * (uint64_t)pb[p * j->n + x]);
        } else {
            const int32_t *pa = (const int32_t *)j->a + j->aoff[bi] + i * j->k;
            const int32_t *pb = (const int32_t *)j->b + j->boff[bi];
            int32_t *pc = (int32_t *)j->c + r * j->n;
            for (int64_t x = 0; x < j->n; x++)
                pc[x] = 0;
            for (int64_t p = 0; p < j->k; p++)
                for (int64_t x = 0; x < j->n; x++)
                    pc[x] = (int32_t)((uint32_t)pc[x] +
                                      (uint32_t)pa[p] * (uint32_t)pb[p * j->n + x]);
        }
    }
}

pl_status pl__cpu_matmul(const pl__kernel_args *a) {
    const pl__tview *A = &a->in[0], *B = &a->in[1], *Y = &a->out[0];
    int64_t m, k, n, nb, idx[PL_MAX_RANK] = {0};
    int64_t *aoff = NULL, *boff = NULL;
    const int64_t *bdims, *sa, *sb;
    pl__matmul_geom geo;
    int r;
    pl_status st = PL_OK;
    if (A->rank < 1 || B->rank < 1)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (MatMul): operands need rank >= 1",
                        pl__layer_label(a->layer));
    pl__matmul_geometry(A, B, &geo);
    m = geo.m;
    k = geo.k;
    n = geo.n;
    nb = geo.nb;
    r = geo.rank;
    bdims = geo.dims;
    sa = geo.sa;
    sb = geo.sb;
    if (nb == 0 || m == 0 || n == 0)
        return PL_OK;
    if (geo.bnb == 1 && geo.anb == nb) {
        /* B shared by every batch element: fold the batch into M. */
        m *= nb;
        nb = 1;
    }
    if (!pl__int_ok(m) || !pl__int_ok(n) || !pl__int_ok(k))
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (MatMul): extents exceed the BLAS int range",
                        pl__layer_label(a->layer));
    if (nb > 1) {
        aoff = malloc(sizeof(int64_t) * (size_t)nb);
        boff = malloc(sizeof(int64_t) * (size_t)nb);
        if (!aoff || !boff) {
            st = pl__fail(PL_ERR_NOMEM, "node '%s' (MatMul): out of memory",
                          pl__layer_label(a->layer));
            goto done;
        }
        for (int64_t i = 0; i < nb; i++) {
            int64_t oa = 0, ob = 0;
            for (int d = 0; d < r; d++) {
                oa += idx[d] * sa[d];
                ob += idx[d] * sb[d];
            }
            aoff[i] = oa;
            boff[i] = ob;
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < bdims[d])
                    break;
                idx[d] = 0;
            }
        }
    }
    if (A->dtype == PL_FLOAT32 || A->dtype == PL_FLOAT64) {
        pl__gemm_batch g = {false, false, (int)m, (int)n, (int)k, (int)k, (int)n, (int)n,
                            1.f, 0.f, A->dtype, A->data, B->data, Y->data, aoff, boff,
                            0, 0, m * n};
        pl__gemm_batch_run(a->bctx, &g, nb);
    } else if (A->dtype == PL_INT32 || A->dtype == PL_INT64) {
        int64_t zero = 0;
        pl__imatmul_job j = {A->data, B->data, Y->data, A->dtype,
                             aoff ? aoff : &zero, boff ? boff : &zero, m, n, k};
        int64_t row_work = k * n > 0 ? k * n : 1;
        pl__cpu_parallel_for(a->bctx, nb * m, row_work >= 4096 ? 1 : 4096 / row_work,
                             pl__imatmul_range, &j);
    } else {
        st = pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (MatMul): dtype %s",
                      pl__layer_label(a->layer), pl_dtype_name(A->dtype));
    }
done:
    free(aoff);
    free(boff);
    return st;
}

/* ---- Gemm ---- */

pl_status pl__cpu_gemm(const pl__kernel_args *a) {
    const pl__tview *A = &a->in[0], *B = &a->in[1], *Y = &a->out[0];
    const pl__tview *C = a->nin > 2 && a->in[2].data ? &a->in[2] : NULL;
    const pl__attrs *at = &a->layer->attrs;
    bool ta = pl__attr_int(at, "transA", 0) != 0, tb = pl__attr_int(at, "transB", 0) != 0;
    float alpha = (float)pl__attr_float(at, "alpha", 1.0);
    float beta = (float)pl__attr_float(at, "beta", 1.0);
    int64_t m = Y->dims[0], n = Y->dims[1], k = ta ? A->dims[0] : A->dims[1];
    float *y = Y->data;
    if (A->dtype != PL_FLOAT32)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (Gemm): dtype %s",
                        pl__layer_label(a->layer), pl_dtype_name(A->dtype));
    if (!pl__int_ok(m) || !pl__int_ok(n) || !pl__int_ok(k) || !pl__int_ok(A->dims[1]) ||
        !pl__int_ok(B->dims[1]))
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (Gemm): extents exceed the BLAS int range",
                        pl__layer_label(a->layer));
    if (m == 0 || n == 0)
        return PL_OK;
    if (C && beta != 0.f) {
        /* Y starts as beta*C broadcast to [M, N]; the GEMM then accumulates into it. */
        const float *c = C->data;
        int64_t cm = C->rank == 2 ? C->dims[0] : 1;
        int64_t cn = C->rank >= 1 ? C->dims[C->rank - 1] : 1;
        for (int64_t i = 0; i < m; i++) {
            const float *crow = c + (cm == 1 ? 0 : i) * cn;
            float *yrow = y + i * n;
            if (cn == 1)
                for (int64_t j = 0; j < n; j++)
                    yrow[j] = beta * crow[0];
            else
                for (int64_t j = 0; j < n; j++)
                    yrow[j] = beta * crow[j];
        }
    }
    {
        pl__gemm_batch g = {ta,         tb,       (int)m,  (int)n,
                            (int)k,     (int)A->dims[1],   (int)B->dims[1], (int)n,
                            alpha,      C && beta != 0.f ? 1.f : 0.f,       PL_FLOAT32,
                            A->data,    B->data,  (char *)y, NULL, NULL, 0, 0, 0};
        pl__gemm_batch_run(a->bctx, &g, 1);
    }
    pl__cpu_fused_activation(a->layer, y, m * n);
    return PL_OK;
}

/* ---- Einsum ---- */

typedef struct pl__einsum_plan {
    pl__einsum e;
    int64_t stride[PL__EINSUM_MAX_IN][PL__EINSUM_LABELS]; /* element stride per label */
    bool fast;
    /* fast path: label groups and whether each operand / the result needs a permuted copy */
    int nbat, nm, nn, nk;
    int8_t bat[PL_MAX_RANK], lm[PL_MAX_RANK], ln[PL_MAX_RANK], lk[PL_MAX_RANK];
    int64_t B, M, N, K;
    bool copy_a, copy_b, copy_c, ta, tb;
} pl__einsum_plan;

static bool pl__einsum_has(const pl__einsum *e, int in, int l) {
    for (int a = 0; a < e->rank[in]; a++)
        if (e->lab[in][a] == l)
            return true;
    return false;
}

static bool pl__einsum_in_out(const pl__einsum *e, int l) {
    for (int i = 0; i < e->out_rank; i++)
        if (e->out_lab[i] == l)
            return true;
    return false;
}

/* Whether term equals the concatenation g1 g2 g3. */
static bool pl__groups_match(const int8_t *term, int rank, const int8_t *g1, int n1,
                             const int8_t *g2, int n2, const int8_t *g3, int n3) {
    if (rank != n1 + n2 + n3)
        return false;
    for (int i = 0; i < n1; i++)
        if (term[i] != g1[i])
            return false;
    for (int i = 0; i < n2; i++)
        if (term[n1 + i] != g2[i])
            return false;
    for (int i = 0; i < n3; i++)
        if (term[n1 + n2 + i] != g3[i])
            return false;
    return true;
}

static void pl__einsum_fast_plan(const pl__kernel_args *a, pl__einsum_plan *p) {
    const pl__einsum *e = &p->e;
    int8_t cat[PL_MAX_RANK * 3];
    p->fast = false;
    if (e->nin != 2)
        return;
    for (int i = 0; i < 2; i++)
        for (int x = 0; x < e->rank[i]; x++) {
            if (a->in[i].dims[x] != e->dim[e->lab[i][x]])
                return; /* broadcast dim */
            for (int y = x + 1; y < e->rank[i]; y++)
                if (e->lab[i][x] == e->lab[i][y])
                    return; /* diagonal */
        }
    p->nbat = p->nm = p->nn = p->nk = 0;
    p->B = p->M = p->N = p->K = 1;
    /* Batch, M and K labels in A's order, N labels in B's order. */
    for (int x = 0; x < e->rank[0]; x++) {
        int l = e->lab[0][x];
        bool inb = pl__einsum_has(e, 1, l), ino = pl__einsum_in_out(e, l);
        if (inb && ino) {
            p->bat[p->nbat++] = (int8_t)l;
            p->B *= e->dim[l];
        } else if (ino) {
            p->lm[p->nm++] = (int8_t)l;
            p->M *= e->dim[l];
        } else if (inb) {
            p->lk[p->nk++] = (int8_t)l;
            p->K *= e->dim[l];
        } else {
            return; /* summed over A alone */
        }
    }
    for (int x = 0; x < e->rank[1]; x++) {
        int l = e->lab[1][x];
        if (pl__einsum_has(e, 0, l))
            continue;
        if (!pl__einsum_in_out(e, l))
            return; /* summed over B alone */
        p->ln[p->nn++] = (int8_t)l;
        p->N *= e->dim[l];
    }
    if (!pl__int_ok(p->M) || !pl__int_ok(p->N) || !pl__int_ok(p->K))
        return;
    p->ta = p->tb = false;
    p->copy_a = p->copy_b = false;
    if (!pl__groups_match(e->lab[0], e->rank[0], p->bat, p->nbat, p->lm, p->nm, p->lk, p->nk)) {
        if (pl__groups_match(e->lab[0], e->rank[0], p->bat, p->nbat, p->lk, p->nk, p->lm, p->nm))
            p->ta = true;
        else
            p->copy_a = true;
    }
    if (!pl__groups_match(e->lab[1], e->rank[1], p->bat, p->nbat, p->lk, p->nk, p->ln, p->nn)) {
        if (pl__groups_match(e->lab[1], e->rank[1], p->bat, p->nbat, p->ln, p->nn, p->lk, p->nk))
            p->tb = true;
        else
            p->copy_b = true;
    }
    memcpy(cat, p->bat, (size_t)p->nbat);
    memcpy(cat + p->nbat, p->lm, (size_t)p->nm);
    memcpy(cat + p->nbat + p->nm, p->ln, (size_t)p->nn);
    p->copy_c = !pl__groups_match(e->out_lab, e->out_rank, cat, p->nbat + p->nm + p->nn, NULL, 0,
                                  NULL, 0);
    p->fast = true;
}

static pl_status pl__einsum_plan_make(const pl__kernel_args *a, pl__einsum_plan *p) {
    pl__infer ic = pl__cpu_nn_infer_ctx(a);
    pl_status s = pl__einsum_parse(&ic, &p->e);
    if (s != PL_OK)
        return s;
    for (int i = 0; i < p->e.nin; i++) {
        int64_t acc = 1;
        for (int l = 0; l < PL__EINSUM_LABELS; l++)
            p->stride[i][l] = 0;
        if (a->in[i].dtype != PL_FLOAT32)
            return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (Einsum): dtype %s",
                            pl__layer_label(a->layer), pl_dtype_name(a->in[i].dtype));
        /* A repeated label sums its axes' strides: walking it walks the diagonal. A broadcast
         * axis (extent 1 against a larger label) contributes no stride. */
        for (int x = a->in[i].rank - 1; x >= 0; x--) {
            int l = p->e.lab[i][x];
            if (a->in[i].dims[x] == p->e.dim[l])
                p->stride[i][l] += acc;
            acc *= a->in[i].dims[x];
        }
    }
    pl__einsum_fast_plan(a, p);
    return PL_OK;
}

static size_t pl__einsum_ws(const pl__einsum_plan *p, size_t *off_b, size_t *off_c) {
    size_t fa = 0, fb = 0, fc = 0, t;
    if (p->copy_a)
        fa = (size_t)(p->B * p->M * p->K);
    if (p->copy_b)
        fb = (size_t)(p->B * p->K * p->N);
    if (p->copy_c)
        fc = (size_t)(p->B * p->M * p->N);
    /* Each region is rounded to 16 floats to keep the next one 64-byte aligned. */
    fa = (fa + 15) & ~(size_t)15;
    fb = (fb + 15) & ~(size_t)15;
    *off_b = fa;
    *off_c = fa + fb;
    if (!pl__add_size(fa, fb, &t) || !pl__add_size(t, fc, &t) || !pl__mul_size(t, 4, &t))
        return SIZE_MAX;
    return t;
}

size_t pl__cpu_einsum_workspace(const pl__kernel_args *a) {
    pl__einsum_plan p;
    size_t ob, oc;
    if (pl__einsum_plan_make(a, &p) != PL_OK || !p.fast)
        return 0;
    return pl__einsum_ws(&p, &ob, &oc);
}

/* dst (contiguous, axes labs[0..n)) = src read through per-label strides. */
typedef struct pl__gather_job {
    const float *src;
    float *dst;
    const int64_t *stride; /* per label */
    const int64_t *dim;    /* per label */
    const int8_t *labs;
    int n;
    int64_t inner; /* elements of the last axis */
} pl__gather_job;

static void pl__gather_range(void *arg, int64_t b, int64_t e) {
    const pl__gather_job *j = arg;
    int last = j->n - 1;
    int64_t sl = j->n ? j->stride[j->labs[last]] : 0;
    for (int64_t row = b; row < e; row++) {
        int64_t off = 0, rem = row;
        const float *s;
        float *d = j->dst + row * j->inner;
        for (int x = last - 1; x >= 0; x--) {
            int64_t ext = j->dim[j->labs[x]];
            off += (rem % ext) * j->stride[j->labs[x]];
            rem /= ext;
        }
        s = j->src + off;
        for (int64_t i = 0; i < j->inner; i++)
            d[i] = s[i * sl];
    }
}

static void pl__gather(void *bctx, const float *src, const int64_t *stride, const int64_t *dim,
                       const int8_t *labs, int n, float *dst) {
    pl__gather_job j = {src, dst, stride, dim, labs, n, n ? dim[labs[n - 1]] : 1};
    int64_t rows = 1;
    for (int x = 0; x < n - 1; x++)
        rows *= dim[labs[x]];
    if (j.inner == 0)
        return;
    pl__cpu_parallel_for(bctx, rows, j.inner >= 4096 ? 1 : 4096 / j.inner, pl__gather_range, &j);
}

typedef struct pl__einsum_job {
    const pl__einsum_plan *p;
    const float *in[PL__EINSUM_MAX_IN];
    float *out;
    int nsum;
    int8_t sum_lab[PL__EINSUM_LABELS];
    int64_t nsum_total;
} pl__einsum_job;

static void pl__einsum_generic_range(void *arg, int64_t b, int64_t e) {
    const pl__einsum_job *j = arg;
    const pl__einsum_plan *p = j->p;
    const pl__einsum *es = &p->e;
    int nin = es->nin;
    for (int64_t o = b; o < e; o++) {
        int64_t base[PL__EINSUM_MAX_IN] = {0}, rem = o, idx[PL__EINSUM_LABELS];
        int64_t off[PL__EINSUM_MAX_IN];
        double acc = 0;
        for (int x = es->out_rank - 1; x >= 0; x--) {
            int l = es->out_lab[x];
            int64_t v = rem % es->dim[l];
            rem /= es->dim[l];
            for (int i = 0; i < nin; i++)
                base[i] += v * p->stride[i][l];
        }
        for (int i = 0; i < nin; i++)
            off[i] = base[i];
        for (int s = 0; s < j->nsum; s++)
            idx[s] = 0;
        for (int64_t t = 0; t < j->nsum_total; t++) {
            double prod = 1;
            for (int i = 0; i < nin; i++)
                prod *= j->in[i][off[i]];
            acc += prod;
            /* Odometer over the summed labels, moving every operand's offset along. */
            for (int s = j->nsum - 1; s >= 0; s--) {
                int l = j->sum_lab[s];
                for (int i = 0; i < nin; i++)
                    off[i] += p->stride[i][l];
                if (++idx[s] < es->dim[l])
                    break;
                for (int i = 0; i < nin; i++)
                    off[i] -= p->stride[i][l] * es->dim[l];
                idx[s] = 0;
            }
        }
        j->out[o] = (float)acc;
    }
}

pl_status pl__cpu_einsum(const pl__kernel_args *a) {
    pl__einsum_plan *p = malloc(sizeof(*p));
    pl_status s;
    int64_t nout = pl__tview_numel(&a->out[0]);
    if (!p)
        return pl__fail(PL_ERR_NOMEM, "node '%s' (Einsum): out of memory",
                        pl__layer_label(a->layer));
    if ((s = pl__einsum_plan_make(a, p)) != PL_OK)
        goto done;
    if (nout == 0)
        goto done;
    if (p->fast) {
        size_t ob, oc, need = pl__einsum_ws(p, &ob, &oc);
        float *ws = a->workspace;
        const float *pa = a->in[0].data, *pb = a->in[1].data;
        float *pc = a->out[0].data;
        if (need && (!ws || a->workspace_size < need)) {
            s = pl__cpu_nn_short_workspace(a, need);
            goto done;
        }
        if (p->copy_a) {
            int8_t labs[PL_MAX_RANK * 3];
            memcpy(labs, p->bat, (size_t)p->nbat);
            memcpy(labs + p->nbat, p->lm, (size_t)p->nm);
            memcpy(labs + p->nbat + p->nm, p->lk, (size_t)p->nk);
            pl__gather(a->bctx, pa, p->stride[0], p->e.dim, labs, p->nbat + p->nm + p->nk, ws);
            pa = ws;
        }
        if (p->copy_b) {
            int8_t labs[PL_MAX_RANK * 3];
            memcpy(labs, p->bat, (size_t)p->nbat);
            memcpy(labs + p->nbat, p->lk, (size_t)p->nk);
            memcpy(labs + p->nbat + p->nk, p->ln, (size_t)p->nn);
            pl__gather(a->bctx, pb, p->stride[1], p->e.dim, labs, p->nbat + p->nk + p->nn,
                       ws + ob);
            pb = ws + ob;
        }
        if (p->copy_c)
            pc = ws + oc;
        {
            pl__gemm_batch g = {p->ta, p->tb, (int)p->M, (int)p->N, (int)p->K,
                                p->ta ? (int)p->M : (int)p->K, p->tb ? (int)p->K : (int)p->N,
                                (int)p->N, 1.f, 0.f, PL_FLOAT32, (const char *)pa,
                                (const char *)pb, (char *)pc, NULL, NULL, p->M * p->K,
                                p->K * p->N, p->M * p->N};
            pl__gemm_batch_run(a->bctx, &g, p->B);
        }
        if (p->copy_c) {
            /* Strides of the [batch, M, N] result per label, then gather into output order. */
            int64_t cstride[PL__EINSUM_LABELS] = {0}, acc = 1;
            int8_t cat[PL_MAX_RANK * 3];
            int nc = 0;
            memcpy(cat, p->bat, (size_t)p->nbat);
            memcpy(cat + p->nbat, p->lm, (size_t)p->nm);
            memcpy(cat + p->nbat + p->nm, p->ln, (size_t)p->nn);
            nc = p->nbat + p->nm + p->nn;
            for (int x = nc - 1; x >= 0; x--) {
                cstride[cat[x]] = acc;
                acc *= p->e.dim[cat[x]];
            }
            pl__gather(a->bctx, pc, cstride, p->e.dim, p->e.out_lab, p->e.out_rank,
                       a->out[0].data);
        }
    } else {
        pl__einsum_job *j = calloc(1, sizeof(*j));
        if (!j) {
            s = pl__fail(PL_ERR_NOMEM, "node '%s' (Einsum): out of memory",
                         pl__layer_label(a->layer));
            goto done;
        }
        j->p = p;
        j->out = a->out[0].data;
        j->nsum_total = 1;
        for (int i = 0; i < p->e.nin; i++)
            j->in[i] = a->in[i].data;
        for (int l = 0; l < PL__EINSUM_LABELS; l++)
            if (p->e.used[l] && !pl__einsum_in_out(&p->e, l)) {
                j->sum_lab[j->nsum++] = (int8_t)l;
                j->nsum_total *= p->e.dim[l];
            }
        pl__cpu_parallel_for(a->bctx, nout,
                             j->nsum_total >= 1024 ? 1 : 1024 / (j->nsum_total ? j->nsum_total : 1),
                             pl__einsum_generic_range, j);
        free(j);
    }
done:
    free(p);
    return s;
}
