/*
 * tensor-file.c - reading and writing single tensors: ONNX TensorProto (.pb, the ONNX test-data
 * format) and NumPy .npy (format versions 1-3, little-endian, C order). The format is chosen by
 * the file name's extension. Every length in a file is checked before it is used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "onnx/onnx-internal.h"

void pl_host_tensor_release(pl_host_tensor *t) {
    if (!t)
        return;
    free(t->name);
    free(t->data);
    t->name = NULL;
    t->data = NULL;
    t->nbytes = 0;
}

static bool pl__has_ext(const char *path, const char *ext) {
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcasecmp(path + n - e, ext) == 0;
}

static pl_status pl__slurp(const char *path, unsigned char **data, size_t *size) {
    FILE *f = fopen(path, "rb");
    long n;
    unsigned char *buf;
    if (!f)
        return pl__fail(PL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return pl__fail(PL_ERR_IO, "%s: cannot read (not a regular file?)", path);
    }
    buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(f);
        return pl__fail(PL_ERR_NOMEM, "%s: out of memory reading %ld bytes", path, n);
    }
    if (n && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return pl__fail(PL_ERR_IO, "%s: read error", path);
    }
    fclose(f);
    *data = buf;
    *size = (size_t)n;
    return PL_OK;
}

static pl_status pl__spill(const char *path, const void *a, size_t na, const void *b, size_t nb) {
    FILE *f = fopen(path, "wb");
    bool ok;
    if (!f)
        return pl__fail(PL_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    ok = (!na || fwrite(a, 1, na, f) == na) && (!nb || fwrite(b, 1, nb, f) == nb);
    ok = (fclose(f) == 0) && ok;
    if (!ok)
        return pl__fail(PL_ERR_IO, "%s: write error", path);
    return PL_OK;
}

/* ---- .pb ---- */
static pl_status pl__read_pb(const char *path, const unsigned char *buf, size_t size,
                             pl_host_tensor *out) {
    Onnx__TensorProto *t;
    pl__onnx_tensor v;
    char *dir;
    const char *slash = strrchr(path, '/');
    pl_status s;
    if (size == 0)
        return pl__fail(PL_ERR_FORMAT, "%s: the file is empty", path);
    t = onnx__tensor_proto__unpack(NULL, size, buf);
    if (!t)
        return pl__fail(PL_ERR_FORMAT, "%s: not a valid ONNX TensorProto (truncated or corrupted)",
                        path);
    dir = slash ? pl__sprintf("%.*s", (int)(slash == path ? 1 : slash - path), path)
                : pl__strdup(".");
    if (!dir) {
        onnx__tensor_proto__free_unpacked(t, NULL);
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    }
    s = pl__onnx_tensor_decode(t, path, dir, &v);
    free(dir);
    if (!s) {
        out->dtype = v.dtype;
        out->rank = v.rank;
        memcpy(out->dims, v.dims, sizeof(out->dims));
        out->data = v.data;
        out->nbytes = v.nbytes;
        if (t->name && t->name[0] && !(out->name = pl__strdup(t->name))) {
            pl_host_tensor_release(out);
            s = pl__fail(PL_ERR_NOMEM, "out of memory");
        }
    }
    onnx__tensor_proto__free_unpacked(t, NULL);
    return s;
}

static pl_status pl__write_pb(const char *path, const pl_host_tensor *t) {
    Onnx__TensorProto p = ONNX__TENSOR_PROTO__INIT;
    int64_t dims[PL_MAX_RANK];
    uint8_t *buf;
    size_t n;
    pl_status s;
    for (int i = 0; i < t->rank; i++)
        dims[i] = t->dims[i];
    p.n_dims = (size_t)t->rank;
    p.dims = dims;
    p.has_data_type = 1;
    p.data_type = (int32_t)t->dtype;
    p.has_raw_data = 1;
    p.raw_data.len = t->nbytes;
    p.raw_data.data = t->data;
    p.name = t->name;
    n = onnx__tensor_proto__get_packed_size(&p);
    buf = malloc(n ? n : 1);
    if (!buf)
        return pl__fail(PL_ERR_NOMEM, "%s: out of memory", path);
    onnx__tensor_proto__pack(&p, buf);
    s = pl__spill(path, buf, n, NULL, 0);
    free(buf);
    return s;
}

/* ---- .npy ---- */
static const struct {
    const char *code;
    pl_dtype dtype;
} pl__npy_types[] = {
    {"f2", PL_FLOAT16}, {"f4", PL_FLOAT32}, {"f8", PL_FLOAT64}, {"i1", PL_INT8},
    {"u1", PL_UINT8},   {"i4", PL_INT32},   {"i8", PL_INT64},   {"b1", PL_BOOL},
};

/* The value text after 'key': in the header dict, or NULL. */
static const char *pl__npy_key(const char *h, const char *key) {
    char q1[40], q2[40];
    const char *p;
    snprintf(q1, sizeof(q1), "'%s'", key);
    snprintf(q2, sizeof(q2), "\"%s\"", key);
    p = strstr(h, q1);
    if (!p)
        p = strstr(h, q2);
    if (!p)
        return NULL;
    p += strlen(q1);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static pl_status pl__read_npy(const char *path, const unsigned char *buf, size_t size,
                              pl_host_tensor *out) {
    size_t hlen, hstart, numel = 1, nbytes;
    char *h;
    const char *p;
    char descr[16];
    pl_dtype dt = PL_DTYPE_INVALID;
    int rank = 0;
    int64_t dims[PL_MAX_RANK];
    pl_status s = PL_OK;

    if (size < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return pl__fail(PL_ERR_FORMAT, "%s: not a NumPy .npy file (bad magic)", path);
    if (buf[6] == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if (buf[6] == 2 || buf[6] == 3) {
        if (size < 12)
            return pl__fail(PL_ERR_FORMAT, "%s: truncated .npy header", path);
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
               (size_t)buf[11] << 24;
        hstart = 12;
    } else {
        return pl__fail(PL_ERR_VERSION, "%s: .npy format version %d.%d is not supported", path,
                        buf[6], buf[7]);
    }
    if (hlen > size - hstart)
        return pl__fail(PL_ERR_FORMAT, "%s: .npy header length %zu runs past the end of the file",
                        path, hlen);
    h = malloc(hlen + 1);
    if (!h)
        return pl__fail(PL_ERR_NOMEM, "out of memory");
    memcpy(h, buf + hstart, hlen);
    h[hlen] = 0;
    if (strlen(h) != hlen) {
        s = pl__fail(PL_ERR_FORMAT, "%s: .npy header contains a NUL byte", path);
        goto done;
    }

    p = pl__npy_key(h, "descr");
    if (!p || (*p != '\'' && *p != '"') || !strchr(p + 1, *p) ||
        (size_t)(strchr(p + 1, *p) - (p + 1)) >= sizeof(descr)) {
        s = pl__fail(PL_ERR_FORMAT, "%s: .npy header has no valid 'descr'", path);
        goto done;
    }
    snprintf(descr, sizeof(descr), "%.*s", (int)(strchr(p + 1, *p) - (p + 1)), p + 1);
    if (strlen(descr) == 3 && strchr("<>|=", descr[0])) {
        for (size_t i = 0; i < sizeof(pl__npy_types) / sizeof(pl__npy_types[0]); i++)
            if (strcmp(descr + 1, pl__npy_types[i].code) == 0)
                dt = pl__npy_types[i].dtype;
        if (dt != PL_DTYPE_INVALID && pl_dtype_size(dt) > 1 && descr[0] == '>') {
            s = pl__fail(PL_ERR_UNSUPPORTED, "%s: big-endian .npy data ('%s') is not supported",
                         path, descr);
            goto done;
        }
    }
    if (dt == PL_DTYPE_INVALID) {
        s = pl__fail(PL_ERR_UNSUPPORTED, "%s: .npy dtype '%s' is not supported (f2 f4 f8 i1 u1 "
                     "i4 i8 b1)", path, descr);
        goto done;
    }

    p = pl__npy_key(h, "shape");
    if (!p || *p != '(') {
        s = pl__fail(PL_ERR_FORMAT, "%s: .npy header has no valid 'shape'", path);
        goto done;
    }
    p++;
    for (;;) {
        char *end;
        long long d;
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == ')')
            break;
        if (*p < '0' || *p > '9') {
            s = pl__fail(PL_ERR_FORMAT, "%s: bad .npy shape", path);
            goto done;
        }
        errno = 0;
        d = strtoll(p, &end, 10);
        if (errno || d < 0) {
            s = pl__fail(PL_ERR_FORMAT, "%s: bad .npy shape", path);
            goto done;
        }
        if (rank == PL_MAX_RANK) {
            s = pl__fail(PL_ERR_UNSUPPORTED, "%s: .npy rank exceeds plinth's maximum %d", path,
                         PL_MAX_RANK);
            goto done;
        }
        if (*end == 'L') /* Python 2 long literals */
            end++;
        dims[rank++] = d;
        if (!pl__mul_size(numel, (size_t)d, &numel)) {
            s = pl__fail(PL_ERR_FORMAT, "%s: .npy element count overflows", path);
            goto done;
        }
        p = end;
    }

    p = pl__npy_key(h, "fortran_order");
    if (!p || (strncmp(p, "False", 5) != 0 && strncmp(p, "True", 4) != 0)) {
        s = pl__fail(PL_ERR_FORMAT, "%s: .npy header has no valid 'fortran_order'", path);
        goto done;
    }
    if (strncmp(p, "True", 4) == 0 && rank > 1) {
        s = pl__fail(PL_ERR_UNSUPPORTED, "%s: Fortran-order .npy data is not supported (save "
                     "with numpy.ascontiguousarray)", path);
        goto done;
    }

    if (!pl__mul_size(numel, pl_dtype_size(dt), &nbytes) || nbytes != size - hstart - hlen) {
        s = pl__fail(PL_ERR_FORMAT, "%s: .npy data holds %zu bytes, its shape and dtype need %zu",
                     path, size - hstart - hlen, nbytes);
        goto done;
    }
    out->data = malloc(nbytes ? nbytes : 1);
    if (!out->data) {
        s = pl__fail(PL_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (nbytes)
        memcpy(out->data, buf + hstart + hlen, nbytes);
    if (dt == PL_BOOL)
        for (size_t i = 0; i < nbytes; i++)
            ((uint8_t *)out->data)[i] = ((uint8_t *)out->data)[i] != 0;
    out->nbytes = nbytes;
    out->dtype = dt;
    out->rank = rank;
    for (int i = 0; i < rank; i++)
        out->dims[i] = dims[i];
done:
    free(h);
    return s;
}

static pl_status pl__write_npy(const char *path, const pl_host_tensor *t) {
    char h[64 + 32 * PL_MAX_RANK + 128], shape[32 * PL_MAX_RANK + 8];
    const char *code = NULL;
    size_t len = 0, total;
    pl_status s;
    for (size_t i = 0; i < sizeof(pl__npy_types) / sizeof(pl__npy_types[0]); i++)
        if (pl__npy_types[i].dtype == t->dtype)
            code = pl__npy_types[i].code;
    if (!code)
        return pl__fail(PL_ERR_UNSUPPORTED, "%s: dtype %s has no NumPy type (write a .pb file)",
                        path, pl_dtype_name(t->dtype));
    shape[0] = 0;
    for (int i = 0; i < t->rank; i++)
        len += (size_t)snprintf(shape + len, sizeof(shape) - len, "%s%lld", i ? ", " : "",
                                (long long)t->dims[i]);
    if (t->rank == 1)
        snprintf(shape + len, sizeof(shape) - len, ",");
    len = (size_t)snprintf(h, sizeof(h), "\x93NUMPY\x01%c__{'descr': '%c%s', 'fortran_order': "
                           "False, 'shape': (%s), }", 0, pl_dtype_size(t->dtype) == 1 ? '|' : '<',
                           code, shape);
    /* pad with spaces so that the data starts on a 64-byte boundary, ending in '\n' */
    total = (len + 1 + 63) / 64 * 64;
    memset(h + len, ' ', total - len - 1);
    h[total - 1] = '\n';
    h[8] = (char)((total - 10) & 0xff);
    h[9] = (char)((total - 10) >> 8);
    s = pl__spill(path, h, total, t->data, t->nbytes);
    return s;
}

/* ---- public ---- */
static pl_status pl__check_host_tensor(const char *path, const pl_host_tensor *t) {
    size_t need = pl_dtype_size(t->dtype);
    if (need == 0)
        return pl__fail(PL_ERR_INVALID_ARG, "%s: unknown dtype %d", path, (int)t->dtype);
    if (t->rank < 0 || t->rank > PL_MAX_RANK)
        return pl__fail(PL_ERR_INVALID_ARG, "%s: rank %d outside 0..%d", path, t->rank,
                        PL_MAX_RANK);
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i] < 0 || !pl__mul_size(need, (size_t)t->dims[i], &need))
            return pl__fail(PL_ERR_INVALID_ARG, "%s: bad dim %d (%lld)", path, i,
                            (long long)t->dims[i]);
    if (need != t->nbytes)
        return pl__fail(PL_ERR_INVALID_ARG, "%s: nbytes is %zu, the shape and dtype need %zu",
                        path, t->nbytes, need);
    if (need && !t->data)
        return pl__fail(PL_ERR_INVALID_ARG, "%s: data is NULL", path);
    return PL_OK;
}

pl_status pl_tensor_file_read(const char *path, pl_host_tensor *out) {
    unsigned char *buf = NULL;
    size_t size = 0;
    pl_status s;
    if (!path || !out)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_tensor_file_read: NULL argument");
    memset(out, 0, sizeof(*out));
    if (!pl__has_ext(path, ".pb") && !pl__has_ext(path, ".npy"))
        return pl__fail(PL_ERR_INVALID_ARG, "%s: unknown tensor file type (expected .pb or .npy)",
                        path);
    if ((s = pl__slurp(path, &buf, &size)))
        return s;
    s = pl__has_ext(path, ".pb") ? pl__read_pb(path, buf, size, out)
                                 : pl__read_npy(path, buf, size, out);
    free(buf);
    if (s)
        pl_host_tensor_release(out);
    return s;
}

pl_status pl_tensor_file_write(const char *path, const pl_host_tensor *t) {
    pl_status s;
    if (!path || !t)
        return pl__fail(PL_ERR_INVALID_ARG, "pl_tensor_file_write: NULL argument");
    if ((s = pl__check_host_tensor(path, t)))
        return s;
    if (pl__has_ext(path, ".pb"))
        return pl__write_pb(path, t);
    if (pl__has_ext(path, ".npy"))
        return pl__write_npy(path, t);
    return pl__fail(PL_ERR_INVALID_ARG, "%s: unknown tensor file type (expected .pb or .npy)",
                    path);
}
