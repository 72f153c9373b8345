/*
 * test-ops-util.h - what the one-op CPU tests share (test-ops-elementwise.c, test-ops-reduce.c):
 * host tensor views, fixed-seed random fill, and running one op's shape inference and CPU kernel
 * on views. Header-only (static functions): each test is its own program. Define
 * PL_OP_TEST_NODE (the layer name error messages carry) before including it.
 */
#ifndef PL_TEST_OPS_UTIL_H
#define PL_TEST_OPS_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "graph/ops.h"
#include "harness.h"

#ifndef PL_OP_TEST_NODE
#define PL_OP_TEST_NODE "t1"
#endif

static void *g_bctx; /* the CPU backend context the kernels run with (made in main) */

static inline pl__tview tv_new(pl_dtype t, int rank, const int64_t *dims) {
    pl__tview v;
    memset(&v, 0, sizeof(v));
    v.dtype = t;
    v.rank = rank;
    for (int i = 0; i < rank; i++)
        v.dims[i] = dims[i];
    v.data = calloc((size_t)pl__tview_numel(&v) + 1, pl_dtype_size(t) ? pl_dtype_size(t) : 1);
    return v;
}

static inline bool is_flt(pl_dtype t) {
    return t == PL_FLOAT32 || t == PL_FLOAT64 || t == PL_FLOAT16 || t == PL_BFLOAT16;
}

/* Random values in [lo, hi]; integers (and bool) get whole numbers. */
static inline pl__tview tv_rand(pl_dtype t, int rank, const int64_t *dims, double lo, double hi,
                         uint64_t seed) {
    pl__tview v = tv_new(t, rank, dims);
    int64_t n = pl__tview_numel(&v);
    float *f = malloc(sizeof(float) * (size_t)(n + 1));
    pl_test_fill_uniform(f, n, (float)lo, (float)hi, seed);
    for (int64_t i = 0; i < n; i++)
        pl__set_f64(v.data, t, i, is_flt(t) ? f[i] : t == PL_BOOL ? f[i] > 0 : floor(f[i] + 0.5));
    free(f);
    return v;
}

static inline void tv_free(pl__tview *v) {
    free(v->data);
    v->data = NULL;
}

/* Infers op on in[], allocates out[] and runs the CPU kernel. The layer is named
 * PL_OP_TEST_NODE. */
static inline pl_status run_op(const char *op, const pl_attr *attrs, int nattrs, int nin,
                        const pl__tview *in, int nout, pl__tview *out) {
    pl__layer l;
    pl__infer ic;
    pl__kernel_args ka;
    const pl__kernel_def *k;
    pl_status s;
    memset(&l, 0, sizeof(l));
    memset(out, 0, sizeof(*out) * (size_t)nout);
    l.name = PL_OP_TEST_NODE;
    l.op = (char *)op;
    l.def = pl__op_find(op);
    l.nin = nin;
    l.nout = nout;
    if (!l.def)
        return pl__fail(PL_ERR_NOT_FOUND, "no op %s", op);
    if ((s = pl__attrs_copy(&l.attrs, attrs, nattrs)))
        goto done;
    ic = (pl__infer){&l, nin, in, nout, out};
    if ((s = l.def->infer(&ic)))
        goto done;
    for (int i = 0; i < nout; i++)
        out[i].data = calloc((size_t)pl__tview_numel(&out[i]) + 1, pl_dtype_size(out[i].dtype));
    k = pl__cpu_backend.find_kernel(op);
    if (!k) {
        s = pl__fail(PL_ERR_NOT_FOUND, "no CPU kernel %s", op);
        goto done;
    }
    ka = (pl__kernel_args){.layer = &l, .nin = nin, .in = in, .nout = nout, .out = out,
                           .bctx = g_bctx};
    s = k->run(&ka);
done:
    pl__attrs_free(&l.attrs);
    return s;
}

#endif
