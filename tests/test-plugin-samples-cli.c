/*
 * test-plugin-samples-cli.c - the four QDP samples through ONNX models (tests/data/plugins/, both
 * mapping styles: node domain = namespace, and op_type + plugin_namespace) and the command-line
 * tool: each model is built into an engine file by one `plinth build --plugins` process and run by
 * another `plinth run --plugins` process (a fresh process loads the saved engine), and the output
 * file is checked against a straightforward reference. Running the saved engine without the
 * library must fail with a message naming the plugin and the library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char tmp[256];

static int sh(const char *fmt, const char *a, const char *b) {
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), fmt, a, b);
    return system(cmd);
}

/* build MODEL, run it on x (rank/dims), return the output tensor (caller releases) */
static int build_and_run(const char *model, const float *x, int rank, const int64_t *dims,
                         pl_host_tensor *y) {
    pl_host_tensor tx = {0};
    char xin[512], eng[512], out[512], cmd[4096];
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    tx.dtype = PL_FLOAT32;
    tx.rank = rank;
    memcpy(tx.dims, dims, sizeof(int64_t) * (size_t)rank);
    tx.data = (void *)x;
    tx.nbytes = sizeof(float) * (size_t)n;
    snprintf(xin, sizeof(xin), "%s/%s.x.npy", tmp, model);
    snprintf(eng, sizeof(eng), "%s/%s.engine", tmp, model);
    snprintf(out, sizeof(out), "%s/%s.out", tmp, model);
    if (pl_tensor_file_write(xin, &tx) != PL_OK)
        return -1;
    snprintf(cmd, sizeof(cmd), "%s/plinth build %s/plugins/%s.onnx -o %s --plugins %s > %s/log 2>&1",
             PL_BUILD_DIR, PL_TEST_DATA, model, eng, PL_SAMPLES_LIB, tmp);
    if (system(cmd) != 0)
        return sh("cat %s/log >&2; echo build of %s failed >&2", tmp, model), -2;
    snprintf(cmd, sizeof(cmd), "%s/plinth run %s --plugins %s --input x=%s --outputs %s > %s/log 2>&1",
             PL_BUILD_DIR, eng, PL_SAMPLES_LIB, xin, out, tmp);
    if (system(cmd) != 0)
        return sh("cat %s/log >&2; echo run of %s failed >&2", tmp, model), -3;
    snprintf(cmd, sizeof(cmd), "%s/output_0.pb", out);
    return pl_tensor_file_read(cmd, y) == PL_OK ? 0 : -4;
}

static void test_elemwise_add(void) {
    float x[6];
    pl_host_tensor y = {0};
    pl_test_fill_uniform(x, 6, -3, 3, 1);
    PL_CHECK(build_and_run("elemwise-add", x, 2, (int64_t[]){2, 3}, &y) == 0);
    PL_CHECK(y.dtype == PL_FLOAT32 && y.rank == 2 && y.dims[0] == 2 && y.dims[1] == 3);
    for (int i = 0; y.data && i < 6; i++)
        PL_CHECK(((float *)y.data)[i] == x[i] + 1.f);
    pl_host_tensor_release(&y);
}

static void test_elemwise_add_inplace(void) {
    float x[6];
    pl_host_tensor y = {0};
    char cmd[2048];
    pl_test_fill_uniform(x, 6, -3, 3, 2);
    PL_CHECK(build_and_run("elemwise-add-inplace", x, 2, (int64_t[]){2, 3}, &y) == 0);
    for (int i = 0; y.data && i < 6; i++)
        PL_CHECK(((float *)y.data)[i] == x[i] + 2.f);
    pl_host_tensor_release(&y);
    /* the saved engine without its library: refused, naming the plugin and the library */
    snprintf(cmd, sizeof(cmd), "%s/plinth run %s/elemwise-add-inplace.engine > %s/log 2>&1; "
             "grep -q 'elemwise_add_plugin_' %s/log && grep -q 'libplinth_samples' %s/log",
             PL_BUILD_DIR, tmp, tmp, tmp, tmp);
    PL_CHECK(system(cmd) == 0);
}

static void test_non_zero(void) {
    float x[12];
    pl_host_tensor y = {0};
    int n = 0;
    pl_test_fill_uniform(x, 12, -1, 1, 3);
    for (int i = 0; i < 12; i += 3)
        x[i] = 0.f; /* some zeros */
    x[5] = 0.f;
    PL_CHECK(build_and_run("non-zero", x, 2, (int64_t[]){3, 4}, &y) == 0);
    for (int i = 0; i < 12; i++)
        n += x[i] != 0.f;
    PL_CHECK(y.dtype == PL_INT32 && y.rank == 2 && y.dims[0] == n && y.dims[1] == 2);
    if (y.data && y.dims[0] == n) {
        int k = 0;
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++)
                if (x[r * 4 + c] != 0.f) {
                    PL_CHECK(((int32_t *)y.data)[2 * k] == r && ((int32_t *)y.data)[2 * k + 1] == c);
                    k++;
                }
    }
    pl_host_tensor_release(&y);
}

static void test_circ_pad(void) {
    float x[24];
    pl_host_tensor y = {0};
    pl_test_fill_uniform(x, 24, -2, 2, 4);
    PL_CHECK(build_and_run("circ-pad", x, 3, (int64_t[]){2, 3, 4}, &y) == 0);
    PL_CHECK(y.rank == 3 && y.dims[0] == 2 && y.dims[1] == 4 && y.dims[2] == 7);
    /* pads (1, 2) on the last dim, (0, 1) on the one before, wrapping around */
    for (int i = 0; y.data && y.dims[1] == 4 && y.dims[2] == 7 && i < 2; i++)
        for (int j = 0; j < 4; j++)
            for (int k = 0; k < 7; k++)
                PL_CHECK(((float *)y.data)[(i * 4 + j) * 7 + k] == x[(i * 3 + j % 3) * 4 + (k + 3) % 4]);
    pl_host_tensor_release(&y);
}

int main(void) {
    snprintf(tmp, sizeof(tmp), "/tmp/plinth-samples-cli-%d", (int)getpid());
    mkdir(tmp, 0777);
    PL_RUN(test_elemwise_add);
    PL_RUN(test_elemwise_add_inplace);
    PL_RUN(test_non_zero);
    PL_RUN(test_circ_pad);
    sh("rm -rf %s%s", tmp, "");
    return pl_test_report();
}
