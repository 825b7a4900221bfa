/*
 * check_alloc.c - allocation failure, curl "torture" style: for every N, the
 * Nth allocation a scenario makes fails.  Every failure must come back as
 * SAMPLE_ERR_NO_MEMORY with nothing written, the context must stay usable,
 * and (under AddressSanitizer/LeakSanitizer or valgrind) nothing may leak.
 * Needs a library configured with --enable-alloc-torture; skipped otherwise.
 */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#ifdef SAMPLE_ALLOC_TORTURE
/* Exported by torture builds only (lib/alloc.c). */
int64_t sample_torture_fail_at(int64_t n);

static const char *backends[HARNESS_MAX_BACKENDS];
static int nbackends;

/* Creating a context: it exists, or the call failed with NO_MEMORY and *ctx is NULL. */
static void create_scenario(const char *backend)
{
    sample_options o;
    sample_options_init(&o);
    o.backend = backend;
    sample_ctx *ctx = (sample_ctx *)&o;
    int status = sample_create(&ctx, &o);
    if (status == SAMPLE_OK) {
        ck_assert_str_eq(sample_backend(ctx), backend);
        sample_destroy(ctx);
    } else {
        ck_assert_int_eq(status, SAMPLE_ERR_NO_MEMORY);
        ck_assert_ptr_null(ctx);
    }
}

/* Calls that grow the workspace: each succeeds, or fails cleanly with nothing
 * written and then succeeds.  got[] receives the six tokens. */
static void call_scenario(sample_ctx *ctx, int32_t got[6])
{
    static const int64_t vocab[] = {100, 5000, 70000};
    float *x = malloc(sizeof(float) * 2 * 70000);
    ck_assert_ptr_nonnull(x);
    for (int i = 0; i < 2 * 70000; i++)
        x[i] = (float)((i * 2654435761u) % 1000u) / 1000.0f;
    for (int v = 0; v < 3; v++) {
        int32_t *tok = got + 2 * v;
        sample_tensor t;
        sample_params p;
        sample_tensor_init(&t, SAMPLE_F32, x, 2, vocab[v]);
        sample_params_init(&p);
        p.top_k = 40;
        p.top_p = 0.8f;
        p.seed = 3;
        tok[0] = tok[1] = -7;
        int status = sample_from_probs(ctx, &t, &p, tok);
        if (status == SAMPLE_ERR_NO_MEMORY) {
            ck_assert(tok[0] == -7 && tok[1] == -7);
            ck_assert_str_ne(sample_last_error(ctx), "");
            status = sample_from_probs(ctx, &t, &p, tok); /* the failure was one-off */
        }
        ck_assert_int_eq(status, SAMPLE_OK);
    }
    free(x);
}

START_TEST(every_allocation_in_create)
{
    const char *backend = backends[_i];
    int64_t n = 1;
    for (;; n++) {
        sample_torture_fail_at(n);
        create_scenario(backend);
        if (sample_torture_fail_at(0) < n)
            break; /* the scenario made fewer than n allocations: all covered */
    }
    printf("%s: create: %lld allocation points\n", backend, (long long)n - 1);
}
END_TEST

START_TEST(every_allocation_in_calls)
{
    const char *backend = backends[_i];
    int32_t want[6], got[6];
    sample_ctx *ref = harness_context(backend);
    sample_torture_fail_at(0);
    call_scenario(ref, want);
    sample_destroy(ref);
    int64_t n = 1;
    for (;; n++) {
        sample_ctx *ctx = harness_context(backend); /* a fresh, empty workspace */
        sample_torture_fail_at(n);
        call_scenario(ctx, got);
        int64_t made = sample_torture_fail_at(0);
        sample_destroy(ctx);
        ck_assert_mem_eq(got, want, sizeof want);
        if (made < n)
            break; /* the scenario made fewer than n allocations: all covered */
    }
    printf("%s: calls: %lld allocation points\n", backend, (long long)n - 1);
}
END_TEST

int main(void)
{
    nbackends = harness_usable_backends(backends);
    Suite *s = suite_create("alloc");
    TCase *tc = tcase_create("alloc");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, every_allocation_in_create, 0, nbackends);
    tcase_add_loop_test(tc, every_allocation_in_calls, 0, nbackends);
    suite_add_tcase(s, tc);
    return harness_run(s);
}
#else
int main(void)
{
    puts("allocation failure tests need ./configure --enable-alloc-torture: skipped");
    return 77;
}
#endif
