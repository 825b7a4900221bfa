/*
 * check_threads.c - libsample from many threads at once.
 *
 *  - First use: before any other library call in the process, 8 threads
 *    released together by a barrier probe the backends (sample_backend_info),
 *    create contexts (auto, named, "hip", which loads a plugin where one is
 *    built) and destroy them.  Every thread must see the same backend list,
 *    the same auto choice and the same failures.
 *  - Stress: 8 worker threads, each with its own context on a usable backend
 *    (round robin), sample in a loop from inputs they all share (read-only),
 *    every result checked against a single-threaded answer computed first on
 *    the scalar backend; each worker recreates its context now and then.
 *    Meanwhile 2 churn threads create and destroy contexts (auto, named,
 *    unknown, unusable), call sample_backend_info, sample_strerror and check
 *    that sample_create_error() is per thread.
 *
 * Bounded in time and count: SAMPLE_STRESS_SECONDS (default 2) and
 * SAMPLE_STRESS_ITERS (calls per worker, default 1000000).  Build the tree
 * with -fsanitize=thread to look for data races (tests/fuzz/README.md says how).
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define MAX_BACKENDS 8

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtol(v, NULL, 10) : dflt;
}

/* ---- first use, from main() before anything else ------------------------------ */

#define FIRST_THREADS 8

struct first_use {
    int ninfo;                            /* backends listed */
    sample_backend_desc info[MAX_BACKENDS];
    char info_reason[MAX_BACKENDS][160];
    int auto_status;
    char auto_backend[16];
    int hip_status;
    char hip_message[256];
    int named_status;                     /* scalar or openmp by name */
    char named[16];
};

static struct first_use first[FIRST_THREADS];
static pthread_barrier_t first_barrier;

static void list_backends(struct first_use *f)
{
    f->ninfo = 0;
    for (int32_t i = 0; i < MAX_BACKENDS; i++) {
        sample_backend_desc *d = &f->info[i];
        memset(d, 0, sizeof *d);
        d->size = sizeof *d;
        if (sample_backend_info(i, d) != SAMPLE_OK)
            break;
        snprintf(f->info_reason[i], sizeof f->info_reason[i], "%s", d->reason);
        f->ninfo++;
    }
}

static void *first_use_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    struct first_use *f = &first[id];
    sample_options o;
    sample_ctx *ctx = NULL;
    pthread_barrier_wait(&first_barrier);
    /* The first library call of the process: a different one per thread. */
    switch (id % 4) {
    case 0:
        list_backends(f);
        break;
    case 1:
        break;
    case 2:
        sample_options_init(&o);
        o.backend = "hip";
        f->hip_status = sample_create(&ctx, &o);
        snprintf(f->hip_message, sizeof f->hip_message, "%s", sample_create_error());
        sample_destroy(ctx);
        ctx = NULL;
        break;
    default:
        sample_options_init(&o);
        o.backend = id % 8 == 3 ? "openmp" : "scalar";
        snprintf(f->named, sizeof f->named, "%s", o.backend);
        f->named_status = sample_create(&ctx, &o);
        sample_destroy(ctx);
        ctx = NULL;
        break;
    }
    sample_options_init(&o);
    o.backend = "auto";
    f->auto_status = sample_create(&ctx, &o);
    snprintf(f->auto_backend, sizeof f->auto_backend, "%s",
             ctx ? sample_backend(ctx) : "(none)");
    sample_destroy(ctx);
    if (id % 4 != 0)
        list_backends(f);
    if (id % 4 != 2) {
        sample_options_init(&o);
        o.backend = "hip";
        ctx = NULL;
        f->hip_status = sample_create(&ctx, &o);
        snprintf(f->hip_message, sizeof f->hip_message, "%s", sample_create_error());
        sample_destroy(ctx);
    }
    return NULL;
}

static int first_use_ran;

static void first_use_race(void)
{
    pthread_t t[FIRST_THREADS];
    pthread_barrier_init(&first_barrier, NULL, FIRST_THREADS);
    for (int i = 0; i < FIRST_THREADS; i++)
        if (pthread_create(&t[i], NULL, first_use_thread, (void *)(intptr_t)i) != 0)
            return;
    for (int i = 0; i < FIRST_THREADS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&first_barrier);
    first_use_ran = 1;
}

START_TEST(first_use_consistent)
{
    ck_assert_msg(first_use_ran, "the first-use threads did not start");
    const struct first_use *a = &first[0];
    ck_assert_int_ge(a->ninfo, 1);
    ck_assert_str_eq(a->info[0].name, "scalar");
    for (int i = 1; i < FIRST_THREADS; i++) {
        const struct first_use *b = &first[i];
        ck_assert_int_eq(b->ninfo, a->ninfo);
        for (int j = 0; j < a->ninfo; j++) {
            ck_assert_str_eq(b->info[j].name, a->info[j].name);
            ck_assert_int_eq(b->info[j].built, a->info[j].built);
            ck_assert_int_eq(b->info[j].usable, a->info[j].usable);
            ck_assert_str_eq(b->info_reason[j], a->info_reason[j]);
        }
        ck_assert_int_eq(b->auto_status, SAMPLE_OK);
        ck_assert_str_eq(b->auto_backend, a->auto_backend);
        ck_assert_int_eq(b->hip_status, a->hip_status);
        if (b->hip_status != SAMPLE_OK)
            ck_assert_msg(strstr(b->hip_message, "hip") != NULL,
                          "thread %d: hip failed with \"%s\"", i, b->hip_message);
        if (b->named[0])
            ck_assert_msg(b->named_status == SAMPLE_OK ||
                              (strcmp(b->named, "openmp") == 0 &&
                               b->named_status == SAMPLE_ERR_BACKEND_MISSING),
                          "thread %d: %s: status %d", i, b->named, b->named_status);
    }
    /* auto is the first usable backend in the order hip, openmp, scalar */
    const char *prefer[] = {"hip", "openmp", "scalar"};
    const char *expect = "scalar";
    for (int p = 2; p >= 0; p--)
        for (int j = 0; j < a->ninfo; j++)
            if (strcmp(a->info[j].name, prefer[p]) == 0 && a->info[j].usable)
                expect = prefer[p];
    ck_assert_str_eq(a->auto_backend, expect);
}
END_TEST

/* ---- the calls every worker repeats ------------------------------------------- */

enum op { OP_PROBS, OP_LOGITS, OP_RENORM, OP_MASK, OP_SOFTMAX, OP_ARGMAX_LOGITS };

struct spec {
    enum op op;
    sample_dtype dtype;
    int64_t batch, vocab, stride, out_stride;
    float temperature, top_p, min_p;
    int32_t top_k;
    uint64_t seed;
    int per_row_seeds;
    int bad_row; /* a row made invalid, or -1 */
    /* filled by prepare() */
    void *data;
    uint64_t *seeds;
    sample_tensor tensor;
    sample_params params;
    size_t out_bytes;
    int status;  /* the single-threaded answer on scalar */
    void *expected;
};

#define SPEC(o, dt, b, v, st, ost, t, tp, mp, k, sd, prs, bad)                              \
    {.op = o, .dtype = dt, .batch = b, .vocab = v, .stride = st, .out_stride = ost,            \
     .temperature = t, .top_p = tp, .min_p = mp, .top_k = k, .seed = sd, .per_row_seeds = prs, \
     .bad_row = bad}

/* op, dtype, B, V, stride, out_stride, T, P, Q, k, seed, per-row seeds, bad row */
static struct spec specs[] = {
    SPEC(OP_PROBS, SAMPLE_F32, 4, 1000, 0, 0, 1, 1, 0, 50, 1, 0, -1),
    SPEC(OP_LOGITS, SAMPLE_BF16, 3, 5000, 5003, 0, 0.8f, 0.9f, 0, 0, 2, 0, -1),
    SPEC(OP_RENORM, SAMPLE_F16, 2, 3000, 0, 3003, 1, 1, 0.05f, 0, 0, 0, -1),
    SPEC(OP_MASK, SAMPLE_F32, 5, 777, 0, 0, 1.5f, 1, 0, 10, 0, 0, -1),
    SPEC(OP_SOFTMAX, SAMPLE_F32, 2, 4096, 0, 4100, 2, 1, 0, 0, 0, 0, -1),
    SPEC(OP_ARGMAX_LOGITS, SAMPLE_F16, 8, 300, 0, 0, 1, 1, 0, 0, 0, 0, -1),
    SPEC(OP_LOGITS, SAMPLE_F32, 1, 20000, 0, 0, 1, 0.95f, 0, 100, 3, 1, -1),
    SPEC(OP_PROBS, SAMPLE_F32, 6, 100, 0, 0, 1, 1, 0, 0, 4, 0, 2),
    SPEC(OP_PROBS, SAMPLE_F32, 1, 32768, 0, 0, 1, 0.5f, 0, 0, 5, 0, -1),
    SPEC(OP_RENORM, SAMPLE_BF16, 1, 17000, 0, 0, 1, 1, 0, 1000, 0, 0, -1),
    SPEC(OP_LOGITS, SAMPLE_F16, 4, 2048, 0, 0, 0, 1, 0, 0, 6, 1, 3),
    SPEC(OP_MASK, SAMPLE_BF16, 2, 16384, 0, 16390, 0.7f, 0.8f, 0.01f, 0, 0, 0, -1),
};
#define NSPECS ((int)(sizeof specs / sizeof specs[0]))

static int is_row_op(enum op op)
{
    return op == OP_RENORM || op == OP_MASK || op == OP_SOFTMAX;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void store(void *data, sample_dtype dtype, int64_t i, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    if (dtype == SAMPLE_F32) {
        ((float *)data)[i] = v;
    } else if (dtype == SAMPLE_BF16) {
        ((uint16_t *)data)[i] = (uint16_t)(u >> 16);
    } else {
        /* float16 of a value in [-8, 8): exact enough, any value will do */
        float a = fabsf(v);
        uint16_t h;
        if (isnan(v))
            h = 0x7e00;
        else if (a < 0x1p-14f)
            h = 0;
        else {
            int e;
            float m = frexpf(a, &e);
            h = (uint16_t)((unsigned)(e + 14) << 10 | ((unsigned)ldexpf(m, 11) - 1024u));
        }
        ((uint16_t *)data)[i] = (uint16_t)(h | ((u >> 16) & 0x8000u));
    }
}

static int run_spec(sample_ctx *ctx, const struct spec *s, void *out)
{
    switch (s->op) {
    case OP_PROBS: return sample_from_probs(ctx, &s->tensor, &s->params, out);
    case OP_LOGITS: return sample_from_logits(ctx, &s->tensor, &s->params, out);
    case OP_RENORM:
        return sample_renorm_probs(ctx, &s->tensor, &s->params, out, s->out_stride);
    case OP_MASK: return sample_mask_logits(ctx, &s->tensor, &s->params, out, s->out_stride);
    case OP_SOFTMAX: return sample_softmax(ctx, &s->tensor, &s->params, out, s->out_stride);
    default: return sample_argmax(ctx, &s->tensor, SAMPLE_LOGITS, out);
    }
}

static void prepare(void)
{
    uint64_t rng = 0x7468726561647321u;
    sample_ctx *ref = harness_context("scalar");
    for (int i = 0; i < NSPECS; i++) {
        struct spec *s = &specs[i];
        int64_t stride = s->stride ? s->stride : s->vocab;
        size_t elem = s->dtype == SAMPLE_F32 ? 4 : 2;
        size_t n = (size_t)((s->batch - 1) * stride + s->vocab);
        s->data = calloc(n, elem);
        ck_assert(s->data);
        int logits = s->op == OP_LOGITS || s->op == OP_MASK || s->op == OP_SOFTMAX ||
                     s->op == OP_ARGMAX_LOGITS;
        for (int64_t r = 0; r < s->batch; r++)
            for (int64_t j = 0; j < s->vocab; j++) {
                uint64_t x = splitmix(&rng);
                float v = logits ? (float)((int)(x >> 40 & 0xfff) - 2048) * 0x1p-8f
                                 : (float)(x >> 40 & 0xfff) * 0x1p-12f;
                if (logits && (x & 7) == 0)
                    v = -INFINITY;
                store(s->data, s->dtype, r * stride + j, v);
            }
        if (s->bad_row >= 0)
            store(s->data, s->dtype, s->bad_row * stride + s->vocab / 2, NAN);
        sample_tensor_init(&s->tensor, s->dtype, s->data, s->batch, s->vocab);
        s->tensor.stride = s->stride;
        sample_params_init(&s->params);
        if (s->op == OP_LOGITS || s->op == OP_MASK || s->op == OP_SOFTMAX)
            s->params.temperature = s->temperature;
        if (s->op != OP_SOFTMAX && s->op != OP_ARGMAX_LOGITS) {
            s->params.top_k = s->top_k;
            s->params.top_p = s->top_p;
            s->params.min_p = s->min_p;
        }
        if (s->op == OP_PROBS || s->op == OP_LOGITS) {
            s->params.seed = s->seed;
            s->params.offset = 17;
            if (s->per_row_seeds) {
                s->seeds = malloc(sizeof *s->seeds * (size_t)s->batch);
                ck_assert(s->seeds);
                for (int64_t r = 0; r < s->batch; r++)
                    s->seeds[r] = splitmix(&rng);
                s->params.seeds = s->seeds;
            }
        }
        int64_t os = s->out_stride ? s->out_stride : s->vocab;
        s->out_bytes = is_row_op(s->op) ? sizeof(float) * (size_t)((s->batch - 1) * os + s->vocab)
                                        : sizeof(int32_t) * (size_t)s->batch;
        s->expected = malloc(s->out_bytes);
        ck_assert(s->expected);
        memset(s->expected, 0xa5, s->out_bytes); /* as the workers' outputs: padding stays */
        s->status = run_spec(ref, s, s->expected);
        ck_assert_msg(s->status == (s->bad_row >= 0 ? SAMPLE_ERR_INVALID_ROWS : SAMPLE_OK),
                      "spec %d: status %d: %s", i, s->status, sample_last_error(ref));
    }
    sample_destroy(ref);
}

static void release(void)
{
    for (int i = 0; i < NSPECS; i++) {
        free(specs[i].data);
        free(specs[i].seeds);
        free(specs[i].expected);
        specs[i].data = specs[i].seeds = NULL;
        specs[i].expected = NULL;
    }
}

/* Equal to the answer: bit for bit, but any NaN for a NaN (invalid rows). */
static int same_output(const struct spec *s, const void *got)
{
    if (!is_row_op(s->op))
        return memcmp(got, s->expected, s->out_bytes) == 0;
    const uint32_t *g = got, *e = s->expected;
    for (size_t i = 0; i < s->out_bytes / 4; i++) {
        float fg, fe;
        memcpy(&fg, &g[i], 4);
        memcpy(&fe, &e[i], 4);
        if (g[i] != e[i] && !(isnan(fg) && isnan(fe)))
            return 0;
    }
    return 1;
}

/* ---- the stress -------------------------------------------------------------- */

#define WORKERS 8
#define CHURNERS 2

static const char *usable[HARNESS_MAX_BACKENDS];
static int nusable;
static double deadline;
static long max_iters;
static pthread_barrier_t start_barrier;
static atomic_int workers_left;

struct worker {
    int id;
    long calls, recreated;
    char failure[512]; /* the first thing that went wrong, or "" */
};

static sample_ctx *open_ctx(const char *backend, int32_t threads, char *failure, size_t len)
{
    sample_options o;
    sample_ctx *ctx = NULL;
    sample_options_init(&o);
    o.backend = backend;
    o.threads = threads;
    int st = sample_create(&ctx, &o);
    if (st != SAMPLE_OK || !ctx || strcmp(sample_backend(ctx), backend) != 0) {
        snprintf(failure, len, "sample_create(%s, threads %d): %d: %s", backend, (int)threads,
                 st, sample_create_error());
        sample_destroy(ctx);
        return NULL;
    }
    return ctx;
}

static void *worker_thread(void *arg)
{
    struct worker *w = arg;
    const char *backend = usable[w->id % nusable];
    size_t max_out = 0;
    for (int i = 0; i < NSPECS; i++)
        max_out = specs[i].out_bytes > max_out ? specs[i].out_bytes : max_out;
    void *out = malloc(max_out);
    pthread_barrier_wait(&start_barrier);
    if (!out) {
        snprintf(w->failure, sizeof w->failure, "out of memory");
        atomic_fetch_sub(&workers_left, 1);
        return NULL;
    }
    sample_ctx *ctx = open_ctx(backend, 0, w->failure, sizeof w->failure);
    /* at least one call each, however slow the machine (valgrind runs one thread at a time) */
    for (long i = 0; ctx && i < max_iters && (i == 0 || now() < deadline); i++) {
        const struct spec *s = &specs[(w->id * 5 + i) % NSPECS];
        memset(out, 0xa5, s->out_bytes);
        int st = run_spec(ctx, s, out);
        w->calls++;
        if (st != s->status || !same_output(s, out)) {
            snprintf(w->failure, sizeof w->failure,
                     "worker %d on %s, call %ld (spec %d): status %d (expected %d)%s: %s",
                     w->id, backend, i, (int)(s - specs), st, s->status,
                     st == s->status ? ", different output" : "", sample_last_error(ctx));
            break;
        }
        if (i % 37 == 36) { /* a fresh context, with another thread count */
            sample_destroy(ctx);
            ctx = open_ctx(backend, (int32_t)(i % 4), w->failure, sizeof w->failure);
            w->recreated++;
        }
    }
    sample_destroy(ctx);
    free(out);
    atomic_fetch_sub(&workers_left, 1);
    return NULL;
}

struct churner {
    int id;
    long rounds;
    char failure[512];
};

static void *churn_thread(void *arg)
{
    struct churner *c = arg;
    char bogus[32];
    snprintf(bogus, sizeof bogus, "bogus-%d", c->id);
    const char *names[] = {"scalar", "openmp", "auto", NULL, bogus, "hip", "Scalar"};
    const float row[4] = {0, 0, 1, 0};
    sample_tensor t;
    sample_params p;
    sample_tensor_init(&t, SAMPLE_F32, row, 1, 4);
    sample_params_init(&p);
    pthread_barrier_wait(&start_barrier);
    while (atomic_load(&workers_left) > 0 && !c->failure[0]) {
        for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
            sample_options o;
            sample_ctx *ctx = NULL;
            sample_options_init(&o);
            o.backend = names[n];
            int st = sample_create(&ctx, n == 3 ? NULL : &o);
            if (names[n] == bogus) {
                if (st != SAMPLE_ERR_BACKEND_UNKNOWN || !strstr(sample_create_error(), bogus))
                    snprintf(c->failure, sizeof c->failure,
                             "churner %d: unknown backend: status %d, message \"%s\"", c->id,
                             st, sample_create_error());
                continue;
            }
            if (st != SAMPLE_OK)
                continue; /* openmp not built, hip not usable: the first-use test checks */
            int32_t tok = -7;
            st = sample_from_probs(ctx, &t, &p, &tok);
            if (st != SAMPLE_OK || tok != 2)
                snprintf(c->failure, sizeof c->failure, "churner %d: %s: status %d token %d",
                         c->id, sample_backend(ctx), st, (int)tok);
            sample_destroy(ctx);
        }
        sample_backend_desc d;
        memset(&d, 0, sizeof d);
        d.size = sizeof d;
        for (int32_t i = 0; sample_backend_info(i, &d) == SAMPLE_OK; i++)
            if (!d.name || !d.reason)
                snprintf(c->failure, sizeof c->failure, "backend_info(%d)", (int)i);
        for (int s = -1; s <= SAMPLE_ERR_RANGE + 1; s++)
            if (!sample_strerror(s))
                snprintf(c->failure, sizeof c->failure, "strerror(%d)", s);
        if (sample_version() != SAMPLE_VERSION_NUMBER)
            snprintf(c->failure, sizeof c->failure, "version");
        c->rounds++;
    }
    return NULL;
}

START_TEST(stress)
{
    nusable = harness_usable_backends(usable);
    ck_assert_int_ge(nusable, 1);
    prepare();
    double seconds = (double)env_long("SAMPLE_STRESS_SECONDS", 2);
    max_iters = env_long("SAMPLE_STRESS_ITERS", 1000000);
    struct worker w[WORKERS];
    struct churner c[CHURNERS];
    pthread_t tw[WORKERS], tc[CHURNERS];
    memset(w, 0, sizeof w);
    memset(c, 0, sizeof c);
    atomic_store(&workers_left, WORKERS);
    pthread_barrier_init(&start_barrier, NULL, WORKERS + CHURNERS);
    double t0 = now();
    deadline = t0 + seconds;
    for (int i = 0; i < WORKERS; i++) {
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&tw[i], NULL, worker_thread, &w[i]), 0);
    }
    for (int i = 0; i < CHURNERS; i++) {
        c[i].id = i;
        ck_assert_int_eq(pthread_create(&tc[i], NULL, churn_thread, &c[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(tw[i], NULL);
    for (int i = 0; i < CHURNERS; i++)
        pthread_join(tc[i], NULL);
    pthread_barrier_destroy(&start_barrier);
    double took = now() - t0;

    long total = 0, least = -1, most = 0, recreated = 0;
    for (int i = 0; i < WORKERS; i++) {
        total += w[i].calls;
        recreated += w[i].recreated;
        least = least < 0 || w[i].calls < least ? w[i].calls : least;
        most = w[i].calls > most ? w[i].calls : most;
    }
    printf("stress: %d workers x %ld..%ld calls (%ld in all, %ld contexts recreated) on",
           WORKERS, least, most, total, recreated);
    for (int i = 0; i < nusable; i++)
        printf(" %s", usable[i]);
    printf("; %d churners x %ld..%ld rounds; %.2f s\n", CHURNERS,
           c[0].rounds < c[1].rounds ? c[0].rounds : c[1].rounds,
           c[0].rounds > c[1].rounds ? c[0].rounds : c[1].rounds, took);
    fflush(stdout);
    for (int i = 0; i < WORKERS; i++)
        ck_assert_msg(w[i].failure[0] == '\0', "%s", w[i].failure);
    for (int i = 0; i < CHURNERS; i++)
        ck_assert_msg(c[i].failure[0] == '\0', "%s", c[i].failure);
    for (int i = 0; i < WORKERS; i++)
        ck_assert_msg(w[i].calls > 0, "worker %d made no call", i);
    release();
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, first_use_consistent);
    tcase_add_test(tc, stress);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    /* Before any other library call: the first use is the race under test. */
    first_use_race();
    return harness_run(threads_suite());
}
