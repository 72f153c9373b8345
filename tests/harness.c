#include "harness.h"

#include <string.h>

int pl_test_checks_failed, pl_test_checks_passed;
static int pl_test_cases_failed, pl_test_cases_passed;

void pl_test_check_fails(pl_status got, pl_status want, const char *needle, const char *expr,
                         const char *file, int line) {
    const char *msg = pl_errmsg();
    if (got == want && (!needle || strstr(msg, needle))) {
        pl_test_checks_passed++;
        return;
    }
    pl_test_checks_failed++;
    fprintf(stderr, "%s:%d: %s: expected %s%s%s%s, got %s: %s\n", file, line, expr,
            pl_status_name(want), needle ? " with message containing '" : "", needle ? needle : "",
            needle ? "'" : "", pl_status_name(got), msg);
}

void pl_test_run(const char *name, void (*fn)(void)) {
    int before = pl_test_checks_failed;
    fn();
    if (pl_test_checks_failed == before) {
        pl_test_cases_passed++;
        printf("ok   %s\n", name);
    } else {
        pl_test_cases_failed++;
        printf("FAIL %s\n", name);
    }
    fflush(stdout);
}

int pl_test_report(void) {
    printf("%d passed, %d failed\n", pl_test_cases_passed, pl_test_cases_failed);
    return pl_test_cases_failed ? 1 : 0;
}

void pl_test_fill_uniform(float *x, int64_t n, float lo, float hi, uint64_t seed) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 0x1234567ull;
    for (int64_t i = 0; i < n; i++) {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        x[i] = lo + (hi - lo) * (float)((s * 0x2545F4914F6CDD1Dull) >> 40) / (float)(1 << 24);
    }
}

void pl_test_compare(const float *a, const float *b, int64_t n, double *max_abs, double *rel_l2) {
    double m = 0, num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d)
            m = d;
        num += d * d;
        den += (double)b[i] * b[i];
    }
    *max_abs = m;
    *rel_l2 = den > 0 ? sqrt(num / den) : sqrt(num);
}

int pl_test_allclose(const char *what, const float *a, const float *b, int64_t n, double atol,
                     double rtol) {
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= atol + rtol * fabs((double)b[i]))) {
            fprintf(stderr, "%s: element %lld: got %.8g, expected %.8g\n", what, (long long)i,
                    (double)a[i], (double)b[i]);
            return 0;
        }
    }
    return 1;
}

int pl_test_have_cuda(const char *what) {
    if (pl_device_available(PL_DEVICE_CUDA))
        return 1;
    printf("skipped: no CUDA device (%s)\n", what);
    return 0;
}
