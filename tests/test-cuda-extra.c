/*
 * test-cuda-extra.c - the GPU kernels of backends/cuda/cuda-extra.c (ArgMax, ArgMin, TopK,
 * CumSum, GatherElements, ScatterElements, OneHot, DepthToSpace, SpaceToDepth, NonZero) and
 * Reduce* over scattered axes (cuda-ops.c) against the CPU backend: a one-layer network on random
 * inputs (fixed seeds) is run on both devices (three runs on the GPU, which must agree bit for
 * bit) and compared: integer outputs exactly, float outputs within relative L2 1e-5 (most kernels
 * follow the CPU's order of operations and are expected to be exact). Each case also checks that
 * the layer did not fall back to the CPU. Without a GPU every case prints "skipped: no CUDA
 * device" and passes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test-cuda-util.h"

#define TOL 1e-5

#define D(...) ((const int64_t[]){__VA_ARGS__})

/* Floats in [-2, 2) (the harness's filler, seeded from the sequence); with `steps` > 0 quantized
 * to that many levels so that ties occur. */
static void input_float(pl_tc_case *l, int rank, const int64_t *dims, int steps) {
    float *v = pl_tc_f32(l, PL_TC_INPUT, rank, dims, -2, 2, 100 + pl_tc_rnd() % 1000)->data;
    if (steps > 0)
        for (int64_t i = 0; i < pl_tc_numel(rank, dims); i++)
            v[i] = floorf(v[i] * (float)steps / 4) / (float)steps;
}

static void input_index(pl_tc_case *l, int rank, const int64_t *dims, int64_t lo, int64_t hi) {
    pl_tc_ints(l, PL_TC_INPUT, PL_INT64, rank, dims, lo, hi);
}

/* ---- the check ---- */

/* float32 outputs within TOL, the others (integers) exactly. */
static int same_output(const char *what, const pl_tc_out *gpu, const pl_tc_out *cpu, int k,
                       const void *arg) {
    int64_t bad = 0;
    (void)arg;
    if (cpu->dtype[k] == PL_FLOAT32)
        return pl_tc_close(what, gpu->v[k], cpu->v[k], cpu->count[k], TOL);
    for (int64_t i = 0; i < cpu->count[k]; i++)
        bad += gpu->v[k][i] != cpu->v[k][i];
    if (bad)
        fprintf(stderr, "%s: output %d: %lld of %lld integers differ\n", what, k, (long long)bad,
                (long long)cpu->count[k]);
    return bad == 0;
}

/* The GPU against the CPU on l. Frees l's data. */
static void check(const char *what, pl_tc_case *l) {
    pl_tc_check(what, l, false, same_output, NULL);
    pl_tc_case_free(l);
}

/* ---- cases ---- */

static void test_argminmax(void) {
    static const struct {
        const char *op;
        int64_t axis, keep, last;
    } cs[] = {{"ArgMax", 1, 1, 0}, {"ArgMax", 1, 1, 1}, {"ArgMin", -1, 0, 0},
              {"ArgMin", 0, 0, 1}, {"ArgMax", 2, 0, 0}};
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        pl_tc_case l = {.op = cs[c].op, .nat = 3, .nout = 1};
        char what[96];
        l.at[0] = PL_ATTR_I("axis", cs[c].axis);
        l.at[1] = PL_ATTR_I("keepdims", cs[c].keep);
        l.at[2] = PL_ATTR_I("select_last_index", cs[c].last);
        input_float(&l, 3, D(4, 37, 5), c % 2 ? 3 : 0); /* odd cases: many ties */
        snprintf(what, sizeof(what), "%s axis %lld keepdims %lld last %lld", cs[c].op,
                 (long long)cs[c].axis, (long long)cs[c].keep, (long long)cs[c].last);
        check(what, &l);
    }
}

static void test_topk(void) {
    static const struct {
        int64_t axis, k, largest, n, steps;
    } cs[] = {{1, 17, 1, 100, 0}, {1, 17, 0, 100, 3}, {-1, 5, 1, 64, 2},
              {-1, 1000, 1, 1000, 4}, {0, 3, 0, 9, 0}};
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        pl_tc_case l = {.op = "TopK", .nat = 2, .nout = 2};
        int64_t k = cs[c].k;
        char what[96];
        l.at[0] = PL_ATTR_I("axis", cs[c].axis);
        l.at[1] = PL_ATTR_I("largest", cs[c].largest);
        if (cs[c].axis == 1)
            input_float(&l, 3, D(3, cs[c].n, 4), (int)cs[c].steps);
        else if (cs[c].axis == 0)
            input_float(&l, 2, D(cs[c].n, 6), (int)cs[c].steps);
        else
            input_float(&l, 2, D(5, cs[c].n), (int)cs[c].steps);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(1), &k);
        snprintf(what, sizeof(what), "TopK axis %lld k %lld largest %lld n %lld ties %lld",
                 (long long)cs[c].axis, (long long)k, (long long)cs[c].largest,
                 (long long)cs[c].n, (long long)cs[c].steps);
        check(what, &l);
    }
}

static void test_cumsum(void) {
    PL_TC_NEED_GPU();
    for (int c = 0; c < 6; c++) {
        pl_tc_case l = {.op = "CumSum", .nat = 2, .nout = 1};
        int64_t axis = c < 4 ? 1 : c == 4 ? 0 : -1;
        char what[96];
        l.at[0] = PL_ATTR_I("exclusive", c & 1);
        l.at[1] = PL_ATTR_I("reverse", (c >> 1) & 1);
        input_float(&l, 3, D(5, 33, 7), 0);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 0, NULL, &axis);
        snprintf(what, sizeof(what), "CumSum axis %lld exclusive %d reverse %d", (long long)axis,
                 c & 1, (c >> 1) & 1);
        check(what, &l);
    }
    {
        /* integer data */
        pl_tc_case l = {.op = "CumSum", .nat = 0, .nout = 1};
        int64_t axis = 1;
        input_index(&l, 2, D(6, 40), -1000, 1000);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 0, NULL, &axis);
        check("CumSum int64", &l);
    }
}

static void test_gather_elements(void) {
    PL_TC_NEED_GPU();
    for (int axis = -1; axis < 3; axis++) {
        pl_tc_case l = {.op = "GatherElements", .nat = 1, .nout = 1};
        int64_t xd[3] = {4, 6, 5}, id[3] = {3, 4, 5};
        int ax = axis < 0 ? 2 : axis;
        char what[64];
        id[ax] = 7; /* more indices than data along the axis is legal */
        l.at[0] = PL_ATTR_I("axis", axis);
        input_float(&l, 3, xd, 0);
        input_index(&l, 3, id, -xd[ax], xd[ax] - 1);
        snprintf(what, sizeof(what), "GatherElements axis %d", axis);
        check(what, &l);
    }
}

static void test_scatter_elements(void) {
    static const char *const reds[] = {"none", "add", "mul", "max", "min"};
    PL_TC_NEED_GPU();
    for (int r = 0; r < 5; r++) {
        for (int axis = 0; axis < 3; axis += 2) {
            pl_tc_case l = {.op = "ScatterElements", .nat = 2, .nout = 1};
            int64_t xd[3] = {4, 6, 5}, id[3] = {3, 4, 5};
            char what[64];
            l.at[0] = PL_ATTR_I("axis", axis);
            l.at[1] = PL_ATTR_S("reduction", reds[r]);
            input_float(&l, 3, xd, 0);
            /* duplicates are frequent: the updates must apply in the indices' order */
            input_index(&l, 3, id, -xd[axis], xd[axis] - 1);
            input_float(&l, 3, id, 0);
            snprintf(what, sizeof(what), "ScatterElements %s axis %d", reds[r], axis);
            check(what, &l);
        }
    }
}

static void test_onehot(void) {
    PL_TC_NEED_GPU();
    for (int axis = -1; axis < 2; axis++) {
        pl_tc_case l = {.op = "OneHot", .nat = 1, .nout = 1};
        int64_t depth = 10;
        float vals[2] = {0.5f, -2.0f};
        char what[64];
        l.at[0] = PL_ATTR_I("axis", axis);
        input_index(&l, 2, D(3, 7), -12, 12); /* some out of range: all-off rows */
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 0, NULL, &depth);
        pl_tc_add(&l, PL_TC_CONST, PL_FLOAT32, 1, D(2), vals);
        snprintf(what, sizeof(what), "OneHot axis %d", axis);
        check(what, &l);
    }
}

static void test_depth_space(void) {
    PL_TC_NEED_GPU();
    for (int c = 0; c < 3; c++) {
        pl_tc_case l = {.op = c < 2 ? "DepthToSpace" : "SpaceToDepth", .nat = 2, .nout = 1};
        const char *what = c == 0 ? "DepthToSpace DCR" : c == 1 ? "DepthToSpace CRD"
                                                                : "SpaceToDepth";
        l.at[0] = PL_ATTR_I("blocksize", 2);
        l.at[1] = PL_ATTR_S("mode", c == 1 ? "CRD" : "DCR");
        if (c < 2)
            input_float(&l, 4, D(2, 12, 3, 5), 0);
        else
            input_float(&l, 4, D(2, 3, 6, 4), 0);
        check(what, &l);
    }
}

/* Reduce* over axes that do not form one block (cuda-ops.c gathers them through a workspace). */
static void test_reduce_scattered(void) {
    static const struct {
        const char *op;
        int rank;
        int64_t dims[4], axes[2], keep;
    } cs[] = {{"ReduceSum", 3, {4, 5, 6}, {0, 2}, 1},     {"ReduceMax", 4, {2, 3, 4, 5}, {1, 3}, 0},
              {"ReduceMean", 4, {3, 4, 5, 6}, {-1, 1}, 1}, {"ReduceMin", 3, {7, 3, 9}, {2, 0}, 0},
              {"ReduceL2", 4, {2, 3, 4, 5}, {0, 3}, 1}};
    PL_TC_NEED_GPU();
    for (size_t c = 0; c < sizeof(cs) / sizeof(cs[0]); c++) {
        pl_tc_case l = {.op = cs[c].op, .nat = 1, .nout = 1};
        char what[96];
        l.at[0] = PL_ATTR_I("keepdims", cs[c].keep);
        input_float(&l, cs[c].rank, cs[c].dims, 0);
        pl_tc_add(&l, PL_TC_CONST, PL_INT64, 1, D(2), cs[c].axes);
        snprintf(what, sizeof(what), "%s axes [%lld, %lld] keepdims %lld", cs[c].op,
                 (long long)cs[c].axes[0], (long long)cs[c].axes[1], (long long)cs[c].keep);
        check(what, &l);
    }
}

/* NonZero: the coordinates (compared over the whole upper-bound buffer, zeros beyond nnz). */
static void test_nonzero(void) {
    PL_TC_NEED_GPU();
    for (int c = 0; c < 3; c++) {
        pl_tc_case l = {.op = "NonZero", .nout = 1};
        if (c == 0)
            input_float(&l, 3, D(3, 50, 17), 1); /* about half zeros */
        else if (c == 1)
            input_index(&l, 2, D(40, 70), -1, 1);
        else
            input_float(&l, 1, D(5000), 1); /* several scan chunks */
        check(c == 0 ? "NonZero float32 rank 3" : c == 1 ? "NonZero int64" : "NonZero 5000", &l);
    }
}

/* An out-of-range index must fail the execution with a message, not write out of bounds. */
static void test_bad_index(void) {
    for (int sc = 0; sc < 2; sc++) {
        pl_network *net = NULL;
        pl_builder_config *cfg = NULL;
        pl_engine *e = NULL;
        pl_context *ctx = NULL;
        pl_tensor ids[3], o;
        void *plan = NULL;
        size_t size = 0;
        float x[12] = {0}, upd[6] = {1, 2, 3, 4, 5, 6}, y[12];
        int64_t idx[6] = {1, 2, 0, 3, 2, 1};
        const char *oname = "y";
        PL_TC_NEED_GPU();
        PL_CHECK_OK(pl_network_create(&net));
        PL_CHECK_OK(pl_network_add_input(net, "x", PL_FLOAT32, 2, D(4, 3), NULL, &ids[0]));
        PL_CHECK_OK(pl_network_add_input(net, "i", PL_INT64, 2, D(2, 3), NULL, &ids[1]));
        if (sc)
            PL_CHECK_OK(pl_network_add_input(net, "u", PL_FLOAT32, 2, D(2, 3), NULL, &ids[2]));
        PL_CHECK_OK(pl_network_add_layer(net, sc ? "ScatterElements" : "GatherElements", NULL,
                                         ids, sc ? 3 : 2, NULL, 0, 1, &oname, &o));
        PL_CHECK_OK(pl_network_mark_output(net, o));
        PL_CHECK_OK(pl_builder_config_create(&cfg));
        pl_builder_config_set_device(cfg, PL_DEVICE_CUDA);
        PL_CHECK_OK(pl_build_serialized(net, cfg, &plan, &size));
        PL_CHECK_OK(pl_engine_load(plan, size, &e));
        PL_CHECK_OK(pl_context_create(e, &ctx));
        PL_CHECK_OK(pl_context_set_tensor(ctx, "x", x, PL_MEMORY_HOST, sizeof(x)));
        PL_CHECK_OK(pl_context_set_tensor(ctx, "i", idx, PL_MEMORY_HOST, sizeof(idx)));
        if (sc)
            PL_CHECK_OK(pl_context_set_tensor(ctx, "u", upd, PL_MEMORY_HOST, sizeof(upd)));
        PL_CHECK_OK(pl_context_set_tensor(ctx, "y", y, PL_MEMORY_HOST,
                                          sc ? sizeof(y) : sizeof(float) * 6));
        PL_CHECK_OK(pl_context_execute(ctx));
        idx[4] = 9;
        PL_CHECK(pl_context_execute(ctx) != PL_OK);
        printf("  %s bad index: %s\n", sc ? "ScatterElements" : "GatherElements", pl_errmsg());
        idx[4] = -4;
        PL_CHECK_OK(pl_context_execute(ctx));
        pl_context_free(ctx);
        pl_engine_free(e);
        pl_free(plan);
        pl_builder_config_free(cfg);
        pl_network_free(net);
    }
}

int main(void) {
    pl_tc_catch_crashes();
    pl_tc_srand(7);
    PL_RUN(test_argminmax);
    PL_RUN(test_topk);
    PL_RUN(test_cumsum);
    PL_RUN(test_gather_elements);
    PL_RUN(test_scatter_elements);
    PL_RUN(test_onehot);
    PL_RUN(test_depth_space);
    PL_RUN(test_reduce_scattered);
    PL_RUN(test_nonzero);
    PL_RUN(test_bad_index);
    return pl_test_report();
}
