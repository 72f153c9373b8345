/*
 * plugin-test-util.h - helpers shared by the plugin tests: run one bound plugin layer of a
 * network on the CPU directly through pl__layer_infer and pl__plugin_kernel (no builder), and
 * run a whole network through the public build / load / execute API.
 */
#ifndef PL_PLUGIN_TEST_UTIL_H
#define PL_PLUGIN_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "plugin/plugin-host.h"

/* Infers layer li at the input views' shapes, allocates its outputs (free with
 * pl_test_free_views) and runs its CPU kernel with `tactic`. */
static inline pl_status pl_test_run_layer(pl_network *net, int li, const pl__tview *in,
                                          pl__tview *out, int tactic) {
    pl__layer *l = &net->layers[li];
    pl__infer ic = {l, l->nin, in, l->nout, out};
    const pl__kernel_def *k;
    pl__kernel_args a;
    void *bctx = NULL, *ws = NULL, *state = NULL;
    pl_status s;
    memset(out, 0, sizeof(*out) * (size_t)l->nout);
    if ((s = pl__layer_infer(&ic)))
        return s;
    if (!(k = pl__plugin_kernel(l, PL_DEVICE_CPU)))
        return PL_ERR_UNSUPPORTED;
    for (int o = 0; o < l->nout; o++) {
        size_t b = pl__tview_bytes(&out[o]);
        out[o].data = calloc(1, b ? b : 1);
    }
    memset(&a, 0, sizeof(a));
    a.layer = l;
    a.nin = l->nin;
    a.in = in;
    a.nout = l->nout;
    a.out = out;
    a.tactic = tactic;
    if ((s = pl__cpu_backend.create(&bctx)))
        return s;
    a.bctx = bctx;
    if (k->supports && !k->supports(&a)) {
        pl__cpu_backend.destroy(bctx);
        return PL_ERR_UNSUPPORTED;
    }
    if (k->workspace) {
        a.workspace_size = k->workspace(&a);
        if (a.workspace_size == SIZE_MAX) {
            pl__cpu_backend.destroy(bctx);
            return PL_ERR_PLUGIN;
        }
        ws = a.workspace = malloc(a.workspace_size ? a.workspace_size : 1);
    }
    if (k->state_create && (s = k->state_create(&a, &state))) {
        free(ws);
        pl__cpu_backend.destroy(bctx);
        return s;
    }
    a.state = state;
    s = k->run(&a);
    if (k->state_destroy)
        k->state_destroy(l, state);
    free(ws);
    pl__cpu_backend.destroy(bctx);
    return s;
}

static inline void pl_test_free_views(pl__tview *v, int n) {
    for (int i = 0; i < n; i++) {
        free(v[i].data);
        v[i].data = NULL;
    }
}

#endif
