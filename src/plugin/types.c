/*
 * types.c - the dtype-combination grammar of plugin definitions, as TensorRT's Python plugins
 * (QDP) spell it: positions (inputs, then outputs) separated by ','; "A|B" at several positions
 * is one dependent choice (all those positions take alternative k together, so every '|' list
 * has the same length); "A*B" is an independent choice (cross product); ';' separates whole
 * alternative combinations, which QDP expresses as a list of AutoTuneCombination objects.
 * The text is expanded once, at registration, into a flat table of combinations.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin/plugin-impl.h"

#define PL__MAX_COMBOS 4096
#define PL__MAX_ALTS 16

static const struct {
    const char *name;
    pl_dtype t;
} pl__type_names[] = {
    {"FP32", PL_FLOAT32}, {"FP16", PL_FLOAT16}, {"BF16", PL_BFLOAT16}, {"FP64", PL_FLOAT64},
    {"INT8", PL_INT8},    {"UINT8", PL_UINT8},  {"INT32", PL_INT32},   {"INT64", PL_INT64},
    {"BOOL", PL_BOOL},    {"FLOAT", PL_FLOAT32}, {"HALF", PL_FLOAT16}, {"FLOAT32", PL_FLOAT32},
    {"FLOAT16", PL_FLOAT16}, {"BFLOAT16", PL_BFLOAT16}, {"FLOAT64", PL_FLOAT64},
    {"DOUBLE", PL_FLOAT64},
};

const char *pl__dtype_short(pl_dtype t) {
    for (size_t i = 0; i < 9; i++) /* the first nine are the canonical names */
        if (pl__type_names[i].t == t)
            return pl__type_names[i].name;
    return "?";
}

static bool pl__type_lookup(const char *s, size_t n, pl_dtype *t) {
    for (size_t i = 0; i < sizeof(pl__type_names) / sizeof(pl__type_names[0]); i++) {
        const char *nm = pl__type_names[i].name;
        size_t k = 0;
        if (strlen(nm) != n)
            continue;
        while (k < n && toupper((unsigned char)s[k]) == nm[k])
            k++;
        if (k == n) {
            *t = pl__type_names[i].t;
            return true;
        }
    }
    return false;
}

typedef struct pl__pos {
    pl_dtype alt[PL__MAX_ALTS];
    int nalt;
    char sep; /* 0 (one type), '|' or '*' */
} pl__pos;

/* Parses one combination (text up to ';' or the end) into positions. */
static pl_status pl__parse_combo(const char *s, const char *end, pl__pos *pos, int maxpos,
                                 int *npos, const char *who) {
    int n = 0;
    const char *p = s;
    for (;;) {
        pl__pos *q;
        if (n >= maxpos)
            return pl__fail(PL_ERR_INVALID_ARG, "%s: types \"%.*s\": more than %d positions", who,
                            (int)(end - s), s, maxpos);
        q = &pos[n];
        memset(q, 0, sizeof(*q));
        for (;;) {
            const char *w;
            while (p < end && isspace((unsigned char)*p))
                p++;
            w = p;
            while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
                p++;
            if (p == w || q->nalt >= PL__MAX_ALTS ||
                !pl__type_lookup(w, (size_t)(p - w), &q->alt[q->nalt]))
                return pl__fail(PL_ERR_INVALID_ARG, "%s: types \"%.*s\": position %d: expected a "
                                "type name (FP32 FP16 BF16 FP64 INT8 UINT8 INT32 INT64 BOOL) at "
                                "\"%.*s\"", who, (int)(end - s), s, n,
                                (int)(end - w > 12 ? 12 : end - w), w);
            q->nalt++;
            while (p < end && isspace((unsigned char)*p))
                p++;
            if (p < end && (*p == '|' || *p == '*')) {
                if (q->sep && q->sep != *p)
                    return pl__fail(PL_ERR_INVALID_ARG, "%s: types \"%.*s\": position %d mixes '|' "
                                    "and '*'", who, (int)(end - s), s, n);
                q->sep = *p++;
                continue;
            }
            break;
        }
        n++;
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p != end)
            return pl__fail(PL_ERR_INVALID_ARG, "%s: types \"%.*s\": unexpected '%c'", who,
                            (int)(end - s), s, *p);
        break;
    }
    *npos = n;
    return PL_OK;
}

pl_status pl__types_parse(const char *text, int npos, const char *who, pl__types *out) {
    pl__pos *pos = NULL;
    const char *s = text;
    pl_status st = PL_OK;
    memset(out, 0, sizeof(*out));
    out->npos = npos;
    if (!text)
        return PL_OK;
    if (npos <= 0 || npos > 2 * PL_PLUGIN_MAX_IO)
        return pl__fail(PL_ERR_INVALID_ARG, "%s: types given for %d positions", who, npos);
    pos = malloc(sizeof(*pos) * (size_t)npos);
    if (!pos)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    while (*s) {
        const char *end = strchr(s, ';');
        int n = 0, dep = 0, ncross = 1;
        pl_dtype *nv;
        if (!end)
            end = s + strlen(s);
        if ((st = pl__parse_combo(s, end, pos, npos + 1, &n, who)))
            goto done;
        if (n != npos) {
            st = pl__fail(PL_ERR_INVALID_ARG, "%s: types \"%.*s\" has %d positions; the plugin has "
                          "%d (inputs then outputs)", who, (int)(end - s), s, n, npos);
            goto done;
        }
        for (int p = 0; p < npos; p++) {
            if (pos[p].sep == '|') {
                if (dep && dep != pos[p].nalt) {
                    st = pl__fail(PL_ERR_INVALID_ARG, "%s: types \"%.*s\": the '|' lists have "
                                  "different lengths (%d and %d)", who, (int)(end - s), s, dep,
                                  pos[p].nalt);
                    goto done;
                }
                dep = pos[p].nalt;
            } else if (pos[p].sep == '*') {
                ncross *= pos[p].nalt;
                if (ncross > PL__MAX_COMBOS)
                    break;
            }
        }
        if (!dep)
            dep = 1;
        if ((int64_t)dep * ncross + out->ncombos > PL__MAX_COMBOS) {
            st = pl__fail(PL_ERR_INVALID_ARG, "%s: types expand to more than %d combinations", who,
                          PL__MAX_COMBOS);
            goto done;
        }
        nv = realloc(out->v,
                     sizeof(pl_dtype) * (size_t)npos * (size_t)(out->ncombos + dep * ncross));
        if (!nv) {
            st = pl__fail(PL_ERR_NOMEM, "out of memory");
            goto done;
        }
        out->v = nv;
        for (int k = 0; k < dep; k++) {
            for (int c = 0; c < ncross; c++) {
                pl_dtype *row = &out->v[(size_t)out->ncombos * (size_t)npos];
                int rest = c;
                for (int p = npos - 1; p >= 0; p--) {
                    if (pos[p].sep == '|') {
                        row[p] = pos[p].alt[k];
                    } else if (pos[p].sep == '*') {
                        row[p] = pos[p].alt[rest % pos[p].nalt];
                        rest /= pos[p].nalt;
                    } else {
                        row[p] = pos[p].alt[0];
                    }
                }
                out->ncombos++;
            }
        }
        s = *end ? end + 1 : end;
        while (*s && isspace((unsigned char)*s))
            s++;
    }
    if (out->ncombos == 0)
        st = pl__fail(PL_ERR_INVALID_ARG, "%s: types \"%s\" lists no combination", who, text);
done:
    free(pos);
    if (st)
        pl__types_free(out);
    return st;
}

void pl__types_free(pl__types *t) {
    free(t->v);
    t->v = NULL;
    t->ncombos = 0;
}

int pl__types_match(const pl__types *t, const pl_dtype *io, int n) {
    for (int c = 0; c < t->ncombos; c++) {
        const pl_dtype *row = &t->v[(size_t)c * (size_t)t->npos];
        int p = 0;
        while (p < n && p < t->npos && (io[p] == PL_DTYPE_INVALID || io[p] == row[p]))
            p++;
        if (p == n || p == t->npos)
            return c;
    }
    return -1;
}

char *pl__types_str(const pl__types *t, char *buf, size_t size) {
    size_t len = 0;
    if (!size)
        return buf;
    buf[0] = '\0';
    for (int c = 0; c < t->ncombos && len + 8 < size; c++) {
        for (int p = 0; p < t->npos && len + 8 < size; p++) {
            int w = snprintf(buf + len, size - len, "%s%s%s", c && !p ? " " : "", p ? ", " : "(",
                             pl__dtype_short(t->v[(size_t)c * (size_t)t->npos + p]));
            len += w > 0 ? (size_t)w : 0;
        }
        if (len + 2 < size) {
            buf[len++] = ')';
            buf[len] = '\0';
        }
    }
    if (len + 8 >= size && size > 4)
        strcpy(buf + size - 5, "...");
    return buf;
}
