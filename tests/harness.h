/*
 * harness.h - what every test program shares: the list of backends usable
 * on this machine, and contexts created on exactly the backend named.
 */
#ifndef SAMPLE_TEST_HARNESS_H
#define SAMPLE_TEST_HARNESS_H

#include <check.h>
#include <stdint.h>

#include "sample.h"

#define HARNESS_MAX_BACKENDS 8

/* Fills names with the usable backends (scalar first); returns how many.
 * SAMPLE_TEST_BACKEND=name keeps that one only, and exits 77 (skip) when it
 * is not usable here.  With hip in the list, tests run without fork(). */
int harness_usable_backends(const char *names[HARNESS_MAX_BACKENDS]);

/* A context on exactly this backend; aborts the test when that fails, and
 * checks that the context really runs the backend it was asked for. */
sample_ctx *harness_context(const char *backend);

/* Runs a suite; the process exit status: 0 if every test passed. */
int harness_run(Suite *suite);

/* splitmix64: the tests' own randomness, independent of the library's. */
uint64_t harness_next(uint64_t *state);
/* Uniform in [0, 1), 53 random bits. */
double harness_uniform(uint64_t *state);

/* FNV-1a 64 over n float32 bit patterns, each as 4 little-endian bytes. */
uint64_t harness_fnv1a(const float *values, int64_t n);

#endif
