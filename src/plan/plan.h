/*
 * plan.h - a built engine in memory, and its file form. The plan holds the optimized network
 * (tensors with their min/opt/max shapes, layers with their chosen kernels), typed metadata, the
 * plugin table, named blobs (embedded plugin kernels: cubin/PTX) and the weights, which after
 * deserialization point into the file's bytes (mapped, not copied). File layout: docs/engine-format.md.
 */
#ifndef PL_PLAN_H
#define PL_PLAN_H

#include "graph/graph.h"

typedef struct pl__kv {
    char *key;
    char *value;
} pl__kv;

typedef struct pl__blob {
    char *name;
    void *data; /* owned unless the plan borrows the file bytes */
    size_t size;
} pl__blob;

typedef struct pl__plugin_rec {
    char *ns, *name, *version;
    char *library;  /* file name of the library it was built with ("" if the application's) */
    uint64_t hash;  /* xxHash64 of that library's bytes (0 if unknown) */
} pl__plugin_rec;

typedef struct pl__plan {
    pl_network *net;
    pl_device device;
    pl__kv *meta;
    int nmeta;
    pl__blob *blobs;
    int nblobs;
    pl__plugin_rec *plugins;
    int nplugins;
    uint64_t peak_activation_bytes;
    bool borrows; /* constant data and blobs point into caller-owned file bytes */
} pl__plan;

/* Writes the plan into one malloc'ed buffer. The plugin table is derived from the plugin layers
 * (pl__plugin_library), so callers need not fill p->plugins. */
pl_status pl__plan_serialize(const pl__plan *p, void **data, size_t *size);
/* Parses and validates every length, offset, count, enum and the checksum. Weights and blobs
 * point into `data`, which must outlive the plan. Plugin layers are bound against the registry;
 * a missing plugin fails naming the plugin and the library it was built with. `origin` (a file
 * name, or NULL) prefixes every error message. */
pl_status pl__plan_deserialize(const void *data, size_t size, const char *origin, pl__plan **out);
void pl__plan_free(pl__plan *p);
const char *pl__plan_meta(const pl__plan *p, const char *key);
pl_status pl__plan_set_meta(pl__plan *p, const char *key, const char *value);
pl_status pl__plan_add_blob(pl__plan *p, const char *name, const void *data, size_t size);
const pl__blob *pl__plan_blob(const pl__plan *p, const char *name);

#endif
