/*
 * attrs.c - owned, typed attribute lists shared by core layers and plugins.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

static void pl__attr_release(pl_attr *a) {
    free((void *)a->name);
    free((void *)a->s);
    free((void *)a->ints);
    free((void *)a->floats);
    free((void *)a->bytes);
    memset(a, 0, sizeof(*a));
}

static pl_status pl__attr_clone(pl_attr *dst, const pl_attr *src) {
    size_t bytes;
    memset(dst, 0, sizeof(*dst));
    if (!src->name || !src->name[0])
        return pl__fail(PL_ERR_INVALID_ARG, "attribute without a name");
    dst->type = src->type;
    dst->i = src->i;
    dst->f = src->f;
    dst->count = src->count;
    dst->name = pl__strdup(src->name);
    if (!dst->name)
        goto oom;
    switch (src->type) {
    case PL_ATTR_INT: case PL_ATTR_FLOAT: case PL_ATTR_BOOL:
        dst->count = 0;
        break;
    case PL_ATTR_STRING:
        dst->s = pl__strdup(src->s ? src->s : "");
        if (!dst->s)
            goto oom;
        dst->count = 0;
        break;
    case PL_ATTR_INTS: case PL_ATTR_FLOATS: case PL_ATTR_BYTES: {
        size_t es = src->type == PL_ATTR_INTS ? 8 : src->type == PL_ATTR_FLOATS ? 4 : 1;
        const void *from = src->type == PL_ATTR_INTS ? (const void *)src->ints
                           : src->type == PL_ATTR_FLOATS ? (const void *)src->floats : src->bytes;
        void *to;
        if (src->count < 0 || (src->count > 0 && !from) || !pl__mul_size((size_t)src->count, es, &bytes)) {
            pl__attr_release(dst);
            return pl__fail(PL_ERR_INVALID_ARG, "attribute '%s': bad element count", src->name);
        }
        to = malloc(bytes ? bytes : 1);
        if (!to)
            goto oom;
        if (bytes)
            memcpy(to, from, bytes);
        if (src->type == PL_ATTR_INTS) dst->ints = to;
        else if (src->type == PL_ATTR_FLOATS) dst->floats = to;
        else dst->bytes = to;
        break;
    }
    default:
        pl__attr_release(dst);
        return pl__fail(PL_ERR_INVALID_ARG, "attribute '%s': unknown type %d", src->name, (int)src->type);
    }
    return PL_OK;
oom:
    pl__attr_release(dst);
    return pl__fail(PL_ERR_NOMEM, "out of memory copying attribute '%s'", src->name);
}

pl_status pl__attrs_set(pl__attrs *a, const pl_attr *attr) {
    pl_attr tmp;
    pl_status s = pl__attr_clone(&tmp, attr);
    pl_attr *nv;
    if (s)
        return s;
    for (int i = 0; i < a->n; i++) {
        if (strcmp(a->v[i].name, attr->name) == 0) {
            pl__attr_release(&a->v[i]);
            a->v[i] = tmp;
            return PL_OK;
        }
    }
    nv = realloc(a->v, sizeof(*nv) * (size_t)(a->n + 1));
    if (!nv) {
        pl__attr_release(&tmp);
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    }
    a->v = nv;
    a->v[a->n++] = tmp;
    return PL_OK;
}

pl_status pl__attrs_copy(pl__attrs *dst, const pl_attr *src, int n) {
    for (int i = 0; i < n; i++) {
        pl_status s = pl__attrs_set(dst, &src[i]);
        if (s)
            return s;
    }
    return PL_OK;
}

void pl__attrs_remove(pl__attrs *a, const char *name) {
    for (int i = 0; i < a->n; i++) {
        if (strcmp(a->v[i].name, name) == 0) {
            pl__attr_release(&a->v[i]);
            memmove(&a->v[i], &a->v[i + 1], sizeof(*a->v) * (size_t)(a->n - i - 1));
            a->n--;
            return;
        }
    }
}

void pl__attrs_free(pl__attrs *a) {
    for (int i = 0; i < a->n; i++)
        pl__attr_release(&a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

const pl_attr *pl__attrs_find(const pl__attrs *a, const char *name) {
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, name) == 0)
            return &a->v[i];
    return NULL;
}

int64_t pl__attr_int(const pl__attrs *a, const char *name, int64_t def) {
    const pl_attr *x = pl__attrs_find(a, name);
    if (!x)
        return def;
    if (x->type == PL_ATTR_FLOAT)
        return (int64_t)x->f;
    return x->i;
}

double pl__attr_float(const pl__attrs *a, const char *name, double def) {
    const pl_attr *x = pl__attrs_find(a, name);
    if (!x)
        return def;
    if (x->type == PL_ATTR_INT || x->type == PL_ATTR_BOOL)
        return (double)x->i;
    return x->f;
}

const char *pl__attr_string(const pl__attrs *a, const char *name, const char *def) {
    const pl_attr *x = pl__attrs_find(a, name);
    return x && x->type == PL_ATTR_STRING ? x->s : def;
}

int64_t pl__attr_ints(const pl__attrs *a, const char *name, const int64_t **out) {
    const pl_attr *x = pl__attrs_find(a, name);
    if (!x || x->type != PL_ATTR_INTS) {
        *out = NULL;
        return -1;
    }
    *out = x->ints;
    return x->count;
}

int64_t pl__attr_floats(const pl__attrs *a, const char *name, const float **out) {
    const pl_attr *x = pl__attrs_find(a, name);
    if (!x || x->type != PL_ATTR_FLOATS) {
        *out = NULL;
        return -1;
    }
    *out = x->floats;
    return x->count;
}
