/*
 * fuzz-engine.c - libFuzzer target for the engine file reader. Each input is tried twice: as
 * is, and with the header's size field and the trailing checksum repaired, because a checksum
 * over random mutations almost never matches and the fuzzer would otherwise never get past it
 * into the section and record checks. Any engine the reader accepts is written back and must
 * load again (the writer and reader share their rules), and is walked so that ASan sees every
 * pointer the reader handed out.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "plan/plan-format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pl__fuzz_die(const char *what) {
    fprintf(stderr, "fuzz-engine: %s: %s\n", what, pl_errmsg());
    abort();
}

/* Touches every byte the plan points at, so out-of-bounds pointers show up under ASan. */
static uint64_t pl__fuzz_walk(const pl__plan *p) {
    uint64_t acc = 0;
    const pl_network *net = p->net;
    for (int i = 0; i < net->ntensors; i++) {
        const pl__tensor *t = &net->tensors[i];
        acc += strlen(t->name);
        for (size_t k = 0; t->data && k < t->nbytes; k++)
            acc += ((const uint8_t *)t->data)[k];
    }
    for (int i = 0; i < p->nblobs; i++)
        for (size_t k = 0; k < p->blobs[i].size; k++)
            acc += ((const uint8_t *)p->blobs[i].data)[k];
    for (int i = 0; i < p->nmeta; i++)
        acc += strlen(p->meta[i].key) + strlen(p->meta[i].value);
    for (int i = 0; i < net->nlayers; i++) {
        const pl__layer *l = &net->layers[i];
        for (int a = 0; a < l->attrs.n; a++) {
            const pl_attr *x = &l->attrs.v[a];
            if (x->type == PL_ATTR_BYTES)
                for (int64_t k = 0; k < x->count; k++)
                    acc += ((const uint8_t *)x->bytes)[k];
        }
    }
    return acc;
}

static void pl__fuzz_one(const uint8_t *data, size_t size) {
    pl__plan *p = NULL, *q = NULL;
    void *again = NULL;
    size_t n = 0;
    volatile uint64_t sink;
    if (pl__plan_deserialize(data, size, "fuzz.engine", &p) != PL_OK) {
        if (p)
            pl__fuzz_die("a failed load returned a plan");
        if (!pl_errmsg()[0] || strncmp(pl_errmsg(), "fuzz.engine: ", 13) != 0)
            pl__fuzz_die("a failure without a message naming the file");
        return;
    }
    sink = pl__fuzz_walk(p);
    (void)sink;
    if (pl__plan_serialize(p, &again, &n) != PL_OK)
        pl__fuzz_die("an accepted engine cannot be written back");
    if (pl__plan_deserialize(again, n, "fuzz.engine", &q) != PL_OK)
        pl__fuzz_die("a written-back engine does not load");
    pl__plan_free(q);
    free(again);
    pl__plan_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *fixed;
    pl__fuzz_one(data, size);
    if (size < PL__PLAN_HEADER_SIZE + PL__PLAN_CHECKSUM_SIZE)
        return 0;
    fixed = malloc(size);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    pl__put_le64(fixed + PL__PLAN_OFF_FILE_SIZE, size);
    pl__put_le64(fixed + size - 8, XXH64(fixed, size - 8, 0));
    pl__fuzz_one(fixed, size);
    free(fixed);
    return 0;
}
