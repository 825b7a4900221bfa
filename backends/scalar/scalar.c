/*
 * scalar.c - the scalar reference backend: SPEC.md one row at a time.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "alloc.h"
#include "scalar.h"

/* Per-context buffers, grown to the largest V seen, never shrunk. */
struct scalar_state {
    uint64_t *weights;
    uint64_t *keys;
    uint64_t *tmp;
    int64_t capacity;
};

static int reserve(struct scalar_state *s, int64_t vocab)
{
    if (vocab <= s->capacity)
        return SAMPLE_OK;
    uint64_t *w = sample_realloc(s->weights, (size_t)vocab * sizeof *w);
    if (w)
        s->weights = w;
    uint64_t *k = sample_realloc(s->keys, (size_t)vocab * sizeof *k);
    if (k)
        s->keys = k;
    uint64_t *t = sample_realloc(s->tmp, (size_t)vocab * sizeof *t);
    if (t)
        s->tmp = t;
    if (!w || !k || !t)
        return SAMPLE_ERR_NO_MEMORY;
    s->capacity = vocab;
    return SAMPLE_OK;
}

/* SPEC 5: inverse-CDF sampling over K in vocabulary order. */
static int32_t draw(const uint64_t *w, int64_t vocab, struct scalar_kept kept, uint64_t u)
{
    uint64_t t = sample_mulhi64(u, kept.mass), sum = 0;
    for (int64_t i = 0; i < vocab; i++) {
        if (sample_rank_key(w[i], i) < kept.boundary)
            continue;
        sum += w[i];
        if (sum > t)
            return (int32_t)i;
    }
    return -1; /* unreachable: the kept weights sum to M_K > t */
}

static void write_row(const struct sample_call *c, int64_t r, const struct scalar_row *row,
                      const uint64_t *w, struct scalar_kept kept)
{
    float *out = c->out + r * c->out_stride;
    if (c->op == SAMPLE_OP_MASK) {
        for (int64_t i = 0; i < row->vocab; i++)
            out[i] = sample_rank_key(w[i], i) >= kept.boundary
                         ? sample_load(row->data, row->dtype, i)
                         : -INFINITY;
        return;
    }
    /* renorm and softmax: float(double(w_i) / double(M)); softmax keeps every token */
    double mass = (double)kept.mass;
    for (int64_t i = 0; i < row->vocab; i++)
        out[i] = sample_rank_key(w[i], i) >= kept.boundary ? (float)((double)w[i] / mass)
                                                           : 0.0f;
}

static void invalidate_row(const struct sample_call *c, int64_t r, int64_t vocab)
{
    if (c->tokens) {
        c->tokens[r] = -1;
        return;
    }
    float *out = c->out + r * c->out_stride;
    for (int64_t i = 0; i < vocab; i++)
        out[i] = NAN;
}

static enum sample_row_fault run_row(struct scalar_state *s, struct sample_call *c,
                                     int64_t r, int64_t *bad_index)
{
    const sample_params *p = c->params;
    const sample_tensor *in = c->input;
    size_t elem = in->dtype == SAMPLE_F32 ? 4 : 2;
    struct scalar_row row = {(const char *)in->data + (size_t)(r * c->stride) * elem,
                             (int)in->dtype, in->vocab};
    float max;

    *bad_index = -1;
    enum sample_row_fault fault = sample_row_param_fault(c, r);
    if (fault != SAMPLE_ROW_OK)
        return fault;
    fault = c->kind == SAMPLE_PROBS ? scalar_check_probs(&row, &max, bad_index)
                                    : scalar_check_logits(&row, &max, bad_index);
    if (fault != SAMPLE_ROW_OK)
        return fault;

    float t = sample_row_temperature(p, r);
    if (c->op == SAMPLE_OP_ARGMAX || (c->op == SAMPLE_OP_FROM_LOGITS && t == 0.0f)) {
        c->tokens[r] = (int32_t)scalar_first_max(&row, max);
        return SAMPLE_ROW_OK;
    }

    if (c->kind == SAMPLE_PROBS)
        scalar_prob_weights(&row, max, s->weights);
    else
        scalar_logit_weights(&row, max, t, s->weights);

    struct scalar_kept kept;
    if (c->op == SAMPLE_OP_SOFTMAX)
        kept = scalar_kept_set(s->weights, row.vocab, 0, 1.0f, 0.0f, s->keys, s->tmp);
    else
        kept = scalar_kept_set(s->weights, row.vocab, sample_row_top_k(p, r),
                               sample_row_top_p(p, r), sample_row_min_p(p, r), s->keys,
                               s->tmp);

    if (c->tokens)
        c->tokens[r] = draw(s->weights, row.vocab, kept, sample_row_draw(p, r));
    else
        write_row(c, r, &row, s->weights, kept);
    return SAMPLE_ROW_OK;
}

static int scalar_run(void *state, struct sample_call *c)
{
    struct scalar_state *s = state;
    if (c->input->batch > 0 && reserve(s, c->input->vocab) != SAMPLE_OK)
        return SAMPLE_ERR_NO_MEMORY;
    for (int64_t r = 0; r < c->input->batch; r++) {
        int64_t bad_index;
        enum sample_row_fault fault = run_row(s, c, r, &bad_index);
        if (fault != SAMPLE_ROW_OK) {
            invalidate_row(c, r, c->input->vocab);
            sample_call_row_fault(c, r, fault, bad_index);
        }
    }
    return SAMPLE_OK;
}

static int scalar_probe(const char **why)
{
    *why = "";
    return 1;
}

static int scalar_open(const sample_options *options, void **state, char *msg, size_t msglen)
{
    (void)options;
    (void)msg;
    (void)msglen;
    *state = sample_calloc(1, sizeof(struct scalar_state));
    return *state ? SAMPLE_OK : SAMPLE_ERR_NO_MEMORY;
}

static void scalar_close(void *state)
{
    struct scalar_state *s = state;
    if (!s)
        return;
    sample_free(s->weights);
    sample_free(s->keys);
    sample_free(s->tmp);
    sample_free(s);
}

const struct sample_backend sample_backend_scalar = {
    SAMPLE_BACKEND_ABI,            /* abi */
    sizeof(struct sample_backend), /* size */
    "scalar",                      /* name */
    0,                             /* supports: host memory only */
    scalar_probe,                  /* probe: always usable */
    scalar_open,                   /* open: empty buffers */
    scalar_close,                  /* close */
    scalar_run,                    /* run */
};
