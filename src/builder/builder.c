/*
 * builder.c - turns a network into an engine for one device: profile shapes, constant folding,
 * dead-code removal, fusions, shape ranges over the profile (min/opt/max), backend passes
 * (precision, layout), kernel and tactic choice by timing at the opt shape (with a timing cache),
 * memory planning, and serialization with metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "builder/builder.h"
#include "plugin/plugin-host.h"
#include "runtime/exec.h"

#define PL__FOLD_LIMIT ((size_t)64 << 20)

pl_status pl_builder_config_create(pl_builder_config **out) {
    pl_builder_config *c;
    if (!out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_builder_config_create: out is NULL");
    c = calloc(1, sizeof(*c));
    if (!c)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    c->device = PL_DEVICE_CPU;
    c->workspace_limit = (size_t)1 << 30;
    *out = c;
    return PL_OK;
}

void pl_builder_config_free(pl_builder_config *c) {
    if (!c)
        return;
    for (int i = 0; i < c->nprofiles; i++) {
        free(c->profiles[i].name);
        free(c->profiles[i].vmin);
        free(c->profiles[i].vopt);
        free(c->profiles[i].vmax);
    }
    free(c->profiles);
    free(c->timing_cache);
    free(c);
}

void pl_builder_config_set_device(pl_builder_config *c, pl_device d) {
    if (c)
        c->device = d;
}
void pl_builder_config_set_fp16(pl_builder_config *c, bool allowed) {
    if (c)
        c->fp16 = allowed;
}
void pl_builder_config_set_workspace_limit(pl_builder_config *c, size_t bytes) {
    if (c)
        c->workspace_limit = bytes;
}
void pl_builder_config_set_streams(pl_builder_config *c, int max_streams) {
    if (c)
        c->streams = max_streams < 0 ? 0 : max_streams;
}
void pl_builder_config_set_progress(pl_builder_config *c, pl_progress_fn fn, void *user) {
    if (c) {
        c->progress = fn;
        c->progress_user = user;
    }
}

pl_status pl_builder_config_set_timing_cache(pl_builder_config *c, const char *path) {
    char *p;
    if (!c)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_builder_config_set_timing_cache: NULL config");
    p = path ? pl__strdup(path) : NULL;
    if (path && !p)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    free(c->timing_cache);
    c->timing_cache = p;
    return PL_OK;
}

const pl__profile_entry *pl__profile_find(const pl_builder_config *cfg, const char *name) {
    for (int i = 0; i < cfg->nprofiles; i++)
        if (strcmp(cfg->profiles[i].name, name) == 0)
            return &cfg->profiles[i];
    return NULL;
}

static pl_status pl__profile_entry_get(pl_builder_config *c, const char *input, pl__profile_entry **out) {
    pl__profile_entry *e = (pl__profile_entry *)pl__profile_find(c, input);
    if (!e) {
        pl__profile_entry *np = realloc(c->profiles, sizeof(*np) * (size_t)(c->nprofiles + 1));
        if (!np)
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        c->profiles = np;
        e = &c->profiles[c->nprofiles];
        memset(e, 0, sizeof(*e));
        if (!(e->name = pl__strdup(input)))
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        c->nprofiles++;
    }
    *out = e;
    return PL_OK;
}

pl_status pl_builder_config_set_shape_values_f64(pl_builder_config *c, const char *input,
                                                 int64_t count, const double *mn, const double *opt,
                                                 const double *mx) {
    pl__profile_entry *e;
    pl_status s;
    size_t bytes;
    if (!c || !input || count < 0 || (count && (!mn || !opt || !mx)))
        return pl__fail(PL_ERR_INVALID_ARG, "pl_builder_config_set_shape_values: bad argument");
    if (count > (1 << 20) || !pl__mul_size((size_t)count, sizeof(double), &bytes))
        return pl__fail(PL_ERR_INVALID_ARG, "shape values for '%s': too many (%lld)", input, (long long)count);
    for (int64_t i = 0; i < count; i++)
        if (!(mn[i] <= opt[i] && opt[i] <= mx[i]))
            return pl__fail(PL_ERR_INVALID_ARG, "shape values for '%s': element %lld needs min <= opt <= max",
                            input, (long long)i);
    if ((s = pl__profile_entry_get(c, input, &e)))
        return s;
    free(e->vmin);
    free(e->vopt);
    free(e->vmax);
    e->vmin = malloc(bytes + 8);
    e->vopt = malloc(bytes + 8);
    e->vmax = malloc(bytes + 8);
    if (!e->vmin || !e->vopt || !e->vmax)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    if (count) {
        memcpy(e->vmin, mn, bytes);
        memcpy(e->vopt, opt, bytes);
        memcpy(e->vmax, mx, bytes);
    }
    e->nvalues = count;
    return PL_OK;
}

pl_status pl_builder_config_set_shape_values(pl_builder_config *c, const char *input, int64_t count,
                                             const int64_t *mn, const int64_t *opt, const int64_t *mx) {
    double *d;
    pl_status s;
    if (count < 0 || count > (1 << 20) || (count && (!mn || !opt || !mx)))
        return pl__fail(PL_ERR_INVALID_ARG, "pl_builder_config_set_shape_values: bad argument");
    d = malloc(sizeof(double) * (size_t)(3 * count + 1));
    if (!d)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    for (int64_t i = 0; i < count; i++) {
        d[i] = (double)mn[i];
        d[count + i] = (double)opt[i];
        d[2 * count + i] = (double)mx[i];
    }
    s = pl_builder_config_set_shape_values_f64(c, input, count, d, d + count, d + 2 * count);
    free(d);
    return s;
}

pl_status pl_builder_config_set_shape(pl_builder_config *c, const char *input, int rank,
                                      const int64_t *mn, const int64_t *opt, const int64_t *mx) {
    pl__profile_entry *e = NULL;
    pl_status s;
    char a[160], b[160], d[160];
    if (!c || !input || !mn || !opt || !mx)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_builder_config_set_shape: NULL argument");
    if (rank < 0 || rank > PL_MAX_RANK)
        return pl__fail(PL_ERR_INVALID_ARG, "profile for '%s': rank %d outside 0..%d", input, rank, PL_MAX_RANK);
    for (int i = 0; i < rank; i++)
        if (mn[i] < 0 || mn[i] > opt[i] || opt[i] > mx[i])
            return pl__fail(PL_ERR_INVALID_ARG, "profile for '%s': need 0 <= min <= opt <= max in every "
                            "dim, got min %s opt %s max %s", input, pl__dims_str(rank, mn, a, sizeof(a)),
                            pl__dims_str(rank, opt, b, sizeof(b)), pl__dims_str(rank, mx, d, sizeof(d)));
    if ((s = pl__profile_entry_get(c, input, &e)))
        return s;
    e->has_shape = true;
    e->rank = rank;
    memcpy(e->min, mn, sizeof(int64_t) * (size_t)rank);
    memcpy(e->opt, opt, sizeof(int64_t) * (size_t)rank);
    memcpy(e->max, mx, sizeof(int64_t) * (size_t)rank);
    return PL_OK;
}

static void pl__progress(const pl_builder_config *cfg, const char *phase, int done, int total) {
    if (cfg->progress)
        cfg->progress(cfg->progress_user, phase, done, total);
}

/* Input shapes of the profile: min/opt/max for each graph input. */
static pl_status pl__apply_profile(pl_network *net, const pl_builder_config *cfg) {
    for (int p = 0; p < cfg->nprofiles; p++) {
        int32_t t = pl__network_find(net, cfg->profiles[p].name);
        if (t < 0 || net->tensors[t].kind != PL__TENSOR_INPUT)
            return pl__fail(PL_ERR_NOT_FOUND, "profile names '%s', which is not an input of the network",
                            cfg->profiles[p].name);
    }
    for (int i = 0; i < net->ninputs; i++) {
        pl__tensor *t = &net->tensors[net->inputs[i]];
        const pl__profile_entry *pe = pl__profile_find(cfg, t->name);
        if (pe && !pe->has_shape)
            pe = NULL;
        if (pe && pe->rank != t->rank)
            return pl__fail(PL_ERR_SHAPE, "profile for input '%s' has rank %d, the input has rank %d",
                            t->name, pe->rank, t->rank);
        for (int d = 0; d < t->rank; d++) {
            if (pe) {
                if (t->dims[d] >= 0 && (pe->min[d] != t->dims[d] || pe->max[d] != t->dims[d]))
                    return pl__fail(PL_ERR_SHAPE, "profile for input '%s': dim %d is fixed at %lld by "
                                    "the network, the profile gives %lld..%lld", t->name, d,
                                    (long long)t->dims[d], (long long)pe->min[d], (long long)pe->max[d]);
                t->min_dims[d] = pe->min[d];
                t->opt_dims[d] = pe->opt[d];
                t->max_dims[d] = pe->max[d];
            } else {
                int64_t v = t->dims[d] >= 0 ? t->dims[d] : 1; /* documented default */
                t->min_dims[d] = t->opt_dims[d] = t->max_dims[d] = v;
            }
        }
    }
    return PL_OK;
}

/* Values of shape-tensor inputs at a profile point, as buffers of the input's dtype. */
static pl_status pl__values_at(const pl_network *net, const pl_builder_config *cfg, int which,
                               void **vals) {
    for (int i = 0; i < net->ninputs; i++) {
        const pl__tensor *t = &net->tensors[net->inputs[i]];
        const pl__profile_entry *pe = cfg ? pl__profile_find(cfg, t->name) : NULL;
        const double *src;
        const int64_t *dims = which == 0 ? t->min_dims : which == 1 ? t->opt_dims : t->max_dims;
        vals[i] = NULL;
        if (!pe || !pe->vmin)
            continue;
        if (pl__numel(t->rank, dims) != pe->nvalues)
            return pl__fail(PL_ERR_SHAPE, "shape values for input '%s': %lld given, its shape holds %lld",
                            t->name, (long long)pe->nvalues, (long long)pl__numel(t->rank, dims));
        src = which == 0 ? pe->vmin : which == 1 ? pe->vopt : pe->vmax;
        vals[i] = malloc(sizeof(double) * (size_t)(pe->nvalues + 1));
        if (!vals[i])
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        for (int64_t k = 0; k < pe->nvalues; k++)
            pl__set_f64(vals[i], t->dtype, k, src[k]);
    }
    return PL_OK;
}

static pl_status pl__run_at(const pl_network *net, const pl_builder_config *cfg, int which, bool fold,
                            const bool *static_dims, pl__shape_pass *sp) {
    const int64_t *dims[1024];
    void *vals[1024];
    pl_status s;
    if (net->ninputs > 1024)
        return pl__fail(PL_ERR_UNSUPPORTED, "more than 1024 graph inputs");
    for (int i = 0; i < net->ninputs; i++) {
        const pl__tensor *t = &net->tensors[net->inputs[i]];
        dims[i] = which == 0 ? t->min_dims : which == 1 ? t->opt_dims : t->max_dims;
    }
    s = pl__values_at(net, cfg, which, vals);
    if (!s)
        s = pl__shape_pass_run(net, dims, fold, PL__FOLD_LIMIT, static_dims, (const void *const *)vals, sp);
    for (int i = 0; i < net->ninputs; i++)
        free(vals[i]);
    return s;
}

/* Shape ranges of every tensor over the profile. */
static pl_status pl__fill_ranges(pl_network *net, const pl_builder_config *cfg) {
    pl__shape_pass sp[3];
    pl_status s;
    for (int w = 0; w < 3; w++) {
        if ((s = pl__run_at(net, cfg, w, false, NULL, &sp[w]))) {
            for (int j = 0; j < w; j++)
                pl__shape_pass_free(&sp[j]);
            return pl__fail_prefix(s, "shape inference at the profile's %s shapes",
                                   w == 0 ? "min" : w == 1 ? "opt" : "max");
        }
    }
    for (int t = 0; t < net->ntensors; t++) {
        pl__tensor *tt = &net->tensors[t];
        if (tt->kind == PL__TENSOR_INPUT)
            continue;
        if (tt->kind == PL__TENSOR_CONST) {
            memcpy(tt->min_dims, tt->dims, sizeof(tt->dims));
            memcpy(tt->opt_dims, tt->dims, sizeof(tt->dims));
            memcpy(tt->max_dims, tt->dims, sizeof(tt->dims));
            continue;
        }
        if (tt->producer < 0)
            continue;
        tt->dtype = sp[1].v[t].dtype;
        tt->rank = sp[1].v[t].rank;
        for (int d = 0; d < tt->rank; d++) {
            int64_t a = sp[0].v[t].dims[d], b = sp[1].v[t].dims[d], c = sp[2].v[t].dims[d];
            int64_t lo = a < b ? (a < c ? a : c) : (b < c ? b : c);
            int64_t hi = a > b ? (a > c ? a : c) : (b > c ? b : c);
            tt->min_dims[d] = lo;
            tt->opt_dims[d] = b;
            tt->max_dims[d] = hi;
            tt->dims[d] = lo == hi ? b : -1;
        }
    }
    /* data dependence flows downstream */
    for (int li = 0; li < net->nlayers; li++) {
        const pl__layer *l = &net->layers[li];
        bool dd = !l->dead && pl__layer_data_dependent(l);
        for (int k = 0; k < l->nin && !dd; k++)
            dd = l->in[k] >= 0 && net->tensors[l->in[k]].data_dependent;
        for (int k = 0; k < l->nout; k++)
            net->tensors[l->out[k]].data_dependent = dd;
    }
    for (int w = 0; w < 3; w++)
        pl__shape_pass_free(&sp[w]);
    return PL_OK;
}

/* Plugins accept declared dtype combinations: cast inputs to the cheapest accepted one. */
static pl_status pl__negotiate_plugin_types(pl_network *net, const pl_builder_config *cfg, bool *changed) {
    pl_dtype have[64], want[64];
    pl_status s;
    *changed = false;
    for (int li = 0; li < net->nlayers; li++) {
        pl__layer *l = &net->layers[li];
        if (l->dead || l->def || l->nin > 64)
            continue;
        for (int k = 0; k < l->nin; k++)
            have[k] = l->in[k] >= 0 ? net->tensors[l->in[k]].dtype : PL_DTYPE_INVALID;
        if ((s = pl__plugin_pick_types(l, have, cfg->fp16 && cfg->device != PL_DEVICE_CPU, want)))
            return s;
        for (int k = 0; k < l->nin; k++) {
            if (want[k] == have[k] || have[k] == PL_DTYPE_INVALID)
                continue;
            if ((s = pl__network_insert_cast(net, li, k, want[k])))
                return s;
            li++; /* the layer moved one place down */
            l = &net->layers[li];
            *changed = true;
        }
    }
    return PL_OK;
}

static pl_status pl__fold_and_prune(pl_network *net, const pl_builder_config *cfg) {
    pl__shape_pass mn, mx, opt;
    bool *stat = NULL;
    pl_status s;
    if ((s = pl__run_at(net, cfg, 0, false, NULL, &mn)))
        return pl__fail_prefix(s, "shape inference at the profile's min shapes");
    if ((s = pl__run_at(net, cfg, 2, false, NULL, &mx))) {
        pl__shape_pass_free(&mn);
        return pl__fail_prefix(s, "shape inference at the profile's max shapes");
    }
    stat = calloc((size_t)net->ntensors + 1, 1);
    if (!stat) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int t = 0; t < net->ntensors; t++)
        stat[t] = mn.v[t].rank == mx.v[t].rank &&
                  memcmp(mn.v[t].dims, mx.v[t].dims, sizeof(int64_t) * (size_t)(mn.v[t].rank > 0 ? mn.v[t].rank : 0)) == 0;
    if ((s = pl__run_at(net, cfg, 1, true, stat, &opt)))
        goto done;
    s = pl__pass_fold_constants(net, &opt);
    pl__shape_pass_free(&opt);
    if (!s)
        s = pl__pass_dead_code(net);
    if (!s)
        s = pl__network_compact(net);
done:
    free(stat);
    pl__shape_pass_free(&mn);
    pl__shape_pass_free(&mx);
    return s;
}

/* ---- tactic timing and the timing cache ---- */

typedef struct pl__tc_entry {
    uint64_t key;
    int tactic;
    double ms;
} pl__tc_entry;

typedef struct pl__tuner {
    const pl_builder_config *cfg;
    const pl__backend *backend;
    pl__tc_entry *cache;
    int ncache, cap;
    bool dirty;
    int done, total;
    int hits, timed;
} pl__tuner;

static void pl__tc_load(pl__tuner *tu) {
    FILE *f;
    char line[256];
    if (!tu->cfg->timing_cache || !(f = fopen(tu->cfg->timing_cache, "r")))
        return;
    while (fgets(line, sizeof(line), f)) {
        unsigned long long k;
        int tac;
        double ms;
        if (sscanf(line, "%llx %d %lf", &k, &tac, &ms) != 3 || tac < 0 || tac > 1000)
            continue; /* a damaged cache line costs a re-timing, nothing more */
        if (!pl__grow((void **)&tu->cache, &tu->cap, tu->ncache + 1, sizeof(*tu->cache)))
            break;
        tu->cache[tu->ncache].key = k;
        tu->cache[tu->ncache].tactic = tac;
        tu->cache[tu->ncache].ms = ms;
        tu->ncache++;
    }
    fclose(f);
}

static pl_status pl__tc_save(pl__tuner *tu) {
    FILE *f;
    if (!tu->cfg->timing_cache || !tu->dirty)
        return PL_OK;
    if (!(f = fopen(tu->cfg->timing_cache, "w")))
        return pl__fail(PL_ERR_IO, "%s: cannot write the timing cache", tu->cfg->timing_cache);
    fprintf(f, "# plinth timing cache: key tactic ms\n");
    for (int i = 0; i < tu->ncache; i++)
        fprintf(f, "%016llx %d %.6f\n", (unsigned long long)tu->cache[i].key, tu->cache[i].tactic,
                tu->cache[i].ms);
    fclose(f);
    return PL_OK;
}

static uint64_t pl__layer_key(const pl__tuner *tu, const pl__layer *l, const pl__kernel_args *a,
                              const pl__kernel_def *k) {
    XXH64_state_t *st = XXH64_createState();
    uint64_t h;
    if (!st)
        return 0;
    XXH64_reset(st, 0x706c696e7468ull);
    XXH64_update(st, tu->backend->name, strlen(tu->backend->name) + 1);
    XXH64_update(st, l->op, strlen(l->op) + 1);
    if (l->plugin_name) {
        XXH64_update(st, l->plugin_ns, strlen(l->plugin_ns) + 1);
        XXH64_update(st, l->plugin_name, strlen(l->plugin_name) + 1);
        XXH64_update(st, l->plugin_version, strlen(l->plugin_version) + 1);
    }
    for (int i = 0; i < l->attrs.n; i++) {
        const pl_attr *x = &l->attrs.v[i];
        XXH64_update(st, x->name, strlen(x->name) + 1);
        XXH64_update(st, &x->type, sizeof(x->type));
        XXH64_update(st, &x->i, sizeof(x->i));
        XXH64_update(st, &x->f, sizeof(x->f));
        if (x->s)
            XXH64_update(st, x->s, strlen(x->s));
        if (x->ints)
            XXH64_update(st, x->ints, sizeof(int64_t) * (size_t)x->count);
        if (x->floats)
            XXH64_update(st, x->floats, sizeof(float) * (size_t)x->count);
        if (x->bytes)
            XXH64_update(st, x->bytes, (size_t)x->count);
    }
    for (int i = 0; i < a->nin; i++) {
        XXH64_update(st, &a->in[i].dtype, sizeof(a->in[i].dtype));
        XXH64_update(st, &a->in[i].rank, sizeof(a->in[i].rank));
        XXH64_update(st, a->in[i].dims, sizeof(int64_t) * (size_t)(a->in[i].rank > 0 ? a->in[i].rank : 0));
    }
    for (int t = 0; t < k->ntactics; t++)
        if (k->tactic_names && k->tactic_names[t])
            XXH64_update(st, k->tactic_names[t], strlen(k->tactic_names[t]) + 1);
    h = XXH64_digest(st);
    XXH64_freeState(st);
    return h;
}

static int pl__choose(void *user, const pl__layer *l, const pl__kernel_def *k,
                      const pl__kernel_args *a, double (*time_tactic)(void *ctx, int tactic),
                      void *time_ctx) {
    pl__tuner *tu = user;
    uint64_t key = pl__layer_key(tu, l, a, k);
    int best = 0;
    double best_ms = 1e30;
    pl__progress(tu->cfg, "timing tactics", ++tu->done, tu->total);
    for (int i = 0; i < tu->ncache; i++)
        if (tu->cache[i].key == key && tu->cache[i].tactic < k->ntactics) {
            tu->hits++;
            return tu->cache[i].tactic;
        }
    /* Five rounds, each timing every tactic once; a tactic's time is its best round. Rounds
     * rather than five runs per tactic in a row: the GPU's clock moves while the builder times
     * (short bursts between host waits), and timing all tactics of a layer within each round
     * exposes them to the same clocks (timed in a row, one tactic met a slow clock, another a
     * fast one, and identical builds of MobileNetV3 fp16 ran 0.40 to 0.76 ms). */
    {
        double ms[64];
        int n = k->ntactics < 64 ? k->ntactics : 64;
        for (int t = 0; t < n; t++)
            ms[t] = 1e30;
        for (int round = 0; round < 5; round++)
            for (int t = 0; t < n; t++) {
                double m;
                if (round > 0 && ms[t] >= 1e30)
                    continue; /* failed in the first round: never chosen */
                m = time_tactic(time_ctx, t);
                if (m < ms[t])
                    ms[t] = m;
            }
        for (int t = 0; t < n; t++) {
            pl__log(PL_LOG_VERBOSE, "layer '%s': tactic %s: %.4f ms", pl__layer_label(l),
                    k->tactic_names && k->tactic_names[t] ? k->tactic_names[t] : "?", ms[t]);
            if (ms[t] < best_ms) {
                best_ms = ms[t];
                best = t;
            }
        }
    }
    tu->timed++;
    if (pl__grow((void **)&tu->cache, &tu->cap, tu->ncache + 1, sizeof(*tu->cache))) {
        tu->cache[tu->ncache].key = key;
        tu->cache[tu->ncache].tactic = best;
        tu->cache[tu->ncache].ms = best_ms;
        tu->ncache++;
        tu->dirty = true;
    }
    return best;
}

/* A context of e with every input at its opt shape, bound to host buffers (bufs[i], freed by
 * pl__opt_context_free) of random data in [-1, 1) (fixed seeds) or the profile's opt values. */
static pl_status pl__opt_context(pl_engine *e, const pl_builder_config *cfg, pl_context **out,
                                 void ***out_bufs) {
    pl_network *net = e->net;
    pl_context *c = NULL;
    void **bufs = calloc((size_t)e->nio + 1, sizeof(void *));
    pl_status s;
    *out = NULL;
    *out_bufs = bufs;
    if (!bufs)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    if ((s = pl_context_create(e, &c)))
        return s;
    *out = c;
    for (int i = 0; i < net->ninputs; i++) {
        const pl__tensor *t = &net->tensors[net->inputs[i]];
        int64_t n = pl__numel(t->rank, t->opt_dims);
        size_t bytes = (size_t)n * pl_dtype_size(t->dtype);
        uint64_t r = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        if (!(bufs[i] = calloc(bytes ? bytes : 1, 1)))
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        {
            const pl__profile_entry *pe = pl__profile_find(cfg, t->name);
            if (pe && pe->vopt && pe->nvalues == n)
                for (int64_t j = 0; j < n; j++)
                    pl__set_f64(bufs[i], t->dtype, j, pe->vopt[j]);
        }
        if (t->dtype == PL_FLOAT32 || t->dtype == PL_FLOAT16 || t->dtype == PL_FLOAT64)
            for (int64_t j = 0; j < n; j++) {
                r ^= r << 13, r ^= r >> 7, r ^= r << 17;
                pl__set_f64(bufs[i], t->dtype, j, (double)(r >> 11) / 9007199254740992.0 * 2 - 1);
            }
        if ((s = pl_context_set_input_shape(c, t->name, t->rank, t->opt_dims)) ||
            (s = pl_context_set_tensor(c, t->name, bufs[i], PL_MEMORY_HOST, bytes ? bytes : 1)))
            return s;
    }
    return PL_OK;
}

static void pl__opt_context_free(pl_engine *e, pl_context *c, void **bufs) {
    pl_context_free(c);
    for (int i = 0; bufs && i < e->nio; i++)
        free(bufs[i]);
    free(bufs);
}

/* Runs the engine once at the opt shapes on random data, timing every multi-tactic layer. */
static pl_status pl__tune(pl_engine *e, const pl_builder_config *cfg) {
    pl_network *net = e->net;
    pl__tuner tu = {cfg, e->backend, NULL, 0, 0, false, 0, 0, 0, 0};
    pl_context *c = NULL;
    void **bufs = NULL;
    pl_status s = PL_OK;
    for (int li = 0; li < net->nlayers; li++)
        tu.total += e->kernels[li]->ntactics > 1;
    if (tu.total == 0)
        return PL_OK;
    pl__tc_load(&tu);
    if ((s = pl__opt_context(e, cfg, &c, &bufs)))
        goto done;
    c->chooser = pl__choose;
    c->chooser_user = &tu;
    s = pl__context_execute(c);
    if (s) {
        pl__log(PL_LOG_WARNING, "tactic timing run failed (%s); keeping default tactics", pl_errmsg());
        for (int li = 0; li < net->nlayers; li++)
            net->layers[li].tactic = 0;
        s = PL_OK;
    }
    pl__log(PL_LOG_INFO, "tactics: %d layers timed, %d from the timing cache", tu.timed, tu.hits);
    if (!s)
        s = pl__tc_save(&tu);
done:
    pl__opt_context_free(e, c, bufs);
    free(tu.cache);
    return s;
}

/* Milliseconds per execution of e at the opt shapes: the best of 3 rounds of 10 executions,
 * after 3 warm-up executions (which capture the CUDA graph that later ones replay). */
static pl_status pl__time_engine(pl_engine *e, const pl_builder_config *cfg, double *ms) {
    pl_context *c = NULL;
    void **bufs = NULL;
    pl_status s = pl__opt_context(e, cfg, &c, &bufs);
    *ms = 1e30;
    for (int i = 0; i < 3 && !s; i++)
        s = pl__context_execute(c);
    for (int round = 0; round < 3 && !s; round++) {
        double t0 = e->backend->now_ms(c->bctx), t1;
        for (int i = 0; i < 10 && !s; i++)
            s = pl__context_execute(c);
        t1 = e->backend->now_ms(c->bctx);
        if (!s && (t1 - t0) / 10 < *ms)
            *ms = (t1 - t0) / 10;
    }
    pl__opt_context_free(e, c, bufs);
    return s;
}

/* Lanes ("streams" in the plan's metadata, read by pl__engine_create): independent branches on
 * extra streams pay when each leaves the GPU partly idle and cost event waits otherwise, so by
 * default the builder times the engine both ways at the opt shapes and keeps the faster (lanes
 * must win by 3%). cfg->streams == 1 turns lanes off, >= 2 forces up to that many. On success
 * *e is the engine as kept (the plan's metadata says how it was built). */
static pl_status pl__choose_lanes(pl__plan *plan, const pl_builder_config *cfg, pl_engine **e) {
    int want = cfg->streams > 0 ? cfg->streams : PL__MAX_LANES;
    char buf[16];
    pl_engine *multi = NULL;
    double ms1 = 0, ms2 = 0;
    pl_status s;
    if ((s = pl__plan_set_meta(plan, "streams", "1")))
        return s;
    if (want <= 1 || (*e)->backend->host_memory || !(*e)->backend->lanes_init)
        return PL_OK;
    snprintf(buf, sizeof(buf), "%d", want > PL__MAX_LANES ? PL__MAX_LANES : want);
    if ((s = pl__plan_set_meta(plan, "streams", buf)) ||
        (s = pl__engine_create(plan, false, &multi)))
        return s;
    if (multi->lanes.n <= 1) { /* no independent branches, or not eligible */
        pl_engine_free(multi);
        return pl__plan_set_meta(plan, "streams", "1");
    }
    if (cfg->streams <= 0) {
        pl__progress(cfg, "timing streams", 0, 1);
        if ((s = pl__time_engine(*e, cfg, &ms1)) || (s = pl__time_engine(multi, cfg, &ms2))) {
            pl__log(PL_LOG_WARNING, "timing lanes failed (%s); using one stream", pl_errmsg());
            pl__clear_error();
            ms2 = ms1 = 1;
        }
        pl__log(PL_LOG_INFO, "streams: 1 stream %.4f ms, %d lanes %.4f ms", ms1, multi->lanes.n,
                ms2);
        if (!(ms2 < 0.97 * ms1)) {
            pl_engine_free(multi);
            return pl__plan_set_meta(plan, "streams", "1");
        }
    }
    snprintf(buf, sizeof(buf), "%d", multi->lanes.n);
    if ((s = pl__plan_set_meta(plan, "streams", buf))) {
        pl_engine_free(multi);
        return s;
    }
    pl_engine_free(*e);
    *e = multi;
    return PL_OK;
}

static pl_status pl__name_kernels(pl_engine *e) {
    for (int li = 0; li < e->net->nlayers; li++) {
        pl__layer *l = &e->net->layers[li];
        const pl__kernel_def *k = e->kernels[li];
        const char *dev = pl__engine_layer_device(e, li);
        char *name;
        if (l->tactic < 0 || l->tactic >= (k->ntactics > 1 ? k->ntactics : 1))
            l->tactic = 0;
        if (k->ntactics > 1 && k->tactic_names && k->tactic_names[l->tactic])
            name = pl__sprintf("%s:%s", dev, k->tactic_names[l->tactic]);
        else
            name = pl__sprintf("%s", dev);
        if (!name)
            return pl__fail(PL_ERR_NOMEM, "out of memory");
        free(l->kernel);
        l->kernel = name;
    }
    return PL_OK;
}

static pl_status pl__set_metadata(pl__plan *p, const pl_network *net, const pl_builder_config *cfg,
                                  double build_ms) {
    char buf[512], a[160], b[160], c[160];
    pl_status s;
    if ((s = pl__plan_set_meta(p, "producer", pl_version_string())) ||
        (s = pl__plan_set_meta(p, "device", pl_device_name(cfg->device))) ||
        (s = pl__plan_set_meta(p, "precision", cfg->fp16 ? "fp16" : "fp32")))
        return s;
    for (int i = 0; i < net->ninputs; i++) {
        const pl__tensor *t = &net->tensors[net->inputs[i]];
        char key[300];
        snprintf(key, sizeof(key), "profile.%s", t->name);
        snprintf(buf, sizeof(buf), "min %s opt %s max %s", pl__dims_str(t->rank, t->min_dims, a, sizeof(a)),
                 pl__dims_str(t->rank, t->opt_dims, b, sizeof(b)), pl__dims_str(t->rank, t->max_dims, c, sizeof(c)));
        if ((s = pl__plan_set_meta(p, key, buf)))
            return s;
    }
    snprintf(buf, sizeof(buf), "%.1f", build_ms);
    return pl__plan_set_meta(p, "build_ms", buf);
}

pl_status pl_build_serialized(const pl_network *src, const pl_builder_config *cfg, void **data,
                              size_t *size) {
    const pl__backend *backend;
    pl_network *net = NULL;
    pl__plan *plan = NULL;
    pl_engine *e = NULL;
    pl_status s;
    double t0 = pl__cpu_backend.now_ms(NULL);
    if (!src || !cfg || !data || !size)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_build_serialized: NULL argument");
    backend = pl__backend_get(cfg->device);
    if (!backend || !backend->available())
        return pl__fail(PL_ERR_UNSUPPORTED, "device '%s' is not available%s", pl_device_name(cfg->device),
                        backend ? " (no usable GPU found)" : " (this plinth was built without it)");
    if (src->noutputs == 0)
        return pl__fail(PL_ERR_INVALID_ARG, "the network has no outputs (mark at least one)");
    for (int li = 0; li < src->nlayers; li++)
        if (!src->layers[li].dead && !src->layers[li].def && !src->layers[li].plugin)
            return pl__fail(PL_ERR_NOT_FOUND, "node '%s': plugin '%s' is not bound",
                            pl__layer_label(&src->layers[li]), src->layers[li].plugin_name);
    if ((s = pl__network_clone(src, &net)))
        return s;
    pl__progress(cfg, "optimizing", 0, 4);
    if ((s = pl__apply_profile(net, cfg)) || (s = pl__fold_and_prune(net, cfg)))
        goto fail;
    pl__progress(cfg, "optimizing", 1, 4);
    if ((s = pl__fill_ranges(net, cfg)) || (s = pl__pass_fuse(net)) || (s = pl__pass_dead_code(net)) ||
        (s = pl__network_compact(net)) || (s = pl__fill_ranges(net, cfg)))
        goto fail;
    {
        bool changed = false;
        if ((s = pl__negotiate_plugin_types(net, cfg, &changed)) || (changed && (s = pl__fill_ranges(net, cfg))))
            goto fail;
    }
    pl__progress(cfg, "optimizing", 2, 4);
    if (backend->optimize) {
        if ((s = backend->optimize(net, cfg->fp16)) || (s = pl__network_compact(net)) ||
            (s = pl__fill_ranges(net, cfg)))
            goto fail;
    }
    pl__progress(cfg, "optimizing", 3, 4);
    plan = calloc(1, sizeof(*plan));
    if (!plan) {
        s = pl__fail(PL_ERR_NOMEM, "out of memory");
        goto fail;
    }
    plan->net = net;
    net = NULL;
    plan->device = cfg->device;
    if ((s = pl__engine_create(plan, false, &e)))
        goto fail;
    if ((s = pl__tune(e, cfg)) || (s = pl__name_kernels(e)) || (s = pl__choose_lanes(plan, cfg, &e)))
        goto fail;
    plan->peak_activation_bytes = pl_engine_peak_activation_bytes(e);
    pl_engine_free(e);
    e = NULL;
    pl__progress(cfg, "optimizing", 4, 4);
    if ((s = pl__set_metadata(plan, plan->net, cfg, pl__cpu_backend.now_ms(NULL) - t0)))
        goto fail;
    s = pl__plan_serialize(plan, data, size);
fail:
    pl_engine_free(e);
    pl__plan_free(plan);
    pl_network_free(net);
    return s;
}
