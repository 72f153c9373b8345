/*
 * ops-shape.h - parameters of the shape ops that both shape inference and the kernels need
 * (Slice's starts and steps, Pad's pads and mode, Resize's scales and coordinate rules), resolved
 * once from attributes (old opsets) or value inputs (new opsets) by src/graph/ops-shape.c, so that
 * inference and every backend agree on one reading of ONNX's defaulting and clamping rules.
 *
 * Each resolver takes the layer and its nin input views; value inputs must carry host data (they
 * do during inference, and on the CPU backend). On bad attributes or values it fails with
 * PL_ERR_SHAPE and a message naming the node.
 */
#ifndef PL_OPS_SHAPE_H
#define PL_OPS_SHAPE_H

#include "graph/ops.h"

/* Slice: output dim i takes input elements start[i] + k*step[i], k < count[i]. Axes not sliced
 * get start 0, step 1, count = dim. */
typedef struct pl__slice_params {
    int rank;
    int64_t start[PL_MAX_RANK], step[PL_MAX_RANK], count[PL_MAX_RANK];
} pl__slice_params;

pl_status pl__slice_resolve(const pl__layer *l, int nin, const pl__tview *in, pl__slice_params *p);

typedef enum pl__pad_mode {
    PL__PAD_CONSTANT = 0,
    PL__PAD_REFLECT = 1,
    PL__PAD_EDGE = 2,
    PL__PAD_WRAP = 3
} pl__pad_mode;

/* Pad: begin[i]/end[i] elements added (negative: removed) before/after axis i. `value` is the
 * constant as a double, from the "value" attribute (old opsets) or constant_value input; kernels
 * moving raw bytes read input 2 themselves when it is given. */
typedef struct pl__pad_params {
    int rank;
    pl__pad_mode mode;
    int64_t begin[PL_MAX_RANK], end[PL_MAX_RANK];
    double value;
} pl__pad_params;

pl_status pl__pad_resolve(const pl__layer *l, int nin, const pl__tview *in, pl__pad_params *p);

typedef enum pl__resize_mode { PL__RESIZE_NEAREST, PL__RESIZE_LINEAR, PL__RESIZE_CUBIC } pl__resize_mode;

typedef enum pl__resize_coord {
    PL__COORD_HALF_PIXEL,
    PL__COORD_HALF_PIXEL_SYMMETRIC,
    PL__COORD_PYTORCH_HALF_PIXEL,
    PL__COORD_ALIGN_CORNERS,
    PL__COORD_ASYMMETRIC,
    PL__COORD_TF_HALF_PIXEL_FOR_NN,
    PL__COORD_TF_CROP_AND_RESIZE
} pl__resize_coord;

typedef enum pl__resize_round {
    PL__ROUND_PREFER_FLOOR,
    PL__ROUND_PREFER_CEIL,
    PL__ROUND_FLOOR,
    PL__ROUND_CEIL,
    PL__ROUND_SIMPLE /* opset <= 10 and Upsample: floor when upsampling, ceil when downsampling */
} pl__resize_round;

/* Resize / Upsample: out[i] is the output dim, scale[i] the scale the coordinate transform uses
 * (the given one when scales were given, else out/in), roi_start/roi_end the crop box of
 * tf_crop_and_resize (0 and 1 otherwise). */
typedef struct pl__resize_params {
    int rank;
    pl__resize_mode mode;
    pl__resize_coord coord;
    pl__resize_round round;
    double cubic_a, extrapolation;
    bool exclude_outside;
    int64_t out[PL_MAX_RANK];
    double scale[PL_MAX_RANK], roi_start[PL_MAX_RANK], roi_end[PL_MAX_RANK];
} pl__resize_params;

pl_status pl__resize_resolve(const pl__layer *l, int nin, const pl__tview *in, pl__resize_params *p);
/* Input coordinate of output coordinate x on an axis (in: input length) under the rules of p. */
double pl__resize_coord_map(const pl__resize_params *p, int axis, int64_t in, double x);

#endif
