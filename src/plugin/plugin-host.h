/*
 * plugin-host.h - what the core (graph, builder, runtime, engine reader) asks of the plugin
 * system. A plugin layer is a pl__layer with op "plugin" and the identity fields set; after
 * pl__plugin_bind it behaves like any core layer: it infers shapes through pl__plugin_infer
 * and runs through the kernel definition pl__plugin_kernel returns for a backend.
 */
#ifndef PL_PLUGIN_HOST_H
#define PL_PLUGIN_HOST_H

#include "backends/backend.h"
#include "graph/ops.h"

/* Resolves l->plugin from (plugin_ns, plugin_name, plugin_version) in the registry (an empty
 * version picks the newest and is replaced by it, so the engine records the exact identity),
 * checks the input/output counts, validates l->attrs against the schema (missing, unknown,
 * mistyped; lossless conversions applied), drops the ONNX mapping attributes plugin_namespace,
 * plugin_version and aot, and fills defaults so that every declared attribute is recorded.
 * Errors name the node, the plugin and the attribute. */
pl_status pl__plugin_bind(pl__layer *l);
/* Shape/dtype inference for a bound plugin layer (same contract as pl__op_def.infer). */
pl_status pl__plugin_infer(pl__infer *ic);
/* Whether the plugin layer's outputs are data-dependent (size tensors). */
bool pl__plugin_data_dependent(const pl__layer *l);
/* The kernel of a bound plugin layer on a device, or NULL (error set) if it has none. */
const pl__kernel_def *pl__plugin_kernel(const pl__layer *l, pl_device device);
/* In-place outputs: the input index output `out` aliases (shares memory with), or -1. */
int pl__plugin_alias(const pl__layer *l, int out);
/* Per-context kernel state hooks are inside the kernel def (state_create/state_destroy). */

/* Library name and content hash the layer's plugin came from (for the engine's plugin table);
 * "" and 0 for plugins registered by the application itself. */
const char *pl__plugin_library(const pl__layer *l, uint64_t *hash);

/* Whether a plugin (namespace, name, version; version NULL or "" = any) is registered. For the
 * ONNX importer: a node maps to a plugin by (domain, op_type), or by op_type plus the string
 * attributes plugin_namespace / plugin_version. */
bool pl__plugin_exists(const char *ns, const char *name, const char *version);
/* Precision negotiation for the builder: the input dtypes the plugin layer wants given the
 * dtypes it has (in[l->nin]; PL_DTYPE_INVALID for an omitted input). Picks the accepted
 * combination needing the fewest casts (float<->float, int<->int only); with prefer_fp16, ties
 * go to FP16. want[i] != in[i] means "insert a Cast". Fails naming the plugin when no
 * combination is reachable by casts. */
pl_status pl__plugin_pick_types(const pl__layer *l, const pl_dtype *in, bool prefer_fp16,
                                pl_dtype *want);
/* Shape inference with every size tensor at its opt value instead of its upper bound (what the
 * builder may time data-dependent consumers at). Same contract as pl__plugin_infer. */
pl_status pl__plugin_infer_opt(pl__infer *ic);

#endif
