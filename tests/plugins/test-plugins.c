/*
 * test-plugins.c - plugins exercising the host's error paths, tactics, workspace, per-context
 * state, optional inputs and every attribute type (libpl_test_plugins).
 */
#include <string.h>

#include "plinth/plugin.h"

/* y = x, but a negative value fails with a message naming it */
static int fail_kernel(pl_ctx *c) {
    const float *x = c->in[0].data;
    for (int64_t i = 0; i < pl_numel(&c->in[0]); i++) {
        if (x[i] < 0)
            return pl_error(c, "value %g at index %lld is negative", (double)x[i], (long long)i);
        ((float *)c->out[0].data)[i] = x[i];
    }
    return 0;
}
static const pl_plugin_def fail_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "fail_kernel", .num_inputs = 1,
    .num_outputs = 1, .types = "FP32, FP32", .cpu = fail_kernel,
};

static int silent_fail(pl_ctx *c) { return c->nin + 6; }
static const pl_plugin_def silent_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "silent_fail", .num_inputs = 1,
    .num_outputs = 1, .cpu = silent_fail,
};

static int bad_read(pl_ctx *c) { return (int)pl_get_int(c, "undeclared"); }
static const pl_plugin_def bad_read_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "bad_attr_read", .num_inputs = 1,
    .num_outputs = 1, .attrs = {{"alpha", PL_ATTR_FLOAT, .f = 1.0}}, .cpu = bad_read,
};

/* y = 2x; "slow" repeats the work so that timing must pick "fast" */
static int tactics(pl_ctx *c) {
    const float *x = c->in[0].data;
    float *y = c->out[0].data;
    int reps = c->tactic == 0 ? 400 : 1;
    for (int r = 0; r < reps; r++)
        for (int64_t i = 0; i < pl_numel(&c->in[0]); i++)
            y[i] = 2.f * x[i] + (float)r * 0.f;
    return 0;
}
static const pl_plugin_def tactics_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "tactics", .num_inputs = 1, .num_outputs = 1,
    .types = "FP32, FP32", .tactics = {"slow", "fast"}, .cpu = tactics,
};

/* y = x + runs, where runs counts this context's executions of the layer (per-context state) */
static int state_create(pl_ctx *c, void **state) {
    (void)c;
    static int64_t counters[64];
    static int next;
    if (next >= 64)
        return pl_error(c, "too many states");
    *state = &counters[next++];
    return 0;
}
static int stateful(pl_ctx *c) {
    int64_t *runs = c->state;
    if (!runs)
        return pl_error(c, "no state");
    ++*runs;
    for (int64_t i = 0; i < pl_numel(&c->in[0]); i++)
        ((float *)c->out[0].data)[i] = ((const float *)c->in[0].data)[i] + (float)*runs;
    return 0;
}
static const pl_plugin_def stateful_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "stateful", .num_inputs = 1, .num_outputs = 1,
    .types = "FP32, FP32", .state_create = state_create, .cpu = stateful,
};

/* y = reverse(x) through the workspace, which must hold numel(x) floats + 16 bytes */
static pl_expr ws_size(pl_ctx *c) { return pl_add(c, pl_mul(c, pl_volume(c, 0), 4), 16); }
static int ws_kernel(pl_ctx *c) {
    int64_t n = pl_numel(&c->in[0]);
    float *w = c->workspace;
    if (!w || c->workspace_size < (size_t)(n * 4 + 16))
        return pl_error(c, "workspace %zu bytes, wanted %lld", c->workspace_size,
                        (long long)(n * 4 + 16));
    memcpy(w, c->in[0].data, (size_t)n * 4);
    for (int64_t i = 0; i < n; i++)
        ((float *)c->out[0].data)[i] = w[n - 1 - i];
    return 0;
}
static const pl_plugin_def ws_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "workspace", .num_inputs = 1, .num_outputs = 1,
    .types = "FP32, FP32", .workspace = ws_size, .cpu = ws_kernel,
};

/* y = a (+ b when the optional second input is given); output rows = rows(a) */
static int opt_in(pl_ctx *c) {
    const float *a = c->in[0].data, *b = c->in[1].dtype ? c->in[1].data : NULL;
    for (int64_t i = 0; i < pl_numel(&c->in[0]); i++)
        ((float *)c->out[0].data)[i] = a[i] + (b ? b[i] : 0.f);
    return 0;
}
static const pl_plugin_def opt_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "optional_input", .num_inputs = 2,
    .optional_inputs = 1, .num_outputs = 1, .types = "FP32, FP32, FP32", .cpu = opt_in,
};

/* Every attribute type: the kernel reports what it read as 8 floats. */
static int attrs_outputs(pl_ctx *c) { return pl_output(c, 0, PL_FLOAT32, 1, (pl_expr[]){8}); }
static int attrs_kernel(pl_ctx *c) {
    float *y = c->out[0].data;
    int64_t ni, nf, nb;
    const int64_t *ints = pl_get_ints(c, "ints", &ni);
    const float *floats = pl_get_floats(c, "floats", &nf);
    const unsigned char *bytes = pl_get_bytes(c, "bytes", &nb);
    y[0] = (float)pl_get_int(c, "i");
    y[1] = (float)pl_get_float(c, "f");
    y[2] = pl_get_bool(c, "b") ? 1.f : 0.f;
    y[3] = (float)strlen(pl_get_string(c, "s"));
    y[4] = y[5] = 0;
    for (int64_t k = 0; k < ni; k++)
        y[4] += (float)ints[k];
    for (int64_t k = 0; k < nf; k++)
        y[5] += floats[k];
    y[6] = (float)nb + (nb ? bytes[0] : 0);
    y[7] = (float)pl_get_int(c, "required_i");
    return 0;
}
static const pl_plugin_def attrs_def = {
    .abi = PL_PLUGIN_ABI, .ns = "test", .name = "attrs", .num_inputs = 1, .num_outputs = 1,
    .attrs = {
        {"i", PL_ATTR_INT, .i = 3},
        {"f", PL_ATTR_FLOAT, .f = 0.5},
        {"b", PL_ATTR_BOOL, .i = 1},
        {"s", PL_ATTR_STRING, .s = "hello"},
        {"ints", PL_ATTR_INTS, .ints = (const int64_t[]){1, 2, 3}, .count = 3},
        {"floats", PL_ATTR_FLOATS, .floats = (const float[]){0.25f, 0.25f}, .count = 2},
        {"bytes", PL_ATTR_BYTES, .bytes = "\x07\x01", .count = 2},
        {"required_i", PL_ATTR_INT, .required = true, .doc = "must be given"},
    },
    .outputs = attrs_outputs, .cpu = attrs_kernel,
};

PL_PLUGIN_LIBRARY(&fail_def, &silent_def, &bad_read_def, &tactics_def, &stateful_def, &ws_def,
                  &opt_def, &attrs_def)
