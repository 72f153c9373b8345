/*
 * util.c - dtypes, tensor views, fp16/bf16 conversion and string helpers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

size_t pl_dtype_size(pl_dtype t) {
    switch (t) {
    case PL_FLOAT32: case PL_INT32: return 4;
    case PL_UINT8: case PL_INT8: case PL_BOOL: return 1;
    case PL_INT64: case PL_FLOAT64: return 8;
    case PL_FLOAT16: case PL_BFLOAT16: return 2;
    default: return 0;
    }
}

const char *pl_dtype_name(pl_dtype t) {
    switch (t) {
    case PL_FLOAT32: return "float32";
    case PL_UINT8: return "uint8";
    case PL_INT8: return "int8";
    case PL_INT32: return "int32";
    case PL_INT64: return "int64";
    case PL_BOOL: return "bool";
    case PL_FLOAT16: return "float16";
    case PL_FLOAT64: return "float64";
    case PL_BFLOAT16: return "bfloat16";
    default: return "invalid";
    }
}

char *pl__strdup(const char *s) {
    size_t n;
    char *r;
    if (!s)
        return NULL;
    n = strlen(s) + 1;
    r = malloc(n);
    if (r)
        memcpy(r, s, n);
    return r;
}

char *pl__sprintf(const char *fmt, ...) {
    va_list ap;
    int n;
    char *r;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    r = malloc((size_t)n + 1);
    if (!r)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(r, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return r;
}

bool pl__grow(void **p, int *cap, int need, size_t esize) {
    int ncap;
    void *np;
    if (need <= *cap)
        return true;
    ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > (1 << 29))
            return false;
        ncap *= 2;
    }
    np = realloc(*p, (size_t)ncap * esize);
    if (!np)
        return false;
    *p = np;
    *cap = ncap;
    return true;
}

int64_t pl__numel(int rank, const int64_t *dims) {
    int64_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= dims[i];
    return n;
}

size_t pl__tview_bytes(const pl__tview *t) {
    return (size_t)pl__tview_numel(t) * pl_dtype_size(t->dtype);
}

char *pl__dims_str(int rank, const int64_t *dims, char *buf, size_t size) {
    size_t at = 0;
    if (size == 0)
        return buf;
    buf[0] = '\0';
    at += (size_t)snprintf(buf + at, size - at, "[");
    for (int i = 0; i < rank && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, i ? ",%lld" : "%lld", (long long)dims[i]);
    if (at < size)
        snprintf(buf + at, size - at, "]");
    return buf;
}

void pl__broadcast_geometry(const pl__tview *y, const pl__tview *const *in, int nops, int *rank,
                            int64_t dims[PL_MAX_RANK], int64_t st[3][PL_MAX_RANK]) {
    int64_t full[3][PL_MAX_RANK];
    int r = y->rank, m = 0;
    for (int k = 0; k < nops; k++) {
        int64_t acc = 1;
        for (int i = r - 1; i >= 0; i--) {
            int ii = i - (r - in[k]->rank);
            int64_t d = ii >= 0 ? in[k]->dims[ii] : 1;
            full[k][i] = d == 1 ? 0 : acc;
            acc *= d;
        }
    }
    for (int i = 0; i < r; i++) {
        bool merge = m > 0;
        if (y->dims[i] == 1)
            continue;
        for (int k = 0; k < nops && merge; k++)
            merge = st[k][m - 1] == full[k][i] * y->dims[i];
        if (merge) {
            dims[m - 1] *= y->dims[i];
            for (int k = 0; k < nops; k++)
                st[k][m - 1] = full[k][i];
        } else {
            dims[m] = y->dims[i];
            for (int k = 0; k < nops; k++)
                st[k][m] = full[k][i];
            m++;
        }
    }
    if (m == 0) {
        dims[0] = 1;
        for (int k = 0; k < nops; k++)
            st[k][0] = 0;
        m = 1;
    }
    *rank = m;
}

float pl__half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    float f;
    if (exp == 0) {
        f = ldexpf((float)mant, -24);
        return sign ? -f : f;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | (mant << 13);
    else
        bits = sign | ((exp + 112) << 23) | (mant << 13);
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t pl__float_to_half(float f) {
    uint32_t x, sign, mant;
    int32_t exp;
    memcpy(&x, &f, 4);
    sign = (x >> 16) & 0x8000;
    exp = (int32_t)((x >> 23) & 0xff);
    mant = x & 0x7fffff;
    if (exp == 255)
        return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    exp = exp - 127 + 15;
    if (exp >= 31)
        return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        uint32_t shift, m, r, half;
        if (exp < -10)
            return (uint16_t)sign;
        m = mant | 0x800000;
        shift = (uint32_t)(14 - exp);
        r = m >> shift;
        half = 1u << (shift - 1);
        if ((m & ((half << 1) - 1)) > half || ((m & ((half << 1) - 1)) == half && (r & 1)))
            r++;
        return (uint16_t)(sign | r);
    }
    {
        uint32_t r = ((uint32_t)exp << 10) | (mant >> 13);
        uint32_t rem = mant & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (r & 1)))
            r++; /* may carry into the exponent, which is the correct rounding */
        return (uint16_t)(sign | r);
    }
}

float pl__bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t pl__float_to_bf16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffff) > 0x7f800000)
        return (uint16_t)((x >> 16) | 0x40);
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

double pl__get_f64(const void *data, pl_dtype t, int64_t i) {
    switch (t) {
    case PL_FLOAT32: return ((const float *)data)[i];
    case PL_FLOAT64: return ((const double *)data)[i];
    case PL_FLOAT16: return pl__half_to_float(((const uint16_t *)data)[i]);
    case PL_BFLOAT16: return pl__bf16_to_float(((const uint16_t *)data)[i]);
    case PL_INT32: return ((const int32_t *)data)[i];
    case PL_INT64: return (double)((const int64_t *)data)[i];
    case PL_INT8: return ((const int8_t *)data)[i];
    case PL_UINT8: case PL_BOOL: return ((const uint8_t *)data)[i];
    default: return 0;
    }
}

int64_t pl__get_i64(const void *data, pl_dtype t, int64_t i) {
    switch (t) {
    case PL_INT64: return ((const int64_t *)data)[i];
    case PL_INT32: return ((const int32_t *)data)[i];
    case PL_INT8: return ((const int8_t *)data)[i];
    case PL_UINT8: case PL_BOOL: return ((const uint8_t *)data)[i];
    default: {
        double v = pl__get_f64(data, t, i);
        if (!(v == v) || v > 9.2e18 || v < -9.2e18)
            return 0;
        return (int64_t)v;
    }
    }
}

void pl__set_f64(void *data, pl_dtype t, int64_t i, double v) {
    switch (t) {
    case PL_FLOAT32: ((float *)data)[i] = (float)v; break;
    case PL_FLOAT64: ((double *)data)[i] = v; break;
    case PL_FLOAT16: ((uint16_t *)data)[i] = pl__float_to_half((float)v); break;
    case PL_BFLOAT16: ((uint16_t *)data)[i] = pl__float_to_bf16((float)v); break;
    case PL_INT32: ((int32_t *)data)[i] = (int32_t)v; break;
    case PL_INT64: ((int64_t *)data)[i] = (int64_t)v; break;
    case PL_INT8: ((int8_t *)data)[i] = (int8_t)v; break;
    case PL_UINT8: ((uint8_t *)data)[i] = (uint8_t)v; break;
    case PL_BOOL: ((uint8_t *)data)[i] = v != 0; break;
    default: break;
    }
}

void pl__matmul_geometry(const pl__tview *A, const pl__tview *B, pl__matmul_geom *g) {
    int64_t da[PL_MAX_RANK], db[PL_MAX_RANK], acc_a, acc_b;
    int ra = A->rank, rb = B->rank;
    memcpy(da, A->dims, sizeof(int64_t) * (size_t)ra);
    memcpy(db, B->dims, sizeof(int64_t) * (size_t)rb);
    if (ra == 1) {
        da[1] = da[0];
        da[0] = 1;
        ra = 2;
    }
    if (rb == 1) {
        db[1] = 1;
        rb = 2;
    }
    g->m = da[ra - 2];
    g->k = da[ra - 1];
    g->n = db[rb - 1];
    g->rank = (ra > rb ? ra : rb) - 2;
    g->nb = g->anb = g->bnb = 1;
    g->a_full = g->b_full = true;
    acc_a = g->m * g->k;
    acc_b = g->k * g->n;
    for (int i = g->rank - 1; i >= 0; i--) {
        int ia = i - (g->rank - (ra - 2)), ib = i - (g->rank - (rb - 2));
        int64_t x = ia >= 0 ? da[ia] : 1, z = ib >= 0 ? db[ib] : 1;
        g->dims[i] = x == 1 ? z : x;
        g->sa[i] = x == 1 ? 0 : acc_a;
        g->sb[i] = z == 1 ? 0 : acc_b;
        acc_a *= x;
        acc_b *= z;
        g->nb *= g->dims[i];
        g->anb *= x;
        g->bnb *= z;
        g->a_full = g->a_full && x == g->dims[i];
        g->b_full = g->b_full && z == g->dims[i];
    }
}
