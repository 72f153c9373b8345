/*
 * test-cuda-convt.c - ConvTranspose and Einsum on the GPU against the CPU backend, and the CUDA
 * backend's host copies through pinned staging.
 *
 * ConvTranspose (groups, strides, pads, dilations, output_padding, with and without bias) and
 * Einsum (batched matmul, transpose, diagonal, full contraction, attention scores, a three-operand
 * chain) run as one-layer networks on random inputs (fixed seeds), built for the CPU and for the
 * GPU; the GPU output must be within relative L2 1e-4 of the CPU's in float32 and 1e-2 in float16
 * engines, and no layer may fall back to the CPU. The copy test sends 1 KiB, 5 MiB and 40 MiB
 * pageable buffers host -> device -> host through the backend's copy() (the larger ones go
 * through the pinned staging buffer in several chunks) and compares bytes. Without a GPU every
 * case prints "skipped: no CUDA device" and passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "harness.h"
#include "test-cuda-util.h"

#define TOL32 1e-4
#define TOL16 1e-2

#define D(...) ((const int64_t[]){__VA_ARGS__})

static uint64_t seed_counter = 1;

/* One layer `op` over the network inputs (and optional constant weights) compared GPU vs CPU. */
typedef struct tcase {
    const char *what, *op;
    int nin;            /* network inputs */
    int rank[4];
    int64_t dims[4][PL_MAX_RANK];
    int wrank;          /* constant weight (ConvTranspose), 0 for none */
    int64_t wdims[PL_MAX_RANK];
    int64_t bias;       /* constant bias of this many values, 0 for none */
    const pl_attr *at;
    int nat;
} tcase;

/* float32 outputs within *arg (relative L2). */
static int close_output(const char *what, const pl_tc_out *gpu, const pl_tc_out *cpu, int k,
                        const void *arg) {
    return pl_tc_close(what, gpu->v[k], cpu->v[k], cpu->count[k], *(const double *)arg);
}

static void check(const tcase *tc, bool fp16) {
    pl_tc_case l = {.op = tc->op, .nat = tc->nat};
    double tol = fp16 ? TOL16 : TOL32;
    char label[160];
    snprintf(label, sizeof(label), "%s%s", tc->what, fp16 ? " (fp16)" : "");
    memcpy(l.at, tc->at, sizeof(pl_attr) * (size_t)tc->nat);
    for (int i = 0; i < tc->nin; i++)
        pl_tc_f32(&l, PL_TC_INPUT, tc->rank[i], tc->dims[i], -1, 1, 77 + seed_counter++);
    if (tc->wrank)
        pl_tc_f32(&l, PL_TC_CONST, tc->wrank, tc->wdims, -0.4f, 0.4f, 500 + seed_counter++);
    if (tc->bias)
        pl_tc_f32(&l, PL_TC_CONST, 1, D(tc->bias), -1, 1, 500 + seed_counter++);
    pl_tc_check(label, &l, fp16, close_output, &tol);
    pl_tc_case_free(&l);
}

static void check_both(const tcase *tc) {
    check(tc, false);
    check(tc, true);
}

/* ---- ConvTranspose ---- */

static void test_convt(void) {
    PL_TC_NEED_GPU();
    {
        tcase t = {"convt 3x3 bias", "ConvTranspose", 1, {4}, {{2, 8, 7, 9}}, 4, {8, 6, 3, 3},
                   6, NULL, 0};
        check_both(&t);
    }
    {
        int64_t st[2] = {2, 2}, p[4] = {1, 1, 1, 1}, op[2] = {1, 1};
        pl_attr at[3] = {PL_ATTR_INTS("strides", st, 2), PL_ATTR_INTS("pads", p, 4),
                         PL_ATTR_INTS("output_padding", op, 2)};
        tcase t = {"convt stride 2 pads output_padding", "ConvTranspose", 1, {4},
                   {{2, 8, 6, 5}}, 4, {8, 4, 3, 3}, 4, at, 3};
        check_both(&t);
    }
    {
        int64_t st[2] = {2, 3}, dl[2] = {2, 1}, p[4] = {2, 0, 2, 0};
        pl_attr at[4] = {PL_ATTR_INTS("strides", st, 2), PL_ATTR_INTS("dilations", dl, 2),
                         PL_ATTR_INTS("pads", p, 4), PL_ATTR_I("group", 2)};
        tcase t = {"convt groups dilation no bias", "ConvTranspose", 1, {4}, {{1, 8, 5, 6}}, 4,
                   {8, 3, 3, 2}, 0, at, 4};
        check_both(&t);
    }
    {
        int64_t st[1] = {4}, p[2] = {1, 1};
        pl_attr at[2] = {PL_ATTR_INTS("strides", st, 1), PL_ATTR_INTS("pads", p, 2)};
        tcase t = {"convt 1-D stride 4", "ConvTranspose", 1, {3}, {{3, 4, 11}}, 3, {4, 5, 4}, 5,
                   at, 2};
        check_both(&t);
    }
    {
        int64_t st[3] = {2, 2, 2};
        pl_attr at[2] = {PL_ATTR_INTS("strides", st, 3), PL_ATTR_I("group", 4)};
        tcase t = {"convt 3-D depthwise-like", "ConvTranspose", 1, {5}, {{1, 4, 3, 4, 5}}, 5,
                   {4, 1, 2, 2, 2}, 4, at, 2};
        check_both(&t);
    }
}

/* A geometry cuDNN cannot express (end pad exceeding the begin pad by more than a stride) must
 * still run, on the CPU, with the CPU's result. */
static void test_convt_declined(void) {
    PL_TC_NEED_GPU();
    {
        int64_t p[4] = {0, 0, 2, 2};
        pl_tc_case l = {.op = "ConvTranspose", .nat = 1, .at = {PL_ATTR_INTS("pads", p, 4)}};
        pl_tc_out cpu, gpu;
        printf("  case convt asymmetric pads (declined)\n");
        pl_tc_f32(&l, PL_TC_INPUT, 4, D(1, 2, 5, 5), -1, 1, 4242);
        pl_tc_f32(&l, PL_TC_CONST, 4, D(2, 3, 3, 3), -0.5f, 0.5f, 500 + seed_counter++);
        if (pl_tc_run_case(&l, PL_DEVICE_CPU, false, 1, &cpu)) {
            if (pl_tc_run_case(&l, PL_DEVICE_CUDA, false, 2, &gpu)) {
                PL_CHECK(gpu.n == 1 && gpu.count[0] == cpu.count[0]);
                if (gpu.n == 1 && gpu.count[0] == cpu.count[0])
                    PL_CHECK(pl_tc_close("declined convt", gpu.v[0], cpu.v[0], cpu.count[0],
                                         TOL32));
                pl_tc_out_free(&gpu);
            }
            pl_tc_out_free(&cpu);
        }
        pl_tc_case_free(&l);
    }
}

/* ---- Einsum ---- */

static void ein(const char *eq, int nin, const int *rank, const int64_t dims[][PL_MAX_RANK]) {
    pl_attr at[1] = {PL_ATTR_S("equation", eq)};
    tcase t = {eq, "Einsum", nin, {0}, {{0}}, 0, {0}, 0, at, 1};
    for (int i = 0; i < nin; i++) {
        t.rank[i] = rank[i];
        memcpy(t.dims[i], dims[i], sizeof(t.dims[i]));
    }
    check_both(&t);
}

static void test_einsum(void) {
    PL_TC_NEED_GPU();
    {
        int r[2] = {3, 3};
        int64_t d[2][PL_MAX_RANK] = {{3, 5, 7}, {3, 7, 4}};
        ein("bij,bjk->bik", 2, r, d);
    }
    {
        int r[1] = {2};
        int64_t d[1][PL_MAX_RANK] = {{6, 9}};
        ein("ij->ji", 1, r, d);
    }
    {
        int r[1] = {2};
        int64_t d[1][PL_MAX_RANK] = {{7, 7}};
        ein("ii->i", 1, r, d);
    }
    {
        int r[2] = {2, 2};
        int64_t d[2][PL_MAX_RANK] = {{13, 17}, {13, 17}};
        ein("ij,ij->", 2, r, d);
    }
    {
        int r[2] = {4, 4};
        int64_t d[2][PL_MAX_RANK] = {{2, 3, 10, 16}, {2, 3, 12, 16}};
        ein("bhqd,bhkd->bhqk", 2, r, d);
    }
    {
        int r[3] = {2, 2, 2};
        int64_t d[3][PL_MAX_RANK] = {{5, 6}, {6, 7}, {7, 3}};
        ein("ij,jk,kl->il", 3, r, d);
    }
    {
        int r[2] = {3, 2};
        int64_t d[2][PL_MAX_RANK] = {{2, 4, 5}, {5, 3}};
        ein("...j,jk->...k", 2, r, d);
    }
}

/* ---- host copies through pinned staging ---- */

static void copy_round_trip(const pl__backend *cu, void *bctx, size_t bytes) {
    unsigned char *src = malloc(bytes), *back = malloc(bytes);
    void *dev = NULL;
    uint64_t x = 0x9e3779b97f4a7c15ull ^ bytes;
    PL_CHECK(src && back);
    if (!src || !back)
        goto done;
    for (size_t i = 0; i < bytes; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        src[i] = (unsigned char)x;
    }
    memset(back, 0, bytes);
    PL_CHECK_OK(cu->alloc(bctx, bytes, &dev));
    if (!dev)
        goto done;
    PL_CHECK_OK(cu->copy(bctx, dev, src, bytes, PL__H2D));
    /* the source is the caller's again once copy() returned: scribbling on it must not matter */
    memset(src + bytes / 2, 0xA5, bytes - bytes / 2);
    PL_CHECK_OK(cu->copy(bctx, back, dev, bytes, PL__D2H));
    PL_CHECK_OK(cu->sync(bctx));
    for (size_t i = 0; i < bytes / 2; i++)
        if (back[i] != src[i]) {
            fprintf(stderr, "copy of %zu bytes: byte %zu differs\n", bytes, i);
            PL_CHECK(back[i] == src[i]);
            break;
        }
    {
        /* the second half was overwritten after the H2D copy: compare with the regenerated
         * sequence */
        uint64_t y = 0x9e3779b97f4a7c15ull ^ bytes;
        size_t bad = 0;
        for (size_t i = 0; i < bytes; i++) {
            y ^= y << 13;
            y ^= y >> 7;
            y ^= y << 17;
            if (i >= bytes / 2 && back[i] != (unsigned char)y)
                bad++;
        }
        if (bad)
            fprintf(stderr, "copy of %zu bytes: %zu bytes of the second half differ\n", bytes,
                    bad);
        PL_CHECK(bad == 0);
    }
    cu->release(bctx, dev);
done:
    free(src);
    free(back);
}

static void test_copy(void) {
    const pl__backend *cu;
    void *bctx = NULL;
    PL_TC_NEED_GPU();
    cu = pl__backend_get(PL_DEVICE_CUDA);
    PL_CHECK(cu != NULL);
    if (!cu)
        return;
    PL_CHECK_OK(cu->create(&bctx));
    if (!bctx)
        return;
    copy_round_trip(cu, bctx, 1024);
    copy_round_trip(cu, bctx, (size_t)5 << 20);
    copy_round_trip(cu, bctx, (size_t)40 << 20);
    copy_round_trip(cu, bctx, ((size_t)17 << 20) + 3); /* odd size: a partial last chunk */
    cu->destroy(bctx);
}

int main(void) {
    pl_tc_catch_crashes();
    PL_RUN(test_copy);
    PL_RUN(test_convt);
    PL_RUN(test_convt_declined);
    PL_RUN(test_einsum);
    return pl_test_report();
}
