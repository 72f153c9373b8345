/*
 * ops-nn.h - helpers that nn shape inference (ops-nn.c) and the nn kernels of every backend share,
 * so that an output shape and the padding a kernel applies come from one computation: sliding
 * window geometry of Conv/ConvTranspose/pooling, and Einsum equation parsing.
 */
#ifndef PL_OPS_NN_H
#define PL_OPS_NN_H

#include "graph/ops.h"

#define PL__MAX_SPATIAL 3

/* Geometry of a sliding window over nsp spatial dims (1..3): input and output extents, kernel,
 * strides, dilations and resolved begin/end padding (auto_pad applied). For ConvTranspose, `in`
 * is the (smaller) input and `out` the upsampled output; pads may then be negative when an
 * explicit output_shape asks for more than the full output. */
typedef struct pl__window {
    int nsp;
    int64_t in[PL__MAX_SPATIAL], out[PL__MAX_SPATIAL], k[PL__MAX_SPATIAL];
    int64_t s[PL__MAX_SPATIAL], d[PL__MAX_SPATIAL], pb[PL__MAX_SPATIAL], pe[PL__MAX_SPATIAL];
} pl__window;

/* Conv / pooling: reads strides, dilations, pads, auto_pad of ic->layer; k holds the kernel extent
 * per spatial dim, in the input's spatial extents. ceil_mode: pooling's ceil rounding (windows
 * that would start in the end padding are dropped, as ONNX and PyTorch do). Fails naming the
 * node. */
pl_status pl__window_forward(const pl__infer *ic, int nsp, const int64_t *in, const int64_t *k,
                             bool ceil_mode, pl__window *w);
/* ConvTranspose: also reads output_padding and output_shape. */
pl_status pl__window_transposed(const pl__infer *ic, int nsp, const int64_t *in, const int64_t *k,
                                pl__window *w);
/* The same window with its spatial dims right-aligned into 3 (leading dims extent 1, kernel 1), so
 * that kernels write one 3-D loop for 1-D, 2-D and 3-D ops. */
void pl__window_to_3d(const pl__window *w, pl__window *w3);

/* A parsed Einsum equation. Labels are numbered 0..25 for 'A'..'Z', 26..51 for 'a'..'z' and
 * 52.. for the broadcast dims an ellipsis stands for (leftmost first), so that ascending label
 * order is numpy's implicit output order after the ellipsis dims. */
#define PL__EINSUM_LETTERS 52
#define PL__EINSUM_LABELS (PL__EINSUM_LETTERS + PL_MAX_RANK)
#define PL__EINSUM_MAX_IN 8
typedef struct pl__einsum {
    int nin;
    int64_t dim[PL__EINSUM_LABELS]; /* extent of each label (0 when unused) */
    bool used[PL__EINSUM_LABELS];
    int rank[PL__EINSUM_MAX_IN];
    int8_t lab[PL__EINSUM_MAX_IN][PL_MAX_RANK]; /* label of each axis of each input */
    int out_rank;
    int8_t out_lab[PL_MAX_RANK];
} pl__einsum;

/* Parses ic->layer's "equation" against the shapes of ic->in[0..nin). Fails naming the node. */
pl_status pl__einsum_parse(const pl__infer *ic, pl__einsum *e);

/* The fused activations Conv and Gemm accept in their "activation" attribute. */
bool pl__nn_activation_known(const char *name);

#endif
