/*
 * check_limits.c - calls at and past the limits, on every usable backend:
 *
 *  - V = 2^23 (SAMPLE_MAX_VOCAB), one row of real data, works and gives the
 *    token it must; V = 2^23 + 1 and other V out of range are ERR_SHAPE;
 *  - B, stride and out_stride whose byte size (B * stride * element size)
 *    does not fit in 63 bits, including products that wrap to a small number
 *    modulo 2^64, are ERR_SHAPE and touch nothing: the data and the output
 *    are PROT_NONE mappings, so any access is a crash;
 *  - the largest strides that do fit, with B = 1, work (only row 0 is read);
 *  - indexing does not wrap at 2^32 elements: rows 2^32 elements apart (and
 *    2^31, past int32), B * V past 2^32 (B = 513, V = 2^23: the last row
 *    starts at element 2^32 exactly), and row outputs 2^32 floats apart, in
 *    sparse mappings (MAP_NORESERVE) that cost only the pages touched.
 *
 * SAMPLE_LIMITS_QUICK=1 (valgrind.sh sets it) keeps the argument checks and
 * one V = 2^23 call per backend, and skips the multi-gigabyte mappings.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "harness.h"

#define VMAX ((int64_t)SAMPLE_MAX_VOCAB)
#define F16_ONE 0x3c00u
#define F16_NAN 0x7e00u

static const char *backends[HARNESS_MAX_BACKENDS];
static int nbackends;
static int quick;

static void setup(void)
{
    nbackends = harness_usable_backends(backends);
    quick = getenv("SAMPLE_LIMITS_QUICK") && strcmp(getenv("SAMPLE_LIMITS_QUICK"), "0") != 0;
}

/* ---- mappings ---------------------------------------------------------------- */

/* Memory no access may touch: a read or a write of it is a SIGSEGV. */
static void *map_none(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_msg(p != MAP_FAILED, "mmap(PROT_NONE, %zu)", bytes);
    return p;
}

/* Zero-filled memory that costs only the pages written; NULL when the system
 * will not reserve the address space (the test then says so and passes). */
static void *map_sparse(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        printf("skipped: cannot map %zu bytes of address space\n", bytes);
        return NULL;
    }
    return p;
}

/* ---- argument failures touch nothing --------------------------------------- */

enum op { OP_PROBS, OP_LOGITS, OP_RENORM, OP_MASK, OP_SOFTMAX, OP_ARGMAX, OP_COUNT };
static const char *const op_names[OP_COUNT] = {"probs", "logits", "renorm",
                                               "mask", "softmax", "argmax"};

static int call(sample_ctx *ctx, enum op op, const sample_tensor *t, const sample_params *p,
                void *out, int64_t out_stride)
{
    switch (op) {
    case OP_PROBS: return sample_from_probs(ctx, t, p, out);
    case OP_LOGITS: return sample_from_logits(ctx, t, p, out);
    case OP_RENORM: return sample_renorm_probs(ctx, t, p, out, out_stride);
    case OP_MASK: return sample_mask_logits(ctx, t, p, out, out_stride);
    case OP_SOFTMAX: return sample_softmax(ctx, t, p, out, out_stride);
    default: return sample_argmax(ctx, t, SAMPLE_LOGITS, out);
    }
}

struct shape_case {
    const char *why;
    sample_dtype dtype;
    int64_t batch, vocab, stride, out_stride;
    int row_ops_only; /* the fault is in out_stride: token operations pass it */
    int status;       /* for the operations the case applies to */
};

#define P2(n) ((int64_t)1 << (n))

static const struct shape_case shape_cases[] = {
    {"V = 2^23 + 1", SAMPLE_F32, 1, VMAX + 1, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"V = 2^31", SAMPLE_F16, 1, P2(31), 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"V = 2^32 + 1 (1 if truncated to 32 bits)", SAMPLE_F32, 1, P2(32) + 1, 0, 0, 0,
     SAMPLE_ERR_SHAPE},
    {"V = INT64_MAX", SAMPLE_BF16, 1, INT64_MAX, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"V = 0", SAMPLE_F32, 1, 0, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"V = -1", SAMPLE_F32, 1, -1, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"V = INT64_MIN", SAMPLE_F32, 1, INT64_MIN, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"B = -1", SAMPLE_F32, -1, 8, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"B = INT64_MIN", SAMPLE_F16, INT64_MIN, 8, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"stride = V - 1", SAMPLE_F32, 2, 8, 7, 0, 0, SAMPLE_ERR_SHAPE},
    {"stride = -8", SAMPLE_F32, 2, 8, -8, 0, 0, SAMPLE_ERR_SHAPE},
    {"stride = INT64_MIN", SAMPLE_F32, 2, 8, INT64_MIN, 0, 0, SAMPLE_ERR_SHAPE},
    /* B * stride * element size past 2^63 - 1 */
    {"f32, B = 1, stride = 2^61: 2^63 bytes", SAMPLE_F32, 1, 8, P2(61), 0, 0, SAMPLE_ERR_SHAPE},
    {"f16, B = 1, stride = 2^62: 2^63 bytes", SAMPLE_F16, 1, 8, P2(62), 0, 0, SAMPLE_ERR_SHAPE},
    {"bf16, B = 2, stride = 2^61: 2^63 bytes", SAMPLE_BF16, 2, 8, P2(61), 0, 0,
     SAMPLE_ERR_SHAPE},
    {"f32, B = 1, stride = INT64_MAX", SAMPLE_F32, 1, 8, INT64_MAX, 0, 0, SAMPLE_ERR_SHAPE},
    {"f32, B = 3, stride = (2^64 + 2) / 3: 8 bytes modulo 2^64", SAMPLE_F32, 3, 8,
     0x5555555555555556, 0, 0, SAMPLE_ERR_SHAPE},
    {"f32, B = 4, stride = 2^62: 0 bytes modulo 2^64", SAMPLE_F32, 4, 8, P2(62), 0, 0,
     SAMPLE_ERR_SHAPE},
    {"f32, B = 2^32, stride = 2^32: 0 modulo 2^64", SAMPLE_F32, P2(32), 8, P2(32), 0, 0,
     SAMPLE_ERR_SHAPE},
    {"f16, B = 2^40, V = 2^23: 2^64 bytes", SAMPLE_F16, P2(40), VMAX, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"f32, B = 2^41 + 1, V = 2^23: past 2^64", SAMPLE_F32, P2(41) + 1, VMAX, 0, 0, 0,
     SAMPLE_ERR_SHAPE},
    {"f32, B = INT64_MAX, V = 1", SAMPLE_F32, INT64_MAX, 1, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"f16, B = 2^62, V = 1: 2^63 bytes", SAMPLE_F16, P2(62), 1, 0, 0, 0, SAMPLE_ERR_SHAPE},
    /* the output: B * out_stride * 4, or B * 4 bytes of tokens */
    {"f16, B = 2^61, V = 1: the input fits, the output (B * 4 bytes) does not", SAMPLE_F16,
     P2(61), 1, 0, 0, 0, SAMPLE_ERR_SHAPE},
    {"out_stride = 2^61: 2^63 bytes", SAMPLE_F32, 1, 8, 0, P2(61), 1, SAMPLE_ERR_SHAPE},
    {"B = 3, out_stride = (2^64 + 2) / 12: 8 bytes modulo 2^64 (as floats)", SAMPLE_F32, 3, 8,
     0, 0x1555555555555556, 1, SAMPLE_ERR_SHAPE},
    {"out_stride = V - 1", SAMPLE_F32, 1, 8, 0, 7, 1, SAMPLE_ERR_SHAPE},
    {"out_stride = -1", SAMPLE_F32, 1, 8, 0, -1, 1, SAMPLE_ERR_SHAPE},
    {"out_stride = INT64_MIN", SAMPLE_F32, 1, 8, 0, INT64_MIN, 1, SAMPLE_ERR_SHAPE},
    /* B = 0 passes whatever the stride, and touches nothing */
    {"B = 0, stride = INT64_MAX", SAMPLE_F32, 0, 8, INT64_MAX, INT64_MAX, 0, SAMPLE_OK},
    {"B = 0, V = 2^23", SAMPLE_F16, 0, VMAX, 0, 0, 0, SAMPLE_OK},
};

START_TEST(shapes_rejected_untouched)
{
    size_t page = 1 << 16;
    void *data = map_none(page), *out = map_none(page);
    sample_params p;
    for (int b = 0; b < nbackends; b++) {
        sample_ctx *ctx = harness_context(backends[b]);
        for (size_t i = 0; i < sizeof shape_cases / sizeof shape_cases[0]; i++) {
            const struct shape_case *c = &shape_cases[i];
            sample_tensor t;
            sample_tensor_init(&t, c->dtype, data, c->batch, c->vocab);
            t.stride = c->stride;
            for (int op = 0; op < OP_COUNT; op++) {
                int rows = op == OP_RENORM || op == OP_MASK || op == OP_SOFTMAX;
                if (c->row_ops_only && !rows)
                    continue;
                sample_params_init(&p);
                int st = call(ctx, (enum op)op, &t, &p, out, c->out_stride);
                ck_assert_msg(st == c->status, "%s: %s: %s: status %d (%s), expected %d: %s",
                              backends[b], op_names[op], c->why, st, sample_strerror(st),
                              c->status, sample_last_error(ctx));
                if (st != SAMPLE_OK)
                    ck_assert_msg(sample_last_error(ctx)[0] != '\0', "%s: %s: no message",
                                  backends[b], c->why);
            }
        }
        sample_destroy(ctx);
    }
    munmap(data, page);
    munmap(out, page);
}
END_TEST

/* Per-row arrays are not read either when the arguments fail. */
START_TEST(shapes_rejected_params_untouched)
{
    size_t page = 1 << 16;
    void *data = map_none(page), *out = map_none(page), *arrays = map_none(page);
    for (int b = 0; b < nbackends; b++) {
        sample_ctx *ctx = harness_context(backends[b]);
        sample_tensor t;
        sample_params p;
        sample_tensor_init(&t, SAMPLE_F32, data, 3, 8);
        t.stride = 0x5555555555555556; /* wraps to 8 bytes modulo 2^64 */
        sample_params_init(&p);
        p.top_ks = arrays;
        p.top_ps = arrays;
        p.min_ps = arrays;
        p.temperatures = arrays;
        p.seeds = arrays;
        p.offsets = arrays;
        ck_assert_int_eq(sample_from_logits(ctx, &t, &p, out), SAMPLE_ERR_SHAPE);
        t.stride = 0;
        t.vocab = VMAX + 1;
        ck_assert_int_eq(sample_from_logits(ctx, &t, &p, out), SAMPLE_ERR_SHAPE);
        sample_destroy(ctx);
    }
    munmap(data, page);
    munmap(out, page);
    munmap(arrays, page);
}
END_TEST

/* ---- the largest strides that fit, B = 1 --------------------------------------- */

START_TEST(largest_strides_pass)
{
    float row[8] = {0, 0, 0, 0.5f, 0, 0, 0, 0};
    uint16_t half[8] = {0, 0, 0, 0, 0, F16_ONE, 0, 0};
    float out[8];
    for (int b = 0; b < nbackends; b++) {
        sample_ctx *ctx = harness_context(backends[b]);
        sample_tensor t;
        sample_params p;
        int32_t tok = -7;
        sample_params_init(&p);

        sample_tensor_init(&t, SAMPLE_F32, row, 1, 8);
        t.stride = INT64_MAX / 4; /* 2^63 - 4 bytes: fits */
        ck_assert_int_eq(sample_from_probs(ctx, &t, &p, &tok), SAMPLE_OK);
        ck_assert_int_eq(tok, 3);

        sample_tensor_init(&t, SAMPLE_F16, half, 1, 8);
        t.stride = INT64_MAX / 2; /* 2^63 - 2 bytes */
        tok = -7;
        ck_assert_int_eq(sample_argmax(ctx, &t, SAMPLE_PROBS, &tok), SAMPLE_OK);
        ck_assert_int_eq(tok, 5);

        /* row outputs: out_stride * 4 = 2^63 - 4 bytes */
        sample_tensor_init(&t, SAMPLE_F32, row, 1, 8);
        ck_assert_int_eq(sample_renorm_probs(ctx, &t, &p, out, INT64_MAX / 4), SAMPLE_OK);
        for (int i = 0; i < 8; i++)
            ck_assert_float_eq(out[i], i == 3 ? 1.0f : 0.0f);
        sample_destroy(ctx);
    }
}
END_TEST

/* ---- V = 2^23 --------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

START_TEST(vocab_max_one_hot)
{
    float *row = calloc((size_t)VMAX, sizeof *row);
    float *out = malloc((size_t)VMAX * sizeof *out);
    uint16_t *half = calloc((size_t)VMAX, sizeof *half);
    ck_assert(row && out && half);
    for (int b = 0; b < nbackends; b++) {
        sample_ctx *ctx = harness_context(backends[b]);
        sample_tensor t;
        sample_params p;
        int32_t tok = -7;

        /* probabilities: the last token is the only one with mass */
        memset(row, 0, (size_t)VMAX * sizeof *row);
        row[VMAX - 1] = 0.25f;
        sample_tensor_init(&t, SAMPLE_F32, row, 1, VMAX);
        sample_params_init(&p);
        p.seed = 42;
        ck_assert_int_eq(sample_from_probs(ctx, &t, &p, &tok), SAMPLE_OK);
        ck_assert_int_eq(tok, VMAX - 1);
        if (quick) {
            sample_destroy(ctx);
            continue;
        }
        tok = -7;
        ck_assert_int_eq(sample_argmax(ctx, &t, SAMPLE_PROBS, &tok), SAMPLE_OK);
        ck_assert_int_eq(tok, VMAX - 1);
        p.top_k = 1;
        p.top_p = 0.5f;
        tok = -7;
        ck_assert_int_eq(sample_from_probs(ctx, &t, &p, &tok), SAMPLE_OK);
        ck_assert_int_eq(tok, VMAX - 1);
        sample_params_init(&p);
        p.min_p = 0.5f;
        ck_assert_int_eq(sample_renorm_probs(ctx, &t, &p, out, 0), SAMPLE_OK);
        ck_assert_float_eq(out[VMAX - 1], 1.0f);
        ck_assert_float_eq(out[0], 0.0f);
        ck_assert_float_eq(out[VMAX / 2], 0.0f);

        /* logits: -inf everywhere but two tokens; the far one weighs 0 */
        for (int64_t i = 0; i < VMAX; i++)
            row[i] = -INFINITY;
        row[0] = -1e30f;
        row[VMAX - 2] = 3.0f;
        sample_params_init(&p);
        tok = -7;
        ck_assert_int_eq(sample_from_logits(ctx, &t, &p, &tok), SAMPLE_OK);
        ck_assert_int_eq(tok, VMAX - 2);
        p.temperature = 0.0f;
        tok = -7;
        ck_assert_int_eq(sample_from_logits(ctx, &t, &p, &tok), SAMPLE_OK);
        ck_assert_int_eq(tok, VMAX - 2);
        p.temperature = 1.0f;
        ck_assert_int_eq(sample_mask_logits(ctx, &t, &p, out, 0), SAMPLE_OK);
        ck_assert_float_eq(out[VMAX - 2], 3.0f);
        ck_assert_float_eq(out[0], -1e30f); /* kept (k = 0), weight 0 */
        ck_assert(isinf(out[1]) && out[1] < 0);
        ck_assert_int_eq(sample_softmax(ctx, &t, &p, out, 0), SAMPLE_OK);
        ck_assert_float_eq(out[VMAX - 2], 1.0f);
        ck_assert_float_eq(out[0], 0.0f);

        /* float16: one-hot at V - 3, and an invalid value at the very end */
        memset(half, 0, (size_t)VMAX * sizeof *half);
        half[VMAX - 3] = F16_ONE;
        sample_tensor_init(&t, SAMPLE_F16, half, 1, VMAX);
        sample_params_init(&p);
        tok = -7;
        ck_assert_int_eq(sample_from_probs(ctx, &t, &p, &tok), SAMPLE_OK);
        ck_assert_int_eq(tok, VMAX - 3);
        half[VMAX - 1] = F16_NAN;
        tok = -7;
        ck_assert_int_eq(sample_from_probs(ctx, &t, &p, &tok), SAMPLE_ERR_INVALID_ROWS);
        ck_assert_int_eq(tok, -1);
        sample_destroy(ctx);
    }
    free(row);
    free(out);
    free(half);
}
END_TEST

/* Real data at V = 2^23: every backend equals scalar, under every filter. */
START_TEST(vocab_max_random)
{
    if (quick)
        return;
    const int64_t b2 = 2;
    float *rows = malloc((size_t)(b2 * VMAX) * sizeof *rows);
    ck_assert(rows);
    uint64_t s = 2023;
    for (int64_t i = 0; i < b2 * VMAX; i++)
        rows[i] = (float)(splitmix(&s) >> 40) * 0x1p-24f;
    sample_tensor t;
    sample_tensor_init(&t, SAMPLE_F32, rows, b2, VMAX);
    sample_params p;
    int32_t ref[3][2];
    sample_ctx *scalar = harness_context("scalar");
    for (int f = 0; f < 3; f++) {
        sample_params_init(&p);
        p.seed = 7 + (uint64_t)f;
        p.top_k = f == 1 ? 1000 : 0;
        p.top_p = f == 2 ? 0.9f : 1.0f;
        ck_assert_int_eq(sample_from_probs(scalar, &t, &p, ref[f]), SAMPLE_OK);
        for (int r = 0; r < 2; r++)
            ck_assert(ref[f][r] >= 0 && ref[f][r] < VMAX && rows[r * VMAX + ref[f][r]] > 0);
    }
    sample_destroy(scalar);
    for (int b = 1; b < nbackends; b++) {
        sample_ctx *ctx = harness_context(backends[b]);
        for (int f = 0; f < 3; f++) {
            int32_t tok[2] = {-7, -7};
            sample_params_init(&p);
            p.seed = 7 + (uint64_t)f;
            p.top_k = f == 1 ? 1000 : 0;
            p.top_p = f == 2 ? 0.9f : 1.0f;
            ck_assert_int_eq(sample_from_probs(ctx, &t, &p, tok), SAMPLE_OK);
            ck_assert_msg(tok[0] == ref[f][0] && tok[1] == ref[f][1],
                          "%s: filter %d: tokens %d %d, scalar %d %d", backends[b], f,
                          (int)tok[0], (int)tok[1], (int)ref[f][0], (int)ref[f][1]);
        }
        sample_destroy(ctx);
    }
    free(rows);
}
END_TEST

/* ---- no wrap at 2^32 elements ------------------------------------------------------ */

/* B = 2 rows, `stride` elements apart, one-hot at different places. */
static void two_far_rows(sample_dtype dtype, int64_t stride, const char *what)
{
    size_t elem = dtype == SAMPLE_F32 ? 4 : 2;
    size_t bytes = (size_t)(stride + VMAX) * elem;
    char *data = map_sparse(bytes);
    if (!data)
        return;
    const int64_t hot0 = 7, hot1 = VMAX - 3;
    if (dtype == SAMPLE_F32) {
        ((float *)data)[hot0] = 1.0f;
        ((float *)data)[stride + hot1] = 1.0f;
    } else {
        ((uint16_t *)data)[hot0] = F16_ONE;
        ((uint16_t *)data)[stride + hot1] = F16_ONE;
    }
    for (int b = 0; b < nbackends; b++) {
        sample_ctx *ctx = harness_context(backends[b]);
        sample_tensor t;
        sample_params p;
        int32_t tok[2] = {-7, -7};
        sample_tensor_init(&t, dtype, data, 2, VMAX);
        t.stride = stride;
        sample_params_init(&p);
        int st = sample_from_probs(ctx, &t, &p, tok);
        ck_assert_msg(st == SAMPLE_OK && tok[0] == hot0 && tok[1] == hot1,
                      "%s: %s: status %d, tokens %d %d, expected %" PRId64 " %" PRId64 ": %s",
                      backends[b], what, st, (int)tok[0], (int)tok[1], hot0, hot1,
                      sample_last_error(ctx));
        tok[0] = tok[1] = -7;
        ck_assert_int_eq(sample_argmax(ctx, &t, SAMPLE_PROBS, tok), SAMPLE_OK);
        ck_assert_int_eq(tok[0], hot0);
        ck_assert_int_eq(tok[1], hot1);
        sample_destroy(ctx);
    }
    munmap(data, bytes);
}

START_TEST(stride_2_32_f16)
{
    if (!quick)
        two_far_rows(SAMPLE_F16, P2(32), "f16, stride 2^32 elements");
}
END_TEST

START_TEST(stride_2_31_f32)
{
    if (!quick)
        two_far_rows(SAMPLE_F32, P2(31), "f32, stride 2^31 elements (past int32)");
}
END_TEST

START_TEST(stride_2_32_plus_f16)
{
    if (!quick)
        two_far_rows(SAMPLE_F16, P2(32) + 12345, "f16, stride 2^32 + 12345 elements");
}
END_TEST

/* Row outputs 2^32 floats apart: the second row is written at byte 2^34. */
START_TEST(out_stride_2_32)
{
    if (quick)
        return;
    const int64_t os = P2(32);
    size_t out_bytes = (size_t)(os + VMAX) * sizeof(float);
    float *out = map_sparse(out_bytes);
    float *rows = calloc((size_t)(2 * VMAX), sizeof *rows);
    if (!out) {
        free(rows);
        return;
    }
    ck_assert(rows);
    rows[11] = 1.0f;
    rows[VMAX + VMAX - 1] = 1.0f;
    for (int b = 0; b < nbackends; b++) {
        sample_ctx *ctx = harness_context(backends[b]);
        sample_tensor t;
        sample_params p;
        sample_tensor_init(&t, SAMPLE_F32, rows, 2, VMAX);
        sample_params_init(&p);
        out[11] = out[os + VMAX - 1] = -1.0f;
        out[os + 11] = -2.0f;
        ck_assert_int_eq(sample_renorm_probs(ctx, &t, &p, out, os), SAMPLE_OK);
        ck_assert_float_eq(out[11], 1.0f);
        ck_assert_float_eq(out[os + VMAX - 1], 1.0f);
        ck_assert_float_eq(out[os + 11], 0.0f);
        ck_assert_float_eq(out[VMAX], 0.0f); /* padding of row 0 never written: still 0 */
        sample_destroy(ctx);
    }
    munmap(out, out_bytes);
    free(rows);
}
END_TEST

/*
 * B * V past 2^32: B = 513 rows of V = 2^23 float16 values (the last row
 * starts at element 2^32 exactly).  Every 64th row is valid, one-hot at its
 * own place; the others start with a NaN.  A wrap at 2^32 would read row 0's
 * values for row 512.
 */
START_TEST(batch_times_vocab_past_2_32)
{
    if (quick)
        return;
    const int64_t rows = 513;
    size_t bytes = (size_t)(rows * VMAX) * 2;
    uint16_t *data = map_sparse(bytes);
    if (!data)
        return;
    int32_t *want = malloc(sizeof *want * (size_t)rows), *tok = malloc(sizeof *tok * (size_t)rows);
    ck_assert(want && tok);
    for (int64_t r = 0; r < rows; r++) {
        if (r % 64 == 0) {
            want[r] = (int32_t)((r * 7919 + 5) % VMAX);
            data[r * VMAX + want[r]] = F16_ONE;
        } else {
            want[r] = -1;
            data[r * VMAX] = F16_NAN;
        }
    }
    for (int b = 0; b < nbackends; b++) {
        sample_ctx *ctx = harness_context(backends[b]);
        sample_tensor t;
        sample_params p;
        sample_tensor_init(&t, SAMPLE_F16, data, rows, VMAX);
        sample_params_init(&p);
        for (int64_t r = 0; r < rows; r++)
            tok[r] = -7;
        int st = sample_from_probs(ctx, &t, &p, tok);
        ck_assert_msg(st == SAMPLE_ERR_INVALID_ROWS, "%s: status %d: %s", backends[b], st,
                      sample_last_error(ctx));
        ck_assert_msg(strncmp(sample_last_error(ctx), "row 1:", 6) == 0, "%s: message \"%s\"",
                      backends[b], sample_last_error(ctx));
        for (int64_t r = 0; r < rows; r++)
            ck_assert_msg(tok[r] == want[r], "%s: row %" PRId64 ": token %d, expected %d",
                          backends[b], r, (int)tok[r], (int)want[r]);
        sample_destroy(ctx);
    }
    free(want);
    free(tok);
    munmap(data, bytes);
}
END_TEST

static Suite *limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *args = tcase_create("arguments");
    tcase_add_unchecked_fixture(args, setup, NULL);
    tcase_add_test(args, shapes_rejected_untouched);
    tcase_add_test(args, shapes_rejected_params_untouched);
    tcase_add_test(args, largest_strides_pass);
    suite_add_tcase(s, args);

    TCase *big = tcase_create("big");
    tcase_add_unchecked_fixture(big, setup, NULL);
    tcase_set_timeout(big, 300);
    tcase_add_test(big, vocab_max_one_hot);
    tcase_add_test(big, vocab_max_random);
    tcase_add_test(big, stride_2_32_f16);
    tcase_add_test(big, stride_2_31_f32);
    tcase_add_test(big, stride_2_32_plus_f16);
    tcase_add_test(big, out_stride_2_32);
    tcase_add_test(big, batch_times_vocab_past_2_32);
    suite_add_tcase(s, big);
    return s;
}

int main(void)
{
    return harness_run(limits_suite());
}
