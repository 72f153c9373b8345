/*
 * cpu-ew-helpers.h - services shared by the CPU elementwise and reduce kernels (defined in
 * cpu-elementwise.c): dtype conversion and the "compute type" scheme.
 *
 * Kernels compute in three types only: float32 (for float32, float16 and bfloat16 storage),
 * float64, and int64 (for every integer type and bool). A tensor stored in another type is
 * converted into a scratch copy first and the result converted back; this keeps one code path per
 * compute type instead of one per storage type, and leaves the float32 path copy-free.
 */
#ifndef PL_CPU_EW_HELPERS_H
#define PL_CPU_EW_HELPERS_H

#include <math.h>
#include <string.h>

#include "backends/backend.h"

/* The compute type of a storage type: PL_FLOAT32, PL_FLOAT64 or PL_INT64. */
pl_dtype pl__cpu_compute_type(pl_dtype t);

/* Converts n elements of src (type st) into dst (type dt); dst and src must not overlap unless
 * they are the same pointer with the same type. Float to integer truncates toward zero and
 * saturates at the target's range (NaN gives 0); anything to bool is (v != 0); bool reads as
 * 0/1. Runs in parallel on bctx (may be NULL: serial). */
void pl__cpu_convert(void *bctx, void *dst, pl_dtype dt, const void *src, pl_dtype st, int64_t n);

/* t's data in type ct: t->data itself when t already has that type (*owned = NULL), else a
 * malloc'ed converted copy that the caller frees through *owned. Fails only on out of memory. */
pl_status pl__cpu_as_type(void *bctx, const pl__tview *t, pl_dtype ct, const void **data,
                          void **owned);

/* A buffer of n elements of type ct for a kernel's result: out->data when out already has type
 * ct (*owned = NULL), else malloc'ed scratch to convert into out with pl__cpu_finish_output. */
pl_status pl__cpu_out_buffer(const pl__tview *out, pl_dtype ct, void **data, void **owned);
/* Converts a pl__cpu_out_buffer scratch (if any) into out and frees it. */
void pl__cpu_finish_output(void *bctx, pl__tview *out, pl_dtype ct, void *owned);

/* Truncating, saturating conversion of a double to integer type t (NaN -> 0). */
int64_t pl__cpu_f2i(double v, pl_dtype t);

/* "node 'x' (Op): dtype T not supported" with PL_ERR_UNSUPPORTED. */
pl_status pl__cpu_dtype_fail(const pl__kernel_args *a, pl_dtype t);

/* ---- vectorisable building blocks ----
 * GCC does not if-convert `c ? a*x : x` (an arm that "could trap" under the default
 * -ftrapping-math), nor loops calling expf/fminf, so such loops stay scalar. PL__SEL selects
 * through a bit mask instead of a branch, and pl__cpu_expf is a polynomial with no branches;
 * loops built from them vectorise. */
#define PL__DEF_SEL(NAME, T, U)                                                                    \
    static inline T NAME(int c, T a, T b) {                                                        \
        U ua, ub, m = (U)0 - (U)(c != 0);                                                          \
        memcpy(&ua, &a, sizeof(a));                                                                \
        memcpy(&ub, &b, sizeof(b));                                                                \
        ua = (ua & m) | (ub & ~m);                                                                 \
        memcpy(&a, &ua, sizeof(a));                                                                \
        return a;                                                                                  \
    }
PL__DEF_SEL(pl__self, float, uint32_t)
PL__DEF_SEL(pl__seld, double, uint64_t)
/* c ? a : b without a branch; a and b of one floating type. */
#define PL__SEL(c, a, b) _Generic((b), float: pl__self, default: pl__seld)((c), (a), (b))

/* e^x in float32 to within 2 ulp (1e-7 relative): x = n ln2 + r, |r| <= ln2/2, a degree-7
 * polynomial for e^r, and 2^n built in two halves so that n = 128 does not overflow the
 * exponent field. Results below FLT_MIN flush to 0 for x < -87.33; +-inf and NaN as expf. */
static inline float pl__cpu_expf(float x) {
    float t = x * 1.44269504088896341f + 12582912.f, n = t - 12582912.f, s1, s2;
    float r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f, p = 1.f / 5040;
    int32_t ni, h, b1, b2;
    memcpy(&ni, &t, 4); /* t = 1.5 * 2^23 + n: n sits in the low mantissa bits */
    ni -= 0x4B400000;
    ni = ni < -126 ? -126 : ni > 128 ? 128 : ni;
    h = ni / 2;
    b1 = (h + 127) * (1 << 23);
    b2 = (ni - h + 127) * (1 << 23);
    p = p * r + 1.f / 720;
    p = p * r + 1.f / 120;
    p = p * r + 1.f / 24;
    p = p * r + 1.f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.f;
    p = p * r + 1.f;
    memcpy(&s1, &b1, 4);
    memcpy(&s2, &b2, 4);
    p = p * s1 * s2;
    p = pl__self(x < -87.33f, 0.f, p);
    p = pl__self(x > 88.7228394f, (float)INFINITY, p);
    return pl__self(x != x, x, p);
}

/* tanh in float32 to within ~2e-7 relative: an odd Taylor polynomial below |x| = 0.3 (where
 * 1 - e^-2|x| would cancel), (1 - e) / (1 + e) with e = e^-2|x| above. */
static inline float pl__cpu_tanhf(float x) {
    float a = x < 0 ? -x : x, x2 = x * x, e = pl__cpu_expf(-2.f * a), big, small;
    small = -1382.f / 155925;
    small = small * x2 + 62.f / 2835;
    small = small * x2 - 17.f / 315;
    small = small * x2 + 2.f / 15;
    small = small * x2 - 1.f / 3;
    small = x + x * x2 * small;
    big = (1.f - e) / (1.f + e);
    big = pl__self(x < 0, -big, big);
    return pl__self(a < 0.3f, small, big);
}

#endif
