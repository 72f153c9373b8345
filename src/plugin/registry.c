/*
 * registry.c - the process-wide plugin registry and the plugin-library loader.
 *
 * Entries are identified by (namespace, name, version), appended under one mutex and never
 * removed, so the entry pointers layers keep (pl__layer.plugin) stay valid for the life of the
 * process. A library is loaded with dlopen(RTLD_NOW | RTLD_LOCAL) (unresolved symbols fail at
 * load, not mid-inference; two libraries may use the same internal names), its exported
 * plinth_plugin_abi is checked before any of its code runs, and its plinth_plugin_init registers
 * definitions into a registrar that is committed only if every registration succeeded - any
 * failure unwinds the whole library with a message. Built-in plugins go through the same entry
 * point, called directly at the first use of the registry.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "plugin/plugin-impl.h"

/* The layout size of each shipped definition ABI; a definition written against ABI n is read
 * through its first pl__def_size[n] bytes, the rest is zero. Never edit a shipped row. */
#define PL__DEF_SIZE_V1 (offsetof(pl_plugin_def, user_free) + sizeof(void (*)(void *)))
static const size_t pl__def_size[] = {0, PL__DEF_SIZE_V1};
_Static_assert(sizeof(pl__def_size) / sizeof(pl__def_size[0]) == PL_PLUGIN_ABI + 1,
               "a new plugin ABI needs its definition size here");
_Static_assert(PL__DEF_SIZE_V1 == sizeof(pl_plugin_def), "pl_plugin_def v1 is the current layout");

#define PL__MAX_IDENT 256

struct pl_plugin_registrar {
    const pl__plugin_lib *lib; /* the library being loaded, or NULL */
    bool builtin;
    const char *origin;        /* for messages: a path, "application" or "built-in" */
    pl__plugin_entry *pending, **tail;
    int npending;
    pl_status status;          /* first failure */
    char err[1024];
};

static pthread_mutex_t pl__lock = PTHREAD_MUTEX_INITIALIZER;
static pl__plugin_entry *pl__entries, **pl__entries_tail = &pl__entries;
static int pl__nentries;
static pl__plugin_lib *pl__libs;
static pthread_once_t pl__builtin_once = PTHREAD_ONCE_INIT;

/* plugins/builtin.c: registers the built-in plugins through the library entry point. */
int pl__builtin_plugins_init(const pl_host_api *host, pl_plugin_registrar *reg);

/* ---- entries ---- */

static void pl__entry_free(pl__plugin_entry *e, bool call_user_free) {
    if (!e)
        return;
    if (call_user_free && e->def.user_free)
        e->def.user_free(e->def.user);
    free(e->ns);
    free(e->name);
    free(e->version);
    free(e->full);
    pl__types_free(&e->types);
    free(e);
}

static bool pl__ident_ok(const char *s, bool allow_empty) {
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++)
        if (s[n] <= ' ' || s[n] == ':' || (unsigned char)s[n] >= 0x7f)
            return false;
    return (allow_empty || n > 0) && n <= PL__MAX_IDENT;
}

/* Records the registrar's first failure (and keeps it in the thread's message) and returns -1. */
static int pl__reg_fail(pl_plugin_registrar *reg, pl_status s, const char *fmt, ...)
    PL__PRINTF(3, 4);
static int pl__reg_fail(pl_plugin_registrar *reg, pl_status s, const char *fmt, ...) {
    va_list ap;
    if (!reg->status) {
        va_start(ap, fmt);
        vsnprintf(reg->err, sizeof(reg->err), fmt, ap);
        va_end(ap);
        reg->status = s;
    }
    pl__fail(reg->status, "%s", reg->err);
    return -1;
}

static bool pl__is_reserved_attr(const char *name) {
    return strcmp(name, "plugin_namespace") == 0 || strcmp(name, "plugin_version") == 0 ||
           strcmp(name, "aot") == 0;
}

/* Checks a (normalized) definition; fills counts. who: "plugin 'ns::name' (origin)". */
static int pl__check_def(pl_plugin_registrar *reg, pl__plugin_entry *e, const char *who) {
    const pl_plugin_def *d = &e->def;
    if (d->flags != 0) /* reserved: a later ABI gives the bits a meaning */
        return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: flags must be 0 (reserved)", who);
    if (d->num_inputs < 0 || d->num_inputs > PL_PLUGIN_MAX_IO || d->num_outputs < 0 ||
        d->num_outputs > PL_PLUGIN_MAX_IO)
        return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: %d inputs and %d outputs; each must be "
                            "0..%d", who, d->num_inputs, d->num_outputs, PL_PLUGIN_MAX_IO);
    e->nin = d->num_inputs;
    e->nout = d->num_outputs ? d->num_outputs : 1;
    if (d->optional_inputs < 0 || d->optional_inputs > d->num_inputs)
        return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: optional_inputs %d is not within 0..%d",
                            who, d->optional_inputs, d->num_inputs);
    e->nopt = d->optional_inputs;
    if (!d->outputs && e->nin == 0)
        return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: without inputs it needs an outputs() "
                            "callback to describe its outputs", who);
    if (!d->cpu && !d->cuda && !d->cuda_source)
        return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: no kernel (set .cpu, .cuda or "
                            ".cuda_source)", who);
    if ((d->cuda_source == NULL) != (d->cuda_entry == NULL))
        return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: .cuda_source and .cuda_entry go "
                            "together", who);
    if (d->formats) {
        for (const char *p = d->formats; *p;) {
            while (*p == ' ' || *p == ',' || *p == '|' || *p == ';')
                p++;
            if (!*p)
                break;
            if (strncmp(p, "LINEAR", 6) != 0 || (p[6] && !strchr(" ,|;", p[6])))
                return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: formats \"%s\": plinth "
                                    "kernels see row-major data; only LINEAR is accepted", who,
                                    d->formats);
            p += 6;
        }
    }
    for (int k = 0; k < PL_PLUGIN_MAX_IO; k++) {
        int j = d->alias[k];
        if (j == 0)
            continue;
        if (k >= e->nout || j < 1 || j > e->nin)
            return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: alias[%d] = PL_ALIAS(%d) but the "
                                "plugin has %d inputs and %d outputs", who, k, j - 1, e->nin,
                                e->nout);
        for (int m = 0; m < k; m++)
            if (d->alias[m] == j)
                return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: outputs %d and %d both alias "
                                    "input %d", who, m, k, j - 1);
    }
    e->ntactics = 0;
    while (e->ntactics < PL_PLUGIN_MAX_TACTICS && d->tactics[e->ntactics])
        e->ntactics++;
    for (int t = e->ntactics; t < PL_PLUGIN_MAX_TACTICS; t++)
        if (d->tactics[t])
            return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: tactics[%d] follows an empty slot",
                                who, t);
    for (int t = 0; t < e->ntactics; t++) {
        if (!d->tactics[t][0])
            return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: tactic %d has an empty name", who, t);
        for (int u = 0; u < t; u++)
            if (strcmp(d->tactics[t], d->tactics[u]) == 0)
                return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: tactic '%s' is listed twice", who,
                                    d->tactics[t]);
    }
    e->nattrs = 0;
    while (e->nattrs < PL_PLUGIN_MAX_ATTRS && d->attrs[e->nattrs].name)
        e->nattrs++;
    for (int a = 0; a < PL_PLUGIN_MAX_ATTRS; a++) {
        const pl_attr_spec *sp = &d->attrs[a];
        if (a >= e->nattrs) {
            if (sp->name || sp->type)
                return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: attrs[%d] follows an entry "
                                    "without a name", who, a);
            continue;
        }
        if (!sp->name[0] || pl__is_reserved_attr(sp->name))
            return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: attribute name '%s' is %s", who,
                                sp->name, sp->name[0] ? "reserved for ONNX mapping" : "empty");
        if (sp->type < PL_ATTR_INT || sp->type > PL_ATTR_BOOL)
            return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: attribute '%s' has unknown type %d",
                                who, sp->name, (int)sp->type);
        if (sp->count < 0 || (sp->count > 0 && ((sp->type == PL_ATTR_INTS && !sp->ints) ||
                                                (sp->type == PL_ATTR_FLOATS && !sp->floats) ||
                                                (sp->type == PL_ATTR_BYTES && !sp->bytes))))
            return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: attribute '%s': default has count "
                                "%lld but no values", who, sp->name, (long long)sp->count);
        for (int b = 0; b < a; b++)
            if (strcmp(d->attrs[b].name, sp->name) == 0)
                return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: attribute '%s' is declared "
                                    "twice", who, sp->name);
    }
    if (pl__types_parse(d->types, e->nin + e->nout, who, &e->types))
        return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s", pl_errmsg());
    return 0;
}

/* Numeric-aware version order ("1.10" > "1.9"); the newest wins when a layer names none. */
static int pl__version_cmp(const char *a, const char *b) {
    while (*a || *b) {
        if ((*a >= '0' && *a <= '9') && (*b >= '0' && *b <= '9')) {
            char *ea, *eb;
            unsigned long long x = strtoull(a, &ea, 10), y = strtoull(b, &eb, 10);
            if (x != y)
                return x < y ? -1 : 1;
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return 0;
}

static pl__plugin_entry *pl__find_locked(const char *ns, const char *name, const char *version) {
    pl__plugin_entry *best = NULL;
    for (pl__plugin_entry *e = pl__entries; e; e = e->next) {
        if (strcmp(e->ns, ns) || strcmp(e->name, name))
            continue;
        if (version && version[0]) {
            if (strcmp(e->version, version) == 0)
                return e;
        } else if (!best || pl__version_cmp(e->version, best->version) > 0) {
            best = e;
        }
    }
    return best;
}

int pl__registrar_add(pl_plugin_registrar *reg, const pl_plugin_def *def) {
    pl__plugin_entry *e = NULL;
    char who[3 * PL__MAX_IDENT];
    const char *ns, *name, *version;
    if (!reg)
        return -1;
    if (!def)
        return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: register_plugin with a NULL definition",
                            reg->origin);
    /* identity fields sit in the ABI-1 prefix of every layout, so they are readable even from a
     * definition written for a newer ABI */
    ns = def->ns ? def->ns : "";
    name = def->name ? def->name : "";
    version = def->version ? def->version : "1";
    snprintf(who, sizeof(who), "plugin '%.256s::%.256s' (%.200s)", ns, name, reg->origin);
    if (def->abi == 0 || def->abi > PL_PLUGIN_ABI) {
        if (def->user_free) /* user and user_free sit in the ABI-1 prefix too */
            def->user_free(def->user);
        if (def->abi == 0)
            return pl__reg_fail(reg, PL_ERR_VERSION, "%s: the definition's abi field is 0; set "
                                ".abi = PL_PLUGIN_ABI", who);
        return pl__reg_fail(reg, PL_ERR_VERSION, "%s was built for plinth plugin ABI %u; this "
                            "plinth (%s) offers plugin ABI %d: rebuild the plugin against this "
                            "plinth's plugin.h or upgrade plinth", who, (unsigned)def->abi,
                            PL_VERSION_STRING, PL_PLUGIN_ABI);
    }
    if (!pl__ident_ok(ns, true) || !pl__ident_ok(name, false) || !pl__ident_ok(version, false)) {
        if (def->user_free)
            def->user_free(def->user);
        return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s: namespace, name and version must be "
                            "printable ASCII without spaces or ':' (name and version non-empty, "
                            "at most %d bytes)", who, PL__MAX_IDENT);
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        if (def->user_free)
            def->user_free(def->user);
        return pl__reg_fail(reg, PL_ERR_NOMEM, "%s: out of memory", who);
    }
    memcpy(&e->def, def, pl__def_size[def->abi]);
    e->def_abi = def->abi;
    e->ns = pl__strdup(ns);
    e->name = pl__strdup(name);
    e->version = pl__strdup(version);
    e->full = pl__sprintf("%s::%s", ns, name);
    e->lib = reg->lib;
    if (!e->ns || !e->name || !e->version || !e->full) {
        pl__entry_free(e, true);
        return pl__reg_fail(reg, PL_ERR_NOMEM, "%s: out of memory", who);
    }
    if (pl__check_def(reg, e, who)) {
        pl__entry_free(e, true);
        return -1;
    }
    /* duplicates: against the registry (the caller holds the lock) and this registrar */
    for (int pass = 0; pass < 2; pass++) {
        for (const pl__plugin_entry *o = pass ? reg->pending : pl__entries; o; o = o->next) {
            if (strcmp(o->ns, e->ns) || strcmp(o->name, e->name) || strcmp(o->version, e->version))
                continue;
            pl__entry_free(e, true);
            return pl__reg_fail(reg, PL_ERR_INVALID_ARG, "%s version '%s' is already registered "
                                "(from %s); identities (namespace, name, version) must be unique",
                                who, version, pass ? reg->origin : o->lib ? o->lib->path
                                                                : "the application or built in");
        }
    }
    for (int dev = 0; dev < 2; dev++) {
        e->kdef[dev].op = e->full;
        e->kdef[dev].ntactics = e->ntactics;
        e->kdef[dev].tactic_names = e->ntactics > 1 ? e->def.tactics : NULL;
    }
    pl__plugin_fill_kernels(e);
    if (!reg->tail)
        reg->tail = &reg->pending;
    *reg->tail = e;
    reg->tail = &e->next;
    reg->npending++;
    return 0;
}

/* Drops what a registrar collected (registration failed somewhere). */
static void pl__registrar_discard(pl_plugin_registrar *reg) {
    pl__plugin_entry *e = reg->pending;
    while (e) {
        pl__plugin_entry *n = e->next;
        pl__entry_free(e, true);
        e = n;
    }
    reg->pending = NULL;
    reg->tail = NULL;
    reg->npending = 0;
}

static void pl__registrar_commit(pl_plugin_registrar *reg) {
    if (!reg->pending)
        return;
    *pl__entries_tail = reg->pending;
    pl__entries_tail = reg->tail;
    pl__nentries += reg->npending;
    reg->pending = NULL;
    reg->tail = NULL;
    reg->npending = 0;
}

static void pl__register_builtins(void) {
    pl_plugin_registrar reg = {.builtin = true, .origin = "built in"};
    pthread_mutex_lock(&pl__lock);
    if (pl__builtin_plugins_init(&pl__host_api, &reg) != 0 || reg.status) {
        /* a broken built-in is a plinth bug; keep the others usable and say so */
        pl__log(PL_LOG_ERROR, "built-in plugins failed to register: %s",
                reg.err[0] ? reg.err : "init returned an error");
        pl__registrar_discard(&reg);
    } else {
        pl__registrar_commit(&reg);
    }
    pthread_mutex_unlock(&pl__lock);
}

static void pl__ensure_builtins(void) { pthread_once(&pl__builtin_once, pl__register_builtins); }

pl_status pl_plugin_register(const pl_plugin_def *def) {
    pl_plugin_registrar reg = {.origin = "registered by the application"};
    pl__ensure_builtins();
    pthread_mutex_lock(&pl__lock);
    if (pl__registrar_add(&reg, def) == 0)
        pl__registrar_commit(&reg);
    pthread_mutex_unlock(&pl__lock);
    if (reg.status)
        return pl__fail(reg.status, "%s", reg.err);
    return PL_OK;
}

/* ---- libraries ---- */

static pl_status pl__hash_file(const char *path, uint64_t *out) {
    FILE *f = fopen(path, "rb");
    XXH64_state_t *st;
    struct stat sb;
    char buf[1 << 16];
    size_t n;
    if (!f)
        return pl__fail(PL_ERR_IO, "plugin library '%s': %s", path, strerror(errno));
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return pl__fail(PL_ERR_IO, "plugin library '%s': not a regular file", path);
    }
    st = XXH64_createState();
    if (!st) {
        fclose(f);
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    }
    XXH64_reset(st, 0);
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        XXH64_update(st, buf, n);
    if (ferror(f)) {
        XXH64_freeState(st);
        fclose(f);
        return pl__fail(PL_ERR_IO, "plugin library '%s': read error", path);
    }
    *out = XXH64_digest(st);
    XXH64_freeState(st);
    fclose(f);
    return PL_OK;
}

typedef int (*pl__init_fn)(const pl_host_api *, pl_plugin_registrar *);

pl_status pl_plugins_load(const char *path) {
    char canon[PATH_MAX];
    uint64_t hash = 0;
    pl__plugin_lib *lib = NULL;
    pl_plugin_registrar reg = {0};
    void *h = NULL;
    const uint32_t *abi;
    pl__init_fn init;
    pl_status s;
    int rc;
    if (!path || !path[0])
        return pl__fail(PL_ERR_INVALID_ARG, "pl_plugins_load: no path");
    pl__ensure_builtins();
    if (!realpath(path, canon))
        return pl__fail(PL_ERR_IO, "plugin library '%s': %s", path, strerror(errno));
    if ((s = pl__hash_file(canon, &hash)))
        return s;
    pthread_mutex_lock(&pl__lock);
    for (pl__plugin_lib *l = pl__libs; l; l = l->next) {
        if (strcmp(l->path, canon) == 0 || l->hash == hash) {
            pthread_mutex_unlock(&pl__lock);
            if (strcmp(l->path, canon) != 0)
                pl__log(PL_LOG_INFO, "plugin library '%s' has the same content as the loaded '%s'; "
                        "not loading it again", canon, l->path);
            return PL_OK;
        }
    }
    lib = calloc(1, sizeof(*lib));
    if (!lib || !(lib->path = pl__strdup(canon))) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    lib->file = strrchr(lib->path, '/') ? strrchr(lib->path, '/') + 1 : lib->path;
    lib->hash = hash;
    dlerror();
    h = dlopen(canon, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        s = pl__fail(PL_ERR_PLUGIN, "plugin library '%s' cannot be loaded: %s", path,
                     why ? why : "dlopen failed");
        goto fail;
    }
    lib->handle = h;
    abi = (const uint32_t *)dlsym(h, "plinth_plugin_abi");
    if (abi && (*abi == 0 || *abi > PL_PLUGIN_ABI)) {
        s = pl__fail(PL_ERR_VERSION, "plugin library '%s' was built for plinth plugin ABI %u; this "
                     "plinth (%s) offers plugin ABI %d: rebuild the library against this plinth's "
                     "plugin.h or upgrade plinth", path, (unsigned)*abi, PL_VERSION_STRING,
                     PL_PLUGIN_ABI);
        goto fail;
    }
    *(void **)&init = dlsym(h, "plinth_plugin_init");
    if (!init) {
        s = pl__fail(PL_ERR_PLUGIN, "plugin library '%s' does not export plinth_plugin_init (a "
                     "plinth plugin library defines it with PL_PLUGIN_LIBRARY(...) from "
                     "plinth/plugin.h)", path);
        goto fail;
    }
    reg.lib = lib;
    reg.origin = lib->path;
    rc = init(&pl__host_api, &reg);
    if (rc != 0 || reg.status) {
        if (reg.status)
            s = pl__fail(reg.status == PL_ERR_VERSION ? PL_ERR_VERSION : PL_ERR_PLUGIN,
                         "plugin library '%s' was not loaded: %s", path, reg.err);
        else
            s = pl__fail(PL_ERR_PLUGIN, "plugin library '%s' was not loaded: plinth_plugin_init "
                         "returned %d", path, rc);
        goto fail;
    }
    if (reg.npending == 0)
        pl__log(PL_LOG_WARNING, "plugin library '%s' registered no plugin", path);
    pl__registrar_commit(&reg);
    lib->next = pl__libs;
    pl__libs = lib;
    pthread_mutex_unlock(&pl__lock);
    pl__log(PL_LOG_INFO, "loaded plugin library '%s' (xxh64 %016llx)", canon,
            (unsigned long long)hash);
    return PL_OK;
fail:
    /* entries point into the library's memory: drop them before unloading it */
    pl__registrar_discard(&reg);
    if (h)
        dlclose(h);
    if (lib)
        free(lib->path);
    free(lib);
    pthread_mutex_unlock(&pl__lock);
    return s;
}

int pl_plugins_count(void) {
    int n;
    pl__ensure_builtins();
    pthread_mutex_lock(&pl__lock);
    n = pl__nentries;
    pthread_mutex_unlock(&pl__lock);
    return n;
}

static const pl__plugin_entry *pl__entry_at(int index) {
    const pl__plugin_entry *e;
    pthread_mutex_lock(&pl__lock);
    e = pl__entries;
    for (int i = 0; e && i < index; i++)
        e = e->next;
    pthread_mutex_unlock(&pl__lock);
    return e;
}

pl_status pl_plugins_get(int index, const char **ns, const char **name, const char **version,
                         const char **library) {
    const pl__plugin_entry *e;
    pl__ensure_builtins();
    e = index >= 0 ? pl__entry_at(index) : NULL;
    if (!e)
        return pl__fail(PL_ERR_NOT_FOUND, "pl_plugins_get: no plugin %d (there are %d)", index,
                        pl_plugins_count());
    if (ns)
        *ns = e->ns;
    if (name)
        *name = e->name;
    if (version)
        *version = e->version;
    if (library)
        *library = e->lib ? e->lib->path : "";
    return PL_OK;
}

const pl_plugin_def *pl__plugin_def_at(int index) {
    const pl__plugin_entry *e;
    pl__ensure_builtins();
    e = index >= 0 ? pl__entry_at(index) : NULL;
    return e ? &e->def : NULL;
}

bool pl__plugin_exists(const char *ns, const char *name, const char *version) {
    bool found;
    if (!name)
        return false;
    pl__ensure_builtins();
    pthread_mutex_lock(&pl__lock);
    found = pl__find_locked(ns ? ns : "", name, version) != NULL;
    pthread_mutex_unlock(&pl__lock);
    return found;
}

const char *pl__plugin_library(const pl__layer *l, uint64_t *hash) {
    const pl__plugin_entry *e = l ? l->plugin : NULL;
    if (e && e->lib) {
        if (hash)
            *hash = e->lib->hash;
        return e->lib->file;
    }
    if (hash)
        *hash = 0;
    return "";
}

/* ---- binding a layer ---- */

static const char *pl__attr_type_name(pl_attr_type t) {
    static const char *const names[] = {"?", "INT", "FLOAT", "STRING", "INTS", "FLOATS", "BYTES",
                                        "BOOL"};
    return t >= PL_ATTR_INT && t <= PL_ATTR_BOOL ? names[t] : "?";
}

const char *pl__plugin_attr_type_name(pl_attr_type t) { return pl__attr_type_name(t); }

/* Converts `have` to the schema's type where that loses nothing; *out points to converted
 * storage in `tmp` (caller frees tmp->ints / tmp->floats). false: no conversion. */
static bool pl__convert_attr(const pl_attr *have, pl_attr_type want, pl_attr *tmp) {
    *tmp = *have;
    tmp->type = want;
    switch (want) {
    case PL_ATTR_FLOAT:
        if (have->type != PL_ATTR_INT && have->type != PL_ATTR_BOOL)
            return false;
        tmp->f = (double)have->i;
        return true;
    case PL_ATTR_INT:
        return have->type == PL_ATTR_BOOL;
    case PL_ATTR_BOOL:
        if (have->type != PL_ATTR_INT)
            return false;
        tmp->i = have->i != 0;
        return true;
    case PL_ATTR_INTS:
        if (have->type != PL_ATTR_INT && have->type != PL_ATTR_BOOL)
            return false;
        tmp->ints = malloc(sizeof(int64_t));
        if (!tmp->ints)
            return false;
        *(int64_t *)tmp->ints = have->i;
        tmp->count = 1;
        return true;
    case PL_ATTR_FLOATS: {
        float *v;
        int64_t n = have->type == PL_ATTR_INTS ? have->count : 1;
        if (have->type != PL_ATTR_INTS && have->type != PL_ATTR_FLOAT && have->type != PL_ATTR_INT)
            return false;
        v = malloc(sizeof(float) * (size_t)(n ? n : 1));
        if (!v)
            return false;
        for (int64_t k = 0; k < n; k++)
            v[k] = have->type == PL_ATTR_INTS ? (float)have->ints[k]
                   : have->type == PL_ATTR_FLOAT ? (float)have->f : (float)have->i;
        tmp->floats = v;
        tmp->count = n;
        return true;
    }
    case PL_ATTR_BYTES:
        if (have->type != PL_ATTR_STRING)
            return false;
        tmp->bytes = have->s;
        tmp->count = (int64_t)strlen(have->s);
        return true;
    default:
        return false;
    }
}

static pl_status pl__bind_attrs(pl__layer *l, const pl__plugin_entry *e) {
    const char *label = pl__layer_label(l);
    pl_status s;
    for (int i = 0; i < l->attrs.n;) {
        const pl_attr *have = &l->attrs.v[i];
        const pl_attr_spec *sp = NULL;
        pl_attr conv;
        char names[256];
        size_t at = 0;
        if (pl__is_reserved_attr(have->name)) { /* ONNX mapping hints, not plugin attributes */
            pl__attrs_remove(&l->attrs, have->name);
            continue;
        }
        for (int a = 0; a < e->nattrs && !sp; a++)
            if (strcmp(e->def.attrs[a].name, have->name) == 0)
                sp = &e->def.attrs[a];
        if (!sp) {
            names[0] = '\0';
            for (int a = 0; a < e->nattrs && at + 2 < sizeof(names); a++) {
                int w = snprintf(names + at, sizeof(names) - at, "%s%s", a ? ", " : "",
                                 e->def.attrs[a].name);
                at += w > 0 ? (size_t)w : 0;
            }
            return pl__fail(PL_ERR_INVALID_ARG, "node '%s': plugin '%s' has no attribute '%s' "
                            "(%s%s)", label, e->full, have->name, e->nattrs ? "it has: " :
                            "it takes no attributes", names);
        }
        if (have->type == sp->type) {
            i++;
            continue;
        }
        if (!pl__convert_attr(have, sp->type, &conv))
            return pl__fail(PL_ERR_INVALID_ARG, "node '%s': plugin '%s': attribute '%s' is %s, "
                            "expected %s", label, e->full, have->name,
                            pl__attr_type_name(have->type), pl__attr_type_name(sp->type));
        s = pl__attrs_set(&l->attrs, &conv);
        if (sp->type == PL_ATTR_INTS)
            free((void *)conv.ints);
        if (sp->type == PL_ATTR_FLOATS)
            free((void *)conv.floats);
        if (s)
            return pl__fail_prefix(s, "node '%s': plugin '%s'", label, e->full);
        i++;
    }
    for (int a = 0; a < e->nattrs; a++) {
        const pl_attr_spec *sp = &e->def.attrs[a];
        pl_attr dflt = {.name = sp->name, .type = sp->type};
        if (pl__attrs_find(&l->attrs, sp->name))
            continue;
        if (sp->required)
            return pl__fail(PL_ERR_INVALID_ARG, "node '%s': plugin '%s' requires attribute '%s' "
                            "(%s)%s%s", label, e->full, sp->name, pl__attr_type_name(sp->type),
                            sp->doc ? ": " : "", sp->doc ? sp->doc : "");
        dflt.i = sp->type == PL_ATTR_BOOL ? sp->i != 0 : sp->i;
        dflt.f = sp->f;
        dflt.s = sp->s ? sp->s : "";
        dflt.ints = sp->ints;
        dflt.floats = sp->floats;
        dflt.bytes = sp->bytes;
        dflt.count = sp->type == PL_ATTR_INTS || sp->type == PL_ATTR_FLOATS ||
                     sp->type == PL_ATTR_BYTES ? sp->count : 0;
        if ((s = pl__attrs_set(&l->attrs, &dflt)))
            return pl__fail_prefix(s, "node '%s': plugin '%s'", label, e->full);
    }
    return PL_OK;
}

/* Lists other registered identities with the same name, for "did you mean". */
static void pl__similar_locked(const char *ns, const char *name, char *buf, size_t size) {
    size_t at = 0;
    buf[0] = '\0';
    for (const pl__plugin_entry *e = pl__entries; e && at + 4 < size; e = e->next) {
        int w;
        bool same_name = strcmp(e->name, name) == 0;
        if (!same_name && !(strcmp(e->ns, ns) == 0 && strcasecmp(e->name, name) == 0))
            continue;
        w = snprintf(buf + at, size - at, "%s'%s' version '%s'", at ? ", " : "", e->full,
                     e->version);
        at += w > 0 ? (size_t)w : 0;
    }
}

pl_status pl__plugin_bind(pl__layer *l) {
    const pl__plugin_entry *e;
    const char *ns, *ver;
    char similar[512];
    int nlibs = 0;
    pl_status s;
    if (!l || !l->plugin_name)
        return pl__fail(PL_ERR_INVALID_ARG, "pl__plugin_bind: not a plugin layer");
    ns = l->plugin_ns ? l->plugin_ns : "";
    ver = l->plugin_version ? l->plugin_version : "";
    pl__ensure_builtins();
    pthread_mutex_lock(&pl__lock);
    e = pl__find_locked(ns, l->plugin_name, ver);
    if (!e) {
        pl__similar_locked(ns, l->plugin_name, similar, sizeof(similar));
        for (const pl__plugin_lib *lb = pl__libs; lb; lb = lb->next)
            nlibs++;
    }
    pthread_mutex_unlock(&pl__lock);
    if (!e) {
        if (similar[0])
            return pl__fail(PL_ERR_NOT_FOUND, "node '%s': plugin '%s::%s'%s%s%s is not registered; "
                            "registered with that name: %s", pl__layer_label(l), ns,
                            l->plugin_name, ver[0] ? " version '" : "", ver, ver[0] ? "'" : "",
                            similar);
        return pl__fail(PL_ERR_NOT_FOUND, "node '%s': plugin '%s::%s'%s%s%s is not registered "
                        "(%d plugin librar%s loaded; load the one defining it with "
                        "pl_plugins_load() or --plugins LIB.so)", pl__layer_label(l), ns,
                        l->plugin_name, ver[0] ? " version '" : "", ver, ver[0] ? "'" : "", nlibs,
                        nlibs == 1 ? "y" : "ies");
    }
    if (l->nin > e->nin || l->nin < e->nin - e->nopt)
        return pl__fail(PL_ERR_INVALID_ARG, "node '%s': plugin '%s' takes %s%d input%s, got %d",
                        pl__layer_label(l), e->full, e->nopt ? "at least " : "", e->nin - e->nopt,
                        e->nin - e->nopt == 1 ? "" : "s", l->nin);
    for (int i = 0; i < l->nin; i++)
        if (l->in[i] < 0 && i < e->nin - e->nopt)
            return pl__fail(PL_ERR_INVALID_ARG, "node '%s': plugin '%s': input %d is required",
                            pl__layer_label(l), e->full, i);
    if (l->nout != e->nout)
        return pl__fail(PL_ERR_INVALID_ARG, "node '%s': plugin '%s' has %d output%s, got %d",
                        pl__layer_label(l), e->full, e->nout, e->nout == 1 ? "" : "s", l->nout);
    if ((s = pl__bind_attrs(l, e)))
        return s;
    /* the engine records the exact version, so a later, newer registration cannot change it */
    if (strcmp(ver, e->version) != 0) {
        char *v = pl__strdup(e->version);
        if (!v)
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        free(l->plugin_version);
        l->plugin_version = v;
    }
    if (!l->plugin_ns) {
        l->plugin_ns = pl__strdup("");
        if (!l->plugin_ns)
            return pl__fail(PL_ERR_NOMEM, "out of memory");
    }
    l->plugin = e;
    return PL_OK;
}
