/*
 * expr.c - symbolic shape expressions of plugins. A plugin's outputs() and workspace()
 * callbacks build small expression DAGs over input dims, constants and size symbols; the host
 * evaluates them at concrete shapes (each build profile point, and at run time after a
 * data-dependent kernel reports its sizes). Nodes only refer to earlier nodes, so one forward
 * pass evaluates a whole set. Node handles live in a reserved range just above PL_EXPR_INVALID
 * (INT64_MIN); every other integer is a literal constant, which lets plugin code write dims
 * and offsets (also negative ones) as plain numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin-impl.h"

#define PL__HANDLE_BASE (INT64_MIN + 1)
#define PL__MAX_NODES (1 << 20)

bool pl__expr_is_node(pl_expr e) {
    return e >= PL__HANDLE_BASE && e < PL__HANDLE_BASE + PL__MAX_NODES;
}
static int64_t pl__node_id(pl_expr e) { return e - PL__HANDLE_BASE; }
static pl_expr pl__handle(int64_t id) { return PL__HANDLE_BASE + id; }
static bool pl__is_literal(pl_expr e) { return e != PL_EXPR_INVALID && !pl__expr_is_node(e); }

static bool pl__valid(const pl__exprs *x, pl_expr e) {
    return pl__is_literal(e) || (pl__expr_is_node(e) && pl__node_id(e) < x->count);
}

bool pl__expr_valid(const pl__exprs *x, pl_expr e) { return pl__valid(x, e); }

static pl_expr pl__push(pl__exprs *x, const pl__enode *n, char *err, size_t errsize) {
    if (x->count >= PL__MAX_NODES) {
        snprintf(err, errsize, "more than 2^20 shape expression nodes");
        return PL_EXPR_INVALID;
    }
    if (!pl__grow((void **)&x->n, &x->cap, x->count + 1, sizeof(*x->n))) {
        snprintf(err, errsize, "out of memory building shape expressions");
        return PL_EXPR_INVALID;
    }
    x->n[x->count] = *n;
    return pl__handle(x->count++);
}

void pl__exprs_free(pl__exprs *x) {
    free(x->n);
    memset(x, 0, sizeof(*x));
}

static pl_expr pl__constant(pl__exprs *x, int64_t v, char *err, size_t errsize) {
    pl__enode n = {.kind = PL__E_CONST, .v = v};
    return pl__is_literal(v) ? v : pl__push(x, &n, err, errsize);
}

pl_expr pl__expr_dim(pl__exprs *x, int input, int axis, char *err, size_t errsize) {
    pl__enode n = {.kind = PL__E_DIM, .i = input, .j = axis};
    /* one node per dim: outputs() callbacks ask for the same dims again and again */
    for (int k = 0; k < x->count; k++)
        if (x->n[k].kind == PL__E_DIM && x->n[k].i == input && x->n[k].j == axis)
            return pl__handle(k);
    return pl__push(x, &n, err, errsize);
}

pl_expr pl__expr_size(pl__exprs *x, int sym, char *err, size_t errsize) {
    pl__enode n = {.kind = PL__E_SIZE, .i = sym};
    return pl__push(x, &n, err, errsize);
}

/* The value of e if it is a constant. */
static bool pl__const_of(const pl__exprs *x, pl_expr e, int64_t *v) {
    if (pl__is_literal(e)) {
        *v = e;
        return true;
    }
    if (x->n[pl__node_id(e)].kind == PL__E_CONST) {
        *v = x->n[pl__node_id(e)].v;
        return true;
    }
    return false;
}

static int64_t pl__floordiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* 0 ok, 1 division by zero, 2 overflow */
static int pl__apply(int op, int64_t a, int64_t b, int64_t *r) {
    switch (op) {
    case PL_EXPR_ADD: return __builtin_add_overflow(a, b, r) ? 2 : 0;
    case PL_EXPR_SUB: return __builtin_sub_overflow(a, b, r) ? 2 : 0;
    case PL_EXPR_MUL: return __builtin_mul_overflow(a, b, r) ? 2 : 0;
    case PL_EXPR_FLOOR_DIV:
    case PL_EXPR_CEIL_DIV:
        if (b == 0)
            return 1;
        if (a == INT64_MIN && b == -1)
            return 2;
        if (op == PL_EXPR_FLOOR_DIV) {
            *r = pl__floordiv(a, b);
        } else {
            if (a == INT64_MIN)
                return 2;
            *r = -pl__floordiv(-a, b);
        }
        return 0;
    case PL_EXPR_MIN: *r = a < b ? a : b; return 0;
    case PL_EXPR_MAX: *r = a > b ? a : b; return 0;
    case PL_EXPR_EQ: *r = a == b; return 0;
    case PL_EXPR_LT: *r = a < b; return 0;
    default: return 3;
    }
}

static const char *const pl__err_text[] = {"", "division by zero", "integer overflow",
                                           "unknown operation"};

pl_expr pl__expr_op(pl__exprs *x, int op, pl_expr a, pl_expr b, char *err, size_t errsize) {
    pl__enode n = {.kind = op, .a = a, .b = b};
    int64_t ca, cb, r;
    if (op < PL_EXPR_ADD || op > PL_EXPR_LT) {
        snprintf(err, errsize, "unknown expression operation %d", op);
        return PL_EXPR_INVALID;
    }
    if (!pl__valid(x, a) || !pl__valid(x, b)) {
        if (a != PL_EXPR_INVALID && b != PL_EXPR_INVALID)
            snprintf(err, errsize, "an operand is not an expression of this callback");
        return PL_EXPR_INVALID;
    }
    if (pl__const_of(x, a, &ca) && pl__const_of(x, b, &cb)) {
        int e = pl__apply(op, ca, cb, &r);
        if (e) {
            snprintf(err, errsize, "%s in a constant shape expression (%lld, %lld)",
                     pl__err_text[e], (long long)ca, (long long)cb);
            return PL_EXPR_INVALID;
        }
        return pl__constant(x, r, err, errsize);
    }
    /* neutral elements keep printed expressions readable */
    if ((op == PL_EXPR_ADD || op == PL_EXPR_SUB) && pl__const_of(x, b, &cb) && cb == 0)
        return a;
    if (op == PL_EXPR_ADD && pl__const_of(x, a, &ca) && ca == 0)
        return b;
    if ((op == PL_EXPR_MUL || op == PL_EXPR_FLOOR_DIV || op == PL_EXPR_CEIL_DIV) &&
        pl__const_of(x, b, &cb) && cb == 1)
        return a;
    if (op == PL_EXPR_MUL && pl__const_of(x, a, &ca) && ca == 1)
        return b;
    return pl__push(x, &n, err, errsize);
}

bool pl__expr_uses_size(const pl__exprs *x, pl_expr e) {
    const pl__enode *n;
    if (!pl__expr_is_node(e) || !pl__valid(x, e))
        return false;
    n = &x->n[pl__node_id(e)];
    if (n->kind == PL__E_SIZE)
        return true;
    if (n->kind >= PL_EXPR_ADD)
        return pl__expr_uses_size(x, n->a) || pl__expr_uses_size(x, n->b);
    return false;
}

/* Forward pass over nodes [0, upto]: vals[k], bad[k] (0 ok, else an error code; 4: missing dim,
 * 5: bad operand, 6: missing size). */
static void pl__eval_nodes(const pl__exprs *x, const pl__expr_env *env, int64_t upto, int64_t *vals,
                           uint8_t *bad) {
    for (int64_t k = 0; k <= upto; k++) {
        const pl__enode *n = &x->n[k];
        bad[k] = 0;
        vals[k] = 0;
        if (n->kind == PL__E_CONST) {
            vals[k] = n->v;
        } else if (n->kind == PL__E_DIM) {
            if (n->i < 0 || n->i >= env->nin || n->j < 0 || n->j >= env->in[n->i].rank)
                bad[k] = 4;
            else
                vals[k] = env->in[n->i].dims[n->j];
        } else if (n->kind == PL__E_SIZE) {
            const pl__size_sym *s = n->i >= 0 && n->i < x->nsym ? &x->sym[n->i] : NULL;
            pl_expr src = !s ? PL_EXPR_INVALID : env->mode == PL__SIZE_OPT ? s->opt : s->upper;
            if (!s) {
                bad[k] = 6;
            } else if (env->mode == PL__SIZE_ACTUAL) {
                if (env->actual)
                    vals[k] = env->actual[n->i];
                else
                    bad[k] = 6;
            } else if (pl__is_literal(src)) {
                vals[k] = src;
            } else if (src == PL_EXPR_INVALID || pl__node_id(src) >= k) {
                bad[k] = 5;
            } else {
                vals[k] = vals[pl__node_id(src)];
                bad[k] = bad[pl__node_id(src)];
            }
        } else {
            int64_t va = 0, vb = 0;
            uint8_t ba = 0, bb = 0;
            if (pl__is_literal(n->a))
                va = n->a;
            else if (!pl__expr_is_node(n->a) || pl__node_id(n->a) >= k)
                ba = 5;
            else
                va = vals[pl__node_id(n->a)], ba = bad[pl__node_id(n->a)];
            if (pl__is_literal(n->b))
                vb = n->b;
            else if (!pl__expr_is_node(n->b) || pl__node_id(n->b) >= k)
                bb = 5;
            else
                vb = vals[pl__node_id(n->b)], bb = bad[pl__node_id(n->b)];
            if (ba || bb)
                bad[k] = ba ? ba : bb;
            else
                bad[k] = (uint8_t)pl__apply(n->kind, va, vb, &vals[k]);
        }
    }
}

bool pl__expr_eval(const pl__exprs *x, const pl__expr_env *env, pl_expr e, int64_t *out, char *err,
                   size_t errsize) {
    static const char *const more[] = {"", "", "", "", "an input dim that does not exist",
                                       "a malformed expression", "a size tensor without a value"};
    int64_t id, *vals;
    uint8_t *bad;
    bool ok;
    if (pl__is_literal(e)) {
        *out = e;
        return true;
    }
    if (!pl__valid(x, e)) {
        snprintf(err, errsize, "invalid shape expression");
        return false;
    }
    id = pl__node_id(e);
    vals = malloc(sizeof(int64_t) * (size_t)(id + 1));
    bad = malloc((size_t)(id + 1));
    if (!vals || !bad) {
        free(vals);
        free(bad);
        snprintf(err, errsize, "out of memory evaluating a shape expression");
        return false;
    }
    pl__eval_nodes(x, env, id, vals, bad);
    ok = bad[id] == 0;
    if (ok) {
        *out = vals[id];
    } else {
        char buf[256];
        snprintf(err, errsize, "%s: %s", pl__expr_str(x, e, buf, sizeof(buf)),
                 bad[id] < 4 ? pl__err_text[bad[id]] : more[bad[id] < 7 ? bad[id] : 5]);
    }
    free(vals);
    free(bad);
    return ok;
}

typedef struct pl__sbuf {
    char *p;
    size_t size, len;
} pl__sbuf;

static void pl__put(pl__sbuf *s, const char *fmt, long long a, long long b) {
    int n;
    if (s->len + 1 >= s->size)
        return;
    n = snprintf(s->p + s->len, s->size - s->len, fmt, a, b);
    if (n > 0)
        s->len = s->len + (size_t)n < s->size ? s->len + (size_t)n : s->size - 1;
}

static void pl__print(const pl__exprs *x, pl_expr e, pl__sbuf *s, int depth) {
    static const char *const sym[] = {"", " + ", " - ", " * ", " // "};
    const pl__enode *n;
    if (pl__is_literal(e)) {
        pl__put(s, "%lld", e, 0);
        return;
    }
    if (!pl__valid(x, e)) {
        pl__put(s, "<invalid>", 0, 0);
        return;
    }
    if (depth > 24) {
        pl__put(s, "...", 0, 0);
        return;
    }
    n = &x->n[pl__node_id(e)];
    switch (n->kind) {
    case PL__E_CONST: pl__put(s, "%lld", n->v, 0); return;
    case PL__E_DIM: pl__put(s, "in%lld[%lld]", n->i, n->j); return;
    case PL__E_SIZE: pl__put(s, "size%lld", n->i, 0); return;
    case PL_EXPR_ADD: case PL_EXPR_SUB: case PL_EXPR_MUL: case PL_EXPR_FLOOR_DIV:
        pl__put(s, "(", 0, 0);
        pl__print(x, n->a, s, depth + 1);
        pl__put(s, sym[n->kind], 0, 0);
        pl__print(x, n->b, s, depth + 1);
        pl__put(s, ")", 0, 0);
        return;
    default: {
        static const char *const fn[] = {"cdiv(", "min(", "max(", "eq(", "lt("};
        const char *name = n->kind >= PL_EXPR_CEIL_DIV && n->kind <= PL_EXPR_LT
                               ? fn[n->kind - PL_EXPR_CEIL_DIV] : "?(";
        pl__put(s, name, 0, 0);
        pl__print(x, n->a, s, depth + 1);
        pl__put(s, ", ", 0, 0);
        pl__print(x, n->b, s, depth + 1);
        pl__put(s, ")", 0, 0);
    }
    }
}

char *pl__expr_str(const pl__exprs *x, pl_expr e, char *buf, size_t size) {
    pl__sbuf s = {buf, size, 0};
    if (size)
        buf[0] = '\0';
    pl__print(x, e, &s, 0);
    return buf;
}
