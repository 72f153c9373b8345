/*
 * plinth.h - the application API of plinth, an inference optimizer and runtime.
 *
 * Flow: define a network (through this API or the ONNX importer), configure a builder, build a
 * serialized engine, load it with the runtime, create execution contexts and execute.
 *
 * Conventions
 *  - Every fallible call returns pl_status; PL_OK is 0. The detailed one-line message of the last
 *    failure in the calling thread is pl_errmsg(): it names the file, node, tensor, attribute or
 *    plugin at fault. Objects are handed back through out-parameters.
 *  - Objects with a lifetime are opaque and released with pl_<object>_free(); passing NULL to a
 *    _free function is a no-op.
 *  - Strings passed in are copied; pointers returned are borrowed from the object they came from
 *    and live as long as it does.
 *  - Thread safety: a network, builder config or context must not be used from two threads at
 *    once. An engine is immutable after load: any number of contexts of one engine may execute in
 *    parallel threads. The plugin registry is process-wide and locked.
 */
#ifndef PLINTH_H
#define PLINTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PL_BUILDING_LIBRARY) && defined(__GNUC__)
#define PL_API __attribute__((visibility("default")))
#else
#define PL_API
#endif
#if defined(__GNUC__)
#define PL_NODISCARD __attribute__((warn_unused_result))
#else
#define PL_NODISCARD
#endif

#define PL_VERSION_MAJOR 0
#define PL_VERSION_MINOR 1
#define PL_VERSION_PATCH 0
#define PL_VERSION_STRING "0.1.0"

/* ---------------------------------------------------------------------------------------------
 * Status codes. The numbers are stable: new codes are only appended.
 */
#define PL_STATUS_LIST(X)                                                                          \
    X(PL_OK, 0, "ok")                                                                              \
    X(PL_ERR_INVALID_ARG, 1, "invalid argument")                                                   \
    X(PL_ERR_NOMEM, 2, "out of memory")                                                            \
    X(PL_ERR_IO, 3, "i/o error")                                                                   \
    X(PL_ERR_FORMAT, 4, "malformed file")                                                          \
    X(PL_ERR_VERSION, 5, "unsupported version")                                                    \
    X(PL_ERR_UNSUPPORTED, 6, "unsupported")                                                        \
    X(PL_ERR_SHAPE, 7, "shape error")                                                              \
    X(PL_ERR_NOT_FOUND, 8, "not found")                                                            \
    X(PL_ERR_PLUGIN, 9, "plugin error")                                                            \
    X(PL_ERR_BACKEND, 10, "backend error")                                                         \
    X(PL_ERR_INTERNAL, 11, "internal error")

typedef enum pl_status {
#define PL__STATUS_ENUM(name, value, text) name = value,
    PL_STATUS_LIST(PL__STATUS_ENUM)
#undef PL__STATUS_ENUM
} pl_status;

/* "PL_ERR_SHAPE" etc.; a static string, never NULL. */
PL_API const char *pl_status_name(pl_status s);
/* "shape error" etc.; a static string, never NULL. */
PL_API const char *pl_status_text(pl_status s);
/* The detailed message of the last failing call in this thread ("" if none). Borrowed until the
 * next plinth call in this thread. */
PL_API const char *pl_errmsg(void);

/* ---------------------------------------------------------------------------------------------
 * Logging. One process-wide callback; NULL restores the default (stderr, WARNING and up).
 */
#ifndef PL__LOG_SEVERITY_DEFINED /* shared with plinth/plugin.h */
#define PL__LOG_SEVERITY_DEFINED
typedef enum pl_log_severity {
    PL_LOG_ERROR = 0,
    PL_LOG_WARNING = 1,
    PL_LOG_INFO = 2,
    PL_LOG_VERBOSE = 3
} pl_log_severity;
#endif

typedef void (*pl_log_fn)(void *user, pl_log_severity severity, const char *message);
/* Messages with severity <= max_severity reach fn. Not thread safe against concurrent logging:
 * call it before starting worker threads. */
PL_API void pl_set_logger(pl_log_fn fn, void *user, pl_log_severity max_severity);

/* ---------------------------------------------------------------------------------------------
 * Data types. The numbers are ONNX's TensorProto.DataType values.
 */
#ifndef PL__DTYPE_DEFINED /* shared with plinth/plugin.h */
#define PL__DTYPE_DEFINED
typedef enum pl_dtype {
    PL_DTYPE_INVALID = 0,
    PL_FLOAT32 = 1,
    PL_UINT8 = 2,
    PL_INT8 = 3,
    PL_INT32 = 6,
    PL_INT64 = 7,
    PL_BOOL = 9,
    PL_FLOAT16 = 10,
    PL_FLOAT64 = 11,
    PL_BFLOAT16 = 16
} pl_dtype;
#endif

/* Bytes per element (0 for an unknown type). */
PL_API size_t pl_dtype_size(pl_dtype t);
/* "float32", "int64", ... ; "invalid" for an unknown type. */
PL_API const char *pl_dtype_name(pl_dtype t);

#ifndef PL_MAX_RANK
#define PL_MAX_RANK 8
#endif

/* ---------------------------------------------------------------------------------------------
 * Attributes of a layer, as the caller passes them. Fill with the PL_ATTR_* macros.
 */
#ifndef PL__ATTR_TYPE_DEFINED /* shared with plinth/plugin.h */
#define PL__ATTR_TYPE_DEFINED
typedef enum pl_attr_type {
    PL_ATTR_INT = 1,
    PL_ATTR_FLOAT = 2,
    PL_ATTR_STRING = 3,
    PL_ATTR_INTS = 4,
    PL_ATTR_FLOATS = 5,
    PL_ATTR_BYTES = 6,
    PL_ATTR_BOOL = 7
} pl_attr_type;
#endif

typedef struct pl_attr {
    const char *name;
    pl_attr_type type;
    int64_t i;             /* INT, BOOL */
    double f;              /* FLOAT */
    const char *s;         /* STRING (NUL-terminated) */
    const int64_t *ints;   /* INTS, count elements */
    const float *floats;   /* FLOATS, count elements */
    const void *bytes;     /* BYTES, count bytes */
    int64_t count;
} pl_attr;

#define PL_ATTR_I(n, v) ((pl_attr){.name = (n), .type = PL_ATTR_INT, .i = (v)})
#define PL_ATTR_B(n, v) ((pl_attr){.name = (n), .type = PL_ATTR_BOOL, .i = (v) ? 1 : 0})
#define PL_ATTR_F(n, v) ((pl_attr){.name = (n), .type = PL_ATTR_FLOAT, .f = (v)})
#define PL_ATTR_S(n, v) ((pl_attr){.name = (n), .type = PL_ATTR_STRING, .s = (v)})
#define PL_ATTR_INTS(n, p, c) ((pl_attr){.name = (n), .type = PL_ATTR_INTS, .ints = (p), .count = (c)})
#define PL_ATTR_FLOATS(n, p, c)                                                                    \
    ((pl_attr){.name = (n), .type = PL_ATTR_FLOATS, .floats = (p), .count = (c)})

/* ---------------------------------------------------------------------------------------------
 * Network definition. Tensors are named by small integer handles local to one network.
 * Layer op names are ONNX operator names ("Conv", "Relu", "Gemm", ...) with ONNX's attribute
 * names and semantics (opset 17 and later); pl_op_supported() says whether plinth knows one.
 */
typedef struct pl_network pl_network;
typedef int32_t pl_tensor;
#define PL_NO_TENSOR ((pl_tensor)-1) /* an omitted optional input */

PL_API PL_NODISCARD pl_status pl_network_create(pl_network **out);
PL_API void pl_network_free(pl_network *net);

/* A graph input. dims[i] < 0 marks a dynamic dimension (its range comes from the builder's
 * optimization profile); dim_names (may be NULL, or hold NULLs) names symbolic dims. */
PL_API PL_NODISCARD pl_status pl_network_add_input(pl_network *net, const char *name, pl_dtype dtype,
                                                   int rank, const int64_t *dims,
                                                   const char *const *dim_names, pl_tensor *out);
/* A constant (weights). The data is copied. */
PL_API PL_NODISCARD pl_status pl_network_add_constant(pl_network *net, const char *name,
                                                      pl_dtype dtype, int rank, const int64_t *dims,
                                                      const void *data, pl_tensor *out);
/* A layer running ONNX operator `op`. inputs may contain PL_NO_TENSOR for omitted optional
 * inputs. The nout new output tensors are returned in outputs[]; they are named
 * "<layer name>:<k>" unless output_names (may be NULL) gives names. name may be NULL. */
PL_API PL_NODISCARD pl_status pl_network_add_layer(pl_network *net, const char *op, const char *name,
                                                   const pl_tensor *inputs, int nin,
                                                   const pl_attr *attrs, int nattrs, int nout,
                                                   const char *const *output_names,
                                                   pl_tensor *outputs);
/* A layer running a registered plugin, identified by (namespace, name, version); version may be
 * NULL or "" for the newest registered. Attributes are validated against the plugin's schema. */
PL_API PL_NODISCARD pl_status pl_network_add_plugin(pl_network *net, const char *plugin_namespace,
                                                    const char *plugin_name,
                                                    const char *plugin_version,
                                                    const char *layer_name, const pl_tensor *inputs,
                                                    int nin, const pl_attr *attrs, int nattrs,
                                                    int nout, const char *const *output_names,
                                                    pl_tensor *outputs);
PL_API PL_NODISCARD pl_status pl_network_mark_output(pl_network *net, pl_tensor t);
/* Looks a tensor up by name; PL_ERR_NOT_FOUND if absent. */
PL_API PL_NODISCARD pl_status pl_network_find_tensor(const pl_network *net, const char *name,
                                                     pl_tensor *out);
PL_API int pl_network_num_layers(const pl_network *net);
PL_API int pl_network_num_tensors(const pl_network *net);
/* Whether plinth has a core layer for this ONNX op name. */
PL_API bool pl_op_supported(const char *op);

/* ---------------------------------------------------------------------------------------------
 * Builder.
 */
typedef enum pl_device { PL_DEVICE_CPU = 0, PL_DEVICE_CUDA = 1 } pl_device;

/* Whether the device's backend is compiled into this library (CUDA: and a GPU is present). */
PL_API bool pl_device_available(pl_device device);
PL_API const char *pl_device_name(pl_device device);

typedef struct pl_builder_config pl_builder_config;
PL_API PL_NODISCARD pl_status pl_builder_config_create(pl_builder_config **out);
PL_API void pl_builder_config_free(pl_builder_config *cfg);
PL_API void pl_builder_config_set_device(pl_builder_config *cfg, pl_device device);
/* Allow fp16 kernels where the backend has them (fp32 accumulation where accuracy needs it). */
PL_API void pl_builder_config_set_fp16(pl_builder_config *cfg, bool allowed);
/* Upper bound on the scratch memory one layer may use (default 1 GiB). */
PL_API void pl_builder_config_set_workspace_limit(pl_builder_config *cfg, size_t bytes);
/* Streams for independent branches of a GPU engine (layers that do not depend on each other run
 * concurrently on up to 4 streams of one context). 0 (default): the builder times the engine on
 * one stream and with extra streams at the opt shapes and keeps the faster; 1: one stream;
 * n >= 2: up to n streams without timing. Engines with layers on the CPU or data-dependent
 * shapes always use one stream. */
PL_API void pl_builder_config_set_streams(pl_builder_config *cfg, int max_streams);
/* The min/opt/max shape of a dynamic input. Inputs without one get min = opt = max with every
 * dynamic dim set to 1 (documented default). */
PL_API PL_NODISCARD pl_status pl_builder_config_set_shape(pl_builder_config *cfg, const char *input,
                                                          int rank, const int64_t *min,
                                                          const int64_t *opt, const int64_t *max);
/* Values of a "shape tensor" input: an input whose values decide other tensors'
 * shapes (e.g. a Reshape's target shape fed as a graph input). The builder infers shapes, plans
 * memory and times tactics with min, opt and max (count elements each); at run time the actual
 * values are used, and a shape beyond what was planned fails cleanly. */
PL_API PL_NODISCARD pl_status pl_builder_config_set_shape_values(pl_builder_config *cfg,
                                                                 const char *input, int64_t count,
                                                                 const int64_t *min,
                                                                 const int64_t *opt,
                                                                 const int64_t *max);
/* The same for float shape inputs (a Resize's scales, a Range's start fed as inputs); any numeric
 * input dtype is accepted, the values are converted to it. */
PL_API PL_NODISCARD pl_status pl_builder_config_set_shape_values_f64(pl_builder_config *cfg,
                                                                     const char *input,
                                                                     int64_t count,
                                                                     const double *min,
                                                                     const double *opt,
                                                                     const double *max);
/* A file to read tactic timings from and to write new ones to (may not exist yet). */
PL_API PL_NODISCARD pl_status pl_builder_config_set_timing_cache(pl_builder_config *cfg,
                                                                 const char *path);
/* Called with done/total as the builder progresses (for a progress bar). */
typedef void (*pl_progress_fn)(void *user, const char *phase, int done, int total);
PL_API void pl_builder_config_set_progress(pl_builder_config *cfg, pl_progress_fn fn, void *user);

/* Optimizes the network for the configured device and serializes it. *data is allocated with
 * malloc; release it with pl_free(). The network is not modified. */
PL_API PL_NODISCARD pl_status pl_build_serialized(const pl_network *net,
                                                  const pl_builder_config *cfg, void **data,
                                                  size_t *size);
PL_API void pl_free(void *p);

/* ---------------------------------------------------------------------------------------------
 * Engines and the runtime.
 */
typedef struct pl_engine pl_engine;

/* Loads an engine from memory. The bytes are copied. */
PL_API PL_NODISCARD pl_status pl_engine_load(const void *data, size_t size, pl_engine **out);
/* Loads an engine file; its weights are mapped (not copied) where the file allows. */
PL_API PL_NODISCARD pl_status pl_engine_load_file(const char *path, pl_engine **out);
PL_API void pl_engine_free(pl_engine *engine);

PL_API pl_device pl_engine_device(const pl_engine *engine);

typedef struct pl_io_info {
    const char *name;
    bool is_input;
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];     /* -1 where dynamic */
    int64_t min_dims[PL_MAX_RANK]; /* profile range for inputs; upper bounds for outputs */
    int64_t max_dims[PL_MAX_RANK];
} pl_io_info;

PL_API int pl_engine_num_io(const pl_engine *engine);
PL_API PL_NODISCARD pl_status pl_engine_io(const pl_engine *engine, int index, pl_io_info *info);

typedef struct pl_layer_info {
    const char *name;
    const char *op;     /* ONNX op name, or "plugin:<ns>::<name>" */
    const char *kernel; /* the chosen kernel/tactic name */
    int num_inputs, num_outputs;
} pl_layer_info;

PL_API int pl_engine_num_layers(const pl_engine *engine);
PL_API PL_NODISCARD pl_status pl_engine_layer(const pl_engine *engine, int index,
                                              pl_layer_info *info);
/* Metadata value for a key ("producer", "device", "precision", ...); NULL if absent. */
PL_API const char *pl_engine_metadata(const pl_engine *engine, const char *key);
/* Plugins the engine uses: identity and the library it was built with (name, xxHash64). */
PL_API int pl_engine_num_plugins(const pl_engine *engine);
PL_API PL_NODISCARD pl_status pl_engine_plugin(const pl_engine *engine, int index, const char **ns,
                                               const char **name, const char **version,
                                               const char **library, uint64_t *library_hash);
/* Bytes of planned activation memory at the profile's max shapes. */
PL_API size_t pl_engine_peak_activation_bytes(const pl_engine *engine);

/* Execution contexts: one per thread of execution. */
typedef struct pl_context pl_context;
PL_API PL_NODISCARD pl_status pl_context_create(pl_engine *engine, pl_context **out);
PL_API void pl_context_free(pl_context *ctx);

/* Sets the shape of a dynamic input; must lie in the profile. */
PL_API PL_NODISCARD pl_status pl_context_set_input_shape(pl_context *ctx, const char *name,
                                                         int rank, const int64_t *dims);
/* Shape of any I/O tensor given the input shapes set so far. For data-dependent outputs this is
 * the upper bound before execute and the actual shape after. */
PL_API PL_NODISCARD pl_status pl_context_get_shape(pl_context *ctx, const char *name, int *rank,
                                                   int64_t *dims);

typedef enum pl_memory { PL_MEMORY_HOST = 0, PL_MEMORY_DEVICE = 1 } pl_memory;
/* Binds caller memory to an I/O tensor. Host memory on a GPU engine is staged through pinned
 * buffers. Output buffers must hold the upper-bound size (pl_context_get_shape before execute). */
PL_API PL_NODISCARD pl_status pl_context_set_tensor(pl_context *ctx, const char *name, void *data,
                                                    pl_memory where, size_t capacity_bytes);
/* Allocates a buffer for an input or output in the engine's device memory (host memory for CPU
 * engines), sized for the tensor's upper bound, owned by the context, and binds it. *ptr (may be
 * NULL) receives the device pointer. Use it to keep I/O on the device between executions. */
PL_API PL_NODISCARD pl_status pl_context_alloc_tensor(pl_context *ctx, const char *name, void **ptr);
/* Copies host memory into a bound input (whatever memory it is bound in), or a bound output into
 * host memory; bytes must fit the binding. */
PL_API PL_NODISCARD pl_status pl_context_write_tensor(pl_context *ctx, const char *name,
                                                      const void *host, size_t bytes);
PL_API PL_NODISCARD pl_status pl_context_read_tensor(pl_context *ctx, const char *name, void *host,
                                                     size_t bytes);
/* CUDA only: the cudaStream_t to execute on (NULL: the context's own stream). */
PL_API void pl_context_set_stream(pl_context *ctx, void *cuda_stream);
/* Runs the engine and waits for it to finish. */
PL_API PL_NODISCARD pl_status pl_context_execute(pl_context *ctx);

/* ---------------------------------------------------------------------------------------------
 * Plugin libraries (see plinth/plugin.h for writing plugins).
 */
/* Loads a plugin library into the process-wide registry. Loading the same file twice is a no-op. */
PL_API PL_NODISCARD pl_status pl_plugins_load(const char *path);
/* Number of registered plugins and their identities (borrowed strings). */
PL_API int pl_plugins_count(void);
PL_API PL_NODISCARD pl_status pl_plugins_get(int index, const char **ns, const char **name,
                                             const char **version, const char **library);
/* Registers a plugin defined by the application itself (no library; see plinth/plugin.h). The
 * definition and what it points to must stay valid while the process uses the plugin (static
 * storage). On failure def->user_free(def->user) has been called. */
struct pl_plugin_def;
PL_API PL_NODISCARD pl_status pl_plugin_register(const struct pl_plugin_def *def);

/* ---------------------------------------------------------------------------------------------
 * ONNX import and tensor files.
 */
/* Imports an ONNX model file into a new network. Tensors in external data files are read from
 * the model's folder (paths escaping it are refused). Ops without a core layer are looked up in
 * the plugin registry; if some op has neither, the error lists every unsupported op. */
PL_API PL_NODISCARD pl_status pl_onnx_import_file(const char *path, pl_network **out);
/* Same, from memory; base_dir (may be NULL) resolves external data. */
PL_API PL_NODISCARD pl_status pl_onnx_import_memory(const void *data, size_t size,
                                                    const char *base_dir, pl_network **out);

/* A tensor in host memory, as read from or written to a file. */
typedef struct pl_host_tensor {
    char *name; /* may be NULL */
    pl_dtype dtype;
    int rank;
    int64_t dims[PL_MAX_RANK];
    void *data; /* malloc'ed */
    size_t nbytes;
} pl_host_tensor;

/* Reads an ONNX TensorProto (.pb) or NumPy (.npy) file, chosen by extension. */
PL_API PL_NODISCARD pl_status pl_tensor_file_read(const char *path, pl_host_tensor *out);
/* Writes a .pb or .npy file, chosen by extension. */
PL_API PL_NODISCARD pl_status pl_tensor_file_write(const char *path, const pl_host_tensor *t);
/* Frees name and data; the struct itself is the caller's. */
PL_API void pl_host_tensor_release(pl_host_tensor *t);

/* "plinth 0.1.0 (backends: cpu cuda)" */
PL_API const char *pl_version_string(void);

#ifdef __cplusplus
}
#endif
#endif /* PLINTH_H */
