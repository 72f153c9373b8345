/*
 * main.c - the plinth command-line tool: build, run, bench, inspect, plugin, --version.
 * The contract (ARCHITECTURE.md, docs/cli.md): exit 0 on success, 1 on a user error with one
 * line on stderr naming the file, tensor, node or plugin at fault.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int pl_cli_error(const char *fmt, ...) {
    va_list ap;
    fputs("plinth: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

int pl_cli_status(pl_status s) {
    const char *m = pl_errmsg();
    return pl_cli_error("%s", m && m[0] ? m : pl_status_text(s));
}

static double pl_cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* ---- options shared by the subcommands ---- */
#define PL_CLI_MAX 64

typedef struct pl_cli_shape {
    char name[256];
    int rank;
    int64_t min[PL_MAX_RANK], opt[PL_MAX_RANK], max[PL_MAX_RANK];
} pl_cli_shape;

typedef struct pl_cli_opts {
    const char *model, *output, *inputs_dir, *outputs_dir, *timing_cache;
    pl_device device;
    bool fp16, verbose, host_io;
    int streams; /* --streams: 0 auto (timed), 1 off, n up to n */
    int warmup, iterations;
    const char *plugins[PL_CLI_MAX];
    int nplugins;
    const char *input_files[PL_CLI_MAX];
    int ninput_files;
    pl_cli_shape shapes[PL_CLI_MAX];
    int nshapes;
} pl_cli_opts;

static int pl_cli_parse_dims(const char *s, int64_t *dims, int *rank) {
    int r = 0;
    char *end;
    if (!*s)
        return -1;
    for (;;) {
        long long v;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (end == s || errno || v < 0 || r >= PL_MAX_RANK)
            return -1;
        dims[r++] = v;
        if (*end == 'x' || *end == 'X' || *end == ',') {
            s = end + 1;
            continue;
        }
        if (*end)
            return -1;
        break;
    }
    *rank = r;
    return 0;
}

/* NAME:MIN[/OPT/MAX], dims written 1x3x224x224 */
static int pl_cli_parse_shape(const char *arg, pl_cli_shape *out) {
    const char *colon = strrchr(arg, ':');
    char buf[512], *parts[3];
    int n = 0, r0 = -1;
    if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(out->name) || strlen(colon + 1) >= sizeof(buf))
        return pl_cli_error("--shapes '%s': expected NAME:MIN[/OPT/MAX] with dims like 1x3x224x224", arg);
    memcpy(out->name, arg, (size_t)(colon - arg));
    out->name[colon - arg] = '\0';
    strcpy(buf, colon + 1);
    for (char *tok = strtok(buf, "/"); tok && n < 3; tok = strtok(NULL, "/"))
        parts[n++] = tok;
    if (n != 1 && n != 3)
        return pl_cli_error("--shapes '%s': give one shape or three (MIN/OPT/MAX)", arg);
    for (int i = 0; i < 3; i++) {
        int64_t *d = i == 0 ? out->min : i == 1 ? out->opt : out->max;
        int r;
        if (pl_cli_parse_dims(parts[n == 1 ? 0 : i], d, &r) != 0)
            return pl_cli_error("--shapes '%s': '%s' is not a shape like 1x3x224x224", arg, parts[n == 1 ? 0 : i]);
        if (r0 >= 0 && r != r0)
            return pl_cli_error("--shapes '%s': MIN, OPT and MAX have different ranks", arg);
        r0 = r;
    }
    out->rank = r0;
    return 0;
}

static int pl_cli_parse(int argc, char **argv, pl_cli_opts *o) {
    memset(o, 0, sizeof(*o));
    o->warmup = 10;
    o->iterations = 100;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
#define PL_NEED_ARG                                                                                \
    do {                                                                                           \
        if (i + 1 >= argc)                                                                         \
            return pl_cli_error("%s needs a value", a);                                            \
    } while (0)
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            PL_NEED_ARG;
            o->output = argv[++i];
        } else if (strcmp(a, "--device") == 0) {
            PL_NEED_ARG;
            i++;
            if (strcmp(argv[i], "cpu") == 0)
                o->device = PL_DEVICE_CPU;
            else if (strcmp(argv[i], "cuda") == 0 || strcmp(argv[i], "gpu") == 0)
                o->device = PL_DEVICE_CUDA;
            else
                return pl_cli_error("--device '%s': expected cpu or cuda", argv[i]);
        } else if (strcmp(a, "--fp16") == 0) {
            o->fp16 = true;
        } else if (strcmp(a, "--host-io") == 0) {
            o->host_io = true;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            o->verbose = true;
        } else if (strcmp(a, "--shapes") == 0) {
            PL_NEED_ARG;
            while (i + 1 < argc && argv[i + 1][0] != '-') {
                if (o->nshapes >= PL_CLI_MAX)
                    return pl_cli_error("too many --shapes");
                if (pl_cli_parse_shape(argv[++i], &o->shapes[o->nshapes++]))
                    return 1;
            }
        } else if (strcmp(a, "--plugins") == 0) {
            PL_NEED_ARG;
            while (i + 1 < argc && argv[i + 1][0] != '-') {
                if (o->nplugins >= PL_CLI_MAX)
                    return pl_cli_error("too many --plugins");
                o->plugins[o->nplugins++] = argv[++i];
            }
        } else if (strcmp(a, "--streams") == 0) {
            char *end;
            PL_NEED_ARG;
            i++;
            if (strcmp(argv[i], "auto") == 0) {
                o->streams = 0;
            } else {
                long v = strtol(argv[i], &end, 10);
                if (*end || v < 1 || v > 64)
                    return pl_cli_error("--streams '%s': expected auto or a count from 1", argv[i]);
                o->streams = (int)v;
            }
        } else if (strcmp(a, "--timing-cache") == 0) {
            PL_NEED_ARG;
            o->timing_cache = argv[++i];
        } else if (strcmp(a, "--inputs") == 0) {
            PL_NEED_ARG;
            o->inputs_dir = argv[++i];
        } else if (strcmp(a, "--outputs") == 0) {
            PL_NEED_ARG;
            o->outputs_dir = argv[++i];
        } else if (strcmp(a, "--input") == 0) {
            PL_NEED_ARG;
            if (o->ninput_files >= PL_CLI_MAX)
                return pl_cli_error("too many --input");
            o->input_files[o->ninput_files++] = argv[++i];
        } else if (strcmp(a, "--warmup") == 0 || strcmp(a, "--iterations") == 0) {
            char *end;
            long v;
            PL_NEED_ARG;
            v = strtol(argv[++i], &end, 10);
            if (*end || v < 0 || v > 1000000)
                return pl_cli_error("%s '%s': expected a count", a, argv[i]);
            if (a[2] == 'w')
                o->warmup = (int)v;
            else
                o->iterations = v ? (int)v : 1;
        } else if (a[0] == '-') {
            return pl_cli_error("unknown option '%s' (see plinth --help)", a);
        } else if (!o->model) {
            o->model = a;
        } else {
            return pl_cli_error("unexpected argument '%s'", a);
        }
#undef PL_NEED_ARG
    }
    return 0;
}

static int pl_cli_load_plugins(const pl_cli_opts *o) {
    for (int i = 0; i < o->nplugins; i++) {
        pl_status s = pl_plugins_load(o->plugins[i]);
        if (s)
            return pl_cli_status(s);
    }
    return 0;
}

static bool pl_cli_ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void pl_cli_log(void *user, pl_log_severity sev, const char *msg) {
    static const char *names[] = {"error", "warning", "info", "verbose"};
    (void)user;
    fprintf(stderr, "plinth %s: %s\n", names[sev & 3], msg);
}

static void pl_cli_progress(void *user, const char *phase, int done, int total) {
    int width = 30, filled = total > 0 ? done * width / total : width;
    (void)user;
    fprintf(stderr, "\r%-16s [", phase);
    for (int i = 0; i < width; i++)
        fputc(i < filled ? '#' : '.', stderr);
    fprintf(stderr, "] %d/%d", done, total);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Builds MODEL.onnx into a serialized engine. */
static int pl_cli_build_bytes(const pl_cli_opts *o, void **data, size_t *size) {
    pl_network *net = NULL;
    pl_builder_config *cfg = NULL;
    pl_status s;
    int rc = 0;
    if ((s = pl_onnx_import_file(o->model, &net)))
        return pl_cli_status(s);
    if ((s = pl_builder_config_create(&cfg))) {
        rc = pl_cli_status(s);
        goto done;
    }
    pl_builder_config_set_device(cfg, o->device);
    pl_builder_config_set_fp16(cfg, o->fp16);
    pl_builder_config_set_streams(cfg, o->streams);
    if (o->timing_cache && (s = pl_builder_config_set_timing_cache(cfg, o->timing_cache))) {
        rc = pl_cli_status(s);
        goto done;
    }
    if (isatty(2))
        pl_builder_config_set_progress(cfg, pl_cli_progress, NULL);
    for (int i = 0; i < o->nshapes; i++) {
        const pl_cli_shape *sh = &o->shapes[i];
        if ((s = pl_builder_config_set_shape(cfg, sh->name, sh->rank, sh->min, sh->opt, sh->max))) {
            rc = pl_cli_status(s);
            goto done;
        }
    }
    if ((s = pl_build_serialized(net, cfg, data, size)))
        rc = pl_cli_error("%s: %s", o->model, pl_errmsg());
done:
    pl_builder_config_free(cfg);
    pl_network_free(net);
    return rc;
}

static int pl_cli_open_engine(const pl_cli_opts *o, pl_engine **e) {
    pl_status s;
    if (!o->model)
        return pl_cli_error("no engine or model given");
    if (pl_cli_ends_with(o->model, ".onnx")) {
        void *data = NULL;
        size_t size = 0;
        int rc = pl_cli_build_bytes(o, &data, &size);
        if (rc)
            return rc;
        s = pl_engine_load(data, size, e);
        pl_free(data);
    } else {
        s = pl_engine_load_file(o->model, e);
    }
    return s ? pl_cli_status(s) : 0;
}

static int pl_cmd_build(int argc, char **argv) {
    pl_cli_opts o;
    void *data = NULL;
    size_t size = 0;
    FILE *f;
    double t0;
    int rc;
    if ((rc = pl_cli_parse(argc, argv, &o)))
        return rc;
    if (o.verbose)
        pl_set_logger(pl_cli_log, NULL, PL_LOG_VERBOSE);
    if (!o.model)
        return pl_cli_error("build: no model given (plinth build MODEL.onnx -o ENGINE)");
    if (!o.output)
        return pl_cli_error("build: no output given (-o ENGINE)");
    if ((rc = pl_cli_load_plugins(&o)))
        return rc;
    t0 = pl_cli_now_ms();
    if ((rc = pl_cli_build_bytes(&o, &data, &size)))
        return rc;
    f = fopen(o.output, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        pl_free(data);
        return pl_cli_error("%s: cannot write the engine: %s", o.output, strerror(errno));
    }
    pl_free(data);
    printf("built %s -> %s (%zu bytes, device %s, %.0f ms)\n", o.model, o.output, size,
           pl_device_name(o.device), pl_cli_now_ms() - t0);
    return 0;
}

/* ---- I/O for run and bench ---- */

#define PL_CLI_MAX_IO 4096

typedef struct pl_cli_io {
    int n;
    pl_io_info info[PL_CLI_MAX_IO];
    pl_host_tensor t[PL_CLI_MAX_IO];
} pl_cli_io;

static uint64_t pl_cli_rng = 0x2545F4914F6CDD1Dull;
static double pl_cli_rand(void) {
    pl_cli_rng ^= pl_cli_rng << 13;
    pl_cli_rng ^= pl_cli_rng >> 7;
    pl_cli_rng ^= pl_cli_rng << 17;
    return (double)(pl_cli_rng >> 11) / 9007199254740992.0;
}

static void pl_cli_io_free(pl_cli_io *io) {
    if (!io)
        return;
    for (int i = 0; i < PL_CLI_MAX_IO; i++)
        pl_host_tensor_release(&io->t[i]);
    free(io);
}

/* Fills the inputs: from --input NAME=FILE, from DIR/input_K.pb, or random (fixed seed). */
static int pl_cli_prepare_inputs(const pl_cli_opts *o, pl_engine *e, pl_context *ctx, pl_cli_io *io) {
    int nio = pl_engine_num_io(e), k = 0;
    pl_status s;
    if (nio > PL_CLI_MAX_IO)
        return pl_cli_error("the engine has more than %d inputs and outputs", PL_CLI_MAX_IO);
    io->n = nio;
    for (int i = 0; i < nio; i++) {
        pl_io_info *in = &io->info[i];
        pl_host_tensor *t = &io->t[i];
        const char *file = NULL;
        char path[4096];
        if ((s = pl_engine_io(e, i, in)))
            return pl_cli_status(s);
        if (!in->is_input)
            continue;
        for (int j = 0; j < o->ninput_files; j++) {
            const char *eq = strchr(o->input_files[j], '=');
            if (eq && strlen(in->name) == (size_t)(eq - o->input_files[j]) &&
                strncmp(o->input_files[j], in->name, (size_t)(eq - o->input_files[j])) == 0)
                file = eq + 1;
        }
        if (!file && o->inputs_dir) {
            snprintf(path, sizeof(path), "%s/input_%d.pb", o->inputs_dir, k);
            file = path;
        }
        k++;
        if (file) {
            if ((s = pl_tensor_file_read(file, t)))
                return pl_cli_status(s);
            if (t->dtype != in->dtype)
                return pl_cli_error("%s: tensor has dtype %s, input '%s' expects %s", file,
                                    pl_dtype_name(t->dtype), in->name, pl_dtype_name(in->dtype));
        } else {
            /* random data at the profile's opt (static dims) or the min for dynamic ones */
            size_t n = 1;
            t->dtype = in->dtype;
            t->rank = in->rank;
            for (int d = 0; d < in->rank; d++) {
                t->dims[d] = in->dims[d] >= 0 ? in->dims[d] : in->max_dims[d];
                n *= (size_t)t->dims[d];
            }
            t->nbytes = n * pl_dtype_size(in->dtype);
            t->data = calloc(t->nbytes ? t->nbytes : 1, 1);
            if (!t->data)
                return pl_cli_error("out of memory");
            for (size_t j = 0; j < n; j++) {
                double v = pl_cli_rand();
                if (in->dtype == PL_FLOAT32)
                    ((float *)t->data)[j] = (float)(v * 2 - 1);
                else if (in->dtype == PL_INT64)
                    ((int64_t *)t->data)[j] = (int64_t)(v * 8);
                else if (in->dtype == PL_INT32)
                    ((int32_t *)t->data)[j] = (int32_t)(v * 8);
            }
        }
        if ((s = pl_context_set_input_shape(ctx, in->name, t->rank, t->dims)) ||
            (s = pl_context_set_tensor(ctx, in->name, t->data, PL_MEMORY_HOST, t->nbytes)))
            return pl_cli_status(s);
    }
    for (int i = 0; i < nio; i++) {
        pl_io_info *in = &io->info[i];
        pl_host_tensor *t = &io->t[i];
        size_t n;
        if (in->is_input)
            continue;
        if ((s = pl_context_get_shape(ctx, in->name, &t->rank, t->dims)))
            return pl_cli_status(s);
        n = 1;
        for (int d = 0; d < t->rank; d++)
            n *= (size_t)t->dims[d];
        t->dtype = in->dtype;
        t->nbytes = n * pl_dtype_size(in->dtype);
        t->data = calloc(t->nbytes ? t->nbytes : 1, 1);
        if (!t->data)
            return pl_cli_error("out of memory");
        if ((s = pl_context_set_tensor(ctx, in->name, t->data, PL_MEMORY_HOST, t->nbytes)))
            return pl_cli_status(s);
    }
    return 0;
}

static void pl_cli_print_tensor(const char *name, const pl_host_tensor *t) {
    char dims[160];
    size_t n = t->nbytes / (pl_dtype_size(t->dtype) ? pl_dtype_size(t->dtype) : 1);
    int at = 0;
    dims[0] = '\0';
    for (int d = 0; d < t->rank; d++)
        at += snprintf(dims + at, sizeof(dims) - (size_t)at, d ? "x%lld" : "%lld", (long long)t->dims[d]);
    printf("  %s: %s [%s]", name, pl_dtype_name(t->dtype), dims);
    for (size_t i = 0; i < n && i < 6; i++) {
        if (t->dtype == PL_FLOAT32)
            printf(" %.5g", (double)((float *)t->data)[i]);
        else if (t->dtype == PL_INT64)
            printf(" %lld", (long long)((int64_t *)t->data)[i]);
        else if (t->dtype == PL_INT32)
            printf(" %d", ((int32_t *)t->data)[i]);
        else if (t->dtype == PL_BOOL || t->dtype == PL_UINT8)
            printf(" %u", ((uint8_t *)t->data)[i]);
    }
    if (n > 6)
        printf(" ...");
    if (t->dtype == PL_FLOAT32 && n) {
        double sum = 0;
        for (size_t i = 0; i < n; i++)
            sum += ((float *)t->data)[i];
        printf("  (mean %.6g)", sum / (double)n);
    }
    printf("\n");
}

static int pl_cmd_run(int argc, char **argv) {
    pl_cli_opts o;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    pl_cli_io *io = calloc(1, sizeof(*io));
    pl_status s;
    int rc;
    double t0, t1;
    if (!io)
        return pl_cli_error("out of memory");
    if ((rc = pl_cli_parse(argc, argv, &o)))
        goto done;
    if (o.verbose)
        pl_set_logger(pl_cli_log, NULL, PL_LOG_VERBOSE);
    if ((rc = pl_cli_load_plugins(&o)) || (rc = pl_cli_open_engine(&o, &e)))
        goto done;
    if ((s = pl_context_create(e, &ctx))) {
        rc = pl_cli_status(s);
        goto done;
    }
    if ((rc = pl_cli_prepare_inputs(&o, e, ctx, io)))
        goto done;
    t0 = pl_cli_now_ms();
    if ((s = pl_context_execute(ctx))) {
        rc = pl_cli_status(s);
        goto done;
    }
    t1 = pl_cli_now_ms();
    if (o.outputs_dir)
        mkdir(o.outputs_dir, 0755);
    printf("%s on %s: %.3f ms\n", o.model, pl_device_name(pl_engine_device(e)), t1 - t0);
    for (int i = 0, k = 0; i < io->n; i++) {
        pl_host_tensor *t = &io->t[i];
        if (io->info[i].is_input)
            continue;
        if ((s = pl_context_get_shape(ctx, io->info[i].name, &t->rank, t->dims))) {
            rc = pl_cli_status(s);
            goto done;
        }
        t->nbytes = (size_t)1 * pl_dtype_size(t->dtype);
        for (int d = 0; d < t->rank; d++)
            t->nbytes *= (size_t)t->dims[d];
        pl_cli_print_tensor(io->info[i].name, t);
        if (o.outputs_dir) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/output_%d.pb", o.outputs_dir, k);
            t->name = strdup(io->info[i].name);
            if ((s = pl_tensor_file_write(path, t))) {
                rc = pl_cli_status(s);
                goto done;
            }
        }
        k++;
    }
done:
    pl_cli_io_free(io);
    pl_context_free(ctx);
    pl_engine_free(e);
    return rc;
}

static int pl_cli_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int pl_cmd_bench(int argc, char **argv) {
    pl_cli_opts o;
    pl_engine *e = NULL;
    pl_context *ctx = NULL;
    pl_cli_io *io = calloc(1, sizeof(*io));
    pl_status s;
    double *ms = NULL, total = 0;
    int rc, batch = 1;
    if (!io)
        return pl_cli_error("out of memory");
    if ((rc = pl_cli_parse(argc, argv, &o)))
        goto done;
    if (o.verbose)
        pl_set_logger(pl_cli_log, NULL, PL_LOG_VERBOSE);
    if ((rc = pl_cli_load_plugins(&o)) || (rc = pl_cli_open_engine(&o, &e)))
        goto done;
    if ((s = pl_context_create(e, &ctx))) {
        rc = pl_cli_status(s);
        goto done;
    }
    if ((rc = pl_cli_prepare_inputs(&o, e, ctx, io)))
        goto done;
    for (int i = 0; i < io->n; i++)
        if (io->info[i].is_input && io->t[i].rank > 0) {
            batch = (int)io->t[i].dims[0];
            break;
        }
    /* By default I/O stays in the engine's device memory, as a deployed pipeline keeps it (and
     * as PyTorch timings are taken); --host-io times the host copies too. */
    if (!o.host_io) {
        for (int i = 0; i < io->n; i++) {
            if ((s = pl_context_alloc_tensor(ctx, io->info[i].name, NULL)) ||
                (io->info[i].is_input &&
                 (s = pl_context_write_tensor(ctx, io->info[i].name, io->t[i].data, io->t[i].nbytes)))) {
                rc = pl_cli_status(s);
                goto done;
            }
        }
    }
    for (int i = 0; i < o.warmup; i++)
        if ((s = pl_context_execute(ctx))) {
            rc = pl_cli_status(s);
            goto done;
        }
    ms = malloc(sizeof(double) * (size_t)o.iterations);
    if (!ms) {
        rc = pl_cli_error("out of memory");
        goto done;
    }
    for (int i = 0; i < o.iterations; i++) {
        double t0 = pl_cli_now_ms();
        if ((s = pl_context_execute(ctx))) {
            rc = pl_cli_status(s);
            goto done;
        }
        ms[i] = pl_cli_now_ms() - t0;
        total += ms[i];
    }
    qsort(ms, (size_t)o.iterations, sizeof(double), pl_cli_cmp_double);
    printf("%s on %s: %d iterations after %d warm-up, I/O %s\n", o.model,
           pl_device_name(pl_engine_device(e)), o.iterations, o.warmup,
           o.host_io ? "copied from host buffers each run" : "resident in the engine's memory");
    printf("latency ms: min %.3f  median %.3f  p99 %.3f  mean %.3f\n", ms[0], ms[o.iterations / 2],
           ms[(int)ceil(0.99 * o.iterations) - 1], total / o.iterations);
    printf("throughput: %.1f inferences/s (batch %d: %.1f items/s)\n", 1e3 * o.iterations / total,
           batch, 1e3 * o.iterations * batch / total);
done:
    free(ms);
    pl_cli_io_free(io);
    pl_context_free(ctx);
    pl_engine_free(e);
    return rc;
}

static int pl_cmd_inspect(int argc, char **argv) {
    pl_cli_opts o;
    pl_engine *e = NULL;
    int rc;
    static const char *keys[] = {"producer", "device", "precision", "streams", "build_ms", NULL};
    if ((rc = pl_cli_parse(argc, argv, &o)))
        return rc;
    if ((rc = pl_cli_load_plugins(&o)) || (rc = pl_cli_open_engine(&o, &e)))
        return rc;
    printf("engine %s\n", o.model);
    for (int i = 0; keys[i]; i++)
        if (pl_engine_metadata(e, keys[i]))
            printf("  %-10s %s\n", keys[i], pl_engine_metadata(e, keys[i]));
    printf("  peak activation memory: %.2f MiB\n", (double)pl_engine_peak_activation_bytes(e) / 1048576.0);
    printf("inputs and outputs:\n");
    for (int i = 0; i < pl_engine_num_io(e); i++) {
        pl_io_info in;
        char dims[200], range[400] = "";
        int at = 0;
        if (pl_engine_io(e, i, &in))
            continue;
        for (int d = 0; d < in.rank; d++)
            at += snprintf(dims + at, sizeof(dims) - (size_t)at, d ? "x%lld" : "%lld", (long long)in.dims[d]);
        if (!in.rank)
            snprintf(dims, sizeof(dims), "scalar");
        if (in.is_input) {
            char key[300];
            const char *p;
            snprintf(key, sizeof(key), "profile.%s", in.name);
            p = pl_engine_metadata(e, key);
            if (p)
                snprintf(range, sizeof(range), "  (%s)", p);
        }
        printf("  %-6s %-24s %-8s %s%s\n", in.is_input ? "input" : "output", in.name,
               pl_dtype_name(in.dtype), dims, range);
    }
    printf("layers: %d\n", pl_engine_num_layers(e));
    for (int i = 0; i < pl_engine_num_layers(e); i++) {
        pl_layer_info li;
        if (pl_engine_layer(e, i, &li))
            continue;
        printf("  %4d %-32s %-22s %s\n", i, li.name, li.op, li.kernel);
    }
    {
        int np = pl_engine_num_plugins(e);
        if (np)
            printf("plugins: %d\n", np);
        for (int i = 0; i < np; i++) {
            const char *ns, *name, *ver, *lib;
            uint64_t hash;
            if (pl_engine_plugin(e, i, &ns, &name, &ver, &lib, &hash) == PL_OK)
                printf("  %s::%s version '%s' from %s (xxh64 %016llx)\n", ns, name, ver,
                       lib && lib[0] ? lib : "(the application)", (unsigned long long)hash);
        }
    }
    pl_engine_free(e);
    return 0;
}

static void pl_usage(void) {
    printf("usage:\n"
           "  plinth build MODEL.onnx -o ENGINE [--device cpu|cuda] [--fp16]\n"
           "               [--shapes NAME:MIN[/OPT/MAX] ...] [--plugins LIB.so ...]\n"
           "               [--timing-cache FILE] [--streams auto|N] [-v]\n"
           "  plinth run   ENGINE|MODEL.onnx [--device ...] [--inputs DIR] [--input NAME=FILE ...]\n"
           "               [--outputs DIR] [--plugins LIB.so ...]\n"
           "  plinth bench ENGINE|MODEL.onnx [--device ...] [--shapes ...] [--warmup N] [--iterations N]\n"
           "               [--host-io]\n"
           "  plinth inspect ENGINE [--plugins LIB.so ...]\n"
           "  plinth plugin new NAME [--dir DIR] | plinth plugin list [--plugins LIB.so ...]\n"
           "  plinth --version\n"
           "Shapes are written 1x3x224x224; tensors are .pb (ONNX TensorProto) or .npy files.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        pl_usage();
        return 1;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("%s\n", pl_version_string());
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        pl_usage();
        return 0;
    }
    if (strcmp(argv[1], "build") == 0)
        return pl_cmd_build(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0)
        return pl_cmd_run(argc - 2, argv + 2);
    if (strcmp(argv[1], "bench") == 0)
        return pl_cmd_bench(argc - 2, argv + 2);
    if (strcmp(argv[1], "inspect") == 0)
        return pl_cmd_inspect(argc - 2, argv + 2);
    if (strcmp(argv[1], "plugin") == 0)
        return pl__cli_plugin ? pl__cli_plugin(argc - 2, argv + 2)
                              : pl_cli_error("this plinth was built without the plugin tools");
    pl_usage();
    return pl_cli_error("unknown command '%s'", argv[1]);
}
