/*
 * alloc.c - the library's allocator, with failure injection in test builds.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "alloc.h"
#include "sample.h"

#ifdef SAMPLE_ALLOC_TORTURE
#include <stdatomic.h>

/* Allocations counted since the last sample_torture_fail_at(); 0 = never fail. */
static atomic_llong torture_count, torture_fail_at;

/* Test builds only: make allocation number n (from now, 1-based) fail; returns
 * how many allocations were made since the previous call. */
SAMPLE_API int64_t sample_torture_fail_at(int64_t n);
int64_t sample_torture_fail_at(int64_t n)
{
    int64_t made = atomic_exchange(&torture_count, 0);
    atomic_store(&torture_fail_at, n);
    return made;
}

static int torture_fails(void)
{
    long long n = atomic_fetch_add(&torture_count, 1) + 1;
    return n == atomic_load(&torture_fail_at);
}
#else
static int torture_fails(void)
{
    return 0;
}
#endif

void *sample_malloc(size_t size)
{
    return torture_fails() ? NULL : malloc(size);
}

void *sample_calloc(size_t count, size_t size)
{
    return torture_fails() ? NULL : calloc(count, size);
}

void *sample_realloc(void *ptr, size_t size)
{
    return torture_fails() ? NULL : realloc(ptr, size);
}

void sample_free(void *ptr)
{
    free(ptr);
}
