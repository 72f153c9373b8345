/*
 * infer.h - whole-network shape inference at concrete input shapes. Layers whose outputs decide
 * other layers' shapes (the backward closure of value inputs, stopping at dims-only ops such as
 * Shape) are evaluated on the host with the CPU kernels; with `fold`, so is every layer whose
 * inputs are all known (constant folding). Used by the builder at the profile's min/opt/max and
 * by the runtime to report shapes before execution.
 */
#ifndef PL_INFER_H
#define PL_INFER_H

#include "graph/ops.h"

typedef struct pl__shape_pass {
    int ntensors;
    pl__tview *v;      /* per tensor: dtype, rank, dims; data for constants and evaluated tensors */
    bool *owned;       /* v[t].data was malloc'ed by the pass */
    bool *folded;      /* evaluated because every input was known (fold candidates) */
} pl__shape_pass;

/* Whether the layer reads only its input's dims, never its values (Shape, Size). */
bool pl__layer_dims_only(const pl__layer *l);
/* Marks tensors whose values some layer's shape inference reads (the closure of value inputs).
 * Returns a calloc'ed array of ntensors flags. */
bool *pl__value_needed(const pl_network *net);
/* Runs inference. input_dims[i] gives the dims of net->inputs[i] (rank from the tensor). With
 * fold, evaluates every layer whose inputs are all known and whose outputs are at most
 * fold_limit bytes; static_dims (per tensor, NULL: all) says whose dims are the same over the
 * whole profile, which dims-only ops (Shape) need to fold. input_values (NULL, or per input
 * NULL or host data of the input's dtype) gives the values of shape-tensor inputs: they are
 * used to infer shapes but never folded into constants. On failure the pass is released. */
pl_status pl__shape_pass_run(const pl_network *net, const int64_t *const *input_dims, bool fold,
                             size_t fold_limit, const bool *static_dims,
                             const void *const *input_values, pl__shape_pass *out);
void pl__shape_pass_free(pl__shape_pass *p);
/* Evaluates one layer with the CPU backend on host views (outputs allocated here). */
pl_status pl__eval_on_host(const pl__layer *l, const pl__tview *in, pl__tview *out);

#endif
