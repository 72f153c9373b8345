/*
 * ops.c - the table of core op definitions and helpers shared by shape-inference functions.
 */
#include <stdio.h>
#include <string.h>

#include "graph/ops.h"
#include "plugin/plugin-host.h"

static const pl__op_def *const pl__op_groups[] = {pl__ops_elementwise, pl__ops_nn, pl__ops_shape,
                                                  pl__ops_reduce};

const pl__op_def *pl__op_find(const char *name) {
    for (size_t g = 0; g < sizeof(pl__op_groups) / sizeof(pl__op_groups[0]); g++)
        for (const pl__op_def *d = pl__op_groups[g]; d->name; d++)
            if (strcmp(d->name, name) == 0)
                return d;
    return NULL;
}

pl_status pl__infer_fail(const pl__infer *ic, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return pl__fail(PL_ERR_SHAPE, "node '%s' (%s): %s", pl__layer_label(ic->layer),
                    ic->layer->plugin_name ? ic->layer->plugin_name : ic->layer->op, msg);
}

pl_status pl__broadcast(const pl__infer *ic, int ra, const int64_t *da, int rb, const int64_t *db,
                        int *rr, int64_t *dr) {
    int r = ra > rb ? ra : rb;
    for (int i = 0; i < r; i++) {
        int64_t a = i - (r - ra) >= 0 ? da[i - (r - ra)] : 1;
        int64_t b = i - (r - rb) >= 0 ? db[i - (r - rb)] : 1;
        if (a != b && a != 1 && b != 1) {
            char sa[128], sb[128];
            return pl__infer_fail(ic, "shapes %s and %s do not broadcast",
                                  pl__dims_str(ra, da, sa, sizeof(sa)),
                                  pl__dims_str(rb, db, sb, sizeof(sb)));
        }
        dr[i] = a == 1 ? b : a;
    }
    *rr = r;
    return PL_OK;
}

pl_status pl__norm_axis(const pl__infer *ic, int64_t axis, int rank, int *out) {
    if (axis < -rank || axis >= (rank ? rank : 1))
        return pl__infer_fail(ic, "axis %lld is out of range for rank %d", (long long)axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return PL_OK;
}

pl_status pl__layer_infer(pl__infer *ic) {
    if (ic->layer->def)
        return ic->layer->def->infer(ic);
    return pl__plugin_infer(ic);
}

uint32_t pl__layer_value_inputs(const pl__layer *l) { return l->def ? l->def->value_inputs : 0; }

bool pl__layer_data_dependent(const pl__layer *l) {
    return l->def ? l->def->data_dependent : pl__plugin_data_dependent(l);
}
