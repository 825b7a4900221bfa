/*
 * check_differential.c - random calls (shapes, dtypes, strides, parameters,
 * distributions, invalid rows) on every usable backend: each must equal the
 * scalar reference bit for bit, and every backend must satisfy properties
 * that hold by SPEC.md whatever the answer is (batch-position independence
 * with per-row seeds, top-k 1 = argmax, the sampled token is in the kept set
 * that mask_logits reports, renormalised rows sum to one).
 *
 * SAMPLE_DIFF_SEED and SAMPLE_DIFF_CASES change the run; a failure prints the
 * seed and case number to repeat it.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *backends[HARNESS_MAX_BACKENDS];
static int nbackends;
static uint64_t base_seed = 0x5eed5eed;
static int ncases = 300;

static int64_t below(uint64_t *s, int64_t n)
{
    return (int64_t)(harness_next(s) % (uint64_t)n);
}

static uint16_t to_half_bits(float f, int dtype)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if (dtype == SAMPLE_BF16)
        return (uint16_t)(u >> 16);
    /* float16 by truncation towards zero: any value will do, it only has to be one */
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    float a = fabsf(f);
    if (isnan(a))
        return 0x7e00;
    if (a >= 65520.0f)
        return (uint16_t)(sign | 0x7c00u);
    if (a < 0x1p-14f)
        return (uint16_t)(sign | (uint16_t)(a * 0x1p24f));
    int e;
    float fr = frexpf(a, &e);
    return (uint16_t)(sign | (uint32_t)(e + 14) << 10 | ((uint32_t)ldexpf(fr, 11) & 0x3ffu));
}

enum op { OP_PROBS, OP_LOGITS, OP_ARGMAX, OP_RENORM, OP_MASK, OP_SOFTMAX, OP_COUNT };

struct gen_case {
    enum op op;
    int dtype;
    int is_probs;                   /* how argmax reads the input */
    int64_t batch, vocab, stride, out_stride;
    void *data;
    sample_tensor tensor;
    sample_params params;
    int32_t *top_ks;
    float *top_ps;
    uint64_t *seeds, *offsets;
};

static float random_value(uint64_t *s, int is_probs, int shape, double scale)
{
    double u = harness_uniform(s);
    if (shape == 0) /* ties and zeros */
        return is_probs ? (float)below(s, 4) * 0.25f : (float)below(s, 4) - 2.0f;
    if (is_probs) {
        double g = -log(-log(u + 1e-300) + 1e-300);
        return (float)exp(g * scale - 10.0);
    }
    if (shape == 2 && below(s, 50) == 0)
        return -INFINITY;
    return (float)((u * 2.0 - 1.0) * scale);
}

static void store(struct gen_case *c, int64_t at, float v)
{
    if (c->dtype == SAMPLE_F32)
        ((float *)c->data)[at] = v;
    else
        ((uint16_t *)c->data)[at] = to_half_bits(v, c->dtype);
}

static float pick_top_p(uint64_t *s)
{
    static const float choices[] = {1.0f, 0.9f, 0.5f, 0.99f, 0x1p-30f, 0.3f};
    return choices[below(s, 6)];
}

static void make_case(struct gen_case *c, uint64_t *s)
{
    static const int64_t vocabs[] = {1, 2, 3, 7, 64, 100, 1000, 4097, 32000};
    memset(c, 0, sizeof *c);
    c->op = (enum op)below(s, OP_COUNT);
    c->dtype = (int)below(s, 3);
    c->batch = 1 + below(s, below(s, 4) == 0 ? 40 : 6);
    c->vocab = vocabs[below(s, 9)];
    c->stride = below(s, 3) == 0 ? c->vocab + below(s, 5) : 0;
    c->out_stride = below(s, 3) == 0 ? c->vocab + below(s, 3) : 0;
    int64_t stride = c->stride ? c->stride : c->vocab;
    size_t elem = c->dtype == SAMPLE_F32 ? 4 : 2;
    int is_probs = c->op == OP_PROBS || c->op == OP_RENORM || (c->op == OP_ARGMAX && below(s, 2));
    c->is_probs = is_probs;
    c->data = calloc((size_t)(c->batch * stride), elem);
    int shape = (int)below(s, 3);
    double scale = (double)(1 + below(s, 8));
    for (int64_t r = 0; r < c->batch; r++)
        for (int64_t j = 0; j < stride; j++)
            store(c, r * stride + j, j < c->vocab ? random_value(s, is_probs, shape, scale) : NAN);
    if (below(s, 8) == 0) /* an invalid row */
        store(c, below(s, c->batch) * stride + below(s, c->vocab), below(s, 2) ? NAN : -1.0f);

    sample_tensor_init(&c->tensor, (sample_dtype)c->dtype, c->data, c->batch, c->vocab);
    c->tensor.stride = c->stride;
    sample_params *p = &c->params;
    sample_params_init(p);
    if (c->op == OP_SOFTMAX || c->op == OP_MASK || c->op == OP_LOGITS)
        p->temperature = c->op == OP_LOGITS && below(s, 6) == 0
                             ? 0.0f
                             : (float)(0.1 + harness_uniform(s) * 2);
    if (c->op == OP_PROBS || c->op == OP_LOGITS || c->op == OP_RENORM || c->op == OP_MASK) {
        p->top_k = below(s, 2) ? 0 : (int32_t)below(s, c->vocab + 2);
        p->top_p = pick_top_p(s);
        p->min_p = below(s, 3) ? 0.0f : (float)(harness_uniform(s) * 0.5);
        if (below(s, 4) == 0) {
            c->top_ks = calloc((size_t)c->batch, sizeof *c->top_ks);
            c->top_ps = calloc((size_t)c->batch, sizeof *c->top_ps);
            for (int64_t r = 0; r < c->batch; r++) {
                c->top_ks[r] = (int32_t)below(s, c->vocab + 2);
                c->top_ps[r] = pick_top_p(s);
            }
            p->top_ks = c->top_ks;
            p->top_ps = c->top_ps;
        }
    }
    if (c->op == OP_PROBS || c->op == OP_LOGITS) {
        p->seed = harness_next(s);
        p->offset = harness_next(s) >> below(s, 64);
        if (below(s, 3) == 0) {
            c->seeds = calloc((size_t)c->batch, sizeof *c->seeds);
            c->offsets = calloc((size_t)c->batch, sizeof *c->offsets);
            for (int64_t r = 0; r < c->batch; r++) {
                c->seeds[r] = harness_next(s);
                c->offsets[r] = harness_next(s) >> 40;
            }
            p->seeds = c->seeds;
            p->offsets = c->offsets;
        }
    }
}

static void free_case(struct gen_case *c)
{
    free(c->data);
    free(c->top_ks);
    free(c->top_ps);
    free(c->seeds);
    free(c->offsets);
}

/* Runs the case; results go to tokens or out (sized by the caller). */
static int run_case(sample_ctx *ctx, struct gen_case *c, int32_t *tokens, float *out)
{
    const sample_tensor *t = &c->tensor;
    switch (c->op) {
    case OP_PROBS: return sample_from_probs(ctx, t, &c->params, tokens);
    case OP_LOGITS: return sample_from_logits(ctx, t, &c->params, tokens);
    case OP_ARGMAX: return sample_argmax(ctx, t, c->is_probs ? SAMPLE_PROBS : SAMPLE_LOGITS, tokens);
    case OP_RENORM: return sample_renorm_probs(ctx, t, &c->params, out, c->out_stride);
    case OP_MASK: return sample_mask_logits(ctx, t, &c->params, out, c->out_stride);
    default: return sample_softmax(ctx, t, &c->params, out, c->out_stride);
    }
}

static size_t out_count(const struct gen_case *c)
{
    return (size_t)(c->batch * (c->out_stride ? c->out_stride : c->vocab));
}

/* Every usable backend gives the scalar backend's bits. */
START_TEST(equals_scalar)
{
    const char *name = backends[_i];
    sample_ctx *ref = harness_context("scalar"), *ctx = harness_context(name);
    uint64_t s = base_seed;
    for (int n = 0; n < ncases; n++) {
        struct gen_case c;
        make_case(&c, &s);
        size_t count = out_count(&c);
        int32_t *t0 = calloc((size_t)c.batch, 4), *t1 = calloc((size_t)c.batch, 4);
        float *o0 = calloc(count, 4), *o1 = calloc(count, 4);
        int s0 = run_case(ref, &c, t0, o0), s1 = run_case(ctx, &c, t1, o1);
        ck_assert_msg(s0 == SAMPLE_OK || s0 == SAMPLE_ERR_INVALID_ROWS,
                      "seed %" PRIx64 " case %d: scalar: %s", base_seed, n, sample_last_error(ref));
        ck_assert_msg(s0 == s1, "seed %" PRIx64 " case %d: status %d vs scalar %d", base_seed,
                      n, s1, s0);
        ck_assert_msg(memcmp(t0, t1, (size_t)c.batch * 4) == 0,
                      "seed %" PRIx64 " case %d: tokens differ from scalar", base_seed, n);
        ck_assert_msg(memcmp(o0, o1, count * 4) == 0,
                      "seed %" PRIx64 " case %d: rows differ from scalar", base_seed, n);
        free(t0), free(t1), free(o0), free(o1);
        free_case(&c);
    }
    sample_destroy(ref);
    sample_destroy(ctx);
}
END_TEST

/* With per-row seeds a row's token does not depend on where it sits. */
START_TEST(position_independent)
{
    sample_ctx *ctx = harness_context(backends[_i]);
    uint64_t s = base_seed ^ 1;
    enum { B = 9, V = 3000 };
    float *x = malloc(sizeof(float) * B * V);
    for (int n = 0; n < 20; n++) {
        for (int j = 0; j < V; j++)
            x[j] = random_value(&s, 1, 1, 3.0);
        for (int r = 1; r < B; r++) /* every row the same */
            memcpy(x + r * V, x, sizeof(float) * V);
        uint64_t seeds[B], offsets[B];
        for (int r = 0; r < B; r++)
            seeds[r] = 77, offsets[r] = (uint64_t)n;
        int32_t tok[B];
        sample_tensor t;
        sample_params p;
        sample_tensor_init(&t, SAMPLE_F32, x, B, V);
        sample_params_init(&p);
        p.seeds = seeds;
        p.offsets = offsets;
        p.top_p = 0.95f;
        ck_assert_int_eq(sample_from_probs(ctx, &t, &p, tok), SAMPLE_OK);
        for (int r = 1; r < B; r++)
            ck_assert_int_eq(tok[r], tok[0]);
        /* and alone, as a batch of one */
        int32_t alone;
        t.batch = 1;
        ck_assert_int_eq(sample_from_probs(ctx, &t, &p, &alone), SAMPLE_OK);
        ck_assert_int_eq(alone, tok[0]);
    }
    free(x);
    sample_destroy(ctx);
}
END_TEST

/* top-k 1 keeps only the first token in the order: the argmax. */
START_TEST(top1_is_argmax)
{
    sample_ctx *ctx = harness_context(backends[_i]);
    uint64_t s = base_seed ^ 2;
    enum { B = 16, V = 1000 };
    float *x = malloc(sizeof(float) * B * V);
    for (int j = 0; j < B * V; j++)
        x[j] = random_value(&s, 1, (int)(j % 2), 2.0);
    int32_t a[B], b[B];
    sample_tensor t;
    sample_params p;
    sample_tensor_init(&t, SAMPLE_F32, x, B, V);
    sample_params_init(&p);
    p.top_k = 1;
    p.seed = 5;
    ck_assert_int_eq(sample_argmax(ctx, &t, SAMPLE_PROBS, a), SAMPLE_OK);
    ck_assert_int_eq(sample_from_probs(ctx, &t, &p, b), SAMPLE_OK);
    for (int r = 0; r < B; r++)
        ck_assert_int_eq(a[r], b[r]);
    free(x);
    sample_destroy(ctx);
}
END_TEST

/* The sampled token is one that mask_logits keeps; renormalised rows sum to 1. */
START_TEST(kept_set_agrees)
{
    sample_ctx *ctx = harness_context(backends[_i]);
    uint64_t s = base_seed ^ 3;
    enum { B = 8, V = 2000 };
    float *x = malloc(sizeof(float) * B * V), *out = malloc(sizeof(float) * B * V);
    for (int n = 0; n < 10; n++) {
        for (int j = 0; j < B * V; j++)
            x[j] = random_value(&s, 0, 1, 6.0);
        int32_t tok[B];
        sample_tensor t;
        sample_params p;
        sample_tensor_init(&t, SAMPLE_F32, x, B, V);
        sample_params_init(&p);
        p.temperature = 0.7f;
        p.top_k = 1 + (int32_t)below(&s, 200);
        p.top_p = 0.9f;
        ck_assert_int_eq(sample_mask_logits(ctx, &t, &p, out, 0), SAMPLE_OK);
        p.seed = harness_next(&s);
        ck_assert_int_eq(sample_from_logits(ctx, &t, &p, tok), SAMPLE_OK);
        for (int r = 0; r < B; r++) {
            int kept = 0;
            for (int j = 0; j < V; j++)
                kept += out[r * V + j] != -INFINITY;
            ck_assert_int_le(kept, p.top_k);
            ck_assert(out[r * V + tok[r]] != -INFINITY);
        }
        for (int j = 0; j < B * V; j++) /* probabilities, for renorm */
            x[j] = expf(x[j] / 6.0f);
        p.seed = 0;
        p.temperature = 1.0f;
        ck_assert_int_eq(sample_renorm_probs(ctx, &t, &p, out, 0), SAMPLE_OK);
        for (int r = 0; r < B; r++) {
            double sum = 0;
            for (int j = 0; j < V; j++)
                sum += out[r * V + j];
            ck_assert_double_eq_tol(sum, 1.0, 1e-5);
        }
    }
    free(x);
    free(out);
    sample_destroy(ctx);
}
END_TEST

int main(void)
{
    const char *seed = getenv("SAMPLE_DIFF_SEED"), *cases = getenv("SAMPLE_DIFF_CASES");
    if (seed)
        base_seed = strtoull(seed, NULL, 0);
    if (cases)
        ncases = atoi(cases);
    nbackends = harness_usable_backends(backends);
    printf("differential: seed 0x%" PRIx64 ", %d cases, %d backends\n", base_seed, ncases,
           nbackends);
    Suite *s = suite_create("differential");
    TCase *tc = tcase_create("differential");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, equals_scalar, 0, nbackends);
    tcase_add_loop_test(tc, position_independent, 0, nbackends);
    tcase_add_loop_test(tc, top1_is_argmax, 0, nbackends);
    tcase_add_loop_test(tc, kept_set_agrees, 0, nbackends);
    suite_add_tcase(s, tc);
    int status = harness_run(s);
    return status;
}
