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

/* Buckets of a radix step: about a quarter as many as tokens, within OMP_RADIX. */
static int radix_bits(int64_t n)
{
    int bits = 0;
    while (bits < 11 && ((int64_t)4 << bits) < n)
        bits++;
    return bits > 4 ? bits : 4;
}

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

OMP_KERNEL struct omp_prefix omp_select(const struct omp_list *list, enum omp_measure by,
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
        int shift = bit_length(hi - lo) - radix_bits(src->n);
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
#define SIGMAS 3.0

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

/*
 * The estimate of the measure of the weights >= bucket_floor(d), and its margin.
 * A count is the sampled share of the row.  A mass is the exact total less the
 * scaled sampled mass below: the heavy tokens above, which a sample misses or
 * overweights, then add no error.
 */
static void estimate(const struct omp_scratch *h, int d, enum omp_measure by, double ratio,
                     double n, double vocab, double total, double *value, double *margin)
{
    if (by == OMP_COUNT) {
        double q = (n - h->sample_count[d]) / n; /* the share at or above */
        *value = q * vocab;
        *margin = SIGMAS * vocab * sqrt(q * (1 - q) / n) + 2 * ratio;
        return;
    }
    *value = total - ratio * h->sample_mass[d];
    *margin = SIGMAS * ratio * sqrt(h->sample_square[d]) + 2 * ratio * bucket_floor(d + 1);
}

void omp_bracket(const float *x, int64_t vocab, float scale, enum omp_measure by,
                 double goal, double total, float *lo, float *hi, struct omp_scratch *h)
{
    int64_t step = vocab / SAMPLES > 1 ? vocab / SAMPLES : 1;
    double n = 0;
    int first = OMP_BUCKETS, last = 0;

    /* The histograms are all zero between calls: only the sampled range is used. */
    for (int64_t i = step / 2; i < vocab; i += step) {
        double w = floorf(x[i] * scale);
        int d = bucket_of((float)w) + 1;
        h->sample_count[d] += 1;
        h->sample_mass[d] += w;
        h->sample_square[d] += w * w;
        first = d < first ? d : first;
        last = d > last ? d : last;
        n += 1;
    }
    /* Entry d now holds the samples below bucket d (for first <= d <= last + 1). */
    for (int d = first + 1; d <= last + 1; d++) {
        h->sample_count[d] += h->sample_count[d - 1];
        h->sample_mass[d] += h->sample_mass[d - 1];
        h->sample_square[d] += h->sample_square[d - 1];
    }

    /* hi: the lowest floor with the measure above it surely short of the goal;
     * lo: the highest floor with the measure above it surely enough.  The true
     * measure falls as the floor rises, so these are searched over all floors:
     * the estimate near the top can be poor (a heavy token sampled or not). */
    double value, margin;
    int low = -1, high = -1;
    for (int d = last + 1; d >= first; d--) {
        /* The margin is >= 0: only a value below the goal may set low, and
         * only one at or above it may set high (the first found, d falling). */
        double v = by == OMP_COUNT ? (n - h->sample_count[d]) / n * (double)vocab
                                   : total - (double)step * h->sample_mass[d];
        if (v >= goal && high >= 0)
            continue;
        estimate(h, d, by, (double)step, n, (double)vocab, total, &value, &margin);
        if (value + margin < goal)
            low = d; /* the last one set is the lowest */
        if (value - margin >= goal && d > high)
            high = d;
    }
    *hi = low >= 0 ? bucket_floor(low) : INFINITY;
    *lo = high >= 0 && bucket_floor(high) < *hi ? bucket_floor(high) : 0.0f;

    for (int d = first; d <= last + 1; d++)
        h->sample_count[d] = h->sample_mass[d] = h->sample_square[d] = 0;
}
