/*
 * onnx-internal.h - what the ONNX importer's files share: TensorProto decoding (used by the
 * importer for initializers and Constant nodes, and by the tensor-file reader), the import
 * context that op handlers receive, and the handler table type.
 *
 * Importer layout: onnx-import.c walks the model (opsets, initializers, inputs, nodes, outputs)
 * and dispatches each node; onnx-handlers.c holds the op-handler table keyed by
 * (domain, op_type, opset range) and the handlers themselves; onnx-tensor.c decodes TensorProto
 * data (inline and external); tensor-file.c reads and writes .pb and .npy files.
 */
#ifndef PL_ONNX_INTERNAL_H
#define PL_ONNX_INTERNAL_H

#include "core/core.h"
#include "onnx.pb-c.h"

/* A TensorProto decoded into plinth's layout: little-endian, row-major, pl_dtype elements. */
typedef struct pl__onnx_tensor {
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
    void *data; /* malloc'ed (at least 1 byte, also for empty tensors) */
    size_t nbytes;
} pl__onnx_tensor;

/* The pl_dtype for an ONNX TensorProto.DataType value, or PL_DTYPE_INVALID. */
pl_dtype pl__onnx_dtype(int32_t onnx_type);
/* "FLOAT8E4M3FN", "STRING", ... for any ONNX data type number (for messages). */
const char *pl__onnx_dtype_name(int32_t onnx_type);

/* Decodes t. what names the tensor in messages (e.g. "initializer 'w'"); base_dir resolves
 * external data (NULL: external data is refused). On failure nothing is allocated and the message
 * names `what`; PL_ERR_UNSUPPORTED for dtypes plinth lacks, PL_ERR_FORMAT for malformed data. */
pl_status pl__onnx_tensor_decode(const Onnx__TensorProto *t, const char *what,
                                 const char *base_dir, pl__onnx_tensor *out);
void pl__onnx_tensor_release(pl__onnx_tensor *t);

/* ---- import context and op handlers ---- */
typedef struct pl__onnx_ctx pl__onnx_ctx;

/* One node being imported: its resolved inputs (PL_NO_TENSOR for empty names) and the output
 * names to create (NULL entries for omitted outputs get generated names). */
typedef struct pl__onnx_node {
    const Onnx__NodeProto *proto;
    const char *label;  /* node name, or its first output name when the node is unnamed */
    const char *domain; /* "" for the default domain */
    int64_t opset;      /* the model's opset for the node's domain */
    int nin;
    const pl_tensor *in;
    int nout;
    const char *const *out_names;
} pl__onnx_node;

typedef pl_status (*pl__onnx_handler_fn)(pl__onnx_ctx *ctx, const pl__onnx_node *node);

typedef struct pl__onnx_handler {
    const char *domain; /* "" = default domain (also matched by "ai.onnx") */
    const char *op_type;
    int64_t min_opset, max_opset; /* inclusive */
    pl__onnx_handler_fn fn;
    /* NULL: the handler emits the core layer op_type, which must exist. Otherwise the handler
     * translates the node into these core layers (comma-separated; "" for none). */
    const char *needs;
} pl__onnx_handler;

/* The handler for (domain, op_type) at opset, or NULL. */
const pl__onnx_handler *pl__onnx_find_handler(const char *domain, const char *op_type,
                                              int64_t opset);
/* The generic handler: a core layer named op_type with the node's attributes converted. */
pl_status pl__onnx_generic(pl__onnx_ctx *ctx, const pl__onnx_node *node);

/* Services the import context gives handlers. */
pl_network *pl__onnx_net(pl__onnx_ctx *ctx);
const char *pl__onnx_base_dir(pl__onnx_ctx *ctx);
/* Converts the node's attributes (except names in `skip`, a NULL-terminated list, may be NULL)
 * to pl_attr, checking well-known attribute names against their ONNX types. The returned array
 * and everything it points to live until the node is done. */
pl_status pl__onnx_node_attrs(pl__onnx_ctx *ctx, const pl__onnx_node *node,
                              const char *const *skip, pl_attr **attrs, int *nattrs);
/* Memory that lives until the node is done (freed by the importer after the handler returns). */
void *pl__onnx_scratch(pl__onnx_ctx *ctx, size_t bytes);
/* Adds a layer for the node, creating its declared outputs; the layer is named after the node. */
pl_status pl__onnx_add_layer(pl__onnx_ctx *ctx, const pl__onnx_node *node, const char *op,
                             const pl_tensor *in, int nin, const pl_attr *attrs, int nattrs);
/* Adds a helper layer with one output named "<node label>/<suffix>" (for multi-layer
 * translations); its output id is returned in *out. */
pl_status pl__onnx_add_helper(pl__onnx_ctx *ctx, const pl__onnx_node *node, const char *suffix,
                              const char *op, const pl_tensor *in, int nin, const pl_attr *attrs,
                              int nattrs, pl_tensor *out);
/* Adds a constant named "<node label>/<suffix>". */
pl_status pl__onnx_add_const(pl__onnx_ctx *ctx, const pl__onnx_node *node, const char *suffix,
                             pl_dtype dtype, int rank, const int64_t *dims, const void *data,
                             pl_tensor *out);
/* Binds the ONNX value name to an existing tensor (for ops the importer folds, e.g. Identity
 * of a constant is not needed; Constant creates its tensor under the output name directly). */
pl_status pl__onnx_bind_name(pl__onnx_ctx *ctx, const char *name, pl_tensor t);

/* Fails with "node 'label' (op_type): <message>". */
pl_status pl__onnx_node_fail(const pl__onnx_node *node, pl_status s, const char *fmt, ...)
    PL__PRINTF(3, 4);
/* The attribute of the node named name, or NULL. */
const Onnx__AttributeProto *pl__onnx_attr(const pl__onnx_node *node, const char *name);
/* "INT", "FLOATS", "GRAPH", ... */
const char *pl__onnx_attr_type_name(int type);

#endif
