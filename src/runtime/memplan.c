/*
 * memplan.c - activation memory planning. Every tensor that needs memory gets an interval
 * [first layer that writes it, last layer that reads it] and an upper-bound size (from the
 * profile's max shapes, or a size tensor's bound); tensors whose intervals do not overlap share
 * bytes. Placement is greedy best-fit in decreasing size, which is within a few percent of
 * optimal on CNN chains. An in-place output takes its input's bytes when that input dies at the
 * aliasing layer; otherwise the runtime copies the input first, so a graph input or a tensor
 * read later is never clobbered. With lanes (lanes.c) a device interval ends at the last layer
 * that may still run concurrently with an access, not at the last reader.
 */
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin-host.h"
#include "runtime/exec.h"

/* With lanes, an in-place output may take its input's bytes at layer li only when every other
 * reader of the input completes before li starts (on one lane, reading before li suffices). */
static bool pl__inplace_safe(const pl_engine *e, int32_t t, int li) {
    const pl_network *net = e->net;
    if (e->lanes.n <= 1)
        return true;
    for (int x = 0; x < li; x++) {
        const pl__layer *l = &net->layers[x];
        for (int k = 0; k < l->nin; k++)
            if (l->in[k] == t && !pl__lanes_before(e, x, li))
                return false;
    }
    return true;
}

typedef struct pl__interval {
    int32_t t;
    int first, last;
    size_t bytes;
    int64_t off;
    int32_t share; /* tensor whose bytes this one reuses (in-place), or -1 */
} pl__interval;

static int pl__by_size_desc(const void *a, const void *b) {
    const pl__interval *x = a, *y = b;
    if (x->bytes != y->bytes)
        return x->bytes < y->bytes ? 1 : -1;
    return x->first - y->first;
}

static size_t pl__align(size_t x) { return (x + 255) & ~(size_t)255; }

/* Places the intervals in `iv` (n of them, those with share < 0); returns the arena size. */
static size_t pl__place(pl__interval *iv, int n) {
    size_t top = 0;
    qsort(iv, (size_t)n, sizeof(*iv), pl__by_size_desc);
    for (int i = 0; i < n; i++) {
        int64_t best = 0;
        bool moved = true;
        if (iv[i].share >= 0)
            continue;
        /* first fit from offset 0 upward, hopping past every overlapping block */
        while (moved) {
            moved = false;
            for (int j = 0; j < i; j++) {
                if (iv[j].share >= 0 || iv[j].off < 0)
                    continue;
                if (iv[j].last < iv[i].first || iv[i].last < iv[j].first)
                    continue;
                if ((size_t)best < (size_t)iv[j].off + iv[j].bytes &&
                    (size_t)iv[j].off < (size_t)best + iv[i].bytes) {
                    best = iv[j].off + (int64_t)iv[j].bytes;
                    moved = true;
                }
            }
        }
        iv[i].off = best;
        if ((size_t)best + iv[i].bytes > top)
            top = (size_t)best + iv[i].bytes;
    }
    return top;
}

void pl__memplan_free(pl__memplan *mp) {
    free(mp->dev_off);
    free(mp->host_off);
    free(mp->bytes);
    memset(mp, 0, sizeof(*mp));
}

pl_status pl__memplan_build(pl_engine *e) {
    pl_network *net = e->net;
    int nt = net->ntensors, nl = net->nlayers;
    pl__memplan *mp = &e->mp;
    bool host_mem = e->backend->host_memory;
    bool *need_dev = calloc((size_t)nt + 1, 1), *need_host = calloc((size_t)nt + 1, 1);
    int *first = malloc(sizeof(int) * ((size_t)nt + 1));
    pl__interval *iv = malloc(sizeof(*iv) * ((size_t)nt + 1));
    int32_t *share = malloc(sizeof(int32_t) * ((size_t)nt + 1));
    pl_status s = PL_OK;
    mp->dev_off = malloc(sizeof(int64_t) * ((size_t)nt + 1));
    mp->host_off = malloc(sizeof(int64_t) * ((size_t)nt + 1));
    mp->bytes = calloc((size_t)nt + 1, sizeof(size_t));
    if (!need_dev || !need_host || !first || !iv || !share || !mp->dev_off || !mp->host_off || !mp->bytes) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory planning memory");
        goto done;
    }
    for (int t = 0; t < nt; t++) {
        const pl__tensor *tt = &net->tensors[t];
        size_t b = pl_dtype_size(tt->dtype);
        mp->dev_off[t] = mp->host_off[t] = -1;
        share[t] = -1;
        first[t] = tt->kind == PL__TENSOR_ACT ? tt->producer : -1;
        for (int d = 0; d < tt->rank; d++)
            if (!pl__mul_size(b, (size_t)(tt->max_dims[d] > 0 ? tt->max_dims[d] : 0), &b)) {
                s = pl__fail(PL_ERR_NOMEM, "tensor '%s': its upper-bound size overflows", tt->name);
                goto done;
            }
        mp->bytes[t] = b;
    }
    /* residency: where each tensor must have bytes of ours */
    for (int li = 0; li < nl; li++) {
        const pl__layer *l = &net->layers[li];
        bool h = e->on_host[li];
        for (int k = 0; k < l->nout; k++) {
            if (host_mem || !h)
                need_dev[l->out[k]] = true;
            else
                need_host[l->out[k]] = true;
        }
        for (int k = 0; k < l->nin; k++) {
            int32_t t = l->in[k];
            if (t < 0 || net->tensors[t].kind == PL__TENSOR_CONST || host_mem)
                continue;
            if (h) {
                if (!pl__layer_dims_only(l)) /* Shape and Size read dims, not bytes */
                    need_host[t] = true;
            } else {
                /* a device layer reads its inputs on the device; value inputs are read on the
                 * host too (shape inference, host_in) */
                need_dev[t] = true;
                if (pl__layer_value_inputs(l) >> k & 1)
                    need_host[t] = true;
            }
        }
    }
    for (int t = 0; t < nt; t++)
        if (!host_mem && e->value_needed[t] && net->tensors[t].kind != PL__TENSOR_CONST)
            need_host[t] = true;
    /* in-place outputs share their input's bytes when the input dies at that layer */
    for (int li = 0; li < nl; li++) {
        const pl__layer *l = &net->layers[li];
        if (l->def)
            continue;
        for (int k = 0; k < l->nout; k++) {
            int j = pl__plugin_alias(l, k);
            int32_t in, out = l->out[k];
            if (j < 0 || j >= l->nin || (in = l->in[j]) < 0)
                continue;
            if (net->tensors[in].kind != PL__TENSOR_ACT || net->tensors[in].is_output ||
                e->last_use[in] != li || mp->bytes[out] > mp->bytes[in] ||
                !pl__inplace_safe(e, in, li))
                continue;
            if (need_dev[in] != need_dev[out] || need_host[in] != need_host[out])
                continue;
            share[out] = in;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        bool *need = pass == 0 ? need_dev : need_host;
        int64_t *off = pass == 0 ? mp->dev_off : mp->host_off;
        int n = 0;
        size_t size;
        for (int t = 0; t < nt; t++) {
            const pl__tensor *tt = &net->tensors[t];
            if (!need[t] || tt->kind == PL__TENSOR_CONST)
                continue;
            if (host_mem && tt->kind == PL__TENSOR_INPUT)
                continue; /* the CPU reads the caller's buffer in place */
            iv[n].t = t;
            iv[n].first = first[t];
            iv[n].last = tt->is_output ? nl : e->last_use[t];
            if (iv[n].last < iv[n].first)
                iv[n].last = iv[n].first;
            /* on the device, lanes run layers out of the sequential order: bytes stay taken
             * until every access has provably completed (the host side stays sequential: no
             * host layers run in an engine with lanes, and host copies happen in order) */
            if (pass == 0)
                iv[n].last = pl__lanes_last_touch(e, t, iv[n].last);
            iv[n].bytes = pl__align(mp->bytes[t] ? mp->bytes[t] : 1);
            iv[n].off = -1;
            iv[n].share = share[t];
            n++;
        }
        /* a sharing tensor extends its root's life */
        for (int i = 0; i < n; i++) {
            int32_t root = iv[i].share;
            while (root >= 0 && share[root] >= 0)
                root = share[root];
            iv[i].share = root;
            if (root < 0)
                continue;
            for (int j = 0; j < n; j++)
                if (iv[j].t == root && iv[j].last < iv[i].last)
                    iv[j].last = iv[i].last;
        }
        size = pl__place(iv, n);
        for (int i = 0; i < n; i++)
            if (iv[i].share < 0)
                off[iv[i].t] = iv[i].off;
        for (int i = 0; i < n; i++)
            if (iv[i].share >= 0)
                off[iv[i].t] = off[iv[i].share];
        if (pass == 0)
            mp->dev_size = size;
        else
            mp->host_size = size;
    }
done:
    free(need_dev);
    free(need_host);
    free(first);
    free(iv);
    free(share);
    if (s)
        pl__memplan_free(mp);
    return s;
}
