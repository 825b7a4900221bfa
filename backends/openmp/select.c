/*
 * select.c - exact selection of a prefix of the order of SPEC 3 on a list of
 * tokens, and brackets of weights estimated from a sample of a row.
 *
 * Selection is a radix select on the bits of the float weights (monotone in
 * the weight, as the weights are >= 0): a histogram of count and mass per
 * bucket, the bucket where the measure from the top reaches the target, and
 * again inside that bucket until one weight is left; equal weights are then
 * taken in vocabulary order, which is the list's order.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "openmp.h"

#define RADIX_BITS 11

static inline uint32_t wbits(float w)
{
    return sample_f32_bits(w) & 0x7fffffffu; /* -0 is 0 */
}

static int bit_length(uint32_t v)
{
    int n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

struct omp_prefix omp_select(const struct omp_list *list, enum omp_measure by,
                             uint64_t target, struct omp_list *tmp, struct omp_scratch *scratch)
{
    uint64_t *count = scratch->radix_count, *mass = scratch->radix_mass;
    const struct omp_list *src = list;
    uint64_t above_count = 0, above_mass = 0;

    for (;;) {
        uint32_t lo = UINT32_MAX, hi = 0;
        for (int64_t j = 0; j < src->n; j++) {
            uint32_t b = wbits(src->w[j]);
            lo = b < lo ? b : lo;
            hi = b > hi ? b : hi;
        }
        if (lo == hi) {
            /* One weight left: take tokens in vocabulary order until the target. */
            uint64_t w = (uint64_t)src->w[0];
            uint64_t need = by == OMP_COUNT ? target - above_count : target - above_mass;
            uint64_t take = by == OMP_COUNT ? need : (need + w - 1) / w;
            take = take < (uint64_t)src->n ? take : (uint64_t)src->n; /* target is reachable */
            struct omp_prefix p;
            p.key = sample_rank_key(w, src->idx[take - 1]);
            p.count = above_count + take;
            p.mass = above_mass + take * w;
            return p;
        }
        int shift = bit_length(hi - lo) - RADIX_BITS;
        shift = shift > 0 ? shift : 0;
        int top = (int)((hi - lo) >> shift);
        memset(count, 0, sizeof(uint64_t) * (size_t)(top + 1));
        memset(mass, 0, sizeof(uint64_t) * (size_t)(top + 1));
        for (int64_t j = 0; j < src->n; j++) {
            uint32_t d = (wbits(src->w[j]) - lo) >> shift;
            count[d]++;
            mass[d] += (uint64_t)src->w[j];
        }
        int d = top;
        for (;; d--) {
            uint64_t reached = by == OMP_COUNT ? above_count + count[d] : above_mass + mass[d];
            if (reached >= target || d == 0)
                break;
            above_count += count[d];
            above_mass += mass[d];
        }
        /* Keep the bucket that reaches the target (in place once in tmp). */
        int64_t n = 0;
        for (int64_t j = 0; j < src->n; j++) {
            if (((wbits(src->w[j]) - lo) >> shift) == (uint32_t)d) {
                tmp->idx[n] = src->idx[j];
                tmp->w[n] = src->w[j];
                n++;
            }
        }
        tmp->n = n;
        src = tmp;
    }
}

/* ---- brackets ------------------------------------------------------------ */

/* Sample buckets: 2^SUB_BITS per octave of the weight, bucket 0 for weight 0. */
#define SUB_BITS 6
/* About this many values of a row are sampled. */
#define SAMPLES 4096
/* Margins are this many standard deviations of the estimate. */
#define SIGMAS 5.0

static int bucket_of(float w)
{
    if (w < 1.0f)
        return 0;
    return (int)((sample_f32_bits(w) >> (23 - SUB_BITS)) - (127u << SUB_BITS)) + 1;
}

/* The smallest weight of bucket d. */
static float bucket_floor(int d)
{
    if (d <= 0)
        return 0.0f;
    return sample_f32_from_bits((uint32_t)(d - 1 + (127 << SUB_BITS)) << (23 - SUB_BITS));
}

void omp_bracket(const float *x, int64_t vocab, float scale, enum omp_measure by,
                 uint64_t target, float share, float *lo, float *hi,
                 struct omp_scratch *scratch)
{
    double *count = scratch->sample_count, *mass = scratch->sample_mass;
    int64_t step = vocab / SAMPLES > 1 ? vocab / SAMPLES : 1;
    double ratio = (double)step, squares = 0, total = 0, samples = 0;

    memset(count, 0, sizeof scratch->sample_count);
    memset(mass, 0, sizeof scratch->sample_mass);
    for (int64_t i = step / 2; i < vocab; i += step) {
        double w = floorf(x[i] * scale);
        int d = bucket_of((float)w);
        count[d] += 1;
        mass[d] += w;
        squares += w * w;
        total += w;
        samples += 1;
    }

    const double *measure = by == OMP_COUNT ? count : mass;
    double goal = share > 0.0f ? (double)share * total * ratio : (double)target;
    double margin = SIGMAS * ratio * sqrt(by == OMP_COUNT ? samples : squares) + 2 * ratio;
    /* hi: the lowest bucket floor with the estimate above it surely short of the goal;
     * lo: the highest bucket floor with the estimate above it surely past it. */
    double above = 0;
    int d = OMP_BUCKETS - 1;
    *hi = INFINITY;
    for (; d >= 0; d--) {
        if (above + measure[d] * ratio > goal - margin)
            break;
        above += measure[d] * ratio;
        *hi = bucket_floor(d);
    }
    *lo = 0.0f;
    for (; d >= 0; d--) {
        above += measure[d] * ratio;
        if (above >= goal + margin) {
            *lo = bucket_floor(d);
            break;
        }
    }
}
