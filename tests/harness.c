/*
 * harness.c - shared by the test programs.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static int gpu_in_use;

int harness_usable_backends(const char *names[HARNESS_MAX_BACKENDS])
{
    int n = 0;
    const char *only = getenv("SAMPLE_TEST_BACKEND");
    sample_backend_desc d;
    memset(&d, 0, sizeof d);
    d.size = sizeof d;
    for (int32_t i = 0; sample_backend_info(i, &d) == SAMPLE_OK && n < HARNESS_MAX_BACKENDS; i++) {
        if (only && *only && strcmp(only, d.name) != 0)
            continue;
        if (only && *only && !d.usable) {
            printf("SKIP: backend %s is not usable here: %s\n", d.name, d.reason);
            exit(77);
        }
        if (d.usable) {
            names[n++] = d.name;
            gpu_in_use |= strcmp(d.name, "hip") == 0;
        }
    }
    if (only && *only && n == 0) {
        printf("SAMPLE_TEST_BACKEND=%s names no backend libsample knows\n", only);
        exit(99);
    }
    return n;
}

sample_ctx *harness_context(const char *backend)
{
    sample_options o;
    sample_ctx *ctx = NULL;
    sample_options_init(&o);
    o.backend = backend;
    int status = sample_create(&ctx, &o);
    ck_assert_msg(status == SAMPLE_OK, "sample_create(%s): %s", backend, sample_create_error());
    ck_assert_str_eq(sample_backend(ctx), backend);
    return ctx;
}

uint64_t harness_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

double harness_uniform(uint64_t *state)
{
    return (double)(harness_next(state) >> 11) * 0x1p-53;
}

uint64_t harness_fnv1a(const float *values, int64_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &values[i], sizeof u);
        for (int b = 0; b < 4; b++) {
            h ^= (u >> (8 * b)) & 0xffu;
            h *= 0x100000001b3u;
        }
    }
    return h;
}

int harness_run(Suite *suite)
{
    SRunner *sr = srunner_create(suite);
    /* A GPU runtime initialised while probing does not survive fork(). */
    if (gpu_in_use)
        srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
