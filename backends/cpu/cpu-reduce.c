/*
 * cpu-reduce.c - CPU kernels for reductions (Reduce*, ArgMax/ArgMin), TopK, CumSum and
 * Softmax/LogSoftmax.
 *
 * Every kernel views its input as [outer, R, inner] with R the reduced (or scanned) extent.
 * Reduce* axes that are not one contiguous block after merging adjacent dims (e.g. axes {1, 3} of
 * a 4-D tensor) are first gathered into a [kept..., reduced...] copy, so one core serves all
 * cases. Work units are (outer index, block of up to PL__BLK inner elements): the loop over
 * the block is contiguous and vectorises, and units spread over threads. Data is computed in the
 * compute types of cpu-ew-helpers.h (float32 data accumulates in double).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "backends/cpu/cpu-ew-helpers.h"

#define PL__BLK 256

static int64_t pl__min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* [outer, R, inner] around one axis; with legacy set, [prod(dims[:ax]), prod(dims[ax:]), 1]. */
static void pl__split_axis(const pl__tview *x, int ax, bool legacy, int64_t *outer, int64_t *r,
                           int64_t *inner) {
    *outer = pl__numel(ax, x->dims);
    *r = legacy ? pl__numel(x->rank - ax, x->dims + ax) : x->rank ? x->dims[ax] : 1;
    *inner = legacy || !x->rank ? 1 : pl__numel(x->rank - ax - 1, x->dims + ax + 1);
}

static int pl__axis_of(const pl__tview *x, int64_t axis) {
    int r = x->rank ? x->rank : 1;
    return (int)(axis < 0 ? axis + r : axis);
}

/* ---- Reduce* ------------------------------------------------------------------------------- */

enum {
    PL__R_SUM, PL__R_MEAN, PL__R_MAX, PL__R_MIN, PL__R_PROD, PL__R_L1, PL__R_L2, PL__R_SUMSQ,
    PL__R_LOGSUM, PL__R_LSE
};

typedef struct pl__red_job {
    int op;
    const void *x;
    void *y;
    int64_t outer, r, inner, nblk;
} pl__red_job;

/* acc[i] = STEP(acc[i], v) over the R rows of one unit's block (w elements). A contiguous row
 * (inner == 1) is reduced into 8 partial accumulators, which the compiler vectorises (it may not
 * reorder a single floating-point accumulator itself), then COMBINEd. */
#define PL__RED_LOOP(ACC, INIT, STEP, COMBINE)                                                     \
    do {                                                                                           \
        if (j->inner == 1) {                                                                       \
            ACC p_[8], a_, v;                                                                      \
            int64_t k = 0;                                                                         \
            for (int q = 0; q < 8; q++)                                                            \
                p_[q] = (INIT);                                                                    \
            for (; k + 8 <= j->r; k += 8)                                                          \
                for (int q = 0; q < 8; q++) {                                                      \
                    a_ = p_[q];                                                                    \
                    v = (ACC)xb[k + q];                                                            \
                    p_[q] = (STEP);                                                                \
                }                                                                                  \
            for (; k < j->r; k++) {                                                                \
                a_ = p_[0];                                                                        \
                v = (ACC)xb[k];                                                                    \
                p_[0] = (STEP);                                                                    \
            }                                                                                      \
            a_ = p_[0];                                                                            \
            for (int q = 1; q < 8; q++) {                                                          \
                v = p_[q];                                                                         \
                a_ = (COMBINE);                                                                    \
            }                                                                                      \
            acc[0] = a_;                                                                           \
        } else {                                                                                   \
            for (int64_t i = 0; i < w; i++)                                                        \
                acc[i] = (INIT);                                                                   \
            for (int64_t k = 0; k < j->r; k++) {                                                   \
                for (int64_t i = 0; i < w; i++) {                                                  \
                    ACC a_ = acc[i], v = (ACC)xb[k * j->inner + i];                                \
                    acc[i] = (STEP);                                                               \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define PL__ABS(v) ((v) < 0 ? -(v) : (v))
/* max/min that propagate NaN (ISNAN is the element type's test) */
#define PL__MAXN(a, v, ISNAN) (((v) > (a) || ISNAN(v)) ? (v) : (a))
#define PL__MINN(a, v, ISNAN) (((v) < (a) || ISNAN(v)) ? (v) : (a))

/* T: element type, ACC: accumulator, ADD/MUL: arithmetic (wrapping for integers). */
#define PL__DEF_REDUCE(NAME, T, ACC, ISNAN, LOWEST, HIGHEST, ADD, MUL)                             \
    static void NAME(void *arg, int64_t ub, int64_t ue) {                                          \
        const pl__red_job *j = arg;                                                                \
        ACC acc[PL__BLK], mx[PL__BLK];                                                             \
        for (int64_t u = ub; u < ue; u++) {                                                        \
            int64_t o = u / j->nblk, i0 = (u % j->nblk) * PL__BLK;                                 \
            int64_t w = pl__min64(PL__BLK, j->inner - i0);                                         \
            const T *xb = (const T *)j->x + o * j->r * j->inner + i0;                              \
            T *yb = (T *)j->y + o * j->inner + i0;                                                 \
            switch (j->op) {                                                                       \
            case PL__R_SUM: case PL__R_MEAN: case PL__R_LOGSUM:                                    \
                PL__RED_LOOP(ACC, 0, ADD(a_, v), ADD(a_, v));                                      \
                break;                                                                             \
            case PL__R_L1: PL__RED_LOOP(ACC, 0, ADD(a_, PL__ABS(v)), ADD(a_, v)); break;           \
            case PL__R_SUMSQ: case PL__R_L2:                                                       \
                PL__RED_LOOP(ACC, 0, ADD(a_, MUL(v, v)), ADD(a_, v));                              \
                break;                                                                             \
            case PL__R_PROD: PL__RED_LOOP(ACC, 1, MUL(a_, v), MUL(a_, v)); break;                  \
            case PL__R_MAX:                                                                        \
                PL__RED_LOOP(ACC, LOWEST, PL__MAXN(a_, v, ISNAN), PL__MAXN(a_, v, ISNAN));         \
                break;                                                                             \
            case PL__R_MIN:                                                                        \
                PL__RED_LOOP(ACC, HIGHEST, PL__MINN(a_, v, ISNAN), PL__MINN(a_, v, ISNAN));        \
                break;                                                                             \
            case PL__R_LSE:                                                                        \
                PL__RED_LOOP(ACC, LOWEST, PL__MAXN(a_, v, ISNAN), PL__MAXN(a_, v, ISNAN));         \
                memcpy(mx, acc, sizeof(ACC) * (size_t)w);                                          \
                for (int64_t i = 0; i < w; i++)                                                    \
                    acc[i] = 0;                                                                    \
                for (int64_t k = 0; k < j->r; k++)                                                 \
                    for (int64_t i = 0; i < w; i++)                                                \
                        acc[i] += exp((ACC)xb[k * j->inner + i] - mx[i]);                          \
                break;                                                                             \
            default: break;                                                                        \
            }                                                                                      \
            for (int64_t i = 0; i < w; i++) {                                                      \
                ACC v = acc[i];                                                                    \
                switch (j->op) {                                                                   \
                case PL__R_MEAN: v = j->r ? v / (ACC)j->r : v; break;                              \
                case PL__R_L2: v = sqrt(v); break;                                                 \
                case PL__R_LOGSUM: v = log(v); break;                                              \
                case PL__R_LSE: /* mx - mx == 0: mx is finite (also compiles for ints) */          \
                    v = mx[i] - mx[i] == 0 ? log(v) + mx[i] : mx[i];                               \
                    break;                                                                         \
                default: break;                                                                    \
                }                                                                                  \
                yb[i] = (T)v;                                                                      \
            }                                                                                      \
        }                                                                                          \
    }

#define PL__FADD(a, b) ((a) + (b))
#define PL__FMUL(a, b) ((a) * (b))
#define PL__IADD(a, b) ((int64_t)((uint64_t)(a) + (uint64_t)(b)))
#define PL__IMUL(a, b) ((int64_t)((uint64_t)(a) * (uint64_t)(b)))
#define PL__FNAN(v) ((v) != (v))
#define PL__INAN(v) 0

PL__DEF_REDUCE(pl__reduce_f32, float, double, PL__FNAN, -INFINITY, INFINITY, PL__FADD, PL__FMUL)
PL__DEF_REDUCE(pl__reduce_f64, double, double, PL__FNAN, -INFINITY, INFINITY, PL__FADD, PL__FMUL)
/* sqrt/log/exp never run on integers (those ops compute in float64), but must compile */
PL__DEF_REDUCE(pl__reduce_i64, int64_t, int64_t, PL__INAN, INT64_MIN, INT64_MAX, PL__IADD,
               PL__IMUL)

/* The reduced-axes mask from input 1 (opset 18+, ReduceSum 13+) or the axes attribute. Empty
 * axes reduce everything, unless noop_with_empty_axes, which reduces nothing (the elementwise
 * part, e.g. ReduceSumSquare's square, still applies, as in the ONNX reference). */
static void pl__reduce_mask(const pl__kernel_args *a, bool *mask) {
    const pl__tview *x = &a->in[0];
    const pl__attrs *at = &a->layer->attrs;
    int64_t axes[PL_MAX_RANK], nax;
    const int64_t *aa;
    memset(mask, 0, sizeof(bool) * PL_MAX_RANK);
    if (a->nin > 1 && a->in[1].data) {
        nax = pl__min64(pl__tview_numel(&a->in[1]), PL_MAX_RANK);
        for (int64_t k = 0; k < nax; k++)
            axes[k] = pl__get_i64(a->in[1].data, a->in[1].dtype, k);
    } else {
        nax = pl__min64(pl__attr_ints(at, "axes", &aa), PL_MAX_RANK);
        for (int64_t k = 0; k < nax; k++)
            axes[k] = aa[k];
    }
    if (nax <= 0) {
        if (!pl__attr_int(at, "noop_with_empty_axes", 0))
            for (int i = 0; i < x->rank; i++)
                mask[i] = true;
        return;
    }
    for (int64_t k = 0; k < nax; k++) {
        int64_t ax = axes[k] < 0 ? axes[k] + x->rank : axes[k];
        if (ax >= 0 && ax < x->rank)
            mask[ax] = true;
    }
}

/* dst = src transposed so that axes perm[0..rank) come in that order (element size es). */
static void pl__permute(void *dst, const void *src, size_t es, int rank, const int64_t *dims,
                        const int *perm) {
    int64_t sst[PL_MAX_RANK], pd[PL_MAX_RANK], ps[PL_MAX_RANK], idx[PL_MAX_RANK] = {0}, off = 0;
    int64_t n = pl__numel(rank, dims), acc = 1;
    for (int i = rank - 1; i >= 0; i--) {
        sst[i] = acc;
        acc *= dims[i];
    }
    for (int i = 0; i < rank; i++) {
        pd[i] = dims[perm[i]];
        ps[i] = sst[perm[i]];
    }
    for (int64_t k = 0; k < n; k++) {
        memcpy((char *)dst + k * (int64_t)es, (const char *)src + off * (int64_t)es, es);
        for (int i = rank - 1; i >= 0; i--) {
            off += ps[i];
            if (++idx[i] < pd[i])
                break;
            off -= ps[i] * pd[i];
            idx[i] = 0;
        }
    }
}

static pl_status pl__cpu_reduce(const pl__kernel_args *a, int op) {
    const pl__tview *X = &a->in[0];
    pl__tview *Y = &a->out[0];
    pl_dtype ct = pl__cpu_compute_type(X->dtype);
    bool mask[PL_MAX_RANK];
    int groups = 0, perm[PL_MAX_RANK], np = 0;
    int64_t gsize[PL_MAX_RANK], outer = 1, r = 1, inner = 1;
    bool gred[PL_MAX_RANK];
    const void *px;
    void *ox = NULL, *oy = NULL, *tmp = NULL, *py;
    pl__red_job j;
    pl_status s;
    if (pl__tview_numel(Y) == 0)
        return PL_OK;
    if (ct == PL_INT64 && (op == PL__R_L2 || op == PL__R_LOGSUM || op == PL__R_LSE))
        ct = PL_FLOAT64;
    pl__reduce_mask(a, mask);
    /* merge adjacent dims of the same kind; size-1 dims do not affect the layout */
    for (int i = 0; i < X->rank; i++) {
        if (X->dims[i] == 1)
            continue;
        if (groups && gred[groups - 1] == mask[i]) {
            gsize[groups - 1] *= X->dims[i];
        } else {
            gred[groups] = mask[i];
            gsize[groups++] = X->dims[i];
        }
    }
    if ((s = pl__cpu_as_type(a->bctx, X, ct, &px, &ox)))
        return s;
    {
        int nred = 0, first = -1;
        for (int g = 0; g < groups; g++)
            if (gred[g] && nred++ == 0)
                first = g;
        if (nred <= 1) {
            for (int g = 0; g < groups; g++) {
                if (first < 0 || g < first)
                    outer *= gsize[g];
                else if (g == first)
                    r = gsize[g];
                else
                    inner *= gsize[g];
            }
        } else {
            size_t es = pl_dtype_size(ct);
            for (int i = 0; i < X->rank; i++)
                if (!mask[i])
                    perm[np++] = i;
            for (int i = 0; i < X->rank; i++)
                if (mask[i])
                    perm[np++] = i;
            if (!(tmp = malloc(es * (size_t)pl__tview_numel(X)))) {
                s = pl__fail(PL_ERR_NOMEM, "node '%s' (%s): out of memory",
                             pl__layer_label(a->layer), a->layer->op);
                goto done;
            }
            pl__permute(tmp, px, es, X->rank, X->dims, perm);
            px = tmp;
            outer = pl__tview_numel(Y);
            r = pl__tview_numel(X) / outer;
        }
    }
    if ((s = pl__cpu_out_buffer(Y, ct, &py, &oy)))
        goto done;
    j = (pl__red_job){op, px, py, outer, r, inner, (inner + PL__BLK - 1) / PL__BLK};
    {
        int64_t units = outer * j.nblk, work = r * pl__min64(inner, PL__BLK);
        int64_t grain = (1 << 15) / (work > 0 ? work : 1);
        pl__cpu_parallel_for(a->bctx, units, grain > 0 ? grain : 1,
                             ct == PL_FLOAT32   ? pl__reduce_f32
                             : ct == PL_FLOAT64 ? pl__reduce_f64
                                                : pl__reduce_i64,
                             &j);
    }
    pl__cpu_finish_output(a->bctx, Y, ct, oy);
    oy = NULL;
done:
    free(ox);
    free(oy);
    free(tmp);
    return s;
}

/* ---- ArgMax / ArgMin ----------------------------------------------------------------------- */

typedef struct pl__arg_job {
    const void *x;
    int64_t *y;
    int64_t r, inner;
    bool max, last;
} pl__arg_job;

/* NaN counts as the extreme (like numpy): the first (or last) NaN wins. */
#define PL__DEF_ARG(NAME, T, ISNAN)                                                                \
    static void NAME(void *arg, int64_t ub, int64_t ue) {                                          \
        const pl__arg_job *j = arg;                                                                \
        for (int64_t u = ub; u < ue; u++) {                                                        \
            const T *p = (const T *)j->x + (u / j->inner) * j->r * j->inner + u % j->inner;        \
            T best = p[0];                                                                         \
            int64_t bi = 0;                                                                        \
            for (int64_t k = 1; k < j->r; k++) {                                                   \
                T v = p[k * j->inner];                                                             \
                bool better = !ISNAN(best) && (ISNAN(v) || (j->max ? v > best : v < best));        \
                bool same = v == best || (ISNAN(v) && ISNAN(best));                                \
                if (better || (same && j->last)) {                                                 \
                    best = v;                                                                      \
                    bi = k;                                                                        \
                }                                                                                  \
            }                                                                                      \
            j->y[u] = bi;                                                                          \
        }                                                                                          \
    }

PL__DEF_ARG(pl__arg_f32, float, PL__FNAN)
PL__DEF_ARG(pl__arg_f64, double, PL__FNAN)
PL__DEF_ARG(pl__arg_i64, int64_t, PL__INAN)

static pl_status pl__cpu_argminmax(const pl__kernel_args *a, bool max) {
    const pl__tview *X = &a->in[0];
    pl_dtype ct = pl__cpu_compute_type(X->dtype);
    const pl__attrs *at = &a->layer->attrs;
    int64_t outer, r, inner;
    void *ox;
    pl__arg_job j = {.y = a->out[0].data, .max = max};
    pl_status s;
    pl__split_axis(X, pl__axis_of(X, pl__attr_int(at, "axis", 0)), false, &outer, &r, &inner);
    if (r <= 0 || outer * inner == 0)
        return PL_OK;
    if ((s = pl__cpu_as_type(a->bctx, X, ct, &j.x, &ox)))
        return s;
    j.r = r;
    j.inner = inner;
    j.last = pl__attr_int(at, "select_last_index", 0) != 0;
    pl__cpu_parallel_for(a->bctx, outer * inner, 1 + (1 << 14) / r,
                         ct == PL_FLOAT32   ? pl__arg_f32
                         : ct == PL_FLOAT64 ? pl__arg_f64
                                            : pl__arg_i64,
                         &j);
    free(ox);
    return PL_OK;
}

/* ---- TopK ---------------------------------------------------------------------------------- */

typedef struct pl__topk_job {
    const void *key;     /* input in its compute type */
    const char *raw;     /* input as stored, for exact values */
    char *vals;
    int64_t *idx;
    size_t es;
    int64_t n, inner, k;
    bool largest;
    atomic_int nomem;
} pl__topk_job;

/* Stable bottom-up merge sort of one slice's indices: equal keys keep the lower index first.
 * NaN sorts as the largest value. */
#define PL__DEF_TOPK(NAME, T, ISNAN)                                                               \
    static void NAME(void *arg, int64_t ub, int64_t ue) {                                          \
        pl__topk_job *j = arg;                                                                     \
        int64_t n = j->n, *ia = malloc(sizeof(int64_t) * 2 * (size_t)n);                           \
        T *key = malloc(sizeof(T) * (size_t)n);                                                    \
        if (!ia || !key) {                                                                         \
            atomic_store(&j->nomem, 1);                                                            \
            ub = ue;                                                                               \
        }                                                                                          \
        for (int64_t u = ub; u < ue; u++) {                                                        \
            int64_t o = u / j->inner, i = u % j->inner, base = o * n * j->inner + i;               \
            int64_t *src = ia, *dst = ia + n;                                                      \
            for (int64_t k = 0; k < n; k++) {                                                      \
                key[k] = ((const T *)j->key)[base + k * j->inner];                                 \
                src[k] = k;                                                                        \
            }                                                                                      \
            for (int64_t wd = 1; wd < n; wd *= 2) {                                                \
                for (int64_t lo = 0; lo < n; lo += 2 * wd) {                                       \
                    int64_t mid = pl__min64(lo + wd, n), hi = pl__min64(lo + 2 * wd, n);           \
                    int64_t p = lo, q = mid, t = lo;                                               \
                    while (p < mid && q < hi) {                                                    \
                        T kp = key[src[p]], kq = key[src[q]];                                      \
                        bool qfirst = j->largest ? (!ISNAN(kp) && (ISNAN(kq) || kq > kp))          \
                                                 : (ISNAN(kp) && !ISNAN(kq)) || kq < kp;           \
                        dst[t++] = qfirst ? src[q++] : src[p++];                                   \
                    }                                                                              \
                    while (p < mid)                                                                \
                        dst[t++] = src[p++];                                                       \
                    while (q < hi)                                                                 \
                        dst[t++] = src[q++];                                                       \
                }                                                                                  \
                int64_t *sw = src;                                                                 \
                src = dst;                                                                         \
                dst = sw;                                                                          \
            }                                                                                      \
            for (int64_t k = 0; k < j->k; k++) {                                                   \
                int64_t at = (o * j->k + k) * j->inner + i;                                        \
                j->idx[at] = src[k];                                                               \
                memcpy(j->vals + at * (int64_t)j->es, j->raw + (base + src[k] * j->inner) *        \
                       (int64_t)j->es, j->es);                                                     \
            }                                                                                      \
        }                                                                                          \
        free(ia);                                                                                  \
        free(key);                                                                                 \
    }

PL__DEF_TOPK(pl__topk_f32, float, PL__FNAN)
PL__DEF_TOPK(pl__topk_f64, double, PL__FNAN)
PL__DEF_TOPK(pl__topk_i64, int64_t, PL__INAN)

static pl_status pl__cpu_topk(const pl__kernel_args *a) {
    const pl__tview *X = &a->in[0];
    const pl__attrs *at = &a->layer->attrs;
    pl_dtype ct = pl__cpu_compute_type(X->dtype);
    int64_t outer, n, inner;
    void *ox;
    pl__topk_job j = {.raw = X->data, .vals = a->out[0].data, .idx = a->out[1].data,
                      .es = pl_dtype_size(X->dtype)};
    pl_status s;
    pl__split_axis(X, pl__axis_of(X, pl__attr_int(at, "axis", -1)), false, &outer, &n, &inner);
    j.k = a->nin > 1 && a->in[1].data ? pl__get_i64(a->in[1].data, a->in[1].dtype, 0)
                                       : pl__attr_int(at, "k", 0);
    if (j.k < 0 || j.k > n)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (TopK): K=%lld is out of range for extent %lld",
                        pl__layer_label(a->layer), (long long)j.k, (long long)n);
    if (j.k == 0 || outer * inner == 0)
        return PL_OK;
    if ((s = pl__cpu_as_type(a->bctx, X, ct, &j.key, &ox)))
        return s;
    j.n = n;
    j.inner = inner;
    j.largest = pl__attr_int(at, "largest", 1) != 0;
    atomic_init(&j.nomem, 0);
    pl__cpu_parallel_for(a->bctx, outer * inner, 1 + (1 << 12) / n,
                         ct == PL_FLOAT32   ? pl__topk_f32
                         : ct == PL_FLOAT64 ? pl__topk_f64
                                            : pl__topk_i64,
                         &j);
    free(ox);
    if (atomic_load(&j.nomem))
        return pl__fail(PL_ERR_NOMEM, "node '%s' (TopK): out of memory",
                        pl__layer_label(a->layer));
    return PL_OK;
}

/* ---- CumSum -------------------------------------------------------------------------------- */

typedef struct pl__scan_job {
    const void *x;
    void *y;
    int64_t r, inner, nblk;
    bool exclusive, reverse;
} pl__scan_job;

/* Running sums in the element type (as ONNX Runtime does), integers wrapping. */
#define PL__DEF_SCAN(NAME, T, ADD)                                                                 \
    static void NAME(void *arg, int64_t ub, int64_t ue) {                                          \
        const pl__scan_job *j = arg;                                                               \
        for (int64_t u = ub; u < ue; u++) {                                                        \
            int64_t o = u / j->nblk, i0 = (u % j->nblk) * PL__BLK;                                 \
            int64_t w = pl__min64(PL__BLK, j->inner - i0);                                         \
            int64_t step = j->reverse ? -j->inner : j->inner;                                      \
            const T *x = (const T *)j->x + o * j->r * j->inner + i0;                               \
            T *y = (T *)j->y + o * j->r * j->inner + i0;                                           \
            int64_t at = j->reverse ? (j->r - 1) * j->inner : 0;                                   \
            for (int64_t i = 0; i < w; i++)                                                        \
                y[at + i] = j->exclusive ? (T)0 : x[at + i];                                       \
            for (int64_t k = 1; k < j->r; k++, at += step) {                                       \
                const T *xs = x + (j->exclusive ? at : at + step);                                 \
                T *yp = y + at, *yc = y + at + step;                                               \
                for (int64_t i = 0; i < w; i++)                                                    \
                    yc[i] = ADD(yp[i], xs[i]);                                                     \
            }                                                                                      \
        }                                                                                          \
    }

PL__DEF_SCAN(pl__scan_f32, float, PL__FADD)
PL__DEF_SCAN(pl__scan_f64, double, PL__FADD)
PL__DEF_SCAN(pl__scan_i64, int64_t, PL__IADD)

static pl_status pl__cpu_cumsum(const pl__kernel_args *a) {
    const pl__tview *X = &a->in[0];
    pl__tview *Y = &a->out[0];
    const pl__attrs *at = &a->layer->attrs;
    pl_dtype ct = pl__cpu_compute_type(X->dtype);
    int64_t outer, inner, r;
    void *ox = NULL, *oy = NULL, *py;
    pl__scan_job j;
    pl_status s;
    int ax = pl__axis_of(X, pl__get_i64(a->in[1].data, a->in[1].dtype, 0));
    pl__split_axis(X, ax, false, &outer, &r, &inner);
    if (outer * r * inner == 0)
        return PL_OK;
    if ((s = pl__cpu_as_type(a->bctx, X, ct, &j.x, &ox)))
        return s;
    if ((s = pl__cpu_out_buffer(Y, ct, &py, &oy)))
        goto done;
    j.y = py;
    j.r = r;
    j.inner = inner;
    j.nblk = (inner + PL__BLK - 1) / PL__BLK;
    j.exclusive = pl__attr_int(at, "exclusive", 0) != 0;
    j.reverse = pl__attr_int(at, "reverse", 0) != 0;
    pl__cpu_parallel_for(a->bctx, outer * j.nblk, 1 + (1 << 14) / (r * pl__min64(inner, PL__BLK)),
                         ct == PL_FLOAT32   ? pl__scan_f32
                         : ct == PL_FLOAT64 ? pl__scan_f64
                                            : pl__scan_i64,
                         &j);
    pl__cpu_finish_output(a->bctx, Y, ct, oy);
    oy = NULL;
done:
    free(ox);
    free(oy);
    return s;
}

/* ---- Softmax / LogSoftmax ------------------------------------------------------------------ */

typedef struct pl__smax_job {
    const void *x;
    void *y;
    int64_t r, inner, nblk;
    bool log;
} pl__smax_job;

/* max, then exp(x - max) and its sum, then normalise. A contiguous row (inner == 1) sums into 8
 * partial sums; otherwise a unit is a block of inner positions, each loop over the block
 * contiguous. */
#define PL__DEF_SMAX(NAME, T, EXPF)                                                                \
    PL__CPU_CLONES static void NAME(void *arg, int64_t ub, int64_t ue) {                           \
        const pl__smax_job *j = arg;                                                               \
        T mx[PL__BLK], sm[PL__BLK];                                                                \
        for (int64_t u = ub; u < ue; u++) {                                                        \
            int64_t o = u / j->nblk, i0 = (u % j->nblk) * PL__BLK, n = j->inner;                   \
            int64_t w = pl__min64(PL__BLK, n - i0);                                                \
            const T *x = (const T *)j->x + o * j->r * n + i0;                                      \
            T *y = (T *)j->y + o * j->r * n + i0;                                                  \
            if (n == 1) {                                                                          \
                T m = x[0], p[16] = {0}, pm[16], s, f;                                             \
                int64_t k = 0;                                                                     \
                for (int q = 0; q < 16; q++) /* 16 lanes: no serial select chain */                \
                    pm[q] = x[0];                                                                  \
                for (; k + 16 <= j->r; k += 16)                                                    \
                    for (int q = 0; q < 16; q++)                                                   \
                        pm[q] = x[k + q] > pm[q] ? x[k + q] : pm[q];                               \
                for (; k < j->r; k++)                                                              \
                    pm[0] = x[k] > pm[0] ? x[k] : pm[0];                                           \
                for (int q = 0; q < 16; q++)                                                       \
                    m = pm[q] > m ? pm[q] : m;                                                     \
                k = 0;                                                                             \
                if (j->log) { /* y may alias x, and LogSoftmax reads x again */                    \
                    for (; k + 16 <= j->r; k += 16)                                                \
                        for (int q = 0; q < 16; q++)                                               \
                            p[q] += EXPF(x[k + q] - m);                                            \
                    for (; k < j->r; k++)                                                          \
                        p[0] += EXPF(x[k] - m);                                                    \
                } else {                                                                           \
                    for (int64_t q = 0; q < j->r; q++)                                             \
                        y[q] = EXPF(x[q] - m);                                                     \
                    for (; k + 16 <= j->r; k += 16)                                                \
                        for (int q = 0; q < 16; q++)                                               \
                            p[q] += y[k + q];                                                      \
                    for (; k < j->r; k++)                                                          \
                        p[0] += y[k];                                                              \
                }                                                                                  \
                s = 0;                                                                             \
                for (int q = 0; q < 16; q++)                                                       \
                    s += p[q];                                                                     \
                f = j->log ? m + log(s) : (T)1 / s;                                                \
                if (j->log)                                                                        \
                    for (int64_t q = 0; q < j->r; q++)                                             \
                        y[q] = x[q] - f;                                                           \
                else                                                                               \
                    for (int64_t q = 0; q < j->r; q++)                                             \
                        y[q] *= f;                                                                 \
                continue;                                                                          \
            }                                                                                      \
            for (int64_t i = 0; i < w; i++) {                                                      \
                mx[i] = x[i];                                                                      \
                sm[i] = 0;                                                                         \
            }                                                                                      \
            for (int64_t k = 1; k < j->r; k++)                                                     \
                for (int64_t i = 0; i < w; i++)                                                    \
                    mx[i] = x[k * n + i] > mx[i] ? x[k * n + i] : mx[i];                           \
            for (int64_t k = 0; k < j->r; k++) {                                                   \
                if (j->log)                                                                        \
                    for (int64_t i = 0; i < w; i++)                                                \
                        sm[i] += EXPF(x[k * n + i] - mx[i]);                                       \
                else                                                                               \
                    for (int64_t i = 0; i < w; i++) {                                              \
                        T e = EXPF(x[k * n + i] - mx[i]);                                          \
                        sm[i] += e;                                                                \
                        y[k * n + i] = e;                                                          \
                    }                                                                              \
            }                                                                                      \
            for (int64_t i = 0; i < w; i++)                                                        \
                sm[i] = j->log ? mx[i] + log(sm[i]) : (T)1 / sm[i];                                \
            if (j->log)                                                                            \
                for (int64_t k = 0; k < j->r; k++)                                                 \
                    for (int64_t i = 0; i < w; i++)                                                \
                        y[k * n + i] = x[k * n + i] - sm[i];                                       \
            else                                                                                   \
                for (int64_t k = 0; k < j->r; k++)                                                 \
                    for (int64_t i = 0; i < w; i++)                                                \
                        y[k * n + i] *= sm[i];                                                     \
        }                                                                                          \
    }

PL__DEF_SMAX(pl__smax_f32, float, pl__cpu_expf)
PL__DEF_SMAX(pl__smax_f64, double, exp)

static pl_status pl__cpu_softmax(const pl__kernel_args *a, bool log) {
    const pl__tview *X = &a->in[0];
    pl__tview *Y = &a->out[0];
    const pl__attrs *at = &a->layer->attrs;
    bool legacy = pl__attr_int(at, "opset", 13) < 13;
    pl_dtype ct = pl__cpu_compute_type(X->dtype);
    int64_t outer, r, inner;
    void *ox = NULL, *oy = NULL, *py;
    pl__smax_job j = {.log = log};
    pl_status s;
    if (ct == PL_INT64)
        return pl__cpu_dtype_fail(a, X->dtype);
    pl__split_axis(X, pl__axis_of(X, pl__attr_int(at, "axis", legacy ? 1 : -1)), legacy, &outer,
                   &r, &inner);
    if (outer * r * inner == 0)
        return PL_OK;
    if ((s = pl__cpu_as_type(a->bctx, X, ct, &j.x, &ox)))
        return s;
    if ((s = pl__cpu_out_buffer(Y, ct, &py, &oy)))
        goto done;
    j.y = py;
    j.r = r;
    j.inner = inner;
    j.nblk = (inner + PL__BLK - 1) / PL__BLK;
    pl__cpu_parallel_for(a->bctx, outer * j.nblk, 1 + (1 << 13) / (r * pl__min64(inner, PL__BLK)),
                         ct == PL_FLOAT32 ? pl__smax_f32 : pl__smax_f64, &j);
    pl__cpu_finish_output(a->bctx, Y, ct, oy);
    oy = NULL;
done:
    free(ox);
    free(oy);
    return s;
}

/* ---- kernel table -------------------------------------------------------------------------- */

#define PL__RK(name, op)                                                                           \
    static pl_status pl__k_##name(const pl__kernel_args *a) { return pl__cpu_reduce(a, op); }
PL__RK(ReduceSum, PL__R_SUM) PL__RK(ReduceMean, PL__R_MEAN) PL__RK(ReduceMax, PL__R_MAX)
PL__RK(ReduceMin, PL__R_MIN) PL__RK(ReduceProd, PL__R_PROD) PL__RK(ReduceL1, PL__R_L1)
PL__RK(ReduceL2, PL__R_L2) PL__RK(ReduceSumSquare, PL__R_SUMSQ) PL__RK(ReduceLogSum, PL__R_LOGSUM)
PL__RK(ReduceLogSumExp, PL__R_LSE)

static pl_status pl__k_ArgMax(const pl__kernel_args *a) { return pl__cpu_argminmax(a, true); }
static pl_status pl__k_ArgMin(const pl__kernel_args *a) { return pl__cpu_argminmax(a, false); }
static pl_status pl__k_TopK(const pl__kernel_args *a) { return pl__cpu_topk(a); }
static pl_status pl__k_CumSum(const pl__kernel_args *a) { return pl__cpu_cumsum(a); }
static pl_status pl__k_Softmax(const pl__kernel_args *a) { return pl__cpu_softmax(a, false); }
static pl_status pl__k_LogSoftmax(const pl__kernel_args *a) { return pl__cpu_softmax(a, true); }

#define PL__K(name) {.op = #name, .run = pl__k_##name}

const pl__kernel_def pl__cpu_kernels_reduce[] = {
    PL__K(ReduceSum), PL__K(ReduceMean), PL__K(ReduceMax), PL__K(ReduceMin),
    PL__K(ReduceProd), PL__K(ReduceL1), PL__K(ReduceL2), PL__K(ReduceSumSquare),
    PL__K(ReduceLogSum), PL__K(ReduceLogSumExp), PL__K(ArgMax), PL__K(ArgMin),
    PL__K(TopK), PL__K(CumSum), PL__K(Softmax), PL__K(LogSoftmax),
    {0},
};
