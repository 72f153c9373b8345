/*
 * lanes.c - independent branches on extra streams. A device engine may spread its layers over
 * up to PL__MAX_LANES lanes (CUDA streams of one context) so that branches which do not depend
 * on each other (the downsample path of a residual block, the per-level heads of a detection
 * network, the towers of an Inception block) overlap on the GPU when each alone leaves it idle.
 *
 * Assignment walks the layers in their (topological) order: a layer continues the lane of an
 * input's producer when that producer is still its lane's last layer (a chain stays on one
 * lane); otherwise it takes a lane whose last layer already completes before it (no false
 * dependency), else a fresh lane, else the lane that was busy longest ago. A layer waits on the
 * event of each producer on another lane, unless its lane already waited on that lane at or
 * after the producer.
 *
 * Memory: the planner's single sequential order no longer says when bytes are free, so this
 * module also computes "happens before" over the schedule (bitsets: layers that complete
 * before a layer starts, through lane order and event waits) and, per tensor, the last layer
 * index at which its bytes may still be touched. Another tensor may take those bytes only from
 * a later producer, which then provably starts after every access.
 *
 * Lanes are used only when every layer runs on the device (or on the host computing shapes from
 * the input shapes alone: those touch no device memory) and none has a data-dependent output
 * shape (those synchronise with the host mid-run); engines larger than PL__LANES_MAX_LAYERS
 * stay on one lane (the bitsets grow with the square of the layer count).
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/exec.h"

#define PL__LANES_MAX_LAYERS 4096

static bool pl__bit(const uint64_t *set, int i) { return (set[i >> 6] >> (i & 63)) & 1; }

static void pl__bit_set(uint64_t *set, int i) { set[i >> 6] |= (uint64_t)1 << (i & 63); }

static void pl__bits_or(uint64_t *dst, const uint64_t *src, int words) {
    for (int w = 0; w < words; w++)
        dst[w] |= src[w];
}

void pl__lanes_free(pl__lanes *ln) {
    free(ln->lane);
    free(ln->wait_off);
    free(ln->waits);
    free(ln->record);
    free(ln->before);
    memset(ln, 0, sizeof(*ln));
    ln->n = 1;
}

bool pl__lanes_before(const pl_engine *e, int a, int b) {
    const pl__lanes *ln = &e->lanes;
    if (ln->n <= 1 || !ln->before)
        return a < b;
    if (a < 0)
        return true; /* graph inputs and constants exist before the first layer */
    if (b >= e->net->nlayers)
        return true; /* the end of an execution joins every lane */
    return a < b && pl__bit(ln->before + (size_t)b * (size_t)ln->words, a);
}

static bool pl__lanes_eligible(const pl_engine *e, int max_lanes) {
    const pl_network *net = e->net;
    return max_lanes >= 2 && e->backend->lanes_init && !e->backend->host_memory &&
           net->nlayers >= 3 && net->nlayers <= PL__LANES_MAX_LAYERS && pl__engine_runs_async(e);
}

/* The producing layer of an input, or -1 (graph input, constant, omitted). */
static int pl__producer(const pl_network *net, int32_t t) {
    return t >= 0 && net->tensors[t].kind == PL__TENSOR_ACT ? net->tensors[t].producer : -1;
}

pl_status pl__lanes_build(pl_engine *e, int max_lanes) {
    const pl_network *net = e->net;
    pl__lanes *ln = &e->lanes;
    int nl = net->nlayers, tail[PL__MAX_LANES], used = 1, nwaits = 0;
    int synced[PL__MAX_LANES][PL__MAX_LANES]; /* [lane][other]: last layer of other waited on */
    uint64_t *scratch = NULL;
    size_t words, nin = 0;
    pl__lanes_free(ln);
    if (!pl__lanes_eligible(e, max_lanes))
        return PL_OK;
    if (max_lanes > PL__MAX_LANES)
        max_lanes = PL__MAX_LANES;
    for (int li = 0; li < nl; li++)
        nin += (size_t)net->layers[li].nin; /* at most one wait per input */
    words = ((size_t)nl + 63) / 64;
    ln->words = (int)words;
    ln->lane = calloc((size_t)nl, sizeof(int));
    ln->wait_off = calloc((size_t)nl + 1, sizeof(int));
    ln->waits = malloc(sizeof(int) * (nin + 1));
    ln->record = calloc((size_t)nl, 1);
    ln->before = calloc((size_t)nl * words, sizeof(uint64_t));
    scratch = calloc(words, sizeof(uint64_t));
    if (!ln->lane || !ln->wait_off || !ln->waits || !ln->record || !ln->before || !scratch) {
        free(scratch);
        pl__lanes_free(ln);
        return pl__fail(PL_ERR_NOMEM, "out of memory scheduling lanes");
    }
    for (int s = 0; s < PL__MAX_LANES; s++) {
        tail[s] = -1;
        for (int o = 0; o < PL__MAX_LANES; o++)
            synced[s][o] = -1;
    }
    for (int li = 0; li < nl; li++) {
        const pl__layer *l = &net->layers[li];
        uint64_t *bef = ln->before + (size_t)li * words;
        int lane = -1;
        /* what already completes before li through its inputs alone */
        memset(scratch, 0, words * sizeof(uint64_t));
        for (int k = 0; k < l->nin; k++) {
            int p = pl__producer(net, l->in[k]);
            if (p < 0)
                continue;
            pl__bits_or(scratch, ln->before + (size_t)p * words, (int)words);
            pl__bit_set(scratch, p);
        }
        for (int k = 0; k < l->nin && lane < 0; k++) {
            int p = pl__producer(net, l->in[k]);
            if (p >= 0 && tail[ln->lane[p]] == p)
                lane = ln->lane[p];
        }
        for (int s = 0; s < used && lane < 0; s++)
            if (tail[s] < 0 || pl__bit(scratch, tail[s]))
                lane = s;
        if (lane < 0 && used < max_lanes)
            lane = used++;
        if (lane < 0) { /* every lane busy with unrelated work: the one idle longest */
            lane = 0;
            for (int s = 1; s < used; s++)
                if (tail[s] < tail[lane])
                    lane = s;
        }
        ln->lane[li] = lane;
        ln->wait_off[li] = nwaits;
        /* lane order: everything before the lane's previous layer, and that layer */
        if (tail[lane] >= 0) {
            pl__bits_or(bef, ln->before + (size_t)tail[lane] * words, (int)words);
            pl__bit_set(bef, tail[lane]);
        }
        for (int k = 0; k < l->nin; k++) {
            int p = pl__producer(net, l->in[k]), pl;
            if (p < 0 || (pl = ln->lane[p]) == lane || synced[lane][pl] >= p)
                continue;
            synced[lane][pl] = p;
            ln->record[p] = true;
            ln->waits[nwaits++] = p;
            pl__bits_or(bef, ln->before + (size_t)p * words, (int)words);
            pl__bit_set(bef, p);
        }
        tail[lane] = li;
    }
    ln->wait_off[nl] = nwaits;
    free(scratch);
    ln->n = used;
    if (used < 2)
        pl__lanes_free(ln);
    return PL_OK;
}

int pl__lanes_last_touch(const pl_engine *e, int32_t t, int seq_last) {
    const pl_network *net = e->net;
    const pl__lanes *ln = &e->lanes;
    int nl = net->nlayers, first, acc[2 + 64], nacc = 0;
    if (ln->n <= 1 || seq_last >= nl)
        return seq_last;
    first = pl__producer(net, t);
    if (first >= 0)
        acc[nacc++] = first;
    /* readers: the layers that list t as an input (collected up to the sequential last use) */
    for (int li = first < 0 ? 0 : first; li <= seq_last && li < nl; li++) {
        const pl__layer *l = &net->layers[li];
        for (int k = 0; k < l->nin; k++)
            if (l->in[k] == t) {
                if (nacc == (int)(sizeof(acc) / sizeof(acc[0])))
                    return nl; /* too many readers to track: keep the bytes to the end */
                acc[nacc++] = li;
                break;
            }
    }
    /* the last layer that may start before some access has completed */
    for (int x = nl - 1; x > seq_last; x--)
        for (int i = 0; i < nacc; i++)
            if (!pl__lanes_before(e, acc[i], x))
                return x;
    return seq_last;
}
