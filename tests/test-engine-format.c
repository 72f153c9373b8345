/*
 * test-engine-format.c - the engine file writer and reader: a round trip that compares every
 * field, truncation at every length, single-byte corruption, wrong magic, future versions, and
 * forged files whose checksum was recomputed so that the structural checks behind it are hit.
 * `test-engine-format --write-seeds DIR` writes the seed corpus of the fuzz target instead.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xxhash.h>

#include "graph/ops.h"
#include "harness.h"
#include "plan/plan-format.h"

/* ---- building plans ---- */

static const int64_t k_ints[] = {1, -2, 3, INT64_MAX, INT64_MIN};
static const float k_floats[] = {0.5f, -1.5f, 3.0e38f};
static const uint8_t k_bytes[] = {0, 1, 255, 7, 0, 42};

/* Fills what the builder would: dtype, shape and min/opt/max of an activation. */
static void set_shape(pl_network *net, pl_tensor t, int rank, const int64_t *dims,
                      const int64_t *mn, const int64_t *opt, const int64_t *mx) {
    pl__tensor *x = &net->tensors[t];
    x->dtype = PL_FLOAT32;
    x->rank = rank;
    for (int d = 0; d < rank; d++) {
        x->dims[d] = dims[d];
        x->min_dims[d] = mn[d];
        x->opt_dims[d] = opt[d];
        x->max_dims[d] = mx[d];
    }
}

static pl__plan *new_plan(pl_network *net) {
    pl__plan *p = calloc(1, sizeof(*p));
    if (!p)
        abort();
    p->net = net;
    p->device = PL_DEVICE_CPU;
    return p;
}

/* A plan with every kind of field: dynamic input with a named dim, constants of several dtypes
 * (one scalar, one empty), a layer carrying every attribute type, kernel choices, metadata and
 * two blobs. */
static pl__plan *make_plan(void) {
    pl_network *net = NULL;
    pl_tensor x, w, idx, h, empty, r, y, z;
    int64_t xd[3] = {-1, 3, 4}, wd[2] = {3, 4}, id[1] = {2}, ed[2] = {0, 5};
    int64_t mn[3] = {1, 3, 4}, opt[3] = {2, 3, 4}, mx[3] = {8, 3, 4};
    const char *dn[3] = {"batch", NULL, NULL};
    float wv[12];
    int64_t iv[2] = {7, -9};
    uint16_t hv = 0x3c00;
    uint8_t blob[100];
    const char *yname = "y";
    pl_attr attrs[] = {
        PL_ATTR_I("alpha", -5),
        PL_ATTR_F("beta", 0.1),
        PL_ATTR_S("mode", "fast"),
        PL_ATTR_INTS("axes", k_ints, 5),
        PL_ATTR_FLOATS("scales", k_floats, 3),
        {.name = "blob", .type = PL_ATTR_BYTES, .bytes = k_bytes, .count = 6},
        PL_ATTR_B("flag", true),
        PL_ATTR_INTS("none", NULL, 0),
        PL_ATTR_S("empty", ""),
    };
    pl__plan *p;

    pl_test_fill_uniform(wv, 12, -1, 1, 7);
    for (int i = 0; i < 100; i++)
        blob[i] = (uint8_t)(i * 37 + 1);
    if (pl_network_create(&net) ||
        pl_network_add_input(net, "x", PL_FLOAT32, 3, xd, dn, &x) ||
        pl_network_add_constant(net, "w", PL_FLOAT32, 2, wd, wv, &w) ||
        pl_network_add_constant(net, "idx", PL_INT64, 1, id, iv, &idx) ||
        pl_network_add_constant(net, "h", PL_FLOAT16, 0, NULL, &hv, &h) ||
        pl_network_add_constant(net, "empty", PL_FLOAT32, 2, ed, NULL, &empty) ||
        pl_network_add_layer(net, "Relu", "relu1", &x, 1, attrs, (int)(sizeof(attrs) /
                             sizeof(attrs[0])), 1, NULL, &r) ||
        pl_network_add_layer(net, "Add", "add1", (pl_tensor[]){r, w}, 2, NULL, 0, 1, &yname, &y) ||
        pl_network_add_layer(net, "Relu", "relu2", &w, 1, NULL, 0, 1, NULL, &z) ||
        pl_network_mark_output(net, y) || pl_network_mark_output(net, z)) {
        fprintf(stderr, "make_plan: %s\n", pl_errmsg());
        abort();
    }
    (void)idx;
    (void)h;
    (void)empty;
    net->tensors[x].min_dims[0] = 1;
    for (int d = 0; d < 3; d++) {
        net->tensors[x].min_dims[d] = mn[d];
        net->tensors[x].opt_dims[d] = opt[d];
        net->tensors[x].max_dims[d] = mx[d];
    }
    set_shape(net, r, 3, xd, mn, opt, mx);
    set_shape(net, y, 3, xd, mn, opt, mx);
    set_shape(net, z, 2, wd, wd, wd, wd);
    net->tensors[z].data_dependent = true;
    net->layers[0].tactic = 3;
    net->layers[0].kernel = pl__strdup("cpu.relu.avx2");
    net->layers[0].compute_dtype = PL_FLOAT32;
    net->layers[1].tactic = -1;

    p = new_plan(net);
    p->peak_activation_bytes = 12345;
    if (pl__plan_set_meta(p, "producer", "plinth-test") ||
        pl__plan_set_meta(p, "device", "cpu") || pl__plan_set_meta(p, "precision", "fp32") ||
        pl__plan_set_meta(p, "profiles", "x:1x3x4/2x3x4/8x3x4") ||
        pl__plan_set_meta(p, "precision", "fp16") || /* replaces */
        pl__plan_add_blob(p, "relu.cubin", blob, sizeof(blob)) ||
        pl__plan_add_blob(p, "relu.ptx", ".version 8.0\n", 13) ||
        pl__plan_add_blob(p, "empty", NULL, 0)) {
        fprintf(stderr, "make_plan: %s\n", pl_errmsg());
        abort();
    }
    return p;
}

/* x -> Relu -> y, the smallest useful engine. */
static pl__plan *make_minimal(void) {
    pl_network *net = NULL;
    pl_tensor x, y;
    int64_t d[2] = {2, 3};
    if (pl_network_create(&net) || pl_network_add_input(net, "x", PL_FLOAT32, 2, d, NULL, &x) ||
        pl_network_add_layer(net, "Relu", "r", &x, 1, NULL, 0, 1, NULL, &y) ||
        pl_network_mark_output(net, y))
        abort();
    for (int k = 0; k < 2; k++)
        net->tensors[x].min_dims[k] = net->tensors[x].opt_dims[k] = net->tensors[x].max_dims[k] = d[k];
    set_shape(net, y, 2, d, d, d, d);
    return new_plan(net);
}

/* A plan with a plugin layer whose plugin no one registers. The layer is a core layer made
 * into a plugin layer by hand, so the test does not depend on the plugin registry. */
static pl__plan *make_plugin_plan(const char *library, uint64_t hash) {
    pl__plan *p = make_minimal();
    pl__layer *l = &p->net->layers[0];
    free(l->op);
    free(l->name);
    l->op = pl__strdup("plugin");
    l->name = pl__strdup("myplug");
    l->def = NULL;
    l->plugin_ns = pl__strdup("test");
    l->plugin_name = pl__strdup("NoSuchPlugin");
    l->plugin_version = pl__strdup("2.1");
    if (library) {
        p->plugins = calloc(1, sizeof(*p->plugins));
        p->plugins[0].ns = pl__strdup("test");
        p->plugins[0].name = pl__strdup("NoSuchPlugin");
        p->plugins[0].version = pl__strdup("2.1");
        p->plugins[0].library = pl__strdup(library);
        p->plugins[0].hash = hash;
        p->nplugins = 1;
    }
    return p;
}

static int serialize(const pl__plan *p, uint8_t **buf, size_t *n) {
    void *d = NULL;
    pl_status s = pl__plan_serialize(p, &d, n);
    if (s) {
        fprintf(stderr, "serialize: %s\n", pl_errmsg());
        return 0;
    }
    *buf = d;
    return 1;
}

/* ---- comparison ---- */

static int streq0(const char *a, const char *b) { /* NULL and "" are the same on file */
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static int aligned_in(const void *ptr, const uint8_t *buf) {
    return ((uintptr_t)ptr - (uintptr_t)buf) % 64 == 0;
}

static void compare_attr(const pl_attr *a, const pl_attr *b) {
    PL_CHECK(strcmp(a->name, b->name) == 0);
    PL_CHECK(a->type == b->type);
    if (a->type != b->type)
        return;
    switch (a->type) {
    case PL_ATTR_INT: case PL_ATTR_BOOL:
        PL_CHECK(a->i == b->i);
        break;
    case PL_ATTR_FLOAT:
        PL_CHECK(memcmp(&a->f, &b->f, sizeof(double)) == 0); /* bit-exact, not rounded to float */
        break;
    case PL_ATTR_STRING:
        PL_CHECK(strcmp(a->s, b->s) == 0);
        break;
    case PL_ATTR_INTS:
        PL_CHECK(a->count == b->count);
        PL_CHECK(a->count == 0 || memcmp(a->ints, b->ints, 8 * (size_t)a->count) == 0);
        break;
    case PL_ATTR_FLOATS:
        PL_CHECK(a->count == b->count);
        PL_CHECK(a->count == 0 || memcmp(a->floats, b->floats, 4 * (size_t)a->count) == 0);
        break;
    case PL_ATTR_BYTES:
        PL_CHECK(a->count == b->count);
        PL_CHECK(a->count == 0 || memcmp(a->bytes, b->bytes, (size_t)a->count) == 0);
        break;
    }
}

/* b was read from buf; a is the original. */
static void compare_plans(const pl__plan *a, const pl__plan *b, const uint8_t *buf) {
    const pl_network *na = a->net, *nb = b->net;
    PL_CHECK(b->device == a->device);
    PL_CHECK(b->peak_activation_bytes == a->peak_activation_bytes);
    PL_CHECK(b->borrows);
    PL_CHECK(b->nmeta == a->nmeta);
    for (int i = 0; i < a->nmeta && i < b->nmeta; i++) {
        PL_CHECK(strcmp(a->meta[i].key, b->meta[i].key) == 0);
        PL_CHECK(strcmp(a->meta[i].value, b->meta[i].value) == 0);
        PL_CHECK(pl__plan_meta(b, a->meta[i].key) != NULL);
    }
    PL_CHECK(b->nblobs == a->nblobs);
    for (int i = 0; i < a->nblobs && i < b->nblobs; i++) {
        const pl__blob *x = pl__plan_blob(b, a->blobs[i].name);
        PL_CHECK(x != NULL);
        if (!x)
            continue;
        PL_CHECK(x->size == a->blobs[i].size);
        PL_CHECK(x->size == 0 || memcmp(x->data, a->blobs[i].data, x->size) == 0);
        PL_CHECK(aligned_in(x->data, buf));
    }
    PL_CHECK(nb->ntensors == na->ntensors);
    PL_CHECK(nb->nlayers == na->nlayers);
    PL_CHECK(nb->ninputs == na->ninputs);
    PL_CHECK(nb->noutputs == na->noutputs);
    if (nb->ntensors != na->ntensors || nb->nlayers != na->nlayers ||
        nb->ninputs != na->ninputs || nb->noutputs != na->noutputs)
        return;
    for (int i = 0; i < na->ninputs; i++)
        PL_CHECK(na->inputs[i] == nb->inputs[i]);
    for (int i = 0; i < na->noutputs; i++)
        PL_CHECK(na->outputs[i] == nb->outputs[i]);
    for (int i = 0; i < na->ntensors; i++) {
        const pl__tensor *x = &na->tensors[i], *t = &nb->tensors[i];
        PL_CHECK(strcmp(x->name, t->name) == 0);
        PL_CHECK(x->kind == t->kind);
        PL_CHECK(x->dtype == t->dtype);
        PL_CHECK(x->rank == t->rank);
        PL_CHECK(x->is_output == t->is_output);
        PL_CHECK(x->data_dependent == t->data_dependent);
        PL_CHECK(x->producer == t->producer);
        for (int d = 0; d < x->rank && d < PL_MAX_RANK; d++) {
            PL_CHECK(x->dims[d] == t->dims[d]);
            PL_CHECK(x->min_dims[d] == t->min_dims[d]);
            PL_CHECK(x->opt_dims[d] == t->opt_dims[d]);
            PL_CHECK(x->max_dims[d] == t->max_dims[d]);
            PL_CHECK(streq0(x->dim_names[d], t->dim_names[d]));
        }
        if (x->kind == PL__TENSOR_CONST) {
            PL_CHECK(t->nbytes == x->nbytes);
            PL_CHECK(!t->owns_data);
            PL_CHECK(t->data != NULL);
            PL_CHECK(t->nbytes == 0 || memcmp(t->data, x->data, t->nbytes) == 0);
            PL_CHECK(aligned_in(t->data, buf));
            /* in place: the pointer lies inside the file bytes */
            PL_CHECK((const uint8_t *)t->data >= buf);
        } else {
            PL_CHECK(t->data == NULL);
        }
    }
    for (int i = 0; i < na->nlayers; i++) {
        const pl__layer *x = &na->layers[i], *l = &nb->layers[i];
        PL_CHECK(strcmp(x->name, l->name) == 0);
        PL_CHECK(strcmp(x->op, l->op) == 0);
        PL_CHECK(streq0(x->plugin_ns, l->plugin_ns));
        PL_CHECK(streq0(x->plugin_name, l->plugin_name));
        PL_CHECK(streq0(x->plugin_version, l->plugin_version));
        PL_CHECK(streq0(x->kernel, l->kernel));
        PL_CHECK(x->tactic == l->tactic);
        PL_CHECK(x->compute_dtype == l->compute_dtype);
        PL_CHECK(l->def == pl__op_find(l->op));
        PL_CHECK(x->nin == l->nin && x->nout == l->nout);
        for (int k = 0; k < x->nin && k < l->nin; k++)
            PL_CHECK(x->in[k] == l->in[k]);
        for (int k = 0; k < x->nout && k < l->nout; k++)
            PL_CHECK(x->out[k] == l->out[k]);
        PL_CHECK(x->attrs.n == l->attrs.n);
        for (int k = 0; k < x->attrs.n && k < l->attrs.n; k++)
            compare_attr(&x->attrs.v[k], &l->attrs.v[k]);
    }
}

/* ---- forging files: locate records by the layout in plan.c ---- */

static void fix_checksum(uint8_t *b, size_t n) { pl__put_le64(b + n - 8, XXH64(b, n - 8, 0)); }

static size_t sec_entry(const uint8_t *b, uint32_t id) {
    size_t tab = (size_t)pl__get_le64(b + PL__PLAN_OFF_SECTAB);
    uint32_t n = pl__get_le32(b + PL__PLAN_OFF_NSECTIONS);
    for (uint32_t i = 0; i < n; i++)
        if (pl__get_le32(b + tab + 32 * i) == id)
            return tab + 32 * i;
    abort();
}

static size_t sec_off(const uint8_t *b, uint32_t id) {
    return (size_t)pl__get_le64(b + sec_entry(b, id) + 8);
}

static size_t skip_str(const uint8_t *b, size_t at) { return at + 4 + pl__get_le32(b + at) + 1; }

/* Offset of tensor i's record, and of its name-less fields. */
static size_t tensor_rec(const uint8_t *b, int i) {
    size_t at = sec_off(b, PL__SEC_TENSORS);
    for (int k = 0; k < i; k++) {
        size_t f = skip_str(b, at);
        uint32_t rank = pl__get_le32(b + f + 8);
        at = f + 12 + 32 * (size_t)rank;
        for (uint32_t d = 0; d < rank; d++)
            at = skip_str(b, at);
        at += 16;
    }
    return at;
}

static size_t skip_attr(const uint8_t *b, size_t at) {
    uint32_t type;
    at = skip_str(b, at);
    type = pl__get_le32(b + at);
    at += 4;
    switch (type) {
    case PL_ATTR_STRING: return skip_str(b, at);
    case PL_ATTR_INTS: return at + 8 + 8 * (size_t)pl__get_le64(b + at);
    case PL_ATTR_FLOATS: return at + 8 + 4 * (size_t)pl__get_le64(b + at);
    case PL_ATTR_BYTES: return at + 8 + (size_t)pl__get_le64(b + at);
    default: return at + 8;
    }
}

/* Offset of layer i's input count field. */
static size_t layer_nin(const uint8_t *b, int i) {
    size_t at = sec_off(b, PL__SEC_LAYERS);
    for (int k = 0;; k++) {
        for (int s = 0; s < 6; s++)
            at = skip_str(b, at);
        at += 8;
        if (k == i)
            return at;
        at += 4 + 4 * (size_t)pl__get_le32(b + at);
        at += 4 + 4 * (size_t)pl__get_le32(b + at);
        uint32_t na = pl__get_le32(b + at);
        at += 4;
        for (uint32_t a = 0; a < na; a++)
            at = skip_attr(b, at);
    }
}

/* ---- tests ---- */

static void test_roundtrip(void) {
    pl__plan *a = make_plan(), *b = NULL, *c = NULL;
    uint8_t *buf = NULL, *buf2 = NULL;
    size_t n = 0, n2 = 0;
    PL_CHECK(serialize(a, &buf, &n));
    PL_CHECK(n > 512);
    PL_CHECK(memcmp(buf, "PLNT", 4) == 0);
    PL_CHECK(pl__get_le64(buf + PL__PLAN_OFF_FILE_SIZE) == n);
    PL_CHECK(sec_off(buf, PL__SEC_WEIGHTS) % 64 == 0);
    PL_CHECK_OK(pl__plan_deserialize(buf, n, "model.engine", &b));
    if (b) {
        compare_plans(a, b, buf);
        PL_CHECK(strcmp(pl__plan_meta(b, "precision"), "fp16") == 0);
        PL_CHECK(pl__plan_meta(b, "nope") == NULL);
        PL_CHECK(b->nplugins == 0);
        /* a loaded plan's blobs are the caller's bytes */
        PL_CHECK_FAILS(pl__plan_add_blob(b, "more", "x", 1), PL_ERR_INVALID_ARG, "read-only");
        /* writing what was read gives the same bytes */
        PL_CHECK(serialize(b, &buf2, &n2));
        PL_CHECK(n2 == n && buf2 && memcmp(buf, buf2, n) == 0);
        PL_CHECK_OK(pl__plan_deserialize(buf2, n2, NULL, &c));
    }
    pl__plan_free(c);
    pl__plan_free(b);
    pl__plan_free(a);
    free(buf);
    free(buf2);
}

static void test_weights_in_place(void) {
    /* The file mapped at a page boundary: every constant lands 64-aligned in memory. */
    pl__plan *a = make_plan(), *b = NULL;
    uint8_t *buf = NULL, *page = NULL;
    size_t n = 0;
    PL_CHECK(serialize(a, &buf, &n));
    PL_CHECK(posix_memalign((void **)&page, 4096, n) == 0);
    memcpy(page, buf, n);
    PL_CHECK_OK(pl__plan_deserialize(page, n, "mapped.engine", &b));
    for (int i = 0; b && i < b->net->ntensors; i++) {
        const pl__tensor *t = &b->net->tensors[i];
        if (t->kind == PL__TENSOR_CONST) {
            PL_CHECK((uintptr_t)t->data % 64 == 0);
            PL_CHECK((uint8_t *)t->data >= page && (uint8_t *)t->data + t->nbytes <= page + n);
        }
    }
    pl__plan_free(b);
    pl__plan_free(a);
    free(buf);
    free(page);
}

static void test_deterministic_and_default_producer(void) {
    pl__plan *a = make_minimal(), *b = NULL;
    uint8_t *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    PL_CHECK(serialize(a, &x, &nx));
    PL_CHECK(serialize(a, &y, &ny));
    PL_CHECK(nx == ny && memcmp(x, y, nx) == 0);
    PL_CHECK_OK(pl__plan_deserialize(x, nx, NULL, &b));
    if (b) /* no producer given: the writer records itself */
        PL_CHECK(strcmp(pl__plan_meta(b, "producer"), "plinth " PL_VERSION_STRING) == 0);
    pl__plan_free(b);
    pl__plan_free(a);
    free(x);
    free(y);
}

static void test_truncation_every_length(void) {
    pl__plan *a = make_plan();
    uint8_t *buf = NULL;
    size_t n = 0;
    int wrong = 0;
    PL_CHECK(serialize(a, &buf, &n));
    for (size_t len = 0; buf && len < n; len++) {
        /* an exact-size copy, so that a read past the end is an ASan error */
        uint8_t *cut = malloc(len ? len : 1);
        pl__plan *b = (pl__plan *)&wrong; /* must be reset to NULL */
        pl_status s;
        memcpy(cut, buf, len);
        s = pl__plan_deserialize(cut, len, "cut.engine", &b);
        if (s != PL_ERR_FORMAT || b != NULL || strncmp(pl_errmsg(), "cut.engine: ", 12) != 0) {
            if (wrong++ < 5)
                fprintf(stderr, "length %zu: %s: %s\n", len, pl_status_name(s), pl_errmsg());
        }
        free(cut);
    }
    PL_CHECK(wrong == 0);
    PL_CHECK_FAILS(pl__plan_deserialize(buf, n - 1, "m.engine", &(pl__plan *){NULL}),
                   PL_ERR_FORMAT, "the file is truncated");
    pl__plan_free(a);
    free(buf);
}

static void test_corruption_every_byte(void) {
    pl__plan *a = make_plan();
    uint8_t *buf = NULL;
    size_t n = 0;
    int wrong = 0;
    PL_CHECK(serialize(a, &buf, &n));
    for (size_t at = 0; buf && at < n; at++) {
        pl__plan *b = NULL;
        pl_status s;
        /* magic, version and size are checked before the checksum, with their own messages */
        bool early = at < 8 || (at >= PL__PLAN_OFF_FILE_SIZE && at < PL__PLAN_OFF_FILE_SIZE + 8);
        buf[at] ^= 0x5a;
        s = pl__plan_deserialize(buf, n, "bad.engine", &b);
        if (s == PL_OK || b || (!early && strstr(pl_errmsg(), "checksum mismatch: the file is "
                                                               "corrupted") == NULL)) {
            if (wrong++ < 5)
                fprintf(stderr, "byte %zu: %s: %s\n", at, pl_status_name(s), pl_errmsg());
        }
        pl__plan_free(b);
        buf[at] ^= 0x5a;
    }
    PL_CHECK(wrong == 0);
    pl__plan_free(a);
    free(buf);
}

static void test_magic_and_version(void) {
    pl__plan *a = make_minimal(), *b = NULL;
    uint8_t *buf = NULL;
    size_t n = 0;
    PL_CHECK(serialize(a, &buf, &n));
    if (!buf)
        goto done;
    memcpy(buf, "GGUF", 4);
    PL_CHECK_FAILS(pl__plan_deserialize(buf, n, "m.engine", &b), PL_ERR_FORMAT,
                   "m.engine: not a plinth engine");
    memcpy(buf, "PLNT", 4);
    /* a newer major version is refused before anything else is trusted, checksum included */
    pl__put_le32(buf + PL__PLAN_OFF_VERSION, 2);
    PL_CHECK_FAILS(pl__plan_deserialize(buf, n, "m.engine", &b), PL_ERR_VERSION,
                   "m.engine: engine format version 2, this plinth reads up to 1");
    pl__put_le32(buf + PL__PLAN_OFF_VERSION, 0);
    PL_CHECK_FAILS(pl__plan_deserialize(buf, n, "m.engine", &b), PL_ERR_FORMAT, "version 0");
    pl__put_le32(buf + PL__PLAN_OFF_VERSION, 1);
    /* a newer minor version reads fine */
    pl__put_le32(buf + PL__PLAN_OFF_MINOR, 7);
    fix_checksum(buf, n);
    PL_CHECK_OK(pl__plan_deserialize(buf, n, "m.engine", &b));
    pl__plan_free(b);
    b = NULL;
    /* an unknown optional section is skipped; an unknown required one is refused */
    pl__put_le32(buf + sec_entry(buf, PL__SEC_META), 77);
    fix_checksum(buf, n);
    PL_CHECK_OK(pl__plan_deserialize(buf, n, "m.engine", &b));
    if (b)
        PL_CHECK(b->nmeta == 0);
    pl__plan_free(b);
    b = NULL;
    pl__put_le32(buf + sec_entry(buf, 77) + 4, PL__SEC_FLAG_REQUIRED);
    fix_checksum(buf, n);
    PL_CHECK_FAILS(pl__plan_deserialize(buf, n, "m.engine", &b), PL_ERR_VERSION,
                   "section id 77");
    PL_CHECK(b == NULL);
done:
    pl__plan_free(a);
    free(buf);
}

/* Each forgery changes a few bytes of a valid file and recomputes the checksum, so that the
 * check behind it must catch the change. */
typedef void (*forge_fn)(uint8_t *b, size_t n);

static void check_forgery(const char *what, forge_fn forge, pl_status want, const char *needle) {
    pl__plan *a = make_plan(), *b = NULL;
    uint8_t *buf = NULL;
    size_t n = 0;
    pl_status s;
    PL_CHECK(serialize(a, &buf, &n));
    if (buf) {
        forge(buf, n);
        fix_checksum(buf, n);
        s = pl__plan_deserialize(buf, n, "model.engine", &b);
        if (s != want || !strstr(pl_errmsg(), needle))
            fprintf(stderr, "forgery '%s': got %s: %s\n", what, pl_status_name(s), pl_errmsg());
        PL_CHECK_FAILS(s, want, needle);
        PL_CHECK(b == NULL);
        pl__plan_free(b);
    }
    pl__plan_free(a);
    free(buf);
}

static void f_tensor_id(uint8_t *b, size_t n) { pl__put_le32(b + layer_nin(b, 0) + 4, 9999); }
static void f_negative_id(uint8_t *b, size_t n) { pl__put_le32(b + layer_nin(b, 0) + 4, (uint32_t)-7); }
static void f_not_topo(uint8_t *b, size_t n) {
    /* relu1 reads y, which add1 (layer 1) produces */
    pl__put_le32(b + layer_nin(b, 0) + 4, 6);
}
static void f_nin_huge(uint8_t *b, size_t n) { pl__put_le32(b + layer_nin(b, 1), 100000); }
static void f_op_name(uint8_t *b, size_t n) {
    size_t op = skip_str(b, sec_off(b, PL__SEC_LAYERS)); /* "Relu" */
    memcpy(b + op + 4, "Relx", 4);
}
static void f_str_no_nul(uint8_t *b, size_t n) {
    size_t op = skip_str(b, sec_off(b, PL__SEC_LAYERS));
    b[op + 4 + 4] = 'X';
}
static void f_str_len(uint8_t *b, size_t n) {
    pl__put_le32(b + sec_off(b, PL__SEC_LAYERS), 0xfffffff0u);
}
static void f_rank(uint8_t *b, size_t n) { pl__put_le32(b + skip_str(b, tensor_rec(b, 0)) + 8, 9); }
static void f_dtype(uint8_t *b, size_t n) { pl__put_le32(b + skip_str(b, tensor_rec(b, 1)) + 4, 99); }
static void f_kind(uint8_t *b, size_t n) { b[skip_str(b, tensor_rec(b, 1))] = 3; }
static void f_dup_name(uint8_t *b, size_t n) { b[tensor_rec(b, 1) + 4] = 'x'; /* "w" -> "x" */ }
static size_t const_fields(const uint8_t *b, int i) { /* data_offset of a rank-1/2 constant */
    size_t f = skip_str(b, tensor_rec(b, i));
    uint32_t rank = pl__get_le32(b + f + 8);
    size_t at = f + 12 + 32 * (size_t)rank;
    for (uint32_t d = 0; d < rank; d++)
        at = skip_str(b, at);
    return at;
}
static void f_const_misaligned(uint8_t *b, size_t n) { pl__put_le64(b + const_fields(b, 2), 65); }
static void f_const_outside(uint8_t *b, size_t n) { pl__put_le64(b + const_fields(b, 2), 1u << 20); }
static void f_const_size(uint8_t *b, size_t n) { pl__put_le64(b + const_fields(b, 2) + 8, 8); }
static void f_act_data(uint8_t *b, size_t n) { pl__put_le64(b + const_fields(b, 0) + 8, 8); }
static void f_sec_misaligned(uint8_t *b, size_t n) {
    size_t e = sec_entry(b, PL__SEC_WEIGHTS);
    pl__put_le64(b + e + 8, pl__get_le64(b + e + 8) + 1);
}
static void f_sec_past_end(uint8_t *b, size_t n) {
    pl__put_le64(b + sec_entry(b, PL__SEC_WEIGHTS) + 16, (uint64_t)n);
}
static void f_sec_overlap(uint8_t *b, size_t n) {
    pl__put_le64(b + sec_entry(b, PL__SEC_OUTPUTS) + 8, sec_off(b, PL__SEC_INPUTS));
}
static void f_sec_count(uint8_t *b, size_t n) {
    pl__put_le64(b + sec_entry(b, PL__SEC_TENSORS) + 24, UINT64_MAX / 2);
}
static void f_sec_missing(uint8_t *b, size_t n) { /* becomes an unknown optional section */
    size_t e = sec_entry(b, PL__SEC_LAYERS);
    pl__put_le32(b + e, 50);
    pl__put_le32(b + e + 4, 0);
}
static void f_device(uint8_t *b, size_t n) { pl__put_le32(b + PL__PLAN_OFF_DEVICE, 9); }
static void f_output_twice(uint8_t *b, size_t n) {
    size_t o = sec_off(b, PL__SEC_OUTPUTS);
    memcpy(b + o + 4, b + o, 4);
}
static void f_input_list(uint8_t *b, size_t n) { pl__put_le32(b + sec_off(b, PL__SEC_INPUTS), 1); }
static void f_trailing(uint8_t *b, size_t n) {
    /* the inputs section claims no record but keeps its 4 bytes */
    pl__put_le64(b + sec_entry(b, PL__SEC_INPUTS) + 24, 0);
}
static void f_attr_type(uint8_t *b, size_t n) {
    size_t at = layer_nin(b, 0);
    at += 4 + 4 * (size_t)pl__get_le32(b + at);
    at += 4 + 4 * (size_t)pl__get_le32(b + at);
    at = skip_str(b, at + 4); /* first attribute's name */
    pl__put_le32(b + at, 12);
}
static void f_attr_count(uint8_t *b, size_t n) {
    size_t at = layer_nin(b, 0);
    at += 4 + 4 * (size_t)pl__get_le32(b + at);
    at += 4 + 4 * (size_t)pl__get_le32(b + at);
    at = skip_str(b, at + 4); /* alpha: INT */
    at += 4 + 8;
    at = skip_str(b, at) + 4 + 8; /* beta: FLOAT */
    at = skip_str(b, at) + 4;     /* mode: STRING */
    at = skip_str(b, at);
    at = skip_str(b, at) + 4; /* axes: INTS count */
    pl__put_le64(b + at, UINT64_MAX / 4);
}
static void f_meta_dup(uint8_t *b, size_t n) {
    /* keys: producer, device, precision, profiles; "profiles" -> "producer" (same length) */
    size_t at = sec_off(b, PL__SEC_META);
    for (int i = 0; i < 3; i++) {
        at = skip_str(b, at) + 4;
        at += 8 + (size_t)pl__get_le64(b + at);
    }
    memcpy(b + at + 4, "producer", 8);
}
static void f_blob_range(uint8_t *b, size_t n) {
    size_t at = skip_str(b, sec_off(b, PL__SEC_BLOBS));
    pl__put_le64(b + at + 8, 1u << 30);
}

static void test_forgeries(void) {
    char msg[160];
    snprintf(msg, sizeof(msg), "model.engine: layer 0 ('relu1'): input 0 refers to tensor 9999, "
             "but the engine has %d tensors", 8);
    check_forgery("tensor id", f_tensor_id, PL_ERR_FORMAT, msg);
    check_forgery("negative id", f_negative_id, PL_ERR_FORMAT, "refers to tensor -7");
    check_forgery("order", f_not_topo, PL_ERR_FORMAT, "which no earlier layer produces");
    check_forgery("nin", f_nin_huge, PL_ERR_FORMAT, "layer 1 ('add1'): 100000 inputs, more than 64");
    check_forgery("op", f_op_name, PL_ERR_UNSUPPORTED, "op 'Relx' is not a core layer");
    check_forgery("nul", f_str_no_nul, PL_ERR_FORMAT, "not NUL-terminated");
    check_forgery("str len", f_str_len, PL_ERR_FORMAT, "layer 0: field 'name' is a string of");
    check_forgery("rank", f_rank, PL_ERR_FORMAT, "tensor 0 ('x'): rank 9 is more than 8");
    check_forgery("dtype", f_dtype, PL_ERR_FORMAT, "tensor 1 ('w'): unknown dtype 99");
    check_forgery("kind", f_kind, PL_ERR_FORMAT, "unknown tensor kind 3");
    check_forgery("dup name", f_dup_name, PL_ERR_FORMAT, "tensors 0 and 1 are both named 'x'");
    check_forgery("misaligned const", f_const_misaligned, PL_ERR_FORMAT,
                  "tensor 2 ('idx'): data offset 65 is not 64-aligned");
    check_forgery("const outside", f_const_outside, PL_ERR_FORMAT, "outside the weights section");
    check_forgery("const size", f_const_size, PL_ERR_FORMAT,
                  "constant 2 ('idx'): holds 8 bytes, but its shape and dtype int64 need 16");
    check_forgery("act data", f_act_data, PL_ERR_FORMAT, "a non-constant with data");
    check_forgery("section align", f_sec_misaligned, PL_ERR_FORMAT, "(weights, id 9)");
    check_forgery("section end", f_sec_past_end, PL_ERR_FORMAT, "outside the file body");
    check_forgery("overlap", f_sec_overlap, PL_ERR_FORMAT, "overlap");
    check_forgery("count", f_sec_count, PL_ERR_FORMAT, "the tensors section claims");
    check_forgery("missing", f_sec_missing, PL_ERR_FORMAT, "the engine has no layers section");
    check_forgery("device", f_device, PL_ERR_FORMAT, "unknown device 9");
    check_forgery("output twice", f_output_twice, PL_ERR_FORMAT, "listed twice as a graph output");
    check_forgery("input list", f_input_list, PL_ERR_FORMAT, "graph input 0 is the constant 'w'");
    check_forgery("trailing", f_trailing, PL_ERR_FORMAT, "4 bytes follow the last record");
    check_forgery("attr type", f_attr_type, PL_ERR_FORMAT, "attribute 'alpha' has unknown type 12");
    check_forgery("attr count", f_attr_count, PL_ERR_FORMAT, "attribute 'axes' claims");
    check_forgery("meta dup", f_meta_dup, PL_ERR_FORMAT, "metadata entry 3 ('producer'): the key appears twice");
    check_forgery("blob range", f_blob_range, PL_ERR_FORMAT, "blob 0 ('relu.cubin'): offset 0");
}

static void test_missing_plugin(void) {
    pl__plan *a = make_plugin_plan("libmissing.so", 0xfeed), *b = NULL;
    uint8_t *buf = NULL;
    size_t n = 0;
    PL_CHECK(serialize(a, &buf, &n));
    PL_CHECK_FAILS(pl__plan_deserialize(buf, n, "model.engine", &b), PL_ERR_PLUGIN,
                   "model.engine: layer 'myplug' uses plugin 'test::NoSuchPlugin' version '2.1', "
                   "which is not registered; it was built with library 'libmissing.so' (xxh64 "
                   "000000000000feed): load it with --plugins libmissing.so");
    PL_CHECK(b == NULL);
    pl__plan_free(a);
    free(buf);
    /* an application-registered plugin has no library to point at */
    a = make_plugin_plan(NULL, 0);
    PL_CHECK(serialize(a, &buf, &n));
    PL_CHECK_FAILS(pl__plan_deserialize(buf, n, "model.engine", &b), PL_ERR_PLUGIN,
                   "register it before loading the engine");
    pl__plan_free(a);
    free(buf);
}

static void test_writer_refuses(void) {
    pl__plan *a = make_minimal();
    void *d = NULL;
    size_t n = 0;
    a->net->tensors[1].dtype = PL_DTYPE_INVALID;
    PL_CHECK_FAILS(pl__plan_serialize(a, &d, &n), PL_ERR_INVALID_ARG, "the network was not built");
    a->net->tensors[1].dtype = PL_FLOAT32;
    a->net->layers[0].dead = true;
    PL_CHECK_FAILS(pl__plan_serialize(a, &d, &n), PL_ERR_INVALID_ARG, "is dead");
    a->net->layers[0].dead = false;
    a->device = (pl_device)5;
    PL_CHECK_FAILS(pl__plan_serialize(a, &d, &n), PL_ERR_INVALID_ARG, "unknown device 5");
    a->device = PL_DEVICE_CUDA;
    PL_CHECK_OK(pl__plan_serialize(a, &d, &n));
    PL_CHECK(d == NULL || pl__get_le32((uint8_t *)d + PL__PLAN_OFF_DEVICE) == PL_DEVICE_CUDA);
    free(d);
    PL_CHECK_FAILS(pl__plan_set_meta(a, "", "v"), PL_ERR_INVALID_ARG, NULL);
    PL_CHECK_FAILS(pl__plan_deserialize(NULL, 0, NULL, &(pl__plan *){NULL}), PL_ERR_FORMAT,
                   "engine: 0 bytes is too short");
    pl__plan_free(a);
    pl__plan_free(NULL);
}

/* The committed seeds are format-1 files: every later plinth must keep reading them. They were
 * written by `test-engine-format --write-seeds tests/data/engine-seeds`; full.engine is compared
 * with make_plan(), so a change to make_plan() needs new seeds, while a change to the format
 * needs a version bump (docs/engine-format.md) and a reader that still loads these. */
static void test_committed_seeds(void) {
    const char *dir = PL_TEST_DATA "/engine-seeds";
    DIR *d = opendir(dir);
    struct dirent *e;
    int seen = 0;
    if (!d) {
        printf("skipped: no %s\n", dir);
        return;
    }
    while ((e = readdir(d))) {
        char path[1024];
        FILE *f;
        long sz;
        uint8_t *buf;
        pl__plan *p = NULL;
        pl_status s;
        if (!strstr(e->d_name, ".engine"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)sz + 1);
        if (fread(buf, 1, (size_t)sz, f) != (size_t)sz)
            sz = 0;
        fclose(f);
        s = pl__plan_deserialize(buf, (size_t)sz, e->d_name, &p);
        if (strstr(e->d_name, "plugin"))
            PL_CHECK_FAILS(s, PL_ERR_PLUGIN, "load it with --plugins");
        else
            PL_CHECK_OK(s);
        if (p && strcmp(e->d_name, "full.engine") == 0) {
            pl__plan *a = make_plan();
            compare_plans(a, p, buf);
            pl__plan_free(a);
        }
        pl__plan_free(p);
        free(buf);
        seen++;
    }
    closedir(d);
    PL_CHECK(seen >= 3);
}

static int write_seed(const char *dir, const char *name, pl__plan *p) {
    uint8_t *buf = NULL;
    size_t n = 0;
    char path[1024];
    FILE *f;
    int ok = serialize(p, &buf, &n);
    pl__plan_free(p);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = ok ? fopen(path, "wb") : NULL;
    ok = f && fwrite(buf, 1, n, f) == n;
    if (f)
        ok = (fclose(f) == 0) && ok;
    free(buf);
    if (!ok)
        fprintf(stderr, "cannot write %s\n", path);
    return ok;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        if (mkdir(argv[2], 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "cannot create %s\n", argv[2]);
            return 1;
        }
        return write_seed(argv[2], "full.engine", make_plan()) &&
                       write_seed(argv[2], "minimal.engine", make_minimal()) &&
                       write_seed(argv[2], "plugin-missing.engine",
                                  make_plugin_plan("libmissing.so", 0xfeed))
                   ? 0
                   : 1;
    }
    PL_RUN(test_roundtrip);
    PL_RUN(test_weights_in_place);
    PL_RUN(test_deterministic_and_default_producer);
    PL_RUN(test_truncation_every_length);
    PL_RUN(test_corruption_every_byte);
    PL_RUN(test_magic_and_version);
    PL_RUN(test_forgeries);
    PL_RUN(test_missing_plugin);
    PL_RUN(test_writer_refuses);
    PL_RUN(test_committed_seeds);
    return pl_test_report();
}
