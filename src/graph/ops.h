/*
 * ops.h - definitions of the core layer kinds: arity, which inputs shape inference must read
 * the values of, and the shape/dtype inference function. Kernels live in the backends.
 *
 * Shape inference is concrete: it runs on actual dims (at build: the profile's min, opt and max;
 * at run: the bound shapes). Inputs listed in value_inputs arrive with their data on the host
 * (e.g. Reshape's shape, Slice's starts); other inputs may or may not have data (data is non-NULL
 * for constants, which lets inference fold). An op whose output extent depends on input values
 * that are not value inputs (NonZero) sets data_dependent and returns an upper bound; its kernel
 * writes the actual dims into its output view.
 */
#ifndef PL_OPS_H
#define PL_OPS_H

#include "graph/graph.h"

typedef struct pl__infer {
    const pl__layer *layer;
    int nin;
    const pl__tview *in;  /* in[i].dtype == PL_DTYPE_INVALID for an omitted optional input */
    int nout;
    pl__tview *out;       /* fill dtype, rank, dims (data stays NULL) */
} pl__infer;

typedef pl_status (*pl__infer_fn)(pl__infer *ic);

struct pl__op_def {
    const char *name;
    int8_t min_in, max_in, min_out, max_out;
    uint32_t value_inputs;  /* bit i: inference reads the values of input i */
    bool data_dependent;    /* outputs' extents depend on values; infer gives an upper bound */
    pl__infer_fn infer;
};

/* The core op named `name`, or NULL. */
const pl__op_def *pl__op_find(const char *name);

/* Fails with a message naming the layer: "node 'conv1' (Conv): <message>". */
pl_status pl__infer_fail(const pl__infer *ic, const char *fmt, ...) PL__PRINTF(2, 3);
/* Numpy-style broadcast of two shapes; fails naming the layer. */
pl_status pl__broadcast(const pl__infer *ic, int ra, const int64_t *da, int rb, const int64_t *db,
                        int *rr, int64_t *dr);
/* Normalizes a possibly negative axis for a rank; fails naming the layer when out of range. */
pl_status pl__norm_axis(const pl__infer *ic, int64_t axis, int rank, int *out);

/* Op groups, each a {0}-terminated array defined in src/graph/ops-<group>.c. */
extern const pl__op_def pl__ops_elementwise[];
extern const pl__op_def pl__ops_nn[];
extern const pl__op_def pl__ops_shape[];
extern const pl__op_def pl__ops_reduce[];

/* Dispatch over core ops and plugin layers. */
pl_status pl__layer_infer(pl__infer *ic);
uint32_t pl__layer_value_inputs(const pl__layer *l);
bool pl__layer_data_dependent(const pl__layer *l);

#endif
