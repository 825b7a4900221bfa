/*
 * check_hip.c - what only the hip backend does: device pointers, streams and
 * slices, checked bit for bit against the scalar backend on host copies of the
 * same rows; and the errors for memory that is not what the tensor says.
 * Exit 77 (skip) without a usable GPU.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu.h"
#include "harness.h"

static int device_ok(int rc, const char *what)
{
    ck_assert_msg(rc == 0, "%s: %s", what, gpu_error(rc));
    return rc;
}

/* Uniform in (0, 1): log() below never sees 0. */
static double uniform(uint64_t *s)
{
    return harness_uniform(s) + 0x1p-54;
}

/* Row values: logits N(0, sigma^2), or their softmax as probabilities. */
static void fill_row(float *row, int64_t vocab, int probs, double sigma, uint64_t *s)
{
    double max = -INFINITY, sum = 0;
    for (int64_t i = 0; i < vocab; i++) {
        double n = sqrt(-2.0 * log(uniform(s))) * cos(6.283185307179586 * uniform(s));
        row[i] = (float)(sigma * n);
        max = row[i] > max ? row[i] : max;
    }
    if (!probs)
        return;
    for (int64_t i = 0; i < vocab; i++)
        sum += exp(row[i] - max);
    for (int64_t i = 0; i < vocab; i++)
        row[i] = (float)(exp(row[i] - max) / sum);
}

/* float32 to a 16-bit type by truncation (any bits do; both sides read them). */
static uint16_t to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)(u >> 16);
}

static uint16_t to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    int e = (int)((u >> 23) & 0xff) - 127 + 15;
    if (e <= 0)
        return (uint16_t)sign;
    if (e >= 31)
        return (uint16_t)(sign | 0x7bffu);
    return (uint16_t)(sign | (uint32_t)e << 10 | ((u >> 13) & 0x3ffu));
}

struct shape {
    int64_t batch, vocab, stride;
};

static const struct shape shapes[] = {
    {1, 128256, 0}, {3, 1000, 1003}, {7, 32000, 0}, {512, 4096, 0}, {2, 256000, 0},
    {512, 256000, 0}, /* two slices of rows; float32 and shared parameters only */
};
#define NSHAPES ((int)(sizeof shapes / sizeof shapes[0]))

enum op { OP_PROBS, OP_LOGITS, OP_ARGMAX, OP_RENORM, OP_MASK, OP_SOFTMAX, NOPS };

static int call(sample_ctx *ctx, enum op op, const sample_tensor *t, const sample_params *p,
                void *out, int64_t out_stride)
{
    switch (op) {
    case OP_PROBS: return sample_from_probs(ctx, t, p, out);
    case OP_LOGITS: return sample_from_logits(ctx, t, p, out);
    case OP_ARGMAX: return sample_argmax(ctx, t, SAMPLE_LOGITS, out);
    case OP_RENORM: return sample_renorm_probs(ctx, t, p, out, out_stride);
    case OP_MASK: return sample_mask_logits(ctx, t, p, out, out_stride);
    default: return sample_softmax(ctx, t, p, out, out_stride);
    }
}

/* Parameters per op; with per-row arrays on odd cases, an invalid row included. */
static void make_params(sample_params *p, enum op op, int64_t batch, int rows, float *ts,
                        int32_t *ks, float *ps, float *qs, uint64_t *seeds)
{
    sample_params_init(p);
    if (op == OP_ARGMAX)
        return;
    if (op == OP_LOGITS || op == OP_MASK || op == OP_SOFTMAX)
        p->temperature = 0.7f;
    if (op == OP_SOFTMAX)
        return;
    p->top_k = 50;
    p->top_p = 0.9f;
    p->min_p = op == OP_MASK ? 0.05f : 0.0f;
    if (op == OP_PROBS || op == OP_LOGITS) {
        p->seed = 0x5eedu;
        p->offset = 17;
    }
    if (!rows)
        return;
    for (int64_t r = 0; r < batch; r++) {
        ts[r] = (r % 5 == 4 && op == OP_LOGITS) ? 0.0f : 0.5f + 0.25f * (float)(r % 4);
        ks[r] = (int32_t)(r % 3 == 0 ? 0 : 1 + r * 37 % 2000);
        ps[r] = r % 4 == 1 ? 1.0f : 0.5f + 0.1f * (float)(r % 5);
        qs[r] = r % 6 == 2 ? 0.1f : 0.0f;
        seeds[r] = 1000 + (uint64_t)r;
    }
    ps[batch / 2] = 1.5f; /* one invalid row */
    if (op == OP_LOGITS || op == OP_MASK)
        p->temperatures = ts;
    p->top_ks = ks;
    p->top_ps = ps;
    p->min_ps = qs;
    if (op == OP_PROBS || op == OP_LOGITS)
        p->seeds = seeds;
}

/* Case i: shape, op, dtype and per-row parameters from i. */
START_TEST(device_pointers)
{
    const struct shape *sh = &shapes[_i % NSHAPES];
    enum op op = (enum op)(_i / NSHAPES % NOPS);
    int dtype = (int)(_i / (NSHAPES * NOPS) % 3);
    int rows = (int)(_i / (NSHAPES * NOPS * 3) % 2);
    int probs = op == OP_PROBS || op == OP_RENORM;
    int64_t B = sh->batch, V = sh->vocab, stride = sh->stride ? sh->stride : V;
    size_t elem = dtype == SAMPLE_F32 ? 4 : 2;
    int tokens = op <= OP_ARGMAX;
    size_t in_bytes = (size_t)((B - 1) * stride + V) * elem;
    size_t out_bytes = tokens ? (size_t)B * 4 : (size_t)(B * V) * 4;
    uint64_t seed = 0x1234u + (uint64_t)_i;
    if (B * V > 100000000 && (dtype != SAMPLE_F32 || rows))
        return;

    float *row = malloc((size_t)V * 4);
    char *host_in = calloc(1, in_bytes);
    for (int64_t r = 0; r < B; r++) {
        fill_row(row, V, probs, r % 2 ? 5.0 : 1.0, &seed);
        char *dst = host_in + (size_t)(r * stride) * elem;
        for (int64_t i = 0; i < V; i++) {
            if (dtype == SAMPLE_F32)
                memcpy(dst + 4 * i, &row[i], 4);
            else {
                uint16_t h = dtype == SAMPLE_F16 ? to_f16(row[i]) : to_bf16(row[i]);
                memcpy(dst + 2 * i, &h, 2);
            }
        }
    }
    float *ts = malloc((size_t)B * 4), *ps = malloc((size_t)B * 4), *qs = malloc((size_t)B * 4);
    int32_t *ks = malloc((size_t)B * 4);
    uint64_t *seeds = malloc((size_t)B * 8);
    sample_params p;
    make_params(&p, op, B, rows, ts, ks, ps, qs, seeds);

    sample_tensor t;
    sample_tensor_init(&t, (sample_dtype)dtype, host_in, B, V);
    t.stride = sh->stride;
    void *want = malloc(out_bytes), *got = malloc(out_bytes);
    sample_ctx *ref = harness_context("scalar");
    int want_status = call(ref, op, &t, &p, want, 0);
    sample_destroy(ref);

    sample_ctx *ctx = harness_context("hip");
    void *dev_in, *dev_out, *stream;
    device_ok(gpu_enter(0), "gpu_enter");
    device_ok(gpu_malloc(&dev_in, in_bytes), "gpu_malloc");
    device_ok(gpu_malloc(&dev_out, out_bytes), "gpu_malloc");
    device_ok(gpu_stream_create(&stream), "stream");
    device_ok(gpu_copy_to_device(dev_in, host_in, in_bytes, NULL), "copy");
    device_ok(gpu_stream_sync(NULL), "sync");

    /* No stream: synchronised, invalid rows reported like a host call. */
    t.memory = SAMPLE_DEVICE;
    t.data = dev_in;
    device_ok(gpu_memset(dev_out, 0xff, out_bytes, NULL), "memset");
    int status = call(ctx, op, &t, &p, dev_out, 0);
    ck_assert_msg(status == want_status, "status %d, scalar %d: %s", status, want_status,
                  sample_last_error(ctx));
    device_ok(gpu_copy_to_host(got, dev_out, out_bytes, NULL), "copy back");
    device_ok(gpu_stream_sync(NULL), "sync");
    ck_assert_msg(memcmp(got, want, out_bytes) == 0, "device pointers differ from scalar");

    /* A caller's stream: enqueued, no row report, the same bits once it is done. */
    device_ok(gpu_memset(dev_out, 0xff, out_bytes, stream), "memset");
    p.stream = stream;
    status = call(ctx, op, &t, &p, dev_out, 0);
    ck_assert_msg(status == SAMPLE_OK, "stream call: %s", sample_last_error(ctx));
    device_ok(gpu_copy_to_host(got, dev_out, out_bytes, stream), "copy back");
    device_ok(gpu_stream_sync(stream), "sync");
    ck_assert_msg(memcmp(got, want, out_bytes) == 0, "stream call differs from scalar");
    p.stream = NULL;

    /* Host staging on the same context. */
    t.memory = SAMPLE_HOST;
    t.data = host_in;
    memset(got, 0xff, out_bytes);
    status = call(ctx, op, &t, &p, got, 0);
    ck_assert_int_eq(status, want_status);
    ck_assert_msg(memcmp(got, want, out_bytes) == 0, "host call differs from scalar");

    gpu_free(dev_in);
    gpu_free(dev_out);
    gpu_stream_destroy(stream);
    gpu_leave();
    sample_destroy(ctx);
    free(row);
    free(host_in);
    free(want);
    free(got);
    free(ts);
    free(ps);
    free(qs);
    free(ks);
    free(seeds);
}
END_TEST

/* Memory that is not what the tensor says is an argument error, not a crash. */
START_TEST(memory_mismatch)
{
    float host[64];
    int32_t tokens[2];
    void *dev, *small;
    for (int i = 0; i < 64; i++)
        host[i] = (float)(i + 1);
    sample_ctx *ctx = harness_context("hip");
    device_ok(gpu_enter(0), "gpu_enter");
    device_ok(gpu_malloc(&dev, sizeof host), "gpu_malloc");
    device_ok(gpu_malloc(&small, 4), "gpu_malloc");
    device_ok(gpu_copy_to_device(dev, host, sizeof host, NULL), "copy");
    device_ok(gpu_stream_sync(NULL), "sync");

    sample_tensor t;
    sample_params p;
    sample_params_init(&p);
    sample_tensor_init(&t, SAMPLE_F32, host, 2, 32);
    t.memory = SAMPLE_DEVICE; /* but host memory */
    tokens[0] = tokens[1] = 7;
    ck_assert_int_eq(sample_from_probs(ctx, &t, &p, tokens), SAMPLE_ERR_ARGUMENT);
    ck_assert_msg(strstr(sample_last_error(ctx), "not device memory"), "%s",
                  sample_last_error(ctx));

    t.memory = SAMPLE_HOST; /* but device memory */
    t.data = dev;
    ck_assert_int_eq(sample_from_probs(ctx, &t, &p, tokens), SAMPLE_ERR_ARGUMENT);
    ck_assert_msg(strstr(sample_last_error(ctx), "is device memory"), "%s",
                  sample_last_error(ctx));
    ck_assert_int_eq(tokens[0], 7); /* nothing written */

    t.memory = SAMPLE_DEVICE; /* device input, host output */
    ck_assert_int_eq(sample_from_probs(ctx, &t, &p, tokens), SAMPLE_ERR_ARGUMENT);

    t.data = small; /* an allocation shorter than the rows */
    ck_assert_int_eq(sample_from_probs(ctx, &t, &p, (int32_t *)dev), SAMPLE_ERR_ARGUMENT);
    ck_assert_msg(strstr(sample_last_error(ctx), "allocation holds"), "%s",
                  sample_last_error(ctx));

    /* And the context still works. */
    t.data = dev;
    t.batch = 1;
    ck_assert_int_eq(sample_from_probs(ctx, &t, &p, (int32_t *)small), SAMPLE_OK);
    gpu_free(dev);
    gpu_free(small);
    gpu_leave();
    sample_destroy(ctx);
}
END_TEST

/* B rows of V float32 probabilities in `in`: tokens (or, with renorm, the
 * renormalised rows) from the hip backend and the scalar one, bit for bit;
 * what names the case in a failure. */
static void probs_match_scalar(const float *in, int64_t B, int64_t V, const sample_params *p,
                               int renorm, const char *what)
{
    float *want = malloc((size_t)(B * V) * 4), *got = malloc((size_t)(B * V) * 4);
    sample_tensor t;
    sample_tensor_init(&t, SAMPLE_F32, in, B, V);
    sample_ctx *ref = harness_context("scalar"), *ctx = harness_context("hip");
    const size_t bytes = renorm ? (size_t)(B * V) * 4 : (size_t)B * 4;
    int want_status = renorm ? sample_renorm_probs(ref, &t, p, want, 0)
                             : sample_from_probs(ref, &t, p, (int32_t *)want);
    int status = renorm ? sample_renorm_probs(ctx, &t, p, got, 0)
                        : sample_from_probs(ctx, &t, p, (int32_t *)got);
    ck_assert_int_eq(want_status, SAMPLE_OK);
    ck_assert_msg(status == SAMPLE_OK, "%s", sample_last_error(ctx));
    ck_assert_msg(memcmp(got, want, bytes) == 0, "%s differs from scalar", what);
    sample_destroy(ref);
    sample_destroy(ctx);
    free(want);
    free(got);
}

/*
 * Rows of probabilities whose stretches differ in scale by many binades (one
 * all zero, one far below the rest), in batches larger than an H100's L2
 * cache: there the chain's scan counts each chunk's buckets at the chunk's
 * own scale (by float bucket as it reads; by reading again where the chunk's
 * maximum is below 2^-86, as the 2^-90 stretch's is, or a value is 2 or
 * more) and the row's last block moves them to the row's, which must give
 * the scalar backend's tokens and renormalised rows.  Cases 0-3 (B = 256)
 * and 4-7 (B = 128, with one stretch scaled up to 2^40 so that its chunks
 * are read again) pick the filters.
 */
START_TEST(chunk_scales)
{
    const int64_t B = _i < 4 ? 256 : 128, V = 128256;
    uint64_t seed = 0x5ca1e5u;
    float *in = malloc((size_t)(B * V) * 4);
    for (int64_t r = 0; r < B; r++) {
        for (int64_t i = 0; i < V; i++) {
            const int64_t stretch = (i + r * 977) / 20000 % 9;
            const int shift = stretch == 8                ? 90
                              : _i >= 4 && stretch == 5 ? -40
                                                        : (int)(stretch * 5 + r % 7);
            const double u = uniform(&seed);
            in[r * V + i] = stretch == 3 ? 0.0f : (float)ldexp(u * u * u, -shift);
        }
    }
    sample_params p;
    sample_params_init(&p);
    const int renorm = _i % 4 == 3;
    if (!renorm)
        p.seed = 77; /* renorm takes no draw */
    switch (_i % 4) {
    case 0: p.top_p = 0.9f; break;
    case 1: p.top_k = 1000; p.top_p = 0.5f; break;
    case 2: p.top_p = 0.99f; p.min_p = 0.01f; break;
    default: p.top_p = 0.95f; break;
    }
    char what[32];
    snprintf(what, sizeof what, "case %d", _i);
    probs_match_scalar(in, B, V, &p, renorm, what);
    free(in);
}
END_TEST

/*
 * Top-p alone, shared parameters: the fused kernel's fraction-summing
 * instance (sample_k_fused_frac), whose last block keeps the sums beside its
 * chunk where they fit and over it otherwise (then reading its chunk from the
 * row again): B = 1 and 5 have the room, B = 16 at V = 256000 and B = 32 at
 * V = 128256 take chunks of SAMPLE_CHUNK_MAX on an H100.  Rows dense at the
 * boundary (sigma 1) and sparse (sigma 5); tokens and renormalised rows
 * against the scalar backend.  Case i picks the shape, P and the operation.
 */
START_TEST(top_p_alone)
{
    static const struct shape cases[] = {{1, 128256, 0}, {5, 32000, 0}, {16, 256000, 0},
                                         {32, 128256, 0}};
    const struct shape *sh = &cases[_i % 4];
    const int64_t B = sh->batch, V = sh->vocab;
    const int renorm = _i / 8 == 1;
    uint64_t seed = 0x70b0u + (uint64_t)_i;
    float *in = malloc((size_t)(B * V) * 4);
    for (int64_t r = 0; r < B; r++)
        fill_row(in + r * V, V, 1, r % 3 == 2 ? 5.0 : 1.0, &seed);
    sample_params p;
    sample_params_init(&p);
    p.top_p = _i / 4 % 2 ? 0.5f : 0.9f;
    if (!renorm)
        p.seed = 0xf00du + (uint64_t)_i;
    char what[64];
    snprintf(what, sizeof what, "case %d (B %lld, V %lld)", _i, (long long)B, (long long)V);
    probs_match_scalar(in, B, V, &p, renorm, what);
    free(in);
}
END_TEST

/*
 * Plain draws from rows read once (sample_k_scan_mass): each block sums its
 * chunk's weights at the chunk's own exponent and counts, for each low bit,
 * the weights that have it set, so that the row's last block can move the
 * sum to the row's exponent.  Here every chunk of the first half holds one
 * value of 2^-20 and else 2^-40, 20 binades below the row's maximum (1.0):
 * at the chunk's exponent each small value weighs 2^19, so nearly all of a
 * warp's 1024 weights have bit 19 set, more than a byte holds.  The second
 * half is all 2^-20 (weight 2^19 at the row's exponent each): a chunk mass
 * that is off by a few hundred moves the draw to another of them.  Cases 0
 * and 1: 16 rows, one seed; 16 rows, each its own.
 */
START_TEST(low_bit_counts)
{
    const int64_t B = 16, V = (int64_t)1 << 22;
    float *in = malloc((size_t)(B * V) * 4);
    for (int64_t r = 0; r < B; r++)
        for (int64_t i = 0; i < V; i++)
            in[r * V + i] = i == 0                      ? 1.0f
                            : i >= V / 2 || i % 2048 == 0 ? 0x1p-20f
                                                          : 0x1p-40f;
    sample_params p;
    sample_params_init(&p);
    uint64_t seeds[16], offsets[16];
    if (_i == 0) {
        p.seed = 0x10b175u;
    } else {
        for (int r = 0; r < B; r++) {
            seeds[r] = 0x10b175u + 7919u * (uint64_t)r;
            offsets[r] = (uint64_t)r;
        }
        p.seeds = seeds;
        p.offsets = offsets;
    }
    char what[32];
    snprintf(what, sizeof what, "case %d", _i);
    probs_match_scalar(in, B, V, &p, 0, what);
    free(in);
}
END_TEST

/* A device index that does not exist fails sample_create with SAMPLE_ERR_RANGE. */
START_TEST(device_choice)
{
    sample_options o;
    sample_ctx *ctx = NULL;
    sample_options_init(&o);
    o.backend = "hip";
    o.device = 4096;
    ck_assert_int_eq(sample_create(&ctx, &o), SAMPLE_ERR_RANGE);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(sample_create_error(), "does not exist"), "%s", sample_create_error());
}
END_TEST

int main(void)
{
    const char *names[HARNESS_MAX_BACKENDS];
    setenv("SAMPLE_TEST_BACKEND", "hip", 1);
    harness_usable_backends(names); /* exits 77 without a usable GPU */
    const char *why;
    if (gpu_load(&why)) {
        printf("SKIP: %s\n", why);
        return 77;
    }
    Suite *s = suite_create("hip");
    TCase *tc = tcase_create("hip");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, device_pointers, 0, NSHAPES * NOPS * 3 * 2);
    tcase_add_loop_test(tc, chunk_scales, 0, 8);
    tcase_add_loop_test(tc, top_p_alone, 0, 16);
    tcase_add_loop_test(tc, low_bit_counts, 0, 2);
    tcase_add_test(tc, memory_mismatch);
    tcase_add_test(tc, device_choice);
    suite_add_tcase(s, tc);
    return harness_run(s);
}
