/*
 * cpu-conv.c - Conv and ConvTranspose on the CPU, float32, NCHW (1-D to 3-D, all handled as 3-D
 * with leading extents of 1).
 *
 * Conv: per image and group, Y_g (M/g x pixels) = W_g x col, where col is the input itself for a
 * 1x1 stride-1 unpadded conv and its unfolding (im2col) otherwise. OpenBLAS runs single-threaded;
 * the GEMM is cut into a grid of (output channel x pixel) blocks, one or more per thread, sized
 * by pl__cpu_gemm_grid. With a single row of blocks (the usual case: many pixels), each block
 * unfolds only its own columns and multiplies them while they are in L2; otherwise the column
 * matrix is unfolded once, in parallel, and shared. Bias, residual and the fused activation are
 * applied per block right after its GEMM, while it is in cache.
 *
 * Depthwise convs (one input channel per group) skip GEMM, whose K would be only the kernel size,
 * and run a direct loop parallel over channel planes: each output row stays in L1 while every
 * input row adds all its kernel taps to it (3, 5 and 7 wide unrolled, so the loop vectorizes).
 *
 * ConvTranspose: per image and group, col = W_g^T x X_g (GEMM), then col2im scatter-adds col into
 * the output, parallel over output channels (each owns its plane, so no atomics).
 */
#include <cblas.h>
#include <limits.h>
#include <string.h>

#include "backends/cpu/cpu-nn.h"

typedef struct pl__conv_plan {
    int64_t n, c, m, g, cg, mg; /* batch, in/out channels, groups, per-group channels */
    pl__window w;               /* 3-D */
    int64_t isp, osp, ksz;      /* input / output spatial elements, kernel taps */
    bool direct;                /* the input is its own column matrix */
    bool depthwise;
} pl__conv_plan;

static pl_status pl__conv_plan_make(const pl__kernel_args *a, bool transposed, pl__conv_plan *p) {
    pl__infer ic = pl__cpu_nn_infer_ctx(a);
    const pl__tview *x = &a->in[0], *wt = &a->in[1];
    int nsp = x->rank - 2;
    pl__window w;
    pl_status s;
    memset(p, 0, sizeof(*p));
    if (x->dtype != PL_FLOAT32 || wt->dtype != PL_FLOAT32)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (%s): float32 only, got %s",
                        pl__layer_label(a->layer), a->layer->op, pl_dtype_name(x->dtype));
    if (nsp < 1 || nsp > PL__MAX_SPATIAL)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (%s): input rank %d", pl__layer_label(a->layer),
                        a->layer->op, x->rank);
    s = transposed ? pl__window_transposed(&ic, nsp, x->dims + 2, wt->dims + 2, &w)
                   : pl__window_forward(&ic, nsp, x->dims + 2, wt->dims + 2, false, &w);
    if (s != PL_OK)
        return s;
    pl__window_to_3d(&w, &p->w);
    p->n = x->dims[0];
    p->c = x->dims[1];
    p->g = pl__attr_int(&a->layer->attrs, "group", 1);
    p->m = a->out[0].dims[1];
    if (p->g < 1 || p->c % p->g || p->m % p->g)
        return pl__fail(PL_ERR_SHAPE, "node '%s' (%s): group %lld does not divide the channels",
                        pl__layer_label(a->layer), a->layer->op, (long long)p->g);
    p->cg = p->c / p->g;
    p->mg = p->m / p->g;
    p->isp = p->w.in[0] * p->w.in[1] * p->w.in[2];
    p->osp = p->w.out[0] * p->w.out[1] * p->w.out[2];
    p->ksz = p->w.k[0] * p->w.k[1] * p->w.k[2];
    p->direct = true;
    for (int i = 0; i < PL__MAX_SPATIAL; i++)
        p->direct = p->direct && p->w.k[i] == 1 && p->w.s[i] == 1 && p->w.pb[i] == 0 &&
                    p->w.pe[i] == 0;
    p->depthwise = !transposed && p->cg == 1 && p->g > 1;
    return PL_OK;
}

static size_t pl__floats(int64_t a, int64_t b, int64_t c) {
    size_t r;
    if (a < 0 || b < 0 || c < 0 || !pl__mul_size((size_t)a, (size_t)b, &r) ||
        !pl__mul_size(r, (size_t)c, &r) || !pl__mul_size(r, sizeof(float), &r))
        return SIZE_MAX;
    return r;
}

/* One image-group's column matrix (the blocks of one image-group use disjoint column ranges of
 * it), independent of the thread count. */
size_t pl__cpu_conv_workspace(const pl__kernel_args *a) {
    pl__conv_plan p;
    if (pl__conv_plan_make(a, false, &p) != PL_OK || p.direct || p.depthwise)
        return 0;
    return pl__floats(p.cg, p.ksz, p.osp);
}

size_t pl__cpu_conv_transpose_workspace(const pl__kernel_args *a) {
    pl__conv_plan p;
    if (pl__conv_plan_make(a, true, &p) != PL_OK)
        return 0;
    return pl__floats(p.mg, p.ksz, p.isp);
}

/* First and one-past-last o in [0, n) with 0 <= o*s + off < lim. */
static void pl__valid_range(int64_t off, int64_t s, int64_t lim, int64_t n, int64_t *lo,
                            int64_t *hi) {
    int64_t l = off >= 0 ? 0 : (-off + s - 1) / s;
    int64_t h = lim - off <= 0 ? 0 : (lim - off + s - 1) / s;
    if (h > n)
        h = n;
    if (l > h)
        l = h;
    *lo = l;
    *hi = h;
}

/* ---- im2col ---- */

/* Rows [r0, r1) of columns [c0, c0 + tw) of the image-group's column matrix into dst (row stride
 * tw). A tile may start and end inside an output row, so each row walks output-row segments. */
/* Segments are short (one output row), so the zero/copy loops stay inline: as memset/memcpy
 * calls (GCC's loop-pattern rewrite) their call overhead dominated 3x3 convs. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
PL__SIMD_CLONES
static void pl__im2col_rows(const pl__conv_plan *p, const float *x, int64_t c0, int64_t tw,
                            float *restrict dst, int64_t r0, int64_t r1) {
    const pl__window *w = &p->w;
    int64_t OH = w->out[1], OW = w->out[2], ID = w->in[0], IH = w->in[1], IW = w->in[2];
    for (int64_t r = r0; r < r1; r++) {
        int64_t c = r / p->ksz, kk = r % p->ksz;
        int64_t kd = kk / (w->k[1] * w->k[2]), kh = kk / w->k[2] % w->k[1], kw = kk % w->k[2];
        const float *xc = x + c * p->isp;
        float *d = dst + (r - r0) * tw;
        int64_t iw0 = kw * w->d[2] - w->pb[2], lo, hi, o = c0, end = c0 + tw;
        int64_t ow = o % OW, oh = o / OW % OH, od = o / OW / OH;
        pl__valid_range(iw0, w->s[2], IW, OW, &lo, &hi);
        while (o < end) {
            int64_t seg = OW - ow < end - o ? OW - ow : end - o;
            int64_t id = od * w->s[0] - w->pb[0] + kd * w->d[0];
            int64_t ih = oh * w->s[1] - w->pb[1] + kh * w->d[1];
            if (id < 0 || id >= ID || ih < 0 || ih >= IH) {
                for (int64_t q = 0; q < seg; q++)
                    d[q] = 0.f;
            } else {
                const float *restrict src = xc + (id * IH + ih) * IW;
                /* The valid columns [lo, hi) clipped to this segment [ow, ow + seg). */
                int64_t a0 = lo > ow ? lo : ow, a1 = hi < ow + seg ? hi : ow + seg, q = ow;
                if (a0 > ow + seg)
                    a0 = ow + seg;
                if (a1 < a0)
                    a1 = a0;
                for (; q < a0; q++)
                    d[q - ow] = 0.f;
                if (w->s[2] == 1) {
                    for (; q < a1; q++)
                        d[q - ow] = src[q + iw0];
                } else if (w->s[2] == 2) {
                    for (; q < a1; q++)
                        d[q - ow] = src[2 * q + iw0];
                } else {
                    int64_t sw = w->s[2];
                    for (; q < a1; q++)
                        d[q - ow] = src[q * sw + iw0];
                }
                for (; q < ow + seg; q++)
                    d[q - ow] = 0.f;
            }
            d += seg;
            o += seg;
            ow = 0;
            if (++oh == OH) {
                oh = 0;
                od++;
            }
        }
    }
}

typedef struct pl__im2col_job {
    const pl__conv_plan *p;
    const float *x; /* one image's group: cg channels */
    float *col;     /* (cg * ksz) x osp */
} pl__im2col_job;

static void pl__im2col_range(void *arg, int64_t b, int64_t e) {
    const pl__im2col_job *j = arg;
    pl__im2col_rows(j->p, j->x, 0, j->p->osp, j->col + b * j->p->osp, b, e);
}

/* ---- epilogue: bias, residual, activation ---- */

/* Rows [m0, m1) of a group's output, columns [c0, c0 + w): y = act(y + bias + residual), while
 * the block is still in cache after its GEMM. */
static void pl__epilogue_block(const pl__nn_act *act, float *y, const float *bias,
                               const float *res, int64_t ld, int64_t m0, int64_t m1, int64_t c0,
                               int64_t w) {
    if (!bias && !res && act->kind == PL__ACT_NONE)
        return;
    for (int64_t m = m0; m < m1; m++)
        pl__nn_bias_act(act, y + m * ld + c0, bias ? bias[m] : 0.f, res ? res + m * ld + c0 : NULL,
                        w);
}

/* ---- GEMM conv: per image and group, a grid of (output channel x pixel) blocks ---- */

typedef struct pl__conv_job {
    const pl__conv_plan *p;
    const pl__nn_act *act;
    const float *x, *w, *bias, *res; /* this image-group's slices */
    float *y, *ws;
    int64_t kc, bm, bn, mb, nb; /* grid: bm x bn blocks of mb rows x nb columns */
    bool fused;                 /* each block unfolds its own columns */
} pl__conv_job;

/* Block t: output channels [m0, m1) x pixels [c0, c0 + w). With one row block, each block
 * unfolds just its columns into its own slice of the workspace, which it then reads back from
 * cache; otherwise the column matrix was unfolded beforehand and is shared. */
static void pl__conv_block_range(void *arg, int64_t b, int64_t e) {
    const pl__conv_job *j = arg;
    const pl__conv_plan *p = j->p;
    for (int64_t t = b; t < e; t++) {
        int64_t i = t / j->bn, jb = t % j->bn;
        int64_t m0 = i * j->mb, m1 = m0 + j->mb < p->mg ? m0 + j->mb : p->mg;
        int64_t c0 = jb * j->nb, w = c0 + j->nb < p->osp ? j->nb : p->osp - c0;
        const float *bsrc;
        int64_t ldb = p->osp;
        if (m0 >= m1 || w <= 0)
            continue;
        if (p->direct) {
            bsrc = j->x + c0;
        } else if (j->fused) {
            float *buf = j->ws + c0 * j->kc;
            pl__im2col_rows(p, j->x, c0, w, buf, 0, j->kc);
            bsrc = buf;
            ldb = w;
        } else {
            bsrc = j->ws + c0;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(m1 - m0), (int)w, (int)j->kc,
                    1.f, j->w + m0 * j->kc, (int)j->kc, bsrc, (int)ldb, 0.f,
                    j->y + m0 * p->osp + c0, (int)p->osp);
        pl__epilogue_block(j->act, j->y, j->bias, j->res, p->osp, m0, m1, c0, w);
    }
}

/* ---- depthwise direct loop ---- */

typedef struct pl__dw_job {
    const pl__conv_plan *p;
    const pl__nn_act *act;
    const float *x, *wt, *bias, *res;
    float *y;
} pl__dw_job;

/* One input row's contribution to one output row over [lo, hi), where all KW taps are inside
 * the row: every tap is summed before the single store. KW is a constant at each call site, so
 * the tap loop unrolls and the pixel loop vectorizes. */
static inline __attribute__((always_inline)) void
pl__dw_row(float *restrict yrow, const float *restrict row, const float *restrict wk, int64_t s,
           int64_t d, int64_t off, int64_t lo, int64_t hi, const int KW) {
    if (s == 1) {
        for (int64_t ow = lo; ow < hi; ow++) {
            float acc = yrow[ow];
            for (int kw = 0; kw < KW; kw++)
                acc += wk[kw] * row[ow + kw * d + off];
            yrow[ow] = acc;
        }
    } else {
        for (int64_t ow = lo; ow < hi; ow++) {
            float acc = yrow[ow];
            for (int kw = 0; kw < KW; kw++)
                acc += wk[kw] * row[ow * s + kw * d + off];
            yrow[ow] = acc;
        }
    }
}

/* Taps of one input row over output pixels [lo, hi), one tap at a time, each clipped to its
 * valid pixels [tl[kw], th[kw]) (the row edges, and kernel widths without a specialised loop). */
static inline __attribute__((always_inline)) void
pl__dw_taps(float *restrict yrow, const float *restrict row, const float *restrict wk, int64_t KW,
            int64_t s, int64_t d, int64_t off, const int64_t *tl, const int64_t *th, int64_t lo,
            int64_t hi) {
    for (int64_t kw = 0; kw < KW; kw++) {
        int64_t l = tl[kw] > lo ? tl[kw] : lo, h = th[kw] < hi ? th[kw] : hi;
        for (int64_t ow = l; ow < h; ow++)
            yrow[ow] += wk[kw] * row[ow * s + kw * d + off];
    }
}

PL__SIMD_CLONES
static void pl__dw_range(void *arg, int64_t b, int64_t e) {
    const pl__dw_job *j = arg;
    const pl__conv_plan *p = j->p;
    const pl__window *w = &p->w;
    int64_t OD = w->out[0], OH = w->out[1], OW = w->out[2];
    int64_t ID = w->in[0], IH = w->in[1], IW = w->in[2];
    int64_t KD = w->k[0], KH = w->k[1], KW = w->k[2], lo = 0, hi = OW;
    int64_t off0 = -w->pb[2], s = w->s[2], dl = w->d[2], tl[16], th[16];
    bool many = KW > 16; /* kernels this wide take the generic loop below */
    /* Valid pixels of each tap, and [lo, hi) where every tap is valid. */
    for (int64_t kw = 0; kw < KW && !many; kw++) {
        pl__valid_range(kw * dl + off0, s, IW, OW, &tl[kw], &th[kw]);
        lo = tl[kw] > lo ? tl[kw] : lo;
        hi = th[kw] < hi ? th[kw] : hi;
    }
    if (hi < lo)
        hi = lo;
    for (int64_t plane = b; plane < e; plane++) {
        int64_t n = plane / p->m, m = plane % p->m, g = m / p->mg;
        const float *xin = j->x + (n * p->c + g) * p->isp;
        const float *wk = j->wt + m * p->ksz;
        float *y = j->y + plane * p->osp;
        for (int64_t i = 0; i < p->osp; i++)
            y[i] = 0.f;
        for (int64_t od = 0; od < OD; od++) {
            for (int64_t oh = 0; oh < OH; oh++) {
                float *yrow = y + (od * OH + oh) * OW;
                for (int64_t kd = 0; kd < KD; kd++) {
                    int64_t id = od * w->s[0] - w->pb[0] + kd * w->d[0];
                    if (id < 0 || id >= ID)
                        continue;
                    for (int64_t kh = 0; kh < KH; kh++) {
                        int64_t ih = oh * w->s[1] - w->pb[1] + kh * w->d[1];
                        const float *row = xin + (id * IH + ih) * IW;
                        const float *wr = wk + (kd * KH + kh) * KW;
                        if (ih < 0 || ih >= IH)
                            continue;
                        if (many) {
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t l, h;
                                pl__valid_range(kw * dl + off0, s, IW, OW, &l, &h);
                                for (int64_t ow = l; ow < h; ow++)
                                    yrow[ow] += wr[kw] * row[ow * s + kw * dl + off0];
                            }
                            continue;
                        }
                        pl__dw_taps(yrow, row, wr, KW, s, dl, off0, tl, th, 0, lo);
                        pl__dw_taps(yrow, row, wr, KW, s, dl, off0, tl, th, hi, OW);
                        if (KW == 3)
                            pl__dw_row(yrow, row, wr, s, dl, off0, lo, hi, 3);
                        else if (KW == 5)
                            pl__dw_row(yrow, row, wr, s, dl, off0, lo, hi, 5);
                        else if (KW == 7)
                            pl__dw_row(yrow, row, wr, s, dl, off0, lo, hi, 7);
                        else
                            pl__dw_taps(yrow, row, wr, KW, s, dl, off0, tl, th, lo, hi);
                    }
                }
            }
        }
        pl__nn_bias_act(j->act, y, j->bias ? j->bias[m] : 0.f,
                        j->res ? j->res + plane * p->osp : NULL, p->osp);
    }
}

pl_status pl__cpu_conv(const pl__kernel_args *a) {
    pl__conv_plan p;
    const float *x = a->in[0].data, *wt = a->in[1].data;
    const float *bias = a->nin > 2 ? a->in[2].data : NULL;
    const float *res = a->nin > 3 ? a->in[3].data : NULL;
    float *y = a->out[0].data;
    int64_t kc, threads = pl__cpu_num_threads(a->bctx);
    pl__nn_act act = pl__nn_act_get(a->layer);
    pl_status s = pl__conv_plan_make(a, false, &p);
    if (s != PL_OK)
        return s;
    if (p.n == 0 || p.m == 0 || p.osp == 0)
        return PL_OK;
    if (p.depthwise) {
        pl__dw_job j = {&p, &act, x, wt, bias, res, y};
        int64_t grain = p.osp * p.ksz >= 4096 ? 1 : 4096 / (p.osp * p.ksz);
        pl__cpu_parallel_for(a->bctx, p.n * p.m, grain, pl__dw_range, &j);
        return PL_OK;
    }
    kc = p.cg * p.ksz;
    if (p.mg > INT_MAX || p.osp > INT_MAX || kc > INT_MAX)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (Conv): GEMM extents exceed the BLAS int "
                        "range", pl__layer_label(a->layer));
    if (kc == 0) {
        memset(y, 0, sizeof(float) * (size_t)(p.n * p.m * p.osp));
        for (int64_t n = 0; n < p.n; n++)
            pl__epilogue_block(&act, y + n * p.m * p.osp, bias, res ? res + n * p.m * p.osp : NULL,
                               p.osp, 0, p.m, 0, p.osp);
        return PL_OK;
    }
    if (!p.direct) {
        size_t need = pl__cpu_conv_workspace(a);
        if (!a->workspace || a->workspace_size < need)
            return pl__cpu_nn_short_workspace(a, need);
    }
    pl__cpu_blas_serial();
    {
        /* One grid for all image-groups: column blocks capped so that an unfolded block stays
         * in L2 (128K floats), which also gives one thread many blocks. */
        int64_t bm, bn, mb, nb;
        pl__cpu_gemm_grid(threads, p.mg, p.osp, kc, p.direct ? 0 : (int64_t)128 * 1024, &bm,
                          &bn);
        mb = ((p.mg + bm - 1) / bm + 15) & ~(int64_t)15;
        bm = (p.mg + mb - 1) / mb;
        nb = (p.osp + bn - 1) / bn;
        bn = (p.osp + nb - 1) / nb;
        for (int64_t n = 0; n < p.n; n++) {
            for (int64_t g = 0; g < p.g; g++) {
                int64_t goff = (n * p.m + g * p.mg) * p.osp;
                pl__conv_job j = {&p,  &act, x + (n * p.c + g * p.cg) * p.isp,
                                  wt + g * p.mg * kc, bias ? bias + g * p.mg : NULL,
                                  res ? res + goff : NULL, y + goff, a->workspace, kc, bm, bn,
                                  mb, nb, bm == 1};
                if (p.osp == 1) {
                    /* 1x1 images (squeeze-excitation): a matrix-vector product. */
                    const float *col = j.x;
                    if (!p.direct) {
                        pl__im2col_rows(&p, j.x, 0, 1, a->workspace, 0, kc);
                        col = a->workspace;
                    }
                    pl__cpu_sgemm(a->bctx, false, false, p.mg, 1, kc, 1.f, j.w, kc, col, 1, 0.f,
                                  j.y, 1);
                    pl__epilogue_block(&act, j.y, j.bias, j.res, 1, 0, p.mg, 0, 1);
                    continue;
                }
                if (!p.direct && bm > 1) {
                    pl__im2col_job ij = {&p, j.x, a->workspace};
                    int64_t grain = p.osp >= 16384 ? 1 : 16384 / p.osp;
                    pl__cpu_parallel_for(a->bctx, kc, grain, pl__im2col_range, &ij);
                }
                pl__cpu_parallel_for(a->bctx, bm * bn, 1, pl__conv_block_range, &j);
            }
        }
    }
    return PL_OK;
}

/* ---- ConvTranspose ---- */

typedef struct pl__col2im_job {
    const pl__conv_plan *p;
    const float *col; /* (mg * ksz) x isp */
    float *y;         /* the group's mg output planes */
    const float *bias;
} pl__col2im_job;

static void pl__col2im_range(void *arg, int64_t b, int64_t e) {
    const pl__col2im_job *j = arg;
    const pl__conv_plan *p = j->p;
    const pl__window *w = &p->w;
    int64_t ID = w->in[0], IH = w->in[1], IW = w->in[2];
    int64_t OD = w->out[0], OH = w->out[1], OW = w->out[2];
    for (int64_t m = b; m < e; m++) {
        float *y = j->y + m * p->osp;
        float bv = j->bias ? j->bias[m] : 0.f;
        for (int64_t i = 0; i < p->osp; i++)
            y[i] = bv;
        for (int64_t kk = 0; kk < p->ksz; kk++) {
            int64_t kd = kk / (w->k[1] * w->k[2]), kh = kk / w->k[2] % w->k[1], kw = kk % w->k[2];
            const float *src = j->col + (m * p->ksz + kk) * p->isp;
            /* ow = iw*s + kw*d - pb must land in [0, OW): the valid iw range. */
            int64_t off = kw * w->d[2] - w->pb[2], lo = 0, hi = IW;
            while (lo < hi && lo * w->s[2] + off < 0)
                lo++;
            while (hi > lo && (hi - 1) * w->s[2] + off >= OW)
                hi--;
            for (int64_t id = 0; id < ID; id++) {
                int64_t od = id * w->s[0] + kd * w->d[0] - w->pb[0];
                if (od < 0 || od >= OD)
                    continue;
                for (int64_t ih = 0; ih < IH; ih++) {
                    int64_t oh = ih * w->s[1] + kh * w->d[1] - w->pb[1];
                    const float *srow = src + (id * IH + ih) * IW;
                    float *yrow;
                    if (oh < 0 || oh >= OH)
                        continue;
                    yrow = y + (od * OH + oh) * OW;
                    for (int64_t iw = lo; iw < hi; iw++)
                        yrow[iw * w->s[2] + off] += srow[iw];
                }
            }
        }
    }
}

pl_status pl__cpu_conv_transpose(const pl__kernel_args *a) {
    pl__conv_plan p;
    const float *x = a->in[0].data, *wt = a->in[1].data;
    const float *bias = a->nin > 2 ? a->in[2].data : NULL;
    float *y = a->out[0].data, *col = a->workspace;
    int64_t rows;
    size_t need;
    pl_status s = pl__conv_plan_make(a, true, &p);
    if (s != PL_OK)
        return s;
    if (p.n == 0 || p.m == 0 || p.osp == 0)
        return PL_OK;
    rows = p.mg * p.ksz;
    if (rows > INT_MAX || p.isp > INT_MAX || p.cg > INT_MAX)
        return pl__fail(PL_ERR_UNSUPPORTED, "node '%s' (ConvTranspose): GEMM extents exceed the "
                        "BLAS int range", pl__layer_label(a->layer));
    need = pl__floats(p.mg, p.ksz, p.isp);
    if (!col || a->workspace_size < need)
        return pl__cpu_nn_short_workspace(a, need);
    for (int64_t n = 0; n < p.n; n++) {
        for (int64_t g = 0; g < p.g; g++) {
            const float *xg = x + (n * p.c + g * p.cg) * p.isp;
            float *yg = y + (n * p.m + g * p.mg) * p.osp;
            pl__col2im_job j = {&p, col, yg, bias ? bias + g * p.mg : NULL};
            if (p.cg > 0)
                pl__cpu_sgemm(a->bctx, true, false, rows, p.isp, p.cg, 1.f, wt + g * p.cg * rows,
                              rows, xg, p.isp, 0.f, col, p.isp);
            else
                memset(col, 0, need);
            pl__cpu_parallel_for(a->bctx, p.mg, 1, pl__col2im_range, &j);
        }
    }
    pl__cpu_fused_activation(a->layer, y, p.n * p.m * p.osp);
    return PL_OK;
}
