/*
 * scalar.h - the pieces of the scalar reference backend.
 *
 * The scalar backend is SPEC.md written as plainly as possible: one row at a
 * time, integer weights in an array, the order of SPEC 3 by sorting rank keys.
 */
#ifndef SAMPLE_SCALAR_H
#define SAMPLE_SCALAR_H

#include <stdint.h>

#include "backend.h"

/* One input row. */
struct scalar_row {
    const void *data;
    int dtype;
    int64_t vocab;
};

/* The kept set K of SPEC 4: the tokens whose rank key is >= boundary. */
struct scalar_kept {
    uint64_t boundary;
    uint64_t mass;              /* M_K */
};

/* SPEC 2.1 / 2.2 validity; on success *max is the (finite) row maximum. */
enum sample_row_fault scalar_check_probs(const struct scalar_row *row, float *max,
                                         int64_t *bad_index);
enum sample_row_fault scalar_check_logits(const struct scalar_row *row, float *max,
                                          int64_t *bad_index);
/* The smallest index whose value equals max. */
int64_t scalar_first_max(const struct scalar_row *row, float max);

void scalar_prob_weights(const struct scalar_row *row, float max, uint64_t *w);
void scalar_logit_weights(const struct scalar_row *row, float max, float t, uint64_t *w);

/* SPEC 4: the kept set for filters (k, P, Q); keys and tmp hold V entries each. */
struct scalar_kept scalar_kept_set(const uint64_t *w, int64_t vocab, int32_t k, float p,
                                   float q, uint64_t *keys, uint64_t *tmp);

#endif /* SAMPLE_SCALAR_H */
