/*
 * cpu-gemm-choice.c - the measurement behind "GEMM and convolution through OpenBLAS or oneDNN":
 * single-precision GEMM throughput of OpenBLAS (cblas_sgemm) and oneDNN (dnnl_sgemm) on the
 * GEMMs of ResNet-50's convolutions as plinth lowers them (M = output channels, N = output
 * pixels x batch, K = input channels x kernel area), all threads of the machine on both sides.
 * Build and run: bench/cpu-gemm-choice.sh (on the GPU machine's 16 cores).
 */
#include <cblas.h>
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

int main(void) {
    /* (M, N per image, K) of ResNet-50's distinct conv GEMMs */
    static const int shapes[][3] = {{64, 12544, 147}, {64, 3136, 64},   {64, 3136, 576},
                                    {256, 3136, 64},  {128, 784, 1152}, {512, 784, 128},
                                    {256, 196, 2304}, {1024, 196, 256}, {512, 49, 4608},
                                    {2048, 49, 512},  {1000, 1, 2048}};
    printf("| M | N | K | OpenBLAS GFLOP/s | oneDNN GFLOP/s | oneDNN / OpenBLAS |\n|---|---|---|---|---|---|\n");
    for (int batch = 1; batch <= 8; batch *= 8) {
        double tot_o = 0, tot_d = 0;
        for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
            int m = shapes[s][0], n = shapes[s][1] * batch, k = shapes[s][2];
            float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n),
                  *c = malloc(sizeof(float) * (size_t)m * n);
            double t[2][15], gf = 2.0 * m * n * k * 1e-9, med[2];
            for (size_t i = 0; i < (size_t)m * k; i++)
                a[i] = (float)(i % 13) * 0.01f;
            for (size_t i = 0; i < (size_t)k * n; i++)
                b[i] = (float)(i % 7) * 0.01f;
            for (int rep = 0; rep < 15; rep++) {
                double t0 = now_ms();
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a, k, b, n, 0.f, c, n);
                t[0][rep] = now_ms() - t0;
                t0 = now_ms();
                dnnl_sgemm('N', 'N', m, n, k, 1.f, a, k, b, n, 0.f, c, n);
                t[1][rep] = now_ms() - t0;
            }
            for (int w = 0; w < 2; w++) {
                qsort(t[w] + 3, 12, sizeof(double), cmp);
                med[w] = t[w][3 + 6];
            }
            tot_o += med[0];
            tot_d += med[1];
            printf("| %d | %d | %d | %.0f | %.0f | %.2fx |\n", m, n, k, gf / med[0] * 1e3,
                   gf / med[1] * 1e3, med[0] / med[1]);
            free(a);
            free(b);
            free(c);
        }
        printf("| batch %d total | | | %.2f ms | %.2f ms | %.2fx |\n", batch, tot_o, tot_d, tot_o / tot_d);
    }
    return 0;
}
