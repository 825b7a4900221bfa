/*
 * check_exact.c - the shared exact-arithmetic header against independent
 * answers: Random123's known-answer vectors, the oracle's sexp and weight
 * tables (tests/corpus), and values worked out by hand in the comments.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <float.h>
#include <inttypes.h>
#include <stdlib.h>

#include "corpus_reader.h"
#include "harness.h"
#include "kernel_abi.h"
#include "sample_exact.h"

/* Random123 1.14, tests/kat_vectors: "philox4x32 10" lines (counter, key, expected). */
static const uint32_t philox_kat[][10] = {
    {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
     0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
     0x94fdcceb, 0x5001e420, 0x24126ea1},
};

START_TEST(philox_known_answers)
{
    const uint32_t *v = philox_kat[_i];
    uint32_t out[4];
    sample_philox4x32_10(v, v + 4, out);
    for (int j = 0; j < 4; j++)
        ck_assert_msg(out[j] == v[6 + j], "vector %d word %d: %08x, expected %08x", _i, j,
                      out[j], v[6 + j]);
}
END_TEST

static int line_failures, line_count;

static void philox_line(char **f, int n, void *user)
{
    (void)user;
    uint32_t w[10];
    if (n != 11) {
        line_failures++;
        return;
    }
    for (int i = 0; i < 10; i++)
        w[i] = (uint32_t)strtoul(f[i + 1], NULL, 16);
    uint32_t out[4];
    sample_philox4x32_10(w, w + 4, out);
    line_count++;
    if (out[0] != w[6] || out[1] != w[7] || out[2] != w[8] || out[3] != w[9])
        line_failures++;
}

static void sexp_line(char **f, int n, void *user)
{
    (void)user;
    if (n != 4) {
        line_failures++;
        return;
    }
    float z = sample_f32_from_bits((uint32_t)strtoul(f[1], NULL, 16));
    uint32_t e = (uint32_t)strtoul(f[2], NULL, 16);
    uint64_t w = strtoull(f[3], NULL, 10);
    uint32_t got = sample_f32_bits(sample_sexp(z));
    uint64_t gw = sample_logit_weight(z, 0.0f, 1.0f);
    line_count++;
    if (got != e || gw != w) {
        if (line_failures++ < 10)
            fprintf(stderr, "sexp(%s) = %08x weight %" PRIu64 ", expected %08x %" PRIu64 "\n",
                    f[1], got, gw, e, w);
    }
}

static void weight_line(char **f, int n, void *user)
{
    (void)user;
    if (n != 4) {
        line_failures++;
        return;
    }
    float m = sample_f32_from_bits((uint32_t)strtoul(f[1], NULL, 16));
    float p = sample_f32_from_bits((uint32_t)strtoul(f[2], NULL, 16));
    uint64_t w = strtoull(f[3], NULL, 10);
    uint64_t got = sample_prob_weight(p, sample_frexp_exponent(m));
    line_count++;
    if (got != w && line_failures++ < 10)
        fprintf(stderr, "pweight(max %s, p %s) = %" PRIu64 ", expected %" PRIu64 "\n", f[1],
                f[2], got, w);
}

static void run_lines(const char *file, const char *word, corpus_line_fn *fn)
{
    char path[1024];
    corpus_path(path, sizeof path, file);
    line_failures = line_count = 0;
    int n = corpus_each_line(path, word, fn, NULL);
    ck_assert_msg(n > 0, "%s has no %s lines", path, word);
    ck_assert_msg(line_failures == 0, "%s: %d of %d lines failed", file, line_failures, n);
}

START_TEST(philox_corpus) { run_lines("philox.corpus", "philox", philox_line); }
END_TEST
START_TEST(sexp_corpus) { run_lines("sexp.corpus", "sexp", sexp_line); }
END_TEST
START_TEST(weights_corpus) { run_lines("weights.corpus", "pweight", weight_line); }
END_TEST

START_TEST(mulhi)
{
    ck_assert_uint_eq(sample_mulhi64(UINT64_MAX, UINT64_MAX), UINT64_MAX - 1);
    ck_assert_uint_eq(sample_mulhi64((uint64_t)1 << 32, (uint64_t)1 << 32), 1);
    ck_assert_uint_eq(sample_mulhi64(3, (uint64_t)1 << 63), 1);
    ck_assert_uint_eq(sample_mulhi64(12345, 67890), 0);
}
END_TEST

START_TEST(ceil_mul)
{
    uint64_t big = (uint64_t)1 << 63;
    ck_assert_uint_eq(sample_ceil_mul(1.0f, UINT64_MAX), UINT64_MAX);
    ck_assert_uint_eq(sample_ceil_mul(0.5f, 3), 2);
    ck_assert_uint_eq(sample_ceil_mul(0.5f, 4), 2);
    ck_assert_uint_eq(sample_ceil_mul(0.0f, 99), 0);
    ck_assert_uint_eq(sample_ceil_mul(0x1p-149f, 1), 1);
    /* 0.9f = 15099494 * 2^-24 = 0.8999999761...; times 10 is just under 9 */
    ck_assert_uint_eq(sample_ceil_mul(0.9f, 10), 9);
    ck_assert_uint_eq(sample_ceil_mul(0.75f, big), 3 * (big >> 2));
    ck_assert_uint_eq(sample_ceil_mul(0x1p-30f, (uint64_t)1 << 62), (uint64_t)1 << 32);
    ck_assert_uint_eq(sample_ceil_mul(0x1p-100f, big), 1);
    /* 1.5 * 2^-64 (shift 87): times 2^63 is 0.75, times 3 * 2^62 is 1.125 */
    ck_assert_uint_eq(sample_ceil_mul(0x1.8p-64f, big), 1);
    ck_assert_uint_eq(sample_ceil_mul(0x1.8p-64f, 3 * (big >> 1)), 2);
    /* a remainder only in the low word: (2^40 + 1) * 2^-1 */
    ck_assert_uint_eq(sample_ceil_mul(0.5f, ((uint64_t)1 << 40) + 1), ((uint64_t)1 << 39) + 1);
}
END_TEST

START_TEST(half_floats)
{
    ck_assert_float_eq(sample_f16_to_f32(0x3c00), 1.0f);
    ck_assert_float_eq(sample_f16_to_f32(0x0001), 0x1p-24f);
    ck_assert_float_eq(sample_f16_to_f32(0x03ff), 1023 * 0x1p-24f);
    ck_assert_float_eq(sample_f16_to_f32(0x0400), 0x1p-14f);
    ck_assert_float_eq(sample_f16_to_f32(0x7bff), 65504.0f);
    ck_assert_float_eq(sample_f16_to_f32(0xc000), -2.0f);
    ck_assert_uint_eq(sample_f32_bits(sample_f16_to_f32(0x8000)), 0x80000000u);
    ck_assert_uint_eq(sample_f32_bits(sample_f16_to_f32(0x7c00)), 0x7f800000u);
    ck_assert_uint_eq(sample_f32_bits(sample_f16_to_f32(0xfc00)), 0xff800000u);
    ck_assert(sample_f16_to_f32(0x7e00) != sample_f16_to_f32(0x7e00));
    ck_assert_float_eq(sample_bf16_to_f32(0x3f80), 1.0f);
    ck_assert_uint_eq(sample_f32_bits(sample_bf16_to_f32(0xff80)), 0xff800000u);
}
END_TEST

START_TEST(frexp_exponent)
{
    ck_assert_int_eq(sample_frexp_exponent(1.0f), 1);
    ck_assert_int_eq(sample_frexp_exponent(0.5f), 0);
    ck_assert_int_eq(sample_frexp_exponent(0.75f), 0);
    ck_assert_int_eq(sample_frexp_exponent(0x1p-149f), -148);
    ck_assert_int_eq(sample_frexp_exponent(0x1.8p-148f), -147);
    ck_assert_int_eq(sample_frexp_exponent(FLT_MAX), 128);
}
END_TEST

START_TEST(weights_by_hand)
{
    /* max 0.75 has E = 0, so w = floor(p * 2^40) */
    ck_assert_uint_eq(sample_prob_weight(0.75f, 0), 3 * ((uint64_t)1 << 38));
    ck_assert_uint_eq(sample_prob_weight(0x1p-41f, 0), 0);
    ck_assert_uint_eq(sample_prob_weight(0x1p-40f, 0), 1);
    ck_assert_uint_eq(sample_prob_weight(-0.0f, 0), 0);
    /* a subnormal maximum: 2^-149 has E = -148, weight 2^39 */
    ck_assert_uint_eq(sample_prob_weight(0x1p-149f, -148), (uint64_t)1 << 39);
    /* logits: the maximum weighs 2^40; z below -64 weighs 0 */
    ck_assert_uint_eq(sample_logit_weight(3.0f, 3.0f, 0.5f), SAMPLE_W_ONE);
    ck_assert_uint_eq(sample_logit_weight(-65.0f, 0.0f, 1.0f), 0);
    ck_assert_uint_eq(sample_logit_weight(-INFINITY, 0.0f, 1.0f), 0);
    ck_assert_uint_eq(sample_f32_bits(sample_sexp(0.0f)), 0x3f800000u);
    /* 2^40 * e^-1 = 404487723187.74; sexp is within 1e-7 relative of it */
    uint64_t w = sample_logit_weight(-1.0f, 0.0f, 1.0f);
    ck_assert(w > 404487723187u - 40448u && w < 404487723188u + 40448u);
}
END_TEST

START_TEST(rank_keys)
{
    /* larger weight first; equal weights: smaller index first */
    ck_assert(sample_rank_key(5, 9) > sample_rank_key(4, 0));
    ck_assert(sample_rank_key(5, 0) > sample_rank_key(5, 1));
    ck_assert(sample_rank_key(SAMPLE_W_ONE, 8388607) > sample_rank_key(SAMPLE_W_ONE - 1, 0));
}
END_TEST

/* A weight's log-scale bucket, as sample.hip's bucket_of: exact below 64,
 * then 64 buckets an octave. */
static uint32_t log_bucket(uint64_t w)
{
    if (w < 64)
        return (uint32_t)w;
    const int len = 64 - __builtin_clzll(w);
    return (uint32_t)((len - 7) * 64 + (w >> (len - 7)));
}

/*
 * The hip backend's scan counts a chunk of probabilities by float bucket (a
 * value's bits shifted right by 17) before it knows any scale, and later
 * gives each float bucket the log bucket of its least value's weight at the
 * chunk maximum's exponent e (float_to_weight_buckets).  That holds for every
 * value below 2^e where e >= SAMPLE_FLOAT_MIN_EXPONENT (-86): here each float
 * bucket's first and last two values, one more inside it, and every 4099th,
 * for each e from 1 down to that.
 */
START_TEST(float_buckets)
{
    long checked = 0, bad = 0;
    int bad_e = 0;
    uint32_t bad_u = 0;
    for (int e = 1; e >= SAMPLE_FLOAT_MIN_EXPONENT; e--) {
        const uint32_t end = (uint32_t)(e + 127) << 23; /* 2^e */
        float s[2];
        sample_prob_scale(e, s);
        for (uint32_t a = 0; a < end >> 17; a++) {
            const uint32_t lo = a << 17, hi = lo + (1u << 17) - 1;
            const uint32_t want = log_bucket(sample_prob_weight_scaled(sample_f32_from_bits(lo), s));
            const uint32_t probes[] = {lo + 1, hi - 1, hi, lo + (a * 2654435761u) % (1u << 17)};
            for (int k = 0; k < 4 + 32; k++) {
                const uint32_t u = k < 4 ? probes[k] : lo + (uint32_t)(k - 4) * 4099u;
                if (log_bucket(sample_prob_weight_scaled(sample_f32_from_bits(u), s)) != want &&
                    !bad++) {
                    bad_e = e;
                    bad_u = u;
                }
                checked++;
            }
        }
    }
    ck_assert_msg(bad == 0, "%ld values weigh outside their float bucket's log bucket, first "
                  "e %d, value %08x", bad, bad_e, bad_u);
    ck_assert_int_gt(checked, 1000000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("exact");
    TCase *tc = tcase_create("exact");
    tcase_add_loop_test(tc, philox_known_answers, 0,
                        (int)(sizeof philox_kat / sizeof *philox_kat));
    tcase_add_test(tc, philox_corpus);
    tcase_add_test(tc, sexp_corpus);
    tcase_add_test(tc, weights_corpus);
    tcase_add_test(tc, mulhi);
    tcase_add_test(tc, ceil_mul);
    tcase_add_test(tc, half_floats);
    tcase_add_test(tc, frexp_exponent);
    tcase_add_test(tc, weights_by_hand);
    tcase_add_test(tc, rank_keys);
    tcase_add_test(tc, float_buckets);
    suite_add_tcase(s, tc);
    int status = harness_run(s);
    return status;
}
