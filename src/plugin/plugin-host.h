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

/* Resolves l->plugin from (plugin_ns, plugin_name, plugin_version) in the registry, validates
 * l->attrs against the schema (missing, unknown, mistyped) and fills defaults. Errors name the
 * plugin and, when it is not registered, the library it came from if known. */
pl_status pl__plugin_bind(pl__layer *l);
/* Shape/dtype inference for a bound plugin layer (same contract as pl__op_def.infer). */
pl_status pl__plugin_infer(pl__infer *ic);
/* Whether the plugin layer's outputs are data-dependent (size tensors). */
bool pl__plugin_data_dependent(const pl__layer *l);
/* The kernel of a bound plugin layer on a device, or NULL (error set) if it has none. */
const pl__kernel_def *pl__plugin_kernel(const pl__layer *l, pl_device device);
/* In-place outputs: the input index output `out` aliases (shares memory with), or -1. */
int pl__plugin_alias(const pl__layer *l, int out);
/* Per-backend kernel state hooks are inside the kernel def; nothing else is needed by the core. */

/* Library name and content hash the layer's plugin came from (for the engine's plugin table);
 * "" and 0 for plugins registered by the application itself. */
const char *pl__plugin_library(const pl__layer *l, uint64_t *hash);

#endif
