/*
 * cpu-shape.c - CPU kernels of the shape op group.
 */
#include "backends/backend.h"

const pl__kernel_def pl__cpu_kernels_shape[] = {
    {0},
};
