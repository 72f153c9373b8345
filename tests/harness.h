/*
 * harness.h - the tiny test harness: checks that count failures and keep going, fixed-seed
 * random data, tolerance comparisons, and a closing "N passed, N failed" line.
 */
#ifndef PL_HARNESS_H
#define PL_HARNESS_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "plinth/plinth.h"

extern int pl_test_checks_failed, pl_test_checks_passed;

#define PL_CHECK(c)                                                                                \
    do {                                                                                           \
        if (c) {                                                                                   \
            pl_test_checks_passed++;                                                               \
        } else {                                                                                   \
            pl_test_checks_failed++;                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c);                 \
        }                                                                                          \
    } while (0)

#define PL_CHECK_OK(expr)                                                                          \
    do {                                                                                           \
        pl_status pl__s = (expr);                                                                  \
        if (pl__s == PL_OK) {                                                                      \
            pl_test_checks_passed++;                                                               \
        } else {                                                                                   \
            pl_test_checks_failed++;                                                               \
            fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__, #expr,               \
                    pl_status_name(pl__s), pl_errmsg());                                           \
        }                                                                                          \
    } while (0)

/* Expects a failure with the given status whose message contains `needle` (may be NULL). */
#define PL_CHECK_FAILS(expr, status, needle) pl_test_check_fails((expr), (status), (needle), #expr, __FILE__, __LINE__)
void pl_test_check_fails(pl_status got, pl_status want, const char *needle, const char *expr,
                         const char *file, int line);

/* Runs one test case function, printing its name and result. */
#define PL_RUN(fn) pl_test_run(#fn, fn)
void pl_test_run(const char *name, void (*fn)(void));
/* Prints "N passed, N failed" (N = test cases) and returns the exit status. */
int pl_test_report(void);

/* Deterministic data: xorshift64* seeded per call. */
void pl_test_fill_uniform(float *x, int64_t n, float lo, float hi, uint64_t seed);
/* max |a-b| and relative L2 ||a-b|| / ||b||. */
void pl_test_compare(const float *a, const float *b, int64_t n, double *max_abs, double *rel_l2);
/* true when every |a-b| <= atol + rtol*|b|; prints the first offender. */
int pl_test_allclose(const char *what, const float *a, const float *b, int64_t n, double atol,
                     double rtol);
/* Whether a CUDA device is usable; prints "skipped: no CUDA device" for `what` when not. */
int pl_test_have_cuda(const char *what);

#endif
