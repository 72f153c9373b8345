/*
 * ops-shape.c - shape inference for the shape and data-movement ops: Concat, Split, Slice,
 * Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Gather, GatherElements, ScatterElements,
 * Expand, Pad, Resize, Upsample, Tile, Range, Shape, Size, ConstantOfShape, NonZero,
 * DepthToSpace, SpaceToDepth, OneHot and Trilu; plus the parameter resolvers of ops-shape.h.
 *
 * ONNX moved several attributes to inputs over the opsets (Split's split, Slice's starts/ends,
 * Squeeze/Unsqueeze axes, Pad's pads, Resize's scales). Every op here accepts both forms: the
 * input when it is given, else the attribute, so the importer passes nodes through unchanged.
 * Ops move bytes, so every dtype is accepted unless ONNX restricts it (index inputs).
 */
#include <math.h>
#include <string.h>

#include "graph/ops-shape.h"

#define PL__R PL_MAX_RANK
#define PL__MAX_SPLIT 127 /* op_def counts are int8_t */

static bool pl__given(const pl__infer *ic, int i) {
    return i < ic->nin && ic->in[i].dtype != PL_DTYPE_INVALID;
}

/* Optional list inputs that ONNX exporters often pass as empty tensors instead of omitting. */
static bool pl__given_nonempty(const pl__infer *ic, int i) {
    return pl__given(ic, i) && pl__tview_numel(&ic->in[i]) > 0;
}

static void pl__ctx_init(pl__infer *ic, const pl__layer *l, int nin, const pl__tview *in) {
    memset(ic, 0, sizeof(*ic));
    ic->layer = l;
    ic->nin = nin;
    ic->in = in;
}

static pl_status pl__need_data(const pl__infer *ic, int i, const char *what) {
    if (!ic->in[i].data && pl__tview_numel(&ic->in[i]) > 0)
        return pl__infer_fail(ic, "input %d (%s) must be known when shapes are inferred (a "
                              "constant, or computed from shapes)", i, what);
    return PL_OK;
}

/* Reads an int32/int64 value input of at most maxn elements. */
static pl_status pl__value_ints(const pl__infer *ic, int i, const char *what, int64_t maxn,
                                int64_t *vals, int64_t *n) {
    const pl__tview *v = &ic->in[i];
    int64_t cnt = pl__tview_numel(v);
    pl_status s;
    if (v->dtype != PL_INT64 && v->dtype != PL_INT32)
        return pl__infer_fail(ic, "input %d (%s) must be int32 or int64, got %s", i, what,
                              pl_dtype_name(v->dtype));
    if (v->rank > 1)
        return pl__infer_fail(ic, "input %d (%s) must be 1-D, got rank %d", i, what, v->rank);
    if (cnt > maxn)
        return pl__infer_fail(ic, "input %d (%s) has %lld values, at most %lld allowed", i, what,
                              (long long)cnt, (long long)maxn);
    if ((s = pl__need_data(ic, i, what)))
        return s;
    for (int64_t k = 0; k < cnt; k++)
        vals[k] = pl__get_i64(v->data, v->dtype, k);
    *n = cnt;
    return PL_OK;
}

/* Reads an INTS attribute of at most maxn elements; *n = -1 when absent. */
static pl_status pl__attr_list(const pl__infer *ic, const char *name, int64_t maxn, int64_t *vals,
                               int64_t *n) {
    const int64_t *v;
    int64_t cnt = pl__attr_ints(&ic->layer->attrs, name, &v);
    const pl_attr *a = pl__attrs_find(&ic->layer->attrs, name);
    if (cnt < 0 && a && a->type == PL_ATTR_INT) { /* a lone INT where ONNX says INTS */
        vals[0] = a->i;
        *n = 1;
        return PL_OK;
    }
    if (cnt > maxn)
        return pl__infer_fail(ic, "attribute '%s' has %lld values, at most %lld allowed", name,
                              (long long)cnt, (long long)maxn);
    for (int64_t k = 0; k < cnt; k++)
        vals[k] = v[k];
    *n = cnt;
    return PL_OK;
}

/* Normalizes a list of axes against rank and rejects repeats. */
static pl_status pl__norm_axes(const pl__infer *ic, const int64_t *axes, int64_t n, int rank,
                               int *out) {
    bool seen[PL__R * 2] = {false};
    for (int64_t k = 0; k < n; k++) {
        pl_status s = pl__norm_axis(ic, axes[k], rank, &out[k]);
        if (s)
            return s;
        if (rank == 0 || seen[out[k]])
            return pl__infer_fail(ic, rank ? "axis %lld is repeated" : "axis %lld on a scalar",
                                  (long long)axes[k]);
        seen[out[k]] = true;
    }
    return PL_OK;
}

static pl_status pl__check_index_type(const pl__infer *ic, int i, const char *what) {
    pl_dtype t = ic->in[i].dtype;
    if (t != PL_INT32 && t != PL_INT64)
        return pl__infer_fail(ic, "input %d (%s) must be int32 or int64, got %s", i, what,
                              pl_dtype_name(t));
    return PL_OK;
}

static pl_status pl__set_out(pl__infer *ic, int k, pl_dtype t, int rank, const int64_t *dims) {
    ic->out[k].dtype = t;
    ic->out[k].rank = rank;
    ic->out[k].data = NULL;
    for (int i = 0; i < rank; i++)
        ic->out[k].dims[i] = dims[i];
    return PL_OK;
}

/* ---- Concat / Split ---- */

static pl_status pl__infer_concat(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t dims[PL__R], total = 0;
    int axis;
    pl_status s;
    if (!pl__attrs_find(&ic->layer->attrs, "axis"))
        return pl__infer_fail(ic, "attribute 'axis' is required");
    if (x->rank == 0)
        return pl__infer_fail(ic, "cannot concatenate scalars");
    if ((s = pl__norm_axis(ic, pl__attr_int(&ic->layer->attrs, "axis", 0), x->rank, &axis)))
        return s;
    for (int i = 0; i < ic->nin; i++) {
        const pl__tview *v = &ic->in[i];
        if (v->dtype == PL_DTYPE_INVALID)
            return pl__infer_fail(ic, "input %d is missing", i);
        if (v->dtype != x->dtype)
            return pl__infer_fail(ic, "input %d is %s, input 0 is %s", i, pl_dtype_name(v->dtype),
                                  pl_dtype_name(x->dtype));
        if (v->rank != x->rank)
            return pl__infer_fail(ic, "input %d has rank %d, input 0 has rank %d", i, v->rank,
                                  x->rank);
        for (int d = 0; d < x->rank; d++) {
            if (d != axis && v->dims[d] != x->dims[d]) {
                char a[128], b[128];
                return pl__infer_fail(ic, "input %d %s does not match input 0 %s off axis %d", i,
                                      pl__dims_str(v->rank, v->dims, a, sizeof(a)),
                                      pl__dims_str(x->rank, x->dims, b, sizeof(b)), axis);
            }
        }
        total += v->dims[axis];
    }
    memcpy(dims, x->dims, sizeof(dims));
    dims[axis] = total;
    return pl__set_out(ic, 0, x->dtype, x->rank, dims);
}

static pl_status pl__infer_split(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t sizes[PL__MAX_SPLIT], n = -1, d, sum = 0, dims[PL__R];
    int axis, nout = ic->nout;
    pl_status s;
    if (x->rank == 0)
        return pl__infer_fail(ic, "cannot split a scalar");
    if ((s = pl__norm_axis(ic, pl__attr_int(&ic->layer->attrs, "axis", 0), x->rank, &axis)))
        return s;
    d = x->dims[axis];
    if (pl__given_nonempty(ic, 1))
        s = pl__value_ints(ic, 1, "split", PL__MAX_SPLIT, sizes, &n);
    else
        s = pl__attr_list(ic, "split", PL__MAX_SPLIT, sizes, &n);
    if (s)
        return s;
    if (n >= 0) {
        if (n != nout)
            return pl__infer_fail(ic, "'split' has %lld entries for %d outputs", (long long)n,
                                  nout);
        for (int k = 0; k < nout; k++) {
            if (sizes[k] < 0)
                return pl__infer_fail(ic, "split[%d] = %lld is negative", k, (long long)sizes[k]);
            sum += sizes[k];
        }
        if (sum != d)
            return pl__infer_fail(ic, "'split' sums to %lld but axis %d has %lld elements",
                                  (long long)sum, axis, (long long)d);
    } else {
        const pl_attr *no = pl__attrs_find(&ic->layer->attrs, "num_outputs");
        if (no && no->i != nout)
            return pl__infer_fail(ic, "num_outputs = %lld but the node has %d outputs",
                                  (long long)no->i, nout);
        if (no) { /* opset 18: ceil-sized chunks, the last one smaller */
            int64_t chunk = (d + nout - 1) / nout;
            for (int k = 0; k < nout; k++) {
                int64_t left = d - chunk * k;
                sizes[k] = left < 0 ? 0 : left < chunk ? left : chunk;
            }
        } else {
            if (d % nout)
                return pl__infer_fail(ic, "axis %d of %lld elements does not split evenly into "
                                      "%d outputs", axis, (long long)d, nout);
            for (int k = 0; k < nout; k++)
                sizes[k] = d / nout;
        }
    }
    memcpy(dims, x->dims, sizeof(dims));
    for (int k = 0; k < nout; k++) {
        dims[axis] = sizes[k];
        pl__set_out(ic, k, x->dtype, x->rank, dims);
    }
    return PL_OK;
}

/* ---- Slice ---- */

pl_status pl__slice_resolve(const pl__layer *l, int nin, const pl__tview *in, pl__slice_params *p) {
    pl__infer c, *ic = &c;
    const pl__tview *x = &in[0];
    int64_t st[PL__R], en[PL__R], ax[PL__R], sp[PL__R], n = -1, ne = -1, na = -1, ns = -1;
    int r = x->rank, axes[PL__R];
    pl_status s;
    pl__ctx_init(ic, l, nin, in);
    if (r == 0)
        return pl__infer_fail(ic, "cannot slice a scalar");
    if (nin >= 3) {
        if (!pl__given(ic, 1) || !pl__given(ic, 2))
            return pl__infer_fail(ic, "inputs 'starts' and 'ends' are required");
        if ((s = pl__value_ints(ic, 1, "starts", r, st, &n)) ||
            (s = pl__value_ints(ic, 2, "ends", r, en, &ne)))
            return s;
        if (pl__given(ic, 3) && (s = pl__value_ints(ic, 3, "axes", r, ax, &na)))
            return s;
        if (pl__given(ic, 4) && (s = pl__value_ints(ic, 4, "steps", r, sp, &ns)))
            return s;
    } else {
        if ((s = pl__attr_list(ic, "starts", r, st, &n)) ||
            (s = pl__attr_list(ic, "ends", r, en, &ne)) ||
            (s = pl__attr_list(ic, "axes", r, ax, &na)))
            return s;
        if (n < 0 || ne < 0)
            return pl__infer_fail(ic, "'starts' and 'ends' are required (as inputs or, before "
                                  "opset 10, attributes)");
    }
    if (ne != n || (na >= 0 && na != n) || (ns >= 0 && ns != n))
        return pl__infer_fail(ic, "starts/ends/axes/steps have different lengths (%lld/%lld/%lld/"
                              "%lld)", (long long)n, (long long)ne, (long long)na, (long long)ns);
    if (na < 0) {
        for (int64_t k = 0; k < n; k++)
            ax[k] = k;
    }
    if ((s = pl__norm_axes(ic, ax, n, r, axes)))
        return s;
    p->rank = r;
    for (int i = 0; i < r; i++) {
        p->start[i] = 0;
        p->step[i] = 1;
        p->count[i] = x->dims[i];
    }
    for (int64_t k = 0; k < n; k++) {
        int a = axes[k];
        int64_t d = x->dims[a], b = st[k], e = en[k], step = ns >= 0 ? sp[k] : 1, cnt;
        if (step == 0)
            return pl__infer_fail(ic, "steps[%lld] is 0", (long long)k);
        if (b < 0)
            b += d;
        if (e < 0)
            e += d;
        if (step > 0) {
            b = b < 0 ? 0 : b > d ? d : b;
            e = e < 0 ? 0 : e > d ? d : e;
            cnt = e > b ? (e - b - 1) / step + 1 : 0;
        } else {
            /* counting backwards: start in [0, d-1], end in [-1, d-1] (-1: through element 0) */
            int64_t ast = step == INT64_MIN ? INT64_MAX : -step;
            b = b < 0 ? 0 : b > d - 1 ? d - 1 : b;
            e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
            cnt = b > e ? (b - e - 1) / ast + 1 : 0;
        }
        p->start[a] = cnt ? b : 0;
        p->step[a] = step;
        p->count[a] = cnt;
    }
    return PL_OK;
}

static pl_status pl__infer_slice(pl__infer *ic) {
    pl__slice_params p;
    pl_status s = pl__slice_resolve(ic->layer, ic->nin, ic->in, &p);
    if (s)
        return s;
    return pl__set_out(ic, 0, ic->in[0].dtype, p.rank, p.count);
}

/* ---- Reshape / Flatten / Squeeze / Unsqueeze / Transpose ---- */

static pl_status pl__infer_reshape(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t shape[PL__R], n = -1, known = 1, numel = pl__tview_numel(x);
    bool allowzero = pl__attr_int(&ic->layer->attrs, "allowzero", 0) != 0;
    int neg = -1;
    char a[128], b[128];
    pl_status s;
    if (pl__given(ic, 1))
        s = pl__value_ints(ic, 1, "shape", PL__R, shape, &n);
    else
        s = pl__attr_list(ic, "shape", PL__R, shape, &n); /* opset 1-4 */
    if (s)
        return s;
    if (n < 0)
        return pl__infer_fail(ic, "input 'shape' is required");
    for (int k = 0; k < n; k++) {
        if (shape[k] == 0 && !allowzero) {
            if (k >= x->rank)
                return pl__infer_fail(ic, "shape[%d] = 0 copies input dim %d, but the input %s has "
                                      "rank %d", k, k, pl__dims_str(x->rank, x->dims, a, sizeof(a)),
                                      x->rank);
            shape[k] = x->dims[k];
        }
        if (shape[k] == -1) {
            if (neg >= 0)
                return pl__infer_fail(ic, "shape %s has more than one -1",
                                      pl__dims_str((int)n, shape, a, sizeof(a)));
            neg = k;
            continue;
        }
        if (shape[k] < 0)
            return pl__infer_fail(ic, "shape[%d] = %lld is invalid", k, (long long)shape[k]);
        if (!pl__mul_i64(known, shape[k], &known))
            return pl__infer_fail(ic, "shape %s overflows", pl__dims_str((int)n, shape, a, sizeof(a)));
    }
    if (neg >= 0) {
        if (known == 0 || numel % known)
            return pl__infer_fail(ic, "cannot reshape %s (%lld elements) to %s",
                                  pl__dims_str(x->rank, x->dims, a, sizeof(a)), (long long)numel,
                                  pl__dims_str((int)n, shape, b, sizeof(b)));
        shape[neg] = numel / known;
    } else if (known != numel) {
        return pl__infer_fail(ic, "cannot reshape %s (%lld elements) to %s",
                              pl__dims_str(x->rank, x->dims, a, sizeof(a)), (long long)numel,
                              pl__dims_str((int)n, shape, b, sizeof(b)));
    }
    return pl__set_out(ic, 0, x->dtype, (int)n, shape);
}

static pl_status pl__infer_flatten(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t axis = pl__attr_int(&ic->layer->attrs, "axis", 1), dims[2] = {1, 1};
    if (axis < 0)
        axis += x->rank;
    if (axis < 0 || axis > x->rank)
        return pl__infer_fail(ic, "axis %lld is out of range for rank %d",
                              (long long)pl__attr_int(&ic->layer->attrs, "axis", 1), x->rank);
    for (int i = 0; i < x->rank; i++)
        dims[i < axis ? 0 : 1] *= x->dims[i];
    return pl__set_out(ic, 0, x->dtype, 2, dims);
}

static pl_status pl__read_axes(pl__infer *ic, int rank, int64_t *vals, int64_t *n) {
    if (pl__given_nonempty(ic, 1))
        return pl__value_ints(ic, 1, "axes", rank, vals, n);
    return pl__attr_list(ic, "axes", rank, vals, n);
}

static pl_status pl__infer_squeeze(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t ax[PL__R], n = -1, dims[PL__R];
    int axes[PL__R], r = 0;
    bool drop[PL__R] = {false};
    pl_status s;
    if ((s = pl__read_axes(ic, x->rank, ax, &n)))
        return s;
    if (n < 0) {
        for (int i = 0; i < x->rank; i++)
            drop[i] = x->dims[i] == 1;
    } else {
        if ((s = pl__norm_axes(ic, ax, n, x->rank, axes)))
            return s;
        for (int k = 0; k < n; k++) {
            if (x->dims[axes[k]] != 1)
                return pl__infer_fail(ic, "cannot squeeze axis %d of size %lld", axes[k],
                                      (long long)x->dims[axes[k]]);
            drop[axes[k]] = true;
        }
    }
    for (int i = 0; i < x->rank; i++)
        if (!drop[i])
            dims[r++] = x->dims[i];
    return pl__set_out(ic, 0, x->dtype, r, dims);
}

static pl_status pl__infer_unsqueeze(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t ax[PL__R], n = -1, dims[PL__R];
    int axes[PL__R], r, j = 0;
    bool ins[PL__R] = {false};
    pl_status s;
    if ((s = pl__read_axes(ic, PL__R, ax, &n)))
        return s;
    if (n < 0)
        return pl__infer_fail(ic, "'axes' is required (input since opset 13, attribute before)");
    r = x->rank + (int)n;
    if (r > PL__R)
        return pl__infer_fail(ic, "output rank %d exceeds %d", r, PL__R);
    if ((s = pl__norm_axes(ic, ax, n, r, axes)))
        return s;
    for (int k = 0; k < n; k++)
        ins[axes[k]] = true;
    for (int i = 0; i < r; i++)
        dims[i] = ins[i] ? 1 : x->dims[j++];
    return pl__set_out(ic, 0, x->dtype, r, dims);
}

static pl_status pl__infer_transpose(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t perm[PL__R], n = -1, dims[PL__R];
    bool seen[PL__R] = {false};
    pl_status s;
    if ((s = pl__attr_list(ic, "perm", PL__R, perm, &n)))
        return s;
    if (n < 0) {
        n = x->rank;
        for (int i = 0; i < x->rank; i++)
            perm[i] = x->rank - 1 - i;
    }
    if (n != x->rank)
        return pl__infer_fail(ic, "'perm' has %lld entries for rank %d", (long long)n, x->rank);
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || seen[perm[i]])
            return pl__infer_fail(ic, "'perm' is not a permutation of 0..%d", x->rank - 1);
        seen[perm[i]] = true;
        dims[i] = x->dims[perm[i]];
    }
    return pl__set_out(ic, 0, x->dtype, x->rank, dims);
}

/* ---- Gather / GatherElements / ScatterElements ---- */

static pl_status pl__infer_gather(pl__infer *ic) {
    const pl__tview *x = &ic->in[0], *ix = &ic->in[1];
    int64_t dims[PL__R];
    int axis, r = 0;
    pl_status s;
    if ((s = pl__check_index_type(ic, 1, "indices")))
        return s;
    if (x->rank == 0)
        return pl__infer_fail(ic, "cannot gather from a scalar");
    if ((s = pl__norm_axis(ic, pl__attr_int(&ic->layer->attrs, "axis", 0), x->rank, &axis)))
        return s;
    if (x->rank - 1 + ix->rank > PL__R)
        return pl__infer_fail(ic, "output rank %d exceeds %d", x->rank - 1 + ix->rank, PL__R);
    for (int i = 0; i < axis; i++)
        dims[r++] = x->dims[i];
    for (int i = 0; i < ix->rank; i++)
        dims[r++] = ix->dims[i];
    for (int i = axis + 1; i < x->rank; i++)
        dims[r++] = x->dims[i];
    return pl__set_out(ic, 0, x->dtype, r, dims);
}

/* GatherElements and ScatterElements: indices of the data's rank, each dim off the axis no larger
 * than the data's (the kernels index data with the indices' coordinates). */
static pl_status pl__check_elements(pl__infer *ic, const pl__tview *x, const pl__tview *ix,
                                    int *axis) {
    pl_status s;
    if ((s = pl__check_index_type(ic, 1, "indices")))
        return s;
    if (x->rank == 0 || ix->rank != x->rank)
        return pl__infer_fail(ic, "indices have rank %d, data rank %d (must be equal and >= 1)",
                              ix->rank, x->rank);
    if ((s = pl__norm_axis(ic, pl__attr_int(&ic->layer->attrs, "axis", 0), x->rank, axis)))
        return s;
    for (int i = 0; i < x->rank; i++) {
        if (i != *axis && ix->dims[i] > x->dims[i]) {
            char a[128], b[128];
            return pl__infer_fail(ic, "indices %s exceed data %s on axis %d",
                                  pl__dims_str(ix->rank, ix->dims, a, sizeof(a)),
                                  pl__dims_str(x->rank, x->dims, b, sizeof(b)), i);
        }
    }
    return PL_OK;
}

static pl_status pl__infer_gather_elements(pl__infer *ic) {
    int axis;
    pl_status s = pl__check_elements(ic, &ic->in[0], &ic->in[1], &axis);
    if (s)
        return s;
    return pl__set_out(ic, 0, ic->in[0].dtype, ic->in[1].rank, ic->in[1].dims);
}

static pl_status pl__infer_scatter_elements(pl__infer *ic) {
    const pl__tview *x = &ic->in[0], *ix = &ic->in[1], *u = &ic->in[2];
    const char *red = pl__attr_string(&ic->layer->attrs, "reduction", "none");
    int axis;
    pl_status s = pl__check_elements(ic, x, ix, &axis);
    if (s)
        return s;
    if (u->dtype != x->dtype)
        return pl__infer_fail(ic, "updates are %s, data %s", pl_dtype_name(u->dtype),
                              pl_dtype_name(x->dtype));
    if (u->rank != ix->rank || memcmp(u->dims, ix->dims, sizeof(int64_t) * (size_t)ix->rank))
        return pl__infer_fail(ic, "updates and indices shapes differ");
    if (strcmp(red, "none") && strcmp(red, "add") && strcmp(red, "mul") && strcmp(red, "max") &&
        strcmp(red, "min"))
        return pl__infer_fail(ic, "unknown reduction '%s'", red);
    return pl__set_out(ic, 0, x->dtype, x->rank, x->dims);
}

/* ---- Expand / Tile ---- */

static pl_status pl__infer_expand(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t shape[PL__R], n, dims[PL__R];
    int r;
    pl_status s;
    if ((s = pl__value_ints(ic, 1, "shape", PL__R, shape, &n)))
        return s;
    for (int k = 0; k < n; k++)
        if (shape[k] < 0)
            return pl__infer_fail(ic, "shape[%d] = %lld is negative", k, (long long)shape[k]);
    if ((s = pl__broadcast(ic, x->rank, x->dims, (int)n, shape, &r, dims)))
        return s;
    return pl__set_out(ic, 0, x->dtype, r, dims);
}

static pl_status pl__infer_tile(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t rep[PL__R], n, dims[PL__R];
    pl_status s;
    if ((s = pl__value_ints(ic, 1, "repeats", PL__R, rep, &n)))
        return s;
    if (n != x->rank)
        return pl__infer_fail(ic, "'repeats' has %lld values for rank %d", (long long)n, x->rank);
    for (int i = 0; i < x->rank; i++) {
        if (rep[i] < 0)
            return pl__infer_fail(ic, "repeats[%d] = %lld is negative", i, (long long)rep[i]);
        if (!pl__mul_i64(x->dims[i], rep[i], &dims[i]))
            return pl__infer_fail(ic, "output dim %d overflows", i);
    }
    return pl__set_out(ic, 0, x->dtype, x->rank, dims);
}

/* ---- Pad ---- */

pl_status pl__pad_resolve(const pl__layer *l, int nin, const pl__tview *in, pl__pad_params *p) {
    pl__infer c, *ic = &c;
    const pl__tview *x = &in[0];
    const char *mode = pl__attr_string(&l->attrs, "mode", "constant");
    int64_t pads[2 * PL__R], np = -1, ax[PL__R], na = -1;
    int r = x->rank, axes[PL__R];
    pl_status s;
    pl__ctx_init(ic, l, nin, in);
    memset(p, 0, sizeof(*p));
    p->rank = r;
    if (strcmp(mode, "constant") == 0)
        p->mode = PL__PAD_CONSTANT;
    else if (strcmp(mode, "reflect") == 0)
        p->mode = PL__PAD_REFLECT;
    else if (strcmp(mode, "edge") == 0)
        p->mode = PL__PAD_EDGE;
    else if (strcmp(mode, "wrap") == 0)
        p->mode = PL__PAD_WRAP;
    else
        return pl__infer_fail(ic, "unknown mode '%s'", mode);
    if (pl__given(ic, 1))
        s = pl__value_ints(ic, 1, "pads", 2 * PL__R, pads, &np);
    else if (pl__attrs_find(&l->attrs, "pads"))
        s = pl__attr_list(ic, "pads", 2 * PL__R, pads, &np);
    else
        s = pl__attr_list(ic, "paddings", 2 * PL__R, pads, &np); /* opset 1 name */
    if (s)
        return s;
    if (np < 0)
        return pl__infer_fail(ic, "'pads' is required");
    if (pl__given(ic, 3)) {
        if ((s = pl__value_ints(ic, 3, "axes", r, ax, &na)))
            return s;
    } else {
        na = r;
        for (int i = 0; i < r; i++)
            ax[i] = i;
    }
    if (np != 2 * na)
        return pl__infer_fail(ic, "'pads' has %lld values, expected %lld (2 per axis)",
                              (long long)np, (long long)(2 * na));
    if ((s = pl__norm_axes(ic, ax, na, r, axes)))
        return s;
    for (int k = 0; k < na; k++) {
        p->begin[axes[k]] = pads[k];
        p->end[axes[k]] = pads[k + na];
    }
    for (int i = 0; i < r; i++) {
        int64_t d = x->dims[i], o = d + p->begin[i] + p->end[i];
        if (p->begin[i] < -d || p->end[i] < -d || o < 0)
            return pl__infer_fail(ic, "pads %lld,%lld remove more than the %lld elements of axis %d",
                                  (long long)p->begin[i], (long long)p->end[i], (long long)d, i);
        if (d == 0 && o > 0 && p->mode != PL__PAD_CONSTANT)
            return pl__infer_fail(ic, "cannot pad empty axis %d in '%s' mode", i, mode);
    }
    if (pl__given(ic, 2)) {
        if (in[2].dtype != x->dtype)
            return pl__infer_fail(ic, "constant_value is %s, data %s", pl_dtype_name(in[2].dtype),
                                  pl_dtype_name(x->dtype));
        if (in[2].data && pl__tview_numel(&in[2]) >= 1)
            p->value = pl__get_f64(in[2].data, in[2].dtype, 0);
    } else {
        p->value = pl__attr_float(&l->attrs, "value", 0.0);
    }
    return PL_OK;
}

static pl_status pl__infer_pad(pl__infer *ic) {
    pl__pad_params p;
    int64_t dims[PL__R];
    pl_status s = pl__pad_resolve(ic->layer, ic->nin, ic->in, &p);
    if (s)
        return s;
    for (int i = 0; i < p.rank; i++)
        dims[i] = ic->in[0].dims[i] + p.begin[i] + p.end[i];
    return pl__set_out(ic, 0, ic->in[0].dtype, p.rank, dims);
}

/* ---- Resize / Upsample ---- */

static pl_status pl__value_floats(const pl__infer *ic, int i, const char *what, int64_t maxn,
                                  double *vals, int64_t *n) {
    const pl__tview *v = &ic->in[i];
    int64_t cnt = pl__tview_numel(v);
    pl_status s;
    if (v->dtype != PL_FLOAT32 && v->dtype != PL_FLOAT16 && v->dtype != PL_FLOAT64 &&
        v->dtype != PL_BFLOAT16)
        return pl__infer_fail(ic, "input %d (%s) must be a float tensor, got %s", i, what,
                              pl_dtype_name(v->dtype));
    if (cnt > maxn)
        return pl__infer_fail(ic, "input %d (%s) has %lld values, at most %lld allowed", i, what,
                              (long long)cnt, (long long)maxn);
    if ((s = pl__need_data(ic, i, what)))
        return s;
    for (int64_t k = 0; k < cnt; k++)
        vals[k] = pl__get_f64(v->data, v->dtype, k);
    *n = cnt;
    return PL_OK;
}

static int pl__lookup(const char *s, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

pl_status pl__resize_resolve(const pl__layer *l, int nin, const pl__tview *in, pl__resize_params *p) {
    static const char *const coords[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                         "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                                         "tf_crop_and_resize"};
    static const char *const rounds[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    pl__infer c, *ic = &c;
    const pl__tview *x = &in[0];
    const pl__attrs *at = &l->attrs;
    const char *mode = pl__attr_string(at, "mode", "nearest");
    const char *label = pl__layer_label(l);
    double scales[PL__R], roi[2 * PL__R];
    int64_t sizes[PL__R], ax[PL__R], ns = -1, nz = -1, nr = -1, na = -1;
    int r = x->rank, axes[PL__R];
    bool legacy = strcmp(l->op, "Upsample") == 0 || nin == 2;
    pl_status s;
    pl__ctx_init(ic, l, nin, in);
    memset(p, 0, sizeof(*p));
    p->rank = r;
    if (strcmp(mode, "nearest") == 0)
        p->mode = PL__RESIZE_NEAREST;
    else if (strcmp(mode, "linear") == 0 || strcmp(mode, "bilinear") == 0)
        p->mode = PL__RESIZE_LINEAR;
    else if (strcmp(mode, "cubic") == 0)
        p->mode = PL__RESIZE_CUBIC;
    else
        return pl__infer_fail(ic, "unknown mode '%s'", mode);
    p->cubic_a = pl__attr_float(at, "cubic_coeff_a", -0.75);
    p->exclude_outside = pl__attr_int(at, "exclude_outside", 0) != 0;
    p->extrapolation = pl__attr_float(at, "extrapolation_value", 0.0);
    if (legacy) {
        /* Upsample and Resize-10: asymmetric coordinates, and nearest rounds down when
         * upsampling (the rule onnxruntime applied to those opsets) */
        p->coord = PL__COORD_ASYMMETRIC;
        p->round = PL__ROUND_SIMPLE;
        if (nin >= 2 && pl__given(ic, 1)) {
            if ((s = pl__value_floats(ic, 1, "scales", r, scales, &ns)))
                return s;
        } else {
            const float *f;
            ns = pl__attr_floats(at, "scales", &f);
            if (ns > r)
                return pl__infer_fail(ic, "'scales' has %lld values for rank %d", (long long)ns, r);
            for (int64_t k = 0; k < ns; k++)
                scales[k] = f[k];
        }
        if (ns < 0)
            return pl__infer_fail(ic, "'scales' is required");
    } else {
        const char *cs = pl__attr_string(at, "coordinate_transformation_mode", "half_pixel");
        const char *rs = pl__attr_string(at, "nearest_mode", "round_prefer_floor");
        int ci = pl__lookup(cs, coords, 7), ri = pl__lookup(rs, rounds, 4);
        if (ci < 0)
            return pl__infer_fail(ic, "unknown coordinate_transformation_mode '%s'", cs);
        if (ri < 0)
            return pl__infer_fail(ic, "unknown nearest_mode '%s'", rs);
        p->coord = (pl__resize_coord)ci;
        p->round = (pl__resize_round)ri;
        if (pl__given_nonempty(ic, 2) && (s = pl__value_floats(ic, 2, "scales", r, scales, &ns)))
            return s;
        if (pl__given_nonempty(ic, 3) && (s = pl__value_ints(ic, 3, "sizes", r, sizes, &nz)))
            return s;
        if ((ns >= 0) == (nz >= 0))
            return pl__infer_fail(ic, "exactly one of 'scales' and 'sizes' must be given");
        if (p->coord == PL__COORD_TF_CROP_AND_RESIZE && pl__given_nonempty(ic, 1) &&
            (s = pl__value_floats(ic, 1, "roi", 2 * PL__R, roi, &nr)))
            return s;
    }
    if ((s = pl__attr_list(ic, "axes", r, ax, &na)))
        return s;
    if (na < 0) {
        na = r;
        for (int i = 0; i < r; i++)
            ax[i] = i;
    }
    if ((s = pl__norm_axes(ic, ax, na, r, axes)))
        return s;
    if ((ns >= 0 && ns != na) || (nz >= 0 && nz != na) || (nr >= 0 && nr != 2 * na))
        return pl__infer_fail(ic, "scales/sizes/roi lengths (%lld/%lld/%lld) do not fit %lld axes",
                              (long long)ns, (long long)nz, (long long)nr, (long long)na);
    for (int i = 0; i < r; i++) {
        p->out[i] = x->dims[i];
        p->scale[i] = 1.0;
        p->roi_start[i] = 0.0;
        p->roi_end[i] = 1.0;
    }
    for (int k = 0; k < na && nr >= 0; k++) {
        p->roi_start[axes[k]] = roi[k];
        p->roi_end[axes[k]] = roi[k + na];
    }
    if (ns >= 0) {
        for (int k = 0; k < na; k++) {
            int a = axes[k];
            double o = floor((double)x->dims[a] * scales[k]);
            if (!(scales[k] > 0) || !(o < 9e15))
                return pl__infer_fail(ic, "scale %g on axis %d is invalid", scales[k], a);
            p->scale[a] = scales[k];
            p->out[a] = (int64_t)o;
        }
    } else {
        const char *pol = pl__attr_string(at, "keep_aspect_ratio_policy", "stretch");
        bool larger = strcmp(pol, "not_larger") == 0, smaller = strcmp(pol, "not_smaller") == 0;
        double common = larger ? INFINITY : 0.0;
        if (!larger && !smaller && strcmp(pol, "stretch"))
            return pl__infer_fail(ic, "unknown keep_aspect_ratio_policy '%s'", pol);
        for (int k = 0; k < na; k++) {
            int a = axes[k];
            if (sizes[k] < 0)
                return pl__infer_fail(ic, "sizes[%d] = %lld is negative", k, (long long)sizes[k]);
            if (x->dims[a] == 0) {
                if (sizes[k] != 0)
                    return pl__infer_fail(ic, "cannot resize empty axis %d to %lld", a,
                                          (long long)sizes[k]);
                continue;
            }
            p->out[a] = sizes[k];
            p->scale[a] = (float)sizes[k] / (float)x->dims[a];
            if (larger && p->scale[a] < common)
                common = p->scale[a];
            if (smaller && p->scale[a] > common)
                common = p->scale[a];
        }
        if ((larger || smaller) && isfinite(common)) {
            for (int k = 0; k < na; k++) {
                int a = axes[k];
                p->scale[a] = common;
                p->out[a] = (int64_t)floor(common * (double)x->dims[a] + 0.5);
            }
        }
    }
    if (pl__attr_int(at, "antialias", 0) && p->mode != PL__RESIZE_NEAREST) {
        for (int i = 0; i < r; i++)
            if (p->scale[i] < 1.0)
                return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): antialiased downsampling is "
                                "not supported", label, l->op);
    }
    return PL_OK;
}

double pl__resize_coord_map(const pl__resize_params *p, int axis, int64_t in, double x) {
    /* single precision on purpose: onnxruntime computes coordinates in float, and a floor or a
     * rounding taken on the other side of an integer would pick a different source pixel */
    float s = (float)p->scale[axis], out = (float)p->out[axis], len = (float)in, xf = (float)x;
    switch (p->coord) {
    case PL__COORD_HALF_PIXEL:
        return (xf + 0.5f) / s - 0.5f;
    case PL__COORD_HALF_PIXEL_SYMMETRIC: {
        float adj = out / (s * len), offset = len / 2.0f * (1.0f - adj);
        return offset + (xf + 0.5f) / s - 0.5f;
    }
    case PL__COORD_PYTORCH_HALF_PIXEL:
        return out > 1 ? (xf + 0.5f) / s - 0.5f : 0.0f;
    case PL__COORD_ALIGN_CORNERS: {
        /* ONNX measures the resized length as scale * length, unrounded (equal to the output
         * size when sizes are given; not when scales give a fractional size) */
        float rl = s * len;
        return out > 1 && rl > 1.0f ? xf * (len - 1) / (rl - 1) : 0.0f;
    }
    case PL__COORD_ASYMMETRIC:
        return xf / s;
    case PL__COORD_TF_HALF_PIXEL_FOR_NN:
        return (xf + 0.5f) / s;
    case PL__COORD_TF_CROP_AND_RESIZE: {
        float b = (float)p->roi_start[axis], e = (float)p->roi_end[axis];
        if (out > 1)
            return b * (len - 1) + xf * (e - b) * (len - 1) / (out - 1);
        return 0.5f * (b + e) * (len - 1);
    }
    }
    return x;
}

static pl_status pl__infer_resize(pl__infer *ic) {
    pl__resize_params p;
    pl_status s = pl__resize_resolve(ic->layer, ic->nin, ic->in, &p);
    if (s)
        return s;
    return pl__set_out(ic, 0, ic->in[0].dtype, p.rank, p.out);
}

/* ---- Range / Shape / Size / ConstantOfShape / NonZero ---- */

static pl_status pl__infer_range(pl__infer *ic) {
    pl_dtype t = ic->in[0].dtype;
    int64_t n;
    for (int i = 0; i < 3; i++) {
        pl_status s;
        if (ic->in[i].dtype != t)
            return pl__infer_fail(ic, "start, limit and delta must have one type (got %s, %s, %s)",
                                  pl_dtype_name(ic->in[0].dtype), pl_dtype_name(ic->in[1].dtype),
                                  pl_dtype_name(ic->in[2].dtype));
        if (pl__tview_numel(&ic->in[i]) != 1 || ic->in[i].rank > 1)
            return pl__infer_fail(ic, "input %d must be a scalar", i);
        if ((s = pl__need_data(ic, i, i == 0 ? "start" : i == 1 ? "limit" : "delta")))
            return s;
    }
    if (t == PL_INT32 || t == PL_INT64 || t == PL_INT8 || t == PL_UINT8) {
        int64_t b = pl__get_i64(ic->in[0].data, t, 0), e = pl__get_i64(ic->in[1].data, t, 0);
        int64_t d = pl__get_i64(ic->in[2].data, t, 0), diff;
        if (d == 0)
            return pl__infer_fail(ic, "delta is 0");
        if (__builtin_sub_overflow(e, b, &diff))
            return pl__infer_fail(ic, "limit - start overflows");
        n = diff / d;
        if (diff % d && (diff > 0) == (d > 0))
            n++;
    } else if (t == PL_FLOAT32 || t == PL_FLOAT64 || t == PL_FLOAT16 || t == PL_BFLOAT16) {
        double b = pl__get_f64(ic->in[0].data, t, 0), e = pl__get_f64(ic->in[1].data, t, 0);
        double d = pl__get_f64(ic->in[2].data, t, 0), q = ceil((e - b) / d);
        if (d == 0 || !isfinite(q) || q > 4e18)
            return pl__infer_fail(ic, "range %g..%g step %g has no finite length", b, e, d);
        n = (int64_t)q;
    } else {
        return pl__infer_fail(ic, "type %s is not supported", pl_dtype_name(t));
    }
    if (n < 0)
        n = 0;
    return pl__set_out(ic, 0, t, 1, &n);
}

static pl_status pl__infer_shape(pl__infer *ic) {
    int r = ic->in[0].rank;
    int64_t b = pl__attr_int(&ic->layer->attrs, "start", 0);
    int64_t e = pl__attr_int(&ic->layer->attrs, "end", r), n;
    if (b < 0)
        b += r;
    if (e < 0)
        e += r;
    b = b < 0 ? 0 : b > r ? r : b;
    e = e < 0 ? 0 : e > r ? r : e;
    n = e > b ? e - b : 0;
    return pl__set_out(ic, 0, PL_INT64, 1, &n);
}

static pl_status pl__infer_size(pl__infer *ic) { return pl__set_out(ic, 0, PL_INT64, 0, NULL); }

static pl_status pl__infer_constant_of_shape(pl__infer *ic) {
    int64_t shape[PL__R], n;
    pl_dtype t = (pl_dtype)pl__attr_int(&ic->layer->attrs, "value_dtype", PL_FLOAT32);
    const pl_attr *v = pl__attrs_find(&ic->layer->attrs, "value");
    pl_status s;
    if (pl_dtype_size(t) == 0)
        return pl__infer_fail(ic, "value_dtype %d is not a supported type", (int)t);
    if (v && (v->type != PL_ATTR_BYTES || (size_t)v->count != pl_dtype_size(t)))
        return pl__infer_fail(ic, "attribute 'value' must hold one %s element", pl_dtype_name(t));
    if ((s = pl__value_ints(ic, 0, "shape", PL__R, shape, &n)))
        return s;
    for (int k = 0; k < n; k++)
        if (shape[k] < 0)
            return pl__infer_fail(ic, "shape[%d] = %lld is negative", k, (long long)shape[k]);
    return pl__set_out(ic, 0, t, (int)n, shape);
}

static pl_status pl__infer_nonzero(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t dims[2] = {x->rank ? x->rank : 1, pl__tview_numel(x)};
    return pl__set_out(ic, 0, PL_INT64, 2, dims);
}

/* ---- DepthToSpace / SpaceToDepth / OneHot / Trilu ---- */

static pl_status pl__infer_depth_space(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    int64_t b = pl__attr_int(&ic->layer->attrs, "blocksize", 0), dims[4];
    bool to_space = strcmp(ic->layer->op, "DepthToSpace") == 0;
    const char *mode = pl__attr_string(&ic->layer->attrs, "mode", "DCR");
    if (x->rank != 4)
        return pl__infer_fail(ic, "input must be 4-D (NCHW), got rank %d", x->rank);
    if (b < 1 || b > (1 << 20))
        return pl__infer_fail(ic, "blocksize %lld is invalid", (long long)b);
    if (to_space && strcmp(mode, "DCR") && strcmp(mode, "CRD"))
        return pl__infer_fail(ic, "unknown mode '%s'", mode);
    memcpy(dims, x->dims, sizeof(dims));
    if (to_space) {
        if (x->dims[1] % (b * b))
            return pl__infer_fail(ic, "channels %lld are not divisible by blocksize^2 = %lld",
                                  (long long)x->dims[1], (long long)(b * b));
        dims[1] /= b * b;
        dims[2] *= b;
        dims[3] *= b;
    } else {
        if (x->dims[2] % b || x->dims[3] % b)
            return pl__infer_fail(ic, "height and width %lldx%lld are not divisible by %lld",
                                  (long long)x->dims[2], (long long)x->dims[3], (long long)b);
        dims[1] *= b * b;
        dims[2] /= b;
        dims[3] /= b;
    }
    return pl__set_out(ic, 0, x->dtype, 4, dims);
}

static pl_status pl__infer_onehot(pl__infer *ic) {
    const pl__tview *ix = &ic->in[0], *dv = &ic->in[1], *vals = &ic->in[2];
    int64_t dims[PL__R], depth;
    int axis, r = ix->rank + 1, j = 0;
    pl_status s;
    if (r > PL__R)
        return pl__infer_fail(ic, "output rank %d exceeds %d", r, PL__R);
    if (pl__tview_numel(dv) != 1)
        return pl__infer_fail(ic, "depth must hold one value");
    if ((s = pl__need_data(ic, 1, "depth")))
        return s;
    depth = pl__get_i64(dv->data, dv->dtype, 0);
    if (depth < 1)
        return pl__infer_fail(ic, "depth %lld must be positive", (long long)depth);
    if (pl__tview_numel(vals) != 2)
        return pl__infer_fail(ic, "values must hold [off, on]");
    if ((s = pl__norm_axis(ic, pl__attr_int(&ic->layer->attrs, "axis", -1), r, &axis)))
        return s;
    for (int i = 0; i < r; i++)
        dims[i] = i == axis ? depth : ix->dims[j++];
    return pl__set_out(ic, 0, vals->dtype, r, dims);
}

static pl_status pl__infer_trilu(pl__infer *ic) {
    const pl__tview *x = &ic->in[0];
    if (x->rank < 2)
        return pl__infer_fail(ic, "input must have rank >= 2, got %d", x->rank);
    if (pl__given(ic, 1) && pl__tview_numel(&ic->in[1]) != 1)
        return pl__infer_fail(ic, "k must be a scalar");
    return pl__set_out(ic, 0, x->dtype, x->rank, x->dims);
}

#define PL__V(i) (1u << (i))

const pl__op_def pl__ops_shape[] = {
    {"Concat", 1, 127, 1, 1, 0, false, pl__infer_concat},
    {"Split", 1, 2, 1, 127, PL__V(1), false, pl__infer_split},
    {"Slice", 1, 5, 1, 1, PL__V(1) | PL__V(2) | PL__V(3) | PL__V(4), false, pl__infer_slice},
    {"Reshape", 1, 2, 1, 1, PL__V(1), false, pl__infer_reshape},
    {"Flatten", 1, 1, 1, 1, 0, false, pl__infer_flatten},
    {"Squeeze", 1, 2, 1, 1, PL__V(1), false, pl__infer_squeeze},
    {"Unsqueeze", 1, 2, 1, 1, PL__V(1), false, pl__infer_unsqueeze},
    {"Transpose", 1, 1, 1, 1, 0, false, pl__infer_transpose},
    {"Gather", 2, 2, 1, 1, 0, false, pl__infer_gather},
    {"GatherElements", 2, 2, 1, 1, 0, false, pl__infer_gather_elements},
    {"ScatterElements", 3, 3, 1, 1, 0, false, pl__infer_scatter_elements},
    {"Expand", 2, 2, 1, 1, PL__V(1), false, pl__infer_expand},
    {"Tile", 2, 2, 1, 1, PL__V(1), false, pl__infer_tile},
    {"Pad", 1, 4, 1, 1, PL__V(1) | PL__V(3), false, pl__infer_pad},
    {"Resize", 1, 4, 1, 1, PL__V(1) | PL__V(2) | PL__V(3), false, pl__infer_resize},
    {"Upsample", 1, 2, 1, 1, PL__V(1), false, pl__infer_resize},
    {"Range", 3, 3, 1, 1, PL__V(0) | PL__V(1) | PL__V(2), false, pl__infer_range},
    {"Shape", 1, 1, 1, 1, 0, false, pl__infer_shape},
    {"Size", 1, 1, 1, 1, 0, false, pl__infer_size},
    {"ConstantOfShape", 1, 1, 1, 1, PL__V(0), false, pl__infer_constant_of_shape},
    {"NonZero", 1, 1, 1, 1, 0, true, pl__infer_nonzero},
    {"DepthToSpace", 1, 1, 1, 1, 0, false, pl__infer_depth_space},
    {"SpaceToDepth", 1, 1, 1, 1, 0, false, pl__infer_depth_space},
    {"OneHot", 3, 3, 1, 1, PL__V(1), false, pl__infer_onehot},
    {"Trilu", 1, 2, 1, 1, 0, false, pl__infer_trilu},
    {0},
};
