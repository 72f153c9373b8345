/*
 * onnx-import.c - the ONNX model importer: parses a ModelProto with protobuf-c (code generated
 * at build time from Debian's onnx.proto), turns initializers into constants and graph inputs
 * into network inputs, and dispatches every node to its handler (onnx-handlers.c) or to a
 * plugin. It builds the network only through the public network API.
 *
 * Model-local functions are inlined (pl__inline_function).
 *
 * Unsupported ops do not stop the scan: they are collected, values they would produce are
 * marked "missing" so that their consumers are skipped without a second error, and the import
 * fails at the end with one message listing every op plinth lacks. Any other error stops the
 * import at once. Every message starts with the model path.
 *
 * Newer models than the compiled proto load: protobuf-c skips unknown fields. What that loses
 * is listed in docs/onnx.md (e.g. IR 10's per-node metadata, which plinth does not need).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx/onnx-internal.h"

#define PL__MISSING (-2) /* a value produced by an unsupported node */

/* ---- a small string -> int32 map (open addressing; keys are borrowed from the model) ---- */
typedef struct pl__name_map {
    const char **keys;
    int32_t *vals;
    size_t cap, n;
} pl__name_map;

static uint64_t pl__hash(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool pl__map_grow(pl__name_map *m) {
    size_t ncap = m->cap ? m->cap * 2 : 256;
    const char **keys = calloc(ncap, sizeof(*keys));
    int32_t *vals = calloc(ncap, sizeof(*vals));
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = pl__hash(m->keys[i]) & (ncap - 1);
        while (keys[j])
            j = (j + 1) & (ncap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = ncap;
    return true;
}

static bool pl__map_get(const pl__name_map *m, const char *key, int32_t *val) {
    if (!m->cap)
        return false;
    for (size_t j = pl__hash(key) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
        if (strcmp(m->keys[j], key) == 0) {
            *val = m->vals[j];
            return true;
        }
    return false;
}

/* Inserts or replaces. The key must outlive the map. */
static bool pl__map_put(pl__name_map *m, const char *key, int32_t val) {
    size_t j;
    if ((m->n + 1) * 2 > m->cap && !pl__map_grow(m))
        return false;
    for (j = pl__hash(key) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1))
        if (strcmp(m->keys[j], key) == 0) {
            m->vals[j] = val;
            return true;
        }
    m->keys[j] = key;
    m->vals[j] = val;
    m->n++;
    return true;
}

static void pl__map_free(pl__name_map *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* ---- the import context ---- */
typedef struct pl__unsupported {
    char *op_type, *domain, *node, *note;
    int64_t opset;
} pl__unsupported;

struct pl__onnx_ctx {
    const char *base_dir;
    pl_network *net;
    const Onnx__ModelProto *model;
    pl__name_map names;
    int ninit; /* tensor ids below this are initializers */
    void **scratch;
    int nscratch, cap_scratch;
    char **owned_keys; /* map keys we made (helper names), freed at the end */
    int nowned, cap_owned;
    pl__unsupported *unsup;
    int nunsup, cap_unsup;
};

pl_network *pl__onnx_net(pl__onnx_ctx *ctx) { return ctx->net; }
const char *pl__onnx_base_dir(pl__onnx_ctx *ctx) { return ctx->base_dir; }

void *pl__onnx_scratch(pl__onnx_ctx *ctx, size_t bytes) {
    void *p;
    if (!pl__grow((void **)&ctx->scratch, &ctx->cap_scratch, ctx->nscratch + 1, sizeof(void *)))
        return NULL;
    p = calloc(1, bytes ? bytes : 1);
    if (p)
        ctx->scratch[ctx->nscratch++] = p;
    return p;
}

static void pl__scratch_reset(pl__onnx_ctx *ctx) {
    for (int i = 0; i < ctx->nscratch; i++)
        free(ctx->scratch[i]);
    ctx->nscratch = 0;
}

pl_status pl__onnx_node_fail(const pl__onnx_node *node, pl_status s, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return pl__fail(s, "node '%s' (%s): %s", node->label, node->proto->op_type, msg);
}

const Onnx__AttributeProto *pl__onnx_attr(const pl__onnx_node *node, const char *name) {
    for (size_t i = 0; i < node->proto->n_attribute; i++) {
        const Onnx__AttributeProto *a = node->proto->attribute[i];
        if (a && a->name && strcmp(a->name, name) == 0)
            return a;
    }
    return NULL;
}

const char *pl__onnx_attr_type_name(int type) {
    switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return "FLOAT";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return "INT";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return "STRING";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: return "TENSOR";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH: return "GRAPH";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSOR: return "SPARSE_TENSOR";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO: return "TYPE_PROTO";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: return "FLOATS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: return "INTS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: return "STRINGS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS: return "TENSORS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS: return "GRAPHS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__SPARSE_TENSORS: return "SPARSE_TENSORS";
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTOS: return "TYPE_PROTOS";
    default: return "UNDEFINED";
    }
}

/* The attribute's type; IR version 1 models leave `type` unset and mean the field present. */
static int pl__attr_type(const Onnx__AttributeProto *a) {
    if (a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
        return (int)a->type;
    if (a->has_f) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    if (a->has_i) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (a->has_s) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    if (a->t) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    if (a->g) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
    if (a->n_floats) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    if (a->n_ints) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    if (a->n_strings) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
    if (a->n_tensors) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSORS;
    if (a->n_graphs) return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS;
    return ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED;
}

/* ONNX attribute names whose type is the same in every operator that has them. A node giving
 * one of these with another type is malformed; layers read attributes by type and would
 * otherwise silently use their default. ("value", "seed" and "shape" differ between ops and
 * are not listed.) */
typedef struct pl__known_attr {
    const char *name;
    int type;
} pl__known_attr;

#define PL__AI ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
#define PL__AF ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
#define PL__AS ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
#define PL__AIS ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
#define PL__AFS ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
#define PL__ASS ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
static const pl__known_attr pl__known_attrs[] = {
    {"activation_alpha", PL__AFS}, {"activation_beta", PL__AFS}, {"activations", PL__ASS},
    {"align_corners", PL__AI}, {"allowzero", PL__AI}, {"alpha", PL__AF}, {"antialias", PL__AI},
    {"approximate", PL__AS}, {"auto_pad", PL__AS}, {"axes", PL__AIS}, {"axis", PL__AI},
    {"batch_dims", PL__AI}, {"beta", PL__AF}, {"bias", PL__AF}, {"block_size", PL__AI},
    {"blocksize", PL__AI}, {"broadcast", PL__AI}, {"ceil_mode", PL__AI},
    {"center_point_box", PL__AI}, {"clip", PL__AF}, {"coordinate_transformation_mode", PL__AS},
    {"count_include_pad", PL__AI}, {"cubic_coeff_a", PL__AF}, {"detect_negative", PL__AI},
    {"detect_positive", PL__AI}, {"dilations", PL__AIS}, {"direction", PL__AS},
    {"dtype", PL__AI}, {"ends", PL__AIS}, {"epsilon", PL__AF}, {"equation", PL__AS},
    {"exclude_outside", PL__AI}, {"exclusive", PL__AI}, {"extrapolation_value", PL__AF},
    {"fmod", PL__AI}, {"gamma", PL__AF}, {"group", PL__AI}, {"hidden_size", PL__AI},
    {"input_forget", PL__AI}, {"k", PL__AI}, {"keep_aspect_ratio_policy", PL__AS},
    {"keepdims", PL__AI}, {"kernel_shape", PL__AIS}, {"lambd", PL__AF}, {"largest", PL__AI},
    {"layout", PL__AI}, {"linear_before_reset", PL__AI}, {"max", PL__AF}, {"min", PL__AF},
    {"mode", PL__AS}, {"momentum", PL__AF}, {"nearest_mode", PL__AS},
    {"noop_with_empty_axes", PL__AI}, {"num_outputs", PL__AI}, {"output_dtype", PL__AI},
    {"output_height", PL__AI}, {"output_padding", PL__AIS}, {"output_shape", PL__AIS},
    {"output_width", PL__AI}, {"p", PL__AI}, {"padding_mode", PL__AS}, {"pads", PL__AIS},
    {"perm", PL__AIS}, {"pooled_shape", PL__AIS}, {"ratio", PL__AF}, {"reduction", PL__AS},
    {"reverse", PL__AI}, {"sampling_ratio", PL__AI}, {"saturate", PL__AI}, {"scales", PL__AFS},
    {"select_last_index", PL__AI}, {"size", PL__AI}, {"sorted", PL__AI}, {"spatial", PL__AI},
    {"spatial_scale", PL__AF}, {"split", PL__AIS}, {"stash_type", PL__AI}, {"starts", PL__AIS},
    {"storage_order", PL__AI}, {"strides", PL__AIS}, {"to", PL__AI}, {"training_mode", PL__AI},
    {"transA", PL__AI}, {"transB", PL__AI}, {"upper", PL__AI},
};

static int pl__known_type(const char *name) {
    for (size_t i = 0; i < sizeof(pl__known_attrs) / sizeof(pl__known_attrs[0]); i++)
        if (strcmp(pl__known_attrs[i].name, name) == 0)
            return pl__known_attrs[i].type;
    return -1;
}

static bool pl__in_list(const char *const *list, const char *s) {
    for (; list && *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

/* Checks what every node's attributes must satisfy, whatever handles the node: names present and
 * unique, no function references, and well-known names carrying their ONNX type. */
static pl_status pl__check_attrs(const pl__onnx_node *node) {
    const Onnx__NodeProto *np = node->proto;
    for (size_t i = 0; i < np->n_attribute; i++) {
        const Onnx__AttributeProto *a = np->attribute[i];
        int type, want;
        if (!a || !a->name || !a->name[0])
            return pl__onnx_node_fail(node, PL_ERR_FORMAT, "attribute %zu has no name", i);
        if (a->ref_attr_name && a->ref_attr_name[0])
            return pl__onnx_node_fail(node, PL_ERR_FORMAT, "attribute '%s' refers to a function "
                                      "attribute ('%s') outside a function", a->name,
                                      a->ref_attr_name);
        for (size_t k = 0; k < i; k++)
            if (strcmp(np->attribute[k]->name, a->name) == 0)
                return pl__onnx_node_fail(node, PL_ERR_FORMAT, "attribute '%s' is given twice",
                                          a->name);
        type = pl__attr_type(a);
        want = pl__known_type(a->name);
        if (want >= 0 && type != want)
            return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "attribute '%s' is %s, expected %s",
                                      a->name, pl__onnx_attr_type_name(type),
                                      pl__onnx_attr_type_name(want));
    }
    return PL_OK;
}

static char *pl__scratch_string(pl__onnx_ctx *ctx, const ProtobufCBinaryData *b) {
    char *s = pl__onnx_scratch(ctx, b->len + 1);
    if (s && b->len)
        memcpy(s, b->data, b->len);
    return s;
}

pl_status pl__onnx_node_attrs(pl__onnx_ctx *ctx, const pl__onnx_node *node,
                              const char *const *skip, pl_attr **attrs_out, int *nattrs_out) {
    static const int64_t no_ints[1];
    static const float no_floats[1];
    const Onnx__NodeProto *np = node->proto;
    pl_attr *attrs = pl__onnx_scratch(ctx, sizeof(pl_attr) * (np->n_attribute + 1));
    int n = 0;
    pl_status s;
    if (!attrs)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    if ((s = pl__check_attrs(node)))
        return s;
    for (size_t i = 0; i < np->n_attribute; i++) {
        const Onnx__AttributeProto *a = np->attribute[i];
        int type = pl__attr_type(a);
        pl_attr *d = &attrs[n];
        if (pl__in_list(skip, a->name))
            continue;
        d->name = a->name;
        switch (type) {
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
            d->type = PL_ATTR_INT;
            d->i = a->i;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
            d->type = PL_ATTR_FLOAT;
            d->f = a->f;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
            d->type = PL_ATTR_STRING;
            if (a->s.len && memchr(a->s.data, 0, a->s.len))
                return pl__onnx_node_fail(node, PL_ERR_FORMAT, "attribute '%s': string contains "
                                          "a NUL byte", a->name);
            if (!(d->s = pl__scratch_string(ctx, &a->s)))
                return pl__fail(PL_ERR_NOMEM, "out of memory");
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
            d->type = PL_ATTR_INTS;
            d->ints = a->n_ints ? a->ints : no_ints;
            d->count = (int64_t)a->n_ints;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
            d->type = PL_ATTR_FLOATS;
            d->floats = a->n_floats ? a->floats : no_floats;
            d->count = (int64_t)a->n_floats;
            break;
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: {
            /* plinth attributes have no list-of-strings type: the list travels as one STRING
             * joined with ',' (the only users, RNN activations, never contain commas). */
            size_t len = 0;
            char *str;
            for (size_t k = 0; k < a->n_strings; k++) {
                if (a->strings[k].len && (memchr(a->strings[k].data, ',', a->strings[k].len) ||
                                          memchr(a->strings[k].data, 0, a->strings[k].len)))
                    return pl__onnx_node_fail(node, PL_ERR_UNSUPPORTED, "attribute '%s': a "
                                              "string of the list contains ',' or NUL", a->name);
                len += a->strings[k].len + 1;
            }
            if (!(str = pl__onnx_scratch(ctx, len + 1)))
                return pl__fail(PL_ERR_NOMEM, "out of memory");
            len = 0;
            for (size_t k = 0; k < a->n_strings; k++) {
                if (k)
                    str[len++] = ',';
                if (a->strings[k].len)
                    memcpy(str + len, a->strings[k].data, a->strings[k].len);
                len += a->strings[k].len;
            }
            d->type = PL_ATTR_STRING;
            d->s = str;
            break;
        }
        case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED:
            return pl__onnx_node_fail(node, PL_ERR_FORMAT, "attribute '%s' has no type and no "
                                      "value", a->name);
        default:
            return pl__onnx_node_fail(node, PL_ERR_UNSUPPORTED, "attribute '%s' of type %s is not "
                                      "supported", a->name, pl__onnx_attr_type_name(type));
        }
        n++;
    }
    *attrs_out = attrs;
    *nattrs_out = n;
    return PL_OK;
}

pl_status pl__onnx_bind_name(pl__onnx_ctx *ctx, const char *name, pl_tensor t) {
    if (!pl__map_put(&ctx->names, name, t))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    return PL_OK;
}

pl_status pl__onnx_add_layer(pl__onnx_ctx *ctx, const pl__onnx_node *node, const char *op,
                             const pl_tensor *in, int nin, const pl_attr *attrs, int nattrs) {
    pl_tensor out[64];
    pl_status s;
    if (node->nout > 64)
        return pl__onnx_node_fail(node, PL_ERR_UNSUPPORTED, "%d outputs (at most 64)", node->nout);
    s = pl_network_add_layer(ctx->net, op, node->label, in, nin, attrs, nattrs, node->nout,
                             node->out_names, out);
    if (s)
        return s;
    for (int k = 0; k < node->nout; k++)
        if (node->out_names[k] && (s = pl__onnx_bind_name(ctx, node->out_names[k], out[k])))
            return s;
    return PL_OK;
}

static char *pl__helper_name(pl__onnx_ctx *ctx, const pl__onnx_node *node, const char *suffix) {
    char *name = pl__sprintf("%s/%s", node->label, suffix);
    pl_tensor existing;
    for (int i = 2; name && pl_network_find_tensor(ctx->net, name, &existing) == PL_OK; i++) {
        free(name);
        name = pl__sprintf("%s/%s_%d", node->label, suffix, i);
    }
    if (name && !pl__grow((void **)&ctx->owned_keys, &ctx->cap_owned, ctx->nowned + 1,
                          sizeof(char *))) {
        free(name);
        return NULL;
    }
    if (name)
        ctx->owned_keys[ctx->nowned++] = name;
    return name;
}

pl_status pl__onnx_add_helper(pl__onnx_ctx *ctx, const pl__onnx_node *node, const char *suffix,
                              const char *op, const pl_tensor *in, int nin, const pl_attr *attrs,
                              int nattrs, pl_tensor *out) {
    char *name = pl__helper_name(ctx, node, suffix);
    const char *names[1] = {name};
    if (!name)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    return pl_network_add_layer(ctx->net, op, name, in, nin, attrs, nattrs, 1, names, out);
}

pl_status pl__onnx_add_const(pl__onnx_ctx *ctx, const pl__onnx_node *node, const char *suffix,
                             pl_dtype dtype, int rank, const int64_t *dims, const void *data,
                             pl_tensor *out) {
    char *name = pl__helper_name(ctx, node, suffix);
    if (!name)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    return pl_network_add_constant(ctx->net, name, dtype, rank, dims, data, out);
}

/* ---- unsupported ops ---- */
static pl_status pl__record_unsupported(pl__onnx_ctx *ctx, const pl__onnx_node *node,
                                        const char *note) {
    pl__unsupported *u;
    for (int i = 0; i < ctx->nunsup; i++)
        if (strcmp(ctx->unsup[i].op_type, node->proto->op_type) == 0 &&
            strcmp(ctx->unsup[i].domain, node->domain) == 0)
            return PL_OK;
    if (!pl__grow((void **)&ctx->unsup, &ctx->cap_unsup, ctx->nunsup + 1, sizeof(*u)))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    u = &ctx->unsup[ctx->nunsup];
    u->op_type = pl__strdup(node->proto->op_type);
    u->domain = pl__strdup(node->domain);
    u->node = pl__strdup(node->label);
    u->note = note ? pl__strdup(note) : NULL;
    u->opset = node->opset;
    ctx->nunsup++;
    if (!u->op_type || !u->domain || !u->node || (note && !u->note))
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    return PL_OK;
}

static pl_status pl__fail_unsupported(pl__onnx_ctx *ctx) {
    char msg[900];
    size_t len = 0;
    int shown = 0;
    len += (size_t)snprintf(msg, sizeof(msg), "%d unsupported op%s (no core layer and no "
                            "registered plugin): ", ctx->nunsup, ctx->nunsup == 1 ? "" : "s");
    for (int i = 0; i < ctx->nunsup; i++) {
        const pl__unsupported *u = &ctx->unsup[i];
        char item[400];
        int w = snprintf(item, sizeof(item), "%s%s (domain '%s', opset %lld) at node '%s'%s%s%s",
                         i ? "; " : "", u->op_type, u->domain, (long long)u->opset, u->node,
                         u->note ? " (" : "", u->note ? u->note : "", u->note ? ")" : "");
        if (w < 0 || len + (size_t)w + 24 >= sizeof(msg))
            break;
        memcpy(msg + len, item, (size_t)w + 1);
        len += (size_t)w;
        shown++;
    }
    if (shown < ctx->nunsup)
        snprintf(msg + len, sizeof(msg) - len, "; and %d more", ctx->nunsup - shown);
    return pl__fail(PL_ERR_UNSUPPORTED, "%s", msg);
}

/* ---- model walk ---- */
static bool pl__is_default_domain(const char *d) {
    return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

static bool pl__opset_in(Onnx__OperatorSetIdProto *const *v, size_t n, const char *domain,
                         int64_t *out) {
    bool def = pl__is_default_domain(domain);
    for (size_t i = 0; i < n; i++) {
        const Onnx__OperatorSetIdProto *o = v[i];
        if (!o)
            continue;
        if (def ? pl__is_default_domain(o->domain) : (o->domain && strcmp(o->domain, domain) == 0)) {
            *out = o->has_version ? o->version : 1;
            return true;
        }
    }
    return false;
}

/* The opset of a domain: the enclosing function's imports first, then the model's. */
static int64_t pl__opset_of(const Onnx__ModelProto *m, const Onnx__FunctionProto *fn,
                            const char *domain) {
    int64_t v;
    if (fn && pl__opset_in(fn->opset_import, fn->n_opset_import, domain, &v))
        return v;
    if (pl__opset_in(m->opset_import, m->n_opset_import, domain, &v))
        return v;
    /* IR version < 3 models carry no opset_import and mean ai.onnx opset 1 */
    return pl__is_default_domain(domain) && m->n_opset_import == 0 ? 1 : 0;
}

/* The model-local function called by (domain, name), or NULL. */
static const Onnx__FunctionProto *pl__find_function(const Onnx__ModelProto *m, const char *domain,
                                                    const char *name) {
    for (size_t i = 0; i < m->n_functions; i++) {
        const Onnx__FunctionProto *f = m->functions[i];
        if (f && f->name && strcmp(f->name, name) == 0 &&
            (pl__is_default_domain(f->domain) ? pl__is_default_domain(domain)
                                              : strcmp(f->domain, domain) == 0))
            return f;
    }
    return NULL;
}

static bool pl__plugin_registered(const char *ns, const char *name) {
    int n = pl_plugins_count();
    for (int i = 0; i < n; i++) {
        const char *pns = NULL, *pname = NULL, *pver = NULL, *plib = NULL;
        if (pl_plugins_get(i, &pns, &pname, &pver, &plib) == PL_OK && pns && pname &&
            strcmp(pns, ns) == 0 && strcmp(pname, name) == 0)
            return true;
    }
    return false;
}

static pl_status pl__add_initializers(pl__onnx_ctx *ctx, const Onnx__GraphProto *g) {
    if (g->n_sparse_initializer)
        return pl__fail(PL_ERR_UNSUPPORTED, "the graph has %zu sparse initializers (not supported)",
                        g->n_sparse_initializer);
    for (size_t i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *t = g->initializer[i];
        pl__onnx_tensor v;
        char what[320];
        pl_tensor id;
        int32_t old;
        pl_status s;
        if (!t || !t->name || !t->name[0])
            return pl__fail(PL_ERR_FORMAT, "initializer %zu has no name", i);
        if (pl__map_get(&ctx->names, t->name, &old))
            return pl__fail(PL_ERR_FORMAT, "initializer '%s' is defined twice", t->name);
        snprintf(what, sizeof(what), "initializer '%s'", t->name);
        if ((s = pl__onnx_tensor_decode(t, what, ctx->base_dir, &v)))
            return s;
        s = pl_network_add_constant(ctx->net, t->name, v.dtype, v.rank, v.dims, v.data, &id);
        pl__onnx_tensor_release(&v);
        if (s)
            return s;
        if ((s = pl__onnx_bind_name(ctx, t->name, id)))
            return s;
    }
    return PL_OK;
}

static pl_status pl__add_inputs(pl__onnx_ctx *ctx, const Onnx__GraphProto *g) {
    for (size_t i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *vi = g->input[i];
        const Onnx__TypeProto__Tensor *tt;
        int64_t dims[PL_MAX_RANK];
        const char *dim_names[PL_MAX_RANK];
        pl_dtype dt;
        pl_tensor id;
        int32_t old;
        int rank;
        pl_status s;
        if (!vi || !vi->name || !vi->name[0])
            return pl__fail(PL_ERR_FORMAT, "graph input %zu has no name", i);
        if (pl__map_get(&ctx->names, vi->name, &old)) {
            if (old >= 0 && old < ctx->ninit)
                continue; /* an initializer with a default value: a constant */
            return pl__fail(PL_ERR_FORMAT, "graph input '%s' is declared twice", vi->name);
        }
        if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
            !vi->type->tensor_type)
            return pl__fail(PL_ERR_UNSUPPORTED, "graph input '%s' is not a tensor (sequence, map, "
                            "optional and sparse inputs are not supported)", vi->name);
        tt = vi->type->tensor_type;
        dt = pl__onnx_dtype(tt->elem_type);
        if (dt == PL_DTYPE_INVALID)
            return pl__fail(PL_ERR_UNSUPPORTED, "graph input '%s': data type %s (%d) is not "
                            "supported by plinth", vi->name, pl__onnx_dtype_name(tt->elem_type),
                            (int)tt->elem_type);
        if (!tt->shape)
            return pl__fail(PL_ERR_UNSUPPORTED, "graph input '%s' has no shape (its rank must be "
                            "known)", vi->name);
        if (tt->shape->n_dim > PL_MAX_RANK)
            return pl__fail(PL_ERR_UNSUPPORTED, "graph input '%s': rank %zu exceeds plinth's "
                            "maximum %d", vi->name, tt->shape->n_dim, PL_MAX_RANK);
        rank = (int)tt->shape->n_dim;
        for (int d = 0; d < rank; d++) {
            const Onnx__TensorShapeProto__Dimension *dim = tt->shape->dim[d];
            dims[d] = -1;
            dim_names[d] = NULL;
            if (!dim)
                continue;
            if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE &&
                dim->dim_value >= 0)
                dims[d] = dim->dim_value;
            else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                     dim->dim_param && dim->dim_param[0])
                dim_names[d] = dim->dim_param;
        }
        if ((s = pl_network_add_input(ctx->net, vi->name, dt, rank, dims, dim_names, &id)))
            return s;
        if ((s = pl__onnx_bind_name(ctx, vi->name, id)))
            return s;
    }
    return PL_OK;
}

/* Marks the node's declared outputs as produced by an unsupported node. */
static pl_status pl__mark_missing(pl__onnx_ctx *ctx, const pl__onnx_node *node) {
    pl_status s;
    for (int k = 0; k < node->nout; k++)
        if (node->out_names[k] && (s = pl__onnx_bind_name(ctx, node->out_names[k], PL__MISSING)))
            return s;
    return PL_OK;
}

typedef enum {
    PL__ROUTE_HANDLER,
    PL__ROUTE_GENERIC,
    PL__ROUTE_PLUGIN,
    PL__ROUTE_FUNCTION,
    PL__ROUTE_NONE
} pl__route;

#define PL__MAX_FUNCTION_DEPTH 16

static pl_status pl__import_node(pl__onnx_ctx *ctx, const Onnx__NodeProto *np, size_t index,
                                 const Onnx__FunctionProto *scope, int depth);

static pl_status pl__plugin_node(pl__onnx_ctx *ctx, const pl__onnx_node *node, const char *ns,
                                 const char *version) {
    static const char *const skip[] = {"plugin_namespace", "plugin_version", NULL};
    pl_attr *attrs;
    pl_tensor out[64];
    int nattrs;
    pl_status s;
    if (node->nout > 64)
        return pl__onnx_node_fail(node, PL_ERR_UNSUPPORTED, "%d outputs (at most 64)", node->nout);
    /* Unregistered: report the op as unsupported, not one of its attributes. */
    if (!pl__plugin_registered(ns, node->proto->op_type))
        return pl__fail(PL_ERR_NOT_FOUND, "plugin '%s::%s' is not registered", ns,
                        node->proto->op_type);
    if ((s = pl__onnx_node_attrs(ctx, node, skip, &attrs, &nattrs)))
        return s;
    s = pl_network_add_plugin(ctx->net, ns, node->proto->op_type, version, node->label, node->in,
                              node->nin, attrs, nattrs, node->nout, node->out_names, out);
    if (s)
        return s;
    for (int k = 0; k < node->nout; k++)
        if (node->out_names[k] && (s = pl__onnx_bind_name(ctx, node->out_names[k], out[k])))
            return s;
    return PL_OK;
}

/* A name kept until the import ends (map keys must outlive the map). */
static char *pl__owned(pl__onnx_ctx *ctx, char *s) {
    if (s && !pl__grow((void **)&ctx->owned_keys, &ctx->cap_owned, ctx->nowned + 1,
                       sizeof(char *))) {
        free(s);
        return NULL;
    }
    if (s)
        ctx->owned_keys[ctx->nowned++] = s;
    return s;
}

/* Inlines a call of a model-local function: the body's nodes are imported in place, with formal
 * inputs/outputs renamed to the caller's values, inner values prefixed with the caller's first
 * output name (unique in SSA form), and attributes that refer to the caller's (ref_attr_name)
 * substituted; a referenced attribute the caller does not give is dropped, so the layer's
 * default applies (the 1.12 proto cannot see FunctionProto.attribute_proto defaults). */
static pl_status pl__inline_function(pl__onnx_ctx *ctx, const pl__onnx_node *node,
                                     const Onnx__FunctionProto *fn, int depth) {
    const Onnx__NodeProto *np = node->proto;
    const char *prefix = node->nout && node->out_names[0] ? node->out_names[0] : node->label;
    pl_status s = PL_OK;
    if (depth >= PL__MAX_FUNCTION_DEPTH)
        return pl__onnx_node_fail(node, PL_ERR_UNSUPPORTED, "functions nested deeper than %d "
                                  "(recursive?)", PL__MAX_FUNCTION_DEPTH);
    if (np->n_input > fn->n_input || np->n_output > fn->n_output)
        return pl__onnx_node_fail(node, PL_ERR_INVALID_ARG, "%zu inputs and %zu outputs, function "
                                  "'%s' has %zu and %zu", np->n_input, np->n_output, fn->name,
                                  fn->n_input, fn->n_output);
    for (size_t i = 0; i < fn->n_node && !s; i++) {
        const Onnx__NodeProto *b = fn->node[i];
        Onnx__NodeProto copy;
        char **ins = NULL, **outs = NULL;
        Onnx__AttributeProto **attrs = NULL, *subst = NULL;
        size_t nattr = 0;
        if (!b)
            return pl__onnx_node_fail(node, PL_ERR_FORMAT, "function '%s': node %zu is empty",
                                      fn->name, i);
        copy = *b;
        ins = calloc(b->n_input + 1, sizeof(char *));
        outs = calloc(b->n_output + 1, sizeof(char *));
        attrs = calloc(b->n_attribute + 1, sizeof(*attrs));
        subst = calloc(b->n_attribute + 1, sizeof(*subst));
        if (!ins || !outs || !attrs || !subst) {
            s = pl__fail(PL_ERR_NOMEM, "out of memory");
            goto next;
        }
        for (int io = 0; io < 2 && !s; io++) {
            size_t n = io ? b->n_output : b->n_input;
            char **src = io ? b->output : b->input, **dst = io ? outs : ins;
            for (size_t k = 0; k < n; k++) {
                const char *nm = src[k] ? src[k] : "";
                char *r = NULL;
                if (!nm[0]) {
                    dst[k] = (char *)"";
                    continue;
                }
                for (size_t f = 0; f < fn->n_input && !r; f++)
                    if (fn->input[f] && strcmp(fn->input[f], nm) == 0)
                        r = pl__strdup(f < np->n_input && np->input[f] ? np->input[f] : "");
                for (size_t f = 0; f < fn->n_output && !r; f++)
                    if (fn->output[f] && strcmp(fn->output[f], nm) == 0)
                        r = f < np->n_output && np->output[f] && np->output[f][0]
                                ? pl__strdup(np->output[f])
                                : pl__sprintf("%s/%s", prefix, nm);
                if (!r)
                    r = pl__sprintf("%s/%s", prefix, nm);
                if (!(dst[k] = pl__owned(ctx, r))) {
                    s = pl__fail(PL_ERR_NOMEM, "out of memory");
                    break;
                }
            }
        }
        for (size_t k = 0; k < b->n_attribute && !s; k++) {
            const Onnx__AttributeProto *a = b->attribute[k];
            if (a && a->ref_attr_name && a->ref_attr_name[0]) {
                const Onnx__AttributeProto *given = pl__onnx_attr(node, a->ref_attr_name);
                if (!given)
                    continue;
                subst[k] = *given;
                subst[k].name = a->name;
                attrs[nattr++] = &subst[k];
            } else {
                attrs[nattr++] = (Onnx__AttributeProto *)a;
            }
        }
        if (!s) {
            char *name = pl__owned(ctx, pl__sprintf("%s/%s", prefix,
                                                    b->name && b->name[0] ? b->name : b->op_type ?
                                                    b->op_type : "?"));
            if (!name) {
                s = pl__fail(PL_ERR_NOMEM, "out of memory");
                goto next;
            }
            copy.name = name;
            copy.input = ins;
            copy.output = outs;
            copy.attribute = attrs;
            copy.n_attribute = nattr;
            s = pl__import_node(ctx, &copy, i, fn, depth + 1);
        }
    next:
        free(ins);
        free(outs);
        free(attrs);
        free(subst);
    }
    return s;
}

static pl_status pl__import_node(pl__onnx_ctx *ctx, const Onnx__NodeProto *np, size_t index,
                                 const Onnx__FunctionProto *scope, int depth) {
    pl__onnx_node node = {.proto = np};
    const Onnx__FunctionProto *fn = NULL;
    pl_tensor *in = NULL;
    const char **out_names = NULL;
    const Onnx__AttributeProto *ns_attr, *ver_attr;
    const pl__onnx_handler *h = NULL;
    char *ns = NULL, *version = NULL, note[160] = "";
    bool missing = false;
    pl__route route;
    pl_status s = PL_OK;

    if (!np->op_type || !np->op_type[0])
        return pl__fail(PL_ERR_FORMAT, "node %zu%s%s%s has no op_type", index,
                        np->name ? " '" : "", np->name ? np->name : "", np->name ? "'" : "");
    node.label = np->name && np->name[0] ? np->name : NULL;
    for (size_t k = 0; !node.label && k < np->n_output; k++)
        if (np->output[k] && np->output[k][0])
            node.label = np->output[k];
    if (!node.label)
        node.label = np->op_type;
    node.domain = pl__is_default_domain(np->domain) ? "" : np->domain;
    node.opset = pl__opset_of(ctx->model, scope, node.domain);
    if (np->n_input > 64 || np->n_output > 64)
        return pl__onnx_node_fail(&node, PL_ERR_UNSUPPORTED, "%zu inputs and %zu outputs (at most "
                                  "64 each)", np->n_input, np->n_output);

    in = calloc(np->n_input + 1, sizeof(*in));
    out_names = calloc(np->n_output + 1, sizeof(*out_names));
    if (!in || !out_names) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t k = 0; k < np->n_input; k++) {
        const char *nm = np->input[k];
        int32_t id;
        if (!nm || !nm[0]) {
            in[k] = PL_NO_TENSOR;
            continue;
        }
        if (!pl__map_get(&ctx->names, nm, &id)) {
            s = pl__onnx_node_fail(&node, PL_ERR_FORMAT, "input %zu '%s' is not produced by any "
                                   "earlier node, initializer or graph input", k, nm);
            goto done;
        }
        if (id == PL__MISSING)
            missing = true;
        in[k] = id;
    }
    /* Trailing omitted outputs are not created; omitted ones in the middle get generated names. */
    node.nout = (int)np->n_output;
    while (node.nout > 0 && (!np->output[node.nout - 1] || !np->output[node.nout - 1][0]))
        node.nout--;
    for (int k = 0; k < node.nout; k++) {
        int32_t old;
        out_names[k] = np->output[k] && np->output[k][0] ? np->output[k] : NULL;
        if (out_names[k] && pl__map_get(&ctx->names, out_names[k], &old)) {
            s = pl__onnx_node_fail(&node, PL_ERR_FORMAT, "output '%s' is already produced by "
                                   "another node, initializer or graph input", out_names[k]);
            goto done;
        }
    }
    node.nin = (int)np->n_input;
    node.in = in;
    node.out_names = out_names;

    if ((s = pl__check_attrs(&node)))
        goto done;

    /* Route: plugin_namespace attribute > default-domain handler or core layer > plugin named by
     * (domain, op_type) for other domains. */
    ns_attr = pl__onnx_attr(&node, "plugin_namespace");
    ver_attr = pl__onnx_attr(&node, "plugin_version");
    if (ns_attr && ns_attr->has_s) {
        ns = pl__strdup("");
        if (ns_attr->s.len) {
            free(ns);
            ns = calloc(1, ns_attr->s.len + 1);
            if (ns)
                memcpy(ns, ns_attr->s.data, ns_attr->s.len);
        }
        if (ver_attr && ver_attr->has_s && ver_attr->s.len) {
            version = calloc(1, ver_attr->s.len + 1);
            if (version)
                memcpy(version, ver_attr->s.data, ver_attr->s.len);
        }
        if (!ns || (ver_attr && ver_attr->has_s && ver_attr->s.len && !version)) {
            s = pl__fail(PL_ERR_NOMEM, "out of memory");
            goto done;
        }
        route = PL__ROUTE_PLUGIN;
    } else {
        h = pl__onnx_find_handler(node.domain, np->op_type, node.opset);
        if (h)
            route = PL__ROUTE_HANDLER;
        else if (node.domain[0] && !pl__plugin_registered(node.domain, np->op_type) &&
                 (fn = pl__find_function(ctx->model, node.domain, np->op_type)))
            route = PL__ROUTE_FUNCTION; /* a registered plugin takes precedence */
        else if (!node.domain[0])
            route = pl_op_supported(np->op_type) ? PL__ROUTE_GENERIC : PL__ROUTE_NONE;
        else
            route = PL__ROUTE_PLUGIN;
        if (route == PL__ROUTE_PLUGIN && !(ns = pl__strdup(node.domain))) {
            s = pl__fail(PL_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
    if (route == PL__ROUTE_HANDLER && h->needs) {
        /* a translating handler: it needs these core layers */
        const char *p = h->needs;
        while (*p) {
            char op[64];
            size_t n = strcspn(p, ",");
            snprintf(op, sizeof(op), "%.*s", (int)(n < 63 ? n : 63), p);
            if (!pl_op_supported(op)) {
                snprintf(note, sizeof(note), "translated to core op %s, which is missing", op);
                route = PL__ROUTE_NONE;
                break;
            }
            p += n;
            while (*p == ',')
                p++;
        }
    } else if (route == PL__ROUTE_HANDLER && !pl_op_supported(np->op_type)) {
        route = PL__ROUTE_NONE;
    }

    if (missing && route != PL__ROUTE_FUNCTION) {
        /* A consumer of a missing value: report it too if plinth lacks it, else skip quietly. */
        if (route == PL__ROUTE_NONE ||
            (route == PL__ROUTE_PLUGIN && !pl__plugin_registered(ns, np->op_type)))
            s = pl__record_unsupported(ctx, &node, note[0] ? note : NULL);
        if (!s)
            s = pl__mark_missing(ctx, &node);
        goto done;
    }
    switch (route) {
    case PL__ROUTE_HANDLER: s = h->fn(ctx, &node); break;
    case PL__ROUTE_GENERIC: s = pl__onnx_generic(ctx, &node); break;
    case PL__ROUTE_FUNCTION: s = pl__inline_function(ctx, &node, fn, depth); break;
    case PL__ROUTE_PLUGIN:
        s = pl__plugin_node(ctx, &node, ns, version);
        if (s == PL_ERR_NOT_FOUND) {
            s = pl__record_unsupported(ctx, &node, NULL);
            if (!s)
                s = pl__mark_missing(ctx, &node);
        }
        break;
    case PL__ROUTE_NONE:
        s = pl__record_unsupported(ctx, &node, note[0] ? note : NULL);
        if (!s)
            s = pl__mark_missing(ctx, &node);
        break;
    }
    if (!s) {
        /* every declared output must now name a tensor */
        for (int k = 0; k < node.nout; k++) {
            int32_t id;
            if (out_names[k] && !pl__map_get(&ctx->names, out_names[k], &id)) {
                s = pl__onnx_node_fail(&node, PL_ERR_INTERNAL, "the handler did not produce "
                                       "output '%s'", out_names[k]);
                break;
            }
        }
    }
done:
    pl__scratch_reset(ctx);
    free(in);
    free(out_names);
    free(ns);
    free(version);
    return s;
}

static pl_status pl__import_graph(pl__onnx_ctx *ctx) {
    const Onnx__GraphProto *g = ctx->model->graph;
    pl_status s;
    if (!g)
        return pl__fail(PL_ERR_FORMAT, "the model has no graph");
    if ((s = pl__add_initializers(ctx, g)))
        return s;
    ctx->ninit = pl_network_num_tensors(ctx->net);
    if ((s = pl__add_inputs(ctx, g)))
        return s;
    for (size_t i = 0; i < g->n_node; i++) {
        if (!g->node[i])
            return pl__fail(PL_ERR_FORMAT, "node %zu is empty", i);
        if ((s = pl__import_node(ctx, g->node[i], i, NULL, 0)))
            return s;
    }
    if (ctx->nunsup)
        return pl__fail_unsupported(ctx);
    if (g->n_output == 0)
        return pl__fail(PL_ERR_FORMAT, "the graph has no outputs");
    for (size_t i = 0; i < g->n_output; i++) {
        const Onnx__ValueInfoProto *vi = g->output[i];
        int32_t id;
        if (!vi || !vi->name || !vi->name[0])
            return pl__fail(PL_ERR_FORMAT, "graph output %zu has no name", i);
        if (!pl__map_get(&ctx->names, vi->name, &id))
            return pl__fail(PL_ERR_FORMAT, "graph output '%s' is not produced by any node, "
                            "initializer or graph input", vi->name);
        if (vi->type && vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE &&
            vi->type->value_case != ONNX__TYPE_PROTO__VALUE__NOT_SET)
            return pl__fail(PL_ERR_UNSUPPORTED, "graph output '%s' is not a tensor (sequence, map, "
                            "optional and sparse outputs are not supported)", vi->name);
        if ((s = pl_network_mark_output(ctx->net, id)))
            return s;
    }
    return PL_OK;
}

static pl_status pl__import(const void *data, size_t size, const char *base_dir,
                            pl_network **out) {
    pl__onnx_ctx ctx;
    Onnx__ModelProto *m;
    pl_status s;
    memset(&ctx, 0, sizeof(ctx));
    if (size == 0)
        return pl__fail(PL_ERR_FORMAT, "the file is empty");
    m = onnx__model_proto__unpack(NULL, size, data);
    if (!m)
        return pl__fail(PL_ERR_FORMAT, "not a valid ONNX model (protobuf parsing failed: the file "
                        "is truncated or corrupted)");
    ctx.model = m;
    ctx.base_dir = base_dir;
    if ((s = pl_network_create(&ctx.net)))
        goto done;
    s = pl__import_graph(&ctx);
done:
    if (s) {
        pl_network_free(ctx.net);
        ctx.net = NULL;
    }
    *out = ctx.net;
    pl__scratch_reset(&ctx);
    free(ctx.scratch);
    for (int i = 0; i < ctx.nowned; i++)
        free(ctx.owned_keys[i]);
    free(ctx.owned_keys);
    for (int i = 0; i < ctx.nunsup; i++) {
        free(ctx.unsup[i].op_type);
        free(ctx.unsup[i].domain);
        free(ctx.unsup[i].node);
        free(ctx.unsup[i].note);
    }
    free(ctx.unsup);
    pl__map_free(&ctx.names);
    onnx__model_proto__free_unpacked(m, NULL);
    return s;
}

pl_status pl_onnx_import_memory(const void *data, size_t size, const char *base_dir,
                                pl_network **out) {
    pl_status s;
    if (!out || (!data && size))
        return pl__fail(PL_ERR_INVALID_ARG, "pl_onnx_import_memory: NULL argument");
    *out = NULL;
    s = pl__import(data, size, base_dir, out);
    if (s)
        return pl__fail_prefix(s, "<memory model>");
    return PL_OK;
}

/* Reads a whole file; the caller frees *data. */
static pl_status pl__read_file(const char *path, void **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    long n;
    void *buf;
    if (!f)
        return pl__fail(PL_ERR_IO, "cannot open: %s", strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return pl__fail(PL_ERR_IO, "cannot read (not a regular file?)");
    }
    buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return pl__fail(PL_ERR_NOMEM, "out of memory reading %ld bytes", n);
    }
    if (n && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return pl__fail(PL_ERR_IO, "read error");
    }
    fclose(f);
    *data = buf;
    *size = (size_t)n;
    return PL_OK;
}

pl_status pl_onnx_import_file(const char *path, pl_network **out) {
    void *data = NULL;
    size_t size = 0;
    char *dir;
    const char *slash;
    pl_status s;
    if (!path || !out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_onnx_import_file: NULL argument");
    *out = NULL;
    slash = strrchr(path, '/');
    dir = slash ? pl__sprintf("%.*s", (int)(slash == path ? 1 : slash - path), path)
                : pl__strdup(".");
    if (!dir)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    s = pl__read_file(path, &data, &size);
    if (!s)
        s = pl__import(data, size, dir, out);
    free(data);
    free(dir);
    if (s)
        return pl__fail_prefix(s, "%s", path);
    return PL_OK;
}
