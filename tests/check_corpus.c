/*
 * check_corpus.c - the shared corpus (the .corpus files in tests/corpus, by the
 * Python oracle) on every backend usable here.  A backend joins the test by
 * being usable: the loop runs each file on each backend.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus_reader.h"
#include "harness.h"

#define MAX_FILES 64
#define SENTINEL_BITS 0x7fbadbadu
#define SENTINEL_TOKEN (-7)
#define DUMMY_BYTES 256

static char *files[MAX_FILES];
static int nfiles;
static const char *backends[HARNESS_MAX_BACKENDS];
static int nbackends;

static const char *const status_names[] = {
    "OK", "ERR_NULL", "ERR_SHAPE", "ERR_FLAGS", "ERR_STRUCT_SIZE", "ERR_ARGUMENT",
    "ERR_INVALID_ROWS", "ERR_NO_MEMORY", "ERR_BACKEND_UNKNOWN", "ERR_BACKEND_MISSING",
    "ERR_BACKEND_UNUSABLE", "ERR_UNSUPPORTED", "ERR_DEVICE", "ERR_RANGE"};

static const char *status_name(int s)
{
    return s >= 0 && s < (int)(sizeof status_names / sizeof *status_names) ? status_names[s]
                                                                           : "?";
}

static int is_argument_error(const char *status)
{
    return strcmp(status, "ERR_NULL") == 0 || strcmp(status, "ERR_STRUCT_SIZE") == 0 ||
           strcmp(status, "ERR_FLAGS") == 0 || strcmp(status, "ERR_SHAPE") == 0 ||
           strcmp(status, "ERR_ARGUMENT") == 0;
}

static int is_token_op(const char *op)
{
    return strcmp(op, "probs") == 0 || strcmp(op, "logits") == 0 ||
           strncmp(op, "argmax", 6) == 0;
}

static float bits_float(uint64_t b)
{
    uint32_t u = (uint32_t)b;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* A per-row parameter as the type the library takes, or NULL. */
static float *floats_of(const struct corpus_param *p, int64_t n)
{
    if (!p->rows)
        return NULL;
    float *f = calloc((size_t)n, sizeof *f);
    for (int64_t i = 0; i < n; i++)
        f[i] = bits_float(p->rows[i]);
    return f;
}

static int32_t *ints_of(const struct corpus_param *p, int64_t n)
{
    if (!p->rows)
        return NULL;
    int32_t *k = calloc((size_t)n, sizeof *k);
    for (int64_t i = 0; i < n; i++)
        k[i] = (int32_t)p->rows[i];
    return k;
}

/* The buffers of one case. */
struct run {
    sample_tensor tensor;
    sample_params params;
    void *data;
    int32_t *tokens;
    float *out;
    size_t out_count;           /* floats or tokens allocated */
    float *temperatures, *top_ps, *min_ps;
    int32_t *top_ks;
};

static void setup(struct run *run, const struct corpus_case *c)
{
    int argument_error = is_argument_error(c->status);
    int64_t stride = c->stride ? c->stride : c->vocab;
    int64_t out_stride = c->out_stride ? c->out_stride : c->vocab;
    memset(run, 0, sizeof *run);

    if (argument_error) {
        /* Never trust a rejected shape: the library must not touch these. */
        run->data = calloc(1, DUMMY_BYTES);
        run->out_count = DUMMY_BYTES / 4;
    } else {
        run->data = calloc((size_t)(c->batch * stride) + 1, corpus_elem_size(c));
        corpus_fill_input(c, run->data, stride);
        run->out_count = (size_t)(is_token_op(c->op) ? c->batch : c->batch * out_stride) + 1;
    }
    if (is_token_op(c->op)) {
        run->tokens = calloc(run->out_count, sizeof *run->tokens);
        for (size_t i = 0; i < run->out_count; i++)
            run->tokens[i] = SENTINEL_TOKEN;
    } else {
        run->out = calloc(run->out_count, sizeof *run->out);
        for (size_t i = 0; i < run->out_count; i++)
            run->out[i] = bits_float(SENTINEL_BITS);
    }

    sample_tensor_init(&run->tensor, (sample_dtype)c->dtype, run->data, c->batch, c->vocab);
    run->tensor.dtype = c->dtype;
    run->tensor.stride = c->stride;
    if (c->tensor_size >= 0) run->tensor.size = (uint32_t)c->tensor_size;
    if (c->memory >= 0) run->tensor.memory = (uint32_t)c->memory;
    if (c->reserved >= 0) run->tensor.reserved = (uint32_t)c->reserved;

    sample_params *p = &run->params;
    sample_params_init(p);
    if (c->params_size >= 0) p->size = (uint32_t)c->params_size;
    if (c->flags >= 0) p->flags = (uint32_t)c->flags;
    p->temperature = bits_float(c->temperature.value);
    p->top_p = bits_float(c->top_p.value);
    p->min_p = bits_float(c->min_p.value);
    p->top_k = (int32_t)c->top_k.value;
    p->seed = c->seed.value;
    p->offset = c->offset.value;
    p->temperatures = run->temperatures = floats_of(&c->temperature, c->batch);
    p->top_ps = run->top_ps = floats_of(&c->top_p, c->batch);
    p->min_ps = run->min_ps = floats_of(&c->min_p, c->batch);
    p->top_ks = run->top_ks = ints_of(&c->top_k, c->batch);
    p->seeds = c->seed.rows;
    p->offsets = c->offset.rows;
}

static void teardown(struct run *run)
{
    free(run->data);
    free(run->tokens);
    free(run->out);
    free(run->temperatures);
    free(run->top_ps);
    free(run->min_ps);
    free(run->top_ks);
}

static int call(sample_ctx *ctx, const struct corpus_case *c, struct run *run)
{
    const sample_tensor *t = c->null_tensor ? NULL : &run->tensor;
    const sample_params *p = c->null_params ? NULL : &run->params;
    int64_t out_stride = c->out_stride;
    if (c->null_data)
        run->tensor.data = NULL;
    int32_t *tokens = c->null_output ? NULL : run->tokens;
    float *out = c->null_output ? NULL : run->out;

    if (strcmp(c->op, "probs") == 0) return sample_from_probs(ctx, t, p, tokens);
    if (strcmp(c->op, "logits") == 0) return sample_from_logits(ctx, t, p, tokens);
    if (strcmp(c->op, "renorm") == 0) return sample_renorm_probs(ctx, t, p, out, out_stride);
    if (strcmp(c->op, "mask") == 0) return sample_mask_logits(ctx, t, p, out, out_stride);
    if (strcmp(c->op, "softmax") == 0) return sample_softmax(ctx, t, p, out, out_stride);
    sample_kind kind = strcmp(c->op, "argmax_probs") == 0 ? SAMPLE_PROBS : SAMPLE_LOGITS;
    if (c->kind >= 0)
        kind = (sample_kind)c->kind;
    return sample_argmax(ctx, t, kind, tokens);
}

/* Nothing written: every output slot still holds the sentinel. */
static int untouched(const struct run *run)
{
    for (size_t i = 0; i < run->out_count; i++) {
        if (run->tokens && run->tokens[i] != SENTINEL_TOKEN)
            return 0;
        if (run->out) {
            uint32_t b;
            memcpy(&b, &run->out[i], sizeof b);
            if (b != SENTINEL_BITS)
                return 0;
        }
    }
    return 1;
}

static int check_rows(const struct corpus_case *c, const struct run *run, char *why,
                      size_t len)
{
    int64_t out_stride = c->out_stride ? c->out_stride : c->vocab;
    for (int i = 0; i < c->nexp; i++) {
        const struct corpus_row_expect *e = &c->exp[i];
        const float *row = run->out + e->row * out_stride;
        for (int64_t j = 0; j < c->vocab; j++) {
            uint32_t got;
            memcpy(&got, &row[j], sizeof got);
            if (e->nan && !isnan(row[j])) {
                snprintf(why, len, "row %" PRId64 "[%" PRId64 "] = %08x, expected NaN", e->row,
                         j, got);
                return 0;
            }
            if (e->values && got != e->values[j]) {
                snprintf(why, len, "row %" PRId64 "[%" PRId64 "] = %08x, expected %08x",
                         e->row, j, got, e->values[j]);
                return 0;
            }
        }
        if (e->hashed && harness_fnv1a(row, c->vocab) != e->hash) {
            snprintf(why, len, "row %" PRId64 " hash %016" PRIx64 ", expected %016" PRIx64,
                     e->row, harness_fnv1a(row, c->vocab), e->hash);
            return 0;
        }
        for (int64_t j = c->vocab; j < out_stride; j++) {
            uint32_t got;
            memcpy(&got, &row[j], sizeof got);
            if (got != SENTINEL_BITS) {
                snprintf(why, len, "row %" PRId64 " padding [%" PRId64 "] written", e->row, j);
                return 0;
            }
        }
    }
    return 1;
}

static int check_tokens(const struct corpus_case *c, const struct run *run, char *why,
                        size_t len)
{
    for (int64_t r = 0; c->tokens && r < c->batch; r++)
        if (run->tokens[r] != c->tokens[r]) {
            snprintf(why, len, "row %" PRId64 ": token %d, expected %d", r, run->tokens[r],
                     c->tokens[r]);
            return 0;
        }
    return 1;
}

/* Runs one case; returns 1 if it passed, else 0 with the reason in why. */
static int run_case(sample_ctx *ctx, const struct corpus_case *c, char *why, size_t len)
{
    struct run run;
    setup(&run, c);
    int status = call(ctx, c, &run), ok = 1;
    if (strcmp(status_name(status), c->status) != 0) {
        snprintf(why, len, "status %s (%s), expected %s", status_name(status),
                 sample_last_error(ctx), c->status);
        ok = 0;
    } else if (is_argument_error(c->status)) {
        if (!untouched(&run)) {
            snprintf(why, len, "an output was written although the call failed");
            ok = 0;
        }
    } else if (c->first_invalid >= 0 &&
               strncmp(sample_last_error(ctx), "row ", 4) != 0) {
        snprintf(why, len, "message \"%s\" does not name a row", sample_last_error(ctx));
        ok = 0;
    } else if (c->first_invalid >= 0 &&
               strtoll(sample_last_error(ctx) + 4, NULL, 10) != c->first_invalid) {
        snprintf(why, len, "message \"%s\", expected row %" PRId64, sample_last_error(ctx),
                 c->first_invalid);
        ok = 0;
    } else {
        ok = is_token_op(c->op) ? check_tokens(c, &run, why, len) : check_rows(c, &run, why, len);
    }
    teardown(&run);
    return ok;
}

START_TEST(corpus_file)
{
    const char *file = files[_i / nbackends], *backend = backends[_i % nbackends];
    struct corpus_case *cases;
    int n = corpus_read(file, &cases), failed = 0;
    ck_assert_msg(n >= 0, "cannot read %s", file);
    sample_ctx *ctx = harness_context(backend);
    for (int i = 0; i < n; i++) {
        char why[512];
        if (!run_case(ctx, &cases[i], why, sizeof why) && failed++ < 20)
            fprintf(stderr, "%s: %s:%d case %s: %s\n", backend, file, cases[i].line,
                    cases[i].name, why);
    }
    printf("%s: %s: %d cases, %d failed\n", backend, file, n, failed);
    sample_destroy(ctx);
    corpus_free(cases, n);
    ck_assert_msg(failed == 0, "%s on %s: %d of %d cases failed", file, backend, failed, n);
}
END_TEST

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.corpus files that hold cases (the others are read by check_exact). */
static void find_files(void)
{
    char dir[1024];
    corpus_path(dir, sizeof dir, "");
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        exit(99);
    }
    for (struct dirent *e; (e = readdir(d)) && nfiles < MAX_FILES;) {
        size_t len = strlen(e->d_name);
        if (len < 8 || strcmp(e->d_name + len - 7, ".corpus") != 0)
            continue;
        if (!strcmp(e->d_name, "philox.corpus") || !strcmp(e->d_name, "sexp.corpus") ||
            !strcmp(e->d_name, "weights.corpus"))
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s%s", dir, e->d_name);
        files[nfiles++] = strdup(path);
    }
    closedir(d);
    qsort(files, (size_t)nfiles, sizeof *files, by_name);
}

int main(void)
{
    find_files();
    nbackends = harness_usable_backends(backends);
    if (nfiles == 0 || nbackends == 0) {
        fprintf(stderr, "no corpus files or no usable backend\n");
        return 99;
    }
    Suite *s = suite_create("corpus");
    TCase *tc = tcase_create("files");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, corpus_file, 0, nfiles * nbackends);
    suite_add_tcase(s, tc);
    int status = harness_run(s);
    for (int i = 0; i < nfiles; i++)
        free(files[i]);
    return status;
}
