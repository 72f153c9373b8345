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

/* The library is compiled for baseline x86-64 (SSE2). Compute-bound float loops (exp, tanh, erf,
 * softmax, f16 conversion) are therefore built three times, for AVX-512 (Skylake-SP and later),
 * AVX2 and the baseline, and the dynamic loader picks one by CPU (GCC function multiversioning);
 * that is 2-5x over SSE2 for the exp-based ops. The helpers below are always_inline: out of line
 * they would be baseline code called from the wide clones. These functions allow FMA
 * contraction (-std=c11 turns it off), which the AVX-512 version uses (1.8x on exp): results
 * may then differ in the last bit from the other versions, always within the stated bounds. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) &&       \
    !defined(PL_NO_CLONES)
#define PL__CPU_CLONES                                                                             \
    __attribute__((target_clones("arch=skylake-avx512", "avx2", "default"),                        \
                   optimize("fp-contract=fast")))
#else
#define PL__CPU_CLONES
#endif

#if defined(__GNUC__)
#define PL__INLINE static inline __attribute__((always_inline))
#else
#define PL__INLINE static inline
#endif

/* ---- vectorisable building blocks ----
 * GCC does not if-convert `c ? a*x : x` (an arm that "could trap" under the default
 * -ftrapping-math), nor loops calling expf/fminf, so such loops stay scalar. PL__SEL selects
 * through a bit mask instead of a branch, and pl__cpu_expf is a polynomial with no branches;
 * loops built from them vectorise. */
#define PL__DEF_SEL(NAME, T, U)                                                                    \
    PL__INLINE T NAME(int c, T a, T b) {                                                           \
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

/* e^(hi + lo) in float32 to within 2 ulp (1e-7 relative): hi + lo = n ln2 + r, |r| <= ln2/2, a
 * degree-7 polynomial for e^r, and 2^n built in two halves so that n = 128 does not overflow the
 * exponent field. hi may be large but must be exact (lo carries the rest): the reduction
 * hi - n*ln2_hi is exact, so e^-x^2 keeps full precision (erfc). Results below FLT_MIN flush to 0
 * (sum < -87.33); +-inf and NaN behave as in expf. */
PL__INLINE float pl__cpu_exp2f(float hi, float lo) {
    float x = hi + lo, t = x * 1.44269504088896341f + 12582912.f, n = t - 12582912.f, s1, s2;
    float r = (hi - n * 0.693145751953125f) - n * 1.428606765330187e-06f + lo, p = 1.f / 5040;
    int32_t ni, h, b1, b2;
    memcpy(&ni, &t, 4); /* t = 1.5 * 2^23 + n: n sits in the low mantissa bits */
    ni -= 0x4B400000;
    ni = ni < -126 ? -126 : ni > 128 ? 128 : ni;
    h = ni >> 1; /* floor(ni / 2); both halves stay within [-63, 64] */
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

PL__INLINE float pl__cpu_expf(float x) { return pl__cpu_exp2f(x, 0.f); }

/* erfc(a) for a >= 0 (or NaN) to within 6e-7 relative: t * e^(-a^2 + Q(t)), t = 1 / (1 + a/2),
 * with Q a degree-10 polynomial least-squares fitted (for plinth, in Chebyshev form on
 * a in [0, 10]) to log(erfc(a) / t) + a^2. a^2 is split as ah^2 (exact: ah keeps 12 bits) plus
 * a small rest, so that e^-a^2 stays accurate for large a. */
PL__INLINE float pl__cpu_erfcf_pos(float a) {
    float t = 1.f / (1.f + 0.5f * a), q = -0.1321883648633957f, ah, al, r;
    uint32_t bits;
    q = q * t + 0.9184747338294983f;
    q = q * t - 2.660184621810913f;
    q = q * t + 4.065587043762207f;
    q = q * t - 3.407514810562134f;
    q = q * t + 1.589504361152649f;
    q = q * t - 0.6848011016845703f;
    q = q * t + 0.21975183486938477f;
    q = q * t + 0.35531431436538696f;
    q = q * t + 1.0016273260116577f;
    q = q * t - 1.2655706405639648f;
    memcpy(&bits, &a, 4);
    bits &= 0xFFFFF000u;
    memcpy(&ah, &bits, 4);
    al = a - ah;
    r = t * pl__cpu_exp2f(-(ah * ah), q - (2.f * ah + al) * al);
    return pl__self(a > 10.f, 0.f, r); /* erfc(10) < 2^-149; also catches a = inf */
}

/* erf: an odd Taylor polynomial below |x| = 0.5 (where 1 - erfc would cancel), 1 - erfc above. */
PL__INLINE float pl__cpu_erff(float x) {
    float a = x < 0 ? -x : x, x2 = x * x, small = 1.f / 9360, big;
    small = small * x2 - 1.f / 1320;
    small = small * x2 + 1.f / 216;
    small = small * x2 - 1.f / 42;
    small = small * x2 + 1.f / 10;
    small = small * x2 - 1.f / 3;
    small = 1.12837916709551257f * (x + x * x2 * small);
    big = 1.f - pl__cpu_erfcf_pos(a);
    big = pl__self(x < 0, -big, big);
    return pl__self(a < 0.5f, small, big);
}

/* Gelu (exact form): x/2 * (1 + erf(x/sqrt2)) = x/2 * erfc(-x/sqrt2), which keeps its relative
 * precision for negative x where 1 + erf cancels. */
PL__INLINE float pl__cpu_geluf(float x) {
    float e = pl__cpu_erfcf_pos((x < 0 ? -x : x) * 0.70710678118654752f);
    return 0.5f * x * pl__self(x > 0, 2.f - e, e);
}

/* float32 -> float16 bits, round to nearest even, without branches. Normal results: rebias the
 * exponent and round the 13 dropped bits (a carry into the exponent is the right rounding, up to
 * inf). Below 2^-14: adding 0.5f makes the FPU round |f| to a multiple of 2^-24, the float16
 * subnormal unit, which then sits in the low mantissa bits. */
PL__INLINE uint16_t pl__cpu_f2h(float f) {
    uint32_t x, ax, norm, sub, h;
    float fa, t;
    memcpy(&x, &f, 4);
    ax = x & 0x7fffffffu;
    norm = (ax - ((127u - 15u) << 23) + 0xfffu + ((ax >> 13) & 1u)) >> 13;
    memcpy(&fa, &ax, 4);
    t = fa + 0.5f;
    memcpy(&sub, &t, 4);
    sub -= 0x3f000000u;
    h = ax < 0x38800000u ? sub : norm;
    h = ax >= 0x47800000u ? 0x7c00u : h; /* overflow: inf */
    h = ax > 0x7f800000u ? 0x7e00u : h;  /* NaN: quiet NaN */
    return (uint16_t)(h | ((x >> 16) & 0x8000u));
}

/* float16 bits -> float32: rebias the exponent; inf/NaN get exponent 255; zeros and subnormals
 * are (mantissa * 2^-24), exact in float. */
PL__INLINE float pl__cpu_h2f(uint16_t h) {
    uint32_t em = h & 0x7fffu, e = em & 0x7c00u, o = (em << 13) + ((127u - 15u) << 23);
    float f, sub = (float)(int32_t)em * 5.9604644775390625e-08f;
    o = e == 0x7c00u ? o + ((128u - 16u) << 23) : o;
    memcpy(&f, &o, 4);
    f = pl__self(e == 0, sub, f);
    memcpy(&o, &f, 4);
    o |= (uint32_t)(h & 0x8000u) << 16;
    memcpy(&f, &o, 4);
    return f;
}

/* float32 -> bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
PL__INLINE uint16_t pl__cpu_f2bf(float f) {
    uint32_t x, r;
    memcpy(&x, &f, 4);
    r = (x + 0x7fffu + ((x >> 16) & 1u)) >> 16;
    return (uint16_t)((x & 0x7fffffffu) > 0x7f800000u ? (x >> 16) | 0x40u : r);
}

PL__INLINE float pl__cpu_bf2f(uint16_t h) {
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* tanh in float32 to within ~2e-7 relative: an odd Taylor polynomial below |x| = 0.3 (where
 * 1 - e^-2|x| would cancel), (1 - e) / (1 + e) with e = e^-2|x| above. */
PL__INLINE float pl__cpu_tanhf(float x) {
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
