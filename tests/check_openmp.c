/*
 * check_openmp.c - the openmp backend on what the differential suite does not
 * reach: long rows (one row split across a team of threads, a bracket of a
 * flat row, a peaked row, heavy ties), every team size from 1 to 4, and
 * batches both shorter and longer than the team.  Each result must equal the
 * scalar backend's bits.  Exit 77 (skip) when the backend is not built.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { BATCH = 3, TEAMS = 4 };

static const int64_t vocabs[] = {40000, 128256};

/* Row shapes: normal(0,1), normal(0,5), Gumbel 0.1, Gumbel 1, four values (ties). */
enum { DISTS = 5 };

struct filters {
    int32_t k;
    float p, q, t;
};

static const struct filters cases[] = {
    {0, 1.0f, 0.0f, 1.0f},  {50, 0.9f, 0.0f, 0.7f},   {0, 0.9f, 0.0f, 1.0f},
    {0, 0.5f, 0.05f, 1.0f}, {3000, 0.95f, 0.0f, 1.3f}, {0, 1.0f, 0.1f, 0.4f},
    {100000, 0.3f, 0.0f, 1.0f},
};

static uint64_t state = 0x0badc0de;

static double uniform(void)
{
    uint64_t z = (state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return (double)((z ^ (z >> 31)) >> 11) * 0x1p-53 + 0x1p-60;
}

static double draw_value(int dist)
{
    switch (dist) {
    case 0: return sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
    case 1: return 5 * sqrt(-2 * log(uniform())) * cos(6.283185307179586 * uniform());
    case 2: return -0.1 * log(-log(uniform()));
    case 3: return -log(-log(uniform()));
    default: return floor(uniform() * 4);
    }
}

/* Logits of the shape, and their softmax as probabilities. */
static void fill(float *logits, float *probs, int64_t vocab, int dist)
{
    for (int64_t r = 0; r < BATCH; r++) {
        float *l = logits + r * vocab, *p = probs + r * vocab;
        double mx = -INFINITY, sum = 0;
        for (int64_t i = 0; i < vocab; i++) {
            l[i] = (float)draw_value(dist);
            mx = l[i] > mx ? l[i] : mx;
        }
        for (int64_t i = 0; i < vocab; i++)
            sum += p[i] = expf(l[i] - (float)mx);
        for (int64_t i = 0; i < vocab; i++)
            p[i] = (float)(p[i] / sum);
    }
}

static sample_ctx *team_context(int threads)
{
    sample_options o;
    sample_ctx *ctx = NULL;
    sample_options_init(&o);
    o.backend = "openmp";
    o.threads = threads;
    ck_assert_int_eq(sample_create(&ctx, &o), SAMPLE_OK);
    return ctx;
}

/* One operation on a batch of `batch` rows: tokens, or rows into out. */
static int run_op(sample_ctx *ctx, int op, const float *logits, const float *probs,
                  int64_t batch, int64_t vocab, const struct filters *f, int32_t *tokens,
                  float *out)
{
    sample_tensor t;
    sample_params p;
    sample_params_init(&p);
    p.top_k = f->k;
    p.top_p = f->p;
    p.min_p = f->q;
    switch (op) {
    case 0:
        p.seed = 99;
        sample_tensor_init(&t, SAMPLE_F32, probs, batch, vocab);
        return sample_from_probs(ctx, &t, &p, tokens);
    case 1:
        p.seed = 7;
        p.offset = 3;
        p.temperature = f->t;
        sample_tensor_init(&t, SAMPLE_F32, logits, batch, vocab);
        return sample_from_logits(ctx, &t, &p, tokens);
    case 2:
        sample_tensor_init(&t, SAMPLE_F32, probs, batch, vocab);
        return sample_renorm_probs(ctx, &t, &p, out, 0);
    default:
        p.temperature = f->t;
        sample_tensor_init(&t, SAMPLE_F32, logits, batch, vocab);
        return sample_mask_logits(ctx, &t, &p, out, 0);
    }
}

START_TEST(long_rows_equal_scalar)
{
    int64_t vocab = vocabs[_i / DISTS];
    int dist = _i % DISTS;
    size_t n = (size_t)(BATCH * vocab);
    float *logits = malloc(n * sizeof(float)), *probs = malloc(n * sizeof(float));
    float *o0 = malloc(n * sizeof(float)), *o1 = malloc(n * sizeof(float));
    sample_ctx *ref = harness_context("scalar"), *team[TEAMS];
    for (int t = 0; t < TEAMS; t++)
        team[t] = team_context(t + 1);
    fill(logits, probs, vocab, dist);

    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int op = 0; op < 4; op++) {
            for (int64_t batch = 1; batch <= BATCH; batch += BATCH - 1) {
                int32_t k0[BATCH], k1[BATCH];
                int s0 = run_op(ref, op, logits, probs, batch, vocab, &cases[c], k0, o0);
                ck_assert_int_eq(s0, SAMPLE_OK);
                for (int t = 0; t < TEAMS; t++) {
                    int s1 = run_op(team[t], op, logits, probs, batch, vocab, &cases[c], k1,
                                    o1);
                    ck_assert_int_eq(s1, s0);
                    if (op < 2)
                        ck_assert_msg(memcmp(k0, k1, sizeof(int32_t) * (size_t)batch) == 0,
                                      "V %lld dist %d case %zu op %d B %lld threads %d",
                                      (long long)vocab, dist, c, op, (long long)batch, t + 1);
                    else
                        ck_assert_msg(memcmp(o0, o1, sizeof(float) * (size_t)(batch * vocab)) == 0,
                                      "V %lld dist %d case %zu op %d B %lld threads %d",
                                      (long long)vocab, dist, c, op, (long long)batch, t + 1);
                }
            }
        }
    }
    for (int t = 0; t < TEAMS; t++)
        sample_destroy(team[t]);
    sample_destroy(ref);
    free(logits), free(probs), free(o0), free(o1);
}
END_TEST

/* An invalid value in a split row: the same token -1 and the same first bad index. */
START_TEST(split_row_faults)
{
    enum { V = 100000 };
    float *x = malloc(sizeof(float) * V);
    sample_ctx *ref = harness_context("scalar"), *ctx = team_context(3);
    for (int at = 0; at < 3; at++) {
        for (int i = 0; i < V; i++)
            x[i] = 1.0f / (float)(1 + i % 97);
        x[at == 0 ? 5 : at == 1 ? V / 2 : V - 1] = at == 2 ? NAN : -1.0f;
        x[V - 3] = at == 0 ? INFINITY : x[V - 3];
        sample_tensor t;
        sample_params p;
        int32_t k0, k1;
        sample_tensor_init(&t, SAMPLE_F32, x, 1, V);
        sample_params_init(&p);
        ck_assert_int_eq(sample_from_probs(ref, &t, &p, &k0), SAMPLE_ERR_INVALID_ROWS);
        ck_assert_int_eq(sample_from_probs(ctx, &t, &p, &k1), SAMPLE_ERR_INVALID_ROWS);
        ck_assert_int_eq(k1, -1);
        ck_assert_str_eq(sample_last_error(ctx), sample_last_error(ref));
    }
    sample_destroy(ref);
    sample_destroy(ctx);
    free(x);
}
END_TEST

int main(void)
{
    sample_backend_desc d;
    int usable = 0;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    for (int32_t i = 0; sample_backend_info(i, &d) == SAMPLE_OK; i++)
        if (strcmp(d.name, "openmp") == 0)
            usable = d.usable;
    if (!usable)
        return 77;

    Suite *s = suite_create("openmp");
    TCase *tc = tcase_create("openmp");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, long_rows_equal_scalar, 0,
                        (int)(sizeof vocabs / sizeof vocabs[0]) * DISTS);
    tcase_add_test(tc, split_row_faults);
    suite_add_tcase(s, tc);
    return harness_run(s);
}
