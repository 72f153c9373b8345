/*
 * core.h - internal services every module uses: error reporting (a thread-local detailed
 * message behind each pl_status), logging, overflow-checked size arithmetic, owned attribute
 * lists, tensor views, fp16/bf16 conversion and small string helpers.
 */
#ifndef PL_CORE_H
#define PL_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plinth/plinth.h"

#if defined(__GNUC__)
#define PL__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PL__PRINTF(f, a)
#endif

/* Records the detailed message of a failure for pl_errmsg() and returns s, so that callers write
 * `return pl__fail(PL_ERR_SHAPE, "node '%s': ...", name);`. */
pl_status pl__fail(pl_status s, const char *fmt, ...) PL__PRINTF(2, 3);
/* Prepends "context: " to the current thread's message (for adding the file or node name as an
 * error travels up) and returns s. */
pl_status pl__fail_prefix(pl_status s, const char *fmt, ...) PL__PRINTF(2, 3);
void pl__clear_error(void);

void pl__log(pl_log_severity sev, const char *fmt, ...) PL__PRINTF(2, 3);
bool pl__log_enabled(pl_log_severity sev);

/* Broken internal invariant: print file:line and abort. Never for bad input. */
#define PL_ASSERT(c)                                                                               \
    do {                                                                                           \
        if (!(c))                                                                                  \
            pl__assert_fail(#c, __FILE__, __LINE__);                                               \
    } while (0)
_Noreturn void pl__assert_fail(const char *expr, const char *file, int line);

/* Overflow-checked arithmetic on sizes taken from untrusted input: false on overflow. */
static inline bool pl__mul_size(size_t a, size_t b, size_t *r) { return !__builtin_mul_overflow(a, b, r); }
static inline bool pl__add_size(size_t a, size_t b, size_t *r) { return !__builtin_add_overflow(a, b, r); }
static inline bool pl__mul_i64(int64_t a, int64_t b, int64_t *r) { return !__builtin_mul_overflow(a, b, r); }

char *pl__strdup(const char *s);              /* NULL in, NULL out; NULL on OOM */
char *pl__sprintf(const char *fmt, ...) PL__PRINTF(1, 2); /* malloc'ed; NULL on OOM */
/* Grows *p (element size esize) so that it holds at least need elements; cap tracked in *cap. */
bool pl__grow(void **p, int *cap, int need, size_t esize);

/* ---- tensor views: contiguous row-major data with a shape ---- */
typedef struct pl__tview {
    void *data;
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
} pl__tview;

int64_t pl__numel(int rank, const int64_t *dims); /* product; 1 for rank 0 */
static inline int64_t pl__tview_numel(const pl__tview *t) { return pl__numel(t->rank, t->dims); }
size_t pl__tview_bytes(const pl__tview *t);
/* "[1,3,224,224]" into buf (always NUL-terminated); returns buf. */
char *pl__dims_str(int rank, const int64_t *dims, char *buf, size_t size);

/* Broadcast geometry of nops (<= 3) operands against the output y, for elementwise kernels of
 * every backend: unit output dims dropped, adjacent dims merged wherever each operand stays
 * contiguous across them. Fills *rank (>= 1), dims[0..rank) and st[k][i], operand k's element
 * stride along merged dim i (0 where it broadcasts). */
void pl__broadcast_geometry(const pl__tview *y, const pl__tview *const *in, int nops, int *rank,
                            int64_t dims[PL_MAX_RANK], int64_t st[3][PL_MAX_RANK]);

/* MatMul's geometry (numpy matmul: a rank-1 A is a row, a rank-1 B a column; batch dims
 * broadcast), for the kernels of every backend. Both operands need rank >= 1. */
typedef struct pl__matmul_geom {
    int64_t m, k, n;
    int rank;                  /* batch dims of the result */
    int64_t dims[PL_MAX_RANK]; /* the result's batch dims */
    int64_t sa[PL_MAX_RANK], sb[PL_MAX_RANK]; /* element strides per batch dim, 0 if broadcast */
    int64_t nb, anb, bnb;      /* batch elements of the result, of A, of B */
    bool a_full, b_full;       /* the operand has every batch dim of the result */
} pl__matmul_geom;
void pl__matmul_geometry(const pl__tview *A, const pl__tview *B, pl__matmul_geom *g);

/* ---- fp16 / bf16 ---- */
float pl__half_to_float(uint16_t h);
uint16_t pl__float_to_half(float f); /* round to nearest even */
float pl__bf16_to_float(uint16_t h);
uint16_t pl__float_to_bf16(float f);
/* Reads element i of a numeric view as double / int64 (for shape values and tests). */
double pl__get_f64(const void *data, pl_dtype t, int64_t i);
int64_t pl__get_i64(const void *data, pl_dtype t, int64_t i);
void pl__set_f64(void *data, pl_dtype t, int64_t i, double v);

/* ---- owned attribute lists ----
 * The pl_attr entries are deep copies: every pointer inside is owned by the list. */
typedef struct pl__attrs {
    int n;
    pl_attr *v;
} pl__attrs;

pl_status pl__attrs_copy(pl__attrs *dst, const pl_attr *src, int n); /* dst starts empty */
pl_status pl__attrs_set(pl__attrs *a, const pl_attr *attr);         /* add or replace */
void pl__attrs_remove(pl__attrs *a, const char *name);
void pl__attrs_free(pl__attrs *a);
const pl_attr *pl__attrs_find(const pl__attrs *a, const char *name);
int64_t pl__attr_int(const pl__attrs *a, const char *name, int64_t def);
double pl__attr_float(const pl__attrs *a, const char *name, double def);
const char *pl__attr_string(const pl__attrs *a, const char *name, const char *def);
/* Element count (and *out) of an INTS/FLOATS attribute; -1 (and *out NULL) if absent. */
int64_t pl__attr_ints(const pl__attrs *a, const char *name, const int64_t **out);
int64_t pl__attr_floats(const pl__attrs *a, const char *name, const float **out);

#endif
