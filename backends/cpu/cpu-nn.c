/*
 * cpu-nn.c - CPU kernels of the nn op group.
 */
#include "backends/backend.h"

const pl__kernel_def pl__cpu_kernels_nn[] = {
    {0},
};
