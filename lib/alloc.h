/*
 * alloc.h - every allocation the library makes goes through here, so that a
 * test build (configure --enable-alloc-torture) can make the Nth one fail
 * and check that each failure is reported and nothing leaks.
 */
#ifndef SAMPLE_ALLOC_H
#define SAMPLE_ALLOC_H

#include <stddef.h>

void *sample_malloc(size_t size);
void *sample_calloc(size_t count, size_t size);
void *sample_realloc(void *ptr, size_t size);
void sample_free(void *ptr);

#endif
