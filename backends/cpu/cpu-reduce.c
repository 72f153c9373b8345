/*
 * cpu-reduce.c - CPU kernels of the reduce op group.
 */
#include "backends/backend.h"

const pl__kernel_def pl__cpu_kernels_reduce[] = {
    {0},
};
