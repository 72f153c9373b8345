/*
 * assert-finite.c - plinth::assert_finite: passes its input through (in place) and fails the
 * execution with a message naming the node and the first offending index when a value is NaN or
 * infinite. Insert it after a suspect layer to find where a network first goes wrong, instead of
 * bisecting by hand (a common plugin-debugging pain).
 */
#include "plinth/plugin.h"

static int assert_finite_cpu(pl_ctx *c) {
    const pl_tensor_view *x = &c->in[0];
    int64_t n = pl_numel(x);
    for (int64_t i = 0; i < n; i++) {
        float v = x->dtype == PL_FLOAT32 ? ((const float *)x->data)[i]
                                         : pl_half_to_float(((const uint16_t *)x->data)[i]);
        if (v != v || v - v != 0.f)
            return pl_error(c, "%s: element %lld is %g", pl_get_string(c, "message"),
                            (long long)i, (double)v);
    }
    return 0;
}

const pl_plugin_def pl_builtin_assert_finite = {
    .abi = PL_PLUGIN_ABI,
    .ns = "plinth",
    .name = "assert_finite",
    .doc = "pass-through that fails on NaN or Inf, naming the element",
    .num_inputs = 1,
    .num_outputs = 1,
    .types = "FP32|FP16, FP32|FP16",
    .alias = {PL_ALIAS(0)},
    .attrs = {{"message", PL_ATTR_STRING, .s = "non-finite value", .doc = "error message prefix"}},
    .cpu = assert_finite_cpu,
};
