/*
 * cpu-elementwise.c - CPU kernels for unary, binary (broadcasting), variadic, comparison,
 * logical, Where, Cast/CastLike and Clip ops; the dtype conversion services of
 * cpu-ew-helpers.h; and the fused-activation helper used by Conv/Gemm kernels.
 *
 * Every op is computed in one of three compute types (float32, float64, int64; bool for the
 * logical ops), see cpu-ew-helpers.h. Broadcasting goes through one strided iterator: the output
 * shape is collapsed (size-1 dims dropped, dims merged where every operand stays linear) so that
 * the innermost run is as long as possible, and each run is handed to a loop specialised for
 * inner strides (1,1), (0,1) and (1,0), which the compiler vectorises. Runs are spread over the
 * context's threads with pl__cpu_parallel_for. <tgmath.h> lets one macro body serve float and
 * double.
 */
#include <stdlib.h>
#include <string.h>
#include <tgmath.h>

#include "backends/cpu/cpu-ew-helpers.h"

static int64_t pl__min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- conversion ---------------------------------------------------------------------------- */

pl_dtype pl__cpu_compute_type(pl_dtype t) {
    switch (t) {
    case PL_FLOAT32: case PL_FLOAT16: case PL_BFLOAT16: return PL_FLOAT32;
    case PL_FLOAT64: return PL_FLOAT64;
    default: return PL_INT64;
    }
}

static bool pl__is_flt(pl_dtype t) {
    return t == PL_FLOAT32 || t == PL_FLOAT64 || t == PL_FLOAT16 || t == PL_BFLOAT16;
}

int64_t pl__cpu_f2i(double v, pl_dtype t) {
    double lo, hi;
    if (v != v)
        return 0;
    switch (t) {
    case PL_BOOL: return v != 0;
    case PL_INT8: lo = INT8_MIN, hi = INT8_MAX; break;
    case PL_UINT8: lo = 0, hi = UINT8_MAX; break;
    case PL_INT32: lo = INT32_MIN, hi = INT32_MAX; break;
    default: /* int64: 2^63 is the first double out of range */
        if (v >= 9223372036854775808.0)
            return INT64_MAX;
        if (v < -9223372036854775808.0)
            return INT64_MIN;
        return (int64_t)v;
    }
    return v >= hi ? (int64_t)hi : v <= lo ? (int64_t)lo : (int64_t)v;
}

/* Integer-valued source: wraps into narrower integers (like a C cast), exact into int64. */
static void pl__store_i(void *d, pl_dtype t, int64_t i, int64_t v) {
    switch (t) {
    case PL_FLOAT32: ((float *)d)[i] = (float)v; break;
    case PL_FLOAT64: ((double *)d)[i] = (double)v; break;
    case PL_FLOAT16: ((uint16_t *)d)[i] = pl__float_to_half((float)v); break;
    case PL_BFLOAT16: ((uint16_t *)d)[i] = pl__float_to_bf16((float)v); break;
    case PL_INT64: ((int64_t *)d)[i] = v; break;
    case PL_INT32: ((int32_t *)d)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
    case PL_INT8: ((int8_t *)d)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
    case PL_UINT8: ((uint8_t *)d)[i] = (uint8_t)(uint64_t)v; break;
    case PL_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    default: break;
    }
}

/* Floating source: integers truncate and saturate. */
static void pl__store_f(void *d, pl_dtype t, int64_t i, double v) {
    switch (t) {
    case PL_FLOAT32: ((float *)d)[i] = (float)v; break;
    case PL_FLOAT64: ((double *)d)[i] = v; break;
    case PL_FLOAT16: ((uint16_t *)d)[i] = pl__float_to_half((float)v); break;
    case PL_BFLOAT16: ((uint16_t *)d)[i] = pl__float_to_bf16((float)v); break;
    case PL_BOOL: ((uint8_t *)d)[i] = v != 0; break;
    default: pl__store_i(d, t, i, pl__cpu_f2i(v, t)); break;
    }
}

typedef struct pl__conv_job {
    void *dst;
    const void *src;
    pl_dtype dt, st;
} pl__conv_job;

#define PL__CONV(ST, STT, DT, DTT, EXPR)                                                           \
    if (j->st == (ST) && j->dt == (DT)) {                                                          \
        const STT *s_ = j->src;                                                                    \
        DTT *d_ = j->dst;                                                                          \
        for (int64_t i = b; i < e; i++) {                                                          \
            STT x = s_[i];                                                                         \
            d_[i] = (EXPR);                                                                        \
        }                                                                                          \
        return;                                                                                    \
    }

PL__CPU_CLONES static void pl__conv_range(void *arg, int64_t b, int64_t e) {
    const pl__conv_job *j = arg;
    size_t ds = pl_dtype_size(j->dt), ss = pl_dtype_size(j->st);
    if (j->dt == j->st) {
        if (j->dst != j->src)
            memcpy((char *)j->dst + b * ds, (const char *)j->src + b * ss, (size_t)(e - b) * ds);
        return;
    }
    /* the common pairs get loops the compiler can vectorise */
    PL__CONV(PL_FLOAT16, uint16_t, PL_FLOAT32, float, pl__cpu_h2f(x))
    PL__CONV(PL_FLOAT32, float, PL_FLOAT16, uint16_t, pl__cpu_f2h(x))
    PL__CONV(PL_BFLOAT16, uint16_t, PL_FLOAT32, float, pl__cpu_bf2f(x))
    PL__CONV(PL_FLOAT32, float, PL_BFLOAT16, uint16_t, pl__cpu_f2bf(x))
    PL__CONV(PL_FLOAT32, float, PL_FLOAT64, double, (double)x)
    PL__CONV(PL_FLOAT64, double, PL_FLOAT32, float, (float)x)
    PL__CONV(PL_INT32, int32_t, PL_INT64, int64_t, (int64_t)x)
    PL__CONV(PL_INT64, int64_t, PL_INT32, int32_t, (int32_t)(uint32_t)(uint64_t)x)
    PL__CONV(PL_INT64, int64_t, PL_FLOAT32, float, (float)x)
    PL__CONV(PL_INT32, int32_t, PL_FLOAT32, float, (float)x)
    PL__CONV(PL_UINT8, uint8_t, PL_FLOAT32, float, (float)x)
    PL__CONV(PL_BOOL, uint8_t, PL_INT64, int64_t, x != 0)
    PL__CONV(PL_UINT8, uint8_t, PL_INT64, int64_t, (int64_t)x)
    PL__CONV(PL_INT8, int8_t, PL_INT64, int64_t, (int64_t)x)
    PL__CONV(PL_INT64, int64_t, PL_BOOL, uint8_t, x != 0)
    if (pl__is_flt(j->st)) {
        for (int64_t i = b; i < e; i++)
            pl__store_f(j->dst, j->dt, i, pl__get_f64(j->src, j->st, i));
    } else {
        for (int64_t i = b; i < e; i++) {
            int64_t v = pl__get_i64(j->src, j->st, i);
            pl__store_i(j->dst, j->dt, i, j->st == PL_BOOL ? v != 0 : v);
        }
    }
}

void pl__cpu_convert(void *bctx, void *dst, pl_dtype dt, const void *src, pl_dtype st, int64_t n) {
    pl__conv_job j = {dst, src, dt, st};
    if (dt == st && dst == src)
        return;
    pl__cpu_parallel_for(bctx, n, 1 << 16, pl__conv_range, &j);
}

static pl_status pl__alloc_elems(int64_t n, pl_dtype t, void **p) {
    size_t bytes;
    if (n < 0 || !pl__mul_size((size_t)n, pl_dtype_size(t), &bytes))
        return pl__fail(PL_ERR_NOMEM, "scratch of %lld elements overflows", (long long)n);
    *p = malloc(bytes ? bytes : 1);
    return *p ? PL_OK : pl__fail(PL_ERR_NOMEM, "out of memory (%zu bytes of scratch)", bytes);
}

pl_status pl__cpu_as_type(void *bctx, const pl__tview *t, pl_dtype ct, const void **data,
                          void **owned) {
    int64_t n = pl__tview_numel(t);
    pl_status s;
    *owned = NULL;
    *data = t->data;
    if (t->dtype == ct)
        return PL_OK;
    if ((s = pl__alloc_elems(n, ct, owned)))
        return s;
    pl__cpu_convert(bctx, *owned, ct, t->data, t->dtype, n);
    *data = *owned;
    return PL_OK;
}

pl_status pl__cpu_out_buffer(const pl__tview *out, pl_dtype ct, void **data, void **owned) {
    pl_status s;
    *owned = NULL;
    *data = out->data;
    if (out->dtype == ct)
        return PL_OK;
    if ((s = pl__alloc_elems(pl__tview_numel(out), ct, owned)))
        return s;
    *data = *owned;
    return PL_OK;
}

void pl__cpu_finish_output(void *bctx, pl__tview *out, pl_dtype ct, void *owned) {
    if (!owned)
        return;
    pl__cpu_convert(bctx, out->data, out->dtype, owned, ct, pl__tview_numel(out));
    free(owned);
}

pl_status pl__cpu_dtype_fail(const pl__kernel_args *a, pl_dtype t) {
    return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): dtype %s not supported",
                    pl__layer_label(a->layer), a->layer->op, pl_dtype_name(t));
}

/* ---- broadcast iterator -------------------------------------------------------------------- */

typedef struct pl__bc {
    int rank, nops;
    int64_t dims[PL_MAX_RANK];
    int64_t st[3][PL_MAX_RANK]; /* element strides of each operand; 0 where it broadcasts */
    int64_t len, rows;          /* innermost run, number of runs */
} pl__bc;

static void pl__bc_init(pl__bc *bc, const pl__tview *y, const pl__tview *const *in, int nops) {
    int m;
    pl__broadcast_geometry(y, in, nops, &m, bc->dims, bc->st);
    bc->rank = m;
    bc->nops = nops;
    bc->len = bc->dims[m - 1];
    bc->rows = pl__tview_numel(y) / (bc->len ? bc->len : 1);
    if (bc->len == 0)
        bc->rows = 0;
}

/* row(job, yoff, off, len): one run of len output elements at yoff whose operands start at
 * off[k]; after(job, y0, y1) (optional): the output range [y0, y1) is complete. */
typedef void (*pl__bc_row_fn)(void *job, int64_t yoff, const int64_t *off, int64_t len);
typedef void (*pl__bc_after_fn)(void *job, int64_t y0, int64_t y1);

typedef struct pl__bc_run {
    const pl__bc *bc;
    pl__bc_row_fn row;
    pl__bc_after_fn after;
    void *job;
    int64_t seg, nseg; /* runs are cut into nseg segments of up to seg elements */
} pl__bc_run;

/* Work units are (run, segment) pairs, so that a few long runs (same-shape operands collapse to
 * a single run) still spread over all threads. */
static void pl__bc_range(void *arg, int64_t ub, int64_t ue) {
    const pl__bc_run *r = arg;
    const pl__bc *bc = r->bc;
    int64_t idx[PL_MAX_RANK], off[3] = {0, 0, 0}, row = ub / r->nseg, t = row;
    int outer = bc->rank - 1;
    for (int i = outer - 1; i >= 0; i--) {
        idx[i] = t % bc->dims[i];
        t /= bc->dims[i];
        for (int k = 0; k < bc->nops; k++)
            off[k] += idx[i] * bc->st[k][i];
    }
    for (int64_t u = ub; u < ue; u++) {
        int64_t s = u % r->nseg, start = s * r->seg, o[3];
        for (int k = 0; k < bc->nops; k++)
            o[k] = off[k] + start * bc->st[k][outer];
        r->row(r->job, row * bc->len + start, o, pl__min64(r->seg, bc->len - start));
        if (s + 1 < r->nseg)
            continue;
        row++;
        for (int i = outer - 1; i >= 0; i--) {
            for (int k = 0; k < bc->nops; k++)
                off[k] += bc->st[k][i];
            if (++idx[i] < bc->dims[i])
                break;
            for (int k = 0; k < bc->nops; k++)
                off[k] -= bc->st[k][i] * bc->dims[i];
            idx[i] = 0;
        }
    }
    if (r->after)
        r->after(r->job, ub / r->nseg * bc->len + ub % r->nseg * r->seg,
                 ue / r->nseg * bc->len + ue % r->nseg * r->seg);
}

static void pl__bc_exec(void *bctx, const pl__bc *bc, pl__bc_row_fn row, pl__bc_after_fn after,
                        void *job) {
    pl__bc_run r = {bc, row, after, job, bc->len > 0 ? bc->len : 1, 1};
    int64_t grain;
    if (r.seg > (1 << 13)) {
        r.nseg = (r.seg + (1 << 13) - 1) >> 13;
        r.seg = 1 << 13;
    }
    grain = (1 << 15) / r.seg;
    pl__cpu_parallel_for(bctx, bc->rows * r.nseg, grain > 0 ? grain : 1, pl__bc_range, &r);
}

/* ---- binary ops ---------------------------------------------------------------------------- */

enum {
    PL__ADD, PL__SUB, PL__MUL, PL__DIV, PL__POW, PL__MIN, PL__MAX, PL__MOD, PL__FMOD, PL__PRELU,
    /* ops below produce bool */
    PL__EQ, PL__LT, PL__GT, PL__LE, PL__GE, PL__AND, PL__OR, PL__XOR
};

typedef struct pl__bin_job {
    int op;
    pl_dtype ct;       /* compute type of the inputs (PL_BOOL for logical ops on bool) */
    const void *a, *b;
    void *y;
    int64_t sa, sb;    /* inner strides */
    const pl__layer *act; /* layer whose fused activation applies to the float32 result */
} pl__bin_job;

/* One run: x from a, z from b; the stride cases are split so that the common ones vectorise. */
#define PL__BIN_LOOP(T, TY, EXPR)                                                                  \
    do {                                                                                           \
        const T *pa_ = a, *pb_ = b;                                                                \
        TY *py_ = y;                                                                               \
        if (sa == 1 && sb == 1) {                                                                  \
            for (int64_t i = 0; i < len; i++) {                                                    \
                T x = pa_[i], z = pb_[i];                                                          \
                py_[i] = (EXPR);                                                                   \
            }                                                                                      \
        } else if (sa == 0 && sb == 1) {                                                           \
            T x = pa_[0];                                                                          \
            for (int64_t i = 0; i < len; i++) {                                                    \
                T z = pb_[i];                                                                      \
                py_[i] = (EXPR);                                                                   \
            }                                                                                      \
        } else if (sa == 1 && sb == 0) {                                                           \
            T z = pb_[0];                                                                          \
            for (int64_t i = 0; i < len; i++) {                                                    \
                T x = pa_[i];                                                                      \
                py_[i] = (EXPR);                                                                   \
            }                                                                                      \
        } else {                                                                                   \
            for (int64_t i = 0; i < len; i++) {                                                    \
                T x = pa_[i * sa], z = pb_[i * sb];                                                \
                py_[i] = (EXPR);                                                                   \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* Mod with the sign of the divisor (ONNX fmod=0; for floats a lenient extension). */
static double pl__pymod(double x, double z) {
    double r = fmod(x, z);
    return r != 0 && ((r < 0) != (z < 0)) ? r + z : r;
}

#define PL__DEF_BIN_FLT(NAME, T)                                                                   \
    PL__CPU_CLONES static void NAME(int op, void *y, const void *a, const void *b, int64_t sa,     \
                                    int64_t sb, int64_t len) {                                     \
        switch (op) {                                                                              \
        case PL__ADD: PL__BIN_LOOP(T, T, x + z); break;                                            \
        case PL__SUB: PL__BIN_LOOP(T, T, x - z); break;                                            \
        case PL__MUL: PL__BIN_LOOP(T, T, x * z); break;                                            \
        case PL__DIV: PL__BIN_LOOP(T, T, x / z); break;                                            \
        case PL__POW:                                                                              \
            if (sb == 0 && ((const T *)b)[0] == 2)                                                 \
                PL__BIN_LOOP(T, T, x * x * (z - 1)); /* z == 2 */                                  \
            else                                                                                   \
                PL__BIN_LOOP(T, T, pow(x, z));                                                     \
            break;                                                                                 \
        case PL__MIN: PL__BIN_LOOP(T, T, (x < z || x != x) ? x : z); break;                        \
        case PL__MAX: PL__BIN_LOOP(T, T, (x > z || x != x) ? x : z); break;                        \
        case PL__MOD: PL__BIN_LOOP(T, T, (T)pl__pymod(x, z)); break;                               \
        case PL__FMOD: PL__BIN_LOOP(T, T, fmod(x, z)); break;                                      \
        case PL__PRELU: PL__BIN_LOOP(T, T, PL__SEL(x < 0, x * z, x)); break;                       \
        case PL__EQ: PL__BIN_LOOP(T, uint8_t, x == z); break;                                      \
        case PL__LT: PL__BIN_LOOP(T, uint8_t, x < z); break;                                       \
        case PL__GT: PL__BIN_LOOP(T, uint8_t, x > z); break;                                       \
        case PL__LE: PL__BIN_LOOP(T, uint8_t, x <= z); break;                                      \
        case PL__GE: PL__BIN_LOOP(T, uint8_t, x >= z); break;                                      \
        default: break;                                                                            \
        }                                                                                          \
    }

PL__DEF_BIN_FLT(pl__bin_f32, float)
PL__DEF_BIN_FLT(pl__bin_f64, double)

/* Integer arithmetic wraps (through uint64) instead of being undefined; division and modulo by
 * zero give 0 rather than trapping, so bad data cannot crash the process. */
#define PL__WRAP(x, OP, z) ((int64_t)((uint64_t)(x)OP(uint64_t)(z)))

static int64_t pl__idiv(int64_t x, int64_t z) {
    return z == 0 ? 0 : z == -1 ? PL__WRAP(0, -, x) : x / z;
}

static int64_t pl__imod(int64_t x, int64_t z, bool c_fmod) {
    int64_t r;
    if (z == 0 || z == -1)
        return 0;
    r = x % z;
    return !c_fmod && r != 0 && ((r < 0) != (z < 0)) ? r + z : r;
}

static void pl__bin_i64(int op, void *y, const void *a, const void *b, int64_t sa, int64_t sb,
                        int64_t len) {
    switch (op) {
    case PL__ADD: PL__BIN_LOOP(int64_t, int64_t, PL__WRAP(x, +, z)); break;
    case PL__SUB: PL__BIN_LOOP(int64_t, int64_t, PL__WRAP(x, -, z)); break;
    case PL__MUL: PL__BIN_LOOP(int64_t, int64_t, PL__WRAP(x, *, z)); break;
    case PL__DIV: PL__BIN_LOOP(int64_t, int64_t, pl__idiv(x, z)); break;
    case PL__MIN: PL__BIN_LOOP(int64_t, int64_t, x < z ? x : z); break;
    case PL__MAX: PL__BIN_LOOP(int64_t, int64_t, x > z ? x : z); break;
    case PL__MOD: PL__BIN_LOOP(int64_t, int64_t, pl__imod(x, z, false)); break;
    case PL__FMOD: PL__BIN_LOOP(int64_t, int64_t, pl__imod(x, z, true)); break;
    case PL__PRELU: PL__BIN_LOOP(int64_t, int64_t, x < 0 ? PL__WRAP(x, *, z) : x); break;
    case PL__EQ: PL__BIN_LOOP(int64_t, uint8_t, x == z); break;
    case PL__LT: PL__BIN_LOOP(int64_t, uint8_t, x < z); break;
    case PL__GT: PL__BIN_LOOP(int64_t, uint8_t, x > z); break;
    case PL__LE: PL__BIN_LOOP(int64_t, uint8_t, x <= z); break;
    case PL__GE: PL__BIN_LOOP(int64_t, uint8_t, x >= z); break;
    default: break;
    }
}

static void pl__bin_bool(int op, void *y, const void *a, const void *b, int64_t sa, int64_t sb,
                         int64_t len) {
    switch (op) {
    case PL__AND: PL__BIN_LOOP(uint8_t, uint8_t, (x != 0) & (z != 0)); break;
    case PL__OR: PL__BIN_LOOP(uint8_t, uint8_t, (x != 0) | (z != 0)); break;
    case PL__XOR: PL__BIN_LOOP(uint8_t, uint8_t, (x != 0) ^ (z != 0)); break;
    case PL__EQ: PL__BIN_LOOP(uint8_t, uint8_t, (x != 0) == (z != 0)); break;
    default: break;
    }
}

static void pl__bin_row(void *job, int64_t yoff, const int64_t *off, int64_t len) {
    const pl__bin_job *j = job;
    int64_t es = j->ct == PL_BOOL ? 1 : j->ct == PL_FLOAT32 ? 4 : 8, ys = j->op >= PL__EQ ? 1 : es;
    const char *pa = (const char *)j->a + off[0] * es, *pb = (const char *)j->b + off[1] * es;
    char *py = (char *)j->y + yoff * ys;
    switch (j->ct) {
    case PL_FLOAT32: pl__bin_f32(j->op, py, pa, pb, j->sa, j->sb, len); break;
    case PL_FLOAT64: pl__bin_f64(j->op, py, pa, pb, j->sa, j->sb, len); break;
    case PL_INT64: pl__bin_i64(j->op, py, pa, pb, j->sa, j->sb, len); break;
    default: pl__bin_bool(j->op, py, pa, pb, j->sa, j->sb, len); break;
    }
}

static void pl__bin_after(void *job, int64_t y0, int64_t y1) {
    const pl__bin_job *j = job;
    pl__cpu_fused_activation(j->act, (float *)j->y + y0, y1 - y0);
}

/* y = op(a, b) with A, B broadcast to Y's shape; a, b, y hold data in the compute type. */
static void pl__bin_exec(void *bctx, int op, pl_dtype ct, const pl__tview *A, const void *a,
                         const pl__tview *B, const void *b, const pl__tview *Y, void *y,
                         const pl__layer *act) {
    const pl__tview *ins[2] = {A, B};
    pl__bc bc;
    pl__bin_job j;
    pl__bc_init(&bc, Y, ins, 2);
    j = (pl__bin_job){op, ct, a, b, y, bc.st[0][bc.rank - 1], bc.st[1][bc.rank - 1], act};
    pl__bc_exec(bctx, &bc, pl__bin_row,
                act && ct == PL_FLOAT32 && op < PL__EQ ? pl__bin_after : NULL, &j);
}

static const pl__layer *pl__fused_act(const pl__layer *l) {
    return pl__attr_string(&l->attrs, "activation", NULL) ? l : NULL;
}

static pl_status pl__cpu_binary(const pl__kernel_args *a, int op) {
    const pl__tview *A = &a->in[0], *B = &a->in[1];
    pl__tview *Y = &a->out[0];
    pl_dtype ct = A->dtype == PL_BOOL ? PL_BOOL : pl__cpu_compute_type(A->dtype);
    const void *pa, *pb;
    void *oa = NULL, *ob = NULL, *oy = NULL, *py;
    pl_status s;
    if (op == PL__MOD && pl__attr_int(&a->layer->attrs, "fmod", 0))
        op = PL__FMOD;
    if (op == PL__POW && ct == PL_INT64)
        ct = PL_FLOAT64; /* integer Pow through double, truncated back */
    if ((s = pl__cpu_as_type(a->bctx, A, ct, &pa, &oa)) ||
        (s = pl__cpu_as_type(a->bctx, B, ct, &pb, &ob)))
        goto done;
    if (op >= PL__EQ)
        py = Y->data;
    else if ((s = pl__cpu_out_buffer(Y, ct, &py, &oy)))
        goto done;
    pl__bin_exec(a->bctx, op, ct, A, pa, B, pb, Y, py, pl__fused_act(a->layer));
    pl__cpu_finish_output(a->bctx, Y, ct, oy);
    oy = NULL;
done:
    free(oa);
    free(ob);
    free(oy);
    return s;
}

/* Sum / Mean / Min / Max over 1..N broadcast inputs: folded pairwise into the output buffer
 * (after the first step the accumulator has the output's full shape, so later steps are safe in
 * place). */
static pl_status pl__cpu_variadic(const pl__kernel_args *a, int op, bool mean) {
    pl__tview *Y = &a->out[0];
    pl_dtype ct = pl__cpu_compute_type(a->in[0].dtype);
    const void *p0 = NULL, *pk = NULL;
    void *o0 = NULL, *ok = NULL, *oy = NULL, *py;
    pl_status s;
    if ((s = pl__cpu_out_buffer(Y, ct, &py, &oy)))
        return s;
    if (a->nin == 1) {
        pl__cpu_convert(a->bctx, py, ct, a->in[0].data, a->in[0].dtype, pl__tview_numel(Y));
    } else {
        if ((s = pl__cpu_as_type(a->bctx, &a->in[0], ct, &p0, &o0)))
            goto done;
        for (int k = 1; k < a->nin; k++) {
            if ((s = pl__cpu_as_type(a->bctx, &a->in[k], ct, &pk, &ok)))
                goto done;
            pl__bin_exec(a->bctx, op, ct, k == 1 ? &a->in[0] : Y, k == 1 ? p0 : py, &a->in[k], pk,
                         Y, py, NULL);
            free(ok);
            ok = NULL;
        }
    }
    if (mean) {
        pl__tview sc = {.dtype = ct, .rank = 0};
        float nf = (float)a->nin;
        double nd = a->nin;
        int64_t ni = a->nin;
        const void *pn = ct == PL_FLOAT32 ? (const void *)&nf : ct == PL_FLOAT64 ? (const void *)&nd
                                                                                : (const void *)&ni;
        pl__bin_exec(a->bctx, PL__DIV, ct, Y, py, &sc, pn, Y, py, NULL);
    }
    pl__cpu_finish_output(a->bctx, Y, ct, oy);
    oy = NULL;
done:
    free(o0);
    free(ok);
    free(oy);
    return s;
}

/* ---- Where --------------------------------------------------------------------------------- */

typedef struct pl__where_job {
    const uint8_t *c;
    const void *x, *z;
    void *y;
    size_t es;
    int64_t sc, sx, sz;
} pl__where_job;

#define PL__WHERE_LOOP(T)                                                                          \
    do {                                                                                           \
        const T *px = (const T *)j->x + off[1], *pz = (const T *)j->z + off[2];                    \
        T *py = (T *)j->y + yoff;                                                                  \
        if (j->sc == 1 && j->sx == 1 && j->sz == 1)                                                \
            for (int64_t i = 0; i < len; i++)                                                      \
                py[i] = (px[i] & (T)(0 - (T)(c[i] != 0))) | (pz[i] & (T)((T)(c[i] != 0) - 1));     \
        else                                                                                       \
            for (int64_t i = 0; i < len; i++)                                                      \
                py[i] = c[i * j->sc] ? px[i * j->sx] : pz[i * j->sz];                              \
    } while (0)

static void pl__where_row(void *job, int64_t yoff, const int64_t *off, int64_t len) {
    const pl__where_job *j = job;
    const uint8_t *c = j->c + off[0];
    switch (j->es) {
    case 1: PL__WHERE_LOOP(uint8_t); break;
    case 2: PL__WHERE_LOOP(uint16_t); break;
    case 4: PL__WHERE_LOOP(uint32_t); break;
    default: PL__WHERE_LOOP(uint64_t); break;
    }
}

static pl_status pl__cpu_where(const pl__kernel_args *a) {
    const pl__tview *ins[3] = {&a->in[0], &a->in[1], &a->in[2]};
    pl__bc bc;
    pl__where_job j;
    pl__bc_init(&bc, &a->out[0], ins, 3);
    j = (pl__where_job){a->in[0].data, a->in[1].data, a->in[2].data, a->out[0].data,
                        pl_dtype_size(a->out[0].dtype), bc.st[0][bc.rank - 1],
                        bc.st[1][bc.rank - 1], bc.st[2][bc.rank - 1]};
    pl__bc_exec(a->bctx, &bc, pl__where_row, NULL, &j);
    return PL_OK;
}

/* ---- unary ops ----------------------------------------------------------------------------- */

enum {
    PL__U_ABS, PL__U_NEG, PL__U_EXP, PL__U_LOG, PL__U_SQRT, PL__U_RECIP, PL__U_FLOOR, PL__U_CEIL,
    PL__U_ROUND, PL__U_SIN, PL__U_COS, PL__U_TAN, PL__U_ASIN, PL__U_ACOS, PL__U_ATAN, PL__U_SINH,
    PL__U_COSH, PL__U_ASINH, PL__U_ACOSH, PL__U_ATANH, PL__U_RELU, PL__U_LEAKY, PL__U_SIGMOID,
    PL__U_TANH, PL__U_HSIG, PL__U_HSWISH, PL__U_GELU, PL__U_GELU_TANH, PL__U_ERF, PL__U_SOFTPLUS,
    PL__U_SOFTSIGN, PL__U_ELU, PL__U_SELU, PL__U_CELU, PL__U_MISH, PL__U_THRELU, PL__U_SIGN,
    PL__U_CLIP, PL__U_NOT,
    /* ops below produce bool from floats */
    PL__U_ISNAN, PL__U_ISINF
};

typedef struct pl__un_job {
    int op;
    pl_dtype ct;
    const void *x;
    void *y;
    double alpha, beta;  /* op parameters (Clip: min, max; IsInf: detect_positive/negative) */
    int64_t ilo, ihi;    /* Clip bounds for integers */
} pl__un_job;

/* min(max(v, 0), 1) through branch-free selects (NaN stays NaN) */
PL__INLINE float pl__clamp01f(float v) {
    return pl__self(v > 1.f, 1.f, pl__self(v < 0.f, 0.f, v));
}
PL__INLINE double pl__clamp01d(double v) {
    return pl__seld(v > 1, 1., pl__seld(v < 0, 0., v));
}
#define PL__CLAMP01(v) _Generic((v), float: pl__clamp01f, default: pl__clamp01d)(v)

#define PL__UN_LOOP(TX, TY, EXPR)                                                                  \
    do {                                                                                           \
        const TX *px_ = j->x;                                                                      \
        TY *py_ = j->y;                                                                            \
        for (int64_t i = b; i < e; i++) {                                                          \
            TX x = px_[i];                                                                         \
            py_[i] = (EXPR);                                                                       \
        }                                                                                          \
    } while (0)

#define PL__DEF_UN_FLT(NAME, T, EXPF, TANH, ERF, GELU)                                             \
    PL__CPU_CLONES static void NAME(const pl__un_job *j, int64_t b, int64_t e) {                   \
        const T al = (T)j->alpha, be = (T)j->beta, zero = 0, one = 1, half = (T)0.5;               \
        switch (j->op) {                                                                           \
        case PL__U_ABS: PL__UN_LOOP(T, T, fabs(x)); break;                                         \
        case PL__U_NEG: PL__UN_LOOP(T, T, -x); break;                                              \
        case PL__U_EXP: PL__UN_LOOP(T, T, EXPF(x)); break;                                         \
        case PL__U_LOG: PL__UN_LOOP(T, T, log(x)); break;                                          \
        case PL__U_SQRT: PL__UN_LOOP(T, T, sqrt(x)); break;                                        \
        case PL__U_RECIP: PL__UN_LOOP(T, T, one / x); break;                                       \
        case PL__U_FLOOR: PL__UN_LOOP(T, T, floor(x)); break;                                      \
        case PL__U_CEIL: PL__UN_LOOP(T, T, ceil(x)); break;                                        \
        case PL__U_ROUND: PL__UN_LOOP(T, T, nearbyint(x)); break;                                  \
        case PL__U_SIN: PL__UN_LOOP(T, T, sin(x)); break;                                          \
        case PL__U_COS: PL__UN_LOOP(T, T, cos(x)); break;                                          \
        case PL__U_TAN: PL__UN_LOOP(T, T, tan(x)); break;                                          \
        case PL__U_ASIN: PL__UN_LOOP(T, T, asin(x)); break;                                        \
        case PL__U_ACOS: PL__UN_LOOP(T, T, acos(x)); break;                                        \
        case PL__U_ATAN: PL__UN_LOOP(T, T, atan(x)); break;                                        \
        case PL__U_SINH: PL__UN_LOOP(T, T, sinh(x)); break;                                        \
        case PL__U_COSH: PL__UN_LOOP(T, T, cosh(x)); break;                                        \
        case PL__U_ASINH: PL__UN_LOOP(T, T, asinh(x)); break;                                      \
        case PL__U_ACOSH: PL__UN_LOOP(T, T, acosh(x)); break;                                      \
        case PL__U_ATANH: PL__UN_LOOP(T, T, atanh(x)); break;                                      \
        case PL__U_RELU: PL__UN_LOOP(T, T, x < zero ? zero : x); break;                            \
        case PL__U_LEAKY: PL__UN_LOOP(T, T, PL__SEL(x < zero, al * x, x)); break;                  \
        case PL__U_SIGMOID: PL__UN_LOOP(T, T, one / (one + EXPF(-x))); break;                      \
        case PL__U_TANH: PL__UN_LOOP(T, T, TANH(x)); break;                                        \
        case PL__U_HSIG: PL__UN_LOOP(T, T, PL__CLAMP01(al * x + be)); break;                       \
        case PL__U_HSWISH:                                                                         \
            PL__UN_LOOP(T, T, x * PL__CLAMP01(x * (T)(1.0 / 6) + half));                           \
            break;                                                                                 \
        case PL__U_GELU: PL__UN_LOOP(T, T, GELU(x)); break;                                        \
        case PL__U_GELU_TANH:                                                                      \
            PL__UN_LOOP(T, T,                                                                      \
                        half * x *                                                                 \
                            (one + TANH((T)0.79788456080286535588 *                                \
                                        (x + (T)0.044715 * x * x * x))));                          \
            break;                                                                                 \
        case PL__U_ERF: PL__UN_LOOP(T, T, ERF(x)); break;                                          \
        case PL__U_SOFTPLUS:                                                                       \
            PL__UN_LOOP(T, T, x > zero ? x + log1p(exp(-x)) : log1p(exp(x)));                      \
            break;                                                                                 \
        case PL__U_SOFTSIGN: PL__UN_LOOP(T, T, x / (one + fabs(x))); break;                        \
        case PL__U_ELU: PL__UN_LOOP(T, T, x < zero ? al * expm1(x) : x); break;                    \
        case PL__U_SELU: PL__UN_LOOP(T, T, x <= zero ? be * al * expm1(x) : be * x); break;        \
        case PL__U_CELU:                                                                           \
            PL__UN_LOOP(T, T, fmax(zero, x) + fmin(zero, al * expm1(x / al)));                     \
            break;                                                                                 \
        case PL__U_MISH: PL__UN_LOOP(T, T, x * tanh(log1p(exp(x)))); break;                        \
        case PL__U_THRELU: PL__UN_LOOP(T, T, x > al ? x : zero); break;                            \
        case PL__U_SIGN: PL__UN_LOOP(T, T, x > zero ? one : x < zero ? -one : x); break;           \
        case PL__U_CLIP: PL__UN_LOOP(T, T, x < al ? al : x > be ? be : x); break;                  \
        case PL__U_ISNAN: PL__UN_LOOP(T, uint8_t, x != x); break;                                  \
        case PL__U_ISINF:                                                                          \
            PL__UN_LOOP(T, uint8_t,                                                                \
                        isinf(x) && ((x > zero && al != zero) || (x < zero && be != zero)));       \
            break;                                                                                 \
        default: break;                                                                            \
        }                                                                                          \
    }

/* float64 Gelu also through erfc, for its precision at negative x */
static double pl__gelud(double x) { return 0.5 * x * erfc(-x * 0.70710678118654752440); }

PL__DEF_UN_FLT(pl__un_f32, float, pl__cpu_expf, pl__cpu_tanhf, pl__cpu_erff, pl__cpu_geluf)
PL__DEF_UN_FLT(pl__un_f64, double, exp, tanh, erf, pl__gelud)

static void pl__un_i64(const pl__un_job *j, int64_t b, int64_t e) {
    const int64_t lo = j->ilo, hi = j->ihi;
    switch (j->op) {
    case PL__U_ABS: PL__UN_LOOP(int64_t, int64_t, x < 0 ? PL__WRAP(0, -, x) : x); break;
    case PL__U_NEG: PL__UN_LOOP(int64_t, int64_t, PL__WRAP(0, -, x)); break;
    case PL__U_SIGN: PL__UN_LOOP(int64_t, int64_t, (x > 0) - (x < 0)); break;
    case PL__U_RELU: PL__UN_LOOP(int64_t, int64_t, x < 0 ? 0 : x); break;
    case PL__U_CLIP: PL__UN_LOOP(int64_t, int64_t, x < lo ? lo : x > hi ? hi : x); break;
    default: break;
    }
}

static void pl__un_range(void *arg, int64_t b, int64_t e) {
    const pl__un_job *j = arg;
    switch (j->ct) {
    case PL_FLOAT32: pl__un_f32(j, b, e); break;
    case PL_FLOAT64: pl__un_f64(j, b, e); break;
    case PL_INT64: pl__un_i64(j, b, e); break;
    default: PL__UN_LOOP(uint8_t, uint8_t, !x); break; /* Not */
    }
}

static pl_status pl__cpu_unary_run(const pl__kernel_args *a, pl__un_job *j) {
    const pl__tview *X = &a->in[0];
    pl__tview *Y = &a->out[0];
    void *ox = NULL, *oy = NULL, *py;
    pl_status s;
    j->ct = X->dtype == PL_BOOL ? PL_BOOL : pl__cpu_compute_type(X->dtype);
    if ((j->ct == PL_INT64 && j->op != PL__U_ABS && j->op != PL__U_NEG && j->op != PL__U_RELU &&
         j->op != PL__U_SIGN && j->op != PL__U_CLIP) ||
        (j->ct == PL_BOOL) != (j->op == PL__U_NOT))
        return pl__cpu_dtype_fail(a, X->dtype);
    if ((s = pl__cpu_as_type(a->bctx, X, j->ct, &j->x, &ox)))
        return s;
    if (j->op >= PL__U_ISNAN || j->ct == PL_BOOL)
        py = Y->data;
    else if ((s = pl__cpu_out_buffer(Y, j->ct, &py, &oy)))
        goto done;
    j->y = py;
    pl__cpu_parallel_for(a->bctx, pl__tview_numel(X), 1 << 14, pl__un_range, j);
    pl__cpu_finish_output(a->bctx, Y, j->ct, oy);
    oy = NULL;
done:
    free(ox);
    free(oy);
    return s;
}

static pl_status pl__cpu_unary(const pl__kernel_args *a, int op, const char *an, double ad,
                               const char *bn, double bd) {
    const pl__attrs *at = &a->layer->attrs;
    pl__un_job j = {.op = op};
    j.alpha = an ? pl__attr_float(at, an, ad) : ad;
    j.beta = bn ? pl__attr_float(at, bn, bd) : bd;
    return pl__cpu_unary_run(a, &j);
}

/* Clip: bounds from inputs 1/2 when present, else the float attributes of opset < 11. */
static pl_status pl__cpu_clip(const pl__kernel_args *a) {
    const pl__attrs *at = &a->layer->attrs;
    pl__un_job j = {.op = PL__U_CLIP, .ilo = INT64_MIN, .ihi = INT64_MAX};
    j.alpha = pl__attr_float(at, "min", -INFINITY);
    j.beta = pl__attr_float(at, "max", INFINITY);
    if (a->nin > 1 && a->in[1].data) {
        j.alpha = pl__get_f64(a->in[1].data, a->in[1].dtype, 0);
        j.ilo = pl__get_i64(a->in[1].data, a->in[1].dtype, 0);
    }
    if (a->nin > 2 && a->in[2].data) {
        j.beta = pl__get_f64(a->in[2].data, a->in[2].dtype, 0);
        j.ihi = pl__get_i64(a->in[2].data, a->in[2].dtype, 0);
    }
    /* ONNX: when min > max every value becomes max */
    if (j.alpha > j.beta)
        j.alpha = j.beta;
    if (j.ilo > j.ihi)
        j.ilo = j.ihi;
    return pl__cpu_unary_run(a, &j);
}

static pl_status pl__cpu_gelu(const pl__kernel_args *a) {
    const char *ap = pl__attr_string(&a->layer->attrs, "approximate", "none");
    return pl__cpu_unary(a, strcmp(ap, "tanh") == 0 ? PL__U_GELU_TANH : PL__U_GELU, NULL, 0,
                         NULL, 0);
}

static pl_status pl__cpu_cast(const pl__kernel_args *a) {
    pl__cpu_convert(a->bctx, a->out[0].data, a->out[0].dtype, a->in[0].data, a->in[0].dtype,
                    pl__tview_numel(&a->in[0]));
    return PL_OK;
}

/* One small wrapper per op keeps the kernel table free of string lookups at run time. */
#define PL__UN(name, op)                                                                           \
    static pl_status pl__k_##name(const pl__kernel_args *a) {                                      \
        return pl__cpu_unary(a, op, NULL, 0, NULL, 0);                                             \
    }
#define PL__UNA(name, op, an, ad, bn, bd)                                                          \
    static pl_status pl__k_##name(const pl__kernel_args *a) {                                      \
        return pl__cpu_unary(a, op, an, ad, bn, bd);                                               \
    }
#define PL__BIN(name, op)                                                                          \
    static pl_status pl__k_##name(const pl__kernel_args *a) { return pl__cpu_binary(a, op); }
#define PL__VARI(name, op, mean)                                                                   \
    static pl_status pl__k_##name(const pl__kernel_args *a) {                                      \
        return pl__cpu_variadic(a, op, mean);                                                      \
    }

PL__UN(Abs, PL__U_ABS) PL__UN(Neg, PL__U_NEG) PL__UN(Exp, PL__U_EXP) PL__UN(Log, PL__U_LOG)
PL__UN(Sqrt, PL__U_SQRT) PL__UN(Reciprocal, PL__U_RECIP) PL__UN(Floor, PL__U_FLOOR)
PL__UN(Ceil, PL__U_CEIL) PL__UN(Round, PL__U_ROUND) PL__UN(Sin, PL__U_SIN) PL__UN(Cos, PL__U_COS)
PL__UN(Tan, PL__U_TAN) PL__UN(Asin, PL__U_ASIN) PL__UN(Acos, PL__U_ACOS) PL__UN(Atan, PL__U_ATAN)
PL__UN(Sinh, PL__U_SINH) PL__UN(Cosh, PL__U_COSH) PL__UN(Asinh, PL__U_ASINH)
PL__UN(Acosh, PL__U_ACOSH) PL__UN(Atanh, PL__U_ATANH) PL__UN(Relu, PL__U_RELU)
PL__UN(Sigmoid, PL__U_SIGMOID) PL__UN(Tanh, PL__U_TANH) PL__UN(HardSwish, PL__U_HSWISH)
PL__UN(Erf, PL__U_ERF) PL__UN(Softplus, PL__U_SOFTPLUS) PL__UN(Softsign, PL__U_SOFTSIGN)
PL__UN(Mish, PL__U_MISH) PL__UN(Sign, PL__U_SIGN) PL__UN(Not, PL__U_NOT) PL__UN(IsNaN, PL__U_ISNAN)
PL__UNA(LeakyRelu, PL__U_LEAKY, "alpha", 0.01, NULL, 0)
PL__UNA(HardSigmoid, PL__U_HSIG, "alpha", 0.2, "beta", 0.5)
PL__UNA(Elu, PL__U_ELU, "alpha", 1.0, NULL, 0)
PL__UNA(Selu, PL__U_SELU, "alpha", 1.67326319217681884765625, "gamma", 1.05070102214813232421875)
PL__UNA(Celu, PL__U_CELU, "alpha", 1.0, NULL, 0)
PL__UNA(ThresholdedRelu, PL__U_THRELU, "alpha", 1.0, NULL, 0)
PL__UNA(IsInf, PL__U_ISINF, "detect_positive", 1, "detect_negative", 1)
PL__BIN(Add, PL__ADD) PL__BIN(Sub, PL__SUB) PL__BIN(Mul, PL__MUL) PL__BIN(Div, PL__DIV)
PL__BIN(Pow, PL__POW) PL__BIN(Mod, PL__MOD) PL__BIN(PRelu, PL__PRELU) PL__BIN(Equal, PL__EQ)
PL__BIN(Less, PL__LT) PL__BIN(Greater, PL__GT) PL__BIN(LessOrEqual, PL__LE)
PL__BIN(GreaterOrEqual, PL__GE) PL__BIN(And, PL__AND) PL__BIN(Or, PL__OR) PL__BIN(Xor, PL__XOR)
PL__VARI(Sum, PL__ADD, false) PL__VARI(Mean, PL__ADD, true) PL__VARI(Min, PL__MIN, false)
PL__VARI(Max, PL__MAX, false)

/* ---- fused activation ---------------------------------------------------------------------- */

PL__CPU_CLONES void pl__cpu_fused_activation(const pl__layer *l, float *x, int64_t n) {
    const char *act = l ? pl__attr_string(&l->attrs, "activation", NULL) : NULL;
    float alpha, beta;
    if (!act)
        return;
    alpha = (float)pl__attr_float(&l->attrs, "activation_alpha", 0.01);
    beta = (float)pl__attr_float(&l->attrs, "activation_beta", 0.0);
    if (strcmp(act, "Relu") == 0) {
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] > 0.f ? x[i] : 0.f;
    } else if (strcmp(act, "LeakyRelu") == 0) {
        for (int64_t i = 0; i < n; i++)
            x[i] = pl__self(x[i] < 0.f, alpha * x[i], x[i]);
    } else if (strcmp(act, "Clip") == 0) { /* alpha = min, beta = max */
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] < alpha ? alpha : x[i] > beta ? beta : x[i];
    } else if (strcmp(act, "Sigmoid") == 0) {
        for (int64_t i = 0; i < n; i++)
            x[i] = 1.f / (1.f + pl__cpu_expf(-x[i]));
    } else if (strcmp(act, "Tanh") == 0) {
        for (int64_t i = 0; i < n; i++)
            x[i] = pl__cpu_tanhf(x[i]);
    } else if (strcmp(act, "HardSigmoid") == 0) { /* alpha, beta as ONNX (0.2, 0.5) */
        for (int64_t i = 0; i < n; i++)
            x[i] = pl__clamp01f(alpha * x[i] + beta);
    } else if (strcmp(act, "HardSwish") == 0) {
        for (int64_t i = 0; i < n; i++)
            x[i] *= pl__clamp01f(x[i] * (1.f / 6) + 0.5f);
    }
}

#define PL__K(name) {.op = #name, .run = pl__k_##name}

const pl__kernel_def pl__cpu_kernels_elementwise[] = {
    PL__K(Abs), PL__K(Neg), PL__K(Exp), PL__K(Log), PL__K(Sqrt), PL__K(Reciprocal), PL__K(Floor),
    PL__K(Ceil), PL__K(Round), PL__K(Sin), PL__K(Cos), PL__K(Tan), PL__K(Asin), PL__K(Acos),
    PL__K(Atan), PL__K(Sinh), PL__K(Cosh), PL__K(Asinh), PL__K(Acosh), PL__K(Atanh), PL__K(Relu),
    PL__K(Sigmoid), PL__K(Tanh), PL__K(HardSwish), PL__K(Erf), PL__K(Softplus), PL__K(Softsign),
    PL__K(Mish), PL__K(Sign), PL__K(Not), PL__K(IsNaN), PL__K(LeakyRelu), PL__K(HardSigmoid),
    PL__K(Elu), PL__K(Selu), PL__K(Celu), PL__K(ThresholdedRelu), PL__K(IsInf), PL__K(Add),
    PL__K(Sub), PL__K(Mul), PL__K(Div), PL__K(Pow), PL__K(Mod), PL__K(PRelu), PL__K(Equal),
    PL__K(Less), PL__K(Greater), PL__K(LessOrEqual), PL__K(GreaterOrEqual), PL__K(And), PL__K(Or),
    PL__K(Xor), PL__K(Sum), PL__K(Mean), PL__K(Min), PL__K(Max),
    {.op = "Gelu", .run = pl__cpu_gelu},
    {.op = "Clip", .run = pl__cpu_clip},
    {.op = "Identity", .run = pl__cpu_cast},
    {.op = "Cast", .run = pl__cpu_cast},
    {.op = "CastLike", .run = pl__cpu_cast},
    {.op = "Where", .run = pl__cpu_where},
    {0},
};
