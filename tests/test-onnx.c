/*
 * test-onnx.c - the ONNX importer and the tensor files: models built in memory with the
 * protobuf-c structs, good and bad. Bad input must fail with a message naming the node, tensor
 * or attribute at fault, and never crash (this file also runs under ASan in CI).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/graph.h"
#include "harness.h"
#include "onnx.pb-c.h"

/* ---- a tiny model builder; everything it allocates is freed by mb_free ---- */
#define MB_MAX 32

typedef struct mb {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset[2];
    Onnx__OperatorSetIdProto *opsets[2];
    Onnx__NodeProto *nodes[MB_MAX];
    Onnx__TensorProto *inits[MB_MAX];
    Onnx__ValueInfoProto *inputs[MB_MAX], *outputs[MB_MAX];
    void *owned[2048];
    int nowned;
} mb;

static void *mb_alloc(mb *m, size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p || m->nowned >= 2048)
        abort();
    m->owned[m->nowned++] = p;
    return p;
}

static char *mb_str(mb *m, const char *s) {
    char *p = mb_alloc(m, strlen(s) + 1);
    strcpy(p, s);
    return p;
}

static mb *mb_new(int64_t opset) {
    mb *m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    onnx__model_proto__init(&m->model);
    onnx__graph_proto__init(&m->graph);
    onnx__operator_set_id_proto__init(&m->opset[0]);
    onnx__operator_set_id_proto__init(&m->opset[1]);
    m->opset[0].domain = "";
    m->opset[0].has_version = 1;
    m->opset[0].version = opset;
    m->opsets[0] = &m->opset[0];
    m->model.n_opset_import = 1;
    m->model.opset_import = m->opsets;
    m->model.has_ir_version = 1;
    m->model.ir_version = 8;
    m->model.graph = &m->graph;
    m->graph.node = m->nodes;
    m->graph.initializer = m->inits;
    m->graph.input = m->inputs;
    m->graph.output = m->outputs;
    m->graph.name = "g";
    return m;
}

static void mb_free(mb *m) {
    for (int i = 0; i < m->nowned; i++)
        free(m->owned[i]);
    free(m);
}

/* Splits "a,b,,c" into names ("" kept for omitted values). */
static size_t mb_names(mb *m, const char *list, char ***out) {
    size_t n = 0;
    char **v;
    const char *p = list;
    if (!list || !*list) {
        *out = NULL;
        return 0;
    }
    for (const char *q = list; *q; q++)
        n += *q == ',';
    n++;
    v = mb_alloc(m, sizeof(char *) * n);
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(p, ",");
        v[i] = mb_alloc(m, len + 1);
        memcpy(v[i], p, len);
        p += len + (p[len] == ',');
    }
    *out = v;
    return n;
}

static Onnx__NodeProto *mb_node(mb *m, const char *op, const char *name, const char *ins,
                                const char *outs) {
    Onnx__NodeProto *n = mb_alloc(m, sizeof(*n));
    onnx__node_proto__init(n);
    n->op_type = mb_str(m, op);
    n->name = mb_str(m, name);
    n->n_input = mb_names(m, ins, &n->input);
    n->n_output = mb_names(m, outs, &n->output);
    n->attribute = mb_alloc(m, sizeof(Onnx__AttributeProto *) * 16);
    m->nodes[m->graph.n_node++] = n;
    return n;
}

static Onnx__AttributeProto *mb_attr(mb *m, Onnx__NodeProto *n, const char *name, int type) {
    Onnx__AttributeProto *a = mb_alloc(m, sizeof(*a));
    onnx__attribute_proto__init(a);
    a->name = mb_str(m, name);
    a->has_type = 1;
    a->type = type;
    n->attribute[n->n_attribute++] = a;
    return a;
}

static void mb_attr_i(mb *m, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = mb_attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1;
    a->i = v;
}

static void mb_attr_f(mb *m, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = mb_attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = v;
}

static void mb_attr_s(mb *m, Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = mb_attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = (uint8_t *)mb_str(m, v);
    a->s.len = strlen(v);
}

static void mb_attr_ints(mb *m, Onnx__NodeProto *n, const char *name, const int64_t *v, size_t c) {
    Onnx__AttributeProto *a = mb_attr(m, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->ints = mb_alloc(m, sizeof(int64_t) * c);
    memcpy(a->ints, v, sizeof(int64_t) * c);
    a->n_ints = c;
}

static Onnx__TensorProto *mb_tensor(mb *m, const char *name, int dtype, int rank,
                                    const int64_t *dims) {
    Onnx__TensorProto *t = mb_alloc(m, sizeof(*t));
    onnx__tensor_proto__init(t);
    t->name = name ? mb_str(m, name) : NULL;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)rank;
    t->dims = mb_alloc(m, sizeof(int64_t) * (size_t)(rank + 1));
    memcpy(t->dims, dims, sizeof(int64_t) * (size_t)rank);
    return t;
}

static void mb_raw(mb *m, Onnx__TensorProto *t, const void *data, size_t n) {
    t->has_raw_data = 1;
    t->raw_data.data = mb_alloc(m, n);
    memcpy(t->raw_data.data, data, n);
    t->raw_data.len = n;
}

static Onnx__TensorProto *mb_init_f(mb *m, const char *name, int rank, const int64_t *dims,
                                    const float *v, size_t n) {
    Onnx__TensorProto *t = mb_tensor(m, name, 1, rank, dims);
    t->float_data = mb_alloc(m, sizeof(float) * n);
    if (n)
        memcpy(t->float_data, v, sizeof(float) * n);
    t->n_float_data = n;
    m->inits[m->graph.n_initializer++] = t;
    return t;
}

/* A value-info with dims; a negative dim becomes dim_param "N". */
static Onnx__ValueInfoProto *mb_vi(mb *m, const char *name, int elem, int rank,
                                   const int64_t *dims) {
    Onnx__ValueInfoProto *v = mb_alloc(m, sizeof(*v));
    Onnx__TypeProto *tp = mb_alloc(m, sizeof(*tp));
    Onnx__TypeProto__Tensor *tt = mb_alloc(m, sizeof(*tt));
    Onnx__TensorShapeProto *sh = mb_alloc(m, sizeof(*sh));
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(tp);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh);
    v->name = mb_str(m, name);
    v->type = tp;
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    if (rank >= 0) {
        tt->shape = sh;
        sh->n_dim = (size_t)rank;
        sh->dim = mb_alloc(m, sizeof(void *) * (size_t)(rank + 1));
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = mb_alloc(m, sizeof(*d));
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = mb_str(m, "N");
            }
            sh->dim[i] = d;
        }
    }
    return v;
}

static void mb_input(mb *m, const char *name, int elem, int rank, const int64_t *dims) {
    m->inputs[m->graph.n_input++] = mb_vi(m, name, elem, rank, dims);
}

static void mb_output(mb *m, const char *name) {
    m->outputs[m->graph.n_output++] = mb_vi(m, name, 1, -1, NULL);
}

static uint8_t *mb_pack(mb *m, size_t *size) {
    *size = onnx__model_proto__get_packed_size(&m->model);
    uint8_t *buf = mb_alloc(m, *size);
    onnx__model_proto__pack(&m->model, buf);
    return buf;
}

static pl_status mb_import(mb *m, const char *base_dir, pl_network **net) {
    size_t size;
    uint8_t *buf = mb_pack(m, &size);
    return pl_onnx_import_memory(buf, size, base_dir, net);
}

static const pl__tensor *find(const pl_network *net, const char *name) {
    int32_t id = pl__network_find(net, name);
    return id >= 0 ? &net->tensors[id] : NULL;
}

/* x[N,3] + W[3] -> Relu -> y, with W from float_data and a Constant from raw_data. */
static mb *simple_model(void) {
    static const int64_t xd[2] = {-1, 3}, wd[1] = {3};
    static const float w[3] = {1, -2, 3};
    mb *m = mb_new(17);
    mb_input(m, "x", 1, 2, xd);
    mb_init_f(m, "W", 1, wd, w, 3);
    mb_node(m, "Add", "add0", "x,W", "s");
    mb_node(m, "Relu", "", "s", "y");
    mb_output(m, "y");
    return m;
}

static void test_import_simple(void) {
    mb *m = simple_model();
    pl_network *net = NULL;
    const pl__tensor *x, *w, *y;
    PL_CHECK_OK(mb_import(m, NULL, &net));
    if (net) {
        PL_CHECK(pl_network_num_layers(net) == 2);
        PL_CHECK(net->ninputs == 1 && net->noutputs == 1);
        x = find(net, "x");
        w = find(net, "W");
        y = find(net, "y");
        PL_CHECK(x && x->kind == PL__TENSOR_INPUT && x->rank == 2 && x->dims[0] == -1 &&
                 x->dims[1] == 3 && x->dim_names[0] && strcmp(x->dim_names[0], "N") == 0);
        PL_CHECK(w && w->kind == PL__TENSOR_CONST && w->nbytes == 12 &&
                 ((float *)w->data)[1] == -2.0f);
        PL_CHECK(y && y->is_output);
        /* the unnamed Relu is labelled after its output */
        PL_CHECK(net->nlayers == 2 && strcmp(net->layers[1].name, "y") == 0);
    }
    pl_network_free(net);
    mb_free(m);
}

static void test_constants(void) {
    static const int64_t d2[2] = {2, 2}, d0[1] = {0};
    static const int64_t vals[3] = {4, 5, 6};
    const uint16_t h[4] = {0x3c00, 0x4000, 0xc000, 0x0000}; /* 1, 2, -2, 0 in fp16 */
    mb *m = mb_new(13);
    pl_network *net = NULL;
    Onnx__NodeProto *n;
    Onnx__AttributeProto *a;
    Onnx__TensorProto *t;

    mb_input(m, "x", 10, 2, d2);
    n = mb_node(m, "Constant", "c_half", "", "c1");
    a = mb_attr(m, n, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    t = mb_tensor(m, NULL, 10, 2, d2);
    /* float16 in int32_data: the bit pattern in the low 16 bits */
    t->int32_data = mb_alloc(m, sizeof(int32_t) * 4);
    for (int i = 0; i < 4; i++)
        t->int32_data[i] = h[i];
    t->n_int32_data = 4;
    a->t = t;
    n = mb_node(m, "Constant", "c_ints", "", "c2");
    mb_attr_ints(m, n, "value_ints", vals, 3);
    n = mb_node(m, "Constant", "c_f", "", "c3");
    mb_attr_f(m, n, "value_float", 2.5f);
    /* an initializer that is also a graph input is a constant */
    mb_init_f(m, "x", 2, d2, (const float[]){1, 2, 3, 4}, 4);
    /* an empty tensor */
    mb_init_f(m, "empty", 1, d0, NULL, 0);
    mb_node(m, "Add", "add", "c1,x", "y");
    mb_output(m, "y");
    mb_output(m, "c2");
    mb_output(m, "c3");
    PL_CHECK_OK(mb_import(m, NULL, &net));
    if (net) {
        const pl__tensor *c1 = find(net, "c1"), *c2 = find(net, "c2"), *c3 = find(net, "c3");
        const pl__tensor *x = find(net, "x"), *e = find(net, "empty");
        PL_CHECK(c1 && c1->kind == PL__TENSOR_CONST && c1->dtype == PL_FLOAT16 && c1->nbytes == 8 &&
                 memcmp(c1->data, h, 8) == 0);
        PL_CHECK(c2 && c2->dtype == PL_INT64 && c2->rank == 1 && c2->dims[0] == 3 &&
                 ((int64_t *)c2->data)[2] == 6);
        PL_CHECK(c3 && c3->dtype == PL_FLOAT32 && c3->rank == 0 && *(float *)c3->data == 2.5f);
        PL_CHECK(x && x->kind == PL__TENSOR_CONST);
        PL_CHECK(e && e->kind == PL__TENSOR_CONST && e->nbytes == 0 && e->rank == 1);
        PL_CHECK(net->ninputs == 0);
    }
    pl_network_free(net);
    mb_free(m);
}

static void test_truncated_and_corrupted(void) {
    mb *m = simple_model();
    size_t size;
    uint8_t *buf = mb_pack(m, &size), *copy = malloc(size);
    uint64_t s = 12345;
    int ok = 0, failed = 0;
    pl_network *net = NULL;
    PL_CHECK_FAILS(pl_onnx_import_memory(buf, 0, NULL, &net), PL_ERR_FORMAT, "empty");
    PL_CHECK(net == NULL);
    /* Every truncation must fail cleanly or (where it cuts between whole fields) import. */
    for (size_t n = 1; n < size; n++) {
        pl_status st = pl_onnx_import_memory(buf, n, NULL, &net);
        if (st == PL_OK) {
            ok++;
            pl_network_free(net);
        } else {
            failed++;
            PL_CHECK(net == NULL && strstr(pl_errmsg(), "<memory model>") == pl_errmsg());
        }
        net = NULL;
    }
    PL_CHECK(failed > 0);
    PL_CHECK_FAILS(pl_onnx_import_memory(buf, size / 2, NULL, &net), PL_ERR_FORMAT, "protobuf");
    /* Random byte corruptions (fixed seed): never crash. */
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(copy, buf, size);
        for (int k = 0; k < 1 + iter % 4; k++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            copy[s % size] = (uint8_t)(s >> 32);
        }
        if (pl_onnx_import_memory(copy, size, NULL, &net) == PL_OK)
            pl_network_free(net);
        net = NULL;
    }
    printf("  truncations: %d imported, %d refused\n", ok, failed);
    free(copy);
    mb_free(m);
}

static void test_wrong_attribute_type(void) {
    static const int64_t xd[4] = {1, 1, 4, 4}, wd[4] = {1, 1, 3, 3};
    static const float w[9] = {0};
    mb *m = mb_new(17);
    pl_network *net = NULL;
    Onnx__NodeProto *n;
    Onnx__AttributeProto *a;
    mb_input(m, "x", 1, 4, xd);
    mb_init_f(m, "w", 4, wd, w, 9);
    n = mb_node(m, "Conv", "conv1", "x,w", "y");
    a = mb_attr(m, n, "strides", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = 2;
    mb_output(m, "y");
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_INVALID_ARG,
                   "node 'conv1' (Conv): attribute 'strides' is FLOAT, expected INTS");
    PL_CHECK(net == NULL);
    mb_free(m);

    /* an attribute given twice */
    m = simple_model();
    mb_attr_i(m, m->nodes[1], "foo", 1);
    mb_attr_i(m, m->nodes[1], "foo", 2);
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_FORMAT, "attribute 'foo' is given twice");
    mb_free(m);

    /* a GRAPH attribute on a core op */
    m = simple_model();
    {
        Onnx__GraphProto *body = mb_alloc(m, sizeof(*body));
        onnx__graph_proto__init(body);
        mb_attr(m, m->nodes[1], "body", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH)->g = body;
    }
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_UNSUPPORTED,
                   "node 'y' (Relu): attribute 'body' of type GRAPH is not supported");
    mb_free(m);
}

static void test_dangling_name(void) {
    mb *m = simple_model();
    pl_network *net = NULL;
    m->nodes[1]->input[0] = "nowhere";
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_FORMAT,
                   "node 'y' (Relu): input 0 'nowhere' is not produced");
    mb_free(m);

    m = simple_model();
    m->outputs[0]->name = "zz";
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_FORMAT, "graph output 'zz'");
    mb_free(m);

    /* an output name produced twice */
    m = simple_model();
    m->nodes[1]->output[0] = "s";
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_FORMAT, "output 's' is already produced");
    mb_free(m);
}

static void test_unsupported_listing(void) {
    mb *m = simple_model();
    pl_network *net = NULL;
    Onnx__NodeProto *n;
    const char *msg;
    m->opset[1] = m->opset[0];
    m->opset[1].domain = "com.example";
    m->opset[1].version = 3;
    m->opsets[1] = &m->opset[1];
    m->model.n_opset_import = 2;
    mb_node(m, "FooOp", "foo_a", "y", "f1");
    mb_node(m, "Relu", "after_foo", "f1", "f2"); /* consumer of a missing value: no 2nd error */
    n = mb_node(m, "BarOp", "bar_b", "f2", "b1");
    n->domain = "com.example";
    mb_node(m, "FooOp", "foo_c", "y", "f3"); /* deduplicated */
    n = mb_node(m, "BazOp", "baz_d", "y", "z1");
    mb_attr_s(m, n, "plugin_namespace", "acme");
    mb_output(m, "b1");
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_UNSUPPORTED, "3 unsupported ops");
    msg = pl_errmsg();
    PL_CHECK(strstr(msg, "FooOp (domain '', opset 17) at node 'foo_a'") != NULL);
    PL_CHECK(strstr(msg, "BarOp (domain 'com.example', opset 3) at node 'bar_b'") != NULL);
    PL_CHECK(strstr(msg, "BazOp (domain '', opset 17) at node 'baz_d'") != NULL);
    PL_CHECK(strstr(msg, "foo_c") == NULL);
    PL_CHECK(strstr(msg, "after_foo") == NULL);
    PL_CHECK(strncmp(msg, "<memory model>: ", 16) == 0);
    mb_free(m);
}

static void test_dtypes(void) {
    static const int64_t d1[1] = {2};
    mb *m = simple_model();
    pl_network *net = NULL;
    Onnx__TensorProto *t = mb_tensor(m, "f8", 17, 1, d1); /* FLOAT8E4M3FN, newer than our proto */
    mb_raw(m, t, "\x01\x02", 2);
    m->inits[m->graph.n_initializer++] = t;
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_UNSUPPORTED,
                   "initializer 'f8': data type FLOAT8E4M3FN (17) is not supported");
    mb_free(m);

    m = simple_model();
    t = mb_tensor(m, "short", 1, 1, d1);
    mb_raw(m, t, "\x01\x02\x03", 3);
    m->inits[m->graph.n_initializer++] = t;
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_FORMAT,
                   "initializer 'short': raw_data holds 3 bytes, its dims and dtype need 8");
    mb_free(m);

    m = simple_model();
    m->inputs[0]->type->tensor_type->elem_type = 4; /* UINT16 */
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_UNSUPPORTED, "graph input 'x': data type UINT16");
    mb_free(m);

    m = simple_model();
    mb_node(m, "Cast", "cast_s", "y", "ys");
    mb_attr_i(m, m->nodes[2], "to", 8); /* STRING */
    if (pl_op_supported("Cast"))
        PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_UNSUPPORTED,
                       "node 'cast_s' (Cast): attribute 'to': data type STRING");
    mb_free(m);
}

/* Newer IR versions load: unknown fields are skipped. */
static void test_newer_ir(void) {
    mb *m = simple_model();
    pl_network *net = NULL;
    size_t size;
    uint8_t *buf, *big;
    m->model.ir_version = 13;
    buf = mb_pack(m, &size);
    /* append field 99 (varint 7) and field 100 (length-delimited "hello") to the model */
    big = malloc(size + 16);
    memcpy(big, buf, size);
    memcpy(big + size, "\x98\x06\x07\xa2\x06\x05hello", 11);
    PL_CHECK_OK(pl_onnx_import_memory(big, size + 11, NULL, &net));
    pl_network_free(net);
    free(big);
    mb_free(m);
}

/* Model-local functions are inlined: formal names renamed, ref attributes substituted. */
static Onnx__FunctionProto *mb_function(mb *m, const char *domain, const char *name,
                                        const char *ins, const char *outs) {
    Onnx__FunctionProto *f = mb_alloc(m, sizeof(*f));
    onnx__function_proto__init(f);
    f->name = mb_str(m, name);
    f->domain = mb_str(m, domain);
    f->n_input = mb_names(m, ins, &f->input);
    f->n_output = mb_names(m, outs, &f->output);
    f->node = mb_alloc(m, sizeof(void *) * 8);
    if (!m->model.functions)
        m->model.functions = mb_alloc(m, sizeof(void *) * 8);
    m->model.functions[m->model.n_functions++] = f;
    return f;
}

static Onnx__NodeProto *mb_fnode(mb *m, Onnx__FunctionProto *f, const char *op, const char *ins,
                                 const char *outs) {
    Onnx__NodeProto *n = mb_node(m, op, "", ins, outs);
    m->graph.n_node--; /* belongs to the function, not the graph */
    f->node[f->n_node++] = n;
    return n;
}

static void test_functions(void) {
    mb *m = simple_model();
    pl_network *net = NULL;
    Onnx__FunctionProto *f;
    Onnx__NodeProto *n;
    Onnx__AttributeProto *a;
    m->opset[1] = m->opset[0];
    m->opset[1].domain = "local";
    m->opset[1].version = 1;
    m->opsets[1] = &m->opset[1];
    m->model.n_opset_import = 2;
    f = mb_function(m, "local", "AddRelu", "a,b", "r");
    mb_fnode(m, f, "Add", "a,b", "t");
    n = mb_fnode(m, f, "Relu", "t", "r");
    a = mb_attr(m, n, "foo", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->ref_attr_name = "bar";
    n = mb_node(m, "AddRelu", "call1", "y,W", "z1");
    n->domain = "local";
    mb_attr_i(m, n, "bar", 3);
    n = mb_node(m, "AddRelu", "call2", "z1,W", "z2"); /* no 'bar': 'foo' is dropped */
    n->domain = "local";
    mb_output(m, "z2");
    PL_CHECK_OK(mb_import(m, NULL, &net));
    if (net) {
        const pl__tensor *t1 = find(net, "z1/t"), *t2 = find(net, "z2/t"), *z2 = find(net, "z2");
        PL_CHECK(pl_network_num_layers(net) == 6);
        PL_CHECK(t1 && t2 && z2 && z2->is_output);
        PL_CHECK(net->nlayers == 6 && strcmp(net->layers[3].op, "Relu") == 0 &&
                 pl__attr_int(&net->layers[3].attrs, "foo", -1) == 3);
        PL_CHECK(strcmp(net->layers[5].op, "Relu") == 0 &&
                 pl__attrs_find(&net->layers[5].attrs, "foo") == NULL);
        PL_CHECK(strcmp(net->layers[2].name, "z1/Add") == 0);
    }
    pl_network_free(net);
    net = NULL;

    /* an unsupported op inside a function is listed like any other */
    mb_fnode(m, f, "NoSuchOp", "r", "q");
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_UNSUPPORTED,
                   "NoSuchOp (domain '', opset 17) at node 'z1/NoSuchOp'");
    f->n_node--;

    /* a function calling itself */
    n = mb_fnode(m, f, "AddRelu", "a,b", "q");
    n->domain = "local";
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_UNSUPPORTED, "nested deeper than");
    PL_CHECK(net == NULL);
    mb_free(m);
}

static char g_dir[256];

static void write_file(const char *name, const void *data, size_t n) {
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", g_dir, name);
    f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
}

static mb *external_model(const char *location, const char *offset, const char *length) {
    static const int64_t wd[1] = {3};
    mb *m = simple_model();
    Onnx__TensorProto *t = mb_tensor(m, "W", 1, 1, wd);
    Onnx__StringStringEntryProto **e = mb_alloc(m, sizeof(void *) * 3);
    const char *keys[3] = {"location", "offset", "length"}, *vals[3] = {location, offset, length};
    for (int i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        e[t->n_external_data] = mb_alloc(m, sizeof(Onnx__StringStringEntryProto));
        onnx__string_string_entry_proto__init(e[t->n_external_data]);
        e[t->n_external_data]->key = (char *)keys[i];
        e[t->n_external_data]->value = (char *)vals[i];
        t->n_external_data++;
    }
    t->external_data = e;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    m->inits[0] = t; /* replace the inline W */
    return m;
}

static void test_external_data(void) {
    float data[5] = {9, 1, -2, 3, 9};
    pl_network *net = NULL;
    mb *m;
    write_file("w.bin", data, sizeof(data));

    m = external_model("w.bin", "4", "12");
    PL_CHECK_OK(mb_import(m, g_dir, &net));
    if (net) {
        const pl__tensor *w = find(net, "W");
        PL_CHECK(w && w->nbytes == 12 && ((float *)w->data)[0] == 1 && ((float *)w->data)[2] == 3);
    }
    pl_network_free(net);
    net = NULL;
    mb_free(m);

    m = external_model("../w.bin", NULL, NULL);
    PL_CHECK_FAILS(mb_import(m, g_dir, &net), PL_ERR_FORMAT,
                   "initializer 'W': external data location '../w.bin' escapes");
    mb_free(m);
    m = external_model("sub/../../w.bin", NULL, NULL);
    PL_CHECK_FAILS(mb_import(m, g_dir, &net), PL_ERR_FORMAT, "escapes");
    mb_free(m);
    m = external_model("/etc/passwd", NULL, NULL);
    PL_CHECK_FAILS(mb_import(m, g_dir, &net), PL_ERR_FORMAT, "absolute path");
    mb_free(m);
    m = external_model("w.bin", "12", "12"); /* 12 + 12 > 20 bytes */
    PL_CHECK_FAILS(mb_import(m, g_dir, &net), PL_ERR_FORMAT, "runs past the end");
    mb_free(m);
    m = external_model("w.bin", "-4", NULL);
    PL_CHECK_FAILS(mb_import(m, g_dir, &net), PL_ERR_FORMAT, "offset '-4'");
    mb_free(m);
    m = external_model("w.bin", "0", "8");
    PL_CHECK_FAILS(mb_import(m, g_dir, &net), PL_ERR_FORMAT, "length 8 does not match");
    mb_free(m);
    m = external_model("missing.bin", NULL, NULL);
    PL_CHECK_FAILS(mb_import(m, g_dir, &net), PL_ERR_IO, "missing.bin");
    mb_free(m);
    m = external_model("w.bin", NULL, NULL);
    PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_INVALID_ARG, "no base directory");
    mb_free(m);

    /* through a file: the model's folder resolves the data */
    {
        char path[512];
        size_t size;
        uint8_t *buf;
        m = external_model("w.bin", "4", NULL);
        buf = mb_pack(m, &size);
        write_file("model.onnx", buf, size);
        snprintf(path, sizeof(path), "%s/model.onnx", g_dir);
        PL_CHECK_OK(pl_onnx_import_file(path, &net));
        pl_network_free(net);
        net = NULL;
        write_file("trunc.onnx", buf, size - 3);
        snprintf(path, sizeof(path), "%s/trunc.onnx", g_dir);
        PL_CHECK_FAILS(pl_onnx_import_file(path, &net), PL_ERR_FORMAT, "trunc.onnx: ");
        snprintf(path, sizeof(path), "%s/none.onnx", g_dir);
        PL_CHECK_FAILS(pl_onnx_import_file(path, &net), PL_ERR_IO, "none.onnx");
        mb_free(m);
    }
}

static void test_softmax_legacy(void) {
    static const int64_t xd[3] = {2, 3, 4};
    mb *m = mb_new(11);
    pl_network *net = NULL;
    mb_input(m, "x", 1, 3, xd);
    mb_node(m, "Softmax", "sm", "x", "y");
    mb_output(m, "y");
    if (pl_op_supported("Softmax") && pl_op_supported("Flatten") && pl_op_supported("Shape") &&
        pl_op_supported("Reshape")) {
        PL_CHECK_OK(mb_import(m, NULL, &net));
        if (net) {
            PL_CHECK(net->nlayers == 4);
            PL_CHECK(strcmp(net->layers[2].op, "Softmax") == 0);
            PL_CHECK(pl__attr_int(&net->layers[2].attrs, "axis", -7) == 1);
            PL_CHECK(strcmp(net->layers[3].op, "Reshape") == 0 && find(net, "y")->is_output);
        }
        pl_network_free(net);
    } else {
        PL_CHECK_FAILS(mb_import(m, NULL, &net), PL_ERR_UNSUPPORTED, "Softmax (domain '', opset 11)");
    }
    mb_free(m);
}

/* ---- tensor files ---- */
static void test_tensor_files(void) {
    static const pl_dtype types[] = {PL_FLOAT32, PL_FLOAT16, PL_FLOAT64, PL_INT8, PL_UINT8,
                                     PL_INT32, PL_INT64, PL_BOOL};
    char path[512];
    for (size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
        for (int fmt = 0; fmt < 2; fmt++) {
            pl_host_tensor t = {.dtype = types[ti], .rank = 3, .dims = {2, 1, 3}}, r;
            uint8_t bytes[6 * 8];
            t.nbytes = 6 * pl_dtype_size(types[ti]);
            for (size_t i = 0; i < t.nbytes; i++)
                bytes[i] = types[ti] == PL_BOOL ? (uint8_t)(i & 1) : (uint8_t)(i * 37 + 1);
            t.data = bytes;
            t.name = "tname";
            snprintf(path, sizeof(path), "%s/t%zu.%s", g_dir, ti, fmt ? "npy" : "pb");
            PL_CHECK_OK(pl_tensor_file_write(path, &t));
            PL_CHECK_OK(pl_tensor_file_read(path, &r));
            PL_CHECK(r.dtype == t.dtype && r.rank == 3 && r.dims[0] == 2 && r.dims[2] == 3 &&
                     r.nbytes == t.nbytes && memcmp(r.data, bytes, t.nbytes) == 0);
            if (!fmt)
                PL_CHECK(r.name && strcmp(r.name, "tname") == 0);
            pl_host_tensor_release(&r);
        }
    }
    /* scalar and bfloat16 (.pb only) */
    {
        uint16_t v = 0x3f80;
        pl_host_tensor t = {.dtype = PL_BFLOAT16, .rank = 0, .data = &v, .nbytes = 2}, r;
        snprintf(path, sizeof(path), "%s/bf.pb", g_dir);
        PL_CHECK_OK(pl_tensor_file_write(path, &t));
        PL_CHECK_OK(pl_tensor_file_read(path, &r));
        PL_CHECK(r.dtype == PL_BFLOAT16 && r.rank == 0 && r.nbytes == 2 &&
                 *(uint16_t *)r.data == 0x3f80);
        pl_host_tensor_release(&r);
        snprintf(path, sizeof(path), "%s/bf.npy", g_dir);
        PL_CHECK_FAILS(pl_tensor_file_write(path, &t), PL_ERR_UNSUPPORTED, "bfloat16");
        t.nbytes = 4;
        PL_CHECK_FAILS(pl_tensor_file_write(path, &t), PL_ERR_INVALID_ARG, "nbytes is 4");
    }
}

/* Writes a .npy v1 file with the given header dict and data bytes (n_cut bytes cut off). */
static void write_npy(const char *dict, const void *data, size_t n, size_t n_cut) {
    unsigned char file[512];
    size_t hl = (10 + strlen(dict) + 1 + 63) / 64 * 64 - 10, total;
    memset(file, ' ', sizeof(file));
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = (unsigned char)(hl & 0xff);
    file[9] = (unsigned char)(hl >> 8);
    memcpy(file + 10, dict, strlen(dict));
    file[10 + hl - 1] = '\n';
    memcpy(file + 10 + hl, data, n);
    total = 10 + hl + n;
    write_file("a.npy", file, total - n_cut);
}

static void test_npy_parsing(void) {
    float vals[2] = {1.5f, -2};
    pl_host_tensor r;
    char path[512];
    snprintf(path, sizeof(path), "%s/a.npy", g_dir);
    write_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", vals, 8, 0);
    PL_CHECK_OK(pl_tensor_file_read(path, &r));
    PL_CHECK(r.dtype == PL_FLOAT32 && r.rank == 1 && r.dims[0] == 2 &&
             ((float *)r.data)[0] == 1.5f && ((float *)r.data)[1] == -2);
    pl_host_tensor_release(&r);
    /* key order is free; a rank-1 Fortran array is also C order */
    write_npy("{'shape': (2,), 'fortran_order': True, 'descr': '|u1'}", vals, 2, 0);
    PL_CHECK_OK(pl_tensor_file_read(path, &r));
    PL_CHECK(r.dtype == PL_UINT8 && r.nbytes == 2);
    pl_host_tensor_release(&r);

    write_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", vals, 8, 1);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_FORMAT, "need 8");
    write_npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", vals, 8, 0);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_UNSUPPORTED, "big-endian");
    write_npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 1), }", vals, 8, 0);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_UNSUPPORTED, "Fortran");
    write_npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", vals, 8, 0);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_UNSUPPORTED, "'<c8'");
    write_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", vals, 8, 0);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_FORMAT, "bad .npy shape");
    write_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,99999999999,"
              "99999999999), }", vals, 8, 0);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_FORMAT, "overflows");
    write_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", vals, 8, 60);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_FORMAT, "runs past the end");
    write_file("a.npy", "\x93NUMPZ\x01\x00\x00\x00", 10);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_FORMAT, "bad magic");
    write_file("a.pb", "\x08\x02\x08", 3); /* dims: 2, then a truncated varint */
    snprintf(path, sizeof(path), "%s/a.pb", g_dir);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_FORMAT, "a.pb: not a valid");
    snprintf(path, sizeof(path), "%s/a.txt", g_dir);
    PL_CHECK_FAILS(pl_tensor_file_read(path, &r), PL_ERR_INVALID_ARG, "unknown tensor file type");
}

static void cleanup_dir(void) {
    static const char *const files[] = {"w.bin", "model.onnx", "trunc.onnx", "a.npy", "a.pb",
                                        "bf.pb", NULL};
    char path[512];
    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof(path), "%s/%s", g_dir, files[i]);
        unlink(path);
    }
    for (int i = 0; i < 8; i++)
        for (int f = 0; f < 2; f++) {
            snprintf(path, sizeof(path), "%s/t%d.%s", g_dir, i, f ? "npy" : "pb");
            unlink(path);
        }
    rmdir(g_dir);
}

int main(void) {
    snprintf(g_dir, sizeof(g_dir), "/tmp/plinth-test-onnx-XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    pl_set_logger(NULL, NULL, PL_LOG_ERROR);
    PL_RUN(test_import_simple);
    PL_RUN(test_constants);
    PL_RUN(test_truncated_and_corrupted);
    PL_RUN(test_wrong_attribute_type);
    PL_RUN(test_dangling_name);
    PL_RUN(test_unsupported_listing);
    PL_RUN(test_dtypes);
    PL_RUN(test_newer_ir);
    PL_RUN(test_functions);
    PL_RUN(test_external_data);
    PL_RUN(test_softmax_legacy);
    PL_RUN(test_tensor_files);
    PL_RUN(test_npy_parsing);
    cleanup_dir();
    return pl_test_report();
}
