/*
 * test-plugin-expr.c - symbolic shape expressions (building, folding, evaluating at concrete
 * shapes, size symbols, errors, printing) and the dtype-combination grammar of plugin
 * definitions.
 */
#include <string.h>

#include "harness.h"
#include "plugin/plugin-impl.h"

static char err[512];

static int64_t ev(const pl__exprs *x, const pl__expr_env *env, pl_expr e) {
    int64_t v = -12345;
    err[0] = '\0';
    if (!pl__expr_eval(x, env, e, &v, err, sizeof(err)))
        return -99999;
    return v;
}

static void test_constants_fold(void) {
    pl__exprs x = {0};
    PL_CHECK(pl__expr_op(&x, PL_EXPR_ADD, 2, 3, err, sizeof(err)) == 5);
    PL_CHECK(pl__expr_op(&x, PL_EXPR_MUL, 6, 7, err, sizeof(err)) == 42);
    PL_CHECK(pl__expr_op(&x, PL_EXPR_CEIL_DIV, 7, 2, err, sizeof(err)) == 4);
    PL_CHECK(pl__expr_op(&x, PL_EXPR_FLOOR_DIV, 7, 2, err, sizeof(err)) == 3);
    /* negative constants are literals too (never mistaken for node handles) */
    pl_expr neg = pl__expr_op(&x, PL_EXPR_SUB, 2, 5, err, sizeof(err));
    PL_CHECK(neg == -3 && !pl__expr_is_node(neg));
    PL_CHECK(pl__expr_op(&x, PL_EXPR_FLOOR_DIV, neg, 2, err, sizeof(err)) == -2);
    PL_CHECK(pl__expr_op(&x, PL_EXPR_CEIL_DIV, neg, 2, err, sizeof(err)) == -1);
    PL_CHECK(pl__expr_op(&x, PL_EXPR_FLOOR_DIV, 7, -2, err, sizeof(err)) == -4);
    PL_CHECK(pl__expr_op(&x, PL_EXPR_CEIL_DIV, 7, -2, err, sizeof(err)) == -3);
    PL_CHECK(x.count == 0); /* constants never become nodes */
    /* a folded value that lands in the handle range becomes a constant node, not a handle */
    pl_expr big = pl__expr_op(&x, PL_EXPR_ADD, INT64_MIN / 2, INT64_MIN / 2 + 2, err, sizeof(err));
    pl__expr_env env = {0};
    PL_CHECK(pl__expr_is_node(big) && x.count == 1 && ev(&x, &env, big) == INT64_MIN + 2);
    PL_CHECK(pl__expr_op(&x, PL_EXPR_FLOOR_DIV, 1, 0, err, sizeof(err)) == PL_EXPR_INVALID);
    PL_CHECK(strstr(err, "division by zero") != NULL);
    PL_CHECK(pl__expr_op(&x, PL_EXPR_MUL, INT64_MAX, 2, err, sizeof(err)) == PL_EXPR_INVALID);
    PL_CHECK(strstr(err, "overflow") != NULL);
    pl__exprs_free(&x);
}

static void test_dims_and_ops(void) {
    pl__exprs x = {0};
    pl__tview in[2] = {{.rank = 3, .dims = {2, 5, 7}}, {.rank = 1, .dims = {4}}};
    pl__expr_env env = {2, in, PL__SIZE_UPPER, NULL};
    pl_expr a = pl__expr_dim(&x, 0, 1, err, sizeof(err));
    pl_expr b = pl__expr_dim(&x, 0, 2, err, sizeof(err));
    pl_expr c = pl__expr_dim(&x, 1, 0, err, sizeof(err));
    PL_CHECK(pl__expr_dim(&x, 0, 1, err, sizeof(err)) == a); /* shared node */
    PL_CHECK(ev(&x, &env, a) == 5 && ev(&x, &env, b) == 7 && ev(&x, &env, c) == 4);
    pl_expr sum = pl__expr_op(&x, PL_EXPR_ADD, a, b, err, sizeof(err));
    PL_CHECK(ev(&x, &env, sum) == 12);
    PL_CHECK(ev(&x, &env, pl__expr_op(&x, PL_EXPR_MIN, a, b, err, sizeof(err))) == 5);
    PL_CHECK(ev(&x, &env, pl__expr_op(&x, PL_EXPR_MAX, a, c, err, sizeof(err))) == 5);
    PL_CHECK(ev(&x, &env, pl__expr_op(&x, PL_EXPR_CEIL_DIV, b, c, err, sizeof(err))) == 2);
    PL_CHECK(ev(&x, &env, pl__expr_op(&x, PL_EXPR_FLOOR_DIV, b, c, err, sizeof(err))) == 1);
    PL_CHECK(ev(&x, &env, pl__expr_op(&x, PL_EXPR_EQ, a, 5, err, sizeof(err))) == 1);
    PL_CHECK(ev(&x, &env, pl__expr_op(&x, PL_EXPR_LT, b, a, err, sizeof(err))) == 0);
    PL_CHECK(ev(&x, &env, pl__expr_op(&x, PL_EXPR_SUB, a, 9, err, sizeof(err))) == -4);
    PL_CHECK(ev(&x, &env, pl__expr_op(&x, PL_EXPR_ADD, a, -2, err, sizeof(err))) == 3);
    PL_CHECK(ev(&x, &env, pl__expr_op(&x, PL_EXPR_MUL, -1, b, err, sizeof(err))) == -7);
    /* neutral elements do not grow the graph */
    PL_CHECK(pl__expr_op(&x, PL_EXPR_MUL, a, 1, err, sizeof(err)) == a);
    PL_CHECK(pl__expr_op(&x, PL_EXPR_ADD, 0, b, err, sizeof(err)) == b);
    /* re-evaluated at another shape */
    in[0].dims[1] = 50;
    PL_CHECK(ev(&x, &env, sum) == 57);
    /* division by a dim that is zero at this shape */
    pl_expr q = pl__expr_op(&x, PL_EXPR_FLOOR_DIV, b, c, err, sizeof(err));
    in[1].dims[0] = 0;
    PL_CHECK(ev(&x, &env, q) == -99999 && strstr(err, "division by zero"));
    PL_CHECK(strstr(err, "in0[2]") && strstr(err, "in1[0]"));
    /* a dim the environment lacks */
    env.nin = 1;
    PL_CHECK(ev(&x, &env, c) == -99999 && strstr(err, "does not exist"));
    char buf[128];
    PL_CHECK(strcmp(pl__expr_str(&x, sum, buf, sizeof(buf)), "(in0[1] + in0[2])") == 0);
    pl__exprs_free(&x);
}

static void test_size_symbols(void) {
    pl__exprs x = {0};
    pl__tview in[1] = {{.rank = 2, .dims = {3, 4}}};
    int64_t actual[1] = {5};
    pl__expr_env env = {1, in, PL__SIZE_UPPER, actual};
    pl_expr upper = pl__expr_op(&x, PL_EXPR_MUL, pl__expr_dim(&x, 0, 0, err, sizeof(err)),
                                pl__expr_dim(&x, 0, 1, err, sizeof(err)), err, sizeof(err));
    pl_expr opt = pl__expr_op(&x, PL_EXPR_FLOOR_DIV, upper, 2, err, sizeof(err));
    x.sym[0] = (pl__size_sym){1, opt, upper};
    x.nsym = 1;
    pl_expr s = pl__expr_size(&x, 0, err, sizeof(err));
    pl_expr twice = pl__expr_op(&x, PL_EXPR_MUL, s, 2, err, sizeof(err));
    PL_CHECK(pl__expr_uses_size(&x, twice) && !pl__expr_uses_size(&x, upper));
    PL_CHECK(ev(&x, &env, s) == 12);
    PL_CHECK(ev(&x, &env, twice) == 24);
    env.mode = PL__SIZE_OPT;
    PL_CHECK(ev(&x, &env, s) == 6);
    env.mode = PL__SIZE_ACTUAL;
    PL_CHECK(ev(&x, &env, twice) == 10);
    pl__exprs_free(&x);
}

static void test_types_grammar(void) {
    pl__types t;
    char buf[256];
    PL_CHECK_OK(pl__types_parse("FP32|FP16, FP32|FP16", 2, "t", &t));
    PL_CHECK(t.ncombos == 2 && t.v[0] == PL_FLOAT32 && t.v[1] == PL_FLOAT32 &&
             t.v[2] == PL_FLOAT16 && t.v[3] == PL_FLOAT16);
    PL_CHECK(strcmp(pl__types_str(&t, buf, sizeof(buf)), "(FP32, FP32) (FP16, FP16)") == 0);
    PL_CHECK(pl__types_match(&t, (pl_dtype[]){PL_FLOAT16}, 1) == 1);
    PL_CHECK(pl__types_match(&t, (pl_dtype[]){PL_INT64}, 1) == -1);
    PL_CHECK(pl__types_match(&t, (pl_dtype[]){PL_FLOAT32, PL_FLOAT16}, 2) == -1);
    PL_CHECK(pl__types_match(&t, (pl_dtype[]){PL_DTYPE_INVALID, PL_FLOAT16}, 2) == 1);
    pl__types_free(&t);
    /* independent choice: cross product with the dependent one */
    PL_CHECK_OK(pl__types_parse("FP32*FP16, fp32|fp16, FP32|FP16", 3, "t", &t));
    PL_CHECK(t.ncombos == 4);
    PL_CHECK(pl__types_match(&t, (pl_dtype[]){PL_FLOAT16, PL_FLOAT32, PL_FLOAT32}, 3) >= 0);
    PL_CHECK(pl__types_match(&t, (pl_dtype[]){PL_FLOAT32, PL_FLOAT16, PL_FLOAT16}, 3) >= 0);
    PL_CHECK(pl__types_match(&t, (pl_dtype[]){PL_FLOAT32, PL_FLOAT32, PL_FLOAT16}, 3) == -1);
    pl__types_free(&t);
    /* alternatives separated by ';' and single types */
    PL_CHECK_OK(pl__types_parse("FP32|FP16, INT32, INT32; INT64, INT64, INT64", 3, "t", &t));
    PL_CHECK(t.ncombos == 3 && t.v[6] == PL_INT64);
    pl__types_free(&t);
    PL_CHECK_FAILS(pl__types_parse("FP32, FP99", 2, "plugin 'x::y'", &t), PL_ERR_INVALID_ARG,
                   "FP99");
    PL_CHECK_FAILS(pl__types_parse("FP32, FP32", 3, "t", &t), PL_ERR_INVALID_ARG, "2 positions");
    PL_CHECK_FAILS(pl__types_parse("FP32|FP16|BF16, FP32|FP16", 2, "t", &t), PL_ERR_INVALID_ARG,
                   "different lengths");
    PL_CHECK_FAILS(pl__types_parse("FP32|FP16*BF16, FP32", 2, "t", &t), PL_ERR_INVALID_ARG,
                   "mixes");
    PL_CHECK_FAILS(pl__types_parse("FP32,, FP32", 2, "t", &t), PL_ERR_INVALID_ARG, "position 1");
}

int main(void) {
    PL_RUN(test_constants_fold);
    PL_RUN(test_dims_and_ops);
    PL_RUN(test_size_symbols);
    PL_RUN(test_types_grammar);
    return pl_test_report();
}
