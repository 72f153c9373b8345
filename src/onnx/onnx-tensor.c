/*
 * onnx-tensor.c - decoding ONNX TensorProto data into plinth's layout: raw_data, the typed
 * repeated fields (float_data, int32_data, int64_data, double_data), and external data files
 * resolved relative to the model's folder. Every size is checked against the bytes actually
 * present before anything is allocated, so a hostile dims field cannot make us allocate more
 * than the file holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "onnx/onnx-internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the ONNX importer assumes a little-endian host (raw_data is little-endian)"
#endif

pl_dtype pl__onnx_dtype(int32_t onnx_type) {
    switch (onnx_type) {
    case 1: return PL_FLOAT32;
    case 2: return PL_UINT8;
    case 3: return PL_INT8;
    case 6: return PL_INT32;
    case 7: return PL_INT64;
    case 9: return PL_BOOL;
    case 10: return PL_FLOAT16;
    case 11: return PL_FLOAT64;
    case 16: return PL_BFLOAT16;
    default: return PL_DTYPE_INVALID;
    }
}

const char *pl__onnx_dtype_name(int32_t onnx_type) {
    /* Numbers past 16 come from ONNX versions newer than the proto we compile against; their
     * names are listed so that messages stay readable. */
    static const char *const names[] = {
        "UNDEFINED", "FLOAT",        "UINT8",          "INT8",       "UINT16",
        "INT16",     "INT32",        "INT64",          "STRING",     "BOOL",
        "FLOAT16",   "DOUBLE",       "UINT32",         "UINT64",     "COMPLEX64",
        "COMPLEX128", "BFLOAT16",    "FLOAT8E4M3FN",   "FLOAT8E4M3FNUZ", "FLOAT8E5M2",
        "FLOAT8E5M2FNUZ", "UINT4",   "INT4",           "FLOAT4E2M1", "FLOAT8E8M0",
        "UINT2",     "INT2"};
    if (onnx_type >= 0 && (size_t)onnx_type < sizeof(names) / sizeof(names[0]))
        return names[onnx_type];
    return "unknown";
}

void pl__onnx_tensor_release(pl__onnx_tensor *t) {
    if (!t)
        return;
    free(t->data);
    t->data = NULL;
    t->nbytes = 0;
}

static bool pl__parse_u64(const char *s, uint64_t *out) {
    char *end;
    unsigned long long v;
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Refuses locations that could leave the model's folder: absolute paths, any ".." component,
 * and backslashes (a Windows-made model would otherwise name a different file here). Symbolic
 * links inside the folder are followed on purpose: model caches (e.g. Hugging Face's) link
 * every file of a snapshot to a blob store elsewhere. */
static pl_status pl__check_location(const char *what, const char *loc) {
    const char *p = loc;
    if (!*loc)
        return pl__fail(PL_ERR_FORMAT, "%s: external data has an empty location", what);
    if (loc[0] == '/')
        return pl__fail(PL_ERR_FORMAT, "%s: external data location '%s' is an absolute path "
                        "(only paths inside the model's folder are allowed)", what, loc);
    if (strchr(loc, '\\'))
        return pl__fail(PL_ERR_FORMAT, "%s: external data location '%s' contains a backslash",
                        what, loc);
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return pl__fail(PL_ERR_FORMAT, "%s: external data location '%s' escapes the model's "
                            "folder ('..')", what, loc);
        p += n;
        while (*p == '/')
            p++;
    }
    return PL_OK;
}

static pl_status pl__read_external(const Onnx__TensorProto *t, const char *what,
                                   const char *base_dir, size_t nbytes, void *dst) {
    const char *loc = NULL;
    uint64_t offset = 0, length = nbytes;
    bool have_length = false;
    char *full;
    FILE *f;
    struct stat st;
    pl_status s = PL_OK;

    for (size_t i = 0; i < t->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = t->external_data[i];
        if (!e || !e->key)
            continue;
        if (strcmp(e->key, "location") == 0) {
            loc = e->value ? e->value : "";
        } else if (strcmp(e->key, "offset") == 0) {
            if (!pl__parse_u64(e->value, &offset))
                return pl__fail(PL_ERR_FORMAT, "%s: external data offset '%s' is not a "
                                "non-negative integer", what, e->value ? e->value : "");
        } else if (strcmp(e->key, "length") == 0) {
            if (!pl__parse_u64(e->value, &length))
                return pl__fail(PL_ERR_FORMAT, "%s: external data length '%s' is not a "
                                "non-negative integer", what, e->value ? e->value : "");
            have_length = true;
        }
        /* "checksum" (SHA-1) is optional and not verified. */
    }
    if (!loc)
        return pl__fail(PL_ERR_FORMAT, "%s: external data has no 'location'", what);
    if ((s = pl__check_location(what, loc)))
        return s;
    if (have_length && length != nbytes)
        return pl__fail(PL_ERR_FORMAT, "%s: external data length %llu does not match the %zu "
                        "bytes its dims and dtype need", what, (unsigned long long)length, nbytes);
    if (!base_dir)
        return pl__fail(PL_ERR_INVALID_ARG, "%s: the tensor's data is in external file '%s' but "
                        "no base directory was given to resolve it", what, loc);
    full = pl__sprintf("%s/%s", base_dir, loc);
    if (!full)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    f = fopen(full, "rb");
    if (!f) {
        s = pl__fail(PL_ERR_IO, "%s: cannot open external data file '%s': %s", what, full,
                     strerror(errno));
        goto done;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        s = pl__fail(PL_ERR_IO, "%s: external data file '%s' is not a regular file", what, full);
        goto done;
    }
    if (offset > (uint64_t)st.st_size || nbytes > (uint64_t)st.st_size - offset) {
        s = pl__fail(PL_ERR_FORMAT, "%s: external data [offset %llu, length %zu] runs past the "
                     "end of '%s' (%lld bytes)", what, (unsigned long long)offset, nbytes, full,
                     (long long)st.st_size);
        goto done;
    }
    if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || (nbytes && fread(dst, 1, nbytes, f) != nbytes))
        s = pl__fail(PL_ERR_IO, "%s: cannot read %zu bytes at offset %llu of '%s'", what, nbytes,
                     (unsigned long long)offset, full);
done:
    if (f)
        fclose(f);
    free(full);
    return s;
}

/* Copies n typed-field values into dst, converting to the element type. */
static void pl__from_int32(pl_dtype dt, const int32_t *v, size_t n, void *dst) {
    for (size_t i = 0; i < n; i++) {
        switch (dt) {
        case PL_INT32: ((int32_t *)dst)[i] = v[i]; break;
        case PL_INT8: ((int8_t *)dst)[i] = (int8_t)v[i]; break;
        case PL_UINT8: ((uint8_t *)dst)[i] = (uint8_t)v[i]; break;
        case PL_BOOL: ((uint8_t *)dst)[i] = v[i] != 0; break;
        /* float16 and bfloat16 keep their bit patterns in the low 16 bits */
        case PL_FLOAT16:
        case PL_BFLOAT16: ((uint16_t *)dst)[i] = (uint16_t)v[i]; break;
        default: break;
        }
    }
}

pl_status pl__onnx_tensor_decode(const Onnx__TensorProto *t, const char *what,
                                 const char *base_dir, pl__onnx_tensor *out) {
    pl_dtype dt;
    size_t esize, numel = 1, nbytes, have = 0;
    const void *src = NULL;
    pl_status s;

    memset(out, 0, sizeof(*out));
    if (!t->has_data_type || t->data_type == 0)
        return pl__fail(PL_ERR_FORMAT, "%s: the tensor has no data type", what);
    dt = pl__onnx_dtype(t->data_type);
    if (dt == PL_DTYPE_INVALID)
        return pl__fail(PL_ERR_UNSUPPORTED, "%s: data type %s (%d) is not supported by plinth",
                        what, pl__onnx_dtype_name(t->data_type), (int)t->data_type);
    if (t->n_dims > PL_MAX_RANK)
        return pl__fail(PL_ERR_UNSUPPORTED, "%s: rank %zu exceeds plinth's maximum %d", what,
                        t->n_dims, PL_MAX_RANK);
    if (t->segment)
        return pl__fail(PL_ERR_UNSUPPORTED, "%s: segmented tensors are not supported", what);
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0)
            return pl__fail(PL_ERR_FORMAT, "%s: dim %zu is %lld", what, i, (long long)t->dims[i]);
        if (!pl__mul_size(numel, (size_t)t->dims[i], &numel))
            return pl__fail(PL_ERR_FORMAT, "%s: element count overflows", what);
        out->dims[i] = t->dims[i];
    }
    out->rank = (int)t->n_dims;
    out->dtype = dt;
    esize = pl_dtype_size(dt);
    if (!pl__mul_size(numel, esize, &nbytes))
        return pl__fail(PL_ERR_FORMAT, "%s: byte size overflows", what);

    if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
        /* The size is checked against the file before allocating. */
        out->data = malloc(nbytes ? nbytes : 1);
        if (!out->data)
            return pl__fail(PL_ERR_NOMEM, "%s: out of memory for %zu bytes", what, nbytes);
        if ((s = pl__read_external(t, what, base_dir, nbytes, out->data))) {
            pl__onnx_tensor_release(out);
            return s;
        }
        out->nbytes = nbytes;
        return PL_OK;
    }

    if (t->has_raw_data && (t->raw_data.len > 0 || numel == 0)) {
        if (t->raw_data.len != nbytes)
            return pl__fail(PL_ERR_FORMAT, "%s: raw_data holds %zu bytes, its dims and dtype "
                            "need %zu", what, t->raw_data.len, nbytes);
        src = t->raw_data.data;
        have = numel;
    } else {
        switch (dt) {
        case PL_FLOAT32: have = t->n_float_data; break;
        case PL_FLOAT64: have = t->n_double_data; break;
        case PL_INT64: have = t->n_int64_data; break;
        default: have = t->n_int32_data; break;
        }
        if (have != numel)
            return pl__fail(PL_ERR_FORMAT, "%s: holds %zu values, its dims %s %zu", what, have,
                            numel == 1 && t->n_dims == 0 ? "(a scalar) need" : "need", numel);
    }
    out->data = malloc(nbytes ? nbytes : 1);
    if (!out->data)
        return pl__fail(PL_ERR_NOMEM, "%s: out of memory for %zu bytes", what, nbytes);
    out->nbytes = nbytes;
    if (src) {
        if (nbytes)
            memcpy(out->data, src, nbytes);
        if (dt == PL_BOOL) /* normalize: kernels may rely on 0/1 */
            for (size_t i = 0; i < numel; i++)
                ((uint8_t *)out->data)[i] = ((uint8_t *)out->data)[i] != 0;
        return PL_OK;
    }
    switch (dt) {
    case PL_FLOAT32:
        if (nbytes)
            memcpy(out->data, t->float_data, nbytes);
        break;
    case PL_FLOAT64:
        if (nbytes)
            memcpy(out->data, t->double_data, nbytes);
        break;
    case PL_INT64:
        if (nbytes)
            memcpy(out->data, t->int64_data, nbytes);
        break;
    default: pl__from_int32(dt, t->int32_data, numel, out->data); break;
    }
    return PL_OK;
}
