/*
 * bench.c - sample bench: the timings of BENCH.md.
 *
 * CPU backends: inputs in host memory; each result is the median of repeated
 * calls after a warm-up, set beside its floor: one streaming pass over the
 * same input that computes each row's maximum, timed the same way.
 *
 * The hip backend: inputs and outputs in device memory (the device-pointer
 * path), device events around each call on a stream, the median of at least
 * 100 calls after a warm-up, and inputs rotated among enough copies that L2
 * cannot hold them.  The floor is one read of the input at the bandwidth of a
 * device-to-device copy measured at the start (bytes read plus written).
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sample_tool.h"
#ifdef SAMPLE_HAVE_HIP
#include "gpu.h"
#endif

/* ---- what is timed ------------------------------------------------------- */

enum bench_call { CALL_PROBS, CALL_LOGITS, CALL_RENORM, CALL_MASK };

static const struct bench_op {
    const char *name;
    enum bench_call call;
    float temperature;
    int32_t top_k;
    float top_p;
    float min_p;
} ops[] = {
    {"plain", CALL_PROBS, 1.0f, 0, 1.0f, 0.0f},
    {"topk50", CALL_PROBS, 1.0f, 50, 1.0f, 0.0f},
    {"topk1000", CALL_PROBS, 1.0f, 1000, 1.0f, 0.0f},
    {"topp0.9", CALL_PROBS, 1.0f, 0, 0.9f, 0.0f},
    {"topp0.5", CALL_PROBS, 1.0f, 0, 0.5f, 0.0f},
    {"topk50-topp0.9", CALL_PROBS, 1.0f, 50, 0.9f, 0.0f},
    {"minp0.1", CALL_PROBS, 1.0f, 0, 1.0f, 0.1f},
    {"logits-t0.7-topk50-topp0.9", CALL_LOGITS, 0.7f, 50, 0.9f, 0.0f},
    {"renorm-topp0.9", CALL_RENORM, 1.0f, 0, 0.9f, 0.0f},
    /* masking is defined on logits at a temperature > 0; 1 leaves them as they are */
    {"mask-topk50", CALL_MASK, 1.0f, 50, 1.0f, 0.0f},
};

enum dist_kind { DIST_NORMAL, DIST_GUMBEL };

static const struct bench_dist {
    const char *name;
    enum dist_kind kind;
    double scale; /* standard deviation, or the Gumbel beta */
} dists[] = {
    {"normal1", DIST_NORMAL, 1.0},
    {"normal5", DIST_NORMAL, 5.0},
    {"gumbel0.1", DIST_GUMBEL, 0.1},
    {"gumbel1", DIST_GUMBEL, 1.0},
};

#define OP_COUNT (sizeof ops / sizeof ops[0])
#define DIST_COUNT (sizeof dists / sizeof dists[0])

static int reads_logits(const struct bench_op *op)
{
    return op->call == CALL_LOGITS || op->call == CALL_MASK;
}

static int writes_rows(const struct bench_op *op)
{
    return op->call == CALL_RENORM || op->call == CALL_MASK;
}

/* ---- options ------------------------------------------------------------- */

#define MAX_LIST 64

/* A list option: indices into ops or dists, or sizes. */
struct list {
    int n;
    int64_t v[MAX_LIST];
};

enum format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

struct bench_config {
    const char *backend;  /* NULL: the library's choice; "all": every usable backend */
    int32_t threads;      /* 0: the library's default */
    int64_t iters;        /* timed calls at least */
    double min_seconds;   /* of timed calls at least */
    enum format format;
    struct list ops, dists, vocabs, batches;
};

static void help(FILE *out)
{
    fputs("usage: sample bench [OPTIONS]\n"
          "Times the library on the inputs of BENCH.md and prints, for each operation,\n"
          "distribution, V and B, the median time per call and per row, the floor (one\n"
          "pass over the same input computing each row's maximum) and the ratio.\n\n"
          "  --backend NAME|all  a backend, or every usable one (default: the library's)\n"
          "  --op LIST           plain, topk50, topk1000, topp0.9, topp0.5, topk50-topp0.9,\n"
          "                      minp0.1, logits-t0.7-topk50-topp0.9, renorm-topp0.9,\n"
          "                      mask-topk50 (default: all)\n"
          "  --vocab LIST        default 32000,128256,151936,256000\n"
          "  --batch LIST        default 1,16,64,256\n"
          "  --dist LIST         normal1, normal5, gumbel0.1, gumbel1 (default: all)\n"
          "  --threads N         threads of the openmp backend\n"
          "  --iters N           timed calls at least (default 50; 10 with --quick)\n"
          "  --quick             V 32000,128256, B 1,64, dists normal1,gumbel1, ops plain,\n"
          "                      topk50-topp0.9, topp0.9, minp0.1, fewer calls\n"
          "  --csv, --json       print the table as CSV or as a JSON array\n"
          "  --help              print this help\n"
          "Lists are separated by commas.\n", out);
}

typedef int (*item_fn)(const char *option, const char *item, int64_t *value);

static int unknown_name(const char *option, const char *item)
{
    tool_error("bench: %s: unknown name '%s' (see 'sample bench --help')", option, item);
    return -1;
}

static int op_item(const char *option, const char *item, int64_t *value)
{
    for (size_t i = 0; i < OP_COUNT; i++)
        if (strcmp(item, ops[i].name) == 0) {
            *value = (int64_t)i;
            return 0;
        }
    return unknown_name(option, item);
}

static int dist_item(const char *option, const char *item, int64_t *value)
{
    for (size_t i = 0; i < DIST_COUNT; i++)
        if (strcmp(item, dists[i].name) == 0) {
            *value = (int64_t)i;
            return 0;
        }
    return unknown_name(option, item);
}

static int vocab_item(const char *option, const char *item, int64_t *value)
{
    return tool_int_arg(option, item, 1, SAMPLE_MAX_VOCAB, value);
}

/* Up to 2^20 rows: with V <= 2^23 no byte count of a buffer overflows 64 bits. */
static int batch_item(const char *option, const char *item, int64_t *value)
{
    return tool_int_arg(option, item, 1, 1 << 20, value);
}

/* "a,b,c" into list; items are copied out, as optarg is not ours to cut up. */
static int parse_list(const char *option, const char *text, item_fn parse_item,
                      struct list *list)
{
    char item[64];
    list->n = 0;
    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof item || list->n == MAX_LIST) {
            tool_error("bench: %s: '%s' is not a list of up to %d items", option, text,
                       MAX_LIST);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (parse_item(option, item, &list->v[list->n++]) != 0)
            return -1;
        p += len;
        if (*p == '\0')
            return 0;
    }
}

/* A list of names; without one, every entry of the table in its order. */
static int parse_names(const char *option, const char *text, item_fn parse_item,
                       size_t count, struct list *list)
{
    if (text)
        return parse_list(option, text, parse_item, list);
    list->n = (int)count;
    for (size_t i = 0; i < count; i++)
        list->v[i] = (int64_t)i;
    return 0;
}

/* The lists given, else --quick's, else the full benchmark's. */
struct list_texts {
    const char *ops, *dists, *vocabs, *batches;
};

static int resolve_lists(struct bench_config *cfg, const struct list_texts *given, int quick)
{
    const char *op = given->ops ? given->ops
                     : quick    ? "plain,topk50-topp0.9,topp0.9,minp0.1" : NULL;
    const char *dist = given->dists ? given->dists : quick ? "normal1,gumbel1" : NULL;
    const char *vocab = given->vocabs ? given->vocabs
                        : quick       ? "32000,128256" : "32000,128256,151936,256000";
    const char *batch = given->batches ? given->batches : quick ? "1,64" : "1,16,64,256";
    return parse_names("--op", op, op_item, OP_COUNT, &cfg->ops) ||
           parse_names("--dist", dist, dist_item, DIST_COUNT, &cfg->dists) ||
           parse_list("--vocab", vocab, vocab_item, &cfg->vocabs) ||
           parse_list("--batch", batch, batch_item, &cfg->batches);
}

static int parse_args(int argc, char **argv, struct bench_config *cfg, int *help_asked)
{
    static const struct option longopts[] = {
        {"backend", required_argument, NULL, 'b'}, {"op", required_argument, NULL, 'o'},
        {"vocab", required_argument, NULL, 'V'},   {"batch", required_argument, NULL, 'B'},
        {"dist", required_argument, NULL, 'd'},    {"threads", required_argument, NULL, 't'},
        {"iters", required_argument, NULL, 'i'},   {"quick", no_argument, NULL, 'q'},
        {"csv", no_argument, NULL, 'c'},           {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct list_texts given = {NULL, NULL, NULL, NULL};
    int c, quick = 0;
    int64_t threads = 0, iters = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b': cfg->backend = optarg; break;
        case 'o': given.ops = optarg; break;
        case 'V': given.vocabs = optarg; break;
        case 'B': given.batches = optarg; break;
        case 'd': given.dists = optarg; break;
        case 'q': quick = 1; break;
        case 'c': cfg->format = FORMAT_CSV; break;
        case 'j': cfg->format = FORMAT_JSON; break;
        case 'h': *help_asked = 1; return TOOL_EXIT_OK;
        case 't':
            if (tool_int_arg("--threads", optarg, 1, INT32_MAX, &threads) != 0)
                return TOOL_EXIT_USAGE;
            break;
        case 'i':
            if (tool_int_arg("--iters", optarg, 1, 1000000, &iters) != 0)
                return TOOL_EXIT_USAGE;
            break;
        default: return tool_bad_option("bench", c, argv);
        }
    }
    if (optind < argc) {
        tool_error("bench: unexpected argument '%s'", argv[optind]);
        return TOOL_EXIT_USAGE;
    }
    cfg->threads = (int32_t)threads;
    cfg->iters = iters ? iters : quick ? 10 : 50;
    cfg->min_seconds = quick ? 0.05 : 0.2;
    return resolve_lists(cfg, &given, quick) ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
}

/* ---- inputs -------------------------------------------------------------- */

/* splitmix64: small, fast and plenty for benchmark inputs. */
struct rng {
    uint64_t state;
    int has_spare; /* Box-Muller makes normals in pairs */
    double spare;
};

static uint64_t next_u64(struct rng *g)
{
    uint64_t z = (g->state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): never 0, so the logarithms below stay finite. */
static double next_uniform(struct rng *g)
{
    return ((double)(next_u64(g) >> 11) + 0.5) * 0x1p-53;
}

static double next_normal(struct rng *g)
{
    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    double radius = sqrt(-2.0 * log(next_uniform(g)));
    double angle = 6.283185307179586 * next_uniform(g); /* 2 pi */
    g->spare = radius * sin(angle);
    g->has_spare = 1;
    return radius * cos(angle);
}

static double next_logit(struct rng *g, const struct bench_dist *d)
{
    if (d->kind == DIST_NORMAL)
        return d->scale * next_normal(g);
    return -d->scale * log(-log(next_uniform(g)));
}

/* The float32 softmax of a row, computed in double (exps: V doubles of scratch). */
static void softmax_row(const float *logits, float *probs, int64_t vocab, double *exps)
{
    float max = logits[0];
    for (int64_t i = 1; i < vocab; i++)
        max = logits[i] > max ? logits[i] : max;
    double sum = 0.0;
    for (int64_t i = 0; i < vocab; i++)
        sum += exps[i] = exp((double)logits[i] - max);
    for (int64_t i = 0; i < vocab; i++)
        probs[i] = (float)(exps[i] / sum);
}

/* B different rows: one stream of draws, seeded by the distribution and V alone. */
static void generate(float *logits, float *probs, int64_t batch, int64_t vocab, int dist,
                     double *scratch)
{
    struct rng g = {0x5a3b1e5d00000000u ^ (uint64_t)vocab << 8 ^ (uint64_t)dist, 0, 0.0};
    for (int64_t r = 0; r < batch; r++) {
        float *row = logits + r * vocab;
        for (int64_t i = 0; i < vocab; i++)
            row[i] = (float)next_logit(&g, &dists[dist]);
        softmax_row(row, probs + r * vocab, vocab, scratch);
    }
}

/* ---- timing -------------------------------------------------------------- */

/* One timed thing: returns 0, or a sample_status after which timing stops. */
typedef int (*timed_fn)(void *arg, uint64_t call);

struct timing {
    int64_t min_calls, max_calls;
    double min_seconds;
    double *samples; /* max_calls entries */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of n samples (sorted in place). */
static double median(double *samples, int64_t n)
{
    qsort(samples, (size_t)n, sizeof *samples, compare_doubles);
    return n % 2 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

/*
 * Warm-up (caches, page faults, the backend's buffers) for a quarter of the
 * minimum time, then at least min_calls and min_seconds of calls, each timed
 * on its own, up to max_calls.  The median in microseconds.
 */
static int median_us(const struct timing *t, timed_fn fn, void *arg, double *us)
{
    uint64_t call = 0;
    int status;
    double start = now(), t0, t1;
    do {
        if ((status = fn(arg, call++)) != SAMPLE_OK)
            return status;
    } while (now() - start < t->min_seconds / 4);

    int64_t n = 0;
    start = now();
    do {
        t0 = now();
        if ((status = fn(arg, call++)) != SAMPLE_OK)
            return status;
        t1 = now();
        t->samples[n++] = t1 - t0;
    } while (n < t->max_calls && (n < t->min_calls || t1 - start < t->min_seconds));

    *us = 1e6 * median(t->samples, n);
    return SAMPLE_OK;
}

/* One call of an operation; the offset moves on each time so every draw differs. */
struct op_call {
    sample_ctx *ctx;
    const struct bench_op *op;
    sample_tensor input;
    sample_params params;
    int32_t *tokens;
    float *rows;
};

static int call_op(void *arg, uint64_t call)
{
    struct op_call *c = arg;
    switch (c->op->call) {
    case CALL_PROBS:
        c->params.offset = call;
        return sample_from_probs(c->ctx, &c->input, &c->params, c->tokens);
    case CALL_LOGITS:
        c->params.offset = call;
        return sample_from_logits(c->ctx, &c->input, &c->params, c->tokens);
    case CALL_RENORM: return sample_renorm_probs(c->ctx, &c->input, &c->params, c->rows, 0);
    case CALL_MASK: return sample_mask_logits(c->ctx, &c->input, &c->params, c->rows, 0);
    }
    return SAMPLE_ERR_ARGUMENT;
}

/* The floor's pass over the input. */
struct floor_call {
    const float *data;
    int64_t batch, vocab;
    float *maxima; /* one per row, so the pass cannot be optimised away */
};

/*
 * A row's maximum at memory speed: the floor BENCH.md asks for is one
 * vectorised pass.  Compilers will not turn a float max reduction into
 * packed max instructions without -ffast-math, so on x86-64 the pass is
 * written with intrinsics: AVX2 where the CPU has it (checked at run time),
 * SSE2 (always there) otherwise; elsewhere a plain loop.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2"))) static float row_max_avx2(const float *x, int64_t n)
{
    __m256 a0 = _mm256_set1_ps(-INFINITY), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_max_ps(a0, _mm256_loadu_ps(x + i));
        a1 = _mm256_max_ps(a1, _mm256_loadu_ps(x + i + 8));
        a2 = _mm256_max_ps(a2, _mm256_loadu_ps(x + i + 16));
        a3 = _mm256_max_ps(a3, _mm256_loadu_ps(x + i + 24));
    }
    float lanes[8], m = -INFINITY;
    _mm256_storeu_ps(lanes, _mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3)));
    for (int k = 0; k < 8; k++)
        m = lanes[k] > m ? lanes[k] : m;
    for (; i < n; i++)
        m = x[i] > m ? x[i] : m;
    return m;
}

static float row_max_sse2(const float *x, int64_t n)
{
    __m128 a0 = _mm_set1_ps(-INFINITY), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm_max_ps(a0, _mm_loadu_ps(x + i));
        a1 = _mm_max_ps(a1, _mm_loadu_ps(x + i + 4));
        a2 = _mm_max_ps(a2, _mm_loadu_ps(x + i + 8));
        a3 = _mm_max_ps(a3, _mm_loadu_ps(x + i + 12));
    }
    float lanes[4], m = -INFINITY;
    _mm_storeu_ps(lanes, _mm_max_ps(_mm_max_ps(a0, a1), _mm_max_ps(a2, a3)));
    for (int k = 0; k < 4; k++)
        m = lanes[k] > m ? lanes[k] : m;
    for (; i < n; i++)
        m = x[i] > m ? x[i] : m;
    return m;
}

static float row_max(const float *x, int64_t n)
{
    return __builtin_cpu_supports("avx2") ? row_max_avx2(x, n) : row_max_sse2(x, n);
}
#else
static float row_max(const float *x, int64_t n)
{
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        m = x[i] > m ? x[i] : m;
    return m;
}
#endif

static int call_floor(void *arg, uint64_t call)
{
    struct floor_call *f = arg;
    (void)call;
    for (int64_t r = 0; r < f->batch; r++)
        f->maxima[r] = row_max(f->data + r * f->vocab, f->vocab);
    return SAMPLE_OK;
}

/* ---- the run ------------------------------------------------------------- */

/* Inputs and outputs, sized for the largest V and B of the run. */
struct buffers {
    float *logits, *probs, *rows, *maxima;
    int32_t *tokens;
    double *scratch;
};

/* Where the run is, and what every result line repeats. */
struct bench {
    struct bench_config cfg;
    struct buffers buf;
    struct timing timing;
    char device[128];
    const char *backend;
    int32_t threads;
    int done, total, progress, results;
    double started;
    int gpu;            /* timing the hip backend on device memory */
    double bandwidth;   /* bytes per second of a device-to-device copy */
};

/* One configuration's numbers. */
struct result {
    const char *op, *dist;
    int64_t vocab, batch;
    double us, floor_us;
};

static int64_t list_max(const struct list *l)
{
    int64_t m = 0;
    for (int i = 0; i < l->n; i++)
        m = l->v[i] > m ? l->v[i] : m;
    return m;
}

static int alloc_buffers(struct bench *b)
{
    struct buffers *buf = &b->buf;
    int64_t vmax = list_max(&b->cfg.vocabs), bmax = list_max(&b->cfg.batches);
    size_t count = (size_t)vmax * (size_t)bmax; /* <= 2^23 * 2^20: no overflow in 64 bits */
    int rows = 0;
    for (int i = 0; i < b->cfg.ops.n; i++)
        rows |= writes_rows(&ops[b->cfg.ops.v[i]]);
    buf->logits = malloc(count * sizeof(float));
    buf->probs = malloc(count * sizeof(float));
    buf->rows = rows ? malloc(count * sizeof(float)) : NULL;
    buf->maxima = malloc((size_t)bmax * sizeof(float));
    buf->tokens = malloc((size_t)bmax * sizeof(int32_t));
    buf->scratch = malloc((size_t)vmax * sizeof(double));
    b->timing.samples = malloc((size_t)b->timing.max_calls * sizeof(double));
    if (!buf->logits || !buf->probs || (rows && !buf->rows) || !buf->maxima || !buf->tokens ||
        !buf->scratch || !b->timing.samples) {
        tool_error("bench: out of memory for inputs of %" PRId64 " rows of %" PRId64, bmax,
                   vmax);
        return TOOL_EXIT_USAGE;
    }
    return TOOL_EXIT_OK;
}

static void free_buffers(struct bench *b)
{
    free(b->buf.logits);
    free(b->buf.probs);
    free(b->buf.rows);
    free(b->buf.maxima);
    free(b->buf.tokens);
    free(b->buf.scratch);
    free(b->timing.samples);
}

/* The 'model name' of /proc/cpuinfo, where there is one. */
static void cpu_model(char *out, size_t size)
{
    static const char key[] = "model name";
    char *line = NULL;
    size_t cap = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    snprintf(out, size, "unknown CPU");
    while (f && getline(&line, &cap, f) > 0) {
        char *colon = strchr(line, ':');
        if (strncmp(line, key, sizeof key - 1) != 0 || !colon)
            continue;
        colon += strspn(colon + 1, " \t") + 1;
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(out, size, "%s", colon);
        break;
    }
    free(line);
    if (f)
        fclose(f);
}

/* The threads a CPU backend runs: what it was given, else its default (sample(1)). */
static int32_t threads_used(const char *backend, int32_t threads)
{
    if (strcmp(backend, "scalar") == 0)
        return 1;
    if (threads > 0)
        return threads;
    const char *env = getenv("OMP_NUM_THREADS");
    long n = env ? strtol(env, NULL, 10) : 0;
    if (n > 0 && n <= INT32_MAX)
        return (int32_t)n;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n <= INT32_MAX ? (int32_t)n : 1;
}

static void csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"'); /* CSV doubles a quote */
        putchar(*s);
    }
    putchar('"');
}

static void print_header(struct bench *b)
{
    if (b->cfg.format == FORMAT_CSV && b->results == 0)
        puts("backend,device,threads,version,op,dist,V,B,us_per_call,us_per_row,floor_us,ratio");
    if (b->cfg.format == FORMAT_JSON && b->results == 0)
        putchar('[');
    if (b->cfg.format != FORMAT_TABLE)
        return;
    printf("%s# backend: %s\n# device: %s\n# threads: %" PRId32 "\n# library: %s\n",
           b->results ? "\n" : "", b->backend, b->device, b->threads, sample_version_string());
    if (b->gpu)
        printf("# timing: device memory, device events around each call on a stream; median "
               "of >= 100 calls after 10; inputs rotated over >= 150 MB\n"
               "# floor: one read of the input at %.0f GB/s (a device-to-device copy, read + "
               "written)\n", b->bandwidth * 1e-9);
    else
        printf("# timing: host memory, CLOCK_MONOTONIC; median of >= %" PRId64 " calls and "
               ">= %g s after a warm-up\n"
               "# floor: one thread reading each row once for its maximum\n",
               b->timing.min_calls, b->timing.min_seconds);
    printf("%-8s %-26s %-9s %7s %5s %12s %12s %12s %8s\n", "backend", "op", "dist", "V", "B",
           "us_per_call", "us_per_row", "floor_us", "ratio");
}

static void print_json_result(const struct bench *b, const struct result *r)
{
    printf("%s\n{\"backend\": ", b->results ? "," : "");
    tool_json_string(stdout, b->backend);
    fputs(", \"device\": ", stdout);
    tool_json_string(stdout, b->device);
    printf(", \"threads\": %" PRId32 ", \"version\": ", b->threads);
    tool_json_string(stdout, sample_version_string());
    printf(", \"op\": \"%s\", \"dist\": \"%s\", \"V\": %" PRId64 ", \"B\": %" PRId64
           ", \"us_per_call\": ", r->op, r->dist, r->vocab, r->batch);
    tool_json_float(stdout, r->us, "%.3f");
    fputs(", \"us_per_row\": ", stdout);
    tool_json_float(stdout, r->us / (double)r->batch, "%.3f");
    fputs(", \"floor_us\": ", stdout);
    tool_json_float(stdout, r->floor_us, "%.3f");
    fputs(", \"ratio\": ", stdout);
    tool_json_float(stdout, r->us / r->floor_us, "%.3f");
    putchar('}');
}

static void print_result(struct bench *b, const struct result *r)
{
    double per_row = r->us / (double)r->batch, ratio = r->us / r->floor_us;
    switch (b->cfg.format) {
    case FORMAT_TABLE:
        printf("%-8s %-26s %-9s %7" PRId64 " %5" PRId64 " %12.3f %12.3f %12.3f %8.2f\n",
               b->backend, r->op, r->dist, r->vocab, r->batch, r->us, per_row, r->floor_us,
               ratio);
        break;
    case FORMAT_CSV:
        csv_field(b->backend);
        putchar(',');
        csv_field(b->device);
        printf(",%" PRId32 ",%s,%s,%s,%" PRId64 ",%" PRId64 ",%.3f,%.3f,%.3f,%.3f\n",
               b->threads, sample_version_string(), r->op, r->dist, r->vocab, r->batch, r->us,
               per_row, r->floor_us, ratio);
        break;
    case FORMAT_JSON: print_json_result(b, r); break;
    }
    b->results++;
    fflush(stdout); /* a long run shows its results as they come */
}

static void show_progress(struct bench *b, const struct result *r)
{
    b->done++;
    /* Once the run has shown it is long, even if the estimate said otherwise. */
    if (!b->progress && now() - b->started > 3.0)
        b->progress = 1;
    if (b->progress)
        fprintf(stderr, "[%d/%d] %s %s V=%" PRId64 " B=%" PRId64 " %s\n", b->done, b->total,
                b->backend, r->op, r->vocab, r->batch, r->dist);
}

#ifdef SAMPLE_HAVE_HIP
/* Enough copies of the input that together they exceed L2 (BENCH.md: 150 MB). */
#define GPU_ROTATE_BYTES ((size_t)150 << 20)
#define GPU_CALLS_MIN 100

static int gpu_check(int rc, const char *what)
{
    if (rc)
        tool_error("bench: %s: %s", what, gpu_error(rc));
    return rc;
}

/* The copy bandwidth that the floor divides by: a 1 GiB device-to-device copy. */
static int gpu_measure_bandwidth(struct bench *b)
{
    const size_t size = (size_t)1 << 30;
    void *src = NULL, *dst = NULL, *start = NULL, *end = NULL;
    float ms, best = 0;
    int rc = gpu_check(gpu_malloc(&src, size), "gpu_malloc") ||
             gpu_check(gpu_malloc(&dst, size), "gpu_malloc") ||
             gpu_check(gpu_event_create(&start), "event") ||
             gpu_check(gpu_event_create(&end), "event");
    for (int i = 0; i < 5 && !rc; i++) {
        rc = gpu_check(gpu_event_record(start, NULL), "event") ||
             gpu_check(gpu_copy_on_device(dst, src, size, NULL), "copy") ||
             gpu_check(gpu_event_record(end, NULL), "event") ||
             gpu_check(gpu_stream_sync(NULL), "sync") ||
             gpu_check(gpu_event_elapsed(&ms, start, end), "event");
        if (!rc && i > 0 && (best == 0 || ms < best))
            best = ms;
    }
    gpu_free(src);
    gpu_free(dst);
    if (start)
        gpu_event_destroy(start);
    if (end)
        gpu_event_destroy(end);
    b->bandwidth = 2.0 * (double)size / (best * 1e-3);
    return rc ? TOOL_EXIT_USAGE : TOOL_EXIT_OK;
}

/* Device-resident inputs, rotated, each call between two events. */
static int gpu_time_op(struct bench *b, struct op_call *c, struct result *r)
{
    const size_t in_bytes = (size_t)r->batch * (size_t)r->vocab * sizeof(float);
    const size_t out_bytes = writes_rows(c->op) ? in_bytes : (size_t)r->batch * sizeof(int32_t);
    const int copies = (int)(in_bytes >= GPU_ROTATE_BYTES ? 1 : GPU_ROTATE_BYTES / in_bytes + 1);
    const int64_t calls = b->cfg.iters > GPU_CALLS_MIN ? b->cfg.iters : GPU_CALLS_MIN;
    void *input = NULL, *output = NULL, *stream = NULL;
    void **events = calloc((size_t)calls * 2, sizeof *events);
    float *ms = malloc((size_t)calls * sizeof *ms);
    int status = TOOL_EXIT_USAGE, rc = !events || !ms;

    rc = rc || gpu_check(gpu_malloc(&input, in_bytes * (size_t)copies), "gpu_malloc") ||
         gpu_check(gpu_malloc(&output, out_bytes), "gpu_malloc") ||
         gpu_check(gpu_stream_create(&stream), "stream");
    for (int i = 0; i < copies && !rc; i++)
        rc = gpu_check(gpu_copy_to_device((char *)input + (size_t)i * in_bytes, c->input.data,
                                          in_bytes, stream), "copy");
    for (int64_t i = 0; i < 2 * calls && !rc; i++)
        rc = gpu_check(gpu_event_create(&events[i]), "event");
    rc = rc || gpu_check(gpu_stream_sync(stream), "sync");
    if (rc)
        goto done;

    c->input.memory = SAMPLE_DEVICE;
    c->params.stream = stream;
    c->tokens = output;
    c->rows = output;
    /* Warm-up, then each timed call between its own pair of events.  The host's
     * own time per call goes to stderr with SAMPLE_BENCH_HOST set. */
    double host = 0;
    for (int64_t i = -10; i < calls; i++) {
        c->input.data = (char *)input + (size_t)((i + 10) % copies) * in_bytes;
        if (i >= 0 && gpu_check(gpu_event_record(events[2 * i], stream), "event"))
            goto done;
        double t0 = now();
        int called = call_op(c, (uint64_t)(i + 10));
        host += i >= 0 ? now() - t0 : 0;
        if (called != SAMPLE_OK) {
            tool_error("bench: %s on hip: %s", c->op->name, sample_last_error(c->ctx));
            goto done;
        }
        if (i >= 0 && gpu_check(gpu_event_record(events[2 * i + 1], stream), "event"))
            goto done;
    }
    if (gpu_check(gpu_stream_sync(stream), "running the calls"))
        goto done;
    for (int64_t i = 0; i < calls; i++)
        if (gpu_check(gpu_event_elapsed(&ms[i], events[2 * i], events[2 * i + 1]), "event"))
            goto done;
    for (int64_t i = 0; i < calls; i++)
        b->timing.samples[i] = 1e3 * ms[i];
    r->us = median(b->timing.samples, calls);
    r->floor_us = 1e6 * (double)in_bytes / b->bandwidth;
    if (getenv("SAMPLE_BENCH_HOST"))
        fprintf(stderr, "host: %s V=%" PRId64 " B=%" PRId64 " %s: %.2f us per call on the host\n",
                c->op->name, r->vocab, r->batch, r->dist, 1e6 * host / (double)calls);
    status = TOOL_EXIT_OK;
done:
    for (int64_t i = 0; events && i < 2 * calls; i++)
        if (events[i])
            gpu_event_destroy(events[i]);
    if (stream)
        gpu_stream_destroy(stream);
    gpu_free(input);
    gpu_free(output);
    free(events);
    free(ms);
    return status;
}
#endif

/* Times one operation on the first B rows of the current inputs. */
static int time_op(struct bench *b, sample_ctx *ctx, const struct bench_op *op,
                   struct result *r)
{
    struct op_call c = {ctx, op, {0}, {0}, b->buf.tokens, b->buf.rows};
    sample_tensor_init(&c.input, SAMPLE_F32, reads_logits(op) ? b->buf.logits : b->buf.probs,
                       r->batch, r->vocab);
    sample_params_init(&c.params);
    c.params.top_k = op->top_k;
    c.params.top_p = op->top_p;
    c.params.min_p = op->min_p;
    if (op->call == CALL_LOGITS || op->call == CALL_MASK)
        c.params.temperature = op->temperature;
    if (op->call == CALL_PROBS || op->call == CALL_LOGITS)
        c.params.seed = 42;
#ifdef SAMPLE_HAVE_HIP
    if (b->gpu)
        return gpu_time_op(b, &c, r);
#endif
    if (median_us(&b->timing, call_op, &c, &r->us) != SAMPLE_OK) {
        tool_error("bench: %s V=%" PRId64 " B=%" PRId64 " %s on %s: %s", op->name, r->vocab,
                   r->batch, r->dist, b->backend, sample_last_error(ctx));
        return TOOL_EXIT_USAGE;
    }
    return TOOL_EXIT_OK;
}

/* The floor of each input, timed once per shape when an operation first needs it. */
static double floor_of(struct bench *b, const float *input, int64_t batch, int64_t vocab,
                       double *cached)
{
    if (*cached < 0) {
        struct floor_call f = {input, batch, vocab, b->buf.maxima};
        median_us(&b->timing, call_floor, &f, cached); /* the pass cannot fail */
    }
    return *cached;
}

static int run_batch(struct bench *b, sample_ctx *ctx, int dist, int64_t vocab, int64_t batch)
{
    double floors[2] = {-1.0, -1.0}; /* probs, logits */
    for (int i = 0; i < b->cfg.ops.n; i++) {
        const struct bench_op *op = &ops[b->cfg.ops.v[i]];
        struct result r = {op->name, dists[dist].name, vocab, batch, 0.0, 0.0};
        int logits = reads_logits(op);
        show_progress(b, &r);
        if (time_op(b, ctx, op, &r) != TOOL_EXIT_OK)
            return TOOL_EXIT_USAGE;
        if (!b->gpu)
            r.floor_us = floor_of(b, logits ? b->buf.logits : b->buf.probs, batch, vocab,
                                  &floors[logits]);
        print_result(b, &r);
    }
    return TOOL_EXIT_OK;
}

static int run_backend(struct bench *b, const char *name)
{
    sample_ctx *ctx = NULL;
    int status = tool_create(&ctx, name, b->cfg.threads);
    if (status != TOOL_EXIT_OK)
        return status;
    b->backend = sample_backend(ctx);
    b->threads = threads_used(b->backend, b->cfg.threads);
    b->gpu = strcmp(b->backend, "hip") == 0;
#ifdef SAMPLE_HAVE_HIP
    /* The bench's own memory and events go on the context's device: SAMPLE_DEVICE
     * or 0, as sample_create chose it. */
    if (b->gpu) {
        char arch[32];
        int processors;
        const char *why, *env = getenv("SAMPLE_DEVICE");
        int device = env && *env ? atoi(env) : 0;
        b->threads = 0;
        if (gpu_load(&why) || gpu_check(gpu_enter(device), "gpu_enter") ||
            gpu_check(gpu_device_info(device, b->device, sizeof b->device, arch, sizeof arch,
                                      &processors), "device") ||
            gpu_measure_bandwidth(b) != TOOL_EXIT_OK) {
            sample_destroy(ctx);
            return TOOL_EXIT_USAGE;
        }
    }
#endif
    print_header(b);
    int64_t bmax = list_max(&b->cfg.batches);
    for (int v = 0; v < b->cfg.vocabs.n && status == TOOL_EXIT_OK; v++) {
        int64_t vocab = b->cfg.vocabs.v[v];
        for (int d = 0; d < b->cfg.dists.n && status == TOOL_EXIT_OK; d++) {
            int dist = (int)b->cfg.dists.v[d];
            generate(b->buf.logits, b->buf.probs, bmax, vocab, dist, b->buf.scratch);
            for (int i = 0; i < b->cfg.batches.n && status == TOOL_EXIT_OK; i++)
                status = run_batch(b, ctx, dist, vocab, b->cfg.batches.v[i]);
        }
    }
#ifdef SAMPLE_HAVE_HIP
    if (b->gpu)
        gpu_leave();
#endif
    sample_destroy(ctx);
    return status;
}

/* --backend all: every backend usable here, in the library's order. */
static int run_all(struct bench *b)
{
    sample_backend_desc d;
    int status = TOOL_EXIT_OK;
    for (int32_t i = 0; status == TOOL_EXIT_OK; i++) {
        memset(&d, 0, sizeof d);
        d.size = sizeof d;
        int s = sample_backend_info(i, &d);
        if (s == SAMPLE_ERR_RANGE)
            break;
        if (s != SAMPLE_OK) {
            tool_error("bench: sample_backend_info(%d): %s", (int)i, sample_strerror(s));
            return TOOL_EXIT_USAGE;
        }
        if (d.usable)
            status = run_backend(b, d.name);
    }
    return status;
}

static int count_backends(const struct bench_config *cfg)
{
    int n = 0;
    sample_backend_desc d;
    if (!cfg->backend || strcmp(cfg->backend, "all") != 0)
        return 1;
    for (int32_t i = 0;; i++) {
        memset(&d, 0, sizeof d);
        d.size = sizeof d;
        if (sample_backend_info(i, &d) != SAMPLE_OK)
            return n;
        n += d.usable;
    }
}

int tool_bench(int argc, char **argv)
{
    struct bench b;
    int help_asked = 0;
    memset(&b, 0, sizeof b);
    int status = parse_args(argc, argv, &b.cfg, &help_asked);
    if (status != TOOL_EXIT_OK)
        return status;
    if (help_asked) {
        help(stdout);
        return tool_finish_output();
    }
    b.timing.min_calls = b.cfg.iters;
    b.timing.max_calls = b.cfg.iters > 100000 ? b.cfg.iters : 100000;
    b.timing.min_seconds = b.cfg.min_seconds;
    b.total = count_backends(&b.cfg) * b.cfg.ops.n * b.cfg.dists.n * b.cfg.vocabs.n *
              b.cfg.batches.n;
    /* Each configuration takes at least its minimum time, its floor as much again. */
    b.progress = b.total * 2 * b.cfg.min_seconds > 3.0;
    b.started = now();
    cpu_model(b.device, sizeof b.device);

    status = alloc_buffers(&b);
    if (status == TOOL_EXIT_OK)
        status = b.cfg.backend && strcmp(b.cfg.backend, "all") == 0
                     ? run_all(&b)
                     : run_backend(&b, b.cfg.backend);
    free_buffers(&b);
    if (b.cfg.format == FORMAT_JSON && b.results > 0)
        puts("\n]");
    int written = tool_finish_output();
    return status != TOOL_EXIT_OK ? status : written;
}
