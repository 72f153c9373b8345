/*
 * fuzz-onnx.c - libFuzzer target for the ONNX importer: any byte string must import or fail
 * with a status, never crash, leak or read out of bounds. External data is off (no base
 * directory), so the target never touches the file system. Built when PLINTH_FUZZ=ON with clang
 * (tests/ctest-fuzz-onnx.cmake).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "plinth/plinth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pl_network *net = NULL;
    static int quiet;
    if (!quiet) {
        pl_set_logger(NULL, NULL, PL_LOG_ERROR);
        quiet = 1;
    }
    if (pl_onnx_import_memory(data, size, NULL, &net) == PL_OK) {
        /* a network came back: it must be usable */
        (void)pl_network_num_layers(net);
        pl_network_free(net);
    } else if (net != NULL) {
        __builtin_trap(); /* a failed import must not hand back a network */
    }
    return 0;
}
