/*
 * graph.h - the network IR shared by the API, the builder, the engine reader/writer and the
 * runtime. A network is a list of tensors and a list of layers in topological order (the API
 * only lets a layer consume tensors that already exist). A layer is an ONNX-style node: an op
 * name, typed attributes, input and output tensor ids. A built engine is the same structure after
 * the builder's passes, with per-tensor shape ranges and per-layer kernel choices filled in.
 */
#ifndef PL_GRAPH_H
#define PL_GRAPH_H

#include "core/core.h"

typedef enum pl__tensor_kind {
    PL__TENSOR_ACT = 0,   /* produced by a layer */
    PL__TENSOR_INPUT = 1, /* graph input */
    PL__TENSOR_CONST = 2  /* weights / constants */
} pl__tensor_kind;

typedef struct pl__tensor {
    char *name;
    pl__tensor_kind kind;
    pl_dtype dtype;
    int rank;                          /* -1: not known yet (before shape inference) */
    int64_t dims[PL_MAX_RANK];         /* -1 where dynamic */
    char *dim_names[PL_MAX_RANK];      /* inputs: symbolic names of dynamic dims (may be NULL) */
    int64_t min_dims[PL_MAX_RANK];     /* builder: profile min (inputs) / inferred at min */
    int64_t opt_dims[PL_MAX_RANK];     /* builder: profile opt */
    int64_t max_dims[PL_MAX_RANK];     /* builder: profile max / upper bound */
    void *data;                        /* CONST: the values */
    size_t nbytes;                     /* CONST: size of data */
    bool owns_data;                    /* CONST: data was malloc'ed by us (else mapped) */
    int32_t producer;                  /* layer index, -1 for inputs and constants */
    bool is_output;
    bool data_dependent;               /* extent depends on values (NonZero, size tensors) */
} pl__tensor;

typedef struct pl__op_def pl__op_def;
struct pl__plugin_entry;

typedef struct pl__layer {
    char *name;
    char *op;                          /* ONNX op name, or "plugin" */
    const pl__op_def *def;             /* resolved core op; NULL for plugin layers */
    /* plugin layers: identity, resolved registry entry (NULL until resolved) */
    char *plugin_ns, *plugin_name, *plugin_version;
    const struct pl__plugin_entry *plugin;
    int nin, nout;
    int32_t *in;                       /* -1 for an omitted optional input */
    int32_t *out;
    pl__attrs attrs;
    /* builder output */
    int32_t tactic;                    /* index into the kernel's tactic list */
    char *kernel;                      /* chosen kernel/tactic name, for inspect */
    pl_dtype compute_dtype;            /* precision chosen (PL_DTYPE_INVALID: per tensors) */
    bool dead;                         /* removed by a pass; dropped by pl__network_compact */
} pl__layer;

struct pl_network {
    pl__tensor *tensors;
    int ntensors, cap_tensors;
    pl__layer *layers;
    int nlayers, cap_layers;
    int32_t *inputs;
    int ninputs, cap_inputs;
    int32_t *outputs;
    int noutputs, cap_outputs;
};

/* Adds a tensor (name copied; NULL gets a generated name); returns its id or -1 (error set). */
int32_t pl__network_new_tensor(pl_network *net, const char *name, pl__tensor_kind kind, pl_dtype dtype);
/* Adds a layer with its outputs created; the layer is validated against its op definition. */
pl_status pl__network_new_layer(pl_network *net, const char *op, const char *name,
                                const int32_t *in, int nin, const pl_attr *attrs, int nattrs,
                                int nout, const char *const *out_names, int32_t *out_ids);
/* Makes an independent deep copy (the builder works on a copy). Constant data is copied. */
pl_status pl__network_clone(const pl_network *src, pl_network **dst);
/* Drops dead layers and tensors no live layer or output references; renumbers ids. */
pl_status pl__network_compact(pl_network *net);
/* Number of live layers consuming tensor t (outputs count as one consumer). */
int pl__network_consumers(const pl_network *net, int32_t t);
/* Inserts a Cast of layer li's input `slot` to dtype `to` just before layer li (later layers
 * shift by one; producers are renumbered). */
pl_status pl__network_insert_cast(pl_network *net, int li, int slot, pl_dtype to);
/* Moves layer `from` to index `to` (to < from), shifting layers to..from-1 up by one and
 * renumbering producers. The caller guarantees the order stays topological: every input of the
 * moved layer is produced before index `to`. */
void pl__network_move_layer(pl_network *net, int from, int to);
/* Puts the layers in the given order (order[i]: the old index of the new i-th layer; n must be
 * the layer count, each index once) and renumbers producers. */
pl_status pl__network_reorder(pl_network *net, const int *order, int n);
void pl__layer_release(pl__layer *l);
void pl__tensor_release(pl__tensor *t);
/* Tensor id by name, or -1. */
int32_t pl__network_find(const pl_network *net, const char *name);
const char *pl__layer_label(const pl__layer *l); /* name, or op if unnamed */

#endif
