/*
 * builder.h - internals shared by the builder's files: the configuration and the passes.
 */
#ifndef PL_BUILDER_H
#define PL_BUILDER_H

#include "backends/backend.h"
#include "graph/infer.h"

typedef struct pl__profile_entry {
    char *name;
    int rank;
    int64_t min[PL_MAX_RANK], opt[PL_MAX_RANK], max[PL_MAX_RANK];
    bool has_shape;
    int64_t nvalues;                 /* shape-tensor inputs: values at min/opt/max */
    double *vmin, *vopt, *vmax;
} pl__profile_entry;

struct pl_builder_config {
    pl_device device;
    bool fp16;
    size_t workspace_limit;
    pl__profile_entry *profiles;
    int nprofiles;
    char *timing_cache;
    int streams; /* 0: timed choice; 1: one stream; n: up to n lanes (pl_builder_config_set_streams) */
    pl_progress_fn progress;
    void *progress_user;
};

/* The profile entry of an input, or NULL. */
const pl__profile_entry *pl__profile_find(const pl_builder_config *cfg, const char *name);

/* Generic graph passes (passes.c). */
pl_status pl__pass_fold_constants(pl_network *net, const pl__shape_pass *opt);
pl_status pl__pass_dead_code(pl_network *net);
/* Folds BatchNormalization into Conv, and Conv/Gemm/Add + activation and Conv + residual Add
 * into one layer. Needs the tensors' min/opt/max dims filled. */
pl_status pl__pass_fuse(pl_network *net);

#endif
