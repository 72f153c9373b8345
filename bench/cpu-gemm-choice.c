/*
 * cpu-gemm-choice.c - the measurement behind "GEMM and convolution through OpenBLAS or oneDNN":
 * single-precision GEMM throughput of OpenBLAS (cblas_sgemm) and oneDNN (dnnl_sgemm) on the
 * GEMMs of ResNet-50's convolutions as plinth lowers them (M = output channels, N = output
 * pixels x batch, K = input channels x kernel area), all threads of the machine on both sides.
 * Two passes: every thread of the machine in one call (a library threading a whole GEMM), and
 * one thread (how plinth's CPU kernels use the library: they cut each GEMM into blocks and run
 * single-threaded library calls from their own thread grid).
 * Build and run: bench/cpu-gemm-choice.sh (on the GPU machine's 16 cores).
 */
#include <cblas.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median ms of 12 timed runs after 3 warm-ups. Each library is timed in its own pass over all
 * shapes: interleaving them call by call lets one library's spinning thread pool steal the cores
 * the other needs. */
static double time_gemm(int lib, int m, int n, int k, const float *a, const float *b, float *c) {
    double t[15];
    for (int rep = 0; rep < 15; rep++) {
        double t0 = now_ms();
        if (lib == 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a, k, b, n, 0.f, c, n);
        else
            dnnl_sgemm('N', 'N', m, n, k, 1.f, a, k, b, n, 0.f, c, n);
        t[rep] = now_ms() - t0;
    }
    qsort(t + 3, 12, sizeof(double), cmp);
    return t[3 + 6];
}

int main(void) {
    /* (M, N per image, K) of ResNet-50's distinct conv GEMMs */
    static const int shapes[][3] = {{64, 12544, 147}, {64, 3136, 64},   {64, 3136, 576},
                                    {256, 3136, 64},  {128, 784, 1152}, {512, 784, 128},
                                    {256, 196, 2304}, {1024, 196, 256}, {512, 49, 4608},
                                    {2048, 49, 512},  {1000, 1, 2048}};
    enum { NS = sizeof(shapes) / sizeof(shapes[0]) };
    static double med[2][2][NS];
    int all = omp_get_max_threads();
  for (int pass = 0; pass < 2; pass++) {
    int threads = pass == 0 ? all : 1;
    openblas_set_num_threads(threads);
    omp_set_num_threads(threads);
    printf("\n%d thread(s)\n\n", threads);
    printf("| batch | M | N | K | OpenBLAS GFLOP/s | oneDNN GFLOP/s | oneDNN / OpenBLAS |\n|---|---|---|---|---|---|---|\n");
    for (int lib = 0; lib < 2; lib++)
        for (int bi = 0; bi < (pass == 0 ? 2 : 1); bi++)
            for (int s = 0; s < NS; s++) {
                int m = shapes[s][0], n = shapes[s][1] * (bi ? 8 : 1), k = shapes[s][2];
                float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n),
                      *c = malloc(sizeof(float) * (size_t)m * n);
                for (size_t i = 0; i < (size_t)m * k; i++)
                    a[i] = (float)(i % 13) * 0.01f;
                for (size_t i = 0; i < (size_t)k * n; i++)
                    b[i] = (float)(i % 7) * 0.01f;
                med[lib][bi][s] = time_gemm(lib, m, n, k, a, b, c);
                free(a);
                free(b);
                free(c);
            }
    for (int bi = 0; bi < (pass == 0 ? 2 : 1); bi++) {
        double tot[2] = {0, 0};
        for (int s = 0; s < NS; s++) {
            int m = shapes[s][0], n = shapes[s][1] * (bi ? 8 : 1), k = shapes[s][2];
            double gf = 2.0 * m * n * k * 1e-9;
            tot[0] += med[0][bi][s];
            tot[1] += med[1][bi][s];
            printf("| %d | %d | %d | %d | %.0f | %.0f | %.2fx |\n", bi ? 8 : 1, m, n, k,
                   gf / med[0][bi][s] * 1e3, gf / med[1][bi][s] * 1e3, med[0][bi][s] / med[1][bi][s]);
        }
        printf("| %d | total | | | %.2f ms | %.2f ms | %.2fx |\n", bi ? 8 : 1, tot[0], tot[1], tot[0] / tot[1]);
    }
  }
    return 0;
}
