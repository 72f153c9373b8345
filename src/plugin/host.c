/*
 * host.c - what plugins call (the pl_host_api table) and what the core calls on plugin layers
 * (plugin-host.h): shape inference by evaluating a plugin's output expressions at concrete
 * shapes, the kernel wrapper that turns pl__kernel_args into a pl_ctx and a failing plugin into
 * a message naming the node and the plugin, in-place outputs, size tensors, dtype checks
 * against the definition's combinations, workspace and per-context state.
 *
 * Every callback gets a pl_ctx embedded in a pl__cb the host keeps on its stack. Host functions
 * never fail loudly: they record the first error in the pl__cb and return a harmless value
 * (PL_EXPR_INVALID, 0, NULL); the caller turns the record into one pl__fail after the callback
 * returns, so plugin code needs no error checks between calls.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin-impl.h"

static pl__cb *pl__cbof(pl_ctx *c) { return (pl__cb *)c->host_private; }

static int pl__vcb_fail(pl__cb *cb, pl_status s, const char *fmt, va_list ap) {
    if (!cb->failed) {
        vsnprintf(cb->err, sizeof(cb->err), fmt, ap);
        cb->failed = true;
        cb->status = s;
    }
    return -1;
}

int pl__cb_fail(pl__cb *cb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pl__vcb_fail(cb, PL_ERR_PLUGIN, fmt, ap);
    va_end(ap);
    return -1;
}

static int pl__cb_fail_s(pl__cb *cb, pl_status s, const char *fmt, ...) PL__PRINTF(3, 4);
static int pl__cb_fail_s(pl__cb *cb, pl_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pl__vcb_fail(cb, s, fmt, ap);
    va_end(ap);
    return -1;
}

static bool pl__symbolic(pl_phase phase) {
    return phase == PL_PHASE_OUTPUTS || phase == PL_PHASE_WORKSPACE;
}

void pl__cb_init(pl__cb *cb, const pl__plugin_entry *e, const pl__layer *l, pl_phase phase,
                 int nin, const pl__tview *in, int nout, const pl__tview *out) {
    bool sym = pl__symbolic(phase);
    memset(cb, 0, offsetof(pl__cb, err));
    cb->err[0] = '\0';
    cb->e = e;
    cb->layer = l;
    cb->c.host = &pl__host_api;
    cb->c.host_private = cb;
    cb->c.node = pl__layer_label(l);
    cb->c.plugin = e->full;
    cb->c.phase = phase;
    cb->c.nin = nin;
    cb->c.nout = nout;
    cb->c.in = cb->in;
    cb->c.out = cb->out;
    cb->c.user = e->def.user;
    for (int i = 0; i < nin && i < PL_PLUGIN_MAX_IO; i++) {
        bool omitted = (l && i < l->nin && l->in[i] < 0) || in[i].dtype == PL_DTYPE_INVALID;
        cb->in[i].dtype = omitted ? PL_DTYPE_INVALID : in[i].dtype;
        cb->in[i].rank = omitted ? 0 : in[i].rank;
        cb->in[i].data = sym || omitted ? NULL : in[i].data;
        for (int d = 0; d < PL_MAX_RANK; d++)
            cb->in[i].dims[d] = sym || omitted || d >= in[i].rank ? -1 : in[i].dims[d];
    }
    for (int k = 0; k < nout && k < PL_PLUGIN_MAX_IO; k++) {
        for (int d = 0; d < PL_MAX_RANK; d++)
            cb->out[k].dims[d] = -1;
        if (!out)
            continue;
        cb->out[k].dtype = out[k].dtype;
        cb->out[k].rank = out[k].rank;
        cb->out[k].data = sym ? NULL : out[k].data;
        for (int d = 0; d < out[k].rank && d < PL_MAX_RANK; d++)
            cb->out[k].dims[d] = sym ? -1 : out[k].dims[d];
    }
}

/* ---- the host function table ---- */

static int pl__host_register(pl_plugin_registrar *reg, const pl_plugin_def *def) {
    return pl__registrar_add(reg, def);
}

static void pl__host_log(pl_log_severity sev, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    if (sev < PL_LOG_ERROR || sev > PL_LOG_VERBOSE || !pl__log_enabled(sev) || !fmt)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    pl__log(sev, "%s", buf);
}

static int pl__host_error(pl_ctx *c, const char *fmt, ...) {
    va_list ap;
    if (!c || !fmt)
        return -1;
    va_start(ap, fmt);
    pl__vcb_fail(pl__cbof(c), PL_ERR_PLUGIN, fmt, ap);
    va_end(ap);
    return -1;
}

/* The layer's value of a declared attribute (NULL: use the schema default in *spec). Reading an
 * undeclared attribute or with the wrong getter is recorded as a plugin bug. */
static const pl_attr *pl__get_attr(pl_ctx *c, const char *name, pl_attr_type want,
                                   const pl_attr_spec **spec) {
    pl__cb *cb = pl__cbof(c);
    const pl__plugin_entry *e = cb->e;
    const pl_attr *a;
    *spec = NULL;
    for (int k = 0; name && k < e->nattrs && !*spec; k++)
        if (strcmp(e->def.attrs[k].name, name) == 0)
            *spec = &e->def.attrs[k];
    if (!*spec) {
        pl__cb_fail(cb, "reads attribute '%s', which its schema does not declare",
                    name ? name : "(null)");
        return NULL;
    }
    if ((*spec)->type != want && !(want == PL_ATTR_INT && (*spec)->type == PL_ATTR_BOOL)) {
        pl__cb_fail(cb, "reads %s attribute '%s' with the getter for %s",
                    pl__plugin_attr_type_name((*spec)->type), name,
                    pl__plugin_attr_type_name(want));
        *spec = NULL;
        return NULL;
    }
    a = cb->layer ? pl__attrs_find(&cb->layer->attrs, name) : NULL;
    return a && a->type == (*spec)->type ? a : NULL;
}

static int64_t pl__host_get_int(pl_ctx *c, const char *name) {
    const pl_attr_spec *sp;
    const pl_attr *a = pl__get_attr(c, name, PL_ATTR_INT, &sp);
    return a ? a->i : sp ? sp->i : 0;
}

static double pl__host_get_float(pl_ctx *c, const char *name) {
    const pl_attr_spec *sp;
    const pl_attr *a = pl__get_attr(c, name, PL_ATTR_FLOAT, &sp);
    return a ? a->f : sp ? sp->f : 0.0;
}

static const char *pl__host_get_string(pl_ctx *c, const char *name) {
    const pl_attr_spec *sp;
    const pl_attr *a = pl__get_attr(c, name, PL_ATTR_STRING, &sp);
    return a ? a->s : sp && sp->s ? sp->s : "";
}

static const void *pl__get_array(pl_ctx *c, const char *name, pl_attr_type t, int64_t *count) {
    const pl_attr_spec *sp;
    const pl_attr *a = pl__get_attr(c, name, t, &sp);
    const void *p = NULL;
    int64_t n = 0;
    if (a) {
        n = a->count;
        p = t == PL_ATTR_INTS ? (const void *)a->ints
            : t == PL_ATTR_FLOATS ? (const void *)a->floats : a->bytes;
    } else if (sp) {
        n = sp->count;
        p = t == PL_ATTR_INTS ? (const void *)sp->ints
            : t == PL_ATTR_FLOATS ? (const void *)sp->floats : sp->bytes;
    }
    if (count)
        *count = p ? n : 0;
    return p;
}

static const int64_t *pl__host_get_ints(pl_ctx *c, const char *name, int64_t *count) {
    return pl__get_array(c, name, PL_ATTR_INTS, count);
}
static const float *pl__host_get_floats(pl_ctx *c, const char *name, int64_t *count) {
    return pl__get_array(c, name, PL_ATTR_FLOATS, count);
}
static const void *pl__host_get_bytes(pl_ctx *c, const char *name, int64_t *count) {
    return pl__get_array(c, name, PL_ATTR_BYTES, count);
}

static bool pl__need_exprs(pl__cb *cb, const char *fn) {
    if (cb->x)
        return true;
    pl__cb_fail(cb, "%s() can only be called from outputs() or workspace()", fn);
    return false;
}

static pl_expr pl__host_dim(pl_ctx *c, int input, int axis) {
    pl__cb *cb = pl__cbof(c);
    char err[256] = "";
    int r;
    pl_expr e;
    if (!pl__need_exprs(cb, "pl_dim"))
        return PL_EXPR_INVALID;
    if (input < 0 || input >= c->nin) {
        pl__cb_fail(cb, "pl_dim: input %d does not exist (the node has %d)", input, c->nin);
        return PL_EXPR_INVALID;
    }
    if (cb->in[input].dtype == PL_DTYPE_INVALID) {
        pl__cb_fail(cb, "pl_dim: optional input %d is omitted", input);
        return PL_EXPR_INVALID;
    }
    r = cb->in[input].rank;
    if (axis < -r || axis >= r) {
        pl__cb_fail_s(cb, PL_ERR_SHAPE, "pl_dim: axis %d is out of range for input %d of rank %d",
                      axis, input, r);
        return PL_EXPR_INVALID;
    }
    e = pl__expr_dim(cb->x, input, axis < 0 ? axis + r : axis, err, sizeof(err));
    if (e == PL_EXPR_INVALID)
        pl__cb_fail(cb, "%s", err);
    return e;
}

static pl_expr pl__host_op(pl_ctx *c, pl_expr_op op, pl_expr a, pl_expr b) {
    pl__cb *cb = pl__cbof(c);
    char err[256] = "";
    pl_expr e;
    if (!pl__need_exprs(cb, "pl_add/pl_sub/..."))
        return PL_EXPR_INVALID;
    e = pl__expr_op(cb->x, (int)op, a, b, err, sizeof(err));
    if (e == PL_EXPR_INVALID && !cb->failed)
        pl__cb_fail_s(cb, PL_ERR_SHAPE, "%s", err[0] ? err : "an operand is PL_EXPR_INVALID");
    return e;
}

static pl_expr pl__host_size_tensor(pl_ctx *c, int k, pl_expr opt, pl_expr upper) {
    pl__cb *cb = pl__cbof(c);
    char err[256] = "";
    pl__exprs *x = cb->x;
    int sym;
    pl_expr e;
    if (c->phase != PL_PHASE_OUTPUTS || !x) {
        pl__cb_fail(cb, "pl_size_tensor() can only be called from outputs()");
        return PL_EXPR_INVALID;
    }
    if (k < 0 || k >= c->nout) {
        pl__cb_fail(cb, "pl_size_tensor: output %d does not exist (the plugin has %d)", k, c->nout);
        return PL_EXPR_INVALID;
    }
    if (cb->decl[k].set || cb->decl[k].size) {
        pl__cb_fail(cb, "pl_size_tensor: output %d is already described", k);
        return PL_EXPR_INVALID;
    }
    if (opt == PL_EXPR_INVALID || upper == PL_EXPR_INVALID)
        return PL_EXPR_INVALID; /* the failure that made them is recorded */
    if (pl__expr_uses_size(x, opt) || pl__expr_uses_size(x, upper)) {
        pl__cb_fail(cb, "pl_size_tensor: opt and upper bound must not depend on a size tensor");
        return PL_EXPR_INVALID;
    }
    if (x->nsym >= PL_PLUGIN_MAX_IO) {
        pl__cb_fail(cb, "pl_size_tensor: too many size tensors");
        return PL_EXPR_INVALID;
    }
    sym = x->nsym;
    e = pl__expr_size(x, sym, err, sizeof(err));
    if (e == PL_EXPR_INVALID) {
        pl__cb_fail(cb, "%s", err);
        return e;
    }
    x->sym[sym].out = k;
    x->sym[sym].opt = opt;
    x->sym[sym].upper = upper;
    x->nsym++;
    cb->decl[k].size = true;
    cb->decl[k].rank = 0;
    return e;
}

static int pl__host_set_output(pl_ctx *c, int k, pl_dtype dtype, int rank, const pl_expr *dims) {
    pl__cb *cb = pl__cbof(c);
    pl__out_decl *d;
    if (c->phase != PL_PHASE_OUTPUTS || !cb->x)
        return pl__cb_fail(cb, "pl_output() can only be called from outputs()");
    if (k < 0 || k >= c->nout)
        return pl__cb_fail(cb, "pl_output: output %d does not exist (the plugin has %d)", k,
                           c->nout);
    d = &cb->decl[k];
    if (d->size)
        return pl__cb_fail(cb, "pl_output: output %d is a size tensor", k);
    if (rank < 0 || rank > PL_MAX_RANK || (rank > 0 && !dims))
        return pl__cb_fail_s(cb, PL_ERR_SHAPE, "pl_output: output %d gets rank %d (0..%d)", k, rank,
                             PL_MAX_RANK);
    if (dtype != PL_DTYPE_INVALID && pl_dtype_size(dtype) == 0)
        return pl__cb_fail(cb, "pl_output: output %d gets unknown dtype %d", k, (int)dtype);
    for (int i = 0; i < rank; i++) {
        if (dims[i] == PL_EXPR_INVALID)
            return cb->failed ? -1 : pl__cb_fail(cb, "pl_output: output %d dim %d is "
                                                     "PL_EXPR_INVALID", k, i);
        if (!pl__expr_valid(cb->x, dims[i]))
            return pl__cb_fail(cb, "pl_output: output %d dim %d is not an expression of this "
                               "call", k, i);
    }
    d->set = true;
    d->dtype = dtype;
    d->rank = rank;
    for (int i = 0; i < rank; i++)
        d->dims[i] = dims[i];
    return 0;
}

static int pl__host_set_launch(pl_ctx *c, const pl_expr *grid3, const pl_expr *block3,
                               pl_expr shared) {
    (void)grid3;
    (void)block3;
    (void)shared;
    return pl__cb_fail(pl__cbof(c), "pl_launch(): kernels compiled by NVRTC (cuda_source) are not "
                       "supported by this plinth yet");
}

const pl_host_api pl__host_api = {
    .size = sizeof(pl_host_api),
    .abi = PL_PLUGIN_ABI,
    .version = PL_VERSION_STRING,
    .register_plugin = pl__host_register,
    .log = pl__host_log,
    .error = pl__host_error,
    .get_int = pl__host_get_int,
    .get_float = pl__host_get_float,
    .get_string = pl__host_get_string,
    .get_ints = pl__host_get_ints,
    .get_floats = pl__host_get_floats,
    .get_bytes = pl__host_get_bytes,
    .dim = pl__host_dim,
    .op = pl__host_op,
    .size_tensor = pl__host_size_tensor,
    .set_output = pl__host_set_output,
    .set_launch = pl__host_set_launch,
};

/* ---- outputs: run the callback, then evaluate at concrete shapes ---- */

static bool pl__run_outputs(pl__cb *cb, pl__exprs *x) {
    const pl__plugin_entry *e = cb->e;
    cb->x = x;
    if (e->def.outputs) {
        int rc = e->def.outputs(&cb->c);
        if (rc && !cb->failed)
            pl__cb_fail(cb, "outputs() returned %d", rc);
    } else {
        for (int k = 0; k < cb->c.nout && !cb->failed; k++)
            pl_output_like(&cb->c, k, 0);
    }
    if (x->nsym)
        __atomic_store_n(&((pl__plugin_entry *)e)->uses_size, 1, __ATOMIC_RELAXED);
    if (cb->failed)
        return false;
    for (int k = 0; k < cb->c.nout; k++)
        if (!cb->decl[k].set && !cb->decl[k].size)
            return pl__cb_fail(cb, "outputs() did not describe output %d (call pl_output, "
                               "pl_output_like or pl_size_tensor for it)", k) == 0;
    return true;
}

static char *pl__io_str(const pl_dtype *io, int nin, int n, char *buf, size_t size) {
    size_t at = 0;
    buf[0] = '\0';
    for (int p = 0; p < n && at + 12 < size; p++) {
        int w = snprintf(buf + at, size - at, "%s%s", !p ? "(" : p == nin ? " -> " : ", ",
                         io[p] == PL_DTYPE_INVALID ? "*" : pl__dtype_short(io[p]));
        at += w > 0 ? (size_t)w : 0;
    }
    if (at + 2 < size)
        strcat(buf, ")");
    return buf;
}

/* Fills out[] (dtype, rank, dims; data untouched) from the declarations at the shapes of env. */
static bool pl__resolve(pl__cb *cb, const pl__exprs *x, const pl__expr_env *env, pl__tview *out) {
    const pl__plugin_entry *e = cb->e;
    int nin = cb->c.nin, nout = cb->c.nout;
    pl_dtype io[2 * PL_PLUGIN_MAX_IO];
    char err[512], a[160], b[512];
    for (int i = 0; i < nin; i++)
        io[i] = cb->in[i].dtype;
    for (int k = 0; k < nout; k++)
        io[nin + k] = cb->decl[k].size ? PL_DTYPE_INVALID : cb->decl[k].dtype;
    if (e->types.ncombos) {
        int c = pl__types_match(&e->types, io, nin + nout);
        if (c < 0) {
            bool inputs_ok = pl__types_match(&e->types, io, nin) >= 0;
            return pl__cb_fail_s(cb, PL_ERR_INVALID_ARG, "%s dtypes %s are not accepted; it "
                                 "accepts %s", inputs_ok ? "output" : "input",
                                 pl__io_str(io, nin, inputs_ok ? nin + nout : nin, a, sizeof(a)),
                                 pl__types_str(&e->types, b, sizeof(b))) == 0;
        }
        for (int k = 0; k < nout; k++)
            if (io[nin + k] == PL_DTYPE_INVALID)
                io[nin + k] = e->types.v[(size_t)c * (size_t)e->types.npos + (size_t)(nin + k)];
    }
    for (int k = 0; k < nout; k++) {
        const pl__out_decl *d = &cb->decl[k];
        pl_dtype dt = io[nin + k];
        if (dt == PL_DTYPE_INVALID)
            dt = d->size ? PL_INT32 : nin > 0 ? cb->in[0].dtype : PL_DTYPE_INVALID;
        if (dt == PL_DTYPE_INVALID)
            return pl__cb_fail(cb, "output %d has no dtype (give one to pl_output or in types)",
                               k) == 0;
        if (d->size && dt != PL_INT32 && dt != PL_INT64)
            return pl__cb_fail(cb, "output %d is a size tensor, so it must be INT32 or INT64, "
                               "not %s", k, pl__dtype_short(dt)) == 0;
        out[k].dtype = dt;
        out[k].rank = d->size ? 0 : d->rank;
        for (int i = 0; i < out[k].rank; i++) {
            int64_t v;
            if (!pl__expr_eval(x, env, d->dims[i], &v, err, sizeof(err)))
                return pl__cb_fail_s(cb, PL_ERR_SHAPE, "output %d dim %d: %s", k, i, err) == 0;
            if (v < 0) {
                char s[128] = "";
                for (int j = 0, at = 0; j < env->nin && at < 100; j++)
                    at += snprintf(s + at, sizeof(s) - (size_t)at, "%s%s", j ? " " : "",
                                   pl__dims_str(env->in[j].rank, env->in[j].dims, a, sizeof(a)));
                return pl__cb_fail_s(cb, PL_ERR_SHAPE, "output %d dim %d = %s is %lld at input "
                                     "shapes %s", k, i, pl__expr_str(x, d->dims[i], b, sizeof(b)),
                                     (long long)v, s) == 0;
            }
            out[k].dims[i] = v;
        }
        for (int i = out[k].rank; i < PL_MAX_RANK; i++)
            out[k].dims[i] = 0;
    }
    for (int k = 0; k < nout; k++) {
        int j = e->def.alias[k] - 1;
        if (j < 0 || j >= nin || cb->in[j].dtype == PL_DTYPE_INVALID)
            continue;
        if (out[k].dtype != cb->in[j].dtype ||
            pl__numel(out[k].rank, out[k].dims) != pl__numel(env->in[j].rank, env->in[j].dims))
            return pl__cb_fail_s(cb, PL_ERR_SHAPE, "output %d is input %d updated in place, so it "
                                 "must have the input's dtype and element count", k, j) == 0;
    }
    return true;
}

static pl_status pl__cb_status(const pl__cb *cb, pl_status dflt) {
    return cb->status ? cb->status : dflt;
}

static int pl__pick_combo(const pl__plugin_entry *e, const pl_dtype *in, int nin, bool prefer_fp16);

static pl_status pl__infer_mode(pl__infer *ic, pl__size_mode mode) {
    const pl__layer *l = ic->layer;
    const pl__plugin_entry *e = l ? l->plugin : NULL;
    pl__expr_env env = {ic->nin, ic->in, mode, NULL};
    pl__exprs x = {0};
    pl__cb cb;
    bool ok;
    if (!e)
        return pl__fail(PL_ERR_INTERNAL, "node '%s': plugin '%s::%s' is not bound to the registry",
                        l ? pl__layer_label(l) : "?", l && l->plugin_ns ? l->plugin_ns : "",
                        l && l->plugin_name ? l->plugin_name : "?");
    if (ic->nin > e->nin || ic->nout != e->nout)
        return pl__fail(PL_ERR_INTERNAL, "node '%s': plugin '%s' inferred with %d inputs and %d "
                        "outputs", pl__layer_label(l), e->full, ic->nin, ic->nout);
    pl__cb_init(&cb, e, l, PL_PHASE_OUTPUTS, ic->nin, ic->in, ic->nout, NULL);
    /* Inputs the plugin does not accept but that a cast reaches (FP64 into "FP32|FP16") are
     * inferred as if cast: the builder infers before it negotiates precisions and inserts the
     * casts. The kernel wrapper still refuses such data, so nothing can run on it uncast. */
    if (e->types.ncombos) {
        pl_dtype have[PL_PLUGIN_MAX_IO];
        int c;
        for (int i = 0; i < ic->nin; i++)
            have[i] = cb.in[i].dtype;
        if (pl__types_match(&e->types, have, ic->nin) < 0 &&
            (c = pl__pick_combo(e, have, ic->nin, false)) >= 0)
            for (int i = 0; i < ic->nin; i++)
                if (have[i] != PL_DTYPE_INVALID)
                    cb.in[i].dtype = e->types.v[(size_t)c * (size_t)e->types.npos + (size_t)i];
    }
    ok = pl__run_outputs(&cb, &x) && pl__resolve(&cb, &x, &env, ic->out);
    pl__exprs_free(&x);
    if (!ok)
        return pl__fail(pl__cb_status(&cb, PL_ERR_SHAPE), "node '%s' (plugin '%s'): %s",
                        pl__layer_label(l), e->full, cb.err);
    return PL_OK;
}

pl_status pl__plugin_infer(pl__infer *ic) { return pl__infer_mode(ic, PL__SIZE_UPPER); }
pl_status pl__plugin_infer_opt(pl__infer *ic) { return pl__infer_mode(ic, PL__SIZE_OPT); }

/* outputs() needs input ranks, which a layer alone does not tell: probe the callback at each
 * rank (the first it accepts decides) with the layer's attributes and the first accepted
 * dtypes. Cheap: a callback call builds a few nodes. */
bool pl__plugin_data_dependent(const pl__layer *l) {
    const pl__plugin_entry *e = l ? l->plugin : NULL;
    pl__tview in[PL_PLUGIN_MAX_IO];
    if (!e || l->nin > PL_PLUGIN_MAX_IO)
        return false;
    if (!e->def.outputs) /* the default: every output like input 0 */
        return false;
    for (int r = 0; r <= PL_MAX_RANK; r++) {
        pl__exprs x = {0};
        pl__cb cb;
        bool ok, dd = false;
        memset(in, 0, sizeof(in));
        for (int i = 0; i < l->nin; i++) {
            in[i].dtype = l->in[i] < 0 ? PL_DTYPE_INVALID
                          : e->types.ncombos ? e->types.v[i] : PL_FLOAT32;
            in[i].rank = r;
        }
        pl__cb_init(&cb, e, l, PL_PHASE_OUTPUTS, l->nin, in, l->nout, NULL);
        ok = pl__run_outputs(&cb, &x);
        for (int k = 0; ok && k < l->nout; k++)
            dd = dd || cb.decl[k].size;
        pl__exprs_free(&x);
        if (ok)
            return dd;
    }
    return false;
}

int pl__plugin_alias(const pl__layer *l, int out) {
    const pl__plugin_entry *e = l ? l->plugin : NULL;
    if (!e || out < 0 || out >= e->nout || out >= PL_PLUGIN_MAX_IO)
        return -1;
    return e->def.alias[out] - 1;
}

/* ---- kernels ---- */

static const char *pl__tactic_label(const pl__plugin_entry *e, int tactic, char *buf, size_t size) {
    buf[0] = '\0';
    if (e->ntactics > 1 && tactic >= 0 && tactic < e->ntactics)
        snprintf(buf, size, ", tactic '%s'", e->def.tactics[tactic]);
    return buf;
}

/* After a kernel with size tensors: read their values, check them against the bounds and
 * rewrite the outputs' dims. */
static pl_status pl__apply_sizes(const pl__kernel_args *a, const pl__plugin_entry *e,
                                 const pl__backend *be) {
    const pl__layer *l = a->layer;
    pl__exprs x = {0};
    pl__tview tmp[PL_PLUGIN_MAX_IO];
    int64_t actual[PL_PLUGIN_MAX_IO];
    pl__expr_env env = {a->nin, a->in, PL__SIZE_UPPER, actual};
    char err[512];
    pl__cb cb;
    bool ok;
    pl__cb_init(&cb, e, l, PL_PHASE_OUTPUTS, a->nin, a->in, a->nout, NULL);
    ok = pl__run_outputs(&cb, &x);
    for (int s = 0; ok && s < x.nsym; s++) {
        int k = x.sym[s].out;
        const pl__tview *o = &a->out[k];
        int64_t upper = 0;
        union {
            int32_t i32;
            int64_t i64;
        } v = {0};
        size_t nb = o->dtype == PL_INT64 ? 8 : 4;
        if (!o->data || (o->dtype != PL_INT32 && o->dtype != PL_INT64)) {
            ok = pl__cb_fail(&cb, "size tensor output %d has no int32/int64 buffer", k) == 0;
            break;
        }
        if (be && !be->host_memory) {
            pl_status st = be->copy(a->bctx, &v, o->data, nb, PL__D2H);
            if (st || (st = be->sync(a->bctx))) {
                ok = pl__cb_fail(&cb, "reading size tensor output %d: %s", k, pl_errmsg()) == 0;
                break;
            }
        } else {
            memcpy(&v, o->data, nb);
        }
        actual[s] = o->dtype == PL_INT64 ? v.i64 : v.i32;
        if (!pl__expr_eval(&x, &env, x.sym[s].upper, &upper, err, sizeof(err))) {
            ok = pl__cb_fail(&cb, "size tensor %d upper bound: %s", k, err) == 0;
            break;
        }
        if (actual[s] < 0 || actual[s] > upper) {
            ok = pl__cb_fail(&cb, "the kernel wrote %lld into size tensor output %d, outside "
                             "0..%lld (its declared upper bound)", (long long)actual[s], k,
                             (long long)upper) == 0;
            break;
        }
    }
    if (ok) {
        env.mode = PL__SIZE_ACTUAL;
        memcpy(tmp, a->out, sizeof(pl__tview) * (size_t)a->nout);
        ok = pl__resolve(&cb, &x, &env, tmp);
        for (int k = 0; ok && k < a->nout; k++) {
            a->out[k].rank = tmp[k].rank;
            memcpy(a->out[k].dims, tmp[k].dims, sizeof(tmp[k].dims));
        }
    }
    pl__exprs_free(&x);
    if (!ok)
        return pl__fail(PL_ERR_PLUGIN, "node '%s' (plugin '%s'): %s", pl__layer_label(l), e->full,
                        cb.err);
    return PL_OK;
}

/* Whether the (input, output) dtypes are one of the definition's combinations; the error names
 * them and the accepted ones. */
static bool pl__dtypes_accepted(const pl__kernel_args *a, const pl__plugin_entry *e) {
    const pl__layer *l = a->layer;
    pl_dtype io[2 * PL_PLUGIN_MAX_IO];
    char s1[160], s2[512];
    if (a->nin > PL_PLUGIN_MAX_IO || a->nout > PL_PLUGIN_MAX_IO)
        return false;
    if (!e->types.ncombos)
        return true;
    for (int i = 0; i < a->nin; i++)
        io[i] = (i < l->nin && l->in[i] < 0) ? PL_DTYPE_INVALID : a->in[i].dtype;
    for (int k = 0; k < a->nout; k++)
        io[a->nin + k] = a->out[k].dtype;
    if (pl__types_match(&e->types, io, a->nin + a->nout) >= 0)
        return true;
    pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (plugin '%s'): dtypes %s are not accepted; it "
             "accepts %s", pl__layer_label(l), e->full,
             pl__io_str(io, a->nin, a->nin + a->nout, s1, sizeof(s1)),
             pl__types_str(&e->types, s2, sizeof(s2)));
    return false;
}

static pl_status pl__run(const pl__kernel_args *a, pl_device dev) {
    const pl__layer *l = a->layer;
    const pl__plugin_entry *e = l ? l->plugin : NULL;
    const pl__backend *be = pl__backend_get(dev);
    int (*fn)(pl_ctx *);
    char tl[160];
    pl__cb cb;
    int rc;
    if (!e)
        return pl__fail(PL_ERR_INTERNAL, "plugin kernel run on an unbound layer");
    fn = dev == PL_DEVICE_CPU ? e->def.cpu : e->def.cuda;
    if (!fn || !be)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (plugin '%s'): no %s kernel",
                        pl__layer_label(l), e->full, pl_device_name(dev));
    if (a->nin > PL_PLUGIN_MAX_IO || a->nout != e->nout)
        return pl__fail(PL_ERR_INTERNAL, "node '%s' (plugin '%s'): run with %d inputs, %d outputs",
                        pl__layer_label(l), e->full, a->nin, a->nout);
    if (a->tactic < 0 || a->tactic >= (e->ntactics > 1 ? e->ntactics : 1))
        return pl__fail(PL_ERR_INTERNAL, "node '%s' (plugin '%s'): tactic %d out of range",
                        pl__layer_label(l), e->full, a->tactic);
    if (!pl__dtypes_accepted(a, e))
        return PL_ERR_UNSUPPORTED; /* never hand a kernel data it did not declare */
    pl__cb_init(&cb, e, l, PL_PHASE_KERNEL, a->nin, a->in, a->nout, a->out);
    cb.c.tactic = a->tactic;
    cb.c.workspace = a->workspace;
    cb.c.workspace_size = a->workspace_size;
    cb.c.state = a->state;
    /* a kernel launched on the legacy default stream would race with a context's non-blocking
     * stream: without the backend's stream there is no correct way to run a device kernel */
    if (!be->host_memory && !be->get_stream)
        return pl__fail(PL_ERR_INTERNAL, "node '%s' (plugin '%s'): the %s backend does not hand "
                        "out its stream (pl__backend.get_stream), so plugin kernels cannot run on "
                        "it", pl__layer_label(l), e->full, be->name);
    cb.c.stream = be->get_stream ? be->get_stream(a->bctx) : NULL;
    /* An in-place output whose memory the runtime could not share with its input: start the
     * output as a copy of the input and let the kernel see the output's memory as that input,
     * so a kernel that updates its input in place (as QDP samples do) still fills the output
     * and never clobbers a tensor someone else reads. */
    for (int k = 0; k < a->nout; k++) {
        int j = e->def.alias[k] - 1;
        size_t nb;
        pl_status s;
        if (j < 0 || j >= a->nin || !a->in[j].data || !a->out[k].data ||
            a->in[j].data == a->out[k].data)
            continue;
        nb = pl__tview_bytes(&a->in[j]);
        if (nb > pl__tview_bytes(&a->out[k]))
            return pl__fail(PL_ERR_INTERNAL, "node '%s' (plugin '%s'): in-place output %d is "
                            "smaller than input %d", pl__layer_label(l), e->full, k, j);
        if (nb && (s = be->copy(a->bctx, a->out[k].data, a->in[j].data, nb, PL__D2D)))
            return pl__fail_prefix(s, "node '%s' (plugin '%s')", pl__layer_label(l), e->full);
        cb.in[j].data = a->out[k].data;
    }
    rc = fn(&cb.c);
    if (rc != 0 || cb.failed)
        return pl__fail(PL_ERR_PLUGIN, "node '%s' (plugin '%s'%s): %s%s", pl__layer_label(l),
                        e->full, pl__tactic_label(e, a->tactic, tl, sizeof(tl)),
                        cb.failed ? cb.err : "the kernel failed without a message (it returned ",
                        cb.failed ? "" : rc == 0 ? "0)" : "non-zero)");
    if (__atomic_load_n(&e->uses_size, __ATOMIC_RELAXED))
        return pl__apply_sizes(a, e, be);
    return PL_OK;
}

static pl_status pl__run_cpu(const pl__kernel_args *a) { return pl__run(a, PL_DEVICE_CPU); }
static pl_status pl__run_cuda(const pl__kernel_args *a) { return pl__run(a, PL_DEVICE_CUDA); }

static bool pl__supports(const pl__kernel_args *a) {
    const pl__layer *l = a->layer;
    const pl__plugin_entry *e = l->plugin;
    if (!pl__dtypes_accepted(a, e))
        return false;
    if (e->def.supports) {
        pl__cb cb;
        bool ok;
        pl__cb_init(&cb, e, l, PL_PHASE_SUPPORTS, a->nin, a->in, a->nout, a->out);
        ok = e->def.supports(&cb.c) && !cb.failed;
        if (!ok) {
            pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (plugin '%s'): %s", pl__layer_label(l), e->full,
                     cb.failed ? cb.err : "supports() refused these inputs");
            return false;
        }
    }
    return true;
}

/* SIZE_MAX (error set) when the expression fails: no workspace limit admits it. */
static size_t pl__workspace(const pl__kernel_args *a) {
    const pl__layer *l = a->layer;
    const pl__plugin_entry *e = l->plugin;
    pl__expr_env env = {a->nin, a->in, PL__SIZE_UPPER, NULL};
    pl__exprs x = {0};
    char err[512] = "";
    int64_t v = 0;
    pl__cb cb;
    pl_expr w;
    bool ok;
    pl__cb_init(&cb, e, l, PL_PHASE_WORKSPACE, a->nin, a->in, a->nout, a->out);
    cb.x = &x;
    w = e->def.workspace(&cb.c);
    ok = !cb.failed && pl__expr_eval(&x, &env, w, &v, err, sizeof(err)) && v >= 0;
    pl__exprs_free(&x);
    if (!ok) {
        pl__fail(PL_ERR_PLUGIN, "node '%s' (plugin '%s'): workspace(): %s", pl__layer_label(l),
                 e->full, cb.failed ? cb.err : err[0] ? err : "negative size");
        return SIZE_MAX;
    }
    return (size_t)v;
}

static pl_status pl__state_create(const pl__kernel_args *a, void **state) {
    const pl__layer *l = a->layer;
    const pl__plugin_entry *e = l->plugin;
    pl__cb cb;
    int rc;
    *state = NULL;
    pl__cb_init(&cb, e, l, PL_PHASE_STATE, a->nin, a->in, a->nout, a->out);
    cb.c.tactic = a->tactic;
    rc = e->def.state_create(&cb.c, state);
    if (rc != 0 || cb.failed)
        return pl__fail(PL_ERR_PLUGIN, "node '%s' (plugin '%s'): state_create(): %s",
                        pl__layer_label(l), e->full, cb.failed ? cb.err : "failed");
    return PL_OK;
}

static void pl__state_destroy(const pl__layer *l, void *state) {
    const pl__plugin_entry *e = l ? l->plugin : NULL;
    if (e && e->def.state_destroy && state)
        e->def.state_destroy(state, e->def.user);
}

void pl__plugin_fill_kernels(pl__plugin_entry *e) {
    for (int dev = 0; dev < 2; dev++) {
        pl__kernel_def *k = &e->kdef[dev];
        k->run = dev == PL_DEVICE_CPU ? pl__run_cpu : pl__run_cuda;
        k->supports = pl__supports;
        k->workspace = e->def.workspace ? pl__workspace : NULL;
        k->state_create = e->def.state_create ? pl__state_create : NULL;
        k->state_destroy = e->def.state_create ? pl__state_destroy : NULL;
    }
}

const pl__kernel_def *pl__plugin_kernel(const pl__layer *l, pl_device device) {
    const pl__plugin_entry *e = l ? l->plugin : NULL;
    if (!e) {
        pl__fail(PL_ERR_INTERNAL, "node '%s': plugin layer is not bound to the registry",
                 l ? pl__layer_label(l) : "?");
        return NULL;
    }
    if (device == PL_DEVICE_CPU && e->def.cpu)
        return &e->kdef[PL_DEVICE_CPU];
    if (device == PL_DEVICE_CUDA && e->def.cuda)
        return &e->kdef[PL_DEVICE_CUDA];
    if (device == PL_DEVICE_CUDA && e->def.cuda_source)
        pl__fail(PL_ERR_UNSUPPORTED, "node '%s': plugin '%s' has only an NVRTC kernel "
                 "(cuda_source), which this plinth cannot compile yet", pl__layer_label(l),
                 e->full);
    else
        pl__fail(PL_ERR_UNSUPPORTED, "node '%s': plugin '%s' has no %s kernel (it has: %s%s%s)",
                 pl__layer_label(l), e->full, pl_device_name(device), e->def.cpu ? "cpu " : "",
                 e->def.cuda ? "cuda " : "", e->def.cuda_source ? "nvrtc" : "");
    return NULL;
}

/* ---- precision negotiation ---- */

static int pl__dtype_class(pl_dtype t) {
    switch (t) {
    case PL_FLOAT32: case PL_FLOAT16: case PL_BFLOAT16: case PL_FLOAT64: return 1;
    case PL_INT8: case PL_UINT8: case PL_INT32: case PL_INT64: return 2;
    case PL_BOOL: return 3;
    default: return 0;
    }
}

/* The accepted combination needing the fewest casts from `in` (float<->float, int<->int), ties
 * to FP16 combinations with prefer_fp16 and to others without; -1 if casts cannot reach one. */
static int pl__pick_combo(const pl__plugin_entry *e, const pl_dtype *in, int nin, bool prefer_fp16) {
    int best = -1, best_cost = 0;
    for (int c = 0; c < e->types.ncombos; c++) {
        const pl_dtype *row = &e->types.v[(size_t)c * (size_t)e->types.npos];
        int cost = 0;
        bool reach = true, half = false;
        for (int i = 0; i < nin && reach; i++) {
            if (in[i] == PL_DTYPE_INVALID || in[i] == row[i])
                continue;
            reach = pl__dtype_class(in[i]) == pl__dtype_class(row[i]) && pl__dtype_class(in[i]);
            cost += 2;
        }
        for (int i = 0; i < nin; i++)
            half = half || row[i] == PL_FLOAT16;
        if (!reach)
            continue;
        cost += prefer_fp16 ? !half : half;
        if (best < 0 || cost < best_cost) {
            best = c;
            best_cost = cost;
        }
    }
    return best;
}

pl_status pl__plugin_pick_types(const pl__layer *l, const pl_dtype *in, bool prefer_fp16,
                                pl_dtype *want) {
    const pl__plugin_entry *e = l ? l->plugin : NULL;
    char s1[160], s2[512];
    int best;
    if (!e)
        return pl__fail(PL_ERR_INTERNAL, "pl__plugin_pick_types: unbound layer");
    for (int i = 0; i < l->nin; i++)
        want[i] = in[i];
    if (!e->types.ncombos)
        return PL_OK;
    best = pl__pick_combo(e, in, l->nin, prefer_fp16);
    if (best < 0)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s': plugin '%s' accepts %s; input dtypes %s "
                        "cannot be cast to any of them", pl__layer_label(l), e->full,
                        pl__types_str(&e->types, s2, sizeof(s2)),
                        pl__io_str(in, l->nin, l->nin, s1, sizeof(s1)));
    for (int i = 0; i < l->nin; i++)
        if (in[i] != PL_DTYPE_INVALID)
            want[i] = e->types.v[(size_t)best * (size_t)e->types.npos + (size_t)i];
    return PL_OK;
}
