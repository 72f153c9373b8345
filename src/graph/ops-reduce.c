/*
 * ops-reduce.c - shape inference for the reduce op group.
 */
#include "graph/ops.h"

const pl__op_def pl__ops_reduce[] = {
    {0},
};
