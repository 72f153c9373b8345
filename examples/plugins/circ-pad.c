/* sample::circ_pad_plugin - circular padding, torch.nn.functional.pad(x, pads, "circular"):
 * pads = (left, right) of the last dim, then (top, bottom) of the one before, ... (negative
 * values crop). Two tactics the builder times: "gather" finds the source of every element,
 * "rows" once per row and then walks it. */
#include <string.h>

#include <plinth/plugin.h>

static int circ_pad_outputs(pl_ctx *c) {
    int64_t np, r = c->in[0].rank;
    const int64_t *pads = pl_get_ints(c, "pads", &np);
    pl_expr d[PL_MAX_RANK];
    if (np % 2 || np > 2 * r)
        return pl_error(c, "pads has %lld values; expected an even count up to %lld",
                        (long long)np, (long long)(2 * r));
    for (int a = 0; a < r; a++)
        d[a] = pl_dim(c, 0, a);
    for (int i = 0; i < np / 2; i++)
        d[r - 1 - i] = pl_add(c, d[r - 1 - i], pads[2 * i] + pads[2 * i + 1]);
    return pl_output(c, 0, PL_DTYPE_INVALID, (int)r, d);
}

static int circ_pad(pl_ctx *c) {
    const pl_tensor_view *x = &c->in[0], *y = &c->out[0];
    int64_t np, r = x->rank, es = (int64_t)pl_dtype_bytes(x->dtype), wx = r ? x->dims[r - 1] : 1;
    const int64_t *pads = pl_get_ints(c, "pads", &np);
    int64_t n = pl_numel(y), run = c->tactic == 1 && r ? y->dims[r - 1] : 1;
    if (pl_numel(x) == 0)
        return n ? pl_error(c, "cannot pad an empty input circularly") : 0;
    for (int64_t o = 0; o < n; o += run) {
        int64_t base = 0, k0 = 0, rest = o, mul = 1; /* source of element o: base + k0 */
        for (int64_t a = r - 1; a >= 0; a--) {
            int64_t dx = x->dims[a], pad = r - 1 - a < np / 2 ? pads[2 * (r - 1 - a)] : 0;
            int64_t k = ((rest % y->dims[a] - pad) % dx + dx) % dx;
            base += a == r - 1 ? 0 : k * mul;
            k0 = a == r - 1 ? k : k0;
            mul *= dx;
            rest /= y->dims[a];
        }
        for (int64_t j = 0; j < run; j++, k0 = k0 + 1 == wx ? 0 : k0 + 1)
            memcpy((char *)y->data + (o + j) * es, (const char *)x->data + (base + k0) * es,
                   (size_t)es);
    }
    return 0;
}

const pl_plugin_def sample_circ_pad = {
    .abi = PL_PLUGIN_ABI, .ns = "sample", .name = "circ_pad_plugin",
    .num_inputs = 1, .num_outputs = 1,
    .types = "FP32|FP16, FP32|FP16",
    .attrs = {{"pads", PL_ATTR_INTS, .required = true, .doc = "torch.nn.functional.pad order"}},
    .tactics = {"gather", "rows"},
    .outputs = circ_pad_outputs,
    .cpu = circ_pad,
};
