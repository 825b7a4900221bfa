/*
 * fuzz_api.c - a libFuzzer harness over libsample's public API.
 *
 * One input is one call (tests/fuzz/README.md gives the byte layout): an
 * operation, B, V, dtype, strides, parameters (scalar or per row), seeds, the
 * values of the rows (generated, then poked with NaN, +-inf, negatives,
 * subnormals, -0 ...) and up to two argument faults.  The call is made on a
 * context of every usable backend, and the harness asserts:
 *
 *  - the status is the one this file derives on its own from FORMAT.md's
 *    argument checks (in their order) and SPEC.md's row rules;
 *  - on an argument failure nothing is written: the output is pre-filled with
 *    a sentinel and must come back unchanged;
 *  - an invalid row's token is -1, or its V values are NaN; the message names
 *    the first invalid row;
 *  - a valid row's token is in the kept set with a nonzero weight (and its
 *    value is a positive probability / a finite logit; top-k 1 on
 *    probabilities gives the first argmax), and the whole result equals this
 *    file's own reading of SPEC.md (weights, sexp, kept set, Philox draw);
 *  - every backend equals the scalar backend bit for bit;
 *  - output padding between rows is never written, the input never changes.
 *
 * A broken property prints what it saw and aborts, which libFuzzer reports as
 * a crash.  Nothing here calls a library internal: only sample.h.
 *
 * Compile with -ffp-contract=off (the oracle's float steps must not fuse).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sample.h"

#define MAX_ELEMS 65536 /* B * V of a call that reaches the rows */
#define MAX_BATCH 32
#define MAX_CTX 8

enum op {
    OP_PROBS,
    OP_LOGITS,
    OP_RENORM,
    OP_MASK,
    OP_SOFTMAX,
    OP_ARGMAX_PROBS,
    OP_ARGMAX_LOGITS,
    OP_MISC,
    OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "probs", "logits", "renorm", "mask", "softmax", "argmax_probs", "argmax_logits", "misc"};

/* ---- reporting ------------------------------------------------------------ */

static char call_text[512]; /* what the current call is, for the failure message */

static void fail(const char *fmt, ...)
#ifdef __GNUC__
    __attribute__((format(printf, 1, 2), noreturn))
#endif
    ;

static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_api: FAILED: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nfuzz_api: call: %s\n", call_text);
    fflush(stderr);
    abort();
}

/* ---- the byte reader: past the end every byte reads as 0 ------------------ */

struct reader {
    const uint8_t *p, *end;
};

static unsigned rd8(struct reader *r)
{
    return r->p < r->end ? *r->p++ : 0;
}

static uint16_t rd16(struct reader *r)
{
    unsigned lo = rd8(r);
    return (uint16_t)(lo | rd8(r) << 8);
}

static uint32_t rd32(struct reader *r)
{
    uint32_t lo = rd16(r);
    return lo | (uint32_t)rd16(r) << 16;
}

static uint64_t rd64(struct reader *r)
{
    uint64_t lo = rd32(r);
    return lo | (uint64_t)rd32(r) << 32;
}

/* ---- floats ------------------------------------------------------------------ */

static float f32_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* Values a hostile caller likes: selectors 1 ... NSPECIAL. */
static const uint32_t special[] = {
    0x00000000u, /* +0 */
    0x80000000u, /* -0 */
    0x3f800000u, /* 1 */
    0xbf800000u, /* -1 */
    0x7fc00000u, /* NaN */
    0xffc00001u, /* -NaN with a payload */
    0x7f800001u, /* signalling NaN */
    0x7f800000u, /* +inf */
    0xff800000u, /* -inf */
    0x00000001u, /* smallest subnormal */
    0x007fffffu, /* largest subnormal */
    0x00800000u, /* FLT_MIN */
    0x7f7fffffu, /* FLT_MAX */
    0xff7fffffu, /* -FLT_MAX */
    0x3f000000u, /* 0.5 */
    0x3f7fffffu, /* 1 - ulp */
    0x3f800001u, /* 1 + ulp */
    0x33800000u, /* 2^-24 */
    0x477fe000u, /* 65504, the largest float16 */
    0x42800000u, /* 64 */
    0xc2800000u, /* -64 */
    0x3dcccccdu, /* 0.1 */
    0x3f666666u, /* 0.9 */
    0x40000000u, /* 2 */
    0x2f800000u, /* 2^-32 */
    0x4f800000u, /* 2^32 */
    0x80000001u, /* -smallest subnormal */
    0x38800000u, /* 2^-14, the smallest normal float16 */
};
#define NSPECIAL ((unsigned)(sizeof special / sizeof special[0]))

/* A float: 0 gives dflt, 1..NSPECIAL a special value, then values in (0, 1],
 * from 0xf0 on the next 4 bytes' bit pattern. */
static float rd_float(struct reader *r, float dflt)
{
    unsigned s = rd8(r);
    if (s == 0)
        return dflt;
    if (s <= NSPECIAL)
        return f32_of(special[s - 1]);
    if (s < 0xf0)
        return (float)(s - NSPECIAL) / (float)(0xef - NSPECIAL);
    return f32_of(rd32(r));
}

static int32_t rd_top_k(struct reader *r)
{
    unsigned s = rd8(r);
    return s < 0xf0 ? (int32_t)s : (int32_t)rd32(r);
}

/* ---- dtypes (this file's own conversions) --------------------------------- */

static size_t elem_size(uint32_t dtype)
{
    return dtype == SAMPLE_F32 ? 4 : 2;
}

static float f16_to_f32(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 31)
        v = m ? NAN : INFINITY;
    else if (e == 0)
        v = ldexpf((float)m, -24);
    else
        v = ldexpf((float)(m | 1024), e - 25);
    return (h & 0x8000u) ? -v : v;
}

/* float32 to float16 by truncation: any value will do, it only has to be one. */
static uint16_t f32_to_f16(float f)
{
    uint16_t sign = (uint16_t)((bits_of(f) >> 16) & 0x8000u);
    float a = fabsf(f);
    if (isnan(a))
        return (uint16_t)(sign | 0x7e00u);
    if (a >= 65520.0f)
        return (uint16_t)(sign | 0x7c00u);
    if (a < 0x1p-14f)
        return (uint16_t)(sign | (uint16_t)(a * 0x1p24f));
    int e;
    float m = frexpf(a, &e); /* a = m * 2^e, m in [0.5, 1) */
    unsigned frac = (unsigned)ldexpf(m, 11) - 1024u;
    return (uint16_t)(sign | (unsigned)(e + 14) << 10 | frac);
}

static float load(const void *base, uint32_t dtype, int64_t i)
{
    if (dtype == SAMPLE_F32) {
        float f;
        memcpy(&f, (const char *)base + 4 * i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, (const char *)base + 2 * i, 2);
    return dtype == SAMPLE_F16 ? f16_to_f32(h) : f32_of((uint32_t)h << 16);
}

static void store_f32(void *base, uint32_t dtype, int64_t i, float v)
{
    if (dtype == SAMPLE_F32) {
        memcpy((char *)base + 4 * i, &v, 4);
        return;
    }
    uint16_t h = dtype == SAMPLE_F16 ? f32_to_f16(v) : (uint16_t)(bits_of(v) >> 16);
    memcpy((char *)base + 2 * i, &h, 2);
}

/* An element poked in: a selector as rd_float, raw bits of the dtype's width. */
static void poke(struct reader *r, void *base, uint32_t dtype, int64_t i)
{
    unsigned s = rd8(r);
    if (s < 0xf0) {
        float v = s == 0 ? 0.0f
                  : s <= NSPECIAL ? f32_of(special[s - 1])
                                  : (float)(s - NSPECIAL) / (float)(0xef - NSPECIAL);
        store_f32(base, dtype, i, v);
    } else if (dtype == SAMPLE_F32) {
        uint32_t u = rd32(r);
        memcpy((char *)base + 4 * i, &u, 4);
    } else {
        uint16_t h = rd16(r);
        memcpy((char *)base + 2 * i, &h, 2);
    }
}

/* ---- generated rows ---------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

#define NGEN 9

static float gen_value(unsigned kind, unsigned param, uint64_t *s)
{
    uint64_t x = splitmix(s);
    float centred = (float)((int32_t)(x >> 40) - (1 << 23));
    switch (kind) {
    case 0: /* probabilities in [0, 1) */
        return (float)(x >> 40) * 0x1p-24f;
    case 1: /* logits, all scales */
        return ldexpf(centred, -(int)(param % 32));
    case 2: { /* positive values of many exponents, subnormals included */
        int exp = 127 - (int)((x >> 32) % (param + 1u));
        return f32_of((uint32_t)(exp < 0 ? 0 : exp) << 23 | (uint32_t)(x & 0x7fffffu));
    }
    case 3: /* few distinct values: ties */
        return (float)(x % (1 + param % 16)) * 0.0625f;
    case 4: /* one value everywhere */
        return f32_of(special[param % NSPECIAL]);
    case 5: /* any bit pattern */
        return f32_of((uint32_t)x);
    case 6: /* logits, most masked to -inf */
        return (x & 3) ? -INFINITY : ldexpf(centred, -(int)(param % 32));
    case 7: /* sparse probabilities */
        return (x & 15) ? 0.0f : (float)(x >> 40) * 0x1p-24f;
    default: { /* a bell of logits */
        int sum = 0;
        for (int i = 0; i < 4; i++)
            sum += (int)((x >> (6 * i)) & 63);
        return ldexpf((float)(sum - 126), -(int)(param % 8));
    }
    }
}

/* ---- contexts ----------------------------------------------------------------- */

struct fctx {
    sample_ctx *ctx;
    char label[32];    /* backend, and its thread count where set */
    int device_memory; /* takes device pointers: never given host memory as such */
};

static struct fctx ctxs[MAX_CTX];
static int nctx;
static int nbackends; /* how many sample_backend_info lists */
static sample_backend_desc backends[MAX_CTX];

/* What the inputs exercised; printed at exit when FUZZ_API_STATS is set. */
static struct {
    unsigned long inputs, calls, arg_failures, empty, valid_rows, invalid_rows, misc;
} stats;

static void teardown(void)
{
    if (getenv("FUZZ_API_STATS"))
        fprintf(stderr, "fuzz_api: %lu inputs, %lu calls: %lu argument failures, %lu with "
                "B = 0, %lu valid and %lu invalid rows checked; %lu other calls\n",
                stats.inputs, stats.calls, stats.arg_failures, stats.empty, stats.valid_rows,
                stats.invalid_rows, stats.misc);
    for (int i = 0; i < nctx; i++)
        sample_destroy(ctxs[i].ctx);
    nctx = 0;
}

static void add_ctx(const char *backend, int32_t threads)
{
    sample_options o;
    sample_options_init(&o);
    o.backend = backend;
    o.threads = threads;
    sample_ctx *ctx = NULL;
    int st = sample_create(&ctx, &o);
    if (st != SAMPLE_OK || !ctx || strcmp(sample_backend(ctx), backend) != 0)
        fail("sample_create(%s, threads %d): %d %s", backend, (int)threads, st,
             sample_create_error());
    struct fctx *f = &ctxs[nctx++];
    f->ctx = ctx;
    snprintf(f->label, sizeof f->label, threads ? "%s/%d" : "%s", backend, (int)threads);
    f->device_memory = strcmp(backend, "hip") == 0;
}

static void setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    for (int32_t i = 0; i < MAX_CTX; i++) {
        sample_backend_desc *d = &backends[i];
        memset(d, 0, sizeof *d);
        d->size = sizeof *d;
        if (sample_backend_info(i, d) != SAMPLE_OK)
            break;
        nbackends++;
    }
    if (nbackends == 0 || strcmp(backends[0].name, "scalar") != 0 || !backends[0].usable)
        fail("sample_backend_info(0) is not a usable scalar backend");
    /* The scalar reference first: every other backend is compared with it. */
    for (int i = 0; i < nbackends && nctx < MAX_CTX - 1; i++)
        if (backends[i].usable)
            add_ctx(backends[i].name, 0);
    for (int i = 0; i < nbackends; i++)
        if (backends[i].usable && strcmp(backends[i].name, "openmp") == 0)
            add_ctx("openmp", 3); /* an odd team: the row split differs */
    atexit(teardown);
}

/* ---- the call ------------------------------------------------------------------- */

struct call {
    enum op op;
    int wild;            /* B, V and the strides are any 64-bit values */
    int real;            /* the buffers are those of B, V and the strides */
    sample_tensor t;     /* as passed (faults applied) */
    sample_params p;     /* as passed (faults applied) */
    int64_t out_stride;  /* as passed */
    uint32_t kind;       /* argmax's kind, as passed */
    int null_ctx, null_tensor, null_data, null_output, null_params;
    size_t out_bytes;    /* the output buffer, allocated exactly */
};

static int is_argmax(enum op op)
{
    return op == OP_ARGMAX_PROBS || op == OP_ARGMAX_LOGITS;
}

static int is_row_op(enum op op)
{
    return op == OP_RENORM || op == OP_MASK || op == OP_SOFTMAX;
}

/* b * s * e is representable in 63 bits (b >= 0, s >= 1). */
static int fits63(int64_t b, int64_t s, unsigned e)
{
    return (unsigned __int128)(uint64_t)b * (uint64_t)s * e <= (unsigned __int128)INT64_MAX;
}

/* FORMAT.md's table: a parameter the operation does not take must be neutral. */
static int unused_param(enum op op, const sample_params *p)
{
    int takes_t = op == OP_LOGITS || op == OP_MASK || op == OP_SOFTMAX;
    int takes_filters = op != OP_SOFTMAX;
    int takes_seed = op == OP_PROBS || op == OP_LOGITS;
    if (!takes_t && (p->temperature != 1.0f || p->temperatures))
        return 1;
    if (!takes_filters && (p->top_k != 0 || p->top_p != 1.0f || p->min_p != 0.0f ||
                           p->top_ks || p->top_ps || p->min_ps))
        return 1;
    if (!takes_seed && (p->seed != 0 || p->offset != 0 || p->seeds || p->offsets))
        return 1;
    return 0;
}

/*
 * FORMAT.md's argument checks, in its order; -1 when they all pass.
 * Two additions the library makes and FORMAT.md does not spell out: the token
 * output (B int32) must fit in 63 bits like the inputs, and host-only
 * backends refuse device memory (SAMPLE_ERR_UNSUPPORTED) after everything else.
 */
static int expect_args(const struct call *c, int device_memory)
{
    const sample_tensor *t = &c->t;
    const sample_params *p = &c->p;
    int argmax = is_argmax(c->op), rows = is_row_op(c->op);
    if (c->null_ctx)
        return SAMPLE_ERR_NULL;
    if (c->null_tensor || c->null_data || c->null_output || (!argmax && c->null_params))
        return SAMPLE_ERR_NULL;
    if (t->size != sizeof *t || (!argmax && p->size != sizeof *p))
        return SAMPLE_ERR_STRUCT_SIZE;
    if (t->dtype > SAMPLE_BF16 || t->memory > SAMPLE_DEVICE || t->reserved != 0 ||
        (!argmax && p->flags != 0) || (argmax && c->kind > SAMPLE_LOGITS))
        return SAMPLE_ERR_FLAGS;
    if (t->batch < 0 || t->vocab < 1 || t->vocab > SAMPLE_MAX_VOCAB)
        return SAMPLE_ERR_SHAPE;
    if (t->stride < 0 || (t->stride > 0 && t->stride < t->vocab))
        return SAMPLE_ERR_SHAPE;
    if (rows && (c->out_stride < 0 || (c->out_stride > 0 && c->out_stride < t->vocab)))
        return SAMPLE_ERR_SHAPE;
    if (!fits63(t->batch, t->stride ? t->stride : t->vocab, (unsigned)elem_size(t->dtype)))
        return SAMPLE_ERR_SHAPE;
    if (rows && !fits63(t->batch, c->out_stride ? c->out_stride : t->vocab, 4))
        return SAMPLE_ERR_SHAPE;
    if (!rows && !fits63(t->batch, 1, 4))
        return SAMPLE_ERR_SHAPE;
    if (!argmax && unused_param(c->op, p))
        return SAMPLE_ERR_ARGUMENT;
    if (t->memory == SAMPLE_DEVICE && !device_memory)
        return SAMPLE_ERR_UNSUPPORTED;
    return -1;
}

/* ---- the oracle: SPEC.md read independently -------------------------------------- */

static float sexp(float z)
{
    float k = rintf(z * f32_of(0x3FB8AA3Bu));
    float r = fmaf(-k, f32_of(0x3F317200u), z);
    r = fmaf(-k, f32_of(0x35BFBE8Eu), r);
    float q = f32_of(0x39500D01u);
    q = fmaf(q, r, f32_of(0x3AB60B61u));
    q = fmaf(q, r, f32_of(0x3C088889u));
    q = fmaf(q, r, f32_of(0x3D2AAAABu));
    q = fmaf(q, r, f32_of(0x3E2AAAABu));
    q = fmaf(q, r, 0.5f);
    q = fmaf(q, r, 1.0f);
    q = fmaf(q, r, 1.0f);
    return ldexpf(q, (int)k);
}

#define W_ONE ((uint64_t)1 << 40)

static uint64_t logit_weight(float l, float mx, float t)
{
    if (l == -INFINITY)
        return 0;
    float d = l - mx;
    float z = d / t;
    if (z < -64.0f)
        return 0;
    uint64_t w = (uint64_t)floor((double)sexp(z) * 0x1p40);
    return w < W_ONE ? w : W_ONE;
}

/* ceil(x * m) exactly, for a float x in [0, 1]. */
static uint64_t ceil_mul(float x, uint64_t m)
{
    if (x == 0.0f || m == 0)
        return 0;
    int e;
    float f = frexpf(x, &e);                   /* x = f * 2^e, f in [0.5, 1) */
    uint64_t mant = (uint64_t)ldexpf(f, 24);   /* exact: f has at most 24 bits */
    int s = 24 - e;                            /* x = mant / 2^s */
    unsigned __int128 num = (unsigned __int128)mant * m;
    if (s >= 128)
        return 1; /* 0 < num < 2^88 <= 2^s */
    unsigned __int128 q = num >> s, rem = num & (((unsigned __int128)1 << s) - 1);
    return (uint64_t)q + (rem != 0);
}

/* The order of SPEC 3 as one integer (larger first); w <= 2^40 needs 41 bits. */
static uint64_t rank_key(uint64_t w, int64_t i)
{
    return w << 23 | (uint64_t)(0x7fffff - i);
}

static int by_key_descending(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

struct kept {
    uint64_t boundary; /* token i is kept iff rank_key(w_i, i) >= boundary */
    uint64_t mass;     /* M_K */
};

static struct kept kept_set(const uint64_t *w, int64_t v, int32_t k, float p, float q,
                            uint64_t *keys)
{
    struct kept kept = {0, 0};
    if ((k == 0 || k >= v) && p == 1.0f && q == 0.0f) {
        for (int64_t i = 0; i < v; i++)
            kept.mass += w[i];
        return kept;
    }
    for (int64_t i = 0; i < v; i++)
        keys[i] = rank_key(w[i], i);
    qsort(keys, (size_t)v, sizeof *keys, by_key_descending);
    int64_t lk = (k == 0 || k >= v) ? v : k, lp = lk, lm = 0;
    uint64_t mk = 0;
    for (int64_t j = 0; j < lk; j++)
        mk += keys[j] >> 23;
    if (p != 1.0f) {
        uint64_t tau = ceil_mul(p, mk), s = 0;
        for (int64_t j = 0; j < lk; j++) {
            s += keys[j] >> 23;
            if (s >= tau) {
                lp = j + 1;
                break;
            }
        }
    }
    uint64_t theta = ceil_mul(q, keys[0] >> 23);
    while (lm < v && (keys[lm] >> 23) >= theta)
        lm++;
    int64_t len = lk < lp ? lk : lp;
    len = len < lm ? len : lm;
    if (len < 1)
        fail("oracle: empty kept set");
    kept.boundary = keys[len - 1];
    for (int64_t j = 0; j < len; j++)
        kept.mass += keys[j] >> 23;
    return kept;
}

static void philox(uint32_t c[4], uint32_t k0, uint32_t k1)
{
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c[1] ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c[3] ^ k1;
        c[1] = (uint32_t)p1;
        c[3] = (uint32_t)p0;
        c[0] = n0;
        c[2] = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
}

static uint64_t draw_u64(uint64_t seed, uint64_t offset, uint64_t subseq)
{
    uint32_t c[4] = {(uint32_t)offset, (uint32_t)(offset >> 32), (uint32_t)subseq,
                     (uint32_t)(subseq >> 32)};
    philox(c, (uint32_t)seed, (uint32_t)(seed >> 32));
    return c[0] | (uint64_t)c[1] << 32;
}

/* Growing scratch for one row. */
static float *ws_x;
static uint64_t *ws_w, *ws_keys;
static int64_t ws_cap;

static void ws_reserve(int64_t v)
{
    if (v <= ws_cap)
        return;
    free(ws_x);
    free(ws_w);
    free(ws_keys);
    ws_x = malloc((size_t)v * sizeof *ws_x);
    ws_w = malloc((size_t)v * sizeof *ws_w);
    ws_keys = malloc((size_t)v * sizeof *ws_keys);
    if (!ws_x || !ws_w || !ws_keys)
        fail("out of memory for the oracle");
    ws_cap = v;
}

static void ws_free(void)
{
    free(ws_x);
    free(ws_w);
    free(ws_keys);
    ws_x = NULL;
    ws_w = ws_keys = NULL;
    ws_cap = 0;
}

/*
 * Row r of a call whose arguments passed: 1 and its result (the token, or V
 * floats) if the row is valid, else 0.  Also checks, for a token, that it is
 * in the kept set with a nonzero weight.
 */
static int oracle_row(const struct call *c, int64_t r, int32_t *token, float *out)
{
    const sample_tensor *t = &c->t;
    const sample_params *p = &c->p;
    int64_t v = t->vocab, stride = t->stride ? t->stride : v;
    const char *row = (const char *)t->data + (size_t)(r * stride) * elem_size(t->dtype);
    enum op op = c->op;
    int probs = is_argmax(op) ? c->kind == SAMPLE_PROBS
                              : (op == OP_PROBS || op == OP_RENORM);

    ws_reserve(v);
    float *x = ws_x;
    uint64_t *w = ws_w;
    for (int64_t i = 0; i < v; i++)
        x[i] = load(row, t->dtype, i);

    /* SPEC 4 (last paragraph) and 6: the parameters of the row. */
    float temp = 1.0f, top_p = 1.0f, min_p = 0.0f;
    int32_t top_k = 0;
    if (!is_argmax(op)) {
        temp = p->temperatures ? p->temperatures[r] : p->temperature;
        top_k = p->top_ks ? p->top_ks[r] : p->top_k;
        top_p = p->top_ps ? p->top_ps[r] : p->top_p;
        min_p = p->min_ps ? p->min_ps[r] : p->min_p;
    }
    if (op == OP_LOGITS || op == OP_MASK || op == OP_SOFTMAX) {
        if (!(temp >= 0.0f && temp < INFINITY))
            return 0;
        if (op != OP_LOGITS && !(temp > 0.0f))
            return 0;
    }
    if (op == OP_PROBS || op == OP_LOGITS || op == OP_RENORM || op == OP_MASK) {
        if (top_k < 0 || !(top_p > 0.0f && top_p <= 1.0f) || !(min_p >= 0.0f && min_p < 1.0f))
            return 0;
    }

    /* SPEC 2: the values. */
    float mx = probs ? 0.0f : -INFINITY;
    for (int64_t i = 0; i < v; i++) {
        if (isnan(x[i]) || x[i] == INFINITY || (probs && x[i] < 0.0f))
            return 0;
        if (x[i] > mx)
            mx = x[i];
    }
    if (probs ? !(mx > 0.0f) : mx == -INFINITY)
        return 0;

    /* Greedy: the smallest index of the maximum. */
    if (is_argmax(op) || (op == OP_LOGITS && temp == 0.0f)) {
        int64_t i = 0;
        while (x[i] != mx)
            i++;
        *token = (int32_t)i;
        return 1;
    }

    if (probs) {
        int e;
        frexpf(mx, &e);
        for (int64_t i = 0; i < v; i++)
            w[i] = (uint64_t)floor(ldexp((double)x[i], 40 - e));
    } else {
        for (int64_t i = 0; i < v; i++)
            w[i] = logit_weight(x[i], mx, temp);
    }

    struct kept kept = op == OP_SOFTMAX ? kept_set(w, v, 0, 1.0f, 0.0f, ws_keys)
                                        : kept_set(w, v, top_k, top_p, min_p, ws_keys);
    if (kept.mass == 0)
        fail("oracle: row %lld has an empty kept mass", (long long)r);

    if (op == OP_RENORM || op == OP_SOFTMAX) {
        double mass = (double)kept.mass;
        for (int64_t i = 0; i < v; i++)
            out[i] = rank_key(w[i], i) >= kept.boundary ? (float)((double)w[i] / mass) : 0.0f;
        return 1;
    }
    if (op == OP_MASK) {
        for (int64_t i = 0; i < v; i++)
            out[i] = rank_key(w[i], i) >= kept.boundary ? x[i] : -INFINITY;
        return 1;
    }

    /* SPEC 5: the draw. */
    uint64_t offset = p->offsets ? p->offsets[r] : p->offset;
    uint64_t u = p->seeds ? draw_u64(p->seeds[r], offset, 0) : draw_u64(p->seed, offset, (uint64_t)r);
    uint64_t th = (uint64_t)(((unsigned __int128)u * kept.mass) >> 64), sum = 0;
    for (int64_t i = 0; i < v; i++) {
        if (rank_key(w[i], i) < kept.boundary)
            continue;
        sum += w[i];
        if (sum > th) {
            *token = (int32_t)i;
            return 1;
        }
    }
    fail("oracle: no token drawn in row %lld", (long long)r);
}

/*
 * What is exactly true of a sampled token of a valid row whatever the draw:
 * it is in the kept set with a nonzero weight; a probability > 0 or a logit
 * > -inf; top-k 1 on probabilities gives the first argmax (probability
 * weights are strictly monotonic at the top, so the first in the order is
 * the first maximum).  Recomputes the row's weights and kept set.
 */
static void check_token_kept(const struct call *c, int64_t r, int32_t tok, const char *label)
{
    const sample_tensor *t = &c->t;
    const sample_params *p = &c->p;
    int64_t v = t->vocab, stride = t->stride ? t->stride : v;
    if (tok < 0 || tok >= v)
        fail("%s: row %lld: token %d is outside 0 ... V-1", label, (long long)r, (int)tok);
    float value = load((const char *)t->data + (size_t)(r * stride) * elem_size(t->dtype),
                       t->dtype, tok);
    int probs = c->op == OP_PROBS;
    if (isnan(value) || (probs ? !(value > 0.0f) : !(value > -INFINITY)))
        fail("%s: row %lld: token %d has value %a, which can never be drawn", label,
             (long long)r, (int)tok, (double)value);
    float temp = c->op == OP_LOGITS ? (p->temperatures ? p->temperatures[r] : p->temperature)
                                    : 1.0f;
    if (temp == 0.0f)
        return; /* greedy: compared with the first argmax by the caller */
    int32_t k = p->top_ks ? p->top_ks[r] : p->top_k;
    float top_p = p->top_ps ? p->top_ps[r] : p->top_p;
    float min_p = p->min_ps ? p->min_ps[r] : p->min_p;
    /* the weights, again (the oracle's scratch was reused by later rows) */
    ws_reserve(v);
    const char *row = (const char *)t->data + (size_t)(r * stride) * elem_size(t->dtype);
    float mx = probs ? 0.0f : -INFINITY;
    for (int64_t i = 0; i < v; i++) {
        ws_x[i] = load(row, t->dtype, i);
        if (ws_x[i] > mx)
            mx = ws_x[i];
    }
    int e = 0;
    if (probs)
        frexpf(mx, &e);
    for (int64_t i = 0; i < v; i++)
        ws_w[i] = probs ? (uint64_t)floor(ldexp((double)ws_x[i], 40 - e))
                        : logit_weight(ws_x[i], mx, temp);
    struct kept kept = kept_set(ws_w, v, k, top_p, min_p, ws_keys);
    if (rank_key(ws_w[tok], tok) < kept.boundary)
        fail("%s: row %lld: token %d is not in the kept set (top-k %d, top-p %a, min-p %a)",
             label, (long long)r, (int)tok, (int)k, (double)top_p, (double)min_p);
    if (ws_w[tok] == 0)
        fail("%s: row %lld: token %d has weight 0", label, (long long)r, (int)tok);
    if (probs && k == 1) {
        int64_t first = 0;
        while (ws_x[first] != mx)
            first++;
        if (tok != first)
            fail("%s: row %lld: top-k 1 gave %d, the first argmax is %lld", label,
                 (long long)r, (int)tok, (long long)first);
    }
}

/* ---- running and checking a call ------------------------------------------------- */

#define FLOAT_SENTINEL 0x7fa5a5a5u /* a NaN no backend writes */

static void fill_sentinel(void *out, size_t bytes)
{
    for (size_t i = 0; i + 4 <= bytes; i += 4) {
        uint32_t u = FLOAT_SENTINEL;
        memcpy((char *)out + i, &u, 4);
    }
}

static int call_op(sample_ctx *ctx, const struct call *c, void *out)
{
    const sample_tensor *t = c->null_tensor ? NULL : &c->t;
    const sample_params *p = c->null_params ? NULL : &c->p;
    void *o = c->null_output ? NULL : out;
    switch (c->op) {
    case OP_PROBS: return sample_from_probs(ctx, t, p, o);
    case OP_LOGITS: return sample_from_logits(ctx, t, p, o);
    case OP_RENORM: return sample_renorm_probs(ctx, t, p, o, c->out_stride);
    case OP_MASK: return sample_mask_logits(ctx, t, p, o, c->out_stride);
    case OP_SOFTMAX: return sample_softmax(ctx, t, p, o, c->out_stride);
    default: return sample_argmax(ctx, t, (sample_kind)c->kind, o);
    }
}

static int same_float(uint32_t a, uint32_t b)
{
    return a == b || (isnan(f32_of(a)) && isnan(f32_of(b)) && a != FLOAT_SENTINEL &&
                      b != FLOAT_SENTINEL);
}

/* Every result of the call (all rows) checked against the oracle's. */
static void check_rows(const struct call *c, const char *label, int status, const void *out,
                       const void *expected, const int *valid, int64_t first_invalid,
                       sample_ctx *ctx)
{
    int64_t b = c->t.batch, v = c->t.vocab;
    int want = first_invalid >= 0 ? SAMPLE_ERR_INVALID_ROWS : SAMPLE_OK;
    if (status != want)
        fail("%s: status %d (%s), expected %d; message \"%s\"", label, status,
             sample_strerror(status), want, sample_last_error(ctx));
    const char *msg = sample_last_error(ctx);
    if (want == SAMPLE_OK && msg[0] != '\0')
        fail("%s: a successful call left the message \"%s\"", label, msg);
    if (want != SAMPLE_OK &&
        (strncmp(msg, "row ", 4) != 0 || strtoll(msg + 4, NULL, 10) != first_invalid))
        fail("%s: message \"%s\" does not name the first invalid row %lld", label, msg,
             (long long)first_invalid);

    if (!is_row_op(c->op)) {
        const int32_t *tok = out, *want_tok = expected;
        for (int64_t r = 0; r < b; r++) {
            if (!valid[r]) {
                if (tok[r] != -1)
                    fail("%s: invalid row %lld has token %d, not -1", label, (long long)r,
                         (int)tok[r]);
                continue;
            }
            if (!is_argmax(c->op))
                check_token_kept(c, r, tok[r], label);
            if (tok[r] != want_tok[r])
                fail("%s: row %lld: token %d, SPEC.md gives %d", label, (long long)r,
                     (int)tok[r], (int)want_tok[r]);
        }
        return;
    }
    /* Row outputs: every float of the buffer, padding included, bit for bit. */
    int64_t os = c->out_stride ? c->out_stride : v;
    size_t n = c->out_bytes / 4;
    const uint32_t *got = out, *exp = expected;
    for (size_t i = 0; i < n; i++) {
        int64_t r = (int64_t)i / os, j = (int64_t)i % os;
        if (j >= v || r >= b) {
            if (got[i] != FLOAT_SENTINEL)
                fail("%s: padding element %lld of row %lld was written (%08x)", label,
                     (long long)j, (long long)r, (unsigned)got[i]);
        } else if (!valid[r]) {
            if (!isnan(f32_of(got[i])) || got[i] == FLOAT_SENTINEL)
                fail("%s: invalid row %lld: element %lld is %08x, not a NaN written", label,
                     (long long)r, (long long)j, (unsigned)got[i]);
        } else if (got[i] != exp[i]) {
            fail("%s: row %lld element %lld: %08x (%a), SPEC.md gives %08x (%a)", label,
                 (long long)r, (long long)j, (unsigned)got[i], (double)f32_of(got[i]),
                 (unsigned)exp[i], (double)f32_of(exp[i]));
        }
    }
}

static void run_call(struct call *c, void *data, size_t data_bytes)
{
    if (getenv("FUZZ_API_VERBOSE"))
        fprintf(stderr, "fuzz_api: %s\n", call_text);
    void *out = malloc(c->out_bytes);
    void *blank = malloc(c->out_bytes);    /* the sentinel: what an untouched output is */
    void *ref = malloc(c->out_bytes);      /* the scalar backend's output */
    void *expected = malloc(c->out_bytes); /* the oracle's */
    void *before = malloc(data_bytes);
    int64_t b = c->t.batch;
    int *valid = malloc(sizeof(int) * (size_t)(b > 0 && b <= MAX_ELEMS ? b : 1));
    if (!out || !blank || !ref || !expected || !before || !valid)
        fail("out of memory");
    memcpy(before, data, data_bytes);
    fill_sentinel(blank, c->out_bytes);
    int oracle_done = 0, ref_status = -1;
    int64_t first_invalid = -1;

    for (int i = 0; i < nctx; i++) {
        const struct fctx *f = &ctxs[i];
        int want = expect_args(c, f->device_memory);
        if (want < 0 && !c->real && c->t.batch > 0)
            continue; /* no buffer of that shape here: never make the call */
        if (want < 0 && f->device_memory && c->t.memory == SAMPLE_DEVICE)
            continue; /* host memory passed as device memory would be our bug */
        memcpy(out, blank, c->out_bytes);
        sample_ctx *ctx = c->null_ctx ? NULL : f->ctx;
        int status = call_op(ctx, c, out);
        stats.calls++;
        if (want >= 0)
            stats.arg_failures++;
        else if (c->t.batch == 0)
            stats.empty++;

        if (want >= 0 || c->t.batch == 0) {
            int w = want >= 0 ? want : SAMPLE_OK;
            if (status != w)
                fail("%s: status %d (%s), the argument checks give %d (%s); message \"%s\"",
                     f->label, status, sample_strerror(status), w, sample_strerror(w),
                     ctx ? sample_last_error(ctx) : "");
            if (memcmp(out, blank, c->out_bytes) != 0)
                fail("%s: the call returned %d but wrote its output", f->label, status);
            if (ctx && w != SAMPLE_OK && sample_last_error(ctx)[0] == '\0')
                fail("%s: status %d with an empty message", f->label, status);
            if (ctx && w == SAMPLE_OK && sample_last_error(ctx)[0] != '\0')
                fail("%s: B = 0 left the message \"%s\"", f->label, sample_last_error(ctx));
            continue;
        }

        if (!oracle_done) {
            int64_t v = c->t.vocab, os = c->out_stride ? c->out_stride : v;
            memcpy(expected, blank, c->out_bytes);
            for (int64_t r = 0; r < b; r++) {
                int32_t tok = -1;
                float *row = is_row_op(c->op) ? (float *)expected + r * os : NULL;
                valid[r] = oracle_row(c, r, &tok, row);
                if (!is_row_op(c->op))
                    ((int32_t *)expected)[r] = valid[r] ? tok : -1;
                if (!valid[r] && first_invalid < 0)
                    first_invalid = r;
            }
            oracle_done = 1;
        }

        if (ref_status < 0) {
            memcpy(ref, out, c->out_bytes);
            ref_status = status;
        } else {
            /* every backend equals scalar, bit for bit (NaN rows: any NaN) */
            if (status != ref_status)
                fail("%s: status %d, scalar gave %d", f->label, status, ref_status);
            const uint32_t *g = out, *s = ref;
            for (size_t k = 0; k < c->out_bytes / 4; k++)
                if (is_row_op(c->op) ? !same_float(g[k], s[k]) : g[k] != s[k])
                    fail("%s: output word %zu is %08x, scalar wrote %08x", f->label, k,
                         (unsigned)g[k], (unsigned)s[k]);
        }
        check_rows(c, f->label, status, out, expected, valid, first_invalid, ctx);
        for (int64_t r = 0; r < b; r++)
            *(valid[r] ? &stats.valid_rows : &stats.invalid_rows) += 1;
    }
    if (memcmp(before, data, data_bytes) != 0)
        fail("the input rows were modified");
    free(out);
    free(blank);
    free(ref);
    free(expected);
    free(before);
    free(valid);
}

/* A stride from one byte, in small mode. */
static int64_t small_stride(unsigned s, int64_t v)
{
    switch (s) {
    case 0: return 0;
    case 0xff: return v - 1;
    case 0xfe: return -1;
    case 0xfd: return INT64_MIN;
    case 0xfc: return INT64_MAX;
    default: return v + (int64_t)(s % 8);
    }
}

/* An argument fault: one byte, >= 0x80 to apply (some take a 32-bit value). */
struct fault {
    unsigned code;
    uint32_t value;
};

static struct fault rd_fault(struct reader *r)
{
    struct fault f = {16, 0};
    unsigned b = rd8(r);
    if (b >= 0x80) {
        f.code = b & 15;
        if (f.code >= 5 && f.code <= 11)
            f.value = rd32(r);
    }
    return f;
}

static void apply_fault(struct fault f, struct call *c)
{
    switch (f.code) {
    case 0: c->null_ctx = 1; break;
    case 1: c->null_tensor = 1; break;
    case 2: c->null_data = 1; c->t.data = NULL; break;
    case 3: c->null_output = 1; break;
    case 4: c->null_params = 1; break;
    case 5: c->t.size = f.value; break;
    case 6: c->p.size = f.value; break;
    case 7: c->t.dtype = f.value; break;
    case 8: c->t.memory = f.value; break;
    case 9: c->t.reserved = f.value; break;
    case 10: c->p.flags = f.value; break;
    case 11: c->kind = f.value; break;
    case 12: c->t.size = (uint32_t)sizeof(sample_tensor) - 8; break;
    case 13: c->t.memory = SAMPLE_DEVICE; break;
    default: break;
    }
}

static void describe(const struct call *c, unsigned gen, unsigned gen_param)
{
    snprintf(call_text, sizeof call_text,
             "%s dtype %u B %lld V %lld stride %lld out_stride %lld T %a k %d P %a Q %a "
             "seed %llu offset %llu per-row %c%c%c%c%c%c gen %u/%u kind %u memory %u "
             "null %d%d%d%d%d sizes %u/%u flags %u reserved %u",
             op_names[c->op], (unsigned)c->t.dtype, (long long)c->t.batch,
             (long long)c->t.vocab, (long long)c->t.stride, (long long)c->out_stride,
             (double)c->p.temperature, (int)c->p.top_k, (double)c->p.top_p,
             (double)c->p.min_p, (unsigned long long)c->p.seed,
             (unsigned long long)c->p.offset, c->p.temperatures ? 'T' : '-',
             c->p.top_ks ? 'k' : '-', c->p.top_ps ? 'P' : '-', c->p.min_ps ? 'Q' : '-',
             c->p.seeds ? 's' : '-', c->p.offsets ? 'o' : '-', gen, gen_param, (unsigned)c->kind,
             (unsigned)c->t.memory, c->null_ctx, c->null_tensor, c->null_data,
             c->null_output, c->null_params, (unsigned)c->t.size, (unsigned)c->p.size,
             (unsigned)c->p.flags, (unsigned)c->t.reserved);
}

static void api_call(struct reader *rd, enum op op)
{
    struct call c;
    memset(&c, 0, sizeof c);
    c.op = op;
    c.kind = op == OP_ARGMAX_LOGITS ? SAMPLE_LOGITS : SAMPLE_PROBS;
    uint32_t dtype = rd8(rd) % 3;
    unsigned shape = rd8(rd);
    int64_t b, v, stride, out_stride;
    c.wild = shape >> 7;
    if (c.wild) {
        b = (int64_t)rd64(rd);
        v = (int64_t)rd64(rd);
        stride = (int64_t)rd64(rd);
        out_stride = (int64_t)rd64(rd);
    } else {
        b = (shape & 0x7f) % (MAX_BATCH + 1);
        v = 1 + (int64_t)rd16(rd);
        if (b * v > MAX_ELEMS)
            b = MAX_ELEMS / v;
        stride = small_stride(rd8(rd), v);
        out_stride = small_stride(rd8(rd), v);
    }
    unsigned per_row = rd8(rd);
    sample_params_init(&c.p);
    c.p.temperature = rd_float(rd, 1.0f);
    c.p.top_k = rd_top_k(rd);
    c.p.top_p = rd_float(rd, 1.0f);
    c.p.min_p = rd_float(rd, 0.0f);
    if (rd8(rd) & 1) {
        c.p.seed = rd64(rd);
        c.p.offset = rd64(rd);
    }
    struct fault fault1 = rd_fault(rd), fault2 = rd_fault(rd); /* applied last */
    /* a fault that sets another valid dtype: the rows are made in that one */
    if (fault1.code == 7 && fault1.value <= SAMPLE_BF16)
        dtype = fault1.value;
    if (fault2.code == 7 && fault2.value <= SAMPLE_BF16)
        dtype = fault2.value;
    unsigned gen = rd8(rd) % NGEN, gen_param = rd8(rd);
    uint64_t gen_seed = rd64(rd);

    /* The buffers: exact sizes, so that a read or write past them is caught. */
    int64_t se = stride ? stride : v, ose = out_stride ? out_stride : v;
    int stride_ok = !c.wild && se >= v && se <= v + 8;  /* buffers of that shape */
    int out_ok = !c.wild && ose >= v && ose <= v + 8;
    c.real = stride_ok && (out_ok || !is_row_op(op));
    size_t n_in = 4, n_rows = 1;
    if (!c.wild) {
        n_in = (size_t)(b > 0 && stride_ok ? (b - 1) * se + v : v);
        n_rows = (size_t)(b > 0 ? b : 1);
    }
    size_t data_bytes = n_in * elem_size(dtype);
    void *data = malloc(data_bytes);
    float *temps = malloc(n_rows * sizeof *temps);
    int32_t *ks = malloc(n_rows * sizeof *ks);
    float *ps = malloc(n_rows * sizeof *ps), *qs = malloc(n_rows * sizeof *qs);
    uint64_t *seeds = malloc(n_rows * sizeof *seeds), *offsets = malloc(n_rows * sizeof *offsets);
    if (!data || !temps || !ks || !ps || !qs || !seeds || !offsets)
        fail("out of memory");
    memset(data, 0, data_bytes);
    memset(temps, 0, n_rows * sizeof *temps);
    memset(ks, 0, n_rows * sizeof *ks);
    memset(ps, 0, n_rows * sizeof *ps);
    memset(qs, 0, n_rows * sizeof *qs);
    memset(seeds, 0, n_rows * sizeof *seeds);
    memset(offsets, 0, n_rows * sizeof *offsets);

    if (!c.wild) {
        for (size_t i = 0; i < n_in; i++)
            store_f32(data, dtype, (int64_t)i, NAN); /* padding: NaN */
        uint64_t s = gen_seed;
        for (int64_t r = 0; r < b && stride_ok; r++)
            for (int64_t i = 0; i < v; i++)
                store_f32(data, dtype, r * se + i, gen_value(gen, gen_param, &s));
        for (int64_t r = 0; r < b; r++) {
            if (per_row & 1)
                temps[r] = rd_float(rd, 1.0f);
            if (per_row & 2)
                ks[r] = rd_top_k(rd);
            if (per_row & 4)
                ps[r] = rd_float(rd, 1.0f);
            if (per_row & 8)
                qs[r] = rd_float(rd, 0.0f);
            if (per_row & 16)
                seeds[r] = rd64(rd);
            if (per_row & 32)
                offsets[r] = rd64(rd);
        }
        /* pokes: (u32 position over the B * V elements, value) until the end */
        while (rd->p < rd->end && b > 0 && stride_ok) {
            uint64_t pos = rd32(rd) % (uint64_t)(b * v);
            poke(rd, data, dtype, (int64_t)(pos / (uint64_t)v) * se + (int64_t)(pos % (uint64_t)v));
        }
    }
    c.p.temperatures = (per_row & 1) ? temps : NULL;
    c.p.top_ks = (per_row & 2) ? ks : NULL;
    c.p.top_ps = (per_row & 4) ? ps : NULL;
    c.p.min_ps = (per_row & 8) ? qs : NULL;
    c.p.seeds = (per_row & 16) ? seeds : NULL;
    c.p.offsets = (per_row & 32) ? offsets : NULL;

    sample_tensor_init(&c.t, (sample_dtype)dtype, data, b, v);
    c.t.stride = stride;
    c.out_stride = out_stride;
    apply_fault(fault1, &c);
    apply_fault(fault2, &c);

    if (is_row_op(op))
        c.out_bytes = 4 * (size_t)(b > 0 && out_ok ? (b - 1) * ose + v : 1);
    else
        c.out_bytes = 4 * n_rows;
    describe(&c, gen, gen_param);
    run_call(&c, data, data_bytes);

    free(data);
    free(temps);
    free(ks);
    free(ps);
    free(qs);
    free(seeds);
    free(offsets);
}

/* ---- the calls that take no tensor ------------------------------------------------ */

static int name_is(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static void fuzz_create(struct reader *r)
{
    static const char *const names[] = {NULL,     "",       "scalar", "openmp", "hip",
                                        "auto",   "AUTO",   "Scalar", "OpenMP", "bogus",
                                        "scalar ", "scalarx", "sc",   "HIP"};
    char raw[65];
    unsigned flags = rd8(r);
    sample_options o;
    sample_options_init(&o);
    if (flags & 1)
        o.size = rd32(r);
    if (flags & 2)
        o.flags = rd32(r);
    unsigned bsel = rd8(r);
    if (bsel < 0xf0) {
        o.backend = names[bsel % (sizeof names / sizeof names[0])];
    } else {
        unsigned n = rd8(r) % 64;
        for (unsigned i = 0; i < n; i++)
            raw[i] = (char)rd8(r);
        raw[n] = '\0';
        o.backend = raw;
    }
    unsigned dsel = rd8(r);
    o.device = dsel < 0xf0 ? (int32_t)dsel - 3 : (int32_t)rd32(r);
    unsigned tsel = rd8(r);
    if (tsel < 0x80)
        o.threads = (int32_t)(tsel % 17);
    else if (tsel < 0xf0)
        o.threads = -(int32_t)(tsel & 0x7f);
    else
        o.threads = (int32_t)rd32(r);
    int null_out = (flags & 4) != 0, null_opts = (flags & 8) != 0;
    const char *env = getenv("SAMPLE_BACKEND");

    snprintf(call_text, sizeof call_text, "sample_create size %u flags %u backend %s%s%s "
             "device %d threads %d null out %d null options %d", (unsigned)o.size,
             (unsigned)o.flags, o.backend ? "\"" : "", o.backend ? o.backend : "NULL",
             o.backend ? "\"" : "", (int)o.device, (int)o.threads, null_out, null_opts);

    sample_options defaults;
    sample_options_init(&defaults);
    const sample_options *eff = null_opts ? &defaults : &o;
    int want;
    const char *name = eff->backend;
    if (!name || !*name)
        name = env;
    if (null_out)
        want = SAMPLE_ERR_NULL;
    else if (eff->size != sizeof *eff)
        want = SAMPLE_ERR_STRUCT_SIZE;
    else if (eff->flags != 0)
        want = SAMPLE_ERR_FLAGS;
    else if (eff->device < -1 || eff->threads < 0 || eff->threads > 1024)
        want = SAMPLE_ERR_ARGUMENT; /* 1024: SAMPLE_MAX_THREADS, as sample_create(3) says */
    else if (!name || !*name || name_is(name, "auto"))
        want = SAMPLE_OK;
    else {
        want = SAMPLE_ERR_BACKEND_UNKNOWN;
        for (int i = 0; i < nbackends; i++)
            if (name_is(name, backends[i].name))
                want = !backends[i].built    ? SAMPLE_ERR_BACKEND_MISSING
                       : !backends[i].usable ? SAMPLE_ERR_BACKEND_UNUSABLE
                                             : SAMPLE_OK;
    }
    sample_ctx *ctx = (sample_ctx *)&ctx; /* not NULL: a failure must set it to NULL */
    int st = sample_create(null_out ? NULL : &ctx, null_opts ? NULL : &o);
    /* a GPU backend named explicitly may fail to open on a device that is not there */
    if (want == SAMPLE_OK && st != SAMPLE_OK && name && name_is(name, "hip") &&
        (st == SAMPLE_ERR_DEVICE || st == SAMPLE_ERR_RANGE))
        want = st;
    if (st != want)
        fail("sample_create: status %d (%s), expected %d; \"%s\"", st, sample_strerror(st), want,
             sample_create_error());
    if (st != SAMPLE_OK) {
        if (!null_out && ctx != NULL)
            fail("sample_create failed but left *ctx set");
        if (sample_create_error()[0] == '\0')
            fail("sample_create failed with no message");
        return;
    }
    const char *got = sample_backend(ctx);
    if (!got || (name && *name && !name_is(name, "auto") && !name_is(name, got)))
        fail("sample_create(%s) made a context on %s", name ? name : "NULL", got ? got : "NULL");
    /* one small call on it */
    const float row[3] = {0.0f, 1.0f, 0.0f};
    sample_tensor t;
    sample_params p;
    sample_tensor_init(&t, SAMPLE_F32, row, 1, 3);
    sample_params_init(&p);
    int32_t tok = -7;
    st = sample_from_probs(ctx, &t, &p, &tok);
    if (st != SAMPLE_OK || tok != 1)
        fail("a one-hot row on %s: status %d token %d", got, st, (int)tok);
    sample_destroy(ctx);
}

static void misc_call(struct reader *r)
{
    unsigned sub = rd8(r) % 4;
    if (sub == 0) {
        int code = (int)rd32(r);
        snprintf(call_text, sizeof call_text, "sample_strerror(%d)", code);
        const char *s = sample_strerror(code);
        if (!s || !*s || strlen(s) > 200)
            fail("sample_strerror(%d) is not a short message", code);
        int unknown = strcmp(s, "unknown status code") == 0;
        if (unknown != (code < SAMPLE_OK || code > SAMPLE_ERR_RANGE))
            fail("sample_strerror(%d) = \"%s\"", code, s);
    } else if (sub == 1) {
        unsigned isel = rd8(r), ssel = rd8(r), nsel = rd8(r);
        int32_t idx = isel < 0xf0 ? (int32_t)(isel % 8) - 2 : (int32_t)rd32(r);
        sample_backend_desc d;
        memset(&d, 0xa5, sizeof d);
        d.size = ssel == 0 ? (uint32_t)sizeof d : rd32(r);
        int null = nsel & 1;
        snprintf(call_text, sizeof call_text, "sample_backend_info(%d, size %u, null %d)",
                 (int)idx, (unsigned)d.size, null);
        int want = null ? SAMPLE_ERR_NULL
                   : d.size != sizeof d ? SAMPLE_ERR_STRUCT_SIZE
                   : (idx < 0 || idx >= nbackends) ? SAMPLE_ERR_RANGE
                                                   : SAMPLE_OK;
        int st = sample_backend_info(idx, null ? NULL : &d);
        if (st != want)
            fail("sample_backend_info: status %d, expected %d", st, want);
        if (st == SAMPLE_OK &&
            (!d.name || strcmp(d.name, backends[idx].name) != 0 || !d.reason ||
             d.built != backends[idx].built || d.usable != backends[idx].usable ||
             d.reserved != 0 || (d.usable && !d.built)))
            fail("sample_backend_info(%d) changed or is inconsistent", (int)idx);
    } else if (sub == 2) {
        fuzz_create(r);
    } else {
        snprintf(call_text, sizeof call_text, "NULL-tolerant calls");
        sample_destroy(NULL);
        sample_options_init(NULL);
        sample_params_init(NULL);
        sample_tensor_init(NULL, SAMPLE_F32, NULL, 1, 1);
        if (!sample_last_error(NULL) || sample_backend(NULL) != NULL)
            fail("sample_last_error(NULL) or sample_backend(NULL)");
        if (sample_version() != SAMPLE_VERSION_NUMBER ||
            strcmp(sample_version_string(), SAMPLE_VERSION_STRING) != 0)
            fail("version");
        if (sample_from_probs(NULL, NULL, NULL, NULL) != SAMPLE_ERR_NULL ||
            sample_argmax(NULL, NULL, (sample_kind)rd32(r), NULL) != SAMPLE_ERR_NULL ||
            sample_softmax(NULL, NULL, NULL, NULL, (int64_t)rd64(r)) != SAMPLE_ERR_NULL)
            fail("a call without a context is not ERR_NULL");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    struct reader rd = {data, data + size};
    enum op op = (enum op)(rd8(&rd) % OP_COUNT);
    stats.inputs++;
    if (op == OP_MISC) {
        stats.misc++;
        misc_call(&rd);
    } else {
        api_call(&rd, op);
    }
    ws_free();
    return 0;
}
