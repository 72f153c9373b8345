/* Registers a good plugin, then a bad one: the whole library must be unwound, so the good one
 * must not stay registered. */
#include "plinth/plugin.h"

static int k(pl_ctx *c) { return c ? 0 : 1; }
static const pl_plugin_def good = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "would_register", .num_inputs = 1,
    .num_outputs = 1, .cpu = k,
};
static const pl_plugin_def bad = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "bad_types", .num_inputs = 1,
    .num_outputs = 1, .types = "FP32, FP99", .cpu = k,
};
PL_PLUGIN_LIBRARY(&good, &bad)
