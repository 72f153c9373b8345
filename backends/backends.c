/*
 * backends.c - the list of compiled-in backends.
 */
#include "backends/backend.h"

const pl__backend *pl__backend_get(pl_device device) {
    switch (device) {
    case PL_DEVICE_CPU:
        return &pl__cpu_backend;
#ifdef PL_HAVE_CUDA
    case PL_DEVICE_CUDA:
        return &pl__cuda_backend;
#endif
    default:
        return NULL;
    }
}

bool pl_device_available(pl_device device) {
    const pl__backend *b = pl__backend_get(device);
    return b && b->available();
}

const char *pl_device_name(pl_device device) {
    switch (device) {
    case PL_DEVICE_CPU: return "cpu";
    case PL_DEVICE_CUDA: return "cuda";
    default: return "unknown";
    }
}

const char *pl_version_string(void) {
#ifdef PL_HAVE_CUDA
    return "plinth " PL_VERSION_STRING " (backends: cpu cuda)";
#else
    return "plinth " PL_VERSION_STRING " (backends: cpu)";
#endif
}
