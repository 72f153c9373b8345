/*
 * plinth-conformance - runs ONNX backend test folders through plinth and compares the outputs.
 *
 *   plinth-conformance ROOT... [--device cpu|cuda] [--expect FILE] [--write-passes FILE]
 *                      [--filter SUBSTR] [--exclude SUBSTR]... [--import-only] [--timeout SEC]
 *                      [--no-freeze]
 *                      [--no-catch] [-v]
 *
 * Each ROOT holds test folders <test>/model.onnx + test_data_set_0/{input,output}_K.pb. A test
 * is named "<basename of ROOT>/<test>" so that one expectation file can cover several roots.
 * For each test: import, build for the device (dynamic input dims get a profile equal to the
 * test input's shape), load, execute with host buffers and compare each output.
 *
 * Inputs are matched to graph inputs by the name stored in input_K.pb, else by position; the
 * same for outputs. Shape-deciding inputs: when the builder refuses the model because a graph
 * input decides a shape by its values (the node tests feed a Reshape's shape or a ReduceSum's
 * axes as data), the test is retried with those inputs turned into constants holding the test
 * data, and its PASS line says "(value inputs frozen as constants: NAMES)". --no-freeze turns
 * the retry off.
 *
 * Result lines: "PASS|FAIL|UNSUPPORTED <name> [reason]", then
 * "conformance: N passed, N failed, N unsupported". On a device other than the CPU a PASS line
 * names the ops whose layers the engine placed on the CPU ("on the CPU: Mod, Range"), and a last
 * line tallies them over the run, so that every fallback shows. UNSUPPORTED means plinth refused the model
 * with PL_ERR_UNSUPPORTED at import or build (an op, dtype or attribute value it lacks); FAIL is
 * any other error, a wrong shape or wrong numbers.
 *
 * Tolerances (|got - want| <= atol + rtol * |want|, elementwise; NaN must match NaN):
 *   float32 / float64: atol 1e-4, rtol 1e-3. ONNX's own backend tests use rtol 1e-3 with
 *     atol 1e-7; the larger atol absorbs the different summation order of blocked GEMM and
 *     convolution kernels on values near zero.
 *   float16: atol 1e-2, rtol 1e-2 (fp16 has 11 significant bits); bfloat16: atol 2e-2,
 *     rtol 2e-2 (8 bits).
 *   integers and bool: exact.
 *
 * Exit status: 1 when a test crashed or hung, or a test named in --expect (within the roots
 * run) did not pass; 2 on a usage error; else 0.
 *
 * Tests run in this one process. A crash or a hang in one test must never happen; if one does,
 * a signal handler turns it into "FAIL <name> crashed ..." and the runner goes on with the next
 * test (state may leak; the bug is to be fixed). --no-catch leaves signals alone (debuggers,
 * sanitizers).
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/ops.h"
#include "onnx.pb-c.h"
#include "plinth/plinth.h"

#define MAX_IO 64

typedef enum { R_PASS, R_FAIL, R_UNSUPPORTED } result_kind;

typedef struct options {
    const char *roots[64];
    int nroots;
    pl_device device;
    const char *expect_path;
    const char *passes_path;
    const char *filter;
    const char *exclude[64];
    int nexclude;
    bool import_only;
    bool verbose;
    bool catch_signals;
    bool freeze;
    unsigned timeout_s;
} options;

typedef struct string_list {
    char **v;
    int n, cap;
} string_list;

static void list_add(string_list *l, const char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, sizeof(char *) * (size_t)cap);
        if (!v) {
            fprintf(stderr, "plinth-conformance: out of memory\n");
            exit(2);
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(s);
    if (!l->v[l->n]) {
        fprintf(stderr, "plinth-conformance: out of memory\n");
        exit(2);
    }
    l->n++;
}

static bool list_has(const string_list *l, const char *s) {
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

static void list_free(string_list *l) {
    for (int i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *base_name(const char *path) {
    size_t n = strlen(path);
    const char *p;
    while (n > 1 && path[n - 1] == '/')
        n--;
    p = path + n;
    while (p > path && p[-1] != '/')
        p--;
    return p;
}

/* "<root basename>/" without trailing slashes in the root path. */
static void root_label(const char *root, char *out, size_t size) {
    const char *b = base_name(root);
    size_t n = strcspn(b, "/");
    snprintf(out, size, "%.*s", (int)n, b);
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- crash isolation ---- */
static sigjmp_buf g_jump;
static volatile sig_atomic_t g_in_test;

static void on_signal(int sig) {
    if (g_in_test) {
        g_in_test = 0;
        siglongjmp(g_jump, sig);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
}

/* ---- comparison ---- */
static void tolerance(pl_dtype t, double *atol, double *rtol) {
    switch (t) {
    case PL_FLOAT32:
    case PL_FLOAT64: *atol = 1e-4; *rtol = 1e-3; break;
    case PL_FLOAT16: *atol = 1e-2; *rtol = 1e-2; break;
    case PL_BFLOAT16: *atol = 2e-2; *rtol = 2e-2; break;
    default: *atol = 0; *rtol = 0; break;
    }
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    float f;
    if (exp == 0) {
        f = ldexpf((float)man, -24);
        return sign ? -f : f;
    }
    if (exp == 31)
        bits = sign | 0x7f800000u | (man << 13);
    else
        bits = sign | ((exp + 112) << 23) | (man << 13);
    memcpy(&f, &bits, 4);
    return f;
}

static double elem_f64(const void *data, pl_dtype t, size_t i) {
    switch (t) {
    case PL_FLOAT32: return ((const float *)data)[i];
    case PL_FLOAT64: return ((const double *)data)[i];
    case PL_FLOAT16: return half_to_float(((const uint16_t *)data)[i]);
    case PL_BFLOAT16: {
        uint32_t bits = (uint32_t)((const uint16_t *)data)[i] << 16;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    default: return 0;
    }
}

static int64_t elem_i64(const void *data, pl_dtype t, size_t i) {
    switch (t) {
    case PL_UINT8: return ((const uint8_t *)data)[i];
    case PL_INT8: return ((const int8_t *)data)[i];
    case PL_INT32: return ((const int32_t *)data)[i];
    case PL_INT64: return ((const int64_t *)data)[i];
    case PL_BOOL: return ((const uint8_t *)data)[i] != 0;
    default: return 0;
    }
}

static bool is_float(pl_dtype t) {
    return t == PL_FLOAT32 || t == PL_FLOAT64 || t == PL_FLOAT16 || t == PL_BFLOAT16;
}

static char *dims_str(int rank, const int64_t *dims, char *buf, size_t size) {
    size_t n = 0;
    n += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < rank && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (n < size)
        snprintf(buf + n, size - n, "]");
    return buf;
}

/* Compares got (dtype/dims from the engine) with want; fills reason on mismatch. */
static bool compare_output(const char *name, pl_dtype dt, int rank, const int64_t *dims,
                           const void *got, const pl_host_tensor *want, char *reason,
                           size_t rsize, double *worst) {
    size_t n = 1;
    double atol, rtol;
    char a[160], b[160];
    if (dt != want->dtype) {
        snprintf(reason, rsize, "output '%s': dtype %s, expected %s", name, pl_dtype_name(dt),
                 pl_dtype_name(want->dtype));
        return false;
    }
    if (rank != want->rank || memcmp(dims, want->dims, sizeof(int64_t) * (size_t)rank) != 0) {
        snprintf(reason, rsize, "output '%s': shape %s, expected %s", name,
                 dims_str(rank, dims, a, sizeof(a)), dims_str(want->rank, want->dims, b, sizeof(b)));
        return false;
    }
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    tolerance(dt, &atol, &rtol);
    for (size_t i = 0; i < n; i++) {
        if (is_float(dt)) {
            double g = elem_f64(got, dt, i), w = elem_f64(want->data, dt, i);
            double err = fabs(g - w);
            if (isnan(w) || isnan(g)) {
                if (isnan(w) && isnan(g))
                    continue;
            } else if (isinf(w) || isinf(g)) {
                if (g == w)
                    continue;
            } else {
                if (err > *worst)
                    *worst = err;
                if (err <= atol + rtol * fabs(w))
                    continue;
            }
            snprintf(reason, rsize, "output '%s': element %zu is %.9g, expected %.9g (atol %g, "
                     "rtol %g)", name, i, g, w, atol, rtol);
            return false;
        } else {
            int64_t g = elem_i64(got, dt, i), w = elem_i64(want->data, dt, i);
            if (g != w) {
                snprintf(reason, rsize, "output '%s': element %zu is %lld, expected %lld", name, i,
                         (long long)g, (long long)w);
                return false;
            }
        }
    }
    return true;
}

/* ---- one test ---- */
typedef struct test_state {
    Onnx__ModelProto *model;
    uint8_t *model_bytes, *frozen_bytes;
    size_t model_size, frozen_size;
    pl_network *net;
    pl_builder_config *cfg;
    void *plan;
    pl_engine *engine;
    pl_context *ctx;
    pl_host_tensor in[MAX_IO], want[MAX_IO];
    const char *in_name[MAX_IO], *want_name[MAX_IO]; /* graph names they belong to */
    bool frozen[MAX_IO];
    int nin, nwant;
    void *outbuf[MAX_IO];
} test_state;

static void state_free(test_state *st) {
    for (int i = 0; i < st->nin; i++)
        pl_host_tensor_release(&st->in[i]);
    for (int i = 0; i < st->nwant; i++)
        pl_host_tensor_release(&st->want[i]);
    for (int i = 0; i < MAX_IO; i++)
        free(st->outbuf[i]);
    pl_context_free(st->ctx);
    pl_engine_free(st->engine);
    pl_free(st->plan);
    pl_builder_config_free(st->cfg);
    pl_network_free(st->net);
    if (st->model)
        onnx__model_proto__free_unpacked(st->model, NULL);
    free(st->model_bytes);
    free(st->frozen_bytes);
    memset(st, 0, sizeof(*st));
}

static result_kind fail_with(char *reason, size_t rsize, pl_status s, const char *stage) {
    snprintf(reason, rsize, "%s: %s: %s", stage, pl_status_name(s), pl_errmsg());
    return s == PL_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
}

/* Reads <dir>/<prefix>_K.pb for K = 0.. into t[]; returns the count or -1 (reason filled). */
static int read_set(const char *dir, const char *prefix, pl_host_tensor *t, char *reason,
                    size_t rsize, pl_status *err) {
    int n = 0;
    for (;;) {
        char path[4400];
        pl_status s;
        snprintf(path, sizeof(path), "%s/%s_%d.pb", dir, prefix, n);
        if (!file_exists(path))
            return n;
        if (n == MAX_IO) {
            snprintf(reason, rsize, "more than %d %s files", MAX_IO, prefix);
            *err = PL_ERR_UNSUPPORTED;
            return -1;
        }
        if ((s = pl_tensor_file_read(path, &t[n]))) {
            snprintf(reason, rsize, "reading %s_%d.pb: %s", prefix, n, pl_errmsg());
            *err = s;
            return -1;
        }
        n++;
    }
}

static bool read_bytes(const char *path, uint8_t **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    long n;
    if (!f)
        return false;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(*data = malloc((size_t)n + 1))) {
        fclose(f);
        return false;
    }
    if (n && fread(*data, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*data);
        *data = NULL;
        return false;
    }
    fclose(f);
    *size = (size_t)n;
    return true;
}

static size_t numel_of(int rank, const int64_t *dims) {
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)(dims[i] < 0 ? 0 : dims[i]);
    return n;
}

static bool is_initializer(const Onnx__GraphProto *g, const char *name) {
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name && strcmp(g->initializer[i]->name, name) == 0)
            return true;
    return false;
}

/* Matches test files to graph inputs/outputs: by the name stored in the file when it names one,
 * else by position (graph inputs that are initializers do not count). */
static void match_names(const Onnx__GraphProto *g, test_state *st) {
    const char *ins[MAX_IO], *outs[MAX_IO];
    int nins = 0, nouts = 0;
    for (size_t i = 0; i < g->n_input && nins < MAX_IO; i++)
        if (g->input[i]->name && !is_initializer(g, g->input[i]->name))
            ins[nins++] = g->input[i]->name;
    for (size_t i = 0; i < g->n_output && nouts < MAX_IO; i++)
        outs[nouts++] = g->output[i]->name;
    for (int k = 0; k < st->nin; k++) {
        st->in_name[k] = k < nins ? ins[k] : NULL;
        for (int j = 0; st->in[k].name && j < nins; j++)
            if (strcmp(ins[j], st->in[k].name) == 0)
                st->in_name[k] = ins[j];
    }
    for (int k = 0; k < st->nwant; k++) {
        st->want_name[k] = k < nouts ? outs[k] : NULL;
        for (int j = 0; st->want[k].name && j < nouts; j++)
            if (strcmp(outs[j], st->want[k].name) == 0)
                st->want_name[k] = outs[j];
    }
}

/* Graph inputs whose values (not only shapes) decide a shape: the value inputs of layers (a
 * Reshape's shape, a ReduceSum's axes) and everything they are computed from, except through
 * Shape/Size, which read only shapes. Uses the network IR (this tool links the static library). */
static int value_fed_inputs(const pl_network *net, bool *fed) {
    bool *mark = calloc((size_t)net->ntensors + 1, 1);
    int n = 0;
    if (!mark)
        return 0;
    for (int i = 0; i < net->nlayers; i++) {
        const pl__layer *l = &net->layers[i];
        uint32_t vi = pl__layer_value_inputs(l);
        for (int k = 0; k < l->nin && k < 32; k++)
            if ((vi >> k & 1) && l->in[k] >= 0)
                mark[l->in[k]] = true;
    }
    for (int i = net->nlayers - 1; i >= 0; i--) {
        const pl__layer *l = &net->layers[i];
        bool any = false;
        if (l->dead || strcmp(l->op, "Shape") == 0 || strcmp(l->op, "Size") == 0)
            continue;
        for (int k = 0; k < l->nout; k++)
            any = any || mark[l->out[k]];
        for (int k = 0; any && k < l->nin; k++)
            if (l->in[k] >= 0)
                mark[l->in[k]] = true;
    }
    for (int i = 0; i < net->ninputs; i++) {
        fed[i] = mark[net->inputs[i]];
        n += fed[i];
    }
    free(mark);
    return n;
}

/* Re-imports the model with the value-fed graph inputs turned into initializers holding the
 * test's input data. Fills frozen_names with the names frozen. */
static result_kind freeze_value_inputs(const char *dir, test_state *st, char *names,
                                       size_t nsize, char *reason, size_t rsize) {
    bool fed[MAX_IO * 4] = {false};
    Onnx__GraphProto *g = st->model->graph;
    Onnx__TensorProto **inits, *added[MAX_IO];
    size_t ninit = g->n_initializer;
    int nadded = 0;
    pl_status s;
    if (st->net->ninputs > MAX_IO * 4 || value_fed_inputs(st->net, fed) == 0)
        return R_UNSUPPORTED;
    names[0] = 0;
    for (int i = 0; i < st->net->ninputs; i++) {
        const char *nm = st->net->tensors[st->net->inputs[i]].name;
        int k;
        if (!fed[i])
            continue;
        for (k = 0; k < st->nin && !(st->in_name[k] && strcmp(st->in_name[k], nm) == 0); k++)
            ;
        if (k == st->nin)
            return R_UNSUPPORTED;
        st->frozen[k] = true;
        added[nadded] = calloc(1, sizeof(Onnx__TensorProto));
        if (!added[nadded])
            return R_FAIL;
        onnx__tensor_proto__init(added[nadded]);
        added[nadded]->name = (char *)st->in_name[k];
        added[nadded]->has_data_type = 1;
        added[nadded]->data_type = (int32_t)st->in[k].dtype;
        added[nadded]->n_dims = (size_t)st->in[k].rank;
        added[nadded]->dims = st->in[k].dims;
        added[nadded]->has_raw_data = 1;
        added[nadded]->raw_data.data = st->in[k].data;
        added[nadded]->raw_data.len = st->in[k].nbytes;
        nadded++;
        snprintf(names + strlen(names), nsize - strlen(names), "%s%s", names[0] ? ", " : "", nm);
    }
    inits = malloc(sizeof(*inits) * (ninit + (size_t)nadded + 1));
    if (!inits) {
        for (int i = 0; i < nadded; i++)
            free(added[i]);
        return R_FAIL;
    }
    if (ninit)
        memcpy(inits, g->initializer, sizeof(*inits) * ninit);
    memcpy(inits + ninit, added, sizeof(*inits) * (size_t)nadded);
    {
        Onnx__TensorProto **old = g->initializer;
        g->initializer = inits;
        g->n_initializer = ninit + (size_t)nadded;
        st->frozen_size = onnx__model_proto__get_packed_size(st->model);
        st->frozen_bytes = malloc(st->frozen_size + 1);
        if (st->frozen_bytes)
            onnx__model_proto__pack(st->model, st->frozen_bytes);
        g->initializer = old; /* the unpacked model must free only what it owns */
        g->n_initializer = ninit;
    }
    free(inits);
    for (int i = 0; i < nadded; i++)
        free(added[i]);
    if (!st->frozen_bytes)
        return R_FAIL;
    pl_network_free(st->net);
    st->net = NULL;
    if ((s = pl_onnx_import_memory(st->frozen_bytes, st->frozen_size, dir, &st->net)))
        return fail_with(reason, rsize, s, "import (value inputs frozen)");
    return R_PASS;
}

/* Element j of a host tensor as a double (numeric dtypes; float16/bfloat16 decoded). */
static double pl_test_value(const pl_host_tensor *h, int64_t j) {
    const void *d = h->data;
    switch (h->dtype) {
    case PL_FLOAT32: return ((const float *)d)[j];
    case PL_FLOAT64: return ((const double *)d)[j];
    case PL_INT64: return (double)((const int64_t *)d)[j];
    case PL_INT32: return ((const int32_t *)d)[j];
    case PL_INT8: return ((const int8_t *)d)[j];
    case PL_UINT8: return ((const uint8_t *)d)[j];
    case PL_FLOAT16: {
        uint16_t b = ((const uint16_t *)d)[j];
        int e = (b >> 10) & 31, m = b & 1023;
        double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25);
        return b & 0x8000 ? -v : v;
    }
    case PL_BFLOAT16: {
        uint32_t bits = (uint32_t)((const uint16_t *)d)[j] << 16;
        float f;
        memcpy(&f, &bits, 4);
        return f;
    }
    default: return 0;
    }
}

static result_kind build(const options *o, test_state *st, size_t *plan_size, pl_status *err) {
    pl_status s;
    pl_builder_config_free(st->cfg);
    st->cfg = NULL;
    if ((s = pl_builder_config_create(&st->cfg))) {
        *err = s;
        return R_FAIL;
    }
    pl_builder_config_set_device(st->cfg, o->device);
    /* The profile of every input is exactly the test input's shape. */
    for (int k = 0; k < st->nin; k++) {
        const pl_host_tensor *h = &st->in[k];
        if (!st->in_name[k] || st->frozen[k])
            continue;
        if ((s = pl_builder_config_set_shape(st->cfg, st->in_name[k], h->rank, h->dims, h->dims,
                                             h->dims))) {
            *err = s;
            return R_FAIL;
        }
        /* Integer inputs may be shape tensors (a Reshape's shape fed as an input): the test's
         * values are their profile (min = opt = max); the builder ignores values of inputs that
         * decide no shape. Small float inputs too (a Resize's scales). */
        if (h->dtype != PL_BOOL && pl_dtype_size(h->dtype) && h->nbytes / pl_dtype_size(h->dtype) <= 64) {
            double v[64];
            int64_t n = (int64_t)(h->nbytes / pl_dtype_size(h->dtype));
            bool finite = true;
            for (int64_t j = 0; j < n; j++) {
                v[j] = pl_test_value(h, j);
                finite &= isfinite(v[j]) != 0;
            }
            if (finite && (s = pl_builder_config_set_shape_values_f64(st->cfg, st->in_name[k], n, v, v, v))) {
                *err = s;
                return R_FAIL;
            }
        }
    }
    *err = pl_build_serialized(st->net, st->cfg, &st->plan, plan_size);
    return *err ? R_FAIL : R_PASS;
}

/* Layers of a device engine that run on the CPU (placement fell back): each op is named in the
 * test's note and tallied for the summary, so a fallback is never silent. */
static string_list g_host_ops;
static int g_host_tests;

static void note_host_layers(const pl_engine *e, char *note, size_t nsize) {
    string_list ops = {0};
    size_t used = strlen(note);
    for (int i = 0; i < pl_engine_num_layers(e); i++) {
        pl_layer_info li;
        bool dup = false;
        if (pl_engine_layer(e, i, &li) || !li.kernel || strncmp(li.kernel, "cpu", 3) ||
            strcmp(li.kernel, "cpu:shape") == 0)
            continue;
        for (int j = 0; j < ops.n && !dup; j++)
            dup = strcmp(ops.v[j], li.op) == 0;
        if (!dup)
            list_add(&ops, li.op);
    }
    if (ops.n)
        g_host_tests++;
    for (int j = 0; j < ops.n; j++) {
        int w = snprintf(note + used, nsize - used, "%s%s", used ? (j ? ", " : "; on the CPU: ")
                                                                  : "on the CPU: ", ops.v[j]);
        if (w > 0 && (size_t)w < nsize - used)
            used += (size_t)w;
        list_add(&g_host_ops, ops.v[j]);
    }
    list_free(&ops);
}

static result_kind run_test(const options *o, const char *dir, test_state *st, char *reason,
                            size_t rsize, double *worst, char *note, size_t nsize) {
    char model[4200], data[4200];
    pl_io_info io[MAX_IO];
    int nio, nins = 0, nouts = 0;
    size_t plan_size = 0;
    pl_status s;

    snprintf(model, sizeof(model), "%s/model.onnx", dir);
    snprintf(data, sizeof(data), "%s/test_data_set_0", dir);
    if ((s = pl_onnx_import_file(model, &st->net)))
        return fail_with(reason, rsize, s, "import");
    if (o->import_only)
        return R_PASS;
    if (!read_bytes(model, &st->model_bytes, &st->model_size) ||
        !(st->model = onnx__model_proto__unpack(NULL, st->model_size, st->model_bytes)) ||
        !st->model->graph) {
        snprintf(reason, rsize, "cannot re-read model.onnx");
        return R_FAIL;
    }

    st->nin = read_set(data, "input", st->in, reason, rsize, &s);
    if (st->nin < 0) {
        st->nin = 0;
        return s == PL_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
    }
    st->nwant = read_set(data, "output", st->want, reason, rsize, &s);
    if (st->nwant < 0) {
        st->nwant = 0;
        return s == PL_ERR_UNSUPPORTED ? R_UNSUPPORTED : R_FAIL;
    }
    match_names(st->model->graph, st);

    if (build(o, st, &plan_size, &s) != R_PASS) {
        result_kind r = fail_with(reason, rsize, s, st->cfg ? "build" : "builder config");
        char frozen[512];
        /* The builder needs the values of shape-deciding inputs (a Reshape's shape given as a
         * graph input); the ONNX tests feed them as data. Retry with them as constants. */
        if (r != R_UNSUPPORTED || !o->freeze)
            return r;
        if (freeze_value_inputs(dir, st, frozen, sizeof(frozen), reason, rsize) != R_PASS)
            return r;
        snprintf(note, nsize, "value inputs frozen as constants: %s", frozen);
        if (build(o, st, &plan_size, &s) != R_PASS)
            return fail_with(reason, rsize, s, "build (value inputs frozen)");
    }
    if ((s = pl_engine_load(st->plan, plan_size, &st->engine)))
        return fail_with(reason, rsize, s, "load");
    if ((s = pl_context_create(st->engine, &st->ctx)))
        return fail_with(reason, rsize, s, "context");

    nio = pl_engine_num_io(st->engine);
    if (nio > MAX_IO) {
        snprintf(reason, rsize, "%d engine inputs/outputs (runner handles %d)", nio, MAX_IO);
        return R_UNSUPPORTED;
    }
    for (int i = 0; i < nio; i++) {
        if ((s = pl_engine_io(st->engine, i, &io[i])))
            return fail_with(reason, rsize, s, "engine io");
        if (io[i].is_input)
            nins++;
        else
            nouts++;
    }
    if (nouts != st->nwant) {
        snprintf(reason, rsize, "the engine has %d outputs, the test data %d", nouts, st->nwant);
        return R_FAIL;
    }

    /* Bind inputs. */
    for (int k = 0; k < st->nin; k++) {
        pl_host_tensor *h = &st->in[k];
        if (st->frozen[k])
            continue;
        if (!st->in_name[k]) {
            snprintf(reason, rsize, "input_%d.pb matches no graph input", k);
            return R_FAIL;
        }
        if ((s = pl_context_set_input_shape(st->ctx, st->in_name[k], h->rank, h->dims)))
            return fail_with(reason, rsize, s, "set input shape");
        if ((s = pl_context_set_tensor(st->ctx, st->in_name[k], h->data, PL_MEMORY_HOST,
                                       h->nbytes)))
            return fail_with(reason, rsize, s, "bind input");
    }
    /* Bind outputs at their upper-bound size. */
    for (int k = 0; k < st->nwant; k++) {
        const pl_io_info *inf = NULL;
        int rank = 0;
        int64_t dims[PL_MAX_RANK];
        size_t bytes;
        for (int j = 0; j < nio && !inf; j++)
            if (!io[j].is_input && st->want_name[k] && strcmp(io[j].name, st->want_name[k]) == 0)
                inf = &io[j];
        if (!inf) {
            snprintf(reason, rsize, "output_%d.pb ('%s') matches no engine output", k,
                     st->want_name[k] ? st->want_name[k] : "?");
            return R_FAIL;
        }
        if ((s = pl_context_get_shape(st->ctx, inf->name, &rank, dims)))
            return fail_with(reason, rsize, s, "output shape");
        bytes = numel_of(rank, dims) * pl_dtype_size(inf->dtype);
        st->outbuf[k] = calloc(1, bytes ? bytes : 1);
        if (!st->outbuf[k]) {
            snprintf(reason, rsize, "out of memory for output '%s' (%zu bytes)", inf->name, bytes);
            return R_FAIL;
        }
        if ((s = pl_context_set_tensor(st->ctx, inf->name, st->outbuf[k], PL_MEMORY_HOST, bytes)))
            return fail_with(reason, rsize, s, "bind output");
    }
    if ((s = pl_context_execute(st->ctx)))
        return fail_with(reason, rsize, s, "execute");
    if (o->device != PL_DEVICE_CPU)
        note_host_layers(st->engine, note, nsize);

    for (int k = 0; k < st->nwant; k++) {
        const pl_io_info *inf = NULL;
        int rank = 0;
        int64_t dims[PL_MAX_RANK];
        for (int j = 0; j < nio && !inf; j++)
            if (!io[j].is_input && strcmp(io[j].name, st->want_name[k]) == 0)
                inf = &io[j];
        if ((s = pl_context_get_shape(st->ctx, inf->name, &rank, dims)))
            return fail_with(reason, rsize, s, "output shape after execute");
        if (!compare_output(inf->name, inf->dtype, rank, dims, st->outbuf[k], &st->want[k],
                            reason, rsize, worst))
            return R_FAIL;
    }
    return R_PASS;
}

/* ---- driver ---- */
/* Globals, not locals of main: siglongjmp would clobber locals kept in registers. */
static int npass, nfail, nunsup, ncrash;
static double g_worst;

static void usage(void) {
    fprintf(stderr,
            "usage: plinth-conformance ROOT... [--device cpu|cuda] [--expect FILE]\n"
            "                          [--write-passes FILE] [--filter SUBSTR] [--exclude SUBSTR]...\n"
            "                          [--import-only] [--timeout SEC] [--no-freeze] [--no-catch] [-v]\n");
}

static bool read_expect(const char *path, string_list *out) {
    FILE *f = fopen(path, "r");
    char line[1024];
    if (!f) {
        fprintf(stderr, "plinth-conformance: %s: %s\n", path, strerror(errno));
        return false;
    }
    while (fgets(line, sizeof(line), f)) {
        char *p = line, *e;
        while (*p == ' ' || *p == '\t')
            p++;
        e = p + strlen(p);
        while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            *--e = 0;
        if (*p && *p != '#')
            list_add(out, p);
    }
    fclose(f);
    return true;
}

int main(int argc, char **argv) {
    options o = {.device = PL_DEVICE_CPU, .catch_signals = true, .freeze = false, .timeout_s = 120};
    string_list expect = {0}, passes = {0}, seen = {0};
    int status = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--device") == 0 && i + 1 < argc) {
            const char *d = argv[++i];
            if (strcmp(d, "cpu") == 0) {
                o.device = PL_DEVICE_CPU;
            } else if (strcmp(d, "cuda") == 0) {
                o.device = PL_DEVICE_CUDA;
            } else {
                fprintf(stderr, "plinth-conformance: unknown device '%s'\n", d);
                return 2;
            }
        } else if (strcmp(a, "--expect") == 0 && i + 1 < argc) {
            o.expect_path = argv[++i];
        } else if (strcmp(a, "--write-passes") == 0 && i + 1 < argc) {
            o.passes_path = argv[++i];
        } else if (strcmp(a, "--filter") == 0 && i + 1 < argc) {
            o.filter = argv[++i];
        } else if (strcmp(a, "--exclude") == 0 && i + 1 < argc) {
            if (o.nexclude < 64)
                o.exclude[o.nexclude++] = argv[i + 1];
            i++;
        } else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
            o.timeout_s = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(a, "--import-only") == 0) {
            o.import_only = true;
        } else if (strcmp(a, "--no-freeze") == 0) {
            o.freeze = false;
        } else if (strcmp(a, "--freeze") == 0) {
            o.freeze = true;
        } else if (strcmp(a, "--no-catch") == 0) {
            o.catch_signals = false;
        } else if (strcmp(a, "-v") == 0) {
            o.verbose = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "plinth-conformance: unknown option '%s'\n", a);
            usage();
            return 2;
        } else if (o.nroots < (int)(sizeof(o.roots) / sizeof(o.roots[0]))) {
            o.roots[o.nroots++] = a;
        }
    }
    if (!o.nroots) {
        usage();
        return 2;
    }
    if (o.expect_path && !read_expect(o.expect_path, &expect))
        return 2;
    if (!o.import_only && !pl_device_available(o.device)) {
        printf("skipped: no %s device\n", pl_device_name(o.device));
        return 0;
    }
    pl_set_logger(NULL, NULL, o.verbose ? PL_LOG_WARNING : PL_LOG_ERROR);
    if (o.catch_signals)
        install_handlers();

    for (int r = 0; r < o.nroots; r++) {
        string_list tests = {0};
        char label[256];
        DIR *d = opendir(o.roots[r]);
        struct dirent *e;
        if (!d) {
            fprintf(stderr, "plinth-conformance: %s: %s\n", o.roots[r], strerror(errno));
            status = 1;
            continue;
        }
        while ((e = readdir(d))) {
            char model[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(model, sizeof(model), "%s/%s/model.onnx", o.roots[r], e->d_name);
            if (file_exists(model))
                list_add(&tests, e->d_name);
        }
        closedir(d);
        qsort(tests.v, (size_t)tests.n, sizeof(char *), cmp_str);
        root_label(o.roots[r], label, sizeof(label));

        for (int t = 0; t < tests.n; t++) {
            char name[600], dir[2048], reason[1200] = "", note[600] = "";
            test_state st;
            result_kind res;
            int sig;
            snprintf(name, sizeof(name), "%s/%s", label, tests.v[t]);
            if (o.filter && !strstr(name, o.filter))
                continue;
            {
                bool skip = false;
                for (int x = 0; x < o.nexclude && !skip; x++)
                    skip = strstr(name, o.exclude[x]) != NULL;
                if (skip)
                    continue;
            }
            list_add(&seen, name);
            snprintf(dir, sizeof(dir), "%s/%s", o.roots[r], tests.v[t]);
            memset(&st, 0, sizeof(st));
            fflush(stdout);
            sig = o.catch_signals ? sigsetjmp(g_jump, 1) : 0;
            if (sig == 0) {
                g_in_test = 1;
                if (o.catch_signals && o.timeout_s)
                    alarm(o.timeout_s);
                g_worst = 0;
                res = run_test(&o, dir, &st, reason, sizeof(reason), &g_worst, note,
                               sizeof(note));
                alarm(0);
                g_in_test = 0;
                state_free(&st);
            } else {
                /* state may be corrupt: leak it rather than free it */
                alarm(0);
                res = R_FAIL;
                ncrash++;
                if (sig == SIGALRM)
                    snprintf(reason, sizeof(reason), "timed out after %u s", o.timeout_s);
                else
                    snprintf(reason, sizeof(reason), "crashed with signal %d (%s) - a bug", sig,
                             strsignal(sig));
            }
            if (res == R_PASS) {
                npass++;
                list_add(&passes, name);
                if (o.verbose)
                    printf("PASS %s%s%s%s (max abs err %.3g)\n", name, note[0] ? " (" : "", note,
                           note[0] ? ")" : "", g_worst);
                else
                    printf("PASS %s%s%s%s\n", name, note[0] ? " (" : "", note, note[0] ? ")" : "");
            } else {
                if (res == R_FAIL)
                    nfail++;
                else
                    nunsup++;
                printf("%s %s %s\n", res == R_FAIL ? "FAIL" : "UNSUPPORTED", name, reason);
            }
        }
        list_free(&tests);
    }
    printf("conformance: %d passed, %d failed, %d unsupported\n", npass, nfail, nunsup);
    if (o.device != PL_DEVICE_CPU) {
        qsort(g_host_ops.v, (size_t)g_host_ops.n, sizeof(char *), cmp_str);
        printf("conformance: %d test%s ran layers on the CPU", g_host_tests,
               g_host_tests == 1 ? "" : "s");
        for (int i = 0; i < g_host_ops.n;) {
            int j = i;
            while (j < g_host_ops.n && strcmp(g_host_ops.v[j], g_host_ops.v[i]) == 0)
                j++;
            printf("%s %s x%d", i ? "," : ":", g_host_ops.v[i], j - i);
            i = j;
        }
        printf("\n");
    }
    if (ncrash) {
        printf("conformance: %d test%s crashed or hung (always an error)\n", ncrash,
               ncrash == 1 ? "" : "s");
        status = 1;
    }

    if (o.passes_path) {
        FILE *f = fopen(o.passes_path, "w");
        if (!f) {
            fprintf(stderr, "plinth-conformance: %s: %s\n", o.passes_path, strerror(errno));
            status = 1;
        } else {
            for (int i = 0; i < passes.n; i++)
                fprintf(f, "%s\n", passes.v[i]);
            fclose(f);
        }
    }
    if (expect.n) {
        int missing = 0;
        for (int i = 0; i < expect.n; i++) {
            const char *x = expect.v[i];
            bool in_roots = false;
            char label[256];
            for (int r = 0; r < o.nroots && !in_roots; r++) {
                root_label(o.roots[r], label, sizeof(label));
                in_roots = strncmp(x, label, strlen(label)) == 0 && x[strlen(label)] == '/';
            }
            if (!in_roots || (o.filter && !strstr(x, o.filter)))
                continue; /* another run covers it */
            if (!list_has(&seen, x)) {
                printf("EXPECTED-MISSING %s (no such test)\n", x);
                missing++;
            } else if (!list_has(&passes, x)) {
                printf("EXPECTED-FAILED %s\n", x);
                missing++;
            }
        }
        if (missing) {
            printf("conformance: %d expected test%s did not pass\n", missing,
                   missing == 1 ? "" : "s");
            status = 1;
        }
    }
    list_free(&expect);
    list_free(&passes);
    list_free(&seen);
    return status;
}
