/*
 * cpu-shape.c - CPU kernels of the shape and data-movement ops (the list in ops-shape.c).
 *
 * These ops move bytes, so every kernel works on element sizes, never on types, and handles every
 * dtype. Most of them are one strided copy: the output is walked in row-major order and the source
 * is addressed through per-dimension byte strides (negative for Slice's negative steps, zero for
 * Expand's broadcast dims). The copy merges dims that are contiguous in both, then copies whole
 * runs with memcpy, fills broadcast runs, or, when the source's contiguous dim is not the
 * output's last (Transpose, DepthToSpace), copies in square tiles so reads and writes both stay in
 * cache. Values that the kernels read from value inputs (Slice starts, Pad pads, Resize scales)
 * are resolved by the shared resolvers of ops-shape.h, the same code shape inference runs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "graph/ops-shape.h"

#define PL__R PL_MAX_RANK
#define PL__SMAX (2 * PL_MAX_RANK) /* Tile views each dim as (repeat, dim) */
#define PL__TILE 32
#define PL__CHUNK_BYTES ((int64_t)1 << 16) /* work per parallel task, for grain sizes */

static const char *pl__label(const pl__kernel_args *a) { return pl__layer_label(a->layer); }

static pl_status pl__kfail(const pl__kernel_args *a, pl_status s, const char *what) {
    return pl__fail(s, "node '%s' (%s): %s", pl__label(a), a->layer->op, what);
}

static size_t pl__esize(const pl__kernel_args *a, pl_dtype t, pl_status *s) {
    size_t es = pl_dtype_size(t);
    *s = es ? PL_OK
            : pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): dtype %s is not supported",
                       pl__label(a), a->layer->op, pl_dtype_name(t));
    return es;
}

static int64_t pl__grain(int64_t unit_bytes) {
    return unit_bytes > 0 && unit_bytes < PL__CHUNK_BYTES ? PL__CHUNK_BYTES / unit_bytes : 1;
}

/* n elements of size es from s (stride sstride bytes) to contiguous d. Constant-size memcpy
 * compiles to single moves. */
static inline void pl__copy_elems(char *d, const char *s, int64_t n, int64_t sstride, size_t es) {
    switch (es) {
    case 1:
        for (int64_t k = 0; k < n; k++)
            d[k] = s[k * sstride];
        break;
    case 2:
        for (int64_t k = 0; k < n; k++)
            memcpy(d + 2 * k, s + k * sstride, 2);
        break;
    case 4:
        for (int64_t k = 0; k < n; k++)
            memcpy(d + 4 * k, s + k * sstride, 4);
        break;
    case 8:
        for (int64_t k = 0; k < n; k++)
            memcpy(d + 8 * k, s + k * sstride, 8);
        break;
    default:
        for (int64_t k = 0; k < n; k++)
            memcpy(d + (int64_t)es * k, s + k * sstride, es);
    }
}

static inline void pl__copy_small(char *d, const char *s, size_t n) {
    switch (n) {
    case 1: *d = *s; break;
    case 2: memcpy(d, s, 2); break;
    case 4: memcpy(d, s, 4); break;
    case 8: memcpy(d, s, 8); break;
    default: memcpy(d, s, n);
    }
}

/* Fills n elements of size es at d with the element at v. */
static void pl__fill(char *d, const char *v, int64_t n, size_t es) {
    if (n <= 0)
        return;
    if (es == 1) {
        memset(d, *v, (size_t)n);
        return;
    }
    pl__copy_small(d, v, es);
    /* doubling copies: log(n) memcpy calls */
    for (int64_t done = 1; done < n;) {
        int64_t c = done < n - done ? done : n - done;
        memcpy(d + done * (int64_t)es, d, (size_t)c * es);
        done += c;
    }
}

/* ---- the strided copy ---- */

typedef enum { PL__SC_RUNS, PL__SC_BCAST, PL__SC_TILED, PL__SC_ELEMS } pl__sc_kind;

typedef struct pl__strided {
    int rank;                   /* -1: nothing to copy */
    int64_t dims[PL__SMAX];
    int64_t ss[PL__SMAX];       /* source strides in bytes */
    int64_t ds[PL__SMAX];       /* destination strides in bytes (row-major) */
    const char *src;
    char *dst;
    size_t es;
    pl__sc_kind kind;
    int tj;                     /* TILED: the dim whose source stride is es */
    int no;                     /* dims walked by the outer loop */
    int outer[PL__SMAX];        /* their indices */
    int64_t nouter, ntj;        /* outer iterations; TILED: tiles along tj */
} pl__strided;

static void pl__strided_plan(pl__strided *st, int rank, const int64_t *dims, const int64_t *ss,
                             const void *src, void *dst, size_t es) {
    int r = 0, last;
    int64_t acc = (int64_t)es;
    st->src = src;
    st->dst = dst;
    st->es = es;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == 0) {
            st->rank = -1;
            return;
        }
        if (dims[i] == 1)
            continue; /* contributes nothing */
        if (r > 0 && st->ss[r - 1] == ss[i] * dims[i]) {
            st->dims[r - 1] *= dims[i]; /* contiguous in source and destination: one dim */
            st->ss[r - 1] = ss[i];
            continue;
        }
        st->dims[r] = dims[i];
        st->ss[r] = ss[i];
        r++;
    }
    if (r == 0) {
        st->dims[0] = 1;
        st->ss[0] = (int64_t)es;
        r = 1;
    }
    st->rank = r;
    for (int i = r - 1; i >= 0; i--) {
        st->ds[i] = acc;
        acc *= st->dims[i];
    }
    last = r - 1;
    st->tj = -1;
    if (st->ss[last] == (int64_t)es)
        st->kind = PL__SC_RUNS;
    else if (st->ss[last] == 0)
        st->kind = PL__SC_BCAST;
    else {
        st->kind = PL__SC_ELEMS;
        for (int i = last - 1; i >= 0; i--) {
            if (st->ss[i] == (int64_t)es && st->dims[i] >= 4 && st->dims[last] >= 4) {
                st->kind = PL__SC_TILED;
                st->tj = i;
                break;
            }
        }
    }
    st->no = 0;
    st->nouter = 1;
    for (int i = 0; i < last; i++) {
        if (i == st->tj)
            continue;
        st->outer[st->no++] = i;
        st->nouter *= st->dims[i];
    }
    st->ntj = st->tj >= 0 ? (st->dims[st->tj] + PL__TILE - 1) / PL__TILE : 1;
}

/* Source and destination offsets of outer iteration u; idx receives the multi-index. */
static void pl__strided_seek(const pl__strided *st, int64_t u, int64_t *idx, int64_t *so,
                             int64_t *dof) {
    *so = 0;
    *dof = 0;
    for (int k = st->no - 1; k >= 0; k--) {
        int i = st->outer[k];
        idx[k] = u % st->dims[i];
        u /= st->dims[i];
        *so += idx[k] * st->ss[i];
        *dof += idx[k] * st->ds[i];
    }
}

static void pl__strided_next(const pl__strided *st, int64_t *idx, int64_t *so, int64_t *dof) {
    for (int k = st->no - 1; k >= 0; k--) {
        int i = st->outer[k];
        *so += st->ss[i];
        *dof += st->ds[i];
        if (++idx[k] < st->dims[i])
            return;
        *so -= idx[k] * st->ss[i];
        *dof -= idx[k] * st->ds[i];
        idx[k] = 0;
    }
}

static void pl__strided_range(void *arg, int64_t b, int64_t e) {
    const pl__strided *st = arg;
    int last = st->rank - 1;
    int64_t n = st->dims[last], idx[PL__SMAX], so, dof;
    size_t es = st->es;
    if (st->kind == PL__SC_TILED) {
        /* unit = (outer iteration, tile row along tj); walk tiles of the last dim */
        int j = st->tj;
        int64_t nj = st->dims[j], sl = st->ss[last], dj = st->ds[j];
        for (int64_t u = b; u < e; u++) {
            int64_t ou = u / st->ntj, j0 = (u % st->ntj) * PL__TILE;
            int64_t j1 = j0 + PL__TILE < nj ? j0 + PL__TILE : nj;
            const char *s;
            char *d;
            pl__strided_seek(st, ou, idx, &so, &dof);
            s = st->src + so;
            d = st->dst + dof;
            for (int64_t l0 = 0; l0 < n; l0 += PL__TILE) {
                int64_t l1 = l0 + PL__TILE < n ? l0 + PL__TILE : n;
                for (int64_t a = j0; a < j1; a++)
                    pl__copy_elems(d + a * dj + l0 * (int64_t)es, s + a * (int64_t)es + l0 * sl,
                                   l1 - l0, sl, es);
            }
        }
        return;
    }
    pl__strided_seek(st, b, idx, &so, &dof);
    for (int64_t u = b; u < e; u++) {
        const char *s = st->src + so;
        char *d = st->dst + dof;
        switch (st->kind) {
        case PL__SC_RUNS: memcpy(d, s, (size_t)n * es); break;
        case PL__SC_BCAST: pl__fill(d, s, n, es); break;
        default: pl__copy_elems(d, s, n, st->ss[last], es); break;
        }
        pl__strided_next(st, idx, &so, &dof);
    }
}

static void pl__strided_run(void *bctx, pl__strided *st) {
    int64_t units, unit_bytes;
    if (st->rank < 0)
        return;
    unit_bytes = st->dims[st->rank - 1] * (int64_t)st->es;
    units = st->nouter;
    if (st->kind == PL__SC_TILED) {
        units *= st->ntj;
        unit_bytes *= PL__TILE;
    }
    pl__cpu_parallel_for(bctx, units, pl__grain(unit_bytes), pl__strided_range, st);
}

/* Row-major byte strides of a view. */
static void pl__strides(const pl__tview *t, size_t es, int64_t *s) {
    int64_t acc = (int64_t)es;
    for (int i = t->rank - 1; i >= 0; i--) {
        s[i] = acc;
        acc *= t->dims[i];
    }
}

/* ---- plain copies: Reshape, Flatten, Squeeze, Unsqueeze (and Identity-like views) ---- */

static pl_status pl__cpu_copy_view(const pl__kernel_args *a) {
    size_t bytes = pl__tview_bytes(&a->out[0]);
    if (bytes != pl__tview_bytes(&a->in[0]))
        return pl__kfail(a, PL_ERR_INTERNAL, "input and output sizes differ");
    if (bytes && a->out[0].data != a->in[0].data)
        memmove(a->out[0].data, a->in[0].data, bytes);
    return PL_OK;
}

/* ---- Concat / Split ---- */

typedef struct pl__cat_job {
    const pl__kernel_args *a;
    bool split;
    int64_t row;      /* bytes of one outer row of the joined tensor */
    int64_t blk[127]; /* bytes per outer row of each part */
    int64_t at[127];  /* byte offset of each part within a row */
    int nparts;
} pl__cat_job;

static void pl__cat_range(void *arg, int64_t b, int64_t e) {
    const pl__cat_job *j = arg;
    for (int64_t o = b; o < e; o++) {
        for (int k = 0; k < j->nparts; k++) {
            if (!j->blk[k])
                continue;
            if (j->split)
                memcpy((char *)j->a->out[k].data + o * j->blk[k],
                       (const char *)j->a->in[0].data + o * j->row + j->at[k], (size_t)j->blk[k]);
            else
                memcpy((char *)j->a->out[0].data + o * j->row + j->at[k],
                       (const char *)j->a->in[k].data + o * j->blk[k], (size_t)j->blk[k]);
        }
    }
}

static pl_status pl__cpu_concat_split(const pl__kernel_args *a, bool split) {
    const pl__tview *whole = split ? &a->in[0] : &a->out[0];
    const pl__tview *parts = split ? a->out : a->in;
    int nparts = split ? a->nout : a->nin, axis;
    int64_t ax = pl__attr_int(&a->layer->attrs, "axis", 0), outer = 1, inner;
    pl__cat_job *j;
    pl_status s;
    size_t es = pl__esize(a, whole->dtype, &s);
    if (s)
        return s;
    if (whole->rank == 0 || ax < -whole->rank || ax >= whole->rank)
        return pl__kfail(a, PL_ERR_SHAPE, "axis is out of range");
    axis = (int)(ax < 0 ? ax + whole->rank : ax);
    inner = (int64_t)es;
    for (int i = 0; i < axis; i++)
        outer *= whole->dims[i];
    for (int i = axis + 1; i < whole->rank; i++)
        inner *= whole->dims[i];
    j = malloc(sizeof(*j));
    if (!j)
        return pl__kfail(a, PL_ERR_NOMEM, "out of memory");
    j->a = a;
    j->split = split;
    j->nparts = nparts;
    j->row = whole->dims[axis] * inner;
    for (int k = 0; k < nparts; k++)
        j->blk[k] = parts[k].rank == whole->rank ? parts[k].dims[axis] * inner : 0;
    {
        int64_t at = 0;
        for (int k = 0; k < nparts; k++) {
            j->at[k] = at;
            at += j->blk[k];
        }
        if (at != j->row) {
            free(j);
            return pl__kfail(a, PL_ERR_INTERNAL, "part sizes do not add up");
        }
    }
    pl__cpu_parallel_for(a->bctx, outer, pl__grain(j->row), pl__cat_range, j);
    free(j);
    return PL_OK;
}

static pl_status pl__cpu_concat(const pl__kernel_args *a) { return pl__cpu_concat_split(a, false); }
static pl_status pl__cpu_split(const pl__kernel_args *a) { return pl__cpu_concat_split(a, true); }

/* ---- Slice / Transpose / Expand / Tile / DepthToSpace / SpaceToDepth ---- */

static pl_status pl__cpu_slice(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    pl__slice_params p;
    pl__strided st;
    int64_t xs[PL__R], ss[PL__R], off = 0;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s || (s = pl__slice_resolve(a->layer, a->nin, a->in, &p)))
        return s;
    pl__strides(x, es, xs);
    for (int i = 0; i < p.rank; i++) {
        off += p.start[i] * xs[i];
        ss[i] = p.step[i] * xs[i];
    }
    pl__strided_plan(&st, p.rank, p.count, ss, (const char *)x->data + off, a->out[0].data, es);
    pl__strided_run(a->bctx, &st);
    return PL_OK;
}

static pl_status pl__cpu_transpose(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    const int64_t *perm;
    int64_t n = pl__attr_ints(&a->layer->attrs, "perm", &perm), xs[PL__R], ss[PL__R];
    pl__strided st;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s)
        return s;
    if (n >= 0 && n != x->rank)
        return pl__kfail(a, PL_ERR_SHAPE, "'perm' does not match the input rank");
    pl__strides(x, es, xs);
    for (int i = 0; i < x->rank; i++) {
        int64_t p = n >= 0 ? perm[i] : x->rank - 1 - i;
        if (p < 0 || p >= x->rank)
            return pl__kfail(a, PL_ERR_SHAPE, "'perm' is not a permutation");
        ss[i] = xs[p];
    }
    pl__strided_plan(&st, x->rank, a->out[0].dims, ss, x->data, a->out[0].data, es);
    pl__strided_run(a->bctx, &st);
    return PL_OK;
}

static pl_status pl__cpu_expand(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0], *y = &a->out[0];
    int64_t xs[PL__R], ss[PL__R];
    pl__strided st;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s)
        return s;
    if (y->rank < x->rank)
        return pl__kfail(a, PL_ERR_SHAPE, "output rank is below the input rank");
    pl__strides(x, es, xs);
    for (int i = 0; i < y->rank; i++) {
        int k = i - (y->rank - x->rank);
        if (k < 0 || x->dims[k] == 1)
            ss[i] = 0;
        else if (x->dims[k] == y->dims[i])
            ss[i] = xs[k];
        else
            return pl__kfail(a, PL_ERR_SHAPE, "input does not broadcast to the output");
    }
    pl__strided_plan(&st, y->rank, y->dims, ss, x->data, y->data, es);
    pl__strided_run(a->bctx, &st);
    return PL_OK;
}

static pl_status pl__cpu_tile(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0], *y = &a->out[0];
    int64_t xs[PL__R], dims[PL__SMAX], ss[PL__SMAX];
    pl__strided st;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s)
        return s;
    if (y->rank != x->rank)
        return pl__kfail(a, PL_ERR_SHAPE, "output rank differs from the input rank");
    pl__strides(x, es, xs);
    /* output index o = r*d + k is row-major over (r, k): a (repeat, dim) pair per axis */
    for (int i = 0; i < x->rank; i++) {
        if (x->dims[i] == 0 ? y->dims[i] != 0 : y->dims[i] % x->dims[i])
            return pl__kfail(a, PL_ERR_SHAPE, "output is not a whole tiling of the input");
        dims[2 * i] = x->dims[i] ? y->dims[i] / x->dims[i] : 0;
        ss[2 * i] = 0;
        dims[2 * i + 1] = x->dims[i];
        ss[2 * i + 1] = xs[i];
    }
    pl__strided_plan(&st, 2 * x->rank, dims, ss, x->data, y->data, es);
    pl__strided_run(a->bctx, &st);
    return PL_OK;
}

static pl_status pl__cpu_depth_space(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    bool to_space = strcmp(a->layer->op, "DepthToSpace") == 0;
    bool crd = strcmp(pl__attr_string(&a->layer->attrs, "mode", "DCR"), "CRD") == 0;
    int64_t b = pl__attr_int(&a->layer->attrs, "blocksize", 0), dims[6], ss[6];
    int64_t N, C, H, W, e;
    pl__strided st;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s)
        return s;
    if (x->rank != 4 || b < 1)
        return pl__kfail(a, PL_ERR_SHAPE, "expected a 4-D input and blocksize >= 1");
    N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], e = (int64_t)es;
    if (to_space ? C % (b * b) : H % b || W % b)
        return pl__kfail(a, PL_ERR_SHAPE, "input dims are not divisible by the blocksize");
    if (pl__tview_numel(&a->out[0]) != pl__tview_numel(x))
        return pl__kfail(a, PL_ERR_SHAPE, "output size differs from the input size");
    if (to_space) {
        /* output [N, C', H, b, W, b] row-major == [N, C', H*b, W*b] */
        int64_t c2 = C / (b * b);
        int64_t v[6] = {N, c2, H, b, W, b};
        int64_t dcr[6] = {C * H * W, H * W, W, b * c2 * H * W, 1, c2 * H * W};
        int64_t crdv[6] = {C * H * W, b * b * H * W, W, b * H * W, 1, H * W};
        for (int i = 0; i < 6; i++) {
            dims[i] = v[i];
            ss[i] = (crd ? crdv[i] : dcr[i]) * e;
        }
    } else {
        /* output [N, b, b, C, H', W'] row-major == [N, C*b*b, H', W'] */
        int64_t v[6] = {N, b, b, C, H / b, W / b};
        int64_t sv[6] = {C * H * W, W, 1, H * W, b * W, b};
        for (int i = 0; i < 6; i++) {
            dims[i] = v[i];
            ss[i] = sv[i] * e;
        }
    }
    pl__strided_plan(&st, 6, dims, ss, x->data, a->out[0].data, es);
    pl__strided_run(a->bctx, &st);
    return PL_OK;
}

/* ---- Gather / GatherElements / ScatterElements ---- */

static inline int64_t pl__index(const void *p, pl_dtype t, int64_t i) {
    return t == PL_INT32 ? ((const int32_t *)p)[i] : ((const int64_t *)p)[i];
}

/* Checks every index against [-n, n-1]; fails naming the node and the first bad index. */
static pl_status pl__check_indices(const pl__kernel_args *a, const pl__tview *ix, int64_t n,
                                   int axis) {
    int64_t cnt = pl__tview_numel(ix);
    if (ix->dtype != PL_INT32 && ix->dtype != PL_INT64)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): indices must be int32 or int64, got %s",
                        pl__label(a), a->layer->op, pl_dtype_name(ix->dtype));
    for (int64_t k = 0; k < cnt; k++) {
        int64_t v = pl__index(ix->data, ix->dtype, k);
        if (v < -n || v >= n)
            return pl__fail(PL_ERR_INVALID_ARG, "node '%s' (%s): index %lld (at position %lld) is "
                            "out of range [%lld, %lld] for axis %d", pl__label(a), a->layer->op,
                            (long long)v, (long long)k, (long long)-n, (long long)(n - 1), axis);
    }
    return PL_OK;
}

typedef struct pl__gather_job {
    const char *x;
    const void *ix;
    pl_dtype it;
    char *y;
    int64_t nidx, n, inner; /* inner: bytes per gathered slice */
} pl__gather_job;

static void pl__gather_range(void *arg, int64_t b, int64_t e) {
    const pl__gather_job *j = arg;
    for (int64_t u = b; u < e; u++) {
        int64_t o = u / j->nidx, v = pl__index(j->ix, j->it, u % j->nidx);
        if (v < 0)
            v += j->n;
        pl__copy_small(j->y + u * j->inner, j->x + (o * j->n + v) * j->inner, (size_t)j->inner);
    }
}

static pl_status pl__cpu_gather(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0], *ix = &a->in[1];
    int64_t ax = pl__attr_int(&a->layer->attrs, "axis", 0), outer = 1;
    pl__gather_job j;
    int axis;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s)
        return s;
    if (x->rank == 0 || ax < -x->rank || ax >= x->rank)
        return pl__kfail(a, PL_ERR_SHAPE, "axis is out of range");
    axis = (int)(ax < 0 ? ax + x->rank : ax);
    if ((s = pl__check_indices(a, ix, x->dims[axis], axis)))
        return s;
    j.x = x->data;
    j.ix = ix->data;
    j.it = ix->dtype;
    j.y = a->out[0].data;
    j.nidx = pl__tview_numel(ix);
    j.n = x->dims[axis];
    j.inner = (int64_t)es;
    for (int i = 0; i < axis; i++)
        outer *= x->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        j.inner *= x->dims[i];
    if (j.nidx == 0 || j.inner == 0)
        return PL_OK;
    pl__cpu_parallel_for(a->bctx, outer * j.nidx, pl__grain(j.inner), pl__gather_range, &j);
    return PL_OK;
}

/* Walks every element of `ix` (rank r), calling fn with the element's linear position and the
 * byte offset into data of its coordinates with the axis coordinate replaced by the index. */
typedef void (*pl__elem_fn)(void *arg, int64_t pos, int64_t data_off);

static void pl__walk_elements(const pl__tview *x, const pl__tview *ix, int axis, size_t es,
                              pl__elem_fn fn, void *arg) {
    int64_t xs[PL__R], idx[PL__R] = {0}, n = pl__tview_numel(ix), base = 0;
    int r = ix->rank;
    pl__strides(x, es, xs);
    for (int64_t pos = 0; pos < n; pos++) {
        int64_t v = pl__index(ix->data, ix->dtype, pos);
        if (v < 0)
            v += x->dims[axis];
        fn(arg, pos, base - idx[axis] * xs[axis] + v * xs[axis]);
        for (int i = r - 1; i >= 0; i--) {
            base += xs[i];
            if (++idx[i] < ix->dims[i])
                break;
            base -= idx[i] * xs[i];
            idx[i] = 0;
        }
    }
}

typedef struct pl__elem_job {
    const char *src;
    char *dst;
    size_t es;
    pl_dtype t;
    int red; /* ScatterElements: 0 none, 1 add, 2 mul, 3 max, 4 min */
} pl__elem_job;

static void pl__gather_elem(void *arg, int64_t pos, int64_t off) {
    pl__elem_job *j = arg;
    pl__copy_small(j->dst + pos * (int64_t)j->es, j->src + off, j->es);
}

static void pl__scatter_elem(void *arg, int64_t pos, int64_t off) {
    pl__elem_job *j = arg;
    int64_t at = off / (int64_t)j->es;
    double u, v;
    if (j->red == 0) {
        pl__copy_small(j->dst + off, j->src + pos * (int64_t)j->es, j->es);
        return;
    }
    u = pl__get_f64(j->src, j->t, pos);
    v = pl__get_f64(j->dst, j->t, at);
    if (j->t == PL_INT64) { /* exact: doubles lose int64 precision */
        int64_t a = ((const int64_t *)j->src)[pos], b = ((int64_t *)j->dst)[at];
        int64_t r = j->red == 1 ? (int64_t)((uint64_t)a + (uint64_t)b)
                    : j->red == 2 ? (int64_t)((uint64_t)a * (uint64_t)b)
                    : j->red == 3 ? (a > b ? a : b) : (a < b ? a : b);
        ((int64_t *)j->dst)[at] = r;
        return;
    }
    v = j->red == 1 ? v + u : j->red == 2 ? v * u : j->red == 3 ? (u > v ? u : v) : (u < v ? u : v);
    pl__set_f64(j->dst, j->t, at, v);
}

static pl_status pl__cpu_gather_elements(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0], *ix = &a->in[1];
    int64_t ax = pl__attr_int(&a->layer->attrs, "axis", 0);
    pl__elem_job j;
    int axis;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s)
        return s;
    if (x->rank == 0 || ix->rank != x->rank || ax < -x->rank || ax >= x->rank)
        return pl__kfail(a, PL_ERR_SHAPE, "bad ranks or axis");
    axis = (int)(ax < 0 ? ax + x->rank : ax);
    for (int i = 0; i < x->rank; i++)
        if (i != axis && ix->dims[i] > x->dims[i])
            return pl__kfail(a, PL_ERR_SHAPE, "indices exceed the data off the axis");
    if ((s = pl__check_indices(a, ix, x->dims[axis], axis)))
        return s;
    j = (pl__elem_job){x->data, a->out[0].data, es, x->dtype, 0};
    pl__walk_elements(x, ix, axis, es, pl__gather_elem, &j);
    return PL_OK;
}

static pl_status pl__cpu_scatter_elements(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0], *ix = &a->in[1], *u = &a->in[2];
    const char *red = pl__attr_string(&a->layer->attrs, "reduction", "none");
    static const char *const reds[] = {"none", "add", "mul", "max", "min"};
    int64_t ax = pl__attr_int(&a->layer->attrs, "axis", 0);
    pl__elem_job j;
    int axis, ri = -1;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s)
        return s;
    for (int i = 0; i < 5; i++)
        if (strcmp(red, reds[i]) == 0)
            ri = i;
    if (ri < 0)
        return pl__kfail(a, PL_ERR_UNSUPPORTED, "unknown reduction");
    if (ri > 0 && x->dtype == PL_BOOL)
        return pl__kfail(a, PL_ERR_UNSUPPORTED, "reductions on bool are not supported");
    if (x->rank == 0 || ix->rank != x->rank || ax < -x->rank || ax >= x->rank ||
        u->rank != ix->rank || memcmp(u->dims, ix->dims, sizeof(int64_t) * (size_t)ix->rank))
        return pl__kfail(a, PL_ERR_SHAPE, "bad ranks, shapes or axis");
    axis = (int)(ax < 0 ? ax + x->rank : ax);
    for (int i = 0; i < x->rank; i++)
        if (i != axis && ix->dims[i] > x->dims[i])
            return pl__kfail(a, PL_ERR_SHAPE, "indices exceed the data off the axis");
    if ((s = pl__check_indices(a, ix, x->dims[axis], axis)))
        return s;
    if (a->out[0].data != x->data)
        memmove(a->out[0].data, x->data, pl__tview_bytes(x));
    j = (pl__elem_job){u->data, a->out[0].data, es, x->dtype, ri};
    /* serial: with duplicate indices the updates apply in order */
    pl__walk_elements(x, ix, axis, es, pl__scatter_elem, &j);
    return PL_OK;
}

/* ---- Pad ---- */

static int64_t pl__pad_map(pl__pad_mode m, int64_t j, int64_t d) {
    int64_t period;
    if (j >= 0 && j < d)
        return j;
    switch (m) {
    case PL__PAD_EDGE:
        return j < 0 ? 0 : d - 1;
    case PL__PAD_WRAP:
        j %= d;
        return j < 0 ? j + d : j;
    case PL__PAD_REFLECT:
        if (d == 1)
            return 0;
        period = 2 * (d - 1);
        j %= period;
        if (j < 0)
            j += period;
        return j >= d ? period - j : j;
    default:
        return -1;
    }
}

typedef struct pl__pad_job {
    const pl__tview *x, *y;
    pl__pad_params p;
    size_t es;
    char value[8];
    int64_t xs[PL__R];
} pl__pad_job;

static void pl__pad_range(void *arg, int64_t b, int64_t e) {
    const pl__pad_job *j = arg;
    const pl__tview *x = j->x, *y = j->y;
    int r = y->rank, last = r - 1;
    int64_t W = y->dims[last], inW = x->dims[last], beg = j->p.begin[last];
    int64_t lo = beg < 0 ? 0 : beg > W ? W : beg, hi = beg + inW;
    int64_t es = (int64_t)j->es;
    hi = hi < lo ? lo : hi > W ? W : hi;
    for (int64_t row = b; row < e; row++) {
        char *d = (char *)y->data + row * W * es;
        const char *srow = x->data;
        int64_t rem = row;
        bool outside = false;
        for (int i = last - 1; i >= 0; i--) {
            int64_t o = rem % y->dims[i], src = pl__pad_map(j->p.mode, o - j->p.begin[i], x->dims[i]);
            rem /= y->dims[i];
            if (src < 0)
                outside = true;
            else
                srow += src * j->xs[i];
        }
        if (outside) {
            pl__fill(d, j->value, W, j->es);
            continue;
        }
        for (int64_t o = 0; o < W; o++) {
            int64_t src;
            if (o == lo && hi > lo) {
                memcpy(d + lo * es, srow + (lo - beg) * es, (size_t)((hi - lo) * es));
                o = hi - 1;
                continue;
            }
            src = pl__pad_map(j->p.mode, o - beg, inW);
            pl__copy_small(d + o * es, src < 0 ? j->value : srow + src * es, j->es);
        }
    }
}

static pl_status pl__cpu_pad(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0], *y = &a->out[0];
    pl__pad_job j;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s || (s = pl__pad_resolve(a->layer, a->nin, a->in, &j.p)))
        return s;
    j.x = x;
    j.y = y;
    j.es = es;
    memset(j.value, 0, sizeof(j.value));
    if (a->nin > 2 && a->in[2].data && a->in[2].dtype == x->dtype && pl__tview_numel(&a->in[2]))
        memcpy(j.value, a->in[2].data, es); /* exact bytes: int64 values beyond 2^53 survive */
    else
        pl__set_f64(j.value, x->dtype, 0, j.p.value);
    if (pl__tview_numel(y) == 0)
        return PL_OK;
    if (y->rank == 0) {
        memcpy(y->data, x->data, es);
        return PL_OK;
    }
    pl__strides(x, es, j.xs);
    pl__cpu_parallel_for(a->bctx, pl__tview_numel(y) / y->dims[y->rank - 1],
                         pl__grain(y->dims[y->rank - 1] * (int64_t)es), pl__pad_range, &j);
    return PL_OK;
}

/* ---- Resize / Upsample ---- */

/* Per axis, each output coordinate reads K taps: element offsets (in elements, already times the
 * axis stride) and weights. Nearest: K = 1. Axes whose taps collapse to one weight-1 tap (scale 1
 * with an exact coordinate map) also get K = 1. */
typedef struct pl__rs_axis {
    int K;
    int64_t *off;   /* out * K */
    float *w;       /* out * K */
    uint8_t *oob;   /* out: tf_crop_and_resize coordinate outside the input */
} pl__rs_axis;

typedef struct pl__rs_job {
    const pl__tview *x, *y;
    const pl__resize_params *p;
    pl__rs_axis ax[PL__R];
    size_t es;
    char extra[8]; /* the extrapolation value as one element */
    int64_t ncombo; /* product of K over all axes but the last */
} pl__rs_job;

static int64_t pl__rs_round(const pl__resize_params *p, int axis, double x) {
    double f = floor(x);
    switch (p->round) {
    case PL__ROUND_PREFER_FLOOR: return (int64_t)(x - f == 0.5 ? f : floor(x + 0.5));
    case PL__ROUND_PREFER_CEIL: return (int64_t)(x - f == 0.5 ? f + 1 : floor(x + 0.5));
    case PL__ROUND_FLOOR: return (int64_t)f;
    case PL__ROUND_CEIL: return (int64_t)ceil(x);
    case PL__ROUND_SIMPLE: return (int64_t)(p->scale[axis] < 1.0 ? ceil(x) : (x < 0 ? ceil(x) : f));
    }
    return (int64_t)f;
}

static void pl__cubic_weights(double t, double A, double *w) {
    double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
    w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * t2 - (A + 3)) * t2 * t2 + 1;
    w[3] = ((A * t3 - 5 * A) * t3 + 8 * A) * t3 - 4 * A;
}

static pl_status pl__rs_axis_plan(const pl__kernel_args *a, const pl__resize_params *p, int axis,
                                  int64_t L, int64_t O, int64_t stride, pl__rs_axis *ra) {
    int K = p->mode == PL__RESIZE_NEAREST ? 1 : p->mode == PL__RESIZE_LINEAR ? 2 : 4;
    bool trivial = true;
    ra->off = malloc(sizeof(int64_t) * (size_t)(O * K + 1));
    ra->w = malloc(sizeof(float) * (size_t)(O * K + 1));
    ra->oob = calloc((size_t)O + 1, 1);
    if (!ra->off || !ra->w || !ra->oob)
        return pl__kfail(a, PL_ERR_NOMEM, "out of memory");
    for (int64_t o = 0; o < O; o++) {
        double x = pl__resize_coord_map(p, axis, L, (double)o);
        int64_t *off = ra->off + o * K;
        float *w = ra->w + o * K;
        if (p->coord == PL__COORD_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(L - 1)))
            ra->oob[o] = 1;
        if (K == 1) {
            int64_t i = pl__rs_round(p, axis, x);
            off[0] = (i < 0 ? 0 : i > L - 1 ? L - 1 : i) * stride;
            w[0] = 1.f;
        } else if (K == 2) {
            double xc = x < 0 ? 0 : x > (double)(L - 1) ? (double)(L - 1) : x;
            int64_t i0 = (int64_t)xc, i1 = i0 + 1 < L ? i0 + 1 : L - 1;
            double t = xc - (double)i0;
            off[0] = i0 * stride;
            off[1] = i1 * stride;
            w[0] = (float)(1.0 - t);
            w[1] = (float)t;
            trivial = trivial && t == 0;
        } else {
            int64_t i0 = (int64_t)floor(x);
            double t = x - (double)i0, cw[4], sum = 0;
            pl__cubic_weights(t, p->cubic_a, cw);
            for (int k = 0; k < 4; k++) {
                int64_t i = i0 - 1 + k;
                if (p->exclude_outside && (i < 0 || i >= L))
                    cw[k] = 0;
                sum += cw[k];
                off[k] = (i < 0 ? 0 : i > L - 1 ? L - 1 : i) * stride;
            }
            for (int k = 0; k < 4; k++) {
                w[k] = (float)(p->exclude_outside && sum != 0 ? cw[k] / sum : cw[k]);
                if (k != 1 && w[k] != 0.f)
                    trivial = false;
            }
            if (w[1] != 1.f)
                trivial = false;
        }
    }
    if (K > 1 && trivial) { /* every coordinate lands on a pixel: a single tap */
        int keep = K == 2 ? 0 : 1;
        for (int64_t o = 0; o < O; o++) {
            ra->off[o] = ra->off[o * K + keep];
            ra->w[o] = 1.f;
        }
        K = 1;
    }
    ra->K = K;
    return PL_OK;
}

static double pl__rs_clamp_int(double v, pl_dtype t) {
    double lo, hi;
    switch (t) {
    case PL_UINT8: lo = 0, hi = 255; break;
    case PL_INT8: lo = -128, hi = 127; break;
    case PL_INT32: lo = -2147483648.0, hi = 2147483647.0; break;
    case PL_INT64: lo = -9.2e18, hi = 9.2e18; break;
    default: return v;
    }
    v = nearbyint(v);
    return v < lo ? lo : v > hi ? hi : v;
}

static void pl__rs_range(void *arg, int64_t b, int64_t e) {
    const pl__rs_job *j = arg;
    const pl__tview *x = j->x, *y = j->y;
    int r = y->rank, last = r - 1;
    int64_t W = y->dims[last], es = (int64_t)j->es;
    const pl__rs_axis *al = &j->ax[last];
    int64_t *coff = malloc(sizeof(int64_t) * (size_t)j->ncombo);
    float *cw = malloc(sizeof(float) * (size_t)j->ncombo);
    bool f32 = x->dtype == PL_FLOAT32, nearest = j->p->mode == PL__RESIZE_NEAREST;
    bool crop = j->p->coord == PL__COORD_TF_CROP_AND_RESIZE;
    if (!coff || !cw) { /* cannot happen for sane sizes; the caller pre-checked ncombo */
        free(coff);
        free(cw);
        return;
    }
    for (int64_t row = b; row < e; row++) {
        int64_t o[PL__R], rem = row, nc = 1;
        bool oob = false;
        char *d = (char *)y->data + row * W * es;
        for (int i = last - 1; i >= 0; i--) {
            o[i] = rem % y->dims[i];
            rem /= y->dims[i];
            oob = oob || j->ax[i].oob[o[i]];
        }
        /* the tap combinations of the outer axes: offsets and weight products */
        coff[0] = 0;
        cw[0] = 1.f;
        for (int i = 0; i < last; i++) {
            const pl__rs_axis *ai = &j->ax[i];
            int K = ai->K;
            for (int64_t c = nc - 1; c >= 0; c--)
                for (int k = K - 1; k >= 0; k--) {
                    coff[c * K + k] = coff[c] + ai->off[o[i] * K + k];
                    cw[c * K + k] = cw[c] * ai->w[o[i] * K + k];
                }
            nc *= K;
        }
        if (oob) {
            pl__fill(d, j->extra, W, j->es);
            continue;
        }
        if (!crop && nearest) {
            const char *src = (const char *)x->data + coff[0] * es;
            if (es == 4) {
                for (int64_t ol = 0; ol < W; ol++)
                    memcpy(d + 4 * ol, src + 4 * al->off[ol], 4);
            } else {
                for (int64_t ol = 0; ol < W; ol++)
                    pl__copy_small(d + ol * es, src + al->off[ol] * es, j->es);
            }
            continue;
        }
        if (!crop && f32 && al->K == 2 && nc <= 2) {
            /* the bilinear case: two rows, two taps per row */
            const float *r0 = (const float *)x->data + coff[0];
            const float *r1 = (const float *)x->data + coff[nc - 1];
            float c0 = cw[0], c1 = nc == 2 ? cw[1] : 0.f, *yf = (float *)d;
            for (int64_t ol = 0; ol < W; ol++) {
                int64_t o0 = al->off[2 * ol], o1 = al->off[2 * ol + 1];
                yf[ol] = al->w[2 * ol] * (c0 * r0[o0] + c1 * r1[o0]) +
                         al->w[2 * ol + 1] * (c0 * r0[o1] + c1 * r1[o1]);
            }
            continue;
        }
        for (int64_t ol = 0; ol < W; ol++) {
            int K = al->K;
            if (al->oob[ol]) {
                pl__copy_small(d + ol * es, j->extra, j->es);
            } else if (nearest) {
                pl__copy_small(d + ol * es, (const char *)x->data + (coff[0] + al->off[ol]) * es,
                               j->es);
            } else if (f32) {
                const float *xf = x->data;
                float acc = 0.f;
                for (int k = 0; k < K; k++) {
                    float part = 0.f;
                    const float *base = xf + al->off[ol * K + k];
                    for (int64_t c = 0; c < nc; c++)
                        part += cw[c] * base[coff[c]];
                    acc += al->w[ol * K + k] * part;
                }
                ((float *)y->data)[row * W + ol] = acc;
            } else {
                double acc = 0;
                for (int k = 0; k < K; k++) {
                    double part = 0;
                    for (int64_t c = 0; c < nc; c++)
                        part += (double)cw[c] *
                                pl__get_f64(x->data, x->dtype, al->off[ol * K + k] + coff[c]);
                    acc += (double)al->w[ol * K + k] * part;
                }
                pl__set_f64(y->data, y->dtype, row * W + ol, pl__rs_clamp_int(acc, y->dtype));
            }
        }
    }
    free(coff);
    free(cw);
}

static pl_status pl__cpu_resize(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0], *y = &a->out[0];
    pl__resize_params p;
    pl__rs_job j;
    int64_t xs[PL__R], acc = 1;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s || (s = pl__resize_resolve(a->layer, a->nin, a->in, &p)))
        return s;
    if (p.mode != PL__RESIZE_NEAREST && x->dtype == PL_BOOL)
        return pl__kfail(a, PL_ERR_UNSUPPORTED, "linear and cubic modes need a numeric type");
    if (y->rank != x->rank || x->rank == 0)
        return pl__kfail(a, PL_ERR_SHAPE, "output rank differs from the input rank");
    for (int i = 0; i < x->rank; i++)
        if (p.out[i] != y->dims[i])
            return pl__kfail(a, PL_ERR_SHAPE, "output shape disagrees with the resolved sizes");
    if (pl__tview_numel(y) == 0)
        return PL_OK;
    if (pl__tview_numel(x) == 0)
        return pl__kfail(a, PL_ERR_SHAPE, "cannot resize an empty input to a non-empty output");
    memset(&j, 0, sizeof(j));
    j.x = x;
    j.y = y;
    j.p = &p;
    j.es = es;
    pl__set_f64(j.extra, x->dtype, 0, p.extrapolation);
    for (int i = x->rank - 1; i >= 0; i--) {
        xs[i] = acc;
        acc *= x->dims[i];
    }
    j.ncombo = 1;
    for (int i = 0; i < x->rank && !s; i++) {
        s = pl__rs_axis_plan(a, &p, i, x->dims[i], y->dims[i], xs[i], &j.ax[i]);
        if (!s && i < x->rank - 1)
            j.ncombo *= j.ax[i].K;
    }
    if (!s && j.ncombo > 4096)
        s = pl__kfail(a, PL_ERR_UNSUPPORTED, "too many interpolated axes");
    if (!s)
        pl__cpu_parallel_for(a->bctx, pl__tview_numel(y) / y->dims[y->rank - 1],
                             pl__grain(y->dims[y->rank - 1] * 16), pl__rs_range, &j);
    for (int i = 0; i < x->rank; i++) {
        free(j.ax[i].off);
        free(j.ax[i].w);
        free(j.ax[i].oob);
    }
    return s;
}

/* ---- Range / Shape / Size / ConstantOfShape / NonZero / OneHot / Trilu ---- */

static pl_status pl__cpu_range(const pl__kernel_args *a) {
    const pl__tview *y = &a->out[0];
    pl_dtype t = y->dtype;
    int64_t n = pl__tview_numel(y);
    if (n == 0)
        return PL_OK;
    if (t == PL_INT64) {
        int64_t b = ((const int64_t *)a->in[0].data)[0], d = ((const int64_t *)a->in[2].data)[0];
        for (int64_t i = 0; i < n; i++)
            ((int64_t *)y->data)[i] = (int64_t)((uint64_t)b + (uint64_t)i * (uint64_t)d);
    } else if (t == PL_INT32 || t == PL_INT8 || t == PL_UINT8) {
        int64_t b = pl__get_i64(a->in[0].data, t, 0), d = pl__get_i64(a->in[2].data, t, 0);
        for (int64_t i = 0; i < n; i++)
            pl__set_f64(y->data, t, i, (double)(b + i * d));
    } else {
        double b = pl__get_f64(a->in[0].data, t, 0), d = pl__get_f64(a->in[2].data, t, 0);
        if (t == PL_FLOAT32) {
            for (int64_t i = 0; i < n; i++)
                ((float *)y->data)[i] = (float)(b + (double)i * d);
        } else {
            for (int64_t i = 0; i < n; i++)
                pl__set_f64(y->data, t, i, b + (double)i * d);
        }
    }
    return PL_OK;
}

static pl_status pl__cpu_shape(const pl__kernel_args *a) {
    int r = a->in[0].rank;
    int64_t b = pl__attr_int(&a->layer->attrs, "start", 0);
    int64_t e = pl__attr_int(&a->layer->attrs, "end", r);
    int64_t *y = a->out[0].data;
    if (b < 0)
        b += r;
    if (e < 0)
        e += r;
    b = b < 0 ? 0 : b > r ? r : b;
    e = e < 0 ? 0 : e > r ? r : e;
    if (pl__tview_numel(&a->out[0]) != (e > b ? e - b : 0))
        return pl__kfail(a, PL_ERR_SHAPE, "output length disagrees with start/end");
    for (int64_t i = b; i < e; i++)
        y[i - b] = a->in[0].dims[i];
    return PL_OK;
}

static pl_status pl__cpu_size(const pl__kernel_args *a) {
    *(int64_t *)a->out[0].data = pl__tview_numel(&a->in[0]);
    return PL_OK;
}

static pl_status pl__cpu_constant_of_shape(const pl__kernel_args *a) {
    const pl__tview *y = &a->out[0];
    const pl_attr *v = pl__attrs_find(&a->layer->attrs, "value");
    char val[8] = {0};
    pl_status s;
    size_t es = pl__esize(a, y->dtype, &s);
    if (s)
        return s;
    if (v && v->type == PL_ATTR_BYTES && (size_t)v->count == es)
        memcpy(val, v->bytes, es);
    else if (v)
        return pl__kfail(a, PL_ERR_SHAPE, "attribute 'value' does not hold one element");
    pl__fill(y->data, val, pl__tview_numel(y), es);
    return PL_OK;
}

static bool pl__is_nonzero(const char *p, pl_dtype t, size_t es) {
    switch (t) {
    case PL_FLOAT32: { float f; memcpy(&f, p, 4); return f != 0.f; }
    case PL_FLOAT64: { double f; memcpy(&f, p, 8); return f != 0.0; }
    case PL_FLOAT16: case PL_BFLOAT16: { uint16_t h; memcpy(&h, p, 2); return (h & 0x7fff) != 0; }
    default:
        for (size_t i = 0; i < es; i++)
            if (p[i])
                return true;
        return false;
    }
}

/* Writes [rank, nnz] coordinates, rows contiguous at stride nnz, and sets the actual dims. */
static pl_status pl__cpu_nonzero(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    pl__tview *y = &a->out[0];
    int r = x->rank ? x->rank : 1;
    int64_t n = pl__tview_numel(x), nnz = 0, idx[PL__R] = {0}, at = 0;
    const char *p = x->data;
    int64_t *out = y->data;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s)
        return s;
    if (y->rank != 2 || y->dims[0] != r || y->dims[1] < n)
        return pl__kfail(a, PL_ERR_SHAPE, "output is smaller than the [rank, numel] upper bound");
    for (int64_t i = 0; i < n; i++)
        nnz += pl__is_nonzero(p + i * (int64_t)es, x->dtype, es);
    for (int64_t i = 0; i < n; i++) {
        if (pl__is_nonzero(p + i * (int64_t)es, x->dtype, es)) {
            for (int k = 0; k < r; k++)
                out[k * nnz + at] = x->rank ? idx[k] : 0;
            at++;
        }
        for (int k = x->rank - 1; k >= 0; k--) {
            if (++idx[k] < x->dims[k])
                break;
            idx[k] = 0;
        }
    }
    y->dims[1] = nnz;
    return PL_OK;
}

static pl_status pl__cpu_onehot(const pl__kernel_args *a) {
    const pl__tview *ix = &a->in[0], *vals = &a->in[2];
    const pl__tview *y = &a->out[0];
    int64_t depth = pl__get_i64(a->in[1].data, a->in[1].dtype, 0), outer = 1, inner = 1;
    int r = y->rank, axis;
    int64_t ax = pl__attr_int(&a->layer->attrs, "axis", -1);
    const char *off = vals->data, *on;
    pl_status s;
    size_t es = pl__esize(a, y->dtype, &s);
    if (s)
        return s;
    if (ix->dtype == PL_BOOL || pl_dtype_size(ix->dtype) == 0)
        return pl__kfail(a, PL_ERR_UNSUPPORTED, "indices must be numeric");
    if (ax < -r || ax >= r || y->dims[ax < 0 ? ax + r : ax] != depth)
        return pl__kfail(a, PL_ERR_SHAPE, "axis or depth disagree with the output");
    axis = (int)(ax < 0 ? ax + r : ax);
    on = off + es;
    for (int i = 0; i < axis; i++)
        outer *= ix->dims[i];
    for (int i = axis; i < ix->rank; i++)
        inner *= ix->dims[i];
    pl__fill(y->data, off, pl__tview_numel(y), es);
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            int64_t v = pl__get_i64(ix->data, ix->dtype, o * inner + i);
            if (v < 0)
                v += depth;
            if (v < 0 || v >= depth)
                continue; /* ONNX: out-of-range indices give an all-off row */
            memcpy((char *)y->data + ((o * depth + v) * inner + i) * (int64_t)es, on, es);
        }
    }
    return PL_OK;
}

static pl_status pl__cpu_trilu(const pl__kernel_args *a) {
    const pl__tview *x = &a->in[0];
    bool upper = pl__attr_int(&a->layer->attrs, "upper", 1) != 0;
    int64_t k = 0, R, C, nmat;
    pl_status s;
    size_t es = pl__esize(a, x->dtype, &s);
    if (s)
        return s;
    if (x->rank < 2)
        return pl__kfail(a, PL_ERR_SHAPE, "input rank must be >= 2");
    if (a->nin > 1 && a->in[1].data && pl__tview_numel(&a->in[1]) == 1)
        k = pl__get_i64(a->in[1].data, a->in[1].dtype, 0);
    R = x->dims[x->rank - 2];
    C = x->dims[x->rank - 1];
    if (R == 0 || C == 0)
        return PL_OK;
    nmat = pl__tview_numel(x) / (R * C);
    for (int64_t m = 0; m < nmat; m++) {
        for (int64_t i = 0; i < R; i++) {
            const char *src = (const char *)x->data + ((m * R + i) * C) * (int64_t)es;
            char *dst = (char *)a->out[0].data + ((m * R + i) * C) * (int64_t)es;
            /* kept columns: upper j >= i + k, lower j <= i + k (clamped to [0, C]) */
            int64_t lim = upper ? i + k : i + k + 1;
            int64_t c0 = lim < 0 ? 0 : lim > C ? C : lim;
            int64_t keep_b = upper ? c0 : 0, keep_e = upper ? C : c0;
            if (dst != src && keep_e > keep_b)
                memmove(dst + keep_b * (int64_t)es, src + keep_b * (int64_t)es,
                        (size_t)(keep_e - keep_b) * es);
            if (upper)
                memset(dst, 0, (size_t)c0 * es);
            else
                memset(dst + c0 * (int64_t)es, 0, (size_t)(C - c0) * es);
        }
    }
    return PL_OK;
}

const pl__kernel_def pl__cpu_kernels_shape[] = {
    {.op = "Concat", .run = pl__cpu_concat},
    {.op = "Split", .run = pl__cpu_split},
    {.op = "Slice", .run = pl__cpu_slice},
    {.op = "Reshape", .run = pl__cpu_copy_view},
    {.op = "Flatten", .run = pl__cpu_copy_view},
    {.op = "Squeeze", .run = pl__cpu_copy_view},
    {.op = "Unsqueeze", .run = pl__cpu_copy_view},
    {.op = "Transpose", .run = pl__cpu_transpose},
    {.op = "Gather", .run = pl__cpu_gather},
    {.op = "GatherElements", .run = pl__cpu_gather_elements},
    {.op = "ScatterElements", .run = pl__cpu_scatter_elements},
    {.op = "Expand", .run = pl__cpu_expand},
    {.op = "Tile", .run = pl__cpu_tile},
    {.op = "Pad", .run = pl__cpu_pad},
    {.op = "Resize", .run = pl__cpu_resize},
    {.op = "Upsample", .run = pl__cpu_resize},
    {.op = "Range", .run = pl__cpu_range},
    {.op = "Shape", .run = pl__cpu_shape},
    {.op = "Size", .run = pl__cpu_size},
    {.op = "ConstantOfShape", .run = pl__cpu_constant_of_shape},
    {.op = "NonZero", .run = pl__cpu_nonzero},
    {.op = "DepthToSpace", .run = pl__cpu_depth_space},
    {.op = "SpaceToDepth", .run = pl__cpu_depth_space},
    {.op = "OneHot", .run = pl__cpu_onehot},
    {.op = "Trilu", .run = pl__cpu_trilu},
    {0},
};
