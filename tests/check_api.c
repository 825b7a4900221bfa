/*
 * check_api.c - every error path of the public API, backend selection, the
 * environment variables, and the small helpers.  Check forks each test, so
 * setenv() in one test does not leak into another.
 */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static int backend_built(const char *name, int *usable)
{
    sample_backend_desc d;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    for (int32_t i = 0; sample_backend_info(i, &d) == SAMPLE_OK; i++)
        if (strcmp(d.name, name) == 0) {
            *usable = d.usable;
            return d.built;
        }
    return -1;
}

static int create_named(const char *name, sample_ctx **ctx)
{
    sample_options o;
    sample_options_init(&o);
    o.backend = name;
    return sample_create(ctx, &o);
}

START_TEST(version)
{
    ck_assert_int_eq(sample_version(), SAMPLE_VERSION_NUMBER);
    ck_assert_str_eq(sample_version_string(), SAMPLE_VERSION_STRING);
}
END_TEST

START_TEST(strerror_distinct)
{
    for (int a = SAMPLE_OK; a <= SAMPLE_ERR_RANGE; a++) {
        ck_assert_ptr_nonnull(sample_strerror(a));
        ck_assert_str_ne(sample_strerror(a), "unknown status code");
        for (int b = SAMPLE_OK; b < a; b++)
            ck_assert_str_ne(sample_strerror(a), sample_strerror(b));
    }
    ck_assert_str_eq(sample_strerror(-1), "unknown status code");
    ck_assert_str_eq(sample_strerror(SAMPLE_ERR_RANGE + 1), "unknown status code");
}
END_TEST

START_TEST(backend_info_list)
{
    sample_backend_desc d;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    ck_assert_int_eq(sample_backend_info(0, &d), SAMPLE_OK);
    ck_assert_str_eq(d.name, "scalar");
    ck_assert_int_eq(d.built, 1);
    ck_assert_int_eq(d.usable, 1);
    ck_assert_str_eq(d.reason, "");
    ck_assert_int_eq(sample_backend_info(1, &d), SAMPLE_OK);
    ck_assert_str_eq(d.name, "openmp");
    ck_assert_int_eq(sample_backend_info(2, &d), SAMPLE_OK);
    ck_assert_str_eq(d.name, "hip");
    if (!d.usable)
        ck_assert_str_ne(d.reason, "");
    ck_assert_int_eq(sample_backend_info(3, &d), SAMPLE_ERR_RANGE);
    ck_assert_int_eq(sample_backend_info(-1, &d), SAMPLE_ERR_RANGE);
    ck_assert_int_eq(sample_backend_info(0, NULL), SAMPLE_ERR_NULL);
    d.size = 3;
    ck_assert_int_eq(sample_backend_info(0, &d), SAMPLE_ERR_STRUCT_SIZE);
}
END_TEST

START_TEST(create_bad_arguments)
{
    sample_options o;
    sample_ctx *ctx = (sample_ctx *)&o; /* must be reset to NULL on failure */
    ck_assert_int_eq(sample_create(NULL, NULL), SAMPLE_ERR_NULL);
    ck_assert_str_ne(sample_create_error(), "");

    sample_options_init(&o);
    o.size = 1;
    ck_assert_int_eq(sample_create(&ctx, &o), SAMPLE_ERR_STRUCT_SIZE);
    ck_assert_ptr_null(ctx);
    sample_options_init(&o);
    o.flags = 4;
    ck_assert_int_eq(sample_create(&ctx, &o), SAMPLE_ERR_FLAGS);
    sample_options_init(&o);
    o.threads = -1;
    ck_assert_int_eq(sample_create(&ctx, &o), SAMPLE_ERR_ARGUMENT);
    sample_options_init(&o);
    o.threads = SAMPLE_MAX_THREADS + 1;
    ck_assert_int_eq(sample_create(&ctx, &o), SAMPLE_ERR_ARGUMENT);
    sample_options_init(&o);
    o.device = -2;
    ck_assert_int_eq(sample_create(&ctx, &o), SAMPLE_ERR_ARGUMENT);
    ck_assert_ptr_null(ctx);
}
END_TEST

START_TEST(create_named_backends)
{
    sample_ctx *ctx = NULL;
    ck_assert_int_eq(create_named("no-such-backend", &ctx), SAMPLE_ERR_BACKEND_UNKNOWN);
    ck_assert_ptr_null(ctx);
    ck_assert_ptr_nonnull(strstr(sample_create_error(), "no-such-backend"));

    ck_assert_int_eq(create_named("SCALAR", &ctx), SAMPLE_OK);
    ck_assert_str_eq(sample_backend(ctx), "scalar");
    sample_destroy(ctx);

    /* Each known backend either opens as itself or fails with its own code. */
    const char *names[] = {"openmp", "hip"};
    for (int i = 0; i < 2; i++) {
        int usable = 0, built = backend_built(names[i], &usable);
        int status = create_named(names[i], &ctx);
        if (!built) {
            ck_assert_int_eq(status, SAMPLE_ERR_BACKEND_MISSING);
            ck_assert_ptr_nonnull(strstr(sample_create_error(), "not built"));
        } else if (!usable) {
            ck_assert_int_eq(status, SAMPLE_ERR_BACKEND_UNUSABLE);
        } else {
            ck_assert_int_eq(status, SAMPLE_OK);
            ck_assert_str_eq(sample_backend(ctx), names[i]);
            sample_destroy(ctx);
        }
    }
}
END_TEST

START_TEST(environment_selection)
{
    sample_ctx *ctx = NULL;
    setenv("SAMPLE_BACKEND", "bogus", 1);
    ck_assert_int_eq(sample_create(&ctx, NULL), SAMPLE_ERR_BACKEND_UNKNOWN);
    ck_assert_ptr_nonnull(strstr(sample_create_error(), "SAMPLE_BACKEND"));
    /* the option beats the environment */
    ck_assert_int_eq(create_named("scalar", &ctx), SAMPLE_OK);
    sample_destroy(ctx);
    setenv("SAMPLE_BACKEND", "Scalar", 1);
    ck_assert_int_eq(sample_create(&ctx, NULL), SAMPLE_OK);
    ck_assert_str_eq(sample_backend(ctx), "scalar");
    sample_destroy(ctx);
    setenv("SAMPLE_BACKEND", "auto", 1);
    ck_assert_int_eq(sample_create(&ctx, NULL), SAMPLE_OK);
    sample_destroy(ctx);
    unsetenv("SAMPLE_BACKEND");
    ck_assert_int_eq(create_named("", &ctx), SAMPLE_OK); /* "" is auto */
    sample_destroy(ctx);
}
END_TEST

START_TEST(auto_prefers_fastest_usable)
{
    sample_ctx *ctx = NULL;
    int omp_usable = 0, hip_usable = 0;
    int omp = backend_built("openmp", &omp_usable), hip = backend_built("hip", &hip_usable);
    unsetenv("SAMPLE_BACKEND");
    ck_assert_int_eq(sample_create(&ctx, NULL), SAMPLE_OK);
    const char *want = hip && hip_usable ? "hip" : omp && omp_usable ? "openmp" : "scalar";
    ck_assert_str_eq(sample_backend(ctx), want);
    sample_destroy(ctx);
}
END_TEST

START_TEST(log_switch)
{
    char path[] = "/tmp/sample-log-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_ptr_nonnull(freopen(path, "w", stderr));
    setenv("SAMPLE_LOG", "debug", 1);
    sample_ctx *ctx = NULL;
    ck_assert_int_eq(create_named("scalar", &ctx), SAMPLE_OK);
    sample_destroy(ctx);
    fflush(stderr);
    FILE *f = fopen(path, "r");
    char buf[4096] = "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    unlink(path);
    ck_assert_ptr_nonnull(strstr(buf, "libsample: backend scalar chosen by the options"));
}
END_TEST

START_TEST(null_context)
{
    float x[2] = {1, 2}, out[2];
    int32_t tok;
    sample_tensor t;
    sample_params p;
    sample_tensor_init(&t, SAMPLE_F32, x, 1, 2);
    sample_params_init(&p);
    ck_assert_int_eq(sample_from_probs(NULL, &t, &p, &tok), SAMPLE_ERR_NULL);
    ck_assert_int_eq(sample_from_logits(NULL, &t, &p, &tok), SAMPLE_ERR_NULL);
    ck_assert_int_eq(sample_argmax(NULL, &t, SAMPLE_PROBS, &tok), SAMPLE_ERR_NULL);
    ck_assert_int_eq(sample_renorm_probs(NULL, &t, &p, out, 0), SAMPLE_ERR_NULL);
    ck_assert_int_eq(sample_mask_logits(NULL, &t, &p, out, 0), SAMPLE_ERR_NULL);
    ck_assert_int_eq(sample_softmax(NULL, &t, &p, out, 0), SAMPLE_ERR_NULL);
    ck_assert_ptr_null(sample_backend(NULL));
    ck_assert_str_ne(sample_last_error(NULL), "");
    sample_destroy(NULL);
}
END_TEST

START_TEST(device_memory_on_cpu)
{
    const char *names[HARNESS_MAX_BACKENDS];
    int n = harness_usable_backends(names);
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "hip") == 0)
            continue;
        sample_ctx *ctx = harness_context(names[i]);
        float x[2] = {1, 2};
        int32_t tok = -7;
        sample_tensor t;
        sample_params p;
        sample_tensor_init(&t, SAMPLE_F32, x, 1, 2);
        sample_params_init(&p);
        t.memory = SAMPLE_DEVICE;
        ck_assert_int_eq(sample_from_probs(ctx, &t, &p, &tok), SAMPLE_ERR_UNSUPPORTED);
        ck_assert_int_eq(tok, -7);
        ck_assert_ptr_nonnull(strstr(sample_last_error(ctx), "device memory"));
        sample_destroy(ctx);
    }
}
END_TEST

START_TEST(initialisers)
{
    sample_params p;
    sample_tensor t;
    sample_options o;
    float x = 1;
    sample_params_init(&p);
    ck_assert_uint_eq(p.size, sizeof p);
    ck_assert(p.temperature == 1.0f && p.top_p == 1.0f && p.min_p == 0.0f && p.top_k == 0);
    ck_assert(p.seed == 0 && p.offset == 0 && !p.seeds && !p.offsets && !p.top_ks && !p.stream);
    sample_tensor_init(&t, SAMPLE_BF16, &x, 3, 4);
    ck_assert(t.size == sizeof t && t.dtype == SAMPLE_BF16 && t.memory == SAMPLE_HOST);
    ck_assert(t.data == &x && t.batch == 3 && t.vocab == 4 && t.stride == 0);
    sample_options_init(&o);
    ck_assert(o.size == sizeof o && !o.backend && o.device == -1 && o.threads == 0);
    sample_params_init(NULL);
    sample_tensor_init(NULL, SAMPLE_F32, NULL, 0, 0);
    sample_options_init(NULL);
}
END_TEST

START_TEST(row_message)
{
    sample_ctx *ctx = harness_context("scalar");
    float x[6] = {0.5f, 0.25f, 0.25f, 0.5f, 1.0f, NAN};
    int32_t tok[2];
    sample_tensor t;
    sample_params p;
    sample_tensor_init(&t, SAMPLE_F32, x, 2, 3);
    sample_params_init(&p);
    ck_assert_int_eq(sample_from_probs(ctx, &t, &p, tok), SAMPLE_ERR_INVALID_ROWS);
    ck_assert_int_eq(tok[1], -1);
    ck_assert_int_ge(tok[0], 0);
    ck_assert_str_eq(sample_last_error(ctx), "row 1: probability at index 2 is NaN (1 invalid row)");
    /* a success clears the message */
    t.batch = 1;
    ck_assert_int_eq(sample_from_probs(ctx, &t, &p, tok), SAMPLE_OK);
    ck_assert_str_eq(sample_last_error(ctx), "");
    sample_destroy(ctx);
}
END_TEST

/* The out-of-memory path: cap the address space so the workspace cannot grow. */
START_TEST(out_of_memory)
{
#ifdef UNDER_ASAN
    return; /* the sanitizer's shadow memory needs the address space */
#else
    const char *fork = getenv("CK_FORK");
    if (fork && strcmp(fork, "no") == 0)
        return; /* the limit would outlive this test */
    sample_ctx *ctx = harness_context("scalar");
    size_t v = SAMPLE_MAX_VOCAB;
    float *x = calloc(v, sizeof *x);
    ck_assert_ptr_nonnull(x);
    x[7] = 1.0f;
    struct rlimit lim;
    getrlimit(RLIMIT_AS, &lim);
    lim.rlim_cur = 96u << 20; /* below the ~192 MiB the scalar workspace needs here */
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &lim), 0);
    int32_t tok = -7;
    sample_tensor t;
    sample_params p;
    sample_tensor_init(&t, SAMPLE_F32, x, 1, (int64_t)v);
    sample_params_init(&p);
    p.top_k = 5;
    ck_assert_int_eq(sample_from_probs(ctx, &t, &p, &tok), SAMPLE_ERR_NO_MEMORY);
    ck_assert_int_eq(tok, -7);
    ck_assert_str_ne(sample_last_error(ctx), "");
    sample_destroy(ctx);
    free(x);
#endif
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_add_test(tc, version);
    tcase_add_test(tc, strerror_distinct);
    tcase_add_test(tc, backend_info_list);
    tcase_add_test(tc, create_bad_arguments);
    tcase_add_test(tc, create_named_backends);
    tcase_add_test(tc, environment_selection);
    tcase_add_test(tc, auto_prefers_fastest_usable);
    tcase_add_test(tc, log_switch);
    tcase_add_test(tc, null_context);
    tcase_add_test(tc, device_memory_on_cpu);
    tcase_add_test(tc, initialisers);
    tcase_add_test(tc, row_message);
    tcase_add_test(tc, out_of_memory);
    suite_add_tcase(s, tc);
    int status = harness_run(s);
    return status;
}
