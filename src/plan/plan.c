/*
 * plan.c - the engine file writer and the in-memory plan's accessors. The reader is
 * plan-read.c; the structural rules both sides enforce are plan-check.c. docs/engine-format.md
 * explains the format and its versioning rules in prose; this comment is the layout spec.
 *
 * All integers are little-endian; floats are IEEE-754 bit patterns; constant data is stored in
 * the producing host's byte order, which must be little-endian (the reader refuses to run on a
 * big-endian host rather than hand out byte-swapped weights).
 *
 *   str       u32 len, len bytes, one NUL byte (the bytes hold no NUL)
 *
 *   header (64 bytes, offset 0)
 *      0  char[4]  magic "PLNT"
 *      4  u32      format version (major), 1; a reader refuses a newer one with PL_ERR_VERSION
 *      8  u32      minor version, 0; readers accept any minor of a major they know
 *     12  u32      device (pl_device: 0 cpu, 1 cuda)
 *     16  u64      file size in bytes, including the trailing checksum
 *     24  u64      peak activation bytes (memory plan at the profile's max shapes)
 *     32  u64      offset of the section table (64-aligned, >= 64)
 *     40  u32      number of sections (<= 64)
 *     44  u32      flags (0)
 *     48  u8[16]   reserved (0)
 *
 *   section table: nsections entries of 32 bytes
 *      u32 id, u32 flags (bit 0: required), u64 offset, u64 size, u64 count (records; 0 for raw)
 *   Every section starts 64-aligned, lies after the section table and before the checksum, and
 *   no two overlap; padding between them is zero. An id appears at most once. A reader skips an
 *   unknown id unless it is flagged required (then PL_ERR_VERSION). Records in a section are
 *   packed and must fill it exactly.
 *
 *   1 META       count x { str key; u32 type; u64 len; len bytes }   type 1: UTF-8 string
 *                (no NUL); unknown types are skipped. Keys are unique and non-empty.
 *   2 TENSORS    count x { str name; u8 kind (0 act, 1 input, 2 const); u8 flags (bit 0 graph
 *                output, bit 1 data-dependent, others 0); u16 0; i32 dtype (ONNX numbering);
 *                u32 rank (<= 8); i64 dims[rank] (-1 dynamic); i64 min[rank]; i64 opt[rank];
 *                i64 max[rank]; str dim_name[rank] ("" = unnamed); u64 data_offset; u64
 *                data_size }. Constants: data_offset is 64-aligned and relative to the WEIGHTS
 *                section, data_size = numel * dtype size; other kinds hold 0, 0.
 *   3 INPUTS     count x i32 tensor id, in graph-input order
 *   4 OUTPUTS    count x i32 tensor id, in graph-output order
 *   5 LAYERS     count x { str name; str op ("plugin" for plugin layers); str plugin_ns; str
 *                plugin_name; str plugin_version (all "" for core ops); str kernel; i32 tactic;
 *                i32 compute_dtype (0: per tensors); u32 nin; i32 in[nin] (-1 omitted); u32
 *                nout; i32 out[nout]; u32 nattrs; attr[nattrs] } in topological order.
 *                attr = { str name; u32 type (pl_attr_type); payload } with payload
 *                INT, BOOL: i64 | FLOAT: f64 | STRING: str | INTS: u64 n, i64[n] |
 *                FLOATS: u64 n, f32[n] | BYTES: u64 n, u8[n]
 *   6 PLUGINS    count x { str ns; str name; str version; str library (file name, "" when the
 *                application registered it); u64 xxh64 of the library's bytes (0 unknown) }
 *   7 BLOBS      count x { str name; u64 offset (64-aligned, into BLOB_DATA); u64 size }
 *   8 BLOB_DATA  raw bytes of the named blobs (embedded cubin / PTX)
 *   9 WEIGHTS    raw bytes of every constant, each 64-aligned, so a mapped file is used in place
 *
 *   checksum: u64 XXH64 (seed 0) of every byte before it; the last 8 bytes of the file.
 *
 * The writer emits sections in the order above (WEIGHTS last, being the largest); the reader
 * does not depend on the order. TENSORS, INPUTS, OUTPUTS, LAYERS and WEIGHTS are flagged
 * required and must be present.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "plan/plan-format.h"
#include "plugin/plugin-host.h"

/* ---- plan accessors ---- */

void pl__plan_free(pl__plan *p) {
    if (!p)
        return;
    pl_network_free(p->net);
    for (int i = 0; i < p->nmeta; i++) {
        free(p->meta[i].key);
        free(p->meta[i].value);
    }
    free(p->meta);
    for (int i = 0; i < p->nblobs; i++) {
        free(p->blobs[i].name);
        if (!p->borrows)
            free(p->blobs[i].data);
    }
    free(p->blobs);
    for (int i = 0; i < p->nplugins; i++) {
        free(p->plugins[i].ns);
        free(p->plugins[i].name);
        free(p->plugins[i].version);
        free(p->plugins[i].library);
    }
    free(p->plugins);
    free(p);
}

const char *pl__plan_meta(const pl__plan *p, const char *key) {
    if (!p || !key)
        return NULL;
    for (int i = 0; i < p->nmeta; i++)
        if (strcmp(p->meta[i].key, key) == 0)
            return p->meta[i].value;
    return NULL;
}

pl_status pl__plan_set_meta(pl__plan *p, const char *key, const char *value) {
    char *v;
    pl__kv *nm;
    if (!p || !key || !key[0] || !value)
        return pl__fail(PL_ERR_INVALID_ARG, "pl__plan_set_meta: NULL or empty argument");
    if (strlen(key) > PL__PLAN_MAX_NAME || strlen(value) > PL__PLAN_MAX_TEXT)
        return pl__fail(PL_ERR_INVALID_ARG, "engine metadata '%.64s': key or value too long", key);
    v = pl__strdup(value);
    if (!v)
        return pl__fail(PL_ERR_NOMEM, "out of memory setting engine metadata '%s'", key);
    for (int i = 0; i < p->nmeta; i++) {
        if (strcmp(p->meta[i].key, key) == 0) {
            free(p->meta[i].value);
            p->meta[i].value = v;
            return PL_OK;
        }
    }
    nm = realloc(p->meta, sizeof(*nm) * (size_t)(p->nmeta + 1));
    if (!nm) {
        free(v);
        return pl__fail(PL_ERR_NOMEM, "out of memory setting engine metadata '%s'", key);
    }
    p->meta = nm;
    nm[p->nmeta].key = pl__strdup(key);
    nm[p->nmeta].value = v;
    if (!nm[p->nmeta].key) {
        free(v);
        return pl__fail(PL_ERR_NOMEM, "out of memory setting engine metadata '%s'", key);
    }
    p->nmeta++;
    return PL_OK;
}

pl_status pl__plan_add_blob(pl__plan *p, const char *name, const void *data, size_t size) {
    void *copy;
    pl__blob *nb;
    if (!p || !name || !name[0] || (size && !data))
        return pl__fail(PL_ERR_INVALID_ARG, "pl__plan_add_blob: NULL or empty argument");
    /* A loaded plan's blobs point into the caller's file bytes; mixing in owned ones would make
     * pl__plan_free guess which to free. */
    if (p->borrows)
        return pl__fail(PL_ERR_INVALID_ARG, "blob '%s': a loaded engine's blobs are read-only",
                        name);
    if (strlen(name) > PL__PLAN_MAX_NAME)
        return pl__fail(PL_ERR_INVALID_ARG, "blob '%.64s...': name too long", name);
    copy = malloc(size ? size : 1);
    if (!copy)
        return pl__fail(PL_ERR_NOMEM, "out of memory copying blob '%s' (%zu bytes)", name, size);
    if (size)
        memcpy(copy, data, size);
    for (int i = 0; i < p->nblobs; i++) {
        if (strcmp(p->blobs[i].name, name) == 0) {
            free(p->blobs[i].data);
            p->blobs[i].data = copy;
            p->blobs[i].size = size;
            return PL_OK;
        }
    }
    nb = realloc(p->blobs, sizeof(*nb) * (size_t)(p->nblobs + 1));
    if (!nb) {
        free(copy);
        return pl__fail(PL_ERR_NOMEM, "out of memory adding blob '%s'", name);
    }
    p->blobs = nb;
    nb[p->nblobs].name = pl__strdup(name);
    nb[p->nblobs].data = copy;
    nb[p->nblobs].size = size;
    if (!nb[p->nblobs].name) {
        free(copy);
        return pl__fail(PL_ERR_NOMEM, "out of memory adding blob '%s'", name);
    }
    p->nblobs++;
    return PL_OK;
}

const pl__blob *pl__plan_blob(const pl__plan *p, const char *name) {
    if (!p || !name)
        return NULL;
    for (int i = 0; i < p->nblobs; i++)
        if (strcmp(p->blobs[i].name, name) == 0)
            return &p->blobs[i];
    return NULL;
}

/* ---- writer ---- */

typedef struct pl__wbuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} pl__wbuf;

static void pl__w_reserve(pl__wbuf *w, size_t extra) {
    size_t need, cap;
    uint8_t *np;
    if (w->oom || extra <= w->cap - w->n)
        return;
    if (!pl__add_size(w->n, extra, &need)) {
        w->oom = true;
        return;
    }
    cap = w->cap ? w->cap : 4096;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    np = realloc(w->p, cap);
    if (!np) {
        w->oom = true;
        return;
    }
    w->p = np;
    w->cap = cap;
}

static void pl__w_bytes(pl__wbuf *w, const void *src, size_t n) {
    pl__w_reserve(w, n);
    if (w->oom || n == 0)
        return;
    if (src)
        memcpy(w->p + w->n, src, n);
    else
        memset(w->p + w->n, 0, n);
    w->n += n;
}

static void pl__w_u8(pl__wbuf *w, uint8_t v) { pl__w_bytes(w, &v, 1); }
static void pl__w_u32(pl__wbuf *w, uint32_t v) {
    uint8_t b[4];
    pl__put_le32(b, v);
    pl__w_bytes(w, b, 4);
}
static void pl__w_u64(pl__wbuf *w, uint64_t v) {
    uint8_t b[8];
    pl__put_le64(b, v);
    pl__w_bytes(w, b, 8);
}
static void pl__w_i32(pl__wbuf *w, int32_t v) { pl__w_u32(w, (uint32_t)v); }
static void pl__w_i64(pl__wbuf *w, int64_t v) { pl__w_u64(w, (uint64_t)v); }
static void pl__w_f64(pl__wbuf *w, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    pl__w_u64(w, u);
}
static void pl__w_f32(pl__wbuf *w, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    pl__w_u32(w, u);
}
/* Callers have checked the length against the format's limits, so it fits a u32. */
static void pl__w_str(pl__wbuf *w, const char *s) {
    size_t n = s ? strlen(s) : 0;
    pl__w_u32(w, (uint32_t)n);
    pl__w_bytes(w, s, n);
    pl__w_u8(w, 0);
}
static void pl__w_align(pl__wbuf *w) {
    size_t pad = (PL__PLAN_ALIGN - w->n % PL__PLAN_ALIGN) % PL__PLAN_ALIGN;
    pl__w_bytes(w, NULL, pad);
}

static size_t pl__align_up(size_t x) { return (x + PL__PLAN_ALIGN - 1) / PL__PLAN_ALIGN * PL__PLAN_ALIGN; }

typedef struct pl__wsec {
    uint32_t id, flags;
    uint64_t off, size, count;
} pl__wsec;

static void pl__sec_begin(pl__wbuf *w, pl__wsec *s, uint32_t id, uint32_t flags) {
    pl__w_align(w);
    s->id = id;
    s->flags = flags;
    s->off = w->n;
    s->count = 0;
}
static void pl__sec_end(pl__wbuf *w, pl__wsec *s) { s->size = w->n - s->off; }

static bool pl__is_plugin_layer(const pl__layer *l) { return l->op && strcmp(l->op, "plugin") == 0; }

static bool pl__same_identity(const char *ns, const char *name, const char *ver,
                              const pl__plugin_rec *r) {
    return strcmp(ns, r->ns) == 0 && strcmp(name, r->name) == 0 && strcmp(ver, r->version) == 0;
}

/* The plugin table: one row per distinct identity among the plugin layers. The library comes
 * from the registry; when it knows none (an application-registered plugin, or an unbound layer)
 * a row the caller supplied in p->plugins is kept, so re-serializing a loaded engine keeps the
 * library it was built with. */
static pl_status pl__derive_plugins(const pl__plan *p, pl__plugin_rec **out, int *nout) {
    const pl_network *net = p->net;
    pl__plugin_rec *rows = NULL;
    int n = 0;
    for (int i = 0; i < net->nlayers; i++) {
        const pl__layer *l = &net->layers[i];
        const char *lib = "";
        uint64_t hash = 0;
        bool dup = false;
        if (!pl__is_plugin_layer(l))
            continue;
        for (int k = 0; k < n && !dup; k++)
            dup = pl__same_identity(l->plugin_ns, l->plugin_name, l->plugin_version, &rows[k]);
        if (dup)
            continue;
        if (l->plugin)
            lib = pl__plugin_library(l, &hash);
        if (!lib)
            lib = "";
        if (!lib[0]) {
            for (int k = 0; k < p->nplugins; k++) {
                const pl__plugin_rec *r = &p->plugins[k];
                if (r->ns && r->name && r->version && r->library &&
                    pl__same_identity(l->plugin_ns, l->plugin_name, l->plugin_version, r)) {
                    lib = r->library;
                    hash = r->hash;
                    break;
                }
            }
        }
        if (strlen(lib) > PL__PLAN_MAX_NAME) {
            free(rows);
            return pl__fail(PL_ERR_INVALID_ARG, "cannot serialize the engine: plugin '%s::%s': "
                            "library name too long", l->plugin_ns, l->plugin_name);
        }
        pl__plugin_rec *nr = realloc(rows, sizeof(*rows) * (size_t)(n + 1));
        if (!nr) {
            free(rows);
            return pl__fail(PL_ERR_NOMEM, "out of memory serializing the engine");
        }
        rows = nr;
        /* borrowed strings: the rows live only while serializing */
        rows[n].ns = l->plugin_ns;
        rows[n].name = l->plugin_name;
        rows[n].version = l->plugin_version;
        rows[n].library = (char *)lib;
        rows[n].hash = hash;
        n++;
    }
    *out = rows;
    *nout = n;
    return PL_OK;
}

static void pl__w_attr(pl__wbuf *w, const pl_attr *a) {
    pl__w_str(w, a->name);
    pl__w_u32(w, (uint32_t)a->type);
    switch (a->type) {
    case PL_ATTR_INT: case PL_ATTR_BOOL:
        pl__w_i64(w, a->i);
        break;
    case PL_ATTR_FLOAT:
        pl__w_f64(w, a->f);
        break;
    case PL_ATTR_STRING:
        pl__w_str(w, a->s);
        break;
    case PL_ATTR_INTS:
        pl__w_u64(w, (uint64_t)a->count);
        for (int64_t k = 0; k < a->count; k++)
            pl__w_i64(w, a->ints[k]);
        break;
    case PL_ATTR_FLOATS:
        pl__w_u64(w, (uint64_t)a->count);
        for (int64_t k = 0; k < a->count; k++)
            pl__w_f32(w, a->floats[k]);
        break;
    case PL_ATTR_BYTES:
        pl__w_u64(w, (uint64_t)a->count);
        pl__w_bytes(w, a->bytes, (size_t)a->count);
        break;
    }
}

pl_status pl__plan_serialize(const pl__plan *p, void **data, size_t *size) {
    static const char *const prefix = "cannot serialize the engine";
    const pl_network *net;
    pl__wbuf w = {0};
    pl__wsec sec[PL__SEC_KNOWN_MAX];
    int nsec = 0;
    pl__plugin_rec *rows = NULL;
    int nrows = 0;
    size_t weights = 0, blobs = 0, tab;
    bool have_producer;
    pl_status s;

    if (!p || !p->net || !data || !size)
        return pl__fail(PL_ERR_INVALID_ARG, "pl__plan_serialize: NULL argument");
    *data = NULL;
    *size = 0;
    net = p->net;
    if (p->device != PL_DEVICE_CPU && p->device != PL_DEVICE_CUDA)
        return pl__fail(PL_ERR_INVALID_ARG, "%s: unknown device %d", prefix, (int)p->device);
    /* the same rules the reader enforces; a violation is the caller's mistake here */
    if ((s = pl__plan_check(net, prefix, NULL)))
        return s == PL_ERR_FORMAT ? PL_ERR_INVALID_ARG : s;
    for (int i = 0; i < p->nmeta; i++)
        if (!p->meta[i].key || !p->meta[i].key[0] || !p->meta[i].value ||
            strlen(p->meta[i].key) > PL__PLAN_MAX_NAME ||
            strlen(p->meta[i].value) > PL__PLAN_MAX_TEXT)
            return pl__fail(PL_ERR_INVALID_ARG, "%s: metadata entry %d is empty or too long",
                            prefix, i);
    if (p->nblobs < 0 || p->nblobs > PL__PLAN_MAX_ROWS || p->nmeta < 0)
        return pl__fail(PL_ERR_INVALID_ARG, "%s: %d blobs (at most %d)", prefix, p->nblobs,
                        PL__PLAN_MAX_ROWS);
    for (int i = 0; i < p->nblobs; i++) {
        if (!p->blobs[i].name || !p->blobs[i].name[0] ||
            strlen(p->blobs[i].name) > PL__PLAN_MAX_NAME || (p->blobs[i].size && !p->blobs[i].data))
            return pl__fail(PL_ERR_INVALID_ARG, "%s: blob %d has no valid name or data", prefix, i);
        for (int k = 0; k < i; k++)
            if (strcmp(p->blobs[k].name, p->blobs[i].name) == 0)
                return pl__fail(PL_ERR_INVALID_ARG, "%s: two blobs are named '%s'", prefix,
                                p->blobs[i].name);
        blobs = pl__align_up(blobs) + p->blobs[i].size;
    }
    for (int i = 0; i < net->ntensors; i++)
        if (net->tensors[i].kind == PL__TENSOR_CONST)
            weights = pl__align_up(weights) + net->tensors[i].nbytes;
    if ((s = pl__derive_plugins(p, &rows, &nrows)))
        return s;
    if (nrows > PL__PLAN_MAX_ROWS) {
        free(rows);
        return pl__fail(PL_ERR_INVALID_ARG, "%s: %d distinct plugins (at most %d)", prefix, nrows,
                        PL__PLAN_MAX_ROWS);
    }

    /* The bulk (weights, blobs) is reserved up front so that growing the buffer never copies
     * it; the tables are small next to it. */
    pl__w_reserve(&w, weights + blobs + 64 * 1024);
    pl__w_bytes(&w, NULL, PL__PLAN_HEADER_SIZE);
    tab = w.n;
    pl__w_bytes(&w, NULL, PL__PLAN_SECTION_ENTRY * PL__SEC_KNOWN_MAX);

    pl__sec_begin(&w, &sec[nsec], PL__SEC_META, 0);
    have_producer = pl__plan_meta(p, "producer") != NULL;
    for (int i = 0; i < p->nmeta; i++) {
        size_t n = strlen(p->meta[i].value);
        pl__w_str(&w, p->meta[i].key);
        pl__w_u32(&w, PL__META_STRING);
        pl__w_u64(&w, n);
        pl__w_bytes(&w, p->meta[i].value, n);
    }
    if (!have_producer) {
        static const char producer[] = "plinth " PL_VERSION_STRING;
        pl__w_str(&w, "producer");
        pl__w_u32(&w, PL__META_STRING);
        pl__w_u64(&w, sizeof(producer) - 1);
        pl__w_bytes(&w, producer, sizeof(producer) - 1);
    }
    sec[nsec].count = (uint64_t)p->nmeta + !have_producer;
    pl__sec_end(&w, &sec[nsec++]);

    pl__sec_begin(&w, &sec[nsec], PL__SEC_TENSORS, PL__SEC_FLAG_REQUIRED);
    weights = 0;
    for (int i = 0; i < net->ntensors; i++) {
        const pl__tensor *t = &net->tensors[i];
        uint8_t flags = (uint8_t)((t->is_output ? PL__TFLAG_OUTPUT : 0) |
                                  (t->data_dependent ? PL__TFLAG_DATA_DEPENDENT : 0));
        pl__w_str(&w, t->name);
        pl__w_u8(&w, (uint8_t)t->kind);
        pl__w_u8(&w, flags);
        pl__w_bytes(&w, NULL, 2);
        pl__w_i32(&w, (int32_t)t->dtype);
        pl__w_u32(&w, (uint32_t)t->rank);
        for (int d = 0; d < t->rank; d++)
            pl__w_i64(&w, t->dims[d]);
        for (int d = 0; d < t->rank; d++)
            pl__w_i64(&w, t->min_dims[d]);
        for (int d = 0; d < t->rank; d++)
            pl__w_i64(&w, t->opt_dims[d]);
        for (int d = 0; d < t->rank; d++)
            pl__w_i64(&w, t->max_dims[d]);
        for (int d = 0; d < t->rank; d++)
            pl__w_str(&w, t->dim_names[d]);
        if (t->kind == PL__TENSOR_CONST) {
            weights = pl__align_up(weights);
            pl__w_u64(&w, weights);
            pl__w_u64(&w, t->nbytes);
            weights += t->nbytes;
        } else {
            pl__w_u64(&w, 0);
            pl__w_u64(&w, 0);
        }
    }
    sec[nsec].count = (uint64_t)net->ntensors;
    pl__sec_end(&w, &sec[nsec++]);

    pl__sec_begin(&w, &sec[nsec], PL__SEC_INPUTS, PL__SEC_FLAG_REQUIRED);
    for (int i = 0; i < net->ninputs; i++)
        pl__w_i32(&w, net->inputs[i]);
    sec[nsec].count = (uint64_t)net->ninputs;
    pl__sec_end(&w, &sec[nsec++]);

    pl__sec_begin(&w, &sec[nsec], PL__SEC_OUTPUTS, PL__SEC_FLAG_REQUIRED);
    for (int i = 0; i < net->noutputs; i++)
        pl__w_i32(&w, net->outputs[i]);
    sec[nsec].count = (uint64_t)net->noutputs;
    pl__sec_end(&w, &sec[nsec++]);

    pl__sec_begin(&w, &sec[nsec], PL__SEC_LAYERS, PL__SEC_FLAG_REQUIRED);
    for (int i = 0; i < net->nlayers; i++) {
        const pl__layer *l = &net->layers[i];
        bool plug = pl__is_plugin_layer(l);
        pl__w_str(&w, l->name);
        pl__w_str(&w, l->op);
        pl__w_str(&w, plug ? l->plugin_ns : "");
        pl__w_str(&w, plug ? l->plugin_name : "");
        pl__w_str(&w, plug ? l->plugin_version : "");
        pl__w_str(&w, l->kernel);
        pl__w_i32(&w, l->tactic);
        pl__w_i32(&w, (int32_t)l->compute_dtype);
        pl__w_u32(&w, (uint32_t)l->nin);
        for (int k = 0; k < l->nin; k++)
            pl__w_i32(&w, l->in[k]);
        pl__w_u32(&w, (uint32_t)l->nout);
        for (int k = 0; k < l->nout; k++)
            pl__w_i32(&w, l->out[k]);
        pl__w_u32(&w, (uint32_t)l->attrs.n);
        for (int a = 0; a < l->attrs.n; a++)
            pl__w_attr(&w, &l->attrs.v[a]);
    }
    sec[nsec].count = (uint64_t)net->nlayers;
    pl__sec_end(&w, &sec[nsec++]);

    pl__sec_begin(&w, &sec[nsec], PL__SEC_PLUGINS, 0);
    for (int i = 0; i < nrows; i++) {
        pl__w_str(&w, rows[i].ns);
        pl__w_str(&w, rows[i].name);
        pl__w_str(&w, rows[i].version);
        pl__w_str(&w, rows[i].library);
        pl__w_u64(&w, rows[i].hash);
    }
    sec[nsec].count = (uint64_t)nrows;
    pl__sec_end(&w, &sec[nsec++]);

    pl__sec_begin(&w, &sec[nsec], PL__SEC_BLOBS, 0);
    blobs = 0;
    for (int i = 0; i < p->nblobs; i++) {
        blobs = pl__align_up(blobs);
        pl__w_str(&w, p->blobs[i].name);
        pl__w_u64(&w, blobs);
        pl__w_u64(&w, p->blobs[i].size);
        blobs += p->blobs[i].size;
    }
    sec[nsec].count = (uint64_t)p->nblobs;
    pl__sec_end(&w, &sec[nsec++]);

    pl__sec_begin(&w, &sec[nsec], PL__SEC_BLOB_DATA, 0);
    for (int i = 0; i < p->nblobs; i++) {
        pl__w_align(&w);
        pl__w_bytes(&w, p->blobs[i].data, p->blobs[i].size);
    }
    pl__sec_end(&w, &sec[nsec++]);

    pl__sec_begin(&w, &sec[nsec], PL__SEC_WEIGHTS, PL__SEC_FLAG_REQUIRED);
    for (int i = 0; i < net->ntensors; i++) {
        const pl__tensor *t = &net->tensors[i];
        if (t->kind != PL__TENSOR_CONST)
            continue;
        pl__w_align(&w);
        pl__w_bytes(&w, t->data, t->nbytes);
    }
    pl__sec_end(&w, &sec[nsec++]);
    free(rows);
    rows = NULL;

    pl__w_bytes(&w, NULL, PL__PLAN_CHECKSUM_SIZE);
    if (w.oom) {
        free(w.p);
        return pl__fail(PL_ERR_NOMEM, "out of memory serializing the engine (%zu bytes so far)",
                        w.n);
    }
    memcpy(w.p + PL__PLAN_OFF_MAGIC, PL__PLAN_MAGIC, 4);
    pl__put_le32(w.p + PL__PLAN_OFF_VERSION, PL__PLAN_VERSION);
    pl__put_le32(w.p + PL__PLAN_OFF_MINOR, PL__PLAN_MINOR);
    pl__put_le32(w.p + PL__PLAN_OFF_DEVICE, (uint32_t)p->device);
    pl__put_le64(w.p + PL__PLAN_OFF_FILE_SIZE, w.n);
    pl__put_le64(w.p + PL__PLAN_OFF_PEAK, p->peak_activation_bytes);
    pl__put_le64(w.p + PL__PLAN_OFF_SECTAB, tab);
    pl__put_le32(w.p + PL__PLAN_OFF_NSECTIONS, (uint32_t)nsec);
    for (int i = 0; i < nsec; i++) {
        uint8_t *e = w.p + tab + (size_t)i * PL__PLAN_SECTION_ENTRY;
        pl__put_le32(e, sec[i].id);
        pl__put_le32(e + 4, sec[i].flags);
        pl__put_le64(e + 8, sec[i].off);
        pl__put_le64(e + 16, sec[i].size);
        pl__put_le64(e + 24, sec[i].count);
    }
    pl__put_le64(w.p + w.n - 8, XXH64(w.p, w.n - 8, 0));
    *data = w.p;
    *size = w.n;
    return PL_OK;
}
