/*
 * plan-read.c - the engine file reader. The file is untrusted: every read goes through a cursor
 * bounded by its section, every count is checked against the bytes that could hold it before
 * anything is allocated, every enum and id is range-checked before use, and every failure is a
 * one-line message that starts with the file name and names the record at fault. The layout is
 * specified in plan.c; the structural rules on the parsed network are plan-check.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "graph/ops.h"
#include "plan/plan-format.h"
#include "plugin/plugin-host.h"

typedef struct pl__rd {
    const uint8_t *base; /* file start */
    size_t pos, end;     /* cursor and end of the current section, as file offsets */
    const char *origin;
    const char *sec;     /* section name, for messages */
    char ctx[160];       /* the record being read ("tensor 5 ('x')"), for messages */
} pl__rd;

static pl_status pl__rfail(const pl__rd *r, pl_status s, const char *fmt, ...) PL__PRINTF(3, 4);
static pl_status pl__rfail(const pl__rd *r, pl_status s, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (r->ctx[0])
        return pl__fail(s, "%s: %s: %s", r->origin, r->ctx, msg);
    return pl__fail(s, "%s: %s", r->origin, msg);
}

static pl_status pl__r_need(pl__rd *r, size_t n, const char *field) {
    if (n > r->end - r->pos)
        return pl__rfail(r, PL_ERR_FORMAT, "field '%s' (%zu bytes at offset %zu) runs past the end "
                         "of the %s section (offset %zu)", field, n, r->pos, r->sec, r->end);
    return PL_OK;
}

static pl_status pl__r_u8(pl__rd *r, const char *field, uint8_t *v) {
    pl_status s = pl__r_need(r, 1, field);
    if (s)
        return s;
    *v = r->base[r->pos++];
    return PL_OK;
}

static pl_status pl__r_u32(pl__rd *r, const char *field, uint32_t *v) {
    pl_status s = pl__r_need(r, 4, field);
    if (s)
        return s;
    *v = pl__get_le32(r->base + r->pos);
    r->pos += 4;
    return PL_OK;
}

static pl_status pl__r_u64(pl__rd *r, const char *field, uint64_t *v) {
    pl_status s = pl__r_need(r, 8, field);
    if (s)
        return s;
    *v = pl__get_le64(r->base + r->pos);
    r->pos += 8;
    return PL_OK;
}

static pl_status pl__r_i32(pl__rd *r, const char *field, int32_t *v) {
    uint32_t u = 0;
    pl_status s = pl__r_u32(r, field, &u);
    *v = (int32_t)u;
    return s;
}

static pl_status pl__r_i64(pl__rd *r, const char *field, int64_t *v) {
    uint64_t u = 0;
    pl_status s = pl__r_u64(r, field, &u);
    *v = (int64_t)u;
    return s;
}

/* A str: u32 length, the bytes, a NUL. The copy is malloc'ed (the plan owns its strings, so the
 * file bytes are only needed for weights and blobs). */
static pl_status pl__r_str(pl__rd *r, const char *field, size_t limit, char **out) {
    uint32_t n;
    const char *p;
    pl_status s;
    *out = NULL;
    if ((s = pl__r_u32(r, field, &n)))
        return s;
    if (n > limit)
        return pl__rfail(r, PL_ERR_FORMAT, "field '%s' is a string of %u bytes, more than the "
                         "limit of %zu", field, n, limit);
    if ((s = pl__r_need(r, (size_t)n + 1, field)))
        return s;
    p = (const char *)r->base + r->pos;
    if (p[n] != '\0')
        return pl__rfail(r, PL_ERR_FORMAT, "field '%s': string at offset %zu is not "
                         "NUL-terminated", field, r->pos);
    if (memchr(p, 0, n))
        return pl__rfail(r, PL_ERR_FORMAT, "field '%s': string at offset %zu holds a NUL byte",
                         field, r->pos);
    *out = malloc((size_t)n + 1);
    if (!*out)
        return pl__rfail(r, PL_ERR_NOMEM, "out of memory reading field '%s'", field);
    memcpy(*out, p, (size_t)n + 1);
    r->pos += (size_t)n + 1;
    return PL_OK;
}

typedef struct pl__rsec {
    uint32_t id, flags;
    uint64_t off, size, count;
    bool present;
} pl__rsec;

static const char *pl__sec_name(uint32_t id) {
    static const char *const names[] = {"?",       "metadata", "tensors", "inputs",   "outputs",
                                        "layers",  "plugins",  "blobs",   "blob data", "weights"};
    return id <= PL__SEC_KNOWN_MAX ? names[id] : "unknown";
}

/* Positions the cursor on a section and checks that `count` records of at least `min_rec`
 * bytes could fit, so that the caller's allocation is bounded by the file's size. */
static pl_status pl__r_enter(pl__rd *r, const pl__rsec *sec, uint32_t id, size_t min_rec,
                             int max_count) {
    r->sec = pl__sec_name(id);
    r->ctx[0] = '\0';
    r->pos = sec->present ? (size_t)sec->off : 0;
    r->end = sec->present ? (size_t)(sec->off + sec->size) : 0;
    if (sec->count > (uint64_t)max_count || (min_rec && sec->count > sec->size / min_rec))
        return pl__rfail(r, PL_ERR_FORMAT, "the %s section claims %llu records, more than its "
                         "%llu bytes can hold", r->sec, (unsigned long long)sec->count,
                         (unsigned long long)sec->size);
    return PL_OK;
}

static pl_status pl__r_leave(pl__rd *r) {
    r->ctx[0] = '\0';
    if (r->pos != r->end)
        return pl__rfail(r, PL_ERR_FORMAT, "%zu bytes follow the last record of the %s section",
                         r->end - r->pos, r->sec);
    return PL_OK;
}

static pl_status pl__read_meta(pl__rd *r, const pl__rsec *sec, pl__plan *p) {
    pl_status s;
    int n = (int)sec->count;
    if ((s = pl__r_enter(r, sec, PL__SEC_META, 17, INT32_MAX)))
        return s;
    p->meta = calloc((size_t)(n ? n : 1), sizeof(*p->meta));
    if (!p->meta)
        return pl__rfail(r, PL_ERR_NOMEM, "out of memory reading metadata");
    for (int i = 0; i < n; i++) {
        char *key = NULL, *val;
        uint32_t type;
        uint64_t len;
        snprintf(r->ctx, sizeof(r->ctx), "metadata entry %d", i);
        if ((s = pl__r_str(r, "key", PL__PLAN_MAX_NAME, &key)))
            return s;
        snprintf(r->ctx, sizeof(r->ctx), "metadata entry %d ('%.64s')", i, key);
        if ((s = pl__r_u32(r, "type", &type)) || (s = pl__r_u64(r, "length", &len)))
            goto bad;
        if (len > r->end - r->pos) {
            s = pl__rfail(r, PL_ERR_FORMAT, "value of %llu bytes runs past the end of the "
                          "metadata section", (unsigned long long)len);
            goto bad;
        }
        if (type != PL__META_STRING) {
            /* a type added by a later minor version: skip it, the length says how far */
            r->pos += (size_t)len;
            free(key);
            continue;
        }
        if (!key[0] || len > PL__PLAN_MAX_TEXT ||
            memchr(r->base + r->pos, 0, (size_t)len)) {
            s = pl__rfail(r, PL_ERR_FORMAT, "empty key, or a value that is too long or holds a "
                          "NUL byte");
            goto bad;
        }
        for (int k = 0; k < p->nmeta; k++) {
            if (strcmp(p->meta[k].key, key) == 0) {
                s = pl__rfail(r, PL_ERR_FORMAT, "the key appears twice");
                goto bad;
            }
        }
        val = malloc((size_t)len + 1);
        if (!val) {
            s = pl__rfail(r, PL_ERR_NOMEM, "out of memory");
            goto bad;
        }
        memcpy(val, r->base + r->pos, (size_t)len);
        val[len] = '\0';
        r->pos += (size_t)len;
        p->meta[p->nmeta].key = key;
        p->meta[p->nmeta].value = val;
        p->nmeta++;
        continue;
    bad:
        free(key);
        return s;
    }
    return pl__r_leave(r);
}

static pl_status pl__read_dims(pl__rd *r, const char *field, int rank, int64_t *dims) {
    for (int d = 0; d < rank; d++) {
        pl_status s = pl__r_i64(r, field, &dims[d]);
        if (s)
            return s;
    }
    return PL_OK;
}

static pl_status pl__read_tensors(pl__rd *r, const pl__rsec *sec, const pl__rsec *wsec,
                                  pl_network *net) {
    pl_status s;
    int n = (int)sec->count;
    if ((s = pl__r_enter(r, sec, PL__SEC_TENSORS, 33, INT32_MAX)))
        return s;
    net->tensors = calloc((size_t)(n ? n : 1), sizeof(*net->tensors));
    if (!net->tensors)
        return pl__rfail(r, PL_ERR_NOMEM, "out of memory for %d tensors", n);
    net->cap_tensors = n ? n : 1;
    for (int i = 0; i < n; i++) {
        pl__tensor *t = &net->tensors[i];
        uint8_t kind, flags, r0, r1;
        int32_t dtype;
        uint32_t rank;
        uint64_t off, size;
        net->ntensors = i + 1; /* from here pl_network_free releases what was read */
        t->producer = -1;
        snprintf(r->ctx, sizeof(r->ctx), "tensor %d", i);
        if ((s = pl__r_str(r, "name", PL__PLAN_MAX_NAME, &t->name)))
            return s;
        snprintf(r->ctx, sizeof(r->ctx), "tensor %d ('%.64s')", i, t->name);
        if ((s = pl__r_u8(r, "kind", &kind)) || (s = pl__r_u8(r, "flags", &flags)) ||
            (s = pl__r_u8(r, "reserved", &r0)) || (s = pl__r_u8(r, "reserved", &r1)) ||
            (s = pl__r_i32(r, "dtype", &dtype)) || (s = pl__r_u32(r, "rank", &rank)))
            return s;
        if (kind > PL__TENSOR_CONST)
            return pl__rfail(r, PL_ERR_FORMAT, "unknown tensor kind %u", kind);
        if (flags & ~(PL__TFLAG_OUTPUT | PL__TFLAG_DATA_DEPENDENT) || r0 || r1)
            return pl__rfail(r, PL_ERR_FORMAT, "unknown flag bits 0x%02x or non-zero reserved "
                             "bytes", flags);
        if (pl_dtype_size((pl_dtype)dtype) == 0)
            return pl__rfail(r, PL_ERR_FORMAT, "unknown dtype %d", (int)dtype);
        if (rank > PL_MAX_RANK)
            return pl__rfail(r, PL_ERR_FORMAT, "rank %u is more than %d", rank, PL_MAX_RANK);
        t->kind = (pl__tensor_kind)kind;
        t->is_output = flags & PL__TFLAG_OUTPUT;
        t->data_dependent = flags & PL__TFLAG_DATA_DEPENDENT;
        t->dtype = (pl_dtype)dtype;
        t->rank = (int)rank;
        if ((s = pl__read_dims(r, "dims", t->rank, t->dims)) ||
            (s = pl__read_dims(r, "min_dims", t->rank, t->min_dims)) ||
            (s = pl__read_dims(r, "opt_dims", t->rank, t->opt_dims)) ||
            (s = pl__read_dims(r, "max_dims", t->rank, t->max_dims)))
            return s;
        for (int d = 0; d < t->rank; d++) {
            if ((s = pl__r_str(r, "dim_name", PL__PLAN_MAX_NAME, &t->dim_names[d])))
                return s;
            if (!t->dim_names[d][0]) {
                free(t->dim_names[d]);
                t->dim_names[d] = NULL;
            }
        }
        if ((s = pl__r_u64(r, "data_offset", &off)) || (s = pl__r_u64(r, "data_size", &size)))
            return s;
        if (t->kind != PL__TENSOR_CONST) {
            if (off || size)
                return pl__rfail(r, PL_ERR_FORMAT, "a non-constant with data (offset %llu, size "
                                 "%llu)", (unsigned long long)off, (unsigned long long)size);
            continue;
        }
        if (off % PL__PLAN_ALIGN)
            return pl__rfail(r, PL_ERR_FORMAT, "data offset %llu is not %u-aligned",
                             (unsigned long long)off, PL__PLAN_ALIGN);
        if (off > wsec->size || size > wsec->size - off)
            return pl__rfail(r, PL_ERR_FORMAT, "data (offset %llu, %llu bytes) lies outside the "
                             "weights section (%llu bytes)", (unsigned long long)off,
                             (unsigned long long)size, (unsigned long long)wsec->size);
        /* in place: the caller keeps the bytes alive for the plan's lifetime */
        t->data = (void *)(r->base + wsec->off + off);
        t->nbytes = (size_t)size;
        t->owns_data = false;
    }
    return pl__r_leave(r);
}

static pl_status pl__read_ids(pl__rd *r, const pl__rsec *sec, uint32_t id, int32_t **ids, int *n,
                              int *cap) {
    pl_status s;
    int cnt = (int)sec->count;
    if ((s = pl__r_enter(r, sec, id, 4, INT32_MAX)))
        return s;
    *ids = malloc(sizeof(int32_t) * (size_t)(cnt + 1));
    if (!*ids)
        return pl__rfail(r, PL_ERR_NOMEM, "out of memory");
    *cap = cnt + 1;
    for (int i = 0; i < cnt; i++) {
        snprintf(r->ctx, sizeof(r->ctx), "%s entry %d", r->sec, i);
        if ((s = pl__r_i32(r, "tensor id", &(*ids)[i])))
            return s;
        *n = i + 1;
    }
    return pl__r_leave(r);
}

static pl_status pl__read_attr(pl__rd *r, pl_attr *a) {
    uint32_t type;
    uint64_t n;
    pl_status s;
    char *name = NULL;
    if ((s = pl__r_str(r, "attribute name", PL__PLAN_MAX_NAME, &name)))
        return s;
    a->name = name;
    if ((s = pl__r_u32(r, "attribute type", &type)))
        return s;
    switch (type) {
    case PL_ATTR_INT: case PL_ATTR_BOOL:
        a->type = (pl_attr_type)type;
        return pl__r_i64(r, "attribute value", &a->i);
    case PL_ATTR_FLOAT: {
        uint64_t u;
        a->type = PL_ATTR_FLOAT;
        if ((s = pl__r_u64(r, "attribute value", &u)))
            return s;
        memcpy(&a->f, &u, 8);
        return PL_OK;
    }
    case PL_ATTR_STRING: {
        char *v = NULL;
        a->type = PL_ATTR_STRING;
        s = pl__r_str(r, "attribute value", PL__PLAN_MAX_TEXT, &v);
        a->s = v;
        return s;
    }
    case PL_ATTR_INTS: case PL_ATTR_FLOATS: case PL_ATTR_BYTES: {
        size_t es = type == PL_ATTR_INTS ? 8 : type == PL_ATTR_FLOATS ? 4 : 1;
        void *v;
        a->type = (pl_attr_type)type;
        if ((s = pl__r_u64(r, "attribute count", &n)))
            return s;
        if (n > (r->end - r->pos) / es)
            return pl__rfail(r, PL_ERR_FORMAT, "attribute '%.64s' claims %llu elements, more than "
                             "the rest of the layers section holds", name, (unsigned long long)n);
        v = malloc(n ? (size_t)n * es : 1);
        if (!v)
            return pl__rfail(r, PL_ERR_NOMEM, "out of memory");
        if (type == PL_ATTR_INTS) {
            int64_t *x = v;
            a->ints = x;
            for (uint64_t k = 0; k < n; k++, r->pos += 8)
                x[k] = (int64_t)pl__get_le64(r->base + r->pos);
        } else if (type == PL_ATTR_FLOATS) {
            float *x = v;
            a->floats = x;
            for (uint64_t k = 0; k < n; k++, r->pos += 4) {
                uint32_t u = pl__get_le32(r->base + r->pos);
                memcpy(&x[k], &u, 4);
            }
        } else {
            a->bytes = v;
            memcpy(v, r->base + r->pos, (size_t)n);
            r->pos += (size_t)n;
        }
        a->count = (int64_t)n;
        return PL_OK;
    }
    default:
        return pl__rfail(r, PL_ERR_FORMAT, "attribute '%.64s' has unknown type %u", name, type);
    }
}

static pl_status pl__read_idlist(pl__rd *r, const char *field, int32_t **ids, int *n) {
    uint32_t cnt;
    pl_status s;
    if ((s = pl__r_u32(r, field, &cnt)))
        return s;
    if (cnt > PL__PLAN_MAX_LAYER_IO)
        return pl__rfail(r, PL_ERR_FORMAT, "%u %s, more than %d", cnt, field,
                         PL__PLAN_MAX_LAYER_IO);
    *ids = malloc(sizeof(int32_t) * (cnt + 1));
    if (!*ids)
        return pl__rfail(r, PL_ERR_NOMEM, "out of memory");
    for (uint32_t k = 0; k < cnt; k++) {
        if ((s = pl__r_i32(r, field, &(*ids)[k])))
            return s;
        *n = (int)k + 1;
    }
    return PL_OK;
}

static pl_status pl__read_layers(pl__rd *r, const pl__rsec *sec, pl_network *net) {
    pl_status s;
    int n = (int)sec->count;
    if ((s = pl__r_enter(r, sec, PL__SEC_LAYERS, 50, INT32_MAX)))
        return s;
    net->layers = calloc((size_t)(n ? n : 1), sizeof(*net->layers));
    if (!net->layers)
        return pl__rfail(r, PL_ERR_NOMEM, "out of memory for %d layers", n);
    net->cap_layers = n ? n : 1;
    for (int i = 0; i < n; i++) {
        pl__layer *l = &net->layers[i];
        uint32_t nattrs;
        net->nlayers = i + 1;
        snprintf(r->ctx, sizeof(r->ctx), "layer %d", i);
        if ((s = pl__r_str(r, "name", PL__PLAN_MAX_NAME, &l->name)))
            return s;
        snprintf(r->ctx, sizeof(r->ctx), "layer %d ('%.64s')", i, l->name);
        if ((s = pl__r_str(r, "op", PL__PLAN_MAX_NAME, &l->op)) ||
            (s = pl__r_str(r, "plugin_ns", PL__PLAN_MAX_NAME, &l->plugin_ns)) ||
            (s = pl__r_str(r, "plugin_name", PL__PLAN_MAX_NAME, &l->plugin_name)) ||
            (s = pl__r_str(r, "plugin_version", PL__PLAN_MAX_NAME, &l->plugin_version)) ||
            (s = pl__r_str(r, "kernel", PL__PLAN_MAX_NAME, &l->kernel)))
            return s;
        if (strcmp(l->op, "plugin") != 0) {
            if (l->plugin_ns[0] || l->plugin_name[0] || l->plugin_version[0])
                return pl__rfail(r, PL_ERR_FORMAT, "core op '%.64s' carries a plugin identity",
                                 l->op);
            free(l->plugin_ns);
            free(l->plugin_name);
            free(l->plugin_version);
            l->plugin_ns = l->plugin_name = l->plugin_version = NULL;
        }
        if (!l->kernel[0]) {
            free(l->kernel);
            l->kernel = NULL;
        }
        int32_t cd;
        if ((s = pl__r_i32(r, "tactic", &l->tactic)) || (s = pl__r_i32(r, "compute_dtype", &cd)))
            return s;
        l->compute_dtype = (pl_dtype)cd;
        if ((s = pl__read_idlist(r, "inputs", &l->in, &l->nin)) ||
            (s = pl__read_idlist(r, "outputs", &l->out, &l->nout)) ||
            (s = pl__r_u32(r, "attribute count", &nattrs)))
            return s;
        if (nattrs > PL__PLAN_MAX_ATTRS || nattrs > (r->end - r->pos) / 13)
            return pl__rfail(r, PL_ERR_FORMAT, "%u attributes, more than the limit of %d or the "
                             "rest of the section holds", nattrs, PL__PLAN_MAX_ATTRS);
        l->attrs.v = calloc(nattrs ? nattrs : 1, sizeof(pl_attr));
        if (!l->attrs.v)
            return pl__rfail(r, PL_ERR_NOMEM, "out of memory");
        for (uint32_t a = 0; a < nattrs; a++) {
            l->attrs.n = (int)a + 1; /* partially read attributes are released with the layer */
            if ((s = pl__read_attr(r, &l->attrs.v[a])))
                return s;
        }
    }
    return pl__r_leave(r);
}

static pl_status pl__read_plugins(pl__rd *r, const pl__rsec *sec, pl__plan *p) {
    pl_status s;
    int n = (int)sec->count;
    if ((s = pl__r_enter(r, sec, PL__SEC_PLUGINS, 28, PL__PLAN_MAX_ROWS)))
        return s;
    p->plugins = calloc((size_t)(n ? n : 1), sizeof(*p->plugins));
    if (!p->plugins)
        return pl__rfail(r, PL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        pl__plugin_rec *row = &p->plugins[i];
        p->nplugins = i + 1;
        snprintf(r->ctx, sizeof(r->ctx), "plugin table row %d", i);
        if ((s = pl__r_str(r, "namespace", PL__PLAN_MAX_NAME, &row->ns)) ||
            (s = pl__r_str(r, "name", PL__PLAN_MAX_NAME, &row->name)) ||
            (s = pl__r_str(r, "version", PL__PLAN_MAX_NAME, &row->version)) ||
            (s = pl__r_str(r, "library", PL__PLAN_MAX_NAME, &row->library)) ||
            (s = pl__r_u64(r, "library hash", &row->hash)))
            return s;
        if (!row->name[0])
            return pl__rfail(r, PL_ERR_FORMAT, "plugin without a name");
        for (int k = 0; k < i; k++)
            if (strcmp(p->plugins[k].ns, row->ns) == 0 &&
                strcmp(p->plugins[k].name, row->name) == 0 &&
                strcmp(p->plugins[k].version, row->version) == 0)
                return pl__rfail(r, PL_ERR_FORMAT, "plugin '%.64s::%.64s' version '%.64s' is "
                                 "listed twice", row->ns, row->name, row->version);
    }
    return pl__r_leave(r);
}

static pl_status pl__read_blobs(pl__rd *r, const pl__rsec *sec, const pl__rsec *dsec,
                                pl__plan *p) {
    pl_status s;
    int n = (int)sec->count;
    uint64_t dsize = dsec->present ? dsec->size : 0;
    const uint8_t *dbase = r->base + (dsec->present ? dsec->off : 0);
    if ((s = pl__r_enter(r, sec, PL__SEC_BLOBS, 21, PL__PLAN_MAX_ROWS)))
        return s;
    p->blobs = calloc((size_t)(n ? n : 1), sizeof(*p->blobs));
    if (!p->blobs)
        return pl__rfail(r, PL_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        pl__blob *b = &p->blobs[i];
        uint64_t off, size;
        p->nblobs = i + 1;
        snprintf(r->ctx, sizeof(r->ctx), "blob %d", i);
        if ((s = pl__r_str(r, "name", PL__PLAN_MAX_NAME, &b->name)))
            return s;
        snprintf(r->ctx, sizeof(r->ctx), "blob %d ('%.64s')", i, b->name);
        if ((s = pl__r_u64(r, "offset", &off)) || (s = pl__r_u64(r, "size", &size)))
            return s;
        if (!b->name[0])
            return pl__rfail(r, PL_ERR_FORMAT, "blob without a name");
        for (int k = 0; k < i; k++)
            if (strcmp(p->blobs[k].name, b->name) == 0)
                return pl__rfail(r, PL_ERR_FORMAT, "the name is used twice");
        if (off % PL__PLAN_ALIGN || off > dsize || size > dsize - off)
            return pl__rfail(r, PL_ERR_FORMAT, "offset %llu, %llu bytes: misaligned or outside "
                             "the blob data section (%llu bytes)", (unsigned long long)off,
                             (unsigned long long)size, (unsigned long long)dsize);
        b->data = (void *)(dbase + off);
        b->size = (size_t)size;
    }
    return pl__r_leave(r);
}

static const pl__plugin_rec *pl__find_row(const pl__plan *p, const pl__layer *l) {
    for (int k = 0; k < p->nplugins; k++) {
        const pl__plugin_rec *row = &p->plugins[k];
        if (strcmp(row->ns, l->plugin_ns) == 0 && strcmp(row->name, l->plugin_name) == 0 &&
            strcmp(row->version, l->plugin_version) == 0)
            return row;
    }
    return NULL;
}

/* Binds a plugin layer; when its plugin is not registered the message says which library the
 * engine was built with, because a missing library is the usual reason (TensorRT's top pain). */
static pl_status pl__bind_plugin(const pl__plan *p, pl__layer *l, int li, const char *origin) {
    const pl__plugin_rec *row = pl__find_row(p, l);
    char others[256] = "";
    size_t at = 0;
    bool registered = false;
    pl_status s;
    if (!row)
        return pl__fail(PL_ERR_FORMAT, "%s: layer %d ('%s') uses plugin '%s::%s' version '%s', "
                        "which the engine's plugin table does not list", origin, li, l->name,
                        l->plugin_ns, l->plugin_name, l->plugin_version);
    s = pl__plugin_bind(l);
    if (s == PL_OK)
        return PL_OK;
    for (int k = 0; k < pl_plugins_count(); k++) {
        const char *ns, *name, *ver, *lib;
        if (pl_plugins_get(k, &ns, &name, &ver, &lib) != PL_OK)
            continue;
        if (!ns || !name || !ver || strcmp(ns, l->plugin_ns) || strcmp(name, l->plugin_name))
            continue;
        if (strcmp(ver, l->plugin_version) == 0)
            registered = true;
        else if (at < sizeof(others))
            at += (size_t)snprintf(others + at, sizeof(others) - at, "%s'%s'", at ? ", " : "",
                                   ver);
    }
    if (registered) /* registered, but it refused the layer: the registry said why */
        return pl__fail_prefix(s, "%s: layer %d ('%s')", origin, li, l->name);
    if (!row->library[0])
        return pl__fail(PL_ERR_PLUGIN, "%s: layer '%s' uses plugin '%s::%s' version '%s', which is "
                        "not registered; the application that built the engine registered it "
                        "itself (no library): register it before loading the engine%s%s%s",
                        origin, l->name, l->plugin_ns, l->plugin_name, l->plugin_version,
                        others[0] ? " (registered versions: " : "", others, others[0] ? ")" : "");
    return pl__fail(PL_ERR_PLUGIN, "%s: layer '%s' uses plugin '%s::%s' version '%s', which is not "
                    "registered; it was built with library '%s' (xxh64 %016llx): load it with "
                    "--plugins %s%s%s%s", origin, l->name, l->plugin_ns, l->plugin_name,
                    l->plugin_version, row->library, (unsigned long long)row->hash, row->library,
                    others[0] ? " (registered versions: " : "", others, others[0] ? ")" : "");
}

static pl_status pl__read_header(pl__rd *r, size_t size, pl__rsec *secs, pl__plan *p) {
    const uint8_t *b = r->base;
    uint32_t version, device, nsec;
    uint64_t fsize, tab, tab_end, body_end = size - PL__PLAN_CHECKSUM_SIZE, sum, want;
    int order[PL__PLAN_MAX_SECTIONS];
    pl__rsec all[PL__PLAN_MAX_SECTIONS];

    if (size < 8)
        return pl__rfail(r, PL_ERR_FORMAT, "%zu bytes is too short for an engine file (the "
                         "header alone is %u)", size, PL__PLAN_HEADER_SIZE);
    if (memcmp(b, PL__PLAN_MAGIC, 4) != 0)
        return pl__rfail(r, PL_ERR_FORMAT, "not a plinth engine (it starts with bytes %02x %02x "
                         "%02x %02x, expected \"PLNT\")", b[0], b[1], b[2], b[3]);
    version = pl__get_le32(b + PL__PLAN_OFF_VERSION);
    if (version == 0)
        return pl__rfail(r, PL_ERR_FORMAT, "engine format version 0 is not valid");
    if (version > PL__PLAN_VERSION)
        return pl__rfail(r, PL_ERR_VERSION, "engine format version %u, this plinth reads up to "
                         "%u (rebuild the engine, or use a newer plinth)", version,
                         PL__PLAN_VERSION);
    if (size < PL__PLAN_HEADER_SIZE + PL__PLAN_CHECKSUM_SIZE)
        return pl__rfail(r, PL_ERR_FORMAT, "the file is truncated: %zu bytes, the header and "
                         "checksum alone need %u", size,
                         PL__PLAN_HEADER_SIZE + PL__PLAN_CHECKSUM_SIZE);
    fsize = pl__get_le64(b + PL__PLAN_OFF_FILE_SIZE);
    if (fsize != size)
        return pl__rfail(r, PL_ERR_FORMAT, "the header says the file has %llu bytes, but it has "
                         "%zu (%s)", (unsigned long long)fsize, size,
                         fsize > size ? "the file is truncated" : "extra or missing bytes");
    want = pl__get_le64(b + body_end);
    sum = XXH64(b, (size_t)body_end, 0);
    if (sum != want)
        return pl__rfail(r, PL_ERR_FORMAT, "checksum mismatch: the file is corrupted (stored "
                         "xxh64 %016llx, computed %016llx)", (unsigned long long)want,
                         (unsigned long long)sum);
    device = pl__get_le32(b + PL__PLAN_OFF_DEVICE);
    if (device != PL_DEVICE_CPU && device != PL_DEVICE_CUDA)
        return pl__rfail(r, PL_ERR_FORMAT, "unknown device %u in the header", device);
    p->device = (pl_device)device;
    p->peak_activation_bytes = pl__get_le64(b + PL__PLAN_OFF_PEAK);

    tab = pl__get_le64(b + PL__PLAN_OFF_SECTAB);
    nsec = pl__get_le32(b + PL__PLAN_OFF_NSECTIONS);
    if (nsec > PL__PLAN_MAX_SECTIONS)
        return pl__rfail(r, PL_ERR_FORMAT, "%u sections, more than %u", nsec,
                         PL__PLAN_MAX_SECTIONS);
    if (tab < PL__PLAN_HEADER_SIZE || tab % PL__PLAN_ALIGN || tab > body_end ||
        (uint64_t)nsec * PL__PLAN_SECTION_ENTRY > body_end - tab)
        return pl__rfail(r, PL_ERR_FORMAT, "the section table (offset %llu, %u entries) is "
                         "misaligned or lies outside the file", (unsigned long long)tab, nsec);
    tab_end = tab + (uint64_t)nsec * PL__PLAN_SECTION_ENTRY;
    for (uint32_t i = 0; i < nsec; i++) {
        const uint8_t *e = b + tab + (size_t)i * PL__PLAN_SECTION_ENTRY;
        pl__rsec *sc = &all[i];
        sc->id = pl__get_le32(e);
        sc->flags = pl__get_le32(e + 4);
        sc->off = pl__get_le64(e + 8);
        sc->size = pl__get_le64(e + 16);
        sc->count = pl__get_le64(e + 24);
        sc->present = true;
        if (sc->off % PL__PLAN_ALIGN || sc->off < tab_end || sc->off > body_end ||
            sc->size > body_end - sc->off)
            return pl__rfail(r, PL_ERR_FORMAT, "section %u (%s, id %u): offset %llu, %llu bytes: "
                             "misaligned or outside the file body (%llu..%llu)", i,
                             pl__sec_name(sc->id), sc->id, (unsigned long long)sc->off,
                             (unsigned long long)sc->size, (unsigned long long)tab_end,
                             (unsigned long long)body_end);
        for (uint32_t k = 0; k < i; k++)
            if (all[k].id == sc->id)
                return pl__rfail(r, PL_ERR_FORMAT, "section id %u (%s) appears twice", sc->id,
                                 pl__sec_name(sc->id));
        if (sc->id == 0 || sc->id > PL__SEC_KNOWN_MAX) {
            if (sc->flags & PL__SEC_FLAG_REQUIRED)
                return pl__rfail(r, PL_ERR_VERSION, "the engine needs section id %u, which this "
                                 "plinth does not know (it was written by a newer plinth)",
                                 sc->id);
            sc->present = false; /* skipped, but still checked for overlap below */
        } else {
            secs[sc->id] = *sc;
        }
        /* insertion sort by offset, to check that sections do not overlap */
        int k = (int)i;
        while (k > 0 && all[order[k - 1]].off > sc->off) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = (int)i;
    }
    for (uint32_t i = 1; i < nsec; i++) {
        const pl__rsec *a = &all[order[i - 1]], *c = &all[order[i]];
        if (c->off < a->off + a->size)
            return pl__rfail(r, PL_ERR_FORMAT, "sections %s (offset %llu, %llu bytes) and %s "
                             "(offset %llu) overlap", pl__sec_name(a->id),
                             (unsigned long long)a->off, (unsigned long long)a->size,
                             pl__sec_name(c->id), (unsigned long long)c->off);
    }
    static const uint32_t required[] = {PL__SEC_TENSORS, PL__SEC_INPUTS, PL__SEC_OUTPUTS,
                                        PL__SEC_LAYERS, PL__SEC_WEIGHTS};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!secs[required[i]].present)
            return pl__rfail(r, PL_ERR_FORMAT, "the engine has no %s section",
                             pl__sec_name(required[i]));
    return PL_OK;
}

pl_status pl__plan_deserialize(const void *data, size_t size, const char *origin, pl__plan **out) {
    pl__rd r = {0};
    pl__rsec secs[PL__SEC_KNOWN_MAX + 1];
    pl__plan *p = NULL;
    int32_t *prod = NULL;
    pl_network *net;
    pl_status s;
    const uint16_t one = 1;

    if (!out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl__plan_deserialize: out is NULL");
    *out = NULL;
    if (!data && size)
        return pl__fail(PL_ERR_INVALID_ARG, "pl__plan_deserialize: data is NULL");
    r.base = data ? data : (const void *)"";
    r.origin = origin && origin[0] ? origin : "engine";
    if (*(const uint8_t *)&one != 1)
        return pl__fail(PL_ERR_UNSUPPORTED, "%s: engines are little-endian; this host is not",
                        r.origin);
    memset(secs, 0, sizeof(secs));
    p = calloc(1, sizeof(*p));
    if (!p)
        return pl__fail(PL_ERR_NOMEM, "%s: out of memory", r.origin);
    p->borrows = true; /* blobs and constants will point into `data`: never free them */
    if ((s = pl_network_create(&p->net)))
        goto fail;
    net = p->net;
    if ((s = pl__read_header(&r, size, secs, p)))
        goto fail;
    if ((s = pl__read_meta(&r, &secs[PL__SEC_META], p)) ||
        (s = pl__read_tensors(&r, &secs[PL__SEC_TENSORS], &secs[PL__SEC_WEIGHTS], net)) ||
        (s = pl__read_ids(&r, &secs[PL__SEC_INPUTS], PL__SEC_INPUTS, &net->inputs, &net->ninputs,
                          &net->cap_inputs)) ||
        (s = pl__read_ids(&r, &secs[PL__SEC_OUTPUTS], PL__SEC_OUTPUTS, &net->outputs,
                          &net->noutputs, &net->cap_outputs)) ||
        (s = pl__read_layers(&r, &secs[PL__SEC_LAYERS], net)) ||
        (s = pl__read_plugins(&r, &secs[PL__SEC_PLUGINS], p)) ||
        (s = pl__read_blobs(&r, &secs[PL__SEC_BLOBS], &secs[PL__SEC_BLOB_DATA], p)))
        goto fail;

    prod = malloc(sizeof(int32_t) * (size_t)(net->ntensors + 1));
    if (!prod) {
        s = pl__fail(PL_ERR_NOMEM, "%s: out of memory", r.origin);
        goto fail;
    }
    if ((s = pl__plan_check(net, r.origin, prod)))
        goto fail;
    for (int i = 0; i < net->ntensors; i++)
        net->tensors[i].producer = prod[i];
    for (int i = 0; i < net->nlayers; i++) {
        pl__layer *l = &net->layers[i];
        if (strcmp(l->op, "plugin") != 0)
            l->def = pl__op_find(l->op); /* pl__plan_check made sure it exists */
        else if ((s = pl__bind_plugin(p, l, i, r.origin)))
            goto fail;
    }
    free(prod);
    *out = p;
    return PL_OK;
fail:
    free(prod);
    pl__plan_free(p);
    return s;
}
