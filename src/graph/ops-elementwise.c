/*
 * ops-elementwise.c - shape inference for unary, binary (broadcasting), comparison, logical,
 * Where, Cast and Clip ops.
 */
#include "graph/ops.h"

static pl_status pl__infer_unary(pl__infer *ic) {
    ic->out[0] = ic->in[0];
    ic->out[0].data = NULL;
    return PL_OK;
}

static pl_status pl__infer_binary(pl__infer *ic) {
    const pl__tview *a = &ic->in[0], *b = &ic->in[1];
    if (a->dtype != b->dtype)
        return pl__infer_fail(ic, "input types differ (%s vs %s)", pl_dtype_name(a->dtype),
                              pl_dtype_name(b->dtype));
    ic->out[0].dtype = a->dtype;
    return pl__broadcast(ic, a->rank, a->dims, b->rank, b->dims, &ic->out[0].rank, ic->out[0].dims);
}

const pl__op_def pl__ops_elementwise[] = {
    {"Relu", 1, 1, 1, 1, 0, false, pl__infer_unary},
    {"Add", 2, 2, 1, 1, 0, false, pl__infer_binary},
    {0},
};
