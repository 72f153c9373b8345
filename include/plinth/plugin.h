/*
 * plinth/plugin.h - the only header a plinth plugin needs.
 *
 * A plugin is one constant struct (pl_plugin_def) filled with designated initializers: its
 * identity, attribute schema, I/O counts, accepted data types, tactics and kernels. Everything
 * else - attribute validation and defaults, ONNX attribute mapping, storing attributes in the
 * engine file, shape evaluation, timing of tactics, memory planning - is done by plinth. A minimal
 * plugin:
 *
 *     #include <plinth/plugin.h>
 *
 *     static int add_one(pl_ctx *c) {
 *         const float *x = c->in[0].data;
 *         float *y = c->out[0].data;
 *         for (int64_t i = 0, n = pl_numel(&c->in[0]); i < n; i++)
 *             y[i] = x[i] + 1.f;
 *         return 0;
 *     }
 *     static const pl_plugin_def add_one_def = {
 *         .abi = PL_PLUGIN_ABI, .ns = "demo", .name = "add_one",
 *         .num_inputs = 1, .num_outputs = 1, .types = "FP32, FP32", .cpu = add_one,
 *     };
 *     PL_PLUGIN_LIBRARY(&add_one_def)
 *
 * Build it as a shared library against this header alone (it never links libplinth) and load it
 * with pl_plugins_load() or `plinth build --plugins lib.so`. Tutorial: docs/plugin-guide.md.
 * ABI and versioning rules: docs/plugin-abi.md.
 *
 * The ABI. The host hands the library a versioned, append-only function table (pl_host_api);
 * the library hands the host definitions whose first field is the ABI version they were written
 * against. Fields and functions are only ever appended: a library built against ABI N loads into
 * every plinth offering ABI >= N; a library built for a newer ABI than the host's is refused
 * with a message naming both versions. Every shipped layout is pinned by offset assertions.
 *
 * Threading. Callbacks may run concurrently on different layers and execution contexts: keep
 * mutable data in per-context state (state_create), never in globals.
 *
 * This header includes only <stdint.h>, <stddef.h> and <stdbool.h>, and may be included together
 * with plinth/plinth.h in either order (an application that registers plugins directly).
 */
#ifndef PLINTH_PLUGIN_H
#define PLINTH_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin ABI version of this header. Bumped when a field or function is appended. */
#define PL_PLUGIN_ABI 1

#define PL_PLUGIN_MAX_IO 16      /* inputs, and outputs, of one plugin */
#define PL_PLUGIN_MAX_ATTRS 32   /* attributes in a schema */
#define PL_PLUGIN_MAX_TACTICS 16 /* named tactics */

#if defined(__GNUC__)
#define PL_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define PL_PLUGIN_EXPORT
#endif

/* ---------------------------------------------------------------------------------------------
 * Types shared with plinth/plinth.h (defined once, whichever header comes first).
 */
#ifndef PL_MAX_RANK
#define PL_MAX_RANK 8
#endif

#ifndef PL__DTYPE_DEFINED
#define PL__DTYPE_DEFINED
/* Element types; the numbers are ONNX's TensorProto.DataType values. */
typedef enum pl_dtype {
    PL_DTYPE_INVALID = 0,
    PL_FLOAT32 = 1,
    PL_UINT8 = 2,
    PL_INT8 = 3,
    PL_INT32 = 6,
    PL_INT64 = 7,
    PL_BOOL = 9,
    PL_FLOAT16 = 10,
    PL_FLOAT64 = 11,
    PL_BFLOAT16 = 16
} pl_dtype;
#endif

#ifndef PL__ATTR_TYPE_DEFINED
#define PL__ATTR_TYPE_DEFINED
typedef enum pl_attr_type {
    PL_ATTR_INT = 1,
    PL_ATTR_FLOAT = 2,
    PL_ATTR_STRING = 3,
    PL_ATTR_INTS = 4,
    PL_ATTR_FLOATS = 5,
    PL_ATTR_BYTES = 6,
    PL_ATTR_BOOL = 7
} pl_attr_type;
#endif

#ifndef PL__LOG_SEVERITY_DEFINED
#define PL__LOG_SEVERITY_DEFINED
typedef enum pl_log_severity {
    PL_LOG_ERROR = 0,
    PL_LOG_WARNING = 1,
    PL_LOG_INFO = 2,
    PL_LOG_VERBOSE = 3
} pl_log_severity;
#endif

/* ---------------------------------------------------------------------------------------------
 * Symbolic shape expressions.
 *
 * A pl_expr is an integer constant written as is (2, 64, -1, ...), or a handle to an expression
 * the host built (an input dim, a size tensor, or an operation on others); handles occupy a
 * reserved range just above PL_EXPR_INVALID (INT64_MIN), so no ordinary number is mistaken for
 * one. The host records the expressions an outputs() or workspace() callback builds and
 * evaluates them at every concrete shape it needs (each min/opt/max profile point, and at run
 * time); a handle means nothing outside the call that made it. Errors are sticky: an operation
 * on PL_EXPR_INVALID gives PL_EXPR_INVALID and the host reports the first failure when the
 * callback returns, so callbacks need no error checks.
 */
typedef int64_t pl_expr;
#define PL_EXPR_INVALID INT64_MIN

typedef enum pl_expr_op {
    PL_EXPR_ADD = 1,
    PL_EXPR_SUB = 2,
    PL_EXPR_MUL = 3,
    PL_EXPR_FLOOR_DIV = 4,
    PL_EXPR_CEIL_DIV = 5,
    PL_EXPR_MIN = 6,
    PL_EXPR_MAX = 7,
    PL_EXPR_EQ = 8, /* 1 if equal, else 0 */
    PL_EXPR_LT = 9  /* 1 if a < b, else 0 */
} pl_expr_op;

/* ---------------------------------------------------------------------------------------------
 * What callbacks see.
 */

/* A tensor: contiguous, row-major. */
typedef struct pl_tensor_view {
    void *data;     /* kernels: the memory (device memory for CUDA kernels); elsewhere NULL */
    pl_dtype dtype; /* PL_DTYPE_INVALID for an omitted optional input */
    int32_t rank;
    int64_t dims[PL_MAX_RANK]; /* outputs() and workspace(): -1 (use pl_dim) */
} pl_tensor_view;

/* Which callback is running (pl_ctx.phase). */
typedef enum pl_phase {
    PL_PHASE_OUTPUTS = 1,   /* outputs(): in[] has dtype and rank; describe every output */
    PL_PHASE_SUPPORTS = 2,  /* supports(): in[]/out[] have dtype, rank and concrete dims */
    PL_PHASE_WORKSPACE = 3, /* workspace(): like outputs(); return an expression */
    PL_PHASE_KERNEL = 4,    /* cpu()/cuda(): data pointers set */
    PL_PHASE_STATE = 5      /* state_create(): in[]/out[] as for supports() */
} pl_phase;

typedef struct pl_host_api pl_host_api;

/* The one argument of every callback. The host owns it; it is valid during the call only. */
typedef struct pl_ctx {
    const pl_host_api *host;
    void *host_private;        /* the host's; do not touch */
    const char *node;          /* the layer's name, for messages */
    const char *plugin;        /* "namespace::name" */
    int32_t phase;             /* a pl_phase */
    int32_t nin, nout;
    int32_t tactic;            /* index into pl_plugin_def.tactics chosen by the builder (0) */
    const pl_tensor_view *in;  /* nin inputs; read-only unless an output aliases them */
    pl_tensor_view *out;       /* nout outputs */
    void *workspace;           /* kernels: workspace() bytes, in the kernel's memory */
    size_t workspace_size;
    void *stream;              /* CUDA kernels: the cudaStream_t to launch on */
    void *state;               /* what state_create made for this execution context, or NULL */
    void *user;                /* pl_plugin_def.user */
} pl_ctx;

/* ---------------------------------------------------------------------------------------------
 * The plugin definition.
 */

/* One attribute of the schema. required attributes have no default; the others default to the
 * value given here (zero/empty when nothing is given). The host validates every layer's
 * attributes against the schema (unknown, missing, wrong type: a message naming the plugin, the
 * attribute and the expected type), converts INT to FLOAT, INT to BOOL, INT to INTS and INTS to
 * FLOATS where the schema asks, and fills defaults, so kernels read every declared attribute. */
typedef struct pl_attr_spec {
    const char *name;
    pl_attr_type type;
    bool required;
    int64_t i;            /* default of INT and BOOL */
    double f;             /* default of FLOAT */
    const char *s;        /* default of STRING */
    const int64_t *ints;  /* default of INTS (count elements) */
    const float *floats;  /* default of FLOATS (count elements) */
    const void *bytes;    /* default of BYTES (count bytes) */
    int64_t count;
    const char *doc;      /* one line, shown by `plinth plugin list -v` */
} pl_attr_spec;

/* pl_plugin_def.alias[k] = PL_ALIAS(i): output k is input i updated in place (same memory). */
#define PL_ALIAS(input) ((int8_t)((input) + 1))

typedef struct pl_plugin_def {
    uint32_t abi;          /* PL_PLUGIN_ABI: the layout this definition was written against */
    uint32_t flags;        /* reserved, 0 */

    /* Identity: (namespace, name, version). An ONNX node maps to it by (domain, op_type), or by
     * op_type plus the string attributes plugin_namespace and plugin_version. */
    const char *ns;        /* "" allowed; identity strings: printable, no spaces, no ':' */
    const char *name;
    const char *version;   /* NULL: "1" */
    const char *doc;       /* one line, shown by `plinth plugin list` */

    int32_t num_inputs;
    int32_t num_outputs;   /* 0 means 1 */
    int32_t optional_inputs; /* the last optional_inputs inputs may be omitted */

    /* Accepted data types, QDP's grammar: one position per input then per output, separated by
     * ','. "A|B" at several positions is a dependent choice (all take alternative k together);
     * "A*B" an independent one (cross product); ';' separates alternative combinations. Names:
     * FP32 FP16 BF16 FP64 INT8 UINT8 INT32 INT64 BOOL. NULL accepts anything. Output dtypes
     * that outputs() leaves unset (PL_DTYPE_INVALID) come from the first combination matching
     * the inputs, else from input 0. Example: "FP32|FP16, FP32|FP16". */
    const char *types;
    const char *formats;   /* reserved: NULL or "LINEAR" (kernels see row-major data) */

    int8_t alias[PL_PLUGIN_MAX_IO];               /* per output: PL_ALIAS(i) or 0 */
    const char *tactics[PL_PLUGIN_MAX_TACTICS];   /* named kernel variants, timed at build */
    pl_attr_spec attrs[PL_PLUGIN_MAX_ATTRS];

    /* Describes every output with pl_output()/pl_output_like()/pl_size_tensor(), in terms of
     * pl_dim() expressions (in[].dims are -1 here: a shape must hold at every input shape).
     * NULL: every output has input 0's shape (and dtype, unless types says otherwise). Return
     * 0, or an error through pl_error(). */
    int (*outputs)(pl_ctx *c);
    /* Optional extra check beyond `types` (e.g. attribute values a dtype cannot handle); return
     * false after pl_error() saying why. */
    bool (*supports)(pl_ctx *c);
    /* Optional: scratch bytes, as an expression of the input dims (pl_dim) and attributes. */
    pl_expr (*workspace)(pl_ctx *c);

    /* Kernels. Return 0, or non-zero after pl_error(); never abort. c->tactic says which
     * variant to run. */
    int (*cpu)(pl_ctx *c);
    int (*cuda)(pl_ctx *c);          /* launch on c->stream; data is device memory */
    /* Reserved for kernels compiled by NVRTC at build time and embedded in the engine: CUDA C
     * source, the __global__ entry point, and a callback setting the launch dims as
     * expressions with pl_launch(). Not used yet. */
    const char *cuda_source;
    const char *cuda_entry;
    int (*cuda_launch)(pl_ctx *c);

    /* Optional per-execution-context state: made before the first run of a layer in a context,
     * passed as c->state, destroyed with the context. */
    int (*state_create)(pl_ctx *c, void **state);
    void (*state_destroy)(void *state, void *user);

    /* Application data for the callbacks (c->user), and its destructor, called when the
     * registry drops the plugin - also when registration fails. */
    void *user;
    void (*user_free)(void *user);
} pl_plugin_def;

/* ---------------------------------------------------------------------------------------------
 * The host's function table. Read a function only if `size` covers it: a host never shrinks
 * the table, new functions are appended (use PL_HOST_HAS).
 */
typedef struct pl_plugin_registrar pl_plugin_registrar;

struct pl_host_api {
    uint32_t size;        /* sizeof(pl_host_api) in the host */
    uint32_t abi;         /* the host's PL_PLUGIN_ABI */
    const char *version;  /* plinth's version string, "0.1.0" */

    /* Registration, during plinth_plugin_init only. 0, or -1: the reason is recorded and the
     * whole library load fails with it (returning -1 from init is enough). */
    int (*register_plugin)(pl_plugin_registrar *reg, const pl_plugin_def *def);

    /* Messages. error() records the message for the failing callback (the host prefixes the
     * plugin and node) and returns -1; log() goes to the application's logger. */
    void (*log)(pl_log_severity severity, const char *fmt, ...);
    int (*error)(pl_ctx *c, const char *fmt, ...);

    /* Attributes (validated and defaulted), by name. Reading an attribute the schema does not
     * declare, or with the wrong type, is a plugin bug the host reports after the callback. */
    int64_t (*get_int)(pl_ctx *c, const char *name);
    double (*get_float)(pl_ctx *c, const char *name);
    const char *(*get_string)(pl_ctx *c, const char *name);
    const int64_t *(*get_ints)(pl_ctx *c, const char *name, int64_t *count);
    const float *(*get_floats)(pl_ctx *c, const char *name, int64_t *count);
    const void *(*get_bytes)(pl_ctx *c, const char *name, int64_t *count);

    /* Expressions (outputs() and workspace() callbacks). */
    pl_expr (*dim)(pl_ctx *c, int input, int axis);
    pl_expr (*op)(pl_ctx *c, pl_expr_op op, pl_expr a, pl_expr b);
    pl_expr (*size_tensor)(pl_ctx *c, int output, pl_expr opt, pl_expr upper);
    int (*set_output)(pl_ctx *c, int output, pl_dtype dtype, int rank, const pl_expr *dims);
    /* Reserved for NVRTC kernels (cuda_launch callback): grid, block and shared bytes. */
    int (*set_launch)(pl_ctx *c, const pl_expr *grid3, const pl_expr *block3, pl_expr shared);
};

#define PL_HOST_HAS(host, field)                                                                   \
    ((host)->size >= offsetof(pl_host_api, field) + sizeof((host)->field) && (host)->field)

/* ---------------------------------------------------------------------------------------------
 * The library entry point. PL_PLUGIN_LIBRARY(&def1, &def2, ...) writes it, together with the
 * exported plinth_plugin_abi the host checks before calling it.
 */
PL_PLUGIN_EXPORT int plinth_plugin_init(const pl_host_api *host, pl_plugin_registrar *reg);
PL_PLUGIN_EXPORT extern const uint32_t plinth_plugin_abi;

#define PL_PLUGIN_LIBRARY(...)                                                                     \
    const uint32_t plinth_plugin_abi = PL_PLUGIN_ABI;                                              \
    int plinth_plugin_init(const pl_host_api *host, pl_plugin_registrar *reg) {                    \
        const pl_plugin_def *const pl_defs_[] = {__VA_ARGS__};                                     \
        for (size_t pl_i_ = 0; pl_i_ < sizeof(pl_defs_) / sizeof(pl_defs_[0]); pl_i_++)            \
            if (host->register_plugin(reg, pl_defs_[pl_i_]) != 0)                                  \
                return -1;                                                                         \
        return 0;                                                                                  \
    }

/* ---------------------------------------------------------------------------------------------
 * Helpers (all go through c->host; nothing here needs linking).
 */
#define pl_error(c, ...) ((c)->host->error((c), __VA_ARGS__))
#define pl_log(c, severity, ...) ((c)->host->log((severity), __VA_ARGS__))

static inline int64_t pl_get_int(pl_ctx *c, const char *name) { return c->host->get_int(c, name); }
static inline bool pl_get_bool(pl_ctx *c, const char *name) {
    return c->host->get_int(c, name) != 0;
}
static inline double pl_get_float(pl_ctx *c, const char *name) {
    return c->host->get_float(c, name);
}
static inline const char *pl_get_string(pl_ctx *c, const char *name) {
    return c->host->get_string(c, name);
}
static inline const int64_t *pl_get_ints(pl_ctx *c, const char *name, int64_t *count) {
    return c->host->get_ints(c, name, count);
}
static inline const float *pl_get_floats(pl_ctx *c, const char *name, int64_t *count) {
    return c->host->get_floats(c, name, count);
}
static inline const void *pl_get_bytes(pl_ctx *c, const char *name, int64_t *count) {
    return c->host->get_bytes(c, name, count);
}

/* Dim `axis` of input `input` (negative axis counts from the end). */
static inline pl_expr pl_dim(pl_ctx *c, int input, int axis) {
    return c->host->dim(c, input, axis);
}
static inline pl_expr pl_add(pl_ctx *c, pl_expr a, pl_expr b) {
    return c->host->op(c, PL_EXPR_ADD, a, b);
}
static inline pl_expr pl_sub(pl_ctx *c, pl_expr a, pl_expr b) {
    return c->host->op(c, PL_EXPR_SUB, a, b);
}
static inline pl_expr pl_mul(pl_ctx *c, pl_expr a, pl_expr b) {
    return c->host->op(c, PL_EXPR_MUL, a, b);
}
static inline pl_expr pl_div(pl_ctx *c, pl_expr a, pl_expr b) {
    return c->host->op(c, PL_EXPR_FLOOR_DIV, a, b);
}
static inline pl_expr pl_cdiv(pl_ctx *c, pl_expr a, pl_expr b) {
    return c->host->op(c, PL_EXPR_CEIL_DIV, a, b);
}
static inline pl_expr pl_min(pl_ctx *c, pl_expr a, pl_expr b) {
    return c->host->op(c, PL_EXPR_MIN, a, b);
}
static inline pl_expr pl_max(pl_ctx *c, pl_expr a, pl_expr b) {
    return c->host->op(c, PL_EXPR_MAX, a, b);
}
static inline pl_expr pl_eq(pl_ctx *c, pl_expr a, pl_expr b) {
    return c->host->op(c, PL_EXPR_EQ, a, b);
}
static inline pl_expr pl_lt(pl_ctx *c, pl_expr a, pl_expr b) {
    return c->host->op(c, PL_EXPR_LT, a, b);
}
/* Product of the dims of an input. */
static inline pl_expr pl_volume(pl_ctx *c, int input) {
    pl_expr v = 1;
    if (input < 0 || input >= c->nin)
        return pl_dim(c, input, 0); /* reports the bad index */
    for (int d = 0; d < c->in[input].rank; d++)
        v = pl_mul(c, v, pl_dim(c, input, d));
    return v;
}

/* Output k: dtype (PL_DTYPE_INVALID: from `types`/input 0) and dims as expressions. */
static inline int pl_output(pl_ctx *c, int k, pl_dtype dtype, int rank, const pl_expr *dims) {
    return c->host->set_output(c, k, dtype, rank, dims);
}
/* Output k has input i's shape (and dtype, unless `types` says otherwise). */
static inline int pl_output_like(pl_ctx *c, int k, int i) {
    pl_expr d[PL_MAX_RANK] = {0};
    int rank = i >= 0 && i < c->nin ? c->in[i].rank : 1;
    for (int a = 0; a < rank && a < PL_MAX_RANK; a++)
        d[a] = pl_dim(c, i, a); /* a bad index is reported here */
    return c->host->set_output(c, k, PL_DTYPE_INVALID, rank, d);
}
/* Declares output `k` a size tensor: a scalar (INT32 unless `types` says INT64) whose value the
 * kernel writes, and returns the expression standing for that value, to use as an output dim.
 * opt is the value to tune for, upper the bound memory is planned for. */
static inline pl_expr pl_size_tensor(pl_ctx *c, int k, pl_expr opt, pl_expr upper) {
    return c->host->size_tensor(c, k, opt, upper);
}
/* Reserved for NVRTC kernels. */
static inline int pl_launch(pl_ctx *c, const pl_expr *grid3, const pl_expr *block3,
                            pl_expr shared) {
    return c->host->set_launch(c, grid3, block3, shared);
}

/* Elements of a tensor (1 for a scalar). */
static inline int64_t pl_numel(const pl_tensor_view *t) {
    int64_t n = 1;
    for (int d = 0; d < t->rank; d++)
        n *= t->dims[d];
    return n;
}

/* Bytes per element; 0 for an unknown type. */
static inline size_t pl_dtype_bytes(pl_dtype t) {
    switch (t) {
    case PL_FLOAT32: case PL_INT32: return 4;
    case PL_UINT8: case PL_INT8: case PL_BOOL: return 1;
    case PL_INT64: case PL_FLOAT64: return 8;
    case PL_FLOAT16: case PL_BFLOAT16: return 2;
    default: return 0;
    }
}

/* IEEE half <-> float for CPU kernels (round to nearest even). */
static inline float pl_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    union { uint32_t u; float f; } v;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13);
    } else if (e != 0) {
        bits = sign | ((e + 112u) << 23) | (m << 13);
    } else if (m == 0) {
        bits = sign;
    } else { /* subnormal half: renormalize */
        e = 113;
        while (!(m & 0x400u)) {
            m <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((m & 0x3ffu) << 13);
    }
    v.u = bits;
    return v.f;
}
static inline uint16_t pl_float_to_half(float f) {
    union { float f; uint32_t u; } v = {f};
    uint32_t sign = (v.u >> 16) & 0x8000u, a = v.u & 0x7fffffffu;
    if (a >= 0x7f800000u) /* inf, nan */
        return (uint16_t)(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u : 0));
    if (a >= 0x477ff000u) /* rounds to >= 65520: overflow */
        return (uint16_t)(sign | 0x7c00u);
    if (a < 0x38800000u) { /* subnormal or zero half */
        uint32_t shift = 126u - (a >> 23), m = (a & 0x7fffffu) | 0x800000u, r;
        if (shift > 24)
            return (uint16_t)sign;
        r = m >> shift;
        if ((m & ((1u << shift) - 1)) > (1u << (shift - 1)) ||
            ((m & ((1u << shift) - 1)) == (1u << (shift - 1)) && (r & 1u)))
            r++;
        return (uint16_t)(sign | r);
    }
    a += 0xfffu + ((a >> 13) & 1u) - (112u << 23); /* rebias, round to nearest even */
    return (uint16_t)(sign | (a >> 13));
}

#ifdef __cplusplus
}
#endif
#endif /* PLINTH_PLUGIN_H */
