/*
 * weights.c - SPEC 2: row validity, the row maximum, and integer weights.
 */
#include "config.h"

#include "scalar.h"

enum sample_row_fault scalar_check_probs(const struct scalar_row *row, float *max,
                                         int64_t *bad_index)
{
    float m = 0.0f;
    for (int64_t i = 0; i < row->vocab; i++) {
        float p = sample_load(row->data, row->dtype, i);
        enum sample_row_fault fault = sample_prob_fault(p);
        if (fault != SAMPLE_ROW_OK) {
            *bad_index = i;
            return fault;
        }
        if (p > m)
            m = p;
    }
    *max = m;
    *bad_index = -1;
    return m > 0.0f ? SAMPLE_ROW_OK : SAMPLE_ROW_ALL_ZERO;
}

enum sample_row_fault scalar_check_logits(const struct scalar_row *row, float *max,
                                          int64_t *bad_index)
{
    float m = -INFINITY;
    for (int64_t i = 0; i < row->vocab; i++) {
        float l = sample_load(row->data, row->dtype, i);
        enum sample_row_fault fault = sample_logit_fault(l);
        if (fault != SAMPLE_ROW_OK) {
            *bad_index = i;
            return fault;
        }
        if (l > m)
            m = l;
    }
    *max = m;
    *bad_index = -1;
    return m > -INFINITY ? SAMPLE_ROW_OK : SAMPLE_ROW_NO_FINITE;
}

int64_t scalar_first_max(const struct scalar_row *row, float max)
{
    int64_t i = 0;
    while (sample_load(row->data, row->dtype, i) != max)
        i++;
    return i;
}

void scalar_prob_weights(const struct scalar_row *row, float max, uint64_t *w)
{
    int e = sample_frexp_exponent(max);
    for (int64_t i = 0; i < row->vocab; i++)
        w[i] = sample_prob_weight(sample_load(row->data, row->dtype, i), e);
}

void scalar_logit_weights(const struct scalar_row *row, float max, float t, uint64_t *w)
{
    for (int64_t i = 0; i < row->vocab; i++)
        w[i] = sample_logit_weight(sample_load(row->data, row->dtype, i), max, t);
}
