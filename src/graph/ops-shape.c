/*
 * ops-shape.c - shape inference for the shape op group.
 */
#include "graph/ops.h"

const pl__op_def pl__ops_shape[] = {
    {0},
};
