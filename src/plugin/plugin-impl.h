/*
 * plugin-impl.h - internals shared by the plugin module's files: registry entries and loaded
 * libraries (registry.c), the dtype-combination grammar (types.c), symbolic shape expressions
 * (expr.c) and the callback contexts behind the host function table (host.c).
 */
#ifndef PL_PLUGIN_IMPL_H
#define PL_PLUGIN_IMPL_H

#include "plinth/plugin.h"
#include "plugin/plugin-host.h"

/* ---- dtype combinations (types.c) ---- */
typedef struct pl__types {
    int npos;      /* positions: inputs then outputs */
    int ncombos;
    pl_dtype *v;   /* ncombos x npos */
} pl__types;

/* Parses the QDP grammar ("FP32|FP16, FP32|FP16; INT32, INT32"). `who` prefixes messages. */
pl_status pl__types_parse(const char *text, int npos, const char *who, pl__types *out);
void pl__types_free(pl__types *t);
/* Index of the first combination whose first n positions equal io[] (PL_DTYPE_INVALID in io
 * matches anything: an omitted optional input or an output not fixed yet), or -1. */
int pl__types_match(const pl__types *t, const pl_dtype *io, int n);
/* "(FP32, FP32) (FP16, FP16)" into buf; returns buf. */
char *pl__types_str(const pl__types *t, char *buf, size_t size);
/* "FP32", "INT64", ...; "?" for an unknown type. */
const char *pl__dtype_short(pl_dtype t);

/* ---- symbolic expressions (expr.c) ---- */
typedef enum pl__enode_kind {
    PL__E_CONST = -1, /* v */
    PL__E_DIM = -2,   /* dim j of input i */
    PL__E_SIZE = -3,  /* the value of size symbol i */
    /* > 0: a binary operation, a pl_expr_op (operands a, b) */
} pl__enode_kind;

typedef struct pl__enode {
    int32_t kind;    /* pl__enode_kind, or a pl_expr_op (>= PL_EXPR_ADD) */
    int32_t i, j;    /* DIM: input, axis; SIZE: symbol */
    int64_t v;       /* CONST: value */
    pl_expr a, b;    /* operands of an operation */
} pl__enode;

typedef struct pl__size_sym {
    int out;         /* the scalar output holding the value */
    pl_expr opt, upper;
} pl__size_sym;

typedef struct pl__exprs {
    pl__enode *n;
    int count, cap;
    pl__size_sym sym[PL_PLUGIN_MAX_IO];
    int nsym;
} pl__exprs;

/* How size symbols evaluate. */
typedef enum pl__size_mode {
    PL__SIZE_UPPER = 0,
    PL__SIZE_OPT = 1,
    PL__SIZE_ACTUAL = 2
} pl__size_mode;

typedef struct pl__expr_env {
    int nin;
    const pl__tview *in;       /* concrete input dims */
    pl__size_mode mode;
    const int64_t *actual;     /* PL__SIZE_ACTUAL: per symbol */
} pl__expr_env;

void pl__exprs_free(pl__exprs *x);
/* Whether e is a node handle (else it is a literal constant or PL_EXPR_INVALID). */
bool pl__expr_is_node(pl_expr e);
/* Whether e is a literal or a node of x. */
bool pl__expr_valid(const pl__exprs *x, pl_expr e);
/* Builds a node; on failure (bad operand, out of memory) returns PL_EXPR_INVALID and writes a
 * message into err. Constant operands are folded. */
pl_expr pl__expr_dim(pl__exprs *x, int input, int axis, char *err, size_t errsize);
pl_expr pl__expr_size(pl__exprs *x, int sym, char *err, size_t errsize);
pl_expr pl__expr_op(pl__exprs *x, int op, pl_expr a, pl_expr b, char *err, size_t errsize);
/* Whether e (transitively) refers to a size symbol. */
bool pl__expr_uses_size(const pl__exprs *x, pl_expr e);
/* Evaluates e; false with a message in err on a division by zero, an overflow or a dim the
 * environment lacks. */
bool pl__expr_eval(const pl__exprs *x, const pl__expr_env *env, pl_expr e, int64_t *out, char *err,
                   size_t errsize);
/* "(in0[1] + 4)" into buf; returns buf. */
char *pl__expr_str(const pl__exprs *x, pl_expr e, char *buf, size_t size);

/* ---- registry entries (registry.c) ---- */
typedef struct pl__plugin_lib {
    char *path;       /* canonical path */
    const char *file; /* its last component */
    uint64_t hash;    /* xxHash64 of the file's bytes */
    void *handle;
    struct pl__plugin_lib *next;
} pl__plugin_lib;

struct pl__plugin_entry {
    pl_plugin_def def;          /* normalized to this host's layout (fields newer than the
                                   definition's ABI are zero) */
    uint32_t def_abi;           /* the ABI the definition was written against */
    char *ns, *name, *version;  /* owned copies */
    char *full;                 /* "ns::name" */
    const pl__plugin_lib *lib;  /* NULL: registered by the application or built in */
    int nin, nout, nopt;        /* inputs, outputs, trailing optional inputs */
    int nattrs, ntactics;
    pl__types types;            /* parsed def.types (npos 0 when NULL) */
    pl__kernel_def kdef[2];     /* per pl_device: returned by pl__plugin_kernel */
    int uses_size;              /* some layer declared a size tensor (atomic; 0 or 1) */
    struct pl__plugin_entry *next;
};
typedef struct pl__plugin_entry pl__plugin_entry;

/* The host function table handed to libraries and used for every callback context. */
extern const pl_host_api pl__host_api;
/* Registers a definition into a registrar (host.c calls it through the table). */
int pl__registrar_add(pl_plugin_registrar *reg, const pl_plugin_def *def);
/* Fills e->kdef[] (run, supports, workspace, state hooks) from the definition (host.c). */
void pl__plugin_fill_kernels(pl__plugin_entry *e);
/* The definition of registered plugin `index` (pl_plugins_get order), or NULL. */
const pl_plugin_def *pl__plugin_def_at(int index);
/* "INT", "FLOATS", ... */
const char *pl__plugin_attr_type_name(pl_attr_type t);

/* ---- callback contexts and the core hooks (host.c) ---- */
typedef struct pl__out_decl {
    bool set, size;             /* described by set_output / declared a size tensor */
    pl_dtype dtype;
    int rank;
    pl_expr dims[PL_MAX_RANK];
} pl__out_decl;

typedef struct pl__cb {
    pl_ctx c;
    const pl__plugin_entry *e;
    const pl__layer *layer;
    pl_tensor_view in[PL_PLUGIN_MAX_IO], out[PL_PLUGIN_MAX_IO];
    pl__exprs *x;               /* OUTPUTS and WORKSPACE phases */
    pl__out_decl decl[PL_PLUGIN_MAX_IO];
    bool failed;
    pl_status status;           /* of the first failure */
    char err[768];
} pl__cb;

/* Sets up a context for a callback of `phase` on layer l. Input views get dtype and rank; dims
 * and data are copied from `in` (NULL data/dims for symbolic phases). */
void pl__cb_init(pl__cb *cb, const pl__plugin_entry *e, const pl__layer *l, pl_phase phase,
                 int nin, const pl__tview *in, int nout, const pl__tview *out);
/* Records the first error of a callback (status PL_ERR_PLUGIN unless set); returns -1. */
int pl__cb_fail(pl__cb *cb, const char *fmt, ...) PL__PRINTF(2, 3);

#endif
