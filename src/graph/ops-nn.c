/*
 * ops-nn.c - shape inference for the nn op group.
 */
#include "graph/ops.h"

const pl__op_def pl__ops_nn[] = {
    {0},
};
